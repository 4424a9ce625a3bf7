#!/bin/sh
# kdump (tier 3): kernel A boots with crashkernel=, marks low memory, writes
# a fresh marker into its log, prints its direct-map base, loads a crash
# kernel with `charon-kexec -p` (or, as the reference, Debian's `kexec -p`
# with kexec-tools' own purgatory) and panics. The crash kernel checks
# /proc/vmcore with vmcore-check (the ELF header, the NT_PRSTATUS and
# VMCOREINFO notes, a PT_LOAD for [0, 640 KiB)) and that page 0 in the dump
# is what kernel A had there (boot-tests/kernel/kdump-init says why page 0),
# then runs Debian's makedumpfile, as distributions capture crashes:
#   NAME                  the crash kernel came up and the checks above pass
#   NAME/makedumpfile-dmesg        --dump-dmesg /proc/vmcore holds kernel
#                         A's marker and its panic line
#   NAME/makedumpfile-dump         -l -d 31 writes a dump
#   NAME/makedumpfile-page-offset  makedumpfile took page_offset from the
#                         core's PT_LOADs ("(pt_load)", not a built-in
#                         constant) and it is kernel A's direct-map base
#   NAME/makedumpfile-reread       --dump-dmesg on the written dump finds
#                         the marker and the panic line again
# Prints a PASS/FAIL line for each and exits 1 if any failed.
#
# Usage: run-kdump.sh [--loader charon|kexec-tools] [--case [LOADER:]PROTO:MEM[:nmi]]... [--live]
#   --loader names the loader of the --case options after it (default
#   charon). Default cases: kexec-tools:64:1G (the reference: if only the
#   charon cases fail, the setup is fine), 64:1G 32:1G 64:6G 64:2G:nmi.
#   With 6 GiB the reservation lies just below 3 GiB, above the 2 GiB the
#   purgatory prefers: charon-kexec places it there since its relocations
#   are all PC-relative.
#   :nmi (charon only): an NMI while the purgatory hashes must not cost the
#   dump. The crash kernel's initrd carries NMI_PAD_MIB (default 128) MiB
#   of zeros more (the initramfs unpacker skips zeros between archives), so
#   the purgatory hashes for seconds (about 5 under TCG; 256 MiB took 25 s,
#   as kernel A's loader hashes it too). Once the purgatory has printed its
#   first line on ttyS0, QEMU's monitor injects an NMI (after a crash the
#   dying kernel leaves LINT1 routed to NMI: a BMC's or a watchdog's NMI
#   gets there just so). The purgatory must report "charon: N NMI(s) while
#   running" and hand off, and the dump must pass every check above.
#   crashkernel=512M for the larger initrd; kernel A loads once only
#   (kdump-init's charon.dryrun=no).
#   QEMU writes the serial console to a file that the runner polls (the
#   :nmi injection waits for the purgatory's line in it); --live follows it.
# Environment: KERNEL, CHARON_KEXEC, VMCORE_CHECK, PAGE_OFFSET, MAKEDUMPFILE,
#   LOGDIR, QEMU_EXTRA, NMI_PAD_MIB.
set -u
here=$(dirname "$0")
. "$here/kernel-a.sh"
kernel=${KERNEL:-build/kernel/vmlinuz}
charon=${CHARON_KEXEC:-build/loader/charon-kexec}
check=${VMCORE_CHECK:-build/loader/vmcore-check}
pageoff=${PAGE_OFFSET:-build/loader/page-offset}
mdf=${MAKEDUMPFILE:-/usr/bin/makedumpfile}
logdir=${LOGDIR:-build/kernel/logs}
cases="" live=no loader=charon
while [ $# -gt 0 ]; do
  case "$1" in
    --loader) loader=$2; shift ;;
    --case)
      case "$2" in
        charon:*|kexec-tools:*) cases="$cases $2" ;;
        *) cases="$cases $loader:$2" ;;
      esac
      shift ;;
    --live) live=yes ;;
    *) echo "run-kdump: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$cases" ] || cases="kexec-tools:64:1G charon:64:1G charon:32:1G charon:64:6G charon:64:2G:nmi"
# Every case is checked before the first one runs.
for c in $cases; do
  case "$c" in
    charon:64:*G|charon:32:*G|charon:64:*G:nmi|charon:32:*G:nmi) ;;
    kexec-tools:64:*G|kexec-tools:32:*G) ;;
    *) echo "run-kdump: --case [charon:|kexec-tools:]64:1G|32:1G|64:6G|64:2G:nmi|... (:nmi with charon only), not $c" >&2
      exit 2 ;;
  esac
