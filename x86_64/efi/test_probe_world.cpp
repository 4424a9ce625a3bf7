#include "test_probe_world.h"

#include <charon/kimage/image.h>

#include "descriptor.h"
#include "world.h"

namespace charon::efi {

using namespace probe;

size_t probe_fixed_ranges(FixedRange* out, size_t cap) {
  const FixedRange r[] = {{kBackupDst, kLowMemSize}, {kScratchAddr, kScratchSize}};
  size_t n = 0;
  for (; n < cap && n < sizeof r / sizeof r[0]; ++n) out[n] = r[n];
  return n;
}

ProbeStatus build_probe_world(const ProbeWorldInput& in, SegmentSet& set, charon_params& p) {
  if (in.probe_size < kInfoOffset + sizeof(ProbeInfo)) return ProbeStatus::kBadProbe;
  const auto* info = reinterpret_cast<const ProbeInfo*>(in.probe + kInfoOffset);
  if (info->magic != kInfoMagic || info->file_size != in.probe_size ||
      info->mem_size < info->file_size)
    return ProbeStatus::kBadProbe;

  // The descriptor, by the harness's own rules.
  harness::Options opt;
  int i = 0;
  for (; in.case_name[i] && i < static_cast<int>(sizeof opt.case_name) - 1; ++i)
    opt.case_name[i] = in.case_name[i];
  opt.case_name[i] = 0;
  opt.kind = in.handoff;
  opt.purg = in.purgatory;
  auto* desc = reinterpret_cast<Descriptor*>(in.descriptor_buf);
  harness::World w{&opt, harness::seed_for(opt.case_name), info, in.purg, desc, nullptr, 0};
  harness::write_descriptor(w, in.la57, in.gbpages);

  // boot_params and its cmdline, one page apart as descriptor.h fixes them.
  for (uint64_t b = 0; b < kSetupBytes; ++b) in.setup_buf[b] = 0;
  build_boot_params(in.setup_buf, w.seed, static_cast<uint32_t>(kCmdlineAddr));
  char* line = reinterpret_cast<char*>(in.setup_buf + (kCmdlineAddr - kBootParamsAddr));
  uint64_t cmdline_len = 0;
  for (; desc->cmdline[cmdline_len]; ++cmdline_len) line[cmdline_len] = desc->cmdline[cmdline_len];
  line[cmdline_len++] = 0;

  // [0, 640 KiB) holds the case's pattern when the purgatory starts.
  auto* low = reinterpret_cast<uint64_t*>(in.lowmem_buf);
  for (uint64_t k = 0; k < kLowMemBytes / 8; ++k) low[k] = pattern_word(w.seed, k);

  set.add(
      {"probe", const_cast<uint8_t*>(in.probe), in.probe_size, kProbeAddr, info->mem_size, true});
  set.add({"boot_params", in.setup_buf, kSetupBytes, kBootParamsAddr, kSetupBytes, false});
  set.add({"descriptor", in.descriptor_buf, sizeof(Descriptor), kDescriptorAddr, kDescriptorBytes,
           false});
  set.add({"low memory", in.lowmem_buf, kLowMemBytes, 0, kLowMemBytes, false});

  // The parameter block as the harness writes it (harness::write_params),
  // hashed from our buffers rather than from the fixed addresses.
  const kimage::DigestRegion regions[] = {
      {in.probe, kProbeAddr, info->file_size},
      {in.setup_buf, kBootParamsAddr, 4096},
      {in.setup_buf + (kCmdlineAddr - kBootParamsAddr), kCmdlineAddr, cmdline_len},
  };
  if (kimage::reset_params(p) != kimage::Status::kOk) return ProbeStatus::kBadProbe;
  p.handoff = in.handoff;
  p.boot_params = kBootParamsAddr;
  p.kernel_entry =
      kProbeAddr + (in.handoff == CHARON_HANDOFF_LINUX32 ? info->entry32 : info->entry64);
  p.scratch_base = kScratchAddr;
  p.scratch_size = kScratchSize;
  p.map_ranges[0] = {kProbeAddr, info->mem_size};
  p.map_ranges[1] = {kDescriptorAddr, sizeof(Descriptor)};
  p.console_serial = 1;
  p.console_debugcon = 1;
  p.backup_dst = kBackupDst;
  p.regs64 = desc->regs64;
  p.regs32 = desc->regs32;
  if (kimage::fill_digests(regions, 3, Sha256Impl::Scalar, p) != kimage::Status::kOk)
    return ProbeStatus::kBadProbe;
  return ProbeStatus::kOk;
}

}  // namespace charon::efi
