# Perimeter — make targets. `make help` lists them.
GO        ?= go
BIN       := bin/perimeter
PKGS      := ./...
LLM_BASE_URL ?= https://api.openai.com
LLM_TYPE     ?= openai
PORT         ?= 4000
BENCHTIME    ?= 1s
CHDB_PKG     ?= @chdb/lib-linux-x64-gnu@26.7.3-stable.1
CHDB_DIR     ?= third_party/chdb
STATICCHECK  ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: help build run mock test test-short vet bench-go bench bench-quick fuzz clean chdb setup

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/perimeter
	$(GO) build -trimpath -o $(BIN) ./cmd/perimeter

run: build ## build and run the proxy (LLM_BASE_URL, LLM_TYPE, LLM_API_KEY, PORT)
	@$(MAKE) --no-print-directory chdb || echo "warning: embedded ClickHouse not installed; the proxy runs with analytics off (see make chdb)"
	LLM_BASE_URL=$(LLM_BASE_URL) LLM_TYPE=$(LLM_TYPE) ./$(BIN) run --port $(PORT)

.PHONY: demo
demo: build ## no API key? mock provider + proxy + dashboard + a synthetic fleet of agents (DEMOFLAGS; Ctrl-C stops)
	@$(MAKE) --no-print-directory chdb || echo "warning: embedded ClickHouse not installed; the demo runs with analytics off (see make chdb)"
	$(GO) build -trimpath -o bin/perimeter-demo ./cmd/perimeter-demo
	./bin/perimeter-demo --perimeter $(BIN) $(DEMOFLAGS)

mock: ## run the mock OpenAI/Anthropic server on 127.0.0.1:8080
	$(GO) run ./bench/cmd/mockllm --addr 127.0.0.1:8080

test: vet ## the whole test suite (race detector on), then the allocation tests and raw socket I/O (which need it off)
	$(GO) test -race -count=1 $(PKGS)
	$(GO) test -count=1 -run 'Alloc' ./edge/... ./session/ ./sink/ ./bench/mockllm/ ./detect/
	$(GO) test -count=1 ./internal/rawio/

test-short: ## quick tests without the race detector
	$(GO) test -count=1 $(PKGS)

vet: ## gofmt check, go vet and staticcheck (fetched through the Go module proxy, pinned to STATICCHECK)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	GOFLAGS= $(GO) run $(STATICCHECK) $(PKGS)

bench-go: ## every Go micro-benchmark of the tree with allocations (BENCHTIME=1s; the packages are found from the *_test.go files)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $$(git ls-files '*_test.go' | xargs grep -l '^func Benchmark' | xargs -n1 dirname | sort -u | sed 's|^|./|')

bench: ## side-by-side benchmark: direct vs Perimeter vs nginx; report, JSON and charts in bench/results/ (≤ 10 min; BENCHFLAGS)
	$(GO) build -o bin/perimeter-bench ./bench/cmd/perimeter-bench
	./bin/perimeter-bench $(BENCHFLAGS)

bench-quick: ## the same benchmark, shorter: fewer scenarios, one round (≤ 2 min)
	$(GO) build -o bin/perimeter-bench ./bench/cmd/perimeter-bench
	./bin/perimeter-bench --quick $(BENCHFLAGS)

fuzz: ## run every fuzz target of the tree briefly (FUZZTIME=20s; the list is read from the *_test.go files)
	@for f in $$(git ls-files '*_test.go' | xargs grep -l '^func Fuzz'); do \
		pkg=./$$(dirname $$f); for t in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
		echo "== $$pkg $$t"; \
		$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $${FUZZTIME:-20s} -fuzzminimizetime 100x $$pkg/ || exit 1; done; done

setup: chdb ## install what run and test need: Go modules and libchdb.so
	$(GO) mod download

chdb: ## install libchdb.so, the embedded ClickHouse (npm, ~178 MB), into third_party/chdb
	@sink/chdb/install-libchdb.sh $(CHDB_DIR) $(CHDB_PKG)

clean: ## remove build outputs
	rm -rf bin
