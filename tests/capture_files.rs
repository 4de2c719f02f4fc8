//! Issue 17: capture files as Wireshark users hand them over. A simulated session is saved as a
//! pcap, then rewritten here block by block into every pcapng variant — interfaces of different
//! link types, their own timestamp resolution and offset, big-endian sections, several
//! sections, Simple and obsolete Packet blocks, comments, blocks no reader knows — and as gzip,
//! a ring-buffer set and a capture taken at two points. Each reads back to the same frames,
//! times and WS-RM summary.

mod common;

use common::Link;
use rmscope::analysis;
use rmscope::capture::file::PacketReader;
use rmscope::capture::{self, CaptureData, export, writer::Format};
use rmscope::sim::SimConfig;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// The session's frames: (time ns, Ethernet bytes).
fn session_frames(dir: &Path) -> (PathBuf, Vec<(u64, Vec<u8>)>) {
    let mut c = SimConfig::default();
    c.workload.messages = 40;
    c.forward.loss = 0.1;
    c.seed = 5;
    let path = dir.join("session.pcap");
    common::simulated_http_pcap(c, export::HttpLayout::default(), &path);
    let mut r = PacketReader::open(&path).unwrap();
    let mut frames = Vec::new();
    while let Some(p) = r.next_packet().unwrap() {
        assert_eq!(p.link, 1);
        frames.push((p.ts_ns, p.data.to_vec()));
    }
    (path, frames)
}

fn read(paths: &[PathBuf]) -> CaptureData {
    capture::read_files(paths, &mut |_| {}, &AtomicBool::new(false), false).unwrap_or_else(|e| panic!("{e}"))
}

/// What must not change between variants: every wire's kind, number, frame and time, and the
/// per-sequence summary.
fn same(a: &CaptureData, b: &CaptureData, what: &str, times: bool) {
    assert_eq!(a.timeline.wires.len(), b.timeline.wires.len(), "{what}");
    for (x, y) in a.timeline.wires.iter().zip(&b.timeline.wires) {
        assert_eq!(
            (x.kind, x.number, x.frame, x.attempt()),
            (y.kind, y.number, y.frame, y.attempt()),
            "{what}"
        );
        if times {
            assert_eq!(x.time, y.time, "{what}");
        }
    }
    let (sa, sb) = (
        analysis::analyze(&a.timeline, &analysis::Options::default()),
        analysis::analyze(&b.timeline, &analysis::Options::default()),
    );
    let key = |s: &analysis::SequenceSummary| (s.messages, s.transmissions, s.retransmissions, s.acks);
    assert_eq!(
        sa.sequences.iter().map(key).collect::<Vec<_>>(),
        sb.sequences.iter().map(key).collect::<Vec<_>>(),
        "{what}"
    );
    if times {
        assert_eq!(a.stats.start_ns, b.stats.start_ns, "{what}");
    }
}

/// A pcapng writer for the tests, one block at a time, in either byte order.
struct Ng {
    be: bool,
    out: Vec<u8>,
}

