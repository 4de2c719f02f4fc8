fn main() {
    let mut c = rmscope::sim::SimConfig::default();
    c.workload.messages = 20;
    let mut sim = rmscope::sim::Simulation::new(c).unwrap();
    sim.run();
    let t = sim.timeline();
    let w = t
        .wires
        .iter()
        .find(|w| w.kind == rmscope::trace::WireKind::Ack)
        .unwrap();
    let bytes = sim.payload(w).unwrap().to_vec();
    println!("{}", String::from_utf8_lossy(&bytes));
    let opts = rmscope::wsrm::Options {
        keep_body: false,
        ..Default::default()
    };
    let t0 = std::time::Instant::now();
    for _ in 0..std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(500_000)
    {
        std::hint::black_box(rmscope::wsrm::decode_with(&bytes, &opts).unwrap());
    }
    println!("{:?}", t0.elapsed());
}
