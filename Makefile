# charon: one entry point for everything. See README.md.
#
#   make            build every artifact under build/
#   make check      tiers 1-3; last line is "N passed, N failed"
#   make run        the main job: Debian's kernel kexecs into a new kernel
#                   through charon under QEMU (purgatory lines, kernel B's
#                   verdict, the time), then one protocol probe's verdict
#   make run-probe  the protocol probe's every check, with no OS
#   make run-kernel one real-kernel kexec with its whole serial console
#   make run-efi    charon.efi under OVMF boots Debian's kernel
#   make bench      figures side by side with the references
#   make fuzz       libFuzzer over every loader parser
#   make deps       install missing Debian packages (idempotent)
#   make install    PREFIX=/usr/local DESTDIR=
#   make format     clang-format every tracked C++ source
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
# Freestanding code uses general registers only; the SHA-NI unit
# (SHA_SIMD_SRCS, common/rules.mk) is the one place SSE is allowed.
GPR_ONLY := -mgeneral-regs-only
SIMD     := -msse4.1 -msha

# ------------------------------------------------------------- flag sets
# The base of every freestanding build: the purgatory, the probe and the
# harness, and charon.efi extend it, never retype it.
FS_BASE := -std=c++20 -O2 $(WARN) -ffreestanding -fno-exceptions -fno-rtti \
  -fno-stack-protector -mno-red-zone -fno-asynchronous-unwind-tables -fno-unwind-tables \
  -fno-threadsafe-statics -Icommon/include -Ix86_64/include -I$(B)/gen
# Bare metal (the purgatory, the probe, the harness, the trampoline's
# callers): no OS ABI at all, one section per function so the linker
# scripts can drop what is unused.
FS_BARE := --target=x86_64-unknown-none-elf $(FS_BASE) -nostdlib -fno-builtin \
  -fno-jump-tables -ffunction-sections -fdata-sections -fno-common
# -fno-pic with the kernel code model keeps every relocation inside the set
# that kexec-tools and Linux apply (64, 32, 32S, PC32, PLT32); the image
# sits below 2 GiB.
FS_CXXFLAGS := $(FS_BARE) -fno-pic -fno-pie -mcmodel=kernel
NASMFLAGS := -f elf64 -Werror -I$(B)/gen/ -Ix86_64/

# The base of every hosted build: tools, the loader, tests and benches.
HOSTED_BASE := -std=c++20 $(WARN) -Icommon/include -Iloader/include -Ix86_64/include -I$(B)/gen
# Host tests: ASan and UBSan always.
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HOST_CXXFLAGS := $(HOSTED_BASE) -O1 -g $(SAN)
HOST_LDFLAGS  := $(SAN)
GTEST_LIBS := -lgtest -lgtest_main -lpthread
# What ships (charon-kexec goes into an initramfs) and what is timed: full
# optimisation, no sanitizers.
STATIC_CXXFLAGS := $(HOSTED_BASE) -O2

# Generated includes that any object may read; every object waits for them.
GEN_PARAMS_INC := $(B)/gen/params.inc
RELOC_INC := $(B)/gen/relocate.inc
GEN_X86_INC := $(B)/gen/x86.inc
GEN_INCS := $(GEN_PARAMS_INC) $(RELOC_INC) $(GEN_X86_INC)

# ------------------------------------------------------------- build variants
# A variant is one object tree, build/NAME/, built with one compiler and one
# flag set: build/NAME/DIR/FILE.o comes from DIR/FILE.cpp (or DIR/FILE.asm,
# through nasm), with its dependency file DIR/FILE.d beside it.
#
#   $(eval $(call variant,NAME,COMPILER,FLAGS,SIMD-FLAGS,OTHER-FLAGS))
#
# FLAGS go to every C++ source; SIMD-FLAGS only to the SHA-NI unit
# ($(SHA_SIMD_SRCS)) and OTHER-FLAGS to every other source (-mgeneral-regs-only
# for freestanding variants). A file's own tweak goes into OBJ_FLAGS on its
# object, e.g. `$(call objs,purg,common/sha256.cpp): OBJ_FLAGS += -fomit-frame-pointer`;
# it comes last, so -Os there beats -O2 in FLAGS. The objects of a source
# list in a variant are $(call objs,NAME,SOURCES).
VARIANTS :=
define variant
VARIANTS += $(1)
$(B)/$(1)/%.o: %.cpp | $$(GEN_INCS)
	@mkdir -p $$(dir $$@)
	@printf '  %-7s %s\n' CXX-$(1) $$<
	$$(Q)$(2) $(3) $$(if $$(filter $$(SHA_SIMD_SRCS),$$<),$(4),$(5)) $$(OBJ_FLAGS) -MMD -MP -c $$< -o $$@
