#!/bin/sh
# Fetches what the Xen tier boots: Debian's Xen 4.17 hypervisor and
# Debian's generic kernel for dom0 (CONFIG_XEN_DOM0), with the modules a
# dom0 needs for the kexec hypercall (xen-privcmd: /dev/xen/privcmd and
# /dev/xen/hypercall; xenfs: /proc/xen; xen-evtchn).
# Usage: fetch-xen.sh OUTDIR
# Leaves OUTDIR/xen (the multiboot ELF, uncompressed for QEMU's -kernel),
# OUTDIR/xen-version, and OUTDIR/dom0/{vmlinuz,modules/...} through
# boot-tests/kernel/fetch-kernel.sh. A no-op when both are there.
set -eu
out=${1:?usage: fetch-xen.sh OUTDIR}
here=$(dirname "$0")
KERNEL_META=linux-image-amd64 sh "$here/../kernel/fetch-kernel.sh" "$out/dom0" \
  xen-privcmd xenfs xen-evtchn
grep -q '^CONFIG_XEN_DOM0=y' "$out/dom0/config" ||
  { echo "fetch-xen: $out/dom0/vmlinuz lacks CONFIG_XEN_DOM0=y" >&2; exit 1; }
[ -s "$out/xen" ] && exit 0

pkg=xen-hypervisor-4.17-amd64
if ! apt-cache show "$pkg" >/dev/null 2>&1; then
  echo "fetch-xen: package lists empty, running apt-get update"
  apt-get update -qq
fi
tmp=$(mktemp -d "$out/fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 777 "$tmp"
(cd "$tmp" && apt-get download -qq "$pkg")
dpkg-deb -x "$tmp"/*.deb "$tmp/x"
gz=$(find "$tmp/x/boot" -name 'xen-*-amd64.gz' | head -n 1)
[ -n "$gz" ] || { echo "fetch-xen: $pkg has no boot/xen-*.gz" >&2; exit 1; }
# Xen's kexec is what the tier tests; refuse a build without it.
cfg=$(find "$tmp/x/boot" -name 'xen-*-amd64.config' | head -n 1)
grep -q '^CONFIG_KEXEC=y' "$cfg" || { echo "fetch-xen: $pkg lacks CONFIG_KEXEC=y" >&2; exit 1; }
dpkg-deb -f "$tmp"/*.deb Version >"$out/xen-version"
gzip -dc "$gz" >"$out/xen.tmp" && mv "$out/xen.tmp" "$out/xen"
echo "fetch-xen: $pkg $(cat "$out/xen-version") -> $out/xen"
