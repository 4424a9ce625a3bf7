#!/bin/sh
# Tier 2 of `make check`: the purgatory's protocol under QEMU, no OS.
#
# The multiboot harness enters build/x86_64/purgatory.bin from each entry
# state; the purgatory verifies, backs up low memory and hands off to the
# probe payload, which checks every item of the handoff contract. Prints
# one "PASS: <case>" or "FAIL: <case>" per case (the probe's own per-item
# FAIL lines are forwarded indented, so they are not counted) and exits
# non-zero if any case failed. Logs: build/test-logs/protocol/<case>.log.
# PROTOCOL_ONLY=REGEX runs only the cases whose names match (a developer's
# shortcut; make check runs them all).
set -u
cd "$(dirname "$0")/../.." || exit 2
LOGDIR=${PROTOCOL_LOGDIR:-${B:-build}/test-logs/protocol}
mkdir -p "$LOGDIR"
. boot-tests/harness/qemu.sh
failed=0

pass() { echo "PASS: $1"; }
selected() { [ -z "${PROTOCOL_ONLY:-}" ] || echo "$1" | grep -qE "$PROTOCOL_ONLY"; }
fail() {
  echo "FAIL: $1 ($2; see $LOGDIR/$1.log)"
  failed=$((failed + 1))
  grep -E '^(FAIL: |charon: |harness: (error|note))' "$LOG" 2>/dev/null | head -12 | sed 's/^/    | /'
}

for f in "$PROTO_HARNESS" "$PROTO_PROBE" "$PROTO_PURGATORY"; do
  if [ ! -f "$f" ]; then
    echo "FAIL: protocol-artifacts-built ($f missing: run make first)"
    exit 1
  fi
done

# Load addresses, all 4 KiB-aligned below 1 GiB and none 2 MiB-aligned
# twice in a row: a position-dependent purgatory fails somewhere.
ADDRS="0x00800000 0x0a5b3000 0x04000000 0x12345000 0x20000000 0x3000f000 0x00203000"
addr_at() { echo "$ADDRS" | tr ' ' '\n' | sed -n "$(( $1 % 7 + 1 ))p"; }

# Which QEMU CPU each entry state runs on. Every CPU but no1g's has LA57
# (CPUID.(7,0):ECX[16]), so the 4-level entries also prove the purgatory
# hands off 5-level only when it was entered that way, not whenever it can.
cpu_for() {
  case $1 in
    no1g) echo "qemu64" ;;  # no pdpe1gb, no SHA-NI
    *) echo "max,+la57" ;;
  esac
}

# expect_verdict CASE CPU PURG WANT_RC APPEND [ITEM]: one boot that must end
# in the probe's verdict (33 pass, 35 fail); for 35, ITEM names the probe
# item whose FAIL line must be there.
expect_verdict() {
  name=$1 cpu=$2 purg=$3 want=$4 append=$5 item=${6:-}
  selected "$name" || return 0
  LOG=$LOGDIR/$name.log
  proto_boot "$LOG" "$cpu" "$purg" "case=$name $append"
  proto_wait
  if [ "$RC" -ne "$want" ]; then
    fail "$name" "$(proto_why "$RC"), want: $(proto_why "$want")"
  elif [ "$want" -eq 33 ] && ! grep -q "^PROBE-VERDICT: $name PASS" "$LOG"; then
    fail "$name" "exit status 33 without the probe's PASS verdict"
  elif [ -n "$item" ] && ! grep -q "^FAIL: $name $item " "$LOG"; then
    fail "$name" "the probe failed, but not on item $item"
  else
    pass "$name"
  fi
}

