#!/bin/sh
# The UEFI real-kernel suite of `make check`: OVMF boots Debian's kernel as
# kernel A, which kexecs into kernel B (and B into C for the chains); each
# kernel after A must keep /sys/firmware/efi, EFI runtime services
# (efivarfs: list, BootOrder, write/read/delete), SMBIOS, ACPI and efifb.
# See run-uefi.sh for the checks and the lines they print.
#
# Debian's kexec-tools runs each case first as the reference: those lines
# must pass, or the machine, kernel or test is wrong, not charon. Then
# charon-kexec runs the same cases.
#
# The cases run two at a time (two QEMU instances at most), paired so that
# the two of a pair take about as long; their output is printed in order.
# Prints the PASS/FAIL lines of every case and a TIME line per case; exits
# 1 if any line failed.
set -u
here=$(dirname "$0")
dir=${UEFI_DIR:-build/uefi}
charon=${CHARON_KEXEC:-build/loader/charon-kexec}
start=$(date +%s)

# Kernel and modules: a no-op when build/uefi is complete (make deps).
if ! sh "$here/fetch-kernel.sh" "$dir" efivarfs >/dev/null; then
  echo "FAIL: uefi-kernel-fetch (fetch-kernel.sh $dir efivarfs failed)"
  exit 1
fi
# The initramfs is built once here, not in each case (they run in pairs).
sh "$here/mkinitramfs.sh" "$dir/initramfs.cpio.gz" "$charon" >/dev/null ||
  { echo "FAIL: uefi-initramfs-builds"; exit 1; }
echo "kernel: $(cat "$dir/kernel-version") $(grep -E '^CONFIG_(EFI|EFI_STUB|EFI_RUNTIME_MAP|EFIVAR_FS|FB_EFI|DMIID|ACPI)=' "$dir/config" | tr '\n' ' ')"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/charon-uefi-matrix.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0
n=0
# Runs two cases at once, then prints both outputs in order.
pair() { # "ARGS1" "ARGS2"
  n=$((n + 1))
  # shellcheck disable=SC2086 # each argument is a list of options
  { sh "$here/run-uefi.sh" $1 >"$tmp/$n.a" 2>&1; echo $? >"$tmp/$n.a.rc"; } &
  # shellcheck disable=SC2086
  { sh "$here/run-uefi.sh" $2 >"$tmp/$n.b" 2>&1; echo $? >"$tmp/$n.b.rc"; } &
  wait
  for x in a b; do
    cat "$tmp/$n.$x"
    [ "$(cat "$tmp/$n.$x.rc")" = 0 ] || failed=$((failed + 1))
  done
}

# The reference: Debian's kexec-tools, 64-bit and 32-bit entry.
pair "--loader kexec-tools --proto 64" "--loader kexec-tools --proto 32"
# charon-kexec, the same two.
pair "--loader charon --proto 64" "--loader charon --proto 32"
# A -> B -> C with each loader (64-bit entry): C must still have it all.
pair "--loader kexec-tools --proto 64 --chain" "--loader charon --proto 64 --chain"
echo "TIME: uefi-matrix $(( $(date +%s) - start ))s"
[ "$failed" -eq 0 ]
