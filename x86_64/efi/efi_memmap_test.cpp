#include "efi_memmap.h"

#include <gtest/gtest.h>
#include <synthetic_bzimage.h>

#include <cstring>
#include <memory>
#include <vector>

#include "adapter.h"

namespace charon::efi {
namespace {

using boot::E820Type;
using kimage::MemRange;

// A firmware map with a descriptor size larger than the struct, as real
// firmware uses (OVMF: 48 bytes), so every stride bug shows.
struct FakeMap {
  size_t stride = 48;
  std::vector<uint8_t> bytes;
  void add(EfiMemType t, uint64_t start, uint64_t pages, uint64_t attr = 0) {
    const size_t off = bytes.size();
    bytes.resize(off + stride, 0xcc);  // garbage in the padding
    EfiMemDesc d{static_cast<uint32_t>(t), 0, start, 0, pages, attr};
    std::memcpy(bytes.data() + off, &d, sizeof d);
  }
  EfiMemMap map() const { return {bytes.data(), bytes.size(), stride}; }
};

TEST(EfiMemmap, TypesBecomeWhatTheKernelMayUseAfterExitBootServices) {
  auto type = [](EfiMemType t, uint64_t attr = 0) {
    return e820_type_of(EfiMemDesc{static_cast<uint32_t>(t), 0, 0, 0, 1, attr});
  };
  EXPECT_EQ(type(EfiMemType::kConventional), E820Type::kRam);
  EXPECT_EQ(type(EfiMemType::kBootServicesCode), E820Type::kRam);
  EXPECT_EQ(type(EfiMemType::kBootServicesData), E820Type::kRam);
  EXPECT_EQ(type(EfiMemType::kLoaderCode), E820Type::kRam);
  EXPECT_EQ(type(EfiMemType::kLoaderData), E820Type::kRam);
  EXPECT_EQ(type(EfiMemType::kRuntimeServicesCode), E820Type::kReserved);
  EXPECT_EQ(type(EfiMemType::kRuntimeServicesData), E820Type::kReserved);
  EXPECT_EQ(type(EfiMemType::kAcpiReclaim), E820Type::kAcpi);
  EXPECT_EQ(type(EfiMemType::kAcpiNvs), E820Type::kNvs);
  EXPECT_EQ(type(EfiMemType::kReserved), E820Type::kReserved);
  EXPECT_EQ(type(EfiMemType::kMmio), E820Type::kReserved);
  EXPECT_EQ(type(EfiMemType::kUnusable), E820Type::kUnusable);
  EXPECT_EQ(type(EfiMemType::kPersistent), E820Type::kPmem);
  EXPECT_EQ(type(EfiMemType::kUnaccepted), E820Type::kReserved);
  EXPECT_EQ(type(EfiMemType::kConventional, kEfiMemorySp), E820Type::kSoftReserved);
}

TEST(EfiMemmap, E820IsSortedAndMergedAcrossOutOfOrderDescriptors) {
  FakeMap m;
  m.add(EfiMemType::kBootServicesData, 0x100000, 0x10);  // RAM, after the next
  m.add(EfiMemType::kConventional, 0x0, 0xa0);           // RAM [0, 640K)
  m.add(EfiMemType::kConventional, 0x110000, 0x10);      // RAM, adjacent to the first
  m.add(EfiMemType::kRuntimeServicesData, 0x120000, 1);
  m.add(EfiMemType::kAcpiNvs, 0x121000, 2);
  m.add(EfiMemType::kLoaderData, 0x123000, 0, 0);  // empty: skipped
  MemRange r[8];
  size_t n = 0;
  ASSERT_EQ(memmap_ranges(m.map(), r, 8, n), kimage::Status::kOk);
  ASSERT_EQ(n, 4u);
  EXPECT_EQ(r[0], (MemRange{0, 0xa0000, E820Type::kRam}));
  EXPECT_EQ(r[1], (MemRange{0x100000, 0x120000, E820Type::kRam}));
  EXPECT_EQ(r[2], (MemRange{0x120000, 0x121000, E820Type::kReserved}));
  EXPECT_EQ(r[3], (MemRange{0x121000, 0x123000, E820Type::kNvs}));
}

TEST(EfiMemmap, MoreRunsThanTheScratchHoldsIsAnError) {
  FakeMap m;
  for (int i = 0; i < 10; ++i)  // alternate types: nothing merges
    m.add(i % 2 ? EfiMemType::kConventional : EfiMemType::kAcpiNvs, 0x100000ull + i * 0x1000, 1);
  MemRange r[8];
  size_t n = 0;
  EXPECT_EQ(memmap_ranges(m.map(), r, 8, n), kimage::Status::kTooManyRanges);
}

TEST(EfiMemmap, MoreThanTheZeroPageHoldsIsAnErrorOfTheE820Builder) {
  FakeMap m;
  for (int i = 0; i < 130; ++i)
    m.add(i % 2 ? EfiMemType::kConventional : EfiMemType::kAcpiNvs, 0x100000ull + i * 0x1000, 1);
  MemRange r[256];
  std::vector<uint8_t> setup(4096);
  kimage::ImagePlan plan{};
  plan.setup = {0x100000, 0x101000};
  EXPECT_EQ(finish_boot_params(m.map(), 0x7f000000, 0x7e000000, 1, plan, r, 256, setup.data(),
                               setup.size()),
            kimage::Status::kTooManyE820)
      << "a setup segment without SETUP_E820_EXT room";
}

TEST(EfiMemmap, DescriptorSizeBelowTheStructIsRejected) {
  FakeMap m;
  m.stride = 40;
  m.add(EfiMemType::kConventional, 0, 1);
  EfiMemMap map = m.map();
  map.desc_size = 24;
  MemRange r[8];
  size_t n = 0;
  EXPECT_EQ(memmap_ranges(map, r, 8, n), kimage::Status::kBadMemoryMap);
}

TEST(EfiMemmap, FinalMapFillsE820AndEfiInfoWithEl64) {
  FakeMap m;
  m.add(EfiMemType::kConventional, 0x0, 0xa0);
  m.add(EfiMemType::kRuntimeServicesCode, 0x7f000000, 0x10);
  MemRange r[8];
  std::vector<uint8_t> setup(4096);
  kimage::ImagePlan plan{};
  plan.setup = {0x100000, 0x101000};
  ASSERT_EQ(finish_boot_params(m.map(), 0x1'7f00'0000, 0x1'7e00'0000, 1, plan, r, 8, setup.data(),
                               setup.size()),
            kimage::Status::kOk);
  const auto& bp = *reinterpret_cast<const boot::boot_params*>(setup.data());
  EXPECT_EQ(bp.e820_entries, 2);
  EXPECT_EQ(bp.efi_info.efi_loader_signature, boot::EFI64_LOADER_SIGNATURE);
  EXPECT_EQ(bp.efi_info.efi_systab, 0x7f000000u);
  EXPECT_EQ(bp.efi_info.efi_systab_hi, 1u);
  EXPECT_EQ(bp.efi_info.efi_memmap, 0x7e000000u);
  EXPECT_EQ(bp.efi_info.efi_memmap_hi, 1u);
  EXPECT_EQ(bp.efi_info.efi_memmap_size, 2u * 48);
  EXPECT_EQ(bp.efi_info.efi_memdesc_size, 48u);
  EXPECT_EQ(bp.efi_info.efi_memdesc_version, 1u);
}

TEST(EfiMemmap, FreeRangesAreConventionalOnlyAboveTheFloorAndMerged) {
  FakeMap m;
  m.add(EfiMemType::kConventional, 0x0, 0xa0);  // below the floor
  m.add(EfiMemType::kConventional, 0x300000, 0x100);
  m.add(EfiMemType::kConventional, 0x200000, 0x100);  // merges with the one above
  m.add(EfiMemType::kBootServicesData, 0x400000, 0x100);
  m.add(EfiMemType::kConventional, 0x800000, 0x100, kEfiMemorySp);
  m.add(EfiMemType::kConventional, 0xf0000, 0x20);  // straddles the floor
  kimage::FreeList f;
  ASSERT_EQ(free_list(m.map(), 0x100000, f), kimage::Status::kOk);
  ASSERT_EQ(f.count(), 2u);
  EXPECT_EQ(f[0].start, 0x100000u);
  EXPECT_EQ(f[0].end, 0x110000u);
  EXPECT_EQ(f[1].start, 0x200000u);
  EXPECT_EQ(f[1].end, 0x400000u);
}

}  // namespace
}  // namespace charon::efi

