# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tools/lib-build.sh - sourced by tools/bench and tools/demo: build what a
# QEMU guest run needs, the way tests/run does (same cache, same build
# directory, the same tools/gates/kbuild for the module).
#
#   vc_build_kernels        tools/fetch-kernels -q (guest kernels in the cache)
#   vc_release K            release name of kernel K (6.1, 6.12 or a release)
#   vc_build_user           make -C user; the log is shown only on failure
#   vc_build_module REL     vcluster.ko for guest kernel REL (tools/gates/kbuild
#                           --no-sparse), prints its path:
#                           $VC_BUILD/tools/REL/vcluster.ko, rebuilt unless
#                           newer than every source file.  Not tests/run's
#                           $VC_BUILD/REL: kbuild empties its output
#                           directory first, and a "make check" running at
#                           the same time must not lose its module (~5 s
#                           of build is cheaper than a lock both share)
#   vc_stage_user DIR       copy user/vclusterctl to DIR (a run keeps its own
#                           copy, so a concurrent "make -C user clean" cannot
#                           pull it away under a running guest)
#
# Needs REPO set.  Functions print what went wrong and return non-zero.

VC_CACHE=${VC_CACHE:-/var/cache/vcluster}
VC_BUILD=${VC_BUILD:-$REPO/build}
export VC_CACHE VC_BUILD

vc_build_kernels()
{
	"$REPO/tools/fetch-kernels" -q ||
		{ echo "tools/fetch-kernels failed (did tools/deps.sh run?)" >&2; return 1; }
}

vc_release()
{
	local d=$VC_CACHE/kernels/$1

	[[ -d $d ]] || { echo "unknown guest kernel '$1' (not in $VC_CACHE/kernels)" >&2; return 1; }
	basename "$(readlink -f "$d")"
}

vc_build_user()
{
	local log

	log=$(mktemp)
	if ! make -C "$REPO/user" >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		rm -f "$log"
		echo "make -C user failed" >&2
		return 1
	fi
	rm -f "$log"
	[[ -x $REPO/user/vclusterctl ]] || { echo "user/vclusterctl was not built" >&2; return 1; }
}

# The newest mtime among the module's sources (what kbuild copies).
_vc_src_mtime()
{
	(cd "$REPO" && find Kbuild kernel include -type f \
		\( -name Kbuild -o -name Makefile -o -name '*.[chS]' \) \
		-printf '%T@\n') | sort -n | tail -n1
}

vc_build_module()
{
	local rel=$1 out=$VC_BUILD/tools/$1 ko_t src_t

	if [[ -e $out/vcluster.ko ]]; then
		ko_t=$(stat -c %Y "$out/vcluster.ko")
		src_t=$(_vc_src_mtime)
		if ((ko_t > ${src_t%.*})); then
			echo "$out/vcluster.ko"
			return 0
		fi
	fi
	if ! "$REPO/tools/gates/kbuild" --no-sparse "$rel" "$out" >&2; then
		echo "building vcluster.ko for $rel failed (see $out/kbuild.log)" >&2
		return 1
	fi
	echo "$out/vcluster.ko"
}

vc_stage_user()
{
	mkdir -p "$1"
	cp "$REPO/user/vclusterctl" "$1/vclusterctl.tmp" &&
		mv "$1/vclusterctl.tmp" "$1/vclusterctl"
}
