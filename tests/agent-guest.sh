#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: guest
# vc-timeout: 300
#
# vclusterd with the kernel transport: three netns nodes in one guest, each
# with its own vcluster.ko instance, which its agent configures, starts and
# arms by itself (tests/agent-lib.sh with AG_TRANSPORT=kernel; no
# "vclusterctl load").  Fencing is strong (action kill, nothing
# registered: the instance is fenced and its heartbeats stop).
#
#   3 hosts       each agent on the kernel transport; one DC elected and
#                 agreed; every node online; the kernels see each other UP
#                 and each watchdog is armed
#   DC cut off    the DC's link cut at the switch: the survivors elect a
#                 new DC; the old DC's kernel fences its node and its agent
#                 exits 3; the new DC commits it fenced (auto) after its
#                 window; the survivors' watchdogs never fire (the lease
#                 lapses only briefly while they elect)
#   comeback      link healed, agent restarted: the instance is started
#                 afresh, the node online again with a higher incarnation
#   agent frozen  SIGSTOP of a follower's agent alone: the kernel's agent
#                 watchdog fences that node (reason agent) and the DC
#                 commits it fenced, no other node's watchdog fires; on
#                 SIGCONT the agent exits 3; once restarted it rejoins
#                 with a higher incarnation
#
# Timing for TCG (a guest stalls for hundreds of ms when the host is
# busy): heartbeats 100 ms x 10 misses, raft election timeout 2 s, agent
# timeout 3 s, quorum timeout 2 s, kill bound 500 ms.

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vc.sh"
AG_TRANSPORT=kernel
AG_INTERVAL_MS=$VC_INTERVAL_MS AG_MISSES=$VC_MISSES
AG_ELECTION_MS=2000
AG_FENCE_ACTION="kill"
AG_AGENT_TIMEOUT_MS=3000 AG_QUORUM_TIMEOUT_MS=2000 AG_KILL_BOUND_MS=500
. "$(dirname "$0")/agent-lib.sh"
# ag_teardown keeps the agents' logs here (the run directory, kept when
# the suite fails).
VC_LOGDIR=${VC_OUT:-}

require_module
[[ -x $VCD && -x $VCTL ]] || skip_all "build user/ first (make -C user)"
command -v jq >/dev/null || skip_all "jq is not installed"

plan 21

load_module || bail_out "cannot load $VC_MODULE"
dmesg0=$(dmesg_mark)

# ------------------------------------------------------------------ helpers

# show_hosts "I J": each agent's view and the end of its log (diagnostics).
show_hosts()
{
	local i

	for i in $1; do
		echo "--- n$i: $(ag_status "$i" '[.node, .raft_state, .dc, .term, .incarnation, ([.nodes[] | "\(.id):\(.state)"] | join(" "))] | @csv')"
		echo "    kernel: $(vc_ctl "$i" node show --json 2>&1 | jq -c '{state, incarnation, quorate}' 2>&1) $(vc_ctl "$i" fence show --json 2>&1 | jq -c '{armed, action, fenced, fence_reason, fence_count, last_pet_age_ms}' 2>&1)"
		tail -n 12 "$(ag_log "$i")" | sed 's/^/    /'
	done
}

# checkh "I J" NAME CMD...: check, with those hosts' state when it fails.
checkh()
{
	local hosts=$1 before=$_tap_fail

	shift
	check "$@"
	((_tap_fail > before)) && diag "$(show_hosts "$hosts" 2>&1)"
	return 0
}

others() { local i; for i in 1 2 3; do [[ $i != "$1" ]] && echo -n "$i "; done; }

one_dc() { [[ $(ag_leaders "1 2 3") == 1 ]] && ag_agree_dc "1 2 3" >/dev/null; }
all_online() { [[ $(ag_status "$1" '[.nodes[] | select(.state == "online")] | length') == 3 ]]; }
fenced() { [[ $(ag_node_state "$1" "$2") == fenced ]]; }
online() { [[ $(ag_node_state "$1" "$2") == online ]]; }
# kfield I FIELD: FIELD of node I's vcluster.ko instance (fence show)
kfield() { vc_ctl "$1" fence show --json 2>/dev/null | jq -r ".$2"; }
kfenced() { [[ $(kfield "$1" fenced) == true ]]; }
whole() { one_dc && all_online "$(ag_agree_dc "1 2 3")"; }

# exits_with HOSTS NAME I CODE SECS: a test point: host I's agent exits
# with CODE within SECS.  Not through check: wait needs this shell.
exits_with()
{
	local hosts=$1 name=$2 i=$3 want=$4 rc=0

	ag_wait_exit "$i" "$5" || rc=$?
	if ((rc == want)); then
		ok "$name"
	else
		not_ok "$name" "exit code $rc (124: still running), wanted $want
$(show_hosts "$hosts" 2>&1)"
	fi
}

# ------------------------------------------------------------------ 3 hosts

ag_cluster 3
for i in 1 2 3; do ag_start "$i"; done

