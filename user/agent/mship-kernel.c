// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The kernel membership transport: vcluster.ko does the heartbeats, the
 * peer ageing, quorum and fencing; the agent configures it from its config
 * file, pets its watchdog and turns its events into struct vcd_mship_cb
 * calls.  See mship.h for the interface and Documentation/netlink.rst for
 * the family.
 *
 * Two netlink sockets: one for requests (answered at once by the kernel of
 * this host, so a request may block the loop briefly but never waits on
 * the network), and one subscribed to the "events" group, non-blocking,
 * polled by the loop.  Keeping them apart means a request never reads an
 * event as its answer.
 *
 * The transport keeps the last state it reported for each peer, so each
 * callback carries the old state, and so that a lost event (ENOBUFS on the
 * event socket) is repaired by comparing a PEER_GET dump with that table.
 * Events do not carry a peer's fencing fields; for each peer event the
 * transport asks PEER_GET for them.  A DOWN found only by such a resync has
 * no down reason (the kernel reports reasons in events only); a watchdog
 * firing whose event was lost is found by its count (FENCE_COUNT) and
 * reported with the latest reason; a lost pre-timeout warning is not
 * reported.
 *
 * Agent restart: when start() finds the instance already running,
 *   - not armed, or fenced: STOP it (a fenced instance may be stopped:
 *     that clears the fence) and configure and START it afresh with the
 *     new incarnation; its peers see a new life (rule 4);
 *   - armed and not fenced: adopt it.  Stopping it would fire the
 *     watchdog (rule 5), so the life goes on: pet at once, check that the
 *     node's identity (cluster id, node id, port, links) is the config's
 *     (-EBUSY otherwise), apply what may change while running (peers,
 *     key, interval, misses, expected votes, fence margin, insecure).
 *     The instance keeps its incarnation: self() reports the real one,
 *     not params->incarnation.  The current state of every peer and of
 *     quorum is then reported through the callbacks as changes from NEW.
 * "Fenced" means fired with kill, panic or reboot; a firing with the log
 * action stops nothing, so such an instance is adopted (and self() does
 * not call it fenced).
 *
 * stop() disarms first; when that is refused (nowayout) it does not STOP,
 * which would fire the watchdog, and returns the error.  No callback runs
 * after stop(); the transport can then only be closed.  members() returns
 * -ENOBUFS (with @max filled) when there are more peers than @max.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/vcluster.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include "../apply.h"
#include "../msg.h"
#include "../nl.h"
#include "../parse.h"
#include "log.h"
#include "mship.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* The last state reported for a peer. */
struct kpeer {
	uint32_t node_id;
	uint8_t state;			/* enum vc_peer_state */
	uint8_t down_reason;		/* enum vc_down_reason */
};

struct kms {
	struct vcd_mship ms;
	struct vc_nl *req;		/* requests */
	struct vc_nl *ev;		/* events group, polled */
	uv_poll_t poll;
	uv_timer_t sync;		/* first report after start() */
	bool poll_init, polling, closing, stopping, started;
	int handles_open;		/* uv handles still to close */
	struct vc_config *cfg;		/* a copy of the config started with */
	uint32_t node_id;
	bool quorate;			/* as last reported */
	uint64_t fence_count;		/* watchdog firings known */
	int last_pet_err;		/* log a failing pet once per error */
	size_t n_peers;
	struct kpeer peers[VC_MAX_PEERS];
};

static struct kms *to_kms(struct vcd_mship *ms)
{
	return ms->priv;
}

/* ---- requests ---------------------------------------------------------- */

/* Log a refused request once, with the kernel's words; returns @r. */
static int kfail(const struct kms *k, const char *what, int r)
{
	const char *ext = k->req ? vc_nl_extack(k->req) : "";
	const char *attr = k->req ? vc_nl_extack_attr(k->req) : "";

	vcd_err("kernel transport: %s: %s%s%s%s%s%s", what, strerror(-r),
		ext[0] ? ": " : "", ext, attr[0] ? " [" : "", attr, attr[0] ? "]" : "");
	return r;
}

typedef int (*build_fn)(struct nl_msg *msg, const void *arg);

