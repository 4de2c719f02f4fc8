//! The detail pane: the selected message's fields at once, and its decoded headers and
//! pretty-printed XML read on demand (from the live session's bytes, or re-read from the capture
//! file off the UI thread).

use super::model::{Dataset, Origin};
use super::style;
use crate::cli::inspect;
use crate::trace::Wire;
use crate::wsrm;
use eframe::egui::{self, RichText};
use std::sync::mpsc;

/// What the pane shows beyond the timeline's fields.
#[derive(Clone, Debug, Default)]
pub struct Detail {
    /// The HTTP head, or the net.tcp framing record, of a captured message.
    pub http_head: Option<String>,
    pub decoded: String,
    pub xml: String,
    /// Message logs: the record(s) the message was read from.
    pub record: Option<String>,
    /// Message logs: the same message as logged at service level (decrypted), decoded and XML.
    pub service_level: Option<(String, String)>,
}

enum Content {
    Empty,
    Loading(mpsc::Receiver<Result<Detail, String>>),
    Ready(Detail),
    Failed(String),
}

pub struct DetailState {
    key: Option<(u64, u32)>,
    content: Content,
}

impl Default for DetailState {
    fn default() -> Self {
        DetailState {
            key: None,
            content: Content::Empty,
        }
    }
}

fn describe(bytes: &[u8]) -> (String, String) {
    let opts = wsrm::Options {
        lenient: true,
        ..wsrm::Options::default()
    };
    let mut decoded = match wsrm::decode_with(bytes, &opts) {
        Ok(d) => inspect::text(&d),
        Err(e) => format!("Not decoded: {e}"),
    };
    decoded.push_str(&inspect::security_text(wsrm::security::summarize(bytes).as_ref()));
    (decoded, wsrm::pretty::pretty(bytes))
}

/// Where message logs keep the records of one message.
#[derive(Clone, Debug)]
struct LogRefs {
    paths: Vec<std::path::PathBuf>,
    wire: Wire,
    service_level: Option<u64>,
    /// Records of the message other than the wire's own (the other end's; a capture's logs).
    records: Vec<u64>,
}

fn log_refs(d: &Dataset, i: u32) -> Option<LogRefs> {
    let log = d.log.as_ref()?;
    Some(LogRefs {
        paths: log.paths.clone(),
        wire: d.wire(i)?,
        service_level: log.service_level.get(&i).copied(),
        records: log.records.get(&i).cloned().unwrap_or_default(),
    })
}

/// One record of a log: (where it is, its HTTP head, its envelope bytes).
fn read_log_record(
    paths: &[std::path::PathBuf],
    origin: u64,
) -> Result<(String, Option<String>, Vec<u8>), String> {
    let (file, offset) = crate::svclog::split_origin(origin);
    let path = paths.get(file).ok_or("the log of this message is not open")?;
    let bytes = crate::svclog::read_record_at(path, offset)?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    // One parse gives the logging source, the HTTP head and where the envelope is.
    match crate::svclog::record::parse(&bytes) {
        Ok(crate::svclog::record::Record {
            content: crate::svclog::record::Content::Message(m),
            ..
        }) => {
            let place = format!("{} record at byte {offset} of {name}", m.source);
            match m.envelope {
                Some(range) => Ok((place, m.http, bytes[range].to_vec())),
                None => Err(format!("{place}: the record holds no envelope")),
            }
        }
        Ok(_) => Err(format!("record at byte {offset} of {name}: not a logged message")),
        Err(e) => Err(format!("record at byte {offset} of {name}: {e}")),
    }
}

fn load_log(r: &LogRefs) -> Result<Detail, String> {
    let (place, http, env) = read_log_record(&r.paths, r.wire.origin)?;
    let (decoded, xml) = describe(&env);
    let mut detail = Detail {
        http_head: http,
        decoded,
        xml,
        record: Some(place),
        service_level: None,
    };
    add_log_records(&mut detail, r);
    Ok(detail)
}

/// The other records of the message and its service-level copy, into `detail`.
fn add_log_records(detail: &mut Detail, r: &LogRefs) {
    let mut lines: Vec<String> = detail.record.take().into_iter().collect();
    for &o in &r.records {
        lines.push(match read_log_record(&r.paths, o) {
            Ok((place, _, _)) => place,
            Err(e) => e,
        });
    }
    detail.record = (!lines.is_empty()).then(|| lines.join("\n"));
    detail.service_level = match r.service_level.map(|o| read_log_record(&r.paths, o)) {
        Some(Ok((place, _, env))) => {
            let (dec, xml) = describe(&env);
            Some((format!("{place}\n{dec}"), xml))
        }
        Some(Err(e)) => Some((e, String::new())),
        None => None,
    };
}

