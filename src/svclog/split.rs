//! Cuts a message log into its `<E2ETraceEvent>` records. A `.svclog` is a run of such roots
//! with no declaration and no root element (an XmlWriterTraceListener appends one per trace);
//! some tools wrap them in a root, and a listener may write UTF-16 with a BOM. Records are cut
//! by their tags so memory holds one record at a time, whatever the file's size.

use std::io::Read;

const OPEN: &[u8] = b"<E2ETraceEvent";
const CLOSE: &[u8] = b"</E2ETraceEvent";
/// Bytes read from the file at a time.
const CHUNK: usize = 256 * 1024;

/// One record: where it starts in the (UTF-8) stream, and its bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct RawRecord<'a> {
    pub offset: u64,
    pub bytes: &'a [u8],
}

/// Why the records stop before the end of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SplitError {
    /// A record longer than the limit: it cannot be held, so reading stops there.
    TooLarge {
        offset: u64,
        limit: usize,
    },
    /// The file ends inside a record.
    Truncated {
        offset: u64,
    },
    Io(String),
}

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SplitError::TooLarge { offset, limit } => write!(
                f,
                "the record at byte {offset} is longer than {} MiB; reading stops there",
                limit >> 20
            ),
            SplitError::Truncated { offset } => {
                write!(f, "the file ends inside the record that starts at byte {offset}")
            }
            SplitError::Io(e) => write!(f, "read error: {e}"),
        }
    }
}

/// The text encoding a log was written in, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
}

/// Detects the encoding from a BOM (or from the zero bytes of UTF-16 `<` without one).
pub fn sniff(head: &[u8]) -> Encoding {
    match head {
        [0xFF, 0xFE, ..] | [b'<', 0, ..] => Encoding::Utf16Le,
        [0xFE, 0xFF, ..] | [0, b'<', ..] => Encoding::Utf16Be,
        _ => Encoding::Utf8,
    }
}

/// Turns a UTF-16 byte stream into UTF-8 as it is read (unpaired surrogates become U+FFFD).
pub struct Utf16ToUtf8<R> {
    inner: R,
    big_endian: bool,
    raw: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
    started: bool,
}

impl<R: Read> Utf16ToUtf8<R> {
    pub fn new(inner: R, big_endian: bool) -> Self {
        Utf16ToUtf8 {
            inner,
            big_endian,
            raw: Vec::new(),
            out: Vec::new(),
            out_pos: 0,
            started: false,
        }
    }

    fn refill(&mut self) -> std::io::Result<bool> {
        let mut chunk = vec![0u8; CHUNK];
        let n = self.inner.read(&mut chunk)?;
        if n == 0 {
            return Ok(false);
        }
        self.raw.extend_from_slice(&chunk[..n]);
        // Keep an odd byte, and a lone high surrogate, for the next read.
        let mut usable = self.raw.len() & !1;
        if usable >= 2 {
            let last = self.unit(usable - 2);
            if (0xD800..0xDC00).contains(&last) {
                usable -= 2;
            }
        }
        let units: Vec<u16> = (0..usable).step_by(2).map(|i| self.unit(i)).collect();
        self.out.clear();
        self.out_pos = 0;
        let mut skip_bom = !self.started;
        self.started = true;
        for c in char::decode_utf16(units) {
            let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
            if std::mem::take(&mut skip_bom) && c == '\u{FEFF}' {
                continue;
            }
            let mut b = [0u8; 4];
            self.out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
        }
        self.raw.drain(..usable);
        Ok(true)
    }

    fn unit(&self, i: usize) -> u16 {
        let pair = [self.raw[i], self.raw[i + 1]];
        if self.big_endian {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    }
}

impl<R: Read> Read for Utf16ToUtf8<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.out_pos >= self.out.len() {
            if !self.refill()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

/// Yields the records of a stream one by one, holding at most one record (plus a chunk).
pub struct Splitter<R> {
    src: R,
    buf: Vec<u8>,
    /// Start of the unread part of `buf`.
    pos: usize,
    /// Stream offset of `buf[0]`.
    base: u64,
    eof: bool,
    max_record: usize,
    /// Bytes read from the source so far (progress).
    pub read: u64,
    /// Bytes outside records that are not whitespace or a wrapper's tags (a sign of garbage).
    pub stray: u64,
    done: bool,
}

impl<R: Read> Splitter<R> {
    pub fn new(src: R, max_record: usize) -> Self {
        Splitter {
            src,
            buf: Vec::with_capacity(CHUNK * 2),
            pos: 0,
            base: 0,
            eof: false,
            max_record,
            read: 0,
            stray: 0,
            done: false,
        }
    }

    fn fill(&mut self) -> Result<(), SplitError> {
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.base += self.pos as u64;
            self.pos = 0;
        }
        let old = self.buf.len();
        self.buf.resize(old + CHUNK, 0);
        let n = loop {
            match self.src.read(&mut self.buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(SplitError::Io(e.to_string()));
                }
            }
        };
        self.buf.truncate(old + n);
        self.read += n as u64;
        self.eof = n == 0;
        Ok(())
    }

