// The setup segment: boot_params with the kernel's header and the fields a
// loader owns (boot.rst), the command line, the setup_data chain, and the
// one e820 builder.
#include <charon/align.h>
#include <charon/kimage/image.h>
#include <gtest/gtest.h>
#include <synthetic_bzimage.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace charon::kimage {
namespace {

using namespace charon::boot;

struct Built {
  std::vector<uint8_t> kernel;
  ImageInput in;
  ImagePlan plan;
  std::vector<uint8_t> setup;
  Status status;
  const boot_params& bp() const { return *reinterpret_cast<const boot_params*>(setup.data()); }
};

// A plan by hand: the setup segment at `setup_at`, the initrd at 8 GiB.
Built build(std::vector<uint8_t> kernel, const std::string& cmdline,
            const std::vector<SetupDataNode>& nodes = {}, const std::vector<MemRange>& e820 = {},
            const EfiHandoff* efi = nullptr, size_t ext_room = 0, uint8_t secure_boot = 0) {
  Built b;
  b.in.secure_boot = secure_boot;
  if (efi) b.in.efi = *efi;
  b.in.e820_ext_room = ext_room;
  b.kernel = std::move(kernel);
  b.in.kernel = b.kernel.data();
  b.in.kernel_size = b.kernel.size();
  b.in.has_initrd = true;
  b.in.initrd_size = 0x1'0000'0123;
  b.in.acpi_rsdp = 0xe0000;
  b.in.setup_data = nodes.data();
  b.in.nsetup_data = nodes.size();
  EXPECT_EQ(parse_bzimage(b.kernel.data(), b.kernel.size(), Entry::k64, b.plan.kernel),
            Status::kOk);
  const uint64_t size = setup_bytes(b.in, cmdline.size());
  b.plan.setup = {0x3456'7000, 0x3456'7000 + align_up(size, kPageSize)};
  b.plan.initrd = {0x2'0000'0000, 0x3'0000'2000};
  b.setup.assign(size, 0xee);
  b.status = build_setup(b.in, b.plan, cmdline.data(), cmdline.size(),
                         e820.empty() ? nullptr : e820.data(), e820.size(), b.setup.data(),
                         b.setup.size());
  return b;
}

TEST(Setup, HeaderCopiedAndLoaderFieldsSetPerBootRst) {
  charon::testing::BzSpec spec;
  const Built b = build(charon::testing::make_bzimage(spec), "console=ttyS0");
  ASSERT_EQ(b.status, Status::kOk);
  const boot_params& bp = b.bp();
  EXPECT_EQ(+bp.hdr.header, kHdrSMagic);
  EXPECT_EQ(+bp.hdr.type_of_loader, 0xff);
  EXPECT_EQ(+bp.hdr.loadflags, LOADED_HIGH);
  EXPECT_EQ(+bp.hdr.init_size, spec.init_size);
  // Everything outside the header starts zeroed.
  EXPECT_EQ(+bp.e820_entries, 0);
  EXPECT_EQ(+bp.sentinel, 0);
  EXPECT_EQ(+bp.hdr.setup_data, 0u);
  // The command line follows boot_params.
  EXPECT_EQ(+bp.hdr.cmd_line_ptr, 0x34568000u);
  EXPECT_EQ(+bp.ext_cmd_line_ptr, 0u);
  EXPECT_STREQ(reinterpret_cast<const char*>(b.setup.data() + 4096), "console=ttyS0");
  EXPECT_EQ(b.setup.size(), 4096u + 14) << "no padding when there is no setup_data";
  // The initrd's 64-bit address and size are split (zero-page.rst 0x0c0).
  EXPECT_EQ(+bp.hdr.ramdisk_image, 0u);
  EXPECT_EQ(+bp.ext_ramdisk_image, 2u);
  EXPECT_EQ(+bp.hdr.ramdisk_size, 0x123u);
  EXPECT_EQ(+bp.ext_ramdisk_size, 1u);
  EXPECT_EQ(+bp.acpi_rsdp_addr, 0xe0000u);
}

TEST(Setup, RealKernelHeaderIsCopiedToItsEnd) {
  std::ifstream f(CHARON_KERNEL, std::ios::binary);
  if (!f) GTEST_SKIP() << CHARON_KERNEL << " not fetched (make deps)";
  const std::vector<uint8_t> k{std::istreambuf_iterator<char>(f), {}};
  const Built b = build(k, "x");
  ASSERT_EQ(b.status, Status::kOk);
  const size_t end = 0x202 + k[0x201];
  // Every header byte but the loader's own fields equals the image's.
  for (size_t off = 0x1f1; off < end; ++off) {
    if (off == 0x210 || off == 0x211 || (off >= 0x218 && off < 0x220) ||
        (off >= 0x224 && off < 0x22c) || (off >= 0x23c && off < 0x240) ||
        (off >= 0x250 && off < 0x258))
      continue;  // type_of_loader, loadflags, ramdisk, heap_end_ptr, cmd_line_ptr,
                 // hardware_subarch, setup_data
    EXPECT_EQ(b.setup[off], k[off]) << std::hex << off;
  }
}

TEST(Setup, CommandLineLongerThanCmdlineSizeIsRefused) {
  charon::testing::BzSpec spec;
  spec.cmdline_size = 255;
  const auto k = charon::testing::make_bzimage(spec);
  EXPECT_EQ(build(k, std::string(256, 'x')).status, Status::kCmdlineTooLong);
  EXPECT_EQ(build(k, std::string(255, 'x')).status, Status::kOk);
}

TEST(Setup, SetupDataNodesAreLinkedInOrderAndEightByteAligned) {
  const uint8_t a[3] = {1, 2, 3}, b[16] = {9};
  const std::vector<SetupDataNode> nodes = {{SETUP_RNG_SEED, a, 3}, {SETUP_E820_EXT, b, 16}};
  const Built s = build(charon::testing::make_bzimage({}), "abc", nodes);
  ASSERT_EQ(s.status, Status::kOk);
  const uint64_t base = s.plan.setup.start;
  // Walk the chain as the kernel does, by physical address.
  uint64_t at = s.bp().hdr.setup_data;
  std::vector<uint32_t> types;
  while (at) {
    ASSERT_EQ(at % 8, 0u);
    ASSERT_GE(at, base + 4096 + 4);
    ASSERT_LE(at + sizeof(setup_data), base + s.setup.size());
    setup_data h;
    std::memcpy(&h, s.setup.data() + (at - base), sizeof h);
    types.push_back(h.type);
    const uint8_t* payload = s.setup.data() + (at - base) + sizeof h;
    if (h.type == SETUP_RNG_SEED) {
      EXPECT_EQ(h.len, 3u);
      EXPECT_EQ(std::memcmp(payload, a, 3), 0);
    } else {
      EXPECT_EQ(h.len, 16u);
      EXPECT_EQ(std::memcmp(payload, b, 16), 0);
    }
    at = h.next;
  }
  EXPECT_EQ(types, (std::vector<uint32_t>{SETUP_RNG_SEED, SETUP_E820_EXT}));
  EXPECT_EQ(s.setup.size(), setup_bytes(s.in, 3));
  EXPECT_EQ(s.setup.size(), align_up(4096 + 4, 8) + align_up(16 + 3, 8) + (16 + 16));
}

TEST(Setup, TheE820TableHoldsTheMapInOrder) {
  const std::vector<MemRange> e820 = {{0, 0x9fc00, E820Type::kRam},
                                      {0x9fc00, 0xa0000, E820Type::kReserved},
                                      {0x100000, 0xbffe0000, E820Type::kRam},
                                      {0xbffe0000, 0xc0000000, E820Type::kAcpi}};
  const Built b = build(charon::testing::make_bzimage({}), "", {}, e820);
  ASSERT_EQ(b.status, Status::kOk);
  ASSERT_EQ(b.bp().e820_entries, 4);
  EXPECT_EQ(+b.bp().e820_table[2].addr, 0x100000u);
  EXPECT_EQ(+b.bp().e820_table[2].size, 0xbffe0000u - 0x100000u);
  EXPECT_EQ(+b.bp().e820_table[3].type, 3u);
}

// Walks the chain as the kernel does; returns each node's type and offset.
std::vector<std::pair<uint32_t, uint64_t>> chain(const Built& b) {
  std::vector<std::pair<uint32_t, uint64_t>> out;
  for (uint64_t at = b.bp().hdr.setup_data; at && out.size() < 16;) {
    const uint64_t off = at - b.plan.setup.start;
    EXPECT_LE(off + sizeof(setup_data), b.setup.size());
    setup_data h;
    std::memcpy(&h, b.setup.data() + off, sizeof h);
    out.push_back({h.type, off});
    at = h.next;
  }
  return out;
}

std::vector<MemRange> alternating(size_t n) {
  std::vector<MemRange> r;
  for (uint64_t i = 0; i < n; ++i)
    r.push_back({i * 0x2000, i * 0x2000 + 0x2000, i % 2 ? E820Type::kReserved : E820Type::kRam});
  return r;
}

TEST(Setup, MoreThan128E820EntriesGoOnInSetupE820Ext) {
  const auto map = alternating(300);
  const Built b = build(charon::testing::make_bzimage({}), "x", {}, map, nullptr, 300 - 128);
  ASSERT_EQ(b.status, Status::kOk);
  ASSERT_EQ(b.bp().e820_entries, 128);
  EXPECT_EQ(+b.bp().e820_table[127].addr, 127u * 0x2000);
  const auto c = chain(b);
  ASSERT_EQ(c.size(), 1u);
  ASSERT_EQ(c[0].first, SETUP_E820_EXT);
  setup_data h;
  std::memcpy(&h, b.setup.data() + c[0].second, sizeof h);
  ASSERT_EQ(h.len, 172u * sizeof(boot_e820_entry));
  for (size_t i = 0; i < 172; ++i) {
    boot_e820_entry e;
    std::memcpy(&e, b.setup.data() + c[0].second + sizeof h + i * sizeof e, sizeof e);
    EXPECT_EQ(e.addr, (128 + i) * 0x2000) << i;
    EXPECT_EQ(e.type, (128 + i) % 2 ? 2u : 1u) << i;
  }
}

TEST(Setup, WithoutRoomMoreThan128EntriesIsAnError) {
  EXPECT_EQ(build(charon::testing::make_bzimage({}), "x", {}, alternating(129)).status,
            Status::kTooManyE820);
  // Room for fewer than the map needs is refused too, not cut short.
  EXPECT_EQ(build(charon::testing::make_bzimage({}), "x", {}, alternating(200), nullptr, 10).status,
            Status::kTooManyE820);
  // A map that fits boot_params leaves the reserved node empty.
  const Built b = build(charon::testing::make_bzimage({}), "x", {}, alternating(100), nullptr, 50);
  ASSERT_EQ(b.status, Status::kOk);
  setup_data h;
  std::memcpy(&h, b.setup.data() + chain(b).at(0).second, sizeof h);
  EXPECT_EQ(h.len, 0u);
}

EfiHandoff sample_efi(std::vector<uint8_t>& map) {
  efi_memory_desc d[2] = {{5, 0, 0x7f000000, 0xfffffffeff000000, 16, kEfiMemoryRuntime | 0xf},
                          {6, 0, 0x7f010000, 0xfffffffeff010000, 32, kEfiMemoryRuntime | 0xf}};
  map.assign(reinterpret_cast<uint8_t*>(d), reinterpret_cast<uint8_t*>(d) + sizeof d);
  EfiHandoff e;
  e.present = true;
  e.loader_signature = EFI64_LOADER_SIGNATURE;
  e.systab = 0x1'7f9e'0018;
  e.memdesc_version = 1;
  e.runtime_map = map.data();
  e.runtime_map_size = static_cast<uint32_t>(map.size());
  e.desc_size = sizeof(efi_memory_desc);
  e.setup.fw_vendor = 0x7f9f0000;
  e.setup.runtime = 0x7f9f1000;
  e.setup.tables = 0x7f9f2000;
  e.setup.smbios = 0x7f9f3000;
  return e;
}

TEST(Setup, EfiHandoffGivesEfiInfoTheRuntimeMapAndSetupEfi) {
  std::vector<uint8_t> map;
  const EfiHandoff efi = sample_efi(map);
  charon::testing::BzSpec spec;
  spec.xloadflags |= XLF_EFI_KEXEC;
  const uint8_t seed[32] = {7};
  const Built b =
      build(charon::testing::make_bzimage(spec), "x", {{SETUP_RNG_SEED, seed, 32}}, {}, &efi);
  ASSERT_EQ(b.status, Status::kOk);
  const efi_info& ei = b.bp().efi_info;
  EXPECT_EQ(ei.efi_loader_signature, EFI64_LOADER_SIGNATURE);
  EXPECT_EQ(ei.efi_systab, 0x7f9e0018u);
  EXPECT_EQ(ei.efi_systab_hi, 1u);
  EXPECT_EQ(ei.efi_memdesc_size, 40u);
  EXPECT_EQ(ei.efi_memdesc_version, 1u);
  EXPECT_EQ(ei.efi_memmap_size, 80u);
  const uint64_t map_at = uint64_t{ei.efi_memmap_hi} << 32 | ei.efi_memmap;
  ASSERT_GE(map_at, b.plan.setup.start);
  ASSERT_LE(map_at - b.plan.setup.start + 80, b.setup.size());
  EXPECT_EQ(std::memcmp(b.setup.data() + (map_at - b.plan.setup.start), map.data(), 80), 0);
  const auto c = chain(b);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].first, SETUP_RNG_SEED);
  ASSERT_EQ(c[1].first, SETUP_EFI);
  efi_setup_data esd;
  std::memcpy(&esd, b.setup.data() + c[1].second + sizeof(setup_data), sizeof esd);
  EXPECT_EQ(esd.fw_vendor, 0x7f9f0000u);
  EXPECT_EQ(esd.tables, 0x7f9f2000u);
  EXPECT_EQ(esd.smbios, 0x7f9f3000u);
}

