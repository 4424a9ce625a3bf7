#!/bin/sh
# `make fuzz` step for the loader: each libFuzzer target for FUZZ_SECONDS
# (default 60), starting from its committed seeds. New inputs go to
# build/fuzz/work/, never into the committed corpus. A crash, leak or
# UBSan report makes libFuzzer exit non-zero, and so this script.
set -eu
secs=${FUZZ_SECONDS:-60}
for t in bzimage elf memmap placement elfcore payload; do
  work=build/fuzz/work/$t
  log=build/fuzz/work/$t.log
  mkdir -p "$work"
  echo "  FUZZ    $t for ${secs}s"
  if ! build/fuzz/loader/fuzz_$t -max_total_time="$secs" -print_final_stats=1 \
      -artifact_prefix="build/fuzz/work/$t-" "$work" "loader/fuzz/corpus/$t" >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz_$t failed; the input is saved as build/fuzz/work/$t-*"
    exit 1
  fi
  grep -E '^(Done|stat::number_of_executed_units)' "$log" || tail -n 3 "$log"
done
