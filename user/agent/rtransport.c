// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The authenticated raft transport; the protocol is described in
 * rtransport.h.  One struct rt_conn per connection being set up (and per
 * forwarded request); a raft connection leaves this file once its
 * handshake is done, as a uv_tcp_t from raft_malloc() that raft_uv
 * closes and raft_free()s itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "blake2s.h"
#include "log.h"
#include "rtransport.h"

#define RT_MAGIC		"VCR1"
#define RT_VERSION		1
#define RT_NONCE_LEN		16
#define RT_MAC_LEN		VC_BLAKE2S_OUT_LEN
#define RT_HELLO_LEN		44
#define RT_CHALLENGE_LEN	32
#define RT_FLAG_INSECURE	0x01
#define RT_MAX_WARNED_UNKNOWN	8
#define RT_MAX_INCOMING		64	/* handshakes in progress, against floods */

enum rt_chan {
	RT_CHAN_RAFT = 1,
	RT_CHAN_RPC,
};

/* CHALLENGE status: why the acceptor refuses before any key is used. */
enum rt_refusal {
	RT_OK = 0,
	RT_REFUSE_VERSION,
	RT_REFUSE_CLUSTER,
	RT_REFUSE_NOT_ME,
	RT_REFUSE_UNKNOWN,
	RT_REFUSE_CHANNEL,
};

static const char *const refusal_names[] = {
	[RT_OK] = "ok",
	[RT_REFUSE_VERSION] = "protocol version",
	[RT_REFUSE_CLUSTER] = "other cluster id",
	[RT_REFUSE_NOT_ME] = "dialled the wrong node id",
	[RT_REFUSE_UNKNOWN] = "our id is not a member there",
	[RT_REFUSE_CHANNEL] = "unknown channel",
};

struct rt;

struct rt_conn {
	struct rt *rt;			/* NULL once the transport is gone */
	struct rt_conn *prev, *next;
	uv_tcp_t *tcp;			/* raft_malloc()ed; NULL once closed or handed over */
	uv_stream_t *handoff;		/* authenticated raft stream for raft */
	uv_timer_t timer;
	uv_connect_t creq;
	uv_write_t wreq;
	int open_handles;
	bool outgoing;
	bool closing;
	bool awaiting_reply;		/* rpc server: the agent holds us */
	uint8_t chan;
	int status;			/* 0 or a negative errno, for callbacks */
	int member;			/* index in rt->p.members, -1 unknown */
	uint64_t peer_id;
	char peer_name[RT_ADDR_LEN];
	uint8_t nonce_c[RT_NONCE_LEN];
	uint8_t nonce_a[RT_NONCE_LEN];
	uint8_t hs[64];			/* handshake message being read */
	uint8_t out[64];		/* handshake message being written */
	uint8_t len_be[4];
	uint8_t *rdst;
	size_t rwant, rgot;
	void (*on_read)(struct rt_conn *c);
	void (*on_written)(struct rt_conn *c);
	/* raft connect */
	struct raft_uv_connect *req;
	raft_uv_connect_cb connect_cb;
	/* rpc: the request (client side, to send), or what was read */
	char *msg;
	size_t msg_len;
	rt_call_fn call_cb;
	void *call_arg;
};

struct rt {
	struct raft_uv_transport vt;
	uv_loop_t *loop;
	struct rt_params p;
	uint8_t key[RT_KEY_LEN];
	int self;			/* index of self in p.members */
	uv_tcp_t listener;
	bool listening;
	uv_timer_t close_timer;
	bool close_timer_used;
	int open_handles;		/* listener, close_timer */
	bool closing;
	raft_uv_accept_cb accept_cb;
	raft_uv_transport_close_cb close_cb;
	rt_rpc_fn rpc_fn;
	void *rpc_ctx;
	struct rt_conn *conns;
	struct rt_stats stats;
	unsigned n_incoming;
	bool warned[RT_MAX_MEMBERS];
	bool warned_refusal;
	uint64_t warned_unknown[RT_MAX_WARNED_UNKNOWN];
	unsigned n_warned_unknown;
};

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

