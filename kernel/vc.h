/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vcluster: internal definitions shared by the files of vcluster.ko.
 *
 * Locking
 * -------
 * Each network namespace holds one struct vc_inst (pernet storage).
 *
 * - inst->cfg_mutex serialises every configuration change and START/STOP
 *   (they may sleep: socket creation and release, hrtimer_cancel()).
 * - inst->lock (spin_lock_bh) protects everything the heartbeat timer and
 *   the receive path touch: the running flag, the settings, the peer table,
 *   every peer and every counter.  Helpers that need it say so with
 *   lockdep_assert_held().
 * - The receive path finds its instance through the socket's sk_user_data,
 *   an RCU pointer that udp_tunnel_sock_release() clears and waits for
 *   (so STOP can free the struct vc_sock at once).  Peers are only used
 *   under inst->lock; PEER_DEL still frees them with kfree_rcu().
 *
 * Timers: one hrtimer per running instance (inst->timer, soft, absolute
 * expiry on CLOCK_BOOTTIME).  Each tick, in this order (hb.c):
 *   1. the quorum deadline: armed and past "quorate until" -> fence;
 *   2. the agent watchdog: pre-timeout event, then fence (fence.c);
 *   3. the kill bound of a fence in progress -> escalate to a restart;
 *   4. age the peers (peer.c);
 *   5. count votes, extend "quorate until" while quorate (quorum.c);
 *   6. send one heartbeat per (peer, shared link), unless fenced.
 * Steps 1 and 2 come before any fresh vote is counted, so a host that was
 * frozen past its deadline fences instead of rejoining.
 *
 * A fence decided under inst->lock (timer, receive path, STOP) only sets
 * inst->fence_pending for panic and reboot; the caller acts on it with
 * vc_fence_act() once the lock is dropped and the events are sent.
 *
 * While armed the module holds a reference on itself (rmmod is refused).
 */
#ifndef _VC_VC_H
#define _VC_VC_H

#include <linux/hrtimer.h>
#include <linux/in6.h>
#include <linux/mutex.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/time64.h>
#include <linux/types.h>
#include <net/genetlink.h>
#include <net/ipv6.h>
#include <linux/vcluster.h>

/* Ranges of the tunables, shared by module parameters and netlink. */
#define VC_INTERVAL_MS_DEFAULT	10
#define VC_INTERVAL_MS_MIN	1
#define VC_INTERVAL_MS_MAX	60000
#define VC_MISSES_DEFAULT	3
#define VC_MISSES_MIN		2
#define VC_MISSES_MAX		1000
#define VC_FENCE_MARGIN_MS_DEFAULT 100
#define VC_FENCE_MARGIN_MS_MAX	60000
#define VC_WATCHDOG_MS_MIN	10	/* agent and quorum timeouts, 0: off */
#define VC_WATCHDOG_MS_MAX	600000
#define VC_KILL_BOUND_MS_DEFAULT 1000
#define VC_KILL_BOUND_MS_MIN	10
#define VC_KILL_BOUND_MS_MAX	60000
#define VC_MAX_PROCS		1024
#define VC_MAX_KEYS		2

struct vc_addr {
	sa_family_t family;		/* AF_INET, AF_INET6; 0: not set */
	union {
		__be32 v4;
		struct in6_addr v6;
	};
};

/* One kernel UDP socket, bound to a local link's address and our port. */
struct vc_sock {
	struct socket *sock;
	struct vc_inst *inst;
	u8 link_id;
};

struct vc_peer_link {
	struct vc_addr addr;		/* family 0: peer has no such link */
	u16 port;			/* 0: the instance's port */
	u8 state;			/* enum vc_link_state */
	u8 seq_valid;			/* last_seq is from the current life */
	u64 last_seq;
	u64 last_heard_ns;
	u64 srtt_ns;
	u64 echo_time_ns;		/* its tx_time_ns last received here */
	u64 echo_rx_ns;			/* when we received that */
	u64 tx_packets;
	u64 rx_packets;
	u64 lost;
	u64 malformed;
	u64 tx_errors;
	u64 bad_mac;
};

/* What a peer's latest accepted heartbeat advertised about its fencing. */
struct vc_peer_adv {
	u8 fence_action;		/* enum vc_fence_action; NONE: unarmed */
	u16 flags;			/* VC_WIRE_F_* */
	u32 interval_ms;
	u32 dead_ms;
	u32 quorum_timeout_ms;
	u32 kill_bound_ms;
};

