// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Consensus on canonical raft 0.15 (Debian's libraft) with raft_uv I/O over
 * rtransport.c.
 *
 * What this file relies on beyond raft's documented calls:
 *
 * - The raft_io vtable (public, raft.h): after raft_uv_init() we wrap
 *   io.start so that raft's tick and receive callbacks pass through us.
 *   The receive wrapper only looks at each message's type, term and
 *   sender before raft gets it; it is where the quorum lease learns of
 *   acknowledgements (leader) and of leader contact (follower).  The tick
 *   wrapper gives vcd_cons_leader_dead() a way to run raft's timer logic
 *   now instead of at the next heartbeat tick.  raft_init() sets
 *   io->data to the struct raft; we find ourselves with container_of.
 *
 * - Public struct raft fields, read: state (through raft_state()),
 *   current_term, configuration (members and roles), commit_index,
 *   follower_state.current_leader.id, {follower,candidate}_state.
 *   randomized_election_timeout, candidate_state.in_pre_vote.  Written,
 *   only by vcd_cons_leader_dead() and its retry timer:
 *   follower_state.current_leader.id and election_timer_start (see
 *   there).  tests/test-cons.c (leader_dead_elects_quickly) pins that.
 *
 * - raft_uv pads entry data to 8 bytes on the wire, so entries carry
 *   their own length (cons_entry_size()).
 *
 * - In the fsm's apply callback raft has not yet advanced last_applied,
 *   so the entry's index is raft_last_applied() + 1.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <raft.h>
#include <raft/uv.h>

#include "consensus.h"
#include "log.h"
#include "rtransport.h"

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

struct vcd_cons {
	uv_loop_t *loop;
	struct vcd_cons_params p;
	char *data_dir;
	struct vcd_cons_fsm fsm;
	struct vcd_cons_cb cb;

	struct raft raft;
	struct raft_io io;
	struct raft_fsm rfsm;
	struct raft_uv_transport *transport;
	bool raft_ready;		/* raft_init() done: raft_close() needed */
	bool started;
	bool closing;

	/* io.start wrapped: raft's own callbacks. */
	int (*io_start)(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
			raft_io_recv_cb recv);
	raft_io_tick_cb raft_tick;
	raft_io_recv_cb raft_recv;

	/* Leader tracking: checked after every loop iteration. */
	uv_check_t check;
	uv_timer_t campaign_timer;
	uint64_t campaign_until_ms;
	uint64_t campaign_term;
	int open_handles;
	bool reported;
	uint64_t reported_leader;
	uint64_t reported_term;
	unsigned short last_state;

	/* Quorum lease, loop time in ms.  Leader: last AppendEntries result of
	 * our term from each member (index as in p.members).  Follower: last
	 * AppendEntries or InstallSnapshot of a current term, and its sender. */
	uint64_t ack_ms[VCD_CONS_MAX_MEMBERS];
	/* Any raft message from each member, for the lease during elections. */
	uint64_t heard_ms[VCD_CONS_MAX_MEMBERS];
	uint64_t leader_contact_ms;
	uint64_t leader_contact_id;

	struct cons_local_rpc *local_rpcs;	/* our own forwards, not yet handed on */

	void (*close_done)(void *arg);
	void *close_arg;
};

struct cons_submit {
	struct raft_apply req;
	vcd_cons_done_fn done;
	void *arg;
};

struct cons_transfer {
	struct raft_transfer req;
	struct vcd_cons *c;
	vcd_cons_done_fn done;
	void *arg;
};

struct cons_local_rpc {
	uv_timer_t timer;
	struct cons_local_rpc *next;	/* in c->local_rpcs until it fires */
	struct vcd_cons *c;
	char *json;
	size_t len;
	vcd_cons_forward_fn reply;
	void *arg;
};

static int cons_errno(int raft_rv)
{
	switch (raft_rv) {
	case 0:
		return 0;
	case RAFT_NOTLEADER:
		return -EPERM;
	case RAFT_LEADERSHIPLOST:
		return -ECONNABORTED;
	case RAFT_SHUTDOWN:
	case RAFT_CANCELED:
		return -ECANCELED;
	case RAFT_BUSY:
		return -EBUSY;
	case RAFT_NOMEM:
		return -ENOMEM;
	case RAFT_TOOBIG:
		return -EMSGSIZE;
	case RAFT_IOERR:
	case RAFT_CORRUPT:
		return -EIO;
	case RAFT_NOSPACE:
		return -ENOSPC;
	case RAFT_BADID:
	case RAFT_NOTFOUND:
		return -ENOENT;
	case RAFT_NOCONNECTION:
		return -ENOTCONN;
	case RAFT_INVALID:
	case RAFT_BADROLE:
		return -EINVAL;
	case RAFT_CANTBOOTSTRAP:
		return -EEXIST;
	default:
		return -EPROTO;
	}
}

