#!/bin/bash
# The test rig for layercake: a real BuildKit (Docker 28.5 from Debian forky, in a root file
# system of its own), a local registry on 127.0.0.1:5000 and stand-in base images under their
# official names inside that engine. The host's packages are left alone (see README "Try it").
#
#   scripts/rig.sh            bring everything up (idempotent; a warm run takes seconds)
#   scripts/rig.sh --check    bring it up, then prove it: builds on the stand-ins, registry cache,
#                             two platforms
#   scripts/rig.sh --engine NAME   bring up one engine only (main, trixie or bookworm; no images)
#   scripts/rig.sh --stop     stop every engine and the registry; remove bridges, rules, cgroups
#   scripts/rig.sh --env [NAME]    print `export` lines for a client of an engine (default main)
#   scripts/rig.sh --no-multiplatform   skip the linux/386 stand-ins and the registry index
#
# Debian, root, no systemd. Engines: scripts/lib/engine.sh; images: testdata/base-images/README.md.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

RIG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/lib" && pwd)
RECIPE_DIR=$(cd "$RIG_LIB_DIR/../../testdata/base-images" && pwd)
RIG_TIMINGS=()

# shellcheck source=lib/common.sh
source "$RIG_LIB_DIR/common.sh"
# shellcheck source=lib/roots.sh
source "$RIG_LIB_DIR/roots.sh"
# shellcheck source=lib/engine.sh
source "$RIG_LIB_DIR/engine.sh"
# shellcheck source=lib/registry.sh
source "$RIG_LIB_DIR/registry.sh"
# shellcheck source=lib/images.sh
source "$RIG_LIB_DIR/images.sh"
# shellcheck source=lib/check.sh
source "$RIG_LIB_DIR/check.sh"

