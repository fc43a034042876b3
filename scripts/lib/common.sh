# shellcheck shell=bash
# Shared helpers for scripts/rig.sh: logging, timing, loud failure.
# Sourced, never executed.

# Everything the rig owns lives under these three folders (and its bridges and tagged iptables
# rules, which go away on --stop). Nothing else on the host is written, but the host packages
# listed in RIG_HOST_PACKAGES, installed from the host's own suite when missing.
# shellcheck disable=SC2034 # used by the files that source this one
RIG_STATE_DIR=/run/layercake-rig
RIG_CACHE_DIR=/var/cache/layercake-rig
# shellcheck disable=SC2034
RIG_VAR_DIR=/var/lib/layercake-rig
# The host packages the rig may install (from the host's own Debian suite, never another one):
# mmdebstrap builds the engines' roots and the stand-in images, arch-test lets it bootstrap i386,
# jq reads daemon answers, curl talks to the registry. scripts/host-check.sh holds the rig to this.
RIG_HOST_PACKAGES=(mmdebstrap arch-test jq curl)

log() { printf '[rig] %s\n' "$*"; }
warn() { printf '[rig] WARNING: %s\n' "$*" >&2; }
die() {
    printf '[rig] ERROR: %s\n' "$*" >&2
    exit 1
}

# Any failing command stops the rig and says where; errtrace carries this into functions.
RIG_PART=
on_error() {
    local rc=$1 line=$2 cmd=$3
    printf '[rig] ERROR: %s failed (exit %s) at %s: %s\n' "${RIG_PART:-rig}" "$rc" "$line" "$cmd" >&2
    exit 1
}
set -E
trap 'on_error $? "${BASH_SOURCE[0]##*/}:$LINENO" "$BASH_COMMAND"' ERR

now() { date +%s.%N; }

# Print a duration in seconds with one decimal, from a start stamp taken with `now`.
since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1f", e - s }'; }

# Run one named part of the rig and report how long it took; a failing part stops the rig.
part() {
    local name=$1
    shift
    local start
    start=$(now)
    log "== $name"
    RIG_PART=$name
    "$@"
    RIG_PART=
    local took
    took=$(since "$start")
    log "== $name: done in ${took}s"
    RIG_TIMINGS+=("$(printf '%-28s %6ss' "$name" "$took")")
}

# Wait until a command succeeds, up to a number of seconds; return 1 on timeout.
wait_for() {
    local seconds=$1
    shift
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.3
    done
}

require_root() {
    [[ $(id -u) -eq 0 ]] || die "run as root (the rig builds root file systems and starts daemons)"
}

RIG_APT_LOG=$RIG_CACHE_DIR/apt.log

# apt-get with its chatter in a log file; the tail is shown when it fails.
apt_quiet() {
    local rc=0
    mkdir -p "$(dirname "$RIG_APT_LOG")"
    echo "+ apt-get $*" >>"$RIG_APT_LOG"
    DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get -q "$@" >>"$RIG_APT_LOG" 2>&1 || rc=$?
    ((rc == 0)) || tail -n 20 "$RIG_APT_LOG" >&2
    return "$rc"
}

# apt-get update at most once per rig run, and only when something must be installed.
RIG_APT_UPDATED=
apt_update_once() {
    [[ -n $RIG_APT_UPDATED ]] && return 0
    log "apt-get update (log: $RIG_APT_LOG)"
    apt_quiet update || die "apt-get update failed"
    RIG_APT_UPDATED=1
}

# Install host packages that are missing (no-op when all are present): only the documented
# RIG_HOST_PACKAGES, only from the host's own sources (no -t, no other suite's sources list).
apt_install_missing() {
    local missing=() pkg
    for pkg in "$@"; do
        [[ " ${RIG_HOST_PACKAGES[*]} " == *" $pkg "* ]] || die "internal: $pkg is not in RIG_HOST_PACKAGES"
        dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) && return 0
    apt_update_once
    log "apt-get install ${missing[*]}"
    apt_quiet install -y --no-install-recommends "${missing[@]}" || die "apt-get install ${missing[*]} failed"
}
