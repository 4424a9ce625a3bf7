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
# Usage: run-kdump.sh [--case PROTO:MEM]... [--live]
#   default cases: 64:1G 32:1G 64:6G. With 6 GiB the reservation lies just
#   below 3 GiB, above the 2 GiB the purgatory prefers: charon-kexec places
#   it there since its relocations are all PC-relative.
# Environment: KERNEL, CHARON_KEXEC, VMCORE_CHECK, LOGDIR, QEMU_EXTRA.
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
[ -n "$cases" ] || cases="64:1G 32:1G 64:6G"
# crashkernel=256M: the crash kernel's init_size (~52 MiB), its initrd
# (~8 MiB) and room to run. Of at least 1 GiB, so that kernel A (KASLR)
# always leaves a 16 MiB-aligned 256 MiB block for it; with 512 MiB the
# reservation fails now and then ("No suitable area found").
crash=256M tmo=150
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

run_case() { # PROTO MEM
  mem=$2
  name=kdump-charon-$1bit-$mem-crashkernel-$crash
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
  aappend="console=ttyS0 panic=-1 rdinit=/kdump-init charon.stage=kdump-a crashkernel=$crash"
  aappend="$aappend charon.opts=$(echo "$opts" | tr ' ' '~') charon.bappend=$(echo "$bappend" | tr ' ' '~')"
  start=$(date +%s)
  # shellcheck disable=SC2086
  timeout "$tmo" qemu-system-x86_64 -accel tcg -cpu max,-la57 -m "$mem" -smp 1 \
    -nodefaults -display none -serial stdio -monitor none -no-reboot ${QEMU_EXTRA:-} \
    -kernel "$kernel" -initrd "$tmp/initrd-a" -append "$aappend" </dev/null 2>"$tmp/qemu.err" |
    if [ "$live" = yes ]; then tee "$raw"; else cat >"$raw"; fi
  secs=$(( $(date +%s) - start ))
  clean=$tmp/clean.log
  tr -d '\r' <"$raw" | tr -c '[:print:]\t\n' '?' >"$clean"
  if ! grep -q 'CHARON-KDUMP-A-PAGE0' "$clean"; then
    fail "kernel A did not mark page 0 after ${secs}s"
  elif grep -q 'CHARON-A-LOAD-FAILED' "$clean"; then
    fail "charon-kexec -p failed in kernel A"
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
    echo "PASS: $name (${secs}s)"
  fi
}

if ! why=$(setup); then
  echo "FAIL: kdump-setup ($why)"
  exit 1
fi
for c in $cases; do
  case "$c" in
    64:*G|32:*G) run_case "${c%%:*}" "${c#*:}" ;;
    *) echo "run-kdump: --case 64:1G|32:1G|64:6G|..." >&2; exit 2 ;;
  esac
done
[ "$failed" -eq 0 ]
