// Slot decoding for the interpreter's instruction subset. Field positions
// are those of the instruction formats in [ia64/vol3] chapter 4; the
// format name (A1, M3, B1, ...) is given with each case.
#include <cstdio>

#include "interp/insn.h"

namespace charon::ia64 {
namespace {

constexpr uint64_t field(uint64_t slot, unsigned lo, unsigned n) {
  return (slot >> lo) & ((uint64_t{1} << n) - 1);
}

constexpr int64_t sign_extend(uint64_t value, unsigned bits) {
  const uint64_t m = uint64_t{1} << (bits - 1);
  return static_cast<int64_t>((value ^ m) - m);
}

Result<Insn> unsupported(Unit unit, uint64_t slot, const char* why) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "unsupported %s-unit instruction 0x%011llx (major opcode %u): %s",
                unit_name(unit), static_cast<unsigned long long>(slot),
                static_cast<unsigned>(field(slot, 37, 4)), why);
  return Result<Insn>::failure(buf);
}

Insn base(Op op, Unit unit, uint64_t slot) {
  Insn in;
  in.op = op;
  in.unit = unit;
  in.qp = static_cast<uint8_t>(field(slot, 0, 6));
  in.r1 = static_cast<uint8_t>(field(slot, 6, 7));
  in.r2 = static_cast<uint8_t>(field(slot, 13, 7));
  in.r3 = static_cast<uint8_t>(field(slot, 20, 7));
  return in;
}

// A-unit instructions, which M and I slots share (major opcodes 8-E).
Result<Insn> decode_a(Unit unit, uint64_t s) {
  const uint64_t op = field(s, 37, 4);
  if (op == 8) {
    const uint64_t x2a = field(s, 34, 2);
    if (x2a == 2) {  // A4 adds
      Insn in = base(Op::Adds, unit, s);
      in.imm = sign_extend(field(s, 36, 1) << 13 | field(s, 27, 6) << 7 | field(s, 13, 7), 14);
      return in;
    }
    if (x2a != 0 || field(s, 33, 1) != 0) return unsupported(unit, s, "ALU form");
    const uint64_t x4 = field(s, 29, 4), x2b = field(s, 27, 2);
    if (x4 == 0 && x2b == 0) return base(Op::Add, unit, s);  // A1
    if (x4 == 1 && x2b == 1) return base(Op::Sub, unit, s);
    if (x4 == 3 && x2b == 0) return base(Op::And, unit, s);
    if (x4 == 3 && x2b == 1) return base(Op::Andcm, unit, s);
    if (x4 == 3 && x2b == 2) return base(Op::Or, unit, s);
    return unsupported(unit, s, "ALU operation");
  }
  if (op == 9) {  // A5 addl, r3 is two bits wide
    Insn in = base(Op::Addl, unit, s);
    in.r3 = static_cast<uint8_t>(field(s, 20, 2));
    in.imm = sign_extend(
        field(s, 36, 1) << 21 | field(s, 22, 5) << 16 | field(s, 27, 9) << 7 | field(s, 13, 7), 22);
    return in;
  }
  if (op >= 0xc && op <= 0xe) {  // A6 integer compare, register form
    if (field(s, 34, 2) != 0 || field(s, 36, 1) != 0 || field(s, 33, 1) != 0 ||
        field(s, 12, 1) != 0) {
      return unsupported(unit, s, "compare type other than the normal register form");
    }
    Insn in = base(op == 0xc ? Op::CmpLt : op == 0xd ? Op::CmpLtu : Op::CmpEq, unit, s);
    in.p1 = static_cast<uint8_t>(field(s, 6, 6));
    in.p2 = static_cast<uint8_t>(field(s, 27, 6));
    return in;
  }
  return unsupported(unit, s, "A-unit opcode");
}

