#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: agent
# vc-timeout: 420
#
# vclusterd on the host: real raft over TCP, the user transport and its
# fencer, one simulated host per network namespace (tests/agent-lib.sh).
#
#   config        bad configurations: exit 78 and a message that names the
#                 file, line and key; --check-config accepts a good one
#   3 hosts       one DC elected and agreed; every node committed online;
#                 the watchdog armed once in touch with a quorum
#   power loss    the DC's host killed: a new DC, which commits the old
#                 one fenced after its window (strong: kill action)
#   comeback      that host restarts: online again with a higher
#                 incarnation, its earlier life's fence still on record
#   restart       an agent killed and restarted resumes from its raft
#                 data: the same decision record
#   agent frozen  SIGSTOP of the agent alone: its fencer kills the host
#                 (agent timeout), and the DC commits it fenced
#   leave         `cluster leave`: node-left committed, no fence wait
#   handover      SIGTERM to the DC: leadership handed over first
#   partition     5 hosts cut 2|3: the minority has no DC, stops petting
#                 and is fenced; the majority commits both fenced
#   operator      3 voters and a standby host without auto-bootstrap have
#                 no DC until `cluster bootstrap`, after which the DC adds
#                 the others (the standby as a standby member); a second
#                 bootstrap is refused;
#                 standby and maintenance flags, forwarded to the DC and
#                 replicated; an unprivileged caller may read, not change
#   weak fencing  action log: the DC commits a silent host down but waits
#                 for `node confirm-fenced`, which `watch` reports

set -uo pipefail
. "$(dirname "$0")/lib.sh"
VC_SW=agsw VC_NS=ag
. "$(dirname "$0")/vc.sh"
. "$(dirname "$0")/agent-lib.sh"

[[ $(id -u) == 0 ]] || skip_all "needs root (network namespaces)"
[[ -x $VCD && -x $VCTL ]] || skip_all "build user/ first (make -C user)"
command -v jq >/dev/null || skip_all "jq is not installed"

plan 55

# ---------------------------------------------------------------- config

cfg_case()
{
	local name=$1 want=$2 file=$3 out rc=0

	out=$("$VCD" --check-config -c "$file" 2>&1) || rc=$?
	if ((rc == 78)) && grep -Eq -- "$want" <<<"$out"; then
		ok "config: $name"
	else
		not_ok "config: $name" "exit $rc, output: $out"
	fi
}

cfgdir=$AG_DIR/cfg
mkdir -p "$cfgdir"
vc_key "$cfgdir/k"
base="[node]
cluster-id = 7
node-id = 1
link0 = 198.18.0.1
key-file = k"
printf '%s\n[peer 2]\nlink0 = 198.18.0.2\n' "$base" >"$cfgdir/two.conf"
cfg_case "two voters refused, with the witness fix" \
	"two.conf: 2 voters: .*witness" "$cfgdir/two.conf"
printf '%s\n[agent]\ntransport = kernel\nfrobnicate = 1\n' "$base" >"$cfgdir/key.conf"
cfg_case "unknown key named with file and line" \
	"key.conf:8: unknown key 'frobnicate' in \[agent\] \(valid: cluster-name, " "$cfgdir/key.conf"
printf '%s\n[agent]\ntransport = tcp\n' "$base" >"$cfgdir/tr.conf"
cfg_case "bad transport named with the valid ones" \
	"tr.conf:7: key 'transport' in \[agent\]: 'tcp' is not a transport \(valid: auto, kernel, user\)" \
	"$cfgdir/tr.conf"
sed 's/key-file = k/key-file = missing.key/' <<<"$base" >"$cfgdir/nokey.conf"
cfg_case "missing key file named" "nokey.conf:5: key 'key-file' in \[node\]: .*missing.key" \
	"$cfgdir/nokey.conf"
sed -i '/frobnicate/d' "$cfgdir/key.conf"
check "config: --check-config accepts a one-voter configuration" \
	bash -c "'$VCD' --check-config -c '$cfgdir/key.conf' | grep -q 'key.conf: valid'"

# ---------------------------------------------------------------- 3 hosts

ag_cluster 3
for i in 1 2 3; do ag_start "$i"; done

one_leader() { [[ $(ag_leaders "1 2 3") == 1 ]] && ag_agree_dc "1 2 3" >/dev/null; }
if wait_for -t 30 one_leader; then
	ok "3 hosts: exactly one DC, and all three agree on it"
else
	not_ok "3 hosts: exactly one DC, and all three agree on it" \
		"$(for i in 1 2 3; do ag_status "$i" '[.node, .raft_state, .dc, .term] | @csv'; done)"
