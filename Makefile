# The README's two commands are `go run . --demo` and `make test`.
GO          ?= go
PROMTOOL    ?= promtool
FUZZTIME    ?= 20s
FUZZMINIMIZE ?= 10x
STATICCHECK_VERSION ?= v0.8.2
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
VERSION_PKG := github.com/prometheus/common/version
LDFLAGS     := -X $(VERSION_PKG).Version=$(VERSION) \
               -X $(VERSION_PKG).Revision=$(shell git rev-parse HEAD 2>/dev/null) \
               -X $(VERSION_PKG).Branch=$(shell git rev-parse --abbrev-ref HEAD 2>/dev/null) \
               -X $(VERSION_PKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)

# Prometheus 3, built from source by .ci/prometheus3.sh into a cache that
# survives between runs (make prometheus3).
PROMETHEUS3_VERSION ?= v0.316.0
IMSTATS_CACHE       ?= /var/cache/imstats
PROMETHEUS3_DIR     ?= $(IMSTATS_CACHE)/prometheus-$(PROMETHEUS3_VERSION)
PROMTOOL3           ?= $(PROMETHEUS3_DIR)/promtool
RULE_RUNS           ?= 20

.PHONY: all build test lint fuzz bench bench-daemon tools-check mixin rules-prom3 prometheus3 e2e-prom3 rules-repeat

all: lint test build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o imstats_exporter .

# Every test, including the end-to-end ones that start the built binary,
# Debian's promtool, Prometheus and Alertmanager. A missing tool fails.
# The mixin-vs-committed check (mixin/cmd/generate) and the end-to-end test
# on Debian's Prometheus 2.42 (e2e_prometheus_test.go) are Go tests.
test: tools-check
	$(GO) test -race -count=1 ./...
	alerts/check.sh
	dashboards/check.sh
	$(MAKE) --no-print-directory rules-prom3

# Renders mixin/ into alerts/ and dashboards/.
mixin:
	$(GO) run ./mixin/cmd/generate

# The rule tests on promtool 3. Outside CI a missing build is skipped with a
# note; with CI=true it fails.
rules-prom3:
	@if [ -x "$(PROMTOOL3)" ]; then \
	  PROMTOOL="$(PROMTOOL3)" alerts/check.sh; \
	elif [ "$$CI" = true ]; then \
	  echo "promtool 3 not found at $(PROMTOOL3): run .ci/prometheus3.sh" >&2; exit 1; \
	else \
	  echo "rules-prom3: skipped, no $(PROMTOOL3) (make prometheus3 builds it)" >&2; \
	fi

# Builds promtool and prometheus $(PROMETHEUS3_VERSION) with go (minutes;
# skipped when already built).
prometheus3:
	IMSTATS_CACHE="$(IMSTATS_CACHE)" PROMETHEUS3_VERSION="$(PROMETHEUS3_VERSION)" .ci/prometheus3.sh

# The end-to-end test on the Prometheus 3 server (and its promtool).
e2e-prom3: prometheus3
	PATH="$(PROMETHEUS3_DIR):$$PATH" $(GO) test -count=1 -run '^TestPrometheusDashboardsAndAlerts$$' .

# Every rule test RULE_RUNS times in a row on each promtool; stops at the
# first failure.
rules-repeat:
	@for tool in $(PROMTOOL) $(PROMTOOL3); do \
	  $$tool --version 2>&1 | head -1; \
	  i=1; while [ $$i -le $(RULE_RUNS) ]; do \
	    $$tool test rules alerts/tests/*.yml >/dev/null 2>&1 || { echo "$$tool: run $$i of $(RULE_RUNS) failed" >&2; $$tool test rules alerts/tests/*.yml; exit 1; }; \
	    i=$$((i+1)); \
	  done; \
	  echo "$$tool: $(RULE_RUNS) of $(RULE_RUNS) runs passed"; \
	done

tools-check:
	@command -v $(PROMTOOL) >/dev/null || { echo "promtool not found: apt-get install prometheus" >&2; exit 1; }

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:" $$out >&2; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# Runs every fuzz target for FUZZTIME each (make test runs their corpora).
# Minimizing a new input is bounded by FUZZMINIMIZE runs (the default, 60 s
# per input, left FuzzParse shrinking inputs instead of fuzzing).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzzing $$pkg $$f for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) $$pkg; \
	  done; \
	done

# The figures of BENCHMARKS.md, (a) to (f), in about 28 minutes. Each line
# is also the command of its section there.
bench:
	$(GO) test -run '^$$' -bench '^(BenchmarkScrape|BenchmarkScrapeVsClientGolang|BenchmarkLiveHeap)$$' -benchmem ./internal/server/
	$(GO) test -run '^$$' -bench '^BenchmarkWriteVsCopy$$' -count 3 ./internal/expo/
	$(GO) test -run '^$$' -bench '^BenchmarkDeflateOneChange$$' -benchmem -count 3 ./internal/expo/
	$(GO) test -run '^$$' -bench '^BenchmarkConcurrentScrapes$$' ./internal/server/
	$(GO) test -run '^$$' -bench '^BenchmarkMemoryTrackedIDs$$' -timeout 30m ./internal/server/
	$(GO) test -run '^$$' -bench '^BenchmarkFirstPassTencentPush$$' ./internal/sources/
	$(GO) test -run '^$$' -bench '^BenchmarkRegisterHTTP50$$' ./internal/server/
	$(GO) test -run '^$$' -bench '^BenchmarkAddDurable50$$' ./internal/tracking/
	REGISTER_BENCH_DURATION=10m $(GO) test -run '^$$' -bench '^BenchmarkRegisterHTTPGrown$$' -benchtime=1x -timeout 20m ./internal/server/
	TRACKING_BENCH_DURATION=60s $(GO) test -run '^$$' -bench '^BenchmarkAddDurableGrown$$' -benchtime=1x ./internal/tracking/
	$(GO) test -run '^$$' -bench '^BenchmarkOpenGrown$$' ./internal/tracking/
	$(GO) test -run '^$$' -bench '^BenchmarkReceive$$' -benchmem -count 3 ./internal/callbacks/
	$(GO) test -run '^$$' -bench '^BenchmarkReceiverHTTP$$' -benchtime 20s -count 3 ./internal/callbacks/

# BENCHMARKS.md (c)'s daemon runs: 0.92M and 1.8M series, two scrapers, the
# daemon's default memory policy, BENCH_RUN long each (10m by default).
BENCH_RUN ?= 10m
bench-daemon:
	IMSTATS_BENCH_MESSAGES=10000 IMSTATS_BENCH_RUN=$(BENCH_RUN) $(GO) test -run '^$$' -bench '^BenchmarkMemoryTrackedIDs$$/policy=default' -timeout 60m ./internal/server/
	IMSTATS_BENCH_MESSAGES=21000 IMSTATS_BENCH_RUN=$(BENCH_RUN) $(GO) test -run '^$$' -bench '^BenchmarkMemoryTrackedIDs$$/policy=default' -timeout 60m ./internal/server/
