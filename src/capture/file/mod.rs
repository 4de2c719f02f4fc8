//! Capture files read without libpcap (libpcap stays for live capture): one file, or several
//! as one capture — a ring-buffer set (dumpcap `-b`) or captures taken at two points — merged by
//! time into one stream of frames. The same packet captured at both points is one packet seen
//! twice: its second copy is dropped (and counted), not taken for a TCP retransmission.

pub mod blocks;
pub mod input;

pub use blocks::{Packet, PacketReader, Stop};
use rustc_hash::FxHashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// How far apart (ns) two copies of one packet, captured at two points, may be.
const SAME_PACKET_WINDOW_NS: u64 = 500_000_000;

/// One frame of the merged stream.
#[derive(Debug)]
pub struct Frame<'a> {
    /// Index of the file it came from.
    pub file: u16,
    /// Its number in that file, 1-based as Wireshark counts.
    pub number_in_file: u32,
    pub packet: Packet<'a>,
}

/// A packet copied out of its reader while the other files are looked at.
struct Held {
    link: i32,
    ts_ns: u64,
    wire_len: u32,
    data: Vec<u8>,
    comment: Option<String>,
    number: u32,
}

/// Where each run of merged frames came from, to name a frame `file:frame`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FrameMap {
    /// File names (no directories), in the order given.
    pub files: Vec<String>,
    /// (first merged frame of a run, file, that frame's number in the file); in frame order.
    pub runs: Vec<(u32, u16, u32)>,
}

impl FrameMap {
    /// `frame` (merged, 1-based) as `file:frame` when the capture is several files, else as is.
    pub fn name(&self, frame: u32) -> String {
        if self.files.len() < 2 || frame == 0 {
            return frame.to_string();
        }
        let i = self.runs.partition_point(|r| r.0 <= frame).saturating_sub(1);
        match self.runs.get(i) {
            Some(&(start, file, local)) => {
                let name = self.files.get(usize::from(file)).map_or("?", |s| s.as_str());
                format!("{name}:{}", local + (frame - start))
            }
            None => frame.to_string(),
        }
    }

    fn note(&mut self, merged: u32, file: u16, local: u32) {
        if let Some(&(start, f, l)) = self.runs.last()
            && f == file
            && l + (merged - start) == local
        {
            return; // the run goes on
        }
        self.runs.push((merged, file, local));
    }
}

/// One or several capture files as one stream of frames, in time order.
pub struct Frames {
    readers: Vec<PacketReader>,
    /// Several files: each reader's next packet, copied.
    heads: Vec<Option<Held>>,
    counts: Vec<u32>,
    /// The packet handed out last, when it came from `heads`.
    out: Option<(u16, Held)>,
    /// Recent packets by content, for packets seen at two capture points: (file, time).
    seen: FxHashMap<u64, (u16, u64)>,
    seen_order: std::collections::VecDeque<(u64, u64)>,
    /// Copies dropped as the same packet seen at another capture point.
    pub duplicates: u64,
    /// Why a file stopped early: (file index, why).
    pub stops: Vec<(u16, Stop)>,
    pub map: FrameMap,
    merged: u32,
    paths: Vec<PathBuf>,
}

impl std::fmt::Debug for Frames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frames").field("paths", &self.paths).finish()
    }
}

impl Frames {
    /// Opens every file; the error names the file that cannot be read.
    pub fn open(paths: &[PathBuf]) -> Result<Frames, String> {
        if paths.is_empty() {
            return Err("no capture file given".into());
        }
        let mut readers = Vec::with_capacity(paths.len());
        for p in paths {
            if p.is_dir() {
                return Err(format!("{}: is a directory", p.display()));
            }
            readers.push(PacketReader::open(p).map_err(|e| format!("{}: {e}", p.display()))?);
        }
        let files = paths
            .iter()
            .map(|p| {
                p.file_name()
                    .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
            })
            .collect();
        let n = readers.len();
        let mut frames = Frames {
            readers,
            heads: (0..n).map(|_| None).collect(),
            counts: vec![0; n],
            out: None,
            seen: FxHashMap::default(),
            seen_order: Default::default(),
            duplicates: 0,
            stops: Vec::new(),
            map: FrameMap {
                files,
                runs: Vec::new(),
            },
            merged: 0,
            paths: paths.to_vec(),
        };
        if n > 1 {
            for i in 0..n {
                frames.advance(i);
            }
        }
        Ok(frames)
    }

