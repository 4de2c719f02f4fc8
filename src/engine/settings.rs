//! The eight `<reliableSession>` attributes with WCF's defaults and ranges
//! (ReliableSessionDefaults, TransportDefaults.cs; ReliableSessionBindingElement.cs setters).

use crate::wsrm::RmVersion;
use serde::Serialize;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Settings {
    /// Delay before the destination sends an acknowledgement (default 0.2 s, > 0).
    pub acknowledgement_interval: Duration,
    /// Destination advertises netrm:BufferRemaining and the source honours it (default true).
    pub flow_control_enabled: bool,
    /// Session faults after this long without receiving anything (default 10 min, > 0).
    pub inactivity_timeout: Duration,
    /// Sessions a listener holds before the application accepts them (default 4, 1–16384).
    pub max_pending_channels: u32,
    /// Retransmissions of one message before the session faults (default 8, ≥ 1).
    pub max_retry_count: u32,
    /// Messages in flight at the source / buffered at the destination (default 8, 1–4096).
    pub max_transfer_window_size: u32,
    /// Deliver in order (default true).
    pub ordered: bool,
    pub reliable_messaging_version: RmVersion,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            acknowledgement_interval: Duration::from_millis(200),
            flow_control_enabled: true,
            inactivity_timeout: Duration::from_secs(600),
            max_pending_channels: 4,
            max_retry_count: 8,
            max_transfer_window_size: 8,
            ordered: true,
            reliable_messaging_version: RmVersion::Feb2005,
        }
    }
}

/// An invalid setting: which attribute and what range is valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsError {
    pub attribute: &'static str,
    pub message: String,
}

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.attribute, self.message)
    }
}

impl std::error::Error for SettingsError {}

/// Timeouts WCF takes from the binding rather than `<reliableSession>` (binding defaults:
/// openTimeout, closeTimeout and sendTimeout are 1 minute each).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct BindingTimeouts {
    pub open: Duration,
    pub close: Duration,
    pub send: Duration,
}

impl Default for BindingTimeouts {
    fn default() -> Self {
        BindingTimeouts {
            open: Duration::from_secs(60),
            close: Duration::from_secs(60),
            send: Duration::from_secs(60),
        }
    }
}

/// Largest timeout WCF honours: Int32.MaxValue ms (TimeoutHelper.IsTooLarge).
pub const MAX_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

impl Settings {
    /// Checks every attribute against WCF's ranges; the first violation is reported.
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.problems().into_iter().next().map_or(Ok(()), Err)
    }

    /// Every violation, one per attribute (for inline validation in the settings panel).
    pub fn problems(&self) -> Vec<SettingsError> {
        let mut out = Vec::new();
        let mut check = |ok: bool, attribute: &'static str, message: &str| {
            if !ok {
                out.push(SettingsError {
                    attribute,
                    message: message.to_string(),
                });
            }
        };
        // ReliableSessionBindingElement.AcknowledgementInterval: value <= TimeSpan.Zero or too large.
        check(
            !self.acknowledgement_interval.is_zero() && self.acknowledgement_interval <= MAX_TIMEOUT,
            "acknowledgementInterval",
            "must be greater than 0 and at most 24.20:31:23.647 (Int32.MaxValue ms)",
        );
        check(
            !self.inactivity_timeout.is_zero() && self.inactivity_timeout <= MAX_TIMEOUT,
            "inactivityTimeout",
            "must be greater than 0 and at most 24.20:31:23.647 (Int32.MaxValue ms)",
        );
        // ReliableSessionElement: IntegerValidator(MinValue = 1, MaxValue = 16384).
        check(
            (1..=16384).contains(&self.max_pending_channels),
            "maxPendingChannels",
            "must be between 1 and 16384",
        );
        check(self.max_retry_count >= 1, "maxRetryCount", "must be at least 1");
        check(
            (1..=4096).contains(&self.max_transfer_window_size),
            "maxTransferWindowSize",
            "must be between 1 and 4096",
        );
        out
    }

    /// The `<reliableSession .../>` element for these settings (WCF config syntax).
    pub fn to_config_snippet(&self) -> String {
        format!(
            "<reliableSession acknowledgementInterval=\"{}\" flowControlEnabled=\"{}\" inactivityTimeout=\"{}\" maxPendingChannels=\"{}\" maxRetryCount=\"{}\" maxTransferWindowSize=\"{}\" ordered=\"{}\" reliableMessagingVersion=\"{}\" />",
            timespan(self.acknowledgement_interval),
            self.flow_control_enabled,
            timespan(self.inactivity_timeout),
            self.max_pending_channels,
            self.max_retry_count,
            self.max_transfer_window_size,
            self.ordered,
            self.reliable_messaging_version.wcf_name()
        )
    }
}

