//! The floor under any libpcap-based capture reader: opens a capture the way `rmscope analyze`
//! does (libpcap, 1 MiB read buffer) and walks every record, touching its last byte, with no
//! decoding. `benches/analyze.sh` times it next to `rmscope analyze` and tshark.
//! Run: cargo run --release --example pcap_floor -- FILE

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: pcap_floor FILE");
        return ExitCode::from(2);
    };
    let mut file = match rmscope::capture::offline::open(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let (mut frames, mut bytes, mut check) = (0u64, 0u64, 0u64);
    while let Ok(p) = file.cap.next_packet() {
        frames += 1;
        bytes += p.data.len() as u64;
        check = check.wrapping_add(u64::from(p.data.last().copied().unwrap_or(0)));
    }
    println!("{frames} frames, {bytes} captured bytes (check {check})");
    ExitCode::SUCCESS
}
