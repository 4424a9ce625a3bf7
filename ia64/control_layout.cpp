#include "control_layout.h"

#include <bit>
#include <cstdio>
#include <string>

#include "ia64/control_offsets.h"

namespace charon::ia64 {
namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Linux ia64 offers these four (arch/ia64/Kconfig, IA64_PAGE_SIZE_*).
bool supported_page_size(uint64_t size) {
  return size == 4096 || size == 8192 || size == 16384 || size == 65536;
}

Result<bool> check_page_size(uint64_t size) {
  using R = Result<bool>;
  if (size == 0 || !std::has_single_bit(size)) {
    return R::failure("page size " + std::to_string(size) + " is not a power of two");
  }
  if (size < 4096) {
    return R::failure("page size " + std::to_string(size) +
                      " is too small: the smallest ia64 page is 4 KiB");
  }
  if (!supported_page_size(size)) {
    return R::failure("page size " + std::to_string(size) +
                      " is not supported: ia64 Linux pages are 4, 8, 16 or 64 KiB");
  }
  return true;
}

Result<bool> check_stack(const char* what, uint64_t size) {
  using R = Result<bool>;
  if (size < kMinStackSize) {
    return R::failure(std::string(what) + " size " + std::to_string(size) +
                      " is too small: at least " + std::to_string(kMinStackSize) +
                      " bytes, one full register frame");
  }
  if (size % kStackAlign != 0) {
    return R::failure(std::string(what) + " size " + std::to_string(size) +
                      " is not a multiple of " + std::to_string(kStackAlign) + " bytes");
  }
  return true;
}

Result<bool> check_code(const CodeInfo& code, uint64_t page_size) {
  using R = Result<bool>;
  if (code.code_size == 0 || code.code_size > kCodeLimit) {
    return R::failure("control code is " + std::to_string(code.code_size) +
                      " bytes; it must fit in " + std::to_string(kCodeLimit));
  }
  const EntryPoint& relocate = code.entries[0];
  if (code.relocate_physical % 32 != 0 || code.relocate_physical <= relocate.offset ||
      code.relocate_physical >= relocate.end) {
    return R::failure("relocate_new_kernel_physical at " + hex(code.relocate_physical) +
                      " is not a 32-byte aligned entry inside relocate_new_kernel");
  }
  for (const EntryPoint& e : code.entries) {
    if (e.offset % 32 != 0) {
      return R::failure(std::string(e.name) + " at " + hex(e.offset) + " is not 32-byte aligned");
    }
    if (e.end <= e.offset || e.end > code.code_size) {
      return R::failure(std::string(e.name) + " [" + hex(e.offset) + ", " + hex(e.end) +
                        ") is not inside the code");
    }
    if (e.offset / page_size != (e.end - 1) / page_size || e.end > kCodeLimit) {
      return R::failure(std::string(e.name) + " [" + hex(e.offset) + ", " + hex(e.end) +
                        ") crosses a page boundary or leaves the first 4096 bytes");
    }
  }
  return true;
}

uint64_t pages_for(uint64_t bytes, uint64_t page_size) {
  return (bytes + page_size - 1) / page_size;
}

}  // namespace

CodeInfo linked_code() {
  return {IA64_CONTROL_CODE_SIZE,
          {{{"relocate_new_kernel", IA64_CONTROL_RELOCATE_NEW_KERNEL,
             IA64_CONTROL_RELOCATE_NEW_KERNEL_END},
            {"kexec_fake_sal_rendez", IA64_CONTROL_KEXEC_FAKE_SAL_RENDEZ,
             IA64_CONTROL_KEXEC_FAKE_SAL_RENDEZ_END},
            {"ia64_dump_cpu_regs", IA64_CONTROL_IA64_DUMP_CPU_REGS,
             IA64_CONTROL_IA64_DUMP_CPU_REGS_END}}},
          IA64_CONTROL_RELOCATE_NEW_KERNEL_PHYSICAL};
}

Result<ControlPlan> plan_control_block(const ControlRequest& request, const CodeInfo& code) {
  using R = Result<ControlPlan>;
  for (const auto& check :
       {check_page_size(request.page_size), check_stack("memory stack", request.memory_stack_size),
        check_stack("register stack", request.register_stack_size)}) {
    if (!check.ok()) return R::failure(check.error());
  }
  if (auto c = check_code(code, request.page_size); !c.ok()) return R::failure(c.error());

  ControlPlan plan{};
  plan.page_size = request.page_size;
  plan.code = {0, pages_for(code.code_size, request.page_size)};
  plan.memory_stack = {plan.code.first + plan.code.count,
                       pages_for(request.memory_stack_size, request.page_size)};
  plan.register_stack = {plan.memory_stack.first + plan.memory_stack.count,
                         pages_for(request.register_stack_size, request.page_size)};
  plan.total_pages = plan.register_stack.first + plan.register_stack.count;
  plan.memory_stack_size = request.memory_stack_size;
  plan.register_stack_size = request.register_stack_size;
  plan.code_info = code;
  return plan;
}

Result<RelocateCall> relocate_call(const ControlPlan& plan, const Placement& where,
                                   const Handoff& handoff, RelocateEntry entry) {
  using R = Result<RelocateCall>;
  const uint64_t ps = plan.page_size;
  struct Run {
    const char* name;
    uint64_t base;
    uint64_t bytes;
  };
  const Run runs[] = {{"code", where.code, plan.code.count * ps},
                      {"memory stack", where.memory_stack, plan.memory_stack.count * ps},
                      {"register stack", where.register_stack, plan.register_stack.count * ps}};
  for (const Run& r : runs) {
    if (r.base % ps != 0) {
      return R::failure(std::string(r.name) + " pages at " + hex(r.base) +
                        " are not aligned to the page size " + std::to_string(ps));
    }
  }
  for (size_t i = 0; i < 3; ++i) {
    for (size_t j = i + 1; j < 3; ++j) {
      if (runs[i].base < runs[j].base + runs[j].bytes &&
          runs[j].base < runs[i].base + runs[i].bytes) {
        return R::failure(std::string(runs[i].name) + " pages overlap the " + runs[j].name +
                          " pages");
      }
    }
  }
  const bool virt = entry == RelocateEntry::kVirtual;
  if (virt && handoff.purge_block % 8 != 0) {
    return R::failure("purge block at " + hex(handoff.purge_block) + " is not 8-byte aligned");
  }
  if (virt && (handoff.pal_va >> 61) != 7) {
    return R::failure("PAL address " + hex(handoff.pal_va) +
                      " is not a region 7 virtual address: ptr.i needs the address the PAL "
                      "ITR was inserted at");
  }
  RelocateCall call;
  call.entry =
      where.code + (virt ? plan.code_info.entries[0].offset : plan.code_info.relocate_physical);
  // The memory stack grows down from its top; the backing store grows up
  // from its base ([ia64/vol2] Register Stack Engine).
  call.args = {handoff.head,
               handoff.start,
               handoff.boot_param,
               handoff.pal_va,
               where.memory_stack + plan.memory_stack_size,
               where.register_stack,
               handoff.purge_block,
               ps};
  return call;
}

}  // namespace charon::ia64
