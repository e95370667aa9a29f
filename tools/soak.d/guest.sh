#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/soak.d/guest.sh - the guest side of tools/soak (see there).  Writes
# "SETTING NODES SECS FALSE_DOWN FALSE_FENCE SUSPECT QUORATE_AT_END" to
# $VC_OUT/result and each node's events to $VC_OUT/events.nI.

set -u
. "$REPO/tests/lib.sh"
. "$REPO/tests/vc.sh"

n=$SOAK_NODES
dead_ms=$((SOAK_INTERVAL_MS * SOAK_MISSES))
# Documentation/fencing.rst's table: production quorum timeouts.
if ((SOAK_INTERVAL_MS <= 10)); then qt=2000; else qt=5000; fi

export VC_INTERVAL_MS=$SOAK_INTERVAL_MS VC_MISSES=$SOAK_MISSES
export VC_EXPECTED_VOTES=$n
at_exit vc_teardown
at_exit pkill -f "soak-hog"
at_exit pkill stress-ng

load_module || { echo "cannot load the module"; exit 1; }
vc_cluster "$n" 1 || { echo "cannot set up $n nodes"; exit 1; }
wait_for -t 120 vc_all_up "$n" || { echo "the cluster never formed"; exit 1; }
for ((i = 1; i <= n; i++)); do
	vc_ctl $i fence arm log quorum-timeout-ms $qt || exit 1
	ip netns exec n$i "$VCTL" monitor --json >"$VC_OUT/events.n$i" &
	at_exit kill $!
done
sleep 2		# monitors subscribed; then the starvation is the scenario

ncpu=$(nproc)
for ((c = 0; c < ncpu; c++)); do
	taskset -c $c chrt -f 99 bash -c 'exec -a soak-hog bash -c "while :; do :; done"' &
done
stress-ng --temp-path /tmp --vm 1 --vm-bytes 50% --vm-keep --timeout "${SOAK_SECS}s" -q &
sleep "$SOAK_SECS"	# the length of the starvation is the measurement
pkill -f soak-hog
pkill stress-ng
sleep 2

count()		# EVENT
{
	cat "$VC_OUT"/events.n* | grep -c "\"event\":\"$1\"" || true
}
quorate_end=yes
for ((i = 1; i <= n; i++)); do
	[ "$(vc_node_field $i quorate)" = true ] || quorate_end=no
done
echo "${SOAK_INTERVAL_MS}x${SOAK_MISSES} $n $SOAK_SECS $(count peer-down) $(count fence-fired) $(count peer-suspect) $quorate_end" \
	>"$VC_OUT/result"
cat "$VC_OUT/result"
