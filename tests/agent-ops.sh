#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: agent
# vc-timeout: 600
#
# Running a real cluster (issue 6), end to end on three simulated
# hypervisor hosts (tests/vm-lib.sh: netns + PID + mount namespace each,
# own libvirtd listening on the rig's private bridge for peer-to-peer
# migration, vclusterd on the user transport with the kill action), tiny
# real VMs and Debian's own OCF resource agents, with tools/vmcheck
# recording every QEMU's lifetime for the whole run: at the end no VM may
# have run on two hosts at once (a live migration's two QEMUs may overlap
# only while one side is paused), and every VM of a failed host must run
# again within its fence window + 3 s.
#
#   ocf           ocf:heartbeat:Dummy: parameters checked against its
#                 meta-data at add; started, monitored; its monitor fails
#                 (the state file removed): failcount, restarted in place;
#                 at the migration threshold it moves; cleanup resets
#   anti-affinity web1 apart from web2; web1's host dies: web1 runs on the
#                 third host, not with web2, although web2's host is the
#                 less loaded; when its host returns, web1 (which prefers
#                 it) goes back, live
#   standby       node standby: its VMs live-migrate (the guest's uptime
#                 goes on); unstandby: only a VM that prefers the host
#                 comes back, live again
#   move          resource move migrates one VM; the constraint it leaves
#                 is shown and cleared
#   maintenance   a VM in maintenance killed: not restarted, not moved;
#                 maintenance off: restarted in place; cluster and host
#                 maintenance: a killed VM waits too
#   disable       a disabled VM stops and is placed nowhere; enabled, it runs
#   priority      a host with two big VMs dies, the survivor fits one: the
#                 higher priority runs, the other waits with the reason
#   shutdown      cluster leave with the migrate policy: its VMs
#                 live-migrate, node-left, no fence and no window; the
#                 freeze policy: its VMs stop and wait for the host, which
#                 comes back and runs them
#   hooks         a hook script sees each event with its fields
#   history       decisions with their numbers
#   invariant     tools/vmcheck verify over the whole run

set -uo pipefail
. "$(dirname "$0")/lib.sh"
VC_SW=aosw VC_NS=ao
. "$(dirname "$0")/vc.sh"
. "$(dirname "$0")/agent-lib.sh"
. "$(dirname "$0")/vm-lib.sh"

[[ $(id -u) == 0 ]] || skip_all "needs root (namespaces)"
command -v libvirtd >/dev/null || skip_all "libvirtd is not installed (tools/deps.sh)"
command -v jq >/dev/null || skip_all "jq is not installed"
[[ -x /usr/lib/ocf/resource.d/heartbeat/Dummy ]] ||
	skip_all "resource-agents is not installed (tools/deps.sh)"

plan 92

VMCHECK=$REPO/tools/vmcheck
check "build the invariant checker" \
	make -s -C "$REPO/tools/vmcheck.d" O="${VC_BUILD:-$REPO/build}/vmcheck"

# ------------------------------------------------------------- helpers

all_ready()
{
	local i

	for i in 1 2 3; do
		[[ $(ag_status "$i" "[.nodes[] | select(.state == \"online\" and .cpus > 0)] | length") == 3 ]] ||
			return 1
		ag_is "$i" .fence.armed || return 1
	done
}
history_json() { "$VCTL" -s "$(ag_sock "$1")" history --json; }
fenced_count() { history_json "$1" | jq -s "map(select(.op == \"node-fenced\" and .node == $2)) | length"; }
# in_host I CMD...: CMD in host I's mount namespace (its private /run).
in_host() { local i=$1; shift; nsenter -t "$(vm_host_init_pid "$i")" -m -- "$@"; }
# A QEMU started by an incoming migration, not by a boot.
uptime_above() { local u; u=$(vm_guest_uptime "$1" "$2") && awk -v u="$u" -v m="$3" 'BEGIN { exit !(u > m) }'; }

# -------------------------------------------------------------- set up

