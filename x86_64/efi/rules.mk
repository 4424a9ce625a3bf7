# x86_64/efi/rules.mk: charon.efi, the GNU-EFI loader, and its host tests.
#
# clang++ compiles the C++ for the GNU-EFI ABI (-fpic, -fshort-wchar, no
# red zone, ms_abi calls into the firmware via GNU_EFI_USE_MS_ABI); GNU
# ld links it with GNU-EFI's crt0 and linker script into a shared object,
# and objcopy turns that into a PE32+ EFI application (subsystem 10).
# purgatory.bin goes inside as bytes (purgatory_blob.asm, incbin).

EFI_INC := /usr/include/efi
EFI_LIBDIR := /usr/lib
EFI_CRT0 := $(EFI_LIBDIR)/crt0-efi-x86_64.o
EFI_LDS := $(EFI_LIBDIR)/elf_x86_64_efi.lds

EFI_CXXFLAGS := --target=x86_64-linux-gnu -std=c++20 -O2 $(WARN) -ffreestanding -fno-exceptions \
  -fno-rtti -fshort-wchar -mno-red-zone -fpic -fno-stack-protector -fno-strict-aliasing \
  -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-threadsafe-statics \
  -fvisibility=hidden -DGNU_EFI_USE_MS_ABI \
  -isystem $(EFI_INC) -isystem $(EFI_INC)/x86_64 -Icommon/include -Iloader/include \
  -Ix86_64/include -Ix86_64/efi -I$(B)/gen
EFI_GPR := -mgeneral-regs-only

# The app's own logic (also host-tested), its firmware glue, and what it
# shares with the rest of charon: the image-building core, SHA-256, the
# console, page tables and the indirection list.
EFI_CORE_SRCS := x86_64/efi/config.cpp x86_64/efi/efi_memmap.cpp x86_64/efi/gop.cpp \
  x86_64/efi/adapter.cpp x86_64/efi/purgatory_bin.cpp $(KIMAGE_SRCS)
EFI_APP_SRCS := x86_64/efi/main.cpp x86_64/efi/efi_glue.cpp x86_64/efi/handoff.cpp
EFI_SHARED_SRCS := common/sha256.cpp common/mem.cpp common/console.cpp common/uart8250.cpp \
  x86_64/paging/identity_map.cpp loader/indirection.cpp
# The SHA-NI block function only links: the app hashes with the scalar one.
EFI_SIMD_SRCS := common/sha256_shani.cpp
# The test build adds probe mode and the fault-injection hooks.
EFI_TEST_ONLY_SRCS := $(wildcard x86_64/efi/test_*.cpp) boot-tests/harness/world.cpp

EFI_PROD_OBJS := $(patsubst %.cpp,$(B)/efi/%.o,$(EFI_CORE_SRCS) $(EFI_APP_SRCS) $(EFI_SHARED_SRCS) \
  $(EFI_SIMD_SRCS)) $(B)/efi/x86_64/efi/purgatory_blob.o $(B)/fs/x86_64/trampoline/relocate.o
EFI_TEST_OBJS := $(patsubst %.cpp,$(B)/efi-test/%.o,$(EFI_CORE_SRCS) $(EFI_APP_SRCS) \
  $(EFI_SHARED_SRCS) $(EFI_SIMD_SRCS) $(EFI_TEST_ONLY_SRCS)) $(B)/efi/x86_64/efi/purgatory_blob.o \
  $(B)/fs/x86_64/trampoline/relocate.o
CHARON_EFI := $(B)/x86_64/charon.efi
CHARON_TEST_EFI := $(B)/x86_64/charon-test.efi

$(B)/efi/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX-EFI $<"
	$(Q)$(CXX_FS) $(EFI_CXXFLAGS) $(EFI_GPR) -MMD -MP -c $< -o $@
$(B)/efi-test/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX-EFT $<"
	$(Q)$(CXX_FS) $(EFI_CXXFLAGS) -DCHARON_EFI_TEST=1 -Iboot-tests/probe -Iboot-tests/harness \
	  $(EFI_GPR) -MMD -MP -c $< -o $@
$(patsubst %.cpp,$(B)/efi/%.o,$(EFI_SIMD_SRCS)) $(patsubst %.cpp,$(B)/efi-test/%.o,$(EFI_SIMD_SRCS)): \
  EFI_GPR := $(FS_SIMD)

$(B)/efi/x86_64/efi/purgatory_blob.o: x86_64/efi/purgatory_blob.asm $(PURG_BIN)
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	$(Q)$(NASM) -f elf64 -Werror -DPURGATORY_BIN='"$(PURG_BIN)"' $< -o $@

$(B)/efi/x86_64/efi/main.o $(B)/efi/x86_64/efi/handoff.o: $(GEN_PARAMS_INC)

# GNU ld links with GNU-EFI's crt0 and linker script into a shared object;
# objcopy turns that into a PE32+ EFI application (subsystem 10).
EFI_LINK = ld.bfd -nostdlib -znocombreloc -T $(EFI_LDS) -shared -Bsymbolic --no-undefined \
  -z noexecstack -L$(EFI_LIBDIR) $(EFI_CRT0) $(1) -lefi -lgnuefi -o $(2)
EFI_PE = objcopy -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
  -j '.rel.*' -j '.rela.*' -j .reloc --target efi-app-x86_64 --subsystem=10 $(1) $(2)

$(CHARON_EFI): $(EFI_PROD_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD-EFI  $@"
	$(Q)$(call EFI_LINK,$(EFI_PROD_OBJS),$@.so)
	$(Q)$(call EFI_PE,$@.so,$@)
$(CHARON_TEST_EFI): $(EFI_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD-EFI  $@"
	$(Q)$(call EFI_LINK,$(EFI_TEST_OBJS),$@.so)
	$(Q)$(call EFI_PE,$@.so,$@)

# ---- host tests of the pure parts
EFI_TESTS := $(wildcard x86_64/efi/*_test.cpp)
EFI_TEST_BIN := $(B)/host/efi_test
$(patsubst %.cpp,$(B)/host/%.o,$(EFI_TESTS) $(EFI_CORE_SRCS)): HOST_CXXFLAGS += -Ix86_64/efi \
  -DCHARON_EFI_TEST=1 -Icommon/kimage/testdata \
  -DCHARON_PURGATORY_BIN='"$(PURG_BIN)"' -DCHARON_KERNEL='"$(B)/kernel/vmlinuz"'
$(EFI_TEST_BIN): $(patsubst %.cpp,$(B)/host/%.o,$(EFI_TESTS) $(EFI_CORE_SRCS) \
    x86_64/paging/identity_map.cpp) $(COMMON_HOST_OBJS) | $(PURG_BIN)
	@echo "  LINK    $@"
	$(Q)$(CXX_HOST) $(HOST_LDFLAGS) $(filter %.o,$^) $(GTEST_LIBS) -o $@

ALL_TARGETS += $(CHARON_EFI) $(CHARON_TEST_EFI) $(EFI_TEST_BIN)
CHECK_SUITES += gtest:$(EFI_TEST_BIN)
INSTALL_FILES += $(CHARON_EFI):lib/charon/charon.efi:644
