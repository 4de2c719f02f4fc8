//! Saving the live session as a capture off the UI thread: encoding and writing a session of
//! 100,000 messages takes over a second, which would freeze the window.

use crate::capture::export::{self, Framing};
use crate::capture::writer::Format;
use crate::trace::Timeline;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

pub struct Saver {
    pub path: PathBuf,
    rx: mpsc::Receiver<Result<(), String>>,
}

impl Saver {
    /// Writes `timeline` with its envelope bytes to `path` as pcapng, on a thread of its own;
    /// `wake` repaints the window when it is done.
    pub fn start(
        path: &Path,
        timeline: Timeline,
        payloads: Vec<bytes::Bytes>,
        framing: Framing,
        wake: eframe::egui::Context,
    ) -> Saver {
        let (tx, rx) = mpsc::channel();
        let p = path.to_path_buf();
        // Should no thread start, the closure (and the sender) is dropped and `poll` reports it.
        let _ = std::thread::Builder::new()
            .name("rmscope-save".into())
            .spawn(move || {
                let r = write(&p, &timeline, &payloads, framing).map_err(|e| format!("{}: {e}", p.display()));
                let _ = tx.send(r);
                wake.request_repaint();
            });
        Saver {
            path: path.to_path_buf(),
            rx,
        }
    }

    /// The result once the writer is done.
    pub fn poll(&self) -> Option<Result<(), String>> {
        match self.rx.try_recv() {
            Ok(r) => Some(r),
            Err(mpsc::TryRecvError::Empty) => None,
            Err(mpsc::TryRecvError::Disconnected) => Some(Err(format!(
                "{}: saving stopped unexpectedly",
                self.path.display()
            ))),
        }
    }
}

fn write(
    path: &Path,
    timeline: &Timeline,
    payloads: &[bytes::Bytes],
    framing: Framing,
) -> std::io::Result<()> {
    let f = std::fs::File::create(path)?;
    let mut w = export::write_session(
        timeline,
        payloads,
        framing,
        std::io::BufWriter::new(f),
        Format::PcapNg,
    )?;
    std::io::Write::flush(&mut w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn wait(s: &Saver) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(r) = s.poll() {
                return r;
            }
            assert!(Instant::now() < deadline, "the save did not finish");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_save_reports_its_result_when_done() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("empty.pcapng");
        let ctx = eframe::egui::Context::default();
        let s = Saver::start(&ok, Timeline::new(), Vec::new(), Framing::NetTcp, ctx.clone());
        assert_eq!(wait(&s), Ok(()));
        // pcapng's Section Header Block type.
        assert_eq!(std::fs::read(&ok).unwrap()[..4], [0x0a, 0x0d, 0x0d, 0x0a]);

        let bad = dir.path().join("missing-dir").join("x.pcapng");
        let s = Saver::start(&bad, Timeline::new(), Vec::new(), Framing::NetTcp, ctx);
        let e = wait(&s).unwrap_err();
        assert!(e.starts_with(&bad.display().to_string()), "{e}");
    }
}