# nasm -MD leaves %include'd files out of its list, so every .asm depends
# on the generated includes outright (a changed params.inc rebuilds them).
$(B)/$(1)/%.o: %.asm $$(GEN_INCS)
	@mkdir -p $$(dir $$@)
	@printf '  %-7s %s\n' NASM $$<
	$$(Q)$$(NASM) $$(NASMFLAGS) -MD $$(@:.o=.d) -MP $$< -o $$@
endef
objs = $(patsubst %,$(B)/$(1)/%.o,$(basename $(2)))

# The shared variants; each product declares its own in its fragment
# (purg, efi, efi-test, fuzz).
# fs: bare metal, non-PIC: the probe, the harness, the trampoline, and
# common/ as firmware would link it.
$(eval $(call variant,fs,$(CXX_FS),$(FS_CXXFLAGS),$(SIMD),$(GPR_ONLY)))
# host: the unit tests and what they link, sanitized.
$(eval $(call variant,host,$(CXX_HOST),$(HOST_CXXFLAGS),$(SIMD),))
# static: charon-kexec, libcharon-loader.a, vmcore-check and the benches.
$(eval $(call variant,static,$(CXX_HOST),$(STATIC_CXXFLAGS),$(SIMD),))
# bench: as static, but the scalar code with general registers only, the
# way the purgatory builds it, so that its figure is the purgatory's.
$(eval $(call variant,bench,$(CXX_HOST),$(STATIC_CXXFLAGS),$(SIMD),$(GPR_ONLY)))

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

.PHONY: all check check-run run run-probe run-kernel run-efi bench bench-run fuzz deps install clean format
all:

# Fragments, in the order their source lists are needed: a library's list
# is defined before any consumer names it.
include common/rules.mk
include x86_64/rules.mk
include ia64/rules.mk
include loader/rules.mk
include boot-tests/rules.mk

all: $(ALL_TARGETS)

-include $(shell find $(addprefix $(B)/,$(VARIANTS)) -name '*.d' 2>/dev/null)

# ------------------------------------------------------------------ targets
# The last line builds the linux-charon kernel A from Debian's source
# (boot-tests/linux-charon/build.sh).
DEB_PACKAGES := clang lld nasm gnu-efi binutils qemu-system-x86 ovmf \
  binutils-ia64-linux-gnu busybox-static cpio mtools libgtest-dev libssl-dev \
  libclang-rt-14-dev kexec-tools makedumpfile xz-utils llvm clang-format git e2fsprogs \
  linux-source-6.1 gcc make bc flex bison libelf-dev patch

# The build behind run, check, bench and fuzz uses every CPU (make JOBS=1
# for a serial one); the tests themselves run in order.
JOBS ?= $(shell nproc)

deps:
	$(Q)sh boot-tests/deps.sh $(DEB_PACKAGES)
	$(Q)sh boot-tests/kernel/fetch-kernel.sh $(B)/kernel

check: deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all
	$(Q)$(MAKE) --no-print-directory check-run

check-run:
	$(Q)sh boot-tests/runner.sh $(B)/test-logs $(CHECK_SUITES)

# The main job, in one screen: Debian's kernel kexecs into a new kernel
# through charon-kexec and the purgatory, timed; then one protocol probe
# case as a one-line verdict.
run: deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all
	$(Q)sh boot-tests/demo.sh

# The probe's every check for one protocol case, with no OS.
run-probe: deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all
	$(Q)sh boot-tests/harness/demo.sh

# One real-kernel kexec with its whole serial console.
run-kernel: deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all
	$(Q)sh boot-tests/kernel/demo.sh

# charon.efi under OVMF boots Debian's kernel through the trampoline.
run-efi: deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all
	$(Q)sh boot-tests/efi/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all
	$(Q)$(MAKE) --no-print-directory bench-run

RUN_STEPS = for s in $(1); do case $$s in *.sh) sh $$s ;; *) $$s ;; esac || exit 1; done

bench-run:
	$(Q)$(call RUN_STEPS,$(BENCH_STEPS))

fuzz: deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all
	$(Q)$(call RUN_STEPS,$(FUZZ_STEPS))

install: all
	$(Q)set -e; $(foreach f,$(INSTALL_FILES),install -D -m $(word 3,$(subst :, ,$(f))) $(word 1,$(subst :, ,$(f))) $(DESTDIR)$(PREFIX)/$(word 2,$(subst :, ,$(f)));)

format:
	$(Q)git ls-files '*.cpp' '*.h' '*.c' | xargs clang-format -i

clean:
	rm -rf $(B)
