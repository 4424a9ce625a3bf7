// The whole image for a synthetic kernel and the real purgatory: what
// boot_params says, what the parameter block says, and what the digest
// covers.
#include <charon/align.h>
#include <charon/loader/elfcore.h>
#include <charon/loader/image.h>
#include <charon/loader/purgatory.h>
#include <charon/sha256.h>
#include <elf.h>
#include <gtest/gtest.h>
#include <synthetic_bzimage.h>

#include <algorithm>
#include <cstring>

#include "testdata/test_util.h"

namespace charon::loader {
namespace {

using namespace charon::boot;

constexpr uint64_t kM = 1ull << 20;
constexpr uint64_t kG = 1ull << 30;

LoadRequest request(EntryMode mode, testing::BzSpec spec = {}) {
  LoadRequest r;
  r.kernel = testing::make_bzimage(spec);
  r.kernel_name = "bzImage";
  r.initrd = std::vector<uint8_t>(3 * kM + 123, 0x5a);
  r.initrd_name = "initrd";
  r.cmdline = "console=ttyS0 root=/dev/ram0";
  r.purgatory = testing::read_bytes(CHARON_REAL_PURGATORY);
  r.purgatory_name = "purgatory.ro";
  r.mode = mode;
  return r;
}

SystemInfo system(uint64_t below, uint64_t above, const std::string& crash = "") {
  SystemInfo s;
  s.memory = testing::qemu_map(below, above, crash);
  s.acpi_rsdp = 0xf5a30;
  // Two CPUs' crash notes and vmcoreinfo, as read_crash_info finds them.
  s.crash = CrashInfo{{{0x3fc00000, 336}, {0x3fc01000, 336}}, {0x253a000, 0x1024}, {}};
  return s;
}

const Segment& seg(const KexecImage& img, const char* what) {
  for (const Segment& s : img.segments)
    if (s.what == what) return s;
  ADD_FAILURE() << "no segment " << what;
  return img.segments.front();
}

boot_params zero_page(const KexecImage& img) {
  boot_params bp;
  std::memcpy(&bp, seg(img, "boot_params + cmdline").data.data(), sizeof(bp));
  return bp;
}

TEST(Image, BootParamsFollowTheProtocolFor64BitAbove4G) {
  auto req = request(EntryMode::k64);
  const auto sys = system(3 * kG - kM, 3 * kG);
  auto img = build_kexec_image(req, sys);
  ASSERT_TRUE(img.ok()) << img.error();
  const boot_params bp = zero_page(*img);
  const Segment& setup = seg(*img, "boot_params + cmdline");
  const Segment& initrd = seg(*img, "initrd");
  // The setup header is the image's, from 0x1f1 to 0x202 + byte[0x201].
  const size_t end = 0x202 + req.kernel[0x201];
  setup_header from_file;
  std::memcpy(&from_file, req.kernel.data() + 0x1f1, sizeof(from_file));
  EXPECT_EQ(+bp.hdr.version, +from_file.version);
  EXPECT_EQ(+bp.hdr.init_size, +from_file.init_size);
  ASSERT_EQ(end, 0x26cu);
  // Byte for byte up to the fields the loader fills in (0x210 on).
  EXPECT_EQ(std::memcmp(reinterpret_cast<const uint8_t*>(&bp) + 0x1f1, req.kernel.data() + 0x1f1,
                        0x210 - 0x1f1),
            0);
  EXPECT_EQ(std::memcmp(reinterpret_cast<const uint8_t*>(&bp) + 0x22c, req.kernel.data() + 0x22c,
                        0x250 - 0x22c),
            0);
  EXPECT_EQ(+bp.hdr.type_of_loader, 0xff);
  EXPECT_EQ(bp.hdr.loadflags & LOADED_HIGH, LOADED_HIGH);
  // Command line right after boot_params, NUL-terminated, below 4 GiB.
  EXPECT_EQ(+bp.hdr.cmd_line_ptr, setup.mem + sizeof(boot_params));
  EXPECT_EQ(+bp.ext_cmd_line_ptr, 0u);
  EXPECT_STREQ(reinterpret_cast<const char*>(setup.data.data() + sizeof(boot_params)),
               req.cmdline.c_str());
  // The initrd sits above 4 GiB, so the ext_ fields carry the high half.
  ASSERT_GE(initrd.mem, k4GiB);
  EXPECT_EQ(+bp.hdr.ramdisk_image, static_cast<uint32_t>(initrd.mem));
  EXPECT_EQ(+bp.ext_ramdisk_image, static_cast<uint32_t>(initrd.mem >> 32));
  EXPECT_EQ(+bp.hdr.ramdisk_size, req.initrd->size());
  EXPECT_EQ(+bp.ext_ramdisk_size, 0u);
  EXPECT_EQ(+bp.acpi_rsdp_addr, 0xf5a30u);
  ASSERT_EQ(+bp.e820_entries, sys.memory.ranges.size());
  for (size_t i = 0; i < sys.memory.ranges.size(); ++i) {
    const uint64_t a = bp.e820_table[i].addr, sz = bp.e820_table[i].size;
    EXPECT_EQ(a, sys.memory.ranges[i].start);
    EXPECT_EQ(a + sz, sys.memory.ranges[i].end);
  }
}

TEST(Image, ParamsDescribeA64BitLinuxHandoff) {
  auto img = build_kexec_image(request(EntryMode::k64), system(3 * kG - kM, 3 * kG));
  ASSERT_TRUE(img.ok()) << img.error();
  const charon_params& p = img->params;
  const Segment& kernel = seg(*img, "kernel");
  EXPECT_EQ(p.handoff, CHARON_HANDOFF_LINUX64);
  EXPECT_EQ(p.kernel_entry, kernel.mem + 0x200);
  EXPECT_GE(kernel.mem, k4GiB);
  EXPECT_EQ(p.boot_params, seg(*img, "boot_params + cmdline").mem);
  // The machine's RAM, typed: not [0, top of RAM) any more.
  EXPECT_EQ(p.idmap_limit, 0u);
  EXPECT_EQ(p.memory[0].start, 0x1000u);
  EXPECT_EQ(p.memory[0].len, 0x9fc00u - 0x1000);
  EXPECT_EQ(p.memory[1].start, 0x100000u);
  EXPECT_EQ(p.memory[1].len, 3 * kG - kM);
  EXPECT_EQ(p.memory[2].start, k4GiB);
  EXPECT_EQ(p.memory[2].len, 3 * kG);
  EXPECT_EQ(p.memory[3].len, 0u);
  EXPECT_EQ(p.map_ranges[0].start, kernel.mem);
  EXPECT_EQ(p.map_ranges[0].len, img->kernel.init_size);
  EXPECT_EQ(p.scratch_base, seg(*img, "page-table scratch").mem);
  EXPECT_EQ(p.scratch_size, seg(*img, "page-table scratch").memsz);
  EXPECT_LT(p.scratch_base + p.scratch_size, k4GiB + 1);
  EXPECT_EQ(p.regs64.rsi, p.boot_params);
  EXPECT_EQ(p.panic_kernel, 0);
  const Segment& purg = seg(*img, "purgatory");
  EXPECT_LE(purg.mem + purg.memsz, k2GiB);
  EXPECT_GE(img->entry, purg.mem);
  EXPECT_LT(img->entry, purg.mem + purg.memsz);
}

TEST(Image, ThePurgatorySegmentCarriesThePatchedBlock) {
  auto req = request(EntryMode::k64);
  auto img = build_kexec_image(req, system(3 * kG - kM, 3 * kG));
  ASSERT_TRUE(img.ok()) << img.error();
  const Segment& purg = seg(*img, "purgatory");
  auto elf = RelocatableElf::parse(req.purgatory);
  ASSERT_TRUE(elf.ok());
  ASSERT_TRUE(elf->relocate(purg.mem).ok());
  const uint64_t at = elf->find_symbol(kParamsSymbol)->address - purg.mem;
  charon_params in_segment;
  std::memcpy(&in_segment, purg.data.data() + at, sizeof(in_segment));
  EXPECT_EQ(std::memcmp(&in_segment, &img->params, sizeof(in_segment)), 0);
  EXPECT_TRUE(check_params_identity(in_segment).ok());
}

TEST(Image, DigestCoversKernelInitrdAndBootParamsButNotThePurgatory) {
  auto img = build_kexec_image(request(EntryMode::k64), system(3 * kG - kM, 3 * kG));
  ASSERT_TRUE(img.ok()) << img.error();
  const charon_params& p = img->params;
  Sha256 s;
  sha256_init(s, Sha256Impl::Scalar);
  size_t n = 0;
  for (const charon_region& r : p.regions) {
    if (!r.len) continue;
    ++n;
    const Segment* hit = nullptr;
    for (const Segment& sg : img->segments)
      if (sg.mem == r.start) hit = &sg;
    ASSERT_NE(hit, nullptr) << "region at 0x" << std::hex << r.start << " is no segment";
    EXPECT_NE(hit->what, "purgatory");
    EXPECT_EQ(r.len, hit->data.size());
    sha256_update(s, hit->data.data(), hit->data.size());
  }
  EXPECT_EQ(n, 3u);
  uint8_t want[32];
  sha256_final(s, want);
  EXPECT_EQ(std::memcmp(want, p.digest, 32), 0);
}

TEST(Image, Protocol32PutsEverythingBelow4GAndEntersAtTheLoadAddress) {
  auto img = build_kexec_image(request(EntryMode::k32), system(3 * kG - kM, 3 * kG));
  ASSERT_TRUE(img.ok()) << img.error();
  for (const Segment& s : img->segments) EXPECT_LE(s.mem + s.memsz, k4GiB) << s.what;
  const charon_params& p = img->params;
  EXPECT_EQ(p.handoff, CHARON_HANDOFF_LINUX32);
  EXPECT_EQ(p.kernel_entry, seg(*img, "kernel").mem);
  EXPECT_EQ(p.idmap_limit, 0u);
  EXPECT_EQ(p.memory[2].start + p.memory[2].len, k4GiB + 3 * kG);
  EXPECT_EQ(p.regs32.esi, p.boot_params);
  const boot_params bp = zero_page(*img);
  EXPECT_EQ(+bp.ext_ramdisk_image, 0u);
}

TEST(Image, ConsoleOptionsReachTheBlock) {
  auto req = request(EntryMode::k64);
  req.console = {true, 0x2f8, 57600, true, 0xe9};
  auto img = build_kexec_image(req, system(512 * kM, 0));
  ASSERT_TRUE(img.ok()) << img.error();
  EXPECT_EQ(img->params.console_serial, 1);
  EXPECT_EQ(img->params.serial_base, 0x2f8);
  EXPECT_EQ(img->params.serial_baud, 57600u);
  EXPECT_EQ(img->params.console_debugcon, 1);
}

TEST(Image, CrashLoadStaysInsideTheCrashReservation) {
  auto req = request(EntryMode::k64);
  req.on_crash = true;
  const auto sys = system(3 * kG - kM, 3 * kG, "  20000000-2fffffff : Crash kernel\n");
  auto img = build_kexec_image(req, sys);
  ASSERT_TRUE(img.ok()) << img.error();
  for (const Segment& s : img->segments) {
    EXPECT_GE(s.mem, 0x20000000u) << s.what;
    EXPECT_LE(s.mem + s.memsz, 0x30000000u) << s.what;
  }
  EXPECT_EQ(img->params.panic_kernel, 1);
  // The crash kernel's e820 offers it only its reservation (and low memory).
  const boot_params bp = zero_page(*img);
  for (size_t i = 0; i < bp.e820_entries; ++i) {
    if (bp.e820_table[i].type != 1) continue;
    const uint64_t a = bp.e820_table[i].addr, e = a + bp.e820_table[i].size;
    EXPECT_TRUE(e <= 640 * 1024 || (a >= 0x20000000 && e <= 0x30000000))
        << std::hex << a << "-" << e;
  }
}

constexpr const char* kCrash256M = "  20000000-2fffffff : Crash kernel\n";

std::string cmdline_of(const KexecImage& img) {
  const Segment& s = seg(img, "boot_params + cmdline");
  return std::string(reinterpret_cast<const char*>(s.data.data()) + sizeof(boot_params));
}

TEST(Image, CrashLoadBacksUpLowMemoryIntoAZeroFilledAreaTheDigestCovers) {
  auto req = request(EntryMode::k64);
  req.on_crash = true;
  auto img = build_kexec_image(req, system(3 * kG - kM, 0, kCrash256M));
  ASSERT_TRUE(img.ok()) << img.error();
  const Segment& backup = seg(*img, "backup of [0, 640 KiB)");
  EXPECT_EQ(img->params.backup_dst, backup.mem);
  EXPECT_EQ(img->params.backup_src, 0u);
  EXPECT_EQ(img->params.backup_size, 640u * 1024);
  EXPECT_GE(backup.memsz, 640u * 1024);
  // Loaded as zeros and hashed as zeros: the whole 640 KiB is a region.
  ASSERT_EQ(backup.data.size(), 640u * 1024);
  EXPECT_TRUE(std::all_of(backup.data.begin(), backup.data.end(), [](uint8_t b) { return !b; }));
  bool covered = false;
  for (const charon_region& r : img->params.regions)
    covered |= r.start == backup.mem && r.len == 640u * 1024;
  EXPECT_TRUE(covered);
  // So is the elfcorehdr, byte for byte.
  const Segment& hdr = seg(*img, "elfcorehdr");
  bool hdr_covered = false;
  for (const charon_region& r : img->params.regions)
    hdr_covered |= r.start == hdr.mem && r.len == hdr.data.size();
  EXPECT_TRUE(hdr_covered);
  // A normal load has no backup at all.
  req.on_crash = false;
  auto normal = build_kexec_image(req, system(3 * kG - kM, 0, kCrash256M));
  ASSERT_TRUE(normal.ok()) << normal.error();
  EXPECT_EQ(normal->params.backup_dst, 0u);
  EXPECT_EQ(cmdline_of(*normal).find("elfcorehdr="), std::string::npos);
}

TEST(Image, CrashCommandLineKeepsTheUsersWordsAndAddsTheRsdpAndElfcorehdrInKiB) {
  auto req = request(EntryMode::k64);
  req.on_crash = true;
  auto img = build_kexec_image(req, system(3 * kG - kM, 0, kCrash256M));
  ASSERT_TRUE(img.ok()) << img.error();
  const Segment& hdr = seg(*img, "elfcorehdr");
  // kexec-tools adds acpi_rsdp= as well: a crash kernel on an EFI machine
  // gets no EFI and cannot find the RSDP by itself.
  EXPECT_EQ(cmdline_of(*img),
            req.cmdline + " acpi_rsdp=0xf5a30 elfcorehdr=" + std::to_string(hdr.mem / 1024) + "K");
  EXPECT_EQ(hdr.mem % 1024, 0u);
  // Without a known RSDP, no acpi_rsdp=.
  SystemInfo no_rsdp = system(3 * kG - kM, 0, kCrash256M);
  no_rsdp.acpi_rsdp = 0;
  auto plain = build_kexec_image(req, no_rsdp);
  ASSERT_TRUE(plain.ok()) << plain.error();
  EXPECT_EQ(cmdline_of(*plain).find("acpi_rsdp="), std::string::npos);
}

TEST(Image, CrashHeaderReadsLowMemoryFromTheBackupAndLeavesTheReservationOut) {
  auto req = request(EntryMode::k64);
  req.on_crash = true;
  const auto sys = system(3 * kG - kM, 3 * kG, kCrash256M);
  auto img = build_kexec_image(req, sys);
  ASSERT_TRUE(img.ok()) << img.error();
  const Segment& hdr = seg(*img, "elfcorehdr");
  const Segment& backup = seg(*img, "backup of [0, 640 KiB)");
  Elf64_Ehdr eh;
  ASSERT_GE(hdr.data.size(), sizeof(eh));
  std::memcpy(&eh, hdr.data.data(), sizeof(eh));
  ASSERT_EQ(hdr.data.size(), sizeof(eh) + eh.e_phnum * sizeof(Elf64_Phdr));
  int notes = 0;
  std::vector<Elf64_Phdr> loads;
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, hdr.data.data() + eh.e_phoff + i * sizeof(ph), sizeof(ph));
    if (ph.p_type == PT_NOTE) ++notes;
    if (ph.p_type == PT_LOAD) loads.push_back(ph);
  }
  EXPECT_EQ(notes, 3);  // two CPUs and vmcoreinfo
  ASSERT_EQ(loads.size(), 4u);
  EXPECT_EQ(loads[0].p_paddr, 0u);
  EXPECT_EQ(loads[0].p_offset, backup.mem);
  EXPECT_EQ(loads[0].p_memsz, 640u * 1024);
  // [1 MiB, 3 GiB) without [512 MiB, 768 MiB), then 3 GiB above 4 GiB.
  EXPECT_EQ(loads[1].p_paddr, kM);
  EXPECT_EQ(loads[1].p_paddr + loads[1].p_memsz, 0x20000000u);
  EXPECT_EQ(loads[2].p_paddr, 0x30000000u);
  EXPECT_EQ(loads[2].p_paddr + loads[2].p_memsz, 3 * kG);
  EXPECT_EQ(loads[3].p_paddr, 4 * kG);
  for (size_t i = 1; i < loads.size(); ++i) EXPECT_EQ(loads[i].p_offset, loads[i].p_paddr);
}

