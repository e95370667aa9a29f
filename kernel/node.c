// SPDX-License-Identifier: GPL-2.0
/*
 * vcluster: the local instance: its settings, START and STOP, NODE_GET.
 */
#include <linux/minmax.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <net/genetlink.h>

#include "vc.h"

void vc_node_init(struct vc_inst *inst, struct net *net)
{
	inst->net = net;
	mutex_init(&inst->cfg_mutex);
	spin_lock_init(&inst->lock);
	inst->votes = 1;
	vc_defaults(&inst->interval_ms, &inst->misses, &inst->port);
	inst->fence_margin_ms = vc_default_fence_margin_ms();
	vc_hb_init(inst);
}

/*
 * Stop heartbeating: an armed watchdog fires first (@reason; see
 * vc_fence_leave()), every live peer goes DOWN (reason STOPPED), quorum
 * is lost, the watchdog is disarmed, then the timer is cancelled and the
 * sockets released.  Events are sent only when @notify; the netns is
 * going away otherwise.
 */
static void vc_node_do_stop(struct vc_inst *inst, u32 reason, bool notify)
{
	struct sk_buff_head evq;
	bool was_armed;
	u64 now;

	lockdep_assert_held(&inst->cfg_mutex);

	if (inst->armed)
		vc_fence_leave(inst, reason, notify);

	__skb_queue_head_init(&evq);
	now = ktime_get_boottime_ns();
	spin_lock_bh(&inst->lock);
	inst->running = 0;
	vc_peers_down(inst, &evq, VC_DOWN_REASON_STOPPED, now);
	vc_quorum_reset(inst, &evq, now);
	was_armed = vc_fence_clear(inst, &evq, now);
	vc_event_node(inst, &evq, VC_EVENT_NODE_STOPPED, now);
	spin_unlock_bh(&inst->lock);

	if (notify)
		vc_event_flush(inst, &evq);
	else
		__skb_queue_purge(&evq);

	vc_hb_stop(inst);
	vc_hb_close(inst);
	if (was_armed)
		module_put(THIS_MODULE);
}

void vc_node_destroy(struct vc_inst *inst)
{
	mutex_lock(&inst->cfg_mutex);
	if (inst->running)
		vc_node_do_stop(inst, VC_FENCE_REASON_NETNS_EXIT, false);
	vc_hb_stop(inst);
	vc_peers_free(inst);
	vc_procs_free(inst);
	vc_keys_wipe(inst);
	mutex_unlock(&inst->cfg_mutex);
	mutex_destroy(&inst->cfg_mutex);
}

/* New local links must keep the address family of the peers' links. */
static int vc_node_links_check(struct vc_inst *inst,
			       const struct vc_link_cfg *links,
			       struct netlink_ext_ack *extack)
{
	struct vc_peer *peer;
	int err = 0;
	u32 i, l;

	spin_lock_bh(&inst->lock);
	for (i = 0; i < inst->n_peers && !err; i++) {
		peer = inst->peers[i];
		for (l = 0; l < VC_MAX_LINKS; l++) {
			if (!links[l].addr.family ||
			    !peer->links[l].addr.family ||
			    links[l].addr.family == peer->links[l].addr.family)
				continue;
			NL_SET_ERR_MSG_ATTR(extack, links[l].nla,
					    "address family differs from a peer's link of that id");
			err = -EINVAL;
			break;
		}
	}
	spin_unlock_bh(&inst->lock);
	return err;
}