int rt_parse_addr(const char *s, struct sockaddr_storage *ret)
{
	char host[RT_ADDR_LEN];
	const char *colon, *end;
	char *endp;
	unsigned long port;
	bool v6 = s[0] == '[';
	size_t hlen;
	int rv;

	memset(ret, 0, sizeof(*ret));
	if (v6) {
		end = strchr(s, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		colon = end + 1;
		s++;
		hlen = (size_t)(end - s);
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			return -EINVAL;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &endp, 10);
	if (errno || *endp || endp == colon + 1 || port == 0 || port > 65535)
		return -EINVAL;
	if (v6)
		rv = uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ret);
	else
		rv = uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ret);
	return rv ? -EINVAL : 0;
}

static int rt_member_index(const struct rt *rt, uint64_t id)
{
	for (size_t i = 0; i < rt->p.n_members; i++)
		if (rt->p.members[i].id == id)
			return (int)i;
	return -1;
}

/* Warn once per member until it authenticates again; debug after that. */
static void rt_warn_member(struct rt *rt, int member, const char *what, const struct rt_conn *c)
{
	bool first = member < 0 || !rt->warned[member];

	vcd_log(first ? LOG_WARNING : LOG_DEBUG, "raft transport: %s %s (node %llu): %s",
		c->outgoing ? "connection to" : "connection from", c->peer_name,
		(unsigned long long)c->peer_id, what);
	if (member >= 0)
		rt->warned[member] = true;
}

static void rt_warn_unknown(struct rt *rt, const struct rt_conn *c, uint64_t id)
{
	bool first = true;

	for (unsigned i = 0; i < rt->n_warned_unknown; i++)
		if (rt->warned_unknown[i] == id)
			first = false;
	if (first)
		rt->warned_unknown[rt->n_warned_unknown++ % RT_MAX_WARNED_UNKNOWN] = id;
	vcd_log(first ? LOG_WARNING : LOG_DEBUG,
		"raft transport: connection from %s claims node id %llu, not a configured member: refused",
		c->peer_name, (unsigned long long)id);
}

static void rt_mac(const struct rt *rt, uint8_t out[RT_MAC_LEN], char side,
		   const struct rt_conn *c, uint64_t from_id, uint64_t acceptor_id)
{
	uint8_t m[16 + 4 + 1 + 2 * RT_NONCE_LEN + 8 + 8] = { 0 };
	uint8_t *p = m;

	if (rt->p.insecure) {
		memset(out, 0, RT_MAC_LEN);
		return;
	}
	snprintf((char *)p, 16, "vcluster-raft-%c", side);
	p += 16;
	put_be32(p, rt->p.cluster_id);
	p += 4;
	*p++ = c->chan;
	memcpy(p, c->nonce_c, RT_NONCE_LEN);
	p += RT_NONCE_LEN;
	memcpy(p, c->nonce_a, RT_NONCE_LEN);
	p += RT_NONCE_LEN;
	put_be64(p, from_id);
	put_be64(p + 8, acceptor_id);
	vc_blake2s(out, m, sizeof(m), rt->key, RT_KEY_LEN);
	vc_memzero_explicit(m, sizeof(m));
}

/* True if @mac is right (always, without a key). */
static bool rt_mac_ok(const struct rt *rt, const uint8_t *mac, char side,
		      const struct rt_conn *c, uint64_t from_id, uint64_t acceptor_id)
{
	uint8_t want[RT_MAC_LEN];
	bool ok;

	if (rt->p.insecure)
		return true;
	rt_mac(rt, want, side, c, from_id, acceptor_id);
	ok = !vc_memneq(want, mac, RT_MAC_LEN);
	vc_memzero_explicit(want, sizeof(want));
	return ok;
}

/* --- connection life cycle ----------------------------------------------- */

static void rt_maybe_closed(struct rt *rt)
{
	if (!rt->closing || rt->open_handles || rt->conns || !rt->close_cb)
		return;
	raft_uv_transport_close_cb cb = rt->close_cb;

	rt->close_cb = NULL;
	cb(&rt->vt);
}

static void conn_unlink(struct rt_conn *c)
{
	struct rt *rt = c->rt;

	if (!rt)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		rt->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	c->rt = NULL;
}

static void conn_free(struct rt_conn *c)
{
	free(c->msg);
	free(c);
}

