// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * vclusterctl's agent subcommands and the blocking client they share
 * (agentctl.h).  Every subcommand is one request on one connection, except
 * watch, which keeps the connection and prints events until interrupted.
 *
 * This file calls nothing from vclusterctl.c, so that the agent's tests
 * can link it on its own; it prints its messages in the same format.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agentctl.h"
#include "parse.h"
#include "vclusterctl.h"

#define PROG "vclusterctl"
#define ACTL_MAX_LINE		(64u * 1024 * 1024)	/* a status of many nodes fits */
#define ACTL_DEFAULT_TIMEOUT_MS	30000

/* ---- client ---- */

struct vc_actl {
	int fd;
	char *in;
	size_t in_len, in_size;
	json_int_t next_id;
};

const char *vc_actl_path(const char *path)
{
	const char *env = getenv(VC_AGENT_SOCKET_ENV);

	if (path && path[0])
		return path;
	return env && env[0] ? env : VC_AGENT_SOCKET_DEFAULT;
}

int vc_actl_connect(const char *path, struct vc_actl **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vc_actl *a;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->next_id = 1;
	a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (a->fd < 0 || connect(a->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		vc_actl_close(a);
		return r;
	}
	*ret = a;
	return 0;
}

void vc_actl_close(struct vc_actl *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		close(a->fd);
	free(a->in);
	free(a);
}

int vc_actl_fd(const struct vc_actl *a)
{
	return a->fd;
}

int vc_actl_send_raw(struct vc_actl *a, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(a->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EPIPE ? -ECONNRESET : -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int vc_actl_send(struct vc_actl *a, const char *cmd, json_t *args, json_int_t *ret_id)
{
	json_int_t id = a->next_id++;
	json_t *req;
	char *s;
	int r;

	req = json_pack("{s:I,s:s,s:o*}", "id", id, "cmd", cmd, "args", args);
	if (!req)
		return -ENOMEM;
	s = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!s)
		return -ENOMEM;
	r = vc_actl_send_raw(a, s, strlen(s));
	if (r == 0)
		r = vc_actl_send_raw(a, "\n", 1);
	free(s);
	if (r == 0 && ret_id)
		*ret_id = id;
	return r;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parse and consume the first complete line; 1 when there was none. */
static int take_line(struct vc_actl *a, json_t **ret)
{
	char *nl = a->in ? memchr(a->in, '\n', a->in_len) : NULL;
	size_t len;
	json_t *msg;

	if (!nl)
		return a->in_len > ACTL_MAX_LINE ? -EMSGSIZE : 1;
	len = (size_t)(nl - a->in);
	msg = json_loadb(a->in, len, 0, NULL);
	memmove(a->in, nl + 1, a->in_len - len - 1);
	a->in_len -= len + 1;
	if (!json_is_object(msg)) {
		json_decref(msg);
		return -EBADMSG;
	}
	*ret = msg;
	return 0;
}

static int read_more(struct vc_actl *a)
{
	ssize_t n;

	if (a->in_size - a->in_len < 65536) {
		char *p = realloc(a->in, a->in_size + 65536);

		if (!p)
			return -ENOMEM;
		a->in = p;
		a->in_size += 65536;
	}
	n = read(a->fd, a->in + a->in_len, a->in_size - a->in_len);
	if (n < 0)
		return errno == ECONNRESET ? -ECONNRESET : -errno;
	if (n == 0)
		return -ECONNRESET;
	a->in_len += (size_t)n;
	return 0;
}

int vc_actl_recv(struct vc_actl *a, int timeout_ms, json_t **ret)
{
	int64_t deadline = timeout_ms < 0 ? -1 : monotonic_ms() + timeout_ms;
	struct pollfd p = { .fd = a->fd, .events = POLLIN };
	int r;

	for (;;) {
		int wait_ms = -1;

		r = take_line(a, ret);
		if (r <= 0)
			return r;
		if (deadline >= 0) {
			int64_t left = deadline - monotonic_ms();

			if (left <= 0)
				return -ETIMEDOUT;
			wait_ms = left > INT32_MAX ? INT32_MAX : (int)left;
		}
		r = poll(&p, 1, wait_ms);
		if (r < 0)
			return -errno;
		if (r == 0)
			continue;	/* the deadline check above ends it */
		r = read_more(a);
		if (r < 0)
			return r;
	}
}

int vc_actl_call(struct vc_actl *a, const char *cmd, json_t *args, int timeout_ms,
		 json_t **ret_reply)
{
	int64_t deadline = timeout_ms < 0 ? -1 : monotonic_ms() + timeout_ms;
	json_int_t id;
	json_t *msg;
	int r;

	r = vc_actl_send(a, cmd, args, &id);
	while (r == 0) {
		int left = -1;

		if (deadline >= 0) {
			int64_t l = deadline - monotonic_ms();

			left = l < 0 ? 0 : (int)l;
		}
		r = vc_actl_recv(a, left, &msg);
		if (r < 0)
			break;
		if (json_integer_value(json_object_get(msg, "id")) == id &&
		    json_object_get(msg, "ok")) {
			*ret_reply = msg;
			return 0;
		}
		json_decref(msg);	/* an event, or an answer to somebody else */
	}
	return r;
}

/* ---- vclusterctl: messages and options ---- */

static const char *socket_opt;

static void say(const struct cmd_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(const struct cmd_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": %s: ", ctx->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int usage(const struct cmd_ctx *ctx, const char *why)
{
	say(ctx, "%s (see '" PROG " %s --help')", why, ctx->name);
	return VC_EXIT_USAGE;
}

int agent_take_socket_flag(int argc, char **argv)
{
	int i, n = 0;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-s") == 0 || strcmp(a, "--socket") == 0) {
			if (i + 1 >= argc || !argv[i + 1][0]) {
				fprintf(stderr, PROG ": %s needs a PATH (the agent's control socket)\n", a);
				return -1;
			}
			socket_opt = argv[++i];
		} else if (strncmp(a, "--socket=", 9) == 0) {
			socket_opt = a + 9;
		} else {
			argv[n++] = argv[i];
		}
	}
	return n;
}

enum {
	OPT_TIMEOUT	= 1 << 0,
	OPT_COUNT	= 1 << 1,
	OPT_READY	= 1 << 2,
	OPT_HISTORY	= 1 << 3,
	OPT_LIMIT	= 1 << 4,
	OPT_XML		= 1 << 5,
	OPT_DOMAIN	= 1 << 6,
};

struct agent_opts {
	int64_t timeout_ms;	/* -1: the default */
	uint64_t count;		/* 0: unlimited */
	uint64_t limit;
	const char *ready_file;
	const char *xml_file;
	const char *domain;
	bool history;
	int n_pos;		/* positional arguments, in pos[] */
	char *pos[4];
};

static const struct {
	unsigned int flag;
	const char *name;
	bool has_value;
} known_opts[] = {
	{ OPT_TIMEOUT, "--timeout", true },
	{ OPT_COUNT, "--count", true },
	{ OPT_READY, "--ready", true },
	{ OPT_HISTORY, "--history", false },
	{ OPT_LIMIT, "--limit", true },
	{ OPT_XML, "--xml", true },
	{ OPT_DOMAIN, "--domain", true },
};

static int set_opt(const struct cmd_ctx *ctx, struct agent_opts *o, unsigned int flag,
		   const char *name, const char *val)
{
	char why[256];

	if (flag == OPT_TIMEOUT && (vc_parse_seconds_ms(val, &o->timeout_ms) < 0 ||
				    o->timeout_ms < 0)) {
		snprintf(why, sizeof(why), "%s: '%s' is not a number of seconds (valid: e.g. 5 or 0.5)",
			 name, val);
		return usage(ctx, why);
	}
	if ((flag == OPT_COUNT && vc_parse_u64(val, 1, UINT64_MAX, &o->count) < 0) ||
	    (flag == OPT_LIMIT && vc_parse_u64(val, 1, UINT32_MAX, &o->limit) < 0)) {
		snprintf(why, sizeof(why), "%s: '%s' is not a number (valid: 1..%" PRIu64 ")",
			 name, val, flag == OPT_COUNT ? UINT64_MAX : (uint64_t)UINT32_MAX);
		return usage(ctx, why);
	}
	if (flag == OPT_READY)
		o->ready_file = val;
	if (flag == OPT_XML)
		o->xml_file = val;
	if (flag == OPT_DOMAIN)
		o->domain = val;
	if (flag == OPT_HISTORY)
		o->history = true;
	return VC_EXIT_OK;
}

/* Options in @allowed anywhere; at most @max_pos positional arguments. */
static int parse_opts(const struct cmd_ctx *ctx, int argc, char **argv, unsigned int allowed,
		      int max_pos, struct agent_opts *o)
{
	char why[256];
	int i, r;

	*o = (struct agent_opts){ .timeout_ms = -1 };
	for (i = 0; i < argc; i++) {
		size_t k;

		for (k = 0; k < sizeof(known_opts) / sizeof(known_opts[0]); k++)
			if ((allowed & known_opts[k].flag) && strcmp(argv[i], known_opts[k].name) == 0)
				break;
		if (k < sizeof(known_opts) / sizeof(known_opts[0])) {
			const char *val = NULL;

			if (known_opts[k].has_value && i + 1 >= argc) {
				snprintf(why, sizeof(why), "'%s' needs a value", argv[i]);
				return usage(ctx, why);
			}
			if (known_opts[k].has_value)
				val = argv[++i];
			r = set_opt(ctx, o, known_opts[k].flag, known_opts[k].name, val);
			if (r != VC_EXIT_OK)
				return r;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			snprintf(why, sizeof(why), "unknown option '%s'", argv[i]);
			return usage(ctx, why);
		} else if (o->n_pos < max_pos) {
			o->pos[o->n_pos++] = argv[i];
		} else {
			snprintf(why, sizeof(why), "unexpected argument '%s'", argv[i]);
			return usage(ctx, why);
		}
	}
	return VC_EXIT_OK;
}

static int reply_timeout_ms(const struct agent_opts *o)
{
	if (o->timeout_ms < 0)
		return ACTL_DEFAULT_TIMEOUT_MS;
	return o->timeout_ms > INT32_MAX ? INT32_MAX : (int)o->timeout_ms;
}

/* ---- vclusterctl: talking to the agent ---- */

static int open_agent(const struct cmd_ctx *ctx, struct vc_actl **ret)
{
	const char *path = vc_actl_path(socket_opt);
	const char *hint = "is vclusterd running? -s PATH or $" VC_AGENT_SOCKET_ENV " choose another socket";
	int r = vc_actl_connect(path, ret);

	if (r == 0)
		return VC_EXIT_OK;
	if (r == -EACCES)
		hint = "root or the [agent] control-group may connect";
	say(ctx, "cannot reach the agent at %s: %s (%s)", path, strerror(-r), hint);
	return VC_EXIT_NO_AGENT;
}

/* Why the connection ended without an answer; VC_EXIT_NO_AGENT. */
static int lost_agent(const struct cmd_ctx *ctx, int r, int timeout_ms)
{
	const char *path = vc_actl_path(socket_opt);

	if (r == -ETIMEDOUT)
		say(ctx, "no answer from the agent at %s within %d.%03d s", path,
		    timeout_ms / 1000, timeout_ms % 1000);
	else if (r == -ECONNRESET)
		say(ctx, "the agent at %s closed the connection", path);
	else
		say(ctx, "talking to the agent at %s: %s", path, strerror(-r));
	return VC_EXIT_NO_AGENT;
}

/* The agent's refusal, as it put it; VC_EXIT_FAILURE. */
static int agent_refused(const struct cmd_ctx *ctx, const json_t *reply)
{
	const char *text = json_string_value(json_object_get(reply, "error"));
	const char *name = json_string_value(json_object_get(reply, "errno"));

	say(ctx, "%s%s%s%s", text ? text : "refused", name ? " (" : "", name ? name : "",
	    name ? ")" : "");
	return VC_EXIT_FAILURE;
}

/*
 * One request: connect, call, check.  On success *ret_result holds the
 * result (a reference), else the returned VC_EXIT_* code says why.
 */
static int agent_request(const struct cmd_ctx *ctx, const char *cmd, json_t *args,
			 int timeout_ms, json_t **ret_result)
{
	struct vc_actl *a = NULL;
	json_t *reply = NULL;
	int r;

	r = open_agent(ctx, &a);
	if (r != VC_EXIT_OK) {
		json_decref(args);
		return r;
	}
	r = vc_actl_call(a, cmd, args, timeout_ms, &reply);
	vc_actl_close(a);
	if (r < 0)
		return lost_agent(ctx, r, timeout_ms);
	if (!json_is_true(json_object_get(reply, "ok"))) {
		r = agent_refused(ctx, reply);
		json_decref(reply);
		return r;
	}
	*ret_result = json_incref(json_object_get(reply, "result"));
	json_decref(reply);
	if (!*ret_result)
		*ret_result = json_object();
	return VC_EXIT_OK;
}

static void print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (s)
		printf("%s\n", s);
	free(s);
}

/* ---- printing fields that may or may not be there ---- */

/* A scalar as text ("-" when absent or null); objects as compact JSON. */
static const char *field_text(const json_t *v, char *buf, size_t size)
{
	char *s;

	if (!v)
		return "-";
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_value(v);
	case JSON_INTEGER:
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	case JSON_REAL:
		snprintf(buf, size, "%g", json_real_value(v));
		return buf;
	case JSON_TRUE:
		return "yes";
	case JSON_FALSE:
		return "no";
	case JSON_OBJECT:
	case JSON_ARRAY:
		s = json_dumps(v, JSON_COMPACT);
		snprintf(buf, size, "%s", s ? s : "?");
		free(s);
		return buf;
	default:
		return "-";
	}
}

static const char *get_text(const json_t *obj, const char *key, char *buf, size_t size)
{
	return field_text(json_object_get(obj, key), buf, size);
}

/* "kill", "kill user", "log weak", "unarmed weak". */
static const char *fence_text(const json_t *fence, char *buf, size_t size)
{
	const char *action = json_string_value(json_object_get(fence, "action"));
	json_t *armed = json_object_get(fence, "armed");
	json_t *strong = json_object_get(fence, "strong");

	if (!json_is_object(fence))
		return "-";
	snprintf(buf, size, "%s%s%s", json_is_false(armed) ? "unarmed" : action ? action : "armed",
		 json_is_false(strong) ? " weak" : "",
		 json_is_true(json_object_get(fence, "user")) ? " user" : "");
	return buf;
}

/* Append @word to the comma-separated list in @buf. */
static void add_word(char *buf, size_t size, const char *word)
{
	size_t n = strlen(buf);

	snprintf(buf + n, size - n, "%s%s", n ? "," : "", word);
}

/* "self,dc,standby,maintenance", "-" for none. */
static const char *flags_text(const json_t *status, const json_t *node, char *buf, size_t size)
{
	json_t *id = json_object_get(node, "id");

	buf[0] = '\0';
	if (json_is_integer(id) && json_equal(id, json_object_get(status, "node")))
		add_word(buf, size, "self");
	if (json_is_integer(id) && json_equal(id, json_object_get(status, "dc")))
		add_word(buf, size, "dc");
	if (json_is_true(json_object_get(node, "standby")))
		add_word(buf, size, "standby");
	if (json_is_true(json_object_get(node, "maintenance")))
		add_word(buf, size, "maintenance");
	return buf[0] ? buf : "-";
}

static const char *links_text(const json_t *node, char *buf, size_t size)
{
	char up[32], all[32];

	if (!json_object_get(node, "links_up") && !json_object_get(node, "links"))
		return "-";
	snprintf(buf, size, "%s/%s", get_text(node, "links_up", up, sizeof(up)),
		 get_text(node, "links", all, sizeof(all)));
	return buf;
}

static void print_node_row(const json_t *status, const json_t *node)
{
	char b[8][128];

	printf("%5s  %-9s %-10s %-12s %5s  %-5s  %-14s %s\n",
	       get_text(node, "id", b[0], sizeof(b[0])),
	       get_text(node, "state", b[1], sizeof(b[1])),
	       get_text(node, "membership", b[2], sizeof(b[2])),
	       get_text(node, "incarnation", b[3], sizeof(b[3])),
	       get_text(node, "votes", b[4], sizeof(b[4])),
	       links_text(node, b[5], sizeof(b[5])),
	       fence_text(json_object_get(node, "fence"), b[6], sizeof(b[6])),
	       flags_text(status, node, b[7], sizeof(b[7])));
}

static void print_pending_fences(const json_t *nodes)
{
	const json_t *node;
	size_t i;

	json_array_foreach(nodes, i, node) {
		json_t *pf = json_object_get(node, "pending_fence");
		char b[2][64];

		if (!json_is_object(pf))
			continue;
		printf("node %s: fence window closes in %s ms\n",
		       get_text(node, "id", b[0], sizeof(b[0])),
		       get_text(pf, "closes_in_ms", b[1], sizeof(b[1])));
	}
}

static void print_node_table(const json_t *status)
{
	const json_t *nodes = json_object_get(status, "nodes"), *node;
	size_t i;

	if (!json_is_array(nodes) || json_array_size(nodes) == 0) {
		printf("no nodes\n");
		return;
	}
	printf("%5s  %-9s %-10s %-12s %5s  %-5s  %-14s %s\n", "NODE", "STATE", "MEMBERSHIP",
	       "INCARNATION", "VOTES", "LINKS", "FENCE", "FLAGS");
	json_array_foreach(nodes, i, node)
		print_node_row(status, node);
	print_pending_fences(nodes);
}

static void print_status_head(const json_t *s)
{
	char b[8][128];
	json_t *dc = json_object_get(s, "dc"), *q = json_object_get(s, "quorate");

	printf("cluster %s, node %s, transport %s\n", get_text(s, "cluster", b[0], sizeof(b[0])),
	       get_text(s, "node", b[1], sizeof(b[1])), get_text(s, "transport", b[2], sizeof(b[2])));
	printf("DC: %s%s, term %s, raft %s, %s\n",
	       json_is_null(dc) ? "none" : "node ", json_is_null(dc) ? "" :
	       get_text(s, "dc", b[3], sizeof(b[3])),
	       get_text(s, "term", b[4], sizeof(b[4])), get_text(s, "raft_state", b[5], sizeof(b[5])),
	       json_is_true(q) ? "quorate" : json_is_false(q) ? "NOT quorate" : "quorum unknown");
}

/* ---- resources ---- */

static int change(struct cmd_ctx *ctx, const char *cmd, json_t *args,
		  const struct agent_opts *o);

/* "node 2" or "-" when it runs nowhere. */
static const char *where_text(const json_t *r, char *buf, size_t size)
{
	json_int_t node = json_integer_value(json_object_get(r, "node"));

	if (node <= 0)
		return "-";
	snprintf(buf, size, "node %lld", (long long)node);
	return buf;
}

static void print_resource_row(const json_t *r)
{
	char b[4][64];
	const char *why = json_string_value(json_object_get(r, "why"));
	const char *note = json_string_value(json_object_get(r, "note"));

	printf("%-20s %-4s %-8s %-9s %s\n", get_text(r, "name", b[0], sizeof(b[0])),
	       get_text(r, "type", b[1], sizeof(b[1])), where_text(r, b[2], sizeof(b[2])),
	       json_is_true(json_object_get(r, "removing")) ? "removing" :
	       get_text(r, "status", b[3], sizeof(b[3])), note ? note : "");
	if (why && *why)
		printf("%-20s   why: %s\n", "", why);
}

static void print_resource_table(const json_t *res)
{
	size_t i;

	if (!json_array_size(res))
		return;
	printf("\n%-20s %-4s %-8s %-9s %s\n", "RESOURCE", "TYPE", "WHERE", "STATUS", "NOTE");
	for (i = 0; i < json_array_size(res); i++)
		print_resource_row(json_array_get(res, i));
}

static char *read_file(const struct cmd_ctx *ctx, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		say(ctx, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap ? 2 * cap : 8192);

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0 && len < 1024 * 1024);
	if (f != stdin)
		fclose(f);
	if (!buf)
		say(ctx, "%s: out of memory", path);
	else
		buf[len] = '\0';
	return buf;
}

