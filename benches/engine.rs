//! Engine + simulator throughput in virtual time: 1,000,000 messages at 2 % loss (at 5 %
//! WCF's timeout estimator — every message held behind a hole is sampled from its first
//! send — grows until the session faults on inactivity before 1M messages; see README).
//! Run: cargo bench --bench engine

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rmscope::netsim::LinkConfig;
use rmscope::sim::{SimConfig, Simulation};
use std::time::Duration;

fn config(messages: u64, record: bool) -> SimConfig {
    let mut c = SimConfig::default();
    c.workload.messages = messages;
    c.record = record;
    c.time_limit = Duration::from_secs(u32::MAX as u64);
    c.forward = LinkConfig {
        loss: 0.02,
        ..LinkConfig::default()
    };
    c.backward = c.forward.clone();
    c
}

fn engine(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    let n = 1_000_000;
    g.throughput(Throughput::Elements(n));
    g.bench_function("1M messages, 2% loss, summary only", |b| {
        b.iter(|| {
            let r = Simulation::new(config(n, false)).unwrap().run();
            assert_eq!(r.delivered + r.send_timeouts, n);
        })
    });
    let n = 100_000;
    g.throughput(Throughput::Elements(n));
    g.bench_function("100k messages, 2% loss, full timeline", |b| {
        b.iter(|| {
            let r = Simulation::new(config(n, true)).unwrap().run();
            assert_eq!(r.delivered + r.send_timeouts, n);
        })
    });
    g.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
