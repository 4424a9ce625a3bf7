// charon-kexec under Xen: the hypercall structures against Xen's public
// headers, the detection of dom0 and domUs over fake trees, what Xen's
// ranges become, and the placement that keeps a default image out of
// reach of Xen 4.17's kimage_alloc_page() bug.
#include <charon/align.h>
#include <charon/loader/xen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "testdata/fake_xen.h"
#include "testdata/test_util.h"

namespace charon::loader {
namespace {

constexpr uint64_t kM = 1ull << 20;

// ---- the ABI: bytes at the offsets xen/include/public/kexec.h gives --------

template <class T>
std::vector<uint8_t> bytes_of(const T& v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  return {p, p + sizeof v};
}

uint64_t le(const std::vector<uint8_t>& b, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t{b.at(at + i)} << (8 * i);
  return v;
}

TEST(XenAbi, KexecLoadHasXensLayout) {
  // struct xen_kexec_load { uint8_t type; uint8_t _pad; uint16_t arch;
  // uint32_t nr_segments; union { handle; uint64_t } segments; uint64_t
  // entry_maddr; } (Xen 4.4+, KEXEC_CMD_kexec_load == 4).
  const auto b = bytes_of(xen_kexec_load_t{1, 0, 62, 3, 0x1122334455667788, 0xabcdef000});
  ASSERT_EQ(b.size(), 24u);
  EXPECT_EQ(le(b, 0, 1), 1u);
  EXPECT_EQ(le(b, 2, 2), 62u);
  EXPECT_EQ(le(b, 4, 4), 3u);
  EXPECT_EQ(le(b, 8, 8), 0x1122334455667788u);
  EXPECT_EQ(le(b, 16, 8), 0xabcdef000u);
  EXPECT_EQ(KEXEC_CMD_kexec_load, 4u);
  EXPECT_EQ(KEXEC_CMD_kexec_unload, 5u);
  EXPECT_EQ(KEXEC_CMD_kexec_status, 6u);
}

TEST(XenAbi, SegmentRangeAndMemoryMapHaveXensLayout) {
  // xen_kexec_segment_t: buf (handle padded to 64 bits), buf_size,
  // dest_maddr, dest_size.
  const auto s = bytes_of(xen_kexec_segment_t{1, 2, 3, 4});
  ASSERT_EQ(s.size(), 32u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(le(s, 8 * i, 8), i + 1);
  // xen_kexec_range_t: int range; int nr; unsigned long size, start.
  const auto r = bytes_of(xen_kexec_range_t{6, 2, 0x1000, 0x3f000000});
  ASSERT_EQ(r.size(), 24u);
  EXPECT_EQ(le(r, 0, 4), 6u);
  EXPECT_EQ(le(r, 4, 4), 2u);
  EXPECT_EQ(le(r, 8, 8), 0x1000u);
  EXPECT_EQ(le(r, 16, 8), 0x3f000000u);
  // struct xen_memory_map { unsigned int nr_entries; handle buffer; } and
  // Xen's packed 20-byte e820 entry.
  const auto m = bytes_of(xen_memory_map_t{7, 0, 0x5000});
  EXPECT_EQ(le(m, 0, 4), 7u);
  EXPECT_EQ(le(m, 8, 8), 0x5000u);
  const auto e = bytes_of(xen_e820entry_t{0x100000, 0x200000, 1});
  ASSERT_EQ(e.size(), 20u);
  EXPECT_EQ(le(e, 16, 4), 1u);
}

// ---- detection over fake trees --------------------------------------------

class XenDetect : public ::testing::Test {
 protected:
  void put(const std::string& path, const std::string& text) {
    testing::write_file(tmp_.path() / path, text);
  }
  XenWorld detect() { return detect_xen(tmp_.path().string()); }
  testing::TempDir tmp_;
};

TEST_F(XenDetect, BareMetalIsNoXen) {
  EXPECT_EQ(detect().role, XenRole::kNone);
}

TEST_F(XenDetect, ControlDomainCapabilityIsDom0) {
  put("proc/xen/capabilities", "control_d\n");
  EXPECT_EQ(detect().role, XenRole::kDom0);
}

TEST_F(XenDetect, Dom0IsKnownWithoutXenfsByItsZeroUuid) {
  put("sys/hypervisor/type", "xen\n");
  put("sys/hypervisor/uuid", "00000000-0000-0000-0000-000000000000\n");
  put("sys/hypervisor/guest_type", "PV\n");
  EXPECT_EQ(detect().role, XenRole::kDom0);
}

TEST_F(XenDetect, PvAndPvhDomUsAreRefusedHvmIsNative) {
  put("proc/xen/capabilities", "");  // xenfs in a domU: no control_d
  put("sys/hypervisor/type", "xen\n");
  put("sys/hypervisor/uuid", "5b0ee1d0-3f4e-4b8a-9a55-0d7f6c1b2a33\n");
  for (const char* t : {"PV", "PVH"}) {
    put("sys/hypervisor/guest_type", std::string(t) + "\n");
    const XenWorld w = detect();
    EXPECT_EQ(w.role, XenRole::kUnsupported) << t;
    EXPECT_NE(xen_domu_refusal(w).find(std::string("Xen ") + t + " guest"), std::string::npos);
  }
  put("sys/hypervisor/guest_type", "HVM\n");
  EXPECT_EQ(detect().role, XenRole::kNone);
}

// ---- what Xen reports -------------------------------------------------------

TEST(XenFactsTest, MachineMapRangesAndNotesComeFromHypercallBuffers) {
  testing::FakeXen xen;
  auto f = read_xen_facts(xen);
  ASSERT_TRUE(f.ok()) << f.error();
  // e820 from Xen: types kept, normalized, the hole at 0xa0000 kept.
  ASSERT_EQ(f->machine_map.size(), 4u);
  EXPECT_EQ(f->machine_map[0].end, 0x9fc00u);
  EXPECT_EQ(f->machine_map[1].type, E820Type::kReserved);
  EXPECT_EQ(f->machine_map[3].start, 0x100000u);
  EXPECT_EQ(f->machine_map[3].end, 0x3ffe0000u);
  EXPECT_EQ(f->crash.start, 0x8000000u);
  EXPECT_EQ(f->xen.start, 0x3f600000u);
  ASSERT_EQ(f->cpu_notes.size(), 2u);
  EXPECT_EQ(f->cpu_notes[1].start, 0x3f5ff000u);
  EXPECT_EQ(f->vmcoreinfo.size, 0x1000u);
  // CPUs are asked for until Xen says -EINVAL.
  EXPECT_NE(std::find(xen.calls.begin(), xen.calls.end(), "get_range 2 2"), xen.calls.end());
}

TEST(XenFactsTest, AMapEntryThatWrapsIsAnError) {
  testing::FakeXen xen;
  xen.e820.push_back({0xfffffffffffff000ull, 0x2000, 1});
  auto m = xen_machine_memory_map(xen);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("wraps"), std::string::npos) << m.error();
}

TEST(XenFactsTest, ARangeThatWrapsIsAnError) {
  testing::FakeXen xen;
  xen.xen = {0xfffffffffff00000ull, 0x200000};
  auto f = read_xen_facts(xen);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().find("Xen's own range (KEXEC_RANGE_MA_XEN)"), std::string::npos) << f.error();
}

TEST(XenFactsTest, CrashNotesAreXensCpusXensVmcoreinfoAndDom0s) {
  testing::FakeXen xen;
  auto f = read_xen_facts(xen);
  ASSERT_TRUE(f.ok());
  testing::TempDir tmp;
  testing::write_file(tmp.path() / "sys/kernel/vmcoreinfo", "0x000000003e1c2000 400\n");
  SystemInfo sys;
  sys.la57 = true;
  apply_xen_facts(*f, tmp.path().string(), sys);
  ASSERT_TRUE(sys.crash.has_value()) << sys.crash_error;
  ASSERT_EQ(sys.crash->cpu_notes.size(), 3u);
  EXPECT_EQ(sys.crash->cpu_notes[0], (NoteRange{0x3f5fe000, 0x1a0}));
  EXPECT_EQ(sys.crash->cpu_notes[2], (NoteRange{0x3f5fd000, 0x1000}));  // Xen's vmcoreinfo
  EXPECT_EQ(sys.crash->vmcoreinfo, (NoteRange{0x3e1c2000, 1024}));      // dom0's
  EXPECT_EQ(sys.crash->layout.page_offset, 0u);
  ASSERT_EQ(sys.memory.crash_kernel.size(), 1u);
  EXPECT_EQ(sys.memory.crash_kernel[0].end, 0x10000000u);
  EXPECT_FALSE(sys.la57);
}

// ---- the load request -------------------------------------------------------

TEST(XenLoad, SegmentsLieInHypercallBuffersAndEndWithTheLowMemorySegment) {
  testing::FakeXen xen;
  KexecImage img;
  img.entry = 0x5000000 + 0x40;
  img.segments.push_back({"k", "kernel", std::vector<uint8_t>(5000, 0xaa), 0x1000000, 0x2000});
  img.segments.push_back({"g", "zeros", {}, 0x5000000, 0x1000});
  ASSERT_TRUE(xen_kexec_load(xen, img, false, kEmX86_64).ok());
  ASSERT_EQ(xen.loads.size(), 1u);
  const auto& l = xen.loads[0];
  EXPECT_EQ(l.arg.type, KEXEC_TYPE_DEFAULT);
  EXPECT_EQ(l.arg.arch, 62u);
  EXPECT_EQ(l.arg.entry_maddr, img.entry);
  ASSERT_EQ(l.segs.size(), 3u);
  EXPECT_EQ(l.data[0],
            std::vector<uint8_t>(img.segments[0].data.begin(), img.segments[0].data.end()));
  EXPECT_EQ(l.segs[0].dest_maddr, 0x1000000u);
  EXPECT_EQ(l.segs[0].dest_size, 0x2000u);
  // An empty segment still has a buffer: a null one would only be mapped.
  EXPECT_NE(l.segs[1].buf, 0u);
  EXPECT_EQ(l.segs[1].buf_size, 0u);
  // kexec-tools' [0, 1 MiB) null-buffer segment comes last.
  EXPECT_EQ(l.segs[2].buf, 0u);
  EXPECT_EQ(l.segs[2].dest_maddr, 0u);
  EXPECT_EQ(l.segs[2].dest_size, kM);
}

TEST(XenLoad, ErrorsAreSentences) {
  testing::FakeXen xen;
  xen.load_result = -EADDRNOTAVAIL;
  KexecImage img;
  img.segments.push_back({"k", "kernel", Bytes(std::vector<uint8_t>{1}), 0x1000000, 0x1000});
  auto st = xen_kexec_load(xen, img, true, kEmX86_64);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("crashkernel= area"), std::string::npos) << st.error();
  EXPECT_EQ(xen.loads.at(0).arg.type, KEXEC_TYPE_CRASH);
}