int cmd_resource_add(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct agent_opts o;
	char *xml = NULL;
	json_t *args;
	int r;

	r = parse_opts(ctx, argc, argv, OPT_TIMEOUT | OPT_XML | OPT_DOMAIN, 1, &o);
	if (r != VC_EXIT_OK)
		return r;
	if (o.n_pos < 1)
		return usage(ctx, "missing NAME");
	if (!o.xml_file == !o.domain)
		return usage(ctx, "give --xml FILE (a libvirt domain XML) or --domain DOMAIN (defined on this host)");
	if (o.xml_file) {
		xml = read_file(ctx, o.xml_file);
		if (!xml)
			return VC_EXIT_FAILURE;
	}
	args = xml ? json_pack("{s:s,s:s}", "name", o.pos[0], "xml", xml)
		   : json_pack("{s:s,s:s}", "name", o.pos[0], "domain", o.domain);
	free(xml);
	r = change(ctx, "resource-add", args, &o);
	if (r == VC_EXIT_OK && !ctx->json)
		printf("resource %s added\n", o.pos[0]);
	return r;
}

int cmd_resource_remove(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct agent_opts o;
	int r;

	r = parse_opts(ctx, argc, argv, OPT_TIMEOUT, 1, &o);
	if (r != VC_EXIT_OK)
		return r;
	if (o.n_pos < 1)
		return usage(ctx, "missing NAME");
	r = change(ctx, "resource-remove", json_pack("{s:s}", "name", o.pos[0]), &o);
	if (r == VC_EXIT_OK && !ctx->json)
		printf("resource %s: removal committed (it stops where it runs)\n", o.pos[0]);
	return r;
}

