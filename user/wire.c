// SPDX-License-Identifier: GPL-2.0 OR MIT
/* libvclwire: the vcluster heartbeat wire codec.  See wire.h. */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "blake2s.h"
#include "wire.h"

/* The offsets in wire.h and the sizes must agree with the uapi header. */
static_assert(sizeof(struct vc_wire_hdr) == VC_WIRE_HDR_LEN, "hdr size");
static_assert(sizeof(struct vc_wire_member) == VC_WIRE_MEMBER_LEN, "member size");
static_assert(offsetof(struct vc_wire_hdr, version) == VC_WIRE_OFF_VERSION, "off");
static_assert(offsetof(struct vc_wire_hdr, auth) == VC_WIRE_OFF_AUTH, "off");
static_assert(offsetof(struct vc_wire_hdr, hdr_len) == VC_WIRE_OFF_HDR_LEN, "off");
static_assert(offsetof(struct vc_wire_hdr, n_members) == VC_WIRE_OFF_N_MEMBERS, "off");
static_assert(offsetof(struct vc_wire_hdr, payload_len) == VC_WIRE_OFF_PAYLOAD_LEN, "off");
static_assert(offsetof(struct vc_wire_hdr, flags) == VC_WIRE_OFF_FLAGS, "off");
static_assert(offsetof(struct vc_wire_hdr, cluster_id) == VC_WIRE_OFF_CLUSTER_ID, "off");
static_assert(offsetof(struct vc_wire_hdr, node_id) == VC_WIRE_OFF_NODE_ID, "off");
static_assert(offsetof(struct vc_wire_hdr, dest_node_id) == VC_WIRE_OFF_DEST_NODE_ID, "off");
static_assert(offsetof(struct vc_wire_hdr, interval_ms) == VC_WIRE_OFF_INTERVAL_MS, "off");
static_assert(offsetof(struct vc_wire_hdr, incarnation) == VC_WIRE_OFF_INCARNATION, "off");
static_assert(offsetof(struct vc_wire_hdr, seq) == VC_WIRE_OFF_SEQ, "off");
static_assert(offsetof(struct vc_wire_hdr, tx_time_ns) == VC_WIRE_OFF_TX_TIME_NS, "off");
static_assert(offsetof(struct vc_wire_hdr, echo_time_ns) == VC_WIRE_OFF_ECHO_TIME_NS, "off");
static_assert(offsetof(struct vc_wire_hdr, echo_held_us) == VC_WIRE_OFF_ECHO_HELD_US, "off");
static_assert(offsetof(struct vc_wire_hdr, dead_ms) == VC_WIRE_OFF_DEAD_MS, "off");
static_assert(offsetof(struct vc_wire_hdr, quorum_timeout_ms) == VC_WIRE_OFF_QUORUM_TIMEOUT_MS, "off");
static_assert(offsetof(struct vc_wire_hdr, kill_bound_ms) == VC_WIRE_OFF_KILL_BOUND_MS, "off");
static_assert(offsetof(struct vc_wire_hdr, fence_action) == VC_WIRE_OFF_FENCE_ACTION, "off");
static_assert(offsetof(struct vc_wire_hdr, key_id) == VC_WIRE_OFF_KEY_ID, "off");
static_assert(offsetof(struct vc_wire_member, incarnation) == 8, "off");
static_assert(VC_WIRE_MAC_LEN == VC_BLAKE2S_OUT_LEN, "tag size");
static_assert(VC_KEY_LEN == VC_BLAKE2S_KEY_LEN, "key size");

void vc_wire_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void vc_wire_put_be32(uint8_t *p, uint32_t v)
{
	vc_wire_put_be16(p, (uint16_t)(v >> 16));
	vc_wire_put_be16(p + 2, (uint16_t)v);
}

void vc_wire_put_be64(uint8_t *p, uint64_t v)
{
	vc_wire_put_be32(p, (uint32_t)(v >> 32));
	vc_wire_put_be32(p + 4, (uint32_t)v);
}

uint16_t vc_wire_get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

uint32_t vc_wire_get_be32(const uint8_t *p)
{
	return ((uint32_t)vc_wire_get_be16(p) << 16) | vc_wire_get_be16(p + 2);
}

uint64_t vc_wire_get_be64(const uint8_t *p)
{
	return ((uint64_t)vc_wire_get_be32(p) << 32) | vc_wire_get_be32(p + 4);
}

size_t vc_wire_mac_len(uint8_t auth)
{
	return auth == VC_WIRE_AUTH_NONE ? 0 : VC_WIRE_MAC_LEN;
}

