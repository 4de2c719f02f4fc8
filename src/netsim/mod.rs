//! A seeded, one-direction network link: loss (independent or Gilbert–Elliott bursts), delay,
//! jitter, reordering, duplication, a rate limit, and scripted drops for teaching. Same seed and
//! settings ⇒ same fate for every message.

mod script;

pub use script::{DropRule, Script};

use crate::trace::{Time, WireKind};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::Serialize;
use std::time::Duration;

/// Two-state burst loss (Gilbert–Elliott): in the good state messages are lost with
/// `loss_good`, in the bad state with `loss_bad`; per message the state flips with
/// `p_good_to_bad` / `p_bad_to_good`. Mean burst length is 1 / p_bad_to_good.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct GilbertElliott {
    pub p_good_to_bad: f64,
    pub p_bad_to_good: f64,
    pub loss_good: f64,
    pub loss_bad: f64,
}

impl GilbertElliott {
    /// A burst model with mean loss rate `loss` and mean burst length `burst` messages
    /// (loss only in the bad state).
    pub fn from_mean(loss: f64, burst: f64) -> Self {
        let r = 1.0 / burst.max(1.0);
        let loss = loss.clamp(0.0, 0.99);
        // Stationary P(bad) = p / (p + r) = loss.
        let p = (loss * r / (1.0 - loss)).min(1.0);
        GilbertElliott {
            p_good_to_bad: p,
            p_bad_to_good: r,
            loss_good: 0.0,
            loss_bad: 1.0,
        }
    }
}

/// Impairments of one direction.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct LinkConfig {
    /// Independent loss probability (ignored when `burst` is set).
    pub loss: f64,
    pub burst: Option<GilbertElliott>,
    pub delay: Duration,
    /// Each message's delay varies uniformly within ±jitter (never below zero).
    pub jitter: Duration,
    /// Probability that a message is held back (extra delay) so later ones overtake it.
    pub reorder: f64,
    /// Probability that a message arrives twice.
    pub duplicate: f64,
    /// Bytes per second (None: unlimited). Messages queue behind each other.
    pub rate: Option<u64>,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            loss: 0.0,
            burst: None,
            delay: Duration::from_millis(50),
            jitter: Duration::ZERO,
            reorder: 0.0,
            duplicate: 0.0,
            rate: None,
        }
    }
}

impl LinkConfig {
    pub fn validate(&self) -> Result<(), String> {
        for (name, p) in [
            ("loss", self.loss),
            ("reorder", self.reorder),
            ("dup", self.duplicate),
        ] {
            if !(0.0..=1.0).contains(&p) || p.is_nan() {
                return Err(format!("{name} must be a probability between 0 and 1, not {p}"));
            }
        }
        if let Some(b) = self.burst {
            for p in [b.p_good_to_bad, b.p_bad_to_good, b.loss_good, b.loss_bad] {
                if !(0.0..=1.0).contains(&p) || p.is_nan() {
                    return Err("burst parameters must be probabilities between 0 and 1".into());
                }
            }
        }
        if self.rate == Some(0) {
            return Err("rate must be greater than 0".into());
        }
        Ok(())
    }
}

/// What a message looks like to the link (enough for scripted drops).
#[derive(Clone, Copy, Debug)]
pub struct Packet {
    pub kind: WireKind,
    /// Message number for sequenced kinds.
    pub number: u64,
    /// Carries a SequenceAcknowledgement.
    pub has_ack: bool,
    pub size: u32,
}

/// Why the link dropped a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drop {
    Random,
    Scripted,
}

pub struct Link {
    cfg: LinkConfig,
    script: Script,
    rng: Pcg64Mcg,
    bad_state: bool,
    busy_until: Time,
}

impl Link {
    pub fn new(cfg: LinkConfig, script: Script, seed: u64) -> Self {
        Link {
            cfg,
            script,
            rng: Pcg64Mcg::seed_from_u64(seed),
            bad_state: false,
            busy_until: Time::ZERO,
        }
    }

    pub fn config(&self) -> &LinkConfig {
        &self.cfg
    }

    /// "Drop next" rules still waiting for their message.
    pub fn armed(&self) -> u32 {
        self.script.armed()
    }

    /// Adds a scripted rule while running ("drop next ack" buttons).
    pub fn push_rule(&mut self, rule: DropRule) {
        self.script.push(rule);
    }

