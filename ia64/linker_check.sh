#!/bin/sh
# Proves that linker/ia64-control.ld refuses a control block that breaks
# its layout rules: code past 4096 bytes, a misaligned entry point, data,
# and sections the script does not place (orphans).
# Usage: linker_check.sh WORKDIR (from the top of the tree).
set -u
work=$1
mkdir -p "$work"
as=${IA64_AS:-ia64-linux-gnu-as}
ld=${IA64_LD:-ia64-linux-gnu-ld}
# The flags the build links the control block with (ia64/rules.mk).
ldflags=$(make -s --no-print-directory ia64-ldflags) || { echo "FAIL: make ia64-ldflags"; exit 1; }

# Writes a block with the three routines; $1 = nop bundles in the first,
# $2 = extra alignment padding before the second, $3 = none, data, or the
# name of an extra section holding one bundle (an orphan for the script).
block() {
  {
    printf '\t.text\n\t.align 32\n'
    for s in relocate_new_kernel kexec_fake_sal_rendez ia64_dump_cpu_regs; do
      printf '\t.global %s\n\t.global %s_end\n' "$s" "$s"
    done
    printf '\t.global relocate_new_kernel_physical\n'
    printf 'relocate_new_kernel:\n\tnop.b 0\n;;\n\t.align 32\nrelocate_new_kernel_physical:\n'
    i=0; while [ "$i" -lt "$1" ]; do printf '\t{ .mii\n\tnop.m 0\n\tnop.i 0\n\tnop.i 0\n\t}\n'; i=$((i+1)); done
    printf '\tbr.ret.sptk.many b0\n;;\nrelocate_new_kernel_end:\n\t.align 32\n'
    [ "$2" -gt 0 ] && printf '\t{ .mii\n\tnop.m 0\n\tnop.i 0\n\tnop.i 0\n\t}\n'
    printf 'kexec_fake_sal_rendez:\n\tbr.ret.sptk.many b0\n;;\nkexec_fake_sal_rendez_end:\n\t.align 32\n'
    printf 'ia64_dump_cpu_regs:\n\tbr.ret.sptk.many b0\n;;\nia64_dump_cpu_regs_end:\n'
    case $3 in
      none) ;;
      data) printf '\t.data\n\t.quad 1\n' ;;
      *) printf '\t.section %s,"ax",@progbits\n\t.align 16\n\tbr.ret.sptk.many b0\n;;\n' "$3" ;;
    esac
  } > "$work/block.s"
  "$as" -o "$work/block.o" "$work/block.s" 2>"$work/as.log" || { echo "assembler failed:"; cat "$work/as.log"; return 2; }
  "$ld" $ldflags -o "$work/block.elf" "$work/block.o" >"$work/ld.log" 2>&1
}

# name, expected substring ("" = must link), then block() arguments.
check() {
  name=$1; want=$2; shift 2
  block "$@"; rc=$?
  if [ -z "$want" ]; then
    [ "$rc" -eq 0 ] && echo "PASS: $name" || { echo "FAIL: $name"; cat "$work/ld.log"; }
  elif [ "$rc" -eq 1 ] && grep -q "$want" "$work/ld.log"; then
    echo "PASS: $name"
  else
    echo "FAIL: $name (rc $rc)"; cat "$work/ld.log"
  fi
}

check "a small code-only block links" "" 4 0 none
check "code larger than 4096 bytes is refused by the linker script" \
  "larger than 4096 bytes" 260 0 none
check "an entry point off its 32-byte alignment is refused by the linker script" \
  "kexec_fake_sal_rendez is not 32-byte aligned" 4 1 none
check "data in the control block is refused by the linker script" \
  "no data" 4 0 data
check "an orphan code section (.text.extra) is refused by the linker" \
  "orphan section" 4 0 .text.extra
check "an orphan read-only section (.rodata.table) is refused by the linker" \
  "orphan section" 4 0 .rodata.table