ag_cluster 3
HOOKLOG=$AG_DIR/hooks.log
for i in 1 2 3; do
	mkdir -p "$AG_DIR/n$i/hooks"
	cat >"$AG_DIR/n$i/hooks/10-record" <<-EOF
	#!/bin/sh
	echo "host $i \$VCLUSTER_EVENT resource=\${VCLUSTER_RESOURCE:-} node=\${VCLUSTER_NODE:-} seq=\$VCLUSTER_SEQ" >>"$HOOKLOG"
	EOF
	chmod +x "$AG_DIR/n$i/hooks/10-record"
	sed -i "/^\\[agent\\]\$/a monitor-interval-ms = 1000\\
hooks-dir = $AG_DIR/n$i/hooks\\
hook-events = resource-*,node-fenced,peer-state\\
migrate-timeout-ms = 60000" "$(ag_conf "$i")"
done

REC=$AG_DIR/vms.jsonl
"$VMCHECK" record --out "$REC" 2>"$REC.err" &
REC_PID=$!
stop_rec() { kill -TERM "$REC_PID" 2>/dev/null; wait "$REC_PID" 2>/dev/null; }
at_exit stop_rec
check "the invariant checker records" wait_for -t 10 grep -q '"ev":"hello"' "$REC"

check_here "three hosts with libvirtd and the agent start" vm_hosts_start "1 2 3"
check "the hosts elect a DC" ag_wait_dc "1 2 3" 30
check "every host is online and armed" wait_for -t 30 all_ready

for vm in web1 web2 filler; do vm_xml "$vm" >"$AG_DIR/$vm.xml"; done

# ------------------------------------------------------------------ OCF

refused()
{
	local i=$1 re=$2 out

	shift 2
	if out=$(ag_ctl "$i" resource add "$@" 2>&1); then
		diag "accepted: $*"
		return 1
	fi
	grep -Eq "$re" <<<"$out" || { diag "said: $out"; return 1; }
}
check "ocf: an unknown parameter is refused with the valid ones" \
	refused 1 "unknown parameter.*nosuch.*state" d1 --ocf ocf:heartbeat:Dummy --param nosuch=1
check "ocf: an unknown agent is refused with the provider's agents" \
	refused 2 "Dummy" d1 --ocf ocf:heartbeat:NoSuchAgent
check "ocf: Dummy is added (its monitor every second)" \
	ag_ctl 1 resource add d1 --ocf ocf:heartbeat:Dummy --param state=/run/vc-d1.state \
		--op monitor-interval=1s --migration-threshold 3 --failure-timeout 10min
d1_runs() { local n; n=$(res_node 1 d1) && [[ $n != 0 ]] && running_on 1 d1 "$n" ocf &&
	in_host "$n" test -e /run/vc-d1.state; }
check "ocf: d1 runs on one host (the agent's state file exists there)" wait_for -t 30 d1_runs
d1_host=$(res_node 1 d1)
check "ocf: its monitor runs (logged)" \
	wait_for -t 10 ag_log_has "$d1_host" "resource d1: running here \\(ocf:heartbeat:Dummy started"
# A monitor that fails: the state file gone, Dummy says "not running".
fails_on() { ag_status 1 ".resources[] | select(.name == \"d1\") | .fails[\"$1\"].count // 0"; }
for k in 1 2; do
	in_host "$d1_host" rm -f /run/vc-d1.state
	restarted_here() { [[ $(fails_on "$d1_host") -ge $k ]] && d1_runs && [[ $(res_node 1 d1) == "$d1_host" ]]; }
	check "ocf: monitor failure $k: counted, restarted in place" wait_for -t 30 restarted_here
