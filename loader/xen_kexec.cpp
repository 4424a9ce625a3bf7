// Xen's kexec hypercall from dom0: what Xen reports, and load, unload,
// status and exec. Every argument Xen reads or writes lies in a hypercall
// buffer (xen.h); the hypercall itself is the XenHypercall edge, so tests
// play the hypervisor.
#include <charon/align.h>
#include <charon/loader/sysinfo.h>
#include <charon/loader/xen.h>

#include <cerrno>
#include <cstring>

namespace charon::loader {

namespace {

unsigned long long ull(uint64_t v) {
  return v;
}

uint64_t addr_of(const void* p) {
  return reinterpret_cast<uintptr_t>(p);
}

const char* range_name(int range) {
  switch (range) {
    case KEXEC_RANGE_MA_CRASH:
      return "the crash area (KEXEC_RANGE_MA_CRASH)";
    case KEXEC_RANGE_MA_XEN:
      return "Xen's own range (KEXEC_RANGE_MA_XEN)";
    case KEXEC_RANGE_MA_CPU:
      return "a CPU's crash note (KEXEC_RANGE_MA_CPU)";
    case KEXEC_RANGE_MA_VMCOREINFO:
      return "Xen's vmcoreinfo (KEXEC_RANGE_MA_VMCOREINFO)";
    default:
      return "a range";
  }
}

// Entries Xen's machine map may have; XENMEM_machine_memory_map answers
// with as many as fit and says how many.
constexpr uint32_t kMaxE820 = 1024;

E820Type e820_type(uint32_t t) {
  switch (t) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 7:
    case 12:
      return static_cast<E820Type>(t);
    default:
      return E820Type::kReserved;  // unknown: not for the next kernel to use
  }
}

}  // namespace

std::string explain_xen_error(long err, const char* what, bool on_crash) {
  const long e = -err;
  switch (e) {
    case EPERM:
      return strf("Xen refused %s (EPERM): only dom0's root may use the kexec hypercall", what);
    case ENOSYS:
      return strf(
          "Xen has no kexec (ENOSYS from %s): the hypervisor was built without "
          "CONFIG_KEXEC",
          what);
    case EADDRNOTAVAIL:
      return on_crash
                 ? strf(
                       "Xen rejected %s (EADDRNOTAVAIL): a segment or the entry lies "
                       "outside Xen's crashkernel= area",
                       what)
                 : strf("Xen rejected %s (EADDRNOTAVAIL): a segment is not page-aligned", what);
    case EINVAL:
      return strf(
          "Xen rejected %s (EINVAL): overlapping segments, or a type or range it "
          "does not know",
          what);
    case ENOMEM:
      return strf("Xen has not enough free memory for %s (ENOMEM)", what);
    case EBUSY:
      return strf("Xen is busy with a kexec (EBUSY during %s)", what);
    case EFAULT:
      return strf("Xen could not read the arguments of %s (EFAULT)", what);
    default:
      return strf("%s failed: %s", what, std::strerror(static_cast<int>(e)));
  }
}

Result<XenRange> xen_get_range(XenHypercall& xen, int range, int nr) {
  auto* r = reinterpret_cast<xen_kexec_range_t*>(xen.buffer(sizeof(xen_kexec_range_t)));
  if (!r) return fail("no hypercall buffer for kexec_get_range");
  r->range = range;
  r->nr = nr;
  if (long e = xen.call(kHypervisorKexecOp, KEXEC_CMD_kexec_get_range, addr_of(r)); e < 0)
    return Error{explain_xen_error(e, "kexec_get_range", false) + " (" + range_name(range) + ")"};
  if (r->start + r->size < r->start || r->start + r->size + kPageSize < r->start)
    return fail("kexec_get_range: %s [0x%llx+0x%llx] wraps", range_name(range), ull(r->start),
                ull(r->size));
  return XenRange{r->start, r->size};
}

