#!/bin/sh
# Builds kernel A of the linux-charon tests: Linux from Debian's own source
# (the linux-source-6.1 package), configured by kernel.config, with charon's
# kernel-flavour purgatory in place of the kernel's own.
# Usage: build.sh OUTDIR PURGATORY_RO
#
# OUTDIR/linux-source-6.1 is the unpacked tree, kept for incremental
# rebuilds: a new PURGATORY_RO only relinks vmlinux. OUTDIR/bzImage is the
# result; OUTDIR/build.log has the kernel build's output.
# The substitution is purgatory-makefile.patch: with CHARON_PURGATORY=FILE
# the kernel's arch/x86/purgatory/purgatory.ro is a copy of FILE, and the
# kernel's own purgatory.chk (a link without -r, which refuses undefined
# symbols) and kexec-purgatory.S (the .incbin into vmlinux) take it from
# there. After the build, the bytes vmlinux holds at kexec_purgatory must
# be PURGATORY_RO's, or the script fails.
# Environment: LINUX_SOURCE_TAR (default /usr/src/linux-source-6.1.tar.xz),
# LINUX_JOBS (default: make's jobserver when run from make -jN, else the
# number of CPUs).
set -eu
out=${1:?usage: build.sh OUTDIR PURGATORY_RO}
purg=${2:?usage: build.sh OUTDIR PURGATORY_RO}
here=$(cd "$(dirname "$0")" && pwd)
tar=${LINUX_SOURCE_TAR:-/usr/src/linux-source-6.1.tar.xz}
tree=$out/linux-source-6.1
log=$out/build.log

die() { echo "build-linux-charon: $*" >&2; exit 1; }
[ -s "$tar" ] || die "no $tar; install Debian's linux-source-6.1 (make deps)"
[ -s "$purg" ] || die "no purgatory at $purg (make build/x86_64/purgatory-linux.ro)"
purg=$(cd "$(dirname "$purg")" && pwd)/$(basename "$purg")
mkdir -p "$out"

# ---- the tree: unpacked and patched once per tarball
stamp="$(stat -c '%s %Y' "$tar") $(cksum <"$here/purgatory-makefile.patch")"
if [ "$(cat "$tree/.charon-unpacked" 2>/dev/null)" != "$stamp" ]; then
  echo "build-linux-charon: unpacking $(basename "$tar")"
  rm -rf "$tree"
  tar -xJf "$tar" -C "$out"
  [ -d "$tree" ] || die "$tar did not unpack to $(basename "$tree")"
  patch -s -d "$tree" -p1 <"$here/purgatory-makefile.patch" ||
    die "purgatory-makefile.patch does not apply to $tree"
  echo "$stamp" >"$tree/.charon-unpacked"
fi

# ---- the configuration: allnoconfig + kernel.config, then olddefconfig
kmake() { ${MAKE:-make} -C "$tree" ARCH=x86_64 "$@"; }
KCONFIG_ALLCONFIG=$here/kernel.config kmake allnoconfig >"$log" 2>&1 ||
  { tail -n 20 "$log" >&2; die "allnoconfig failed"; }
kmake olddefconfig >>"$log" 2>&1 || { tail -n 20 "$log" >&2; die "olddefconfig failed"; }
# Every option of the fragment must be in the result as written; Kconfig
# drops a value silently when a dependency is missing.
grep -E '^(CONFIG_[A-Z0-9_]+=|# CONFIG_[A-Z0-9_]+ is not set$)' "$here/kernel.config" |
  while IFS= read -r line; do
    grep -qxF "$line" "$tree/.config" || die "kernel.config's '$line' is not in the .config (a dependency is missing)"
  done

# ---- the build
jobs=""
case " ${MAKEFLAGS:-} " in
  *jobserver*) ;;
  *) jobs=-j${LINUX_JOBS:-$(nproc)} ;;
esac
echo "build-linux-charon: building bzImage ($tree, log in $log)"
start=$(date +%s)
# $jobs is one word or none.
# shellcheck disable=SC2086
kmake $jobs CHARON_PURGATORY="$purg" bzImage >>"$log" 2>&1 ||
  { tail -n 30 "$log" >&2; die "the kernel build failed (all of it in $log)"; }

# ---- the proof: vmlinux carries exactly charon's purgatory
cmp -s "$purg" "$tree/arch/x86/purgatory/purgatory.ro" ||
  die "the tree's purgatory.ro is not $purg"
sh "$here/check-embedded.sh" "$tree/vmlinux" "$purg" >>"$log" ||
  die "$(tail -n 1 "$log")"
cp "$tree/arch/x86/boot/bzImage" "$out/bzImage.tmp"
mv "$out/bzImage.tmp" "$out/bzImage"
echo "build-linux-charon: $out/bzImage ($(wc -c <"$out/bzImage") bytes, $(( $(date +%s) - start ))s);" \
  "vmlinux holds $(basename "$purg") as its purgatory"
