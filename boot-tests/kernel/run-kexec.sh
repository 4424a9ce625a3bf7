#!/bin/sh
# One real-kernel kexec scenario: QEMU boots kernel A, whose /init loads
# kernel B with the chosen loader and kexecs into it; kernel B reports its
# cmdline and checks its initrd. Prints one "PASS: name" or "FAIL: name"
# line (with the end of the serial log on failure); exits 1 on failure.
#
# Usage: run-kexec.sh [--loader charon|kexec-tools|kexec-tools-charon] [--proto 64|32]
#          [--mem 512M|6G] [--cpu max,-la57|max,+la57] [--serial-log]
#          [--debugcon-log] [--kdump] [--quiet] [--loader-opt OPT]
#          [--timeout SECONDS] [--live] [--stamp] [--big-initrd MIB] [--linux-charon]
#          [--vmlinux] [--real-mode]
#   --loader kexec-tools-charon  Debian's kexec with charon's purgatory.ro
#                 swapped in (kexec-swap-purgatory.sh)
#   --serial-log  the purgatory prints on ttyS0; its lines must show up
#   --debugcon-log  the purgatory prints on port 0xE9 (charon only); QEMU's
#                 debugcon file must hold its lines
#   --loader-opt OPT  one more loader option, e.g. -d for kexec-tools' debug
#   --quiet       "quiet" on both kernels' cmdlines: the markers and the
#                 purgatory's lines without the boot logs (for the demo)
#   --kdump       kernel A (crashkernel=160M) loads kernel B with -p and
#                 panics; kernel B must find /proc/vmcore
#   --live        also copy the serial log to stdout as it arrives
#   --stamp       prefix each log line with the host's time (for the bench)
#   --big-initrd MIB  kernel B's initrd starts with MIB MiB of random bytes
#                 (/big.bin, made once under build/kernel/), which kernel B
#                 hashes against the sha256 on its cmdline; kernel A gets
#                 it only as /boot/initrd, once, so that its RAM holds the
#                 file and the loaded copy (charon-kexec maps the file;
#                 kexec-tools reads it, a third copy)
#   --real-mode   --real-mode of the loader: the purgatory enters the setup
#                 code in real mode (charon: entry16). With --loader charon,
#                 charon-kexec's own layout (boot.rst's: the command line
#                 above the setup code's heap and stack), so kernel B must
#                 boot with its whole cmdline, as in every other case; with
#                 --serial-log the purgatory must say it jumps to real
#                 mode. With kexec-tools or kexec-tools-charon, kexec-tools'
#                 own --real-mode, whose layout puts
#                 the command line at the top of the setup code's 64 KiB
#                 segment, where the setup code's stack then overwrites its
#                 first bytes, so kernel B boots without a cmdline (README,
#                 "The generic16 handoff"): its /init then reports
#                 CHARON-NO-STAGE on ttyS0 and runs the cmdline-free checks
#                 (initrd place, size and payload, memory, paging). With
#                 --serial-log, charon's purgatory must say it jumps to real
#                 mode, and with --loader-opt -d (--debug: the setup code's
#                 realmode_swtch and code32_start hooks) print its three
#                 entry16_debug lines.
#   --linux-charon  kernel A is the kernel built from Debian's source with
#                 charon's purgatory-linux.ro as its own purgatory
#                 (boot-tests/linux-charon/build.sh); the loader (charon or
#                 kexec-tools) uses -s, so kexec_file_load loads that
#                 purgatory, and its "charon:" lines (digest ok, the jump)
#                 must show on the serial console after the kexec
#   --vmlinux     kernel B is a Linux vmlinux (ELF64, default the one the
#                 linux-charon build leaves, VMLINUX), booted by the Linux
#                 boot protocol: charon-kexec detects it by its "Linux" ELF
#                 notes, kexec-tools is given --type=elf-x86_64 --args-linux;
#                 kernel A is Debian's kernel
# Environment:
#   KERNEL        bzImage for kernel B (default build/kernel/vmlinuz)
#   KERNEL_A      bzImage for kernel A (default KERNEL, or with
#                 --linux-charon build/linux-charon/bzImage; needs CONFIG_KEXEC)
#   INITRD        an initrd of the user's (e.g. modules for KERNEL), laid
#                 under the test initramfs in kernel B's initrd: the test
#                 /init and payload still run, on top of its files
#   CHARON_KEXEC  the loader (default build/loader/charon-kexec)
#   LOGDIR        where serial logs go (default build/kernel/logs)
#   BAPPEND       more words for kernel B's cmdline, e.g.
#                 "earlyprintk=serial,ttyS0,115200" to see an early death
#   QEMU_EXTRA    more QEMU options, e.g. "-d int,cpu_reset -D qemu.log"
#                 to see where a triple fault in the purgatory came from
set -u
here=$(dirname "$0")
. "$here/kernel-a.sh"
loader=charon proto=64 mem=512M cpu=max,-la57 serial=no debugcon=no kdump=no quiet="" extra_opts="" tmo=150 live=no stamp=no big=0 linux_charon=no vmlinux=no real_mode=no
while [ $# -gt 0 ]; do
  case "$1" in
    --loader) loader=$2; shift ;;
    --proto) proto=$2; shift ;;
    --mem) mem=$2; shift ;;
    --cpu) cpu=$2; shift ;;
    --serial-log) serial=yes ;;
    --debugcon-log) debugcon=yes ;;
    --kdump) kdump=yes ;;
    --quiet) quiet=" quiet" ;;
    --loader-opt) extra_opts="$extra_opts $2"; shift ;;
    --timeout) tmo=$2; shift ;;
    --live) live=yes ;;
    --stamp) stamp=yes ;;
    --big-initrd) big=$2; shift ;;
    --linux-charon) linux_charon=yes ;;
    --vmlinux) vmlinux=yes ;;
    --real-mode) real_mode=yes ;;
    *) echo "run-kexec: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

