/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Node and peer configuration, from a command line or a config file.
 *
 * Both front ends fill the same structures through the same key setters,
 * so "vclusterctl node set misses 1" and "misses = 1" in a file fail with
 * the same explanation.  Everything here is pure (no I/O), which is what
 * lets the tests pin the exact error messages.
 *
 * Config file format (INI-like, whole-line comments with '#' or ';'):
 *
 *	[node]
 *	cluster-id = 7
 *	node-id = 1
 *	port = 5420
 *	interval-ms = 10
 *	misses = 3
 *	link0 = 198.18.0.1
 *	link1 = fd00::1
 *	expected-votes = 3
 *	key-file = cluster.key		(relative to the config file)
 *	key-id = 1			(default 1)
 *	insecure = no
 *	fence-margin-ms = 100
 *
 *	[fence]				(applied by "load --arm" only)
 *	action = kill
 *	agent-timeout-ms = 5000
 *	quorum-timeout-ms = 2000
 *	kill-bound-ms = 1000
 *	pretimeout-ms = 2500
 *	nowayout = no
 *
 *	[peer 2]
 *	votes = 1
 *	link0 = 198.18.0.2
 *	link1 = [fd00::2]:5421
 */
#ifndef VC_CONFIG_H
#define VC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/vcluster.h>

#include "parse.h"

/* Which fields of struct vc_node_cfg were given. */
enum {
	VC_NODE_F_CLUSTER_ID	= 1u << 0,
	VC_NODE_F_NODE_ID	= 1u << 1,
	VC_NODE_F_VOTES		= 1u << 2,
	VC_NODE_F_PORT		= 1u << 3,
	VC_NODE_F_INCARNATION	= 1u << 4,
	VC_NODE_F_INTERVAL_MS	= 1u << 5,
	VC_NODE_F_MISSES	= 1u << 6,
	VC_NODE_F_PAYLOAD	= 1u << 7,
	VC_NODE_F_LINKS		= 1u << 8,
	VC_NODE_F_EXPECTED_VOTES = 1u << 9,
	VC_NODE_F_FENCE_MARGIN_MS = 1u << 10,
	VC_NODE_F_INSECURE	= 1u << 11,
};

/* Which fields of struct vc_fence_cfg were given. */
enum {
	VC_FENCE_F_ACTION	= 1u << 0,
	VC_FENCE_F_AGENT_TIMEOUT = 1u << 1,
	VC_FENCE_F_QUORUM_TIMEOUT = 1u << 2,
	VC_FENCE_F_KILL_BOUND	= 1u << 3,
	VC_FENCE_F_PRETIMEOUT	= 1u << 4,
	VC_FENCE_F_NOWAYOUT	= 1u << 5,
};

struct vc_node_cfg {
	unsigned int set;		/* VC_NODE_F_* */
	uint32_t cluster_id;
	uint32_t node_id;
	uint32_t votes;
	uint16_t port;
	uint64_t incarnation;
	uint32_t interval_ms;
	uint32_t misses;
	uint8_t payload[VC_MAX_PAYLOAD];
	size_t payload_len;
	struct vc_addr links[VC_MAX_LINKS];	/* by link id; family 0: none */
	uint32_t expected_votes;
	uint32_t fence_margin_ms;
	bool insecure;
};

/* FENCE_ARM settings (fence arm, [fence]). */
struct vc_fence_cfg {
	unsigned int set;		/* VC_FENCE_F_* */
	uint32_t action;		/* enum vc_fence_action */
	uint32_t agent_timeout_ms;
	uint32_t quorum_timeout_ms;
	uint32_t kill_bound_ms;
	uint32_t pretimeout_ms;
	bool nowayout;
};

struct vc_peer_cfg {
	uint32_t node_id;
	bool has_votes;
	uint32_t votes;
	bool has_links;
	struct vc_addr links[VC_MAX_LINKS];	/* by link id; family 0: none */
	unsigned int line;			/* config file line, 0 if none */
};

#define VC_PATH_LEN		1024

/* [agent]: vclusterd only ("vclusterctl load" ignores the section). */
enum vc_transport {
	VC_TRANSPORT_AUTO,		/* kernel when the module is loaded */
	VC_TRANSPORT_KERNEL,
	VC_TRANSPORT_USER,
};

