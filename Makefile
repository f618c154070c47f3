# vigil — build, demo and test entry points. `make help` lists them.

SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
K8S_VERSION := v1.37.2
LDFLAGS := -X github.com/vigil-k8s/vigil/internal/version.Version=$(VERSION)
LC_LDFLAGS := -X k8s.io/component-base/version.gitVersion=$(K8S_VERSION) \
	-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37
LC_SOURCES := $(shell find testdata/localcluster -name '*.go' -o -name go.mod -o -name go.sum)
# Integration tests start real control planes; give them room on a 2-core machine.
TEST_TIMEOUT ?= 40m

.PHONY: help build localcluster demo test unit integration promtool-test vet lint bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

build: ## build bin/vigil
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/vigil .

localcluster: bin/localcluster ## build bin/localcluster (first build: 5-15 min)

bin/localcluster: $(LC_SOURCES)
	@scripts/build-localcluster.sh

demo: build localcluster ## start two seeded local clusters (+ Prometheus) and open vigil on local-1
	@scripts/demo.sh

test: vet localcluster promtool-test ## vet, unit and integration tests, promtool rule tests
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...
	cd testdata/localcluster && $(GO) vet ./...

vet: ## go vet
	$(GO) vet ./...

promtool-test: ## the alert rules' promtool tests
	@command -v promtool >/dev/null || { echo "promtool missing: apt-get install -y prometheus" >&2; exit 1; }
	promtool check rules testdata/prometheus/rules/*.yml
	promtool test rules testdata/prometheus/tests/*.yml

lint: vet ## gofmt check and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

bench: localcluster ## performance benchmarks against a 10k-pod local cluster
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./...

clean: ## remove binaries and demo state
	rm -rf bin .state
