//! The real app driven through its UI with egui_kittest: clicks by label, typed text, and the
//! state that results.
#![cfg(feature = "gui")]

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use rmscope::trace::{WireFlags, WireKind};
use rmscope::ui::{App, StartOptions};
use std::time::{Duration, Instant};

fn harness(opts: StartOptions) -> Harness<'static, App> {
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| App::new(cc, opts))
}

/// Steps frames until `cond` holds (background work: the live driver, the capture loader).
fn settle(h: &mut Harness<'static, App>, what: &str, cond: impl Fn(&App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond(h.state()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    frames(h);
}

/// A few frames: a click is three events (move, press, release), popups open a frame later.
fn frames(h: &mut Harness<'static, App>) {
    for _ in 0..4 {
        h.step();
    }
}

fn text_field<'a>(h: &'a Harness<'static, App>, label: &'a str) -> egui_kittest::Node<'a> {
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, label)
}

fn fast() -> StartOptions {
    StartOptions {
        speed: Some(100.0),
        ..StartOptions::default()
    }
}

#[test]
fn opens_a_sample_capture_from_the_menu_and_a_finding_selects_its_row() {
    let mut h = harness(fast());
    h.get_by_label("File").click();
    frames(&mut h);
    h.get_by_label("Open sample").click();
    frames(&mut h);
    // Each sample says what happens in it (captures/README.md).
    assert!(
        h.query_by_label_contains("the first transmission of message 5 is lost")
            .is_some()
    );
    h.get_by_label("single-loss-2005.pcap").click();
    settle(&mut h, "the capture to load", |a| {
        a.showing_capture && a.loader.is_none()
    });
    // 34 WS-RM POSTs and their 34 "202 Accepted" (tshark -r captures/single-loss-2005.pcap -Y http: 68).
    assert_eq!(h.state().table.row_count(), 68);
    assert!(
        h.query_all_by_label("68 messages").count() >= 1,
        "the list says how many rows"
    );
    assert!(
        h.query_by_label_contains("Capture: single-loss-2005.pcap")
            .is_some()
    );

    // The retransmission finding jumps to frame 67, message 5's second copy.
    h.get_by_label_contains("retransmission of message 5").click();
    settle(&mut h, "the detail to load", |a| a.detail.ready().is_some());
    let app = h.state();
    let w = app
        .dataset()
        .wire(app.selected.expect("a row is selected"))
        .unwrap();
    assert_eq!((w.frame, w.number, w.attempt()), (67, 5, 1));
    assert!(
        h.query_all_by_label("#5 (copy 2)").count() >= 1,
        "detail pane and list show it"
    );
    let detail = h.state().detail.ready().unwrap();
    assert!(detail.xml.contains("MessageNumber>5<"), "{}", detail.xml);
    assert!(detail.http_head.as_deref().unwrap().starts_with("POST "));
}

#[test]
fn an_out_of_range_window_is_explained_next_to_the_field() {
    let mut h = harness(fast());
    text_field(&h, "maxTransferWindowSize").focus();
    frames(&mut h);
    h.key_press_modifiers(egui::Modifiers::COMMAND | egui::Modifiers::CTRL, egui::Key::A);
    frames(&mut h);
    text_field(&h, "maxTransferWindowSize").type_text("5000");
    frames(&mut h);
    assert_eq!(h.state().form.max_transfer_window_size, "5000");
    assert!(h.query_by_label("must be between 1 and 4096").is_some());
    // Apply is refused while a value is wrong.
    assert!(
        h.get_by_label("Apply (restart live)")
            .accesskit_node()
            .is_disabled()
    );
}

#[test]
fn the_single_loss_preset_shows_a_retransmission_in_the_list() {
    let mut h = harness(fast());
    h.get_by_label("Single loss").click();
    settle(&mut h, "the preset run to finish", |a| {
        a.live.done
            && a.live
                .data
                .config
                .as_ref()
                .is_some_and(|c| c.workload.messages == 30)
    });
    assert_eq!(h.state().live.report.retransmissions, 1);
    assert!(
        h.query_by_label_contains("what to watch").is_some(),
        "the preset explains itself"
    );
    text_field(&h, "Filter").focus();
    frames(&mut h);
    text_field(&h, "Filter").type_text("msg:5 kind:message");
    settle(&mut h, "the filter", |a| a.table.row_count() == 2);
    assert!(
        h.query_by_label("#5 (copy 2)").is_some(),
        "the retransmission is listed"
    );
    // A field the filter does not know is said inline, not an empty list.
    text_field(&h, "Filter").type_text(" foo:1");
    frames(&mut h);
    assert!(
        h.query_by_label_contains("unknown filter field \"foo:\"")
            .is_some(),
        "the filter says what is wrong"
    );
}

#[test]
fn importing_a_wcf_config_fills_the_form_after_picking_a_binding() {
    let mut h = harness(fast());
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/app.config");
    h.state_mut().dialogs.scripted.push_back(Some(config));
    h.get_by_label("Import WCF config…").click();
    frames(&mut h);
    // Two bindings: the app asks which.
    h.get_by_label_contains("customBinding \"ReliableCustom\"")
        .click();
    frames(&mut h);
    let f = &h.state().form;
    assert_eq!(f.max_transfer_window_size, "16");
    assert_eq!(f.max_retry_count, "5");
    assert_eq!(f.max_pending_channels, "8");
    assert_eq!(f.acknowledgement_interval, "00:00:00.1000000");
    assert_eq!(f.inactivity_timeout, "00:05:00");
    assert_eq!(f.version, rmscope::wsrm::RmVersion::V1_1);
    assert_eq!(
        text_field(&h, "maxTransferWindowSize").value().as_deref(),
        Some("16")
    );
    assert!(
        h.get_all_by_label("reliableMessagingVersion")
            .any(|n| n.value().as_deref() == Some("WSReliableMessaging11")),
        "the version box shows the imported version"
    );
}