impl Ng {
    fn u16(&self, v: u16) -> [u8; 2] {
        if self.be { v.to_be_bytes() } else { v.to_le_bytes() }
    }
    fn u32(&self, v: u32) -> [u8; 4] {
        if self.be { v.to_be_bytes() } else { v.to_le_bytes() }
    }
    fn block(&mut self, kind: u32, body: &[u8]) {
        let pad = (4 - body.len() % 4) % 4;
        let len = (12 + body.len() + pad) as u32;
        let (k, l) = (self.u32(kind), self.u32(len));
        self.out.extend_from_slice(&k);
        self.out.extend_from_slice(&l);
        self.out.extend_from_slice(body);
        self.out.extend(std::iter::repeat_n(0u8, pad));
        self.out.extend_from_slice(&l);
    }
    fn option(&self, body: &mut Vec<u8>, code: u16, value: &[u8]) {
        body.extend_from_slice(&self.u16(code));
        body.extend_from_slice(&self.u16(value.len() as u16));
        body.extend_from_slice(value);
        body.extend(std::iter::repeat_n(0u8, (4 - value.len() % 4) % 4));
    }
    fn section(&mut self, be: bool) {
        self.be = be;
        let mut b = Vec::new();
        b.extend_from_slice(&self.u32(0x1A2B_3C4D));
        b.extend_from_slice(&self.u16(1));
        b.extend_from_slice(&self.u16(0));
        b.extend_from_slice(&(-1i64).to_le_bytes());
        self.block(0x0A0D_0D0A, &b);
    }
    /// An interface of `link`, timestamps in 10^-`tsresol` s (or 2^-n with the top bit set),
    /// offset `tsoffset` s.
    fn interface(&mut self, link: u16, tsresol: Option<u8>, tsoffset: Option<i64>) {
        let mut b = Vec::new();
        b.extend_from_slice(&self.u16(link));
        b.extend_from_slice(&self.u16(0));
        b.extend_from_slice(&self.u32(262_144));
        if let Some(r) = tsresol {
            self.option(&mut b, 9, &[r]);
        }
        if let Some(o) = tsoffset {
            // if_tsoffset is a signed 64-bit integer in the section's byte order.
            let v = if self.be { o.to_be_bytes() } else { o.to_le_bytes() };
            self.option(&mut b, 14, &v);
        }
        self.option(&mut b, 0, &[]);
        self.block(1, &b);
    }
    fn epb(&mut self, iface: u32, ts: u64, data: &[u8], comment: Option<&str>) {
        let mut b = Vec::new();
        b.extend_from_slice(&self.u32(iface));
        b.extend_from_slice(&self.u32((ts >> 32) as u32));
        b.extend_from_slice(&self.u32(ts as u32));
        b.extend_from_slice(&self.u32(data.len() as u32));
        b.extend_from_slice(&self.u32(data.len() as u32));
        b.extend_from_slice(data);
        b.extend(std::iter::repeat_n(0u8, (4 - data.len() % 4) % 4));
        if let Some(c) = comment {
            self.option(&mut b, 1, c.as_bytes());
            self.option(&mut b, 0, &[]);
        }
        self.block(6, &b);
    }
    fn spb(&mut self, data: &[u8]) {
        let mut b = Vec::new();
        b.extend_from_slice(&self.u32(data.len() as u32));
        b.extend_from_slice(data);
        self.block(3, &b);
    }
    fn opb(&mut self, iface: u16, ts: u64, data: &[u8]) {
        let mut b = Vec::new();
        b.extend_from_slice(&self.u16(iface));
        b.extend_from_slice(&self.u16(0));
        b.extend_from_slice(&self.u32((ts >> 32) as u32));
        b.extend_from_slice(&self.u32(ts as u32));
        b.extend_from_slice(&self.u32(data.len() as u32));
        b.extend_from_slice(&self.u32(data.len() as u32));
        b.extend_from_slice(data);
        self.block(2, &b);
    }
}

fn new_ng() -> Ng {
    Ng {
        be: false,
        out: Vec::new(),
    }
}

