// The test build of charon.efi (charon-test.efi, CHARON_EFI_TEST=1): probe
// mode and the fault-injection hooks that `make check` drives through the
// configuration file. The installed charon.efi is built without them, so
// it carries neither their code nor their configuration keys.
#pragma once
#ifndef CHARON_EFI_TEST
#define CHARON_EFI_TEST 0
#endif

#if CHARON_EFI_TEST
#include <charon/console.h>
#include <charon/params.h>

#include "config.h"
#include "efi_glue.h"
#include "segments.h"

namespace charon::efi::test {

// Remembers which hooks the configuration asked for.
void configure(const Config& cfg);

// test-stale-map-key: on the first attempt, an allocation after
// GetMemoryMap makes the map key stale, so ExitBootServices must retry.
void before_exit_boot_services(int attempt);

// test-corrupt-kernel-after-plan: once the digests are final, one flipped
// byte in the kernel's source must make the purgatory refuse to jump.
void after_digests(SegmentSet& segs, Console& out);

}  // namespace charon::efi::test
#endif
