#!/bin/sh
# Fails if a relocatable purgatory (purgatory.ro or the kernel flavour
# purgatory-linux.ro) carries any relocation other than R_X86_64_PC32 or
# R_X86_64_PLT32, or any undefined symbol.
#
# kexec-tools applies 64, 32, 32S, PC32 and PLT32; so does the kernel
# (arch/x86/kernel/machine_kexec_64.c arch_kexec_apply_relocations_add).
# We allow only the PC-relative two: the absolute ones would make
# purgatory.bin position-dependent. `ld -r` leaves an unresolved
# reference undefined without a word, and both loaders refuse SHN_UNDEF
# at load time (the kernel checks it at build time in its purgatory.chk
# step); we check it here.
set -eu
bad=$(llvm-readelf -r "$1" | awk '$3 ~ /^R_X86_64_/ && $3 != "R_X86_64_PC32" && $3 != "R_X86_64_PLT32" { print $3, $5 }' | sort -u)
# (the symbol is the fifth column: type, value, name)
if [ -n "$bad" ]; then
  echo "check-relocs: $1 has relocations outside PC32/PLT32:" >&2
  echo "$bad" | sed 's/^/  /' >&2
  exit 1
fi
# Symbol table columns: Num Value Size Type Bind Vis Ndx Name; the null
# symbol has no name.
undef=$(llvm-readelf -s "$1" | awk '$7 == "UND" && $8 != "" { print $8 }' | sort -u)
if [ -n "$undef" ]; then
  echo "check-relocs: $1 has undefined symbols:" >&2
  echo "$undef" | sed 's/^/  /' >&2
  exit 1
fi
