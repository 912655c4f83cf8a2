#!/bin/bash
# Builds the Debian 12 appliance test image for the end-to-end tier:
# kernel, systemd, cloud-init (NoCloud only), keepalived, HAProxy, watchdog,
# MariaDB, chrony, curl, python3 and the QEMU guest agent (through which the
# tests run commands inside a VM). debootstrap's --include cannot configure
# cloud-init's Python dependencies, so a minbase system is bootstrapped first
# and the packages are installed with apt-get inside the chroot.
#
# The result is cached outside the repository, keyed by a hash of this
# recipe, and reused as long as the recipe is unchanged. The last line of
# output is JSON with the paths: {"base": ..., "kernel": ..., "initrd": ...}.
set -euo pipefail

SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES=(
  linux-image-cloud-amd64 systemd systemd-sysv udev dbus ifupdown
  cloud-init keepalived haproxy watchdog mariadb-server mariadb-client
  chrony curl python3 iproute2 iputils-ping procps qemu-guest-agent
  ca-certificates locales zstd
)
IMAGE_SIZE=3G

cache_root=${APPLIANCE_FABRIC_CACHE:-/var/cache/appliance-fabric}
recipe_hash=$( { cat "$0"; printf '%s\n' "${PACKAGES[@]}"; } | sha256sum | cut -c1-16)
out="$cache_root/images/$recipe_hash"

if [[ -f "$out/manifest.json" ]]; then
  printf '{"base":"%s","kernel":"%s","initrd":"%s","cached":true}\n' "$out/base.qcow2" "$out/vmlinuz" "$out/initrd.img"
  exit 0
fi

for tool in debootstrap mkfs.ext4 qemu-img; do
  command -v "$tool" > /dev/null || { echo "missing $tool: apt-get install debootstrap e2fsprogs qemu-utils" >&2; exit 1; }
done

start=$(date +%s)
work=$(mktemp -d "$cache_root/build.XXXXXX" 2> /dev/null || { mkdir -p "$cache_root" && mktemp -d "$cache_root/build.XXXXXX"; })
rootfs="$work/rootfs"
mounted=()
cleanup() {
  local m
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    m=${mounted[i]}
    umount -l "$m" 2> /dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

echo "debootstrap $SUITE (minbase) into $rootfs" >&2
debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >&2

for fs in proc sys dev/pts; do
  mkdir -p "$rootfs/$fs"
  case "$fs" in
    proc) mount -t proc proc "$rootfs/proc" ;;
    sys) mount -t sysfs sys "$rootfs/sys" ;;
    dev/pts) mount -t devpts devpts "$rootfs/dev/pts" ;;
  esac
  mounted+=("$rootfs/$fs")
done

# No daemon may start inside the chroot while packages are installed.
printf '#!/bin/sh\nexit 101\n' > "$rootfs/usr/sbin/policy-rc.d"
chmod 755 "$rootfs/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"

echo "installing ${#PACKAGES[@]} packages in the chroot" >&2
chroot "$rootfs" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
chroot "$rootfs" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >&2
chroot "$rootfs" apt-get clean

# The appliance configuration that a template image would carry.
cat > "$rootfs/etc/cloud/cloud.cfg.d/90-datasource.cfg" << 'CFG'
# Only the NoCloud seed: do not probe metadata services that do not exist here.
datasource_list: [NoCloud, None]
CFG
printf 'LABEL=root / ext4 defaults,errors=remount-ro 0 1\n' > "$rootfs/etc/fstab"
printf 'appliance\n' > "$rootfs/etc/hostname"
: > "$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id" "$rootfs/etc/resolv.conf"
chroot "$rootfs" passwd -l root > /dev/null
chroot "$rootfs" systemctl enable serial-getty@ttyS0.service > /dev/null 2>&1 || true