/* One request on the request socket; 0 or the kernel's negative errno. */
static int request(struct kms *k, uint8_t cmd, int flags, build_fn build,
		   const void *arg, vc_nl_reply_fn reply, void *reply_arg)
{
	struct nl_msg *msg;

	if (!k->req)
		return -ENOTCONN;
	msg = vc_nl_msg_new(k->req, cmd, flags);
	if (!msg)
		return -ENOMEM;
	if (build && build(msg, arg) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return vc_nl_request(k->req, msg, reply, reply_arg);
}

static int build_node(struct nl_msg *msg, const void *arg)
{
	return vc_msg_put_node(msg, arg);
}

static int build_u32_peer(struct nl_msg *msg, const void *arg)
{
	return nla_put_u32(msg, VC_A_PEER_NODE_ID, *(const uint32_t *)arg);
}

static int build_u32_key(struct nl_msg *msg, const void *arg)
{
	return nla_put_u32(msg, VC_A_KEY_ID, *(const uint32_t *)arg);
}

struct proc_arg {
	uint32_t pid;
	bool with_start;
	uint64_t start_time;
};

static int build_proc(struct nl_msg *msg, const void *arg)
{
	const struct proc_arg *a = arg;

	return vc_msg_put_proc(msg, a->pid, a->with_start, a->start_time);
}

/* ---- parsing replies and events ----------------------------------------- */

static uint32_t get_u32(struct nlattr *a, uint32_t dflt)
{
	return a && nla_len(a) >= 4 ? nla_get_u32(a) : dflt;
}

static uint64_t get_u64(struct nlattr *a)
{
	return a && nla_len(a) >= 8 ? nla_get_u64(a) : 0;
}

/* The node as NODE_GET reports it. */
struct knode {
	uint32_t cluster_id, node_id, state, votes_seen, expected_votes;
	uint32_t fence_action, fence_reason, port;
	bool armed, fenced, quorate;
	uint64_t incarnation, fence_count;
	struct vc_addr links[VC_MAX_LINKS];
	size_t n_keys;
	uint32_t key_ids[4];
};

static void parse_addr(struct nlattr **tb, struct vc_addr *addr)
{
	memset(addr, 0, sizeof(*addr));
	if (tb[VC_A_LINK_ADDR4] && nla_len(tb[VC_A_LINK_ADDR4]) == 4) {
		addr->family = AF_INET;
		memcpy(addr->bytes, nla_data(tb[VC_A_LINK_ADDR4]), 4);
	} else if (tb[VC_A_LINK_ADDR6] && nla_len(tb[VC_A_LINK_ADDR6]) == 16) {
		addr->family = AF_INET6;
		memcpy(addr->bytes, nla_data(tb[VC_A_LINK_ADDR6]), 16);
	}
}

static void parse_node_nests(struct nlattr *a, struct knode *n)
{
	struct nlattr *tb[VC_A_LINK_MAX + 1], *kb[VC_A_KEY_MAX + 1];
	uint32_t id;

	if (nla_type(a) == VC_A_NODE_LINK &&
	    nla_parse_nested(tb, VC_A_LINK_MAX, a, NULL) == 0) {
		id = get_u32(tb[VC_A_LINK_ID], VC_MAX_LINKS);
		if (id < VC_MAX_LINKS)
			parse_addr(tb, &n->links[id]);
	} else if (nla_type(a) == VC_A_NODE_KEY &&
		   nla_parse_nested(kb, VC_A_KEY_MAX, a, NULL) == 0 &&
		   n->n_keys < sizeof(n->key_ids) / sizeof(n->key_ids[0])) {
		n->key_ids[n->n_keys++] = get_u32(kb[VC_A_KEY_ID], 0);
	}
}

static int node_reply(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[VC_A_NODE_MAX + 1], *a;
	struct knode *n = arg;
	int rem;

	memset(n, 0, sizeof(*n));
	if (nlmsg_parse(nlh, GENL_HDRLEN, tb, VC_A_NODE_MAX, NULL) < 0)
		return -EPROTO;
	n->cluster_id = get_u32(tb[VC_A_NODE_CLUSTER_ID], 0);
	n->node_id = get_u32(tb[VC_A_NODE_NODE_ID], 0);
	n->port = tb[VC_A_NODE_PORT] ? nla_get_u16(tb[VC_A_NODE_PORT]) : 0;
	n->state = get_u32(tb[VC_A_NODE_STATE], VC_NODE_STATE_STOPPED);
	n->incarnation = get_u64(tb[VC_A_NODE_INCARNATION]);
	n->quorate = get_u32(tb[VC_A_NODE_QUORATE], 0);
	n->votes_seen = get_u32(tb[VC_A_NODE_VOTES_SEEN], 0);
	n->expected_votes = get_u32(tb[VC_A_NODE_EXPECTED_VOTES], 0);
	n->armed = get_u32(tb[VC_A_NODE_FENCE_ARMED], 0);
	n->fenced = get_u32(tb[VC_A_NODE_FENCED], 0);
	n->fence_action = get_u32(tb[VC_A_NODE_FENCE_ACTION], 0);
	n->fence_reason = get_u32(tb[VC_A_NODE_FENCE_REASON], 0);
	n->fence_count = get_u64(tb[VC_A_NODE_FENCE_COUNT]);
	nlmsg_for_each_attr(a, nlh, GENL_HDRLEN, rem)
		parse_node_nests(a, n);
	return 0;
}

/*
 * NODE_GET's FENCED also says "fired" for the log action, which stops
 * nothing: only a strong action's firing fences the instance (heartbeats
 * stopped, pets refused until STOP).
 */
static bool fenced(const struct knode *n)
{
	return n->fenced && n->fence_action != VC_FENCE_ACTION_LOG;
}

static int node_get(struct kms *k, struct knode *n)
{
	int r = request(k, VC_CMD_NODE_GET, 0, NULL, NULL, node_reply, n);

	return r < 0 ? kfail(k, "reading the node (NODE_GET)", r) : 0;
}

/* One VC_A_PEER_LINK nest into @m's link bits and best RTT. */
static void fill_link(struct nlattr *a, struct vcd_member *m)
{
	struct nlattr *tb[VC_A_LINK_MAX + 1];
	uint32_t id, rtt;

	if (nla_parse_nested(tb, VC_A_LINK_MAX, a, NULL) < 0)
		return;
	id = get_u32(tb[VC_A_LINK_ID], VC_MAX_LINKS);
	if (id >= VC_MAX_LINKS)
		return;
	m->links |= 1u << id;
	if (get_u32(tb[VC_A_LINK_STATE], 0) != VC_LINK_STATE_UP)
		return;
	m->links_up |= 1u << id;
	rtt = get_u32(tb[VC_A_LINK_RTT_US], 0);
	if (rtt && (!m->rtt_us || rtt < m->rtt_us))
		m->rtt_us = rtt;
}

/*
 * A PEER_GET reply into @m.  The kernel does not report the peer's wire
 * flags, so user_fence stays false; down_reason comes from our table.
 */
static int fill_member(struct nl_msg *msg, struct vcd_member *m)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[VC_A_PEER_MAX + 1], *a;
	int rem;

	memset(m, 0, sizeof(*m));
	if (nlmsg_parse(nlh, GENL_HDRLEN, tb, VC_A_PEER_MAX, NULL) < 0 ||
	    !tb[VC_A_PEER_NODE_ID])
		return -EPROTO;
	m->node_id = nla_get_u32(tb[VC_A_PEER_NODE_ID]);
	m->votes = get_u32(tb[VC_A_PEER_VOTES], 0);
	m->state = (uint8_t)get_u32(tb[VC_A_PEER_STATE], VC_PEER_STATE_NEW);
	m->incarnation = get_u64(tb[VC_A_PEER_INCARNATION]);
	m->last_heard_ns = get_u64(tb[VC_A_PEER_LAST_HEARD_NS]);
	m->fenced_by_ns = get_u64(tb[VC_A_PEER_FENCED_BY_NS]);
	m->fence_action = (uint8_t)get_u32(tb[VC_A_PEER_FENCE_ACTION], VC_FENCE_ACTION_NONE);
	m->armed = m->fence_action != VC_FENCE_ACTION_NONE;
	m->fence_strong = get_u32(tb[VC_A_PEER_FENCE_STRONG], 0);
	/* Kernels before the attribute existed report no flags: not user. */
	m->user_fence = get_u32(tb[VC_A_PEER_WIRE_FLAGS], 0) & VC_WIRE_F_USER_FENCE;
	if (tb[VC_A_PEER_PAYLOAD]) {
		m->payload_len = (size_t)nla_len(tb[VC_A_PEER_PAYLOAD]);
		if (m->payload_len > VC_MAX_PAYLOAD)
			m->payload_len = VC_MAX_PAYLOAD;
		memcpy(m->payload, nla_data(tb[VC_A_PEER_PAYLOAD]), m->payload_len);
	}
	nlmsg_for_each_attr(a, nlh, GENL_HDRLEN, rem)
		if (nla_type(a) == VC_A_PEER_LINK)
			fill_link(a, m);
	return 0;
}

