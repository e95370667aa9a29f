// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Command-line parsing and the pure helpers behind it. */
#include <errno.h>
#include <sys/socket.h>

#include "../config.h"
#include "../parse.h"
#include "tap.h"

static char err[VC_ERR_LEN];

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))
#define NODE_SET(cfg, ...) vc_args_node_set(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), cfg, err, sizeof(err))
#define PEER(cfg, ...) vc_args_peer(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), cfg, err, sizeof(err))

TEST(args_node_set_all)
{
	struct vc_node_cfg c;
	char a[VC_ADDR_STRLEN];

	CHECK_EQ(NODE_SET(&c, "cluster-id", "7", "node-id", "1", "votes", "2", "port", "5421",
			  "incarnation", "99", "interval-ms", "100", "misses", "5", "payload", "0xabcd",
			  "link", "0", "198.18.0.1", "link", "1", "fd00::1"), 0);
	CHECK_EQ(c.set, VC_NODE_F_CLUSTER_ID | VC_NODE_F_NODE_ID | VC_NODE_F_VOTES | VC_NODE_F_PORT |
			VC_NODE_F_INCARNATION | VC_NODE_F_INTERVAL_MS | VC_NODE_F_MISSES |
			VC_NODE_F_PAYLOAD | VC_NODE_F_LINKS);
	CHECK_EQ(c.cluster_id, 7);
	CHECK_EQ(c.votes, 2);
	CHECK_EQ(c.port, 5421);
	CHECK_EQ(c.incarnation, 99);
	CHECK_EQ(c.interval_ms, 100);
	CHECK_EQ(c.misses, 5);
	CHECK_EQ(c.payload_len, 2);
	CHECK_EQ(c.payload[0], 0xab);
	CHECK_STR(vc_format_addr(&c.links[0], a, sizeof(a)), "198.18.0.1");
	CHECK_STR(vc_format_addr(&c.links[1], a, sizeof(a)), "fd00::1");
	return true;
}

TEST(args_node_set_payload_string)
{
	struct vc_node_cfg c;

	CHECK_EQ(NODE_SET(&c, "--payload-string", "hello"), 0);
	CHECK_EQ(c.set, VC_NODE_F_PAYLOAD);
	CHECK_EQ(c.payload_len, 5);
	CHECK_EQ(NODE_SET(&c, "payload", ""), 0);	/* clears the payload */
	CHECK_EQ(c.set, VC_NODE_F_PAYLOAD);
	CHECK_EQ(c.payload_len, 0);
	return true;
}

