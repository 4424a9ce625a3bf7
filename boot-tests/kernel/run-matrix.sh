#!/bin/sh
# The real-kernel suite of `make check` (tier 3): kernel A kexecs kernel B
# through charon-kexec and charon's purgatory in each case below, plus one
# case with Debian's kexec-tools that proves the environment (kernel,
# initramfs, QEMU): if only that one fails, the problem is not charon. The
# last cases run Debian's kexec-tools on charon's purgatory.
# Prints one PASS/FAIL line per case; exits 1 if any failed.
# Without build/loader/charon-kexec the charon cases FAIL, never skip.
set -u
here=$(dirname "$0")
run() { sh "$here/run-kexec.sh" "$@" || failed=$((failed + 1)); }
failed=0

# The initramfs is built once here, not in each case.
sh "$here/mkinitramfs.sh" build/kernel/initramfs.cpio.gz "${CHARON_KEXEC:-build/loader/charon-kexec}" ||
  { echo "FAIL: kexec-initramfs-builds"; exit 1; }

echo "kernel: $(cat build/kernel/kernel-version 2>/dev/null || echo "${KERNEL:-none}") $(tr '\n' ' ' <build/kernel/kexec-config 2>/dev/null)"
run --loader kexec-tools --proto 64 --mem 512M --cpu max,-la57
# 64-bit handoff from 4-level paging, low RAM and RAM above 4 GiB.
run --loader charon --proto 64 --mem 512M --cpu max,-la57
run --loader charon --proto 64 --mem 6G --cpu max,-la57
# 32-bit handoff (paging off): every segment must land below 4 GiB.
run --loader charon --proto 32 --mem 512M --cpu max,-la57
run --loader charon --proto 32 --mem 6G --cpu max,-la57
# Entered with LA57 on: relocate_kernel leaves a 5-level page table.
run --loader charon --proto 64 --mem 512M --cpu max,+la57
run --loader charon --proto 64 --mem 6G --cpu max,+la57
run --loader charon --proto 32 --mem 6G --cpu max,+la57
# The purgatory's own console: its "charon:" lines reach ttyS0 ...
run --loader charon --proto 64 --mem 512M --cpu max,-la57 --serial-log
# ... and on the 0xE9 debug console.
run --loader charon --proto 64 --mem 512M --cpu max,-la57 --debugcon-log
# kdump: kernel A panics into kernel B loaded with -p; B must find
# /proc/vmcore. With 6G the crashkernel= reservation lies above 2 GiB.
run --loader charon --proto 64 --mem 512M --cpu max,-la57 --kdump
run --loader charon --proto 64 --mem 6G --cpu max,-la57 --kdump
# A 256 MiB initrd (/big.bin, random, hashed again by kernel B), loaded
# through charon-kexec's mapped path: kernel A's RAM holds the file and the
# kernel's copy of it, no third. kexec-tools is the reference. 2G leaves
# kexec-tools room for its own copy.
run --loader kexec-tools --proto 64 --mem 2G --cpu max,-la57 --big-initrd 256 --timeout 600
run --loader charon --proto 64 --mem 2G --cpu max,-la57 --big-initrd 256 --timeout 600
# kexec_file_load through charon-kexec -s: the kernel reads, verifies and
# places the image and runs its own purgatory (the path Secure Boot and
# lockdown leave); kexec-tools -s is the reference.
run --loader kexec-tools --proto 64 --mem 512M --cpu max,-la57 --loader-opt -s
run --loader charon --proto 64 --mem 512M --cpu max,-la57 --loader-opt -s
run --loader charon --proto 64 --mem 512M --cpu max,-la57 --kdump --loader-opt -s
# Debian's kexec-tools with charon's purgatory.ro in place of its own
# (kexec-swap-purgatory.sh): kexec-tools patches it by symbol name.
run --loader kexec-tools-charon --proto 64 --mem 512M --cpu max,-la57 --serial-log
# kexec-tools puts the 64-bit purgatory anywhere; with 6G, above 4 GiB.
run --loader kexec-tools-charon --proto 64 --mem 6G --cpu max,-la57
# kexec-tools' 32-bit path sets only entry32_regs: entry64_regs.rip keeps
# the purgatory's default, which must lead to the 32-bit handoff.
run --loader kexec-tools-charon --proto 32 --mem 512M --cpu max,-la57
# A crash kernel: backup region, panic_kernel, elfcorehdr; B sees /proc/vmcore.
run --loader kexec-tools-charon --proto 64 --mem 512M --cpu max,-la57 --kdump
# kexec-tools --real-mode: the purgatory drops to real mode and enters the
# setup code at cs:ip, which calls the BIOS (Linux left the IVT, the BIOS
# data area and SeaBIOS intact) and goes on to the kernel. Debian's kexec
# is the reference; charon's purgatory runs the same case through its
# entry16, and with -d (--debug) through entry16_debug and the setup
# code's realmode_swtch and code32_start hooks. kexec-tools' layout costs
# kernel B its cmdline on both (run-kexec.sh --real-mode, README "The
# generic16 handoff"); the initrd, memory and paging checks still run.
run --loader kexec-tools --proto 64 --mem 512M --cpu max,-la57 --real-mode
run --loader kexec-tools-charon --proto 64 --mem 512M --cpu max,-la57 --real-mode --serial-log
run --loader kexec-tools-charon --proto 64 --mem 512M --cpu max,-la57 --real-mode --serial-log \
  --loader-opt -d
# charon-kexec --real-mode: its own layout (boot.rst's, the cmdline above
# the setup code's heap and stack, SS = DS), so kernel B keeps its whole
# cmdline and passes every check of the other cases.
run --loader charon --proto 64 --mem 512M --cpu max,-la57 --real-mode --serial-log
[ "$failed" -eq 0 ]
