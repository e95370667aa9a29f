#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: guest
# vc-timeout: 400
#
# The agent's kernel membership transport (user/agent/mship-kernel.c),
# driven by user/agent/build/tests/kdrive, which prints one JSON line per
# callback.  Three netns nodes, each run by a kdrive with the transport
# "kernel", armed once quorate and petting every 200 ms:
#
#   n1  [fence] log, agent timeout 3 s      (weak: its DOWN is not trusted)
#   n2  [fence] kill                        (strong)
#   n3  [fence] kill, a registered "sleep"  (strong; the node that is cut)
#
#   - the callbacks report every peer UP and quorum gained;
#   - members() shows what each peer advertises (armed, action, strength)
#     and the payload another node's agent set;
#   - an agent restart (kdrive killed, started again) while armed adopts
#     the running life: same incarnation, no peer sees it go DOWN;
#   - n3's link cut: n1's and n2's callbacks report it DOWN (timeout) with
#     fence_strong and its fence window; n3 reports quorum lost, then
#     fenced (quorum), and its registered process is gone;
#   - n1's agent stops petting: pre-timeout, then fenced (agent), also in
#     "vclusterctl fence show";
#   - stop() of n2 disarms and stops without fencing.
#   - With the user transport built (user/agent/build/tests/mship-drive),
#     a fourth node n4 runs it in the same cluster, and n4 and the kernel
#     nodes see each other UP.

set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vc.sh"

KDRIVE=${KDRIVE:-$REPO/user/agent/build/tests/kdrive}
UDRIVE=${UDRIVE:-$REPO/user/agent/build/tests/mship-drive}
OUT=$VC_CONF_DIR

require_module
[ -x "$KDRIVE" ] || skip_all "$KDRIVE not built (make -C user/agent kdrive)"
command -v jq >/dev/null || skip_all "jq not installed"
MIXED=0
[ -x "$UDRIVE" ] && MIXED=1

at_exit vc_teardown
at_exit pkill -f "sleep 4243"
# what every node's driver printed, kept in the run directory
[ -n "${VC_OUT:-}" ] && at_exit cp -r "$OUT" "$VC_OUT/nodes"

plan $((21 + 2 * MIXED))

load_module || bail_out "cannot load $VC_MODULE"
mkdir -p "$OUT"

# ------------------------------------------------------------------ helpers

fence_section()		# NODE: its [fence] section
{
	echo
	echo "[fence]"
	if [ "$1" -eq 1 ]; then
		echo "action = log"
		echo "agent-timeout-ms = 3000"
		echo "pretimeout-ms = 1500"
	else
		echo "action = kill"
		echo "agent-timeout-ms = 5000"
		echo "kill-bound-ms = 1000"
	fi
	echo "quorum-timeout-ms = 2000"
}

# nodes with the user node as a non-voting peer when it takes part
N=3
((MIXED)) && N=4
vc_switch
VC_EXPECTED_VOTES=3
for ((i = 1; i <= N; i++)); do
	vc_netns_node "$i" 1
	vc_write_conf "$i" "$N" 1
	fence_section "$i" >>"$OUT/n$i.conf"
done
# node 4 holds no vote: quorum stays that of the three kernel nodes
for ((i = 1; i <= 3 && MIXED; i++)); do
	sed -i '/^\[peer 4\]/a votes = 0' "$OUT/n$i.conf"
done
((MIXED)) && sed -i '/^\[node\]/a votes = 0' "$OUT/n4.conf"

DPID=()
start_drive()		# NODE ARGS...: kdrive in nNODE, output $OUT/dNODE.out
{
	local i=$1

	shift
	ip netns exec "n$i" "$KDRIVE" "$OUT/n$i.conf" "$@" \
		>>"$OUT/d$i.out" 2>>"$OUT/d$i.err" &
	DPID[i]=$!
	at_exit kill -KILL "${DPID[i]}"
}

# seen NODE JQ-FILTER: a line of dNODE.out matches
seen()
{
	jq -e -s "map(select($2)) | length > 0" "$OUT/d$1.out" >/dev/null 2>&1
}

# last NODE JQ-FILTER: the last matching line
last()
{
	jq -c -s "map(select($2)) | last" "$OUT/d$1.out"
}