/// A TimeSpan as .NET prints it (TimeSpan.ToString(), format "c"): `[d.]hh:mm:ss[.fffffff]`,
/// the fraction always seven digits when there is one (`00:00:00.2000000`).
pub fn timespan(d: Duration) -> String {
    let total = d.as_secs();
    let (days, h, m, s) = (
        total / 86_400,
        (total / 3_600) % 24,
        (total / 60) % 60,
        total % 60,
    );
    let ticks = d.subsec_nanos() / 100;
    let mut out = if days > 0 {
        format!("{days}.{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    };
    if ticks > 0 {
        out.push_str(&format!(".{ticks:07}"));
    }
    out
}

/// `200ms`, `1.5s`, `10m`, `1h 30m` or a .NET TimeSpan `00:10:00`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    if s.contains(':') {
        return parse_timespan(s);
    }
    if let Ok(secs) = s.trim().parse::<f64>() {
        return if secs.is_finite() && secs >= 0.0 {
            Ok(Duration::from_secs_f64(secs))
        } else {
            Err(format!("'{s}' is not a duration"))
        };
    }
    if let Some(v) = s.trim().strip_suffix('s').and_then(|n| n.parse::<f64>().ok())
        && v.is_finite()
        && v >= 0.0
    {
        return Ok(Duration::from_secs_f64(v));
    }
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("'{s}' is not a duration ({e}); try 200ms, 10m or 00:10:00"))
}

/// Parses a .NET TimeSpan (`00:00:00.2`, `00:10:00`, `1.02:03:04`, `Infinite`).
pub fn parse_timespan(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("infinite") {
        return Ok(Duration::MAX);
    }
    let bad = || format!("\"{t}\" is not a TimeSpan like 00:00:00.2 or 00:10:00");
    let (days, rest) = match t.split_once(':') {
        Some((head, _)) if head.contains('.') => {
            let (d, _) = head.split_once('.').ok_or_else(bad)?;
            (d.parse::<u64>().map_err(|_| bad())?, &t[d.len() + 1..])
        }
        Some(_) => (0, t),
        None => (t.parse::<u64>().map_err(|_| bad())?, ""),
    };
    if rest.is_empty() {
        return Ok(Duration::from_secs(days * 86_400));
    }
    let parts: Vec<&str> = rest.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return Err(bad());
    }
    let h: u64 = parts[0].parse().map_err(|_| bad())?;
    let m: u64 = parts[1].parse().map_err(|_| bad())?;
    let (s, nanos) = match parts.get(2) {
        None => (0, 0),
        Some(sec) => match sec.split_once('.') {
            Some((s, f)) => {
                if f.is_empty() || f.len() > 7 || !f.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                let frac: u64 = format!("{f:0<9}").parse().map_err(|_| bad())?;
                (s.parse::<u64>().map_err(|_| bad())?, frac)
            }
            None => (sec.parse::<u64>().map_err(|_| bad())?, 0),
        },
    };
    if h > 23 || m > 59 || s > 59 {
        return Err(bad());
    }
    Ok(Duration::new(
        days * 86_400 + h * 3_600 + m * 60 + s,
        nanos as u32,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_wcfs() {
        let s = Settings::default();
        assert_eq!(s.acknowledgement_interval, Duration::from_millis(200));
        assert!(s.flow_control_enabled && s.ordered);
        assert_eq!(s.inactivity_timeout, Duration::from_secs(600));
        assert_eq!(
            (
                s.max_pending_channels,
                s.max_retry_count,
                s.max_transfer_window_size
            ),
            (4, 8, 8)
        );
        assert_eq!(s.reliable_messaging_version, RmVersion::Feb2005);
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn invalid_values_name_attribute_and_range() {
        let s = Settings {
            max_transfer_window_size: 5000,
            ..Settings::default()
        };
        let e = s.validate().unwrap_err();
        assert_eq!(e.attribute, "maxTransferWindowSize");
        assert!(e.message.contains("1 and 4096"));
        let s = Settings {
            max_pending_channels: 0,
            max_retry_count: 0,
            acknowledgement_interval: Duration::ZERO,
            inactivity_timeout: Duration::ZERO,
            max_transfer_window_size: 0,
            ..Settings::default()
        };
        let attrs: Vec<_> = s.problems().iter().map(|p| p.attribute).collect();
        assert_eq!(
            attrs,
            [
                "acknowledgementInterval",
                "inactivityTimeout",
                "maxPendingChannels",
                "maxRetryCount",
                "maxTransferWindowSize"
            ]
        );
    }

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("00:00:00.2"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_timespan("00:10:00"), Ok(Duration::from_secs(600)));
        assert_eq!(
            parse_timespan("1.02:03:04"),
            Ok(Duration::from_secs(86_400 + 7_384))
        );
        assert_eq!(parse_timespan(" 00:00:01.0000001 "), Ok(Duration::new(1, 100)));
        assert!(parse_timespan("10 minutes").is_err());
        assert!(parse_timespan("00:61:00").is_err());
        assert_eq!(timespan(Duration::from_millis(200)), "00:00:00.2000000");
        assert_eq!(timespan(Duration::from_millis(30_500)), "00:00:30.5000000");
        assert_eq!(timespan(Duration::from_secs(600)), "00:10:00");
        assert_eq!(timespan(Duration::from_secs(90_061)), "1.01:01:01");
        for d in [
            Duration::from_millis(200),
            Duration::from_secs(600),
            Duration::new(3, 1_234_500),
        ] {
            assert_eq!(parse_timespan(&timespan(d)), Ok(d));
        }
    }
}
