//! Capturing from a network interface (libpcap): frames are decoded as they arrive and the
//! timeline grows in deltas a watcher applies; optionally every frame is also written to a
//! pcapng file.

use super::reader::{CaptureData, Stats, StreamDecoder, timestamp_ns};
use super::writer::{CaptureWriter, Format};
use crate::analysis::Finding;
use crate::trace::{Delta, DeltaCursor};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Bytes kept of each frame: enough for any SOAP message rmscope decodes.
const SNAPLEN: i32 = 262_144;
/// How often the watcher hears of new frames.
const UPDATE_EVERY: Duration = Duration::from_millis(100);
/// How long to wait when no frame is waiting (bounds the latency a frame sees before decoding).
const IDLE_NAP: Duration = Duration::from_millis(2);

/// A network interface libpcap can capture on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub description: Option<String>,
    pub loopback: bool,
}

/// The interfaces of this machine (loopback first: the embedded pair's HTTP runs there).
pub fn interfaces() -> Result<Vec<Interface>, String> {
    let mut list: Vec<Interface> = pcap::Device::list()
        .map_err(|e| format!("cannot list the network interfaces: {e}"))?
        .into_iter()
        .map(|d| Interface {
            loopback: d.flags.is_loopback(),
            name: d.name,
            description: d.desc,
        })
        .collect();
    list.sort_by_key(|i| !i.loopback);
    Ok(list)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub interface: String,
    /// A BPF filter (tcpdump syntax).
    pub filter: String,
    /// Also write every captured frame here (pcapng).
    pub save: Option<PathBuf>,
}

/// What the capture thread reports.
#[derive(Debug)]
pub enum Update {
    /// Frames arrived: the timeline's growth, decoder findings found since the last update,
    /// and the counts so far.
    Frames {
        delta: Box<Delta>,
        findings: Vec<Finding>,
        stats: Box<Stats>,
    },
    /// The capture ended (Stop, or an error): everything it decoded.
    Stopped {
        data: Box<CaptureData>,
        error: Option<String>,
    },
}

/// A running capture; dropping it stops it.
pub struct LiveCapture {
    stop: Arc<AtomicBool>,
    pub updates: mpsc::Receiver<Update>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Says how to get the right to capture when libpcap is refused it.
fn open_error(interface: &str, e: &pcap::Error) -> String {
    let m = e.to_string();
    let denied = m.contains("ermission") || m.contains("not permitted");
    if denied {
        let exe = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "target/release/rmscope".into());
        format!(
            "no permission to capture on {interface} ({m}): run as root, or grant it once with \
             `sudo setcap cap_net_raw,cap_net_admin=eip {exe}`"
        )
    } else {
        format!("cannot capture on {interface}: {m}")
    }
}

fn open(o: &Options) -> Result<pcap::Capture<pcap::Active>, String> {
    let mut cap = pcap::Capture::from_device(o.interface.as_str())
        .map_err(|e| open_error(&o.interface, &e))?
        .snaplen(SNAPLEN)
        // Not immediate mode: frames are packed into the ring's blocks (immediate mode gives
        // each frame a slot as large as the MTU, and lo's is 64 KiB); a block is handed over
        // at the latest after the read timeout.
        .buffer_size(32 << 20)
        .timeout(50)
        .precision(pcap::Precision::Nano)
        .open()
        .map_err(|e| open_error(&o.interface, &e))?;
    cap.filter(&o.filter, true)
        .map_err(|e| format!("BPF filter \"{}\": {e}", o.filter))?;
    // Read without blocking and nap when nothing is there, so Stop is always seen.
    cap.setnonblock().map_err(|e| open_error(&o.interface, &e))
}

impl LiveCapture {
    /// Opens the interface (errors come back here, at once) and captures on a thread until
    /// `stop`; `wake` is called after each update.
    pub fn start(o: Options, wake: impl Fn() + Send + 'static) -> Result<LiveCapture, String> {
        let cap = open(&o)?;
        let link = cap.get_datalink().0;
        let writer = match &o.save {
            Some(p) => {
                let f = std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()))?;
                let w = CaptureWriter::new(
                    std::io::BufWriter::new(f),
                    Format::PcapNg,
                    u16::try_from(link).unwrap_or(1),
                    SNAPLEN as u32,
                )
                .map_err(|e| format!("{}: {e}", p.display()))?;
                Some(w)
            }
            None => None,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("rmscope-capture".into())
            .spawn(move || capture_loop(cap, link, writer, &flag, &tx, &wake))
            .map_err(|e| format!("cannot start the capture thread: {e}"))?;
        Ok(LiveCapture {
            stop,
            updates: rx,
            thread: Some(thread),
        })
    }

    /// Asks the capture to end; a `Stopped` update follows.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Drop for LiveCapture {
    fn drop(&mut self) {
        self.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn dec_frames(d: &CaptureData) -> u32 {
    u32::try_from(d.stats.frames).unwrap_or(u32::MAX)
}

type Writer = CaptureWriter<std::io::BufWriter<std::fs::File>>;

fn capture_loop(
    mut cap: pcap::Capture<pcap::Active>,
    link: i32,
    mut writer: Option<Writer>,
    stop: &AtomicBool,
    tx: &mpsc::Sender<Update>,
    wake: &dyn Fn(),
) {
    let mut dec = StreamDecoder::new(link);
    let mut cursor = DeltaCursor::default();
    let mut findings_sent = 0;
    let mut last = Instant::now();
    let mut error = None;
    while !stop.load(Ordering::Relaxed) {
        match cap.next_packet() {
            Ok(p) => {
                let ts = timestamp_ns(p.header);
                dec.push(ts, p.header.len, p.data);
                if let Some(w) = writer.as_mut()
                    && let Err(e) = w.write(ts, p.data, p.header.len)
                {
                    error = Some(format!("writing the capture file: {e}"));
                    break;
                }
            }
            // Nothing waiting.
            Err(pcap::Error::TimeoutExpired) => std::thread::sleep(IDLE_NAP),
            Err(e) => {
                error = Some(format!("the capture stopped: {e}"));
                break;
            }
        }
        if last.elapsed() >= UPDATE_EVERY {
            last = Instant::now();
            // Readers of the file (the detail pane) see every frame decoded so far.
            if let Some(w) = writer.as_mut()
                && let Err(e) = w.flush()
            {
                error = Some(format!("writing the capture file: {e}"));
                break;
            }
            let delta = dec.timeline().delta(&mut cursor);
            let findings = dec.findings()[findings_sent..].to_vec();
            findings_sent = dec.findings().len();
            let u = Update::Frames {
                delta: Box::new(delta),
                findings,
                stats: Box::new(dec.stats().clone()),
            };
            if tx.send(u).is_err() {
                return;
            }
            wake();
        }
    }
    if let Some(mut w) = writer
        && let Err(e) = w.flush()
    {
        error.get_or_insert(format!("writing the capture file: {e}"));
    }
    let mut data = dec.finish();
    // Frames the kernel could not hand over are gaps in the streams: say how many.
    if let Ok(st) = cap.stats()
        && st.dropped > 0
    {
        data.findings.push(Finding::new(
            crate::analysis::Severity::Warn,
            dec_frames(&data),
            data.timeline
                .wires
                .last()
                .map_or(crate::trace::Time::ZERO, |w| w.time),
            crate::trace::SeqIdx::NONE,
            format!(
                "{} frames dropped by the kernel (capture buffer full)",
                st.dropped
            ),
        ));
    }
    let _ = tx.send(Update::Stopped {
        data: Box::new(data),
        error,
    });
    wake();
}
