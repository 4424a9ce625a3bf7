# Real-kernel tests (tier 3): Debian's kernel A kexecs kernel B under QEMU.
# build/kernel/vmlinuz comes from `make deps` (boot-tests/kernel/fetch-kernel.sh).
# The initramfs is cheap (a few seconds) and needs no charon-kexec; the
# scripts rebuild it when charon-kexec appears or changes.
KERNEL_INITRAMFS := $(B)/kernel/initramfs.cpio.gz

$(KERNEL_INITRAMFS): boot-tests/kernel/mkinitramfs.sh boot-tests/kernel/init $(wildcard $(B)/loader/charon-kexec)
	@echo "  INITRD  $@"
	$(Q)sh boot-tests/kernel/mkinitramfs.sh $@ $(B)/loader/charon-kexec >/dev/null

ALL_TARGETS  += $(KERNEL_INITRAMFS)
CHECK_SUITES += script:boot-tests/kernel/run-matrix.sh
BENCH_STEPS  += boot-tests/kernel/bench-kexec.sh
