// The console: a tiny printf over up to two byte sinks (an 8250 UART and
// the 0xE9 debug port). Formatting is plain C++ over a sink, so the host
// tests feed it a buffer; only uart8250.cpp and debugcon.cpp do port I/O.
#pragma once
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

namespace charon {

struct Sink {
  void (*put)(void* ctx, char c) = nullptr;
  void* ctx = nullptr;
};

class Console {
 public:
  static constexpr int kMaxSinks = 2;

  void add(Sink s) {
    if (count_ < kMaxSinks) sinks_[count_++] = s;
  }
  void clear() { count_ = 0; }
  int sinks() const { return count_; }

  void putc(char c);
  void puts(const char* s);
  // Supports %s %c %d %i %u %x %X %p %%, the l/ll/z length modifiers, a
  // zero flag and a field width (e.g. %016lx). Anything else prints as is.
  void printf(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
  void vprintf(const char* fmt, va_list ap);

 private:
  void put_unsigned(uint64_t v, unsigned base, bool upper, int width, char pad);
  Sink sinks_[kMaxSinks] = {};
  int count_ = 0;
};

// 8250/16550 UART at an I/O port base. [ns16550a datasheet] registers:
// THR/DLL +0, IER/DLM +1, FCR +2, LCR +3, MCR +4, LSR +5.
struct Uart8250 {
  uint16_t base;
  static Uart8250 init(uint16_t base, uint32_t baud);
  Sink sink();
};

// QEMU's and Bochs' debug console: every byte written to the port appears.
struct DebugCon {
  uint16_t port;
  Sink sink();
};

}  // namespace charon
