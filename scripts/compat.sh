#!/bin/bash
# Compatibility check: the example through `# syntax=<frontend>` on Docker 20.10 (BuildKit v0.8),
# run as a second daemon next to the main engine (which it never touches).
#
#   scripts/compat.sh            start the old engine, load images, run the checks, print a table
#   scripts/compat.sh --stop     stop the old engine and remove its bridge and iptables rules
#   FRONTEND_IMAGE=layercake:dev (default) is copied from the main engine into the old one.
#
# Results go to stdout as `check<TAB>ok|FAIL<TAB>detail`; build logs to $COMPAT_DIR/logs.
# docs/compatibility.md records what this printed and why.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/lib" && pwd)
ROOT_DIR=$(cd "$LIB_DIR/../.." && pwd)
# shellcheck source=lib/compat-engine.sh
source "$LIB_DIR/compat-engine.sh"

FRONTEND_IMAGE=${FRONTEND_IMAGE:-layercake:dev}
LOG_DIR=$COMPAT_DIR/logs
RESULTS=()

record() { RESULTS+=("$(printf '%-34s\t%s\t%s' "$1" "$2" "$3")"); }

# Run one check: name, then the command; its output goes to a log, the last error line to the table.
check() {
    local name=$1
    shift
    local log=$LOG_DIR/$name.log
    if "$@" >"$log" 2>&1; then
        record "$name" ok "log: $log"
    else
        local why
        # The innermost reason: BuildKit nests rpc errors, the last `desc = ` holds it.
        why=$({ grep -E 'ERROR|error:|failed' "$log" || true; } | tail -n 1 |
            sed -E 's/.*desc = //' | cut -c1-200)
        record "$name" FAIL "${why:-see $log}"
    fi
}

load_images() {
    docker image inspect "$FRONTEND_IMAGE" >/dev/null 2>&1 ||
        cdie "$FRONTEND_IMAGE is not in the main engine (make frontend-image)"
    compat_copy_image "$FRONTEND_IMAGE" layercake:dev always
    # The stand-ins are two-platform indexes in the main engine; copy the amd64 variants.
    local name
    for name in python:3.11-slim nginx:stable; do
        compat_copy_image "127.0.0.1:5000/library/$name-amd64" "$name"
    done
    compat_copy_image node:18 node:18
    compat_copy_image debian:bookworm-slim debian:bookworm-slim
}

# A plain Dockerfile build: proves the old engine itself (network, bridge, BuildKit) works.
dockerfile_baseline() {
    local dir
    dir=$(mktemp -d)
    printf 'FROM debian:bookworm-slim\nRUN echo compat-baseline > /marker\n' >"$dir/Dockerfile"
    DOCKER_BUILDKIT=1 cdocker build --no-cache --progress=plain -t compat-baseline "$dir"
    rm -rf "$dir"
}

build_target() {
    local target=$1
    shift
    cdocker buildx build --progress=plain -f "$ROOT_DIR/testdata/example/layercake.yaml" \
        --target "$target" -t "compat-$target" "$@" "$ROOT_DIR/testdata/example"
}

# buildx before 0.14 has no --call; there it is the experimental --print.
call() {
    local flag=(--call "$1")
    if ! docker buildx build --help 2>/dev/null | grep -q -- '--call'; then
        export BUILDX_EXPERIMENTAL=1
        flag=(--print "$1")
    fi
    cdocker buildx build --progress=plain -f "$ROOT_DIR/testdata/example/layercake.yaml" \
        "${flag[@]}" "$ROOT_DIR/testdata/example"
}

run_api() {
    local id
    id=$(cdocker run -d --rm compat-api)
    local ok=1
    for _ in $(seq 1 30); do
        if cdocker exec "$id" python -c \
            'import urllib.request;urllib.request.urlopen("http://127.0.0.1:8000/api/health")'; then
            ok=0
            break
        fi
        sleep 1
    done
    cdocker rm -f "$id" >/dev/null
    return "$ok"
}

main() {
    case ${1:-} in
        --stop)
            compat_stop
            return
            ;;
        "") ;;
        *) cdie "usage: scripts/compat.sh [--stop]" ;;
    esac
    [[ $(id -u) -eq 0 ]] || cdie "run as root"
    mkdir -p "$LOG_DIR"
    compat_start
    load_images
    check engine-dockerfile-baseline dockerfile_baseline
    check call-targets call targets
    check call-outline call outline
    check build-api build_target api
    check run-api-health run_api
    check build-web build_target web
    check build-api-inline-cache build_target api --build-arg BUILDKIT_INLINE_CACHE=1
    check build-api-cache-from-unreachable build_target api \
        --cache-from type=registry,ref=127.0.0.1:5999/nothing
    printf '%s\n' "engine: docker $(cdocker version --format '{{.Server.Version}}'), frontend: $FRONTEND_IMAGE"
    printf '%s\n' "${RESULTS[@]}"
}

main "$@"
