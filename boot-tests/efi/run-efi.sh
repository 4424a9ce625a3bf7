#!/bin/sh
# The UEFI path under OVMF: charon.efi boots Debian's kernel with the 64-
# and the 32-bit protocol and the protocol probe with both Linux handoffs,
# refuses a corrupted kernel through the purgatory, and returns to the
# firmware with one clear line on bad input. Prints one "PASS: name" or
# "FAIL: name" line per check; exits 1 if any failed.
#
# Usage: run-efi.sh [CASE...]   (default: every case)
#   kernel-64bit   protocol 64, first ExitBootServices with a stale map key
#   kernel-32bit   protocol 32
#   probe-linux64, probe-linux32
#   corrupt-kernel, missing-kernel, bad-config, not-a-bzimage
# The cases that need a test mode (the probe, and the hooks
# test-stale-map-key and test-corrupt-kernel-after-plan) boot the test
# build, charon-test.efi; every other case boots the charon.efi that
# `make install` installs.
# Environment: KERNEL (default build/kernel/vmlinuz), INITRD (default
# build/kernel/initramfs.cpio.gz), PROBE (build/boot-tests/probe.bin),
# CHARON_EFI (build/x86_64/charon.efi), CHARON_EFI_TEST
# (build/x86_64/charon-test.efi), LOGDIR (build/efi-tests).
set -u
here=$(dirname "$0")
kernel=${KERNEL:-build/kernel/vmlinuz}
base_initrd=${INITRD:-build/kernel/initramfs.cpio.gz}
probe=${PROBE:-build/boot-tests/probe.bin}
efi_prod=${CHARON_EFI:-build/x86_64/charon.efi}
efi_test=${CHARON_EFI_TEST:-build/x86_64/charon-test.efi}
logroot=${LOGDIR:-build/efi-tests}
mkdir -p "$logroot"
# Private per run, so two make checks never share a log; kept for reading.
run=$(mktemp -d "$logroot/run.XXXXXX")
failed=0

for f in "$kernel" "$base_initrd" "$probe" "$efi_prod" "$efi_test"; do
  if [ ! -s "$f" ]; then
    echo "FAIL: efi-prerequisites ($f is missing; run make deps and make)"
    exit 1
  fi
done

# The kernel tests' initramfs with /efi-init in front: an uncompressed cpio
# first, so the payload stays the initrd's last bytes.
# efivarfs.ko from the same kernel package (the UEFI tier fetches it into
# build/uefi): kernel B reads BootOrder through it, a GetVariable call at
# run time.
mkdir -p "$run/overlay/lib"
cp "$here/efi-init" "$run/overlay/efi-init"
chmod 755 "$run/overlay/efi-init"
files=efi-init
uefi=${UEFI_DIR:-build/uefi}
if [ -f "$uefi/modules/efivarfs.ko" ] &&
  cmp -s "$uefi/kernel-version" "$(dirname "$kernel")/kernel-version"; then
  cp "$uefi/modules/efivarfs.ko" "$run/overlay/lib/efivarfs.ko"
  files="$files lib lib/efivarfs.ko"
fi
(cd "$run/overlay" && printf '%s\n' $files | cpio -o -H newc -R 0:0 --quiet) >"$run/overlay.cpio"
cat "$run/overlay.cpio" "$base_initrd" >"$run/initrd-efi.img"

pass() { echo "PASS: $1"; }
fail() {
  echo "FAIL: $1 ($2)"
  failed=1
  if [ -s "$log.serial" ]; then
    echo "  last lines of $log.serial:"
    tr -d '\r' <"$log.serial" | sed 's/\x1b\[[0-9;=]*[A-Za-z]//g' | grep -v '^$' | tail -n 25 |
      sed 's/^/  | /'
  fi
  [ -s "$log.qemu-err" ] && sed 's/^/  qemu: /' "$log.qemu-err"
}
# check NAME PATTERN [FILE]: one PASS/FAIL line for a grep -E over the log.
check() {
  if tr -d '\r' <"${3:-$log.serial}" | grep -aqE "$2"; then pass "$1"; else fail "$1" "no /$2/"; fi
}
check_not() {
  if tr -d '\r' <"${3:-$log.serial}" | grep -aqE "$2"; then fail "$1" "found /$2/"; else pass "$1"; fi
}