#[test]
fn a_broken_capture_reports_an_error_in_the_window() {
    let mut h = harness(fast());
    let bad = std::env::temp_dir().join("rmscope-gui-garbage.pcap");
    std::fs::write(&bad, b"this is not a capture at all").unwrap();
    h.state_mut().dialogs.scripted.push_back(Some(bad));
    h.get_by_label("File").click();
    frames(&mut h);
    h.get_by_label_contains("Open capture").click();
    settle(&mut h, "the loader to fail", |a| {
        a.loader.is_none() && !a.errors.is_empty()
    });
    assert!(
        h.query_by_label_contains("not a pcap or pcapng capture")
            .is_some()
    );
    assert!(!h.state().showing_capture, "the live view stays");
}

#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// Moves the pointer to the middle of the plots.
fn point_at_plots(h: &mut Harness<'static, App>) {
    let c = h.state().central_rect().center();
    h.input_mut().events.push(egui::Event::PointerMoved(c));
    frames(h);
}

fn sample(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

#[test]
fn a_dropped_capture_opens_and_the_keys_zoom_and_fit_the_plots() {
    let mut h = harness(fast());
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(sample("retry-exhaustion.pcap"))));
    settle(&mut h, "the dropped capture", |a| {
        a.showing_capture && a.loader.is_none()
    });
    frames(&mut h);
    // Plot keys act while the pointer is on the plots.
    point_at_plots(&mut h);
    let (a0, a1) = h.state().plots.visible.expect("plots drawn");
    h.key_press(egui::Key::Plus);
    frames(&mut h);
    let (b0, b1) = h.state().plots.visible.unwrap();
    let ratio = (a1 - a0) / (b1 - b0);
    assert!((ratio - 1.5).abs() < 0.05, "+ zooms in 1.5x: {ratio}");
    h.key_press(egui::Key::ArrowRight);
    frames(&mut h);
    let (c0, _) = h.state().plots.visible.unwrap();
    assert!(c0 > b0, "right arrow pans later in time");
    h.key_press(egui::Key::Num0);
    frames(&mut h);
    let (d0, d1) = h.state().plots.visible.unwrap();
    assert!(
        ((d1 - d0) - (a1 - a0)).abs() < 1e-6 * (a1 - a0).max(1.0),
        "0 fits everything again"
    );
    // The retry-exhaustion fault is a finding with error severity.
    assert!(
        h.state()
            .dataset()
            .findings
            .iter()
            .any(|f| f.severity == rmscope::analysis::Severity::Error)
    );
    assert!(h.query_by_label_contains("SequenceTerminated").is_some());
}

#[test]
fn dropping_the_next_message_loses_exactly_one() {
    let mut h = harness(StartOptions {
        preset: Some("WS-RM 1.1 close".into()),
        speed: Some(0.5),
        ..StartOptions::default()
    });
    settle(&mut h, "the session to open", |a| {
        a.live
            .data
            .timeline
            .wires
            .iter()
            .any(|w| w.kind == rmscope::trace::WireKind::Data)
    });
    // Paused, so the drop stays armed while we look.
    h.key_press(egui::Key::Space);
    settle(&mut h, "the pause", |a| a.live.paused);
    // A session still running has no end-of-session findings.
    assert!(
        h.state()
            .live
            .data
            .findings
            .iter()
            .all(|f| !f.text.contains("never terminated") && !f.text.contains("gap never filled")),
        "{:?}",
        h.state().live.data.findings
    );
    h.get_by_label("Drop next message").click();
    frames(&mut h);
    assert!(
        h.query_by_label("Drop armed: next message").is_some(),
        "the armed drop shows"
    );
    h.key_press(egui::Key::Space);
    h.state_mut().live.set_speed(100.0);
    settle(&mut h, "the run to finish", |a| a.live.done);
    assert!(
        h.query_by_label_contains("Drop armed").is_none(),
        "done: nothing armed"
    );
    let live = &h.state().live;
    assert_eq!(live.data.dropped.len(), 1, "marked as dropped on request");
    let w = *live.data.dropped.iter().next().unwrap();
    assert_eq!(live.data.loss_label(w), Some("dropped on request"));
    assert_eq!(
        live.report.lost_on_link, 1,
        "only the scripted drop (the preset's link is clean)"
    );
    assert_eq!(live.report.retransmissions, 1);
    assert_eq!(live.report.delivered, 10);
    assert_eq!(live.data.lost.len(), 1);
    // The sequence/time plot marks it apart from random losses.
    let app = h.state_mut();
    let pd = app.plots.data(&app.live.data);
    assert_eq!(pd.seq_time.dropped.pts.len(), 1);
    assert!(pd.seq_time.lost.pts.is_empty(), "the preset's link is clean");
}

