// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Membership, user transport: vcluster's heartbeat protocol from the
 * agent's libuv loop, for hosts without vcluster.ko.
 *
 * It follows kernel/peer.c, hb.c and quorum.c rule for rule, so that a
 * user node and a kernel node interoperate (Documentation/protocol.rst):
 *
 * - A peer is UP only while we hear it *and* its latest heartbeat lists
 *   our current life as JOINING, UP or SUSPECT.  Listed DOWN, or no longer
 *   listed although it was UP: the peer goes DOWN (DECLARED), so one-way
 *   loss makes both ends DOWN.  Listed DOWN also fences us when armed.
 * - Each tick: a link silent for dead time goes DOWN; a live peer silent
 *   for dead time goes DOWN (TIMEOUT); an UP peer silent for 1.5
 *   intervals goes SUSPECT.
 * - DOWN is sticky for that life of the peer: its heartbeats are refused
 *   until it comes back with a higher incarnation.  Within a life each
 *   link's sequence must grow.
 * - Votes: ours plus those of the peers UP or SUSPECT; quorate while
 *   2 x seen > expected.  Quorum is a deadline: each tick that finds it
 *   sets quorum_seen, and while armed the fencer is told "quorate until
 *   quorum_seen + quorum timeout".  A tick or a received heartbeat past
 *   that deadline fences before any fresh vote is counted (rule 3).
 *
 * Timers: one uv timer every interval_ms runs, in the kernel's order, the
 * quorum-deadline check, the ageing of peers, the vote count, then sends
 * one datagram per (peer, link both have) unless fenced.  The agent
 * watchdog, the kill bound and the actions belong to the fencer process
 * (fencer.c, through fencer-client.c).
 *
 * Unlike the kernel, a fence with the log action also stops our
 * heartbeats for the rest of this life: the fencer only notifies, so this
 * is what takes a cut-off user node out of its peers' membership.
 *
 * Callbacks are queued while state changes and run once the change is
 * complete (end of a tick, of a datagram, of stop()), never half way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "../parse.h"
#include "../wire.h"
#include "fencer-client.h"
#include "log.h"
#include "mship.h"

#define MU_INTERVAL_MS_DEFAULT		10
#define MU_MISSES_DEFAULT		3
#define MU_FENCE_MARGIN_MS_DEFAULT	100
#define MU_KILL_BOUND_MS_DEFAULT	1000
#define MU_MAX_EVENTS			(VC_MAX_PEERS * 4 + 8)
#define NS_PER_MS			1000000ull

uint64_t vcd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int64_t vcd_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct mu;

/* One local link: its socket, bound to the link's address and our port. */
struct mu_sock {
	uv_udp_t udp;
	struct mu *mu;
	uint8_t link_id;
	bool open;
	uint8_t buf[VC_WIRE_MAX_LEN + 1];	/* +1: too long is noticed */
};

struct mu_plink {
	struct vc_addr addr;		/* family 0: the peer has no such link */
	struct sockaddr_storage sa;	/* where its datagrams go */
	socklen_t sa_len;
	uint8_t state;			/* enum vc_link_state */
	bool seq_valid;
	uint64_t last_seq;
	uint64_t last_heard_ns;
	uint64_t srtt_ns;
	uint64_t echo_time_ns;		/* its tx_time_ns last received here */
	uint64_t echo_rx_ns;
	uint64_t tx_packets, rx_packets, lost, malformed, tx_errors, bad_mac;
};

/* What its latest accepted heartbeat advertised (rule 6). */
struct mu_adv {
	uint8_t fence_action;
	uint16_t flags;
	uint32_t interval_ms;
	uint32_t dead_ms;
	uint32_t quorum_timeout_ms;
	uint32_t kill_bound_ms;
};

struct mu_peer {
	uint32_t node_id;
	uint32_t votes;
	uint8_t state;
	uint8_t down_reason;
	uint64_t incarnation;		/* its current life; 0: never heard */
	uint64_t last_heard_ns;
	uint64_t state_since_ns;
	uint64_t rx_refused;
	struct mu_adv adv;
	uint16_t payload_len;
	uint8_t payload[VC_MAX_PAYLOAD];
	struct mu_plink links[VC_MAX_LINKS];
};

enum mu_ev_type { MU_EV_PEER, MU_EV_QUORUM, MU_EV_FENCED, MU_EV_PRETIMEOUT, MU_EV_FAILED };

struct mu_event {
	uint8_t type;
	uint8_t old_state;		/* PEER */
	uint8_t reason;			/* FENCED */
	bool quorate;			/* QUORUM */
	int err;			/* FAILED */
	struct vcd_member m;		/* PEER */
};

struct mu {
	struct vcd_mship ms;

	/* Settings, from the config at start. */
	uint32_t cluster_id;
	uint32_t node_id;
	uint32_t votes;
	uint16_t port;
	uint32_t interval_ms;
	uint32_t misses;
	uint32_t expected_votes;
	uint32_t fence_margin_ms;
	struct vc_addr links[VC_MAX_LINKS];
	struct vc_wire_key key;
	bool have_key;
	bool has_fence;
	struct vc_fence_cfg fence;

	/* This life. */
	bool started;
	uint64_t incarnation;
	uint64_t seq;
	uint16_t payload_len;
	uint8_t payload[VC_MAX_PAYLOAD];
	size_t n_peers;
	struct mu_peer peers[VC_MAX_PEERS];	/* sorted by node id */
	uint32_t peer_ids[VC_MAX_PEERS];
	struct mu_sock socks[VC_MAX_LINKS];
	uv_timer_t timer;
	bool timer_open;

	/* Quorum. */
	uint32_t votes_seen;
	bool quorate;
	uint64_t quorum_seen_ns;

	/* Fencing: the fencer decides and acts; we mirror its state. */
	struct vcd_fencer *fencer;
	bool armed;
	bool fenced;
	uint8_t fence_reason;
	struct vcd_fencer_arm arm;

	/* Counters, like the kernel's. */
	uint64_t rx_malformed, rx_foreign, rx_unknown, rx_refused, rx_bad_mac, tx_errors;

