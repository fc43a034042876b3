# shellcheck shell=bash
# The engine: a Docker daemon with BuildKit >= 0.12 and the containerd image store.
# Sourced by scripts/rig.sh.

DOCKERD_LOG=/var/log/layercake-dockerd.log
DAEMON_JSON=/etc/docker/daemon.json
TRIXIE_SOURCES=/etc/apt/sources.list.d/layercake-trixie.sources
TRIXIE_PIN=/etc/apt/preferences.d/layercake-trixie
MIN_DOCKER_MAJOR=24

# Major version of a "Docker version 26.1.5+dfsg1, build ..." style string (0 when unknown).
docker_major() { sed -n 's/^[^0-9]*\([0-9][0-9]*\)\..*/\1/p' <<<"$1" | head -n1 | grep . || echo 0; }

engine_answers() { docker info >/dev/null 2>&1; }

# Why the running engine is not good enough, or nothing when it is.
engine_shortcomings() {
    local server driver_status
    server=$(docker version --format '{{.Server.Version}}' 2>/dev/null)
    if (($(docker_major "$server") < MIN_DOCKER_MAJOR)); then
        echo "server version '$server' is older than $MIN_DOCKER_MAJOR (its BuildKit is too old)"
    fi
    docker buildx version >/dev/null 2>&1 || echo "docker buildx is missing"
    driver_status=$(docker info --format '{{json .DriverStatus}}' 2>/dev/null)
    grep -q 'io.containerd.snapshotter' <<<"$driver_status" \
        || echo "the containerd image store is off (registry cache export needs it)"
}

dockerd_installed_ok() {
    command -v dockerd >/dev/null 2>&1 || return 1
    (($(docker_major "$(dockerd --version 2>/dev/null)") >= MIN_DOCKER_MAJOR)) || return 1
    [[ -x /usr/libexec/docker/cli-plugins/docker-buildx || -x /usr/lib/docker/cli-plugins/docker-buildx ]]
}

# Docker 26.1 + buildx + containerd from trixie, pinned low so nothing else follows.
install_engine() {
    log "installing Docker from Debian trixie (pinned to priority 100)"
    cat >"$TRIXIE_SOURCES" <<'SRC'
# Written by layercake scripts/rig.sh: Docker 26.x for the test engine.
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    cat >"$TRIXIE_PIN" <<'PIN'
# Written by layercake scripts/rig.sh: only what is asked for with -t trixie comes from trixie.
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
    RIG_APT_UPDATED=
    apt_update_once
    log "apt-get install -t trixie docker.io docker-buildx containerd"
    apt_quiet install -y -t trixie docker.io docker-buildx containerd \
        || die "installing docker.io docker-buildx containerd from trixie failed"
}

# Merge the containerd-snapshotter feature into daemon.json, keeping other settings.
configure_daemon() {
    mkdir -p "$(dirname "$DAEMON_JSON")"
    local current='{}'
    if [[ -s $DAEMON_JSON ]]; then
        current=$(cat "$DAEMON_JSON")
        jq -e 'type == "object"' <<<"$current" >/dev/null 2>&1 || die "$DAEMON_JSON is not a JSON object; fix it by hand"
    fi
    local merged
    merged=$(jq -S '.features["containerd-snapshotter"] = true' <<<"$current") || die "cannot merge $DAEMON_JSON"
    if [[ $merged != "$(jq -S . <<<"$current")" || ! -s $DAEMON_JSON ]]; then
        log "writing $DAEMON_JSON (containerd image store on)"
        printf '%s\n' "$merged" >"$DAEMON_JSON"
    fi
}

start_dockerd() {
    log "starting dockerd (log: $DOCKERD_LOG)"
    mkdir -p "$RIG_STATE_DIR"
    : >>"$DOCKERD_LOG"
    # setsid + nohup: the daemon must outlive this script and its terminal.
    setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
    echo $! >"$RIG_STATE_DIR/dockerd.pid"
    if ! wait_for 60 docker info; then
        tail -n 30 "$DOCKERD_LOG" >&2
        die "dockerd did not answer within 60s (log tail above, full log $DOCKERD_LOG)"
    fi
}

ensure_engine() {
    if engine_answers; then
        local problems
        problems=$(engine_shortcomings)
        if [[ -z $problems ]]; then
            log "engine: $(docker version --format 'Docker {{.Server.Version}}') already running with buildx and the containerd image store"
            return 0
        fi
        die "a Docker engine answers but is not usable: ${problems//$'\n'/; }. Stop it (or fix it) and run the rig again."
    fi
    if dockerd_installed_ok; then
        log "engine: dockerd $(docker_major "$(dockerd --version)").x installed, not running"
    else
        install_engine
    fi
    apt_install_missing jq
    configure_daemon
    start_dockerd
    local problems
    problems=$(engine_shortcomings)
    [[ -z $problems ]] || die "the engine started but is not usable: ${problems//$'\n'/; }"
    log "engine: $(docker version --format 'Docker {{.Server.Version}}') up, buildx $(docker buildx version | awk '{print $2}')"
}

stop_engine() {
    local pidfile=$RIG_STATE_DIR/dockerd.pid pid
    if [[ ! -s $pidfile ]]; then
        log "dockerd: not started by the rig, leaving it alone"
        return 0
    fi
    pid=$(cat "$pidfile")
    # The pid may have been reused since: only signal the process the rig started.
    if kill -0 "$pid" 2>/dev/null && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == dockerd ]]; then
        log "stopping dockerd (pid $pid)"
        kill -TERM "$pid"
        wait_for 30 bash -c "! kill -0 $pid" || die "dockerd (pid $pid) did not stop within 30s"
    fi
    rm -f "$pidfile"
}
