// Console formatting, fed into a buffer: the same code prints on the 8250
// and on debugcon in the purgatory.
#include <charon/console.h>
#include <gtest/gtest.h>
#include <limits.h>
#include <stdio.h>

#include <string>

namespace charon {
namespace {

Sink string_sink(std::string& out) {
  return Sink{[](void* ctx, char c) { static_cast<std::string*>(ctx)->push_back(c); }, &out};
}

class ConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override { con.add(string_sink(out)); }
  Console con;
  std::string out;
};

// printf without the format attribute, for formats the compiler rightly
// rejects: the console must still cope with them at run time.
void unchecked_printf(Console& con, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  con.vprintf(fmt, ap);
  va_end(ap);
}

// What the C library prints for the same format, for the conversions where
// charon promises to behave like it.
template <typename... Args>
std::string libc(const char* fmt, Args... args) {
  char buf[256];
  snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

#define EXPECT_LIKE_LIBC(fmt, ...)                                        \
  do {                                                                    \
    out.clear();                                                          \
    con.printf(fmt, __VA_ARGS__);                                         \
    EXPECT_EQ(out, libc(fmt, __VA_ARGS__)) << "format \"" << fmt << "\""; \
  } while (0)

TEST_F(ConsoleTest, StringsAndCharactersPrintLikeLibc) {
  EXPECT_LIKE_LIBC("%s|%c|%s", "charon", 'x', "");
  EXPECT_LIKE_LIBC("[%8s]", "abc");
  EXPECT_LIKE_LIBC("[%2s]", "longer than the width");
  EXPECT_LIKE_LIBC("%c%c%c", 'a', '%', 'z');
}

TEST_F(ConsoleTest, NullStringPrintsAsNullInParentheses) {
  con.printf("%s", static_cast<const char*>(nullptr));
  EXPECT_EQ(out, "(null)");
}

TEST_F(ConsoleTest, SignedDecimalsIncludingNegativesAndExtremesPrintLikeLibc) {
  EXPECT_LIKE_LIBC("%d %d %d %i", 0, 42, -42, -1);
  EXPECT_LIKE_LIBC("%d %d", INT_MAX, INT_MIN);
  EXPECT_LIKE_LIBC("%ld %ld", LONG_MAX, LONG_MIN);
  EXPECT_LIKE_LIBC("%lld", -1234567890123ll);
}

TEST_F(ConsoleTest, FieldWidthsPadNegativesLikeLibc) {
  EXPECT_LIKE_LIBC("[%5d][%5d][%05d][%05d]", 42, -42, 42, -42);
  EXPECT_LIKE_LIBC("[%3d][%2d][%1d]", -42, -42, -42);
  EXPECT_LIKE_LIBC("[%8u][%08u]", 7u, 7u);
}

TEST_F(ConsoleTest, UnsignedAndHexPrintLikeLibc) {
  EXPECT_LIKE_LIBC("%u %u", 0u, UINT_MAX);
  EXPECT_LIKE_LIBC("%lu %zu", ULONG_MAX, static_cast<size_t>(12345));
  EXPECT_LIKE_LIBC("%x %X %x", 0xdeadbeefu, 0xdeadbeefu, 0u);
  EXPECT_LIKE_LIBC("%016lx", 0x1234abcdul);
  EXPECT_LIKE_LIBC("%016lx", 0xfedcba9876543210ul);
  EXPECT_LIKE_LIBC("%08X|%4x", 0xabcu, 0x12345u);
  EXPECT_LIKE_LIBC("%llx", 0x8000000000000000ull);
}

TEST_F(ConsoleTest, PointersPrintAs0xAndSixteenHexDigits) {
  con.printf("%p|%p", reinterpret_cast<void*>(0x1234), static_cast<void*>(nullptr));
  EXPECT_EQ(out, "0x0000000000001234|0x0000000000000000");
}

TEST_F(ConsoleTest, PercentPercentPrintsOnePercent) {
  con.printf("100%% done");
  EXPECT_EQ(out, "100% done");
}

// Unsupported conversions are shown verbatim rather than guessed at, and
// they consume no argument.
TEST_F(ConsoleTest, UnknownConversionsPrintVerbatimAndConsumeNoArgument) {
  unchecked_printf(con, "a%qb%5wc%d", 7);
  EXPECT_EQ(out, "a%qb%5wc7");
  out.clear();
  unchecked_printf(con, "%-5d|", 3);
  EXPECT_EQ(out, "%-5d|");
}

TEST_F(ConsoleTest, FormatEndingInsideAConversionStopsCleanly) {
  unchecked_printf(con, "tail%");
  EXPECT_EQ(out, "tail%");
  out.clear();
  unchecked_printf(con, "x%08l");
  EXPECT_EQ(out, "x%08l");
}

// Serial terminals need CR LF; the console supplies the CR.
TEST_F(ConsoleTest, NewlineBecomesCarriageReturnNewline) {
  con.printf("one\ntwo %s\n", "three");
  EXPECT_EQ(out, "one\r\ntwo three\r\n");
  out.clear();
  con.printf("%c", '\n');
  EXPECT_EQ(out, "\r\n");
}

TEST_F(ConsoleTest, EverySinkReceivesTheSameBytesAndAThirdIsIgnored) {
  std::string second, third;
  con.add(string_sink(second));
  con.add(string_sink(third));
  EXPECT_EQ(con.sinks(), Console::kMaxSinks);
  con.printf("v=%d\n", 5);
  EXPECT_EQ(out, "v=5\r\n");
  EXPECT_EQ(second, out);
  EXPECT_EQ(third, "");
}

TEST_F(ConsoleTest, ClearedConsolePrintsNothing) {
  con.clear();
  con.printf("lost %d", 1);
  con.puts("lost");
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace charon