done
in_host "$d1_host" rm -f /run/vc-d1.state
moved() { local n; n=$(res_node 1 d1) && [[ $n != 0 && $n != "$d1_host" ]] && d1_runs; }
check "ocf: at the migration threshold (3) it runs on another host" wait_for -t 30 moved
check "ocf: the history has the failures with the agent's answer" \
	bash -c "'$VCTL' -s '$(ag_sock 2)' history --json | jq -s -e 'map(select(.op == \"resource-fail\" and .name == \"d1\" and (.note | test(\"OCF_NOT_RUNNING\")))) | length >= 3' >/dev/null"
check "ocf: cleanup resets its failcount" ag_ctl 2 resource cleanup d1
no_fails() { [[ $(ag_status 3 '.resources[] | select(.name == "d1") | .fails | length') == 0 ]]; }
check "ocf: no failures recorded after cleanup" wait_for -t 10 no_fails

# -------------------------------------------------------- anti-affinity

# filler prefers one host and loads it; web1 and web2 are kept apart.
check "VMs with a policy are added" \
	bash -c "'$VCTL' -s '$(ag_sock 1)' resource add filler --xml '$AG_DIR/filler.xml' --prefer 3=50 &&
		 '$VCTL' -s '$(ag_sock 1)' resource add web1 --xml '$AG_DIR/web1.xml' --prefer 1=10 &&
		 '$VCTL' -s '$(ag_sock 1)' resource add web2 --xml '$AG_DIR/web2.xml' --apart web1 --prefer 2=10"
check "a contradictory policy is refused with the reason" \
	bash -c "! '$VCTL' -s '$(ag_sock 2)' resource update web2 --with web1 2>&1 | grep -q . ||
		 '$VCTL' -s '$(ag_sock 2)' resource update web2 --with web1 2>&1 | grep -Eq 'apart|with'"
placed3() { running_on 1 filler 3 && running_on 1 web1 1 && running_on 1 web2 2; }
check "filler, web1 and web2 run where they prefer" wait_for -t 60 placed3
t=$("$VMCHECK" now)
vm_host_power_off 1
apart_ok() { running_on 2 web1 3 && running_on 2 web2 2; }
check "anti-affinity: host 1 dies; web1 runs on host 3, apart from web2 (host 2 had less load)" \
	wait_for -t 30 apart_ok
check "anti-affinity: the placement says why" \
	bash -c "'$VCTL' -s '$(ag_sock 2)' resource show web1 --json | jq -e '.why | test(\"apart|web2\")' >/dev/null"
expect_restart 1 "$t" web1
up_before=$(vm_guest_uptime 3 web1)
check_here "host 1 comes back" vm_host_start 1
check "all three online and armed again" wait_for -t 40 all_ready
web1_home() { running_on 2 web1 1; }
check "preference: web1 (prefers host 1) goes back there once it returns" wait_for -t 60 web1_home
check "preference: it went back live (the guest's uptime went on)" \
	wait_for -t 20 uptime_above 1 web1 "${up_before:-0}"

# ------------------------------------------------------------- standby

# Host 2 runs web2 (prefers host 2, apart from web1 on host 1).
check "standby: web2's guest reports its uptime on host 2" wait_for -t 30 vm_guest_uptime 2 web2
up_before=$(vm_guest_uptime 2 web2)
check "standby: node standby 2" ag_ctl 1 node standby 2
web2_moved() { running_on 1 web2 3; }
check "standby: web2 live-migrated to host 3 (the only host apart from web1)" \
	wait_for -t 60 web2_moved
check "standby: its QEMU on host 2 is gone" wait_for -t 20 not vm_qemu_pid 2 web2
check "standby: the guest's uptime went on (no reboot)" \
	wait_for -t 20 uptime_above 3 web2 "${up_before:-0}"
check "standby: the move is in the history with its reason" \
	bash -c "'$VCTL' -s '$(ag_sock 3)' history --json | jq -s -e 'map(select(.op == \"resource-migrate\" and .name == \"web2\" and (.why | test(\"standby\")))) | length >= 1' >/dev/null"
check "standby: unstandby 2" ag_ctl 1 node unstandby 2
web2_back() { running_on 1 web2 2; }
check "unstandby: web2 (prefers host 2) comes back, live" wait_for -t 60 web2_back
check "unstandby: filler (no preference for host 2) stays on host 3" running_on 1 filler 3

