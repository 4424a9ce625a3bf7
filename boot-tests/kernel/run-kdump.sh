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
# Usage: run-kdump.sh [--loader charon|kexec-tools] [--case [LOADER:]PROTO:MEM]... [--live]
#   --loader names the loader of the --case options after it (default
#   charon). Default cases: kexec-tools:64:1G (the reference: if only the
#   charon cases fail, the setup is fine), 64:1G 32:1G 64:6G. With 6 GiB the
#   reservation lies just below 3 GiB, above the 2 GiB the purgatory
#   prefers: charon-kexec places it there since its relocations are all
#   PC-relative.
# Environment: KERNEL, CHARON_KEXEC, VMCORE_CHECK, PAGE_OFFSET, MAKEDUMPFILE,
#   LOGDIR, QEMU_EXTRA.
set -u
here=$(dirname "$0")
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
        *:*:*) cases="$cases $2" ;;
        *) cases="$cases $loader:$2" ;;
      esac
      shift ;;
    --live) live=yes ;;
    *) echo "run-kdump: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$cases" ] || cases="kexec-tools:64:1G charon:64:1G charon:32:1G charon:64:6G"
# crashkernel=256M: the crash kernel's init_size (~52 MiB), its initrd
# (~10 MiB) and room to run makedumpfile. Of at least 1 GiB, so that kernel
# A (KASLR) always leaves a 16 MiB-aligned 256 MiB block for it; with
# 512 MiB the reservation fails now and then ("No suitable area found").
crash=256M tmo=200
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

run_case() { # LOADER PROTO MEM
  ldr=$1 mem=$3
  name=kdump-$ldr-$2bit-$mem-crashkernel-$crash
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
    *) echo "run-kdump: --loader charon|kexec-tools" >&2; exit 2 ;;
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
  aappend="console=ttyS0 panic=-1 rdinit=/kdump-init charon.stage=kdump-a crashkernel=$crash"
  aappend="$aappend charon.loader=$ldr charon.opts=$(echo "$opts" | tr ' ' '~') charon.bappend=$(echo "$bappend" | tr ' ' '~')"
  start=$(date +%s)
  # shellcheck disable=SC2086
  timeout "$tmo" qemu-system-x86_64 -accel tcg -cpu max,-la57 -m "$mem" -smp 1 \
    -nodefaults -display none -serial stdio -monitor none -no-reboot ${QEMU_EXTRA:-} \
    -kernel "$kernel" -initrd "$tmp/initrd-a" -append "$aappend" </dev/null 2>"$tmp/qemu.err" |
    if [ "$live" = yes ]; then tee "$raw"; else cat >"$raw"; fi
  secs=$(( $(date +%s) - start ))
  tr -d '\r' <"$raw" | tr -c '[:print:]\t\n' '?' >"$clean"
  cp "$clean" "$log"
  # From the panic on: kernel A printed CHARON-A-EXEC, all after it is the
  # purgatory and the crash kernel.
  if ! grep -q 'CHARON-KDUMP-A-PAGE0' "$clean"; then
    fail "kernel A did not mark page 0 after ${secs}s"
  elif grep -q 'CHARON-A-LOAD-FAILED' "$clean"; then
    fail "$ldr -p failed in kernel A"
  elif ! sed -n '/CHARON-A-EXEC$/,$p' "$clean" | grep -q "$purg_re"; then
    fail "no $purg_what line from the purgatory after the panic (${secs}s)"
  elif ! grep -q "CHARON-B-OK cmdline=$bappend .*elfcorehdr=[0-9]*K" "$clean"; then
    fail "the crash kernel did not come up with this run's cmdline and elfcorehdr= (${secs}s)"
  elif ! grep -q 'CHARON-B-VMCORE vmcore-check: VMCOREINFO OSRELEASE=' "$clean"; then
    fail "vmcore-check found no VMCOREINFO note"
  elif ! grep -q '^CHARON-KDUMP-OK' "$clean"; then
    fail "$(grep -m1 -o 'CHARON-KDUMP-FAILED.*' "$clean" || echo "no verdict from the crash kernel after ${secs}s")"
  else
    echo "PASS: $name (${secs}s)"
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
  p=${c#*:}
  case "$p" in
    64:*G|32:*G) run_case "${c%%:*}" "${p%%:*}" "${p#*:}" ;;
    *) echo "run-kdump: --case [charon:|kexec-tools:]64:1G|32:1G|64:6G|..." >&2; exit 2 ;;
  esac
done
[ "$failed" -eq 0 ]
