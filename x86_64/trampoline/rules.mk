# x86_64/trampoline/rules.mk: the relocation trampoline that firmware and
# hypervisors vendor: relocate.o to link, relocate.bin to load flat.

# nasm takes the header's numbers (entry offsets, control page, IND_*
# flags) from a file generated out of the header itself.
# (RELOC_INC is named in the Makefile, with the other generated includes.)
$(RELOC_INC): x86_64/include/charon/x86/relocate.h x86_64/trampoline/rules.mk
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)$(CXX_HOST) -E -dM -Wno-pragma-once-outside-header -x c $< | \
	  sed -n 's/^#define \(CHARON_[A-Z0-9_]*\) \(.*\)$$/%define \1 \2/p' > $@.tmp && mv $@.tmp $@

# One object by design: build/fs/x86_64/trampoline/relocate.o, the path
# relocate.h tells its users to link.
RELOC_OBJ := $(call objs,fs,x86_64/trampoline/relocate.asm)
RELOC_ELF := $(B)/x86_64/relocate.elf
RELOC_BIN := $(B)/x86_64/relocate.bin
$(RELOC_OBJ): $(GEN_X86_INC) x86_64/arch.inc

$(RELOC_ELF) $(RELOC_BIN): $(RELOC_OBJ) linker/relocate.ld
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(LD_FS) -nostdlib -static --no-pie --build-id=none -T linker/relocate.ld $(RELOC_OBJ) \
	  $(if $(filter %.bin,$@),--oformat binary) -o $@

ALL_TARGETS += $(RELOC_OBJ) $(RELOC_BIN) $(RELOC_ELF)
INSTALL_FILES += $(RELOC_BIN):lib/charon/relocate.bin:644 \
  x86_64/include/charon/x86/relocate.h:include/charon/x86/relocate.h:644
