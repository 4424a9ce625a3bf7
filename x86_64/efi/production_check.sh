#!/bin/sh
# The installed charon.efi carries no test code: none of the test build's
# configuration keys, probe mode or fault-injection hooks, and nothing of
# the protocol harness. The test build (charon-test.efi) must carry them,
# so the check is known to look at the right strings.
# Usage: production_check.sh [BUILD_DIR]. Prints PASS:/FAIL: lines.
set -u
b=${1:-build}/x86_64
prod=$b/charon.efi test=$b/charon-test.efi
for f in "$prod" "$test"; do
  [ -s "$f" ] || { echo "FAIL: efi-production-build ($f missing: run make)"; exit 1; }
done
hooks='test-corrupt-kernel-after-plan|test-stale-map-key|probe payload|PRB1|test hook|harness'
found=$(strings "$prod" | grep -E "$hooks" | head -5)
if [ -n "$found" ]; then
  echo "FAIL: efi-production-build-has-no-test-hooks: charon.efi contains:"
  echo "$found" | sed 's/^/    /'
else
  echo "PASS: efi-production-build-has-no-test-hooks"
fi
n=$(strings "$test" | grep -cE "$hooks")
if [ "$n" -ge 3 ]; then
  echo "PASS: efi-test-build-has-the-hooks-the-check-looks-for ($n strings)"
else
  echo "FAIL: efi-test-build-has-the-hooks-the-check-looks-for (only $n strings: the check looks at the wrong names)"
fi
