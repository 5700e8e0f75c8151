#!/usr/bin/env bash
# Build the franz-go harness into compat/go/target/franz-go-harness (gitignored). Modules come from
# the Go module proxy into the module cache, pinned by go.mod/go.sum. Cached: rebuilt only when
# main.go, go.mod or go.sum changed (and Go's build cache makes a rebuild cheap). Quiet unless it
# fails.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE/target"
BIN="$OUT/franz-go-harness"
want=$(cat "$HERE/go.mod" "$HERE/go.sum" "$HERE"/*.go | sha256sum | cut -d' ' -f1)
if [[ -x "$BIN" && "$(cat "$OUT/.stamp" 2>/dev/null)" == "$want" ]]; then exit 0; fi
mkdir -p "$OUT"
if ! (cd "$HERE" && go build -buildvcs=false -trimpath -o "$BIN" .) >"$OUT/build.log" 2>&1; then
  echo "[compat] franz-go harness build failed (log: $OUT/build.log)" >&2
  tail -n 40 "$OUT/build.log" >&2
  exit 1
fi
echo "$want" >"$OUT/.stamp"
