# x86_64/paging/: the identity-map builder and the typed control registers
# (plain C++, host-tested against a table walker).

# Exceptions: gen_x86.cpp is a build-time tool (below).
IDMAP_SRCS := $(sort $(filter-out %_test.cpp %_bench.cpp x86_64/paging/gen_x86.cpp,\
  $(wildcard x86_64/paging/*.cpp)))
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

# The control-register bits and the GDT layout for nasm, printed from
# cr.h and gdt.h by a host program (as common/gen_params.cpp prints
# params.inc). x86_64/arch.inc and the harness's enter.inc include it;
# every .o assembled from them lists $(GEN_X86_INC) as a prerequisite, and
# nasm's -MD files keep it there afterwards.
$(B)/tools/gen_x86: x86_64/paging/gen_x86.cpp x86_64/include/charon/x86/cr.h \
    x86_64/include/charon/x86/gdt.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCXX $<"
	$(Q)$(CXX_HOST) -std=c++20 $(WARN) -Icommon/include -Ix86_64/include $< -o $@
$(GEN_X86_INC): $(B)/tools/gen_x86
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)$< > $@.tmp && mv $@.tmp $@

ALL_TARGETS += $(GEN_X86_INC)
