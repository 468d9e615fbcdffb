#!/usr/bin/env bash
# Runs the whole suite: typecheck, layout drift check, unit and end-to-end tests on the real kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/node_modules/.bin:$PATH
echo "[test] typecheck" >&2
tsc -p tsconfig.json
echo "[test] mocha" >&2
if [ $# -eq 0 ]; then set -- "test/**/*.test.ts"; fi
exec mocha "$@"