const char *vcd_cons_strerror(int err)
{
	switch (err) {
	case -EPERM:
		return "not the raft leader";
	case -ECONNABORTED:
		return "raft leadership lost; the entry may or may not be applied";
	case -ECANCELED:
		return "consensus is shutting down";
	case -EBUSY:
		return "a raft leadership transfer is in progress";
	case -ENOTCONN:
		return "no raft leader known";
	case -EACCES:
		return "the peer failed the cluster key challenge";
	default:
		return strerror(-err);
	}
}

static uint64_t cons_now_ms(const struct vcd_cons *c)
{
	return uv_now(c->loop);
}

static int cons_member_index(const struct vcd_cons *c, uint64_t id)
{
	for (size_t i = 0; i < c->p.n_members; i++)
		if (c->p.members[i].id == id)
			return (int)i;
	return -1;
}

/* Role in raft's current configuration (which may differ from ours). */
static int cons_raft_role(struct vcd_cons *c, uint64_t id)
{
	const struct raft_configuration *conf = &c->raft.configuration;

	for (unsigned i = 0; i < conf->n; i++)
		if (conf->servers[i].id == id)
			return conf->servers[i].role;
	return -1;
}

/* --- the fsm, adapted ---------------------------------------------------- */

/*
 * Entry framing.  raft_uv pads each entry's data to a multiple of 8 bytes
 * on the wire and hands the follower the padded length, so we carry the
 * true length ourselves: | version:32 LE = 1 | len:32 LE | data | pad |.
 */
#define CONS_ENTRY_HDR_LEN	8u
#define CONS_ENTRY_VERSION	1u

static size_t cons_entry_size(size_t len)
{
	return (CONS_ENTRY_HDR_LEN + len + 7) & ~(size_t)7;
}

static void cons_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint32_t cons_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int cons_fsm_apply(struct raft_fsm *rfsm, const struct raft_buffer *buf, void **result)
{
	struct vcd_cons *c = rfsm->data;
	uint64_t index = raft_last_applied(&c->raft) + 1;
	const uint8_t *p = buf->base;
	uint32_t len;
	int rv;

	if (buf->len < CONS_ENTRY_HDR_LEN || cons_get_le32(p) != CONS_ENTRY_VERSION ||
	    (len = cons_get_le32(p + 4)) > buf->len - CONS_ENTRY_HDR_LEN) {
		/* Not ours (a newer agent's?): apply it as a no-op, loudly. */
		vcd_err("raft: entry %llu has an unknown format: skipped",
			(unsigned long long)index);
		*result = (void *)(intptr_t)-EPROTO;
		return 0;
	}
	rv = c->fsm.apply(c->fsm.ctx, p + CONS_ENTRY_HDR_LEN, len, index);
	/* raft stalls on a failing apply; the fsm's verdict is the result. */
	*result = (void *)(intptr_t)rv;
	return 0;
}

static int cons_fsm_snapshot(struct raft_fsm *rfsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
	struct vcd_cons *c = rfsm->data;
	struct raft_buffer *b;
	void *data;
	size_t len;

	b = malloc(sizeof(*b));
	if (!b)
		return RAFT_NOMEM;
	if (c->fsm.snapshot(c->fsm.ctx, &data, &len)) {
		free(b);
		return RAFT_IOERR;
	}
	b->base = data;
	b->len = len;
	*bufs = b;
	*n_bufs = 1;
	return 0;
}

/* Version 2: raft leaves the snapshot buffers to us. */
static int cons_fsm_snapshot_finalize(struct raft_fsm *rfsm, struct raft_buffer *bufs[],
				      unsigned *n_bufs)
{
	(void)rfsm;
	for (unsigned i = 0; i < *n_bufs; i++)
		free((*bufs)[i].base);
	free(*bufs);
	*bufs = NULL;
	*n_bufs = 0;
	return 0;
}

static int cons_fsm_restore(struct raft_fsm *rfsm, struct raft_buffer *buf)
{
	struct vcd_cons *c = rfsm->data;
	int rv;

	rv = c->fsm.restore(c->fsm.ctx, buf->base, buf->len);
	if (rv)
		return RAFT_MALFORMED;	/* raft frees buf->base on failure */
	raft_free(buf->base);		/* ownership passed to us on success */
	return 0;
}

/* --- leader tracking and lease bookkeeping --------------------------------- */

static void cons_poll(struct vcd_cons *c)
{
	unsigned short state = (unsigned short)raft_state(&c->raft);
	const char *addr;
	raft_id leader = 0;
	uint64_t term = c->raft.current_term;

	if (!c->started || c->closing)
		return;
	raft_leader(&c->raft, &leader, &addr);
	if (state == RAFT_LEADER && c->last_state != RAFT_LEADER)
		memset(c->ack_ms, 0, sizeof(c->ack_ms));	/* acks of an old reign */
	c->last_state = state;
	if (c->reported && leader == c->reported_leader && term == c->reported_term)
		return;
	c->reported = true;
	c->reported_leader = leader;
	c->reported_term = term;
	vcd_info("raft: leader %llu, term %llu (we are %s)", (unsigned long long)leader,
		 (unsigned long long)term, vcd_cons_state_name(c));
	if (c->cb.leader_changed)
		c->cb.leader_changed(c->cb.ctx, leader, term);
}

