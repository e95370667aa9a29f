// SPDX-License-Identifier: GPL-2.0
/*
 * vcluster: heartbeats on the wire.
 *
 * One kernel UDP socket per local link, bound to the link's address and
 * the instance's port, exists while the instance runs.  The heartbeat
 * hrtimer (soft, absolute expiry on CLOCK_BOOTTIME, so it does not drift)
 * runs the watchdog's checks, ages the peers, counts votes, then sends one
 * datagram per (peer, link both have) unless the instance is fenced.
 * Datagrams arrive through the socket's encap_rcv hook, in softirq.
 * Neither path sleeps: GFP_ATOMIC, route lookups, spin_lock_bh.
 */
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_sched.h>
#include <linux/slab.h>
#include <linux/udp.h>
#include <net/addrconf.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6_stubs.h>
#include <net/route.h>
#include <net/udp_tunnel.h>

#include "vc.h"

#define VC_HB_HEADROOM	(LL_MAX_HEADER + sizeof(struct ipv6hdr) + \
			 sizeof(struct udphdr))
#define VC_ENCAP_TYPE	1

static int vc_hb_rcv(struct sock *sk, struct sk_buff *skb);

static int vc_hb_sock_create(struct vc_inst *inst, const struct vc_addr *addr,
			     struct socket **sockp)
{
	struct udp_port_cfg cfg = {
		.local_udp_port = htons(inst->port),
	};

	if (addr->family == AF_INET) {
		cfg.family = AF_INET;
		cfg.local_ip.s_addr = addr->v4;
	} else {
#if IS_ENABLED(CONFIG_IPV6)
		cfg.family = AF_INET6;
		cfg.local_ip6 = addr->v6;
		cfg.ipv6_v6only = 1;
		cfg.use_udp6_tx_checksums = 1;
		cfg.use_udp6_rx_checksums = 1;
#else
		return -EAFNOSUPPORT;
#endif
	}
	return udp_sock_create(inst->net, &cfg, sockp);
}

/* START: one socket per local link.  Called with cfg_mutex, may sleep. */
int vc_hb_open(struct vc_inst *inst, struct netlink_ext_ack *extack)
{
	struct udp_tunnel_sock_cfg tcfg = {
		.encap_type = VC_ENCAP_TYPE,
		.encap_rcv = vc_hb_rcv,
	};
	struct socket *sock;
	struct vc_sock *vs;
	int err, l;

	lockdep_assert_held(&inst->cfg_mutex);

	for (l = 0; l < VC_MAX_LINKS; l++) {
		if (!inst->links[l].family)
			continue;
		vs = kzalloc(sizeof(*vs), GFP_KERNEL);
		if (!vs) {
			err = -ENOMEM;
			goto err;
		}
		err = vc_hb_sock_create(inst, &inst->links[l], &sock);
		if (err) {
			kfree(vs);
			NL_SET_ERR_MSG_MOD(extack,
					   "cannot bind a local link's address and port (address not configured here, or port in use)");
			goto err;
		}
		vs->sock = sock;
		vs->inst = inst;
		vs->link_id = l;
		tcfg.sk_user_data = vs;
		setup_udp_tunnel_sock(inst->net, sock, &tcfg);
		inst->socks[l] = vs;
	}
	return 0;
err:
	vc_hb_close(inst);
	return err;
}

/* STOP: the timer is stopped; release waits for receivers (RCU). */
void vc_hb_close(struct vc_inst *inst)
{
	struct vc_sock *vs;
	int l;

	lockdep_assert_held(&inst->cfg_mutex);

	for (l = 0; l < VC_MAX_LINKS; l++) {
		vs = inst->socks[l];
		if (!vs)
			continue;
		inst->socks[l] = NULL;
		udp_tunnel_sock_release(vs->sock);
		kfree(vs);
	}
}

