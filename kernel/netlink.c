// SPDX-License-Identifier: GPL-2.0
/*
 * vcluster: the generic netlink family "vcluster".
 *
 * Per-command policies, strict validation (the default for a family with
 * resv_start_op 0: commands without a policy reject every attribute),
 * CAP_NET_ADMIN over the netns for changes, every rejection explained
 * through extack.
 */
#include <linux/in.h>
#include <linux/netlink.h>
#include <net/genetlink.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "vc.h"

static const struct nla_policy vc_local_link_policy[VC_A_LINK_MAX + 1] = {
	[VC_A_LINK_ID]		= NLA_POLICY_MAX(NLA_U32, VC_MAX_LINKS - 1),
	[VC_A_LINK_ADDR4]	= { .type = NLA_BE32 },
	[VC_A_LINK_ADDR6]	= NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
};

static const struct nla_policy vc_peer_link_policy[VC_A_LINK_MAX + 1] = {
	[VC_A_LINK_ID]		= NLA_POLICY_MAX(NLA_U32, VC_MAX_LINKS - 1),
	[VC_A_LINK_ADDR4]	= { .type = NLA_BE32 },
	[VC_A_LINK_ADDR6]	= NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[VC_A_LINK_PORT]	= NLA_POLICY_MIN(NLA_U16, 1),
};

/* Not const: 6.1's struct nla_policy points to a mutable range. */
static struct netlink_range_validation vc_interval_ms_range = {
	.min = VC_INTERVAL_MS_MIN,
	.max = VC_INTERVAL_MS_MAX,
};

static struct netlink_range_validation vc_watchdog_ms_range = {
	.max = VC_WATCHDOG_MS_MAX,	/* 1..9 refused in fence.c */
};

static struct netlink_range_validation vc_kill_bound_ms_range = {
	.min = VC_KILL_BOUND_MS_MIN,
	.max = VC_KILL_BOUND_MS_MAX,
};

static struct netlink_range_validation vc_fence_margin_ms_range = {
	.max = VC_FENCE_MARGIN_MS_MAX,
};

static const struct nla_policy vc_node_set_policy[VC_A_NODE_MAX + 1] = {
	[VC_A_NODE_CLUSTER_ID]	= NLA_POLICY_MIN(NLA_U32, 1),
	[VC_A_NODE_NODE_ID]	= NLA_POLICY_MIN(NLA_U32, 1),
	[VC_A_NODE_VOTES]	= { .type = NLA_U32 },
	[VC_A_NODE_PORT]	= NLA_POLICY_MIN(NLA_U16, 1),
	[VC_A_NODE_INCARNATION]	= NLA_POLICY_MIN(NLA_U64, 1),
	[VC_A_NODE_INTERVAL_MS]	= NLA_POLICY_FULL_RANGE(NLA_U32,
							&vc_interval_ms_range),
	[VC_A_NODE_MISSES]	= NLA_POLICY_RANGE(NLA_U32, VC_MISSES_MIN,
						   VC_MISSES_MAX),
	[VC_A_NODE_PAYLOAD]	= { .type = NLA_BINARY,
				    .len = VC_MAX_PAYLOAD },
	[VC_A_NODE_LINK]	= NLA_POLICY_NESTED(vc_local_link_policy),
	[VC_A_NODE_EXPECTED_VOTES] = { .type = NLA_U32 },
	[VC_A_NODE_FENCE_MARGIN_MS] = NLA_POLICY_FULL_RANGE(NLA_U32,
						&vc_fence_margin_ms_range),
	[VC_A_NODE_INSECURE]	= NLA_POLICY_MAX(NLA_U32, 1),
};