	struct mu_event events[MU_MAX_EVENTS];
	size_t n_events;
	bool flushing;
	bool in_call;			/* inside an op: no callbacks now */

	bool closing;
	int pending_closes;
};

static struct mu *mu_of(struct vcd_mship *ms)
{
	return ms->priv;
}

static bool peer_alive(const struct mu_peer *p)
{
	return p->state == VC_PEER_STATE_JOINING || p->state == VC_PEER_STATE_UP ||
	       p->state == VC_PEER_STATE_SUSPECT;
}

static uint32_t dead_ms(const struct mu *mu)
{
	return mu->interval_ms * mu->misses;
}

static uint64_t dead_ns(const struct mu *mu)
{
	return (uint64_t)dead_ms(mu) * NS_PER_MS;
}

/* A peer UP but silent for more than 1.5 intervals is SUSPECT. */
static uint64_t suspect_ns(const struct mu *mu)
{
	return (uint64_t)mu->interval_ms * NS_PER_MS * 3 / 2;
}

static uint64_t quorate_until_ns(const struct mu *mu)
{
	return mu->quorum_seen_ns + (uint64_t)(mu->armed ? mu->arm.quorum_timeout_ms : 0) * NS_PER_MS;
}

/* Rule 8, as kernel/vc.h vc_fenced_by_ns(): 0 without a quorum deadline. */
static uint64_t fenced_by_ns(const struct mu *mu, const struct mu_peer *p)
{
	const struct mu_adv *adv = &p->adv;
	uint64_t window_ms;

	if (adv->fence_action == VC_FENCE_ACTION_NONE || !adv->quorum_timeout_ms)
		return 0;
	window_ms = (uint64_t)adv->dead_ms + adv->quorum_timeout_ms + adv->kill_bound_ms +
		    2ull * adv->interval_ms + mu->fence_margin_ms;
	return p->last_heard_ns + window_ms * NS_PER_MS;
}

static void member_fill(const struct mu *mu, const struct mu_peer *p, struct vcd_member *m)
{
	uint64_t best_ns = 0;
	int l;

	memset(m, 0, sizeof(*m));
	m->node_id = p->node_id;
	m->votes = p->votes;
	m->state = p->state;
	m->down_reason = p->state == VC_PEER_STATE_DOWN ? p->down_reason : 0;
	m->incarnation = p->incarnation;
	m->last_heard_ns = p->last_heard_ns;
	m->fenced_by_ns = fenced_by_ns(mu, p);
	m->fence_action = p->adv.fence_action;
	m->fence_strong = vc_fence_action_strong(p->adv.fence_action);
	m->armed = p->adv.fence_action != VC_FENCE_ACTION_NONE;
	m->user_fence = p->adv.flags & VC_WIRE_F_USER_FENCE;
	for (l = 0; l < VC_MAX_LINKS; l++) {
		const struct mu_plink *pl = &p->links[l];

		if (!pl->addr.family)
			continue;
		m->links |= 1u << l;
		if (pl->state != VC_LINK_STATE_UP)
			continue;
		m->links_up |= 1u << l;
		if (pl->srtt_ns && (!best_ns || pl->srtt_ns < best_ns))
			best_ns = pl->srtt_ns;
	}
	m->rtt_us = best_ns / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(best_ns / 1000);
	m->payload_len = p->payload_len;
	memcpy(m->payload, p->payload, p->payload_len);
}

/* ------------------------------------------------------------ events */

static struct mu_event *event_new(struct mu *mu, uint8_t type)
{
	struct mu_event *e;

	if (mu->n_events >= MU_MAX_EVENTS) {
		vcd_err("membership: event queue full, an event is lost");
		return NULL;
	}
	e = &mu->events[mu->n_events++];
	memset(e, 0, sizeof(*e));
	e->type = type;
	return e;
}

static void event_peer(struct mu *mu, const struct mu_peer *p, uint8_t old)
{
	struct mu_event *e;

	/* NEW is not an event: only JOINING, UP, SUSPECT, DOWN are. */
	if (p->state == VC_PEER_STATE_NEW)
		return;
	e = event_new(mu, MU_EV_PEER);
	if (!e)
		return;
	e->old_state = old;
	member_fill(mu, p, &e->m);
}

static void events_flush(struct mu *mu);
static void free_maybe(struct mu *mu);

/* A fencer notification: now, unless it arrived inside one of our ops. */
static void events_flush_soon(struct mu *mu)
{
	if (!mu->flushing && !mu->in_call)
		events_flush(mu);
}

static void events_flush(struct mu *mu)
{
	const struct vcd_mship_cb *cb = &mu->ms.cb;
	size_t i;

	/* A callback that calls an op which flushes must not recurse. */
	if (mu->flushing)
		return;
	mu->flushing = true;
	for (i = 0; i < mu->n_events && !mu->closing; i++) {
		struct mu_event *e = &mu->events[i];

		switch (e->type) {
		case MU_EV_PEER:
			if (cb->peer_changed)
				cb->peer_changed(cb->ctx, &e->m, e->old_state);
			break;
		case MU_EV_QUORUM:
			if (cb->quorum_changed)
				cb->quorum_changed(cb->ctx, e->quorate);
			break;
		case MU_EV_FENCED:
			if (cb->fenced)
				cb->fenced(cb->ctx, e->reason);
			break;
		case MU_EV_PRETIMEOUT:
			if (cb->pretimeout)
				cb->pretimeout(cb->ctx);
			break;
		case MU_EV_FAILED:
			if (cb->failed)
				cb->failed(cb->ctx, e->err);
			break;
		}
	}
	mu->n_events = 0;
	mu->flushing = false;
	if (mu->closing)
		free_maybe(mu);
}

/* ------------------------------------------------------------ states */