/* All handles closed: tell whoever waits, then free. */
static void conn_finish(struct rt_conn *c)
{
	struct rt *rt = c->rt;
	uv_stream_t *stream = c->handoff;
	bool closing = !rt || rt->closing;

	if (rt && !c->outgoing)
		rt->n_incoming--;
	conn_unlink(c);
	if (c->connect_cb) {
		if (stream && closing) {
			uv_close((uv_handle_t *)stream, (uv_close_cb)raft_free);
			stream = NULL;
		}
		c->connect_cb(c->req, stream, stream ? 0 : closing ? RAFT_CANCELED : RAFT_NOCONNECTION);
	} else if (stream) {
		if (closing || !rt->accept_cb) {
			uv_close((uv_handle_t *)stream, (uv_close_cb)raft_free);
		} else {
			int m = c->member;

			rt->accept_cb(&rt->vt, c->peer_id, rt->p.members[m].addr, stream);
		}
	} else if (c->call_cb) {
		c->call_cb(c->call_arg, c->status, c->status ? NULL : c->msg,
			   c->status ? 0 : c->msg_len);
	}
	if (!c->awaiting_reply)
		conn_free(c);
	if (rt)
		rt_maybe_closed(rt);
}

static void conn_handle_closed(struct rt_conn *c)
{
	if (--c->open_handles == 0)
		conn_finish(c);
}

static void conn_tcp_closed(uv_handle_t *h)
{
	struct rt_conn *c = h->data;

	raft_free(h);
	conn_handle_closed(c);
}

static void conn_timer_closed(uv_handle_t *h)
{
	conn_handle_closed(h->data);
}

/* Stop: close what is open; conn_finish() reports @status (0 or -errno). */
static void conn_close(struct rt_conn *c, int status)
{
	if (c->closing)
		return;
	c->closing = true;
	c->status = status;
	uv_close((uv_handle_t *)&c->timer, conn_timer_closed);
	if (c->tcp) {
		uv_close((uv_handle_t *)c->tcp, conn_tcp_closed);
		c->tcp = NULL;
	}
}

/* Authenticated raft stream: pass it on untouched once our timer is closed. */
static void conn_hand_over(struct rt_conn *c)
{
	c->handoff = (uv_stream_t *)c->tcp;
	c->handoff->data = NULL;
	c->tcp = NULL;
	c->open_handles--;	/* the stream is no longer ours to close */
	conn_close(c, 0);
}

static void conn_timeout(uv_timer_t *t)
{
	struct rt_conn *c = t->data;

	if (c->rt) {
		c->rt->stats.timeouts++;
		vcd_debug("raft transport: %s %s (node %llu) timed out",
			  c->outgoing ? "connection to" : "connection from", c->peer_name,
			  (unsigned long long)c->peer_id);
	}
	conn_close(c, -ETIMEDOUT);
}

static struct rt_conn *conn_new(struct rt *rt, bool outgoing, uint8_t chan, uint32_t timeout_ms)
{
	struct rt_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->tcp = raft_malloc(sizeof(*c->tcp));
	if (!c->tcp) {
		free(c);
		return NULL;
	}
	c->rt = rt;
	c->outgoing = outgoing;
	c->chan = chan;
	c->member = -1;
	uv_tcp_init(rt->loop, c->tcp);
	c->tcp->data = c;
	uv_timer_init(rt->loop, &c->timer);
	c->timer.data = c;
	c->open_handles = 2;
	uv_timer_start(&c->timer, conn_timeout, timeout_ms, 0);
	c->next = rt->conns;
	if (rt->conns)
		rt->conns->prev = c;
	rt->conns = c;
	return c;
}

/* --- exact reads and writes ---------------------------------------------- */

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct rt_conn *c = h->data;

	(void)suggested;
	/* Never more than the message in hand: bytes behind it belong to raft. */
	buf->base = (char *)c->rdst + c->rgot;
	buf->len = c->rwant - c->rgot;
}

static void rt_client_confirm(struct rt_conn *c);

/* The peer closed (or reset) before the message in hand was complete. */
static void conn_read_failed(struct rt_conn *c, ssize_t nread)
{
	struct rt *rt = c->rt;

	if (c->outgoing && c->on_read == rt_client_confirm) {
		/* It saw our answer and hung up: it does not accept our key. */
		rt->stats.refused++;
		rt_warn_member(rt, c->member,
			       "the peer refused our answer to its challenge (different cluster key?)", c);
		conn_close(c, -EACCES);
		return;
	}
	vcd_debug("raft transport: %s %s: %s", c->outgoing ? "connection to" : "connection from",
		  c->peer_name, uv_strerror((int)nread));
	conn_close(c, -ECONNRESET);
}

