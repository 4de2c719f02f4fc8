#!/usr/bin/env bash
# Capture-analysis throughput: generates ~200 MB WS-RM captures (not committed) with the
# simulator's pcap export — SOAP over HTTP, and net.tcp (.NET Message Framing + binary XML with
# a session dictionary) —, times `rmscope analyze` (best of 5, one core) and tshark's dissection
# of the same file (HTTP+XML: `tshark -r FILE -Y xml`; net.tcp: its MC-NMF dissector, which
# stops at the framing), and prints MB/s and the ratio.
# Usage: benches/analyze.sh [BODY_SIZES...]   (default: 2048 8192 32768; FRAMINGS="http net.tcp")
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin rmscope
r=target/release/rmscope
mkdir -p bench-data
if [ $# -gt 0 ]; then sizes=("$@"); else sizes=(2048 8192 32768); fi
now() { date +%s.%N; }
best() { # best wall time of 5 runs of "$@", in seconds
  local b=999 s e
  for _ in 1 2 3 4 5; do
    s=$(now); "$@" > /dev/null 2>&1; e=$(now)
    b=$(awk -v s="$s" -v e="$e" -v b="$b" 'BEGIN { d = e - s; print (d < b) ? d : b }')
  done
  echo "$b"
}
framings=(${FRAMINGS:-http net.tcp})
printf "%-8s %-7s %9s %11s %10s %11s %8s\n" framing body "file MB" "rmscope s" "MB/s" "tshark s" "ratio"
for framing in "${framings[@]}"; do
for size in "${sizes[@]}"; do
  f=bench-data/wsrm-$framing-$size.pcap
  # ~200 MB: each message costs its body plus ~1.5 KB of envelope, framing, TCP and acks
  # (binary XML is smaller: more messages fit in net.tcp's 200 MB).
  per=$(( size + 1500 )); [ "$framing" = net.tcp ] && per=$(( size + 600 ))
  n=$(( 200000000 / per ))
  [ -f "$f" ] || "$r" simulate --messages "$n" --body-size "$size" --loss 0.01 --seed 1 \
    --pcap "$f" --framing "$framing" > /dev/null
  mb=$(awk -v b="$(stat -c %s "$f")" 'BEGIN { print b / 1e6 }')
  pin=(); taskset -c 0 true 2>/dev/null && pin=(taskset -c 0)
  t=$(best "${pin[@]}" "$r" analyze "$f")
  if command -v tshark > /dev/null; then
    if [ "$framing" = net.tcp ]; then ts_args=(-d tcp.port==808,mc-nmf -Y mc-nmf); else ts_args=(-Y xml); fi
    # tshark's MC-NMF reassembly slows down as the stream grows: give up after TSHARK_LIMIT
    # seconds (the ratio is then a lower bound, marked ≥).
    s=$(now); timeout "${TSHARK_LIMIT:-300}" tshark -r "$f" "${ts_args[@]}" > /dev/null 2>&1 || true; e=$(now)
    ts=$(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }')
  else
    ts=nan
  fi
  awk -v fr="$framing" -v z="$size" -v mb="$mb" -v t="$t" -v ts="$ts" -v lim="${TSHARK_LIMIT:-300}" \
    'BEGIN { ge = (ts >= lim) ? ">=" : "  "; printf "%-8s %-7s %9.1f %11.3f %10.0f %s%9.2f %s%5.1fx\n", fr, z, mb, t, mb / t, ge, ts, ge, ts / t }'
done
done
