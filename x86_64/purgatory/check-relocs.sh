#!/bin/sh
# Fails if the relocatable purgatory carries any relocation other than
# R_X86_64_PC32 or R_X86_64_PLT32 (both in the set kexec-tools applies;
# the absolute ones would make purgatory.bin position-dependent).
set -eu
bad=$(llvm-readelf -r "$1" | awk '$3 ~ /^R_X86_64_/ && $3 != "R_X86_64_PC32" && $3 != "R_X86_64_PLT32" { print $3, $5 }' | sort -u)
# (the symbol is the fifth column: type, value, name)
if [ -n "$bad" ]; then
  echo "check-relocs: $1 has relocations outside PC32/PLT32:" >&2
  echo "$bad" | sed 's/^/  /' >&2
  exit 1
fi
