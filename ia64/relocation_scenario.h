// One relocate_new_kernel run for the execution tests: simulated memory
// with noise everywhere, a Linux-built indirection list, the control code
// entered from the state an old kernel leaves, and the interpreter run to
// the new kernel's entry.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <functional>
#include <random>
#include <set>
#include <vector>

#include "control_layout.h"
#include "ia64/control_abi.h"
#include "ia64/control_offsets.h"
#include "interp/exec_support.h"
#include "interp/kimage_builder.h"

namespace charon::ia64 {

// Simulated physical memory map of every scenario. Each run of control
// pages sits far from the others, as a hypervisor may hand them out.
constexpr uint64_t kMemSize = 32u << 20;
constexpr uint64_t kCode = 0x0200000;
constexpr uint64_t kRegisterStack = 0x0300000;
constexpr uint64_t kMemoryStack = 0x0380000;
constexpr uint64_t kPurgeBlock = 0x0400000;
constexpr uint64_t kBootParam = 0x0410000;
// The PAL code's ITR covers one granule at this region 7 address, as
// Linux inserts it (GRANULEROUNDDOWN(efi_get_pal_addr())).
constexpr uint64_t kPalVa = 0xe000000007000000ull;
constexpr uint64_t kPool = 0x0500000;  // sources and indirection pages
constexpr uint64_t kPoolEnd = 0x1000000;
constexpr uint64_t kKernelEntry = 0x1000000;

// PAL_PTCE_INFO-style purge parameters, and the pinned TRs.
constexpr uint64_t kPtceBase = 0x1000, kPtceCount0 = 3, kPtceCount1 = 2;
constexpr uint64_t kPtceStride0 = 0x100000, kPtceStride1 = 0x2000;
constexpr uint64_t kKernelTrVa = 0xa000000100000000ull, kKernelTrLog2 = 26;
constexpr uint64_t kGranuleLog2 = 24, kStackTrVa = 0xe000000004000000ull;

struct DestRun {
  uint64_t dest;
  unsigned pages;
};

// How the caller enters: Linux's virtual entry on region 7, the same from
// Xen-ia64's 0xf000... map, or Xen-ia64's physical-mode entry.
struct Caller {
  RelocateEntry entry = RelocateEntry::kVirtual;
  uint64_t map_base = kRegion7;  // 0: already in physical mode
  uint64_t pal_va = kPalVa;
  uint64_t ptce_count0 = kPtceCount0, ptce_count1 = kPtceCount1;
};

// The translation registers the old kernel pinned (arch/ia64/kernel/
// head.S, efi.c): kernel text and data, PAL code, the stack granule.
inline void insert_kernel_trs(Machine& m, uint64_t pal_va = kPalVa) {
  m.insert_tr({true, kKernelTrVa, kKernelTrLog2});
  m.insert_tr({false, kKernelTrVa, kKernelTrLog2});
  m.insert_tr({true, pal_va, kGranuleLog2});
  m.insert_tr({false, kStackTrVa, kGranuleLog2});
}

class Relocation {
 public:
  Relocation(uint64_t page_size, std::vector<DestRun> runs, Caller caller = {})
      : ps_(page_size), runs_(std::move(runs)), caller_(caller), mem_(0, kMemSize), m_(mem_) {}

  // Lays everything out, builds the list and runs to the kernel entry.
  RunResult run(uint64_t boot_param_arg = kBootParam) {
    std::mt19937_64 rng(ps_ * 7919 + runs_.size());
    // Background noise everywhere, so that a stray store is visible.
    for (uint64_t a = 0; a < kMemSize; a += 8) mem_.write64(a, rng());

    const uint64_t purge[] = {kPtceBase,     caller_.ptce_count0, caller_.ptce_count1,
                              kPtceStride0,  kPtceStride1,        kKernelTrVa,
                              kKernelTrLog2, kGranuleLog2,        kStackTrVa};
    static_assert(sizeof purge == IA64_PURGE_SIZE);
    mem_.write(kPurgeBlock, purge, sizeof purge);

    PageAllocator pool(kPool, kPoolEnd, ps_);
    KimageBuilder kimage(mem_, pool, ps_);
    for (const DestRun& r : runs_) {
      EXPECT_TRUE(kimage.set_destination(r.dest));
      for (unsigned i = 0; i < r.pages; ++i) {
        const uint64_t src = pool.take();
        EXPECT_NE(src, 0u) << "test pool too small";
        kimage.add_page(src);
        copies_.push_back({src, r.dest + i * ps_});
        dest_pages_.insert(r.dest / ps_ + i);
      }
    }
    kimage.terminate();
    ind_pages_ = kimage.indirection_pages();

    const auto plan = plan_control_block({.page_size = ps_});
    EXPECT_TRUE(plan.ok()) << plan.error();
    const auto call = relocate_call(
        plan.value(), {kCode, kMemoryStack, kRegisterStack},
        {kimage.head(), kKernelEntry, boot_param_arg, caller_.pal_va, kPurgeBlock}, caller_.entry);
    EXPECT_TRUE(call.ok()) << call.error();
    if (!call.ok()) return {};
    args_ = call.value().args;

    const uint64_t offset = call.value().entry - kCode;
    enter_control(mem_, m_, kCode, offset, caller_.map_base);
    if (caller_.entry == RelocateEntry::kVirtual) insert_kernel_trs(m_, caller_.pal_va);
    if (edit_args) edit_args(args_);
    for (unsigned i = 0; i < 8; ++i) m_.set_gr(32 + i, args_[i]);
    if (patch) patch(mem_);
    before_ = mem_.bytes();
    return m_.run(kKernelEntry, 50'000'000);
  }

  bool in_destination(uint64_t a) const { return dest_pages_.count(a / ps_) != 0; }

  struct Copy {
    uint64_t src, dest;
  };
  // Runs on the loaded code before execution: the fault tests break it.
  std::function<void(Memory&)> patch;
  // Changes the arguments after relocate_call built them: a caller that
  // got them wrong.
  std::function<void(std::array<uint64_t, 8>&)> edit_args;
  uint64_t ps_;
  std::vector<DestRun> runs_;
  Caller caller_;
  Memory mem_;
  Machine m_;
  std::vector<Copy> copies_;
  std::set<uint64_t> dest_pages_;
  std::vector<uint64_t> ind_pages_;
  std::array<uint64_t, 8> args_{};
  std::vector<uint8_t> before_;
};

}  // namespace charon::ia64