static void peer_set_state(struct mu *mu, struct mu_peer *p, uint8_t state,
			   uint8_t reason, uint64_t now)
{
	uint8_t old = p->state;

	if (old == state)
		return;
	p->state = state;
	p->state_since_ns = now;
	p->down_reason = state == VC_PEER_STATE_DOWN ? reason : 0;
	if (state == VC_PEER_STATE_DOWN)
		vcd_info("peer %u (incarnation %llu) %s -> down (%s)", p->node_id,
			 (unsigned long long)p->incarnation, vc_peer_state_name(old),
			 vc_down_reason_name(reason));
	else
		vcd_debug("peer %u %s -> %s", p->node_id, vc_peer_state_name(old),
			  vc_peer_state_name(state));
	event_peer(mu, p, old);
}

static void link_set_state(struct mu_peer *p, int l, uint8_t state)
{
	struct mu_plink *pl = &p->links[l];

	if (pl->state == state)
		return;
	pl->state = state;
	vcd_debug("peer %u link %d %s", p->node_id, l, vc_link_state_name(state));
}

/* ------------------------------------------------------------ fencing */

/*
 * A fencing decision made here (a peer listed us DOWN, our own quorum
 * check, a stop under nowayout): the fencer acts on it.  Our heartbeats
 * stop for this life whatever the action.
 */
static void mu_fence(struct mu *mu, uint8_t reason, uint64_t now)
{
	struct mu_event *e;
	int r;

	if (!mu->armed || mu->fenced)
		return;
	mu->fenced = true;
	mu->fence_reason = reason;
	vcd_log(mu->arm.action == VC_FENCE_ACTION_LOG ? LOG_WARNING : LOG_EMERG,
		"node %u incarnation %llu: fencing (%s), action %s: votes seen %u of %u expected, quorate until %lld ms from now; heartbeats stop",
		mu->node_id, (unsigned long long)mu->incarnation, vc_fence_reason_name(reason),
		vc_fence_action_name(mu->arm.action), mu->votes_seen, mu->expected_votes,
		(long long)(int64_t)(quorate_until_ns(mu) - now) / (long long)NS_PER_MS);
	r = mu->fencer ? vcd_fencer_fence_now(mu->fencer, reason) : -ENOTCONN;
	if (r < 0)
		vcd_err("cannot tell the fencer to fence: %s", strerror(-r));
	e = event_new(mu, MU_EV_FENCED);
	if (e)
		e->reason = reason;
}

/* Rule 3: past "quorate until" fences, before fresh votes are counted. */
static void check_quorum_deadline(struct mu *mu, uint64_t now)
{
	if (mu->armed && mu->arm.quorum_timeout_ms && now > quorate_until_ns(mu))
		mu_fence(mu, VC_FENCE_REASON_QUORUM, now);
}

static void fencer_pretimeout(void *ctx, uint64_t deadline_ns)
{
	struct mu *mu = ctx;

	vcd_warn("fencer: the agent watchdog fires in %lld ms unless petted",
		 (long long)(int64_t)(deadline_ns - vcd_now_ns()) / (long long)NS_PER_MS);
	event_new(mu, MU_EV_PRETIMEOUT);
	events_flush_soon(mu);
}

static void fencer_fenced(void *ctx, uint8_t reason, uint8_t action)
{
	struct mu *mu = ctx;
	struct mu_event *e;

	vcd_warn("fencer fired: %s, action %s", vc_fence_reason_name(reason),
		 vc_fence_action_name(action));
	if (mu->fenced)
		return;
	mu->fenced = true;
	mu->fence_reason = reason;
	e = event_new(mu, MU_EV_FENCED);
	if (e)
		e->reason = reason;
	events_flush_soon(mu);
}

static void fencer_gone(void *ctx, int err)
{
	struct mu *mu = ctx;
	struct mu_event *e;

	if (mu->armed && !mu->fenced)
		vcd_err("the fencer is gone while armed (%s): this host is no longer fenced by anything",
			strerror(-err));
	else
		vcd_warn("the fencer is gone (%s)", strerror(-err));
	e = event_new(mu, MU_EV_FAILED);
	if (e)
		e->err = err;
	events_flush_soon(mu);
}

/* ------------------------------------------------------------ quorum */

static void quorum_update(struct mu *mu, uint64_t now)
{
	uint64_t seen = mu->votes;
	struct mu_event *e;
	bool quorate;
	size_t i;

	for (i = 0; i < mu->n_peers; i++)
		if (mu->peers[i].state == VC_PEER_STATE_UP ||
		    mu->peers[i].state == VC_PEER_STATE_SUSPECT)
			seen += mu->peers[i].votes;
	mu->votes_seen = seen > UINT32_MAX ? UINT32_MAX : (uint32_t)seen;
	quorate = mu->expected_votes && 2 * (uint64_t)mu->votes_seen > mu->expected_votes;
	if (quorate) {
		mu->quorum_seen_ns = now;
		if (mu->armed && !mu->fenced && mu->arm.quorum_timeout_ms && mu->fencer)
			vcd_fencer_quorate_until(mu->fencer, quorate_until_ns(mu));
	}
	if (quorate == mu->quorate)
		return;
	mu->quorate = quorate;
	vcd_info("quorum %s: %u votes seen of %u expected", quorate ? "gained" : "lost",
		 mu->votes_seen, mu->expected_votes);
	e = event_new(mu, MU_EV_QUORUM);
	if (e)
		e->quorate = quorate;
}

/* ------------------------------------------------------------ ageing */

static void peers_age(struct mu *mu, uint64_t now)
{
	uint64_t age;
	size_t i;
	int l;

	for (i = 0; i < mu->n_peers; i++) {
		struct mu_peer *p = &mu->peers[i];

		for (l = 0; l < VC_MAX_LINKS; l++)
			if (p->links[l].state == VC_LINK_STATE_UP &&
			    now - p->links[l].last_heard_ns > dead_ns(mu))
				link_set_state(p, l, VC_LINK_STATE_DOWN);
		if (!peer_alive(p))
			continue;
		age = now - p->last_heard_ns;
		if (age > dead_ns(mu))
			peer_set_state(mu, p, VC_PEER_STATE_DOWN, VC_DOWN_REASON_TIMEOUT, now);
		else if (p->state == VC_PEER_STATE_UP && age > suspect_ns(mu))
			peer_set_state(mu, p, VC_PEER_STATE_SUSPECT, 0, now);
	}
}

