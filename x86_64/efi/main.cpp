// charon.efi: a UEFI application that plays the kexec loader. It reads
// \charon\charon.cfg, loads the kernel and initrd from its own volume,
// builds boot_params from the firmware's tables, plans where everything
// goes, leaves boot services, and hands the segments to the relocation
// trampoline, which copies them into place and enters the purgatory.
// Read top to bottom; every step before ExitBootServices either succeeds
// or prints one line, gives back what it took, and returns to the firmware.
#include <charon/align.h>
#include <charon/cpuid.h>
#include <charon/kimage/image.h>
#include <charon/loader/indirection.h>
#include <charon/x86/cr.h>
#include <charon/x86/identity_map.h>
#include <charon/x86/relocate.h>

#include "adapter.h"
#include "config.h"
#include "efi_glue.h"
#include "handoff.h"
#include "purgatory_bin.h"
#include "test_hooks.h"
#if CHARON_EFI_TEST
#include "test_probe_world.h"
#endif

extern "C" {
// purgatory.bin, embedded at build time (purgatory_blob.asm).
extern const uint8_t charon_purgatory_bin[], charon_purgatory_bin_end[];
}

namespace charon::efi {
namespace {

void copy(uint8_t* d, const uint8_t* s, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) d[i] = s[i];
}

// Every allocation, so that an error gives all of it back.
struct Allocs {
  EFI_PHYSICAL_ADDRESS addr[64];
  UINTN pages[64];
  size_t n;
  void note(uint64_t a, uint64_t bytes) {
    if (n < 64) addr[n] = a, pages[n++] = (bytes + kPageSize - 1) / kPageSize;
  }
  void release() {
    while (n) --n, BS->FreePages(addr[n], pages[n]);
  }
};
constinit Allocs g_allocs{};

EFI_STATUS fail(EFI_STATUS st) {
  g_allocs.release();
  return st;
}

EFI_STATUS alloc(uint64_t bytes, uint64_t max_end, Pages& out, const char* what) {
  const EFI_STATUS st = alloc_pages(bytes, max_end, out);
  if (EFI_ERROR(st)) {
    g_con.printf("charon.efi: no memory for %s (%lu bytes, status 0x%lx)\n", what, bytes, st);
    return st;
  }
  g_allocs.note(reinterpret_cast<uint64_t>(out.ptr), out.bytes);
  for (uint64_t i = 0; i < out.bytes; ++i) out.ptr[i] = 0;
  return EFI_SUCCESS;
}

EFI_STATUS load(EFI_HANDLE image, const char* path, Pages& out, uint64_t& size) {
  const EFI_STATUS st = read_file(image, path, out, size);
  if (!EFI_ERROR(st)) g_allocs.note(reinterpret_cast<uint64_t>(out.ptr), out.bytes);
  return st;
}

// Reserves [addr, addr + bytes) for a segment's destination. Probe mode
// may also use pages the firmware holds as boot-services memory, which is
// free once boot services are gone; nothing of ours lies there.
EFI_STATUS reserve(uint64_t addr, uint64_t bytes, const char* what, const MapBuffer* mb) {
  if (!EFI_ERROR(alloc_pages_at(addr, bytes))) {
    g_allocs.note(addr, bytes);
    return EFI_SUCCESS;
  }
  if (mb) {  // page by page: take what is free, accept boot-services pages
    for (uint64_t a = addr; a < addr + bytes; a += kPageSize) {
      if (!EFI_ERROR(alloc_pages_at(a, kPageSize))) {
        g_allocs.note(a, kPageSize);
        continue;
      }
      bool bs = false;
      for (size_t i = 0; i < mb->map.count(); ++i) {
        const EfiMemDesc& d = mb->map.at(i);
        if (a >= d.phys_start && a < d.phys_start + d.pages * kPageSize)
          bs = d.type == static_cast<uint32_t>(EfiMemType::kBootServicesCode) ||
               d.type == static_cast<uint32_t>(EfiMemType::kBootServicesData);
      }
      if (!bs) {
        g_con.printf("charon.efi: page 0x%lx for the %s is in use by the firmware\n", a, what);
        return EFI_OUT_OF_RESOURCES;
      }
    }
    return EFI_SUCCESS;
  }
  g_con.printf("charon.efi: cannot reserve 0x%lx+0x%lx for the %s\n", addr, bytes, what);
  return EFI_OUT_OF_RESOURCES;
}

// ---------------------------------------------------------------------------
constinit Config g_cfg{};
constinit MapBuffer g_map{};
constinit SegmentSet g_segs{};
constinit HandoffPlan g_plan{};
constinit kimage::FreeList g_free{};
constinit kimage::Range g_scratch{};
constinit Built g_built{};
constinit uint8_t g_seed[32] = {};  // RNG_SEED_LENGTH, as the kernel's own kexec passes

EFI_STATUS run(EFI_HANDLE image, EFI_SYSTEM_TABLE* st) {
  // ---- the configuration file
  static constexpr const char* kCfgPath = "\\charon\\charon.cfg";
  Pages cfg_file{};
  uint64_t cfg_size = 0;
  if (EFI_STATUS s = load(image, kCfgPath, cfg_file, cfg_size); EFI_ERROR(s)) return fail(s);
  const ConfigResult cr =
      parse_config(reinterpret_cast<const char*>(cfg_file.ptr), cfg_size, g_cfg);
  if (cr.status != ConfigStatus::kOk) {
    if (cr.line)
      g_con.printf("charon.efi: %s:%u: %s (key \"%s\")\n", kCfgPath, cr.line,
                   config_status_message(cr.status), cr.key);
    else
      g_con.printf("charon.efi: %s: %s\n", kCfgPath, config_status_message(cr.status));
    return fail(EFI_INVALID_PARAMETER);
  }
#if CHARON_EFI_TEST
  test::configure(g_cfg);
  const bool probe_mode = g_cfg.probe_case[0] != 0;
#else
  constexpr bool probe_mode = false;
#endif
  const bool is32 = g_cfg.protocol == Protocol::k32;
  g_con.printf("charon.efi: kernel %s, initrd %s, protocol %s%s\n", g_cfg.kernel,
               g_cfg.initrd[0] ? g_cfg.initrd : "(none)", is32 ? "32" : "64",
               probe_mode ? ", probe payload" : "");

  // ---- kernel and initrd
  Pages kfile{}, ifile{};
  uint64_t ksize = 0, isize = 0;
  if (EFI_STATUS s = load(image, g_cfg.kernel, kfile, ksize); EFI_ERROR(s)) return fail(s);
  if (g_cfg.initrd[0]) {
    if (EFI_STATUS s = load(image, g_cfg.initrd, ifile, isize); EFI_ERROR(s)) return fail(s);
    if (isize == 0) {
      g_con.printf("charon.efi: %s: the initrd is empty\n", g_cfg.initrd);
      return fail(EFI_LOAD_ERROR);
    }
  }

  // ---- the purgatory, copied out of our image so that the trampoline
  // has a page-aligned source and we may patch its parameter block
  const uint64_t purg_size = charon_purgatory_bin_end - charon_purgatory_bin;
  Pages purg{};
  if (EFI_STATUS s = alloc(purg_size, 0, purg, "purgatory.bin"); EFI_ERROR(s)) return fail(s);
  copy(purg.ptr, charon_purgatory_bin, purg_size);
  const charon_bin_header* ph = nullptr;
  charon_params* params = nullptr;
  if (PurgStatus ps = check_purgatory_bin(purg.ptr, purg_size, ph, params); ps != PurgStatus::kOk) {
    g_con.printf("charon.efi: embedded %s\n", purg_status_message(ps));
    return fail(EFI_LOAD_ERROR);
  }

  // ---- what the firmware tells the kernel
  g_plan.la57 = x86::read_cr4().la57();
  g_plan.gbpages = CpuFeatures::detect().pdpe1gb;
  g_plan.systab = reinterpret_cast<uint64_t>(st);
  const uint64_t rsdp = find_rsdp(st);
  Framebuffer fb{};
  const bool have_fb = find_framebuffer(fb);
  const bool have_seed = efi_random(g_seed, sizeof g_seed);

  // ---- the memory map's buffer first: its size bounds the map's entries,
  // and so the room boot_params needs for entries beyond 128 (E820_EXT)
  if (EFI_STATUS s = alloc_map_buffer(g_map); EFI_ERROR(s)) return fail(s);
  g_allocs.note(reinterpret_cast<uint64_t>(g_map.buf), g_map.cap);
  size_t cmdline_len = 0;
  while (g_cfg.cmdline[cmdline_len]) ++cmdline_len;
  const size_t ext_room = e820_ext_room_for(g_map.cap / g_map.desc_hint);
  kimage::ImageInput sizing{};
  sizing.e820_ext_room = ext_room;
  const kimage::SetupDataNode seed_node{boot::SETUP_RNG_SEED, g_seed, sizeof g_seed};
  if (have_seed) sizing.setup_data = &seed_node, sizing.nsetup_data = 1;
  const uint64_t setup_size = kimage::setup_bytes(sizing, cmdline_len);

  // ---- our buffers, all taken before the map the plan is made from:
  // the payload gets a page-aligned buffer of its own (the trampoline
  // copies whole pages, and it starts at (setup_sects + 1) * 512)
  kimage::BzImage bz{};
  Pages payload{}, setup{};
  if (!probe_mode) {
    const kimage::Status bs =
        kimage::parse_bzimage(kfile.ptr, ksize, is32 ? kimage::Entry::k32 : kimage::Entry::k64, bz);
    if (bs != kimage::Status::kOk) {
      g_con.printf("charon.efi: %s: %s%s\n", g_cfg.kernel, kimage::status_message(bs),
                   protocol_hint(bs));
      return fail(EFI_LOAD_ERROR);
    }
    if (EFI_STATUS s = alloc(bz.payload_size, 0, payload, "the kernel payload"); EFI_ERROR(s))
      return fail(s);
    copy(payload.ptr, kfile.ptr + bz.payload_offset, bz.payload_size);
    if (EFI_STATUS s = alloc(setup_size, 0, setup, "boot_params"); EFI_ERROR(s)) return fail(s);
  }
#if CHARON_EFI_TEST
  Pages sbuf{}, dbuf{}, lbuf{};
  if (probe_mode) {
    if (EFI_STATUS s = alloc(kSetupBytes, 0, sbuf, "boot_params"); EFI_ERROR(s)) return fail(s);
    if (EFI_STATUS s = alloc(kDescriptorBytes, 0, dbuf, "the descriptor"); EFI_ERROR(s))
      return fail(s);
    if (EFI_STATUS s = alloc(kLowMemBytes, 0, lbuf, "low memory"); EFI_ERROR(s)) return fail(s);
  }
#endif

  // ---- a first memory map: where the segments can go
  UINTN need = 0;
  if (EFI_STATUS s = get_memory_map(g_map, need); EFI_ERROR(s)) {
    g_con.printf("charon.efi: GetMemoryMap failed (status 0x%lx)\n", s);
    return fail(s);
  }

  if (!probe_mode) {
    // ---- the core plans and builds: kernel, initrd, boot_params with
    // the command line, purgatory, page tables; the parameter block
    const Facts facts{
        &g_cfg,
        kfile.ptr,
        ksize,
        isize,
        &g_map.map,
        rsdp,
        have_fb ? &fb : nullptr,
        ph->mem_size,
        {reinterpret_cast<uint64_t>(g_map.buf), reinterpret_cast<uint64_t>(g_map.buf) + g_map.cap},
        ext_room,
        secure_boot_state(),
        have_seed ? g_seed : nullptr,
        have_seed ? static_cast<uint32_t>(sizeof g_seed) : 0,
        g_plan.la57};
    const kimage::Status ks = build_image(facts, g_free, setup.ptr, setup.bytes, *params, g_built);
    if (ks != kimage::Status::kOk) {
      g_con.printf("charon.efi: %s%s\n", kimage::status_message(ks), protocol_hint(ks));
      return fail(ks == kimage::Status::kCmdlineTooLong ? EFI_INVALID_PARAMETER
                                                        : EFI_OUT_OF_RESOURCES);
    }
    const kimage::ImagePlan& plan = g_built.plan;
    g_segs.add({"kernel", payload.ptr, bz.payload_size, plan.kernel_seg.start,
                plan.kernel_seg.size(), true});
    if (isize)
      g_segs.add({"initrd", ifile.ptr, isize, plan.initrd.start, plan.initrd.size(), true});
    g_segs.add({"boot_params", setup.ptr, setup_size, plan.setup.start, plan.setup.size(), true});
    g_plan.boot_params = setup.ptr;
    g_plan.setup_size = setup_size;
    g_plan.image = &g_built.plan;
    g_plan.purgatory = plan.purgatory.start;
    g_scratch = plan.scratch;
  }
#if CHARON_EFI_TEST
  else {
    // ---- the probe's world at its fixed addresses (tests)
    if (kimage::Status fs = free_list(g_map.map, k1MiB, g_free);
        fs != kimage::Status::kOk || !g_free.take(align_up(ph->mem_size, kPageSize), kPageSize,
                                                  k1MiB, k2GiB, true, g_plan.purgatory)) {
      g_con.printf("charon.efi: no free memory below 2 GiB for the purgatory\n");
      return fail(EFI_OUT_OF_RESOURCES);
    }
    const ProbeWorldInput pin{
        g_cfg.probe_case, is32 ? CHARON_HANDOFF_LINUX32 : CHARON_HANDOFF_LINUX64,
        kfile.ptr,        ksize,
        g_plan.purgatory, ph,
        g_plan.la57,      g_plan.gbpages,
        sbuf.ptr,         dbuf.ptr,
        lbuf.ptr};
    if (build_probe_world(pin, g_segs, *params) != ProbeStatus::kOk) {
      g_con.printf("charon.efi: %s is not the protocol probe (no \"PRB1\" info block)\n",
                   g_cfg.kernel);
      return fail(EFI_LOAD_ERROR);
    }
    FixedRange fixed[4];
    const size_t nfixed = probe_fixed_ranges(fixed, 4);
    for (size_t i = 0; i < nfixed; ++i)
      if (EFI_STATUS s = reserve(fixed[i].start, fixed[i].len, "probe's fixed area", &g_map);
          EFI_ERROR(s))
        return fail(s);
    g_plan.params_ready = true;
  }
#endif
  g_segs.add({"purgatory", purg.ptr, purg_size, g_plan.purgatory, align_up(ph->mem_size, kPageSize),
              false});
  g_plan.purg_params = params;
  g_plan.purg_entry64 = g_plan.purgatory + ph->entry64;
  g_plan.purg_mem = ph->mem_size;
  for (size_t i = 0; i < g_segs.n; ++i) {
    const Segment& sg = g_segs.seg[i];
    if (EFI_STATUS s = reserve(sg.dest, sg.reserve, sg.what, probe_mode ? &g_map : nullptr);
        EFI_ERROR(s))
      return fail(s);
  }
  if (!probe_mode)
    if (EFI_STATUS s = reserve(g_scratch.start, g_scratch.size(), "page tables", nullptr);
        EFI_ERROR(s))
      return fail(s);

  // ---- the trampoline's list, control page and identity tables
  if (EFI_STATUS s = prepare_relocation(g_segs, g_plan, g_map); EFI_ERROR(s)) return fail(s);
  for (size_t i = 0; i < g_segs.n; ++i)
    g_con.printf("charon.efi: %s: 0x%lx bytes at 0x%lx -> 0x%lx\n", g_segs.seg[i].what,
                 g_segs.seg[i].len, reinterpret_cast<uint64_t>(g_segs.seg[i].src),
                 g_segs.seg[i].dest);
  g_plan.console_serial = g_cfg.console_serial;
  g_plan.console_debugcon = g_cfg.console_debugcon;

  // ---- leave boot services; returns only if that fails
  return fail(exit_and_hand_off(image, g_segs, g_plan, g_map));
}

}  // namespace
}  // namespace charon::efi

extern "C" EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE* st) {
  InitializeLib(image, st);
  charon::efi::console_init(st);
  charon::efi::g_con.printf("charon.efi: charon's UEFI loader\n");
  const EFI_STATUS s = charon::efi::run(image, st);
  charon::efi::g_con.printf("charon.efi: returning to the firmware (status 0x%lx)\n", s);
  return s;
}