struct vc_peer {
	struct rcu_head rcu;
	u32 node_id;
	u32 votes;
	u8 state;			/* enum vc_peer_state */
	u16 payload_len;
	u64 incarnation;		/* its current life; 0: never heard */
	u64 last_heard_ns;
	u64 state_since_ns;
	u64 rx_refused;
	struct vc_peer_adv adv;
	u8 payload[VC_MAX_PAYLOAD];
	struct vc_peer_link links[VC_MAX_LINKS];
};

/* A process the "kill" action kills; id orders PROC_GET dumps. */
struct vc_proc {
	struct pid *pid;
	u64 id;
};

/* A MAC key; id 0: slot empty.  The value is never reported. */
struct vc_key {
	u8 id;
	u8 primary;
	u8 key[VC_KEY_LEN];
};

/* The fencing watchdog's settings, as FENCE_ARM gives them. */
struct vc_fence_cfg {
	u8 action;			/* enum vc_fence_action */
	u8 nowayout;
	u32 agent_timeout_ms;		/* 0: agent watchdog off */
	u32 quorum_timeout_ms;		/* 0: quorum watchdog off */
	u32 kill_bound_ms;
	u32 pretimeout_ms;		/* 0: no pre-timeout event */
};

struct vc_inst {
	struct net *net;
	struct mutex cfg_mutex;		/* settings, START, STOP, peers */
	struct hrtimer timer;
	/* Written under cfg_mutex while the timer is stopped. */
	struct vc_sock *socks[VC_MAX_LINKS];

	spinlock_t lock;		/* everything below */
	u8 running;
	u32 cluster_id;
	u32 node_id;
	u32 votes;
	u16 port;
	u16 payload_len;
	u64 incarnation;		/* current life, or the last started */
	u64 next_incarnation;		/* from NODE_SET for the next START */
	u32 interval_ms;
	u32 misses;
	u64 seq;
	u8 payload[VC_MAX_PAYLOAD];
	struct vc_addr links[VC_MAX_LINKS];
	u32 n_peers;
	struct vc_peer *peers[VC_MAX_PEERS];	/* sorted by node_id */
	u64 rx_malformed;
	u64 rx_foreign;
	u64 rx_unknown;
	u64 rx_refused;
	u64 tx_errors;
	u64 rx_bad_mac;

	/* Quorum (quorum.c). */
	u32 expected_votes;		/* odd; 0: no quorum configured */
	u32 votes_seen;
	u8 quorate;
	u64 quorum_seen_ns;		/* last tick that found quorum */

	/* Fencing watchdog (fence.c). */
	u8 armed;
	u8 fenced;			/* fired, action != log: no heartbeats */
	u8 fired;			/* log: BIT(reason) per open episode */
	u8 pretimeout_sent;
	u8 kill_pending;		/* kill sent, not all gone yet */
	int fence_pending;		/* PANIC/REBOOT for vc_fence_act() */
	struct vc_fence_cfg fence;
	u32 fence_margin_ms;
	u32 fence_reason;		/* of the latest firing */
	u64 last_pet_ns;
	u64 fenced_at_ns;
	u64 fence_count;
	u64 kill_deadline_ns;

	/* Processes the kill action kills, in registration order. */
	struct vc_proc *procs;		/* VC_MAX_PROCS, allocated on use */
	u32 n_procs;
	u64 proc_next_id;

	/* Authentication (auth.c). */
	u8 insecure;			/* START allowed without a key */
	struct vc_key keys[VC_MAX_KEYS];
};

/*
 * Every timeout derives from interval_ms and misses here, and only here.
 * The caller holds inst->lock (or owns a stopped instance).
 */
static inline u32 vc_dead_ms(const struct vc_inst *inst)
{
	return inst->interval_ms * inst->misses;
}

static inline u64 vc_interval_ns(const struct vc_inst *inst)
{
	return (u64)inst->interval_ms * NSEC_PER_MSEC;
}

static inline u64 vc_dead_ns(const struct vc_inst *inst)
{
	return (u64)vc_dead_ms(inst) * NSEC_PER_MSEC;
}

/* A peer UP but silent for more than 1.5 intervals is SUSPECT. */
static inline u64 vc_suspect_ns(const struct vc_inst *inst)
{
	return vc_interval_ns(inst) * 3 / 2;
}

