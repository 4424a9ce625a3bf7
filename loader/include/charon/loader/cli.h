// charon-kexec's command line, as a function over an environment, so the
// tests run it with a fake system and capture what it prints.
#pragma once
#include <charon/loader/kexec_sys.h>
#include <charon/loader/xen.h>

#include <cstdio>
#include <functional>
#include <span>
#include <string>

namespace charon::loader {

struct CliEnv {
  KexecSys* sys;
  std::string root;                            // "" on a real system
  std::span<const uint8_t> builtin_purgatory;  // empty: --purgatory is required
  FILE* out;
  FILE* err;
  // Opens the hypercall edge in a Xen dom0; unset: /dev/xen/privcmd under
  // `root` (open_xen_privcmd). Tests play the hypervisor here.
  std::function<Result<std::unique_ptr<XenHypercall>>(const std::string& root)> open_xen = {};
};

// Returns the process exit status: 0, 1 for a failure, 2 for a usage error.
int run_cli(int argc, char** argv, const CliEnv& env);

// Prints the --dry-run table: one row per segment, then the entry and digest.
void print_layout(FILE* out, const KexecImage& img);

}  // namespace charon::loader
