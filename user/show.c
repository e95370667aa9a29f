// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Parse and print NODE_GET / PEER_GET replies.  See show.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/vcluster.h>
#include <netlink/genl/genl.h>

#include "json.h"
#include "parse.h"
#include "show.h"


#define VC_ATTR_SLOTS 32

struct attrs {
	bool has[VC_ATTR_SLOTS];
	uint64_t v[VC_ATTR_SLOTS];
	uint8_t payload[VC_MAX_PAYLOAD];
	size_t payload_len;
};

struct link_info {
	struct attrs a;
	struct vc_addr addr;
};

struct object_info {
	struct attrs a;
	size_t n_links;
	struct link_info links[VC_MAX_LINKS];
};

static uint64_t attr_value(const struct nlattr *a)
{
	switch (nla_len(a)) {
	case 1:
		return nla_get_u8(a);
	case 2:
		return nla_get_u16(a);
	case 4:
		return nla_get_u32(a);
	case 8:
		return nla_get_u64(a);
	default:
		return 0;
	}
}

static void parse_link(const struct nlattr *nest, struct link_info *li)
{
	struct nlattr *a;
	int rem, t;

	memset(li, 0, sizeof(*li));
	nla_for_each_nested(a, nest, rem) {
		t = nla_type(a);
		if (t == VC_A_LINK_ADDR4 && nla_len(a) == 4) {
			li->addr.family = AF_INET;
			memcpy(li->addr.bytes, nla_data(a), 4);
		} else if (t == VC_A_LINK_ADDR6 && nla_len(a) == 16) {
			li->addr.family = AF_INET6;
			memcpy(li->addr.bytes, nla_data(a), 16);
		} else if (t < VC_ATTR_SLOTS) {
			li->a.has[t] = true;
			li->a.v[t] = attr_value(a);
		}
	}
	if (li->a.has[VC_A_LINK_PORT])
		li->addr.port = (uint16_t)li->a.v[VC_A_LINK_PORT];
}

/* Top-level attributes of a node or peer reply; @link_type, @payload_type. */
static void parse_object(struct nl_msg *msg, int link_type, int payload_type,
			 struct object_info *oi)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *a;
	int rem, t;

	memset(oi, 0, sizeof(*oi));
	nlmsg_for_each_attr(a, nlh, GENL_HDRLEN, rem) {
		t = nla_type(a);
		if (t == link_type) {
			if (oi->n_links < VC_MAX_LINKS)
				parse_link(a, &oi->links[oi->n_links++]);
		} else if (t == payload_type) {
			oi->a.has[t] = true;
			oi->a.payload_len = (size_t)nla_len(a) > VC_MAX_PAYLOAD ?
					    VC_MAX_PAYLOAD : (size_t)nla_len(a);
			memcpy(oi->a.payload, nla_data(a), oi->a.payload_len);
		} else if (t < VC_ATTR_SLOTS) {
			oi->a.has[t] = true;
			oi->a.v[t] = attr_value(a);
		}
	}
}

/* Milliseconds since a CLOCK_BOOTTIME stamp, -1 for "never". */
static int64_t age_ms(uint64_t then_ns, uint64_t now_ns)
{
	if (!then_ns)
		return -1;
	return then_ns > now_ns ? 0 : (int64_t)((now_ns - then_ns) / 1000000u);
}

static const char *age_text(uint64_t then_ns, uint64_t now_ns, char *buf, size_t size)
{
	int64_t ms = age_ms(then_ns, now_ns);

	if (ms < 0)
		snprintf(buf, size, "never");
	else
		snprintf(buf, size, "%" PRId64 " ms ago", ms);
	return buf;
}

/* ---- JSON output, table driven ---- */

enum fmt { F_U64, F_PEER_STATE, F_NODE_STATE, F_LINK_STATE, F_AGE };

struct field {
	int type;
	const char *key;
	enum fmt fmt;
};

static const struct field node_fields[] = {
	{ VC_A_NODE_NODE_ID, "node_id", F_U64 },
	{ VC_A_NODE_CLUSTER_ID, "cluster_id", F_U64 },
	{ VC_A_NODE_STATE, "state", F_NODE_STATE },
	{ VC_A_NODE_VOTES, "votes", F_U64 },
	{ VC_A_NODE_PORT, "port", F_U64 },
	{ VC_A_NODE_INCARNATION, "incarnation", F_U64 },
	{ VC_A_NODE_INTERVAL_MS, "interval_ms", F_U64 },
	{ VC_A_NODE_MISSES, "misses", F_U64 },
	{ VC_A_NODE_DEAD_MS, "dead_ms", F_U64 },
	{ VC_A_NODE_SEQ, "seq", F_U64 },
	{ VC_A_NODE_PEERS, "peers", F_U64 },
	{ VC_A_NODE_RX_MALFORMED, "rx_malformed", F_U64 },
	{ VC_A_NODE_RX_FOREIGN, "rx_foreign", F_U64 },
	{ VC_A_NODE_RX_UNKNOWN, "rx_unknown", F_U64 },
	{ VC_A_NODE_RX_REFUSED, "rx_refused", F_U64 },
	{ VC_A_NODE_TX_ERRORS, "tx_errors", F_U64 },
	{ 0, NULL, F_U64 },
};

