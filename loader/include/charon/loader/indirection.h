// Linux-format indirection lists (include/linux/kexec.h, plus Xen's
// IND_ZERO) for the relocation trampoline (charon/x86/relocate.h): a
// builder, the walk the trampoline does as plain C++, a validator the
// loader runs before it hands off, and the identity map the trampoline
// needs for a list.
//
// Freestanding: no heap, no exceptions, no libc; every output goes into
// caller-provided memory, so the EFI app and the QEMU harness link it too.
//
// A list is a chain of 4 KiB pages of 64-bit entries: an address (page
// aligned) ORed with one flag. DESTINATION sets where the next page goes;
// SOURCE copies a page there and ZERO zeroes one there, each advancing the
// destination by a page; INDIRECTION continues at another list page; DONE
// ends the walk. The head, passed in a register, is the first entry.
#pragma once
#include <charon/params.h>
#include <charon/x86/identity_map.h>
#include <charon/x86/relocate.h>
#include <stddef.h>
#include <stdint.h>

namespace charon::loader {

inline constexpr uint64_t kIndDestination = CHARON_IND_DESTINATION;
inline constexpr uint64_t kIndIndirection = CHARON_IND_INDIRECTION;
inline constexpr uint64_t kIndDone = CHARON_IND_DONE;
inline constexpr uint64_t kIndSource = CHARON_IND_SOURCE;
inline constexpr uint64_t kIndZero = CHARON_IND_ZERO;
inline constexpr uint64_t kIndFlags = 0x1f;
inline constexpr uint64_t kIndPageSize = 4096;
inline constexpr uint64_t kIndAddrMask = ~(kIndPageSize - 1);
inline constexpr size_t kIndEntriesPerPage = kIndPageSize / 8;

enum class IndStatus : uint8_t {
  Ok,
  OutOfListPages,   // builder: the list arena is full
  Misaligned,       // an address (or an entry's bits 11:5) is not page-aligned
  BadRange,         // builder: zero length, or an address range that wraps
  BadFlags,         // an entry with no flag or more than one
  NoDestination,    // SOURCE or ZERO before any DESTINATION
  NoDone,           // no DONE within the entry bound
  Loop,             // the INDIRECTION chain comes back to a page it left
  RunsOffPage,      // a list page ends without INDIRECTION or DONE
  Unreadable,       // a list page is outside the memory the caller described
  HitsControlPage,  // a source, destination or list page is the control page
  HitsKeptRange,    // a destination overwrites a range that must survive (tables, ...)
  HitsListPage,     // a destination overwrites a list page
  SourceClobbered,  // a source page was already written by an earlier entry
  TooManyRuns,      // the validator's run buffer is too small for this list
  MapFailed,        // map_relocation: the identity map ran out of tables
  Finished,         // builder: an entry after finish()
};
const char* ind_status_name(IndStatus status);

// How C++ reaches physical memory: identity in the EFI app and the harness,
// host buffers in the tests. map() returns nullptr outside what it knows.
struct PhysWindow {
  void* ctx;
  uint8_t* (*map)(void* ctx, uint64_t phys, uint64_t len);
};
PhysWindow identity_window();  // phys == virt

// Where the builder writes list pages: `pages` contiguous 4 KiB pages at
// physical `phys_base`, reachable by the caller at `virt`.
struct ListArena {
  uint64_t phys_base;
  uint64_t* virt;
  size_t pages;
};

// Appends entries as Linux's kimage_add_entry does: each page's last slot
// is kept for the INDIRECTION to the next page; DESTINATION only when the
// next page does not follow the previous one. Copies run in call order.
class IndirectionBuilder {
 public:
  explicit IndirectionBuilder(ListArena arena) : arena_(arena) {}

  // `bytes` is rounded up to whole pages; dst and src must be page-aligned.
  IndStatus copy(uint64_t dst, uint64_t src, uint64_t bytes);
  IndStatus zero(uint64_t dst, uint64_t bytes);
  IndStatus finish();  // appends DONE; nothing may be added after it

  // The head entry for the trampoline: first list page | INDIRECTION.
  uint64_t head() const { return arena_.phys_base | kIndIndirection; }
  size_t pages_used() const { return page_ + 1; }
  size_t entries() const { return entries_; }  // every entry written, links included

 private:
  IndStatus put(uint64_t entry);
  IndStatus pages(uint64_t dst, uint64_t src, uint64_t bytes, uint64_t flag);

  ListArena arena_;
  size_t page_ = 0, slot_ = 0, entries_ = 0;
  uint64_t next_dst_ = ~uint64_t{0};
  bool done_ = false;
};

// One step of the walk that moves memory.
struct PageOp {
  uint64_t dst;
  uint64_t src;  // 0 for ZERO
  bool zero;
  size_t index;  // of the entry, counted from the head (= 0)
};

// What walk_list reports: each page operation, and each list page it
// enters (the head's INDIRECTION included). Either callback may be null.
struct WalkVisitor {
  void* ctx;
  void (*op)(void* ctx, const PageOp& op);
  void (*list_page)(void* ctx, uint64_t page, size_t index);
};

// The trampoline's walk (x86_64/trampoline/relocate.asm), exactly: the head first, then
// entry by entry; tests in the order DESTINATION, INDIRECTION, DONE, SOURCE,
// ZERO; addresses masked to the page; entries with none of them skipped;
// past a page's end the walk simply reads on. Reports to `visit` in order.
// NoDone after `max_entries` entries; Unreadable when `mem` cannot reach a
// list word.
IndStatus walk_list(uint64_t head, PhysWindow mem, size_t max_entries, const WalkVisitor& visit);

// The C++ model of the trampoline's copies: walk_list, performing each
// operation on `mem` (Unreadable if a page is out of reach).
IndStatus relocate_model(uint64_t head, PhysWindow mem, size_t max_entries);

// A destination run: [start, end) written by consecutive operations.
struct DestRun {
  uint64_t start, end;
};

struct ValidateLimits {
  size_t max_entries;         // NoDone beyond this
  uint64_t control_page;      // overwritten by the trampoline before the walk
  const charon_region* keep;  // must survive the copies: the tables, ...
  size_t nkeep;
  DestRun* runs;  // scratch for SourceClobbered
  size_t max_runs;
};

struct ValidateResult {
  IndStatus status;
  size_t index;   // the offending entry, counted from the head (= 0)
  uint64_t addr;  // the page involved
};

// Everything that walk_list would do wrong or not at all, as one error:
// the list must be well formed (one flag per entry, aligned, DESTINATION
// first, each page ended by INDIRECTION or DONE, no loop, DONE within the
// bound) and its copies safe (no destination on the control page, a kept
// range or a list page; no source read after an earlier entry wrote it, or
// on the control page).
ValidateResult validate_list(uint64_t head, PhysWindow mem, const ValidateLimits& limits);

// Adds to `map` every page the walk touches: list pages, sources and
// destinations (coalesced into runs). The caller adds the control page,
// the trampoline's own location and the entry's whole image.
IndStatus map_relocation(x86::IdentityMap& map, uint64_t head, PhysWindow mem, size_t max_entries);

}  // namespace charon::loader