static struct sk_buff *vc_hb_build(struct vc_inst *inst,
				   const struct vc_peer *peer, int link_id,
				   u64 now_ns)
{
	const struct vc_peer_link *pl = &peer->links[link_id];
	struct vc_wire_member *m;
	struct vc_wire_hdr *hdr;
	const struct vc_peer *p;
	struct sk_buff *skb;
	unsigned int len;
	u16 flags = 0;
	u64 held_us;
	u32 i;

	lockdep_assert_held(&inst->lock);

	len = sizeof(*hdr) + inst->n_peers * sizeof(*m) + inst->payload_len;
	skb = alloc_skb(VC_HB_HEADROOM + len + vc_auth_tag_len(inst),
			GFP_ATOMIC);
	if (!skb)
		return NULL;
	skb_reserve(skb, VC_HB_HEADROOM);
	skb->priority = TC_PRIO_CONTROL;
	hdr = skb_put_zero(skb, len);

	hdr->magic = cpu_to_be32(VC_WIRE_MAGIC);
	hdr->version = VC_WIRE_VERSION;
	hdr->type = VC_WIRE_TYPE_HEARTBEAT;
	hdr->link_id = link_id;
	hdr->auth = VC_WIRE_AUTH_NONE;
	hdr->hdr_len = cpu_to_be16(sizeof(*hdr));
	hdr->n_members = cpu_to_be16(inst->n_peers);
	hdr->payload_len = cpu_to_be16(inst->payload_len);
	hdr->cluster_id = cpu_to_be32(inst->cluster_id);
	hdr->node_id = cpu_to_be32(inst->node_id);
	hdr->dest_node_id = cpu_to_be32(peer->node_id);
	hdr->interval_ms = cpu_to_be32(inst->interval_ms);
	hdr->incarnation = cpu_to_be64(inst->incarnation);
	hdr->seq = cpu_to_be64(inst->seq);
	hdr->tx_time_ns = cpu_to_be64(now_ns);
	if (pl->echo_time_ns) {
		held_us = div_u64(now_ns - pl->echo_rx_ns, NSEC_PER_USEC);
		hdr->echo_time_ns = cpu_to_be64(pl->echo_time_ns);
		hdr->echo_held_us = cpu_to_be32(min_t(u64, held_us, U32_MAX));
	}
	hdr->dead_ms = cpu_to_be32(vc_dead_ms(inst));
	/* Rule 6: our fencing, so that peers can compute our window. */
	if (inst->armed) {
		flags |= VC_WIRE_F_ARMED;
		hdr->fence_action = inst->fence.action;
		hdr->quorum_timeout_ms = cpu_to_be32(inst->fence.quorum_timeout_ms);
		hdr->kill_bound_ms = cpu_to_be32(inst->fence.kill_bound_ms);
	}
	if (inst->quorate)
		flags |= VC_WIRE_F_QUORATE;
	hdr->flags = cpu_to_be16(flags);

	m = (struct vc_wire_member *)(hdr + 1);
	for (i = 0; i < inst->n_peers; i++, m++) {
		p = inst->peers[i];
		m->node_id = cpu_to_be32(p->node_id);
		m->state = p->state;
		m->incarnation = cpu_to_be64(p->incarnation);
	}
	memcpy(m, inst->payload, inst->payload_len);
	vc_auth_sign(inst, skb);
	return skb;
}

static int vc_hb_xmit4(struct vc_inst *inst, struct sock *sk,
		       struct sk_buff *skb, const struct vc_addr *src,
		       const struct vc_addr *dst, __be16 dport)
{
	__be16 sport = htons(inst->port);
	struct flowi4 fl4 = {
		.saddr = src->v4,
		.daddr = dst->v4,
		.flowi4_proto = IPPROTO_UDP,
		.fl4_sport = sport,
		.fl4_dport = dport,
	};
	struct rtable *rt;

	rt = ip_route_output_flow(inst->net, &fl4, sk);
	if (IS_ERR(rt)) {
		kfree_skb(skb);
		return PTR_ERR(rt);
	}
	udp_tunnel_xmit_skb(rt, sk, skb, fl4.saddr, fl4.daddr, 0,
			    ip4_dst_hoplimit(&rt->dst), 0, sport, dport,
			    false, false);
	return 0;
}

static int vc_hb_xmit6(struct vc_inst *inst, struct sock *sk,
		       struct sk_buff *skb, const struct vc_addr *src,
		       const struct vc_addr *dst, __be16 dport)
{
#if IS_ENABLED(CONFIG_IPV6)
	__be16 sport = htons(inst->port);
	struct flowi6 fl6 = {
		.saddr = src->v6,
		.daddr = dst->v6,
		.flowi6_proto = IPPROTO_UDP,
		.fl6_sport = sport,
		.fl6_dport = dport,
	};
	struct dst_entry *dst_e;

	dst_e = ipv6_stub->ipv6_dst_lookup_flow(inst->net, sk, &fl6, NULL);
	if (IS_ERR(dst_e)) {
		kfree_skb(skb);
		return PTR_ERR(dst_e);
	}
	udp_tunnel6_xmit_skb(dst_e, sk, skb, NULL, &fl6.saddr, &fl6.daddr, 0,
			     ip6_dst_hoplimit(dst_e), 0, sport, dport, false);
	return 0;
#else
	kfree_skb(skb);
	return -EAFNOSUPPORT;
#endif
}

