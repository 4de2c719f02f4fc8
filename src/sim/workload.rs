//! What the applications on both ends do during a simulated session.

use serde::Serialize;

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
        }
    }
}

impl Workload {
    pub fn validate(&self) -> Result<(), String> {
        if self.sessions == 0 {
            return Err("sessions must be at least 1".into());
        }
        for (name, r) in [("rate", self.rate), ("consume rate", self.consume_rate)] {
            if let Some(r) = r
                && (r.is_nan() || r <= 0.0)
            {
                return Err(format!("{name} must be greater than 0"));
            }
        }
        if self.body_size > 16 * 1024 * 1024 {
            return Err("body size must be at most 16 MiB".into());
        }
        Ok(())
    }
}
