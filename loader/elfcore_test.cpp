// The elfcorehdr builder and the sysfs readers behind it: what the dump
// shows (low memory from the backup, no crash reservation, no holes), the
// ELF core header fs/proc/vmcore.c accepts, and the notes it merges.
#include <charon/loader/elfcore.h>
#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>

#include "testdata/test_util.h"

namespace charon::loader {
namespace {

using namespace charon::boot;

constexpr uint64_t kM = 1ull << 20;
constexpr uint64_t kK = 1024;

const CrashInfo kNotes{{{0x3fc00000, 336}, {0x3fc01000, 336}}, {0x253a000, 0x1024}, {}};

std::vector<Elf64_Phdr> phdrs(const std::vector<uint8_t>& hdr) {
  Elf64_Ehdr eh;
  std::memcpy(&eh, hdr.data(), sizeof(eh));
  std::vector<Elf64_Phdr> out(eh.e_phnum);
  for (size_t i = 0; i < out.size(); ++i)
    std::memcpy(&out[i], hdr.data() + eh.e_phoff + i * sizeof(Elf64_Phdr), sizeof(Elf64_Phdr));
  return out;
}

TEST(DumpRanges, LowMemoryIsOne640KiBRangeReadFromTheBackup) {
  // QEMU's firmware map: RAM up to the EBDA at 0x9fc00, a hole, RAM on.
  const std::vector<MemRange> map = {{0, 0x9fc00, E820Type::kRam},
                                     {0x9fc00, 0x100000, E820Type::kReserved},
                                     {kM, 512 * kM, E820Type::kRam}};
  const auto r = dump_ranges(map, {}, 0x1f000000);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], (DumpRange{0, 640 * kK, 0x1f000000}));
  EXPECT_EQ(r[1], (DumpRange{kM, 512 * kM, kM}));
}

TEST(DumpRanges, TheCrashReservationIsLeftOut) {
  const std::vector<MemRange> map = {{0, 0x9fc00, E820Type::kRam},
                                     {kM, 512 * kM, E820Type::kRam},
                                     {4096 * kM, 6144 * kM, E820Type::kRam}};
  const std::vector<MemRange> crash = {{320 * kM, 480 * kM, E820Type::kRam},
                                       {5000 * kM, 5100 * kM, E820Type::kRam}};
  const auto r = dump_ranges(map, crash, 0x14000000);
  const std::vector<DumpRange> want = {{0, 640 * kK, 0x14000000},
                                       {kM, 320 * kM, kM},
                                       {480 * kM, 512 * kM, 480 * kM},
                                       {4096 * kM, 5000 * kM, 4096 * kM},
                                       {5100 * kM, 6144 * kM, 5100 * kM}};
  EXPECT_EQ(r, want);
}

TEST(DumpRanges, RamThatStraddles640KiBContinuesAt640KiB) {
  const auto r = dump_ranges({{0, 2 * kM, E820Type::kRam}}, {}, 0x1000000);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1], (DumpRange{640 * kK, 2 * kM, 640 * kK}));
}

TEST(DumpRanges, OnlyRamIsDumped) {
  const auto r = dump_ranges({{0, 0x9fc00, E820Type::kRam},
                              {kM, 2 * kM, E820Type::kAcpi},
                              {2 * kM, 3 * kM, E820Type::kReserved},
                              {3 * kM, 4 * kM, E820Type::kNvs}},
                             {}, 0x1000000);
  EXPECT_EQ(r.size(), 1u);
}

