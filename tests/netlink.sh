#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: guest
#
# The generic netlink API under bad input.  Requests are sent with the
# kernel's own ynl client, so every value reaches the kernel unfiltered by
# vclusterctl: each must be refused with an extack message and change
# nothing.  Also: unprivileged callers get EPERM for changes but may read,
# and a dump of 64 peers through a tiny receive buffer resumes correctly.

set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vc.sh"

require_module

at_exit vc_teardown

YNL_DIR=${VC_CACHE:-/var/cache/vcluster}/src/6.12/tools/net/ynl
SCHEMA=${VC_CACHE:-/var/cache/vcluster}/src/6.12/Documentation/netlink/genetlink-legacy.yaml
SPEC=$REPO/Documentation/netlink/specs/vcluster.yaml
[ -f "$YNL_DIR/cli.py" ] || skip_all "ynl not in $YNL_DIR (run tools/fetch-kernels)"

A1=3323068417	# 198.18.0.1
A2=3323068418	# 198.18.0.2
OUT=/tmp/ynl.out

# ynl OP-KIND OP JSON [EXTRA...]: run in node 1's namespace.
ynl()
{
	local kind=$1 op=$2 json=$3

	shift 3
	ip netns exec n1 "${YNL_PRE[@]}" /usr/bin/python3 "$YNL_DIR/cli.py" \
		--spec "$SPEC" --schema "$SCHEMA" "--$kind" "$op" \
		--json "$json" --output-json "$@"
}
YNL_PRE=()

# rejects NAME OP JSON: OP fails and the kernel explains why (extack msg).
rejects()
{
	local name=$1 op=$2 json=$3

	if ynl do "$op" "$json" >$OUT 2>&1; then
		not_ok "$name: accepted"
		return
	fi
	if grep -q "'msg'" $OUT || grep -q "extack" $OUT; then
		ok "$name: $(grep -o "'msg': '[^']*'" $OUT | head -1)"
	else
		not_ok "$name: refused without a message: $(tr '\n' ' ' <$OUT)"
	fi
}

node_json()
{
	ynl do node-get '{}' >$OUT 2>&1 && cat $OUT
}

plan 45

load_module || bail_out "cannot load $VC_MODULE"
vc_switch
vc_netns_node 1 1
vc_netns_node 2 1

# --- node-set ---------------------------------------------------------------
rejects "cluster id 0" node-set '{"cluster-id": 0}'
rejects "node id 0" node-set '{"node-id": 0}'
rejects "interval 0 ms" node-set '{"interval-ms": 0}'
rejects "interval above 60000 ms" node-set '{"interval-ms": 60001}'
rejects "misses 1" node-set '{"misses": 1}'
rejects "port 0" node-set '{"port": 0}'
rejects "payload of 65 bytes" node-set "{\"payload\": \"$(printf '%0130d' 0)\"}"
rejects "link id 8" node-set "{\"link\": [{\"id\": 8, \"addr4\": $A1}]}"
rejects "link with both addresses" node-set \
	"{\"link\": [{\"id\": 0, \"addr4\": $A1, \"addr6\": \"fd000000000000000000000000000001\"}]}"
rejects "link with no address" node-set '{"link": [{"id": 0}]}'
rejects "link without id" node-set "{\"link\": [{\"addr4\": $A1}]}"
rejects "duplicate link id" node-set \
	"{\"link\": [{\"id\": 0, \"addr4\": $A1}, {\"id\": 0, \"addr4\": $A2}]}"
rejects "short addr6" node-set '{"link": [{"id": 0, "addr6": "fd00"}]}'

# --- start / stop before configuration --------------------------------------
rejects "start without configuration" start '{}'
rejects "stop while stopped" stop '{}'

ynl do node-set "{\"cluster-id\": 7, \"node-id\": 1, \"link\": [{\"id\": 0, \"addr4\": $A1}]}" >$OUT 2>&1
check "a valid node-set is accepted" test $? -eq 0

# --- peers ------------------------------------------------------------------
rejects "peer with our own node id" peer-add "{\"node-id\": 1, \"link\": [{\"id\": 0, \"addr4\": $A2}]}"
rejects "peer link on a link we do not have" peer-add \
	"{\"node-id\": 2, \"link\": [{\"id\": 1, \"addr4\": $A2}]}"
