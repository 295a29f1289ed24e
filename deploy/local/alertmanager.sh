#!/usr/bin/env bash
# Prometheus Alertmanager built from the Go module proxy, on 127.0.0.1 (no cluster gossip).
# usage: alertmanager.sh fetch|up|down|status   (env: FLEETWATCH_LOCAL_DIR, FLEETWATCH_CACHE,
#        ALERTMANAGER_PORT). The routing config is $FLEETWATCH_LOCAL_DIR/alertmanager/alertmanager.yml:
#        written from alertmanager/alertmanager.yml on first start, then yours (POST /-/reload).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# v0.27.0: later module versions (e.g. v0.35.0) lack the UI bundle ui/app/dist and do not build.
AM_VERSION=0.27.0
AM_BIN="$FLEETWATCH_CACHE/alertmanager-$AM_VERSION/bin/alertmanager"
AM_DIR="$FLEETWATCH_LOCAL_DIR/alertmanager"
PIDFILE="$AM_DIR/alertmanager.pid"

fetch() {
  [[ -x "$AM_BIN" ]] && return 0
  need go "install Go >= 1.21 (Debian: apt-get install golang)"
  say "building Alertmanager $AM_VERSION from the Go module proxy into $(dirname "$AM_BIN") (about 30 s)"
  GOBIN="$(dirname "$AM_BIN")" CGO_ENABLED=0 GOFLAGS=-mod=mod \
    go install "github.com/prometheus/alertmanager/cmd/alertmanager@v$AM_VERSION" >&2 \
    || die "go could not build Alertmanager $AM_VERSION (see output above)"
}

up() {
  if pid_alive "$PIDFILE"; then status; return 0; fi
  fetch
  local port
  if [[ -f "$AM_DIR/port" && -z "${ALERTMANAGER_PORT:-}" ]]; then
    port="$(choose_port "$(cat "$AM_DIR/port")")"   # keep the address clients already know
  else
    port="$(choose_port "${ALERTMANAGER_PORT:-0}")"
  fi
  mkdir -p "$AM_DIR/data"
  [[ -f "$AM_DIR/alertmanager.yml" ]] || cp "$LOCAL_SCRIPTS/alertmanager/alertmanager.yml" "$AM_DIR/"
  echo "$port" > "$AM_DIR/port"
  say "starting Alertmanager $AM_VERSION on 127.0.0.1:$port (data in $AM_DIR)"
  # An empty cluster address turns gossip off: one local instance, no port 9094 taken.
  nohup "$AM_BIN" --config.file="$AM_DIR/alertmanager.yml" --storage.path="$AM_DIR/data" \
    --web.listen-address="127.0.0.1:$port" --cluster.listen-address= \
    >"$AM_DIR/alertmanager.out" 2>&1 </dev/null &
  echo $! > "$PIDFILE"
  if ! wait_until 30 "Alertmanager on 127.0.0.1:$port" ready "$port"; then
    stop_pid "$PIDFILE" Alertmanager
    die "Alertmanager did not become ready within 30 s; last log line: $(tail -1 "$AM_DIR/alertmanager.out")"
  fi
  status
}

ready() {
  pid_alive "$PIDFILE" || die "Alertmanager exited during start-up: $(tail -3 "$AM_DIR/alertmanager.out")"
  curl -sf -o /dev/null "http://127.0.0.1:$1/-/ready"
}

status() {
  if pid_alive "$PIDFILE"; then
    echo "FLEETWATCH_ALERTMANAGER_URL=http://127.0.0.1:$(cat "$AM_DIR/port")"
  else
    say "Alertmanager is not running"; return 3
  fi
}

down() { stop_pid "$PIDFILE" Alertmanager; }

case "${1:-}" in
  fetch|up|down|status) "$1" ;;
  *) die "usage: alertmanager.sh fetch|up|down|status" ;;
esac