# QEMU's "max" CPU has LA57 under TCG, so the paging level is named by
# +la57 / -la57 and checked in kernel A; other CPU models are just named.
case "$cpu" in
  *+la57*) paging=5level want_la57=yes ;;
  *-la57*) paging=4level want_la57=no ;;
  *) paging=cpu_$(echo "$cpu" | sed 's/[^A-Za-z0-9]/_/g') want_la57="" ;;
esac
case "$loader" in
  kexec-tools-charon) name=kexec-kexec-tools-with-charon-purgatory ;;
  *) name=kexec-$loader ;;
esac
name=$name-${proto}bit-$mem-$paging
[ "$serial" = yes ] && name=$name-serial-log
[ "$debugcon" = yes ] && name=$name-debugcon-log
[ "$kdump" = yes ] && name=$name-kdump
[ "$big" -gt 0 ] && name=$name-initrd${big}M
if [ "$real_mode" = yes ]; then
  case "$loader/$proto/$kdump" in
    charon/64/no | kexec-tools/64/no | kexec-tools-charon/64/no) ;;
    *) echo "run-kexec: --real-mode takes the default --proto 64 (the setup code picks the entry), no --kdump" >&2; exit 2 ;;
  esac
  name=$name-real-mode
  case " $extra_opts " in *" -d "*) name=$name-debug ;; esac
fi
# -s: kexec_file_load, the kernel's own loader and purgatory.
case " $extra_opts " in *" -s "*) name=$name-kexec-file-load ;; esac
kernel=${KERNEL:-build/kernel/vmlinuz}
kernel_a=${KERNEL_A:-$kernel}
if [ "$linux_charon" = yes ]; then
  case "$loader/$proto/$serial/$debugcon" in
    charon/64/no/no | kexec-tools/64/no/no) ;;
    *) echo "run-kexec: --linux-charon takes --loader charon|kexec-tools, 64-bit, no console options" >&2; exit 2 ;;
  esac
  # The kernel's kexec_file_load picks the 64-bit entry and patches no
  # console; the purgatory's kernel flavour prints on 0x3f8 by itself.
  extra_opts="$extra_opts -s"
  kernel_a=${KERNEL_A:-build/linux-charon/bzImage}
  name=linux-charon-kexec-file-$loader
  [ "$kdump" = yes ] && name=$name-kdump
