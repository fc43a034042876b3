# shellcheck shell=bash
# The rig's engines: Docker daemons that run from roots of their own (scripts/lib/roots.sh), in
# a private mount namespace (scripts/lib/engine-ns.sh), each with its own data root, exec root,
# socket, bridge, cgroup parent and tagged iptables rules. Nothing of the host's Docker (if any)
# is read or touched. Sourced by scripts/rig.sh and scripts/compat.sh.
#
#   main      Debian forky: Docker 28.5, BuildKit v0.25 line, buildx 0.29  (the test engine)
#   trixie    Debian trixie: Docker 26.1, BuildKit 0.13, buildx 0.13       (compatibility)
#   bookworm  Debian bookworm: Docker 20.10, BuildKit 0.8 (client: forky's buildx)  (compatibility)
#
# The contract with clients: $RIG_STATE_DIR/NAME/env holds the lines a client needs
# (DOCKER_HOST, DOCKER_CONFIG, …); scripts/lib/env.sh and `scripts/rig.sh --env` read it.

RIG_ENGINES=(main trixie bookworm)

# Set E_* for one engine.
engine_vars() {
    E_NAME=$1
    case $E_NAME in
    main) E_SUITE=forky E_NET=251 ;;
    trixie) E_SUITE=trixie E_NET=252 ;;
    bookworm) E_SUITE=bookworm E_NET=250 ;;
    *) die "no engine called '$E_NAME' (engines: ${RIG_ENGINES[*]})" ;;
    esac
    E_ROOT=$ROOTS_DIR/$E_SUITE
    E_DIR=$RIG_VAR_DIR/engines/$E_NAME
    E_RUN=$RIG_STATE_DIR/$E_NAME
    E_SOCK=$E_RUN/docker.sock
    E_PIDFILE=$E_RUN/dockerd.pid
    E_CONFIG=$E_DIR/daemon.json
    E_CLIENT=$E_DIR/client
    E_LOG=$E_DIR/dockerd.log
    E_ENV=$E_RUN/env
    E_BRIDGE=lcrig-$E_NAME
    E_SUBNET=172.31.$E_NET.0/24
    E_GATEWAY=172.31.$E_NET.1/24
    E_TAG=layercake-rig-$E_NAME
    E_CGROUP=layercake-rig-$E_NAME
    E_DNS=172.31.$E_NET.1
    E_DNS_PID=$E_RUN/dnsmasq.pid
    E_RESOLV=$E_RUN/resolv.conf
}

# Build steps and containers sit on the engine's bridge and resolve names through it. A burst of
# parallel lookups straight to the host's resolver (7 wheel steps starting at once) loses
# answers ("Temporary failure in name resolution", measured here with 8 parallel containers: 40
# to 100 % of 144 lookups each), so each engine gets a caching forwarder of its own: the root's
# dnsmasq, in the host's network namespace, listening only on the bridge address, forwarding to
# the host's resolvers. The engine's /etc/resolv.conf names it (engine-ns.sh binds E_RESOLV).
# (The pid file may outlive its process, as after a reboot: only a dnsmasq counts.)
engine_dns_alive() {
    [[ -s $E_DNS_PID ]] && [[ $(cat "/proc/$(cat "$E_DNS_PID")/comm" 2>/dev/null) == dnsmasq ]]
}