# ---------------------------------------------------------------- move

check "move: resource move filler 1" ag_ctl 2 resource move filler 1
filler_on1() { running_on 1 filler 1; }
check "move: filler live-migrated to host 1" wait_for -t 60 filler_on1
check "move: the constraint it leaves is shown" \
	bash -c "'$VCTL' -s '$(ag_sock 3)' resource show filler --json | jq -e '.target_node == 1' >/dev/null"
check "move: resource clear removes it" ag_ctl 3 resource clear filler
back_to_3() { [[ $(res_field 2 filler target_node) == 0 ]] && running_on 2 filler 3; }
check "move: cleared, filler goes back to host 3 (it prefers host 3)" wait_for -t 60 back_to_3

# --------------------------------------------------------- maintenance

# everyone_sees JQ: every host's replica says so (a commit reaches the
# others with the next raft message).
everyone_sees() { local i; for i in 1 2 3; do ag_is "$i" "$1" || return 1; done; }
check "maintenance: resource maintenance filler on" ag_ctl 1 resource maintenance filler on
check "maintenance: every host knows" \
	wait_for -t 10 everyone_sees '.resources[] | select(.name == "filler") | .maintenance'
pid=$(vm_qemu_pid 3 filler)
kill -KILL "$pid"
gone_and_stays() {
	local k

	for ((k = 0; k < 50; k++)); do
		vm_qemu_pid 3 filler >/dev/null && return 1
		sleep 0.1
	done
	[[ $(res_node 1 filler) == 3 ]]
}
check "maintenance: its killed QEMU is not restarted nor moved" \
	wait_for -t 10 not vm_qemu_pid 3 filler
check "maintenance: ... and stays so (observed 5 s)" gone_and_stays
check "maintenance: the failure is logged, not acted on" \
	ag_log_has 3 "resource filler: .*in maintenance: not acting"
check "maintenance: off" ag_ctl 2 resource maintenance filler off
check "maintenance: off, filler runs again in place" wait_for -t 30 running_on 1 filler 3
check "cluster maintenance on" ag_ctl 3 cluster maintenance on
check "cluster maintenance: every host knows" \
	wait_for -t 10 everyone_sees .cluster_properties.maintenance
w1=$(res_node 1 web1)
pid=$(vm_qemu_pid "$w1" web1)
kill -KILL "$pid"
check "cluster maintenance: web1's QEMU killed, not restarted" wait_for -t 10 not vm_qemu_pid "$w1" web1
stays_down() { local k; for ((k = 0; k < 30; k++)); do vm_qemu_pid "$w1" web1 >/dev/null && return 1; sleep 0.1; done; }
check "cluster maintenance: ... and stays down (3 s)" stays_down
check "cluster maintenance off" ag_ctl 3 cluster maintenance off
check "cluster maintenance off: web1 runs again" wait_for -t 30 running_on 1 web1 "$w1"
check "node maintenance: on for web1's host $w1" ag_ctl 2 node maintenance "$w1" on
node_maint() { ag_is "$w1" ".nodes[] | select(.id == $w1) | .maintenance"; }
check "node maintenance: host $w1 knows" wait_for -t 10 node_maint
pid=$(vm_qemu_pid "$w1" web1)
kill -KILL "$pid"
check "node maintenance: web1's QEMU killed, not restarted" wait_for -t 10 not vm_qemu_pid "$w1" web1
check "node maintenance: ... and stays down (3 s)" stays_down
check "node maintenance: off" ag_ctl 2 node maintenance "$w1" off
check "node maintenance off: web1 runs again in place" wait_for -t 30 running_on 1 web1 "$w1"

# ------------------------------------------------------------- disable

