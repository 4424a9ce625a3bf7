// The ia64 control block's layout, planned on the host: the code in page
// 0, then the memory stack and the register (RSE backing store) stack in
// pages of their own. A hypervisor that hands the block over in pages that
// are not physically contiguous calls relocate_new_kernel with the stack
// addresses as arguments (relocate_args), instead of relying on Linux's
// one 20 KiB block with the stacks inside it.
#pragma once

#include <charon/result.h>

#include <array>
#include <cstdint>

namespace charon::ia64 {

// Linux's KEXEC_CONTROL_PAGE_SIZE reserves 8 KiB for each stack.
inline constexpr uint64_t kDefaultStackSize = 8192;
// A stack must at least hold one full frame of the 96 stacked registers
// with its NaT collection words ([ia64/vol2] Register Stack Engine): 98
// words, under 1 KiB. The control code itself uses neither stack (sp and
// ar.bspstore are set for the new kernel's sake); the purgatory's C code,
// when there is one, uses both, so the caller should give at least
// Linux's 8 KiB each (README, "ia64 control page").
inline constexpr uint64_t kMinStackSize = 1024;
// sp is kept 16-byte aligned (Itanium Software Conventions, 8.4); the
// backing store takes whole 8-byte slots. 16 serves both.
inline constexpr uint64_t kStackAlign = 16;
// Every entry point must sit in the first 4096 bytes: page 0 at the
// smallest page size, and so at all of them.
inline constexpr uint64_t kCodeLimit = 4096;

struct ControlRequest {
  uint64_t page_size = 0;
  uint64_t memory_stack_size = kDefaultStackSize;
  uint64_t register_stack_size = kDefaultStackSize;
};

// A routine of the code block: [offset, end) from the start of page 0.
struct EntryPoint {
  const char* name;
  uint64_t offset;
  uint64_t end;
};

struct CodeInfo {
  uint64_t code_size;
  std::array<EntryPoint, 3> entries;  // relocate, rendezvous, dump
  uint64_t relocate_physical;         // second entry inside relocate
};

// The code block as linked: generated from the object with nm.
CodeInfo linked_code();

// Pages counted from the start of the control block.
struct PageRun {
  uint64_t first;
  uint64_t count;
};

struct ControlPlan {
  uint64_t page_size;
  PageRun code;
  PageRun memory_stack;
  PageRun register_stack;
  uint64_t total_pages;
  uint64_t memory_stack_size;
  uint64_t register_stack_size;
  CodeInfo code_info;
};

Result<ControlPlan> plan_control_block(const ControlRequest& request,
                                       const CodeInfo& code = linked_code());

// Physical addresses a hypervisor chose for the three runs of pages. Each
// run must be contiguous in itself; the runs need not be near each other.
struct Placement {
  uint64_t code;
  uint64_t memory_stack;
  uint64_t register_stack;
};

// What the kexec side supplies: Linux's four arguments plus the purge
// block (control_abi.h, IA64_PURGE_*).
struct Handoff {
  uint64_t head;        // kimage->head: the first indirection entry
  uint64_t start;       // new kernel entry
  uint64_t boot_param;  // r28 at entry
  // The virtual address the PAL code's ITR was inserted at (Linux:
  // GRANULEROUNDDOWN(efi_get_pal_addr()), region 7): ptr.i purges by
  // virtual address, so a physical one would purge nothing.
  uint64_t pal_va;
  uint64_t purge_block;
};

// Which entry of relocate_new_kernel to call.
enum class RelocateEntry {
  // Linux's: virtual mode on a direct map in region 7; the control code
  // purges the TLB and switches to physical mode.
  kVirtual,
  // Xen-ia64's: the caller is already in physical mode and has purged the
  // TLB itself; pal_va and purge_block are not used.
  kPhysical,
};

// relocate_new_kernel's address and in0-in7, as ia64/relocate_kernel.S
// documents them.
struct RelocateCall {
  uint64_t entry;
  std::array<uint64_t, 8> args;
};

Result<RelocateCall> relocate_call(const ControlPlan& plan, const Placement& placement,
                                   const Handoff& handoff,
                                   RelocateEntry entry = RelocateEntry::kVirtual);

}  // namespace charon::ia64
