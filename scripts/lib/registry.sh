# shellcheck shell=bash
# A local, plain-http registry on 127.0.0.1:5000: the host suite's docker-registry package,
# unpacked (`apt-get download` + `dpkg-deb -x`, nothing installed) under the rig's folder, with
# our own config. Sourced by scripts/rig.sh.

REGISTRY_ADDR=127.0.0.1:5000
REGISTRY_DIR=$RIG_VAR_DIR/registry
REGISTRY_ROOT=$REGISTRY_DIR/data
REGISTRY_CONFIG=$REGISTRY_DIR/config.yml
REGISTRY_LOG=$REGISTRY_DIR/registry.log
REGISTRY_BIN=$REGISTRY_DIR/pkg/usr/bin/docker-registry

registry_answers() { curl -fsS --max-time 2 "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1; }

write_registry_config() {
    mkdir -p "$(dirname "$REGISTRY_CONFIG")" "$REGISTRY_ROOT"
    # The package's own config listens on every address with htpasswd auth; tests want neither.
    cat >"$REGISTRY_CONFIG.new" <<CFG
# Written by layercake scripts/rig.sh.
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REGISTRY_ROOT
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $REGISTRY_ADDR
CFG
    mv "$REGISTRY_CONFIG.new" "$REGISTRY_CONFIG"
}

unpack_registry() {
    [[ -x $REGISTRY_BIN ]] && return 0
    local debs=$REGISTRY_DIR/debs
    rm -rf "$debs" "$REGISTRY_DIR/pkg"
    mkdir -p "$debs"
    log "registry: apt-get download docker-registry (host suite) into $debs"
    if ! (cd "$debs" && apt-get download -q docker-registry >>"$RIG_APT_LOG" 2>&1); then
        apt_update_once
        (cd "$debs" && apt-get download -q docker-registry >>"$RIG_APT_LOG" 2>&1) \
            || die "apt-get download docker-registry failed (log $RIG_APT_LOG)"
    fi
    rm -rf "$REGISTRY_DIR/pkg.partial"
    dpkg-deb -x "$debs"/docker-registry_*.deb "$REGISTRY_DIR/pkg.partial"
    mv "$REGISTRY_DIR/pkg.partial" "$REGISTRY_DIR/pkg"
    [[ -x $REGISTRY_BIN ]] || die "no docker-registry binary in the unpacked package"
}

ensure_registry() {
    if registry_answers; then
        log "registry: already answering on $REGISTRY_ADDR"
        return 0
    fi
    unpack_registry
    write_registry_config
    mkdir -p "$RIG_STATE_DIR"
    : >>"$REGISTRY_LOG"
    log "starting docker-registry on $REGISTRY_ADDR (data: $REGISTRY_ROOT, log: $REGISTRY_LOG)"
    setsid nohup "$REGISTRY_BIN" serve "$REGISTRY_CONFIG" >>"$REGISTRY_LOG" 2>&1 </dev/null &
    echo $! >"$RIG_STATE_DIR/registry.pid"
    if ! wait_for 30 registry_answers; then
        tail -n 30 "$REGISTRY_LOG" >&2
        die "the registry did not answer on $REGISTRY_ADDR within 30s (log tail above)"
    fi
}

stop_registry() {
    local pidfile=$RIG_STATE_DIR/registry.pid pid
    if [[ ! -s $pidfile ]]; then
        log "registry: not running (not started by the rig)"
        return 0
    fi
    pid=$(cat "$pidfile")
    # The pid may have been reused since: only signal the process the rig started.
    if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$REGISTRY_CONFIG"; then
        log "stopping docker-registry (pid $pid)"
        kill -TERM "$pid"
        wait_for 15 bash -c "! kill -0 $pid" || die "docker-registry (pid $pid) did not stop within 15s"
    fi
    rm -f "$pidfile"
}
