#!/usr/bin/env bash
# Regenerates the sample captures in captures/ with rmscope's own simulator and pcap export.
# Deterministic: same binary, same files.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
r=target/release/rmscope
out=captures
mkdir -p "$out"
"$r" simulate --messages 20 --drop msg:5 --seed 1 --pcap "$out/single-loss-2005.pcap" > /dev/null
"$r" simulate --messages 60 --rm-version 1.1 --loss 0.08 --burst 3 --seed 4 --pcap "$out/burst-loss-1.1.pcap" > /dev/null
"$r" simulate --messages 30 --consume-rate 5 --seed 1 --pcap "$out/flow-control.pcap" > /dev/null
"$r" simulate --messages 10 --drop all:3 --max-retry-count 3 --seed 1 --pcap "$out/retry-exhaustion.pcap" > /dev/null
"$r" simulate --messages 3 --sessions 6 --no-accept --time-limit 5s --seed 1 --pcap "$out/connection-limit.pcap" > /dev/null
"$r" simulate --messages 40 --ordered false --rm-version 1.1 --loss 0.05 --reorder 0.2 --jitter 20ms --seed 2 --pcap "$out/unordered-reorder-1.1.pcap" > /dev/null
ls -l "$out"/*.pcap
