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
#   migration   another tiny VM (its vCPU kept busy) boots on host 1 and
#               migrates live, peer to peer (virsh migrate --live --p2p,
#               libvirtd to libvirtd over TCP at 198.18.0.I): to host 2 and
#               back; each time its QEMU runs on the target only, started
#               with -incoming, and the guest's uptime goes on there (it
#               did not reboot)
#   executor    the agent's MIGRATE job (user/agent/virt.c, run by
#               user/agent/tests/virt-drive inside host 1) moves it to host
#               3 (persistent there, autostart off, undefined on host 1);
#               on the way back at 1 MiB/s, STATE and HOSTINFO on host 1
#               say paused, "migration", incoming; the job's timeout aborts
#               it and the VM stays on host 3
#   checker     verify accepts those four migrations (the guest ran on one
#               side at a time: the samples saw it run on each source up to
#               the hand-over); a migration whose source is resumed
#               afterwards (plain QEMUs, a busy guest) fails it; verify's
#               rules on hand-written records (tools/vmcheck.d/selftest.sh)
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

plan 24

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

# ------------------------------------------------------------- live migration

# mig1, a tiny VM of its own (vm1 stays on host 2), under a recorder of its
# own, goes from host 1 to host 2 and back (virsh), to host 3 and halfway
# back (the executor's MIGRATE job, virt-drive).  Its vCPU is kept busy, so
# that the checker sees the guest run on each side (an idle one barely
# runs: see Documentation/invariant-checker.rst).
MIGF=$WORK/mig.jsonl
"$VMCHECK" record --out "$MIGF" 2>"$MIGF.err" &
REC=$!
wait_for -t 10 grep -q '"ev":"hello"' "$MIGF" || bail_out "the recorder did not start: $(cat "$MIGF.err")"
vm_xml mig1 128 vcbusy=1 >"$WORK/mig1.xml" || bail_out "vm_xml failed"

# uptime_above I SECONDS: host I's console shows mig1 up longer than that.
uptime_above()
{
	local up

	up=$(vm_guest_uptime "$1" mig1) && awk -v a="$2" -v b="$up" 'BEGIN { exit !(b > a) }'
}

booted()
{
	vm_virsh 1 define "$WORK/mig1.xml" >/dev/null && vm_virsh 1 start mig1 >/dev/null || return 1
	wait_for -t 60 uptime_above 1 1 || { echo "serial: $(vm_serial 1 mig1 | tail -n 3)"; return 1; }
	echo "up $(vm_guest_uptime 1 mig1) s"
}
if out=$(booted 2>&1); then
	ok "migration: mig1 boots on host 1, its console says its uptime every second ($out)"
else
	not_ok "migration: mig1 boots on host 1, its console says its uptime every second" "$out"
fi

# moved I J: mig1 runs on host J only, in J's netns, from a QEMU started
# with -incoming (a migration's target), and libvirt there says running.
moved()
{
	local q cmd s

	wait_for -t 10 not vm_qemu_pid "$1" mig1 || { echo "mig1 still has a QEMU on host $1"; return 1; }
	q=$(vm_qemu_pid "$2" mig1) || { echo "no QEMU of mig1 on host $2"; return 1; }
	[[ $(proc_ns "$q" net) == $(netns_ino "$2") ]] || { echo "QEMU $q not in $VC_NS$2"; return 1; }
	cmd=$(tr '\0' ' ' <"/proc/$q/cmdline")
	[[ $cmd == *" -incoming "* ]] || { echo "QEMU $q was not started with -incoming: $cmd"; return 1; }
	s=$(vm_virsh "$2" domstate mig1)
	[[ ${s%%$'\n'*} == running ]] || { echo "mig1 on host $2: $s"; return 1; }
}

# went_on I J: the guest did not reboot: host J's console goes on with a
# larger uptime than the last line host I's got.
went_on()
{
	local last

	last=$(vm_guest_uptime "$1" mig1) || { echo "no uptime line on host $1"; return 1; }
	if ! wait_for -t 10 uptime_above "$2" "$last"; then
		echo "host $1's last uptime $last s, host $2's $(vm_guest_uptime "$2" mig1) s"
		return 1
	fi
	echo "host $1's last $last s, host $2 goes on at $(vm_guest_uptime "$2" mig1) s"
}

