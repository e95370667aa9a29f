// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test-mship-kernel: the kernel transport's translation of the module's
 * messages, without the module (the host kernel cannot load it; the guest
 * suite tests/agent-kernel.sh runs the real thing).  Events and PEER_GET
 * replies are built here as the kernel builds them and fed to the
 * transport's own parsers, with no request socket: a peer event then
 * falls back to what the event itself carries.
 */
#include "../mship-kernel.c"

#include <stdbool.h>
#include <stdio.h>

#include "tap.h"

#define FAKE_FAMILY 0x20

/* What the callbacks were called with. */
struct seen {
	int peer_calls, quorum_calls, pretimeouts, fenced_calls, failed_calls;
	struct vcd_member last;
	uint8_t last_old;
	bool quorate;
	uint8_t fence_reason;
	int failed_err;
};

static void cb_peer(void *ctx, const struct vcd_member *m, uint8_t old)
{
	struct seen *s = ctx;

	s->peer_calls++;
	s->last = *m;
	s->last_old = old;
}

static void cb_quorum(void *ctx, bool quorate)
{
	struct seen *s = ctx;

	s->quorum_calls++;
	s->quorate = quorate;
}

static void cb_pretimeout(void *ctx)
{
	((struct seen *)ctx)->pretimeouts++;
}

static void cb_fenced(void *ctx, uint8_t reason)
{
	struct seen *s = ctx;

	s->fenced_calls++;
	s->fence_reason = reason;
}

static void cb_failed(void *ctx, int err)
{
	struct seen *s = ctx;

	s->failed_calls++;
	s->failed_err = err;
}

/* A transport that was never started: no sockets, callbacks into @s. */
static struct kms *fake(struct seen *s)
{
	struct kms *k = calloc(1, sizeof(*k));

	memset(s, 0, sizeof(*s));
	k->ms.priv = k;
	k->ms.cb = (struct vcd_mship_cb){
		.ctx = s, .peer_changed = cb_peer, .quorum_changed = cb_quorum,
		.pretimeout = cb_pretimeout, .fenced = cb_fenced, .failed = cb_failed,
	};
	(void)table_peer(k, 2);
	(void)table_peer(k, 3);
	return k;
}

static struct nl_msg *msg_new(uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	genlmsg_put(msg, 0, 0, FAKE_FAMILY, 0, 0, cmd, VC_GENL_VERSION);
	return msg;
}

/* Feed one event of @type about @node; @reason for PEER_DOWN / FENCE_FIRED. */
static void event(struct kms *k, uint32_t type, uint32_t node, uint32_t reason)
{
	struct nl_msg *msg = msg_new(VC_CMD_EVENT);

	nla_put_u32(msg, VC_A_EVENT_TYPE, type);
	nla_put_u32(msg, VC_A_EVENT_NODE_ID, node);
	nla_put_u64(msg, VC_A_EVENT_INCARNATION, 1000 + node);
	nla_put_u64(msg, VC_A_EVENT_LAST_HEARD_NS, 5000);
	if (type == VC_EVENT_PEER_DOWN)
		nla_put_u32(msg, VC_A_EVENT_REASON, reason);
	if (type == VC_EVENT_FENCE_FIRED)
		nla_put_u32(msg, VC_A_EVENT_FENCE_REASON, reason);
	event_reply(msg, k);
	nlmsg_free(msg);
}

TEST(peer_events_carry_old_state)
{
	struct seen s;
	struct kms *k = fake(&s);

	event(k, VC_EVENT_PEER_JOINING, 2, 0);
	event(k, VC_EVENT_PEER_UP, 2, 0);
	CHECK_EQ(s.peer_calls, 2);
	CHECK_EQ(s.last.node_id, 2);
	CHECK_EQ(s.last.state, VC_PEER_STATE_UP);
	CHECK_EQ(s.last_old, VC_PEER_STATE_JOINING);
	CHECK_EQ(s.last.incarnation, 1002);
	CHECK_EQ(s.last.last_heard_ns, 5000);
	free(k);
	return true;
}

