// The test payload: reports what it was handed on the serial port (0x3f8)
// and exits QEMU through isa-debug-exit (port 0xf4). Built 32- and 64-bit
// from this one file. boot-tests/kernel/run-payloads.sh reads the lines:
//   PAYLOAD-START bits=.. and the registers the entry recorded
//   PAYLOAD-IMAGE data=ok|bad bss=ok|bad  (its own segments as loaded)
//   PAYLOAD-BOOTNOTES ... / -CMDLINE      (ELF boot notes, kexec-tools' elf)
//   PAYLOAD-MB1 ... / PAYLOAD-MB2 ...     (the multiboot information)
//   PAYLOAD-END
// The numbers come from the specifications, not from charon's headers: the
// payload is an oracle for the loaders, like the protocol probe.
#include <charon/io.h>
#include <stddef.h>
#include <stdint.h>

namespace {

using charon::io::in8;
using charon::io::out32;
using charon::io::out8;

void putc(char c) {
  for (int i = 0; i < 100000 && !(in8(0x3f8 + 5) & 0x20); ++i) {
  }
  out8(0x3f8, static_cast<uint8_t>(c));
}
void puts(const char* s) {
  while (*s) putc(*s++);
}
void hex(uint64_t v) {
  puts("0x");
  bool any = false;
  for (int sh = 60; sh >= 0; sh -= 4) {
    const unsigned d = (v >> sh) & 0xf;
    if (d || any || sh == 0) putc("0123456789abcdef"[d]), any = true;
  }
}
void dec(uint32_t v) {
  char b[12];
  int n = 0;
  do b[n++] = static_cast<char>('0' + v % 10), v /= 10;
  while (v);
  while (n) putc(b[--n]);
}
// Text only, at most `max` bytes: the console must stay readable.
void text(const uint8_t* p, size_t max) {
  for (size_t i = 0; i < max && p[i]; ++i) putc(p[i] >= 0x20 && p[i] < 0x7f ? char(p[i]) : '?');
}
void kv(const char* k, uint64_t v) {
  putc(' ');
  puts(k);
  putc('=');
  hex(v);
}

const uint8_t* phys(uint64_t a) {
  return reinterpret_cast<const uint8_t*>(static_cast<uintptr_t>(a));
}
uint32_t rd32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
uint64_t rd64(const uint8_t* p) {
  return uint64_t{rd32(p)} | uint64_t{rd32(p + 4)} << 32;
}

// A known word in .data and 4 KiB of .bss: a loader that dropped a
// segment or skipped the zero fill shows here.
volatile uint32_t g_data_marker = 0x5a17c0de;
volatile uint8_t g_bss[4096];

void check_image() {
  bool bss = true;
  for (size_t i = 0; i < sizeof g_bss; ++i) bss = bss && g_bss[i] == 0;
  puts("PAYLOAD-IMAGE data=");
  puts(g_data_marker == 0x5a17c0de ? "ok" : "bad");
  puts(" bss=");
  puts(bss ? "ok" : "bad");
  putc('\n');
}

// A module: where, its command line, and its first bytes as text.
void module_line(const char* tag, uint32_t start, uint32_t end, const uint8_t* cmdline) {
  puts(tag);
  kv("start", start);
  kv("end", end);
  puts(" cmdline=");
  text(cmdline, 200);
  puts(" head=");
  text(phys(start), end - start < 64 ? end - start : 64);
  putc('\n');
}

// ELF boot notes (kexec-tools' kexec-elf-boot.c; the "ELF boot" proposal):
// Elf_Bhdr {b_signature 0x0E1FB007, b_size, b_checksum, b_records}, then
// notes {namesz, descsz, type}, name and desc padded to 4; type 4
// (EBN_COMMAND_LINE) without a name is the command line.
void report_bootnotes(uint64_t at) {
  const uint8_t* b = phys(at);
  if (at == 0 || rd32(b) != 0x0e1fb007) {
    puts("PAYLOAD-BOOTNOTES none");
    kv("at", at);
    putc('\n');
    return;
  }
  const uint32_t size = rd32(b + 4);
  const uint32_t records = rd32(b + 8) >> 16;
  // b_checksum: the IP checksum (RFC 1071) of all b_size bytes; summed
  // with the stored value in place, every bit comes out set.
  uint32_t sum = 0;
  for (uint32_t i = 0; i < size && size < 65536; ++i) {
    sum += i & 1 ? uint32_t{b[i]} << 8 : b[i];
    sum = (sum & 0xffff) + (sum >> 16);
  }
  puts("PAYLOAD-BOOTNOTES");
  kv("at", at);
  kv("size", size);
  kv("records", records);
  puts(sum == 0xffff ? " checksum=ok" : " checksum=bad");
  putc('\n');
  uint32_t off = 12;
  for (uint32_t r = 0; r < records && off + 12 <= size; ++r) {
    const uint32_t namesz = rd32(b + off), descsz = rd32(b + off + 4), type = rd32(b + off + 8);
    const uint8_t* name = b + off + 12;
    const uint8_t* desc = name + ((namesz + 3) & ~3u);
    if (type == 4 && namesz == 0) {
      puts("PAYLOAD-BOOTNOTES-CMDLINE ");
      text(desc, descsz);
      putc('\n');
    }
    off += 12 + ((namesz + 3) & ~3u) + ((descsz + 3) & ~3u);
  }
}

// Multiboot 0.6.96, 3.3 "Boot information format".
void report_mb1(uint32_t info) {
  const uint8_t* m = phys(info);
  const uint32_t flags = rd32(m);
  puts("PAYLOAD-MB1");
  kv("flags", flags);
  if (flags & 1) kv("mem_lower", rd32(m + 4)), kv("mem_upper", rd32(m + 8));
  putc('\n');
  if (flags & (1u << 2)) {
    puts("PAYLOAD-MB1-CMDLINE ");
    text(phys(rd32(m + 16)), 400);
    putc('\n');
  }
  if (flags & (1u << 9)) {
    puts("PAYLOAD-MB1-LOADER ");
    text(phys(rd32(m + 64)), 64);
    putc('\n');
  }
  if (flags & (1u << 3)) {
    const uint32_t n = rd32(m + 20);
    const uint8_t* mods = phys(rd32(m + 24));
    for (uint32_t i = 0; i < n && i < 16; ++i, mods += 16)
      module_line("PAYLOAD-MB1-MODULE", rd32(mods), rd32(mods + 4), phys(rd32(mods + 8)));
  }
  if (flags & (1u << 6)) {
    const uint32_t len = rd32(m + 44), addr = rd32(m + 48);
    uint32_t entries = 0;
    uint64_t ram = 0;
    for (uint32_t off = 0; off + 24 <= len;) {
      const uint8_t* e = phys(addr + off);
      if (rd32(e + 20) == 1) ram += rd64(e + 12);
      ++entries;
      off += rd32(e) + 4;
    }
    puts("PAYLOAD-MB1-MMAP entries=");
    dec(entries);
    puts(" ram_mib=");
    dec(static_cast<uint32_t>(ram >> 20));
    putc('\n');
  }
}

// Multiboot2 2.0, 3.6 "Boot information format".
void report_mb2(uint32_t info) {
  const uint8_t* m = phys(info);
  const uint32_t total = rd32(m);
  puts("PAYLOAD-MB2");
  kv("total", total);
  putc('\n');
  for (uint32_t off = 8; off + 8 <= total;) {
    const uint8_t* t = m + off;
    const uint32_t type = rd32(t), size = rd32(t + 4);
    if (type == 0 || size < 8) break;
    switch (type) {
      case 1:
        puts("PAYLOAD-MB2-CMDLINE ");
        text(t + 8, size - 8);
        putc('\n');
        break;
      case 2:
        puts("PAYLOAD-MB2-LOADER ");
        text(t + 8, size - 8);
        putc('\n');
        break;
      case 3:
        module_line("PAYLOAD-MB2-MODULE", rd32(t + 8), rd32(t + 12), t + 16);
        break;
      case 4:
        puts("PAYLOAD-MB2-MEM");
        kv("mem_lower", rd32(t + 8));
        kv("mem_upper", rd32(t + 12));
        putc('\n');
        break;
      case 6: {
        const uint32_t esz = rd32(t + 8);
        uint32_t entries = 0;
        uint64_t ram = 0;
        for (uint32_t e = 16; esz >= 24 && e + esz <= size; e += esz, ++entries)
          if (rd32(t + e + 16) == 1) ram += rd64(t + e + 8);
        puts("PAYLOAD-MB2-MMAP entries=");
        dec(entries);
        puts(" ram_mib=");
        dec(static_cast<uint32_t>(ram >> 20));
        putc('\n');
        break;
      }
      case 14:
      case 15:
        puts("PAYLOAD-MB2-ACPI type=");
        dec(type);
        puts(" sig=");
        text(t + 8, 8);
        putc('\n');
        break;
      default:
        puts("PAYLOAD-MB2-TAG type=");
        dec(type);
        putc('\n');
    }
    off += (size + 7) & ~7u;
  }
}

}  // namespace