# expect_halt CASE CPU PURG PATTERN APPEND: the purgatory must print a line
# matching PATTERN and then stop: the probe never runs. The log is polled;
# QEMU is stopped one second after the line appears (the purgatory halts
# forever by contract) or at the timeout.
expect_halt() {
  name=$1 cpu=$2 purg=$3 pattern=$4 append=$5
  selected "$name" || return 1
  LOG=$LOGDIR/$name.log
  proto_boot "$LOG" "$cpu" "$purg" "case=$name $append"
  i=0
  while [ "$i" -lt $((PROTO_TIMEOUT * 5)) ] && kill -0 "$QEMU_PID" 2>/dev/null; do
    if grep -qE "$pattern" "$LOG.raw"; then sleep 1; break; fi
    sleep 0.2
    i=$((i + 1))
  done
  kill "$QEMU_PID" 2>/dev/null
  proto_wait
  line=$(grep -E "$pattern" "$LOG" | head -1)
  if [ -z "$line" ]; then
    fail "$name" "no line matching '$pattern'; $(proto_why "$RC")"
  elif grep -q '^PROBE' "$LOG" || [ "$RC" -eq 33 ] || [ "$RC" -eq 35 ]; then
    fail "$name" "the probe ran after: $line"
  else
    HALT_LINE=$line
    return 0
  fi
  return 1
}

# ---- every entry state x every handoff kind must pass every probe item
n=0
for entry in pm32 pm32-xen lm64-ident lm64-purgonly lm64-la57 lm64-hostile no1g; do
  for kind in linux64 linux32 generic64 generic32; do
    expect_verdict "$entry-to-$kind-meets-contract" "$(cpu_for "$entry")" "$(addr_at "$n")" 33 \
      "entry=$entry kind=$kind"
    n=$((n + 1))
  done
done

# ---- console_serial mirrors the debugcon lines on the 8250 at 0x3f8
name=serial-console-carries-the-purgatory-log
LOG=$LOGDIR/lm64-ident-to-linux64-meets-contract.log
if selected "$name"; then
  grep '^charon: ' "$LOG" > "$LOGDIR/$name.want"
  tr -d '\r' < "$LOG.serial" | grep '^charon: ' > "$LOGDIR/$name.got"
  if [ -s "$LOGDIR/$name.want" ] && cmp -s "$LOGDIR/$name.want" "$LOGDIR/$name.got"; then
    pass "$name"
  else
    fail "$name" "serial lines differ from debugcon: diff $LOGDIR/$name.want $LOGDIR/$name.got"
  fi
fi

# ---- a wrong digest halts with the report, whichever region is bad
r=0
for entry in lm64-ident pm32 lm64-purgonly; do
  name=digest-mismatch-in-region-$r-halts-before-payload
  if expect_halt "$name" max "$(addr_at "$r")" '^charon: digest mismatch' \
    "entry=$entry kind=linux64 corrupt=$r"; then
    # The line carries both digests; "want" is the one the harness computed.
    want=$(sed -n 's/^harness: digest //p' "$LOG")
    if ! echo "$HALT_LINE" | grep -qi "$want"; then
      fail "$name" "the line lacks the expected digest $want"
    elif [ "$(echo "$HALT_LINE" | grep -oiE '[0-9a-f]{64}' | sort -u | wc -l)" -ne 4 ]; then
      # region got/want, then all-regions got/want: four different digests
      fail "$name" "the line does not carry the region's and the whole digests, got and want"
    elif ! echo "$HALT_LINE" | grep -qE "region[ =:#]*$r([^0-9]|$)"; then
      fail "$name" "the line names no region index $r"
    else
      pass "$name"
    fi
  fi
  r=$((r + 1))
done

# ---- verify first: nothing in boot_params is followed before the digest
# holds. After the digest was taken, boot_params' setup_data pointer is
# overwritten (a stray DMA, a bug in the old kernel) with 2^52, beyond
# what the purgatory's page tables map and any physical address width.
# The purgatory must stop on region 1 (boot_params) and name it, from
# every entry, never follow the pointer first: before issue 15 it halted
# with "cannot identity-map a setup_data header" instead. (An MMIO page
# such as the local APIC's, 0xfee00000, would be the other hostile
# pointer, but QEMU reads the bytes there as zeros, so a purgatory that
# followed it would also stop on the digest: that case could not fail.)
i=2
for entry in lm64-ident lm64-la57 pm32; do
  name=late-setup-data-far-$entry-digest-mismatch
  if expect_halt "$name" "$(cpu_for "$entry")" "$(addr_at "$i")" '^charon: (digest mismatch|cannot|exception)' \
    "entry=$entry kind=linux64 setup_data=0x10000000000000"; then
    if echo "$HALT_LINE" | grep -q '^charon: digest mismatch in region 1 '; then
      pass "$name"
    else
      fail "$name" "the purgatory stopped on something else first: $HALT_LINE"
    fi
  fi
  i=$((i + 1))