# virsh_move I J: vm_migrate, then both checks; how long virsh took.
virsh_move()
{
	local t out dt

	t=$(date +%s%N)
	out=$(vm_migrate "$1" "$2" mig1 2>&1) || { echo "virsh migrate: $out"; return 1; }
	t=$(ms_since "$t")
	# the guest's pause, from the source's statistics (a transient domain
	# is gone after it left: no statistics)
	dt=$(vm_virsh "$1" domjobinfo --completed mig1 2>/dev/null |
		awk '/^Total downtime/ { print $3, $4 }')
	echo "virsh $t ms${dt:+, the guest paused $dt}"
	moved "$1" "$2" && went_on "$1" "$2"
}
for hop in "1 2" "2 1"; do
	read -r a b <<<"$hop"
	if out=$(virsh_move "$a" "$b" 2>&1); then
		ok "migration: host $a -> host $b live and peer to peer, the guest goes on (${out//$'\n'/; })"
	else
		not_ok "migration: host $a -> host $b live and peer to peer, the guest goes on" "$out"
	fi
done

# ------------------------------------------------------------- the executor

# The agent's libvirt executor (user/agent/virt.c) runs its MIGRATE job
# through user/agent/tests/virt-drive, inside the host as the agent runs:
# its netns, PID and mount namespace (its /proc, libvirtd's default socket).
VIRT_DRIVE=$REPO/user/agent/build/tests/virt-drive
make -s -C "$REPO/user/agent" virt-drive >"$WORK/make.log" 2>&1 ||
	diag "make -C user/agent virt-drive failed: $(tail -n 5 "$WORK/make.log")"
drive_in() { local i=$1; shift; nsenter -t "${VM_INIT[i]}" -n -p -m "$VIRT_DRIVE" "$@"; }
MIG_UUID=$(vm_uuid mig1)

# host_pid PID: the PID as the host's own namespace numbers it.
host_pid() { awk '/^NSpid:/ { print $NF }' "/proc/$1/status"; }

job_move()
{
	local out d

	[[ -x $VIRT_DRIVE ]] || { echo "no $VIRT_DRIVE"; return 1; }
	out=$(drive_in 1 migrate "$MIG_UUID" "$(vm_host_tcp_uri 3)" \
		--flags live,p2p,persist-dest,undefine-source) || { echo "$out"; return 1; }
	moved 1 3 && went_on 1 3 || return 1
	d=$(vm_virsh 3 dominfo mig1)
	grep -q '^Persistent: *yes' <<<"$d" && grep -q '^Autostart: *disable' <<<"$d" ||
		{ echo "on host 3: $d"; return 1; }
	! vm_virsh 1 dominfo mig1 >/dev/null 2>&1 || { echo "mig1 still defined on host 1"; return 1; }
	jq -r '"job \(.took_ns / 1000000 | floor) ms"' <<<"$out"
}
if out=$(job_move 2>&1); then
	ok "executor: MIGRATE host 1 -> host 3 (live, p2p, persist-dest, undefine-source): runs there, persistent, autostart off, gone from host 1 (${out//$'\n'/; })"
else
	not_ok "executor: MIGRATE host 1 -> host 3 (live, p2p, persist-dest, undefine-source)" "$out"
fi

# Back to host 1 at 1 MiB/s with a 3 s timeout: too slow, so the target's
# side can be looked at, and the timeout aborts the job.
drive_in 3 migrate "$MIG_UUID" "$(vm_host_tcp_uri 1)" --bandwidth 1 --timeout-ms 3000 \
	>"$WORK/slow.json" 2>&1 &
