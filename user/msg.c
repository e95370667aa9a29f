// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Netlink request bodies for the vcluster family.  See msg.h. */
#include <errno.h>
#include <sys/socket.h>

#include <linux/vcluster.h>
#include <netlink/attr.h>

#include "msg.h"

static int put_addr(struct nl_msg *msg, const struct vc_addr *a, bool with_port)
{
	int r;

	if (a->family == AF_INET)
		r = nla_put(msg, VC_A_LINK_ADDR4, 4, a->bytes);
	else
		r = nla_put(msg, VC_A_LINK_ADDR6, 16, a->bytes);
	if (r == 0 && with_port && a->port)
		r = nla_put_u16(msg, VC_A_LINK_PORT, a->port);
	return r;
}

static int put_links(struct nl_msg *msg, int nest_type, const struct vc_addr *links,
		     bool with_port)
{
	struct nlattr *nest;
	uint32_t id;

	for (id = 0; id < VC_MAX_LINKS; id++) {
		if (!links[id].family)
			continue;
		nest = nla_nest_start(msg, nest_type);
		if (!nest || nla_put_u32(msg, VC_A_LINK_ID, id) < 0 ||
		    put_addr(msg, &links[id], with_port) < 0)
			return -EMSGSIZE;
		nla_nest_end(msg, nest);
	}
	return 0;
}

static int put_node_numbers(struct nl_msg *msg, const struct vc_node_cfg *c)
{
	int r = 0;

	if (c->set & VC_NODE_F_CLUSTER_ID)
		r |= nla_put_u32(msg, VC_A_NODE_CLUSTER_ID, c->cluster_id);
	if (c->set & VC_NODE_F_NODE_ID)
		r |= nla_put_u32(msg, VC_A_NODE_NODE_ID, c->node_id);
	if (c->set & VC_NODE_F_VOTES)
		r |= nla_put_u32(msg, VC_A_NODE_VOTES, c->votes);
	if (c->set & VC_NODE_F_PORT)
		r |= nla_put_u16(msg, VC_A_NODE_PORT, c->port);
	if (c->set & VC_NODE_F_INCARNATION)
		r |= nla_put_u64(msg, VC_A_NODE_INCARNATION, c->incarnation);
	if (c->set & VC_NODE_F_INTERVAL_MS)
		r |= nla_put_u32(msg, VC_A_NODE_INTERVAL_MS, c->interval_ms);
	if (c->set & VC_NODE_F_MISSES)
		r |= nla_put_u32(msg, VC_A_NODE_MISSES, c->misses);
	if (c->set & VC_NODE_F_PAYLOAD)
		r |= nla_put(msg, VC_A_NODE_PAYLOAD, (int)c->payload_len, c->payload);
	if (c->set & VC_NODE_F_EXPECTED_VOTES)
		r |= nla_put_u32(msg, VC_A_NODE_EXPECTED_VOTES, c->expected_votes);
	if (c->set & VC_NODE_F_FENCE_MARGIN_MS)
		r |= nla_put_u32(msg, VC_A_NODE_FENCE_MARGIN_MS, c->fence_margin_ms);
	if (c->set & VC_NODE_F_INSECURE)
		r |= nla_put_u32(msg, VC_A_NODE_INSECURE, c->insecure);
	return r ? -EMSGSIZE : 0;
}

int vc_msg_put_node(struct nl_msg *msg, const struct vc_node_cfg *c)
{
	int r = put_node_numbers(msg, c);

	if (r == 0 && (c->set & VC_NODE_F_LINKS))
		r = put_links(msg, VC_A_NODE_LINK, c->links, false);
	return r;
}

int vc_msg_put_peer(struct nl_msg *msg, const struct vc_peer_cfg *c)
{
	int r = nla_put_u32(msg, VC_A_PEER_NODE_ID, c->node_id);

	if (r == 0 && c->has_votes)
		r = nla_put_u32(msg, VC_A_PEER_VOTES, c->votes);
	if (r == 0 && c->has_links)
		r = put_links(msg, VC_A_PEER_LINK, c->links, true);
	return r < 0 ? -EMSGSIZE : 0;
}

int vc_msg_put_fence(struct nl_msg *msg, const struct vc_fence_cfg *c)
{
	int r = 0;

	if (c->set & VC_FENCE_F_ACTION)
		r |= nla_put_u32(msg, VC_A_NODE_FENCE_ACTION, c->action);
	if (c->set & VC_FENCE_F_AGENT_TIMEOUT)
		r |= nla_put_u32(msg, VC_A_NODE_AGENT_TIMEOUT_MS, c->agent_timeout_ms);
	if (c->set & VC_FENCE_F_QUORUM_TIMEOUT)
		r |= nla_put_u32(msg, VC_A_NODE_QUORUM_TIMEOUT_MS, c->quorum_timeout_ms);
	if (c->set & VC_FENCE_F_KILL_BOUND)
		r |= nla_put_u32(msg, VC_A_NODE_KILL_BOUND_MS, c->kill_bound_ms);
	if (c->set & VC_FENCE_F_PRETIMEOUT)
		r |= nla_put_u32(msg, VC_A_NODE_PRETIMEOUT_MS, c->pretimeout_ms);
	if (c->set & VC_FENCE_F_NOWAYOUT)
		r |= nla_put_u32(msg, VC_A_NODE_NOWAYOUT, c->nowayout);
	return r ? -EMSGSIZE : 0;
}

int vc_msg_put_proc(struct nl_msg *msg, uint32_t pid, bool with_start,
		    uint64_t start_time)
{
	int r = nla_put_u32(msg, VC_A_PROC_PID, pid);

	if (r == 0 && with_start)
		r = nla_put_u64(msg, VC_A_PROC_START_TIME, start_time);
	return r < 0 ? -EMSGSIZE : 0;
}

int vc_msg_put_key(struct nl_msg *msg, uint32_t id, const uint8_t *value,
		   bool with_primary, bool primary)
{
	int r = nla_put_u32(msg, VC_A_KEY_ID, id);

	if (r == 0 && value)
		r = nla_put(msg, VC_A_KEY_VALUE, VC_KEY_LEN, value);
	if (r == 0 && with_primary)
		r = nla_put_u32(msg, VC_A_KEY_PRIMARY, primary);
	return r < 0 ? -EMSGSIZE : 0;
}
