#!/bin/sh
# The linux-charon suite of `make check` (tier 3): kernel A is Linux built
# from Debian's own source with charon's kernel-flavour purgatory
# (build/x86_64/purgatory-linux.ro) as its kexec_file_load purgatory
# (build.sh). In it, a loader with -s hands kernel B (Debian's kernel,
# build/kernel/vmlinuz) and its initrd to kexec_file_load; the kernel
# places them, patches charon's purgatory by the kernel's own symbol names
# (purgatory_sha_regions, purgatory_sha256_digest, entry64_regs in the
# kernel's order, stack_end) and enters it at purgatory_start. Each case
# must show charon's "charon:" lines on kernel A's serial console after the
# kexec, and kernel B must boot with its marker and an intact initrd
# (boot-tests/kernel/run-kexec.sh --linux-charon).
#
# The loaders: charon-kexec -s, and Debian's kexec -s as the reference. In
# this kernel A both go through charon's purgatory, since kexec_file_load
# always uses the purgatory built into the running kernel; the reference
# for the kernel's own purgatory is the -s cases on Debian's stock kernel
# (boot-tests/kernel/run-matrix.sh, run-kdump.sh). What the reference here
# proves is that the result does not depend on which loader made the call.
# Prints one PASS/FAIL line per case; exits 1 if any failed.
set -u
here=$(dirname "$0")
kernel_a=${KERNEL_A:-build/linux-charon/bzImage}
purg=${PURGATORY_LINUX:-build/x86_64/purgatory-linux.ro}
failed=0
run() { sh "$here/../kernel/run-kexec.sh" --linux-charon "$@" || failed=$((failed + 1)); }

# The kernel must hold this build's purgatory-linux.ro, byte for byte, or
# the cases below would prove an older one.
if out=$(sh "$here/check-embedded.sh" "${kernel_a%/*}/linux-source-6.1/vmlinux" "$purg"); then
  echo "PASS: linux-charon-embeds-purgatory-linux-ro"
else
  echo "FAIL: linux-charon-embeds-purgatory-linux-ro ($out; make $kernel_a)"
  failed=$((failed + 1))
fi
echo "kernel A: $kernel_a, $(cat "${kernel_a%/*}/linux-source-6.1/include/config/kernel.release" 2>/dev/null || echo '?')"

sh "$here/../kernel/mkinitramfs.sh" build/kernel/initramfs.cpio.gz "${CHARON_KEXEC:-build/loader/charon-kexec}" ||
  { echo "FAIL: linux-charon-initramfs-builds"; exit 1; }

# A kexec: kernel B from kexec -e.
run --loader kexec-tools --proto 64 --mem 512M --cpu max,-la57
run --loader charon --proto 64 --mem 512M --cpu max,-la57
# A crash: kernel A (crashkernel=160M) loads kernel B with -p and panics
# (echo c >/proc/sysrq-trigger); kernel B must find /proc/vmcore.
run --loader kexec-tools --proto 64 --mem 512M --cpu max,-la57 --kdump
run --loader charon --proto 64 --mem 512M --cpu max,-la57 --kdump
[ "$failed" -eq 0 ]
