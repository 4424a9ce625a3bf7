# ia64/: the control block (relocate_new_kernel and friends, GNU as for
# ia64), its host-side layout planner, and the IA-64 interpreter that runs
# the real machine code in the host tests.

IA64_B       := $(B)/ia64
IA64_GEN     := $(IA64_B)/gen
IA64_OBJCOPY := ia64-linux-gnu-objcopy
IA64_OBJDUMP := ia64-linux-gnu-objdump
IA64_TOOLS   := $(IA64_AS) $(IA64_LD) $(IA64_NM) $(IA64_OBJCOPY) $(IA64_OBJDUMP)

# The cross binutils come from `make deps`. Checked when an ia64 object is
# built, not when the Makefile is read, so that `make deps` itself works.
# `make ia64-toolchain` always checks; the stamp keeps an up-to-date build
# from checking (and printing) again.
IA64_CHECK_TOOLS = for t in $(IA64_TOOLS); do \
	  command -v $$t >/dev/null 2>&1 || { \
	    echo "error: $$t not found: binutils-ia64-linux-gnu is missing. Run 'make deps' first." >&2; \
	    exit 1; }; \
	done
.PHONY: ia64-toolchain
ia64-toolchain:
	$(Q)$(IA64_CHECK_TOOLS)
IA64_TOOLCHAIN_OK := $(IA64_B)/toolchain.ok
$(IA64_TOOLCHAIN_OK):
	$(Q)$(IA64_CHECK_TOOLS)
	@mkdir -p $(dir $@)
	$(Q)touch $@

# -xexplicit: the assembler reports any dependency violation inside an
# instruction group, which is what lets the interpreter run each group in
# program order.
$(IA64_B)/relocate_kernel.s: ia64/relocate_kernel.S ia64/include/ia64/control_abi.h | $(IA64_TOOLCHAIN_OK)
	@mkdir -p $(dir $@)
	@echo "  CPP     $<"
	$(Q)$(CXX_HOST) -E -P -x assembler-with-cpp -Iia64/include $< -o $@
$(IA64_B)/%.o: $(IA64_B)/%.s | $(IA64_TOOLCHAIN_OK)
	@echo "  AS-IA64 $<"
	$(Q)$(IA64_AS) -xexplicit --fatal-warnings -o $@ $<
$(IA64_B)/unsupported.o: ia64/testdata/unsupported.s | $(IA64_TOOLCHAIN_OK)
	@mkdir -p $(dir $@)
	@echo "  AS-IA64 $<"
	$(Q)$(IA64_AS) -xexplicit --fatal-warnings -o $@ $<

# --orphan-handling=error: a section the script does not place (say
# .text.extra) would land after control_code_end, outside every check, and
# be dropped by the objcopy of .text below. ia64/linker_check.sh links with
# exactly these flags (it asks for them with `make ia64-ldflags`).
IA64_LDFLAGS := -nostdlib -static --orphan-handling=error -T linker/ia64-control.ld
.PHONY: ia64-ldflags
ia64-ldflags:
	@echo '$(IA64_LDFLAGS)'

IA64_CONTROL_ELF := $(IA64_B)/control.elf
$(IA64_CONTROL_ELF): $(IA64_B)/relocate_kernel.o linker/ia64-control.ld | $(IA64_TOOLCHAIN_OK)
	@echo "  LD-IA64 $@"
	$(Q)$(IA64_LD) $(IA64_LDFLAGS) -o $@ $<
$(IA64_B)/%.bin: $(IA64_B)/%.elf | $(IA64_TOOLCHAIN_OK)
	$(Q)$(IA64_OBJCOPY) -O binary -j .text $< $@
$(IA64_B)/unsupported.bin: $(IA64_B)/unsupported.o | $(IA64_TOOLCHAIN_OK)
	$(Q)$(IA64_OBJCOPY) -O binary -j .text $< $@

# Generated for the C++ side: entry offsets from nm, the .text bytes, and
# objdump's listing for the decoder cross-check.
IA64_OFFSETS_H := $(IA64_GEN)/ia64/control_offsets.h
$(IA64_OFFSETS_H): $(IA64_CONTROL_ELF) ia64/gen_offsets.sh | $(IA64_TOOLCHAIN_OK)
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)sh ia64/gen_offsets.sh $(IA64_NM) $< > $@.tmp && mv $@.tmp $@
$(IA64_GEN)/ia64/%_code.inc: $(IA64_B)/%.bin
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)od -An -v -tx1 $< | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g' > $@.tmp && mv $@.tmp $@
$(IA64_GEN)/ia64/control_disasm.inc: $(IA64_CONTROL_ELF) | $(IA64_TOOLCHAIN_OK)
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)$(IA64_OBJDUMP) -d $< | sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$$/\\n"/' > $@.tmp && mv $@.tmp $@
IA64_GEN_FILES := $(IA64_OFFSETS_H) $(IA64_GEN)/ia64/control_code.inc \
  $(IA64_GEN)/ia64/unsupported_code.inc $(IA64_GEN)/ia64/control_disasm.inc

# ---- host side: planner, interpreter, tests -------------------------------
IA64_SRCS := $(filter-out %_test.cpp,$(wildcard ia64/*.cpp ia64/interp/*.cpp))
IA64_TESTS := $(wildcard ia64/*_test.cpp ia64/interp/*_test.cpp)
IA64_HOST_OBJS := $(call objs,host,$(IA64_SRCS) $(IA64_TESTS))
$(IA64_HOST_OBJS): OBJ_FLAGS += -Iia64/include -Iia64 -I$(IA64_GEN)
$(IA64_HOST_OBJS): | $(IA64_GEN_FILES)

IA64_TEST_BIN := $(B)/host/ia64_test
$(IA64_TEST_BIN): $(IA64_HOST_OBJS)
	@echo "  LINK    $@"
	$(Q)$(CXX_HOST) $(HOST_LDFLAGS) $^ $(GTEST_LIBS) -o $@

ALL_TARGETS += $(IA64_CONTROL_ELF) $(IA64_B)/control.bin $(IA64_GEN_FILES) $(IA64_TEST_BIN)
CHECK_SUITES += gtest:$(IA64_TEST_BIN) 'script:sh ia64/toolchain_check.sh' \
  'script:sh ia64/linker_check.sh $(IA64_B)/linker-check'
