// ELF boot notes for --args-elf (elf_boot_notes.cpp), read back as the
// "ELF boot" proposal defines them, and where the handoff puts them:
// RDI for ELF64, kexec-tools' stack frame for ELF32.
#include <charon/align.h>
#include <charon/kimage/image.h>
#include <charon/kimage/payload.h>
#include <gtest/gtest.h>
#include <synthetic_elf.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace charon::kimage {
namespace {

using namespace test;

// ---- ELF boot notes (--args-elf), read back as the proposal defines them.
struct Notes {
  uint32_t records = 0;
  std::vector<std::pair<uint32_t, std::string>> notes;
  bool checksum_ok = false;
};
Notes read_notes(const std::vector<uint8_t>& b) {
  Notes n;
  EXPECT_EQ(get32(b.data()), 0x0e1fb007u);
  EXPECT_EQ(get32(b.data() + 4), b.size());
  n.records = get32(b.data() + 8) >> 16;
  // RFC 1071 over every byte, the stored checksum included: all ones.
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < b.size(); i += 2) sum += uint32_t{b[i]} | uint32_t{b[i + 1]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  n.checksum_ok = sum == 0xffff;
  size_t off = 12;
  for (uint32_t r = 0; r < n.records; ++r) {
    EXPECT_EQ(get32(b.data() + off), 0u);  // no name
    const uint32_t descsz = get32(b.data() + off + 4), type = get32(b.data() + off + 8);
    EXPECT_LE(off + 12 + descsz, b.size());
    n.notes.push_back({type, std::string(reinterpret_cast<const char*>(b.data() + off + 12))});
    EXPECT_EQ(n.notes.back().second.size() + 1, descsz);
    off += 12 + align_up(descsz, 4);
  }
  EXPECT_EQ(off, b.size());
  return n;
}

TEST(BootNotes, Elf64GetsThemInRdiWithTheCommandLine) {
  Machine m(make_elf(true, 0x3000000, {{0x3000000, 0x100, 0x1000, 1}}), PayloadType::kElf64);
  PayloadPlan p;
  ASSERT_EQ(plan_payload(m.in, p), Status::kOk);
  ASSERT_FALSE(p.info.empty());
  EXPECT_LE(p.info.end, k4GiB);
  std::vector<uint8_t> b(payload_info_bytes(m.in));
  ASSERT_EQ(build_payload_info(m.in, p, b.data(), b.size()), Status::kOk);
  const Notes n = read_notes(b);
  EXPECT_TRUE(n.checksum_ok);
  ASSERT_EQ(n.records, 3u);
  EXPECT_EQ(n.notes[0], (std::pair<uint32_t, std::string>{1, "charon-kexec"}));
  EXPECT_EQ(n.notes[1].first, 2u);
  EXPECT_EQ(n.notes[2], (std::pair<uint32_t, std::string>{4, "/boot/x.elf console=ttyS0"}));
  charon_params params = fresh_params();
  ASSERT_EQ(fill_payload_params(m.in, p, 0x7f00000, 0, params), Status::kOk);
  EXPECT_EQ(params.regs64.rdi, p.info.start);
  EXPECT_EQ(params.regs64.rip, 0x3000000u);
  // A flipped byte breaks the checksum a payload may check.
  b[20] ^= 1;
  EXPECT_FALSE(read_notes(b).checksum_ok);
}

TEST(BootNotes, Elf32GetsKexecToolsStackFrame) {
  Machine m(make_elf(false, 0x200000, {{0x200000, 0x100, 0x1000, 1}}), PayloadType::kElf32);
  m.cmdline = "odd";  // a command line whose note needs padding
  m.in.cmdline = m.cmdline.data();
  m.in.cmdline_len = m.cmdline.size();
  PayloadPlan p;
  ASSERT_EQ(plan_payload(m.in, p), Status::kOk);
  std::vector<uint8_t> b(payload_info_bytes(m.in));
  ASSERT_EQ(build_payload_info(m.in, p, b.data(), b.size()), Status::kOk);
  EXPECT_TRUE(read_notes(b).checksum_ok);
  EXPECT_EQ(read_notes(b).notes[2].second, "odd");
  charon_params params = fresh_params();
  ASSERT_EQ(fill_payload_params(m.in, p, 0x7f00000, 0x7f01234, params), Status::kOk);
  EXPECT_EQ(params.regs32.esp, 0x7f01234u);  // the block's stack_arg32_2: generic32 pushes
  EXPECT_EQ(params.stack_arg32_1, p.info.start);
  EXPECT_EQ(params.stack_arg32_2, 0u);
  EXPECT_EQ(fill_payload_params(m.in, p, 0x7f00000, 0, params), Status::kNoStackArgs);
  // --args-none: no notes, ESP the stack's top.
  m.in.args = ElfArgs::kNone;
  PayloadPlan q;
  m.free = std::make_unique<FreeList>();
  ASSERT_EQ(m.free->add(kM, 0x1ffe0000), Status::kOk);
  m.in.free = m.free.get();
  ASSERT_EQ(plan_payload(m.in, q), Status::kOk);
  EXPECT_TRUE(q.info.empty());
  ASSERT_EQ(fill_payload_params(m.in, q, 0x7f00000, 0x7f01234, params), Status::kOk);
  EXPECT_EQ(params.regs32.esp, 0x7f00000u);
}

}  // namespace
}  // namespace charon::kimage
