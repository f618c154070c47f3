#!/usr/bin/env bash
# Builds bin/localcluster (a real kube-apiserver, etcd and controller manager in one binary).
# The first build compiles Kubernetes: 5-15 minutes on 2 cores. Progress is shown as a count of
# compiled packages; later builds relink in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ldflags="-X k8s.io/component-base/version.gitVersion=v1.37.2 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"
mkdir -p bin
start=$(date +%s)
echo "building bin/localcluster (Kubernetes v1.37.2 in one binary; the first build takes 5-15 minutes)..." >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
( cd testdata/localcluster && go build -v -ldflags "$ldflags" -o ../../bin/localcluster . ) 2>&1 | tee "$log" |
	if [ -t 2 ]; then awk '{n++; printf "\r  compiled %d packages", n > "/dev/stderr"} END {if (n) print "" > "/dev/stderr"}'; else cat >/dev/null; fi
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -ne 0 ]; then
	echo "building bin/localcluster failed:" >&2
	grep -E '\.go:[0-9]+|error|cannot|undefined' "$log" | head -n 40 >&2 || tail -n 40 "$log" >&2
	exit "$rc"
fi
echo "bin/localcluster built in $(( $(date +%s) - start ))s" >&2
