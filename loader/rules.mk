# loader/: the host loader library, the charon-kexec CLI, their tests and
# fuzzers.

LOADER_LIB_SRCS := $(filter-out %_test.cpp %_main.cpp,$(wildcard loader/*.cpp))
# What the library links from the other directories: the image-building
# core, SHA-256 and the page-table sizing the purgatory itself uses.
LOADER_DEP_SRCS := $(KIMAGE_SRCS) common/sha256.cpp common/mem.cpp x86_64/paging/identity_map.cpp
LOADER_DEP_SIMD_SRCS := common/sha256_shani.cpp

LOADER_HOST_OBJS := $(patsubst %.cpp,$(B)/host/%.o,$(LOADER_LIB_SRCS))
LOADER_PURGATORY_RO := $(B)/x86_64/purgatory.ro

# ---- charon-kexec: static, -O2, no sanitizers (it goes into an initramfs)
LOADER_STATIC_CXXFLAGS := -std=c++20 -O2 $(WARN) -Icommon/include -Iloader/include \
  -Ix86_64/include -I$(B)/gen
$(B)/static/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX-ST  $<"
	$(Q)$(CXX_HOST) $(LOADER_STATIC_CXXFLAGS) $(LOADER_STATIC_EXTRA) -MMD -MP -c $< -o $@
$(patsubst %.cpp,$(B)/static/%.o,$(LOADER_DEP_SIMD_SRCS)): LOADER_STATIC_EXTRA := $(HOST_SIMD)

# purgatory.ro goes into the binary as bytes, through .incbin.
LOADER_BLOB_S := $(B)/gen/loader/purgatory_blob.S
LOADER_BLOB_O := $(B)/static/loader/purgatory_blob.o
$(LOADER_BLOB_S): loader/rules.mk
	@mkdir -p $(dir $@)
	$(Q)printf '%s\n' '.section .rodata.charon_purgatory,"a",@progbits' '.balign 64' \
	  '.globl charon_embedded_purgatory' 'charon_embedded_purgatory:' \
	  '.incbin "$(LOADER_PURGATORY_RO)"' '.globl charon_embedded_purgatory_end' \
	  'charon_embedded_purgatory_end:' '.section .note.GNU-stack,"",@progbits' > $@
$(LOADER_BLOB_O): $(LOADER_BLOB_S) $(LOADER_PURGATORY_RO)
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CXX_HOST) -c -x assembler $< -o $@

LOADER_STATIC_OBJS := $(patsubst %.cpp,$(B)/static/%.o,$(LOADER_LIB_SRCS) \
  $(LOADER_DEP_SRCS) $(LOADER_DEP_SIMD_SRCS) loader/charon_kexec_main.cpp) $(LOADER_BLOB_O)
CHARON_KEXEC := $(B)/loader/charon-kexec
$(CHARON_KEXEC): $(LOADER_STATIC_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@ (static)"
	$(Q)$(CXX_HOST) -static -O2 $^ -o $@

# ---- libcharon-loader.a and the C API: what other loaders link.
LOADER_LIB_A := $(B)/loader/libcharon-loader.a
$(LOADER_LIB_A): $(patsubst %.cpp,$(B)/static/%.o,$(LOADER_LIB_SRCS) $(LOADER_DEP_SRCS) \
    $(LOADER_DEP_SIMD_SRCS))
	@mkdir -p $(dir $@)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^
# A C program against the C header and the archive: the API must be C.
LOADER_C_SMOKE := $(B)/loader/c_api_smoke
$(LOADER_C_SMOKE): loader/testdata/c_api_smoke.c $(LOADER_LIB_A) loader/include/charon/loader.h
	@echo "  CC      $<"
	$(Q)clang -std=c99 $(WARN) -pedantic -Icommon/include -Iloader/include -c $< -o $@.o
	$(Q)$(CXX_HOST) $@.o $(LOADER_LIB_A) -o $@
ALL_TARGETS += $(LOADER_LIB_A) $(LOADER_C_SMOKE)
CHECK_SUITES += script:loader/c_api_test.sh
INSTALL_FILES += $(LOADER_LIB_A):lib/libcharon-loader.a:644 \
  loader/include/charon/loader.h:include/charon/loader.h:644 \
  common/include/charon/params.h:include/charon/params.h:644

# ---- unit tests (sanitized)
# The relocator's stand-in purgatory: ET_REL with every relocation type.
LOADER_FAKE_PURG := $(B)/loader/testdata/fake_purgatory.o
$(LOADER_FAKE_PURG): loader/testdata/fake_purgatory.cpp common/include/charon/params.h
	@mkdir -p $(dir $@)
	@echo "  CXX-FS  $<"
	$(Q)$(CXX_FS) --target=x86_64-unknown-none-elf -std=c++20 -O1 $(WARN) -ffreestanding \
	  -fno-pic -mcmodel=kernel -fno-asynchronous-unwind-tables -Icommon/include -c $< -o $@

LOADER_TESTS := $(wildcard loader/*_test.cpp loader/tools/*_test.cpp)
LOADER_TEST_OBJS := $(patsubst %.cpp,$(B)/host/%.o,$(LOADER_TESTS))
$(LOADER_TEST_OBJS): HOST_CXXFLAGS += -DCHARON_FAKE_PURGATORY='"$(LOADER_FAKE_PURG)"' \
  -DCHARON_REAL_PURGATORY='"$(LOADER_PURGATORY_RO)"' -DCHARON_TESTDATA='"loader/testdata"' \
  -Icommon/kimage/testdata
$(B)/host/loader/testdata/mkbzimage.o: HOST_CXXFLAGS += -Icommon/kimage/testdata
LOADER_TEST_BIN := $(B)/host/loader_test
$(LOADER_TEST_BIN): $(LOADER_TEST_OBJS) $(LOADER_HOST_OBJS) $(B)/host/loader/tools/vmcore_check.o \
    $(patsubst %.cpp,$(B)/host/%.o,$(LOADER_DEP_SRCS) $(LOADER_DEP_SIMD_SRCS)) \
    | $(LOADER_FAKE_PURG) $(LOADER_PURGATORY_RO)
	@echo "  LINK    $@"
	$(Q)$(CXX_HOST) $(HOST_LDFLAGS) $(filter %.o,$^) $(GTEST_LIBS) -o $@

# A bzImage header writer for the CLI tests: synthetic kernels with any
# header field wrong.
LOADER_MKBZ := $(B)/host/loader/mkbzimage
$(LOADER_MKBZ): $(B)/host/loader/testdata/mkbzimage.o
	@echo "  LINK    $@"
	$(Q)$(CXX_HOST) $(HOST_LDFLAGS) $^ -o $@

# vmcore-check: the crash kernel's test /init runs it on /proc/vmcore
# (boot-tests/kernel/run-kdump.sh puts it into the initramfs).
VMCORE_CHECK := $(B)/loader/vmcore-check
$(VMCORE_CHECK): $(B)/static/loader/tools/vmcore_check.o $(B)/static/loader/tools/vmcore_check_main.o
	@mkdir -p $(dir $@)
	@echo "  LINK    $@ (static)"
	$(Q)$(CXX_HOST) -static -O2 $^ -o $@

ALL_TARGETS += $(CHARON_KEXEC) $(LOADER_TEST_BIN) $(LOADER_MKBZ) $(LOADER_FAKE_PURG) $(VMCORE_CHECK)
CHECK_SUITES += gtest:$(LOADER_TEST_BIN) \
  script:loader/cli_test.sh
INSTALL_FILES += $(CHARON_KEXEC):sbin/charon-kexec:755

# ---- fuzzing: `make fuzz` runs each target for FUZZ_SECONDS on a copy of
# its committed seed corpus (new inputs land under build/, not in git).
FUZZ_SECONDS ?= 60
LOADER_FUZZ_FLAGS := -std=c++20 -O1 -g $(WARN) -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=all -Icommon/include -Iloader/include -Ix86_64/include -I$(B)/gen \
  -Icommon/kimage/testdata
LOADER_FUZZ_TARGETS := bzimage elf memmap placement elfcore
LOADER_FUZZ_BINS := $(patsubst %,$(B)/fuzz/loader/fuzz_%,$(LOADER_FUZZ_TARGETS))
$(B)/fuzz/loader/fuzz_%: loader/fuzz/fuzz_%.cpp $(LOADER_LIB_SRCS) $(LOADER_DEP_SRCS) \
    $(LOADER_DEP_SIMD_SRCS)
	@mkdir -p $(dir $@)
	@echo "  FUZZ-CC $@"
	$(Q)$(CXX_HOST) $(LOADER_FUZZ_FLAGS) $(HOST_SIMD) $(filter %.cpp,$^) -o $@
loader-fuzzers: $(LOADER_FUZZ_BINS)
.PHONY: loader-fuzzers
# The top-level `make fuzz` runs each FUZZ_STEPS word as a command, so the
# step is one script; it reads FUZZ_SECONDS from the environment.
export FUZZ_SECONDS
fuzz: loader-fuzzers
FUZZ_STEPS += loader/fuzz/run.sh

# charon.efi's host tests compare its adapter with this one (one core, two
# adapters), so they link the hosted library too.
$(EFI_TEST_BIN): $(LOADER_HOST_OBJS) \
  $(patsubst %.cpp,$(B)/host/%.o,$(LOADER_DEP_SRCS) $(LOADER_DEP_SIMD_SRCS)) | $(LOADER_PURGATORY_RO)
$(patsubst %.cpp,$(B)/host/%.o,$(EFI_TESTS)): HOST_CXXFLAGS += \
  -DCHARON_REAL_PURGATORY='"$(LOADER_PURGATORY_RO)"'