int cmd_resource_list(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct agent_opts o;
	json_t *res = NULL;
	int r;

	r = parse_opts(ctx, argc, argv, OPT_TIMEOUT, 0, &o);
	if (r == VC_EXIT_OK)
		r = agent_request(ctx, "resource-list", NULL, reply_timeout_ms(&o), &res);
	if (r != VC_EXIT_OK)
		return r;
	if (ctx->json)
		print_json(json_object_get(res, "resources"));
	else if (!json_array_size(json_object_get(res, "resources")))
		printf("no resources\n");
	else
		print_resource_table(json_object_get(res, "resources"));
	json_decref(res);
	return VC_EXIT_OK;
}

int cmd_resource_show(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct agent_opts o;
	json_t *res = NULL, *def, *one;
	char b[64], *failed;
	int r;

	r = parse_opts(ctx, argc, argv, OPT_TIMEOUT, 1, &o);
	if (r != VC_EXIT_OK)
		return r;
	if (o.n_pos < 1)
		return usage(ctx, "missing NAME");
	r = agent_request(ctx, "resource-show", json_pack("{s:s}", "name", o.pos[0]),
			  reply_timeout_ms(&o), &res);
	if (r != VC_EXIT_OK)
		return r;
	if (ctx->json) {
		print_json(res);
	} else {
		def = json_object_get(res, "definition");
		one = json_pack("[O]", res);
		print_resource_table(one);
		json_decref(one);
		printf("\ndomain %s, UUID %s, %lld MiB, %lld vCPUs\n",
		       get_text(def, "domain", b, sizeof(b)),
		       json_string_value(json_object_get(def, "uuid")) ?: "?",
		       (long long)json_integer_value(json_object_get(def, "memory_kib")) / 1024,
		       (long long)json_integer_value(json_object_get(def, "vcpus")));
		failed = json_dumps(json_object_get(res, "failed_on"), JSON_COMPACT);
		if (json_array_size(json_object_get(res, "failed_on")) && failed)
			printf("failed on nodes: %s\n", failed);
		free(failed);
	}
	json_decref(res);
	return VC_EXIT_OK;
}