peer_is()		# NODE PEER STATE: the last callback about PEER says STATE
{
	[ "$(last "$1" ".event == \"peer\" and .node == $2" | jq -r .state)" = "$3" ]
}

# members NODE: ask kdrive for members() and self(); prints the members line
members()
{
	local n

	n=$(grep -c '"event":"members"' "$OUT/d$1.out")
	kill -USR2 "${DPID[$1]}"
	wait_for -t 10 eval "[ \$(grep -c '\"event\":\"members\"' $OUT/d$1.out) -gt $n ]" ||
		return 1
	last "$1" '.event == "members"'
}

member()		# NODE PEER FIELD: FIELD of PEER in NODE's members()
{
	members "$1" | jq -r ".members[] | select(.node == $2) | .$3"
}

self_field()		# NODE FIELD (after members NODE)
{
	last "$1" '.event == "self"' | jq -r ".$2"
}

# checkd "NODES" NAME CMD...: check, with those nodes' kdrive output as
# diagnostics when it fails
checkd()
{
	local nodes=$1 before=$_tap_fail

	shift
	check "$@"
	if ((_tap_fail > before)); then
		# shellcheck disable=SC2086
		diag "$(show_out $nodes 2>&1)"
	fi
}

after_restart()		# NODE: its kdrive's lines since the last restart marker
{
	tac "$OUT/d$1.out" | sed '/"event":"restart"/,$d' | tac
}

restarted()		# NODE: the restarted kdrive is running
{
	after_restart "$1" | grep -q '"event":"started"'
}

show_out()
{
	local i

	for i in "$@"; do
		echo "--- n$i"
		tail -n 15 "$OUT/d$i.out" "$OUT/d$i.err"
	done
}

# ------------------------------------------------------------------ start

sleep 4243 &
VICTIM=$!
start_drive 1 --arm-quorate --pet-ms 200 --payload node-1
start_drive 2 --arm-quorate --pet-ms 200
start_drive 3 --arm-quorate --pet-ms 200 --proc "$VICTIM"

all_started()
{
	seen 1 '.event == "started"' && seen 2 '.event == "started"' &&
		seen 3 '.event == "started"'
}
wait_for -t 30 all_started
checkd "1 2 3" "three kdrives started the kernel transport" all_started
all_started || bail_out "kdrive did not start" 

both_up()		# NODE: callbacks reported both other kernel nodes UP
{
	local i=$1 j

	for j in 1 2 3; do
		[ "$j" -eq "$i" ] && continue
		peer_is "$i" "$j" up || return 1
	done
}
for i in 1 2 3; do
	wait_for -t 30 both_up "$i"
	checkd "$i" "n$i: peer callbacks report the two other nodes UP" both_up "$i"
done

all_armed()
{
	local i

	for i in 1 2 3; do
		seen "$i" '.event == "quorum" and .quorate' || return 1
		seen "$i" '.event == "armed" and .error == 0' || return 1
	done
}
wait_for -t 20 all_armed
checkd "1 2 3" "each node: quorum gained callback, then armed" all_armed

strength()
{
	local m2 m1

	m1=$(members 1) && m2=$(members 2) || return 1
	echo "n1 sees n2: $(jq -c '.members[] | select(.node == 2) | [.armed, .fence_action, .fence_strong, .fenced_by_ns]' <<<"$m1")"
	echo "n2 sees n1: $(jq -c '.members[] | select(.node == 1) | [.armed, .fence_action, .fence_strong, .fenced_by_ns]' <<<"$m2")"
	[ "$(jq -c '.members[] | select(.node == 2) | [.armed, .fence_action, .fence_strong]' <<<"$m1")" = '[true,"kill",true]' ] &&
	[ "$(jq -c '.members[] | select(.node == 1) | [.armed, .fence_action, .fence_strong]' <<<"$m2")" = '[true,"log",false]' ] &&
	[ "$(jq '.members[] | select(.node == 1) | .fenced_by_ns' <<<"$m2")" -gt 0 ]
}
wait_for -t 10 strength
check "members(): peers' advertised fencing (n2 kill: strong, n1 log: weak)" strength

payload_seen()
{
	[ "$(member 2 1 payload)" = "$(printf node-1 | od -An -tx1 | tr -d ' \n')" ]
}
wait_for -t 10 payload_seen
check "members(): n2 sees the payload n1's agent set" payload_seen

