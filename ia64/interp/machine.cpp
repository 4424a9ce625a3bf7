#include "interp/machine.h"

#include <cstdio>

#include "ia64/control_abi.h"

namespace charon::ia64 {
namespace {

constexpr uint64_t bit(unsigned n) {
  return uint64_t{1} << n;
}
constexpr uint64_t kRegionMask = (uint64_t{1} << 61) - 1;
constexpr unsigned kRegionIdentity = 7;  // Linux maps region 7 1:1
constexpr uint64_t kPsrRiShift = 41;     // [ia64/vol2] Table 3-2
constexpr uint64_t kIfsValid = bit(63);  // [ia64/vol2] 3.3.5.8
constexpr uint8_t kSpuriousVector = 15;
constexpr unsigned kMaxFrame = 96;  // stacked registers r32-r127

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

uint64_t deposit(uint64_t into, uint64_t value, unsigned pos, unsigned len) {
  const uint64_t mask = (len >= 64 ? ~uint64_t{0} : (bit(len) - 1)) << pos;
  return (into & ~mask) | ((value << pos) & mask);
}

}  // namespace

bool Machine::fail(std::string message) {
  if (fault_.empty()) fault_ = std::move(message);
  return false;
}

bool Machine::translate(uint64_t va, bool instruction, uint64_t* pa) {
  const bool virt = (psr_ & bit(instruction ? IA64_PSR_IT_BIT : IA64_PSR_DT_BIT)) != 0;
  if (virt && (va >> 61) != kRegionIdentity) {
    return fail(std::string(instruction ? "instruction fetch" : "data access") +
                " at virtual address " + hex(va) +
                " outside region 7, the only translation modelled");
  }
  *pa = virt ? (va & kRegionMask) : va;
  return true;
}

bool Machine::data_address(uint64_t va, uint64_t* pa) {
  if (va % 8 != 0) return fail("unaligned 8-byte data access at " + hex(va));
  if (!translate(va, false, pa)) return false;
  if (!mem_.contains(*pa, 8)) return fail("data access at " + hex(*pa) + " outside memory");
  if (data_accesses_++ == 0) events_before_data_ = events_.size();
  data_psr_union_ |= psr_;
  return true;
}

bool Machine::read_gr(unsigned r, uint64_t* v) {
  if (r >= 32 + sof_) {
    return fail("r" + std::to_string(r) + " read outside the current frame (sof " +
                std::to_string(sof_) + ")");
  }
  *v = r == 0 ? 0 : gr_[r];
  return true;
}

bool Machine::write_gr(unsigned r, uint64_t v) {
  if (r == 0) return fail("write to r0 (illegal operation fault)");
  if (r >= 32 + sof_) {
    return fail("r" + std::to_string(r) + " written outside the current frame (sof " +
                std::to_string(sof_) + ")");
  }
  gr_[r] = v;
  return true;
}

bool Machine::write_pr(unsigned p, bool v) {
  if (p != 0) pr_[p] = v;
  return true;
}

bool Machine::read_ar(unsigned n, uint64_t* v) {
  switch (n) {
    case ar::kRsc:
    case ar::kBsp:
    case ar::kBspstore:
    case ar::kRnat:
    case ar::kUnat:
    case ar::kFpsr:
    case ar::kPfs:
    case ar::kLc:
    case ar::kEc:
      *v = ar_[n];
      return true;
    default:
      return fail("read of ar" + std::to_string(n) + ", which is not modelled");
  }
}

bool Machine::write_ar(unsigned n, uint64_t v) {
  switch (n) {
    case ar::kBsp:
      return fail("write to ar.bsp, which is read-only (illegal operation fault)");
    case ar::kBspstore:
      // [ia64/vol3] mov ar: writing ar.bspstore outside enforced lazy mode
      // is an illegal operation fault. Registers of older frames that are
      // not yet in the backing store (bsp != bspstore) would be lost.
      if ((ar_[ar::kRsc] & 3) != 0) {
        return fail("ar.bspstore written with ar.rsc.mode " + std::to_string(ar_[ar::kRsc] & 3) +
                    ", not enforced lazy (illegal operation fault)");
      }
      if (ar_[ar::kBsp] != ar_[ar::kBspstore]) {
        return fail("ar.bspstore written with " +
                    std::to_string((ar_[ar::kBsp] - ar_[ar::kBspstore]) / 8) +
                    " dirty register slots not flushed (flushrs missing)");
      }
      if (v % 8 != 0) return fail("ar.bspstore set to unaligned " + hex(v));
      ar_[ar::kBspstore] = v;
      ar_[ar::kBsp] = v;  // the current frame's first slot
      ar_[ar::kRnat] = kRnatUndefined;
      return true;
    case ar::kRsc:
    case ar::kRnat:
    case ar::kUnat:
    case ar::kFpsr:
    case ar::kPfs:
    case ar::kLc:
    case ar::kEc:
      ar_[n] = v;
      return true;
    default:
      return fail("write to ar" + std::to_string(n) + ", which is not modelled");
  }
}

bool Machine::read_cr(unsigned n, uint64_t* v) {
  if (n >= 16 && n <= 25 && (psr_ & bit(IA64_PSR_IC_BIT))) {
    return fail("interruption control register read with psr.ic=1 (illegal operation fault)");
  }
  if (n == cr::kIvr) {
    if (ivr_queue_.empty()) {
      *v = kSpuriousVector;
    } else {
      *v = ivr_queue_.front();
      ivr_queue_.pop_front();
    }
    return true;
  }
  *v = cr_[n];
  return true;
}

bool Machine::write_cr(unsigned n, uint64_t v) {
  // [ia64/vol3] mov cr: the interruption registers (cr16-cr25) may only be
  // written with psr.ic=0.
  if (n >= 16 && n <= 25 && (psr_ & bit(IA64_PSR_IC_BIT))) {
    return fail("interruption control register cr" + std::to_string(n) +
                " written with psr.ic=1 (illegal operation fault)");
  }
  if (n == cr::kIvr) return fail("write to cr.ivr, which is read-only");
  if (n == cr::kEoi) ++eoi_writes_;
  cr_[n] = v;
  return true;
}

bool Machine::fetch(uint64_t phys, const Decoded** out) {
  if (auto it = decoded_.find(phys); it != decoded_.end()) {
    *out = &it->second;
    return true;
  }
  if (phys % kBundleBytes != 0 || !mem_.contains(phys, kBundleBytes)) {
    return fail("instruction fetch at " + hex(phys) + " outside memory");
  }
  const Bundle b = split_bundle(mem_.at(phys));
  const auto tmpl = template_for(b.template_code);
  if (!tmpl) {
    return fail("bundle at " + hex(phys) + " has reserved template " + hex(b.template_code));
  }
  Decoded d{*tmpl, {}};
  for (unsigned s = 0; s < 3; ++s) {
    auto r = decode_slot(tmpl->units[s], b.slots[s]);
    if (!r.ok()) {
      return fail("bundle at " + hex(phys) + " [" + tmpl->name + "] slot " + std::to_string(s) +
                  ": " + r.error());
    }
    d.insns[s] = r.value();
  }
  *out = &decoded_.emplace(phys, d).first->second;
  return true;
}

RunResult Machine::run(uint64_t stop_ip, uint64_t max_bundles) {
  RunResult result;
  fault_.clear();
  while (result.bundles < max_bundles) {
    if (ip_ == stop_ip && slot_ == 0) {
      result.stopped = true;
      return result;
    }
    uint64_t phys;
    const Decoded* d;
    if (!translate(ip_, true, &phys) || !fetch(phys, &d)) break;
    ++result.bundles;
    const uint64_t bundle_ip = ip_;
    bool branched = false;
    for (unsigned s = slot_; s < 3 && !branched; ++s) {
      if (!exec(d->insns[s], bundle_ip, &branched)) {
        result.fault = "at " + hex(bundle_ip) + " slot " + std::to_string(s) + " (" +
                       disassemble(d->insns[s], bundle_ip) + "): " + fault_;
        return result;
      }
    }
    if (!branched) {
      ip_ = bundle_ip + kBundleBytes;
      slot_ = 0;
    }
  }
  result.fault = fault_.empty() ? "did not reach " + hex(stop_ip) + " within " +
                                      std::to_string(max_bundles) + " bundles"
                                : fault_;
  return result;
}

bool Machine::exec(const Insn& in, uint64_t bip, bool* branched) {
  if (!pr_[in.qp]) return true;  // predicated off; no form here writes anyway
  uint64_t a = 0, b = 0;
  auto src2 = [&] { return read_gr(in.r2, &a); };
  auto src3 = [&] { return read_gr(in.r3, &b); };
  auto jump = [&](uint64_t target) {
    note(EventKind::Branch, bip, target);
    ip_ = target & ~uint64_t{15};
    slot_ = 0;
    *branched = true;
    return true;
  };
  switch (in.op) {
    case Op::Add:
      return src2() && src3() && write_gr(in.r1, a + b);
    case Op::And:
      return src2() && src3() && write_gr(in.r1, a & b);
    case Op::Andcm:
      return src2() && src3() && write_gr(in.r1, a & ~b);
    case Op::Or:
      return src2() && src3() && write_gr(in.r1, a | b);
    case Op::Adds:
    case Op::Addl:
      return src3() && write_gr(in.r1, b + static_cast<uint64_t>(in.imm));
    case Op::CmpEq:
    case Op::CmpLt:
    case Op::CmpLtu: {
      if (!src2() || !src3()) return false;
      const bool r = in.op == Op::CmpEq    ? a == b
                     : in.op == Op::CmpLtu ? a < b
                                           : static_cast<int64_t>(a) < static_cast<int64_t>(b);
      if (in.p1 == in.p2) return fail("compare with p1 == p2 (illegal operation fault)");
      return write_pr(in.p1, r) && write_pr(in.p2, !r);
    }
    case Op::TbitZ: {
      if (!src3()) return false;
      const bool r = ((b >> in.pos) & 1) == 0;
      if (in.p1 == in.p2) return fail("tbit with p1 == p2 (illegal operation fault)");
      return write_pr(in.p1, r) && write_pr(in.p2, !r);
    }
    case Op::ExtrU: {
      if (!src3()) return false;
      const unsigned len = in.pos + in.len > 64 ? 64 - in.pos : in.len;
      const uint64_t v = b >> in.pos;
      return write_gr(in.r1, len >= 64 ? v : v & (bit(len) - 1));
    }
    case Op::DepZ:
      return src2() && write_gr(in.r1, deposit(0, a, in.pos, in.len));
    case Op::DepImm:
      return src3() && write_gr(in.r1, deposit(b, static_cast<uint64_t>(in.imm), in.pos, in.len));
    case Op::MovToBr:
      return src2() && (br_[in.b1] = a, true);
    case Op::MovFromBr:
      return write_gr(in.r1, br_[in.b2]);
    case Op::MovFromIp:
      return write_gr(in.r1, bip);
    case Op::MovFromPr: {
      uint64_t v = 0;
      for (unsigned p = 0; p < 64; ++p) v |= uint64_t{pr_[p]} << p;
      return write_gr(in.r1, v);
    }
    case Op::MovToArI:
    case Op::MovToArM:
      if (!src2()) return false;
      note(EventKind::WriteAr, bip, in.areg, a);
      return write_ar(in.areg, a);
    case Op::MovToArImm:
      note(EventKind::WriteAr, bip, in.areg, static_cast<uint64_t>(in.imm));
      return write_ar(in.areg, static_cast<uint64_t>(in.imm));
    case Op::MovFromArI:
    case Op::MovFromArM:
      return read_ar(in.areg, &a) && write_gr(in.r1, a);
    case Op::MovToCr:
      if (!src2()) return false;
      note(EventKind::WriteCr, bip, in.areg, a);
      return write_cr(in.areg, a);
    case Op::MovFromCr:
      return read_cr(in.areg, &a) && write_gr(in.r1, a);
    case Op::NopI:
    case Op::NopM:
    case Op::NopB:
      return true;
    case Op::Ld8:
    case Op::Ld8Inc: {
      uint64_t pa;
      if (!src3() || !data_address(b, &pa)) return false;
      const uint64_t v = mem_.read64(pa);
      if (in.op == Op::Ld8Inc && !write_gr(in.r3, b + static_cast<uint64_t>(in.imm))) return false;
      return write_gr(in.r1, v);
    }
    case Op::St8:
    case Op::St8Inc: {
      uint64_t pa;
      if (!src2() || !src3() || !data_address(b, &pa)) return false;
      mem_.write64(pa, a);
      decoded_.erase(pa & ~uint64_t{15});  // the code may be overwritten
      unflushed_.insert(pa & ~uint64_t{IA64_FC_STRIDE - 1});
      return in.op == Op::St8 || write_gr(in.r3, b + static_cast<uint64_t>(in.imm));
    }
    case Op::Alloc: {
      const unsigned sof = in.sof, sol = in.sol;
      if (sof > kMaxFrame || sol > sof || in.sor * 8u > sof) {
        return fail("alloc with an impossible frame (illegal operation fault)");
      }
      if (in.sor != 0) return fail("rotating registers are not modelled");
      const uint64_t pfs = ar_[ar::kPfs];
      sof_ = sof;
      sol_ = sol;
      return write_gr(in.r1, pfs);
    }
    case Op::Rsm:
      psr_ &= ~static_cast<uint64_t>(in.imm);
      note(EventKind::Rsm, bip, static_cast<uint64_t>(in.imm));
      return true;
    case Op::Flushrs:
      // Every dirty register of older frames goes to the backing store.
      // The memory traffic itself is not modelled; the interpreter keeps
      // no values for those frames.
      note(EventKind::Flushrs, bip, ar_[ar::kBsp] - ar_[ar::kBspstore]);
      ar_[ar::kBspstore] = ar_[ar::kBsp];
      return true;
    case Op::SrlzI:
      note(EventKind::SrlzI, bip);
      return true;
    case Op::SrlzD:
      note(EventKind::SrlzD, bip);
      return true;
    case Op::SyncI:
      note(EventKind::SyncI, bip, unflushed_.size());
      return true;
    case Op::FcI: {
      if (!src3()) return false;
      uint64_t pa;
      if (!translate(b, false, &pa)) return false;
      unflushed_.erase(pa & ~uint64_t{IA64_FC_STRIDE - 1});
      note(EventKind::FcI, bip, pa);
      return true;
    }
    case Op::PtcE:
      return src3() && (note(EventKind::PtcE, bip, b), true);
    case Op::PtrI:
    case Op::PtrD:
      if (!src2() || !src3()) return false;
      note(in.op == Op::PtrI ? EventKind::PtrI : EventKind::PtrD, bip, b, a);
      return true;
    case Op::BrCond:
      return jump(bip + static_cast<uint64_t>(in.imm));
    case Op::BrCloop:
      if (ar_[ar::kLc] == 0) return true;
      --ar_[ar::kLc];
      ip_ = bip + static_cast<uint64_t>(in.imm);  // loop back-edges are not logged
      slot_ = 0;
      *branched = true;
      return true;
    case Op::BrIndirect:
      return jump(br_[in.b2]);
    case Op::BrRet: {
      const uint64_t pfs = ar_[ar::kPfs];
      sof_ = pfs & 0x7f;
      sol_ = (pfs >> 7) & 0x7f;
      return jump(br_[in.b2]);
    }
    case Op::Rfi: {
      // [ia64/vol3] rfi: PSR from cr.ipsr, IP and slot from cr.iip and
      // ipsr.ri, the frame from cr.ifs if its valid bit is set.
      const uint64_t ipsr = cr_[cr::kIpsr];
      if (!(ipsr & bit(IA64_PSR_BN_BIT))) {
        return fail("rfi to psr.bn=0: register bank 0 is not modelled (r16-r31 would change)");
      }
      if (cr_[cr::kIfs] & kIfsValid) {
        sof_ = cr_[cr::kIfs] & 0x7f;
        sol_ = (cr_[cr::kIfs] >> 7) & 0x7f;
      }
      psr_ = ipsr & ~(uint64_t{3} << kPsrRiShift);
      note(EventKind::Rfi, bip, cr_[cr::kIip], ipsr);
      ip_ = cr_[cr::kIip] & ~uint64_t{15};
      slot_ = (ipsr >> kPsrRiShift) & 3;
      if (slot_ == 3) return fail("rfi to slot 3 (illegal operation fault)");
      *branched = true;
      return true;
    }
  }
  return fail("instruction not implemented");
}

}  // namespace charon::ia64