done
# A boot_params that no digest region covers is never read for a Linux
# handoff: what it points to could not be trusted after verification.
name=linux64-boot-params-outside-digest-is-refused
if expect_halt "$name" max 0x800000 '^charon: boot_params 0x[0-9a-f]+\+0x[0-9a-f]+ lies outside the digest' \
  "entry=lm64-ident kind=linux64 break=bpunhashed"; then
  pass "$name"
fi

# ---- XLF_5LEVEL (boot.rst, xloadflags): a kernel without it cannot take
# the 64-bit entry with 5-level paging on. The loaders refuse such a load;
# the purgatory is the last line of defence and halts with its line. The
# same kernel header under 4-level paging passes (the probe checks the
# zero page it was handed, xloadflags included); the LA57 linux64 cases
# above carry the flag and pass.
name=la57-linux64-without-xlf-5level-halts
if expect_halt "$name" "$(cpu_for lm64-la57)" 0x0a5b3000 '^charon: the kernel lacks XLF_5LEVEL' \
  "entry=lm64-la57 kind=linux64 no5level=1"; then
  pass "$name"
fi
expect_verdict lm64-ident-linux64-without-xlf-5level-passes "$(cpu_for lm64-ident)" 0x04000000 33 \
  "entry=lm64-ident kind=linux64 no5level=1"

# ---- the purgatory above 4 GiB (kexec-tools may put it there): the
# 64-bit entry must not pass through 32-bit code, and a 32-bit handoff,
# which cannot run from there, must be refused with one clear line.
# QEMU's pc machine puts the RAM beyond 3 GiB at [4 GiB, 7 GiB).
PROTO_MEM=6G
for kind in linux64 generic64; do
  expect_verdict "lm64-ident-above-4g-to-$kind-meets-contract" "max,+la57" 0x140003000 33 \
    "entry=lm64-ident kind=$kind"
done
name=lm64-ident-above-4g-to-linux32-is-refused
if expect_halt "$name" "max,+la57" 0x140003000 '^charon: a 32-bit handoff needs the purgatory below 4 GiB' \
  "entry=lm64-ident kind=linux32"; then
  pass "$name"
fi
PROTO_MEM=1G

# ---- a Linux handoff without boot_params is refused before anything runs
name=linux64-without-boot-params-is-refused
if expect_halt "$name" max 0x800000 '^charon: linux64 needs boot_params and kernel_entry' \
  "entry=lm64-ident kind=linux64 break=nobootparams"; then
  pass "$name"
fi

# ---- kexec-tools --no-checks: generic64, no regions, boot_params only in
# entry64_regs.rsi; the purgatory must find it ("HdrS") and map its cmdline
# and the kernel's range itself, or the probe's page walk fails.
expect_verdict generic64-no-regions-maps-boot-params-from-rsi max 0x800000 33 \
  "entry=lm64-ident kind=generic64 break=kexectools"

# ---- kexec-tools' elf-x86 loader: generic32 with ESP = &stack_arg32_2.
# The payload must start on the purgatory's own stack (4 KiB free below
# ESP, outside the image's file) with [ESP] = stack_arg32_2 and [ESP + 4] =
# stack_arg32_1, a cdecl frame; ESP at the block itself fails.
i=2
for entry in lm64-ident pm32 reloc64; do
  expect_verdict "$entry-generic32-stack-args-pushed" "$(cpu_for "$entry")" "$(addr_at "$i")" 33 \
    "entry=$entry kind=generic32 stackargs=1"
  i=$((i + 1))
done

# ---- real mode (README, "The generic16 handoff"). QEMU loads purgatory.bin
# at a high address and the harness copies it to 64 KiB (low=1), after the
# low-memory pattern; the probe's 16-bit stub runs at 32 KiB, entered
# through a segment 0x10 below its base (so both cs and ip count). It
# records the 8 GPRs, the 6 segment registers, CR0, CR4, EFER, EFLAGS and
# IDTR in real mode, proves real-mode addressing, and returns to 32-bit
# protected mode to report. generic16 from every entry state:
for entry in pm32 pm32-xen lm64-ident lm64-purgonly lm64-la57 lm64-hostile no1g; do
  expect_verdict "$entry-to-generic16-meets-contract" "$(cpu_for "$entry")" \
    "$(addr_at "$n")" 33 "entry=$entry kind=generic16 low=1"
  n=$((n + 1))
