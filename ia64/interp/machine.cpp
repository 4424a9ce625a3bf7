#include "interp/machine.h"

#include <cstdio>
#include <vector>

#include "ia64/control_abi.h"

namespace charon::ia64 {
namespace {

constexpr uint64_t bit(unsigned n) {
  return uint64_t{1} << n;
}
constexpr uint64_t kUncacheable = bit(63);  // physical mode: the UC attribute
constexpr uint64_t kPaLimit = bit(kImplementedPaBits);

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

bool Machine::fail(std::string message) {
  if (fault_.empty()) fault_ = std::move(message);
  return false;
}

bool Machine::translate(uint64_t va, bool instruction, uint64_t* pa) {
  const bool virt = (psr_ & bit(instruction ? IA64_PSR_IT_BIT : IA64_PSR_DT_BIT)) != 0;
  const char* what = instruction ? "instruction fetch" : "data access";
  if (virt) {
    if (va < direct_map_ || va - direct_map_ >= kPaLimit) {
      return fail(std::string(what) + " at virtual address " + hex(va) +
                  " outside the direct map at " + hex(direct_map_) +
                  ", the only translation modelled");
    }
    *pa = va - direct_map_;
    return true;
  }
  // [ia64/vol2] Physical Addressing: bits above the implemented
  // ones, other than the attribute bit 63, raise an unimplemented data
  // address fault (or, for rfi and branches, an unimplemented instruction
  // address trap).
  *pa = va & ~kUncacheable;
  if (*pa >= kPaLimit) {
    return fail(std::string(what) + " at unimplemented physical address " + hex(va));
  }
  return true;
}

bool Machine::data_address(uint64_t va, uint64_t* pa) {
  if (purge_d_.active) {
    return fail("data access before the purge of group " + std::to_string(purge_d_.group) +
                " was serialized (srlz missing after ptc.e/ptr)");
  }
  if (va % 8 != 0) return fail("unaligned 8-byte data access at " + hex(va));
  if (!translate(va, false, pa)) return false;
  if (!mem_.contains(*pa, 8)) return fail("data access at " + hex(*pa) + " outside memory");
  if (data_accesses_++ == 0) events_before_data_ = events_.size();
  data_psr_union_ |= psr_;
  return true;
}

// A purge takes effect for the interpreter at once; what it checks is
// that the code serializes it before it relies on it.
void Machine::purge_tr(bool instruction, uint64_t va, uint64_t size_operand) {
  const uint64_t size = bit(static_cast<unsigned>((size_operand >> 2) & 63));
  const uint64_t lo = va & ~(size - 1), hi = lo + size;
  std::erase_if(trs_, [&](const TranslationRegister& tr) {
    const uint64_t tlo = tr.va & ~(bit(tr.log2_size) - 1), thi = tlo + bit(tr.log2_size);
    return tr.instruction == instruction && tlo < hi && lo < thi;
  });
}

// [ia64/vol2] Serialization: srlz.d makes data-side changes of
// earlier groups visible, srlz.i instruction- and data-side ones.
void Machine::serialize(bool instruction) {
  auto done = [&](Pending& p) {
    if (p.active && p.group < group_) p.active = false;
  };
  if (psr_pending_.active && psr_pending_.group < group_) {
    psr_ &= ~psr_clear_;
    psr_clear_ = 0;
    psr_pending_.active = false;
  }
  done(purge_d_);
  if (instruction) done(purge_i_);
}

bool Machine::read_gr(unsigned r, uint64_t* v, bool* nat) {
  if (r >= 32 + sof_) {
    return fail("r" + std::to_string(r) + " read outside the current frame (sof " +
                std::to_string(sof_) + ")");
  }
  *v = r == 0 ? 0 : gr_[r];
  if (nat != nullptr) *nat = r != 0 && nat_[r];
  return true;
}

// Uses of a NaT register that the manual makes a Register NaT
// Consumption fault ([ia64/vol2] Deferred Exceptions): stores of it (not spills),
// addresses, moves to AR, CR and BR.
bool Machine::no_nat(unsigned r, const char* use) {
  if (r == 0 || !nat_[r]) return true;
  return fail(std::string(use) + " of r" + std::to_string(r) +
              ", which is NaT (register NaT consumption fault)");
}

bool Machine::write_gr(unsigned r, uint64_t v, bool nat) {
  if (r == 0) return fail("write to r0 (illegal operation fault)");
  if (r >= 32 + sof_) {
    return fail("r" + std::to_string(r) + " written outside the current frame (sof " +
                std::to_string(sof_) + ")");
  }
  gr_[r] = v;
  nat_[r] = nat;
  return true;
}

bool Machine::write_pr(unsigned p, bool v) {
  if (p != 0) pr_[p] = v;
  return true;
}

bool Machine::read_ar(unsigned n, uint64_t* v) {
  switch (n) {
    case ar::kBspstore:
    case ar::kRnat:
      // [ia64/vol3] mov ar: reading ar.bspstore or ar.rnat with
      // ar.rsc.mode != 0 is an illegal operation fault.
      if ((ar_[ar::kRsc] & 3) != 0) {
        return fail(std::string(n == ar::kRnat ? "ar.rnat" : "ar.bspstore") +
                    " read with ar.rsc.mode " + std::to_string(ar_[ar::kRsc] & 3) +
                    ", not enforced lazy (illegal operation fault)");
      }
      *v = ar_[n];
      return true;
    case ar::kRsc:
    case ar::kBsp:
    case ar::kCsd:
    case ar::kSsd:
    case ar::kCcv:
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
    case ar::kCsd:
    case ar::kSsd:
    case ar::kCcv:
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
    *v = irq_.acknowledge();
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
  if (n == cr::kEoi) {
    ++eoi_writes_;
    irq_.end_of_interrupt();
  }
  if (n == cr::kTpr) irq_.set_tpr(v);
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
      // A stop, or a taken branch, ends the instruction group.
      if (branched || ((d->tmpl.stops >> s) & 1)) end_group();
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

}  // namespace charon::ia64
