use rmscope::netsim::LinkConfig;
use rmscope::sim::*;
fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(1_000_000);
    let record = std::env::args().nth(2).is_some();
    let mut cfg = SimConfig::default();
    cfg.workload.messages = n;
    cfg.record = record;
    cfg.time_limit = std::time::Duration::from_secs(u32::MAX as u64);
    cfg.forward = LinkConfig {
        loss: 0.05,
        ..LinkConfig::default()
    };
    cfg.backward = LinkConfig {
        loss: 0.05,
        ..LinkConfig::default()
    };
    let t = std::time::Instant::now();
    let mut sim = Simulation::new(cfg).unwrap();
    let r = sim.run();
    let el = t.elapsed().as_secs_f64();
    println!("{}", r.to_text());
    println!("cpu {el:.3} s  => {:.0} msg/s", r.delivered as f64 / el);
}
