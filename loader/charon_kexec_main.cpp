// charon-kexec's entry: the real system calls and the purgatory.ro that
// the build embedded (build/gen/loader/purgatory_blob.S).
#include <charon/loader/cli.h>

extern "C" const uint8_t charon_embedded_purgatory[];
extern "C" const uint8_t charon_embedded_purgatory_end[];

int main(int argc, char** argv) {
  auto sys = charon::loader::make_linux_kexec_sys();
  const charon::loader::CliEnv env{
      sys.get(), "",
      std::span<const uint8_t>(
          charon_embedded_purgatory,
          static_cast<size_t>(charon_embedded_purgatory_end - charon_embedded_purgatory)),
      stdout, stderr};
  return charon::loader::run_cli(argc, argv, env);
}
