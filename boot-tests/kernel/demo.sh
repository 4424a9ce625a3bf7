#!/bin/sh
# `make run-kernel`: one real-kernel kexec through charon, with the serial
# console shown live: kernel A boots, charon-kexec loads kernel B (its layout is
# printed), the purgatory prints its "charon:" lines, and kernel B checks its
# cmdline and initrd. Both kernels boot quiet, so those lines stand out.
# Extra options go to run-kexec.sh, e.g. demo.sh --proto 32 --mem 6G; the
# full serial log stays in build/kernel/logs/.
set -u
exec sh "$(dirname "$0")/run-kexec.sh" --loader charon --proto 64 --mem 512M \
  --cpu max,+la57 --serial-log --quiet --live "$@"
