//! Property: over any seeded lossy, duplicating, reordering link, in both WS-RM versions,
//! ordered or not, every message is delivered exactly once (in order when ordered), or the
//! session faults for a reason the settings explain.

use proptest::prelude::*;
use rmscope::netsim::LinkConfig;
use rmscope::sim::{SimConfig, Simulation};
use rmscope::trace::FaultCause;
use rmscope::wsrm::{RmFault, RmVersion};
use std::time::Duration;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn delivered_exactly_once_or_an_explained_fault(
        seed in any::<u64>(),
        loss in 0.0f64..=0.5,
        dup in 0.0f64..=0.2,
        reorder in 0.0f64..=0.3,
        jitter_ms in 0u64..40,
        v11 in any::<bool>(),
        ordered in any::<bool>(),
        window in 1u32..=16,
        messages in 1u64..60,
    ) {
        let mut c = SimConfig { seed, ..SimConfig::default() };
        c.settings.reliable_messaging_version = if v11 { RmVersion::V1_1 } else { RmVersion::Feb2005 };
        c.settings.ordered = ordered;
        c.settings.max_transfer_window_size = window;
        c.workload.messages = messages;
        c.record = false;
        // WCF's RTO has no ceiling: at 50 % loss keep-alive-stretched samples can push it past
        // a day, so give runs a long (virtual, cheap) horizon.
        c.time_limit = Duration::from_secs(400 * 86_400);
        c.through_codec = seed % 4 == 0;
        c.forward = LinkConfig { loss, duplicate: dup, reorder, jitter: Duration::from_millis(jitter_ms), ..LinkConfig::default() };
        c.backward = c.forward.clone();
        let mut sim = Simulation::new(c).unwrap();
        let r = sim.run();
        prop_assert_eq!(r.delivered_twice, 0);
        if ordered {
            prop_assert_eq!(r.out_of_order, 0);
        }
        prop_assert!(r.delivered <= messages);
        prop_assert!(r.finished, "did not finish: {r:?}");
        // Every message arrived, timed out in the wait queue (sendTimeout), or the session
        // faulted.
        if r.delivered + r.send_timeouts < messages {
            prop_assert!(!r.faults.is_empty(), "not all delivered and no fault: {:?}", r);
        }
        for f in &r.faults {
            // Loss explains running out of retries, silence, and handshake timeouts; a peer's
            // fault is the echo of one of those. Anything else would be a protocol bug.
            // A CreateSequence answered twice leaves an orphan sequence at the listener whose
            // inactivity fault names an identifier this session does not use.
            let orphan = sim.sequences_created() > 1 && f.cause == FaultCause::WrongIdentifier;
            let explained = orphan
                || matches!(
                    f.cause,
                    FaultCause::MaxRetryCountExceeded
                        | FaultCause::InactivityTimeout
                        | FaultCause::OpenTimeout
                        | FaultCause::CloseTimeout
                        | FaultCause::Remote
                );
            prop_assert!(explained, "unexplained fault {:?}", f);
            if f.cause == FaultCause::Remote {
                prop_assert!(matches!(f.code, RmFault::SequenceTerminated | RmFault::UnknownSequence), "{:?}", f);
            }
        }
    }
}
