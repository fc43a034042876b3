# shellcheck shell=bash
# Which engine the scripts talk to: sourced by scripts/e2e.sh, bench.sh, demo.sh,
# frontend-image.sh and compat.sh (never by the rig itself). It exports DOCKER_HOST and
# DOCKER_CONFIG; the Rust e2e tests run `docker` with std::process::Command and inherit them.
#
#   LAYERCAKE_ENGINE=auto   (default) the rig's main engine when it is up
#                           (/run/layercake-rig/main/READY), else the user's own engine as the
#                           environment points at it (DOCKER_HOST, docker context, …)
#   LAYERCAKE_ENGINE=main|trixie|bookworm   that rig engine; fails when it is not up
#   LAYERCAKE_ENGINE=user   the user's own engine, whatever the rig runs

LAYERCAKE_RIG_STATE=${LAYERCAKE_RIG_STATE:-/run/layercake-rig}

# Load one rig engine's READY file (KEY=value lines) into the environment.
rig_env_load() {
    local file=$LAYERCAKE_RIG_STATE/$1/READY line key
    [[ -s $file ]] || return 1
    while IFS= read -r line; do
        [[ $line == [A-Z]*=* ]] || continue
        key=${line%%=*}
        export "$key=${line#*=}"
    done <"$file"
    # A docker context would take precedence over nothing here, but DOCKER_HOST wins over it.
    unset DOCKER_CONTEXT
    # A host without a docker CLI uses the one the rig links from the forky root.
    if ! command -v docker >/dev/null 2>&1 && [[ -x /var/lib/layercake-rig/bin/docker ]]; then
        export PATH=/var/lib/layercake-rig/bin:$PATH
    fi
}

rig_env() {
    local want=${LAYERCAKE_ENGINE:-auto}
    case $want in
    auto)
        if rig_env_load main; then
            LAYERCAKE_ENGINE=main
        else
            LAYERCAKE_ENGINE=user
        fi
        ;;
    user) ;;
    main | trixie | bookworm)
        rig_env_load "$want" || {
            echo "engine '$want' of the rig is not up (no $LAYERCAKE_RIG_STATE/$want/READY): run make rig" >&2
            return 1
        }
        ;;
    *)
        echo "LAYERCAKE_ENGINE=$want: expected auto, user, main, trixie or bookworm" >&2
        return 1
        ;;
    esac
    export LAYERCAKE_ENGINE
}