static void conn_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct rt_conn *c = s->data;

	(void)buf;
	if (nread == 0 || c->closing)
		return;
	if (nread < 0) {
		uv_read_stop(s);
		conn_read_failed(c, nread);
		return;
	}
	c->rgot += (size_t)nread;
	if (c->rgot < c->rwant)
		return;
	uv_read_stop(s);
	c->on_read(c);
}

static int conn_read(struct rt_conn *c, void *dst, size_t len, void (*on_read)(struct rt_conn *c))
{
	c->rdst = dst;
	c->rwant = len;
	c->rgot = 0;
	c->on_read = on_read;
	return uv_read_start((uv_stream_t *)c->tcp, conn_alloc, conn_read_cb);
}

static void conn_write_cb(uv_write_t *req, int status)
{
	struct rt_conn *c = req->data;

	if (c->closing)
		return;
	if (status < 0) {
		conn_close(c, -ECONNRESET);
		return;
	}
	c->on_written(c);
}

static int conn_write(struct rt_conn *c, const uv_buf_t *bufs, unsigned n,
		      void (*on_written)(struct rt_conn *c))
{
	c->on_written = on_written;
	c->wreq.data = c;
	return uv_write(&c->wreq, (uv_stream_t *)c->tcp, bufs, n, conn_write_cb);
}

static int conn_write_out(struct rt_conn *c, size_t len, void (*on_written)(struct rt_conn *c))
{
	uv_buf_t b = uv_buf_init((char *)c->out, (unsigned)len);

	return conn_write(c, &b, 1, on_written);
}

/* A whole length-prefixed message (rpc request or reply). */
static int conn_write_msg(struct rt_conn *c, void (*on_written)(struct rt_conn *c))
{
	uv_buf_t b[2] = {
		uv_buf_init((char *)c->len_be, 4),
		uv_buf_init(c->msg, (unsigned)c->msg_len),
	};

	put_be32(c->len_be, (uint32_t)c->msg_len);
	return conn_write(c, b, c->msg_len ? 2 : 1, on_written);
}

/* Read "len:32 | bytes" into c->msg. */
static void conn_msg_body(struct rt_conn *c);

static void conn_msg_len(struct rt_conn *c)
{
	uint32_t len = get_be32(c->len_be);

	if (len > RT_MAX_RPC_LEN) {
		conn_close(c, -EMSGSIZE);
		return;
	}
	free(c->msg);
	c->msg = malloc(len + 1);
	if (!c->msg) {
		conn_close(c, -ENOMEM);
		return;
	}
	c->msg_len = len;
	c->msg[len] = '\0';
	if (len == 0) {
		conn_msg_body(c);
		return;
	}
	if (conn_read(c, c->msg, len, conn_msg_body))
		conn_close(c, -ECONNRESET);
}

/* Set by the side that reads a message: what to do with it. */
static void rt_client_got_reply(struct rt_conn *c);
static void rt_server_got_request(struct rt_conn *c);

static void conn_msg_body(struct rt_conn *c)
{
	if (c->outgoing)
		rt_client_got_reply(c);
	else
		rt_server_got_request(c);
}

static int conn_read_msg(struct rt_conn *c)
{
	return conn_read(c, c->len_be, 4, conn_msg_len);
}

/* --- connecting side ------------------------------------------------------ */

static void rt_client_got_reply(struct rt_conn *c)
{
	conn_close(c, 0);
}

static void rt_client_request_sent(struct rt_conn *c)
{
	if (conn_read_msg(c))
		conn_close(c, -ECONNRESET);
}

static void rt_client_confirm(struct rt_conn *c)
{
	struct rt *rt = c->rt;

	if (!rt_mac_ok(rt, c->hs, 'a', c, rt->p.self_id, c->peer_id)) {
		rt->stats.auth_failed++;
		rt_warn_member(rt, c->member, "peer failed the key challenge (different cluster key?)", c);
		conn_close(c, -EACCES);
		return;
	}
	rt->stats.connected++;
	if (rt->warned[c->member])
		vcd_notice("raft transport: connection to %s (node %llu) authenticated",
			   c->peer_name, (unsigned long long)c->peer_id);
	rt->warned[c->member] = false;
	if (c->chan == RT_CHAN_RAFT) {
		conn_hand_over(c);
		return;
	}
	if (conn_write_msg(c, rt_client_request_sent))
		conn_close(c, -ECONNRESET);
}

