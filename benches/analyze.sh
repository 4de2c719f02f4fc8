#!/usr/bin/env bash
# Capture-analysis throughput: generates ~200 MB WS-RM captures (not committed) with the
# simulator's pcap export, times `rmscope analyze` (best of 3, one core) and tshark's HTTP+XML
# dissection of the same file (`tshark -r FILE -Y xml`), and prints MB/s and the ratio.
# Usage: benches/analyze.sh [BODY_SIZES...]   (default: 2048 8192 32768)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
r=target/release/rmscope
mkdir -p bench-data
if [ $# -gt 0 ]; then sizes=("$@"); else sizes=(2048 8192 32768); fi
now() { date +%s.%N; }
best() { # best wall time of 3 runs of "$@", in seconds
  local b=999 s e
  for _ in 1 2 3; do
    s=$(now); "$@" > /dev/null 2>&1; e=$(now)
    b=$(awk -v s="$s" -v e="$e" -v b="$b" 'BEGIN { d = e - s; print (d < b) ? d : b }')
  done
  echo "$b"
}
printf "%-10s %9s %11s %10s %11s %8s\n" body "file MB" "rmscope s" "MB/s" "tshark s" "ratio"
for size in "${sizes[@]}"; do
  f=bench-data/wsrm-$size.pcap
  # ~200 MB: each message costs its body plus ~1.5 KB of envelope, HTTP, TCP and acks.
  n=$(( 200000000 / (size + 1500) ))
  [ -f "$f" ] || "$r" simulate --messages "$n" --body-size "$size" --loss 0.01 --seed 1 --pcap "$f" > /dev/null
  mb=$(awk -v b="$(stat -c %s "$f")" 'BEGIN { print b / 1e6 }')
  t=$(taskset -c 0 true 2>/dev/null && best taskset -c 0 "$r" analyze "$f" || best "$r" analyze "$f")
  if command -v tshark > /dev/null; then
    s=$(now); tshark -r "$f" -Y xml > /dev/null 2>&1; e=$(now)
    ts=$(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }')
  else
    ts=nan
  fi
  awk -v z="$size" -v mb="$mb" -v t="$t" -v ts="$ts" \
    'BEGIN { printf "%-10s %9.1f %11.3f %10.0f %11.2f %7.1fx\n", z, mb, t, mb / t, ts, ts / t }'
done
