#!/usr/bin/env bash
# Runs the whole suite: typecheck, layout drift check, unit and end-to-end tests on the real kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/node_modules/.bin:$PATH
echo "[test] typecheck" >&2
tsc -p tsconfig.json
echo "[test] mocha" >&2
if [ $# -eq 0 ]; then set -- "test/**/*.test.ts"; fi
# Bounded: a hung child process must fail CI, not eat its budget.
exec timeout --kill-after=30 3600 mocha "$@"
