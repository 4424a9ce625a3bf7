// IA-64 instruction bundles: 128 bits, a 5-bit template and three 41-bit
// slots ([ia64/vol1] Instruction Encoding Overview; the template field
// encoding table in [ia64/vol3] 4.1).
#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace charon::ia64 {

// The execution unit type a slot's encoding is read as. L and X are the
// two halves of a long (MLX) instruction.
enum class Unit : uint8_t { M, I, F, B, L, X };

const char* unit_name(Unit unit);

struct Template {
  std::array<Unit, 3> units;
  // Bit n set: an instruction-group stop follows slot n.
  uint8_t stops;
  const char* name;  // as objdump prints it, e.g. "MMI"
};

// nullopt for the reserved templates (0x06, 0x07, 0x14, 0x15, 0x1a, 0x1b,
// 0x1e, 0x1f).
std::optional<Template> template_for(uint8_t code);

struct Bundle {
  uint8_t template_code;
  std::array<uint64_t, 3> slots;
};

inline constexpr uint64_t kSlotMask = (uint64_t{1} << 41) - 1;
inline constexpr unsigned kBundleBytes = 16;

// Bundles are stored little-endian: template in bits 0-4, slot 0 in 5-45,
// slot 1 in 46-86, slot 2 in 87-127.
Bundle split_bundle(const uint8_t* bytes);

// Overwrites one slot in place; tests use it to break real code on purpose.
void set_slot(uint8_t* bytes, unsigned slot, uint64_t value);

// nop.m and nop.i with immediate 0 share this encoding (M48, I18).
inline constexpr uint64_t kNopMI = uint64_t{1} << 27;

}  // namespace charon::ia64