fi
if [ "$vmlinux" = yes ]; then
  [ "$proto/$kdump/$linux_charon" = 64/no/no ] ||
    { echo "run-kexec: --vmlinux takes the 64-bit entry, no --kdump, no --linux-charon" >&2; exit 2; }
  kernel=${VMLINUX:-build/linux-charon/linux-source-6.1/vmlinux}
  kernel_a=${KERNEL_A:-build/kernel/vmlinuz}
  # kexec-tools' elf-x86_64 passes ELF boot notes unless told --args-linux.
  [ "$loader" = charon ] || extra_opts="$extra_opts --type=elf-x86_64 --args-linux"
  name=$(echo "$name" | sed 's/^kexec-/kexec-vmlinux-/')
fi
charon=${CHARON_KEXEC:-build/loader/charon-kexec}
logdir=${LOGDIR:-build/kernel/logs}
log=$logdir/$name.log
mkdir -p "$logdir"
# QEMU writes into this run's own directory and the logs are copied to
# LOGDIR at the end, so two runs of one case at the same time (two make
# checks in one checkout) never interleave in one file.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/charon-kexec.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
raw=$tmp/serial.log
draw=$tmp/debugcon.log

publish() {
  [ -e "$raw" ] && cp "$raw" "$log.$$" && mv "$log.$$" "$log"
  [ -e "$draw" ] && cp "$draw" "$log.$$" && mv "$log.$$" "${log%.log}.debugcon.log"
  return 0
}

fail() {
  publish
  echo "FAIL: $name ($1)"
  if [ -s "$raw" ]; then
    echo "  last lines of $log:"
    tr -d '\r' <"$raw" | tail -n 30 | sed 's/^/  | /'
  fi
  if [ -s "${tmp:-/nonexistent}/qemu.err" ]; then
    echo "  QEMU's stderr:"
    sed 's/^/  | /' "$tmp/qemu.err"
  fi
  exit 1
}

# Loader options. kexec-tools' purgatory divides by the baud rate, so it
# needs one; charon-kexec has a default.
case "$loader" in
  charon) opts="" ; purg_re='^charon:' ;;
  kexec-tools) opts="" ; purg_re="I'm in purgatory" ;;
  kexec-tools-charon) opts="" ; purg_re='^charon:' ;;
  *) echo "run-kexec: --loader charon|kexec-tools|kexec-tools-charon" >&2; exit 2 ;;
esac
case "$proto" in
  64) ;;
  32) opts="$opts --entry-32bit" ;;
  *) echo "run-kexec: --proto 64|32" >&2; exit 2 ;;
esac
if [ "$serial" = yes ]; then
  opts="$opts --console-serial --serial=0x3f8"
  [ "$loader" != charon ] && opts="$opts --serial-baud=115200"
fi
[ "$real_mode" = yes ] && opts="$opts --type=bzImage --real-mode"
opts="$opts$extra_opts"
qemu_debugcon=""
if [ "$debugcon" = yes ]; then
  [ "$loader" = charon ] || { echo "run-kexec: --debugcon-log needs --loader charon" >&2; exit 2; }
  opts="$opts --debugcon"
  qemu_debugcon="-debugcon file:$draw"
fi
case "$mem" in
  *G) mem_kb=$(( ${mem%G} * 1048576 )) ;;
  *M) mem_kb=$(( ${mem%M} * 1024 )) ;;
  *) echo "run-kexec: --mem NNNM|NG" >&2; exit 2 ;;
esac

[ -s "$kernel" ] || fail "no kernel at $kernel; run 'make deps' (boot-tests/kernel/fetch-kernel.sh build/kernel)"
if [ ! -s "$kernel_a" ]; then
  [ "$linux_charon" = yes ] && fail "no kernel A at $kernel_a; run 'make $kernel_a'"
  fail "no kernel A at $kernel_a"
fi
base=build/kernel/initramfs.cpio.gz
sh "$here/mkinitramfs.sh" "$base" "$charon" >/dev/null || fail "mkinitramfs.sh failed"
if [ "$loader" = charon ] && grep -q '^charon-kexec: none' "$base.charon"; then
  fail "charon-kexec is not built: $charon is missing (make $charon)"
fi
if [ "$loader" = kexec-tools-charon ] && grep -q '^purgatory: none' "$base.charon"; then
  fail "charon's purgatory.ro is not built (make build/x86_64/purgatory.ro)"
fi