#[test]
fn the_live_session_saves_as_pcapng_and_reopens_with_the_same_messages() {
    let mut h = harness(StartOptions {
        preset: Some("single-loss".into()),
        speed: Some(100.0),
        ..StartOptions::default()
    });
    settle(&mut h, "the run to finish", |a| a.live.done);
    let live_wires = h.state().live.data.timeline.wires.len();
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("live.pcapng");
    let csv = dir.path().join("live.csv");
    h.state_mut().dialogs.scripted.push_back(Some(pcap.clone()));
    h.get_by_label("File").click();
    frames(&mut h);
    h.get_by_label("Save live session as pcapng…").click();
    frames(&mut h);
    // Written off the UI thread; the status bar says so until it is done.
    settle(&mut h, "the pcapng save", |a| a.saver.is_none());
    let saved = format!("Saved {}", pcap.display());
    assert_eq!(h.state().notice.as_deref(), Some(saved.as_str()));
    h.state_mut().dialogs.scripted.push_back(Some(csv.clone()));
    h.get_by_label("File").click();
    frames(&mut h);
    h.get_by_label("Export timeline as CSV…").click();
    frames(&mut h);
    let rows = std::fs::read_to_string(&csv).unwrap().lines().count();
    assert_eq!(rows, live_wires + 1, "a header and one row per message");
    h.state_mut().dialogs.scripted.push_back(Some(pcap));
    h.get_by_label("File").click();
    frames(&mut h);
    h.get_by_label_contains("Open capture").click();
    settle(&mut h, "the saved capture", |a| {
        a.showing_capture && a.loader.is_none()
    });
    let d = h.state().dataset();
    let sequenced = |t: &rmscope::trace::Timeline| {
        t.wires
            .iter()
            .filter(|w| w.kind != rmscope::trace::WireKind::Http)
            .count()
    };
    assert_eq!(sequenced(&d.timeline), sequenced(&h.state().live.data.timeline));
    assert_eq!(d.analysis.sequences[0].retransmissions, 1);

    // The same session as net.tcp: back to live, save, reopen.
    h.get_by_label("Live").click();
    frames(&mut h);
    let nettcp = dir.path().join("live-nettcp.pcapng");
    h.state_mut().dialogs.scripted.push_back(Some(nettcp.clone()));
    h.get_by_label("File").click();
    frames(&mut h);
    h.get_by_label("Save live session as net.tcp pcapng…").click();
    frames(&mut h);
    settle(&mut h, "the net.tcp save", |a| a.saver.is_none());
    assert!(h.state().errors.is_empty(), "{:?}", h.state().errors);
    h.state_mut().dialogs.scripted.push_back(Some(nettcp));
    h.get_by_label("File").click();
    frames(&mut h);
    h.get_by_label_contains("Open capture").click();
    settle(&mut h, "the net.tcp capture", |a| {
        a.showing_capture && a.loader.is_none() && a.dataset().timeline.wires.len() == live_wires
    });
    let d = h.state().dataset();
    use rmscope::analysis::Severity;
    assert!(
        d.findings
            .iter()
            .all(|f| matches!(f.severity, Severity::Chat | Severity::Note)),
        "{:?}",
        d.findings
    );
    assert_eq!(d.analysis.sequences[0].retransmissions, 1);
    assert!(d.timeline.endpoints.iter().any(|e| e.ends_with(":808")));
}

#[test]
fn a_b_compare_runs_both_and_summarises() {
    let mut h = harness(fast());
    h.get_by_label("A/B compare").click();
    frames(&mut h);
    h.get_by_label("Run A and B").click();
    settle(&mut h, "both runs", |a| a.compare.result.is_some());
    let r = h.state().compare.result.as_ref().unwrap();
    // Same link and seed, the whole workload accounted for by both: delivered, or a send that
    // timed out waiting for the window (WCF's TimeoutException after sendTimeout).
    let handled = |x: &rmscope::sim::Report| x.delivered + x.send_timeouts;
    assert_eq!(handled(&r.a.report), 2000);
    assert_eq!(handled(&r.b.report), 2000);
    assert!(r.a.report.faults.is_empty() && r.b.report.faults.is_empty());
    assert!(
        r.a.snippet
            .contains("acknowledgementInterval=\"00:00:00.2000000\"")
    );
    assert!(r.b.snippet.contains("acknowledgementInterval=\"00:00:01\""));
    assert!(
        r.b.report.completion_time > r.a.report.completion_time,
        "slower acks finish later"
    );
    assert!(h.query_by_label("completion time [s]").is_some());
    assert!(h.query_by_label("B − A").is_some());
}

#[test]
fn the_ladder_lists_messages_and_a_click_selects_one() {
    let mut h = harness(StartOptions {
        files: vec![sample("single-loss-2005.pcap")],
        view: Some("ladder".into()),
        ..StartOptions::default()
    });
    settle(&mut h, "the capture", |a| a.showing_capture && a.loader.is_none());
    assert!(h.query_by_label("Only the plots' time range").is_some());
    h.get_all_by_label_contains("No. 15 ")
        .next()
        .expect("a ladder row for frame 15")
        .click();
    frames(&mut h);
    let app = h.state();
    let w = app.dataset().wire(app.selected.expect("selected")).unwrap();
    assert_eq!((w.frame, w.number), (15, 1));
}

#[test]
fn the_theme_follows_the_view_menu() {
    let mut h = harness(fast());
    h.get_by_label("View").click();
    frames(&mut h);
    h.get_by_label("Light").click();
    frames(&mut h);
    assert_eq!(h.ctx.theme(), egui::Theme::Light);
}

#[test]
fn the_plot_exports_as_a_png_of_the_plot_area() {
    let mut h = harness(StartOptions {
        files: vec![sample("burst-loss-1.1.pcap")],
        ..StartOptions::default()
    });
    settle(&mut h, "the capture", |a| a.showing_capture && a.loader.is_none());
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("plot.png");
    h.state_mut().dialogs.scripted.push_back(Some(png.clone()));
    h.get_by_label("File").click();
    frames(&mut h);
    h.get_by_label("Export plot as PNG…").click();
    settle(&mut h, "the screenshot", |a| {
        a.notice.as_deref().is_some_and(|n| n.starts_with("Saved"))
    });
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    // The central area of a 1400x900 window: narrower and shorter than the window.
    assert!(info.width > 300 && info.width < 1400, "{}", info.width);
    assert!(info.height > 200 && info.height < 900, "{}", info.height);
    let first = &buf[..4];
    assert!(buf.chunks(4).any(|px| px != first), "the image has content");
    if let Ok(keep) = std::env::var("RMSCOPE_KEEP_PNG") {
        std::fs::copy(&png, keep).unwrap();
    }
}

