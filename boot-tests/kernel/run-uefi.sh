#!/bin/sh
# One case of the UEFI real-kernel tier: OVMF boots Debian's kernel as
# kernel A through its EFI stub (QEMU's -kernel under OVMF); kernel A's
# /init (boot-tests/kernel/uefi-init) loads kernel B with the chosen loader
# (-l, then -e), and kernel B checks what an EFI-booted kernel has:
#   efi-sysfs         /sys/firmware/efi (and its systab, printed)
#   efivarfs-mount    efivarfs.ko from the same package, mounted
#   efivar-list       at least one variable listed
#   efivar-bootorder  BootOrder read through GetVariable
#   efivar-write      a test variable written, read back and deleted
#   smbios            /sys/class/dmi/id/sys_vendor is QEMU
#   acpi              DSDT and FACP under /sys/firmware/acpi/tables
#   efifb             "efifb: framebuffer at" in dmesg
# With --chain, kernel B loads kernel C with the same loader and kexecs
# again; kernel C runs the same checks.
#
# Prints one "PASS: NAME" or "FAIL: NAME (why)" line per check and stage:
# uefi-LOADER-PROTObit[-chain]-A-ready (kernel A booted through OVMF and
# passed every check itself, so the machine can show what is asked),
# ...-B-up (kernel B reached /init with this run's cmdline), ...-B-CHECK for
# each check above, and the same for C with --chain. The number of lines
# is the same whatever fails, so the counts stay comparable. Exits 1 if any
# line failed.
#
# Usage: run-uefi.sh [--loader charon|kexec-tools] [--proto 64|32] [--chain]
#          [--mem 1G] [--cpu max,-la57] [--timeout SECONDS] [--live]
#   --proto 32    both loaders get --entry-32bit (kexec-tools: the kernel's
#                 32-bit entry through its i386 bzImage path)
# Environment:
#   UEFI_DIR      kernel and modules (default build/uefi, from
#                 `fetch-kernel.sh build/uefi efivarfs`: vmlinuz,
#                 modules/efivarfs.ko, modules/load-order)
#   CHARON_KEXEC  the loader (default build/loader/charon-kexec)
#   LOGDIR        where the serial logs go (default build/uefi/logs)
#   OVMF_CODE, OVMF_VARS  the firmware (default Debian's 4 MiB OVMF); the
#                 variable store is a fresh writable copy per run
#   QEMU_EXTRA    more QEMU options
set -u
here=$(dirname "$0")
loader=charon proto=64 chain=0 mem=1G cpu=max,-la57 tmo=240 live=no
while [ $# -gt 0 ]; do
  case "$1" in
    --loader) loader=$2; shift ;;
    --proto) proto=$2; shift ;;
    --chain) chain=1 ;;
    --mem) mem=$2; shift ;;
    --cpu) cpu=$2; shift ;;
    --timeout) tmo=$2; shift ;;
    --live) live=yes ;;
    *) echo "run-uefi: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case "$loader" in
  charon|kexec-tools) ;;
  *) echo "run-uefi: --loader charon|kexec-tools" >&2; exit 2 ;;
esac
opts=""
case "$proto" in
  64) ;;
  32) opts="--entry-32bit" ;;
  *) echo "run-uefi: --proto 64|32" >&2; exit 2 ;;
esac

