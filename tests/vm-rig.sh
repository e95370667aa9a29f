#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: agent
# vc-timeout: 180
#
# The VM suites' host rig (tests/vm-lib.sh): three simulated hypervisor
# hosts, each a network, PID and mount namespace with its own libvirtd (no
# agent here), real QEMU running a tiny VM, under the invariant checker
# (tools/vmcheck, Documentation/invariant-checker.rst).
#
#   hosts       three libvirtds answer, each in its host's netns and PID
#               namespace, each with its own host UUID
#   VM          a tiny VM defined and started on host 1: its QEMU is in
#               host 1's namespaces and has the XML's UUID; the checker
#               records it on host 1; the guest boots (serial output)
#   power loss  host 1 off: its QEMU, libvirtd and every other process of
#               it gone at once
#   failover    the VM defined and started on host 2: the checker passes
#               with --expect-restart (no overlap, running again in time)
#   freeze      host 2 frozen: every process stopped, QEMU included;
#               thawed: none stopped, libvirtd answers, the VM runs
#   comeback    host 1 started again: the VM is still defined there and
#               libvirt knows it is not running (runtime state was lost)
#   teardown    nothing of the hosts is left: processes, netns, mounts,
#               files

# The checks' functions run through check and wait_for:
# shellcheck disable=SC2317
set -uo pipefail
. "$(dirname "$0")/lib.sh"
VC_SW=vcrigsw VC_NS=vcrig
. "$(dirname "$0")/vc.sh"
. "$(dirname "$0")/agent-lib.sh"
. "$(dirname "$0")/vm-lib.sh"

[[ $(id -u) == 0 ]] || skip_all "needs root (namespaces, libvirtd)"
if ! command -v libvirtd >/dev/null || ! command -v virsh >/dev/null; then
	skip_all "libvirt is not installed (tools/deps.sh)"
fi
[[ -x $VM_QEMU ]] || skip_all "$VM_QEMU is not installed"
command -v jq >/dev/null || skip_all "jq is not installed"

plan 15

VMCHECK=$REPO/tools/vmcheck
WORK=$(mktemp -d /tmp/vm-rig.XXXXXX)
at_exit rm -rf "$WORK"

check "build the checker (make -C tools/vmcheck.d)" \
	make -s -C "$REPO/tools/vmcheck.d" O="${VC_BUILD:-$REPO/build}/vmcheck"
vm_assets || bail_out "no guest kernel or initramfs for the test VMs"

# ------------------------------------------------------------- helpers

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
netns_ino() { stat -L -c %i "/run/netns/$VC_NS$1"; }
proc_ns() { stat -L -c %i "/proc/$1/ns/$2" 2>/dev/null; }	# PID pid|net
host_uuid() { printf '6c766972-7400-4000-8000-%012d' "$1"; }

# libvirtd_pid I: host I's libvirtd.
libvirtd_pid()
{
	local p

	for p in $(vm_host_pids "$1"); do
		[[ $(cat "/proc/$p/comm" 2>/dev/null) == libvirtd ]] && { echo "$p"; return 0; }
	done
	return 1
}

# alive PID STIME: that very process still runs (not a reuse of its PID).
alive() { [[ $(_vm_stime "$1") == "$2" ]]; }

# The recorder, stopped at exit if the suite ends early (registered after
# ag_cluster: ag_teardown's "wait" must not wait for it).
REC=
rec_kill() { [[ -n $REC ]] && kill -TERM "$REC" && wait "$REC"; }

has_ev() { # FILE EV PID [HOST]
	jq -e -s --arg ev "$2" --argjson pid "$3" --arg host "${4:-}" \
		'any(.[]; .ev == $ev and .pid == $pid and ($host == "" or .host == $host))' \
		"$1" >/dev/null
}

# ------------------------------------------------------------- hosts

ag_cluster 3 || bail_out "cannot make the hosts' network namespaces"
t=$(date +%s%N)
vm_hosts_start "1 2 3" --no-agent || bail_out "the hosts did not come up"
ok "hosts: three libvirtds answer ($(ms_since "$t") ms; each ${VM_UP_MS[1]}/${VM_UP_MS[2]}/${VM_UP_MS[3]} ms)"

