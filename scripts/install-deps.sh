#!/usr/bin/env bash
# Installs the Debian packages rmscope needs, only those missing; silent when all are there.
# Usage: scripts/install-deps.sh build|run|test
set -euo pipefail

build=(gcc libc6-dev pkg-config libpcap-dev)
# eframe (glow on X11/Wayland) and the rfd file dialog at run time.
run=(libxcursor1 libxi6 libxkbcommon-x11-0 libegl1 libgl1 libgl1-mesa-dri zenity)
# Headless GUI tests (egui_kittest renders with wgpu on Mesa's lavapipe), screenshots, tshark.
# `time` (GNU time) gives the benchmarks their peak RSS.
test=(libxcursor1 libxi6 libxkbcommon-x11-0 libegl1 libgl1 libgl1-mesa-dri libvulkan1
      mesa-vulkan-drivers xvfb xauth imagemagick xdotool tshark time)

want=("${build[@]}")
case "${1:-build}" in
  build) ;;
  run) want+=("${run[@]}") ;;
  test) want+=("${test[@]}") ;;
  *) echo "usage: $0 build|run|test" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "rmscope: missing packages ${missing[*]} and no apt-get; install them by hand" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "rmscope: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "rmscope: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections 2>/dev/null || true
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
