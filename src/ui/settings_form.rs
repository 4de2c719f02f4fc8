//! The settings panel: the eight `<reliableSession>` attributes with inline validation, the
//! simulated link, the workload, and the teaching presets. Values are edited as text (so an
//! out-of-range number can be typed and explained, as WCF's config validation would).

use super::style;
use crate::engine::Settings;
use crate::engine::settings::parse_timespan;
use crate::netsim::{GilbertElliott, LinkConfig};
use crate::sim::{SimConfig, Transport, presets};
use crate::wsrm::RmVersion;
use eframe::egui::{self, RichText};
use std::collections::BTreeMap;
use std::time::Duration;

/// The form's fields, as typed.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SettingsForm {
    pub acknowledgement_interval: String,
    pub flow_control_enabled: bool,
    pub inactivity_timeout: String,
    pub max_pending_channels: String,
    pub max_retry_count: String,
    pub max_transfer_window_size: String,
    pub ordered: bool,
    pub version: RmVersion,
    /// Link: real SOAP/HTTP on 127.0.0.1 instead of the in-memory link.
    pub http: bool,
    /// Which WCF channel pair carries the session (HTTP loopback picks request-reply).
    pub shape: crate::engine::Shape,
    pub loss_pct: String,
    pub burst: String,
    pub delay_ms: String,
    pub jitter_ms: String,
    pub reorder_pct: String,
    pub dup_pct: String,
    pub rate: String,
    pub seed: String,
    pub messages: String,
    pub msg_rate: String,
    pub body_size: String,
    /// Shapes with a return sequence: each call waits for its reply.
    pub two_way: bool,
    pub service_ms: String,
    /// Duplex: callbacks the service sends each session.
    pub callbacks: String,
    /// What the form does not show (a preset's scripted drops, sessions, consume rate…).
    pub base: SimConfig,
    /// The preset the form was loaded from, while unchanged.
    pub preset: Option<String>,
}

impl Default for SettingsForm {
    fn default() -> Self {
        SettingsForm::from_config(&presets::live_default(), None)
    }
}

/// What the user asked for.
pub enum FormAction {
    None,
    Apply(Box<SimConfig>),
    Preset(&'static presets::Preset),
    ImportConfig,
    ExportSnippet,
}

fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// A number without trailing zeros.
fn plain(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn pct(p: f64) -> String {
    plain(p * 100.0)
}

fn from_ms(v: f64) -> Duration {
    Duration::from_nanos((v * 1e6).round() as u64)
}

/// A duration as WCF writes it (`00:00:00.2`), or with a unit (`200ms`, `10m`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    parse_timespan(text)
        .or_else(|_| humantime::parse_duration(text.trim()).map_err(|_| ()))
        .map_err(|_| {
            format!(
                "\"{}\" is not a duration like 00:00:00.2, 200ms or 10m",
                text.trim()
            )
        })
}

impl SettingsForm {
    pub fn from_config(c: &SimConfig, preset: Option<&str>) -> Self {
        let s = &c.settings;
        let l = &c.forward;
        let (loss, burst) = match l.burst {
            // Stationary loss of the two-state model, and its mean burst length.
            Some(g) if g.p_bad_to_good > 0.0 => {
                let pb = g.p_good_to_bad / (g.p_good_to_bad + g.p_bad_to_good);
                (
                    pb * g.loss_bad + (1.0 - pb) * g.loss_good,
                    plain(1.0 / g.p_bad_to_good),
                )
            }
            _ => (l.loss, String::new()),
        };
        SettingsForm {
            acknowledgement_interval: crate::engine::settings::timespan(s.acknowledgement_interval),
            flow_control_enabled: s.flow_control_enabled,
            inactivity_timeout: crate::engine::settings::timespan(s.inactivity_timeout),
            max_pending_channels: s.max_pending_channels.to_string(),
            max_retry_count: s.max_retry_count.to_string(),
            max_transfer_window_size: s.max_transfer_window_size.to_string(),
            ordered: s.ordered,
            version: s.reliable_messaging_version,
            http: matches!(c.transport, Transport::Http { .. }),
            shape: c.shape,
            loss_pct: pct(loss),
            burst,
            delay_ms: ms(l.delay),
            jitter_ms: ms(l.jitter),
            reorder_pct: pct(l.reorder),
            dup_pct: pct(l.duplicate),
            rate: l.rate.map_or(String::new(), |r| r.to_string()),
            seed: c.seed.to_string(),
            messages: c.workload.messages.to_string(),
            msg_rate: c.workload.rate.map_or(String::new(), |r| r.to_string()),
            body_size: c.workload.body_size.to_string(),
            two_way: c.workload.two_way,
            service_ms: ms(c.workload.service_time),
            callbacks: c.workload.callbacks.to_string(),
            base: c.clone(),
            preset: preset.map(str::to_string),
        }
    }

