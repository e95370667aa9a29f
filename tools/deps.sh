#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/deps.sh - install every Debian package that building and testing
# vcluster needs (make check calls it first; .ci/run on a fresh machine).
#
# Idempotent and quiet: when everything is installed it only runs dpkg-query
# and exits 0.  Otherwise it runs apt-get update (once) and apt-get install.
# Needs root when something is missing.
#
# Kernel headers: Debian's 6.1 (linux-headers-amd64) and the newest
# linux-headers-6.12.*+deb12-amd64; once some 6.12 headers are installed they
# are kept (tools/fetch-kernels fetches the guest kernel of the same ABI).

set -euo pipefail

PKGS=(
	build-essential pkg-config make gcc perl
	linux-headers-amd64 linux-source-6.1 linux-source-6.12
	qemu-system-x86 busybox-static cpio kmod xz-utils zstd util-linux procps
	sparse libnl-3-dev libnl-genl-3-dev libnl-route-3-dev
	libraft-dev libuv1-dev libjansson-dev
	python3 python3-yaml python3-jsonschema
	iproute2 iputils-ping ethtool nftables jq stress-ng
	libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev
	libxml2-dev resource-agents
)

die() { echo "deps.sh: $*" >&2; exit 1; }

# Print the names of the packages in "$@" that are not fully installed.
missing() {
	local -A ok=()
	local p st
	while read -r p st; do
		[[ $st == ii* ]] && ok[$p]=1
	done < <(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null || true)
	for p in "$@"; do
		[[ -n ${ok[$p]:-} ]] || echo "$p"
	done
}

# Newest installed 6.12 headers package, if any.
installed_612() {
	dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' \
		'linux-headers-6.12.*+deb12-amd64' 2>/dev/null |
		awk '$1 ~ /^ii/ { print $2 }' | sort -V | tail -n1
}

updated=0
apt_update() {
	((updated)) && return 0
	export DEBIAN_FRONTEND=noninteractive
	if ! out=$(apt-get update -q 2>&1); then
		echo "$out" >&2
		die "apt-get update failed"
	fi
	updated=1
}

apt_install() {
	export DEBIAN_FRONTEND=noninteractive
	echo "deps.sh: installing: $*" >&2
	if ! out=$(apt-get install -y -q --no-install-recommends "$@" </dev/null 2>&1); then
		echo "$out" >&2
		die "apt-get install failed for: $*"
	fi
}

need=( $(missing "${PKGS[@]}") )
h612=$(installed_612)

if ((${#need[@]} == 0)) && [[ -n $h612 ]]; then
	exit 0
fi

[[ $(id -u) == 0 ]] || die "missing packages (${need[*]} ${h612:-linux-headers-6.12.*+deb12-amd64}); run as root"

# Only refresh the package lists when apt cannot find what we need.
if ! apt-cache show "${need[@]}" >/dev/null 2>&1 ||
   [[ -z $h612 && -z $(apt-cache pkgnames linux-headers-6.12. 2>/dev/null) ]]; then
	apt_update
fi

if [[ -z $h612 ]]; then
	h612=$(apt-cache pkgnames linux-headers-6.12. 2>/dev/null |
		grep -E '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' | sort -V | tail -n1)
	if [[ -z $h612 ]]; then
		apt_update
		h612=$(apt-cache pkgnames linux-headers-6.12. 2>/dev/null |
			grep -E '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' | sort -V | tail -n1)
	fi
	[[ -n $h612 ]] || die "no linux-headers-6.12.*+deb12-amd64 package in the apt sources"
	need+=("$h612")
fi

apt_install "${need[@]}"

left=( $(missing "${PKGS[@]}" "$h612") )
((${#left[@]} == 0)) || die "still missing after install: ${left[*]}"