static void cons_check_cb(uv_check_t *h)
{
	cons_poll(h->data);
}

static void cons_note_message(struct vcd_cons *c, const struct raft_message *m)
{
	uint64_t now = cons_now_ms(c);
	int i;

	i = cons_member_index(c, m->server_id);
	if (i >= 0)
		c->heard_ms[i] = now;
	switch (m->type) {
	case RAFT_IO_APPEND_ENTRIES:
		if (m->append_entries.term >= c->raft.current_term) {
			c->leader_contact_ms = now;
			c->leader_contact_id = m->server_id;
		}
		break;
	case RAFT_IO_INSTALL_SNAPSHOT:
		if (m->install_snapshot.term >= c->raft.current_term) {
			c->leader_contact_ms = now;
			c->leader_contact_id = m->server_id;
		}
		break;
	case RAFT_IO_APPEND_ENTRIES_RESULT:
		/* The member took us for the leader of our current term. */
		i = cons_member_index(c, m->server_id);
		if (i >= 0 && raft_state(&c->raft) == RAFT_LEADER &&
		    m->append_entries_result.term == c->raft.current_term)
			c->ack_ms[i] = now;
		break;
	default:
		break;
	}
}

static void cons_tick(struct raft_io *io)
{
	struct vcd_cons *c = container_of(io, struct vcd_cons, io);

	c->raft_tick(io);
}

static void cons_recv(struct raft_io *io, struct raft_message *m)
{
	struct vcd_cons *c = container_of(io, struct vcd_cons, io);

	cons_note_message(c, m);
	c->raft_recv(io, m);
}

static int cons_io_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
			 raft_io_recv_cb recv)
{
	struct vcd_cons *c = container_of(io, struct vcd_cons, io);

	c->raft_tick = tick;
	c->raft_recv = recv;
	return c->io_start(io, msecs, cons_tick, cons_recv);
}

/* --- forwarded requests ---------------------------------------------------- */

static void cons_rpc(void *ctx, uint64_t from_id, const char *json, size_t len,
		     rt_reply_fn reply, void *reply_ctx)
{
	struct vcd_cons *c = ctx;

	if (!c->cb.rpc) {
		static const char err[] = "{\"error\":\"no handler\"}";

		reply(reply_ctx, err, sizeof(err) - 1);
		return;
	}
	c->cb.rpc(c->cb.ctx, from_id, json, len, reply, reply_ctx);
}

/* --- life cycle -------------------------------------------------------------- */

static int cons_check_params(const struct vcd_cons_params *p, const struct vcd_cons_fsm *fsm)
{
	size_t voters = 0;
	bool self = false;

	if (!p->data_dir || !p->self_id || !p->n_members || p->n_members > VCD_CONS_MAX_MEMBERS)
		return -EINVAL;
	if (!fsm || !fsm->apply || !fsm->snapshot || !fsm->restore)
		return -EINVAL;
	if (!p->heartbeat_ms || p->election_timeout_ms <= p->heartbeat_ms)
		return -EINVAL;
	if (!p->insecure && !p->key)
		return -EINVAL;
	for (size_t i = 0; i < p->n_members; i++) {
		struct sockaddr_storage sa;

		if (!p->members[i].id || rt_parse_addr(p->members[i].addr, &sa))
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (p->members[j].id == p->members[i].id)
				return -EINVAL;
		voters += p->members[i].role == VCD_CONS_VOTER;
		self |= p->members[i].id == p->self_id;
	}
	return voters && self ? 0 : -EINVAL;
}

static int cons_make_transport(struct vcd_cons *c)
{
	struct rt_params rp = {
		.self_id = c->p.self_id,
		.n_members = c->p.n_members,
		.cluster_id = c->p.cluster_id,
		.key = c->p.key,
		.insecure = c->p.insecure,
	};
	int rv;

	for (size_t i = 0; i < c->p.n_members; i++) {
		rp.members[i].id = c->p.members[i].id;
		snprintf(rp.members[i].addr, sizeof(rp.members[i].addr), "%s",
			 c->p.members[i].addr);
	}
	rv = rt_new(c->loop, &rp, &c->transport);
	if (rv)
		return rv;
	rt_set_rpc(c->transport, cons_rpc, c);
	return 0;
}

