#!/bin/bash
# vc-suite: guest
# SPDX-License-Identifier: GPL-2.0
# vc-timeout: 300
#
# Drive the "vcluster" family with the kernel's own ynl client
# (tools/net/ynl/cli.py and its library from linux-source-6.12) and
# Documentation/netlink/specs/vcluster.yaml, not with vclusterctl: if the
# spec and the module disagree on a name, a type or a value, this fails.
#
#   netns A (node 1)                 netns B (node 2)
#   eth0 198.18.0.1/24 ---- veth ---- eth0 198.18.0.2/24
#
# Configure both nodes and their peers over netlink, give both the same
# random key (key-set; start without one is refused), start them, receive
# the node-started and peer-up events on the "events" group, dump peers
# until both report each other UP over authenticated heartbeats, get the
# kernel's extack messages for bad requests, and see a stopped node go DOWN.

set -u
# shellcheck disable=SC2317  # functions run through check / wait_for
. "$REPO/tests/lib.sh"

require_module

CACHE=${VC_CACHE:-/var/cache/vcluster}
SRC=
for d in "$CACHE/src/6.12" "$CACHE/src-6.12"; do
	[[ -f $d/tools/net/ynl/cli.py ]] && { SRC=$d; break; }
done
[[ -n $SRC ]] || skip_all "no ynl client in $CACHE/src/6.12 (run tools/fetch-kernels)"
YNL=$SRC/tools/net/ynl
SPEC=$REPO/Documentation/netlink/specs/vcluster.yaml
SCHEMA=$SRC/Documentation/netlink/genetlink-legacy.yaml
PY=/usr/bin/python3
$PY -c 'import yaml, jsonschema' 2>/dev/null ||
	skip_all "$PY lacks python3-yaml or python3-jsonschema (tools/deps.sh installs them)"
export PYTHONDONTWRITEBYTECODE=1	# the cache is read-only in the guest

TMP=$(mktemp -d)
at_exit rm -rf "$TMP"

A1=3323068417	# 198.18.0.1 as a u32 (ynl sends addr4 big-endian)
A2=3323068418	# 198.18.0.2
# TCG guests share the host's CPUs with other suites and stall now and then;
# this suite tests the API, not detection time, so dead time is a generous 3 s
# (a peer declared DOWN stays DOWN for that life, so a stall would stick).
INTERVAL=100
MISSES=30

# ynl NS ARGS...: cli.py in netns NS, JSON output (one document per line).
ynl() {
	local n=$1
	shift
	ns "$n" "$PY" "$YNL/cli.py" --spec "$SPEC" --schema "$SCHEMA" \
		--output-json "$@"
}

# ynlq FILE NS ARGS...: ynl into FILE; on failure show what it said.
ynlq() {
	local f=$1
	shift
	ynl "$@" >"$f" 2>&1 || { cat "$f"; return 1; }
}

# pyq FILE EXPR: EXPR (Python, over d = the first JSON line of FILE, and
# e = the second, when present) must be true.
pyq() {
	"$PY" - "$1" "$2" <<'EOF' || { echo "got: $(cat "$1")"; return 1; }
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
d = json.loads(lines[0]) if lines else None
e = json.loads(lines[1]) if len(lines) > 1 else None
sys.exit(0 if eval('(' + sys.argv[2] + ')') else 1)
EOF
}

# peer_state NS ID STATE: a dump in NS shows peer ID in STATE.
peer_state() {
	ynlq "$TMP/dump.$1" "$1" --dump peer-get &&
		pyq "$TMP/dump.$1" "any(p.get('node-id') == $2 and p.get('state') == '$3' for p in d)"
}

# rejects NAME ERRNO-REGEX NS OP JSON: the kernel refuses OP with an extack
# message (cli.py prints "Netlink error: <strerror>" and the extack dict).
rejects() {
	local name=$1 err=$2 n=$3 op=$4 json=$5 out rc=0 msg
	out=$(ynl "$n" --do "$op" --json "$json" 2>&1) || rc=$?
	msg=$(grep -o "'msg': '[^']*'" <<<"$out" | head -n1)
	if ((rc == 0)); then
		not_ok "$name" "accepted: $out"
	elif ! grep -qE "Netlink error: ($err)" <<<"$out"; then
		not_ok "$name" "wanted '$err': $out"
	elif [[ -z $msg || $msg == "'msg': ''" ]]; then
		not_ok "$name" "refused without an extack message: $out"
	else
		ok "$name ($(grep -o 'Netlink error: .*' <<<"$out" | head -n1 | cut -d' ' -f3-), $msg)"
	fi
}

plan 24

