// One instruction's effect on the machine. Groups run in program order:
// the assembler (-xexplicit) has checked that no instruction reads or
// writes a register another one of its group writes, so that order gives
// the architectural result. What does depend on groups (serialization)
// is tracked by group number (machine.h).
#include <cstdio>
#include <string>

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

// PSR fields rfi may set ([ia64/vol2] 3.3.2, Table 3-2): the ones this
// interpreter models (ic, i, dt, rt, it, bn, ri) and the ones that change
// nothing it runs (ac: its accesses are all aligned; mfl/mfh: no FP).
// Anything else (be, up, pp, sp, cpl, is, ss, db, tb, lp, ...) is refused.
constexpr uint64_t kRfiModelledPsr =
    bit(IA64_PSR_AC_BIT) | bit(IA64_PSR_MFL_BIT) | bit(IA64_PSR_MFH_BIT) | bit(IA64_PSR_IC_BIT) |
    bit(IA64_PSR_I_BIT) | bit(IA64_PSR_DT_BIT) | bit(IA64_PSR_RT_BIT) | bit(IA64_PSR_IT_BIT) |
    bit(IA64_PSR_BN_BIT) | (uint64_t{3} << kPsrRiShift);

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

bool Machine::check_rfi_psr(uint64_t ipsr) {
  if (const uint64_t extra = ipsr & ~kRfiModelledPsr) {
    return fail("rfi to cr.ipsr " + hex(ipsr) + " with PSR bits " + hex(extra) +
                " set that are not modelled (a stale or wrong IPSR)");
  }
  if (!(ipsr & bit(IA64_PSR_BN_BIT))) {
    return fail("rfi to psr.bn=0: register bank 0 is not modelled (r16-r31 would change)");
  }
  // The RSE's own loads and stores are translated as psr.rt says
  // ([ia64/vol2] Register Stack Engine). An eager RSE, or dirty registers
  // it may still write, across a change of psr.rt could spill through the
  // other translation; the interpreter requires the RSE idle and flushed.
  if ((ipsr ^ psr_) & bit(IA64_PSR_RT_BIT)) {
    if ((ar_[ar::kRsc] & 3) != 0) {
      return fail("rfi changes psr.rt with ar.rsc.mode " + std::to_string(ar_[ar::kRsc] & 3) +
                  ": the RSE may spill through the wrong translation (ar.rsc=0 missing)");
    }
    if (ar_[ar::kBsp] != ar_[ar::kBspstore]) {
      return fail("rfi changes psr.rt with " +
                  std::to_string((ar_[ar::kBsp] - ar_[ar::kBspstore]) / 8) +
                  " dirty register slots not flushed (flushrs missing)");
    }
  }
  return true;
}

