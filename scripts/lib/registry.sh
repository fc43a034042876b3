# shellcheck shell=bash
# A local, plain-http registry on 127.0.0.1:5000 (Debian's docker-registry, our own config).
# Sourced by scripts/rig.sh.

REGISTRY_ADDR=127.0.0.1:5000
REGISTRY_ROOT=/var/lib/layercake-registry
REGISTRY_CONFIG=/etc/layercake-rig/registry.yml
REGISTRY_LOG=/var/log/layercake-registry.log

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

ensure_registry() {
    if registry_answers; then
        log "registry: already answering on $REGISTRY_ADDR"
        return 0
    fi
    apt_install_missing docker-registry
    write_registry_config
    mkdir -p "$RIG_STATE_DIR"
    : >>"$REGISTRY_LOG"
    log "starting docker-registry on $REGISTRY_ADDR (data: $REGISTRY_ROOT, log: $REGISTRY_LOG)"
    setsid nohup docker-registry serve "$REGISTRY_CONFIG" >>"$REGISTRY_LOG" 2>&1 </dev/null &
    echo $! >"$RIG_STATE_DIR/registry.pid"
    if ! wait_for 30 registry_answers; then
        tail -n 30 "$REGISTRY_LOG" >&2
        die "the registry did not answer on $REGISTRY_ADDR within 30s (log tail above)"
    fi
}

stop_registry() {
    local pidfile=$RIG_STATE_DIR/registry.pid pid
    if [[ ! -s $pidfile ]]; then
        log "registry: not started by the rig, leaving it alone"
        return 0
    fi
    pid=$(cat "$pidfile")
    # The pid may have been reused since: only signal the process the rig started.
    if kill -0 "$pid" 2>/dev/null && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == docker-registry ]]; then
        log "stopping docker-registry (pid $pid)"
        kill -TERM "$pid"
        wait_for 15 bash -c "! kill -0 $pid" || die "docker-registry (pid $pid) did not stop within 15s"
    fi
    rm -f "$pidfile"
}