TEST(Setup, NoEfiHandoffToAKernelWithoutXlfEfiKexec) {
  std::vector<uint8_t> map;
  const EfiHandoff efi = sample_efi(map);
  const Built b = build(charon::testing::make_bzimage({}), "x", {}, {}, &efi);
  ASSERT_EQ(b.status, Status::kOk);
  EXPECT_EQ(b.bp().efi_info.efi_loader_signature, 0u);
  EXPECT_TRUE(chain(b).empty());
}

TEST(Setup, SetupEfiLayoutIsTheKernels) {
  // arch/x86/include/asm/setup_data.h: struct efi_setup_data.
  EXPECT_EQ(sizeof(efi_setup_data), 96u);
  EXPECT_EQ(offsetof(efi_setup_data, fw_vendor), 0u);
  EXPECT_EQ(offsetof(efi_setup_data, runtime), 8u);
  EXPECT_EQ(offsetof(efi_setup_data, tables), 16u);
  EXPECT_EQ(offsetof(efi_setup_data, smbios), 24u);
  EXPECT_EQ(offsetof(efi_setup_data, reserved), 32u);
  // include/linux/efi.h: efi_memory_desc_t.
  EXPECT_EQ(sizeof(efi_memory_desc), 40u);
  EXPECT_EQ(offsetof(efi_memory_desc, phys_addr), 8u);
  EXPECT_EQ(offsetof(efi_memory_desc, virt_addr), 16u);
  EXPECT_EQ(offsetof(efi_memory_desc, num_pages), 24u);
  EXPECT_EQ(offsetof(efi_memory_desc, attribute), 32u);
  EXPECT_EQ(SETUP_EFI, 4u);
  EXPECT_EQ(SETUP_E820_EXT, 1u);
  EXPECT_EQ(SETUP_RNG_SEED, 9u);
}