void vc_wire_msg_init(struct vc_wire_msg *msg)
{
	memset(msg, 0, sizeof(*msg));
	msg->version = VC_WIRE_VERSION;
	msg->type = VC_WIRE_TYPE_HEARTBEAT;
	msg->auth = VC_WIRE_AUTH_NONE;
	msg->hdr_len = VC_WIRE_HDR_LEN;
}

int vc_wire_encoded_len(const struct vc_wire_msg *msg, size_t *ret_len)
{
	if (msg->n_members > VC_MAX_PEERS || msg->payload_len > VC_MAX_PAYLOAD)
		return -EINVAL;
	*ret_len = VC_WIRE_HDR_LEN + (size_t)msg->n_members * VC_WIRE_MEMBER_LEN +
		   msg->payload_len + vc_wire_mac_len(msg->auth);
	return 0;
}

/* Header bytes; @auth and @key_id go in place of msg->auth and msg->key_id. */
static void encode_hdr(const struct vc_wire_msg *msg, uint8_t auth, uint8_t key_id,
		       uint8_t *p)
{
	memset(p, 0, VC_WIRE_HDR_LEN);
	vc_wire_put_be32(p + VC_WIRE_OFF_MAGIC, VC_WIRE_MAGIC);
	p[VC_WIRE_OFF_VERSION] = msg->version;
	p[VC_WIRE_OFF_TYPE] = msg->type;
	p[VC_WIRE_OFF_LINK_ID] = msg->link_id;
	p[VC_WIRE_OFF_AUTH] = auth;
	vc_wire_put_be16(p + VC_WIRE_OFF_HDR_LEN, VC_WIRE_HDR_LEN);
	vc_wire_put_be16(p + VC_WIRE_OFF_N_MEMBERS, msg->n_members);
	vc_wire_put_be16(p + VC_WIRE_OFF_PAYLOAD_LEN, msg->payload_len);
	vc_wire_put_be16(p + VC_WIRE_OFF_FLAGS, msg->flags);
	vc_wire_put_be32(p + VC_WIRE_OFF_CLUSTER_ID, msg->cluster_id);
	vc_wire_put_be32(p + VC_WIRE_OFF_NODE_ID, msg->node_id);
	vc_wire_put_be32(p + VC_WIRE_OFF_DEST_NODE_ID, msg->dest_node_id);
	vc_wire_put_be32(p + VC_WIRE_OFF_INTERVAL_MS, msg->interval_ms);
	vc_wire_put_be64(p + VC_WIRE_OFF_INCARNATION, msg->incarnation);
	vc_wire_put_be64(p + VC_WIRE_OFF_SEQ, msg->seq);
	vc_wire_put_be64(p + VC_WIRE_OFF_TX_TIME_NS, msg->tx_time_ns);
	vc_wire_put_be64(p + VC_WIRE_OFF_ECHO_TIME_NS, msg->echo_time_ns);
	vc_wire_put_be32(p + VC_WIRE_OFF_ECHO_HELD_US, msg->echo_held_us);
	vc_wire_put_be32(p + VC_WIRE_OFF_DEAD_MS, msg->dead_ms);
	vc_wire_put_be32(p + VC_WIRE_OFF_QUORUM_TIMEOUT_MS, msg->quorum_timeout_ms);
	vc_wire_put_be32(p + VC_WIRE_OFF_KILL_BOUND_MS, msg->kill_bound_ms);
	p[VC_WIRE_OFF_FENCE_ACTION] = msg->fence_action;
	p[VC_WIRE_OFF_KEY_ID] = key_id;
}

static void encode_member(const struct vc_wire_member_info *m, uint8_t *p)
{
	memset(p, 0, VC_WIRE_MEMBER_LEN);
	vc_wire_put_be32(p, m->node_id);
	p[4] = m->state;
	vc_wire_put_be64(p + 8, m->incarnation);
}

/* Everything but the MAC trailer; returns the offset of the trailer. */
static int encode_body(const struct vc_wire_msg *msg, uint8_t auth, uint8_t key_id,
		       uint8_t *p, size_t buf_size, size_t *ret_len, size_t *ret_mac_off)
{
	size_t len, i, off;

	if (msg->n_members > VC_MAX_PEERS || msg->payload_len > VC_MAX_PAYLOAD)
		return -EINVAL;
	off = VC_WIRE_HDR_LEN + (size_t)msg->n_members * VC_WIRE_MEMBER_LEN +
	      msg->payload_len;
	len = off + vc_wire_mac_len(auth);
	if (buf_size < len)
		return -ENOBUFS;

	encode_hdr(msg, auth, key_id, p);
	for (i = 0; i < msg->n_members; i++)
		encode_member(&msg->members[i], p + VC_WIRE_HDR_LEN + i * VC_WIRE_MEMBER_LEN);
	memcpy(p + off - msg->payload_len, msg->payload, msg->payload_len);
	*ret_len = len;
	*ret_mac_off = off;
	return 0;
}