# ------------------------------------------------------------------ mixed

if ((MIXED)); then
	ip netns exec n4 "$UDRIVE" --transport user "$OUT/n4.conf" \
		--fencer "$REPO/user/agent/vcluster-fencer" \
		>"$OUT/d4.out" 2>"$OUT/d4.err" &
	UPID=$!
	at_exit kill -KILL $UPID
	kernel_sees_user()
	{
		peer_is 1 4 up && peer_is 2 4 up && peer_is 3 4 up
	}
	wait_for -t 30 kernel_sees_user
	check "mixed: the kernel nodes' callbacks report the user node UP" kernel_sees_user
	user_sees_kernel()
	{
		local j

		for j in 1 2 3; do
			jq -e -s "map(select(.node == $j and .state != null)) | last | .state == \"up\"" \
				"$OUT/d4.out" >/dev/null 2>&1 || return 1
		done
	}
	wait_for -t 30 user_sees_kernel
	check "mixed: the user node reports the three kernel nodes UP" user_sees_kernel
	kill $UPID
fi

# ------------------------------------------------------------------ restart

members 2 >/dev/null
inc2=$(self_field 2 incarnation)
kill -KILL "${DPID[2]}"
wait "${DPID[2]}" 2>/dev/null
echo '{"event":"restart"}' >>"$OUT/d2.out"
start_drive 2 --arm-quorate --pet-ms 200
# signals only once it handles them (SIGUSR2 would kill it before)
wait_for -t 20 restarted 2
adopted()
{
	local up

	members 2 >/dev/null || return 1
	# peers 1 and 3 reported UP by the new kdrive (lines after the marker)
	up=$(after_restart 2 |
		jq -s '[.[] | select(.event == "peer" and .state == "up" and .old == "new") |
			.node | select(. == 1 or . == 3)] | unique | length')
	echo "incarnation $(self_field 2 incarnation) (was $inc2), armed $(self_field 2 armed), peers reported UP: $up"
	[ "$(self_field 2 incarnation)" = "$inc2" ] &&
		[ "$(self_field 2 armed)" = true ] && [ "$up" -eq 2 ]
}
wait_for -t 20 adopted
checkd 2 "agent restart while armed: the running life is adopted (same incarnation, peers reported UP)" \
	adopted
check "... and no peer saw it go DOWN" not seen 1 '.event == "peer" and .node == 2 and .state == "down"'

# ------------------------------------------------------------------ cut n3

vc_cut 3 0
n3_down()		# NODE: its callback reports n3 DOWN (timeout), strong
{
	local l

	l=$(last "$1" '.event == "peer" and .node == 3')
	[ "$(jq -c '[.state, .down_reason, .fence_strong, .fence_action]' <<<"$l")" = \
		'["down","timeout",true,"kill"]' ]
}
for i in 1 2; do
	wait_for -t 20 n3_down "$i"
	checkd "$i" "n3 cut off: n$i's callback reports it DOWN (timeout, strong: kill)" n3_down "$i"
done

window()
{
	local l heard by margin want

	l=$(last 1 '.event == "peer" and .node == 3 and .state == "down"')
	heard=$(jq .last_heard_ns <<<"$l")
	by=$(jq .fenced_by_ns <<<"$l")
	margin=$(vc_node_field 1 fence_margin_ms)
	# dead 100 x 10 + quorum timeout + kill bound + 2 intervals + margin
	want=$(((1000 + 2000 + 1000 + 2 * VC_INTERVAL_MS + margin) * 1000000))
	echo "fenced_by - last_heard = $((by - heard)) ns, expected $want"
	[ $((by - heard)) -eq "$want" ]
}
check "... with its fence window (last heard + D + Q + K + 2I + margin)" window

n3_fenced()
{
	seen 3 '.event == "quorum" and (.quorate | not)' &&
		seen 3 '.event == "fenced" and .reason == "quorum"'
}
wait_for -t 20 n3_fenced
checkd 3 "n3: quorum lost, then fenced (reason quorum)" n3_fenced
gone()
{
	! kill -0 "$VICTIM" 2>/dev/null && { wait "$VICTIM" 2>/dev/null; true; }
}
wait_for -t 10 gone
check "... its registered process was killed" gone

