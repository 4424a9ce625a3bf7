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

# Kernel A built from Debian's linux-source-6.1 with charon's kernel-flavour
# purgatory in place of the kernel's own (boot-tests/linux-charon/build.sh).
# The unpacked tree stays under build/linux-charon/ for incremental
# rebuilds: a new purgatory-linux.ro relinks vmlinux and little else. `+`
# hands make's jobserver to the kernel's make, so `make -jN` bounds both.
LINUX_CHARON := $(B)/linux-charon/bzImage
LINUX_CHARON_DIR := boot-tests/linux-charon
$(LINUX_CHARON): $(PURGK_RO) $(LINUX_CHARON_DIR)/build.sh $(LINUX_CHARON_DIR)/kernel.config \
    $(LINUX_CHARON_DIR)/purgatory-makefile.patch $(LINUX_CHARON_DIR)/check-embedded.sh
	@echo "  LINUX   $@ (with $(PURGK_RO))"
	+$(Q)sh $(LINUX_CHARON_DIR)/build.sh $(@D) $(PURGK_RO)

ALL_TARGETS  += $(LINUX_CHARON)
# That kernel as kernel A: charon-kexec -s and Debian's kexec -s load
# Debian's kernel B (and a crash kernel) through the kernel's
# kexec_file_load, which runs charon's purgatory.
CHECK_SUITES += script:$(LINUX_CHARON_DIR)/run-linux-charon.sh
# The vmlinux that build leaves, as kernel B: charon-kexec boots it by the
# Linux boot protocol (--args-linux, detected by its ELF notes), Debian's
# kexec --type=elf-x86_64 --args-linux is the reference.
CHECK_SUITES += script:boot-tests/kernel/run-vmlinux.sh
