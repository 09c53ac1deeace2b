#!/usr/bin/env bash
# go test -race for the packages that run goroutines: the local backend's
# supervisor (its integration tests re-execute the race-built test binary
# as the supervisor, so the real watch loop runs instrumented), the runner,
# the TUI, packs, checks (polling) and ops (reset). make test runs it;
# `make test-race` alone too. TestAlternatives and TestValidate replay every
# scenario; they add no goroutines the other runner tests do not exercise,
# and make test has just run them uninstrumented, so they are skipped here.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS=(./engine/cluster/local/ ./engine/runner/... ./ui/... ./engine/pack/... ./engine/checks/... ./engine/ops/...)
go test -race -count=1 -timeout 30m -skip '^(TestAlternatives|TestValidate)$' "${PKGS[@]}"
