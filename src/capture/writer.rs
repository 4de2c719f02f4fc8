//! Writes capture files: classic pcap (µs or ns timestamps) and pcapng. Used to save live
//! sessions, to build test captures and sample files, and by the benchmark generator.

use std::io::{self, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Classic pcap, microsecond timestamps (magic a1b2c3d4).
    Pcap,
    /// Classic pcap, nanosecond timestamps (magic a1b23c4d).
    PcapNano,
    /// pcapng: one section, one interface, enhanced packet blocks (ns resolution).
    PcapNg,
}

pub struct CaptureWriter<W: Write> {
    out: W,
    format: Format,
}

impl<W: Write> CaptureWriter<W> {
    /// Writes the file header for `linktype` (e.g. 1 = Ethernet).
    pub fn new(mut out: W, format: Format, linktype: u16, snaplen: u32) -> io::Result<Self> {
        match format {
            Format::Pcap | Format::PcapNano => {
                let magic: u32 = if format == Format::Pcap {
                    0xa1b2_c3d4
                } else {
                    0xa1b2_3c4d
                };
                out.write_all(&magic.to_le_bytes())?;
                out.write_all(&2u16.to_le_bytes())?;
                out.write_all(&4u16.to_le_bytes())?;
                out.write_all(&0i32.to_le_bytes())?;
                out.write_all(&0u32.to_le_bytes())?;
                out.write_all(&snaplen.to_le_bytes())?;
                out.write_all(&(linktype as u32).to_le_bytes())?;
            }
            Format::PcapNg => {
                // Section Header Block.
                let shb_len: u32 = 28;
                out.write_all(&0x0A0D_0D0Au32.to_le_bytes())?;
                out.write_all(&shb_len.to_le_bytes())?;
                out.write_all(&0x1A2B_3C4Du32.to_le_bytes())?;
                out.write_all(&1u16.to_le_bytes())?;
                out.write_all(&0u16.to_le_bytes())?;
                out.write_all(&(-1i64).to_le_bytes())?;
                out.write_all(&shb_len.to_le_bytes())?;
                // Interface Description Block with if_tsresol = 9 (nanoseconds).
                let idb_len: u32 = 20 + 8 + 4;
                out.write_all(&1u32.to_le_bytes())?;
                out.write_all(&idb_len.to_le_bytes())?;
                out.write_all(&linktype.to_le_bytes())?;
                out.write_all(&0u16.to_le_bytes())?;
                out.write_all(&snaplen.to_le_bytes())?;
                out.write_all(&9u16.to_le_bytes())?; // if_tsresol
                out.write_all(&1u16.to_le_bytes())?;
                out.write_all(&[9, 0, 0, 0])?;
                out.write_all(&0u32.to_le_bytes())?; // opt_endofopt
                out.write_all(&idb_len.to_le_bytes())?;
            }
        }
        Ok(CaptureWriter { out, format })
    }

    /// Writes one frame. `ts_ns` is nanoseconds since the Unix epoch; `orig_len` ≥ data length
    /// (larger when the frame was cut by the snap length).
    pub fn write(&mut self, ts_ns: u64, data: &[u8], orig_len: u32) -> io::Result<()> {
        let caplen = data.len() as u32;
        match self.format {
            Format::Pcap | Format::PcapNano => {
                let secs = (ts_ns / 1_000_000_000) as u32;
                let frac = if self.format == Format::Pcap {
                    ((ts_ns % 1_000_000_000) / 1_000) as u32
                } else {
                    (ts_ns % 1_000_000_000) as u32
                };
                self.out.write_all(&secs.to_le_bytes())?;
                self.out.write_all(&frac.to_le_bytes())?;
                self.out.write_all(&caplen.to_le_bytes())?;
                self.out.write_all(&orig_len.max(caplen).to_le_bytes())?;
                self.out.write_all(data)?;
            }
            Format::PcapNg => {
                let pad = (4 - data.len() % 4) % 4;
                let len = 32 + data.len() as u32 + pad as u32;
                self.out.write_all(&6u32.to_le_bytes())?;
                self.out.write_all(&len.to_le_bytes())?;
                self.out.write_all(&0u32.to_le_bytes())?;
                self.out.write_all(&((ts_ns >> 32) as u32).to_le_bytes())?;
                self.out.write_all(&(ts_ns as u32).to_le_bytes())?;
                self.out.write_all(&caplen.to_le_bytes())?;
                self.out.write_all(&orig_len.max(caplen).to_le_bytes())?;
                self.out.write_all(data)?;
                self.out.write_all(&[0u8; 3][..pad])?;
                self.out.write_all(&len.to_le_bytes())?;
            }
        }
        Ok(())
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
