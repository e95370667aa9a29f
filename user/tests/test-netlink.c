// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Netlink encoding per the uapi header (attribute types and sizes, nests,
 * byte order), and how replies are printed, against golden text.
 */
#include <errno.h>
#include <stdlib.h>

#include <netlink/genl/genl.h>

#include "../config.h"
#include "../msg.h"
#include "../show.h"
#include "tap.h"

static char err[VC_ERR_LEN];

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))

static struct nl_msg *new_msg(uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg)
		genlmsg_put(msg, 1, 1, 0x20, 0, 0, cmd, VC_GENL_VERSION);
	return msg;
}

static struct nlattr *find(struct nl_msg *msg, int type)
{
	return nlmsg_find_attr(nlmsg_hdr(msg), GENL_HDRLEN, type);
}

static int count_attrs(struct nl_msg *msg, int type)
{
	struct nlattr *a;
	int rem, n = 0;

	nlmsg_for_each_attr(a, nlmsg_hdr(msg), GENL_HDRLEN, rem)
		n += nla_type(a) == type;
	return n;
}

static struct nlattr *nth(struct nl_msg *msg, int type, int idx)
{
	struct nlattr *a;
	int rem;

	nlmsg_for_each_attr(a, nlmsg_hdr(msg), GENL_HDRLEN, rem)
		if (nla_type(a) == type && idx-- == 0)
			return a;
	return NULL;
}

TEST(netlink_node_set_encoding)
{
	static const uint8_t v4[4] = { 198, 18, 0, 1 };
	static const uint8_t v6[16] = { 0xfd, 0, [15] = 1 };
	struct nl_msg *msg = new_msg(VC_CMD_NODE_SET);
	struct nlattr *tb[VC_A_LINK_MAX + 1], *a;
	struct vc_node_cfg c;
	bool ok = false;

	CHECK(msg);
	CHECK_EQ(vc_args_node_set(ARGC("cluster-id", "7", "port", "5421", "incarnation", "4294967297",
				       "misses", "4", "payload", "0102", "link", "1", "fd00::1",
				       "link", "0", "198.18.0.1"),
				  ARGV("cluster-id", "7", "port", "5421", "incarnation", "4294967297",
				       "misses", "4", "payload", "0102", "link", "1", "fd00::1",
				       "link", "0", "198.18.0.1"), &c, err, sizeof(err)), 0);
	CHECK_EQ(vc_msg_put_node(msg, &c), 0);
	do {
		a = find(msg, VC_A_NODE_CLUSTER_ID);
		if (!a || nla_len(a) != 4 || nla_get_u32(a) != 7) break;
		a = find(msg, VC_A_NODE_PORT);
		if (!a || nla_len(a) != 2 || nla_get_u16(a) != 5421) break;
		a = find(msg, VC_A_NODE_INCARNATION);
		if (!a || nla_len(a) != 8 || nla_get_u64(a) != 4294967297ull) break;
		a = find(msg, VC_A_NODE_MISSES);
		if (!a || nla_len(a) != 4 || nla_get_u32(a) != 4) break;
		a = find(msg, VC_A_NODE_PAYLOAD);
		if (!a || nla_len(a) != 2 || ((uint8_t *)nla_data(a))[1] != 2) break;
		if (find(msg, VC_A_NODE_NODE_ID) || find(msg, VC_A_NODE_VOTES) ||
		    find(msg, VC_A_NODE_INTERVAL_MS)) break;
		if (count_attrs(msg, VC_A_NODE_LINK) != 2) break;
		/* links in id order; ADDR4 network order, ADDR6 16 bytes, no port */
		if (nla_parse_nested(tb, VC_A_LINK_MAX, nth(msg, VC_A_NODE_LINK, 0), NULL) < 0) break;
		if (!tb[VC_A_LINK_ID] || nla_get_u32(tb[VC_A_LINK_ID]) != 0) break;
		if (!tb[VC_A_LINK_ADDR4] || nla_len(tb[VC_A_LINK_ADDR4]) != 4 ||
		    memcmp(nla_data(tb[VC_A_LINK_ADDR4]), v4, 4) || tb[VC_A_LINK_ADDR6] ||
		    tb[VC_A_LINK_PORT]) break;
		if (nla_parse_nested(tb, VC_A_LINK_MAX, nth(msg, VC_A_NODE_LINK, 1), NULL) < 0) break;
		if (!tb[VC_A_LINK_ID] || nla_get_u32(tb[VC_A_LINK_ID]) != 1) break;
		if (!tb[VC_A_LINK_ADDR6] || nla_len(tb[VC_A_LINK_ADDR6]) != 16 ||
		    memcmp(nla_data(tb[VC_A_LINK_ADDR6]), v6, 16) || tb[VC_A_LINK_ADDR4]) break;
		ok = true;
	} while (0);
	nlmsg_free(msg);
	return ok;
}