static int cons_make_raft(struct vcd_cons *c)
{
	int self = cons_member_index(c, c->p.self_id);
	unsigned retry_ms;
	int rv;

	rv = raft_uv_init(&c->io, c->loop, c->data_dir, c->transport);
	if (rv) {
		vcd_err("raft: cannot use %s: %s", c->data_dir, c->io.errmsg);
		return cons_errno(rv);
	}
	/* Reconnect well within an election timeout, or a restarted member
	 * misses its leader's heartbeats, campaigns, and deposes it. */
	retry_ms = c->p.heartbeat_ms;
	raft_uv_set_connect_retry_delay(&c->io, retry_ms);
	c->io_start = c->io.start;
	c->io.start = cons_io_start;

	c->rfsm.version = 2;
	c->rfsm.data = c;
	c->rfsm.apply = cons_fsm_apply;
	c->rfsm.snapshot = cons_fsm_snapshot;
	c->rfsm.restore = cons_fsm_restore;
	c->rfsm.snapshot_finalize = cons_fsm_snapshot_finalize;
	rv = raft_init(&c->raft, &c->io, &c->rfsm, c->p.self_id, c->p.members[self].addr);
	if (rv) {
		vcd_err("raft: init: %s", raft_errmsg(&c->raft));
		raft_uv_close(&c->io);
		return cons_errno(rv);
	}
	c->raft.data = c;
	c->raft_ready = true;
	raft_set_election_timeout(&c->raft, c->p.election_timeout_ms);
	raft_set_heartbeat_timeout(&c->raft, c->p.heartbeat_ms);
	/* Pre-vote: a member that was cut off and comes back does not bump the
	 * term and depose a healthy leader; measured failover is no slower. */
	raft_set_pre_vote(&c->raft, true);
	if (c->p.snapshot_threshold)
		raft_set_snapshot_threshold(&c->raft, c->p.snapshot_threshold);
	if (c->p.snapshot_trailing)
		raft_set_snapshot_trailing(&c->raft, c->p.snapshot_trailing);
	return 0;
}

int vcd_cons_new(uv_loop_t *loop, const struct vcd_cons_params *p,
		 const struct vcd_cons_fsm *fsm, const struct vcd_cons_cb *cb,
		 struct vcd_cons **ret)
{
	struct vcd_cons *c;
	int rv;

	rv = cons_check_params(p, fsm);
	if (rv)
		return rv;
	if (mkdir(p->data_dir, 0700) && errno != EEXIST)
		return -errno;
	/* A peer that dies mid-write must not kill us. */
	signal(SIGPIPE, SIG_IGN);

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->p = *p;
	c->fsm = *fsm;
	if (cb)
		c->cb = *cb;
	c->data_dir = strdup(p->data_dir);
	c->p.data_dir = c->data_dir;
	if (!c->data_dir) {
		rv = -ENOMEM;
		goto err;
	}
	rv = cons_make_transport(c);
	if (rv)
		goto err;
	/* Past this the key lives in the transport only. */
	c->p.key = NULL;
	rv = cons_make_raft(c);
	if (rv)
		goto err;
	uv_check_init(loop, &c->check);
	c->check.data = c;
	uv_timer_init(loop, &c->campaign_timer);
	c->campaign_timer.data = c;
	c->open_handles = 2;
	*ret = c;
	return 0;
err:
	rt_free(c->transport);
	free(c->data_dir);
	free(c);
	return rv;
}

bool vcd_cons_has_state(const struct vcd_cons *c)
{
	/* raft_uv's metadata files (named in raft/uv.h) hold term and vote. */
	static const char *const names[] = { "metadata1", "metadata2" };
	char path[4096];

	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", c->data_dir, names[i]);
		if (access(path, F_OK) == 0)
			return true;
	}
	return false;
}