int vc_wire_encode(const struct vc_wire_msg *msg, void *buf, size_t buf_size,
		   size_t *ret_len)
{
	uint8_t *p = buf;
	size_t len, off;
	int r;

	r = encode_body(msg, msg->auth, msg->key_id, p, buf_size, &len, &off);
	if (r < 0)
		return r;
	memcpy(p + off, msg->mac, vc_wire_mac_len(msg->auth));
	*ret_len = len;
	return 0;
}

static int fail(enum vc_wire_reason reason, enum vc_wire_reason *ret_reason,
		int err)
{
	if (ret_reason)
		*ret_reason = reason;
	return err;
}

static void decode_hdr(const uint8_t *p, struct vc_wire_msg *msg)
{
	msg->version = p[VC_WIRE_OFF_VERSION];
	msg->type = p[VC_WIRE_OFF_TYPE];
	msg->link_id = p[VC_WIRE_OFF_LINK_ID];
	msg->auth = p[VC_WIRE_OFF_AUTH];
	msg->hdr_len = vc_wire_get_be16(p + VC_WIRE_OFF_HDR_LEN);
	msg->n_members = vc_wire_get_be16(p + VC_WIRE_OFF_N_MEMBERS);
	msg->payload_len = vc_wire_get_be16(p + VC_WIRE_OFF_PAYLOAD_LEN);
	msg->flags = vc_wire_get_be16(p + VC_WIRE_OFF_FLAGS);
	msg->cluster_id = vc_wire_get_be32(p + VC_WIRE_OFF_CLUSTER_ID);
	msg->node_id = vc_wire_get_be32(p + VC_WIRE_OFF_NODE_ID);
	msg->dest_node_id = vc_wire_get_be32(p + VC_WIRE_OFF_DEST_NODE_ID);
	msg->interval_ms = vc_wire_get_be32(p + VC_WIRE_OFF_INTERVAL_MS);
	msg->incarnation = vc_wire_get_be64(p + VC_WIRE_OFF_INCARNATION);
	msg->seq = vc_wire_get_be64(p + VC_WIRE_OFF_SEQ);
	msg->tx_time_ns = vc_wire_get_be64(p + VC_WIRE_OFF_TX_TIME_NS);
	msg->echo_time_ns = vc_wire_get_be64(p + VC_WIRE_OFF_ECHO_TIME_NS);
	msg->echo_held_us = vc_wire_get_be32(p + VC_WIRE_OFF_ECHO_HELD_US);
	msg->dead_ms = vc_wire_get_be32(p + VC_WIRE_OFF_DEAD_MS);
	msg->quorum_timeout_ms = vc_wire_get_be32(p + VC_WIRE_OFF_QUORUM_TIMEOUT_MS);
	msg->kill_bound_ms = vc_wire_get_be32(p + VC_WIRE_OFF_KILL_BOUND_MS);
	msg->fence_action = p[VC_WIRE_OFF_FENCE_ACTION];
	msg->key_id = p[VC_WIRE_OFF_KEY_ID];
}

/* The structural checks, in order; only reads the fixed v1 header. */
static enum vc_wire_reason check_hdr(const uint8_t *p, size_t len)
{
	size_t want;
	uint8_t auth;

	if (len < VC_WIRE_HDR_LEN)
		return VC_WIRE_R_SHORT;
	if (vc_wire_get_be32(p + VC_WIRE_OFF_MAGIC) != VC_WIRE_MAGIC)
		return VC_WIRE_R_MAGIC;
	if (p[VC_WIRE_OFF_VERSION] != VC_WIRE_VERSION)
		return VC_WIRE_R_VERSION;
	if (vc_wire_get_be16(p + VC_WIRE_OFF_HDR_LEN) < VC_WIRE_HDR_LEN)
		return VC_WIRE_R_HDR_LEN;
	if (vc_wire_get_be16(p + VC_WIRE_OFF_N_MEMBERS) > VC_MAX_PEERS)
		return VC_WIRE_R_MEMBERS;
	if (vc_wire_get_be16(p + VC_WIRE_OFF_PAYLOAD_LEN) > VC_MAX_PAYLOAD)
		return VC_WIRE_R_PAYLOAD_LEN;
	auth = p[VC_WIRE_OFF_AUTH];
	if (auth >= __VC_WIRE_AUTH_MAX)
		return VC_WIRE_R_AUTH;
	if (p[VC_WIRE_OFF_TYPE] != VC_WIRE_TYPE_HEARTBEAT)
		return VC_WIRE_R_TYPE;

