#!/bin/sh
# One Xen scenario: QEMU (TCG) boots Debian's Xen 4.17 as a multiboot
# kernel with Debian's generic kernel as dom0 ("kernel A"); dom0's /init
# (boot-tests/kernel/init, charon.xen=1) loads the Xen modules and kernel B
# through the loader, which must go through Xen's kexec hypercall; then
#   -l: `LOADER -e`, Xen's KEXEC_CMD_kexec, kexec_reloc, the purgatory;
#   -p (--kdump): a dom0 panic, which Xen turns into its own crash path.
# Kernel B must boot on the bare machine (no /sys/hypervisor/type), with
# this run's cmdline and an intact initrd; a crash kernel must also find
# /proc/vmcore. Prints one "PASS: name" or "FAIL: name" line.
#
# Usage: run-xen.sh [--loader charon|kexec-tools] [--proto 64|32] [--kdump]
#          [--loader-opt OPT] [--timeout SECONDS] [--live]
# Environment: XEN_DIR (default build/xen, from boot-tests/xen/fetch-xen.sh),
#   KERNEL (kernel B, default build/kernel/vmlinuz), CHARON_KEXEC, LOGDIR.
set -u
here=$(dirname "$0")
. "$here/../kernel/kernel-a.sh"
loader=charon proto=64 kdump=no extra_opts="" tmo=420 live=no
while [ $# -gt 0 ]; do
  case "$1" in
    --loader) loader=$2; shift ;;
    --proto) proto=$2; shift ;;
    --kdump) kdump=yes ;;
    --loader-opt) extra_opts="$extra_opts $2"; shift ;;
    --timeout) tmo=$2; shift ;;
    --live) live=yes ;;
    *) echo "run-xen: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
xen_dir=${XEN_DIR:-build/xen}
kernel=${KERNEL:-build/kernel/vmlinuz}
charon=${CHARON_KEXEC:-build/loader/charon-kexec}
logdir=${LOGDIR:-build/xen/logs}
name=xen-$loader-${proto}bit
[ "$kdump" = yes ] && name=$name-kdump
case " $extra_opts " in *" --mem-max="*) name=$name-mem-max ;; esac
log=$logdir/$name.log
mkdir -p "$logdir"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/charon-xen.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
raw=$tmp/serial.log

fail() {
  [ -e "$raw" ] && cp "$raw" "$log"
  echo "FAIL: $name ($1)"
  if [ -s "$raw" ]; then
    echo "  last lines of $log:"
    tr -d '\r' <"$raw" | tail -n 40 | sed 's/^/  | /'
  fi
  [ -s "$tmp/qemu.err" ] && sed 's/^/  qemu: /' "$tmp/qemu.err"
  exit 1
}

case "$loader" in charon | kexec-tools) ;; *) echo "run-xen: --loader charon|kexec-tools" >&2; exit 2 ;; esac
opts=""
case "$proto" in
  64) ;;
  32) opts="--entry-32bit" ;;
  *) echo "run-xen: --proto 64|32" >&2; exit 2 ;;
esac
opts="$opts$extra_opts"

sh "$here/fetch-xen.sh" "$xen_dir" >/dev/null || fail "boot-tests/xen/fetch-xen.sh $xen_dir failed"
[ -s "$kernel" ] || fail "no kernel B at $kernel; run 'make deps'"
# The test initramfs of boot-tests/kernel (its /init runs both stages),
# built here under XEN_DIR so this suite never rebuilds the one the
# kernel suites share.
base=$xen_dir/initramfs.cpio.gz
sh "$here/../kernel/mkinitramfs.sh" "$base" "$charon" >/dev/null || fail "mkinitramfs.sh failed"
if [ "$loader" = charon ] && grep -q '^charon-kexec: none' "$base.charon"; then
  fail "charon-kexec is not built: $charon is missing"
fi