mkdir "$tmp/boot"
# Kernel B's initrd: the user's INITRD, if any, zero-padded to a 512-byte
# boundary (the kernel takes the next cpio header only 4-byte aligned),
# then the test initramfs, so its payload stays the last bytes.
under=${INITRD:-}
bigsum=""
if [ "$big" -gt 0 ]; then
  # An uncompressed cpio with /big.bin, made once and kept (with its
  # sha256), as the user's initrd would be.
  under=$(dirname "$base")/big-${big}M.cpio
  if [ ! -s "$under" ] || [ ! -s "$under.sha256" ]; then
    mkdir "$tmp/big"
    head -c $((big * 1048576)) /dev/urandom >"$tmp/big/big.bin"
    sha256sum "$tmp/big/big.bin" | cut -d' ' -f1 >"$tmp/big.sha256"
    (cd "$tmp/big" && echo big.bin | cpio -o -H newc -R 0:0 --quiet) >"$tmp/big.cpio"
    rm -rf "$tmp/big"
    mv "$tmp/big.cpio" "$under" && mv "$tmp/big.sha256" "$under.sha256"
  fi
  bigsum=$(cat "$under.sha256")
fi
if [ -n "$under" ]; then
  [ -s "$under" ] || fail "no initrd at $under"
  cp "$under" "$tmp/boot/initrd"
  size=$(wc -c <"$under")
  head -c $(( (512 - size % 512) % 512 )) /dev/zero >>"$tmp/boot/initrd"
  cat "$base" >>"$tmp/boot/initrd"
else
  cp "$base" "$tmp/boot/initrd"
fi
initrd_size=$(wc -c <"$tmp/boot/initrd")
# Kernel A's initrd is the same initrd plus an uncompressed cpio member
# with kernel B and kernel B's initrd under /boot.
cp "$kernel" "$tmp/boot/vmlinuz"
(cd "$tmp" && printf 'boot\nboot/vmlinuz\nboot/initrd\n' | cpio -o -H newc -R 0:0 --quiet) >"$tmp/boot.cpio"
if [ "$big" -gt 0 ]; then
  # Kernel A needs the test programs, not a second /big.bin of its own.
  cat "$base" "$tmp/boot.cpio" >"$tmp/initrd-a"
else
  cat "$tmp/boot/initrd" "$tmp/boot.cpio" >"$tmp/initrd-a"
fi
rm -f "$tmp/boot/initrd" "$tmp/boot/vmlinuz" "$tmp/boot.cpio"

# A fresh token in kernel B's cmdline proves that B got this run's cmdline.
# "~" stands for a space inside one word of kernel A's cmdline (see init).
token=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
bappend="console=ttyS0$quiet panic=-1 charon.stage=b charon.token=$token"
[ -n "$bigsum" ] && bappend="$bappend charon.bigsum=$bigsum"
# The linux-charon vmlinux has no ACPI to power off with.
[ "$vmlinux" = yes ] && bappend="$bappend charon.halt=reboot"
[ -n "${BAPPEND:-}" ] && bappend="$bappend $BAPPEND"
tilde() { echo "$1" | sed 's/^ *//; s/ /~/g'; }
aappend="console=ttyS0$quiet panic=-1 charon.stage=a charon.loader=$loader"
aappend="$aappend charon.opts=$(tilde "$opts") charon.bappend=$(tilde "$bappend")"
[ "$kdump" = yes ] && aappend="$aappend crashkernel=160M charon.kdump=1"

start=$(date +%s)
# -no-reboot turns a panic (panic=-1) or a triple fault into a QEMU exit;
# poweroff -f at the end of each stage exits it on success.
# $qemu_debugcon and $QEMU_EXTRA hold several words, or none.
# shellcheck disable=SC2086
qemu() {
  timeout "$tmo" qemu-system-x86_64 -accel tcg -cpu "$cpu" -m "$mem" -smp 1 \
    -nodefaults -display none -serial stdio -monitor none -no-reboot \
    $qemu_debugcon ${QEMU_EXTRA:-} \
    -kernel "$kernel_a" -initrd "$tmp/initrd-a" -append "$aappend" </dev/null 2>"$tmp/qemu.err"
  echo $? >"$tmp/rc"
}
filter() { if [ "$stamp" = yes ]; then busybox ts '%.s'; else cat; fi; }
if [ "$live" = yes ]; then
  qemu | filter | tee "$raw"
