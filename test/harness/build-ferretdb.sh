#!/usr/bin/env bash
# Builds (or finds) a FerretDB v1.24.2 binary for the test harness and prints its path on stdout.
#
#   FERRETDB_BIN=/path/to/ferretdb     use that binary as is (no build)
#   SWITCHYARD_CACHE_DIR=/some/dir      cache dir (default: $HOME/.cache/switchyard)
#
# The binary is cached at $SWITCHYARD_CACHE_DIR/ferretdb-v1.24.2 and reused while its
# `--version` prints v1.24.2. Needs Go >= 1.24 and access to the Go module proxy for a build.
#
# Why not `go install ...@v1.24.2`: the module zip lacks build/version/version.txt, so that
# binary panics at start ("Invalid build/version/version.txt file content"). We copy the
# module source to a temp dir, write the version file and build from there.
#
# Safe to run concurrently: builds are serialised with flock (when available) and the binary
# is written under a temporary name and renamed into place atomically.
#
# Exit codes: 0 ok, 3 Go toolchain missing, other = build failure. Logs go to stderr.
set -euo pipefail

VERSION=v1.24.2
MODULE=github.com/FerretDB/FerretDB

log() { printf 'build-ferretdb: %s\n' "$*" >&2; }

if [[ -n "${FERRETDB_BIN:-}" ]]; then
  if [[ ! -x "$FERRETDB_BIN" ]]; then
    log "FERRETDB_BIN=$FERRETDB_BIN is not an executable file"
    exit 2
  fi
  printf '%s\n' "$FERRETDB_BIN"
  exit 0
fi

CACHE_DIR="${SWITCHYARD_CACHE_DIR:-${HOME:?HOME is not set}/.cache/switchyard}"
BIN="$CACHE_DIR/ferretdb-$VERSION"

is_good() {
  local out
  [[ -x "$1" ]] || return 1
  # Capture first: piping into `grep -q` can SIGPIPE the binary, which pipefail reports as failure.
  out="$("$1" --version 2>/dev/null)" || return 1
  grep -qx "version: $VERSION" <<<"$out"
}

if is_good "$BIN"; then
  printf '%s\n' "$BIN"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed (need Go >= 1.24 to build FerretDB $VERSION)."
  log "Install Go (e.g. 'apt-get install golang-go' if new enough, or from go.dev), set FERRETDB_BIN, or set MONGODB_URI."
  exit 3
fi

mkdir -p "$CACHE_DIR"

# Serialise concurrent builds; after getting the lock, re-check whether someone else built it.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$BIN.lock"
  if ! flock -w 900 9; then
    log "timed out waiting for lock $BIN.lock"
    exit 4
  fi
  if is_good "$BIN"; then
    printf '%s\n' "$BIN"
    exit 0
  fi
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-ferretdb-build.XXXXXX")"
TMP_BIN="$CACHE_DIR/.ferretdb-$VERSION.tmp.$$"
cleanup() { chmod -R u+w "$WORK" 2>/dev/null || true; rm -rf "$WORK" "$TMP_BIN"; }
trap cleanup EXIT

log "downloading $MODULE@$VERSION source (go mod download)"
# Run outside any module so the download is not affected by a surrounding go.mod.
SRC_DIR="$(cd "$WORK" && GOWORK=off go mod download -json "$MODULE@$VERSION" \
  | sed -n 's/^[[:space:]]*"Dir":[[:space:]]*"\(.*\)",\{0,1\}$/\1/p')"
if [[ -z "$SRC_DIR" || ! -d "$SRC_DIR" ]]; then
  log "could not locate module source dir for $MODULE@$VERSION"
  exit 5
fi

cp -R "$SRC_DIR" "$WORK/src"
chmod -R u+w "$WORK/src"
printf '%s\n' "$VERSION" >"$WORK/src/build/version/version.txt"

log "building $BIN (a few seconds with a warm Go build cache, ~1.5 min cold)"
(
  cd "$WORK/src"
  CGO_ENABLED=0 GOWORK=off GOFLAGS= go build -buildvcs=false -trimpath -o "$TMP_BIN" ./cmd/ferretdb
)

if ! is_good "$TMP_BIN"; then
  log "built binary does not report version $VERSION:"
  "$TMP_BIN" --version >&2 || true
  exit 6
fi

mv -f "$TMP_BIN" "$BIN"
printf '%s\n' "$BIN"