# boot NAME TIMEOUT STOP-PATTERN CFG-LINES [FILE:ESP-PATH]...
# Builds the ESP, boots it, and stops QEMU as soon as STOP-PATTERN shows
# in the serial log (for runs that end in a halt); otherwise QEMU ends on
# its own (poweroff, isa-debug-exit, the shell's reset). Sets $log, $rc.
# A config with a test key ("probe =" or "test-... =") boots
# charon-test.efi, any other the production charon.efi.
boot() {
  name=$1 tmo=$2 stop=$3 cfg=$4
  shift 4
  log=$run/$name
  printf '%s\n' "$cfg" >"$log.cfg"
  if grep -qE '^(probe|test-[a-z0-9-]+)[[:space:]]*=' "$log.cfg"; then efi=$efi_test; else efi=$efi_prod; fi
  echo "$efi" >"$log.efi"
  if ! CHARON_EFI=$efi sh "$here/esp.sh" "$log.img" "$log.cfg" "$@" >"$log.esp-log" 2>&1; then
    fail "$name" "cannot build the ESP image: $(tail -n 3 "$log.esp-log")"
    rc=255
    return
  fi
  sh "$here/qemu.sh" "$log.img" "$log" "$tmo" &
  qpid=$!
  if [ -n "$stop" ]; then
    waited=0
    while kill -0 "$qpid" 2>/dev/null && [ "$waited" -lt "$tmo" ]; do
      if [ -f "$log.serial" ] && tr -d '\r' <"$log.serial" | grep -aqE "$stop"; then
        sleep 1  # let the line's neighbours land
        [ -s "$log.pid" ] && kill -TERM "$(cat "$log.pid")" 2>/dev/null
        break
      fi
      sleep 1
      waited=$((waited + 1))
    done
  fi
  wait "$qpid"
  rc=$?
  rm -f "$log.img"
}

kernel_files="$kernel:/charon/vmlinuz $run/initrd-efi.img:/charon/initrd.img"
kernel_cfg() {  # protocol, extra lines
  printf 'kernel = \\charon\\vmlinuz\ninitrd = \\charon\\initrd.img\n'
  printf 'cmdline = console=ttyS0 rdinit=/efi-init charon.stage=b\nprotocol = %s\n%s' "$1" "${2:-}"
}

# Debian's kernel through charon.efi. Both protocols keep EFI: efi_info's
# "EL64" signature, not the entry point, is what makes the kernel an EFI
# system, so the 32-bit entry keeps runtime services as well.
case_kernel() {  # name protocol attempts extra-cfg
  # shellcheck disable=SC2086
  boot "efi-$1" 240 "" "$(kernel_cfg "$2" "$4")" $kernel_files
  [ "$rc" = 0 ] || { fail "efi-$1-qemu-exits" "QEMU status $rc"; return; }
  check "efi-$1-exit-boot-services-after-$3-attempt" "charon.efi: left boot services after $3 attempt"
  check "efi-$1-purgatory-verifies" "charon: digest ok"
  check "efi-$1-handoff-linux$2" "charon: jumping to 0x[0-9a-f]+ \\(linux$2, "
  check "efi-$1-kernel-reaches-init" "CHARON-B-OK cmdline=console=ttyS0 rdinit=/efi-init charon.stage=b"
  check "efi-$1-initrd-intact" "CHARON-INITRD-OK"
  check "efi-$1-kernel-is-efi-booted" "CHARON-EFI-BOOT systab="
  check "efi-$1-e820-has-acpi-and-nvs" "BIOS-e820: .* ACPI data"
  check "efi-$1-efivars-registered" "Registered efivars operations"
  check "efi-$1-runtime-services-kept" "CHARON-EFI-RUNTIME"
  # BootOrder read through efivarfs is a GetVariable call at run time.
  check "efi-$1-runtime-getvariable-answers" "CHARON-EFI-RUNTIME variables=[1-9][0-9]* BootOrder=\\[ [0-9a-f]"
  # charon.efi sets boot_params.secure_boot as Linux's EFI stub does;
  # unset, the kernel says "could not be determined" (arch/x86/kernel/setup.c).
  check "efi-$1-secure-boot-field-set" "Secure boot (disabled|enabled)"
  check_not "efi-$1-no-efi-errors" "CHARON-EFI-(NO-RUNTIME|DMESG)"
  check "efi-$1-efifb-from-gop" "efifb: framebuffer at 0x"
}

