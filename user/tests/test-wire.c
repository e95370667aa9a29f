// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Wire codec: round trips, the exact byte layout, every malformed case. */
#include <errno.h>
#include <stdlib.h>

#include "../parse.h"
#include "../wire.h"
#include "tap.h"

static uint8_t buf[VC_WIRE_MAX_LEN + 64];
static struct vc_wire_msg in, out;

static void sample(struct vc_wire_msg *m, uint16_t n_members, uint16_t payload_len)
{
	uint16_t i;

	vc_wire_msg_init(m);
	m->link_id = 3;
	m->flags = VC_WIRE_F_ARMED;
	m->cluster_id = 7;
	m->node_id = 2;
	m->dest_node_id = 1;
	m->interval_ms = 10;
	m->incarnation = 0x0102030405060708ull;
	m->seq = 0x1112131415161718ull;
	m->tx_time_ns = 0x2122232425262728ull;
	m->echo_time_ns = 0x3132333435363738ull;
	m->echo_held_us = 0x41424344;
	m->dead_ms = 30;
	m->quorum_timeout_ms = 0x51525354;
	m->kill_bound_ms = 0x61626364;
	m->fence_action = 0x71;
	m->n_members = n_members;
	for (i = 0; i < n_members; i++) {
		m->members[i].node_id = 100u + i;
		m->members[i].state = (uint8_t)(1 + i % 5);
		m->members[i].incarnation = 1000ull * i + 1;
	}
	m->payload_len = payload_len;
	for (i = 0; i < payload_len; i++)
		m->payload[i] = (uint8_t)(0xa0 + i);
}

static size_t encode(const struct vc_wire_msg *m)
{
	size_t len = 0;

	if (vc_wire_encode(m, buf, sizeof(buf), &len) < 0)
		return 0;
	return len;
}

static bool same_msg(const struct vc_wire_msg *a, const struct vc_wire_msg *b)
{
	uint16_t i;

	if (a->version != b->version || a->type != b->type || a->link_id != b->link_id ||
	    a->auth != b->auth || a->flags != b->flags || a->cluster_id != b->cluster_id ||
	    a->node_id != b->node_id || a->dest_node_id != b->dest_node_id ||
	    a->interval_ms != b->interval_ms || a->incarnation != b->incarnation ||
	    a->seq != b->seq || a->tx_time_ns != b->tx_time_ns ||
	    a->echo_time_ns != b->echo_time_ns || a->echo_held_us != b->echo_held_us ||
	    a->dead_ms != b->dead_ms || a->quorum_timeout_ms != b->quorum_timeout_ms ||
	    a->kill_bound_ms != b->kill_bound_ms || a->fence_action != b->fence_action ||
	    a->n_members != b->n_members || a->payload_len != b->payload_len)
		return false;
	for (i = 0; i < a->n_members; i++)
		if (a->members[i].node_id != b->members[i].node_id ||
		    a->members[i].state != b->members[i].state ||
		    a->members[i].incarnation != b->members[i].incarnation)
			return false;
	return memcmp(a->payload, b->payload, a->payload_len) == 0;
}

/* Decode @len bytes of buf; returns the reason, checks errno agrees. */
static enum vc_wire_reason decode_reason(size_t len)
{
	enum vc_wire_reason reason = __VC_WIRE_R_MAX;
	int r = vc_wire_decode(buf, len, &out, &reason);

	if ((r == 0) != (reason == VC_WIRE_R_OK) || (r != 0 && r != -EBADMSG))
		return __VC_WIRE_R_MAX;
	return reason;
}

TEST(wire_roundtrip_empty)
{
	sample(&in, 0, 0);
	CHECK_EQ(encode(&in), 88);
	CHECK_EQ(decode_reason(88), VC_WIRE_R_OK);
	CHECK(same_msg(&in, &out));
	CHECK_EQ(out.hdr_len, 88);
	return true;
}

TEST(wire_roundtrip_full)
{
	sample(&in, VC_MAX_PEERS, VC_MAX_PAYLOAD);
	CHECK_EQ(encode(&in), 88 + 64 * 16 + 64);
	CHECK_EQ(decode_reason(88 + 64 * 16 + 64), VC_WIRE_R_OK);
	CHECK(same_msg(&in, &out));
	return true;
}

