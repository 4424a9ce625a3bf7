// charon-kexec under Xen: in dom0 the hypervisor, not the dom0 kernel,
// owns kexec. A PV dom0 kernel does not even refuse kexec_load(2): it
// oopses in machine_kexec_prepare. So in dom0 every load, unload, status
// and exec goes through __HYPERVISOR_kexec_op (xen/include/public/
// kexec.h), the machine memory map comes from XENMEM_machine_memory_map,
// and the crash reservation and notes from KEXEC_CMD_kexec_get_range.
//
// The hypercall ABI structures below mirror Xen's public headers (x86_64
// guest: a guest handle is a 64-bit pointer, `unsigned long` 64 bits).
#pragma once
#include <charon/loader/image.h>
#include <charon/loader/memmap.h>
#include <charon/result.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace charon::loader {

// ---- where charon-kexec runs (xen_detect.cpp) --------------------------

enum class XenRole {
  kNone,         // no Xen, or an HVM guest: the Linux syscalls, as on hardware
  kDom0,         // the control domain: Xen's kexec hypercall
  kUnsupported,  // a PV or PVH domU: no kexec at all
};

struct XenWorld {
  XenRole role = XenRole::kNone;
  std::string how;  // what told us, for --dry-run and the refusal
};

// From files under `root`: /proc/xen/capabilities containing "control_d"
// (xenfs mounted), else /sys/hypervisor/type "xen" with dom0's all-zero
// /sys/hypervisor/uuid; a Xen guest that is not dom0 is refused unless
// /sys/hypervisor/guest_type says HVM.
XenWorld detect_xen(const std::string& root);

// The one sentence for a domU.
std::string xen_domu_refusal(const XenWorld& w);

// ---- the hypercall ABI (xen/include/public/{xen,kexec,memory}.h) --------

inline constexpr unsigned kHypervisorMemoryOp = 12;  // __HYPERVISOR_memory_op
inline constexpr unsigned kHypervisorKexecOp = 37;   // __HYPERVISOR_kexec_op

inline constexpr unsigned KEXEC_CMD_kexec = 0;
inline constexpr unsigned KEXEC_CMD_kexec_get_range = 3;
inline constexpr unsigned KEXEC_CMD_kexec_load = 4;
inline constexpr unsigned KEXEC_CMD_kexec_unload = 5;
inline constexpr unsigned KEXEC_CMD_kexec_status = 6;
inline constexpr uint8_t KEXEC_TYPE_DEFAULT = 0;
inline constexpr uint8_t KEXEC_TYPE_CRASH = 1;
inline constexpr int KEXEC_RANGE_MA_CRASH = 0;
inline constexpr int KEXEC_RANGE_MA_XEN = 1;
inline constexpr int KEXEC_RANGE_MA_CPU = 2;
inline constexpr int KEXEC_RANGE_MA_VMCOREINFO = 6;
inline constexpr unsigned XENMEM_machine_memory_map = 10;
inline constexpr uint16_t kEmX86_64 = 62;  // EM_X86_64
inline constexpr uint16_t kEm386 = 3;      // EM_386

struct xen_kexec_exec_t {
  int32_t type;
};
struct xen_kexec_range_t {
  int32_t range;
  int32_t nr;
  uint64_t size;  // unsigned long
  uint64_t start;
};
struct xen_kexec_segment_t {
  uint64_t buf;  // XEN_GUEST_HANDLE(const_void), padded to 64 bits
  uint64_t buf_size;
  uint64_t dest_maddr;
  uint64_t dest_size;
};
struct xen_kexec_load_t {
  uint8_t type;  // KEXEC_TYPE_*
  uint8_t _pad;
  uint16_t arch;  // EM_*
  uint32_t nr_segments;
  uint64_t segments;  // XEN_GUEST_HANDLE(xen_kexec_segment_t)
  uint64_t entry_maddr;
};
struct xen_kexec_unload_t {  // also xen_kexec_status_t
  uint8_t type;
};
struct xen_memory_map_t {  // struct xen_memory_map
  uint32_t nr_entries;
  uint32_t _pad;
  uint64_t buffer;  // XEN_GUEST_HANDLE(void) of e820 entries
};
struct [[gnu::packed]] xen_e820entry_t {  // Xen's struct __packed e820entry
  uint64_t addr;
  uint64_t size;
  uint32_t type;
};
static_assert(sizeof(xen_kexec_exec_t) == 4);
static_assert(sizeof(xen_kexec_range_t) == 24 && offsetof(xen_kexec_range_t, size) == 8);
static_assert(sizeof(xen_kexec_segment_t) == 32);
static_assert(sizeof(xen_kexec_load_t) == 24 && offsetof(xen_kexec_load_t, arch) == 2 &&
              offsetof(xen_kexec_load_t, nr_segments) == 4 &&
              offsetof(xen_kexec_load_t, segments) == 8 &&
              offsetof(xen_kexec_load_t, entry_maddr) == 16);