static struct kpeer *find_peer(struct kms *k, uint32_t node_id)
{
	size_t i;

	for (i = 0; i < k->n_peers; i++)
		if (k->peers[i].node_id == node_id)
			return &k->peers[i];
	return NULL;
}

/* Find or add (as NEW) a peer of the table; NULL when the table is full. */
static struct kpeer *table_peer(struct kms *k, uint32_t node_id)
{
	struct kpeer *p = find_peer(k, node_id);

	if (p || k->n_peers >= VC_MAX_PEERS)
		return p;
	p = &k->peers[k->n_peers++];
	*p = (struct kpeer){ .node_id = node_id, .state = VC_PEER_STATE_NEW };
	return p;
}

struct member_list {
	struct kms *k;
	struct vcd_member *out;
	size_t max, n, total;
};

static int member_reply(struct nl_msg *msg, void *arg)
{
	struct member_list *l = arg;
	struct vcd_member m;
	struct kpeer *p;

	if (fill_member(msg, &m) < 0)
		return 0;
	l->total++;
	if (l->n >= l->max)
		return 0;
	p = find_peer(l->k, m.node_id);
	if (p && m.state == VC_PEER_STATE_DOWN)
		m.down_reason = p->down_reason;
	l->out[l->n++] = m;
	return 0;
}

/* PEER_GET dump into @out (at most @max, ordered by node id). */
static int dump_members(struct kms *k, struct vcd_member *out, size_t max, size_t *ret_n,
			size_t *ret_total)
{
	struct member_list l = { .k = k, .out = out, .max = max };
	int r;

	r = request(k, VC_CMD_PEER_GET, NLM_F_DUMP, NULL, NULL, member_reply, &l);
	if (r < 0)
		return kfail(k, "listing peers (PEER_GET)", r);
	*ret_n = l.n;
	if (ret_total)
		*ret_total = l.total;
	return 0;
}