mark=$(dmesg_mark)
load_module || insmod "$VC_MODULE" || bail_out "cannot load $VC_MODULE"

ns_add a || bail_out "cannot create netns"
ns_add b || bail_out "cannot create netns"
veth_link a eth0 b eth0 || bail_out "cannot create the veth pair"
ns a ip addr add 198.18.0.1/24 dev eth0
ns b ip addr add 198.18.0.2/24 dev eth0

# 1: the family answers, a fresh instance is stopped.
if ynlq "$TMP/out" a --do node-get >/dev/null && pyq "$TMP/out" "d['state'] == 'stopped'" >/dev/null; then
	ok "node-get on a fresh namespace: stopped"
else
	not_ok "node-get on a fresh namespace: stopped" "$(cat "$TMP/out")"
fi

# 2-3: configure both nodes.
cfg() {	# cfg NS NODE-ID ADDR
	ynl "$1" --do node-set --json "{\"cluster-id\": 7, \"node-id\": $2, \"votes\": 1,
		\"interval-ms\": $INTERVAL, \"misses\": $MISSES, \"payload\": \"c0ffee\",
		\"link\": [{\"id\": 0, \"addr4\": $3}]}"
}
check "node-set configures node 1" cfg a 1 $A1
check "node-set configures node 2" cfg b 2 $A2

# 4: what we set reads back, typed as the spec says.
node_readback() {
	ynlq "$TMP/node" a --do node-get &&
		pyq "$TMP/node" "d['cluster-id'] == 7 and d['node-id'] == 1 and d['votes'] == 1 and
			d['interval-ms'] == $INTERVAL and d['misses'] == $MISSES and
			d['dead-ms'] == $((INTERVAL * MISSES)) and d['port'] == 5420 and
			d['payload'] == 'c0ffee' and d['state'] == 'stopped' and
			len(d['link']) == 1 and d['link'][0]['id'] == 0 and
			d['link'][0]['addr4'] == '198.18.0.1'"
}
check "node-get reads the configuration back (dead-ms = interval x misses)" node_readback

# 5-6: peers.
check "peer-add node 2 in A" ynl a --do peer-add --json \
	"{\"node-id\": 2, \"votes\": 1, \"link\": [{\"id\": 0, \"addr4\": $A2, \"port\": 5420}]}"
check "peer-add node 1 in B" ynl b --do peer-add --json \
	"{\"node-id\": 1, \"votes\": 1, \"link\": [{\"id\": 0, \"addr4\": $A1}]}"

# 7: a configured peer never heard is NEW.
peer_new() {
	ynlq "$TMP/peer" a --do peer-get --json '{"node-id": 2}' &&
		pyq "$TMP/peer" "d['node-id'] == 2 and d['state'] == 'new' and
			d['link'][0]['addr4'] == '198.18.0.2'"
}
check "peer-get (do) of a peer never heard: new" peer_new

# Events: cli.py --subscribe together with --do is broken in 6.12's ynl
# (a notification read on its own makes _ops() dereference op = None), and
# --subscribe alone only collects for a fixed --sleep.  So a subscriber
# made of the same ynl library (YnlFamily.ntf_subscribe, what --subscribe
# calls) waits for one event with a deadline and says when it is ready.
cat >"$TMP/listen.py" <<'EOF'
import json, os, select, sys, time
ynl, spec, schema, ready, want, node, timeout = sys.argv[1:8]
sys.path.insert(0, ynl)
from lib import YnlFamily
f = YnlFamily(spec, schema)
f.ntf_subscribe('events')
open(ready, 'w').close()
end = time.monotonic() + float(timeout)
while True:
    left = end - time.monotonic()
    if left <= 0:
        sys.exit(f"no {want} event for node {node} within {timeout} s")
    if not select.select([f.sock], [], [], left)[0]:
        continue
    f.check_ntf()
    for m in f.async_msg_queue:
        print(json.dumps(m['msg']), flush=True)
        if m['msg'].get('type') == want and m['msg'].get('node-id') == int(node):
            sys.exit(0)
    f.async_msg_queue.clear()
EOF

# listen NS TYPE NODE NAME: a subscriber in NS for event TYPE about NODE;
# returns once it has subscribed, its pid in $listener, output in $TMP/NAME.
listen() {
	rm -f "$TMP/$4.ready"
	ns "$1" "$PY" "$TMP/listen.py" "$YNL" "$SPEC" "$SCHEMA" "$TMP/$4.ready" \
		"$2" "$3" 60 >"$TMP/$4" 2>&1 &
	listener=$!
	at_exit kill "$listener"
	wait_for -t 40 test -e "$TMP/$4.ready" ||
		diag "subscriber $4 did not subscribe: $(cat "$TMP/$4")"
}