name=uefi-$loader-${proto}bit
[ "$chain" = 1 ] && name=$name-chain
checks="efi-sysfs efivarfs-mount efivar-list efivar-bootorder efivar-write smbios acpi efifb"
stages=B
[ "$chain" = 1 ] && stages="B C"
dir=${UEFI_DIR:-build/uefi}
kernel=$dir/vmlinuz
charon=${CHARON_KEXEC:-build/loader/charon-kexec}
logdir=${LOGDIR:-$dir/logs}
log=$logdir/$name.log
code=${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
vars_src=${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}
mkdir -p "$logdir"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/charon-uefi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
raw=$tmp/serial.log
clean=$tmp/clean.log
failed=0

# Every line this case can print, each failing with WHY: used when a stage
# never came, so that the count of lines does not change.
fail_all() { # WHY [STAGES]
  echo "FAIL: $name-A-ready ($1)"
  for s in ${2:-$stages}; do
    echo "FAIL: $name-$s-up ($1)"
    for c in $checks; do echo "FAIL: $name-$s-$c (kernel $s never ran: $1)"; done
  done
}
tail_log() {
  [ -s "$clean" ] || return 0
  echo "  last lines of $log:"
  tail -n 30 "$clean" | sed 's/^/  | /'
  [ -s "$tmp/qemu.err" ] && sed 's/^/  | qemu: /' "$tmp/qemu.err"
  return 0
}

[ -s "$kernel" ] || { fail_all "no kernel at $kernel; run 'make deps' (fetch-kernel.sh $dir efivarfs)"; exit 1; }
[ -s "$dir/modules/load-order" ] || { fail_all "no $dir/modules/load-order; run 'make deps'"; exit 1; }
for f in "$code" "$vars_src"; do
  [ -s "$f" ] || { fail_all "no OVMF image $f (Debian's ovmf package)"; exit 1; }
done
base=$dir/initramfs.cpio.gz
sh "$here/mkinitramfs.sh" "$base" "$charon" >/dev/null || { fail_all "mkinitramfs.sh failed"; exit 1; }
if [ "$loader" = charon ] && grep -q '^charon-kexec: none' "$base.charon"; then
  fail_all "charon-kexec is not built: $charon is missing (make $charon)"; exit 1
fi

# The overlay: this tier's /init and the modules, laid over the test
# initramfs (the kernel unpacks the cpio members in order).
mkdir -p "$tmp/ov/lib/modules" "$tmp/x/boot"
cp "$here/uefi-init" "$tmp/ov/uefi-init"
chmod 755 "$tmp/ov/uefi-init"
cp "$dir/modules/"* "$tmp/ov/lib/modules/"
# chattr, to delete an efivarfs variable (see uefi-init), with its libraries.
chattr=$(command -v chattr) || { fail_all "no chattr on this machine (Debian's e2fsprogs)"; exit 1; }
mkdir -p "$tmp/ov/usr/bin"
cp "$chattr" "$tmp/ov/usr/bin/chattr"
for lib in $(ldd "$chattr" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p'); do
  mkdir -p "$tmp/ov$(dirname "$lib")"
  cp -L "$lib" "$tmp/ov$lib"
done
(cd "$tmp/ov" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$tmp/ov.cpio"
cat "$base" "$tmp/ov.cpio" >"$tmp/initrd-last"
# Each kernel's initrd carries the next kernel and its initrd under /boot:
# C's is the plain one, B's holds C's, A's holds B's.
nest() { # INNER_INITRD OUT
  cp "$kernel" "$tmp/x/boot/vmlinuz"
  cp "$1" "$tmp/x/boot/initrd"
  (cd "$tmp/x" && printf 'boot\nboot/vmlinuz\nboot/initrd\n' | cpio -o -H newc -R 0:0 --quiet) >"$tmp/boot.cpio"
  cat "$tmp/initrd-last" "$tmp/boot.cpio" >"$2"
}
if [ "$chain" = 1 ]; then
  nest "$tmp/initrd-last" "$tmp/initrd-b"
else
  cp "$tmp/initrd-last" "$tmp/initrd-b"
fi
nest "$tmp/initrd-b" "$tmp/initrd-a"
rm -rf "$tmp/x"

token=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
aappend="console=ttyS0 panic=-1 rdinit=/uefi-init charon.stage=a charon.loader=$loader"
aappend="$aappend charon.opts=$(echo "$opts" | sed 's/^ *//; s/ /~/g') charon.chain=$chain charon.token=$token"
cp "$vars_src" "$tmp/vars.fd"

start=$(date +%s)
# q35 with its default VGA (OVMF's GOP, hence efifb); -nographic puts the
# serial console, which OVMF and the kernels share, on stdout. -no-reboot
# turns a panic or a triple fault into an exit; /init powers off.
# shellcheck disable=SC2086
qemu() {
  timeout "$tmo" qemu-system-x86_64 -machine q35 -accel tcg -cpu "$cpu" -m "$mem" -smp 1 \
    -nographic -no-reboot -nic none \
    -drive if=pflash,format=raw,readonly=on,file="$code" \
    -drive if=pflash,format=raw,file="$tmp/vars.fd" \
    ${QEMU_EXTRA:-} \
    -kernel "$kernel" -initrd "$tmp/initrd-a" -append "$aappend" </dev/null 2>"$tmp/qemu.err"
  echo $? >"$tmp/rc"
}
if [ "$live" = yes ]; then qemu | tee "$raw"; else qemu >"$raw"; fi
secs=$(( $(date +%s) - start ))
case "$(cat "$tmp/rc")" in
  0) ended="QEMU exited after ${secs}s" ;;
  124) ended="QEMU was killed by the ${tmo}s timeout" ;;
  *) ended="QEMU failed with status $(cat "$tmp/rc") after ${secs}s" ;;
