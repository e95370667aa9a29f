#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: agent
# vc-timeout: 420
#
# VMs as cluster resources, end to end: three simulated hypervisor hosts
# (tests/vm-lib.sh: a netns, PID and mount namespace each, with its own
# libvirtd and vclusterd on the user transport, fence action kill), tiny
# real VMs, and tools/vmcheck recording every QEMU's lifetime on the
# machine for the whole run.  At the end the checker must find no VM that
# ran twice at any moment, and every VM of a failed host running again
# within its fence window + 3 s.
#
#   definitions   bad XML, an unknown domain, a name or a domain already in
#                 use: refused with the reason, nothing changes
#   placement     two VMs spread over the hosts, each QEMU registered for
#                 the kill action
#   crash         a VM's QEMU killed: restarted in place; killed up to its
#                 migration threshold (3): released as failed, it runs
#                 elsewhere, and the state counts its failures there
#   power loss    a host holding a VM loses power (agent, libvirtd, QEMUs
#                 at once): its VM runs elsewhere after the window
#   DC host       the DC's host loses power: a new DC recovers its VMs
#   partition     1|2: the lone host fences itself (its QEMU killed by its
#                 fencer) and the majority restarts its VM
#   agent frozen  SIGSTOP of the agent alone: its fencer kills its QEMU,
#                 the VM runs elsewhere; the agent is gone once resumed
#   one-way loss  host A no longer hears host B (B hears A): one of them
#                 fences itself (rule 1, rule 4) and its VMs run elsewhere
#   leave         cluster leave on a VM's host: its VMs are stopped and
#                 released first, then node-left; no fence, no window
#   weak fencing  a host armed with action log loses power: committed
#                 down, never recovered by itself; once an operator
#                 confirms it off, its VM runs elsewhere
#   remove        a removed VM is stopped and forgotten
#   invariant     tools/vmcheck verify over the run so far
#   5 hosts       three VM hosts and two witnesses (libvirt-uri = none,
#                 never given a VM): a VM host dies, and while its fence
#                 window runs the DC's host dies too; the new DC restarts
#                 the window in full and every VM of both runs again on
#                 the last VM host; vmcheck verify again
#
# Not here: a whole host frozen (SIGSTOP of all its processes, QEMUs too).
# With the user transport the fencer is frozen with the host, so when the
# host resumes its QEMUs and its fencer race (Documentation/resources.rst);
# tests/agent-vm-guest.sh runs it with the kernel transport, whose kill
# action ends the frozen QEMUs while the host is still stopped.

set -uo pipefail
. "$(dirname "$0")/lib.sh"
VC_SW=avsw VC_NS=av
. "$(dirname "$0")/vc.sh"
. "$(dirname "$0")/agent-lib.sh"
. "$(dirname "$0")/vm-lib.sh"

[[ $(id -u) == 0 ]] || skip_all "needs root (namespaces)"
command -v libvirtd >/dev/null || skip_all "libvirtd is not installed (tools/deps.sh)"
command -v jq >/dev/null || skip_all "jq is not installed"

plan 69

VMCHECK=$REPO/tools/vmcheck
check "build the invariant checker" \
	make -s -C "$REPO/tools/vmcheck.d" O="${VC_BUILD:-$REPO/build}/vmcheck"

# ------------------------------------------------------------- helpers

# check_here (lib.sh), res_field, running_on, other_than and the like
# (vm-lib.sh) are shared with the other VM suites.


# Every host online at its current incarnation and armed.
all_ready()
{
	local i

	for i in 1 2 3; do
		[[ $(ag_status "$i" "[.nodes[] | select(.state == \"online\" and .cpus > 0)] | length") == 3 ]] ||
			return 1
		ag_is "$i" .fence.armed || return 1
	done
}


# -------------------------------------------------------------- set up

ag_cluster 3
for i in 1 2 3; do
	# Monitor often: a QEMU that dies unseen is found within a second.
	sed -i '/^\[agent\]$/a monitor-interval-ms = 1000' "$(ag_conf "$i")"
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

for vm in vm1 vm2 vm3 vm4; do vm_xml "$vm" >"$AG_DIR/$vm.xml"; done