on_kernel() { local i; for i in 1 2 3; do [[ $(ag_status "$i" .transport) == kernel ]] || return 1; done; }
checkh "1 2 3" "3 hosts: each agent runs the kernel transport" wait_for -t 60 on_kernel
checkh "1 2 3" "3 hosts: exactly one DC, and all three agree on it" wait_for -t 60 one_dc
checkh "1 2 3" "3 hosts: every node committed online" wait_for -t 30 all_online 1
kernels_up() { vc_all_up 3; }
checkh "1 2 3" "3 hosts: each kernel instance sees both peers UP" wait_for -t 30 kernels_up
armed()
{
	local i

	for i in 1 2 3; do
		ag_is "$i" .fence.armed && [[ $(kfield "$i" armed) == true ]] &&
			[[ $(kfield "$i" action) == kill ]] || return 1
	done
}
checkh "1 2 3" "3 hosts: each agent armed its kernel watchdog (kill)" wait_for -t 30 armed

# ------------------------------------------------------------------ DC cut off

old_dc=$(ag_agree_dc "1 2 3")
survivors=$(others "$old_dc")
s1=${survivors%% *}
old_inc=$(ag_status "$old_dc" .incarnation)
t0=$(date +%s%N)
vc_cut "$old_dc" 0
new_dc() { local d; d=$(ag_agree_dc "$survivors") && [[ $d != "$old_dc" ]]; }
if wait_for -t 30 new_dc; then
	ok "DC cut off (node $old_dc): a new DC (node $(ag_agree_dc "$survivors")) after $((($(date +%s%N) - t0) / 1000000)) ms"
else
	not_ok "DC cut off (node $old_dc): a new DC" "$(show_hosts "1 2 3" 2>&1)"
fi
checkh "$old_dc" "DC cut off: its kernel fences node $old_dc" wait_for -t 30 kfenced "$old_dc"
exits_with "$old_dc" "DC cut off: its agent sees its host fenced and exits 3" "$old_dc" 3 20
if wait_for -t 40 fenced "$s1" "$old_dc"; then
	ok "DC cut off: the new DC commits node $old_dc fenced after its window ($((($(date +%s%N) - t0) / 1000000)) ms after the cut)"
else
	not_ok "DC cut off: the new DC commits node $old_dc fenced after its window" \
		"$(show_hosts "$survivors" 2>&1)"
fi
auto_record()
{
	ag_ctl "$s1" history --json |
		jq -s -e "map(select(.op == \"node-fenced\" and .node == $1 and .how == \"auto\" and .window_ms > 0)) | length > 0" >/dev/null
}
checkh "$survivors" "DC cut off: the decision is on record (auto, with its window)" auto_record "$old_dc"
# the lease lapses briefly during an election; the agent timeout covers it
unfenced() { local i; for i in $1; do [[ $(kfield "$i" fence_count) == 0 ]] || return 1; done; }
checkh "$survivors" "DC cut off: the survivors' watchdogs never fired" unfenced "$survivors"

# ------------------------------------------------------------------ comeback

vc_heal "$old_dc" 0
ag_start "$old_dc"
# the instance runs the agent's new life: not fenced, its incarnation
back()
{
	online "$s1" "$old_dc" && [[ $(kfield "$old_dc" fenced) == false ]] &&
		[[ $(vc_node_field "$old_dc" incarnation) == "$(ag_status "$old_dc" .incarnation)" ]]
}
checkh "1 2 3" "comeback: node $old_dc online again, its instance started afresh with the agent's incarnation" \
	wait_for -t 60 back
new_inc=$(ag_status "$old_dc" .incarnation)
check "comeback: with a higher incarnation ($old_inc -> $new_inc)" test "${new_inc:-0}" -gt "$old_inc"
checkh "1 2 3" "comeback: the cluster is whole again (one DC, all online)" wait_for -t 60 whole

# ------------------------------------------------------------------ agent frozen

dc=$(ag_agree_dc "1 2 3")
f=$(for i in 3 2 1; do [[ $i != "$dc" ]] && echo "$i" && break; done)
f_inc=$(ag_status "$f" .incarnation)
rest=$(others "$f")
declare -A fc0
for i in $rest; do fc0[$i]=$(kfield "$i" fence_count); done
apid=$(ag_agent_pid "$f")
at_exit kill -CONT "$apid"
t0=$(date +%s%N)
kill -STOP "$apid"
agent_fenced() { kfenced "$f" && [[ $(kfield "$f" fence_reason) == agent ]]; }
if wait_for -t 30 agent_fenced; then
	ok "agent frozen: the kernel's agent watchdog fences node $f (reason agent) after $((($(date +%s%N) - t0) / 1000000)) ms"
else
	not_ok "agent frozen: the kernel's agent watchdog fences node $f (reason agent)" \
		"$(show_hosts "$f" 2>&1)"
fi
checkh "$dc" "agent frozen: the DC (node $dc) commits node $f fenced" wait_for -t 40 fenced "$dc" "$f"
same_counts() { local i; for i in $rest; do [[ $(kfield "$i" fence_count) == "${fc0[$i]}" ]] || return 1; done; }
checkh "$rest" "agent frozen: the other nodes' watchdogs did not fire" same_counts
kill -CONT "$apid"
exits_with "$f" "agent frozen: once thawed, the agent sees its host fenced and exits 3" "$f" 3 30
ag_start "$f"
rejoined() { online "$dc" "$f" && (($(ag_status "$f" .incarnation) > f_inc)); }
checkh "1 2 3" "agent frozen: restarted, node $f rejoins online with a higher incarnation" \
	wait_for -t 60 rejoined
checkh "1 2 3" "agent frozen: the cluster is whole again" wait_for -t 60 whole

check "no kernel warnings" check_dmesg "$dmesg0"
finish
