# shellcheck shell=sh
# Sourced by the scripts in which a kernel A, under QEMU, loads an image
# with one loader and kexecs into it (run-kexec.sh, run-kdump.sh,
# run-payloads.sh, boot-tests/xen/run-xen.sh and run-xen-mb2.sh). The
# caller owns the checks; these functions own the loader's name, the load
# script, the boot and the reading of its console, so every such case
# starts and ends the same way.
#
# kernel A's /init (boot-tests/kernel/init, charon.stage=payload) sources
# /boot/load.sh; its lines go to the serial console prefixed as below.

# kernel_a_bin LOADER: the loader's path inside kernel A's initramfs.
kernel_a_bin() {
  case "$1" in
    charon) echo /sbin/charon-kexec ;;
    kexec-tools) echo /usr/sbin/kexec ;;
    # kexec-tools on charon's purgatory.ro (kexec-swap-purgatory.sh)
    kexec-tools-charon) echo /usr/sbin/kexec-charon-purgatory ;;
    *) echo "kernel-a.sh: unknown loader $1" >&2; return 1 ;;
  esac
}

# kernel_a_args SED ARG...: sets $args to the ARGs after the sed script,
# each one quoted for sh (the load script runs them through sh).
kernel_a_args() {
  _sed=$1
  shift
  args=""
  for _a in "$@"; do
    _a=$(echo "$_a" | sed "$_sed")
    args="$args '$_a'"
  done
}

# kernel_a_load_script LOADER: prints the load script for `LOADER -c -l
# $args`, then `LOADER -e`. charon-kexec first prints its --dry-run layout
# (lines CHARON-A-LAYOUT). Markers: CHARON-A-LOAD (the command),
# CHARON-A-LOAD-FAILED rc=N, CHARON-A-EXEC, CHARON-A-EXEC-FAILED rc=N.
kernel_a_load_script() {
  _bin=$(kernel_a_bin "$1") || return 1
  echo "echo \"CHARON-A-LOAD $_bin -c -l$args\""
  [ "$1" = charon ] &&
    echo "$_bin --dry-run -c -l$args 2>&1 | sed 's/^/CHARON-A-LAYOUT /'"
  echo "$_bin -c -l$args 2>&1 || { echo \"CHARON-A-LOAD-FAILED rc=\$?\"; return; }"
  echo 'echo CHARON-A-EXEC'
  echo "$_bin -e 2>&1"
  echo 'echo "CHARON-A-EXEC-FAILED rc=$?"'
}

# kernel_a_boot DIR MEMORY TIMEOUT INITRD KERNEL LOG FILE...: appends the
# FILEs (paths inside DIR, e.g. boot/load.sh; DIR/boot/load.sh must exist)
# as a cpio to INITRD, boots KERNEL with it in QEMU (TCG, one CPU, SeaBIOS,
# serial on stdio, isa-debug-exit at 0xf4), and writes the console, with
# CRs dropped and unprintable bytes as '?', to LOG. Sets $rc (QEMU's exit
# status, 124 on timeout) and $secs.
kernel_a_boot() {
  _w=$1 _mem=$2 _tmo=$3 _base=$4 _kernel=$5 _log=$6
  shift 6
  (cd "$_w" && printf '%s\n' "$@" | cpio -o -H newc -R 0:0 --quiet) >"$_w/boot.cpio"
  cat "$_base" "$_w/boot.cpio" >"$_w/initrd"
  _start=$(date +%s)
  timeout "$_tmo" qemu-system-x86_64 -accel tcg -cpu max,-la57 -m "$_mem" -smp 1 -nodefaults \
    -display none -serial stdio -monitor none -no-reboot \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$_kernel" -initrd "$_w/initrd" \
    -append "console=ttyS0 panic=-1 charon.stage=payload" </dev/null >"$_w/raw" 2>"$_w/qemu.err"
  # shellcheck disable=SC2034 # rc and secs are for the caller
  rc=$?
  # shellcheck disable=SC2034
  secs=$(($(date +%s) - _start))
  text_log "$_w/raw" "$_log"
}

# text_log RAW LOG: the serial console as text: CRs dropped, unprintable
# bytes as '?' (a kernel's early output can hold stray bytes that would
# make grep treat the whole log as binary).
text_log() {
  tr -d '\r' <"$1" | tr -c '[:print:]\t\n' '?' >"$2"
}

# qemu_ended RC SECS TIMEOUT: how QEMU ended, for failure messages
# (timeout(1) exits 124).
qemu_ended() {
  case "$1" in
    0) echo "QEMU exited after ${2}s" ;;
    124) echo "QEMU was killed by the ${3}s timeout" ;;
    *) echo "QEMU failed with status $1 after ${2}s" ;;
  esac
}

# kernel_a_load_failed LOG: prints why the loader failed, if it did.
kernel_a_load_failed() {
  grep -q 'CHARON-A-LOAD-FAILED' "$1" &&
    echo "the loader failed: $(grep -B3 CHARON-A-LOAD-FAILED "$1" | head -3 | tr '\n' ' ')"
}