/* ------------------------------------------------------------ sending */

static void hb_fill(struct mu *mu, const struct mu_peer *p, int l, uint64_t now,
		    struct vc_wire_msg *msg)
{
	const struct mu_plink *pl = &p->links[l];
	uint64_t held_us;
	size_t i;

	vc_wire_msg_init(msg);
	msg->link_id = l;
	msg->cluster_id = mu->cluster_id;
	msg->node_id = mu->node_id;
	msg->dest_node_id = p->node_id;
	msg->interval_ms = mu->interval_ms;
	msg->incarnation = mu->incarnation;
	msg->seq = mu->seq;
	msg->tx_time_ns = now;
	if (pl->echo_time_ns) {
		held_us = (now - pl->echo_rx_ns) / 1000;
		msg->echo_time_ns = pl->echo_time_ns;
		msg->echo_held_us = held_us > UINT32_MAX ? UINT32_MAX : (uint32_t)held_us;
	}
	msg->dead_ms = dead_ms(mu);
	/* Rule 6: our fencing, so that peers can compute our window. */
	if (mu->armed) {
		msg->flags |= VC_WIRE_F_ARMED | VC_WIRE_F_USER_FENCE;
		msg->fence_action = mu->arm.action;
		msg->quorum_timeout_ms = mu->arm.quorum_timeout_ms;
		msg->kill_bound_ms = mu->arm.kill_bound_ms;
	}
	if (mu->quorate)
		msg->flags |= VC_WIRE_F_QUORATE;
	msg->n_members = mu->n_peers;
	for (i = 0; i < mu->n_peers; i++) {
		msg->members[i].node_id = mu->peers[i].node_id;
		msg->members[i].state = mu->peers[i].state;
		msg->members[i].incarnation = mu->peers[i].incarnation;
	}
	msg->payload_len = mu->payload_len;
	memcpy(msg->payload, mu->payload, mu->payload_len);
}

static void hb_send(struct mu *mu, struct mu_peer *p, int l, uint64_t now)
{
	static struct vc_wire_msg msg;
	struct mu_plink *pl = &p->links[l];
	uint8_t buf[VC_WIRE_MAX_LEN];
	size_t len;
	uv_buf_t b;
	int r;

	hb_fill(mu, p, l, now, &msg);
	if (mu->have_key)
		r = vc_wire_encode_signed(&msg, &mu->key, buf, sizeof(buf), &len);
	else
		r = vc_wire_encode(&msg, buf, sizeof(buf), &len);
	if (r == 0) {
		b = uv_buf_init((char *)buf, len);
		r = uv_udp_try_send(&mu->socks[l].udp, &b, 1, (const struct sockaddr *)&pl->sa);
	}
	if (r < 0) {
		pl->tx_errors++;
		mu->tx_errors++;
		return;
	}
	pl->tx_packets++;
}

static void tick(uv_timer_t *t)
{
	struct mu *mu = t->data;
	uint64_t now = vcd_now_ns();
	size_t i;
	int l;

	/* The order matters: see the top of this file. */
	check_quorum_deadline(mu, now);
	peers_age(mu, now);
	quorum_update(mu, now);
	if (!mu->fenced) {
		mu->seq++;
		for (i = 0; i < mu->n_peers; i++)
			for (l = 0; l < VC_MAX_LINKS; l++)
				if (mu->socks[l].open && mu->peers[i].links[l].addr.family)
					hb_send(mu, &mu->peers[i], l, now);
	}
	events_flush(mu);
}

/* ------------------------------------------------------------ receiving */

static bool addr_from_sockaddr(const struct sockaddr *sa, struct vc_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		a->family = AF_INET;
		memcpy(a->bytes, &in->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		a->family = AF_INET6;
		memcpy(a->bytes, &in6->sin6_addr, 16);
		return true;
	}
	return false;
}

static bool addr_equal(const struct vc_addr *a, const struct vc_addr *b)
{
	if (a->family != b->family || !a->family)
		return false;
	return memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16) == 0;
}

static struct mu_peer *peer_find(struct mu *mu, uint32_t node_id)
{
	size_t i;

	for (i = 0; i < mu->n_peers; i++)
		if (mu->peers[i].node_id == node_id)
			return &mu->peers[i];
	return NULL;
}

static struct mu_plink *plink_by_addr(struct mu *mu, uint8_t l, const struct vc_addr *src)
{
	size_t i;

	for (i = 0; i < mu->n_peers; i++)
		if (addr_equal(&mu->peers[i].links[l].addr, src))
			return &mu->peers[i].links[l];
	return NULL;
}

/* The first ten drops of a kind are logged, then every hundredth. */
static void log_drop(uint8_t l, const struct vc_addr *src,
		     enum vc_wire_reason why, uint64_t count)
{
	char a[VC_ADDR_STRLEN];

	if (count > 10 && count % 100)
		return;
	vcd_warn("link %u: dropped a datagram from %s: %s (%s %llu)", l,
		 vc_format_addr(src, a, sizeof(a)), vc_wire_reason_name(why),
		 vc_wire_reason_counter(why), (unsigned long long)count);
}

/* Count a datagram that failed a check, as the kernel counts it. */
static void rx_drop(struct mu *mu, uint8_t l, const struct vc_addr *src,
		    enum vc_wire_reason why)
{
	const char *counter = vc_wire_reason_counter(why);
	struct mu_plink *pl = plink_by_addr(mu, l, src);
	uint64_t count;

	if (strcmp(counter, "bad_mac") == 0) {
		count = ++mu->rx_bad_mac;
		if (pl)
			pl->bad_mac++;
	} else if (strcmp(counter, "foreign") == 0) {
		count = ++mu->rx_foreign;
	} else if (strcmp(counter, "unknown") == 0) {
		count = ++mu->rx_unknown;
	} else {
		count = ++mu->rx_malformed;
		if (pl)
			pl->malformed++;
	}
	log_drop(l, src, why, count);
}

