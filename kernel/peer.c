// SPDX-License-Identifier: GPL-2.0
/*
 * vcluster: the peer table and the membership state machine.
 *
 * The rules, in plain words (Documentation/protocol.rst has the reasons):
 *
 * - A peer is UP only while we hear it *and* its latest heartbeat lists us
 *   (our current life) as JOINING, UP or SUSPECT.  A heartbeat that lists
 *   us DOWN, or no longer lists our life although it was UP, makes the
 *   peer DOWN (DECLARED): one-way loss makes both ends DOWN.
 * - At every tick, before sending: a link silent for dead time goes DOWN; a
 *   live peer silent on every link for dead time goes DOWN (TIMEOUT), and
 *   an UP peer silent for 1.5 intervals goes SUSPECT.
 * - DOWN is sticky for that life of the peer: its heartbeats are refused
 *   until it comes back with a higher incarnation (a new life).  A START
 *   of ours is a new life of ours: every peer starts again as NEW.
 * - Within a life each link's sequence must grow; gaps count as lost.
 * - A heartbeat that lists our current life DOWN fences us, if armed
 *   (rule 4: no silent comebacks).
 * - Each accepted heartbeat's fencing advertisement is kept (rule 6);
 *   vc_fenced_by_ns() turns it into the peer's fence window (rule 8).
 */
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/stringify.h>
#include <net/genetlink.h>

#include "vc.h"

struct vc_peer *vc_peer_find(struct vc_inst *inst, u32 node_id)
{
	u32 i;

	lockdep_assert_held(&inst->lock);

	for (i = 0; i < inst->n_peers; i++)
		if (inst->peers[i]->node_id == node_id)
			return inst->peers[i];
	return NULL;
}

static void vc_peer_set_state(struct vc_inst *inst, struct sk_buff_head *evq,
			      struct vc_peer *peer, u8 state, u32 reason,
			      u64 now_ns)
{
	static const u32 event_of[__VC_PEER_STATE_MAX] = {
		[VC_PEER_STATE_JOINING]	= VC_EVENT_PEER_JOINING,
		[VC_PEER_STATE_UP]	= VC_EVENT_PEER_UP,
		[VC_PEER_STATE_SUSPECT]	= VC_EVENT_PEER_SUSPECT,
		[VC_PEER_STATE_DOWN]	= VC_EVENT_PEER_DOWN,
	};

	lockdep_assert_held(&inst->lock);

	if (peer->state == state)
		return;
	peer->state = state;
	peer->state_since_ns = now_ns;
	if (state != VC_PEER_STATE_DOWN)
		reason = VC_DOWN_REASON_UNSPEC;
	if (event_of[state])
		vc_event_peer(inst, evq, event_of[state], peer, -1, reason,
			      now_ns);
}

static void vc_link_set_state(struct vc_inst *inst, struct sk_buff_head *evq,
			      struct vc_peer *peer, int link_id, u8 state,
			      u64 now_ns)
{
	struct vc_peer_link *pl = &peer->links[link_id];

	lockdep_assert_held(&inst->lock);

	if (pl->state == state)
		return;
	pl->state = state;
	vc_event_peer(inst, evq,
		      state == VC_LINK_STATE_UP ? VC_EVENT_LINK_UP :
						  VC_EVENT_LINK_DOWN,
		      peer, link_id, VC_DOWN_REASON_UNSPEC, now_ns);
}

static void vc_peer_link_init(struct vc_peer_link *pl,
			      const struct vc_link_cfg *cfg)
{
	memset(pl, 0, sizeof(*pl));
	pl->addr = cfg->addr;
	pl->port = cfg->port;
	pl->state = VC_LINK_STATE_DOWN;
}

/*
 * A peer link needs our local link of that id, with the same address
 * family.  (Local links changed later by NODE_SET are not held to this: a
 * peer link without a local one is simply not used.)
 */
static int vc_peer_links_check(struct vc_inst *inst,
			       const struct vc_link_cfg *links,
			       struct netlink_ext_ack *extack)
{
	int l;

	lockdep_assert_held(&inst->cfg_mutex);

