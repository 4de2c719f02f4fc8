//! A set of message numbers as sorted, coalesced inclusive ranges (WCF SequenceRangeCollection).

use crate::wsrm::{AckRange, MessageNumber};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ranges {
    /// Sorted, disjoint, non-adjacent (coalesced) inclusive ranges.
    ranges: Vec<(u64, u64)>,
}

impl Ranges {
    pub fn new() -> Self {
        Ranges::default()
    }

    pub fn from_ranges(list: &[AckRange]) -> Self {
        let mut r = Ranges::new();
        for a in list {
            r.insert_range(a.lower.get(), a.upper.get());
        }
        r
    }

    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.ranges.iter().copied()
    }

    /// Index of the first range whose upper bound is ≥ n.
    fn position(&self, n: u64) -> usize {
        self.ranges.partition_point(|&(_, hi)| hi < n)
    }

    pub fn contains(&self, n: u64) -> bool {
        self.ranges.get(self.position(n)).is_some_and(|&(lo, _)| lo <= n)
    }

    /// Adds `n`; returns false if it was already present.
    pub fn insert(&mut self, n: u64) -> bool {
        if self.contains(n) {
            return false;
        }
        self.insert_range(n, n);
        true
    }

    /// Adds `lo..=hi`, coalescing with neighbours (adjacent ranges merge: 1-2 + 3 = 1-3).
    pub fn insert_range(&mut self, lo: u64, hi: u64) {
        // Fast path: extending the last range (in-order arrival), or a new last range.
        if let Some(last) = self.ranges.last_mut() {
            if lo > last.1.saturating_add(1) {
                self.ranges.push((lo, hi));
                return;
            }
            // Starts inside or right after the last range: earlier ranges end before last.0.
            if lo >= last.0 {
                last.1 = last.1.max(hi);
                return;
            }
        } else {
            self.ranges.push((lo, hi));
            return;
        }
        let start = self.ranges.partition_point(|&(_, h)| h.saturating_add(1) < lo);
        let mut end = start;
        let (mut new_lo, mut new_hi) = (lo, hi);
        while end < self.ranges.len() && self.ranges[end].0 <= hi.saturating_add(1) {
            new_lo = new_lo.min(self.ranges[end].0);
            new_hi = new_hi.max(self.ranges[end].1);
            end += 1;
        }
        self.ranges.splice(start..end, [(new_lo, new_hi)]);
    }

    /// How many ranges there would be after inserting `n` (WCF CanMerge, unordered limit).
    pub fn len_after_insert(&self, n: u64) -> usize {
        if self.contains(n) {
            return self.len();
        }
        let i = self.position(n);
        let joins_prev = i > 0 && self.ranges[i - 1].1 + 1 == n;
        let joins_next = self.ranges.get(i).is_some_and(|&(lo, _)| lo == n + 1);
        match (joins_prev, joins_next) {
            (true, true) => self.len() - 1,
            (false, false) => self.len() + 1,
            _ => self.len(),
        }
    }

    /// Highest number present.
    pub fn highest(&self) -> u64 {
        self.ranges.last().map_or(0, |r| r.1)
    }

    /// True when the set is exactly 1..=last (WCF ReliableInputConnection.AllAdded).
    pub fn is_exactly_one_to(&self, last: u64) -> bool {
        match self.ranges.as_slice() {
            [] => last == 0,
            [(1, hi)] => *hi == last,
            _ => false,
        }
    }

    /// The numbers from 1 up to the first gap: everything deliverable in order.
    pub fn contiguous_from_one(&self) -> u64 {
        match self.ranges.first() {
            Some(&(1, hi)) => hi,
            _ => 0,
        }
    }

    /// Total count of numbers in the set.
    pub fn count(&self) -> u64 {
        self.ranges.iter().map(|&(lo, hi)| hi - lo + 1).sum()
    }

    /// The parts of `lo..=hi` that are not in the set.
    pub fn missing_within(&self, lo: u64, hi: u64) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut at = lo;
        let start = self.ranges.partition_point(|&(_, h)| h < lo);
        for &(l, h) in &self.ranges[start..] {
            if l > hi {
                break;
            }
            if l > at {
                out.push((at, l - 1));
            }
            at = at.max(h.saturating_add(1));
            if at > hi {
                return out;
            }
        }
        if at <= hi {
            out.push((at, hi));
        }
        out
    }

    pub fn to_ack_ranges(&self) -> Vec<AckRange> {
        self.ranges
            .iter()
            .filter_map(|&(lo, hi)| {
                Some(AckRange {
                    lower: MessageNumber::new(lo)?,
                    upper: MessageNumber::new(hi)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalesces_and_counts() {
        let mut r = Ranges::new();
        for n in [1, 2, 5, 7, 6, 3] {
            assert!(r.insert(n));
        }
        assert!(!r.insert(2));
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![(1, 3), (5, 7)]);
        assert_eq!(r.len_after_insert(4), 1);
        assert_eq!(r.len_after_insert(9), 3);
        assert_eq!(r.len_after_insert(8), 2);
        assert!(r.contains(6) && !r.contains(4) && !r.contains(0));
        r.insert(4);
        assert!(r.is_exactly_one_to(7));
        assert_eq!(r.contiguous_from_one(), 7);
        r.insert_range(20, 30);
        r.insert_range(9, 21);
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![(1, 7), (9, 30)]);
        r.insert_range(8, 8);
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![(1, 30)]);
        assert_eq!(r.count(), 30);
        r.insert_range(40, 50);
        assert_eq!(r.missing_within(25, 60), vec![(31, 39), (51, 60)]);
        assert_eq!(r.missing_within(2, 20), vec![]);
        assert_eq!(r.missing_within(0, 0), vec![(0, 0)]);
    }
}
