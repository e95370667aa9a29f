// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * OCF resource agents (see ocf.h): one action as a child process on the
 * libuv loop, the meta-data read with libxml2, and the checks a resource
 * passes before it is added.
 *
 * An op owns four handles: the process, a pipe for each of stdout and
 * stderr, and one timer that is, in turn, the action's timeout, the grace
 * between SIGTERM and SIGKILL, and the wait for the pipes after the exit.
 * The op is done when the agent was reaped and both pipes reached EOF (or
 * the drain wait ran out); then done() runs, the handles close, and the
 * last close frees the op.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "ocf.h"

/* The only inherited-looking variable an agent gets: the daemon's own
 * environment may hold anything, so it is not passed on. */
#define OCF_ENV_PATH	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define OCF_RA_MAJOR	"1"
#define OCF_RA_MINOR	"1"
#define OCF_ENV_FIXED	10	/* variables besides the parameters, with the NULL */

#define READ_CHUNK	16384
#define TAIL_RING	2048	/* the last bytes of stdout+stderr, for the tail */
#define LISTING_MAX	4096	/* an error listing agents stops here */
#define OVERRIDE_MAX_MS	(24ull * 3600 * 1000)

/* ------------------------------------------------------------------ */
/* Names                                                                */

static const char *const rc_names[] = {
	[VCD_OCF_SUCCESS] = "OCF_SUCCESS",
	[VCD_OCF_ERR_GENERIC] = "OCF_ERR_GENERIC",
	[VCD_OCF_ERR_ARGS] = "OCF_ERR_ARGS",
	[VCD_OCF_ERR_UNIMPLEMENTED] = "OCF_ERR_UNIMPLEMENTED",
	[VCD_OCF_ERR_PERM] = "OCF_ERR_PERM",
	[VCD_OCF_ERR_INSTALLED] = "OCF_ERR_INSTALLED",
	[VCD_OCF_ERR_CONFIGURED] = "OCF_ERR_CONFIGURED",
	[VCD_OCF_NOT_RUNNING] = "OCF_NOT_RUNNING",
	[VCD_OCF_RUNNING_MASTER] = "OCF_RUNNING_MASTER",
	[VCD_OCF_FAILED_MASTER] = "OCF_FAILED_MASTER",
};

const char *vcd_ocf_rc_name(int rc)
{
	if (rc == -1)
		return "killed";
	if (rc >= 0 && (size_t)rc < sizeof(rc_names) / sizeof(rc_names[0]))
		return rc_names[rc];
	return "unknown";
}

static const char *const action_names[] = {
	[VCD_OCF_START] = "start",
	[VCD_OCF_STOP] = "stop",
	[VCD_OCF_MONITOR] = "monitor",
	[VCD_OCF_META_DATA] = "meta-data",
	[VCD_OCF_VALIDATE_ALL] = "validate-all",
};

const char *vcd_ocf_action_name(enum vcd_ocf_action a)
{
	if ((unsigned)a < sizeof(action_names) / sizeof(action_names[0]))
		return action_names[a];
	return "unknown";
}

/* ------------------------------------------------------------------ */
/* Agent names and durations                                            */

static bool part_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '+' || c == '-';
}

/* One part of ocf:PROVIDER:TYPE; it becomes a path component, hence the
 * strict character set (no '/', no leading '.', so no ".."). */
static int check_part(const char *what, const char *s, size_t n, size_t size,
		      char *why, size_t why_size)
{
	size_t i;

	if (n == 0) {
		snprintf(why, why_size, "the %s is empty (ocf:PROVIDER:TYPE, e.g. ocf:heartbeat:Dummy)",
			 what);
		return -EINVAL;
	}
	if (s[0] == '.') {
		snprintf(why, why_size, "the %s \"%.*s\" starts with '.'", what, (int)n, s);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (!part_char_ok(s[i])) {
			snprintf(why, why_size,
				 "the %s \"%.*s\" has the character '%c'; valid are letters, digits, '.', '_', '+' and '-'",
				 what, (int)n, s, s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
			return -EINVAL;
		}
	}
	if (n >= size) {
		snprintf(why, why_size, "the %s \"%.*s\" is longer than %zu characters",
			 what, (int)n, s, size - 1);
		return -EINVAL;
	}
	return 0;
}

int vcd_ocf_parse_agent(const char *spec, char *provider, size_t provider_size,
			char *type, size_t type_size, char *why, size_t why_size)
{
	const char *c1, *c2;
	int r;

	if (!spec || !spec[0]) {
		snprintf(why, why_size, "no agent given (ocf:PROVIDER:TYPE, e.g. ocf:heartbeat:Dummy)");
		return -EINVAL;
	}
	c1 = strchr(spec, ':');
	c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c2 || strchr(c2 + 1, ':')) {
		snprintf(why, why_size, "agent \"%s\" is not ocf:PROVIDER:TYPE (e.g. ocf:heartbeat:Dummy)",
			 spec);
		return -EINVAL;
	}
	if (c1 - spec != 3 || strncmp(spec, "ocf", 3) != 0) {
		snprintf(why, why_size,
			 "agent class \"%.*s\" is not supported: only ocf (ocf:PROVIDER:TYPE, e.g. ocf:heartbeat:Dummy)",
			 (int)(c1 - spec), spec);
		return -EINVAL;
	}
	r = check_part("provider", c1 + 1, c2 - c1 - 1, provider_size, why, why_size);
	if (r < 0)
		return r;
	r = check_part("agent type", c2 + 1, strlen(c2 + 1), type_size, why, why_size);
	if (r < 0)
		return r;
	memcpy(provider, c1 + 1, c2 - c1 - 1);
	provider[c2 - c1 - 1] = '\0';
	strcpy(type, c2 + 1);
	return 0;
}

static const struct {
	const char *name;
	uint64_t ms;
} duration_units[] = {
	{ "ms", 1 }, { "msec", 1 },
	{ "", 1000 }, { "s", 1000 }, { "sec", 1000 },
	{ "m", 60000 }, { "min", 60000 },
	{ "h", 3600000 }, { "hr", 3600000 },
};