# isolated I: host I's libvirtd is in netns ${VC_NS}I and the host's own
# PID namespace, and reports the host's UUID.
isolated()
{
	local i l caps

	for i in 1 2 3; do
		l=$(libvirtd_pid "$i") || { echo "host $i: no libvirtd"; return 1; }
		[[ $(proc_ns "$l" net) == $(netns_ino "$i") ]] ||
			{ echo "host $i: libvirtd $l not in $VC_NS$i"; return 1; }
		[[ $(proc_ns "$l" pid) != $(proc_ns $$ pid) ]] ||
			{ echo "host $i: libvirtd $l in our PID namespace"; return 1; }
		caps=$(vm_virsh "$i" capabilities)
		grep -q "<uuid>$(host_uuid "$i")</uuid>" <<<"$caps" ||
			{ echo "host $i: host UUID is not $(host_uuid "$i")"; return 1; }
	done
	[[ $(printf '%s\n' "${VM_PIDNS[@]:1:3}" | sort -u | wc -l) == 3 ]] ||
		{ echo "PID namespaces not distinct: ${VM_PIDNS[*]}"; return 1; }
}
check "hosts: each libvirtd in its host's netns and PID namespace, own host UUID" isolated

# ------------------------------------------------------------- VM on host 1

F=$WORK/vms.jsonl
"$VMCHECK" record --out "$F" 2>"$F.err" &
REC=$!
at_exit rec_kill
wait_for -t 10 grep -q '"ev":"hello"' "$F" || bail_out "the recorder did not start: $(cat "$F.err")"

vm_xml vm1 >"$WORK/vm1.xml" || bail_out "vm_xml failed"
start_on()	# I: define and start vm1 on host I
{
	vm_virsh "$1" define "$WORK/vm1.xml" && vm_virsh "$1" start vm1
}
t=$(date +%s%N)
check "VM: defined and started on host 1" start_on 1
start_ms=$(ms_since "$t")

Q1=
in_host()	# I: vm1's QEMU on host I is in its netns, has the XML's UUID
{
	local q uuid cmd

	q=$(vm_qemu_pid "$1" vm1) || { echo "no QEMU for vm1 on host $1"; return 1; }
	[[ $(proc_ns "$q" net) == $(netns_ino "$1") ]] || { echo "QEMU $q not in $VC_NS$1"; return 1; }
	uuid=$(vm_virsh "$1" domuuid vm1)
	uuid=${uuid%%$'\n'*}
	[[ $uuid == "$(vm_uuid vm1)" ]] || { echo "domuuid $uuid, not $(vm_uuid vm1)"; return 1; }
	cmd=$(tr '\0' ' ' <"/proc/$q/cmdline")
	[[ $cmd == *" -uuid $uuid "* ]] ||
		{ echo "QEMU $q runs without -uuid $uuid"; return 1; }
}
check "VM: its QEMU in host 1's namespaces, with the XML's UUID (start $start_ms ms)" in_host 1
Q1=$(vm_qemu_pid 1 vm1)
Q1_T=$(_vm_stime "$Q1")
check "checker: records QEMU $Q1 of vm1 on $VC_NS""1" \
	wait_for -t 10 has_ev "$F" start "${Q1:-0}" "${VC_NS}1"
t=$(date +%s%N)
if wait_for -t 60 grep -q "vcluster test VM vm1 up" "$AG_DIR/n1/vm/log/qemu/vm1.serial"; then
	ok "VM: the guest boots to its init ($(ms_since "$t") ms after the start returned)"
else
	not_ok "VM: the guest boots to its init" "serial: $(vm_serial 1 vm1 | tail -n 5)"
fi

# ------------------------------------------------------------- power loss

L1=$(libvirtd_pid 1)
L1_T=$(_vm_stime "$L1")
T=$("$VMCHECK" now)
t=$(date +%s%N)
vm_host_power_off 1
off_ms=$(ms_since "$t")
gone()
{
	! alive "$Q1" "$Q1_T" || { echo "QEMU $Q1 still runs"; return 1; }
	! alive "$L1" "$L1_T" || { echo "libvirtd $L1 still runs"; return 1; }
	[[ -z ${VM_INIT[1]} ]] || { echo "host 1 still recorded as up"; return 1; }
	wait_for -t 10 has_ev "$F" end "$Q1" || { echo "no end of $Q1 recorded"; return 1; }
}
check "power loss: host 1's QEMU, libvirtd and every process gone ($off_ms ms)" gone

# ------------------------------------------------------------- failover