int vc_node_set(struct vc_inst *inst, struct genl_info *info)
{
	static const int stopped_only[] = {
		VC_A_NODE_CLUSTER_ID, VC_A_NODE_NODE_ID, VC_A_NODE_VOTES,
		VC_A_NODE_PORT, VC_A_NODE_INCARNATION, VC_A_NODE_LINK,
	};
	struct netlink_ext_ack *extack = info->extack;
	struct vc_link_cfg links[VC_MAX_LINKS];
	struct nlattr **attrs = info->attrs;
	bool taken, restart;
	struct nlattr *nla;
	int err, l;
	u32 i;

	lockdep_assert_held(&inst->cfg_mutex);

	if (inst->running) {
		for (i = 0; i < ARRAY_SIZE(stopped_only); i++) {
			nla = attrs[stopped_only[i]];
			if (!nla)
				continue;
			NL_SET_ERR_MSG_ATTR(extack, nla,
					    "only interval, misses, payload, expected votes, fence margin and insecure can change while running");
			return -EBUSY;
		}
	}

	nla = attrs[VC_A_NODE_NODE_ID];
	if (nla) {
		spin_lock_bh(&inst->lock);
		taken = vc_peer_find(inst, nla_get_u32(nla));
		spin_unlock_bh(&inst->lock);
		if (taken) {
			NL_SET_ERR_MSG_ATTR(extack, nla,
					    "node id is that of a configured peer");
			return -EINVAL;
		}
	}

	nla = attrs[VC_A_NODE_EXPECTED_VOTES];
	if (nla) {
		err = vc_quorum_check_expected(inst, nla, extack);
		if (err)
			return err;
	}

	nla = attrs[VC_A_NODE_INCARNATION];
	if (nla && nla_get_u64(nla) <= inst->incarnation) {
		NL_SET_ERR_MSG_ATTR(extack, nla,
				    "incarnation must be higher than the previous one");
		return -EINVAL;
	}

	if (attrs[VC_A_NODE_LINK]) {
		err = vc_parse_links(info, VC_A_NODE_LINK, false, links, extack);
		if (err < 0)
			return err;
		err = vc_node_links_check(inst, links, extack);
		if (err)
			return err;
	}

	/*
	 * A new interval takes effect at once: stop the timer (its callback
	 * never takes cfg_mutex), change, and restart it with a heartbeat now.
	 */
	restart = inst->running && attrs[VC_A_NODE_INTERVAL_MS];
	if (restart)
		vc_hb_stop(inst);

	spin_lock_bh(&inst->lock);
	if (attrs[VC_A_NODE_CLUSTER_ID])
		inst->cluster_id = nla_get_u32(attrs[VC_A_NODE_CLUSTER_ID]);
	if (attrs[VC_A_NODE_NODE_ID])
		inst->node_id = nla_get_u32(attrs[VC_A_NODE_NODE_ID]);
	if (attrs[VC_A_NODE_VOTES])
		inst->votes = nla_get_u32(attrs[VC_A_NODE_VOTES]);
	if (attrs[VC_A_NODE_PORT])
		inst->port = nla_get_u16(attrs[VC_A_NODE_PORT]);
	if (attrs[VC_A_NODE_INCARNATION])
		inst->next_incarnation =
			nla_get_u64(attrs[VC_A_NODE_INCARNATION]);
	if (attrs[VC_A_NODE_INTERVAL_MS])
		inst->interval_ms = nla_get_u32(attrs[VC_A_NODE_INTERVAL_MS]);
	if (attrs[VC_A_NODE_MISSES])
		inst->misses = nla_get_u32(attrs[VC_A_NODE_MISSES]);
	if (attrs[VC_A_NODE_PAYLOAD]) {
		nla = attrs[VC_A_NODE_PAYLOAD];
		inst->payload_len = nla_len(nla);
		memcpy(inst->payload, nla_data(nla), inst->payload_len);
	}
	if (attrs[VC_A_NODE_LINK])
		for (l = 0; l < VC_MAX_LINKS; l++)
			inst->links[l] = links[l].addr;
	if (attrs[VC_A_NODE_EXPECTED_VOTES])
		inst->expected_votes =
			nla_get_u32(attrs[VC_A_NODE_EXPECTED_VOTES]);
	if (attrs[VC_A_NODE_FENCE_MARGIN_MS])
		inst->fence_margin_ms =
			nla_get_u32(attrs[VC_A_NODE_FENCE_MARGIN_MS]);
	if (attrs[VC_A_NODE_INSECURE])
		inst->insecure = nla_get_u32(attrs[VC_A_NODE_INSECURE]);
	spin_unlock_bh(&inst->lock);

	if (restart)
		vc_hb_start(inst);
	return 0;
}

