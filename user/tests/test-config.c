// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Config file parser: good files, and every error with its exact message. */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "../config.h"
#include "tap.h"

static struct vc_config cfg;
static char err[VC_ERR_LEN];

static int parse(const char *text)
{
	err[0] = '\0';
	return vc_config_parse(text, strlen(text), "t.conf", &cfg, err, sizeof(err));
}

static bool is_addr(const struct vc_addr *a, int family, const char *text, uint16_t port)
{
	uint8_t want[16];

	if (a->family != family || a->port != port || inet_pton(family, text, want) != 1)
		return false;
	return memcmp(a->bytes, want, family == AF_INET ? 4 : 16) == 0;
}

static const char example[] =
	"# the example from the man page\n"
	"[node]\n"
	"cluster-id = 7\n"
	"node-id = 1\n"
	"port = 5420\n"
	"interval-ms = 10\n"
	"misses = 3\n"
	"link0 = 198.18.0.1\n"
	"link1 = fd00::1\n"
	"\n"
	"[peer 2]\n"
	"votes = 1\n"
	"link0 = 198.18.0.2\n"
	"link1 = fd00::2\n"
	"\n"
	"[peer 3]\n"
	"link0 = 198.18.0.3:5421\n"
	"link1 = [fd00::3]:5422\n";

TEST(config_example)
{
	CHECK_EQ(parse(example), 0);
	CHECK(cfg.has_node);
	CHECK_EQ(cfg.node.set, VC_NODE_F_CLUSTER_ID | VC_NODE_F_NODE_ID | VC_NODE_F_PORT |
			       VC_NODE_F_INTERVAL_MS | VC_NODE_F_MISSES | VC_NODE_F_LINKS);
	CHECK_EQ(cfg.node.cluster_id, 7);
	CHECK_EQ(cfg.node.node_id, 1);
	CHECK_EQ(cfg.node.port, 5420);
	CHECK_EQ(cfg.node.interval_ms, 10);
	CHECK_EQ(cfg.node.misses, 3);
	CHECK(is_addr(&cfg.node.links[0], AF_INET, "198.18.0.1", 0));
	CHECK(is_addr(&cfg.node.links[1], AF_INET6, "fd00::1", 0));
	CHECK_EQ(cfg.node.links[2].family, 0);
	CHECK_EQ(cfg.n_peers, 2);
	CHECK_EQ(cfg.peers[0].node_id, 2);
	CHECK(cfg.peers[0].has_votes);
	CHECK_EQ(cfg.peers[0].votes, 1);
	CHECK_EQ(cfg.peers[0].line, 11);
	CHECK(is_addr(&cfg.peers[0].links[0], AF_INET, "198.18.0.2", 0));
	CHECK(is_addr(&cfg.peers[0].links[1], AF_INET6, "fd00::2", 0));
	CHECK_EQ(cfg.peers[1].node_id, 3);
	CHECK(!cfg.peers[1].has_votes);
	CHECK(is_addr(&cfg.peers[1].links[0], AF_INET, "198.18.0.3", 5421));
	CHECK(is_addr(&cfg.peers[1].links[1], AF_INET6, "fd00::3", 5422));
	return true;
}

TEST(config_whitespace_comments_crlf)
{
	CHECK_EQ(parse("  ; comment\r\n\t[ node ]  \r\n\tnode-id=4\r\n  # x = y\r\n"
		       "cluster-id   =\t9   \r\n[peer\t5]\r\nlink7 = 198.18.1.1"), 0);
	CHECK_EQ(cfg.node.node_id, 4);
	CHECK_EQ(cfg.node.cluster_id, 9);
	CHECK_EQ(cfg.n_peers, 1);
	CHECK_EQ(cfg.peers[0].node_id, 5);
	CHECK(is_addr(&cfg.peers[0].links[7], AF_INET, "198.18.1.1", 0));
	return true;
}

TEST(config_empty_and_peers_only)
{
	CHECK_EQ(parse(""), 0);
	CHECK(!cfg.has_node);
	CHECK_EQ(cfg.n_peers, 0);
	CHECK_EQ(parse("[peer 9]\nlink0 = fd00::9\n"), 0);
	CHECK(!cfg.has_node);
	CHECK_EQ(cfg.n_peers, 1);
	return true;
}

