#!/bin/bash
# mmdebstrap --customize-hook for a stand-in image: ROOT RECIPE.
# Runs on the host with proc/sys/dev mounted in ROOT, so `chroot ROOT ...` works.
set -euo pipefail
root=$1
recipe=$2

# Trust the host's extra CAs (this machine's TLS-intercepting proxy), so pip/npm/apt over https
# work inside RUN steps. Without ca-certificates in the image, the files still wait in
# /usr/local/share/ca-certificates and are picked up when a build installs it.
mkdir -p "$root/usr/local/share/ca-certificates"
for crt in /usr/local/share/ca-certificates/*.crt; do
    if [[ -e $crt ]]; then cp "$crt" "$root/usr/local/share/ca-certificates/"; fi
done
if [[ -x $root/usr/sbin/update-ca-certificates ]]; then
    chroot "$root" update-ca-certificates >/dev/null
fi

# shellcheck source=/dev/null
source "$recipe"
if declare -F recipe_customize >/dev/null; then
    recipe_customize "$root"
fi