TEST(Image, CrashKernelRamExcludesTheBackupAndTheHeader) {
  auto req = request(EntryMode::k64);
  req.on_crash = true;
  auto img = build_kexec_image(req, system(3 * kG - kM, 0, kCrash256M));
  ASSERT_TRUE(img.ok()) << img.error();
  const boot_params bp = zero_page(*img);
  for (const char* what : {"backup of [0, 640 KiB)", "elfcorehdr"}) {
    const Segment& s = seg(*img, what);
    for (size_t i = 0; i < bp.e820_entries; ++i) {
      const auto& e = bp.e820_table[i];
      if (e.type != 1) continue;
      EXPECT_TRUE(e.addr + e.size <= s.mem || e.addr >= s.mem + s.memsz)
          << what << " overlaps RAM " << std::hex << e.addr << "+" << e.size;
    }
  }
  // The rest of the reservation is still the crash kernel's RAM.
  uint64_t ram = 0;
  for (size_t i = 0; i < bp.e820_entries; ++i)
    if (bp.e820_table[i].type == 1 && bp.e820_table[i].addr >= kM) ram += bp.e820_table[i].size;
  EXPECT_EQ(
      ram, 0x10000000u - seg(*img, "backup of [0, 640 KiB)").memsz - seg(*img, "elfcorehdr").memsz);
}

