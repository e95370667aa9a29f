#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: host
# vc-timeout: 400
#
# The fencing actions that reset a machine, each in a guest of its own
# (tools/vmrun runs qemu with -no-reboot: a reset ends qemu, and vmrun
# returns 125, "no result", with the serial log in DIR/console.log).  The
# guests run this same script (VC_IN_GUEST=1, "guest CASE") as one node
# in a netns with a veth holding 198.18.0.1, and report through files in
# $VC_SHARED; the host makes the test points.
#
#   reboot    keyed node, armed "reboot" with a 1000 ms agent timeout,
#             petted every 100 ms; it writes a marker (file + kernel log
#             line), then stops petting: the guest resets.  The console
#             shows the marker, then the module's fence line, and no
#             panic; the script never finished.  The marker proves the
#             guest got that far, so a guest that crashed early fails.
#   panic     the same with the "panic" action: the console shows the
#             marker, then the fence line, then the kernel's panic with the
#             module's message (the guest boots with panic=-1, so the
#             panic resets it at once).
#   escalate  "kill" with a 500 ms kill bound and two registered
#             processes: an ordinary sleep, and a sleep frozen with the
#             cgroup v1 freezer (a frozen task ignores SIGKILL until
#             thawed -- first shown on a second, unregistered frozen
#             sleep, which survives kill -9 with SIGKILL pending).  Pets
#             stop: the fence kills, the frozen one stays, and after the
#             kill bound the module restarts the machine (fence line,
#             escalation line).
#   kill      "kill" where every registered process can die: the
#             registered sleep dies of SIGKILL, an unregistered one
#             survives, the instance is fenced (reason agent) and refuses
#             pets, nothing escalates, and the guest finishes normally
#             (STOP clears the fence, rmmod works).

set -uo pipefail
. "$(dirname "$0")/lib.sh"

VCTL=$REPO/user/vclusterctl
AGENT_MS=1000
KILL_BOUND_MS=500

# Kernel log lines of kernel/fence.c (pr_fmt "vcluster: "):
FENCE_LINE='vcluster: node 1 incarnation [0-9]+: fencing \(agent not petting\), action'
KILL_LINE='vcluster: node 1: SIGKILL sent to'
ESCALATE_LINE='vcluster: node 1: registered processes still there'
RESTART_LINE='vcluster: node 1: fenced: emergency restart'
GONE_LINE='vcluster: node 1: every registered process is gone'

# ------------------------------------------------------------ guest role

ctl()
{
	ip netns exec n1 "$VCTL" "$@"
}

kmsg()
{
	echo "<2>vc-test: $*" >/dev/kmsg
}

# g_node KEYED: one running node 1 in netns n1 (198.18.0.1 on a veth).
g_node()
{
	modprobe vcluster || return 1
	ip netns add n1 || return 1
	ip -n n1 link set lo up
	ip -n n1 link add l0 type veth peer name l0p || return 1
	ip -n n1 addr add 198.18.0.1/24 dev l0 || return 1
	ip -n n1 link set l0 up
	ip -n n1 link set l0p up
	ctl node set cluster-id 7 node-id 1 interval-ms 100 misses 10 \
		link 0 198.18.0.1 || return 1
	if [[ $1 == 1 ]]; then
		head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n' >/tmp/vc.key
		ctl key set 1 /tmp/vc.key || return 1
	else
		ctl node set insecure 1 || return 1
	fi
	ctl start
}

fence_field()
{
	ctl fence show --json | jq -r ".$1"
}

# g_pet_then_stop CASE ACTION [ARM ARGS...]: arm, pet every 100 ms for
# 2 s (twice the agent timeout) and check nothing fired, then write the
# marker and stop petting.
g_pet_then_stop()
{
	local c=$1 pet j

	shift
	ctl fence arm "$@" || return 1
	# Not through ctl(): $! must be the petting process itself (a
	# function would run in a subshell, and killing that leaves the
	# pets going).  chrt and ip netns exec exec the command.  Real-time
	# priority, as an agent would use: this script's own commands on
	# the guest's one CPU must not delay a pet towards the timeout.
	chrt -f 10 ip netns exec n1 "$VCTL" fence pet --every 100 --for 60 &
	pet=$!
	sleep 2
	j=$(ctl fence show --json)
	if [[ $(jq -r '"\(.armed) \(.fenced) \(.fence_count)"' <<<"$j") == "true false 0" ]] &&
	   kill -0 "$pet"; then
		signal "$c-petted"
	else
		echo "$j"
	fi
	# The marker, strictly before the pets stop.
	kmsg "$c: stopped petting"
	signal "$c-stopped-petting"
	kill "$pet"
	wait "$pet" 2>/dev/null
	pgrep -f 'fence pet' && kmsg "$c: a pet loop is still running"
	return 0
}

