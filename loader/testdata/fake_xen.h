// A XenHypercall that plays Xen 4.17 for the loader's tests: it answers
// XENMEM_machine_memory_map and KEXEC_CMD_kexec_* as xen/common/kexec.c
// does, records every call, and refuses (-EFAULT) any argument that does
// not lie in memory it handed out as a hypercall buffer.
#pragma once
#include <charon/loader/xen.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace charon::loader::testing {

class FakeXen final : public XenHypercall {
 public:
  struct Load {
    xen_kexec_load_t arg;
    std::vector<xen_kexec_segment_t> segs;
    std::vector<std::vector<uint8_t>> data;  // each segment's bytes, as Xen copied them
  };
  std::vector<xen_e820entry_t> e820 = {
      {0, 0x9fc00, 1}, {0x9fc00, 0x400, 2}, {0xf0000, 0x10000, 2}, {0x100000, 0x3fee0000, 1}};
  XenRange xen{0x3f600000, 0x400000};
  XenRange crash{0x8000000, 0x8000000};  // crashkernel=128M@128M
  std::vector<XenRange> cpus = {{0x3f5fe000, 0x1a0}, {0x3f5ff000, 0x1a0}};
  XenRange vmcoreinfo{0x3f5fd000, 0x1000};
  long load_result = 0;
  bool loaded[2] = {false, false};
  std::vector<std::string> calls;
  std::vector<Load> loads;
  size_t buffers_handed = 0;

  uint8_t* buffer(size_t bytes) override {
    bufs_.push_back(std::make_unique<std::vector<uint8_t>>(bytes, 0));
    ++buffers_handed;
    return bufs_.back()->data();
  }

  long call(unsigned op, uint64_t a0, uint64_t a1) override {
    if (op == kHypervisorMemoryOp && a0 == XENMEM_machine_memory_map) {
      calls.push_back("machine_memory_map");
      auto* m = arg<xen_memory_map_t>(a1);
      if (!m) return -EFAULT;
      const size_t n = std::min<size_t>(m->nr_entries, e820.size());
      auto* out = arg<xen_e820entry_t>(m->buffer, n);
      if (!out) return -EFAULT;
      std::memcpy(out, e820.data(), n * sizeof(xen_e820entry_t));
      m->nr_entries = static_cast<uint32_t>(n);
      return 0;
    }
    if (op != kHypervisorKexecOp) return -ENOSYS;
    switch (a0) {
      case KEXEC_CMD_kexec_get_range: {
        auto* r = arg<xen_kexec_range_t>(a1);
        if (!r) return -EFAULT;
        calls.push_back("get_range " + std::to_string(r->range) + " " + std::to_string(r->nr));
        XenRange x;
        if (r->range == KEXEC_RANGE_MA_CRASH)
          x = crash;
        else if (r->range == KEXEC_RANGE_MA_XEN)
          x = xen;
        else if (r->range == KEXEC_RANGE_MA_VMCOREINFO)
          x = vmcoreinfo;
        else if (r->range == KEXEC_RANGE_MA_CPU && r->nr >= 0 && size_t(r->nr) < cpus.size())
          x = cpus[size_t(r->nr)];
        else
          return -EINVAL;
        r->start = x.start;
        r->size = x.size;
        return 0;
      }
      case KEXEC_CMD_kexec_load: {
        calls.push_back("load");
        auto* l = arg<xen_kexec_load_t>(a1);
        if (!l) return -EFAULT;
        auto* s = arg<xen_kexec_segment_t>(l->segments, l->nr_segments);
        if (!s) return -EFAULT;
        Load rec{*l, {s, s + l->nr_segments}, {}};
        for (const xen_kexec_segment_t& seg : rec.segs) {
          if (!seg.buf) {
            rec.data.emplace_back();
            continue;
          }
          auto* b = arg<uint8_t>(seg.buf, seg.buf_size ? seg.buf_size : 1);
          if (!b) return -EFAULT;
          rec.data.emplace_back(b, b + seg.buf_size);
        }
        loads.push_back(std::move(rec));
        if (load_result) return load_result;
        if (l->type > 1) return -EINVAL;
        loaded[l->type] = true;
        return 0;
      }
      case KEXEC_CMD_kexec_unload:
      case KEXEC_CMD_kexec_status: {
        auto* t = arg<xen_kexec_unload_t>(a1);
        if (!t || t->type > 1) return -EFAULT;
        calls.push_back(std::string(a0 == KEXEC_CMD_kexec_unload ? "unload " : "status ") +
                        std::to_string(t->type));
        if (a0 == KEXEC_CMD_kexec_status) return loaded[t->type] ? 1 : 0;
        loaded[t->type] = false;
        return 0;
      }
      case KEXEC_CMD_kexec: {
        auto* x = arg<xen_kexec_exec_t>(a1);
        if (!x) return -EFAULT;
        calls.push_back("kexec " + std::to_string(x->type));
        return -EBUSY;  // a real one does not return
      }
      default:
        return -ENOSYS;
    }
  }

 private:
  // `n` objects of T at guest address `at`, or nullptr if they do not lie
  // inside one hypercall buffer.
  template <class T>
  T* arg(uint64_t at, size_t n = 1) {
    for (const auto& b : bufs_) {
      const uint64_t lo = reinterpret_cast<uintptr_t>(b->data());
      if (at >= lo && at - lo + n * sizeof(T) <= b->size()) return reinterpret_cast<T*>(at);
    }
    return nullptr;
  }
  std::vector<std::unique_ptr<std::vector<uint8_t>>> bufs_;
};

}  // namespace charon::loader::testing
