#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/bench.d/guest.sh - what tools/bench runs inside its guest: loads
# the module, then tools/bench.d/guest.py for each latency setting, the CPU
# measurement and the calibration loop.  Results: JSON files in $VC_OUT.
# Parameters come from tools/bench through the environment:
#   BENCH_SETTINGS     "10x3 100x3" (interval_ms x misses)
#   BENCH_DETECTIONS   detections wanted per setting
#   BENCH_OBSERVERS    observer nodes (each kill gives that many)
#   BENCH_BUDGET       seconds at most per latency setting
#   BENCH_CPU          "NODES TOPOLOGY INTERVAL MISSES SECONDS", or empty
#   VCTL               the vclusterctl to use

set -u

py=/usr/bin/python3
G=$REPO/tools/bench.d/guest.py
rc=0

modprobe vcluster || { echo "bench: modprobe vcluster failed"; exit 1; }
echo "bench: guest kernel $(uname -r), $(nproc) CPU(s), module $VC_MODULE"

for s in $BENCH_SETTINGS; do
	"$py" "$G" latency --interval "${s%x*}" --misses "${s#*x}" \
		--detections "$BENCH_DETECTIONS" --observers "$BENCH_OBSERVERS" \
		--budget "$BENCH_BUDGET" --out "$VC_OUT/latency-$s.json" || rc=1
done

if [[ -n ${BENCH_CPU:-} ]]; then
	read -r nodes topo interval misses secs <<<"$BENCH_CPU"
	"$py" "$G" cpu --nodes "$nodes" --topology "$topo" --interval "$interval" \
		--misses "$misses" --seconds "$secs" --out "$VC_OUT/cpu.json" || rc=1
fi

"$py" "$G" spin --out "$VC_OUT/spin-guest.json" || rc=1
exit $rc
