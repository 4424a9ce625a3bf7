# common/: freestanding runtime shared by every target, also built for the
# host so that it can be unit-tested.

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

ALL_TARGETS += $(GEN_PARAMS_INC) $(COMMON_FS_OBJS) $(COMMON_FS_SHIM) $(COMMON_TEST_BIN)
CHECK_SUITES += gtest:$(COMMON_TEST_BIN)
