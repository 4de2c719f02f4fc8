//! Packets out of one capture file: classic pcap (µs or ns, either byte order) and pcapng in
//! full — several sections, each with its own byte order; interfaces of different link types,
//! each with its own timestamp resolution (`if_tsresol`) and offset (`if_tsoffset`); Enhanced,
//! Simple and obsolete Packet blocks; packet comments. Blocks that carry no packet (statistics,
//! name resolution, secrets, custom, unknown) are skipped. pcap-parser parses the blocks.

use super::input::Input;
use pcap_parser::pcapng::{
    Block, OptionCode, PcapNGOption, parse_block_be, parse_block_le, parse_sectionheaderblock,
};
use pcap_parser::traits::PcapNGPacketBlock;
use pcap_parser::{PcapHeader, parse_pcap_frame, parse_pcap_frame_be, parse_pcap_header};
use std::path::Path;

/// The obsolete Packet Block (pcapng draft, type 2): still written by old tools.
const OPB_TYPE: u32 = 0x0000_0002;
/// Largest block accepted: a packet of 256 KiB (the largest snaplen in use) plus headers, with
/// room for big options; a length beyond it is a corrupt file, not a packet.
const MAX_BLOCK: usize = 16 << 20;

/// One packet, borrowed from the reader until the next call.
#[derive(Debug)]
pub struct Packet<'a> {
    /// libpcap link type of its interface.
    pub link: i32,
    /// Capture time, ns since the Unix epoch.
    pub ts_ns: u64,
    /// Length on the wire (the captured bytes may be fewer).
    pub wire_len: u32,
    pub data: &'a [u8],
    /// pcapng `opt_comment` of the packet.
    pub comment: Option<&'a str>,
}

/// Why a file stopped before its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The last record is incomplete.
    CutShort(String),
    /// A record is not what the format says.
    Malformed(String),
}

#[derive(Clone, Copy, Debug)]
struct Interface {
    link: i32,
    /// Timestamp units per second.
    units: u64,
    /// Seconds added to every timestamp.
    offset: i64,
}

enum Format {
    Pcap {
        big_endian: bool,
        nanos: bool,
        link: i32,
    },
    PcapNg {
        big_endian: bool,
        interfaces: Vec<Interface>,
    },
}

pub struct PacketReader {
    input: Input,
    format: Format,
    /// Link types seen, in order of appearance (for the summary).
    links: Vec<i32>,
    /// Bytes of the packet handed out last, consumed on the next call.
    pending: usize,
    /// Time of the last packet with one (a Simple Packet Block has none).
    last_ts: u64,
}

impl std::fmt::Debug for PacketReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacketReader")
            .field("links", &self.links)
            .finish()
    }
}

/// pcap magic numbers (µs and ns, as written and byte-swapped); the pcapng SHB type.
const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
];
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

impl PacketReader {
    /// Opens `path`; the error says in one line why it is not a capture this can read.
    pub fn open(path: &Path) -> Result<PacketReader, String> {
        let mut input = Input::open(path).map_err(|e| e.to_string())?;
        // The file header (pcap: 24 bytes; pcapng: the first SHB).
        if let Err(e) = input.fill(64 * 1024)
            && input.window().len() < 24
        {
            return Err(format!("compressed data is damaged ({e})"));
        }
        let w = input.window();
        if w.len() < 4 {
            return Err("empty or too short to be a capture".into());
        }
        let magic: [u8; 4] = [w[0], w[1], w[2], w[3]];
        let (format, used) = if PCAP_MAGICS.contains(&magic) {
            let (rest, h) = parse_pcap_header(w).map_err(|_| "pcap file header is cut short".to_string())?;
            (pcap_format(&h), w.len() - rest.len())
        } else if magic == PCAPNG_MAGIC {
            let (rest, shb) = parse_sectionheaderblock(w)
                .map_err(|e| format!("pcapng section header is malformed ({})", nom_error(&e)))?;
            (
                Format::PcapNg {
                    big_endian: shb.big_endian(),
                    interfaces: Vec::new(),
                },
                w.len() - rest.len(),
            )
        } else {
            let what = if input.compressed() {
                "compressed, but not a pcap or pcapng capture inside"
            } else {
                "not a pcap or pcapng capture"
            };
            return Err(what.into());
        };
        input.consume(used);
        let links = match &format {
            Format::Pcap { link, .. } => vec![*link],
            Format::PcapNg { .. } => Vec::new(),
        };
        Ok(PacketReader {
            input,
            format,
            links,
            pending: 0,
            last_ts: 0,
        })
    }

