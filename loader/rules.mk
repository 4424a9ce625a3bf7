# loader/: the host loader library, the charon-kexec CLI, their tests and
# fuzzers.

# The loader library: loader/ minus tests and the CLI's main.
LOADER_SRCS := $(sort $(filter-out %_test.cpp loader/charon_kexec_main.cpp,\
  $(wildcard loader/*.cpp)))
LOADER_MAIN_SRCS := loader/charon_kexec_main.cpp
# vmcore-check, the crash kernel's reader of /proc/vmcore.
VMCORE_SRCS := loader/tools/vmcore_check.cpp
# What the library links from the other directories: the image-building
# core, SHA-256 and the rest of common/, and the page-table sizing the
# purgatory itself uses. The library is these and LOADER_SRCS.
LOADER_DEP_SRCS := $(KIMAGE_SRCS) $(COMMON_SRCS) $(SHA_SIMD_SRCS) $(IDMAP_SRCS)
LOADER_LIB_SRCS := $(LOADER_SRCS) $(LOADER_DEP_SRCS)
LOADER_PURGATORY_RO := $(PURG_RO)

# purgatory.ro goes into the binary as bytes, through .incbin.
LOADER_BLOB_S := $(B)/gen/loader/purgatory_blob.S
LOADER_BLOB_O := $(call objs,static,loader/purgatory_blob.o)
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

# ---- libcharon-loader.a and the C API: what other loaders link.
LOADER_LIB_A := $(B)/loader/libcharon-loader.a
$(LOADER_LIB_A): $(call objs,static,$(LOADER_LIB_SRCS))
	@mkdir -p $(dir $@)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

# ---- charon-kexec: static, -O2, no sanitizers (it goes into an initramfs).
# It links the library as other loaders do: only the members it uses.
CHARON_KEXEC := $(B)/loader/charon-kexec
$(CHARON_KEXEC): $(call objs,static,$(LOADER_MAIN_SRCS)) $(LOADER_BLOB_O) $(LOADER_LIB_A)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@ (static)"
	$(Q)$(CXX_HOST) -static -O2 $^ -o $@

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

LOADER_TESTS := $(sort $(wildcard loader/*_test.cpp loader/tools/*_test.cpp))
LOADER_TEST_OBJS := $(call objs,host,$(LOADER_TESTS))
$(LOADER_TEST_OBJS): OBJ_FLAGS += -DCHARON_FAKE_PURGATORY='"$(LOADER_FAKE_PURG)"' \
  -DCHARON_REAL_PURGATORY='"$(LOADER_PURGATORY_RO)"' -DCHARON_TESTDATA='"loader/testdata"' \
  -Icommon/kimage/testdata
$(call objs,host,loader/testdata/mkbzimage.cpp): OBJ_FLAGS += -Icommon/kimage/testdata
LOADER_TEST_BIN := $(B)/host/loader_test
$(LOADER_TEST_BIN): $(LOADER_TEST_OBJS) $(call objs,host,$(LOADER_LIB_SRCS) $(VMCORE_SRCS)) \
    | $(LOADER_FAKE_PURG) $(LOADER_PURGATORY_RO)
	@echo "  LINK    $@"
	$(Q)$(CXX_HOST) $(HOST_LDFLAGS) $(filter %.o,$^) $(GTEST_LIBS) -o $@

# The image-building core's own tests, once it has any (common/kimage/
# *_test.cpp). They may use the loader's test helpers (#include
# "testdata/...") and test inputs, as they did while the code lived here.
KIMAGE_TEST_BIN := $(B)/host/kimage_test
$(call objs,host,$(KIMAGE_TESTS)): OBJ_FLAGS += -Iloader -Icommon/kimage/testdata \
  -DCHARON_FAKE_PURGATORY='"$(LOADER_FAKE_PURG)"' -DCHARON_REAL_PURGATORY='"$(PURG_RO)"' \
  -DCHARON_TESTDATA='"loader/testdata"' -DCHARON_PURGATORY_BIN='"$(PURG_BIN)"' \
  -DCHARON_KERNEL='"$(B)/kernel/vmlinuz"'
$(KIMAGE_TEST_BIN): $(call objs,host,$(KIMAGE_TESTS) $(KIMAGE_SRCS) $(COMMON_SRCS) \
    $(SHA_SIMD_SRCS) $(IDMAP_SRCS)) | $(LOADER_FAKE_PURG) $(PURG_RO) $(PURG_BIN)
	@echo "  LINK    $@"
	$(Q)$(CXX_HOST) $(HOST_LDFLAGS) $(filter %.o,$^) $(GTEST_LIBS) -lcrypto -o $@
ifneq ($(KIMAGE_TESTS),)
ALL_TARGETS += $(KIMAGE_TEST_BIN)
CHECK_SUITES += gtest:$(KIMAGE_TEST_BIN)
endif

# A bzImage header writer for the CLI tests: synthetic kernels with any
# header field wrong.
LOADER_MKBZ := $(B)/host/loader/mkbzimage
$(LOADER_MKBZ): $(call objs,host,loader/testdata/mkbzimage.cpp)
	@echo "  LINK    $@"
	$(Q)$(CXX_HOST) $(HOST_LDFLAGS) $^ -o $@

# vmcore-check: the crash kernel's test /init runs it on /proc/vmcore
# (boot-tests/kernel/run-kdump.sh puts it into the initramfs).
VMCORE_CHECK := $(B)/loader/vmcore-check
$(VMCORE_CHECK): $(call objs,static,$(VMCORE_SRCS) loader/tools/vmcore_check_main.cpp)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@ (static)"
	$(Q)$(CXX_HOST) -static -O2 $^ -o $@

ALL_TARGETS += $(CHARON_KEXEC) $(LOADER_TEST_BIN) $(LOADER_MKBZ) $(LOADER_FAKE_PURG) $(VMCORE_CHECK)
CHECK_SUITES += gtest:$(LOADER_TEST_BIN) \
  script:loader/cli_test.sh
INSTALL_FILES += $(CHARON_KEXEC):sbin/charon-kexec:755

# ---- fuzzing: `make fuzz` runs each target for FUZZ_SECONDS on a copy of
# its committed seed corpus (new inputs land under build/, not in git).
# Every fuzzer links the whole library, built once in the fuzz variant;
# loader/fuzz/fuzz_NAME.cpp becomes build/fuzz/loader/fuzz_NAME and
# common/kimage/fuzz_NAME.cpp build/fuzz/kimage/fuzz_NAME.
FUZZ_SECONDS ?= 60
FUZZ_CXXFLAGS := $(HOSTED_BASE) -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -Icommon/kimage/testdata
$(eval $(call variant,fuzz,$(CXX_HOST),$(FUZZ_CXXFLAGS),$(SIMD),))
LOADER_FUZZ_SRCS := $(sort $(wildcard loader/fuzz/fuzz_*.cpp))
LOADER_FUZZ_BINS := $(patsubst loader/fuzz/%.cpp,$(B)/fuzz/loader/%,$(LOADER_FUZZ_SRCS)) \
  $(patsubst common/kimage/%.cpp,$(B)/fuzz/kimage/%,$(KIMAGE_FUZZ_SRCS))
LOADER_FUZZ_LIB_OBJS := $(call objs,fuzz,$(LOADER_LIB_SRCS))
# Static pattern rules, so that make keeps the objects (a plain pattern
# rule would make them intermediate files and delete them after the link).
$(filter $(B)/fuzz/loader/%,$(LOADER_FUZZ_BINS)): $(B)/fuzz/loader/fuzz_%: \
    $(call objs,fuzz,loader/fuzz/fuzz_%.cpp) $(LOADER_FUZZ_LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  FUZZ-LD $@"
	$(Q)$(CXX_HOST) -fsanitize=fuzzer,address,undefined $^ -o $@
$(filter $(B)/fuzz/kimage/%,$(LOADER_FUZZ_BINS)): $(B)/fuzz/kimage/fuzz_%: \
    $(call objs,fuzz,common/kimage/fuzz_%.cpp) $(LOADER_FUZZ_LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  FUZZ-LD $@"
	$(Q)$(CXX_HOST) -fsanitize=fuzzer,address,undefined $^ -o $@
loader-fuzzers: $(LOADER_FUZZ_BINS)
.PHONY: loader-fuzzers
# The top-level `make fuzz` runs each FUZZ_STEPS word as a command, so the
# step is one script; it reads FUZZ_SECONDS from the environment.
export FUZZ_SECONDS
fuzz: loader-fuzzers
FUZZ_STEPS += loader/fuzz/run.sh

# charon.efi's host tests compare its adapter with this one (one core, two
# adapters), so they link the hosted library too.
$(EFI_TEST_BIN): $(call objs,host,$(LOADER_LIB_SRCS)) | $(LOADER_PURGATORY_RO)
$(call objs,host,$(EFI_TESTS)): OBJ_FLAGS += -DCHARON_REAL_PURGATORY='"$(LOADER_PURGATORY_RO)"'

# page-offset: kernel A's test /init prints the base of its direct map with
# it, which boot-tests/kernel/run-kdump.sh compares with what makedumpfile
# finds in the crash kernel's /proc/vmcore. Static, like vmcore-check.
PAGE_OFFSET_SRCS := loader/tools/page_offset.cpp
PAGE_OFFSET_TOOL := $(B)/loader/page-offset
$(PAGE_OFFSET_TOOL): $(call objs,static,$(PAGE_OFFSET_SRCS) loader/tools/page_offset_main.cpp)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@ (static)"
	$(Q)$(CXX_HOST) -static -O2 $^ -o $@
# loader/tools/page_offset_test.cpp is in LOADER_TESTS; it links the tool.
$(LOADER_TEST_BIN): $(call objs,host,$(PAGE_OFFSET_SRCS))
ALL_TARGETS += $(PAGE_OFFSET_TOOL)

# peak-anon: `make bench` measures the loaders' peak anonymous memory with
# it (loader/tools/peak_anon.h says how, and why the figure is exact).
PEAK_ANON_SRCS := loader/tools/peak_anon.cpp
PEAK_ANON_TOOL := $(B)/bench/peak-anon
$(PEAK_ANON_TOOL): $(call objs,static,$(PEAK_ANON_SRCS) loader/tools/peak_anon_main.cpp)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@ (static)"
	$(Q)$(CXX_HOST) -static -O2 $^ -o $@
$(LOADER_TEST_BIN): $(call objs,host,$(PEAK_ANON_SRCS))
ALL_TARGETS += $(PEAK_ANON_TOOL)
# charon-kexec -l --dry-run against kexec -l: time and peak anonymous
# memory with a 64 and a 512 MiB initrd (the script says how and why).
BENCH_STEPS += loader/bench-load.sh
