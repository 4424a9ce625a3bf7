#!/bin/sh
# `make run-probe`: boots one protocol case under QEMU and shows what
# happened: the harness's and the purgatory's console lines, then the
# probe's items and verdict. With --quiet (`make run` uses it), one line:
# "probe: ENTRY -> KIND: P/N checks PASS".
#   sh boot-tests/harness/demo.sh [--quiet] [ENTRY [KIND [PURG_ADDR]]]
# ENTRY: pm32 pm32-xen lm64-ident lm64-purgonly lm64-la57 lm64-hostile no1g
# KIND:  linux64 linux32 generic64 generic32
set -u
cd "$(dirname "$0")/../.." || exit 2
quiet=no
[ "${1:-}" = --quiet ] && { quiet=yes; shift; }
entry=${1:-lm64-ident} kind=${2:-linux64} purg=${3:-0x00800000}
LOGDIR=${PROTOCOL_LOGDIR:-${B:-build}/test-logs/protocol}
mkdir -p "$LOGDIR"
. boot-tests/harness/qemu.sh
for f in "$PROTO_HARNESS" "$PROTO_PROBE" "$PROTO_PURGATORY"; do
  [ -f "$f" ] || { echo "demo: $f missing: run make first" >&2; exit 2; }
done
case $entry in
  lm64-la57) cpu="max,+la57" ;;
  no1g) cpu=qemu64 ;;
  *) cpu=max ;;
esac
name=demo-$entry-to-$kind
log=$LOGDIR/$name.log
if [ "$quiet" = yes ]; then
  proto_boot "$log" "$cpu" "$purg" "case=$name entry=$entry kind=$kind"
  proto_wait
  p=$(grep -c '^PASS: ' "$log") f=$(grep -c '^FAIL: ' "$log")
  if [ "$RC" -eq 33 ] && [ "$f" -eq 0 ] && [ "$p" -gt 0 ]; then
    echo "probe: $entry -> $kind: $p/$((p + f)) checks PASS (make run-probe lists them)"
  else
    echo "probe: $entry -> $kind: $f of $((p + f)) checks FAIL, $(proto_why "$RC"); log: $log"
    grep '^FAIL: ' "$log" | head -n 5 | sed 's/^/  /'
  fi
  [ "$RC" -eq 33 ]
  exit
fi
echo "demo: QEMU (TCG, -cpu $cpu): harness enters purgatory.bin at $purg from $entry;"
echo "demo: the purgatory hands off to the probe with the $kind protocol."
echo
proto_boot "$log" "$cpu" "$purg" "case=$name entry=$entry kind=$kind"
proto_wait
echo "---- console (debugcon 0xE9): harness, purgatory ----"
grep -E '^(harness|charon):' "$log"
echo "---- probe ----"
grep -vE '^(harness|charon):' "$log"
echo "----"
echo "demo: $(proto_why "$RC") (QEMU exit status $RC); full log: $log"
[ "$RC" -eq 33 ]
