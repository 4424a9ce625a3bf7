# x86_64/purgatory/rules.mk: the purgatory: purgatory.ro (ET_REL, for loaders that relocate and patch
# by symbol) and purgatory.bin (flat, position-independent), one source.

# Position-independent freestanding C++: -fpie with every symbol hidden
# yields only PC32/PLT32 relocations. Its own object tree, because common/
# is also built non-PIC for other users.
PURG_CXXFLAGS := $(filter-out -fno-pic -fno-pie -mcmodel=kernel,$(FS_CXXFLAGS)) \
  -fpie -fvisibility=hidden -include common/include/charon/visibility.h \
  -fno-zero-initialized-in-bss
PURG_CXX_SRCS := common/mem.cpp common/console.cpp common/uart8250.cpp common/sha256.cpp \
  common/libc_shim.cpp x86_64/paging/identity_map.cpp x86_64/purgatory/idt.cpp x86_64/purgatory/bootstrap.cpp \
  x86_64/purgatory/purgatory_map.cpp x86_64/purgatory/purgatory.cpp
PURG_SIMD_SRCS := common/sha256_shani.cpp
PURG_ASM_SRCS := x86_64/purgatory/entry.asm x86_64/purgatory/handoff.asm x86_64/purgatory/isr_stubs.asm x86_64/purgatory/params.asm

PURG_OBJS := $(patsubst %.cpp,$(B)/purg/%.o,$(PURG_CXX_SRCS) $(PURG_SIMD_SRCS)) \
  $(patsubst %.asm,$(B)/fs/%.o,$(PURG_ASM_SRCS))
PURG_RO := $(B)/x86_64/purgatory.ro
PURG_ELF := $(B)/x86_64/purgatory.elf
PURG_BIN := $(B)/x86_64/purgatory.bin

$(B)/purg/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX-PIC $<"
	$(Q)$(CXX_FS) $(PURG_CXXFLAGS) $(PURG_GPR) -MMD -MP -c $< -o $@
$(patsubst %.cpp,$(B)/purg/%.o,$(PURG_CXX_SRCS)): PURG_GPR := $(FS_GPR)
$(patsubst %.cpp,$(B)/purg/%.o,$(PURG_SIMD_SRCS)): PURG_GPR := $(FS_SIMD)
# Size matters more than speed everywhere but the hash loops (issue 3's
# 12 KiB budget); -Os comes after -O2 and wins.
$(patsubst %.cpp,$(B)/purg/%.o,$(filter-out common/sha256.cpp,$(PURG_CXX_SRCS))): PURG_GPR += -Os
# The hash loop needs every register it can get (about 3%).
$(B)/purg/common/sha256.o: PURG_GPR += -fomit-frame-pointer

$(patsubst %.asm,$(B)/fs/%.o,$(PURG_ASM_SRCS) x86_64/purgatory/bin_header.asm): $(GEN_PARAMS_INC) \
  $(GEN_X86_INC) x86_64/arch.inc

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

$(PURG_ELF): $(PURG_RO) $(B)/fs/x86_64/purgatory/bin_header.o linker/purgatory-bin.ld
	@echo "  LD      $@"
	$(Q)$(LD_FS) -static -nostdlib --no-dynamic-linker -T linker/purgatory-bin.ld \
	  $(B)/fs/x86_64/purgatory/bin_header.o $(PURG_RO) -o $@

$(PURG_BIN): $(PURG_ELF)
	@echo "  OBJCOPY $@"
	$(Q)llvm-objcopy -O binary $< $@

ALL_TARGETS += $(PURG_RO) $(PURG_BIN)
INSTALL_FILES += $(PURG_RO):lib/charon/purgatory.ro:644 $(PURG_BIN):lib/charon/purgatory.bin:644

BENCH_STEPS += x86_64/purgatory/size-report.sh