TEST(ElfCoreHeader, IsAnElf64CoreForX86_64ThatVmcoreAccepts) {
  auto hdr = build_elfcorehdr(kNotes, {{0, 640 * kK, 0x1f000000}, {kM, 512 * kM, kM}});
  ASSERT_TRUE(hdr.ok()) << hdr.error();
  Elf64_Ehdr eh;
  ASSERT_EQ(hdr->size(), sizeof(eh) + 5 * sizeof(Elf64_Phdr));
  EXPECT_EQ(hdr->size(), kimage::elfcorehdr_bytes(elfcore_spec(kNotes, {{}, {}}, false)));
  std::memcpy(&eh, hdr->data(), sizeof(eh));
  // fs/proc/vmcore.c, parse_crash_elf64_headers: magic, ET_CORE, the
  // machine, EV_CURRENT twice, and a Phdr-sized e_phentsize.
  EXPECT_EQ(std::memcmp(eh.e_ident, ELFMAG, SELFMAG), 0);
  EXPECT_EQ(eh.e_ident[EI_CLASS], ELFCLASS64);
  EXPECT_EQ(eh.e_ident[EI_DATA], ELFDATA2LSB);
  EXPECT_EQ(eh.e_ident[EI_VERSION], EV_CURRENT);
  EXPECT_EQ(eh.e_type, ET_CORE);
  EXPECT_EQ(eh.e_machine, EM_X86_64);
  EXPECT_EQ(eh.e_version, EV_CURRENT);
  EXPECT_EQ(eh.e_phoff, sizeof(Elf64_Ehdr));
  EXPECT_EQ(eh.e_phentsize, sizeof(Elf64_Phdr));
  EXPECT_EQ(eh.e_phnum, 5);
  EXPECT_EQ(eh.e_shnum, 0);
}

TEST(ElfCoreHeader, NotesComeFirstOnePerCpuThenVmcoreinfoAtTheirPhysicalAddresses) {
  auto hdr = build_elfcorehdr(kNotes, {{0, 640 * kK, 0x1f000000}});
  ASSERT_TRUE(hdr.ok()) << hdr.error();
  const auto ph = phdrs(*hdr);
  ASSERT_EQ(ph.size(), 4u);
  const NoteRange want[] = {{0x3fc00000, 336}, {0x3fc01000, 336}, {0x253a000, 0x1024}};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ph[i].p_type, PT_NOTE);
    EXPECT_EQ(ph[i].p_offset, want[i].addr);
    EXPECT_EQ(ph[i].p_paddr, want[i].addr);
    EXPECT_EQ(ph[i].p_filesz, want[i].size);
    EXPECT_EQ(ph[i].p_memsz, want[i].size);
  }
  EXPECT_EQ(ph[3].p_type, PT_LOAD);
}

TEST(ElfCoreHeader, LoadsGiveThePhysicalAddressAndWhereToReadIt) {
  auto hdr = build_elfcorehdr(kNotes, {{0, 640 * kK, 0x1f000000}, {kM, 512 * kM, kM}});
  ASSERT_TRUE(hdr.ok()) << hdr.error();
  const auto ph = phdrs(*hdr);
  // The low 640 KiB: paddr 0, read from the backup copy.
  EXPECT_EQ(ph[3].p_type, PT_LOAD);
  EXPECT_EQ(ph[3].p_paddr, 0u);
  EXPECT_EQ(ph[3].p_offset, 0x1f000000u);
  EXPECT_EQ(ph[3].p_filesz, 640 * kK);
  EXPECT_EQ(ph[3].p_memsz, 640 * kK);
  EXPECT_EQ(ph[3].p_flags, PF_R | PF_W | PF_X);
  EXPECT_EQ(ph[4].p_paddr, kM);
  EXPECT_EQ(ph[4].p_offset, kM);
  EXPECT_EQ(ph[4].p_memsz, 511 * kM);
}

TEST(ElfCoreHeader, RefusesEmptyRangesZeroSizedNotesAndTooManyHeaders) {
  EXPECT_FALSE(build_elfcorehdr(kNotes, {{kM, kM, kM}}).ok());
  EXPECT_FALSE(build_elfcorehdr(kNotes, {{0, kM, UINT64_MAX - 10}}).ok());
  CrashInfo zero = kNotes;
  zero.cpu_notes[1].size = 0;
  EXPECT_FALSE(build_elfcorehdr(zero, {{0, kM, 0}}).ok());
  zero = kNotes;
  zero.vmcoreinfo.size = 0;
  EXPECT_FALSE(build_elfcorehdr(zero, {{0, kM, 0}}).ok());
  std::vector<DumpRange> many;
  for (uint64_t i = 0; i < 0xffff; ++i) many.push_back({i * 8192, i * 8192 + 4096, i * 8192});
  auto r = build_elfcorehdr(kNotes, many);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("e_phnum"), std::string::npos) << r.error();
}