static void rt_client_response_sent(struct rt_conn *c)
{
	if (conn_read(c, c->hs, RT_MAC_LEN, rt_client_confirm))
		conn_close(c, -ECONNRESET);
}

static void rt_client_challenge(struct rt_conn *c)
{
	struct rt *rt = c->rt;
	const uint8_t *m = c->hs;

	if (memcmp(m, RT_MAGIC, 4) != 0) {
		rt->stats.refused++;
		rt_warn_member(rt, c->member, "not a vcluster raft endpoint", c);
		conn_close(c, -EPROTO);
		return;
	}
	if (m[4] != RT_OK) {
		char what[96];

		rt->stats.refused++;
		snprintf(what, sizeof(what), "refused by the peer: %s",
			 m[4] < sizeof(refusal_names) / sizeof(refusal_names[0]) ?
			 refusal_names[m[4]] : "unknown reason");
		rt_warn_member(rt, c->member, what, c);
		conn_close(c, -ECONNREFUSED);
		return;
	}
	if (get_be64(m + 8) != c->peer_id) {
		rt->stats.refused++;
		rt_warn_member(rt, c->member, "another node id answers at this address", c);
		conn_close(c, -EPROTO);
		return;
	}
	memcpy(c->nonce_a, m + 16, RT_NONCE_LEN);
	rt_mac(rt, c->out, 'c', c, rt->p.self_id, c->peer_id);
	if (conn_write_out(c, RT_MAC_LEN, rt_client_response_sent))
		conn_close(c, -ECONNRESET);
}

static void rt_client_hello_sent(struct rt_conn *c)
{
	if (conn_read(c, c->hs, RT_CHALLENGE_LEN, rt_client_challenge))
		conn_close(c, -ECONNRESET);
}

static void rt_client_connected(uv_connect_t *req, int status)
{
	struct rt_conn *c = req->data;
	struct rt *rt = c->rt;
	uint8_t *m = c->out;

	if (c->closing)
		return;
	if (status < 0) {
		vcd_debug("raft transport: connect to %s: %s", c->peer_name, uv_strerror(status));
		conn_close(c, -ECONNREFUSED);
		return;
	}
	if (getrandom(c->nonce_c, RT_NONCE_LEN, 0) != RT_NONCE_LEN) {
		conn_close(c, -EIO);
		return;
	}
	memcpy(m, RT_MAGIC, 4);
	m[4] = RT_VERSION;
	m[5] = c->chan;
	m[6] = rt->p.insecure ? RT_FLAG_INSECURE : 0;
	m[7] = 0;
	put_be32(m + 8, rt->p.cluster_id);
	put_be64(m + 12, rt->p.self_id);
	put_be64(m + 20, c->peer_id);
	memcpy(m + 28, c->nonce_c, RT_NONCE_LEN);
	if (conn_write_out(c, RT_HELLO_LEN, rt_client_hello_sent))
		conn_close(c, -ECONNRESET);
}

static struct rt_conn *rt_dial(struct rt *rt, int member, uint8_t chan, uint32_t timeout_ms,
			       int *ret)
{
	struct sockaddr_storage sa;
	struct rt_conn *c;
	int rv;

	rv = rt_parse_addr(rt->p.members[member].addr, &sa);
	if (rv) {
		*ret = rv;
		return NULL;
	}
	c = conn_new(rt, true, chan, timeout_ms);
	if (!c) {
		*ret = -ENOMEM;
		return NULL;
	}
	c->member = member;
	c->peer_id = rt->p.members[member].id;
	snprintf(c->peer_name, sizeof(c->peer_name), "%s", rt->p.members[member].addr);
	c->creq.data = c;
	rv = uv_tcp_connect(&c->creq, c->tcp, (struct sockaddr *)&sa, rt_client_connected);
	if (rv) {
		/* Report through the callbacks, as for a refused connection. */
		vcd_debug("raft transport: connect to %s: %s", c->peer_name, uv_strerror(rv));
		conn_close(c, -ECONNREFUSED);
	}
	*ret = 0;
	return c;
}

/* --- accepting side ------------------------------------------------------ */

static void rt_server_reply_sent(struct rt_conn *c)
{
	if (c->rt)
		c->rt->stats.rpc_served++;
	conn_close(c, 0);
}