#[test]
fn a_broken_config_names_its_line_and_the_snippet_saves() {
    let mut h = harness(fast());
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("web.config");
    std::fs::write(
        &bad,
        "<configuration>\n<system.serviceModel><bindings><customBinding><binding name=\"x\">\n<reliableSession maxRetryCount=\"lots\" />\n</binding></customBinding></bindings></system.serviceModel></configuration>\n",
    )
    .unwrap();
    h.state_mut().dialogs.scripted.push_back(Some(bad));
    h.get_by_label("Import WCF config…").click();
    frames(&mut h);
    let err = h.state().errors.last().cloned().expect("an error");
    assert!(err.starts_with("web.config: line 3:"), "{err}");
    assert!(
        h.query_by_label_contains("web.config: line 3:").is_some(),
        "shown in the window"
    );
    assert_eq!(h.state().form.max_retry_count, "8", "the form is unchanged");

    let out = dir.path().join("rs.config");
    h.get_by_label("Export snippet…").click();
    frames(&mut h);
    h.state_mut().dialogs.scripted.push_back(Some(out.clone()));
    h.get_by_label("Save…").click();
    frames(&mut h);
    let text = std::fs::read_to_string(&out).unwrap();
    // The binding too: a customBinding whose elements give the form's shape.
    assert!(
        text.starts_with("<customBinding>\n  <binding name=\"rmscope\">\n    <reliableSession acknowledgementInterval=\"00:00:00.2000000\""),
        "{text}"
    );
    assert!(text.contains("reliableMessagingVersion=\"WSReliableMessagingFebruary2005\""));
    let back = rmscope::config::parse(&text).unwrap();
    assert_eq!(back.len(), 1, "{text}");
    assert_eq!(
        back[0].binding.map(|b| b.shape()),
        Some(h.state().form.shape),
        "{text}"
    );
}

#[test]
fn space_pauses_and_resumes_the_live_session() {
    let mut h = harness(StartOptions {
        speed: Some(1.0),
        ..StartOptions::default()
    });
    frames(&mut h);
    assert!(!h.state().live.paused);
    h.key_press(egui::Key::Space);
    settle(&mut h, "the pause", |a| a.live.paused);
    let t = h.state().live.now;
    std::thread::sleep(Duration::from_millis(200));
    frames(&mut h);
    assert_eq!(h.state().live.now, t, "time stands still while paused");
    assert!(h.query_by_label("Resume").is_some());
    h.key_press(egui::Key::Space);
    settle(&mut h, "time to move again", |a| !a.live.paused && a.live.now > t);
}

/// Switches the live link to HTTP loopback with `messages` messages, unpaced, and waits for
/// the session to finish.
fn run_over_http_loopback(h: &mut Harness<'static, App>, messages: u32) {
    {
        let form = &mut h.state_mut().form;
        form.messages = messages.to_string();
        form.msg_rate = String::new();
    }
    h.get_by_label("HTTP loopback").click();
    frames(h);
    // WCF over HTTP is the request-reply channel pair: picking the link picks the shape.
    assert_eq!(h.state().form.shape, rmscope::engine::Shape::OneWayOverRequest);
    h.get_by_label("Apply (restart live)").click();
    settle(h, "the HTTP session to finish", |a| {
        a.live.done && a.live.real_time()
    });
}

#[test]
fn the_http_loopback_link_runs_in_real_time_with_the_preset_drops() {
    let mut h = harness(StartOptions {
        preset: Some("single-loss".into()),
        ..StartOptions::default()
    });
    run_over_http_loopback(&mut h, 12);
    let live = &h.state().live;
    // The preset's scripted drop happens before the socket; the rest crosses real HTTP.
    assert_eq!(live.report.delivered, 12);
    // Over request-reply every data message is answered by its own ack, and none asks.
    let data = live
        .data
        .timeline
        .wires
        .iter()
        .filter(|w| w.kind == WireKind::Data);
    assert!(data.clone().all(|w| !w.flags.has(WireFlags::ACK_REQUESTED)));
    assert_eq!(live.report.lost_on_link, 1);
    assert_eq!(live.report.retransmissions, 1);
    assert!(
        live.data
            .timeline
            .endpoints
            .iter()
            .all(|e| e.starts_with("127.0.0.1:")),
        "endpoints are the real sockets"
    );
    // Pause, Step and the speed slider are for the simulated link only.
    for label in ["Pause", "Step"] {
        assert!(h.get_by_label(label).accesskit_node().is_disabled(), "{label}");
    }
    assert!(h.query_by_label_contains("finished").is_some());
}

#[test]
fn a_live_capture_on_lo_follows_the_http_session() {
    let mut h = harness(StartOptions {
        preset: Some("single-loss".into()),
        ..StartOptions::default()
    });
    h.get_by_label("Capture").click();
    frames(&mut h);
    h.get_by_label("Live from an interface…").click();
    frames(&mut h);
    h.get_by_label("Start").click();
    frames(&mut h);
    if let Some(e) = h.state().live_capture.error.clone() {
        // Without the right to capture the window says how to get it (CI runs as root).
        assert!(e.contains("setcap cap_net_raw,cap_net_admin=eip"), "{e}");
        assert!(h.query_by_label_contains("no permission to capture").is_some());
        return;
    }
    assert!(h.state().live_capture.running.is_some());
    // Other tests run HTTP sessions with the same seed on lo at the same time: each real run
    // has identifiers of its own, so the capture tells this session apart.
    run_over_http_loopback(&mut h, 20);
    // The capture grows while it runs.
    settle(&mut h, "frames to be decoded", |a| {
        a.capture.as_ref().is_some_and(|c| c.timeline.wires.len() > 20)
    });
    std::thread::sleep(Duration::from_millis(300));
    h.get_by_label("Stop").click();
    settle(&mut h, "the capture to stop", |a| {
        a.live_capture.running.is_none()
    });
    let app = h.state();
    assert_eq!(app.live_capture.error, None);
    let report = &app.live.report;
    let own = &app.live.data.analysis.sequences[0];
    let cap = app.capture.as_ref().expect("the captured dataset");
    let s = cap
        .analysis
        .sequences
        .iter()
        .find(|s| s.id == own.id)
        .expect("the session's sequence was captured");
    // The scripted drop never reached the socket: the capture sees one transmission fewer.
    assert_eq!(s.transmissions, report.transmissions - report.lost_on_link);
    assert_eq!(s.acks, report.acks);
    assert!(s.terminated);
}