TEST(config_payload_and_optional_keys)
{
	CHECK_EQ(parse("[node]\nvotes = 0\nincarnation = 0x10\npayload = 0a:0B:ff\n"), 0);
	CHECK_EQ(cfg.node.set, VC_NODE_F_VOTES | VC_NODE_F_INCARNATION | VC_NODE_F_PAYLOAD);
	CHECK_EQ(cfg.node.incarnation, 16);
	CHECK_EQ(cfg.node.payload_len, 3);
	CHECK_EQ(cfg.node.payload[1], 0x0b);
	CHECK_EQ(parse("[node]\npayload-string = term 5 leader\n"), 0);
	CHECK_EQ(cfg.node.payload_len, 13);
	CHECK(memcmp(cfg.node.payload, "term 5 leader", 13) == 0);
	return true;
}

TEST(config_64_peers)
{
	static char text[64 * 40];
	size_t n = 0;
	int i;

	for (i = 1; i <= 65; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "[peer %d]\nlink0 = 198.18.2.%d\n", i, i);
	CHECK_EQ(parse(text), -EINVAL);
	CHECK_STR(err, "t.conf:129: section [peer 65] is one peer too many (valid: at most 64 peers)");
	text[strlen(text) - strlen("[peer 65]\nlink0 = 198.18.2.65\n")] = '\0';
	CHECK_EQ(parse(text), 0);
	CHECK_EQ(cfg.n_peers, 64);
	return true;
}

