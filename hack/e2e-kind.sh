#!/usr/bin/env bash
# End-to-end test of the kind backend through ckslab itself:
#   1. Ctrl-C during `ckslab cluster up --backend kind`, then `cluster down`:
#      nothing of the cluster is left (containers, networks, volumes);
#   2. `ckslab cluster up --backend kind` (timed, with its phases), nodes Ready,
#      a pod Running, `ckslab ssh` into the control-plane node;
#   3. `ckslab validate --backend kind` for every scenario whose needs this
#      cluster meets (the rest are listed as skipped, with the reason);
#   4. `ckslab cluster down` and proof that no container, network or volume
#      is left behind.
#
# Node image, CNI and NetworkPolicy engine come from CKSLAB_KIND_NODE_IMAGE /
# CKSLAB_KIND_CNI / CKSLAB_KIND_NETPOL + CKSLAB_KIND_NETPOL_IMAGE (what
# hack/ci-kind.sh sets for the offline image: bridge + kube-router, CI only);
# CKSLAB_KIND_EXTRA_IMAGES (docker-archive tarballs imported into every node at
# cluster up: the CI-only nginx stand-ins of hack/ci-workload-images.sh);
# by default the pinned kindest/node image (pulled) and Calico. Without what it needs it prints one
# SKIP line naming the missing host feature and exits 0.
#
# Knobs: CKSLAB_E2E_CLUSTER (default ckslab-e2e), CKSLAB_E2E_SCENARIOS="id ..." (default: every scenario the cluster
# supports), CKSLAB_E2E_EXCLUDE="id:reason;...", CKSLAB_E2E_SKIP_INTERRUPT=1, CKSLAB_E2E_UPS=N (extra up/down
# rounds for the time-to-ready median).
set -euo pipefail
cd "$(dirname "$0")/.."

