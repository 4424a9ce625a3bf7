// The decoded form of the instructions the interpreter knows: exactly the
// ones the control block (ia64/relocate_kernel.S) is written in. Anything
// else is refused by decode_slot with a message naming the encoding.
#pragma once

#include <charon/result.h>

#include <cstdint>
#include <string>

#include "interp/bundle.h"

namespace charon::ia64 {

enum class Op : uint8_t {
  // A unit (M or I slots), [ia64/vol3] 4.2.
  Add,     // A1 add r1=r2,r3
  Sub,     // A1 sub r1=r2,r3
  And,     // A1
  Andcm,   // A1
  Or,      // A1
  Adds,    // A4 adds r1=imm14,r3
  Addl,    // A5 addl r1=imm22,r3 (r3 in r0-r3)
  CmpEq,   // A6 cmp.eq p1,p2=r2,r3 (normal type only)
  CmpLt,   // A6
  CmpLtu,  // A6
  // I unit, [ia64/vol3] 4.3.
  TbitZ,       // I16 tbit.z p1,p2=r3,pos (normal type only)
  ExtrU,       // I11 extr.u r1=r3,pos,len
  ShrU,        // I5 shr.u r1=r3,r2 (variable count)
  Shl,         // I7 shl r1=r2,r3 (variable count)
  DepZ,        // I12 dep.z r1=r2,pos,len
  DepImm,      // I14 dep r1=imm1,r3,pos,len
  MovToBr,     // I21 mov b1=r2
  MovFromBr,   // I22 mov r1=b2
  MovFromIp,   // I25 mov r1=ip
  MovFromPr,   // I25 mov r1=pr
  MovToArI,    // I26 mov.i ar3=r2
  MovFromArI,  // I28 mov.i r1=ar3
  NopI,        // I18
  // M unit, [ia64/vol3] 4.4.
  Ld8,          // M1 ld8 r1=[r3]
  Ld8Inc,       // M3 ld8 r1=[r3],imm9
  St8,          // M4 st8 [r3]=r2
  St8Inc,       // M5 st8 [r3]=r2,imm9
  St8Spill,     // M4 st8.spill [r3]=r2
  St8SpillInc,  // M5 st8.spill [r3]=r2,imm9
  MovToArM,     // M29 mov.m ar3=r2
  MovToArImm,   // M30 mov.m ar3=imm8
  MovFromArM,   // M31 mov.m r1=ar3
  MovToCr,      // M32 mov cr3=r2
  MovFromCr,    // M33 mov r1=cr3
  Alloc,        // M34 alloc r1=ar.pfs,i,l,o,r
  Rsm,          // M44 rsm imm24
  Flushrs,      // M25
  SrlzI,        // M24
  SrlzD,        // M24
  SyncI,        // M24
  FcI,          // M28 fc.i r3
  PtcE,         // M47 ptc.e r3
  PtrD,         // M45 ptr.d r3,r2
  PtrI,         // M45 ptr.i r3,r2
  NopM,         // M48
  // B unit, [ia64/vol3] 4.5.
  BrCond,      // B1 IP-relative, btype 0
  BrCloop,     // B1 IP-relative, btype 5
  BrIndirect,  // B4 br b2, btype 0
  BrRet,       // B4 br.ret b2, btype 4
  Rfi,         // B8
  NopB,        // B9
};

struct Insn {
  Op op = Op::NopM;
  Unit unit = Unit::M;
  uint8_t qp = 0;
  uint8_t r1 = 0, r2 = 0, r3 = 0;
  uint8_t p1 = 0, p2 = 0;
  uint8_t b1 = 0, b2 = 0;
  uint8_t areg = 0;  // AR or CR number
  uint8_t pos = 0, len = 0;
  int64_t imm = 0;                    // immediates, branch displacement in bytes
  uint8_t hint = 0;                   // branch whether-hint (0 sptk, 1 spnt, 2 dptk, 3 dpnt)
  bool many = false;                  // branch prefetch hint .many (else .few)
  uint8_t sof = 0, sol = 0, sor = 0;  // alloc
};

// Decodes one 41-bit slot executed on the given unit. L and X slots, F
// slots and every encoding outside the subset fail loudly.
Result<Insn> decode_slot(Unit unit, uint64_t slot);

// The instruction in objdump's syntax (binutils ia64-dis.c), without the
// stop marker, so that a test can compare the two line by line. Branch
// targets print as absolute addresses relative to bundle_address.
std::string disassemble(const Insn& insn, uint64_t bundle_address);

}  // namespace charon::ia64