    /// The next record, `Ok(None)` at the end. After an error there are no more records.
    pub fn next_record(&mut self) -> Result<Option<RawRecord<'_>>, SplitError> {
        if self.done {
            return Ok(None);
        }
        // Find the next opening tag.
        let start = loop {
            if let Some(i) = memchr::memmem::find(&self.buf[self.pos..], OPEN) {
                let at = self.pos + i;
                if self.buf.get(at + OPEN.len()).is_none() && !self.eof {
                    self.fill()?; // cannot yet tell `<E2ETraceEvent>` from `<E2ETraceEventX`
                    continue;
                }
                self.count_stray(self.pos, at);
                self.pos = at;
                break at;
            }
            if self.eof {
                self.count_stray(self.pos, self.buf.len());
                self.pos = self.buf.len();
                self.done = true;
                return Ok(None);
            }
            // Keep a tail that may hold the start of a tag.
            let keep = self.buf.len().saturating_sub(OPEN.len()).max(self.pos);
            self.count_stray(self.pos, keep);
            self.pos = keep;
            self.fill()?;
        };
        // Find its closing tag from where the search left off.
        let mut from = start + OPEN.len();
        let end = loop {
            let start = self.pos; // `fill` may move the buffer
            if let Some(i) = memchr::memmem::find(&self.buf[from..], CLOSE) {
                let close = from + i;
                if let Some(gt) = memchr::memchr(b'>', &self.buf[close..]) {
                    break close + gt + 1;
                }
            }
            if self.buf.len() - start > self.max_record {
                self.done = true;
                return Err(SplitError::TooLarge {
                    offset: self.base + start as u64,
                    limit: self.max_record,
                });
            }
            if self.eof {
                self.done = true;
                return Err(SplitError::Truncated {
                    offset: self.base + start as u64,
                });
            }
            let searched = self.buf.len().saturating_sub(CLOSE.len() + 1);
            let before = self.pos;
            self.fill()?;
            from = searched.max(start + OPEN.len()) - (before - self.pos);
        };
        let start = self.pos;
        self.pos = end;
        Ok(Some(RawRecord {
            offset: self.base + start as u64,
            bytes: &self.buf[start..end],
        }))
    }

    /// Counts bytes between records that are neither whitespace nor markup (`<…>` of a wrapper
    /// root or a declaration).
    fn count_stray(&mut self, from: usize, to: usize) {
        let mut in_tag = false;
        for &b in &self.buf[from..to] {
            match b {
                b'<' => in_tag = true,
                b'>' => in_tag = false,
                _ if in_tag || b.is_ascii_whitespace() => {}
                _ => self.stray += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(input: &[u8], max: usize) -> (Vec<(u64, Vec<u8>)>, Option<SplitError>) {
        let mut s = Splitter::new(input, max);
        let mut out = Vec::new();
        loop {
            match s.next_record() {
                Ok(Some(r)) => out.push((r.offset, r.bytes.to_vec())),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    const A: &[u8] = b"<E2ETraceEvent xmlns=\"x\"><System/></E2ETraceEvent>";

    #[test]
    fn concatenated_roots_are_cut_at_their_tags() {
        let input = [A, A, b"\r\n", A].concat();
        let (r, e) = records(&input, 1 << 20);
        assert_eq!(e, None);
        assert_eq!(r.len(), 3);
        assert_eq!(r[1].0, A.len() as u64);
        assert_eq!(r[2].0, (2 * A.len() + 2) as u64);
        assert!(r.iter().all(|(_, b)| b == A));
    }

    #[test]
    fn a_wrapper_root_is_not_stray_text() {
        let input = [b"<?xml version=\"1.0\"?><Tracing>" as &[u8], A, b"</Tracing>"].concat();
        let mut s = Splitter::new(&input[..], 1 << 20);
        assert!(s.next_record().unwrap().is_some());
        assert!(s.next_record().unwrap().is_none());
        assert_eq!(s.stray, 0);
    }

    #[test]
    fn records_across_chunk_boundaries() {
        let filler = vec![b'x'; CHUNK + 17];
        let big = [b"<E2ETraceEvent><D>" as &[u8], &filler, b"</D></E2ETraceEvent>"].concat();
        let input = [A, &big, A].concat();
        let (r, e) = records(&input, 4 * CHUNK);
        assert_eq!(e, None);
        assert_eq!(r.len(), 3);
        assert_eq!(r[1].1, big);
        assert_eq!(r[2].0, (A.len() + big.len()) as u64);
    }

    #[test]
    fn truncated_and_too_large_records_stop_with_their_offset() {
        let input = [A, &A[..20]].concat();
        let (r, e) = records(&input, 1 << 20);
        assert_eq!(r.len(), 1);
        assert_eq!(
            e,
            Some(SplitError::Truncated {
                offset: A.len() as u64
            })
        );
        let filler = vec![b'x'; 3 * CHUNK];
        let big = [A, b"<E2ETraceEvent>", &filler, b"</E2ETraceEvent>"].concat();
        let (r, e) = records(&big, CHUNK);
        assert_eq!(r.len(), 1);
        assert!(matches!(e, Some(SplitError::TooLarge { offset, .. }) if offset == A.len() as u64));
    }

    #[test]
    fn utf16_with_a_bom_reads_as_utf8() {
        let text = "<E2ETraceEvent><D>Şenyurt €</D></E2ETraceEvent>";
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(sniff(&le), Encoding::Utf16Le);
        let (r, e) = records(&le, 1 << 20);
        assert_eq!(e, None);
        // Transcoded through the reader, not the raw bytes.
        assert!(r.is_empty());
        let (r, _) = {
            let mut s = Splitter::new(Utf16ToUtf8::new(&le[..], false), 1 << 20);
            let r = s.next_record().unwrap().map(|r| r.bytes.to_vec());
            (r, ())
        };
        assert_eq!(r.as_deref(), Some(text.as_bytes()));
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(|u| u.to_be_bytes()));
        let mut s = Splitter::new(Utf16ToUtf8::new(&be[..], true), 1 << 20);
        assert_eq!(s.next_record().unwrap().unwrap().bytes, text.as_bytes());
    }

    #[test]
    fn garbage_gives_no_records_and_counts_stray_bytes() {
        let mut s = Splitter::new(&b"\x00\x01 not xml at all"[..], 1 << 20);
        assert!(s.next_record().unwrap().is_none());
        assert!(s.stray > 10);
    }
}