static const struct nla_policy vc_fence_arm_policy[VC_A_NODE_MAX + 1] = {
	[VC_A_NODE_FENCE_ACTION] = NLA_POLICY_RANGE(NLA_U32,
						    VC_FENCE_ACTION_LOG,
						    VC_FENCE_ACTION_REBOOT),
	[VC_A_NODE_AGENT_TIMEOUT_MS] = NLA_POLICY_FULL_RANGE(NLA_U32,
						&vc_watchdog_ms_range),
	[VC_A_NODE_QUORUM_TIMEOUT_MS] = NLA_POLICY_FULL_RANGE(NLA_U32,
						&vc_watchdog_ms_range),
	[VC_A_NODE_KILL_BOUND_MS] = NLA_POLICY_FULL_RANGE(NLA_U32,
						&vc_kill_bound_ms_range),
	[VC_A_NODE_PRETIMEOUT_MS] = NLA_POLICY_FULL_RANGE(NLA_U32,
						&vc_watchdog_ms_range),
	[VC_A_NODE_NOWAYOUT]	= NLA_POLICY_MAX(NLA_U32, 1),
};

static const struct nla_policy vc_proc_policy[VC_A_PROC_MAX + 1] = {
	[VC_A_PROC_PID]		= NLA_POLICY_MIN(NLA_U32, 1),
	[VC_A_PROC_START_TIME]	= { .type = NLA_U64 },
};

static const struct nla_policy vc_key_policy[VC_A_KEY_MAX + 1] = {
	[VC_A_KEY_ID]		= NLA_POLICY_RANGE(NLA_U32, 1, 255),
	[VC_A_KEY_VALUE]	= NLA_POLICY_EXACT_LEN(VC_KEY_LEN),
	[VC_A_KEY_PRIMARY]	= NLA_POLICY_MAX(NLA_U32, 1),
};

static const struct nla_policy vc_key_id_policy[VC_A_KEY_MAX + 1] = {
	[VC_A_KEY_ID]		= NLA_POLICY_RANGE(NLA_U32, 1, 255),
};

static const struct nla_policy vc_start_policy[VC_A_NODE_MAX + 1] = {
	[VC_A_NODE_INCARNATION]	= NLA_POLICY_MIN(NLA_U64, 1),
};

static const struct nla_policy vc_peer_policy[VC_A_PEER_MAX + 1] = {
	[VC_A_PEER_NODE_ID]	= NLA_POLICY_MIN(NLA_U32, 1),
	[VC_A_PEER_VOTES]	= { .type = NLA_U32 },
	[VC_A_PEER_LINK]	= NLA_POLICY_NESTED(vc_peer_link_policy),
};

static const struct nla_policy vc_peer_id_policy[VC_A_PEER_MAX + 1] = {
	[VC_A_PEER_NODE_ID]	= NLA_POLICY_MIN(NLA_U32, 1),
};

static bool vc_addr_usable(const struct vc_addr *addr)
{
	if (addr->family == AF_INET)
		return !ipv4_is_zeronet(addr->v4) &&
		       !ipv4_is_multicast(addr->v4) &&
		       !ipv4_is_lbcast(addr->v4);
	return !(ipv6_addr_type(&addr->v6) &
		 (IPV6_ADDR_ANY | IPV6_ADDR_MULTICAST | IPV6_ADDR_LINKLOCAL));
}

/*
 * Parse every @attrtype nest of the request into @links, indexed by link
 * id.  Returns how many nests there were, or a negative errno with extack
 * set.  The policy has already checked ranges and lengths.
 */
int vc_parse_links(struct genl_info *info, int attrtype, bool peer,
		   struct vc_link_cfg *links, struct netlink_ext_ack *extack)
{
	const struct nla_policy *policy = peer ? vc_peer_link_policy :
						 vc_local_link_policy;
	struct nlattr *tb[VC_A_LINK_MAX + 1];
	const struct nlattr *nla;
	struct vc_link_cfg *link;
	int rem, n = 0, err;
	u32 id;

