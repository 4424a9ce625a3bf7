# Shared by run-protocol.sh and demo.sh (sourced, POSIX sh): one QEMU boot
# of the protocol harness. The caller sets LOGDIR.
#
# proto_boot LOG CPU PURG_ADDR APPEND
#   Runs QEMU in the background (TCG, no reboot, no display) with the
#   probe at 16 MiB and purgatory.bin at PURG_ADDR (none for "-"), and
#   sets QEMU_PID. Debugcon (0xE9) goes to LOG.raw, the serial port to
#   LOG.serial. isa-debug-exit makes the probe's verdict the exit status:
#   33 pass, 35 fail; 37 is a harness set-up error, 0 a reset (triple
#   fault: -no-reboot turns it into an exit), 124 the timeout.
#   With PROTO_MONITOR=PATH set, QEMU's human monitor listens on the FIFOs
#   PATH.in and PATH.out (made here); proto_hmp sends it a command.
PROTO_B=${B:-build}
PROTO_HARNESS=$PROTO_B/boot-tests/harness.bin
PROTO_PROBE=$PROTO_B/boot-tests/probe.bin
PROTO_PURGATORY=$PROTO_B/x86_64/purgatory.bin
PROTO_TIMEOUT=${PROTOCOL_TIMEOUT:-60}

proto_boot() {
  log=$1 cpu=$2 purg=$3 append=$4
  : > "$log.raw"
  [ "$purg" != - ] && append="$append purg=$purg"
  set -- -accel tcg -cpu "$cpu" -m "${PROTO_MEM:-1G}" -no-reboot -display none -nodefaults \
    -debugcon "file:$log.raw" -serial "file:$log.serial" \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$PROTO_HARNESS" -append "$append" \
    -device "loader,file=$PROTO_PROBE,addr=0x1000000,force-raw=on"
  if [ "$purg" != - ]; then
    set -- "$@" -device "loader,file=$PROTO_PURGATORY,addr=$purg,force-raw=on"
  fi
  if [ -n "${PROTO_MONITOR:-}" ]; then
    rm -f "$PROTO_MONITOR.in" "$PROTO_MONITOR.out"
    mkfifo "$PROTO_MONITOR.in" "$PROTO_MONITOR.out"
    set -- "$@" -monitor "pipe:$PROTO_MONITOR"
  fi
  timeout "$PROTO_TIMEOUT" qemu-system-x86_64 "$@" >"$log.qemu" 2>&1 &
  QEMU_PID=$!
}

# proto_wait: waits for the boot started last; sets RC and writes LOG
# (the debugcon output without carriage returns).
proto_wait() {
  wait "$QEMU_PID"
  # shellcheck disable=SC2034 # read by the scripts that source this one
  RC=$?
  tr -d '\r' < "$log.raw" > "$log"
}

proto_why() {
  case $1 in
    33) echo "probe passed" ;;
    35) echo "probe reported failures" ;;
    37) echo "harness set-up error" ;;
    0) echo "QEMU reset: triple fault before the probe's verdict" ;;
    124) echo "timeout after ${PROTO_TIMEOUT}s" ;;
    *) echo "QEMU exit status $1" ;;
  esac
}

# proto_hmp COMMAND: one human-monitor command to the boot started last
# (PROTO_MONITOR). QEMU holds both FIFOs open read-write, so neither open
# blocks while it runs; the timeout covers a QEMU that has already gone.
# Its replies stay unread in PATH.out: a few lines fit the pipe's buffer.
proto_hmp() {
  # shellcheck disable=SC2016 # expanded by the inner sh
  timeout 5 sh -c 'printf "%s\n" "$1" >"$2.in"' sh "$1" "$PROTO_MONITOR"
}

# proto_wait_for PATTERN: polls the boot started last until its debugcon
# log has a line matching PATTERN (status 0) or QEMU has exited (1).
proto_wait_for() {
  while kill -0 "$QEMU_PID" 2>/dev/null; do
    grep -qE "$1" "$log.raw" && return 0
    sleep 0.1
  done
  grep -qE "$1" "$log.raw"
}
