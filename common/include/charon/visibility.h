// Forced into every translation unit of the purgatory (-include). With
// every declaration hidden, clang's -fpie code reaches all symbols
// RIP-relative (R_X86_64_PC32/PLT32) and never through a GOT, which is
// what keeps purgatory.ro inside the relocation types kexec-tools applies
// and purgatory.bin position-independent without a run-time relocator.
#pragma GCC visibility push(hidden)
