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
$(PURG_RO): $(PURG_OBJS) linker/purgatory-ro.ld x86_64/purgatory/check-relocs.sh
	@mkdir -p $(dir $@)
	@echo "  LD -r   $@"
	$(Q)$(LD_FS) -r --gc-sections -e purgatory_start -u charon_entry32 \
	  -T linker/purgatory-ro.ld $(PURG_OBJS) -o $@.tmp
	$(Q)sh x86_64/purgatory/check-relocs.sh $@.tmp
	$(Q)mv $@.tmp $@

$(PURG_ELF): $(PURG_RO) $(PURG_BIN_HEADER) linker/purgatory-bin.ld
	@echo "  LD      $@"
	$(Q)$(LD_FS) -static -nostdlib --no-dynamic-linker -T linker/purgatory-bin.ld \
	  $(PURG_BIN_HEADER) $(PURG_RO) -o $@

$(PURG_BIN): $(PURG_ELF)
	@echo "  OBJCOPY $@"
	$(Q)llvm-objcopy -O binary $< $@

ALL_TARGETS += $(PURG_RO) $(PURG_BIN)
INSTALL_FILES += $(PURG_RO):lib/charon/purgatory.ro:644 $(PURG_BIN):lib/charon/purgatory.bin:644

BENCH_STEPS += x86_64/purgatory/size-report.sh