/* ---- reporting ---------------------------------------------------------- */

static void report_peer(struct kms *k, struct kpeer *p, const struct vcd_member *m)
{
	uint8_t old = p->state;

	p->state = m->state;
	if (m->state == VC_PEER_STATE_DOWN)
		p->down_reason = m->down_reason;
	/* NEW is where a new life of ours starts, not a change to report. */
	if (old == m->state || m->state == VC_PEER_STATE_NEW || !k->ms.cb.peer_changed)
		return;
	k->ms.cb.peer_changed(k->ms.cb.ctx, m, old);
}

static void report_fenced(struct kms *k, uint8_t reason)
{
	k->fence_count++;
	if (k->ms.cb.fenced)
		k->ms.cb.fenced(k->ms.cb.ctx, reason);
}

static void report_quorum(struct kms *k, bool quorate)
{
	if (k->quorate == quorate)
		return;
	k->quorate = quorate;
	if (k->ms.cb.quorum_changed)
		k->ms.cb.quorum_changed(k->ms.cb.ctx, quorate);
}

/*
 * Compare the kernel's truth with what was reported and report the
 * difference: after start(), and after events were lost.
 */
static int resync(struct kms *k)
{
	struct vcd_member *ms;
	struct knode node;
	struct kpeer *p;
	size_t n = 0, total = 0, i, j;
	int r;

	ms = calloc(VC_MAX_PEERS, sizeof(*ms));
	if (!ms)
		return -ENOMEM;
	r = dump_members(k, ms, VC_MAX_PEERS, &n, &total);
	if (r == 0)
		r = node_get(k, &node);
	if (r < 0) {
		free(ms);
		return r;
	}
	/* Peers deleted meanwhile: report them DOWN (removed), then forget. */
	for (i = 0; i < k->n_peers && !k->closing; ) {
		for (j = 0; j < n && ms[j].node_id != k->peers[i].node_id; j++)
			;
		if (j < n) {
			i++;
			continue;
		}
		if (k->peers[i].state != VC_PEER_STATE_DOWN &&
		    k->peers[i].state != VC_PEER_STATE_NEW) {
			struct vcd_member gone = { .node_id = k->peers[i].node_id,
				.state = VC_PEER_STATE_DOWN,
				.down_reason = VC_DOWN_REASON_REMOVED };

			report_peer(k, &k->peers[i], &gone);
		}
		k->peers[i] = k->peers[--k->n_peers];
	}
	for (i = 0; i < n && !k->closing; i++) {
		p = table_peer(k, ms[i].node_id);
		if (!p)
			continue;
		/* A DOWN found here has no reason: only events carry one. */
		if (ms[i].state == VC_PEER_STATE_DOWN && p->state != VC_PEER_STATE_DOWN)
			ms[i].down_reason = VC_DOWN_REASON_UNSPEC;
		report_peer(k, p, &ms[i]);
	}
	if (!k->closing)
		report_quorum(k, node.quorate);
	/* A firing whose event was lost: report the latest. */
	if (!k->closing && node.fence_count > k->fence_count) {
		k->fence_count = node.fence_count - 1;
		report_fenced(k, (uint8_t)node.fence_reason);
	}
	free(ms);
	return 0;
}

/* The callbacks after start() run from the loop, not from inside start(). */
static void on_sync_timer(uv_timer_t *t)
{
	struct kms *k = t->data;

	if (!k->closing)
		(void)resync(k);
}

static uint8_t event_peer_state(uint32_t type)
{
	switch (type) {
	case VC_EVENT_PEER_JOINING: return VC_PEER_STATE_JOINING;
	case VC_EVENT_PEER_UP: return VC_PEER_STATE_UP;
	case VC_EVENT_PEER_SUSPECT: return VC_PEER_STATE_SUSPECT;
	case VC_EVENT_PEER_DOWN: return VC_PEER_STATE_DOWN;
	default: return VC_PEER_STATE_UNSPEC;
	}
}

static int one_member_reply(struct nl_msg *msg, void *arg)
{
	return fill_member(msg, arg);
}

static void on_peer_event(struct kms *k, struct nlattr **tb, uint8_t state)
{
	uint32_t id = get_u32(tb[VC_A_EVENT_NODE_ID], 0);
	struct kpeer *p = table_peer(k, id);
	struct vcd_member m;

	if (!p || p->state == state)
		return;
	/* Its fencing fields, links and payload: the kernel's current view. */
	if (request(k, VC_CMD_PEER_GET, 0, build_u32_peer, &id, one_member_reply, &m) < 0) {
		memset(&m, 0, sizeof(m));
		m.node_id = id;
		m.incarnation = get_u64(tb[VC_A_EVENT_INCARNATION]);
		m.last_heard_ns = get_u64(tb[VC_A_EVENT_LAST_HEARD_NS]);
	}
	/* The event's state: a later change follows as its own event. */
	m.state = state;
	m.down_reason = state == VC_PEER_STATE_DOWN ?
		(uint8_t)get_u32(tb[VC_A_EVENT_REASON], VC_DOWN_REASON_UNSPEC) : 0;
	report_peer(k, p, &m);
}

