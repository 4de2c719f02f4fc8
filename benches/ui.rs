//! UI frame cost with a 1,000,000-event timeline loaded: the whole window built headless
//! (egui Context, no GPU), as `rmscope` draws it. Target: <= 8 ms CPU per frame.
//! Run: cargo bench --bench ui

use criterion::{Criterion, criterion_group, criterion_main};
use eframe::egui;
use rmscope::netsim::LinkConfig;
use rmscope::sim::{SimConfig, Simulation};
use rmscope::ui::model::Dataset;
use rmscope::ui::{App, StartOptions};
use std::time::Duration;

/// A finished live run with at least a million timeline events.
fn big_dataset() -> Dataset {
    let mut c = SimConfig::default();
    c.workload.messages = 110_000;
    c.time_limit = Duration::from_secs(u32::MAX as u64);
    c.forward = LinkConfig {
        loss: 0.05,
        ..LinkConfig::default()
    };
    c.backward = c.forward.clone();
    let mut sim = Simulation::new(c.clone()).unwrap();
    sim.run();
    let d = Dataset::from_run(c, sim.take_timeline());
    assert!(
        d.timeline.events.len() >= 1_000_000,
        "{} events",
        d.timeline.events.len()
    );
    d
}

fn input(t: f64, events: Vec<egui::Event>) -> egui::RawInput {
    egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1400.0, 900.0),
        )),
        time: Some(t),
        events,
        ..Default::default()
    }
}

fn frame(ctx: &egui::Context, app: &mut App, t: f64, events: Vec<egui::Event>) {
    let mut out = ctx.run_ui(input(t, events), |ui| app.show(ui));
    // No renderer here: textures are dropped on purpose.
    out.textures_delta.clear();
}

fn ui(c: &mut Criterion) {
    let data = big_dataset();
    eprintln!(
        "timeline: {} events, {} wire messages",
        data.timeline.events.len(),
        data.timeline.wires.len()
    );
    let ctx = egui::Context::default();
    let mut app = App::headless(ctx.clone(), StartOptions::default());
    app.live.pause();
    app.capture = Some(data);
    app.showing_capture = true;
    let mut t = 0.0;
    // First frames: the plot series are built once per dataset.
    let start = std::time::Instant::now();
    for _ in 0..3 {
        t += 0.016;
        frame(&ctx, &mut app, t, vec![]);
    }
    eprintln!("first 3 frames (building plot series): {:?}", start.elapsed());

    let mut g = c.benchmark_group("ui");
    g.sample_size(30);
    g.bench_function("frame, 1M events, idle", |b| {
        b.iter(|| {
            t += 0.016;
            frame(&ctx, &mut app, t, vec![]);
        })
    });
    // Panning changes the view every frame: the per-pixel reduction runs each time.
    let mut right = true;
    g.bench_function("frame, 1M events, panning", |b| {
        b.iter(|| {
            t += 0.016;
            right = !right;
            let key = if right {
                egui::Key::ArrowRight
            } else {
                egui::Key::ArrowLeft
            };
            let ev = egui::Event::Key {
                key,
                physical_key: None,
                pressed: true,
                repeat: false,
                modifiers: egui::Modifiers::NONE,
            };
            frame(&ctx, &mut app, t, vec![ev]);
        })
    });
    g.finish();
}

criterion_group!(benches, ui);
criterion_main!(benches);
