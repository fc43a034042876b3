#!/bin/bash
# Compatibility checks: the example through `# syntax=<frontend>` on the rig's compatibility
# engines, each from its own root (scripts/lib/engine.sh): Docker 26.1 (trixie, BuildKit 0.13)
# and Docker 20.10 (bookworm, BuildKit 0.8). The main engine (Docker 28.5) is never touched but
# to copy the frontend image out of it.
#
#   scripts/compat.sh               bring the engines up, load the frontend, run the checks on each
#   scripts/compat.sh --stop        stop the compatibility engines (bridges, rules, cgroups go too)
#   COMPAT_ENGINES="trixie bookworm" (default) the engines to check; main works too
#   COMPAT_E2E=1                    also run the whole e2e suite on each engine but bookworm
#   FRONTEND_IMAGE=layercake:dev    (default) copied from the main engine into each one
#
# Results go to stdout as `engine<TAB>check<TAB>ok|FAIL<TAB>detail`; build logs to
# /var/lib/layercake-rig/engines/NAME/compat-logs. docs/compatibility.md records what it printed.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/lib" && pwd)
ROOT_DIR=$(cd "$LIB_DIR/../.." && pwd)
RIG_LIB_DIR=$LIB_DIR
# shellcheck source=lib/common.sh
source "$LIB_DIR/common.sh"
# shellcheck source=lib/roots.sh
source "$LIB_DIR/roots.sh"
# shellcheck source=lib/engine.sh
source "$LIB_DIR/engine.sh"

FRONTEND_IMAGE=${FRONTEND_IMAGE:-layercake:dev}
COMPAT_ENGINES=${COMPAT_ENGINES:-trixie bookworm}
MAIN_HOST=unix://$RIG_STATE_DIR/main/docker.sock
RESULTS=()

clog() { printf '[compat] %s\n' "$*" >&2; }
cdie() {
    printf '[compat] ERROR: %s\n' "$*" >&2
    exit 1
}
# docker CLI against the engine under check (the rig's env for it, see engine_vars).
cdocker() { edocker "$@"; }

record() { RESULTS+=("$(printf '%-9s %-34s\t%s\t%s' "$E_NAME" "$1" "$2" "$3")"); }

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

# The frontend under test, from the main engine (the stand-ins are the engine's own: rig.sh --engine).
load_frontend() {
    DOCKER_HOST=$MAIN_HOST docker image inspect "$FRONTEND_IMAGE" >/dev/null 2>&1 ||
        cdie "$FRONTEND_IMAGE is not in the main engine (make frontend-image)"
    [[ $E_NAME != main ]] || return 0
    clog "loading $FRONTEND_IMAGE into $E_NAME"
    DOCKER_HOST=$MAIN_HOST docker save "$FRONTEND_IMAGE" | cdocker load -q >&2
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
    if ! cdocker buildx build --help 2>/dev/null | grep -q -- '--call'; then
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

check_engine() {
    engine_vars "$1"
    LOG_DIR=$E_DIR/compat-logs
    mkdir -p "$LOG_DIR"
    bash "$LIB_DIR/../rig.sh" --engine "$E_NAME" >&2
    load_frontend
    check engine-dockerfile-baseline dockerfile_baseline
    check call-targets call targets
    check call-outline call outline
    check build-api build_target api
    check run-api-health run_api
    check build-web build_target web
    check build-api-inline-cache build_target api --build-arg BUILDKIT_INLINE_CACHE=1
    check build-api-cache-from-unreachable build_target api \
        --cache-from type=registry,ref=127.0.0.1:5999/nothing
    if [[ $E_SUITE != bookworm ]]; then
        check build-api-registry-cache-export build_target api \
            --cache-to "type=registry,ref=127.0.0.1:5000/compat-$E_NAME:cache,mode=max"
    fi
    RESULTS+=("$(printf '%-9s engine: docker %s, buildx %s, frontend %s' "$E_NAME" \
        "$(cdocker version --format '{{.Server.Version}}')" "$(cdocker buildx version | awk '{print $2}')" "$FRONTEND_IMAGE")")
    if [[ -n ${COMPAT_E2E:-} && $E_SUITE != bookworm ]]; then
        local rc=0 start=$SECONDS
        clog "e2e suite on $E_NAME (log $LOG_DIR/e2e.log)"
        LAYERCAKE_ENGINE=$E_NAME bash "$ROOT_DIR/scripts/e2e.sh" >"$LOG_DIR/e2e.log" 2>&1 || rc=$?
        local summary
        summary=$(grep -E '^ +Summary' "$LOG_DIR/e2e.log" | tail -n 1 | sed -E 's/^ +//')
        record e2e-suite "$([[ $rc == 0 ]] && echo ok || echo FAIL)" "${summary:-exit $rc} in $((SECONDS - start))s, log $LOG_DIR/e2e.log"
    fi
}

main() {
    case ${1:-} in
    --stop)
        require_root
        local name
        for name in $COMPAT_ENGINES; do
            [[ $name != main ]] || continue
            engine_down "$name"
        done
        return
        ;;
    "") ;;
    *) cdie "usage: scripts/compat.sh [--stop]" ;;
    esac
    require_root
    local name
    for name in $COMPAT_ENGINES; do check_engine "$name"; done
    printf '%s\n' "${RESULTS[@]}"
    # Every check here is expected to pass on both engines (docs/compatibility.md): a FAIL fails.
    if printf '%s\n' "${RESULTS[@]}" | grep -q $'\tFAIL\t'; then
        cdie "some checks failed (the table above; logs under $RIG_VAR_DIR/engines/*/compat-logs)"
    fi
}

main "$@"
