# x86_64/: one folder per product. The page-table library (paging/) is
# shared by the purgatory, the trampoline's callers and charon.efi; its
# public headers, with the control registers, live in x86_64/include/
# (on every variant's include path).

include x86_64/paging/rules.mk
include x86_64/purgatory/rules.mk
include x86_64/trampoline/rules.mk
include x86_64/efi/rules.mk
