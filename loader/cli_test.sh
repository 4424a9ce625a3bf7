#!/bin/sh
# The built, static charon-kexec on bad inputs: each case needs a non-zero
# status and a message naming the problem. Runs from the repository root
# (make check). Prints PASS:/FAIL: lines; exits non-zero on any failure.
#
# The no-privilege case runs the binary as nobody (setpriv), so the real
# kernel answers EPERM before it reads anything; no case ever loads.
set -u
bin=${CHARON_KEXEC:-build/loader/charon-kexec}
mkbz=${MKBZIMAGE:-build/host/loader/mkbzimage}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
chmod 755 "$t"
failed=0

# A fake system: QEMU-like memory, 3 GiB below the PCI hole and 3 GiB above.
mkroot() { # DIR IOMEM_TEXT
  mkdir -p "$1/proc"
  printf '%b' "$2" > "$1/proc/iomem"
  echo "BOOT_IMAGE=/vmlinuz root=/dev/vda ro" > "$1/proc/cmdline"
}
low='00000000-00000fff : Reserved\n00001000-0009fbff : System RAM\n0009fc00-000fffff : Reserved\n'
mkroot "$t/big" "${low}00100000-bfffffff : System RAM\nc0000000-febfffff : PCI Bus 0000:00\n100000000-1bfffffff : System RAM\n"
mkroot "$t/highonly" "${low}00100000-00bfffff : System RAM\n100000000-1bfffffff : System RAM\n"
mkroot "$t/tiny" "${low}00100000-008fffff : System RAM\n"
# A machine that runs 5-level paging (the running kernel's la57 flag).
mkroot "$t/la57" "${low}00100000-bfffffff : System RAM\n"
printf 'processor\t: 0\nflags\t\t: fpu pae la57 pku\n' > "$t/la57/proc/cpuinfo"

# Crash reservations (256 MiB, 4 MiB, above 4 GiB), with the sysfs files a
# crash load reads (one CPU's crash_notes, vmcoreinfo), and one without them.
crashsys() { # DIR
  mkdir -p "$1/sys/devices/system/cpu/cpu0" "$1/sys/kernel"
  echo 3fc1e800 > "$1/sys/devices/system/cpu/cpu0/crash_notes"
  echo 336 > "$1/sys/devices/system/cpu/cpu0/crash_notes_size"
  echo "0x000000000253a000 1024" > "$1/sys/kernel/vmcoreinfo"
}
highram='100000000-1bfffffff : System RAM\n'
mkroot "$t/crash" "${low}00100000-bfffffff : System RAM\n  20000000-2fffffff : Crash kernel\n"
crashsys "$t/crash"
mkroot "$t/crashsmall" "${low}00100000-bfffffff : System RAM\n  20000000-203fffff : Crash kernel\n"
crashsys "$t/crashsmall"
mkroot "$t/crashhigh" "${low}00100000-bfffffff : System RAM\n${highram}  100000000-10fffffff : Crash kernel\n"
crashsys "$t/crashhigh"
mkroot "$t/nonotes" "${low}00100000-bfffffff : System RAM\n  20000000-2fffffff : Crash kernel\n"

"$mkbz" "$t/good"
"$mkbz" "$t/truncated" truncate=100000
"$mkbz" "$t/old" version=0x0209
"$mkbz" "$t/norelo" relocatable=0
"$mkbz" "$t/no64" xloadflags=0
head -c 300000 /dev/zero > "$t/zeros"
: > "$t/empty"
head -c 100000 /dev/urandom > "$t/initrd"

# expect NAME WANT_TEXT CMD...: the command fails and says WANT_TEXT.
expect() {
  name=$1 want=$2; shift 2
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -ne 0 ] && printf '%s' "$out" | grep -qF -- "$want"; then
    echo "PASS: $name"
  else
    echo "FAIL: $name (status $rc, wanted \"$want\", got: $out)"; failed=1
  fi
}
# ok NAME WANT_TEXT CMD...: the command succeeds and prints WANT_TEXT.
ok() {
  name=$1 want=$2; shift 2
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -eq 0 ] && printf '%s' "$out" | grep -qF -- "$want"; then
    echo "PASS: $name"
  else
    echo "FAIL: $name (status $rc, wanted \"$want\", got: $out)"; failed=1
  fi
}