TEST(Image, CrashLoadWithoutCrashNotesIsAClearError) {
  auto req = request(EntryMode::k64);
  req.on_crash = true;
  auto sys = system(3 * kG - kM, 0, kCrash256M);
  sys.crash.reset();
  sys.crash_error = "/sys/kernel/vmcoreinfo: cannot read";
  auto img = build_kexec_image(req, sys);
  ASSERT_FALSE(img.ok());
  EXPECT_EQ(img.error(), "-p: /sys/kernel/vmcoreinfo: cannot read");
}

TEST(Image, CrashReservationTooSmallForTheSegmentsIsAClearError) {
  auto req = request(EntryMode::k64);
  req.on_crash = true;
  // 16 MiB: less than the synthetic kernel's init_size plus the initrd.
  auto img = build_kexec_image(req, system(3 * kG - kM, 0, "  20000000-20ffffff : Crash kernel\n"));
  ASSERT_FALSE(img.ok());
  EXPECT_NE(img.error().find("crashkernel= reservation is too small: 16384 KiB usable"),
            std::string::npos)
      << img.error();
}

TEST(Image, CrashKernelThatDoesNotFitTheReservationIsAClearError) {
  // Big enough in bytes, but the 32-bit protocol needs everything below
  // 4 GiB and the reservation lies above it.
  auto req = request(EntryMode::k32);
  req.on_crash = true;
  auto img =
      build_kexec_image(req, system(3 * kG - kM, 3 * kG, "  100000000-10fffffff : Crash kernel\n"));
  ASSERT_FALSE(img.ok());
  EXPECT_NE(img.error().find("do not fit) in the crash kernel reservation"), std::string::npos)
      << img.error();
}

