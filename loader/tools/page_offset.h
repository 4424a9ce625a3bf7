// page-offset: what kernel A's test /init runs before it panics, to print
// the base of its own direct map (PAGE_OFFSET, which memory KASLR moves),
// so the kdump test can compare it with what makedumpfile finds in the
// crash kernel's /proc/vmcore.
//
// It finds the base twice, and both must agree:
//  - the value of the variable page_offset_base: its address from
//    kallsyms, its 8 bytes read through /proc/kcore (the PT_LOAD that
//    covers that address);
//  - kcore's program headers: a direct-map PT_LOAD has p_vaddr =
//    PAGE_OFFSET + p_paddr, so the one with the lowest p_paddr below the
//    kernel text mapping gives p_vaddr - p_paddr (what kexec-tools reads).
// kcore is hostile input like any file: every offset is checked.
#pragma once
#include <cstdio>

namespace charon::loader {

// Usage: page-offset [--kcore=PATH] [--kallsyms=PATH]
// (defaults /proc/kcore and /proc/kallsyms). On success prints
// "KDUMP-PAGE-OFFSET=<16 hex digits>" and a line that says where it came
// from on `out` and returns 0; otherwise one "page-offset: ..." line per
// problem on `err` and returns 1 (2 on a usage error).
int page_offset_main(int argc, char** argv, FILE* out, FILE* err);

}  // namespace charon::loader
