// The processor's view of external interrupts that the rendezvous depends
// on ([ia64/vol2] External Interrupt Control Registers): pending
// vectors (IRR), vectors in service, the task priority register, and what
// reads of cr.ivr and writes of cr.eoi do to them. NMI and ExtINT (vectors
// 0-15) are not modelled; the tests never raise them.
#pragma once

#include <bitset>
#include <cstdint>

namespace charon::ia64 {

class InterruptUnit {
 public:
  static constexpr uint8_t kSpurious = 15;  // [ia64/vol2] cr.ivr

  // False for vectors 0-15, which are not modelled.
  bool raise(uint8_t vector);
  bool put_in_service(uint8_t vector);
  void set_tpr(uint64_t tpr) { tpr_ = tpr; }
  uint64_t tpr() const { return tpr_; }

  // cr.ivr: the highest pending vector that TPR does not mask and whose
  // priority class (vector bits 7:4) is above every class in service. It
  // moves from pending to in service; with none, the spurious vector.
  uint8_t acknowledge();
  // cr.eoi: ends the highest vector in service; with none, does nothing.
  void end_of_interrupt();

  bool pending(uint8_t vector) const { return irr_.test(vector); }
  bool any_in_service() const { return isr_.any(); }

 private:
  std::bitset<256> irr_, isr_;
  uint64_t tpr_ = 0;
};

}  // namespace charon::ia64