    pub fn single(path: &Path) -> Result<Frames, String> {
        Frames::open(&[path.to_path_buf()])
    }

    /// Whether any file is gzip-compressed.
    pub fn compressed(&self) -> bool {
        self.readers.iter().any(PacketReader::compressed)
    }

    /// Link types of the interfaces seen so far, over all files.
    pub fn links(&self) -> Vec<i32> {
        let mut out = Vec::new();
        for l in self.readers.iter().flat_map(|r| r.links().iter().copied()) {
            if !out.contains(&l) {
                out.push(l);
            }
        }
        out
    }

    /// Reads file `i`'s next packet into its head.
    fn advance(&mut self, i: usize) {
        self.heads[i] = match self.readers[i].next_packet() {
            Ok(Some(p)) => {
                self.counts[i] += 1;
                Some(Held {
                    link: p.link,
                    ts_ns: p.ts_ns,
                    wire_len: p.wire_len,
                    data: p.data.to_vec(),
                    comment: p.comment.map(str::to_string),
                    number: self.counts[i],
                })
            }
            Ok(None) => None,
            Err(stop) => {
                self.stops.push((i as u16, stop));
                None
            }
        };
    }

    /// The next frame in time order (several files), or in file order (one file).
    pub fn next_frame(&mut self) -> Option<Frame<'_>> {
        if self.readers.len() == 1 {
            return match self.readers[0].next_packet() {
                Ok(Some(packet)) => {
                    self.counts[0] += 1;
                    self.merged += 1;
                    Some(Frame {
                        file: 0,
                        number_in_file: self.counts[0],
                        packet,
                    })
                }
                Ok(None) => None,
                Err(stop) => {
                    self.stops.push((0, stop));
                    None
                }
            };
        }
        loop {
            // The earliest head; ties go to the file given first.
            let i = (0..self.heads.len())
                .filter(|&i| self.heads[i].is_some())
                .min_by_key(|&i| self.heads[i].as_ref().map(|h| h.ts_ns))?;
            let held = self.heads[i].take()?;
            self.advance(i);
            if self.seen_before(i as u16, &held) {
                self.duplicates += 1;
                continue;
            }
            self.merged += 1;
            self.map.note(self.merged, i as u16, held.number);
            self.out = Some((i as u16, held));
            let (file, h) = self.out.as_ref()?;
            return Some(Frame {
                file: *file,
                number_in_file: h.number,
                packet: Packet {
                    link: h.link,
                    ts_ns: h.ts_ns,
                    wire_len: h.wire_len,
                    data: &h.data,
                    comment: h.comment.as_deref(),
                },
            });
        }
    }

    /// Whether another file already gave this TCP segment (same addresses, sequence number, IP
    /// identification, flags and payload) within the window: the same packet at another point.
    fn seen_before(&mut self, file: u16, h: &Held) -> bool {
        let Ok(seg) = super::packet::tcp_segment(h.link, &h.data) else {
            return false;
        };
        let mut hasher = rustc_hash::FxHasher::default();
        (
            seg.src,
            seg.dst,
            seg.seq,
            seg.ip_id,
            seg.syn,
            seg.fin,
            seg.rst,
            seg.payload,
        )
            .hash(&mut hasher);
        let key = hasher.finish();
        while let Some(&(t, k)) = self.seen_order.front() {
            if h.ts_ns.saturating_sub(t) <= SAME_PACKET_WINDOW_NS {
                break;
            }
            self.seen_order.pop_front();
            if self.seen.get(&k).is_some_and(|&(_, at)| at == t) {
                self.seen.remove(&k);
            }
        }
        match self.seen.get(&key) {
            Some(&(f, _)) if f != file => true,
            _ => {
                self.seen.insert(key, (file, h.ts_ns));
                self.seen_order.push_back((h.ts_ns, key));
                false
            }
        }
    }
}
