#!/bin/sh
# Fetches Debian's cloud kernel for the real-kernel tests (tier 3).
# Usage: [KERNEL_META=PACKAGE] fetch-kernel.sh OUTDIR [MODULE...]
#
# Leaves OUTDIR/vmlinuz, OUTDIR/kernel-version, OUTDIR/kexec-config (the
# config options the scenarios depend on) and OUTDIR/config (the package's
# whole boot/config-*). Each MODULE (e.g. efivarfs) is kept from the same
# package, with the modules it depends on, as OUTDIR/modules/NAME.ko, and
# OUTDIR/modules/load-order lists them in the order insmod needs. A no-op
# when OUTDIR/vmlinuz and every MODULE are there, so `make deps` stays fast.
# The cloud flavour is the smallest Debian kernel that still has kexec,
# 8250 console and gzip initrd built in. KERNEL_META names another
# flavour's metapackage (the Xen tier's dom0 needs linux-image-amd64, the
# generic kernel: the cloud one lacks CONFIG_XEN_DOM0).
set -eu
out=${1:?usage: fetch-kernel.sh OUTDIR [MODULE...]}
shift
have=yes
[ -s "$out/vmlinuz" ] || have=no
for m in "$@"; do [ -s "$out/modules/$m.ko" ] || have=no; done
[ "$have" = yes ] && exit 0
mkdir -p "$out"

meta=${KERNEL_META:-linux-image-cloud-amd64}
# apt-cache only knows packages after `apt-get update`; a fresh machine has
# empty lists, so fetch them once rather than failing with "no package".
if ! apt-cache show "$meta" >/dev/null 2>&1; then
  echo "fetch-kernel: package lists empty, running apt-get update"
  apt-get update -qq
fi
# The metapackage depends on exactly one versioned image package.
pkg=$(apt-cache depends "$meta" | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1)
[ -n "$pkg" ] || { echo "fetch-kernel: cannot resolve $meta" >&2; exit 1; }
echo "fetch-kernel: $meta -> $pkg"

tmp=$(mktemp -d "$out/fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# apt-get download writes into the current directory; the _apt sandbox user
# must be able to write there, hence the subshell and chmod.
chmod 777 "$tmp"
(cd "$tmp" && apt-get download -qq "$pkg")
deb=$(ls "$tmp"/*.deb)
dpkg-deb -x "$deb" "$tmp/x"

vmlinuz=$(find "$tmp/x/boot" -name 'vmlinuz-*' | head -n 1)
config=$(find "$tmp/x/boot" -name 'config-*' | head -n 1)
version=${vmlinuz##*/vmlinuz-}

# Record the options the tests rely on, and refuse a kernel that cannot run
# them: without kexec or an initrd, every scenario would fail for a reason
# that has nothing to do with charon.
grep -E '^(# )?CONFIG_(KEXEC|KEXEC_FILE|CRASH_DUMP|X86_5LEVEL|SERIAL_8250_CONSOLE|BLK_DEV_INITRD|RD_GZIP)[= ]' \
  "$config" >"$tmp/kexec-config"
for opt in KEXEC SERIAL_8250_CONSOLE BLK_DEV_INITRD RD_GZIP; do
  grep -q "^CONFIG_$opt=y" "$config" ||
    { echo "fetch-kernel: $pkg lacks CONFIG_$opt=y" >&2; exit 1; }
done

# Modules and what they depend on (modinfo's depends=, read from the
# NUL-separated .modinfo strings), dependencies first. The names use "_"
# where the file may use "-".
kmods=$tmp/x
mkdir -p "$tmp/modules"
: >"$tmp/modules/load-order"
add_module() {
  grep -qx "$1" "$tmp/modules/load-order" && return 0
  pat=$(echo "$1" | sed 's/[_-]/[_-]/g')
  ko=$(find "$kmods" -path "*/lib/modules/*" \( -name "$pat.ko" -o -name "$pat.ko.xz" \) | head -n 1)
  [ -n "$ko" ] || { echo "fetch-kernel: $pkg has no module $1" >&2; exit 1; }
  case "$ko" in
    *.xz) xz -dc "$ko" >"$tmp/modules/$1.ko" ;;
    *) cp "$ko" "$tmp/modules/$1.ko" ;;
  esac
  for dep in $(tr '\0' '\n' <"$tmp/modules/$1.ko" | sed -n 's/^depends=//p' | tr ',' ' '); do
    add_module "$dep"
  done
  echo "$1" >>"$tmp/modules/load-order"
}
for m in "$@"; do add_module "$m"; done
if [ $# -gt 0 ]; then
  rm -rf "$out/modules"
  cp -r "$tmp/modules" "$out/modules"
  echo "fetch-kernel: modules $(tr '\n' ' ' <"$out/modules/load-order")"
fi

cp "$config" "$out/config"
cp "$tmp/kexec-config" "$out/kexec-config"
echo "$version" >"$out/kernel-version"
# vmlinuz last: its presence is what marks the fetch as complete.
cp "$vmlinuz" "$out/vmlinuz.tmp" && mv "$out/vmlinuz.tmp" "$out/vmlinuz"
echo "fetch-kernel: $version ->" "$out/vmlinuz"
sed 's/^/fetch-kernel:   /' "$out/kexec-config"
