#!/usr/bin/env bash
# Build the Java client harness for one or more kafka-clients versions (default: the pom's):
#   compat/java/build.sh [VERSION ...]
# Each version gets target/kafka-clients-VERSION/{classes,classpath.txt}; the jars stay in the
# local Maven repository (~/.m2). Cached: a version is rebuilt only when the pom or the sources
# changed (stamp = sha256 of both). Quiet unless something fails (the log is then printed).
# Prints nothing on success; `--print-cp VERSION` prints the java -cp value for that version.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

print_cp=0
if [[ "${1:-}" == "--print-cp" ]]; then print_cp=1; shift; fi
versions=("$@")
if [[ ${#versions[@]} -eq 0 ]]; then
  versions=("$(sed -n 's:.*<kafka.clients.version>\(.*\)</kafka.clients.version>.*:\1:p' "$HERE/pom.xml")")
fi

stamp_of() {
  { echo "$1"; cat "$HERE/pom.xml"; find "$HERE/src" -type f -name '*.java' | sort | xargs cat; } | sha256sum | cut -d' ' -f1
}

# every jar of the recorded classpath is still in the local repository
jars_present() {
  local jar
  [[ -s "$1/classpath.txt" ]] || return 1
  while IFS= read -r -d: jar || [[ -n "$jar" ]]; do
    [[ -z "$jar" || -f "$jar" ]] || return 1
  done <"$1/classpath.txt"
}

for v in "${versions[@]}"; do
  out="$HERE/target/kafka-clients-$v"
  want=$(stamp_of "$v")
  if [[ "$(cat "$out/.stamp" 2>/dev/null)" != "$want" ]] || ! jars_present "$out"; then
    mkdir -p "$HERE/target"
    log="$HERE/target/build-$v.log"
    if ! mvn -q -B -f "$HERE/pom.xml" -Dkafka.clients.version="$v" compile dependency:build-classpath >"$log" 2>&1; then
      echo "[compat] java harness build failed for kafka-clients $v (mvn log: $log)" >&2
      tail -n 40 "$log" >&2
      exit 1
    fi
    echo "$want" >"$out/.stamp"
  fi
  if [[ $print_cp -eq 1 ]]; then echo "$out/classes:$(cat "$out/classpath.txt")"; fi
done
