// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Node and peer configuration from argv or a config file.  See config.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"

#define LINK_IDS	"0..7"

const char vc_node_keys_help[] =
	"cluster-id, node-id, votes, port, incarnation, interval-ms, misses, "
	"payload, payload-string, expected-votes, fence-margin-ms, insecure, "
	"key-file, key-id, link0..link7";
const char vc_node_set_help[] =
	"cluster-id, node-id, votes, port, incarnation, interval-ms, misses, "
	"payload, payload-string, expected-votes, fence-margin-ms, insecure, link";
const char vc_peer_keys_help[] = "votes, link0..link7";
const char vc_fence_keys_help[] =
	"action, agent-timeout-ms, quorum-timeout-ms, kill-bound-ms, pretimeout-ms, nowayout";
const char vc_agent_keys_help[] =
	"cluster-name, transport, data-dir, control-socket, control-group, raft-port, "
	"raft-link, election-timeout-ms, raft-heartbeat-ms, log-level, syslog, "
	"auto-bootstrap, fencer, libvirt-uri, monitor-interval-ms, hooks-dir, "
	"hook-timeout-ms, hook-events, ocf-root, migrate-uri, migrate-data-uri, "
	"migrate-timeout-ms, migrate-bandwidth-mib-s";
static const char sections_valid[] =
	"valid: [node], [fence], [agent], [peer N] with N in 1..4294967295";
static const char actions_valid[] = "valid: log, kill, panic, reboot";

static const char node_link_valid[] =
	"valid: A.B.C.D or an IPv6 address, without a port";
static const char peer_link_valid[] =
	"valid: A.B.C.D, A.B.C.D:PORT, an IPv6 address or [IPv6]:PORT";
static const char payload_valid[] =
	"valid: up to 64 bytes as hex digits, e.g. 0a1b2c";

static int why_u64(int r, const char *value, uint64_t min, uint64_t max,
		   char *why, size_t size)
{
	snprintf(why, size, "'%s' is %s (valid: %" PRIu64 "..%" PRIu64 ")", value,
		 r == -ERANGE ? "out of range" : "not a number", min, max);
	return -EINVAL;
}

static int set_u64(const char *value, uint64_t min, uint64_t max,
		   uint64_t *out, char *why, size_t size)
{
	int r = vc_parse_u64(value, min, max, out);

	return r < 0 ? why_u64(r, value, min, max, why, size) : 0;
}

static int set_u32(const char *value, uint32_t min, uint32_t max,
		   uint32_t *out, char *why, size_t size)
{
	int r = vc_parse_u32(value, min, max, out);

	return r < 0 ? why_u64(r, value, min, max, why, size) : 0;
}

