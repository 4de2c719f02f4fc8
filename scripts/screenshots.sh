#!/usr/bin/env bash
# Runs the app under Xvfb on each view and writes PNGs to assets/screenshots/ (make screenshots).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/rmscope
OUT=assets/screenshots
mkdir -p "$OUT"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
chmod 700 "$XDG_RUNTIME_DIR"
# A fresh profile: no stored settings from the user's own runs.
export HOME="$(mktemp -d)"

shot() { # name seconds args...   (SIZE=WxH for another screen; default 1400x900)
    local name=$1 secs=$2
    shift 2
    xvfb-run -a -s "-screen 0 ${SIZE:-1400x900}x24" bash -c '
        "$0" "${@:2}" >/dev/null 2>&1 &
        pid=$!
        sleep "$1"
        import -window root "'"$OUT/$name"'.png"
        kill $pid; wait $pid 2>/dev/null || true
    ' "$BIN" "$secs" "$@"
    echo "wrote $OUT/$name.png"
}

shot live 8 --speed 10
shot sequence 4 --view sequence captures/burst-loss-1.1.pcap
shot retransmissions 4 --view retransmissions captures/retry-exhaustion.pcap
shot window 4 --view window captures/flow-control.pcap
shot inactivity 8 --view inactivity --preset inactivity-timeout --speed 10
shot ladder 4 --view ladder captures/single-loss-2005.pcap
shot compare 8 --view compare
shot unordered 4 captures/unordered-reorder-1.1.pcap
# A session of two sequences (issue 14): requests and replies, acks riding on them.
shot duplex-ladder 10 --view ladder --preset nettcpbinding --speed 10
shot request-reply-sequence 10 --view sequence --preset wshttpbinding --speed 10
# A recording against its model, and a sweep from it (issue 16): a window-limited session.
mkdir -p bench-data
"$BIN" simulate --messages 1000 --delay 2ms --max-transfer-window-size 4 --loss 0.01 --seed 2 \
    --pcap bench-data/window-limited.pcap --capture-at client > /dev/null
# The comparison scrolled to the overlaid plot (the wheel over the table, not the plot).
xvfb-run -a -s "-screen 0 1400x1000x24" bash -c '
    "$0" --view model bench-data/window-limited.pcap >/dev/null 2>&1 &
    pid=$!
    sleep 10
    xdotool mousemove 900 200; for i in 1 2 3 4; do xdotool click 5; sleep 0.2; done
    xdotool mousemove 1200 700; sleep 1
    import -window root "'"$OUT"'/recorded-vs-model.png"
    kill $pid; wait $pid 2>/dev/null || true
' "$BIN"
echo "wrote $OUT/recorded-vs-model.png"
SIZE=1400x1000 shot sweep 14 --view sweep bench-data/window-limited.pcap
# A small screen: nothing overlaps (issue 18).
SIZE=1280x720 shot ladder-1280x720 4 --view ladder captures/single-loss-2005.pcap
SIZE=1280x720 shot sequence-1280x720 4 --view sequence captures/burst-loss-1.1.pcap
# Zoomed with the keys (pointer on the plot): the axes stay labelled (issue 18).
keys_shot() { # name keys args...   presses each key (xdotool names) with the pointer on the plot
    local name=$1 keys=$2
    shift 2
    xvfb-run -a -s "-screen 0 1400x900x24" bash -c '
        "$0" "${@:2}" >/dev/null 2>&1 &
        pid=$!
        sleep 4
        w=$(xdotool search --sync --onlyvisible --name rmscope | head -1)
        xdotool windowfocus --sync "$w" 2>/dev/null || true
        xdotool mousemove 900 300; sleep 0.3; xdotool mousemove 905 305; sleep 0.5
        for k in $1; do xdotool key --window "$w" "$k"; sleep 0.4; done
        sleep 1
        import -window root "'"$OUT/$name"'.png"
        kill $pid; wait $pid 2>/dev/null || true
    ' "$BIN" "$keys" "$@"
    echo "wrote $OUT/$name.png"
}
keys_shot sequence-zoomed-out "minus minus" --view sequence captures/burst-loss-1.1.pcap
keys_shot sequence-zoomed-in "equal equal equal equal equal equal" --view sequence captures/burst-loss-1.1.pcap
# Message logs of both ends of a simulated session, merged.
logs=$(mktemp -d)
"$BIN" simulate --messages 40 --loss 0.05 --seed 3 --svclog "$logs" >/dev/null
shot logs 4 --view ladder "$logs/rm-source.svclog" "$logs/rm-destination.svclog"

# Capture → Live on lo while the pair runs over HTTP loopback (needs root or the capability).
xvfb-run -a -s "-screen 0 1400x900x24" bash -c '
    "$0" --capture lo --view sequence >/dev/null 2>&1 &
    pid=$!
    sleep 2
    "$0" simulate --transport http --messages 400 --rate 100 --loss 0.02 >/dev/null 2>&1
    sleep 1
    import -window root "'"$OUT"'/live-capture.png"
    kill $pid; wait $pid 2>/dev/null || true
' "$BIN"
echo "wrote $OUT/live-capture.png"
