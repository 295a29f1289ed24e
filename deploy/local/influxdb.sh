#!/usr/bin/env bash
# InfluxDB 1.8 (pure Go build, Flux on) serving the HTTP API influxdb-client uses, on 127.0.0.1.
# usage: influxdb.sh fetch|up|down|status   (env: FLEETWATCH_LOCAL_DIR, FLEETWATCH_CACHE, INFLUX_PORT,
#        FLEETWATCH_INFLUX_DATABASE — created on start, default "fleetwatch")
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

INFLUX_VERSION=1.8.10
INFLUX_BIN="$FLEETWATCH_CACHE/influxdb-$INFLUX_VERSION/bin/influxd"
INFLUX_DIR="$FLEETWATCH_LOCAL_DIR/influxdb"
PIDFILE="$INFLUX_DIR/influxd.pid"
DATABASE="${FLEETWATCH_INFLUX_DATABASE:-fleetwatch}"

fetch() {
  [[ -x "$INFLUX_BIN" ]] && return 0
  need go "install Go >= 1.21 (Debian: apt-get install golang)"
  say "building InfluxDB $INFLUX_VERSION from the Go module proxy into $(dirname "$INFLUX_BIN") (about 2 min)"
  # CGO off: Flux's Rust parser is only needed under the libflux build tag, which we do not use.
  GOBIN="$(dirname "$INFLUX_BIN")" CGO_ENABLED=0 GOFLAGS=-mod=mod \
    go install "github.com/influxdata/influxdb/cmd/influxd@v$INFLUX_VERSION" >&2 \
    || die "go could not build InfluxDB $INFLUX_VERSION (see output above)"
}

up() {
  if pid_alive "$PIDFILE"; then create_database; status; return 0; fi
  fetch
  local port
  if [[ -f "$INFLUX_DIR/port" && -z "${INFLUX_PORT:-}" ]]; then
    port="$(choose_port "$(cat "$INFLUX_DIR/port")")"
  else
    port="$(choose_port "${INFLUX_PORT:-0}")"
  fi
  mkdir -p "$INFLUX_DIR/data"
  sed -e "s:@PORT@:$port:g" -e "s:@RPC_PORT@:$(free_port):g" -e "s:@DATA@:$INFLUX_DIR/data:g" \
    "$LOCAL_SCRIPTS/influxdb/influxdb.conf.in" > "$INFLUX_DIR/influxdb.conf"
  echo "$port" > "$INFLUX_DIR/port"
  say "starting InfluxDB $INFLUX_VERSION on 127.0.0.1:$port (data in $INFLUX_DIR)"
  nohup "$INFLUX_BIN" -config "$INFLUX_DIR/influxdb.conf" >"$INFLUX_DIR/influxd.out" 2>&1 </dev/null &
  echo $! > "$PIDFILE"
  if ! wait_until 60 "InfluxDB on 127.0.0.1:$port" ready "$port"; then
    stop_pid "$PIDFILE" InfluxDB
    die "InfluxDB did not become ready within 60 s; last log line: $(tail -1 "$INFLUX_DIR/influxd.out")"
  fi
  create_database
  status
}

ready() {
  pid_alive "$PIDFILE" || die "InfluxDB exited during start-up: $(tail -3 "$INFLUX_DIR/influxd.out")"
  curl -sf -o /dev/null "http://127.0.0.1:$1/ping"
}

create_database() {  # idempotent in InfluxDB: CREATE DATABASE on an existing one is a no-op
  curl -sf -o /dev/null -XPOST "http://127.0.0.1:$(cat "$INFLUX_DIR/port")/query" \
    --data-urlencode "q=CREATE DATABASE \"$DATABASE\"" || die "could not create database $DATABASE"
}

status() {
  if pid_alive "$PIDFILE"; then
    echo "FLEETWATCH_INFLUX_URL=http://127.0.0.1:$(cat "$INFLUX_DIR/port")"
  else
    say "InfluxDB is not running"; return 3
  fi
}

down() { stop_pid "$PIDFILE" InfluxDB; }

case "${1:-}" in
  fetch|up|down|status) "$1" ;;
  *) die "usage: influxdb.sh fetch|up|down|status" ;;
esac
