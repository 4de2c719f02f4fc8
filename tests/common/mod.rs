//! Builds small captures inside the tests: HTTP/SOAP exchanges over synthesised TCP, written in
//! any of the formats and link types the reader supports.
#![allow(dead_code)]

use rmscope::capture::synth::{Frame, TcpConnection, http_response, soap_request};
use rmscope::capture::writer::{CaptureWriter, Format};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../shared/fixtures/wsrm-messages/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Frames of HTTP exchanges; time advances 1 ms per exchange.
pub struct Builder {
    pub frames: Vec<Frame>,
    pub t: u64,
}

pub const EPOCH: u64 = 1_700_000_000_000_000_000;

impl Builder {
    pub fn new() -> Self {
        Builder {
            frames: Vec::new(),
            t: EPOCH,
        }
    }

    pub fn connect(&mut self, client: &str, server: &str) -> TcpConnection {
        let mut c = TcpConnection::new(addr(client), addr(server), 1000, 900_000);
        c.open(&mut self.frames, self.t);
        self.t += 1_000_000;
        c
    }

    /// A SOAP POST and its response on `c`.
    pub fn exchange(&mut self, c: &mut TcpConnection, request: &[u8], status: u16, response: &[u8]) {
        let req = soap_request("/service", "server", true, "urn:action", request);
        self.t = c.send(&mut self.frames, self.t, true, &req) + 1_000_000;
        let reason = if status == 202 { "Accepted" } else { "OK" };
        let ct = (!response.is_empty()).then_some("application/soap+xml; charset=utf-8");
        let resp = http_response(status, reason, ct, response);
        self.t = c.send(&mut self.frames, self.t, false, &resp) + 1_000_000;
    }

    /// Raw bytes in one direction.
    pub fn raw(&mut self, c: &mut TcpConnection, from_client: bool, bytes: &[u8]) {
        self.t = c.send(&mut self.frames, self.t, from_client, bytes) + 1_000_000;
    }

    pub fn close(&mut self, c: &mut TcpConnection) {
        c.close(&mut self.frames, self.t);
        self.t += 1_000_000;
    }

    pub fn write(&self, path: &Path, format: Format, link: Link) {
        let file = std::fs::File::create(path).unwrap();
        let mut w =
            CaptureWriter::new(std::io::BufWriter::new(file), format, link.linktype(), 262_144).unwrap();
        for f in &self.frames {
            let data = link.convert(&f.data);
            w.write(f.ts_ns, &data, data.len() as u32).unwrap();
        }
        w.flush().unwrap();
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    Ethernet,
    Vlan,
    RawIp,
    Sll,
    Sll2,
    Null,
}

impl Link {
    pub fn linktype(self) -> u16 {
        match self {
            Link::Ethernet | Link::Vlan => 1,
            Link::RawIp => 101,
            Link::Sll => 113,
            Link::Sll2 => 276,
            Link::Null => 0,
        }
    }

    /// Converts an Ethernet frame to this link type.
    pub fn convert(self, eth: &[u8]) -> Vec<u8> {
        let proto = [eth[12], eth[13]];
        let ip = &eth[14..];
        match self {
            Link::Ethernet => eth.to_vec(),
            Link::Vlan => [&eth[..12], &[0x81, 0x00, 0x00, 0x64], &eth[12..]].concat(),
            Link::RawIp => ip.to_vec(),
            Link::Sll => {
                let mut h = vec![0, 0, 0, 1, 0, 6];
                h.extend_from_slice(&eth[6..12]);
                h.extend_from_slice(&[0, 0]);
                h.extend_from_slice(&proto);
                [h.as_slice(), ip].concat()
            }
            Link::Sll2 => {
                let mut h = proto.to_vec();
                h.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6]);
                h.extend_from_slice(&eth[6..12]);
                h.extend_from_slice(&[0, 0]);
                [h.as_slice(), ip].concat()
            }
            Link::Null => {
                let family: u32 = if proto == [0x86, 0xdd] { 30 } else { 2 };
                [family.to_le_bytes().as_slice(), ip].concat()
            }
        }
    }
}

pub fn temp_path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// What a live run streamed, to the end.
pub struct LiveRun {
    pub timeline: rmscope::trace::Timeline,
    pub payloads: Vec<bytes::Bytes>,
    pub report: rmscope::sim::Report,
}

/// Runs `cfg` with the live driver at real speed (e.g. over HTTP) and collects what it streams
/// until it is done (at most 60 s).
pub fn run_live(cfg: rmscope::sim::SimConfig) -> LiveRun {
    use rmscope::live::{self, Update};
    use std::time::{Duration, Instant};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let handle = live::spawn(rt.handle(), cfg, 1.0, || {});
    let mut run = LiveRun {
        timeline: rmscope::trace::Timeline::new(),
        payloads: Vec::new(),
        report: rmscope::sim::Report::default(),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match handle
            .updates
            .recv_timeout(left)
            .expect("the live run finishes within 60 s")
        {
            Update::Started { .. } => {}
            Update::Error(e) => panic!("{e}"),
            Update::Progress(p) => {
                run.timeline.apply(p.delta);
                run.payloads.extend(p.payloads);
                run.report = p.report;
                if p.done {
                    return run;
                }
            }
        }
    }
}

/// The message numbers of a timeline's application messages, in wire order.
pub fn data_numbers(t: &rmscope::trace::Timeline) -> Vec<u64> {
    t.wires
        .iter()
        .filter(|w| w.kind == rmscope::trace::WireKind::Data)
        .map(|w| w.number)
        .collect()
}

/// `../shared/fixtures/<sub>`, or `None` (with a message) when the shared material is absent:
/// a clone of the project alone passes; on CI (`CI` set) its absence is an error.
pub fn shared(sub: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures")
        .join(sub);
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing (CI needs the shared fixtures)",
        dir.display()
    );
    eprintln!("skipped: {} is absent", dir.display());
    None
}

/// Runs `cfg` in the simulator and saves the session as an HTTP pcap at `path`, laid out as
/// `layout` says (connections, responses).
#[allow(dead_code)] // not every test file saves a simulated session
pub fn simulated_http_pcap(
    cfg: rmscope::sim::SimConfig,
    layout: rmscope::capture::export::HttpLayout,
    path: &Path,
) -> rmscope::sim::Simulation {
    use rmscope::capture::export;
    let mut sim = rmscope::sim::Simulation::new(cfg).unwrap();
    sim.run();
    let file = std::fs::File::create(path).unwrap();
    export::write_session_with(
        sim.timeline(),
        sim.payloads(),
        export::Framing::Http(sim.config().soap),
        layout,
        file,
        Format::Pcap,
    )
    .unwrap();
    sim
}
