#!/bin/sh
# mmdebstrap customize hook for the lab image: $1 is the root filesystem being built.
# The environment gives LAB_AUTHORIZED_KEYS (the lab's public SSH key). Everything that makes one
# VM differ from another (hostname, NICs, NUMA, IOMMU) comes from the qemu command line and the
# per-VM kernel arguments (systemd.hostname=, intel_iommu=on) that GRUB reads from qemu's SMBIOS
# table (see the GRUB part below), so that every VM boots the same cached image.
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

# Ansible's modules arrive as zip files that Python compiles at every task (about a third of a
# task's time under emulation): lab_pyc_cache.py keeps their bytecode (docs/lab.md).
install -m 0644 "$(dirname "$0")/lab_pyc_cache.py" "$root/usr/lib/python3/dist-packages/lab_pyc_cache.py"
echo "import lab_pyc_cache" > "$root/usr/lib/python3/dist-packages/zz-lab-pyc-cache.pth"

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

# Boot through GRUB from the VM's own disk, as a server does: `update-grub` and a reboot change the
# kernel command line, a second kernel installed in the VM boots. The disk has no partition table
# and no boot sector (ext4 on all of /dev/vda); qemu loads GRUB itself (-kernel grub.img, GRUB's
# lnxboot.img + core.img, built here and copied out by lab.py), and GRUB reads /boot/grub/grub.cfg
# from the disk through the BIOS. The settings every VM shares are in /etc/default/grub; what makes
# one VM differ (systemd.hostname=, intel_iommu=on) comes from lab_vm through an SMBIOS OEM string
# that the embedded config below reads into $lab_vm_cmdline at every boot, so the VM cannot drop it.
cat > "$root/etc/default/grub" <<'GRUB'
# The lab VM's boot loader settings (tools/lab/customize.sh). Run `update-grub` after a change;
# add settings in /etc/default/grub.d/*.cfg as on any Debian server.
GRUB_DEFAULT=0
GRUB_TIMEOUT=0
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX="console=ttyS0 mitigations=off"
# root=/dev/vda (as /etc/fstab) rather than root=UUID=
GRUB_DISABLE_LINUX_UUID=true
GRUB_DISABLE_RECOVERY=true
GRUB_DISABLE_OS_PROBER=true
GRUB_TERMINAL=serial
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
GRUB_GFXPAYLOAD_LINUX=text
GRUB
cat > "$root/etc/default/grub.d/zz-dpvs-lab.cfg" <<'GRUB'
# The lab's per-VM kernel arguments (lab_vm: systemd.hostname=, intel_iommu=on), read by GRUB at
# boot from the SMBIOS OEM string qemu gets from tools/lab/lab.py. Sourced last, so a drop-in
# that sets GRUB_CMDLINE_LINUX outright does not lose them.
GRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX} \$lab_vm_cmdline"
GRUB
install -d "$root/boot/grub/i386-pc"
cp "$root"/usr/lib/grub/i386-pc/*.mod "$root"/usr/lib/grub/i386-pc/*.lst "$root/boot/grub/i386-pc/"
# The config embedded in core.img runs before GRUB's normal mode and has no comments (a `#` line
# is an unknown command there, and the error makes the smbios command after it fail). SMBIOS type
# 11 (OEM strings) holds the string count at offset 4; with the one string lab.py passes, that
# count (1) is also the string's index. Exported: menu entries see exported variables only.
cat > "$root/boot/grub/i386-pc/lab-early.cfg" <<'GRUB'
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set root=(hd0)
set prefix=(hd0)/boot/grub
smbios --type 11 --get-string 4 --set lab_vm_cmdline
export lab_vm_cmdline
GRUB
chroot "$root" grub-mkimage -O i386-pc -o /boot/grub/i386-pc/core.img -c /boot/grub/i386-pc/lab-early.cfg \
  -p '(hd0)/boot/grub' biosdisk part_msdos part_gpt ext2 normal linux gzio serial terminal echo test \
  configfile search search_fs_uuid search_fs_file search_label smbios loadenv
cat "$root/usr/lib/grub/i386-pc/lnxboot.img" "$root/boot/grub/i386-pc/core.img" > "$root/boot/grub/lab-grub.img"
chroot "$root" grub-editenv /boot/grub/grubenv create
# grub-mkconfig needs the VM's disk (grub-probe), which the build does not have: the first grub.cfg
# is written here with the entry update-grub generates from the settings above; the kernel
# packages' hooks (/etc/kernel/postinst.d/zz-update-grub) and the roles regenerate it in the VM.
set -- "$root"/boot/vmlinuz-*
if [ $# -ne 1 ]; then
  echo "customize.sh: expected one kernel in /boot, found $*" >&2
  exit 1
fi
kversion=${1##*/vmlinuz-}
cat > "$root/boot/grub/grub.cfg" <<GRUB
# Written by the lab image build (tools/lab/customize.sh); update-grub replaces it.
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set default=0
set timeout=0
menuentry 'Debian GNU/Linux' {
	insmod gzio
	insmod ext2
	linux	/boot/vmlinuz-$kversion root=/dev/vda ro console=ttyS0 mitigations=off \$lab_vm_cmdline quiet
	initrd	/boot/initrd.img-$kversion
}
GRUB

# The image must carry igb_uio built by DKMS for its kernel (never compile at boot).
for kdir in "$root"/lib/modules/*; do
  if ! find "$kdir" -name 'igb_uio.ko*' | grep -q .; then
    echo "customize.sh: igb_uio.ko missing for $(basename "$kdir")" >&2
    exit 1
  fi
done

# A second kernel for the DKMS rebuild test, downloaded but NOT installed: bookworm-backports'
# linux-image-amd64 and linux-headers-amd64 with what they need beyond this image, as .deb files
# in /opt/lab-debs, so `apt-get install /opt/lab-debs/*.deb` works in the VM without a mirror.
# apt runs from outside the chroot with mmdebstrap's configuration (it acts on the chroot).
: "${LAB_MIRROR:?the Debian mirror}"
second_start=$(date +%s)
second_suite=bookworm-backports
second_kernel="linux-image-amd64/$second_suite linux-headers-amd64/$second_suite"
printf 'deb %s %s main\n' "$LAB_MIRROR" "$second_suite" > "$root/etc/apt/sources.list.d/lab-second-kernel.list"
APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" apt-get update -qq
install -d "$root/opt/lab-debs/partial"
# shellcheck disable=SC2086 # word splitting of the package list is meant
APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" apt-get install -y -qq --download-only \
  -o Dir::Cache::archives="$root/opt/lab-debs/" $second_kernel
rm -rf "$root/opt/lab-debs/partial" "$root/opt/lab-debs/lock"
rm "$root/etc/apt/sources.list.d/lab-second-kernel.list"
if ! ls "$root"/opt/lab-debs/linux-image-*.deb >/dev/null 2>&1; then
  echo "customize.sh: no second kernel in /opt/lab-debs" >&2
  exit 1
fi
echo "customize.sh: second kernel: $(ls "$root/opt/lab-debs" | tr '\n' ' ')" >&2
echo "customize.sh: second kernel: $(du -sm "$root/opt/lab-debs" | cut -f1) MB downloaded in $(($(date +%s) - second_start)) s" >&2