	want = (size_t)vc_wire_get_be16(p + VC_WIRE_OFF_HDR_LEN) +
	       (size_t)vc_wire_get_be16(p + VC_WIRE_OFF_N_MEMBERS) * VC_WIRE_MEMBER_LEN +
	       vc_wire_get_be16(p + VC_WIRE_OFF_PAYLOAD_LEN) + vc_wire_mac_len(auth);
	if (len != want)
		return VC_WIRE_R_LENGTH;
	return VC_WIRE_R_OK;
}

int vc_wire_decode(const void *buf, size_t len, struct vc_wire_msg *msg,
		   enum vc_wire_reason *ret_reason)
{
	const uint8_t *p = buf;
	enum vc_wire_reason reason;
	size_t i;

	reason = check_hdr(p, len);
	if (reason != VC_WIRE_R_OK)
		return fail(reason, ret_reason, -EBADMSG);

	memset(msg, 0, sizeof(*msg));
	decode_hdr(p, msg);
	p += msg->hdr_len;
	for (i = 0; i < msg->n_members; i++, p += VC_WIRE_MEMBER_LEN) {
		msg->members[i].node_id = vc_wire_get_be32(p);
		msg->members[i].state = p[4];
		msg->members[i].incarnation = vc_wire_get_be64(p + 8);
	}
	memcpy(msg->payload, p, msg->payload_len);
	p += msg->payload_len;
	memcpy(msg->mac, p, vc_wire_mac_len(msg->auth));

	return fail(VC_WIRE_R_OK, ret_reason, 0);
}

static bool peer_known(const struct vc_wire_receiver *rx, uint32_t node_id)
{
	size_t i;

	for (i = 0; i < rx->n_peers; i++)
		if (rx->peer_ids[i] == node_id)
			return true;
	return false;
}

int vc_wire_classify(const struct vc_wire_msg *msg,
		     const struct vc_wire_receiver *rx,
		     enum vc_wire_reason *ret_reason)
{
	if (msg->cluster_id != rx->cluster_id)
		return fail(VC_WIRE_R_FOREIGN, ret_reason, -EXDEV);
	if (msg->node_id == 0 || msg->node_id == rx->node_id ||
	    !peer_known(rx, msg->node_id))
		return fail(VC_WIRE_R_UNKNOWN_NODE, ret_reason, -ENOENT);
	if (msg->dest_node_id != rx->node_id)
		return fail(VC_WIRE_R_DEST, ret_reason, -EBADMSG);
	if (rx->match_link && msg->link_id != rx->link_id)
		return fail(VC_WIRE_R_LINK, ret_reason, -EBADMSG);
	return fail(VC_WIRE_R_OK, ret_reason, 0);
}

void vc_wire_mac(const void *buf, size_t len, const uint8_t key[VC_KEY_LEN],
		 uint8_t tag[VC_WIRE_MAC_LEN])
{
	vc_blake2s(tag, buf, len, key, VC_KEY_LEN);
}

int vc_wire_encode_signed(const struct vc_wire_msg *msg, const struct vc_wire_key *key,
			  void *buf, size_t buf_size, size_t *ret_len)
{
	uint8_t *p = buf;
	size_t len, off;
	int r;

	r = encode_body(msg, VC_WIRE_AUTH_BLAKE2S, key->id, p, buf_size, &len, &off);
	if (r < 0)
		return r;
	vc_wire_mac(p, off, key->key, p + off);
	*ret_len = len;
	return 0;
}

