#!/usr/bin/env bash
# Builds the OpenTelemetry Collector that kotel's tests export to, with the official
# OpenTelemetry Collector Builder (ocb) and the manifest test/support/otelcol/builder-config.yaml
# (otlp receiver, batch processor, debug + file exporters, all pinned).
#
#   scripts/build-otelcol.sh            -> prints the binary's path on stdout; progress on stderr
#
# Cache: ${KOTEL_CACHE:-$HOME/.cache/kotel}/otelcol-<version>/otelcol. The build is skipped when
# that binary exists and was built from the same manifest (a sha256 stamp sits beside it).
# Two concurrent runs do not race: the build holds a lock (flock) and the loser reuses the result.
# Needs Go >= 1.26 (collector v0.162.0's go.mod says go 1.26.0; Debian 12's golang-go, 1.19, is
# too old) and the Go module proxy (GOPROXY as configured); GOFLAGS gets -mod=mod.
# Measured on a 2-core machine: cold (empty module and build caches) ~3 min: 40 s to install the
# builder + ~2.5 min to download ~1 GB of modules and compile; with Go's caches warm ~2 min;
# cached binary: instant. Disk: ~470 MB module cache, ~660 MB build cache, 34 MB binary.
set -euo pipefail

BUILDER_VERSION=v0.162.0   # go.opentelemetry.io/collector/cmd/builder; must match dist.version

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MANIFEST=$ROOT/test/support/otelcol/builder-config.yaml
log() { printf '[build-otelcol] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ -f "$MANIFEST" ] || die "builder manifest not found: $MANIFEST"
VERSION=$(sed -n 's/^  version:[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$MANIFEST" | head -n1)
MODULE=$(sed -n 's/^  module:[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$MANIFEST" | head -n1)
[ -n "$VERSION" ] && [ -n "$MODULE" ] || die "no dist.version or dist.module in $MANIFEST"
[ "v$VERSION" = "$BUILDER_VERSION" ] ||
  die "dist.version $VERSION in $MANIFEST does not match BUILDER_VERSION $BUILDER_VERSION in $0: pin them together"

CACHE=${KOTEL_CACHE:-${HOME:?set HOME or KOTEL_CACHE}/.cache/kotel}
OUT=$CACHE/otelcol-$VERSION
BIN=$OUT/otelcol
STAMP=$OUT/builder-config.sha256
WANT=$(sha256sum "$MANIFEST" | cut -d' ' -f1)

up_to_date() { [ -x "$BIN" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT" ]; }
if up_to_date; then echo "$BIN"; exit 0; fi

command -v go >/dev/null 2>&1 ||
  die "Go is not installed (or not on PATH): the test collector is built from source with the OpenTelemetry Collector Builder. Install Go >= 1.26 (https://go.dev/doc/install) and run $0 again."
GOVER=$(go env GOVERSION 2>/dev/null || go version | awk '{print $3}')
IFS=. read -r gomaj gomin _ <<<"${GOVER#go}"
gomaj=${gomaj%%[!0-9]*}; gomaj=${gomaj:-0}; gomin=${gomin%%[!0-9]*}; gomin=${gomin:-0}
if [ -z "${GOTOOLCHAIN:-}" ] && { [ "$gomaj" -lt 1 ] || { [ "$gomaj" -eq 1 ] && [ "$gomin" -lt 26 ]; }; }; then
  die "Go $GOVER is too old: the collector v$VERSION needs Go >= 1.26 (found $(command -v go)). Install a newer Go (https://go.dev/doc/install) or set GOTOOLCHAIN."
fi
command -v flock >/dev/null 2>&1 || die "flock (util-linux) is needed to lock the build cache"

mkdir -p "$CACHE"
exec 9>"$CACHE/otelcol-$VERSION.lock"
if ! flock -n 9; then
  log "another build of otelcol $VERSION is running; waiting for it (up to 60 min)"
  flock -w 3600 9 || die "timed out waiting for the lock $CACHE/otelcol-$VERSION.lock"
fi
if up_to_date; then log "built meanwhile by another run"; echo "$BIN"; exit 0; fi
rm -rf "$CACHE/otelcol-$VERSION".work.* # left by a build that was killed (we hold the lock)

export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"
export GOWORK=off          # never pick up a go.work from an enclosing directory
export CGO_ENABLED=0       # static binary, no C toolchain needed
export GO111MODULE=on
start=$SECONDS
log "building otelcol $VERSION into $OUT with $(go version | cut -d' ' -f3-) (GOPROXY=$(go env GOPROXY))"

OCB_DIR=$CACHE/ocb-$BUILDER_VERSION
OCB=$OCB_DIR/builder
if [ ! -x "$OCB" ]; then
  log "installing the OpenTelemetry Collector Builder $BUILDER_VERSION"
  # `go install pkg@version` ignores the local module, so -mod must not be passed to it.
  GOFLAGS="${GOFLAGS//-mod=mod/}" GOBIN="$OCB_DIR" \
    go install "go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION" >&2 ||
    die "go install go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION failed (is the Go module proxy reachable?)"
  log "builder installed after $((SECONDS - start)) s"
fi

WORK=$(mktemp -d "$CACHE/otelcol-$VERSION.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cp "$MANIFEST" "$WORK/builder-config.yaml"
# The builder's own module step (`go mod tidy`) also resolves the dependencies of the
# components' *tests*, and contrib's fileexporter tests import modules the proxy does not serve
# (otlpencodingextension v0.162.0). So the builder runs with --skip-get-modules, this script
# writes go.mod from the manifest's pins (what the builder's template would write), and the
# builder's `go build` resolves with -mod=mod (from GOFLAGS) only what the binary imports.
mkdir -p "$WORK/build"
{
  echo "module $MODULE"
  echo
  echo "go 1.26.0"
  echo
  echo "require ("
  sed -n 's/^[[:space:]]*-[[:space:]]*gomod:[[:space:]]*\([^[:space:]]*\)[[:space:]]\{1,\}\(v[^[:space:]#]*\).*/\t\1 \2/p' "$MANIFEST"
  printf '\tgo.opentelemetry.io/collector/otelcol v%s\n' "$VERSION"
  printf '\tgo.opentelemetry.io/collector/service v%s\n' "$VERSION"
  echo ")"
} > "$WORK/build/go.mod"
grep -q fileexporter "$WORK/build/go.mod" || die "could not read the components' gomod lines from $MANIFEST"
log "generating and compiling the collector (cold: ~150 modules to download, minutes of compiling)"
(cd "$WORK" && "$OCB" --config builder-config.yaml --skip-get-modules >&2) ||
  die "the OpenTelemetry Collector Builder failed (see its output above)"
[ -x "$WORK/build/otelcol" ] || die "the builder finished but $WORK/build/otelcol is missing"

mkdir -p "$OUT"
mv -f "$WORK/build/otelcol" "$BIN.tmp.$$"
mv -f "$BIN.tmp.$$" "$BIN"
echo "$WANT" > "$STAMP"
"$BIN" --version >&2 || die "the built collector does not run: $BIN"
log "built in $((SECONDS - start)) s: $BIN"
echo "$BIN"
