# shellcheck shell=bash
# `rig.sh --check`: prove the rig with real builds on the stand-ins. Sourced by scripts/rig.sh.

CHECK_CACHE_REF=$REGISTRY_ADDR/rigcheck:cache
# Every RUN of the check carries this word so the check can prune exactly its own cache records.
CHECK_MARKER=layercake-rigcheck

check_context() {
    local dir
    dir=$(mktemp -d /tmp/layercake-rigcheck.XXXXXX)
    cat >"$dir/Dockerfile" <<'DOCKERFILE'
FROM python:3.11-slim AS py
RUN : layercake-rigcheck && pip download --no-deps --dest /wheels six==1.16.0 && python -c "import sys; print(sys.version)"

FROM node:18 AS js
RUN : layercake-rigcheck && npm view is-number version > /is-number.txt && node --version && cat /is-number.txt

FROM debian:bookworm-slim AS deb
RUN : layercake-rigcheck && apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates >/dev/null \
    && ls /etc/ssl/certs/ca-certificates.crt

FROM nginx:stable
RUN : layercake-rigcheck && nginx -t
COPY --from=py /wheels /wheels
COPY --from=js /is-number.txt /is-number.txt
COPY --from=deb /etc/ssl/certs/ca-certificates.crt /deb-ca.crt
DOCKERFILE
    cat >"$dir/Dockerfile.multi" <<'DOCKERFILE'
# uname says x86_64 in both legs (no linux32 personality): ask dpkg and the pointer size instead.
FROM 127.0.0.1:5000/library/python:3.11-slim AS from-registry
ARG TARGETPLATFORM
RUN echo "registry $TARGETPLATFORM: $(dpkg --print-architecture) $(python -c 'import struct; print(struct.calcsize("P") * 8)')-bit" \
    && pip download --no-deps --dest /wheels six==1.16.0

FROM nginx:stable AS web
ARG TARGETPLATFORM
RUN echo "nginx $TARGETPLATFORM: $(dpkg --print-architecture)" && nginx -t

FROM python:3.11-slim
ARG TARGETPLATFORM
COPY --from=from-registry /wheels /wheels
COPY --from=web /etc/nginx/conf.d/default.conf /default.conf
RUN echo "local $TARGETPLATFORM: $(dpkg --print-architecture) $(python -c 'import struct; print(struct.calcsize("P") * 8)')-bit"
DOCKERFILE
    echo "$dir"
}

# IDs of the build cache records made by the check's RUN steps (their description holds the
# marker) and of every record built on top of them (COPY layers after a RUN), children first.
check_record_ids() {
    docker buildx du --verbose | awk -v m="$CHECK_MARKER" '
        BEGIN { RS = ""; FS = "\n" }
        {
            id = ""; parent = ""; mine = 0
            for (i = 1; i <= NF; i++) {
                if ($i ~ /^ID:/) { split($i, f, /[ \t]+/); id = f[2] }
                if ($i ~ /^Parent:/) { split($i, f, /[ \t]+/); parent = f[2] }
                if ($i ~ /^Description:/ && index($i, m)) mine = 1
            }
            if (id == "") next
            n++; ids[n] = id; parents[id] = parent; if (mine) marked[id] = 1
        }
        END {
            do {
                grew = 0
                for (k = 1; k <= n; k++) {
                    id = ids[k]
                    if (!(id in marked) && (parents[id] in marked)) { marked[id] = 1; depth[id] = depth[parents[id]] + 1; grew = 1 }
                }
            } while (grew)
            for (k = 1; k <= n; k++) if (ids[k] in marked) print depth[ids[k]] + 0, ids[k]
        }' | sort -rn | cut -d' ' -f2
}

# Prune only the check's own records: other builds on this shared engine keep their cache.
# (buildx turns `--filter k=v` into `k==v`, so a regex filter on the description is not
# possible, and a record with children survives its own prune: hence children first, by id.)
prune_check_records() {
    local id
    for id in $(check_record_ids); do
        docker buildx prune -af --filter "id=$id" >/dev/null
    done
}

run_check() {
    local dir start
    dir=$(check_context)
    start=$(now)
    log "check: build on the stand-ins (pip download, npm view, apt-get install, nginx -t), --no-cache, registry cache export mode=max"
    docker buildx build --progress=plain --no-cache \
        --cache-to "type=registry,ref=$CHECK_CACHE_REF,mode=max" \
        -t layercake-rigcheck:latest "$dir" >"$dir/build.log" 2>&1 || {
        tail -n 40 "$dir/build.log" >&2
        die "check build failed (log tail above, full log $dir/build.log)"
    }
    grep -q 'six-1.16.0-py2.py3-none-any.whl' "$dir/build.log" || die "check: pip download printed no six wheel"
    docker run --rm layercake-rigcheck:latest sh -c 'ls /wheels/six-1.16.0-*.whl && grep -E "^[0-9]+\.[0-9]+\.[0-9]+$" /is-number.txt' \
        >/dev/null || die "check: the built image lacks the wheel or the npm answer"
    log "check: build + cache export ok in $(since "$start")s"

    start=$(now)
    docker rmi -f layercake-rigcheck:latest >/dev/null
    prune_check_records
    [[ -z $(check_record_ids) ]] || die "check: the check's build cache records survived the prune"
    docker buildx build --progress=plain --cache-from "type=registry,ref=$CHECK_CACHE_REF" \
        -t layercake-rigcheck:latest "$dir" >"$dir/rebuild.log" 2>&1 || {
        tail -n 40 "$dir/rebuild.log" >&2
        die "check rebuild from registry cache failed (log $dir/rebuild.log)"
    }
    # A step restored from the registry cache prints no process output; pip would print its wheel.
    if grep -q 'Saved /wheels/six' "$dir/rebuild.log"; then
        die "check: after prune, the pip step ran again instead of coming from the registry cache"
    fi
    docker rmi -f layercake-rigcheck:latest >/dev/null
    log "check: rebuild after prune came from the registry cache in $(since "$start")s"

    if index_in_registry "$(registry_ref python:3.11-slim)"; then
        start=$(now)
        docker buildx build --progress=plain --no-cache --platform linux/amd64,linux/386 \
            -f "$dir/Dockerfile.multi" "$dir" >"$dir/multi.log" 2>&1 || {
            tail -n 40 "$dir/multi.log" >&2
            die "check: two-platform build failed (log $dir/multi.log)"
        }
        local expect
        for expect in 'registry linux/386: i386 32-bit' 'registry linux/amd64: amd64 64-bit' \
            'local linux/386: i386 32-bit' 'local linux/amd64: amd64 64-bit' \
            'nginx linux/386: i386' 'nginx linux/amd64: amd64'; do
            grep -q "$expect" "$dir/multi.log" || die "check: two-platform build printed no '$expect'"
        done
        log "check: two-platform build (linux/amd64,linux/386; registry index, local python:3.11-slim and nginx:stable) ok in $(since "$start")s"
    else
        warn "check: no multi-platform python index in the registry; skipped the two-platform build"
    fi
    rm -rf "$dir"
}