Result<Insn> decode_i(uint64_t s) {
  const Unit u = Unit::I;
  const uint64_t op = field(s, 37, 4);
  if (op >= 8) return decode_a(u, s);
  if (op == 0) {
    const uint64_t x3 = field(s, 33, 3);
    if (x3 == 7) {  // I21 mov b1=r2; the hint fields only steer prediction
      if (field(s, 22, 1) != 0) return unsupported(u, s, "mov.ret to a branch register");
      Insn in = base(Op::MovToBr, u, s);
      in.b1 = static_cast<uint8_t>(field(s, 6, 3));
      return in;
    }
    if (x3 != 0) return unsupported(u, s, "I-unit misc form");
    Insn in = base(Op::NopI, u, s);
    in.areg = in.r3;
    switch (field(s, 27, 6)) {
      case 0x01:  // I18 nop.i (y=0); hint.i is y=1
        if (field(s, 26, 1) != 0) return unsupported(u, s, "hint.i");
        in.imm = static_cast<int64_t>(field(s, 36, 1) << 20 | field(s, 6, 20));
        return in;
      case 0x30:
        in.op = Op::MovFromIp;
        return in;  // I25
      case 0x33:
        in.op = Op::MovFromPr;
        return in;  // I25
      case 0x31:    // I22
        in.op = Op::MovFromBr;
        in.b2 = static_cast<uint8_t>(field(s, 13, 3));
        return in;
      case 0x2a:
        in.op = Op::MovToArI;
        return in;  // I26
      case 0x32:
        in.op = Op::MovFromArI;
        return in;  // I28
      default:
        return unsupported(u, s, "I-unit misc operation");
    }
  }
  if (op == 5) {
    const uint64_t x2 = field(s, 34, 2), x = field(s, 33, 1);
    if (x2 == 0) {  // I16 tbit, normal type only (ta=tb=c=0); y=1 is tnat
      if (x != 0 || field(s, 36, 1) != 0 || field(s, 12, 1) != 0 || field(s, 13, 1) != 0) {
        return unsupported(u, s, "tbit/tnat type other than tbit.z normal");
      }
      Insn in = base(Op::TbitZ, u, s);
      in.p1 = static_cast<uint8_t>(field(s, 6, 6));
      in.p2 = static_cast<uint8_t>(field(s, 27, 6));
      in.pos = static_cast<uint8_t>(field(s, 14, 6));
      return in;
    }
    if (x2 == 1 && x == 0 && field(s, 13, 1) == 0) {  // I11 extr.u
      Insn in = base(Op::ExtrU, u, s);
      in.pos = static_cast<uint8_t>(field(s, 14, 6));
      in.len = static_cast<uint8_t>(field(s, 27, 6) + 1);
      return in;
    }
    if (x2 == 1 && x == 1 && field(s, 26, 1) == 0) {  // I12 dep.z, register form
      Insn in = base(Op::DepZ, u, s);
      in.pos = static_cast<uint8_t>(63 - field(s, 20, 6));
      in.len = static_cast<uint8_t>(field(s, 27, 6) + 1);
      return in;
    }
    if (x2 == 3 && x == 1) {  // I14 dep with a one-bit immediate
      Insn in = base(Op::DepImm, u, s);
      in.imm = field(s, 36, 1) ? -1 : 0;
      in.pos = static_cast<uint8_t>(63 - field(s, 14, 6));
      in.len = static_cast<uint8_t>(field(s, 27, 6) + 1);
      return in;
    }
    return unsupported(u, s, "deposit/extract/test form");
  }
  if (op == 7 && field(s, 36, 1) == 1 && field(s, 33, 1) == 1 && field(s, 34, 2) == 0 &&
      field(s, 32, 1) == 0) {
    // I5/I7: 64-bit variable shifts (za=zb=1, ve=0, x2a=0).
    const uint64_t x2c = field(s, 30, 2), x2b = field(s, 28, 2);
    if (x2c == 0 && x2b == 0) return base(Op::ShrU, u, s);
    if (x2c == 1 && x2b == 0) return base(Op::Shl, u, s);
  }
  return unsupported(u, s, "I-unit opcode");
}