done
# crashkernel=256M: the crash kernel's init_size (~52 MiB), its initrd
# (~10 MiB) and room to run makedumpfile. Of at least 1 GiB, so that kernel
# A (KASLR) always leaves a 16 MiB-aligned 256 MiB block for it; with
# 512 MiB the reservation fails now and then ("No suitable area found").
# The :nmi cases take 512 MiB (their machines have 2 GiB).
crash=256M tmo=200
nmi_pad=${NMI_PAD_MIB:-128} nmi_crash=512M
mkdir -p "$logdir"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/charon-kdump.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0

setup() {
  for f in "$kernel" "$charon" "$check" "$pageoff"; do
    [ -s "$f" ] || { echo "missing $f (make deps; make)"; return 1; }
  done
  [ -x "$mdf" ] || { echo "missing $mdf (make deps installs Debian's makedumpfile)"; return 1; }
  base=build/kernel/initramfs.cpio.gz
  sh "$here/mkinitramfs.sh" "$base" "$charon" >/dev/null || { echo "mkinitramfs.sh failed"; return 1; }
  # The crash kernel's initrd: the test initramfs with kdump-init,
  # vmcore-check, page-offset and Debian's makedumpfile with every library
  # ldd names (the loader too, at the same paths) laid over it, as one more
  # cpio member.
  mkdir -p "$tmp/kd/sbin" "$tmp/kd/boot" "$tmp/kd/usr/bin"
  cp "$here/kdump-init" "$tmp/kd/kdump-init"
  chmod 755 "$tmp/kd/kdump-init"
  cp "$check" "$tmp/kd/sbin/vmcore-check"
  cp "$pageoff" "$tmp/kd/sbin/page-offset"
  cp "$mdf" "$tmp/kd/usr/bin/makedumpfile"
  files="kdump-init sbin sbin/vmcore-check sbin/page-offset usr usr/bin usr/bin/makedumpfile"
  for lib in $(ldd "$mdf" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p'); do
    mkdir -p "$tmp/kd$(dirname "$lib")"
    cp -L "$lib" "$tmp/kd$lib"
    files="$files $(dirname "${lib#/}") ${lib#/}"
  done
  (cd "$tmp/kd" && echo "$files" | tr ' ' '\n' | awk '!seen[$0]++' |
    cpio -o -H newc -R 0:0 --quiet) >"$tmp/kd.cpio" || { echo "cpio failed"; return 1; }
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

run_case() { # LOADER PROTO MEM [nmi]
  ldr=$1 mem=$3 nmi=${4:-} crash_here=$crash initrd_a=$tmp/initrd-a
  if [ "$nmi" = nmi ]; then
    crash_here=$nmi_crash initrd_a=$tmp/initrd-a-nmi
    setup_nmi
  fi
  name=kdump-$ldr-$2bit-$mem-crashkernel-$crash_here
  [ "$nmi" = nmi ] && name=$name-nmi-while-hashing-${nmi_pad}M-initrd
  log=$logdir/$name.log
  raw=$tmp/$name.raw
  clean=$tmp/clean.log
  rm -f "$clean"
  # The purgatory's lines on ttyS0 show the backup it made (charon) or
  # that it ran (kexec-tools' purgatory divides by the baud rate, so it
  # needs one).
  opts="--console-serial --serial=0x3f8"
  case "$ldr" in
    charon) purg_re='^charon: backup 0x0+0xa0000 -> '; purg_what='"charon: backup"' ;;
    kexec-tools) opts="$opts --serial-baud=115200"; purg_re="I'm in purgatory"
      purg_what="\"I'm in purgatory\"" ;;
  esac
  [ "$2" = 32 ] && opts="$opts --entry-32bit"
  fail() {
    echo "FAIL: $name ($1)"
    [ -s "$clean" ] && tail -n 30 "$clean" | sed 's/^/  | /'
    [ -s "$tmp/qemu.err" ] && sed 's/^/  | qemu: /' "$tmp/qemu.err"
    failed=$((failed + 1))
  }
  # A fresh token proves the crash kernel got this run's cmdline.
  token=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
  bappend="console=ttyS0 panic=-1 rdinit=/kdump-init charon.stage=kdump-b charon.token=$token"
  aappend="console=ttyS0 panic=-1 rdinit=/kdump-init charon.stage=kdump-a crashkernel=$crash_here"
  # One load only with the :nmi case's large initrd (kdump-init).
  [ "$nmi" = nmi ] && aappend="$aappend charon.dryrun=no"
  aappend="$aappend charon.loader=$ldr charon.opts=$(echo "$opts" | tr ' ' '~') charon.bappend=$(echo "$bappend" | tr ' ' '~')"
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
  text_log "$raw" "$clean"
  cp "$clean" "$log"
  # From the panic on: kernel A printed CHARON-A-EXEC, all after it is the
  # purgatory and the crash kernel.
  if ! grep -q 'CHARON-KDUMP-A-PAGE0' "$clean"; then
    fail "kernel A did not mark page 0 after ${secs}s"
  elif grep -q 'CHARON-A-LOAD-FAILED' "$clean"; then
    fail "$ldr -p failed in kernel A"
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
  elif ! sed -n '/CHARON-A-EXEC$/,$p' "$clean" | grep -q "$purg_re"; then
    fail "no $purg_what line from the purgatory after the panic (${secs}s)"
  elif ! grep -q "CHARON-B-OK cmdline=$bappend .*elfcorehdr=[0-9]*K" "$clean"; then
    fail "the crash kernel did not come up with this run's cmdline and elfcorehdr= (${secs}s)"
  elif ! grep -q 'CHARON-B-VMCORE vmcore-check: VMCOREINFO OSRELEASE=' "$clean"; then
    fail "vmcore-check found no VMCOREINFO note"
  elif ! grep -q '^CHARON-KDUMP-OK' "$clean"; then
    fail "$(grep -m1 -o 'CHARON-KDUMP-FAILED.*' "$clean" || echo "no verdict from the crash kernel after ${secs}s")"
  else
    extra=
    [ "$nmi" = nmi ] && extra=", hashing ${nmi_window}s, $(grep -m1 -oE '[0-9]+ NMI\(s\) while running' "$clean")"
    echo "PASS: $name (${secs}s$extra)"
  fi
  # The crash kernel's makedumpfile verdicts (kdump-init's CHARON-CHECK).
  for c in dmesg dump; do
    verdict "$c" "$(grep -m1 "^CHARON-CHECK [A-Z]* $c\( \|$\)" "$clean")"
  done
  # page_offset: kernel A's own base against makedumpfile's, which must
  # come from the core's PT_LOADs (p_vaddr - p_paddr), not a constant.
  a_po=$(sed -n 's/^KDUMP-PAGE-OFFSET=0*\([0-9a-f]*\)$/\1/p' "$clean" | head -n 1)
  b_po=$(sed -n 's/^CHARON-B-MDF-PAGE-OFFSET 0*\([0-9a-fA-F]*\) \([a-z_]*\)$/\1 \2/p' "$clean" |
    head -n 1 | tr 'A-F' 'a-f')
  if [ -z "$a_po" ]; then
    verdict page-offset "CHARON-CHECK FAIL page-offset (kernel A printed no KDUMP-PAGE-OFFSET: $(grep -m1 -o 'CHARON-KDUMP-A-PAGE-OFFSET-FAILED.*' "$clean" || echo "it never got there"))"
  elif [ -z "$b_po" ]; then
    verdict page-offset "CHARON-CHECK FAIL page-offset (no \"page_offset : <hex> (...)\" line from makedumpfile -d 31 --message-level 31; kernel A's is $a_po)"
  elif [ "$b_po" = "$a_po pt_load" ]; then
    verdict page-offset "CHARON-CHECK PASS page-offset (makedumpfile: $a_po (pt_load), kernel A's direct map)"
  else
    verdict page-offset "CHARON-CHECK FAIL page-offset (makedumpfile: page_offset ${b_po% *} (${b_po#* }); kernel A's direct map is at $a_po)"
  fi
  verdict reread "$(grep -m1 "^CHARON-CHECK [A-Z]* reread\( \|$\)" "$clean")"
}

# verdict CHECK LINE: LINE is "CHARON-CHECK PASS|FAIL CHECK [(why)]", or
# empty when the crash kernel never got to CHECK.
verdict() {
  case "$2" in
    "CHARON-CHECK PASS $1"*) echo "PASS: $name/makedumpfile-$1${2#"CHARON-CHECK PASS $1"}" ;;
    "CHARON-CHECK FAIL $1"*) echo "FAIL: $name/makedumpfile-$1${2#"CHARON-CHECK FAIL $1"}"
      grep -e '^CHARON-B-MDF .*[Ee]rr' -e '^CHARON-B-MDF status' -e "^CHARON-B-MDF page_offset" \
        "$clean" | head -n 12 | sed 's/^/  | /'
      failed=$((failed + 1)) ;;
    *) echo "FAIL: $name/makedumpfile-$1 (the crash kernel did not report it)"
      failed=$((failed + 1)) ;;
  esac
}

if ! why=$(setup); then
  echo "FAIL: kdump-setup ($why)"
  exit 1
fi
for c in $cases; do
  p=${c#*:}  # PROTO:MEM[:nmi], checked above
  m=${p#*:}
  case "$m" in
    *:nmi) run_case "${c%%:*}" "${p%%:*}" "${m%:nmi}" nmi ;;
    *) run_case "${c%%:*}" "${p%%:*}" "$m" ;;
  esac
done
[ "$failed" -eq 0 ]