# ---------------------------------------------------------- definitions

# refused I EXPECTED-REGEX ARGS...: resource add fails, saying so.
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

printf '<domain type="qemu"><name>bad</name><memory>x</memory></domain>\n' >"$AG_DIR/bad.xml"
check "an invalid domain XML is refused with libvirt's reason" \
	refused 1 "libvirt refused the domain XML" bad --xml "$AG_DIR/bad.xml"
check "an unknown domain is refused" \
	refused 2 'no domain "nosuch" is defined' nosuch --domain nosuch
check "a resource is added from its domain XML" ag_ctl 1 resource add vm1 --xml "$AG_DIR/vm1.xml"
check "a second resource of the same name is refused" \
	refused 2 'a resource named "vm1" exists already' vm1 --xml "$AG_DIR/vm2.xml"
check "the same domain under another name is refused" \
	refused 3 'is already resource "vm1"' vm1copy --xml "$AG_DIR/vm1.xml"
check "a domain already defined on a host is added by name" \
	bash -c "vm_virsh() { virsh -c '$(vm_host_uri 2)' \"\$@\"; }; vm_virsh define '$AG_DIR/vm2.xml' >/dev/null &&
		 '$VCTL' -s '$(ag_sock 2)' resource add vm2 --domain vm2"
only_two() { [[ $(ag_status 3 '[.resources[].name] | join(",")') == "vm1,vm2" ]]; }
check "the refusals changed nothing: exactly vm1 and vm2 exist" wait_for -t 10 only_two

# ------------------------------------------------------------ placement

check "a third VM is added" ag_ctl 3 resource add vm3 --xml "$AG_DIR/vm3.xml"
spread3() {
	local v n seen=""

	for v in vm1 vm2 vm3; do
		n=$(res_node 1 "$v")
		running_on 1 "$v" "$n" || return 1
		[[ $seen == *"$n"* ]] && return 1
		seen+=$n
	done
}
check "the three VMs run, one per host (the default policy spreads them)" wait_for -t 60 spread3
registered() {
	ag_log_has "$1" "resource $2: running here \\(QEMU pid [1-9]" &&
		! ag_log_has "$1" "resource $2: (its QEMU process was not found|cannot register)"
}
check "each QEMU is registered with the fencer" registered "$(res_node 1 vm1)" vm1

