// vmcore-check: what a crash kernel's test /init runs on /proc/vmcore. It
// checks the ELF core the crash kernel built from charon-kexec's
// elfcorehdr (header, notes, the PT_LOAD of low memory) and copies the
// bytes of a physical range out of it, so the test can compare them with
// what kernel A saw. The file is hostile: every offset and size is checked.
#pragma once
#include <cstdio>

namespace charon::loader {

// Usage: vmcore-check [--extract=ADDR,LEN,OUT] VMCORE
// Prints what it found on `out`, one "vmcore-check: ..." line per failure
// on `err`. Returns 0 when every check passed, 1 on a failed check, 2 on a
// usage error.
int vmcore_check_main(int argc, char** argv, FILE* out, FILE* err);

}  // namespace charon::loader