int vcd_ocf_parse_duration_ms(const char *text, uint64_t *ret_ms, char *why, size_t why_size)
{
	const char *p = text, *unit;
	uint64_t n = 0;
	size_t unit_len, i;

	while (p && (*p == ' ' || *p == '\t'))
		p++;
	if (!p || *p < '0' || *p > '9') {
		snprintf(why, why_size,
			 "duration \"%s\" is not a whole number with a unit (e.g. 500ms, 20s, 20, 2min, 1h)",
			 text ? text : "");
		return -EINVAL;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - 9) / 10) {
			snprintf(why, why_size, "duration \"%s\" is too long", text);
			return -ERANGE;
		}
		n = n * 10 + (uint64_t)(*p - '0');
	}
	while (*p == ' ' || *p == '\t')
		p++;
	unit = p;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
		p++;
	unit_len = p - unit;
	while (*p == ' ' || *p == '\t')
		p++;
	for (i = 0; *p == '\0' && i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
		if (strlen(duration_units[i].name) != unit_len ||
		    strncasecmp(unit, duration_units[i].name, unit_len) != 0)
			continue;
		if (n > UINT64_MAX / duration_units[i].ms) {
			snprintf(why, why_size, "duration \"%s\" is too long", text);
			return -ERANGE;
		}
		*ret_ms = n * duration_units[i].ms;
		return 0;
	}
	snprintf(why, why_size,
		 "duration \"%s\": unknown unit; valid are ms, s (also no unit), min or m, h",
		 text);
	return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* Parameters as environment variables                                  */

/* An OCF_RESKEY_ suffix the shell can read, and not one the cluster
 * itself sets (CRM_meta_*). */
static bool param_name_ok(const char *name)
{
	const char *p;

	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
	      name[0] == '_'))
		return false;
	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return strncmp(name, "CRM_meta_", 9) != 0;
}

/* A parameter's value as the agent sees it: strings as they are, integers
 * in decimal, booleans "true"/"false".  NULL for anything else. */
