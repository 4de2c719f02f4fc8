//! Decoding on all cores: the reader thread reads frames, reassembles TCP and frames HTTP; the
//! SOAP envelopes' XML — most of the work — is decoded on worker threads, a batch of messages
//! at a time, while the reader goes on. Everything that touches the timeline (wires, pairing,
//! findings) is logged as an operation in frame order and applied on the reader thread once the
//! batch's envelopes are back, so the timeline is the one the single-thread path builds.

use super::http::{Message, Start};
use super::prepare::{Prepared, prepare};
use super::reader::NmfEnvelope;
use crate::analysis::Finding;
use crate::trace::Time;
use crate::wsrm;
use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

/// Messages per batch: large enough that a hand-over costs little, small enough that the
/// bodies copied for the workers stay a few MiB.
const BATCH: usize = 256;
/// Batches sent and not yet applied, at most (bounds the copies held).
const MAX_IN_FLIGHT: usize = 4;
/// A batch's buffer kept for the next batch only up to this size (a batch of huge bodies does
/// not pin its memory).
const MAX_SPARE_BYTES: usize = 8 << 20;

/// A timeline operation, in the order the single-thread path performs them.
pub(super) enum Op {
    Finding(Finding),
    /// The next message of the batch: from connection `conn`, between these endpoints.
    Message {
        conn: usize,
        from: u16,
        to: u16,
    },
    Envelope(Box<NmfEnvelope>),
}

/// An HTTP message copied for a worker: its head and body are ranges of the batch's buffer.
struct Job {
    start: Start,
    content_type: Option<String>,
    soap_action: Option<String>,
    head: std::ops::Range<usize>,
    body: std::ops::Range<usize>,
    wire_len: usize,
    first_frame: u32,
    first_offset: u32,
    last_frame: u32,
    time: Time,
}

/// A batch of messages for a worker. Their bytes are copied into one buffer, which comes back
/// with the results and is filled again: the reader thread — the busier one on two cores —
/// allocates nothing per message, and no message's memory is freed on the other thread.
struct JobBatch {
    jobs: Vec<Job>,
    bytes: Vec<u8>,
}

impl Job {
    /// The message again, borrowing the copied bytes.
    fn message<'b>(&mut self, bytes: &'b [u8]) -> Message<'b> {
        Message {
            start: self.start,
            content_type: self.content_type.take(),
            soap_action: self.soap_action.take(),
            head: &bytes[self.head.clone()],
            body: &bytes[self.body.clone()],
            wire_len: self.wire_len,
            first_frame: self.first_frame,
            first_offset: self.first_offset,
            last_frame: self.last_frame,
            time: self.time,
        }
    }
}

struct Worker {
    jobs: Option<Sender<JobBatch>>,
    /// The decoded messages of a batch, and its buffer to fill again.
    done: Receiver<(Vec<Prepared>, Vec<u8>)>,
    thread: Option<JoinHandle<()>>,
}

/// A batch of operations and, once decoded, its messages.
pub(super) struct Batch {
    pub ops: Vec<Op>,
    pub prepared: Vec<Prepared>,
}

pub(super) struct Pipeline {
    ops: Vec<Op>,
    jobs: Vec<Job>,
    bytes: Vec<u8>,
    /// Buffers of applied batches, to fill again.
    spare: Vec<Vec<u8>>,
    workers: Vec<Worker>,
    next: usize,
    /// Batches in order: their operations, and the worker decoding their messages (none when
    /// the batch holds no message).
    in_flight: VecDeque<(Vec<Op>, Option<usize>)>,
}

