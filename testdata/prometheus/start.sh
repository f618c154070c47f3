#!/usr/bin/env bash
# Start a local Prometheus + Alertmanager that scrape localcluster's service metrics and
# evaluate the seed's alert rules.
#
#   testdata/prometheus/start.sh --state DIR --targets FILE [--prom-port 19090] [--am-port 19093] [--fast]
#
#   --state DIR      working directory: configs, TSDB (DIR/data), Alertmanager state (DIR/am),
#                    logs (DIR/prometheus.log, DIR/alertmanager.log), pid files
#                    (DIR/prometheus.pid, DIR/alertmanager.pid)
#   --targets FILE   file_sd JSON, e.g. localcluster's PROMETHEUS_TARGETS
#   --prom-port P    Prometheus listens on 127.0.0.1:P (default 19090)
#   --am-port A      Alertmanager listens on 127.0.0.1:A (default 19093)
#   --fast           use a copy of the rules whose `for:` is 10s (tests need not wait 5 minutes)
#
# Both run in the background; when both answer /-/ready it prints, and nothing else on stdout:
#   PROMETHEUS=http://127.0.0.1:P
#   ALERTMANAGER=http://127.0.0.1:A
# Stop them with testdata/prometheus/stop.sh --state DIR.
# Binaries: $PROMETHEUS_BIN and $ALERTMANAGER_BIN, else from PATH (prometheus;
# prometheus-alertmanager, the Debian name, else alertmanager), else from the repository's bin/
# (`make promtools` builds them there from pinned Go modules). Works with Prometheus 2.42
# (Debian) and 3.x, Alertmanager 0.25 (Debian) and 0.31. Needs only bash (no curl).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state="" targets="" prom_port=19090 am_port=19093 fast=0 timeout=30

die() { echo "start.sh: $*" >&2; exit 1; }
usage() { sed -n '5,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --state) state="${2:-}"; shift 2 ;;
    --state=*) state="${1#*=}"; shift ;;
    --targets) targets="${2:-}"; shift 2 ;;
    --targets=*) targets="${1#*=}"; shift ;;
    --prom-port) prom_port="${2:-}"; shift 2 ;;
    --prom-port=*) prom_port="${1#*=}"; shift ;;
    --am-port) am_port="${2:-}"; shift 2 ;;
    --am-port=*) am_port="${1#*=}"; shift ;;
    --fast) fast=1; shift ;;
    -h|--help) usage ;;
    *) echo "start.sh: unknown argument: $1" >&2; usage ;;
  esac
done
[ -n "$state" ] || die "--state DIR is required"
[ -n "$targets" ] || die "--targets FILE is required"
case "$prom_port$am_port" in *[!0-9]*) die "ports must be numbers (--prom-port $prom_port, --am-port $am_port)" ;; esac
[ "$prom_port" != "$am_port" ] || die "--prom-port and --am-port must differ"

# Binaries: PATH first (Debian's packages), then the repository's bin/ (built from pinned Go
# modules by `make promtools`, i.e. scripts/build-promtools.sh).
root="$(cd "$here/../.." && pwd)"
PATH="$PATH:$root/bin"
export PATH
find_bin() { # first of the names found on PATH (bin/ included)
  local n
  for n in "$@"; do
    if command -v "$n" >/dev/null; then command -v "$n"; return 0; fi
  done
  return 1
}
missing="not found on PATH or in $root/bin (run 'make promtools' or scripts/build-promtools.sh, or apt-get install prometheus prometheus-alertmanager)"
prom_bin="${PROMETHEUS_BIN:-$(find_bin prometheus || true)}"
[ -n "$prom_bin" ] && command -v "$prom_bin" >/dev/null || die "prometheus binary ${PROMETHEUS_BIN:-prometheus} $missing"
am_bin="${ALERTMANAGER_BIN:-$(find_bin prometheus-alertmanager alertmanager || true)}"
[ -n "$am_bin" ] && command -v "$am_bin" >/dev/null || die "alertmanager binary ${ALERTMANAGER_BIN:-alertmanager} $missing"
export PROMETHEUS_BIN="$prom_bin" ALERTMANAGER_BIN="$am_bin"

