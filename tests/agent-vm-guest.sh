#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: guest
# vc-timeout: 420
#
# VMs as cluster resources with the kernel transport, inside one guest:
# three simulated hypervisor hosts (tests/vm-lib.sh: a netns, PID and
# mount namespace each, with its own libvirtd and vclusterd; each agent
# drives its netns's vcluster.ko instance, fence action kill), a nested
# tiny VM (TCG inside TCG), and tools/vmcheck recording every QEMU's
# lifetime in the guest for the whole run.  tests/agent-vm.sh is the same
# idea on the build machine with the user transport.
#
#   3 hosts       libvirtd and the agent on each, one DC, every node online
#                 with its capacity, every kernel watchdog armed (kill); vm1
#                 added and running, its QEMU registered with the kernel
#   power loss    vm1's host loses power: its link cut at the switch (its
#                 kernel instance cannot be switched off: it is the guest's)
#                 and all its processes killed at once; vm1 runs on a
#                 survivor; the host comes back with a new life
#   host frozen   every process of vm1's host stopped (QEMU too) for twice
#                 the fence window: the host's kernel, not frozen, fences
#                 the node (its agent stopped petting) and SIGKILLs the
#                 stopped QEMU; vm1 runs on a survivor; thawed, the agent
#                 sees its host fenced and exits; it restarts with a new life
#   agent frozen  SIGSTOP of vm1's host's agent alone: the kernel's agent
#                 watchdog fences the node and kills the QEMU; vm1 runs
#                 elsewhere; the agent, resumed, exits and restarts
#   invariant     tools/vmcheck verify over the whole run: no two QEMUs of
#                 vm1 ever lived at once, and after each failure vm1 ran
#                 again within the fence window + 3 s
#
# The DC is kept in standby (vclusterctl node standby): vm1 runs on the
# other two hosts, and the host that fails is never the DC.  A DC's
# failure adds an election, after which the new DC waits a full window
# again, which the bound does not cover (tests/agent-vm.sh has the DC
# scenarios).
#
# When a host "fails": at power loss, the moment of the cut.  A frozen host
# (or agent) keeps heartbeating -- its kernel is alive -- until the kernel
# fences the node; the failure is then that moment (the kernel's
# fenced_at_ns, on the clock vmcheck uses), and the time since the freeze
# is printed beside it.
#
# The nested VM boots no kernel by default (VG_VM_BOOT=firmware): its QEMU
# runs the firmware, finds nothing to boot and idles, which is all the
# checker needs; a Debian kernel booting under TCG inside TCG would keep
# the guest's one CPU busy for minutes.  VG_VM_BOOT=kernel boots
# tests/vm-lib.sh's kernel and initramfs instead.
#
# Timing for TCG (agent-guest.sh's): heartbeats 100 ms x 10 misses, raft
# election timeout 2 s, agent timeout 3 s, quorum timeout 2 s, kill bound
# 500 ms.

set -uo pipefail
. "$(dirname "$0")/lib.sh"
VC_SW=vgsw VC_NS=vg
. "$(dirname "$0")/vc.sh"
AG_TRANSPORT=kernel
AG_INTERVAL_MS=$VC_INTERVAL_MS AG_MISSES=$VC_MISSES
AG_ELECTION_MS=2000
AG_FENCE_ACTION="kill"
AG_AGENT_TIMEOUT_MS=3000 AG_QUORUM_TIMEOUT_MS=2000 AG_KILL_BOUND_MS=500
. "$(dirname "$0")/agent-lib.sh"
# The guest's own assets: its /tmp is a tmpfs of this boot, the build
# machine's tree is read-only here, and its capability cache (probed by
# the machine's libvirt, for the machine's kernel and CPU) is not ours.
VM_ASSETS=$AG_DIR/vm-assets
. "$(dirname "$0")/vm-lib.sh"
# ag_teardown and vm_teardown keep the logs in the run directory (kept
# when the suite fails).
VC_LOGDIR=${VC_OUT:-}
VG_VM_BOOT=${VG_VM_BOOT:-firmware}
VG_VM_MEM_MIB=64

[[ ${VC_IN_GUEST:-} == 1 ]] || skip_all "a guest suite (tests/run runs it in a guest)"
require_module
[[ -x $VCD && -x $VCTL ]] || skip_all "build user/ first (make -C user)"
command -v libvirtd >/dev/null || skip_all "libvirtd is not installed (tools/deps.sh)"
command -v jq >/dev/null || skip_all "jq is not installed"

plan 35

