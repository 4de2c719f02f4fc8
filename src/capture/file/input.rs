//! The bytes of a capture file as a window the block parser reads from: a memory map of a plain
//! file (no copy), or a gzip-compressed file (`.pcap.gz`, `.pcapng.gz`, found by its magic, as
//! Wireshark opens them) decompressed as the parser asks for more.

use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// How much of a compressed file is decompressed at a time.
const CHUNK: usize = 1 << 20;

pub enum Input {
    Mapped {
        map: memmap2::Mmap,
        at: usize,
        /// Pages before this were handed back (see `consume`).
        released: usize,
    },
    Gzip {
        decoder: Box<MultiGzDecoder<File>>,
        buf: Vec<u8>,
        at: usize,
        eof: bool,
        /// The compressed stream broke: said once what came before it is parsed.
        failed: Option<String>,
    },
    /// An empty file (a map of zero bytes is an error on some systems).
    Empty,
}

impl Input {
    pub fn open(path: &Path) -> io::Result<Input> {
        let mut file = File::open(path)?;
        let mut magic = [0u8; 2];
        let n = file.read(&mut magic)?;
        if n == 0 {
            return Ok(Input::Empty);
        }
        if n == 2 && magic == [0x1f, 0x8b] {
            let file = File::open(path)?;
            return Ok(Input::Gzip {
                decoder: Box::new(MultiGzDecoder::new(file)),
                buf: Vec::with_capacity(CHUNK),
                at: 0,
                eof: false,
                failed: None,
            });
        }
        // SAFETY: the map is read-only and private to this process; a capture file changed or
        // cut by another process while it is read gives wrong bytes (caught by the parser as a
        // malformed block) or, if truncated under the map, SIGBUS — as with every reader of a
        // mapped file (Wireshark's own included). Captures being written are read live instead.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(Input::Mapped {
            map,
            at: 0,
            released: 0,
        })
    }

    pub fn compressed(&self) -> bool {
        matches!(self, Input::Gzip { .. })
    }

    /// What is there to parse now.
    pub fn window(&self) -> &[u8] {
        match self {
            Input::Mapped { map, at, .. } => &map[*at..],
            Input::Gzip { buf, at, .. } => &buf[*at..],
            Input::Empty => &[],
        }
    }

    /// The parser used `n` bytes of the window.
    pub fn consume(&mut self, n: usize) {
        match self {
            Input::Mapped { map, at, released } => {
                *at += n;
                // Pages read are resident and count as the process's memory until unmapped:
                // behind the parser, every 2 MiB, they are handed back, so reading a 1 GB
                // capture does not look (or act) like holding it. On the 197 MB WCF-style
                // capture 4 MiB steps held ~3.5 MB of it at the peak (84 B per WS-RM message),
                // 2 MiB ~1.7 MB at the same speed; 1 MiB saved little more and, with a decoding
                // thread running, was slower — each call flushes the TLB.
                const STEP: usize = 2 << 20;
                let done = *at & !(STEP - 1);
                if done > *released {
                    // SAFETY: nothing before `at` is borrowed any more (packets are handed out
                    // from `at` on, and the previous one is consumed before the next is read);
                    // a read-only file mapping only drops its page-cache references, and a
                    // later read of the range would fault the file's bytes in again.
                    #[cfg(unix)]
                    let _ = unsafe {
                        map.unchecked_advise_range(
                            memmap2::UncheckedAdvice::DontNeed,
                            *released,
                            done - *released,
                        )
                    };
                    *released = done;
                }
            }
            Input::Gzip { at, .. } => *at += n,
            Input::Empty => {}
        }
    }

    /// Makes the window longer by at least `want` bytes, if the file has them. Returns whether
    /// it grew (false: the file ends here).
    pub fn fill(&mut self, want: usize) -> io::Result<bool> {
        let Input::Gzip {
            decoder,
            buf,
            at,
            eof,
            failed,
            ..
        } = self
        else {
            return Ok(false);
        };
        if *eof {
            return match failed {
                Some(e) => Err(io::Error::other(e.clone())),
                None => Ok(false),
            };
        }
        // Keep only what is not yet parsed.
        buf.drain(..*at);
        *at = 0;
        let target = buf.len() + want.max(CHUNK);
        let before = buf.len();
        while buf.len() < target {
            let old = buf.len();
            buf.resize(old + CHUNK.min(target - old), 0);
            let n = match decoder.read(&mut buf[old..]) {
                Ok(n) => n,
                Err(e) => {
                    // What was decompressed before the break is still parsed.
                    buf.truncate(old);
                    *eof = true;
                    *failed = Some(e.to_string());
                    if buf.len() > before {
                        return Ok(true);
                    }
                    return Err(e);
                }
            };
            buf.truncate(old + n);
            if n == 0 {
                *eof = true;
                break;
            }
        }
        Ok(buf.len() > before)
    }
}