static void rt_server_reply(void *reply_ctx, const char *json, size_t len)
{
	struct rt_conn *c = reply_ctx;
	char *copy;

	c->awaiting_reply = false;
	if (c->closing) {
		/* Closed meanwhile; free now if its handles are gone already. */
		if (c->open_handles == 0)
			conn_free(c);
		return;
	}
	if (len > RT_MAX_RPC_LEN)
		len = 0;
	copy = malloc(len + 1);
	if (!copy) {
		conn_close(c, -ENOMEM);
		return;
	}
	memcpy(copy, json, len);
	free(c->msg);
	c->msg = copy;
	c->msg_len = len;
	uv_timer_start(&c->timer, conn_timeout, c->rt->p.handshake_timeout_ms, 0);
	if (conn_write_msg(c, rt_server_reply_sent))
		conn_close(c, -ECONNRESET);
}

static void rt_server_got_request(struct rt_conn *c)
{
	struct rt *rt = c->rt;

	if (!rt->rpc_fn) {
		conn_close(c, -EOPNOTSUPP);
		return;
	}
	/* The agent may take its time; the caller has its own timeout. */
	uv_timer_stop(&c->timer);
	c->awaiting_reply = true;
	rt->rpc_fn(rt->rpc_ctx, c->peer_id, c->msg, c->msg_len, rt_server_reply, c);
}

static void rt_server_confirm_sent(struct rt_conn *c)
{
	struct rt *rt = c->rt;

	rt->stats.accepted++;
	if (rt->warned[c->member])
		vcd_notice("raft transport: connection from %s (node %llu) authenticated",
			   c->peer_name, (unsigned long long)c->peer_id);
	rt->warned[c->member] = false;
	if (c->chan == RT_CHAN_RAFT) {
		conn_hand_over(c);
		return;
	}
	if (conn_read_msg(c))
		conn_close(c, -ECONNRESET);
}

static void rt_server_response(struct rt_conn *c)
{
	struct rt *rt = c->rt;

	if (!rt_mac_ok(rt, c->hs, 'c', c, c->peer_id, rt->p.self_id)) {
		rt->stats.auth_failed++;
		rt_warn_member(rt, c->member,
			       "peer failed the key challenge (different cluster key?): refused", c);
		conn_close(c, -EACCES);
		return;
	}
	rt_mac(rt, c->out, 'a', c, c->peer_id, rt->p.self_id);
	if (conn_write_out(c, RT_MAC_LEN, rt_server_confirm_sent))
		conn_close(c, -ECONNRESET);
}

static void rt_server_challenge_sent(struct rt_conn *c)
{
	if (conn_read(c, c->hs, RT_MAC_LEN, rt_server_response))
		conn_close(c, -ECONNRESET);
}

static void rt_server_refusal_sent(struct rt_conn *c)
{
	conn_close(c, -ECONNREFUSED);
}

static enum rt_refusal rt_server_check_hello(struct rt *rt, struct rt_conn *c)
{
	const uint8_t *m = c->hs;
	uint64_t from_id = get_be64(m + 12);

	if (m[4] != RT_VERSION)
		return RT_REFUSE_VERSION;
	if (m[5] != RT_CHAN_RAFT && m[5] != RT_CHAN_RPC)
		return RT_REFUSE_CHANNEL;
	if (get_be32(m + 8) != rt->p.cluster_id)
		return RT_REFUSE_CLUSTER;
	if (get_be64(m + 20) != rt->p.self_id)
		return RT_REFUSE_NOT_ME;
	c->member = rt_member_index(rt, from_id);
	if (c->member < 0 || c->member == rt->self) {
		rt->stats.unknown_peer++;
		rt_warn_unknown(rt, c, from_id);
		c->member = -1;
		return RT_REFUSE_UNKNOWN;
	}
	c->peer_id = from_id;
	c->chan = m[5];
	return RT_OK;
}

