//! Colours shared by the views, readable on dark and light backgrounds.

use crate::analysis::Severity;
use crate::trace::{Wire, WireKind};
use eframe::egui::Color32;

pub const FIRST: Color32 = Color32::from_rgb(70, 140, 250);
pub const RETRANSMIT: Color32 = Color32::from_rgb(245, 150, 30);
pub const LOST: Color32 = Color32::from_rgb(225, 55, 55);
/// A copy dropped on request ("Drop next", a preset's drop rule), apart from random losses.
pub const DROPPED: Color32 = Color32::from_rgb(255, 120, 200);
pub const ACK: Color32 = Color32::from_rgb(60, 180, 100);
pub const DELIVERED: Color32 = Color32::from_rgb(170, 110, 240);
pub const TIMER: Color32 = Color32::from_rgb(210, 185, 40);
pub const CONTROL: Color32 = Color32::from_rgb(40, 170, 190);
pub const SELECTED: Color32 = Color32::from_rgb(255, 80, 200);
/// The session's other sequence overlaid on sequence/time.
pub const OTHER_SEQUENCE: Color32 = Color32::from_rgb(150, 150, 160);

pub fn severity(s: Severity) -> Color32 {
    match s {
        Severity::Error => LOST,
        Severity::Warn => RETRANSMIT,
        Severity::Note => FIRST,
        Severity::Chat => Color32::GRAY,
    }
}

/// The colour a wire message is drawn in (ladder, list).
pub fn wire(w: &Wire) -> Color32 {
    match w.kind {
        WireKind::Data | WireKind::LastMessage if w.attempt() > 0 => RETRANSMIT,
        WireKind::Data | WireKind::LastMessage => FIRST,
        WireKind::Ack | WireKind::AckRequested => ACK,
        WireKind::Fault => LOST,
        WireKind::Security => Color32::from_rgb(150, 120, 190),
        WireKind::OtherSoap | WireKind::Http => Color32::GRAY,
        _ => CONTROL,
    }
}