	memset(links, 0, sizeof(*links) * VC_MAX_LINKS);
	nla_for_each_attr(nla, genlmsg_data(info->genlhdr),
			  genlmsg_len(info->genlhdr), rem) {
		if (nla_type(nla) != attrtype)
			continue;
		err = nla_parse_nested(tb, VC_A_LINK_MAX, nla, policy, extack);
		if (err)
			return err;
		if (!tb[VC_A_LINK_ID]) {
			NL_SET_ERR_ATTR_MISS(extack, nla, VC_A_LINK_ID);
			NL_SET_ERR_MSG_MOD(extack, "link id missing");
			return -EINVAL;
		}
		id = nla_get_u32(tb[VC_A_LINK_ID]);
		link = &links[id];
		if (link->addr.family) {
			NL_SET_ERR_MSG_ATTR(extack, tb[VC_A_LINK_ID],
					    "duplicate link id");
			return -EINVAL;
		}
		if (tb[VC_A_LINK_ADDR4] && tb[VC_A_LINK_ADDR6]) {
			NL_SET_ERR_MSG_ATTR(extack, tb[VC_A_LINK_ADDR6],
					    "a link has an IPv4 or an IPv6 address, not both");
			return -EINVAL;
		}
		if (tb[VC_A_LINK_ADDR4]) {
			link->addr.family = AF_INET;
			link->addr.v4 = nla_get_be32(tb[VC_A_LINK_ADDR4]);
		} else if (tb[VC_A_LINK_ADDR6]) {
			link->addr.family = AF_INET6;
			link->addr.v6 = nla_get_in6_addr(tb[VC_A_LINK_ADDR6]);
		} else {
			NL_SET_ERR_ATTR_MISS(extack, nla, VC_A_LINK_ADDR4);
			NL_SET_ERR_MSG_ATTR(extack, nla,
					    "link address missing (IPv4 or IPv6)");
			return -EINVAL;
		}
		if (!vc_addr_usable(&link->addr)) {
			NL_SET_ERR_MSG_ATTR(extack, nla,
					    "link address must be a unicast address (no IPv6 link-local)");
			return -EINVAL;
		}
		if (tb[VC_A_LINK_PORT])
			link->port = nla_get_u16(tb[VC_A_LINK_PORT]);
		link->nla = nla;
		n++;
	}
	return n;
}

