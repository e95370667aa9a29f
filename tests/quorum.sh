#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: guest
# vc-timeout: 400
#
# Quorum and the quorum watchdog (Documentation/fencing.rst, rules 2 and 3),
# with the "log" action so the guest survives its own fencing:
#
#   - an even expected-votes value is refused with the reason;
#   - five voters, partition 2|3: the two fence (reason quorum) within
#     dead time + quorum timeout + two ticks of the cut, not before; the
#     three stay quorate and never fence; healed and restarted, all five
#     are quorate again;
#   - five voters with one stopped, the other four split 2|2: both halves
#     fence;
#   - one-way loss 1 -> 2 in five nodes: whoever fences does so within the
#     bound, and no two nodes that still count as quorate and unfenced
#     disagree about each other.

set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vc.sh"

require_module
at_exit vc_teardown

QUORUM_TIMEOUT_MS=1000
# TCG stalls: a fence may be observed this much later than the bound.
SLACK_MS=700
export VC_EXPECTED_VOTES=5

plan 16

load_module || bail_out "cannot load $VC_MODULE"

arm_all()
{
	local i

	for i in "$@"; do
		vc_ctl "$i" fence arm log quorum-timeout-ms $QUORUM_TIMEOUT_MS || return 1
	done
}

quorate_all()
{
	local i

	for i in "$@"; do
		[ "$(vc_node_field "$i" quorate)" = true ] || return 1
	done
}

fenced_for()		# NODE REASON: it fired at least once, for REASON
{
	[ "$(vc_fence_field "$1" fence_count)" -ge 1 ] &&
		[ "$(vc_fence_field "$1" fence_reason)" = "$2" ]
}

all_fenced_for()	# REASON NODE...
{
	local reason=$1 i

	shift
	for i in "$@"; do
		fenced_for "$i" "$reason" || return 1
	done
}

never_fenced()		# NODE...
{
	local i

	for i in "$@"; do
		[ "$(vc_fence_field "$i" fence_count)" -eq 0 ] || return 1
	done
}

# fired_within NODE LO_MS HI_MS: it fired no sooner than LO after the
# fault was in place (T_AFTER) and no later than HI after it was asked
# for (T_BEFORE): the nft transaction that makes the fault takes a
# while under TCG, and each bound is measured from its safe side.
fired_within()
{
	local at

	at=$(vc_fence_field "$1" fenced_at_ns)
	echo "node $1 fired $(((at - T_BEFORE) / 1000000)) ms after the fault was asked for," \
	     "$(((at - T_AFTER) / 1000000)) ms after it was in place (allowed $2 .. $3)"
	[ $((at - T_AFTER)) -ge $(($2 * 1000000)) ] &&
		[ $((at - T_BEFORE)) -le $(($3 * 1000000)) ]
}

# fault RULES: apply the filter rules, noting T_BEFORE and T_AFTER.
fault()
{
	vc_filter_init
	T_BEFORE=$(vc_now_ns)
	vc_apply "$1"
	T_AFTER=$(vc_now_ns)
}

# --- even expected votes ------------------------------------------------------
vc_switch
vc_netns_node 1 1
even_refused()
{
	! vc_ctl 1 node set expected-votes 4 >/tmp/even.out 2>&1 &&
		grep -qi "witness\|odd" /tmp/even.out
}
check "expected-votes 4 is refused, and the reason names the fix" even_refused
vc_teardown

# --- 2|3 partition -------------------------------------------------------------
vc_cluster 5 1 || bail_out "cannot set up 5 nodes"
wait_for -t 60 quorate_all 1 2 3 4 5
check "5 voters: all quorate" quorate_all 1 2 3 4 5
check "votes seen: 5 of 5" test "$(vc_node_field 1 votes_seen)" -eq 5
arm_all 1 2 3 4 5 || bail_out "cannot arm"

DEAD_MS=$((VC_INTERVAL_MS * VC_MISSES))
fault "$(_vc_partition_rules "4 5" "1 2 3")"
wait_for -t 20 all_fenced_for quorum 4 5
check "partition 2|3: nodes 4 and 5 fence, reason quorum" \
	all_fenced_for quorum 4 5