TEST(CrashSysfs, ParsesTheFormatsLinuxWrites) {
  EXPECT_EQ(parse_hex("3fc1e800\n"), 0x3fc1e800u);
  EXPECT_EQ(parse_hex("0x3fc1e800"), 0x3fc1e800u);
  EXPECT_EQ(parse_dec("336\n"), 336u);
  EXPECT_EQ(parse_vmcoreinfo("0x000000000253a000 1024\n"), (NoteRange{0x253a000, 0x1024}));
  EXPECT_EQ(parse_vmcoreinfo("253a000 1024"), (NoteRange{0x253a000, 0x1024}));
  for (const char* bad : {"", "\n", "zz", "0x", "12 34 56", "1000 0", "1000", "0x1000 0xg"})
    EXPECT_FALSE(parse_vmcoreinfo(bad)) << bad;
  EXPECT_FALSE(parse_hex("12g"));
  EXPECT_FALSE(parse_dec("0x12"));
}

TEST(CrashSysfs, ReadsEveryCpuInNumberOrderAndVmcoreinfo) {
  testing::TempDir t;
  testing::write_crash_sysfs(t.path(), 12);
  // A CPU directory without notes (offline, or not a CPU) is skipped.
  std::filesystem::create_directories(t.path() / "sys/devices/system/cpu/cpufreq");
  std::filesystem::create_directories(t.path() / "sys/devices/system/cpu/cpu12");
  auto ci = read_crash_info(t.path().string());
  ASSERT_TRUE(ci.ok()) << ci.error();
  ASSERT_EQ(ci->cpu_notes.size(), 12u);
  for (int n = 0; n < 12; ++n)
    EXPECT_EQ(ci->cpu_notes[n], (NoteRange{0x3fc00000ull + n * 0x1000ull, 336})) << n;
  EXPECT_EQ(ci->vmcoreinfo, (NoteRange{0x253a000, 0x1024}));
}

TEST(CrashSysfs, EachMissingOrBadFileIsNamed) {
  testing::TempDir t;
  auto err = [&] {
    auto ci = read_crash_info(t.path().string());
    EXPECT_FALSE(ci.ok());
    return ci.ok() ? std::string() : ci.error();
  };
  EXPECT_NE(err().find("vmcoreinfo: cannot read"), std::string::npos);
  testing::write_file(t.path() / "sys/kernel/vmcoreinfo", "nonsense\n");
  EXPECT_NE(err().find("vmcoreinfo: expected"), std::string::npos);
  testing::write_file(t.path() / "sys/kernel/vmcoreinfo", "0x253a000 1024\n");
  EXPECT_NE(err().find("no CPU has crash_notes"), std::string::npos);
  const auto cpu0 = t.path() / "sys/devices/system/cpu/cpu0";
  testing::write_file(cpu0 / "crash_notes", "3fc00000\n");
  EXPECT_NE(err().find("cpu0/crash_notes_size: cannot read"), std::string::npos);
  testing::write_file(cpu0 / "crash_notes_size", "lots\n");
  EXPECT_NE(err().find("cpu0/crash_notes_size: expected"), std::string::npos);
  testing::write_file(cpu0 / "crash_notes_size", "336\n");
  testing::write_file(cpu0 / "crash_notes", "0\n");
  EXPECT_NE(err().find("cpu0/crash_notes: expected"), std::string::npos);
}

}  // namespace
}  // namespace charon::loader

