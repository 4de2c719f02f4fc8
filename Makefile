# Quick start: `make run` opens the app, `make test` runs every check CI runs.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: run test deps-build deps-run deps-test build release fmt clippy screenshots bench fuzz

run: deps-run
	$(CARGO) run --release --bin rmscope -- $(ARGS)

# Mesa (kittest snapshots, PNG export test) wants a private runtime directory.
export XDG_RUNTIME_DIR ?= /tmp/rmscope-runtime-$(shell id -u)

test: deps-test
	@mkdir -p $(XDG_RUNTIME_DIR) && chmod 700 $(XDG_RUNTIME_DIR)
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) check --lib --no-default-features
	$(CARGO) test --all-targets
	$(CARGO) test --doc

deps-build:
	@scripts/install-deps.sh build
deps-run:
	@scripts/install-deps.sh run
deps-test:
	@scripts/install-deps.sh test

build: deps-build
	$(CARGO) build

release: deps-build
	$(CARGO) build --release

fmt:
	$(CARGO) fmt --all

clippy: deps-build
	$(CARGO) clippy --all-targets -- -D warnings

# Benchmarks (figures in README): engine/simulator and codec with criterion, capture analysis
# against tshark with a script.
bench: deps-test
	$(CARGO) bench --bench engine --bench codec --bench ui
	benches/analyze.sh
	benches/http_loopback.sh
	benches/sweep.sh

# PNGs of each view, from the real app under Xvfb (shown in the README).
screenshots: deps-test
	$(CARGO) build --release --bin rmscope
	scripts/screenshots.sh
