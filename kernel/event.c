// SPDX-License-Identifier: GPL-2.0
/*
 * vcluster: events on the "events" multicast group.
 *
 * State changes are decided under inst->lock, where nothing may sleep: the
 * event message is built there with GFP_ATOMIC and queued on a caller's
 * list, which the caller sends once it has dropped the lock.
 */
#include <net/genetlink.h>

#include "vc.h"

struct vc_event {
	u32 type;
	u32 node_id;
	int link_id;			/* < 0: not a link event */
	u32 reason;			/* 0: none */
	u32 fence_reason;		/* 0: none */
	bool votes;			/* carries votes seen and expected */
	u32 votes_seen;
	u32 expected_votes;
	u64 incarnation;
	u64 time_ns;
	u64 last_heard_ns;
	u64 deadline_ns;		/* 0: none */
};

static size_t vc_event_size(void)
{
	return nla_total_size(sizeof(u32)) * 7 +
	       nla_total_size_64bit(sizeof(u64)) * 4;
}

static int vc_event_put(struct sk_buff *skb, const struct vc_event *ev)
{
	if (nla_put_u32(skb, VC_A_EVENT_TYPE, ev->type) ||
	    nla_put_u32(skb, VC_A_EVENT_NODE_ID, ev->node_id) ||
	    (ev->link_id >= 0 &&
	     nla_put_u32(skb, VC_A_EVENT_LINK_ID, ev->link_id)) ||
	    (ev->reason && nla_put_u32(skb, VC_A_EVENT_REASON, ev->reason)) ||
	    (ev->fence_reason &&
	     nla_put_u32(skb, VC_A_EVENT_FENCE_REASON, ev->fence_reason)) ||
	    (ev->votes &&
	     (nla_put_u32(skb, VC_A_EVENT_VOTES_SEEN, ev->votes_seen) ||
	      nla_put_u32(skb, VC_A_EVENT_EXPECTED_VOTES,
			  ev->expected_votes))) ||
	    nla_put_u64_64bit(skb, VC_A_EVENT_INCARNATION, ev->incarnation,
			      VC_A_EVENT_PAD) ||
	    nla_put_u64_64bit(skb, VC_A_EVENT_TIME_NS, ev->time_ns,
			      VC_A_EVENT_PAD) ||
	    nla_put_u64_64bit(skb, VC_A_EVENT_LAST_HEARD_NS, ev->last_heard_ns,
			      VC_A_EVENT_PAD) ||
	    (ev->deadline_ns &&
	     nla_put_u64_64bit(skb, VC_A_EVENT_DEADLINE_NS, ev->deadline_ns,
			       VC_A_EVENT_PAD)))
		return -EMSGSIZE;
	return 0;
}

static void vc_event_queue(struct vc_inst *inst, struct sk_buff_head *evq,
			   const struct vc_event *ev)
{
	struct sk_buff *skb;
	void *hdr;

	if (!genl_has_listeners(&vc_genl_family, inst->net, 0))
		return;

	skb = genlmsg_new(vc_event_size(), GFP_ATOMIC);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &vc_genl_family, 0, VC_CMD_EVENT);
	if (!hdr || vc_event_put(skb, ev)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	__skb_queue_tail(evq, skb);
}

void vc_event_peer(struct vc_inst *inst, struct sk_buff_head *evq, u32 type,
		   const struct vc_peer *peer, int link_id, u32 reason,
		   u64 now_ns)
{
	struct vc_event ev = {
		.type = type,
		.node_id = peer->node_id,
		.link_id = link_id,
		.reason = reason,
		.incarnation = peer->incarnation,
		.time_ns = now_ns,
		.last_heard_ns = link_id >= 0 ?
				 peer->links[link_id].last_heard_ns :
				 peer->last_heard_ns,
	};

	lockdep_assert_held(&inst->lock);
	vc_event_queue(inst, evq, &ev);
}

void vc_event_node(struct vc_inst *inst, struct sk_buff_head *evq, u32 type,
		   u64 now_ns)
{
	struct vc_event ev = {
		.type = type,
		.node_id = inst->node_id,
		.link_id = -1,
		.incarnation = inst->incarnation,
		.time_ns = now_ns,
	};

	lockdep_assert_held(&inst->lock);
	vc_event_queue(inst, evq, &ev);
}

/* QUORUM_GAINED / QUORUM_LOST: the votes counted and "quorate until". */
void vc_event_quorum(struct vc_inst *inst, struct sk_buff_head *evq,
		     u32 type, u64 now_ns)
{
	struct vc_event ev = {
		.type = type,
		.node_id = inst->node_id,
		.link_id = -1,
		.votes = true,
		.votes_seen = inst->votes_seen,
		.expected_votes = inst->expected_votes,
		.incarnation = inst->incarnation,
		.time_ns = now_ns,
		.deadline_ns = vc_quorate_until_ns(inst),
	};

	lockdep_assert_held(&inst->lock);
	vc_event_queue(inst, evq, &ev);
}

/* FENCE_*: the reason (when it fired) and the deadline that applied. */
void vc_event_fence(struct vc_inst *inst, struct sk_buff_head *evq, u32 type,
		    u32 reason, u64 deadline_ns, u64 now_ns)
{
	struct vc_event ev = {
		.type = type,
		.node_id = inst->node_id,
		.link_id = -1,
		.fence_reason = reason,
		.votes = true,
		.votes_seen = inst->votes_seen,
		.expected_votes = inst->expected_votes,
		.incarnation = inst->incarnation,
		.time_ns = now_ns,
		.deadline_ns = deadline_ns,
	};

	lockdep_assert_held(&inst->lock);
	vc_event_queue(inst, evq, &ev);
}

/* Send what vc_event_*() queued; called without inst->lock. */
void vc_event_flush(struct vc_inst *inst, struct sk_buff_head *evq)
{
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(evq)))
		genlmsg_multicast_netns(&vc_genl_family, inst->net, skb, 0, 0,
					GFP_ATOMIC);
}
