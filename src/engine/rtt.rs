//! Retransmission timeout (WCF TransmissionStrategy: UpdateStats, Constants Gain = 3,
//! ChebychevFactor = 2): SRTT/RTTVAR with gain 1/8, RTO = max(400 ms + SRTT, SRTT + 4·RTTVAR).

use std::time::Duration;

/// The floor term of the RTO: `(200 << TimeMultiplier) * 2` = 400 ms (TransmissionStrategy.cs).
const RTO_FLOOR: i64 = 400_000_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RttEstimator {
    /// Nanoseconds.
    srtt: i64,
    rttvar: i64,
    rto: i64,
}

impl RttEstimator {
    /// RTT₀ is the CreateSequence round trip (2 s when unknown); RTTVAR₀ = RTT₀/2.
    pub fn new(initial: Duration) -> Self {
        let srtt = duration_ns(initial);
        let mut r = RttEstimator {
            srtt,
            rttvar: srtt >> 1,
            rto: 0,
        };
        r.recompute();
        r
    }

    fn recompute(&mut self) {
        self.rto = (RTO_FLOOR.saturating_add(self.srtt))
            .max(self.srtt.saturating_add(self.rttvar.saturating_mul(4)));
    }

    /// err = sample − SRTT; RTTVAR += (|err| − RTTVAR)/8; SRTT += err/8 (arithmetic shifts, as WCF).
    pub fn sample(&mut self, measured: Duration) {
        let err = duration_ns(measured) - self.srtt;
        self.rttvar += (err.abs() - self.rttvar) >> 3;
        self.srtt += err >> 3;
        self.recompute();
    }

    /// On expiry the timeout doubles (TransmissionStrategy.OnRetryElapsed: `timeout <<= 1`).
    pub fn backoff(&mut self) {
        self.rto = self.rto.saturating_mul(2);
    }

    pub fn rto(&self) -> Duration {
        Duration::from_nanos(self.rto.max(0) as u64)
    }
    pub fn srtt(&self) -> Duration {
        Duration::from_nanos(self.srtt.max(0) as u64)
    }
    pub fn rttvar(&self) -> Duration {
        Duration::from_nanos(self.rttvar.max(0) as u64)
    }
}

fn duration_ns(d: Duration) -> i64 {
    i64::try_from(d.as_nanos())
        .unwrap_or(i64::MAX / 4)
        .min(i64::MAX / 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_rto_is_max_of_floor_and_three_rtt() {
        // RTO₀ = max(400 ms + RTT₀, RTT₀ + 4·RTT₀/2) = max(400 ms + RTT₀, 3·RTT₀)
        assert_eq!(
            RttEstimator::new(Duration::from_secs(2)).rto(),
            Duration::from_secs(6)
        );
        assert_eq!(
            RttEstimator::new(Duration::from_millis(10)).rto(),
            Duration::from_millis(410)
        );
        assert_eq!(
            RttEstimator::new(Duration::from_millis(200)).rto(),
            Duration::from_millis(600)
        );
    }

    #[test]
    fn gain_one_eighth() {
        let mut r = RttEstimator::new(Duration::from_millis(100));
        r.sample(Duration::from_millis(180));
        // err = 80; rttvar = 50 + (80-50)/8 = 53.75; srtt = 100 + 10 = 110
        assert_eq!(r.srtt(), Duration::from_millis(110));
        assert_eq!(r.rttvar(), Duration::from_micros(53_750));
        assert_eq!(r.rto(), Duration::from_millis(510));
        r.backoff();
        assert_eq!(r.rto(), Duration::from_millis(1020));
    }
}
