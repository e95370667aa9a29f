// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Consensus over real raft_uv and rtransport: several members in this one
 * process, on one libuv loop, over TCP on 127.0.0.1, with their data under
 * a temporary folder in $TMPDIR that is removed at the end.
 *
 * The tests share one cluster and run in order: members 1-3 vote, 4 is a
 * standby that first comes with a wrong key.  Election timeout 1000 ms,
 * heartbeat 100 ms, so that raft's own election timer (1-2 s) cannot pass
 * for vcd_cons_leader_dead() in the failover test.
 */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <raft.h>
#include <uv.h>

#include "../consensus.h"
#include "../log.h"
#include "../rtransport.h"
#include "tap.h"

#define N_NODES		4
#define ELECTION_MS	1000
#define HEARTBEAT_MS	100
#define LEASE_MS	(3 * HEARTBEAT_MS)
#define CLUSTER_ID	7

struct node {
	uint64_t id;
	struct vcd_cons *c;
	char dir[300];
	bool wrong_key;
	/* state machine: a running FNV-1a over the applied commands */
	uint64_t count;
	uint64_t hash;
	uint64_t last_index;
	unsigned restores;
	/* what leader_changed said */
	uint64_t leader;
	uint64_t term;
	unsigned leader_reports;
	/* rpc */
	unsigned rpc_calls;
	uint64_t rpc_from;
	bool rpc_hold;
	vcd_cons_rpc_reply_fn held_reply;
	void *held_ctx;
	bool closed;
	bool dying;		/* being closed: not counted as running */
};

static uv_loop_t *loop;
static uv_timer_t ticker;
static char base_dir[256];
static unsigned base_port;
static struct node nodes[N_NODES];
static const uint8_t good_key[VC_KEY_LEN] = { [0 ... VC_KEY_LEN - 1] = 0x11 };
static const uint8_t bad_key[VC_KEY_LEN] = { [0 ... VC_KEY_LEN - 1] = 0x22 };

static uint64_t now_ms(void)
{
	return uv_hrtime() / 1000000u;
}

/* Run the loop until @cond holds (ok = true) or @ms pass (ok = false). */
#define WAIT_UNTIL(ok, cond, ms) do {					\
	uint64_t _deadline = now_ms() + (ms);				\
	for (;;) {							\
		if (cond) {						\
			ok = true;					\
			break;						\
		}							\
		if (now_ms() > _deadline) {				\
			ok = false;					\
			break;						\
		}							\
		uv_run(loop, UV_RUN_ONCE);				\
	}								\
} while (0)

/* --- the state machine ------------------------------------------------------ */

