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
	OPT_OCF		= 1 << 7,
	OPT_PARAM	= 1 << 8,
	OPT_OP		= 1 << 9,
	OPT_NODE	= 1 << 10,
	OPT_META	= 1 << 11,	/* the placement policy's options (meta_opts[]) */
	OPT_META_UNSET	= 1 << 12,	/* their --no- forms, which remove a key */
	OPT_POLICY	= 1 << 13,	/* cluster leave --policy migrate|stop|freeze */
};

struct agent_opts {
	int64_t timeout_ms;	/* -1: the default */
	uint64_t count;		/* 0: unlimited */
	uint64_t limit;
	const char *ready_file;
	const char *xml_file;
	const char *domain;
	const char *ocf;	/* "ocf:PROVIDER:TYPE" */
	const char *policy;	/* --policy */
	bool history;
	bool has_node;
	uint32_t node;		/* --node */
	/* Built as the options come; NULL until one does (opts_release). */
	json_t *params;		/* --param KEY=VALUE: {"KEY":"VALUE"} */
	json_t *ops;		/* --op NAME=DUR: {"start_ms":N, ...} */
	json_t *meta;		/* {"priority":N, ...}; null: remove the key */
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
	{ OPT_OCF, "--ocf", true },
	{ OPT_PARAM, "--param", true },
	{ OPT_OP, "--op", true },
	{ OPT_NODE, "--node", true },
	{ OPT_POLICY, "--policy", true },
};

/*
 * The placement policy ("meta"), one option per key.  The ranges are the
 * agent's (agent/policy.h): it checks them again, and the policy against
 * the cluster, when it commits; checking here too names the option.
 */
#define META_PRIORITY_MAX		1000000	/* and -1000000 */
#define META_SCORE_MAX			1000000	/* prefer scores, stickiness */
#define META_SCORE_DEFAULT		100	/* --prefer NODE without =SCORE */
#define META_THRESHOLD_MAX		1000000
#define META_FAILURE_TIMEOUT_MAX_MS	(366LL * 24 * 3600 * 1000)
#define META_FAILURE_TIMEOUT_DEFAULT_MS	60000
#define OP_DURATION_MAX_MS		(24LL * 3600 * 1000)	/* --op: a day */

enum meta_kind {
	META_INT,	/* an integer in [min, max] */
	META_DUR,	/* a duration (DUR), in ms, [min, max] */
	META_PREFER,	/* NODE[=SCORE] into {"NODE":SCORE}, score in [min, max] */
	META_NODES,	/* NODE into [NODE, ...] */
	META_NAMES,	/* RESOURCE into ["RESOURCE", ...] */
};

static const struct meta_opt {
	const char *opt;	/* "--priority"; "--no-priority" removes the key */
	const char *key;	/* "priority" */
	enum meta_kind kind;
	int64_t min, max;
} meta_opts[] = {
	{ "--priority", "priority", META_INT, -META_PRIORITY_MAX, META_PRIORITY_MAX },
	{ "--prefer", "prefer", META_PREFER, 1, META_SCORE_MAX },
	{ "--ban", "ban", META_NODES, 0, 0 },
	{ "--with", "with", META_NAMES, 0, 0 },
	{ "--apart", "apart", META_NAMES, 0, 0 },
	{ "--after", "after", META_NAMES, 0, 0 },
	{ "--stickiness", "stickiness", META_INT, 0, META_SCORE_MAX },
	{ "--migration-threshold", "migration_threshold", META_INT, 0, META_THRESHOLD_MAX },
	{ "--failure-timeout", "failure_timeout_ms", META_DUR, 0, META_FAILURE_TIMEOUT_MAX_MS },
};

/* --op NAME=DUR: the OCF operation a resource-add override sets. */
static const struct {
	const char *name;
	const char *key;
} op_keys[] = {
	{ "start-timeout", "start_ms" },
	{ "stop-timeout", "stop_ms" },
	{ "monitor-timeout", "monitor_ms" },
	{ "monitor-interval", "monitor_interval_ms" },
};

#define DUR_VALID "valid: a whole number with ms, s, min or h, or without a unit for seconds, " \
		  "e.g. 500ms, 20s, 2min"

static void opts_release(struct agent_opts *o)
{
	json_decref(o->params);
	json_decref(o->ops);
	json_decref(o->meta);
	o->params = o->ops = o->meta = NULL;
}

/* A signed decimal integer within [min, max]: -EINVAL, -ERANGE. */
static int parse_int(const char *s, int64_t min, int64_t max, int64_t *ret)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end || (s[0] != '-' && (s[0] < '0' || s[0] > '9')))
		return -EINVAL;
	if (errno || v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

/*
 * DUR: "500ms", "20s", "2min", "1h", "20" (seconds): a whole number and a
 * unit, as OCF meta-data and the agent write durations (also "msec",
 * "sec", "m", "hr").  -EINVAL: not one; -ERANGE: above @max_ms.
 */
static int parse_duration_ms(const char *s, int64_t max_ms, int64_t *ret_ms)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {
		{ "", 1000 }, { "ms", 1 }, { "msec", 1 }, { "s", 1000 }, { "sec", 1000 },
		{ "m", 60000 }, { "min", 60000 }, { "h", 3600000 }, { "hr", 3600000 },
	};
	unsigned long long n;
	char *end;
	size_t i;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (errno || n > (unsigned long long)(max_ms / units[i].ms))
			return -ERANGE;
		*ret_ms = (int64_t)n * units[i].ms;
		return 0;
	}
	return -EINVAL;
}

/* "500 ms", "20 s", "2 min", "1 h": the largest unit that is exact. */
static const char *duration_text(int64_t ms, char *buf, size_t size)
{
	if (ms >= 3600000 && ms % 3600000 == 0)
		snprintf(buf, size, "%lld h", (long long)(ms / 3600000));
	else if (ms >= 60000 && ms % 60000 == 0)
		snprintf(buf, size, "%lld min", (long long)(ms / 60000));
	else if (ms >= 1000 && ms % 1000 == 0)
		snprintf(buf, size, "%lld s", (long long)(ms / 1000));
	else
		snprintf(buf, size, "%lld ms", (long long)ms);
	return buf;
}