bool Machine::exec(const Insn& in, uint64_t bip, bool* branched) {
  if (!pr_[in.qp]) return true;  // predicated off; no form here writes anyway
  uint64_t a = 0, b = 0;
  bool na = false, nb = false;
  auto src2 = [&] { return read_gr(in.r2, &a, &na); };
  auto src3 = [&] { return read_gr(in.r3, &b, &nb); };
  auto jump = [&](uint64_t target) {
    note(EventKind::Branch, bip, target);
    ip_ = target & ~uint64_t{15};
    slot_ = 0;
    *branched = true;
    return true;
  };
  // Translation changes must be serialized before control leaves for code
  // that may rely on them (the new kernel, or rfi's target).
  auto purges_serialized = [&] {
    if (purge_i_.active || purge_d_.active) {
      return fail("control transfer before the purge of group " +
                  std::to_string(purge_i_.active ? purge_i_.group : purge_d_.group) +
                  " was serialized (srlz.i missing after ptc.e/ptr)");
    }
    return true;
  };
  // ALU results are NaT when a source is ([ia64/vol1] Deferred Exception
  // Tokens: NaT propagation).
  switch (in.op) {
    case Op::Add:
      return src2() && src3() && write_gr(in.r1, a + b, na || nb);
    case Op::Sub:
      return src2() && src3() && write_gr(in.r1, a - b, na || nb);
    case Op::And:
      return src2() && src3() && write_gr(in.r1, a & b, na || nb);
    case Op::Andcm:
      return src2() && src3() && write_gr(in.r1, a & ~b, na || nb);
    case Op::Or:
      return src2() && src3() && write_gr(in.r1, a | b, na || nb);
    case Op::Adds:
    case Op::Addl:
      return src3() && write_gr(in.r1, b + static_cast<uint64_t>(in.imm), nb);
    case Op::CmpEq:
    case Op::CmpLt:
    case Op::CmpLtu: {
      if (!src2() || !src3()) return false;
      if (in.p1 == in.p2) return fail("compare with p1 == p2 (illegal operation fault)");
      // A normal compare of a NaT clears both predicates ([ia64/vol3] cmp).
      if (na || nb) return write_pr(in.p1, false) && write_pr(in.p2, false);
      const bool r = in.op == Op::CmpEq    ? a == b
                     : in.op == Op::CmpLtu ? a < b
                                           : static_cast<int64_t>(a) < static_cast<int64_t>(b);
      return write_pr(in.p1, r) && write_pr(in.p2, !r);
    }
    case Op::TbitZ: {
      if (!src3()) return false;
      if (in.p1 == in.p2) return fail("tbit with p1 == p2 (illegal operation fault)");
      if (nb) return write_pr(in.p1, false) && write_pr(in.p2, false);
      const bool r = ((b >> in.pos) & 1) == 0;
      return write_pr(in.p1, r) && write_pr(in.p2, !r);
    }
    case Op::ExtrU: {
      if (!src3()) return false;
      const unsigned len = in.pos + in.len > 64 ? 64 - in.pos : in.len;
      const uint64_t v = b >> in.pos;
      return write_gr(in.r1, len >= 64 ? v : v & (bit(len) - 1), nb);
    }
    case Op::ShrU:  // counts above 63 give 0 ([ia64/vol3] shr)
      return src2() && src3() && write_gr(in.r1, a > 63 ? 0 : b >> a, na || nb);
    case Op::Shl:
      return src2() && src3() && write_gr(in.r1, b > 63 ? 0 : a << b, na || nb);
    case Op::DepZ:
      return src2() && write_gr(in.r1, deposit(0, a, in.pos, in.len), na);
    case Op::DepImm:
      return src3() &&
             write_gr(in.r1, deposit(b, static_cast<uint64_t>(in.imm), in.pos, in.len), nb);
    case Op::MovToBr:
      return src2() && no_nat(in.r2, "move to a branch register") && (br_[in.b1] = a, true);
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
      if (!src2() || !no_nat(in.r2, "move to an application register")) return false;
      note(EventKind::WriteAr, bip, in.areg, a);
      return write_ar(in.areg, a);
    case Op::MovToArImm:
      note(EventKind::WriteAr, bip, in.areg, static_cast<uint64_t>(in.imm));
      return write_ar(in.areg, static_cast<uint64_t>(in.imm));
    case Op::MovFromArI:
    case Op::MovFromArM:
      return read_ar(in.areg, &a) && write_gr(in.r1, a);
    case Op::MovToCr:
      if (!src2() || !no_nat(in.r2, "move to a control register")) return false;
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
      if (!src3() || !no_nat(in.r3, "address") || !data_address(b, &pa)) return false;
      const uint64_t v = mem_.read64(pa);
      if (in.op == Op::Ld8Inc && !write_gr(in.r3, b + static_cast<uint64_t>(in.imm))) return false;
      return write_gr(in.r1, v);
    }
    case Op::St8:
    case Op::St8Inc:
    case Op::St8Spill:
    case Op::St8SpillInc: {
      const bool spill = in.op == Op::St8Spill || in.op == Op::St8SpillInc;
      uint64_t pa;
      if (!src2() || !src3() || !no_nat(in.r3, "address")) return false;
      // st8 of a NaT register faults; st8.spill stores it and records
      // its NaT bit in ar.unat bit (address bits 8:3) ([ia64/vol3] st).
      if (!spill && !no_nat(in.r2, "store")) return false;
      if (!data_address(b, &pa)) return false;
      mem_.write64(pa, a);
      if (spill) ar_[ar::kUnat] = deposit(ar_[ar::kUnat], na ? 1 : 0, (b >> 3) & 63, 1);
      decoded_.erase(pa & ~uint64_t{15});  // the code may be overwritten
      unflushed_.insert(pa & ~uint64_t{IA64_FC_STRIDE - 1});
      const bool inc = in.op == Op::St8Inc || in.op == Op::St8SpillInc;
      return !inc || write_gr(in.r3, b + static_cast<uint64_t>(in.imm));
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
    case Op::Rsm: {
      // [ia64/vol2] Serialization, and the PSR field table: rsm psr.i
      // masks interrupts at once (Linux's local_irq_disable is a bare
      // rsm); every other field changes only at a srlz in a later group.
      const uint64_t mask = static_cast<uint64_t>(in.imm);
      psr_ &= ~(mask & bit(IA64_PSR_I_BIT));
      if (mask & ~bit(IA64_PSR_I_BIT)) {
        psr_clear_ |= mask & ~bit(IA64_PSR_I_BIT);
        psr_pending_ = {true, group_};
      }
      note(EventKind::Rsm, bip, mask);
      return true;
    }
    case Op::Flushrs:
      // Every dirty register of older frames goes to the backing store.
      // The memory traffic itself is not modelled; the interpreter keeps
      // no values for those frames.
      note(EventKind::Flushrs, bip, ar_[ar::kBsp] - ar_[ar::kBspstore]);
      ar_[ar::kBspstore] = ar_[ar::kBsp];
      return true;
    case Op::SrlzI:
    case Op::SrlzD:
      serialize(in.op == Op::SrlzI);
      note(in.op == Op::SrlzI ? EventKind::SrlzI : EventKind::SrlzD, bip);
      return true;
    case Op::SyncI:
      note(EventKind::SyncI, bip, unflushed_.size());
      return true;
    case Op::FcI: {
      if (!src3() || !no_nat(in.r3, "address")) return false;
      uint64_t pa;
      if (!translate(b, false, &pa)) return false;
      unflushed_.erase(pa & ~uint64_t{IA64_FC_STRIDE - 1});
      note(EventKind::FcI, bip, pa);
      return true;
    }
    case Op::PtcE:
      if (!src3()) return false;
      note(EventKind::PtcE, bip, b);
      purge_i_ = purge_d_ = {true, group_};
      return true;
    case Op::PtrI:
    case Op::PtrD:
      if (!src2() || !src3()) return false;
      note(in.op == Op::PtrI ? EventKind::PtrI : EventKind::PtrD, bip, b, a);
      purge_tr(in.op == Op::PtrI, b, a);
      (in.op == Op::PtrI ? purge_i_ : purge_d_) = {true, group_};
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
      return purges_serialized() && jump(br_[in.b2]);
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
      if (!purges_serialized() || !check_rfi_psr(ipsr)) return false;
      if (cr_[cr::kIfs] & kIfsValid) {
        // The RSE would reload that frame's registers from the backing
        // store, which the interpreter does not hold.
        return fail("rfi with cr.ifs.v=1 would restore a stale frame (sof " +
                    std::to_string(cr_[cr::kIfs] & 0x7f) + ") from the backing store");
      }
      psr_ = ipsr & ~(uint64_t{3} << kPsrRiShift);
      psr_clear_ = 0;
      psr_pending_.active = false;
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
