#!/usr/bin/env bash
# Tributary compat suite: real librdkafka clients (kcat, python confluent-kafka) against a broker.
#
#   bash compat/run.sh                 # in-process Tributary (src/index.ts startBroker)
#   BOOTSTRAP_SERVERS=127.0.0.1:19092 bash compat/run.sh     # an external broker
#   bash compat/run.sh --real-kafka    # starts Apache Kafka (compat/kafka) and runs against it
#   bash compat/run.sh [--real-kafka] compat/tests/bulk.test.ts   # selected files
#
# Installs what it needs, idempotently and quietly: kcat (Debian package), a venv at
# compat/.venv with confluent-kafka from PyPI, node_modules (npm ci) if missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

REAL_KAFKA=0
FILES=()
for a in "$@"; do
  case "$a" in
    --real-kafka) REAL_KAFKA=1 ;;
    *) FILES+=("$a") ;;
  esac
done
[[ ${#FILES[@]} -gt 0 ]] || FILES=("compat/**/*.test.ts")

log() { echo "[compat] $*"; }
SUDO=""
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null; then SUDO="sudo -n"; fi
export DEBIAN_FRONTEND=noninteractive

apt_install() {
  # try without refreshing the package lists first; refresh once if that fails
  $SUDO apt-get install -y -qq "$@" >/tmp/compat-apt.log 2>&1 || {
    $SUDO apt-get update -qq >>/tmp/compat-apt.log 2>&1 || true
    $SUDO apt-get install -y -qq "$@" >>/tmp/compat-apt.log 2>&1 || { cat /tmp/compat-apt.log >&2; return 1; }
  }
}

# 1. kcat
if ! command -v "${KCAT:-kcat}" >/dev/null; then
  log "installing kcat (apt)"
  apt_install kcat
fi

# 2. python confluent-kafka in a venv (the PyPI wheel bundles a current librdkafka; Debian's
#    python3-confluent-kafka is 1.7 and only importable by /usr/bin/python3, which may not be
#    the python3 on PATH). Fallback to the Debian package if the venv cannot be built.
VENV=compat/.venv
REQ=compat/python/requirements.txt
if [[ -z "${COMPAT_PYTHON:-}" ]]; then
  if ! cmp -s "$REQ" "$VENV/.requirements" 2>/dev/null || ! "$VENV/bin/python" -c 'import confluent_kafka' 2>/dev/null; then
    log "creating $VENV (pip install -r $REQ)"
    rm -rf "$VENV"
    if ! python3 -m venv "$VENV" >/tmp/compat-venv.log 2>&1; then
      log "python3 -m venv failed; installing python3-venv"
      apt_install python3-venv && python3 -m venv "$VENV"
    fi
    if "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ" >/tmp/compat-pip.log 2>&1; then
      cp "$REQ" "$VENV/.requirements"
    else
      cat /tmp/compat-pip.log >&2
      log "pip install failed; falling back to Debian's python3-confluent-kafka"
      rm -rf "$VENV"
      apt_install python3-confluent-kafka
      export COMPAT_PYTHON=/usr/bin/python3
    fi
  fi
fi
"${COMPAT_PYTHON:-$VENV/bin/python}" -c 'import confluent_kafka as c; v = c.version(); print("[compat] confluent-kafka", v[0] if isinstance(v, tuple) else v, "librdkafka", c.libversion()[0])'
echo "[compat] $("${KCAT:-kcat}" -V 2>&1 | grep -m1 '^Version' || true)"

# 3. node (Node 24 from node_modules: type stripping)
if [[ ! -x node_modules/.bin/node ]]; then
  log "node_modules missing: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# 4. optionally a real Apache Kafka (plus one with auto-creation disabled). Ports: COMPAT_KAFKA_PORT
#    (default 19092; the second broker is PORT+2, controllers PORT+1 and PORT+3), moved up in steps
#    of 10 while taken. Only brokers this run started are stopped at exit.
if [[ $REAL_KAFKA -eq 1 ]]; then
  port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
  KPORT=${COMPAT_KAFKA_PORT:-19092}
  while port_busy "$KPORT" || port_busy $((KPORT + 1)) || port_busy $((KPORT + 2)) || port_busy $((KPORT + 3)); do
    KPORT=$((KPORT + 10))
  done
  STARTED=()
  stop_kafka() {
    for p in "${STARTED[@]+"${STARTED[@]}"}"; do compat/kafka/stop-kafka.sh --port "$p" --clean || true; done
  }
  trap stop_kafka EXIT
  STARTED+=("$KPORT")
  export BOOTSTRAP_SERVERS; BOOTSTRAP_SERVERS=$(compat/kafka/start-kafka.sh --port "$KPORT")
  STARTED+=($((KPORT + 2)))
  export BOOTSTRAP_SERVERS_NO_AUTOCREATE
  BOOTSTRAP_SERVERS_NO_AUTOCREATE=$(compat/kafka/start-kafka.sh --port $((KPORT + 2)) --config auto.create.topics.enable=false)
  export COMPAT_EXTERNAL_DATA_DIR="$PWD/compat/kafka/target/run-$KPORT/data"
fi

if [[ -n "${BOOTSTRAP_SERVERS:-}" ]]; then
  log "broker: external ${BOOTSTRAP_SERVERS}${BOOTSTRAP_SERVERS_NO_AUTOCREATE:+ (no auto-create: $BOOTSTRAP_SERVERS_NO_AUTOCREATE)}"
else
  log "broker: in-process Tributary (src/index.ts)"
fi

# 5. the tests; a hard stop so nothing hangs forever (each process and test has its own timeout)
status=0
timeout --kill-after=30 "${COMPAT_TIMEOUT:-900}" \
  node_modules/.bin/node --test --test-concurrency=2 --test-timeout=300000 "${FILES[@]}" || status=$?
exit $status
