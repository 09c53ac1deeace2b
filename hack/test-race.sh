#!/usr/bin/env bash
# go test -race for the packages that run goroutines: the local backend's
# supervisor, the runner, the TUI, packs, checks (polling) and ops (reset).
# make test runs it; `make test-race` alone too.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS=(./engine/cluster/local/ ./engine/runner/... ./ui/... ./engine/pack/... ./engine/checks/... ./engine/ops/...)
go test -race -count=1 -timeout 30m "${PKGS[@]}"
