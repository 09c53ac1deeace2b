#!/usr/bin/env bash
# Measures the local backend's cold Up (fresh PKI and etcd, cached binaries)
# to /readyz + the default ServiceAccount. Prints each run and the median.
# Needs the binaries in the cache first: hack/build-k8s-binaries.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-5}"
go test ./engine/cluster/local -run '^$' -bench BenchmarkColdUp -benchtime "${RUNS}x" -count 1 -v \
  | grep -E 'cold up durations|median-s|ok|FAIL|SKIP'
