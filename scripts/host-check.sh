#!/bin/bash
# The rig leaves the host's packages alone: record the host's packages (dpkg), its apt sources
# and pins and its release before and after `scripts/rig.sh ARGS…`, and fail on any change but
# new packages the rig documents (RIG_HOST_PACKAGES in scripts/lib/common.sh), each at a
# version the host's own suite ships.
#
#   scripts/host-check.sh [RIG ARGS…]   run the rig between the two records (make test does)
#   scripts/host-check.sh --self-test   prove the comparison fails on the changes it must catch
#
# From nothing (a fresh machine) this checks everything `make rig` installs; on a machine where
# the rig already ran, it checks that a second run changes nothing, and says which of the two
# it was.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/lib" && pwd)
# shellcheck source=lib/common.sh
source "$LIB_DIR/common.sh"
trap - ERR

hlog() { printf '[host-check] %s\n' "$*" >&2; }

# One line per package: name:arch version status.
packages() { dpkg-query -W -f '${Package}:${Architecture} ${Version} ${db:Status-Abbrev}\n' | sort; }

# Files that decide where packages come from, and what the host says it is.
apt_setup() {
    local f
    for f in /etc/os-release /etc/debian_version /etc/apt/sources.list /etc/apt/sources.list.d/* \
        /etc/apt/preferences /etc/apt/preferences.d/*; do
        [[ -e $f ]] && printf '%s %s\n' "$(sha256sum <"$f" | cut -c1-16)" "$f"
    done
    return 0
}

host_codename() { . /etc/os-release && echo "${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}"; }

# Does the host's own suite (CODENAME, -updates, -security) ship PACKAGE at VERSION?
# Reads `apt-cache madison` output on stdin.
from_own_suite() {
    local version=$1 codename=$2
    awk -F' [|] ' -v v="$version" -v c="$codename" '
        { gsub(/^ +| +$/, "", $2) }
        $2 == v {
            n = split($3, w, " ")
            for (i = 1; i <= n; i++) if (w[i] ~ "^" c "(-updates|-security)?/") ok = 1
        }
        END { exit ok ? 0 : 1 }'
}

# Compare two package records: BEFORE AFTER (files). MADISON_CMD gives each new package's
# apt-cache madison lines (a function, so the self-test can feed its own). Prints every problem;
# returns 1 when there is one.
compare() {
    local before=$1 after=$2 codename=$3 bad=0 line name version
    # Removed, or changed (version or state): never allowed.
    while IFS= read -r line; do
        name=${line%% *}
        if grep -q "^$name " "$after"; then
            echo "changed: $line -> $(grep "^$name " "$after")"
        else
            echo "removed: $line"
        fi
        bad=1
    done < <(comm -23 "$before" "$after")
    # New: only the documented packages, only from the host's own suite.
    while IFS= read -r line; do
        grep -q "^${line%% *} " "$before" && continue # a change, reported above
        name=${line%% *}
        name=${name%%:*}
        version=$(cut -d' ' -f2 <<<"$line")
        if [[ " ${RIG_HOST_PACKAGES[*]} " != *" $name "* ]]; then
            echo "installed, not a package the rig documents: $line"
            bad=1
        elif ! "$MADISON_CMD" "$name" | from_own_suite "$version" "$codename"; then
            echo "installed, but not at a version of $codename's own suites: $line"
            bad=1
        fi
    done < <(comm -13 "$before" "$after")
    return "$bad"
}

real_madison() { apt-cache madison "$1" 2>/dev/null; }

self_test() {
    local dir rc
    dir=$(mktemp -d)
    # shellcheck disable=SC2064
    trap "rm -rf '$dir'" RETURN
    printf '%s\n' 'base-files:amd64 12.4+deb12u11 ii' 'jq:amd64 1.6-2.1+deb12u1 ii' 'libc6:amd64 2.36-9+deb12u10 ii' | sort >"$dir/before"
    fake_madison() {
        case $1 in
        mmdebstrap) echo 'mmdebstrap | 1.3.5-7 | http://deb.debian.org/debian bookworm/main amd64 Packages' ;;
        docker.io) echo 'docker.io | 26.1.5+dfsg1-9 | http://deb.debian.org/debian trixie/main amd64 Packages' ;;
        esac
    }
    MADISON_CMD=fake_madison
    expect() { # WANT(0|1) NAME, the after-record on stdin
        local want=$1 name=$2
        sort >"$dir/after"
        rc=0
        compare "$dir/before" "$dir/after" bookworm >"$dir/out" || rc=$?
        if ((rc != want)); then
            cat "$dir/out" >&2
            die "self-test '$name': compare returned $rc, expected $want"
        fi
        hlog "self-test ok: $name"
    }
    cat "$dir/before" | expect 0 "nothing changed"
    { cat "$dir/before"; echo 'mmdebstrap:all 1.3.5-7 ii'; } | expect 0 "mmdebstrap from bookworm"
    { cat "$dir/before"; echo 'mmdebstrap:all 1.5.7-1 ii'; } | expect 1 "mmdebstrap at a version bookworm lacks"
    { cat "$dir/before"; echo 'docker.io:amd64 26.1.5+dfsg1-9 ii'; } | expect 1 "docker.io (not documented, from trixie)"
    sed 's/^libc6:amd64 .*/libc6:amd64 2.41-12 ii/' "$dir/before" | expect 1 "libc6 upgraded"
    grep -v '^jq:' "$dir/before" | expect 1 "jq removed"
    sed 's/^jq:amd64 \(.*\) ii$/jq:amd64 \1 rc/' "$dir/before" | expect 1 "jq removed, config kept"
    hlog "self-test: the comparison catches upgrades, removals, foreign suites and undocumented packages"
}

main() {
    if [[ ${1:-} == --self-test ]]; then
        self_test
        return
    fi
    require_root
    local dir codename rc=0 fresh=
    dir=$RIG_CACHE_DIR/host-check
    mkdir -p "$dir"
    codename=$(host_codename)
    packages >"$dir/packages.before"
    apt_setup >"$dir/apt.before"
    [[ -s $RIG_STATE_DIR/main/READY ]] || fresh=1
    hlog "recorded $(wc -l <"$dir/packages.before") packages of $codename; running scripts/rig.sh $*"
    bash "$LIB_DIR/../rig.sh" "$@"
    packages >"$dir/packages.after"
    apt_setup >"$dir/apt.after"
    MADISON_CMD=real_madison
    compare "$dir/packages.before" "$dir/packages.after" "$codename" >"$dir/problems" || rc=1
    if ! diff -u "$dir/apt.before" "$dir/apt.after" >>"$dir/problems"; then
        echo "apt sources, pins or the release files changed (diff above)" >>"$dir/problems"
        rc=1
    fi
    if ((rc != 0)); then
        sed 's/^/[host-check] FAIL: /' "$dir/problems" >&2
        die "the rig changed the host's packages (records in $dir)"
    fi
    local added
    added=$(comm -13 "$dir/packages.before" "$dir/packages.after" | cut -d' ' -f1,2 | tr '\n' ' ')
    hlog "ok: ${added:-no package} added, nothing else changed$([[ -n $fresh ]] && echo ' (the rig was not up before)' || echo ' (the rig was up already: a second run)')"
}

main "$@"