static void peer_refuse(struct mu *mu, struct mu_peer *p)
{
	mu->rx_refused++;
	p->rx_refused++;
	if (p->rx_refused <= 10 || p->rx_refused % 100 == 0)
		vcd_debug("peer %u: heartbeat refused (stale incarnation or sequence, %llu so far)",
			  p->node_id, (unsigned long long)p->rx_refused);
}

/* Our state in the sender's member list, counting only our current life. */
static uint8_t view_of_us(const struct mu *mu, const struct vc_wire_msg *msg)
{
	size_t i;

	for (i = 0; i < msg->n_members; i++)
		if (msg->members[i].node_id == mu->node_id &&
		    msg->members[i].incarnation == mu->incarnation)
			return msg->members[i].state;
	return VC_PEER_STATE_NEW;
}

static void plink_rtt(struct mu_plink *pl, const struct vc_wire_msg *msg, uint64_t now)
{
	uint64_t held_ns = (uint64_t)msg->echo_held_us * 1000, rtt_ns;

	if (!msg->echo_time_ns || msg->echo_time_ns + held_ns >= now)
		return;
	rtt_ns = now - msg->echo_time_ns - held_ns;
	/* Smoothed like TCP's srtt: 7/8 old, 1/8 new. */
	if (pl->srtt_ns)
		pl->srtt_ns = pl->srtt_ns - (pl->srtt_ns >> 3) + (rtt_ns >> 3);
	else
		pl->srtt_ns = rtt_ns;
}

static void adv_update(struct mu_peer *p, const struct vc_wire_msg *msg)
{
	struct mu_adv *adv = &p->adv;

	adv->flags = msg->flags;
	adv->fence_action = msg->fence_action;
	if (!(adv->flags & VC_WIRE_F_ARMED) || adv->fence_action >= __VC_FENCE_ACTION_MAX)
		adv->fence_action = VC_FENCE_ACTION_NONE;
	adv->interval_ms = msg->interval_ms;
	adv->dead_ms = msg->dead_ms;
	adv->quorum_timeout_ms = msg->quorum_timeout_ms;
	adv->kill_bound_ms = msg->kill_bound_ms;
}

/* As kernel/peer.c vc_peer_rx(): an authenticated heartbeat to us. */
static void peer_rx(struct mu *mu, struct mu_peer *p, uint8_t l,
		    const struct vc_wire_msg *msg, uint64_t now)
{
	struct mu_plink *pl = &p->links[l];
	uint8_t theirs;
	int k;

	if (msg->incarnation < p->incarnation ||
	    (msg->incarnation == p->incarnation && p->state == VC_PEER_STATE_DOWN)) {
		peer_refuse(mu, p);
		return;
	}
	if (msg->incarnation > p->incarnation) {
		/* A new life: the old one is over. */
		if (peer_alive(p))
			peer_set_state(mu, p, VC_PEER_STATE_DOWN, VC_DOWN_REASON_NEW_LIFE, now);
		p->incarnation = msg->incarnation;
		peer_set_state(mu, p, VC_PEER_STATE_NEW, 0, now);
		for (k = 0; k < VC_MAX_LINKS; k++)
			p->links[k].seq_valid = false;
	}
	if (pl->seq_valid && msg->seq <= pl->last_seq) {
		peer_refuse(mu, p);
		return;
	}
	if (pl->seq_valid && msg->seq > pl->last_seq + 1)
		pl->lost += msg->seq - pl->last_seq - 1;
	pl->last_seq = msg->seq;
	pl->seq_valid = true;
	pl->rx_packets++;
	pl->last_heard_ns = now;
	p->last_heard_ns = now;
	plink_rtt(pl, msg, now);
	pl->echo_time_ns = msg->tx_time_ns;
	pl->echo_rx_ns = now;
	link_set_state(p, l, VC_LINK_STATE_UP);

	p->payload_len = msg->payload_len;
	memcpy(p->payload, msg->payload, msg->payload_len);
	adv_update(p, msg);

	theirs = view_of_us(mu, msg);
	switch (theirs) {
	case VC_PEER_STATE_DOWN:
		mu_fence(mu, VC_FENCE_REASON_DECLARED, now);
		if (peer_alive(p))
			peer_set_state(mu, p, VC_PEER_STATE_DOWN, VC_DOWN_REASON_DECLARED, now);
		break;
	case VC_PEER_STATE_JOINING:
	case VC_PEER_STATE_UP:
	case VC_PEER_STATE_SUSPECT:
		peer_set_state(mu, p, VC_PEER_STATE_UP, 0, now);
		break;
	default:
		/* It does not know our current life. */
		if (p->state == VC_PEER_STATE_NEW)
			peer_set_state(mu, p, VC_PEER_STATE_JOINING, 0, now);
		else if (p->state == VC_PEER_STATE_UP || p->state == VC_PEER_STATE_SUSPECT)
			peer_set_state(mu, p, VC_PEER_STATE_DOWN, VC_DOWN_REASON_DECLARED, now);
		break;
	}
}

/* As kernel/hb.c vc_hb_rx(): the checks in the kernel's order. */
static void hb_rx(struct mu *mu, uint8_t l, const struct vc_addr *src,
		  const uint8_t *data, size_t len)
{
	static struct vc_wire_msg msg;
	struct vc_wire_receiver rx = {
		.cluster_id = mu->cluster_id,
		.node_id = mu->node_id,
		.peer_ids = mu->peer_ids,
		.n_peers = mu->n_peers,
		.match_link = true,
		.link_id = l,
		.keys = mu->have_key ? &mu->key : NULL,
		.n_keys = mu->have_key ? 1 : 0,
	};
	enum vc_wire_reason why = VC_WIRE_R_OK;
	struct mu_peer *p;
	uint64_t now;

	if (vc_wire_parse(data, len, &rx, &msg, &why) < 0) {
		rx_drop(mu, l, src, why);
		return;
	}
	p = peer_find(mu, msg.node_id);
	if (!p || !p->links[l].addr.family) {
		/* We have this link, but it is not configured for the peer. */
		mu->rx_unknown++;
		return;
	}
	/* Past "quorate until", fence before this heartbeat counts. */
	now = vcd_now_ns();
	check_quorum_deadline(mu, now);
	peer_rx(mu, p, l, &msg, now);
}

