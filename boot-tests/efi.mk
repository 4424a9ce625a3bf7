# boot-tests/efi.mk: charon.efi under OVMF (tier 3, the UEFI path). The
# suite builds its ESP images with mtools and boots Debian's OVMF; it needs
# charon.efi, the probe, Debian's kernel and the kernel tests' initramfs.
CHECK_SUITES += script:boot-tests/efi/run-efi.sh
