#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: agent
# vc-timeout: 60
#
# tools/vmcheck, the invariant checker of the VM failover suites, against
# real QEMU processes (qemu-system-x86_64 -machine none -S: they start at
# once and sit idle) in two network namespaces standing for two hosts.
#
#   record      the recorder names each QEMU's exact PID, VM and host
#   sequential  vmA on host 1, then on host 2: no violation
#   overlap     vmB started on host 2 before host 1's is killed (about a
#               millisecond apart): a violation naming both PIDs and hosts
#   restart     vmC restarted 50+ ms after host 1 "failed": passes a 5 s
#               bound, fails a 20 ms one; vmD never restarted fails
#   short life  a QEMU living a few ms, with no /proc scan during its life,
#               is recorded with its start and end (exec event + pidfd);
#               without exec events the scan finds it, timed from its fork

set -uo pipefail
. "$(dirname "$0")/lib.sh"

[[ $(id -u) == 0 ]] || skip_all "needs root (network namespaces)"
QEMU=$(command -v qemu-system-x86_64) || skip_all "qemu-system-x86_64 is not installed"
QEMU=$(readlink -f "$QEMU")
command -v jq >/dev/null || skip_all "jq is not installed"

plan 14

VMCHECK=$REPO/tools/vmcheck
WORK=$(mktemp -d /tmp/vmcheck.XXXXXX)
at_exit rm -rf "$WORK"

check "build (make -C tools/vmcheck.d)" \
	make -s -C "$REPO/tools/vmcheck.d" O="${VC_BUILD:-$REPO/build}/vmcheck"

ns_add h1 && ns_add h2 || bail_out "cannot create network namespaces"
H1=${NS_PREFIX}h1 H2=${NS_PREFIX}h2
INO1=$(stat -L -c %i "/run/netns/$H1") INO2=$(stat -L -c %i "/run/netns/$H2")

# ------------------------------------------------------------- helpers

# Processes of ours still running (PID -> signal), ended at exit; a PID is
# dropped once reaped, so nothing else is ever signalled.
declare -A LIVE=()
kill_live() {
	local p
	for p in "${!LIVE[@]}"; do kill "-${LIVE[$p]}" "$p"; done
}
at_exit kill_live

# rec_start FILE [ARGS]: a recorder writing FILE; waits for its "hello".
REC=
rec_start() {
	local f=$1
	shift
	"$VMCHECK" record --out "$f" "$@" 2>"$f.err" &
	REC=$!
	LIVE[$REC]=TERM
	wait_for -t 10 grep -q '"ev":"hello"' "$f"
}

# rec_stop FILE: SIGTERM, exit 0 and a "bye" line, or complain.
REC_BAD=
rec_stop() {
	local rc=0
	kill -TERM "$REC" && wait "$REC" || rc=$?
	unset "LIVE[$REC]"
	if ((rc != 0)) || ! grep -q '"ev":"bye"' "$1"; then
		REC_BAD+="$1: recorder exit $rc; $(cat "$1.err")"$'\n'
	fi
}

# qemu_start HOST VM-OPTION: an idle QEMU in netns HOST; its PID in QPID.
# ip netns exec execs QEMU, so $! is QEMU's own PID.
QPID=
qemu_start() {
	ip netns exec "$NS_PREFIX$1" "$QEMU" -machine none -nographic -nodefaults \
		-S -name "$2" </dev/null >/dev/null 2>&1 &
	QPID=$!
	LIVE[$QPID]=KILL
}

# qemu_execd PID: wait (tightly, 5 s at most) until PID runs QEMU's binary.
qemu_execd() {
	local end=$((${EPOCHREALTIME/./} + 5000000))
	until [[ /proc/$1/exe -ef $QEMU ]]; do
		((${EPOCHREALTIME/./} < end)) || return 1
	done
}

# qemu_kill PID: SIGKILL and reap.
qemu_kill() {
	kill -KILL "$1"
	wait "$1" 2>/dev/null
	unset "LIVE[$1]"
	return 0
}

