// A small IA-64 interpreter for the control block's own machine code. It
// runs one CPU at privilege level 0 over simulated physical memory, and
// models the privileged instructions by their effect on the state that the
// tests then check. What it does not model, it refuses with a fault.
//
// It is strict where the hardware is: instruction groups end at stops and
// taken branches, and a change that the manual says needs serialization
// (rsm of anything but psr.i, ptc.e, ptr) takes effect only at a srlz in a
// later group; ar.bspstore and ar.rnat are read only in enforced lazy
// mode; general registers carry NaT bits, and st8 of a NaT register
// faults; rfi refuses PSR fields it does not model and a stale cr.ifs.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "interp/insn.h"
#include "interp/interrupts.h"
#include "interp/memory.h"

namespace charon::ia64 {

// Application and control register numbers ([ia64/vol1] Application
// Register State, [ia64/vol2] Control Registers).
namespace ar {
inline constexpr unsigned kRsc = 16, kBsp = 17, kBspstore = 18, kRnat = 19, kCsd = 25, kSsd = 26,
                          kCcv = 32, kUnat = 36, kFpsr = 40, kPfs = 64, kLc = 65, kEc = 66;
}
namespace cr {
inline constexpr unsigned kIpsr = 16, kIip = 19, kIfs = 23, kIvr = 65, kTpr = 66, kEoi = 67;
}

// Privileged or cache-visible operations, in the order they ran.
enum class EventKind : uint8_t {
  Rsm,
  Flushrs,
  WriteAr,
  WriteCr,
  Rfi,
  PtcE,
  PtrI,
  PtrD,
  FcI,
  SyncI,
  SrlzI,
  SrlzD,
  Branch
};

struct Event {
  EventKind kind;
  uint64_t ip;         // bundle address
  uint64_t psr;        // PSR when it ran
  uint64_t a = 0;      // register number, address or target
  uint64_t b = 0;      // value written, or size operand
  uint64_t group = 0;  // instruction group it ran in
};

// A translation register ([ia64/vol2] Translation Registers): the old kernel pins its
// text, PAL code and stack with them, and ptr must remove each one.
struct TranslationRegister {
  bool instruction;  // ITR, else DTR
  uint64_t va;
  unsigned log2_size;
};

// Itanium 2 implements 50 physical address bits (PAL_VM_SUMMARY reports
// the number); bit 63 in physical mode only selects uncacheable.
inline constexpr unsigned kImplementedPaBits = 50;

struct RunResult {
  bool stopped = false;  // reached the stop address
  std::string fault;     // why it did not, if it did not
  uint64_t bundles = 0;
};

class Machine {
 public:
  explicit Machine(Memory& memory) : mem_(memory) { pr_[0] = true; }

  // Virtual addresses translate as va - base over [base, base + 2^50):
  // Linux maps physical memory at 0xe000..., Xen-ia64 at 0xf000...
  void set_direct_map(uint64_t base) { direct_map_ = base; }

  // State the caller sets up before run().
  void set_gr(unsigned n, uint64_t v) {
    gr_[n] = v;
    nat_[n] = false;
  }
  void set_nat(unsigned n, bool v) { nat_[n] = n != 0 && v; }
  void set_br(unsigned n, uint64_t v) { br_[n] = v; }
  void set_pr(unsigned n, bool v) { pr_[n] = n == 0 || v; }
  void set_ar(unsigned n, uint64_t v) { ar_[n] = v; }
  void set_psr(uint64_t v) { psr_ = v; }
  void set_ip(uint64_t v) {
    ip_ = v;
    slot_ = 0;
  }
  void set_frame(unsigned sof, unsigned sol) {
    sof_ = sof;
    sol_ = sol;
  }
  void set_cr(unsigned n, uint64_t v) {
    cr_[n] = v;
    if (n == cr::kTpr) irq_.set_tpr(v);
  }
  InterruptUnit& interrupts() { return irq_; }
  void insert_tr(TranslationRegister tr) { trs_.push_back(tr); }

  // Runs until ip reaches stop_ip at a bundle boundary, a fault, or the
  // bundle budget runs out.
  RunResult run(uint64_t stop_ip, uint64_t max_bundles);

