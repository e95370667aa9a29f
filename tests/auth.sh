#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: guest
#
# Authenticated heartbeats (Documentation/security.rst, rule 9):
#   - a node that does not hold the cluster key is never accepted, and
#     every datagram it sends is counted as a bad MAC;
#   - the key is rotated on a running cluster without a membership flap;
#   - running without a key needs an explicit "insecure", which is shown.

set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vc.sh"

require_module
at_exit vc_teardown

plan 12

load_module || bail_out "cannot load $VC_MODULE"

# Three nodes; node 3 has a key of its own.
vc_switch
for i in 1 2 3; do
	vc_netns_node $i 1
	vc_write_conf $i 3 1
done
vc_key /tmp/vc/other.key
sed -i "s|^key-file = .*|key-file = /tmp/vc/other.key|" /tmp/vc/n3.conf
for i in 1 2 3; do
	vc_ctl $i load --start /tmp/vc/n$i.conf || bail_out "cannot start node $i"
done

pair_up()
{
	[ "$(vc_peer_state 1 2)" = up ] && [ "$(vc_peer_state 2 1)" = up ]
}
wait_for -t 30 pair_up
check "nodes 1 and 2 (same key) are UP" pair_up

bad_mac_from_3()
{
	[ "$(vc_ctl 1 peer show 3 --json | jq -r '.links[0].bad_mac')" -ge 20 ]
}
wait_for -t 30 bad_mac_from_3
check "node 3 (another key): its datagrams are counted as bad MACs" bad_mac_from_3
check "... and node 1 never accepted it" \
	eval '[ "$(vc_peer_state 1 3)" = new ] && [ "$(vc_peer_field 1 3 incarnation)" -eq 0 ]'
check "... nor node 2" test "$(vc_peer_state 2 3)" = new
check "a key is listed without its value" \
	eval 'vc_ctl 1 key list --json | jq -e ".keys[0].id == 1 and .keys[0].primary == true" && ! vc_ctl 1 key list --json | grep -q "$(cat $VC_KEY_FILE)"'

# --- rotation: new key everywhere, then primary everywhere, then drop old
for i in 1 2; do
	ip netns exec n$i "$VCTL" monitor --json >/tmp/vc/rot$i.events &
	at_exit kill $!
done
bad0=$(vc_node_field 1 rx_bad_mac)
bad2=$(vc_node_field 2 rx_bad_mac)
vc_key /tmp/vc/new.key
rotate()
{
	vc_ctl 1 key set 2 /tmp/vc/new.key && vc_ctl 2 key set 2 /tmp/vc/new.key &&
	vc_ctl 1 key set 2 /tmp/vc/new.key primary &&
	sleep 1 &&	# node 1 signs with key 2 while node 2 still uses 1
	vc_ctl 2 key set 2 /tmp/vc/new.key primary &&
	vc_ctl 1 key del 1 && vc_ctl 2 key del 1
}
check "rotation commands accepted" rotate
sleep 2		# heartbeats under the new key for a while: the scenario
check "after rotation: still UP" pair_up
check "... never a DOWN on either side" \
	eval '! grep -q "peer-down" /tmp/vc/rot1.events /tmp/vc/rot2.events'
check "... no datagram of 1 or 2 was rejected (bad MACs come only from node 3)" \
	eval '[ "$(vc_ctl 1 peer show 2 --json | jq -r ".links[0].bad_mac")" -eq 0 ] &&
	      [ "$(vc_ctl 2 peer show 1 --json | jq -r ".links[0].bad_mac")" -eq 0 ]'
check "... only key 2 is left, primary" \
	eval 'vc_ctl 1 key list --json | jq -e ".keys | length == 1 and .[0].id == 2 and .[0].primary"'

# --- no key --------------------------------------------------------------------
vc_ctl 3 stop
vc_ctl 3 key del 1
no_key_refused()
{
	! vc_ctl 3 start >/tmp/nokey.out 2>&1 && grep -qi "insecure" /tmp/nokey.out
}
check "START without a key is refused, naming the insecure option" no_key_refused
insecure_shown()
{
	vc_ctl 3 node set insecure 1 && vc_ctl 3 start &&
		[ "$(vc_node_field 3 auth) $(vc_node_field 3 insecure)" = "none true" ]
}
check "with insecure set it starts, and says it runs unauthenticated" insecure_shown
finish
