// The one way bare-metal x86 code stops: interrupts off, then HLT for
// ever. An NMI or SMI can still wake HLT, hence the loop.
#pragma once

namespace charon::x86 {

[[noreturn]] inline void halt_forever() {
  for (;;) asm volatile("cli; hlt");
}

}  // namespace charon::x86