TEST(XenLoad, StatusUnloadAndExecGoThroughTheHypercall) {
  testing::FakeXen xen;
  auto s = xen_kexec_status(xen, false);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(*s);
  auto e = xen_kexec_exec(xen);
  EXPECT_NE(e.error().find("no kexec image loaded"), std::string::npos) << e.error();
  xen.loaded[KEXEC_TYPE_DEFAULT] = true;
  e = xen_kexec_exec(xen);
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(xen.calls.back(), "kexec 0");
  ASSERT_TRUE(xen_kexec_unload(xen, true).ok());
  EXPECT_EQ(xen.calls.back(), "unload 1");
}

// ---- placement and Xen 4.17's kimage_alloc_page() ---------------------------

TEST(XenPlacement, DmaLimitIsXensArchGetDmaBitsize) {
  auto map = [](uint64_t end) {
    return std::vector<MemRange>{{0, 0x9fc00, E820Type::kRam}, {kM, end, E820Type::kRam}};
  };
  EXPECT_EQ(xen_dma_limit(map(0x3ffe0000)), 256 * kM);    // 1 GiB: dma_bitsize 28
  EXPECT_EQ(xen_dma_limit(map(0x80000000)), 512 * kM);    // 2 GiB: 29
  EXPECT_EQ(xen_dma_limit(map(0x400000000)), 4096 * kM);  // 16 GiB: capped at 32 bits
  EXPECT_EQ(xen_dma_limit(map(0x1000000000)), 4096 * kM);
}