static void rt_server_hello(struct rt_conn *c)
{
	struct rt *rt = c->rt;
	uint8_t *m = c->out;
	enum rt_refusal why;

	if (memcmp(c->hs, RT_MAGIC, 4) != 0) {
		vcd_debug("raft transport: connection from %s: not a vcluster peer", c->peer_name);
		conn_close(c, -EPROTO);
		return;
	}
	why = rt_server_check_hello(rt, c);
	if (why != RT_OK && why != RT_REFUSE_UNKNOWN) {
		rt->stats.refused++;
		vcd_log(rt->warned_refusal ? LOG_DEBUG : LOG_WARNING,
			"raft transport: connection from %s refused: %s", c->peer_name,
			refusal_names[why]);
		rt->warned_refusal = true;
	}
	memcpy(c->nonce_c, c->hs + 28, RT_NONCE_LEN);
	if (why == RT_OK && getrandom(c->nonce_a, RT_NONCE_LEN, 0) != RT_NONCE_LEN) {
		conn_close(c, -EIO);
		return;
	}
	memset(m, 0, RT_CHALLENGE_LEN);
	memcpy(m, RT_MAGIC, 4);
	m[4] = (uint8_t)why;
	m[5] = rt->p.insecure ? RT_FLAG_INSECURE : 0;
	put_be64(m + 8, rt->p.self_id);
	memcpy(m + 16, c->nonce_a, RT_NONCE_LEN);
	if (conn_write_out(c, RT_CHALLENGE_LEN,
			   why == RT_OK ? rt_server_challenge_sent : rt_server_refusal_sent))
		conn_close(c, -ECONNRESET);
}

static void rt_peer_name(uv_tcp_t *tcp, char *buf, size_t len)
{
	struct sockaddr_storage sa;
	int sa_len = sizeof(sa);
	char host[48] = "?";
	int port = 0;

	if (uv_tcp_getpeername(tcp, (struct sockaddr *)&sa, &sa_len) == 0) {
		if (sa.ss_family == AF_INET6) {
			uv_ip6_name((struct sockaddr_in6 *)&sa, host, sizeof(host));
			port = ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
			snprintf(buf, len, "[%s]:%d", host, port);
			return;
		}
		uv_ip4_name((struct sockaddr_in *)&sa, host, sizeof(host));
		port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
	}
	snprintf(buf, len, "%s:%d", host, port);
}

static void rt_on_connection(uv_stream_t *listener, int status)
{
	struct rt *rt = listener->data;
	struct rt_conn *c;

	if (status < 0 || rt->closing)
		return;
	c = conn_new(rt, false, 0, rt->p.handshake_timeout_ms);
	if (!c)
		return;
	rt->n_incoming++;
	if (uv_accept(listener, (uv_stream_t *)c->tcp)) {
		conn_close(c, -ECONNABORTED);
		return;
	}
	if (rt->n_incoming > RT_MAX_INCOMING) {
		rt->stats.refused++;
		vcd_debug("raft transport: too many handshakes in progress: dropped one");
		conn_close(c, -EAGAIN);
		return;
	}
	rt_peer_name(c->tcp, c->peer_name, sizeof(c->peer_name));
	if (conn_read(c, c->hs, RT_HELLO_LEN, rt_server_hello))
		conn_close(c, -ECONNRESET);
}

/* --- the raft_uv_transport vtable ----------------------------------------- */

static struct rt *rt_of(const struct raft_uv_transport *t)
{
	return t->impl;
}

static int rt_vt_init(struct raft_uv_transport *t, raft_id id, const char *address)
{
	struct rt *rt = rt_of(t);

	(void)address;
	if (id != rt->p.self_id) {
		snprintf(t->errmsg, sizeof(t->errmsg), "transport is for node %llu, not %llu",
			 (unsigned long long)rt->p.self_id, id);
		return RAFT_INVALID;
	}
	return 0;
}

static int rt_vt_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
	struct rt *rt = rt_of(t);
	const char *addr = rt->p.members[rt->self].addr;
	struct sockaddr_storage sa;
	int rv;

	rv = rt_parse_addr(addr, &sa);
	if (rv) {
		snprintf(t->errmsg, sizeof(t->errmsg), "bad address '%s'", addr);
		return RAFT_INVALID;
	}
	uv_tcp_init(rt->loop, &rt->listener);
	rt->listener.data = rt;
	rt->listening = true;
	rt->open_handles++;
	rv = uv_tcp_bind(&rt->listener, (struct sockaddr *)&sa, 0);
	if (!rv)
		rv = uv_listen((uv_stream_t *)&rt->listener, 16, rt_on_connection);
	if (rv) {
		snprintf(t->errmsg, sizeof(t->errmsg), "listen on %s: %s", addr, uv_strerror(rv));
		return RAFT_IOERR;
	}
	rt->accept_cb = cb;
	return 0;
}