int vc_wire_verify(const void *buf, size_t len, const struct vc_wire_key *keys,
		   size_t n_keys, enum vc_wire_reason *ret_reason)
{
	const uint8_t *p = buf;
	uint8_t tag[VC_WIRE_MAC_LEN];
	const struct vc_wire_key *k = NULL;
	size_t i;
	int neq;

	if (len < VC_WIRE_HDR_LEN)
		return fail(VC_WIRE_R_SHORT, ret_reason, -EBADMSG);
	if (p[VC_WIRE_OFF_AUTH] == VC_WIRE_AUTH_NONE)
		return n_keys ? fail(VC_WIRE_R_NO_MAC, ret_reason, -EBADMSG) :
				fail(VC_WIRE_R_OK, ret_reason, 0);
	if (p[VC_WIRE_OFF_AUTH] != VC_WIRE_AUTH_BLAKE2S)
		return fail(VC_WIRE_R_AUTH, ret_reason, -EBADMSG);
	if (len < VC_WIRE_HDR_LEN + VC_WIRE_MAC_LEN)
		return fail(VC_WIRE_R_LENGTH, ret_reason, -EBADMSG);
	for (i = 0; i < n_keys; i++)
		if (keys[i].id != 0 && keys[i].id == p[VC_WIRE_OFF_KEY_ID])
			k = &keys[i];
	if (!k)
		return fail(VC_WIRE_R_UNKNOWN_KEY, ret_reason, -EBADMSG);
	vc_wire_mac(p, len - VC_WIRE_MAC_LEN, k->key, tag);
	neq = vc_memneq(tag, p + len - VC_WIRE_MAC_LEN, VC_WIRE_MAC_LEN);
	vc_memzero_explicit(tag, sizeof(tag));
	if (neq)
		return fail(VC_WIRE_R_BAD_MAC, ret_reason, -EBADMSG);
	return fail(VC_WIRE_R_OK, ret_reason, 0);
}

int vc_wire_parse(const void *buf, size_t len,
		  const struct vc_wire_receiver *rx, struct vc_wire_msg *msg,
		  enum vc_wire_reason *ret_reason)
{
	int r;

	r = vc_wire_decode(buf, len, msg, ret_reason);
	if (r < 0)
		return r;
	if (msg->cluster_id != rx->cluster_id)
		return fail(VC_WIRE_R_FOREIGN, ret_reason, -EXDEV);
	r = vc_wire_verify(buf, len, rx->keys, rx->n_keys, ret_reason);
	if (r < 0)
		return r;
	return vc_wire_classify(msg, rx, ret_reason);
}

static const struct {
	const char *name;
	const char *text;
	const char *counter;
} reasons[__VC_WIRE_R_MAX] = {
	[VC_WIRE_R_OK] = { "ok", "well-formed", "rx" },
	[VC_WIRE_R_SHORT] = { "short", "shorter than the 88-byte v1 header", "malformed" },
	[VC_WIRE_R_MAGIC] = { "magic", "bad magic (not \"VCHB\")", "malformed" },
	[VC_WIRE_R_VERSION] = { "version", "unsupported version", "malformed" },
	[VC_WIRE_R_HDR_LEN] = { "hdr-len", "hdr_len below 88", "malformed" },
	[VC_WIRE_R_MEMBERS] = { "members", "more than 64 membership entries", "malformed" },
	[VC_WIRE_R_PAYLOAD_LEN] = { "payload-len", "payload longer than 64 bytes", "malformed" },
	[VC_WIRE_R_AUTH] = { "auth", "unknown auth method", "malformed" },
	[VC_WIRE_R_TYPE] = { "type", "unknown datagram type", "malformed" },
	[VC_WIRE_R_LENGTH] = { "length", "datagram length does not match its header", "malformed" },
	[VC_WIRE_R_FOREIGN] = { "foreign", "another cluster id", "foreign" },
	[VC_WIRE_R_UNKNOWN_NODE] = { "unknown-node", "sender node id not configured", "unknown" },
	[VC_WIRE_R_DEST] = { "dest", "addressed to another node id", "malformed" },
	[VC_WIRE_R_LINK] = { "link", "link id differs from the arrival link", "malformed" },
	[VC_WIRE_R_BAD_MAC] = { "bad-mac", "MAC does not match", "bad_mac" },
	[VC_WIRE_R_UNKNOWN_KEY] = { "unknown-key", "MAC made with a key id the receiver does not have", "bad_mac" },
	[VC_WIRE_R_NO_MAC] = { "no-mac", "no MAC while the receiver has a key", "bad_mac" },
};

const char *vc_wire_reason_name(enum vc_wire_reason reason)
{
	if ((unsigned int)reason >= __VC_WIRE_R_MAX)
		return "invalid";
	return reasons[reason].name;
}

const char *vc_wire_reason_text(enum vc_wire_reason reason)
{
	if ((unsigned int)reason >= __VC_WIRE_R_MAX)
		return "invalid reason";
	return reasons[reason].text;
}

const char *vc_wire_reason_counter(enum vc_wire_reason reason)
{
	if ((unsigned int)reason >= __VC_WIRE_R_MAX)
		return "invalid";
	return reasons[reason].counter;
}
