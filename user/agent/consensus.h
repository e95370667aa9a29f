/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Consensus for vclusterd, behind the agent's own interface so that the
 * engine can change.  Today: Debian's canonical raft 0.15 with its libuv
 * I/O (raft_uv) over an authenticated TCP transport (rtransport.c).
 *
 * - Members are configured (the config file's node and peers): voters hold
 *   raft votes, standby members replicate the log without voting.
 * - The raft leader is the designated controller (DC).
 * - Entries are opaque byte strings; the agent's state machine (state.c)
 *   gives them meaning through struct vcd_cons_fsm.
 * - A follower can forward a request to the leader over the same
 *   authenticated transport (vcd_cons_forward); the leader's agent answers
 *   it through struct vcd_cons_cb.rpc.
 *
 * Everything runs on the loop thread.  Functions return 0 or a negative
 * errno; nothing here decides cluster policy.
 */
#ifndef VCD_CONSENSUS_H
#define VCD_CONSENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include <linux/vcluster.h>

#define VCD_CONS_ADDR_LEN	64	/* "[fd00::1]:5421" */
#define VCD_CONS_MAX_MEMBERS	(VC_MAX_PEERS + 1)

enum vcd_cons_role {
	VCD_CONS_VOTER = 1,
	VCD_CONS_STANDBY,
};

struct vcd_cons_member {
	uint64_t id;			/* = node id */
	char addr[VCD_CONS_ADDR_LEN];	/* "198.18.0.1:5421", "[fd00::1]:5421" */
	enum vcd_cons_role role;
};

struct vcd_cons_params {
	uint64_t self_id;
	const char *data_dir;		/* raft log and snapshots; created 0700 */
	struct vcd_cons_member members[VCD_CONS_MAX_MEMBERS];	/* self included */
	size_t n_members;
	uint32_t election_timeout_ms;
	uint32_t heartbeat_ms;
	uint32_t cluster_id;
	const uint8_t *key;		/* VC_KEY_LEN bytes: connection challenge */
	bool insecure;			/* no key: connections unauthenticated */
	/* Entries between snapshots and entries kept behind one (0: raft's
	 * defaults, 1024 and 2048).  Tests set them low. */
	uint32_t snapshot_threshold;
	uint32_t snapshot_trailing;
};

/* The replicated state machine, owned by the agent. */
struct vcd_cons_fsm {
	void *ctx;
	/* Apply a committed entry; must be deterministic.  A negative errno is
	 * reported to the submitter, the entry stays applied as a no-op. */
	int (*apply)(void *ctx, const void *buf, size_t len, uint64_t index);
	/* Serialise the whole state into a malloc()ed buffer. */
	int (*snapshot)(void *ctx, void **ret_buf, size_t *ret_len);
	/* Replace the whole state. */
	int (*restore)(void *ctx, const void *buf, size_t len);
};

typedef void (*vcd_cons_rpc_reply_fn)(void *reply_ctx, const char *json, size_t len);

struct vcd_cons_cb {
	void *ctx;
	/* Leadership or term changed (also at start).  @leader_id 0: none known. */
	void (*leader_changed)(void *ctx, uint64_t leader_id, uint64_t term);
	/* A forwarded request arrived (we are, or were, the leader).  Call
	 * @reply exactly once, now or later, with the JSON answer. */
	void (*rpc)(void *ctx, uint64_t from_id, const char *json, size_t len,
		    vcd_cons_rpc_reply_fn reply, void *reply_ctx);
};

struct vcd_cons;

int vcd_cons_new(uv_loop_t *loop, const struct vcd_cons_params *p,
		 const struct vcd_cons_fsm *fsm, const struct vcd_cons_cb *cb,
		 struct vcd_cons **ret);

/* Whether the data directory already holds raft state. */
bool vcd_cons_has_state(const struct vcd_cons *c);

/* Write the initial configuration (all configured members) into an empty
 * data directory.  Identical on every voter, so all may do it.  -EEXIST
 * when there is state already.  Call before vcd_cons_start(). */
int vcd_cons_bootstrap(struct vcd_cons *c);

/*
 * Write a configuration of this member alone (a voter) into an empty data
 * directory: the operator's "cluster bootstrap" on one host.  That host
 * becomes leader by itself and adds the other configured members with
 * vcd_cons_add_member(); they join with empty data directories.  -EEXIST
 * with state already, -EINVAL when this member is not a voter.
 */
int vcd_cons_bootstrap_self(struct vcd_cons *c);

int vcd_cons_start(struct vcd_cons *c);



/*
 * Append @buf to the log (copied); @done runs once, with the value that
 * the fsm's apply returned on this member (0 or its negative errno), or
 * with one of these (also returned directly when known at once):
 *   -EPERM         not the leader (forward the request instead)
 *   -ECONNABORTED  leadership lost before the entry was known committed:
 *                  it may or may not be applied later
 *   -ECANCELED     consensus is shutting down
 *   -EBUSY         a leadership transfer is in progress
 *   -EMSGSIZE, -ENOMEM, -EIO, -ENOSPC, -EPROTO (anything else raft says)
 * vcd_cons_strerror() words these for people.
 */
typedef void (*vcd_cons_done_fn)(void *arg, int status);
int vcd_cons_submit(struct vcd_cons *c, const void *buf, size_t len,
		    vcd_cons_done_fn done, void *arg);

const char *vcd_cons_strerror(int err);

/* A configured member's role in raft's current configuration:
 * VCD_CONS_VOTER, VCD_CONS_STANDBY, 0 (added, role not yet assigned) or
 * -ENOENT (not in it). */
int vcd_cons_role(const struct vcd_cons *c, uint64_t id);

/*
 * Leader only: append a barrier entry now.  Its replication carries the
 * current commit index to the followers at once, instead of with the next
 * heartbeat: the DC does this after committing decisions other hosts act
 * on (placements).  -EPERM when not the leader.
 */
int vcd_cons_barrier(struct vcd_cons *c);

/*
 * Leader only: add configured member @id to raft's configuration and give
 * it its configured role (raft_add, then raft_assign).  raft takes one
 * change at a time: -EBUSY while another is running.  -EEXIST if it is in
 * already, -ENOENT if it is not configured.  @done (may be NULL) gets 0 or
 * a negative errno.
 */
int vcd_cons_add_member(struct vcd_cons *c, uint64_t id, vcd_cons_done_fn done, void *arg);

bool vcd_cons_is_leader(const struct vcd_cons *c);
uint64_t vcd_cons_leader(const struct vcd_cons *c);	/* 0: unknown */
uint64_t vcd_cons_term(const struct vcd_cons *c);
uint64_t vcd_cons_commit_index(const struct vcd_cons *c);
/* "leader", "follower", "candidate", "unavailable". */
const char *vcd_cons_state_name(const struct vcd_cons *c);

/*
 * Quorum lease: true while this member is in touch with a quorum.  The
 * leader: a majority of voters acknowledged it within the last
 * @lease_ms; a follower or standby: it heard from a leader within the
 * last @lease_ms.  The agent pets the watchdog only while this holds.
 */
bool vcd_cons_in_touch(const struct vcd_cons *c, uint32_t lease_ms);

/*
 * The leader @dead_id is known dead (the membership transport said DOWN):
 * start an election now instead of waiting for raft's election timeout.
 * A no-op unless we are a voting follower whose leader is @dead_id.
 * Survivors take turns so that their votes do not split: the voter with
 * the lowest id other than @dead_id campaigns at once, the next one
 * heartbeat_ms / 2 later, and so on, round after round (pre-vote only)
 * until a leader is known, the term moves, or an election timeout has
 * passed.  Measured on loopback (election timeout 1000 ms, heartbeat
 * 100 ms): a new leader 41-48 ms after the call, 144 ms when the first
 * vote request was lost on a stale connection.  Relies on raft 0.15
 * internals: see consensus.c and the pinning test in tests/test-cons.c.
 */
void vcd_cons_leader_dead(struct vcd_cons *c, uint64_t dead_id);

/* Hand leadership to @id (0: the most up-to-date voter).  Leader only
 * (-EPERM otherwise).  @done: 0 once we are no longer the leader, or
 * -ETIMEDOUT if raft gave up (after an election timeout) and we still are. */
int vcd_cons_transfer(struct vcd_cons *c, uint64_t id, vcd_cons_done_fn done, void *arg);

/*
 * Send @json to the current leader's agent; @reply runs exactly once,
 * never before this returns: status 0 with the leader's answer, or
 * NULL/0 and -ETIMEDOUT (@timeout_ms covers connecting, the key
 * challenge and the answer), -ECONNREFUSED, -ECONNRESET, -EACCES (key
 * challenge failed), -ECANCELED (closing).  Returns -ENOTCONN at once when
 * no leader is known.  On the leader itself the request goes to its own
 * cb->rpc.  A member without cb->rpc answers {"error":"no handler"}.
 * Requests and answers are at most 1 MiB.
 */
typedef void (*vcd_cons_forward_fn)(void *arg, int status, const char *json, size_t len);
int vcd_cons_forward(struct vcd_cons *c, const char *json, size_t len,
		     uint32_t timeout_ms, vcd_cons_forward_fn reply, void *arg);

/* Transport counters since vcd_cons_new(). */
struct vcd_cons_stats {
	uint64_t conn_accepted;		/* authenticated incoming connections */
	uint64_t conn_connected;	/* authenticated outgoing connections */
	uint64_t auth_failed;		/* a peer answered the key challenge wrongly */
	uint64_t unknown_peer;		/* a peer claimed an id that is not a member */
	uint64_t refused;		/* a peer refused us, or other protocol trouble */
	uint64_t timeouts;		/* handshakes or forwarded requests timed out */
	uint64_t rpc_served;		/* forwarded requests answered here */
};
void vcd_cons_get_stats(const struct vcd_cons *c, struct vcd_cons_stats *ret);

/* Stop raft (persisting what it must); @done runs when everything is
 * closed and the structure may be freed with vcd_cons_free(). */
void vcd_cons_close(struct vcd_cons *c, void (*done)(void *arg), void *arg);
void vcd_cons_free(struct vcd_cons *c);

#endif /* VCD_CONSENSUS_H */
