#!/usr/bin/env bash
# Stop a Kafka started by start-kafka.sh.
#   compat/kafka/stop-kafka.sh [--port 19092] [--clean]
# --clean also deletes its state directory (compat/kafka/target/run-PORT).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PORT="${KAFKA_PORT:-19092}"
CLEAN=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) PORT="$2"; shift 2 ;;
    --clean) CLEAN=1; shift ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    *) echo "stop-kafka.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
RUN="$HERE/target/run-$PORT"
PIDFILE="$RUN/kafka.pid"
if [[ -f "$PIDFILE" ]]; then
  pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null; then
    echo "[stop-kafka] stopping Kafka on port $PORT (pid $pid)" >&2
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "[stop-kafka] still alive after 30s, sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  else
    echo "[stop-kafka] Kafka on port $PORT is not running" >&2
  fi
  rm -f "$PIDFILE"
else
  echo "[stop-kafka] no pid file for port $PORT" >&2
fi
if [[ $CLEAN -eq 1 ]]; then rm -rf "$RUN"; fi