TEST(Image, CrashLoadFor32BitKeepsEveryCrashSegmentBelow4G) {
  auto req = request(EntryMode::k32);
  req.on_crash = true;
  auto img = build_kexec_image(req, system(3 * kG - kM, 3 * kG, kCrash256M));
  ASSERT_TRUE(img.ok()) << img.error();
  for (const Segment& s : img->segments) EXPECT_LE(s.mem + s.memsz, 4 * kG) << s.what;
  EXPECT_EQ(img->params.handoff, CHARON_HANDOFF_LINUX32);
  EXPECT_NE(img->params.backup_dst, 0u);
}

TEST(Image, CrashReservationAbove2GTakesCharonsPurgatoryButNotOneWith32SRelocations) {
  // 6 GiB guest: crashkernel= lands just below 3 GiB. charon's purgatory
  // has PC-relative relocations only, so it may sit there.
  auto req = request(EntryMode::k64);
  req.on_crash = true;
  const auto sys = system(3 * kG - kM, 3 * kG, "  b6000000-bfffffff : Crash kernel\n");
  auto img = build_kexec_image(req, sys);
  ASSERT_TRUE(img.ok()) << img.error();
  EXPECT_GE(seg(*img, "purgatory").mem, 0xb6000000u);
  // The relocator's test purgatory has R_X86_64_32S: it must stay below 2 GiB.
  req.purgatory = testing::read_bytes(CHARON_FAKE_PURGATORY);
  auto fake = build_kexec_image(req, sys);
  ASSERT_FALSE(fake.ok());
  EXPECT_NE(fake.error().find("no room for the purgatory"), std::string::npos) << fake.error();
}

