// The purgatory's parameter block for a Linux handoff, and its digests.
// Every loader fills it here, so a field has one meaning everywhere.
#include <charon/kimage/image.h>

#include "place.h"

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

Status fill_common_params(uint32_t flags, HandoffKind handoff,
                          const charon_region (&memory)[CHARON_MAX_MEMORY_RANGES],
                          const Range& scratch, const ConsoleSpec& console, charon_params& p) {
  if (Status s = reset_params(p); s != Status::kOk) return s;
  p.flags = flags;
  p.handoff = handoff_abi(handoff);
  p.idmap_limit = 0;  // the memory below is the map's, typed
  for (size_t i = 0; i < CHARON_MAX_MEMORY_RANGES; ++i) p.memory[i] = memory[i];
  p.scratch_base = scratch.start;
  p.scratch_size = scratch.size();
  p.console_serial = console.serial;
  p.serial_base = console.serial_base;
  p.serial_baud = console.serial_baud;  // 0: keep the UART's divisor
  p.console_debugcon = console.debugcon;
  p.debugcon_port = console.debugcon_port;
  return Status::kOk;
}

Status fill_params(const ImageInput& in, const ImagePlan& plan, charon_params& p) {
  if (Status s =
          fill_common_params(in.flags, plan.handoff, plan.memory, plan.scratch, in.console, p);
      s != Status::kOk)
    return s;
  p.panic_kernel = in.crash.enabled;
  if (plan.handoff == HandoffKind::kGeneric16) {
    // The kernel's real-mode setup code at X (boot.rst, "Running the
    // kernel"): every data segment and SS at X >> 4, SP = heap_end, and
    // CS:IP = (X >> 4) + 0x20 : 0, its entry 0x200 bytes in; every other
    // register 0. The setup code builds boot_params itself.
    const uint16_t seg = static_cast<uint16_t>(plan.setup.start >> 4);
    charon_regs16& r = p.regs16;
    r.ds = r.es = r.fs = r.gs = r.ss = seg;
    r.esp = static_cast<uint32_t>(kRealModeHeapEnd);
    r.cs = static_cast<uint16_t>(seg + 0x20);
    r.ip = 0;
    return Status::kOk;
  }
  p.boot_params = plan.setup.start;
  p.kernel_entry = plan.kernel_entry;
  // The generic register sets mirror the Linux handoff, so that a reader
  // of the block (or a purgatory that knows only kexec-tools' names) sees
  // one consistent entry.
  p.regs64.rsi = plan.setup.start;
  p.regs64.rip = plan.kernel_entry;
  p.regs32.esi = static_cast<uint32_t>(plan.setup.start);
  p.regs32.eip = static_cast<uint32_t>(plan.kernel_entry);
  // The kernel's init_size range: it decompresses there while still on
  // the purgatory's tables.
  p.map_ranges[0] = {plan.kernel_seg.start, plan.kernel.init_size};
  size_t nmap = 1;
  for (size_t i = 0; i < in.nextra_map; ++i) {
    if (nmap == CHARON_MAX_MAP_RANGES) return Status::kTooManyMapRanges;
    p.map_ranges[nmap++] = {in.extra_map[i].start, in.extra_map[i].size()};
  }
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
  // regions in order) and each region's own. A region's own digest only
  // names the region after a mismatch, so it is taken where it costs no
  // second pass: with SHA-NI, whose second stream fills the first's
  // latency, or over a small region. A large region under the scalar code
  // gets none (zero: "not given"), which halves the loader's hashing of a
  // big initrd on a CPU without the SHA extensions.
  constexpr uint64_t kScalarRegionDigestMax = uint64_t{1} << 20;
  Sha256 all, one;
  sha256_init(all, impl);
  for (size_t i = 0; i < n; ++i) {
    p.regions[i] = {r[i].dest, r[i].len};
    if (impl != Sha256Impl::ShaNi && r[i].len > kScalarRegionDigestMax) {
      sha256_update(all, r[i].src, r[i].len);
      continue;
    }
    sha256_init(one, impl);
    // Both streams in one pass (two SHA-NI chains interleaved); in chunks,
    // so that the scalar code's second stream reads them from cache.
    constexpr uint64_t kChunk = 64 * 1024;
    for (uint64_t off = 0; off < r[i].len; off += kChunk) {
      const uint64_t len = r[i].len - off < kChunk ? r[i].len - off : kChunk;
      sha256_update2(all, one, r[i].src + off, len);
    }
    sha256_final(one, p.region_digests[i]);
  }
  sha256_final(all, p.digest);
  return Status::kOk;
}

}  // namespace charon::kimage
