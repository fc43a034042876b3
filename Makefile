# layercake — developer and CI entry points. README names two: `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

TARGET_TRIPLE := x86_64-unknown-linux-gnu
# A target dir of its own: the long LTO build does not hold the lock of everyday debug builds.
STATIC_DIR    := target/static
STATIC_BIN    := $(STATIC_DIR)/$(TARGET_TRIPLE)/release/layercake
FRONTEND_TAG  ?= layercake:dev

.PHONY: help build static frontend-image rig demo test unit e2e lint fmt bench clean-rig audit fuzz compat

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s $$'\t'

build: ## debug build of the whole workspace
	cargo build --workspace --locked

static: ## the static frontend binary (crt-static, FROM scratch ready)
	CARGO_TARGET_DIR=$(STATIC_DIR) RUSTFLAGS='-C target-feature=+crt-static -C relocation-model=static' cargo build --release --locked --target $(TARGET_TRIPLE) -p layercake
	@ls -l $(STATIC_BIN)

frontend-image: static ## build the frontend image and tag it $(FRONTEND_TAG) in the local engine
	bash scripts/frontend-image.sh $(STATIC_BIN) $(FRONTEND_TAG)

rig: ## install/start Docker + BuildKit, a local registry and the stand-in base images (idempotent)
	bash scripts/rig.sh

demo: rig frontend-image ## build, run and probe the example services through the real engine
	bash scripts/demo.sh

unit: ## unit, snapshot and fake-gateway tests (no engine needed)
	cargo nextest run --workspace --locked --no-fail-fast

lint: ## formatting and clippy, warnings are errors
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

e2e: ## end-to-end tests against the real engine (needs `make rig frontend-image`)
	bash scripts/e2e.sh

test: rig lint unit frontend-image e2e ## everything CI runs

bench: rig frontend-image ## benchmarks against hand-written Dockerfiles, writes docs/benchmarks.md
	bash scripts/bench.sh

audit: ## supply chain: cargo-deny against the offline RustSec database copy, licenses, bans
	bash scripts/audit.sh

fuzz: ## bounded fuzzing: every fuzz/ target for 60 s (FUZZ_SECONDS=…)
	bash scripts/fuzz.sh

compat: ## the example on Docker 20.10 (BuildKit v0.8) as a second daemon; `scripts/compat.sh --stop` ends it
	bash scripts/compat.sh
