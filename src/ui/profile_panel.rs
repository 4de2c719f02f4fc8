//! The left panel for a capture or a log: the recorded session's profile (link, workload, the
//! settings its traffic shows) for the sequence the plots show, in place of the live session's
//! settings, which do nothing for a recording.

use super::model::Dataset;
use crate::analysis::profile::{self, Certainty, Profile};
use crate::trace::SeqIdx;
use eframe::egui::{self, RichText};

/// Each sequence's profile.
type Profiles = Vec<(SeqIdx, Profile)>;

#[derive(Default)]
pub struct ProfilePanel {
    /// Profiles of the dataset `(id, version)`.
    cache: Option<((u64, u64), Profiles)>,
}

impl ProfilePanel {
    fn profiles(&mut self, d: &Dataset) -> &[(SeqIdx, Profile)] {
        let key = (d.id, d.version);
        if self.cache.as_ref().is_none_or(|(k, _)| *k != key) {
            let list = d
                .analysis
                .sequences
                .iter()
                .map(|s| (s.index, profile::profile(&d.timeline, s)))
                .collect();
            self.cache = Some((key, list));
        }
        &self.cache.as_ref().expect("just filled").1
    }

    /// `seq`: the sequence on the plots (`NONE`: the busiest, as the plots pick).
    pub fn ui(&mut self, ui: &mut egui::Ui, d: &Dataset, seq: SeqIdx) {
        ui.heading("Recorded session");
        ui.label(
            RichText::new("What the traffic shows of the sending side's settings. The live session's settings are under Live.")
                .small()
                .weak(),
        );
        let busiest = d
            .analysis
            .sequences
            .iter()
            .max_by_key(|s| s.messages)
            .map(|s| s.index);
        let want = if seq.is_none() { busiest } else { Some(seq) };
        let profiles = self.profiles(d);
        let Some((_, p)) = profiles.iter().find(|(i, _)| Some(*i) == want) else {
            ui.label("No WS-RM sequence in this recording.");
            return;
        };
        ui.add_space(4.0);
        ui.label(RichText::new(format!("Sequence {}", p.sequence)).small())
            .on_hover_text("The sequence picked above the plots");
        ui.add_space(4.0);
        ui.strong("Settings");
        egui::Grid::new("profile-settings").striped(true).show(ui, |ui| {
            for s in &p.settings {
                ui.label(s.setting);
                let how = match s.certainty {
                    Certainty::Exact => "",
                    Certainty::Likely => " (likely)",
                    Certainty::AtLeast => " or more",
                    Certainty::Estimate => " (estimate)",
                    Certainty::Unknown => " (not shown)",
                };
                ui.label(format!("{}{how}", s.value)).on_hover_text(&s.evidence);
                ui.end_row();
            }
        });
        ui.add_space(6.0);
        ui.strong("Link");
        let l = &p.link;
        egui::Grid::new("profile-link").striped(true).show(ui, |ui| {
            ui.label("round trip");
            ui.label(match &l.rtt {
                Some(r) => format!(
                    "median {:.1} ms (min {:.1}, 95% {:.1}; {} samples)",
                    r.median * 1e3,
                    r.min * 1e3,
                    r.p95 * 1e3,
                    r.count
                ),
                None => "not measured".into(),
            })
            .on_hover_text("From the handshake and every ack that answered an AckRequested at once");
            ui.end_row();
            ui.label("copies");
            ui.label(format!(
                "{} ({} retransmitted)",
                l.transmissions, l.retransmissions
            ));
            ui.end_row();
            ui.label("resent, not acknowledged");
            ui.label(l.unacknowledged_copies.to_string())
                .on_hover_text("Retransmissions of copies no ack covered yet: lost messages or lost acks");
            ui.end_row();
            ui.label("resent for nothing");
            ui.label(l.spurious_retransmissions.to_string())
                .on_hover_text("Retransmissions of messages an ack already covered");
            ui.end_row();
            ui.label("goodput");
            ui.label(format!("{:.1} msg/s", l.goodput));
            ui.end_row();
        });
        ui.add_space(6.0);
        ui.strong("Workload");
        let w = &p.workload;
        egui::Grid::new("profile-workload").striped(true).show(ui, |ui| {
            ui.label("messages");
            ui.label(w.messages.to_string());
            ui.end_row();
            ui.label("size");
            ui.label(format!("mean {:.0} B, max {} B", w.mean_size, w.max_size));
            ui.end_row();
            ui.label("send rate");
            ui.label(format!("{:.1} msg/s", w.send_rate));
            ui.end_row();
            ui.label("longest idle");
            ui.label(format!("{:.3} s", w.longest_idle));
            ui.end_row();
        });
    }
}
