# layercake — developer and CI entry points. README names two: `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

TARGET_TRIPLE := x86_64-unknown-linux-gnu
# A target dir of its own: the long LTO build does not hold the lock of everyday debug builds.
STATIC_DIR    := target/static
STATIC_BIN    := $(STATIC_DIR)/$(TARGET_TRIPLE)/release/layercake
FRONTEND_TAG  ?= layercake:dev

.PHONY: help build static frontend-image rig rig-stop host-check demo-engine demo test unit e2e lint fmt bench clean-rig audit fuzz compat compat-stop

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s $$'\t'

build: ## debug build of the whole workspace
	cargo build --workspace --locked

static: ## the static frontend binary (crt-static, FROM scratch ready)
	CARGO_TARGET_DIR=$(STATIC_DIR) RUSTFLAGS='-C target-feature=+crt-static -C relocation-model=static' cargo build --release --locked --target $(TARGET_TRIPLE) -p layercake
	@ls -l $(STATIC_BIN)

frontend-image: static ## build the frontend image and tag it $(FRONTEND_TAG) in the local engine
	bash scripts/frontend-image.sh $(STATIC_BIN) $(FRONTEND_TAG)

rig: ## start the rig's own Docker 28.5 (forky root), a local registry and the stand-in images (idempotent)
	bash scripts/rig.sh

rig-stop: ## stop every rig engine and the registry; no mount, bridge, rule or cgroup stays
	bash scripts/rig.sh --stop

host-check: ## `make rig` between two records of the host's packages: fails on any change it does not document
	bash scripts/host-check.sh --self-test
	bash scripts/host-check.sh

demo-engine: ## your own engine when it is good enough (BuildKit >= 0.10 + buildx), else `make rig`
	bash scripts/demo-engine.sh

demo: demo-engine frontend-image ## build, run and probe the example services through the real engine
	bash scripts/demo.sh

# The engine is not needed, but `docker buildx bake --print` (tools_bake) needs a buildx client:
# the rig's, when it is up (scripts/lib/env.sh).
unit: ## unit, snapshot and fake-gateway tests (no engine needed)
	source scripts/lib/env.sh && rig_env && cargo nextest run --workspace --locked --no-fail-fast

lint: ## formatting and clippy, warnings are errors
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

e2e: ## end-to-end tests against the rig's main engine (needs `make rig frontend-image`)
	bash scripts/e2e.sh

# host-check runs the rig (between its two records of the host's packages).
test: host-check lint unit frontend-image e2e ## everything CI runs

bench: rig frontend-image ## benchmarks against hand-written Dockerfiles, writes docs/benchmarks.md
	bash scripts/bench.sh

audit: ## supply chain: cargo-deny against the offline RustSec database copy, licenses, bans
	bash scripts/audit.sh

fuzz: ## bounded fuzzing: every fuzz/ target for 60 s (FUZZ_SECONDS=…)
	bash scripts/fuzz.sh

compat: rig frontend-image ## the example on the compatibility engines: Docker 26.1 (trixie) and 20.10 (bookworm)
	bash scripts/compat.sh

compat-stop: ## stop the compatibility engines (the main one keeps running)
	bash scripts/compat.sh --stop
