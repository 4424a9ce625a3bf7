#!/bin/sh
# Checks that a vmlinux carries exactly PURGATORY_RO as its kexec_file_load
# purgatory: the bytes at the kexec_purgatory symbol (kexec-purgatory.S's
# .incbin of arch/x86/purgatory/purgatory.ro) must equal the file, and
# kexec_purgatory_size must hold its length.
# Usage: check-embedded.sh VMLINUX PURGATORY_RO
# Prints one line saying what it found; exits 1 if they differ.
set -u
vmlinux=${1:?usage: check-embedded.sh VMLINUX PURGATORY_RO}
purg=${2:?usage: check-embedded.sh VMLINUX PURGATORY_RO}
die() { echo "check-embedded: $*"; exit 1; }
[ -s "$vmlinux" ] || die "no vmlinux at $vmlinux"
[ -s "$purg" ] || die "no purgatory at $purg"

# A symbol's address, and the file offset of an address: its PROGBITS
# section's offset plus its distance from the section's address
# (readelf -S: Addr, Off, Size). Addresses are taken modulo 2^48 (their
# last 12 hex digits): x86_64 kernel addresses are sign-extended 48-bit
# ones, and the shell's arithmetic stops at 2^63 (dash saturates).
low48() { echo "$1" | sed 's/^.*\(.\{12\}\)$/\1/'; }
sym() { nm "$vmlinux" | sed -n "s/^\([0-9a-f]*\) [A-Za-z] $1\$/\1/p"; }
file_off() {
  readelf -SW "$vmlinux" |
    sed -n 's/^ *\[ *[0-9]*\] *[^ ]* *PROGBITS *\([0-9a-f]*\) \([0-9a-f]*\) \([0-9a-f]*\) .*/\1 \2 \3/p' |
    while read -r s o z; do
      a=$((0x$(low48 "$1"))) s=$((0x$(low48 "$s")))
      if [ "$a" -ge "$s" ] && [ "$a" -lt $((s + 0x$z)) ]; then
        echo $((0x$o + a - s))
        break
      fi
    done
}
bytes() { tail -c +"$(($1 + 1))" "$vmlinux" | head -c "$2"; }

addr=$(sym kexec_purgatory)
size_addr=$(sym kexec_purgatory_size)
{ [ -n "$addr" ] && [ -n "$size_addr" ]; } ||
  die "$vmlinux has no kexec_purgatory/kexec_purgatory_size (no CONFIG_KEXEC_FILE?)"
off=$(file_off "$addr")
size_off=$(file_off "$size_addr")
{ [ -n "$off" ] && [ -n "$size_off" ]; } || die "kexec_purgatory lies in no PROGBITS section of $vmlinux"
size=$(wc -c <"$purg")
# kexec_purgatory_size is a little-endian .quad.
embedded_size=$(bytes "$size_off" 8 | od -An -tu8 | tr -d ' ')
[ "$embedded_size" = "$size" ] ||
  die "$vmlinux's kexec_purgatory is $embedded_size bytes, $(basename "$purg") $size"
bytes "$off" "$size" | cmp -s - "$purg" ||
  die "$vmlinux's kexec_purgatory ($size bytes) differs from $purg"
echo "check-embedded: $vmlinux holds $(basename "$purg") at kexec_purgatory ($size bytes, identical)"
