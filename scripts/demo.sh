#!/usr/bin/env bash
# make demo: build the example project's services through the real engine with layercake as a
# `# syntax=` frontend, run them, wait until Docker reports them healthy, request a page from each,
# and print build times and image sizes. Needs `make rig frontend-image` (the Makefile does that).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
example="$here/testdata/example"
tag=layercake-demo
# shellcheck source-path=SCRIPTDIR source=lib/env.sh
source "$here/scripts/lib/env.sh"
rig_env
declare -A port=([api]=8000 [web]=8080) host_port=([api]=18000 [web]=18080) path=([api]=/api/health [web]=/)

cleanup() { for s in api web; do docker rm -f "$tag-$s" >/dev/null 2>&1 || true; done; }
trap cleanup EXIT
cleanup

say() { printf '\n== %s\n' "$*"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
elapsed() { local ms=$(( $(now_ms) - $1 )); printf '%d.%01d' $(( ms / 1000 )) $(( ms % 1000 / 100 )); }
# The layercake steps of a plain progress log, each with CACHED when BuildKit reused it.
steps() { grep -E '^#[0-9]+ (\[(api|web) |CACHED$|ERROR)' | awk '/\[(api|web) /{ if (name) print "   " name; name=$0; next } /CACHED/{ if (name) print "   " name "  CACHED"; name=""; next } { print "   " $0 } END { if (name) print "   " name }' | sort -u | sort -t'#' -k2,2n; }
declare -A seconds size

for service in api web; do
  say "docker buildx build -f layercake.yaml --target $service  (cold for this tag)"
  start=$(now_ms)
  (cd "$example" && docker buildx build --progress=plain -f layercake.yaml --target "$service" -t "$tag-$service:latest" . 2>&1 | steps)
  seconds[$service]=$(elapsed "$start")
  size[$service]=$(docker image ls "$tag-$service:latest" --format '{{.Size}}')
done

say "code-only change: rebuild api with a touched app file (dependency steps must be CACHED)"
marker="$example/backend/app/__demo_marker__.py"
echo "# demo $(date +%s)" > "$marker"
start=$(now_ms)
(cd "$example" && docker buildx build --progress=plain -f layercake.yaml --target api -t "$tag-api:latest" . 2>&1 | steps)
rebuild=$(elapsed "$start")
rm -f "$marker"

for service in api web; do
  say "run $service and wait for Docker's health check"
  docker run -d --name "$tag-$service" -p "127.0.0.1:${host_port[$service]}:${port[$service]}" "$tag-$service:latest" >/dev/null
  for _ in $(seq 1 60); do
    status=$(docker inspect "$tag-$service" --format '{{.State.Health.Status}}')
    [ "$status" = healthy ] && break
    sleep 1
  done
  echo "   health: $status; runs as uid $(docker exec "$tag-$service" id -u)"
  [ "$status" = healthy ] || { docker logs "$tag-$service" | tail -20; exit 1; }
  echo "   GET ${path[$service]} -> $(curl -fsS "http://127.0.0.1:${host_port[$service]}${path[$service]}" | head -c 120 | tr '\n' ' ')"
done

say "summary"
printf '   %-6s %10s %14s\n' service "cold build" "image size"
for service in api web; do
  printf '   %-6s %9ss %14s\n' "$service" "${seconds[$service]}" "${size[$service]}"
done
echo "   api rebuild after a code-only change: ${rebuild}s"
