#!/bin/sh
# `make run`: charon's main job in one screen. Under QEMU (TCG), Debian's
# kernel A boots; its /init loads kernel B with charon-kexec and runs
# `kexec -e`; the purgatory checks the image and hands off; kernel B checks
# the cmdline and initrd it was given. Shown live: the loader's plan, the
# purgatory's "charon:" lines, kernel B's verdict, each stamped with the
# seconds since the demo started; then how long kexec -e took to kernel B's
# verdict, and one protocol probe case as a one-line verdict.
#
#   sh boot-tests/demo.sh [run-kexec.sh options]   e.g. --proto 32 --mem 6G
#
# The full serial log stays in build/kernel/logs/; `make run-kernel` shows
# it whole, `make run-probe` lists every probe check.
set -u
cd "$(dirname "$0")/.." || exit 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/charon-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cpu=max,+la57 mem=512M
kver=$(cat build/kernel/kernel-version 2>/dev/null || echo "Debian's kernel")
echo "== charon: Debian's kernel kexecs into a new kernel through charon"
echo "   QEMU (TCG, no KVM), -cpu $cpu (5-level paging), $mem of RAM"
echo "   kernel A and kernel B: $kver"
echo "   kernel A's /init: charon-kexec -l (kernel B, initrd, cmdline), then kexec -e"
echo

t0=$(date +%s.%N)
# run-kexec.sh --stamp puts the host's time in front of every serial line;
# its own PASS/FAIL lines come unstamped.
{
  sh boot-tests/kernel/run-kexec.sh --loader charon --proto 64 --mem "$mem" --cpu "$cpu" \
    --serial-log --quiet --live --stamp "$@"
  echo $? >"$tmp/rc"
} | awk -v t0="$t0" -v times="$tmp/times" '
  function at(t) { return sprintf("[%5.1fs]", t - t0) }
  # 0x000000001f8a6000 -> 0x1f8a6000
  function short(s) {
    while (match(s, /0x0[0-9a-f]/)) s = substr(s, 1, RSTART + 1) substr(s, RSTART + 3)
    return s
  }
  function show(t, who, text) { printf "%s %-9s %s\n", at(t), who, text; fflush() }
  function note(text) { printf "%10s %s\n", "", text; fflush() }
  !/^[0-9]+\.[0-9]+ / { print; fflush(); next }
  {
    t = $1; line = substr($0, length($1) + 2); gsub(/\r/, "", line)
  }
  line ~ /^CHARON-A-UP / {
    split(line, w, " "); show(t, "kernel A", "up at /init, " w[2] " (" (w[2] == "la57=yes" ? "5" : "4") "-level paging)")
    next
  }
  # The plan, one row per segment: seg, source, destination, what (the
  # columns are two or more spaces apart; the size is the range).
  line ~ /^CHARON-A-LAYOUT / {
    l = short(substr(line, 17))
    if (l ~ /^sha256:/) {
      n = gsub(/\[/, "[", l); l = substr(l, 1, 23) "... over " n " regions"
    }
    if (!planned++) show(t, "kernel A", "charon-kexec --dry-run: where each segment goes")
    if (split(l, c, /  +/) >= 5) {
      sub(/ \(.*\)$/, "", c[5]); note(sprintf("%-3s %-21s  %-21s  %s", c[1], c[2], c[3], c[5]))
    } else note(l)
    next
  }
  line ~ /^CHARON-A-LOAD / {
    l = substr(line, 15); sub(/^\/sbin\//, "", l); a = index(l, " --append=")
    n = split(substr(l, 1, a - 1), w, " "); head = w[1]; opts = ""
    for (i = 2; i <= n; i++) if (i <= 4) head = head " " w[i]; else opts = opts " " w[i]
    show(t, "kernel A", head); if (opts != "") note(substr(opts, 2)); note(substr(l, a + 1)); next
  }
  line ~ /^CHARON-A-EXEC$/ { texec = t; show(t, "kernel A", "kexec -e"); next }
  line ~ /^CHARON-A-/ { show(t, "kernel A", line); next }
  line ~ /^charon(-kexec)?:/ { show(t, texec ? "purgatory" : "loader", line); next }
  line ~ /^CHARON-INIT$/ { if (texec) show(t, "kernel B", "up at /init"); next }
  line ~ /^CHARON-B-OK / {
    show(t, "kernel B", "its cmdline, with kernel A'"'"'s fresh token:"); note(substr(line, 21)); next
  }
  line ~ /^CHARON-B-MEM / { sub(/^CHARON-B-MEM /, "", line); show(t, "kernel B", line); next }
  line ~ /^CHARON-B-INITRD / {
    sub(/.*\(/, "", line); sub(/\).*/, "", line); show(t, "kernel B", "initrd at " line); next
  }
  line ~ /^CHARON-INITRD-(OK|BAD)/ {
    tv = t
    show(t, "kernel B", line ~ /OK/ ? "verdict: initrd payload sha256 matches (CHARON-INITRD-OK)" \
      : "verdict: initrd payload damaged (CHARON-INITRD-BAD)")
    next
  }
  END { if (texec && tv) printf "%s %s\n", tv - texec, tv - t0 > times }
'
rc=$(cat "$tmp/rc" 2>/dev/null || echo 1)
t1=$(date +%s.%N)
echo
if [ -s "$tmp/times" ]; then
  read -r exec_s _ <"$tmp/times"
  awk -v e="$exec_s" -v t0="$t0" -v t1="$t1" 'BEGIN {
    printf "time: %.1f s from kernel A'"'"'s kexec -e to kernel B'"'"'s verdict (A shuts down,\n", e
    printf "      the purgatory checks and hands off, B boots); %.1f s in all\n", t1 - t0 }'
else
  echo "time: not measured: kernel B gave no verdict after kexec -e (see above)"
fi

# One protocol case, no OS: the harness enters purgatory.bin, the probe
# checks the state it is handed.
sh boot-tests/harness/demo.sh --quiet lm64-ident linux64 || rc=1
exit "$rc"
