# boot-tests/: the QEMU tiers. Each group adds its artifacts and suites.
include boot-tests/kernel.mk
include boot-tests/protocol.mk
include boot-tests/efi.mk
include boot-tests/payload.mk
