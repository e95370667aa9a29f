#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/bench.d/dc-guest.sh - what tools/bench.d/dc-failover runs inside its
# QEMU guest: loads vcluster.ko, then tools/bench.d/dc-run.py: failover
# with the kernel transport, the same with the user transport (so that the
# two compare under the same emulated CPU), idle cost with the kernel
# transport.  Results: JSON files in $VC_OUT.
# Parameters come through the environment:
#   VCD, VCTL         the staged vclusterd and vclusterctl
#   DC_RUNS           failover runs wanted
#   DC_INTERVAL       heartbeat interval (ms), DC_MISSES misses
#   DC_BUDGET         seconds at most for the failover runs
#   DC_IDLE           "HOSTS SETTLE SECONDS", or empty: no idle measurement
#   DC_GUEST_USER     1: the user transport's failover here too

set -u

py=/usr/bin/python3
R=$REPO/tools/bench.d/dc-run.py
rc=0

modprobe vcluster || { echo "dc-guest: modprobe vcluster failed"; exit 1; }
export DC_WORK=/tmp/dc	# tmpfs: the raft data stays in the guest
export DC_PLACE=guest
DC_WHERE="a TCG guest (kernel $(uname -r), $(nproc) vCPU)"
export DC_WHERE
echo "dc-guest: $DC_WHERE, module $VC_MODULE"

"$py" "$R" failover --transport kernel --runs "$DC_RUNS" --interval "$DC_INTERVAL" \
	--misses "$DC_MISSES" --budget "$DC_BUDGET" --out "$VC_OUT/failover-kernel-guest.json" || rc=1

if [[ ${DC_GUEST_USER:-0} == 1 ]]; then
	"$py" "$R" failover --transport user --runs "$DC_RUNS" --interval "$DC_INTERVAL" \
		--misses "$DC_MISSES" --budget "$DC_BUDGET" --out "$VC_OUT/failover-user-guest.json" || rc=1
fi

if [[ -n ${DC_IDLE:-} ]]; then
	read -r hosts settle secs <<<"$DC_IDLE"
	"$py" "$R" idle --transport kernel --hosts "$hosts" --settle "$settle" \
		--seconds "$secs" --interval "$DC_INTERVAL" --misses "$DC_MISSES" \
		--out "$VC_OUT/idle-kernel-guest.json" || rc=1
fi
exit $rc
