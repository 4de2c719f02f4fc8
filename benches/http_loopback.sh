#!/usr/bin/env bash
# Loopback throughput of the HTTP transport: the embedded RM source and destination exchange
# real SOAP 1.2 POSTs on 127.0.0.1 (hyper, keep-alive), WCF default settings, 1 KiB bodies.
# Prints delivered messages per second (median of 3 runs), without loss and with 5 % loss
# each way (the loss is applied in-process before the socket, as in the GUI's HTTP loopback).
# Usage: benches/http_loopback.sh [MESSAGES]   (default 100000; the lossy run uses 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
r=target/release/rmscope
n=${1:-100000}
goodput() { # median goodput of 3 runs of: simulate --transport http "$@"
  for _ in 1 2 3; do
    "$r" simulate --transport http --body-size 1024 --json --time-limit 600s "$@" |
      python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["finished"]; print(d["goodput"])'
  done | sort -g | sed -n 2p
}
printf "%-28s %10s %12s\n" run messages "msg/s"
printf "%-28s %10s %12.0f\n" "no loss" "$n" "$(goodput --messages "$n")"
printf "%-28s %10s %12.0f\n" "5 % loss each way" 2000 "$(goodput --messages 2000 --loss 0.05)"
