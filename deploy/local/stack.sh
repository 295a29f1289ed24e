#!/usr/bin/env bash
# The whole local stack (Kafka, InfluxDB, Alertmanager) on 127.0.0.1. `up` prints env lines:
#   FLEETWATCH_KAFKA_BOOTSTRAP=127.0.0.1:PORT
#   FLEETWATCH_INFLUX_URL=http://127.0.0.1:PORT
#   FLEETWATCH_ALERTMANAGER_URL=http://127.0.0.1:PORT
# usage: stack.sh fetch|up|down|status
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cmd="${1:-}"
case "$cmd" in
  fetch) "$LOCAL_SCRIPTS/kafka.sh" fetch; "$LOCAL_SCRIPTS/influxdb.sh" fetch; "$LOCAL_SCRIPTS/alertmanager.sh" fetch ;;
  up) "$LOCAL_SCRIPTS/kafka.sh" up; "$LOCAL_SCRIPTS/influxdb.sh" up; "$LOCAL_SCRIPTS/alertmanager.sh" up ;;
  down) "$LOCAL_SCRIPTS/alertmanager.sh" down; "$LOCAL_SCRIPTS/kafka.sh" down; "$LOCAL_SCRIPTS/influxdb.sh" down ;;
  status)
    rc=0
    "$LOCAL_SCRIPTS/kafka.sh" status || rc=$?
    "$LOCAL_SCRIPTS/influxdb.sh" status || rc=$?
    "$LOCAL_SCRIPTS/alertmanager.sh" status || rc=$?
    exit "$rc" ;;
  *) die "usage: stack.sh fetch|up|down|status" ;;
esac