static const struct field peer_fields[] = {
	{ VC_A_PEER_NODE_ID, "node_id", F_U64 },
	{ VC_A_PEER_STATE, "state", F_PEER_STATE },
	{ VC_A_PEER_VOTES, "votes", F_U64 },
	{ VC_A_PEER_INCARNATION, "incarnation", F_U64 },
	{ VC_A_PEER_LAST_HEARD_NS, "last_heard_ns", F_U64 },
	{ VC_A_PEER_LAST_HEARD_NS, "last_heard_age_ms", F_AGE },
	{ VC_A_PEER_STATE_SINCE_NS, "state_since_ns", F_U64 },
	{ VC_A_PEER_STATE_SINCE_NS, "state_age_ms", F_AGE },
	{ VC_A_PEER_RX_REFUSED, "rx_refused", F_U64 },
	{ 0, NULL, F_U64 },
};

static const struct field link_fields[] = {
	{ VC_A_LINK_ID, "id", F_U64 },
	{ VC_A_LINK_PORT, "port", F_U64 },
	{ VC_A_LINK_STATE, "state", F_LINK_STATE },
	{ VC_A_LINK_LAST_HEARD_NS, "last_heard_ns", F_U64 },
	{ VC_A_LINK_LAST_HEARD_NS, "last_heard_age_ms", F_AGE },
	{ VC_A_LINK_RTT_US, "rtt_us", F_U64 },
	{ VC_A_LINK_TX_PACKETS, "tx_packets", F_U64 },
	{ VC_A_LINK_RX_PACKETS, "rx_packets", F_U64 },
	{ VC_A_LINK_LOST, "lost", F_U64 },
	{ VC_A_LINK_MALFORMED, "malformed", F_U64 },
	{ VC_A_LINK_TX_ERRORS, "tx_errors", F_U64 },
	{ 0, NULL, F_U64 },
};

static void json_fields(struct vc_json *j, const struct field *f,
			const struct attrs *a, uint64_t now_ns)
{
	for (; f->key; f++) {
		uint64_t v = a->v[f->type];

		if (!a->has[f->type])
			continue;
		switch (f->fmt) {
		case F_PEER_STATE:
			vc_json_str(j, f->key, vc_peer_state_name((uint32_t)v));
			break;
		case F_NODE_STATE:
			vc_json_str(j, f->key, vc_node_state_name((uint32_t)v));
			break;
		case F_LINK_STATE:
			vc_json_str(j, f->key, vc_link_state_name((uint32_t)v));
			break;
		case F_AGE:
			if (age_ms(v, now_ns) < 0)
				vc_json_null(j, f->key);
			else
				vc_json_u64(j, f->key, (uint64_t)age_ms(v, now_ns));
			break;
		default:
			vc_json_u64(j, f->key, v);
		}
	}
}

static void json_links(struct vc_json *j, const struct object_info *oi,
		       uint64_t now_ns)
{
	char addr[VC_ADDR_STRLEN];
	struct vc_addr bare;
	size_t i;

	vc_json_arr_begin(j, "links");
	for (i = 0; i < oi->n_links; i++) {
		bare = oi->links[i].addr;
		bare.port = 0;
		vc_json_obj_begin(j, NULL);
		json_fields(j, link_fields, &oi->links[i].a, now_ns);
		vc_json_str(j, "address", vc_format_addr(&bare, addr, sizeof(addr)));
		vc_json_str(j, "family", bare.family == AF_INET6 ? "inet6" : "inet");
		vc_json_obj_end(j);
	}
	vc_json_arr_end(j);
}

static void json_object(struct vc_json *j, const struct field *fields,
			const struct object_info *oi, int payload_type, uint64_t now_ns)
{
	char hex[2 * VC_MAX_PAYLOAD + 1];

	vc_json_obj_begin(j, NULL);
	json_fields(j, fields, &oi->a, now_ns);
	if (oi->a.has[payload_type]) {
		vc_format_hex(oi->a.payload, oi->a.payload_len, hex);
		vc_json_str(j, "payload", hex);
	}
	json_links(j, oi, now_ns);
	vc_json_obj_end(j);
}

/* ---- human output ---- */

static void print_payload(FILE *f, const struct attrs *a, int type)
{
	char hex[2 * VC_MAX_PAYLOAD + 1];

	if (!a->has[type])
		return;
	vc_format_hex(a->payload, a->payload_len, hex);
	fprintf(f, "  payload: %s (%zu bytes)\n", a->payload_len ? hex : "-", a->payload_len);
}

