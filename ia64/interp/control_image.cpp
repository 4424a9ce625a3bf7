#include "interp/control_image.h"

namespace charon::ia64 {
namespace {

constexpr uint8_t kControlCode[] = {
#include "ia64/control_code.inc"
};

constexpr char kControlDisassembly[] =
#include "ia64/control_disasm.inc"
    ;

constexpr uint8_t kUnsupportedCode[] = {
#include "ia64/unsupported_code.inc"
};

}  // namespace

std::span<const uint8_t> control_code() {
  return kControlCode;
}
std::string_view control_disassembly() {
  return kControlDisassembly;
}
std::span<const uint8_t> unsupported_code() {
  return kUnsupportedCode;
}

}  // namespace charon::ia64
