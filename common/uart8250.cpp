#include <charon/console.h>
#include <charon/io.h>

namespace charon {

namespace {
constexpr uint16_t kThr = 0, kDll = 0, kIer = 1, kDlm = 1, kFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5;
constexpr uint8_t kLcrDlab = 0x80, kLcr8N1 = 0x03, kLsrThre = 0x20;
constexpr uint32_t kClock = 115200;  // 1.8432 MHz / 16

void uart_put(void* ctx, char c) {
  const uint16_t base = static_cast<uint16_t>(reinterpret_cast<uintptr_t>(ctx));
  // Bounded wait: a missing UART reads 0xff (THRE set) or never drains;
  // either way the console must not hang the handoff.
  for (int spin = 0; spin < 100000 && !(io::in8(base + kLsr) & kLsrThre); ++spin) {
  }
  io::out8(base + kThr, static_cast<uint8_t>(c));
}
}  // namespace

Uart8250 Uart8250::init(uint16_t base, uint32_t baud) {
  const uint32_t divisor = baud && baud <= kClock ? kClock / baud : 1;
  io::out8(base + kIer, 0);  // no interrupts: the purgatory runs with IF=0
  io::out8(base + kLcr, kLcrDlab);
  io::out8(base + kDll, divisor & 0xff);
  io::out8(base + kDlm, (divisor >> 8) & 0xff);
  io::out8(base + kLcr, kLcr8N1);
  io::out8(base + kFcr, 0x07);  // enable and clear both FIFOs
  io::out8(base + kMcr, 0x03);  // DTR and RTS
  return Uart8250{base};
}

Sink Uart8250::sink() {
  return Sink{uart_put, reinterpret_cast<void*>(static_cast<uintptr_t>(base))};
}

namespace {
void debugcon_put(void* ctx, char c) {
  io::out8(static_cast<uint16_t>(reinterpret_cast<uintptr_t>(ctx)), static_cast<uint8_t>(c));
}
}  // namespace

Sink DebugCon::sink() {
  return Sink{debugcon_put, reinterpret_cast<void*>(static_cast<uintptr_t>(port))};
}

}  // namespace charon
