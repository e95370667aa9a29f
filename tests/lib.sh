# SPDX-License-Identifier: GPL-2.0
#
# tests/lib.sh - helpers for vcluster's kselftest-style suites.
#
# A suite is tests/NAME.sh, executable, starting with
#
#	#!/bin/bash
#	# vc-suite: guest        (runs inside one guest booted by tools/vmrun)
#	# vc-suite: host         (runs on the host; starts guests itself)
#	# vc-timeout: 300        (optional, seconds, default 300)
#	. "$(dirname "$0")/lib.sh"
#
# and prints TAP on stdout:
#
#	plan 3
#	check "veth pair pings" ip netns exec "$A" ping -c1 -W2 198.18.0.2
#	ok "something"        /  not_ok "something" "why"
#	skip "something" "no ipv6 here"
#	finish                 # exit 0, or 1 if anything failed
#
# skip_all REASON prints "1..0 # SKIP REASON" and exits 4 (kselftest's skip).
# Exit codes: 0 pass, 1 fail, 4 skip.  tests/run counts the points.
#
# Waiting: wait_for [-t SEC] CMD... polls CMD (every 20..200 ms) until it
# succeeds or SEC (default 10) elapse; never sleep-and-hope.
#
# Cleanup: at_exit CMD... registers a command run (in reverse order) when the
# suite exits, however it exits.
#
# Network namespaces (inside a guest): ns_add NAME creates netns "$NS_PREFIX"NAME
# (lo up) and removes it at exit; "ns NAME CMD..." runs CMD in it; veth_link
# NS1 IF1 NS2 IF2 connects two; bridge_ns NAME makes a netns holding bridge
# "br0" that bridge_port NAME NS IF attaches a node's interface to.  Only
# 198.18.0.0/15 and fd00::/8: addr4 SUBNET HOST -> 198.18.SUBNET.HOST,
# addr6 SUBNET HOST -> fd00:SUBNET::HOST.
#
# Module: require_module skips the suite when no vcluster.ko was built;
# load_module modprobes it (dependencies come from the guest's module tree).
#
# Kernel log: check_dmesg [MARK] fails (prints the lines) if the kernel log
# after MARK (from dmesg_mark) shows WARNING/BUG/Oops/KASAN/lockdep/RCU
# problems.  tools/vmrun and tests/run also check every guest's full log.
#
# Multi-guest (host suites): vm_net_create N; vm_start I CMD...; vm_kill I
# (power loss, kill -9); vm_pause I / vm_resume I (SIGSTOP/SIGCONT);
# vm_link I up|down (the tap's link); vm_cut I in|out|both (drop frames to
# / from guest I on the bridge) and vm_heal I; vm_wait I (exit code of
# guest I's script; 125 when it was killed); vm_log I (its output).  Guest
# I is 198.18.1.I/24 and fd00:1::I/64 on eth0; the bridge itself has
# 198.18.1.254/24 so the host sees the network: vm_ns CMD... runs CMD in
# the bridge's netns (e.g. vm_ns ping -c1 -W1 198.18.1.2).  Host and guests meet
# through files in $VC_SHARED (same path everywhere): signal NAME creates
# one, wait_signal [-t SEC] NAME waits for one.  A guest knows it is one
# by VC_IN_GUEST=1 and VC_GUEST=I; a host suite usually re-runs itself in
# the guests: vm_start 1 "$0" guest-role-args.

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=${REPO:-$(cd "$TESTS_DIR/.." && pwd)}
NS_PREFIX=${NS_PREFIX:-vc$$-}

_tap_n=0
_tap_fail=0
_tap_plan=

tap_header() {
	[[ -n ${_tap_header:-} ]] && return 0
	_tap_header=1
	echo "TAP version 13"
}

plan() {
	tap_header
	_tap_plan=$1
	echo "1..$1"
}

diag() {
	local l
	while IFS= read -r l; do echo "# $l"; done <<<"$*"
}

ok() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n $1"
}

not_ok() {
	_tap_n=$((_tap_n + 1))
	_tap_fail=$((_tap_fail + 1))
	echo "not ok $_tap_n $1"
	[[ -n ${2:-} ]] && diag "$2"
	return 0
}

skip() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n $1 # SKIP ${2:-}"
}

# check NAME CMD...: one test point from CMD's exit status; its output is
# shown as diagnostics when it fails.
check() {
	local name=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if ((rc == 0)); then
		ok "$name"
	else
		not_ok "$name" "'$*' exited $rc${out:+:
$out}"
	fi
}

