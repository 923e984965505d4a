#!/bin/sh
# mmdebstrap customize hook for the lab image: $1 is the root filesystem being built.
# The environment gives LAB_AUTHORIZED_KEYS (the lab's public SSH key). Everything that makes one
# VM differ from another (hostname, NICs, NUMA, IOMMU) comes from the qemu command line and the
# kernel command line (systemd.hostname=), so that every VM boots the same cached image.
set -eu
root="$1"
: "${LAB_AUTHORIZED_KEYS:?the lab public key}"

echo dpvs-lab > "$root/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"
printf '/dev/vda / ext4 rw,relatime,errors=remount-ro 0 0\n' > "$root/etc/fstab"

# root logs in with the lab key only.
install -d -m 0700 "$root/root/.ssh"
printf '%s\n' "$LAB_AUTHORIZED_KEYS" > "$root/root/.ssh/authorized_keys"
chmod 0600 "$root/root/.ssh/authorized_keys"

# The management NIC is always the PCI function 00:03.0 (enp0s3 on q35, ens3 on pc); the data
# NICs stay unconfigured for the roles under test.
install -d "$root/etc/systemd/network"
cat > "$root/etc/systemd/network/10-lab-mgmt.network" <<'UNIT'
[Match]
Path=pci-0000:00:03.0

[Network]
DHCP=ipv4
LinkLocalAddressing=no
IPv6AcceptRA=no
UNIT
chroot "$root" systemctl enable systemd-networkd.service >/dev/null 2>&1
# Do not hold the boot for "network online": sshd listens on all addresses anyway.
chroot "$root" systemctl mask systemd-networkd-wait-online.service >/dev/null 2>&1

# An empty /etc/machine-id means "first boot": never prompt on the serial console.
chroot "$root" systemctl mask systemd-firstboot.service >/dev/null 2>&1
# Nothing periodic competes with the tests for the slow emulated CPU.
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
    fstrim.timer man-db.timer dpkg-db-backup.timer; do
  chroot "$root" systemctl mask "$unit" >/dev/null 2>&1
done
install -d "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=32M\n' > "$root/etc/systemd/journald.conf.d/lab.conf"

# sshd answers fast: no DNS lookups of the client.
printf 'UseDNS no\n' > "$root/etc/ssh/sshd_config.d/lab.conf"

# Debian's dpdk.service binds NICs listed in /etc/dpdk/interfaces at boot; the devbind role brings
# its own unit, and the idle one costs 10 s of emulated CPU before the network comes up.
chroot "$root" systemctl disable dpdk.service >/dev/null 2>&1

# The VMs boot straight from virtio-blk: an initrd with only what that needs loads in half the
# time of Debian's MODULES=most one under software emulation.
sed -i 's/^MODULES=.*/MODULES=list/' "$root/etc/initramfs-tools/initramfs.conf"
printf 'virtio_pci\nvirtio_blk\next4\n' >> "$root/etc/initramfs-tools/modules"
chroot "$root" update-initramfs -u -k all >/dev/null

# The image must carry igb_uio built by DKMS for its kernel (never compile at boot).
for kdir in "$root"/lib/modules/*; do
  if ! find "$kdir" -name 'igb_uio.ko*' | grep -q .; then
    echo "customize.sh: igb_uio.ko missing for $(basename "$kdir")" >&2
    exit 1
  fi
done