#[test]
fn a_net_tcp_row_shows_its_binary_envelope_as_xml() {
    let mut h = harness(StartOptions {
        files: vec![sample("nettcp-mono.pcapng")],
        view: Some("ladder".into()),
        ..StartOptions::default()
    });
    settle(&mut h, "the capture", |a| a.showing_capture && a.loader.is_none());
    assert_eq!(h.state().table.row_count(), 5);
    assert!(h.query_by_label_contains("5 net.tcp envelopes").is_some());
    // Frame 12: the one-way Notify call (captures/mono/README.md).
    h.get_all_by_label_contains("No. 12 ")
        .next()
        .expect("a ladder row for frame 12")
        .click();
    settle(&mut h, "the detail to load", |a| a.detail.ready().is_some());
    let detail = h.state().detail.ready().unwrap();
    assert!(detail.xml.contains("note 2"), "{}", detail.xml);
    assert!(
        detail.decoded.contains("http://tempuri.org/IRmDemo/Notify"),
        "{}",
        detail.decoded
    );
    let head = detail.http_head.as_deref().unwrap();
    assert!(
        head.starts_with("net.tcp envelope record to net.tcp://"),
        "{head}"
    );
}

fn shared_log(name: &str) -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/wcf-svclog");
    if !dir.is_dir() {
        assert!(std::env::var_os("CI").is_none(), "{} is missing", dir.display());
        eprintln!("skipped: {} is absent", dir.display());
        return None;
    }
    Some(dir.join(name))
}

#[test]
fn opens_a_message_log_from_the_file_menu_with_its_handshakes_sequences_and_decrypted_body() {
    let Some(log) = shared_log("wcf-svclog-wshttp-rm10-msgsec-messages.svclog") else {
        return;
    };
    let mut h = harness(fast());
    h.state_mut().dialogs.scripted.push_back(Some(log));
    h.get_by_label("File").click();
    frames(&mut h);
    h.get_by_label_contains("Open capture or logs").click();
    settle(&mut h, "the log to load", |a| {
        a.showing_capture && a.loader.is_none()
    });
    assert!(h.state().errors.is_empty(), "{:?}", h.state().errors);
    // 22 records, the 10 service-level ones folded into their transport record.
    assert_eq!(h.state().table.row_count(), 12);
    assert!(
        h.query_by_label_contains("Logs: wcf-svclog-wshttp-rm10-msgsec-messages.svclog")
            .is_some()
    );
    assert!(
        h.query_by_label_contains("22 records · 12 transport + 10 service level (10 folded)")
            .is_some()
    );
    assert!(
        h.query_all_by_label("Security handshake").count() >= 1,
        "the list names the handshakes"
    );
    let d = h.state().dataset();
    let ids: Vec<&str> = d
        .timeline
        .sequences
        .iter()
        .map(|s| s.identifier.as_str())
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    // The request (transport level, encrypted body): its detail shows the decrypted copy.
    let req = d
        .timeline
        .wires
        .iter()
        .position(|w| w.kind == WireKind::Data && !w.flags.has(WireFlags::HAS_ACK))
        .unwrap() as u32;
    h.state_mut().select(Some(req));
    settle(&mut h, "the detail to load", |a| a.detail.ready().is_some());
    let detail = h.state().detail.ready().unwrap().clone();
    assert!(
        detail.decoded.contains("Body: encrypted (aes256-cbc)"),
        "{}",
        detail.decoded
    );
    let (dec, xml) = detail.service_level.expect("a service-level twin");
    assert!(dec.contains("ServiceLevelReceiveRequest"), "{dec}");
    assert!(
        !xml.contains("EncryptedData") && xml.contains("CreateEvent"),
        "{xml}"
    );
    assert!(detail.record.unwrap().contains("TransportReceive"));
    assert!(h.query_by_label_contains("Service level (decrypted)").is_some());
}

#[test]
fn a_capture_opened_with_its_logs_shows_each_messages_log_records() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("s.pcap");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_rmscope"))
        .args(["simulate", "--messages", "10", "--seed", "2", "--pcap"])
        .arg(&pcap)
        .arg("--svclog")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success());
    let files = vec![
        pcap,
        dir.path().join("rm-source.svclog"),
        dir.path().join("rm-destination.svclog"),
    ];
    let mut h = harness(StartOptions { files, ..fast() });
    settle(&mut h, "the capture and logs to load", |a| {
        a.showing_capture && a.loader.is_none()
    });
    assert!(h.state().errors.is_empty(), "{:?}", h.state().errors);
    assert!(
        h.query_by_label_contains("matched to captured messages")
            .is_some()
    );
    let d = h.state().dataset();
    let first = d
        .timeline
        .wires
        .iter()
        .position(|w| w.kind == WireKind::Data)
        .unwrap() as u32;
    h.state_mut().select(Some(first));
    settle(&mut h, "the detail to load", |a| a.detail.ready().is_some());
    let rec = h
        .state()
        .detail
        .ready()
        .unwrap()
        .record
        .clone()
        .expect("log records");
    assert!(
        rec.contains("TransportSend record") && rec.contains("TransportReceive record"),
        "{rec}"
    );
    assert!(h.query_by_label_contains("Log record").is_some());
}