static int vc_nl_node_get(struct sk_buff *skb, struct genl_info *info)
{
	struct vc_inst *inst = vc_inst_of(genl_info_net(info));
	struct sk_buff *msg;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	err = vc_node_fill(msg, inst, info->snd_portid, info->snd_seq, 0);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

static int vc_nl_node_set(struct sk_buff *skb, struct genl_info *info)
{
	struct vc_inst *inst = vc_inst_of(genl_info_net(info));
	int err;

	mutex_lock(&inst->cfg_mutex);
	err = vc_node_set(inst, info);
	mutex_unlock(&inst->cfg_mutex);
	return err;
}

static int vc_nl_start(struct sk_buff *skb, struct genl_info *info)
{
	struct vc_inst *inst = vc_inst_of(genl_info_net(info));
	int err;

	mutex_lock(&inst->cfg_mutex);
	err = vc_node_start(inst, info);
	mutex_unlock(&inst->cfg_mutex);
	return err;
}

static int vc_nl_stop(struct sk_buff *skb, struct genl_info *info)
{
	struct vc_inst *inst = vc_inst_of(genl_info_net(info));
	int err;

	mutex_lock(&inst->cfg_mutex);
	err = vc_node_stop(inst, info);
	mutex_unlock(&inst->cfg_mutex);
	return err;
}

static int vc_nl_peer_add(struct sk_buff *skb, struct genl_info *info)
{
	struct vc_inst *inst = vc_inst_of(genl_info_net(info));
	int err;

	mutex_lock(&inst->cfg_mutex);
	err = vc_peer_add(inst, info);
	mutex_unlock(&inst->cfg_mutex);
	return err;
}

static int vc_nl_peer_set(struct sk_buff *skb, struct genl_info *info)
{
	struct vc_inst *inst = vc_inst_of(genl_info_net(info));
	int err;

	mutex_lock(&inst->cfg_mutex);
	err = vc_peer_set(inst, info);
	mutex_unlock(&inst->cfg_mutex);
	return err;
}

static int vc_nl_peer_del(struct sk_buff *skb, struct genl_info *info)
{
	struct vc_inst *inst = vc_inst_of(genl_info_net(info));
	int err;

	mutex_lock(&inst->cfg_mutex);
	err = vc_peer_del(inst, info);
	mutex_unlock(&inst->cfg_mutex);
	return err;
}

static int vc_nl_fence_arm(struct sk_buff *skb, struct genl_info *info)
{
	struct vc_inst *inst = vc_inst_of(genl_info_net(info));
	int err;

	mutex_lock(&inst->cfg_mutex);
	err = vc_fence_arm(inst, info);
	mutex_unlock(&inst->cfg_mutex);
	return err;
}

static int vc_nl_fence_pet(struct sk_buff *skb, struct genl_info *info)
{
	struct vc_inst *inst = vc_inst_of(genl_info_net(info));
	int err;

	mutex_lock(&inst->cfg_mutex);
	err = vc_fence_pet(inst, info);
	mutex_unlock(&inst->cfg_mutex);
	return err;
}

static int vc_nl_fence_disarm(struct sk_buff *skb, struct genl_info *info)
{
	struct vc_inst *inst = vc_inst_of(genl_info_net(info));
	int err;

	mutex_lock(&inst->cfg_mutex);
	err = vc_fence_disarm(inst, info);
	mutex_unlock(&inst->cfg_mutex);
	return err;
}

static int vc_nl_proc_add(struct sk_buff *skb, struct genl_info *info)
{
	struct vc_inst *inst = vc_inst_of(genl_info_net(info));
	int err;

	mutex_lock(&inst->cfg_mutex);
	err = vc_proc_add(inst, info);
	mutex_unlock(&inst->cfg_mutex);
	return err;
}

static int vc_nl_proc_del(struct sk_buff *skb, struct genl_info *info)
{
	struct vc_inst *inst = vc_inst_of(genl_info_net(info));
	int err;

	mutex_lock(&inst->cfg_mutex);
	err = vc_proc_del(inst, info);
	mutex_unlock(&inst->cfg_mutex);
	return err;
}

static int vc_nl_key_set(struct sk_buff *skb, struct genl_info *info)
{
	struct vc_inst *inst = vc_inst_of(genl_info_net(info));
	int err;

	mutex_lock(&inst->cfg_mutex);
	err = vc_key_set(inst, info);
	mutex_unlock(&inst->cfg_mutex);
	return err;
}

static int vc_nl_key_del(struct sk_buff *skb, struct genl_info *info)
{
	struct vc_inst *inst = vc_inst_of(genl_info_net(info));
	int err;

	mutex_lock(&inst->cfg_mutex);
	err = vc_key_del(inst, info);
	mutex_unlock(&inst->cfg_mutex);
	return err;
}

static int vc_nl_peer_get(struct sk_buff *skb, struct genl_info *info)
{
	struct vc_inst *inst = vc_inst_of(genl_info_net(info));
	struct vc_peer *peer;
	struct sk_buff *msg;
	u32 node_id;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, VC_A_PEER_NODE_ID)) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "peer node id required (or ask for a dump)");
		return -EINVAL;
	}
	node_id = nla_get_u32(info->attrs[VC_A_PEER_NODE_ID]);

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	spin_lock_bh(&inst->lock);
	peer = vc_peer_find(inst, node_id);
	if (peer)
		err = vc_peer_fill(msg, inst, peer, info->snd_portid,
				   info->snd_seq, 0);
	else
		err = -ENOENT;
	spin_unlock_bh(&inst->lock);

	if (err) {
		nlmsg_free(msg);
		if (err == -ENOENT)
			NL_SET_ERR_MSG_ATTR(info->extack,
					    info->attrs[VC_A_PEER_NODE_ID],
					    "no such peer");
		return err;
	}
	return genlmsg_reply(msg, info);
}

/*
 * cb->args[0] holds the lowest node id still to dump: peers are sorted by
 * node id, so a peer deleted or added between two parts of a dump neither
 * repeats another nor makes the dump skip one that stayed.
 */