/* ---- status, node list ---- */

static int cmd_status_like(struct cmd_ctx *ctx, int argc, char **argv, bool nodes_only)
{
	struct agent_opts o;
	json_t *s = NULL;
	int r;

	r = parse_opts(ctx, argc, argv, OPT_TIMEOUT, 0, &o);
	if (r == VC_EXIT_OK)
		r = agent_request(ctx, "status", NULL, reply_timeout_ms(&o), &s);
	if (r != VC_EXIT_OK)
		return r;
	if (ctx->json) {
		json_t *nodes = json_object_get(s, "nodes");

		if (nodes_only && !nodes)
			printf("[]\n");
		else
			print_json(nodes_only ? nodes : s);
	} else {
		if (!nodes_only) {
			print_status_head(s);
			printf("\n");
		}
		print_node_table(s);
		if (!nodes_only)
			print_resource_table(json_object_get(s, "resources"));
	}
	json_decref(s);
	return VC_EXIT_OK;
}

int cmd_status(struct cmd_ctx *ctx, int argc, char **argv)
{
	return cmd_status_like(ctx, argc, argv, false);
}

int cmd_node_list(struct cmd_ctx *ctx, int argc, char **argv)
{
	return cmd_status_like(ctx, argc, argv, true);
}

/* ---- commands that change something ---- */