else
  qemu | filter >"$raw"
fi
secs=$(( $(date +%s) - start ))
# How QEMU ended, for the failure messages: timeout(1) exits 124.
ended=$(qemu_ended "$(cat "$tmp/rc")" "$secs" "$tmo")

clean=$tmp/clean.log
text_log "$raw" "$clean"
[ "$stamp" = yes ] && sed -i 's/^[0-9.]* //' "$clean"
grep -q 'CHARON-A-UP' "$clean" || fail "kernel A did not reach /init; $ended"
if [ -n "$want_la57" ]; then
  grep -q "CHARON-A-UP la57=$want_la57" "$clean" ||
    fail "kernel A's la57 is not '$want_la57', so the $paging entry is not what runs"
fi
grep -q 'CHARON-A-LOAD-FAILED' "$clean" && fail "the loader failed in kernel A"
grep -q 'CHARON-A-EXEC$' "$clean" || fail "kernel A never reached the kexec -e step; $ended"
grep -q 'CHARON-A-EXEC-FAILED' "$clean" && fail "kexec -e returned in kernel A"
if [ "$serial" = yes ]; then
  sed -n '/CHARON-A-EXEC$/,$p' "$clean" | grep -q "$purg_re" ||
    fail "no purgatory line matching \"$purg_re\" on the serial console after kexec -e"
fi
if [ "$linux_charon" = yes ]; then
  # Only charon's purgatory prints "charon:" lines, and kexec_file_load ran
  # the one embedded in kernel A: it checked the kernel's
  # purgatory_sha_regions against purgatory_sha256_digest and jumped with
  # the kernel's entry64_regs (generic64). The kernel's own purgatory
  # prints nothing, so this fails on a kernel A that carries it.
  sed -n '/CHARON-A-EXEC$/,$p' "$clean" | grep -q '^charon: digest ok' ||
    fail "no 'charon: digest ok' line on kernel A's serial console after the kexec"
  sed -n '/CHARON-A-EXEC$/,$p' "$clean" | grep -q '^charon: jumping to 0x[0-9a-f]* (generic64)$' ||
    fail "no 'charon: jumping to ... (generic64)' line on kernel A's serial console after the kexec"
fi
if [ "$debugcon" = yes ]; then
  tr -d '\r' <"$draw" 2>/dev/null | grep -q '^charon:' ||
    fail "no purgatory line starting with \"charon:\" in the debugcon log"
fi
if [ "$real_mode" = yes ] && [ "$loader" != kexec-tools ] && [ "$serial" = yes ]; then
  after=$(sed -n '/CHARON-A-EXEC$/,$p' "$clean")
  echo "$after" | grep -qE '^charon: jumping to [0-9a-f]{4}:0000 in real mode$' ||
    fail "no 'charon: jumping to XXXX:0000 in real mode' line after kexec -e"
  case " $extra_opts " in
    *" -d "*)
      for line in 'entry16_debug in real mode' entry16_debug_pre32 entry16_debug_first32; do
        echo "$after" | grep -q "^charon: $line\$" || fail "no 'charon: $line' line after kexec -e"
      done
      ;;
  esac
fi
if [ "$real_mode/$loader" = yes/charon ] && grep -q '^CHARON-NO-STAGE ' "$clean"; then
  # charon-kexec keeps the cmdline out of the setup code's stack.
  fail "kernel B booted in real mode without its command line: $(grep -m1 '^CHARON-NO-STAGE' "$clean")"
elif [ "$real_mode" = yes ] && sed -n '/CHARON-A-EXEC$/,$p' "$clean" | grep -q '^CHARON-NO-STAGE '; then
  # Kernel B ran its /init from the initrd, without its cmdline (see
  # --real-mode above); its other reports follow as usual.
  echo "  note: kernel B booted in real mode without its command line ($(grep -m1 '^CHARON-NO-STAGE' "$clean"))"
elif [ "$real_mode" = yes ]; then
  sed -n '/CHARON-A-EXEC$/,$p' "$clean" | grep -q "^CHARON-B-OK cmdline=$bappend\$" ||
    fail "kernel B did not reach /init after kexec -e in real mode (no CHARON-NO-STAGE, no CHARON-B-OK); $ended"
