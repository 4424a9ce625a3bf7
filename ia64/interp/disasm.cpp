// Prints a decoded instruction the way GNU objdump does for ia64, so that
// decode_test.cpp can hold the decoder against the real disassembler.
#include <cinttypes>
#include <cstdio>
#include <string>

#include "interp/insn.h"

namespace charon::ia64 {
namespace {

std::string format(const char* fmt, auto... args) {
  char buf[128];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

std::string ar_name(unsigned n) {
  switch (n) {
    case 16:
      return "ar.rsc";
    case 17:
      return "ar.bsp";
    case 18:
      return "ar.bspstore";
    case 19:
      return "ar.rnat";
    case 25:
      return "ar.csd";
    case 26:
      return "ar.ssd";
    case 32:
      return "ar.ccv";
    case 36:
      return "ar.unat";
    case 40:
      return "ar.fpsr";
    case 44:
      return "ar.itc";
    case 64:
      return "ar.pfs";
    case 65:
      return "ar.lc";
    case 66:
      return "ar.ec";
    default:
      return format("ar%u", n);
  }
}

std::string cr_name(unsigned n) {
  switch (n) {
    case 0:
      return "cr.dcr";
    case 1:
      return "cr.itm";
    case 2:
      return "cr.iva";
    case 8:
      return "cr.pta";
    case 16:
      return "cr.ipsr";
    case 17:
      return "cr.isr";
    case 19:
      return "cr.iip";
    case 20:
      return "cr.ifa";
    case 21:
      return "cr.itir";
    case 22:
      return "cr.iipa";
    case 23:
      return "cr.ifs";
    case 24:
      return "cr.iim";
    case 25:
      return "cr.iha";
    case 64:
      return "cr.lid";
    case 65:
      return "cr.ivr";
    case 66:
      return "cr.tpr";
    case 67:
      return "cr.eoi";
    default:
      return format("cr%u", n);
  }
}

const char* hint_name(uint8_t hint) {
  static const char* const kNames[] = {"sptk", "spnt", "dptk", "dpnt"};
  return kNames[hint & 3];
}

std::string body(const Insn& in, uint64_t bundle) {
  const unsigned r1 = in.r1, r2 = in.r2, r3 = in.r3;
  const long long imm = in.imm;
  const char* ph = in.many ? "many" : "few";
  switch (in.op) {
    case Op::Add:
      return format("add r%u=r%u,r%u", r1, r2, r3);
    case Op::Sub:
      return format("sub r%u=r%u,r%u", r1, r2, r3);
    case Op::ShrU:
      return format("shr.u r%u=r%u,r%u", r1, r3, r2);
    case Op::Shl:
      return format("shl r%u=r%u,r%u", r1, r2, r3);
    case Op::And:
      return format("and r%u=r%u,r%u", r1, r2, r3);
    case Op::Andcm:
      return format("andcm r%u=r%u,r%u", r1, r2, r3);
    case Op::Or:
      return format("or r%u=r%u,r%u", r1, r2, r3);
    case Op::Adds:
      if (imm == 0) return format("mov r%u=r%u", r1, r3);
      return format("adds r%u=%lld,r%u", r1, imm, r3);
    case Op::Addl:
      if (r3 == 0) return format("mov r%u=%lld", r1, imm);
      return format("addl r%u=%lld,r%u", r1, imm, r3);
    case Op::CmpEq:
      return format("cmp.eq p%u,p%u=r%u,r%u", in.p1, in.p2, r2, r3);
    case Op::CmpLt:
      return format("cmp.lt p%u,p%u=r%u,r%u", in.p1, in.p2, r2, r3);
    case Op::CmpLtu:
      return format("cmp.ltu p%u,p%u=r%u,r%u", in.p1, in.p2, r2, r3);
    case Op::TbitZ:
      return format("tbit.z p%u,p%u=r%u,%u", in.p1, in.p2, r3, in.pos);
    case Op::ExtrU:
      if (in.pos + in.len == 64) return format("shr.u r%u=r%u,%u", r1, r3, in.pos);
      return format("extr.u r%u=r%u,%u,%u", r1, r3, in.pos, in.len);
    case Op::DepZ:
      if (in.pos + in.len == 64) return format("shl r%u=r%u,%u", r1, r2, in.pos);
      return format("dep.z r%u=r%u,%u,%u", r1, r2, in.pos, in.len);
    case Op::DepImm:
      return format("dep r%u=%lld,r%u,%u,%u", r1, imm, r3, in.pos, in.len);
    case Op::MovToBr:
      return format("mov b%u=r%u", in.b1, r2);
    case Op::MovFromBr:
      return format("mov r%u=b%u", r1, in.b2);
    case Op::MovFromIp:
      return format("mov r%u=ip", r1);
    case Op::MovFromPr:
      return format("mov r%u=pr", r1);
    case Op::MovToArI:
      return "mov.i " + ar_name(in.areg) + format("=r%u", r2);
    case Op::MovFromArI:
      return format("mov.i r%u=", r1) + ar_name(in.areg);
    case Op::NopI:
      return format("nop.i 0x%llx", imm);
    case Op::Ld8:
      return format("ld8 r%u=[r%u]", r1, r3);
    case Op::Ld8Inc:
      return format("ld8 r%u=[r%u],%lld", r1, r3, imm);
    case Op::St8:
      return format("st8 [r%u]=r%u", r3, r2);
    case Op::St8Inc:
      return format("st8 [r%u]=r%u,%lld", r3, r2, imm);
    case Op::St8Spill:
      return format("st8.spill [r%u]=r%u", r3, r2);
    case Op::St8SpillInc:
      return format("st8.spill [r%u]=r%u,%lld", r3, r2, imm);
    case Op::MovToArM:
      return "mov.m " + ar_name(in.areg) + format("=r%u", r2);
    case Op::MovToArImm:
      return "mov.m " + ar_name(in.areg) + format("=%lld", imm);
    case Op::MovFromArM:
      return format("mov.m r%u=", r1) + ar_name(in.areg);
    case Op::MovToCr:
      return "mov " + cr_name(in.areg) + format("=r%u", r2);
    case Op::MovFromCr:
      return format("mov r%u=", r1) + cr_name(in.areg);
    case Op::Alloc:
      return format("alloc r%u=ar.pfs,%u,%u,%u", r1, in.sof, in.sol, in.sor * 8u);
    case Op::Rsm:
      return format("rsm 0x%llx", imm);
    case Op::Flushrs:
      return "flushrs";
    case Op::SrlzI:
      return "srlz.i";
    case Op::SrlzD:
      return "srlz.d";
    case Op::SyncI:
      return "sync.i";
    case Op::FcI:
      return format("fc.i r%u", r3);
    case Op::PtcE:
      return format("ptc.e r%u", r3);
    case Op::PtrD:
      return format("ptr.d r%u,r%u", r3, r2);
    case Op::PtrI:
      return format("ptr.i r%u,r%u", r3, r2);
    case Op::NopM:
      return format("nop.m 0x%llx", imm);
    case Op::BrCond: {
      const uint64_t target = bundle + static_cast<uint64_t>(in.imm);
      // objdump prints the "br" pseudo-op for an unpredicated, statically
      // taken conditional branch.
      if (in.qp == 0 && in.hint == 0) return format("br.%s %" PRIx64, ph, target);
      return format("br.cond.%s.%s %" PRIx64, hint_name(in.hint), ph, target);
    }
    case Op::BrCloop:
      return format("br.cloop.%s.%s %" PRIx64, hint_name(in.hint), ph,
                    bundle + static_cast<uint64_t>(in.imm));
    case Op::BrIndirect:
      if (in.qp == 0 && in.hint == 0) return format("br.%s b%u", ph, in.b2);
      return format("br.cond.%s.%s b%u", hint_name(in.hint), ph, in.b2);
    case Op::BrRet:
      return format("br.ret.%s.%s b%u", hint_name(in.hint), ph, in.b2);
    case Op::Rfi:
      return "rfi";
    case Op::NopB:
      return format("nop.b 0x%llx", imm);
  }
  return "?";
}

}  // namespace

std::string disassemble(const Insn& insn, uint64_t bundle_address) {
  std::string text = body(insn, bundle_address);
  if (insn.qp != 0) text = format("(p%02u) ", insn.qp) + text;
  return text;
}

}  // namespace charon::ia64