engine_dns_up() {
    engine_dns_alive && return 0
    local servers=() ns
    while read -r ns; do
        servers+=("--server=$ns")
    done < <(awk '$1 == "nameserver" { print $2 }' /etc/resolv.conf)
    ((${#servers[@]})) || die "no nameserver in /etc/resolv.conf for the engine's DNS forwarder"
    mkdir -p "$E_RUN"
    printf 'nameserver %s\n' "$E_DNS" >"$E_RESOLV"
    setsid nohup chroot "$E_ROOT" /usr/sbin/dnsmasq --keep-in-foreground --conf-file=/dev/null \
        --listen-address="$E_DNS" --bind-interfaces --no-resolv --no-hosts --cache-size=2000 \
        --dns-forward-max=300 --log-facility=- "${servers[@]}" >>"$E_DIR/dnsmasq.log" 2>&1 </dev/null &
    echo $! >"$E_DNS_PID"
    wait_for 10 engine_dns_alive || die "engine $E_NAME: its DNS forwarder did not start (log $E_DIR/dnsmasq.log)"
}

engine_dns_down() {
    if engine_dns_alive; then
        local pid
        pid=$(cat "$E_DNS_PID")
        kill -TERM "$pid" 2>/dev/null || true
        wait_for 5 bash -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$E_DNS_PID" "$E_RESOLV"
}

# docker CLI against one engine (engine_vars first).
edocker() { DOCKER_HOST=unix://$E_SOCK DOCKER_CONFIG=$E_CLIENT docker "$@"; }

# The pid of this engine's dockerd, when it runs (checked by its command line, never by name).
engine_pid() {
    local pid
    [[ -s $E_PIDFILE ]] || return 1
    pid=$(cat "$E_PIDFILE")
    [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--config-file $E_CONFIG" || return 1
    echo "$pid"
}

engine_answers() { [[ -S $E_SOCK ]] && edocker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# iptables of the engine's root (the host may have no iptables at all); rules carry E_TAG.
eiptables() { chroot "$E_ROOT" iptables -w 5 "$@"; }

engine_rule() {
    local table=(-t filter)
    if [[ $1 == -t ]]; then
        table=(-t "$2")
        shift 2
    fi
    local chain=$1
    shift
    eiptables "${table[@]}" -C "$chain" "$@" -m comment --comment "$E_TAG" 2>/dev/null ||
        eiptables "${table[@]}" -I "$chain" 1 "$@" -m comment --comment "$E_TAG"
}

# Remove every rule tagged E_TAG, one by one, as `iptables -S` prints them.
engine_rules_down() {
    # (The root's iptables is an absolute symlink into its own /etc/alternatives: -L, not -x.)
    [[ -L $E_ROOT/usr/sbin/iptables || -e $E_ROOT/usr/sbin/iptables ]] || return 0
    local table rule
    for table in filter nat; do
        while read -r rule; do
            local args
            read -ra args <<<"${rule/-A /-D }"
            # -S quotes the comment; it is a single word, so the quotes just go.
            args=("${args[@]//\"/}")
            eiptables -t "$table" "${args[@]}"
        done < <(eiptables -t "$table" -S 2>/dev/null | grep -F -- "--comment $E_TAG" || true)
        ! eiptables -t "$table" -S 2>/dev/null | grep -qF -- "--comment $E_TAG" ||
            die "iptables rules tagged $E_TAG are still in table $table after removing them"
    done
}

engine_bridge_up() {
    if ! ip link show "$E_BRIDGE" >/dev/null 2>&1; then
        ip link add "$E_BRIDGE" type bridge
        ip addr add "$E_GATEWAY" dev "$E_BRIDGE"
    fi
    ip link set "$E_BRIDGE" up
    forwarding_on
    # NAT and forwarding for the bridge (dockerd's own iptables handling is off, so the host's
    # chains stay as they are).
    engine_rule -t nat POSTROUTING -s "$E_SUBNET" ! -o "$E_BRIDGE" -j MASQUERADE
    engine_rule FORWARD -i "$E_BRIDGE" -j ACCEPT
    engine_rule FORWARD -o "$E_BRIDGE" -j ACCEPT
}

# BuildKit's RUN steps (and `docker run`) sit on the engine's bridge, so reaching a package
# index needs IPv4 forwarding. When the host has it off, the rig turns it on while one of its
# engines runs, remembers that in $RIG_STATE_DIR/ip_forward.before, and turns it back off when
# the last one stops: the one host setting the rig changes, and only for as long as it runs.
IP_FORWARD=/proc/sys/net/ipv4/ip_forward
IP_FORWARD_BEFORE=$RIG_STATE_DIR/ip_forward.before
forwarding_on() {
    [[ $(cat "$IP_FORWARD") == 1 ]] && return 0
    mkdir -p "$RIG_STATE_DIR"
    [[ -s $IP_FORWARD_BEFORE ]] || cat "$IP_FORWARD" >"$IP_FORWARD_BEFORE"
    log "net.ipv4.ip_forward: 0 -> 1 while the rig's engines run (back to 0 on --stop)"
    echo 1 >"$IP_FORWARD"
}

forwarding_restore() {
    [[ -s $IP_FORWARD_BEFORE ]] || return 0
    local name
    for name in "${RIG_ENGINES[@]}"; do
        ip link show "lcrig-$name" >/dev/null 2>&1 && return 0
    done
    log "net.ipv4.ip_forward: back to $(cat "$IP_FORWARD_BEFORE")"
    cat "$IP_FORWARD_BEFORE" >"$IP_FORWARD"
    rm -f "$IP_FORWARD_BEFORE"
}

engine_bridge_down() {
    engine_rules_down
    if ip link show "$E_BRIDGE" >/dev/null 2>&1; then ip link del "$E_BRIDGE"; fi
    forwarding_restore
}

# Remove the engine's cgroup parent in every hierarchy (v1 and v2), deepest first.
engine_cgroups_down() {
    local dir
    for dir in /sys/fs/cgroup/"$E_CGROUP" /sys/fs/cgroup/*/"$E_CGROUP"; do
        [[ -d $dir ]] || continue
        find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
        [[ ! -d $dir ]] || warn "cgroup $dir is still there (a process in it?)"
    done
}

write_daemon_json() {
    mkdir -p "$E_DIR/data" "$E_RUN"
    local extra=''
    # 20.10 knows neither the containerd image store nor ip6tables outside experimental.
    if [[ $E_SUITE != bookworm ]]; then
        extra='"features": {"containerd-snapshotter": true}, "ip6tables": false,'
    fi
    # A registry mirror of Docker Hub for the official images (scripts/lib/images.sh tries them
    # before making stand-ins). The rig reads no daemon.json of yours: name it here.
    if [[ -n ${LAYERCAKE_REGISTRY_MIRROR:-} ]]; then
        [[ $LAYERCAKE_REGISTRY_MIRROR =~ ^https?://[A-Za-z0-9.:/_-]+$ ]] ||
            die "LAYERCAKE_REGISTRY_MIRROR must be an http(s) URL, got '$LAYERCAKE_REGISTRY_MIRROR'"
        extra+=" \"registry-mirrors\": [\"$LAYERCAKE_REGISTRY_MIRROR\"],"
    fi
    cat >"$E_CONFIG.new" <<JSON
{
  "data-root": "$E_DIR/data",
  "exec-root": "$E_RUN/exec",
  "pidfile": "$E_PIDFILE",
  "hosts": ["unix://$E_SOCK"],
  "group": "root",
  "bridge": "$E_BRIDGE",
  "iptables": false,
  "ip-masq": false,
  "ip-forward": false,
  $extra
  "insecure-registries": ["127.0.0.1:5000"],
  "cgroup-parent": "/$E_CGROUP",
  "log-level": "warn"
}
JSON
    mv "$E_CONFIG.new" "$E_CONFIG"
}

# The client side: a DOCKER_CONFIG whose cli-plugins hold the engine's buildx (forky's for the
# bookworm engine, which has none). The host's docker CLI is the client.
write_client() {
    local plugin=$E_ROOT/usr/libexec/docker/cli-plugins/docker-buildx
    [[ $E_SUITE != bookworm ]] || plugin=$ROOTS_DIR/forky/usr/libexec/docker/cli-plugins/docker-buildx
    [[ -x $plugin ]] || die "no buildx plugin at $plugin"
    mkdir -p "$E_CLIENT/cli-plugins"
    cmp -s "$plugin" "$E_CLIENT/cli-plugins/docker-buildx" || install -m 0755 "$plugin" "$E_CLIENT/cli-plugins/docker-buildx"
    [[ -s $E_CLIENT/config.json ]] || echo '{}' >"$E_CLIENT/config.json"
}

write_env_file() {
    local server buildx
    server=$(edocker version --format '{{.Server.Version}}')
    buildx=$(edocker buildx version | awk '{print $2}')
    cat >"$E_ENV.new" <<ENV
DOCKER_HOST=unix://$E_SOCK
DOCKER_CONFIG=$E_CLIENT
LAYERCAKE_RIG_ENGINE=$E_NAME
LAYERCAKE_RIG_DOCKER_VERSION=$server
LAYERCAKE_RIG_BUILDX_VERSION=$buildx
ENV
    mv "$E_ENV.new" "$E_ENV"
}

# The docker CLI is the client of every engine; the rig does not install one.
require_docker_cli() {
    command -v docker >/dev/null 2>&1 && return 0
    # The root's CLI (same suite as the engine) is the fallback client.
    [[ -x $ROOTS_DIR/forky/usr/bin/docker ]] || die "no docker CLI on PATH and no forky root yet"
    mkdir -p "$RIG_VAR_DIR/bin"
    ln -sf "$ROOTS_DIR/forky/usr/bin/docker" "$RIG_VAR_DIR/bin/docker"
    export PATH=$RIG_VAR_DIR/bin:$PATH
    warn "no docker CLI on PATH: using the forky root's ($RIG_VAR_DIR/bin/docker); add that folder to PATH"
}

engine_up() {
    engine_vars "$1"
    if engine_pid >/dev/null && engine_answers; then
        write_client
        [[ ! -s $E_RESOLV ]] || engine_dns_up
        [[ -s $E_ENV ]] || write_env_file
        log "engine $E_NAME: Docker $(edocker version --format '{{.Server.Version}}') already running ($E_SOCK)"
        return 0
    fi
    ! engine_pid >/dev/null || die "engine $E_NAME: dockerd $(engine_pid) runs but does not answer on $E_SOCK; scripts/rig.sh --stop"
    ensure_root "$E_SUITE"
    [[ $E_SUITE != bookworm ]] || ensure_root forky
    require_docker_cli
    rm -f "$E_ENV" "$E_SOCK"
    engine_bridge_up
    mkdir -p "$E_DIR"
    engine_dns_up
    write_daemon_json
    write_client
    mkdir -p "$E_DIR" "$E_RUN"
    : >>"$E_LOG"
    log "engine $E_NAME: starting dockerd from $E_ROOT (log $E_LOG)"
    # setsid + nohup: the daemon outlives this script and its terminal.
    setsid nohup unshare --mount --propagation private \
        bash "$RIG_LIB_DIR/engine-ns.sh" "$E_ROOT" "$E_DIR" "$E_RUN" "$E_CONFIG" \
        >>"$E_LOG" 2>&1 </dev/null &
    if ! wait_for 60 engine_answers; then
        tail -n 30 "$E_LOG" >&2
        die "engine $E_NAME did not answer on $E_SOCK within 60s (log tail above)"
    fi
    write_env_file
    log "engine $E_NAME: Docker $(edocker version --format '{{.Server.Version}}'), buildx $(edocker buildx version | awk '{print $2}') on $E_SOCK"
}

# Stop one engine and remove what it made outside its own folders: bridge, rules, cgroups.
engine_down() {
    engine_vars "$1"
    local pid did=
    rm -f "$E_RUN/READY" "$E_ENV"
    if pid=$(engine_pid); then
        log "engine $E_NAME: stopping dockerd (pid $pid)"
        kill -TERM "$pid"
        if ! wait_for 40 bash -c "! kill -0 $pid"; then
            warn "engine $E_NAME: dockerd $pid did not stop within 40s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        did=1
    fi
    # The DNS forwarder runs from the root too; it goes first, so what is left below is dockerd's.
    if engine_dns_alive; then did=1; fi
    engine_dns_down
    # What dockerd left in its root (shims of containers, a managed containerd): only processes
    # whose root is this engine's root, that is, that the rig started.
    local left
    left=$(root_pids "$E_ROOT")
    if [[ -n $left ]]; then
        warn "engine $E_NAME: processes left in its root: $left; stopping them"
        # shellcheck disable=SC2086
        kill -TERM $left 2>/dev/null || true
        sleep 2
        left=$(root_pids "$E_ROOT")
        # shellcheck disable=SC2086
        [[ -z $left ]] || kill -KILL $left 2>/dev/null || true
        did=1
    fi
    if ip link show "$E_BRIDGE" >/dev/null 2>&1 || [[ -S $E_SOCK || -d $E_RUN ]]; then did=1; fi
    engine_bridge_down
    engine_cgroups_down
    rm -rf "$E_RUN"
    if [[ -n $did ]]; then
        log "engine $E_NAME: stopped; bridge $E_BRIDGE, rules tagged $E_TAG and cgroup $E_CGROUP removed"
    else
        log "engine $E_NAME: not running"
    fi
}

# Pids of processes whose root directory is DIR (space-separated; empty when none).
root_pids() {
    local dir=$1 p out=()
    for p in /proc/[0-9]*; do
        [[ $(readlink "$p/root" 2>/dev/null) == "$dir" ]] && out+=("${p#/proc/}")
    done
    echo "${out[*]}"
}
