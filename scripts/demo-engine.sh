#!/bin/bash
# `make demo`'s engine: yours when it is good enough, else the rig's own.
#
# Yours is used, untouched (no root, no apt, no image tagged), when `docker info` answers, buildx
# is there, its BuildKit is v0.10 or newer, and the base images of the example (python:3.11-slim,
# node:18, nginx:stable) are in it or can be pulled (Docker Hub or your registry mirror).
# Otherwise this runs `scripts/rig.sh` (root): the rig's engine has its own image store, so its
# stand-ins never touch your images. LAYERCAKE_ENGINE=main forces the rig, =user forces yours.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf '[demo-engine] %s\n' "$*" >&2; }
DEMO_BASES=(python:3.11-slim node:18 nginx:stable)
MIN_BUILDKIT_MINOR=10

# BuildKit v0.MINOR of the engine, from `docker buildx inspect`; Debian's builds say v0.0.0+unknown,
# then the server version decides (Docker 23.0 embeds BuildKit v0.10.x-v0.11).
buildkit_good() {
    local bk server major
    bk=$(docker buildx inspect 2>/dev/null | awk '/BuildKit version:/ { print $3; exit }')
    if [[ $bk =~ ^v0\.([0-9]+)\. ]] && ((BASH_REMATCH[1] > 0)); then
        ((BASH_REMATCH[1] >= MIN_BUILDKIT_MINOR))
        return
    fi
    server=$(docker version --format '{{.Server.Version}}' 2>/dev/null) || return 1
    major=${server%%.*}
    [[ $major =~ ^[0-9]+$ ]] && ((major >= 23))
}

user_engine_good() {
    docker info >/dev/null 2>&1 || { say "no engine answers 'docker info'"; return 1; }
    docker buildx version >/dev/null 2>&1 || { say "your engine has no buildx"; return 1; }
    buildkit_good || { say "your engine's BuildKit is older than v0.$MIN_BUILDKIT_MINOR"; return 1; }
    local base
    for base in "${DEMO_BASES[@]}"; do
        docker image inspect "$base" >/dev/null 2>&1 && continue
        say "pulling $base"
        timeout 300 docker pull -q "$base" >/dev/null 2>&1 || { say "$base is not in your engine and cannot be pulled"; return 1; }
    done
}

# shellcheck source=lib/env.sh
source "$here/scripts/lib/env.sh"
case ${LAYERCAKE_ENGINE:-auto} in
main) exec bash "$here/scripts/rig.sh" ;;
user)
    user_engine_good || { say "LAYERCAKE_ENGINE=user, but your engine cannot run the demo"; exit 1; }
    exit 0
    ;;
esac
if [[ -s ${LAYERCAKE_RIG_STATE}/main/READY ]]; then
    say "the rig's engine is up ($LAYERCAKE_RIG_STATE/main/READY): the demo uses it"
    exit 0
fi
if user_engine_good; then
    say "using your engine as it is: Docker $(docker version --format '{{.Server.Version}}') (no root, nothing installed)"
    exit 0
fi
say "starting the rig's own engine instead (scripts/rig.sh, needs root; README 'Try it' says what it changes)"
[[ $(id -u) -eq 0 ]] || { say "run make demo as root (or with an engine as above)"; exit 1; }
exec bash "$here/scripts/rig.sh"
