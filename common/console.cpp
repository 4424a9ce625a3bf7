#include <charon/console.h>

namespace charon {

void Console::putc(char c) {
  for (int i = 0; i < count_; ++i) {
    if (c == '\n') sinks_[i].put(sinks_[i].ctx, '\r');
    sinks_[i].put(sinks_[i].ctx, c);
  }
}

void Console::puts(const char* s) {
  while (*s) putc(*s++);
}

void Console::put_unsigned(uint64_t v, unsigned base, bool upper, int width, char pad) {
  char digits[24];
  int n = 0;
  const char* set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do {
    digits[n++] = set[v % base];
    v /= base;
  } while (v);
  for (int i = n; i < width; ++i) putc(pad);
  while (n) putc(digits[--n]);
}

void Console::printf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
}

void Console::vprintf(const char* fmt, va_list ap) {
  for (const char* p = fmt; *p; ++p) {
    if (*p != '%') {
      putc(*p);
      continue;
    }
    const char* start = p++;
    char pad = ' ';
    int width = 0;
    int longs = 0;
    if (*p == '0') pad = '0', ++p;
    while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
    while (*p == 'l' || *p == 'z') ++longs, ++p;
    auto arg_unsigned = [&]() -> uint64_t {
      return longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
    };
    switch (*p) {
      case 's': {
        const char* s = va_arg(ap, const char*);
        s = s ? s : "(null)";
        int len = 0;
        while (s[len]) ++len;
        for (int i = len; i < width; ++i) putc(' ');
        puts(s);
        break;
      }
      case 'c':
        putc(static_cast<char>(va_arg(ap, int)));
        break;
      case 'd':
      case 'i': {
        int64_t v = longs ? va_arg(ap, long) : va_arg(ap, int);
        uint64_t mag = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
        if (v < 0) {
          // The sign goes before zero padding ("-0042") but after space
          // padding ("  -42"), as in C's printf.
          if (pad == ' ') {
            int digits = 1;
            for (uint64_t m = mag; m >= 10; m /= 10) ++digits;
            for (int i = digits + 1; i < width; ++i) putc(' ');
            width = 0;
          } else if (width) {
            --width;
          }
          putc('-');
        }
        put_unsigned(mag, 10, false, width, pad);
        break;
      }
      case 'u':
        put_unsigned(arg_unsigned(), 10, false, width, pad);
        break;
      case 'x':
      case 'X':
        put_unsigned(arg_unsigned(), 16, *p == 'X', width, pad);
        break;
      case 'p':
        puts("0x");
        put_unsigned(reinterpret_cast<uintptr_t>(va_arg(ap, void*)), 16, false, 16, '0');
        break;
      case '%':
        putc('%');
        break;
      default:  // unknown conversion: show it verbatim
        for (const char* q = start; q <= p && *q; ++q) putc(*q);
        if (!*p) return;
    }
  }
}

}  // namespace charon
