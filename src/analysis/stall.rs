//! Why a live session has sent nothing for a while, from the timeline's engine events: the
//! transfer window full, the destination's quota (BufferRemaining) at 0, or the retransmission
//! timer pending (when it fires, and how many times it has backed off since the last slide).

use crate::trace::{EventKind, Side, Time, Timeline, Timer};

/// One line for the status bar, when nothing has left the source for `idle` before `now`.
pub fn why(t: &Timeline, now: Time, idle: Time) -> Option<String> {
    let last_sent = t.wires.last().map_or(Time::ZERO, |w| w.time);
    if now.0.saturating_sub(last_sent.0) < idle.0 || t.wires.is_empty() {
        return None;
    }
    let silent = (now.0 - last_sent.0) as f64 / 1e9;
    // The source's latest window state, its timer's latest arm/stop, and the expiries since the
    // last reset (stop or RTT sample) — read from the end: this runs every frame of a live run.
    let mut window = None;
    let mut timer: Option<Option<Time>> = None;
    let mut backoffs = 0u32;
    let mut counting = true;
    for e in t.events.iter().rev().filter(|e| e.side == Side::Source) {
        match e.kind {
            EventKind::Window {
                window: w,
                in_flight,
                quota,
                ..
            } if window.is_none() => window = Some((w, in_flight, quota)),
            EventKind::TimerArmed {
                timer: Timer::Retransmission,
                at,
            } if timer.is_none() => timer = Some(Some(at)),
            EventKind::TimerStopped {
                timer: Timer::Retransmission,
            } => {
                timer.get_or_insert(None);
                counting = false;
            }
            EventKind::TimerFired {
                timer: Timer::Retransmission,
            } if counting => backoffs += 1,
            EventKind::Rtt { .. } => counting = false,
            _ => {}
        }
        if window.is_some() && timer.is_some() && !counting {
            break;
        }
    }
    let timer_at = timer.flatten();
    let mut reasons = Vec::new();
    match window {
        Some((_, _, quota)) if quota <= 0 => {
            reasons.push("the destination's buffer is full (BufferRemaining 0: quota 0)".to_string())
        }
        Some((w, in_flight, _)) if in_flight >= w => reasons.push(format!(
            "the transfer window is full ({in_flight} of {w} in flight)"
        )),
        _ => {}
    }
    if let Some(at) = timer_at.filter(|at| *at > now) {
        let backoff = if backoffs > 0 {
            format!(", backed off ×{}", 1u64 << backoffs.min(20))
        } else {
            String::new()
        };
        reasons.push(format!(
            "waiting on the retransmission timer: next expiry at {:.3} s{backoff}",
            at.as_secs_f64()
        ));
    }
    if reasons.is_empty() {
        return None;
    }
    Some(format!("Nothing sent for {silent:.1} s: {}", reasons.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{SimConfig, Simulation};

    #[test]
    fn a_stalled_run_says_it_waits_on_the_timer_with_its_backoff() {
        // Every copy of message 3 is lost: the window stops at it and the timer backs off.
        let mut cfg = SimConfig::default();
        cfg.workload.messages = 5;
        cfg.settings.max_retry_count = 6;
        cfg.forward_script = vec![crate::netsim::DropRule::AllOf { number: 3 }];
        cfg.record = true;
        let mut sim = Simulation::new(cfg).unwrap();
        sim.run();
        let t = sim.take_timeline();
        // Just after the third expiry, before the fourth.
        let fires: Vec<Time> = t
            .events
            .iter()
            .filter(|e| {
                e.side == Side::Source
                    && matches!(
                        e.kind,
                        EventKind::TimerFired {
                            timer: Timer::Retransmission
                        }
                    )
            })
            .map(|e| e.time)
            .collect();
        assert!(fires.len() >= 4, "{fires:?}");
        let now = Time(fires[2].0 + 1);
        let mut cut = t.clone();
        cut.wires.retain(|w| w.time <= now);
        cut.events.retain(|e| e.time <= now);
        let line = why(&cut, Time(fires[3].0 - 1), Time::from_millis(100)).expect("a reason");
        assert!(
            line.contains("waiting on the retransmission timer: next expiry at"),
            "{line}"
        );
        assert!(line.contains("backed off ×8"), "{line}");
        // A run cut short has no end-of-session findings until it has ended.
        let opts = |ended| crate::analysis::Options {
            ended,
            ..crate::analysis::Options::default()
        };
        let running = crate::analysis::analyze(&cut, &opts(false));
        assert!(
            running
                .findings
                .iter()
                .all(|f| !f.text.contains("never terminated"))
        );
        let ended = crate::analysis::analyze(&cut, &opts(true));
        assert!(ended.findings.iter().any(|f| f.text.contains("never terminated")));
        // While messages flow there is nothing to say.
        assert_eq!(
            why(
                &cut,
                Time(cut.wires.last().unwrap().time.0 + 1),
                Time::from_secs(1)
            ),
            None
        );
    }
}