fi
all_online() { [[ $(ag_status "$1" '[.nodes[] | select(.state == "online")] | length') == 3 ]]; }
check "3 hosts: every node committed online" wait_for -t 20 all_online 1
armed() { ag_is "$1" .fence.armed; }
check "3 hosts: each watchdog armed once in touch with a quorum" \
	wait_for -t 20 bash -c "$(declare -f ag_is ag_status ag_ctl ag_sock armed); VCTL=$VCTL AG_DIR=$AG_DIR; armed 1 && armed 2 && armed 3"
check "status: human output names the DC" bash -c "'$VCTL' -s '$(ag_sock 1)' status | grep -qi 'dc'"

# --- power loss of the DC
old_dc=$(ag_wait_dc "1 2 3")
survivors=$(for i in 1 2 3; do [[ $i != "$old_dc" ]] && echo -n "$i "; done)
s1=${survivors%% *}
old_inc=$(ag_status "$old_dc" .incarnation)
t0=$(date +%s%N)
ag_power_off "$old_dc"
new_dc() { local d; d=$(ag_agree_dc "$survivors") && [[ $d != "$old_dc" ]]; }
if wait_for -t 15 new_dc; then
	ok "power loss of the DC (node $old_dc): a new DC ($(ag_agree_dc "$survivors")) after $((($(date +%s%N) - t0) / 1000000)) ms"
else
	not_ok "power loss of the DC (node $old_dc): a new DC" \
		"$(for i in $survivors; do ag_status "$i" '[.node, .raft_state, .dc, .term] | @csv'; done)"
fi
fenced() { [[ $(ag_node_state "$1" "$2") == fenced ]]; }
check "power loss: the new DC commits node $old_dc fenced after its window" \
	wait_for -t 20 fenced "$s1" "$old_dc"
check "power loss: the decision is on record (auto, with its window)" \
	bash -c "'$VCTL' -s '$(ag_sock "$s1")' history --json | jq -s -e 'map(select(.op == \"node-fenced\" and .node == $old_dc and .how == \"auto\" and .window_ms > 0)) | length > 0' >/dev/null"

# --- comeback with a higher incarnation
ag_start "$old_dc"
online_again() { [[ $(ag_node_state "$s1" "$old_dc") == online ]]; }
check "comeback: node $old_dc online again" wait_for -t 30 online_again
new_inc=$(ag_status "$old_dc" .incarnation)
check "comeback: with a higher incarnation ($old_inc -> $new_inc)" test "${new_inc:-0}" -gt "$old_inc"
knows_fence() { ag_ctl "$old_dc" history --json | jq -s -e "map(select(.op == \"node-fenced\" and .node == $old_dc)) | length > 0" >/dev/null; }
if wait_for -t 30 knows_fence; then
	ok "comeback: its replicated state knows the earlier fence"
else
	not_ok "comeback: its replicated state knows the earlier fence" \
		"$(set -x; knows_fence 2>&1; echo "rc $?"; ag_ctl "$old_dc" history --json 2>&1)"
fi

# --- an agent killed and restarted resumes from its raft data
dc=$(ag_wait_dc "1 2 3")
f=$(for i in 1 2 3; do [[ $i != "$dc" ]] && echo "$i" && break; done)
before=$(ag_ctl "$f" history --json | jq -s 'map(select(.op != null)) | length')
idx=$(ag_status "$f" .applied_index)
ag_power_off "$f"
ag_start "$f"
resumed() { (($(ag_status "$f" .applied_index) >= idx)); }
check "restart: node $f applies its log again (index >= $idx)" wait_for -t 30 resumed
after=$(ag_ctl "$f" history --json | jq -s 'map(select(.op != null)) | length')
check "restart: the decision record is intact ($before records before, $after after)" \
	test "${after:-0}" -ge "$before"
online3() { all_online "$dc"; }
check "restart: the cluster is whole again" wait_for -t 30 online3

# --- the agent alone frozen: its fencer fences the host
dc=$(ag_wait_dc "1 2 3")
f=$(for i in 3 2 1; do [[ $i != "$dc" ]] && echo "$i" && break; done)
apid=$(ag_agent_pid "$f")
kill -STOP "$apid"
host_gone() { ! ag_running "$f"; }
check "agent frozen: node $f's fencer fences the host (agent timeout ${AG_AGENT_TIMEOUT_MS} ms)" \
	wait_for -t 15 host_gone
check "agent frozen: the DC commits node $f fenced" wait_for -t 20 fenced "$dc" "$f"
AG_PID[f]=
ag_start "$f"
check "agent frozen: node $f rejoins after its restart" wait_for -t 30 online3

