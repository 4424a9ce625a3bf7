#!/bin/sh
# The loader's cost on the host, beside Debian's kexec-tools on the same
# files: `charon-kexec -l --dry-run` against plain `kexec -l`, with a 64 MiB
# and a 512 MiB initrd of random bytes (made once, kept under build/bench/).
#
# Fair only where the host kernel has no kexec: kexec -l then does all of
# its work (reads and hashes the files, builds its segments) and fails only
# at the kexec_load call, which is what --dry-run leaves out. Where the host
# kernel has kexec, kexec -l would load for real; the comparison is skipped.
#
# Measured, per loader and initrd:
#  - wall time: median (and minimum) of RUNS runs, the loaders alternating,
#    each run after both files were read once more, so both start from the
#    same warm page cache (nothing is dropped: that would hit the other
#    users of this machine, and a cold disk is not what a loader costs);
#    beside it the median CPU time (user + system, from GNU time), which
#    other load on a shared machine stretches less;
#  - peak anonymous memory, exactly, by build/bench/peak-anon: the command
#    runs under ptrace and "Anonymous:" of /proc/PID/smaps_rollup is read at
#    every system call's entry and exit and at its exit. File-backed pages
#    (the page cache that a mapped initrd shares) do not count.
# Targets (issue 15): time <= 0.15 x kexec-tools at 512 MiB, and anonymous
# memory <= 32 MiB whatever the initrd's size.
# Usage: bench-load.sh [RUNS] (default 5).
set -u
runs=${1:-5}
charon=${CHARON_KEXEC:-build/loader/charon-kexec}
peak=${PEAK_ANON:-build/bench/peak-anon}
kernel=${KERNEL:-build/kernel/vmlinuz}
kexec=$(command -v kexec || echo /usr/sbin/kexec)
dir=build/bench

for f in "$charon" "$peak"; do
  [ -x "$f" ] || { echo "bench-load: $f is not built (make $f)"; exit 1; }
done
[ -s "$kernel" ] || { echo "bench-load: no kernel at $kernel; run 'make deps'"; exit 1; }
if [ -e /sys/kernel/kexec_loaded ]; then
  echo "bench-load: the host kernel has kexec (/sys/kernel/kexec_loaded), so plain 'kexec -l'"
  echo "  would load for real instead of failing at its system call: not compared here"
  exit 0
fi
[ -x "$kexec" ] || { echo "bench-load: no kexec-tools ($kexec); make deps installs it"; exit 1; }
[ -x /usr/bin/time ] || { echo "bench-load: no GNU time (/usr/bin/time)"; exit 1; }
mkdir -p "$dir"
for mib in 64 512; do
  f=$dir/initrd-${mib}M
  [ "$(stat -c %s "$f" 2>/dev/null)" = $((mib * 1048576)) ] && continue
  head -c $((mib * 1048576)) /dev/urandom >"$f.tmp" && mv "$f.tmp" "$f"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/charon-bench-load.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
minimum() { sort -n | head -n 1; }
now() { date +%s.%N; }

# LOADER INITRD [WRAPPER...]: runs the loader under the wrapper, if one is
# given, with the same kernel and command line for both loaders.
run_loader() {
  which=$1 file=$2
  shift 2
  case "$which" in
    charon) "$@" "$charon" -l "$kernel" --initrd="$file" --append=quiet --dry-run ;;
    kexec-tools) "$@" "$kexec" -l "$kernel" --initrd="$file" --append=quiet ;;
  esac
}
# charon must succeed; kexec-tools must fail at kexec_load and only there.
check() { # LOADER STATUS STDERR-FILE
  case "$1" in
    charon) [ "$2" -eq 0 ] || { echo "bench-load: charon-kexec failed:"; cat "$3"; exit 1; } ;;
    kexec-tools)
      grep -q 'kexec_load failed: Function not implemented' "$3" ||
        { echo "bench-load: kexec -l did not end at its kexec_load call:"; cat "$3"; exit 1; } ;;
  esac
}

