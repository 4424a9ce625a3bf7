#include "interp/bundle.h"

namespace charon::ia64 {

const char* unit_name(Unit unit) {
  switch (unit) {
    case Unit::M:
      return "M";
    case Unit::I:
      return "I";
    case Unit::F:
      return "F";
    case Unit::B:
      return "B";
    case Unit::L:
      return "L";
    case Unit::X:
      return "X";
  }
  return "?";
}

namespace {

constexpr Unit M = Unit::M, I = Unit::I, F = Unit::F, B = Unit::B, L = Unit::L, X = Unit::X;

// Stop bits: 4 = after slot 2 (odd template codes), 2 = after slot 1,
// 1 = after slot 0.
constexpr std::array<std::optional<Template>, 32> kTemplates = {{
    Template{{M, I, I}, 0, "MII"},
    Template{{M, I, I}, 4, "MII"},
    Template{{M, I, I}, 2, "MII"},
    Template{{M, I, I}, 6, "MII"},
    Template{{M, L, X}, 0, "MLX"},
    Template{{M, L, X}, 4, "MLX"},
    std::nullopt,
    std::nullopt,
    Template{{M, M, I}, 0, "MMI"},
    Template{{M, M, I}, 4, "MMI"},
    Template{{M, M, I}, 1, "MMI"},
    Template{{M, M, I}, 5, "MMI"},
    Template{{M, F, I}, 0, "MFI"},
    Template{{M, F, I}, 4, "MFI"},
    Template{{M, M, F}, 0, "MMF"},
    Template{{M, M, F}, 4, "MMF"},
    Template{{M, I, B}, 0, "MIB"},
    Template{{M, I, B}, 4, "MIB"},
    Template{{M, B, B}, 0, "MBB"},
    Template{{M, B, B}, 4, "MBB"},
    std::nullopt,
    std::nullopt,
    Template{{B, B, B}, 0, "BBB"},
    Template{{B, B, B}, 4, "BBB"},
    Template{{M, M, B}, 0, "MMB"},
    Template{{M, M, B}, 4, "MMB"},
    std::nullopt,
    std::nullopt,
    Template{{M, F, B}, 0, "MFB"},
    Template{{M, F, B}, 4, "MFB"},
    std::nullopt,
    std::nullopt,
}};

}  // namespace

std::optional<Template> template_for(uint8_t code) {
  if (code >= kTemplates.size()) return std::nullopt;
  return kTemplates[code];
}

Bundle split_bundle(const uint8_t* bytes) {
  uint64_t lo = 0, hi = 0;
  for (int i = 7; i >= 0; --i) {
    lo = (lo << 8) | bytes[i];
    hi = (hi << 8) | bytes[8 + i];
  }
  Bundle b;
  b.template_code = static_cast<uint8_t>(lo & 0x1f);
  b.slots[0] = (lo >> 5) & kSlotMask;
  b.slots[1] = ((lo >> 46) | (hi << 18)) & kSlotMask;
  b.slots[2] = (hi >> 23) & kSlotMask;
  return b;
}

void set_slot(uint8_t* bytes, unsigned slot, uint64_t value) {
  unsigned __int128 v = 0;
  for (int i = 15; i >= 0; --i) v = (v << 8) | bytes[i];
  const unsigned shift = 5 + 41 * slot;
  v &= ~(static_cast<unsigned __int128>(kSlotMask) << shift);
  v |= static_cast<unsigned __int128>(value & kSlotMask) << shift;
  for (int i = 0; i < 16; ++i) bytes[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace charon::ia64
