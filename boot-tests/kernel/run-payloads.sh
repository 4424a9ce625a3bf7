#!/bin/sh
# Non-Linux kernels from Linux (tier 3): kernel A loads the test payload
# (boot-tests/payload/) as an ELF64, ELF32, multiboot or multiboot2 image,
# with modules, and kexecs into it; the payload reports on the serial
# console what it was handed (registers, its own segments, the ELF boot
# notes or the multiboot information with each module's bytes and command
# line) and exits QEMU through isa-debug-exit. Each case runs charon-kexec
# and, as the reference, Debian's kexec-tools with the same image; the
# kexec-tools-charon cases run kexec-tools on charon's purgatory.ro
# (kexec-swap-purgatory.sh), which must honour its elf-x86 stack arguments.
# Prints one PASS/FAIL line per case; exits 1 if any failed.
# Environment: KERNEL (kernel A, default build/kernel/vmlinuz), CHARON_KEXEC,
# PAYLOAD_DIR (default build/boot-tests/payload), LOGDIR, PAYLOAD_CASES (a
# grep -E pattern over the case names, to run some).
set -u
here=$(dirname "$0")
. "$here/kernel-a.sh"
kernel=${KERNEL:-build/kernel/vmlinuz}
charon=${CHARON_KEXEC:-build/loader/charon-kexec}
pdir=${PAYLOAD_DIR:-build/boot-tests/payload}
logdir=${LOGDIR:-build/kernel/logs}
only=${PAYLOAD_CASES:-.}
tmo=180
failed=0
mkdir -p "$logdir"

