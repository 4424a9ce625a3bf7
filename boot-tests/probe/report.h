// One line per checked item on the console:
//   PASS: <case> <item>
//   FAIL: <case> <item> (got X, want Y)
// and a count, so the probe can end with one verdict.
#pragma once
#include <charon/console.h>
#include <stdarg.h>
#include <stdint.h>

namespace probe {

class Report {
 public:
  Report(charon::Console& con, const char* case_name) : con_(con), case_(case_name) {}

  bool pass(const char* item) {
    ++items_;
    con_.printf("PASS: %s %s\n", case_, item);
    return true;
  }

  // `detail` is printed inside the parentheses, normally "got X, want Y".
  bool fail(const char* item, const char* detail, ...) __attribute__((format(printf, 3, 4))) {
    ++items_;
    ++failed_;
    con_.printf("FAIL: %s %s (", case_, item);
    va_list ap;
    va_start(ap, detail);
    con_.vprintf(detail, ap);
    va_end(ap);
    con_.puts(")\n");
    return false;
  }

  bool eq(const char* item, uint64_t got, uint64_t want) {
    return got == want ? pass(item) : fail(item, "got 0x%lx, want 0x%lx", got, want);
  }

  int items() const { return items_; }
  int failed() const { return failed_; }
  charon::Console& con() { return con_; }
  const char* case_name() const { return case_; }

 private:
  charon::Console& con_;
  const char* case_;
  int items_ = 0;
  int failed_ = 0;
};

}  // namespace probe