Result<std::vector<MemRange>> xen_machine_memory_map(XenHypercall& xen) {
  auto* m = reinterpret_cast<xen_memory_map_t*>(xen.buffer(sizeof(xen_memory_map_t)));
  auto* e = reinterpret_cast<xen_e820entry_t*>(xen.buffer(kMaxE820 * sizeof(xen_e820entry_t)));
  if (!m || !e) return fail("no hypercall buffer for XENMEM_machine_memory_map");
  m->nr_entries = kMaxE820;
  m->buffer = addr_of(e);
  if (long r = xen.call(kHypervisorMemoryOp, XENMEM_machine_memory_map, addr_of(m)); r < 0)
    return Error{explain_xen_error(r, "XENMEM_machine_memory_map", false)};
  if (m->nr_entries == 0 || m->nr_entries > kMaxE820)
    return fail("XENMEM_machine_memory_map: Xen answered %u entries", m->nr_entries);
  std::vector<MemRange> out;
  for (uint32_t i = 0; i < m->nr_entries; ++i) {
    const xen_e820entry_t x = e[i];
    if (x.size == 0) continue;
    if (x.addr + x.size < x.addr)
      return fail("XENMEM_machine_memory_map: entry %u [0x%llx+0x%llx] wraps", i, ull(x.addr),
                  ull(x.size));
    out.push_back({x.addr, x.addr + x.size, e820_type(x.type)});
  }
  auto n = normalize_ranges(std::move(out));
  if (!n) return Error{"XENMEM_machine_memory_map: " + n.error()};
  return *n;
}

Result<XenFacts> read_xen_facts(XenHypercall& xen) {
  XenFacts f;
  auto map = xen_machine_memory_map(xen);
  if (!map) return Error{map.error()};
  f.machine_map = std::move(*map);
  auto x = xen_get_range(xen, KEXEC_RANGE_MA_XEN, 0);
  if (!x) return Error{x.error()};
  f.xen = *x;
  auto c = xen_get_range(xen, KEXEC_RANGE_MA_CRASH, 0);
  if (!c) return Error{c.error()};
  f.crash = *c;
  // xen/common/kexec.c answers -EINVAL past the last physical CPU.
  for (int cpu = 0; cpu < 4096; ++cpu) {
    auto n = xen_get_range(xen, KEXEC_RANGE_MA_CPU, cpu);
    if (!n) break;
    if (n->size == 0) continue;  // an offline CPU: no notes yet
    f.cpu_notes.push_back(*n);
  }
  if (auto v = xen_get_range(xen, KEXEC_RANGE_MA_VMCOREINFO, 0)) f.vmcoreinfo = *v;
  return f;
}

void apply_xen_facts(const XenFacts& f, const std::string& root, SystemInfo& sys) {
  sys.memory.ranges = f.machine_map;
  sys.memory.nested_ram.clear();
  sys.memory.crash_kernel.clear();
  if (f.crash.size)
    sys.memory.crash_kernel.push_back(
        {f.crash.start, f.crash.start + f.crash.size, E820Type::kRam});
  // Xen runs without LA57 and enters the image under its own 4-level map;
  // dom0's EFI view is the hypervisor's, not one a native kernel can keep.
  sys.la57 = false;
  sys.efi.reset();
  sys.efi_absent = "under Xen, dom0's EFI facts are the hypervisor's";
  sys.crash.reset();
  sys.crash_error.clear();
  CrashInfo ci;
  ci.layout.page_offset_from = "none under Xen: dom0's direct map does not cover machine memory";
  for (const XenRange& n : f.cpu_notes) ci.cpu_notes.push_back({n.start, n.size});
  const auto dom0 = read_text_file(root + "/sys/kernel/vmcoreinfo");
  const auto dom0_vmci = dom0 ? parse_vmcoreinfo(*dom0) : std::nullopt;
  if (f.vmcoreinfo.size && dom0_vmci) {
    ci.cpu_notes.push_back({f.vmcoreinfo.start, f.vmcoreinfo.size});
    ci.vmcoreinfo = *dom0_vmci;
  } else if (f.vmcoreinfo.size) {
    ci.vmcoreinfo = {f.vmcoreinfo.start, f.vmcoreinfo.size};
  } else if (dom0_vmci) {
    ci.vmcoreinfo = *dom0_vmci;
  }
  if (ci.cpu_notes.empty() || !ci.vmcoreinfo.size) {
    sys.crash_error =
        "Xen reported no crash notes or no vmcoreinfo (KEXEC_RANGE_MA_CPU, "
        "KEXEC_RANGE_MA_VMCOREINFO)";
    return;
  }
  sys.crash = std::move(ci);
}