extern "C" [[noreturn]] void payload_main(const uintptr_t* s) {
#if defined(__x86_64__)
  puts("PAYLOAD-START bits=64");
  kv("rax", s[0]);
  kv("rbx", s[1]);
  kv("rdi", s[2]);
  kv("rsi", s[3]);
  kv("rsp", s[4]);
  kv("cr0", s[5]);
  kv("cr4", s[6]);
  puts((s[5] >> 31) & 1 ? " paging=on" : " paging=off");
  putc('\n');
  check_image();
  const uint64_t magic = s[0], info = s[1], notes = s[2];  // kexec-tools' elf-x86_64: RDI
#else
  puts("PAYLOAD-START bits=32");
  kv("eax", s[0]);
  kv("ebx", s[1]);
  kv("esp", s[2]);
  kv("stack0", s[3]);
  kv("stack1", s[4]);
  kv("cr0", s[5]);
  kv("cr4", s[6]);
  puts((s[5] >> 31) & 1 ? " paging=on" : " paging=off");
  putc('\n');
  check_image();
  const uint64_t magic = s[0], info = s[1], notes = s[4];  // kexec-tools' elf-x86: [esp + 4]
#endif
  if (magic == 0x2badb002)
    report_mb1(static_cast<uint32_t>(info));
  else if (magic == 0x36d76289)
    report_mb2(static_cast<uint32_t>(info));
  else
    report_bootnotes(notes);
  puts("PAYLOAD-END\n");
  out32(0xf4, 0x10);  // isa-debug-exit: QEMU exits with status 33
  for (;;) asm volatile("cli; hlt");
}