TEST(Image, CrashLoadWithoutAReservationIsAClearError) {
  auto req = request(EntryMode::k64);
  req.on_crash = true;
  auto img = build_kexec_image(req, system(3 * kG - kM, 0));
  ASSERT_FALSE(img.ok());
  EXPECT_NE(img.error().find("crashkernel="), std::string::npos) << img.error();
}

TEST(Image, TooLongCommandLineIsRefused) {
  auto req = request(EntryMode::k64);
  req.cmdline = std::string(3000, 'x');
  auto img = build_kexec_image(req, system(512 * kM, 0));
  ASSERT_FALSE(img.ok());
  EXPECT_NE(img.error().find("cmdline_size allows 2047"), std::string::npos) << img.error();
}

TEST(Image, KernelErrorsNameTheFile) {
  auto req = request(EntryMode::k64);
  req.kernel.resize(0x100);
  auto img = build_kexec_image(req, system(512 * kM, 0));
  ASSERT_FALSE(img.ok());
  EXPECT_EQ(img.error().rfind("bzImage: ", 0), 0u) << img.error();
}

TEST(Image, APurgatoryWhoseBlockHasTheWrongMagicIsRefused) {
  auto req = request(EntryMode::k64);
  // The block's magic, "CHRN", is in .data (and in code that checks it):
  // spoil every copy.
  const uint8_t magic[4] = {'C', 'H', 'R', 'N'};
  int spoiled = 0;
  for (auto it = req.purgatory.begin();
       (it = std::search(it, req.purgatory.end(), magic, magic + 4)) != req.purgatory.end();
       ++spoiled)
    *it = 'X';
  ASSERT_GT(spoiled, 0);
  auto img = build_kexec_image(req, system(512 * kM, 0));
  ASSERT_FALSE(img.ok());
  EXPECT_NE(img.error().find("purgatory.ro: purgatory: charon_params magic"), std::string::npos)
      << img.error();
}

TEST(Image, APurgatoryThatIsNotAnElfIsRefused) {
  auto req = request(EntryMode::k64);
  req.purgatory.assign(4096, 0);
  auto img = build_kexec_image(req, system(512 * kM, 0));
  ASSERT_FALSE(img.ok());
  EXPECT_NE(img.error().find("not an ELF"), std::string::npos) << img.error();
}

TEST(Image, ScratchBytesGrowWithWhatIsMapped) {
  const uint64_t small = scratch_bytes_for({{kM, 4 * kG}}, {{0, kM}});
  const uint64_t big =
      scratch_bytes_for({{kM, 64 * kG}}, {{0, kM}, {1ull << 45, (1ull << 45) + 4096}});
  EXPECT_GT(small, 7 * kPageSize);
  EXPECT_GT(big, small);
  EXPECT_EQ(small % kPageSize, 0u);
}

}  // namespace
}  // namespace charon::loader
