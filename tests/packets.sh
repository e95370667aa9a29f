#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: guest
#
# Bad datagrams are dropped and counted, and disturb nothing: malformed,
# truncated, spoofed (bad MAC), foreign-cluster, unknown-sender and
# replayed heartbeats are crafted by user/vcl-inject and sent at node 1
# while nodes 1 and 2 run.

set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vc.sh"

require_module

at_exit vc_teardown

INJECT=$REPO/user/vcl-inject
MALFORMED_KINDS="truncated bad-magic bad-version bad-hdr-len bad-type
	bad-auth bad-length too-many-members oversize-payload bad-dest bad-link"

plan 11

load_module || bail_out "cannot load $VC_MODULE"
vc_cluster 2 1 || bail_out "cannot set up a 2-node cluster"
wait_for -t 20 vc_all_up 2
check "two nodes UP" vc_all_up 2

counter()
{
	vc_node_field 1 "$1"
}

link_malformed()
{
	vc_ctl 1 peer show 2 --json | jq -r '.links[0].malformed'
}

# inject KIND [ARGS...]: from node 2's address, another source port.
inject()
{
	local kind=$1

	shift
	ip netns exec n2 "$INJECT" --to 198.18.0.1 --from 198.18.0.2:6000 \
		--cluster-id "$VC_CLUSTER_ID" --node-id 2 --dest-node-id 1 \
		--key-file "$VC_KEY_FILE" "$@" "$kind" >/dev/null
}

malformed0=$(counter rx_malformed)
link0=$(link_malformed)
n=0
for kind in $MALFORMED_KINDS; do
	inject "$kind" || bail_out "vcl-inject $kind failed"
	n=$((n + 1))
done
malformed_counted()
{
	[ "$(counter rx_malformed)" -eq $((malformed0 + n)) ]
}
wait_for -t 5 malformed_counted
check "$n malformed datagrams: rx_malformed +$n exactly" malformed_counted
check "... and counted on peer 2's link (sent from its address)" \
	test "$(link_malformed)" -eq $((link0 + n))

# Spoofed: the forger lacks the key, or uses one the receiver lacks, or
# none at all, or flips a bit of a good tag.
bad_mac0=$(counter rx_bad_mac)
for kind in bad-mac wrong-key unknown-key no-mac; do
	inject "$kind" || bail_out "vcl-inject $kind failed"
done
bad_mac_counted()
{
	[ "$(counter rx_bad_mac)" -eq $((bad_mac0 + 4)) ]
}
wait_for -t 5 bad_mac_counted
check "4 spoofed datagrams (bad tag, wrong key, unknown key, no MAC): rx_bad_mac +4" \
	bad_mac_counted
check "... and counted on peer 2's link" \
	test "$(vc_ctl 1 peer show 2 --json | jq -r '.links[0].bad_mac')" -eq 4

foreign0=$(counter rx_foreign)
inject foreign
foreign_counted()
{
	[ "$(counter rx_foreign)" -eq $((foreign0 + 1)) ]
}
wait_for -t 5 foreign_counted
check "foreign cluster id: rx_foreign +1" foreign_counted

unknown0=$(counter rx_unknown)
inject unknown-node
unknown_counted()
{
	[ "$(counter rx_unknown)" -eq $((unknown0 + 1)) ]
}
wait_for -t 5 unknown_counted
check "unknown sender: rx_unknown +1" unknown_counted

# Replay: a configured but silent peer 3 sends three heartbeats, then the
# first one again.  The copy is refused; the originals were accepted.
vc_ctl 1 peer add 3 link 0 198.18.0.3
refused0=$(counter rx_refused)
inject replay --node-id 3 --count 3 --incarnation 5
replay_refused()
{
	[ "$(counter rx_refused)" -eq $((refused0 + 1)) ]
}
wait_for -t 5 replay_refused
check "replayed datagram: rx_refused +1" replay_refused
check "... the originals were heard (peer 3 left NEW)" \
	test "$(vc_peer_state 1 3)" != new

# An old life: incarnation below the one peer 2 runs with.
refused0=$(counter rx_refused)
inject valid --seq 1000000 --incarnation 1
old_life_refused()
{
	[ "$(counter rx_refused)" -eq $((refused0 + 1)) ]
}
wait_for -t 5 old_life_refused
check "a heartbeat from an older incarnation: refused" old_life_refused

check "through all of it, node 1 kept node 2 UP" \
	test "$(vc_peer_state 1 2)" = up
finish
