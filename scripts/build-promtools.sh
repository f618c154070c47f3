#!/usr/bin/env bash
# Builds promtool, prometheus and alertmanager from pinned Go modules into bin/, for a machine
# that has only Go. A tool already on PATH (Debian's packages: prometheus, and
# prometheus-alertmanager for alertmanager) or already built in bin/ at the pinned version is
# left alone, so this is a no-op after the first run.
#
#   scripts/build-promtools.sh [promtool] [prometheus] [alertmanager]   (default: all three)
#   scripts/build-promtools.sh --force promtool   # build into bin/ even if one is on PATH
#
# Cold builds on 2 cores: promtool ~6 min, prometheus ~1-2 min more (shares most packages),
# alertmanager ~2 min. Progress is a count of compiled packages.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pins. Prometheus 3 (v0.316.0 is the Go module version of Prometheus 3.x). Alertmanager
# v0.35.0 does not build with `go install` (its UI embed is missing from the module); v0.31.1 does.
PROMETHEUS_MODULE=github.com/prometheus/prometheus
PROMETHEUS_VERSION=v0.316.0
ALERTMANAGER_MODULE=github.com/prometheus/alertmanager
ALERTMANAGER_VERSION=v0.31.1

force=0
tools=()
for a in "$@"; do
	case "$a" in
	--force) force=1 ;;
	promtool | prometheus | alertmanager) tools+=("$a") ;;
	*) echo "build-promtools.sh: unknown argument: $a" >&2; exit 2 ;;
	esac
done
[ "${#tools[@]}" -gt 0 ] || tools=(promtool prometheus alertmanager)

pkg_of() {
	case "$1" in
	promtool | prometheus) echo "$PROMETHEUS_MODULE/cmd/$1@$PROMETHEUS_VERSION" ;;
	alertmanager) echo "$ALERTMANAGER_MODULE/cmd/alertmanager@$ALERTMANAGER_VERSION" ;;
	esac
}
version_of() {
	case "$1" in
	promtool | prometheus) echo "$PROMETHEUS_VERSION" ;;
	alertmanager) echo "$ALERTMANAGER_VERSION" ;;
	esac
}
on_path() {
	case "$1" in
	alertmanager) command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null ;;
	*) command -v "$1" >/dev/null ;;
	esac
}
# built_ok TOOL: bin/TOOL exists and was built from the pinned module version.
built_ok() {
	[ -x "bin/$1" ] && go version -m "bin/$1" 2>/dev/null | awk '$1 == "mod" {print $3; exit}' | grep -qxF "$(version_of "$1")"
}

mkdir -p bin
bin=$PWD/bin
# Parallel test packages may ask for the same tool at once: one builds, the others wait.
if command -v flock >/dev/null; then
	exec 9>"bin/.build-promtools.lock"
	flock 9
fi
for tool in "${tools[@]}"; do
	if [ "$force" = 0 ] && on_path "$tool"; then
		continue
	fi
	built_ok "$tool" && continue
	pkg=$(pkg_of "$tool")
	start=$(date +%s)
	echo "building bin/$tool from $pkg (not on PATH; first build takes minutes, later runs reuse it)..." >&2
	log=$(mktemp)
	set +e
	GOBIN=$bin GOFLAGS=-buildvcs=false go install -v "$pkg" 2>&1 | tee "$log" |
		if [ -t 2 ]; then
			awk '{n++; printf "\r  compiled %d packages", n > "/dev/stderr"} END {if (n) print "" > "/dev/stderr"}'
		else # a log (CI): one line every 100 packages
			awk '{n++; if (n % 100 == 0) printf "  compiled %d packages\n", n > "/dev/stderr"}'
		fi
	rc=${PIPESTATUS[0]}
	set -e
	if [ "$rc" -ne 0 ]; then
		echo "building bin/$tool failed:" >&2
		grep -E '\.go:[0-9]+|error|cannot|undefined|pattern' "$log" | head -n 40 >&2 || tail -n 40 "$log" >&2
		rm -f "$log"
		exit "$rc"
	fi
	rm -f "$log"
	echo "bin/$tool built in $(($(date +%s) - start))s" >&2
done
