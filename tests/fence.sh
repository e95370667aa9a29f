#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: guest
# vc-timeout: 400
#
# The fencing watchdog between two nodes (Documentation/fencing.rst,
# rules 5 to 8):
#
#   - the agent stops petting: a pre-timeout warning, then the fence, in
#     that order and on time;
#   - heartbeats advertise the armed state, action and timing, and the
#     peer turns them into a fence window on its own clock (exact sum);
#   - "kill": registered processes die (and only those), heartbeats stop
#     at once, pets are refused, and only a restart with a higher
#     incarnation brings the node back;
#   - while armed nothing stops heartbeats quietly: STOP fences, netns exit
#     fences (and kills), rmmod is refused, disarm is refused with nowayout.

set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vc.sh"

require_module
at_exit vc_teardown
at_exit pkill -f "sleep 4242"

plan 22

load_module || bail_out "cannot load $VC_MODULE"
vc_cluster 2 1 || bail_out "cannot set up 2 nodes"
wait_for -t 30 vc_all_up 2 || bail_out "nodes never came UP"

EV=/tmp/vc/n1.events
ip netns exec n1 "$VCTL" monitor --json --ready /tmp/vc/n1.ready >"$EV" &
MON=$!
at_exit kill $MON
wait_for -t 10 test -e /tmp/vc/n1.ready

event_index()		# EVENT [REASON]: line number of its first occurrence
{
	grep -n "\"event\":\"$1\"${2:+.*\"fence_reason\":\"$2\"}" "$EV" | head -1 | cut -d: -f1
}

# --- agent watchdog: pre-timeout, then the fence ------------------------------
vc_ctl 1 fence arm log agent-timeout-ms 1500 pretimeout-ms 700 ||
	bail_out "cannot arm"
ip netns exec n1 "$VCTL" fence pet --every 100 &
PETTER=$!
at_exit kill -CONT $PETTER
at_exit kill $PETTER
# The agent hangs: its petting loop is frozen, not gone.
sleep 1		# let it pet for a while: the scenario, not a wait
kill -STOP $PETTER
wait_for -t 10 eval '[ -n "$(event_index fence-fired agent)" ]'
check "agent frozen: fence-fired, reason agent" \
	test -n "$(event_index fence-fired agent)"
check "... the pre-timeout warning came first" \
	test "$(event_index fence-pretimeout)" -lt "$(event_index fence-fired agent)"
on_time()
{
	local pet fired

	pet=$(vc_fence_field 1 last_pet_ns)
	fired=$(vc_fence_field 1 fenced_at_ns)
	echo "fired $(((fired - pet) / 1000000)) ms after the last pet (timeout 1500)"
	[ $((fired - pet)) -ge 1500000000 ] && [ $((fired - pet)) -le 2500000000 ]
}
check "... 1.5 s after the last pet, not before" on_time
kill -CONT $PETTER
kill $PETTER
vc_ctl 1 fence disarm

# --- what node 2 learns from node 1's heartbeats -------------------------------
vc_ctl 1 node set expected-votes 3 || bail_out "cannot set expected votes"
vc_ctl 1 fence arm kill quorum-timeout-ms 2000 kill-bound-ms 800 ||
	bail_out "cannot arm kill"
strong_seen()
{
	[ "$(vc_peer_field 2 1 fence_action)" = kill ] &&
		[ "$(vc_peer_field 2 1 fence_strong)" = true ]
}
wait_for -t 10 strong_seen
check "node 2 sees node 1 armed with kill: strong fencing" strong_seen
window_exact()
{
	local j heard by want

	j=$(vc_ctl 2 peer show 1 --json)
	heard=$(jq -r .last_heard_ns <<<"$j")
	by=$(jq -r .fenced_by_ns <<<"$j")
	want=$(jq -r '(.dead_ms + .quorum_timeout_ms + .kill_bound_ms)' <<<"$j")
	want=$(((want + 2 * VC_INTERVAL_MS + $(vc_node_field 2 fence_margin_ms)) * 1000000))
	echo "fenced_by - last_heard = $((by - heard)) ns, expected $want"
	[ $((by - heard)) -eq "$want" ]
}
check "its window = last heard + dead + quorum timeout + kill bound + 2 ticks + margin" \
	window_exact
