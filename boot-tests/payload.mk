# boot-tests/payload.mk: a test payload that kernel A loads with charon-kexec
# and with kexec-tools (boot-tests/kernel/run-payloads.sh): one C++ report
# and one entry, as four images: ELF32, ELF64, ELF32 with a multiboot v1
# header and ELF32 with a multiboot2 header.
PAYLOAD_DIR := $(B)/boot-tests/payload
PAYLOAD_IMAGES := $(PAYLOAD_DIR)/payload32.elf $(PAYLOAD_DIR)/payload64.elf \
  $(PAYLOAD_DIR)/payload-mb1.elf $(PAYLOAD_DIR)/payload-mb2.elf
# Its own flags: the 32-bit images are i386 code, which no variant builds.
PAYLOAD_CXXFLAGS := -std=c++20 -O2 $(WARN) -ffreestanding -fno-exceptions -fno-rtti \
  -fno-stack-protector -fno-asynchronous-unwind-tables -fno-pic -fno-pie -nostdlib \
  -fno-builtin -mgeneral-regs-only -mno-red-zone -Icommon/include
PAYLOAD_LDFLAGS := -nostdlib -static --no-pie -z max-page-size=4096 --build-id=none \
  -T linker/payload.ld

$(PAYLOAD_DIR)/report32.o: boot-tests/payload/report.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX-32  $<"
	$(Q)$(CXX_FS) --target=i386-unknown-none-elf $(PAYLOAD_CXXFLAGS) -c $< -o $@
$(PAYLOAD_DIR)/report64.o: boot-tests/payload/report.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX-64  $<"
	$(Q)$(CXX_FS) --target=x86_64-unknown-none-elf $(PAYLOAD_CXXFLAGS) -c $< -o $@
# entry-VARIANT.o: nasm with the variant's define.
$(PAYLOAD_DIR)/entry-32.o: NASM_PAYLOAD := -f elf32
$(PAYLOAD_DIR)/entry-64.o: NASM_PAYLOAD := -f elf64 -DBITS64
$(PAYLOAD_DIR)/entry-mb1.o: NASM_PAYLOAD := -f elf32 -DMB1
$(PAYLOAD_DIR)/entry-mb2.o: NASM_PAYLOAD := -f elf32 -DMB2
$(PAYLOAD_DIR)/entry-%.o: boot-tests/payload/entry.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $< ($*)"
	$(Q)$(NASM) -Werror $(NASM_PAYLOAD) $< -o $@

# 32-bit images at 32 MiB, the 64-bit one at 48 MiB: free RAM in kernel A.
$(PAYLOAD_DIR)/payload32.elf: $(PAYLOAD_DIR)/entry-32.o $(PAYLOAD_DIR)/report32.o linker/payload.ld
$(PAYLOAD_DIR)/payload-mb1.elf: $(PAYLOAD_DIR)/entry-mb1.o $(PAYLOAD_DIR)/report32.o linker/payload.ld
$(PAYLOAD_DIR)/payload-mb2.elf: $(PAYLOAD_DIR)/entry-mb2.o $(PAYLOAD_DIR)/report32.o linker/payload.ld
$(PAYLOAD_DIR)/payload64.elf: $(PAYLOAD_DIR)/entry-64.o $(PAYLOAD_DIR)/report64.o linker/payload.ld
$(PAYLOAD_DIR)/payload64.elf: PAYLOAD_BASE := 0x03000000
PAYLOAD_BASE ?= 0x02000000
$(PAYLOAD_IMAGES):
	@echo "  LD      $@"
	$(Q)$(LD_FS) $(PAYLOAD_LDFLAGS) --defsym=payload_base=$(PAYLOAD_BASE) \
	  $(filter %.o,$^) -o $@

ALL_TARGETS += $(PAYLOAD_IMAGES)
CHECK_SUITES += script:boot-tests/kernel/run-payloads.sh
