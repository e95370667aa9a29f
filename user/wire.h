/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libvclwire: encode and decode vcluster heartbeat datagrams.
 *
 * The wire format is defined in include/uapi/linux/vcluster.h.  This
 * library holds no state: vc_wire_decode() checks the structure of one
 * datagram, vc_wire_classify() the checks that need the receiver's
 * configuration (cluster id, own node id, configured peers),
 * vc_wire_verify() the MAC (keyed BLAKE2s-256, RFC 7693) against up to two
 * keys.  vc_wire_parse() runs them all in the kernel's order.  Sequence
 * and incarnation checks belong to the membership state machine, not here.
 *
 * Every function returns 0 or a negative errno; the decode functions also
 * report which check failed as an enum vc_wire_reason.  Nothing logs.
 */
#ifndef VC_WIRE_H
#define VC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/vcluster.h>

#define VC_WIRE_HDR_LEN		88u	/* sizeof(struct vc_wire_hdr), v1 */
#define VC_WIRE_MEMBER_LEN	16u	/* sizeof(struct vc_wire_member) */
/* Largest well-formed v1 datagram. */
#define VC_WIRE_MAX_LEN		(VC_WIRE_HDR_LEN + VC_MAX_PEERS * VC_WIRE_MEMBER_LEN + \
				 VC_MAX_PAYLOAD + VC_WIRE_MAC_LEN)

/* Which check a datagram failed; VC_WIRE_R_OK when it passed them all. */
enum vc_wire_reason {
	VC_WIRE_R_OK,
	VC_WIRE_R_SHORT,		/* shorter than the v1 header */
	VC_WIRE_R_MAGIC,		/* magic is not VC_WIRE_MAGIC */
	VC_WIRE_R_VERSION,		/* version is not VC_WIRE_VERSION */
	VC_WIRE_R_HDR_LEN,		/* hdr_len below the v1 header size */
	VC_WIRE_R_MEMBERS,		/* n_members > VC_MAX_PEERS */
	VC_WIRE_R_PAYLOAD_LEN,		/* payload_len > VC_MAX_PAYLOAD */
	VC_WIRE_R_AUTH,			/* unknown auth method */
	VC_WIRE_R_TYPE,			/* unknown datagram type */
	VC_WIRE_R_LENGTH,		/* datagram length != what the header says */
	VC_WIRE_R_FOREIGN,		/* another cluster id */
	VC_WIRE_R_UNKNOWN_NODE,		/* sender node id not configured */
	VC_WIRE_R_DEST,			/* addressed to another node id */
	VC_WIRE_R_LINK,			/* link_id is not the link it came in on */
	VC_WIRE_R_BAD_MAC,		/* tag does not match (key id known) */
	VC_WIRE_R_UNKNOWN_KEY,		/* authenticated with a key id we lack */
	VC_WIRE_R_NO_MAC,		/* auth NONE while the receiver has keys */

	__VC_WIRE_R_MAX
};

/* One membership entry, host byte order. */
struct vc_wire_member_info {
	uint32_t node_id;
	uint8_t state;			/* enum vc_peer_state, not checked */
	uint64_t incarnation;
};

/* A decoded heartbeat, host byte order. */
struct vc_wire_msg {
	uint8_t version;
	uint8_t type;
	uint8_t link_id;
	uint8_t auth;
	uint16_t hdr_len;		/* decode: as received; encode: ignored */
	uint16_t flags;
	uint32_t cluster_id;
	uint32_t node_id;
	uint32_t dest_node_id;
	uint32_t interval_ms;
	uint64_t incarnation;
	uint64_t seq;
	uint64_t tx_time_ns;
	uint64_t echo_time_ns;
	uint32_t echo_held_us;
	uint32_t dead_ms;
	uint32_t quorum_timeout_ms;
	uint32_t kill_bound_ms;
	uint8_t fence_action;
	uint8_t key_id;			/* encode: as given; see vc_wire_encode_signed() */
	uint16_t n_members;
	struct vc_wire_member_info members[VC_MAX_PEERS];
	uint16_t payload_len;
	uint8_t payload[VC_MAX_PAYLOAD];
	uint8_t mac[VC_WIRE_MAC_LEN];	/* only when auth != NONE */
};

/* A MAC key: id 1..255 as in hdr.key_id, 32 bytes (VC_KEY_LEN). */
struct vc_wire_key {
	uint8_t id;
	uint8_t key[VC_KEY_LEN];
};

/* What the receiver knows, for vc_wire_classify() and vc_wire_parse(). */
struct vc_wire_receiver {
	uint32_t cluster_id;
	uint32_t node_id;
	const uint32_t *peer_ids;	/* configured peers */
	size_t n_peers;
	bool match_link;		/* check link_id against @link_id */
	uint8_t link_id;		/* the link the datagram arrived on */
	const struct vc_wire_key *keys;	/* accepted keys (0..2); none: no MAC */
	size_t n_keys;
};

/* Fill @msg with a valid v1 heartbeat skeleton (magic, version, type). */
void vc_wire_msg_init(struct vc_wire_msg *msg);

/* Bytes @msg takes on the wire, or a negative errno if it cannot be sent. */
int vc_wire_encoded_len(const struct vc_wire_msg *msg, size_t *ret_len);

/*
 * Encode @msg into @buf.  -EINVAL if n_members or payload_len are out of
 * range, -ENOBUFS if @buf_size is too small.  The MAC trailer is written
 * from msg->mac when msg->auth != VC_WIRE_AUTH_NONE.
 */
