//! The left panel for a capture or a log: the recorded session's profile (link, workload, the
//! settings its traffic shows) for the sequence the plots show, in place of the live session's
//! settings, which do nothing for a recording.

use super::model::Dataset;
use crate::analysis::profile::{self, Certainty, Profile};
use crate::trace::SeqIdx;
use eframe::egui::{self, RichText};

#[derive(Default)]
pub struct ProfilePanel {
    /// The profile shown, for (dataset id, version, sequence): computed once, on this thread,
    /// for the one sequence on screen.
    cache: Option<((u64, u64, SeqIdx), Option<Profile>)>,
}

/// One `name  value` row of a grid; the value's response, for a tooltip.
fn row(ui: &mut egui::Ui, name: &str, value: String) -> egui::Response {
    ui.label(name);
    let r = ui.label(value);
    ui.end_row();
    r
}

impl ProfilePanel {
    fn profile(&mut self, d: &Dataset, seq: SeqIdx) -> Option<&Profile> {
        let key = (d.id, d.version, seq);
        if self.cache.as_ref().is_none_or(|(k, _)| *k != key) {
            let s = d.analysis.sequences.iter().find(|s| s.index == seq);
            self.cache = Some((key, s.map(|s| profile::profile(&d.timeline, s))));
        }
        self.cache.as_ref().and_then(|(_, p)| p.as_ref())
    }

    /// `seq`: the sequence on the plots (`NONE`: the busiest, as the plots pick). True when
    /// the user asked to re-run it in the embedded pair.
    pub fn ui(&mut self, ui: &mut egui::Ui, d: &Dataset, seq: SeqIdx) -> bool {
        ui.heading("Recorded session");
        ui.label(
            RichText::new("What the traffic shows of the sending side's settings. The live session's settings are under Live.")
                .small()
                .weak(),
        );
        // A session's client sequence before its return sequence (the settings are its own).
        let busiest = d
            .analysis
            .sequences
            .iter()
            .max_by_key(|s| (s.offered_by.is_none(), s.messages))
            .map(|s| s.index);
        let want = if seq.is_none() {
            busiest.unwrap_or(seq)
        } else {
            seq
        };
        let Some(p) = self.profile(d, want) else {
            ui.label("No WS-RM sequence in this recording.");
            return false;
        };
        ui.add_space(4.0);
        ui.label(RichText::new(format!("Sequence {}", p.sequence)).small())
            .on_hover_text("The sequence picked above the plots");
        ui.add_space(4.0);
        let rerun = ui
            .button(RichText::new("Re-run in the embedded pair").strong())
            .on_hover_text("Run the pair with these settings, on a link fitted to the recording, with its workload and losses: recorded vs model")
            .clicked();
        ui.add_space(4.0);
        ui.strong("Settings");
        egui::Grid::new("profile-settings").striped(true).show(ui, |ui| {
            for s in &p.settings {
                let how = match s.certainty {
                    Certainty::Exact => "",
                    Certainty::Likely => " (likely)",
                    Certainty::AtLeast => " or more",
                    Certainty::Estimate => " (estimate)",
                    Certainty::Unknown => " (not shown)",
                };
                row(ui, s.setting, format!("{}{how}", s.value)).on_hover_text(&s.evidence);
            }
        });
        ui.add_space(6.0);
        ui.strong("Link");
        let l = &p.link;
        egui::Grid::new("profile-link").striped(true).show(ui, |ui| {
            let rtt = match &l.rtt {
                Some(r) => format!(
                    "median {:.1} ms (min {:.1}, 95% {:.1}; {} samples)",
                    r.median * 1e3,
                    r.min * 1e3,
                    r.p95 * 1e3,
                    r.count
                ),
                None => "not measured".into(),
            };
            row(ui, "round trip", rtt)
                .on_hover_text("From the handshake and every ack that answered an AckRequested at once");
            row(
                ui,
                "copies",
                format!("{} ({} retransmitted)", l.transmissions, l.retransmissions),
            );
            row(
                ui,
                "resent, not acknowledged",
                l.unacknowledged_copies.to_string(),
            )
            .on_hover_text("Retransmissions of copies no ack covered yet: lost messages or lost acks");
            row(ui, "resent for nothing", l.spurious_retransmissions.to_string())
                .on_hover_text("Retransmissions of messages an ack already covered");
            row(ui, "goodput", format!("{:.1} msg/s", l.goodput));
            if let Some(b) = &l.both_ends {
                let ms = |x: &Option<crate::analysis::LatencyStats>| {
                    x.as_ref().map_or("–".to_string(), |d| format!("{:.1} ms", d.median * 1e3))
                };
                row(ui, "one-way delay", format!("{} → / {} ←", ms(&b.forward), ms(&b.back)))
                    .on_hover_text("Both ends' logs: median time from sent to received, messages forward, acks back (on the merge's clock estimate)");
                row(ui, "lost", format!("{} → / {} ←", b.lost_forward, b.lost_back))
                    .on_hover_text("Logged as sent by one end, never as received by the other");
                row(ui, "reordered", b.reordered.to_string())
                    .on_hover_text("Messages that arrived after a higher-numbered one");
            }
        });
        ui.add_space(6.0);
        ui.strong("Workload");
        let w = &p.workload;
        egui::Grid::new("profile-workload").striped(true).show(ui, |ui| {
            row(ui, "messages", w.messages.to_string());
            row(
                ui,
                "size",
                format!("mean {:.0} B, max {} B", w.mean_size, w.max_size),
            );
            row(ui, "send rate", format!("{:.1} msg/s", w.send_rate));
            if w.offered_rate > 0.0 {
                row(ui, "offered", format!("{:.1} msg/s", w.offered_rate))
                    .on_hover_text("One over the median gap between first sends: the application's own pace");
            }
            if let Some(st) = w.service_time {
                row(ui, "service time", format!("{:.1} ms", st * 1e3))
                    .on_hover_text("Median time from a request to the reply naming it, less the round trip");
            }
            row(ui, "longest idle", format!("{:.3} s", w.longest_idle));
            if !w.idle_periods.is_empty() {
                let list: Vec<String> = w
                    .idle_periods
                    .iter()
                    .map(|[at, len]| format!("{len:.2} s at {at:.2} s"))
                    .collect();
                row(ui, "idle periods", format!("{}", w.idle_periods.len())).on_hover_text(list.join("\n"));
            }
        });
        rerun
    }
}
