// The hosted adapter: from input files and a SystemInfo to a kexec image.
// The core (common/kimage) makes every decision; this file gathers the
// facts, orders the steps, relocates purgatory.ro, and turns the core's
// status codes into sentences that name the file.
#include <charon/align.h>
#include <charon/loader/elfcore.h>
#include <charon/loader/image.h>
#include <charon/loader/payload.h>
#include <charon/loader/purgatory.h>
#include <charon/x86/identity_map.h>
#include <sys/random.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace charon::loader {

namespace {

unsigned long long ull(uint64_t v) {
  return v;
}

Error core_error(kimage::Status s) {
  return Error{kimage::status_message(s)};
}

// What a crash load adds: the elfcorehdr's size (known before its place,
// since the backup's address changes no count) and a check that the
// reservation can hold everything at all, which names the sizes.
Result<uint64_t> check_crash_reservation(const kimage::ImageInput& in, const BzImage& k,
                                         const SystemInfo& sys, bool elf32) {
  if (sys.memory.crash_kernel.empty())
    return fail(
        "-p: no \"Crash kernel\" range in /proc/iomem: boot the running kernel with "
        "crashkernel=SIZE to reserve one");
  if (!sys.crash) return Error{"-p: " + sys.crash_error};
  const auto loads =
      dump_ranges(sys.memory.ranges, sys.memory.crash_kernel, 0, sys.memory.nested_ram);
  const uint64_t hdr = kimage::elfcorehdr_bytes(elfcore_spec(*sys.crash, loads, elf32));

  const uint64_t have = in.free->total();
  const uint64_t kernel = align_up(k.footprint(), kPageSize);
  const uint64_t initrd = align_up(in.initrd_size, kPageSize);
  const uint64_t need = kernel + initrd +
                        align_up(kimage::setup_bytes(in, in.cmdline_max_len), kPageSize) +
                        align_up(in.purgatory_size, kPageSize) + align_up(kBackupSize, kPageSize) +
                        align_up(hdr, kPageSize) + kPageSize /* page tables, at least */;
  if (have < need) {
    constexpr uint64_t kKiB = 1024;
    return fail(
        "-p: the crashkernel= reservation is too small: %llu KiB usable, the crash kernel's "
        "segments need at least %llu KiB (kernel init_size %llu KiB, initrd %llu KiB, "
        "backup of low memory %llu KiB, ...); boot with a larger crashkernel=",
        ull(have / kKiB), ull(need / kKiB), ull(kernel / kKiB), ull(initrd / kKiB),
        ull(kBackupSize / kKiB));
  }
  return hdr;
}

// elfcorehdr=ADDRK (kernel/crash_dump.c, setup_elfcorehdr; kexec-tools
// writes it in KiB, which a page-aligned address always is).
std::string elfcorehdr_arg(uint64_t addr) {
  return strf("elfcorehdr=%lluK", ull(addr / 1024));
}

std::string with_arg(const std::string& cmdline, const std::string& arg) {
  if (arg.empty()) return cmdline;
  return cmdline.empty() ? arg : cmdline + " " + arg;
}

// What a crash kernel's command line gains besides elfcorehdr=: the RSDP,
// which a crash kernel on an EFI machine cannot find by itself without
// EFI (kexec-tools adds acpi_rsdp= too).
std::string crash_extra_args(const SystemInfo& sys) {
  return sys.acpi_rsdp ? strf("acpi_rsdp=0x%llx", ull(sys.acpi_rsdp)) : std::string();
}

// Whether the mapped inputs still hold what was read from them: a file
// that shrank under the loader is named before anything read from it is
// trusted, or blamed for a parse error.
Status inputs_unchanged(const LoadRequest& req) {
  for (const Bytes* b : {&req.kernel, req.initrd ? &*req.initrd : nullptr, &req.purgatory})
    if (b && b->file())
      if (Status st = b->file()->check_unchanged(); !st) return st;
  return Status::Ok();
}

}  // namespace

Status check_sources_unchanged(const KexecImage& img) {
  for (const Segment& s : img.segments)
    if (s.data.file())
      if (Status st = s.data.file()->check_unchanged(); !st) return st;
  return Status::Ok();
}