static const struct {
	const char *text;
	const char *err;
} bad[] = {
	{ "port = 1\n",
	  "t.conf:1: key 'port' before any section (valid: start with [node] or [peer N])" },
	{ "[nodes]\n",
	  "t.conf:1: unknown section '[nodes]' (valid: [node], [fence], [agent], [peer N] with N in 1..4294967295)" },
	{ "[node\n",
	  "t.conf:1: unknown section '[node' (valid: [node], [fence], [agent], [peer N] with N in 1..4294967295)" },
	{ "[peer 0]\n",
	  "t.conf:1: unknown section '[peer 0]' (valid: [node], [fence], [agent], [peer N] with N in 1..4294967295)" },
	{ "[peer x]\n",
	  "t.conf:1: unknown section '[peer x]' (valid: [node], [fence], [agent], [peer N] with N in 1..4294967295)" },
	{ "[node]\n[node]\n", "t.conf:2: section [node] repeats line 1" },
	{ "[peer 2]\nlink0 = 198.18.0.2\n[peer 2]\n", "t.conf:3: section [peer 2] repeats line 1" },
	{ "[node]\nnode-id 1\n", "t.conf:2: expected 'key = value' or a [section], got 'node-id 1'" },
	{ "[node]\nprot = 1\n",
	  "t.conf:2: unknown key 'prot' in [node] (valid: cluster-id, node-id, votes, port, incarnation, interval-ms, misses, payload, payload-string, expected-votes, fence-margin-ms, insecure, key-file, key-id, link0..link7)" },
	{ "[node]\nlink8 = 198.18.0.1\n",
	  "t.conf:2: unknown key 'link8' in [node] (valid: cluster-id, node-id, votes, port, incarnation, interval-ms, misses, payload, payload-string, expected-votes, fence-margin-ms, insecure, key-file, key-id, link0..link7)" },
	{ "[node]\nlink01 = 198.18.0.1\n",
	  "t.conf:2: unknown key 'link01' in [node] (valid: cluster-id, node-id, votes, port, incarnation, interval-ms, misses, payload, payload-string, expected-votes, fence-margin-ms, insecure, key-file, key-id, link0..link7)" },
	{ "[peer 2]\nport = 1\n", "t.conf:2: unknown key 'port' in [peer 2] (valid: votes, link0..link7)" },
	{ "[node]\nmisses = 1\n", "t.conf:2: key 'misses' in [node]: '1' is out of range (valid: 2..1000)" },
	{ "[node]\nmisses = 1001\n", "t.conf:2: key 'misses' in [node]: '1001' is out of range (valid: 2..1000)" },
	{ "[node]\nmisses = three\n", "t.conf:2: key 'misses' in [node]: 'three' is not a number (valid: 2..1000)" },
	{ "[node]\nmisses =\n", "t.conf:2: key 'misses' in [node]: '' is not a number (valid: 2..1000)" },
	{ "[node]\ninterval-ms = 0\n", "t.conf:2: key 'interval-ms' in [node]: '0' is out of range (valid: 1..60000)" },
	{ "[node]\nport = 65536\n", "t.conf:2: key 'port' in [node]: '65536' is out of range (valid: 1..65535)" },
	{ "[node]\ncluster-id = 0\n", "t.conf:2: key 'cluster-id' in [node]: '0' is out of range (valid: 1..4294967295)" },
	{ "[node]\nnode-id = -1\n", "t.conf:2: key 'node-id' in [node]: '-1' is not a number (valid: 1..4294967295)" },
	{ "[node]\nnode-id = 4294967296\n", "t.conf:2: key 'node-id' in [node]: '4294967296' is out of range (valid: 1..4294967295)" },
	{ "[node]\nvotes = 1 # one\n", "t.conf:2: key 'votes' in [node]: '1 # one' is not a number (valid: 0..4294967295)" },
	{ "[node]\nincarnation = 0\n", "t.conf:2: key 'incarnation' in [node]: '0' is out of range (valid: 1..18446744073709551615)" },
	{ "[node]\nport = 1\nport = 2\n", "t.conf:3: key 'port' in [node] repeats line 2" },
	{ "[node]\npayload = aa\npayload-string = x\n", "t.conf:3: key 'payload-string' in [node] repeats line 2" },
	{ "[node]\nlink0 = 198.18.0.1\nlink0 = 198.18.0.2\n", "t.conf:3: key 'link0' in [node] repeats line 2" },
	{ "[node]\nlink0 = 198.18.0.1:5420\n",
	  "t.conf:2: key 'link0' in [node]: '198.18.0.1:5420' is not an address (valid: A.B.C.D or an IPv6 address, without a port)" },
	{ "[node]\nlink0 = host.example\n",
	  "t.conf:2: key 'link0' in [node]: 'host.example' is not an address (valid: A.B.C.D or an IPv6 address, without a port)" },
	{ "[peer 2]\nlink0 = 198.18.0.300\n",
	  "t.conf:2: key 'link0' in [peer 2]: '198.18.0.300' is not an address (valid: A.B.C.D, A.B.C.D:PORT, an IPv6 address or [IPv6]:PORT)" },
	{ "[peer 2]\nlink0 = 198.18.0.2:0\n", "t.conf:2: key 'link0' in [peer 2]: '198.18.0.2:0' has a bad port (valid: 1..65535)" },
	{ "[peer 2]\nlink0 = [fd00::2]:99999\n", "t.conf:2: key 'link0' in [peer 2]: '[fd00::2]:99999' has a bad port (valid: 1..65535)" },
	{ "[peer 2]\nlink0 = [fd00::2\n",
	  "t.conf:2: key 'link0' in [peer 2]: '[fd00::2' is not an address (valid: A.B.C.D, A.B.C.D:PORT, an IPv6 address or [IPv6]:PORT)" },
	{ "[node]\npayload = abc\n", "t.conf:2: key 'payload' in [node]: 'abc' is not hex (valid: up to 64 bytes as hex digits, e.g. 0a1b2c)" },
	{ "[node]\npayload = zz\n", "t.conf:2: key 'payload' in [node]: 'zz' is not hex (valid: up to 64 bytes as hex digits, e.g. 0a1b2c)" },
	{ "[node]\npayload = "
	  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00\n",
	  "t.conf:2: key 'payload' in [node]: '"
	  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00"
	  "' is longer than 64 bytes (valid: up to 64 bytes as hex digits, e.g. 0a1b2c)" },
	{ "[node]\npayload-string = "
	  "0123456789012345678901234567890123456789012345678901234567890123x\n",
	  "t.conf:2: key 'payload-string' in [node]: '"
	  "0123456789012345678901234567890123456789012345678901234567890123x"
	  "' is longer than 64 bytes (valid: up to 64 characters)" },
	{ "[node]\nnode-id = 1\n\n[peer 1]\nlink0 = 198.18.0.1\n",
	  "t.conf:4: section [peer 1] has the node's own node-id (line 2)" },
	{ "[peer 1]\nlink0 = 198.18.0.1\n[node]\nnode-id = 1\n",
	  "t.conf:1: section [peer 1] has the node's own node-id (line 4)" },
	{ "[peer 2]\nvotes = 1\n", "t.conf:1: section [peer 2] has no links (valid: link0..link7 = ADDRESS[:PORT])" },
	{ "[node]\nlink1 = fd00::1\n[peer 2]\nlink0 = 198.18.0.2\nlink1 = 198.18.1.2\n",
	  "t.conf:5: key 'link1' in [peer 2]: IPv4 address but link1 of [node] is IPv6 (line 2)" },
	/* issue 3 keys */
	{ "[node]\nexpected-votes = x\n",
	  "t.conf:2: key 'expected-votes' in [node]: 'x' is not a number (valid: 0..4294967295)" },
	{ "[node]\nfence-margin-ms = 60001\n",
	  "t.conf:2: key 'fence-margin-ms' in [node]: '60001' is out of range (valid: 0..60000)" },
	{ "[node]\ninsecure = maybe\n",
	  "t.conf:2: key 'insecure' in [node]: 'maybe' is not yes or no (valid: yes, no, 1, 0)" },
	{ "[node]\ninsecure = yes\ninsecure = no\n", "t.conf:3: key 'insecure' in [node] repeats line 2" },
	{ "[node]\nkey-file =\n",
	  "t.conf:2: key 'key-file' in [node]: '' is not a path (valid: a file name, relative to the config file's directory or absolute)" },
	{ "[node]\nkey-file = a\nkey-id = 0\n",
	  "t.conf:3: key 'key-id' in [node]: '0' is out of range (valid: 1..255)" },
	{ "[node]\nkey-file = a\nkey-id = 256\n",
	  "t.conf:3: key 'key-id' in [node]: '256' is out of range (valid: 1..255)" },
	{ "[node]\nkey-id = 2\n",
	  "t.conf:2: key 'key-id' in [node] without key-file (valid: key-file = PATH, then key-id = 1..255)" },
	{ "[peer 2]\nkey-file = a\n", "t.conf:2: unknown key 'key-file' in [peer 2] (valid: votes, link0..link7)" },
	{ "[fence]\naction = log\n[fence]\n", "t.conf:3: section [fence] repeats line 1" },
	{ "[fence]\nagent-timeout-ms = 100\n", "t.conf:1: section [fence]: no action (valid: log, kill, panic, reboot)" },
	{ "[fence]\naction = explode\n",
	  "t.conf:2: key 'action' in [fence]: 'explode' is not a fence action (valid: log, kill, panic, reboot)" },
	{ "[fence]\naction = none\n",
	  "t.conf:2: key 'action' in [fence]: 'none' is not a fence action (valid: log, kill, panic, reboot)" },
	{ "[fence]\naction = log\nagent-timeout-ms = 5\n",
	  "t.conf:3: key 'agent-timeout-ms' in [fence]: '5' is out of range (valid: 0 for off, or 10..600000)" },
	{ "[fence]\naction = log\nquorum-timeout-ms = 600001\n",
	  "t.conf:3: key 'quorum-timeout-ms' in [fence]: '600001' is out of range (valid: 0 for off, or 10..600000)" },
	{ "[fence]\naction = log\nkill-bound-ms = 0\n",
	  "t.conf:3: key 'kill-bound-ms' in [fence]: '0' is out of range (valid: 10..60000)" },
	{ "[fence]\naction = log\nnowayout = sure\n",
	  "t.conf:3: key 'nowayout' in [fence]: 'sure' is not yes or no (valid: yes, no, 1, 0)" },
	{ "[fence]\naction = log\nlink0 = 198.18.0.1\n",
	  "t.conf:3: unknown key 'link0' in [fence] (valid: action, agent-timeout-ms, quorum-timeout-ms, kill-bound-ms, pretimeout-ms, nowayout)" },
	{ "[fence]\naction = log\nvotes = 1\n",
	  "t.conf:3: unknown key 'votes' in [fence] (valid: action, agent-timeout-ms, quorum-timeout-ms, kill-bound-ms, pretimeout-ms, nowayout)" },
	{ "[node]\naction = log\n",
	  "t.conf:2: unknown key 'action' in [node] (valid: cluster-id, node-id, votes, port, incarnation, interval-ms, misses, payload, payload-string, expected-votes, fence-margin-ms, insecure, key-file, key-id, link0..link7)" },
	{ "[fence]\naction = log\npretimeout-ms = 100\n",
	  "t.conf:1: section [fence]: pretimeout-ms needs agent-timeout-ms (the warning comes before the agent timeout)" },
	{ "[fence]\naction = log\nagent-timeout-ms = 100\npretimeout-ms = 100\n",
	  "t.conf:1: section [fence]: pretimeout-ms 100 is not below agent-timeout-ms 100" },
};