check "disable: resource disable filler" ag_ctl 1 resource disable filler
disabled() {
	local i

	[[ $(res_node 1 filler) == 0 ]] || return 1
	for i in 1 2 3; do ! vm_qemu_pid "$i" filler >/dev/null || return 1; done
}
check "disable: it stops and is placed nowhere" wait_for -t 30 disabled
check "enable: resource enable filler" ag_ctl 2 resource enable filler
check "enable: it runs again" wait_for -t 30 bash -c "n=\$('$VCTL' -s '$(ag_sock 1)' status --json | jq -r '.resources[] | select(.name == \"filler\") | .node'); [[ \$n != 0 ]]"

# -------------------------------------------------------------- priority

# Big VMs (40 % of a host's memory each; the guest kernel uses only 96 MiB
# of it): hi and lo prefer host 2, ballast host 1, host 3 is standby.
# When host 2 dies, host 1 has room for one more.
mem_kib=$(ag_status 1 '.nodes[] | select(.id == 1) | .memory_kib')
big_mib=$((mem_kib * 40 / 100 / 1024))
for vm in hi lo ballast; do
	vm_xml "$vm" "$big_mib" | sed 's/panic=-1/panic=-1 mem=96M/' >"$AG_DIR/$vm.xml"
done
check "priority: node standby 3 (one survivor will be left)" ag_ctl 1 node standby 3
check "priority: ballast (40 % of the memory) runs on host 1" \
	bash -c "'$VCTL' -s '$(ag_sock 1)' resource add ballast --xml '$AG_DIR/ballast.xml' --prefer 1=100"
check "priority: ballast runs on host 1" wait_for -t 60 running_on 1 ballast 1
check "priority: hi (priority 10) and lo (priority 0) are added, both preferring host 2" \
	bash -c "'$VCTL' -s '$(ag_sock 1)' resource add hi --xml '$AG_DIR/hi.xml' --priority 10 --prefer 2=100 &&
		 '$VCTL' -s '$(ag_sock 1)' resource add lo --xml '$AG_DIR/lo.xml' --priority 0 --prefer 2=100"
both_on2() { running_on 1 hi 2 && running_on 1 lo 2; }
check "priority: both run on host 2" wait_for -t 60 both_on2
t=$("$VMCHECK" now)
vm_host_power_off 2
# lo's record still names its fenced holder (host 2): it runs nowhere.
hi_wins() {
	running_on 1 hi 1 && [[ $(res_node 1 lo) == 2 ]] &&
		! vm_qemu_pid 1 lo >/dev/null && ! vm_qemu_pid 3 lo >/dev/null
}
check "priority: host 2 dies; hi runs on host 1, lo waits" wait_for -t 30 hi_wins
check "priority: lo's reason names the memory" \
	wait_for -t 10 ag_log_has "$(ag_dc 1)" "cannot place lo: .*(memory|MiB)"
expect_restart 2 "$t" hi	# lo waits on purpose
check "priority: node unstandby 3: lo runs there" \
	bash -c "'$VCTL' -s '$(ag_sock 1)' node unstandby 3"
check "priority: lo runs on host 3" wait_for -t 60 running_on 1 lo 3
check "priority: the big VMs are removed" \
	bash -c "for v in hi lo ballast; do '$VCTL' -s '$(ag_sock 1)' resource remove \$v || exit 1; done"
big_gone() { [[ $(ag_status 1 '[.resources[] | select(.name == "hi" or .name == "lo" or .name == "ballast")] | length') == 0 ]]; }
check "priority: ... and gone" wait_for -t 30 big_gone
check_here "host 2 comes back" vm_host_start 2
check "all three online and armed again" wait_for -t 40 all_ready

# -------------------------------------------------------------- shutdown

