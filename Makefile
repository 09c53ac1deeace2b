# ckslab developer entry points. Each target delegates to a script in hack/
# so CI and humans run exactly the same thing.
SHELL := /usr/bin/env bash
GO ?= go
BIN := bin/ckslab

.PHONY: all build install test test-unit test-race readme-test lint bench e2e-kind fuzz binaries schema tui-smoke clean

all: build

build: ## build bin/ckslab
	$(GO) build -trimpath -o $(BIN) ./cmd/ckslab

install: ## go install ckslab from this clone into $(go env GOPATH)/bin (or GOBIN)
	$(GO) install ./cmd/ckslab
	@bin="$$($(GO) env GOBIN)"; echo "installed $${bin:-$$($(GO) env GOPATH)/bin}/ckslab"

binaries: ## build/cache etcd, kube-apiserver, kube-controller-manager for the local backend
	hack/build-k8s-binaries.sh

test: ## everything CI runs: binaries, vet, unit + integration tests, lint, validate --all on the local backend
	hack/test.sh

test-race: ## go test -race for the packages with goroutines (make test runs it too)
	hack/test-race.sh

readme-test: ## run the README's set-up and first-lab commands literally in a fresh HOME
	hack/readme-test.sh

test-unit: ## go tests only (integration tests skip without cached binaries)
	$(GO) test ./...

lint: ## gofmt, go vet, golangci-lint (.golangci.yml, zero findings), scenario lint
	hack/lint.sh

bench: ## benchmarks: cold local cluster, check latency vs kubectl script, reset+setup
	hack/bench.sh

e2e-kind: ## kind end-to-end (needs Docker; prints SKIP otherwise)
	hack/e2e-kind.sh

fuzz: ## fuzz the scenario loader (FUZZTIME=2m)
	$(GO) test ./engine/load -run '^$$' -fuzz FuzzParse -fuzztime $${FUZZTIME:-2m}

schema: ## regenerate scenarios/scenario.schema.json from the Go types
	$(GO) test ./engine/load -run TestSchemaUpToDate -update

tui-smoke: build ## drive the TUI in tmux against a local cluster
	hack/tui-smoke.sh

clean:
	rm -rf bin