static uint64_t fnv(uint64_t h, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static int fsm_apply(void *ctx, const void *buf, size_t len, uint64_t index)
{
	struct node *n = ctx;

	if (index <= n->last_index)
		return -EPROTO;	/* out of order: the test checks last_index */
	n->last_index = index;
	if (len >= 3 && memcmp(buf, "bad", 3) == 0)
		return -EINVAL;
	n->count++;
	n->hash = fnv(n->hash, buf, len);
	if (getenv("VCD_TEST_TRACE"))
		fprintf(stderr, "FSM node %" PRIu64 " apply %" PRIu64 " %.*s count %" PRIu64 " hash %016" PRIx64 "\n",
			n->id, index, (int)len, (const char *)buf, n->count, n->hash);
	return 0;
}

static int fsm_snapshot(void *ctx, void **ret_buf, size_t *ret_len)
{
	struct node *n = ctx;
	uint64_t *s = malloc(3 * sizeof(uint64_t));

	if (!s)
		return -ENOMEM;
	s[0] = n->count;
	s[1] = n->hash;
	s[2] = n->last_index;
	if (getenv("VCD_TEST_TRACE"))
		fprintf(stderr, "FSM node %" PRIu64 " snapshot index %" PRIu64 " count %" PRIu64 " hash %016" PRIx64 "\n",
			n->id, n->last_index, n->count, n->hash);
	*ret_buf = s;
	*ret_len = 3 * sizeof(uint64_t);
	return 0;
}

static int fsm_restore(void *ctx, const void *buf, size_t len)
{
	struct node *n = ctx;
	uint64_t s[3];

	if (len != sizeof(s))
		return -EINVAL;
	memcpy(s, buf, sizeof(s));
	n->count = s[0];
	n->hash = s[1];
	n->last_index = s[2];
	n->restores++;
	if (getenv("VCD_TEST_TRACE"))
		fprintf(stderr, "FSM node %" PRIu64 " restore index %" PRIu64 " count %" PRIu64 " hash %016" PRIx64 "\n",
			n->id, n->last_index, n->count, n->hash);
	return 0;
}

/* --- callbacks -------------------------------------------------------------- */

static void on_leader(void *ctx, uint64_t leader_id, uint64_t term)
{
	struct node *n = ctx;

	n->leader = leader_id;
	n->term = term;
	n->leader_reports++;
}

static void on_rpc(void *ctx, uint64_t from_id, const char *json, size_t len,
		   vcd_cons_rpc_reply_fn reply, void *reply_ctx)
{
	struct node *n = ctx;
	char out[128];
	int k;

	n->rpc_calls++;
	n->rpc_from = from_id;
	if (n->rpc_hold) {
		n->held_reply = reply;
		n->held_ctx = reply_ctx;
		return;
	}
	k = snprintf(out, sizeof(out), "{\"from\":%" PRIu64 ",\"echo\":%.*s}", from_id,
		     (int)len, json);
	reply(reply_ctx, out, (size_t)k);
}

static void on_closed(void *arg)
{
	*(bool *)arg = true;
}

static void ticker_cb(uv_timer_t *t)
{
	(void)t;
}

/* --- cluster helpers ------------------------------------------------------- */

static void fill_params(struct vcd_cons_params *p, struct node *n)
{
	memset(p, 0, sizeof(*p));
	p->self_id = n->id;
	p->data_dir = n->dir;
	for (size_t i = 0; i < N_NODES; i++) {
		p->members[i].id = nodes[i].id;
		snprintf(p->members[i].addr, sizeof(p->members[i].addr), "127.0.0.1:%u",
			 base_port + (unsigned)i);
		p->members[i].role = i < 3 ? VCD_CONS_VOTER : VCD_CONS_STANDBY;
	}
	p->n_members = N_NODES;
	p->election_timeout_ms = ELECTION_MS;
	p->heartbeat_ms = HEARTBEAT_MS;
	p->cluster_id = CLUSTER_ID;
	p->key = n->wrong_key ? bad_key : good_key;
	p->snapshot_threshold = 16;
	p->snapshot_trailing = 8;
}

static int node_start(struct node *n)
{
	static const struct vcd_cons_fsm fsm_tmpl = {
		.apply = fsm_apply, .snapshot = fsm_snapshot, .restore = fsm_restore,
	};
	struct vcd_cons_fsm fsm = fsm_tmpl;
	struct vcd_cons_cb cb = { .ctx = n, .leader_changed = on_leader, .rpc = on_rpc };
	struct vcd_cons_params p;
	int rv;

	fill_params(&p, n);
	fsm.ctx = n;
	n->count = n->hash = n->last_index = 0;
	n->leader = n->term = 0;
	n->closed = false;
	rv = vcd_cons_new(loop, &p, &fsm, &cb, &n->c);
	if (rv)
		return rv;
	if (!vcd_cons_has_state(n->c)) {
		rv = vcd_cons_bootstrap(n->c);
		if (rv)
			return rv;
	}
	return vcd_cons_start(n->c);
}

static bool node_kill(struct node *n)
{
	bool done = false, ok;

	if (!n->c)
		return true;
	vcd_cons_close(n->c, on_closed, &done);
	WAIT_UNTIL(ok, done, 5000);
	if (ok) {
		vcd_cons_free(n->c);
		n->c = NULL;
		n->closed = true;
	}
	return ok;
}

/* The leader's id when every running member agrees on it, else 0. */
static uint64_t agreed_leader(void)
{
	uint64_t leader = 0;

	for (size_t i = 0; i < N_NODES; i++) {
		struct node *n = &nodes[i];

		if (!n->c || n->wrong_key || n->dying)
			continue;
		if (!n->leader || (leader && n->leader != leader) ||
		    vcd_cons_leader(n->c) != n->leader)
			return 0;
		leader = n->leader;
	}
	if (!leader || !nodes[leader - 1].c || !vcd_cons_is_leader(nodes[leader - 1].c))
		return 0;
	return leader;
}

static int count_leaders(void)
{
	int k = 0;

	for (size_t i = 0; i < N_NODES; i++)
		k += nodes[i].c && vcd_cons_is_leader(nodes[i].c);
	return k;
}

/* Every running voter applied the same @want_count commands, up to the
 * same index. */
static bool voters_converged(uint64_t want_count)
{
	const struct node *ref = NULL;

	for (size_t i = 0; i < 3; i++) {
		const struct node *n = &nodes[i];

		if (!n->c)
			continue;
		if (!ref)
			ref = n;
		if (n->count != want_count || n->hash != ref->hash ||
		    n->last_index != ref->last_index)
			return false;
	}
	return true;
}

struct done_rec {
	int n;
	int status;
	int failures;
};

static void on_done(void *arg, int status)
{
	struct done_rec *d = arg;

	d->n++;
	if (status)
		d->failures++;
	d->status = status;
}

/* Submit @n entries "tag-i" on the leader; wait until all were applied. */
static bool submit_many(uint64_t leader, const char *tag, int n)
{
	static struct done_rec rec;
	char buf[64];
	bool ok;

	memset(&rec, 0, sizeof(rec));
	for (int i = 0; i < n; i++) {
		int k = snprintf(buf, sizeof(buf), "%s-%d", tag, i);

		if (vcd_cons_submit(nodes[leader - 1].c, buf, (size_t)k, on_done, &rec))
			return false;
	}
	WAIT_UNTIL(ok, rec.n == n, 5000);
	return ok && rec.failures == 0;
}

static void dump_nodes(void)
{
	for (size_t i = 0; i < N_NODES; i++) {
		const struct node *n = &nodes[i];

		if (!n->c)
			continue;
		printf("#   node %" PRIu64 ": %s, leader %" PRIu64 " term %" PRIu64
		       ", applied %" PRIu64 " commands up to index %" PRIu64 ", hash %016" PRIx64 "\n",
		       n->id, vcd_cons_state_name(n->c), vcd_cons_leader(n->c),
		       vcd_cons_term(n->c), n->count, n->last_index, n->hash);
	}
}

static uint64_t total_count;	/* commands applied so far, cluster-wide */
static uint64_t leader_id;

/* --- tests ------------------------------------------------------------------- */

TEST(elect_one_leader)
{
	uint64_t t0 = now_ms(), t_elected;
	bool ok;

	for (size_t i = 0; i < 3; i++)
		CHECK_EQ(node_start(&nodes[i]), 0);
	WAIT_UNTIL(ok, agreed_leader() != 0, 5000);
	CHECK(ok);
	t_elected = now_ms() - t0;
	leader_id = agreed_leader();
	CHECK_EQ(count_leaders(), 1);
	for (size_t i = 0; i < 3; i++) {
		CHECK(nodes[i].leader_reports >= 1);
		CHECK_EQ(nodes[i].term, vcd_cons_term(nodes[leader_id - 1].c));
	}
	CHECK_STR(vcd_cons_state_name(nodes[leader_id - 1].c), "leader");
	printf("# start -> leader %" PRIu64 " agreed by all: %" PRIu64 " ms (election timeout %d ms)\n",
	       leader_id, t_elected, ELECTION_MS);
	/* Everyone holds the lease once heartbeats flow. */
	WAIT_UNTIL(ok, vcd_cons_in_touch(nodes[0].c, LEASE_MS) &&
		   vcd_cons_in_touch(nodes[1].c, LEASE_MS) &&
		   vcd_cons_in_touch(nodes[2].c, LEASE_MS), 2000);
	CHECK(ok);
	return true;
}

TEST(submit_applies_in_order_everywhere)
{
	struct vcd_cons *lc = nodes[leader_id - 1].c;
	struct vcd_cons *fc = nodes[leader_id % 3].c;
	struct done_rec bad = { 0 };
	bool ok;

	/* Only the leader takes entries. */
	CHECK_EQ(vcd_cons_submit(fc, "x", 1, on_done, NULL), -EPERM);
	CHECK(submit_many(leader_id, "a", 40));
	total_count += 40;
	/* The fsm's verdict reaches the submitter; the entry is a no-op. */
	CHECK_EQ(vcd_cons_submit(lc, "bad entry", 9, on_done, &bad), 0);
	WAIT_UNTIL(ok, bad.n == 1, 3000);
	CHECK(ok);
	CHECK_EQ(bad.status, -EINVAL);
	WAIT_UNTIL(ok, voters_converged(total_count), 3000);
	CHECK(ok);
	for (size_t i = 0; i < 3; i++) {
		CHECK_EQ(nodes[i].last_index, nodes[0].last_index);
		CHECK(vcd_cons_commit_index(nodes[i].c) >= nodes[i].last_index);
	}
	return true;
}

TEST(restarted_member_catches_up_from_snapshot)
{
	struct node *f = &nodes[leader_id % 3];
	bool ok;

	CHECK(node_kill(f));
	/* Enough entries that the leader snapshots and drops what f lacks. */
	CHECK(submit_many(leader_id, "b", 60));
	total_count += 60;
	CHECK_EQ(node_start(f), 0);
	WAIT_UNTIL(ok, voters_converged(total_count), 5000);
	if (!ok)
		dump_nodes();
	CHECK(ok);
	CHECK(f->restores >= 1);
	CHECK_EQ(agreed_leader(), leader_id);
	return true;
}

/*
 * Pins the raft 0.15 internals that vcd_cons_leader_dead() writes: with an
 * election timeout of 1000 ms raft's own timer cannot elect anyone within
 * 3 heartbeats of the leader's death; only the poke can.
 */
TEST(leader_dead_elects_quickly)
{
	uint64_t old = leader_id, t0, dt = 0;
	struct node *l = &nodes[old - 1];
	bool closed = false, ok;

	vcd_cons_close(l->c, on_closed, &closed);
	l->dying = true;
	t0 = now_ms();
	for (size_t i = 0; i < 3; i++)
		if (nodes[i].c && &nodes[i] != l)
			vcd_cons_leader_dead(nodes[i].c, old);
	WAIT_UNTIL(ok, agreed_leader() != 0 && agreed_leader() != old, 3 * HEARTBEAT_MS);
	dt = now_ms() - t0;
	if (!ok)
		dump_nodes();
	CHECK(ok);
	WAIT_UNTIL(ok, closed, 5000);
	CHECK(ok);
	vcd_cons_free(l->c);
	l->c = NULL;
	l->dying = false;
	leader_id = agreed_leader();
	printf("# leader %" PRIu64 " dead -> leader %" PRIu64 " in %" PRIu64 " ms (limit %d ms)\n",
	       old, leader_id, dt, 3 * HEARTBEAT_MS);
	CHECK_EQ(count_leaders(), 1);
	/* The new leader commits and holds the lease with one follower. */
	CHECK(submit_many(leader_id, "c", 5));
	total_count += 5;
	WAIT_UNTIL(ok, vcd_cons_in_touch(nodes[leader_id - 1].c, LEASE_MS), 1000);
	CHECK(ok);
	/* The old leader comes back as a follower. */
	CHECK_EQ(node_start(l), 0);
	WAIT_UNTIL(ok, voters_converged(total_count) && agreed_leader() == leader_id, 5000);
	CHECK(ok);
	return true;
}

/*
 * The survivors keep the quorum lease through the election that follows a
 * leader's death: they hear each other campaign.  Without that, an
 * election slowed by split votes would let every survivor's watchdog fire.
 */
TEST(lease_holds_while_electing)
{
	uint64_t old = leader_id, deadline;
	struct node *l = &nodes[old - 1];
	bool closed = false, held = true, ok = false;

	vcd_cons_close(l->c, on_closed, &closed);
	l->dying = true;
	for (size_t i = 0; i < 3; i++)
		if (nodes[i].c && &nodes[i] != l)
			vcd_cons_leader_dead(nodes[i].c, old);
	deadline = now_ms() + 3 * ELECTION_MS;
	while (now_ms() < deadline) {
		if (agreed_leader() != 0 && agreed_leader() != old) {
			ok = true;
			break;
		}
		for (size_t i = 0; i < 3; i++) {
			if (!nodes[i].c || &nodes[i] == l || vcd_cons_in_touch(nodes[i].c, LEASE_MS))
				continue;
			if (held)
				printf("# node %zu out of touch as %s, %" PRIu64 " ms after the kill\n",
				       i + 1, vcd_cons_state_name(nodes[i].c),
				       now_ms() - (deadline - 3 * ELECTION_MS));
			held = false;
		}
		uv_run(loop, UV_RUN_ONCE);
	}
	CHECK(ok);
	WAIT_UNTIL(ok, closed, 5000);
	CHECK(ok);
	vcd_cons_free(l->c);
	l->c = NULL;
	l->dying = false;
	leader_id = agreed_leader();
	CHECK_EQ(node_start(l), 0);
	WAIT_UNTIL(ok, voters_converged(total_count) && agreed_leader() == leader_id, 5000);
	CHECK(ok);
	CHECK(held);
	return true;
}

TEST(leader_dead_is_a_noop_for_others)
{
	struct node *f = &nodes[leader_id % 3];
	uint64_t term = vcd_cons_term(f->c);
	bool ok;

	/* Not our leader: nothing happens. */
	vcd_cons_leader_dead(f->c, f->id == 1 ? 2 : 1);
	vcd_cons_leader_dead(nodes[leader_id - 1].c, leader_id);
	WAIT_UNTIL(ok, false, 3 * HEARTBEAT_MS);
	CHECK(!ok);
	if (agreed_leader() != leader_id)
		dump_nodes();
	CHECK_EQ(vcd_cons_term(f->c), term);
	CHECK_EQ(agreed_leader(), leader_id);
	return true;
}

TEST(wrong_key_member_cannot_join)
{
	struct node *w = &nodes[3];
	struct vcd_cons_stats ws, ls;
	bool ok;

	w->wrong_key = true;
	CHECK_EQ(node_start(w), 0);
	CHECK(submit_many(leader_id, "d", 5));
	total_count += 5;
	/* The leader dials the standby to replicate; the challenge fails. */
	WAIT_UNTIL(ok, (vcd_cons_get_stats(w->c, &ws), ws.auth_failed >= 1) &&
		   (vcd_cons_get_stats(nodes[leader_id - 1].c, &ls), ls.refused >= 1), 3000);
	CHECK(ok);
	CHECK_EQ(ws.conn_accepted, 0);
	CHECK_EQ(w->count, 0);
	CHECK(!vcd_cons_in_touch(w->c, LEASE_MS));
	/* The cluster still works. */
	CHECK(submit_many(leader_id, "e", 5));
	total_count += 5;
	WAIT_UNTIL(ok, voters_converged(total_count), 3000);
	CHECK(ok);
	CHECK_EQ(w->count, 0);
	CHECK(node_kill(w));
	w->wrong_key = false;
	return true;
}

struct connect_rec {
	bool done;
	int status;
};

static void raw_connect_cb(struct raft_uv_connect *req, struct uv_stream_s *stream, int status)
{
	struct connect_rec *r = req->data;

	if (stream)
		uv_close((uv_handle_t *)stream, (uv_close_cb)raft_free);
	r->done = true;
	r->status = status;
}

static void raw_closed(struct raft_uv_transport *t)
{
	*(bool *)t->data = true;
}

TEST(unknown_member_refused)
{
	struct rt_params p = {
		.self_id = 9, .n_members = 2, .cluster_id = CLUSTER_ID, .key = good_key,
	};
	struct vcd_cons_stats before, after;
	struct raft_uv_transport *t;
	struct raft_uv_connect req;
	struct connect_rec rec = { 0 };
	bool closed = false, ok;

	/* A stranger that knows the key but is not a configured member. */
	p.members[0].id = 9;
	snprintf(p.members[0].addr, RT_ADDR_LEN, "127.0.0.1:%u", base_port + 9);
	p.members[1].id = leader_id;
	snprintf(p.members[1].addr, RT_ADDR_LEN, "127.0.0.1:%u", base_port + (unsigned)leader_id - 1);
	vcd_cons_get_stats(nodes[leader_id - 1].c, &before);
	CHECK_EQ(rt_new(loop, &p, &t), 0);
	CHECK_EQ(t->init(t, 9, p.members[0].addr), 0);
	req.data = &rec;
	CHECK_EQ(t->connect(t, &req, leader_id, p.members[1].addr, raw_connect_cb), 0);
	WAIT_UNTIL(ok, rec.done, 3000);
	CHECK(ok);
	CHECK(rec.status != 0);
	vcd_cons_get_stats(nodes[leader_id - 1].c, &after);
	CHECK_EQ(after.unknown_peer, before.unknown_peer + 1);
	CHECK_EQ(after.conn_accepted, before.conn_accepted);
	t->data = &closed;
	t->close(t, raw_closed);
	WAIT_UNTIL(ok, closed, 1000);
	CHECK(ok);
	rt_free(t);
	return true;
}

/* A configured member without the key (insecure) fails the challenge. */
TEST(keyless_member_refused)
{
	struct rt_params p = {
		.self_id = 4, .n_members = 2, .cluster_id = CLUSTER_ID, .insecure = true,
	};
	struct vcd_cons_stats before, after;
	struct raft_uv_transport *t;
	struct raft_uv_connect req;
	struct connect_rec rec = { 0 };
	bool closed = false, ok;

	p.members[0].id = 4;
	snprintf(p.members[0].addr, RT_ADDR_LEN, "127.0.0.1:%u", base_port + 3);
	p.members[1].id = leader_id;
	snprintf(p.members[1].addr, RT_ADDR_LEN, "127.0.0.1:%u", base_port + (unsigned)leader_id - 1);
	vcd_cons_get_stats(nodes[leader_id - 1].c, &before);
	CHECK_EQ(rt_new(loop, &p, &t), 0);
	CHECK_EQ(t->init(t, 4, p.members[0].addr), 0);
	req.data = &rec;
	CHECK_EQ(t->connect(t, &req, leader_id, p.members[1].addr, raw_connect_cb), 0);
	WAIT_UNTIL(ok, rec.done, 3000);
	CHECK(ok);
	CHECK_EQ(rec.status, RAFT_NOCONNECTION);
	vcd_cons_get_stats(nodes[leader_id - 1].c, &after);
	CHECK_EQ(after.auth_failed, before.auth_failed + 1);
	CHECK_EQ(after.conn_accepted, before.conn_accepted);
	t->data = &closed;
	t->close(t, raw_closed);
	WAIT_UNTIL(ok, closed, 1000);
	CHECK(ok);
	rt_free(t);
	return true;
}

TEST(parse_addr)
{
	struct sockaddr_storage sa;

	CHECK_EQ(rt_parse_addr("198.18.0.1:5421", &sa), 0);
	CHECK_EQ(sa.ss_family, AF_INET);
	CHECK_EQ(rt_parse_addr("[fd00::1]:5421", &sa), 0);
	CHECK_EQ(sa.ss_family, AF_INET6);
	CHECK_EQ(rt_parse_addr("[::1]:1", &sa), 0);
	CHECK_EQ(rt_parse_addr("fd00::1:5421", &sa), -EINVAL);
	CHECK_EQ(rt_parse_addr("198.18.0.1", &sa), -EINVAL);
	CHECK_EQ(rt_parse_addr("198.18.0.1:0", &sa), -EINVAL);
	CHECK_EQ(rt_parse_addr("198.18.0.1:65536", &sa), -EINVAL);
	CHECK_EQ(rt_parse_addr("host.example:5421", &sa), -EINVAL);
	CHECK_EQ(rt_parse_addr("[fd00::1]5421", &sa), -EINVAL);
	return true;
}

/* Created, never started, closed: nothing leaks, nothing is left open. */
TEST(close_unstarted)
{
	static const struct vcd_cons_fsm fsm = {
		.apply = fsm_apply, .snapshot = fsm_snapshot, .restore = fsm_restore,
	};
	struct vcd_cons_params p;
	struct node tmp = { .id = 1 };
	struct vcd_cons *c;
	bool done = false, ok;

	snprintf(tmp.dir, sizeof(tmp.dir), "%s/unstarted", base_dir);
	fill_params(&p, &tmp);
	CHECK_EQ(vcd_cons_new(loop, &p, &fsm, NULL, &c), 0);
	CHECK(!vcd_cons_has_state(c));
	CHECK(!vcd_cons_is_leader(c));
	CHECK(!vcd_cons_in_touch(c, LEASE_MS));
	CHECK_EQ(vcd_cons_submit(c, "x", 1, NULL, NULL), -ECANCELED);
	CHECK_STR(vcd_cons_state_name(c), "unavailable");
	vcd_cons_close(c, on_closed, &done);
	WAIT_UNTIL(ok, done, 2000);
	CHECK(ok);
	vcd_cons_free(c);
	/* Invalid parameters are refused before anything is made. */
	p.election_timeout_ms = p.heartbeat_ms;
	CHECK_EQ(vcd_cons_new(loop, &p, &fsm, NULL, &c), -EINVAL);
	return true;
}

TEST(transfer_hands_over)
{
	uint64_t target = leader_id % 3 + 1, t0;
	struct node *f = &nodes[target - 1];
	struct done_rec rec = { 0 };
	bool ok;

	CHECK_EQ(vcd_cons_transfer(f->c, leader_id, on_done, &rec), -EPERM);
	t0 = now_ms();
	CHECK_EQ(vcd_cons_transfer(nodes[leader_id - 1].c, target, on_done, &rec), 0);
	WAIT_UNTIL(ok, rec.n == 1 && agreed_leader() == target, 3000);
	CHECK(ok);
	CHECK_EQ(rec.status, 0);
	printf("# transfer %" PRIu64 " -> %" PRIu64 ": %" PRIu64 " ms\n", leader_id, target,
	       now_ms() - t0);
	leader_id = target;
	CHECK(submit_many(leader_id, "t", 3));
	total_count += 3;
	WAIT_UNTIL(ok, voters_converged(total_count), 3000);
	CHECK(ok);
	return true;
}

/*
 * Only with VCD_TEST_MEASURE=1: the leader dies and nobody calls
 * vcd_cons_leader_dead(); how long raft takes on its own (pre-vote on).
 */
TEST(measure_raft_failover)
{
	uint64_t old = leader_id, t0, dt;
	struct node *l = &nodes[old - 1];
	bool ok;

	if (!getenv("VCD_TEST_MEASURE")) {
		printf("# skipped: set VCD_TEST_MEASURE=1\n");
		return true;
	}
	CHECK(node_kill(l));
	t0 = now_ms();
	WAIT_UNTIL(ok, agreed_leader() != 0 && agreed_leader() != old, 10 * ELECTION_MS);
	dt = now_ms() - t0;
	CHECK(ok);
	leader_id = agreed_leader();
	printf("# raft alone: leader %" PRIu64 " dead -> leader %" PRIu64 " in %" PRIu64 " ms\n",
	       old, leader_id, dt);
	CHECK_EQ(node_start(l), 0);
	WAIT_UNTIL(ok, voters_converged(total_count) && agreed_leader() == leader_id, 5000);
	CHECK(ok);
	return true;
}

struct fwd_rec {
	bool done;
	int status;
	char json[256];
};

static void on_forward(void *arg, int status, const char *json, size_t len)
{
	struct fwd_rec *r = arg;

	r->done = true;
	r->status = status;
	snprintf(r->json, sizeof(r->json), "%.*s", (int)len, json ? json : "");
}

TEST(forward_reaches_leader)
{
	struct node *l = &nodes[leader_id - 1];
	struct node *f = &nodes[leader_id % 3];
	struct fwd_rec r = { 0 }, self = { 0 }, slow = { 0 };
	struct vcd_cons_stats st;
	char want[128];
	bool ok;

	CHECK_EQ(vcd_cons_forward(f->c, "{\"op\":1}", 8, 2000, on_forward, &r), 0);
	CHECK(!r.done);
	WAIT_UNTIL(ok, r.done, 3000);
	CHECK(ok);
	CHECK_EQ(r.status, 0);
	snprintf(want, sizeof(want), "{\"from\":%" PRIu64 ",\"echo\":{\"op\":1}}", f->id);
	CHECK_STR(r.json, want);
	CHECK_EQ(l->rpc_from, f->id);
	vcd_cons_get_stats(l->c, &st);
	CHECK(st.rpc_served >= 1);

	/* On the leader itself, its own handler answers, later. */
	CHECK_EQ(vcd_cons_forward(l->c, "{}", 2, 2000, on_forward, &self), 0);
	CHECK(!self.done);
	WAIT_UNTIL(ok, self.done, 1000);
	CHECK(ok);
	CHECK_EQ(self.status, 0);

	/* A leader that does not answer in time: the caller times out. */
	l->rpc_hold = true;
	CHECK_EQ(vcd_cons_forward(f->c, "{\"op\":2}", 8, 300, on_forward, &slow), 0);
	WAIT_UNTIL(ok, slow.done, 2000);
	CHECK(ok);
	CHECK_EQ(slow.status, -ETIMEDOUT);
	l->rpc_hold = false;
	/* The late answer goes nowhere and frees what it must. */
	WAIT_UNTIL(ok, l->held_reply != NULL, 1000);
	CHECK(ok);
	l->held_reply(l->held_ctx, "{}", 2);
	l->held_reply = NULL;
	return true;
}

TEST(standby_replicates_without_voting)
{
	struct node *s = &nodes[3];
	uint64_t dead1 = leader_id, dead2 = leader_id % 3 + 1, t0;
	struct node *v = NULL;
	bool ok, s_campaigned = false, v_campaigned = false, any_leader = false;

	CHECK_EQ(node_start(s), 0);
	WAIT_UNTIL(ok, s->count == total_count && s->hash == nodes[0].hash, 5000);
	CHECK(ok);
	CHECK_EQ(agreed_leader(), leader_id);
	WAIT_UNTIL(ok, vcd_cons_in_touch(s->c, LEASE_MS), 1000);
	CHECK(ok);

	/* Two voters gone: the third may campaign but cannot win, and the
	 * standby neither campaigns nor lends it a vote. */
	for (size_t i = 0; i < 3; i++)
		if (nodes[i].id != dead1 && nodes[i].id != dead2)
			v = &nodes[i];
	CHECK(node_kill(&nodes[dead1 - 1]));
	CHECK(node_kill(&nodes[dead2 - 1]));
	t0 = now_ms();
	while (now_ms() - t0 < 5 * ELECTION_MS / 2) {
		uv_run(loop, UV_RUN_ONCE);
		s_campaigned |= strcmp(vcd_cons_state_name(s->c), "candidate") == 0;
		v_campaigned |= strcmp(vcd_cons_state_name(v->c), "candidate") == 0;
		any_leader |= vcd_cons_is_leader(s->c) || vcd_cons_is_leader(v->c);
	}
	CHECK(v_campaigned);
	CHECK(!s_campaigned);
	CHECK(!any_leader);
	CHECK(!vcd_cons_in_touch(s->c, LEASE_MS));
	CHECK(!vcd_cons_in_touch(v->c, LEASE_MS));
	return true;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static bool setup(void)
{
	const char *tmp = getenv("TMPDIR");

	vcd_log_init("test-cons", false, getenv("VCD_TEST_DEBUG") ? LOG_DEBUG : LOG_ERR);
	snprintf(base_dir, sizeof(base_dir), "%s/test-cons.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base_dir))
		return false;
	/* Ports per process, so that parallel runs do not collide, and below
	 * the ephemeral range (32768-), where an outgoing connection to a
	 * member that is down could take the port (or connect to itself). */
	base_port = 10000 + (unsigned)getpid() % 2000 * 10;
	for (size_t i = 0; i < N_NODES; i++) {
		nodes[i].id = i + 1;
		snprintf(nodes[i].dir, sizeof(nodes[i].dir), "%s/n%zu", base_dir, i + 1);
	}
	loop = uv_default_loop();
	uv_timer_init(loop, &ticker);
	/* Keeps uv_run(UV_RUN_ONCE) returning often enough for WAIT_UNTIL. */
	uv_timer_start(&ticker, ticker_cb, 5, 5);
	return true;
}

TEST(teardown)
{
	bool ok = true;

	for (size_t i = 0; i < N_NODES; i++)
		ok &= node_kill(&nodes[i]);
	uv_close((uv_handle_t *)&ticker, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	CHECK(ok);
	CHECK_EQ(uv_loop_close(loop), 0);
	CHECK_EQ(nftw(base_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
	return true;
}

TEST(setup)
{
	CHECK(setup());
	return true;
}

static const struct vc_test tests[] = {
	T(setup),
	T(parse_addr),
	T(close_unstarted),
	T(elect_one_leader),
	T(submit_applies_in_order_everywhere),
	T(restarted_member_catches_up_from_snapshot),
	T(leader_dead_elects_quickly),
	T(lease_holds_while_electing),
	T(leader_dead_is_a_noop_for_others),
	T(wrong_key_member_cannot_join),
	T(unknown_member_refused),
	T(keyless_member_refused),
	T(forward_reaches_leader),
	T(transfer_hands_over),
	T(measure_raft_failover),
	T(standby_replicates_without_voting),
	T(teardown),
	{ 0 },
};

#include "tap-main.h"