SLOW=$!
incoming_seen()
{
	drive_in 1 state "$MIG_UUID" >"$WORK/state.json" &&
		jq -e '.paused and .incoming' "$WORK/state.json" >/dev/null
}
incoming()
{
	local q

	wait_for -t 3 incoming_seen || { echo "state on host 1: $(cat "$WORK/state.json")"; return 1; }
	jq -e '.running and .why == "migration" and .reason == 2' "$WORK/state.json" >/dev/null ||
		{ echo "state on host 1: $(cat "$WORK/state.json")"; return 1; }
	q=$(vm_qemu_pid 1 mig1) || { echo "no incoming QEMU on host 1"; return 1; }
	[[ $(jq .pid "$WORK/state.json") == "$(host_pid "$q")" ]] ||
		{ echo "state's pid is not QEMU $q ($(host_pid "$q") in host 1): $(cat "$WORK/state.json")"; return 1; }
	drive_in 1 hostinfo | jq -e --arg u "$MIG_UUID" \
		'any(.active[]; .uuid == $u and .paused and .incoming and .why == "migration")' >/dev/null ||
		{ echo "hostinfo on host 1: $(drive_in 1 hostinfo)"; return 1; }
	drive_in 3 state "$MIG_UUID" | jq -e '.running and (.paused | not)' >/dev/null ||
		{ echo "state on host 3: $(drive_in 3 state "$MIG_UUID")"; return 1; }
}
check "executor: STATE on the target while a migration comes in: paused, why \"migration\", incoming, its QEMU; HOSTINFO lists it so; the source runs" incoming
slow_rc=0
wait "$SLOW" || slow_rc=$?
aborted()
{
	jq -e '.err == -110 and (.msg | test("aborted after 3000 ms"))' "$WORK/slow.json" >/dev/null ||
		{ echo "exit $slow_rc: $(cat "$WORK/slow.json")"; return 1; }
	wait_for -t 10 not vm_qemu_pid 1 mig1 || { echo "an incoming QEMU is left on host 1"; return 1; }
	[[ $(vm_virsh 3 domstate mig1 | head -n 1) == running ]] || { echo "mig1 not running on host 3"; return 1; }
	jq -r '"\(.took_ns / 1000000 | floor) ms"' "$WORK/slow.json"
}
if out=$(aborted 2>&1); then
	ok "executor: the MIGRATE job's timeout aborts it (-ETIMEDOUT after $out): mig1 runs on host 3, no QEMU left on host 1"
else
	not_ok "executor: the MIGRATE job's timeout aborts it" "$out"
fi

# ------------------------------------------------------------- checker

kill -TERM "$REC" && wait "$REC"
rc=$?
REC=
rc2=0
migv=$("$VMCHECK" verify "$MIGF") || rc2=$?
diag "$migv"
migs_ok()
{
	((rc == 0)) || { echo "the recorder exited $rc: $(cat "$MIGF.err")"; return 1; }
	((rc2 == 0)) || { echo "verify exited $rc2"; return 1; }
	[[ $(grep -c "^ok migration: vm mig1: pid [0-9]* (${VC_NS}[0-9]) -> pid [0-9]* (${VC_NS}[0-9]), overlap [0-9]* ms, guest ran on one side only" <<<"$migv") == 4 ]] ||
		{ echo "not four migrations ok"; return 1; }
	grep -q "^ok migration: vm mig1: pid [0-9]* (${VC_NS}3) -> pid [0-9]* (${VC_NS}1), .*(aborted: the destination ended first)$" <<<"$migv" ||
		{ echo "the aborted one is not reported"; return 1; }
	# the samples saw the busy guest run on the source, up to each hand-over
	[[ $(grep -c "^#   source pid [0-9]*: vCPUs ran .*, the guest last in " <<<"$migv") == 4 ]] ||
		{ echo "the samples did not see the guest run on each source"; return 1; }
	grep -q "^OK: [0-9]* QEMU lifetimes, 4 migration(s), 0 violation(s)" <<<"$migv"
}
check "checker: verify finds the four migrations (the aborted one too) ok: the guest ran on one side only" migs_ok
vm_virsh 3 destroy mig1 >/dev/null 2>&1