# --- cluster leave: no fence wait
dc=$(ag_wait_dc "1 2 3")
f=$(for i in 1 2 3; do [[ $i != "$dc" ]] && echo "$i" && break; done)
check "leave: vclusterctl cluster leave on node $f" ag_ctl "$f" cluster leave
left() { [[ $(ag_node_state "$dc" "$f") == left ]]; }
check "leave: node-left committed" wait_for -t 10 left
rc=0
ag_wait_exit "$f" 10 || rc=$?
if ((rc == 0)); then
	ok "leave: the agent exits 0"
else
	not_ok "leave: the agent exits 0" "exit $rc; $(tail -n 5 "$(ag_log "$f")")"
fi
# A fence commit would come within the window (~3 s); left must stay left.
check "leave: the DC never fences a node that left" \
	bash -c "for k in \$(seq 40); do [[ \$('$VCTL' -s '$(ag_sock "$dc")' status --json | jq -r '.nodes[] | select(.id == $f) | .state') == left ]] || exit 1; sleep 0.1; done"
ag_start "$f"
check "leave: node $f rejoins" wait_for -t 30 online3

# --- planned stop of the DC hands leadership over
dc=$(ag_wait_dc "1 2 3")
others=$(for i in 1 2 3; do [[ $i != "$dc" ]] && echo -n "$i "; done)
ag_stop "$dc"
check "handover: the DC's log says it handed leadership over" ag_log_has "$dc" "leadership handed over"
handed() { local d; d=$(ag_agree_dc "$others") && [[ $d != "$dc" ]]; }
check "handover: the others have a new DC" wait_for -t 5 handed

ag_teardown 3
_at_exit=()

# ---------------------------------------------------------------- 5 hosts, 2|3

AG_DIR=$(mktemp -d /tmp/vcd-test.XXXXXX)
VC_CONF_DIR=$AG_DIR
ag_cluster 5
for i in 1 2 3 4 5; do ag_start "$i"; done
one5() { [[ $(ag_leaders "1 2 3 4 5") == 1 ]] && ag_agree_dc "1 2 3 4 5" >/dev/null; }
check "5 hosts: exactly one DC" wait_for -t 30 one5
all5() { [[ $(ag_status 1 '[.nodes[] | select(.state == "online")] | length') == 5 ]] &&
	 ag_is 1 .fence.armed && ag_is 5 .fence.armed; }
check "5 hosts: all online and armed" wait_for -t 30 all5
# Keep the DC in the majority so the test also shows the minority's side.
dc=$(ag_wait_dc "1 2 3 4 5")
minority="4 5" majority="1 2 3"
[[ " $minority " == *" $dc "* ]] && { minority="1 2"; majority="3 4 5"; }
declare -A mark
for i in $minority; do mark[$i]=$(wc -l <"$(ag_log "$i")"); done
vc_partition "$minority" "$majority"
m1=${majority%% *}
minority_fenced() { local i; for i in $minority; do ag_running "$i" && return 1; done; return 0; }
check "partition 2|3: the minority ($minority) loses its lease and is fenced" \
	wait_for -t 20 minority_fenced
# What the minority's agents logged after the cut.
since_cut() { tail -n +"$((${mark[$1]} + 1))" "$(ag_log "$1")" | grep -Eq "$2"; }
stopped_petting() { local i; for i in $minority; do since_cut "$i" "out of touch with a quorum: not petting" || return 1; done; }
check "partition 2|3: the minority lost the raft lease (stopped petting)" stopped_petting
no_dc_after_cut() { local i; for i in $minority; do since_cut "$i" "no DC known" || return 1; done; }
check "partition 2|3: the minority had no DC" no_dc_after_cut
both_fenced() { local i; for i in $minority; do fenced "$m1" "$i" || return 1; done; }
check "partition 2|3: the majority commits both fenced" wait_for -t 20 both_fenced

ag_teardown 5
_at_exit=()

# ---------------------------------------------------------------- operator

AG_DIR=$(mktemp -d /tmp/vcd-test.XXXXXX)
VC_CONF_DIR=$AG_DIR
AG_AUTO_BOOTSTRAP=no AG_FENCE_ACTION=log AG_CONTROL_GROUP=65534
# Three voters and host 4 as a standby member (votes = 0).
ag_cluster 4 3
# The unprivileged caller must be able to reach the sockets.
chmod 0755 "$AG_DIR" "$AG_DIR"/n*
for i in 1 2 3 4; do ag_start "$i"; done
quorate4() { ag_is 1 .quorate && ag_is 2 .quorate && ag_is 3 .quorate && ag_is 4 .quorate; }
wait_for -t 20 quorate4
nodc() { local i; for i in 1 2 3 4; do [[ $(ag_dc "$i") == null ]] || return 1; done; }
check "operator: no DC before 'cluster bootstrap' (membership quorate)" nodc
check "operator: cluster bootstrap on node 1" ag_ctl 1 cluster bootstrap
check "operator: then one DC" wait_for -t 30 one_leader
all4() { [[ $(ag_status "$1" '[.nodes[] | select(.state == "online")] | length') == 4 ]]; }
check "operator: every node committed online" wait_for -t 20 all4 1
check "operator: host 4 is a standby member" \
	test "$(ag_status 1 '.nodes[] | select(.id == 4) | .role')" == standby