r="--sysroot=$t/big"
# Static: no program interpreter, so it runs in an initramfs without libc.
if (readelf -lW "$bin" 2>/dev/null || llvm-readelf -lW "$bin") | grep -q 'LOAD' &&
   ! (readelf -lW "$bin" 2>/dev/null || llvm-readelf -lW "$bin") | grep -q 'INTERP'; then
  echo "PASS: cli_binary_is_static"
else
  echo "FAIL: cli_binary_is_static"; failed=1
fi
ok cli_help_lists_options "--entry-32bit" "$bin" --help
ok cli_version "charon-kexec" "$bin" --version
ok cli_dry_run_prints_layout_and_digest "sha256:" "$bin" -l "$t/good" --initrd="$t/initrd" --append=quiet --dry-run "$r"
ok cli_dry_run_64bit_kernel_above_4g "0x00000001" "$bin" -l "$t/good" --dry-run "$r"
expect cli_missing_kernel "cannot open" "$bin" -l "$t/nonexistent" --dry-run "$r"
expect cli_truncated_kernel "truncated" "$bin" -l "$t/truncated" --dry-run "$r"
expect cli_not_a_kernel "not a bzImage" "$bin" -l "$t/zeros" --dry-run "$r"
expect cli_empty_kernel "too short" "$bin" -l "$t/empty" --dry-run "$r"
expect cli_kernel_too_old "2.09 is too old" "$bin" -l "$t/old" --dry-run "$r"
expect cli_kernel_not_relocatable "relocatable_kernel is 0" "$bin" -l "$t/norelo" --dry-run "$r"
expect cli_kernel_without_64bit_entry "XLF_KERNEL_64" "$bin" -l "$t/no64" --dry-run "$r"
# Under 5-level paging a kernel without XLF_5LEVEL (mkbzimage's default)
# cannot take the 64-bit entry; the message names the way out, which works.
expect cli_5level_kernel_without_xlf_5level "XLF_5LEVEL: its 64-bit entry would fault on the 5-level tables; the 32-bit entry is safe (paging off); use --entry-32bit" "$bin" -l "$t/good" --dry-run "--sysroot=$t/la57"
ok cli_5level_kernel_without_xlf_5level_32bit "linux32" "$bin" -l "$t/good" --entry-32bit --dry-run "--sysroot=$t/la57"
expect cli_missing_initrd "cannot open" "$bin" -l "$t/good" --initrd="$t/nonexistent" --dry-run "$r"
expect cli_empty_initrd "empty" "$bin" -l "$t/good" --initrd="$t/empty" --dry-run "$r"
expect cli_entry32_kernel_must_sit_above_4g "below 4 GiB" "$bin" -l "$t/good" --entry-32bit --dry-run "--sysroot=$t/highonly"
ok cli_same_kernel_loads_64bit_above_4g "linux64" "$bin" -l "$t/good" --dry-run "--sysroot=$t/highonly"
expect cli_segments_do_not_fit "segments do not fit" "$bin" -l "$t/good" --dry-run "--sysroot=$t/tiny"
expect cli_crash_without_reservation "crashkernel=" "$bin" -p "$t/good" --dry-run "$r"
ok cli_crash_dry_run_shows_backup_and_elfcorehdr "backup: [0x0, 0xa0000) -> 0x" "$bin" -p "$t/good" --initrd="$t/initrd" --append=quiet --dry-run "--sysroot=$t/crash"
ok cli_crash_dry_run_lists_the_elfcorehdr_segment "elfcorehdr" "$bin" -p "$t/good" --dry-run "--sysroot=$t/crash"
expect cli_crash_reservation_too_small "reservation is too small" "$bin" -p "$t/good" --initrd="$t/initrd" --dry-run "--sysroot=$t/crashsmall"
expect cli_crash_kernel_does_not_fit "in the crash kernel reservation" "$bin" -p "$t/good" --entry-32bit --dry-run "--sysroot=$t/crashhigh"
expect cli_crash_without_crash_notes "vmcoreinfo: cannot read" "$bin" -p "$t/good" --dry-run "--sysroot=$t/nonotes"
expect cli_bad_purgatory "not an ELF" "$bin" -l "$t/good" --purgatory="$t/zeros" --dry-run "$r"
expect cli_usage_error "Try 'charon-kexec --help'" "$bin" --bogus
expect cli_bad_serial "--serial=ttyS7" "$bin" -l "$t/good" --serial=ttyS7 --dry-run "$r"