TEST(wire_roundtrip_every_size)
{
	uint16_t n, p;

	for (n = 0; n <= VC_MAX_PEERS; n += 7) {
		for (p = 0; p <= VC_MAX_PAYLOAD; p += 5) {
			size_t len;

			sample(&in, n, p);
			len = encode(&in);
			CHECK_EQ(len, 88u + 16u * n + p);
			CHECK_EQ(decode_reason(len), VC_WIRE_R_OK);
			CHECK(same_msg(&in, &out));
		}
	}
	return true;
}

/* The exact bytes: big-endian fields at the uapi offsets. */
TEST(wire_golden_bytes)
{
	static const uint8_t want_hdr[88] = {
		0x56, 0x43, 0x48, 0x42, 1, 1, 3, 0, 0, 88, 0, 1, 0, 2, 0, 1,
		0, 0, 0, 7, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 10,
		1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
		0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
		0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,
		0x41, 0x42, 0x43, 0x44, 0, 0, 0, 30, 0x51, 0x52, 0x53, 0x54,
		0x61, 0x62, 0x63, 0x64, 0x71, 0, 0, 0, 0, 0, 0, 0,
	};
	static const uint8_t want_member[16] = {
		0, 0, 0, 100, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	};

	sample(&in, 1, 2);
	CHECK_EQ(encode(&in), 88 + 16 + 2);
	CHECK(memcmp(buf, want_hdr, 88) == 0);
	CHECK(memcmp(buf + 88, want_member, 16) == 0);
	CHECK_EQ(buf[104], 0xa0);
	CHECK_EQ(buf[105], 0xa1);
	return true;
}

TEST(wire_encode_rejects_out_of_range)
{
	size_t len;

	sample(&in, 0, 0);
	in.n_members = VC_MAX_PEERS + 1;
	CHECK_EQ(vc_wire_encode(&in, buf, sizeof(buf), &len), -EINVAL);
	sample(&in, 0, 0);
	in.payload_len = VC_MAX_PAYLOAD + 1;
	CHECK_EQ(vc_wire_encode(&in, buf, sizeof(buf), &len), -EINVAL);
	sample(&in, 1, 0);
	CHECK_EQ(vc_wire_encode(&in, buf, 88 + 15, &len), -ENOBUFS);
	CHECK_EQ(vc_wire_encode(&in, buf, 88 + 16, &len), 0);
	return true;
}

TEST(wire_mac_trailer)
{
	size_t len;

	sample(&in, 1, 3);
	in.auth = 1;
	memset(in.mac, 0x5a, sizeof(in.mac));
	CHECK_EQ(vc_wire_encoded_len(&in, &len), 0);
	CHECK_EQ(len, 88 + 16 + 3 + VC_WIRE_MAC_LEN);
	CHECK_EQ(encode(&in), len);
	CHECK_EQ(buf[len - 1], 0x5a);
	CHECK_EQ(buf[len - VC_WIRE_MAC_LEN], 0x5a);
	/* structurally fine: the MAC is checked by vc_wire_verify() */
	CHECK_EQ(decode_reason(len), VC_WIRE_R_OK);
	CHECK(memcmp(out.mac, in.mac, VC_WIRE_MAC_LEN) == 0);
	buf[VC_WIRE_OFF_AUTH] = 2;
	CHECK_EQ(decode_reason(len), VC_WIRE_R_AUTH);
	return true;
}

static const struct vc_wire_key key1 = {
	1, { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
	     20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31 } };
static const struct vc_wire_key key2 = { 2, { [0] = 0xff, [31] = 0xee } };

static enum vc_wire_reason verify(size_t len, const struct vc_wire_key *keys, size_t n)
{
	enum vc_wire_reason reason = __VC_WIRE_R_MAX;
	int r = vc_wire_verify(buf, len, keys, n, &reason);

	if ((r == 0) != (reason == VC_WIRE_R_OK) || (r != 0 && r != -EBADMSG))
		return __VC_WIRE_R_MAX;
	return reason;
}

/*
 * The tag is keyed BLAKE2s-256 over header (auth and key_id set) +
 * members + payload.  Golden value from Python:
 *   hashlib.blake2s(bytes.fromhex(HDR+MEMBER+"a0a1a2"), key=bytes(range(32)))
 */
