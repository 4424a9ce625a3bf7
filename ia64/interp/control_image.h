// The control block's real machine code and objdump's listing of it, both
// generated at build time from build/ia64/control.elf, plus the bundles of
// ia64/testdata/unsupported.s.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace charon::ia64 {

std::span<const uint8_t> control_code();
std::string_view control_disassembly();
std::span<const uint8_t> unsupported_code();

}  // namespace charon::ia64
