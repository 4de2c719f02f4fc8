//! Codec speed on the messages the simulator sends (a data message with a 2 KB body, an ack).
//! Run: cargo bench --bench codec

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rmscope::wsrm;

fn messages() -> Vec<(&'static str, Vec<u8>)> {
    let mut c = rmscope::sim::SimConfig::default();
    c.workload.messages = 20;
    c.workload.body_size = 2048;
    let mut sim = rmscope::sim::Simulation::new(c).unwrap();
    sim.run();
    let t = sim.timeline();
    let pick = |kind| {
        let w = t.wires.iter().find(|w| w.kind == kind).unwrap();
        sim.payload(&w).unwrap().to_vec()
    };
    vec![
        ("data", pick(rmscope::trace::WireKind::Data)),
        ("ack", pick(rmscope::trace::WireKind::Ack)),
    ]
}

fn codec(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    let capture_opts = wsrm::Options {
        keep_body: false,
        ..wsrm::Options::default()
    };
    for (name, bytes) in messages() {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(
            format!("{name} ({} bytes), as the capture decoder does", bytes.len()),
            |b| b.iter(|| wsrm::decode_with(&bytes, &capture_opts).unwrap()),
        );
        // The same without the header scanner: the full decoder the scanner falls back to.
        g.bench_function(format!("{name}, full decoder (no header scanner)"), |b| {
            b.iter(|| wsrm::decode_unscanned(&bytes, &capture_opts).unwrap())
        });
        // The floor under a quick-xml based decoder: its tokenizer alone over the part the
        // capture path reads (up to the body, which it only locates).
        let head_len = memchr::memmem::find(&bytes, b"Body").unwrap_or(bytes.len());
        g.bench_function(
            format!("{name}: quick-xml events up to the body, nothing else"),
            |b| {
                b.iter(|| {
                    let mut r = quick_xml::Reader::from_reader(&bytes[..head_len]);
                    let mut n = 0usize;
                    while let Ok(e) = r.read_event() {
                        if matches!(e, quick_xml::events::Event::Eof) {
                            break;
                        }
                        n += 1;
                    }
                    n
                })
            },
        );
        let env = wsrm::decode(&bytes).unwrap();
        g.bench_function(format!("encode {name}"), |b| b.iter(|| wsrm::encode(&env)));
    }
    g.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
