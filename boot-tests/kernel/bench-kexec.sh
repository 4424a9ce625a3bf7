#!/bin/sh
# End-to-end kexec time under QEMU (TCG): from kernel A's CHARON-A-EXEC
# line, printed just before `-e`, to kernel B's first /init line
# (CHARON-INIT). That covers the loader's -e, kernel A's shutdown,
# relocate_kernel, the purgatory (digest check included) and kernel B's whole
# boot. charon-kexec and Debian's kexec-tools run alternately on the same
# kernel and initramfs, so drift on the shared machine hits both alike.
# Serial lines are stamped on the host as they arrive (busybox ts, in
# microseconds). Usage: bench-kexec.sh [RUNS] (default 5 of each).
set -u
here=$(dirname "$0")
runs=${1:-5}
charon=${CHARON_KEXEC:-build/loader/charon-kexec}
sh "$here/mkinitramfs.sh" build/kernel/initramfs.cpio.gz "$charon" >/dev/null || exit 1
if [ ! -x "$charon" ]; then
  echo "bench-kexec: $charon is not built (make $charon); no charon figure" >&2
  exit 1
fi

# Seconds between the CHARON-A-EXEC stamp and the next CHARON-INIT stamp.
interval() {
  tr -d '\r' <"$1" | awk '
    $2 == "CHARON-A-EXEC" { t0 = $1 }
    t0 && $2 == "CHARON-INIT" { printf "%.3f\n", $1 - t0; exit }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# Load from other work on the machine only ever adds time, so the minimum
# is shown beside the median as the less disturbed figure.
minimum() { sort -n | head -n 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/charon-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# Private logs: a make check running meanwhile writes the shared ones.
export LOGDIR="$tmp/logs"
i=0
while [ "$i" -lt "$runs" ]; do
  for loader in kexec-tools charon; do
    out=$(sh "$here/run-kexec.sh" --loader "$loader" --stamp)
    log=$LOGDIR/kexec-$loader-64bit-512M-4level.log
    case "$out" in
      PASS:*) ;;
      *) echo "bench-kexec: $loader run failed:"; echo "$out"; exit 1 ;;
    esac
    t=$(interval "$log")
    [ -n "$t" ] || { echo "bench-kexec: no markers in $log"; exit 1; }
    echo "$t" >>"$tmp/$loader"
    echo "  kexec $loader run $((i + 1)): ${t} s"
  done
  i=$((i + 1))
done
kt=$(median <"$tmp/kexec-tools"); kt_min=$(minimum <"$tmp/kexec-tools")
ch=$(median <"$tmp/charon"); ch_min=$(minimum <"$tmp/charon")
echo "kexec -e to kernel B's init (QEMU TCG, $(cat build/kernel/kernel-version 2>/dev/null), 512M, $runs runs each):"
printf '  %-22s %9s %9s\n' "" "median" "min"
printf '  %-22s %7s s %7s s\n' "kexec-tools" "$kt" "$kt_min" "charon-kexec" "$ch" "$ch_min"
awk -v c="$ch" -v k="$kt" -v cm="$ch_min" -v km="$kt_min" \
  'BEGIN { printf "  %-22s %9.2f %9.2f\n", "charon / kexec-tools", c / k, cm / km }'