impl Pipeline {
    /// A pipeline with `workers` decoding threads (at least one).
    pub fn new(workers: usize, opts: &wsrm::Options) -> Pipeline {
        let workers = (0..workers.max(1))
            .map(|i| {
                let (jobs_tx, jobs_rx) = mpsc::channel::<JobBatch>();
                let (done_tx, done_rx) = mpsc::channel();
                let opts = opts.clone();
                let thread = std::thread::Builder::new()
                    .name(format!("rmscope-decode-{i}"))
                    .spawn(move || {
                        for mut batch in jobs_rx {
                            let bytes = &batch.bytes;
                            let out: Vec<Prepared> = batch
                                .jobs
                                .iter_mut()
                                .map(|j| prepare(&j.message(bytes), &opts))
                                .collect();
                            if done_tx.send((out, batch.bytes)).is_err() {
                                break;
                            }
                        }
                    })
                    .expect("spawn a decoding thread");
                Worker {
                    jobs: Some(jobs_tx),
                    done: done_rx,
                    thread: Some(thread),
                }
            })
            .collect();
        Pipeline {
            ops: Vec::new(),
            jobs: Vec::new(),
            bytes: Vec::new(),
            spare: Vec::new(),
            workers,
            next: 0,
            in_flight: VecDeque::new(),
        }
    }

    pub fn finding(&mut self, f: Finding) {
        self.ops.push(Op::Finding(f));
    }

    pub fn envelope(&mut self, e: NmfEnvelope) {
        self.ops.push(Op::Envelope(Box::new(e)));
    }

    pub fn message(&mut self, m: Message<'_>, conn: usize, from: u16, to: u16) {
        self.ops.push(Op::Message { conn, from, to });
        if self.jobs.is_empty() && self.bytes.capacity() == 0 {
            self.bytes = self.spare.pop().unwrap_or_default();
        }
        let mut copy = |b: &[u8]| {
            let at = self.bytes.len();
            self.bytes.extend_from_slice(b);
            at..self.bytes.len()
        };
        let (head, body) = (copy(m.head), copy(m.body));
        self.jobs.push(Job {
            start: m.start,
            content_type: m.content_type,
            soap_action: m.soap_action,
            head,
            body,
            wire_len: m.wire_len,
            first_frame: m.first_frame,
            first_offset: m.first_offset,
            last_frame: m.last_frame,
            time: m.time,
        });
    }

    /// Sends the current batch to a worker when it is full (`all`: whatever it holds).
    fn send(&mut self, all: bool) {
        let full = self.jobs.len() >= BATCH;
        let last = all && !self.ops.is_empty();
        if !full && !last {
            return;
        }
        let ops = std::mem::take(&mut self.ops);
        let worker = if self.jobs.is_empty() {
            None
        } else {
            let w = self.next;
            self.next = (self.next + 1) % self.workers.len();
            let batch = JobBatch {
                jobs: std::mem::take(&mut self.jobs),
                bytes: std::mem::take(&mut self.bytes),
            };
            let sent = self.workers[w]
                .jobs
                .as_ref()
                .is_some_and(|tx| tx.send(batch).is_ok());
            assert!(sent, "a decoding thread stopped");
            Some(w)
        };
        self.in_flight.push_back((ops, worker));
    }

    /// The oldest batch, when it is due: its envelopes are back, too many batches are out, or
    /// `all` (the end: every batch, waiting for the workers).
    pub fn poll(&mut self, all: bool) -> Option<Batch> {
        self.send(all);
        let must_wait = all || self.in_flight.len() > MAX_IN_FLIGHT;
        let (_, worker) = self.in_flight.front()?;
        let prepared = match *worker {
            None => Vec::new(),
            Some(w) => {
                let (prepared, mut bytes) = if must_wait {
                    self.workers[w].done.recv().expect("a decoding thread stopped")
                } else {
                    self.workers[w].done.try_recv().ok()?
                };
                if bytes.capacity() <= MAX_SPARE_BYTES && self.spare.len() <= MAX_IN_FLIGHT {
                    bytes.clear();
                    self.spare.push(bytes);
                }
                prepared
            }
        };
        let (ops, _) = self.in_flight.pop_front()?;
        Some(Batch { ops, prepared })
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        for w in &mut self.workers {
            w.jobs = None; // the thread's loop ends
        }
        for w in &mut self.workers {
            if let Some(t) = w.thread.take() {
                let _ = t.join();
            }
        }
    }
}