# heard_ok TEST PID NAME EXPR: subscriber PID got its event, and EXPR (over
# d, the event's attributes) holds.  Not through check: wait needs the
# subscriber to be a child of this shell, not of a subshell.
heard_ok() {
	local rc=0
	wait "$2" || rc=$?
	if ((rc != 0)); then
		not_ok "$1" "subscriber exited $rc: $(cat "$TMP/$3")"
		return
	fi
	tail -n1 "$TMP/$3" >"$TMP/$3.last"
	if pyq "$TMP/$3.last" "$4" >/dev/null; then
		ok "$1"
	else
		not_ok "$1" "$(cat "$TMP/$3")"
	fi
}

# 8: no key, no start (unless insecure), with the kernel's explanation.
rejects "start without a key" "Required key not available" a start '{"incarnation": 999}'

# 9-10: the same random 32-byte key in both (ynl takes binary as hex).
KEY=$(head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n')
check "key-set key 1 in A" ynl a --do key-set --json "{\"id\": 1, \"value\": \"$KEY\"}"
check "key-set key 1 in B" ynl b --do key-set --json "{\"id\": 1, \"value\": \"$KEY\"}"

# 11: the key is listed (id, primary) but its value never comes back.
key_listed() {
	ynlq "$TMP/node" a --do node-get &&
		pyq "$TMP/node" "d['auth'] == 'blake2s' and d['insecure'] == 0 and
			d['key'] == [{'id': 1, 'primary': 1}] and '$KEY' not in open('$TMP/node').read()"
}
check "node-get: auth blake2s, key 1 primary, value not reported" key_listed

# 12-13: node-started, with our node id and the incarnation START was given.
listen a node-started 1 started
started=$listener
check "start node 1" ynl a --do start --json '{"incarnation": 1000}'
heard_ok "subscriber in A received node-started (node 1, incarnation 1000)" \
	"$started" started "d['node-id'] == 1 and d['incarnation'] == 1000 and d['time-ns'] > 0"

# 14: a subscriber in A waits for peer-up for node 2 once B starts.
listen a peer-up 2 peerup

check "start node 2" ynl b --do start --json '{"incarnation": 2000}'

# 15-16: both ends report each other UP (dump, polled with a deadline).
if wait_for -t 20 peer_state a 2 up; then
	ok "dump in A: peer 2 up"
else
	not_ok "dump in A: peer 2 up" "$(cat "$TMP/dump.a" 2>/dev/null)"
fi
if wait_for -t 20 peer_state b 1 up; then
	ok "dump in B: peer 1 up"
else
	not_ok "dump in B: peer 1 up" "$(cat "$TMP/dump.b" 2>/dev/null)"
fi

# 17: the subscriber saw peer-up.
heard_ok "subscriber in A received peer-up for node 2 (incarnation 2000)" \
	"$listener" peerup "d['incarnation'] == 2000 and d['last-heard-ns'] > 0"

# 18: the dump carries the peer's life, its payload and per-link counters.
peer_details() {
	ynlq "$TMP/dump" a --dump peer-get &&
		pyq "$TMP/dump" "len(d) == 1 and d[0]['incarnation'] == 2000 and
			d[0]['payload'] == 'c0ffee' and d[0]['last-heard-ns'] > 0 and
			d[0]['link'][0]['state'] == 'up' and d[0]['link'][0]['rx-packets'] > 0 and
			d[0]['link'][0]['tx-packets'] > 0 and d[0]['link'][0]['addr4'] == '198.18.0.2' and
			d[0]['link'][0]['bad-mac'] == 0"
}
check "dump: incarnation, payload, link state and counters of peer 2 (no bad MAC)" peer_details

# 19-22: bad requests come back with the kernel's extack message.
rejects "node-set cluster-id 0 (policy)" "Numerical result out of range|Invalid argument" a node-set '{"cluster-id": 0}'
rejects "node-set node-id while running" "Device or resource busy" a node-set '{"node-id": 3}'
rejects "peer-get of an unknown peer" "No such file or directory" a peer-get '{"node-id": 99}'
rejects "key-del of the primary key while running" "Device or resource busy" a key-del '{"id": 1}'

# 23-24: stop B; A declares it DOWN after dead time.
check "stop node 2" ynl b --do stop
if wait_for -t 20 peer_state a 2 down; then
	ok "dump in A: peer 2 down after it stopped"
else
	not_ok "dump in A: peer 2 down after it stopped" "$(cat "$TMP/dump.a" 2>/dev/null)"
fi

check_dmesg "$mark" || diag "kernel log shows problems (tests/run fails the suite)"
finish