[ -s "$kernel" ] || { echo "FAIL: payload-kernel-a-present (no $kernel; run 'make deps')"; exit 1; }
# Its own copy of the test initramfs (the same /init and programs), next to
# the payloads rather than in build/kernel/.
base=$pdir/initramfs.cpio.gz
sh "$here/mkinitramfs.sh" "$base" "$charon" >/dev/null ||
  { echo "FAIL: payload-initramfs-builds"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/charon-payloads.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# case_run NAME LOADER IMAGE CHECKS -- ARGS...: kernel A runs
# `LOADER -c -l ARGS` (charon: after a --dry-run whose layout goes into the
# log) and `LOADER -e`. CHECKS names what the payload must report, a list
# of: bits32 bits64 notes mb1 mb2 regs (regs: the registers match
# charon-kexec's --dry-run handoff line).
case_run() {
  name=$1 loader=$2 image=$3 checks=$4
  shift 5
  echo "$name" | grep -qE "$only" || return 0
  log=$logdir/payload-$name.log
  [ -s "$pdir/$image" ] || { fail "$name" "no $pdir/$image: run make"; return; }
  token=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
  w=$tmp/$name
  rm -rf "$w" && mkdir -p "$w/boot"
  cp "$pdir/$image" "$w/boot/$image"
  printf 'charon-module-0-%s' "$token" >"$w/boot/mod0"
  printf 'charon-module-1-%s' "$token" >"$w/boot/mod1"
  kernel_a_args "s/TOKEN/$token/g" "$@"
  kernel_a_load_script "$loader" >"$w/boot/load.sh"
  kernel_a_boot "$w" 512M "$tmo" "$base" "$kernel" "$log" \
    boot "boot/$image" boot/mod0 boot/mod1 boot/load.sh
  why=""
  check() { grep -qE "$1" "$log" || why="${why:+$why; }$2"; }
  check '^CHARON-A-EXEC$' "kernel A never ran -e"
  lf=$(kernel_a_load_failed "$log") && why="$lf${why:+; $why}"
  check '^PAYLOAD-END$' "the payload did not finish its report"
  [ "$rc" -eq 33 ] || why="${why:+$why; }QEMU exit $rc, want 33 (the payload's isa-debug-exit)"
  check '^PAYLOAD-IMAGE data=ok bss=ok$' "the payload's segments are not as linked (data or bss)"
  for c in $checks; do
    case $c in
      bits32) check '^PAYLOAD-START bits=32 .* paging=off$' "not entered in 32-bit mode with paging off" ;;
      bits64) check '^PAYLOAD-START bits=64 .* paging=on$' "not entered in 64-bit mode" ;;
      notes)
        # --args-elf: ELF boot notes carry the command line ([esp + 4] or
        # RDI), with a b_checksum that holds.
        check "^PAYLOAD-BOOTNOTES-CMDLINE payload-args tok=$token\$" "no ELF boot notes with this run's command line"
        check "^PAYLOAD-BOOTNOTES .* records=0x3 checksum=ok\$" "the boot notes' header (3 records, b_checksum) is wrong" ;;
      stack0)
        check '^PAYLOAD-START bits=32 .* stack0=0x0 ' "[esp] is not the 0 return address of kexec-tools' frame"
        # The frame tops a stack, as at kexec-tools' stack_end (4 KiB-
        # aligned) and charon's (16): ESP + 8 is 16-byte aligned. ESP at
        # the parameter block's stack_arg32_2 would not be.
        esp=$(sed -n 's/^PAYLOAD-START bits=32 .* esp=\(0x[0-9a-f]*\) .*/\1/p' "$log")
        [ -n "$esp" ] && [ $(( (esp + 8) % 16 )) -eq 0 ] ||
          why="${why:+$why; }ESP ${esp:-?} + 8 is not 16-byte aligned: the frame is not at a stack's top" ;;
      mb2 | mb1)
        M=$(echo "$c" | tr a-z A-Z)
        magic=$([ "$c" = mb2 ] && echo 0x36d76289 || echo 0x2badb002)
        check "^PAYLOAD-START bits=32 eax=$magic " "EAX is not the $c magic $magic"
        check "^PAYLOAD-$M-CMDLINE /boot/$image payload-args tok=$token\$" "no command line '/boot/$image payload-args tok=$token'"
        check "^PAYLOAD-$M-LOADER ." "no boot loader name"
        check "^PAYLOAD-$M-MODULE .* cmdline=/boot/mod0 role=first tok=$token head=charon-module-0-$token\$" "module 0 (bytes or cmdline) wrong"
        check "^PAYLOAD-$M-MODULE .* cmdline=/boot/mod1 role=second head=charon-module-1-$token\$" "module 1 (bytes or cmdline) wrong"
        # QEMU's 639 KiB below the EBDA (kexec-tools says 638: it counts
        # from the end address inclusive), and about 511 MiB from 1 MiB.
        lo=$(sed -n "s/^PAYLOAD-$M\(-MEM\)\{0,1\} .*mem_lower=\(0x[0-9a-f]*\) mem_upper=\(0x[0-9a-f]*\).*/\2 \3/p" "$log")
        set -- $lo
        if [ $# -ne 2 ] || [ $(($1)) -lt 638 ] || [ $(($1)) -gt 639 ] || [ $(($2 / 1024)) -lt 500 ]; then
          why="${why:+$why; }mem_lower/mem_upper '$lo' are not about 639 KiB and 511 MiB"
        fi
        ram=$(sed -n "s/^PAYLOAD-$M-MMAP entries=[0-9]* ram_mib=\([0-9]*\)\$/\1/p" "$log")
        [ "${ram:-0}" -ge 400 ] || why="${why:+$why; }the memory map shows ${ram:-no} MiB of RAM, want about 512" ;;
      regs)
        # charon-kexec's --dry-run handoff line against what the payload got.
        hl=$(grep '^CHARON-A-LAYOUT handoff: ' "$log")
        for r in eax ebx esp rsp rdi rip eip; do
          v=$(echo "$hl" | sed -n "s/.* $r \(0x[0-9a-f]*\).*/\1/p")
          [ -n "$v" ] || continue
          case $r in rip | eip) continue ;; esac
          check "^PAYLOAD-START .* $r=$v( |\$)" "$r is not $v as --dry-run planned"
        done ;;
    esac
  done
  if [ -n "$why" ]; then
    echo "FAIL: $name ($why; see $log)"
    grep -E '^(PAYLOAD|CHARON-A-LOAD|charon)' "$log" | head -20 | sed 's/^/  | /'
    failed=$((failed + 1))
  else
    echo "PASS: $name (${secs}s)"
  fi
}
fail() { echo "FAIL: $1 ($2)"; failed=$((failed + 1)); }