leaver=$(res_node 1 web1)
watcher=$(other_than "$leaver")
vms=$(ag_status "$watcher" "[.resources[] | select(.node == $leaver and .type == \"vm\" and (.removing | not)) | .name] | join(\",\")")
before=$(fenced_count "$watcher" "$leaver")
declare -A UP
for v in ${vms//,/ }; do UP[$v]=$(vm_guest_uptime "$leaver" "$v"); done
t0=$(date +%s%N)
check "shutdown: host $leaver leaves with the migrate policy" \
	ag_ctl "$leaver" cluster leave --policy migrate --timeout 120
t1=$(date +%s%N)
diag "the leave took $(((t1 - t0) / 1000000)) ms for VMs $vms"
left() { [[ $(ag_node_state "$watcher" "$leaver") == left ]]; }
check "shutdown: node-left is committed" wait_for -t 20 left
check "shutdown: no fence for it (no window waited)" \
	test "$(fenced_count "$watcher" "$leaver")" == "$before"
live_elsewhere() {
	local v n

	for v in ${vms//,/ }; do
		n=$(res_node "$watcher" "$v")
		[[ $n != "$leaver" && $n != 0 ]] && running_on "$watcher" "$v" "$n" || return 1
		uptime_above "$n" "$v" "${UP[$v]:-0}" || return 1
	done
}
check "shutdown: its VMs ($vms) run elsewhere, migrated live (uptime went on)" \
	wait_for -t 30 live_elsewhere
check_here "shutdown: its agent starts again (a new life)" vm_agent_start "$leaver"
check "shutdown: all three online and armed again" wait_for -t 40 all_ready

freezer=$(res_node 1 web2)
watcher=$(other_than "$freezer")
fvms=$(ag_status "$watcher" "[.resources[] | select(.node == $freezer and .type == \"vm\") | .name] | join(\",\")")
check "freeze: host $freezer leaves with the freeze policy" \
	ag_ctl "$freezer" cluster leave --policy freeze --timeout 60
frozen() {
	local v

	for v in ${fvms//,/ }; do
		[[ $(res_node "$watcher" "$v") == 0 && $(res_field "$watcher" "$v" frozen_on) == "$freezer" ]] ||
			return 1
		vm_qemu_pid "$freezer" "$v" >/dev/null && return 1
	done
	return 0
}
check "freeze: its VMs ($fvms) are stopped and kept for it" wait_for -t 30 frozen
stay_frozen() { local k; for ((k = 0; k < 20; k++)); do frozen || return 1; sleep 0.1; done; }
check "freeze: ... not placed elsewhere (observed 2 s)" stay_frozen
check_here "freeze: its agent starts again" vm_agent_start "$freezer"
back_home() { local v; for v in ${fvms//,/ }; do running_on "$watcher" "$v" "$freezer" || return 1; done; }
check "freeze: its VMs run there again" wait_for -t 60 back_home

# --------------------------------------------------------------- hooks

check "hooks: a hook saw resource-started of d1 with its fields" \
	grep -Eq "^host [0-9] resource-started resource=d1 node=[0-9]" "$HOOKLOG"
check "hooks: a hook saw node-fenced" grep -Eq " node-fenced " "$HOOKLOG"
check "hooks: events outside hook-events are not run (no 'dc-' events)" \
	not grep -Eq " dc-" "$HOOKLOG"

# ------------------------------------------------------------- history

check "history: vclusterctl history prints the decisions" \
	bash -c "'$VCTL' -s '$(ag_sock 1)' history | grep -Eq 'resource-migrate|migrate'"

# ----------------------------------------------------------- invariant

stop_rec
hosts=()
for i in 1 2 3; do hosts+=(--host "h$i=$(stat -L -c %i "/run/netns/$VC_NS$i")"); done
out=$("$VMCHECK" verify "$REC" "${hosts[@]}" "${EXPECT[@]}" 2>&1)
rc=$?
diag "$(grep -E '^FAIL' -A3 <<<"$out" | head -n 40)"
diag "$(grep -E '^ok' <<<"$out" | head -n 30)"
check "invariant: no VM ran twice at any moment (migrations one-sided); failed hosts' VMs back in time" \
	test "$rc" == 0
check "invariant: the checker saw the live migrations" grep -q '^ok migration' <<<"$out"
