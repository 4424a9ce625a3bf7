#!/bin/sh
# `make bench`: the purgatory's size, measured from the linked flat image.
# Code and data are what a loader copies; .noinit (stack, bootstrap page
# tables, built-in page-table scratch, IDT) is reserved but never stored.
set -eu
elf=${1:-build/x86_64/purgatory.elf}
sec() { llvm-size -A "$elf" | awk -v s="$1" '$1 == s { print $2 }'; }
hdr=$(sec .bin_header); text=$(sec .text); ro=$(sec .rodata); data=$(sec .data); noinit=$(sec .noinit)
total=$((hdr + text + ro + data))
block=$(awk '$2 == "CHARON_PARAMS_BYTES" { print $3 }' "$(dirname "$elf")/../gen/params.inc")
printf '\nPurgatory size (%s)\n' "$elf"
printf '  %-34s %7d bytes\n' "text (with the 32-byte bin header)" $((hdr + text)) \
  "rodata" "$ro" "data (parameter block $block incl.)" "$data"
printf '  %-34s %7d bytes = %.1f KiB   target <= 12 KiB: %s\n' "text+rodata+data" "$total" \
  "$(awk -v t="$total" 'BEGIN { print t / 1024 }')" "$([ "$total" -le 12288 ] && echo met || echo MISSED)"
printf '  %-34s %7d bytes\n' "kexec-tools purgatory.ro, for scale" $((15800 + 8400))
printf '  %-34s %7d bytes (never in the file):\n' ".noinit" "$noinit"
printf '    %-32s %7d\n' "stack" 16384 "bootstrap page tables" $((8 * 4096)) \
  "built-in page-table scratch" $((16 * 4096)) "IDT" 512 "32-bit entry's IDT" 256
