# SPDX-License-Identifier: GPL-2.0
# vcluster helpers for guest suites, sourced after tests/lib.sh
# (which loads the module: load_module, unload_module).
#
# Topology built by vc_cluster N [LINKS]:
#
#      n1        n2   ...   nN         one netns per cluster node
#      |  \      |  \       |  \
#   [ br0 ] [ br1 ]                    bridges in netns $VC_SW (vcsw)
#
#   link 0: 198.18.0.I/24 on br0          (IPv4)
#   link 1: fd00:0:1::I/64 on br1         (IPv6, only when LINKS is 2)
#
# Node I's veth on link L is "l$L" inside nI and "n${I}l$L" in $VC_SW, so a
# test cuts one node's link with vc_cut I L (both directions).

VCTL=${VCTL:-$REPO/user/vclusterctl}
VC_CONF_DIR=${VC_CONF_DIR:-/tmp/vc}
# The key every node of a test cluster shares (made by vc_cluster_key).
VC_KEY_FILE=${VC_KEY_FILE:-$VC_CONF_DIR/cluster.key}
VC_CLUSTER_ID=${VC_CLUSTER_ID:-7}
# Suites check behaviour, not speed (tools/bench measures that): under TCG a
# whole guest can stall for a few hundred milliseconds when the host is
# busy, and every node in it would rightly declare the others DOWN.  A dead
# time of 1 s keeps such stalls from looking like deaths.
VC_INTERVAL_MS=${VC_INTERVAL_MS:-100}
VC_MISSES=${VC_MISSES:-10}
# Namespace names: the switch, and the prefix of the nodes' (nI).  Host
# suites that run beside others on one machine pick their own.
VC_SW=${VC_SW:-vcsw}
VC_NS=${VC_NS:-n}

vc_ctl()
{
	local node=$1

	shift
	ip netns exec "$VC_NS$node" "$VCTL" "$@"
}

vc_switch()
{
	ip netns add "$VC_SW"
	ip -n "$VC_SW" link set lo up
	ip -n "$VC_SW" link add br0 type bridge forward_delay 0 stp_state 0
	ip -n "$VC_SW" link add br1 type bridge forward_delay 0 stp_state 0
	ip -n "$VC_SW" link set br0 up
	ip -n "$VC_SW" link set br1 up
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

	ip netns add "$VC_NS$i"
	ip -n "$VC_NS$i" link set lo up
	for ((l = 0; l < links; l++)); do
		ip link add "l$l" netns "$VC_NS$i" type veth peer "n${i}l$l" netns "$VC_SW"
		ip -n "$VC_SW" link set "n${i}l$l" master "br$l" up
		if [ "$l" -eq 0 ]; then
			ip -n "$VC_NS$i" addr add "$(vc_addr "$i" 0)/24" dev "l$l"
		else
			ip -n "$VC_NS$i" addr add "$(vc_addr "$i" "$l")/64" dev "l$l" nodad
		fi
		ip -n "$VC_NS$i" link set "l$l" up
	done
}

# vc_key FILE: a fresh random cluster key (64 hex digits) in FILE.
vc_key()
{
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$1"
	chmod 600 "$1"
}

vc_cluster_key()
{
	mkdir -p "$(dirname "$VC_KEY_FILE")"
	[ -s "$VC_KEY_FILE" ] || vc_key "$VC_KEY_FILE"
	echo "$VC_KEY_FILE"
}

# vc_write_conf I N LINKS: config of node I in an N-node cluster.  With
# VC_EXPECTED_VOTES set, quorum is configured too.
vc_write_conf()
{
	local i=$1 n=$2 links=$3 j l
	local interval=$VC_INTERVAL_MS misses=$VC_MISSES key

	key=$(vc_cluster_key)
	{
		echo "[node]"
		echo "cluster-id = $VC_CLUSTER_ID"
		echo "node-id = $i"
		echo "interval-ms = $interval"
		echo "misses = $misses"
		echo "key-file = $key"
		[ -n "${VC_EXPECTED_VOTES:-}" ] &&
			echo "expected-votes = $VC_EXPECTED_VOTES"
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
		"$VC_NS"[0-9]*|"$VC_SW") ip netns del "$ns" ;;
		esac
	done
}

# vc_cut I L / vc_heal I L: take node I's link L down / up at the switch.
vc_cut()
{
	ip -n "$VC_SW" link set "n${1}l$2" down
}

vc_heal()
{
	ip -n "$VC_SW" link set "n${1}l$2" up
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

# Faults between nodes, as bridge filters in $VC_SW (every link):
#   vc_block FROM TO    drop frames from node FROM to node TO (one way)
#   vc_partition "A..." "B..."   drop both ways between two groups
# (_vc_block_rules and _vc_partition_rules print the rules, for a test
# that times the fault: vc_apply RULES then only runs nft.)
#   vc_unblock          remove every such filter
# The table exists before any fault, with a rule of the kind the faults
# add, so loading nftables' modules is not part of a fault's timing.
vc_filter_init()
{
	ip netns exec "$VC_SW" nft list table bridge vcf >/dev/null 2>&1 && return 0
	ip netns exec "$VC_SW" nft -f - <<'NFT'
table bridge vcf {
	chain filt {
		type filter hook forward priority 0; policy accept;
		iifname "vcwarm0" oifname "vcwarm1" drop
	}
}
NFT
}

# _vc_block_rules FROM TO: the nft commands dropping FROM -> TO.
_vc_block_rules()
{
	local from=$1 to=$2 l

	for l in 0 1; do
		ip -n "$VC_SW" link show "n${from}l$l" >/dev/null 2>&1 || continue
		echo "add rule bridge vcf filt iifname n${from}l$l oifname n${to}l$l drop"
	done
}

_vc_partition_rules()
{
	local a b

	for a in $1; do
		for b in $2; do
			_vc_block_rules "$a" "$b"
			_vc_block_rules "$b" "$a"
		done
	done
}

# vc_apply RULES: one nft transaction, so a fault starts at one moment.
vc_apply()
{
	vc_filter_init || return 1
	ip netns exec "$VC_SW" nft -f - <<<"$1"
}

vc_block()
{
	vc_apply "$(_vc_block_rules "$1" "$2")"
}

vc_partition()
{
	vc_apply "$(_vc_partition_rules "$1" "$2")"
}

vc_unblock()
{
	ip netns exec "$VC_SW" nft delete table bridge vcf 2>/dev/null
	return 0
}

# vc_now_ns: CLOCK_BOOTTIME, the clock of every kernel timestamp
# (/proc/uptime is read from it; 10 ms resolution).
vc_now_ns()
{
	awk '{ printf "%.0f\n", $1 * 1000000000 }' /proc/uptime
}

vc_fence_field()
{
	vc_ctl "$1" fence show --json | jq -r ".$2"
}
