/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * rtransport: raft's TCP transport (a struct raft_uv_transport) with a
 * key challenge, plus a second channel on the same port for requests that
 * a follower forwards to the leader's agent.
 *
 * Every connection starts with this exchange (C connects, A accepts; all
 * integers big-endian):
 *
 *   C -> A  HELLO     "VCR1" ver chan flags 0 | cluster_id:32 |
 *                     from_id:64 | to_id:64 | nonce_c[16]          (44 bytes)
 *   A -> C  CHALLENGE "VCR1" status flags 0 0 | acceptor_id:64 |
 *                     nonce_a[16]                                  (32 bytes)
 *   C -> A  RESPONSE  mac_c[32]
 *   A -> C  CONFIRM   mac_a[32]
 *
 *   mac_X = BLAKE2s-256 keyed with the cluster key over
 *           label_X[16] | cluster_id:32 | chan:8 | nonce_c | nonce_a |
 *           from_id:64 | acceptor_id:64
 *
 * with label_C = "vcluster-raft-c" and label_A = "vcluster-raft-a" (NUL
 * padded), so neither side's answer can be replayed as the other's.  A
 * checks that from_id is a configured member (not itself) and that to_id
 * is its own id before it sends a challenge (status != 0 and close
 * otherwise); it reveals mac_a only to a peer whose mac_c was right.  C
 * checks that acceptor_id is the member it dialled and that mac_a is
 * right.  Fresh nonces on both sides make every answer single-use.
 * Without a key (insecure) the ids are still exchanged and checked; the
 * MACs are zero and ignored.
 *
 * After the exchange:
 *   chan 1 (raft): the stream is handed to raft_uv untouched; nothing past
 *     the handshake has been read (reads are sized exactly).
 *   chan 2 (rpc): one request | len:32 | JSON | from C, one reply the same
 *     way from A, then both close.
 *
 * A handshake that does not finish within the timeout is dropped.  A peer
 * that fails the challenge or claims an unknown id is logged at warning
 * once (until it succeeds again) and counted.
 *
 * Loop thread only.  Functions return 0 or a negative errno.
 */
#ifndef VCD_RTRANSPORT_H
#define VCD_RTRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <raft/uv.h>
#include <sys/socket.h>
#include <uv.h>

#define RT_ADDR_LEN		64
#define RT_MAX_MEMBERS		65
#define RT_KEY_LEN		32
#define RT_MAX_RPC_LEN		(1u << 20)	/* one forwarded request or reply */
#define RT_HANDSHAKE_MS		2000u

struct rt_member {
	uint64_t id;
	char addr[RT_ADDR_LEN];
};

struct rt_params {
	uint64_t self_id;
	struct rt_member members[RT_MAX_MEMBERS];	/* self included */
	size_t n_members;
	uint32_t cluster_id;
	const uint8_t *key;		/* RT_KEY_LEN bytes, copied; NULL if insecure */
	bool insecure;
	uint32_t handshake_timeout_ms;	/* 0: RT_HANDSHAKE_MS */
};

struct rt_stats {
	uint64_t accepted;		/* authenticated incoming connections */
	uint64_t connected;		/* authenticated outgoing connections */
	uint64_t auth_failed;		/* a peer answered the challenge wrongly */
	uint64_t unknown_peer;		/* a peer claimed an id not configured */
	uint64_t refused;		/* a peer refused us or closed mid-way */
	uint64_t timeouts;		/* handshakes or requests that timed out */
	uint64_t rpc_served;		/* forwarded requests answered */
};

/* The leader's side of a forwarded request; @reply exactly once. */
typedef void (*rt_reply_fn)(void *reply_ctx, const char *json, size_t len);
typedef void (*rt_rpc_fn)(void *ctx, uint64_t from_id, const char *json, size_t len,
			  rt_reply_fn reply, void *reply_ctx);
/* The caller's side: @status 0 and the reply, or a negative errno. */
typedef void (*rt_call_fn)(void *arg, int status, const char *json, size_t len);

/* A transport ready for raft_uv_init(); raft then calls init/listen/
 * connect/close through the vtable.  t->data belongs to raft_uv. */
int rt_new(uv_loop_t *loop, const struct rt_params *p, struct raft_uv_transport **ret);
/* After the close callback has run (or if listen was never called). */
void rt_free(struct raft_uv_transport *t);

void rt_set_rpc(struct raft_uv_transport *t, rt_rpc_fn fn, void *ctx);
void rt_get_stats(const struct raft_uv_transport *t, struct rt_stats *ret);

/* Send one request to member @id; @cb runs exactly once, never before
 * rt_call() returns.  -ENOENT: @id is not a member; -ESHUTDOWN: closing. */
int rt_call(struct raft_uv_transport *t, uint64_t id, const char *json, size_t len,
	    uint32_t timeout_ms, rt_call_fn cb, void *arg);

/* "198.18.0.1:5421", "[fd00::1]:5421" (numeric only) -> sockaddr. */
int rt_parse_addr(const char *s, struct sockaddr_storage *ret);

#endif /* VCD_RTRANSPORT_H */