Status finish_image(const LoadRequest& req, RelocatableElf& elf, charon_params& p,
                    const Range& purgatory, const Range& scratch, KexecImage& img) {
  // The files are hashed where they are mapped, with SHA-NI where the CPU
  // has it.
  std::vector<kimage::DigestRegion> dig;
  for (const Segment& s : img.segments) dig.push_back({s.data.data(), s.mem, s.data.size()});
  if (kimage::Status s = kimage::fill_digests(dig.data(), dig.size(),
                                              sha256_choose(CpuFeatures::detect(), true), p);
      s != kimage::Status::kOk)
    return Error{kimage::status_message(s)};
  // A file that shrank or changed meanwhile made this digest over bytes
  // it no longer holds.
  if (Status st = inputs_unchanged(req); !st) return st;
  if (Status st = check_sources_unchanged(img); !st) return st;
  if (auto st = write_params(elf, p); !st) return st;
  img.params = p;

  auto entry = elf.find_symbol(kEntrySymbol);
  if (!entry) return Error{req.purgatory_name + ": " + entry.error()};
  img.entry = entry->address;
  if (auto e32 = elf.find_symbol("charon_entry32")) img.entry32 = e32->address;
  const auto seg = [](const Range& r) { return r.end - r.start; };
  img.segments.push_back(
      {req.purgatory_name, "purgatory", elf.image(), purgatory.start, seg(purgatory)});
  img.segments.push_back({"zero-filled", "page-table scratch", {}, scratch.start, seg(scratch)});
  std::sort(img.segments.begin(), img.segments.end(),
            [](const Segment& a, const Segment& b) { return a.mem < b.mem; });
  return Status::Ok();
}

uint64_t scratch_bytes_for(const std::vector<Range>& memory, const std::vector<Range>& required) {
  auto regions = [](const std::vector<Range>& v) {
    std::vector<charon_region> out;
    for (const Range& r : v)
      if (r.end > r.start) out.push_back({r.start, r.end - r.start});
    return out;
  };
  const std::vector<charon_region> m = regions(memory), r = regions(required);
  return charon::x86::scratch_bytes_needed(x86::MapLayout{m.data(), m.size(), r.data(), r.size()});
}

Status free_list_from(const std::vector<Range>& usable, kimage::FreeList& out) {
  for (const Range& r : usable)
    if (out.add(r.start, r.end) != kimage::Status::kOk)
      return fail("memory map: more than %zu separate free ranges; charon-kexec cannot plan it",
                  kimage::FreeList::kCapacity);
  return Status::Ok();
}

std::vector<MemRange> crash_e820(const MemoryMap& map, const std::vector<Range>& held) {
  std::vector<MemRange> out;
  std::vector<Range> crash;
  for (const MemRange& c : map.crash_kernel) crash.push_back({c.start, c.end});
  for (const MemRange& m : map.ranges) {
    if (m.type != E820Type::kRam) {
      out.push_back(m);
      continue;
    }
    if (m.start < kBackupSize)
      out.push_back({m.start, std::min(m.end, kBackupSize), E820Type::kRam});
    for (const Range& c : crash) {
      const uint64_t s = std::max({m.start, c.start, kBackupSize}), e = std::min(m.end, c.end);
      if (e <= s) continue;
      for (const Range& r : subtract_ranges({{s, e}}, held))
        out.push_back({r.start, r.end, E820Type::kRam});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const MemRange& a, const MemRange& b) { return a.start < b.start; });
  return out;
}