has_ev() { # FILE EV PID
	jq -e -s --arg ev "$2" --argjson pid "$3" \
		'any(.[]; .ev == $ev and .pid == $pid)' "$1" >/dev/null
}
wait_ev() { wait_for -t 10 has_ev "$@"; }
field() { # FILE EV PID FIELD
	jq -r --arg ev "$2" --argjson pid "$3" \
		"select(.ev == \$ev and .pid == \$pid) | .$4" "$1"
}

# ------------------------------------------------------------- sequential

F=$WORK/seq.jsonl
rec_start "$F" || bail_out "the recorder did not start: $(cat "$F.err")"
qemu_start h1 "guest=vmA,debug-threads=on"; A1=$QPID
wait_ev "$F" start "$A1"
qemu_kill "$A1"
wait_ev "$F" end "$A1"
qemu_start h2 vmA; A2=$QPID
wait_ev "$F" start "$A2"
qemu_kill "$A2"
wait_ev "$F" end "$A2"
rec_stop "$F"

seq_names() {
	jq -e -s --argjson a1 "$A1" --argjson a2 "$A2" --arg h1 "$H1" --arg h2 "$H2" \
		--argjson i1 "$INO1" --argjson i2 "$INO2" '
		[.[] | select(.ev == "start")] as $s |
		($s | length) == 2 and
		($s[0] | .pid == $a1 and .vm == "vmA" and .host == $h1 and .netns == $i1) and
		($s[1] | .pid == $a2 and .vm == "vmA" and .host == $h2 and .netns == $i2)' "$F" ||
		{ cat "$F"; return 1; }
}
check "record: exact PIDs, VM name (both -name forms) and hosts" seq_names

seq_times() {
	local s1 e1 s2 e2
	s1=$(field "$F" start "$A1" start_ns) e1=$(field "$F" end "$A1" end_ns)
	s2=$(field "$F" start "$A2" start_ns) e2=$(field "$F" end "$A2" end_ns)
	((s1 < e1 && e1 < s2 && s2 < e2)) || { cat "$F"; return 1; }
}
check "sequential: lifetimes ordered, each ended by its pidfd" seq_times
check "sequential: vmA on host 1 then host 2 passes" "$VMCHECK" verify "$F"

# ------------------------------------------------------------- overlap

F=$WORK/overlap.jsonl
rec_start "$F" || bail_out "the recorder did not start: $(cat "$F.err")"
qemu_start h1 "guest=vmB,debug-threads=on"; B1=$QPID
wait_ev "$F" start "$B1"
qemu_start h2 "guest=vmB,debug-threads=on"; B2=$QPID
# kill host 1's as soon as host 2's runs QEMU, before the checker may have
# looked at it: its start must still be timed from its exec
qemu_execd "$B2"
qemu_kill "$B1"
wait_ev "$F" start "$B2"
wait_ev "$F" end "$B1"
qemu_kill "$B2"
wait_ev "$F" end "$B2"
rec_stop "$F"

rc=0
out=$("$VMCHECK" verify "$F" --host "h1=$INO1" --host "h2=$INO2") || rc=$?
diag "$out"
if ((rc == 1)) && grep -q "^FAIL overlap: vm vmB: pids $B1 (h1) and $B2 (h2) overlap [0-9]* us" <<<"$out"; then
	ok "overlap: a violation naming both PIDs and hosts"
else
	not_ok "overlap: a violation naming both PIDs and hosts" "exit $rc; $(cat "$F")"
fi
us=$(sed -n 's/^FAIL overlap: .* overlap \([0-9]*\) us$/\1/p' <<<"$out")
if [[ -n $us ]] && ((us < 1000000)); then
	ok "overlap: measured ${us} us (kill right after the second exec)"
else
	not_ok "overlap: measured overlap is plausible" "got '${us}' us"
fi

# ------------------------------------------------------------- restart

F=$WORK/restart.jsonl
rec_start "$F" || bail_out "the recorder did not start: $(cat "$F.err")"
qemu_start h1 "guest=vmC"; C1=$QPID
qemu_start h1 "guest=vmD"; D1=$QPID
wait_ev "$F" start "$C1"
wait_ev "$F" start "$D1"
T=$("$VMCHECK" now)
qemu_kill "$C1"
qemu_kill "$D1"
wait_ev "$F" end "$C1"
past() { (($("$VMCHECK" now) > $1)); }
wait_for -t 5 past $((T + 50000000))	# restart 50+ ms after the failure
qemu_start h2 "guest=vmC"; C2=$QPID
wait_ev "$F" start "$C2"
rec_stop "$F"			# C2 still running: an open lifetime
qemu_kill "$C2"