esac
# Text only: OVMF's console and early kernel output hold escape sequences.
tr -d '\r' <"$raw" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' | tr -c '[:print:]\t\n' '?' >"$clean"
cp "$clean" "$log.$$" && mv "$log.$$" "$log"

# The checks' results of one stage: "PASS detail", "FAIL detail" or empty.
result() { # STAGE CHECK
  sed -n "s/.*CHARON-CHECK $1 $2 \(PASS\|FAIL\) *\(.*\)/\1 \2/p" "$clean" | head -n 1
}
line() { # PASS|FAIL NAME DETAIL
  if [ "$1" = PASS ]; then
    echo "PASS: $2 ($3)"
  else
    echo "FAIL: $2 ($3)"
    failed=$((failed + 1))
  fi
}

# Kernel A: it must have come up through OVMF and seen everything itself,
# or the machine cannot show what kernel B should keep.
if ! grep -q 'CHARON-UP A ' "$clean"; then
  fail_all "kernel A did not reach /init under OVMF; $ended"
  tail_log
  exit 1
fi
bad=""
for c in $checks; do
  case "$(result A "$c")" in PASS*) ;; *) bad="$bad $c" ;; esac
done
if [ -n "$bad" ]; then
  line FAIL "$name-A-ready" "kernel A itself fails:$bad; the machine or kernel, not the loader"
else
  line PASS "$name-A-ready" "OVMF booted kernel A; it passed all $(echo "$checks" | wc -w) checks"
fi

prev=A
for s in $stages; do
  lc=$(echo "$s" | tr BC bc)
  # Why this stage never ran, from the stage before it; empty if it ran.
  why=""
  if grep -q "CHARON-LOAD-FAILED $prev" "$clean"; then
    why="the $loader load failed in kernel $prev: $(grep -m1 -o "CHARON-LOAD-FAILED $prev.*" "$clean")"
  elif ! grep -q "CHARON-EXEC $prev" "$clean"; then
    why="kernel $prev never reached its -e step; $ended"
  elif grep -q "CHARON-EXEC-FAILED $prev" "$clean"; then
    why="$loader -e returned in kernel $prev"
  elif ! sed -n "/CHARON-EXEC $prev/,\$p" "$clean" | grep -q "CHARON-UP $s "; then
    why="kernel $s did not reach /init after kexec -e; $ended"
  fi
  if [ -n "$why" ]; then
    line FAIL "$name-$s-up" "$why"
    for c in $checks; do line FAIL "$name-$s-$c" "kernel $s never ran"; done
    prev=$s
    continue
  fi
  if grep -q "CHARON-UP $s cmdline=.*charon.stage=$lc .*charon.token=$token" "$clean"; then
    line PASS "$name-$s-up" "kernel $s reached /init with this run's cmdline"
  else
    line FAIL "$name-$s-up" "kernel $s's cmdline is not this run's: $(grep -m1 -o "CHARON-UP $s .*" "$clean")"
  fi
  for c in $checks; do
    r=$(result "$s" "$c")
    case "$r" in
      PASS*) line PASS "$name-$s-$c" "${r#PASS }" ;;
      FAIL*) line FAIL "$name-$s-$c" "${r#FAIL }" ;;
      *) line FAIL "$name-$s-$c" "kernel $s printed no result; $ended" ;;
    esac
  done
  prev=$s
done
[ "$failed" -eq 0 ] || tail_log
echo "TIME: $name ${secs}s"
[ "$failed" -eq 0 ]