int vc_node_start(struct vc_inst *inst, struct genl_info *info)
{
	struct nlattr *nla = info->attrs[VC_A_NODE_INCARNATION];
	struct netlink_ext_ack *extack = info->extack;
	struct sk_buff_head evq;
	u64 inc, now;
	bool links = false;
	int err, l;

	lockdep_assert_held(&inst->cfg_mutex);

	if (inst->running) {
		NL_SET_ERR_MSG_MOD(extack, "already running");
		return -EBUSY;
	}
	if (!inst->cluster_id) {
		NL_SET_ERR_MSG_MOD(extack, "cluster id not set");
		return -EINVAL;
	}
	if (!inst->node_id) {
		NL_SET_ERR_MSG_MOD(extack, "node id not set");
		return -EINVAL;
	}
	for (l = 0; l < VC_MAX_LINKS; l++)
		links |= inst->links[l].family != 0;
	if (!links) {
		NL_SET_ERR_MSG_MOD(extack, "no local link configured");
		return -EINVAL;
	}
	if (!vc_auth_have_key(inst) && !inst->insecure) {
		NL_SET_ERR_MSG_MOD(extack,
				   "no key set: set one with KEY_SET, or allow running unauthenticated with INSECURE");
		return -ENOKEY;
	}

	if (nla) {
		inc = nla_get_u64(nla);
		if (inc <= inst->incarnation) {
			NL_SET_ERR_MSG_ATTR(extack, nla,
					    "incarnation must be higher than the previous one");
			return -EINVAL;
		}
	} else if (inst->next_incarnation) {
		inc = inst->next_incarnation;
	} else {
		inc = max_t(u64, inst->incarnation + 1,
			    ktime_get_real_seconds());
	}

	err = vc_hb_open(inst, extack);
	if (err)
		return err;

	__skb_queue_head_init(&evq);
	now = ktime_get_boottime_ns();
	spin_lock_bh(&inst->lock);
	inst->incarnation = inc;
	inst->next_incarnation = 0;
	inst->seq = 0;
	vc_peers_reset(inst, now);
	inst->running = 1;
	vc_event_node(inst, &evq, VC_EVENT_NODE_STARTED, now);
	spin_unlock_bh(&inst->lock);
	vc_event_flush(inst, &evq);

	vc_hb_start(inst);
	return 0;
}

int vc_node_stop(struct vc_inst *inst, struct genl_info *info)
{
	lockdep_assert_held(&inst->cfg_mutex);

	if (!inst->running) {
		NL_SET_ERR_MSG_MOD(info->extack, "not running");
		return -EINVAL;
	}
	vc_node_do_stop(inst, VC_FENCE_REASON_STOPPED, true);
	return 0;
}

static int vc_node_put_links(struct sk_buff *skb, struct vc_inst *inst)
{
	const struct vc_addr *addr;
	struct nlattr *nest;
	int l;

	for (l = 0; l < VC_MAX_LINKS; l++) {
		addr = &inst->links[l];
		if (!addr->family)
			continue;
		nest = nla_nest_start(skb, VC_A_NODE_LINK);
		if (!nest)
			return -EMSGSIZE;
		if (nla_put_u32(skb, VC_A_LINK_ID, l) ||
		    (addr->family == AF_INET &&
		     nla_put_in_addr(skb, VC_A_LINK_ADDR4, addr->v4)) ||
		    (addr->family == AF_INET6 &&
		     nla_put_in6_addr(skb, VC_A_LINK_ADDR6, &addr->v6)))
			return -EMSGSIZE;
		nla_nest_end(skb, nest);
	}
	return 0;
}

