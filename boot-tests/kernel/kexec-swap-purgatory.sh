#!/bin/sh
# Makes a copy of Debian's kexec whose built-in purgatory is charon's.
# Usage: kexec-swap-purgatory.sh KEXEC PURGATORY_RO OUT
#
# kexec-tools compiles its purgatory.ro into the binary as a byte array
# (`purgatory`) with its length in `size_t purgatory_size`, and at load time
# relocates it and patches sha256_regions, entry64_regs, serial_base, ... by
# symbol name. Overwriting the array and the length is what relinking
# kexec-tools with charon's purgatory.ro would do, so this binary proves
# that charon's purgatory drops into an unmodified kexec-tools loader.
# The array is the one x86_64 ET_REL ELF inside KEXEC; its length must occur
# exactly once as a 64-bit value, or we refuse rather than guess.
set -eu
kexec=${1:?usage: kexec-swap-purgatory.sh KEXEC PURGATORY_RO OUT}
purg=${2:?usage}
out=${3:?usage}
export LC_ALL=C

die() { echo "kexec-swap-purgatory: $*" >&2; exit 1; }
# Unsigned little-endian integer of $2 bytes at offset $1 of $kexec.
uint() { od -An -tu"$2" -j "$1" -N "$2" "$kexec" | tr -d ' '; }
# grep -P pattern for a 64-bit little-endian value.
le64_re() {
  v=$1 re="" i=0
  while [ "$i" -lt 8 ]; do re="$re$(printf '\\x%02x' $((v % 256)))"; v=$((v / 256)); i=$((i + 1)); done
  echo "$re"
}
# printf escapes that write a 64-bit little-endian value.
le64_bytes() {
  v=$1 s="" i=0
  while [ "$i" -lt 8 ]; do s="$s$(printf '\\%03o' $((v % 256)))"; v=$((v / 256)); i=$((i + 1)); done
  echo "$s"
}

found="" old_size=""
# shellcheck disable=SC2013 # one number per line
for off in $(grep -obUaP '\x7fELF\x02\x01\x01' "$kexec" | cut -d: -f1); do
  # e_type 1 (ET_REL) at 0x10, e_machine 62 (x86_64) at 0x12.
  if [ "$(uint $((off + 16)) 2)" != 1 ] || [ "$(uint $((off + 18)) 2)" != 62 ]; then continue; fi
  [ -z "$found" ] || die "more than one relocatable ELF in $kexec"
  # The section header table is the last part of a file that ld -r writes.
  shoff=$(uint $((off + 40)) 8)
  found=$off old_size=$((shoff + $(uint $((off + 58)) 2) * $(uint $((off + 60)) 2)))
done
[ -n "$found" ] || die "no built-in purgatory in $kexec"
size_at=$(grep -obUaP "$(le64_re "$old_size")" "$kexec" | cut -d: -f1)
[ "$(echo "$size_at" | wc -w)" = 1 ] ||
  die "purgatory_size ($old_size) is not a unique 64-bit value in $kexec"
new_size=$(wc -c <"$purg")
[ "$new_size" -le "$old_size" ] ||
  die "$purg is $new_size bytes; the slot in $kexec holds $old_size"

cp "$kexec" "$out.tmp"
{ cat "$purg"; head -c $((old_size - new_size)) /dev/zero; } |
  dd of="$out.tmp" bs=1 seek="$found" conv=notrunc status=none
# shellcheck disable=SC2059 # the format is the escaped bytes themselves
printf "$(le64_bytes "$new_size")" | dd of="$out.tmp" bs=1 seek="$size_at" conv=notrunc status=none
chmod 755 "$out.tmp"
mv "$out.tmp" "$out"
echo "kexec-swap-purgatory: $out: purgatory at 0x$(printf %x "$found"), $old_size -> $new_size bytes"