TEST(netlink_peer_encoding)
{
	struct nl_msg *msg = new_msg(VC_CMD_PEER_ADD);
	struct nlattr *tb[VC_A_LINK_MAX + 1], *a;
	struct vc_peer_cfg c;
	bool ok = false;

	CHECK(msg);
	CHECK_EQ(vc_args_peer(7, ARGV("2", "link", "0", "198.18.0.2:6000", "link", "3", "fd00::2"),
			      &c, err, sizeof(err)), 0);
	CHECK_EQ(vc_msg_put_peer(msg, &c), 0);
	do {
		a = find(msg, VC_A_PEER_NODE_ID);
		if (!a || nla_len(a) != 4 || nla_get_u32(a) != 2) break;
		if (find(msg, VC_A_PEER_VOTES)) break;
		if (count_attrs(msg, VC_A_PEER_LINK) != 2) break;
		if (nla_parse_nested(tb, VC_A_LINK_MAX, nth(msg, VC_A_PEER_LINK, 0), NULL) < 0) break;
		if (!tb[VC_A_LINK_PORT] || nla_len(tb[VC_A_LINK_PORT]) != 2 ||
		    nla_get_u16(tb[VC_A_LINK_PORT]) != 6000) break;
		if (nla_parse_nested(tb, VC_A_LINK_MAX, nth(msg, VC_A_PEER_LINK, 1), NULL) < 0) break;
		if (nla_get_u32(tb[VC_A_LINK_ID]) != 3 || tb[VC_A_LINK_PORT] || !tb[VC_A_LINK_ADDR6]) break;
		ok = true;
	} while (0);
	nlmsg_free(msg);
	return ok;
}

#define NOW_NS 10000000000ull	/* 10 s */

static struct nl_msg *node_reply(void)
{
	static const uint8_t v4[4] = { 198, 18, 0, 1 };
	static const uint8_t v6[16] = { 0xfd, 0, [15] = 1 };
	struct nl_msg *msg = new_msg(VC_CMD_NODE_GET);
	struct nlattr *n;

	nla_put_u32(msg, VC_A_NODE_CLUSTER_ID, 7);
	nla_put_u32(msg, VC_A_NODE_NODE_ID, 1);
	nla_put_u32(msg, VC_A_NODE_VOTES, 1);
	nla_put_u16(msg, VC_A_NODE_PORT, 5420);
	nla_put_u64(msg, VC_A_NODE_INCARNATION, 1732780800);
	nla_put_u32(msg, VC_A_NODE_INTERVAL_MS, 10);
	nla_put_u32(msg, VC_A_NODE_MISSES, 3);
	nla_put_u32(msg, VC_A_NODE_DEAD_MS, 30);
	nla_put(msg, VC_A_NODE_PAYLOAD, 2, "\x0a\xff");
	n = nla_nest_start(msg, VC_A_NODE_LINK);
	nla_put_u32(msg, VC_A_LINK_ID, 0);
	nla_put(msg, VC_A_LINK_ADDR4, 4, v4);
	nla_nest_end(msg, n);
	n = nla_nest_start(msg, VC_A_NODE_LINK);
	nla_put_u32(msg, VC_A_LINK_ID, 1);
	nla_put(msg, VC_A_LINK_ADDR6, 16, v6);
	nla_nest_end(msg, n);
	nla_put_u32(msg, VC_A_NODE_STATE, VC_NODE_STATE_RUNNING);
	nla_put_u64(msg, VC_A_NODE_SEQ, 1234);
	nla_put_u32(msg, VC_A_NODE_PEERS, 2);
	nla_put_u64(msg, VC_A_NODE_RX_MALFORMED, 5);
	nla_put_u64(msg, VC_A_NODE_RX_FOREIGN, 6);
	nla_put_u64(msg, VC_A_NODE_RX_UNKNOWN, 7);
	nla_put_u64(msg, VC_A_NODE_RX_REFUSED, 8);
	nla_put_u64(msg, VC_A_NODE_TX_ERRORS, 9);
	return msg;
}