static int vc_node_put_quorum(struct sk_buff *skb, struct vc_inst *inst)
{
	lockdep_assert_held(&inst->lock);

	if (nla_put_u32(skb, VC_A_NODE_EXPECTED_VOTES, inst->expected_votes) ||
	    nla_put_u32(skb, VC_A_NODE_VOTES_SEEN, inst->votes_seen) ||
	    nla_put_u32(skb, VC_A_NODE_QUORATE, inst->quorate) ||
	    nla_put_u64_64bit(skb, VC_A_NODE_QUORATE_UNTIL_NS,
			      vc_quorate_until_ns(inst), VC_A_NODE_PAD))
		return -EMSGSIZE;
	return 0;
}

static int vc_node_put(struct sk_buff *skb, struct vc_inst *inst)
{
	u64 inc = inst->incarnation;

	lockdep_assert_held(&inst->lock);

	if (!inst->running && inst->next_incarnation)
		inc = inst->next_incarnation;

	if (nla_put_u32(skb, VC_A_NODE_CLUSTER_ID, inst->cluster_id) ||
	    nla_put_u32(skb, VC_A_NODE_NODE_ID, inst->node_id) ||
	    nla_put_u32(skb, VC_A_NODE_VOTES, inst->votes) ||
	    nla_put_u16(skb, VC_A_NODE_PORT, inst->port) ||
	    nla_put_u64_64bit(skb, VC_A_NODE_INCARNATION, inc,
			      VC_A_NODE_PAD) ||
	    nla_put_u32(skb, VC_A_NODE_INTERVAL_MS, inst->interval_ms) ||
	    nla_put_u32(skb, VC_A_NODE_MISSES, inst->misses) ||
	    nla_put_u32(skb, VC_A_NODE_DEAD_MS, vc_dead_ms(inst)) ||
	    nla_put(skb, VC_A_NODE_PAYLOAD, inst->payload_len,
		    inst->payload) ||
	    vc_node_put_links(skb, inst) ||
	    nla_put_u32(skb, VC_A_NODE_STATE,
			inst->running ? VC_NODE_STATE_RUNNING :
					VC_NODE_STATE_STOPPED) ||
	    nla_put_u64_64bit(skb, VC_A_NODE_SEQ, inst->seq, VC_A_NODE_PAD) ||
	    nla_put_u32(skb, VC_A_NODE_PEERS, inst->n_peers) ||
	    nla_put_u64_64bit(skb, VC_A_NODE_RX_MALFORMED, inst->rx_malformed,
			      VC_A_NODE_PAD) ||
	    nla_put_u64_64bit(skb, VC_A_NODE_RX_FOREIGN, inst->rx_foreign,
			      VC_A_NODE_PAD) ||
	    nla_put_u64_64bit(skb, VC_A_NODE_RX_UNKNOWN, inst->rx_unknown,
			      VC_A_NODE_PAD) ||
	    nla_put_u64_64bit(skb, VC_A_NODE_RX_REFUSED, inst->rx_refused,
			      VC_A_NODE_PAD) ||
	    nla_put_u64_64bit(skb, VC_A_NODE_TX_ERRORS, inst->tx_errors,
			      VC_A_NODE_PAD) ||
	    vc_node_put_quorum(skb, inst) ||
	    vc_fence_put(skb, inst) ||
	    vc_auth_put(skb, inst))
		return -EMSGSIZE;
	return 0;
}

int vc_node_fill(struct sk_buff *skb, struct vc_inst *inst, u32 portid,
		 u32 seq, int flags)
{
	void *hdr;
	int err;

	hdr = genlmsg_put(skb, portid, seq, &vc_genl_family, flags,
			  VC_CMD_NODE_GET);
	if (!hdr)
		return -EMSGSIZE;

	spin_lock_bh(&inst->lock);
	err = vc_node_put(skb, inst);
	spin_unlock_bh(&inst->lock);

	if (err) {
		genlmsg_cancel(skb, hdr);
		return err;
	}
	genlmsg_end(skb, hdr);
	return 0;
}
