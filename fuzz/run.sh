#!/usr/bin/env bash
# Runs one fuzz target on the stable toolchain: cargo-fuzz passes -Z flags, which
# RUSTC_BOOTSTRAP=1 allows; no sanitizer (libFuzzer's coverage still works).
# Usage: fuzz/run.sh TARGET SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?target}; secs=${2:-60}
mkdir -p "fuzz/corpus/$target"
# Seeds: the shared real-world messages for `decode`, the sample captures for `capture`,
# the shared WCF message logs for `svclog`
# (read in place, not copied into the repository).
case "$target" in
  decode|scanner) seeds=../shared/fixtures/wsrm-messages; pattern='*.xml' ;;
  capture) seeds=captures; pattern='*.pcap' ;;
  nettcp) seeds=fuzz/seeds/nettcp; pattern='*.bin' ;;
  svclog) seeds=../shared/fixtures/wcf-svclog; pattern='*' ;;
  *) seeds=; pattern= ;;
esac
# The scanner also gets WCF-shaped envelopes (a data message, an ack-only response).
[ "$target" = scanner ] && { cp -n fuzz/seeds/scanner/* fuzz/corpus/scanner/ 2>/dev/null || true; }
if [ -n "$seeds" ] && [ -d "$seeds" ]; then
  find "$seeds" -name "$pattern" -exec cp -n {} "fuzz/corpus/$target/" \; 2>/dev/null || true
fi
# The capture reader also takes pcapng and gzip: seed both forms of each sample.
if [ "$target" = capture ]; then
  for f in captures/*.pcap; do
    b=fuzz/corpus/capture/$(basename "$f" .pcap)
    [ -f "$b.pcapng" ] || ! command -v editcap > /dev/null || editcap -F pcapng "$f" "$b.pcapng"
    [ -f "$b.pcap.gz" ] || gzip -c "$f" > "$b.pcap.gz"
  done
fi
RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none "$target" "fuzz/corpus/$target" -- \
  -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len=262144 -print_final_stats=1