Result<KexecImage> build_kexec_image(const LoadRequest& req, const SystemInfo& sys) {
  KexecImage img;

  // ---- kernel: the core's checks, with the values named for the user;
  // a vmlinux's ELF checks, and what the core says a bzImage header would
  auto vm = std::make_unique<kimage::PayloadImage>();
  Result<BzImage> k = BzImage{};
  if (req.vmlinux) {
    const bool elf64 = req.kernel.size() > 4 && req.kernel.data()[4] == 2;
    const auto type = elf64 ? kimage::PayloadType::kElf64 : kimage::PayloadType::kElf32;
    kimage::Status s = kimage::parse_payload(req.kernel.data(), req.kernel.size(), type, *vm);
    if (s == kimage::Status::kOk) s = kimage::vmlinux_kernel(*vm, *k);
    if (s != kimage::Status::kOk) {
      if (Status st = inputs_unchanged(req); !st) return Error{st.error()};
      return fail("%s (%s, --args-linux): %s", req.kernel_name.c_str(),
                  kimage::payload_type_name(type), kimage::status_message(s));
    }
    if (req.mode != (elf64 ? EntryMode::k64 : EntryMode::k32))
      return fail("%s: %s", req.kernel_name.c_str(),
                  kimage::status_message(kimage::Status::kVmlinuxEntry));
  } else {
    k = parse_bzimage(req.kernel, req.mode);
  }
  if (!k) {
    if (Status st = inputs_unchanged(req); !st) return Error{st.error()};
    return Error{req.kernel_name + ": " + k.error()};
  }
  img.kernel = *k;
  // A crash kernel's command line gains elfcorehdr=; its longest form
  // counts for the size check now, its value comes with the placement.
  const std::string crash_base = with_arg(req.cmdline, crash_extra_args(sys));
  const std::string longest =
      req.on_crash ? with_arg(crash_base, elfcorehdr_arg(UINT64_MAX)) : req.cmdline;
  if (kimage::Status s = kimage::check_cmdline(*k, longest.data(), longest.size());
      s != kimage::Status::kOk) {
    if (s == kimage::Status::kCmdlineTooLong)
      return fail("command line is %zu bytes; the kernel's cmdline_size allows %u", longest.size(),
                  k->cmdline_max);
    return core_error(s);
  }
  if (req.initrd && req.initrd->empty())
    return fail("%s: initrd is empty", req.initrd_name.c_str());

  // ---- purgatory: parse first, its size decides placement
  auto elf = RelocatableElf::parse(req.purgatory);
  if (!elf) {
    if (Status st = inputs_unchanged(req); !st) return Error{st.error()};
    return Error{req.purgatory_name + ": " + elf.error()};
  }
  if (auto p = read_params(*elf); !p) return Error{req.purgatory_name + ": " + p.error()};

  // ---- the facts of this world, in the core's one input structure
  if (std::none_of(sys.memory.ranges.begin(), sys.memory.ranges.end(),
                   [](const MemRange& m) { return m.type == E820Type::kRam; }))
    return fail("memory map: no System RAM");
  auto free = std::make_unique<kimage::FreeList>();
  if (auto st = free_list_from(req.usable      ? *req.usable
                               : req.on_crash  ? usable_crash(sys.memory.crash_kernel)
                               : req.real_mode ? usable_ram_with_low(sys.memory.ranges)
                                               : usable_ram(sys.memory.ranges),
                               *free);
      !st)
    return Error{st.error()};
  boot::screen_info si{};
  kimage::ImageInput in;
  in.kernel = req.kernel.data();
  in.kernel_size = req.kernel.size();
  if (req.vmlinux) in.vmlinux = vm.get();
  in.has_initrd = req.initrd.has_value();
  in.initrd_size = req.initrd ? req.initrd->size() : 0;
  in.cmdline_max_len = longest.size();
  in.entry = req.mode;
  in.real_mode = req.real_mode;
  in.free = free.get();
  in.memory_map = sys.memory.ranges.data();
  in.nmemory_map = sys.memory.ranges.size();
  in.la57 = sys.la57;
  in.acpi_rsdp = sys.acpi_rsdp;
  if (sys.screen_info) {
    std::memcpy(&si, sys.screen_info->data(), sizeof si);
    in.screen_info = &si;
  }
  in.secure_boot = sys.secure_boot;

  // ---- setup_data: a fresh RNG seed, and the running kernel's nodes that
  // describe the machine (sysinfo.cpp says which and why)
  std::vector<uint8_t> seed = req.rng_seed;
  if (seed.empty()) {
    seed.resize(kRngSeedBytes);
    if (getrandom(seed.data(), seed.size(), 0) != static_cast<ssize_t>(seed.size()))
      return fail("getrandom: cannot read %zu random bytes for SETUP_RNG_SEED", seed.size());
  }
  std::vector<kimage::SetupDataNode> nodes = {
      {boot::SETUP_RNG_SEED, seed.data(), static_cast<uint32_t>(seed.size())}};
  for (const SetupDataBlob& b : sys.setup_data)
    nodes.push_back({b.type, b.data.data(), static_cast<uint32_t>(b.data.size())});
  in.setup_data = nodes.data();
  in.nsetup_data = nodes.size();
  img.notes.push_back(strf("setup_data: SETUP_RNG_SEED (%zu bytes)", seed.size()));
  for (const SetupDataBlob& b : sys.setup_data)
    img.notes.push_back(strf("setup_data: type %u (%zu bytes) passed on from the running kernel",
                             b.type, b.data.size()));

  // ---- EFI: what the running kernel knows of its firmware, for a kernel
  // that can take it (XLF_EFI_KEXEC), so that it keeps runtime services
  if (sys.efi && (k->xloadflags & boot::XLF_EFI_KEXEC)) {
    const EfiFacts& e = *sys.efi;
    in.efi.present = true;
    in.efi.loader_signature = e.info.efi_loader_signature;
    in.efi.systab = uint64_t{e.info.efi_systab_hi} << 32 | e.info.efi_systab;
    in.efi.memdesc_version = e.info.efi_memdesc_version;
    in.efi.runtime_map = e.runtime_map.data();
    in.efi.runtime_map_size = static_cast<uint32_t>(e.runtime_map.size());
    in.efi.desc_size = sizeof(boot::efi_memory_desc);
    in.efi.setup = e.setup;
    img.notes.push_back(
        strf("EFI: efi_info (system table 0x%llx, %zu runtime-map entries) and SETUP_EFI",
             ull(in.efi.systab), e.runtime_map.size() / sizeof(boot::efi_memory_desc)));
  } else if (sys.efi) {
    img.notes.push_back(req.vmlinux ? "EFI: none: a vmlinux has no xloadflags to say "
                                      "XLF_EFI_KEXEC, so it may not keep EFI runtime services"
                                    : "EFI: none: the kernel lacks XLF_EFI_KEXEC, so it cannot "
                                      "keep EFI runtime services");
  } else {
    img.notes.push_back("EFI: none: " + sys.efi_absent);
  }
  if (sys.acpi_rsdp)
    img.notes.push_back(
        strf("ACPI: RSDP 0x%llx from %s", ull(sys.acpi_rsdp),
             sys.acpi_rsdp_from.empty() ? "the system" : sys.acpi_rsdp_from.c_str()));

  in.purgatory_size = elf->mem_size();
  in.purgatory_align = elf->max_align();
  in.purgatory_max_end = elf->has_relocation(R_X86_64_32S) ? k2GiB : k4GiB;
  in.console = req.console;
  in.flags = req.extra_flags;
  if (req.on_crash) {
    auto hdr = check_crash_reservation(in, *k, sys, req.elf32_core);
    if (!hdr) return Error{hdr.error()};
    in.crash = {true, kBackupSrc, kBackupSize, *hdr};
    const KernelLayout& l = sys.crash->layout;
    img.notes.push_back(
        l.page_offset
            ? strf("elfcorehdr: ELF%d, RAM at its direct-map address (page_offset 0x%llx from "
                   "%s)%s",
                   req.elf32_core ? 32 : 64, ull(l.page_offset), l.page_offset_from.c_str(),
                   l.text_size ? ", kernel text PT_LOAD" : "")
            : strf("elfcorehdr: ELF%d, p_vaddr 0: the direct-map base is unknown (%s)",
                   req.elf32_core ? 32 : 64,
                   l.page_offset_from.empty() ? "no /proc/kcore" : l.page_offset_from.c_str()));
  }
  // Memory maps beyond boot_params' 128 entries go on in SETUP_E820_EXT
  // (a crash kernel's map may split around the backup and the header).
  const size_t map_entries = sys.memory.ranges.size() + (req.on_crash ? 4 : 0);
  if (!req.real_mode && map_entries > boot::E820_MAX_ENTRIES_ZEROPAGE) {
    in.e820_ext_room = map_entries - boot::E820_MAX_ENTRIES_ZEROPAGE;
    img.notes.push_back(strf("e820: %zu entries, those beyond %zu in SETUP_E820_EXT",
                             sys.memory.ranges.size(), boot::E820_MAX_ENTRIES_ZEROPAGE));
  }

  // ---- where things go
  kimage::ImagePlan& plan = img.plan;
  if (kimage::Status s = kimage::plan_image(in, plan); s != kimage::Status::kOk)
    return Error{std::string(kimage::status_message(s)) +
                 (s != kimage::Status::kNo5Level ? ""
                  : req.vmlinux ? "; a vmlinux has no xloadflags to say it takes 5-level "
                                  "paging: load its bzImage"
                                : "; use --entry-32bit") +
                 (req.on_crash ? " in the crash kernel reservation" : "")};

  if (req.real_mode)
    img.notes.push_back(
        strf("real mode: setup code (%zu bytes) at 0x%llx, segment %04llx, heap_end_ptr 0x%llx, "
             "stack to 0x%llx, cmdline at 0x%llx, code32_start 0x%llx, purgatory at 0x%llx (below "
             "1 MiB); the setup code asks the BIOS for the memory map",
             k->setup_size, ull(plan.setup.start), ull(plan.setup.start >> 4),
             ull(kimage::kRealModeHeapEnd - 0x200), ull(kimage::kRealModeHeapEnd),
             ull(plan.cmdline), ull(plan.kernel_seg.start), ull(plan.purgatory.start)));
  img.notes.push_back(strf("identity map: %zu memory ranges (RAM, ACPI, NVS)", plan.nmemory));
  if (plan.memory_gaps_closed)
    img.notes.push_back(
        strf("identity map: the %zu smallest gaps between memory ranges are mapped "
             "too: the parameter block holds %d ranges",
             plan.memory_gaps_closed, CHARON_MAX_MEMORY_RANGES));

  // ---- boot_params, the command line and the e820 table. The crash
  // kernel's memory is its e820 table, as kexec-tools and Linux's
  // kexec_file_load hand it over: no memmap= needed.
  const std::string cmdline =
      req.on_crash ? with_arg(crash_base, elfcorehdr_arg(plan.elfcorehdr.start)) : req.cmdline;
  const std::vector<MemRange> e820 =
      req.on_crash ? crash_e820(sys.memory, {plan.backup, plan.elfcorehdr}) : sys.memory.ranges;
  img.cmdline = cmdline;
  std::vector<uint8_t> setup(kimage::setup_bytes(in, cmdline.size()));
  if (kimage::Status s = kimage::build_setup(in, plan, cmdline.data(), cmdline.size(), e820.data(),
                                             e820.size(), setup.data(), setup.size());
      s != kimage::Status::kOk) {
    if (s == kimage::Status::kTooManyE820)
      return fail("memory map has %zu entries; boot_params and SETUP_E820_EXT hold %zu",
                  e820.size(), boot::E820_MAX_ENTRIES_ZEROPAGE + in.e820_ext_room);
    return core_error(s);
  }

  // ---- segments. The kernel's and the initrd's are views of the
  // caller's bytes (mapped files in charon-kexec): never copied.
  const auto seg = [](const Range& r) { return r.end - r.start; };
  if (req.vmlinux) {
    // Each PT_LOAD where it was linked, as whole pages; the planner took
    // the whole footprint, gaps between them included.
    kimage::Range chunks[kimage::kMaxLoadSegments];
    const size_t n = kimage::image_chunks(*vm, chunks);
    for (size_t i = 0; i < n; ++i)
      img.segments.push_back({req.kernel_name, strf("vmlinux segment %zu", i),
                              chunk_bytes(req.kernel, *vm, chunks[i]), chunks[i].start,
                              seg(chunks[i])});
    img.notes.push_back(
        strf("vmlinux: entry 0x%llx (e_entry, physical), --args-linux: "
             "boot_params with a setup header of protocol %u.%02u",
             ull(plan.kernel_entry), k->version >> 8, k->version & 0xff));
  } else {
    img.segments.push_back({strf("%s+0x%zx", req.kernel_name.c_str(), k->payload_offset), "kernel",
                            req.kernel.slice(k->payload_offset, k->payload_size),
                            plan.kernel_seg.start, seg(plan.kernel_seg)});
  }
  if (req.initrd)
    img.segments.push_back(
        {req.initrd_name, "initrd", *req.initrd, plan.initrd.start, seg(plan.initrd)});
  img.segments.push_back(
      {req.real_mode ? strf("%s+0", req.kernel_name.c_str()) : "generated",
       req.real_mode ? "setup code, heap, cmdline (real mode)" : "boot_params + cmdline",
       std::move(setup), plan.setup.start, seg(plan.setup)});
  if (req.on_crash) {
    // Zeros as loaded, and hashed as zeros (kexec-tools' rule): a backup
    // area that kernel A scribbled on fails the digest like any segment.
    img.segments.push_back({"zero-filled", "backup of [0, 640 KiB)",
                            std::vector<uint8_t>(kBackupSize, 0), plan.backup.start,
                            seg(plan.backup)});
    auto hdr = build_elfcorehdr(*sys.crash,
                                dump_ranges(sys.memory.ranges, sys.memory.crash_kernel,
                                            plan.backup.start, sys.memory.nested_ram),
                                req.elf32_core);
    if (!hdr) return Error{hdr.error()};
    img.segments.push_back(
        {"generated", "elfcorehdr", std::move(*hdr), plan.elfcorehdr.start, seg(plan.elfcorehdr)});
  }

  // ---- purgatory: relocate, then patch (kexec-tools' order)
  if (auto st = elf->relocate(plan.purgatory.start); !st)
    return Error{req.purgatory_name + ": " + st.error()};
  auto params = read_params(*elf);
  if (!params) return Error{params.error()};
  charon_params& p = *params;
  if (kimage::Status s = kimage::fill_params(in, plan, p); s != kimage::Status::kOk)
    return core_error(s);
  // The digest covers what the purgatory hands to the kernel: the kernel,
  // the initrd and boot_params with the command line, and for a crash
  // kernel the zeroed backup area and the elfcorehdr, as loaded (the
  // zero-filled tail of each segment is not part of it). Not the purgatory
  // itself, whose parameter block holds the digest.
  if (Status st = finish_image(req, *elf, p, plan.purgatory, plan.scratch, img); !st)
    return Error{st.error()};
  return img;
}

}  // namespace charon::loader
