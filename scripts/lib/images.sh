# shellcheck shell=bash
# Stand-in base images: root file systems bootstrapped from a Debian suite (the recipe's
# RECIPE_SUITE, bookworm by default) with mmdebstrap on the host, cached as tarballs keyed by
# recipe hash, imported under the official image names into the rig's own engine (whose store
# holds nothing of the user's). Sourced by scripts/rig.sh.

RIG_LIB_DIR=${RIG_LIB_DIR:?}
RECIPE_DIR=${RECIPE_DIR:?}
ROOTFS_CACHE=$RIG_CACHE_DIR/rootfs
WORK_DIR=$RIG_CACHE_DIR/work
# Which image the rig imported with which recipe, per engine (set by rig.sh for its engine).
IMPORT_STATE=${IMPORT_STATE:-$RIG_CACHE_DIR/state}
HOST_CA_DIR=/usr/local/share/ca-certificates
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# How every stand-in is bootstrapped (part of the recipe hash): minbase without recommends,
# merged /usr without the usrmerge package (it drags perl in), no docs/man/locales, like slim images.
MMDEBSTRAP_OPTS=(
    --mode=root --variant=minbase
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
    --aptopt='APT::Install-Recommends "false"'
    --aptopt='APT::Install-Suggests "false"'
    --aptopt='Acquire::Check-Valid-Until "false"'
    --dpkgopt='path-exclude=/usr/share/man/*'
    --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-include=/usr/share/doc/*/copyright'
    --dpkgopt='path-exclude=/usr/share/locale/*'
    --dpkgopt='path-include=/usr/share/locale/locale.alias'
    --dpkgopt='path-exclude=/usr/share/lintian/*'
)
# The images' own apt sources, so `apt-get install` works inside builds: a stable suite with
# its updates and security suites, a testing/unstable suite alone.
suite_sources() {
    echo "deb $DEBIAN_MIRROR $1 main"
    case $1 in
    bookworm | trixie)
        echo "deb $DEBIAN_MIRROR $1-updates main"
        echo "deb $DEBIAN_SECURITY_MIRROR $1-security main"
        ;;
    esac
}

# Debian architecture -> OCI platform.
oci_platform() {
    case $1 in
    amd64) echo linux/amd64 ;;
    i386) echo linux/386 ;;
    *) die "no OCI platform known for Debian architecture '$1'" ;;
    esac
}

# Read one recipe in a subshell-safe way: sets RECIPE_* and the recipe_* functions.
load_recipe() {
    unset RECIPE_TAG RECIPE_PACKAGES RECIPE_ARCHES RECIPE_SUITE
    unset -f recipe_customize recipe_changes
    # shellcheck source=/dev/null
    source "$1"
    [[ -n ${RECIPE_TAG:-} ]] || die "recipe $1 sets no RECIPE_TAG"
    RECIPE_SUITE=${RECIPE_SUITE:-bookworm}
    declare -F recipe_customize >/dev/null || recipe_customize() { :; }
    declare -F recipe_changes >/dev/null || recipe_changes() { :; }
}

# Everything that changes the root file system goes into the key: the recipe, the bootstrap
# options and hook, the host CAs copied in, and the architecture.
recipe_hash() {
    local recipe=$1 arch=$2
    {
        # Comment lines change no file system: editing them must not cost a rebuild.
        grep -hv '^[[:space:]]*#' "$recipe" "$RIG_LIB_DIR/customize-root.sh"
        printf '%s\n' "${MMDEBSTRAP_OPTS[@]}"
        suite_sources "$RECIPE_SUITE"
        cat "$HOST_CA_DIR"/*.crt 2>/dev/null
        echo "arch=$arch"
    } | sha256sum | cut -c1-16
}

# unmount_below and remove_root: scripts/lib/roots.sh.

# Bootstrap one recipe for one architecture into a cached tarball (+ its --change lines).
build_rootfs() {
    local recipe=$1 arch=$2 name=$3 hash=$4
    local tarball=$ROOTFS_CACHE/$name-$arch-$hash.tar
    local root=$WORK_DIR/$name-$arch
    mkdir -p "$ROOTFS_CACHE" "$WORK_DIR"
    remove_root "$root"
    local start
    start=$(now)
    log "bootstrapping $name for $arch (packages: ${RECIPE_PACKAGES[*]:-none})"
    local include=()
    ((${#RECIPE_PACKAGES[@]} > 0)) && include=("--include=$(
        IFS=,
        echo "${RECIPE_PACKAGES[*]}"
    )")
    local attempt=1 log_file=$WORK_DIR/$name-$arch.log sources=()
    mapfile -t sources < <(suite_sources "$RECIPE_SUITE")
    # Mirrors (and this machine's caching proxy) can be caught mid-sync: retry a couple of times.
    until mmdebstrap "${MMDEBSTRAP_OPTS[@]}" --architectures="$arch" \
        "${include[@]}" \
        --customize-hook="bash '$RIG_LIB_DIR/customize-root.sh' \"\$1\" '$recipe'" \
        "$RECIPE_SUITE" "$root" "${sources[@]}" >"$log_file" 2>&1; do
        remove_root "$root"
        if ((attempt >= 3)); then
            tail -n 40 "$log_file" >&2
            die "mmdebstrap failed $attempt times for $name/$arch (log tail above, full log $log_file)"
        fi
        warn "mmdebstrap failed for $name/$arch (attempt $attempt: $(grep -m1 '^E:' "$log_file" || echo 'see log')); retrying"
        # Seen here: the proxy serves a stale bookworm-security i386 index that never matches its
        # InRelease. A stand-in without security updates beats no stand-in; say so loudly.
        if ((${#sources[@]} > 2)) && grep -q "Failed to fetch .*$RECIPE_SUITE-security" "$log_file"; then
            warn "$RECIPE_SUITE-security is unusable for $arch here; bootstrapping $name/$arch from $RECIPE_SUITE + $RECIPE_SUITE-updates only"
            sources=("${sources[@]:0:2}")
        fi
        attempt=$((attempt + 1))
        sleep $((attempt * 3))
    done
    # Not under `||`: a failing command inside recipe_changes must reach the ERR trap.
    echo 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' >"$tarball.changes.partial"
    recipe_changes "$root" >>"$tarball.changes.partial"
    tar --numeric-owner --xattrs --xattrs-include='*' -C "$root" -cf "$tarball.partial" . \
        || die "cannot pack $root"
    mv "$tarball.changes.partial" "$tarball.changes"
    mv "$tarball.partial" "$tarball"
    remove_root "$root"
    # Older tarballs of the same image are dead weight once the recipe moved on.
    find "$ROOTFS_CACHE" -maxdepth 1 -name "$name-$arch-*.tar*" ! -name "$name-$arch-$hash.tar*" -delete
    log "bootstrapped $name/$arch in $(since "$start")s: $(du -sh "$tarball" | cut -f1) ($tarball)"
}

# Empty when the image is absent.
image_id() { docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }

image_state_file() { echo "$IMPORT_STATE/$(tr '/:' '__' <<<"$1")"; }

# The official image when a registry serves it (Docker Hub, or the mirror in the engine's
# daemon.json): then no stand-in is made for that name. Tried only for an absent name, so a warm
# rig never asks. RIG_OFFICIAL_IMAGES=0 skips it; a pull that times out (a registry that does not
# answer rather than refuses) stops the attempts for the rest of the run.
RIG_OFFICIAL_IMAGES=${RIG_OFFICIAL_IMAGES:-1}
RIG_PULL_TIMEOUT=${RIG_PULL_TIMEOUT:-120}
OFFICIAL_UNREACHABLE=
is_official() {
    local state
    state=$(image_state_file "$1")
    [[ -s $state && $(cat "$state") == "official $(image_id "$1")" ]]
}
try_official() {
    local tag=$1 status=0
    [[ $RIG_OFFICIAL_IMAGES == 1 && -z $OFFICIAL_UNREACHABLE && -z $(image_id "$tag") ]] || return 1
    timeout "$RIG_PULL_TIMEOUT" docker pull -q "$tag" >/dev/null 2>&1 || status=$?
    if ((status != 0)); then
        if ((status == 124)); then
            OFFICIAL_UNREACHABLE=1
            log "image $tag: no answer from the registry in ${RIG_PULL_TIMEOUT}s; stand-ins for the rest"
        else
            log "image $tag: the official image cannot be pulled here; a stand-in is made"
        fi
        return 1
    fi
    mkdir -p "$IMPORT_STATE"
    echo "official $(image_id "$tag")" >"$(image_state_file "$tag")"
    log "image $tag: the official image, pulled"
}

# Make TAG hold the image of RECIPE for ARCH: skip when present, import from the cached tarball
# when possible, bootstrap only when the tarball is missing.
ensure_image() {
    local recipe=$1 arch=$2 tag=$3
    local name hash state id
    name=$(basename "$recipe" .recipe)
    hash=$(recipe_hash "$recipe" "$arch")
    state=$(image_state_file "$tag")
    id=$(image_id "$tag")
    if [[ -n $id ]]; then
        if is_official "$tag"; then
            log "image $tag: present (the official image)"
            return 0
        fi
        if [[ ! -s $state ]]; then
            log "image $tag: present and not made by the rig, keeping it"
            return 0
        fi
        if [[ $(cat "$state") == "$hash $id" ]]; then
            log "image $tag: present (recipe $hash)"
            return 0
        fi
        log "image $tag: recipe changed, replacing it"
    fi
    local tarball=$ROOTFS_CACHE/$name-$arch-$hash.tar
    [[ -s $tarball && -s $tarball.changes ]] || build_rootfs "$recipe" "$arch" "$name" "$hash"
    local changes=() line
    while IFS= read -r line; do
        if [[ -n $line ]]; then changes+=("--change=$line"); fi
    done <"$tarball.changes"
    local start
    start=$(now)
    docker import --platform "$(oci_platform "$arch")" "${changes[@]}" "$tarball" "$tag" >/dev/null \
        || die "docker import of $tarball as $tag failed"
    mkdir -p "$IMPORT_STATE"
    echo "$hash $(image_id "$tag")" >"$state"
    log "image $tag: imported in $(since "$start")s"
}

# The local registry name of an official image reference: python:3.11-slim -> 127.0.0.1:5000/library/python:3.11-slim.
# A compatibility engine pushes its own indexes under RIG_REGISTRY_NS (rig-trixie/library): an
# index pulled from another engine's push lacks the compressed layers in this engine's store, and
# BuildKit would then fetch them from docker.io when it exports an image built on it.
registry_ref() {
    local ref=$1
    [[ $ref == */* ]] || ref=${RIG_REGISTRY_NS:-library}/$ref
    echo "$REGISTRY_ADDR/$ref"
}