TEST(repeated_state_is_not_reported)
{
	struct seen s;
	struct kms *k = fake(&s);

	event(k, VC_EVENT_PEER_UP, 3, 0);
	event(k, VC_EVENT_PEER_UP, 3, 0);
	CHECK_EQ(s.peer_calls, 1);
	CHECK_EQ(s.last_old, VC_PEER_STATE_NEW);
	free(k);
	return true;
}

TEST(down_has_its_reason_and_members_keep_it)
{
	struct seen s;
	struct kms *k = fake(&s);

	event(k, VC_EVENT_PEER_UP, 2, 0);
	event(k, VC_EVENT_PEER_SUSPECT, 2, 0);
	event(k, VC_EVENT_PEER_DOWN, 2, VC_DOWN_REASON_TIMEOUT);
	CHECK_EQ(s.peer_calls, 3);
	CHECK_EQ(s.last.state, VC_PEER_STATE_DOWN);
	CHECK_EQ(s.last_old, VC_PEER_STATE_SUSPECT);
	CHECK_EQ(s.last.down_reason, VC_DOWN_REASON_TIMEOUT);
	CHECK_EQ(find_peer(k, 2)->down_reason, VC_DOWN_REASON_TIMEOUT);
	/* a peer the table did not know yet is added */
	event(k, VC_EVENT_PEER_UP, 9, 0);
	CHECK_EQ(s.peer_calls, 4);
	CHECK(find_peer(k, 9) != NULL);
	free(k);
	return true;
}

TEST(quorum_and_fence_events)
{
	struct seen s;
	struct kms *k = fake(&s);

	event(k, VC_EVENT_QUORUM_GAINED, 1, 0);
	event(k, VC_EVENT_QUORUM_GAINED, 1, 0);
	CHECK_EQ(s.quorum_calls, 1);
	CHECK(s.quorate);
	event(k, VC_EVENT_QUORUM_LOST, 1, 0);
	CHECK_EQ(s.quorum_calls, 2);
	CHECK(!s.quorate);
	event(k, VC_EVENT_FENCE_PRETIMEOUT, 1, 0);
	CHECK_EQ(s.pretimeouts, 1);
	event(k, VC_EVENT_FENCE_FIRED, 1, VC_FENCE_REASON_AGENT);
	CHECK_EQ(s.fenced_calls, 1);
	CHECK_EQ(s.fence_reason, VC_FENCE_REASON_AGENT);
	/* link and arm events change nothing the agent is told */
	event(k, VC_EVENT_LINK_DOWN, 2, 0);
	event(k, VC_EVENT_FENCE_ARMED, 1, 0);
	CHECK_EQ(s.peer_calls + s.quorum_calls + s.pretimeouts + s.fenced_calls, 4);
	free(k);
	return true;
}

TEST(stop_behind_our_back_fails_the_transport)
{
	struct seen s;
	struct kms *k = fake(&s);

	event(k, VC_EVENT_NODE_STOPPED, 1, 0);
	CHECK_EQ(s.failed_calls, 1);
	CHECK_EQ(s.failed_err, -ESHUTDOWN);
	/* our own stop(): events are no longer read */
	k->stopping = true;
	event(k, VC_EVENT_NODE_STOPPED, 1, 0);
	event(k, VC_EVENT_PEER_UP, 2, 0);
	CHECK_EQ(s.failed_calls, 1);
	CHECK_EQ(s.peer_calls, 0);
	free(k);
	return true;
}

static void put_link(struct nl_msg *msg, uint32_t id, uint32_t state, uint32_t rtt_us)
{
	struct nlattr *nest = nla_nest_start(msg, VC_A_PEER_LINK);
	uint8_t addr[4] = { 198, 18, 0, (uint8_t)(id + 1) };

	nla_put_u32(msg, VC_A_LINK_ID, id);
	nla_put(msg, VC_A_LINK_ADDR4, 4, addr);
	nla_put_u32(msg, VC_A_LINK_STATE, state);
	nla_put_u32(msg, VC_A_LINK_RTT_US, rtt_us);
	nla_nest_end(msg, nest);
}