TEST(XenPlacement, DefaultImagesStayBelowTheBoundaryAndOffXen) {
  const std::vector<MemRange> map = {{0, 0x9fc00, E820Type::kRam},
                                     {kM, 0x3ffe0000, E820Type::kRam}};
  const auto u = xen_default_usable(map, {0x3000000, 0x200000});
  ASSERT_EQ(u.size(), 2u);
  EXPECT_EQ(u[0].start, kM);
  EXPECT_EQ(u[0].end, 0x3000000u);
  EXPECT_EQ(u[1].start, 0x3200000u);
  EXPECT_EQ(u[1].end, 256 * kM);
}

// A model of xen/common/kimage.c's normal load (kimage_alloc_page, with
// its 4.17 swap that writes `(addr & ~PAGE_MASK) | IND_SOURCE`) over a
// heap whose allocator serves the zones above dma_bitsize first, as
// alloc_domheap_pages() does, in an arbitrary order within them. Returns
// how many destination pages end up copied from machine page 0.
size_t pages_lost_to_the_swap(const std::vector<Range>& dests, const std::set<uint64_t>& free,
                              uint64_t dma_limit, std::mt19937_64& rng) {
  std::vector<uint64_t> high, low;
  for (uint64_t p : free) (p >= dma_limit ? high : low).push_back(p);
  std::shuffle(high.begin(), high.end(), rng);
  std::shuffle(low.begin(), low.end(), rng);
  std::vector<uint64_t> order = high;
  order.insert(order.end(), low.begin(), low.end());
  size_t next = 0;
  auto is_dest = [&](uint64_t a) {
    for (const Range& r : dests)
      if (a >= r.start && a < r.end) return true;
    return false;
  };
  std::map<uint64_t, uint64_t> source_of;  // destination -> source page
  std::set<uint64_t> dest_pages;           // allocated destinations, not yet used
  for (const Range& r : dests) {
    for (uint64_t d = r.start; d < r.end; d += kPageSize) {
      uint64_t page = 0;
      if (dest_pages.erase(d)) {
        page = d;
      } else {
        for (;;) {
          EXPECT_LT(next, order.size()) << "heap exhausted";
          if (next >= order.size()) return SIZE_MAX;
          const uint64_t a = order[next++];
          if (a == d || !is_dest(a)) {
            page = a;
            break;
          }
          auto old = source_of.find(a);
          if (old != source_of.end()) {
            page = old->second;                 // the old source page is reused for d
            old->second = a & (kPageSize - 1);  // the bug: the frame is lost
            break;
          }
          dest_pages.insert(a);
        }
      }
      source_of[d] = page;
    }
  }
  size_t lost = 0;
  for (const auto& [d, s] : source_of)
    if (s == 0 && d != 0) ++lost;
  return lost;
}