/// A captured message, with the log records of it when logs are attached.
fn load_capture_with_logs(
    path: &[std::path::PathBuf],
    w: &Wire,
    logs: Option<&LogRefs>,
) -> Result<Detail, String> {
    let mut detail = load_capture(path, w)?;
    if let Some(r) = logs {
        add_log_records(&mut detail, r);
    }
    Ok(detail)
}

/// Reads and decodes one message (runs on a worker thread for captures).
pub fn load(d: &Dataset, i: u32) -> Result<Detail, String> {
    let w = d.wire(i).ok_or("no such message")?;
    match &d.origin {
        Origin::Live => {
            let bytes = d
                .payloads
                .get(w.origin as usize)
                .ok_or("the bytes of this message were not kept (memory budget)")?;
            let (decoded, xml) = describe(bytes);
            Ok(Detail {
                http_head: None,
                decoded,
                xml,
                ..Detail::default()
            })
        }
        Origin::Capture(paths) => load_capture_with_logs(paths, &w, log_refs(d, i).as_ref()),
        Origin::Logs(_) => load_log(&log_refs(d, i).ok_or("no such message")?),
    }
}

fn load_capture(paths: &[std::path::PathBuf], w: &Wire) -> Result<Detail, String> {
    let m = crate::capture::extract::read_message_from(paths, w)?;
    let (decoded, xml) = if let Some(why) = m.problem {
        (format!("Not decoded: {why}"), String::new())
    } else if m.body.is_empty() {
        ("No body.".to_string(), String::new())
    } else {
        describe(&m.body)
    };
    Ok(Detail {
        http_head: Some(m.head),
        decoded,
        xml,
        ..Detail::default()
    })
}

/// Pretty-printed XML that scrolls sideways instead of wrapping its long lines.
fn xml_view(ui: &mut egui::Ui, id: &str, xml: &str) {
    egui::ScrollArea::horizontal().id_salt(id).show(ui, |ui| {
        ui.add(
            egui::Label::new(RichText::new(xml).monospace())
                .selectable(true)
                .wrap_mode(egui::TextWrapMode::Extend),
        );
    });
}

impl DetailState {
    /// Whether a load is under way (the app keeps repainting).
    pub fn loading(&self) -> bool {
        matches!(self.content, Content::Loading(_))
    }

    /// The loaded detail, if any (tests).
    pub fn ready(&self) -> Option<&Detail> {
        match &self.content {
            Content::Ready(d) => Some(d),
            _ => None,
        }
    }

