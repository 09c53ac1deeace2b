#!/usr/bin/env bash
# go test -race for the packages that run goroutines: the local backend's
# supervisor (its integration tests re-execute the race-built test binary
# as the supervisor, so the real watch loop runs instrumented), the runner,
# the TUI, packs, checks (polling) and ops (reset). make test runs it;
# `make test-race` alone too; make test runs these packages only here (not
# also uninstrumented). TestAlternatives replays every alternative file; the
# validate step of make test runs the same trials through the CLI, so it is
# skipped here. `hack/test-race.sh --list` prints the package patterns.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS=(./engine/cluster/local/ ./engine/runner/... ./ui/... ./engine/pack/... ./engine/checks/... ./engine/ops/...)
if [[ "${1:-}" == --list ]]; then printf '%s\n' "${PKGS[@]}"; exit 0; fi
go test -race -count=1 -timeout 40m -skip '^TestAlternatives$' "${PKGS[@]}"