static int rt_vt_connect(struct raft_uv_transport *t, struct raft_uv_connect *req,
			 raft_id id, const char *address, raft_uv_connect_cb cb)
{
	struct rt *rt = rt_of(t);
	int member = rt_member_index(rt, id);
	struct rt_conn *c;
	int rv;

	(void)address;	/* we dial the configured address of @id */
	if (member < 0 || member == rt->self) {
		snprintf(t->errmsg, sizeof(t->errmsg), "node %llu is not a member", id);
		return RAFT_NOCONNECTION;
	}
	c = rt_dial(rt, member, RT_CHAN_RAFT, rt->p.handshake_timeout_ms, &rv);
	if (!c)
		return rv == -ENOMEM ? RAFT_NOMEM : RAFT_NOCONNECTION;
	c->req = req;
	c->connect_cb = cb;
	return 0;
}

static void rt_listener_closed(uv_handle_t *h)
{
	struct rt *rt = h->data;

	rt->open_handles--;
	rt_maybe_closed(rt);
}

static void rt_close_timer_fired(uv_timer_t *timer)
{
	uv_close((uv_handle_t *)timer, rt_listener_closed);
}

static void rt_vt_close(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
	struct rt *rt = rt_of(t);
	struct rt_conn *c, *next;

	rt->closing = true;
	rt->close_cb = cb;
	rt->accept_cb = NULL;
	if (rt->listening) {
		rt->listening = false;
		uv_close((uv_handle_t *)&rt->listener, rt_listener_closed);
	}
	for (c = rt->conns; c; c = next) {
		next = c->next;
		conn_close(c, -ECANCELED);
	}
	/* The callback must come from the loop, never from inside close(). */
	rt->close_timer_used = true;
	rt->open_handles++;
	uv_timer_init(rt->loop, &rt->close_timer);
	rt->close_timer.data = rt;
	uv_timer_start(&rt->close_timer, rt_close_timer_fired, 0, 0);
}

/* --- public --------------------------------------------------------------- */

int rt_new(uv_loop_t *loop, const struct rt_params *p, struct raft_uv_transport **ret)
{
	struct rt *rt;

	if (p->n_members == 0 || p->n_members > RT_MAX_MEMBERS || (!p->insecure && !p->key))
		return -EINVAL;
	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	rt->loop = loop;
	rt->p = *p;
	rt->p.key = NULL;
	if (!rt->p.handshake_timeout_ms)
		rt->p.handshake_timeout_ms = RT_HANDSHAKE_MS;
	if (!p->insecure)
		memcpy(rt->key, p->key, RT_KEY_LEN);
	rt->self = rt_member_index(rt, p->self_id);
	if (rt->self < 0) {
		free(rt);
		return -EINVAL;
	}
	rt->vt.impl = rt;
	rt->vt.init = rt_vt_init;
	rt->vt.listen = rt_vt_listen;
	rt->vt.connect = rt_vt_connect;
	rt->vt.close = rt_vt_close;
	*ret = &rt->vt;
	return 0;
}

void rt_free(struct raft_uv_transport *t)
{
	struct rt *rt;

	if (!t)
		return;
	rt = rt_of(t);
	/* Forwarded requests the agent still holds outlive us. */
	while (rt->conns)
		conn_unlink(rt->conns);
	vc_memzero_explicit(rt->key, sizeof(rt->key));
	free(rt);
}

void rt_set_rpc(struct raft_uv_transport *t, rt_rpc_fn fn, void *ctx)
{
	struct rt *rt = rt_of(t);

	rt->rpc_fn = fn;
	rt->rpc_ctx = ctx;
}

void rt_get_stats(const struct raft_uv_transport *t, struct rt_stats *ret)
{
	*ret = rt_of(t)->stats;
}

int rt_call(struct raft_uv_transport *t, uint64_t id, const char *json, size_t len,
	    uint32_t timeout_ms, rt_call_fn cb, void *arg)
{
	struct rt *rt = rt_of(t);
	int member = rt_member_index(rt, id);
	struct rt_conn *c;
	char *copy;
	int rv;

	if (rt->closing)
		return -ESHUTDOWN;
	if (member < 0 || member == rt->self)
		return -ENOENT;
	if (len > RT_MAX_RPC_LEN)
		return -EMSGSIZE;
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, json, len);
	copy[len] = '\0';
	c = rt_dial(rt, member, RT_CHAN_RPC, timeout_ms, &rv);
	if (!c) {
		free(copy);
		return rv;
	}
	c->msg = copy;
	c->msg_len = len;
	c->call_cb = cb;
	c->call_arg = arg;
	return 0;
}
