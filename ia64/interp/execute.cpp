// One instruction's effect on the machine. Groups run in program order:
// the assembler (-xexplicit) has checked that no instruction reads or
// writes a register another one of its group writes, so that order gives
// the architectural result.
#include "ia64/control_abi.h"
#include "interp/machine.h"

namespace charon::ia64 {
namespace {

constexpr uint64_t bit(unsigned n) {
  return uint64_t{1} << n;
}
constexpr uint64_t kPsrRiShift = 41;     // [ia64/vol2] PSR.ri
constexpr uint64_t kIfsValid = bit(63);  // [ia64/vol2] cr.ifs
constexpr unsigned kMaxFrame = 96;       // stacked registers r32-r127

uint64_t deposit(uint64_t into, uint64_t value, unsigned pos, unsigned len) {
  const uint64_t mask = (len >= 64 ? ~uint64_t{0} : (bit(len) - 1)) << pos;
  return (into & ~mask) | ((value << pos) & mask);
}

}  // namespace

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
