//! A timeline as one endpoint's host would have captured it. The simulator records every wire
//! when it leaves its sender (lost copies too); a capture on one machine sees that machine's
//! own messages when they leave and the peer's when they arrive — and not the peer's messages
//! the link lost. Round trips, ack latencies and the profile's fitted link are only comparable
//! between a recording and a model when both are seen from the same point.

use super::{EventKind, SeqIdx, Time, Timeline};
use rustc_hash::FxHashMap;

impl Timeline {
    /// The wires `endpoint` sent (at their send time) and received (at each arrival), in time
    /// order; wires between other endpoints and copies that never reached it are left out.
    pub fn seen_at(&self, endpoint: u16) -> Timeline {
        // (time seen, old wire index), in the order things happened.
        let mut seen: Vec<(Time, u32)> = Vec::new();
        let mut sent_event = vec![false; self.wires.len()];
        for e in &self.events {
            match e.kind {
                EventKind::Sent { wire, .. } if self.wire_from(wire, endpoint) => {
                    sent_event[wire as usize] = true;
                    seen.push((e.time, wire));
                }
                EventKind::Arrived { wire } if self.wire_to(wire, endpoint) => seen.push((e.time, wire)),
                _ => {}
            }
        }
        // A timeline without send events (a capture, a log) times each wire when it left.
        for (i, w) in self.wires.iter().enumerate() {
            if w.from == endpoint && w.from != w.to && !sent_event[i] {
                seen.push((w.time, i as u32));
            }
        }
        // Stable: a wire received at the instant another is sent keeps the recorded order.
        seen.sort_by_key(|&(t, i)| (t, i));
        let mut first: FxHashMap<u32, u32> = FxHashMap::default();
        let mut out = Timeline {
            endpoints: self.endpoints.clone(),
            sequences: self.sequences.clone(),
            acks: self.acks.clone(),
            ranges: self.ranges.clone(),
            ..Timeline::default()
        };
        for (i, e) in out.endpoints.iter().enumerate() {
            out.endpoint_by_name.insert(e.clone(), i as u16);
        }
        for (i, s) in out.sequences.iter().enumerate() {
            out.seq_by_id.insert(s.identifier.clone(), SeqIdx(i as u32));
        }
        for (t, old) in seen {
            let mut w = self.wires.at(old as usize);
            w.time = t;
            first.entry(old).or_insert(out.wires.len() as u32);
            out.wires.push(w);
        }
        out.events = self
            .events
            .iter()
            .filter_map(|e| {
                let mut e = *e;
                let remap = |w: u32| first.get(&w).copied();
                e.kind = match e.kind {
                    EventKind::Sent { wire, attempt } => EventKind::Sent {
                        wire: remap(wire)?,
                        attempt,
                    },
                    EventKind::Arrived { wire } => EventKind::Arrived { wire: remap(wire)? },
                    EventKind::Lost { wire, scripted } => EventKind::Lost {
                        wire: remap(wire)?,
                        scripted,
                    },
                    other => other,
                };
                Some(e)
            })
            .collect();
        out.replies = self
            .replies
            .iter()
            .filter_map(|&(r, q)| Some((*first.get(&r)?, *first.get(&q)?)))
            .collect();
        out.replies.sort_unstable();
        out.http_lines = self
            .http_lines
            .iter()
            .filter_map(|(w, l)| Some((*first.get(w)?, l.clone())))
            .collect();
        out.http_lines.sort_by_key(|(w, _)| *w);
        out
    }

    fn wire_from(&self, wire: u32, endpoint: u16) -> bool {
        self.wires.get(wire as usize).is_some_and(|w| w.from == endpoint)
    }

    fn wire_to(&self, wire: u32, endpoint: u16) -> bool {
        self.wires
            .get(wire as usize)
            .is_some_and(|w| w.to == endpoint && w.from != endpoint)
    }
}

#[cfg(test)]
mod tests {
    use crate::netsim::DropRule;
    use crate::sim::{SimConfig, Simulation};
    use crate::trace::WireKind;
    use std::time::Duration;

    fn run(cfg: SimConfig) -> crate::trace::Timeline {
        let mut sim = Simulation::new(cfg).unwrap();
        sim.run();
        sim.take_timeline()
    }

    #[test]
    fn the_client_sees_its_own_sends_at_once_and_the_service_a_delay_later() {
        let mut cfg = SimConfig::default();
        cfg.workload.messages = 3;
        cfg.forward.delay = Duration::from_millis(10);
        cfg.backward.delay = Duration::from_millis(30);
        let t = run(cfg);
        let client = t.wires.at(0).from;
        let v = t.seen_at(client);
        // CreateSequence at 0 from the client; its response left the service at 10 ms and
        // reached the client 30 ms later.
        assert_eq!(v.wires.at(0).kind, WireKind::CreateSequence);
        assert_eq!(v.wires.at(0).time.as_secs_f64(), 0.0);
        assert_eq!(v.wires.at(1).kind, WireKind::CreateSequenceResponse);
        assert!((v.wires.at(1).time.as_secs_f64() - 0.040).abs() < 1e-9);
        assert!(v.wires.to_vec().windows(2).all(|p| p[0].time <= p[1].time));
        assert_eq!(v.wires.len(), t.wires.len());
    }

    #[test]
    fn acks_the_link_lost_are_not_in_the_client_capture() {
        let mut cfg = SimConfig::default();
        cfg.workload.messages = 5;
        cfg.backward_script = vec![DropRule::NextAcks { count: 1 }];
        let t = run(cfg);
        let client = t.wires.at(0).from;
        let acks = |t: &crate::trace::Timeline| t.wires.iter().filter(|w| w.kind == WireKind::Ack).count();
        let v = t.seen_at(client);
        assert_eq!(acks(&v) + 1, acks(&t));
        // The service sees every ack it sent, and only the client's copies that arrived.
        let service = t.wires.at(1).from;
        let s = t.seen_at(service);
        assert_eq!(acks(&s), acks(&t));
        // The same messages (5 and 2005/02's LastMessage), fewer acks.
        let (a, all) = (
            crate::analysis::analyze(&v, &Default::default()),
            crate::analysis::analyze(&t, &Default::default()),
        );
        assert_eq!(a.sequences[0].messages, 6);
        assert_eq!(all.sequences[0].messages, 6);
        assert_eq!(a.sequences[0].acks + 1, all.sequences[0].acks);
    }
}
