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


#define VC_ATTR_SLOTS 64
#define VC_MAX_KEYS 8

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

struct key_info {
	uint32_t id;
	bool primary;
};

struct object_info {
	struct attrs a;
	size_t n_links;
	struct link_info links[VC_MAX_LINKS];
	size_t n_keys;
	struct key_info keys[VC_MAX_KEYS];
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

static void parse_key(const struct nlattr *nest, struct key_info *ki)
{
	struct nlattr *a;
	int rem;

	memset(ki, 0, sizeof(*ki));
	nla_for_each_nested(a, nest, rem) {
		if (nla_type(a) == VC_A_KEY_ID && nla_len(a) == 4)
			ki->id = nla_get_u32(a);
		else if (nla_type(a) == VC_A_KEY_PRIMARY && nla_len(a) == 4)
			ki->primary = nla_get_u32(a) != 0;
	}
}

/*
 * Top-level attributes of a node or peer reply; @link_type, @payload_type
 * and @key_type (0 for none) are the nests and binaries to treat apart.
 */
static void parse_object(struct nl_msg *msg, int link_type, int payload_type,
			 int key_type, struct object_info *oi)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *a;
	int rem, t;

	memset(oi, 0, sizeof(*oi));
	nlmsg_for_each_attr(a, nlh, GENL_HDRLEN, rem) {
		t = nla_type(a);
		if (key_type && t == key_type) {
			if (oi->n_keys < VC_MAX_KEYS)
				parse_key(a, &oi->keys[oi->n_keys++]);
		} else if (t == link_type) {
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

/* Milliseconds until a deadline (negative: passed), rounded toward zero. */
static int64_t remaining_ms(uint64_t deadline_ns, uint64_t now_ns)
{
	if (deadline_ns >= now_ns)
		return (int64_t)((deadline_ns - now_ns) / 1000000u);
	return -(int64_t)((now_ns - deadline_ns) / 1000000u);
}

/* "in 12 ms" / "12 ms ago"; "none" for a 0 deadline. */
static const char *deadline_text(uint64_t deadline_ns, uint64_t now_ns, char *buf,
				 size_t size)
{
	int64_t ms;

	if (!deadline_ns) {
		snprintf(buf, size, "none");
		return buf;
	}
	ms = remaining_ms(deadline_ns, now_ns);
	if (ms >= 0)
		snprintf(buf, size, "in %" PRId64 " ms", ms);
	else
		snprintf(buf, size, "%" PRId64 " ms ago", -ms);
	return buf;
}

static const char *yes_no(uint64_t v)
{
	return v ? "yes" : "no";
}

/* ---- JSON output, table driven ---- */

enum fmt {
	F_U64, F_PEER_STATE, F_NODE_STATE, F_LINK_STATE, F_AGE,
	F_BOOL,			/* 0/1 as false/true */
	F_REMAIN,		/* ms until a deadline, negative when past, null for 0 */
	F_ACTION, F_FENCE_REASON, F_AUTH,
};

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
	{ VC_A_NODE_RX_BAD_MAC, "rx_bad_mac", F_U64 },
	{ VC_A_NODE_EXPECTED_VOTES, "expected_votes", F_U64 },
	{ VC_A_NODE_VOTES_SEEN, "votes_seen", F_U64 },
	{ VC_A_NODE_QUORATE, "quorate", F_BOOL },
	{ VC_A_NODE_QUORATE_UNTIL_NS, "quorate_until_ns", F_U64 },
	{ VC_A_NODE_QUORATE_UNTIL_NS, "quorate_remaining_ms", F_REMAIN },
	{ VC_A_NODE_FENCE_ARMED, "fence_armed", F_BOOL },
	{ VC_A_NODE_FENCE_ACTION, "fence_action", F_ACTION },
	{ VC_A_NODE_AGENT_TIMEOUT_MS, "agent_timeout_ms", F_U64 },
	{ VC_A_NODE_QUORUM_TIMEOUT_MS, "quorum_timeout_ms", F_U64 },
	{ VC_A_NODE_KILL_BOUND_MS, "kill_bound_ms", F_U64 },
	{ VC_A_NODE_PRETIMEOUT_MS, "pretimeout_ms", F_U64 },
	{ VC_A_NODE_NOWAYOUT, "nowayout", F_BOOL },
	{ VC_A_NODE_FENCE_MARGIN_MS, "fence_margin_ms", F_U64 },
	{ VC_A_NODE_FENCED, "fenced", F_BOOL },
	{ VC_A_NODE_FENCE_REASON, "fence_reason", F_FENCE_REASON },
	{ VC_A_NODE_FENCED_AT_NS, "fenced_at_ns", F_U64 },
	{ VC_A_NODE_FENCED_AT_NS, "fenced_age_ms", F_AGE },
	{ VC_A_NODE_LAST_PET_NS, "last_pet_ns", F_U64 },
	{ VC_A_NODE_LAST_PET_NS, "last_pet_age_ms", F_AGE },
	{ VC_A_NODE_FENCE_COUNT, "fence_count", F_U64 },
	{ VC_A_NODE_PROCS, "procs", F_U64 },
	{ VC_A_NODE_AUTH, "auth", F_AUTH },
	{ VC_A_NODE_INSECURE, "insecure", F_BOOL },
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
	{ VC_A_PEER_FENCE_ACTION, "fence_action", F_ACTION },
	{ VC_A_PEER_FENCE_STRONG, "fence_strong", F_BOOL },
	{ VC_A_PEER_DEAD_MS, "dead_ms", F_U64 },
	{ VC_A_PEER_QUORUM_TIMEOUT_MS, "quorum_timeout_ms", F_U64 },
	{ VC_A_PEER_KILL_BOUND_MS, "kill_bound_ms", F_U64 },
	{ VC_A_PEER_FENCED_BY_NS, "fenced_by_ns", F_U64 },
	{ VC_A_PEER_FENCED_BY_NS, "fenced_by_remaining_ms", F_REMAIN },
	{ VC_A_PEER_WIRE_FLAGS, "wire_flags", F_U64 },
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
	{ VC_A_LINK_BAD_MAC, "bad_mac", F_U64 },
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
		case F_REMAIN:
			if (!v)
				vc_json_null(j, f->key);
			else
				vc_json_i64(j, f->key, remaining_ms(v, now_ns));
			break;
		case F_BOOL:
			vc_json_bool(j, f->key, v != 0);
			break;
		case F_ACTION:
			vc_json_str(j, f->key, vc_fence_action_name((uint32_t)v));
			break;
		case F_FENCE_REASON:
			vc_json_str(j, f->key, vc_fence_reason_name((uint32_t)v));
			break;
		case F_AUTH:
			vc_json_str(j, f->key, vc_auth_name((uint32_t)v));
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

/* Key ids and which is primary; never values (the kernel has no way to
 * report them anyway). */
static void json_keys(struct vc_json *j, const struct object_info *oi)
{
	size_t i;

	if (!oi->a.has[VC_A_NODE_AUTH] && !oi->n_keys)
		return;
	vc_json_arr_begin(j, "keys");
	for (i = 0; i < oi->n_keys; i++) {
		vc_json_obj_begin(j, NULL);
		vc_json_u64(j, "id", oi->keys[i].id);
		vc_json_bool(j, "primary", oi->keys[i].primary);
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
	json_keys(j, oi);
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

/* "  quorum: votes 2/3  quorate yes  until in 1998 ms" (when reported). */
static void print_quorum(FILE *f, const struct object_info *oi, uint64_t now_ns)
{
	const uint64_t *v = oi->a.v;
	char until[32];

	if (!oi->a.has[VC_A_NODE_EXPECTED_VOTES])
		return;
	if (!v[VC_A_NODE_EXPECTED_VOTES]) {
		fprintf(f, "  quorum: off (expected-votes 0)  votes seen %" PRIu64 "\n",
			v[VC_A_NODE_VOTES_SEEN]);
		return;
	}
	fprintf(f, "  quorum: votes %" PRIu64 "/%" PRIu64 " (seen/expected)  quorate %s"
		"  until %s\n", v[VC_A_NODE_VOTES_SEEN], v[VC_A_NODE_EXPECTED_VOTES],
		yes_no(v[VC_A_NODE_QUORATE]),
		deadline_text(v[VC_A_NODE_QUORATE_UNTIL_NS], now_ns, until, sizeof(until)));
}

/* Fence state lines (when reported), each starting with @indent. */
static void print_fence(FILE *f, const struct object_info *oi, uint64_t now_ns,
			const char *indent)
{
	const uint64_t *v = oi->a.v;
	char pet[32], at[32];

	if (!oi->a.has[VC_A_NODE_FENCE_ARMED])
		return;
	if (v[VC_A_NODE_FENCE_ARMED])
		fprintf(f, "%sfence: armed, action %s  agent-timeout %" PRIu64 " ms"
			"  quorum-timeout %" PRIu64 " ms  kill-bound %" PRIu64 " ms"
			"  pretimeout %" PRIu64 " ms  nowayout %s\n", indent,
			vc_fence_action_name((uint32_t)v[VC_A_NODE_FENCE_ACTION]),
			v[VC_A_NODE_AGENT_TIMEOUT_MS], v[VC_A_NODE_QUORUM_TIMEOUT_MS],
			v[VC_A_NODE_KILL_BOUND_MS], v[VC_A_NODE_PRETIMEOUT_MS],
			yes_no(v[VC_A_NODE_NOWAYOUT]));
	else
		fprintf(f, "%sfence: not armed\n", indent);
	fprintf(f, "%s  last pet %s  fenced %s", indent,
		age_text(v[VC_A_NODE_LAST_PET_NS], now_ns, pet, sizeof(pet)),
		yes_no(v[VC_A_NODE_FENCED]));
	if (v[VC_A_NODE_FENCED] || v[VC_A_NODE_FENCE_REASON])
		fprintf(f, " (reason %s, %s)",
			vc_fence_reason_name((uint32_t)v[VC_A_NODE_FENCE_REASON]),
			age_text(v[VC_A_NODE_FENCED_AT_NS], now_ns, at, sizeof(at)));
	fprintf(f, "  fired %" PRIu64 " times  procs %" PRIu64 "  margin %" PRIu64 " ms\n",
		v[VC_A_NODE_FENCE_COUNT], v[VC_A_NODE_PROCS], v[VC_A_NODE_FENCE_MARGIN_MS]);
}

/* "  auth: blake2s  keys 1 (primary), 2  insecure no" (when reported). */
static void print_auth(FILE *f, const struct object_info *oi)
{
	const uint64_t *v = oi->a.v;
	size_t i;

	if (!oi->a.has[VC_A_NODE_AUTH])
		return;
	fprintf(f, "  auth: %s  keys ", vc_auth_name((uint32_t)v[VC_A_NODE_AUTH]));
	if (!oi->n_keys)
		fprintf(f, "none");
	for (i = 0; i < oi->n_keys; i++)
		fprintf(f, "%s%u%s", i ? ", " : "", oi->keys[i].id,
			oi->keys[i].primary ? " (primary)" : "");
	fprintf(f, "  insecure %s\n", yes_no(v[VC_A_NODE_INSECURE]));
}

static void print_node(FILE *f, const struct object_info *oi, uint64_t now_ns)
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
	print_quorum(f, oi, now_ns);
	print_fence(f, oi, now_ns, "  ");
	print_auth(f, oi);
	fprintf(f, "  rx: malformed %" PRIu64 "  foreign %" PRIu64 "  unknown %" PRIu64
	       "  refused %" PRIu64, v[VC_A_NODE_RX_MALFORMED],
	       v[VC_A_NODE_RX_FOREIGN], v[VC_A_NODE_RX_UNKNOWN], v[VC_A_NODE_RX_REFUSED]);
	if (oi->a.has[VC_A_NODE_RX_BAD_MAC])
		fprintf(f, "  bad-mac %" PRIu64, v[VC_A_NODE_RX_BAD_MAC]);
	fprintf(f, "\n  tx: errors %" PRIu64 "\n", v[VC_A_NODE_TX_ERRORS]);
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
	       "  malformed %" PRIu64 "  tx-errors %" PRIu64,
	       v[VC_A_LINK_TX_PACKETS], v[VC_A_LINK_RX_PACKETS], v[VC_A_LINK_LOST],
	       v[VC_A_LINK_MALFORMED], v[VC_A_LINK_TX_ERRORS]);
	if (li->a.has[VC_A_LINK_BAD_MAC])
		fprintf(f, "  bad-mac %" PRIu64, v[VC_A_LINK_BAD_MAC]);
	fputc('\n', f);
}

/*
 * What the peer advertised about its fencing, and when it has certainly
 * fenced itself on our clock (FENCED_BY_NS; 0 when it promised nothing).
 */
static void print_peer_fencing(FILE *f, const struct object_info *oi, uint64_t now_ns)
{
	const uint64_t *v = oi->a.v;
	char by[32];

	if (!oi->a.has[VC_A_PEER_FENCE_ACTION])
		return;
	if (v[VC_A_PEER_FENCE_ACTION] == VC_FENCE_ACTION_NONE) {
		fprintf(f, "  fencing: not armed (no fencing deadline)  dead %" PRIu64 " ms\n",
			v[VC_A_PEER_DEAD_MS]);
		return;
	}
	fprintf(f, "  fencing: %s (%s)  dead %" PRIu64 " ms  quorum-timeout %" PRIu64
		" ms  kill-bound %" PRIu64 " ms\n",
		vc_fence_action_name((uint32_t)v[VC_A_PEER_FENCE_ACTION]),
		v[VC_A_PEER_FENCE_STRONG] ? "strong" : "weak", v[VC_A_PEER_DEAD_MS],
		v[VC_A_PEER_QUORUM_TIMEOUT_MS], v[VC_A_PEER_KILL_BOUND_MS]);
	if (v[VC_A_PEER_FENCED_BY_NS])
		fprintf(f, "  fenced by: %s\n",
			deadline_text(v[VC_A_PEER_FENCED_BY_NS], now_ns, by, sizeof(by)));
	else
		fprintf(f, "  fenced by: none (no quorum deadline: do not rely on it)\n");
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
	print_peer_fencing(f, oi, now_ns);
	for (i = 0; i < oi->n_links; i++)
		print_peer_link(f, &oi->links[i], now_ns);
}

void vc_show_node(FILE *f, struct nl_msg *msg, bool json, uint64_t now_ns)
{
	struct object_info oi;
	struct vc_json j;

	parse_object(msg, VC_A_NODE_LINK, VC_A_NODE_PAYLOAD, VC_A_NODE_KEY, &oi);
	if (json) {
		vc_json_init(&j, f);
		json_object(&j, node_fields, &oi, VC_A_NODE_PAYLOAD, now_ns);
		vc_json_end(&j);
	} else {
		print_node(f, &oi, now_ns);
	}
}

void vc_show_peer(FILE *f, struct vc_json *j, struct nl_msg *msg, uint64_t now_ns)
{
	struct object_info oi;

	parse_object(msg, VC_A_PEER_LINK, VC_A_PEER_PAYLOAD, 0, &oi);
	if (j)
		json_object(j, peer_fields, &oi, VC_A_PEER_PAYLOAD, now_ns);
	else
		print_peer(f, &oi, now_ns);
}

static const struct field fence_fields[] = {
	{ VC_A_NODE_FENCE_ARMED, "armed", F_BOOL },
	{ VC_A_NODE_FENCE_ACTION, "action", F_ACTION },
	{ VC_A_NODE_AGENT_TIMEOUT_MS, "agent_timeout_ms", F_U64 },
	{ VC_A_NODE_QUORUM_TIMEOUT_MS, "quorum_timeout_ms", F_U64 },
	{ VC_A_NODE_KILL_BOUND_MS, "kill_bound_ms", F_U64 },
	{ VC_A_NODE_PRETIMEOUT_MS, "pretimeout_ms", F_U64 },
	{ VC_A_NODE_NOWAYOUT, "nowayout", F_BOOL },
	{ VC_A_NODE_FENCED, "fenced", F_BOOL },
	{ VC_A_NODE_FENCE_REASON, "fence_reason", F_FENCE_REASON },
	{ VC_A_NODE_FENCED_AT_NS, "fenced_at_ns", F_U64 },
	{ VC_A_NODE_FENCED_AT_NS, "fenced_age_ms", F_AGE },
	{ VC_A_NODE_LAST_PET_NS, "last_pet_ns", F_U64 },
	{ VC_A_NODE_LAST_PET_NS, "last_pet_age_ms", F_AGE },
	{ VC_A_NODE_FENCE_COUNT, "fence_count", F_U64 },
	{ VC_A_NODE_FENCE_MARGIN_MS, "fence_margin_ms", F_U64 },
	{ VC_A_NODE_PROCS, "procs", F_U64 },
	{ 0, NULL, F_U64 },
};

void vc_show_fence(FILE *f, struct nl_msg *msg, bool json, uint64_t now_ns,
		   const uint32_t *pids, size_t n_pids)
{
	struct object_info oi;
	struct vc_json j;
	size_t i;

	parse_object(msg, VC_A_NODE_LINK, VC_A_NODE_PAYLOAD, VC_A_NODE_KEY, &oi);
	if (json) {
		vc_json_init(&j, f);
		vc_json_obj_begin(&j, NULL);
		json_fields(&j, fence_fields, &oi.a, now_ns);
		vc_json_arr_begin(&j, "pids");
		for (i = 0; i < n_pids; i++)
			vc_json_u64(&j, NULL, pids[i]);
		vc_json_arr_end(&j);
		vc_json_obj_end(&j);
		vc_json_end(&j);
		return;
	}
	if (!oi.a.has[VC_A_NODE_FENCE_ARMED]) {
		fprintf(f, "fence: not reported by this kernel module\n");
		return;
	}
	print_fence(f, &oi, now_ns, "");
	fprintf(f, "  pids:");
	if (!n_pids)
		fprintf(f, " none");
	for (i = 0; i < n_pids; i++)
		fprintf(f, " %u", pids[i]);
	fputc('\n', f);
}

void vc_show_keys(FILE *f, struct nl_msg *msg, bool json)
{
	struct object_info oi;
	struct vc_json j;
	size_t i;

	parse_object(msg, VC_A_NODE_LINK, VC_A_NODE_PAYLOAD, VC_A_NODE_KEY, &oi);
	if (json) {
		vc_json_init(&j, f);
		vc_json_obj_begin(&j, NULL);
		if (oi.a.has[VC_A_NODE_AUTH])
			vc_json_str(&j, "auth", vc_auth_name((uint32_t)oi.a.v[VC_A_NODE_AUTH]));
		if (oi.a.has[VC_A_NODE_INSECURE])
			vc_json_bool(&j, "insecure", oi.a.v[VC_A_NODE_INSECURE] != 0);
		json_keys(&j, &oi);
		vc_json_obj_end(&j);
		vc_json_end(&j);
		return;
	}
	for (i = 0; i < oi.n_keys; i++)
		fprintf(f, "key %u%s\n", oi.keys[i].id, oi.keys[i].primary ? "  primary" : "");
	if (!oi.n_keys)
		fprintf(f, "no keys%s\n", oi.a.v[VC_A_NODE_INSECURE] ?
			" (insecure: running without authentication is allowed)" : "");
}