echo "charon-kexec -l --dry-run vs kexec -l ($("$kexec" --version 2>&1 | head -n 1)): the host"
echo "kernel $(uname -r) has no kexec, so kexec -l ends at its kexec_load call (ENOSYS)"
for mib in 64 512; do
  initrd=$dir/initrd-${mib}M
  i=0
  while [ "$i" -lt "$runs" ]; do
    for loader in kexec-tools charon; do
      cat "$kernel" "$initrd" >/dev/null
      t0=$(now)
      run_loader "$loader" "$initrd" /usr/bin/time -f '%U %S' -o "$tmp/cpu" >/dev/null 2>"$tmp/err"
      rc=$?
      t1=$(now)
      check "$loader" "$rc" "$tmp/err"
      echo "$t1 $t0" | awk '{ printf "%.3f\n", $1 - $2 }' >>"$tmp/time-$loader-$mib"
      tail -n 1 "$tmp/cpu" | awk '{ printf "%.2f\n", $1 + $2 }' >>"$tmp/cpu-$loader-$mib"
    done
    i=$((i + 1))
  done
  for loader in kexec-tools charon; do
    run_loader "$loader" "$initrd" "$peak" -o "$tmp/peak" >/dev/null 2>"$tmp/err"
    rc=$?
    check "$loader" "$rc" "$tmp/err"
    sed -n 's/^peak_anon_kib=\([0-9]*\) .*/\1/p' "$tmp/peak" >"$tmp/anon-$loader-$mib"
    [ -s "$tmp/anon-$loader-$mib" ] || { echo "bench-load: peak-anon gave nothing"; exit 1; }
  done
done

printf '\n  %-8s %-13s %9s %9s %9s %14s\n' initrd loader "wall" "min" "cpu" "peak anon"
for mib in 64 512; do
  for loader in kexec-tools charon; do
    printf '  %-8s %-13s %7s s %7s s %7s s %10s MiB\n' "${mib} MiB" "$loader" \
      "$(median <"$tmp/time-$loader-$mib")" "$(minimum <"$tmp/time-$loader-$mib")" \
      "$(median <"$tmp/cpu-$loader-$mib")" \
      "$(awk '{ printf "%.1f", $1 / 1024 }' "$tmp/anon-$loader-$mib")"
  done
  awk -v c="$(median <"$tmp/time-charon-$mib")" -v k="$(median <"$tmp/time-kexec-tools-$mib")" \
    -v cm="$(minimum <"$tmp/time-charon-$mib")" -v km="$(minimum <"$tmp/time-kexec-tools-$mib")" \
    -v cc="$(median <"$tmp/cpu-charon-$mib")" -v kc="$(median <"$tmp/cpu-kexec-tools-$mib")" \
    -v ca="$(cat "$tmp/anon-charon-$mib")" -v ka="$(cat "$tmp/anon-kexec-tools-$mib")" \
    -v m="$mib" 'BEGIN { printf "  %-8s %-13s %9.3f %9.3f %9.3f %14.4f\n", m " MiB", "charon/k-t",
      c / k, cm / km, (kc > 0 ? cc / kc : 0), ca / ka }'
done
echo "  (medians of $runs runs each, loaders alternating, warm page cache; memory: peak-anon, exact)"
echo "  load average during the runs: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
awk -v c="$(median <"$tmp/time-charon-512")" -v k="$(median <"$tmp/time-kexec-tools-512")" \
  -v cc="$(median <"$tmp/cpu-charon-512")" -v kc="$(median <"$tmp/cpu-kexec-tools-512")" \
  -v a64="$(cat "$tmp/anon-charon-64")" -v a512="$(cat "$tmp/anon-charon-512")" 'BEGIN {
    r = c / k; rc = cc / kc; a = (a64 > a512 ? a64 : a512) / 1024
    printf "  time at 512 MiB: %.3f x kexec-tools (wall), target <= 0.15  %s\n", r, r <= 0.15 ? "met" : "MISSED"
    printf "                   %.3f x kexec-tools (cpu),  target <= 0.15  %s\n", rc, rc <= 0.15 ? "met" : "MISSED"
    printf "  anonymous memory: at most %.1f MiB, target <= 32 MiB  %s\n", a, a <= 32 ? "met" : "MISSED"
  }'