static int vc_nl_peer_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct vc_inst *inst = vc_inst_of(sock_net(skb->sk));
	u64 next = cb->args[0];
	struct vc_peer *peer;
	int err = 0;
	u32 i;

	spin_lock_bh(&inst->lock);
	for (i = 0; i < inst->n_peers; i++) {
		peer = inst->peers[i];
		if (peer->node_id < next)
			continue;
		err = vc_peer_fill(skb, inst, peer,
				   NETLINK_CB(cb->skb).portid,
				   cb->nlh->nlmsg_seq, NLM_F_MULTI);
		if (err)
			break;
		next = (u64)peer->node_id + 1;
	}
	spin_unlock_bh(&inst->lock);

	cb->args[0] = next;
	if (err && !skb->len)
		return err;
	return skb->len;
}

static const struct genl_ops vc_genl_ops[] = {
	{
		.cmd = VC_CMD_NODE_GET,
		.doit = vc_nl_node_get,
	},
	{
		.cmd = VC_CMD_NODE_SET,
		.doit = vc_nl_node_set,
		.policy = vc_node_set_policy,
		.maxattr = ARRAY_SIZE(vc_node_set_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VC_CMD_START,
		.doit = vc_nl_start,
		.policy = vc_start_policy,
		.maxattr = ARRAY_SIZE(vc_start_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VC_CMD_STOP,
		.doit = vc_nl_stop,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VC_CMD_PEER_ADD,
		.doit = vc_nl_peer_add,
		.policy = vc_peer_policy,
		.maxattr = ARRAY_SIZE(vc_peer_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VC_CMD_PEER_SET,
		.doit = vc_nl_peer_set,
		.policy = vc_peer_policy,
		.maxattr = ARRAY_SIZE(vc_peer_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VC_CMD_PEER_DEL,
		.doit = vc_nl_peer_del,
		.policy = vc_peer_id_policy,
		.maxattr = ARRAY_SIZE(vc_peer_id_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VC_CMD_PEER_GET,
		.doit = vc_nl_peer_get,
		.dumpit = vc_nl_peer_dump,
		.policy = vc_peer_id_policy,
		.maxattr = ARRAY_SIZE(vc_peer_id_policy) - 1,
	},
	{
		.cmd = VC_CMD_FENCE_ARM,
		.doit = vc_nl_fence_arm,
		.policy = vc_fence_arm_policy,
		.maxattr = ARRAY_SIZE(vc_fence_arm_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VC_CMD_FENCE_PET,
		.doit = vc_nl_fence_pet,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VC_CMD_FENCE_DISARM,
		.doit = vc_nl_fence_disarm,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VC_CMD_PROC_ADD,
		.doit = vc_nl_proc_add,
		.policy = vc_proc_policy,
		.maxattr = ARRAY_SIZE(vc_proc_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VC_CMD_PROC_DEL,
		.doit = vc_nl_proc_del,
		.policy = vc_proc_policy,
		.maxattr = ARRAY_SIZE(vc_proc_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VC_CMD_PROC_GET,
		.dumpit = vc_proc_dump,
	},
	{
		.cmd = VC_CMD_KEY_SET,
		.doit = vc_nl_key_set,
		.policy = vc_key_policy,
		.maxattr = ARRAY_SIZE(vc_key_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = VC_CMD_KEY_DEL,
		.doit = vc_nl_key_del,
		.policy = vc_key_id_policy,
		.maxattr = ARRAY_SIZE(vc_key_id_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

static const struct genl_multicast_group vc_genl_mcgrps[] = {
	{ .name = VC_GENL_MCGRP_EVENTS },
};

struct genl_family vc_genl_family __ro_after_init = {
	.name = VC_GENL_NAME,
	.version = VC_GENL_VERSION,
	.netnsok = true,
	.module = THIS_MODULE,
	.ops = vc_genl_ops,
	.n_ops = ARRAY_SIZE(vc_genl_ops),
	.mcgrps = vc_genl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(vc_genl_mcgrps),
};
