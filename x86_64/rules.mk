# x86_64/: entry stubs, page-table builder, handoff, purgatory main.

# ---- page-table builder (plain C++, host-tested) ---------------------------
IDMAP_SRCS := x86_64/identity_map.cpp
IDMAP_TESTS := $(wildcard x86_64/*_test.cpp)
X86_TEST_BIN := $(B)/host/x86_64_test
$(X86_TEST_BIN): $(patsubst %.cpp,$(B)/host/%.o,$(IDMAP_TESTS) $(IDMAP_SRCS)) $(COMMON_HOST_OBJS)
	@echo "  LINK    $@"
	$(Q)$(CXX_HOST) $(HOST_LDFLAGS) $^ $(GTEST_LIBS) -o $@

IDMAP_BENCH := $(B)/bench/idmap_bench
$(IDMAP_BENCH): $(patsubst %.cpp,$(B)/bench/%.o,x86_64/idmap_bench.cpp $(IDMAP_SRCS))
	@echo "  LINK    $@"
	$(Q)$(CXX_HOST) $^ -o $@

HOST_CXXFLAGS += -Ix86_64/include
BENCH_CXXFLAGS += -Ix86_64/include
FS_CXXFLAGS += -Ix86_64/include

ALL_TARGETS += $(X86_TEST_BIN) $(IDMAP_BENCH)
CHECK_SUITES += gtest:$(X86_TEST_BIN)
BENCH_STEPS += $(IDMAP_BENCH)

-include x86_64/purgatory.mk
-include x86_64/relocate.mk
-include x86_64/efi.mk
