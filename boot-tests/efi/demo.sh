#!/bin/sh
# `make run-efi`: the UEFI path, live. OVMF starts charon.efi from an ESP
# image; charon.efi loads Debian's kernel and the test initramfs, leaves
# boot services and hands off through the relocation trampoline and the
# purgatory; the kernel reports that it kept EFI runtime services and
# powers off. Shows charon's lines and the kernel's markers (the whole
# serial log is kept; its path is printed at the end).
# Usage: demo.sh [64|32]   the boot protocol (default 64)
set -eu
proto=${1:-64}
here=$(dirname "$0")
kernel=${KERNEL:-build/kernel/vmlinuz}
initrd=${INITRD:-build/kernel/initramfs.cpio.gz}
dir=${LOGDIR:-build/efi-tests}/demo
mkdir -p "$dir/overlay"
cp "$here/efi-init" "$dir/overlay/efi-init"
chmod 755 "$dir/overlay/efi-init"
(cd "$dir/overlay" && echo efi-init | cpio -o -H newc -R 0:0 --quiet) >"$dir/overlay.cpio"
cat "$dir/overlay.cpio" "$initrd" >"$dir/initrd.img"
cat >"$dir/charon.cfg" <<CFG
# \\charon\\charon.cfg on the ESP
kernel = \\charon\\vmlinuz
initrd = \\charon\\initrd.img
cmdline = console=ttyS0 rdinit=/efi-init charon.stage=b
protocol = $proto
console = serial
CFG
echo "== ESP: \\EFI\\BOOT\\BOOTX64.EFI = charon.efi, and \\charon\\charon.cfg:"
sed 's/^/   /' "$dir/charon.cfg"
sh "$here/esp.sh" "$dir/esp.img" "$dir/charon.cfg" "$kernel:/charon/vmlinuz" \
  "$dir/initrd.img:/charon/initrd.img"
echo "== OVMF boots it (QEMU, TCG, -cpu max, 1 GiB)"
rc=0
sh "$here/qemu.sh" "$dir/esp.img" "$dir/demo" 240 || rc=$?
tr -d '\r' <"$dir/demo.serial" | sed 's/\x1b\[[0-9;=]*[A-Za-z]//g' |
  grep -aE '^(charon|CHARON)|efi: EFI v|Registered efivars|secureboot mode|efifb: mode' |
  sed 's/^/   /'
rm -f "$dir/esp.img"
if tr -d '\r' <"$dir/demo.serial" | grep -aq 'CHARON-B-OK'; then
  echo "== Debian's kernel booted through charon.efi (protocol $proto); full log: $dir/demo.serial"
else
  echo "== the kernel did not come up (QEMU status $rc); full log: $dir/demo.serial"
  exit 1
fi