# Boot time under TCG (each VM gets 2/3 or 2/5 of a core): nothing starts
# that the appliance does not need, nothing starts twice.
# - cloud-init's locale module sets en_US.UTF-8, as on Debian's cloud
#   images: generated here once instead of failing (no locales) or running
#   locale-gen on every first boot.
sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' "$rootfs/etc/locale.gen"
chroot "$rootfs" locale-gen > /dev/null
printf 'LANG=en_US.UTF-8\n' > "$rootfs/etc/default/locale"
# - The fabric's services start when the first boot's runcmd has written
#   their configuration (it enables and restarts each one): the packages'
#   own start at boot, with the stock configuration, is work thrown away.
#   Their SysV scripts go too, so that `systemctl enable` needs no
#   systemd-sysv-install (update-rc.d, perl) per unit.
chroot "$rootfs" systemctl disable mariadb.service haproxy.service keepalived.service watchdog.service wd_keepalive.service > /dev/null 2>&1 || true
for script in mariadb haproxy keepalived watchdog wd_keepalive; do
  rm -f "$rootfs/etc/init.d/$script"
  find "$rootfs/etc" -path "$rootfs/etc/rc?.d/*$script" -delete
done
# - Periodic and housekeeping jobs a test appliance has no use for (and that
#   would take CPU from a scenario when their timer strikes).
chroot "$rootfs" systemctl mask e2scrub_reap.service e2scrub_all.timer apt-daily.timer apt-daily-upgrade.timer \
  fstrim.timer dpkg-db-backup.timer systemd-binfmt.service proc-sys-fs-binfmt_misc.automount > /dev/null 2>&1
# - No package lists: the test network has no mirror, so the first boot's
#   `apt-get update` fails whatever the image holds; without lists it fails
#   at once, without retries, and apt does not parse 60 MB of lists twice
#   (the packages cloud-init asks for are installed: apt finds them in
#   dpkg's status).
rm -rf "$rootfs"/var/lib/apt/lists/*
printf 'Acquire::Retries "0";\n' > "$rootfs/etc/apt/apt.conf.d/80appliance-fabric-no-retries"
# - An initrd with the few modules that mount the root disk (virtio, ext4)
#   instead of most of the kernel's: less to decompress and probe.
printf 'MODULES=list\n' > "$rootfs/etc/initramfs-tools/conf.d/appliance-fabric-modules"
printf '%s\n' virtio_pci virtio_blk virtio_net ext4 > "$rootfs/etc/initramfs-tools/modules"
chroot "$rootfs" update-initramfs -u -k all > /dev/null 2>&1
rm -f "$rootfs/usr/sbin/policy-rc.d"

for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}"; done
mounted=()

kernel=$(find "$rootfs/boot" -name 'vmlinuz-*' | sort | tail -n 1)
initrd=$(find "$rootfs/boot" -name 'initrd.img-*' | sort | tail -n 1)
mkdir -p "$work/out"
cp "$kernel" "$work/out/vmlinuz"
cp "$initrd" "$work/out/initrd.img"

echo "writing the root filesystem" >&2
truncate -s "$IMAGE_SIZE" "$work/root.raw"
mkfs.ext4 -q -L root -d "$rootfs" "$work/root.raw"
qemu-img convert -O qcow2 "$work/root.raw" "$work/out/base.qcow2"

# shellcheck disable=SC2016 # dpkg-query's own ${...} format, not the shell's
versions=$(chroot "$rootfs" dpkg-query -W -f='${Package}=${Version}\n' cloud-init keepalived haproxy mariadb-server linux-image-cloud-amd64 2> /dev/null | paste -sd, -)
seconds=$(($(date +%s) - start))
size=$(stat -c %s "$work/out/base.qcow2")
printf '{"recipe":"%s","buildSeconds":%d,"imageBytes":%d,"packages":"%s"}\n' "$recipe_hash" "$seconds" "$size" "$versions" > "$work/out/manifest.json"

mkdir -p "$cache_root/images"
rm -rf "$out"
mv "$work/out" "$out"
echo "built in ${seconds}s: $out" >&2
printf '{"base":"%s","kernel":"%s","initrd":"%s","cached":false}\n' "$out/base.qcow2" "$out/vmlinuz" "$out/initrd.img"