static void print_node(FILE *f, const struct object_info *oi)
{
	const uint64_t *v = oi->a.v;
	char addr[VC_ADDR_STRLEN];
	size_t i;

	fprintf(f, "node %" PRIu64 "  cluster %" PRIu64 "  state %s\n",
	       v[VC_A_NODE_NODE_ID], v[VC_A_NODE_CLUSTER_ID],
	       vc_node_state_name((uint32_t)v[VC_A_NODE_STATE]));
	fprintf(f, "  votes %" PRIu64 "  port %" PRIu64 "  incarnation %" PRIu64 "\n",
	       v[VC_A_NODE_VOTES], v[VC_A_NODE_PORT], v[VC_A_NODE_INCARNATION]);
	fprintf(f, "  interval %" PRIu64 " ms  misses %" PRIu64 "  dead %" PRIu64 " ms\n",
	       v[VC_A_NODE_INTERVAL_MS], v[VC_A_NODE_MISSES], v[VC_A_NODE_DEAD_MS]);
	fprintf(f, "  seq %" PRIu64 "  peers %" PRIu64 "\n", v[VC_A_NODE_SEQ], v[VC_A_NODE_PEERS]);
	print_payload(f, &oi->a, VC_A_NODE_PAYLOAD);
	for (i = 0; i < oi->n_links; i++)
		fprintf(f, "  link %" PRIu64 ": %s\n", oi->links[i].a.v[VC_A_LINK_ID],
		       vc_format_addr(&oi->links[i].addr, addr, sizeof(addr)));
	fprintf(f, "  rx: malformed %" PRIu64 "  foreign %" PRIu64 "  unknown %" PRIu64
	       "  refused %" PRIu64 "\n", v[VC_A_NODE_RX_MALFORMED],
	       v[VC_A_NODE_RX_FOREIGN], v[VC_A_NODE_RX_UNKNOWN], v[VC_A_NODE_RX_REFUSED]);
	fprintf(f, "  tx: errors %" PRIu64 "\n", v[VC_A_NODE_TX_ERRORS]);
}

static void print_peer_link(FILE *f, const struct link_info *li, uint64_t now_ns)
{
	const uint64_t *v = li->a.v;
	char addr[VC_ADDR_STRLEN], age[32];

	fprintf(f, "  link %" PRIu64 ": %s  %s  heard %s  rtt %" PRIu64 " us\n",
	       v[VC_A_LINK_ID], vc_format_addr(&li->addr, addr, sizeof(addr)),
	       vc_link_state_name((uint32_t)v[VC_A_LINK_STATE]),
	       age_text(v[VC_A_LINK_LAST_HEARD_NS], now_ns, age, sizeof(age)),
	       v[VC_A_LINK_RTT_US]);
	fprintf(f, "          tx %" PRIu64 "  rx %" PRIu64 "  lost %" PRIu64
	       "  malformed %" PRIu64 "  tx-errors %" PRIu64 "\n",
	       v[VC_A_LINK_TX_PACKETS], v[VC_A_LINK_RX_PACKETS], v[VC_A_LINK_LOST],
	       v[VC_A_LINK_MALFORMED], v[VC_A_LINK_TX_ERRORS]);
}

static void print_peer(FILE *f, const struct object_info *oi, uint64_t now_ns)
{
	const uint64_t *v = oi->a.v;
	char heard[32], since[32];
	size_t i;

	fprintf(f, "peer %" PRIu64 "  state %s  votes %" PRIu64 "  incarnation %" PRIu64 "\n",
	       v[VC_A_PEER_NODE_ID], vc_peer_state_name((uint32_t)v[VC_A_PEER_STATE]),
	       v[VC_A_PEER_VOTES], v[VC_A_PEER_INCARNATION]);
	fprintf(f, "  heard %s  state since %s  refused %" PRIu64 "\n",
	       age_text(v[VC_A_PEER_LAST_HEARD_NS], now_ns, heard, sizeof(heard)),
	       age_text(v[VC_A_PEER_STATE_SINCE_NS], now_ns, since, sizeof(since)),
	       v[VC_A_PEER_RX_REFUSED]);
	print_payload(f, &oi->a, VC_A_PEER_PAYLOAD);
	for (i = 0; i < oi->n_links; i++)
		print_peer_link(f, &oi->links[i], now_ns);
}

void vc_show_node(FILE *f, struct nl_msg *msg, bool json, uint64_t now_ns)
{
	struct object_info oi;
	struct vc_json j;

	parse_object(msg, VC_A_NODE_LINK, VC_A_NODE_PAYLOAD, &oi);
	if (json) {
		vc_json_init(&j, f);
		json_object(&j, node_fields, &oi, VC_A_NODE_PAYLOAD, now_ns);
		vc_json_end(&j);
	} else {
		print_node(f, &oi);
	}
}

void vc_show_peer(FILE *f, struct vc_json *j, struct nl_msg *msg, uint64_t now_ns)
{
	struct object_info oi;

	parse_object(msg, VC_A_PEER_LINK, VC_A_PEER_PAYLOAD, &oi);
	if (j)
		json_object(j, peer_fields, &oi, VC_A_PEER_PAYLOAD, now_ns);
	else
		print_peer(f, &oi, now_ns);
}
