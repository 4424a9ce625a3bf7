#!/bin/sh
# A Linux vmlinux from Linux (tier 3): Debian's kernel A loads the vmlinux
# that the linux-charon build leaves (build/linux-charon/linux-source-6.1/
# vmlinux: ELF64, no debug info, about 13 MiB) with --append and --initrd,
# and kexecs into it by the Linux boot protocol: boot_params with the
# command line, e820 and the initrd, RSI = boot_params, RIP = e_entry.
# Kernel B must reach /init with this run's command line, an intact initrd
# where boot_params says, and kernel A's RAM (run-kexec.sh --vmlinux).
# charon-kexec detects the vmlinux by its "Linux" ELF notes; the reference
# is Debian's kexec with --type=elf-x86_64 --args-linux (its default,
# --args-elf, hands a vmlinux ELF boot notes, which Linux does not read).
# Prints one PASS/FAIL line per case; exits 1 if any failed.
set -u
here=$(dirname "$0")
vmlinux=${VMLINUX:-build/linux-charon/linux-source-6.1/vmlinux}
failed=0
if [ ! -s "$vmlinux" ]; then
  echo "FAIL: vmlinux-present (no $vmlinux: make build/linux-charon/bzImage)"
  exit 1
fi
run() { VMLINUX=$vmlinux sh "$here/run-kexec.sh" --vmlinux "$@" || failed=$((failed + 1)); }
run --loader kexec-tools
run --loader charon
[ "$failed" -eq 0 ]
