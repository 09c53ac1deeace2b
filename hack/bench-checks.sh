#!/usr/bin/env bash
# bench-checks.sh: time psp-01's checks the way Killercoda-style labs verify
# them: a bash script of kubectl calls, run sequentially. The Go benchmark
# BenchmarkCheckScenario (engine/runner) runs this in the same session and
# prints the ratio against ckslab's in-process checks.
#
# usage: KUBECONFIG=<lab kubeconfig> hack/bench-checks.sh [runs]
# output: one line per run (ms), then "runs=N p50_ms=X p95_ms=Y"
set -uo pipefail
runs=${1:-20}
ns=team-a
: "${KUBECONFIG:?set KUBECONFIG to the lab kubeconfig}"
command -v kubectl >/dev/null || { echo "kubectl not found" >&2; exit 2; }
command -v jq >/dev/null || { echo "jq not found" >&2; exit 2; }

verify() {
  local out pass=0
  # 1. a privileged pod is rejected under restricted
  out=$(kubectl -n "$ns" run ckslab-probe --image=busybox:1.36 --restart=Never --dry-run=server \
    --overrides='{"spec":{"containers":[{"name":"ckslab-probe","image":"busybox:1.36","securityContext":{"privileged":true}}]}}' 2>&1) \
    || grep -q 'violates PodSecurity "restricted:' <<<"$out" && pass=$((pass+1))
  # 2. a pod breaking only restricted rules is rejected
  out=$(kubectl -n "$ns" run ckslab-probe --image=busybox:1.36 --restart=Never --dry-run=server 2>&1) \
    || grep -q 'restricted' <<<"$out" && pass=$((pass+1))
  # 3. Deployment web's pod template is admitted
  kubectl -n "$ns" get deploy web -o json \
    | jq '{apiVersion:"v1",kind:"Pod",metadata:{name:"ckslab-probe-web",namespace:"team-a"},spec:.spec.template.spec}' \
    | kubectl create --dry-run=server -f - >/dev/null 2>&1 && pass=$((pass+1))
  # 4. the image is kept
  kubectl -n "$ns" get deploy web -o jsonpath='{.spec.template.spec.containers[*].image}' 2>/dev/null \
    | grep -qw 'nginxinc/nginx-unprivileged:1.27' && pass=$((pass+1))
  echo "$pass"
}

times=()
for ((i = 0; i < runs; i++)); do
  t0=$(date +%s%N)
  passed=$(verify)
  t1=$(date +%s%N)
  ms=$(( (t1 - t0) / 1000000 ))
  times+=("$ms")
  echo "run $((i+1)): ${ms} ms (${passed}/4 passed)"
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
p50=${sorted[$(( (runs - 1) * 50 / 100 ))]}
p95=${sorted[$(( (runs * 95 + 99) / 100 - 1 ))]}
echo "runs=$runs p50_ms=$p50 p95_ms=$p95"
