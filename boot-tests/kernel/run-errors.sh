#!/bin/sh
# Refusals from a real kernel (tier 3): kernel A boots with errors-init,
# which runs charon-kexec without privilege and then under lockdown; each
# must fail with its own message and load nothing. One PASS/FAIL line per
# check; exits 1 if any failed. Environment: KERNEL, CHARON_KEXEC, LOGDIR.
set -u
here=$(dirname "$0")
kernel=${KERNEL:-build/kernel/vmlinuz}
charon=${CHARON_KEXEC:-build/loader/charon-kexec}
logdir=${LOGDIR:-build/kernel/logs}
mkdir -p "$logdir"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/charon-errors.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for f in "$kernel" "$charon"; do
  [ -s "$f" ] || { echo "FAIL: refusals-from-a-real-kernel (missing $f: make deps; make)"; exit 1; }
done
base=build/kernel/initramfs.cpio.gz
sh "$here/mkinitramfs.sh" "$base" "$charon" >/dev/null ||
  { echo "FAIL: refusals-from-a-real-kernel (mkinitramfs.sh failed)"; exit 1; }
mkdir -p "$tmp/r/boot"
cp "$here/errors-init" "$tmp/r/errors-init"
chmod 755 "$tmp/r/errors-init"
cp "$kernel" "$tmp/r/boot/vmlinuz"
(cd "$tmp/r" && printf 'errors-init\nboot\nboot/vmlinuz\n' | cpio -o -H newc -R 0:0 --quiet) >"$tmp/r.cpio"
cat "$base" "$tmp/r.cpio" >"$tmp/initrd"
log=$logdir/refusals.log
timeout 150 qemu-system-x86_64 -accel tcg -cpu max -m 512M -smp 1 -nodefaults -display none \
  -serial stdio -monitor none -no-reboot -kernel "$kernel" -initrd "$tmp/initrd" \
  -append "console=ttyS0 quiet panic=-1 rdinit=/errors-init" </dev/null 2>&1 | tr -d '\r' >"$log"
failed=0
for name in no-privilege lockdown lockdown-file-load; do
  line=$(grep -a "^CHARON-ERR-[A-Z]* $name" "$log" | head -1)
  case "$line" in
    CHARON-ERR-PASS*) echo "PASS: real-kernel-refuses-$name-with-its-message (${line#CHARON-ERR-PASS $name })" ;;
    "") echo "FAIL: real-kernel-refuses-$name-with-its-message (no result; see $log)"; failed=1 ;;
    *) echo "FAIL: real-kernel-refuses-$name-with-its-message (${line#CHARON-ERR-FAIL $name })"; failed=1 ;;
  esac
done
exit $failed
