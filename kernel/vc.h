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
 * expiry on CLOCK_BOOTTIME): ages the peers, then sends one heartbeat per
 * (peer, shared link).  See hb.c.
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
	u8 payload[VC_MAX_PAYLOAD];
	struct vc_peer_link links[VC_MAX_LINKS];
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

/* hb.c */
int vc_hb_open(struct vc_inst *inst, struct netlink_ext_ack *extack);
void vc_hb_close(struct vc_inst *inst);
void vc_hb_init(struct vc_inst *inst);
void vc_hb_start(struct vc_inst *inst);
void vc_hb_stop(struct vc_inst *inst);

#endif /* _VC_VC_H */
