// The purgatory's IDT: every exception prints one line (vector, error
// code, RIP, CR2) and halts. A silent triple fault is the one failure a
// user cannot debug. The NMI alone is counted and returns (isr_stubs.asm
// says why): it is an event from outside, not a fault of ours.
//
// entry.asm installs it as early as it can, so that an NMI finds it:
// entry64 right after loading our GDT (the gates name its CS), entry32 as
// soon as it is in long mode. Before that an NMI goes through the caller's
// IDT (entry64 until here, entry32 until its LGDT), then on entry32
// through its own 32-bit IDT (entry.asm's fault32), which reports faults
// the same way and returns from an NMI. Only from entry32's CR0.PG to
// the LIDT below, a dozen instructions and this loop, none of which can
// fault, would an NMI find an IDT in the wrong format: #GP, #DF, shutdown ([intel/vol3]: 6.10, 6.15
// "Interrupt 8").
#include <charon/x86/cr.h>
#include <charon/x86/gdt.h>

#include "purgatory.h"

namespace charon::x86 {
namespace {

// [intel/vol3]: 6.14.1, figure 6-8: 64-bit interrupt gate.
struct IdtGate {
  uint16_t offset_low;
  uint16_t selector;
  uint8_t ist;
  uint8_t type_attr;  // P=1, DPL=0, type 0xE (64-bit interrupt gate)
  uint16_t offset_mid;
  uint32_t offset_high;
  uint32_t reserved;
};
static_assert(sizeof(IdtGate) == 16);

struct [[gnu::packed]] DescriptorPointer {
  uint16_t limit;
  uint64_t base;
};

constexpr int kVectors = 32;
constexpr uint8_t kInterruptGate = 0x8e;
constexpr int kStubSize = 16;  // isr_stubs.asm aligns each stub to 16

// Built at run time, so it costs no file space.
[[gnu::section(".noinit.idt")]] IdtGate g_idt[kVectors];

}  // namespace

uint64_t idt_end() {
  uint64_t end = reinterpret_cast<uint64_t>(g_idt) + sizeof(g_idt);
  asm("" : "+r"(end));
  return end;
}

}  // namespace charon::x86

extern "C" void charon_idt_install() {
  using namespace charon::x86;
  for (int v = 0; v < kVectors; ++v) {
    // Addresses are computed at run time (RIP-relative), never stored at
    // link time, so the image stays position-independent.
    const uint64_t stub = reinterpret_cast<uint64_t>(charon_isr_stubs) + uint64_t(v) * kStubSize;
    g_idt[v] = IdtGate{static_cast<uint16_t>(stub),
                       kSelCode64,  // gdt64 in entry.asm
                       0,
                       kInterruptGate,
                       static_cast<uint16_t>(stub >> 16),
                       static_cast<uint32_t>(stub >> 32),
                       0};
  }
  // Laundered through a register: a compile-time constant here would
  // become an absolute (R_X86_64_64) address in .data.
  uint64_t base = reinterpret_cast<uint64_t>(g_idt);
  asm("" : "+r"(base));
  const DescriptorPointer idtr{sizeof(g_idt) - 1, base};
  asm volatile("lidt %0" : : "m"(idtr));
}

// frame: vector, error code, then the CPU's RIP, CS, RFLAGS, RSP, SS.
extern "C" void charon_exception(const uint64_t* frame) {
  uint64_t cr2;
  asm volatile("mov %%cr2, %0" : "=r"(cr2));
  charon::x86::halt_with("charon: exception vector %lu error 0x%lx rip 0x%lx cr2 0x%lx rsp 0x%lx\n",
                         frame[0], frame[1], frame[2], cr2, frame[5]);
}
