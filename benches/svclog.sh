#!/usr/bin/env bash
# Message-log throughput: generates WCF message logs of ~200 MB (not committed) with the
# simulator's `--svclog` export — one .svclog per end, every message logged as sent and as
# received, XML bodies of the given sizes, 1 % loss — and times `rmscope analyze` (best of 3,
# one core) on one end's log and on both ends merged (matching, clock estimate). Prints MB/s.
# Usage: benches/svclog.sh [BODY_SIZES...]   (default: 2048 8192)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin rmscope
r=target/release/rmscope
mkdir -p bench-data
if [ $# -gt 0 ]; then sizes=("$@"); else sizes=(2048 8192); fi
now() { date +%s.%N; }
best() { # best wall time of 3 runs of "$@", in seconds
  local b=999 s e
  for _ in 1 2 3; do
    s=$(now); "$@" > /dev/null 2>&1; e=$(now)
    b=$(awk -v s="$s" -v e="$e" -v b="$b" 'BEGIN { d = e - s; print (d < b) ? d : b }')
  done
  echo "$b"
}
pin=(); taskset -c 0 true 2>/dev/null && pin=(taskset -c 0)
printf "%-6s %-10s %9s %9s %10s %9s\n" body logs "MB" messages "seconds" "MB/s"
for size in "${sizes[@]}"; do
  d=bench-data/svclog-$size
  # ~200 MB per end: a record costs its body plus ~1.4 KB of envelope and record markup.
  n=$(( 200000000 / (size + 1400) ))
  [ -f "$d/rm-source.svclog" ] || "$r" simulate --messages "$n" --body-size "$size" --loss 0.01 --seed 1 \
    --svclog "$d" > /dev/null
  for set in one both; do
    files=("$d/rm-destination.svclog"); [ "$set" = both ] && files+=("$d/rm-source.svclog")
    bytes=0; for f in "${files[@]}"; do bytes=$(( bytes + $(stat -c %s "$f") )); done
    t=$(best "${pin[@]}" "$r" analyze "${files[@]}")
    msgs=$("$r" analyze --json "${files[@]}" | grep -m1 '"transport_records"' | tr -dc 0-9)
    awk -v s="$size" -v set="$set" -v b="$bytes" -v m="$msgs" -v t="$t" \
      'BEGIN { printf "%-6s %-10s %9.1f %9d %10.2f %9.1f\n", s, set, b / 1e6, m, t, b / 1e6 / t }'
  done
done
