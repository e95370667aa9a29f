#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/vmcheck.d/selftest.sh VMCHECK - `vmcheck verify` on hand-written
# records: the rules for overlaps and live migrations, without QEMU.  TAP
# on stdout; exit 0 when every case passes.  `make -C tools/vmcheck.d
# check` runs it; tests/vm-rig.sh too.
#
# Records are written in milliseconds since the recorder's "hello" (at
# 1 s of CLOCK_BOOTTIME); vCPU samples every 5 ms, as the recorder does.

set -u
VMCHECK=${1:?usage: selftest.sh VMCHECK}
DIR=$(mktemp -d /tmp/vmcheck-selftest.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
N=0
FAILED=0

ns() { echo $((1000000000 + $1 * 1000000)); }	# MS -> t_ns

hello() { echo "{\"ev\":\"hello\",\"t_ns\":$(ns 0),\"scan_ms\":5,\"full_scan_ms\":100,\"exec_events\":true,\"clk_tck\":100,\"pid\":1,\"vcpu_samples\":true}"; }
bye() { echo "{\"ev\":\"bye\",\"t_ns\":$(ns "$1"),\"running\":[]}"; }

# start VM PID HOST MS [INCOMING]
start()
{
	local inc=
	[[ -n ${5:-} ]] && inc=",\"incoming\":\"$5\""
	echo "{\"ev\":\"start\",\"vm\":\"$1\",\"pid\":$2,\"host\":\"$3\",\"netns\":$2,\"start_ns\":$(ns "$4"),\"start_src\":\"exec\",\"seen_ns\":$(ns "$4")$inc}"
}

# end VM PID MS [SAMPLED_UNTIL_MS]
end()
{
	local su=
	[[ -n ${4:-} ]] && su=",\"sampled_until_ns\":$(ns "$4")"
	echo "{\"ev\":\"end\",\"vm\":\"$1\",\"pid\":$2,\"end_ns\":$(ns "$3"),\"end_src\":\"pidfd\"$su}"
}

# vcpu VM PID MS SINCE_MS|- VCPU_US [THREADS]: a sample ("-": a baseline)
vcpu()
{
	local since=
	[[ $4 != - ]] && since=",\"since_ns\":$(ns "$4")"
	echo "{\"ev\":\"vcpu\",\"vm\":\"$1\",\"pid\":$2,\"t_ns\":$(ns "$3")$since,\"vcpu_ns\":$(($5 * 1000)),\"threads\":${6:-1},\"src\":\"vcpu\"}"
}

# case_ NAME WANT_EXIT REGEX RECORDS [VERIFY-ARGS...]: one TAP point;
# RECORDS is the function that writes the records
case_()
{
	local name=$1 want=$2 re=$3 f out rc=0

	N=$((N + 1))
	f=$DIR/$N.jsonl
	"$4" >"$f"
	shift 4
	out=$("$VMCHECK" verify "$f" "$@" 2>&1) || rc=$?
	if ((rc == want)) && grep -Eq -- "$re" <<<"$out"; then
		echo "ok $N $name"
	else
		echo "not ok $N $name"
		echo "# want exit $want and /$re/; got exit $rc:"
		sed 's/^/#   /' <<<"$out"
		FAILED=$((FAILED + 1))
	fi
}

echo "TAP version 13"
echo "1..9"

# A live migration as recorded: the source runs until it pauses at 300 ms;
# the destination's vCPU does its set-up (0.4 ms, while the source runs)
# and its state load (0.1 ms, in the interval of the source's pause), then
# runs the guest from 320 ms; the source ends at 332 ms.
migration()
{
	hello
	start vmA 100 h1 -500
	start vmA 200 h2 100 tcp:[::]:49152
	vcpu vmA 100 105 - 50000
	vcpu vmA 200 105 - 0
	vcpu vmA 100 110 105 54000
	vcpu vmA 200 140 135 400
	vcpu vmA 100 140 135 60000
	vcpu vmA 100 300 295 64000
	vcpu vmA 200 300 295 500
	vcpu vmA 200 325 320 4500
	vcpu vmA 200 330 325 9500
	end vmA 100 332 330
	bye 400
}
case_ "migration: the guest ran on one side only, QEMU's own work ignored" 0 \
	'^ok migration: vm vmA: pid 100 \(h1\) -> pid 200 \(h2\), overlap 232 ms, guest ran on one side only$' \
	migration

# The same, but the source went on running after the destination resumed.
resumed_source()
{
	hello
	start vmA 100 h1 -500
	start vmA 200 h2 100 defer
	vcpu vmA 100 105 - 50000
	vcpu vmA 200 105 - 0
	vcpu vmA 100 300 295 54000
	vcpu vmA 200 325 320 4000
	vcpu vmA 100 325 320 57000
	end vmA 100 332 325
	bye 400
}
case_ "migration: both ran the guest in one interval: a violation" 1 \
	'^#   both ran in \(320\.000, 325\.000\] ms: pid 100 \+3000 us, pid 200 \+4000 us' \
	resumed_source

# Two QEMUs of one VM without -incoming: a violation, whatever they ran.
plain_overlap()
{
	hello
	start vmB 300 h1 0
	start vmB 400 h2 100
	vcpu vmB 300 105 - 0
	vcpu vmB 400 105 - 0
	end vmB 300 200 195
	bye 400
}
case_ "overlap without -incoming: a violation even with samples" 1 \
	'^FAIL overlap: vm vmB: pids 300 \(h1\) and 400 \(h2\) overlap 100000 us$' plain_overlap

# An incoming QEMU beside its source, but no samples: cannot tell.
unsampled()
{
	hello
	start vmC 500 h1 0
	start vmC 600 h2 100 defer
	end vmC 500 200
	bye 400
}
case_ "migration without vCPU samples: a violation (cannot tell)" 1 \
	'^FAIL migration: vm vmC: pid 500 \(h1\) -> pid 600 \(h2\), overlap 100 ms: no vCPU samples' \
	unsampled

# A migration aborted: the destination never ran and ended first.
aborted()
{
	hello
	start vmD 700 h1 0
	start vmD 800 h2 100 defer
	vcpu vmD 700 105 - 1000
	vcpu vmD 800 105 - 0
	vcpu vmD 700 110 105 6000
	vcpu vmD 800 110 105 300
	vcpu vmD 700 115 110 11000
	end vmD 800 150 145
	bye 400
}
case_ "aborted migration: ok, the destination ended first" 0 \
	'^ok migration: vm vmD: pid 700 \(h1\) -> pid 800 \(h2\), overlap 50 ms, guest ran on one side only \(aborted: the destination ended first\)$' \
	aborted

# The noise floor is per vCPU thread: 3 ms over 4 threads is QEMU's work
# at the default floor, the guest at 0.5 ms a thread.
four_vcpus()
{
	hello
	start vmE 900 h1 0
	start vmE 950 h2 100 defer
	vcpu vmE 900 105 - 0 4
	vcpu vmE 950 105 - 0 4
	vcpu vmE 900 110 105 20000 4
	vcpu vmE 950 110 105 3000 4
	end vmE 900 120 115
	bye 400
}
case_ "noise floor per vCPU: 3 ms on 4 vCPUs is below 4 x 1 ms" 0 '^ok migration: vm vmE' four_vcpus
case_ "noise floor per vCPU: --vcpu-noise-us 500 makes it a violation" 1 \
	'^FAIL migration: vm vmE: .* the guest ran on both sides$' four_vcpus --vcpu-noise-us 500

# A lifetime sampled in two overlaps: the second baseline is no advance.
two_overlaps()
{
	hello
	start vmF 1000 h1 0
	start vmF 1100 h2 100 defer
	vcpu vmF 1000 105 - 1000
	vcpu vmF 1100 105 - 0
	vcpu vmF 1000 110 105 9000
	end vmF 1100 120 115
	start vmF 1200 h3 200 defer
	vcpu vmF 1000 205 - 50000
	vcpu vmF 1200 205 - 0
	vcpu vmF 1200 300 295 5000
	end vmF 1000 305 300
	bye 400
}
case_ "a second overlap starts from a new baseline" 0 \
	'OK: 3 QEMU lifetimes, 2 migration\(s\), 0 violation\(s\)' two_overlaps

case_ "a bad --vcpu-noise-us is refused, naming what is valid" 2 \
	'want microseconds, 0\.\.1000000' hello --vcpu-noise-us 1ms

((FAILED == 0))