# Hosts and their VMs, as host I's replica has them.
vms_on() { ag_status "$1" "[.resources[] | select(.node == $2) | .name] | join(\",\")"; }
# A host running at least one VM, other than those given (and, with
# --not-dc, not the DC).
host_with_vms()
{
	local i ask dc=

	[[ ${1:-} == --not-dc ]] && { shift; dc=$(ag_dc "$(other_than "$@")"); }
	ask=$(other_than "$@")
	for i in 1 2 3; do
		[[ " $* $dc " == *" $i "* ]] && continue
		[[ -n $(vms_on "$ask" "$i") ]] && { echo "$i"; return 0; }
	done
	return 1
}
# recovered ASK HOST VMS: every one of VMS runs on a host other than HOST.
recovered()
{
	local v

	for v in ${3//,/ }; do running_elsewhere "$1" "$v" "$2" || return 1; done
}

# -------------------------------------------------------------- DC host

# First, while every host runs a VM: the DC's host has one to recover.
dc=$(ag_wait_dc "1 2 3")
ask=$(other_than "$dc")
dc_vms=$(vms_on "$ask" "$dc")
t=$("$VMCHECK" now)
vm_host_power_off "$dc"
survivors=$(for i in 1 2 3; do [[ $i == "$dc" ]] || echo -n "$i "; done)
new_dc() { local d; d=$(ag_agree_dc "${survivors% }") && [[ $d != "$dc" ]]; }
check "DC host: the survivors elect a new DC" wait_for -t 20 new_dc
check "DC host: its VMs (${dc_vms:-none!}) run on survivors" \
	wait_for -t 30 recovered "$ask" "$dc" "${dc_vms:-none}"
expect_restart "$dc" "$t" "$dc_vms"
check_here "DC host: it comes back" vm_host_start "$dc"
check "DC host: all three online and armed again" wait_for -t 40 all_ready

# ----------------------------------------------------------- power loss

victim=$(host_with_vms --not-dc) || victim=$(host_with_vms)
ask=$(other_than "$victim")
vms=$(vms_on "$ask" "$victim")
vm=${vms%%,*}
t=$("$VMCHECK" now)
vm_host_power_off "$victim"
check "power loss: host $victim's VMs ($vms) run on survivors" \
	wait_for -t 30 recovered "$ask" "$victim" "$vms"
check "power loss: the placement names the fence and its numbers" \
	bash -c "'$VCTL' -s '$(ag_sock "$ask")' resource show $vm --json |
		 jq -e '.why | test(\"node $victim \\\\(incarnation [0-9]+\\\\) fenced \\\\(auto: last heard [0-9]+ ms before, window [0-9]+ ms\\\\)\")' >/dev/null"
expect_restart "$victim" "$t" "$vms"
check_here "power loss: host $victim comes back (a new life)" vm_host_start "$victim"
check "power loss: all three online and armed again" wait_for -t 40 all_ready

# --------------------------------------------------------------- crash

h1=$(res_node 1 vm1)
pid=$(vm_qemu_pid "$h1" vm1)
kill -KILL "$pid"
restarted() { local p; p=$(vm_qemu_pid "$h1" vm1) && [[ $p != "$pid" ]] && running_on 1 vm1 "$h1"; }
check "crash: vm1's QEMU killed, restarted in place on host $h1" wait_for -t 30 restarted
check "crash: the restart is logged with the count" \
	ag_log_has "$h1" "resource vm1: its QEMU process exited; restarting it here \\(failure 1, migration threshold 3"
# Two more crashes within the failure timeout (migration threshold 3,
# failure timeout 60 s by default): the third gives it up, and the DC
# places it on another host.
for k in 2 3; do
	pid=$(vm_qemu_pid "$h1" vm1) && kill -KILL "$pid"
	((k < 3)) && wait_for -t 30 restarted
done
moved_off() { running_elsewhere 1 vm1 "$h1"; }
check "crash: at its migration threshold vm1 is released as failed and runs elsewhere" \
	wait_for -t 30 moved_off
check "crash: the state counts its failures on host $h1" \
	bash -c "'$VCTL' -s '$(ag_sock 1)' resource show vm1 --json | jq -e '.fails[\"$h1\"].count >= 3' >/dev/null"

# ------------------------------------------------------------ partition

lone=$(host_with_vms) || lone=1
ask=$(other_than "$lone")
lone_vms=$(vms_on "$ask" "$lone")
majority=$(for i in 1 2 3; do [[ $i == "$lone" ]] || echo -n "$i "; done)
t=$("$VMCHECK" now)
vc_partition "$lone" "${majority% }"
qemus_gone() { local v; for v in ${2//,/ }; do ! vm_qemu_pid "$1" "$v" >/dev/null || return 1; done; }
check "partition 1|2: the lone host $lone kills its own QEMUs ($lone_vms) (fencer)" \
	wait_for -t 30 qemus_gone "$lone" "$lone_vms"
check "partition 1|2: its agent stops, fenced" wait_for -t 30 not vm_host_agent_pid "$lone"
check "partition 1|2: the majority runs its VMs" wait_for -t 30 recovered "$ask" "$lone" "$lone_vms"
expect_restart "$lone" "$t" "$lone_vms"
vc_unblock
check_here "partition 1|2: healed, its agent restarts with a new life" vm_agent_start "$lone"
check "partition 1|2: all three online and armed again" wait_for -t 40 all_ready

# --------------------------------------------------------- agent frozen

host=$(host_with_vms) || host=1
ask=$(other_than "$host")
host_vms=$(vms_on "$ask" "$host")
agent=$(vm_host_agent_pid "$host")
t=$("$VMCHECK" now)
kill -STOP "$agent"
check "agent frozen: host $host's fencer kills its QEMUs ($host_vms)" \
	wait_for -t 30 qemus_gone "$host" "$host_vms"
check "agent frozen: its VMs run elsewhere" wait_for -t 30 recovered "$ask" "$host" "$host_vms"
expect_restart "$host" "$t" "$host_vms"
# Its fencer may have killed it too (it hung); if not, it stops once resumed.
kill -CONT "$agent" 2>/dev/null
check "agent frozen: the agent is gone once resumed (its life is over)" \
	wait_for -t 30 not vm_host_agent_pid "$host"
check_here "agent frozen: it restarts with a new life" vm_agent_start "$host"
check "agent frozen: all three online and armed again" wait_for -t 40 all_ready

# --------------------------------------------------------- one-way loss

fenced_lives() { "$VCTL" -s "$(ag_sock "$1")" history --json |
		 jq -s -r 'map(select(.op == "node-fenced")) | length'; }
a=$(host_with_vms) || a=1
b=$(other_than "$a")
watcher=$(other_than "$a" "$b")
before=$(fenced_lives "$watcher")
declare -A had=([$a]=$(vms_on "$watcher" "$a") [$b]=$(vms_on "$watcher" "$b"))
t=$("$VMCHECK" now)
vc_block "$b" "$a"
one_fenced() { [[ $(fenced_lives "$watcher") -gt $before ]]; }
check "one-way loss $b -> $a: one end is committed fenced" wait_for -t 30 one_fenced
loser=$("$VCTL" -s "$(ag_sock "$watcher")" history --json |
	jq -s -r 'map(select(.op == "node-fenced")) | last | .node')
loser_vms=$(ag_status "$watcher" '[.resources[].name] | join(",")')
check "one-way loss: host $loser's VMs run elsewhere, the others' stay" \
	wait_for -t 30 recovered "$watcher" "$loser" "$loser_vms"
expect_restart "$loser" "$t" "${had[$loser]:-}"
vc_unblock
if vm_host_agent_pid "$loser" >/dev/null; then
	wait_for -t 30 not vm_host_agent_pid "$loser"
fi
check_here "one-way loss: host $loser's agent restarts with a new life" vm_agent_start "$loser"
check "one-way loss: all three online and armed again" wait_for -t 40 all_ready

# ---------------------------------------------------------------- leave

leaver=$(res_node 1 vm1)
[[ $leaver == 0 || -z $leaver ]] && leaver=1
watcher=$(other_than "$leaver")
before=$(fenced_lives "$watcher")
check "leave: host $leaver leaves the cluster (vclusterctl cluster leave)" \
	ag_ctl "$leaver" cluster leave --policy stop --timeout 30
left_moved() { running_elsewhere "$watcher" vm1 "$leaver" &&
	       [[ $(ag_node_state "$watcher" "$leaver") == left ]]; }
check "leave: its VM was stopped, released and runs elsewhere; the node is left" \
	wait_for -t 30 left_moved
release_first() {
	"$VCTL" -s "$(ag_sock "$watcher")" history --json | jq -s -e --argjson n "$leaver" '
		(map(select(.op == "resource-release" and .node == $n)) | last | .index) as $r |
		(map(select(.op == "node-left" and .node == $n)) | last | .index) as $l |
		$r != null and $l != null and $r < $l' >/dev/null
}
check "leave: the release was committed before the leave (rule 5)" release_first
check "leave: nobody fenced it" test "$(fenced_lives "$watcher")" -eq "$before"
wait_for -t 30 not vm_host_agent_pid "$leaver"
# It comes back with weak fencing: action log (nothing is killed).
sed -i 's/^action = .*/action = log/' "$(ag_conf "$leaver")"
check_here "leave: it comes back with a new life (fence action log: weak)" \
	vm_agent_start "$leaver"
check "leave: all three online and armed again" wait_for -t 40 all_ready

# --------------------------------------------------------- weak fencing

weak=$leaver
watcher=$(other_than "$weak")
# The other two in standby: the engine can only choose host $weak.
for i in 1 2 3; do [[ $i == "$weak" ]] || ag_ctl "$watcher" node standby "$i" >/dev/null; done
check "weak fencing: a fourth VM, with the other hosts in standby" \
	bash -c "'$VCTL' -s '$(ag_sock "$watcher")' resource add vm4 --xml '$AG_DIR/vm4.xml' >/dev/null"
on_weak() { running_on "$watcher" vm4 "$weak"; }
check "weak fencing: vm4 runs on host $weak" wait_for -t 60 on_weak
for i in 1 2 3; do [[ $i == "$weak" ]] || ag_ctl "$watcher" node unstandby "$i" >/dev/null; done
vm_host_power_off "$weak"
down_weak() { [[ $(ag_node_state "$watcher" "$weak") == down ]]; }
check "weak fencing: host $weak's power cut; committed down" wait_for -t 20 down_weak
# Its window (2.8 s) long passed: a weak host is never recovered by itself.
stays_weak() {
	local end=$((SECONDS + 5))

	while ((SECONDS < end)); do
		[[ $(ag_node_state "$watcher" "$weak") == down && $(res_node "$watcher" vm4) == "$weak" ]] ||
			return 1
		sleep 0.1
	done
}
check "weak fencing: 5 s on, host $weak is still only down and vm4 still placed there" stays_weak
check "weak fencing: an operator confirms it off (node confirm-fenced)" \
	ag_ctl "$watcher" node confirm-fenced "$weak"
confirmed_moved() { running_elsewhere "$watcher" vm4 "$weak"; }
check "weak fencing: then vm4 runs elsewhere" wait_for -t 30 confirmed_moved
check "weak fencing: its placement cites the confirmation" \
	bash -c "'$VCTL' -s '$(ag_sock "$watcher")' resource show vm4 --json | jq -e '.why | test(\"fenced \\\\(confirmed\")' >/dev/null"
sed -i 's/^action = .*/action = kill/' "$(ag_conf "$weak")"
check_here "weak fencing: host $weak comes back (strong again)" vm_host_start "$weak"
check "weak fencing: all three online and armed again" wait_for -t 40 all_ready

# --------------------------------------------------------------- remove

h2=$(res_node 1 vm2)
check "remove: vm2's removal is committed" ag_ctl 1 resource remove vm2
removed() { [[ -z $(res_node 1 vm2) ]] && ! vm_qemu_pid "$h2" vm2 >/dev/null; }
check "remove: vm2 is stopped and gone from the state" wait_for -t 30 removed

# ------------------------------------------------------------ invariant

stop_rec
hosts=()
for i in 1 2 3; do hosts+=(--host "h$i=$(stat -L -c %i "/run/netns/$VC_NS$i")"); done
out=$("$VMCHECK" verify "$REC" "${hosts[@]}" "${EXPECT[@]}" 2>&1)
rc=$?
diag "$out"
check "invariant: no VM ran on two hosts at once, each failed host's VMs ran again in time" \
	test "$rc" -eq 0

# ------------------------------------------- 5 hosts: DC dies in a window

vm_teardown >/dev/null 2>&1
ag_teardown 3 >/dev/null 2>&1
_at_exit=()
AG_DIR=$(mktemp -d /tmp/vcd-test.XXXXXX)
VC_CONF_DIR=$AG_DIR
ag_cluster 5
for i in 1 2 3; do sed -i '/^\[agent\]$/a monitor-interval-ms = 1000' "$(ag_conf "$i")"; done
for i in 4 5; do sed -i '/^\[agent\]$/a libvirt-uri = none' "$(ag_conf "$i")"; done
REC=$AG_DIR/vms5.jsonl
"$VMCHECK" record --out "$REC" 2>"$REC.err" &
REC_PID=$!
at_exit stop_rec
wait_for -t 10 grep -q '"ev":"hello"' "$REC"
check_here "5 hosts: three VM hosts start" vm_hosts_start "1 2 3"
ag_start 4
ag_start 5
five_ready() {
	local i

	for i in 1 2 3 4 5; do
		[[ $(ag_status "$i" '[.nodes[] | select(.state == "online")] | length') == 5 &&
		   $(ag_status "$i" '[.nodes[] | select(.cpus > 0)] | length') == 3 ]] || return 1
		ag_is "$i" .fence.armed || return 1
	done
}
check "5 hosts: all online and armed, only the VM hosts report capacity" wait_for -t 40 five_ready
for vm in vm1 vm2 vm3; do
	vm_xml "$vm" >"$AG_DIR/$vm.xml"
	ag_ctl 1 resource add "$vm" --xml "$AG_DIR/$vm.xml" >/dev/null
done
three_spread() {
	local v n seen=""

	for v in vm1 vm2 vm3; do
		n=$(ag_status 4 ".resources[] | select(.name == \"$v\") | .node")
		[[ $n =~ ^[123]$ && $(ag_status 4 ".resources[] | select(.name == \"$v\") | .status") == running ]] ||
			return 1
		[[ $seen == *"$n"* ]] && return 1
		seen+=$n
	done
}
check "5 hosts: the three VMs run, one per VM host (never on a witness)" wait_for -t 60 three_spread
check "5 hosts: a VM added on a witness is refused (it runs no VMs)" \
	refused 4 "this host runs no VMs" vm4 --xml "$AG_DIR/vm1.xml"

# Host A (a VM host, not the DC) dies; once the DC committed it down (its
# window runs), the DC's host dies too.
dc=$(ag_wait_dc "1 2 3 4 5")
A=1
[[ $A == "$dc" ]] && A=2
A_vms=$(ag_status 4 "[.resources[] | select(.node == $A) | .name] | join(\",\")")
dc_vms=$(ag_status 4 "[.resources[] | select(.node == $dc) | .name] | join(\",\")")
ask=$(for i in 5 4 3 2 1; do [[ $i == "$A" || $i == "$dc" ]] || { echo "$i"; break; }; done)
vm_host_power_off "$A"
a_down() { [[ $(ag_node_state "$ask" "$A") == down ]]; }
check "5 hosts: host $A (VMs ${A_vms}) loses power; the DC commits it down" wait_for -t 20 a_down
tD=$("$VMCHECK" now)
if ((dc <= 3)); then vm_host_power_off "$dc"; else ag_power_off "$dc"; fi
survivors=$(for i in 1 2 3 4 5; do [[ $i == "$A" || $i == "$dc" ]] || echo -n "$i "; done)
new_dc5() { local d; d=$(ag_agree_dc "${survivors% }") && [[ $d != "$dc" ]]; }
check "5 hosts: the DC (host $dc) dies inside host $A's window; a new DC" wait_for -t 20 new_dc5
both_fenced5() { [[ $(ag_node_state "$ask" "$A") == fenced && $(ag_node_state "$ask" "$dc") == fenced ]]; }
check "5 hosts: the new DC commits both fenced" wait_for -t 30 both_fenced5
# The VM hosts left: one when the DC was a VM host, two when it was a
# witness.  Every VM must run on one of them.
left_vm_hosts=$(for i in 1 2 3; do [[ $i == "$A" || $i == "$dc" ]] || echo -n "$i "; done)
all_on_left() {
	local v n

	for v in vm1 vm2 vm3; do
		n=$(res_node "$ask" "$v")
		[[ " $left_vm_hosts " == *" $n "* ]] && running_on "$ask" "$v" "$n" || return 1
	done
}
check "5 hosts: every VM runs on the VM hosts left (${left_vm_hosts% })" wait_for -t 30 all_on_left
check "5 hosts: host $A was committed fenced by the new DC (its window restarted in full)" \
	bash -c "'$VCTL' -s '$(ag_sock "$ask")' history --json |
		 jq -s -e 'map(select(.op == \"node-fenced\" and .node == $A)) | last | .dc != $dc' >/dev/null"
stop_rec
# The new DC restarts host A's window in full from when it took office
# (rule 8: only the waiter's own clock counts), so A's bound, too, counts
# from the DC's death.
EXPECT=(--expect-restart "h$A $tD $(( $(fence_window_ms "$ask" "$A") + 3000 )) $A_vms")
[[ -n $dc_vms ]] && EXPECT+=(--expect-restart "h$dc $tD $(( $(fence_window_ms "$ask" "$dc") + 3000 )) $dc_vms")
hosts=()
for i in 1 2 3; do hosts+=(--host "h$i=$(stat -L -c %i "/run/netns/$VC_NS$i")"); done
out=$("$VMCHECK" verify "$REC" "${hosts[@]}" "${EXPECT[@]}" 2>&1)
rc=$?
diag "$out"
check "5 hosts: no VM ran twice; both hosts' VMs ran again in time" test "$rc" -eq 0
