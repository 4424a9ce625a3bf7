# x86_64/paging/: the identity-map builder and the typed control registers
# (plain C++, host-tested against a table walker).

IDMAP_SRCS := $(sort $(filter-out %_test.cpp %_bench.cpp,$(wildcard x86_64/paging/*.cpp)))
IDMAP_TESTS := $(sort $(wildcard x86_64/paging/*_test.cpp))
X86_TEST_BIN := $(B)/host/x86_64_test
$(X86_TEST_BIN): $(call objs,host,$(IDMAP_TESTS) $(IDMAP_SRCS)) $(COMMON_HOST_OBJS)
	@echo "  LINK    $@"
	$(Q)$(CXX_HOST) $(HOST_LDFLAGS) $^ $(GTEST_LIBS) -o $@

IDMAP_BENCH := $(B)/bench/idmap_bench
$(IDMAP_BENCH): $(call objs,static,x86_64/paging/idmap_bench.cpp $(IDMAP_SRCS))
	@echo "  LINK    $@"
	$(Q)$(CXX_HOST) $^ -o $@

ALL_TARGETS += $(X86_TEST_BIN) $(IDMAP_BENCH)
CHECK_SUITES += gtest:$(X86_TEST_BIN)
BENCH_STEPS += $(IDMAP_BENCH)
