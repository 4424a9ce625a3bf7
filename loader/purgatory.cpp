// Parameter-block access and the digest. Patching goes through the
// kexec-tools-style set_symbol, so the size check and the refusal of bss
// apply to charon's own block exactly as to kexec-tools' names.
#include <charon/kimage/image.h>
#include <charon/loader/purgatory.h>

namespace charon::loader {

Status check_params_identity(const charon_params& p) {
  // The core's rule; this names the field that differs.
  if (kimage::check_params_identity(p) == kimage::Status::kOk) return Status::Ok();
  if (p.magic != CHARON_PARAMS_MAGIC)
    return fail("purgatory: charon_params magic is 0x%08x, not 0x%08x (not a charon purgatory?)",
                p.magic, CHARON_PARAMS_MAGIC);
  if (p.version != CHARON_PARAMS_VERSION)
    return fail("purgatory: charon_params version %u, this loader speaks version %u", p.version,
                CHARON_PARAMS_VERSION);
  if (p.size != sizeof(charon_params))
    return fail("purgatory: charon_params size field is %u, this loader's block is %zu bytes",
                p.size, sizeof(charon_params));
  return fail("purgatory: %s", kimage::status_message(kimage::Status::kBadParamsIdentity));
}

Result<charon_params> read_params(const RelocatableElf& elf) {
  charon_params p{};
  if (auto st = elf.get_symbol(kParamsSymbol, &p, sizeof(p)); !st) return Error{st.error()};
  if (auto st = check_params_identity(p); !st) return Error{st.error()};
  return p;
}

Status write_params(RelocatableElf& elf, const charon_params& p) {
  if (auto st = check_params_identity(p); !st) return st;
  return elf.set_symbol(kParamsSymbol, &p, sizeof(p));
}

}  // namespace charon::loader
