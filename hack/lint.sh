#!/usr/bin/env bash
# Static checks (make lint; make test runs it): gofmt, go vet, golangci-lint
# with .golangci.yml (zero findings: errcheck, staticcheck, unused, gocritic,
# revive, thelper, tparallel, gochecknoinits, importas, gci import groups, ...),
# then the scenario linter over the catalog.
#   hack/lint.sh [packages...]   # golangci-lint's packages, default ./...
# golangci-lint is the version hack/tool.sh pins, built once from the Go
# module proxy into ~/.cache/ckslab/tools (a few minutes of CPU on a fresh
# machine); its analysis cache (~/.cache/golangci-lint, GOLANGCI_LINT_CACHE)
# makes later runs take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted="$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './vendor/*'))"
if [[ -n "$unformatted" ]]; then
  echo "gofmt needed:"; echo "$unformatted"; exit 1
fi
go vet ./...

t0=$SECONDS
GOLANGCI_LINT="$(hack/tool.sh golangci-lint)"
t1=$SECONDS
# No time limit of its own: an uncached run on a loaded machine takes minutes.
"$GOLANGCI_LINT" run --timeout 0 "${@:-./...}"
echo "golangci-lint: no findings (tool $((t1 - t0))s, run $((SECONDS - t1))s)"

go run ./cmd/ckslab lint scenarios/
