// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * vclusterctl: configure and watch the vcluster kernel module over its
 * generic netlink family.  One table of subcommands, each with --help;
 * human output by default, --json on every read command.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/vcluster.h>
#include <netlink/genl/genl.h>

#include "agentctl.h"
#include "config.h"
#include "json.h"
#include "msg.h"
#include "nl.h"
#include "parse.h"
#include "show.h"
#include "vclusterctl.h"

#ifndef VC_VERSION
#define VC_VERSION "0.1"
#endif

#define PROG "vclusterctl"

struct cmd {
	const char *name;
	int (*run)(struct cmd_ctx *ctx, int argc, char **argv);
	const char *args;
	const char *summary;
	const char *help;
};

void err_msg(const struct cmd_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": %s: ", ctx->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int usage_error(const struct cmd_ctx *ctx, const char *why)
{
	err_msg(ctx, "%s (see '" PROG " %s --help')", why, ctx->name);
	return VC_EXIT_USAGE;
}

/* ---- netlink plumbing ---- */

int open_family(const struct cmd_ctx *ctx, struct vc_nl **ret)
{
	int r = vc_nl_open(ret);

	if (r == -ENOENT) {
		err_msg(ctx, "vcluster module not loaded (generic netlink family '%s' not found)",
			VC_GENL_NAME);
		return VC_EXIT_NO_MODULE;
	}
	if (r < 0) {
		err_msg(ctx, "cannot open generic netlink: %s", strerror(-r));
		return VC_EXIT_FAILURE;
	}
	return VC_EXIT_OK;
}

/* Explain a failed request once, with the kernel's own words. */
int kernel_error(const struct cmd_ctx *ctx, const struct vc_nl *nl,
			const char *where, int r)
{
	const char *ext = vc_nl_extack(nl), *attr = vc_nl_extack_attr(nl);
	char what[160];

	/* genetlink's own permission check says nothing more; the module's
	 * EPERMs (e.g. registering another user's process) explain
	 * themselves. */
	if (r == -EPERM && !ext[0])
		snprintf(what, sizeof(what), "%s: needs CAP_NET_ADMIN", strerror(-r));
	else
		snprintf(what, sizeof(what), "%s", strerror(-r));
	fprintf(stderr, PROG ": %s: %s%s%s%s%s%s%s%s\n", ctx->name, where,
		where[0] ? ": " : "", what, ext[0] ? ": " : "", ext,
		attr[0] ? " [" : "", attr, attr[0] ? "]" : "");
	return VC_EXIT_FAILURE;
}

int node_set_request(struct vc_nl *nl, const struct vc_node_cfg *c)
{
	struct nl_msg *msg = vc_nl_msg_new(nl, VC_CMD_NODE_SET, 0);

	if (!msg)
		return -ENOMEM;
	if (vc_msg_put_node(msg, c) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return vc_nl_request(nl, msg, NULL, NULL);
}

int peer_request(struct vc_nl *nl, uint8_t cmd, const struct vc_peer_cfg *c)
{
	struct nl_msg *msg = vc_nl_msg_new(nl, cmd, 0);
	int r;

	if (!msg)
		return -ENOMEM;
	r = vc_msg_put_peer(msg, c);
	if (r < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return vc_nl_request(nl, msg, NULL, NULL);
}

int simple_request(struct vc_nl *nl, uint8_t cmd, int attr, uint64_t value,
			  bool with_value)
{
	struct nl_msg *msg = vc_nl_msg_new(nl, cmd, 0);
	int r = 0;

	if (!msg)
		return -ENOMEM;
	if (with_value)
		r = attr == VC_A_PEER_NODE_ID ? nla_put_u32(msg, attr, (uint32_t)value) :
						nla_put_u64(msg, attr, value);
	if (r < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return vc_nl_request(nl, msg, NULL, NULL);
}

uint64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- commands ---- */

int no_extra_args(const struct cmd_ctx *ctx, int argc, char **argv)
{
	char why[256];

	if (argc == 0)
		return VC_EXIT_OK;
	snprintf(why, sizeof(why), "unexpected argument '%s'", argv[0]);
	return usage_error(ctx, why);
}

static int node_reply(struct nl_msg *msg, void *arg)
{
	const struct cmd_ctx *ctx = arg;

	vc_show_node(stdout, msg, ctx->json, boottime_ns());
	return 0;
}

static int cmd_node_show(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct vc_nl *nl = NULL;
	struct nl_msg *msg;
	int r;

	r = no_extra_args(ctx, argc, argv);
	if (r == VC_EXIT_OK)
		r = open_family(ctx, &nl);
	if (r != VC_EXIT_OK)
		return r;
	msg = vc_nl_msg_new(nl, VC_CMD_NODE_GET, 0);
	r = msg ? vc_nl_request(nl, msg, node_reply, ctx) : -ENOMEM;
	r = r < 0 ? kernel_error(ctx, nl, "", r) : VC_EXIT_OK;
	vc_nl_close(nl);
	return r;
}

/* Open, run one request that has already been built by @build, close. */
static int run_request(struct cmd_ctx *ctx, int (*send)(struct vc_nl *nl, const void *arg),
		       const void *arg)
{
	struct vc_nl *nl = NULL;
	int r;

	r = open_family(ctx, &nl);
	if (r != VC_EXIT_OK)
		return r;
	r = send(nl, arg);
	r = r < 0 ? kernel_error(ctx, nl, "", r) : VC_EXIT_OK;
	vc_nl_close(nl);
	return r;
}

static int send_node_set(struct vc_nl *nl, const void *arg)
{
	return node_set_request(nl, arg);
}

static int cmd_node_set(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct vc_node_cfg cfg;
	char err[VC_ERR_LEN];

	if (vc_args_node_set(argc, argv, &cfg, err, sizeof(err)) < 0)
		return usage_error(ctx, err);
	return run_request(ctx, send_node_set, &cfg);
}

struct start_args {
	bool has_incarnation;
	uint64_t incarnation;
};

static int send_start(struct vc_nl *nl, const void *arg)
{
	const struct start_args *s = arg;

	return simple_request(nl, VC_CMD_START, VC_A_NODE_INCARNATION, s->incarnation,
			      s->has_incarnation);
}

static int send_stop(struct vc_nl *nl, const void *arg)
{
	(void)arg;
	return simple_request(nl, VC_CMD_STOP, 0, 0, false);
}

static int parse_start_args(const struct cmd_ctx *ctx, int argc, char **argv,
			    struct start_args *s)
{
	char why[256];

	memset(s, 0, sizeof(*s));
	if (argc == 0)
		return VC_EXIT_OK;
	if (strcmp(argv[0], "incarnation") != 0 || argc > 2) {
		snprintf(why, sizeof(why), "unexpected argument '%s' (valid: incarnation N)",
			 argv[strcmp(argv[0], "incarnation") != 0 ? 0 : 2]);
		return usage_error(ctx, why);
	}
	if (argc < 2)
		return usage_error(ctx, "'incarnation' needs a value");
	if (vc_parse_u64(argv[1], 1, UINT64_MAX, &s->incarnation) < 0) {
		snprintf(why, sizeof(why), "incarnation: '%s' is not a number (valid: 1..%" PRIu64 ")",
			 argv[1], UINT64_MAX);
		return usage_error(ctx, why);
	}
	s->has_incarnation = true;
	return VC_EXIT_OK;
}

static int cmd_start(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct start_args s;
	int r;

	r = parse_start_args(ctx, argc, argv, &s);
	return r != VC_EXIT_OK ? r : run_request(ctx, send_start, &s);
}

static int cmd_stop(struct cmd_ctx *ctx, int argc, char **argv)
{
	int r = no_extra_args(ctx, argc, argv);

	return r != VC_EXIT_OK ? r : run_request(ctx, send_stop, NULL);
}

static int send_peer_add(struct vc_nl *nl, const void *arg)
{
	return peer_request(nl, VC_CMD_PEER_ADD, arg);
}

static int send_peer_set(struct vc_nl *nl, const void *arg)
{
	return peer_request(nl, VC_CMD_PEER_SET, arg);
}

static int send_peer_del(struct vc_nl *nl, const void *arg)
{
	return simple_request(nl, VC_CMD_PEER_DEL, VC_A_PEER_NODE_ID,
			      *(const uint32_t *)arg, true);
}

static int cmd_peer_add(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct vc_peer_cfg cfg;
	char err[VC_ERR_LEN];

	if (vc_args_peer(argc, argv, &cfg, err, sizeof(err)) < 0)
		return usage_error(ctx, err);
	return run_request(ctx, send_peer_add, &cfg);
}

static int cmd_peer_set(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct vc_peer_cfg cfg;
	char err[VC_ERR_LEN];

	if (vc_args_peer(argc, argv, &cfg, err, sizeof(err)) < 0)
		return usage_error(ctx, err);
	return run_request(ctx, send_peer_set, &cfg);
}

static int parse_node_id_arg(const struct cmd_ctx *ctx, int argc, char **argv,
			     uint32_t *node_id)
{
	char why[256];

	if (argc != 1) {
		snprintf(why, sizeof(why), argc ? "unexpected argument '%s'" : "missing NODEID%s",
			 argc ? argv[1] : "");
		return usage_error(ctx, why);
	}
	if (vc_parse_u32(argv[0], 1, UINT32_MAX, node_id) < 0) {
		snprintf(why, sizeof(why), "'%s' is not a node id (valid: 1..4294967295)",
			 argv[0]);
		return usage_error(ctx, why);
	}
	return VC_EXIT_OK;
}

static int cmd_peer_del(struct cmd_ctx *ctx, int argc, char **argv)
{
	uint32_t node_id;
	int r;

	r = parse_node_id_arg(ctx, argc, argv, &node_id);
	return r != VC_EXIT_OK ? r : run_request(ctx, send_peer_del, &node_id);
}

struct peer_printer {
	bool json;
	struct vc_json j;
	uint64_t now_ns;
	size_t count;
};

static int peer_reply(struct nl_msg *msg, void *arg)
{
	struct peer_printer *pp = arg;

	vc_show_peer(stdout, pp->json ? &pp->j : NULL, msg, pp->now_ns);
	pp->count++;
	return 0;
}

static int peer_get(struct cmd_ctx *ctx, bool dump, uint32_t node_id)
{
	struct peer_printer pp = { .json = ctx->json, .now_ns = boottime_ns() };
	struct vc_nl *nl = NULL;
	struct nl_msg *msg;
	int r;

	r = open_family(ctx, &nl);
	if (r != VC_EXIT_OK)
		return r;
	msg = vc_nl_msg_new(nl, VC_CMD_PEER_GET, dump ? NLM_F_DUMP : 0);
	if (msg && !dump && nla_put_u32(msg, VC_A_PEER_NODE_ID, node_id) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	vc_json_init(&pp.j, stdout);
	if (dump && pp.json)
		vc_json_arr_begin(&pp.j, NULL);
	r = msg ? vc_nl_request(nl, msg, peer_reply, &pp) : -ENOMEM;
	if (dump && pp.json) {
		vc_json_arr_end(&pp.j);
		vc_json_end(&pp.j);
	} else if (pp.json) {
		vc_json_end(&pp.j);
	}
	r = r < 0 ? kernel_error(ctx, nl, "", r) : VC_EXIT_OK;
	if (r == VC_EXIT_OK && dump && !pp.json && pp.count == 0)
		printf("no peers\n");
	vc_nl_close(nl);
	return r;
}

static int cmd_peer_list(struct cmd_ctx *ctx, int argc, char **argv)
{
	int r = no_extra_args(ctx, argc, argv);

	return r != VC_EXIT_OK ? r : peer_get(ctx, true, 0);
}

static int cmd_peer_show(struct cmd_ctx *ctx, int argc, char **argv)
{
	uint32_t node_id;
	int r;

	r = parse_node_id_arg(ctx, argc, argv, &node_id);
	return r != VC_EXIT_OK ? r : peer_get(ctx, false, node_id);
}

static int cmd_help(struct cmd_ctx *ctx, int argc, char **argv);

static int cmd_version(struct cmd_ctx *ctx, int argc, char **argv)
{
	int r = no_extra_args(ctx, argc, argv);

	if (r == VC_EXIT_OK)
		printf(PROG " %s (netlink family %s version %d)\n", VC_VERSION,
		       VC_GENL_NAME, VC_GENL_VERSION);
	return r;
}

static const struct cmd commands[] = {
	{ "node show", cmd_node_show, "[--json]", "show the local node, its links and counters",
	  "Prints the instance of this network namespace: ids, timing, state,\n"
	  "local links and receive counters.\n" },
	{ "node set", cmd_node_set,
	  "[cluster-id N] [node-id N] [votes N] [port N] [incarnation N]\n"
	  "        [interval-ms N] [misses N] [payload HEX | --payload-string S]\n"
	  "        [expected-votes N] [fence-margin-ms N] [insecure 0|1]\n"
	  "        [link ID ADDR]...",
	  "change node settings",
	  "cluster-id, node-id (1..4294967295), votes, port (1..65535), incarnation\n"
	  "and links only while the node is stopped; interval-ms (1..60000),\n"
	  "misses (2..1000) and payload (at most 64 bytes) at any time.\n"
	  "Links: ID 0..7, ADDR an IPv4 or IPv6 address; the links given replace\n"
	  "all local links.\n"
	  "expected-votes: odd, or 0 for no quorum (the kernel refuses an even\n"
	  "number); fence-margin-ms (0..60000, default 100) is added to every\n"
	  "peer's fenced-by deadline; insecure 1 allows starting without a key.\n" },
	{ "start", cmd_start, "[incarnation N]", "start heartbeating",
	  "Needs cluster-id, node-id and at least one link.  Without an\n"
	  "incarnation the kernel uses max(previous + 1, wall-clock seconds).\n" },
	{ "stop", cmd_stop, "", "stop heartbeating", "Peers are kept; their state becomes DOWN.\n" },
	{ "peer add", cmd_peer_add, "NODEID [votes N] link ID ADDR[:PORT] [link ID ADDR[:PORT]]...",
	  "add a peer", "ADDR[:PORT] is A.B.C.D[:PORT], an IPv6 address or [IPv6]:PORT;\n"
	  "without a port the node's port is used.\n" },
	{ "peer set", cmd_peer_set, "NODEID [votes N] [link ID ADDR[:PORT]]...",
	  "change a peer", "The links given replace all links of that peer.\n" },
	{ "peer del", cmd_peer_del, "NODEID", "remove a peer", "" },
	{ "peer list", cmd_peer_list, "[--json]", "list peers with per-link statistics",
	  "Ages (\"heard 3 ms ago\") are computed against CLOCK_BOOTTIME now.\n" },
	{ "peer show", cmd_peer_show, "NODEID [--json]", "show one peer", "" },
	{ "monitor", cmd_monitor, "[--json] [--count N] [--timeout SEC] [--ready FILE]",
	  "print membership events as they happen",
	  "One line per event: membership, quorum (votes seen/expected, quorate-\n"
	  "until deadline) and fencing (armed, disarmed, pretimeout, fired,\n"
	  "escalated, with the reason).  time_ns is the kernel's CLOCK_BOOTTIME at the\n"
	  "decision, rx_ns ours when the event was read.  --count exits after N\n"
	  "events, --timeout after SEC seconds (exit 5 if --count was not reached),\n"
	  "--ready creates FILE once subscribed.\n" },
	{ "load", cmd_load, "FILE [--start] [--arm] [--check]",
	  "configure the node and its peers from a file",
	  "Applies [node] with one node set, sets key-file as key-id (default 1)\n"
	  "primary, deletes peers not in FILE, adds or changes the others, starts\n"
	  "the node with --start, then arms the watchdog from [fence] with --arm.\n"
	  "--check only parses FILE (and reads the key file).  See vclusterctl(8)\n"
	  "for the format.\n" },
	{ "fence arm", cmd_fence_arm,
	  "ACTION [agent-timeout-ms N] [quorum-timeout-ms N] [kill-bound-ms N]\n"
	  "        [pretimeout-ms N] [nowayout]",
	  "arm the fencing watchdog (or change its settings)",
	  "ACTION: log (event and counter only), kill (SIGKILL the registered\n"
	  "processes, reboot if one is still there after kill-bound-ms), panic or\n"
	  "reboot.  agent-timeout-ms: fence when not petted for this long (0 off,\n"
	  "10..600000); quorum-timeout-ms: fence when not quorate for this long\n"
	  "(0 off, 10..600000, needs expected-votes); kill-bound-ms 10..60000\n"
	  "(default 1000); pretimeout-ms: warn this long before the agent timeout\n"
	  "(default half of it).  nowayout: disarm is refused from now on.\n"
	  "The node must be running.  Arming counts as the first pet.\n" },
	{ "fence pet", cmd_fence_pet, "[--every MS [--for SEC]]", "pet the fencing watchdog",
	  "Pets once, or with --every every MS milliseconds (on a fixed schedule)\n"
	  "until killed or until --for SEC seconds have passed.  Stops at the\n"
	  "first refused pet (not armed, or fenced) with the kernel's message\n"
	  "and exit 1.\n" },
	{ "fence disarm", cmd_fence_disarm, "", "disarm the fencing watchdog",
	  "Refused when armed with nowayout.  Heartbeats continue, advertising\n"
	  "the node as unarmed (weak fencing).\n" },
	{ "fence show", cmd_fence_show, "[--json]", "show the fencing watchdog",
	  "Armed or not, action, timeouts, last pet, whether (and why, and\n"
	  "when) it fenced, how often it fired, and the registered processes.\n" },
	{ "proc add", cmd_proc_add, "PID...", "register processes for the kill action",
	  "Sends each PID with its start time (/proc/PID/stat field 22) and holds\n"
	  "a pidfd meanwhile: a process that exits during the request is removed\n"
	  "again and reported, so a reused PID is never registered.\n" },
	{ "proc del", cmd_proc_del, "PID", "unregister a process", "" },
	{ "proc list", cmd_proc_list, "[--json]", "list the registered processes",
	  "PIDs in this namespace, with their command names.\n" },
	{ "key set", cmd_key_set, "ID FILE [primary]", "set a heartbeat MAC key",
	  "ID 1..255.  FILE holds exactly 64 hex digits (32 bytes) and an optional\n"
	  "newline, e.g. made with\n"
	  "  head -c32 /dev/urandom | od -An -tx1 | tr -d ' \\n' > FILE\n"
	  "At most two keys; the first becomes primary (the one heartbeats are\n"
	  "signed with); 'primary' makes this one primary.  Both are accepted.\n" },
	{ "key del", cmd_key_del, "ID", "delete a key",
	  "Refused for the primary key while running.\n" },
	{ "key list", cmd_key_list, "[--json]", "list key ids (never their values)", "" },
	/* The agent's control socket (agentctl.c); -s PATH chooses it. */
	{ "status", cmd_status, "[--json] [--timeout SEC]", "show the cluster as the agent sees it",
	  "Asks the agent (vclusterd) for the designated controller (DC), the raft\n"
	  "term and state, quorum, and every node: state, membership, incarnation,\n"
	  "votes, links up/total, fence strength, flags (self, dc, standby,\n"
	  "maintenance) and pending fence windows.  --timeout: wait at most SEC\n"
	  "seconds for the answer (default 30).  Exit 3 when the agent cannot be\n"
	  "reached.\n" },
	{ "node list", cmd_node_list, "[--json] [--timeout SEC]", "list the cluster's nodes (agent)",
	  "The node table of 'status' alone; --json prints its \"nodes\" array.\n" },
	{ "node standby", cmd_node_standby, "NODEID [--timeout SEC]",
	  "move a node's resources away and place none there",
	  "Committed through the DC; needs root.  The node stays a member.\n" },
	{ "node unstandby", cmd_node_unstandby, "NODEID [--timeout SEC]",
	  "let resources run on a node again", "Needs root.\n" },
	{ "node maintenance", cmd_node_maintenance, "NODEID [on|off] [--timeout SEC]",
	  "stop (or resume) managing a node's resources",
	  "on (the default): the cluster leaves the node's resources as they are\n"
	  "and neither monitors nor recovers them; off resumes.  Needs root.\n" },
	{ "node confirm-fenced", cmd_node_confirm_fenced, "NODEID [--timeout SEC]",
	  "confirm that a silent node is off",
	  "For a node that advertised weak fencing (log action, or unarmed): the\n"
	  "DC recovers its resources only after a person confirms that the node\n"
	  "is powered off or cut off.  Confirming a node that still runs its\n"
	  "resources can run them twice.  Needs root.\n" },
	{ "resource add", cmd_resource_add,
	  "NAME (--xml FILE | --domain DOMAIN | --ocf ocf:PROVIDER:TYPE)\n"
	  "        [--param KEY=VALUE]... [--op NAME=DUR]... [POLICY OPTIONS] [--timeout SEC]",
	  "make a VM or an OCF service a cluster resource",
	  "--xml FILE: a libvirt domain XML ('-' reads stdin); --domain: a domain\n"
	  "already defined (and shut off) on this host.  This host's libvirt checks\n"
	  "it (and defines it, autostart off); the DC commits it and places it.\n"
	  "--ocf: an OCF resource agent installed on the hosts, e.g.\n"
	  "ocf:heartbeat:IPaddr2, with its parameters as --param KEY=VALUE; this\n"
	  "host checks them against the agent's meta-data and runs validate-all.\n"
	  "--op overrides the meta-data's timings: start-timeout=DUR,\n"
	  "stop-timeout=DUR, monitor-timeout=DUR, monitor-interval=DUR.\n"
	  "DUR: a whole number with ms, s, min or h, or seconds without a unit\n"
	  "(500ms, 20s, 2min, 20).\n"
	  "POLICY OPTIONS (see 'resource update'): where it may and would rather\n"
	  "run.  Refused with the reason for invalid XML, an unknown domain or\n"
	  "agent, bad parameters, a running domain, a name or domain already in\n"
	  "use, or a policy that could never be met.  Needs root.\n" },
	{ "resource remove", cmd_resource_remove, "NAME [--timeout SEC]",
	  "stop a resource and forget it",
	  "Committed through the DC; the host running it stops it, then the\n"
	  "resource is gone.  The libvirt definition stays.  Needs root.\n" },
	{ "resource list", cmd_resource_list, "[--json] [--timeout SEC]",
	  "list resources: where each runs, its status and why it is there", "" },
	{ "resource show", cmd_resource_show, "NAME [--json] [--timeout SEC]",
	  "one resource in full: definition, policy, failures",
	  "The resource's row as in 'resource list' (FLAGS: disabled, maintenance,\n"
	  "moving to N, frozen for N, move target N, and \"fails C@hN\": C\n"
	  "failures on node N that still count), its definition (domain, or OCF\n"
	  "agent, timings and parameters), its policy and its failures per node.\n"
	  "--json prints everything, the whole definition included.\n" },
	{ "resource update", cmd_resource_update, "NAME POLICY OPTIONS... [--timeout SEC]",
	  "change a resource's placement policy",
	  "Only the keys given change; --no-KEY removes one (back to its default).\n"
	  "A list option given replaces the whole list.  POLICY OPTIONS:\n"
	  "  --priority N            -1000000..1000000 (default 0): placed first\n"
	  "                          when capacity is short\n"
	  "  --prefer NODE[=SCORE]   rather run on NODE, score 1..1000000 (default\n"
	  "                          100); repeatable\n"
	  "  --ban NODE              never run on NODE; repeatable\n"
	  "  --with RES              run where RES runs; repeatable\n"
	  "  --apart RES             never run where RES runs; repeatable\n"
	  "  --after RES             start only once RES is running; repeatable\n"
	  "  --stickiness N          0..1000000 (default 0): score for staying\n"
	  "  --migration-threshold N 0..1000000 (default 3): failures on a node\n"
	  "                          that ban it there; 0: never\n"
	  "  --failure-timeout DUR   failures older than this stop counting\n"
	  "                          (default 1min; 0: never)\n"
	  "  --no-priority, --no-prefer, --no-ban, --no-with, --no-apart,\n"
	  "  --no-after, --no-stickiness, --no-migration-threshold,\n"
	  "  --no-failure-timeout    remove the key\n"
	  "The DC refuses a policy that could never be met (a loop of --with and\n"
	  "--after, an unknown resource, every host banned, ...).  Needs root.\n" },
	{ "resource enable", cmd_resource_enable, "NAME [--timeout SEC]",
	  "let the cluster place and start a resource", "Needs root.\n" },
	{ "resource disable", cmd_resource_disable, "NAME [--timeout SEC]",
	  "stop a resource and place it nowhere",
	  "It stays defined; 'resource enable' starts it again.  Needs root.\n" },
	{ "resource maintenance", cmd_resource_maintenance, "NAME [on|off] [--timeout SEC]",
	  "stop (or resume) managing one resource",
	  "on (the default): the cluster neither starts, stops, restarts nor moves\n"
	  "it and leaves it as it is; off resumes.  Needs root.\n" },
	{ "resource move", cmd_resource_move, "NAME NODE [--timeout SEC]",
	  "move a resource to another node",
	  "A VM migrates live.  The move leaves the constraint \"run on node\n"
	  "NODE\": while NODE can run it, it runs there, and comes back there,\n"
	  "until 'resource clear NAME'.  Needs root.\n" },
	{ "resource clear", cmd_resource_clear, "NAME [--timeout SEC]",
	  "remove the constraint a move left",
	  "The resource does not move back by itself; its policy decides from now\n"
	  "on.  Needs root.\n" },
	{ "resource cleanup", cmd_resource_cleanup, "NAME [--node N] [--timeout SEC]",
	  "forget a resource's failures",
	  "On node N, or without --node on every node: a node that its failures\n"
	  "banned (migration-threshold) may run it again.  Needs root.\n" },
	{ "cluster bootstrap", cmd_cluster_bootstrap, "[--timeout SEC]",
	  "create the cluster from the configured voters",
	  "Writes the initial raft configuration into this voter's empty data\n"
	  "directory.  Refused when it already holds state.  Needs root.\n" },
	{ "cluster join", cmd_cluster_join, "[voter|standby] [--timeout SEC]",
	  "ask the DC to add this node",
	  "The DC commits this node as a member with the given role (default:\n"
	  "as configured).  Needs root.\n" },
	{ "cluster leave", cmd_cluster_leave, "[--policy migrate|stop|freeze] [--timeout SEC]",
	  "leave the cluster in an orderly way",
	  "First this node's resources go: migrate (the DC moves them away, VMs\n"
	  "live), stop (stopped here, placed elsewhere) or freeze (stopped, kept\n"
	  "for this node's return); the default is the cluster's shutdown-policy\n"
	  "(cluster set).  Then the DC removes the node, and it stops heartbeating\n"
	  "with an authenticated leave: nobody waits for a fence window.  Needs\n"
	  "root.\n" },
	{ "cluster maintenance", cmd_cluster_maintenance, "[on|off] [--timeout SEC]",
	  "stop (or resume) managing every resource",
	  "on (the default): the cluster neither starts, stops, restarts nor moves\n"
	  "any resource; fencing goes on.  off resumes.  Needs root.\n" },
	{ "cluster set", cmd_cluster_set,
	  "[shutdown-policy migrate|stop|freeze] [migrate-max N] [--timeout SEC]",
	  "change cluster-wide settings",
	  "At least one of:\n"
	  "shutdown-policy: what happens to a host's resources when the host shuts\n"
	  "down cleanly: migrate (the default: moved to other hosts, VMs live),\n"
	  "stop (stopped, then placed elsewhere) or freeze (stopped and kept for\n"
	  "that host, which starts them again when it is back).\n"
	  "migrate-max N (1..64, default 1): planned moves that run at once.\n"
	  "Needs root.\n" },
	{ "watch", cmd_watch, "[--json] [--history] [--count N] [--timeout SEC] [--ready FILE]",
	  "print the agent's events as they happen",
	  "One line per event, until SIGINT: time, event name, then its fields.\n"
	  "--history first prints the events the agent keeps (the most recent\n"
	  "256), --count exits after N events, --timeout after SEC seconds (exit 5\n"
	  "if --count was not reached), --ready creates FILE once subscribed.\n" },
	{ "history", cmd_history, "[--json] [--limit N] [--timeout SEC]",
	  "print the cluster's recent decisions",
	  "The cluster's decision records (the most recent 256, replicated:\n"
	  "fences, node flags, joins and leaves, placements, resource policy,\n"
	  "flags, failures, cleanups and moves, cluster settings), oldest first,\n"
	  "each with its raft index; --limit: only the last N.\n" },
	{ "help", cmd_help, "[COMMAND]", "show help", "" },
	{ "version", cmd_version, "", "show the version", "" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: " PROG " [--json] [-s SOCKET] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-20s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'" PROG " COMMAND --help' shows the arguments of COMMAND.\n");
}

static void print_cmd_help(const struct cmd *c)
{
	printf("usage: " PROG " %s %s\n\n%s.\n", c->name, c->args, c->summary);
	if (c->help[0])
		printf("\n%s", c->help);
}

static const char *const groups[][2] = {
	{ "node", "node show" }, { "peer", "peer list" }, { "fence", "fence show" },
	{ "proc", "proc list" }, { "key", "key list" }, { "cluster", "status" },
	{ "resource", "resource list" },
};

/* "peer" -> "peer list"; @word itself when it is no group. */
static const char *group_default(const char *word)
{
	size_t i;

	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (strcmp(word, groups[i][0]) == 0)
			return groups[i][1];
	return word;
}

/* Match "peer add" (two words) or "start" (one); *used = words consumed. */
static const struct cmd *find_cmd(int argc, char **argv, int *used)
{
	char two[64];
	size_t i;

	if (argc >= 2) {
		snprintf(two, sizeof(two), "%s %s", argv[0], argv[1]);
		for (i = 0; i < N_COMMANDS; i++)
			if (strcmp(commands[i].name, two) == 0)
				return *used = 2, &commands[i];
	}
	if (argc >= 1) {
		/* a group word alone means its show/list */
		const char *one = group_default(argv[0]);

		if (argc >= 2 && one != argv[0])
			return NULL;	/* "peer bogus" */
		if (strcmp(argv[0], "--version") == 0 || strcmp(argv[0], "-V") == 0)
			one = "version";
		for (i = 0; i < N_COMMANDS; i++)
			if (strcmp(commands[i].name, one) == 0)
				return *used = 1, &commands[i];
	}
	return NULL;
}

static int cmd_help(struct cmd_ctx *ctx, int argc, char **argv)
{
	const struct cmd *c;
	int used;

	(void)ctx;
	if (argc == 0) {
		print_usage(stdout);
		return VC_EXIT_OK;
	}
	c = find_cmd(argc, argv, &used);
	if (!c || used != argc) {
		fprintf(stderr, PROG ": help: unknown command '%s'\n", argv[0]);
		return VC_EXIT_USAGE;
	}
	print_cmd_help(c);
	return VC_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct cmd_ctx ctx = { .name = PROG };
	bool help = false;
	const struct cmd *c;
	int used;

	setvbuf(stdout, NULL, _IOLBF, 0);
	argc = vc_take_common_flags(argc - 1, argv + 1, &ctx.json, &help);
	argv++;
	argc = agent_take_socket_flag(argc, argv);
	if (argc < 0)
		return VC_EXIT_USAGE;
	if (argc == 0) {
		print_usage(help ? stdout : stderr);
		return help ? VC_EXIT_OK : VC_EXIT_USAGE;
	}
	c = find_cmd(argc, argv, &used);
	if (!c) {
		bool group = argc > 1 && group_default(argv[0]) != argv[0];

		fprintf(stderr, PROG ": unknown command '%s%s%s'\n", argv[0],
			group ? " " : "", group ? argv[1] : "");
		print_usage(stderr);
		return VC_EXIT_USAGE;
	}
	if (help) {
		print_cmd_help(c);
		return VC_EXIT_OK;
	}
	ctx.name = c->name;
	return c->run(&ctx, argc - used, argv + used);
}