#[test]
fn the_keys_move_the_selection_find_and_go_to_as_in_wireshark() {
    let mut h = harness(StartOptions {
        files: vec![sample("single-loss-2005.pcap")],
        ..fast()
    });
    settle(&mut h, "the capture", |a| a.showing_capture && a.loader.is_none());
    // Away from the plots, Down selects the first row, then the next.
    h.input_mut().events.push(egui::Event::PointerGone);
    frames(&mut h);
    h.key_press(egui::Key::ArrowDown);
    frames(&mut h);
    assert_eq!(h.state().selected, Some(0));
    h.key_press(egui::Key::ArrowDown);
    frames(&mut h);
    assert_eq!(h.state().selected, Some(1));
    h.key_press(egui::Key::ArrowUp);
    frames(&mut h);
    assert_eq!(h.state().selected, Some(0));
    h.key_press(egui::Key::End);
    frames(&mut h);
    assert_eq!(h.state().selected, Some(67), "68 rows: End is the last");
    h.key_press(egui::Key::Home);
    frames(&mut h);
    assert_eq!(h.state().selected, Some(0));
    h.key_press(egui::Key::PageDown);
    frames(&mut h);
    let page = h.state().selected.unwrap();
    assert!(page > 1, "a page is several rows: {page}");
    // The detail pane follows the selection.
    settle(&mut h, "the detail", |a| a.detail.ready().is_some());
    // Ctrl+F focuses the filter; typing filters; Esc clears it.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    frames(&mut h);
    h.input_mut().events.push(egui::Event::Text("kind:ack".into()));
    frames(&mut h);
    assert_eq!(h.state().table.filter_text, "kind:ack");
    assert!(h.state().table.row_count() < 68);
    h.key_press(egui::Key::Escape);
    frames(&mut h);
    assert_eq!(h.state().table.filter_text, "");
    assert_eq!(h.state().table.row_count(), 68);
    // `/` focuses the filter too.
    h.key_press(egui::Key::Slash);
    frames(&mut h);
    h.input_mut().events.push(egui::Event::Text("msg:5".into()));
    frames(&mut h);
    assert_eq!(h.state().table.filter_text, "msg:5");
    h.key_press(egui::Key::Escape);
    frames(&mut h);
    // Ctrl+G: frame 67 is message 5's second copy.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::G);
    frames(&mut h);
    assert!(h.state().go_to.is_some());
    h.input_mut().events.push(egui::Event::Text("67".into()));
    frames(&mut h);
    h.key_press(egui::Key::Enter);
    frames(&mut h);
    let app = h.state();
    let w = app.dataset().wire(app.selected.unwrap()).unwrap();
    assert_eq!((w.frame, w.number, w.attempt()), (67, 5, 1));
    assert!(app.go_to.is_none(), "the box closes");
    // A frame that does not exist says so.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::G);
    frames(&mut h);
    h.input_mut().events.push(egui::Event::Text("9999".into()));
    frames(&mut h);
    h.key_press(egui::Key::Enter);
    frames(&mut h);
    assert!(h.query_by_label_contains("no message at frame 9999").is_some());
}

#[test]
fn panels_fit_without_overlapping_at_three_window_sizes() {
    for (width, height) in [(1024.0f32, 600.0f32), (1280.0, 720.0), (1920.0, 1080.0)] {
        let mut h = Harness::builder()
            .with_size(egui::vec2(width, height))
            .build_eframe(move |cc| {
                App::new(
                    cc,
                    StartOptions {
                        files: vec![sample("single-loss-2005.pcap")],
                        ..fast()
                    },
                )
            });
        settle(&mut h, "the capture", |a| a.showing_capture && a.loader.is_none());
        let l = h.state().layout;
        let rects = [
            ("settings", l.settings),
            ("findings", l.findings),
            ("list", l.list),
            ("detail", l.detail),
            ("central", l.central),
        ];
        for (name, r) in rects {
            assert!(
                r.width() >= 150.0 && r.height() >= 100.0,
                "{width}×{height}: {name} is {r:?}"
            );
        }
        // The detail pane sits inside the list's panel; the others side by side.
        for (i, (a, ra)) in rects.iter().enumerate() {
            for (b, rb) in &rects[i + 1..] {
                if (*a, *b) == ("list", "detail") {
                    assert!(
                        ra.contains_rect(rb.shrink(1.0)),
                        "{width}×{height}: detail inside the list panel"
                    );
                    continue;
                }
                let overlap = ra.intersect(*rb);
                assert!(
                    overlap.width() <= 1.0 || overlap.height() <= 1.0,
                    "{width}×{height}: {a} {ra:?} overlaps {b} {rb:?}"
                );
            }
        }
        assert!(
            l.central.height() >= 0.3 * height,
            "{width}×{height}: the plots keep room: {:?}",
            l.central
        );
    }
}

#[test]
fn the_in_app_file_dialog_opens_a_capture_and_saves_the_live_session() {
    let mut h = harness(fast());
    h.state_mut().dialogs.in_app = true;
    h.get_by_label("File").click();
    frames(&mut h);
    h.get_by_label_contains("Open capture or logs").click();
    frames(&mut h);
    assert!(h.state().dialogs.showing(), "rmscope's own dialog is open");
    // It starts in the samples' folder; a click picks a file, Open opens it.
    h.get_by_label("single-loss-2005.pcap").click();
    frames(&mut h);
    h.get_by_label("Open").click();
    settle(&mut h, "the capture", |a| a.showing_capture && a.loader.is_none());
    assert_eq!(h.state().table.row_count(), 68);
    assert!(!h.state().dialogs.showing());
    // Save: type a name in a folder, Save writes it.
    let dir = tempfile::tempdir().unwrap();
    h.get_by_label("Live").click();
    frames(&mut h);
    h.get_by_label("File").click();
    frames(&mut h);
    h.get_by_label("Export timeline as CSV…").click();
    frames(&mut h);
    assert!(h.state().dialogs.showing());
    // Type the folder (select all, replace, Enter), then the file name.
    for (field, text, enter) in [
        ("Folder", dir.path().display().to_string(), true),
        ("File name", "session.csv".to_string(), false),
    ] {
        text_field(&h, field).focus();
        frames(&mut h);
        h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
        frames(&mut h);
        h.input_mut().events.push(egui::Event::Text(text));
        frames(&mut h);
        if enter {
            h.key_press(egui::Key::Enter);
            frames(&mut h);
        }
    }
    let texts: Vec<String> = h
        .query_all_by_role(egui::accesskit::Role::TextInput)
        .filter_map(|n| n.accesskit_node().value())
        .collect();
    h.get_by_label("Save").click();
    frames(&mut h);
    let out = dir.path().join("session.csv");
    assert!(
        out.is_file(),
        "saved through the in-app dialog: {} (fields {texts:?}, errors {:?})",
        out.display(),
        h.state().errors
    );
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("frame,"));
    // Cancel answers nothing and closes.
    h.get_by_label("File").click();
    frames(&mut h);
    h.get_by_label_contains("Open capture or logs").click();
    frames(&mut h);
    h.get_by_label("Cancel").click();
    frames(&mut h);
    assert!(!h.state().dialogs.showing());
}