static struct nl_msg *peer_reply(void)
{
	static const uint8_t v4[4] = { 198, 18, 0, 2 };
	struct nl_msg *msg = new_msg(VC_CMD_PEER_GET);
	struct nlattr *n;

	nla_put_u32(msg, VC_A_PEER_NODE_ID, 2);
	nla_put_u32(msg, VC_A_PEER_VOTES, 1);
	nla_put_u32(msg, VC_A_PEER_STATE, VC_PEER_STATE_UP);
	nla_put_u64(msg, VC_A_PEER_INCARNATION, 99);
	nla_put_u64(msg, VC_A_PEER_LAST_HEARD_NS, NOW_NS - 3000000);
	nla_put_u64(msg, VC_A_PEER_STATE_SINCE_NS, NOW_NS - 2000000000);
	nla_put_u64(msg, VC_A_PEER_RX_REFUSED, 4);
	n = nla_nest_start(msg, VC_A_PEER_LINK);
	nla_put_u32(msg, VC_A_LINK_ID, 0);
	nla_put(msg, VC_A_LINK_ADDR4, 4, v4);
	nla_put_u16(msg, VC_A_LINK_PORT, 5421);
	nla_put_u32(msg, VC_A_LINK_STATE, VC_LINK_STATE_UP);
	nla_put_u64(msg, VC_A_LINK_LAST_HEARD_NS, NOW_NS - 3000000);
	nla_put_u32(msg, VC_A_LINK_RTT_US, 120);
	nla_put_u64(msg, VC_A_LINK_TX_PACKETS, 100);
	nla_put_u64(msg, VC_A_LINK_RX_PACKETS, 99);
	nla_put_u64(msg, VC_A_LINK_LOST, 1);
	nla_put_u64(msg, VC_A_LINK_MALFORMED, 2);
	nla_put_u64(msg, VC_A_LINK_TX_ERRORS, 3);
	nla_nest_end(msg, n);
	n = nla_nest_start(msg, VC_A_PEER_LINK);
	nla_put_u32(msg, VC_A_LINK_ID, 1);
	nla_put(msg, VC_A_LINK_ADDR6, 16, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x02");
	nla_put_u32(msg, VC_A_LINK_STATE, VC_LINK_STATE_DOWN);
	nla_put_u64(msg, VC_A_LINK_LAST_HEARD_NS, 0);
	nla_nest_end(msg, n);
	return msg;
}

/* Run @fn into a memory stream and compare with @want. */
#define CHECK_OUTPUT(want, ...) do {					\
	char *_buf = NULL;						\
	size_t _len = 0;						\
	FILE *f = open_memstream(&_buf, &_len);				\
	bool _same;							\
	CHECK(f);							\
	__VA_ARGS__;							\
	fclose(f);							\
	_same = strcmp(_buf, want) == 0;				\
	if (!_same)							\
		printf("# got:\n%s# want:\n%s", _buf, want);		\
	free(_buf);							\
	CHECK(_same);							\
} while (0)

TEST(show_node_text)
{
	struct nl_msg *msg = node_reply();

	CHECK_OUTPUT("node 1  cluster 7  state running\n"
		     "  votes 1  port 5420  incarnation 1732780800\n"
		     "  interval 10 ms  misses 3  dead 30 ms\n"
		     "  seq 1234  peers 2\n"
		     "  payload: 0aff (2 bytes)\n"
		     "  link 0: 198.18.0.1\n"
		     "  link 1: fd00::1\n"
		     "  rx: malformed 5  foreign 6  unknown 7  refused 8\n"
		     "  tx: errors 9\n",
		     vc_show_node(f, msg, false, NOW_NS));
	nlmsg_free(msg);
	return true;
}