skip() { echo "SKIP: $*"; exit 0; }
log() { printf '[e2e-kind] %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

if ! reason="$(docker info --format '{{.ServerVersion}}' 2>&1)"; then
  reason="$(printf '%s' "$reason" | tr '\n' ' ' | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')"
  skip "no Docker daemon (docker info failed: ${reason})"
fi
image="${CKSLAB_KIND_NODE_IMAGE:-}"
if [[ -n "$image" ]] && ! docker image inspect "$image" >/dev/null 2>&1; then
  skip "node image $image is not in Docker's image store (build it: hack/kind-node-image.sh)"
fi
if [[ -n "${CKSLAB_KIND_NETPOL_IMAGE:-}" && ! -s "$CKSLAB_KIND_NETPOL_IMAGE" ]]; then
  skip "NetworkPolicy engine image $CKSLAB_KIND_NETPOL_IMAGE is missing (build it: hack/kube-router-image.sh)"
fi
if [[ -n "${CKSLAB_KIND_EXTRA_IMAGES:-}" ]]; then
  IFS=: read -r -a extra_images <<<"$CKSLAB_KIND_EXTRA_IMAGES"
  for f in "${extra_images[@]}"; do
    [[ -z "$f" || -s "$f" ]] || skip "CI stand-in image tarball $f is missing (build it: hack/ci-workload-images.sh)"
  done
fi

WORK="$(mktemp -d)"
bin="$WORK/ckslab"
go build -o "$bin" ./cmd/ckslab
export CKSLAB_STATE_DIR="$WORK/state" NO_COLOR=1
CLUSTER="${CKSLAB_E2E_CLUSTER:-ckslab-e2e}"
ck() { "$bin" --backend kind --cluster "$CLUSTER" "$@"; }

# What exists before, to prove nothing is left after.
snapshot() {
  {
    docker ps -a --format 'container {{.Names}}'
    docker network ls --format 'network {{.Name}}'
    docker volume ls --format 'volume {{.Name}}'
  } | sort
}
leftovers() { comm -13 "$WORK/before" <(snapshot); }
cleanup() {
  "$bin" --backend kind --cluster "$CLUSTER" cluster down >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
snapshot >"$WORK/before"

# 1. Ctrl-C while kind creates the nodes.
if [[ "${CKSLAB_E2E_SKIP_INTERRUPT:-}" != 1 ]]; then
  log "Ctrl-C during cluster up"
  # ckslab itself in the background (not a function: $! must be its pid).
  "$bin" --backend kind --cluster "$CLUSTER" cluster up >"$WORK/int.out" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    docker ps -a --format '{{.Names}}' | grep -q "^${CLUSTER}-" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  sleep 2
  kill -INT "$pid" 2>/dev/null || true
  rc=0; wait "$pid" || rc=$?
  log "cluster up exited $rc after SIGINT: $(tail -n 2 "$WORK/int.out" | tr '\n' ' ')"
  [[ $rc -ne 0 ]] || die "cluster up ignored SIGINT (finished the cluster instead)"
  left="$(leftovers)"
  if [[ -n "$left" ]]; then
    log "after Ctrl-C (before cluster down): $(echo "$left" | tr '\n' ' ')"
    ck cluster down >&2
  fi
  left="$(leftovers)"
  [[ -z "$left" ]] || die "left behind after Ctrl-C + cluster down: $(echo "$left" | tr '\n' ' ')"
  log "nothing left after Ctrl-C during create"
fi

# 2. Create, time it (median over CKSLAB_E2E_UPS+1 rounds), phases from ckslab's own steps.
rounds=$(( ${CKSLAB_E2E_UPS:-0} + 1 ))
times=()
for i in $(seq 1 "$rounds"); do
  start=$(date +%s.%N)
  ck cluster up 2>"$WORK/up.err" >"$WORK/up.out" || { cat "$WORK/up.err" "$WORK/up.out" >&2; die "cluster up failed"; }
  t=$(echo "$(date +%s.%N) - $start" | bc)
  times+=("$t")
  log "cluster up #$i: ${t}s; phases:"
  grep -E '✔|✘' "$WORK/up.err" | sed 's/^/    /' >&2
  if [[ $i -lt $rounds ]]; then ck cluster down >/dev/null; fi
done
median="$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')"
log "time to ready: median ${median}s of ${rounds} (${times[*]})"
cat "$WORK/up.out" >&2
KUBECONFIG="$(sed -n 's/^export KUBECONFIG=//p' "$WORK/up.out")"
export KUBECONFIG
kubectl get nodes -o wide >&2
kubectl wait --for=condition=Ready nodes --all --timeout=120s >&2 || die "nodes not Ready"

log "a pod Running (busybox:1.36, never pulled)"
kubectl run e2e-pod --image=busybox:1.36 --image-pull-policy=IfNotPresent --restart=Never -- sleep 3600 >&2
kubectl wait --for=condition=Ready pod/e2e-pod --timeout=180s >&2 || { kubectl describe pod e2e-pod >&2; die "pod not Running"; }
kubectl get pod e2e-pod -o wide >&2
kubectl delete pod e2e-pod --wait=false >&2

log "ckslab ssh"
out="$(ck ssh "$CLUSTER-control-plane" cat /etc/kubernetes/manifests/kube-apiserver.yaml 2>&1)" || die "ckslab ssh failed: $out"
grep -q -- '--authorization-mode' <<<"$out" || die "ckslab ssh did not read the node's kube-apiserver manifest: $out"
log "ckslab ssh reads /etc/kubernetes/manifests/kube-apiserver.yaml on the node"

# 3. Validate every scenario whose needs this cluster meets.
caps="$(sed -n 's/^capabilities: //p' "$WORK/up.out")"
if [[ -n "${CKSLAB_E2E_SCENARIOS:-}" ]]; then
  read -r -a ids <<<"$CKSLAB_E2E_SCENARIOS"
else
  # Add-ons (gatekeeper, falco, apparmor, gvisor) and the psp-legacy image
  # are downloaded from the internet; offline CI leaves them out, except
  # gatekeeper and gvisor when CKSLAB_KIND_ADDON_SOURCE=cache (the node
  # image from hack/kind-node-image.sh carries them).
  offline='["gatekeeper","falco","apparmor","gvisor","psp"]'
  [[ "${CKSLAB_KIND_ADDON_SOURCE:-}" == cache ]] && offline='["falco","apparmor","psp"]'
  mapfile -t ids < <("$bin" list -o json | jq -r --arg caps "$caps" --argjson offline "$offline" '
      ($caps | split(",") | map(gsub("^\\s+|\\s+$"; ""))) as $have
      | .[] | select((.requires // []) - $have - ["psp", "gvisor", "gatekeeper"] | length == 0)
      | select(((.requires // []) - $offline | length) == ((.requires // []) | length))
      | [((.requires // []) | index("control-plane-node")) != null,
         (((.requires // []) - ["api", "control-plane-node", "etcd", "host-commands"]) | length) == 0, .id]' \
    | jq -rs 'sort_by(.[0], .[1]) | .[] | .[2]')
  # API-level scenarios first: each control-plane scenario restarts
  # kube-apiserver, the controller-manager then loses its lease and exits,
  # and kind's kubelet restarts it with a growing crash-loop back-off, so a
  # later scenario's new namespace may wait minutes for its default
  # ServiceAccount (a known limit of the kind backend, see DEVELOPERS.md).
fi
# CKSLAB_E2E_EXCLUDE="id:reason;id:reason" leaves known failures out, each
# printed with its reason so an exclusion is never silent.
if [[ -n "${CKSLAB_E2E_EXCLUDE:-}" ]]; then
  IFS=';' read -r -a excl <<<"$CKSLAB_E2E_EXCLUDE"
  for e in "${excl[@]}"; do
    id="${e%%:*}"
    [[ -n "$id" ]] || continue
    log "EXCLUDED $id: ${e#*:}"
    for i in "${!ids[@]}"; do [[ "${ids[$i]}" == "$id" ]] && unset 'ids[i]'; done
  done
  ids=("${ids[@]}")
fi
log "validate on kind (capabilities: $caps): ${ids[*]}"
# One validate per scenario, so each is timed and, when CI's time budget
# (CKSLAB_E2E_DEADLINE, epoch seconds, set by ci-kind.sh) runs short, the
# scenarios not started are named as NOT RUN instead of the whole run being
# killed at CI's limit. RESERVE is what one more scenario may take at most
# (cis-0x with its control-plane restarts) plus cluster down.
RESERVE="${CKSLAB_E2E_RESERVE:-600}"
budget_left() { [[ -z "${CKSLAB_E2E_DEADLINE:-}" ]] || (( $(date +%s) + ${1:-$RESERVE} < CKSLAB_E2E_DEADLINE )); }
not_run=()
vrc=0
for id in "${ids[@]}"; do
  if ! budget_left; then not_run+=("$id"); continue; fi
  t=$SECONDS; rc=0
  ck validate "$id" 2>>"$WORK/validate.err" | tee -a "$WORK/validate.out" >&2 || rc=$?
  log "validate $id: exit $rc, $((SECONDS - t))s"
  [[ $rc -eq 0 ]] || vrc=$rc
done
[[ $vrc -eq 0 ]] || { tail -n 40 "$WORK/validate.err" >&2; die "validate failed (exit $vrc)"; }

# 3b. Scenarios judged by behaviour on kind, again with every alternative,
# each objective seen both ways, timed: with the add-ons from the node image
# gatekeeper-01 (a real webhook denial) and runtimeclass-01 (pods under
# runsc); with the CI stand-in images (CKSLAB_KIND_EXTRA_IMAGES) secctx-01,
# immutable-01, netpol-01 and netpol-02 (commands in the running pods, real
# connections under kube-router), whose kind-only wrong fixes (paused
# rollouts) only fail there. CKSLAB_E2E_ALTERNATIVES="id ..." replaces the
# list ("none": no such pass).
if [[ -z "${CKSLAB_E2E_SCENARIOS:-}" ]]; then
  # The longest (runtimeclass-01) last, so a short budget drops it first.
  alt_default=()
  [[ "${CKSLAB_KIND_ADDON_SOURCE:-}" == cache ]] && alt_default+=(gatekeeper-01)
  [[ -n "${CKSLAB_KIND_EXTRA_IMAGES:-}" ]] && alt_default+=(secctx-01 immutable-01 netpol-01 netpol-02)
  [[ "${CKSLAB_KIND_ADDON_SOURCE:-}" == cache ]] && alt_default+=(runtimeclass-01)
  read -r -a alt_want <<<"${CKSLAB_E2E_ALTERNATIVES:-${alt_default[*]}}"
  addon_ids=()
  for id in "${alt_want[@]}"; do
    [[ " ${ids[*]} " == *" $id "* ]] && addon_ids+=("$id")
  done
  # Each with alternatives is one validate; runtimeclass-01 brings the
  # cluster up (and proves runsc with probe pods) for every alternative:
  # ~17 min here, gatekeeper-01 ~6 min, secctx-01 and immutable-01 ~6 min
  # each, netpol-01/02 ~4-5 min each (load 20-40). A scenario that cannot
  # finish in the time left is named NOT RUN.
  for id in "${addon_ids[@]}"; do
    need=$RESERVE
    [[ $id == runtimeclass-01 ]] && need=$(( RESERVE + 1200 ))
    if ! budget_left "$need"; then not_run+=("alternatives of $id"); continue; fi
    log "scenario with alternatives on kind: $id"
    t=$SECONDS; arc=0
    ck validate "$id" --alternatives testdata/alternatives --require-both-ways 2>>"$WORK/alt.err" | tee -a "$WORK/alt.out" >&2 || arc=$?
    [[ $arc -eq 0 ]] || { tail -n 40 "$WORK/alt.err" >&2; die "validate --alternatives of $id failed (exit $arc)"; }
    log "scenario with alternatives on kind: $id: $((SECONDS - t))s"
  done
fi

# 4. Down, and nothing left.
ck cluster down >&2
left="$(leftovers)"
[[ -z "$left" ]] || die "left behind after cluster down: $(echo "$left" | tr '\n' ' ')"
log "PASS: cluster down left no container, network or volume"
if [[ ${#not_run[@]} -gt 0 ]]; then
  log "NOT RUN (CI time budget, CKSLAB_E2E_DEADLINE): ${not_run[*]}"
fi