static void vc_hb_send(struct vc_inst *inst, struct vc_peer *peer,
		       int link_id)
{
	struct vc_peer_link *pl = &peer->links[link_id];
	const struct vc_addr *src = &inst->links[link_id];
	struct sock *sk = inst->socks[link_id]->sock->sk;
	__be16 dport = htons(pl->port ?: inst->port);
	struct sk_buff *skb;
	int err = -ENOMEM;

	lockdep_assert_held(&inst->lock);

	skb = vc_hb_build(inst, peer, link_id, ktime_get_boottime_ns());
	if (skb) {
		if (src->family == AF_INET)
			err = vc_hb_xmit4(inst, sk, skb, src, &pl->addr, dport);
		else
			err = vc_hb_xmit6(inst, sk, skb, src, &pl->addr, dport);
	}
	if (err) {
		pl->tx_errors++;
		inst->tx_errors++;
		return;
	}
	pl->tx_packets++;
}

static enum hrtimer_restart vc_hb_timer(struct hrtimer *timer)
{
	struct vc_inst *inst = container_of(timer, struct vc_inst, timer);
	struct sk_buff_head evq;
	struct vc_peer *peer;
	u64 now;
	u32 i;
	int l;

	__skb_queue_head_init(&evq);
	spin_lock_bh(&inst->lock);
	if (!inst->running) {
		spin_unlock_bh(&inst->lock);
		return HRTIMER_NORESTART;
	}

	/* The order matters: see the top of vc.h. */
	now = ktime_get_boottime_ns();
	vc_fence_tick(inst, &evq, now);
	vc_peers_age(inst, &evq, now);
	vc_quorum_update(inst, &evq, now);

	if (!inst->fenced) {
		inst->seq++;
		for (i = 0; i < inst->n_peers; i++) {
			peer = inst->peers[i];
			for (l = 0; l < VC_MAX_LINKS; l++)
				if (inst->socks[l] &&
				    peer->links[l].addr.family)
					vc_hb_send(inst, peer, l);
		}
	}

	hrtimer_forward(timer, hrtimer_cb_get_time(timer),
			ms_to_ktime(inst->interval_ms));
	spin_unlock_bh(&inst->lock);

	vc_event_flush(inst, &evq);
	vc_fence_act(inst);
	return HRTIMER_RESTART;
}

void vc_hb_init(struct vc_inst *inst)
{
	hrtimer_init(&inst->timer, CLOCK_BOOTTIME, HRTIMER_MODE_ABS_SOFT);
	inst->timer.function = vc_hb_timer;
}

/* The first heartbeat goes out at once. */
void vc_hb_start(struct vc_inst *inst)
{
	hrtimer_start(&inst->timer, ktime_get_boottime(),
		      HRTIMER_MODE_ABS_SOFT);
}

void vc_hb_stop(struct vc_inst *inst)
{
	hrtimer_cancel(&inst->timer);
}

/* Checks that need no state: sizes, magic, version, lengths. */
static bool vc_hb_well_formed(const struct vc_wire_hdr *hdr, unsigned int len)
{
	unsigned int hdr_len, n_members, payload_len, mac_len;

	if (be32_to_cpu(hdr->magic) != VC_WIRE_MAGIC ||
	    hdr->version != VC_WIRE_VERSION ||
	    hdr->type != VC_WIRE_TYPE_HEARTBEAT)
		return false;
	if (hdr->auth == VC_WIRE_AUTH_NONE)
		mac_len = 0;
	else if (hdr->auth == VC_WIRE_AUTH_BLAKE2S)
		mac_len = VC_WIRE_MAC_LEN;
	else
		return false;
	hdr_len = be16_to_cpu(hdr->hdr_len);
	n_members = be16_to_cpu(hdr->n_members);
	payload_len = be16_to_cpu(hdr->payload_len);
	return hdr_len >= sizeof(*hdr) && n_members <= VC_MAX_PEERS &&
	       payload_len <= VC_MAX_PAYLOAD &&
	       hdr_len + n_members * sizeof(struct vc_wire_member) +
	       payload_len + mac_len == len;
}

