#!/bin/sh
# kdump through charon (tier 3): kernel A boots with crashkernel=, marks
# low memory, loads a crash kernel with `charon-kexec -p` and panics; the
# crash kernel comes up through charon's purgatory and checks /proc/vmcore
# with vmcore-check (the ELF header, the NT_PRSTATUS and VMCOREINFO notes,
# a PT_LOAD for [0, 640 KiB)) and that page 0 in the dump is what kernel A
# had there (boot-tests/kernel/kdump-init says why page 0).
# One case per handoff protocol; prints a PASS/FAIL line per case and
# exits 1 if any failed.
#
# Usage: run-kdump.sh [--case PROTO:MEM[:nmi]]... [--live]
#   default cases: 64:1G 32:1G 64:6G 64:2G:nmi. With 6 GiB the reservation
#   lies just below 3 GiB, above the 2 GiB the purgatory prefers:
#   charon-kexec places it there since its relocations are all PC-relative.
#   :nmi: an NMI while the purgatory hashes must not cost the dump. The
#   crash kernel's initrd carries NMI_PAD_MIB (default 128) MiB of zeros
#   more (the initramfs unpacker skips zeros between archives), so the
#   purgatory hashes for seconds (about 5 under TCG; 256 MiB took 25 s and
#   the case 95 s, as kernel A's loader hashes it too). Once the purgatory
#   has printed its first line on ttyS0, QEMU's monitor injects an NMI
#   (after a crash the dying kernel leaves LINT1 routed to NMI: a BMC's or
#   a watchdog's NMI gets there just so). The purgatory must report
#   "charon: N NMI(s) while running" and hand off, and the dump must pass
#   as in every case. crashkernel=512M for the larger initrd.
# Environment: KERNEL, CHARON_KEXEC, VMCORE_CHECK, LOGDIR, QEMU_EXTRA,
#   NMI_PAD_MIB.
set -u
here=$(dirname "$0")
kernel=${KERNEL:-build/kernel/vmlinuz}
charon=${CHARON_KEXEC:-build/loader/charon-kexec}
check=${VMCORE_CHECK:-build/loader/vmcore-check}
logdir=${LOGDIR:-build/kernel/logs}
cases="" live=no
while [ $# -gt 0 ]; do
  case "$1" in
    --case) cases="$cases $2"; shift ;;
    --live) live=yes ;;
    *) echo "run-kdump: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$cases" ] || cases="64:1G 32:1G 64:6G 64:2G:nmi"
# crashkernel=256M: the crash kernel's init_size (~52 MiB), its initrd
# (~8 MiB) and room to run. Of at least 1 GiB, so that kernel A (KASLR)
# always leaves a 16 MiB-aligned 256 MiB block for it; with 512 MiB the
# reservation fails now and then ("No suitable area found").
crash=256M tmo=150
nmi_pad=${NMI_PAD_MIB:-128} nmi_crash=512M
mkdir -p "$logdir"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/charon-kdump.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0

setup() {
  for f in "$kernel" "$charon" "$check"; do
    [ -s "$f" ] || { echo "missing $f (make deps; make)"; return 1; }
  done
  base=build/kernel/initramfs.cpio.gz
  sh "$here/mkinitramfs.sh" "$base" "$charon" >/dev/null || { echo "mkinitramfs.sh failed"; return 1; }
  # The crash kernel's initrd: the test initramfs with kdump-init and
  # vmcore-check laid over it, as one more cpio member.
  mkdir -p "$tmp/kd/sbin" "$tmp/kd/boot"
  cp "$here/kdump-init" "$tmp/kd/kdump-init"
  chmod 755 "$tmp/kd/kdump-init"
  cp "$check" "$tmp/kd/sbin/vmcore-check"
  (cd "$tmp/kd" && printf 'kdump-init\nsbin\nsbin/vmcore-check\n' |
    cpio -o -H newc -R 0:0 --quiet) >"$tmp/kd.cpio"
  cat "$base" "$tmp/kd.cpio" >"$tmp/kd/boot/initrd"
  # Kernel A's: the same, plus the crash kernel and its initrd under /boot.
  cp "$kernel" "$tmp/kd/boot/vmlinuz"
  (cd "$tmp/kd" && printf 'boot\nboot/vmlinuz\nboot/initrd\n' |
    cpio -o -H newc -R 0:0 --quiet) >"$tmp/boot.cpio"
  cat "$tmp/kd/boot/initrd" "$tmp/boot.cpio" >"$tmp/initrd-a"
}

