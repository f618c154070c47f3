#!/usr/bin/env bash
# make demo: two seeded local clusters, Prometheus and Alertmanager, and vigil on local-1.
# Prometheus and Alertmanager come from PATH (Debian's packages) or else from bin/, where
# `make promtools` (a prerequisite of `make demo`) builds them from pinned Go modules.
# Everything started here is stopped when vigil exits.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
PATH="$PATH:$root/bin"
export PATH
state=${VIGIL_DEMO_STATE:-$root/.state/demo}
mkdir -p "$state"
pids=()
cleanup() {
	trap - EXIT INT TERM
	[ -f "$state/prom/prometheus.pid" ] && testdata/prometheus/stop.sh --state "$state/prom" >/dev/null 2>&1 || true
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	echo "demo stopped (state kept in $state; 'make clean' removes it)" >&2
}
trap cleanup EXIT INT TERM

echo "starting two local clusters (etcd + kube-apiserver + controller manager + simulator)..." >&2
out="$state/localcluster.out"
: >"$out"
bin/localcluster --dir "$state/clusters" --clusters 2 --seed >"$out" 2>"$state/localcluster.err" &
pids+=($!)
for i in $(seq 1 240); do
	grep -q '^KUBECONFIG=' "$out" && break
	if ! kill -0 "${pids[0]}" 2>/dev/null; then
		echo "localcluster exited early; its log:" >&2
		tail -n 20 "$state/localcluster.err" >&2
		exit 1
	fi
	printf '\r  waiting for the clusters to be ready and seeded... %ds' "$((i / 2))" >&2
	sleep 0.5
done
echo >&2
kubeconfig=$(sed -n 's/^KUBECONFIG=//p' "$out")
targets=$(sed -n 's/^PROMETHEUS_TARGETS=//p' "$out")
[ -n "$kubeconfig" ] || { echo "localcluster did not become ready in 120s; see $state/localcluster.err" >&2; exit 1; }

# free_port N: the first port from N up that nothing listens on.
free_port() {
	local p=$1
	while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
	echo "$p"
}
config="$state/vigil.yaml"
{
	echo "# written by make demo: one Prometheus/Alertmanager serves both local clusters,"
	echo "# so each context keeps only the alerts labelled with its cluster."
} >"$config"
if command -v prometheus >/dev/null && { command -v prometheus-alertmanager || command -v alertmanager; } >/dev/null; then
	echo "starting Prometheus and Alertmanager on 127.0.0.1 (short 'for:' so alerts fire in ~30s)..." >&2
	pp=$(free_port 19090)
	ap=$(free_port $((pp + 3)))
	if testdata/prometheus/start.sh --state "$state/prom" --targets "$targets" --prom-port "$pp" --am-port "$ap" --fast >"$state/prom.out" 2>&1; then
		cat >>"$config" <<CFG
prometheus: http://127.0.0.1:$pp
alertmanager: http://127.0.0.1:$ap
contexts:
CFG
		for n in 1 2; do
			for ctx in "local-$n" "local-$n-reviewer"; do
				printf '  %s:\n    alertLabels:\n      match: {cluster: local-%s}\n' "$ctx" "$n" >>"$config"
			done
		done
	else
		echo "Prometheus did not start (see $state/prom.out); vigil runs without alerts" >&2
	fi
else
	echo "Prometheus or Alertmanager not found on PATH or in bin/ (make promtools builds them): alerts are unavailable" >&2
fi

echo "KUBECONFIG=$kubeconfig  (try: kubectl --kubeconfig $kubeconfig --context local-1 get pods -A)" >&2
sleep 1
KUBECONFIG="$kubeconfig" bin/vigil --config "$config" --context local-1 "$@"
