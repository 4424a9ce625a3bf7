#include "config.h"

namespace charon::efi {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

struct Span {
  const char* p;
  size_t n;
  bool is(const char* s) const {
    size_t i = 0;
    for (; i < n; ++i)
      if (s[i] != p[i]) return false;
    return s[i] == 0;
  }
};

Span trim(Span s) {
  while (s.n && is_space(s.p[0])) ++s.p, --s.n;
  while (s.n && is_space(s.p[s.n - 1])) --s.n;
  return s;
}

void zero(void* p, size_t n) {
  auto* b = static_cast<volatile uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) b[i] = 0;
}

bool copy_value(Span v, char* dst, size_t cap) {
  if (v.n + 1 > cap) return false;
  for (size_t i = 0; i < v.n; ++i) dst[i] = v.p[i];
  dst[v.n] = 0;
  return true;
}

// A value given once: the keys below, in this order, index `seen`.
enum Key {
  kKernel,
  kInitrd,
  kCmdline,
  kProtocol,
  kConsole,
#if CHARON_EFI_TEST
  kProbe,
  kCorrupt,
  kStaleKey,
#endif
  kKeyCount
};
constexpr const char* kKeyNames[kKeyCount] = {
    "kernel",
    "initrd",
    "cmdline",
    "protocol",
    "console",
#if CHARON_EFI_TEST
    "probe",
    "test-corrupt-kernel-after-plan",
    "test-stale-map-key",
#endif
};

ConfigStatus apply(Key k, Span v, Config& c) {
  switch (k) {
    case kKernel:
      return copy_value(v, c.kernel, sizeof c.kernel) ? ConfigStatus::kOk
                                                      : ConfigStatus::kValueTooLong;
    case kInitrd:
      return copy_value(v, c.initrd, sizeof c.initrd) ? ConfigStatus::kOk
                                                      : ConfigStatus::kValueTooLong;
    case kCmdline:
      return copy_value(v, c.cmdline, sizeof c.cmdline) ? ConfigStatus::kOk
                                                        : ConfigStatus::kValueTooLong;
    case kProtocol:
      if (v.is("64")) {
        c.protocol = Protocol::k64;
      } else if (v.is("32")) {
        c.protocol = Protocol::k32;
      } else {
        return ConfigStatus::kBadProtocol;
      }
      return ConfigStatus::kOk;
    case kConsole:
      c.console_serial = v.is("serial") || v.is("both");
      c.console_debugcon = v.is("debugcon") || v.is("both");
      if (!c.console_serial && !c.console_debugcon && !v.is("none"))
        return ConfigStatus::kBadConsole;
      return ConfigStatus::kOk;
#if CHARON_EFI_TEST
    case kProbe:
      return copy_value(v, c.probe_case, sizeof c.probe_case) ? ConfigStatus::kOk
                                                              : ConfigStatus::kValueTooLong;
    case kCorrupt:
    case kStaleKey:
      if (!v.is("0") && !v.is("1")) return ConfigStatus::kBadBool;
      (k == kCorrupt ? c.corrupt_kernel_after_plan : c.stale_map_key) = v.is("1");
      return ConfigStatus::kOk;
#endif
    case kKeyCount:
      break;
  }
  return ConfigStatus::kUnknownKey;
}

ConfigResult fail(ConfigStatus s, uint32_t line, Span key, Config& out) {
  zero(&out, sizeof out);
  ConfigResult r{s, line, {}};
  const size_t n = key.n < sizeof r.key - 1 ? key.n : sizeof r.key - 1;
  for (size_t i = 0; i < n; ++i) r.key[i] = key.p[i];
  r.key[n] = 0;
  return r;
}

}  // namespace

ConfigResult parse_config(const char* text, size_t len, Config& out) {
  zero(&out, sizeof out);
  out.protocol = Protocol::k64;
  out.console_serial = true;
  bool seen[kKeyCount] = {};
  uint32_t line = 0;
  for (size_t pos = 0; pos < len;) {
    ++line;
    size_t end = pos;
    while (end < len && text[end] != '\n') ++end;
    Span raw{text + pos, end - pos};
    pos = end + 1;
    for (size_t i = 0; i < raw.n; ++i)
      if (raw.p[i] == 0) return fail(ConfigStatus::kNulByte, line, {}, out);
    // A '#' starts a comment only at the start of a line: the command
    // line may contain one.
    Span s = trim(raw);
    if (s.n == 0 || s.p[0] == '#') continue;
    size_t eq = 0;
    while (eq < s.n && s.p[eq] != '=') ++eq;
    if (eq == s.n) return fail(ConfigStatus::kNoEquals, line, s, out);
    const Span key = trim(Span{s.p, eq});
    const Span value = trim(Span{s.p + eq + 1, s.n - eq - 1});
    int k = 0;
    while (k < kKeyCount && !key.is(kKeyNames[k])) ++k;
    if (k == kKeyCount) return fail(ConfigStatus::kUnknownKey, line, key, out);
    if (seen[k]) return fail(ConfigStatus::kDuplicateKey, line, key, out);
    seen[k] = true;
    // Only the command line may be empty ("cmdline =" boots with none).
    if (value.n == 0 && k != kCmdline) return fail(ConfigStatus::kEmptyValue, line, key, out);
    if (ConfigStatus st = apply(static_cast<Key>(k), value, out); st != ConfigStatus::kOk)
      return fail(st, line, key, out);
  }
  if (!seen[kKernel]) return fail(ConfigStatus::kNoKernel, 0, {}, out);
  return {ConfigStatus::kOk, 0, {}};
}

const char* protocol_hint(kimage::Status s) {
  return s == kimage::Status::kNo64BitEntry || s == kimage::Status::kNo5Level
             ? "; use protocol = 32"
             : "";
}

const char* config_status_message(ConfigStatus s) {
  switch (s) {
    case ConfigStatus::kOk:
      return "ok";
    case ConfigStatus::kNoEquals:
      return "expected \"key = value\"";
    case ConfigStatus::kUnknownKey:
#if CHARON_EFI_TEST
      return "unknown key (known: kernel, initrd, cmdline, protocol, console, probe, "
             "test-corrupt-kernel-after-plan, test-stale-map-key)";
#else
      return "unknown key (known: kernel, initrd, cmdline, protocol, console)";
#endif
    case ConfigStatus::kDuplicateKey:
      return "key given twice";
    case ConfigStatus::kEmptyValue:
      return "value is empty";
    case ConfigStatus::kValueTooLong:
      return "value is too long";
    case ConfigStatus::kBadProtocol:
      return "protocol must be 64 or 32";
    case ConfigStatus::kBadConsole:
      return "console must be serial, debugcon, both or none";
    case ConfigStatus::kBadBool:
      return "value must be 0 or 1";
    case ConfigStatus::kNulByte:
      return "line contains a NUL byte";
    case ConfigStatus::kNoKernel:
      return "no \"kernel =\" line";
  }
  return "?";
}

}  // namespace charon::efi
