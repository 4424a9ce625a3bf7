#include "interp/interrupts.h"

namespace charon::ia64 {
namespace {

// cr.tpr ([ia64/vol2] Task Priority Register): mmi masks every external
// vector, mic masks the priority classes 0..mic.
constexpr uint64_t kTprMmi = uint64_t{1} << 16;
constexpr unsigned tpr_mic(uint64_t tpr) {
  return (tpr >> 4) & 15;
}
constexpr int priority_class(unsigned vector) {
  return static_cast<int>(vector >> 4);
}

}  // namespace

bool InterruptUnit::raise(uint8_t vector) {
  if (vector < 16) return false;
  irr_.set(vector);
  return true;
}

bool InterruptUnit::put_in_service(uint8_t vector) {
  if (vector < 16) return false;
  isr_.set(vector);
  return true;
}

uint8_t InterruptUnit::acknowledge() {
  int highest_in_service = -1;
  for (unsigned v = 255; v >= 16; --v) {
    if (isr_.test(v)) {
      highest_in_service = priority_class(v);
      break;
    }
  }
  if (tpr_ & kTprMmi) return kSpurious;
  for (unsigned v = 255; v >= 16; --v) {
    if (!irr_.test(v)) continue;
    const int cls = priority_class(v);
    if (cls <= static_cast<int>(tpr_mic(tpr_)) || cls <= highest_in_service) return kSpurious;
    irr_.reset(v);
    isr_.set(v);
    return static_cast<uint8_t>(v);
  }
  return kSpurious;
}

void InterruptUnit::end_of_interrupt() {
  for (unsigned v = 255; v >= 16; --v) {
    if (isr_.test(v)) {
      isr_.reset(v);
      return;
    }
  }
}

}  // namespace charon::ia64
