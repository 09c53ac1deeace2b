#!/usr/bin/env bash
# End-to-end test of the kind backend: builds ckslab, creates a kind cluster
# with Calico, validates kind-only scenarios and deletes the cluster.
# Without a reachable Docker daemon it prints one SKIP line and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! reason="$(docker info --format '{{.ServerVersion}}' 2>&1)"; then
  reason="$(printf '%s' "$reason" | tr '\n' ' ' | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')"
  echo "SKIP: no Docker daemon (docker info failed: ${reason})"
  exit 0
fi

bin="$(mktemp -d)/ckslab"
go build -o "$bin" ./cmd/ckslab
CKSLAB_BIN="$bin" go test -tags e2e -run '^TestE2E$' -count=1 -timeout 45m -v ./engine/cluster/kind/
