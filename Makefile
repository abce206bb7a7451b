# The two commands of the README: `make conformance` judges the bundled
# reference (go run ./runner, with reports in reports/); `make test` runs
# every test.
GO ?= go
SPECTRAL ?= npx --yes @stoplight/spectral-cli@6.15.0
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
ACTIONLINT ?= $(GO) run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12

.PHONY: conformance test lint clean image

conformance:
	$(GO) run ./runner --report-dir reports

test:
	$(GO) vet ./...
	$(GO) vet -tags mutants ./runner
	$(GO) test -count=1 ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: the files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags mutants ./runner
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags mutants ./runner
	$(SPECTRAL) lint openapi.yaml --ruleset .spectral.yaml --fail-severity warn
	$(ACTIONLINT) docs/ci/github-actions.yml

# Builds the reference image (FROM scratch around reference/cmd/reference;
# nothing is pulled) and prints its tag and size. Needs a Docker engine.
image:
	$(GO) run ./tools/image

# Removes reports and any reference container a killed run left behind.
clean:
	rm -rf reports bin
	$(GO) run ./tools/clean

# Proving the suite (internal/mutant): `make mutation` runs the hand-written
# specs and, alone, runner explore against the faithful reference and every
# mutant, and prints the table; it fails unless every mutant is killed by a
# spec of a requirement it breaks (a blind one, by the specs or the
# exploration) and the exploration alone kills at least 90% of the mutants
# in its scope. CI runs `make mutation-ci`: the specs against every listed
# mutant, and the exploration alone against the faithful reference and the
# blind mutants (the whole of `make mutation` takes about half an hour on
# two cores). `make soak` (not part of every CI run) repeats the
# race and rate-limit specs 50 times.
SOAK_MUTANTS ?= no-version-check,leaky-conflict,torn-write,spurious-409,no-rate-limit,rate-limit-no-retry-after
.PHONY: mutation mutation-ci soak trust

mutation:
	$(GO) run ./tools/mutation -workers 3 -explore 40s -deadline 60m

mutation-ci:
	$(GO) run ./tools/mutation -workers 3 -explore 20s -explore-blind -deadline 20m

# `make trust` (CI): a new user's target file (three users with tokens,
# opt_in: [burst], nothing else) against a correct server with a 5 ms race
# window and the vendor's 100 requests/s per app and operation: the suite
# must pass 20 runs out of 20.
trust:
	$(GO) run ./tools/mutation -soak 20 -mutants none -fixture fixtures/variants/minimal.yaml -race-window 5ms -deadline 15m

soak:
	$(GO) run ./tools/mutation -soak 50 -label-filter 'race || ratelimit' -mutants $(SOAK_MUTANTS) -deadline 90m

# The reference's numbers and robustness (reference/). `make bench` measures
# ratios taken in the same run (reference vs a bare handler over loopback,
# contract validation vs none, the suite's wall time) with the Go benchmarks,
# prints them with their targets and writes BENCHMARKS.md. `make fuzz` runs
# each fuzz target for FUZZTIME, one after the other (Go fuzzes one target
# per invocation; minimising a new input is capped at 5 s so that it cannot
# eat a short FUZZTIME); the seed corpus is in reference/testdata/fuzz.
FUZZTIME ?= 10s
FUZZ_TARGETS ?= FuzzFormBody FuzzJSONBody FuzzUsername FuzzHeaders FuzzRequest
.PHONY: bench fuzz

bench:
	$(GO) run ./tools/bench -out BENCHMARKS.md

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz: $$t for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./reference/; \
	done