	for (l = 0; l < VC_MAX_LINKS; l++) {
		if (!links[l].addr.family)
			continue;
		if (!inst->links[l].family) {
			NL_SET_ERR_MSG_ATTR(extack, links[l].nla,
					    "we have no local link of that id (configure the node's links first)");
			return -EINVAL;
		}
		if (links[l].addr.family != inst->links[l].family) {
			NL_SET_ERR_MSG_ATTR(extack, links[l].nla,
					    "address family differs from our local link of that id");
			return -EINVAL;
		}
	}
	return 0;
}

static int vc_peer_node_id(struct genl_info *info, u32 *node_id)
{
	if (GENL_REQ_ATTR_CHECK(info, VC_A_PEER_NODE_ID)) {
		NL_SET_ERR_MSG_MOD(info->extack, "peer node id required");
		return -EINVAL;
	}
	*node_id = nla_get_u32(info->attrs[VC_A_PEER_NODE_ID]);
	return 0;
}

int vc_peer_add(struct vc_inst *inst, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *id_attr = info->attrs[VC_A_PEER_NODE_ID];
	struct vc_link_cfg links[VC_MAX_LINKS];
	struct vc_peer *peer;
	u32 node_id, i;
	int err, l;

	lockdep_assert_held(&inst->cfg_mutex);

	err = vc_peer_node_id(info, &node_id);
	if (err)
		return err;
	if (node_id == inst->node_id) {
		NL_SET_ERR_MSG_ATTR(extack, id_attr,
				    "that is our own node id, not a peer's");
		return -EINVAL;
	}
	err = vc_parse_links(info, VC_A_PEER_LINK, true, links, extack);
	if (err < 0)
		return err;
	err = vc_peer_links_check(inst, links, extack);
	if (err)
		return err;

	peer = kzalloc(sizeof(*peer), GFP_KERNEL);
	if (!peer)
		return -ENOMEM;
	peer->node_id = node_id;
	peer->votes = 1;
	if (info->attrs[VC_A_PEER_VOTES])
		peer->votes = nla_get_u32(info->attrs[VC_A_PEER_VOTES]);
	peer->state = VC_PEER_STATE_NEW;
	peer->state_since_ns = ktime_get_boottime_ns();
	for (l = 0; l < VC_MAX_LINKS; l++)
		vc_peer_link_init(&peer->links[l], &links[l]);

	spin_lock_bh(&inst->lock);
	if (vc_peer_find(inst, node_id)) {
		err = -EEXIST;
	} else if (inst->n_peers >= VC_MAX_PEERS) {
		err = -ENOSPC;
	} else {
		for (i = 0; i < inst->n_peers; i++)
			if (inst->peers[i]->node_id > node_id)
				break;
		memmove(&inst->peers[i + 1], &inst->peers[i],
			(inst->n_peers - i) * sizeof(inst->peers[0]));
		inst->peers[i] = peer;
		inst->n_peers++;
	}
	spin_unlock_bh(&inst->lock);

	if (err) {
		kfree(peer);
		if (err == -EEXIST)
			NL_SET_ERR_MSG_ATTR(extack, id_attr,
					    "peer already configured");
		else
			NL_SET_ERR_MSG_MOD(extack, "too many peers (at most "
					   __stringify(VC_MAX_PEERS) ")");
	}
	return err;
}

int vc_peer_set(struct vc_inst *inst, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	struct vc_link_cfg links[VC_MAX_LINKS];
	struct vc_peer_link *pl;
	struct vc_peer *peer;
	int err, n_links, l;
	u32 node_id;

	lockdep_assert_held(&inst->cfg_mutex);

	err = vc_peer_node_id(info, &node_id);
	if (err)
		return err;
	n_links = vc_parse_links(info, VC_A_PEER_LINK, true, links, extack);
	if (n_links < 0)
		return n_links;
	err = vc_peer_links_check(inst, links, extack);
	if (err)
		return err;

	spin_lock_bh(&inst->lock);
	peer = vc_peer_find(inst, node_id);
	if (!peer) {
		spin_unlock_bh(&inst->lock);
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[VC_A_PEER_NODE_ID],
				    "no such peer");
		return -ENOENT;
	}
	if (info->attrs[VC_A_PEER_VOTES])
		peer->votes = nla_get_u32(info->attrs[VC_A_PEER_VOTES]);
	/* The links given replace all; an unchanged link keeps its state. */
	for (l = 0; n_links && l < VC_MAX_LINKS; l++) {
		pl = &peer->links[l];
		if (pl->addr.family && vc_addr_equal(&pl->addr, &links[l].addr) &&
		    pl->port == links[l].port)
			continue;
		vc_peer_link_init(pl, &links[l]);
	}
	spin_unlock_bh(&inst->lock);
	return 0;
}

