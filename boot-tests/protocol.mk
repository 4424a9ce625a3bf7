# boot-tests/protocol.mk: tier 2, the purgatory's protocol under QEMU with
# no OS. A multiboot harness enters the purgatory from each entry state; a
# probe payload, entered by the purgatory, checks the handoff.

PROBE_ELF := $(B)/boot-tests/probe.elf
PROBE_BIN := $(B)/boot-tests/probe.bin
HARNESS_ELF := $(B)/boot-tests/harness.elf
HARNESS_BIN := $(B)/boot-tests/harness.bin

PROBE_SRCS := $(sort $(wildcard boot-tests/probe/*.cpp boot-tests/probe/*.asm))
HARNESS_SRCS := $(sort $(wildcard boot-tests/harness/*.cpp boot-tests/harness/*.asm))
PROBE_OBJS := $(call objs,fs,$(PROBE_SRCS))
HARNESS_OBJS := $(call objs,fs,$(HARNESS_SRCS))
# The relocation trampoline and what a firmware links to drive it: the
# indirection-list builder and validator, and the identity-map builder.
HARNESS_RELOC_OBJS := $(RELOC_OBJ) $(call objs,fs,loader/indirection.cpp $(IDMAP_SRCS))
# The core's rule for the memory a loader passes (the e820=1 world).
HARNESS_RELOC_OBJS += $(call objs,fs,common/kimage/memory.cpp)
$(HARNESS_OBJS) $(call objs,fs,loader/indirection.cpp): OBJ_FLAGS += -Iloader/include

# The probe and harness share descriptor.h; their asm includes saved.inc,
# enter.inc and the generated params.inc. The harness's asm also takes the
# generated x86.inc (through enter.inc); the probe's keeps its own numbers,
# so that it stays an independent oracle.
$(PROBE_OBJS) $(HARNESS_OBJS): OBJ_FLAGS += -Iboot-tests/probe
$(PROBE_OBJS): NASMFLAGS += -Iboot-tests/probe/
$(HARNESS_OBJS): NASMFLAGS += -Iboot-tests/harness/ -Iboot-tests/probe/
$(filter %/entry.o %/enter.o,$(HARNESS_OBJS)): $(GEN_X86_INC) boot-tests/harness/enter.inc

PROTO_LDFLAGS := -nostdlib -static --no-pie --gc-sections -z max-page-size=4096 --build-id=none

# The probe needs only the console and memory primitives; the harness also
# hashes the regions.
PROBE_COMMON := $(call objs,fs,$(filter common/console.cpp common/uart8250.cpp common/mem.cpp,\
  $(COMMON_SRCS))) $(COMMON_FS_SHIM)

PROBE_LINK = $(LD_FS) $(PROTO_LDFLAGS) -T linker/probe.ld -e probe_entry64 -u probe_entry32 \
  $(PROBE_OBJS) $(PROBE_COMMON)
HARNESS_LINK = $(LD_FS) $(PROTO_LDFLAGS) -T linker/harness.ld $(HARNESS_OBJS) $(HARNESS_RELOC_OBJS) \
  $(COMMON_FS_OBJS) $(COMMON_FS_SHIM)

# The .bin files are what QEMU loads: the probe raw at its fixed address,
# the harness as a multiboot "a.out kludge" image (QEMU's multiboot loader
# refuses 64-bit ELF). lld writes them itself; the .elf files are for gdb
# and objdump.
$(PROBE_ELF) $(PROBE_BIN): $(PROBE_OBJS) $(PROBE_COMMON) linker/probe.ld
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(PROBE_LINK) $(if $(filter %.bin,$@),--oformat binary) -o $@

$(HARNESS_ELF) $(HARNESS_BIN): $(HARNESS_OBJS) $(HARNESS_RELOC_OBJS) $(COMMON_FS_OBJS) \
    $(COMMON_FS_SHIM) linker/harness.ld
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(HARNESS_LINK) $(if $(filter %.bin,$@),--oformat binary) -o $@

ALL_TARGETS += $(PROBE_BIN) $(HARNESS_BIN) $(PROBE_ELF) $(HARNESS_ELF)
CHECK_SUITES += script:boot-tests/harness/run-protocol.sh
CHECK_SUITES += script:boot-tests/format-check.sh
