#!/usr/bin/env bash
# Tributary compat suite: real Kafka clients (kcat and python confluent-kafka on librdkafka, the
# Apache Kafka Java client, franz-go) against a broker.
#
#   bash compat/run.sh                 # in-process Tributary (src/index.ts startBroker)
#   BOOTSTRAP_SERVERS=127.0.0.1:19092 bash compat/run.sh     # an external broker
#   bash compat/run.sh --real-kafka    # starts Apache Kafka (compat/kafka) and runs against it
#   bash compat/run.sh [--real-kafka] compat/tests/bulk.test.ts   # selected files
#
# Installs what it needs, idempotently and quietly: kcat (Debian package), a venv at
# compat/.venv with confluent-kafka from PyPI, the Java harness (mvn, Maven Central; one build per
# kafka-clients version in COMPAT_JAVA_CLIENTS, default 4.4.0,3.9.2), the franz-go harness
# (go build, Go module proxy), node_modules (npm ci) if missing. Builds are cached by their sources.
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

# 3. the Java client harness (compat/java: mvn, one build per kafka-clients version) and the
#    franz-go harness (compat/go: go build). Both cached by a hash of their sources, so a warm run
#    costs milliseconds. A failed build does not stop the run: java.test.ts / franz-go.test.ts
#    then fail with the build log (they call the same build scripts).
wanted() { # is a test file matching $1 among the selected ones?
  local f
  for f in "${FILES[@]}"; do [[ "$f" == *'*'* || "$f" == *"$1"* ]] && return 0; done
  return 1
}
if wanted java.test || wanted java- || wanted franz-go.test || wanted kafka-tools; then
  if ! command -v mvn >/dev/null || ! command -v javac >/dev/null; then
    log "installing a JDK and Maven (apt)"
    apt_install default-jdk-headless maven || true
  fi
  JAVA_CLIENTS="${COMPAT_JAVA_CLIENTS:-4.4.0,3.9.2}"
  if bash compat/java/build.sh ${JAVA_CLIENTS//,/ }; then
    log "java harness: kafka-clients ${JAVA_CLIENTS//,/, } ($(java -version 2>&1 | head -1))"
  else
    log "java harness build FAILED: the java tests will fail"
  fi
  if ! command -v go >/dev/null; then
    log "go not found: the franz-go tests will fail (Go >= 1.26 needed)"
  elif bash compat/go/build.sh; then
    log "franz-go harness: franz-go $(sed -n 's:^\s*github.com/twmb/franz-go \(v[^ ]*\).*:\1:p' compat/go/go.mod) ($(go version | cut -d' ' -f3))"
  else
    log "franz-go harness build FAILED: the franz-go tests will fail"
  fi
fi

# 4. node (Node 24 from node_modules: type stripping)
if [[ ! -x node_modules/.bin/node ]]; then
  log "node_modules missing: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# 5. optionally a real Apache Kafka (plus one with auto-creation disabled). Ports: COMPAT_KAFKA_PORT
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
  # the log cleaner and retention checks run often (defaults 15 s / 5 min) for the log-management
  # tests (compacted topics: java-log-management, kcat-compacted)
  export BOOTSTRAP_SERVERS; BOOTSTRAP_SERVERS=$(compat/kafka/start-kafka.sh --port "$KPORT" \
    --config log.cleaner.backoff.ms=500 --config log.retention.check.interval.ms=1000)
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

# 6. the tests; a hard stop so nothing hangs forever (each process and test has its own timeout)
status=0
timeout --kill-after=30 "${COMPAT_TIMEOUT:-900}" \
  node_modules/.bin/node --test --test-concurrency=2 --test-timeout=300000 "${FILES[@]}" || status=$?
exit $status
