#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: agent
# vc-timeout: 240
#
# The agent's user transport (user/agent/mship-user.c) and its fencer
# (vcluster-fencer), on this machine, no guest: three simulated hosts, each
# a network namespace and its own PID namespace running
# user/agent/build/tests/mship-drive (one JSON line per callback in
# $DIR/nI.out, logs of the driver and its fencer in $DIR/nI.err).
#
#      n1            n2            n3          netns + PID ns each
#   198.18.0.1    198.18.0.2    198.18.0.3     eth0
#       \             |             /
#        `-------[ br0 in sw ]-----'
#
#   cluster       three nodes see each other UP and are quorate; bad-MAC
#                 datagrams are counted and change nothing; node 3 killed
#                 (its PID namespace, fencer included): 1 and 2 see it
#                 DOWN (timeout) with its fence window (rule 8) and stay
#                 quorate
#   one-way loss  n2 drops what n1 sends: both ends see each other DOWN
#   agent hung    node 1 armed with kill stops petting: its fencer fences
#                 (reason agent) and kills the registered process
#   partition     1 | 2 3: the minority loses quorum and its fencer
#                 fences (reason quorum); the majority stays quorate
#   freeze        node 3, armed, frozen whole (SIGSTOP) past its quorum
#                 deadline, then resumed: it fences first, regains no
#                 quorum, and its old life stays DOWN for the others
#   safety        outside a PID namespace the fencer refuses to arm with
#                 the reboot action (it would restart this machine)
#
# Heartbeat every 100 ms, 10 misses: a busy shared machine does not make
# a live node look dead.

set -uo pipefail
. "$(dirname "$0")/lib.sh"

AGENT=$REPO/user/agent
# Other builds (a sanitizer build, say) through the environment.
DRIVE=${MSHIP_DRIVE:-$AGENT/build/tests/mship-drive}
FENCER=${VC_FENCER:-$AGENT/vcluster-fencer}
INJECT=$REPO/user/vcl-inject
INTERVAL_MS=100
MISSES=10
MARGIN_MS=100
Q_MS=1000
K_MS=1000

plan 21

(($(id -u) == 0)) || skip_all "needs root (network and PID namespaces)"
for t in ip nft jq unshare nsenter; do
	command -v "$t" >/dev/null || skip_all "$t not installed"
done
if ! out=$(make -s -C "$AGENT" mship-drive 2>&1); then
	bail_out "make -C user/agent mship-drive failed: $out"
fi
[[ -x $INJECT ]] || make -s -C "$REPO/user" vcl-inject >/dev/null 2>&1

DIR=$(mktemp -d /tmp/agent-mship.XXXXXX)
at_exit rm -rf "$DIR"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DIR/cluster.key"
chmod 600 "$DIR/cluster.key"

# ------------------------------------------------------------ topology

bridge_ns sw || bail_out "cannot create the bridge namespace"
for i in 1 2 3; do
	ns_add "n$i" || bail_out "cannot create namespace n$i"
	bridge_port sw "n$i" eth0 || bail_out "cannot connect n$i"
	ip -n "${NS_PREFIX}n$i" addr add "$(addr4 0 "$i")/24" dev eth0
done

