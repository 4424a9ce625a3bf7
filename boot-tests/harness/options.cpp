#include "options.h"

#include <charon/align.h>
#include <charon/handoff.h>

namespace harness {
namespace {

bool word_is(const char* v, const char* end, const char* want) {
  while (v < end && *want && *v == *want) ++v, ++want;
  return v == end && !*want;
}

bool parse_number(const char* v, const char* end, uint64_t* out) {
  uint64_t n = 0;
  const bool hex = end - v > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X');
  if (hex) v += 2;
  if (v == end) return false;
  for (; v < end; ++v) {
    const char c = *v;
    unsigned d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (hex && c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (hex && c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return false;
    n = n * (hex ? 16 : 10) + d;
  }
  *out = n;
  return true;
}

struct Name {
  const char* text;
  int value;
};

template <int N>
bool lookup(const Name (&names)[N], const char* v, const char* end, int* out) {
  for (const Name& n : names)
    if (word_is(v, end, n.text)) return *out = n.value, true;
  return false;
}

constexpr Name kEntries[] = {
    {"pm32", int(Entry::Pm32)},
    {"pm32-xen", int(Entry::Pm32Xen)},
    {"lm64-ident", int(Entry::Lm64Ident)},
    {"lm64-purgonly", int(Entry::Lm64PurgOnly)},
    {"lm64-la57", int(Entry::Lm64La57)},
    {"lm64-hostile", int(Entry::Lm64Hostile)},
    {"no1g", int(Entry::No1g)},
    {"direct", int(Entry::Direct)},
    {"reloc64", int(Entry::Reloc64)},
    {"reloc32", int(Entry::Reloc32)},
};
constexpr Name kBreaks[] = {
    {"df", int(Break::Df)},
    {"rsi", int(Break::Rsi)},
    {"reg", int(Break::Reg)},
    {"backup", int(Break::Backup)},
    {"idmap", int(Break::Idmap)},
    {"cr4", int(Break::Cr4)},
    {"gb1", int(Break::Gb1)},
    {"nozero", int(Break::NoZero)},
    {"nobootparams", int(Break::NoBootParams)},
    {"kexectools", int(Break::KexecTools)},
    {"bpunhashed", int(Break::BootParamsUnhashed)},
    {"reserved", int(Break::Reserved)},
};

// kind=NAME takes handoff_name()'s words: the names the purgatory prints.
bool lookup_kind(const char* v, const char* end, uint32_t* out) {
  for (uint32_t k = 0; charon::is_valid_handoff(k); ++k)
    if (word_is(v, end, charon::handoff_name(charon::handoff_kind(k)))) return *out = k, true;
  return false;
}

}  // namespace

Options parse_options(const char* p) {
  Options o;
  while (*p) {
    while (*p == ' ') ++p;
    const char* key = p;
    while (*p && *p != ' ' && *p != '=') ++p;
    if (*p != '=') {  // a bare word: QEMU puts the kernel's file name first
      while (*p && *p != ' ') ++p;
      continue;
    }
    const char* key_end = p++;
    const char* v = p;
    while (*p && *p != ' ') ++p;
    int e = 0;
    uint64_t n = 0;
    bool ok = true;
    if (word_is(key, key_end, "case")) {
      int i = 0;
      for (const char* c = v; c < p && i < int(sizeof o.case_name) - 1;) o.case_name[i++] = *c++;
      o.case_name[i] = 0;
    } else if (word_is(key, key_end, "entry")) {
      ok = lookup(kEntries, v, p, &e), o.entry = Entry(e);
    } else if (word_is(key, key_end, "kind")) {
      ok = lookup_kind(v, p, &o.kind);
    } else if (word_is(key, key_end, "break")) {
      ok = lookup(kBreaks, v, p, &e), o.brk = Break(e);
    } else if (word_is(key, key_end, "purg")) {
      ok = parse_number(v, p, &o.purg);
    } else if (word_is(key, key_end, "corrupt")) {
      ok = parse_number(v, p, &n) && n < CHARON_MAX_REGIONS, o.corrupt = int(n);
    } else if (word_is(key, key_end, "fault")) {
      ok = parse_number(v, p, &n) && (n == 0 || n == 1 || n == 32), o.fault = uint32_t(n);
    } else if (word_is(key, key_end, "setup_data")) {
      ok = parse_number(v, p, &o.hostile_setup_data);
    } else if (word_is(key, key_end, "no5level")) {
      ok = parse_number(v, p, &n), o.no_5level = n != 0;
    } else if (word_is(key, key_end, "efi")) {
      ok = parse_number(v, p, &n), o.efi = n != 0;
    } else if (word_is(key, key_end, "e820")) {
      ok = parse_number(v, p, &n), o.e820 = n != 0;
    } else if (word_is(key, key_end, "kabi")) {
      ok = parse_number(v, p, &n), o.kabi = n != 0;
    } else if (word_is(key, key_end, "stackargs")) {
      ok = parse_number(v, p, &n), o.stack_args = n != 0;
    } else if (word_is(key, key_end, "low")) {
      ok = parse_number(v, p, &n), o.low = n != 0;
    } else if (word_is(key, key_end, "rm")) {
      if (word_is(v, p, "entry16"))
        o.rm = Options::RealMode::Entry16;
      else if (word_is(v, p, "debug"))
        o.rm = Options::RealMode::Debug;
      else
        ok = false;
    } else if (word_is(key, key_end, "hooks")) {
      ok = parse_number(v, p, &n), o.hooks = n != 0;
    } else if (word_is(key, key_end, "big")) {
      ok = parse_number(v, p, &o.big_mib) && o.big_mib <= 4096;
    } else {
      ok = false;
    }
    if (!ok) {
      o.error = key;
      return o;
    }
  }
  // The harness maps [0, 8 GiB); a 32-bit caller can only reach below 4 GiB.
  const bool caller32 = o.entry == Entry::Pm32 || o.entry == Entry::Reloc32;
  const uint64_t purg_max = caller32 ? charon::k4GiB : 2 * charon::k4GiB - charon::k2MiB;
  if (o.stack_args && (o.entry == Entry::Direct || o.kind != CHARON_HANDOFF_GENERIC32))
    o.error = "stackargs=1 (kind=generic32 through a purgatory only)";
  if (o.rm != Options::RealMode::None && o.kind != CHARON_HANDOFF_GENERIC32)
    o.error = "rm= (kind=generic32, kexec-tools' way into real mode)";
  if (o.hooks && o.rm != Options::RealMode::Debug) o.error = "hooks=1 (rm=debug only)";
  if ((o.real_mode() || o.low) &&
      (o.entry == Entry::Direct || o.entry == Entry::Reloc64 || o.entry == Entry::Reloc32))
    o.error = "real mode and low=1 (through a purgatory, not direct or reloc)";
  if (o.entry != Entry::Direct &&
      (o.purg == 0 || !charon::is_aligned(o.purg, charon::kPageSize) || o.purg >= purg_max))
    o.error = "purg= (a 4 KiB-aligned address below 4 GiB, or below 8 GiB for a 64-bit caller)";
  return o;
}

}  // namespace harness