# check_here NAME CMD...: like check, but CMD runs in this shell, so that
# what it sets stays set (a host start records PIDs that later steps need;
# check runs CMD in $(...)).  Its output is kept in a file and shown when
# it fails.
check_here() {
	local name=$1 rc=0 out=${TMPDIR:-/tmp}/check_here.$$.out
	shift
	"$@" >"$out" 2>&1 || rc=$?
	if ((rc == 0)); then
		ok "$name"
	else
		not_ok "$name" "'$*' exited $rc: $(tail -n 20 "$out")"
	fi
	rm -f "$out"
}

skip_all() {
	tap_header
	echo "1..0 # SKIP $*"
	exit $KSFT_SKIP
}

bail_out() {
	echo "Bail out! $*"
	exit $KSFT_FAIL
}

finish() {
	if [[ -n $_tap_plan && $_tap_plan != "$_tap_n" ]]; then
		diag "planned $_tap_plan tests but ran $_tap_n"
		exit $KSFT_FAIL
	fi
	[[ -z $_tap_plan ]] && echo "1..$_tap_n"
	((_tap_fail == 0)) && exit $KSFT_PASS
	exit $KSFT_FAIL
}

# ------------------------------------------------------------- waiting

# not CMD...: succeeds when CMD fails (for wait_for).
not() { ! "$@"; }

wait_for() {
	local t=10 delay=0.02 end
	if [[ $1 == -t ]]; then
		t=$2
		shift 2
	fi
	end=$(($(date +%s%N) + t * 1000000000))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		(($(date +%s%N) >= end)) && return 1
		sleep "$delay"
		case $delay in 0.02) delay=0.05 ;; 0.05) delay=0.1 ;; 0.1) delay=0.2 ;; esac
	done
}

# ------------------------------------------------------------- cleanup

_at_exit=()
at_exit() {
	_at_exit+=("$(printf '%q ' "$@")")
}

