# common/: freestanding runtime shared by every target, also built for the
# host so that it can be unit-tested.

# The image-building core every loader shares (freestanding, no heap).
KIMAGE_SRCS := $(filter-out %_test.cpp,$(wildcard common/kimage/*.cpp))

# Sources built with -mgeneral-regs-only.
COMMON_SRCS := common/mem.cpp common/console.cpp common/uart8250.cpp common/sha256.cpp
# The one unit allowed to use SSE: the SHA-NI block function.
COMMON_SIMD_SRCS := common/sha256_shani.cpp

COMMON_FS_OBJS := $(patsubst %.cpp,$(B)/fs/%.o,$(COMMON_SRCS) $(COMMON_SIMD_SRCS))
COMMON_FS_SHIM := $(B)/fs/common/libc_shim.o
$(patsubst %.cpp,$(B)/fs/%.o,$(COMMON_SIMD_SRCS)): FS_GPR := $(FS_SIMD)

COMMON_HOST_OBJS := $(patsubst %.cpp,$(B)/host/%.o,$(COMMON_SRCS) $(COMMON_SIMD_SRCS))
$(patsubst %.cpp,$(B)/host/%.o,$(COMMON_SIMD_SRCS)): HOST_CXXFLAGS += $(HOST_SIMD)

# Offsets of the parameter block for nasm, printed from the C++ definition.
GEN_PARAMS_INC := $(B)/gen/params.inc
$(B)/tools/gen_params: common/gen_params.cpp common/include/charon/params.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCXX $<"
	$(Q)$(CXX_HOST) -std=c++20 $(WARN) -Icommon/include $< -o $@
$(GEN_PARAMS_INC): $(B)/tools/gen_params
	@mkdir -p $(dir $@)
	$(Q)$< > $@.tmp && mv $@.tmp $@

COMMON_TESTS := $(wildcard common/*_test.cpp)
COMMON_TEST_BIN := $(B)/host/common_test
$(COMMON_TEST_BIN): $(patsubst %.cpp,$(B)/host/%.o,$(COMMON_TESTS)) $(COMMON_HOST_OBJS)
	@echo "  LINK    $@"
	$(Q)$(CXX_HOST) $(HOST_LDFLAGS) $^ $(GTEST_LIBS) -lcrypto -o $@

# The image-building core's tests, with the page-table sizing it calls.
KIMAGE_TESTS := $(wildcard common/kimage/*_test.cpp)
KIMAGE_TEST_BIN := $(B)/host/kimage_test
$(patsubst %.cpp,$(B)/host/%.o,$(KIMAGE_TESTS)): HOST_CXXFLAGS += -Icommon/kimage/testdata \
  -DCHARON_KERNEL='"$(B)/kernel/vmlinuz"'
$(KIMAGE_TEST_BIN): $(patsubst %.cpp,$(B)/host/%.o,$(KIMAGE_TESTS) $(KIMAGE_SRCS) \
    x86_64/paging/identity_map.cpp) $(COMMON_HOST_OBJS)
	@echo "  LINK    $@"
	$(Q)$(CXX_HOST) $(HOST_LDFLAGS) $^ $(GTEST_LIBS) -o $@
CHECK_SUITES += gtest:$(KIMAGE_TEST_BIN)

ALL_TARGETS += $(GEN_PARAMS_INC) $(COMMON_FS_OBJS) $(COMMON_FS_SHIM) $(COMMON_TEST_BIN) \
  $(KIMAGE_TEST_BIN)
CHECK_SUITES += gtest:$(COMMON_TEST_BIN)

# SHA-256 speed. The scalar block function is the hot loop of the
# purgatory; freestanding code keeps frame pointers by default, and the one
# register that frees is worth a few percent in a round that needs all 15.
$(B)/fs/common/sha256.o: FS_GPR += -fomit-frame-pointer

# `make bench`: charon's two block functions against OpenSSL. The objects
# are built as the purgatory builds them (general registers only for the
# scalar code, SSE4.1+SHA for the SHA-NI unit), at -O2 without sanitizers.
SHA256_BENCH := $(B)/bench/sha256_bench
SHA256_BENCH_OBJS := $(B)/bench/common/sha256_bench.o $(B)/bench/common/sha256.o \
  $(B)/bench/common/sha256_shani.o $(B)/bench/common/mem.o
$(B)/bench/common/sha256.o: BENCH_CXXFLAGS += -mgeneral-regs-only
$(B)/bench/common/sha256_shani.o: BENCH_CXXFLAGS += $(HOST_SIMD)
$(SHA256_BENCH): $(SHA256_BENCH_OBJS)
	@echo "  LINK    $@"
	$(Q)$(CXX_HOST) $^ -lcrypto -o $@

ALL_TARGETS += $(SHA256_BENCH)
BENCH_STEPS += $(SHA256_BENCH)