static void on_node_event(struct kms *k, uint32_t type, struct nlattr **tb)
{
	const struct vcd_mship_cb *cb = &k->ms.cb;

	switch (type) {
	case VC_EVENT_QUORUM_GAINED:
	case VC_EVENT_QUORUM_LOST:
		report_quorum(k, type == VC_EVENT_QUORUM_GAINED);
		break;
	case VC_EVENT_FENCE_PRETIMEOUT:
		if (cb->pretimeout)
			cb->pretimeout(cb->ctx);
		break;
	case VC_EVENT_FENCE_FIRED:
		vcd_warn("kernel transport: the watchdog fired (reason %u, votes %u/%u)",
			 get_u32(tb[VC_A_EVENT_FENCE_REASON], 0),
			 get_u32(tb[VC_A_EVENT_VOTES_SEEN], 0),
			 get_u32(tb[VC_A_EVENT_EXPECTED_VOTES], 0));
		report_fenced(k, (uint8_t)get_u32(tb[VC_A_EVENT_FENCE_REASON],
						  VC_FENCE_REASON_UNSPEC));
		break;
	case VC_EVENT_NODE_STOPPED:
		/* Someone else stopped our node: its heartbeats are gone. */
		if (!k->stopping) {
			vcd_err("kernel transport: the node was stopped behind the agent's back");
			if (cb->failed)
				cb->failed(cb->ctx, -ESHUTDOWN);
		}
		break;
	default:
		break;		/* link, start, arm events: nothing to report */
	}
}

static int event_reply(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *gh = nlmsg_data(nlh);
	struct nlattr *tb[VC_A_EVENT_MAX + 1];
	struct kms *k = arg;
	uint32_t type;
	uint8_t state;

	if (k->closing || k->stopping)
		return -ECANCELED;	/* skip the rest of this batch */
	if (gh->cmd != VC_CMD_EVENT ||
	    nlmsg_parse(nlh, GENL_HDRLEN, tb, VC_A_EVENT_MAX, NULL) < 0)
		return 0;
	type = get_u32(tb[VC_A_EVENT_TYPE], 0);
	state = event_peer_state(type);
	if (state)
		on_peer_event(k, tb, state);
	else
		on_node_event(k, type, tb);
	return 0;
}

static void fail_for_good(struct kms *k, int err)
{
	vcd_err("kernel transport: event socket: %s", strerror(-err));
	if (k->polling) {
		uv_poll_stop(&k->poll);
		k->polling = false;
	}
	if (k->ms.cb.failed)
		k->ms.cb.failed(k->ms.cb.ctx, err);
}

static int ignore_event(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return 0;
}

/*
 * After an overrun, what is still queued is older than the snapshot the
 * resync takes: drop it, or it would replay stale states after the
 * current ones.
 */
static int drain_events(struct kms *k)
{
	int r;

	do
		r = vc_nl_recv_events(k->ev, ignore_event, NULL);
	while (r == 0 || r == -ENOBUFS || r == -EINTR);
	return r == -EAGAIN ? 0 : r;
}

/* Everything queued (the socket is non-blocking): 0, or why it failed. */
static int read_events(struct kms *k)
{
	int r;

	for (;;) {
		r = vc_nl_recv_events(k->ev, event_reply, k);
		if (k->closing || k->stopping || r == -EAGAIN)
			return 0;
		if (r == -ENOBUFS) {
			vcd_warn("kernel transport: events were lost (socket buffer full): resynchronizing");
			r = drain_events(k);
			if (r == 0)
				r = resync(k);
		}
		if (r < 0 && r != -EINTR)
			return r;
	}
}

static void on_events(uv_poll_t *h, int status, int events)
{
	struct kms *k = h->data;
	int r;

	(void)events;
	/*
	 * libuv reports POLLERR as UV_EBADF and stops the handle.  An
	 * overrun is such an error (ENOBUFS pending on the socket): the read
	 * finds out which, and polling starts again after a resync.
	 */
	if (status < 0 && status != UV_EBADF) {
		fail_for_good(k, status);
		return;
	}
	r = read_events(k);
	if (r < 0) {
		fail_for_good(k, r);
		return;
	}
	if (status < 0 && !k->closing && !k->stopping) {
		r = uv_poll_start(&k->poll, UV_READABLE, on_events);
		if (r < 0)
			fail_for_good(k, r);
	}
}

/* ---- start -------------------------------------------------------------- */

/* Config steps (apply.c) take the file name for their messages. */
#define CONF_NAME "config"

/* Log a failed apply.c step: @where says which. */
static int apply_fail(const struct kms *k, const char *where, int r)
{
	char what[VC_PATH_LEN + 96];

	snprintf(what, sizeof(what), "configuring the module: %s", where);
	return kfail(k, what, r);
}