TEST(XenPlacement, TheModelShowsTheBugAtTopOfRamAndNoneBelowTheBoundary) {
  // A 1 GiB machine scaled down: 64 MiB free in Xen's heap above the
  // boundary (256 MiB) and all of it below, as dom0 leaves it.
  const uint64_t limit = 256 * kM;
  std::set<uint64_t> free;
  for (uint64_t a = 960 * kM; a < 1024 * kM; a += kPageSize) free.insert(a);
  for (uint64_t a = 200 * kM; a < 256 * kM; a += kPageSize) free.insert(a);
  std::mt19937_64 rng(14);
  // kexec-tools' default: the image at the top of free RAM.
  const std::vector<Range> top = {{1014 * kM, 1022 * kM}, {1022 * kM, 1024 * kM}};
  size_t struck = 0;
  for (int i = 0; i < 5; ++i) struck += pages_lost_to_the_swap(top, free, limit, rng);
  EXPECT_GT(struck, 0u);
  // charon's rule: below the boundary, where the allocator does not go
  // while memory above has room for the copies.
  const std::vector<MemRange> map = {{kM, 1024 * kM, E820Type::kRam}};
  const auto usable = xen_default_usable(map, {});
  ASSERT_FALSE(usable.empty());
  const uint64_t s = align_down(usable.back().end - 10 * kM, kPageSize);
  const std::vector<Range> below = {{s, s + 8 * kM}, {s + 8 * kM, s + 10 * kM}};
  for (const Range& r : below) EXPECT_LE(r.end, limit);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(pages_lost_to_the_swap(below, free, limit, rng), 0u);
}

}  // namespace
}  // namespace charon::loader
