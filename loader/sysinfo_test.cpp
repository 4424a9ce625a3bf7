// What charon-kexec reads of the running system for the next kernel: the
// EFI facts (efi_info, the runtime map, SETUP_EFI's payload), the RSDP
// (the running kernel's boot_params first), secure_boot, the setup_data
// nodes it passes on, and what the image then carries.
#include <charon/align.h>
#include <charon/loader/image.h>
#include <charon/loader/sysinfo.h>
#include <gtest/gtest.h>

#include <cstring>

#include "testdata/test_util.h"

namespace charon::loader {
namespace {

using namespace charon::boot;
using testing::TempDir;
using testing::write_bytes;
using testing::write_file;

// A running kernel booted by OVMF: its boot_params, /sys/firmware/efi with
// a two-entry runtime map, and three setup_data nodes.
void write_efi_system(const std::filesystem::path& root, uint64_t rsdp_in_bp) {
  write_file(root / "proc/iomem", testing::qemu_iomem(512ull << 20, 0));
  std::vector<uint8_t> raw(sizeof(boot_params), 0);
  auto& bp = *reinterpret_cast<boot_params*>(raw.data());
  bp.efi_info.efi_loader_signature = EFI64_LOADER_SIGNATURE;
  bp.efi_info.efi_systab = 0x7f9ee018;
  bp.efi_info.efi_memdesc_size = 48;
  bp.efi_info.efi_memdesc_version = 1;
  bp.efi_info.efi_memmap = 0x7e000000;
  bp.efi_info.efi_memmap_size = 48 * 60;
  bp.acpi_rsdp_addr = rsdp_in_bp;
  bp.secure_boot = 3;
  write_bytes(root / "sys/kernel/boot_params/data", raw);
  const auto efi = root / "sys/firmware/efi";
  write_file(efi / "systab", "ACPI20=0x7fb7e014\nACPI=0x7fb7e000\nSMBIOS=0x7f9d0000\n");
  write_file(efi / "fw_vendor", "0x7f9ef098\n");
  write_file(efi / "runtime", "0x7ebee798\n");
  write_file(efi / "config_table", "0x7ebee118\n");
  const char* rt[][5] = {{"0x5", "0x7f000000", "0xfffffffeff000000", "0x10", "0x800000000000000f"},
                         {"0x6", "0x7f010000", "0xfffffffeff010000", "0x20", "0x800000000000000f"}};
  for (int n = 0; n < 2; ++n) {
    const auto d = efi / "runtime-map" / std::to_string(n);
    write_file(d / "type", std::string(rt[n][0]) + "\n");
    write_file(d / "phys_addr", std::string(rt[n][1]) + "\n");
    write_file(d / "virt_addr", std::string(rt[n][2]) + "\n");
    write_file(d / "num_pages", std::string(rt[n][3]) + "\n");
    write_file(d / "attribute", std::string(rt[n][4]) + "\n");
  }
  const auto sd = root / "sys/kernel/boot_params/setup_data";
  write_file(sd / "0/type", "0x4\n");  // SETUP_EFI: rebuilt, not passed on
  write_file(sd / "0/data", std::string(96, 'e'));
  write_file(sd / "1/type", "0x6\n");  // SETUP_JAILHOUSE: passed on
  write_file(sd / "1/data", "jailhouse");
  write_file(sd / "2/type", "0x3\n");  // SETUP_PCI: dropped
  write_file(sd / "2/data", "rom");
}

TEST(SystemInfo, EfiFactsComeFromBootParamsAndSysFirmwareEfi) {
  TempDir t;
  write_efi_system(t.path(), 0);
  auto sys = read_system_info(t.path().string());
  ASSERT_TRUE(sys.ok()) << sys.error();
  ASSERT_TRUE(sys->efi) << sys->efi_absent;
  EXPECT_EQ(sys->efi->info.efi_loader_signature, EFI64_LOADER_SIGNATURE);
  EXPECT_EQ(sys->efi->info.efi_systab, 0x7f9ee018u);
  EXPECT_EQ(sys->efi->setup.fw_vendor, 0x7f9ef098u);
  EXPECT_EQ(sys->efi->setup.runtime, 0x7ebee798u);
  EXPECT_EQ(sys->efi->setup.tables, 0x7ebee118u);
  EXPECT_EQ(sys->efi->setup.smbios, 0x7f9d0000u);
  ASSERT_EQ(sys->efi->runtime_map.size(), 2 * sizeof(efi_memory_desc));
  efi_memory_desc d;
  std::memcpy(&d, sys->efi->runtime_map.data() + sizeof d, sizeof d);
  EXPECT_EQ(d.type, 6u);
  EXPECT_EQ(d.phys_addr, 0x7f010000u);
  EXPECT_EQ(d.virt_addr, 0xfffffffeff010000u);
  EXPECT_EQ(d.num_pages, 0x20u);
  EXPECT_EQ(d.attribute, 0x800000000000000fu);
  EXPECT_EQ(sys->secure_boot, 3);
  // Without an RSDP in boot_params, the EFI systab's ACPI 2.0 one.
  EXPECT_EQ(sys->acpi_rsdp, 0x7fb7e014u);
  ASSERT_EQ(sys->setup_data.size(), 1u) << "only the node that describes the platform";
  EXPECT_EQ(sys->setup_data[0].type, SETUP_JAILHOUSE);
}

TEST(SystemInfo, TheRunningKernelsBootParamsRsdpComesFirst) {
  // A kernel that charon booted has no systab line of its own to trust
  // over what its loader gave it: chain A -> B -> C keeps ACPI.
  TempDir t;
  write_efi_system(t.path(), 0xf5a10);
  auto sys = read_system_info(t.path().string());
  ASSERT_TRUE(sys.ok());
  EXPECT_EQ(sys->acpi_rsdp, 0xf5a10u);
  EXPECT_EQ(sys->acpi_rsdp_from, "/sys/kernel/boot_params/data");
}

TEST(SystemInfo, NoEfiSaysWhy) {
  TempDir t;
  write_efi_system(t.path(), 0);
  std::filesystem::remove_all(t.path() / "sys/firmware/efi/runtime-map");
  auto sys = read_system_info(t.path().string());
  ASSERT_TRUE(sys.ok());
  EXPECT_FALSE(sys->efi);
  EXPECT_NE(sys->efi_absent.find("CONFIG_EFI_RUNTIME_MAP"), std::string::npos) << sys->efi_absent;
  // A BIOS boot: efi_info is empty in boot_params.
  TempDir b;
  write_file(b.path() / "proc/iomem", testing::qemu_iomem(512ull << 20, 0));
  write_bytes(b.path() / "sys/kernel/boot_params/data", std::vector<uint8_t>(4096, 0));
  auto bios = read_system_info(b.path().string());
  ASSERT_TRUE(bios.ok());
  EXPECT_FALSE(bios->efi);
  EXPECT_NE(bios->efi_absent.find("not booted by EFI"), std::string::npos) << bios->efi_absent;
}

TEST(SystemInfo, AMalformedRuntimeMapEntryIsNamed) {
  TempDir t;
  write_efi_system(t.path(), 0);
  write_file(t.path() / "sys/firmware/efi/runtime-map/1/virt_addr", "oops\n");
  auto map = read_efi_runtime_map((t.path() / "sys/firmware/efi/runtime-map").string());
  ASSERT_FALSE(map.ok());
  EXPECT_NE(map.error().find("runtime-map/1/virt_addr"), std::string::npos) << map.error();
}

LoadRequest efi_request(uint16_t extra_xlf) {
  testing::BzSpec spec;
  spec.xloadflags |= extra_xlf;
  LoadRequest r;
  r.kernel = testing::make_bzimage(spec);
  r.kernel_name = "bzImage";
  r.cmdline = "console=ttyS0";
  r.purgatory = testing::read_bytes(CHARON_REAL_PURGATORY);
  r.purgatory_name = "purgatory.ro";
  return r;
}

// The setup segment's boot_params and its setup_data types in chain order.
std::pair<boot_params, std::vector<uint32_t>> setup_of(const KexecImage& img) {
  for (const Segment& s : img.segments) {
    if (s.what.find("boot_params") != 0) continue;
    boot_params bp;
    std::memcpy(&bp, s.data.data(), sizeof bp);
    std::vector<uint32_t> types;
    for (uint64_t at = bp.hdr.setup_data; at;) {
      setup_data h;
      std::memcpy(&h, s.data.data() + (at - s.mem), sizeof h);
      types.push_back(h.type);
      at = h.next;
    }
    return {bp, types};
  }
  ADD_FAILURE() << "no boot_params segment";
  return {};
}

TEST(Image, AnEfiBootedSystemHandsEfiToAKernelWithXlfEfiKexec) {
  TempDir t;
  write_efi_system(t.path(), 0);
  auto sys = read_system_info(t.path().string());
  ASSERT_TRUE(sys.ok());
  auto img = build_kexec_image(efi_request(XLF_EFI_KEXEC), *sys);
  ASSERT_TRUE(img.ok()) << img.error();
  const auto [bp, types] = setup_of(*img);
  EXPECT_EQ(bp.efi_info.efi_loader_signature, EFI64_LOADER_SIGNATURE);
  EXPECT_EQ(bp.efi_info.efi_systab, 0x7f9ee018u);
  EXPECT_EQ(bp.efi_info.efi_memmap_size, 2 * sizeof(efi_memory_desc));
  EXPECT_EQ(bp.efi_info.efi_memdesc_size, sizeof(efi_memory_desc));
  EXPECT_EQ(bp.secure_boot, 3);
  EXPECT_EQ(bp.acpi_rsdp_addr, 0x7fb7e014u);
  EXPECT_EQ(types, (std::vector<uint32_t>{SETUP_RNG_SEED, SETUP_JAILHOUSE, SETUP_EFI}));
  // A kernel without the flag gets no EFI, and --dry-run says why.
  auto plain = build_kexec_image(efi_request(0), *sys);
  ASSERT_TRUE(plain.ok()) << plain.error();
  EXPECT_EQ(setup_of(*plain).first.efi_info.efi_loader_signature, 0u);
  bool said = false;
  for (const std::string& n : plain->notes) said |= n.find("XLF_EFI_KEXEC") != std::string::npos;
  EXPECT_TRUE(said);
}

TEST(Image, EveryLoadCarriesAFreshRngSeed) {
  TempDir t;
  write_file(t.path() / "proc/iomem", testing::qemu_iomem(512ull << 20, 0));
  auto sys = read_system_info(t.path().string());
  ASSERT_TRUE(sys.ok());
  auto a = build_kexec_image(efi_request(0), *sys);
  auto b = build_kexec_image(efi_request(0), *sys);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(setup_of(*a).second, (std::vector<uint32_t>{SETUP_RNG_SEED}));
  EXPECT_NE(std::memcmp(a->params.digest, b->params.digest, 32), 0)
      << "two loads, two seeds, two digests";
}

TEST(Image, AMemoryMapOf300EntriesLoadsThroughSetupE820Ext) {
  // 300 alternating RAM and reserved ranges, as fragmented servers have.
  std::string iomem;
  char line[96];
  uint64_t at = 1ull << 20;
  for (int i = 0; i < 300; ++i) {
    const uint64_t len = i % 2 ? (1ull << 20) : (24ull << 20);
    std::snprintf(line, sizeof line, "%09llx-%09llx : %s\n", static_cast<unsigned long long>(at),
                  static_cast<unsigned long long>(at + len - 1), i % 2 ? "Reserved" : "System RAM");
    iomem += line;
    at += len;
  }
  TempDir t;
  write_file(t.path() / "proc/iomem", iomem);
  auto sys = read_system_info(t.path().string());
  ASSERT_TRUE(sys.ok()) << sys.error();
  ASSERT_EQ(sys->memory.ranges.size(), 300u);
  LoadRequest r = efi_request(0);
  auto img = build_kexec_image(r, *sys);
  ASSERT_TRUE(img.ok()) << img.error();
  const auto [bp, types] = setup_of(*img);
  EXPECT_EQ(bp.e820_entries, 128);
  EXPECT_EQ(types, (std::vector<uint32_t>{SETUP_RNG_SEED, SETUP_E820_EXT}));
}

}  // namespace
}  // namespace charon::loader

namespace charon::loader {
namespace {

TEST(SystemInfo, FiveLevelPagingIsReadFromCpuinfosLa57Flag) {
  testing::TempDir t;
  testing::write_file(t.path() / "proc/iomem", testing::qemu_iomem(512ull << 20, 0));
  testing::write_file(t.path() / "proc/cpuinfo",
                      "processor\t: 0\nflags\t\t: fpu pae la57 pku\nbugs\t\t:\n");
  auto on = read_system_info(t.path().string());
  ASSERT_TRUE(on.ok());
  EXPECT_TRUE(on->la57);
  testing::write_file(t.path() / "proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu pae la57x\n");
  auto off = read_system_info(t.path().string());
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->la57) << "a flag is a whole word";
}

}  // namespace
}  // namespace charon::loader