int vc_wire_encode(const struct vc_wire_msg *msg, void *buf, size_t buf_size,
		   size_t *ret_len);

/*
 * Check the structure of one datagram and decode it.  Returns 0, or
 * -EBADMSG with *ret_reason set to the first check that failed (the
 * checks run in the order of enum vc_wire_reason).  @ret_reason may be
 * NULL.  Header bytes beyond the v1 header (hdr_len > 88) are skipped.
 */
int vc_wire_decode(const void *buf, size_t len, struct vc_wire_msg *msg,
		   enum vc_wire_reason *ret_reason);

/*
 * Checks that need the receiver's configuration, in the kernel's order:
 * other cluster id -> -EXDEV (FOREIGN), sender not configured -> -ENOENT
 * (UNKNOWN_NODE), addressed to another node -> -EBADMSG (DEST), and with
 * rx->match_link, sent on another link than it arrived on -> -EBADMSG
 * (LINK).  DEST and LINK count as malformed in the kernel.
 */
int vc_wire_classify(const struct vc_wire_msg *msg,
		     const struct vc_wire_receiver *rx,
		     enum vc_wire_reason *ret_reason);

/*
 * Encode @msg signed with @key: hdr.auth = VC_WIRE_AUTH_BLAKE2S and
 * hdr.key_id = key->id are set before the MAC is computed over every byte
 * up to the end of the payload; the 32-byte tag follows the payload.
 * msg->auth, msg->key_id and msg->mac are ignored.  Errors as
 * vc_wire_encode().
 */
int vc_wire_encode_signed(const struct vc_wire_msg *msg, const struct vc_wire_key *key,
			  void *buf, size_t buf_size, size_t *ret_len);

/* The tag of the first @len bytes of @buf under @key (32 bytes). */
void vc_wire_mac(const void *buf, size_t len, const uint8_t key[VC_KEY_LEN],
		 uint8_t tag[VC_WIRE_MAC_LEN]);

/*
 * Authenticate a datagram that passed vc_wire_decode().  With @n_keys 0
 * and auth NONE it passes.  auth NONE with keys -> -EBADMSG (NO_MAC);
 * a key id not among @keys (with or without keys) -> -EBADMSG
 * (UNKNOWN_KEY); a tag that differs (constant-time compare) -> -EBADMSG
 * (BAD_MAC).  The kernel counts all three as rx_bad_mac.
 */
int vc_wire_verify(const void *buf, size_t len, const struct vc_wire_key *keys,
		   size_t n_keys, enum vc_wire_reason *ret_reason);

/*
 * vc_wire_decode(), the cluster id check, vc_wire_verify() with rx->keys
 * (before anything else in the datagram is trusted), then the rest of
 * vc_wire_classify(): the kernel's order.
 */
int vc_wire_parse(const void *buf, size_t len,
		  const struct vc_wire_receiver *rx, struct vc_wire_msg *msg,
		  enum vc_wire_reason *ret_reason);

/* Short name of a reason ("short", "magic", ...), "invalid" if unknown. */
const char *vc_wire_reason_name(enum vc_wire_reason reason);

/* One-line description of a reason for people. */
const char *vc_wire_reason_text(enum vc_wire_reason reason);

/* Counter the kernel bumps: "malformed", "foreign", "unknown", "bad_mac". */
const char *vc_wire_reason_counter(enum vc_wire_reason reason);

/* Bytes of MAC trailer for an auth method (0 for VC_WIRE_AUTH_NONE). */
size_t vc_wire_mac_len(uint8_t auth);

/* Field offsets inside struct vc_wire_hdr, for crafting bad datagrams. */
#define VC_WIRE_OFF_MAGIC		0u
#define VC_WIRE_OFF_VERSION		4u
#define VC_WIRE_OFF_TYPE		5u
#define VC_WIRE_OFF_LINK_ID		6u
#define VC_WIRE_OFF_AUTH		7u
#define VC_WIRE_OFF_HDR_LEN		8u
#define VC_WIRE_OFF_N_MEMBERS		10u
#define VC_WIRE_OFF_PAYLOAD_LEN		12u
#define VC_WIRE_OFF_FLAGS		14u
#define VC_WIRE_OFF_CLUSTER_ID		16u
#define VC_WIRE_OFF_NODE_ID		20u
#define VC_WIRE_OFF_DEST_NODE_ID	24u
#define VC_WIRE_OFF_INTERVAL_MS		28u
#define VC_WIRE_OFF_INCARNATION		32u
#define VC_WIRE_OFF_SEQ			40u
#define VC_WIRE_OFF_TX_TIME_NS		48u
#define VC_WIRE_OFF_ECHO_TIME_NS	56u
#define VC_WIRE_OFF_ECHO_HELD_US	64u
#define VC_WIRE_OFF_DEAD_MS		68u
#define VC_WIRE_OFF_QUORUM_TIMEOUT_MS	72u
#define VC_WIRE_OFF_KILL_BOUND_MS	76u
#define VC_WIRE_OFF_FENCE_ACTION	80u
#define VC_WIRE_OFF_KEY_ID		81u

void vc_wire_put_be16(uint8_t *p, uint16_t v);
void vc_wire_put_be32(uint8_t *p, uint32_t v);
void vc_wire_put_be64(uint8_t *p, uint64_t v);
uint16_t vc_wire_get_be16(const uint8_t *p);
uint32_t vc_wire_get_be32(const uint8_t *p);
uint64_t vc_wire_get_be64(const uint8_t *p);

#endif /* VC_WIRE_H */