/* Send @cmd with @args; print the result's "message" (or, with --json, the
 * result). */
static int change(struct cmd_ctx *ctx, const char *cmd, json_t *args, const struct agent_opts *o)
{
	const char *msg;
	json_t *res = NULL;
	int r;

	r = agent_request(ctx, cmd, args, reply_timeout_ms(o), &res);
	if (r != VC_EXIT_OK)
		return r;
	msg = json_string_value(json_object_get(res, "message"));
	if (ctx->json)
		print_json(res);
	else if (msg)
		printf("%s\n", msg);
	json_decref(res);
	return VC_EXIT_OK;
}

static int parse_node(const struct cmd_ctx *ctx, const struct agent_opts *o, uint32_t *node)
{
	char why[256];

	if (o->n_pos < 1)
		return usage(ctx, "missing NODEID");
	if (vc_parse_u32(o->pos[0], 1, UINT32_MAX, node) < 0) {
		snprintf(why, sizeof(why), "'%s' is not a node id (valid: 1..4294967295)", o->pos[0]);
		return usage(ctx, why);
	}
	return VC_EXIT_OK;
}

/* "node standby NODEID" and the like: {"node": NODEID}. */
static int node_change(struct cmd_ctx *ctx, int argc, char **argv, const char *cmd)
{
	struct agent_opts o;
	uint32_t node;
	int r;

	r = parse_opts(ctx, argc, argv, OPT_TIMEOUT, 1, &o);
	if (r == VC_EXIT_OK)
		r = parse_node(ctx, &o, &node);
	if (r != VC_EXIT_OK)
		return r;
	return change(ctx, cmd, json_pack("{s:I}", "node", (json_int_t)node), &o);
}

