#!/usr/bin/env bash
# The whole test suite, as CI runs it (make test). Prepares what the tests
# need: the local backend's Kubernetes binaries (cached outside the repo).
# Ends with a per-step time report so growth is visible in every run.
set -euo pipefail
cd "$(dirname "$0")/.."

STEP_NAMES=()
STEP_SECS=()
STEP_T0=0
CUR=""
step_end() {
  if [[ -n "$CUR" ]]; then
    STEP_NAMES+=("$CUR")
    STEP_SECS+=("$(( $(date +%s) - STEP_T0 ))")
  fi
  CUR=""
}
step() {
  step_end
  CUR="$*"
  STEP_T0="$(date +%s)"
  printf '\n== %s\n' "$*"
}
report() {
  local rc="${1:-$?}"
  step_end
  printf '\n== time per step (exit %d)\n' "$rc"
  local i total=0
  for i in "${!STEP_NAMES[@]}"; do
    printf '%6ss  %s\n' "${STEP_SECS[$i]}" "${STEP_NAMES[$i]}"
    total=$(( total + STEP_SECS[i] ))
  done
  printf '%6ss  total\n' "$total"
}
trap 'report $?' EXIT

step "Kubernetes binaries for the local backend"
BIN_DIR="$(hack/build-k8s-binaries.sh | tail -n1)"
export CKSLAB_BIN_DIR="$BIN_DIR"
# With the binaries guaranteed, a control plane that fails to start fails
# the tests instead of skipping them.
export CKSLAB_REQUIRE_CLUSTER=1
command -v kubectl >/dev/null || { echo "kubectl not on PATH; using the cached build"; export PATH="$BIN_DIR:$PATH"; }

step "offline scenario inputs (Istio's CRDs for mtls-01, from the Go module proxy)"
hack/istio-crds.sh

step "gofmt + go vet + golangci-lint + scenario lint"
hack/lint.sh

step "go test (unit + integration against real local control planes)"
# TestAlternatives replays every testdata/alternatives file; the validate
# step below runs the same trials through the CLI (plus the seeded-score and
# both-ways coverage report), so CI runs them once, there.
# The packages with goroutines (hack/test-race.sh lists them) run once, in the
# next step, instrumented; running them here too cost ~7 min of CI for
# nothing the race run does not also prove.
mapfile -t RACE_PKGS < <(hack/test-race.sh --list)
mapfile -t PLAIN_PKGS < <(go list ./... | grep -vxF -f <(go list "${RACE_PKGS[@]}"))
go test -count=1 -timeout 40m -skip '^TestAlternatives$' "${PLAIN_PKGS[@]}"

step "go test -race (packages with goroutines: unit + integration, instrumented)"
hack/test-race.sh

step "ckslab validate --all --backend local --alternatives (every local-capable scenario both ways, every alternative fix, every objective seen failing and passing)"
go build -o bin/ckslab ./cmd/ckslab
STATE="$(mktemp -d)"
cleanup_validate() { bin/ckslab --state-dir "$STATE" cluster down --backend local --cluster ckslab-ci >/dev/null 2>&1 || true; rm -rf "$STATE"; }
trap 'rc=$?; cleanup_validate; report $rc' EXIT
bin/ckslab --state-dir "$STATE" validate --all --backend local --cluster ckslab-ci --alternatives testdata/alternatives -o table

step "the README's commands, literally, in a fresh HOME"
hack/readme-test.sh