TEST(config_issue3_keys)
{
	CHECK_EQ(parse("[node]\nexpected-votes = 5\nfence-margin-ms = 0\ninsecure = Yes\n"
		       "key-file = keys/cluster.key\n\n"
		       "[fence]\naction = KILL\nagent-timeout-ms = 5000\nquorum-timeout-ms = 0\n"
		       "kill-bound-ms = 1000\npretimeout-ms = 2500\nnowayout = on\n"
		       "[peer 2]\nvotes = 1\nlink0 = 198.18.0.2\n"), 0);
	CHECK_EQ(cfg.node.set, VC_NODE_F_EXPECTED_VOTES | VC_NODE_F_FENCE_MARGIN_MS | VC_NODE_F_INSECURE);
	CHECK_EQ(cfg.node.expected_votes, 5);
	CHECK_EQ(cfg.node.fence_margin_ms, 0);
	CHECK(cfg.node.insecure);
	CHECK_STR(cfg.key_file, "keys/cluster.key");
	CHECK_EQ(cfg.key_file_line, 5);
	CHECK_EQ(cfg.key_id, 1);	/* the default */
	CHECK(cfg.has_fence);
	CHECK_EQ(cfg.fence_line, 7);
	CHECK_EQ(cfg.fence.set, VC_FENCE_F_ACTION | VC_FENCE_F_AGENT_TIMEOUT | VC_FENCE_F_QUORUM_TIMEOUT |
				VC_FENCE_F_KILL_BOUND | VC_FENCE_F_PRETIMEOUT | VC_FENCE_F_NOWAYOUT);
	CHECK_EQ(cfg.fence.action, VC_FENCE_ACTION_KILL);
	CHECK_EQ(cfg.fence.agent_timeout_ms, 5000);
	CHECK_EQ(cfg.fence.quorum_timeout_ms, 0);
	CHECK_EQ(cfg.fence.kill_bound_ms, 1000);
	CHECK_EQ(cfg.fence.pretimeout_ms, 2500);
	CHECK(cfg.fence.nowayout);
	CHECK_EQ(cfg.n_peers, 1);
	CHECK_EQ(parse("[node]\nkey-file = /k\nkey-id = 7\ninsecure = 0\n"), 0);
	CHECK_EQ(cfg.key_id, 7);
	CHECK(!cfg.node.insecure);
	CHECK(!cfg.has_fence);
	return true;
}

