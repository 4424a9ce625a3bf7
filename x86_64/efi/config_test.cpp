#include "config.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace charon::efi {
namespace {

ConfigResult parse(const std::string& text, Config& c) {
  return parse_config(text.data(), text.size(), c);
}

TEST(Config, FullFileFillsEveryField) {
  Config c;
  const ConfigResult r = parse(
      "# comment\n\nkernel = \\charon\\vmlinuz\ninitrd=\\charon\\initrd.img\r\n"
      "cmdline = console=ttyS0 a=b # not a comment\nprotocol = 32\nconsole = both\n"
      "test-corrupt-kernel-after-plan = 1\ntest-stale-map-key = 1\n",
      c);
  ASSERT_EQ(r.status, ConfigStatus::kOk);
  EXPECT_STREQ(c.kernel, "\\charon\\vmlinuz");
  EXPECT_STREQ(c.initrd, "\\charon\\initrd.img");  // CR of a CRLF line trimmed
  EXPECT_STREQ(c.cmdline, "console=ttyS0 a=b # not a comment");
  EXPECT_EQ(c.protocol, Protocol::k32);
  EXPECT_TRUE(c.console_serial);
  EXPECT_TRUE(c.console_debugcon);
  EXPECT_TRUE(c.corrupt_kernel_after_plan);
  EXPECT_TRUE(c.stale_map_key);
}

TEST(Config, DefaultsAre64BitSerialNoInitrdNoHooks) {
  Config c;
  ASSERT_EQ(parse("kernel=/k", c).status, ConfigStatus::kOk);  // no final newline
  EXPECT_STREQ(c.kernel, "/k");
  EXPECT_STREQ(c.initrd, "");
  EXPECT_STREQ(c.probe_case, "");
  EXPECT_EQ(c.protocol, Protocol::k64);
  EXPECT_TRUE(c.console_serial);
  EXPECT_FALSE(c.console_debugcon);
  EXPECT_FALSE(c.corrupt_kernel_after_plan);
  EXPECT_FALSE(c.stale_map_key);
}

TEST(Config, EmptyCmdlineIsAllowed) {
  Config c;
  ASSERT_EQ(parse("kernel=/k\ncmdline =\n", c).status, ConfigStatus::kOk);
  EXPECT_STREQ(c.cmdline, "");
}

struct BadCase {
  const char* text;
  ConfigStatus status;
  uint32_t line;
  const char* key;
};

class ConfigErrors : public testing::TestWithParam<BadCase> {};

TEST_P(ConfigErrors, NameTheLineAndKeyAndLeaveNothingHalfFilled) {
  Config c;
  std::memset(&c, 0x5a, sizeof c);
  const ConfigResult r = parse(GetParam().text, c);
  EXPECT_EQ(r.status, GetParam().status);
  EXPECT_EQ(r.line, GetParam().line);
  EXPECT_STREQ(r.key, GetParam().key);
  const Config zero{};
  EXPECT_EQ(std::memcmp(&c, &zero, sizeof c), 0);
  EXPECT_STRNE(config_status_message(r.status), "?");
}

INSTANTIATE_TEST_SUITE_P(
    Each, ConfigErrors,
    testing::Values(
        BadCase{"kernel=/k\njust words\n", ConfigStatus::kNoEquals, 2, "just words"},
        BadCase{"kernel=/k\nkernal=/x\n", ConfigStatus::kUnknownKey, 2, "kernal"},
        BadCase{"kernel=/k\nkernel=/x\n", ConfigStatus::kDuplicateKey, 2, "kernel"},
        BadCase{"kernel=\n", ConfigStatus::kEmptyValue, 1, "kernel"},
        BadCase{"kernel=/k\nprotocol = 48\n", ConfigStatus::kBadProtocol, 2, "protocol"},
        BadCase{"kernel=/k\n\n\nconsole = vga\n", ConfigStatus::kBadConsole, 4, "console"},
        BadCase{"kernel=/k\ntest-stale-map-key = yes\n", ConfigStatus::kBadBool, 2,
                "test-stale-map-key"},
        BadCase{"# only a comment\ninitrd=/i\n", ConfigStatus::kNoKernel, 0, ""}));

TEST(Config, OverlongValueIsAnError) {
  Config c;
  const ConfigResult r = parse("kernel=/" + std::string(kPathMax, 'k') + "\n", c);
  EXPECT_EQ(r.status, ConfigStatus::kValueTooLong);
  EXPECT_EQ(r.line, 1u);
}

// charon-kexec says --entry-32bit; charon.efi must name its own key.
TEST(Config, KernelsThatNeedThe32BitEntryGetTheConfigLine) {
  EXPECT_STREQ(protocol_hint(kimage::Status::kNo5Level), "; use protocol = 32");
  EXPECT_STREQ(protocol_hint(kimage::Status::kNo64BitEntry), "; use protocol = 32");
  EXPECT_STREQ(protocol_hint(kimage::Status::kNoRoomKernel), "");
  EXPECT_STREQ(protocol_hint(kimage::Status::kOk), "");
}

TEST(Config, NulByteIsAnError) {
  Config c;
  const std::string text("kernel=/k\ncmdline=a\0b\n", 22);
  EXPECT_EQ(parse(text, c).status, ConfigStatus::kNulByte);
}

}  // namespace
}  // namespace charon::efi