    /// Replaces the eight attributes (imported config, Reset to WCF defaults).
    pub fn set_settings(&mut self, s: &Settings) {
        let mut c = self.base.clone();
        c.settings = s.clone();
        let keep = self.clone();
        *self = SettingsForm::from_config(&c, None);
        // Link and workload stay as typed.
        self.http = keep.http;
        self.shape = keep.shape;
        self.loss_pct = keep.loss_pct;
        self.burst = keep.burst;
        self.delay_ms = keep.delay_ms;
        self.jitter_ms = keep.jitter_ms;
        self.reorder_pct = keep.reorder_pct;
        self.dup_pct = keep.dup_pct;
        self.rate = keep.rate;
        self.seed = keep.seed;
        self.messages = keep.messages;
        self.msg_rate = keep.msg_rate;
        self.body_size = keep.body_size;
        self.two_way = keep.two_way;
        self.service_ms = keep.service_ms;
        self.callbacks = keep.callbacks;
    }

    /// The configuration the form describes, or a message per field that is wrong.
    pub fn parse(&self) -> Result<SimConfig, BTreeMap<&'static str, String>> {
        let mut errs: BTreeMap<&'static str, String> = BTreeMap::new();
        let mut c = self.base.clone();
        let mut dur = |field: &'static str, text: &str| match parse_duration(text) {
            Ok(d) => Some(d),
            Err(e) => {
                errs.insert(field, e);
                None
            }
        };
        let ack = dur("acknowledgementInterval", &self.acknowledgement_interval);
        let ina = dur("inactivityTimeout", &self.inactivity_timeout);
        let mut whole = |field: &'static str, text: &str| match text.trim().parse::<u32>() {
            Ok(v) => Some(v),
            Err(_) => {
                errs.insert(field, format!("\"{}\" is not a whole number", text.trim()));
                None
            }
        };
        let pending = whole("maxPendingChannels", &self.max_pending_channels);
        let retry = whole("maxRetryCount", &self.max_retry_count);
        let window = whole("maxTransferWindowSize", &self.max_transfer_window_size);
        let s = &mut c.settings;
        s.acknowledgement_interval = ack.unwrap_or(s.acknowledgement_interval);
        s.inactivity_timeout = ina.unwrap_or(s.inactivity_timeout);
        s.max_pending_channels = pending.unwrap_or(s.max_pending_channels);
        s.max_retry_count = retry.unwrap_or(s.max_retry_count);
        s.max_transfer_window_size = window.unwrap_or(s.max_transfer_window_size);
        s.flow_control_enabled = self.flow_control_enabled;
        s.ordered = self.ordered;
        s.reliable_messaging_version = self.version;
        for p in s.problems() {
            errs.entry(p.attribute).or_insert(p.message);
        }

        let mut num = |field: &'static str, text: &str, lo: f64, hi: f64, what: &str| -> Option<f64> {
            match text.trim().parse::<f64>() {
                Ok(v) if (lo..=hi).contains(&v) => Some(v),
                _ => {
                    errs.insert(field, format!("must be {what}"));
                    None
                }
            }
        };
        let loss =
            num("loss", &self.loss_pct, 0.0, 100.0, "a percentage from 0 to 100").unwrap_or(0.0) / 100.0;
        let burst = if self.burst.trim().is_empty() {
            None
        } else {
            num(
                "burst",
                &self.burst,
                1.0,
                1000.0,
                "a mean burst length from 1 to 1000 (or empty)",
            )
        };
        let delay = num("delay", &self.delay_ms, 0.0, 600_000.0, "0 to 600000 ms").unwrap_or(50.0);
        let jitter = num("jitter", &self.jitter_ms, 0.0, 600_000.0, "0 to 600000 ms").unwrap_or(0.0);
        let reorder = num(
            "reorder",
            &self.reorder_pct,
            0.0,
            100.0,
            "a percentage from 0 to 100",
        )
        .unwrap_or(0.0);
        let dup = num(
            "duplicate",
            &self.dup_pct,
            0.0,
            100.0,
            "a percentage from 0 to 100",
        )
        .unwrap_or(0.0);
        let rate = if self.rate.trim().is_empty() {
            None
        } else {
            num(
                "rate",
                &self.rate,
                1.0,
                1e12,
                "bytes per second, at least 1 (or empty)",
            )
            .map(|r| r as u64)
        };
        let messages = num("messages", &self.messages, 1.0, 10_000_000.0, "1 to 10000000");
        let msg_rate = if self.msg_rate.trim().is_empty() {
            None
        } else {
            num(
                "message rate",
                &self.msg_rate,
                0.001,
                1e6,
                "messages per second above 0 (or empty)",
            )
        };
        let service = num(
            "service time",
            &self.service_ms,
            0.0,
            3_600_000.0,
            "0 to 3600000 ms",
        );
        let callbacks = num("callbacks", &self.callbacks, 0.0, 1e7, "0 to 10000000");
        let body = num(
            "body size",
            &self.body_size,
            0.0,
            1_048_576.0,
            "0 to 1048576 bytes",
        );
        match self.seed.trim().parse::<u64>() {
            Ok(s) => c.seed = s,
            Err(_) => {
                errs.insert("seed", "must be a whole number".into());
            }
        }
        let link = || LinkConfig {
            loss,
            burst: burst.map(|b| GilbertElliott::from_mean(loss, b)),
            delay: from_ms(delay),
            jitter: from_ms(jitter),
            reorder: reorder / 100.0,
            duplicate: dup / 100.0,
            rate,
        };
        c.forward = link();
        c.backward = link();
        c.transport = if self.http {
            Transport::Http { port: 0 }
        } else {
            Transport::Simulated
        };
        c.shape = self.shape;
        c.workload.messages = messages.map_or(c.workload.messages, |m| m as u64);
        c.workload.rate = msg_rate;
        c.workload.body_size = body.map_or(c.workload.body_size, |b| b as usize);
        c.workload.two_way = self.two_way && self.shape.offers();
        c.workload.service_time = service.map_or(c.workload.service_time, from_ms);
        c.workload.callbacks = match (self.shape, callbacks) {
            (crate::engine::Shape::Duplex, Some(n)) => n as u64,
            _ => 0,
        };
        if errs.is_empty()
            && let Err(e) = c.validate()
        {
            errs.insert("config", e);
        }
        if errs.is_empty() { Ok(c) } else { Err(errs) }
    }

    /// The customBinding of the current values — `<reliableSession/>` and the elements that
    /// give the chosen shape — if they are valid.
    pub fn snippet(&self) -> Result<String, String> {
        self.parse()
            .map(|c| {
                crate::engine::binding::Binding::custom_binding_snippet(
                    c.shape,
                    &c.settings.to_config_snippet(),
                )
            })
            .map_err(|e| {
                e.into_iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
    }

    /// The eight attributes, each with its validation message (also used by A/B compare).
    pub fn attributes_ui(&mut self, ui: &mut egui::Ui, id: &str, problems: &BTreeMap<&'static str, String>) {
        egui::Grid::new((id, "grid"))
            .num_columns(2)
            .spacing([8.0, 4.0])
            .show(ui, |ui| {
                text_row(
                    ui,
                    "acknowledgementInterval",
                    &mut self.acknowledgement_interval,
                    problems,
                    "Delay before the destination acknowledges (default 00:00:00.2)",
                );
                check_row(
                    ui,
                    "flowControlEnabled",
                    &mut self.flow_control_enabled,
                    "Destination advertises netrm:BufferRemaining; the source honours it (default true)",
                );
                text_row(
                    ui,
                    "inactivityTimeout",
                    &mut self.inactivity_timeout,
                    problems,
                    "Session faults after this long without receiving anything (default 00:10:00)",
                );
                text_row(
                    ui,
                    "maxPendingChannels",
                    &mut self.max_pending_channels,
                    problems,
                    "Sessions waiting to be accepted (default 4, 1–16384)",
                );
                text_row(
                    ui,
                    "maxRetryCount",
                    &mut self.max_retry_count,
                    problems,
                    "Retransmissions of one message before the session faults (default 8, at least 1)",
                );
                text_row(
                    ui,
                    "maxTransferWindowSize",
                    &mut self.max_transfer_window_size,
                    problems,
                    "Messages in flight / buffered (default 8, 1–4096)",
                );
                check_row(
                    ui,
                    "ordered",
                    &mut self.ordered,
                    "Deliver in order (default true)",
                );
                let l = ui.label("reliableMessagingVersion");
                egui::ComboBox::from_id_salt((id, "rm-version"))
                    .selected_text(self.version.wcf_name())
                    .show_ui(ui, |ui| {
                        for v in [RmVersion::Feb2005, RmVersion::V1_1] {
                            ui.selectable_value(&mut self.version, v, v.wcf_name());
                        }
                    })
                    .response
                    .labelled_by(l.id);
                ui.end_row();
            });
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) -> FormAction {
        let mut action = FormAction::None;
        let before = self.clone();
        let problems = self.parse().err().unwrap_or_default();
        ui.heading("Reliable session");
        self.attributes_ui(ui, "rs", &problems);
        ui.horizontal_wrapped(|ui| {
            if ui.button("Reset to WCF defaults").clicked() {
                self.set_settings(&Settings::default());
            }
            if ui.button("Import WCF config…").clicked() {
                action = FormAction::ImportConfig;
            }
            if ui.button("Export snippet…").clicked() {
                action = FormAction::ExportSnippet;
            }
        });
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            ui.label("Link:");
            ui.radio_value(&mut self.http, false, "Simulated")
                .on_hover_text("In-memory link in virtual time: pause, step and speed apply");
            let http = ui
                .radio_value(&mut self.http, true, "HTTP loopback")
                .on_hover_text(
                    "Real SOAP/HTTP POSTs on 127.0.0.1 in real time; the impairments below \
                 still apply, before a message reaches the socket",
                );
            // (A one-way contract over HTTP runs WCF's one-way pair over request-reply; the
            // other shapes run over HTTP as they are: request-reply on the HTTP responses,
            // duplex as composite duplex, POSTs both ways.)
            if http.clicked() && self.shape == crate::engine::Shape::OneWayOverDuplex {
                self.shape = crate::engine::Shape::OneWayOverRequest;
            }
        });
        ui.horizontal(|ui| {
            ui.label("Shape:");
            egui::ComboBox::from_id_salt("session-shape")
                .selected_text(self.shape.label())
                .show_ui(ui, |ui| {
                    for s in crate::engine::Shape::ALL {
                        let was = self.shape;
                        if ui.selectable_value(&mut self.shape, s, s.label()).clicked() && !was.offers() {
                            // Request-reply and duplex calls are two-way unless unticked.
                            self.two_way = s.offers();
                        }
                    }
                })
                .response
                .on_hover_text(
                    "How WCF carries the session: over a duplex channel acks are messages of \
                     their own (AckRequested, acknowledgementInterval); over request-reply every \
                     message is answered with an ack and the service cannot send unasked",
                );
        });
        ui.collapsing("Link impairments (both directions)", |ui| {
            egui::Grid::new("link-grid")
                .num_columns(2)
                .spacing([8.0, 4.0])
                .show(ui, |ui| {
                    text_row(
                        ui,
                        "loss",
                        &mut self.loss_pct,
                        &problems,
                        "Percent of messages lost",
                    );
                    text_row(
                        ui,
                        "burst",
                        &mut self.burst,
                        &problems,
                        "Mean burst length in messages (Gilbert–Elliott); empty: independent losses",
                    );
                    text_row(ui, "delay", &mut self.delay_ms, &problems, "One-way delay, ms");
                    text_row(
                        ui,
                        "jitter",
                        &mut self.jitter_ms,
                        &problems,
                        "± ms around the delay",
                    );
                    text_row(
                        ui,
                        "reorder",
                        &mut self.reorder_pct,
                        &problems,
                        "Percent of messages held back so later ones overtake them",
                    );
                    text_row(
                        ui,
                        "duplicate",
                        &mut self.dup_pct,
                        &problems,
                        "Percent of messages delivered twice",
                    );
                    text_row(
                        ui,
                        "rate",
                        &mut self.rate,
                        &problems,
                        "Bytes per second; empty: unlimited",
                    );
                    text_row(ui, "seed", &mut self.seed, &problems, "Same seed, same losses");
                });
        });
        ui.collapsing("Workload", |ui| {
            egui::Grid::new("work-grid")
                .num_columns(2)
                .spacing([8.0, 4.0])
                .show(ui, |ui| {
                    text_row(
                        ui,
                        "messages",
                        &mut self.messages,
                        &problems,
                        "Application messages the client sends",
                    );
                    text_row(
                        ui,
                        "message rate",
                        &mut self.msg_rate,
                        &problems,
                        "Messages per second; empty: as fast as the window allows",
                    );
                    text_row(
                        ui,
                        "body size",
                        &mut self.body_size,
                        &problems,
                        "Application body bytes",
                    );
                    if self.shape.offers() {
                        check_row(
                            ui,
                            "two-way calls",
                            &mut self.two_way,
                            "Each call waits for its reply (a synchronous proxy); off: one-way calls",
                        );
                        text_row(
                            ui,
                            "service time",
                            &mut self.service_ms,
                            &problems,
                            "Milliseconds the operation runs before it replies",
                        );
                    }
                    if self.shape == crate::engine::Shape::Duplex {
                        text_row(
                            ui,
                            "callbacks",
                            &mut self.callbacks,
                            &problems,
                            "One-way callbacks the service sends each session on the return sequence",
                        );
                    }
                });
        });
        if let Some(e) = problems.get("config") {
            ui.colored_label(style::LOST, e);
        }
        ui.add_space(4.0);
        let ok = problems.is_empty();
        let apply = ui
            .add_enabled(
                ok,
                egui::Button::new(RichText::new("Apply (restart live)").strong()),
            )
            .on_disabled_hover_text("Fix the values marked in red first");
        if apply.clicked()
            && let Ok(c) = self.parse()
        {
            action = FormAction::Apply(Box::new(c));
        }
        ui.add_space(8.0);
        ui.heading("Presets");
        ui.weak("One click loads and runs a scenario.");
        for p in presets::PRESETS {
            let current = self.preset.as_deref() == Some(p.name);
            let r = ui
                .add(egui::Button::selectable(current, p.name))
                .on_hover_text(p.explain);
            if r.clicked() {
                action = FormAction::Preset(p);
            }
            if current {
                ui.label(RichText::new(format!("What to watch: {}", p.explain)).italics());
            }
        }
        if *self != before && self.preset.is_some() && before.preset == self.preset {
            // Edited by hand: no longer the preset.
            self.preset = None;
        }
        action
    }
}