int vc_peer_del(struct vc_inst *inst, struct genl_info *info)
{
	struct sk_buff_head evq;
	struct vc_peer *peer = NULL;
	u32 node_id, i;
	int err;

	lockdep_assert_held(&inst->cfg_mutex);

	err = vc_peer_node_id(info, &node_id);
	if (err)
		return err;

	__skb_queue_head_init(&evq);
	spin_lock_bh(&inst->lock);
	for (i = 0; i < inst->n_peers; i++) {
		if (inst->peers[i]->node_id != node_id)
			continue;
		peer = inst->peers[i];
		if (vc_peer_alive(peer))
			vc_peer_set_state(inst, &evq, peer, VC_PEER_STATE_DOWN,
					  VC_DOWN_REASON_REMOVED,
					  ktime_get_boottime_ns());
		inst->n_peers--;
		memmove(&inst->peers[i], &inst->peers[i + 1],
			(inst->n_peers - i) * sizeof(inst->peers[0]));
		inst->peers[inst->n_peers] = NULL;
		break;
	}
	spin_unlock_bh(&inst->lock);

	if (!peer) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VC_A_PEER_NODE_ID],
				    "no such peer");
		return -ENOENT;
	}
	vc_event_flush(inst, &evq);
	kfree_rcu(peer, rcu);
	return 0;
}

static int vc_peer_put_link(struct sk_buff *skb, struct vc_inst *inst,
			    const struct vc_peer_link *pl, int link_id)
{
	struct nlattr *nest;

	nest = nla_nest_start(skb, VC_A_PEER_LINK);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, VC_A_LINK_ID, link_id) ||
	    (pl->addr.family == AF_INET &&
	     nla_put_in_addr(skb, VC_A_LINK_ADDR4, pl->addr.v4)) ||
	    (pl->addr.family == AF_INET6 &&
	     nla_put_in6_addr(skb, VC_A_LINK_ADDR6, &pl->addr.v6)) ||
	    nla_put_u16(skb, VC_A_LINK_PORT, pl->port ?: inst->port) ||
	    nla_put_u32(skb, VC_A_LINK_STATE, pl->state) ||
	    nla_put_u64_64bit(skb, VC_A_LINK_LAST_HEARD_NS, pl->last_heard_ns,
			      VC_A_LINK_PAD) ||
	    nla_put_u32(skb, VC_A_LINK_RTT_US,
			min_t(u64, div_u64(pl->srtt_ns, NSEC_PER_USEC),
			      U32_MAX)) ||
	    nla_put_u64_64bit(skb, VC_A_LINK_TX_PACKETS, pl->tx_packets,
			      VC_A_LINK_PAD) ||
	    nla_put_u64_64bit(skb, VC_A_LINK_RX_PACKETS, pl->rx_packets,
			      VC_A_LINK_PAD) ||
	    nla_put_u64_64bit(skb, VC_A_LINK_LOST, pl->lost, VC_A_LINK_PAD) ||
	    nla_put_u64_64bit(skb, VC_A_LINK_MALFORMED, pl->malformed,
			      VC_A_LINK_PAD) ||
	    nla_put_u64_64bit(skb, VC_A_LINK_TX_ERRORS, pl->tx_errors,
			      VC_A_LINK_PAD) ||
	    nla_put_u64_64bit(skb, VC_A_LINK_BAD_MAC, pl->bad_mac,
			      VC_A_LINK_PAD)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* What it advertised about its fencing, and its window on our clock. */