static void sock_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct mu_sock *s = h->data;

	(void)suggested;
	*buf = uv_buf_init((char *)s->buf, sizeof(s->buf));
}

static void sock_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
		      const struct sockaddr *from, unsigned int flags)
{
	struct mu_sock *s = h->data;
	struct mu *mu = s->mu;
	struct vc_addr src;

	(void)buf;
	if (nread < 0) {
		vcd_debug("link %u: receive error: %s", s->link_id, uv_strerror((int)nread));
		return;
	}
	if (!from || !addr_from_sockaddr(from, &src))
		return;
	if (!mu->started || mu->closing)
		return;
	if (flags & UV_UDP_PARTIAL) {
		/* Longer than any valid datagram. */
		rx_drop(mu, s->link_id, &src, VC_WIRE_R_LENGTH);
		return;
	}
	hb_rx(mu, s->link_id, &src, s->buf, (size_t)nread);
	events_flush(mu);
}

/* ------------------------------------------------------------ start */

static int sockaddr_of(const struct vc_addr *a, uint16_t port, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, a->bytes, 4);
		*len = sizeof(*in);
		return 0;
	}
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, a->bytes, 16);
		*len = sizeof(*in6);
		return 0;
	}
	return -EAFNOSUPPORT;
}

static int config_node(struct mu *mu, const struct vc_config *cfg)
{
	const struct vc_node_cfg *n = &cfg->node;
	bool links = false;
	int l;

	if (!cfg->has_node || !(n->set & VC_NODE_F_CLUSTER_ID) || !(n->set & VC_NODE_F_NODE_ID)) {
		vcd_err("membership: [node] needs cluster-id and node-id");
		return -EINVAL;
	}
	mu->cluster_id = n->cluster_id;
	mu->node_id = n->node_id;
	mu->votes = n->set & VC_NODE_F_VOTES ? n->votes : 1;
	mu->port = n->set & VC_NODE_F_PORT ? n->port : VC_DEFAULT_PORT;
	mu->interval_ms = n->set & VC_NODE_F_INTERVAL_MS ? n->interval_ms : MU_INTERVAL_MS_DEFAULT;
	mu->misses = n->set & VC_NODE_F_MISSES ? n->misses : MU_MISSES_DEFAULT;
	mu->expected_votes = n->set & VC_NODE_F_EXPECTED_VOTES ? n->expected_votes : 0;
	mu->fence_margin_ms = n->set & VC_NODE_F_FENCE_MARGIN_MS ? n->fence_margin_ms
								 : MU_FENCE_MARGIN_MS_DEFAULT;
	if (n->set & VC_NODE_F_PAYLOAD) {
		mu->payload_len = n->payload_len;
		memcpy(mu->payload, n->payload, n->payload_len);
	}
	for (l = 0; l < VC_MAX_LINKS; l++) {
		mu->links[l] = n->links[l];
		links |= n->links[l].family != 0;
	}
	if (!links) {
		vcd_err("membership: [node] has no link (link0 = ADDRESS)");
		return -EINVAL;
	}
	if (mu->expected_votes % 2 == 0 && mu->expected_votes) {
		vcd_err("membership: expected-votes %u is even: an even number of votes can split into two equal halves; add a witness host",
			mu->expected_votes);
		return -EINVAL;
	}
	return 0;
}

static int peer_cmp(const void *a, const void *b)
{
	const struct mu_peer *x = a, *y = b;

	return x->node_id < y->node_id ? -1 : x->node_id > y->node_id;
}

static int config_peers(struct mu *mu, const struct vc_config *cfg, uint64_t now)
{
	size_t i;
	int l;

	for (i = 0; i < cfg->n_peers; i++) {
		const struct vc_peer_cfg *pc = &cfg->peers[i];
		struct mu_peer *p = &mu->peers[i];

		if (pc->node_id == mu->node_id) {
			vcd_err("membership: [peer %u] is our own node id, not a peer's", pc->node_id);
			return -EINVAL;
		}
		memset(p, 0, sizeof(*p));
		p->node_id = pc->node_id;
		p->votes = pc->has_votes ? pc->votes : 1;
		p->state = VC_PEER_STATE_NEW;
		p->state_since_ns = now;
		for (l = 0; l < VC_MAX_LINKS; l++) {
			struct mu_plink *pl = &p->links[l];

			pl->state = VC_LINK_STATE_DOWN;
			if (!pc->links[l].family)
				continue;
			if (pc->links[l].family != mu->links[l].family) {
				vcd_err("membership: [peer %u] link%d: %s", pc->node_id, l,
					mu->links[l].family ? "address family differs from our local link of that id"
							    : "we have no local link of that id");
				return -EINVAL;
			}
			pl->addr = pc->links[l];
			sockaddr_of(&pl->addr, pl->addr.port ? pl->addr.port : mu->port, &pl->sa,
				    &pl->sa_len);
		}
	}
	mu->n_peers = cfg->n_peers;
	qsort(mu->peers, mu->n_peers, sizeof(mu->peers[0]), peer_cmp);
	for (i = 0; i < mu->n_peers; i++)
		mu->peer_ids[i] = mu->peers[i].node_id;
	return 0;
}

static void handle_closed(uv_handle_t *h);