TEST(show_node_json)
{
	struct nl_msg *msg = node_reply();

	CHECK_OUTPUT("{\"node_id\":1,\"cluster_id\":7,\"state\":\"running\",\"votes\":1,\"port\":5420,"
		     "\"incarnation\":1732780800,\"interval_ms\":10,\"misses\":3,\"dead_ms\":30,"
		     "\"seq\":1234,\"peers\":2,\"rx_malformed\":5,\"rx_foreign\":6,\"rx_unknown\":7,"
		     "\"rx_refused\":8,\"tx_errors\":9,\"payload\":\"0aff\",\"links\":["
		     "{\"id\":0,\"address\":\"198.18.0.1\",\"family\":\"inet\"},"
		     "{\"id\":1,\"address\":\"fd00::1\",\"family\":\"inet6\"}]}\n",
		     vc_show_node(f, msg, true, NOW_NS));
	nlmsg_free(msg);
	return true;
}

TEST(show_peer_text)
{
	struct nl_msg *msg = peer_reply();

	CHECK_OUTPUT("peer 2  state up  votes 1  incarnation 99\n"
		     "  heard 3 ms ago  state since 2000 ms ago  refused 4\n"
		     "  link 0: 198.18.0.2:5421  up  heard 3 ms ago  rtt 120 us\n"
		     "          tx 100  rx 99  lost 1  malformed 2  tx-errors 3\n"
		     "  link 1: fd00::2  down  heard never  rtt 0 us\n"
		     "          tx 0  rx 0  lost 0  malformed 0  tx-errors 0\n",
		     vc_show_peer(f, NULL, msg, NOW_NS));
	nlmsg_free(msg);
	return true;
}

TEST(show_peer_json)
{
	struct nl_msg *msg = peer_reply();
	struct vc_json j;

	CHECK_OUTPUT("[{\"node_id\":2,\"state\":\"up\",\"votes\":1,\"incarnation\":99,"
		     "\"last_heard_ns\":9997000000,\"last_heard_age_ms\":3,"
		     "\"state_since_ns\":8000000000,\"state_age_ms\":2000,\"rx_refused\":4,"
		     "\"links\":[{\"id\":0,\"port\":5421,\"state\":\"up\",\"last_heard_ns\":9997000000,"
		     "\"last_heard_age_ms\":3,\"rtt_us\":120,\"tx_packets\":100,\"rx_packets\":99,"
		     "\"lost\":1,\"malformed\":2,\"tx_errors\":3,\"address\":\"198.18.0.2\",\"family\":\"inet\"},"
		     "{\"id\":1,\"state\":\"down\",\"last_heard_ns\":0,\"last_heard_age_ms\":null,"
		     "\"address\":\"fd00::2\",\"family\":\"inet6\"}]},"
		     "{\"node_id\":2,\"state\":\"up\",\"votes\":1,\"incarnation\":99,"
		     "\"last_heard_ns\":9997000000,\"last_heard_age_ms\":3,"
		     "\"state_since_ns\":8000000000,\"state_age_ms\":2000,\"rx_refused\":4,"
		     "\"links\":[{\"id\":0,\"port\":5421,\"state\":\"up\",\"last_heard_ns\":9997000000,"
		     "\"last_heard_age_ms\":3,\"rtt_us\":120,\"tx_packets\":100,\"rx_packets\":99,"
		     "\"lost\":1,\"malformed\":2,\"tx_errors\":3,\"address\":\"198.18.0.2\",\"family\":\"inet\"},"
		     "{\"id\":1,\"state\":\"down\",\"last_heard_ns\":0,\"last_heard_age_ms\":null,"
		     "\"address\":\"fd00::2\",\"family\":\"inet6\"}]}]\n",
		     vc_json_init(&j, f); vc_json_arr_begin(&j, NULL);
		     vc_show_peer(f, &j, msg, NOW_NS); vc_show_peer(f, &j, msg, NOW_NS);
		     vc_json_arr_end(&j); vc_json_end(&j));
	nlmsg_free(msg);
	return true;
}

const struct vc_test netlink_tests[] = {
	T(netlink_node_set_encoding),
	T(netlink_peer_encoding),
	T(show_node_text),
	T(show_node_json),
	T(show_peer_text),
	T(show_peer_json),
	{ NULL, NULL },
};