done
# kexec-tools --real-mode: generic32 with EIP = entry16 (entry16_regs), or
# with --debug EIP = entry16_debug (entry16_debug_regs); the other set holds
# other values, so the entry must read its own.
for entry in lm64-ident pm32; do
  for rm in entry16 debug; do
    expect_verdict "$entry-kexec-tools-real-mode-$rm" "$(cpu_for "$entry")" "$(addr_at "$n")" 33 \
      "entry=$entry kind=generic32 rm=$rm low=1"
    n=$((n + 1))
  done
done
# --debug's hooks, as a Linux setup code calls them: the stub far-calls
# realmode_swtch (entry16_debug >> 4 : pre32 - entry16_debug) and leaves
# through code32_start = entry16_debug_first32, which must come back with
# the registers kept; the purgatory's three debug lines must be in the log.
name=lm64-ident-kexec-tools-real-mode-debug-hooks
expect_verdict "$name" max 0x0a5b3000 33 "entry=lm64-ident kind=generic32 rm=debug hooks=1 low=1"
if selected "$name"; then
  for line in 'entry16_debug in real mode' 'entry16_debug_pre32' 'entry16_debug_first32'; do
    if ! grep -q "^charon: $line\$" "$LOGDIR/$name.log"; then
      fail "$name-console-lines" "no \"charon: $line\" line"
      continue 2
    fi
  done
  pass "$name-console-lines"
fi
# A register entry16 does not load must show: one wrong in the block.
expect_verdict probe-fails-generic16-with-one-wrong-register max 0x04000000 35 \
  "entry=lm64-ident kind=generic16 low=1 break=reg" ebx-is-regs16
# The 16-bit tail must lie below 1 MiB: with the purgatory at 8 MiB, both
# ways into real mode stop with one line instead of a triple fault.
for way in "kind=generic16" "kind=generic32 rm=entry16"; do
  name=real-mode-above-1m-$(echo "$way" | sed 's/kind=//; s/ rm=/-/')-is-refused
  if expect_halt "$name" max 0x00800000 '^charon: real mode needs the purgatory.s 16-bit tail below 1 MiB' \
    "entry=lm64-ident $way"; then
    pass "$name"
  fi
done

# ---- the kernel flavour (purgatory-linux.bin): the registers only in the
# kernel's entry64_regs order (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi),
# as kexec_file_load leaves them; the block's own regs64 is zero. The
# probe's register check passes only if entry.asm converted every slot.
KERNEL_PURGATORY=$PROTO_B/x86_64/purgatory-linux.bin
if [ ! -f "$KERNEL_PURGATORY" ]; then
  echo "FAIL: protocol-artifacts-built ($KERNEL_PURGATORY missing: run make first)"
  failed=$((failed + 1))
else
  saved_purgatory=$PROTO_PURGATORY
  PROTO_PURGATORY=$KERNEL_PURGATORY
  i=3
  for entry in lm64-ident lm64-la57 pm32; do
    expect_verdict "kflavour-$entry-kernel-order-regs" "$(cpu_for "$entry")" \
      "$(addr_at "$i")" 33 "entry=$entry kind=generic64 kabi=1"
    i=$((i + 1))
  done
  PROTO_PURGATORY=$saved_purgatory
fi

# ---- efi_info ("EL64") names a system table, its configuration tables and
# a memory map above 4 GiB. The decompressor reads the first two before it
# has page tables of its own (on AMD: sev_enable -> snp_init ->
# find_cc_blob_efi; Linux's own kexec maps them since 5760929f6545), so the
# purgatory must map all three, whichever loader filled efi_info: for
# linux64, and for generic64 with boot_params only at RSI (kexec-tools).
# The probe walks CR3 over each. linux32 hands off with paging off, so it
# must only pass as usual with efi_info set, tables above 4 GiB and all.
PROTO_MEM=6G
i=1
for entry in lm64-ident pm32 lm64-la57; do
  expect_verdict "efi-tables-above-4g-$entry-linux64-mapped" "$(cpu_for "$entry")" \
    "$(addr_at "$i")" 33 "entry=$entry kind=linux64 efi=1"
  i=$((i + 1))