static int sock_open(struct mu *mu, int l)
{
	struct mu_sock *s = &mu->socks[l];
	struct sockaddr_storage ss;
	char a[VC_ADDR_STRLEN];
	socklen_t len;
	int r;

	sockaddr_of(&mu->links[l], mu->port, &ss, &len);
	r = uv_udp_init(mu->ms.loop, &s->udp);
	if (r < 0)
		return r;
	s->udp.data = s;
	s->mu = mu;
	s->link_id = l;
	s->open = true;
	r = uv_udp_bind(&s->udp, (const struct sockaddr *)&ss,
			mu->links[l].family == AF_INET6 ? UV_UDP_IPV6ONLY : 0);
	if (r == 0)
		r = uv_udp_recv_start(&s->udp, sock_alloc, sock_recv);
	if (r < 0)
		vcd_err("membership: link%d: cannot bind %s port %u: %s (address not configured here, or port in use)",
			l, vc_format_addr(&mu->links[l], a, sizeof(a)), mu->port, uv_strerror(r));
	return r;
}

static void socks_close(struct mu *mu)
{
	int l;

	for (l = 0; l < VC_MAX_LINKS; l++) {
		if (!mu->socks[l].open)
			continue;
		mu->socks[l].open = false;
		uv_udp_recv_stop(&mu->socks[l].udp);
		mu->pending_closes++;
		uv_close((uv_handle_t *)&mu->socks[l].udp, handle_closed);
	}
}

static int fencer_start(struct mu *mu, const struct vcd_mship_params *p)
{
	const struct vc_agent_cfg *ag = &p->cfg->agent;
	struct vcd_fencer_opts o = {
		.path = p->fencer_path,
		.log_level = ag->log_level[0] ? ag->log_level : NULL,
		.syslog = ag->syslog,
		.node_id = mu->node_id,
		.incarnation = mu->incarnation,
	};
	struct vcd_fencer_cb cb = {
		.ctx = mu,
		.pretimeout = fencer_pretimeout,
		.fenced = fencer_fenced,
		.gone = fencer_gone,
	};

	return vcd_fencer_spawn(mu->ms.loop, &o, &cb, &mu->fencer);
}

static int mu_start(struct vcd_mship *ms, const struct vcd_mship_params *p)
{
	struct mu *mu = mu_of(ms);
	uint64_t now = vcd_now_ns();
	int l, r;

	if (mu->started || mu->timer_open)
		return -EBUSY;
	r = config_node(mu, p->cfg);
	if (r < 0)
		return r;
	if (p->key) {
		mu->key.id = p->key_id;
		memcpy(mu->key.key, p->key, VC_KEY_LEN);
		mu->have_key = true;
	} else if (!p->cfg->node.insecure) {
		vcd_err("membership: no key: set key-file in [node], or allow running unauthenticated with insecure = yes");
		return -ENOKEY;
	}
	mu->has_fence = p->cfg->has_fence;
	mu->fence = p->cfg->fence;
	r = config_peers(mu, p->cfg, now);
	if (r < 0)
		return r;
	/* Incarnations only grow; without a persisted one, boot-free wall time. */
	mu->incarnation = p->incarnation ? p->incarnation : (uint64_t)time(NULL);
	mu->seq = 0;

	r = fencer_start(mu, p);
	if (r < 0)
		return r;
	for (l = 0; l < VC_MAX_LINKS && r == 0; l++)
		if (mu->links[l].family)
			r = sock_open(mu, l);
	if (r == 0)
		r = uv_timer_init(ms->loop, &mu->timer);
	if (r < 0) {
		socks_close(mu);
		vcd_fencer_close(mu->fencer);
		mu->fencer = NULL;
		return r;
	}
	mu->timer_open = true;
	mu->timer.data = mu;
	mu->started = true;
	vcd_notice("membership (user transport): node %u of cluster %u, incarnation %llu, %zu peers, interval %u ms x %u misses, expected votes %u%s",
		   mu->node_id, mu->cluster_id, (unsigned long long)mu->incarnation, mu->n_peers,
		   mu->interval_ms, mu->misses, mu->expected_votes,
		   mu->have_key ? "" : ", UNAUTHENTICATED");
	/* The first heartbeat goes out at once. */
	return uv_timer_start(&mu->timer, tick, 0, mu->interval_ms);
}

/* ------------------------------------------------------------ ops */

static int mu_arm(struct vcd_mship *ms)
{
	struct mu *mu = mu_of(ms);
	const struct vc_fence_cfg *f = &mu->fence;
	struct vcd_fencer_arm a = { 0 };
	bool was_armed = mu->armed;
	int r;

	if (!mu->started)
		return -EINVAL;
	if (mu->fenced)
		return -EBUSY;
	if (!mu->has_fence || !(f->set & VC_FENCE_F_ACTION)) {
		vcd_err("membership: cannot arm: the config has no [fence] action");
		return -EINVAL;
	}
	a.action = f->action;
	a.agent_timeout_ms = f->set & VC_FENCE_F_AGENT_TIMEOUT ? f->agent_timeout_ms : 0;
	a.quorum_timeout_ms = f->set & VC_FENCE_F_QUORUM_TIMEOUT ? f->quorum_timeout_ms : 0;
	a.kill_bound_ms = f->set & VC_FENCE_F_KILL_BOUND ? f->kill_bound_ms
							 : MU_KILL_BOUND_MS_DEFAULT;
	a.pretimeout_ms = f->set & VC_FENCE_F_PRETIMEOUT ? f->pretimeout_ms
							 : a.agent_timeout_ms / 2;
	a.nowayout = f->set & VC_FENCE_F_NOWAYOUT ? f->nowayout : false;
	if (a.quorum_timeout_ms && !mu->expected_votes) {
		vcd_err("membership: a quorum timeout needs expected votes (an odd number in [node])");
		return -EINVAL;
	}
	if (mu->armed && mu->arm.nowayout && !a.nowayout)
		return -EBUSY;
	if (!mu->fencer)
		return -ENOTCONN;
	mu->in_call = true;
	r = vcd_fencer_arm(mu->fencer, &a);
	mu->in_call = false;
	if (r < 0) {
		vcd_err("membership: the fencer refused to arm (action %s): %s",
			vc_fence_action_name(a.action), strerror(-r));
		return r;
	}
	mu->arm = a;
	/* Arming starts the quorum deadline; re-arming does not. */
	if (!was_armed)
		mu->quorum_seen_ns = vcd_now_ns();
	mu->armed = true;
	return 0;
}