# --real-mode: the setup code at a page in [64 KiB, 640 KiB) (0x10000, the
# lowest), the cmdline at its heap_end 0xe000, the purgatory below 640 KiB,
# and the real-mode handoff into the setup code; refused where no BIOS or
# no real-mode run can be.
ok cli_real_mode_handoff_regs16 "handoff: generic16 (real mode), cs:ip 1020:0000, ss:sp 1000:e000" "$bin" -l "$t/good" --real-mode --initrd="$t/initrd" --append=quiet --dry-run "$r"
ok cli_real_mode_layout "real mode: setup code (2560 bytes) at 0x10000, segment 1000, heap_end_ptr 0xde00, stack to 0xe000, cmdline at 0x1e000, code32_start 0x1000000, purgatory at 0x" "$bin" -l "$t/good" --real-mode --dry-run "$r"
ok cli_real_mode_setup_segment "0x0000000000010000-0x000000000001ffff  0x00010000  setup code, heap, cmdline (real mode)" "$bin" -l "$t/good" --real-mode --append=quiet --dry-run "$r"
ok cli_real_mode_purgatory_below_1m "built-in purgatory.ro               0x00000000000" "$bin" -l "$t/good" --real-mode --dry-run "$r"
ok cli_real_mode_uses_kexec_load "syscall: kexec_load with charon's purgatory (--real-mode needs charon's purgatory)" "$bin" -l "$t/good" --real-mode --dry-run "$r"
expect cli_real_mode_crash "--real-mode cannot load a crash kernel (-p)" "$bin" -p "$t/good" --real-mode --dry-run "--sysroot=$t/crash"
expect cli_real_mode_file_load "--real-mode needs charon's purgatory, which kexec_file_load (-s) does not use" "$bin" -s -l "$t/good" --real-mode --dry-run "$r"
mkroot "$t/efi" "${low}00100000-bfffffff : System RAM\n"
mkdir -p "$t/efi/sys/firmware/efi"
expect cli_real_mode_on_efi "--real-mode needs a BIOS for the setup code to call; this machine was booted by EFI" "$bin" -l "$t/good" --real-mode --dry-run "--sysroot=$t/efi"
mkroot "$t/dom0" "${low}00100000-bfffffff : System RAM\n"
mkdir -p "$t/dom0/proc/xen"
echo control_d > "$t/dom0/proc/xen/capabilities"
expect cli_real_mode_in_xen_dom0 "--real-mode: under Xen" "$bin" -l "$t/good" --real-mode --dry-run "--sysroot=$t/dom0"
mkroot "$t/nolow" "00000000-00017fff : System RAM\n00018000-000fffff : Reserved\n00100000-bfffffff : System RAM\n"
expect cli_real_mode_no_low_ram "no 64 KiB of free RAM for the setup segment in [64 KiB, 640 KiB)" "$bin" -l "$t/good" --real-mode --dry-run "--sysroot=$t/nolow"
"$mkbz" "$t/bigsetup" setup_sects=64
expect cli_real_mode_setup_too_big "setup code is larger than 32 KiB" "$bin" -l "$t/bigsetup" --real-mode --dry-run "$r"