# g_await_reset CASE: the guest should be gone within a few seconds.
g_await_reset()
{
	local i

	for ((i = 0; i < 300; i++)); do
		sleep 0.1
	done
	kmsg "$1: still alive 30 s after the pets stopped"
	signal "$1-survived"
	ctl fence show
	exit 1
}

fenced_now()
{
	[[ $(fence_field fenced) == true ]]
}

alive_not_zombie()
{
	local s

	s=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $s && $s != Z && $s != X ]]
}

# sigkill_pending PID: SIGKILL (bit 8) in the shared pending set.
sigkill_pending()
{
	local m

	m=$(awk '/^ShdPnd:/ { print $2 }' "/proc/$1/status") || return 1
	(((16#$m >> 8) & 1))
}

g_reboot()
{
	g_node 1 || exit 1
	g_pet_then_stop reboot reboot agent-timeout-ms "$AGENT_MS"
	g_await_reset reboot
}

g_panic()
{
	g_node 1 || exit 1
	g_pet_then_stop panic panic agent-timeout-ms "$AGENT_MS"
	g_await_reset panic
}

g_escalate()
{
	local a f p frz=/tmp/freezer

	g_node 0 || exit 1
	sleep 1000 &
	a=$!
	sleep 1000 &
	f=$!
	sleep 1000 &
	p=$!
	mkdir -p "$frz"
	mount -t cgroup -o freezer none "$frz" || exit 1
	mkdir "$frz/g" || exit 1
	echo "$f" >"$frz/g/tasks"
	echo "$p" >"$frz/g/tasks"
	echo FROZEN >"$frz/g/freezer.state"
	wait_for -t 10 grep -qx FROZEN "$frz/g/freezer.state" || exit 1
	# The proof, on the unregistered one: SIGKILL stays pending.
	kill -KILL "$p"
	sleep 1
	if alive_not_zombie "$p" && sigkill_pending "$p"; then
		signal escalate-frozen-ignores-kill
	fi
	ctl proc add "$a" "$f" || exit 1
	[[ $(fence_field procs) == 2 ]] && signal escalate-registered
	g_pet_then_stop escalate kill agent-timeout-ms "$AGENT_MS" \
		kill-bound-ms "$KILL_BOUND_MS"
	g_await_reset escalate
}

g_kill()
{
	local a b rc out j

	g_node 0 || exit 1
	sleep 1000 &
	a=$!
	sleep 1000 &
	b=$!
	ctl proc add "$a" || exit 1
	g_pet_then_stop kill kill agent-timeout-ms "$AGENT_MS" \
		kill-bound-ms "$KILL_BOUND_MS"
	if wait_for -t 20 fenced_now; then
		j=$(ctl fence show --json)
		echo "$j"
		[[ $(jq -r .fence_reason <<<"$j") == agent &&
		   $(jq -r .action <<<"$j") == kill ]] && signal kill-fenced-agent
	fi
	if wait_for -t 10 not alive_not_zombie "$a"; then
		rc=0
		wait "$a" || rc=$?
		echo "registered sleep exit status $rc"
		((rc == 128 + 9)) && signal kill-registered-killed
	fi
	# Past the kill bound (and the module's last look at the processes):
	if wait_for -t 10 eval "dmesg | grep -q 'every registered process is gone'"; then
		sleep "$(((KILL_BOUND_MS + 999) / 1000))"
		alive_not_zombie "$b" && signal kill-unregistered-survives
	fi
	out=$(ctl fence pet 2>&1)
	rc=$?
	echo "pet after the fence: exit $rc: $out"
	((rc != 0)) && grep -q fenced <<<"$out" && signal kill-pet-refused
	kill "$b"
	ctl stop && modprobe -r vcluster && ! test -e /sys/module/vcluster &&
		signal kill-stop-rmmod
	exit 0
}

if [[ ${VC_IN_GUEST:-} == 1 ]]; then
	[[ ${1:-} == guest ]] || exit 2
	case ${2:-} in
	reboot) g_reboot ;;
	panic) g_panic ;;
	escalate) g_escalate ;;
	kill) g_kill ;;
	*) exit 2 ;;
	esac
	exit 1
