//! What the applications on both ends do during a simulated session.

use serde::Serialize;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Workload {
    /// Application messages each session sends.
    pub messages: u64,
    /// Sessions (RM sources) opened against the one listener.
    pub sessions: u32,
    /// Messages per second per session; `None`: as fast as the window allows.
    pub rate: Option<f64>,
    /// Application body size in bytes.
    pub body_size: usize,
    /// Messages per second the receiving application takes; `None`: at once.
    pub consume_rate: Option<f64>,
    /// Whether the receiving application accepts new sessions (maxPendingChannels applies to
    /// sessions not yet accepted).
    pub accept: bool,
    /// Close each sequence after its last message.
    pub close: bool,
    /// Bodies shaped like a WCF data contract (dozens of elements in several namespaces)
    /// instead of one text node: what captures of real services hold.
    #[serde(default)]
    pub rich_body: bool,
    /// Two-way operations: each call waits for its reply before the next (a synchronous
    /// proxy). Needs a shape with a return sequence (request-reply, duplex).
    #[serde(default)]
    pub two_way: bool,
    /// How long the service's operation runs before it replies.
    #[serde(default)]
    pub service_time: Duration,
    /// Reply body size in bytes (callbacks too).
    #[serde(default = "default_reply_size")]
    pub reply_size: usize,
    /// Duplex: one-way callbacks the service sends each session on the return sequence (the
    /// client closes once it has them all).
    #[serde(default)]
    pub callbacks: u64,
    /// Callbacks per second per session; `None`: as fast as the window allows.
    #[serde(default)]
    pub callback_rate: Option<f64>,
}

fn default_reply_size() -> usize {
    256
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            messages: 100,
            sessions: 1,
            rate: None,
            body_size: 256,
            consume_rate: None,
            accept: true,
            close: true,
            rich_body: false,
            two_way: false,
            service_time: Duration::ZERO,
            reply_size: default_reply_size(),
            callbacks: 0,
            callback_rate: None,
        }
    }
}

impl Workload {
    pub fn validate(&self) -> Result<(), String> {
        if self.sessions == 0 {
            return Err("sessions must be at least 1".into());
        }
        for (name, r) in [
            ("rate", self.rate),
            ("consume rate", self.consume_rate),
            ("callback rate", self.callback_rate),
        ] {
            if let Some(r) = r
                && (r.is_nan() || r <= 0.0)
            {
                return Err(format!("{name} must be greater than 0"));
            }
        }
        if self.body_size > 16 * 1024 * 1024 || self.reply_size > 16 * 1024 * 1024 {
            return Err("body and reply sizes must be at most 16 MiB".into());
        }
        if self.service_time > Duration::from_secs(86_400) {
            return Err("service time must be at most a day".into());
        }
        Ok(())
    }
}