/* The primary key, after deleting keys of other ids (stopped only). */
static int apply_key(struct kms *k, const struct vcd_mship_params *p,
		     const struct knode *node, bool running)
{
	char where[64];
	size_t i;
	int r;

	if (!p->key)
		return 0;
	for (i = 0; !running && i < node->n_keys; i++) {
		if (node->key_ids[i] == p->key_id)
			continue;
		r = request(k, VC_CMD_KEY_DEL, 0, build_u32_key, &node->key_ids[i], NULL, NULL);
		if (r < 0)
			return kfail(k, "deleting an old key (KEY_DEL)", r);
	}
	r = vc_apply_key(k->req, p->key_id, p->key, where, sizeof(where));
	return r < 0 ? apply_fail(k, where, r) : 0;
}

/* [node] (the fields in @mask; START carries the incarnation), then peers. */
static int apply_node_peers(struct kms *k, const struct vcd_mship_params *p,
			    unsigned int mask)
{
	char where[VC_PATH_LEN + 64];
	int r;

	r = vc_apply_node(k->req, p->cfg, mask & ~(unsigned int)VC_NODE_F_INCARNATION,
			  CONF_NAME, where, sizeof(where));
	if (r == 0)
		r = vc_apply_peers(k->req, p->cfg, CONF_NAME, where, sizeof(where));
	return r < 0 ? apply_fail(k, where, r) : 0;
}

/* Fresh life: node, key, peers, START with the agent's incarnation. */
static int configure_and_start(struct kms *k, const struct vcd_mship_params *p,
			       const struct knode *node)
{
	char what[96];
	int r;

	r = apply_key(k, p, node, false);
	if (r == 0)
		r = apply_node_peers(k, p, ~0u);
	if (r < 0)
		return r;
	r = vc_apply_start(k->req, p->incarnation, what, sizeof(what));
	snprintf(what, sizeof(what), "starting with incarnation %" PRIu64 " (the last was %" PRIu64 ")",
		 p->incarnation, node->incarnation);
	return r < 0 ? kfail(k, what, r) : 0;
}

static bool same_links(const struct vc_node_cfg *cfg, const struct knode *node)
{
	const struct vc_addr *a, *b;
	int l;

	if (!(cfg->set & VC_NODE_F_LINKS))
		return true;
	for (l = 0; l < VC_MAX_LINKS; l++) {
		a = &cfg->links[l];
		b = &node->links[l];
		if (a->family != b->family ||
		    memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16) != 0)
			return false;
	}
	return true;
}

/* Armed and running: keep this life (see the top of the file). */
static int adopt(struct kms *k, const struct vcd_mship_params *p, const struct knode *node)
{
	const struct vc_node_cfg *cfg = &p->cfg->node;
	const unsigned int running_ok = VC_NODE_F_INTERVAL_MS | VC_NODE_F_MISSES |
		VC_NODE_F_PAYLOAD | VC_NODE_F_EXPECTED_VOTES | VC_NODE_F_FENCE_MARGIN_MS |
		VC_NODE_F_INSECURE;
	int r;

	r = request(k, VC_CMD_FENCE_PET, 0, NULL, NULL, NULL, NULL);
	if (r < 0)
		return kfail(k, "petting the running instance (FENCE_PET)", r);
	if (((cfg->set & VC_NODE_F_CLUSTER_ID) && cfg->cluster_id != node->cluster_id) ||
	    ((cfg->set & VC_NODE_F_NODE_ID) && cfg->node_id != node->node_id) ||
	    ((cfg->set & VC_NODE_F_PORT) && cfg->port != node->port) ||
	    !same_links(cfg, node)) {
		vcd_err("kernel transport: the running, armed instance (cluster %u, node %u) is not the one of the config: stopping it would fence this host; disarm and stop it first (vclusterctl fence disarm; vclusterctl stop)",
			node->cluster_id, node->node_id);
		return -EBUSY;
	}
	vcd_notice("kernel transport: adopting the running, armed instance (incarnation %" PRIu64 ")",
		   node->incarnation);
	r = apply_key(k, p, node, true);
	return r < 0 ? r : apply_node_peers(k, p, running_ok);
}

/* Non-blocking event socket, polled by the loop. */
static int open_events(struct kms *k)
{
	int fd, r;

	r = vc_nl_open(&k->ev);
	if (r == 0)
		r = vc_nl_subscribe_events(k->ev);
	if (r < 0) {
		vcd_err("kernel transport: cannot subscribe to the events group: %s", strerror(-r));
		return r;
	}
	fd = vc_nl_fd(k->ev);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return -errno;
	r = uv_poll_init(k->ms.loop, &k->poll, fd);
	if (r < 0)
		return r;
	k->poll_init = true;
	k->handles_open++;
	k->poll.data = k;
	r = uv_poll_start(&k->poll, UV_READABLE, on_events);
	k->polling = r == 0;
	return r;
}

/* Table of every configured peer, NEW: what a fresh life starts from. */
static void seed_table(struct kms *k, const struct vc_config *cfg)
{
	size_t i;

	k->n_peers = 0;
	for (i = 0; i < cfg->n_peers && i < VC_MAX_PEERS; i++)
		(void)table_peer(k, cfg->peers[i].node_id);
	k->quorate = false;
}

