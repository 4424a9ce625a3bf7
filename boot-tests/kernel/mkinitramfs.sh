#!/bin/sh
# Builds the real-kernel test initramfs.
# Usage: mkinitramfs.sh OUT [CHARON_KEXEC [PURGATORY_RO]]
#
# OUT holds busybox, boot-tests/kernel/init, Debian's kexec with its shared
# libraries, CHARON_KEXEC (default build/loader/charon-kexec) when it exists,
# Debian's kexec with charon's PURGATORY_RO (default
# build/x86_64/purgatory.ro) swapped in when that exists, and a 4 MiB
# pseudo-random payload with its sha256. The same file is kernel
# B's initrd; run-kexec.sh appends kernel B's files to it for kernel A.
# Layout: one gzip'd cpio with the programs, then an uncompressed cpio with
# the payload, so the payload's bytes are the initrd's last bytes and a
# truncated or corrupted initrd fails kernel B's sha256 check.
# Does nothing when OUT is newer than everything it is built from.
set -eu
out=${1:?usage: mkinitramfs.sh OUT [CHARON_KEXEC [PURGATORY_RO]]}
charon=${2:-build/loader/charon-kexec}
purg=${3:-build/x86_64/purgatory.ro}
here=$(dirname "$0")
kexec=/usr/sbin/kexec
busybox=/bin/busybox

if [ ! -x "$kexec" ]; then
  echo "mkinitramfs: installing kexec-tools (the baseline loader)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kexec-tools
fi
# busybox must be the static build: the initramfs has no libc for it.
if ! ldd "$busybox" 2>&1 | grep -q 'not a dynamic executable'; then
  echo "mkinitramfs: $busybox is not static; install busybox-static" >&2
  exit 1
fi

stale=no
[ -s "$out" ] || stale=yes
for f in "$0" "$here/init" "$here/kexec-swap-purgatory.sh" "$kexec" "$busybox" "$charon" "$purg"; do
  [ -e "$f" ] && [ -e "$out" ] && [ -n "$(find -L "$f" -newer "$out")" ] && stale=yes
done
# OUT.charon records which charon-kexec and purgatory.ro went in ("none" or
# a checksum), so a different binary, even an older one, triggers a rebuild.
has=none; [ -x "$charon" ] && has=$(cksum <"$charon")
has_purg=none; [ -s "$purg" ] && has_purg=$(cksum <"$purg")
inputs="charon-kexec: $has
purgatory: $has_purg"
[ "$(cat "$out.charon" 2>/dev/null)" = "$inputs" ] || stale=yes
[ "$stale" = yes ] || exit 0

outdir=$(dirname "$out")
mkdir -p "$outdir"
# The payload is made once and kept, so rebuilds are reproducible.
payload=$outdir/payload.bin
if [ ! -s "$payload" ]; then
  head -c 4194304 /dev/urandom >"$payload.tmp" && mv "$payload.tmp" "$payload"
fi

tmp=$(mktemp -d "$outdir/initramfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" \
  "$root/proc" "$root/sys" "$root/dev" "$root/boot" "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for app in $("$busybox" --list); do
  [ "$app" = busybox ] || ln -s busybox "$root/bin/$app"
done
# The kernel opens /dev/console for init's stdio before devtmpfs is mounted.
mknod -m 600 "$root/dev/console" c 5 1
cp "$here/init" "$root/init"
chmod 755 "$root/init"

# Debian's kexec is dynamic: copy it with every library ldd names,
# including the loader itself, at the same paths.
cp "$kexec" "$root/usr/sbin/kexec"
for lib in $(ldd "$kexec" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
if [ "$has" != none ]; then
  cp "$charon" "$root/sbin/charon-kexec"
  echo "mkinitramfs: with charon-kexec"
else
  echo "mkinitramfs: without charon-kexec ($charon not built yet)"
fi
if [ "$has_purg" != none ]; then
  sh "$here/kexec-swap-purgatory.sh" "$kexec" "$purg" "$root/usr/sbin/kexec-charon-purgatory"
else
  echo "mkinitramfs: without kexec-tools on charon's purgatory ($purg not built yet)"
fi

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -6 >"$tmp/main.cpio.gz"
# The kernel takes a cpio header only at a 4-byte aligned offset of the
# initrd (init/initramfs.c), so pad the gzip member with zeros, which it
# skips between members, up to a 512-byte boundary.
size=$(wc -c <"$tmp/main.cpio.gz")
head -c $(( (512 - size % 512) % 512 )) /dev/zero >>"$tmp/main.cpio.gz"
mkdir "$tmp/tail"
cp "$payload" "$tmp/tail/payload.bin"
sha256sum "$payload" | cut -d' ' -f1 >"$tmp/tail/payload.sha256"
(cd "$tmp/tail" && printf 'payload.sha256\npayload.bin\n' | cpio -o -H newc -R 0:0 --quiet) >"$tmp/tail.cpio"
# Built aside and renamed, so a concurrent reader never sees half a file.
cat "$tmp/main.cpio.gz" "$tmp/tail.cpio" >"$tmp/out"
mv "$tmp/out" "$out"
echo "$inputs" >"$out.charon"
echo "mkinitramfs: $out ($(wc -c <"$out") bytes)"