load_module || bail_out "cannot load $VC_MODULE"
dmesg0=$(dmesg_mark)

# ------------------------------------------------------------- helpers

# wait_calm SECS CMD...: wait_for, polling once a second: for conditions
# whose every poll (vclusterctl and jq for each host) costs the guest's
# one CPU more than an answer sooner is worth.
wait_calm()
{
	local end=$((SECONDS + $1))

	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < end)) || return 1
		sleep 1
	done
}

# show_hosts: each agent's view, its kernel instance and the end of its
# log (diagnostics of a failed point).
show_hosts()
{
	local i p

	for i in 1 2 3; do
		echo "--- host $i: $(ag_status "$i" '[.node, .raft_state, .dc, .incarnation, ([.nodes[] | "\(.id):\(.state):\(.cpus)"] | join(" ")), ([.resources[] | "\(.name)@\(.node):\(.status)"] | join(" "))] | @csv')"
		echo "    kernel: $(vc_ctl "$i" fence show --json 2>&1 | jq -c '{armed, action, fenced, fence_reason, fence_count}' 2>&1)"
		tail -n 8 "$(ag_log "$i")" 2>/dev/null | sed 's/^/    /'
		p=$(vm_host_pids "$i" | tr '\n' ',')
		[[ -n $p ]] && ps -o pid,stat,wchan:24,comm -p "${p%,}" | sed 's/^/    /'
		tail -n 3 "$(vm_host_dir "$i")/vm/init.log" 2>/dev/null | sed 's/^/    /'
	done
}

# host_back I: host I started again after its power loss, its agent running.
host_back()
{
	vc_heal "$1" 0 && vm_host_start "$1" && wait_for -t 10 vm_host_agent_pid "$1"
}

# ready_or_bail SCENARIO: the cluster recovered (the next scenarios need
# it), else stop here, with the logs (a timed-out guest keeps none).
ready_or_bail()
{
	local before=$_tap_fail

	checkh "$1: all three online and armed again" wait_calm 60 all_ready
	((_tap_fail == before)) || bail_out "$1: the cluster did not recover"
}

# checkh NAME CMD...: check, with every host's state when it fails.
checkh()
{
	local before=$_tap_fail

	check "$@"
	((_tap_fail > before)) && diag "$(show_hosts 2>&1)"
	return 0
}

# vmcheck_build: the checker of the shared build when it is current (the
# build tree is read-only here), else one built into this guest's /tmp.
vmcheck_build()
{
	local o

	for o in "${VC_BUILD:-$REPO/build}/vmcheck" "$AG_DIR/vmcheck"; do
		if make -s -C "$REPO/tools/vmcheck.d" O="$o" >/dev/null 2>&1; then
			VMCHECK=$o/vmcheck
			return 0
		fi
	done
	make -C "$REPO/tools/vmcheck.d" O="$AG_DIR/vmcheck"
}

# vg_bin: the programs, copied into this guest's /tmp.  The build tree
# is the build machine's, shared live: a rebuild there during the run
# would replace them under an agent that is started again minutes later.
vg_bin()
{
	mkdir -p "$AG_DIR/bin" &&
		cp "$VCD" "$(dirname "$VCD")/vcluster-fencer" "$VCTL" "$AG_DIR/bin/" || return 1
	VCD=$AG_DIR/bin/vclusterd VCTL=$AG_DIR/bin/vclusterctl
}

# vg_assets: the nested VM's kernel and initramfs: the build machine's
# (read-only) when they are there, else vm-lib.sh makes them here.
vg_assets()
{
	local f src=${VC_BUILD:-$REPO/build}/vm-assets

	mkdir -p "$VM_ASSETS" || return 1
	for f in vmlinuz initrd.gz; do
		[[ -s $src/$f && ! -e $VM_ASSETS/$f ]] && ln -s "$src/$f" "$VM_ASSETS/$f"
	done
	vm_assets
}

# vg_xml NAME: the nested VM's domain (vm-lib.sh's tiny VM; with
# VG_VM_BOOT=firmware, without its kernel).
vg_xml()
{
	if [[ $VG_VM_BOOT == kernel ]]; then
		vm_xml "$1" "$VG_VM_MEM_MIB"
	else
		vm_xml "$1" "$VG_VM_MEM_MIB" | sed -e '/<kernel>/d' -e '/<initrd>/d' -e '/<cmdline>/d'
	fi
}

# kfield I FIELD: FIELD of host I's vcluster.ko instance (fence show).
kfield() { vc_ctl "$1" fence show --json 2>/dev/null | jq -r ".$2"; }