done
expect_verdict efi-tables-above-4g-generic64-rsi-hdrs-mapped max 0x800000 33 \
  "entry=lm64-ident kind=generic64 break=kexectools efi=1"
expect_verdict efi-tables-above-4g-pm32-linux32-passes max "$(addr_at "$i")" 33 \
  "entry=pm32 kind=linux32 efi=1"
PROTO_MEM=1G

# ---- CHARON_F_FAULT_TEST32: ud2 in the 32-bit entry, at its last
# instruction before long mode, reported through its own IDT as #UD
# (before issue 15 it had none, and the machine reset)
name=fault-test-in-entry32-reports-vector-6-and-halts
if expect_halt "$name" max 0x3000f000 '^charon: exception vector (6|0x6)([^0-9a-fx]|$)' \
  "entry=pm32 kind=linux64 fault=32"; then
  if echo "$HALT_LINE" | grep -qE 'error 0x0 eip 0x[0-9a-f]+ in the 32-bit entry$'; then
    pass "$name"
  else
    fail "$name" "the report lacks the error code, EIP or where: $HALT_LINE"
  fi
fi

# ---- the typed identity map: QEMU's memory map, with a reserved hole of
# three pages carved out of the RAM inside the first GiB (descriptor.h),
# goes to the purgatory as params.memory, through the core's one rule,
# and to the payload as the zero page's e820 table. The probe walks every
# leaf of the live tables: each must lie in memory or in what the handoff
# requires, never over the hole, QEMU's own reserved ranges or the PCI
# hole; and every memory page must be mapped. 1 GiB leaves (max), 2 MiB
# ones only (no1g), 5 levels, from 32-bit; and at -m 6G, RAM above 4 GiB
# with the EFI tables there.
for entry in lm64-ident no1g lm64-la57 pm32; do
  for kind in linux64 generic64; do
    expect_verdict "e820-hole-$entry-to-$kind-typed-map" "$(cpu_for "$entry")" \
      "$(addr_at "$n")" 33 "entry=$entry kind=$kind e820=1"
    n=$((n + 1))
  done
done
PROTO_MEM=6G
for entry in lm64-ident no1g; do
  expect_verdict "e820-hole-6g-$entry-linux64-typed-map" "$(cpu_for "$entry")" \
    "$(addr_at "$n")" 33 "entry=$entry kind=linux64 e820=1 efi=1"
  n=$((n + 1))
done
PROTO_MEM=1G

# ---- CHARON_F_FAULT_TEST: ud2 once the IDT is in, reported as #UD
for entry in lm64-ident pm32 lm64-purgonly; do
  name=fault-test-from-$entry-reports-vector-6-and-halts
  if expect_halt "$name" max "$(addr_at "$n")" '^charon: exception vector (6|0x6)([^0-9a-fx]|$)' \
    "entry=$entry kind=linux64 fault=1"; then
    if echo "$HALT_LINE" | grep -qiE 'error.*rip.*cr2'; then
      pass "$name"
    else
      fail "$name" "the report lacks the error code, RIP or CR2: $HALT_LINE"
    fi
  fi
  n=$((n + 1))
done