# dom0's initrd: the test initramfs, then an uncompressed cpio with kernel
# B, kernel B's initrd (the test initramfs itself) and the Xen modules of
# dom0's kernel package.
mkdir -p "$tmp/boot" "$tmp/lib/xen-modules"
cp "$kernel" "$tmp/boot/vmlinuz"
cp "$base" "$tmp/boot/initrd"
initrd_size=$(wc -c <"$base")
cp "$xen_dir"/dom0/modules/*.ko "$xen_dir/dom0/modules/load-order" "$tmp/lib/xen-modules/"
(cd "$tmp" && find boot lib | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$tmp/extra.cpio"
cat "$base" "$tmp/extra.cpio" >"$tmp/initrd-a"

token=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
bappend="console=ttyS0 panic=-1 charon.stage=b charon.token=$token"
tilde() { echo "$1" | sed 's/^ *//; s/ /~/g'; }
aappend="console=hvc0 panic=-1 charon.stage=a charon.xen=1 charon.loader=$loader"
aappend="$aappend charon.opts=$(tilde "$opts") charon.bappend=$(tilde "$bappend")"
[ "$kdump" = yes ] && aappend="$aappend charon.kdump=1"
# Xen: its console and dom0's (hvc0) on the serial port; smap=0, since
# under TCG dom0 faults at its first instructions with SMAP on;
# crashkernel= for the crash cases, reserved by Xen, not by dom0.
xappend="console=com1 com1=115200,8n1 smap=0 dom0_max_vcpus=1 noreboot=false"
[ "$kdump" = yes ] && xappend="$xappend crashkernel=160M@256M"

start=$(date +%s)
# QEMU's -initrd gives multiboot modules, comma-separated: "kernel args"
# then the initrd. No argument may hold a comma (QEMU would need ",,").
qemu() {
  timeout "$tmo" qemu-system-x86_64 -accel tcg -cpu max,-la57 -m 1024 -smp 1 \
    -nodefaults -display none -serial stdio -monitor none -no-reboot \
    -kernel "$xen_dir/xen" -append "$xappend" \
    -initrd "$xen_dir/dom0/vmlinuz $aappend,$tmp/initrd-a" </dev/null 2>"$tmp/qemu.err"
  echo $? >"$tmp/rc"
}
if [ "$live" = yes ]; then qemu | tee "$raw"; else qemu >"$raw"; fi
secs=$(( $(date +%s) - start ))
ended=$(qemu_ended "$(cat "$tmp/rc")" "$secs" "$tmo")

clean=$tmp/clean.log
text_log "$raw" "$clean"
grep -q 'CHARON-A-UP' "$clean" || fail "dom0 did not reach /init; $ended"
grep -q 'CHARON-A-XEN caps=control_d type=xen privcmd=yes' "$clean" ||
  fail "dom0 has no control_d, /sys/hypervisor/type or /dev/xen/privcmd"
grep -q 'CHARON-A-LOAD-FAILED' "$clean" && fail "the loader failed in dom0"
if [ "$loader" = charon ]; then
  grep -q '^CHARON-A-XEN-UNLOAD-OK' "$clean" ||
    fail "charon-kexec -S / -u through Xen did not see the image loaded, then gone"
fi
grep -q 'CHARON-A-EXEC$' "$clean" || fail "dom0 never reached the exec step; $ended"
grep -q 'CHARON-A-EXEC-FAILED' "$clean" && fail "the exec step returned in dom0"
# The Linux kexec syscalls must not have run: a PV dom0 oopses in them.
grep -q 'BUG: unable to handle' "$clean" && fail "dom0 oopsed"
# Xen itself says which path ran (xen/common/kexec.c, kexec_crash and
# kexec_exec; xen/common/shutdown.c for dom0's crash).
if [ "$kdump" = yes ]; then
  grep -q '(XEN) Hardware Dom0 crashed: Executing kexec image' "$clean" ||
    fail "Xen did not take its crash path into the kexec image after dom0's panic"
else
  grep -q '(XEN) Executing kexec image on cpu' "$clean" ||
    fail "Xen did not execute the kexec image"
fi
sed -n '/CHARON-A-EXEC$/,$p' "$clean" | grep -q '^CHARON-INIT$' ||
  fail "kernel B did not reach /init; $ended"
grep -q '^CHARON-B-NATIVE$' "$clean" || fail "kernel B runs under a hypervisor, not on the machine"
got=$(grep -a '^CHARON-B-OK cmdline=' "$clean" | head -n 1 | sed 's/^CHARON-B-OK cmdline=//')
case "$got" in
  "$bappend" | "$bappend "*) ;;
  *) fail "kernel B's cmdline does not start with '$bappend'" ;;
esac
if [ "$kdump" = yes ]; then
  grep -q 'CHARON-B-VMCORE magic=177ELF' "$clean" || fail "crash kernel B has no /proc/vmcore"
fi
size=$(sed -n 's/.*CHARON-B-INITRD addr=[0-9]* size=\([0-9]*\) .*/\1/p' "$clean")
[ "${size:-0}" -eq "$initrd_size" ] ||
  fail "kernel B's ramdisk_size is ${size:-none}, the initrd is $initrd_size bytes"
grep -q 'CHARON-INITRD-OK' "$clean" || fail "kernel B's initrd payload sha256 does not match"
cp "$raw" "$log"
echo "PASS: $name (${secs}s)"