static int kernel_start(struct vcd_mship *ms, const struct vcd_mship_params *p)
{
	struct kms *k = to_kms(ms);
	struct knode node;
	int r;

	if (k->started || k->closing)
		return -EALREADY;
	if (!p->cfg->has_node)
		return -EINVAL;
	vc_nl_close(k->req);	/* a start() that failed before */
	k->req = NULL;
	r = vc_nl_open(&k->req);
	if (r < 0) {
		vcd_err("kernel transport: %s", r == -ENOENT ?
			"vcluster module not loaded (generic netlink family 'vcluster' not found)" :
			strerror(-r));
		return r;
	}
	if (!k->cfg)
		k->cfg = malloc(sizeof(*k->cfg));
	if (!k->cfg)
		return -ENOMEM;
	*k->cfg = *p->cfg;
	r = node_get(k, &node);
	if (r < 0)
		return r;
	if (node.state == VC_NODE_STATE_RUNNING && node.armed && !fenced(&node)) {
		r = adopt(k, p, &node);
	} else {
		if (node.state == VC_NODE_STATE_RUNNING) {
			vcd_notice("kernel transport: the instance is running%s (incarnation %" PRIu64 "): stopping it to start a new life",
				   fenced(&node) ? " and fenced" : "", node.incarnation);
			r = request(k, VC_CMD_STOP, 0, NULL, NULL, NULL, NULL);
			if (r < 0)
				return kfail(k, "stopping the running instance (STOP)", r);
			r = node_get(k, &node);	/* keys, incarnation after the stop */
		}
		if (r == 0)
			r = configure_and_start(k, p, &node);
	}
	if (r < 0)
		return r;
	k->node_id = p->cfg->node.node_id;
	/* Firings before now are not news; one after it is (resync). */
	k->fence_count = node.fence_count;
	k->started = true;
	k->stopping = false;
	seed_table(k, p->cfg);
	r = open_events(k);
	if (r < 0)
		return r;
	return uv_timer_start(&k->sync, on_sync_timer, 0, 0);
}

/* ---- the other operations ------------------------------------------------ */

static int kernel_arm(struct vcd_mship *ms)
{
	struct kms *k = to_kms(ms);
	char where[VC_PATH_LEN + 64];
	int r;

	if (!k->req || !k->cfg)
		return -ENOTCONN;
	r = vc_apply_arm(k->req, k->cfg, CONF_NAME, where, sizeof(where));
	if (r < 0 && !k->cfg->has_fence)
		vcd_err("kernel transport: cannot arm: the config has no [fence] section");
	else if (r < 0)
		kfail(k, "arming the watchdog (FENCE_ARM)", r);
	return r;
}

static int kernel_pet(struct vcd_mship *ms)
{
	struct kms *k = to_kms(ms);
	int r;

	if (!k->req)
		return -ENOTCONN;
	r = request(k, VC_CMD_FENCE_PET, 0, NULL, NULL, NULL, NULL);
	/* The agent pets often: say it once per kind of failure. */
	if (r < 0 && r != k->last_pet_err)
		kfail(k, "petting the watchdog (FENCE_PET)", r);
	k->last_pet_err = r;
	return r;
}

static int kernel_stop(struct vcd_mship *ms)
{
	struct kms *k = to_kms(ms);
	struct knode node;
	int r;

	if (!k->req)
		return -ENOTCONN;
	r = node_get(k, &node);
	if (r < 0)
		return r;
	if (node.armed) {
		r = request(k, VC_CMD_FENCE_DISARM, 0, NULL, NULL, NULL, NULL);
		/* With nowayout STOP would fire the watchdog: leave it to the operator. */
		if (r < 0)
			return kfail(k, "disarming before the stop (FENCE_DISARM); not stopping, that would fence this host", r);
	}
	k->stopping = true;
	if (k->polling) {
		uv_poll_stop(&k->poll);
		k->polling = false;
	}
	uv_timer_stop(&k->sync);
	if (node.state != VC_NODE_STATE_RUNNING)
		return 0;
	r = request(k, VC_CMD_STOP, 0, NULL, NULL, NULL, NULL);
	return r < 0 ? kfail(k, "stopping (STOP)", r) : 0;
}

static int kernel_set_payload(struct vcd_mship *ms, const void *buf, size_t len)
{
	struct kms *k = to_kms(ms);
	struct vc_node_cfg *node;
	int r;

	if (!k->req)
		return -ENOTCONN;
	if (len > VC_MAX_PAYLOAD || (len && !buf))
		return -EMSGSIZE;
	node = calloc(1, sizeof(*node));
	if (!node)
		return -ENOMEM;
	node->set = VC_NODE_F_PAYLOAD;
	node->payload_len = len;
	if (len)
		memcpy(node->payload, buf, len);
	r = request(k, VC_CMD_NODE_SET, 0, build_node, node, NULL, NULL);
	free(node);
	return r < 0 ? kfail(k, "setting the payload (NODE_SET)", r) : 0;
}

