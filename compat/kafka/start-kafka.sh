#!/usr/bin/env bash
# Start a real Apache Kafka (KRaft, one combined broker+controller node) on 127.0.0.1.
#
#   compat/kafka/start-kafka.sh [--port 19092] [--controller-port PORT+1] [--keep-data]
#                               [--config key=value]... [--heap 1g]
#   compat/kafka/start-kafka.sh --fetch-only      # only fetch the jars; prints their directory
#
# Prints the bootstrap address (127.0.0.1:PORT) as the only line on stdout, so
#   export BOOTSTRAP_SERVERS=$(compat/kafka/start-kafka.sh)
# works. Everything else goes to stderr. Idempotent: if a broker started by this script is
# already running on PORT it just prints the address. Stop it with stop-kafka.sh --port PORT.
#
# Env: KAFKA_VERSION (default: the pom's), KAFKA_PORT, KAFKA_START_TIMEOUT (s, default 90).
# Jars are fetched once from Maven Central into compat/kafka/target/libs-VERSION (gitignored);
# state (config, data, logs, pid) lives in compat/kafka/target/run-PORT/.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PORT="${KAFKA_PORT:-19092}"
CPORT=""
KEEP=0
FETCH_ONLY=0
HEAP="1g"
EXTRA=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) PORT="$2"; shift 2 ;;
    --controller-port) CPORT="$2"; shift 2 ;;
    --keep-data) KEEP=1; shift ;;
    --fetch-only) FETCH_ONLY=1; shift ;;
    --config) EXTRA+=("$2"); shift 2 ;;
    --heap) HEAP="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "start-kafka.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
CPORT="${CPORT:-$((PORT + 1))}"
TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
log() { echo "[start-kafka] $*" >&2; }

VERSION="${KAFKA_VERSION:-$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/pom.xml")}"
LIBS="$HERE/target/libs-$VERSION"
RUN="$HERE/target/run-$PORT"
PIDFILE="$RUN/kafka.pid"

# Jars (cached): fetched once from Maven Central.
fetch_jars() {
  [[ -f "$LIBS/.complete" ]] && return 0
  command -v mvn >/dev/null || { log "mvn not found"; exit 1; }
  log "fetching Apache Kafka $VERSION jars from Maven Central into $LIBS"
  rm -rf "$LIBS"
  mkdir -p "$HERE/target"
  (cd "$HERE" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -Dkafka.version="$VERSION" \
      -DoutputDirectory="$LIBS" >"$HERE/target/mvn.log" 2>&1) || { cat "$HERE/target/mvn.log" >&2; exit 1; }
  touch "$LIBS/.complete"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [[ $FETCH_ONLY -eq 1 ]]; then fetch_jars; echo "$LIBS"; exit 0; fi

# Already running?
if [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  if port_open "$PORT"; then
    log "Kafka already running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"
    echo "127.0.0.1:$PORT"
    exit 0
  fi
  log "pid $(cat "$PIDFILE") alive but port $PORT closed; stopping it first"
  "$HERE/stop-kafka.sh" --port "$PORT" >&2 || true
fi
for p in "$PORT" "$CPORT"; do
  if port_open "$p"; then log "port $p is already in use by another process"; exit 1; fi
done

command -v java >/dev/null || { log "java not found (Kafka 4.x needs Java 17+)"; exit 1; }

# 1. Jars (cached).
fetch_jars

# 2. Config + storage format.
if [[ $KEEP -eq 0 || ! -f "$RUN/data/meta.properties" ]]; then
  rm -rf "$RUN"
fi
mkdir -p "$RUN/data" "$RUN/logs"
cat > "$RUN/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$RUN/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
EOF
for kv in "${EXTRA[@]+"${EXTRA[@]}"}"; do
  key="${kv%%=*}"
  # later settings win: drop an existing line for the key, then append
  grep -v "^${key}=" "$RUN/server.properties" > "$RUN/server.properties.tmp" || true
  mv "$RUN/server.properties.tmp" "$RUN/server.properties"
  echo "$kv" >> "$RUN/server.properties"
done

cat > "$RUN/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $RUN/logs/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.controller.name = org.apache.kafka.controller
logger.controller.level = info
logger.kafka.name = kafka
logger.kafka.level = info
EOF

JAVA_OPTS=(-Xms256m "-Xmx$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
  -Djava.awt.headless=true -Dlog4j2.configurationFile="$RUN/log4j2.properties"
  -Dkafka.logs.dir="$RUN/logs" -cp "$LIBS/*")

if [[ ! -f "$RUN/data/meta.properties" ]]; then
  # Kafka cluster ids are 16 random bytes, base64url without padding.
  CLUSTER_ID="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  log "formatting $RUN/data (cluster id $CLUSTER_ID)"
  java "${JAVA_OPTS[@]}" kafka.tools.StorageTool format --cluster-id="$CLUSTER_ID" \
    -c "$RUN/server.properties" --ignore-formatted >"$RUN/logs/format.out" 2>&1 || {
      cat "$RUN/logs/format.out" >&2; exit 1; }
fi

# 3. Start, detached from this shell (setsid so Ctrl-C / the caller's exit does not kill it).
log "starting Apache Kafka $VERSION on 127.0.0.1:$PORT (controller 127.0.0.1:$CPORT)"
setsid java "${JAVA_OPTS[@]}" kafka.Kafka "$RUN/server.properties" \
  >"$RUN/logs/kafka.out" 2>&1 < /dev/null &
echo $! > "$PIDFILE"

# 4. Wait until the broker is up: listener accepts and the server logged its start.
deadline=$((SECONDS + TIMEOUT))
until port_open "$PORT" && grep -q "Kafka Server started" "$RUN/logs/server.log" 2>/dev/null; do
  if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    log "Kafka exited during startup; last lines of its logs:"
    tail -n 30 "$RUN/logs/kafka.out" "$RUN/logs/server.log" >&2 2>/dev/null || true
    exit 1
  fi
  if (( SECONDS >= deadline )); then
    log "Kafka did not start within ${TIMEOUT}s; see $RUN/logs"
    "$HERE/stop-kafka.sh" --port "$PORT" >&2 || true
    exit 1
  fi
  sleep 0.5
done
log "Kafka $VERSION is up (pid $(cat "$PIDFILE")); logs in $RUN/logs"
echo "127.0.0.1:$PORT"