# Two plain QEMUs of a busy guest in hosts 1 and 2, migrated over QEMU's
# monitor, after which the source is resumed: both run the guest, and
# verify must say so, naming both.
NEGF=$WORK/neg.jsonl
declare -A NEGQ=()
neg_kill()
{
	local p

	for p in "${NEGQ[@]}"; do kill -KILL "$p" && { wait "$p"; } 2>/dev/null; done
	NEGQ=()
}
at_exit neg_kill
# hmp I CMD: one command to QEMU's monitor on host I (tcp 198.18.0.I:4444).
hmp()
{
	ip netns exec "$VC_NS$1" bash -c 'exec 3<>"/dev/tcp/$1/4444" || exit 1
		printf "%s\n" "$2" >&3; sleep 0.2; timeout 0.3 cat <&3; exit 0' _ "$(vc_addr "$1" 0)" "$2" |
		tr -d '\r'
}
neg_qemu()	# I [ARGS...]
{
	local i=$1

	shift
	ip netns exec "$VC_NS$i" "$VM_QEMU" -name guest=neg1,debug-threads=on -accel tcg -machine pc \
		-m 128 -nodefaults -no-user-config -display none -kernel "$VM_ASSETS/vmlinuz" \
		-initrd "$VM_ASSETS/initrd.gz" -append "console=ttyS0 quiet panic=-1 vcvm=neg1 vcbusy=1" \
		-serial "file:$WORK/neg$i.serial" \
		-monitor "tcp:$(vc_addr "$i" 0):4444,server=on,wait=off" "$@" </dev/null >"$WORK/neg$i.log" 2>&1 &
	NEGQ[$i]=$!
}
neg_migrated() { hmp 1 "info migrate" | grep -q "Migration status: completed"; }
# resumed_source: the scenario, in this shell (it starts processes that the
# cleanups must know); diagnostics on stdout.
resumed_source()
{
	"$VMCHECK" record --out "$NEGF" 2>"$NEGF.err" &
	REC=$!
	wait_for -t 10 grep -q '"ev":"hello"' "$NEGF" || { echo "no recorder: $(cat "$NEGF.err")"; return 1; }
	neg_qemu 1
	wait_for -t 60 grep -q "^vcvm neg1 up" "$WORK/neg1.serial" || { echo "neg1 did not boot"; return 1; }
	neg_qemu 2 -incoming "tcp:$(vc_addr 2 0):4445"
	wait_for -t 10 hmp 2 "info status" || { echo "no monitor on host 2"; return 1; }
	hmp 1 "migrate -d tcp:$(vc_addr 2 0):4445" >/dev/null
	wait_for -t 30 neg_migrated || { echo "not migrated: $(hmp 1 "info migrate")"; return 1; }
	hmp 1 cont >/dev/null
	hmp 1 "info status" | grep -q "VM status: running" || { echo "host 1 did not resume"; return 1; }
	sleep 1
}
neg_verify()
{
	local out rc=0

	out=$("$VMCHECK" verify "$NEGF") || rc=$?
	((rc == 1)) && grep -q "^FAIL migration: vm neg1: pid [0-9]* (${VC_NS}1) -> pid [0-9]* (${VC_NS}2), .*the guest ran on both sides" <<<"$out" &&
		grep -q "^#   both ran in " <<<"$out" || { echo "verify exited $rc: $out"; return 1; }
	grep -m 1 "^#   both ran in " <<<"$out"
}
out=
resumed_source >"$WORK/neg.out" 2>&1
neg_rc=$?
neg_kill
rec_kill
REC=
if ((neg_rc == 0)) && out=$(neg_verify 2>&1); then
	ok "checker: a migration whose source is resumed (plain QEMUs, busy guest) fails verify, naming both (${out#\#   })"
else
	not_ok "checker: a migration whose source is resumed (plain QEMUs, busy guest) fails verify, naming both" \
		"$(cat "$WORK/neg.out")${out:+$'\n'$out}"
fi
check "checker: verify on hand-written records (tools/vmcheck.d/selftest.sh)" \
	"$REPO/tools/vmcheck.d/selftest.sh" "$VMCHECK"

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
