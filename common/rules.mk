# common/: freestanding runtime shared by every target, also built for the
# host so that it can be unit-tested; common/kimage/: the image-building
# core every loader uses.
#
# Source lists. A new file in one of these directories needs no edit here:
# each list is the directory minus its tests, fuzzers and benches and minus
# the exceptions named below.

# The one unit allowed to use SSE: the SHA-NI block function. Every variant
# builds it with SIMD flags instead of -mgeneral-regs-only.
SHA_SIMD_SRCS := common/sha256_shani.cpp
# memcpy and friends for bare-metal links, which have no libc.
SHIM_SRCS := common/libc_shim.cpp
# Exceptions: gen_params.cpp is a build-time tool (below).
COMMON_SRCS := $(sort $(filter-out %_test.cpp %_bench.cpp common/gen_params.cpp \
  $(SHA_SIMD_SRCS) $(SHIM_SRCS),$(wildcard common/*.cpp)))
COMMON_TESTS := $(sort $(wildcard common/*_test.cpp))

# The image-building core (bzImage, placement, boot_params, setup_data, the
# parameter block). Freestanding; linked by charon-kexec, libcharon-loader.a,
# the loader tests and fuzzers, charon.efi and its host tests. May be empty.
# (A make pattern has one %, so the fuzzers are listed, not patterned.)
KIMAGE_TESTS := $(sort $(wildcard common/kimage/*_test.cpp))
KIMAGE_FUZZ_SRCS := $(sort $(wildcard common/kimage/fuzz_*.cpp))
KIMAGE_SRCS := $(sort $(filter-out %_test.cpp $(KIMAGE_FUZZ_SRCS),$(wildcard common/kimage/*.cpp)))

COMMON_FS_OBJS := $(call objs,fs,$(COMMON_SRCS) $(SHA_SIMD_SRCS))
COMMON_FS_SHIM := $(call objs,fs,$(SHIM_SRCS))
COMMON_HOST_OBJS := $(call objs,host,$(COMMON_SRCS) $(SHA_SIMD_SRCS))

# SHA-256 speed. The scalar block function is the hot loop of the
# purgatory; freestanding code keeps frame pointers by default, and the one
# register that frees is worth a few percent in a round that needs all 15.
$(call objs,fs,common/sha256.cpp): OBJ_FLAGS += -fomit-frame-pointer

# Offsets of the parameter block for nasm, printed from the C++ definition.
$(B)/tools/gen_params: common/gen_params.cpp common/include/charon/params.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCXX $<"
	$(Q)$(CXX_HOST) -std=c++20 $(WARN) -Icommon/include $< -o $@
$(GEN_PARAMS_INC): $(B)/tools/gen_params
	@mkdir -p $(dir $@)
	$(Q)$< > $@.tmp && mv $@.tmp $@

COMMON_TEST_BIN := $(B)/host/common_test
$(COMMON_TEST_BIN): $(call objs,host,$(COMMON_TESTS)) $(COMMON_HOST_OBJS)
	@echo "  LINK    $@"
	$(Q)$(CXX_HOST) $(HOST_LDFLAGS) $^ $(GTEST_LIBS) -lcrypto -o $@

ALL_TARGETS += $(GEN_PARAMS_INC) $(COMMON_FS_OBJS) $(COMMON_FS_SHIM) $(COMMON_TEST_BIN)
CHECK_SUITES += gtest:$(COMMON_TEST_BIN)

# `make bench`: charon's two block functions against OpenSSL. The scalar
# one is built as the purgatory builds it (general registers only, the
# bench variant), the rest at -O2 without sanitizers (static).
SHA256_BENCH := $(B)/bench/sha256_bench
$(SHA256_BENCH): $(call objs,bench,common/sha256.cpp) \
    $(call objs,static,common/sha256_bench.cpp common/mem.cpp $(SHA_SIMD_SRCS))
	@echo "  LINK    $@"
	$(Q)$(CXX_HOST) $^ -lcrypto -o $@

ALL_TARGETS += $(SHA256_BENCH)
BENCH_STEPS += $(SHA256_BENCH)