vc_ctl 1 fence disarm
unarmed_seen()
{
	[ "$(vc_peer_field 2 1 fence_action)" = none ] &&
		[ "$(vc_peer_field 2 1 fenced_by_ns)" -eq 0 ]
}
wait_for -t 10 unarmed_seen
check "disarmed: node 2 sees no fencing and no window" unarmed_seen

# --- kill: registered processes die, the rest live, heartbeats stop ------------
sleep 4242 & VICTIM1=$!
sleep 4242 & VICTIM2=$!
sleep 4242 & BYSTANDER=$!
vc_ctl 1 proc add $VICTIM1 $VICTIM2 || bail_out "cannot register"
check "two processes registered" test "$(vc_fence_field 1 procs)" -eq 2
vc_ctl 1 fence arm kill agent-timeout-ms 1000 kill-bound-ms 1000 ||
	bail_out "cannot arm kill"
gone()
{
	! kill -0 "$1" 2>/dev/null
}
wait_for -t 10 eval 'gone $VICTIM1 && gone $VICTIM2'
wait $VICTIM1 $VICTIM2 2>/dev/null
check "kill: the registered processes are gone" eval 'gone $VICTIM1 && gone $VICTIM2'
check "... the unregistered one lives" kill -0 $BYSTANDER
check "... node 1 is fenced, reason agent" \
	test "$(vc_fence_field 1 fenced) $(vc_fence_field 1 fence_reason)" = "true agent"
peer1_down()
{
	[ "$(vc_peer_state 2 1)" = down ]
}
wait_for -t 10 peer1_down
check "... its heartbeats stopped: node 2 reports it DOWN" peer1_down
check "... a pet is refused" not vc_ctl 1 fence pet
old_inc=$(vc_peer_field 2 1 incarnation)
vc_ctl 1 stop && vc_ctl 1 start
new_life()
{
	[ "$(vc_peer_state 2 1)" = up ] &&
		[ "$(vc_peer_field 2 1 incarnation)" -gt "$old_inc" ]
}
wait_for -t 30 new_life
check "stop + start: back with a higher incarnation, unfenced" new_life

# --- while armed, nothing stops heartbeats quietly ------------------------------
vc_ctl 1 fence arm log
vc_ctl 1 stop
check "STOP while armed: fence-fired, reason stopped" \
	test -n "$(event_index fence-fired stopped)"
check "... and the node stopped" test "$(vc_node_field 1 state)" = stopped
vc_ctl 1 start

vc_ctl 1 fence arm log nowayout
check "nowayout: disarm refused" not vc_ctl 1 fence disarm
check "... rmmod refused while armed" not rmmod vcluster
check "... the module is still there" test -d /sys/module/vcluster

# Node 2 armed with kill, one registered process outside its namespace;
# deleting the namespace must fence and kill it.
sleep 4242 & VICTIM3=$!
vc_ctl 2 proc add $VICTIM3
vc_ctl 2 node set expected-votes 3
vc_ctl 2 fence arm kill quorum-timeout-ms 5000
check "node 2 armed with kill" test "$(vc_fence_field 2 armed)" = true
ip netns del n2
wait_for -t 10 gone $VICTIM3
wait $VICTIM3 2>/dev/null
check "netns of an armed node deleted: its registered process was killed" \
	gone $VICTIM3
check "... the kernel log names the fence" \
	eval 'dmesg | grep -q "vcluster.*netns"'

# Node 1 is armed with nowayout: only the fence of a netns exit ends it.
# (Nothing may still run inside the namespace, or it would not exit.)
kill $MON
ip netns del n1
unused()
{
	[ "$(cat /sys/module/vcluster/refcnt)" -eq 0 ]
}
wait_for -t 10 unused
check "after its netns is gone, rmmod works" rmmod vcluster
finish
