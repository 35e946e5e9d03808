# The README's two commands are `go run . --demo` and `make test`.
GO          ?= go
PROMTOOL    ?= promtool
FUZZTIME    ?= 20s
STATICCHECK_VERSION ?= v0.8.2
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
VERSION_PKG := github.com/prometheus/common/version
LDFLAGS     := -X $(VERSION_PKG).Version=$(VERSION) \
               -X $(VERSION_PKG).Revision=$(shell git rev-parse HEAD 2>/dev/null) \
               -X $(VERSION_PKG).Branch=$(shell git rev-parse --abbrev-ref HEAD 2>/dev/null) \
               -X $(VERSION_PKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)

.PHONY: all build test lint fuzz bench tools-check

all: lint test build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o imstats_exporter .

# Every test, including the end-to-end ones that start the built binary,
# Debian's promtool, Prometheus and Alertmanager. A missing tool fails.
test: tools-check
	$(GO) test -race -count=1 ./...
	alerts/check.sh
	dashboards/check.sh

tools-check:
	@command -v $(PROMTOOL) >/dev/null || { echo "promtool not found: apt-get install prometheus" >&2; exit 1; }

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:" $$out >&2; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# Runs every fuzz target for FUZZTIME each (make test runs their corpora).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzzing $$pkg $$f for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

# The figures of BENCHMARKS.md, (a) to (e), in about 15 minutes. Each line
# is also the command of its section there.
bench:
	$(GO) test -run '^$$' -bench '^BenchmarkScrape$$' -benchmem -count 3 ./internal/server/
	$(GO) test -run '^$$' -bench '^BenchmarkConcurrentScrapes$$' ./internal/server/
	$(GO) test -run '^$$' -bench '^BenchmarkMemoryTrackedIDs$$' -timeout 20m ./internal/server/
	$(GO) test -run '^$$' -bench '^BenchmarkFirstPassTencentPush$$' ./internal/sources/
	$(GO) test -run '^$$' -bench '^BenchmarkRegisterHTTP50$$' ./internal/server/
	$(GO) test -run '^$$' -bench '^BenchmarkAddDurable50$$' ./internal/tracking/
