//! Retransmission timeout exactly as WCF computes it (TransmissionStrategy: ctor, UpdateStats,
//! OnRetryElapsed, Timeout, Now; nested Constants): integer arithmetic in 1/128 ms units
//! (TimeMultiplier 7), gain 1/8 (Gain 3), timeout = max(400 ms + mean, mean + 4·serr)
//! (ChebychevFactor 2), times taken in whole milliseconds.

use crate::trace::Time;
use std::time::Duration;

/// 1 ms = 128 units (Constants.TimeMultiplier).
const TIME_MULTIPLIER: u32 = 7;
/// Gain of 1/8 as a right shift (Constants.Gain).
const GAIN: u32 = 3;
/// serr is scaled by 4 in the timeout (Constants.ChebychevFactor).
const CHEBYCHEV_FACTOR: u32 = 2;
/// Overflow guards (Constants.MaxMeanRtt, MaxSerrRtt).
const MAX_MEAN_RTT: i64 = i64::MAX / 3;
const MAX_SERR_RTT: i64 = MAX_MEAN_RTT / 2;
/// `(200 << TimeMultiplier) * 2`: the 400 ms floor term of the timeout.
const FLOOR: i64 = (200 << TIME_MULTIPLIER) * 2;

/// A point in time in WCF's units: whole milliseconds shifted left by 7
/// (TransmissionStrategy.Now truncates the clock to milliseconds first).
pub fn units(t: Time) -> i64 {
    ((t.as_nanos() / 1_000_000) as i64) << TIME_MULTIPLIER
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RttEstimator {
    /// meanRtt, serrRtt, timeout: 1/128 ms.
    mean: i64,
    serr: i64,
    timeout: i64,
}

impl RttEstimator {
    /// meanRtt₀ = the CreateSequence round trip in whole ms (TimeSpan.TotalMilliseconds cast
    /// to long), serr₀ = mean₀/2 (TransmissionStrategy ctor).
    pub fn new(initial: Duration) -> Self {
        let ms = i64::try_from(initial.as_millis()).unwrap_or(i64::MAX);
        let mean = ms.min(MAX_MEAN_RTT >> TIME_MULTIPLIER) << TIME_MULTIPLIER;
        let serr = mean >> 1;
        RttEstimator {
            mean,
            serr,
            timeout: Self::timeout_of(mean, serr),
        }
    }

    fn timeout_of(mean: i64, serr: i64) -> i64 {
        (FLOOR + mean).max(mean + (serr << CHEBYCHEV_FACTOR))
    }

    /// One sample from a message's last attempt to `now`, both in [`units`]; the timeout is
    /// recomputed from scratch, so an earlier backoff ends here (UpdateStats).
    pub fn sample(&mut self, now: i64, last_attempt: i64) -> i64 {
        let measured = now.max(last_attempt) - last_attempt;
        let error = measured - self.mean;
        self.serr = (self.serr + ((error.abs() - self.serr) >> GAIN)).min(MAX_SERR_RTT);
        self.mean = (self.mean + (error >> GAIN)).min(MAX_MEAN_RTT);
        self.timeout = Self::timeout_of(self.mean, self.serr);
        measured
    }

    /// On expiry the timeout doubles (OnRetryElapsed: `timeout <<= 1`).
    pub fn backoff(&mut self) {
        self.timeout = self.timeout.saturating_mul(2);
    }

    /// What the retry timer is set to: whole milliseconds (Timeout: `timeout >> 7`, then
    /// IOThreadTimer.Set(int milliseconds)).
    pub fn rto(&self) -> Duration {
        Duration::from_millis((self.timeout >> TIME_MULTIPLIER).max(0) as u64)
    }
    pub fn srtt(&self) -> Duration {
        units_to_duration(self.mean)
    }
    pub fn rttvar(&self) -> Duration {
        units_to_duration(self.serr)
    }
}

/// 1/128 ms → Duration (128 units = 1,000,000 ns, so one unit is 7812.5 ns).
pub fn units_to_duration(u: i64) -> Duration {
    Duration::from_nanos((u.max(0) as u128 * 1_000_000 / 128).min(u64::MAX as u128) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_timeout_is_max_of_floor_and_three_rtt() {
        // timeout₀ = max(400 ms + RTT₀, RTT₀ + 4·RTT₀/2) = max(400 ms + RTT₀, 3·RTT₀)
        assert_eq!(
            RttEstimator::new(Duration::from_secs(2)).rto(),
            Duration::from_secs(6)
        );
        assert_eq!(
            RttEstimator::new(Duration::from_millis(10)).rto(),
            Duration::from_millis(410)
        );
        assert_eq!(
            RttEstimator::new(Duration::from_micros(200_900)).rto(),
            Duration::from_millis(600),
            "RTT₀ is taken in whole milliseconds"
        );
    }

    #[test]
    fn gain_one_eighth_in_128ths_of_a_millisecond() {
        let mut r = RttEstimator::new(Duration::from_millis(100));
        let t0 = units(Time::from_millis(1000));
        let measured = r.sample(units(Time::from_millis(1180)), t0);
        assert_eq!(measured, 180 << 7);
        // err = 80 ms; serr = 50 + (80−50)/8 = 53.75 ms; mean = 100 + 10 = 110 ms.
        assert_eq!(r.srtt(), Duration::from_millis(110));
        assert_eq!(r.rttvar(), Duration::from_micros(53_750));
        assert_eq!(r.rto(), Duration::from_millis(510));
        r.backoff();
        assert_eq!(r.rto(), Duration::from_millis(1020));
        // The next sample recomputes the timeout: the backoff is gone.
        r.sample(units(Time::from_millis(2110)), units(Time::from_millis(2000)));
        assert_eq!(r.rto(), Duration::from_millis(510));
    }

    #[test]
    fn arithmetic_shifts_truncate_like_wcf() {
        // A negative error of 1 unit: (−1) >> 3 = −1 (arithmetic shift), not 0.
        let mut r = RttEstimator::new(Duration::from_millis(100));
        r.mean = 1;
        r.serr = 0;
        r.sample(0, 0);
        assert_eq!(r.mean, 0);
        assert_eq!(units(Time::from_duration(Duration::from_micros(1999))), 1 << 7);
    }
}