/*
 * The quorum deadline: quorum was last confirmed at quorum_seen_ns (or
 * the watchdog was armed then); past this the quorum watchdog fires.
 */
static inline u32 vc_quorum_timeout_ms(const struct vc_inst *inst)
{
	return inst->armed ? inst->fence.quorum_timeout_ms : 0;
}

static inline u64 vc_quorate_until_ns(const struct vc_inst *inst)
{
	return inst->quorum_seen_ns +
	       (u64)vc_quorum_timeout_ms(inst) * NSEC_PER_MSEC;
}

/* The agent watchdog fires past this, and warns pretimeout_ms before. */
static inline u64 vc_agent_deadline_ns(const struct vc_inst *inst)
{
	return inst->last_pet_ns +
	       (u64)inst->fence.agent_timeout_ms * NSEC_PER_MSEC;
}

static inline u64 vc_pretimeout_ns(const struct vc_inst *inst)
{
	return vc_agent_deadline_ns(inst) -
	       (u64)inst->fence.pretimeout_ms * NSEC_PER_MSEC;
}

/*
 * Rule 8, the fence window of a silent peer on our own clock: after
 * last_heard + its dead time + its quorum timeout + its kill bound + two
 * of its intervals + our margin it has certainly fenced itself.  The two
 * intervals are its tick granularity: it notices the silence at the first
 * tick past its dead time and the passed quorum deadline at the first
 * tick after that.  0 when it advertised no quorum deadline (unarmed, or
 * armed without a quorum timeout).
 */
static inline u64 vc_fenced_by_ns(const struct vc_inst *inst,
				  const struct vc_peer *peer)
{
	const struct vc_peer_adv *adv = &peer->adv;
	u64 window_ms;

	if (adv->fence_action == VC_FENCE_ACTION_NONE ||
	    !adv->quorum_timeout_ms)
		return 0;
	window_ms = (u64)adv->dead_ms + adv->quorum_timeout_ms +
		    adv->kill_bound_ms + 2ULL * adv->interval_ms +
		    inst->fence_margin_ms;
	return peer->last_heard_ns + window_ms * NSEC_PER_MSEC;
}

static inline bool vc_fence_action_strong(u8 action)
{
	return action == VC_FENCE_ACTION_KILL ||
	       action == VC_FENCE_ACTION_PANIC ||
	       action == VC_FENCE_ACTION_REBOOT;
}

static inline bool vc_addr_equal(const struct vc_addr *a,
				 const struct vc_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->v4 == b->v4;
	return ipv6_addr_equal(&a->v6, &b->v6);
}

static inline bool vc_peer_alive(const struct vc_peer *peer)
{
	return peer->state == VC_PEER_STATE_JOINING ||
	       peer->state == VC_PEER_STATE_UP ||
	       peer->state == VC_PEER_STATE_SUSPECT;
}

/* Link settings as parsed from a VC_A_*_LINK nest. */
struct vc_link_cfg {
	struct vc_addr addr;		/* family 0: link not given */
	u16 port;
	const struct nlattr *nla;	/* the nest, for extack */
};

/* main.c */
struct vc_inst *vc_inst_of(struct net *net);
void vc_defaults(u32 *interval_ms, u32 *misses, u16 *port);
u32 vc_default_fence_margin_ms(void);

/* netlink.c */
extern struct genl_family vc_genl_family;
int vc_parse_links(struct genl_info *info, int attrtype, bool peer,
		   struct vc_link_cfg *links, struct netlink_ext_ack *extack);

/* event.c */
void vc_event_peer(struct vc_inst *inst, struct sk_buff_head *evq, u32 type,
		   const struct vc_peer *peer, int link_id, u32 reason,
		   u64 now_ns);
void vc_event_node(struct vc_inst *inst, struct sk_buff_head *evq, u32 type,
		   u64 now_ns);
void vc_event_quorum(struct vc_inst *inst, struct sk_buff_head *evq,
		     u32 type, u64 now_ns);
void vc_event_fence(struct vc_inst *inst, struct sk_buff_head *evq, u32 type,
		    u32 reason, u64 deadline_ns, u64 now_ns);
void vc_event_flush(struct vc_inst *inst, struct sk_buff_head *evq);