rc=0
out=$("$VMCHECK" verify "$F" --host "h2=$INO2" --expect-restart "h1 $T 5000 vmC") || rc=$?
if ((rc == 0)) && grep -q "^ok restart: vm vmC: pid $C2 on h2 started" <<<"$out"; then
	ok "restart: within the bound (5000 ms) passes"
else
	not_ok "restart: within the bound (5000 ms) passes" "exit $rc; $out"
fi
rc=0
out=$("$VMCHECK" verify "$F" --expect-restart "h1 $T 20 vmC") || rc=$?
if ((rc == 1)) && grep -q "^FAIL restart: vm vmC: first start after h1 failed is pid $C2 " <<<"$out"; then
	ok "restart: outside the bound (20 ms) fails"
else
	not_ok "restart: outside the bound (20 ms) fails" "exit $rc; $out"
fi
rc=0
out=$("$VMCHECK" verify "$F" --expect-restart "h1 $T 5000 vmC,vmD") || rc=$?
if ((rc == 1)) && grep -q "^FAIL restart: vm vmD: not started again" <<<"$out" &&
   grep -q "^ok restart: vm vmC" <<<"$out"; then
	ok "restart: a VM never restarted fails"
else
	not_ok "restart: a VM never restarted fails" "exit $rc; $out"
fi

# ------------------------------------------------------------- short life

# No scan after the first one for a minute: only the exec event can find
# this QEMU, and only its pidfd can time its end.  It is killed as soon as
# the record shows it, a few ms into its life.
F=$WORK/short.jsonl
rec_start "$F" --scan-ms 60000 --full-scan-ms 60000 ||
	bail_out "the recorder did not start: $(cat "$F.err")"
qemu_start h1 "guest=vmS"; S=$QPID
short_name="short life: recorded (start and end) with no scan during its life"
if [[ $(jq -r 'select(.ev == "hello") | .exec_events' "$F") != true ]]; then
	skip "$short_name" "no proc connector exec events here (CONFIG_PROC_EVENTS)"
	qemu_kill "$S"
else
	wait_ev "$F" start "$S"
	qemu_kill "$S"
	if wait_ev "$F" end "$S"; then
		life=$(($(field "$F" end "$S" end_ns) - $(field "$F" start "$S" start_ns)))
		ok "$short_name; lifetime $((life / 1000)) us"
	else
		not_ok "$short_name" "$(cat "$F")"
	fi
fi
rec_stop "$F"
check "short life: no violation" "$VMCHECK" verify "$F"

# Without exec events (kernels without CONFIG_PROC_EVENTS): found by the
# /proc scan, its start is the fork's clock tick, at or before the exec.
F=$WORK/noexec.jsonl
rec_start "$F" --no-exec-events --scan-ms 5 ||
	bail_out "the recorder did not start: $(cat "$F.err")"
qemu_start h2 "guest=vmE"; E=$QPID
qemu_execd "$E"
t_exec=$("$VMCHECK" now)
wait_ev "$F" start "$E"
qemu_kill "$E"
wait_ev "$F" end "$E"
rec_stop "$F"
noexec() {
	local s e src
	s=$(field "$F" start "$E" start_ns) e=$(field "$F" end "$E" end_ns)
	src=$(field "$F" start "$E" start_src)
	[[ $src == stat ]] && ((s <= t_exec && t_exec < e)) || { cat "$F"; return 1; }
}
check "no exec events: found by the scan, started at its fork tick" noexec

# ------------------------------------------------------------- recorder

if [[ -z $REC_BAD ]]; then
	ok "recorders: exit 0 on SIGTERM with a final \"bye\""
else
	not_ok "recorders: exit 0 on SIGTERM with a final \"bye\"" "$REC_BAD"
fi
# the checker never signals a QEMU: the ones still running are ours only
if [[ -z ${!LIVE[*]} ]]; then
	ok "every process of this suite stopped by the suite itself"
else
	not_ok "every process of this suite stopped by the suite itself" "left: ${!LIVE[*]}"
fi

finish