#define VC_CLUSTER_NAME_LEN	64
#define VC_AGENT_DEFAULT_RAFT_PORT	5421
#define VC_AGENT_DEFAULT_DATA_DIR	"/var/lib/vcluster"
#define VC_AGENT_DEFAULT_SOCKET		"/run/vcluster/vclusterd.sock"
#define VC_AGENT_DEFAULT_ELECTION_MS	1000
#define VC_AGENT_DEFAULT_RAFT_HB_MS	100
#define VC_AGENT_DEFAULT_LIBVIRT_URI	"qemu:///system"
#define VC_AGENT_DEFAULT_MONITOR_MS	10000
#define VC_AGENT_DEFAULT_HOOKS_DIR	"/etc/vcluster/hooks.d"
#define VC_AGENT_DEFAULT_HOOK_TIMEOUT_MS	5000
#define VC_AGENT_DEFAULT_HOOK_EVENTS	"*"
#define VC_AGENT_DEFAULT_OCF_ROOT	"/usr/lib/ocf"
#define VC_AGENT_DEFAULT_MIGRATE_URI	"qemu+ssh://%a/system"
#define VC_AGENT_DEFAULT_MIGRATE_TIMEOUT_MS	120000

/* Ranges of the [agent] keys that need them in more than one place. */
#define VC_HOOK_TIMEOUT_MS_MIN		100
#define VC_HOOK_TIMEOUT_MS_MAX		600000
#define VC_MIGRATE_TIMEOUT_MS_MIN	1000
#define VC_MIGRATE_TIMEOUT_MS_MAX	3600000
#define VC_MIGRATE_BANDWIDTH_MAX	1000000		/* MiB/s; 0: unlimited */
#define VC_HOOK_EVENTS_LEN		512

struct vc_agent_cfg {
	char cluster_name[VC_CLUSTER_NAME_LEN];
	uint32_t transport;		/* enum vc_transport */
	char data_dir[VC_PATH_LEN];	/* absolute after parsing */
	char control_socket[VC_PATH_LEN];
	uint32_t control_group;		/* gid that may connect, 0: root only */
	uint16_t raft_port;		/* TCP, on raft-link's address */
	uint32_t raft_link;		/* link id whose address raft uses */
	uint32_t election_timeout_ms;
	uint32_t raft_heartbeat_ms;
	char log_level[16];		/* "info", ... */
	bool syslog;
	bool auto_bootstrap;		/* voters bootstrap an empty data dir */
	char fencer[VC_PATH_LEN];	/* vcluster-fencer binary, "" default */
	char libvirt_uri[VC_PATH_LEN];	/* "" ("none" in the file): no VMs here */
	uint32_t monitor_ms;		/* recurring VM monitor */
	char hooks_dir[VC_PATH_LEN];	/* absolute; missing: no hooks */
	uint32_t hook_timeout_ms;	/* each hook is killed after this */
	char hook_events[VC_HOOK_EVENTS_LEN];	/* "resource-*,node-fenced", "*" */
	char ocf_root[VC_PATH_LEN];	/* absolute; agents in resource.d/ */
	char migrate_uri[VC_PATH_LEN];	/* template: %a address, %n node id */
	char migrate_data_uri[VC_PATH_LEN];	/* template; "": libvirt's choice */
	uint32_t migrate_timeout_ms;
	uint32_t migrate_bandwidth_mib_s;	/* 0: unlimited */
};

struct vc_config {
	bool has_node;
	struct vc_node_cfg node;
	char key_file[VC_PATH_LEN];	/* [node] key-file as written, "" if none */
	unsigned int key_file_line;
	uint32_t key_id;		/* [node] key-id, default 1 */
	bool has_fence;
	struct vc_fence_cfg fence;
	unsigned int fence_line;
	size_t n_peers;
	struct vc_peer_cfg peers[VC_MAX_PEERS];
	bool has_agent;
	struct vc_agent_cfg agent;	/* defaults filled even without [agent] */
	unsigned int agent_line;
};

/* Ranges, shared by the setters, the help texts and the man page. */
#define VC_INTERVAL_MS_MIN	1
#define VC_INTERVAL_MS_MAX	60000
#define VC_MISSES_MIN		2
#define VC_MISSES_MAX		1000
#define VC_TIMEOUT_MS_MIN	10	/* agent and quorum timeouts; 0 is off */
#define VC_TIMEOUT_MS_MAX	600000
#define VC_KILL_BOUND_MS_MIN	10
#define VC_KILL_BOUND_MS_MAX	60000
#define VC_FENCE_MARGIN_MS_MAX	60000
#define VC_KEY_ID_MIN		1
#define VC_KEY_ID_MAX		255

#define VC_ERR_LEN		512

/*
 * Set one node key ("cluster-id", "misses", "payload", ...) from its text
 * value.  Link keys take the link id separately: key "link", @link_id.
 * On error returns -EINVAL and writes why into @why, e.g.
 * "'1' is out of range (valid: 2..1000)".  -ENOENT for an unknown key.
 */