rejects "peer link of the wrong family" peer-add \
	'{"node-id": 2, "link": [{"id": 0, "addr6": "fd000000000000000000000000000002"}]}'
ynl do peer-add "{\"node-id\": 2, \"link\": [{\"id\": 0, \"addr4\": $A2}]}" >$OUT 2>&1
rejects "duplicate peer" peer-add "{\"node-id\": 2, \"link\": [{\"id\": 0, \"addr4\": $A2}]}"
rejects "delete an unknown peer" peer-del '{"node-id": 99}'

# --- keys, quorum and the watchdog before start -------------------------------
KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
rejects "start without a key (and not insecure)" start '{"incarnation": 100}'
rejects "key id 0" key-set "{\"id\": 0, \"value\": \"$KEY\"}"
rejects "key id 256" key-set "{\"id\": 256, \"value\": \"$KEY\"}"
rejects "key of 31 bytes" key-set "{\"id\": 1, \"value\": \"${KEY:2}\"}"
rejects "key without a value" key-set '{"id": 1}'
rejects "even expected votes" node-set '{"expected-votes": 4}'
rejects "arming a stopped instance" fence-arm '{"fence-action": 2}'
ynl do key-set "{\"id\": 1, \"value\": \"$KEY\", \"primary\": 1}" >$OUT 2>&1
ynl do key-set "{\"id\": 2, \"value\": \"$KEY\"}" >$OUT 2>&1
rejects "a third key" key-set "{\"id\": 3, \"value\": \"$KEY\"}"

# --- running ----------------------------------------------------------------
ynl do start '{"incarnation": 100}' >$OUT 2>&1
rejects "start while running" start '{}'
rejects "node id change while running" node-set '{"node-id": 3}'
rejects "pet while not armed" fence-pet '{}'
rejects "unknown fence action" fence-arm '{"fence-action": 9}'
rejects "pre-timeout not below the agent timeout" fence-arm \
	'{"fence-action": 1, "agent-timeout-ms": 1000, "pretimeout-ms": 1000}'
rejects "register a process that does not exist" proc-add \
	'{"pid": 4000000, "start-time": 1}'
rejects "register pid 1 with the wrong start time" proc-add \
	'{"pid": 1, "start-time": 123456789}'
rejects "delete the primary key while running" key-del '{"id": 1}'
ynl do fence-arm '{"fence-action": 1, "nowayout": 1}' >$OUT 2>&1
rejects "disarm with nowayout" fence-disarm '{}'
ynl do stop '{}' >$OUT 2>&1
rejects "restart with the same incarnation" start '{"incarnation": 100}'

# Nothing above may have changed the node.
unchanged()
{
	node_json | jq -e '.["node-id"] == 1 and .["cluster-id"] == 7 and .incarnation == 100 and .["interval-ms"] == 10' >/dev/null
}
check "refused requests changed nothing" unchanged

# --- permissions ------------------------------------------------------------
YNL_PRE=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
ynl do node-set '{"misses": 5}' >$OUT 2>&1
check "unprivileged change: EPERM" grep -q "Operation not permitted" $OUT
unpriv_read()
{
	ynl do node-get '{}' >$OUT 2>&1
}
check "unprivileged read is allowed" unpriv_read
YNL_PRE=()

# --- a dump of 64 peers, resumed many times ---------------------------------
# (added with vclusterctl: a python start-up per peer is slow under TCG)
for ((id = 10; id < 73; id++)); do
	vc_ctl 1 peer add $id link 0 198.18.1.$id >$OUT 2>&1 ||
		bail_out "peer add $id: $(cat $OUT)"
done
ynl dump peer-get '{}' --dbg-small-recv 4096 >$OUT 2>$OUT.dbg
dump_ok()
{
	jq -e '[.[]["node-id"]] as $ids | ($ids | length == 64) and ($ids == ($ids | unique))' $OUT
}
check "dump of 64 peers through a 4 KiB buffer: each once" dump_ok
diag "the dump took $(grep -c '^Recv: read' $OUT.dbg) reads"
check "... and it was resumed (more than one read)" \
	test "$(grep -c '^Recv: read' $OUT.dbg)" -gt 2
rejects "a 65th peer" peer-add "{\"node-id\": 80, \"link\": [{\"id\": 0, \"addr4\": $((A2 + 80))}]}"
finish
