#!/bin/sh
# Proves that a missing ia64 toolchain stops the build with a message that
# names `make deps`, and that `make deps` still parses without it. The
# assembler is replaced on the command line by a name that cannot exist.
set -u
missing=charon-no-such-ia64-linux-gnu-as
out=$(make --no-print-directory IA64_AS=$missing ia64-toolchain 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && printf '%s' "$out" | grep -q "$missing not found" &&
   printf '%s' "$out" | grep -q "make deps"; then
  echo "PASS: missing ia64 assembler stops the build and names make deps"
else
  echo "FAIL: missing ia64 assembler stops the build and names make deps (rc $rc: $out)"
fi
if make -n --no-print-directory IA64_AS=$missing deps >/dev/null 2>&1; then
  echo "PASS: make deps works without the ia64 assembler"
else
  echo "FAIL: make deps works without the ia64 assembler"
fi