static_assert(sizeof(xen_memory_map_t) == 16 && offsetof(xen_memory_map_t, buffer) == 8);
static_assert(sizeof(xen_e820entry_t) == 20);

// ---- the thin edge: hypercalls and the memory they may touch ------------

class XenHypercall {
 public:
  virtual ~XenHypercall() = default;
  // `bytes` of zeroed memory the hypervisor may read and write during a
  // hypercall (libxencall's "hypercall buffers": /dev/xen/hypercall, whose
  // pages the kernel keeps resident). Valid until the object goes; nullptr
  // when none is left.
  virtual uint8_t* buffer(size_t bytes) = 0;
  // Hypercall `op` with two arguments; the result is Xen's (>= 0), or
  // -errno (privcmd passes Xen's error codes, which are Linux's on x86).
  virtual long call(unsigned op, uint64_t arg0, uint64_t arg1) = 0;
};

// /dev/xen/privcmd (IOCTL_PRIVCMD_HYPERCALL) with buffers from an mmap of
// /dev/xen/hypercall; an error says which device is missing or refused.
Result<std::unique_ptr<XenHypercall>> open_xen_privcmd(const std::string& root);

// ---- what Xen reports (xen_kexec.cpp) ----------------------------------

struct XenRange {
  uint64_t start = 0, size = 0;
};

// KEXEC_CMD_kexec_get_range; an error names the range.
Result<XenRange> xen_get_range(XenHypercall& xen, int range, int nr);

// XENMEM_machine_memory_map: the host's e820, not dom0's pseudo-physical
// map; normalized like every other map.
Result<std::vector<MemRange>> xen_machine_memory_map(XenHypercall& xen);

struct XenFacts {
  std::vector<MemRange> machine_map;
  XenRange xen;                     // Xen's own image
  XenRange crash;                   // crashkernel= of Xen's command line (size 0: none)
  std::vector<XenRange> cpu_notes;  // one per physical CPU
  XenRange vmcoreinfo;              // Xen's (size 0: none)
};

// Every range above; CPUs are asked for until Xen answers -EINVAL, as
// kexec-tools' xen_get_nr_phys_cpus does.
Result<XenFacts> read_xen_facts(XenHypercall& xen);

// What a load hands to the core: the machine map, the crash reservation
// from Xen, and the crash notes as kexec-tools gives a Xen dump: one
// PT_NOTE per physical CPU, Xen's vmcoreinfo, and dom0's own vmcoreinfo
// (/sys/kernel/vmcoreinfo, which a PV dom0 prints as a machine address)
// when it is there. dom0's direct map says nothing about machine memory,
// so the RAM PT_LOADs carry p_vaddr 0.
void apply_xen_facts(const XenFacts& f, const std::string& root, SystemInfo& sys);

// ---- placement: Xen 4.17's kimage_alloc_page() bug (xen_placement.cpp) --

// Xen's DMA boundary as arch_get_dma_bitsize() (xen/arch/x86/numa.c)
// computes it without dma_bits= or NUMA: 2^min(32, flsl(max_page/4 - 1)
// + PAGE_SHIFT), max_page the end of the highest RAM page.
uint64_t xen_dma_limit(const std::vector<MemRange>& machine_map);

// Where a KEXEC_TYPE_DEFAULT image's segments may go: RAM from 1 MiB to
// Xen's DMA boundary, without Xen's own image (see xen_placement.cpp for
// why the rest is at risk).
std::vector<Range> xen_default_usable(const std::vector<MemRange>& machine_map, XenRange xen);

// ---- load, unload, status, exec ----------------------------------------

// The segment array as Xen takes it: `img`'s segments, each in a
// hypercall buffer, then kexec-tools' null-buffer segment [0, 1 MiB) that
// asks Xen to map low memory for the image (VGA, the crash backup source).
// The load argument itself is returned in a hypercall buffer too. The
// entry is img.entry32 for EM_386, img.entry for EM_X86_64.
Result<xen_kexec_load_t*> xen_build_load(XenHypercall& xen, const KexecImage& img, bool on_crash,
                                         uint16_t arch);
Status xen_kexec_load(XenHypercall& xen, const KexecImage& img, bool on_crash, uint16_t arch);
Status xen_kexec_unload(XenHypercall& xen, bool on_crash);
Result<bool> xen_kexec_status(XenHypercall& xen, bool on_crash);
Status xen_kexec_exec(XenHypercall& xen);  // returns only on failure

// One sentence for Xen's error code of `what`.
std::string explain_xen_error(long err, const char* what, bool on_crash);

}  // namespace charon::loader
