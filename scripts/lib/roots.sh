# shellcheck shell=bash
# The engines' own root file systems: one per Debian suite, made with mmdebstrap, cached under
# $RIG_VAR_DIR/roots/SUITE. Sourced by scripts/rig.sh and scripts/compat.sh.
#
# A root is usable only when its marker file holds the key of what it was made from; mmdebstrap
# writes into SUITE.partial and the marker is written last, so a killed bootstrap (or a killed
# customize step) leaves a root without a good marker, which is removed and made again.

ROOTS_DIR=$RIG_VAR_DIR/roots
ROOT_MARKER=.layercake-rig-root
HOST_CA_DIR=/usr/local/share/ca-certificates
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# Packages of an engine root. forky's docker.io no longer pulls in docker-cli; bookworm has no
# docker-buildx (the 20.10 engine is driven by the host CLI with a newer suite's buildx plugin).
# dnsmasq-base: the engine's caching DNS forwarder on its bridge (engine.sh, engine_dns_up).
root_packages() {
    case $1 in
    bookworm) echo docker.io,containerd,runc,iptables,ca-certificates,tini,git,dnsmasq-base ;;
    *) echo docker.io,docker-cli,docker-buildx,containerd,runc,iptables,ca-certificates,tini,git,dnsmasq-base ;;
    esac
}

root_sources() {
    local suite=$1
    echo "deb $DEBIAN_MIRROR $suite main"
    case $suite in
    bookworm | trixie)
        echo "deb $DEBIAN_MIRROR $suite-updates main"
        echo "deb $DEBIAN_SECURITY_MIRROR $suite-security main"
        ;;
    esac
}

# What a root is made from; a change makes the rig build it again.
root_key() {
    local suite=$1
    {
        echo "suite=$suite packages=$(root_packages "$suite") v1"
        root_sources "$suite"
        grep -v '^[[:space:]]*#' "$RIG_LIB_DIR/customize-engine-root.sh"
        cat "$HOST_CA_DIR"/*.crt 2>/dev/null
    } | sha256sum | cut -c1-16
}

root_dir() { echo "$ROOTS_DIR/$1"; }

root_ok() {
    local dir
    dir=$(root_dir "$1")
    [[ -s $dir/$ROOT_MARKER && $(cat "$dir/$ROOT_MARKER") == "$(root_key "$1")" && -x $dir/usr/sbin/dockerd ]]
}

# Unmount whatever a killed bootstrap left mounted under a directory, deepest first.
unmount_below() {
    local dir mnt
    dir=$(realpath -m "$1")
    awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r |
        while read -r mnt; do
            warn "unmounting leftover $mnt"
            umount "$mnt" 2>/dev/null || umount -l "$mnt" || die "cannot unmount $mnt"
        done
}

remove_root() {
    [[ -e $1 ]] || return 0
    unmount_below "$1"
    rm -rf --one-file-system "$1" || die "cannot remove $1"
}

# A root is in use while a rig process runs in it (its dockerd, its registry).
root_in_use() {
    local dir=$1 pid
    for pid in /proc/[0-9]*; do
        [[ $(readlink "$pid/root" 2>/dev/null) == "$dir" ]] && return 0
    done
    return 1
}

ensure_root() {
    local suite=$1 dir key
    dir=$(root_dir "$suite")
    if root_ok "$suite"; then
        log "root $suite: ready ($dir)"
        return 0
    fi
    key=$(root_key "$suite")
    if [[ -e $dir ]]; then
        if [[ -s $dir/$ROOT_MARKER ]]; then
            log "root $suite: made from something else than today's recipe; making it again"
        else
            warn "root $suite: $dir has no marker (a bootstrap was killed?); removing it and making it again"
        fi
        ! root_in_use "$dir" || die "root $suite is out of date but an engine still runs in it: scripts/rig.sh --stop first"
        remove_root "$dir"
    fi
    apt_install_missing mmdebstrap
    mkdir -p "$ROOTS_DIR"
    local partial=$dir.partial log_file=$ROOTS_DIR/$suite.log start attempt=1 sources=()
    mapfile -t sources < <(root_sources "$suite")
    start=$(now)
    log "root $suite: mmdebstrap (packages $(root_packages "$suite"); log $log_file)"
    remove_root "$partial"
    # Mirrors (and this machine's caching proxy) can be caught mid-sync: retry a couple of times.
    until mmdebstrap --mode=root --variant=minbase \
        --include="$(root_packages "$suite")" \
        --aptopt='Acquire::Check-Valid-Until "false"' \
        --aptopt='APT::Install-Recommends "false"' \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --customize-hook="bash '$RIG_LIB_DIR/customize-engine-root.sh' \"\$1\"" \
        "$suite" "$partial" "${sources[@]}" >"$log_file" 2>&1; do
        remove_root "$partial"
        if ((attempt >= 3)); then
            tail -n 30 "$log_file" >&2
            die "mmdebstrap of $suite failed $attempt times (log tail above, full log $log_file)"
        fi
        warn "mmdebstrap of $suite failed (attempt $attempt: $(grep -m1 '^E:' "$log_file" || echo 'see log')); retrying"
        attempt=$((attempt + 1))
        sleep $((attempt * 3))
    done
    [[ -x $partial/usr/sbin/dockerd ]] || die "root $suite: no dockerd after mmdebstrap"
    mv "$partial" "$dir"
    echo "$key" >"$dir/$ROOT_MARKER"
    log "root $suite: made in $(since "$start")s, $(du -sh --one-file-system "$dir" | cut -f1)"
}
