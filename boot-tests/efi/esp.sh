#!/bin/sh
# Builds a FAT ESP image for charon.efi with mtools (no root, no loop
# device). Usage: esp.sh OUT.img CONFIG [FILE:ESP-PATH]...
#   OUT.img   the image (64 MiB, FAT32)
#   CONFIG    becomes \charon\charon.cfg
#   FILE:ESP-PATH  more files, e.g. build/kernel/vmlinuz:/charon/vmlinuz
# \EFI\BOOT\BOOTX64.EFI is CHARON_EFI (default build/x86_64/charon.efi),
# which the firmware's boot manager starts from a disk with no boot entry;
# \startup.nsh powers off, so that when charon.efi returns, the firmware
# goes on to its shell, and the shell ends the run.
set -eu
out=${1:?usage: esp.sh OUT.img CONFIG [FILE:ESP-PATH]...}
cfg=${2:?usage: esp.sh OUT.img CONFIG [FILE:ESP-PATH]...}
shift 2
efi=${CHARON_EFI:-build/x86_64/charon.efi}
size=64
for spec in "$@"; do
  f=${spec%%:*}
  size=$((size + $(wc -c <"$f") / 1048576 + 1))
done
rm -f "$out.tmp"
truncate -s "${size}M" "$out.tmp"
mformat -i "$out.tmp" -F -v CHARONESP ::
mmd -i "$out.tmp" ::/EFI ::/EFI/BOOT ::/charon
mcopy -i "$out.tmp" "$efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$out.tmp" "$cfg" ::/charon/charon.cfg
printf 'reset -s\r\n' >"$out.tmp.nsh"
mcopy -i "$out.tmp" "$out.tmp.nsh" ::/startup.nsh
rm -f "$out.tmp.nsh"
for spec in "$@"; do
  mcopy -i "$out.tmp" "${spec%%:*}" "::${spec#*:}"
done
mv "$out.tmp" "$out"
