#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: guest
#
# Module lifecycle and parameters: load, unload while instances run in
# several namespaces (sockets and timers torn down), reload, and the
# defaults under /sys/module/vcluster/parameters with their ranges.

set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vc.sh"

require_module

at_exit vc_teardown

P=/sys/module/vcluster/parameters

plan 10

load_module
check "module loads" test -d /sys/module/vcluster

check "defaults: interval_ms 10, misses 3, port 5420" \
	test "$(cat $P/interval_ms) $(cat $P/misses) $(cat $P/port)" = "10 3 5420"

param_refused()
{
	! echo "$2" >"$P/$1" 2>/dev/null
}
out_of_range()
{
	param_refused interval_ms 0 && param_refused interval_ms 60001 &&
		param_refused misses 1 && param_refused port 0 &&
		param_refused port 65536 && param_refused misses abc
}
check "out-of-range parameters are refused" out_of_range
check "refused writes leave the values unchanged" \
	test "$(cat $P/interval_ms) $(cat $P/misses) $(cat $P/port)" = "10 3 5420"

echo 25 >$P/interval_ms
echo 4 >$P/misses
vc_switch
vc_netns_node 1 1
vc_ctl 1 node set cluster-id 7 node-id 1 link 0 198.18.0.1
check "a new instance takes the parameters as defaults" \
	test "$(vc_node_field 1 interval_ms) $(vc_node_field 1 misses) $(vc_node_field 1 dead_ms)" = "25 4 100"
echo 10 >$P/interval_ms
echo 3 >$P/misses

# Two running nodes, then rmmod underneath them.
vc_teardown
vc_cluster 2 1
wait_for -t 20 vc_all_up 2
check "two nodes UP before unload" vc_all_up 2

check "rmmod while instances run" unload_module
check "no UDP socket left on port 5420" \
	sh -c '! ip netns exec n1 ss -uanH | grep -q ":5420 "'

vc_teardown
check "module reloads" load_module
vc_cluster 2 1
wait_for -t 20 vc_all_up 2
check "after reload two nodes come UP again" vc_all_up 2

# Namespace exit with a running instance must tear it down too.
vc_teardown
finish