TEST(wire_signed_layout_and_golden_tag)
{
	static const char want[] = "25e48843c02d8676faac0a0c2bff58956a757582e0250989f183d3dcc633e4f9";
	char hex[2 * VC_WIRE_MAC_LEN + 1];
	uint8_t tag[VC_WIRE_MAC_LEN];
	size_t len = 0;

	sample(&in, 1, 3);
	in.auth = 0;		/* ignored by the signed encoder */
	in.key_id = 77;
	CHECK_EQ(vc_wire_encode_signed(&in, &key1, buf, sizeof(buf), &len), 0);
	CHECK_EQ(len, 88 + 16 + 3 + 32);
	CHECK_EQ(buf[VC_WIRE_OFF_AUTH], VC_WIRE_AUTH_BLAKE2S);
	CHECK_EQ(buf[VC_WIRE_OFF_KEY_ID], 1);
	vc_wire_mac(buf, len - 32, key1.key, tag);
	CHECK(memcmp(tag, buf + len - 32, 32) == 0);
	vc_format_hex(buf + len - 32, 32, hex);
	CHECK_STR(hex, want);
	CHECK_EQ(decode_reason(len), VC_WIRE_R_OK);
	CHECK_EQ(out.auth, VC_WIRE_AUTH_BLAKE2S);
	CHECK_EQ(out.key_id, 1);
	CHECK_EQ(vc_wire_encode_signed(&in, &key1, buf, len - 1, &len), -ENOBUFS);
	return true;
}