    pub fn compressed(&self) -> bool {
        self.input.compressed()
    }

    /// Link types of the interfaces seen so far.
    pub fn links(&self) -> &[i32] {
        &self.links
    }

    /// The next packet; `Ok(None)` at the end of the file, `Err` when it stops early (what came
    /// before stays valid).
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, Stop> {
        self.input.consume(std::mem::take(&mut self.pending));
        let meta = loop {
            let w = self.input.window();
            match parse_step(&mut self.format, &mut self.links, &mut self.last_ts, w) {
                Parsed::Skip(n) => self.input.consume(n),
                Parsed::Packet(n, meta) => {
                    self.pending = n;
                    break meta;
                }
                Parsed::Bad(why) => return Err(Stop::Malformed(why)),
                Parsed::Incomplete(need) => {
                    let had = self.input.window().len();
                    let grew = self
                        .input
                        .fill(need)
                        .map_err(|e| Stop::CutShort(format!("the compressed data is damaged ({e})")))?;
                    if !grew {
                        return if had == 0 {
                            Ok(None)
                        } else {
                            Err(Stop::CutShort(format!(
                                "the last record is cut short ({had} bytes of it)"
                            )))
                        };
                    }
                }
            }
        };
        let w = self.input.window();
        Ok(Some(Packet {
            link: meta.link,
            ts_ns: meta.ts_ns,
            wire_len: meta.wire_len,
            data: &w[meta.data.0..meta.data.1],
            comment: meta
                .comment
                .and_then(|(a, b)| std::str::from_utf8(&w[a..b]).ok())
                .map(|c| c.trim_end_matches('\0')),
        }))
    }
}

/// A packet's place in the window (offsets), so the parse's borrow of the window ends before
/// the reader hands the packet out.
struct Meta {
    link: i32,
    ts_ns: u64,
    wire_len: u32,
    data: (usize, usize),
    comment: Option<(usize, usize)>,
}

enum Parsed {
    /// A block with no packet, of this many bytes.
    Skip(usize),
    Packet(usize, Meta),
    /// More bytes needed (at least this many more).
    Incomplete(usize),
    Bad(String),
}

