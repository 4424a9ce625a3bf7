// One core, two adapters: the same machine and the same files given to
// charon-kexec's adapter (a /sys-style memory map, kexec_load segments)
// and to charon.efi's (an EFI memory map, the trampoline's segments) must
// give the same segments, the same boot_params and the same parameter
// block. Only what each world adds on purpose may differ: efi_info exists
// only under EFI.
#include <charon/align.h>
#include <charon/loader/image.h>
#include <gtest/gtest.h>
#include <synthetic_bzimage.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

#include "adapter.h"

namespace charon::efi {
namespace {

using boot::E820Type;
using kimage::MemRange;

struct Machine {
  MemRange range;
  EfiMemType efi;
};

// A QEMU-like machine with 6 GiB: RAM around the PCI hole and above 4 GiB.
const Machine kMachine[] = {
    {{0x0, 0x9f000, E820Type::kRam}, EfiMemType::kConventional},
    {{0x9f000, 0xa0000, E820Type::kReserved}, EfiMemType::kReserved},
    {{0x100000, 0xbffe0000, E820Type::kRam}, EfiMemType::kConventional},
    {{0xbffe0000, 0xc0000000, E820Type::kAcpi}, EfiMemType::kAcpiReclaim},
    {{0xfeffc000, 0xff000000, E820Type::kReserved}, EfiMemType::kReserved},
    {{0x100000000, 0x1c0000000, E820Type::kRam}, EfiMemType::kConventional},
};

std::vector<uint8_t> read_file(const char* path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

class AdaptersAgree : public ::testing::TestWithParam<bool> {};

TEST_P(AdaptersAgree, SameMachineAndFilesGiveTheSameSegmentsBootParamsAndBlock) {
  const bool is32 = GetParam();
  const std::vector<uint8_t> kernel = charon::testing::make_bzimage({});
  const std::vector<uint8_t> initrd(3 * k1MiB + 123, 0x5a);
  const char* cmdline = "console=ttyS0 root=/dev/ram0";
  const uint64_t rsdp = 0xf5a00;

  // ---- charon-kexec's world
  loader::LoadRequest req;
  req.kernel = kernel;
  req.kernel_name = "bzImage";
  req.initrd = initrd;
  req.initrd_name = "initrd";
  req.cmdline = cmdline;
  req.purgatory = read_file(CHARON_REAL_PURGATORY);
  ASSERT_FALSE(req.purgatory.empty()) << CHARON_REAL_PURGATORY;
  req.purgatory_name = "purgatory.ro";
  req.mode = is32 ? kimage::Entry::k32 : kimage::Entry::k64;
  req.console.serial = true;
  std::vector<uint8_t> seed(loader::kRngSeedBytes);
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(i * 37 + 1);
  req.rng_seed = seed;
  loader::SystemInfo sys;
  for (const Machine& m : kMachine) sys.memory.ranges.push_back(m.range);
  sys.acpi_rsdp = rsdp;
  auto hosted = loader::build_kexec_image(req, sys);
  ASSERT_TRUE(hosted.ok()) << hosted.error();

  // ---- charon.efi's world: the same machine as the firmware describes it
  std::vector<uint8_t> map_bytes;
  for (const Machine& m : kMachine) {
    const EfiMemDesc d{static_cast<uint32_t>(m.efi),
                       0,
                       m.range.start,
                       0,
                       (m.range.end - m.range.start) / kEfiPage,
                       0};
    const auto* p = reinterpret_cast<const uint8_t*>(&d);
    map_bytes.insert(map_bytes.end(), p, p + sizeof d);
  }
  const EfiMemMap map{map_bytes.data(), map_bytes.size(), sizeof(EfiMemDesc)};
  auto cfg = std::make_unique<Config>();
  std::memset(cfg.get(), 0, sizeof *cfg);
  std::strcpy(cfg->kernel, "\\charon\\vmlinuz");
  std::strcpy(cfg->initrd, "\\charon\\initrd");
  std::strcpy(cfg->cmdline, cmdline);
  cfg->protocol = is32 ? Protocol::k32 : Protocol::k64;
  cfg->console_serial = true;
  // purgatory.bin and purgatory.ro are one image in two wrappings; the
  // core is given the same size, so that only the adapters can differ.
  const kimage::Range no_buffer{};
  Facts facts{};
  facts.cfg = cfg.get();
  facts.kernel = kernel.data();
  facts.kernel_size = kernel.size();
  facts.initrd_size = initrd.size();
  facts.map = &map;
  facts.rsdp = rsdp;
  facts.purgatory_mem = hosted->plan.purgatory.size();
  facts.memmap_buffer = no_buffer;
  facts.rng_seed = seed.data();
  facts.rng_seed_len = static_cast<uint32_t>(seed.size());
  auto free = std::make_unique<kimage::FreeList>();
  auto built = std::make_unique<Built>();
  kimage::ImageInput sizing{};
  const kimage::SetupDataNode seed_node{boot::SETUP_RNG_SEED, seed.data(), 32};
  sizing.setup_data = &seed_node;
  sizing.nsetup_data = 1;
  const uint64_t setup_size = kimage::setup_bytes(sizing, std::strlen(cmdline));
  std::vector<uint8_t> setup(setup_size);
  charon_params p = hosted->params;  // the identity of the same purgatory
  ASSERT_EQ(build_image(facts, *free, setup.data(), setup.size(), p, *built), kimage::Status::kOk);
  MemRange scratch[64];
  auto& bp = *reinterpret_cast<boot::boot_params*>(setup.data());
  ASSERT_EQ(finish_boot_params(map, 0x7f9e0018, 0x7e000000, 1, built->plan, scratch, 64,
                               setup.data(), setup.size()),
            kimage::Status::kOk);

  // ---- the same segments
  const kimage::ImagePlan& plan = built->plan;
  std::vector<kimage::DigestRegion> regions;
  auto find = [&](const char* what) -> const loader::Segment* {
    for (const loader::Segment& s : hosted->segments)
      if (s.what.find(what) == 0) return &s;
    return nullptr;
  };
  const struct {
    const char* what;
    kimage::Range efi;
    const uint8_t* src;
    uint64_t len;
  } want[] = {
      {"kernel", plan.kernel_seg, kernel.data() + plan.kernel.payload_offset,
       plan.kernel.payload_size},
      {"initrd", plan.initrd, initrd.data(), initrd.size()},
      {"boot_params", plan.setup, setup.data(), setup.size()},
  };
  for (const auto& w : want) {
    const loader::Segment* s = find(w.what);
    ASSERT_NE(s, nullptr) << w.what;
    EXPECT_EQ(s->mem, w.efi.start) << w.what;
    EXPECT_EQ(s->memsz, w.efi.size()) << w.what;
    ASSERT_EQ(s->data.size(), w.len) << w.what;
    regions.push_back({w.src, w.efi.start, w.len});
  }
  EXPECT_EQ(find("purgatory")->mem, plan.purgatory.start);
  EXPECT_EQ(find("page-table scratch")->mem, plan.scratch.start);
  EXPECT_EQ(find("page-table scratch")->memsz, plan.scratch.size());

  // ---- the same boot_params, but for efi_info, which only EFI passes
  boot::boot_params from_efi = bp, from_kexec;
  std::memcpy(&from_kexec, find("boot_params")->data.data(), sizeof from_kexec);
  EXPECT_EQ(from_efi.efi_info.efi_loader_signature, boot::EFI64_LOADER_SIGNATURE);
  std::memset(&from_efi.efi_info, 0, sizeof from_efi.efi_info);
  EXPECT_EQ(std::memcmp(&from_efi, &from_kexec, sizeof from_efi), 0);
  EXPECT_EQ(std::memcmp(setup.data() + 4096, find("boot_params")->data.data() + 4096,
                        setup.size() - 4096),
            0)
      << "the command line";

  // ---- the same parameter block. The digest covers boot_params, which
  // differs by efi_info: hash charon-kexec's bytes to compare the rest.
  regions[2].src = find("boot_params")->data.data();
  ASSERT_EQ(kimage::fill_digests(regions.data(), regions.size(), Sha256Impl::Scalar, p),
            kimage::Status::kOk);
  EXPECT_EQ(std::memcmp(&p, &hosted->params, sizeof p), 0)
      << "handoff " << p.handoff << "/" << hosted->params.handoff << ", baud " << p.serial_baud
      << "/" << hosted->params.serial_baud << ", first memory range " << std::hex
      << p.memory[0].start << "+" << p.memory[0].len << "/" << hosted->params.memory[0].start << "+"
      << hosted->params.memory[0].len;
}

INSTANTIATE_TEST_SUITE_P(BothEntries, AdaptersAgree, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "entry32" : "entry64"; });

}  // namespace
}  // namespace charon::efi