static void vc_hb_rx_malformed(struct vc_inst *inst, u8 link_id,
			       const struct vc_addr *src)
{
	struct vc_peer_link *pl;

	lockdep_assert_held(&inst->lock);

	inst->rx_malformed++;
	pl = vc_peer_link_by_addr(inst, link_id, src);
	if (pl)
		pl->malformed++;
}

static void vc_hb_rx_bad_mac(struct vc_inst *inst, u8 link_id,
			     const struct vc_addr *src)
{
	struct vc_peer_link *pl;

	lockdep_assert_held(&inst->lock);

	inst->rx_bad_mac++;
	pl = vc_peer_link_by_addr(inst, link_id, src);
	if (pl)
		pl->bad_mac++;
}

static void vc_hb_rx(struct vc_inst *inst, struct sk_buff_head *evq,
		     u8 link_id, const struct vc_addr *src, const u8 *data,
		     unsigned int len)
{
	unsigned int hdr_len, n_members;
	struct vc_wire_hdr hdr;
	struct vc_peer *peer;
	u64 now;

	lockdep_assert_held(&inst->lock);

	/* A copy: the datagram need not be aligned. */
	if (len < sizeof(hdr)) {
		vc_hb_rx_malformed(inst, link_id, src);
		return;
	}
	memcpy(&hdr, data, sizeof(hdr));
	if (!vc_hb_well_formed(&hdr, len)) {
		vc_hb_rx_malformed(inst, link_id, src);
		return;
	}
	if (be32_to_cpu(hdr.cluster_id) != inst->cluster_id) {
		inst->rx_foreign++;
		return;
	}
	/* Nothing else in the datagram is trusted before this. */
	if (!vc_auth_verify(inst, &hdr, data, len)) {
		vc_hb_rx_bad_mac(inst, link_id, src);
		return;
	}
	peer = vc_peer_find(inst, be32_to_cpu(hdr.node_id));
	if (!peer) {
		inst->rx_unknown++;
		return;
	}
	if (be32_to_cpu(hdr.dest_node_id) != inst->node_id ||
	    hdr.link_id != link_id) {
		vc_hb_rx_malformed(inst, link_id, src);
		return;
	}
	if (!peer->links[link_id].addr.family) {
		/* We have this link, but it is not configured for the peer. */
		inst->rx_unknown++;
		return;
	}
	/* Past "quorate until", fence before this heartbeat counts. */
	now = ktime_get_boottime_ns();
	vc_fence_check_quorum(inst, evq, now);
	hdr_len = be16_to_cpu(hdr.hdr_len);
	n_members = be16_to_cpu(hdr.n_members);
	vc_peer_rx(inst, evq, peer, link_id, &hdr, data + hdr_len,
		   data + hdr_len + n_members * sizeof(struct vc_wire_member),
		   now);
}

/* encap_rcv: softirq, RCU read side; 0 means we consumed the skb. */
static int vc_hb_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct vc_addr src = { .family = sk->sk_family };
	struct sk_buff_head evq;
	unsigned int off, len;
	struct vc_inst *inst;
	struct vc_sock *vs;

	vs = rcu_dereference_sk_user_data(sk);
	if (!vs)
		goto drop;
	inst = vs->inst;

	if (src.family == AF_INET)
		src.v4 = ip_hdr(skb)->saddr;
	else
		src.v6 = ipv6_hdr(skb)->saddr;

	off = skb_transport_offset(skb) + sizeof(struct udphdr);
	len = skb->len > off ? skb->len - off : 0;
	if (!pskb_may_pull(skb, off + len))
		goto drop;

	__skb_queue_head_init(&evq);
	spin_lock_bh(&inst->lock);
	if (inst->running)
		vc_hb_rx(inst, &evq, vs->link_id, &src, skb->data + off, len);
	spin_unlock_bh(&inst->lock);
	vc_event_flush(inst, &evq);
	vc_fence_act(inst);

	consume_skb(skb);
	return 0;
drop:
	kfree_skb(skb);
	return 0;
}