/* node.c */
void vc_node_init(struct vc_inst *inst, struct net *net);
void vc_node_destroy(struct vc_inst *inst);
int vc_node_set(struct vc_inst *inst, struct genl_info *info);
int vc_node_start(struct vc_inst *inst, struct genl_info *info);
int vc_node_stop(struct vc_inst *inst, struct genl_info *info);
int vc_node_fill(struct sk_buff *skb, struct vc_inst *inst, u32 portid,
		 u32 seq, int flags);

/* peer.c */
struct vc_peer *vc_peer_find(struct vc_inst *inst, u32 node_id);
int vc_peer_add(struct vc_inst *inst, struct genl_info *info);
int vc_peer_set(struct vc_inst *inst, struct genl_info *info);
int vc_peer_del(struct vc_inst *inst, struct genl_info *info);
int vc_peer_fill(struct sk_buff *skb, struct vc_inst *inst,
		 const struct vc_peer *peer, u32 portid, u32 seq, int flags);
void vc_peers_reset(struct vc_inst *inst, u64 now_ns);
void vc_peers_down(struct vc_inst *inst, struct sk_buff_head *evq,
		   u32 reason, u64 now_ns);
void vc_peers_age(struct vc_inst *inst, struct sk_buff_head *evq,
		  u64 now_ns);
void vc_peers_free(struct vc_inst *inst);
struct vc_peer_link *vc_peer_link_by_addr(struct vc_inst *inst, u8 link_id,
					  const struct vc_addr *addr);
void vc_peer_rx(struct vc_inst *inst, struct sk_buff_head *evq,
		struct vc_peer *peer, u8 link_id,
		const struct vc_wire_hdr *hdr, const u8 *members,
		const u8 *payload, u64 now_ns);

/* quorum.c */
int vc_quorum_check_expected(const struct vc_inst *inst,
			     const struct nlattr *nla,
			     struct netlink_ext_ack *extack);
void vc_quorum_update(struct vc_inst *inst, struct sk_buff_head *evq,
		      u64 now_ns);
void vc_quorum_reset(struct vc_inst *inst, struct sk_buff_head *evq,
		     u64 now_ns);

/* fence.c */
int vc_fence_arm(struct vc_inst *inst, struct genl_info *info);
int vc_fence_pet(struct vc_inst *inst, struct genl_info *info);
int vc_fence_disarm(struct vc_inst *inst, struct genl_info *info);
void vc_fence_fire(struct vc_inst *inst, struct sk_buff_head *evq,
		   u32 reason, u64 now_ns);
void vc_fence_check_quorum(struct vc_inst *inst, struct sk_buff_head *evq,
			   u64 now_ns);
void vc_fence_tick(struct vc_inst *inst, struct sk_buff_head *evq,
		   u64 now_ns);
void vc_fence_act(struct vc_inst *inst);
void vc_fence_leave(struct vc_inst *inst, u32 reason, bool notify);
bool vc_fence_clear(struct vc_inst *inst, struct sk_buff_head *evq,
		    u64 now_ns);
int vc_fence_put(struct sk_buff *skb, struct vc_inst *inst);
int vc_proc_add(struct vc_inst *inst, struct genl_info *info);
int vc_proc_del(struct vc_inst *inst, struct genl_info *info);
int vc_proc_dump(struct sk_buff *skb, struct netlink_callback *cb);
void vc_procs_free(struct vc_inst *inst);

/* auth.c */
int vc_key_set(struct vc_inst *inst, struct genl_info *info);
int vc_key_del(struct vc_inst *inst, struct genl_info *info);
bool vc_auth_have_key(const struct vc_inst *inst);
unsigned int vc_auth_tag_len(const struct vc_inst *inst);
void vc_auth_sign(struct vc_inst *inst, struct sk_buff *skb);
bool vc_auth_verify(struct vc_inst *inst, const struct vc_wire_hdr *hdr,
		    const u8 *data, unsigned int len);
int vc_auth_put(struct sk_buff *skb, struct vc_inst *inst);
void vc_keys_wipe(struct vc_inst *inst);

/* hb.c */
int vc_hb_open(struct vc_inst *inst, struct netlink_ext_ack *extack);
void vc_hb_close(struct vc_inst *inst);
void vc_hb_init(struct vc_inst *inst);
void vc_hb_start(struct vc_inst *inst);
void vc_hb_stop(struct vc_inst *inst);

#endif /* _VC_VC_H */