static int vc_peer_put_fence(struct sk_buff *skb, struct vc_inst *inst,
			     const struct vc_peer *peer)
{
	const struct vc_peer_adv *adv = &peer->adv;

	lockdep_assert_held(&inst->lock);

	if (nla_put_u32(skb, VC_A_PEER_FENCE_ACTION, adv->fence_action) ||
	    nla_put_u32(skb, VC_A_PEER_DEAD_MS, adv->dead_ms) ||
	    nla_put_u32(skb, VC_A_PEER_QUORUM_TIMEOUT_MS,
			adv->quorum_timeout_ms) ||
	    nla_put_u32(skb, VC_A_PEER_KILL_BOUND_MS, adv->kill_bound_ms) ||
	    nla_put_u32(skb, VC_A_PEER_FENCE_STRONG,
			vc_fence_action_strong(adv->fence_action)) ||
	    nla_put_u64_64bit(skb, VC_A_PEER_FENCED_BY_NS,
			      vc_fenced_by_ns(inst, peer), VC_A_PEER_PAD) ||
	    nla_put_u32(skb, VC_A_PEER_WIRE_FLAGS, adv->flags))
		return -EMSGSIZE;
	return 0;
}

int vc_peer_fill(struct sk_buff *skb, struct vc_inst *inst,
		 const struct vc_peer *peer, u32 portid, u32 seq, int flags)
{
	void *hdr;
	int l;

	lockdep_assert_held(&inst->lock);

	hdr = genlmsg_put(skb, portid, seq, &vc_genl_family, flags,
			  VC_CMD_PEER_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, VC_A_PEER_NODE_ID, peer->node_id) ||
	    nla_put_u32(skb, VC_A_PEER_VOTES, peer->votes) ||
	    nla_put_u32(skb, VC_A_PEER_STATE, peer->state) ||
	    nla_put_u64_64bit(skb, VC_A_PEER_INCARNATION, peer->incarnation,
			      VC_A_PEER_PAD) ||
	    nla_put_u64_64bit(skb, VC_A_PEER_LAST_HEARD_NS, peer->last_heard_ns,
			      VC_A_PEER_PAD) ||
	    nla_put_u64_64bit(skb, VC_A_PEER_STATE_SINCE_NS,
			      peer->state_since_ns, VC_A_PEER_PAD) ||
	    nla_put_u64_64bit(skb, VC_A_PEER_RX_REFUSED, peer->rx_refused,
			      VC_A_PEER_PAD) ||
	    nla_put(skb, VC_A_PEER_PAYLOAD, peer->payload_len, peer->payload) ||
	    vc_peer_put_fence(skb, inst, peer))
		goto cancel;
	for (l = 0; l < VC_MAX_LINKS; l++)
		if (peer->links[l].addr.family &&
		    vc_peer_put_link(skb, inst, &peer->links[l], l))
			goto cancel;
	genlmsg_end(skb, hdr);
	return 0;
cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/* START: a new life of ours; every peer must be heard afresh. */
void vc_peers_reset(struct vc_inst *inst, u64 now_ns)
{
	struct vc_peer_link *pl;
	struct vc_peer *peer;
	u32 i;
	int l;

	lockdep_assert_held(&inst->lock);

	for (i = 0; i < inst->n_peers; i++) {
		peer = inst->peers[i];
		/*
		 * What our previous life decided is void (it went DOWN with
		 * us): every peer starts as NEW.  Its incarnation is kept, so
		 * an older life of it is still refused.
		 */
		peer->state = VC_PEER_STATE_NEW;
		peer->state_since_ns = now_ns;
		for (l = 0; l < VC_MAX_LINKS; l++) {
			pl = &peer->links[l];
			pl->state = VC_LINK_STATE_DOWN;
			pl->seq_valid = 0;
			pl->srtt_ns = 0;
			pl->echo_time_ns = 0;
			pl->echo_rx_ns = 0;
		}
	}
}

/* STOP: every live peer and every UP link goes DOWN. */
void vc_peers_down(struct vc_inst *inst, struct sk_buff_head *evq,
		   u32 reason, u64 now_ns)
{
	struct vc_peer *peer;
	u32 i;
	int l;

	lockdep_assert_held(&inst->lock);

	for (i = 0; i < inst->n_peers; i++) {
		peer = inst->peers[i];
		for (l = 0; l < VC_MAX_LINKS; l++)
			vc_link_set_state(inst, evq, peer, l,
					  VC_LINK_STATE_DOWN, now_ns);
		if (vc_peer_alive(peer))
			vc_peer_set_state(inst, evq, peer, VC_PEER_STATE_DOWN,
					  reason, now_ns);
	}
}

