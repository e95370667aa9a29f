# SPDX-License-Identifier: GPL-2.0
# vcluster helpers for guest suites, sourced after tests/lib.sh
# (which loads the module: load_module, unload_module).
#
# Topology built by vc_cluster N [LINKS]:
#
#      n1        n2   ...   nN         one netns per cluster node
#      |  \      |  \       |  \
#   [ br0 ] [ br1 ]                    bridges in netns "vcsw"
#
#   link 0: 198.18.0.I/24 on br0          (IPv4)
#   link 1: fd00:0:1::I/64 on br1         (IPv6, only when LINKS is 2)
#
# Node I's veth on link L is "l$L" inside nI and "n${I}l$L" in vcsw, so a
# test cuts one node's link with vc_cut I L (both directions).

VCTL=${VCTL:-$REPO/user/vclusterctl}
VC_CONF_DIR=${VC_CONF_DIR:-/tmp/vc}
VC_CLUSTER_ID=${VC_CLUSTER_ID:-7}
# Suites check behaviour, not speed (tools/bench measures that): under TCG a
# whole guest can stall for a few hundred milliseconds when the host is
# busy, and every node in it would rightly declare the others DOWN.  A dead
# time of 1 s keeps such stalls from looking like deaths.
VC_INTERVAL_MS=${VC_INTERVAL_MS:-100}
VC_MISSES=${VC_MISSES:-10}

vc_ctl()
{
	local node=$1

	shift
	ip netns exec "n$node" "$VCTL" "$@"
}

vc_switch()
{
	ip netns add vcsw
	ip -n vcsw link set lo up
	ip -n vcsw link add br0 type bridge forward_delay 0 stp_state 0
	ip -n vcsw link add br1 type bridge forward_delay 0 stp_state 0
	ip -n vcsw link set br0 up
	ip -n vcsw link set br1 up
}

vc_addr()
{
	local node=$1 link=$2

	if [ "$link" -eq 0 ]; then
		echo "198.18.0.$node"
	else
		echo "fd00:0:1::$node"
	fi
}

# vc_netns_node I LINKS: the netns and its veths, no vcluster config yet.
vc_netns_node()
{
	local i=$1 links=$2 l

	ip netns add "n$i"
	ip -n "n$i" link set lo up
	for ((l = 0; l < links; l++)); do
		ip link add "l$l" netns "n$i" type veth peer "n${i}l$l" netns vcsw
		ip -n vcsw link set "n${i}l$l" master "br$l" up
		if [ "$l" -eq 0 ]; then
			ip -n "n$i" addr add "$(vc_addr "$i" 0)/24" dev "l$l"
		else
			ip -n "n$i" addr add "$(vc_addr "$i" "$l")/64" dev "l$l" nodad
		fi
		ip -n "n$i" link set "l$l" up
	done
}

# vc_write_conf I N LINKS [EXTRA...]: config of node I in an N-node cluster.
vc_write_conf()
{
	local i=$1 n=$2 links=$3 j l
	local interval=$VC_INTERVAL_MS misses=$VC_MISSES

	mkdir -p "$VC_CONF_DIR"
	{
		echo "[node]"
		echo "cluster-id = $VC_CLUSTER_ID"
		echo "node-id = $i"
		echo "interval-ms = $interval"
		echo "misses = $misses"
		for ((l = 0; l < links; l++)); do
			echo "link$l = $(vc_addr "$i" "$l")"
		done
		for ((j = 1; j <= n; j++)); do
			[ "$j" -eq "$i" ] && continue
			echo
			echo "[peer $j]"
			for ((l = 0; l < links; l++)); do
				echo "link$l = $(vc_addr "$j" "$l")"
			done
		done
	} >"$VC_CONF_DIR/n$i.conf"
}

# vc_cluster N [LINKS]: N nodes, configured and started.
vc_cluster()
{
	local n=$1 links=${2:-1} i

	vc_switch
	for ((i = 1; i <= n; i++)); do
		vc_netns_node "$i" "$links"
		vc_write_conf "$i" "$n" "$links"
	done
	for ((i = 1; i <= n; i++)); do
		vc_ctl "$i" load --start "$VC_CONF_DIR/n$i.conf" || return 1
	done
}

vc_teardown()
{
	local ns

	for ns in $(ip netns list | awk '{print $1}'); do
		case "$ns" in
		n[0-9]*|vcsw) ip netns del "$ns" ;;
		esac
	done
}

# vc_cut I L / vc_heal I L: take node I's link L down / up at the switch.
vc_cut()
{
	ip -n vcsw link set "n${1}l$2" down
}

vc_heal()
{
	ip -n vcsw link set "n${1}l$2" up
}

# vc_peer_field I J FIELD: FIELD of peer J as node I sees it (JSON).
vc_peer_field()
{
	vc_ctl "$1" peer show "$2" --json | jq -r ".$3"
}

vc_peer_state()
{
	vc_peer_field "$1" "$2" state
}

# vc_count_state I STATE: how many peers node I sees in STATE.
vc_count_state()
{
	vc_ctl "$1" peer list --json |
		jq --arg s "$2" '[.[] | select(.state == $s)] | length'
}

# vc_all_up N: every node of an N-node cluster sees N - 1 peers UP.
vc_all_up()
{
	local n=$1 i

	for ((i = 1; i <= n; i++)); do
		[ "$(vc_count_state "$i" up)" -eq $((n - 1)) ] || return 1
	done
}

vc_node_field()
{
	vc_ctl "$1" node show --json | jq -r ".$2"
}
