#!/usr/bin/env bash
# Build the frontend image from the already-built static binary: usage frontend-image.sh BIN TAG
set -euo pipefail
bin=${1:?static binary}; tag=${2:?image tag}
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/env.sh
source "$here/scripts/lib/env.sh"
rig_env
ctx=$(mktemp -d); trap 'rm -rf "$ctx"' EXIT
cp "$bin" "$ctx/layercake"
docker build -q -t "$tag" -f "$here/frontend-image/Dockerfile" "$ctx" >/dev/null
size=$(docker image inspect "$tag" --format '{{.Size}}')
echo "frontend image $tag: $size bytes (engine $LAYERCAKE_ENGINE)"