static int cons_cmp_member(const void *a, const void *b)
{
	const struct vcd_cons_member *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int vcd_cons_bootstrap(struct vcd_cons *c)
{
	struct vcd_cons_member sorted[VCD_CONS_MAX_MEMBERS];
	struct raft_configuration conf;
	int rv = 0;

	if (c->started)
		return -EBUSY;
	if (vcd_cons_has_state(c))
		return -EEXIST;
	/* Entry 1 must be byte-identical on every member: sort by id. */
	memcpy(sorted, c->p.members, c->p.n_members * sizeof(sorted[0]));
	qsort(sorted, c->p.n_members, sizeof(sorted[0]), cons_cmp_member);
	raft_configuration_init(&conf);
	for (size_t i = 0; i < c->p.n_members && !rv; i++)
		rv = raft_configuration_add(&conf, sorted[i].id, sorted[i].addr,
					    sorted[i].role == VCD_CONS_VOTER ? RAFT_VOTER :
					    RAFT_STANDBY);
	if (!rv)
		rv = raft_bootstrap(&c->raft, &conf);
	raft_configuration_close(&conf);
	if (rv) {
		vcd_err("raft: bootstrap in %s: %s", c->data_dir, raft_errmsg(&c->raft));
		return cons_errno(rv);
	}
	return 0;
}

int vcd_cons_bootstrap_self(struct vcd_cons *c)
{
	struct raft_configuration conf;
	int self = cons_member_index(c, c->p.self_id), rv;

	if (c->started)
		return -EBUSY;
	if (vcd_cons_has_state(c))
		return -EEXIST;
	if (self < 0 || c->p.members[self].role != VCD_CONS_VOTER)
		return -EINVAL;
	raft_configuration_init(&conf);
	rv = raft_configuration_add(&conf, c->p.self_id, c->p.members[self].addr, RAFT_VOTER);
	if (!rv)
		rv = raft_bootstrap(&c->raft, &conf);
	raft_configuration_close(&conf);
	if (rv) {
		vcd_err("raft: bootstrap in %s: %s", c->data_dir, raft_errmsg(&c->raft));
		return cons_errno(rv);
	}
	return 0;
}

int vcd_cons_role(const struct vcd_cons *c, uint64_t id)
{
	const struct raft_configuration *conf = &c->raft.configuration;

	for (unsigned i = 0; i < conf->n; i++) {
		if (conf->servers[i].id != id)
			continue;
		switch (conf->servers[i].role) {
		case RAFT_VOTER: return VCD_CONS_VOTER;
		case RAFT_STANDBY: return VCD_CONS_STANDBY;
		default: return 0;	/* spare: added, not yet assigned */
		}
	}
	return -ENOENT;
}

/* One membership change at a time: add (as a spare), then assign the role. */
struct cons_change {
	struct raft_change req;
	struct vcd_cons *c;
	struct vcd_cons_member m;
	bool assigned;
	vcd_cons_done_fn done;
	void *arg;
};

static void cons_change_cb(struct raft_change *req, int status);

/* The second step: give the added member its configured role. */
static int cons_assign(struct cons_change *ch)
{
	ch->assigned = true;
	return raft_assign(&ch->c->raft, &ch->req, ch->m.id,
			   ch->m.role == VCD_CONS_VOTER ? RAFT_VOTER : RAFT_STANDBY,
			   cons_change_cb);
}

static void cons_change_cb(struct raft_change *req, int status)
{
	struct cons_change *ch = req->data;
	struct vcd_cons *c = ch->c;

	if (status == 0 && !ch->assigned && !c->closing) {
		status = cons_assign(ch);
		if (status == 0)
			return;
	}
	if (status)
		vcd_warn("raft: adding member %llu (%s): %s", (unsigned long long)ch->m.id,
			 ch->m.addr, raft_strerror(status));
	else
		vcd_notice("raft: member %llu (%s) added as a %s", (unsigned long long)ch->m.id,
			   ch->m.addr, ch->m.role == VCD_CONS_VOTER ? "voter" : "standby");
	if (ch->done)
		ch->done(ch->arg, status ? cons_errno(status) : 0);
	free(ch);
}

int vcd_cons_add_member(struct vcd_cons *c, uint64_t id, vcd_cons_done_fn done, void *arg)
{
	int k = cons_member_index(c, id), role = vcd_cons_role(c, id), rv;
	struct cons_change *ch;

	if (!c->started || c->closing)
		return -ECANCELED;
	if (raft_state(&c->raft) != RAFT_LEADER)
		return -EPERM;
	if (k < 0)
		return -ENOENT;		/* not configured: never accepted */
	if (role > 0)
		return -EEXIST;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	ch->req.data = ch;
	ch->c = c;
	ch->m = c->p.members[k];
	ch->done = done;
	ch->arg = arg;
	if (role == 0)		/* a spare from an interrupted add: assign only */
		rv = cons_assign(ch);
	else
		rv = raft_add(&c->raft, &ch->req, id, ch->m.addr, cons_change_cb);
	if (rv) {
		free(ch);
		return cons_errno(rv);
	}
	return 0;
}

int vcd_cons_start(struct vcd_cons *c)
{
	int rv;

	if (c->started || c->closing)
		return -EBUSY;
	rv = raft_start(&c->raft);
	if (rv) {
		/* raft 0.15 leaves the reason in the I/O or transport message. */
		vcd_err("raft: start: %s%s%s", raft_errmsg(&c->raft), c->io.errmsg,
			c->transport->errmsg);
		return cons_errno(rv);
	}
	c->started = true;
	uv_check_start(&c->check, cons_check_cb);
	cons_poll(c);
	return 0;
}

/* --- requests ---------------------------------------------------------------- */

static void cons_apply_cb(struct raft_apply *req, int status, void *result)
{
	struct cons_submit *s = req->data;

	if (s->done)
		s->done(s->arg, status ? cons_errno(status) : (int)(intptr_t)result);
	free(s);
}

int vcd_cons_submit(struct vcd_cons *c, const void *buf, size_t len,
		    vcd_cons_done_fn done, void *arg)
{
	struct raft_buffer rb;
	struct cons_submit *s;
	int rv;

	if (!c->started || c->closing)
		return -ECANCELED;
	if (raft_state(&c->raft) != RAFT_LEADER)
		return -EPERM;
	if (len > UINT32_MAX - CONS_ENTRY_HDR_LEN - 8)
		return -EMSGSIZE;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	/* raft owns the entry's buffer from here on and raft_free()s it. */
	rb.len = cons_entry_size(len);
	rb.base = raft_calloc(1, rb.len);
	if (!rb.base) {
		free(s);
		return -ENOMEM;
	}
	cons_put_le32(rb.base, CONS_ENTRY_VERSION);
	cons_put_le32((uint8_t *)rb.base + 4, (uint32_t)len);
	memcpy((uint8_t *)rb.base + CONS_ENTRY_HDR_LEN, buf, len);
	s->req.data = s;
	s->done = done;
	s->arg = arg;
	rv = raft_apply(&c->raft, &s->req, &rb, 1, cons_apply_cb);
	if (rv) {
		raft_free(rb.base);
		free(s);
		return cons_errno(rv);
	}
	return 0;
}

static void cons_barrier_cb(struct raft_barrier *req, int status)
{
	(void)status;
	free(req);
}

int vcd_cons_barrier(struct vcd_cons *c)
{
	struct raft_barrier *req;
	int rv;

	if (!c->started || c->closing)
		return -ECANCELED;
	if (raft_state(&c->raft) != RAFT_LEADER)
		return -EPERM;
	req = calloc(1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	rv = raft_barrier(&c->raft, req, cons_barrier_cb);
	if (rv) {
		free(req);
		return cons_errno(rv);
	}
	return 0;
}

bool vcd_cons_is_leader(const struct vcd_cons *c)
{
	return c->started && raft_state((struct raft *)&c->raft) == RAFT_LEADER;
}

uint64_t vcd_cons_leader(const struct vcd_cons *c)
{
	raft_id id = 0;
	const char *addr;

	if (!c->started)
		return 0;
	raft_leader((struct raft *)&c->raft, &id, &addr);
	return id;
}

uint64_t vcd_cons_term(const struct vcd_cons *c)
{
	return c->raft.current_term;
}

uint64_t vcd_cons_commit_index(const struct vcd_cons *c)
{
	return c->raft.commit_index;
}

const char *vcd_cons_state_name(const struct vcd_cons *c)
{
	if (!c->started)
		return "unavailable";
	switch (raft_state((struct raft *)&c->raft)) {
	case RAFT_LEADER:
		return "leader";
	case RAFT_FOLLOWER:
		return "follower";
	case RAFT_CANDIDATE:
		return "candidate";
	default:
		return "unavailable";
	}
}

/*
 * Whether voters that, with us, are a majority of the voters sent us any
 * raft message (votes and pre-votes included) within @lease_ms.
 */
static bool cons_heard_majority(const struct vcd_cons *c, uint64_t now, uint32_t lease_ms)
{
	const struct raft_configuration *conf = &c->raft.configuration;
	unsigned voters = 0, fresh = 0;

	for (unsigned i = 0; i < conf->n; i++) {
		int k;

		if (conf->servers[i].role != RAFT_VOTER)
			continue;
		voters++;
		if (conf->servers[i].id == c->p.self_id) {
			fresh++;
			continue;
		}
		k = cons_member_index(c, conf->servers[i].id);
		if (k >= 0 && c->heard_ms[k] && now - c->heard_ms[k] <= lease_ms)
			fresh++;
	}
	return voters && fresh * 2 > voters;
}

/*
 * The lease.  Leader: itself plus every voter of raft's configuration whose
 * AppendEntries result for our term arrived within @lease_ms must be more
 * than half of the voters.  A result proves the member accepted us as the
 * leader of this term some time between our request and its arrival, so
 * the lease is measured from arrival: optimistic by at most one round trip.
 * Follower or standby: an AppendEntries (heartbeats included) or
 * InstallSnapshot of the current term from a leader arrived within
 * @lease_ms.
 *
 * While there is no leader (an election, or a follower whose leader died):
 * in touch while voters that make a majority with us keep sending raft
 * messages.  An election among connected voters can take a few election
 * timeouts when votes split; a host that still talks to a majority is not
 * cut off and must not fence itself meanwhile.  A host that hears a
 * majority but is not heard by it is caught by the membership's quorum
 * deadline (the symmetric rule makes it see them DOWN too).
 */
bool vcd_cons_in_touch(const struct vcd_cons *c, uint32_t lease_ms)
{
	struct vcd_cons *m = (struct vcd_cons *)c;
	uint64_t now = cons_now_ms(c);
	const struct raft_configuration *conf = &c->raft.configuration;
	unsigned voters = 0, fresh = 0;

	if (!c->started || c->closing)
		return false;
	switch (raft_state(&m->raft)) {
	case RAFT_LEADER:
		for (unsigned i = 0; i < conf->n; i++) {
			int k;

			if (conf->servers[i].role != RAFT_VOTER)
				continue;
			voters++;
			if (conf->servers[i].id == c->p.self_id) {
				fresh++;
				continue;
			}
			k = cons_member_index(c, conf->servers[i].id);
			if (k >= 0 && c->ack_ms[k] && now - c->ack_ms[k] <= lease_ms)
				fresh++;
		}
		/* Just elected, no AppendEntries result yet: the votes that
		 * elected it (any message, in fact) show the majority is there. */
		return fresh * 2 > voters || cons_heard_majority(c, now, lease_ms);
	case RAFT_FOLLOWER:
	case RAFT_CANDIDATE:
		/* A candidate was a follower a moment ago: its last leader
		 * contact still counts until the lease runs out. */
		if (c->leader_contact_id && now - c->leader_contact_ms <= lease_ms)
			return true;
		return cons_raft_role(m, c->p.self_id) == RAFT_VOTER &&
		       cons_heard_majority(c, now, lease_ms);
	default:
		return false;
	}
}

/*
 * Run raft's election timer logic now, with the timer made to have
 * expired: a follower without a leader becomes a candidate, a candidate
 * still in its pre-vote round starts that round again (which changes no
 * term, so it cannot disrupt anyone).  Anything else is left alone.
 */
static bool cons_campaign(struct vcd_cons *c)
{
	struct raft *r = &c->raft;
	raft_time now = r->io->time(r->io);
	unsigned timeout;

	if (cons_raft_role(c, c->p.self_id) != RAFT_VOTER)
		return false;
	switch (raft_state(r)) {
	case RAFT_FOLLOWER:
		if (r->follower_state.current_leader.id != 0)
			return false;
		timeout = r->follower_state.randomized_election_timeout;
		break;
	case RAFT_CANDIDATE:
		if (!r->candidate_state.in_pre_vote)
			return false;
		timeout = r->candidate_state.randomized_election_timeout;
		break;
	default:
		return false;
	}
	/* tickFollower()/tickCandidate() act when now - election_timer_start
	 * >= randomized_election_timeout: make that true, then tick. */
	r->election_timer_start = now >= timeout ? now - timeout : 0;
	c->raft_tick(&c->io);
	return true;
}

static void cons_campaign_timer_cb(uv_timer_t *t)
{
	struct vcd_cons *c = t->data;

	/* A new term means a real election is under way: let it finish.  Past
	 * one election timeout raft's own timer has taken over anyway. */
	if (c->raft.current_term != c->campaign_term ||
	    cons_now_ms(c) >= c->campaign_until_ms || !cons_campaign(c))
		uv_timer_stop(t);
	cons_poll(c);
}

/*
 * Make a voting follower whose leader died campaign now.  libraft 0.15 has
 * no call for it, so this writes fields of the public struct raft, from
 * the loop thread, between raft's own callbacks:
 *
 * 1. follower_state.current_leader.id = 0: recvRequestVote() refuses any
 *    vote (pre-vote included) while a follower still has a leader; without
 *    this the survivors refuse each other until raft's own timer runs out.
 *    The leader's address string stays allocated; raft frees or replaces
 *    it when it converts or learns the next leader, as it always does.
 * 2. election_timer_start, moved back by {follower,candidate}_state.
 *    randomized_election_timeout (cons_campaign()), so that raft's tick,
 *    which we then call, starts an election (round).
 *
 * The survivors take turns in slots of heartbeat_ms / 2, by rank among
 * the remaining voters (lowest id first), so that their votes do not
 * split.  A member takes its turn again while no leader is known, the
 * term has not moved (only pre-vote rounds so far) and it is a follower
 * without leader or a candidate in pre-vote, for one election timeout:
 * raft_uv never reads its outgoing connections, so the first message to
 * a peer that restarted since we last wrote to it is lost with the old
 * connection, the second fails and makes raft reconnect, and raft does
 * not resend votes.
 */
void vcd_cons_leader_dead(struct vcd_cons *c, uint64_t dead_id)
{
	const struct raft_configuration *conf = &c->raft.configuration;
	unsigned rank = 0, survivors = 0;
	uint64_t slot_ms = c->p.heartbeat_ms / 2 ? c->p.heartbeat_ms / 2 : 1;

	if (!c->started || c->closing || !dead_id)
		return;
	if (raft_state(&c->raft) != RAFT_FOLLOWER || vcd_cons_leader(c) != dead_id ||
	    cons_raft_role(c, c->p.self_id) != RAFT_VOTER)
		return;
	for (unsigned i = 0; i < conf->n; i++) {
		if (conf->servers[i].role != RAFT_VOTER || conf->servers[i].id == dead_id)
			continue;
		survivors++;
		rank += conf->servers[i].id < c->p.self_id;
	}
	vcd_info("raft: leader %llu is dead; campaigning %s", (unsigned long long)dead_id,
		 rank ? "after the lower ids" : "now");
	c->raft.follower_state.current_leader.id = 0;
	c->campaign_until_ms = cons_now_ms(c) + c->p.election_timeout_ms;
	c->campaign_term = c->raft.current_term;
	/* Rank 0 takes its first turn now, the others rank slots later. */
	uv_timer_start(&c->campaign_timer, cons_campaign_timer_cb,
		       (rank ? rank : survivors) * slot_ms, survivors * slot_ms);
	if (rank == 0)
		cons_campaign(c);
	cons_poll(c);
}

static void cons_transfer_cb(struct raft_transfer *req)
{
	struct cons_transfer *t = req->data;
	struct vcd_cons *c = t->c;

	/* raft reports no status: we either are still the leader or not. */
	if (t->done)
		t->done(t->arg, raft_state(&c->raft) == RAFT_LEADER ? -ETIMEDOUT : 0);
	free(t);
}

int vcd_cons_transfer(struct vcd_cons *c, uint64_t id, vcd_cons_done_fn done, void *arg)
{
	struct cons_transfer *t;
	int rv;

	if (!c->started || c->closing)
		return -ECANCELED;
	if (raft_state(&c->raft) != RAFT_LEADER)
		return -EPERM;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->req.data = t;
	t->c = c;
	t->done = done;
	t->arg = arg;
	rv = raft_transfer(&c->raft, &t->req, id, cons_transfer_cb);
	if (rv) {
		free(t);
		return cons_errno(rv);
	}
	return 0;
}

/* --- forwarding ------------------------------------------------------------- */

static void cons_local_closed(uv_handle_t *h)
{
	struct cons_local_rpc *l = h->data;

	free(l->json);
	free(l);
}

static void cons_local_reply(void *reply_ctx, const char *json, size_t len)
{
	struct cons_local_rpc *l = reply_ctx;

	l->reply(l->arg, 0, json, len);
	uv_close((uv_handle_t *)&l->timer, cons_local_closed);
}

static void cons_local_unlink(struct cons_local_rpc *l)
{
	struct cons_local_rpc **pp = &l->c->local_rpcs;

	while (*pp != l)
		pp = &(*pp)->next;
	*pp = l->next;
}

static void cons_local_fire(uv_timer_t *t)
{
	struct cons_local_rpc *l = t->data;
	struct vcd_cons *c = l->c;

	/* From here on l outlives c if need be: the reply touches only l. */
	cons_local_unlink(l);
	cons_rpc(c, c->p.self_id, l->json, l->len, cons_local_reply, l);
}

static void cons_local_cancel_all(struct vcd_cons *c)
{
	while (c->local_rpcs) {
		struct cons_local_rpc *l = c->local_rpcs;

		c->local_rpcs = l->next;
		l->reply(l->arg, -ECANCELED, NULL, 0);
		uv_close((uv_handle_t *)&l->timer, cons_local_closed);
	}
}

/* We are the leader: hand the request to our own agent, from the loop. */
static int cons_forward_local(struct vcd_cons *c, const char *json, size_t len,
			      vcd_cons_forward_fn reply, void *arg)
{
	struct cons_local_rpc *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->json = malloc(len + 1);
	if (!l->json) {
		free(l);
		return -ENOMEM;
	}
	memcpy(l->json, json, len);
	l->json[len] = '\0';
	l->len = len;
	l->c = c;
	l->reply = reply;
	l->arg = arg;
	uv_timer_init(c->loop, &l->timer);
	l->timer.data = l;
	uv_timer_start(&l->timer, cons_local_fire, 0, 0);
	l->next = c->local_rpcs;
	c->local_rpcs = l;
	return 0;
}

int vcd_cons_forward(struct vcd_cons *c, const char *json, size_t len,
		     uint32_t timeout_ms, vcd_cons_forward_fn reply, void *arg)
{
	uint64_t leader = vcd_cons_leader(c);

	if (!c->started || c->closing)
		return -ECANCELED;
	if (!leader)
		return -ENOTCONN;
	if (leader == c->p.self_id)
		return cons_forward_local(c, json, len, reply, arg);
	return rt_call(c->transport, leader, json, len, timeout_ms, reply, arg);
}

void vcd_cons_get_stats(const struct vcd_cons *c, struct vcd_cons_stats *ret)
{
	struct rt_stats s;

	rt_get_stats(c->transport, &s);
	*ret = (struct vcd_cons_stats){
		.conn_accepted = s.accepted,
		.conn_connected = s.connected,
		.auth_failed = s.auth_failed,
		.unknown_peer = s.unknown_peer,
		.refused = s.refused,
		.timeouts = s.timeouts,
		.rpc_served = s.rpc_served,
	};
}

/* --- shutdown ---------------------------------------------------------------- */

static void cons_handle_closed(uv_handle_t *h)
{
	struct vcd_cons *c = h->data;

	if (--c->open_handles == 0 && c->close_done)
		c->close_done(c->close_arg);
}

static void cons_close_handles(struct vcd_cons *c)
{
	uv_close((uv_handle_t *)&c->check, cons_handle_closed);
	uv_close((uv_handle_t *)&c->campaign_timer, cons_handle_closed);
}

static void cons_raft_closed(struct raft *r)
{
	struct vcd_cons *c = r->data;

	/* raft closed raft_uv, which closed the transport. */
	raft_uv_close(&c->io);
	cons_close_handles(c);
}

void vcd_cons_close(struct vcd_cons *c, void (*done)(void *arg), void *arg)
{
	if (c->closing)
		return;
	c->closing = true;
	c->close_done = done;
	c->close_arg = arg;
	uv_timer_stop(&c->campaign_timer);
	cons_local_cancel_all(c);
	raft_close(&c->raft, cons_raft_closed);
}

void vcd_cons_free(struct vcd_cons *c)
{
	if (!c)
		return;
	rt_free(c->transport);
	free(c->data_dir);
	free(c);
}
