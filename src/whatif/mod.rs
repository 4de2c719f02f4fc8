//! From a recording to a model of it and back: fit the embedded pair to a recorded sequence
//! (settings, link, workload), re-run it, compare recorded with model, turn findings into
//! advice with the model's numbers, and sweep settings over a grid.
//!
//! Both sides of every comparison are measured the same way: the recording's timeline and the
//! model's timeline (seen from the RM source's host, as a capture there is) go through the one
//! analysis, and [`Outcome`] reads its summary.

pub mod advice;
pub mod fit;
pub mod rerun;
pub mod sweep;

use crate::analysis::SequenceSummary;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// What a sequence did, in the numbers recorded and model are compared by.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Outcome {
    /// Distinct message numbers (the application's and 2005/02's LastMessage).
    pub messages: f64,
    pub transmissions: f64,
    pub retransmissions: f64,
    pub acks: f64,
    /// Median seconds from a message's first copy to the first ack covering it.
    pub ack_latency_median: Option<f64>,
    pub max_in_flight: f64,
    /// Seconds from the sequence's first wire to its last.
    pub duration: f64,
    /// Messages per second over `duration`.
    pub goodput: f64,
    pub faults: f64,
}

impl Outcome {
    pub fn of(s: &SequenceSummary) -> Outcome {
        let duration = (s.last_time - s.first_time).max(0.0);
        Outcome {
            messages: s.messages as f64,
            transmissions: s.transmissions as f64,
            retransmissions: s.retransmissions as f64,
            acks: s.acks as f64,
            ack_latency_median: s.ack_latency.as_ref().map(|l| l.median),
            max_in_flight: f64::from(s.max_in_flight),
            duration,
            goodput: if duration > 0.0 {
                s.messages as f64 / duration
            } else {
                0.0
            },
            faults: s.faults as f64,
        }
    }

    /// The mean of several runs (a latency is averaged over the runs that have one).
    pub fn mean(runs: &[Outcome]) -> Outcome {
        let n = runs.len().max(1) as f64;
        let avg = |f: fn(&Outcome) -> f64| runs.iter().map(f).sum::<f64>() / n;
        let latencies: Vec<f64> = runs.iter().filter_map(|r| r.ack_latency_median).collect();
        Outcome {
            messages: avg(|r| r.messages),
            transmissions: avg(|r| r.transmissions),
            retransmissions: avg(|r| r.retransmissions),
            acks: avg(|r| r.acks),
            ack_latency_median: (!latencies.is_empty())
                .then(|| latencies.iter().sum::<f64>() / latencies.len() as f64),
            max_in_flight: avg(|r| r.max_in_flight),
            duration: avg(|r| r.duration),
            goodput: avg(|r| r.goodput),
            faults: avg(|r| r.faults),
        }
    }

    /// The rows of a recorded-vs-model table: (name, value of each, digits).
    pub fn rows(&self) -> Vec<(&'static str, Option<f64>, usize)> {
        vec![
            ("messages", Some(self.messages), 0),
            ("transmissions", Some(self.transmissions), 1),
            ("retransmissions", Some(self.retransmissions), 1),
            ("acks", Some(self.acks), 1),
            (
                "median ack latency [ms]",
                self.ack_latency_median.map(|l| l * 1e3),
                1,
            ),
            ("most in flight", Some(self.max_in_flight), 1),
            ("duration [s]", Some(self.duration), 3),
            ("goodput [msg/s]", Some(self.goodput), 1),
            ("faults", Some(self.faults), 1),
        ]
    }
}

/// A run of a grid or of several seeds was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancelled;

/// `f` over `items` on every core, results in `items`' order. `done` counts finished items
/// (a progress bar reads it); `cancel` stops the workers after the items they are running.
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
    done: &AtomicUsize,
    cancel: &AtomicBool,
) -> Result<Vec<R>, Cancelled> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let mut slots: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    let results = std::sync::Mutex::new(&mut slots);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    if cancel.load(Ordering::Relaxed) {
                        return;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else {
                        return;
                    };
                    let r = f(item);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    if cancel.load(Ordering::Relaxed) {
        return Err(Cancelled);
    }
    Ok(slots.into_iter().map(|r| r.expect("every item ran")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn par_map_keeps_the_order_and_counts_progress() {
        let items: Vec<u64> = (0..100).collect();
        let done = AtomicUsize::new(0);
        let out = par_map(&items, |x| x * 2, &done, &AtomicBool::new(false)).unwrap();
        assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        assert_eq!(done.load(Ordering::Relaxed), 100);
        let cancel = AtomicBool::new(true);
        assert_eq!(par_map(&items, |x| *x, &done, &cancel), Err(Cancelled));
    }
}