A="--append=payload-args tok=TOKEN"
M0="--module=/boot/mod0 role=first tok=TOKEN"
M1="--module=/boot/mod1 role=second"
# ELF64: generic64, entry from e_entry, RSP the purgatory's stack, and
# (--args-elf, the default for an ELF that is not Linux) RDI the ELF boot
# notes with the command line.
case_run elf64-charon-kexec charon payload64.elf "bits64 regs notes" -- "$A" /boot/payload64.elf
case_run elf64-kexec-tools kexec-tools payload64.elf "bits64 notes" -- \
  --type=elf-x86_64 "$A" /boot/payload64.elf
# ELF32: generic32, paging off; the notes at [esp + 4] as kexec-tools'
# elf-x86 frame puts them, [esp] = 0.
case_run elf32-charon-kexec charon payload32.elf "bits32 regs notes stack0" -- "$A" /boot/payload32.elf
case_run elf32-kexec-tools kexec-tools payload32.elf "bits32 notes stack0" -- \
  --type=elf-x86 "$A" /boot/payload32.elf
# kexec-tools' elf-x86 on charon's purgatory: ESP = &stack_arg32_2, the
# notes' address in stack_arg32_1; the payload must find them at [esp + 4].
case_run elf32-kexec-tools-on-charon-purgatory kexec-tools-charon payload32.elf \
  "bits32 notes stack0" -- --type=elf-x86 "$A" /boot/payload32.elf
# Multiboot2 and multiboot: EAX = magic, EBX = info, two modules.
case_run mb2-charon-kexec charon payload-mb2.elf "bits32 mb2 regs" -- \
  "$A" "$M0" "$M1" /boot/payload-mb2.elf
case_run mb2-kexec-tools kexec-tools payload-mb2.elf "bits32 mb2" -- \
  --type=multiboot2-x86 "--command-line=payload-args tok=TOKEN" "$M0" "$M1" /boot/payload-mb2.elf
case_run mb1-charon-kexec charon payload-mb1.elf "bits32 mb1 regs" -- \
  "$A" "$M0" "$M1" /boot/payload-mb1.elf
case_run mb1-kexec-tools kexec-tools payload-mb1.elf "bits32 mb1" -- \
  --type=multiboot-x86 "--command-line=payload-args tok=TOKEN" "$M0" "$M1" /boot/payload-mb1.elf
# kexec-tools' other non-bzImage paths on charon's purgatory: elf-x86_64
# (entry64_regs: RDI = the notes, RSP = stack_end), multiboot2-x86 and
# multiboot-x86 (entry32_regs: EAX, EBX, EIP; ESP 0).
case_run elf64-kexec-tools-on-charon-purgatory kexec-tools-charon payload64.elf "bits64 notes" -- \
  --type=elf-x86_64 "$A" /boot/payload64.elf
case_run mb2-kexec-tools-on-charon-purgatory kexec-tools-charon payload-mb2.elf "bits32 mb2" -- \
  --type=multiboot2-x86 "--command-line=payload-args tok=TOKEN" "$M0" "$M1" /boot/payload-mb2.elf
case_run mb1-kexec-tools-on-charon-purgatory kexec-tools-charon payload-mb1.elf "bits32 mb1" -- \
  --type=multiboot-x86 "--command-line=payload-args tok=TOKEN" "$M0" "$M1" /boot/payload-mb1.elf
[ "$failed" -eq 0 ]