static int mu_pet(struct vcd_mship *ms)
{
	struct mu *mu = mu_of(ms);

	if (!mu->armed)
		return -EINVAL;
	if (mu->fenced)
		return -EBUSY;
	return mu->fencer ? vcd_fencer_pet(mu->fencer) : -ENOTCONN;
}

static void peers_down(struct mu *mu, uint64_t now)
{
	size_t i;
	int l;

	for (i = 0; i < mu->n_peers; i++) {
		struct mu_peer *p = &mu->peers[i];

		for (l = 0; l < VC_MAX_LINKS; l++)
			link_set_state(p, l, VC_LINK_STATE_DOWN);
		if (peer_alive(p))
			peer_set_state(mu, p, VC_PEER_STATE_DOWN, VC_DOWN_REASON_STOPPED, now);
	}
}

static int mu_stop(struct vcd_mship *ms)
{
	struct mu *mu = mu_of(ms);
	uint64_t now = vcd_now_ns();
	struct mu_event *e;
	int r;

	if (!mu->started)
		return -EINVAL;
	if (mu->armed && !mu->fenced) {
		mu->in_call = true;
		r = mu->arm.nowayout ? -EBUSY : mu->fencer ? vcd_fencer_disarm(mu->fencer) : -ENOTCONN;
		mu->in_call = false;
		if (r == 0) {
			mu->armed = false;
		} else {
			/* Rule 5: an armed node does not stop quietly. */
			vcd_warn("membership: stop while armed and disarm refused (%s): fencing",
				 strerror(-r));
			mu_fence(mu, VC_FENCE_REASON_STOPPED, now);
		}
	}
	uv_timer_stop(&mu->timer);
	socks_close(mu);
	peers_down(mu, now);
	mu->votes_seen = 0;
	if (mu->quorate) {
		mu->quorate = false;
		e = event_new(mu, MU_EV_QUORUM);
		if (e)
			e->quorate = false;
	}
	mu->started = false;
	events_flush(mu);
	return 0;
}

static int mu_set_payload(struct vcd_mship *ms, const void *buf, size_t len)
{
	struct mu *mu = mu_of(ms);

	if (len > VC_MAX_PAYLOAD)
		return -EINVAL;
	memcpy(mu->payload, buf, len);
	mu->payload_len = len;
	return 0;
}

static int mu_members(struct vcd_mship *ms, struct vcd_member *out, size_t max, size_t *ret_n)
{
	struct mu *mu = mu_of(ms);
	size_t i;

	for (i = 0; i < mu->n_peers && i < max; i++)
		member_fill(mu, &mu->peers[i], &out[i]);
	*ret_n = i;
	return mu->n_peers > max ? -ENOBUFS : 0;
}

static int mu_self(struct vcd_mship *ms, struct vcd_self *out)
{
	struct mu *mu = mu_of(ms);

	memset(out, 0, sizeof(*out));
	out->incarnation = mu->incarnation;
	out->started = mu->started;
	out->quorate = mu->quorate;
	out->votes_seen = mu->votes_seen;
	out->expected_votes = mu->expected_votes;
	out->armed = mu->armed;
	out->fenced = mu->fenced;
	out->fence_action = mu->armed ? mu->arm.action : VC_FENCE_ACTION_NONE;
	out->fence_reason = mu->fenced ? mu->fence_reason : 0;
	return 0;
}

static int mu_proc_add(struct vcd_mship *ms, pid_t pid)
{
	struct mu *mu = mu_of(ms);
	int r;

	if (!mu->fencer)
		return -ENOTCONN;
	if (mu->fenced)
		return -EBUSY;
	mu->in_call = true;
	r = vcd_fencer_proc_add(mu->fencer, pid);
	mu->in_call = false;
	return r;
}

static int mu_proc_del(struct vcd_mship *ms, pid_t pid)
{
	struct mu *mu = mu_of(ms);

	int r;

	if (!mu->fencer)
		return -ENOTCONN;
	mu->in_call = true;
	r = vcd_fencer_proc_del(mu->fencer, pid);
	mu->in_call = false;
	return r;
}

/* Not while a callback runs: close() may be called from one. */
static void free_maybe(struct mu *mu)
{
	if (mu->closing && mu->pending_closes == 0 && !mu->flushing)
		free(mu);
}

static void handle_closed(uv_handle_t *h)
{
	struct mu *mu = h->type == UV_TIMER ? h->data : ((struct mu_sock *)h->data)->mu;

	mu->pending_closes--;
	free_maybe(mu);
}

/* Frees once the loop ran the close callbacks.  Does not disarm. */
static void mu_close(struct vcd_mship *ms)
{
	struct mu *mu;

	if (!ms)
		return;
	mu = mu_of(ms);
	mu->closing = true;
	socks_close(mu);
	if (mu->timer_open) {
		uv_timer_stop(&mu->timer);
		mu->timer_open = false;
		mu->pending_closes++;
		uv_close((uv_handle_t *)&mu->timer, handle_closed);
	}
	/* An armed fencer fences when its socket closes (rule 5). */
	vcd_fencer_close(mu->fencer);
	mu->fencer = NULL;
	memset(&mu->key, 0, sizeof(mu->key));
	free_maybe(mu);
}

static const struct vcd_mship_ops mu_ops = {
	.name = "user",
	.start = mu_start,
	.arm = mu_arm,
	.pet = mu_pet,
	.stop = mu_stop,
	.set_payload = mu_set_payload,
	.members = mu_members,
	.self = mu_self,
	.proc_add = mu_proc_add,
	.proc_del = mu_proc_del,
	.close = mu_close,
};

int vcd_mship_user_new(uv_loop_t *loop, const struct vcd_mship_cb *cb, struct vcd_mship **ret)
{
	struct mu *mu = calloc(1, sizeof(*mu));

	if (!mu)
		return -ENOMEM;
	mu->ms.ops = &mu_ops;
	mu->ms.loop = loop;
	if (cb)
		mu->ms.cb = *cb;
	mu->ms.priv = mu;
	*ret = &mu->ms;
	return 0;
}
