#!/usr/bin/env bash
# make bench: the speed targets, measured against real local control planes.
#   1. cold local cluster up to /readyz + controllers running, median of RUNS
#      pairs: empty etcd vs restored bootstrap template (ratio)
#   2. whole-scenario check latency (p50/p95 over 20 runs) vs the same checks
#      as a bash script of kubectl calls, in the same run (ratio)
#   3. reset + setup of an API-level scenario on a warm cluster (median)
#   4. whole-process CLI figures (version, list, describe, check) with the
#      built-in catalog and with 200 generated scenarios more (hack/bench-cli.sh)
# The machine is shared: compare ratios within one run.
set -euo pipefail
cd "$(dirname "$0")/.."
export CKSLAB_BIN_DIR="${CKSLAB_BIN_DIR:-$(hack/build-k8s-binaries.sh | tail -n1)}"
command -v jq >/dev/null || { echo "bench needs jq (apt-get install jq) for the kubectl comparison script" >&2; exit 2; }

echo "== cold local cluster up (RUNS=${RUNS:-5})"
RUNS="${RUNS:-5}" hack/bench-local.sh

echo
echo "== check latency: ckslab vs a kubectl script (20 runs)"
go test ./engine/runner -run '^$' -bench BenchmarkCheckScenario -benchtime 20x -count 1 -v \
  | grep -E 'Benchmark|ckslab check|kubectl script|speed-up|ok|FAIL'

echo
echo "== reset + setup on a warm cluster (10 runs)"
go test ./engine/runner -run '^$' -bench BenchmarkResetSetup -benchtime 10x -count 1 -v \
  | grep -E 'Benchmark|setup\+reset|ok|FAIL'

echo
echo "== whole-process CLI: 30 vs 230 scenarios, and vs a kubectl script (RUNS=${RUNS:-5})"
RUNS="${RUNS:-5}" hack/bench-cli.sh
