// SPDX-License-Identifier: GPL-2.0
/*
 * vcluster: quorum.
 *
 * The rule, in plain words (Documentation/ has the reasons):
 *
 *   votes seen = our votes + the votes of every peer that is UP or SUSPECT
 *   (symmetric membership only: JOINING does not count).  We are quorate
 *   while 2 x votes seen > expected votes.  Expected votes is odd, so no
 *   partition leaves two quorate sides; 0 means no quorum configured,
 *   and then we are never quorate.
 *
 * Quorum is kept as a deadline: each tick that finds quorum sets
 * quorum_seen_ns, and "quorate until" is that plus the quorum timeout
 * (vc_quorate_until_ns()).  The fencing watchdog checks the deadline
 * before this file counts fresh votes (fence.c, hb.c).
 */
#include <net/genetlink.h>

#include "vc.h"

/* NODE_SET's check of VC_A_NODE_EXPECTED_VOTES, before anything changes. */
int vc_quorum_check_expected(const struct vc_inst *inst,
			     const struct nlattr *nla,
			     struct netlink_ext_ack *extack)
{
	u32 expected = nla_get_u32(nla);

	lockdep_assert_held(&inst->cfg_mutex);

	if (expected % 2 == 0 && expected) {
		NL_SET_ERR_MSG_ATTR(extack, nla,
				    "an even number of votes can split into two equal halves; add a witness host (expected votes must be odd, or 0 for no quorum)");
		return -EINVAL;
	}
	if (!expected && inst->armed && inst->fence.quorum_timeout_ms) {
		NL_SET_ERR_MSG_ATTR(extack, nla,
				    "the quorum watchdog is armed: expected votes cannot be 0 (re-arm without a quorum timeout first)");
		return -EBUSY;
	}
	return 0;
}

static u32 vc_quorum_votes_seen(struct vc_inst *inst)
{
	const struct vc_peer *peer;
	u64 seen = inst->votes;
	u32 i;

	lockdep_assert_held(&inst->lock);

	for (i = 0; i < inst->n_peers; i++) {
		peer = inst->peers[i];
		if (peer->state == VC_PEER_STATE_UP ||
		    peer->state == VC_PEER_STATE_SUSPECT)
			seen += peer->votes;
	}
	return min_t(u64, seen, U32_MAX);
}

/* Each tick, after the peers are aged: count, extend the deadline. */
void vc_quorum_update(struct vc_inst *inst, struct sk_buff_head *evq,
		      u64 now_ns)
{
	bool quorate;

	lockdep_assert_held(&inst->lock);

	inst->votes_seen = vc_quorum_votes_seen(inst);
	quorate = inst->expected_votes &&
		  2 * (u64)inst->votes_seen > inst->expected_votes;
	if (quorate) {
		inst->quorum_seen_ns = now_ns;
		/* Logged quorum or declared fences may fire again. */
		inst->fired &= ~(BIT(VC_FENCE_REASON_QUORUM) |
				 BIT(VC_FENCE_REASON_DECLARED));
	}
	if (quorate == inst->quorate)
		return;
	inst->quorate = quorate;
	vc_event_quorum(inst, evq,
			quorate ? VC_EVENT_QUORUM_GAINED : VC_EVENT_QUORUM_LOST,
			now_ns);
}

/* STOP: no votes are seen by a stopped instance. */
void vc_quorum_reset(struct vc_inst *inst, struct sk_buff_head *evq,
		     u64 now_ns)
{
	lockdep_assert_held(&inst->lock);

	inst->votes_seen = 0;
	if (!inst->quorate)
		return;
	inst->quorate = 0;
	vc_event_quorum(inst, evq, VC_EVENT_QUORUM_LOST, now_ns);
}
