# The Xen tier: Debian's Xen 4.17 under QEMU/TCG with Debian's generic
# kernel as dom0 (build/xen, fetched once by boot-tests/xen/fetch-xen.sh);
# dom0 kexecs kernel B through Xen's kexec hypercall, and Xen's crash path
# boots it as a crash kernel. Debian's kexec-tools runs the same cases as
# the reference (run-xen-matrix.sh says how).
.PHONY: deps-xen
deps: deps-xen
deps-xen:
	$(Q)sh boot-tests/xen/fetch-xen.sh $(B)/xen
CHECK_SUITES += script:boot-tests/xen/run-xen-matrix.sh
# Xen from Linux: kernel A (Debian's cloud kernel under SeaBIOS) kexecs
# Xen 4.17 as a multiboot2 image with dom0's kernel and initrd as modules,
# through charon-kexec and, as the reference, kexec-tools'
# multiboot2-x86 loader (run-xen-mb2.sh).
CHECK_SUITES += script:boot-tests/xen/run-xen-mb2.sh
