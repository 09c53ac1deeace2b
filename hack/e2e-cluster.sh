#!/usr/bin/env bash
# End-to-end test of the cluster backend (an existing cluster, issue 18)
# through ckslab itself, on a cluster it did not create, with its kubeconfig
# only:
#   1. Ctrl-C during `cluster up` (the capability probes): nothing left;
#   2. `cluster up --backend cluster --kubeconfig F` (timed; detected
#      capability table), `cluster status`, `ckslab ssh NODE CMD`;
#   3. `validate --backend cluster` for CKSLAB_E2E_SCENARIOS (timed);
#   4. Ctrl-C during `start` (mid-setup), then `reset`;
#   5. `cluster down`; after 3, 4 and 5 the cluster's namespaces, pods,
#      ServiceAccounts and RBAC objects are compared with a snapshot taken
#      before step 1 (after 3 and 4 only ckslab's empty, labelled
#      ckslab-node-access namespace may remain until down), and the user's
#      kubeconfig is compared byte for byte.
#
# Usage: hack/e2e-cluster.sh KUBECONFIG [CONTEXT]
#   The cluster must be one you may change (a kind cluster: make one with
#   `ckslab cluster up --backend kind --cluster NAME`, then pass
#   $CKSLAB_STATE_DIR/kind/NAME/kubeconfig). Knobs: CKSLAB_E2E_SCENARIOS
#   (default "rbac-01 sa-01 psp-01"), CKSLAB_E2E_CONTROL_PLANE="api-01" (run
#   with --allow-control-plane), CKSLAB_BIN (default: go build).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[e2e-cluster] %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

kc="${1:?usage: hack/e2e-cluster.sh KUBECONFIG [CONTEXT]}"
ctx="${2:-}"
command -v kubectl >/dev/null || die "kubectl is needed to take the snapshots"
work="$(mktemp -d "${TMPDIR:-/tmp}/ckslab-e2e-cluster.XXXXXX")"
export CKSLAB_STATE_DIR="$work/state"
bin="${CKSLAB_BIN:-}"
if [[ -z "$bin" ]]; then
  bin="$work/ckslab"
  go build -o "$bin" ./cmd/ckslab
fi
name=e2e-cluster
args=(--backend cluster --cluster "$name" --kubeconfig "$kc")
[[ -n "$ctx" ]] && args+=(--context "$ctx")
k() { kubectl --kubeconfig "$kc" ${ctx:+--context "$ctx"} "$@"; }

snapshot() {
  {
    k get namespaces,clusterroles,clusterrolebindings -o name
    k get pods,serviceaccounts,roles,rolebindings -A -o go-template='{{range .items}}{{.kind}} {{.metadata.namespace}}/{{.metadata.name}}{{"\n"}}{{end}}' \
      | grep -v ' kube-system/' || true
  } | sort
}
# same FILE LABEL [ALLOW]: the cluster matches the first snapshot; ALLOW is
# a regexp of lines that may be extra (ckslab's labelled node-access namespace).
same() {
  local allow="${3:-^$}"
  snapshot >"$work/now"
  if ! diff <(grep -Ev "$allow" "$work/now") <(grep -Ev "$allow" "$1") >"$work/diff"; then
    cat "$work/diff" >&2
    die "$2: the cluster differs from before (< now, > before)"
  fi
  sha256sum -c --quiet "$work/kubeconfig.sha" || die "$2: the user's kubeconfig $kc changed"
  log "$2: nothing left behind; your kubeconfig is unchanged byte for byte"
}
ours='ckslab-node-access'

sha256sum "$kc" >"$work/kubeconfig.sha"
snapshot >"$work/before"

# 1. Ctrl-C while up probes capabilities.
"$bin" "${args[@]}" cluster up >"$work/up-int.log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  k get ns ckslab-probe >/dev/null 2>&1 && break
  sleep 0.5
done
kill -INT "$pid"
wait "$pid" || true
for _ in $(seq 1 60); do
  k get ns ckslab-probe >/dev/null 2>&1 || break
  sleep 1
done
"$bin" "${args[@]}" cluster down >/dev/null 2>&1 || true
same "$work/before" "Ctrl-C during cluster up, then down"

# 2. up, status, ssh.
start=$(date +%s.%N)
"$bin" "${args[@]}" cluster up
log "cluster up (capability probes included): $(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)") s"
"$bin" "${args[@]}" cluster status || true
node="$(k get nodes -o jsonpath="{.items[-1:].metadata.name}")" # the last: not the default control-plane node
out="$("$bin" "${args[@]}" ssh "$node" cat /etc/hostname)"
[[ "$(echo "$out" | tr -d '[:space:]')" == "$node" ]] || die "ckslab ssh $node cat /etc/hostname printed '$out'"
log "ckslab ssh $node: runs on the node ($out)"
[[ -z "$(k -n ckslab-node-access get pods -o name)" ]] || die "node-access pods left after ckslab ssh"

# 3. validate.
scen=(${CKSLAB_E2E_SCENARIOS:-rbac-01 sa-01 psp-01})
start=$(date +%s.%N)
"$bin" "${args[@]}" validate "${scen[@]}"
log "validate ${scen[*]} --backend cluster: $(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)") s"
if [[ -n "${CKSLAB_E2E_CONTROL_PLANE:-}" ]]; then
  "$bin" "${args[@]}" --allow-control-plane cluster up >/dev/null
  start=$(date +%s.%N)
  "$bin" "${args[@]}" validate ${CKSLAB_E2E_CONTROL_PLANE}
  log "validate ${CKSLAB_E2E_CONTROL_PLANE} --backend cluster (opted in): $(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)") s"
fi
same "$work/before" "after validate (finished labs)" "$ours"

# 4. Ctrl-C mid-setup, then reset.
"$bin" "${args[@]}" start "${scen[0]}" --no-tui >"$work/start-int.log" 2>&1 &
pid=$!
for _ in $(seq 1 3000); do
  grep -q "Seeding" "$work/start-int.log" && break
  sleep 0.02
done
kill -INT "$pid"
wait "$pid" || true
grep -q "✘ Seeding" "$work/start-int.log" || { cat "$work/start-int.log" >&2; die "start ${scen[0]} was not interrupted mid-setup"; }
log "interrupted mid-setup: $(grep '✘ Seeding' "$work/start-int.log")"
"$bin" "${args[@]}" reset >/dev/null 2>&1 || true
same "$work/before" "Ctrl-C mid-setup of ${scen[0]}, then reset" "$ours"

# 5. down.
"$bin" "${args[@]}" cluster down
same "$work/before" "after cluster down"
rm -rf "$work"
log "PASS"
