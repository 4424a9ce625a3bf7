// Where every segment goes: one policy for every loader, from boot.rst
// ("Loading the rest of the kernel", "64-bit boot protocol", init_size,
// pref_address, initrd_addr_max) and the purgatory's own contract. The
// planner places the most constrained segment first.
#include <charon/align.h>
#include <charon/kimage/image.h>
#include <charon/kimage/payload.h>
#include <charon/x86/identity_map.h>

#include "place.h"

namespace charon::kimage {

namespace {

constexpr uint64_t kAny = UINT64_MAX;

// Everything the purgatory maps (README, "Handoff contract") but its page
// tables themselves; `r` has room for one more.
size_t mapped_ranges(const ImageInput& in, const ImagePlan& p, charon_region (&r)[16 + 8]) {
  size_t n = 0;
  auto add = [&](const Range& x) {
    if (!x.empty()) r[n++] = {x.start, x.size()};
  };
  add({0, k1MiB});  // Linux: the BIOS data area and the 5-level trampoline
  add(p.kernel_seg);
  add(p.initrd);
  add(p.setup);
  add(p.purgatory);
  add(p.backup);
  add(p.elfcorehdr);
  // The purgatory maps cmdline_size bytes from cmd_line_ptr, which may
  // reach past the setup segment's last page.
  add({p.cmdline, p.cmdline + p.kernel.cmdline_max + 1});
  if (in.crash.enabled) add({in.crash.backup_src, in.crash.backup_src + in.crash.backup_size});
  for (size_t i = 0; i < in.nextra_map && n + 1 < sizeof r / sizeof r[0]; ++i) add(in.extra_map[i]);
  return n;
}

}  // namespace

bool place(FreeList& f, uint64_t size, uint64_t align, uint64_t min, uint64_t max_end, bool high,
           Range& out) {
  uint64_t a = 0;
  if (!f.take(size, align, min, max_end, high, a)) return false;
  out = {a, a + size};
  return true;
}

Status place_purgatory(FreeList& f, uint64_t size, uint64_t max_end, Range& out) {
  const uint64_t psize = align_up(size, kPageSize);
  const uint64_t plimit = max_end < k2GiB ? k2GiB : max_end > k4GiB ? k4GiB : max_end;
  if (!place(f, psize, kPageSize, k1MiB, k2GiB, true, out) &&
      !(plimit > k2GiB && place(f, psize, kPageSize, k2GiB, plimit, false, out)))
    return Status::kNoRoomPurgatory;
  return Status::kOk;
}

Status place_scratch(FreeList& f, const charon_region* memory, size_t nmemory, charon_region* r,
                     size_t n, Range& out) {
  out = {};
  uint64_t need = align_up(x86::scratch_bytes_needed({memory, nmemory, r, n}), kPageSize);
  for (int round = 0; round < 4; ++round) {
    if (!place(f, need, kPageSize, k1MiB, k4GiB, true, out)) return Status::kNoRoomScratch;
    r[n] = {out.start, out.size()};
    const uint64_t again =
        align_up(x86::scratch_bytes_needed({memory, nmemory, r, n + 1}), kPageSize);
    if (again <= need) return Status::kOk;
    f.give_back(out.start, out.end);
    out = {};
    need = again;
  }
  return Status::kScratchUnsettled;
}

Status plan_image(const ImageInput& in, ImagePlan& out) {
  out = {};
  if (in.real_mode && in.vmlinux) return Status::kRealModeVmlinux;
  if (in.vmlinux) {
    if (Status s = vmlinux_kernel(*in.vmlinux, out.kernel); s != Status::kOk) return s;
    const bool elf64 = in.vmlinux->type == PayloadType::kElf64;
    if (elf64 != (in.entry == Entry::k64)) return Status::kVmlinuxEntry;
  } else if (Status s = parse_bzimage(in.kernel, in.kernel_size,
                                      in.real_mode ? Entry::k32 : in.entry, out.kernel);
             s != Status::kOk) {
    return s;
  }
  if (in.real_mode) {
    if (in.crash.enabled) return Status::kRealModeCrash;
    if (in.efi.present) return Status::kRealModeEfi;
    if (out.kernel.setup_size > kRealModeSetupMax) return Status::kRealModeSetupSize;
    if (kRealModeHeapEnd + in.cmdline_max_len + 1 > kRealModeSegment)
      return Status::kRealModeCmdline;
  }
  const BzImage& k = out.kernel;
  // Real mode: the setup code enters the kernel's 32-bit entry (boot.rst,
  // code32_start), so every 32-bit rule holds for the kernel and initrd.
  const bool is32 = in.entry == Entry::k32 || in.real_mode;
  if (!is32 && in.la57 && !k.la57()) return Status::kNo5Level;
  if (in.cmdline_max_len > k.cmdline_max) return Status::kCmdlineTooLong;
  if (in.has_initrd && in.initrd_size == 0) return Status::kEmptyInitrd;
  if (in.purgatory_align > kPageSize) return Status::kBadPurgatoryAlign;
  bool ram = false;
  for (size_t i = 0; i < in.nmemory_map; ++i)
    ram = ram || (in.memory_map[i].type == boot::E820Type::kRam &&
                  in.memory_map[i].end > in.memory_map[i].start);
  if (!ram) return Status::kNoRam;
  FreeList& free = *in.free;
  out.handoff = in.real_mode ? HandoffKind::kGeneric16
                : is32       ? HandoffKind::kLinux32
                             : HandoffKind::kLinux64;
  // The purgatory maps the machine's memory, whichever the handoff: a
  // 32-bit one drops paging, and the map then only serves the purgatory.
  out.memory_gaps_closed = memory_ranges(in.memory_map, in.nmemory_map, out.memory, out.nmemory);

  // ---- kernel: its whole init_size range is its own (boot.rst,
  // init_size). 64-bit with XLF_CAN_BE_LOADED_ABOVE_4G: above 4 GiB when
  // there is RAM there, which leaves low memory to firmware and devices.
  // Otherwise the lowest aligned fit at or above pref_address, never below:
  // a kernel loaded below LOAD_PHYSICAL_ADDR moves its decompression target
  // up to it and writes init_size bytes there, memory nobody reserved
  // (kexec_file_load takes pref_address as the floor too).
  const uint64_t ksize = align_up(k.footprint(), kPageSize);
  if (in.vmlinux) {
    // A vmlinux runs where it was linked: its whole footprint, from the
    // first segment's page to the last one's end, is its own.
    out.kernel_seg = {k.pref_address, k.pref_address + ksize};
    if (is32 && out.kernel_seg.end > k4GiB) return Status::kSegmentAbove4G;
    if (!free.take_at(out.kernel_seg.start, ksize)) return Status::kSegmentNotFree;
    out.kernel_entry = in.vmlinux->entry;
  } else {
    const uint64_t klimit = (is32 || !k.above_4g()) ? k4GiB : kAny;
    const uint64_t align = k.kernel_alignment;
    const uint64_t pref = k.pref_address > k1MiB ? k.pref_address : k1MiB;
    bool placed = false;
    if (!is32 && k.above_4g() && free.has_free_above(k4GiB, ksize))
      placed = place(free, ksize, align, k4GiB, kAny, false, out.kernel_seg);
    if (!placed) placed = place(free, ksize, align, pref, klimit, false, out.kernel_seg);
    if (!placed) return is32 ? Status::kNoRoomKernel32 : Status::kNoRoomKernel;
    out.kernel_entry = out.kernel_seg.start + (is32 ? 0 : 0x200);
  }

  // ---- initrd: as high as allowed (boot.rst: "as high in memory as
  // possible"), below initrd_addr_max unless the kernel takes it above
  // 4 GiB, as the kernel's own kexec_file_load places it.
  if (in.has_initrd) {
    const uint64_t isize = align_up(in.initrd_size, kPageSize);
    const uint64_t below =
        uint64_t{k.initrd_addr_max} + 1 < k4GiB ? k.initrd_addr_max + 1ull : k4GiB;
    const uint64_t limit = (!is32 && k.above_4g()) ? kAny : below;
    if (!place(free, isize, kPageSize, k1MiB, limit, true, out.initrd))
      return is32 ? Status::kNoRoomInitrd32 : Status::kNoRoomInitrd;
  }

  // ---- boot_params, the command line and setup_data: cmd_line_ptr is
  // 32 bits, so below 4 GiB, low. In real mode the setup code's whole
  // 64 KiB segment, page-aligned (boot.rst asks 16 bytes), as low as it
  // goes in [64 KiB, 640 KiB): the farthest from the EBDA at the top of
  // low memory, whose size boot.rst warns varies from BIOS to BIOS.
  const uint64_t ssize = align_up(setup_bytes(in, in.cmdline_max_len), kPageSize);
  if (in.real_mode) {
    const uint64_t rsize = ssize > kRealModeSegment ? ssize : kRealModeSegment;
    if (!place(free, rsize, kPageSize, kRealModeLow, kRealModeTop, false, out.setup))
      return Status::kNoRoomRealMode;
    out.cmdline = out.setup.start + kRealModeHeapEnd;
  } else {
    if (!place(free, ssize, kPageSize, k1MiB, k4GiB, false, out.setup)) return Status::kNoRoomSetup;
    out.cmdline = out.setup.start + sizeof(boot::boot_params);
  }

  // ---- purgatory: below 2 GiB, high, if it can be; a position-
  // independent one may go to [2 GiB, 4 GiB) when the crash reservation
  // lies there. In real mode below 640 KiB, high, so that one real-mode
  // segment reaches its 16-bit tail (README, "The generic16 handoff").
  if (in.real_mode) {
    if (!place(free, align_up(in.purgatory_size, kPageSize), kPageSize, kRealModeLow, kRealModeTop,
               true, out.purgatory))
      return Status::kNoRoomPurgatoryLow;
  } else if (Status s =
                 place_purgatory(free, in.purgatory_size, in.purgatory_max_end, out.purgatory);
             s != Status::kOk) {
    return s;
  }

  // ---- crash extras, as high as they can go (below 4 GiB for a 32-bit
  // kernel, which must not see anything above).
  const uint64_t high = is32 ? k4GiB : kAny;
  if (in.crash.enabled) {
    if (!place(free, align_up(in.crash.backup_size, kPageSize), kPageSize, k1MiB, high, true,
               out.backup))
      return Status::kNoRoomBackup;
    if (!place(free, align_up(in.crash.elfcorehdr_size, kPageSize), kPageSize, k1MiB, high, true,
               out.elfcorehdr))
      return Status::kNoRoomElfcorehdr;
  }

  // ---- page-table scratch, below 4 GiB: sized for every range the
  // purgatory maps, the scratch itself included.
  charon_region mapped[16 + 8];
  if (Status s = place_scratch(free, out.memory, out.nmemory, mapped,
                               mapped_ranges(in, out, mapped), out.scratch);
      s != Status::kOk)
    return s;

  // The rule the 32-bit handoff relies on (paging off, 32-bit addresses),
  // checked once more over the result.
  if (is32) {
    const Range all[] = {out.kernel_seg, out.initrd, out.setup,     out.purgatory,
                         out.scratch,    out.backup, out.elfcorehdr};
    for (const Range& r : all)
      if (r.end > k4GiB) return Status::kAbove4G;
  }
  return Status::kOk;
}

}  // namespace charon::kimage