usage() { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

summary() {
    log "timings:"
    local line
    for line in "${RIG_TIMINGS[@]}"; do log "  $line"; done
    log "  total                        $(since "$RIG_START")s"
}

# The rig's own steps talk to the main engine, never to whatever DOCKER_HOST says.
use_engine() {
    engine_vars "$1"
    export DOCKER_HOST=unix://$E_SOCK DOCKER_CONFIG=$E_CLIENT
    unset DOCKER_CONTEXT
    IMPORT_STATE=$E_DIR/image-state
}

# Left by the rig of before (which installed Docker from trixie on the host): say so, touch nothing.
old_rig_leftovers() {
    local f
    for f in /etc/apt/sources.list.d/layercake-trixie.sources /etc/apt/preferences.d/layercake-trixie; do
        [[ ! -e $f ]] || warn "$f was written by an older rig; it is not used any more (remove it by hand)"
    done
}

main_up() {
    part "engine main (forky)" engine_up main
    use_engine main
    part registry ensure_registry
    # Each step is a no-op when its image is present, so a second run changes nothing.
    [[ -z $multiplatform ]] || RIG_PREBUILD=all
    part "images (amd64)" ensure_images
    [[ -z $multiplatform ]] || part "images (multi-platform)" ensure_multiplatform
    if ! cmp -s "$E_ENV" "$E_RUN/READY"; then
        cp "$E_ENV" "$E_RUN/READY.new"
        mv "$E_RUN/READY.new" "$E_RUN/READY"
    fi
    log "main engine ready: $E_RUN/READY (eval \"\$(scripts/rig.sh --env)\" for a shell)"
}

# A compatibility engine: its own images, from the same cached stand-in tarballs; the
# multi-platform indexes are the main engine's (pulled from the registry, never pushed again).
engine_only_up() {
    local name=$1
    [[ $name != main ]] || {
        main_up
        return
    }
    part "engine $name" engine_up "$name"
    part registry ensure_registry
    use_engine "$name"
    if [[ $name == bookworm ]]; then
        # 20.10 has no containerd image store (single-platform images only) and its `docker
        # import` refuses STOPSIGNAL: the main engine's amd64 images are copied in.
        part "images (from main)" copy_images_from_main
    else
        part "images (amd64)" ensure_images
        RIG_REGISTRY_NS=rig-$name/library part "images (multi-platform)" ensure_multiplatform
    fi
    cmp -s "$E_ENV" "$E_RUN/READY" || cp "$E_ENV" "$E_RUN/READY"
    log "engine $name ready: $E_RUN/READY"
}

copy_images_from_main() {
    local recipe from save main_id state
    for recipe in "$RECIPE_DIR"/*.recipe; do
        load_recipe "$recipe"
        from=$RECIPE_TAG save=()
        if [[ $(cat "$RIG_VAR_DIR/engines/main/image-state/$(tr '/:' '__' <<<"$RECIPE_TAG")" 2>/dev/null) == official* ]]; then
            # An official index: its amd64 image only (20.10 loads single-platform images).
            save=(--platform linux/amd64)
        elif ((${#RECIPE_ARCHES[@]} > 1)); then
            # A multi-arch stand-in's amd64 image has an arch tag of its own.
            from=$(registry_ref "$RECIPE_TAG")-amd64
        fi
        main_id=$(DOCKER_HOST=unix://$RIG_STATE_DIR/main/docker.sock docker image inspect --format '{{.Id}}' "$from" 2>/dev/null) ||
            die "$from is not in the main engine: make rig first"
        state=$IMPORT_STATE/copy_$(tr '/:' '__' <<<"$RECIPE_TAG")
        if [[ -s $state && $(cat "$state") == "$main_id" ]] && docker image inspect "$RECIPE_TAG" >/dev/null 2>&1; then
            log "image $RECIPE_TAG: present (main's $main_id)"
            continue
        fi
        DOCKER_HOST=unix://$RIG_STATE_DIR/main/docker.sock docker save "${save[@]}" "$from" | docker load -q >/dev/null
        [[ $from == "$RECIPE_TAG" ]] || docker tag "$from" "$RECIPE_TAG"
        mkdir -p "$IMPORT_STATE"
        echo "$main_id" >"$state"
        log "image $RECIPE_TAG: copied from the main engine"
    done
}

print_env() {
    engine_vars "${1:-main}"
    [[ -s $E_RUN/READY ]] || [[ ${1:-main} != main && -s $E_ENV ]] ||
        die "engine ${1:-main} is not up (no $E_RUN/READY): make rig"
    local file=$E_RUN/READY line
    [[ -s $file ]] || file=$E_ENV
    while IFS= read -r line; do
        [[ -n $line ]] && printf 'export %q\n' "$line"
    done <"$file"
}

stop_all() {
    local name
    stop_registry
    for name in "${RIG_ENGINES[@]}"; do engine_down "$name"; done
    # Nothing the rig mounted may stay mounted on the host.
    local left
    left=$(awk -v d="$RIG_VAR_DIR/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts)
    [[ -z $left ]] || die "still mounted after stop: $left"
}

main() {
    local action=up multiplatform=1 engine=
    while (($# > 0)); do
        case $1 in
        --check) action=check ;;
        --stop) action=stop ;;
        --engine)
            action=engine
            engine=${2:?--engine needs a name}
            shift
            ;;
        --env)
            action="env"
            if [[ ${2:-} != -* && -n ${2:-} ]]; then
                engine=$2
                shift
            fi
            ;;
        --no-multiplatform) multiplatform= ;;
        -h | --help)
            usage
            return 0
            ;;
        *) die "unknown argument '$1' (try --help)" ;;
        esac
        shift
    done
    if [[ $action == env ]]; then
        print_env "$engine"
        return 0
    fi
    require_root
    RIG_START=$(now)
    case $action in
    up)
        old_rig_leftovers
        main_up
        ;;
    check)
        main_up
        part check run_check
        ;;
    engine) engine_only_up "$engine" ;;
    stop) part stop stop_all ;;
    esac
    summary
}

main "$@"
