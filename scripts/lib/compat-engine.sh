# shellcheck shell=bash
# A second, older Docker engine (bookworm's docker.io 20.10, BuildKit v0.8) next to the main one,
# for scripts/compat.sh. Sourced, never executed.
#
# Everything is its own: binaries unpacked from .debs (nothing installed over the main engine),
# --data-root, --exec-root, --pidfile, a unix socket, and a bridge of its own. Never
# `--bridge=none` (it deletes the host's docker0). dockerd's own iptables handling is off so the
# main engine's DOCKER chains are never touched; a few rules of our own, tagged with a comment,
# give the bridge NAT and forwarding, and go away on stop.

COMPAT_DIR=${COMPAT_DIR:-/var/lib/layercake-compat}
COMPAT_RUN=${COMPAT_RUN:-/run/layercake-compat}
COMPAT_SOCK=$COMPAT_RUN/docker.sock
COMPAT_HOST=unix://$COMPAT_SOCK
COMPAT_BRIDGE=lcompat0
COMPAT_SUBNET=172.31.250.0/24
COMPAT_GATEWAY=172.31.250.1/24
COMPAT_DOCKER_VERSION=${COMPAT_DOCKER_VERSION:-20.10.24+dfsg1-1+deb12u1+b6}
COMPAT_CONTAINERD_VERSION=${COMPAT_CONTAINERD_VERSION:-1.6.20~ds1-1+deb12u3}
COMPAT_LOG=$COMPAT_DIR/dockerd.log
COMPAT_TAG="layercake-compat"

clog() { printf '[compat] %s\n' "$*" >&2; }
cdie() {
    printf '[compat] ERROR: %s\n' "$*" >&2
    exit 1
}

# docker CLI against the old engine.
cdocker() { DOCKER_HOST=$COMPAT_HOST docker "$@"; }

compat_unpack() {
    local root=$COMPAT_DIR/root
    if [[ -x $root/usr/sbin/dockerd && -x $root/usr/bin/containerd ]]; then
        return 0
    fi
    mkdir -p "$COMPAT_DIR/debs" "$root"
    clog "downloading docker.io $COMPAT_DOCKER_VERSION and containerd $COMPAT_CONTAINERD_VERSION"
    (cd "$COMPAT_DIR/debs" && apt-get download -q \
        "docker.io=$COMPAT_DOCKER_VERSION" "containerd=$COMPAT_CONTAINERD_VERSION" >&2)
    local deb
    for deb in "$COMPAT_DIR"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done
    [[ -x $root/usr/sbin/dockerd ]] || cdie "no dockerd in the unpacked docker.io"
}

compat_bridge_up() {
    if ! ip link show "$COMPAT_BRIDGE" >/dev/null 2>&1; then
        ip link add "$COMPAT_BRIDGE" type bridge
        ip addr add "$COMPAT_GATEWAY" dev "$COMPAT_BRIDGE"
    fi
    ip link set "$COMPAT_BRIDGE" up
    compat_rule -t nat POSTROUTING -s "$COMPAT_SUBNET" ! -o "$COMPAT_BRIDGE" -j MASQUERADE
    compat_rule FORWARD -i "$COMPAT_BRIDGE" -j ACCEPT
    compat_rule FORWARD -o "$COMPAT_BRIDGE" -j ACCEPT
}

# Insert a rule (tagged) unless it is there already.
compat_rule() {
    local table=(-t filter)
    if [[ $1 == -t ]]; then
        table=(-t "$2")
        shift 2
    fi
    local chain=$1
    shift
    iptables "${table[@]}" -C "$chain" "$@" -m comment --comment "$COMPAT_TAG" 2>/dev/null ||
        iptables "${table[@]}" -I "$chain" 1 "$@" -m comment --comment "$COMPAT_TAG"
}

compat_bridge_down() {
    local table rule
    for table in filter nat; do
        # Delete only the rules carrying our tag, one by one, as iptables -S prints them.
        while read -r rule; do
            eval "iptables -t $table ${rule/-A/-D}"
        done < <(iptables -t "$table" -S | grep -- "--comment $COMPAT_TAG" || true)
    done
    if ip link show "$COMPAT_BRIDGE" >/dev/null 2>&1; then ip link del "$COMPAT_BRIDGE"; fi
}

compat_running() { [[ -S $COMPAT_SOCK ]] && cdocker version >/dev/null 2>&1; }

compat_start() {
    compat_running && return 0
    compat_unpack
    compat_bridge_up
    mkdir -p "$COMPAT_RUN" "$COMPAT_DIR/data" "$COMPAT_DIR/exec"
    # An empty config of its own: never /etc/docker/daemon.json, which is the main engine's.
    echo '{}' >"$COMPAT_DIR/daemon.json"
    clog "starting dockerd 20.10 (log: $COMPAT_LOG)"
    # Its own containerd (bookworm's 1.6) is found first on PATH; runc is the host's.
    PATH=$COMPAT_DIR/root/usr/bin:$COMPAT_DIR/root/usr/sbin:$PATH setsid nohup \
        "$COMPAT_DIR/root/usr/sbin/dockerd" \
        --data-root "$COMPAT_DIR/data" \
        --exec-root "$COMPAT_DIR/exec" \
        --pidfile "$COMPAT_RUN/dockerd.pid" \
        -H "$COMPAT_HOST" \
        --bridge "$COMPAT_BRIDGE" \
        --iptables=false --ip-masq=false --ip-forward=false \
        --config-file "$COMPAT_DIR/daemon.json" \
        >>"$COMPAT_LOG" 2>&1 </dev/null &
    local deadline=$((SECONDS + 60))
    until compat_running; do
        ((SECONDS < deadline)) || {
            tail -n 20 "$COMPAT_LOG" >&2
            cdie "dockerd 20.10 did not answer within 60s"
        }
        sleep 0.5
    done
    clog "up: $(cdocker version --format '{{.Server.Version}}')"
}

compat_stop() {
    local pid
    if [[ -f $COMPAT_RUN/dockerd.pid ]]; then
        pid=$(cat "$COMPAT_RUN/dockerd.pid")
        # Only a dockerd started with our data root: never the main engine.
        if grep -q -- "$COMPAT_DIR/data" "/proc/$pid/cmdline" 2>/dev/null; then
            kill "$pid"
            local deadline=$((SECONDS + 30))
            while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
        fi
    fi
    compat_bridge_down
}

# Copy an image from the main engine into the old one under another name: single-platform
# variants only (20.10's `docker load` has no notion of an index). A third argument copies
# even when the name exists (the frontend under test changes between runs).
compat_copy_image() {
    local from=$1 to=$2 always=${3:-}
    if [[ -z $always ]] && cdocker image inspect "$to" >/dev/null 2>&1; then return 0; fi
    clog "loading $from as $to"
    docker save "$from" | cdocker load -q >&2
    [[ $from == "$to" ]] || cdocker tag "$from" "$to"
}