/* Each tick, before sending: silence makes links and peers DOWN. */
void vc_peers_age(struct vc_inst *inst, struct sk_buff_head *evq, u64 now_ns)
{
	u64 dead_ns = vc_dead_ns(inst), suspect_ns = vc_suspect_ns(inst);
	struct vc_peer_link *pl;
	struct vc_peer *peer;
	u64 age_ns;
	u32 i;
	int l;

	lockdep_assert_held(&inst->lock);

	for (i = 0; i < inst->n_peers; i++) {
		peer = inst->peers[i];
		for (l = 0; l < VC_MAX_LINKS; l++) {
			pl = &peer->links[l];
			if (pl->state == VC_LINK_STATE_UP &&
			    now_ns - pl->last_heard_ns > dead_ns)
				vc_link_set_state(inst, evq, peer, l,
						  VC_LINK_STATE_DOWN, now_ns);
		}
		if (!vc_peer_alive(peer))
			continue;
		age_ns = now_ns - peer->last_heard_ns;
		if (age_ns > dead_ns)
			vc_peer_set_state(inst, evq, peer, VC_PEER_STATE_DOWN,
					  VC_DOWN_REASON_TIMEOUT, now_ns);
		else if (peer->state == VC_PEER_STATE_UP && age_ns > suspect_ns)
			vc_peer_set_state(inst, evq, peer,
					  VC_PEER_STATE_SUSPECT,
					  VC_DOWN_REASON_UNSPEC, now_ns);
	}
}

/* The instance is going away: no timer, no socket, no reader is left. */
void vc_peers_free(struct vc_inst *inst)
{
	u32 i;

	for (i = 0; i < inst->n_peers; i++) {
		kfree(inst->peers[i]);
		inst->peers[i] = NULL;
	}
	inst->n_peers = 0;
}

struct vc_peer_link *vc_peer_link_by_addr(struct vc_inst *inst, u8 link_id,
					  const struct vc_addr *addr)
{
	struct vc_peer_link *pl;
	u32 i;

	lockdep_assert_held(&inst->lock);

	for (i = 0; i < inst->n_peers; i++) {
		pl = &inst->peers[i]->links[link_id];
		if (vc_addr_equal(&pl->addr, addr))
			return pl;
	}
	return NULL;
}

static void vc_peer_refuse(struct vc_inst *inst, struct vc_peer *peer)
{
	lockdep_assert_held(&inst->lock);

	inst->rx_refused++;
	peer->rx_refused++;
}

/* Our state in the sender's member list, counting only our current life. */
static u8 vc_peer_view_of_us(struct vc_inst *inst, const u8 *members,
			     unsigned int n_members)
{
	struct vc_wire_member m;
	unsigned int i;

	lockdep_assert_held(&inst->lock);

	for (i = 0; i < n_members; i++) {
		memcpy(&m, members + i * sizeof(m), sizeof(m));
		if (be32_to_cpu(m.node_id) == inst->node_id &&
		    be64_to_cpu(m.incarnation) == inst->incarnation)
			return m.state;
	}
	return VC_PEER_STATE_NEW;
}

static void vc_peer_rtt(struct vc_peer_link *pl, const struct vc_wire_hdr *hdr,
			u64 now_ns)
{
	u64 echo_ns = be64_to_cpu(hdr->echo_time_ns);
	u64 held_ns = (u64)be32_to_cpu(hdr->echo_held_us) * NSEC_PER_USEC;
	u64 rtt_ns;

	if (!echo_ns || echo_ns + held_ns >= now_ns)
		return;
	rtt_ns = now_ns - echo_ns - held_ns;
	/* Smoothed like TCP's srtt: 7/8 old, 1/8 new. */
	if (pl->srtt_ns)
		pl->srtt_ns = pl->srtt_ns - (pl->srtt_ns >> 3) + (rtt_ns >> 3);
	else
		pl->srtt_ns = rtt_ns;
}

