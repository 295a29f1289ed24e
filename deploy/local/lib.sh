# Shared helpers for the local server scripts; sourced, never run.
# Why bash: these scripts must work before any Python environment exists (CI's first step).
set -euo pipefail

FLEETWATCH_CACHE="${FLEETWATCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fleetwatch}"
FLEETWATCH_LOCAL_DIR="${FLEETWATCH_LOCAL_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/fleetwatch/local}"
LOCAL_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() { echo "fleetwatch-local: $*" >&2; exit 1; }
say() { echo "fleetwatch-local: $*" >&2; }

need() {  # need CMD HINT
  command -v "$1" >/dev/null 2>&1 || die "'$1' is missing: $2"
}

free_port() {  # an ephemeral port nobody listens on right now
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

port_open() {  # port_open PORT -> 0 when something accepts on 127.0.0.1:PORT
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pid_alive() {  # pid_alive PIDFILE
  [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

wait_until() {  # wait_until DEADLINE_S DESCRIPTION CMD... ; polls CMD until it succeeds
  local deadline=$(( $(date +%s) + $1 )) what="$2"; shift 2
  until "$@"; do
    (( $(date +%s) < deadline )) || return 1
    sleep 0.3
  done
  say "$what ready"
}

stop_pid() {  # stop_pid PIDFILE NAME: SIGTERM, wait, then SIGKILL; only our own recorded PID
  local pidfile="$1" name="$2" pid
  pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid="$(cat "$pidfile")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name ignored SIGTERM for 10 s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  say "$name stopped"
}

choose_port() {  # choose_port REQUESTED: a requested port must be free; 0 or empty picks one
  local requested="${1:-0}"
  if [[ "$requested" != 0 ]]; then
    port_open "$requested" && die "port $requested on 127.0.0.1 is already taken"
    echo "$requested"
  else
    free_port
  fi
}