# write_conf I FENCE-LINES...: node I's config (peers 1..3 but I).
write_conf()
{
	local i=$1 p l

	shift
	{
		printf '[node]\ncluster-id = 7\nnode-id = %s\n' "$i"
		printf 'interval-ms = %s\nmisses = %s\nfence-margin-ms = %s\n' \
			$INTERVAL_MS $MISSES $MARGIN_MS
		printf 'link0 = %s\nexpected-votes = 3\nkey-file = cluster.key\n' "$(addr4 0 "$i")"
		if (($#)); then
			printf '\n[fence]\n'
			for l in "$@"; do echo "$l"; done
		fi
		for p in 1 2 3; do
			[[ $p == "$i" ]] || printf '\n[peer %s]\nlink0 = %s\n' "$p" "$(addr4 0 "$p")"
		done
	} >"$DIR/n$i.conf"
}

# ------------------------------------------------------------ nodes

declare -A UNSHARE
INC=100

# node_start I ARGS...: mship-drive for node I in its netns and a new PID
# namespace whose init is a shell, so that the fencer outlives the driver
# it kills; --kill-child: killing unshare kills the whole namespace.
node_start()
{
	local i=$1

	shift
	INC=$((INC + 1))
	: >"$DIR/n$i.out"
	# Not through ns(): $! must be unshare itself (ip netns exec execs it).
	ip netns exec "${NS_PREFIX}n$i" unshare --pid --fork --mount-proc --kill-child \
		bash -c 'sleep 100000 & echo $! >"$0.sleep"; "$@" --proc $! & wait $!; exec sleep 100000' \
		"$DIR/n$i" "$DRIVE" --transport user "$DIR/n$i.conf" --fencer "$FENCER" \
		--incarnation "$INC" --log-level info "$@" >"$DIR/n$i.out" 2>"$DIR/n$i.err" &
	UNSHARE[$i]=$!
	at_exit kill -KILL "$!"
}

# node_kill I: power loss of the whole simulated host.
node_kill()
{
	[[ -n ${UNSHARE[$1]:-} ]] || return 0
	kill -KILL "${UNSHARE[$1]}" 2>/dev/null
	wait "${UNSHARE[$1]}" 2>/dev/null
	unset "UNSHARE[$1]"
}

nodes_kill()
{
	local i
	for i in 1 2 3; do node_kill "$i"; done
}

# Host PID of a process of node I's namespace: node_pid I NAME.
node_pid()
{
	local init
	init=$(pgrep -P "${UNSHARE[$1]}" | head -n1) || return 1
	[[ $2 == init ]] && { echo "$init"; return 0; }
	pgrep -P "$init" -x "$2" | head -n1
}

# gone PID: exited (a zombie no one reaps counts: it runs no code).
gone()
{
	[[ ! -e /proc/$1/stat ]] || [[ $(awk '{ print $3 }' "/proc/$1/stat") == Z ]]
}

# state I P: node I's latest view of peer P ("" before any change).
state()
{
	jq -r "select(.event == \"peer_changed\" and .node == $2) | .state" \
		"$DIR/n$1.out" 2>/dev/null | tail -n1
}

states_are()	# WANT I P...
{
	local want=$1 i=$2 p
	shift 2
	for p in "$@"; do
		[[ $(state "$i" "$p") == "$want" ]] || return 1
	done
}

all_up()
{
	states_are up 1 2 3 && states_are up 2 1 3 && states_are up 3 1 2
}

quorate()	# I: its latest quorum_changed says quorate
{
	[[ $(jq -r 'select(.event == "quorum_changed") | .quorate' "$DIR/n$1.out" | tail -n1) == true ]]
}

# has I FILTER: some line of node I's output matches (jq -e would pass on
# an empty file).
has()
{
	[[ -n $(jq -c "select($2)" "$DIR/n$1.out" 2>/dev/null) ]]
}

lost_quorum()	# I: it ever reported losing quorum
{
	has "$1" '.event == "quorum_changed" and .quorate == false'
}

fenced_reason()	# I: reason of its "fenced" line
{
	jq -r 'select(.event == "fenced") | .reason' "$DIR/n$1.out" | tail -n1
}

diag_node()
{
	diag "n$1.out: $(tail -n 5 "$DIR/n$1.out")"
	diag "n$1.err: $(tail -n 12 "$DIR/n$1.err")"
}

# ------------------------------------------------------------ 1. cluster

FENCE_KILL=("action = kill" "agent-timeout-ms = 20000" "quorum-timeout-ms = $Q_MS"
	    "kill-bound-ms = $K_MS")
for i in 1 2 3; do write_conf "$i" "${FENCE_KILL[@]}"; done
for i in 1 2 3; do node_start "$i" --arm --pet-ms 100; done

if wait_for -t 20 all_up; then
	ok "three user nodes see each other UP"
else
	not_ok "three user nodes see each other UP"
	for i in 1 2 3; do diag_node "$i"; done
fi
check "all three are quorate" wait_for -t 10 eval 'quorate 1 && quorate 2 && quorate 3'

# Signed with the right key id, one tag bit flipped: counted, ignored.
lines_before=$(wc -l <"$DIR/n1.out")
ns n3 "$INJECT" --to "$(addr4 0 1)" --from "$(addr4 0 3):5999" --cluster-id 7 \
	--node-id 3 --dest-node-id 1 --count 3 --key-file "$DIR/cluster.key" bad-mac \
	>"$DIR/inject.log" 2>&1
check "bad-MAC datagrams are counted" \
	wait_for -t 5 grep -q "bad-mac (bad_mac 3)" "$DIR/n1.err"
check "bad-MAC datagrams change no membership" \
	test "$(wc -l <"$DIR/n1.out")" -eq "$lines_before"

node_kill 3
if wait_for -t 10 eval 'states_are down 1 3 && states_are down 2 3'; then
	ok "node 3 killed: nodes 1 and 2 see it DOWN"
else
	not_ok "node 3 killed: nodes 1 and 2 see it DOWN"
	diag_node 1
fi
down=$(jq -c 'select(.event == "peer_changed" and .node == 3 and .state == "down")' \
	"$DIR/n1.out" | tail -n1)
window_ms=$((INTERVAL_MS * MISSES + Q_MS + K_MS + 2 * INTERVAL_MS + MARGIN_MS))
if [[ $(jq -r '.reason' <<<"$down") == timeout ]] &&
   [[ $(jq -r '.fenced_by_ns - .last_heard_ns' <<<"$down") == $((window_ms * 1000000)) ]] &&
   [[ $(jq -r '.strong and .user_fence' <<<"$down") == true ]]; then
	ok "its DOWN carries the fence window (last heard + $window_ms ms), strong, user fence"
else
	not_ok "its DOWN carries the fence window (last heard + $window_ms ms), strong, user fence" \
		"$down"
fi
sleep_until_past_q()
{
	# Past the survivors' quorum timeout: they would have fenced by now.
	local t0 now
	t0=$(jq -r 'select(.event == "peer_changed" and .node == 3 and .state == "down") | .now_ns' \
		"$DIR/n1.out" | tail -n1)
	now=$(awk '{ printf "%d", $1 * 1e9 }' /proc/uptime)
	((now > t0 + 2 * Q_MS * 1000000))
}
wait_for -t 10 sleep_until_past_q
if quorate 1 && quorate 2 && ! lost_quorum 1 && ! lost_quorum 2 &&
   [[ -z $(fenced_reason 1)$(fenced_reason 2) ]]; then
	ok "nodes 1 and 2 stay quorate and unfenced"
else
	not_ok "nodes 1 and 2 stay quorate and unfenced"
	diag_node 1
fi
nodes_kill

# ------------------------------------------------------------ 2. one-way loss

for i in 1 2 3; do write_conf "$i"; done
for i in 1 2 3; do node_start "$i"; done
wait_for -t 20 all_up || diag "cluster did not come up for the one-way test"
ns n2 nft -f - <<EOF
table inet vconeway {
	chain in {
		type filter hook input priority 0;
		ip saddr $(addr4 0 1) udp dport 5420 drop
	}
}
EOF
check "one-way loss: node 2 sees node 1 DOWN (timeout)" \
	wait_for -t 10 eval '[[ $(state 2 1) == down ]] &&
		has 2 ".node == 1 and .state == \"down\" and .reason == \"timeout\""'
check "one-way loss: node 1 sees node 2 DOWN (declared)" \
	wait_for -t 10 eval '[[ $(state 1 2) == down ]] &&
		has 1 ".node == 2 and .state == \"down\" and .reason == \"declared\""'
ns n2 nft delete table inet vconeway
# DOWN is sticky for that life: healed, they keep refusing each other.
sleep_hb() { sleep $((INTERVAL_MS * MISSES * 2 / 1000)).$((INTERVAL_MS * MISSES * 2 % 1000)); }
sleep_hb
check "healed: DOWN stays DOWN for that life" eval '[[ $(state 1 2) == down && $(state 2 1) == down ]]'
check "node 3 still sees both UP" states_are up 3 1 2
nodes_kill

# ------------------------------------------------------------ 3. agent hung

write_conf 1 "action = kill" "agent-timeout-ms = 1000" "kill-bound-ms = $K_MS"
node_start 1 --arm --pet-ms 100
wait_for -t 10 grep -q '"event":"armed"' "$DIR/n1.out" || diag_node 1
wait_for -t 5 test -s "$DIR/n1.sleep"
sleep_pid=$(node_pid 1 sleep)
drive_pid=$(node_pid 1 mship-drive)
check "the registered process and the driver run" test -n "$sleep_pid" -a -n "$drive_pid"
kill -USR1 "$drive_pid"
check "agent stops petting: its fencer fences (agent, kill)" \
	wait_for -t 10 grep -q "fencing (agent not petting), action kill" "$DIR/n1.err"
if wait_for -t 10 grep -q "every registered process is gone" "$DIR/n1.err" &&
   gone "$sleep_pid" && gone "$drive_pid"; then
	ok "the registered process and the agent are killed"
else
	not_ok "the registered process and the agent are killed"
	diag_node 1
fi
node_kill 1

# ------------------------------------------------------------ 4. partition

for i in 1 2 3; do
	write_conf "$i" "action = log" "quorum-timeout-ms = $Q_MS"
done
for i in 1 2 3; do node_start "$i" --arm; done
wait_for -t 20 all_up || diag "cluster did not come up for the partition test"
wait_for -t 10 eval 'quorate 1 && quorate 2 && quorate 3'
ns n1 nft -f - <<EOF
table inet vcpart {
	chain in {
		type filter hook input priority 0;
		udp dport 5420 drop
	}
	chain out {
		type filter hook output priority 0;
		udp dport 5420 drop
	}
}
EOF
check "partition 1 | 2 3: node 1 loses quorum" wait_for -t 10 eval '! quorate 1 && lost_quorum 1'
if wait_for -t 10 eval '[[ $(fenced_reason 1) == quorum ]]' &&
   grep -q "fencing (past quorum deadline), action log" "$DIR/n1.err"; then
	ok "the minority's fencer fences (quorum)"
else
	not_ok "the minority's fencer fences (quorum)"
	diag_node 1
fi
check "the majority sees node 1 DOWN and stays quorate" \
	wait_for -t 10 eval 'states_are down 2 1 && states_are down 3 1 && quorate 2 && quorate 3 &&
		! lost_quorum 2 && ! lost_quorum 3'
nodes_kill
ns n1 nft delete table inet vcpart

# ------------------------------------------------------------ 5. freeze

# Node 3 (armed, log) frozen whole, fencer included, past its quorum
# deadline and the others' dead time, then resumed: rule 3, its first act
# is to fence, before it counts a single fresh vote; its old life stays
# refused.
for i in 1 2 3; do
	write_conf "$i" "action = log" "quorum-timeout-ms = $Q_MS"
done
for i in 1 2 3; do node_start "$i" --arm --pet-ms 100; done
wait_for -t 20 all_up || diag "cluster did not come up for the freeze test"
wait_for -t 10 eval 'quorate 1 && quorate 2 && quorate 3'
frozen=$(pgrep --ns "$(node_pid 3 init)" --nslist pid | tr '\n' ' ')
# shellcheck disable=SC2086
kill -STOP $frozen
wait_for -t 10 eval 'states_are down 1 3 && states_are down 2 3'
sleep $((Q_MS / 1000)).5
before=$(wc -l <"$DIR/n3.out")
# shellcheck disable=SC2086
kill -CONT $frozen
wait_for -t 10 eval '[[ -n $(fenced_reason 3) ]]'
first=$(tail -n +$((before + 1)) "$DIR/n3.out" | head -n1)
check "frozen past its deadline, resumed: it fences (quorum) first" \
	test "$(jq -r '.event + " " + (.reason // "")' <<<"$first")" == "fenced quorum"
sleep_hb
check "resumed: it does not regain quorum" \
	test -z "$(tail -n +$((before + 1)) "$DIR/n3.out" |
		jq -c 'select(.event == "quorum_changed" and .quorate)')"
check "resumed: its old life stays DOWN for the others" \
	eval 'states_are down 1 3 && states_are down 2 3'
nodes_kill

# ------------------------------------------------------------ 6. safety

# Not in a PID namespace: arming with reboot must be refused (this would
# restart the build machine).  Unarmed, the driver's exit fences nothing.
write_conf 1 "action = reboot" "agent-timeout-ms = 60000"
rc=0
ns n1 timeout 10 "$DRIVE" --transport user "$DIR/n1.conf" --fencer "$FENCER" --arm \
	>"$DIR/n1.out" 2>"$DIR/n1.err" || rc=$?
if ((rc == 1)) && grep -q "refusing to arm with action reboot" "$DIR/n1.err" &&
   grep -q "arm: Operation not permitted" "$DIR/n1.err"; then
	ok "initial PID namespace: the reboot action is refused"
else
	not_ok "initial PID namespace: the reboot action is refused" "exit $rc: $(cat "$DIR/n1.err")"
fi

finish
