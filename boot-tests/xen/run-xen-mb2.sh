#!/bin/sh
# Xen booted from Linux as a multiboot2 image (tier 3). QEMU (TCG, SeaBIOS)
# boots Debian's cloud kernel as kernel A; its /init (boot-tests/kernel/init,
# charon.stage=payload) runs /boot/load.sh, which loads Debian's Xen 4.17
# (the uncompressed ELF from boot-tests/xen/fetch-xen.sh) with two modules,
# Debian's generic kernel as dom0 with its command line, then dom0's initrd,
# and kexecs into it. Xen must come up on the serial console, take both
# modules and start dom0; dom0's /init (charon.stage=dom0) must be the
# control domain (/proc/xen/capabilities has control_d, /sys/hypervisor/type
# is xen), see this run's token on its command line and an intact initrd,
# and then leave QEMU through isa-debug-exit.
#
# Each case runs charon-kexec (after a --dry-run whose multiboot2 layout
# goes into the log) and, as the reference, Debian's kexec-tools
# (`kexec --type multiboot2-x86`) on the same files: as is, where Xen reads
# the BIOS's e820 itself, and with Xen's no-real-mode, where it takes the
# multiboot2 memory map. One more case runs kexec-tools with charon's
# purgatory.ro in its binary. Prints one PASS/FAIL line per case; exits 1
# if any failed.
# Environment: KERNEL (kernel A, default build/kernel/vmlinuz), XEN_DIR
# (default build/xen), CHARON_KEXEC, LOGDIR, XEN_MB2_CASES (a grep -E
# pattern over the case names, to run some).
set -u
here=$(dirname "$0")
. "$here/../kernel/kernel-a.sh"
kernel=${KERNEL:-build/kernel/vmlinuz}
xen_dir=${XEN_DIR:-build/xen}
charon=${CHARON_KEXEC:-build/loader/charon-kexec}
logdir=${LOGDIR:-build/xen/logs}
only=${XEN_MB2_CASES:-.}
tmo=420
failed=0
mkdir -p "$logdir"
fail() { echo "FAIL: $1 ($2)"; failed=$((failed + 1)); }

[ -s "$kernel" ] || { fail xen-mb2-kernel-a-present "no $kernel; run 'make deps'"; exit 1; }
sh "$here/fetch-xen.sh" "$xen_dir" >/dev/null ||
  { fail xen-mb2-fetch "boot-tests/xen/fetch-xen.sh $xen_dir failed"; exit 1; }