    /// Starts loading when the selection changed; picks up a finished load.
    pub fn update(&mut self, d: &Dataset, selected: Option<u32>, wake: &egui::Context) {
        let key = selected.map(|i| (d.id, i));
        if key != self.key {
            self.key = key;
            self.content = match selected {
                None => Content::Empty,
                Some(i) => match &d.origin {
                    Origin::Live => match load(d, i) {
                        Ok(x) => Content::Ready(x),
                        Err(e) => Content::Failed(e),
                    },
                    Origin::Capture(paths) => {
                        let (tx, rx) = mpsc::channel();
                        let path = paths.clone();
                        let wire = d.wire(i);
                        let logs = log_refs(d, i);
                        let ctx = wake.clone();
                        std::thread::spawn(move || {
                            let r = wire
                                .ok_or("no such message".to_string())
                                .and_then(|w| load_capture_with_logs(&path, &w, logs.as_ref()));
                            let _ = tx.send(r);
                            ctx.request_repaint();
                        });
                        Content::Loading(rx)
                    }
                    Origin::Logs(_) => match log_refs(d, i) {
                        None => Content::Failed("no such message".into()),
                        Some(refs) => {
                            let (tx, rx) = mpsc::channel();
                            let ctx = wake.clone();
                            std::thread::spawn(move || {
                                let _ = tx.send(load_log(&refs));
                                ctx.request_repaint();
                            });
                            Content::Loading(rx)
                        }
                    },
                },
            };
        }
        if let Content::Loading(rx) = &self.content {
            match rx.try_recv() {
                Ok(Ok(x)) => self.content = Content::Ready(x),
                Ok(Err(e)) => self.content = Content::Failed(e),
                Err(mpsc::TryRecvError::Empty) => {}
                Err(mpsc::TryRecvError::Disconnected) => {
                    self.content = Content::Failed("reading the message failed".into())
                }
            }
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, d: &Dataset, selected: Option<u32>) {
        let Some(i) = selected else {
            ui.weak("Select a message in the list, a plot, the ladder or a finding.");
            return;
        };
        let Some(w) = d.wire(i) else { return };
        egui::ScrollArea::vertical()
            .id_salt("detail")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                egui::Grid::new("detail-fields")
                    .num_columns(2)
                    .striped(true)
                    .show(ui, |ui| {
                        let mut row = |k: &str, v: String| {
                            ui.label(RichText::new(k).strong());
                            ui.label(v);
                            ui.end_row();
                        };
                        row(
                            match (w.frame > 0, d.frame_unit()) {
                                (false, _) => "No.",
                                (true, "record") => "Record",
                                (true, _) => "Frame",
                            },
                            d.number_of(i).to_string(),
                        );
                        // Several files read as one: where the frame is in its own file.
                        if let Some(st) = d
                            .stats
                            .as_ref()
                            .filter(|s| s.frame_map.files.len() > 1 && w.frame > 0)
                        {
                            row("In file", st.frame_name(w.frame));
                        }
                        let first = (crate::capture::reader::split_origin(w.origin).0)
                            .max(1)
                            .min(w.frame);
                        for (f, c) in d.timeline.comments_between(first, w.frame) {
                            row("Comment", format!("frame {f}: {c}"));
                        }
                        row("Time", format!("{:.6} s", w.time.as_secs_f64()));
                        if let Some(at) = d.arrival(i) {
                            row(
                                "Arrived",
                                format!(
                                    "{:.6} s ({:.3} ms on the way)",
                                    at.as_secs_f64(),
                                    at.as_secs_f64() * 1e3 - w.time.as_secs_f64() * 1e3
                                ),
                            );
                        }
                        row(
                            "From -> To",
                            format!("{} -> {}", d.endpoint(w.from), d.endpoint(w.to)),
                        );
                        row("Kind", w.kind.label().to_string());
                        if !w.seq.is_none() {
                            row("Sequence", d.sequence_name(w.seq).to_string());
                        }
                        if w.kind.is_sequenced() && w.number > 0 {
                            row("Message number", w.number.to_string());
                            row("Copy", (w.attempt() + 1).to_string());
                        }
                        let info = d.info(i);
                        if !info.is_empty() {
                            row("Info", info);
                        }
                        row("Size", format!("{} bytes", w.size));
                        if let Some(how) = d.loss_label(i) {
                            row("Link", format!("{how} (never arrived)"));
                        }
                    });
                ui.separator();
                match &self.content {
                    Content::Empty => {}
                    Content::Loading(_) => {
                        ui.horizontal(|ui| {
                            ui.spinner();
                            ui.label("Reading the message from the file…");
                        });
                    }
                    Content::Failed(e) => {
                        ui.colored_label(style::LOST, e);
                    }
                    Content::Ready(x) => {
                        if let Some(r) = &x.record {
                            egui::CollapsingHeader::new("Log record")
                                .default_open(true)
                                .show(ui, |ui| {
                                    ui.monospace(r.trim_end());
                                });
                        }
                        if let Some(h) = &x.http_head {
                            let title = if h.starts_with("net.tcp") {
                                "net.tcp framing"
                            } else {
                                "HTTP"
                            };
                            egui::CollapsingHeader::new(title)
                                .default_open(false)
                                .show(ui, |ui| {
                                    ui.monospace(h.trim_end());
                                });
                        }
                        egui::CollapsingHeader::new("WS-Addressing and WS-RM headers")
                            .default_open(true)
                            .show(ui, |ui| {
                                ui.monospace(x.decoded.trim_end());
                            });
                        egui::CollapsingHeader::new("XML")
                            .default_open(true)
                            .show(ui, |ui| {
                                if ui.small_button("Copy XML").clicked() {
                                    ui.ctx().copy_text(x.xml.clone());
                                }
                                xml_view(ui, "xml", &x.xml);
                            });
                        if let Some((dec, xml)) = &x.service_level {
                            egui::CollapsingHeader::new("Service level (decrypted)")
                                .default_open(true)
                                .show(ui, |ui| {
                                    ui.monospace(dec.trim_end());
                                    xml_view(ui, "service-xml", xml);
                                });
                        }
                    }
                }
            });
    }
}
