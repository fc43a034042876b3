#!/bin/bash
# mmdebstrap --customize-hook for an engine root: ROOT. Runs on the host with proc/sys/dev
# mounted in ROOT, so `chroot ROOT ...` works.
set -euo pipefail
root=$1

# Trust the host's extra CAs (downloads may go through a TLS-intercepting proxy): dockerd pulls
# and BuildKit's git/http sources use the root's store.
mkdir -p "$root/usr/local/share/ca-certificates"
for crt in /usr/local/share/ca-certificates/*.crt; do
    if [[ -e $crt ]]; then cp "$crt" "$root/usr/local/share/ca-certificates/"; fi
done
chroot "$root" update-ca-certificates >/dev/null

# Mount points the namespace start binds over (scripts/lib/engine-ns.sh).
mkdir -p "$root/.old-root" "$root/var/lib/layercake-rig" "$root/run/layercake-rig"
# Let the engine's own daemon.json (under its data folder, --config-file) be the only one.
rm -f "$root/etc/docker/daemon.json"