case_probe() {  # 64|32
  boot "efi-probe-linux$1" 90 "" \
    "$(printf 'kernel = \\charon\\probe.bin\nprobe = efi-linux%s\nprotocol = %s\nconsole = both\n' "$1" "$1")" \
    "$probe:/charon/probe.bin"
  # isa-debug-exit: 0x10 -> status 33 (pass), 0x11 -> 35 (fail)
  if [ "$rc" = 33 ]; then pass "efi-probe-linux$1-exit-status"; else fail "efi-probe-linux$1-exit-status" "QEMU status $rc, not 33"; fi
  check "efi-probe-linux$1-verdict" "PROBE-VERDICT: efi-linux$1 PASS" "$log.debugcon"
  check_not "efi-probe-linux$1-no-failed-item" "^FAIL: " "$log.debugcon"
}

case_corrupt() {
  # shellcheck disable=SC2086
  boot efi-corrupt-kernel 120 "charon: digest mismatch|CHARON-INIT" \
    "$(kernel_cfg 64 'test-corrupt-kernel-after-plan = 1')" $kernel_files
  check efi-corrupt-kernel-hook-fired "charon.efi: test hook: flipped the byte"
  check efi-corrupt-kernel-purgatory-refuses "charon: digest mismatch"
  check_not efi-corrupt-kernel-never-runs "CHARON-INIT"
}

# Bad input: one line from charon.efi, then the firmware goes on (its boot
# manager reports the status, the shell runs startup.nsh: reset -s).
case_refused() {  # name expected-line cfg files...
  n=$1 want=$2 cfg=$3
  shift 3
  boot "efi-$n" 120 "" "$cfg" "$@"
  check "efi-$n-message" "$want"
  check "efi-$n-returns-to-firmware" "charon.efi: returning to the firmware \\(status 0x8"
  check "efi-$n-firmware-continues" "BdsDxe: failed to start Boot[0-9A-F]+ .*: (Not Found|Load Error|Invalid Parameter)"
  if [ "$rc" = 0 ]; then pass "efi-$n-qemu-exits"; else fail "efi-$n-qemu-exits" "QEMU status $rc"; fi
  check_not "efi-$n-nothing-booted" "charon: purgatory at"
}

cases=${*:-kernel-64bit kernel-32bit probe-linux64 probe-linux32 corrupt-kernel missing-kernel bad-config not-a-bzimage}
for c in $cases; do
  case "$c" in
    kernel-64bit) case_kernel kernel-64bit 64 2 'test-stale-map-key = 1' ;;
    kernel-32bit) case_kernel kernel-32bit 32 1 '' ;;
    probe-linux64) case_probe 64 ;;
    probe-linux32) case_probe 32 ;;
    corrupt-kernel) case_corrupt ;;
    missing-kernel)
      case_refused missing-kernel 'charon.efi: cannot open \\charon\\nope: no such file' \
        "$(printf 'kernel = \\charon\\nope\nprotocol = 64\n')" ;;
    bad-config)
      case_refused bad-config 'charon.efi: \\charon\\charon.cfg:2: protocol must be 64 or 32 \(key "protocol"\)' \
        "$(printf 'kernel = \\charon\\vmlinuz\nprotocol = 48\n')" ;;
    not-a-bzimage)
      case_refused not-a-bzimage 'charon.efi: \\charon\\vmlinuz: not a bzImage' \
        "$(printf 'kernel = \\charon\\vmlinuz\n')" "$probe:/charon/vmlinuz" ;;
    *) echo "FAIL: efi-$c (unknown case)"; failed=1 ;;
  esac
done
echo "logs: $run"
exit $failed
