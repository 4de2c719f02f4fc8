#!/usr/bin/env bash
# Regenerate the Mono WCF evidence captures:
#   captures/nettcp-mono.pcapng        NetTcpBinding (Security=None), binary session encoding, port 8808
#   captures/http-msbin1-mono.pcapng   CustomBinding(BinaryMessageEncoding + HttpTransport), port 8809
# plus decoded/summary text files next to this script. Needs root (apt-get, capture on lo).
# NOTE: frame numbers, ports, MessageIDs and timestamps change on every run; README.md describes the
# committed captures, so update it (from the *.frames.txt / *.decoded.txt files) after regenerating.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CAPDIR="$(cd "$HERE/.." && pwd)"
BUILD="$(mktemp -d /tmp/rmdemo-build.XXXXXX)"
DUMPCAP_PID=""

cleanup() {
    if [[ -n "$DUMPCAP_PID" ]] && kill -0 "$DUMPCAP_PID" 2>/dev/null; then
        kill -INT "$DUMPCAP_PID" 2>/dev/null || true
        wait "$DUMPCAP_PID" 2>/dev/null || true
    fi
    rm -rf "$BUILD"
}
trap cleanup EXIT

# --- toolchain -------------------------------------------------------------------------------
if ! command -v mcs >/dev/null 2>&1 || ! command -v mono >/dev/null 2>&1; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q mono-complete
fi
for tool in dumpcap tshark; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q tshark
        break
    fi
done
mono --version | head -1

# --- build -------------------------------------------------------------------------------------
MCS=(mcs -nologo -r:System.ServiceModel.dll -r:System.Runtime.Serialization.dll)
"${MCS[@]}" -out:"$BUILD/RmDemo.exe" "$HERE/RmDemo.cs"
"${MCS[@]}" -out:"$BUILD/NbfDump.exe" "$HERE/NbfDump.cs"

# --- capture helpers ---------------------------------------------------------------------------
start_capture() { # $1 = port, $2 = output file
    rm -f "$2"
    dumpcap -q -i lo -f "tcp port $1" -w "$2" 2>"$BUILD/dumpcap.err" &
    DUMPCAP_PID=$!
    for _ in $(seq 1 100); do
        grep -q "Capturing on" "$BUILD/dumpcap.err" 2>/dev/null && break
        kill -0 "$DUMPCAP_PID" 2>/dev/null || { cat "$BUILD/dumpcap.err" >&2; exit 1; }
        sleep 0.1
    done
    sleep 1
}
stop_capture() {
    sleep 1
    kill -INT "$DUMPCAP_PID"
    wait "$DUMPCAP_PID" || true
    DUMPCAP_PID=""
}

# --- 1. reliable-session attempts (expected to fail on Mono; output kept as evidence) -----------
ATTEMPTS="$HERE/reliable-session-attempts.txt"
: >"$ATTEMPTS"
for mode in tcp-rm tcp-rm-custom; do
    echo "### mono RmDemo.exe $mode" >>"$ATTEMPTS"
    rc=0
    (cd "$BUILD" && timeout 120 mono RmDemo.exe "$mode") >>"$ATTEMPTS" 2>&1 || rc=$?
    echo "### exit code $rc" >>"$ATTEMPTS"
    echo >>"$ATTEMPTS"
done
cat "$ATTEMPTS"

# --- 2. net.tcp without reliable session ---------------------------------------------------------
TCP_PCAP="$CAPDIR/nettcp-mono.pcapng"
start_capture 8808 "$TCP_PCAP"
(cd "$BUILD" && timeout 120 mono RmDemo.exe tcp)
stop_capture

# --- 3. HTTP + application/soap+msbin1 ------------------------------------------------------------
HTTP_PCAP="$CAPDIR/http-msbin1-mono.pcapng"
start_capture 8809 "$HTTP_PCAP"
(cd "$BUILD" && timeout 120 mono RmDemo.exe http)
stop_capture

# --- 4. summaries + decode with Mono's own binary XML reader --------------------------------------
tshark -r "$TCP_PCAP" -d tcp.port==8808,mc-nmf >"$HERE/nettcp-mono.frames.txt" 2>/dev/null
tshark -r "$TCP_PCAP" -d tcp.port==8808,mc-nmf -O mc-nmf >"$HERE/nettcp-mono.nmf.txt" 2>/dev/null
tshark -r "$TCP_PCAP" -d tcp.port==8808,mc-nmf -Y mc-nmf.payload \
    -T fields -e frame.number -e tcp.srcport -e mc-nmf.payload 2>/dev/null \
    | mono "$BUILD/NbfDump.exe" --session >"$HERE/nettcp-mono.decoded.txt"
tshark -r "$HTTP_PCAP" >"$HERE/http-msbin1-mono.frames.txt" 2>/dev/null
tshark -r "$HTTP_PCAP" -Y 'http.content_type contains "msbin"' \
    -T fields -e frame.number -e tcp.srcport -e media.type 2>/dev/null \
    | mono "$BUILD/NbfDump.exe" >"$HERE/http-msbin1-mono.decoded.txt"

if grep -qi malformed "$HERE/nettcp-mono.nmf.txt" "$HERE/nettcp-mono.frames.txt" "$HERE/http-msbin1-mono.frames.txt"; then
    echo "WARNING: tshark reports malformed packets" >&2
    exit 1
fi
chmod 644 "$TCP_PCAP" "$HTTP_PCAP"
ls -l "$TCP_PCAP" "$HTTP_PCAP"
echo "done"
