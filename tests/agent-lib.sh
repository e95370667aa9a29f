# SPDX-License-Identifier: GPL-2.0
# Helpers for agent suites ("# vc-suite: agent"), sourced after tests/lib.sh
# and tests/vc.sh: vclusterd with the user transport, one simulated host
# per network namespace, on the build machine itself.
#
# Topology (vc.sh's, with names of our own so suites never collide):
#
#     ${VC_NS}1   ${VC_NS}2  ...  ${VC_NS}N    one netns per host
#         \         |             /
#          [  br0 in $VC_SW  ]                  198.18.0.I/24
#
# Each host's agent runs in its own PID namespace (unshare --pid): the
# agent is that namespace's init, so killing it takes the whole simulated
# host down at once (power loss), and when its fencer escalates to a
# reboot, reboot(2) ends only that namespace.  A host's files are under
# $AG_DIR/nI/: its config nI.conf, data directory, control socket, log.

VCD=${VCD:-$REPO/user/agent/vclusterd}
VCTL=${VCTL:-$REPO/user/vclusterctl}
AG_DIR=${AG_DIR:-$(mktemp -d /tmp/vcd-test.XXXXXX)}
VC_CONF_DIR=$AG_DIR
# Faster than production so that a suite is quick, slower than the
# machine's scheduling noise (2 shared cores): 100 ms x 5 = 0.5 s dead.
AG_INTERVAL_MS=${AG_INTERVAL_MS:-100}
AG_MISSES=${AG_MISSES:-5}
AG_ELECTION_MS=${AG_ELECTION_MS:-1000}
AG_FENCE_ACTION=${AG_FENCE_ACTION:-kill}
AG_AGENT_TIMEOUT_MS=${AG_AGENT_TIMEOUT_MS:-2000}
AG_QUORUM_TIMEOUT_MS=${AG_QUORUM_TIMEOUT_MS:-1500}
AG_KILL_BOUND_MS=${AG_KILL_BOUND_MS:-500}
AG_AUTO_BOOTSTRAP=${AG_AUTO_BOOTSTRAP:-yes}
AG_CONTROL_GROUP=${AG_CONTROL_GROUP:-0}
# [agent] transport: a guest suite with vcluster.ko loaded sets "kernel".
AG_TRANSPORT=${AG_TRANSPORT:-user}
declare -a AG_PID	# the unshare process of host I (its agent is its child)

ag_conf() { echo "$AG_DIR/n$1/n$1.conf"; }
ag_sock() { echo "$AG_DIR/n$1/vclusterd.sock"; }
ag_log() { echo "$AG_DIR/n$1/vclusterd.log"; }

# ag_write_conf I N [VOTERS]: host I of N; hosts above VOTERS are standby.
ag_write_conf()
{
	local i=$1 n=$2 voters=${3:-$2} j key

	key=$(vc_cluster_key)
	mkdir -p "$AG_DIR/n$i"
	{
		echo "[node]"
		echo "cluster-id = $VC_CLUSTER_ID"
		echo "node-id = $i"
		echo "link0 = $(vc_addr "$i" 0)"
		echo "interval-ms = $AG_INTERVAL_MS"
		echo "misses = $AG_MISSES"
		echo "key-file = $key"
		((i > voters)) && echo "votes = 0"
		echo
		echo "[fence]"
		echo "action = $AG_FENCE_ACTION"
		echo "agent-timeout-ms = $AG_AGENT_TIMEOUT_MS"
		echo "quorum-timeout-ms = $AG_QUORUM_TIMEOUT_MS"
		echo "kill-bound-ms = $AG_KILL_BOUND_MS"
		echo
		echo "[agent]"
		echo "cluster-name = test"
		echo "transport = $AG_TRANSPORT"
		echo "data-dir = data"
		echo "control-socket = vclusterd.sock"
		echo "election-timeout-ms = $AG_ELECTION_MS"
		echo "auto-bootstrap = $AG_AUTO_BOOTSTRAP"
		echo "control-group = $AG_CONTROL_GROUP"
		echo "log-level = debug"
		for ((j = 1; j <= n; j++)); do
			((j == i)) && continue
			echo
			echo "[peer $j]"
			echo "link0 = $(vc_addr "$j" 0)"
			((j > voters)) && echo "votes = 0"
		done
	} >"$(ag_conf "$i")"
}

# ag_cluster N [VOTERS]: the namespaces and configs (no agent started).
ag_cluster()
{
	local n=$1 voters=${2:-$1} i

	vc_switch || return 1
	for ((i = 1; i <= n; i++)); do
		vc_netns_node "$i" 1 || return 1
		ag_write_conf "$i" "$n" "$voters"
	done
	at_exit ag_teardown "$n"
}