/* The usage error for a bad duration given to @what ("--op stop-timeout"). */
static int bad_duration(const struct cmd_ctx *ctx, const char *what, const char *val, int r,
			int64_t min_ms, int64_t max_ms)
{
	char why[320], lo[32], hi[32];

	if (r == -ERANGE || r == 0)
		snprintf(why, sizeof(why), "%s: '%s' is out of range (valid: %s to %s)", what, val,
			 min_ms ? duration_text(min_ms, lo, sizeof(lo)) : "0",
			 duration_text(max_ms, hi, sizeof(hi)));
	else
		snprintf(why, sizeof(why), "%s: '%s' is not a duration (" DUR_VALID ")", what, val);
	return usage(ctx, why);
}

static int bad_node(const struct cmd_ctx *ctx, const char *what, const char *val)
{
	char why[256];

	snprintf(why, sizeof(why), "%s: '%s' is not a node id (valid: 1..4294967295)", what, val);
	return usage(ctx, why);
}

static int given_twice(const struct cmd_ctx *ctx, const char *what, const char *item)
{
	char why[256];

	snprintf(why, sizeof(why), "%.100s%s%.100s given twice", what, item[0] ? " " : "", item);
	return usage(ctx, why);
}

/* An OCF parameter name: it becomes OCF_RESKEY_NAME in the agent's environment. */
static bool param_name_ok(const char *s, size_t len)
{
	size_t i;

	if (!len || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (i = 0; i < len; i++)
		if (!(s[i] == '_' || (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

/* --param KEY=VALUE */
static int add_param(const struct cmd_ctx *ctx, struct agent_opts *o, const char *val)
{
	const char *eq = strchr(val, '=');
	char why[320], *key;
	int r;

	if (!eq || !param_name_ok(val, (size_t)(eq - val))) {
		snprintf(why, sizeof(why), "--param: '%s' is not KEY=VALUE (valid: a KEY of letters, "
			 "digits and _, not starting with a digit; e.g. state=/run/web.state)", val);
		return usage(ctx, why);
	}
	key = strndup(val, (size_t)(eq - val));
	if (!o->params)
		o->params = json_object();
	if (!key || !o->params) {
		free(key);
		say(ctx, "out of memory");
		return VC_EXIT_FAILURE;
	}
	r = json_object_get(o->params, key) ? given_twice(ctx, "--param", key) : VC_EXIT_OK;
	if (r == VC_EXIT_OK)
		json_object_set_new(o->params, key, json_string(eq + 1));
	free(key);
	return r;
}

/* --op NAME=DUR */
static int add_op(const struct cmd_ctx *ctx, struct agent_opts *o, const char *val)
{
	const char *eq = strchr(val, '=');
	char why[320], what[64];
	int64_t ms = 0;
	size_t i;
	int r;

	for (i = 0; eq && i < sizeof(op_keys) / sizeof(op_keys[0]); i++)
		if (strlen(op_keys[i].name) == (size_t)(eq - val) &&
		    strncmp(val, op_keys[i].name, (size_t)(eq - val)) == 0)
			break;
	if (!eq || i == sizeof(op_keys) / sizeof(op_keys[0])) {
		snprintf(why, sizeof(why), "--op: '%s' is not NAME=DUR (valid names: start-timeout, "
			 "stop-timeout, monitor-timeout, monitor-interval)", val);
		return usage(ctx, why);
	}
	snprintf(what, sizeof(what), "--op %s", op_keys[i].name);
	r = parse_duration_ms(eq + 1, OP_DURATION_MAX_MS, &ms);
	if (r < 0 || ms < 1)
		return bad_duration(ctx, what, eq + 1, r, 1, OP_DURATION_MAX_MS);
	if (!o->ops)
		o->ops = json_object();
	if (!o->ops) {
		say(ctx, "out of memory");
		return VC_EXIT_FAILURE;
	}
	if (json_object_get(o->ops, op_keys[i].key))
		return given_twice(ctx, what, "");
	json_object_set_new(o->ops, op_keys[i].key, json_integer(ms));
	return VC_EXIT_OK;
}

/* --prefer NODE[=SCORE] into {"NODE": SCORE}. */
static int add_prefer(const struct cmd_ctx *ctx, json_t *prefer, const struct meta_opt *m,
		      const char *val)
{
	const char *eq = strchr(val, '=');
	size_t len = eq ? (size_t)(eq - val) : strlen(val);
	int64_t score = META_SCORE_DEFAULT;
	char why[320], node_text[16];
	uint32_t node;

	snprintf(node_text, sizeof(node_text), "%.*s", (int)(len < 15 ? len : 15), val);
	if (len >= sizeof(node_text) || vc_parse_u32(node_text, 1, UINT32_MAX, &node) < 0 ||
	    (eq && parse_int(eq + 1, m->min, m->max, &score) < 0)) {
		snprintf(why, sizeof(why), "%s: '%s' is not NODE[=SCORE] (valid: a node id "
			 "1..4294967295 and a score 1..%lld, default %d; e.g. 2 or 2=50)",
			 m->opt, val, (long long)m->max, META_SCORE_DEFAULT);
		return usage(ctx, why);
	}
	snprintf(node_text, sizeof(node_text), "%" PRIu32, node);
	if (json_object_get(prefer, node_text))
		return given_twice(ctx, m->opt, node_text);
	json_object_set_new(prefer, node_text, json_integer(score));
	return VC_EXIT_OK;
}

/* --ban NODE, --with/--apart/--after RESOURCE: appended to a list. */
static int add_item(const struct cmd_ctx *ctx, json_t *list, const struct meta_opt *m,
		    const char *val)
{
	json_t *item, *have;
	uint32_t node;
	size_t i;

	if (m->kind == META_NODES && vc_parse_u32(val, 1, UINT32_MAX, &node) < 0)
		return bad_node(ctx, m->opt, val);
	if (m->kind == META_NAMES && !val[0])
		return usage(ctx, "an empty resource name");
	item = m->kind == META_NODES ? json_integer(node) : json_string(val);
	json_array_foreach(list, i, have) {
		if (json_equal(have, item)) {
			json_decref(item);
			return given_twice(ctx, m->opt, val);
		}
	}
	json_array_append_new(list, item);
	return VC_EXIT_OK;
}

/* A meta option with its value: the key's value, made or extended. */
static int set_meta(const struct cmd_ctx *ctx, struct agent_opts *o, const struct meta_opt *m,
		    const char *val)
{
	json_t *have;
	char why[320];
	int64_t v = 0;
	int r;

	if (!o->meta)
		o->meta = json_object();
	if (!o->meta) {
		say(ctx, "out of memory");
		return VC_EXIT_FAILURE;
	}
	have = json_object_get(o->meta, m->key);
	if (json_is_null(have)) {
		snprintf(why, sizeof(why), "%s and --no-%s contradict each other", m->opt, m->opt + 2);
		return usage(ctx, why);
	}
	if (have && (m->kind == META_INT || m->kind == META_DUR))
		return given_twice(ctx, m->opt, "");
	if (m->kind == META_PREFER || m->kind == META_NODES || m->kind == META_NAMES) {
		if (!have) {
			have = m->kind == META_PREFER ? json_object() : json_array();
			json_object_set_new(o->meta, m->key, have);
		}
		return m->kind == META_PREFER ? add_prefer(ctx, have, m, val)
					      : add_item(ctx, have, m, val);
	}
	if (m->kind == META_DUR) {
		r = parse_duration_ms(val, m->max, &v);
		if (r < 0)
			return bad_duration(ctx, m->opt, val, r, m->min, m->max);
	} else if (parse_int(val, m->min, m->max, &v) < 0) {
		snprintf(why, sizeof(why), "%s: '%s' is not a number (valid: %lld..%lld)", m->opt, val,
			 (long long)m->min, (long long)m->max);
		return usage(ctx, why);
	}
	json_object_set_new(o->meta, m->key, json_integer(v));
	return VC_EXIT_OK;
}

/* --no-KEY: null, which the agent's merge takes as "remove the key". */
static int unset_meta(const struct cmd_ctx *ctx, struct agent_opts *o, const struct meta_opt *m)
{
	json_t *have;
	char why[256];

	if (!o->meta)
		o->meta = json_object();
	if (!o->meta) {
		say(ctx, "out of memory");
		return VC_EXIT_FAILURE;
	}
	have = json_object_get(o->meta, m->key);
	if (have && !json_is_null(have)) {
		snprintf(why, sizeof(why), "%s and --no-%s contradict each other", m->opt, m->opt + 2);
		return usage(ctx, why);
	}
	if (have) {
		snprintf(why, sizeof(why), "--no-%s", m->opt + 2);
		return given_twice(ctx, why, "");
	}
	json_object_set_new(o->meta, m->key, json_null());
	return VC_EXIT_OK;
}

/* @arg as a meta option allowed in @allowed; *unset for its --no- form. */
static const struct meta_opt *find_meta(const char *arg, unsigned int allowed, bool *unset)
{
	size_t i;

	for (i = 0; i < sizeof(meta_opts) / sizeof(meta_opts[0]); i++) {
		*unset = false;
		if ((allowed & OPT_META) && strcmp(arg, meta_opts[i].opt) == 0)
			return &meta_opts[i];
		*unset = true;
		if ((allowed & OPT_META_UNSET) && strncmp(arg, "--no-", 5) == 0 &&
		    strcmp(arg + 5, meta_opts[i].opt + 2) == 0)
			return &meta_opts[i];
	}
	return NULL;
}

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
	if (flag == OPT_NODE && vc_parse_u32(val, 1, UINT32_MAX, &o->node) < 0)
		return bad_node(ctx, name, val);
	if (flag == OPT_PARAM)
		return add_param(ctx, o, val);
	if (flag == OPT_OP)
		return add_op(ctx, o, val);
	if (flag == OPT_READY)
		o->ready_file = val;
	if (flag == OPT_XML)
		o->xml_file = val;
	if (flag == OPT_DOMAIN)
		o->domain = val;
	if (flag == OPT_OCF)
		o->ocf = val;
	if (flag == OPT_POLICY)
		o->policy = val;
	if (flag == OPT_NODE)
		o->has_node = true;
	if (flag == OPT_HISTORY)
		o->history = true;
	return VC_EXIT_OK;
}

static int parse_args(const struct cmd_ctx *ctx, int argc, char **argv, unsigned int allowed,
		      int max_pos, struct agent_opts *o)
{
	const struct meta_opt *m;
	char why[256];
	bool unset;
	int i, r;

	for (i = 0; i < argc; i++) {
		size_t k;

		for (k = 0; k < sizeof(known_opts) / sizeof(known_opts[0]); k++)
			if ((allowed & known_opts[k].flag) && strcmp(argv[i], known_opts[k].name) == 0)
				break;
		m = k < sizeof(known_opts) / sizeof(known_opts[0]) ? NULL :
		    find_meta(argv[i], allowed, &unset);
		if (k < sizeof(known_opts) / sizeof(known_opts[0]) || m) {
			bool has_value = m ? !unset : known_opts[k].has_value;
			const char *val = NULL;

			if (has_value && i + 1 >= argc) {
				snprintf(why, sizeof(why), "'%s' needs a value", argv[i]);
				return usage(ctx, why);
			}
			if (has_value)
				val = argv[++i];
			if (m)
				r = unset ? unset_meta(ctx, o, m) : set_meta(ctx, o, m, val);
			else
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

/*
 * Options in @allowed anywhere; at most @max_pos positional arguments.
 * What the options built (params, ops, meta) is the caller's to
 * opts_release(), on success only.
 */
static int parse_opts(const struct cmd_ctx *ctx, int argc, char **argv, unsigned int allowed,
		      int max_pos, struct agent_opts *o)
{
	int r;

	*o = (struct agent_opts){ .timeout_ms = -1 };
	r = parse_args(ctx, argc, argv, allowed, max_pos, o);
	if (r != VC_EXIT_OK)
		opts_release(o);
	return r;
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

/* The cluster-wide properties (cluster set, cluster maintenance), when the
 * agent reports them. */
static void print_cluster_settings(const json_t *c)
{
	char b[2][64];

	if (!json_is_object(c))
		return;
	printf("shutdown-policy %s, migrate-max %s%s\n",
	       get_text(c, "shutdown_policy", b[0], sizeof(b[0])),
	       get_text(c, "migrate_max", b[1], sizeof(b[1])),
	       json_is_true(json_object_get(c, "maintenance")) ?
	       "; CLUSTER MAINTENANCE: no resource is started, stopped or moved" : "");
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
	print_cluster_settings(json_object_get(s, "cluster_properties"));
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

static void print_resource_row(const json_t *r, const char *flags, int flags_width)
{
	char b[4][64];
	const char *why = json_string_value(json_object_get(r, "why"));
	const char *note = json_string_value(json_object_get(r, "note"));

	if (!note || !*note)
		flags_width = 0;	/* nothing after the flags: no padding */
	printf("%-20s %-4s %-8s %-9s %-*s%s%s\n", get_text(r, "name", b[0], sizeof(b[0])),
	       get_text(r, "type", b[1], sizeof(b[1])), where_text(r, b[2], sizeof(b[2])),
	       json_is_true(json_object_get(r, "removing")) ? "removing" :
	       get_text(r, "status", b[3], sizeof(b[3])), flags_width, flags,
	       flags_width ? " " : "", flags_width ? note : "");
	if (why && *why)
		printf("%-20s   why: %s\n", "", why);
}

static int64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The resource's failure timeout: its meta's, else the agent's default. */
static int64_t failure_timeout_ms(const json_t *r)
{
	json_t *v = json_object_get(json_object_get(r, "meta"), "failure_timeout_ms");

	return json_is_integer(v) ? json_integer_value(v) : META_FAILURE_TIMEOUT_DEFAULT_MS;
}

/* How many of the failures in @fail (one node's) still count at @now_ms:
 * all while the last is younger than the failure timeout (or it is 0). */
static json_int_t failcount(const json_t *r, const json_t *fail, int64_t now_ms)
{
	json_int_t count = json_integer_value(json_object_get(fail, "count"));
	json_int_t last_ms = json_integer_value(json_object_get(fail, "last_ms"));
	int64_t timeout_ms = failure_timeout_ms(r);

	if (timeout_ms > 0 && now_ms - last_ms >= timeout_ms)
		return 0;
	return count;
}

static int cmp_node_keys(const void *a, const void *b)
{
	unsigned long x = strtoul(*(const char *const *)a, NULL, 10);
	unsigned long y = strtoul(*(const char *const *)b, NULL, 10);

	return x < y ? -1 : x > y;
}

/* The node ids of @obj's keys, in numeric order (at most @max). */
static size_t sorted_node_keys(const json_t *obj, const char **keys, size_t max)
{
	const char *key;
	json_t *v;
	size_t n = 0;

	json_object_foreach((json_t *)obj, key, v)
		if (n < max)
			keys[n++] = key;
	qsort(keys, n, sizeof(*keys), cmp_node_keys);
	return n;
}

#define MAX_LISTED_NODES 128	/* more than a cluster has (VC_MAX_PEERS + 1) */

/* "fails 2@h1 1@h3": the failures that count now, per host; "" for none. */
static const char *fails_text(const json_t *r, int64_t now_ms, char *buf, size_t size)
{
	const json_t *fails = json_object_get(r, "fails");
	const char *keys[MAX_LISTED_NODES];
	size_t i, n, len = 0;

	buf[0] = '\0';
	n = sorted_node_keys(fails, keys, MAX_LISTED_NODES);
	for (i = 0; i < n && len + 1 < size; i++) {
		json_int_t c = failcount(r, json_object_get(fails, keys[i]), now_ms);

		if (c > 0)
			len += (size_t)snprintf(buf + len, size - len, "%s%" JSON_INTEGER_FORMAT "@h%s",
						len ? " " : "fails ", c, keys[i]);
	}
	return buf;
}

/* "disabled,maintenance,moving to 3,frozen for 2,move target 3,fails 2@h1";
 * "-" for none. */
static const char *resource_flags_text(const json_t *r, int64_t now_ms, char *buf, size_t size)
{
	json_int_t moving = json_integer_value(json_object_get(json_object_get(r, "migrating"),
							       "node"));
	json_int_t frozen = json_integer_value(json_object_get(r, "frozen_on"));
	json_int_t target = json_integer_value(json_object_get(r, "target_node"));
	char word[256];

	buf[0] = '\0';
	if (json_is_false(json_object_get(r, "enabled")))
		add_word(buf, size, "disabled");
	if (json_is_true(json_object_get(r, "maintenance")))
		add_word(buf, size, "maintenance");
	if (moving > 0) {
		snprintf(word, sizeof(word), "moving to %" JSON_INTEGER_FORMAT, moving);
		add_word(buf, size, word);
	}
	if (frozen > 0) {
		snprintf(word, sizeof(word), "frozen for %" JSON_INTEGER_FORMAT, frozen);
		add_word(buf, size, word);
	}
	if (target > 0) {
		snprintf(word, sizeof(word), "move target %" JSON_INTEGER_FORMAT, target);
		add_word(buf, size, word);
	}
	if (fails_text(r, now_ms, word, sizeof(word))[0])
		add_word(buf, size, word);
	return buf[0] ? buf : "-";
}

static void print_resource_table(const json_t *res)
{
	int64_t now_ms = realtime_ms();
	char flags[512];
	int width = 5;		/* "FLAGS" */
	size_t i;

	if (!json_array_size(res))
		return;
	for (i = 0; i < json_array_size(res); i++) {
		int w = (int)strlen(resource_flags_text(json_array_get(res, i), now_ms, flags,
							sizeof(flags)));

		width = w > width ? w : width;
	}
	printf("\n%-20s %-4s %-8s %-9s %-*s %s\n", "RESOURCE", "TYPE", "WHERE", "STATUS", width,
	       "FLAGS", "NOTE");
	for (i = 0; i < json_array_size(res); i++)
		print_resource_row(json_array_get(res, i),
				   resource_flags_text(json_array_get(res, i), now_ms, flags,
						       sizeof(flags)), width);
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

/* "ocf:PROVIDER:TYPE", by its form: the agent checks the names and that
 * the agent is installed. */
static bool ocf_agent_form_ok(const char *s)
{
	const char *p = s + 4, *colon;

	if (strncmp(s, "ocf:", 4) != 0)
		return false;
	colon = strchr(p, ':');
	return colon && colon > p && colon[1] && !strchr(colon + 1, ':');
}

/* What resource add needs beyond the options' own checks. */
static int resource_add_usage(const struct cmd_ctx *ctx, const struct agent_opts *o)
{
	char why[256];

	if (o->n_pos < 1)
		return usage(ctx, "missing NAME");
	if (!!o->xml_file + !!o->domain + !!o->ocf != 1)
		return usage(ctx, "give one of --xml FILE (a libvirt domain XML), --domain DOMAIN "
			     "(defined on this host) or --ocf ocf:PROVIDER:TYPE (an OCF resource agent)");
	if (o->ocf && !ocf_agent_form_ok(o->ocf)) {
		snprintf(why, sizeof(why), "--ocf: '%s' is not an OCF agent (valid: ocf:PROVIDER:TYPE, "
			 "e.g. ocf:heartbeat:Dummy)", o->ocf);
		return usage(ctx, why);
	}
	if (!o->ocf && (o->params || o->ops))
		return usage(ctx, "--param and --op are for --ocf resources only");
	return VC_EXIT_OK;
}

/* Move *@v (when set) into @obj under @key. */
static void move_into(json_t *obj, const char *key, json_t **v)
{
	if (*v)
		json_object_set_new(obj, key, *v);
	*v = NULL;
}

/*
 * {"name", one of "xml" | "domain" | "ocf", then for ocf "params" and
 * "ops" when given, and "meta" when a policy option was given}.
 */
int cmd_resource_add(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct agent_opts o;
	char *xml = NULL;
	json_t *args;
	int r;

	r = parse_opts(ctx, argc, argv, OPT_TIMEOUT | OPT_XML | OPT_DOMAIN | OPT_OCF | OPT_PARAM |
		       OPT_OP | OPT_META, 1, &o);
	if (r != VC_EXIT_OK)
		return r;
	r = resource_add_usage(ctx, &o);
	if (r == VC_EXIT_OK && o.xml_file) {
		xml = read_file(ctx, o.xml_file);
		r = xml ? VC_EXIT_OK : VC_EXIT_FAILURE;
	}
	if (r != VC_EXIT_OK) {
		opts_release(&o);
		return r;
	}
	args = json_pack("{s:s,s:s}", "name", o.pos[0],
			 xml ? "xml" : o.domain ? "domain" : "ocf",
			 xml ? xml : o.domain ? o.domain : o.ocf);
	free(xml);
	if (args) {
		move_into(args, "params", &o.params);
		move_into(args, "ops", &o.ops);
		move_into(args, "meta", &o.meta);
	}
	opts_release(&o);
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

/* ---- resource show: the definition, the policy, the failures ---- */

static const struct meta_opt *meta_opt_of(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(meta_opts) / sizeof(meta_opts[0]); i++)
		if (strcmp(meta_opts[i].key, key) == 0)
			return &meta_opts[i];
	return NULL;
}

/* "node 2 (score 100), node 3 (score 50)", nodes in order. */
static void print_prefer(const json_t *prefer)
{
	const char *keys[MAX_LISTED_NODES];
	size_t i, n = sorted_node_keys(prefer, keys, MAX_LISTED_NODES);

	for (i = 0; i < n; i++)
		printf("%snode %s (score %" JSON_INTEGER_FORMAT ")", i ? ", " : "", keys[i],
		       json_integer_value(json_object_get(prefer, keys[i])));
}

/* One policy value as a person reads it. */
static void print_meta_value(const struct meta_opt *m, const json_t *v)
{
	json_int_t n = json_integer_value(v);
	char b[64];
	size_t i;

	switch (m->kind) {
	case META_PREFER:
		print_prefer(v);
		break;
	case META_NODES:
	case META_NAMES:
		for (i = 0; i < json_array_size(v); i++)
			printf("%s%s%s", i ? ", " : "", m->kind == META_NODES ? "node " : "",
			       field_text(json_array_get(v, i), b, sizeof(b)));
		break;
	case META_DUR:
		printf("%s", n ? duration_text(n, b, sizeof(b)) : "0 (failures never expire)");
		break;
	case META_INT:
		printf("%" JSON_INTEGER_FORMAT "%s", n,
		       !n && strcmp(m->key, "migration_threshold") == 0 ?
		       " (failures never ban it from a node)" : "");
		break;
	}
}

/* The placement policy, one line per key set, named like the options that
 * set it (resource update). */
static void print_policy(const json_t *meta)
{
	const json_t *v;
	const char *key;
	char b[256];
	size_t i;

	if (!json_object_size(meta)) {
		printf("policy: defaults\n");
		return;
	}
	printf("policy:\n");
	for (i = 0; i < sizeof(meta_opts) / sizeof(meta_opts[0]); i++) {
		v = json_object_get(meta, meta_opts[i].key);
		if (!v)
			continue;
		printf("  %-20s ", meta_opts[i].opt + 2);
		print_meta_value(&meta_opts[i], v);
		printf("\n");
	}
	json_object_foreach((json_t *)meta, key, v)	/* newer than this vclusterctl */
		if (!meta_opt_of(key))
			printf("  %-20s %s\n", key, field_text(v, b, sizeof(b)));
}

/* "2026-11-28 11:03:14" (local time) of CLOCK_REALTIME @ms. */
static const char *wall_time_text(int64_t ms, char *buf, size_t size)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;

	if (!localtime_r(&sec, &tm) || !strftime(buf, size, "%F %T", &tm))
		snprintf(buf, size, "%lld ms", (long long)ms);
	return buf;
}

/* Per node: the failures recorded, the last one's time, whether they count. */
static void print_failures(const json_t *r, int64_t now_ms)
{
	const json_t *fails = json_object_get(r, "fails");
	const char *keys[MAX_LISTED_NODES];
	size_t i, n = sorted_node_keys(fails, keys, MAX_LISTED_NODES);
	char when[64];

	for (i = 0; i < n; i++) {
		const json_t *f = json_object_get(fails, keys[i]);

		printf("%s  node %s: %" JSON_INTEGER_FORMAT ", the last at %s%s\n",
		       i ? "" : "failures:\n", keys[i],
		       json_integer_value(json_object_get(f, "count")),
		       wall_time_text(json_integer_value(json_object_get(f, "last_ms")), when,
				      sizeof(when)),
		       failcount(r, f, now_ms) ? "" : " (expired: older than the failure-timeout)");
	}
}

/* "key=value key=value" of an object of scalars, keys in its order. */
static void print_pairs(const char *title, const json_t *obj)
{
	const json_t *v;
	const char *key;
	char b[256];
	bool first = true;

	json_object_foreach((json_t *)obj, key, v) {
		printf("%s%s=%s", first ? title : " ", key, field_text(v, b, sizeof(b)));
		first = false;
	}
	if (!first)
		printf("\n");
}

static void print_ocf_definition(const json_t *def)
{
	const json_t *t = json_object_get(def, "timeouts");
	char b[4][64];

	printf("agent %s, monitor every %s\n", get_text(def, "agent", b[0], sizeof(b[0])),
	       duration_text(json_integer_value(json_object_get(def, "monitor_interval_ms")),
			     b[1], sizeof(b[1])));
	if (json_is_object(t))
		printf("timeouts: start %s, stop %s, monitor %s\n",
		       duration_text(json_integer_value(json_object_get(t, "start_ms")), b[1],
				     sizeof(b[1])),
		       duration_text(json_integer_value(json_object_get(t, "stop_ms")), b[2],
				     sizeof(b[2])),
		       duration_text(json_integer_value(json_object_get(t, "monitor_ms")), b[3],
				     sizeof(b[3])));
	print_pairs("params: ", json_object_get(def, "params"));
}

static void print_vm_definition(const json_t *def)
{
	char b[64];

	printf("domain %s, UUID %s, %lld MiB, %lld vCPUs\n",
	       get_text(def, "domain", b, sizeof(b)),
	       json_string_value(json_object_get(def, "uuid")) ?: "?",
	       (long long)json_integer_value(json_object_get(def, "memory_kib")) / 1024,
	       (long long)json_integer_value(json_object_get(def, "vcpus")));
}

static void print_resource_details(const json_t *res)
{
	const json_t *def = json_object_get(res, "definition");
	const char *type = json_string_value(json_object_get(res, "type"));
	json_t *one = json_pack("[O]", res);
	char *failed;

	print_resource_table(one);
	json_decref(one);
	printf("\n");
	if (type && strcmp(type, "ocf") == 0)
		print_ocf_definition(def);
	else
		print_vm_definition(def);
	if (json_object_get(res, "meta"))
		print_policy(json_object_get(res, "meta"));
	print_failures(res, realtime_ms());
	failed = json_dumps(json_object_get(res, "failed_on"), JSON_COMPACT);
	if (json_array_size(json_object_get(res, "failed_on")) && failed)
		printf("failed on nodes: %s\n", failed);
	free(failed);
}

int cmd_resource_show(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct agent_opts o;
	json_t *res = NULL;
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
	if (ctx->json)
		print_json(res);
	else
		print_resource_details(res);
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

/* Send @cmd with @args; print the result's "message", else @done (may be
 * NULL); with --json the result. */
static int change_done(struct cmd_ctx *ctx, const char *cmd, json_t *args,
		       const struct agent_opts *o, const char *done)
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
	else if (msg || done)
		printf("%s\n", msg ? msg : done);
	json_decref(res);
	return VC_EXIT_OK;
}

static int change(struct cmd_ctx *ctx, const char *cmd, json_t *args, const struct agent_opts *o)
{
	return change_done(ctx, cmd, args, o, NULL);
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
	int r = parse_opts(ctx, argc, argv, OPT_TIMEOUT | OPT_POLICY, 0, &o);

	if (r != VC_EXIT_OK)
		return r;
	if (o.policy && strcmp(o.policy, "migrate") != 0 && strcmp(o.policy, "stop") != 0 &&
	    strcmp(o.policy, "freeze") != 0)
		return usage(ctx, "--policy must be migrate, stop or freeze");
	return change(ctx, "cluster-leave",
		      o.policy ? json_pack("{s:s}", "policy", o.policy) : NULL, &o);
}

/* ---- resource policy and flags, cluster properties ---- */

/* "on" or "off" in @word (NULL: @dflt). */
static int parse_on_off(const struct cmd_ctx *ctx, const char *word, bool dflt, bool *on)
{
	char why[256];

	*on = dflt;
	if (!word)
		return VC_EXIT_OK;
	if (strcmp(word, "on") != 0 && strcmp(word, "off") != 0) {
		snprintf(why, sizeof(why), "'%s' is neither on nor off", word);
		return usage(ctx, why);
	}
	*on = strcmp(word, "on") == 0;
	return VC_EXIT_OK;
}

/* {"name","meta":{KEY: value | null}}: the agent merges it into the
 * resource's policy; null removes a key. */
int cmd_resource_update(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct agent_opts o;
	char done[320];
	json_t *args;
	int r;

	r = parse_opts(ctx, argc, argv, OPT_TIMEOUT | OPT_META | OPT_META_UNSET, 1, &o);
	if (r != VC_EXIT_OK)
		return r;
	if (o.n_pos < 1 || !o.meta) {
		opts_release(&o);
		return usage(ctx, o.n_pos < 1 ? "missing NAME" :
			     "nothing to change (give policy options, e.g. --priority N or --no-ban)");
	}
	args = json_pack("{s:s,s:o}", "name", o.pos[0], "meta", o.meta);
	o.meta = NULL;
	snprintf(done, sizeof(done), "resource %s: policy updated", o.pos[0]);
	return change_done(ctx, "resource-update", args, &o, done);
}

/* "resource enable NAME" and the like: {"name": NAME}; "resource NAME@what". */
static int name_change(struct cmd_ctx *ctx, int argc, char **argv, const char *cmd,
		       const char *what)
{
	struct agent_opts o;
	char done[320];
	int r;

	r = parse_opts(ctx, argc, argv, OPT_TIMEOUT, 1, &o);
	if (r != VC_EXIT_OK)
		return r;
	if (o.n_pos < 1)
		return usage(ctx, "missing NAME");
	snprintf(done, sizeof(done), "resource %s%s", o.pos[0], what);
	return change_done(ctx, cmd, json_pack("{s:s}", "name", o.pos[0]), &o, done);
}

int cmd_resource_enable(struct cmd_ctx *ctx, int argc, char **argv)
{
	return name_change(ctx, argc, argv, "resource-enable",
			   " enabled: the cluster places and starts it");
}

int cmd_resource_disable(struct cmd_ctx *ctx, int argc, char **argv)
{
	return name_change(ctx, argc, argv, "resource-disable",
			   " disabled: it stops where it runs and is placed nowhere");
}

int cmd_resource_clear(struct cmd_ctx *ctx, int argc, char **argv)
{
	return name_change(ctx, argc, argv, "resource-clear",
			   ": move constraint cleared (it may stay where it runs)");
}

int cmd_resource_maintenance(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct agent_opts o;
	char done[320];
	bool on;
	int r;

	r = parse_opts(ctx, argc, argv, OPT_TIMEOUT, 2, &o);
	if (r != VC_EXIT_OK)
		return r;
	if (o.n_pos < 1)
		return usage(ctx, "missing NAME");
	r = parse_on_off(ctx, o.n_pos > 1 ? o.pos[1] : NULL, true, &on);
	if (r != VC_EXIT_OK)
		return r;
	snprintf(done, sizeof(done), "resource %s: maintenance %s", o.pos[0],
		 on ? "on (the cluster neither starts, stops, restarts nor moves it)" :
		 "off (the cluster manages it again)");
	return change_done(ctx, "resource-maintenance",
			   json_pack("{s:s,s:b}", "name", o.pos[0], "maintenance", on), &o, done);
}

/* {"name","node"}: the move is a constraint that stays until cleared. */
int cmd_resource_move(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct agent_opts o;
	char done[320];
	uint32_t node;
	int r;

	r = parse_opts(ctx, argc, argv, OPT_TIMEOUT, 2, &o);
	if (r != VC_EXIT_OK)
		return r;
	if (o.n_pos < 2)
		return usage(ctx, o.n_pos ? "missing NODE (the node id to move it to)" : "missing NAME");
	if (vc_parse_u32(o.pos[1], 1, UINT32_MAX, &node) < 0)
		return bad_node(ctx, "NODE", o.pos[1]);
	snprintf(done, sizeof(done), "resource %s: moving to node %" PRIu32, o.pos[0], node);
	r = change_done(ctx, "resource-move",
			json_pack("{s:s,s:I}", "name", o.pos[0], "node", (json_int_t)node), &o, done);
	if (r == VC_EXIT_OK && !ctx->json)
		printf("the move leaves a constraint: \"run on node %" PRIu32 "\" (clear it with '"
		       PROG " resource clear %s')\n", node, o.pos[0]);
	return r;
}

/* {"name","node"?}: without --node, the failures on every node. */
int cmd_resource_cleanup(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct agent_opts o;
	char done[320], on[32] = "every node";
	int r;

	r = parse_opts(ctx, argc, argv, OPT_TIMEOUT | OPT_NODE, 1, &o);
	if (r != VC_EXIT_OK)
		return r;
	if (o.n_pos < 1)
		return usage(ctx, "missing NAME");
	if (o.has_node)
		snprintf(on, sizeof(on), "node %" PRIu32, o.node);
	snprintf(done, sizeof(done), "resource %s: failures on %s forgotten", o.pos[0], on);
	return change_done(ctx, "resource-cleanup",
			   o.has_node ? json_pack("{s:s,s:I}", "name", o.pos[0], "node",
						  (json_int_t)o.node)
				      : json_pack("{s:s}", "name", o.pos[0]), &o, done);
}

int cmd_cluster_maintenance(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct agent_opts o;
	bool on;
	int r;

	r = parse_opts(ctx, argc, argv, OPT_TIMEOUT, 1, &o);
	if (r == VC_EXIT_OK)
		r = parse_on_off(ctx, o.n_pos ? o.pos[0] : NULL, true, &on);
	if (r != VC_EXIT_OK)
		return r;
	return change_done(ctx, "cluster-maintenance", json_pack("{s:b}", "maintenance", on), &o,
			   on ? "cluster maintenance on: the cluster neither starts, stops, restarts "
				"nor moves any resource" :
				"cluster maintenance off: the cluster manages its resources again");
}

#define CLUSTER_SET_VALID "valid: shutdown-policy migrate|stop|freeze, migrate-max N"
#define MIGRATE_MAX_MAX 64	/* agent/state.h: VCD_STATE_MAX_MIGRATE_MAX */

/* One "SETTING VALUE" of cluster set into @args. */
static int cluster_setting(const struct cmd_ctx *ctx, const char *key, const char *val,
			   json_t *args)
{
	static const char *const policies[] = { "migrate", "stop", "freeze" };
	const char *json_key = strcmp(key, "shutdown-policy") == 0 ? "shutdown_policy" :
			       strcmp(key, "migrate-max") == 0 ? "migrate_max" : NULL;
	char why[256];
	uint32_t n;
	size_t i;

	if (!json_key) {
		snprintf(why, sizeof(why), "'%s' is no cluster setting (" CLUSTER_SET_VALID ")", key);
		return usage(ctx, why);
	}
	if (json_object_get(args, json_key))
		return given_twice(ctx, key, "");
	if (!val) {
		snprintf(why, sizeof(why), "'%s' needs a value (" CLUSTER_SET_VALID ")", key);
		return usage(ctx, why);
	}
	if (json_key[0] == 'm') {
		if (vc_parse_u32(val, 1, MIGRATE_MAX_MAX, &n) < 0) {
			snprintf(why, sizeof(why), "migrate-max: '%s' is not a number (valid: 1..%d)",
				 val, MIGRATE_MAX_MAX);
			return usage(ctx, why);
		}
		json_object_set_new(args, json_key, json_integer(n));
		return VC_EXIT_OK;
	}
	for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (strcmp(val, policies[i]) == 0)
			break;
	if (i == sizeof(policies) / sizeof(policies[0])) {
		snprintf(why, sizeof(why), "'%s' is not a shutdown policy (valid: migrate, stop, freeze)",
			 val);
		return usage(ctx, why);
	}
	json_object_set_new(args, json_key, json_string(val));
	return VC_EXIT_OK;
}

/* {"shutdown_policy"?, "migrate_max"?}: one or both. */
int cmd_cluster_set(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct agent_opts o;
	json_t *args;
	char done[256];
	int i, r;

	r = parse_opts(ctx, argc, argv, OPT_TIMEOUT, 4, &o);
	if (r != VC_EXIT_OK)
		return r;
	if (o.n_pos < 1)
		return usage(ctx, "missing SETTING VALUE (" CLUSTER_SET_VALID ")");
	args = json_object();
	if (!args) {
		say(ctx, "out of memory");
		return VC_EXIT_FAILURE;
	}
	for (i = 0; i < o.n_pos && r == VC_EXIT_OK; i += 2)
		r = cluster_setting(ctx, o.pos[i], i + 1 < o.n_pos ? o.pos[i + 1] : NULL, args);
	if (r != VC_EXIT_OK) {
		json_decref(args);
		return r;
	}
	snprintf(done, sizeof(done), "cluster set:");
	for (i = 0; i < o.n_pos; i += 2)
		snprintf(done + strlen(done), sizeof(done) - strlen(done), " %s %s", o.pos[i],
			 o.pos[i + 1]);
	return change_done(ctx, "cluster-set", args, &o, done);
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

/* A policy in key=value form: "priority=10 prefer=2:100,3:50 ban=3,4 with=db". */
static void print_meta_pairs(const json_t *meta)
{
	const json_t *v, *item;
	const char *key, *k;
	char buf[256];
	size_t i;

	if (!json_object_size(meta))
		printf(" meta=defaults");
	json_object_foreach((json_t *)meta, key, v) {
		printf(" %s=", key);
		if (json_is_object(v)) {
			i = 0;
			json_object_foreach((json_t *)v, k, item)
				printf("%s%s:%s", i++ ? "," : "", k, field_text(item, buf, sizeof(buf)));
		} else if (json_is_array(v)) {
			json_array_foreach(v, i, item)
				printf("%s%s", i ? "," : "", field_text(item, buf, sizeof(buf)));
		} else {
			printf("%s", json_is_null(v) ? "unset" : field_text(v, buf, sizeof(buf)));
		}
	}
}

/* A field's value as text, saying what 0 means where it means something. */
static const char *event_value_text(const char *event, const char *key, const json_t *v,
				    char *buf, size_t size)
{
	bool zero = json_is_integer(v) && json_integer_value(v) == 0;

	if (zero && strcmp(key, "node") == 0 && strcmp(event, "resource-cleanup") == 0)
		return "all";		/* the failures on every node */
	if (zero && (strcmp(key, "target_node") == 0 || strcmp(key, "frozen_on") == 0))
		return "none";
	return field_text(v, buf, size);
}

/* When it happened: the event's time_ns, else (a decision record) its
 * time_ms; both CLOCK_REALTIME.  "-" when it carries neither. */
static const char *event_time_text(const json_t *ev, char *when, size_t size)
{
	json_t *t_ns = json_object_get(ev, "time_ns"), *t_ms = json_object_get(ev, "time_ms");
	int64_t ms;
	size_t n;

	if (json_is_integer(t_ns))
		ms = json_integer_value(t_ns) / 1000000;
	else if (json_is_integer(t_ms))
		ms = json_integer_value(t_ms);
	else
		return "-";
	wall_time_text(ms, when, size);
	n = strlen(when);
	snprintf(when + n, size - n, ".%03d", (int)(ms % 1000));
	return when;
}

/*
 * "2026-11-28 11:03:14.123 node-fenced node=3 incarnation=5 reason=timeout";
 * a policy is spelled out ("priority=10 prefer=2:100"), and "op" is left
 * out when the event is named after it (history's decision records).
 */
static void print_event(const json_t *ev)
{
	const char *event = json_string_value(json_object_get(ev, "event"));
	bool timed = json_is_integer(json_object_get(ev, "time_ns"));
	json_t *v;
	const char *key;
	char when[64] = "-", buf[256];

	printf("%s %s", event_time_text(ev, when, sizeof(when)),
	       get_text(ev, "event", buf, sizeof(buf)));
	json_object_foreach((json_t *)ev, key, v) {
		if (!strcmp(key, "event") || !strcmp(key, "time_ns") || !strcmp(key, "seq") ||
		    (!timed && !strcmp(key, "time_ms")) ||
		    (!strcmp(key, "op") && event && json_is_string(v) &&
		     !strcmp(json_string_value(v), event)))
			continue;
		if (!strcmp(key, "meta") && json_is_object(v)) {
			print_meta_pairs(v);
		} else if (json_is_string(v) && !plain_word(json_string_value(v))) {
			char *q = json_dumps(v, JSON_ENCODE_ANY);

			printf(" %s=%s", key, q ? q : "?");
			free(q);
		} else {
			printf(" %s=%s", key, event_value_text(event ? event : "", key, v, buf,
								 sizeof(buf)));
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