kfenced() { [[ $(kfield "$1" fenced) == true ]]; }


# Every host online with its capacity, its agent armed, its kernel
# watchdog armed with the kill action.
all_ready()
{
	local i

	for i in 1 2 3; do
		[[ $(ag_status "$i" "[.nodes[] | select(.state == \"online\" and .cpus > 0)] | length") == 3 ]] ||
			return 1
		ag_is "$i" .fence.armed && [[ $(kfield "$i" armed) == true ]] &&
			[[ $(kfield "$i" action) == kill ]] || return 1
	done
}

# registered HOST VM: HOST's agent logged VM's QEMU as running with the
# pid it has in the host's PID namespace, registered it without error,
# and HOST's kernel instance lists that QEMU for its kill action.
registered()
{
	local pid inner logged

	pid=$(vm_qemu_pid "$1" "$2") || return 1
	inner=$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status") || return 1
	logged=$(grep -Eo "resource $2: running here \\(QEMU pid [0-9]+" "$(ag_log "$1")" | tail -n 1)
	[[ ${logged##* } == "$inner" ]] || return 1
	! ag_log_has "$1" "resource $2: (its QEMU process was not found|cannot register)" || return 1
	vc_ctl "$1" proc list --json | jq -e "[.. | numbers] | index($pid) != null" >/dev/null
}

# killed_by_kernel HOST VM MARK: VM's QEMU on HOST is gone, and HOST's
# kernel instance logged (after dmesg line MARK) that it sent SIGKILL to
# its registered processes (a zombie whose parent is frozen counts as
# gone: it runs no guest any more).
killed_by_kernel()
{
	! vm_qemu_pid "$1" "$2" >/dev/null &&
		dmesg | tail -n +$(($3 + 1)) | grep -Eq "node $1: SIGKILL sent to [1-9][0-9]* of"
}

# dc_standby: the DC in standby and no other host, so that vm1 is placed
# on the other two only; vm1 is not on the DC (false when the DC changed
# to vm1's host).
dc_standby()
{
	local dc i s

	dc=$(ag_wait_dc "1 2 3" 30) || return 1
	for i in 1 2 3; do
		s=$(ag_status "$dc" ".nodes[] | select(.id == $i) | .standby")
		if ((i == dc)) && [[ $s != true ]]; then
			ag_ctl "$dc" node standby "$i" || return 1
		elif ((i != dc)) && [[ $s == true ]]; then
			ag_ctl "$dc" node unstandby "$i" || return 1
		fi
	done
	[[ $(res_node "$dc" vm1) != "$dc" ]]
}

# fence_window_ms I NODE: the window the DC waited for NODE's last fence.
fence_window_ms()
{
	ag_ctl "$1" history --json |
		jq -s -r "map(select(.op == \"node-fenced\" and .node == $2)) | last | .window_ms"
}

EXPECT=()	# --expect-restart arguments for the final verify
WINDOW=	# the last fence window (ms)
# expect_restart HOST T VM: VM of HOST (failed at T, CLOCK_BOOTTIME ns)
# must run again within its window + 3 s.
expect_restart()
{
	local w

	w=$(fence_window_ms "$(other_than "$1")" "$1")
	[[ $w =~ ^[0-9]+$ ]] ||
		w=$((AG_INTERVAL_MS * AG_MISSES + AG_QUORUM_TIMEOUT_MS + AG_KILL_BOUND_MS + 2 * AG_INTERVAL_MS + 100))
	WINDOW=$w
	EXPECT+=(--expect-restart "h$1 $2 $((w + 3000)) $3")
	diag "bound for $3 after host $1 failed: window $w ms + 3000 ms"
}

# since_ms T: milliseconds from T (CLOCK_BOOTTIME ns) to now.
since_ms() { echo $((($("$VMCHECK" now) - $1) / 1000000)); }

# fenced_at I: when host I's kernel fenced its node (CLOCK_BOOTTIME ns).
fenced_at() { kfield "$1" fenced_at_ns; }

# vm_starts VM: how many QEMU starts of VM the checker has recorded, in
# STARTS.  Bash alone, no process: it is polled while a failover needs the
# guest's one CPU (a poll through vclusterctl and jq costs more).
vm_starts()
{
	local l

	STARTS=0
	mapfile -t _rec <"$REC"
	for l in "${_rec[@]}"; do
		[[ $l == *'"ev":"start","vm":"'"$1"'",'* ]] && STARTS=$((STARTS + 1))
	done
	return 0
}

# started_again VM N: the checker has recorded more than N starts of VM.
started_again() { vm_starts "$1" && ((STARTS > $2)); }

# gap_ms OLD NEW: how long before QEMU NEW's start QEMU OLD ended (ms), as
# the checker recorded them; fails unless OLD ended first.
gap_ms()
{
	jq -s -e --argjson o "$1" --argjson n "$2" '
		([.[] | select(.ev == "end" and .pid == $o)] | last | .end_ns) as $e |
		([.[] | select(.ev == "start" and .pid == $n)] | last | .start_ns) as $s |
		if $e != null and $s != null and $e < $s then ($s - $e) / 1000000 | floor
		else false end' "$REC"
}

# check_gap SCENARIO OLD NEW: the test point of gap_ms.
check_gap()
{
	local g

	if g=$(gap_ms "$2" "$3"); then
		ok "$1: the old QEMU (pid $2) ended $g ms before the new one (pid $3) started"
	else
		not_ok "$1: the old QEMU (pid $2) ended before the new one (pid $3) started" \
			"$(grep -E "\"pid\":($2|$3)," "$REC")"
	fi
}

# ------------------------------------------------------------- set up

vg_bin || bail_out "cannot copy the programs into $AG_DIR"
ag_cluster 3
for i in 1 2 3; do
	sed -i '/^\[agent\]$/a monitor-interval-ms = 5000' "$(ag_conf "$i")"
done

VMCHECK=
check_here "the invariant checker is built" vmcheck_build
REC=$AG_DIR/vms.jsonl
"$VMCHECK" record --out "$REC" --scan-ms 100 --full-scan-ms 1000 2>"$REC.err" &
REC_PID=$!
stop_rec() { kill -TERM "$REC_PID" 2>/dev/null; wait "$REC_PID" 2>/dev/null; }
at_exit stop_rec
check "the invariant checker records (exec events on)" \
	wait_for -t 20 grep -q '"ev":"hello".*"exec_events":true' "$REC"

vg_assets || bail_out "no assets for the nested VM"
t0=$(date +%s%N)
check_here "3 hosts: libvirtd and the agent start on each" vm_hosts_start "1 2 3"
diag "hosts up in $((($(date +%s%N) - t0) / 1000000)) ms (host 1 ${VM_UP_MS[1]:-?} ms with the capability probe)"
on_kernel() { local i; for i in 1 2 3; do [[ $(ag_status "$i" .transport) == kernel ]] || return 1; done; }
checkh "3 hosts: each agent runs the kernel transport" wait_for -t 60 on_kernel
checkh "3 hosts: they elect a DC" ag_wait_dc "1 2 3" 60
checkh "3 hosts: all online with capacity, each kernel watchdog armed (kill)" \
	wait_calm 60 all_ready

checkh "3 hosts: the DC in standby (it never fails here: VMs go to the others)" dc_standby
vg_xml vm1 >"$AG_DIR/vm1.xml"
checkh "vm1: added from its domain XML" ag_ctl 1 resource add vm1 --xml "$AG_DIR/vm1.xml"
placed() { running_elsewhere 1 vm1 0; }
checkh "vm1: runs where the state says" wait_calm 60 placed
h=$(res_node 1 vm1)
checkh "vm1: its QEMU on host $h is registered with the kernel's kill action" \
	wait_for -t 10 registered "$h" vm1

# ----------------------------------------------------------- power loss

checkh "power loss: the DC is in standby, vm1 on another host" dc_standby
victim=$(res_node 1 vm1)
ask=$(other_than "$victim")
vm_starts vm1
n0=$STARTS
t=$("$VMCHECK" now)
vc_cut "$victim" 0
vm_host_power_off "$victim"
wait_for -t 60 started_again vm1 "$n0"
checkh "power loss: host $victim's vm1 runs on a survivor" \
	wait_calm 60 running_elsewhere "$ask" vm1 "$victim"
diag "vm1 reported running again $(since_ms "$t") ms after the power loss"
why_re="node $victim \\\\(incarnation [0-9]+\\\\) fenced \\\\(auto: last heard [0-9]+ ms before, window [0-9]+ ms\\\\)"
checkh "power loss: its placement names the fence and its numbers" \
	bash -c "'$VCTL' -s '$(ag_sock "$ask")' resource show vm1 --json | jq -e '.why | test(\"$why_re\")' >/dev/null"
expect_restart "$victim" "$t" vm1
check_here "power loss: host $victim comes back, its agent running" host_back "$victim"
ready_or_bail "power loss"

# ---------------------------------------------------------- host frozen

checkh "host frozen: the DC is in standby, vm1 on another host" dc_standby
host=$(res_node 1 vm1)
ask=$(other_than "$host")
old=$(vm_qemu_pid "$host" vm1)
vm_starts vm1
n0=$STARTS
mark=$(dmesg_mark)
t=$("$VMCHECK" now)
check_here "host frozen: every process of host $host stopped, its QEMU too" vm_host_freeze "$host"
checkh "host frozen: the kernel fences node $host" wait_for -t 30 kfenced "$host"
tf=$(fenced_at "$host")
diag "fenced ($(kfield "$host" fence_reason)) $((${tf:-$t} / 1000000 - t / 1000000)) ms after the freeze"
checkh "host frozen: its kill action SIGKILLed the stopped QEMU" \
	wait_for -t 10 killed_by_kernel "$host" vm1 "$mark"
wait_for -t 60 started_again vm1 "$n0"
checkh "host frozen: vm1 runs on a survivor" wait_calm 60 running_elsewhere "$ask" vm1 "$host"
diag "vm1 reported running again $(since_ms "$tf") ms after the fence, $(since_ms "$t") ms after the freeze"
check_gap "host frozen" "${old:-0}" "$(vm_qemu_pid "$(res_node "$ask" vm1)" vm1 || echo 0)"
expect_restart "$host" "${tf:-$t}" vm1
# frozen for twice the window in all (a hold, not a wait for anything)
rest=$((2 * WINDOW - $(since_ms "$t")))
((rest > 0)) && sleep "$((rest / 1000)).$(printf %03d $((rest % 1000)))"
vm_host_thaw "$host"
checkh "host frozen: thawed after $(since_ms "$t") ms, the agent sees its host fenced and exits" \
	wait_for -t 30 not vm_host_agent_pid "$host"
checkh "host frozen: it said why" ag_log_has "$host" "this host was fenced \\([a-z]+\\): stopping"
check_here "host frozen: the agent restarts with a new life" vm_agent_start "$host"
ready_or_bail "host frozen"

# --------------------------------------------------------- agent frozen

checkh "agent frozen: the DC is in standby, vm1 on another host" dc_standby
host=$(res_node 1 vm1)
ask=$(other_than "$host")
agent=$(vm_host_agent_pid "$host")
old=$(vm_qemu_pid "$host" vm1)
vm_starts vm1
n0=$STARTS
mark=$(dmesg_mark)
at_exit kill -CONT "$agent"
t=$("$VMCHECK" now)
kill -STOP "$agent"
agent_fenced() { kfenced "$host" && [[ $(kfield "$host" fence_reason) == agent ]]; }
checkh "agent frozen: the kernel's agent watchdog fences node $host" wait_for -t 30 agent_fenced
tf=$(fenced_at "$host")
diag "fenced $((${tf:-$t} / 1000000 - t / 1000000)) ms after the freeze"
checkh "agent frozen: the kernel SIGKILLed its QEMU" \
	wait_for -t 10 killed_by_kernel "$host" vm1 "$mark"
wait_for -t 60 started_again vm1 "$n0"
checkh "agent frozen: vm1 runs elsewhere" wait_calm 60 running_elsewhere "$ask" vm1 "$host"
diag "vm1 reported running again $(since_ms "$tf") ms after the fence, $(since_ms "$t") ms after the freeze"
check_gap "agent frozen" "${old:-0}" "$(vm_qemu_pid "$(res_node "$ask" vm1)" vm1 || echo 0)"
expect_restart "$host" "${tf:-$t}" vm1
kill -CONT "$agent"
checkh "agent frozen: resumed, the agent exits (fenced)" wait_for -t 30 not vm_host_agent_pid "$host"
check_here "agent frozen: it restarts with a new life" vm_agent_start "$host"
ready_or_bail "agent frozen"

# ------------------------------------------------------------ invariant

stop_rec
hosts=()
for i in 1 2 3; do hosts+=(--host "h$i=$(stat -L -c %i "/run/netns/$VC_NS$i")"); done
out=$("$VMCHECK" verify "$REC" "${hosts[@]}" "${EXPECT[@]}" 2>&1)
rc=$?
diag "$out"
check "invariant: vm1 never ran twice at once, and ran again in time after each failure" \
	test "$rc" -eq 0
check "no kernel warnings" check_dmesg "$dmesg0"
finish
