#!/bin/bash
# Start one engine's dockerd inside its own root: ROOT ENGINE_DIR RUN_DIR CONFIG.
# Run by scripts/lib/engine.sh under `unshare --mount --propagation private`, so every mount
# below lives and dies with this mount namespace and none reaches the host.
#
# pivot_root, not chroot: under a chroot runc cannot set up a container's root ("mount dst=/,
# flags=MS_REC|MS_SLAVE: invalid argument"), and with a bind-mounted chroot `docker exec` and
# HEALTHCHECKs run in the host's root.
set -euo pipefail
root=$1 engine_dir=$2 run_dir=$3 config=$4

mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mkdir -p "$root$run_dir" "$root$engine_dir"
mount --bind "$run_dir" "$root$run_dir"
mount --bind "$engine_dir" "$root$engine_dir"
# Name resolution: the engine's DNS forwarder on its bridge (engine.sh writes RUN_DIR/resolv.conf),
# else the host's resolvers; the host's /etc/hosts.
for f in /etc/resolv.conf /etc/hosts; do
    src=$(realpath "$f")
    [[ $f != /etc/resolv.conf || ! -s $run_dir/resolv.conf ]] || src=$run_dir/resolv.conf
    [[ -L $root$f || ! -e $root$f ]] && rm -f "$root$f" && : >"$root$f"
    mount --bind "$src" "$root$f"
done

cd "$root"
pivot_root . .old-root
cd /
umount -l /.old-root

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
exec dockerd --config-file "$config"
