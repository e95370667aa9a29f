#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: guest
#
# Membership between netns nodes in one guest kernel: nodes see each other
# UP, one link of two lost keeps the peer UP with a link event, all links
# lost makes it DOWN, a DOWN node stays refused in its old life and comes
# back with a higher incarnation, and 16 nodes form a full mesh.

set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vc.sh"

require_module

at_exit vc_teardown

plan 12

load_module || bail_out "cannot load $VC_MODULE"

# --- 4 nodes, two links (IPv4 + IPv6) ---------------------------------------
N=4
vc_cluster $N 2 || bail_out "cannot set up a $N-node cluster"

wait_for -t 20 vc_all_up $N
check "$N nodes on two links all see each other UP" vc_all_up $N

rtt_known()
{
	vc_ctl 1 peer show 2 --json | jq -e '[.links[] | select(.rtt_us > 0)] | length == 2' >/dev/null
}
wait_for -t 10 rtt_known
check "RTT measured on both links" rtt_known

# Events seen by node 1 from here on.
EV=/tmp/vc/n1.events
ip netns exec n1 "$VCTL" monitor --json --ready /tmp/vc/n1.ready >"$EV" &
MON=$!
at_exit kill "$MON"
wait_for -t 10 test -e /tmp/vc/n1.ready

vc_cut 3 1
link1_down()
{
	[ "$(vc_ctl 1 peer show 3 --json | jq -r '.links[] | select(.id == 1) | .state')" = down ]
}
wait_for -t 10 link1_down
check "one of two links cut: the link is reported down" link1_down
check "one of two links cut: the peer stays UP" \
	test "$(vc_peer_state 1 3)" = up

link_event()
{
	jq -s -e "map(select(.event == \"$1\" and .node_id == 3 and .link_id == 1)) | length > 0" "$EV" >/dev/null ||
		{ echo "monitor $(kill -0 $MON 2>/dev/null && echo alive || echo gone), its events:"; tail -n 20 "$EV"; return 1; }
}
wait_for -t 5 link_event link-down
check "a LINK_DOWN event names node 3 and link 1" link_event link-down

vc_heal 3 1
wait_for -t 10 link_event link-up
check "link healed: LINK_UP event" link_event link-up

# All links of node 3 cut: everyone else reports it DOWN, by timeout.
old_inc=$(vc_peer_field 1 3 incarnation)
vc_cut 3 0
vc_cut 3 1
down_everywhere()
{
	local i

	for i in 1 2 4; do
		[ "$(vc_peer_state "$i" 3)" = down ] || return 1
	done
}
wait_for -t 10 down_everywhere
check "node 3 cut off: nodes 1, 2 and 4 report it DOWN" down_everywhere

down_event()
{
	jq -s -e 'map(select(.event == "peer-down" and .node_id == 3 and .reason == "timeout")) | length > 0' "$EV" >/dev/null ||
		{ echo "its events:"; tail -n 20 "$EV"; return 1; }
}
wait_for -t 5 down_event
check "PEER_DOWN event for node 3 with reason timeout" down_event

# Node 3's links come back but its life is over: refused and counted.
refused_before=$(vc_peer_field 1 3 rx_refused)
vc_heal 3 0
vc_heal 3 1
refused_grows()
{
	[ "$(vc_peer_field 1 3 rx_refused)" -gt "$refused_before" ]
}
wait_for -t 10 refused_grows
check "healed node in its old life: refused and counted" refused_grows
check "healed node in its old life: still DOWN" \
	test "$(vc_peer_state 1 3)" = down

# A restart gives it a new life that everyone accepts.
vc_ctl 3 stop && vc_ctl 3 start
new_life_up()
{
	[ "$(vc_peer_state 1 3)" = up ] &&
		[ "$(vc_peer_field 1 3 incarnation)" -gt "$old_inc" ]
}
wait_for -t 20 new_life_up
check "node 3 restarted: UP again with a higher incarnation" new_life_up

kill "$MON" 2>/dev/null
vc_teardown

# --- 16 nodes, one link ------------------------------------------------------
N=16
vc_cluster $N 1 || bail_out "cannot set up a $N-node cluster"
wait_for -t 60 vc_all_up $N
check "$N nodes all see each other UP" vc_all_up $N
finish
