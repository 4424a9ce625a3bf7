# Real-kernel tests (tier 3): Debian's kernel A kexecs kernel B under QEMU.
# build/kernel/vmlinuz comes from `make deps` (boot-tests/kernel/fetch-kernel.sh).
# The initramfs is cheap (about a second). It carries charon-kexec and
# kexec-tools on charon's purgatory.ro, so it is built after both; the
# scripts also rebuild it whenever either changes.
KERNEL_INITRAMFS := $(B)/kernel/initramfs.cpio.gz

$(KERNEL_INITRAMFS): boot-tests/kernel/mkinitramfs.sh boot-tests/kernel/init \
    boot-tests/kernel/kexec-swap-purgatory.sh \
    $(CHARON_KEXEC) $(PURG_RO)
	@echo "  INITRD  $@"
	$(Q)sh boot-tests/kernel/mkinitramfs.sh $@ $(CHARON_KEXEC) $(PURG_RO) >/dev/null

ALL_TARGETS  += $(KERNEL_INITRAMFS)
CHECK_SUITES += script:boot-tests/kernel/run-matrix.sh
# kdump through charon-kexec -p and the purgatory's backup (64- and 32-bit),
# read by Debian's makedumpfile in the crash kernel, with Debian's kexec -p
# as the reference case.
CHECK_SUITES += script:boot-tests/kernel/run-kdump.sh
CHECK_SUITES += script:boot-tests/kernel/run-errors.sh
BENCH_STEPS  += boot-tests/kernel/bench-kexec.sh

# UEFI machines: OVMF boots the cloud kernel (build/uefi, with efivarfs.ko
# from the same package) and kernel B must keep EFI runtime services,
# SMBIOS, ACPI and efifb; kexec-tools is the reference (run-uefi-matrix.sh).
.PHONY: deps-uefi-kernel
deps: deps-uefi-kernel
deps-uefi-kernel:
	$(Q)sh boot-tests/kernel/fetch-kernel.sh $(B)/uefi efivarfs
CHECK_SUITES += script:boot-tests/kernel/run-uefi-matrix.sh