# ---- an NMI while the purgatory hashes must return, not halt: after a
# crash the dying kernel routes LINT1 to NMI, and a BMC's or watchdog's
# NMI then must not cost the dump. A 64 MiB region keeps the purgatory
# hashing for seconds under TCG (scalar, about 10 MB/s; the harness hashed
# it once already, as long); QEMU's monitor injects the NMI once the
# purgatory has printed its first line (the harness hashed the region
# before that), and before "digest ok", or the case proves nothing. The
# probe must still pass and the purgatory must have counted the NMI. Both
# entries: pm32 reaches the same 64-bit IDT through its own path.
for entry in lm64-ident pm32; do
  name=nmi-while-hashing-$entry-returns-counted  # the harness keeps 47 chars
  selected "$name" || continue
  LOG=$LOGDIR/$name.log
  PROTO_MONITOR=$LOGDIR/$name.mon
  proto_boot "$LOG" max 0x800000 "case=$name entry=$entry kind=linux64 big=64"
  early=no sent=no
  if proto_wait_for '^charon: purgatory at'; then
    grep -q '^charon: digest ok' "$LOG.raw" && early=yes
    proto_hmp nmi && sent=yes
    # Old behaviour: a report and a halt for ever; do not wait out the timeout.
    proto_wait_for '^(charon: exception|PROBE-VERDICT)' && sleep 1
  fi
  kill "$QEMU_PID" 2>/dev/null
  proto_wait
  rm -f "$PROTO_MONITOR.in" "$PROTO_MONITOR.out"
  PROTO_MONITOR=
  if [ "$sent" = no ]; then
    fail "$name" "the NMI was not sent: no \"charon: purgatory at\" line; $(proto_why "$RC")"
  elif [ "$early" = yes ]; then
    fail "$name" "the purgatory had hashed the region before the NMI was sent; enlarge big="
  elif grep -q '^charon: exception' "$LOG"; then
    fail "$name" "the purgatory halted on the NMI"
  elif [ "$RC" -ne 33 ] || ! grep -q "^PROBE-VERDICT: $name PASS" "$LOG"; then
    fail "$name" "$(proto_why "$RC"), want: $(proto_why 33)"
  elif ! grep -qE '^charon: [1-9][0-9]* NMI\(s\) while running' "$LOG"; then
    fail "$name" "the probe passed, but the purgatory reports no NMI"
  else
    pass "$name"
  fi
done

# ---- the probe itself: passes a correct reference handoff (the harness
# plays the purgatory) and fails each deliberately wrong one
for kind in linux64 linux32 generic64 generic32; do
  expect_verdict "probe-accepts-reference-$kind-handoff" max - 33 "entry=direct kind=$kind"
done
expect_verdict probe-fails-handoff-with-df-set max - 35 "entry=direct kind=linux64 break=df" df-clear
expect_verdict probe-fails-linux32-with-wrong-esi max - 35 "entry=direct kind=linux32 break=rsi" \
  esi-is-boot-params
expect_verdict probe-fails-generic64-with-one-wrong-register max - 35 \
  "entry=direct kind=generic64 break=reg" rbx-is-regs64
expect_verdict probe-fails-generic32-with-one-wrong-register max - 35 \
  "entry=direct kind=generic32 break=reg" ebx-is-regs32
expect_verdict probe-fails-without-backup-copy max - 35 "entry=direct kind=linux64 break=backup" \
  backup-holds-low-memory
expect_verdict probe-fails-with-cr4-pge-set max - 35 "entry=direct kind=linux64 break=cr4" cr4-is-pae
expect_verdict probe-fails-on-a-1g-leaf-without-pdpe1gb max - 35 \
  "entry=direct kind=linux64 break=gb1" no-1g-leaves-without-pdpe1gb
expect_verdict probe-fails-on-an-unmapped-range max - 35 "entry=direct kind=generic64 break=idmap" \
  idmap-above-8g
expect_verdict probe-fails-on-a-leaf-over-reserved-memory max - 35 \
  "entry=direct kind=linux64 e820=1 break=reserved" leaves-only-memory-or-required

# ---- through the relocation trampoline (x86_64/trampoline/relocate.asm, harness/
# reloc.cpp): the purgatory, probe, zero page and cmdline arrive from
# shuffled source pages, some under later destinations; the trampoline runs
# from a probe page the list overwrites and copies that page first; two
# pages are IND_ZERO over poison. Digest regions 3 and 4 cover both.
for entry in reloc64 reloc32; do
  for kind in linux64 linux32 generic64 generic32; do
    expect_verdict "$entry-trampoline-to-$kind-meets-contract" "max,+la57" "$(addr_at "$n")" 33 \
      "entry=$entry kind=$kind"
    n=$((n + 1))
  done
done
# The zero pages are really checked: a list that copies poison there instead
# of IND_ZERO must stop the purgatory on region 4.
name=reloc-list-without-ind-zero-halts-on-region-4
if expect_halt "$name" max "$(addr_at "$n")" '^charon: digest mismatch in region 4 ' \
  "entry=reloc64 kind=linux64 break=nozero"; then
  pass "$name"
fi

[ "$failed" -eq 0 ]
