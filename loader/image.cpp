// From input files to a kexec image: parse, place, build boot_params,
// relocate and patch the purgatory, digest. Each step's own file does the
// work; this one only orders them.
#include <charon/loader/elfcore.h>
#include <charon/loader/image.h>
#include <charon/loader/purgatory.h>
#include <charon/loader/setup_segment.h>
#include <charon/x86/identity_map.h>

#include <algorithm>
#include <cstring>

namespace charon::loader {

namespace {

unsigned long long ull(uint64_t v) {
  return v;
}

}  // namespace

uint64_t scratch_bytes_for(const std::vector<Range>& ranges) {
  std::vector<charon_region> regions;
  for (const Range& r : ranges)
    if (r.end > r.start) regions.push_back({r.start, r.end - r.start});
  return charon::x86::scratch_bytes_needed(regions.data(), regions.size());
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

namespace {

// What a crash load adds to the request: the elfcorehdr's size (known
// before its place, since the backup's address changes no count) and a
// check that the reservation can hold everything at all.
struct CrashPlan {
  uint64_t elfcorehdr_size;
};

Result<CrashPlan> check_crash_reservation(const PlanInput& pin, const SystemInfo& sys) {
  if (sys.memory.crash_kernel.empty())
    return fail(
        "-p: no \"Crash kernel\" range in /proc/iomem: boot the running kernel with "
        "crashkernel=SIZE to reserve one");
  if (!sys.crash) return Error{"-p: " + sys.crash_error};
  const auto loads = dump_ranges(sys.memory.ranges, sys.memory.crash_kernel, 0);
  CrashPlan cp{elfcorehdr_size(sys.crash->cpu_notes.size() + 1, loads.size())};

  uint64_t have = 0;
  for (const Range& r : pin.usable) have += r.end - r.start;
  const uint64_t kernel = align_up(std::max(pin.kernel.init_size, pin.kernel.payload_size), kPage);
  const uint64_t need = kernel + align_up(pin.initrd_size, kPage) +
                        align_up(pin.setup_size, kPage) + align_up(pin.purgatory_size, kPage) +
                        align_up(kBackupSize, kPage) + align_up(cp.elfcorehdr_size, kPage) +
                        kPage /* page tables, at least */;
  if (have < need) {
    constexpr uint64_t kKiB = 1024;
    return fail(
        "-p: the crashkernel= reservation is too small: %llu KiB usable, the crash kernel's "
        "segments need at least %llu KiB (kernel init_size %llu KiB, initrd %llu KiB, "
        "backup of low memory %llu KiB, ...); boot with a larger crashkernel=",
        ull(have / kKiB), ull(need / kKiB), ull(kernel / kKiB),
        ull(align_up(pin.initrd_size, kPage) / kKiB), ull(kBackupSize / kKiB));
  }
  return cp;
}

// elfcorehdr=ADDRK (kernel/crash_dump.c, setup_elfcorehdr; kexec-tools
// writes it in KiB, which a page-aligned address always is).
std::string elfcorehdr_arg(uint64_t addr) {
  return strf("elfcorehdr=%lluK", ull(addr / 1024));
}

std::string with_arg(const std::string& cmdline, const std::string& arg) {
  return cmdline.empty() ? arg : cmdline + " " + arg;
}

}  // namespace

Result<KexecImage> build_kexec_image(const LoadRequest& req, const SystemInfo& sys) {
  KexecImage img;

  // ---- kernel
  auto k = parse_bzimage(req.kernel, req.mode);
  if (!k) return Error{req.kernel_name + ": " + k.error()};
  img.kernel = *k;
  // A crash kernel's command line gains elfcorehdr=; its longest form
  // counts for the size check now, its value comes with the placement.
  const std::string longest_cmdline =
      req.on_crash ? with_arg(req.cmdline, elfcorehdr_arg(UINT64_MAX)) : req.cmdline;
  if (auto st = check_cmdline(*k, longest_cmdline); !st) return Error{st.error()};
  if (req.initrd && req.initrd->empty())
    return fail("%s: initrd is empty", req.initrd_name.c_str());

  // ---- purgatory: parse first, its size decides placement
  auto elf = RelocatableElf::parse(req.purgatory);
  if (!elf) return Error{req.purgatory_name + ": " + elf.error()};
  if (auto p = read_params(*elf); !p) return Error{req.purgatory_name + ": " + p.error()};

  // ---- where things go
  uint64_t top_of_ram = 0;
  for (const MemRange& m : sys.memory.ranges)
    if (m.type == E820Type::kRam) top_of_ram = std::max(top_of_ram, m.end);
  if (top_of_ram == 0) return fail("memory map: no System RAM");

  PlanInput pin;
  pin.kernel = *k;
  pin.mode = req.mode;
  pin.initrd_size = req.initrd ? req.initrd->size() : 0;
  pin.setup_size = setup_segment_size(longest_cmdline.size());
  pin.purgatory_size = elf->mem_size();
  pin.purgatory_align = elf->max_align();
  pin.purgatory_max_end = elf->has_relocation(R_X86_64_32S) ? k2G : k4G;
  if (req.on_crash) {
    pin.usable = usable_crash(sys.memory.crash_kernel);
    auto cp = check_crash_reservation(pin, sys);
    if (!cp) return Error{cp.error()};
    pin.backup_src = kBackupSrc;
    pin.backup_size = kBackupSize;
    pin.elfcorehdr_size = cp->elfcorehdr_size;
  } else {
    pin.usable = usable_ram(sys.memory.ranges);
  }
  // 64-bit: map all RAM. 32-bit: everything lies below 4 GiB anyway.
  pin.idmap_limit = req.mode == EntryMode::k32 ? k4G : top_of_ram;
  pin.scratch_bytes = scratch_bytes_for;
  auto plan = plan_layout(pin);
  if (!plan) {
    std::string where = req.on_crash ? " in the crash kernel reservation" : "";
    return Error{plan.error() + where};
  }
  img.plan = *plan;
  if (req.mode == EntryMode::k32) {
    // Defence in depth: the planner was told, and this is the rule the
    // 32-bit handoff relies on (paging off, 32-bit addresses).
    for (const Range& r : {plan->kernel, plan->initrd, plan->setup, plan->purgatory, plan->scratch,
                           plan->backup, plan->elfcorehdr})
      if (r.end > k4G)
        return fail("32-bit entry: a segment at 0x%llx ends above 4 GiB", ull(r.start));
  }

  // ---- boot_params + command line
  SetupInput sin;
  sin.setup_addr = plan->setup.start;
  sin.initrd_addr = req.initrd ? plan->initrd.start : 0;
  sin.initrd_size = req.initrd ? req.initrd->size() : 0;
  sin.cmdline =
      req.on_crash ? with_arg(req.cmdline, elfcorehdr_arg(plan->elfcorehdr.start)) : req.cmdline;
  // The crash kernel's memory is its e820 table, as kexec-tools and
  // Linux's kexec_file_load hand it over: no memmap= needed.
  sin.e820 =
      req.on_crash ? crash_e820(sys.memory, {plan->backup, plan->elfcorehdr}) : sys.memory.ranges;
  sin.acpi_rsdp = sys.acpi_rsdp;
  sin.screen_info = sys.screen_info;
  auto setup = build_setup_segment(*k, req.kernel, sin);
  if (!setup) return Error{setup.error()};

  // ---- segments
  const std::span<const uint8_t> payload(req.kernel.data() + k->payload_offset, k->payload_size);
  img.segments.push_back({strf("%s+0x%zx", req.kernel_name.c_str(), k->payload_offset), "kernel",
                          std::vector<uint8_t>(payload.begin(), payload.end()), plan->kernel.start,
                          plan->kernel.end - plan->kernel.start});
  if (req.initrd)
    img.segments.push_back({req.initrd_name, "initrd", *req.initrd, plan->initrd.start,
                            plan->initrd.end - plan->initrd.start});
  img.segments.push_back({"generated", "boot_params + cmdline", std::move(*setup),
                          plan->setup.start, plan->setup.end - plan->setup.start});
  if (req.on_crash) {
    // Zeros as loaded, and hashed as zeros (kexec-tools' rule): a backup
    // area that kernel A scribbled on fails the digest like any segment.
    img.segments.push_back({"zero-filled", "backup of [0, 640 KiB)",
                            std::vector<uint8_t>(kBackupSize, 0), plan->backup.start,
                            plan->backup.end - plan->backup.start});
    auto hdr = build_elfcorehdr(
        *sys.crash, dump_ranges(sys.memory.ranges, sys.memory.crash_kernel, plan->backup.start));
    if (!hdr) return Error{hdr.error()};
    img.segments.push_back({"generated", "elfcorehdr", std::move(*hdr), plan->elfcorehdr.start,
                            plan->elfcorehdr.end - plan->elfcorehdr.start});
  }

  // ---- purgatory: relocate, then patch (kexec-tools' order)
  if (auto st = elf->relocate(plan->purgatory.start); !st)
    return Error{req.purgatory_name + ": " + st.error()};
  auto params = read_params(*elf);
  if (!params) return Error{params.error()};
  charon_params& p = *params;
  const bool is64 = req.mode == EntryMode::k64;
  p.handoff = is64 ? CHARON_HANDOFF_LINUX64 : CHARON_HANDOFF_LINUX32;
  p.flags |= req.extra_flags;
  p.boot_params = plan->setup.start;
  // boot.rst: the 64-bit entry is at load address + 0x200, the 32-bit one
  // at the load address itself.
  p.kernel_entry = plan->kernel.start + (is64 ? 0x200 : 0);
  p.regs64 = {};
  p.regs64.rsi = plan->setup.start;
  p.regs64.rip = p.kernel_entry;
  p.regs32 = {};
  p.regs32.esi = static_cast<uint32_t>(plan->setup.start);
  p.regs32.eip = static_cast<uint32_t>(p.kernel_entry);
  p.idmap_limit = pin.idmap_limit;
  p.scratch_base = plan->scratch.start;
  p.scratch_size = plan->scratch.end - plan->scratch.start;
  for (auto& r : p.map_ranges) r = {0, 0};
  p.map_ranges[0] = {plan->kernel.start, k->init_size};
  p.console_serial = req.console.serial;
  p.serial_base = req.console.serial_base;
  p.serial_baud = req.console.serial_baud;
  p.console_debugcon = req.console.debugcon;
  p.debugcon_port = req.console.debugcon_port;
  p.panic_kernel = req.on_crash;
  p.skip_checks = 0;
  p.backup_dst = req.on_crash ? plan->backup.start : 0;
  p.backup_src = req.on_crash ? kBackupSrc : 0;
  p.backup_size = req.on_crash ? kBackupSize : 0;

  // The digest covers what the purgatory hands to the kernel: the kernel,
  // the initrd and boot_params with the command line, and for a crash
  // kernel the zeroed backup area and the elfcorehdr, as loaded (the
  // zero-filled tail of each segment is not part of it). Not the purgatory
  // itself, whose parameter block holds the digest.
  std::vector<DigestInput> dig;
  for (const Segment& s : img.segments) dig.push_back({s.mem, s.data});
  if (auto st = fill_digest(dig, p); !st) return Error{st.error()};
  if (auto st = write_params(*elf, p); !st) return Error{st.error()};
  img.params = p;

  auto entry = elf->find_symbol(kEntrySymbol);
  if (!entry) return Error{req.purgatory_name + ": " + entry.error()};
  img.entry = entry->address;
  img.segments.push_back({req.purgatory_name, "purgatory", elf->image(), plan->purgatory.start,
                          plan->purgatory.end - plan->purgatory.start});
  img.segments.push_back({"zero-filled",
                          "page-table scratch",
                          {},
                          plan->scratch.start,
                          plan->scratch.end - plan->scratch.start});
  std::sort(img.segments.begin(), img.segments.end(),
            [](const Segment& a, const Segment& b) { return a.mem < b.mem; });
  return img;
}

}  // namespace charon::loader
