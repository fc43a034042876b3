#!/usr/bin/env bash
# End-to-end suite against the real engine: every #[ignore]d test, serial (prune is global).
# Needs the rig (`make rig`: engine, registry, stand-in base images) and the frontend image
# (`make frontend-image`). The tests remove their own containers, images and temp dirs.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

fail() { echo "e2e: $*" >&2; exit 2; }

# The rig's main engine when it is up, else the user's (scripts/lib/env.sh; LAYERCAKE_ENGINE=…).
# shellcheck source-path=SCRIPTDIR source=lib/env.sh
source "$here/scripts/lib/env.sh"
rig_env || fail "no engine to test on"

command -v docker >/dev/null || fail "no docker client on PATH (run: make rig)"
docker info >/dev/null 2>&1 || fail "the Docker engine is not reachable (run: make rig)"
docker buildx version >/dev/null 2>&1 || fail "docker buildx is missing (run: make rig)"
frontend=${LAYERCAKE_FRONTEND:-layercake:dev}
docker image inspect "$frontend" >/dev/null 2>&1 \
  || fail "frontend image $frontend is missing (run: make frontend-image)"
for base in python:3.11-slim python:3.14-slim node:18 node:24 nginx:stable; do
  docker image inspect "$base" >/dev/null 2>&1 || fail "stand-in base image $base is missing (run: make rig)"
done
curl -sf http://127.0.0.1:5000/v2/ >/dev/null || fail "the local registry on 127.0.0.1:5000 is not answering (run: make rig)"
command -v cargo-nextest >/dev/null || fail "cargo-nextest is not installed"
echo "e2e: engine $LAYERCAKE_ENGINE: Docker $(docker version --format '{{.Server.Version}}'), buildx $(docker buildx version | awk '{print $2}') (DOCKER_HOST=${DOCKER_HOST:-default})" >&2

start=$(date +%s)
status=0
# Every test that needs the engine is #[ignore]d for plain `cargo test`: the suite in
# crates/layercake-e2e, and the engine tests of crates/layercake (bake, dockerfile, hostile).
# --retries 1: the builds download from the package indexes through this machine's proxy, which
# now and then answers an index page with an error (pip then says "from versions: none"). A
# test that passes on its second try is reported FLAKY, with both outputs; one that fails twice
# fails.
cargo nextest run --workspace --run-ignored only --test-threads 1 --no-fail-fast --retries 1 "$@" || status=$?
echo "e2e: suite finished in $(( $(date +%s) - start ))s (exit $status)" >&2
exit "$status"
