// libFuzzer: the ELF relocator on hostile ET_REL input: parse, relocate at
// a few bases, and patch by name.
#include <charon/loader/elf_reloc.h>
#include <charon/loader/purgatory.h>

#include <cstdlib>

using namespace charon::loader;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto e = RelocatableElf::parse(std::span<const uint8_t>(data, size));
  if (!e) {
    if (e.error().empty()) std::abort();
    return 0;
  }
  if (e->image().size() > e->mem_size()) std::abort();
  for (uint64_t base : {0x100000ull, 0x7fff0000ull, 0x100000000ull}) {
    if (!e->relocate(base)) continue;
    uint16_t port = 0x2f8;
    (void)e->set_symbol("serial_base", &port, sizeof(port));
    auto p = read_params(*e);
    if (p) (void)write_params(*e, *p);
    auto s = e->find_symbol("purgatory_start");
    (void)s;
  }
  return 0;
}
