#include "handoff.h"

#include <charon/align.h>
#include <charon/cpuid.h>
#include <charon/loader/indirection.h>
#include <charon/x86/cr.h>
#include <charon/x86/halt.h>
#include <charon/x86/identity_map.h>
#include <charon/x86/relocate.h>

#include "adapter.h"
#include "test_hooks.h"

namespace charon::efi {

namespace {

uint64_t addr(const void* p) {
  return reinterpret_cast<uint64_t>(p);
}

constinit loader::DestRun g_runs[256] = {};

// After ExitBootServices: the purgatory's console settings, on our side.
constinit Console g_late;

// The final map, in e820 terms, while it is turned into boot_params.
constinit kimage::MemRange g_ranges[1024] = {};

}  // namespace

bool find_framebuffer(Framebuffer& fb) {
  EFI_GRAPHICS_OUTPUT_PROTOCOL* gop = nullptr;
  if (EFI_ERROR(
          BS->LocateProtocol(&GraphicsOutputProtocol, nullptr, reinterpret_cast<void**>(&gop))) ||
      !gop || !gop->Mode || !gop->Mode->Info)
    return false;
  const EFI_GRAPHICS_OUTPUT_MODE_INFORMATION& mi = *gop->Mode->Info;
  fb.base = gop->Mode->FrameBufferBase;
  fb.size = gop->Mode->FrameBufferSize;
  fb.width = mi.HorizontalResolution;
  fb.height = mi.VerticalResolution;
  fb.pixels_per_line = mi.PixelsPerScanLine;
  fb.format = static_cast<PixelFormat>(mi.PixelFormat);
  fb.red_mask = mi.PixelInformation.RedMask;
  fb.green_mask = mi.PixelInformation.GreenMask;
  fb.blue_mask = mi.PixelInformation.BlueMask;
  fb.rsvd_mask = mi.PixelInformation.ReservedMask;
  return true;
}

EFI_STATUS alloc_map_buffer(MapBuffer& mb) {
  UINTN size = 0, key = 0, desc_size = 0;
  UINT32 version = 0;
  EFI_STATUS st = BS->GetMemoryMap(&size, nullptr, &key, &desc_size, &version);
  if (st != EFI_BUFFER_TOO_SMALL) {
    g_con.printf("charon.efi: GetMemoryMap gave no size (status 0x%lx)\n", st);
    return EFI_ERROR(st) ? st : EFI_DEVICE_ERROR;
  }
  // Every later allocation may split a free range into three entries;
  // 64 more descriptors cover ours and the firmware's own.
  Pages p{};
  const uint64_t cap = align_up(size + 64 * (desc_size ? desc_size : 48), kPageSize);
  st = alloc_pages(cap, 0, p);
  if (EFI_ERROR(st)) {
    g_con.printf("charon.efi: no memory for the memory map (status 0x%lx)\n", st);
    return st;
  }
  mb.buf = p.ptr;
  mb.cap = p.bytes;
  mb.desc_hint = desc_size ? desc_size : 48;
  return EFI_SUCCESS;
}

EFI_STATUS prepare_relocation(const SegmentSet& segs, HandoffPlan& plan, const MapBuffer& mb) {
  // ---- the list: every segment page by page, one page in 511 for links
  uint64_t data_pages = 0;
  for (size_t i = 0; i < segs.n; ++i)
    data_pages += align_up(segs.seg[i].len, kPageSize) / kPageSize;
  const uint64_t entries = data_pages + 2 * segs.n + 2;
  const uint64_t list_pages = entries / (loader::kIndEntriesPerPage - 1) + 2;
  Pages list{}, control{}, tables{};
  if (EFI_STATUS st = alloc_pages(list_pages * kPageSize, 0, list); EFI_ERROR(st)) {
    g_con.printf("charon.efi: no memory for the relocation list (status 0x%lx)\n", st);
    return st;
  }
  if (EFI_STATUS st = alloc_pages(kPageSize, 0, control); EFI_ERROR(st)) {
    g_con.printf("charon.efi: no memory for the trampoline's control page (status 0x%lx)\n", st);
    return st;
  }
  loader::IndirectionBuilder b(loader::ListArena{
      addr(list.ptr), reinterpret_cast<uint64_t*>(list.ptr), static_cast<size_t>(list_pages)});
  for (size_t i = 0; i < segs.n; ++i) {
    const Segment& s = segs.seg[i];
    if (loader::IndStatus is = b.copy(s.dest, addr(s.src), s.len); is != loader::IndStatus::Ok) {
      g_con.printf("charon.efi: relocation list for the %s: %s\n", s.what,
                   loader::ind_status_name(is));
      return EFI_OUT_OF_RESOURCES;
    }
  }
  if (loader::IndStatus is = b.finish(); is != loader::IndStatus::Ok) {
    g_con.printf("charon.efi: relocation list: %s\n", loader::ind_status_name(is));
    return EFI_OUT_OF_RESOURCES;
  }
  plan.head = b.head();
  plan.control_page = addr(control.ptr);

  // ---- identity tables for the trampoline: whatever the walk touches,
  // the control page, the trampoline where it is now, and the whole
  // purgatory image (file and .noinit) it jumps into. Sized for the worst
  // policy over the same ranges, which bounds every other.
  charon_region ranges[2 * kMaxSegments + 4];
  size_t nr = 0;
  for (size_t i = 0; i < segs.n; ++i) {
    ranges[nr++] = {addr(segs.seg[i].src), align_up(segs.seg[i].len, kPageSize)};
    ranges[nr++] = {segs.seg[i].dest, align_up(segs.seg[i].reserve, kPageSize)};
  }
  ranges[nr++] = {addr(list.ptr), list.bytes};
  ranges[nr++] = {plan.control_page, kPageSize};
  ranges[nr++] = {addr(charon_reloc_start), addr(charon_reloc_end) - addr(charon_reloc_start)};
  ranges[nr++] = {plan.purgatory, plan.purg_mem};
  const size_t table_pages = x86::idmap_pages_needed(ranges, nr, x86::MapPolicy{false, true}) + 1;
  if (EFI_STATUS st = alloc_pages(table_pages * kPageSize, 0, tables); EFI_ERROR(st)) {
    g_con.printf("charon.efi: no memory for the trampoline's page tables (status 0x%lx)\n", st);
    return st;
  }
  x86::TableArena arena{addr(tables.ptr), tables.ptr, table_pages, 0};
  x86::IdentityMap map(arena, x86::MapPolicy{plan.gbpages, plan.la57});
  bool mapped = map.init() == x86::MapStatus::Ok &&
                loader::map_relocation(map, plan.head, loader::identity_window(), entries + 8) ==
                    loader::IndStatus::Ok;
  for (size_t i = nr - 3; mapped && i < nr; ++i)
    mapped = map.map(ranges[i].start, ranges[i].start + ranges[i].len) == x86::MapStatus::Ok;
  if (!mapped) {
    g_con.printf("charon.efi: the trampoline's identity tables do not fit %lu pages\n",
                 static_cast<uint64_t>(table_pages));
    return EFI_OUT_OF_RESOURCES;
  }
  plan.cr3 = map.root();
  plan.tables_start = addr(tables.ptr);
  plan.tables_len = tables.bytes;

  // ---- the list must be safe to walk: nothing it writes may hit the
  // tables, the list, the control page or the memory map the kernel reads
  const charon_region keep[] = {{plan.tables_start, plan.tables_len}, {addr(mb.buf), mb.cap}};
  const loader::ValidateLimits lim{
      entries + 8, plan.control_page, keep, 2, g_runs, sizeof g_runs / sizeof g_runs[0]};
  const loader::ValidateResult vr =
      loader::validate_list(plan.head, loader::identity_window(), lim);
  if (vr.status != loader::IndStatus::Ok) {
    g_con.printf("charon.efi: relocation list entry %lu (page 0x%lx): %s\n",
                 static_cast<uint64_t>(vr.index), vr.addr, loader::ind_status_name(vr.status));
    return EFI_LOAD_ERROR;
  }
  return EFI_SUCCESS;
}

EFI_STATUS exit_and_hand_off(EFI_HANDLE image, SegmentSet& segs, HandoffPlan& plan, MapBuffer& mb) {
  // ---- ExitBootServices. [uefi/2.10]: 7.4: a stale MapKey gives
  // EFI_INVALID_PARAMETER; the loader then calls GetMemoryMap again and
  // retries, and may call nothing else in between (no allocation, no
  // console): the buffer was sized for that.
  int attempt = 0;
  EFI_STATUS st = EFI_INVALID_PARAMETER;
  g_con.printf("charon.efi: exiting boot services\n");
  while (st == EFI_INVALID_PARAMETER && attempt < 8) {
    ++attempt;
    UINTN need = 0;
    st = get_memory_map(mb, need);
    if (EFI_ERROR(st)) break;
    const UINTN key = mb.key;
#if CHARON_EFI_TEST
    test::before_exit_boot_services(attempt);
#endif
    st = BS->ExitBootServices(image, key);
  }
  if (EFI_ERROR(st)) {
    // Boot services may be partly gone; this print is best effort.
    g_con.printf("charon.efi: ExitBootServices failed after %d attempt(s) (status 0x%lx)\n",
                 attempt, st);
    return st;
  }
  asm volatile("cli");

  // ---- from here on the machine is ours: no firmware call, no return
  g_late.clear();
  if (plan.console_serial) g_late.add(Uart8250{0x3f8}.sink());
  if (plan.console_debugcon) g_late.add(DebugCon{0xe9}.sink());
  g_late.printf("charon.efi: left boot services after %d attempt(s)\n", attempt);

  charon_params& p = *plan.purg_params;
  if (!plan.params_ready) {
    if (kimage::Status ks = finish_boot_params(
            mb.map, plan.systab, addr(mb.buf), mb.desc_version, *plan.image, g_ranges,
            sizeof g_ranges / sizeof g_ranges[0], plan.boot_params, plan.setup_size);
        ks != kimage::Status::kOk) {
      g_late.printf("charon.efi: the final memory map: %s; halting\n", kimage::status_message(ks));
      x86::halt_forever();
    }
    kimage::DigestRegion regions[kMaxSegments + 1];
    size_t nr = 0;
    for (size_t i = 0; i < segs.n; ++i)
      if (segs.seg[i].digest) regions[nr++] = {segs.seg[i].src, segs.seg[i].dest, segs.seg[i].len};
    // The kernel reads the memory map where it is: it is a region too.
    regions[nr++] = {mb.buf, addr(mb.buf), mb.map.size};
    // UEFI runs x86_64 code with SSE on ([uefi/2.10]: 2.3.4), so the SHA-NI
    // unit may run when CPUID has it; CR4.OSFXSR is checked all the same.
    const Sha256Impl impl = sha256_choose(CpuFeatures::detect(), x86::read_cr4().osfxsr());
    uint64_t bytes = 0;
    for (size_t i = 0; i < nr; ++i) bytes += regions[i].len;
    g_late.printf("charon.efi: digest over %lu regions, %lu bytes (%s)\n",
                  static_cast<uint64_t>(nr), bytes,
                  impl == Sha256Impl::ShaNi ? "sha-ni" : "scalar");
    if (kimage::Status ks = kimage::fill_digests(regions, nr, impl, p); ks != kimage::Status::kOk) {
      g_late.printf("charon.efi: %s; halting\n", kimage::status_message(ks));
      x86::halt_forever();
    }
  }
#if CHARON_EFI_TEST
  test::after_digests(segs, g_late);
#endif
  g_late.printf("charon.efi: entering the relocation trampoline (purgatory at 0x%lx)\n",
                plan.purgatory);
  charon_reloc_entry64(plan.head, plan.control_page, plan.cr3, plan.purg_entry64);
}

}  // namespace charon::efi