#[test]
fn every_pcapng_variant_reads_as_the_pcap_does() {
    let dir = tempfile::tempdir().unwrap();
    let (pcap, frames) = session_frames(dir.path());
    let reference = read(std::slice::from_ref(&pcap));
    assert!(reference.findings.is_empty(), "{:?}", reference.findings);
    assert!(reference.timeline.wires.len() > 80);
    let us = |t: u64| t / 1_000; // the pcap export is in µs
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };

    // Two interfaces of different link types (Ethernet and Linux cooked), frames alternating,
    // as dumpcap writes a capture on two interfaces; nanosecond resolution on the second.
    let mut ng = new_ng();
    ng.section(false);
    ng.interface(1, None, None);
    ng.interface(113, Some(9), None);
    for (i, (t, eth)) in frames.iter().enumerate() {
        if i % 2 == 0 {
            ng.epb(0, us(*t), eth, None);
        } else {
            ng.epb(1, *t, &Link::Sll.convert(eth), None);
        }
    }
    let mixed = read(&[write("mixed.pcapng", &ng.out)]);
    assert!(mixed.findings.is_empty(), "{:?}", mixed.findings);
    assert_eq!(mixed.stats.link_types, vec![1, 113]);
    same(&reference, &mixed, "mixed link types", true);

    // Binary resolution (2^-20 s) and an offset of 1,000,000 s, big-endian.
    let offset = 1_000_000i64;
    let mut ng = new_ng();
    ng.section(true);
    ng.interface(1, Some(0x80 | 20), Some(offset));
    for (t, eth) in &frames {
        let rel = t - offset as u64 * 1_000_000_000;
        // Exact in 2^-20 s only when rounded up from a µs value: compare times loosely below.
        ng.epb(0, (rel as u128 * (1 << 20) / 1_000_000_000) as u64, eth, None);
    }
    let binary = read(&[write("be-binary.pcapng", &ng.out)]);
    assert!(binary.findings.is_empty(), "{:?}", binary.findings);
    same(&reference, &binary, "big-endian, 2^-20 s, tsoffset", false);
    let drift = reference
        .timeline
        .wires
        .iter()
        .zip(&binary.timeline.wires)
        .map(|(a, b)| a.time.as_nanos().abs_diff(b.time.as_nanos()))
        .max()
        .unwrap();
    assert!(drift < 2_000, "times agree to the resolution: {drift} ns");
    assert!(binary.stats.start_ns.abs_diff(reference.stats.start_ns) < 2_000);

    // Two sections (the second big-endian, with its own interface list), comments, an
    // obsolete Packet Block, a statistics block and a block type nobody knows.
    let half = frames.len() / 2;
    let mut ng = new_ng();
    ng.section(false);
    ng.interface(1, None, None);
    ng.block(0x0000_0BAD, b"what is this");
    for (i, (t, eth)) in frames[..half].iter().enumerate() {
        if i == 3 {
            ng.opb(0, us(*t), eth);
        } else {
            ng.epb(
                0,
                us(*t),
                eth,
                (i == 5).then_some("first request, as seen by the client"),
            );
        }
    }
    ng.block(5, &[0u8; 20]); // an Interface Statistics Block: skipped
    ng.section(true);
    ng.interface(101, Some(9), None);
    for (t, eth) in &frames[half..] {
        ng.epb(0, *t, &Link::RawIp.convert(eth), None);
    }
    let sections = read(&[write("sections.pcapng", &ng.out)]);
    assert!(sections.findings.is_empty(), "{:?}", sections.findings);
    same(&reference, &sections, "two sections, OPB, unknown blocks", true);
    assert_eq!(sections.timeline.frame_comments.len(), 1);
    assert_eq!(sections.timeline.frame_comments[0].0, 6);
    assert_eq!(
        &*sections.timeline.frame_comments[0].1,
        "first request, as seen by the client"
    );

    // Simple Packet Blocks carry no time: the frames and messages are all there.
    let mut ng = new_ng();
    ng.section(false);
    ng.interface(1, None, None);
    ng.epb(0, us(frames[0].0), &frames[0].1, None);
    for (_, eth) in &frames[1..] {
        ng.spb(eth);
    }
    let simple = read(&[write("simple.pcapng", &ng.out)]);
    assert_eq!(simple.stats.frames as usize, frames.len());
    same(&reference, &simple, "simple packet blocks", false);

    // Gzip-compressed, found by its magic whatever the name.
    let gz = {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&std::fs::read(&pcap).unwrap()).unwrap();
        e.finish().unwrap()
    };
    let zipped = read(&[write("session.pcap.gz", &gz)]);
    assert!(zipped.stats.compressed);
    same(&reference, &zipped, "gzip", true);
    // A gzip file cut in the middle: what was there, and a finding that says so.
    let cut = read(&[write("cut.pcap.gz", &gz[..gz.len() / 2])]);
    assert!(cut.stats.frames > 10 && cut.stats.frames < frames.len() as u64);
    assert!(
        cut.findings.iter().any(|f| f.text.contains("cut short")),
        "{:?}",
        cut.findings
    );
}

