//! Opening a capture, or a set of message logs, off the UI thread, with progress and Cancel.

use super::model::{Dataset, Origin};
use crate::capture::{self, CaptureError};
use crate::svclog;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};

pub struct Loader {
    /// The first file (names the load in the toolbar).
    pub path: PathBuf,
    pub paths: Vec<PathBuf>,
    bytes: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
    cancel: Arc<AtomicBool>,
    rx: mpsc::Receiver<Result<Dataset, String>>,
}

impl Loader {
    pub fn start(path: &Path, wake: eframe::egui::Context) -> Loader {
        Loader::start_many(&[path.to_path_buf()], wake)
    }

    /// Reads message logs together when they all are logs; one capture and its logs; else the
    /// captures, as one.
    pub fn start_many(paths: &[PathBuf], wake: eframe::egui::Context) -> Loader {
        let path = paths.first().cloned().unwrap_or_default();
        let all = paths.to_vec();
        let (tx, rx) = mpsc::channel();
        let bytes = Arc::new(AtomicU64::new(0));
        let total = Arc::new(AtomicU64::new(0));
        let cancel = Arc::new(AtomicBool::new(false));
        let (b, t, c, ps) = (bytes.clone(), total.clone(), cancel.clone(), all.clone());
        std::thread::Builder::new()
            .name("rmscope-load".into())
            .spawn(move || {
                let mut last_wake = std::time::Instant::now();
                let mut progress = |pr: capture::Progress| {
                    b.store(pr.bytes, Ordering::Relaxed);
                    t.store(pr.total, Ordering::Relaxed);
                    if last_wake.elapsed().as_millis() > 50 {
                        wake.request_repaint();
                        last_wake = std::time::Instant::now();
                    }
                };
                let logs = ps.iter().filter(|p| svclog::looks_like_log(p)).count();
                let r = if logs > 0 && logs == ps.len() {
                    match svclog::read_files(&ps, &mut progress, &c) {
                        Ok(data) => Ok(Dataset::from_logs(data)),
                        Err(svclog::LogError::Cancelled) => Err("cancelled".to_string()),
                        Err(e) => Err(e.to_string()),
                    }
                } else if logs > 0 && ps.len() - logs == 1 {
                    // One capture and the logs of the same session.
                    let (caps, logs): (Vec<PathBuf>, Vec<PathBuf>) =
                        ps.iter().cloned().partition(|p| !svclog::looks_like_log(p));
                    match capture::read_file_with(&caps[0], &mut progress, &c, true) {
                        Ok(cap) => match svclog::attach(&cap, &logs, &mut progress, &c) {
                            Ok(att) => Ok(Dataset::from_capture_and_logs(caps[0].clone(), cap, att)),
                            Err(svclog::LogError::Cancelled) => Err("cancelled".to_string()),
                            Err(e) => Err(e.to_string()),
                        },
                        Err(CaptureError::Cancelled) => Err("cancelled".to_string()),
                        Err(e) => Err(e.to_string()),
                    }
                } else {
                    match capture::read_files(&ps, &mut progress, &c, false) {
                        // One capture, or several read as one (a ring-buffer set, two capture points).
                        Ok(data) => Ok(Dataset::new(
                            Origin::Capture(ps.clone()),
                            data.timeline,
                            data.findings,
                            Some(data.stats),
                        )),
                        Err(CaptureError::Cancelled) => Err("cancelled".to_string()),
                        Err(e) => Err(e.to_string()),
                    }
                };
                let _ = tx.send(r);
                wake.request_repaint();
            })
            .expect("a thread for loading");
        Loader {
            path,
            paths: all,
            bytes,
            total,
            cancel,
            rx,
        }
    }

    /// Fraction read so far.
    pub fn fraction(&self) -> f32 {
        let total = self.total.load(Ordering::Relaxed);
        if total == 0 {
            0.0
        } else {
            (self.bytes.load(Ordering::Relaxed) as f64 / total as f64).min(1.0) as f32
        }
    }

    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The result once the worker is done.
    pub fn poll(&self) -> Option<Result<Dataset, String>> {
        match self.rx.try_recv() {
            Ok(r) => Some(r),
            Err(mpsc::TryRecvError::Empty) => None,
            Err(mpsc::TryRecvError::Disconnected) => Some(Err("the loader stopped unexpectedly".into())),
        }
    }
}