TEST(Setup, SecureBootIsCarried) {
  const Built off = build(charon::testing::make_bzimage({}), "x");
  EXPECT_EQ(off.bp().secure_boot, 0);
  const Built on = build(charon::testing::make_bzimage({}), "x", {}, {}, nullptr, 0, 3);
  EXPECT_EQ(on.bp().secure_boot, 3) << "efi_secureboot_mode_enabled";
}

TEST(Memmap, NormalizeSortsMergesTouchingRangesOfOneTypeAndRefusesOverlaps) {
  MemRange r[] = {{0x100000, 0x200000, E820Type::kRam},
                  {0, 0x9f000, E820Type::kRam},
                  {0x200000, 0x300000, E820Type::kRam},
                  {0x300000, 0x301000, E820Type::kReserved},
                  {0x400000, 0x400000, E820Type::kRam}};  // empty: dropped
  size_t n = 5;
  ASSERT_EQ(normalize_memmap(r, n), Status::kOk);
  ASSERT_EQ(n, 3u);
  EXPECT_EQ(r[0], (MemRange{0, 0x9f000, E820Type::kRam}));
  EXPECT_EQ(r[1], (MemRange{0x100000, 0x300000, E820Type::kRam}));
  EXPECT_EQ(r[2], (MemRange{0x300000, 0x301000, E820Type::kReserved}));
  MemRange o[] = {{0, 0x2000, E820Type::kRam}, {0x1000, 0x3000, E820Type::kReserved}};
  n = 2;
  EXPECT_EQ(normalize_memmap(o, n), Status::kE820Overlap);
}

}  // namespace
}  // namespace charon::kimage