fi

# ------------------------------------------------------------ host role

[[ $(id -u) == 0 ]] || skip_all "needs root"
REL=${VC_KERNEL:-6.1}
KO=${VC_KO-}
if [[ -z ${VC_KO+set} ]]; then
	# Not run by tests/run: the module tools/vmrun would offer.
	r=$(readlink -f "${VC_CACHE:-/var/cache/vcluster}/kernels/$REL" 2>/dev/null)
	KO=${VC_BUILD:-$REPO/build}/${r##*/}/vcluster.ko
	[[ -n $r && -e $KO ]] || KO=
fi
[[ -n $KO && -r $KO ]] || skip_all "vcluster.ko not built for $REL"
VC_LOGDIR=${VC_LOGDIR:-$(mktemp -d /tmp/vcreboot.XXXXXX)}
mkdir -p "$VC_LOGDIR"
VC_SHARED=$VC_LOGDIR/shared
rm -rf "$VC_SHARED"
mkdir -p "$VC_SHARED"
export VC_SHARED

plan 24

# run_guest I CASE: boot guest I running CASE; its vmrun exit code in RC.
RC=
run_guest()
{
	local i=$1 c=$2

	rm -rf "$VC_LOGDIR/g$i"
	RC=0
	"$VMRUN" -q --kernel "$REL" --timeout 180 --shared "$VC_SHARED" \
		--out "$VC_LOGDIR/g$i" --ko "$KO" -- "$0" guest "$c" \
		2>"$VC_LOGDIR/g$i.vmrun.log" || RC=$?
	diag "guest $i ($c): vmrun exit $RC after $(cat "$VC_LOGDIR/g$i/vmrun.secs" 2>/dev/null) s"
	sed -n 's/^/  | /p' "$VC_LOGDIR/g$i/output" 2>/dev/null | head -n 40 |
		while IFS= read -r l; do diag "$l"; done
}

con() { cat "$VC_LOGDIR/g$1/console.log" 2>/dev/null; }

# line_no I ERE: first console line matching, or nothing.
line_no()
{
	con "$1" | grep -anE -m1 "$2" | cut -d: -f1
}

# in_order I ERE...: each pattern appears, in this order.
in_order()
{
	local i=$1 prev=0 n

	shift
	for p in "$@"; do
		n=$(line_no "$i" "$p")
		[[ -n $n ]] || { echo "no line matches: $p"; return 1; }
		((n > prev)) || { echo "out of order: $p (line $n, before $prev)"; return 1; }
		prev=$n
	done
}

reset_no_result()
{
	[[ $RC == 125 && ! -e $VC_LOGDIR/g$1/rc ]] ||
		{ echo "vmrun exit $RC, rc file: $(cat "$VC_LOGDIR/g$1/rc" 2>&1)"; return 1; }
	[[ ! -e $VC_SHARED/$2-survived ]] || { echo "the guest said it survived"; return 1; }
}

no_panic()
{
	! con "$1" | grep -aE 'Kernel panic|Oops|BUG:|Call Trace'
}

# ms_at_least I ERE-with-one-group MIN: the number the fence logged.
ms_at_least()
{
	local v

	v=$(con "$1" | sed -nE "s/.*$2.*/\\1/p" | head -n1)
	[[ -n $v ]] || { echo "no match for $2"; return 1; }
	echo "logged $v ms (at least $3)"
	((v >= $3))
}

# ----------------------------------------------------------------- reboot
run_guest 1 reboot
check "reboot: armed with a ${AGENT_MS} ms agent timeout, 2 s of pets every 100 ms kept it unfenced" \
	test -e "$VC_SHARED/reboot-petted"
check "reboot: the guest wrote its marker before it stopped petting" \
	test -e "$VC_SHARED/reboot-stopped-petting"
check "reboot: the guest reset (vmrun 125, the script never finished)" \
	reset_no_result 1 reboot
check "reboot: console shows the marker, then the fence line (action reboot), then the restart" \
	in_order 1 'vc-test: reboot: stopped petting' "$FENCE_LINE reboot" "$RESTART_LINE"
check "reboot: the fence came no earlier than the agent timeout after the last pet" \
	ms_at_least 1 'fencing \(agent not petting\).*last pet -([0-9]+) ms from now' "$AGENT_MS"
check "reboot: no kernel panic or oops on the console" no_panic 1

# ------------------------------------------------------------------ panic
run_guest 4 panic
check "panic: 2 s of pets every 100 ms kept it unfenced" \
	test -e "$VC_SHARED/panic-petted"
check "panic: the guest wrote its marker before it stopped petting" \
	test -e "$VC_SHARED/panic-stopped-petting"
check "panic: the guest reset (vmrun 125, the script never finished)" \
	reset_no_result 4 panic
check "panic: console shows the marker, the fence line (action panic), then the panic" \
	in_order 4 'vc-test: panic: stopped petting' "$FENCE_LINE panic" \
		'Kernel panic - not syncing: vcluster: fenced: node 1'
# This console holds the panic the case asked for (and its stack dump);
# tests/run scans every g*/ console for kernel trouble, so it moves aside.
rm -rf "$VC_LOGDIR/expected-panic"
mv "$VC_LOGDIR/g4" "$VC_LOGDIR/expected-panic"

# --------------------------------------------------------------- escalate
run_guest 2 escalate
check "escalate: a frozen (cgroup v1 freezer), unregistered sleep ignores kill -9 (alive 1 s later, SIGKILL pending)" \
	test -e "$VC_SHARED/escalate-frozen-ignores-kill"
check "escalate: an ordinary and a frozen sleep registered; 2 s of pets kept it unfenced" \
	eval 'test -e "$VC_SHARED/escalate-registered" && test -e "$VC_SHARED/escalate-petted"'
check "escalate: the guest wrote its marker before it stopped petting" \
	test -e "$VC_SHARED/escalate-stopped-petting"
check "escalate: the guest reset (vmrun 125, the script never finished)" \
	reset_no_result 2 escalate
check "escalate: console: marker, fence line (action kill), SIGKILL to 2 of 2, escalation, restart" \
	in_order 2 'vc-test: escalate: stopped petting' "$FENCE_LINE kill" \
	"$KILL_LINE 2 of 2 " "$ESCALATE_LINE" "$RESTART_LINE"
check "escalate: restarted no earlier than the kill bound, no panic" \
	eval 'ms_at_least 2 "still there ([0-9]+) ms after SIGKILL" "$KILL_BOUND_MS" && no_panic 2'

# ------------------------------------------------------------------- kill
run_guest 3 kill
check "kill: 2 s of pets kept it unfenced" test -e "$VC_SHARED/kill-petted"
check "kill: pets stopped: fenced, reason agent, action kill" \
	test -e "$VC_SHARED/kill-fenced-agent"
check "kill: the registered sleep died of SIGKILL (status 137)" \
	test -e "$VC_SHARED/kill-registered-killed"
check "kill: the unregistered sleep survives past the kill bound" \
	test -e "$VC_SHARED/kill-unregistered-survives"
check "kill: pets are refused once fenced" test -e "$VC_SHARED/kill-pet-refused"
check "kill: STOP clears the fenced instance, then rmmod works" \
	test -e "$VC_SHARED/kill-stop-rmmod"
check "kill: console: fence line (action kill), SIGKILL to 1 of 1, all gone; no escalation, no restart" \
	eval 'in_order 3 "$FENCE_LINE kill" "$KILL_LINE 1 of 1 " "$GONE_LINE" &&
	      ! con 3 | grep -aE "$ESCALATE_LINE|$RESTART_LINE"'
check "kill: the guest did not reset and finished normally (exit 0)" test "$RC" = 0
finish