_run_at_exit() {
	local i
	for ((i = ${#_at_exit[@]} - 1; i >= 0; i--)); do
		eval "${_at_exit[i]}" >/dev/null 2>&1 || true
	done
	_at_exit=()
}
trap _run_at_exit EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------- kernel log

DMESG_BAD='WARNING:|BUG:|Oops|KASAN|UBSAN|possible circular locking|inconsistent lock state|suspicious RCU|general protection|Call Trace|Kernel panic|kernel BUG|list_add corruption|list_del corruption|refcount_t:|stack-protector|INFO: task .* blocked'

dmesg_mark() {
	dmesg | wc -l
}

check_dmesg() {
	local from=${1:-0} bad
	bad=$(dmesg | tail -n +$((from + 1)) | grep -aE "$DMESG_BAD" || true)
	[[ -z $bad ]] && return 0
	echo "$bad" | head -n 20 >&2
	return 1
}

# ------------------------------------------------------------- module

require_module() {
	[[ -n ${VC_MODULE:-} && -r $VC_MODULE ]] ||
		skip_all "vcluster.ko not built for ${KVER:-this kernel} (kernel/ has no sources yet?)"
}

load_module() {
	modprobe vcluster "$@"
}

unload_module() {
	modprobe -r vcluster
}

# ------------------------------------------------------------- netns

addr4() { echo "198.18.$1.$2"; }
addr6() { echo "fd00:$1::$2"; }

ns_add() {
	local n=$NS_PREFIX$1
	ip netns add "$n" || return 1
	at_exit ip netns del "$n"
	ip -n "$n" link set lo up
}

ns() {
	local n=$NS_PREFIX$1
	shift
	ip netns exec "$n" "$@"
}

# veth_link NS1 IF1 NS2 IF2
veth_link() {
	ip link add "vct$$x" type veth peer name "vct$$y" || return 1
	ip link set "vct$$x" netns "$NS_PREFIX$1" name "$2"
	ip link set "vct$$y" netns "$NS_PREFIX$3" name "$4"
	ip -n "$NS_PREFIX$1" link set "$2" up
	ip -n "$NS_PREFIX$3" link set "$4" up
}

bridge_ns() {
	ns_add "$1" || return 1
	ip -n "$NS_PREFIX$1" link add br0 type bridge forward_delay 0 stp_state 0
	ip -n "$NS_PREFIX$1" link set br0 up
}

# bridge_port BRIDGE_NS NODE_NS IF: a veth from NODE_NS's IF to the bridge.
_bp_n=0
bridge_port() {
	_bp_n=$((_bp_n + 1))
	veth_link "$2" "$3" "$1" "p$_bp_n" || return 1
	ip -n "$NS_PREFIX$1" link set "p$_bp_n" master br0
}

# ------------------------------------------------------------- signals

signal() {
	: >"${VC_SHARED:?no VC_SHARED}/$1"
}

wait_signal() {
	local t=(-t 60)
	if [[ $1 == -t ]]; then
		t=(-t "$2")
		shift 2
	fi
	wait_for "${t[@]}" test -e "${VC_SHARED:?no VC_SHARED}/$1"
}

# ------------------------------------------------------------- guests (host)

VMRUN=$REPO/tools/vmrun
_vm_ns=
_vm_pids=()

# vm_net_create N: private netns with a bridge and tap1..tapN; a shared dir.
vm_net_create() {
	_vm_ns=vc-$$-net
	"$VMRUN" net-create "$_vm_ns" "$1" || return 1
	at_exit "$VMRUN" net-destroy "$_vm_ns"
	VC_GUESTS=$1
	VC_LOGDIR=${VC_LOGDIR:-$(mktemp -d /tmp/vcguests.XXXXXX)}
	mkdir -p "$VC_LOGDIR"
	VC_SHARED=$VC_LOGDIR/shared
	rm -rf "$VC_SHARED"
	mkdir -p "$VC_SHARED"
	export VC_SHARED VC_GUESTS VC_LOGDIR
}

# vm_start I CMD...: boot guest I (background) running CMD.
vm_start() {
	local i=$1 ko=()
	shift
	[[ -n ${VC_KO:-} ]] && ko=(--ko "$VC_KO")
	rm -rf "$VC_LOGDIR/g$i" "$VC_LOGDIR/g$i.vmrun.log"
	VC_GUESTS=$VC_GUESTS "$VMRUN" -q --kernel "${VC_KERNEL:-6.1}" \
		--timeout "${VM_TIMEOUT:-300}" --net "$_vm_ns" --index "$i" \
		--shared "$VC_SHARED" --out "$VC_LOGDIR/g$i" "${ko[@]}" \
		--env "VC_NETNS=$_vm_ns" -- "$@" 2>"$VC_LOGDIR/g$i.vmrun.log" &
	_vm_pids[i]=$!
	at_exit _vm_reap "$i"
}

_vm_reap() {
	local f=$VC_LOGDIR/g$1/qemu.pid
	[[ -s $f ]] && kill -KILL "$(cat "$f")" 2>/dev/null
	wait "${_vm_pids[$1]}" 2>/dev/null
	return 0
}

vm_qemu_pid() {
	local f=$VC_LOGDIR/g$1/qemu.pid
	wait_for -t 30 test -s "$f" || return 1
	cat "$f"
}

vm_kill() { kill -KILL "$(vm_qemu_pid "$1")" 2>/dev/null; }
vm_pause() { kill -STOP "$(vm_qemu_pid "$1")"; }
vm_resume() { kill -CONT "$(vm_qemu_pid "$1")"; }
vm_ns() { ip netns exec "$_vm_ns" "$@"; }
vm_link() { ip -n "$_vm_ns" link set "tap$1" "$2"; }

# vm_cut I in|out|both: drop frames to (in) and/or from (out) guest I, on
# the bridge and to/from the host's address on it.
vm_cut() {
	local i=$1 r=() x
	case $2 in
	in|both) r+=("cutf oifname tap$i" "cuto oifname tap$i") ;;&
	out|both) r+=("cutf iifname tap$i" "cuti iifname tap$i") ;;
	in|out|both) ;;
	*) echo "vm_cut: in|out|both" >&2; return 1 ;;
	esac
	for x in "${r[@]}"; do
		ip netns exec "$_vm_ns" nft add rule bridge vc $x counter drop \
			comment "\"g$i\"" || return 1
	done
}

vm_heal() {
	local c h
	for c in cutf cuto cuti; do
		for h in $(ip netns exec "$_vm_ns" nft -a list chain bridge vc $c |
			   awk "/comment \"g$1\"/ { print \$NF }"); do
			ip netns exec "$_vm_ns" nft delete rule bridge vc $c handle "$h" || return 1
		done
	done
}

vm_wait() {
	local rc=0
	wait "${_vm_pids[$1]}" || rc=$?
	return $rc
}

vm_log() { cat "$VC_LOGDIR/g$1/output" 2>/dev/null; }