namespace charon::efi {
namespace {

TEST(EfiMemmap, AFinalMapOf300EntriesGoesOnInSetupE820Ext) {
  // 300 alternating conventional and ACPI NVS runs, nothing merges; enough
  // RAM for a kernel in the first one.
  FakeMap m;
  m.add(EfiMemType::kConventional, 0x100000, 0x8000);  // 128 MiB
  uint64_t at = 0x8100000;
  for (int i = 1; i < 300; ++i, at += 0x1000)
    m.add(i % 2 ? EfiMemType::kAcpiNvs : EfiMemType::kConventional, at, 1);
  auto cfg = std::make_unique<Config>();
  std::memset(cfg.get(), 0, sizeof *cfg);
  std::strcpy(cfg->kernel, "k");
  cfg->protocol = Protocol::k64;
  const std::vector<uint8_t> kernel = charon::testing::make_bzimage({});
  Facts f{};
  f.cfg = cfg.get();
  f.kernel = kernel.data();
  f.kernel_size = kernel.size();
  const EfiMemMap map = m.map();
  f.map = &map;
  f.purgatory_mem = 0x20000;
  f.e820_ext_room = e820_ext_room_for(map.count());
  EXPECT_EQ(f.e820_ext_room, 300u - 128);
  auto free = std::make_unique<kimage::FreeList>();
  auto built = std::make_unique<Built>();
  kimage::ImageInput sizing{};
  sizing.e820_ext_room = f.e820_ext_room;
  std::vector<uint8_t> setup(kimage::setup_bytes(sizing, 0));
  charon_params p{};
  p.magic = CHARON_PARAMS_MAGIC;
  p.version = CHARON_PARAMS_VERSION;
  p.size = sizeof p;
  ASSERT_EQ(build_image(f, *free, setup.data(), setup.size(), p, *built), kimage::Status::kOk);
  MemRange scratch[512];
  ASSERT_EQ(finish_boot_params(map, 0x7f000000, 0x7e000000, 1, built->plan, scratch, 512,
                               setup.data(), setup.size()),
            kimage::Status::kOk);
  const auto& bp = *reinterpret_cast<const boot::boot_params*>(setup.data());
  EXPECT_EQ(bp.e820_entries, 128);
  boot::setup_data h;
  ASSERT_NE(bp.hdr.setup_data, 0u);
  std::memcpy(&h, setup.data() + (bp.hdr.setup_data - built->plan.setup.start), sizeof h);
  EXPECT_EQ(h.type, boot::SETUP_E820_EXT);
  EXPECT_EQ(h.len, (300u - 128) * sizeof(boot::boot_e820_entry));
}

}  // namespace
}  // namespace charon::efi