# ELF and multiboot kernels: the test payload's images (boot-tests/payload.mk).
pay=${PAYLOAD_DIR:-build/boot-tests/payload}
echo "module zero" > "$t/mod0"
ok cli_elf64_is_detected_and_handed_off_generic64 "handoff: generic64, rip 0x3000000" "$bin" -l "$pay/payload64.elf" --dry-run "$r"
ok cli_elf32_is_handed_off_generic32 "handoff: generic32 (paging off), eip 0x2000000" "$bin" -l "$pay/payload32.elf" --dry-run "$r"
ok cli_multiboot2_modules_and_magic "module 1: $t/mod0 at 0x" "$bin" -l "$pay/payload-mb2.elf" --module="$t/mod0 a=b" --module="$t/mod0" --dry-run "$r"
# --dry-run lists the multiboot2 information it built, tag by tag.
ok cli_multiboot2_dry_run_lists_the_information_tags 'tags: 1 cmdline, 2 loader name "charon-kexec", 3 module [0x' "$bin" -l "$pay/payload-mb2.elf" --module="$t/mod0 a=b" --dry-run "$r"
ok cli_multiboot2_dry_run_lists_the_memory_map '6 memory map (5 entries of 24 bytes), 0 end' "$bin" -l "$pay/payload-mb2.elf" --dry-run "$r"
ok cli_multiboot_magic_in_eax "eax 0x2badb002" "$bin" -l "$pay/payload-mb1.elf" --dry-run "$r"
ok cli_forced_type_elf32_on_a_multiboot_image "type: elf-x86 (--type)" "$bin" -l "$pay/payload-mb1.elf" --type=elf-x86 --dry-run "$r"
head -c 5000 "$pay/payload32.elf" > "$t/payload-truncated"
expect cli_elf_truncated "past the end of the file" "$bin" -l "$t/payload-truncated" --dry-run "$r"
expect cli_elf_outside_ram "not free RAM" "$bin" -l "$pay/payload32.elf" --dry-run "--sysroot=$t/tiny"
expect cli_type_mismatch "--type multiboot-x86, but the file is not one" "$bin" -l "$pay/payload32.elf" --type=multiboot-x86 --dry-run "$r"
expect cli_unknown_type "--type=elf: expected" "$bin" -l "$pay/payload32.elf" --type=elf --dry-run "$r"
expect cli_module_for_an_elf_kernel "only multiboot kernels take modules" "$bin" -l "$pay/payload32.elf" --module="$t/mod0" --dry-run "$r"
expect cli_initrd_for_multiboot "pass it as --module" "$bin" -l "$pay/payload-mb2.elf" --initrd="$t/initrd" --dry-run "$r"
expect cli_missing_module "module $t/nonexistent: cannot open" "$bin" -l "$pay/payload-mb2.elf" --module="$t/nonexistent x" --dry-run "$r"
expect cli_elf_through_kexec_file_load "kexec_file_load loads only bzImages" "$bin" -s -l "$pay/payload64.elf" --dry-run "$r"
# --args-elf (the default for an ELF that is not Linux): the ELF boot
# notes in RDI, or kexec-tools' frame for ELF32; --args-none: nothing.
ok cli_elf64_boot_notes_in_rdi "rdi 0x1" "$bin" -l "$pay/payload64.elf" --dry-run "$r"
ok cli_elf32_boot_notes_on_the_stack "[esp + 4] 0x1" "$bin" -l "$pay/payload32.elf" --dry-run "$r"
ok cli_elf_args_none "rdi 0x0, rsi 0x0" "$bin" -l "$pay/payload64.elf" --args-none --dry-run "$r"
ok cli_elf_args_linux_forced "handoff: linux64, kernel entry 0x3000000" "$bin" -l "$pay/payload64.elf" --args-linux --initrd="$t/initrd" --dry-run "$r"
expect cli_args_for_a_multiboot_image "--args-elf: only ELF kernels" "$bin" -l "$pay/payload-mb2.elf" --args-elf --dry-run "$r"
expect cli_initrd_with_args_elf "takes no initrd" "$bin" -l "$pay/payload64.elf" --initrd="$t/initrd" --dry-run "$r"
expect cli_real_mode_needs_a_bzimage "--real-mode needs a bzImage" "$bin" -l "$pay/payload-mb2.elf" --real-mode --dry-run "$r"
# A Linux vmlinux (the linux-charon build's, when there is one): the Linux
# boot protocol by default, refused where it cannot go.
vmlinux=${VMLINUX:-build/linux-charon/linux-source-6.1/vmlinux}
if [ -s "$vmlinux" ]; then
  ok cli_vmlinux_detected_linux64 "handoff: linux64, kernel entry 0x1000000" "$bin" -l "$vmlinux" --initrd="$t/initrd" --append=quiet --dry-run "$r"
  ok cli_vmlinux_args_elf "rip 0x1000000, rsp 0x" "$bin" -l "$vmlinux" --args-elf --dry-run "$r"
  expect cli_vmlinux_crash "outside the crash reservation" "$bin" -p "$vmlinux" --dry-run "--sysroot=$t/crash"
  expect cli_vmlinux_file_load "kexec_file_load loads only bzImages" "$bin" -s -l "$vmlinux" --dry-run "$r"
  expect cli_vmlinux_entry32 "whose e_entry is its 64-bit entry" "$bin" -l "$vmlinux" --entry-32bit --dry-run "$r"
  expect cli_vmlinux_la57 "a vmlinux has no xloadflags to say it takes 5-level" "$bin" -l "$vmlinux" --dry-run "--sysroot=$t/la57"
  expect cli_vmlinux_not_in_free_ram "not free RAM" "$bin" -l "$vmlinux" --dry-run "--sysroot=$t/tiny"