static const char *param_text(const json_t *v, char *buf, size_t size)
{
	if (json_is_string(v)) {
		const char *s = json_string_value(v);

		/* An embedded NUL would silently cut the value. */
		return strlen(s) == json_string_length(v) ? s : NULL;
	}
	if (json_is_integer(v)) {
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	return NULL;
}

static void free_env(char **env)
{
	char **e;

	if (!env)
		return;
	for (e = env; *e; e++)
		free(*e);
	free(env);
}

static int env_add(char **env, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int env_add(char **env, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&env[*n], fmt, ap);
	va_end(ap);
	if (r < 0) {
		env[*n] = NULL;
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

static int build_env(const struct vcd_ocf_spec *spec, const char *root, enum vcd_ocf_action a,
		     uint32_t timeout_ms, uint32_t interval_ms, char ***ret)
{
	size_t n = 0, count = OCF_ENV_FIXED + (spec->params ? json_object_size(spec->params) : 0);
	char **env = calloc(count + 1, sizeof(*env));
	const char *key;
	json_t *v;
	int r = 0;

	if (!env)
		return -ENOMEM;
	r |= env_add(env, &n, "%s", OCF_ENV_PATH);
	r |= env_add(env, &n, "OCF_ROOT=%s", root);
	r |= env_add(env, &n, "OCF_RA_VERSION_MAJOR=%s", OCF_RA_MAJOR);
	r |= env_add(env, &n, "OCF_RA_VERSION_MINOR=%s", OCF_RA_MINOR);
	r |= env_add(env, &n, "OCF_RESOURCE_PROVIDER=%s", spec->provider);
	r |= env_add(env, &n, "OCF_RESOURCE_TYPE=%s", spec->type);
	if (spec->instance && spec->instance[0])
		r |= env_add(env, &n, "OCF_RESOURCE_INSTANCE=%s", spec->instance);
	r |= env_add(env, &n, "OCF_RESKEY_CRM_meta_timeout=%" PRIu32, timeout_ms);
	/* 0 for everything but a recurring monitor: ocf_is_probe() reads it. */
	r |= env_add(env, &n, "OCF_RESKEY_CRM_meta_interval=%" PRIu32,
		     a == VCD_OCF_MONITOR ? interval_ms : 0);
	if (r < 0)
		goto fail;
	json_object_foreach((json_t *)spec->params, key, v) {
		char num[32];
		const char *text = param_text(v, num, sizeof(num));

		if (!param_name_ok(key) || !text) {
			r = -EINVAL;
			goto fail;
		}
		r = env_add(env, &n, "OCF_RESKEY_%s=%s", key, text);
		if (r < 0)
			goto fail;
	}
	*ret = env;
	return 0;
fail:
	free_env(env);
	return r < 0 ? r : -ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Running an action                                                    */

struct vcd_ocf_op {
	uv_loop_t *loop;
	uv_process_t proc;
	uv_pipe_t out_pipe, err_pipe;
	uv_timer_t timer;
	unsigned open_handles;
	pid_t pgid;			/* the agent's pid: it leads its own group */
	bool out_open, err_open;	/* still reading */
	bool exited;
	bool finished;
	uint64_t start_ns;
	vcd_ocf_done_fn done;
	void *arg;
	struct vcd_ocf_result res;
	size_t out_cap;
	uint64_t ring_total;		/* bytes ever written to ring */
	char ring[TAIL_RING];
	char out_buf[READ_CHUNK];
	char err_buf[READ_CHUNK];
};

static char empty_output[1];

static void kill_group(struct vcd_ocf_op *op, int sig)
{
	/* ESRCH: the group is gone already, which is what was wanted. */
	if (op->pgid > 0)
		kill(-op->pgid, sig);
}

static void keep_output(struct vcd_ocf_op *op, const char *p, size_t n)
{
	size_t room = VCD_OCF_OUTPUT_MAX - op->res.output_len;

	if (n > room) {
		n = room;
		op->res.output_truncated = true;
	}
	if (op->res.output_len + n + 1 > op->out_cap) {
		size_t cap = op->out_cap ? op->out_cap : 4096;
		char *grown;

		while (cap < op->res.output_len + n + 1)
			cap *= 2;
		if (cap > VCD_OCF_OUTPUT_MAX + 1)
			cap = VCD_OCF_OUTPUT_MAX + 1;
		grown = realloc(op->res.output, cap);
		if (!grown) {
			op->res.output_truncated = true;
			return;
		}
		op->res.output = grown;
		op->out_cap = cap;
	}
	memcpy(op->res.output + op->res.output_len, p, n);
	op->res.output_len += n;
	op->res.output[op->res.output_len] = '\0';
}

static void ring_add(struct vcd_ocf_op *op, const char *p, size_t n)
{
	if (n > TAIL_RING) {
		op->ring_total += n - TAIL_RING;
		p += n - TAIL_RING;
		n = TAIL_RING;
	}
	while (n--)
		op->ring[op->ring_total++ % TAIL_RING] = *p++;
}

/* Length of the valid UTF-8 sequence at @s (at most @n bytes), 0 if none:
 * the tail goes into JSON, which takes nothing else. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return len;
}

/* The last whole lines that fit res.tail, made printable. */
static void build_tail(struct vcd_ocf_op *op)
{
	unsigned char buf[TAIL_RING];
	size_t n = op->ring_total < TAIL_RING ? op->ring_total : TAIL_RING;
	size_t i, start, out = 0;
	bool cut;

	for (i = 0; i < n; i++)
		buf[i] = op->ring[(op->ring_total - n + i) % TAIL_RING];
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
			 buf[n - 1] == '\t'))
		n--;
	cut = op->ring_total > TAIL_RING;
	start = 0;
	if (n > VCD_OCF_TAIL_LEN - 1) {
		start = n - (VCD_OCF_TAIL_LEN - 1);
		cut = true;
	}
	if (cut) {
		/* Begin at a line when a line begins in the window. */
		for (i = start; i < n && buf[i] != '\n'; i++)
			;
		if (i < n)
			start = i + 1;
	}
	for (i = start; i < n;) {
		size_t len = utf8_len(buf + i, n - i);

		if (len == 0) {
			op->res.tail[out++] = '?';
			i++;
		} else if (len == 1) {
			unsigned char c = buf[i++];

			op->res.tail[out++] = c == '\n' ? '\n' : (c < 0x20 || c == 0x7f) ? ' ' : c;
		} else {
			memcpy(op->res.tail + out, buf + i, len);
			out += len;
			i += len;
		}
	}
	op->res.tail[out] = '\0';
}

static void op_handle_closed(uv_handle_t *h)
{
	struct vcd_ocf_op *op = h->data;

	if (--op->open_handles > 0)
		return;
	free(op->res.output);
	free(op);
}

static void op_close_handles(struct vcd_ocf_op *op)
{
	uv_close((uv_handle_t *)&op->timer, op_handle_closed);
	uv_close((uv_handle_t *)&op->out_pipe, op_handle_closed);
	uv_close((uv_handle_t *)&op->err_pipe, op_handle_closed);
	uv_close((uv_handle_t *)&op->proc, op_handle_closed);
}

static void stop_reading(struct vcd_ocf_op *op, uv_pipe_t *p)
{
	bool *open = p == &op->out_pipe ? &op->out_open : &op->err_open;

	if (*open)
		uv_read_stop((uv_stream_t *)p);
	*open = false;
}

static void op_finish(struct vcd_ocf_op *op)
{
	if (op->finished)
		return;
	op->finished = true;
	uv_timer_stop(&op->timer);
	stop_reading(op, &op->out_pipe);
	stop_reading(op, &op->err_pipe);
	if (op->res.timed_out || op->res.cancelled)
		op->res.rc = -1;
	build_tail(op);
	if (!op->res.output)
		op->res.output = empty_output;
	op->done(op->arg, &op->res);
	if (op->res.output == empty_output)
		op->res.output = NULL;
	op_close_handles(op);
}

static void op_maybe_finish(struct vcd_ocf_op *op)
{
	if (op->exited && !op->out_open && !op->err_open)
		op_finish(op);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct vcd_ocf_op *op = h->data;

	(void)suggested;
	buf->base = h == (uv_handle_t *)&op->out_pipe ? op->out_buf : op->err_buf;
	buf->len = READ_CHUNK;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct vcd_ocf_op *op = s->data;

	if (n > 0) {
		if (s == (uv_stream_t *)&op->out_pipe)
			keep_output(op, buf->base, (size_t)n);
		ring_add(op, buf->base, (size_t)n);
		return;
	}
	if (n == 0)
		return;
	/* EOF, or an error that ends this stream all the same. */
	stop_reading(op, (uv_pipe_t *)s);
	op_maybe_finish(op);
}

static void on_drained(uv_timer_t *t)
{
	op_finish(t->data);
}

static void on_kill_grace(uv_timer_t *t)
{
	kill_group(t->data, SIGKILL);
}

static void on_timeout(uv_timer_t *t)
{
	struct vcd_ocf_op *op = t->data;

	op->res.timed_out = true;
	kill_group(op, SIGTERM);
	uv_timer_start(&op->timer, on_kill_grace, VCD_OCF_KILL_GRACE_MS, 0);
}

static void agent_exited(uv_process_t *p, int64_t status, int signo)
{
	struct vcd_ocf_op *op = p->data;

	op->exited = true;
	op->res.took_ns = uv_hrtime() - op->start_ns;
	op->res.term_signal = signo;
	op->res.rc = signo ? -1 : (int)status;
	/* Given up on: whatever the agent left in its group goes with it. */
	if (op->res.timed_out || op->res.cancelled)
		kill_group(op, SIGKILL);
	uv_timer_stop(&op->timer);
	if (op->out_open || op->err_open)
		uv_timer_start(&op->timer, on_drained, VCD_OCF_DRAIN_MS, 0);
	else
		op_finish(op);
}

static int op_spawn(struct vcd_ocf_op *op, const char *path, const char *action, char **env)
{
	uv_stdio_container_t stdio[3] = {
		{ .flags = UV_IGNORE },		/* libuv opens /dev/null */
		{ .flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
		  .data.stream = (uv_stream_t *)&op->out_pipe },
		{ .flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
		  .data.stream = (uv_stream_t *)&op->err_pipe },
	};
	char *argv[] = { (char *)path, (char *)action, NULL };
	uv_process_options_t po;
	int r;

	memset(&po, 0, sizeof(po));
	po.file = path;
	po.args = argv;
	po.env = env;
	po.exit_cb = agent_exited;
	po.stdio = stdio;
	po.stdio_count = 3;
	/* setsid(): its own session and process group, to kill as a whole,
	 * and no controlling terminal. */
	po.flags = UV_PROCESS_DETACHED;
	r = uv_spawn(op->loop, &op->proc, &po);
	/* A failed uv_spawn has initialised the handle all the same. */
	op->open_handles++;
	return r;
}

static int check_spec(const struct vcd_ocf_spec *spec, enum vcd_ocf_action a)
{
	char why[160];

	if (!spec || !spec->provider || !spec->type ||
	    check_part("provider", spec->provider, strlen(spec->provider), VCD_OCF_NAME_LEN,
		       why, sizeof(why)) < 0 ||
	    check_part("type", spec->type, strlen(spec->type), VCD_OCF_NAME_LEN,
		       why, sizeof(why)) < 0)
		return -EINVAL;
	if ((unsigned)a > VCD_OCF_VALIDATE_ALL)
		return -EINVAL;
	if (a != VCD_OCF_META_DATA && (!spec->instance || !spec->instance[0]))
		return -EINVAL;
	if (spec->params && !json_is_object(spec->params))
		return -EINVAL;
	return 0;
}

int vcd_ocf_run(uv_loop_t *loop, const struct vcd_ocf_spec *spec, enum vcd_ocf_action a,
		uint32_t timeout_ms, uint32_t interval_ms, vcd_ocf_done_fn done, void *arg,
		struct vcd_ocf_op **ret)
{
	const char *root;
	struct vcd_ocf_op *op;
	char *path = NULL, **env = NULL;
	int r;

	if (!loop || !done)
		return -EINVAL;
	r = check_spec(spec, a);
	if (r < 0)
		return r;
	if (timeout_ms == 0)
		timeout_ms = VCD_OCF_DEFAULT_TIMEOUT_MS;
	root = spec->ocf_root && spec->ocf_root[0] ? spec->ocf_root : VCD_OCF_ROOT_DEFAULT;
	if (asprintf(&path, "%s/resource.d/%s/%s", root, spec->provider, spec->type) < 0)
		return -ENOMEM;
	r = build_env(spec, root, a, timeout_ms, interval_ms, &env);
	if (r < 0)
		goto out;
	op = calloc(1, sizeof(*op));
	if (!op) {
		r = -ENOMEM;
		goto out;
	}
	op->loop = loop;
	op->done = done;
	op->arg = arg;
	uv_pipe_init(loop, &op->out_pipe, 0);
	uv_pipe_init(loop, &op->err_pipe, 0);
	uv_timer_init(loop, &op->timer);
	op->open_handles = 3;
	op->out_pipe.data = op->err_pipe.data = op->timer.data = op->proc.data = op;
	r = op_spawn(op, path, vcd_ocf_action_name(a), env);
	if (r < 0) {
		/* Nothing ran: close quietly, done() is never called. */
		op->finished = true;
		op_close_handles(op);
		goto out;
	}
	op->start_ns = uv_hrtime();
	op->pgid = op->proc.pid;
	op->out_open = uv_read_start((uv_stream_t *)&op->out_pipe, on_alloc, on_read) == 0;
	op->err_open = uv_read_start((uv_stream_t *)&op->err_pipe, on_alloc, on_read) == 0;
	uv_timer_start(&op->timer, on_timeout, timeout_ms, 0);
	if (ret)
		*ret = op;
out:
	free(path);
	free_env(env);
	return r;
}

void vcd_ocf_cancel(struct vcd_ocf_op *op)
{
	if (!op || op->finished || op->res.cancelled)
		return;
	op->res.cancelled = true;
	if (!op->exited) {
		kill_group(op, SIGKILL);
		return;
	}
	/* Exited, waiting for its pipes: stop waiting (on the next turn, so
	 * that done() never runs inside the caller's cancel). */
	uv_timer_stop(&op->timer);
	uv_timer_start(&op->timer, on_drained, 0, 0);
}

/* ------------------------------------------------------------------ */
/* Meta-data                                                            */

static bool is_element(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static xmlNode *first_child(xmlNode *parent, const char *name)
{
	xmlNode *n;

	for (n = parent->children; n; n = n->next)
		if (is_element(n, name))
			return n;
	return NULL;
}

/* Text with its runs of white space made one space, trimmed. */
static char *squeeze(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;
	bool space = false;

	if (!out)
		return NULL;
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
			space = o != out;
			continue;
		}
		if (space)
			*o++ = ' ';
		space = false;
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

/* A copy of the string attribute @name into @obj[@key], when present. */
static void set_prop_string(json_t *obj, const char *key, xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);

	if (v)
		json_object_set_new(obj, key, json_string((const char *)v));
	xmlFree(v);
}

static void set_shortdesc(json_t *obj, xmlNode *n)
{
	xmlNode *d = first_child(n, "shortdesc");
	xmlChar *text;
	char *s;

	if (!d)
		return;
	text = xmlNodeGetContent(d);
	s = text ? squeeze((const char *)text) : NULL;
	if (s && s[0])
		json_object_set_new(obj, "shortdesc", json_string(s));
	free(s);
	xmlFree(text);
}

static int flag_prop(xmlNode *n, const char *pname, const char *name, bool *ret,
		     char *why, size_t why_size)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	const char *s = (const char *)v;
	int r = 0;

	*ret = false;
	if (!v)
		return 0;
	if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes"))
		*ret = true;
	else if (strcmp(s, "0") && strcasecmp(s, "false") && strcasecmp(s, "no") && s[0]) {
		snprintf(why, why_size, "parameter \"%s\": %s=\"%s\" is not 0 or 1", pname, name, s);
		r = -EINVAL;
	}
	xmlFree(v);
	return r;
}

static int parse_content(json_t *p, xmlNode *content)
{
	json_t *options;
	xmlNode *o;

	if (!content) {
		json_object_set_new(p, "type", json_string("string"));
		return 0;
	}
	set_prop_string(p, "type", content, "type");
	if (!json_object_get(p, "type"))
		json_object_set_new(p, "type", json_string("string"));
	set_prop_string(p, "default", content, "default");
	if (strcmp(json_string_value(json_object_get(p, "type")), "select"))
		return 0;
	options = json_array();
	for (o = content->children; o; o = o->next) {
		xmlChar *v = is_element(o, "option") ? xmlGetProp(o, (const xmlChar *)"value") : NULL;

		if (v)
			json_array_append_new(options, json_string((const char *)v));
		xmlFree(v);
	}
	json_object_set_new(p, "options", options);
	return 0;
}

static int parse_parameter(json_t *params, xmlNode *n, unsigned index, char *why, size_t why_size)
{
	xmlChar *name = xmlGetProp(n, (const xmlChar *)"name");
	const char *pname = (const char *)name;
	bool required, unique;
	json_t *p = NULL;
	int r;

	if (!name || !name[0]) {
		snprintf(why, why_size, "<parameter> number %u has no name", index);
		r = -EINVAL;
		goto out;
	}
	if (json_object_get(params, pname)) {
		snprintf(why, why_size, "parameter \"%s\" is declared twice", pname);
		r = -EINVAL;
		goto out;
	}
	r = flag_prop(n, pname, "required", &required, why, why_size);
	if (r == 0)
		r = flag_prop(n, pname, "unique", &unique, why, why_size);
	if (r < 0)
		goto out;
	p = json_pack("{s:b,s:b}", "required", required, "unique", unique);
	if (!p) {
		r = -ENOMEM;
		goto out;
	}
	parse_content(p, first_child(n, "content"));
	set_shortdesc(p, n);
	json_object_set_new(params, pname, p);
out:
	xmlFree(name);
	return r;
}

static int duration_prop(xmlNode *n, const char *aname, const char *name, json_t *obj,
			 const char *key, char *why, size_t why_size)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char sub[160];
	uint64_t ms;
	int r = 0;

	if (!v)
		return 0;
	r = vcd_ocf_parse_duration_ms((const char *)v, &ms, sub, sizeof(sub));
	if (r < 0)
		snprintf(why, why_size, "action \"%s\": %s: %s", aname, name, sub);
	else
		json_object_set_new(obj, key, json_integer((json_int_t)ms));
	xmlFree(v);
	return r;
}