static int kernel_members(struct vcd_mship *ms, struct vcd_member *out, size_t max,
			  size_t *ret_n)
{
	struct kms *k = to_kms(ms);
	size_t total = 0;
	int r;

	if (!k->req)
		return -ENOTCONN;
	r = dump_members(k, out, max, ret_n, &total);
	if (r < 0)
		return r;
	return total > max ? -ENOBUFS : 0;
}

static int kernel_self(struct vcd_mship *ms, struct vcd_self *out)
{
	struct kms *k = to_kms(ms);
	struct knode node;
	int r;

	if (!k->req)
		return -ENOTCONN;
	r = node_get(k, &node);
	if (r < 0)
		return r;
	*out = (struct vcd_self){
		.incarnation = node.incarnation,
		.started = node.state == VC_NODE_STATE_RUNNING,
		.quorate = node.quorate,
		.votes_seen = node.votes_seen,
		.expected_votes = node.expected_votes,
		.armed = node.armed,
		.fenced = fenced(&node),
		.fence_action = (uint8_t)node.fence_action,
		.fence_reason = node.fenced ? (uint8_t)node.fence_reason : 0,
	};
	return 0;
}

/* Field 22 of /proc/PID/stat: what PROC_ADD checks the PID against. */
static int read_start_time(pid_t pid, uint64_t *ret)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd, r;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	r = n < 0 ? -errno : 0;
	close(fd);
	return r < 0 ? r : vc_parse_stat_start_time(buf, (size_t)n, ret);
}

static bool pidfd_exited(int pidfd)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

	return poll(&pfd, 1, 0) > 0;
}

/*
 * As "vclusterctl proc add": a pidfd pins the process while its start
 * time is read and the kernel takes its reference; if it exits meanwhile
 * the registration is undone.
 */
static int kernel_proc_add(struct vcd_mship *ms, pid_t pid)
{
	struct proc_arg a = { .pid = (uint32_t)pid, .with_start = true };
	struct kms *k = to_kms(ms);
	char what[64];
	int pidfd, r;

	if (!k->req)
		return -ENOTCONN;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	r = read_start_time(pid, &a.start_time);
	if (r == 0 && pidfd_exited(pidfd))
		r = -ESRCH;
	if (r == 0) {
		r = request(k, VC_CMD_PROC_ADD, 0, build_proc, &a, NULL, NULL);
		snprintf(what, sizeof(what), "registering pid %d (PROC_ADD)", (int)pid);
		if (r < 0)
			kfail(k, what, r);
	}
	if (r == 0 && pidfd_exited(pidfd)) {
		a.with_start = false;
		(void)request(k, VC_CMD_PROC_DEL, 0, build_proc, &a, NULL, NULL);
		r = -ESRCH;
	}
	close(pidfd);
	return r;
}

static int kernel_proc_del(struct vcd_mship *ms, pid_t pid)
{
	struct proc_arg a = { .pid = (uint32_t)pid };
	struct kms *k = to_kms(ms);

	if (!k->req)
		return -ENOTCONN;
	return request(k, VC_CMD_PROC_DEL, 0, build_proc, &a, NULL, NULL);
}

/* The last handle closed: nothing of ours is in use any more. */
static void on_handle_closed(uv_handle_t *h)
{
	struct kms *k = h->data;

	if (--k->handles_open > 0)
		return;
	vc_nl_close(k->ev);
	vc_nl_close(k->req);
	free(k->cfg);
	free(k);
}

/*
 * Frees asynchronously (libuv closes handles on the next loop turn), so a
 * callback may call close() while an event batch is being read.
 */
static void kernel_close(struct vcd_mship *ms)
{
	struct kms *k;

	if (!ms)
		return;
	k = to_kms(ms);
	if (k->closing)
		return;
	k->closing = true;
	if (k->poll_init)
		uv_close((uv_handle_t *)&k->poll, on_handle_closed);
	uv_close((uv_handle_t *)&k->sync, on_handle_closed);
}

static const struct vcd_mship_ops kernel_ops = {
	.name = "kernel",
	.start = kernel_start,
	.arm = kernel_arm,
	.pet = kernel_pet,
	.stop = kernel_stop,
	.set_payload = kernel_set_payload,
	.members = kernel_members,
	.self = kernel_self,
	.proc_add = kernel_proc_add,
	.proc_del = kernel_proc_del,
	.close = kernel_close,
};

int vcd_mship_kernel_new(uv_loop_t *loop, const struct vcd_mship_cb *cb,
			 struct vcd_mship **ret)
{
	struct kms *k = calloc(1, sizeof(*k));
	int r;

	if (!k)
		return -ENOMEM;
	r = uv_timer_init(loop, &k->sync);
	if (r < 0) {
		free(k);
		return r;
	}
	k->sync.data = k;
	k->handles_open = 1;
	k->ms = (struct vcd_mship){ .ops = &kernel_ops, .loop = loop, .priv = k };
	if (cb)
		k->ms.cb = *cb;
	*ret = &k->ms;
	return 0;
}

bool vcd_mship_kernel_available(void)
{
	struct vc_nl *nl;

	if (vc_nl_open(&nl) < 0)
		return false;
	vc_nl_close(nl);
	return true;
}
