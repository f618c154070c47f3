#!/usr/bin/env bash
# Regenerates docs/screens/01-16 from the current build: runs the demo's two seeded clusters
# (with Prometheus and Alertmanager), drives vigil in tmux at 120x40 as a person would, and
# writes each screen as text. (07 and 17-21 come from `VIGIL_SCREENS=$PWD/docs/screens go test
# ./e2e -run TestTUI`.) Usage: scripts/capture-screens.sh [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/screens}
state=$(mktemp -d)
session=vigil-screens-$$
make -s build localcluster promtools >/dev/null
tmux new-session -d -s "$session" -x 120 -y 40 "VIGIL_DEMO_STATE=$state NO_COLOR=1 scripts/demo.sh; sleep 600"
trap 'tmux send-keys -t "$session" q 2>/dev/null; sleep 5; tmux kill-session -t "$session" 2>/dev/null; rm -rf "$state"' EXIT
screen() { tmux capture-pane -p -t "$session"; }
# until TEXT [SECONDS]: wait until the screen shows TEXT.
until_shows() {
	local deadline=$((SECONDS + ${2:-60}))
	until screen | grep -qF -- "$1"; do
		[ "$SECONDS" -lt "$deadline" ] || { echo "capture-screens: never showed: $1" >&2; screen >&2; exit 1; }
		sleep 0.3
	done
}
keys() { tmux send-keys -t "$session" "$@"; sleep 0.6; }
cmd() { keys ":"; tmux send-keys -t "$session" -l "$1"; keys Enter; }
save() { screen >"$out/$1"; echo "  $out/$1" >&2; }

until_shows "firing" 180   # clusters up, vigil synced, the seed's alerts fired
until_shows "payment-service" 30
sleep 3
save 01-services-local-1.txt
tmux send-keys -t "$session" -l /payment; sleep 1; save 02-services-filter-payment.txt
keys Enter g Enter   # leave typing (the filter stays), open the first: fintech-prod/payment-service
until_shows "ROLLOUT HISTORY" 10
sleep 2; save 03-service-detail-payment-service.txt
keys PageDown; save 04-service-detail-payment-service-lower.txt
keys a; until_shows "Actions on" 10; save 05-service-actions.txt
keys Escape; keys Escape; keys Escape   # the menu, the detail, the filter
cmd hpa; sleep 1; save 06-autoscaling.txt
cmd compliance; sleep 2; save 08-compliance.txt
keys Enter; sleep 1; save 09-compliance-item-rbac.txt; keys Escape
cmd gitops; sleep 1; save 10-gitops-secrets.txt
cmd ctx; sleep 3; save 11-contexts-fleet.txt
cmd "ctx local-2"; sleep 0.2; save 12-switch-first-paint-local-2.txt
until_shows "ctx local-2" 10; sleep 4; save 13-services-local-2.txt
keys g Enter   # Down sorts first: payment-service (ImagePullBackOff)
until_shows "ROLLOUT HISTORY" 10; sleep 1; save 14-service-detail-local-2-payment-service.txt
keys Escape; keys Escape
cmd gitops; sleep 1; save 15-gitops-local-2.txt
keys "?"; sleep 1; save 16-full-help.txt