TEST(args_node_set_errors)
{
	struct vc_node_cfg c;

	CHECK_EQ(vc_args_node_set(0, ARGV(NULL), &c, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "nothing to set (valid: cluster-id, node-id, votes, port, incarnation, interval-ms, misses, payload, payload-string, expected-votes, fence-margin-ms, insecure, link)");
	CHECK_EQ(NODE_SET(&c, "misses", "1"), -EINVAL);
	CHECK_STR(err, "misses: '1' is out of range (valid: 2..1000)");
	CHECK_EQ(NODE_SET(&c, "misses"), -EINVAL);
	CHECK_STR(err, "'misses' needs a value");
	CHECK_EQ(NODE_SET(&c, "misses", "3", "misses", "4"), -EINVAL);
	CHECK_STR(err, "'misses' given twice");
	CHECK_EQ(NODE_SET(&c, "payload", "aa", "--payload-string", "x"), -EINVAL);
	CHECK_STR(err, "'--payload-string' given twice");
	CHECK_EQ(NODE_SET(&c, "mises", "3"), -EINVAL);
	CHECK_STR(err, "unknown argument 'mises' (valid: cluster-id, node-id, votes, port, incarnation, interval-ms, misses, payload, --payload-string, expected-votes, fence-margin-ms, insecure, link)");
	CHECK_EQ(NODE_SET(&c, "insecure", "2"), -EINVAL);
	CHECK_STR(err, "insecure: '2' is not yes or no (valid: yes, no, 1, 0)");
	CHECK_EQ(NODE_SET(&c, "fence-margin-ms", "-1"), -EINVAL);
	CHECK_STR(err, "fence-margin-ms: '-1' is not a number (valid: 0..60000)");
	CHECK_EQ(NODE_SET(&c, "link", "0"), -EINVAL);
	CHECK_STR(err, "'link' needs an ID and an ADDRESS");
	CHECK_EQ(NODE_SET(&c, "link", "8", "198.18.0.1"), -EINVAL);
	CHECK_STR(err, "link: '8' is not a link id (valid: 0..7)");
	CHECK_EQ(NODE_SET(&c, "link", "0", "198.18.0.1:1"), -EINVAL);
	CHECK_STR(err, "link 0: '198.18.0.1:1' is not an address (valid: A.B.C.D or an IPv6 address, without a port)");
	CHECK_EQ(NODE_SET(&c, "link", "0", "198.18.0.1", "link", "0", "fd00::1"), -EINVAL);
	CHECK_STR(err, "link 0 given twice");
	return true;
}

TEST(args_node_set_issue3)
{
	struct vc_node_cfg c;

	CHECK_EQ(NODE_SET(&c, "expected-votes", "3", "fence-margin-ms", "250", "insecure", "1"), 0);
	CHECK_EQ(c.set, VC_NODE_F_EXPECTED_VOTES | VC_NODE_F_FENCE_MARGIN_MS | VC_NODE_F_INSECURE);
	CHECK_EQ(c.expected_votes, 3);
	CHECK_EQ(c.fence_margin_ms, 250);
	CHECK(c.insecure);
	/* parity is the kernel's to refuse, with its explanation */
	CHECK_EQ(NODE_SET(&c, "expected-votes", "4"), 0);
	CHECK_EQ(NODE_SET(&c, "insecure", "0"), 0);
	CHECK(!c.insecure);
	CHECK_EQ(c.set, VC_NODE_F_INSECURE);
	return true;
}

#define ARM(cfg, ...) vc_args_fence_arm(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), cfg, err, sizeof(err))

TEST(args_fence_arm)
{
	struct vc_fence_cfg f;

	CHECK_EQ(ARM(&f, "reboot", "agent-timeout-ms", "2000", "nowayout", "quorum-timeout-ms", "500",
		     "kill-bound-ms", "10", "pretimeout-ms", "1999"), 0);
	CHECK_EQ(f.action, VC_FENCE_ACTION_REBOOT);
	CHECK_EQ(f.agent_timeout_ms, 2000);
	CHECK_EQ(f.quorum_timeout_ms, 500);
	CHECK_EQ(f.kill_bound_ms, 10);
	CHECK_EQ(f.pretimeout_ms, 1999);
	CHECK(f.nowayout);
	CHECK_EQ(ARM(&f, "log"), 0);
	CHECK_EQ(f.set, VC_FENCE_F_ACTION);
	CHECK_EQ(f.action, VC_FENCE_ACTION_LOG);
	CHECK_EQ(ARM(&f, "panic", "nowayout"), 0);
	CHECK_EQ(f.set, VC_FENCE_F_ACTION | VC_FENCE_F_NOWAYOUT);
	CHECK_EQ(ARM(&f, "kill", "agent-timeout-ms", "0"), 0);
	CHECK_EQ(f.set, VC_FENCE_F_ACTION | VC_FENCE_F_AGENT_TIMEOUT);
	return true;
}

TEST(args_fence_arm_errors)
{
	struct vc_fence_cfg f;

	CHECK_EQ(vc_args_fence_arm(0, ARGV(NULL), &f, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "missing ACTION (valid: log, kill, panic, reboot)");
	CHECK_EQ(ARM(&f, "agent-timeout-ms", "100"), -EINVAL);
	CHECK_STR(err, "'agent-timeout-ms' is not a fence action (valid: log, kill, panic, reboot)");
	CHECK_EQ(ARM(&f, "log", "agent-timeout-ms"), -EINVAL);
	CHECK_STR(err, "'agent-timeout-ms' needs a value");
	CHECK_EQ(ARM(&f, "log", "agent-timeout-ms", "9"), -EINVAL);
	CHECK_STR(err, "agent-timeout-ms: '9' is out of range (valid: 0 for off, or 10..600000)");
	CHECK_EQ(ARM(&f, "log", "kill-bound-ms", "60001"), -EINVAL);
	CHECK_STR(err, "kill-bound-ms: '60001' is out of range (valid: 10..60000)");
	CHECK_EQ(ARM(&f, "log", "action", "kill"), -EINVAL);
	CHECK_STR(err, "unknown argument 'action' (valid: agent-timeout-ms N, quorum-timeout-ms N, kill-bound-ms N, pretimeout-ms N, nowayout)");
	CHECK_EQ(ARM(&f, "log", "nowayout", "nowayout"), -EINVAL);
	CHECK_STR(err, "'nowayout' given twice");
	CHECK_EQ(ARM(&f, "log", "quorum-timeout-ms", "10", "quorum-timeout-ms", "20"), -EINVAL);
	CHECK_STR(err, "'quorum-timeout-ms' given twice");
	CHECK_EQ(ARM(&f, "log", "pretimeout-ms", "10"), -EINVAL);
	CHECK_STR(err, "pretimeout-ms needs agent-timeout-ms (the warning comes before the agent timeout)");
	CHECK_EQ(ARM(&f, "log", "agent-timeout-ms", "100", "pretimeout-ms", "150"), -EINVAL);
	CHECK_STR(err, "pretimeout-ms 150 is not below agent-timeout-ms 100");
	return true;
}

TEST(args_peer)
{
	struct vc_peer_cfg c;
	char a[VC_ADDR_STRLEN];

	CHECK_EQ(PEER(&c, "2", "votes", "3", "link", "0", "198.18.0.2:5421", "link", "5",
		      "[fd00::2]:6000", "link", "6", "fd00::6"), 0);
	CHECK_EQ(c.node_id, 2);
	CHECK(c.has_votes);
	CHECK_EQ(c.votes, 3);
	CHECK(c.has_links);
	CHECK_STR(vc_format_addr(&c.links[0], a, sizeof(a)), "198.18.0.2:5421");
	CHECK_STR(vc_format_addr(&c.links[5], a, sizeof(a)), "[fd00::2]:6000");
	CHECK_STR(vc_format_addr(&c.links[6], a, sizeof(a)), "fd00::6");
	CHECK_EQ(c.links[1].family, 0);
	CHECK_EQ(PEER(&c, "9"), 0);
	CHECK(!c.has_votes && !c.has_links);
	return true;
}

TEST(args_peer_errors)
{
	struct vc_peer_cfg c;

	CHECK_EQ(vc_args_peer(0, ARGV(NULL), &c, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "missing NODEID (valid: 1..4294967295)");
	CHECK_EQ(PEER(&c, "0"), -EINVAL);
	CHECK_STR(err, "'0' is not a node id (valid: 1..4294967295)");
	CHECK_EQ(PEER(&c, "votes", "1"), -EINVAL);
	CHECK_STR(err, "'votes' is not a node id (valid: 1..4294967295)");
	CHECK_EQ(PEER(&c, "2", "vote", "1"), -EINVAL);
	CHECK_STR(err, "unknown argument 'vote' (valid: votes N, link ID ADDR[:PORT])");
	CHECK_EQ(PEER(&c, "2", "votes"), -EINVAL);
	CHECK_STR(err, "'votes' needs a value");
	CHECK_EQ(PEER(&c, "2", "votes", "1", "votes", "1"), -EINVAL);
	CHECK_STR(err, "'votes' given twice");
	CHECK_EQ(PEER(&c, "2", "link", "0", "198.18.0.2:70000"), -EINVAL);
	CHECK_STR(err, "link 0: '198.18.0.2:70000' has a bad port (valid: 1..65535)");
	CHECK_EQ(PEER(&c, "2", "link", "x", "198.18.0.2"), -EINVAL);
	CHECK_STR(err, "link: 'x' is not a link id (valid: 0..7)");
	return true;
}

TEST(args_common_flags)
{
	char *argv[] = { "peer", "--json", "list", "-h", "--", "--json", NULL };
	bool json = false, help = false;
	int argc;

	argc = vc_take_common_flags(6, argv, &json, &help);
	CHECK_EQ(argc, 3);
	CHECK(json && help);
	CHECK_STR(argv[0], "peer");
	CHECK_STR(argv[1], "list");
	CHECK_STR(argv[2], "--json");
	return true;
}

TEST(parse_numbers)
{
	uint64_t v;
	uint32_t u;

	CHECK_EQ(vc_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	CHECK(v == UINT64_MAX);
	CHECK_EQ(vc_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	CHECK_EQ(vc_parse_u64("0x1F", 0, 100, &v), 0);
	CHECK_EQ(v, 31);
	CHECK_EQ(vc_parse_u64("0x", 0, 100, &v), -EINVAL);
	CHECK_EQ(vc_parse_u64("010", 0, 100, &v), 0);
	CHECK_EQ(v, 10);	/* decimal, not octal */
	CHECK_EQ(vc_parse_u64(" 1", 0, 100, &v), -EINVAL);
	CHECK_EQ(vc_parse_u64("+1", 0, 100, &v), -EINVAL);
	CHECK_EQ(vc_parse_u64("1k", 0, 100, &v), -EINVAL);
	CHECK_EQ(vc_parse_u64("", 0, 100, &v), -EINVAL);
	CHECK_EQ(vc_parse_u32("4294967296", 0, UINT32_MAX, &u), -ERANGE);
	CHECK_EQ(vc_parse_u32("5", 6, 7, &u), -ERANGE);
	return true;
}

TEST(parse_addresses)
{
	struct vc_addr a;
	char s[VC_ADDR_STRLEN];

	CHECK_EQ(vc_parse_addr("198.18.0.1", false, &a), 0);
	CHECK_EQ(a.family, AF_INET);
	CHECK_EQ(a.bytes[0], 198);
	CHECK_EQ(a.bytes[3], 1);
	CHECK_EQ(vc_parse_addr("fd00::1", true, &a), 0);
	CHECK_EQ(a.family, AF_INET6);
	CHECK_EQ(a.port, 0);
	CHECK_EQ(vc_parse_addr("[fd00::1]", true, &a), 0);
	CHECK_EQ(vc_parse_addr("[fd00::1]x", true, &a), -EINVAL);
	CHECK_EQ(vc_parse_addr("198.18.0.1:", true, &a), -ERANGE);
	CHECK_EQ(vc_parse_addr("::ffff:198.18.0.1", true, &a), 0);
	CHECK_EQ(a.family, AF_INET6);
	CHECK_EQ(vc_parse_addr("", true, &a), -EINVAL);
	CHECK_EQ(vc_parse_addr("[]:1", true, &a), -EINVAL);
	a.family = 0;
	CHECK_STR(vc_format_addr(&a, s, sizeof(s)), "-");
	return true;
}

TEST(parse_hex)
{
	uint8_t b[4];
	size_t n;

	CHECK_EQ(vc_parse_hex("0xDEADbeef", b, sizeof(b), &n), 0);
	CHECK_EQ(n, 4);
	CHECK_EQ(b[0], 0xde);
	CHECK_EQ(b[3], 0xef);
	CHECK_EQ(vc_parse_hex("de:ad", b, sizeof(b), &n), 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(vc_parse_hex("0102030405", b, sizeof(b), &n), -E2BIG);
	CHECK_EQ(vc_parse_hex("1", b, sizeof(b), &n), -EINVAL);
	CHECK_EQ(vc_parse_hex("g0", b, sizeof(b), &n), -EINVAL);
	CHECK_EQ(vc_parse_hex("", b, sizeof(b), &n), 0);
	CHECK_EQ(n, 0);
	return true;
}

TEST(names)
{
	uint8_t st;

	CHECK_STR(vc_peer_state_name(VC_PEER_STATE_UP), "up");
	CHECK_STR(vc_peer_state_name(0), "?");
	CHECK_STR(vc_peer_state_name(999), "?");
	CHECK_STR(vc_event_type_name(VC_EVENT_PEER_DOWN), "peer-down");
	CHECK_STR(vc_event_type_name(VC_EVENT_NODE_STOPPED), "node-stopped");
	CHECK_STR(vc_event_type_name(VC_EVENT_QUORUM_LOST), "quorum-lost");
	CHECK_STR(vc_event_type_name(VC_EVENT_FENCE_ESCALATED), "fence-escalated");
	CHECK_STR(vc_event_type_name(__VC_EVENT_MAX), "?");
	CHECK_STR(vc_fence_action_name(VC_FENCE_ACTION_NONE), "none");
	CHECK_STR(vc_fence_action_name(VC_FENCE_ACTION_REBOOT), "reboot");
	CHECK_STR(vc_fence_reason_name(VC_FENCE_REASON_NETNS_EXIT), "netns-exit");
	CHECK_STR(vc_fence_reason_name(0), "none");
	CHECK_STR(vc_auth_name(VC_WIRE_AUTH_BLAKE2S), "blake2s");
	CHECK_STR(vc_down_reason_name(VC_DOWN_REASON_NEW_LIFE), "new-life");
	CHECK_STR(vc_node_state_name(VC_NODE_STATE_RUNNING), "running");
	CHECK_STR(vc_link_state_name(VC_LINK_STATE_DOWN), "down");
	CHECK_EQ(vc_parse_peer_state("SUSPECT", &st), 0);
	CHECK_EQ(st, VC_PEER_STATE_SUSPECT);
	CHECK_EQ(vc_parse_peer_state("7", &st), 0);
	CHECK_EQ(st, 7);
	CHECK_EQ(vc_parse_peer_state("upp", &st), -EINVAL);
	return true;
}

const struct vc_test args_tests[] = {
	T(args_node_set_all),
	T(args_node_set_payload_string),
	T(args_node_set_errors),
	T(args_node_set_issue3),
	T(args_fence_arm),
	T(args_fence_arm_errors),
	T(args_peer),
	T(args_peer_errors),
	T(args_common_flags),
	T(parse_numbers),
	T(parse_addresses),
	T(parse_hex),
	T(names),
	{ NULL, NULL },
};
