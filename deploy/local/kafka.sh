#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft) from Maven Central jars, on 127.0.0.1.
# usage: kafka.sh fetch|up|down|status
#   (env: FLEETWATCH_LOCAL_DIR, FLEETWATCH_CACHE, KAFKA_PORT, FLEETWATCH_KAFKA_VERSION)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# FLEETWATCH_KAFKA_VERSION picks another release (default: the one in kafka/pom.xml);
# 4.x releases use kafka/pom-4.xml and Log4j 2 (kafka/log4j2.properties).
KAFKA_POM="$LOCAL_SCRIPTS/kafka/pom.xml"
KAFKA_VERSION="${FLEETWATCH_KAFKA_VERSION:-$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM")}"
KAFKA_LOG_OPTS="-Dlog4j.configuration=file:$LOCAL_SCRIPTS/kafka/log4j.properties"
if [[ "$KAFKA_VERSION" == 4.* ]]; then
  KAFKA_POM="$LOCAL_SCRIPTS/kafka/pom-4.xml"
  KAFKA_LOG_OPTS="-Dlog4j2.configurationFile=$LOCAL_SCRIPTS/kafka/log4j2.properties"
fi
KAFKA_LIBS="$FLEETWATCH_CACHE/kafka-$KAFKA_VERSION/libs"
KAFKA_DIR="$FLEETWATCH_LOCAL_DIR/kafka"
PIDFILE="$KAFKA_DIR/kafka.pid"

fetch() {
  [[ -f "$KAFKA_LIBS/.complete" ]] && return 0
  need java "install a JDK >= 17 (Debian: apt-get install openjdk-17-jre-headless)"
  need mvn "install Maven (Debian: apt-get install maven)"
  say "fetching Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS"
  mkdir -p "$KAFKA_LIBS"
  mvn -q -B -f "$KAFKA_POM" -Dkafka.version="$KAFKA_VERSION" dependency:copy-dependencies \
    -DoutputDirectory="$KAFKA_LIBS" -DincludeScope=runtime >&2 \
    || die "mvn could not fetch Kafka $KAFKA_VERSION (see output above)"
  touch "$KAFKA_LIBS/.complete"
}

write_config() {  # write_config PORT CONTROLLER_PORT
  mkdir -p "$KAFKA_DIR/data"
  sed -e "s:@PORT@:$1:g" -e "s:@CONTROLLER_PORT@:$2:g" -e "s:@DATA@:$KAFKA_DIR/data:g" \
    "$LOCAL_SCRIPTS/kafka/server.properties.in" > "$KAFKA_DIR/server.properties"
  echo "$1" > "$KAFKA_DIR/port"
}

format_storage() {
  [[ -f "$KAFKA_DIR/data/meta.properties" ]] && return 0
  local cluster_id
  # Kafka's own ids never start with '-' (argument parsers would read them as flags); neither do ours.
  cluster_id="$(python3 -c 'import base64,uuid
while (i := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")).startswith("-"): pass
print(i)')"
  java -cp "$KAFKA_LIBS/*" "$KAFKA_LOG_OPTS" \
    kafka.tools.StorageTool format --cluster-id="$cluster_id" -c "$KAFKA_DIR/server.properties" \
    --ignore-formatted >"$KAFKA_DIR/format.log" 2>&1 \
    || die "formatting Kafka storage failed: $(tail -1 "$KAFKA_DIR/format.log")"
}

up() {
  if pid_alive "$PIDFILE"; then status; return 0; fi
  fetch
  need java "install a JDK >= 17"
  local port controller_port
  if [[ -f "$KAFKA_DIR/port" && -z "${KAFKA_PORT:-}" ]]; then
    port="$(choose_port "$(cat "$KAFKA_DIR/port")")"   # keep the address clients already know
  else
    port="$(choose_port "${KAFKA_PORT:-0}")"
  fi
  controller_port="$(free_port)"
  write_config "$port" "$controller_port"
  format_storage
  say "starting Kafka $KAFKA_VERSION on 127.0.0.1:$port (data in $KAFKA_DIR)"
  KAFKA_LOG_DIR="$KAFKA_DIR" nohup java -Xms128m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dkafka.logs.dir="$KAFKA_DIR" \
    "$KAFKA_LOG_OPTS" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties" \
    >"$KAFKA_DIR/kafka.out" 2>&1 </dev/null &
  echo $! > "$PIDFILE"
  if ! wait_until 90 "Kafka on 127.0.0.1:$port" ready "$port"; then
    stop_pid "$PIDFILE" Kafka
    die "Kafka did not become ready within 90 s; last log line: $(tail -1 "$KAFKA_DIR/kafka.out")"
  fi
  status
}

ready() {  # the broker logs this once the KRaft metadata is loaded and listeners accept
  pid_alive "$PIDFILE" || die "Kafka exited during start-up: $(tail -3 "$KAFKA_DIR/kafka.out")"
  port_open "$1" && grep -q "Kafka Server started" "$KAFKA_DIR/kafka.out"
}

status() {
  if pid_alive "$PIDFILE"; then
    echo "FLEETWATCH_KAFKA_BOOTSTRAP=127.0.0.1:$(cat "$KAFKA_DIR/port")"
  else
    say "Kafka is not running"; return 3
  fi
}

down() { stop_pid "$PIDFILE" Kafka; }

case "${1:-}" in
  fetch|up|down|status) "$1" ;;
  *) die "usage: kafka.sh fetch|up|down|status" ;;
esac
