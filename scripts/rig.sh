#!/bin/bash
# The test rig for layercake: a real BuildKit (Docker engine with the containerd image store),
# a local registry on 127.0.0.1:5000 and stand-in base images under their official names.
#
#   scripts/rig.sh            bring everything up (idempotent; a warm run takes seconds)
#   scripts/rig.sh --check    bring it up, then prove it: builds on the stand-ins, registry cache,
#                             two platforms
#   scripts/rig.sh --stop     stop the daemons this rig started
#   scripts/rig.sh --no-multiplatform   skip the linux/386 stand-ins and the registry index
#
# Debian 12, root, no systemd. See testdata/base-images/README.md for the images.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

RIG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/lib" && pwd)
RECIPE_DIR=$(cd "$RIG_LIB_DIR/../../testdata/base-images" && pwd)
RIG_TIMINGS=()

# shellcheck source=lib/common.sh
source "$RIG_LIB_DIR/common.sh"
# shellcheck source=lib/engine.sh
source "$RIG_LIB_DIR/engine.sh"
# shellcheck source=lib/registry.sh
source "$RIG_LIB_DIR/registry.sh"
# shellcheck source=lib/images.sh
source "$RIG_LIB_DIR/images.sh"
# shellcheck source=lib/check.sh
source "$RIG_LIB_DIR/check.sh"

usage() { sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

summary() {
    log "timings:"
    local line
    for line in "${RIG_TIMINGS[@]}"; do log "  $line"; done
    log "  total                        $(since "$RIG_START")s"
}

main() {
    local action=up multiplatform=1 arg
    for arg in "$@"; do
        case $arg in
        --check) action=check ;;
        --stop) action=stop ;;
        --no-multiplatform) multiplatform= ;;
        -h | --help)
            usage
            return 0
            ;;
        *) die "unknown argument '$arg' (try --help)" ;;
        esac
    done
    require_root
    RIG_START=$(now)
    case $action in
    up)
        part engine ensure_engine
        part registry ensure_registry
        part "images (amd64)" ensure_images
        [[ -z $multiplatform ]] || part "images (multi-platform)" ensure_multiplatform
        ;;
    check)
        # The check needs the whole rig; when it is up this costs well under a second.
        part engine ensure_engine
        part registry ensure_registry
        part "images (amd64)" ensure_images
        [[ -z $multiplatform ]] || part "images (multi-platform)" ensure_multiplatform
        part check run_check
        ;;
    stop)
        part "stop registry" stop_registry
        part "stop engine" stop_engine
        ;;
    esac
    summary
}

main "$@"