static void vc_peer_adv_update(struct vc_peer *peer,
			       const struct vc_wire_hdr *hdr)
{
	struct vc_peer_adv *adv = &peer->adv;

	adv->flags = be16_to_cpu(hdr->flags);
	adv->fence_action = hdr->fence_action;
	if (!(adv->flags & VC_WIRE_F_ARMED) ||
	    adv->fence_action >= __VC_FENCE_ACTION_MAX)
		adv->fence_action = VC_FENCE_ACTION_NONE;
	adv->interval_ms = be32_to_cpu(hdr->interval_ms);
	adv->dead_ms = be32_to_cpu(hdr->dead_ms);
	adv->quorum_timeout_ms = be32_to_cpu(hdr->quorum_timeout_ms);
	adv->kill_bound_ms = be32_to_cpu(hdr->kill_bound_ms);
}

/*
 * A well-formed heartbeat of our cluster, addressed to us, from @peer on
 * its link @link_id (which the caller checked exists).
 */
void vc_peer_rx(struct vc_inst *inst, struct sk_buff_head *evq,
		struct vc_peer *peer, u8 link_id,
		const struct vc_wire_hdr *hdr, const u8 *members,
		const u8 *payload, u64 now_ns)
{
	struct vc_peer_link *pl = &peer->links[link_id];
	u64 inc = be64_to_cpu(hdr->incarnation);
	u64 seq = be64_to_cpu(hdr->seq);
	u8 theirs;
	int l;

	lockdep_assert_held(&inst->lock);

	if (inc < peer->incarnation ||
	    (inc == peer->incarnation && peer->state == VC_PEER_STATE_DOWN)) {
		vc_peer_refuse(inst, peer);
		return;
	}
	if (inc > peer->incarnation) {
		/* A new life: the old one is over. */
		if (vc_peer_alive(peer))
			vc_peer_set_state(inst, evq, peer, VC_PEER_STATE_DOWN,
					  VC_DOWN_REASON_NEW_LIFE, now_ns);
		peer->incarnation = inc;
		vc_peer_set_state(inst, evq, peer, VC_PEER_STATE_NEW,
				  VC_DOWN_REASON_UNSPEC, now_ns);
		for (l = 0; l < VC_MAX_LINKS; l++)
			peer->links[l].seq_valid = 0;
	}

	if (pl->seq_valid && seq <= pl->last_seq) {
		vc_peer_refuse(inst, peer);
		return;
	}
	if (pl->seq_valid && seq > pl->last_seq + 1)
		pl->lost += seq - pl->last_seq - 1;
	pl->last_seq = seq;
	pl->seq_valid = 1;
	pl->rx_packets++;
	pl->last_heard_ns = now_ns;
	peer->last_heard_ns = now_ns;
	vc_peer_rtt(pl, hdr, now_ns);
	pl->echo_time_ns = be64_to_cpu(hdr->tx_time_ns);
	pl->echo_rx_ns = now_ns;
	vc_link_set_state(inst, evq, peer, link_id, VC_LINK_STATE_UP, now_ns);

	peer->payload_len = be16_to_cpu(hdr->payload_len);
	memcpy(peer->payload, payload, peer->payload_len);
	vc_peer_adv_update(peer, hdr);

	theirs = vc_peer_view_of_us(inst, members,
				    be16_to_cpu(hdr->n_members));
	switch (theirs) {
	case VC_PEER_STATE_DOWN:
		vc_fence_fire(inst, evq, VC_FENCE_REASON_DECLARED, now_ns);
		if (vc_peer_alive(peer))
			vc_peer_set_state(inst, evq, peer, VC_PEER_STATE_DOWN,
					  VC_DOWN_REASON_DECLARED, now_ns);
		break;
	case VC_PEER_STATE_JOINING:
	case VC_PEER_STATE_UP:
	case VC_PEER_STATE_SUSPECT:
		vc_peer_set_state(inst, evq, peer, VC_PEER_STATE_UP,
				  VC_DOWN_REASON_UNSPEC, now_ns);
		break;
	default:
		/* It does not know our current life. */
		if (peer->state == VC_PEER_STATE_NEW)
			vc_peer_set_state(inst, evq, peer,
					  VC_PEER_STATE_JOINING,
					  VC_DOWN_REASON_UNSPEC, now_ns);
		else if (peer->state == VC_PEER_STATE_UP ||
			 peer->state == VC_PEER_STATE_SUSPECT)
			vc_peer_set_state(inst, evq, peer, VC_PEER_STATE_DOWN,
					  VC_DOWN_REASON_DECLARED, now_ns);
		break;
	}
}