int cmd_node_standby(struct cmd_ctx *ctx, int argc, char **argv)
{
	return node_change(ctx, argc, argv, "node-standby");
}

int cmd_node_unstandby(struct cmd_ctx *ctx, int argc, char **argv)
{
	return node_change(ctx, argc, argv, "node-unstandby");
}

int cmd_node_confirm_fenced(struct cmd_ctx *ctx, int argc, char **argv)
{
	return node_change(ctx, argc, argv, "node-confirm-fenced");
}

int cmd_node_maintenance(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct agent_opts o;
	bool on = true;
	uint32_t node;
	char why[256];
	int r;

	r = parse_opts(ctx, argc, argv, OPT_TIMEOUT, 2, &o);
	if (r == VC_EXIT_OK)
		r = parse_node(ctx, &o, &node);
	if (r != VC_EXIT_OK)
		return r;
	if (o.n_pos == 2 && strcmp(o.pos[1], "on") != 0 && strcmp(o.pos[1], "off") != 0) {
		snprintf(why, sizeof(why), "'%s' is neither on nor off", o.pos[1]);
		return usage(ctx, why);
	}
	if (o.n_pos == 2)
		on = strcmp(o.pos[1], "on") == 0;
	return change(ctx, "node-maintenance",
		      json_pack("{s:I,s:b}", "node", (json_int_t)node, "maintenance", on), &o);
}

