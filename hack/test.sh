#!/usr/bin/env bash
# The whole test suite, as CI runs it (make test). Prepares what the tests
# need: the local backend's Kubernetes binaries (cached outside the repo).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "Kubernetes binaries for the local backend"
BIN_DIR="$(hack/build-k8s-binaries.sh | tail -n1)"
export CKSLAB_BIN_DIR="$BIN_DIR"
# With the binaries guaranteed, a control plane that fails to start fails
# the tests instead of skipping them.
export CKSLAB_REQUIRE_CLUSTER=1
command -v kubectl >/dev/null || { echo "kubectl not on PATH; using the cached build"; export PATH="$BIN_DIR:$PATH"; }

step "gofmt + go vet + scenario lint"
hack/lint.sh

step "go test (unit + integration against real local control planes)"
go test -count=1 -timeout 40m ./...

step "ckslab validate --all --backend local (every local-capable scenario, both ways)"
go build -o bin/ckslab ./cmd/ckslab
STATE="$(mktemp -d)"
trap 'bin/ckslab --state-dir "$STATE" cluster down --backend local --cluster ckslab-ci >/dev/null 2>&1 || true; rm -rf "$STATE"' EXIT
bin/ckslab --state-dir "$STATE" validate --all --backend local --cluster ckslab-ci -o table