# Prometheus 2 (Debian's 2.42) and 3 (the pinned v0.316.0 module) take the flags used below
# alike; only flags both accept are passed. The major version is logged for diagnosis.
prom_version="$("$prom_bin" --version 2>&1 | sed -n 's/^prometheus, version \([0-9.]*\).*/\1/p' | head -n 1)"
if [ -z "$prom_version" ] && command -v go >/dev/null; then # go install leaves the version empty
  prom_version="module $(go version -m "$prom_bin" 2>/dev/null | awk '$1 == "mod" {print $3; exit}')"
fi

mkdir -p "$state"
state="$(cd "$state" && pwd)"
case "$targets" in /*) ;; *) targets="$PWD/$targets" ;; esac
[ -e "$targets" ] || echo "start.sh: warning: $targets does not exist yet; Prometheus will pick it up when it appears" >&2

for name in prometheus alertmanager; do
  pidfile="$state/$name.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    die "$name already running with pid $(cat "$pidfile") for $state; run $here/stop.sh --state $state first"
  fi
done

# --- configuration ---
mkdir -p "$state/data" "$state/am" "$state/rules"
rules="$state/rules/fintech-rules.yml"
if [ "$fast" = 1 ]; then
  sed -E 's/^([[:space:]]*)for:[[:space:]]*[0-9a-z]+/\1for: 10s/' "$here/rules/fintech-rules.yml" > "$rules"
else
  cp "$here/rules/fintech-rules.yml" "$rules"
fi

esc() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }
sed -e "s|@TARGETS_FILE@|$(esc "$targets")|" \
    -e "s|@RULES_FILE@|$(esc "$rules")|" \
    -e "s|@AM_ADDRESS@|127.0.0.1:$am_port|" \
    "$here/prometheus.yml" > "$state/prometheus.yml"
cp "$here/alertmanager.yml" "$state/alertmanager.yml"

if promtool_bin="$(find_bin promtool)"; then
  "$promtool_bin" check config "$state/prometheus.yml" > "$state/promtool-check.log" 2>&1 ||
    die "generated $state/prometheus.yml is invalid, see $state/promtool-check.log"
fi

# --- start (new session: a Ctrl-C in the caller's terminal does not reach them) ---
setsid "$am_bin" \
  --config.file="$state/alertmanager.yml" \
  --storage.path="$state/am" \
  --web.listen-address="127.0.0.1:$am_port" \
  --cluster.listen-address= \
  > "$state/alertmanager.log" 2>&1 < /dev/null &
echo $! > "$state/alertmanager.pid"

setsid "$prom_bin" \
  --config.file="$state/prometheus.yml" \
  --storage.tsdb.path="$state/data" \
  --web.listen-address="127.0.0.1:$prom_port" \
  --rules.alert.resend-delay=1s \
  --web.enable-lifecycle \
  > "$state/prometheus.log" 2>&1 < /dev/null &
echo $! > "$state/prometheus.pid"

# --- wait for readiness ---
# ready URL: GET URL/-/ready answers 200 (plain bash /dev/tcp, so curl is not needed).
ready() {
  local hostport="${1#http://}"
  (
    exec 3<>"/dev/tcp/${hostport%%:*}/${hostport##*:}" || exit 1
    printf 'GET /-/ready HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$hostport" >&3
    IFS= read -r -t 2 status <&3 || exit 1
    case "$status" in "HTTP/"*" 200"*) exit 0 ;; *) exit 1 ;; esac
  ) 2>/dev/null
}
prom_url="http://127.0.0.1:$prom_port"
am_url="http://127.0.0.1:$am_port"
deadline=$(( $(date +%s) + timeout ))
for pair in "alertmanager:$am_url" "prometheus:$prom_url"; do
  name="${pair%%:*}" url="${pair#*:}"
  until ready "$url"; do
    if ! kill -0 "$(cat "$state/$name.pid")" 2>/dev/null; then
      echo "start.sh: $name exited during startup; last lines of $state/$name.log:" >&2
      tail -n 15 "$state/$name.log" >&2 || true
      "$here/stop.sh" --state "$state" >/dev/null 2>&1 || true
      exit 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "start.sh: $name not ready at $url/-/ready after ${timeout}s; see $state/$name.log" >&2
      "$here/stop.sh" --state "$state" >/dev/null 2>&1 || true
      exit 1
    fi
    sleep 0.2
  done
done

echo "start.sh: prometheus ${prom_version:-?} ($prom_bin), alertmanager ($am_bin) ready" >&2
echo "PROMETHEUS=$prom_url"
echo "ALERTMANAGER=$am_url"
