#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vc-suite: guest
# vc-timeout: 120
#
# The QEMU rig itself: the guest runs the requested kernel, its own module
# tree serves modprobe, the root is the host's read-only and /tmp is
# writable, and two network namespaces reach each other over a veth pair.
#
#   [vcN-a] a0 198.18.0.1 fd00:0::1 ---veth--- b0 198.18.0.2 fd00:0::2 [vcN-b]

set -euo pipefail
. "$(dirname "$0")/lib.sh"

[[ ${VC_IN_GUEST:-} == 1 ]] || skip_all "runs inside a guest (tools/vmrun)"

plan 9
mark=$(dmesg_mark)

check "kernel is the requested $KVER" test "$(uname -r)" = "$KVER"
check "kernel series is $VC_SERIES" eval '[[ $(uname -r) == "$VC_SERIES".* ]]'
check "modprobe veth, sch_netem, udp_tunnel" \
	eval 'modprobe veth && modprobe sch_netem && modprobe udp_tunnel &&
	      grep -q "^veth " /proc/modules && grep -q "^sch_netem " /proc/modules'
check "root file system is read-only" \
	eval '! touch /usr/.vc-rw-probe 2>/dev/null && grep -q "^root / 9p ro," /proc/mounts'
check "/tmp is writable" eval 'echo x >/tmp/.vc-probe && test "$(cat /tmp/.vc-probe)" = x'

ns_add a
ns_add b
veth_link a a0 b b0
ns a ip addr add "$(addr4 0 1)/24" dev a0
ns b ip addr add "$(addr4 0 2)/24" dev b0
ns a ip -6 addr add "$(addr6 0 1)/64" dev a0 nodad
ns b ip -6 addr add "$(addr6 0 2)/64" dev b0 nodad
check "netns a pings b over veth (IPv4)" \
	wait_for -t 10 ns a ping -c1 -W1 "$(addr4 0 2)"
check "netns b pings a over veth (IPv6)" \
	wait_for -t 10 ns b ping -6 -c1 -W1 "$(addr6 0 1)"

if [[ -n ${VC_MODULE:-} ]]; then
	check "modprobe finds the built vcluster.ko" \
		eval 'test "$(readlink -f "$(modinfo -n vcluster)")" = "$(readlink -f "$VC_MODULE")"'
else
	skip "modprobe finds the built vcluster.ko" "no vcluster.ko built for $KVER"
fi

check "kernel log clean" check_dmesg "$mark"
finish