else
  echo "SKIP: cli_vmlinux_* (no $vmlinux; make build/linux-charon/bzImage)"
fi

# Real kernel answers, as nobody, so that nothing can load: a kernel with
# kexec (it has /proc/sys/kernel/kexec_load_disabled) answers EPERM, one
# without answers ENOSYS. Each gets its own message. With a fake lockdown
# file, EPERM is explained as lockdown instead.
cp "$bin" "$t/charon-kexec"; chmod 755 "$t/charon-kexec"
chmod 644 "$t/good"
mkdir -p "$t/big/sys/kernel/security"
chmod -R a+rX "$t/big"
if command -v setpriv >/dev/null 2>&1; then
  nobody="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all"
  ok cli_dry_run_needs_no_privilege "sha256:" $nobody "$t/charon-kexec" -l "$t/good" --dry-run "$r"
  if [ -e /proc/sys/kernel/kexec_load_disabled ]; then
    expect cli_no_privilege "CAP_SYS_BOOT" $nobody "$t/charon-kexec" -l "$t/good" "$r"
    expect cli_no_privilege_unload "CAP_SYS_BOOT" $nobody "$t/charon-kexec" -u "$r"
    echo "none [integrity] confidentiality" > "$t/big/sys/kernel/security/lockdown"
    chmod -R a+rX "$t/big"
    expect cli_lockdown "lockdown forbids kexec_load" $nobody "$t/charon-kexec" -l "$t/good" "$r"
    echo "SKIP: cli_no_kexec_support (this kernel has kexec; loader_test covers ENOSYS)"
  else
    expect cli_no_kexec_support "no kexec support" $nobody "$t/charon-kexec" -l "$t/good" "$r"
    expect cli_no_kexec_support_unload "no kexec support" $nobody "$t/charon-kexec" -u "$r"
    echo "SKIP: cli_no_privilege, cli_lockdown (this kernel has no kexec, so it answers ENOSYS first; boot-tests/kernel/run-errors.sh provokes both in a real kernel)"
  fi
else
  echo "SKIP: real-kernel error cases (no setpriv)"
fi
exit $failed
