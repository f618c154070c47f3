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

# Tools of their own module (tools/go.mod), so the main go.mod does not gain them.
TOOLS_SOURCES := tools/go.mod tools/go.sum $(wildcard tools/testreport/*.go)
# go test -json goes through bin/testreport: the usual output, every skip with its reason, and a
# failure for a skip not in SKIPS_ALLOWED.
SKIPS_ALLOWED := .ci/skips-allowed.txt
TEST_RESULTS := .state/test/results.jsonl
# -race on every package but e2e (tmux end-to-end tests of the vigil binary; see RACE_PKGS).
RACE ?= -race
PKGS_E2E := github.com/vigil-k8s/vigil/e2e

.PHONY: soak help build localcluster promtools demo test promtool-test vet lint lint-tools bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

build: ## build bin/vigil
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/vigil .

localcluster: bin/localcluster ## build bin/localcluster (first build: 5-15 min)

bin/localcluster: $(LC_SOURCES)
	@scripts/build-localcluster.sh

promtools: ## promtool, prometheus, alertmanager into bin/ unless on PATH (first build: ~10 min)
	@scripts/build-promtools.sh

demo: build localcluster promtools ## start two seeded local clusters, Prometheus, Alertmanager and open vigil on local-1
	@scripts/demo.sh

test: lint localcluster promtools promtool-test bin/testreport ## lint, unit and integration tests (-race), e2e, localcluster's tests, promtool tests
	@mkdir -p $(dir $(TEST_RESULTS)) && rm -f $(TEST_RESULTS)
	@rc=0; \
	echo "go test $(RACE) (unit and integration packages)"; \
	set -o pipefail; \
	$(GO) test $(RACE) -json -count=1 -timeout $(TEST_TIMEOUT) $$($(GO) list ./... | grep -vxF $(PKGS_E2E)) 2>&1 | bin/testreport -record $(TEST_RESULTS) || rc=1; \
	echo "go test (e2e)"; \
	$(GO) test -json -count=1 -timeout $(TEST_TIMEOUT) $(PKGS_E2E) 2>&1 | bin/testreport -record $(TEST_RESULTS) || rc=1; \
	echo "go test $(RACE) (testdata/localcluster module: its packages with tests, not all of Kubernetes)"; \
	(cd testdata/localcluster && $(GO) test $(RACE) -json -count=1 -timeout $(TEST_TIMEOUT) \
		$$($(GO) list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...)) 2>&1 | bin/testreport -record $(TEST_RESULTS) || rc=1; \
	bin/testreport -summary -allow $(SKIPS_ALLOWED) $(TEST_RESULTS) || rc=1; \
	exit $$rc

bin/testreport: $(TOOLS_SOURCES)
	cd tools && $(GO) build -o ../bin/testreport ./testreport

vet: ## go vet, both modules
	$(GO) vet ./...
	cd testdata/localcluster && $(GO) vet ./...

promtool-test: ## the alert rules' promtool tests (promtool from PATH, else built into bin/)
	@scripts/build-promtools.sh promtool
	@PATH="$$PATH:$(CURDIR)/bin"; set -e; \
	echo "promtool: $$(command -v promtool)"; \
	promtool check rules testdata/prometheus/rules/*.yml; \
	promtool test rules testdata/prometheus/tests/*.yml

lint-tools: bin/staticcheck bin/shadow

bin/staticcheck bin/shadow &: tools/go.mod tools/go.sum
	cd tools && $(GO) build -o ../bin/ honnef.co/go/tools/cmd/staticcheck golang.org/x/tools/go/analysis/passes/shadow/cmd/shadow

# shadow runs in its default (non-strict) mode: it reports a shadowed variable that is used
# after the inner declaration's scope, where the shadowing most likely hides a bug.
lint: vet lint-tools ## gofmt, go vet, shadow and staticcheck (pinned in tools/go.mod), both modules
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet -vettool=$(CURDIR)/bin/shadow ./...
	cd testdata/localcluster && $(GO) vet -vettool=$(CURDIR)/bin/shadow ./...
	bin/staticcheck ./...
	cd testdata/localcluster && $(CURDIR)/bin/staticcheck ./...

BENCH_DOC ?= $(CURDIR)/.state/bench
bench: localcluster promtools ## every benchmark (10k and 30k pods, eight clusters, the fleet sources), one package at a time; writes docs/performance.md's tables and the README's "Measured" (20–40 min: 19 min on 2026-12-04, 26 min on 2026-12-05)
	rm -rf $(BENCH_DOC) && mkdir -p $(BENCH_DOC)
	printf 'Run of %s on %s (%s, GOMAXPROCS %s, load average at the start %s).\n' "$$(date -u '+%F %H:%M UTC')" "$$(git rev-parse --short HEAD)" "$$(uname -m)" "$$(nproc)" "$$(cut -d' ' -f1-3 /proc/loadavg)" > $(BENCH_DOC)/run.md
	VIGIL_BENCH_DOC=$(BENCH_DOC) $(GO) test -p 1 -run '^$$' -bench . -skip Soak -benchtime 1x -timeout 90m ./...
	VIGIL_BENCH_DOC=$(BENCH_DOC) VIGIL_BENCH_PODS=30000 $(GO) test -run '^$$' -bench 'Session|Check' -benchtime 1x -timeout 90m ./cluster/bench
	$(GO) run ./internal/benchdoc/apply $(BENCH_DOC) docs/performance.md README.md

soak: localcluster ## 30 min of churn (200 pod updates/s on 10k pods, a context switch a minute): RSS and goroutines stay flat (VIGIL_SOAK_DURATION, VIGIL_SOAK_SWITCH)
	$(GO) test -run '^$$' -bench Soak -benchtime 1x -timeout 90m ./cluster/bench

clean: ## remove binaries and demo state
	rm -rf bin .state
