// The purgatory's parameter block for a Linux handoff, and its digests.
// Every loader fills it here, so a field has one meaning everywhere.
#include <charon/kimage/image.h>

namespace charon::kimage {

Status check_params_identity(const charon_params& p) {
  if (p.magic != CHARON_PARAMS_MAGIC || p.version != CHARON_PARAMS_VERSION ||
      p.size != sizeof(charon_params))
    return Status::kBadParamsIdentity;
  return Status::kOk;
}

Status reset_params(charon_params& p) {
  if (Status s = check_params_identity(p); s != Status::kOk) return s;
  const charon_params keep = p;
  p = charon_params{};
  p.magic = keep.magic;
  p.version = keep.version;
  p.size = keep.size;
  p.serial_base = 0x3f8;  // the defaults params.h documents
  p.debugcon_port = 0xe9;
  return Status::kOk;
}

Status fill_params(const ImageInput& in, const ImagePlan& plan, charon_params& p) {
  if (Status s = reset_params(p); s != Status::kOk) return s;
  p.flags = in.flags;
  p.handoff = handoff_abi(plan.handoff);
  p.boot_params = plan.setup.start;
  p.kernel_entry = plan.kernel_entry;
  // The generic register sets mirror the Linux handoff, so that a reader
  // of the block (or a purgatory that knows only kexec-tools' names) sees
  // one consistent entry.
  p.regs64.rsi = plan.setup.start;
  p.regs64.rip = plan.kernel_entry;
  p.regs32.esi = static_cast<uint32_t>(plan.setup.start);
  p.regs32.eip = static_cast<uint32_t>(plan.kernel_entry);
  p.idmap_limit = 0;  // the memory below is the map's, typed
  for (size_t i = 0; i < CHARON_MAX_MEMORY_RANGES; ++i) p.memory[i] = plan.memory[i];
  p.scratch_base = plan.scratch.start;
  p.scratch_size = plan.scratch.size();
  // The kernel's init_size range: it decompresses there while still on
  // the purgatory's tables.
  p.map_ranges[0] = {plan.kernel_seg.start, plan.kernel.init_size};
  size_t nmap = 1;
  for (size_t i = 0; i < in.nextra_map; ++i) {
    if (nmap == CHARON_MAX_MAP_RANGES) return Status::kTooManyMapRanges;
    p.map_ranges[nmap++] = {in.extra_map[i].start, in.extra_map[i].size()};
  }
  p.console_serial = in.console.serial;
  p.serial_base = in.console.serial_base;
  p.serial_baud = in.console.serial_baud;  // 0: keep the UART's divisor
  p.console_debugcon = in.console.debugcon;
  p.debugcon_port = in.console.debugcon_port;
  p.panic_kernel = in.crash.enabled;
  if (in.crash.enabled) {
    p.backup_dst = plan.backup.start;
    p.backup_src = in.crash.backup_src;
    p.backup_size = in.crash.backup_size;
  }
  return Status::kOk;
}

Status fill_digests(const DigestRegion* r, size_t n, Sha256Impl impl, charon_params& p) {
  if (n > CHARON_MAX_REGIONS) return Status::kTooManyRegions;
  for (size_t i = 0; i < CHARON_MAX_REGIONS; ++i) {
    p.regions[i] = {0, 0};
    for (uint8_t& b : p.region_digests[i]) b = 0;
  }
  // One pass over the bytes: the combined stream (kexec-tools' rule:
  // regions in order) and each region's own.
  Sha256 all, one;
  sha256_init(all, impl);
  for (size_t i = 0; i < n; ++i) {
    p.regions[i] = {r[i].dest, r[i].len};
    sha256_init(one, impl);
    constexpr uint64_t kChunk = 64 * 1024;  // both streams read it while it is in cache
    for (uint64_t off = 0; off < r[i].len; off += kChunk) {
      const uint64_t len = r[i].len - off < kChunk ? r[i].len - off : kChunk;
      sha256_update(all, r[i].src + off, len);
      sha256_update(one, r[i].src + off, len);
    }
    sha256_final(one, p.region_digests[i]);
  }
  sha256_final(all, p.digest);
  return Status::kOk;
}

}  // namespace charon::kimage