Result<xen_kexec_load_t*> xen_build_load(XenHypercall& xen, const KexecImage& img, bool on_crash,
                                         uint16_t arch) {
  // EM_386: Xen enters in 32-bit mode with paging off, so at
  // charon_entry32; EM_X86_64: it calls purgatory_start in long mode.
  const uint64_t entry = arch == kEm386 ? img.entry32 : img.entry;
  if (arch == kEm386 && !entry)
    return fail("the purgatory has no charon_entry32 for a 32-bit (EM_386) entry");
  const size_t n = img.segments.size() + 1;
  auto* segs = reinterpret_cast<xen_kexec_segment_t*>(xen.buffer(n * sizeof(xen_kexec_segment_t)));
  auto* load = reinterpret_cast<xen_kexec_load_t*>(xen.buffer(sizeof(xen_kexec_load_t)));
  if (!segs || !load) return fail("no hypercall buffer for the segment list");
  size_t i = 0;
  for (const Segment& s : img.segments) {
    if (!is_aligned(s.mem, kPageSize) || !is_aligned(s.memsz, kPageSize) || s.data.size() > s.memsz)
      return fail("internal error: segment %s at 0x%llx is not page-aligned", s.what.c_str(),
                  ull(s.mem));
    // Never a null buffer: Xen would only map such a segment, not zero
    // it (kimage_load_segment); an empty one is zero-filled by its size.
    uint8_t* buf = xen.buffer(std::max<size_t>(s.data.size(), 1));
    if (!buf)
      return fail("no hypercall buffer for the %s (%zu bytes)", s.what.c_str(), s.data.size());
    if (!s.data.empty()) std::memcpy(buf, s.data.data(), s.data.size());
    segs[i++] = {addr_of(buf), s.data.size(), s.mem, s.memsz};
  }
  // kexec-tools' xen_kexec_load: a segment with no buffer makes Xen map
  // [0, 1 MiB) 1:1 for the image, copying nothing there.
  segs[i++] = {0, 0, 0, k1MiB};
  *load = {on_crash ? KEXEC_TYPE_CRASH : KEXEC_TYPE_DEFAULT,
           0,
           arch,
           static_cast<uint32_t>(n),
           addr_of(segs),
           entry};
  return load;
}

Status xen_kexec_load(XenHypercall& xen, const KexecImage& img, bool on_crash, uint16_t arch) {
  auto load = xen_build_load(xen, img, on_crash, arch);
  if (!load) return Error{load.error()};
  if (long e = xen.call(kHypervisorKexecOp, KEXEC_CMD_kexec_load, addr_of(*load)); e < 0)
    return Error{explain_xen_error(e, "kexec_load", on_crash)};
  return Status::Ok();
}

Status xen_kexec_unload(XenHypercall& xen, bool on_crash) {
  auto* u = reinterpret_cast<xen_kexec_unload_t*>(xen.buffer(sizeof(xen_kexec_unload_t)));
  if (!u) return fail("no hypercall buffer for kexec_unload");
  u->type = on_crash ? KEXEC_TYPE_CRASH : KEXEC_TYPE_DEFAULT;
  if (long e = xen.call(kHypervisorKexecOp, KEXEC_CMD_kexec_unload, addr_of(u)); e < 0)
    return Error{explain_xen_error(e, "kexec_unload", on_crash)};
  return Status::Ok();
}

Result<bool> xen_kexec_status(XenHypercall& xen, bool on_crash) {
  auto* s = reinterpret_cast<xen_kexec_unload_t*>(xen.buffer(sizeof(xen_kexec_unload_t)));
  if (!s) return fail("no hypercall buffer for kexec_status");
  s->type = on_crash ? KEXEC_TYPE_CRASH : KEXEC_TYPE_DEFAULT;
  const long r = xen.call(kHypervisorKexecOp, KEXEC_CMD_kexec_status, addr_of(s));
  if (r < 0) return Error{explain_xen_error(r, "kexec_status", on_crash)};
  return r == 1;
}

Status xen_kexec_exec(XenHypercall& xen) {
  auto loaded = xen_kexec_status(xen, false);
  if (!loaded) return Error{"-e: " + loaded.error()};
  if (!*loaded) return fail("-e: Xen has no kexec image loaded; load one with -l first");
  auto* x = reinterpret_cast<xen_kexec_exec_t*>(xen.buffer(sizeof(xen_kexec_exec_t)));
  if (!x) return fail("no hypercall buffer for kexec");
  x->type = KEXEC_TYPE_DEFAULT;
  const long e = xen.call(kHypervisorKexecOp, KEXEC_CMD_kexec, addr_of(x));
  return Error{"-e: " + explain_xen_error(e < 0 ? e : -EIO, "kexec", false)};
}

}  // namespace charon::loader