#[test]
fn split_and_two_point_captures_read_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let (pcap, frames) = session_frames(dir.path());
    let reference = read(std::slice::from_ref(&pcap));
    let pcap_of = |name: &str, frames: &[(u64, Vec<u8>)], link: Link| {
        let p = dir.path().join(name);
        let mut w = capture::writer::CaptureWriter::new(
            std::fs::File::create(&p).unwrap(),
            Format::PcapNano,
            link.linktype(),
            262_144,
        )
        .unwrap();
        for (t, eth) in frames {
            let data = link.convert(eth);
            w.write(*t, &data, data.len() as u32).unwrap();
        }
        w.flush().unwrap();
        p
    };
    // A ring-buffer set: three files in a row, given out of order.
    let third = frames.len() / 3;
    let a = pcap_of("ring_00001.pcap", &frames[..third], Link::Ethernet);
    let b = pcap_of("ring_00002.pcap", &frames[third..2 * third], Link::Ethernet);
    let c = pcap_of("ring_00003.pcap", &frames[2 * third..], Link::Ethernet);
    let ring = read(&[c, a, b]);
    assert!(ring.findings.is_empty(), "{:?}", ring.findings);
    same(&reference, &ring, "ring buffer", true);
    assert_eq!(ring.stats.frame_map.files.len(), 3);
    assert_eq!(ring.stats.frame_name(1), "ring_00001.pcap:1");
    assert_eq!(ring.stats.frame_name(third as u32 + 2), "ring_00002.pcap:2");

    // The same traffic captured at a second point, 30 µs later and on a cooked interface:
    // every packet is seen twice, and none of it is a retransmission.
    let later: Vec<(u64, Vec<u8>)> = frames.iter().map(|(t, d)| (t + 30_000, d.clone())).collect();
    let client = pcap_of("client.pcap", &frames, Link::Ethernet);
    let server = pcap_of("server.pcap", &later, Link::Sll);
    let both = read(&[client, server]);
    assert!(both.findings.is_empty(), "{:?}", both.findings);
    assert_eq!(both.stats.duplicates as usize, frames.len());
    same(&reference, &both, "two capture points", true);
}

#[test]
fn broken_capture_files_are_one_line_errors_or_partial_results() {
    let dir = tempfile::tempdir().unwrap();
    let (pcap, frames) = session_frames(dir.path());
    let bytes = std::fs::read(&pcap).unwrap();
    let write = |name: &str, b: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, b).unwrap();
        p
    };
    for (name, b) in [
        ("empty.pcap", &b""[..]),
        ("garbage.pcap", &b"\x00\x01 this is not a capture at all"[..]),
        ("gzip-garbage.pcap.gz", &[0x1f, 0x8b, 8, 0, 1, 2, 3][..]),
    ] {
        let e = capture::read_file(&write(name, b), &mut |_| {}, &AtomicBool::new(false)).unwrap_err();
        assert!(!e.to_string().contains('\n'), "{e}");
    }
    // A record length no packet has: the frames before it, and a finding.
    let mut damaged = bytes.clone();
    let at = 24 + 16 + frames[0].1.len(); // the second record header
    damaged[at + 8..at + 12].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let d = read(&[write("damaged.pcap", &damaged)]);
    assert_eq!(d.stats.frames, 1);
    assert!(
        d.findings.iter().any(|f| f.text.contains("damaged")),
        "{:?}",
        d.findings
    );
    // An EPB naming an interface that was never described.
    let mut ng = new_ng();
    ng.section(false);
    ng.epb(3, 0, &frames[0].1, None);
    let e = read(&[write("no-interface.pcapng", &ng.out)]);
    assert!(
        e.findings.iter().any(|f| f.text.contains("interface 3")),
        "{:?}",
        e.findings
    );
}