still_quorate()
{
	local i

	for i in 1 2; do
		members "$i" >/dev/null && [ "$(self_field "$i" quorate)" = true ] &&
			not seen "$i" '.event == "quorum" and (.quorate | not)' || return 1
	done
}
check "n1 and n2 stay quorate" still_quorate

# ------------------------------------------------------------------ agent hangs

kill -USR1 "${DPID[1]}"
agent_fenced()
{
	seen 1 '.event == "fenced" and .reason == "agent"'
}
wait_for -t 20 agent_fenced
order()
{
	jq -e -s '(map(.event) | index("pet-stopped")) as $s |
		  (map(.event) | index("pretimeout")) as $p |
		  (map(.event == "fenced" and .reason == "agent") | index(true)) as $f |
		  $s != null and $p != null and $f != null and $s < $p and $p < $f' \
		"$OUT/d1.out" >/dev/null
}
checkd 1 "n1's agent stops petting: pretimeout, then fenced (reason agent)" order
check "... as vclusterctl fence show says" \
	eval '[ "$(vc_fence_field 1 fence_reason)" = agent ] && [ "$(vc_fence_field 1 fence_count)" -ge 1 ]'

# ------------------------------------------------------------------ stop

kill -TERM "${DPID[2]}"
stopped()
{
	seen 2 '.event == "stopped" and .error == 0' &&
		[ "$(vc_node_field 2 state)" = stopped ] &&
		[ "$(vc_fence_field 2 fence_count)" -eq 0 ]
}
wait_for -t 10 stopped
checkd 2 "stop(): n2 disarms and stops, without fencing" stopped

# ------------------------------------------------------------------ lost events
#
# n1's kdrive again, with a tiny event socket (net.core.rmem_max caps the
# 4 MiB it asks for), frozen while events pile up: n2 comes back, n1
# regains quorum, re-arms send FENCE_ARMED, the agent watchdog fires.  The
# overrun (ENOBUFS) makes the transport resynchronize from PEER_GET and
# NODE_GET and report what it missed.
rmem=$(sysctl -n net.core.rmem_max)
at_exit sysctl -qw net.core.rmem_max="$rmem"
kill -KILL "${DPID[1]}"
wait "${DPID[1]}" 2>/dev/null
echo '{"event":"restart"}' >>"$OUT/d1.out"
# the smallest the kernel takes: SOCK_MIN_RCVBUF, 4608 on x86-64
sysctl -qw net.core.rmem_max=4608 || sysctl -qw net.core.rmem_max=8192
start_drive 1
wait_for -t 20 restarted 1
sysctl -qw net.core.rmem_max="$rmem"
# its first report (the adopted life's peers) is done: n3 DOWN
wait_for -t 10 eval 'after_restart 1 | grep -q "\"node\":3,.*\"state\":\"down\""'
kill -STOP "${DPID[1]}"
at_exit kill -CONT "${DPID[1]}"
vc_ctl 2 start
wait_for -t 20 eval '[ "$(vc_peer_state 1 2)" = up ]'
for ((k = 0; k < 10; k++)); do
	vc_ctl 1 fence arm log agent-timeout-ms 3000 pretimeout-ms 1500 quorum-timeout-ms 2000
done
fc=$(vc_fence_field 1 fence_count)
wait_for -t 10 eval '[ "$(vc_fence_field 1 fence_count)" -gt "$fc" ]'
kill -CONT "${DPID[1]}"
resynced()
{
	local a

	a=$(after_restart 1)
	grep -q "events were lost" "$OUT/d1.err" &&
		jq -e -s 'map(select(.event == "peer" and .node == 2)) | last | .state == "up"' \
			<<<"$a" >/dev/null &&
		jq -e -s 'map(select(.event == "quorum")) | last | .quorate' <<<"$a" >/dev/null
}
wait_for -t 10 resynced
checkd 1 "events lost (ENOBUFS): the resync reports n2 UP and quorum regained" resynced
check "... and the watchdog firing it missed (reason agent)" \
	eval 'after_restart 1 | jq -e -s "map(select(.event == \"fenced\")) | last | .reason == \"agent\"" >/dev/null'

check "no kernel warnings" check_dmesg
finish
