// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Issue 3 helpers: key files, /proc/PID/stat start times, the FENCE_ARM /
 * PROC / KEY request bodies, and how quorum, fencing and keys are shown.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <netlink/genl/genl.h>

#include "../config.h"
#include "../keyfile.h"
#include "../msg.h"
#include "../parse.h"
#include "../show.h"
#include "tap.h"

static const char hex64[] =
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static int key_text(const char *text, uint8_t *key, char *why)
{
	return vc_key_parse(text, strlen(text), key, why, 128);
}

TEST(key_parse)
{
	uint8_t key[VC_KEY_LEN];
	char why[128], text[160];
	int i;

	CHECK_EQ(key_text(hex64, key, why), 0);
	for (i = 0; i < VC_KEY_LEN; i++)
		CHECK_EQ(key[i], i);
	snprintf(text, sizeof(text), "%s\n", hex64);
	CHECK_EQ(key_text(text, key, why), 0);
	snprintf(text, sizeof(text), "%s", hex64);
	text[0] = 'F';
	text[1] = 'f';
	CHECK_EQ(key_text(text, key, why), 0);
	CHECK_EQ(key[0], 0xff);
	return true;
}

TEST(key_parse_errors)
{
	uint8_t key[VC_KEY_LEN];
	char why[128], text[160];

	CHECK_EQ(key_text("", key, why), -EINVAL);
	CHECK_STR(why, "is empty");
	CHECK_EQ(key_text("\n", key, why), -EINVAL);
	CHECK_STR(why, "is empty");
	CHECK_EQ(key_text("abc", key, why), -EINVAL);
	CHECK_STR(why, "has 3 hex digits, not 64");
	snprintf(text, sizeof(text), "%s0", hex64);
	CHECK_EQ(key_text(text, key, why), -EINVAL);
	CHECK_STR(why, "has 65 hex digits, not 64");
	snprintf(text, sizeof(text), "%s\n\n", hex64);
	CHECK_EQ(key_text(text, key, why), -EINVAL);
	CHECK_STR(why, "has whitespace at byte 65");
	snprintf(text, sizeof(text), "%s\r\n", hex64);
	CHECK_EQ(key_text(text, key, why), -EINVAL);
	CHECK_STR(why, "has whitespace at byte 65");
	snprintf(text, sizeof(text), "0x%s", hex64 + 2);
	CHECK_EQ(key_text(text, key, why), -EINVAL);
	CHECK_STR(why, "has a character that is not a hex digit at byte 2");
	/* 32 raw bytes are not accepted: one format everywhere */
	CHECK_EQ(vc_key_parse("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"
			      "\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x20",
			      32, key, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "has a character that is not a hex digit at byte 1");
	return true;
}

TEST(key_read_file)
{
	char dir[] = "/tmp/vc-key-XXXXXX", path[64], err[512], want[600];
	uint8_t key[VC_KEY_LEN];
	int fd;

	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, hex64, 64) == 64);
	close(fd);
	CHECK_EQ(vc_key_read_file(path, key, err, sizeof(err)), 0);
	CHECK_EQ(key[31], 31);
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0);
	CHECK(write(fd, "abcd\n", 5) == 5);
	close(fd);
	CHECK_EQ(vc_key_read_file(path, key, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: has 4 hex digits, not 64 (%s)", path, vc_key_format_help);
	CHECK_STR(err, want);
	unlink(path);
	CHECK_EQ(vc_key_read_file(path, key, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	CHECK_STR(err, want);
	rmdir(dir);
	return true;
}

static int stat_start(const char *line, uint64_t *v)
{
	return vc_parse_stat_start_time(line, strlen(line), v);
}

TEST(stat_start_time)
{
	uint64_t v = 0;

	CHECK_EQ(stat_start("1234 (qemu-system-x86) S 1 1234 1234 0 -1 4194560 100 0 0 0 "
			    "5 6 0 0 20 0 4 0 987654 1000000 300 18446744073709551615\n", &v), 0);
	CHECK_EQ(v, 987654);
	/* spaces and parentheses in the command name: fields count after the last ')' */
	CHECK_EQ(stat_start("77 (a) b) (c 1 2 3 4 5) R 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 42 0 0\n",
			    &v), 0);
	CHECK_EQ(v, 42);
	CHECK_EQ(stat_start("78 ()) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 4242 0 0", &v), 0);
	CHECK_EQ(v, 4242);
	CHECK_EQ(stat_start("79 (x\ny) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 7 0 0", &v), 0);
	CHECK_EQ(v, 7);
	/* broken lines */
	CHECK_EQ(stat_start("", &v), -EINVAL);
	CHECK_EQ(stat_start("1 no parens S 1 1 1", &v), -EINVAL);
	CHECK_EQ(stat_start("1 (short) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0", &v), -EINVAL);
	CHECK_EQ(stat_start("1 (bad) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12x 0", &v), -EINVAL);
	CHECK_EQ(stat_start("1 (neg) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5 0", &v), -EINVAL);
	return true;
}

/* Our own start time matches what the kernel would compare. */
TEST(stat_start_time_self)
{
	char buf[4096];
	uint64_t v = 0;
	ssize_t n;
	int fd;

	fd = open("/proc/self/stat", O_RDONLY);
	if (fd < 0)
		return true;	/* no /proc: nothing to compare */
	n = read(fd, buf, sizeof(buf));
	close(fd);
	CHECK(n > 0);
	CHECK_EQ(vc_parse_stat_start_time(buf, (size_t)n, &v), 0);
	CHECK(v > 0);
	return true;
}

/* ---- request bodies ---- */

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

static bool is_u32(struct nl_msg *msg, int type, uint32_t v)
{
	struct nlattr *a = find(msg, type);

	return a && nla_len(a) == 4 && nla_get_u32(a) == v;
}

TEST(netlink_fence_arm_encoding)
{
	struct nl_msg *msg = new_msg(VC_CMD_FENCE_ARM);
	struct vc_fence_cfg f = {
		.set = VC_FENCE_F_ACTION | VC_FENCE_F_AGENT_TIMEOUT | VC_FENCE_F_NOWAYOUT |
		       VC_FENCE_F_PRETIMEOUT,
		.action = VC_FENCE_ACTION_KILL, .agent_timeout_ms = 5000, .pretimeout_ms = 100,
		.nowayout = true, .quorum_timeout_ms = 99,
	};
	bool ok;

	CHECK(msg);
	CHECK_EQ(vc_msg_put_fence(msg, &f), 0);
	ok = is_u32(msg, VC_A_NODE_FENCE_ACTION, VC_FENCE_ACTION_KILL) &&
	     is_u32(msg, VC_A_NODE_AGENT_TIMEOUT_MS, 5000) &&
	     is_u32(msg, VC_A_NODE_PRETIMEOUT_MS, 100) && is_u32(msg, VC_A_NODE_NOWAYOUT, 1) &&
	     !find(msg, VC_A_NODE_QUORUM_TIMEOUT_MS) && !find(msg, VC_A_NODE_KILL_BOUND_MS);
	nlmsg_free(msg);
	CHECK(ok);
	return true;
}

TEST(netlink_node_set_issue3_encoding)
{
	struct nl_msg *msg = new_msg(VC_CMD_NODE_SET);
	struct vc_node_cfg c = {
		.set = VC_NODE_F_EXPECTED_VOTES | VC_NODE_F_FENCE_MARGIN_MS | VC_NODE_F_INSECURE,
		.expected_votes = 5, .fence_margin_ms = 100, .insecure = true,
	};
	bool ok;

	CHECK(msg);
	CHECK_EQ(vc_msg_put_node(msg, &c), 0);
	ok = is_u32(msg, VC_A_NODE_EXPECTED_VOTES, 5) && is_u32(msg, VC_A_NODE_FENCE_MARGIN_MS, 100) &&
	     is_u32(msg, VC_A_NODE_INSECURE, 1) && !find(msg, VC_A_NODE_VOTES);
	nlmsg_free(msg);
	CHECK(ok);
	return true;
}

TEST(netlink_proc_and_key_encoding)
{
	struct nl_msg *msg = new_msg(VC_CMD_PROC_ADD);
	uint8_t value[VC_KEY_LEN];
	struct nlattr *a;
	bool ok;

	CHECK(msg);
	CHECK_EQ(vc_msg_put_proc(msg, 4321, true, 0x100000001ull), 0);
	a = find(msg, VC_A_PROC_START_TIME);
	ok = is_u32(msg, VC_A_PROC_PID, 4321) && a && nla_len(a) == 8 &&
	     nla_get_u64(a) == 0x100000001ull;
	nlmsg_free(msg);
	CHECK(ok);

	msg = new_msg(VC_CMD_PROC_DEL);
	CHECK(msg);
	CHECK_EQ(vc_msg_put_proc(msg, 4321, false, 0), 0);
	ok = is_u32(msg, VC_A_PROC_PID, 4321) && !find(msg, VC_A_PROC_START_TIME);
	nlmsg_free(msg);
	CHECK(ok);

	memset(value, 0xab, sizeof(value));
	msg = new_msg(VC_CMD_KEY_SET);
	CHECK(msg);
	CHECK_EQ(vc_msg_put_key(msg, 7, value, true, true), 0);
	a = find(msg, VC_A_KEY_VALUE);
	ok = is_u32(msg, VC_A_KEY_ID, 7) && is_u32(msg, VC_A_KEY_PRIMARY, 1) && a &&
	     nla_len(a) == VC_KEY_LEN && memcmp(nla_data(a), value, VC_KEY_LEN) == 0;
	nlmsg_free(msg);
	CHECK(ok);

	msg = new_msg(VC_CMD_KEY_DEL);
	CHECK(msg);
	CHECK_EQ(vc_msg_put_key(msg, 7, NULL, false, false), 0);
	ok = is_u32(msg, VC_A_KEY_ID, 7) && !find(msg, VC_A_KEY_VALUE) && !find(msg, VC_A_KEY_PRIMARY);
	nlmsg_free(msg);
	CHECK(ok);
	return true;
}

/* ---- output ---- */

#define NOW_NS 100000000000ull	/* 100 s */

static void put_key_nest(struct nl_msg *msg, uint32_t id, uint32_t primary)
{
	struct nlattr *n = nla_nest_start(msg, VC_A_NODE_KEY);

	nla_put_u32(msg, VC_A_KEY_ID, id);
	nla_put_u32(msg, VC_A_KEY_PRIMARY, primary);
	nla_nest_end(msg, n);
}

static struct nl_msg *node_reply(void)
{
	struct nl_msg *msg = new_msg(VC_CMD_NODE_GET);

	nla_put_u32(msg, VC_A_NODE_CLUSTER_ID, 7);
	nla_put_u32(msg, VC_A_NODE_NODE_ID, 1);
	nla_put_u32(msg, VC_A_NODE_VOTES, 1);
	nla_put_u16(msg, VC_A_NODE_PORT, 5420);
	nla_put_u64(msg, VC_A_NODE_INCARNATION, 9);
	nla_put_u32(msg, VC_A_NODE_INTERVAL_MS, 10);
	nla_put_u32(msg, VC_A_NODE_MISSES, 3);
	nla_put_u32(msg, VC_A_NODE_DEAD_MS, 30);
	nla_put_u32(msg, VC_A_NODE_STATE, VC_NODE_STATE_RUNNING);
	nla_put_u64(msg, VC_A_NODE_SEQ, 5);
	nla_put_u32(msg, VC_A_NODE_PEERS, 2);
	nla_put_u64(msg, VC_A_NODE_RX_MALFORMED, 0);
	nla_put_u64(msg, VC_A_NODE_RX_FOREIGN, 0);
	nla_put_u64(msg, VC_A_NODE_RX_UNKNOWN, 0);
	nla_put_u64(msg, VC_A_NODE_RX_REFUSED, 0);
	nla_put_u64(msg, VC_A_NODE_TX_ERRORS, 0);
	nla_put_u32(msg, VC_A_NODE_EXPECTED_VOTES, 3);
	nla_put_u32(msg, VC_A_NODE_VOTES_SEEN, 2);
	nla_put_u32(msg, VC_A_NODE_QUORATE, 1);
	nla_put_u64(msg, VC_A_NODE_QUORATE_UNTIL_NS, NOW_NS + 1500000000ull);
	nla_put_u32(msg, VC_A_NODE_FENCE_ARMED, 1);
	nla_put_u32(msg, VC_A_NODE_FENCE_ACTION, VC_FENCE_ACTION_KILL);
	nla_put_u32(msg, VC_A_NODE_AGENT_TIMEOUT_MS, 5000);
	nla_put_u32(msg, VC_A_NODE_QUORUM_TIMEOUT_MS, 2000);
	nla_put_u32(msg, VC_A_NODE_KILL_BOUND_MS, 1000);
	nla_put_u32(msg, VC_A_NODE_PRETIMEOUT_MS, 2500);
	nla_put_u32(msg, VC_A_NODE_NOWAYOUT, 0);
	nla_put_u32(msg, VC_A_NODE_FENCE_MARGIN_MS, 100);
	nla_put_u32(msg, VC_A_NODE_FENCED, 0);
	nla_put_u32(msg, VC_A_NODE_FENCE_REASON, 0);
	nla_put_u64(msg, VC_A_NODE_FENCED_AT_NS, 0);
	nla_put_u64(msg, VC_A_NODE_LAST_PET_NS, NOW_NS - 20000000);
	nla_put_u64(msg, VC_A_NODE_FENCE_COUNT, 0);
	nla_put_u32(msg, VC_A_NODE_PROCS, 2);
	nla_put_u32(msg, VC_A_NODE_INSECURE, 0);
	nla_put_u32(msg, VC_A_NODE_AUTH, VC_WIRE_AUTH_BLAKE2S);
	put_key_nest(msg, 1, 0);
	put_key_nest(msg, 2, 1);
	nla_put_u64(msg, VC_A_NODE_RX_BAD_MAC, 11);
	return msg;
}

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

TEST(show_node_issue3_text)
{
	struct nl_msg *msg = node_reply();

	CHECK_OUTPUT("node 1  cluster 7  state running\n"
		     "  votes 1  port 5420  incarnation 9\n"
		     "  interval 10 ms  misses 3  dead 30 ms\n"
		     "  seq 5  peers 2\n"
		     "  quorum: votes 2/3 (seen/expected)  quorate yes  until in 1500 ms\n"
		     "  fence: armed, action kill  agent-timeout 5000 ms  quorum-timeout 2000 ms"
		     "  kill-bound 1000 ms  pretimeout 2500 ms  nowayout no\n"
		     "    last pet 20 ms ago  fenced no  fired 0 times  procs 2  margin 100 ms\n"
		     "  auth: blake2s  keys 1, 2 (primary)  insecure no\n"
		     "  rx: malformed 0  foreign 0  unknown 0  refused 0  bad-mac 11\n"
		     "  tx: errors 0\n",
		     vc_show_node(f, msg, false, NOW_NS));
	nlmsg_free(msg);
	return true;
}

TEST(show_node_issue3_json)
{
	struct nl_msg *msg = node_reply();

	CHECK_OUTPUT("{\"node_id\":1,\"cluster_id\":7,\"state\":\"running\",\"votes\":1,\"port\":5420,"
		     "\"incarnation\":9,\"interval_ms\":10,\"misses\":3,\"dead_ms\":30,\"seq\":5,"
		     "\"peers\":2,\"rx_malformed\":0,\"rx_foreign\":0,\"rx_unknown\":0,\"rx_refused\":0,"
		     "\"tx_errors\":0,\"rx_bad_mac\":11,\"expected_votes\":3,\"votes_seen\":2,"
		     "\"quorate\":true,\"quorate_until_ns\":101500000000,\"quorate_remaining_ms\":1500,"
		     "\"fence_armed\":true,\"fence_action\":\"kill\",\"agent_timeout_ms\":5000,"
		     "\"quorum_timeout_ms\":2000,\"kill_bound_ms\":1000,\"pretimeout_ms\":2500,"
		     "\"nowayout\":false,\"fence_margin_ms\":100,\"fenced\":false,"
		     "\"fence_reason\":\"none\",\"fenced_at_ns\":0,\"fenced_age_ms\":null,"
		     "\"last_pet_ns\":99980000000,\"last_pet_age_ms\":20,\"fence_count\":0,\"procs\":2,"
		     "\"auth\":\"blake2s\",\"insecure\":false,\"links\":[],"
		     "\"keys\":[{\"id\":1,\"primary\":false},{\"id\":2,\"primary\":true}]}\n",
		     vc_show_node(f, msg, true, NOW_NS));
	nlmsg_free(msg);
	return true;
}

TEST(show_fence_and_keys)
{
	static const uint32_t pids[] = { 100, 200 };
	struct nl_msg *msg = node_reply();

	nla_put_u32(msg, VC_A_NODE_FENCED, 1);	/* the later one wins */
	nla_put_u32(msg, VC_A_NODE_FENCE_REASON, VC_FENCE_REASON_QUORUM);
	nla_put_u64(msg, VC_A_NODE_FENCED_AT_NS, NOW_NS - 7000000);
	CHECK_OUTPUT("fence: armed, action kill  agent-timeout 5000 ms  quorum-timeout 2000 ms"
		     "  kill-bound 1000 ms  pretimeout 2500 ms  nowayout no\n"
		     "  last pet 20 ms ago  fenced yes (reason quorum, 7 ms ago)  fired 0 times"
		     "  procs 2  margin 100 ms\n"
		     "  pids: 100 200\n",
		     vc_show_fence(f, msg, false, NOW_NS, pids, 2));
	CHECK_OUTPUT("{\"armed\":true,\"action\":\"kill\",\"agent_timeout_ms\":5000,"
		     "\"quorum_timeout_ms\":2000,\"kill_bound_ms\":1000,\"pretimeout_ms\":2500,"
		     "\"nowayout\":false,\"fenced\":true,\"fence_reason\":\"quorum\","
		     "\"fenced_at_ns\":99993000000,\"fenced_age_ms\":7,\"last_pet_ns\":99980000000,"
		     "\"last_pet_age_ms\":20,\"fence_count\":0,\"fence_margin_ms\":100,\"procs\":2,"
		     "\"pids\":[100,200]}\n",
		     vc_show_fence(f, msg, true, NOW_NS, pids, 2));
	CHECK_OUTPUT("key 1\nkey 2  primary\n", vc_show_keys(f, msg, false));
	CHECK_OUTPUT("{\"auth\":\"blake2s\",\"insecure\":false,"
		     "\"keys\":[{\"id\":1,\"primary\":false},{\"id\":2,\"primary\":true}]}\n",
		     vc_show_keys(f, msg, true));
	nlmsg_free(msg);
	return true;
}

static struct nl_msg *peer_reply(uint32_t action, uint64_t fenced_by_ns)
{
	struct nl_msg *msg = new_msg(VC_CMD_PEER_GET);
	struct nlattr *n;

	nla_put_u32(msg, VC_A_PEER_NODE_ID, 2);
	nla_put_u32(msg, VC_A_PEER_VOTES, 1);
	nla_put_u32(msg, VC_A_PEER_STATE, VC_PEER_STATE_DOWN);
	nla_put_u64(msg, VC_A_PEER_INCARNATION, 99);
	nla_put_u64(msg, VC_A_PEER_LAST_HEARD_NS, NOW_NS - 3000000000ull);
	nla_put_u64(msg, VC_A_PEER_STATE_SINCE_NS, NOW_NS - 2970000000ull);
	nla_put_u64(msg, VC_A_PEER_RX_REFUSED, 0);
	nla_put_u32(msg, VC_A_PEER_FENCE_ACTION, action);
	nla_put_u32(msg, VC_A_PEER_DEAD_MS, 30);
	nla_put_u32(msg, VC_A_PEER_QUORUM_TIMEOUT_MS, action ? 2000 : 0);
	nla_put_u32(msg, VC_A_PEER_KILL_BOUND_MS, action ? 1000 : 0);
	nla_put_u32(msg, VC_A_PEER_FENCE_STRONG, action > VC_FENCE_ACTION_LOG);
	nla_put_u64(msg, VC_A_PEER_FENCED_BY_NS, fenced_by_ns);
	n = nla_nest_start(msg, VC_A_PEER_LINK);
	nla_put_u32(msg, VC_A_LINK_ID, 0);
	nla_put(msg, VC_A_LINK_ADDR4, 4, "\xc6\x12\x00\x02");
	nla_put_u32(msg, VC_A_LINK_STATE, VC_LINK_STATE_DOWN);
	nla_put_u64(msg, VC_A_LINK_LAST_HEARD_NS, NOW_NS - 3000000000ull);
	nla_put_u64(msg, VC_A_LINK_BAD_MAC, 4);
	nla_nest_end(msg, n);
	return msg;
}

TEST(show_peer_fencing)
{
	/* last heard 3 s ago: fenced by = heard + 30 + 2000 + 1000 + 100 ms */
	struct nl_msg *msg = peer_reply(VC_FENCE_ACTION_REBOOT, NOW_NS + 130000000ull);
	struct vc_json j;

	CHECK_OUTPUT("peer 2  state down  votes 1  incarnation 99\n"
		     "  heard 3000 ms ago  state since 2970 ms ago  refused 0\n"
		     "  fencing: reboot (strong)  dead 30 ms  quorum-timeout 2000 ms  kill-bound 1000 ms\n"
		     "  fenced by: in 130 ms\n"
		     "  link 0: 198.18.0.2  down  heard 3000 ms ago  rtt 0 us\n"
		     "          tx 0  rx 0  lost 0  malformed 0  tx-errors 0  bad-mac 4\n",
		     vc_show_peer(f, NULL, msg, NOW_NS));
	CHECK_OUTPUT("{\"node_id\":2,\"state\":\"down\",\"votes\":1,\"incarnation\":99,"
		     "\"last_heard_ns\":97000000000,\"last_heard_age_ms\":3000,"
		     "\"state_since_ns\":97030000000,\"state_age_ms\":2970,\"rx_refused\":0,"
		     "\"fence_action\":\"reboot\",\"fence_strong\":true,\"dead_ms\":30,"
		     "\"quorum_timeout_ms\":2000,\"kill_bound_ms\":1000,"
		     "\"fenced_by_ns\":100130000000,\"fenced_by_remaining_ms\":130,"
		     "\"links\":[{\"id\":0,\"state\":\"down\",\"last_heard_ns\":97000000000,"
		     "\"last_heard_age_ms\":3000,\"bad_mac\":4,\"address\":\"198.18.0.2\","
		     "\"family\":\"inet\"}]}\n",
		     vc_json_init(&j, f); vc_show_peer(f, &j, msg, NOW_NS); vc_json_end(&j));
	nlmsg_free(msg);

	msg = peer_reply(VC_FENCE_ACTION_LOG, NOW_NS - 5000000);
	CHECK_OUTPUT("peer 2  state down  votes 1  incarnation 99\n"
		     "  heard 3000 ms ago  state since 2970 ms ago  refused 0\n"
		     "  fencing: log (weak)  dead 30 ms  quorum-timeout 2000 ms  kill-bound 1000 ms\n"
		     "  fenced by: 5 ms ago\n"
		     "  link 0: 198.18.0.2  down  heard 3000 ms ago  rtt 0 us\n"
		     "          tx 0  rx 0  lost 0  malformed 0  tx-errors 0  bad-mac 4\n",
		     vc_show_peer(f, NULL, msg, NOW_NS));
	nlmsg_free(msg);

	msg = peer_reply(VC_FENCE_ACTION_NONE, 0);
	CHECK_OUTPUT("peer 2  state down  votes 1  incarnation 99\n"
		     "  heard 3000 ms ago  state since 2970 ms ago  refused 0\n"
		     "  fencing: not armed (no fencing deadline)  dead 30 ms\n"
		     "  link 0: 198.18.0.2  down  heard 3000 ms ago  rtt 0 us\n"
		     "          tx 0  rx 0  lost 0  malformed 0  tx-errors 0  bad-mac 4\n",
		     vc_show_peer(f, NULL, msg, NOW_NS));
	nlmsg_free(msg);
	return true;
}

const struct vc_test fence_tests[] = {
	T(key_parse),
	T(key_parse_errors),
	T(key_read_file),
	T(stat_start_time),
	T(stat_start_time_self),
	T(netlink_fence_arm_encoding),
	T(netlink_node_set_issue3_encoding),
	T(netlink_proc_and_key_encoding),
	T(show_node_issue3_text),
	T(show_node_issue3_json),
	T(show_fence_and_keys),
	T(show_peer_fencing),
	{ NULL, NULL },
};
