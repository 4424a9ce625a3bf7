; purgatory.bin inside charon.efi, as bytes: the build passes its path as
; PURGATORY_BIN. main.cpp copies it out to a page-aligned buffer.
section .rodata.charon_purgatory progbits alloc noexec nowrite align=16
global charon_purgatory_bin, charon_purgatory_bin_end
charon_purgatory_bin:
    incbin PURGATORY_BIN
charon_purgatory_bin_end:
section .note.GNU-stack noalloc noexec nowrite progbits
