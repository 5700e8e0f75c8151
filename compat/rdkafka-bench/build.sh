#!/usr/bin/env bash
# Build the librdkafka load generator into compat/rdkafka-bench/target/rdkperf (gitignored).
# Installs Debian's librdkafka-dev (and gcc/pkg-config) when missing. Cached: rebuilt only when
# rdkperf.c or this script changed. Quiet unless it fails.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE/target"
BIN="$OUT/rdkperf"
mkdir -p "$OUT"
LOG="$OUT/build.log"
fail() {
  echo "[compat] rdkperf build failed: $1 (log: $LOG)" >&2
  tail -n 40 "$LOG" >&2
  exit 1
}
: >"$LOG"
if ! command -v gcc >/dev/null || ! command -v pkg-config >/dev/null || ! pkg-config --exists rdkafka; then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  {
    $SUDO apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=300 \
        gcc libc6-dev pkg-config librdkafka-dev
  } >>"$LOG" 2>&1 || fail "apt-get install librdkafka-dev"
  pkg-config --exists rdkafka || fail "librdkafka still not found by pkg-config"
fi
want=$( (cat "$HERE/rdkperf.c" "$HERE/build.sh"; pkg-config --modversion rdkafka) | sha256sum | cut -d' ' -f1)
if [[ -x "$BIN" && "$(cat "$OUT/.stamp" 2>/dev/null)" == "$want" ]]; then exit 0; fi
# shellcheck disable=SC2046
if ! gcc -O2 -Wall -Wextra -o "$BIN.tmp" "$HERE/rdkperf.c" $(pkg-config --cflags --libs rdkafka) -lpthread -lm >>"$LOG" 2>&1; then
  fail "gcc"
fi
mv -f "$BIN.tmp" "$BIN"
echo "$want" >"$OUT/.stamp"
