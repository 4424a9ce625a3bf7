#!/bin/sh
# One OVMF boot of an ESP image. Usage: qemu.sh ESP.img LOGPREFIX TIMEOUT
# Writes LOGPREFIX.pid (timeout's PID: TERM it to stop QEMU early),
# LOGPREFIX.serial (OVMF's console, charon.efi, the purgatory and
# the kernel: all on COM1) and LOGPREFIX.debugcon (port 0xE9); exits with
# QEMU's status (124 on timeout; 33/35 from the probe's isa-debug-exit).
# The firmware code is Debian's OVMF, read-only; its variables are a fresh
# copy per run. TCG only: -cpu max has LA57 and 1 GiB pages.
set -u
esp=$1 log=$2 tmo=$3
code=${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
vars_src=${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}
vars=$log.vars.fd
cp "$vars_src" "$vars"
rm -f "$log.serial" "$log.debugcon"
# shellcheck disable=SC2086
timeout "$tmo" qemu-system-x86_64 -machine q35 -cpu ${EFI_CPU:-max} -m ${EFI_MEM:-1G} \
  -no-reboot -display none -monitor none -nic none \
  -drive if=pflash,format=raw,readonly=on,file="$code" \
  -drive if=pflash,format=raw,file="$vars" \
  -drive file="$esp",format=raw,snapshot=on \
  -serial file:"$log.serial" -debugcon file:"$log.debugcon" \
  -device isa-debug-exit,iobase=0xf4,iosize=4 ${QEMU_EXTRA:-} 2>"$log.qemu-err" &
echo $! >"$log.pid"
wait $!
rc=$?
rm -f "$vars"
exit $rc
