// Breaking the real control code on purpose: the mutation tests remove
// one instruction of a routine (replace it with a nop) and expect a named
// check to catch it.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>

#include "interp/bundle.h"
#include "interp/insn.h"
#include "interp/memory.h"

namespace charon::ia64 {

struct Routine {
  uint64_t begin, end;  // offsets in the code
};

// Replaces with a nop the first instruction of the routine (loaded at
// code) that disassembles as `text`, counting only from after the
// nth instruction that disassembles as `after` (after empty: from the
// start).
inline std::function<void(Memory&)> remove(uint64_t code, Routine routine, std::string text,
                                           std::string after = "", unsigned nth = 1) {
  return [=](Memory& mem) {
    unsigned seen = after.empty() ? nth : 0;
    for (uint64_t off = routine.begin; off < routine.end; off += kBundleBytes) {
      uint8_t* bytes = mem.at(code + off);
      const Bundle b = split_bundle(bytes);
      const auto tmpl = template_for(b.template_code);
      ASSERT_TRUE(tmpl.has_value());
      for (unsigned s = 0; s < 3; ++s) {
        const auto insn = decode_slot(tmpl->units[s], b.slots[s]);
        if (!insn.ok()) continue;
        const std::string got = disassemble(insn.value(), off);
        if (seen >= nth && got == text) {
          set_slot(bytes, s, kNopMI);
          return;
        }
        if (got == after) ++seen;
      }
    }
    FAIL() << "no `" << text << "` after `" << after << "` #" << nth << " in the routine";
  };
}

}  // namespace charon::ia64