TEST(config_errors_exact)
{
	bool ok = true;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(bad[i].text);

		if (r != -EINVAL || strcmp(err, bad[i].err) != 0) {
			printf("# case %zu: r=%d\n#   got:  \"%s\"\n#   want: \"%s\"\n", i, r, err,
			       bad[i].err);
			ok = false;
		}
	}
	return ok;
}

TEST(config_nul_and_long_line)
{
	static char text[2048];
	static const char nul[] = "[node]\nport\0 = 1\n";

	CHECK_EQ(vc_config_parse(nul, sizeof(nul) - 1, "t.conf", &cfg, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "t.conf:2: NUL byte in line (valid: a text file)");
	memset(text, 'x', sizeof(text) - 1);
	memcpy(text, "[node]\n", 7);
	CHECK_EQ(parse(text), -EINVAL);
	CHECK_STR(err, "t.conf:2: line longer than 1023 characters");
	return true;
}

TEST(config_error_buffer_small)
{
	char small[16];

	CHECK_EQ(vc_config_parse("[x]\n", 4, "t.conf", &cfg, small, sizeof(small)), -EINVAL);
	CHECK_STR(small, "t.conf:1: unkno");
	return true;
}

TEST(config_agent_section)
{
	CHECK_EQ(parse("[node]\nnode-id = 1\n"), 0);
	CHECK(!cfg.has_agent);
	CHECK_STR(cfg.agent.cluster_name, "vcluster");
	CHECK_EQ(cfg.agent.transport, VC_TRANSPORT_AUTO);
	CHECK_EQ(cfg.agent.raft_port, VC_AGENT_DEFAULT_RAFT_PORT);
	CHECK_EQ(cfg.agent.election_timeout_ms, VC_AGENT_DEFAULT_ELECTION_MS);
	CHECK_STR(cfg.agent.data_dir, VC_AGENT_DEFAULT_DATA_DIR);

	CHECK_EQ(parse("[agent]\ncluster-name = rack-4.a\ntransport = user\n"
		       "data-dir = data\ncontrol-socket = /run/x.sock\ncontrol-group = 27\n"
		       "raft-port = 6000\nraft-link = 1\nelection-timeout-ms = 500\n"
		       "raft-heartbeat-ms = 50\nlog-level = debug\nsyslog = yes\n"
		       "auto-bootstrap = yes\nfencer = /usr/sbin/vcluster-fencer\n"), 0);
	CHECK(cfg.has_agent);
	CHECK_EQ(cfg.agent_line, 1);
	CHECK_STR(cfg.agent.cluster_name, "rack-4.a");
	CHECK_EQ(cfg.agent.transport, VC_TRANSPORT_USER);
	CHECK_STR(cfg.agent.data_dir, "data");
	CHECK_STR(cfg.agent.control_socket, "/run/x.sock");
	CHECK_EQ(cfg.agent.control_group, 27);
	CHECK_EQ(cfg.agent.raft_port, 6000);
	CHECK_EQ(cfg.agent.raft_link, 1);
	CHECK_EQ(cfg.agent.election_timeout_ms, 500);
	CHECK_EQ(cfg.agent.raft_heartbeat_ms, 50);
	CHECK_STR(cfg.agent.log_level, "debug");
	CHECK(cfg.agent.syslog && cfg.agent.auto_bootstrap);
	CHECK_STR(cfg.agent.fencer, "/usr/sbin/vcluster-fencer");
	CHECK_STR(cfg.agent.libvirt_uri, VC_AGENT_DEFAULT_LIBVIRT_URI);

	CHECK_EQ(parse("[agent]\nlibvirt-uri = qemu:///system?socket=/tmp/s\n"
		       "monitor-interval-ms = 2000\n"), 0);
	CHECK_STR(cfg.agent.libvirt_uri, "qemu:///system?socket=/tmp/s");
	CHECK_EQ(cfg.agent.monitor_ms, 2000);
	CHECK_EQ(parse("[agent]\nlibvirt-uri = none\n"), 0);
	CHECK_STR(cfg.agent.libvirt_uri, "");
	return true;
}

TEST(config_agent_hooks_migration_defaults)
{
	CHECK_EQ(parse("[agent]\n"), 0);
	CHECK_STR(cfg.agent.hooks_dir, "/etc/vcluster/hooks.d");
	CHECK_EQ(cfg.agent.hook_timeout_ms, 5000);
	CHECK_STR(cfg.agent.hook_events, "*");
	CHECK_STR(cfg.agent.ocf_root, "/usr/lib/ocf");
	CHECK_STR(cfg.agent.migrate_uri, "qemu+ssh://%a/system");
	CHECK_STR(cfg.agent.migrate_data_uri, "");
	CHECK_EQ(cfg.agent.migrate_timeout_ms, 120000);
	CHECK_EQ(cfg.agent.migrate_bandwidth_mib_s, 0);
	return true;
}

TEST(config_agent_hooks_migration_keys)
{
	CHECK_EQ(parse("[agent]\nhooks-dir = /srv/hooks\nhook-timeout-ms = 100\n"
		       "hook-events = resource-* , node-fenced,dc-changed\n"
		       "ocf-root = /opt/ocf\nmigrate-uri = qemu+tls://%a:16514/system?n=%n%%\n"
		       "migrate-data-uri = tcp://%a:49152\nmigrate-timeout-ms = 3600000\n"
		       "migrate-bandwidth-mib-s = 1000000\n"), 0);
	CHECK_STR(cfg.agent.hooks_dir, "/srv/hooks");
	CHECK_EQ(cfg.agent.hook_timeout_ms, 100);
	CHECK_STR(cfg.agent.hook_events, "resource-* , node-fenced,dc-changed");
	CHECK_STR(cfg.agent.ocf_root, "/opt/ocf");
	CHECK_STR(cfg.agent.migrate_uri, "qemu+tls://%a:16514/system?n=%n%%");
	CHECK_STR(cfg.agent.migrate_data_uri, "tcp://%a:49152");
	CHECK_EQ(cfg.agent.migrate_timeout_ms, 3600000);
	CHECK_EQ(cfg.agent.migrate_bandwidth_mib_s, 1000000);
	CHECK_EQ(parse("[agent]\nhook-timeout-ms = 600000\nmigrate-timeout-ms = 1000\n"
		       "migrate-data-uri =\nhook-events = *\n"), 0);
	CHECK_EQ(cfg.agent.hook_timeout_ms, 600000);
	CHECK_EQ(cfg.agent.migrate_timeout_ms, 1000);
	CHECK_STR(cfg.agent.migrate_data_uri, "");
	return true;
}

TEST(config_event_list_match)
{
	char why[VC_ERR_LEN];

	CHECK(vc_event_list_match("*", "node-up"));
	CHECK(vc_event_list_match("resource-*,node-fenced", "resource-started"));
	CHECK(vc_event_list_match("resource-*,node-fenced", "node-fenced"));
	CHECK(!vc_event_list_match("resource-*,node-fenced", "node-fenced-x"));
	CHECK(!vc_event_list_match("resource-*,node-fenced", "node-down"));
	CHECK(!vc_event_list_match("resource-*", "resource"));
	CHECK(vc_event_list_match(" node-up , node-down ", "node-down"));
	CHECK(vc_event_list_match("node*", "node-up"));
	CHECK(!vc_event_list_match("node-*", "nodes"));
	CHECK(!vc_event_list_match("bad list", "bad"));
	CHECK_EQ(vc_event_list_check("a,,b", why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "'' in 'a,,b' is not an event name or prefix (valid: comma-separated event names or prefixes ending in *, e.g. resource-*,node-fenced; * for every event)");
	CHECK_EQ(vc_event_list_check("a,", why, sizeof(why)), -EINVAL);
	CHECK_EQ(vc_event_list_check("", why, sizeof(why)), -EINVAL);
	CHECK_EQ(vc_event_list_check("*node", why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "'*node' in '*node' is not an event name or prefix (valid: comma-separated event names or prefixes ending in *, e.g. resource-*,node-fenced; * for every event)");
	CHECK_EQ(vc_event_list_check("node-up", why, sizeof(why)), 0);
	return true;
}

TEST(config_template_expand)
{
	char out[64];

	CHECK_EQ(vc_template_expand("qemu+ssh://%a/system", "198.18.0.2", 2, out, sizeof(out)), 0);
	CHECK_STR(out, "qemu+ssh://198.18.0.2/system");
	CHECK_EQ(vc_template_expand("tcp://%a:49152", "fd00::2", 2, out, sizeof(out)), 0);
	CHECK_STR(out, "tcp://[fd00::2]:49152");
	CHECK_EQ(vc_template_expand("tcp://%a", "[fd00::2]", 2, out, sizeof(out)), 0);
	CHECK_STR(out, "tcp://[fd00::2]");
	CHECK_EQ(vc_template_expand("qemu+ssh://host%n/system?x=100%%", NULL, 42, out,
				    sizeof(out)), 0);
	CHECK_STR(out, "qemu+ssh://host42/system?x=100%");
	CHECK_EQ(vc_template_expand("a%%a", NULL, 1, out, sizeof(out)), 0);
	CHECK_STR(out, "a%a");
	CHECK_EQ(vc_template_expand("", "x", 1, out, sizeof(out)), 0);
	CHECK_STR(out, "");
	CHECK_EQ(vc_template_expand("qemu://%h/", "x", 1, out, sizeof(out)), -EINVAL);
	CHECK_EQ(vc_template_expand("qemu://x/%", "x", 1, out, sizeof(out)), -EINVAL);
	CHECK_EQ(vc_template_expand("qemu+ssh://%a/system", "", 1, out, sizeof(out)),
		 -EDESTADDRREQ);
	CHECK_EQ(vc_template_expand("qemu+ssh://%a/system", "198.18.0.2", 1, out, 16), -ENOSPC);
	CHECK_STR(out, "qemu+ssh://198.");
	CHECK_EQ(vc_template_expand("%n", "x", 4294967295u, out, 11), 0);
	CHECK_STR(out, "4294967295");
	CHECK_EQ(vc_template_expand("%n", "x", 4294967295u, out, 10), -ENOSPC);
	return true;
}

TEST(config_agent_errors_exact)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "[agent]\ntransport = tcp\n",
		  "t.conf:2: key 'transport' in [agent]: 'tcp' is not a transport (valid: auto, kernel, user)" },
		{ "[agent]\nfoo = 1\n",
		  "t.conf:2: unknown key 'foo' in [agent] (valid: cluster-name, transport, data-dir, control-socket, control-group, raft-port, raft-link, election-timeout-ms, raft-heartbeat-ms, log-level, syslog, auto-bootstrap, fencer, libvirt-uri, monitor-interval-ms, hooks-dir, hook-timeout-ms, hook-events, ocf-root, migrate-uri, migrate-data-uri, migrate-timeout-ms, migrate-bandwidth-mib-s)" },
		{ "[agent]\nlibvirt-uri = /var/run/sock\n",
		  "t.conf:2: key 'libvirt-uri' in [agent]: '/var/run/sock' is not a libvirt URI (valid: a URI such as qemu:///system, shorter than 1024 characters, or none)" },
		{ "[agent]\nrestart-limit = 3\n",
		  "t.conf:2: key 'restart-limit' in [agent] was replaced by the resource meta 'migration-threshold' (vclusterctl resource update NAME --migration-threshold N)" },
		{ "[agent]\nrestart-window-ms = 60000\n",
		  "t.conf:2: key 'restart-window-ms' in [agent] was replaced by the resource meta 'failure-timeout-ms' (vclusterctl resource update NAME --failure-timeout-ms MS)" },
		{ "[agent]\nhooks-dir = hooks.d\n",
		  "t.conf:2: key 'hooks-dir' in [agent]: 'hooks.d' is not an absolute path (valid: a path starting with /, shorter than 1024 characters)" },
		{ "[agent]\nhook-timeout-ms = 99\n",
		  "t.conf:2: key 'hook-timeout-ms' in [agent]: '99' is out of range (valid: 100..600000)" },
		{ "[agent]\nhook-timeout-ms = 600001\n",
		  "t.conf:2: key 'hook-timeout-ms' in [agent]: '600001' is out of range (valid: 100..600000)" },
		{ "[agent]\nhook-events = resource-*,Node-Up\n",
		  "t.conf:2: key 'hook-events' in [agent]: 'Node-Up' in 'resource-*,Node-Up' is not an event name or prefix (valid: comma-separated event names or prefixes ending in *, e.g. resource-*,node-fenced; * for every event)" },
		{ "[agent]\nhook-events =\n",
		  "t.conf:2: key 'hook-events' in [agent]: '' in '' is not an event name or prefix (valid: comma-separated event names or prefixes ending in *, e.g. resource-*,node-fenced; * for every event)" },
		{ "[agent]\nocf-root =\n",
		  "t.conf:2: key 'ocf-root' in [agent]: '' is not an absolute path (valid: a path starting with /, shorter than 1024 characters)" },
		{ "[agent]\nmigrate-uri = qemu+ssh://%h/system\n",
		  "t.conf:2: key 'migrate-uri' in [agent]: '%h' in 'qemu+ssh://%h/system' is not a placeholder (valid: %a the target host's address, %n its node id, %% a percent sign)" },
		{ "[agent]\nmigrate-uri = qemu+ssh://%a/system%\n",
		  "t.conf:2: key 'migrate-uri' in [agent]: '%' in 'qemu+ssh://%a/system%' is not a placeholder (valid: %a the target host's address, %n its node id, %% a percent sign)" },
		{ "[agent]\nmigrate-uri =\n",
		  "t.conf:2: key 'migrate-uri' in [agent]: '' is not a URI template (valid: SCHEME:... without blanks, shorter than 1024 characters, e.g. qemu+ssh://%a/system or tcp://%a)" },
		{ "[agent]\nmigrate-data-uri = %a:49152\n",
		  "t.conf:2: key 'migrate-data-uri' in [agent]: '%a:49152' is not a URI template (valid: SCHEME:... without blanks, shorter than 1024 characters, e.g. qemu+ssh://%a/system or tcp://%a, or empty for libvirt's choice)" },
		{ "[agent]\nmigrate-timeout-ms = 999\n",
		  "t.conf:2: key 'migrate-timeout-ms' in [agent]: '999' is out of range (valid: 1000..3600000)" },
		{ "[agent]\nmigrate-bandwidth-mib-s = 1000001\n",
		  "t.conf:2: key 'migrate-bandwidth-mib-s' in [agent]: '1000001' is out of range (valid: 0 for unlimited, or 1..1000000 MiB/s)" },
		{ "[agent]\nmigrate-bandwidth-mib-s = fast\n",
		  "t.conf:2: key 'migrate-bandwidth-mib-s' in [agent]: 'fast' is not a number (valid: 0 for unlimited, or 1..1000000 MiB/s)" },
		{ "[agent]\nhook-events = *\nhook-events = node-up\n",
		  "t.conf:3: key 'hook-events' in [agent] repeats line 2" },
		{ "[agent]\nmonitor-interval-ms = 50\n",
		  "t.conf:2: key 'monitor-interval-ms' in [agent]: '50' is out of range (valid: 100..3600000)" },
		{ "[agent]\nraft-port = 0\n",
		  "t.conf:2: key 'raft-port' in [agent]: '0' is out of range (valid: 1..65535)" },
		{ "[agent]\ncluster-name = a b\n",
		  "t.conf:2: key 'cluster-name' in [agent]: 'a b' is not a cluster name (valid: 1..63 of A-Z a-z 0-9 - _ .)" },
		{ "[agent]\nlog-level = loud\n",
		  "t.conf:2: key 'log-level' in [agent]: 'loud' is not a log level (valid: err, warning, notice, info, debug)" },
		{ "[agent]\nsyslog = yes\nsyslog = no\n",
		  "t.conf:3: key 'syslog' in [agent] repeats line 2" },
		{ "[agent]\n[agent]\n", "t.conf:2: section [agent] repeats line 1" },
		{ "[agent]\nelection-timeout-ms = 10\n",
		  "t.conf:2: key 'election-timeout-ms' in [agent]: '10' is out of range (valid: 50..60000)" },
	};
	bool ok = true;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = parse(cases[i].text);

		if (r != -EINVAL || strcmp(err, cases[i].err) != 0) {
			printf("# case %zu: r=%d\n#   got:  \"%s\"\n#   want: \"%s\"\n", i, r, err,
			       cases[i].err);
			ok = false;
		}
	}
	return ok;
}

const struct vc_test config_tests[] = {
	T(config_agent_section),
	T(config_agent_hooks_migration_defaults),
	T(config_agent_hooks_migration_keys),
	T(config_event_list_match),
	T(config_template_expand),
	T(config_agent_errors_exact),
	T(config_example),
	T(config_whitespace_comments_crlf),
	T(config_empty_and_peers_only),
	T(config_payload_and_optional_keys),
	T(config_64_peers),
	T(config_issue3_keys),
	T(config_errors_exact),
	T(config_nul_and_long_line),
	T(config_error_buffer_small),
	{ NULL, NULL },
};
