#!/usr/bin/env bash
# Sweep throughput (issue 16): a 9 × 3 × 5 grid — maxTransferWindowSize 1…256, loss 0 / 1 % /
# 5 % each way, 5 seeds — of 10,000-message virtual-time runs on every core, timed end to end
# (best of 3), and the same grid pinned to one core. Prints runs, seconds and runs/s.
# Usage: benches/sweep.sh [MESSAGES]   (default: 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin rmscope
r=target/release/rmscope
messages=${1:-10000}
grid=(sweep --param max-transfer-window-size=1,2,4,8,16,32,64,128,256 --loss 0,0.01,0.05 --seeds 5
  --messages "$messages" --csv)
now() { date +%s.%N; }
best() { # best wall time of 3 runs of "$@", in seconds
  local b=999 s e
  for _ in 1 2 3; do
    s=$(now); "$@" > /dev/null; e=$(now)
    b=$(awk -v s="$s" -v e="$e" -v b="$b" 'BEGIN { d = e - s; print (d < b) ? d : b }')
  done
  echo "$b"
}
runs=$("$r" "${grid[@]}" | tail -n +2 | wc -l)
all=$(best "$r" "${grid[@]}")
printf "%-12s %6s %9s %9s\n" cores runs seconds "runs/s"
printf "%-12s %6s %9.3f %9.1f\n" "all ($(nproc))" "$runs" "$all" "$(awk -v n="$runs" -v t="$all" 'BEGIN { print n / t }')"
if taskset -c 0 true 2>/dev/null; then
  one=$(best taskset -c 0 "$r" "${grid[@]}")
  printf "%-12s %6s %9.3f %9.1f\n" "one" "$runs" "$one" "$(awk -v n="$runs" -v t="$one" 'BEGIN { print n / t }')"
fi