# Its own copy of the test initramfs, for kernel A and (with the Xen
# modules of dom0's kernel package added) as dom0's initrd.
base=$xen_dir/mb2/initramfs.cpio.gz
mkdir -p "$xen_dir/mb2"
sh "$here/../kernel/mkinitramfs.sh" "$base" "$charon" >/dev/null ||
  { fail xen-mb2-initramfs-builds "mkinitramfs.sh failed"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/charon-xen-mb2.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# dom0's initrd: the test initramfs, then a cpio with the Xen modules.
mkdir -p "$tmp/d0/lib/xen-modules"
cp "$xen_dir"/dom0/modules/*.ko "$xen_dir/dom0/modules/load-order" "$tmp/d0/lib/xen-modules/"
(cd "$tmp/d0" && find lib | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$tmp/d0.cpio"
cat "$base" "$tmp/d0.cpio" >"$tmp/dom0-initrd"

# Xen's console and dom0's (hvc0) on the serial port, as in run-xen.sh;
# smap=0, since under TCG dom0 faults at its first instructions with SMAP
# on; noreboot=false, so that a Xen panic reboots and QEMU (-no-reboot)
# exits at once.
xappend="console=com1 com1=115200,8n1 smap=0 dom0_max_vcpus=1 noreboot=false"

# case_run NAME LOADER XEN-EXTRA LOAD-ARGS...: kernel A runs `LOADER -c -l
# ARGS` and `LOADER -e`; in an argument TOKEN becomes this run's token and
# XENCMD Xen's command line ($xappend, then XEN-EXTRA).
case_run() {
  name=$1 loader=$2 xcmd="$xappend${3:+ $3}"
  shift 3
  echo "$name" | grep -qE "$only" || return 0
  log=$logdir/$name.log
  token=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
  w=$tmp/$name
  rm -rf "$w" && mkdir -p "$w/boot"
  cp "$xen_dir/xen" "$w/boot/xen"
  cp "$xen_dir/dom0/vmlinuz" "$w/boot/dom0-vmlinuz"
  cp "$tmp/dom0-initrd" "$w/boot/dom0-initrd"
  kernel_a_args "s/TOKEN/$token/g; s/XENCMD/$xcmd/" "$@"
  {
    # The machine's map as kernel A knows it, for the comparison below.
    echo 'for d in /sys/firmware/memmap/*; do echo "CHARON-A-MEMMAP $(cat $d/start) $(cat $d/end) $(cat $d/type)"; done'
    kernel_a_load_script "$loader"
  } >"$w/boot/load.sh"
  kernel_a_boot "$w" 1536 "$tmo" "$base" "$kernel" "$log" \
    boot boot/xen boot/dom0-vmlinuz boot/dom0-initrd boot/load.sh
  why=""
  check() { grep -qE "$1" "$log" || why="${why:+$why; }$2"; }
  lf=$(kernel_a_load_failed "$log") && why=$lf
  check '^CHARON-A-EXEC$' "kernel A never ran -e"
  # Xen's own lines (xen/arch/x86/setup.c): it parsed the command line it
  # was given (the image path stripped, as for any loader but GRUB 2) and
  # found dom0's kernel and initrd among the modules.
  check "^\(XEN\) Command line: $xcmd\$" "Xen did not come up with the command line '$xcmd'"
  check '^\(XEN\)  Xen  kernel: 64-bit' "Xen did not print its dom0 build banner"
  check '^\(XEN\) \*\*\* Building a PV Dom0 \*\*\*|^\(XEN\)  Dom0 kernel: 64-bit' "Xen did not build dom0"
  check '^\(XEN\)  Init\. ramdisk: ' "Xen found no initrd module for dom0"
  # Xen's RAM map (setup.c prints it after its sanitizing) must be the
  # machine's, entry for entry, as kernel A's /sys/firmware/memmap has it;
  # and it must come from where this case says: Xen's own int 0x15 e820
  # ("Xen-e820") by default, the multiboot2 map ("Multiboot-e820") with
  # no-real-mode.
  check "^\(XEN\) $mapsrc RAM map:\$" "Xen's RAM map is not the $mapsrc one"
  [ "$(grep -c '^CHARON-A-MEMMAP ' "$log")" -ge 3 ] || why="${why:+$why; }kernel A listed no memory map"
  missing=$(sed -n 's/^CHARON-A-MEMMAP //p' "$log" | while read -r s e t; do
    case $t in
      "System RAM") x=usable ;;
      "ACPI Tables") x="ACPI data" ;;
      "ACPI Non-volatile Storage") x="ACPI NVS" ;;
      *) x=reserved ;;
    esac
    # kexec-tools (get_memory_ranges, kexec/arch/i386/kexec-x86-common.c)
    # starts the first RAM range past the real-mode IVT (REALMODE_IVT_END,
    # 0x400) in every map it builds, the multiboot2 one too; charon-kexec
    # passes the firmware's map as it is. Xen's own e820 has neither.
    case "$loader" in kexec-tools*) kt=yes ;; *) kt=no ;; esac
    [ "$kt$mapsrc" = yesMultiboot-e820 ] && [ "$x" = usable ] && [ $((s)) -eq 0 ] && s=0x400
    line=$(printf '(XEN)  [%016x, %016x] (%s)' "$s" "$e" "$x")
    grep -qxF "$line" "$log" || echo "$line"
  done)
  [ -z "$missing" ] || why="${why:+$why; }Xen's RAM map lacks $(echo "$missing" | head -1 | sed 's/^(XEN) *//')"
  check "^CHARON-DOM0-UP cmdline=.*charon.token=$token" "dom0 did not reach its init with this run's command line"
  check '^CHARON-A-XEN caps=control_d type=xen privcmd=yes' "dom0 is not Xen's control domain (caps, type, privcmd)"
  check '^CHARON-INITRD-OK$' "dom0's initrd payload sha256 does not match"
  check '^CHARON-DOM0-END$' "dom0 did not finish"
  [ "$rc" -eq 33 ] || why="${why:+$why; }QEMU exit $rc, want 33 (dom0's isa-debug-exit)"
  if [ "$loader" = kexec-tools-charon ]; then
    sed -n '/^CHARON-A-EXEC$/,$p' "$log" | grep -q '^charon: digest ok' ||
      why="${why:+$why; }no 'charon: digest ok' from charon's purgatory after the exec"
    sed -n '/^CHARON-A-EXEC$/,$p' "$log" | grep -q '^charon: jumping to 0x200000 (generic32)$' ||
      why="${why:+$why; }no 'charon: jumping to 0x200000 (generic32)' (Xen's entry) from charon's purgatory"
  fi
  if [ "$loader" = charon ]; then
    # charon-kexec's --dry-run lists the multiboot2 information tag by tag;
    # it must be what Xen got: the machine's map, both modules, and dom0's
    # initrd where Xen found it.
    n=$(grep -c '^CHARON-A-MEMMAP ' "$log")
    check "^CHARON-A-LAYOUT multiboot2 information at 0x[0-9a-f]+, [0-9]+ bytes, tags: 1 cmdline, 2 loader name \"charon-kexec\", 3 module \[0x[0-9a-f]+, 0x[0-9a-f]+\), 3 module \[0x[0-9a-f]+, 0x[0-9a-f]+\), 4 basic meminfo \(lower 639 KiB, upper [0-9]+ KiB\), 6 memory map \($n entries of 24 bytes\)" \
      "--dry-run did not list the multiboot2 information (two modules, meminfo, $n map entries)"
    rd=$(sed -n 's/^CHARON-A-LAYOUT multiboot2 information .* 3 module \[0x\([0-9a-f]*\), 0x[0-9a-f]*), 4 basic .*/\1/p' "$log")
    check "^\(XEN\)  Init\. ramdisk: $(printf '%016x' "0x${rd:-0}")->" "Xen's dom0 initrd is not at 0x${rd:-?}, where --dry-run put module 1"
  fi
  if [ -n "$why" ]; then
    echo "FAIL: $name ($why; see $log)"
    grep -E '^(\(XEN\)|CHARON|charon)' "$log" | tail -25 | sed 's/^/  | /'
    failed=$((failed + 1))
  else
    echo "PASS: $name (${secs}s)"
  fi
}

