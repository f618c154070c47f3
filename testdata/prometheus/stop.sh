#!/usr/bin/env bash
# Stop the Prometheus and Alertmanager that start.sh started:
#
#   testdata/prometheus/stop.sh --state DIR
#
# Kills exactly the processes named by DIR/prometheus.pid and DIR/alertmanager.pid (SIGTERM,
# then SIGKILL after 10 s), after checking that each pid still belongs to a process started with
# this state directory (a stale pid file never kills an unrelated process). Idempotent.
set -euo pipefail

state=""
while [ $# -gt 0 ]; do
  case "$1" in
    --state) state="${2:-}"; shift 2 ;;
    --state=*) state="${1#*=}"; shift ;;
    *) echo "stop.sh: unknown argument: $1 (usage: stop.sh --state DIR)" >&2; exit 2 ;;
  esac
done
[ -n "$state" ] || { echo "stop.sh: --state DIR is required" >&2; exit 2; }
[ -d "$state" ] || exit 0
state="$(cd "$state" && pwd)"

owned() { # pid belongs to a process whose command line mentions our state dir
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' < "/proc/$1/cmdline" | grep -qF -- "$state/"
}

for name in prometheus alertmanager; do
  pidfile="$state/$name.pid"
  [ -f "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && owned "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "stop.sh: $name (pid $pid) ignored SIGTERM for 10s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
done
