#!/usr/bin/env bash
# Runs kotel's benchmarks one after the other (each also runs alone: node bench/<name>.ts).
# Needs root (BPF), a C compiler, bpftool, and the project built (bash scripts/setup.sh).
# Run on a quiet host: every figure is a rate or a CPU share on the same cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(syscalls-storm syscalls-hook-cost ring-delivery idle http-overhead http-toggle http-pipeline tcp-churn blockio blockio-toggle)
for b in "${benches[@]}"; do
  echo
  echo "================ bench/$b.ts ================"
  node "bench/$b.ts"
done