TEST(wire_verify_reasons)
{
	const struct vc_wire_key both[2] = { key2, key1 };
	size_t len = 0, i;

	sample(&in, 2, 5);
	CHECK_EQ(vc_wire_encode_signed(&in, &key1, buf, sizeof(buf), &len), 0);
	CHECK_EQ(verify(len, &key1, 1), VC_WIRE_R_OK);
	CHECK_EQ(verify(len, both, 2), VC_WIRE_R_OK);	/* rotation: either key */
	CHECK_EQ(verify(len, &key2, 1), VC_WIRE_R_UNKNOWN_KEY);
	CHECK_EQ(verify(len, NULL, 0), VC_WIRE_R_UNKNOWN_KEY);
	/* every single bit flipped anywhere in the datagram is caught */
	for (i = 0; i < len * 8; i++) {
		enum vc_wire_reason want = VC_WIRE_R_BAD_MAC;

		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (i / 8 == VC_WIRE_OFF_AUTH)
			want = (buf[i / 8] == 0) ? VC_WIRE_R_NO_MAC : VC_WIRE_R_AUTH;
		else if (i / 8 == VC_WIRE_OFF_KEY_ID)
			want = VC_WIRE_R_UNKNOWN_KEY;
		if (verify(len, &key1, 1) != want) {
			printf("# bit %zu: reason %d, want %d\n", i, verify(len, &key1, 1), want);
			return false;
		}
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	/* same id, other key value: bad MAC */
	{
		struct vc_wire_key wrong = key2;

		wrong.id = 1;
		CHECK_EQ(verify(len, &wrong, 1), VC_WIRE_R_BAD_MAC);
	}
	/* unsigned while we have a key; unsigned without keys is fine */
	sample(&in, 2, 5);
	len = encode(&in);
	CHECK_EQ(verify(len, &key1, 1), VC_WIRE_R_NO_MAC);
	CHECK_EQ(verify(len, NULL, 0), VC_WIRE_R_OK);
	return true;
}

/* vc_wire_parse: structure, cluster id, MAC, then the rest. */
TEST(wire_parse_order_with_keys)
{
	static const uint32_t peers[] = { 2 };
	struct vc_wire_receiver rx = { 7, 1, peers, 1, false, 0, &key1, 1 };
	enum vc_wire_reason reason;
	size_t len = 0;

	sample(&in, 0, 0);
	CHECK_EQ(vc_wire_encode_signed(&in, &key1, buf, sizeof(buf), &len), 0);
	CHECK_EQ(vc_wire_parse(buf, len, &rx, &out, &reason), 0);
	/* foreign beats a bad MAC */
	in.cluster_id = 8;
	CHECK_EQ(vc_wire_encode_signed(&in, &key2, buf, sizeof(buf), &len), 0);
	CHECK_EQ(vc_wire_parse(buf, len, &rx, &out, &reason), -EXDEV);
	CHECK_EQ(reason, VC_WIRE_R_FOREIGN);
	/* a bad MAC beats an unknown sender and a wrong destination */
	in.cluster_id = 7;
	in.node_id = 9;
	in.dest_node_id = 5;
	CHECK_EQ(vc_wire_encode_signed(&in, &key1, buf, sizeof(buf), &len), 0);
	buf[len - 1] ^= 0x80;
	CHECK_EQ(vc_wire_parse(buf, len, &rx, &out, &reason), -EBADMSG);
	CHECK_EQ(reason, VC_WIRE_R_BAD_MAC);
	buf[len - 1] ^= 0x80;
	CHECK_EQ(vc_wire_parse(buf, len, &rx, &out, &reason), -ENOENT);
	CHECK_EQ(reason, VC_WIRE_R_UNKNOWN_NODE);
	CHECK_STR(vc_wire_reason_counter(VC_WIRE_R_BAD_MAC), "bad_mac");
	CHECK_STR(vc_wire_reason_counter(VC_WIRE_R_NO_MAC), "bad_mac");
	CHECK_STR(vc_wire_reason_counter(VC_WIRE_R_UNKNOWN_KEY), "bad_mac");
	return true;
}

TEST(wire_every_truncation)
{
	size_t len, cut;

	sample(&in, 3, 9);
	len = encode(&in);
	for (cut = 0; cut < len; cut++)
		CHECK_EQ(decode_reason(cut), cut < 88 ? VC_WIRE_R_SHORT : VC_WIRE_R_LENGTH);
	return true;
}

TEST(wire_trailing_byte)
{
	size_t len;

	sample(&in, 2, 4);
	len = encode(&in);
	buf[len] = 0;
	CHECK_EQ(decode_reason(len + 1), VC_WIRE_R_LENGTH);
	return true;
}

TEST(wire_bad_magic)
{
	sample(&in, 0, 0);
	encode(&in);
	buf[3] ^= 1;
	CHECK_EQ(decode_reason(88), VC_WIRE_R_MAGIC);
	return true;
}

TEST(wire_bad_version)
{
	sample(&in, 0, 0);
	encode(&in);
	buf[VC_WIRE_OFF_VERSION] = 0;
	CHECK_EQ(decode_reason(88), VC_WIRE_R_VERSION);
	buf[VC_WIRE_OFF_VERSION] = 2;
	CHECK_EQ(decode_reason(88), VC_WIRE_R_VERSION);
	return true;
}

TEST(wire_hdr_len_too_small)
{
	sample(&in, 0, 0);
	encode(&in);
	vc_wire_put_be16(buf + VC_WIRE_OFF_HDR_LEN, 87);
	CHECK_EQ(decode_reason(88), VC_WIRE_R_HDR_LEN);
	vc_wire_put_be16(buf + VC_WIRE_OFF_HDR_LEN, 0);
	CHECK_EQ(decode_reason(88), VC_WIRE_R_HDR_LEN);
	return true;
}

TEST(wire_hdr_len_beyond_datagram)
{
	sample(&in, 0, 0);
	encode(&in);
	vc_wire_put_be16(buf + VC_WIRE_OFF_HDR_LEN, 89);
	CHECK_EQ(decode_reason(88), VC_WIRE_R_LENGTH);
	vc_wire_put_be16(buf + VC_WIRE_OFF_HDR_LEN, 0xffff);
	CHECK_EQ(decode_reason(88), VC_WIRE_R_LENGTH);
	return true;
}

/* A later version may append header fields: skipped, members still found. */
TEST(wire_longer_header_is_skipped)
{
	size_t len;

	sample(&in, 2, 3);
	len = encode(&in);
	memmove(buf + 96, buf + 88, len - 88);
	memset(buf + 88, 0xee, 8);
	vc_wire_put_be16(buf + VC_WIRE_OFF_HDR_LEN, 96);
	CHECK_EQ(decode_reason(len + 8), VC_WIRE_R_OK);
	CHECK_EQ(out.hdr_len, 96);
	CHECK(same_msg(&in, &out));
	return true;
}

TEST(wire_too_many_members)
{
	size_t len;

	/* consistent length, but 65 entries */
	sample(&in, 0, 0);
	encode(&in);
	vc_wire_put_be16(buf + VC_WIRE_OFF_N_MEMBERS, VC_MAX_PEERS + 1);
	len = 88 + 16 * (VC_MAX_PEERS + 1);
	memset(buf + 88, 0, len - 88);
	CHECK_EQ(decode_reason(len), VC_WIRE_R_MEMBERS);
	vc_wire_put_be16(buf + VC_WIRE_OFF_N_MEMBERS, 0xffff);
	CHECK_EQ(decode_reason(88), VC_WIRE_R_MEMBERS);
	return true;
}

TEST(wire_oversize_payload)
{
	sample(&in, 0, 0);
	encode(&in);
	vc_wire_put_be16(buf + VC_WIRE_OFF_PAYLOAD_LEN, VC_MAX_PAYLOAD + 1);
	memset(buf + 88, 0xaa, VC_MAX_PAYLOAD + 1);
	CHECK_EQ(decode_reason(88 + VC_MAX_PAYLOAD + 1), VC_WIRE_R_PAYLOAD_LEN);
	return true;
}

TEST(wire_unknown_auth_and_type)
{
	sample(&in, 0, 0);
	encode(&in);
	buf[VC_WIRE_OFF_AUTH] = 200;
	CHECK_EQ(decode_reason(88), VC_WIRE_R_AUTH);
	buf[VC_WIRE_OFF_AUTH] = 0;
	buf[VC_WIRE_OFF_TYPE] = 0;
	CHECK_EQ(decode_reason(88), VC_WIRE_R_TYPE);
	buf[VC_WIRE_OFF_TYPE] = 2;
	CHECK_EQ(decode_reason(88), VC_WIRE_R_TYPE);
	return true;
}

/* Fields a receiver does not interpret pass through unchanged. */
TEST(wire_unknown_member_state_and_flags_pass)
{
	sample(&in, 1, 0);
	in.members[0].state = 200;
	in.flags = 0xfffe;
	encode(&in);
	CHECK_EQ(decode_reason(88 + 16), VC_WIRE_R_OK);
	CHECK_EQ(out.members[0].state, 200);
	CHECK_EQ(out.flags, 0xfffe);
	return true;
}

TEST(wire_checks_run_in_order)
{
	static const uint32_t peers[] = { 2 };
	struct vc_wire_receiver rx = { 7, 1, peers, 1, false, 0, NULL, 0 };
	enum vc_wire_reason reason;

	/* broken magic and foreign cluster: the structure is checked first */
	sample(&in, 0, 0);
	in.cluster_id = 8;
	encode(&in);
	buf[0] = 0;
	CHECK_EQ(vc_wire_parse(buf, 88, &rx, &out, &reason), -EBADMSG);
	CHECK_EQ(reason, VC_WIRE_R_MAGIC);
	/* magic fine but short beats everything */
	CHECK_EQ(vc_wire_parse(buf, 10, &rx, &out, &reason), -EBADMSG);
	CHECK_EQ(reason, VC_WIRE_R_SHORT);
	/* foreign and unknown: foreign first */
	sample(&in, 0, 0);
	in.cluster_id = 8;
	in.node_id = 9;
	encode(&in);
	CHECK_EQ(vc_wire_parse(buf, 88, &rx, &out, &reason), -EXDEV);
	CHECK_EQ(reason, VC_WIRE_R_FOREIGN);
	/* unknown and wrong dest: unknown first */
	sample(&in, 0, 0);
	in.node_id = 9;
	in.dest_node_id = 5;
	encode(&in);
	CHECK_EQ(vc_wire_parse(buf, 88, &rx, &out, &reason), -ENOENT);
	CHECK_EQ(reason, VC_WIRE_R_UNKNOWN_NODE);
	return true;
}

TEST(wire_classify)
{
	static const uint32_t peers[] = { 2, 3 };
	struct vc_wire_receiver rx = { 7, 1, peers, 2, false, 0, NULL, 0 };
	enum vc_wire_reason reason;

	sample(&in, 0, 0);
	CHECK_EQ(vc_wire_classify(&in, &rx, &reason), 0);
	CHECK_EQ(reason, VC_WIRE_R_OK);
	in.node_id = 3;
	CHECK_EQ(vc_wire_classify(&in, &rx, NULL), 0);
	in.node_id = 4;
	CHECK_EQ(vc_wire_classify(&in, &rx, &reason), -ENOENT);
	CHECK_EQ(reason, VC_WIRE_R_UNKNOWN_NODE);
	in.node_id = 1;		/* our own id, looped back */
	CHECK_EQ(vc_wire_classify(&in, &rx, &reason), -ENOENT);
	in.node_id = 0;
	CHECK_EQ(vc_wire_classify(&in, &rx, &reason), -ENOENT);
	in.node_id = 2;
	in.dest_node_id = 3;
	CHECK_EQ(vc_wire_classify(&in, &rx, &reason), -EBADMSG);
	CHECK_EQ(reason, VC_WIRE_R_DEST);
	in.dest_node_id = 1;
	rx.match_link = true;
	rx.link_id = 2;
	CHECK_EQ(vc_wire_classify(&in, &rx, &reason), -EBADMSG);	/* sent on link 3 */
	CHECK_EQ(reason, VC_WIRE_R_LINK);
	rx.link_id = 3;
	CHECK_EQ(vc_wire_classify(&in, &rx, &reason), 0);
	in.cluster_id = 0;
	CHECK_EQ(vc_wire_classify(&in, &rx, &reason), -EXDEV);
	CHECK_EQ(reason, VC_WIRE_R_FOREIGN);
	return true;
}

TEST(wire_reason_names)
{
	int i, j;

	for (i = 0; i < __VC_WIRE_R_MAX; i++) {
		CHECK(strcmp(vc_wire_reason_name(i), "invalid") != 0);
		CHECK(vc_wire_reason_text(i)[0]);
		for (j = 0; j < i; j++)
			CHECK(strcmp(vc_wire_reason_name(i), vc_wire_reason_name(j)) != 0);
	}
	CHECK_STR(vc_wire_reason_name(__VC_WIRE_R_MAX), "invalid");
	CHECK_STR(vc_wire_reason_counter(VC_WIRE_R_FOREIGN), "foreign");
	CHECK_STR(vc_wire_reason_counter(VC_WIRE_R_UNKNOWN_NODE), "unknown");
	CHECK_STR(vc_wire_reason_counter(VC_WIRE_R_DEST), "malformed");
	CHECK_STR(vc_wire_reason_counter(VC_WIRE_R_LINK), "malformed");
	CHECK_STR(vc_wire_reason_counter(VC_WIRE_R_SHORT), "malformed");
	return true;
}

/* Random bytes never crash the decoder and never decode as valid garbage. */
TEST(wire_fuzz_random_bytes)
{
	unsigned int seed = 12345;
	int i;

	for (i = 0; i < 20000; i++) {
		size_t len = (size_t)rand_r(&seed) % sizeof(buf), k;
		enum vc_wire_reason reason;

		for (k = 0; k < len; k++)
			buf[k] = (uint8_t)rand_r(&seed);
		if (i & 1) {	/* mostly-valid header, random rest */
			sample(&in, (uint16_t)(rand_r(&seed) % 4), (uint16_t)(rand_r(&seed) % 8));
			encode(&in);
			buf[rand_r(&seed) % 88] = (uint8_t)rand_r(&seed);
		}
		if (vc_wire_decode(buf, len, &out, &reason) == 0) {
			size_t want;

			CHECK_EQ(vc_wire_encoded_len(&out, &want), 0);
			CHECK_EQ(want + out.hdr_len - 88, len);
		}
	}
	return true;
}

const struct vc_test wire_tests[] = {
	T(wire_roundtrip_empty),
	T(wire_roundtrip_full),
	T(wire_roundtrip_every_size),
	T(wire_golden_bytes),
	T(wire_encode_rejects_out_of_range),
	T(wire_mac_trailer),
	T(wire_signed_layout_and_golden_tag),
	T(wire_verify_reasons),
	T(wire_parse_order_with_keys),
	T(wire_every_truncation),
	T(wire_trailing_byte),
	T(wire_bad_magic),
	T(wire_bad_version),
	T(wire_hdr_len_too_small),
	T(wire_hdr_len_beyond_datagram),
	T(wire_longer_header_is_skipped),
	T(wire_too_many_members),
	T(wire_oversize_payload),
	T(wire_unknown_auth_and_type),
	T(wire_unknown_member_state_and_flags_pass),
	T(wire_checks_run_in_order),
	T(wire_classify),
	T(wire_reason_names),
	T(wire_fuzz_random_bytes),
	{ NULL, NULL },
};