namespace charon::loader {
namespace {

// A /proc/kcore header as Linux 6.1 writes it (fs/proc/kcore.c): a
// PT_NOTE, the text (_text.._end at __START_KERNEL_map + ...), vmalloc and
// vmemmap without a physical address, and each RAM range at its
// direct-map address, here a KASLR-moved base.
std::vector<uint8_t> fake_kcore(uint64_t page_offset) {
  struct {
    uint32_t type;
    uint64_t vaddr, paddr, size;
  } const ph[] = {
      {PT_NOTE, 0, 0, 0x1000},
      {PT_LOAD, 0xffffffffad000000, 0x2a00000, 0x2c00000},
      {PT_LOAD, 0xffffb7a100000000, UINT64_MAX, 0x1000000000},
      {PT_LOAD, page_offset + 0x1000, 0x1000, 0x9e000},
      {PT_LOAD, page_offset + 0x100000, 0x100000, 0x3fee0000},
      {PT_LOAD, 0xffffe8b300000000, UINT64_MAX, 0x1000000},
  };
  std::vector<uint8_t> out(sizeof(Elf64_Ehdr) + std::size(ph) * sizeof(Elf64_Phdr));
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_type = ET_CORE;
  eh.e_phoff = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = std::size(ph);
  std::memcpy(out.data(), &eh, sizeof eh);
  for (size_t i = 0; i < std::size(ph); ++i) {
    Elf64_Phdr p{};
    p.p_type = ph[i].type;
    p.p_vaddr = ph[i].vaddr;
    p.p_paddr = ph[i].paddr;
    p.p_memsz = p.p_filesz = ph[i].size;
    std::memcpy(out.data() + sizeof eh + i * sizeof p, &p, sizeof p);
  }
  return out;
}

TEST(KernelLayout, PageOffsetAndTextComeFromKcoresProgramHeaders) {
  const KernelLayout l = layout_from_kcore(fake_kcore(0xffff8d4700000000));
  EXPECT_EQ(l.page_offset, 0xffff8d4700000000u);
  EXPECT_EQ(l.page_offset_from, "/proc/kcore");
  EXPECT_EQ(l.text_vaddr, 0xffffffffad000000u);
  EXPECT_EQ(l.text_paddr, 0x2a00000u);
  EXPECT_EQ(l.text_size, 0x2c00000u);
  EXPECT_EQ(layout_from_kcore({}).page_offset, 0u) << "no kcore: unknown, not guessed";
}

TEST(KernelLayout, FallsBackToKallsymsAndIomemForTheText) {
  testing::TempDir t;
  testing::write_file(t.path() / "proc/kallsyms",
                      "ffffffff9f000000 T _text\nffffffff9f000000 T _stext\n"
                      "ffffffffa1c00000 B _end\n");
  testing::write_file(t.path() / "proc/iomem",
                      "00100000-3fffffff : System RAM\n  1e000000-1f1fffff : Kernel code\n");
  const KernelLayout l = read_kernel_layout(t.path().string());
  EXPECT_EQ(l.page_offset, 0u);
  EXPECT_EQ(l.text_vaddr, 0xffffffff9f000000u);
  EXPECT_EQ(l.text_paddr, 0x1e000000u);
  EXPECT_EQ(l.text_size, 0x2c00000u);
}

TEST(ElfCoreHeader, RamLoadsCarryTheirDirectMapAddressAndTheTextHasItsOwnLoad) {
  CrashInfo info = kNotes;
  info.layout = layout_from_kcore(fake_kcore(0xffff8d4700000000));
  auto hdr = build_elfcorehdr(info, {{0, 640 * kK, 0x1f000000}, {kM, 512 * kM, kM}});
  ASSERT_TRUE(hdr.ok()) << hdr.error();
  const auto ph = phdrs(*hdr);
  ASSERT_EQ(ph.size(), 6u);
  // crash_prepare_elf64_headers' order: notes, the text, then RAM.
  EXPECT_EQ(ph[3].p_type, PT_LOAD);
  EXPECT_EQ(ph[3].p_vaddr, 0xffffffffad000000u);
  EXPECT_EQ(ph[3].p_paddr, 0x2a00000u);
  EXPECT_EQ(ph[3].p_offset, 0x2a00000u);
  EXPECT_EQ(ph[3].p_memsz, 0x2c00000u);
  EXPECT_EQ(ph[4].p_vaddr, 0xffff8d4700000000u) << "low memory at page_offset + 0";
  EXPECT_EQ(ph[4].p_offset, 0x1f000000u) << "still read from the backup";
  EXPECT_EQ(ph[5].p_vaddr, 0xffff8d4700000000u + kM);
  // makedumpfile's rule for "(pt_load)": p_vaddr - p_paddr is page_offset.
  for (size_t i = 4; i < ph.size(); ++i)
    EXPECT_EQ(ph[i].p_vaddr - ph[i].p_paddr, 0xffff8d4700000000u);
}

TEST(ElfCoreHeader, Elf32IsAClass32HeaderBelow4GiBOnly) {
  auto hdr = build_elfcorehdr(kNotes, {{0, 640 * kK, 0x1f000000}, {kM, 512 * kM, kM}}, true);
  ASSERT_TRUE(hdr.ok()) << hdr.error();
  Elf32_Ehdr eh;
  std::memcpy(&eh, hdr->data(), sizeof eh);
  EXPECT_EQ(eh.e_ident[EI_CLASS], ELFCLASS32);
  EXPECT_EQ(eh.e_type, ET_CORE);
  EXPECT_EQ(eh.e_machine, EM_X86_64);
  EXPECT_EQ(eh.e_phoff, sizeof(Elf32_Ehdr));
  EXPECT_EQ(eh.e_phentsize, sizeof(Elf32_Phdr));
  ASSERT_EQ(eh.e_phnum, 5);
  ASSERT_EQ(hdr->size(), sizeof(Elf32_Ehdr) + 5 * sizeof(Elf32_Phdr));
  Elf32_Phdr ph;
  std::memcpy(&ph, hdr->data() + sizeof eh + 4 * sizeof ph, sizeof ph);
  EXPECT_EQ(ph.p_type, PT_LOAD);
  EXPECT_EQ(ph.p_paddr, kM);
  EXPECT_EQ(ph.p_offset, kM);
  EXPECT_EQ(ph.p_memsz, 511 * kM);
  auto high = build_elfcorehdr(kNotes, {{kM, 5ull << 30, kM}}, true);
  ASSERT_FALSE(high.ok());
  EXPECT_NE(high.error().find("--elf64-core-headers"), std::string::npos) << high.error();
}

TEST(DumpRanges, NestedSystemRamIsDumpedOnce) {
  const std::vector<MemRange> map = {{0, 0x9f000, E820Type::kRam},
                                     {kM, 512 * kM, E820Type::kRam},
                                     {1024 * kM, 2048 * kM, E820Type::kReserved}};
  // virtio-mem hot-added memory nested in a device region, and a nested
  // range inside top-level RAM, which must not count twice.
  const std::vector<MemRange> nested = {{1280 * kM, 1536 * kM, E820Type::kRam},
                                        {2 * kM, 4 * kM, E820Type::kRam}};
  const auto d = dump_ranges(map, {}, 0x1f000000, nested);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[1], (DumpRange{kM, 512 * kM, kM}));
  EXPECT_EQ(d[2], (DumpRange{1280 * kM, 1536 * kM, 1280 * kM}));
}

TEST(Iomem, NestedSystemRamIsKeptApartFromTheTopLevelMap) {
  auto m = parse_iomem(
      "00100000-3fffffff : System RAM\n"
      "100000000-13fffffff : Persistent Memory\n"
      "  100000000-13fffffff : namespace0.0\n"
      "    100000000-13fffffff : dax0.0\n"
      "      100000000-13fffffff : System RAM (kmem)\n"
      "140000000-17fffffff : virtio-mem\n"
      "  140000000-147ffffff : System RAM\n");
  ASSERT_TRUE(m.ok()) << m.error();
  ASSERT_EQ(m->nested_ram.size(), 2u) << "dax kmem names its RAM \"System RAM (kmem)\"";
  EXPECT_EQ(m->nested_ram[0].start, 0x100000000u);
  EXPECT_EQ(m->nested_ram[1].start, 0x140000000u);
  EXPECT_EQ(m->ranges.size(), 2u) << "the e820 map keeps only top-level entries";
}

}  // namespace
}  // namespace charon::loader