#[test]
fn a_captures_legend_lists_only_what_is_drawn_and_shift_zooms_the_value_axis() {
    let mut h = harness(StartOptions {
        files: vec![sample("retry-exhaustion.pcap")],
        view: Some("retransmissions".into()),
        ..fast()
    });
    settle(&mut h, "the capture", |a| a.showing_capture && a.loader.is_none());
    frames(&mut h);
    assert!(
        h.query_by_label("retransmission").is_some(),
        "the resends are drawn and listed"
    );
    // A capture has no engine timer and no link losses: not in the legend.
    assert!(h.query_by_label_contains("retransmission timer").is_none());
    assert!(h.query_by_label("lost").is_none());
    assert!(h.query_by_label("timer expired").is_none());
    // Shift with + zooms the value axis: the time range stays.
    point_at_plots(&mut h);
    let before = h.state().plots.visible.unwrap();
    h.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::Plus);
    frames(&mut h);
    let after = h.state().plots.visible.unwrap();
    assert!(
        (after.0 - before.0).abs() < 1e-9 && (after.1 - before.1).abs() < 1e-9,
        "Shift+ leaves the time axis: {before:?} → {after:?}"
    );
    h.key_press(egui::Key::Plus);
    frames(&mut h);
    let (a, b) = h.state().plots.visible.unwrap();
    assert!(
        ((before.1 - before.0) / (b - a) - 1.5).abs() < 0.05,
        "+ zooms time 1.5×"
    );
}

#[test]
fn a_b_compare_fits_a_small_window_and_says_why_a_run_faulted() {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1024.0, 600.0))
        .build_eframe(move |cc| App::new(cc, fast()));
    h.get_by_label("A/B compare").click();
    frames(&mut h);
    // B gives up after one try: on the 5 % lossy link some message is lost twice.
    h.state_mut().compare.b.max_retry_count = "1".into();
    frames(&mut h);
    h.get_by_label("Run A and B").click();
    settle(&mut h, "both runs", |a| a.compare.result.is_some());
    let r = h.state().compare.result.as_ref().unwrap();
    assert!(!r.b.report.faults.is_empty(), "B faulted");
    assert!(
        h.query_all_by_label_contains("B faulted at").count() >= 1,
        "and says why"
    );
    // Stacked on a small window: the summary does not run into B's settings.
    let goodput = h.get_by_label("goodput [msg/s]").rect();
    for combo in h.query_all_by_label("WSReliableMessagingFebruary2005") {
        let c = combo.rect();
        assert!(c.intersect(goodput).area() <= 1.0, "{c:?} overlaps {goodput:?}");
    }
    // Opening a capture clears results that were about the live settings.
    h.state_mut()
        .open_capture(&sample("single-loss-2005.pcap"), &egui::Context::default());
    settle(&mut h, "the capture", |a| a.showing_capture && a.loader.is_none());
    assert!(h.state().compare.result.is_none());
}

#[test]
fn a_capture_shows_its_own_profile_in_place_of_the_live_settings() {
    let mut h = harness(fast());
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(sample("flow-control.pcap"))));
    settle(&mut h, "the dropped capture", |a| {
        a.showing_capture && a.loader.is_none()
    });
    frames(&mut h);
    assert!(h.query_by_label("Recorded session").is_some());
    assert!(h.query_by_label("maxTransferWindowSize").is_some());
    // The capture's acks advertise BufferRemaining 8 at most: WCF's default window.
    assert!(h.query_by_label("8 (likely)").is_some());
    assert!(
        h.query_by_label("true").is_some(),
        "flowControlEnabled from BufferRemaining"
    );
    assert!(
        h.query_by_label_contains("Apply (restart live)").is_none(),
        "the live form is not shown"
    );
    // Back to the live session: its settings again.
    h.get_by_label("Live").click();
    frames(&mut h);
    assert!(!h.state().showing_capture);
    assert!(h.query_by_label_contains("Apply (restart live)").is_some());
    assert!(h.query_by_label("Recorded session").is_none());
}

#[test]
fn the_ws_http_binding_preset_shows_both_sequences_in_the_picker_and_the_ladder() {
    // Tall enough that the whole preset list is on screen.
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 1700.0))
        .build_eframe(|cc| {
            App::new(
                cc,
                StartOptions {
                    view: Some("ladder".into()),
                    speed: Some(100.0),
                    ..StartOptions::default()
                },
            )
        });
    frames(&mut h);
    h.get_by_label("wsHttpBinding").click();
    settle(&mut h, "the wsHttpBinding run to finish", |a| {
        a.live.done
            && a.live
                .data
                .config
                .as_ref()
                .is_some_and(|c| c.shape == rmscope::engine::Shape::RequestReply)
    });
    assert_eq!(h.state().live.report.replies, 10);
    // The ladder: requests and the replies that name them.
    frames(&mut h);
    assert!(
        h.query_all_by_label_contains("reply to #1  ").next().is_some(),
        "a reply in the ladder"
    );
    // The picker: the client's sequence with its return sequence under it.
    h.get_by_label("Plots").click();
    frames(&mut h);
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Sequence")
        .click();
    frames(&mut h);
    assert!(
        h.query_by_label_contains("— its return sequence").is_some(),
        "the return sequence is listed under its sequence"
    );
    let d = h.state().dataset();
    let linked = d
        .timeline
        .sequences
        .iter()
        .filter(|s| s.return_sequence.is_some())
        .count();
    assert_eq!(linked, 1);
}

