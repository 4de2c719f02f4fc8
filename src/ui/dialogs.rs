//! File dialogs (rfd), with a queue of scripted answers so tests drive the same code paths
//! without an OS dialog.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

#[derive(Default)]
pub struct Dialogs {
    /// Answers given instead of showing a dialog, in order (tests).
    pub scripted: VecDeque<Option<PathBuf>>,
}

pub const CAPTURES: (&str, &[&str]) = ("Captures", &["pcap", "pcapng", "cap"]);
/// What File → Open reads: captures and WCF message logs.
pub const RECORDINGS: (&str, &[&str]) = (
    "Captures and message logs",
    &["pcap", "pcapng", "cap", "svclog", "e2e", "xml"],
);
pub const CONFIGS: (&str, &[&str]) = ("WCF config", &["config", "xml"]);

/// An open dialog on `dir` showing `filter`'s files first, then all files.
fn picker(title: &str, filter: (&str, &[&str]), dir: Option<&Path>) -> rfd::FileDialog {
    let d = rfd::FileDialog::new()
        .set_title(title)
        .add_filter(filter.0, filter.1)
        .add_filter("All files", &["*"]);
    match dir {
        Some(dir) => d.set_directory(dir),
        None => d,
    }
}

impl Dialogs {
    pub fn open(&mut self, title: &str, filter: (&str, &[&str]), dir: Option<&Path>) -> Option<PathBuf> {
        if let Some(answer) = self.scripted.pop_front() {
            return answer;
        }
        picker(title, filter, dir).pick_file()
    }

    /// Several files at once (message logs of both ends); empty when cancelled.
    pub fn open_many(&mut self, title: &str, filter: (&str, &[&str]), dir: Option<&Path>) -> Vec<PathBuf> {
        if let Some(answer) = self.scripted.pop_front() {
            return answer.into_iter().collect();
        }
        picker(title, filter, dir).pick_files().unwrap_or_default()
    }

    /// A directory to write into (message logs of each end).
    pub fn folder(&mut self, title: &str, dir: Option<&Path>) -> Option<PathBuf> {
        if let Some(answer) = self.scripted.pop_front() {
            return answer;
        }
        let mut d = rfd::FileDialog::new().set_title(title);
        if let Some(dir) = dir {
            d = d.set_directory(dir);
        }
        d.pick_folder()
    }

    pub fn save(
        &mut self,
        title: &str,
        name: &str,
        filter: (&str, &[&str]),
        dir: Option<&Path>,
    ) -> Option<PathBuf> {
        if let Some(answer) = self.scripted.pop_front() {
            return answer;
        }
        let mut d = rfd::FileDialog::new()
            .set_title(title)
            .set_file_name(name)
            .add_filter(filter.0, filter.1);
        if let Some(dir) = dir {
            d = d.set_directory(dir);
        }
        d.save_file()
    }
}