# Digest of a manifest or index in the local registry (empty when absent).
registry_digest() {
    local ref=$1 repo tag
    repo=${ref#"$REGISTRY_ADDR"/}
    tag=${repo##*:}
    repo=${repo%:*}
    curl -fsI --max-time 5 \
        -H 'Accept: application/vnd.oci.image.index.v1+json' \
        -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
        "http://$REGISTRY_ADDR/v2/$repo/manifests/$tag" 2>/dev/null |
        tr -d '\r' | awk -F': ' 'tolower($1) == "docker-content-digest" { print $2 }' || true
}

index_in_registry() { [[ -n $(registry_digest "$1") ]]; }

# One multi-platform image per multi-arch recipe: each architecture is imported under an arch
# tag (127.0.0.1:5000/library/python:3.11-slim-386), pushed, joined into one index in the
# registry (127.0.0.1:5000/library/python:3.11-slim), and the index is pulled back for every
# platform and tagged with the official name, so `FROM python:3.11-slim` works in a
# `--platform linux/amd64,linux/386` build with no registry prefix.
ensure_registry_index() {
    local recipe=$1
    local ref state arch hashes="" sources=() digest
    ref=$(registry_ref "$RECIPE_TAG")
    state=$IMPORT_STATE/index_$(tr '/:' '__' <<<"$ref")
    for arch in "${RECIPE_ARCHES[@]}"; do
        hashes+="$(recipe_hash "$recipe" "$arch") "
    done
    digest=$(registry_digest "$ref")
    if [[ -n $digest && -s $state && $(cat "$state") == "$hashes$digest" && $(image_id "$RECIPE_TAG") == "$digest" ]]; then
        log "index $ref: present in the registry and as local $RECIPE_TAG ($digest)"
        return 0
    fi
    local start
    start=$(now)
    for arch in "${RECIPE_ARCHES[@]}"; do
        local arch_ref
        arch_ref=$ref-$(oci_platform "$arch" | cut -d/ -f2)
        ensure_image "$recipe" "$arch" "$arch_ref"
        docker push -q "$arch_ref" >/dev/null || die "docker push $arch_ref failed"
        sources+=("$arch_ref")
    done
    docker buildx imagetools create -t "$ref" "${sources[@]}" >/dev/null 2>&1 \
        || docker buildx imagetools create -t "$ref" "${sources[@]}" \
        || die "joining ${sources[*]} into $ref failed"
    digest=$(registry_digest "$ref")
    [[ -n $digest ]] || die "$ref is not an index in the registry after imagetools create"
    log "index $ref: pushed (${RECIPE_ARCHES[*]}) as $digest"
    # Pulling per platform fills the local store with every platform's content under the index.
    for arch in "${RECIPE_ARCHES[@]}"; do
        docker pull -q --platform "$(oci_platform "$arch")" "$ref" >/dev/null || die "docker pull --platform $(oci_platform "$arch") $ref failed"
    done
    docker tag "$ref" "$RECIPE_TAG" || die "docker tag $ref $RECIPE_TAG failed"
    [[ $(image_id "$RECIPE_TAG") == "$digest" ]] || die "local $RECIPE_TAG is not the index $digest after tagging"
    # The amd64 step must see this index as its own image, not as a foreign one to keep or replace.
    echo "$(recipe_hash "$recipe" amd64) $digest" >"$(image_state_file "$RECIPE_TAG")"
    echo "$hashes$digest" >"$state"
    log "image $RECIPE_TAG: local multi-platform index (${RECIPE_ARCHES[*]}) in $(since "$start")s"
}

# Bootstrap every missing tarball first, RIG_JOBS at a time (mmdebstrap mostly waits on the
# network and dpkg); the imports stay one at a time. ARCHES: amd64 only, or every recipe arch.
RIG_JOBS=${RIG_JOBS:-3}
# How many of the given pids still run.
running_count() {
    local n=0 pid
    for pid in "$@"; do
        if kill -0 "$pid" 2>/dev/null; then n=$((n + 1)); fi
    done
    echo "$n"
}

prebuild_rootfs() {
    local which=$1 recipe arch name hash tarball started=() entry pids=() pid
    mkdir -p "$WORK_DIR"
    for recipe in "$RECIPE_DIR"/*.recipe; do
        load_recipe "$recipe"
        is_official "$RECIPE_TAG" && continue
        local arches=(amd64)
        [[ $which == amd64 ]] || arches=("${RECIPE_ARCHES[@]}")
        for arch in "${arches[@]}"; do
            name=$(basename "$recipe" .recipe)
            hash=$(recipe_hash "$recipe" "$arch")
            tarball=$ROOTFS_CACHE/$name-$arch-$hash.tar
            [[ -s $tarball && -s $tarball.changes ]] && continue
            # Only the bootstraps' own pids: this shell also started the engines and the
            # registry in the background, and `jobs`/`wait` alone would count and wait for them.
            while (($(running_count "${pids[@]}") >= RIG_JOBS)); do sleep 0.5; done
            (build_rootfs "$recipe" "$arch" "$name" "$hash") >"$WORK_DIR/$name-$arch.out" 2>&1 &
            pids+=("$!")
            started+=("$name-$arch:$tarball")
        done
    done
    for pid in "${pids[@]}"; do wait "$pid" || true; done
    for entry in "${started[@]}"; do
        sed 's/^/  /' "$WORK_DIR/${entry%%:*}.out"
        [[ -s ${entry#*:} ]] || die "bootstrapping ${entry%%:*} failed (above)"
    done
}

ensure_images() {
    apt_install_missing mmdebstrap
    # mmdebstrap refuses foreign architectures without arch-test.
    [[ ${RIG_PREBUILD:-amd64} == amd64 ]] || apt_install_missing arch-test
    local recipe
    for recipe in "$RECIPE_DIR"/*.recipe; do
        load_recipe "$recipe"
        try_official "$RECIPE_TAG" || true
    done
    prebuild_rootfs "${RIG_PREBUILD:-amd64}"
    for recipe in "$RECIPE_DIR"/*.recipe; do
        load_recipe "$recipe"
        ensure_image "$recipe" amd64 "$RECIPE_TAG"
    done
}

ensure_multiplatform() {
    # mmdebstrap refuses foreign architectures without arch-test (i386 then runs natively).
    apt_install_missing mmdebstrap arch-test
    local recipe
    for recipe in "$RECIPE_DIR"/*.recipe; do
        load_recipe "$recipe"
        ((${#RECIPE_ARCHES[@]} > 1)) || continue
        # The official index carries every platform already (BuildKit fetches the others).
        is_official "$RECIPE_TAG" && continue
        ensure_registry_index "$recipe"
    done
}
