//! Expert findings, with Wireshark's severities.

use crate::trace::{SeqIdx, Time};
use serde::Serialize;

/// Wireshark's expert-info severities, in increasing order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Chat,
    Note,
    Warn,
    Error,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Chat => "chat",
            Severity::Note => "note",
            Severity::Warn => "warn",
            Severity::Error => "error",
        }
    }
}

/// One finding, tied to a frame (captures) or a time (live sessions).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// 1-based capture frame; 0 when the finding is not about a captured frame.
    pub frame: u32,
    pub time: Time,
    #[serde(skip)]
    pub seq: SeqIdx,
    pub text: String,
}

impl Finding {
    pub fn new(severity: Severity, frame: u32, time: Time, seq: SeqIdx, text: impl Into<String>) -> Self {
        Finding {
            severity,
            frame,
            time,
            seq,
            text: text.into(),
        }
    }
}