t=$(date +%s%N)
start_on 2 >/dev/null 2>&1
Q2=$(vm_qemu_pid 2 vm1)
check "failover: vm1 defined and started on host 2 ($(ms_since "$t") ms), in its namespaces" in_host 2
wait_for -t 10 has_ev "$F" start "${Q2:-0}" "${VC_NS}2"
kill -TERM "$REC" && wait "$REC"
rc=$?
REC=
if ((rc == 0)) && grep -q '"ev":"bye"' "$F"; then
	ok "checker: the recorder exits 0 with a final \"bye\""
else
	not_ok "checker: the recorder exits 0 with a final \"bye\"" "exit $rc; $(cat "$F.err")"
fi
rc=0
out=$("$VMCHECK" verify "$F" --expect-restart "${VC_NS}1 $T 10000 vm1") || rc=$?
diag "$out"
if ((rc == 0)) && grep -q "^ok restart: vm vm1: pid $Q2 on ${VC_NS}2 started" <<<"$out" &&
   [[ $(jq -s '[.[] | select(.ev == "start" and .vm == "vm1")] | length' "$F") == 2 ]]; then
	ok "checker: verify passes with --expect-restart (two lifetimes, no overlap)"
else
	not_ok "checker: verify passes with --expect-restart (two lifetimes, no overlap)" \
		"exit $rc; $(cat "$F")"
fi

# ------------------------------------------------------------- freeze

# states I: "PID COMM STATE" of each process of host I (for diagnostics).
states()
{
	local p

	for p in $(vm_host_pids "$1"); do
		echo "$p $(cat "/proc/$p/comm" 2>/dev/null) $(_vm_state "$p")"
	done
}
L2=$(libvirtd_pid 2)
frozen()
{
	vm_host_freeze 2 || { states 2; return 1; }
	[[ $(_vm_state "$Q2") == T && $(_vm_state "$L2") == T ]] || { states 2; return 1; }
	echo "$(vm_host_pids 2 | wc -l) processes stopped"
}
t=$(date +%s%N)
if out=$(frozen 2>&1); then
	ok "freeze: every process of host 2 stopped, QEMU and libvirtd too ($out, $(ms_since "$t") ms)"
else
	not_ok "freeze: every process of host 2 stopped, QEMU and libvirtd too" "$out"
fi
thawed()
{
	local s

	vm_host_thaw 2 || { states 2; return 1; }
	s=$(vm_virsh 2 domstate vm1)
	[[ ${s%%$'\n'*} == running ]] || { echo "vm1 on host 2: $s"; return 1; }
}
check "thaw: none stopped, libvirtd answers, vm1 running" thawed

# ------------------------------------------------------------- comeback

comeback()
{
	local s

	s=$(vm_virsh 1 domstate vm1)
	s=${s%%$'\n'*}
	[[ $s == "shut off" ]] || { echo "vm1 on host 1 after power loss: '$s'"; return 1; }
	! vm_qemu_pid 1 vm1 || { echo "a QEMU for vm1 on host 1"; return 1; }
}
t=$(date +%s%N)
if vm_host_start 1 --no-agent; then
	check "comeback: host 1 up again ($(ms_since "$t") ms), vm1 defined there and shut off" comeback
else
	not_ok "comeback: host 1 up again, vm1 defined there and shut off" "vm_host_start 1 failed"
fi

# ------------------------------------------------------------- teardown

# Everything of ours, by namespace: the hosts' PID namespaces and netns.
declare -A OURS=()
for i in 1 2 3; do
	OURS[${VM_PIDNS[i]}]=1
	OURS[$(netns_ino "$i")]=1
done
dir=$AG_DIR
t=$(date +%s%N)
vm_teardown
ag_teardown 3
td_ms=$(ms_since "$t")
nothing_left()
{
	local ino n rest left=0

	while read -r ino n rest; do
		[[ -n ${OURS[$ino]:-} ]] && { echo "left: $n"; left=1; }
	done < <(stat -L -c '%i %n' /proc/[0-9]*/ns/pid /proc/[0-9]*/ns/net 2>/dev/null)
	ip netns list | grep -E "^(${VC_NS}[0-9]|$VC_SW)" && left=1
	grep -E "vmhost|$dir" /proc/mounts && left=1
	[[ ! -e $dir ]] || { echo "$dir is still there"; left=1; }
	((left == 0))
}
check "teardown: no process, netns, mount or file of the hosts left ($td_ms ms)" nothing_left

finish