fn u32_at(w: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let b: [u8; 4] = w.get(at..at + 4)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

fn incomplete(needed: pcap_parser::nom::Needed) -> Parsed {
    match needed {
        pcap_parser::nom::Needed::Size(n) => Parsed::Incomplete(n.get()),
        pcap_parser::nom::Needed::Unknown => Parsed::Incomplete(64 * 1024),
    }
}

fn parse_step(format: &mut Format, links: &mut Vec<i32>, last_ts: &mut u64, w: &[u8]) -> Parsed {
    if w.is_empty() {
        return Parsed::Incomplete(1);
    }
    match format {
        Format::Pcap {
            big_endian,
            nanos,
            link,
        } => {
            // A length beyond any packet is a corrupt record, not a reason to read on.
            match u32_at(w, 8, *big_endian) {
                Some(caplen) if caplen as usize > MAX_BLOCK => {
                    return Parsed::Bad(format!("record of {caplen} bytes: not a packet"));
                }
                None => return Parsed::Incomplete(16 - w.len()),
                _ => {}
            }
            let parsed = if *big_endian {
                parse_pcap_frame_be(w)
            } else {
                parse_pcap_frame(w)
            };
            match parsed {
                Ok((rest, b)) => {
                    let frac = u64::from(b.ts_usec) * if *nanos { 1 } else { 1_000 };
                    let ts_ns = u64::from(b.ts_sec) * 1_000_000_000 + frac;
                    *last_ts = ts_ns;
                    Parsed::Packet(
                        w.len() - rest.len(),
                        Meta {
                            link: *link,
                            ts_ns,
                            wire_len: b.origlen,
                            data: offset_in(b.data, w),
                            comment: None,
                        },
                    )
                }
                Err(pcap_parser::nom::Err::Incomplete(n)) => incomplete(n),
                Err(e) => Parsed::Bad(format!("malformed pcap record ({})", nom_error(&e))),
            }
        }
        Format::PcapNg {
            big_endian,
            interfaces,
        } => {
            match u32_at(w, 4, *big_endian) {
                // The SHB's own length is in its byte order, whatever the section before used.
                Some(_) if w.starts_with(&PCAPNG_MAGIC) => {}
                Some(len) if (len as usize) > MAX_BLOCK || len < 12 => {
                    return Parsed::Bad(format!("pcapng block of {len} bytes: the file is damaged"));
                }
                None => return Parsed::Incomplete(8 - w.len()),
                _ => {}
            }
            let parsed = if *big_endian {
                parse_block_be(w)
            } else {
                parse_block_le(w)
            };
            let (rest, block) = match parsed {
                Ok(x) => x,
                Err(pcap_parser::nom::Err::Incomplete(n)) => return incomplete(n),
                Err(e) => return Parsed::Bad(format!("malformed pcapng block ({})", nom_error(&e))),
            };
            let n = w.len() - rest.len();
            let iface = |interfaces: &[Interface], id: u32| {
                interfaces.get(id as usize).copied().ok_or_else(|| {
                    format!("a packet names interface {id}, which no interface block describes")
                })
            };
            match block {
                Block::SectionHeader(shb) => {
                    // A new section: its own byte order and interfaces.
                    *big_endian = shb.big_endian();
                    interfaces.clear();
                    Parsed::Skip(n)
                }
                Block::InterfaceDescription(idb) => {
                    let link = idb.linktype.0;
                    if !links.contains(&link) {
                        links.push(link);
                    }
                    // if_tsoffset is in the section's byte order; pcap-parser 0.17 reads it
                    // as little-endian whatever the section (`if_extract_tsoffset_and_tsresol`),
                    // so it is read here.
                    let offset = idb
                        .options
                        .iter()
                        .find(|o| o.code == OptionCode::IfTsoffset)
                        .and_then(|o| o.as_bytes().ok()?.get(..8)?.try_into().ok())
                        .map_or(0, |b: [u8; 8]| {
                            if *big_endian {
                                i64::from_be_bytes(b)
                            } else {
                                i64::from_le_bytes(b)
                            }
                        });
                    interfaces.push(Interface {
                        link,
                        units: units_per_second(idb.if_tsresol),
                        offset,
                    });
                    Parsed::Skip(n)
                }
                Block::EnhancedPacket(epb) => {
                    let i = match iface(interfaces, epb.if_id) {
                        Ok(i) => i,
                        Err(e) => return Parsed::Bad(e),
                    };
                    let ts = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                    let ts_ns = to_ns(ts, i.units, i.offset);
                    *last_ts = ts_ns;
                    Parsed::Packet(
                        n,
                        Meta {
                            link: i.link,
                            ts_ns,
                            wire_len: epb.origlen,
                            data: offset_in(epb.packet_data(), w),
                            comment: comment_of(&epb.options, w),
                        },
                    )
                }
                Block::SimplePacket(spb) => {
                    // No timestamp of its own: it keeps the previous packet's time.
                    let i = match iface(interfaces, 0) {
                        Ok(i) => i,
                        Err(e) => return Parsed::Bad(e),
                    };
                    Parsed::Packet(
                        n,
                        Meta {
                            link: i.link,
                            ts_ns: *last_ts,
                            wire_len: spb.origlen,
                            data: offset_in(spb.packet_data(), w),
                            comment: None,
                        },
                    )
                }
                Block::Unknown(ub) if ub.block_type == OPB_TYPE || ub.block_type == OPB_TYPE.swap_bytes() => {
                    obsolete_packet(ub.data, *big_endian, interfaces, w, n)
                }
                _ => Parsed::Skip(n),
            }
        }
    }
}

/// The obsolete Packet Block: interface (u16), drops (u16), timestamp high and low, captured
/// and original length, data (padded), options.
fn obsolete_packet(body: &[u8], big_endian: bool, interfaces: &[Interface], w: &[u8], n: usize) -> Parsed {
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = body.get(at..at + 2)?.try_into().ok()?;
        Some(if big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let fields = (|| {
        let id = u16_at(0)?;
        let high = u32_at(body, 4, big_endian)?;
        let low = u32_at(body, 8, big_endian)?;
        let caplen = u32_at(body, 12, big_endian)? as usize;
        let len = u32_at(body, 16, big_endian)?;
        let data = body.get(20..20 + caplen)?;
        Some((id, high, low, len, data))
    })();
    let Some((id, high, low, len, data)) = fields else {
        return Parsed::Bad("malformed pcapng Packet Block".into());
    };
    let Some(i) = interfaces.get(usize::from(id)) else {
        return Parsed::Bad(format!(
            "a packet names interface {id}, which no interface block describes"
        ));
    };
    Parsed::Packet(
        n,
        Meta {
            link: i.link,
            ts_ns: to_ns((u64::from(high) << 32) | u64::from(low), i.units, i.offset),
            wire_len: len,
            data: offset_in(data, w),
            comment: None,
        },
    )
}

fn pcap_format(h: &PcapHeader) -> Format {
    Format::Pcap {
        big_endian: h.is_bigendian(),
        nanos: h.is_nanosecond_precision(),
        link: h.network.0,
    }
}

fn nom_error<E: std::fmt::Debug>(e: &pcap_parser::nom::Err<E>) -> String {
    match e {
        pcap_parser::nom::Err::Incomplete(_) => "cut short".into(),
        pcap_parser::nom::Err::Error(e) | pcap_parser::nom::Err::Failure(e) => {
            format!("{e:?}").chars().take(80).collect()
        }
    }
}

/// `if_tsresol`: 10^-n s, or 2^-n s with the top bit set; µs when it makes no sense.
/// (pcap-parser 0.17's `build_ts_resolution` refuses every power of two: it compares the value
/// with the flag bit still set.)
fn units_per_second(tsresol: u8) -> u64 {
    let n = u32::from(tsresol & 0x7f);
    match tsresol & 0x80 {
        0 if n <= 19 => 10u64.pow(n),
        0x80 if n <= 63 => 1u64 << n,
        _ => 1_000_000,
    }
}

/// ns since the epoch of a timestamp in `units` per second, plus `offset` seconds.
fn to_ns(ts: u64, units: u64, offset: i64) -> u64 {
    let units = units.max(1) as u128;
    let ns = (ts as u128 / units) * 1_000_000_000 + (ts as u128 % units) * 1_000_000_000 / units;
    let ns = ns as i128 + offset as i128 * 1_000_000_000;
    ns.clamp(0, u64::MAX as i128) as u64
}

fn comment_of(options: &[PcapNGOption<'_>], base: &[u8]) -> Option<(usize, usize)> {
    let o = options.iter().find(|o| o.code == OptionCode::Comment)?;
    let v = o.as_bytes().ok()?;
    // Only a value borrowed from the window has a place in it.
    let start = (v.as_ptr() as usize).checked_sub(base.as_ptr() as usize)?;
    (start + v.len() <= base.len()).then_some((start, start + v.len()))
}

fn offset_in(inner: &[u8], base: &[u8]) -> (usize, usize) {
    let start = inner.as_ptr() as usize - base.as_ptr() as usize;
    (start, start + inner.len())
}
