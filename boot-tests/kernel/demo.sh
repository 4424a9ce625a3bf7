#!/bin/sh
# `make run`: one real-kernel kexec through charon, with the serial console
# shown live: kernel A boots, charon-kexec loads kernel B, the purgatory
# prints its "charon:" lines, and kernel B checks its cmdline and initrd.
# Extra options go to run-kexec.sh, e.g. demo.sh --proto 32 --mem 6G.
set -u
exec sh "$(dirname "$0")/run-kexec.sh" --loader charon --proto 64 --mem 512M \
  --cpu max,+la57 --serial-log --live "$@"