Result<Insn> decode_m(uint64_t s) {
  const Unit u = Unit::M;
  const uint64_t op = field(s, 37, 4);
  if (op >= 8) return decode_a(u, s);
  if (op == 0) {
    if (field(s, 33, 3) != 0) return unsupported(u, s, "system/memory management form");
    const uint64_t x4 = field(s, 27, 4), x2 = field(s, 31, 2);
    Insn in = base(Op::NopM, u, s);
    if (x4 == 7) {  // M44 rsm: x2 is part of the immediate here
      in.op = Op::Rsm;
      in.imm = static_cast<int64_t>(field(s, 36, 1) << 23 | x2 << 21 | field(s, 6, 21));
      return in;
    }
    if (x2 == 0 && x4 == 1) {  // M48 nop.m (y=0)
      if (field(s, 26, 1) != 0) return unsupported(u, s, "hint.m");
      in.imm = static_cast<int64_t>(field(s, 36, 1) << 20 | field(s, 6, 20));
      return in;
    }
    if (x2 == 0 && x4 == 0xc) {
      in.op = Op::Flushrs;
      return in;
    }  // M25
    if (x2 == 3 && x4 == 0) {
      in.op = Op::SrlzD;
      return in;
    }  // M24
    if (x2 == 3 && x4 == 1) {
      in.op = Op::SrlzI;
      return in;
    }  // M24
    if (x2 == 3 && x4 == 3) {
      in.op = Op::SyncI;
      return in;
    }                          // M24
    if (x2 == 2 && x4 == 8) {  // M30 mov.m ar3=imm8
      in.op = Op::MovToArImm;
      in.areg = in.r3;
      in.imm = sign_extend(field(s, 36, 1) << 7 | field(s, 13, 7), 8);
      return in;
    }
    return unsupported(u, s, "system/memory management operation");
  }
  if (op == 1) {
    const uint64_t x3 = field(s, 33, 3);
    if (x3 == 6) {  // M34 alloc; sor counts groups of eight
      Insn in = base(Op::Alloc, u, s);
      in.sof = static_cast<uint8_t>(field(s, 13, 7));
      in.sol = static_cast<uint8_t>(field(s, 20, 7));
      in.sor = static_cast<uint8_t>(field(s, 27, 4));
      return in;
    }
    if (x3 != 0) return unsupported(u, s, "system/memory management form");
    Insn in = base(Op::NopM, u, s);
    in.areg = in.r3;
    switch (field(s, 27, 6)) {
      case 0x2a:
        in.op = Op::MovToArM;
        return in;  // M29
      case 0x22:
        in.op = Op::MovFromArM;
        return in;  // M31
      case 0x2c:
        in.op = Op::MovToCr;
        return in;  // M32
      case 0x24:
        in.op = Op::MovFromCr;
        return in;  // M33
      case 0x30:    // M28: bit 36 tells fc.i from fc
        if (field(s, 36, 1) == 0) return unsupported(u, s, "fc (only fc.i is modelled)");
        in.op = Op::FcI;
        return in;
      case 0x34:
        in.op = Op::PtcE;
        return in;  // M47
      case 0x0c:
        in.op = Op::PtrD;
        return in;  // M45
      case 0x0d:
        in.op = Op::PtrI;
        return in;  // M45
      default:
        return unsupported(u, s, "system/memory management operation");
    }
  }
  if (op == 4 || op == 5) {
    // M1/M4 (op 4, m=0, x=0) and M3/M5 (op 5): only ld8 and st8 without
    // a locality hint.
    if (op == 4 && (field(s, 36, 1) != 0 || field(s, 27, 1) != 0)) {
      return unsupported(u, s, "load/store with register update or semaphore form");
    }
    if (field(s, 28, 2) != 0) return unsupported(u, s, "load/store locality hint");
    const uint64_t x6 = field(s, 30, 6);
    if (x6 != 0x03 && x6 != 0x33 && x6 != 0x3b) {
      return unsupported(u, s, "load/store other than ld8/st8/st8.spill");
    }
    const bool store = x6 != 0x03;
    Op opcode = op == 4 ? Op::Ld8 : Op::Ld8Inc;
    if (x6 == 0x33) opcode = op == 4 ? Op::St8 : Op::St8Inc;
    if (x6 == 0x3b) opcode = op == 4 ? Op::St8Spill : Op::St8SpillInc;
    Insn in = base(opcode, u, s);
    if (op == 5) {
      const uint64_t low7 = store ? field(s, 6, 7) : field(s, 13, 7);
      in.imm = sign_extend(field(s, 36, 1) << 8 | field(s, 27, 1) << 7 | low7, 9);
    }
    return in;
  }
  return unsupported(u, s, "M-unit opcode");
}

Result<Insn> decode_b(uint64_t s) {
  const Unit u = Unit::B;
  const uint64_t op = field(s, 37, 4);
  const uint64_t btype = field(s, 6, 3);
  Insn in = base(Op::NopB, u, s);
  in.hint = static_cast<uint8_t>(field(s, 33, 2));
  in.many = field(s, 12, 1) != 0;
  const bool branch = op == 4 || (op == 0 && (field(s, 27, 6) == 0x20 || field(s, 27, 6) == 0x21));
  if (branch && field(s, 35, 1) != 0) {
    return unsupported(u, s, "branch with the .clr cache deallocation hint");
  }
  if (op == 0) {
    switch (field(s, 27, 6)) {
      case 0x08:
        in.op = Op::Rfi;
        return in;  // B8
      case 0x20:    // B4 br.cond b2
        if (btype != 0) return unsupported(u, s, "indirect branch type other than cond");
        in.op = Op::BrIndirect;
        in.b2 = static_cast<uint8_t>(field(s, 13, 3));
        return in;
      case 0x21:  // B4 br.ret b2
        if (btype != 4) return unsupported(u, s, "return branch type");
        in.op = Op::BrRet;
        in.b2 = static_cast<uint8_t>(field(s, 13, 3));
        return in;
      default:
        return unsupported(u, s, "B-unit misc operation");
    }
  }
  if (op == 2) {  // B9 nop.b (x6=0); hint.b is x6=1
    if (field(s, 27, 6) != 0) return unsupported(u, s, "B-unit nop/hint form");
    in.imm = static_cast<int64_t>(field(s, 36, 1) << 20 | field(s, 6, 20));
    return in;
  }
  if (op == 4) {  // B1 IP-relative: displacement in bundles, 21 bits
    if (btype != 0 && btype != 5) return unsupported(u, s, "IP-relative branch type");
    in.op = btype == 0 ? Op::BrCond : Op::BrCloop;
    in.imm = sign_extend(field(s, 36, 1) << 20 | field(s, 13, 20), 21) * 16;
    return in;
  }
  return unsupported(u, s, "B-unit opcode");
}

}  // namespace

Result<Insn> decode_slot(Unit unit, uint64_t slot) {
  switch (unit) {
    case Unit::M:
      return decode_m(slot);
    case Unit::I:
      return decode_i(slot);
    case Unit::B:
      return decode_b(slot);
    case Unit::F:
      return unsupported(unit, slot, "no floating-point instruction is modelled");
    case Unit::L:
    case Unit::X:
      return unsupported(unit, slot, "no long (MLX) instruction is modelled");
  }
  return unsupported(unit, slot, "unknown unit");
}

}  // namespace charon::ia64
