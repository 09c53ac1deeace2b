#!/usr/bin/env bash
# Measures the local backend's cold Up of a new cluster (fresh PKI, new etcd
# member, cached binaries) to /readyz + controllers running, in alternating
# pairs: empty etcd vs the bootstrap template. Prints each run, both medians
# and their ratio.
# Needs the binaries in the cache first: hack/build-k8s-binaries.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-5}"
go test ./engine/cluster/local -run '^$' -bench BenchmarkColdUp -benchtime "${RUNS}x" -count 1 -v \
  | grep -E 'cold up durations|median-s|template/cold|ok|FAIL|SKIP'