/* The actions with no role first, then those with one (a promotable
 * agent's monitor per role) where no plain one came. */
static int parse_actions(json_t *actions, xmlNode *list, char *why, size_t why_size)
{
	int pass;
	xmlNode *n;

	for (pass = 0; pass < 2; pass++) {
		for (n = list->children; n; n = n->next) {
			xmlChar *name, *role;
			json_t *a;
			int r = 0;

			if (!is_element(n, "action"))
				continue;
			role = xmlGetProp(n, (const xmlChar *)"role");
			name = xmlGetProp(n, (const xmlChar *)"name");
			xmlFree(role);
			if (!name || !name[0]) {
				snprintf(why, why_size, "an <action> has no name");
				xmlFree(name);
				return -EINVAL;
			}
			if ((pass == 0) == (role != NULL) ||
			    json_object_get(actions, (const char *)name)) {
				xmlFree(name);
				continue;
			}
			a = json_object();
			r = duration_prop(n, (const char *)name, "timeout", a, "timeout_ms",
					  why, why_size);
			if (r == 0)
				r = duration_prop(n, (const char *)name, "interval", a,
						  "interval_ms", why, why_size);
			if (r == 0)
				json_object_set_new(actions, (const char *)name, a);
			else
				json_decref(a);
			xmlFree(name);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int meta_from_doc(xmlDoc *doc, json_t *out, char *why, size_t why_size)
{
	xmlNode *root = xmlDocGetRootElement(doc), *list, *n;
	json_t *params = json_object(), *actions = json_object();
	unsigned index = 0;
	int r = 0;

	json_object_set_new(out, "parameters", params);
	json_object_set_new(out, "actions", actions);
	if (!root || !is_element(root, "resource-agent")) {
		snprintf(why, why_size,
			 "the meta-data's root element is <%s>, not <resource-agent>: not an OCF resource agent's meta-data",
			 root ? (const char *)root->name : "");
		return -EINVAL;
	}
	set_prop_string(out, "name", root, "name");
	set_shortdesc(out, root);
	list = first_child(root, "parameters");
	for (n = list ? list->children : NULL; n && r == 0; n = n->next)
		if (is_element(n, "parameter"))
			r = parse_parameter(params, n, ++index, why, why_size);
	if (r < 0)
		return r;
	list = first_child(root, "actions");
	if (!list) {
		snprintf(why, why_size, "the meta-data has no <actions> (every OCF agent lists its actions)");
		return -EINVAL;
	}
	return parse_actions(actions, list, why, why_size);
}

int vcd_ocf_meta_parse(const char *xml, size_t len, json_t **ret, char *why, size_t why_size)
{
	xmlParserCtxt *ctxt;
	xmlDoc *doc;
	json_t *out;
	int r;

	if (!xml || len == 0) {
		snprintf(why, why_size, "the meta-data is empty (the agent printed nothing)");
		return -EINVAL;
	}
	if (len > INT_MAX) {
		snprintf(why, why_size, "the meta-data is too large (%zu bytes)", len);
		return -EINVAL;
	}
	xmlInitParser();
	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return -ENOMEM;
	/* No network, no external DTD (agents name "ra-api-1.dtd"), no
	 * messages on our stderr: the error is read back below. */
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, "meta-data", NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		char msg[200] = "unknown error";

		if (e && e->message) {
			snprintf(msg, sizeof(msg), "%s", e->message);
			msg[strcspn(msg, "\n")] = '\0';
		}
		snprintf(why, why_size, "the meta-data is not XML: line %d: %s",
			 e ? e->line : 0, msg);
		xmlFreeParserCtxt(ctxt);
		return -EINVAL;
	}
	out = json_object();
	r = out ? meta_from_doc(doc, out, why, why_size) : -ENOMEM;
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	if (r < 0) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parameters against the meta-data                                     */

/* A value as an error message quotes it. */
static void describe(const json_t *v, char *buf, size_t size)
{
	char *dump;

	if (json_is_object(v) || json_is_array(v)) {
		snprintf(buf, size, "%s", json_is_object(v) ? "an object" : "an array");
		return;
	}
	dump = json_dumps(v, JSON_ENCODE_ANY);
	snprintf(buf, size, "%s", dump ? dump : "?");
	free(dump);
}

static bool integer_text(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static bool boolean_ok(const json_t *v)
{
	static const char *const words[] = { "true", "false", "yes", "no", "on", "off", "1", "0" };
	size_t i;

	if (json_is_boolean(v))
		return true;
	if (json_is_integer(v))
		return json_integer_value(v) == 0 || json_integer_value(v) == 1;
	if (!json_is_string(v))
		return false;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcasecmp(json_string_value(v), words[i]))
			return true;
	return false;
}

static bool option_ok(const json_t *def, const char *text)
{
	const json_t *o;
	size_t i;

	json_array_foreach(json_object_get(def, "options"), i, o)
		if (json_is_string(o) && !strcmp(json_string_value(o), text))
			return true;
	return false;
}

static void join_options(const json_t *def, char *buf, size_t size)
{
	const json_t *o;
	size_t i, used = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(def, "options"), i, o) {
		int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
				 json_string_value(o) ? json_string_value(o) : "");

		if (n < 0 || (size_t)n >= size - used)
			break;
		used += n;
	}
}

static int check_value(const char *name, const json_t *def, const json_t *v,
		       char *why, size_t why_size)
{
	const char *type = json_string_value(json_object_get(def, "type"));
	char num[32], shown[128], list[512];
	const char *text = param_text(v, num, sizeof(num));

	describe(v, shown, sizeof(shown));
	if (!text) {
		snprintf(why, why_size,
			 "parameter \"%s\" must be a string, an integer or a boolean, not %s",
			 name, shown);
		return -EINVAL;
	}
	if (!type)
		return 0;
	if (!strcmp(type, "integer") && !json_is_integer(v) &&
	    !(json_is_string(v) && integer_text(text))) {
		snprintf(why, why_size, "parameter \"%s\" must be an integer, not %s", name, shown);
		return -EINVAL;
	}
	if (!strcmp(type, "boolean") && !boolean_ok(v)) {
		snprintf(why, why_size,
			 "parameter \"%s\" must be a boolean (true, false, yes, no, on, off, 1, 0), not %s",
			 name, shown);
		return -EINVAL;
	}
	if (!strcmp(type, "select") && json_object_get(def, "options") && !option_ok(def, text)) {
		join_options(def, list, sizeof(list));
		snprintf(why, why_size, "parameter \"%s\" must be one of: %s; not %s",
			 name, list, shown);
		return -EINVAL;
	}
	return 0;
}

/* "a, b, c" of the object's keys for which @pick says yes. */
static void join_keys(const json_t *obj, bool (*pick)(const json_t *def, const json_t *given),
		      const json_t *given, char *buf, size_t size)
{
	const char *key;
	json_t *def;
	size_t used = 0;

	buf[0] = '\0';
	json_object_foreach((json_t *)obj, key, def) {
		int n;

		if (pick && !pick(def, json_object_get(given, key)))
			continue;
		n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", key);
		if (n < 0 || (size_t)n >= size - used) {
			if (size > 4)
				strcpy(buf + size - 4, "...");
			return;
		}
		used += n;
	}
}

static bool missing_required(const json_t *def, const json_t *given)
{
	return json_is_true(json_object_get(def, "required")) && !given;
}

int vcd_ocf_check_params(const json_t *meta, const json_t *params, char *why, size_t why_size)
{
	const json_t *defs = json_object_get(meta, "parameters");
	char list[1024];
	const char *key;
	json_t *v;
	int r;

	if (!json_is_object(defs)) {
		snprintf(why, why_size, "the agent's meta-data has no parameters object");
		return -EINVAL;
	}
	if (params && !json_is_object(params)) {
		snprintf(why, why_size, "the parameters must be a JSON object of name: value");
		return -EINVAL;
	}
	json_object_foreach((json_t *)params, key, v) {
		const json_t *def = json_object_get(defs, key);

		if (!def) {
			join_keys(defs, NULL, NULL, list, sizeof(list));
			if (list[0])
				snprintf(why, why_size, "unknown parameter \"%s\"; the agent's parameters are: %s",
					 key, list);
			else
				snprintf(why, why_size, "unknown parameter \"%s\"; the agent takes no parameters",
					 key);
			return -EINVAL;
		}
		r = check_value(key, def, v, why, why_size);
		if (r < 0)
			return r;
	}
	join_keys(defs, missing_required, params, list, sizeof(list));
	if (list[0]) {
		snprintf(why, why_size, "required parameter%s missing: %s",
			 strchr(list, ',') ? "s" : "", list);
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Validation at resource add                                           */

struct validate {
	uv_loop_t *loop;
	uv_timer_t report;		/* the answer goes out on a later turn */
	char *root, *name, *agent;
	char provider[VCD_OCF_NAME_LEN], type[VCD_OCF_NAME_LEN];
	json_t *params;
	uint64_t start_ms, stop_ms, monitor_ms, interval_ms;	/* 0: from the meta-data */
	json_t *meta;
	vcd_ocf_validate_fn cb;
	void *arg;
	int err;
	char *msg;
	json_t *definition;
};

static void validate_closed(uv_handle_t *h)
{
	struct validate *v = h->data;

	free(v->root);
	free(v->name);
	free(v->agent);
	json_decref(v->params);
	json_decref(v->meta);
	json_decref(v->definition);
	free(v->msg);
	free(v);
}

static void validate_report(uv_timer_t *t)
{
	struct validate *v = t->data;
	json_t *def = v->definition;

	v->definition = NULL;
	v->cb(v->arg, v->err, v->msg ? v->msg : "", v->err ? NULL : def);
	if (v->err)
		json_decref(def);
	uv_close((uv_handle_t *)&v->report, validate_closed);
}

static void validate_end(struct validate *v, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void validate_end(struct validate *v, int err, const char *fmt, ...)
{
	va_list ap;

	v->err = err;
	free(v->msg);
	v->msg = NULL;
	va_start(ap, fmt);
	if (vasprintf(&v->msg, fmt, ap) < 0)
		v->msg = NULL;
	va_end(ap);
	uv_timer_start(&v->report, validate_report, 0, 0);
}

/* ", "-separated names in @dir (no hidden ones; @dirs_only: directories),
 * sorted; "" when none or unreadable.  The caller frees. */
static char *list_dir(const char *dir, bool dirs_only)
{
	struct dirent **ents = NULL;
	char *out = calloc(1, LISTING_MAX);
	size_t used = 0;
	int n, i;

	if (!out)
		return NULL;
	n = scandir(dir, &ents, NULL, alphasort);
	for (i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		int w;

		if (name[0] == '.' || (dirs_only && ents[i]->d_type != DT_DIR &&
				       ents[i]->d_type != DT_LNK && ents[i]->d_type != DT_UNKNOWN))
			continue;
		w = snprintf(out + used, LISTING_MAX - used, "%s%s", used ? ", " : "", name);
		if (w < 0 || (size_t)w >= LISTING_MAX - used) {
			strcpy(out + LISTING_MAX - 6, ", ...");
			break;
		}
		used += w;
	}
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return out;
}

/* An agent in @dir named like @type but for case: the usual typo. */
static bool near_name(const char *dir, const char *type, char *buf, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while ((e = readdir(d)))
		if (!strcasecmp(e->d_name, type) && strlen(e->d_name) < size) {
			strcpy(buf, e->d_name);
			found = true;
			break;
		}
	closedir(d);
	return found;
}

/*
 * The agent file exists and may be run.  Local directory reads: quick,
 * and done on the loop like the stat before any spawn.
 */
static int check_agent_file(struct validate *v)
{
	char *rd = NULL, *pdir = NULL, *path = NULL, *list = NULL;
	char near[VCD_OCF_NAME_LEN];
	struct stat st;
	int r = 0;

	if (asprintf(&rd, "%s/resource.d", v->root) < 0 ||
	    asprintf(&pdir, "%s/%s", rd, v->provider) < 0 ||
	    asprintf(&path, "%s/%s", pdir, v->type) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if (stat(rd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		validate_end(v, -ENOENT, "no OCF agents here: %s is not a directory (is resource-agents installed?)",
			     rd);
		r = -ENOENT;
	} else if (stat(pdir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		list = list_dir(rd, true);
		validate_end(v, -ENOENT, "no OCF provider \"%s\" in %s; the providers are: %s",
			     v->provider, rd, list && list[0] ? list : "(none)");
		r = -ENOENT;
	} else if (stat(path, &st) < 0) {
		list = list_dir(pdir, false);
		if (near_name(pdir, v->type, near, sizeof(near)))
			validate_end(v, -ENOENT, "no agent %s (%s); did you mean ocf:%s:%s?",
				     v->agent, path, v->provider, near);
		else
			validate_end(v, -ENOENT, "no agent %s (%s); the agents of provider %s are: %s",
				     v->agent, path, v->provider, list && list[0] ? list : "(none)");
		r = -ENOENT;
	} else if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0) {
		validate_end(v, -EACCES, "agent %s (%s) is not an executable file", v->agent, path);
		r = -EACCES;
	}
out:
	free(rd);
	free(pdir);
	free(path);
	free(list);
	return r;
}

static const char *const override_keys[] = {
	"start_ms", "stop_ms", "monitor_ms", "monitor_interval_ms",
};

static uint64_t *override_slot(struct validate *v, size_t i)
{
	uint64_t *slots[] = { &v->start_ms, &v->stop_ms, &v->monitor_ms, &v->interval_ms };

	return slots[i];
}

static int parse_override(struct validate *v, const char *key, const json_t *val)
{
	char why[200];
	uint64_t ms = 0;
	size_t i;

	for (i = 0; i < sizeof(override_keys) / sizeof(override_keys[0]); i++)
		if (!strcmp(key, override_keys[i]))
			break;
	if (i == sizeof(override_keys) / sizeof(override_keys[0])) {
		validate_end(v, -EINVAL,
			     "unknown operation setting \"%s\"; valid are start_ms, stop_ms, monitor_ms, monitor_interval_ms",
			     key);
		return -EINVAL;
	}
	if (json_is_integer(val) && json_integer_value(val) > 0) {
		ms = (uint64_t)json_integer_value(val);
	} else if (json_is_string(val)) {
		if (vcd_ocf_parse_duration_ms(json_string_value(val), &ms, why, sizeof(why)) < 0) {
			validate_end(v, -EINVAL, "%s: %s", key, why);
			return -EINVAL;
		}
	}
	if (ms == 0 || ms > OVERRIDE_MAX_MS) {
		validate_end(v, -EINVAL, "%s must be a duration from 1 ms to 24 h (ms, or e.g. \"20s\")",
			     key);
		return -EINVAL;
	}
	*override_slot(v, i) = ms;
	return 0;
}

static int parse_overrides(struct validate *v, const json_t *o)
{
	const char *key;
	json_t *val;
	int r;

	if (!o)
		return 0;
	if (!json_is_object(o)) {
		validate_end(v, -EINVAL, "the operation settings must be a JSON object");
		return -EINVAL;
	}
	json_object_foreach((json_t *)o, key, val) {
		r = parse_override(v, key, val);
		if (r < 0)
			return r;
	}
	return 0;
}

static uint64_t action_ms(const struct validate *v, const char *action, const char *key)
{
	json_int_t ms = json_integer_value(
		json_object_get(json_object_get(json_object_get(v->meta, "actions"), action), key));

	return ms > 0 ? (uint64_t)ms : 0;
}

static uint64_t pick_ms(uint64_t override, uint64_t from_meta, uint64_t fallback)
{
	return override ? override : from_meta ? from_meta : fallback;
}

static void validate_succeed(struct validate *v, const char *remark)
{
	uint64_t start_ms = pick_ms(v->start_ms, action_ms(v, "start", "timeout_ms"),
				    VCD_OCF_DEFAULT_TIMEOUT_MS);
	uint64_t stop_ms = pick_ms(v->stop_ms, action_ms(v, "stop", "timeout_ms"),
				   VCD_OCF_DEFAULT_TIMEOUT_MS);
	uint64_t monitor_ms = pick_ms(v->monitor_ms, action_ms(v, "monitor", "timeout_ms"),
				      VCD_OCF_DEFAULT_TIMEOUT_MS);
	/* An agent's interval 0 means it does not say: monitor anyway. */
	uint64_t interval_ms = pick_ms(v->interval_ms, action_ms(v, "monitor", "interval_ms"),
				       VCD_OCF_DEFAULT_INTERVAL_MS);

	v->definition = json_pack("{s:s,s:s,s:s,s:O,s:{s:I,s:I,s:I},s:I,s:i,s:i}",
				  "agent", v->agent, "provider", v->provider, "type", v->type,
				  "params", v->params,
				  "timeouts", "start_ms", (json_int_t)start_ms,
				  "stop_ms", (json_int_t)stop_ms, "monitor_ms", (json_int_t)monitor_ms,
				  "monitor_interval_ms", (json_int_t)interval_ms,
				  "memory_kib", 0, "vcpus", 0);
	if (!v->definition)
		validate_end(v, -ENOMEM, "out of memory building the definition");
	else
		validate_end(v, 0, "%s", remark);
}

/* validate-all's refusal as an errno: a configuration the operator fixes,
 * a missing program, a permission, or anything else. */
static int validate_errno(int rc)
{
	switch (rc) {
	case VCD_OCF_ERR_ARGS:
	case VCD_OCF_ERR_CONFIGURED:
		return -EINVAL;
	case VCD_OCF_ERR_INSTALLED:
		return -ENOPKG;
	case VCD_OCF_ERR_PERM:
		return -EPERM;
	default:
		return -EIO;
	}
}

static void validate_all_done(void *arg, const struct vcd_ocf_result *res)
{
	struct validate *v = arg;

	if (res->timed_out)
		validate_end(v, -ETIMEDOUT, "validate-all of %s for \"%s\" did not finish within %" PRIu64 " ms%s%s",
			     v->agent, v->name, pick_ms(0, action_ms(v, "validate-all", "timeout_ms"),
							VCD_OCF_DEFAULT_TIMEOUT_MS),
			     res->tail[0] ? ": " : "", res->tail);
	else if (res->rc == VCD_OCF_SUCCESS)
		validate_succeed(v, "");
	else if (res->rc == VCD_OCF_ERR_UNIMPLEMENTED)
		validate_succeed(v, "the agent does not implement validate-all: the parameters were checked against its meta-data only");
	else if (res->rc < 0)
		validate_end(v, -EIO, "validate-all of %s for \"%s\" was killed by signal %d%s%s",
			     v->agent, v->name, res->term_signal, res->tail[0] ? ": " : "",
			     res->tail);
	else
		validate_end(v, validate_errno(res->rc),
			     "validate-all of %s for \"%s\" failed with %s (%d)%s%s",
			     v->agent, v->name, vcd_ocf_rc_name(res->rc), res->rc,
			     res->tail[0] ? ": " : "", res->tail);
}

static void run_validate_all(struct validate *v)
{
	const json_t *actions = json_object_get(v->meta, "actions");
	struct vcd_ocf_spec spec = {
		.ocf_root = v->root, .provider = v->provider, .type = v->type,
		.instance = v->name, .params = v->params,
	};
	uint64_t timeout_ms = pick_ms(0, action_ms(v, "validate-all", "timeout_ms"),
				      pick_ms(0, action_ms(v, "start", "timeout_ms"),
					      VCD_OCF_DEFAULT_TIMEOUT_MS));
	int r;

	if (json_object_size(actions) && !json_object_get(actions, "validate-all")) {
		validate_succeed(v, "the agent has no validate-all action: the parameters were checked against its meta-data only");
		return;
	}
	if (timeout_ms > UINT32_MAX)
		timeout_ms = UINT32_MAX;
	r = vcd_ocf_run(v->loop, &spec, VCD_OCF_VALIDATE_ALL, (uint32_t)timeout_ms, 0,
			validate_all_done, v, NULL);
	if (r < 0)
		validate_end(v, r, "cannot run validate-all of %s: %s", v->agent, strerror(-r));
}

static void meta_done(void *arg, const struct vcd_ocf_result *res)
{
	struct validate *v = arg;
	char why[1500];

	if (res->timed_out) {
		validate_end(v, -ETIMEDOUT, "meta-data of %s did not finish within %u ms%s%s",
			     v->agent, VCD_OCF_META_TIMEOUT_MS, res->tail[0] ? ": " : "", res->tail);
		return;
	}
	if (res->rc != VCD_OCF_SUCCESS) {
		validate_end(v, -EIO, "meta-data of %s failed with %s (%d)%s%s", v->agent,
			     vcd_ocf_rc_name(res->rc), res->rc, res->tail[0] ? ": " : "", res->tail);
		return;
	}
	if (res->output_truncated) {
		validate_end(v, -EINVAL, "meta-data of %s is larger than %u bytes", v->agent,
			     VCD_OCF_OUTPUT_MAX);
		return;
	}
	if (vcd_ocf_meta_parse(res->output, res->output_len, &v->meta, why, sizeof(why)) < 0) {
		validate_end(v, -EINVAL, "%s: %s", v->agent, why);
		return;
	}
	if (vcd_ocf_check_params(v->meta, v->params, why, sizeof(why)) < 0) {
		validate_end(v, -EINVAL, "%s: %s", v->agent, why);
		return;
	}
	run_validate_all(v);
}

/* Everything that needs no agent run; 0 or the end already reported. */
static int validate_prepare(struct validate *v, const char *name, const char *agent,
			    const json_t *params, const json_t *op_overrides)
{
	char why[256];
	int r;

	r = vcd_ocf_parse_agent(agent, v->provider, sizeof(v->provider), v->type,
				sizeof(v->type), why, sizeof(why));
	if (r < 0) {
		validate_end(v, r, "%s", why);
		return r;
	}
	if (!name || !name[0]) {
		validate_end(v, -EINVAL, "the resource has no name");
		return -EINVAL;
	}
	if (params && !json_is_object(params)) {
		validate_end(v, -EINVAL, "the parameters must be a JSON object of name: value");
		return -EINVAL;
	}
	r = parse_overrides(v, op_overrides);
	if (r < 0)
		return r;
	v->name = strdup(name);
	v->params = params ? json_deep_copy(params) : json_object();
	if (asprintf(&v->agent, "ocf:%s:%s", v->provider, v->type) < 0)
		v->agent = NULL;
	if (!v->name || !v->params || !v->agent) {
		validate_end(v, -ENOMEM, "out of memory");
		return -ENOMEM;
	}
	return check_agent_file(v);
}

int vcd_ocf_validate(uv_loop_t *loop, const char *ocf_root, const char *name, const char *agent,
		     const json_t *params, const json_t *op_overrides,
		     vcd_ocf_validate_fn cb, void *arg)
{
	struct vcd_ocf_spec spec = { 0 };
	struct validate *v;
	int r;

	if (!loop || !cb)
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->root = strdup(ocf_root && ocf_root[0] ? ocf_root : VCD_OCF_ROOT_DEFAULT);
	if (!v->root) {
		free(v);
		return -ENOMEM;
	}
	v->loop = loop;
	v->cb = cb;
	v->arg = arg;
	uv_timer_init(loop, &v->report);
	v->report.data = v;
	if (validate_prepare(v, name, agent, params, op_overrides) < 0)
		return 0;
	spec.ocf_root = v->root;
	spec.provider = v->provider;
	spec.type = v->type;
	spec.instance = v->name;
	r = vcd_ocf_run(loop, &spec, VCD_OCF_META_DATA, VCD_OCF_META_TIMEOUT_MS, 0, meta_done, v,
			NULL);
	if (r < 0)
		validate_end(v, r, "cannot run %s meta-data: %s", v->agent, strerror(-r));
	return 0;
}
