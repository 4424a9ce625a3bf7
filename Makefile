# charon: one entry point for everything. See README.md.
#
#   make            build every artifact under build/
#   make check      tiers 1-3; last line is "N passed, N failed"
#   make run        the main demo under QEMU
#   make bench      figures side by side with the references
#   make fuzz       libFuzzer over every loader parser
#   make deps       install missing Debian packages (idempotent)
#   make install    PREFIX=/usr/local DESTDIR=
#   V=1             show every command

B        := build
PREFIX   ?= /usr/local
DESTDIR  ?=

ifeq ($(V),1)
Q :=
else
Q := @
endif

# ---------------------------------------------------------------- toolchains
CXX_FS   := clang++
CXX_HOST := clang++
LD_FS    := ld.lld
NASM     := nasm
IA64_AS  := ia64-linux-gnu-as
IA64_LD  := ia64-linux-gnu-ld
IA64_NM  := ia64-linux-gnu-nm

WARN := -Wall -Wextra -Werror

# Freestanding x86_64 code that runs on bare metal. -fno-pic with the
# kernel code model keeps every relocation inside the set that kexec-tools
# and Linux apply (64, 32, 32S, PC32, PLT32); the image sits below 2 GiB.
FS_CXXFLAGS := --target=x86_64-unknown-none-elf -std=c++20 -O2 $(WARN) \
  -ffreestanding -fno-exceptions -fno-rtti -nostdlib -fno-stack-protector \
  -mno-red-zone -fno-pic -fno-pie -mcmodel=kernel -fno-builtin \
  -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-threadsafe-statics \
  -fno-jump-tables -ffunction-sections -fdata-sections -fno-common \
  -Icommon/include -I$(B)/gen
FS_GPR   := -mgeneral-regs-only
FS_SIMD  := -msse4.1 -msha
NASMFLAGS := -f elf64 -Werror -I$(B)/gen/ -Ix86_64/

# Host code: tools, the loader, and the unit tests. ASan and UBSan always.
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HOST_CXXFLAGS := -std=c++20 -O1 -g $(WARN) $(SAN) -Icommon/include -Iloader/include -I$(B)/gen
HOST_LDFLAGS  := $(SAN)
HOST_SIMD := -msse4.1 -msha
GTEST_LIBS := -lgtest -lgtest_main -lpthread
# Benchmarks are timed without sanitizers and at full optimisation.
BENCH_CXXFLAGS := -std=c++20 -O2 $(WARN) -Icommon/include -Iloader/include -I$(B)/gen

# Each directory adds to these from its rules.mk.
ALL_TARGETS  :=
# Test suites run by `make check`. Each entry is one word, KIND:PATH, where
# KIND is gtest (a GoogleTest binary) or script (prints "PASS: name" and
# "FAIL: name" lines). BENCH_STEPS and FUZZ_STEPS are paths of programs or
# *.sh scripts, run in order, with no arguments.
CHECK_SUITES :=
BENCH_STEPS  :=
FUZZ_STEPS   :=
INSTALL_FILES :=

.PHONY: all check check-run run run-kernel run-efi bench bench-run fuzz deps install clean format
all:

include common/rules.mk
include x86_64/rules.mk
-include ia64/rules.mk
-include loader/rules.mk
-include boot-tests/rules.mk

all: $(ALL_TARGETS)

# ------------------------------------------------------------ generic rules
$(B)/fs/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX-FS  $<"
	$(Q)$(CXX_FS) $(FS_CXXFLAGS) $(FS_GPR) -MMD -MP -c $< -o $@

$(B)/fs/%.o: %.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	$(Q)$(NASM) $(NASMFLAGS) -MD $@.d -MP $< -o $@

$(B)/host/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX     $<"
	$(Q)$(CXX_HOST) $(HOST_CXXFLAGS) -MMD -MP -c $< -o $@

$(B)/bench/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX-O2  $<"
	$(Q)$(CXX_HOST) $(BENCH_CXXFLAGS) -MMD -MP -c $< -o $@

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# ------------------------------------------------------------------ targets
DEB_PACKAGES := clang lld nasm gnu-efi binutils qemu-system-x86 ovmf \
  binutils-ia64-linux-gnu busybox-static cpio mtools libgtest-dev libssl-dev \
  libclang-rt-14-dev kexec-tools xz-utils llvm clang-format git

deps:
	$(Q)sh boot-tests/deps.sh $(DEB_PACKAGES)
	$(Q)sh boot-tests/kernel/fetch-kernel.sh $(B)/kernel

check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory check-run

check-run:
	$(Q)sh boot-tests/runner.sh $(B)/test-logs $(CHECK_SUITES)

# The main demo: the purgatory entered under QEMU with no OS, its console
# log and the probe's verdict; then Debian's kernel kexecs itself through
# charon (make run-kernel alone for that part).
run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh boot-tests/harness/demo.sh

run-kernel: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh boot-tests/kernel/demo.sh

# charon.efi under OVMF boots Debian's kernel through the trampoline.
run-efi: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh boot-tests/efi/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory bench-run

RUN_STEPS = for s in $(1); do case $$s in *.sh) sh $$s ;; *) $$s ;; esac || exit 1; done

bench-run:
	$(Q)$(call RUN_STEPS,$(BENCH_STEPS))

fuzz: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(call RUN_STEPS,$(FUZZ_STEPS))

install: all
	$(Q)set -e; $(foreach f,$(INSTALL_FILES),install -D -m $(word 3,$(subst :, ,$(f))) $(word 1,$(subst :, ,$(f))) $(DESTDIR)$(PREFIX)/$(word 2,$(subst :, ,$(f)));)

format:
	$(Q)git ls-files '*.cpp' '*.h' '*.c' | xargs clang-format -i

clean:
	rm -rf $(B)