# Kernel A's initrd for the :nmi cases: the crash kernel's initrd padded
# with NMI_PAD_MIB MiB of zeros. Made once, on first use.
setup_nmi() {
  [ -s "$tmp/initrd-a-nmi" ] && return 0
  mkdir -p "$tmp/nmi/boot"
  cp "$tmp/kd/boot/vmlinuz" "$tmp/nmi/boot/vmlinuz"
  { cat "$tmp/kd/boot/initrd"; head -c $((nmi_pad << 20)) /dev/zero; } >"$tmp/nmi/boot/initrd"
  (cd "$tmp/nmi" && printf 'boot\nboot/vmlinuz\nboot/initrd\n' |
    cpio -o -H newc -R 0:0 --quiet) >"$tmp/boot-nmi.cpio"
  cat "$tmp/kd/boot/initrd" "$tmp/boot-nmi.cpio" >"$tmp/initrd-a-nmi"
  rm -rf "$tmp/nmi" "$tmp/boot-nmi.cpio"
}

# Waits until the serial log has a line matching $1 (status 0), or QEMU
# ($qpid) has exited (1).
wait_serial() {
  while kill -0 "$qpid" 2>/dev/null; do
    tr -d '\r' <"$raw" | grep -qE "$1" && return 0
    sleep 0.2
  done
  tr -d '\r' <"$raw" | grep -qE "$1"
}

# The :nmi case's injection, while QEMU runs: sets nmi_sent (yes, no, or
# late when the purgatory had hashed everything before) and nmi_window,
# the seconds from the purgatory's first line to "digest ok".
inject_nmi() {
  nmi_sent=no nmi_window='?'
  wait_serial '^charon: purgatory at' || return 0
  t0=$(date +%s)
  nmi_sent=yes
  tr -d '\r' <"$raw" | grep -q '^charon: digest ok' && nmi_sent=late
  # QEMU holds the FIFO open read-write, so this open does not block
  # while it runs; the timeout covers a QEMU that has just exited.
  # shellcheck disable=SC2016 # expanded by the inner sh
  timeout 5 sh -c 'echo nmi >"$1"' sh "$tmp/mon.in" || nmi_sent=no
  wait_serial '^charon: (digest ok|exception)' && nmi_window=$(($(date +%s) - t0))
  # Halting on the NMI (the old purgatory) would run into the timeout.
  if wait_serial '^(charon: exception|CHARON-B-OK)'; then
    tr -d '\r' <"$raw" | grep -q '^charon: exception' && { sleep 1; kill "$qpid" 2>/dev/null; }
  fi
}

