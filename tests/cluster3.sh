#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: host
# vc-timeout: 600
#
# Three guests, one cluster node each, on one bridge (guest I is node I at
# 198.18.1.I).  The host plays the faults, the guests (this same script,
# "guest" role) check what their module reports and answer through files
# in $VC_SHARED:
#
#   one-way loss  frames to guest 2 dropped: 2 sees 1 and 3 DOWN by
#                 timeout, 1 and 3 see 2 DOWN because it lists them DOWN;
#                 healed, they keep refusing each other until 2 restarts
#   freeze        guest 3, armed (log action, quorum timeout 1 s), is
#                 SIGSTOPped for 3 s: 1 and 2 report it DOWN; after SIGCONT
#                 its first act is to fence (quorum deadline passed) before
#                 it counts a single fresh vote, and its old life is refused
#                 (counted) until it restarts with a higher incarnation
#   power loss    guest 3 killed with SIGKILL: 1 and 2 report it DOWN

set -uo pipefail
. "$(dirname "$0")/lib.sh"

VCTL=$REPO/user/vclusterctl
# Three TCG guests share two cores here: a slower beat than production so
# that scheduling noise never looks like a death.
INTERVAL_MS=100
MISSES=10

peers_of()
{
	local p

	for p in 1 2 3; do
		[[ $p == "$1" ]] || echo "$p"
	done
}

g_state()
{
	"$VCTL" peer show "$1" --json | jq -r .state
}

g_field()
{
	"$VCTL" peer show "$1" --json | jq -r ".$2"
}

g_states_are()		# STATE PEER...
{
	local want=$1 p

	shift
	for p in "$@"; do
		[[ $(g_state "$p") == "$want" ]] || return 1
	done
}

g_refused_grows()	# PEER: its rx_refused counter moves
{
	local before

	before=$(g_field "$1" rx_refused)
	wait_for -t 10 eval "[[ \$(g_field $1 rx_refused) -gt $before ]]"
}

g_setup()
{
	local me=$VC_GUEST conf=/tmp/vc.conf p

	load_module || return 1
	{
		printf '[node]\ncluster-id = 9\nnode-id = %s\n' "$me"
		printf 'interval-ms = %s\nmisses = %s\n' $INTERVAL_MS $MISSES
		printf 'link0 = 198.18.1.%s\n' "$me"
		printf 'expected-votes = 3\nkey-file = %s\n' "$VC_SHARED/cluster.key"
		for p in $(peers_of "$me"); do
			printf '\n[peer %s]\nlink0 = 198.18.1.%s\n' "$p" "$p"
		done
	} >$conf
	"$VCTL" load --start $conf
}

# step NAME CHECK...: wait for the host's go NAME, then signal
# gME-NAME when CHECK succeeds within 30 s (or gME-NAME-failed).
step()
{
	local name=$1

	shift
	wait_signal -t 400 "$name" || return 1
	if wait_for -t 30 "$@"; then
		signal "g$VC_GUEST-$name"
	else
		signal "g$VC_GUEST-$name-failed"
		"$VCTL" peer list >&2
	fi
}

# After the freeze, the first event that is not the arming itself must be
# the quorum fence: it fenced before it counted a fresh vote.
fenced_first()
{
	local first

	first=$(grep -v '"event":"fence-armed"' /tmp/frozen.events | head -1)
	echo "first event after the freeze: $first" >&2
	jq -e '.event == "fence-fired" and .fence_reason == "quorum"' <<<"$first" >/dev/null
}

guest_role()
{
	local me=$VC_GUEST others

	others=$(peers_of "$me")
	g_setup || { signal "g$me-setup-failed"; return 1; }
	wait_for -t 120 g_states_are up $others && signal "g$me-up"

	case $me in
	2)	step oneway g_states_are down 1 3
		step oneway-healed g_refused_grows 1
		wait_signal -t 400 restart-2 && "$VCTL" stop && "$VCTL" start
		step rejoined g_states_are up 1 3 ;;
	*)	step oneway g_states_are down 2
		step oneway-healed g_refused_grows 2
		step rejoined g_states_are up $others ;;
	esac

	case $me in
	3)	wait_signal -t 400 arm3 &&
			"$VCTL" monitor --json --ready /tmp/ready >/tmp/frozen.events &
		wait_for -t 20 test -e /tmp/ready &&
			"$VCTL" fence arm log quorum-timeout-ms 1000 &&
			signal g3-armed
		step resumed g_states_are down 1 2
		fenced_first && signal g3-fenced-first
		"$VCTL" fence disarm
		wait_signal -t 400 restart-3 && "$VCTL" stop && "$VCTL" start
		step rejoined3 g_states_are up 1 2 ;;
	*)	step frozen g_states_are down 3
		step resumed g_refused_grows 3
		step rejoined3 g_states_are up $others
		step killed g_states_are down 3
		"$VCTL" peer show 3 >&2 ;;
	esac
	wait_signal -t 400 done
}

if [[ ${VC_IN_GUEST:-} == 1 ]]; then
	guest_role
	exit 0
fi

[[ $(id -u) == 0 ]] || skip_all "needs root (netns, taps)"
[[ -n ${VC_KO:-} ]] || skip_all "vcluster.ko not built for ${VC_KERNEL:-6.1}"
plan 19

# go NAME GUEST...: tell the guests to check step NAME; one point per guest.
go()
{
	local name=$1 g

	shift
	signal "$name"
	for g in "$@"; do
		if wait_signal -t 60 "g$g-$name"; then
			ok "$name: guest $g"
		else
			not_ok "$name: guest $g" "$(vm_log "$g" | tail -n 20)"
		fi
	done
}

vm_net_create 3
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$VC_SHARED/cluster.key"
for i in 1 2 3; do
	vm_start "$i" "$0" guest
done

all_up()
{
	local g

	for g in 1 2 3; do
		test -e "$VC_SHARED/g$g-up" || return 1
	done
}
check "3 guests, 3 nodes: everyone UP" wait_for -t 300 all_up

vm_cut 2 in
go oneway 1 2 3
vm_heal 2
go oneway-healed 1 3
signal restart-2
go rejoined 1 2 3

signal arm3
check "guest 3 armed (log, quorum timeout 1 s)" wait_signal -t 60 g3-armed
vm_pause 3
go frozen 1
sleep 3		# the length of the freeze is the scenario, not a wait
vm_resume 3
go resumed 1 3
check "resumed guest 3 fenced before it counted a fresh vote" \
	wait_signal -t 10 g3-fenced-first
signal restart-3
go rejoined3 1 3

vm_kill 3
go killed 1 2

signal done
vm_wait 1; rc1=$?
vm_wait 2; rc2=$?
check "guest kernel logs clean" "$VMRUN" check-dmesg \
	"$VC_LOGDIR"/g{1,2}/console.log "$VC_LOGDIR"/g{1,2}/dmesg
diag "guests exited $rc1 and $rc2"
finish