else
  sed -n '/CHARON-A-EXEC$/,$p' "$clean" | grep -q '^CHARON-INIT$' ||
    fail "kernel B did not reach /init after kexec -e; $ended"
fi
if [ "$kdump" = yes ]; then
  # A crash kernel's loader appends elfcorehdr= (and more) to the cmdline;
  # the kernel's own kexec_file_load puts "elfcorehdr=0x... " in front
  # (arch/x86/kernel/kexec-bzimage64.c, setup_cmdline).
  got=$(grep -a '^CHARON-B-OK cmdline=' "$clean" | head -n 1 |
    sed 's/^CHARON-B-OK cmdline=//; s/^elfcorehdr=0x[0-9a-fA-F]* //')
  case "$got" in
    "$bappend" | "$bappend "*) ;;
    *) fail "kernel B's cmdline does not start with '$bappend'" ;;
  esac
  grep -q 'CHARON-B-VMCORE magic=177ELF' "$clean" ||
    fail "kernel B has no /proc/vmcore with an ELF header"
elif ! grep -q '^CHARON-NO-STAGE ' "$clean"; then
  grep -qFx "CHARON-B-OK cmdline=$bappend" "$clean" ||
    fail "kernel B's cmdline is not '$bappend'"
fi
# Kernel B chooses its paging depth itself; the same kernel on the same CPU
# must come out as kernel A did, whatever state the purgatory handed over.
if [ -n "$want_la57" ]; then
  grep -q "CHARON-B-MEM la57=$want_la57" "$clean" ||
    fail "kernel B's la57 is not '$want_la57' as kernel A's was"
fi
# Where kernel B found its initrd: the exact size, below 4 GiB for the
# 32-bit entry, and above 4 GiB when charon has RAM there for the 64-bit
# entry (what the large-memory cases are for).
addr=$(sed -n 's/.*CHARON-B-INITRD addr=\([0-9]*\) .*/\1/p' "$clean")
size=$(sed -n 's/.*CHARON-B-INITRD addr=[0-9]* size=\([0-9]*\) .*/\1/p' "$clean")
[ -n "$addr" ] || fail "kernel B did not report its initrd's place (/sys/kernel/boot_params)"
[ "$size" -eq "$initrd_size" ] ||
  fail "kernel B's ramdisk_size is $size, the initrd is $initrd_size bytes"
if [ "$proto" = 32 ] && [ $(( addr + size )) -gt 4294967296 ]; then
  fail "32-bit entry, yet kernel B's initrd ends above 4 GiB ($addr+$size)"
fi
if [ "$loader" = charon ] && [ "$proto" = 64 ] && [ "$mem_kb" -gt 4194304 ] && [ "$kdump" = no ] &&
   [ "$addr" -lt 4294967296 ]; then
  fail "64-bit entry with $mem of RAM, yet kernel B's initrd sits below 4 GiB ($addr)"
fi
grep -q 'CHARON-INITRD-OK' "$clean" || fail "kernel B's initrd payload sha256 does not match"
if [ -n "$bigsum" ]; then
  grep -q "CHARON-B-BIG-OK" "$clean" ||
    fail "kernel B's /big.bin (the first ${big} MiB of its initrd) does not hash to $bigsum"
fi
# Kernel B must see the RAM that kernel A had (its e820 came from the
# loader); a crash kernel only the crashkernel= reservation, never more.
b_kb=$(sed -n 's/.*CHARON-B-MEM .*MemTotal: \([0-9]*\) kB.*/\1/p' "$clean")
[ -n "$b_kb" ] || fail "kernel B did not report its MemTotal"
if [ "$kdump" = yes ]; then
  mem_kb=$(( 160 * 1024 ))
  [ "$b_kb" -le "$mem_kb" ] ||
    fail "crash kernel B sees $b_kb kB of RAM, more than the 160M reservation"
fi
[ "$b_kb" -ge $(( mem_kb * 6 / 10 )) ] ||
  fail "kernel B sees $b_kb kB of RAM, expected at least 60% of $mem_kb kB"
publish
echo "PASS: $name (${secs}s)"
