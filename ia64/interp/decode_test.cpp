// The decoder against the real toolchain: every slot of the linked control
// block must decode, and print exactly as ia64-linux-gnu-objdump prints
// it; every bundle of ia64/testdata/unsupported.s must be refused.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "ia64/control_offsets.h"
#include "interp/bundle.h"
#include "interp/control_image.h"
#include "interp/insn.h"

namespace charon::ia64 {
namespace {

struct ListedSlot {
  uint64_t bundle;
  std::string tmpl;  // on the first slot of each bundle
  std::string text;
  bool stop;
};

// objdump -d prints one line per slot: "addr:\tbytes\t[TPL]  text;;", with
// the template only on slot 0, and an extra bytes-only line for MLX.
std::vector<ListedSlot> parse_listing(std::string_view listing) {
  std::vector<ListedSlot> out;
  std::istringstream in{std::string(listing)};
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(":\t");
    if (colon == std::string::npos) continue;
    const auto tab = line.find('\t', colon + 2);
    if (tab == std::string::npos) continue;
    std::string rest = line.substr(tab + 1);
    ListedSlot s{std::stoull(line.substr(0, colon), nullptr, 16), "", "", false};
    if (rest.starts_with("[")) {
      s.tmpl = rest.substr(1, rest.find(']') - 1);
      rest = rest.substr(rest.find(']') + 1);
    }
    rest.erase(0, rest.find_first_not_of(' '));
    if (rest.ends_with(";;")) {
      s.stop = true;
      rest.erase(rest.size() - 2);
    }
    if (const auto lt = rest.find(" <"); lt != std::string::npos) rest.erase(lt);
    s.text = rest;
    out.push_back(s);
  }
  return out;
}

TEST(Ia64Decode, EverySlotOfTheControlBlockMatchesObjdump) {
  const auto code = control_code();
  const auto listing = parse_listing(control_disassembly());
  ASSERT_EQ(code.size(), uint64_t{IA64_CONTROL_CODE_SIZE});
  ASSERT_EQ(code.size() % kBundleBytes, 0u);
  ASSERT_EQ(listing.size(), code.size() / kBundleBytes * 3) << "one listing line per slot";
  for (uint64_t off = 0; off < code.size(); off += kBundleBytes) {
    const Bundle b = split_bundle(code.data() + off);
    const auto tmpl = template_for(b.template_code);
    ASSERT_TRUE(tmpl.has_value()) << "bundle at " << off;
    for (unsigned s = 0; s < 3; ++s) {
      const ListedSlot& want = listing[off / kBundleBytes * 3 + s];
      if (s == 0) EXPECT_EQ(want.tmpl, tmpl->name) << "bundle at " << off;
      EXPECT_EQ(want.stop, ((tmpl->stops >> s) & 1) != 0)
          << "stop after slot " << s << " at " << off;
      const auto insn = decode_slot(tmpl->units[s], b.slots[s]);
      ASSERT_TRUE(insn.ok()) << "bundle at " << off << " slot " << s << ": " << insn.error();
      EXPECT_EQ(disassemble(insn.value(), off), want.text)
          << "bundle at 0x" << std::hex << off << " slot " << s;
    }
  }
}

TEST(Ia64Decode, BundleSplitsIntoTemplateAndThreeSlotsAtTheirBitPositions) {
  // Template 0x1d, slot 0 all ones, slot 1 zero, slot 2 alternating.
  const uint64_t s0 = kSlotMask, s1 = 0, s2 = 0x15555555555;
  unsigned __int128 v = 0x1d;
  v |= static_cast<unsigned __int128>(s0) << 5;
  v |= static_cast<unsigned __int128>(s1) << 46;
  v |= static_cast<unsigned __int128>(s2) << 87;
  uint8_t bytes[16];
  for (int i = 0; i < 16; ++i) bytes[i] = static_cast<uint8_t>(v >> (8 * i));
  const Bundle b = split_bundle(bytes);
  EXPECT_EQ(b.template_code, 0x1d);
  EXPECT_EQ(b.slots[0], s0);
  EXPECT_EQ(b.slots[1], s1);
  EXPECT_EQ(b.slots[2], s2);
}

TEST(Ia64Decode, TemplateTableMatchesTheManual) {
  // [ia64/vol3] Table 4-3: the 24 defined templates and the 8 reserved.
  const char* want[32] = {"MII", "MII", "MII",   "MII",   "MLX",   "MLX",   nullptr, nullptr,
                          "MMI", "MMI", "MMI",   "MMI",   "MFI",   "MFI",   "MMF",   "MMF",
                          "MIB", "MIB", "MBB",   "MBB",   nullptr, nullptr, "BBB",   "BBB",
                          "MMB", "MMB", nullptr, nullptr, "MFB",   "MFB",   nullptr, nullptr};
  for (uint8_t t = 0; t < 32; ++t) {
    const auto tmpl = template_for(t);
    if (want[t] == nullptr) {
      EXPECT_FALSE(tmpl.has_value()) << "template " << int(t) << " is reserved";
      continue;
    }
    ASSERT_TRUE(tmpl.has_value()) << int(t);
    EXPECT_STREQ(tmpl->name, want[t]);
    // Odd templates end their group; 0x02/0x03 stop after slot 1 and
    // 0x0a/0x0b after slot 0.
    const uint8_t mid = t == 2 || t == 3 ? 2 : t == 0xa || t == 0xb ? 1 : 0;
    EXPECT_EQ(tmpl->stops, (t & 1 ? 4 : 0) | mid) << int(t);
  }
}

TEST(Ia64Decode, EveryBundleWithAnInstructionOutsideTheSubsetIsRefused) {
  // Order and slots as in ia64/testdata/unsupported.s.
  // An MLX bundle's movl fills slots 1 (L) and 2 (X); both are refused.
  struct Want {
    unsigned slots;  // bit n: slot n is refused
    const char* unit;
  };
  const Want want[] = {{2, "F-unit"}, {6, "-unit"},  {1, "M-unit"}, {2, "I-unit"},
                       {4, "B-unit"}, {2, "I-unit"}, {1, "M-unit"}};
  const auto code = unsupported_code();
  ASSERT_EQ(code.size(), sizeof want / sizeof want[0] * kBundleBytes);
  for (size_t i = 0; i < code.size() / kBundleBytes; ++i) {
    const Bundle b = split_bundle(code.data() + i * kBundleBytes);
    const auto tmpl = template_for(b.template_code);
    ASSERT_TRUE(tmpl.has_value());
    for (unsigned s = 0; s < 3; ++s) {
      const auto r = decode_slot(tmpl->units[s], b.slots[s]);
      if ((want[i].slots >> s) & 1) {
        ASSERT_FALSE(r.ok()) << "bundle " << i << " slot " << s << " decoded as "
                             << disassemble(r.value(), 0);
        EXPECT_NE(r.error().find(want[i].unit), std::string::npos) << r.error();
        EXPECT_NE(r.error().find("unsupported"), std::string::npos) << r.error();
      } else {
        EXPECT_TRUE(r.ok()) << "bundle " << i << " slot " << s << ": " << r.error();
      }
    }
  }
}

}  // namespace
}  // namespace charon::ia64