run_case() { # PROTO MEM [nmi]
  mem=$2 nmi=${3:-} crash_here=$crash initrd_a=$tmp/initrd-a
  if [ "$nmi" = nmi ]; then
    crash_here=$nmi_crash initrd_a=$tmp/initrd-a-nmi
    setup_nmi
  fi
  name=kdump-charon-$1bit-$mem-crashkernel-$crash_here
  [ "$nmi" = nmi ] && name=$name-nmi-while-hashing-${nmi_pad}M-initrd
  log=$logdir/$name.log
  raw=$tmp/$name.raw
  # The purgatory's lines on ttyS0 show the backup it made.
  opts="--console-serial --serial=0x3f8"
  [ "$1" = 32 ] && opts="$opts --entry-32bit"
  fail() {
    [ -e "$raw" ] && tr -d '\r' <"$raw" | tr -c '[:print:]\t\n' '?' >"$log"
    echo "FAIL: $name ($1)"
    [ -s "$log" ] && tail -n 30 "$log" | sed 's/^/  | /'
    [ -s "$tmp/qemu.err" ] && sed 's/^/  | qemu: /' "$tmp/qemu.err"
    failed=$((failed + 1))
  }
  # A fresh token proves the crash kernel got this run's cmdline.
  token=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
  bappend="console=ttyS0 panic=-1 rdinit=/kdump-init charon.stage=kdump-b charon.token=$token"
  aappend="console=ttyS0 panic=-1 rdinit=/kdump-init charon.stage=kdump-a crashkernel=$crash_here"
  # One load only with the :nmi case's large initrd (kdump-init).
  [ "$nmi" = nmi ] && aappend="$aappend charon.dryrun=no"
  aappend="$aappend charon.opts=$(echo "$opts" | tr ' ' '~') charon.bappend=$(echo "$bappend" | tr ' ' '~')"
  monitor=none
  if [ "$nmi" = nmi ]; then
    rm -f "$tmp/mon.in" "$tmp/mon.out"
    mkfifo "$tmp/mon.in" "$tmp/mon.out"
    monitor=pipe:$tmp/mon  # replies stay unread in mon.out: a few lines
  fi
  start=$(date +%s)
  : >"$raw"
  # shellcheck disable=SC2086
  timeout "$tmo" qemu-system-x86_64 -accel tcg -cpu max,-la57 -m "$mem" -smp 1 \
    -nodefaults -display none -serial "file:$raw" -monitor "$monitor" -no-reboot \
    ${QEMU_EXTRA:-} -kernel "$kernel" -initrd "$initrd_a" -append "$aappend" \
    </dev/null >/dev/null 2>"$tmp/qemu.err" &
  qpid=$!
  tpid=
  if [ "$live" = yes ]; then
    tail -f "$raw" &
    tpid=$!
  fi
  [ "$nmi" = nmi ] && inject_nmi
  wait "$qpid"
  [ -n "$tpid" ] && kill "$tpid"
  secs=$(( $(date +%s) - start ))
  clean=$tmp/clean.log
  tr -d '\r' <"$raw" | tr -c '[:print:]\t\n' '?' >"$clean"
  if ! grep -q 'CHARON-KDUMP-A-PAGE0' "$clean"; then
    fail "kernel A did not mark page 0 after ${secs}s"
  elif grep -q 'CHARON-A-LOAD-FAILED' "$clean"; then
    fail "charon-kexec -p failed in kernel A"
  elif [ "$nmi" = nmi ] && [ "$nmi_sent" != yes ]; then
    if [ "$nmi_sent" = late ]; then
      fail "the purgatory had hashed everything before the NMI was sent; raise NMI_PAD_MIB"
    else
      fail "no NMI sent: the purgatory printed no line after the panic (${secs}s)"
    fi
  elif [ "$nmi" = nmi ] && grep -q '^charon: exception' "$clean"; then
    fail "the purgatory halted on the NMI (${secs}s)"
  elif [ "$nmi" = nmi ] && ! grep -qE '^charon: [1-9][0-9]* NMI\(s\) while running' "$clean"; then
    fail "the purgatory reports no NMI (${secs}s)"
  elif ! sed -n '/CHARON-A-EXEC$/,$p' "$clean" | grep -q '^charon: backup 0x0+0xa0000 -> '; then
    fail "no \"charon: backup\" line from the purgatory after the panic (${secs}s)"
  elif ! grep -q "CHARON-B-OK cmdline=$bappend .*elfcorehdr=[0-9]*K" "$clean"; then
    fail "the crash kernel did not come up with this run's cmdline and elfcorehdr= (${secs}s)"
  elif ! grep -q 'CHARON-B-VMCORE vmcore-check: VMCOREINFO OSRELEASE=' "$clean"; then
    fail "vmcore-check found no VMCOREINFO note"
  elif ! grep -q '^CHARON-KDUMP-OK' "$clean"; then
    fail "$(grep -m1 -o 'CHARON-KDUMP-FAILED.*' "$clean" || echo "no verdict from the crash kernel after ${secs}s")"
  else
    cp "$clean" "$log"
    extra=
    [ "$nmi" = nmi ] && extra=", hashing ${nmi_window}s"
    echo "PASS: $name (${secs}s$extra)"
  fi
}

if ! why=$(setup); then
  echo "FAIL: kdump-setup ($why)"
  exit 1
fi
for c in $cases; do
  case "$c" in
    64:*G|32:*G) run_case "${c%%:*}" "${c#*:}" ;;
    64:*G:nmi|32:*G:nmi) m=${c#*:}; run_case "${c%%:*}" "${m%:nmi}" nmi ;;
    *) echo "run-kdump: --case 64:1G|32:1G|64:6G|64:2G:nmi|..." >&2; exit 2 ;;
  esac
done
[ "$failed" -eq 0 ]