    /// The fate of one message sent at `now`: the arrival times (one, or two if duplicated),
    /// or why it was dropped. Random draws happen in a fixed order for determinism.
    pub fn transmit(&mut self, now: Time, p: Packet) -> Result<([Time; 2], usize), Drop> {
        // Draw only what the configuration uses: for a given config the sequence of draws is
        // fixed, so runs stay deterministic.
        let mut draw = |on: bool| if on { self.rng.random::<f64>() } else { 1.0 };
        let u_loss: f64 = draw(true);
        let u_state = draw(self.cfg.burst.is_some());
        let u_jitter = draw(!self.cfg.jitter.is_zero());
        let u_reorder = draw(self.cfg.reorder > 0.0);
        let u_dup = draw(self.cfg.duplicate > 0.0);
        let u_jitter2 = draw(self.cfg.duplicate > 0.0 && !self.cfg.jitter.is_zero());
        if self.script.should_drop(now, &p) {
            return Err(Drop::Scripted);
        }
        let lost = match self.cfg.burst {
            Some(ge) => {
                let flip = if self.bad_state {
                    ge.p_bad_to_good
                } else {
                    ge.p_good_to_bad
                };
                if u_state < flip {
                    self.bad_state = !self.bad_state;
                }
                u_loss < if self.bad_state { ge.loss_bad } else { ge.loss_good }
            }
            None => u_loss < self.cfg.loss,
        };
        if lost {
            return Err(Drop::Random);
        }
        let departure = match self.cfg.rate {
            Some(rate) => {
                let tx = Duration::from_nanos((p.size as u64).saturating_mul(1_000_000_000) / rate.max(1));
                let start = now.max(self.busy_until);
                self.busy_until = start + tx;
                self.busy_until
            }
            None => now,
        };
        let first = departure + self.delay(u_jitter, u_reorder);
        if u_dup < self.cfg.duplicate {
            let second = departure + self.delay(u_jitter2, 1.0);
            Ok(([first, second], 2))
        } else {
            Ok(([first, first], 1))
        }
    }

    /// Base delay ± jitter (uniform), plus a hold-back of at least one base delay when the
    /// message is reordered. Integer nanoseconds.
    fn delay(&self, u_jitter: f64, u_reorder: f64) -> Duration {
        let base = self.cfg.delay.as_nanos() as i128;
        let j = self.cfg.jitter.as_nanos() as i128;
        let mut d = base;
        if j > 0 {
            d += ((u_jitter * 2.0 - 1.0) * j as f64) as i128;
        }
        if u_reorder < self.cfg.reorder {
            d += base.max(5_000_000) + j;
        }
        Duration::from_nanos(d.clamp(0, u64::MAX as i128) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: u64) -> Packet {
        Packet {
            kind: WireKind::Data,
            number: n,
            has_ack: false,
            size: 1000,
        }
    }

    #[test]
    fn same_seed_same_fate() {
        let cfg = LinkConfig {
            loss: 0.3,
            jitter: Duration::from_millis(10),
            reorder: 0.1,
            duplicate: 0.1,
            ..LinkConfig::default()
        };
        let run = |seed| {
            let mut l = Link::new(cfg.clone(), Script::default(), seed);
            (0..200)
                .map(|n| l.transmit(Time::from_millis(n), data(n)))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn loss_rate_is_about_right() {
        let mut l = Link::new(
            LinkConfig {
                loss: 0.05,
                ..LinkConfig::default()
            },
            Script::default(),
            1,
        );
        let lost = (0..100_000)
            .filter(|&n| l.transmit(Time::ZERO, data(n)).is_err())
            .count();
        assert!((4_500..5_500).contains(&lost), "{lost}");
    }

    #[test]
    fn bursts_have_the_requested_mean() {
        let ge = GilbertElliott::from_mean(0.05, 4.0);
        let mut l = Link::new(
            LinkConfig {
                burst: Some(ge),
                ..LinkConfig::default()
            },
            Script::default(),
            3,
        );
        let fates: Vec<bool> = (0..200_000)
            .map(|n| l.transmit(Time::ZERO, data(n)).is_err())
            .collect();
        let lost = fates.iter().filter(|x| **x).count() as f64;
        let bursts = fates.windows(2).filter(|w| !w[0] && w[1]).count() as f64;
        assert!((0.04..0.06).contains(&(lost / 200_000.0)), "{}", lost / 200_000.0);
        assert!(
            (3.5..4.5).contains(&(lost / bursts)),
            "mean burst {}",
            lost / bursts
        );
    }

    #[test]
    fn rate_limit_queues_messages() {
        let cfg = LinkConfig {
            delay: Duration::ZERO,
            rate: Some(1_000_000),
            ..LinkConfig::default()
        };
        let mut l = Link::new(cfg, Script::default(), 1);
        let a = l.transmit(Time::ZERO, data(1)).unwrap().0[0];
        let b = l.transmit(Time::ZERO, data(2)).unwrap().0[0];
        assert_eq!(a, Time::from_millis(1));
        assert_eq!(b, Time::from_millis(2));
    }
}