TEST(peer_reply_fills_a_member)
{
	struct nl_msg *msg = msg_new(VC_CMD_PEER_GET);
	struct vcd_member m;

	nla_put_u32(msg, VC_A_PEER_NODE_ID, 4);
	nla_put_u32(msg, VC_A_PEER_VOTES, 1);
	nla_put_u32(msg, VC_A_PEER_STATE, VC_PEER_STATE_UP);
	nla_put_u64(msg, VC_A_PEER_INCARNATION, 77);
	nla_put_u64(msg, VC_A_PEER_LAST_HEARD_NS, 123456);
	nla_put(msg, VC_A_PEER_PAYLOAD, 3, "abc");
	nla_put_u32(msg, VC_A_PEER_FENCE_ACTION, VC_FENCE_ACTION_KILL);
	nla_put_u32(msg, VC_A_PEER_FENCE_STRONG, 1);
	nla_put_u64(msg, VC_A_PEER_FENCED_BY_NS, 999999);
	put_link(msg, 0, VC_LINK_STATE_UP, 700);
	put_link(msg, 1, VC_LINK_STATE_UP, 300);
	put_link(msg, 2, VC_LINK_STATE_DOWN, 100);	/* down: its RTT is old */
	CHECK_EQ(fill_member(msg, &m), 0);
	nlmsg_free(msg);
	CHECK_EQ(m.node_id, 4);
	CHECK_EQ(m.votes, 1);
	CHECK_EQ(m.state, VC_PEER_STATE_UP);
	CHECK_EQ(m.incarnation, 77);
	CHECK_EQ(m.last_heard_ns, 123456);
	CHECK_EQ(m.payload_len, 3);
	CHECK(memcmp(m.payload, "abc", 3) == 0);
	CHECK(m.armed);
	CHECK(m.fence_strong);
	CHECK_EQ(m.fence_action, VC_FENCE_ACTION_KILL);
	CHECK_EQ(m.fenced_by_ns, 999999);
	CHECK_EQ(m.links, 0x7);
	CHECK_EQ(m.links_up, 0x3);
	CHECK_EQ(m.rtt_us, 300);
	CHECK(!m.user_fence);
	return true;
}

TEST(unarmed_peer_is_weak)
{
	struct nl_msg *msg = msg_new(VC_CMD_PEER_GET);
	struct vcd_member m;

	nla_put_u32(msg, VC_A_PEER_NODE_ID, 5);
	nla_put_u32(msg, VC_A_PEER_FENCE_ACTION, VC_FENCE_ACTION_NONE);
	nla_put_u32(msg, VC_A_PEER_FENCE_STRONG, 0);
	CHECK_EQ(fill_member(msg, &m), 0);
	nlmsg_free(msg);
	CHECK(!m.armed);
	CHECK(!m.fence_strong);
	CHECK_EQ(m.links, 0);
	return true;
}

/* Never started: no netlink; close() frees on the loop's next turn. */
TEST(new_then_close_without_start)
{
	struct vcd_mship_cb cb = { 0 };
	struct vcd_mship *ms;
	uv_loop_t loop;

	CHECK_EQ(uv_loop_init(&loop), 0);
	CHECK_EQ(vcd_mship_kernel_new(&loop, &cb, &ms), 0);
	CHECK_STR(ms->ops->name, "kernel");
	CHECK_EQ(ms->ops->pet(ms), -ENOTCONN);
	CHECK_EQ(ms->ops->arm(ms), -ENOTCONN);
	ms->ops->close(ms);
	CHECK_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
	CHECK_EQ(uv_loop_close(&loop), 0);
	return true;
}

static const struct vc_test tests[] = {
	T(peer_events_carry_old_state),
	T(repeated_state_is_not_reported),
	T(down_has_its_reason_and_members_keep_it),
	T(quorum_and_fence_events),
	T(stop_behind_our_back_fails_the_transport),
	T(peer_reply_fills_a_member),
	T(unarmed_peer_is_weak),
	T(new_then_close_without_start),
	{ 0 },
};

#include "tap-main.h"
