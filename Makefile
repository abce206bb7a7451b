# The two commands of the README: `make conformance` judges the bundled
# reference; `make test` runs every test.
GO ?= go
SPECTRAL ?= npx --yes @stoplight/spectral-cli@6.15.0

.PHONY: conformance test lint clean

conformance:
	$(GO) run ./runner --report-dir reports

test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: the files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(SPECTRAL) lint openapi.yaml --ruleset .spectral.yaml --fail-severity warn

# Removes reports and any reference container a killed run left behind.
clean:
	rm -rf reports bin
	$(GO) run ./refcontainer/cmd/clean
