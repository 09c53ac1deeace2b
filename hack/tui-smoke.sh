#!/usr/bin/env bash
# tui-smoke.sh drives the real ckslab binary in tmux: it starts a
# local-backend scenario, waits for the lab view, presses c, and greps the
# objective results on screen. The captured screen is printed either way.
#
#   hack/tui-smoke.sh [SCENARIO]        (default psp-01)
#   CKSLAB_BIN=/path/to/ckslab  use an existing binary
#   SMOKE_VIA=catalog           open the catalog and press enter instead of `ckslab start`
set -euo pipefail

id="${1:-psp-01}"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${CKSLAB_BIN:-}"
if [[ -z "$bin" ]]; then
  bin="$(mktemp -d)/ckslab"
  (cd "$root" && go build -o "$bin" ./cmd/ckslab)
fi
state="${CKSLAB_STATE_DIR:-$(mktemp -d)}"
cluster="${SMOKE_CLUSTER:-tui-smoke}"
sess="ckslab-smoke-$$"
common=(--backend local --cluster "$cluster" --state-dir "$state")

capture() { tmux capture-pane -p -t "$sess"; }
cleanup() {
  echo "---- screen ----"; capture 2>/dev/null || true; echo "----------------"
  tmux kill-session -t "$sess" 2>/dev/null || true
  "$bin" "${common[@]}" cluster down >/dev/null 2>&1 || true
}
trap cleanup EXIT

# wait_for TEXT SECONDS: poll the screen until TEXT appears.
wait_for() {
  local deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    if capture | grep -qF -- "$1"; then return 0; fi
    sleep 0.5
  done
  echo "timed out after $2s waiting for: $1" >&2
  return 1
}

if [[ "${SMOKE_VIA:-start}" == catalog ]]; then
  tmux new-session -d -s "$sess" -x 80 -y 24 "$bin ${common[*]}; sleep 600"
  wait_for "CKS practice labs" 30
  tmux send-keys -t "$sess" / ; tmux send-keys -t "$sess" -l "$id"; tmux send-keys -t "$sess" Enter Enter
else
  tmux new-session -d -s "$sess" -x 80 -y 24 "$bin ${common[*]} start $id; sleep 600"
fi
t0=$SECONDS
wait_for "press c to check" 600
echo "lab view after $((SECONDS - t0))s"
t1=$(date +%s.%N)
tmux send-keys -t "$sess" c
wait_for "objectives pass" 120
t2=$(date +%s.%N)
echo "key press -> results on screen: $(echo "$t2 - $t1" | bc)s (polling at 0.5s)"
capture | grep -E '^ [✔✘!-] ' || { echo "no objective results on screen" >&2; exit 1; }
echo "PASS: objectives shown after a check"