standby_follows() { all4 4 && [[ $(ag_dc 4) == $(ag_dc 1) ]]; }
check "operator: the standby host follows the DC and has the replicated state" \
	wait_for -t 20 standby_follows
other=$(for i in 2 3; do [[ $(ag_dc "$i") != null ]] && echo "$i" && break; done)
out=$(ag_ctl "${other:-2}" cluster bootstrap 2>&1)
rc=$?
if ((rc == 1)) && grep -q "already belongs to a cluster" <<<"$out"; then
	ok "operator: a second bootstrap is refused"
else
	not_ok "operator: a second bootstrap is refused" "exit $rc: $out"
fi
dc=$(ag_wait_dc "1 2 3")
f=$(for i in 3 2 1; do [[ $i != "$dc" ]] && echo "$i" && break; done)
flag() { [[ $(ag_status "$1" ".nodes[] | select(.id == $2) | .$3") == "$4" ]]; }
check "operator: node standby from a follower (node $f) is forwarded to the DC" \
	ag_ctl "$f" node standby "$dc"
check "operator: every host sees the standby flag" \
	wait_for -t 10 bash -c "$(declare -f flag ag_status ag_ctl ag_sock); VCTL=$VCTL AG_DIR=$AG_DIR; flag 1 $dc standby true && flag 2 $dc standby true && flag 3 $dc standby true"
check "operator: node unstandby clears it" \
	bash -c "'$VCTL' -s '$(ag_sock "$f")' node unstandby $dc >/dev/null &&
		 for k in \$(seq 50); do [[ \$('$VCTL' -s '$(ag_sock 1)' status --json | jq -r '.nodes[] | select(.id == $dc) | .standby') == false ]] && exit 0; sleep 0.1; done; exit 1"
check "operator: node maintenance on" ag_ctl "$dc" node maintenance "$f" on
check "operator: the maintenance flag is replicated" wait_for -t 10 flag "$f" "$f" maintenance true
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$VCTL" -s "$(ag_sock "$f")" "$@"; }
check "operator: an unprivileged member of control-group reads status" nobody status
out=$(nobody node standby "$f" 2>&1)
rc=$?
if ((rc == 1)) && grep -q "EPERM\|root\|permitted" <<<"$out"; then
	ok "operator: ... but may not change anything (EPERM)"
else
	not_ok "operator: ... but may not change anything (EPERM)" "exit $rc: $out"
fi

# --- weak fencing waits for the operator
victim=$f
ag_ctl "$dc" node maintenance "$victim" off >/dev/null
watch_out=$AG_DIR/watch.out
"$VCTL" -s "$(ag_sock "$dc")" watch --json --count 200 --timeout 60 >"$watch_out" 2>&1 &
watch_pid=$!
ag_power_off "$victim"
down() { [[ $(ag_node_state "$dc" "$victim") == down ]]; }
check "weak fencing: node $victim committed down (a majority sees it DOWN)" wait_for -t 15 down
pending_weak() { [[ $(ag_status "$dc" ".pending_fences[] | select(.node == $victim) | .weak") != null ]]; }
check "weak fencing: the DC shows it waiting for the operator" wait_for -t 5 pending_weak
# The window of a strong host would have closed by now (about 3 s).
not_fenced_for() { local k; for k in $(seq 40); do [[ $(ag_node_state "$dc" "$victim") == down ]] || return 1; sleep 0.1; done; }
check "weak fencing: it stays down, not fenced, past the window" not_fenced_for
check "weak fencing: node confirm-fenced (from a follower)" \
	ag_ctl "$(for i in 1 2 3; do [[ $i != "$dc" && $i != "$victim" ]] && echo "$i" && break; done)" node confirm-fenced "$victim"
check "weak fencing: then fenced" wait_for -t 10 fenced "$dc" "$victim"
check "weak fencing: recorded as confirmed" \
	bash -c "'$VCTL' -s '$(ag_sock "$dc")' history --json | jq -s -e 'map(select(.op == \"node-fenced\" and .node == $victim and .how == \"confirmed\")) | length > 0' >/dev/null"
saw_event() { jq -s -e "map(select(.event == \"node-fenced\" and .subject == $victim)) | length > 0" "$watch_out" >/dev/null; }
check "weak fencing: watch reported node-fenced" wait_for -t 5 saw_event
kill "$watch_pid" 2>/dev/null

finish
