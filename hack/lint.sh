#!/usr/bin/env bash
# Static checks: formatting, vet, and the scenario linter over the catalog.
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted="$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './vendor/*'))"
if [[ -n "$unformatted" ]]; then
  echo "gofmt needed:"; echo "$unformatted"; exit 1
fi
go vet ./...
go run ./cmd/ckslab lint scenarios/
