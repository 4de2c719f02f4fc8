//! Scripted drops for teaching: "drop the first transmission of message 5", "drop the next ack".

use super::Packet;
use crate::trace::{Time, WireKind};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum DropRule {
    /// Drop transmission `attempt` (0 = the first) of message `number`.
    Message { number: u64, attempt: u32 },
    /// Drop every transmission of message `number` (exhausts retries).
    AllOf { number: u64 },
    /// Drop the next `count` messages that carry an acknowledgement.
    NextAcks { count: u32 },
    /// Drop the next `count` messages of a kind.
    NextOfKind { kind: WireKind, count: u32 },
    /// Drop the next message, whatever it is.
    Next,
    /// Drop everything sent between two times (a cable pulled).
    Outage { from: Time, until: Time },
}

#[derive(Clone, Debug, Default)]
pub struct Script {
    rules: Vec<DropRule>,
    /// Transmissions seen per message number (only numbers a rule names).
    attempts: HashMap<u64, u32>,
}

impl Script {
    pub fn new(rules: Vec<DropRule>) -> Self {
        Script {
            rules,
            attempts: HashMap::new(),
        }
    }

    pub fn push(&mut self, rule: DropRule) {
        self.rules.push(rule);
    }

    /// "Drop the next …" rules not yet spent (what the app's buttons arm), in messages.
    pub fn armed(&self) -> u32 {
        self.rules
            .iter()
            .map(|r| match r {
                DropRule::Next => 1,
                DropRule::NextAcks { count } | DropRule::NextOfKind { count, .. } => *count,
                _ => 0,
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn should_drop(&mut self, now: Time, p: &Packet) -> bool {
        if self.rules.is_empty() {
            return false;
        }
        let attempt = if p.kind.is_sequenced()
            && self
                .rules
                .iter()
                .any(|r| matches!(r, DropRule::Message { number, .. } if *number == p.number))
        {
            let a = self.attempts.entry(p.number).or_insert(0);
            *a += 1;
            Some(*a - 1)
        } else {
            None
        };
        let mut drop = false;
        let mut spent = None;
        for (i, rule) in self.rules.iter_mut().enumerate() {
            let hit = match rule {
                DropRule::Message {
                    number,
                    attempt: want,
                } => p.kind.is_sequenced() && p.number == *number && attempt == Some(*want),
                DropRule::AllOf { number } => p.kind.is_sequenced() && p.number == *number,
                DropRule::NextAcks { count } if p.has_ack && *count > 0 => {
                    *count -= 1;
                    true
                }
                DropRule::NextOfKind { kind, count } if p.kind == *kind && *count > 0 => {
                    *count -= 1;
                    true
                }
                DropRule::Next => {
                    spent = Some(i);
                    true
                }
                DropRule::Outage { from, until } => now >= *from && now < *until,
                _ => false,
            };
            if hit {
                drop = true;
                break;
            }
        }
        if let Some(i) = spent {
            self.rules.remove(i);
        }
        drop
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(kind: WireKind, number: u64, has_ack: bool) -> Packet {
        Packet {
            kind,
            number,
            has_ack,
            size: 0,
        }
    }

    #[test]
    fn drops_first_transmission_of_five_only() {
        let mut s = Script::new(vec![DropRule::Message {
            number: 5,
            attempt: 0,
        }]);
        assert!(!s.should_drop(Time::ZERO, &p(WireKind::Data, 4, false)));
        assert!(s.should_drop(Time::ZERO, &p(WireKind::Data, 5, false)));
        assert!(!s.should_drop(Time::ZERO, &p(WireKind::Data, 5, false)));
    }

    #[test]
    fn drops_next_ack_once() {
        let mut s = Script::new(vec![DropRule::NextAcks { count: 1 }]);
        assert!(!s.should_drop(Time::ZERO, &p(WireKind::Data, 1, false)));
        assert!(s.should_drop(Time::ZERO, &p(WireKind::Ack, 0, true)));
        assert!(!s.should_drop(Time::ZERO, &p(WireKind::Ack, 0, true)));
    }

    #[test]
    fn outage_window() {
        let mut s = Script::new(vec![DropRule::Outage {
            from: Time::from_millis(10),
            until: Time::from_millis(20),
        }]);
        assert!(!s.should_drop(Time::from_millis(9), &p(WireKind::Data, 1, false)));
        assert!(s.should_drop(Time::from_millis(10), &p(WireKind::Ack, 1, true)));
        assert!(!s.should_drop(Time::from_millis(20), &p(WireKind::Data, 1, false)));
    }
}