int vc_node_cfg_set(struct vc_node_cfg *cfg, const char *key, uint32_t link_id,
		    const char *value, char *why, size_t why_size);

/* Same for a peer: "votes" and "link". */
int vc_peer_cfg_set(struct vc_peer_cfg *cfg, const char *key, uint32_t link_id,
		    const char *value, char *why, size_t why_size);

/*
 * Same for FENCE_ARM: "action", "agent-timeout-ms", "quorum-timeout-ms",
 * "kill-bound-ms", "pretimeout-ms", "nowayout" (yes/no).
 */
int vc_fence_cfg_set(struct vc_fence_cfg *cfg, const char *key, const char *value,
		     char *why, size_t why_size);
/* Checks across keys: action given, pretimeout below the agent timeout. */
int vc_fence_cfg_check(const struct vc_fence_cfg *cfg, char *why, size_t why_size);

/*
 * Set one [agent] key ("cluster-name", "transport", "data-dir", ...).
 * Paths are kept as written; relative ones are relative to the config
 * file's directory, which the agent resolves.
 */
int vc_agent_cfg_set(struct vc_agent_cfg *cfg, const char *key, const char *value,
		     char *why, size_t why_size);
/* Fill the defaults of every [agent] key. */
void vc_agent_cfg_defaults(struct vc_agent_cfg *cfg);
extern const char vc_agent_keys_help[];

/*
 * An event list as hook-events takes it: comma-separated event names
 * ("node-fenced") or prefixes ending in '*' ("resource-*"; "*" alone is
 * every event), blanks around items ignored.  _check returns 0, or
 * -EINVAL with why in @why; _match says whether @event is in the list
 * (false for a list that does not check).
 */
int vc_event_list_check(const char *list, char *why, size_t why_size);
bool vc_event_list_match(const char *list, const char *event);

/*
 * Expand a migration URI template (migrate-uri, migrate-data-uri) for a
 * target host into @out: %a is @addr (an address without a port, put in
 * brackets when it is IPv6, as URIs need), %n is @node_id in decimal, %%
 * is a percent sign.  Returns 0; -EINVAL for any other %x or a trailing
 * '%'; -EDESTADDRREQ when the template has %a and @addr is NULL or "";
 * -ENOSPC when the result does not fit in @size bytes (@out then holds
 * what fitted, NUL-terminated).
 */
int vc_template_expand(const char *tmpl, const char *addr, uint32_t node_id,
		       char *out, size_t size);

/* The keys each section accepts, for error messages and help. */
extern const char vc_node_keys_help[];
extern const char vc_node_set_help[];
extern const char vc_peer_keys_help[];
extern const char vc_fence_keys_help[];

/*
 * Parse a whole config file held in @text (@len bytes, need not be NUL
 * terminated).  @filename is only used in messages.  Returns 0, or
 * -EINVAL with "FILE:LINE: ..." in @err.  @cfg is zeroed first.
 */
int vc_config_parse(const char *text, size_t len, const char *filename,
		    struct vc_config *cfg, char *err, size_t err_size);

/*
 * Command-line front ends, argv after the subcommand words:
 *   node set: [cluster-id N] [node-id N] [votes N] [port N] [incarnation N]
 *             [interval-ms N] [misses N] [payload HEX | --payload-string S]
 *             [expected-votes N] [fence-margin-ms N] [insecure 0|1]
 *             [link ID ADDR]...
 *   peer add/set: NODEID [votes N] [link ID ADDR[:PORT]]...
 *   fence arm: ACTION [agent-timeout-ms N] [quorum-timeout-ms N]
 *             [kill-bound-ms N] [pretimeout-ms N] [nowayout]
 * -EINVAL with the message in @err.
 */
int vc_args_node_set(int argc, char **argv, struct vc_node_cfg *cfg,
		     char *err, size_t err_size);
int vc_args_fence_arm(int argc, char **argv, struct vc_fence_cfg *cfg,
		      char *err, size_t err_size);
int vc_args_peer(int argc, char **argv, struct vc_peer_cfg *cfg,
		 char *err, size_t err_size);

/*
 * Remove "--json"/"-j" and "--help"/"-h" from @argv (in place, keeping the
 * order of the rest) and report them; returns the new argc.  Arguments
 * after "--" are kept as they are (the "--" itself is dropped).
 */
int vc_take_common_flags(int argc, char **argv, bool *json, bool *help);

#endif /* VC_CONFIG_H */