# ag_start I: start host I's agent (appends to its log).
ag_start()
{
	local i=$1

	ip netns exec "$VC_NS$i" unshare --pid --fork --kill-child --mount-proc \
		"$VCD" -c "$(ag_conf "$i")" >>"$(ag_log "$i")" 2>&1 </dev/null &
	AG_PID[i]=$!
}

# ag_agent_pid I: the agent's PID as the host sees it (init of host I).
ag_agent_pid()
{
	[[ -n ${AG_PID[$1]:-} ]] || return 1
	pgrep -P "${AG_PID[$1]}" -x vclusterd
}

# ag_fencer_pid I
ag_fencer_pid()
{
	local a

	a=$(ag_agent_pid "$1") || return 1
	pgrep -P "$a" -x vcluster-fencer
}

# ag_running I: host I's agent has not exited (a zombie counts as exited).
ag_running()
{
	local pid=${AG_PID[$1]:-}

	[[ -n $pid && -e /proc/$pid ]] && [[ $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) != Z ]]
}

# ag_wait_exit I SECS: wait for host I's agent to exit; its exit code, or
# 124 when it is still running after SECS.
ag_wait_exit()
{
	local rc=0

	wait_for -t "$2" not ag_running "$1" || return 124
	wait "${AG_PID[$1]}" 2>/dev/null || rc=$?
	AG_PID[$1]=
	return $rc
}

# ag_power_off I: the whole simulated host dies at once.
ag_power_off()
{
	local a

	a=$(ag_agent_pid "$1") && kill -KILL "$a"
	wait "${AG_PID[$1]}" 2>/dev/null
	AG_PID[$1]=
}

# ag_stop I: SIGTERM (a planned stop) and wait for it.
ag_stop()
{
	local a

	a=$(ag_agent_pid "$1") && kill -TERM "$a"
	wait "${AG_PID[$1]}" 2>/dev/null
	local rc=$?
	AG_PID[$1]=
	return $rc
}

ag_teardown()
{
	local n=$1 i

	for ((i = 1; i <= n; i++)); do
		[[ -n ${AG_PID[i]:-} ]] && kill -KILL "${AG_PID[i]}" 2>/dev/null
	done
	wait 2>/dev/null
	vc_teardown
	# Keep the agents' logs for a failed run (tests/run collects VC_LOGDIR).
	if [[ -n ${VC_LOGDIR:-} ]]; then
		for ((i = 1; i <= n; i++)); do
			cp "$(ag_log "$i")" "$VC_LOGDIR/$(basename "$AG_DIR")-n$i.log" 2>/dev/null
		done
	fi
	rm -rf "$AG_DIR"
}

# ag_ctl I ARGS...: vclusterctl against host I's agent.
ag_ctl()
{
	local i=$1

	shift
	"$VCTL" -s "$(ag_sock "$i")" "$@"
}

# ag_status I JQ: a field of host I's status (empty if unreachable).
ag_status()
{
	ag_ctl "$1" status --json --timeout 2 2>/dev/null | jq -r "$2"
}

# ag_dc I: the DC host I knows ("null" if none).
ag_dc() { ag_status "$1" .dc; }

# ag_node_state I J: node J's state in host I's replicated state.
ag_node_state() { ag_status "$1" ".nodes[] | select(.id == $2) | .state"; }

# ag_agree_dc "I J K": each of the hosts knows the same DC; prints it.
ag_agree_dc()
{
	local dc= d i

	for i in $1; do
		d=$(ag_dc "$i")
		[[ -n $d && $d != null ]] || return 1
		[[ -z $dc || $d == "$dc" ]] || return 1
		dc=$d
	done
	echo "$dc"
}

# ag_wait_dc "I J K" [SECS]: wait until they agree on a DC; prints it.
ag_wait_dc()
{
	wait_for -t "${2:-15}" ag_agree_dc "$1" || return 1
	ag_agree_dc "$1"
}

# ag_leaders "I J K": how many of the hosts say they are the raft leader.
ag_leaders()
{
	local n=0 i

	for i in $1; do
		[[ $(ag_status "$i" .raft_state) == leader ]] && n=$((n + 1))
	done
	echo "$n"
}

# ag_is I JQ-EXPR: host I's status satisfies the jq boolean expression.
ag_is()
{
	[[ $(ag_status "$1" "$2") == true ]]
}

# ag_log_has I REGEX
ag_log_has() { grep -Eq "$2" "$(ag_log "$1")"; }
