# x86_64/efi/rules.mk: charon.efi, the GNU-EFI loader; charon-test.efi, the
# same app with its test modes; and the host tests of its pure parts.
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

# ---- sources
EFI_ALL_SRCS := $(sort $(wildcard x86_64/efi/*.cpp))
EFI_TESTS := $(filter %_test.cpp,$(EFI_ALL_SRCS))
# The test build's own files: probe mode, fault-injection hooks.
EFI_TEST_ONLY_SRCS := $(filter x86_64/efi/test_%,$(filter-out $(EFI_TESTS),$(EFI_ALL_SRCS)))
# The app: everything else in x86_64/efi/.
EFI_SRCS := $(filter-out $(EFI_TESTS) $(EFI_TEST_ONLY_SRCS),$(EFI_ALL_SRCS))
# What the app links from the rest of charon: SHA-256, console, page
# tables, the image-building core, and the indirection list (plus the
# bzImage header checks while they still live in loader/).
EFI_SHARED_SRCS := $(COMMON_SRCS) $(IDMAP_SRCS) $(KIMAGE_SRCS) loader/indirection.cpp
# The test build also links the protocol harness's descriptor writer.
EFI_TEST_WORLD_SRCS := boot-tests/harness/world.cpp

EFI_TEST_INCLUDES := -Iboot-tests/probe -Iboot-tests/harness

# The firmware glue (needs efi.h): everything in the app but these is plain
# C++ and is host-tested. A new file that calls the firmware goes here.
EFI_FIRMWARE_SRCS := x86_64/efi/main.cpp x86_64/efi/efi_glue.cpp x86_64/efi/handoff.cpp
EFI_CORE_SRCS := $(filter-out $(EFI_FIRMWARE_SRCS),$(EFI_SRCS))

# ---- variants: the base freestanding flags for the GNU-EFI ABI
EFI_CXXFLAGS := --target=x86_64-linux-gnu $(FS_BASE) -fpic -fshort-wchar -fno-strict-aliasing \
  -fvisibility=hidden -DGNU_EFI_USE_MS_ABI -isystem $(EFI_INC) -isystem $(EFI_INC)/x86_64 \
  -Iloader/include -Ix86_64/efi
# efi: what is installed. efi-test: every object again with the test
# modes compiled in (CHARON_EFI_TEST=1), so no test code can leak into efi.
$(eval $(call variant,efi,$(CXX_FS),$(EFI_CXXFLAGS),$(SIMD),$(GPR_ONLY)))
$(eval $(call variant,efi-test,$(CXX_FS),$(EFI_CXXFLAGS) $(EFI_TEST_INCLUDES) \
  -DCHARON_EFI_TEST=1,$(SIMD),$(GPR_ONLY)))

# purgatory.bin as bytes, and the relocation trampoline: the same in both.
EFI_BLOB_OBJ := $(B)/efi/x86_64/efi/purgatory_blob.o
$(EFI_BLOB_OBJ): x86_64/efi/purgatory_blob.asm $(PURG_BIN)
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	$(Q)$(NASM) -f elf64 -Werror -DPURGATORY_BIN='"$(PURG_BIN)"' $< -o $@

# The SHA-NI block function only links: the app hashes with the scalar one.
EFI_OBJS := $(call objs,efi,$(EFI_SRCS) $(EFI_SHARED_SRCS) $(SHA_SIMD_SRCS)) $(EFI_BLOB_OBJ) \
  $(RELOC_OBJ)
EFI_TEST_OBJS := $(call objs,efi-test,$(EFI_SRCS) $(EFI_TEST_ONLY_SRCS) $(EFI_SHARED_SRCS) \
  $(SHA_SIMD_SRCS) $(EFI_TEST_WORLD_SRCS)) $(EFI_BLOB_OBJ) $(RELOC_OBJ)

CHARON_EFI := $(B)/x86_64/charon.efi
CHARON_EFI_TEST := $(B)/x86_64/charon-test.efi

# One link for both: build/x86_64/NAME.so from its objects, then NAME.efi.
EFI_LINK = ld.bfd -nostdlib -znocombreloc -T $(EFI_LDS) -shared -Bsymbolic --no-undefined \
  -z noexecstack -L$(EFI_LIBDIR) $(EFI_CRT0) $(1) -lefi -lgnuefi -o $(2)
$(CHARON_EFI:.efi=.so): $(EFI_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD-EFI  $@"
	$(Q)$(call EFI_LINK,$^,$@)
$(CHARON_EFI_TEST:.efi=.so): $(EFI_TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD-EFI  $@"
	$(Q)$(call EFI_LINK,$^,$@)
$(B)/x86_64/%.efi: $(B)/x86_64/%.so
	@echo "  PE      $@"
	$(Q)objcopy -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
	  -j '.rel.*' -j '.rela.*' -j .reloc --target efi-app-x86_64 --subsystem=10 $< $@

# ---- host tests of the pure parts
EFI_TEST_BIN := $(B)/host/efi_test
# The host tests see the test build's configuration keys (CHARON_EFI_TEST).
$(call objs,host,$(EFI_TESTS) $(EFI_CORE_SRCS)): OBJ_FLAGS += -Ix86_64/efi -DCHARON_EFI_TEST=1 \
  -Icommon/kimage/testdata \
  -DCHARON_PURGATORY_BIN='"$(PURG_BIN)"' -DCHARON_KERNEL='"$(B)/kernel/vmlinuz"'
$(EFI_TEST_BIN): $(call objs,host,$(EFI_TESTS) $(EFI_CORE_SRCS) $(IDMAP_SRCS) $(KIMAGE_SRCS)) \
    $(COMMON_HOST_OBJS) | $(PURG_BIN)
	@echo "  LINK    $@"
	$(Q)$(CXX_HOST) $(HOST_LDFLAGS) $(filter %.o,$^) $(GTEST_LIBS) -o $@

ALL_TARGETS += $(CHARON_EFI) $(CHARON_EFI_TEST) $(EFI_TEST_BIN)
CHECK_SUITES += gtest:$(EFI_TEST_BIN)
# Only the production app is installed.
INSTALL_FILES += $(CHARON_EFI):lib/charon/charon.efi:644
CHECK_SUITES += script:x86_64/efi/production_check.sh