/// Replaces the text of the field labelled `label`.
fn retype(h: &mut Harness<'static, App>, label: &str, text: &str) {
    text_field(h, label).focus();
    frames(h);
    h.key_press_modifiers(egui::Modifiers::COMMAND | egui::Modifiers::CTRL, egui::Key::A);
    frames(h);
    text_field(h, label).type_text(text);
    frames(h);
}

#[test]
fn re_run_shows_the_recording_against_its_model_and_a_what_if_changes_it() {
    // Tall enough that the what-if form is on screen below the comparison.
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 1500.0))
        .build_eframe(|cc| App::new(cc, fast()));
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(sample("flow-control.pcap"))));
    settle(&mut h, "the dropped capture", |a| {
        a.showing_capture && a.loader.is_none()
    });
    // The profile panel shows the inferred window; one click re-runs it.
    assert!(h.query_by_label("8 (likely)").is_some());
    h.get_by_label("Re-run in the embedded pair").click();
    settle(&mut h, "the model", |a| {
        a.rerun.result.is_some() && !a.rerun.busy()
    });
    assert_eq!(h.state().tab, rmscope::ui::Tab::Model);
    assert!(
        h.query_by_label_contains("fitted to the recording, run in virtual time")
            .is_some()
    );
    assert!(h.query_by_label("model / recorded").is_some());
    assert!(h.query_by_label("duration [s]").is_some());
    let first = h.state().rerun.result.as_ref().unwrap().outcome.clone();
    assert!(first.messages > 0.0 && first.faults == 0.0, "{first:?}");
    assert!(h.state().rerun.result.as_ref().unwrap().advice.is_some());
    // What-if: a window of 1 in the model's settings, run again — slower, and said so.
    h.get_by_label("What-if: change the model's settings or link")
        .click();
    frames(&mut h);
    retype(&mut h, "maxTransferWindowSize", "1");
    assert_eq!(h.state().rerun.form.max_transfer_window_size, "1");
    h.get_by_label("Re-run model").click();
    settle(&mut h, "the what-if", |a| {
        !a.rerun.busy() && a.rerun.result.as_ref().is_some_and(|r| !r.changes.is_empty())
    });
    let second = h.state().rerun.result.as_ref().unwrap().outcome.clone();
    assert_eq!(second.messages, first.messages);
    assert!(second.duration > first.duration, "{first:?} → {second:?}");
    assert!(h.query_by_label_contains("what-if: settings").is_some());
    // Back to the fit restores the window the recording shows.
    h.get_by_label("Back to the fit").click();
    frames(&mut h);
    assert_eq!(h.state().rerun.form.max_transfer_window_size, "8");
}

#[test]
fn the_sweep_tab_runs_a_small_grid_draws_it_and_cancels_a_big_one() {
    let mut h = harness(fast());
    h.get_by_label("Sweep").click();
    frames(&mut h);
    retype(&mut h, "parameter", "1,8");
    retype(&mut h, "loss rates", "0,0.02");
    retype(&mut h, "seeds per point", "2");
    retype(&mut h, "messages per run", "200");
    h.get_by_label("Run sweep").click();
    settle(&mut h, "the sweep", |a| {
        a.sweep.result.is_some() && !a.sweep.busy()
    });
    let f = h.state().sweep.result.as_ref().unwrap();
    assert_eq!(f.runs, 8);
    assert_eq!(f.cells.len(), 4);
    // Lossless, the wider window is faster; with loss, messages are resent.
    let cell = |w: f64, l: f64| f.cells.iter().find(|c| c.values[0] == w && c.loss == l).unwrap();
    assert!(cell(8.0, 0.0).goodput > cell(1.0, 0.0).goodput);
    assert!(cell(8.0, 0.02).retransmissions > 0.0);
    assert!(
        h.query_by_label_contains("8 runs: 2 points × 2 loss rates × 2 seeds")
            .is_some()
    );

    // Two parameters: a heatmap and its measure picker.
    h.get_by_label("two").click();
    frames(&mut h);
    retype(&mut h, "second parameter", "20ms,200ms");
    h.get_by_label("Run sweep").click();
    settle(&mut h, "the two-parameter sweep", |a| {
        a.sweep.result.as_ref().is_some_and(|f| f.spec.axes.len() == 2) && !a.sweep.busy()
    });
    assert_eq!(h.state().sweep.result.as_ref().unwrap().cells.len(), 8);
    assert!(h.query_by_label_contains("dark").is_some(), "the heatmap's scale");
    // A click on a cell opens that point against the base in A/B compare.
    let centre = h.state().sweep.plot_rect.expect("drawn").center();
    h.input_mut().events.push(egui::Event::PointerMoved(centre));
    frames(&mut h);
    h.input_mut().events.push(egui::Event::PointerButton {
        pos: centre,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: Default::default(),
    });
    h.input_mut().events.push(egui::Event::PointerButton {
        pos: centre,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: Default::default(),
    });
    frames(&mut h);
    assert_eq!(h.state().tab, rmscope::ui::Tab::Compare);
    settle(&mut h, "the picked point in A/B", |a| a.compare.result.is_some());
    assert!(
        h.state()
            .compare
            .a_is
            .as_deref()
            .is_some_and(|a| a.contains("max-transfer-window-size"))
    );
    h.get_by_label("Sweep").click();
    frames(&mut h);

    // A big grid: Cancel stops it.
    retype(&mut h, "messages per run", "200000");
    retype(&mut h, "seeds per point", "50");
    h.get_by_label("Run sweep").click();
    frames(&mut h);
    assert!(h.state().sweep.busy());
    h.get_by_label("Cancel").click();
    settle(&mut h, "the cancel", |a| !a.sweep.busy());
    assert!(
        h.state()
            .sweep
            .notice
            .as_deref()
            .is_some_and(|n| n.starts_with("cancelled after"))
    );
}