fn text_row(
    ui: &mut egui::Ui,
    name: &str,
    value: &mut String,
    problems: &BTreeMap<&'static str, String>,
    help: &str,
) {
    let l = ui.label(name).on_hover_text(help);
    ui.vertical(|ui| {
        ui.add(egui::TextEdit::singleline(value).desired_width(120.0))
            .labelled_by(l.id)
            .on_hover_text(help);
        if let Some(p) = problems.get(name) {
            ui.label(RichText::new(p).color(style::LOST).small());
        }
    });
    ui.end_row();
}

fn check_row(ui: &mut egui::Ui, name: &str, value: &mut bool, help: &str) {
    ui.label(name).on_hover_text(help);
    ui.checkbox(value, "").on_hover_text(help);
    ui.end_row();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_round_trips_the_live_default_and_every_preset() {
        let c = presets::live_default();
        assert_eq!(SettingsForm::from_config(&c, None).parse().unwrap(), c);
        for p in presets::PRESETS {
            let c = (p.build)();
            let back = SettingsForm::from_config(&c, Some(p.name)).parse().unwrap();
            assert_eq!(back.settings, c.settings, "{}", p.name);
            assert_eq!(back.workload, c.workload, "{}", p.name);
            assert_eq!(back.forward_script, c.forward_script, "{}", p.name);
            assert_eq!(
                back.forward.burst.is_some(),
                c.forward.burst.is_some(),
                "{}",
                p.name
            );
            assert_eq!(back.forward.delay, c.forward.delay, "{}", p.name);
        }
    }

    #[test]
    fn out_of_range_values_are_named() {
        let mut f = SettingsForm {
            max_transfer_window_size: "5000".into(),
            acknowledgement_interval: "soon".into(),
            loss_pct: "150".into(),
            ..SettingsForm::default()
        };
        let e = f.parse().unwrap_err();
        assert_eq!(e["maxTransferWindowSize"], "must be between 1 and 4096");
        assert!(e["acknowledgementInterval"].contains("not a duration"));
        assert!(e["loss"].contains("percentage"));
        f.acknowledgement_interval = "500ms".into();
        f.max_transfer_window_size = "16".into();
        f.loss_pct = "1".into();
        let c = f.parse().unwrap();
        assert_eq!(c.settings.acknowledgement_interval, Duration::from_millis(500));
        assert!(f.snippet().unwrap().contains("maxTransferWindowSize=\"16\""));
    }
}