  uint64_t gr(unsigned n) const { return gr_[n]; }
  uint64_t br(unsigned n) const { return br_[n]; }
  bool pr(unsigned n) const { return pr_[n]; }
  bool nat(unsigned n) const { return nat_[n]; }
  uint64_t ar(unsigned n) const { return ar_[n]; }
  uint64_t cr(unsigned n) const { return cr_[n]; }
  uint64_t psr() const { return psr_; }
  uint64_t ip() const { return ip_; }
  unsigned sof() const { return sof_; }
  unsigned eoi_writes() const { return eoi_writes_; }
  const InterruptUnit& interrupts() const { return irq_; }
  const std::vector<TranslationRegister>& trs() const { return trs_; }
  const std::vector<Event>& events() const { return events_; }

  // Data accesses: how many, the OR of PSR over all of them, and how many
  // events had been recorded when the first one ran.
  uint64_t data_accesses() const { return data_accesses_; }
  uint64_t data_access_psr_union() const { return data_psr_union_; }
  size_t events_before_first_data_access() const { return events_before_data_; }
  // 32-byte lines stored to and not yet flushed with fc.i.
  const std::unordered_set<uint64_t>& unflushed_lines() const { return unflushed_; }

  static constexpr uint64_t kRnatUndefined = 0x0bad0bad0bad0badull;

 private:
  struct Decoded {
    Template tmpl;
    std::array<Insn, 3> insns;
  };

  bool fetch(uint64_t phys, const Decoded** out);
  bool exec(const Insn& in, uint64_t bundle_ip, bool* branched);
  bool translate(uint64_t va, bool instruction, uint64_t* pa);
  bool data_address(uint64_t va, uint64_t* pa);
  bool read_gr(unsigned r, uint64_t* v, bool* nat = nullptr);
  bool write_gr(unsigned r, uint64_t v, bool nat = false);
  bool no_nat(unsigned r, const char* use);
  void purge_tr(bool instruction, uint64_t va, uint64_t size_operand);
  void end_group() { ++group_; }
  void serialize(bool instruction);
  bool check_rfi_psr(uint64_t ipsr);
  bool write_pr(unsigned p, bool v);
  bool write_ar(unsigned n, uint64_t v);
  bool write_cr(unsigned n, uint64_t v);
  bool read_ar(unsigned n, uint64_t* v);
  bool read_cr(unsigned n, uint64_t* v);
  bool fail(std::string message);
  void note(EventKind kind, uint64_t ip, uint64_t a = 0, uint64_t b = 0) {
    events_.push_back({kind, ip, psr_, a, b, group_});
  }

  Memory& mem_;
  std::array<uint64_t, 128> gr_{};
  std::array<bool, 128> nat_{};
  std::array<bool, 64> pr_{};
  std::array<uint64_t, 8> br_{};
  std::array<uint64_t, 128> ar_{};
  std::array<uint64_t, 128> cr_{};
  uint64_t psr_ = 0;
  uint64_t ip_ = 0;
  unsigned slot_ = 0;
  unsigned sof_ = 0, sol_ = 0;
  uint64_t direct_map_ = uint64_t{7} << 61;
  InterruptUnit irq_;
  std::vector<TranslationRegister> trs_;
  // Instruction groups and the changes that wait for a srlz in a later
  // one: PSR bits (rsm) and purges (ptc.e, ptr.i need srlz.i; ptr.d
  // needs srlz.d or srlz.i).
  uint64_t group_ = 0;
  struct Pending {
    bool active = false;
    uint64_t group = 0;
  };
  uint64_t psr_clear_ = 0;
  Pending psr_pending_, purge_i_, purge_d_;
  unsigned eoi_writes_ = 0;
  std::vector<Event> events_;
  uint64_t data_accesses_ = 0, data_psr_union_ = 0;
  size_t events_before_data_ = 0;
  std::unordered_set<uint64_t> unflushed_;
  std::unordered_map<uint64_t, Decoded> decoded_;
  std::string fault_;
};

}  // namespace charon::ia64
