// Synthetic ELF kernels and a QEMU-like machine for the core's payload
// tests (payload_test.cpp, vmlinux_test.cpp, elf_boot_notes_test.cpp):
// little-endian writers and readers, an ET_EXEC image with any PT_LOADs,
// and the PayloadInput of a 512 MiB machine.
#pragma once
#include <charon/align.h>
#include <charon/kimage/payload.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace charon::kimage::test {

constexpr uint64_t kM = k1MiB;

inline void put16(std::vector<uint8_t>& b, size_t off, uint16_t v) {
  if (b.size() < off + 2) b.resize(off + 2);
  b[off] = uint8_t(v), b[off + 1] = uint8_t(v >> 8);
}
inline void put32(std::vector<uint8_t>& b, size_t off, uint32_t v) {
  if (b.size() < off + 4) b.resize(off + 4);
  for (int i = 0; i < 4; ++i) b[off + i] = uint8_t(v >> (8 * i));
}
inline void put64(std::vector<uint8_t>& b, size_t off, uint64_t v) {
  put32(b, off, uint32_t(v));
  put32(b, off + 4, uint32_t(v >> 32));
}
inline uint32_t get32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
inline uint64_t get64(const uint8_t* p) {
  return get32(p) | uint64_t{get32(p + 4)} << 32;
}

struct Seg {
  uint64_t paddr, filesz, memsz;
  uint8_t fill;
};

// An ET_EXEC image: header, program headers at 64, segment bytes from
// 0x1000 on, each segment's bytes `fill`.
inline std::vector<uint8_t> make_elf(bool is64, uint64_t entry, const std::vector<Seg>& segs) {
  std::vector<uint8_t> b(0x1000, 0);
  b[0] = 0x7f, b[1] = 'E', b[2] = 'L', b[3] = 'F';
  b[4] = is64 ? 2 : 1, b[5] = 1, b[6] = 1;
  put16(b, 16, 2);              // ET_EXEC
  put16(b, 18, is64 ? 62 : 3);  // EM_X86_64 / EM_386
  put32(b, 20, 1);
  const size_t phent = is64 ? 56 : 32;
  if (is64) {
    put64(b, 24, entry);
    put64(b, 32, 64);
    put16(b, 54, uint16_t(phent));
    put16(b, 56, uint16_t(segs.size()));
  } else {
    put32(b, 24, uint32_t(entry));
    put32(b, 28, 64);
    put16(b, 42, uint16_t(phent));
    put16(b, 44, uint16_t(segs.size()));
  }
  size_t off = 0x1000;
  for (size_t i = 0; i < segs.size(); ++i) {
    const size_t ph = 64 + i * phent;
    const Seg& s = segs[i];
    put32(b, ph, 1);  // PT_LOAD
    if (is64) {
      put64(b, ph + 8, off);
      put64(b, ph + 16, s.paddr);
      put64(b, ph + 24, s.paddr);
      put64(b, ph + 32, s.filesz);
      put64(b, ph + 40, s.memsz);
    } else {
      put32(b, ph + 4, uint32_t(off));
      put32(b, ph + 8, uint32_t(s.paddr));
      put32(b, ph + 12, uint32_t(s.paddr));
      put32(b, ph + 16, uint32_t(s.filesz));
      put32(b, ph + 20, uint32_t(s.memsz));
    }
    b.resize(off + s.filesz, 0);
    std::memset(b.data() + off, s.fill, s.filesz);
    off += s.filesz;
  }
  return b;
}

inline charon_params fresh_params() {
  charon_params p{};
  p.magic = CHARON_PARAMS_MAGIC, p.version = CHARON_PARAMS_VERSION, p.size = sizeof p;
  return p;
}

// A QEMU-like machine with 512 MiB and its e820 map.
struct Machine {
  std::vector<MemRange> map = {{0, 0x9fc00, boot::E820Type::kRam},
                               {0x9fc00, 0xa0000, boot::E820Type::kReserved},
                               {0xf0000, 0x100000, boot::E820Type::kReserved},
                               {0x100000, 0x1ffe0000, boot::E820Type::kRam},
                               {0x1ffe0000, 0x20000000, boot::E820Type::kReserved}};
  std::unique_ptr<FreeList> free = std::make_unique<FreeList>();
  std::vector<uint8_t> file;
  std::vector<ModuleSpec> mods;
  std::string cmdline = "/boot/x.elf console=ttyS0";
  std::string m0 = "/boot/mod0 role=first", m1 = "/boot/mod1";
  uint8_t rsdp[36] = {'R', 'S', 'D', ' ', 'P', 'T', 'R', ' '};
  PayloadInput in;

  Machine(std::vector<uint8_t> f, PayloadType t) : file(std::move(f)) {
    EXPECT_EQ(free->add(kM, 0x1ffe0000), Status::kOk);
    mods = {{0x12345, m0.data(), m0.size()}, {0x100, m1.data(), m1.size()}};
    in.file = file.data();
    in.file_size = file.size();
    in.type = t;
    in.cmdline = cmdline.data();
    in.cmdline_len = cmdline.size();
    in.memmap = map.data();
    in.nmemmap = map.size();
    in.free = free.get();
    in.top_of_ram = 0x1ffe0000;
    in.purgatory_size = 0x1d000;
    in.purgatory_align = kPageSize;
    in.purgatory_max_end = k4GiB;
  }
  void with_modules() {
    in.modules = mods.data();
    in.nmodules = mods.size();
  }
};

}  // namespace charon::kimage::test
