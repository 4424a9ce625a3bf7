; struct charon_bin_header at offset 0 of purgatory.bin (params.h). The
; linker script puts .bin_header first; every field is an offset from it.
%include "params.inc"
extern charon_entry64, charon_entry32, charon_params, __file_end, __image_end
extern entry16, entry16_debug, entry16_debug_pre32, entry16_debug_first32

section .bin_header progbits alloc noexec nowrite align=16
global charon_bin_header
charon_bin_header:
    dd CHARON_BIN_MAGIC
    dd CHARON_PARAMS_VERSION
    dd charon_entry64 - charon_bin_header
    dd charon_entry32 - charon_bin_header
    dd charon_params - charon_bin_header
    dd __file_end - charon_bin_header
    dd __image_end - charon_bin_header
    dd entry16 - charon_bin_header
    dd entry16_debug - charon_bin_header
    dd entry16_debug_pre32 - charon_bin_header
    dd entry16_debug_first32 - charon_bin_header
    times charon_bin_header_size - ($ - charon_bin_header) db 0