echo "xen: $(cat "$xen_dir/xen-version"), dom0 $(cat "$xen_dir/dom0/kernel-version"), kernel A $(cat build/kernel/kernel-version 2>/dev/null)"
D0="console=hvc0 panic=-1 charon.stage=dom0 charon.token=TOKEN"
for variant in "" no-real-mode; do
  sfx=${variant:+-$variant}
  mapsrc=Xen-e820
  [ -n "$variant" ] && mapsrc=Multiboot-e820
  case_run "xen-mb2-charon-kexec$sfx" charon "$variant" "--append=XENCMD" \
    "--module=/boot/dom0-vmlinuz $D0" "--module=/boot/dom0-initrd" /boot/xen
  case_run "xen-mb2-kexec-tools$sfx" kexec-tools "$variant" --type=multiboot2-x86 \
    "--command-line=XENCMD" "--module=/boot/dom0-vmlinuz $D0" "--module=/boot/dom0-initrd" /boot/xen
done
# kexec-tools' multiboot2-x86 loader on charon's purgatory.ro (swapped into
# its binary, kexec-swap-purgatory.sh): entry32_regs with EAX, EBX and EIP.
# kexec-tools' --console-serial options patch charon's console_serial,
# serial_base and serial_baud: its lines prove which purgatory ran.
mapsrc=Xen-e820
case_run xen-mb2-kexec-tools-on-charon-purgatory kexec-tools-charon "" --type=multiboot2-x86 \
  --console-serial --serial=0x3f8 --serial-baud=115200 \
  "--command-line=XENCMD" "--module=/boot/dom0-vmlinuz $D0" "--module=/boot/dom0-initrd" /boot/xen
[ "$failed" -eq 0 ]