# Not before: the peers were last heard at most one interval before the
# fault; T_AFTER trails the fault by the nft exit and the clock's 10 ms
# resolution (200 ms allowed for both under TCG).
lo=$((DEAD_MS + QUORUM_TIMEOUT_MS - VC_INTERVAL_MS - 200))
hi=$((DEAD_MS + QUORUM_TIMEOUT_MS + 2 * VC_INTERVAL_MS + SLACK_MS))
check "... node 4 within the bound, not before" fired_within 4 $lo $hi
check "... node 5 within the bound, not before" fired_within 5 $lo $hi
check "the three stay quorate" quorate_all 1 2 3
check "the three never fenced" never_fenced 1 2 3

# Healing is not enough: 4 and 5 were declared DOWN in this life.  They
# restart (STOP while armed fences once more, with "log" harmlessly).
vc_unblock
for i in 4 5; do
	vc_ctl $i stop && vc_ctl $i start || bail_out "cannot restart node $i"
done
wait_for -t 60 quorate_all 1 2 3 4 5
check "healed and restarted: all five quorate again" quorate_all 1 2 3 4 5
vc_teardown

# --- one down, 2|2 -------------------------------------------------------------------
vc_cluster 5 1 || bail_out "cannot set up 5 nodes"
wait_for -t 60 quorate_all 1 2 3 4 5
vc_ctl 5 stop
four_of_five()
{
	[ "$(vc_node_field 1 votes_seen)" -eq 4 ]
}
wait_for -t 20 four_of_five
check "node 5 stopped: the others still quorate with 4 of 5" \
	quorate_all 1 2 3 4
arm_all 1 2 3 4 || bail_out "cannot arm"
vc_partition "1 2" "3 4"
wait_for -t 20 all_fenced_for quorum 1 2 3 4
check "2|2 split of four: all four fence, reason quorum" \
	all_fenced_for quorum 1 2 3 4
check "... and none is quorate" eval '! quorate_all 1 && ! quorate_all 2 && ! quorate_all 3 && ! quorate_all 4'
vc_teardown

# --- one-way loss ----------------------------------------------------------------------
vc_cluster 5 1 || bail_out "cannot set up 5 nodes"
wait_for -t 60 quorate_all 1 2 3 4 5
arm_all 1 2 3 4 5 || bail_out "cannot arm"
fault "$(_vc_block_rules 1 2)"
one_of_them_fenced()
{
	[ "$(vc_fence_field 1 fence_count)" -ge 1 ] ||
		[ "$(vc_fence_field 2 fence_count)" -ge 1 ]
}
wait_for -t 20 one_of_them_fenced
check "one-way loss 1 -> 2: node 1 or node 2 fences" one_of_them_fenced

# A node that fenced has left; every other quorate node must see every
# other such node UP (one view, not two).
consistent_views()
{
	local a b live=""

	for a in 1 2 3 4 5; do
		[ "$(vc_fence_field $a fence_count)" -eq 0 ] &&
			[ "$(vc_node_field $a quorate)" = true ] && live="$live $a"
	done
	echo "quorate and unfenced:$live"
	for a in $live; do
		for b in $live; do
			[ "$a" = "$b" ] && continue
			[ "$(vc_peer_state "$a" "$b")" = up ] ||
				{ echo "node $a sees node $b $(vc_peer_state "$a" "$b")"; return 1; }
		done
	done
}
check "no two quorate, unfenced nodes disagree" consistent_views

fenced_in_bound()
{
	local i

	for i in 1 2 3 4 5; do
		[ "$(vc_fence_field $i fence_count)" -eq 0 ] && continue
		fired_within $i 0 $((DEAD_MS + 2 * VC_INTERVAL_MS + SLACK_MS)) ||
			return 1
	done
}
check "whoever fenced did so within dead time + two ticks" fenced_in_bound
check "nodes 3, 4, 5 never fenced" never_fenced 3 4 5
finish