/* 0 (off) or min..max. */
static int set_u32_off(const char *value, uint32_t min, uint32_t max,
		       uint32_t *out, char *why, size_t size)
{
	uint32_t v;
	int r = vc_parse_u32(value, 0, max, &v);

	if (r == 0 && v != 0 && v < min)
		r = -ERANGE;
	if (r < 0) {
		snprintf(why, size, "'%s' is %s (valid: 0 for off, or %u..%u)", value,
			 r == -ERANGE ? "out of range" : "not a number", min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int set_bool(const char *value, bool *out, char *why, size_t size)
{
	if (vc_parse_bool(value, out) < 0) {
		snprintf(why, size, "'%s' is not yes or no (valid: yes, no, 1, 0)", value);
		return -EINVAL;
	}
	return 0;
}

static int set_link(struct vc_addr *links, uint32_t link_id, const char *value,
		    bool allow_port, char *why, size_t size)
{
	int r;

	if (link_id >= VC_MAX_LINKS) {
		snprintf(why, size, "link id %u is out of range (valid: " LINK_IDS ")",
			 link_id);
		return -EINVAL;
	}
	r = vc_parse_addr(value, allow_port, &links[link_id]);
	if (r == -ERANGE)
		snprintf(why, size, "'%s' has a bad port (valid: 1..65535)", value);
	else if (r < 0)
		snprintf(why, size, "'%s' is not an address (%s)", value,
			 allow_port ? peer_link_valid : node_link_valid);
	return r < 0 ? -EINVAL : 0;
}

static int set_payload_hex(struct vc_node_cfg *cfg, const char *value,
			   char *why, size_t size)
{
	int r = vc_parse_hex(value, cfg->payload, sizeof(cfg->payload),
			     &cfg->payload_len);

	if (r < 0) {
		snprintf(why, size, "'%s' is %s (%s)", value,
			 r == -E2BIG ? "longer than 64 bytes" : "not hex", payload_valid);
		return -EINVAL;
	}
	return 0;
}

static int set_payload_string(struct vc_node_cfg *cfg, const char *value,
			      char *why, size_t size)
{
	size_t len = strlen(value);

	if (len > VC_MAX_PAYLOAD) {
		snprintf(why, size, "'%s' is longer than 64 bytes (valid: up to 64 characters)",
			 value);
		return -EINVAL;
	}
	memcpy(cfg->payload, value, len);
	cfg->payload_len = len;
	return 0;
}

static int node_set_number(struct vc_node_cfg *cfg, const char *key,
			   const char *value, char *why, size_t size)
{
	uint32_t port;
	int r;

	if (strcmp(key, "cluster-id") == 0) {
		r = set_u32(value, 1, UINT32_MAX, &cfg->cluster_id, why, size);
		cfg->set |= r ? 0 : VC_NODE_F_CLUSTER_ID;
	} else if (strcmp(key, "node-id") == 0) {
		r = set_u32(value, 1, UINT32_MAX, &cfg->node_id, why, size);
		cfg->set |= r ? 0 : VC_NODE_F_NODE_ID;
	} else if (strcmp(key, "votes") == 0) {
		r = set_u32(value, 0, UINT32_MAX, &cfg->votes, why, size);
		cfg->set |= r ? 0 : VC_NODE_F_VOTES;
	} else if (strcmp(key, "port") == 0) {
		r = set_u32(value, 1, 65535, &port, why, size);
		cfg->port = (uint16_t)port;
		cfg->set |= r ? 0 : VC_NODE_F_PORT;
	} else if (strcmp(key, "incarnation") == 0) {
		r = set_u64(value, 1, UINT64_MAX, &cfg->incarnation, why, size);
		cfg->set |= r ? 0 : VC_NODE_F_INCARNATION;
	} else if (strcmp(key, "interval-ms") == 0) {
		r = set_u32(value, VC_INTERVAL_MS_MIN, VC_INTERVAL_MS_MAX,
			    &cfg->interval_ms, why, size);
		cfg->set |= r ? 0 : VC_NODE_F_INTERVAL_MS;
	} else if (strcmp(key, "misses") == 0) {
		r = set_u32(value, VC_MISSES_MIN, VC_MISSES_MAX, &cfg->misses,
			    why, size);
		cfg->set |= r ? 0 : VC_NODE_F_MISSES;
	} else if (strcmp(key, "expected-votes") == 0) {
		/* odd or 0: the kernel refuses an even value and says why */
		r = set_u32(value, 0, UINT32_MAX, &cfg->expected_votes, why, size);
		cfg->set |= r ? 0 : VC_NODE_F_EXPECTED_VOTES;
	} else if (strcmp(key, "fence-margin-ms") == 0) {
		r = set_u32(value, 0, VC_FENCE_MARGIN_MS_MAX, &cfg->fence_margin_ms,
			    why, size);
		cfg->set |= r ? 0 : VC_NODE_F_FENCE_MARGIN_MS;
	} else if (strcmp(key, "insecure") == 0) {
		r = set_bool(value, &cfg->insecure, why, size);
		cfg->set |= r ? 0 : VC_NODE_F_INSECURE;
	} else {
		r = -ENOENT;
	}
	return r;
}

int vc_node_cfg_set(struct vc_node_cfg *cfg, const char *key, uint32_t link_id,
		    const char *value, char *why, size_t why_size)
{
	int r;

	if (strcmp(key, "link") == 0) {
		r = set_link(cfg->links, link_id, value, false, why, why_size);
		cfg->set |= r ? 0 : VC_NODE_F_LINKS;
		return r;
	}
	if (strcmp(key, "payload") == 0 || strcmp(key, "payload-string") == 0) {
		r = key[7] ? set_payload_string(cfg, value, why, why_size) :
			     set_payload_hex(cfg, value, why, why_size);
		cfg->set |= r ? 0 : VC_NODE_F_PAYLOAD;
		return r;
	}
	return node_set_number(cfg, key, value, why, why_size);
}

int vc_peer_cfg_set(struct vc_peer_cfg *cfg, const char *key, uint32_t link_id,
		    const char *value, char *why, size_t why_size)
{
	int r;

	if (strcmp(key, "link") == 0) {
		r = set_link(cfg->links, link_id, value, true, why, why_size);
		cfg->has_links |= r == 0;
		return r;
	}
	if (strcmp(key, "votes") == 0) {
		r = set_u32(value, 0, UINT32_MAX, &cfg->votes, why, why_size);
		cfg->has_votes |= r == 0;
		return r;
	}
	return -ENOENT;
}

int vc_fence_cfg_set(struct vc_fence_cfg *cfg, const char *key, const char *value,
		     char *why, size_t why_size)
{
	int r;

	if (strcmp(key, "action") == 0) {
		r = vc_parse_fence_action(value, &cfg->action);
		if (r < 0)
			snprintf(why, why_size, "'%s' is not a fence action (%s)", value,
				 actions_valid);
		cfg->set |= r ? 0 : VC_FENCE_F_ACTION;
	} else if (strcmp(key, "agent-timeout-ms") == 0) {
		r = set_u32_off(value, VC_TIMEOUT_MS_MIN, VC_TIMEOUT_MS_MAX,
				&cfg->agent_timeout_ms, why, why_size);
		cfg->set |= r ? 0 : VC_FENCE_F_AGENT_TIMEOUT;
	} else if (strcmp(key, "quorum-timeout-ms") == 0) {
		r = set_u32_off(value, VC_TIMEOUT_MS_MIN, VC_TIMEOUT_MS_MAX,
				&cfg->quorum_timeout_ms, why, why_size);
		cfg->set |= r ? 0 : VC_FENCE_F_QUORUM_TIMEOUT;
	} else if (strcmp(key, "kill-bound-ms") == 0) {
		r = set_u32(value, VC_KILL_BOUND_MS_MIN, VC_KILL_BOUND_MS_MAX,
			    &cfg->kill_bound_ms, why, why_size);
		cfg->set |= r ? 0 : VC_FENCE_F_KILL_BOUND;
	} else if (strcmp(key, "pretimeout-ms") == 0) {
		r = set_u32(value, 1, VC_TIMEOUT_MS_MAX - 1, &cfg->pretimeout_ms,
			    why, why_size);
		cfg->set |= r ? 0 : VC_FENCE_F_PRETIMEOUT;
	} else if (strcmp(key, "nowayout") == 0) {
		r = set_bool(value, &cfg->nowayout, why, why_size);
		cfg->set |= r ? 0 : VC_FENCE_F_NOWAYOUT;
	} else {
		r = -ENOENT;
	}
	return r < 0 && r != -ENOENT ? -EINVAL : r;
}

int vc_fence_cfg_check(const struct vc_fence_cfg *cfg, char *why, size_t why_size)
{
	if (!(cfg->set & VC_FENCE_F_ACTION)) {
		snprintf(why, why_size, "no action (%s)", actions_valid);
		return -EINVAL;
	}
	if (!(cfg->set & VC_FENCE_F_PRETIMEOUT))
		return 0;
	if (!cfg->agent_timeout_ms) {
		snprintf(why, why_size,
			 "pretimeout-ms needs agent-timeout-ms (the warning comes before the agent timeout)");
		return -EINVAL;
	}
	if (cfg->pretimeout_ms >= cfg->agent_timeout_ms) {
		snprintf(why, why_size, "pretimeout-ms %u is not below agent-timeout-ms %u",
			 cfg->pretimeout_ms, cfg->agent_timeout_ms);
		return -EINVAL;
	}
	return 0;
}

/* ---- config file ---- */

/* Duplicate-key tracking: one slot per key, links after the named keys. */

/* ---- [agent] ---- */

void vc_agent_cfg_defaults(struct vc_agent_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->cluster_name, sizeof(cfg->cluster_name), "vcluster");
	cfg->transport = VC_TRANSPORT_AUTO;
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s", VC_AGENT_DEFAULT_DATA_DIR);
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s",
		 VC_AGENT_DEFAULT_SOCKET);
	cfg->raft_port = VC_AGENT_DEFAULT_RAFT_PORT;
	cfg->election_timeout_ms = VC_AGENT_DEFAULT_ELECTION_MS;
	cfg->raft_heartbeat_ms = VC_AGENT_DEFAULT_RAFT_HB_MS;
	snprintf(cfg->log_level, sizeof(cfg->log_level), "info");
	snprintf(cfg->libvirt_uri, sizeof(cfg->libvirt_uri), "%s", VC_AGENT_DEFAULT_LIBVIRT_URI);
	cfg->monitor_ms = VC_AGENT_DEFAULT_MONITOR_MS;
	snprintf(cfg->hooks_dir, sizeof(cfg->hooks_dir), "%s", VC_AGENT_DEFAULT_HOOKS_DIR);
	cfg->hook_timeout_ms = VC_AGENT_DEFAULT_HOOK_TIMEOUT_MS;
	snprintf(cfg->hook_events, sizeof(cfg->hook_events), "%s", VC_AGENT_DEFAULT_HOOK_EVENTS);
	snprintf(cfg->ocf_root, sizeof(cfg->ocf_root), "%s", VC_AGENT_DEFAULT_OCF_ROOT);
	snprintf(cfg->migrate_uri, sizeof(cfg->migrate_uri), "%s", VC_AGENT_DEFAULT_MIGRATE_URI);
	cfg->migrate_timeout_ms = VC_AGENT_DEFAULT_MIGRATE_TIMEOUT_MS;
}

/* ---- event lists (hook-events) ---- */

static const char event_list_valid[] =
	"valid: comma-separated event names or prefixes ending in *, e.g. resource-*,node-fenced; * for every event";

static bool is_event_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* The next item of @list from *@pos, blanks trimmed: its start and length. */
static const char *event_item(const char *list, size_t *pos, size_t *len)
{
	const char *item = list + *pos, *end;

	while (*item == ' ' || *item == '\t')
		item++;
	end = item + strcspn(item, ",");
	*pos = (size_t)(end - list) + (*end == ',');
	while (end > item && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*len = (size_t)(end - item);
	return item;
}

/* "node-fenced", "resource-*", "*": event characters, one optional '*' last. */
static bool event_item_valid(const char *item, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (!is_event_char(item[i]) && !(item[i] == '*' && i == len - 1))
			return false;
	return true;
}

int vc_event_list_check(const char *list, char *why, size_t why_size)
{
	size_t pos = 0, len, total = strlen(list);
	const char *item;

	if (total >= VC_HOOK_EVENTS_LEN) {
		snprintf(why, why_size, "the list is longer than %d characters (%s)",
			 VC_HOOK_EVENTS_LEN - 1, event_list_valid);
		return -EINVAL;
	}
	do {
		item = event_item(list, &pos, &len);
		if (!event_item_valid(item, len)) {
			snprintf(why, why_size, "'%.*s' in '%s' is not an event name or prefix (%s)",
				 (int)len, item, list, event_list_valid);
			return -EINVAL;
		}
	} while (pos < total);
	/* "a," ends in an empty item: the loop stopped before reading it. */
	if (total && list[total - 1] == ',') {
		snprintf(why, why_size, "'' in '%s' is not an event name or prefix (%s)", list,
			 event_list_valid);
		return -EINVAL;
	}
	return 0;
}

static bool event_item_match(const char *item, size_t len, const char *event)
{
	if (len && item[len - 1] == '*')
		return strncmp(event, item, len - 1) == 0;
	return strlen(event) == len && strncmp(event, item, len) == 0;
}

bool vc_event_list_match(const char *list, const char *event)
{
	size_t pos = 0, len, total = strlen(list);
	const char *item;
	char why[8];

	if (vc_event_list_check(list, why, sizeof(why)) < 0)
		return false;
	do {
		item = event_item(list, &pos, &len);
		if (event_item_match(item, len, event))
			return true;
	} while (pos < total);
	return false;
}

/* ---- URI templates (migrate-uri, migrate-data-uri) ---- */

static const char template_valid[] =
	"valid: %a the target host's address, %n its node id, %% a percent sign";

/* The first '%' of @tmpl that is no placeholder, or NULL. */
static const char *template_bad(const char *tmpl)
{
	const char *p;

	for (p = strchr(tmpl, '%'); p; p = strchr(p + 2, '%'))
		if (p[1] != 'a' && p[1] != 'n' && p[1] != '%')
			return p;
	return NULL;
}

/* Append @n bytes of @s at *@len; false once @out is full. */
static bool put(char *out, size_t size, size_t *len, const char *s, size_t n)
{
	size_t room = size - 1 - *len;
	size_t take = n < room ? n : room;

	memcpy(out + *len, s, take);
	*len += take;
	out[*len] = '\0';
	return take == n;
}

static bool put_addr(char *out, size_t size, size_t *len, const char *addr)
{
	bool v6 = strchr(addr, ':') && addr[0] != '[';

	return (!v6 || put(out, size, len, "[", 1)) &&
	       put(out, size, len, addr, strlen(addr)) &&
	       (!v6 || put(out, size, len, "]", 1));
}

int vc_template_expand(const char *tmpl, const char *addr, uint32_t node_id,
		       char *out, size_t size)
{
	char id[16];
	size_t len = 0;
	const char *p;
	bool fits = true;

	if (size == 0)
		return -ENOSPC;
	out[0] = '\0';
	if (template_bad(tmpl))
		return -EINVAL;
	/* Every '%' has a letter after it now; "%%a" is no address. */
	for (p = strchr(tmpl, '%'); p; p = strchr(p + 2, '%'))
		if (p[1] == 'a' && (!addr || !addr[0]))
			return -EDESTADDRREQ;
	snprintf(id, sizeof(id), "%u", node_id);
	for (p = tmpl; *p && fits; p++) {
		if (*p != '%')
			fits = put(out, size, &len, p, 1);
		else if (*++p == 'a')
			fits = put_addr(out, size, &len, addr);
		else if (*p == 'n')
			fits = put(out, size, &len, id, strlen(id));
		else
			fits = put(out, size, &len, "%", 1);
	}
	return fits ? 0 : -ENOSPC;
}

/*
 * A URI template: "scheme:rest" without blanks, placeholders valid.
 * @may_be_empty: "" stands for libvirt's own choice (migrate-data-uri).
 */
static int set_uri_template(const char *value, bool may_be_empty, char *out, size_t out_size,
			    char *why, size_t size)
{
	size_t scheme = strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789+.-");
	const char *bad = template_bad(value);

	if (value[0] == '\0' && may_be_empty) {
		out[0] = '\0';
		return 0;
	}
	if (bad) {
		snprintf(why, size, "'%.2s' in '%s' is not a placeholder (%s)", bad, value,
			 template_valid);
		return -EINVAL;
	}
	if (scheme == 0 || value[scheme] != ':' || strpbrk(value, " \t") ||
	    strlen(value) >= out_size) {
		snprintf(why, size, "'%s' is not a URI template (valid: SCHEME:... without blanks, shorter than %zu characters, e.g. qemu+ssh://%%a/system or tcp://%%a%s)",
			 value, out_size, may_be_empty ? ", or empty for libvirt's choice" : "");
		return -EINVAL;
	}
	snprintf(out, out_size, "%s", value);
	return 0;
}

/* A libvirt URI as libvirt takes it, or "none": this host runs no VMs. */
static int set_libvirt_uri(const char *value, char *out, size_t out_size, char *why,
			   size_t size)
{
	if (strcmp(value, "none") == 0) {
		out[0] = '\0';
		return 0;
	}
	if (!strstr(value, ":/") || strlen(value) >= out_size || strpbrk(value, " \t")) {
		snprintf(why, size, "'%s' is not a libvirt URI (valid: a URI such as qemu:///system, shorter than %zu characters, or none)",
			 value, out_size);
		return -EINVAL;
	}
	snprintf(out, out_size, "%s", value);
	return 0;
}

/* hooks-dir, ocf-root: the agent uses these as they are, so absolute. */
static int set_abs_path(const char *value, char *out, size_t out_size, char *why, size_t size)
{
	if (value[0] != '/' || strlen(value) >= out_size) {
		snprintf(why, size, "'%s' is not an absolute path (valid: a path starting with /, shorter than %zu characters)",
			 value, out_size);
		return -EINVAL;
	}
	snprintf(out, out_size, "%s", value);
	return 0;
}

static int set_hook_events(const char *value, char *out, size_t out_size, char *why,
			   size_t size)
{
	int r = vc_event_list_check(value, why, size);

	if (r == 0)
		snprintf(out, out_size, "%s", value);
	return r;
}

static int set_bandwidth(const char *value, uint32_t *out, char *why, size_t size)
{
	int r = vc_parse_u32(value, 0, VC_MIGRATE_BANDWIDTH_MAX, out);

	if (r < 0) {
		snprintf(why, size, "'%s' is %s (valid: 0 for unlimited, or 1..%u MiB/s)", value,
			 r == -ERANGE ? "out of range" : "not a number", VC_MIGRATE_BANDWIDTH_MAX);
		return -EINVAL;
	}
	return 0;
}

static int set_path(const char *value, char *out, size_t out_size, char *why, size_t size)
{
	if (value[0] == '\0' || strlen(value) >= out_size) {
		snprintf(why, size, "'%s' is not a path (valid: an absolute path, or one relative to the config file's directory, shorter than %zu characters)",
			 value, out_size);
		return -EINVAL;
	}
	snprintf(out, out_size, "%s", value);
	return 0;
}

static int set_transport(const char *value, uint32_t *out, char *why, size_t size)
{
	static const char *const names[] = { "auto", "kernel", "user" };
	uint32_t i;

	for (i = 0; i < 3; i++) {
		if (strcmp(value, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	snprintf(why, size, "'%s' is not a transport (valid: auto, kernel, user)", value);
	return -EINVAL;
}

static int set_cluster_name(const char *value, char *out, char *why, size_t size)
{
	size_t i, len = strlen(value);

	for (i = 0; i < len; i++) {
		char c = value[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			break;
	}
	if (len == 0 || len >= VC_CLUSTER_NAME_LEN || i < len) {
		snprintf(why, size, "'%s' is not a cluster name (valid: 1..%d of A-Z a-z 0-9 - _ .)",
			 value, VC_CLUSTER_NAME_LEN - 1);
		return -EINVAL;
	}
	snprintf(out, VC_CLUSTER_NAME_LEN, "%s", value);
	return 0;
}

static int set_log_level(const char *value, char *out, size_t out_size, char *why, size_t size)
{
	static const char *const levels[] = { "err", "warning", "notice", "info", "debug" };
	size_t i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (strcmp(value, levels[i]) == 0) {
			snprintf(out, out_size, "%s", value);
			return 0;
		}
	}
	snprintf(why, size, "'%s' is not a log level (valid: err, warning, notice, info, debug)",
		 value);
	return -EINVAL;
}

/* The hooks, OCF and migration keys. */
static int agent_cfg_set_more(struct vc_agent_cfg *cfg, const char *key, const char *value,
			      char *why, size_t size)
{
	if (strcmp(key, "hooks-dir") == 0)
		return set_abs_path(value, cfg->hooks_dir, sizeof(cfg->hooks_dir), why, size);
	if (strcmp(key, "hook-timeout-ms") == 0)
		return set_u32(value, VC_HOOK_TIMEOUT_MS_MIN, VC_HOOK_TIMEOUT_MS_MAX,
			       &cfg->hook_timeout_ms, why, size);
	if (strcmp(key, "hook-events") == 0)
		return set_hook_events(value, cfg->hook_events, sizeof(cfg->hook_events),
				       why, size);
	if (strcmp(key, "ocf-root") == 0)
		return set_abs_path(value, cfg->ocf_root, sizeof(cfg->ocf_root), why, size);
	if (strcmp(key, "migrate-uri") == 0)
		return set_uri_template(value, false, cfg->migrate_uri,
					sizeof(cfg->migrate_uri), why, size);
	if (strcmp(key, "migrate-data-uri") == 0)
		return set_uri_template(value, true, cfg->migrate_data_uri,
					sizeof(cfg->migrate_data_uri), why, size);
	if (strcmp(key, "migrate-timeout-ms") == 0)
		return set_u32(value, VC_MIGRATE_TIMEOUT_MS_MIN, VC_MIGRATE_TIMEOUT_MS_MAX,
			       &cfg->migrate_timeout_ms, why, size);
	if (strcmp(key, "migrate-bandwidth-mib-s") == 0)
		return set_bandwidth(value, &cfg->migrate_bandwidth_mib_s, why, size);
	return -ENOENT;
}

int vc_agent_cfg_set(struct vc_agent_cfg *cfg, const char *key, const char *value,
		     char *why, size_t size)
{
	uint32_t port;
	int r;

	if (strcmp(key, "cluster-name") == 0)
		return set_cluster_name(value, cfg->cluster_name, why, size);
	if (strcmp(key, "transport") == 0)
		return set_transport(value, &cfg->transport, why, size);
	if (strcmp(key, "data-dir") == 0)
		return set_path(value, cfg->data_dir, sizeof(cfg->data_dir), why, size);
	if (strcmp(key, "control-socket") == 0)
		return set_path(value, cfg->control_socket, sizeof(cfg->control_socket),
				why, size);
	if (strcmp(key, "control-group") == 0)
		return set_u32(value, 0, UINT32_MAX - 1, &cfg->control_group, why, size);
	if (strcmp(key, "raft-port") == 0) {
		r = set_u32(value, 1, 65535, &port, why, size);
		if (r == 0)
			cfg->raft_port = (uint16_t)port;
		return r;
	}
	if (strcmp(key, "raft-link") == 0)
		return set_u32(value, 0, VC_MAX_LINKS - 1, &cfg->raft_link, why, size);
	if (strcmp(key, "election-timeout-ms") == 0)
		return set_u32(value, 50, 60000, &cfg->election_timeout_ms, why, size);
	if (strcmp(key, "raft-heartbeat-ms") == 0)
		return set_u32(value, 5, 10000, &cfg->raft_heartbeat_ms, why, size);
	if (strcmp(key, "log-level") == 0)
		return set_log_level(value, cfg->log_level, sizeof(cfg->log_level), why, size);
	if (strcmp(key, "syslog") == 0)
		return set_bool(value, &cfg->syslog, why, size);
	if (strcmp(key, "auto-bootstrap") == 0)
		return set_bool(value, &cfg->auto_bootstrap, why, size);
	if (strcmp(key, "fencer") == 0)
		return set_path(value, cfg->fencer, sizeof(cfg->fencer), why, size);
	if (strcmp(key, "libvirt-uri") == 0)
		return set_libvirt_uri(value, cfg->libvirt_uri, sizeof(cfg->libvirt_uri), why, size);
	if (strcmp(key, "monitor-interval-ms") == 0)
		return set_u32(value, 100, 3600000, &cfg->monitor_ms, why, size);
	return agent_cfg_set_more(cfg, key, value, why, size);
}

enum { SLOT_LINK0 = 19, N_SLOTS = SLOT_LINK0 + VC_MAX_LINKS };

static const char *const slot_keys[SLOT_LINK0] = {
	"cluster-id", "node-id", "votes", "port", "incarnation",
	"interval-ms", "misses", "payload", "expected-votes", "fence-margin-ms",
	"insecure", "key-file", "key-id", "action", "agent-timeout-ms",
	"quorum-timeout-ms", "kill-bound-ms", "pretimeout-ms", "nowayout",
};

static const char *const agent_keys[] = {
	"cluster-name", "transport", "data-dir", "control-socket", "control-group",
	"raft-port", "raft-link", "election-timeout-ms", "raft-heartbeat-ms",
	"log-level", "syslog", "auto-bootstrap", "fencer", "libvirt-uri",
	"monitor-interval-ms", "hooks-dir", "hook-timeout-ms", "hook-events",
	"ocf-root", "migrate-uri", "migrate-data-uri", "migrate-timeout-ms",
	"migrate-bandwidth-mib-s",
};
#define N_AGENT_KEYS	(sizeof(agent_keys) / sizeof(agent_keys[0]))

/* Keys an older [agent] had, and what took their place. */
static const struct { const char *key, *instead; } agent_keys_replaced[] = {
	{ "restart-limit", "the resource meta 'migration-threshold' (vclusterctl resource update NAME --migration-threshold N)" },
	{ "restart-window-ms", "the resource meta 'failure-timeout-ms' (vclusterctl resource update NAME --failure-timeout-ms MS)" },
};

struct parser {
	const char *file;
	unsigned int line;
	char *err;
	size_t err_size;
	struct vc_config *cfg;
	struct vc_peer_cfg *peer;	/* NULL while in [node] or [fence] */
	bool in_section;
	bool in_fence;
	bool in_agent;
	unsigned int agent_key_line[N_AGENT_KEYS];	/* by agent_key_index() */
	char section[32];		/* "node", "fence" or "peer N" */
	unsigned int key_id_line;
	unsigned int key_line[N_SLOTS];
	unsigned int node_line;
	unsigned int node_id_line;
	unsigned int node_link_line[VC_MAX_LINKS];
	unsigned int peer_link_line[VC_MAX_PEERS][VC_MAX_LINKS];
};

static int perr(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int perr(struct parser *p, const char *fmt, ...)
{
	int n = snprintf(p->err, p->err_size, "%s:%u: ", p->file, p->line);
	va_list ap;

	if (n < 0 || (size_t)n >= p->err_size)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->err_size - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static int find_peer(const struct vc_config *cfg, uint32_t node_id)
{
	size_t i;

	for (i = 0; i < cfg->n_peers; i++)
		if (cfg->peers[i].node_id == node_id)
			return (int)i;
	return -1;
}

static int start_node(struct parser *p)
{
	if (p->cfg->has_node)
		return perr(p, "section [node] repeats line %u", p->node_line);
	p->cfg->has_node = true;
	p->node_line = p->line;
	p->peer = NULL;
	p->in_fence = false;
	snprintf(p->section, sizeof(p->section), "node");
	return 0;
}

static int start_fence(struct parser *p)
{
	if (p->cfg->has_fence)
		return perr(p, "section [fence] repeats line %u", p->cfg->fence_line);
	p->cfg->has_fence = true;
	p->cfg->fence_line = p->line;
	p->peer = NULL;
	p->in_fence = true;
	snprintf(p->section, sizeof(p->section), "fence");
	return 0;
}

static int start_agent(struct parser *p)
{
	if (p->cfg->has_agent)
		return perr(p, "section [agent] repeats line %u", p->cfg->agent_line);
	p->cfg->has_agent = true;
	p->cfg->agent_line = p->line;
	p->peer = NULL;
	p->in_fence = false;
	p->in_agent = true;
	snprintf(p->section, sizeof(p->section), "agent");
	return 0;
}

static int agent_key_index(const char *key)
{
	size_t i;

	for (i = 0; i < N_AGENT_KEYS; i++)
		if (strcmp(key, agent_keys[i]) == 0)
			return (int)i;
	return -1;
}

static const char *agent_key_replaced(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(agent_keys_replaced) / sizeof(agent_keys_replaced[0]); i++)
		if (strcmp(key, agent_keys_replaced[i].key) == 0)
			return agent_keys_replaced[i].instead;
	return NULL;
}

static int parse_agent_key(struct parser *p, const char *key, const char *value)
{
	char why[VC_ERR_LEN / 2];
	int idx = agent_key_index(key), r;

	if (idx < 0 && agent_key_replaced(key))
		return perr(p, "key '%s' in [agent] was replaced by %s", key,
			    agent_key_replaced(key));
	if (idx < 0)
		return perr(p, "unknown key '%s' in [agent] (valid: %s)", key,
			    vc_agent_keys_help);
	if (p->agent_key_line[idx])
		return perr(p, "key '%s' in [agent] repeats line %u", key,
			    p->agent_key_line[idx]);
	r = vc_agent_cfg_set(&p->cfg->agent, key, value, why, sizeof(why));
	if (r < 0)
		return perr(p, "key '%s' in [agent]: %s", key, why);
	p->agent_key_line[idx] = p->line;
	return 0;
}

static int start_peer(struct parser *p, const char *name, const char *id_text)
{
	struct vc_config *cfg = p->cfg;
	uint32_t node_id;
	int i;

	if (vc_parse_u32(id_text, 1, UINT32_MAX, &node_id) < 0)
		return perr(p, "unknown section '[%s]' (%s)", name, sections_valid);
	i = find_peer(cfg, node_id);
	if (i >= 0)
		return perr(p, "section [peer %u] repeats line %u", node_id,
			    cfg->peers[i].line);
	if (cfg->n_peers == VC_MAX_PEERS)
		return perr(p, "section [peer %u] is one peer too many (valid: at most %d peers)",
			    node_id, VC_MAX_PEERS);
	p->peer = &cfg->peers[cfg->n_peers++];
	p->in_fence = false;
	p->peer->node_id = node_id;
	p->peer->line = p->line;
	snprintf(p->section, sizeof(p->section), "peer %u", node_id);
	return 0;
}

static int parse_section(struct parser *p, char *s)
{
	size_t len = strlen(s);
	char *name;
	int r;

	if (s[len - 1] != ']')
		return perr(p, "unknown section '%s' (%s)", s, sections_valid);
	s[len - 1] = '\0';
	name = trim(s + 1);
	p->in_agent = false;
	if (strcmp(name, "node") == 0)
		r = start_node(p);
	else if (strcmp(name, "agent") == 0)
		r = start_agent(p);
	else if (strcmp(name, "fence") == 0)
		r = start_fence(p);
	else if (strncmp(name, "peer", 4) == 0 && (name[4] == ' ' || name[4] == '\t'))
		r = start_peer(p, name, trim(name + 4));
	else
		r = perr(p, "unknown section '[%s]' (%s)", name, sections_valid);
	if (r == 0) {
		p->in_section = true;
		memset(p->key_line, 0, sizeof(p->key_line));
	}
	return r;
}

/* "link3" -> 3; -1 when @key is not a link key. */
static int link_key_id(const char *key)
{
	uint32_t id;

	if (strncmp(key, "link", 4) != 0 || vc_parse_u32(key + 4, 0, VC_MAX_LINKS - 1, &id) < 0)
		return -1;
	if (key[4] == '0' && key[5] != '\0')
		return -1;	/* "link01" */
	return (int)id;
}

static int key_slot(const char *key, int link_id)
{
	int i;

	if (link_id >= 0)
		return SLOT_LINK0 + link_id;
	if (strcmp(key, "payload-string") == 0)
		key = "payload";
	for (i = 0; i < SLOT_LINK0; i++)
		if (strcmp(key, slot_keys[i]) == 0)
			return i;
	return -1;
}

/* [node] keys that only the config file has: key-file, key-id. */
static int node_file_key(struct parser *p, const char *key, const char *value,
			 char *why, size_t size)
{
	struct vc_config *cfg = p->cfg;

	if (strcmp(key, "key-file") == 0) {
		if (value[0] == '\0' || strlen(value) >= sizeof(cfg->key_file)) {
			snprintf(why, size, "'%s' is not a path (valid: a file name, relative to the config file's directory or absolute)",
				 value);
			return -EINVAL;
		}
		snprintf(cfg->key_file, sizeof(cfg->key_file), "%s", value);
		cfg->key_file_line = p->line;
		return 0;
	}
	if (strcmp(key, "key-id") == 0) {
		p->key_id_line = p->line;
		return set_u32(value, VC_KEY_ID_MIN, VC_KEY_ID_MAX, &cfg->key_id, why, size);
	}
	return -ENOENT;
}

static int apply_key(struct parser *p, const char *key, int link_id,
		     const char *value)
{
	const char *k = link_id >= 0 ? "link" : key;
	char why[VC_ERR_LEN / 2];
	int r;

	if (p->peer)
		r = vc_peer_cfg_set(p->peer, k, (uint32_t)link_id, value, why, sizeof(why));
	else if (p->in_fence)
		r = link_id >= 0 ? -ENOENT : vc_fence_cfg_set(&p->cfg->fence, k, value, why, sizeof(why));
	else if ((r = node_file_key(p, k, value, why, sizeof(why))) == -ENOENT)
		r = vc_node_cfg_set(&p->cfg->node, k, (uint32_t)link_id, value, why, sizeof(why));
	if (r == -ENOENT)
		return perr(p, "unknown key '%s' in [%s] (valid: %s)", key, p->section,
			    p->peer ? vc_peer_keys_help :
			    p->in_fence ? vc_fence_keys_help : vc_node_keys_help);
	if (r < 0)
		return perr(p, "key '%s' in [%s]: %s", key, p->section, why);
	return 0;
}

static void note_key_line(struct parser *p, const char *key, int link_id)
{
	if (link_id >= 0 && p->peer)
		p->peer_link_line[p->peer - p->cfg->peers][link_id] = p->line;
	else if (link_id >= 0)
		p->node_link_line[link_id] = p->line;
	else if (!p->peer && !p->in_fence && strcmp(key, "node-id") == 0)
		p->node_id_line = p->line;
}

static int parse_key_value(struct parser *p, char *s)
{
	char *eq = strchr(s, '='), *key, *value;
	int link_id, slot, r;

	if (!eq)
		return perr(p, "expected 'key = value' or a [section], got '%s'", s);
	*eq = '\0';
	key = trim(s);
	value = trim(eq + 1);
	if (!p->in_section)
		return perr(p, "key '%s' before any section (valid: start with [node] or [peer N])",
			    key);
	if (p->in_agent)
		return parse_agent_key(p, key, value);
	link_id = link_key_id(key);
	slot = key_slot(key, link_id);
	if (slot >= 0 && p->key_line[slot])
		return perr(p, "key '%s' in [%s] repeats line %u", key, p->section,
			    p->key_line[slot]);
	r = apply_key(p, key, link_id, value);
	if (r < 0)
		return r;
	p->key_line[slot] = p->line;
	note_key_line(p, key, link_id);
	return 0;
}

static int parse_line(struct parser *p, char *raw)
{
	char *s = trim(raw);

	if (s[0] == '\0' || s[0] == '#' || s[0] == ';')
		return 0;
	if (s[0] == '[')
		return parse_section(p, s);
	return parse_key_value(p, s);
}

static const char *family_name(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

static int check_peer(struct parser *p, size_t idx)
{
	const struct vc_peer_cfg *peer = &p->cfg->peers[idx];
	const struct vc_node_cfg *node = &p->cfg->node;
	int l;

	p->line = peer->line;
	if ((node->set & VC_NODE_F_NODE_ID) && peer->node_id == node->node_id)
		return perr(p, "section [peer %u] has the node's own node-id (line %u)",
			    peer->node_id, p->node_id_line);
	if (!peer->has_links)
		return perr(p, "section [peer %u] has no links (valid: link0..link7 = ADDRESS[:PORT])",
			    peer->node_id);
	for (l = 0; l < VC_MAX_LINKS; l++) {
		int pf = peer->links[l].family, nf = node->links[l].family;

		if (!pf || !nf || pf == nf)
			continue;
		p->line = p->peer_link_line[idx][l];
		return perr(p, "key 'link%d' in [peer %u]: %s address but link%d of [node] is %s (line %u)",
			    l, peer->node_id, family_name(pf), l, family_name(nf),
			    p->node_link_line[l]);
	}
	return 0;
}

static int check_node_and_fence(struct parser *p)
{
	struct vc_config *cfg = p->cfg;
	char why[VC_ERR_LEN / 2];

	if (p->key_id_line && !cfg->key_file[0]) {
		p->line = p->key_id_line;
		return perr(p, "key 'key-id' in [node] without key-file (valid: key-file = PATH, then key-id = 1..255)");
	}
	if (!p->key_id_line)
		cfg->key_id = 1;
	if (cfg->has_fence && vc_fence_cfg_check(&cfg->fence, why, sizeof(why)) < 0) {
		p->line = cfg->fence_line;
		return perr(p, "section [fence]: %s", why);
	}
	return 0;
}

int vc_config_parse(const char *text, size_t len, const char *filename,
		    struct vc_config *cfg, char *err, size_t err_size)
{
	static struct parser zero;
	struct parser p = zero;
	char line[1024];
	size_t pos = 0, i;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	vc_agent_cfg_defaults(&cfg->agent);
	p.file = filename;
	p.err = err;
	p.err_size = err_size;
	p.cfg = cfg;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - text - pos) : len - pos;

		p.line++;
		if (n >= sizeof(line))
			return perr(&p, "line longer than %zu characters", sizeof(line) - 1);
		memcpy(line, text + pos, n);
		line[n] = '\0';
		if (strlen(line) != n)
			return perr(&p, "NUL byte in line (valid: a text file)");
		r = parse_line(&p, line);
		if (r < 0)
			return r;
		pos += n + 1;
	}
	for (i = 0; i < cfg->n_peers; i++) {
		r = check_peer(&p, i);
		if (r < 0)
			return r;
	}
	return check_node_and_fence(&p);
}

/* ---- command line ---- */

static int aerr(char *err, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int aerr(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int args_link(int argc, char **argv, int i, uint32_t *link_id,
		     char *err, size_t size)
{
	if (i + 2 >= argc)
		return aerr(err, size, "'link' needs an ID and an ADDRESS");
	if (vc_parse_u32(argv[i + 1], 0, VC_MAX_LINKS - 1, link_id) < 0)
		return aerr(err, size, "link: '%s' is not a link id (valid: " LINK_IDS ")",
			    argv[i + 1]);
	return 0;
}

static unsigned int node_flag(const char *key)
{
	static const struct { const char *key; unsigned int flag; } flags[] = {
		{ "cluster-id", VC_NODE_F_CLUSTER_ID }, { "node-id", VC_NODE_F_NODE_ID },
		{ "votes", VC_NODE_F_VOTES }, { "port", VC_NODE_F_PORT },
		{ "incarnation", VC_NODE_F_INCARNATION },
		{ "interval-ms", VC_NODE_F_INTERVAL_MS }, { "misses", VC_NODE_F_MISSES },
		{ "payload", VC_NODE_F_PAYLOAD }, { "payload-string", VC_NODE_F_PAYLOAD },
		{ "expected-votes", VC_NODE_F_EXPECTED_VOTES },
		{ "fence-margin-ms", VC_NODE_F_FENCE_MARGIN_MS },
		{ "insecure", VC_NODE_F_INSECURE },
	};
	size_t i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strcmp(key, flags[i].key) == 0)
			return flags[i].flag;
	return 0;
}

static int args_node_link(struct vc_node_cfg *cfg, int argc, char **argv, int i,
			  char *err, size_t size)
{
	char why[VC_ERR_LEN / 2];
	uint32_t id;
	int r;

	r = args_link(argc, argv, i, &id, err, size);
	if (r < 0)
		return r;
	if (cfg->links[id].family)
		return aerr(err, size, "link %u given twice", id);
	r = vc_node_cfg_set(cfg, "link", id, argv[i + 2], why, sizeof(why));
	return r < 0 ? aerr(err, size, "link %u: %s", id, why) : 0;
}

static int args_node_key(struct vc_node_cfg *cfg, int argc, char **argv, int i,
			 char *err, size_t size)
{
	const char *key = argv[i];
	char why[VC_ERR_LEN / 2];
	unsigned int flag;
	int r;

	if (strcmp(key, "--payload-string") == 0)
		key = "payload-string";
	flag = node_flag(key);
	if (!flag)
		return aerr(err, size, "unknown argument '%s' (valid: %s)", argv[i],
			    "cluster-id, node-id, votes, port, incarnation, interval-ms, misses, payload, --payload-string, expected-votes, fence-margin-ms, insecure, link");
	if (i + 1 >= argc)
		return aerr(err, size, "'%s' needs a value", argv[i]);
	if (cfg->set & flag)
		return aerr(err, size, "'%s' given twice", argv[i]);
	r = vc_node_cfg_set(cfg, key, 0, argv[i + 1], why, sizeof(why));
	return r < 0 ? aerr(err, size, "%s: %s", argv[i], why) : 0;
}

int vc_args_node_set(int argc, char **argv, struct vc_node_cfg *cfg,
		     char *err, size_t err_size)
{
	int i, r;

	memset(cfg, 0, sizeof(*cfg));
	if (argc == 0)
		return aerr(err, err_size, "nothing to set (valid: %s)", vc_node_set_help);
	for (i = 0; i < argc; ) {
		bool is_link = strcmp(argv[i], "link") == 0;

		r = is_link ? args_node_link(cfg, argc, argv, i, err, err_size) :
			      args_node_key(cfg, argc, argv, i, err, err_size);
		if (r < 0)
			return r;
		i += is_link ? 3 : 2;
	}
	return 0;
}

static int args_peer_link(struct vc_peer_cfg *cfg, int argc, char **argv, int i,
			  char *err, size_t size)
{
	char why[VC_ERR_LEN / 2];
	uint32_t id;
	int r;

	r = args_link(argc, argv, i, &id, err, size);
	if (r < 0)
		return r;
	if (cfg->links[id].family)
		return aerr(err, size, "link %u given twice", id);
	r = vc_peer_cfg_set(cfg, "link", id, argv[i + 2], why, sizeof(why));
	return r < 0 ? aerr(err, size, "link %u: %s", id, why) : 0;
}

static int args_peer_votes(struct vc_peer_cfg *cfg, int argc, char **argv, int i,
			   char *err, size_t size)
{
	char why[VC_ERR_LEN / 2];
	int r;

	if (i + 1 >= argc)
		return aerr(err, size, "'votes' needs a value");
	if (cfg->has_votes)
		return aerr(err, size, "'votes' given twice");
	r = vc_peer_cfg_set(cfg, "votes", 0, argv[i + 1], why, sizeof(why));
	return r < 0 ? aerr(err, size, "votes: %s", why) : 0;
}

int vc_args_peer(int argc, char **argv, struct vc_peer_cfg *cfg,
		 char *err, size_t err_size)
{
	int i, r;

	memset(cfg, 0, sizeof(*cfg));
	if (argc == 0)
		return aerr(err, err_size, "missing NODEID (valid: 1..4294967295)");
	if (vc_parse_u32(argv[0], 1, UINT32_MAX, &cfg->node_id) < 0)
		return aerr(err, err_size, "'%s' is not a node id (valid: 1..4294967295)",
			    argv[0]);
	for (i = 1; i < argc; ) {
		if (strcmp(argv[i], "link") == 0) {
			r = args_peer_link(cfg, argc, argv, i, err, err_size);
			i += 3;
		} else if (strcmp(argv[i], "votes") == 0) {
			r = args_peer_votes(cfg, argc, argv, i, err, err_size);
			i += 2;
		} else {
			r = aerr(err, err_size, "unknown argument '%s' (valid: votes N, link ID ADDR[:PORT])",
				 argv[i]);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* Valued arguments of "fence arm" (the action comes first, nowayout is bare). */
static bool is_fence_arg(const char *arg)
{
	return strcmp(arg, "agent-timeout-ms") == 0 || strcmp(arg, "quorum-timeout-ms") == 0 ||
	       strcmp(arg, "kill-bound-ms") == 0 || strcmp(arg, "pretimeout-ms") == 0;
}

int vc_args_fence_arm(int argc, char **argv, struct vc_fence_cfg *cfg,
		      char *err, size_t err_size)
{
	char why[VC_ERR_LEN / 2];
	unsigned int before;
	int i, r;

	memset(cfg, 0, sizeof(*cfg));
	if (argc == 0)
		return aerr(err, err_size, "missing ACTION (%s)", actions_valid);
	if (vc_fence_cfg_set(cfg, "action", argv[0], why, sizeof(why)) < 0)
		return aerr(err, err_size, "%s", why);
	for (i = 1; i < argc; i += 2) {
		if (strcmp(argv[i], "nowayout") == 0) {
			if (cfg->set & VC_FENCE_F_NOWAYOUT)
				return aerr(err, err_size, "'nowayout' given twice");
			cfg->nowayout = true;
			cfg->set |= VC_FENCE_F_NOWAYOUT;
			i--;
			continue;
		}
		if (!is_fence_arg(argv[i]))
			return aerr(err, err_size, "unknown argument '%s' (valid: agent-timeout-ms N, quorum-timeout-ms N, kill-bound-ms N, pretimeout-ms N, nowayout)",
				    argv[i]);
		if (i + 1 >= argc)
			return aerr(err, err_size, "'%s' needs a value", argv[i]);
		before = cfg->set;
		r = vc_fence_cfg_set(cfg, argv[i], argv[i + 1], why, sizeof(why));
		if (r < 0)
			return aerr(err, err_size, "%s: %s", argv[i], why);
		if (before == cfg->set)
			return aerr(err, err_size, "'%s' given twice", argv[i]);
	}
	r = vc_fence_cfg_check(cfg, why, sizeof(why));
	return r < 0 ? aerr(err, err_size, "%s", why) : 0;
}

int vc_take_common_flags(int argc, char **argv, bool *json, bool *help)
{
	int i, n = 0;
	bool rest = false;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (!rest && strcmp(a, "--") == 0) {
			rest = true;
		} else if (!rest && (strcmp(a, "--json") == 0 || strcmp(a, "-j") == 0)) {
			*json = true;
		} else if (!rest && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
			*help = true;
		} else {
			argv[n++] = argv[i];
		}
	}
	return n;
}
