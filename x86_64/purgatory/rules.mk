# x86_64/purgatory/rules.mk: the purgatory: purgatory.ro (ET_REL, for
# loaders that relocate and patch by symbol) and purgatory.bin (flat,
# position-independent), one source.

# Position-independent freestanding C++: -fpie with every symbol hidden
# yields only PC32/PLT32 relocations. Its own variant, because common/ is
# also built non-PIC (fs) for other users.
PURG_CXXFLAGS := $(FS_BARE) -fpie -fvisibility=hidden \
  -include common/include/charon/visibility.h -fno-zero-initialized-in-bss
$(eval $(call variant,purg,$(CXX_FS),$(PURG_CXXFLAGS),$(SIMD),$(GPR_ONLY)))

PURGATORY_SRCS := $(sort $(filter-out %_test.cpp,$(wildcard x86_64/purgatory/*.cpp)))
# bin_header.asm goes only into the flat purgatory.bin, not purgatory.ro.
PURGATORY_ASM_SRCS := $(sort $(filter-out x86_64/purgatory/bin_header.asm,\
  $(wildcard x86_64/purgatory/*.asm)))

# The C++ is the purg variant; the nasm objects are the same in every
# variant and live in fs.
PURG_CXX_SRCS := $(COMMON_SRCS) $(SHIM_SRCS) $(IDMAP_SRCS) $(PURGATORY_SRCS)
PURG_OBJS := $(call objs,purg,$(PURG_CXX_SRCS) $(SHA_SIMD_SRCS)) \
  $(call objs,fs,$(PURGATORY_ASM_SRCS))
PURG_BIN_HEADER := $(call objs,fs,x86_64/purgatory/bin_header.asm)
PURG_RO := $(B)/x86_64/purgatory.ro
PURG_ELF := $(B)/x86_64/purgatory.elf
PURG_BIN := $(B)/x86_64/purgatory.bin

# Size matters more than speed everywhere but the hash loops (issue 3's
# 12 KiB budget); -Os comes after -O2 and wins. The SHA-NI unit stays -O2.
$(call objs,purg,$(filter-out common/sha256.cpp,$(PURG_CXX_SRCS))): OBJ_FLAGS += -Os
# The hash loop needs every register it can get (about 3%).
$(call objs,purg,common/sha256.cpp): OBJ_FLAGS += -fomit-frame-pointer

$(call objs,fs,$(PURG_ASM_SRCS) x86_64/purgatory/bin_header.asm): $(GEN_X86_INC) x86_64/arch.inc

# The relocation types kexec-tools and Linux apply are 64, 32, 32S, PC32
# and PLT32; we allow only the PC-relative two, which also proves the flat
# binary needs no relocation at run time. The check fails the build.
# One flavour of the purgatory from its objects ($(4)): the relocatable
# RO ($(1)), checked, and stripped of the local symbols no relocation
# names (kexec-tools copies the .ro into a fixed slot of its binary); the linked ELF ($(2)) with the bin header; the flat BIN ($(3)).
define purgatory_flavour
$(1): $(4) linker/purgatory-ro.ld x86_64/purgatory/check-relocs.sh
	@mkdir -p $$(dir $$@)
	@echo "  LD -r   $$@"
	$$(Q)$$(LD_FS) -r --gc-sections -e purgatory_start -u charon_entry32 \
	  -T linker/purgatory-ro.ld $(4) -o $$@.tmp
	$$(Q)sh x86_64/purgatory/check-relocs.sh $$@.tmp
	$$(Q)llvm-objcopy --strip-unneeded $$@.tmp
	$$(Q)mv $$@.tmp $$@

$(2): $(1) $$(PURG_BIN_HEADER) linker/purgatory-bin.ld
	@echo "  LD      $$@"
	$$(Q)$$(LD_FS) -static -nostdlib --no-dynamic-linker -T linker/purgatory-bin.ld \
	  $$(PURG_BIN_HEADER) $(1) -o $$@

$(3): $(2)
	@echo "  OBJCOPY $$@"
	$$(Q)llvm-objcopy -O binary $$< $$@
endef
$(eval $(call purgatory_flavour,$(PURG_RO),$(PURG_ELF),$(PURG_BIN),$(PURG_OBJS)))

# ---- the kernel flavour: purgatory-linux.ro, what the Linux kernel's
# kexec_file_load loads in place of arch/x86/purgatory/purgatory.ro. The
# same objects, but params.asm and entry.asm assembled with
# -DCHARON_KERNEL_ABI (the kernel's symbol names, its entry64_regs order,
# the serial console on); see params.asm. purgatory-linux.bin is the same
# image flat, for the protocol harness.
PURGK_ASM_SRCS := x86_64/purgatory/params.asm x86_64/purgatory/entry.asm
PURGK_ASM_OBJS := $(call objs,purgk,$(PURGK_ASM_SRCS))
PURGK_OBJS := $(filter-out $(call objs,fs,$(PURGK_ASM_SRCS)),$(PURG_OBJS)) $(PURGK_ASM_OBJS)
PURGK_RO := $(B)/x86_64/purgatory-linux.ro
PURGK_ELF := $(B)/x86_64/purgatory-linux.elf
PURGK_BIN := $(B)/x86_64/purgatory-linux.bin

$(B)/purgk/%.o: %.asm $(GEN_X86_INC) x86_64/arch.inc | $(GEN_INCS)
	@mkdir -p $(dir $@)
	@printf '  %-7s %s\n' NASM-K $<
	$(Q)$(NASM) $(NASMFLAGS) -DCHARON_KERNEL_ABI -MD $(@:.o=.d) -MP $< -o $@
-include $(PURGK_ASM_OBJS:.o=.d)

# The kernel applies R_X86_64_64, 32, 32S, PC32 and PLT32
# (arch/x86/kernel/machine_kexec_64.c arch_kexec_apply_relocations_add);
# check-relocs.sh holds this flavour to the same PC-relative subset, and
# to no undefined symbol (the kernel refuses SHN_UNDEF, which `ld -r`
# would leave unresolved; the kernel's own purgatory.chk step).
$(eval $(call purgatory_flavour,$(PURGK_RO),$(PURGK_ELF),$(PURGK_BIN),$(PURGK_OBJS)))

ALL_TARGETS += $(PURG_RO) $(PURG_BIN) $(PURGK_RO) $(PURGK_BIN)
INSTALL_FILES += $(PURG_RO):lib/charon/purgatory.ro:644 $(PURG_BIN):lib/charon/purgatory.bin:644 \
  $(PURGK_RO):lib/charon/purgatory-linux.ro:644

BENCH_STEPS += x86_64/purgatory/size-report.sh

# ---- host test: the kernel flavour's symbols against the kernel's structs,
# read with the loader's ELF reader.
PURGK_TEST_BIN := $(B)/host/purgatory_kernel_abi_test
PURGK_TEST_OBJS := $(call objs,host,x86_64/purgatory/kernel_abi_test.cpp loader/elf_reloc.cpp)
$(call objs,host,x86_64/purgatory/kernel_abi_test.cpp): \
  OBJ_FLAGS += -DCHARON_KERNEL_PURGATORY='"$(PURGK_RO)"'
$(PURGK_TEST_BIN): $(PURGK_TEST_OBJS) | $(PURGK_RO)
	@echo "  LINK    $@"
	$(Q)$(CXX_HOST) $(HOST_LDFLAGS) $(PURGK_TEST_OBJS) $(GTEST_LIBS) -o $@
ALL_TARGETS += $(PURGK_TEST_BIN)
CHECK_SUITES += gtest:$(PURGK_TEST_BIN)