int cmd_cluster_bootstrap(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct agent_opts o;
	int r = parse_opts(ctx, argc, argv, OPT_TIMEOUT, 0, &o);

	return r != VC_EXIT_OK ? r : change(ctx, "cluster-bootstrap", NULL, &o);
}

int cmd_cluster_join(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct agent_opts o;
	char why[256];
	int r;

	r = parse_opts(ctx, argc, argv, OPT_TIMEOUT, 1, &o);
	if (r != VC_EXIT_OK)
		return r;
	if (o.n_pos == 1 && strcmp(o.pos[0], "voter") != 0 && strcmp(o.pos[0], "standby") != 0) {
		snprintf(why, sizeof(why), "'%s' is no role (valid: voter, standby)", o.pos[0]);
		return usage(ctx, why);
	}
	return change(ctx, "cluster-join",
		      o.n_pos ? json_pack("{s:s}", "role", o.pos[0]) : NULL, &o);
}

int cmd_cluster_leave(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct agent_opts o;
	int r = parse_opts(ctx, argc, argv, OPT_TIMEOUT, 0, &o);

	return r != VC_EXIT_OK ? r : change(ctx, "cluster-leave", NULL, &o);
}

/* ---- events: watch, history ---- */

/* A string that needs no quotes in key=value output. */
static bool plain_word(const char *s)
{
	if (!s[0])
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s == '"' || *s == '=' || *s == '\\' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* "2026-11-28 11:03:14.123 node-fenced node=3 incarnation=5 reason=timeout" */
static void print_event(const json_t *ev)
{
	json_t *t = json_object_get(ev, "time_ns"), *v;
	const char *key;
	char when[64] = "-", buf[256];

	if (json_is_integer(t)) {
		json_int_t ns = json_integer_value(t);
		time_t sec = (time_t)(ns / 1000000000);
		struct tm tm;

		if (localtime_r(&sec, &tm))
			snprintf(when + strftime(when, sizeof(when) - 8, "%F %T", &tm), 8, ".%03d",
				 (int)(ns / 1000000 % 1000));
	}
	printf("%s %s", when, get_text(ev, "event", buf, sizeof(buf)));
	json_object_foreach((json_t *)ev, key, v) {
		if (!strcmp(key, "event") || !strcmp(key, "time_ns") || !strcmp(key, "seq"))
			continue;
		if (json_is_string(v) && !plain_word(json_string_value(v))) {
			char *q = json_dumps(v, JSON_ENCODE_ANY);

			printf(" %s=%s", key, q ? q : "?");
			free(q);
		} else {
			printf(" %s=%s", key, field_text(v, buf, sizeof(buf)));
		}
	}
	printf("\n");
}

static void print_events(const struct cmd_ctx *ctx, const json_t *events)
{
	const json_t *ev;
	size_t i;

	json_array_foreach(events, i, ev) {
		if (ctx->json)
			print_json(ev);
		else
			print_event(ev);
	}
}

int cmd_history(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct agent_opts o;
	json_t *res = NULL, *events;
	int r;

	r = parse_opts(ctx, argc, argv, OPT_TIMEOUT | OPT_LIMIT, 0, &o);
	if (r == VC_EXIT_OK)
		r = agent_request(ctx, "history",
				  o.limit ? json_pack("{s:I}", "limit", (json_int_t)o.limit) : NULL,
				  reply_timeout_ms(&o), &res);
	if (r != VC_EXIT_OK)
		return r;
	events = json_object_get(res, "events");
	if (!ctx->json && json_array_size(events) == 0)
		printf("no events\n");
	print_events(ctx, events);
	json_decref(res);
	return VC_EXIT_OK;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* SIGINT and SIGTERM end watch cleanly: poll() returns EINTR. */
static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int touch(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	return fclose(f) == 0 ? 0 : -errno;
}

/* Subscribe on @a: the reply to "watch" (then --ready). */
static int watch_subscribe(struct cmd_ctx *ctx, struct vc_actl *a, const struct agent_opts *o)
{
	json_t *reply = NULL;
	int r;

	r = vc_actl_call(a, "watch", o->history ? json_pack("{s:b}", "history", 1) : NULL,
			 ACTL_DEFAULT_TIMEOUT_MS, &reply);
	if (r < 0)
		return lost_agent(ctx, r, ACTL_DEFAULT_TIMEOUT_MS);
	r = json_is_true(json_object_get(reply, "ok")) ? VC_EXIT_OK : agent_refused(ctx, reply);
	json_decref(reply);
	if (r == VC_EXIT_OK && o->ready_file) {
		int t = touch(o->ready_file);

		if (t < 0) {
			say(ctx, "cannot create %s: %s", o->ready_file, strerror(-t));
			r = VC_EXIT_FAILURE;
		}
	}
	return r;
}

static int watch_loop(struct cmd_ctx *ctx, struct vc_actl *a, const struct agent_opts *o)
{
	int64_t deadline = o->timeout_ms < 0 ? -1 : monotonic_ms() + o->timeout_ms;
	uint64_t seen = 0;

	while (!o->count || seen < o->count) {
		int left = -1, r;
		json_t *ev;

		if (deadline >= 0) {
			int64_t l = deadline - monotonic_ms();

			left = l < 0 ? 0 : l > INT32_MAX ? INT32_MAX : (int)l;
		}
		r = vc_actl_recv(a, left, &ev);
		if (r == -EINTR && interrupted)
			return VC_EXIT_OK;
		if (r == -EINTR)
			continue;
		if (r == -ETIMEDOUT)
			return o->count ? VC_EXIT_TIMEOUT : VC_EXIT_OK;
		if (r < 0)
			return lost_agent(ctx, r, left);
		if (!json_object_get(ev, "event")) {
			json_decref(ev);	/* not an event: nothing else was asked */
			continue;
		}
		if (ctx->json)
			print_json(ev);
		else
			print_event(ev);
		fflush(stdout);
		json_decref(ev);
		seen++;
	}
	return VC_EXIT_OK;
}

int cmd_watch(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct vc_actl *a = NULL;
	struct agent_opts o;
	int r;

	r = parse_opts(ctx, argc, argv, OPT_TIMEOUT | OPT_COUNT | OPT_READY | OPT_HISTORY, 0, &o);
	if (r == VC_EXIT_OK)
		r = open_agent(ctx, &a);
	if (r != VC_EXIT_OK)
		return r;
	catch_signals();
	r = watch_subscribe(ctx, a, &o);
	if (r == VC_EXIT_OK)
		r = watch_loop(ctx, a, &o);
	vc_actl_close(a);
	return r;
}
