// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Hooks: the operator's scripts for the agent's events.  See hooks.h. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../config.h"
#include "hooks.h"
#include "log.h"

#define ENV_FIELDS_MAX	64		/* VCLUSTER_<FIELD> variables per event */
#define ENV_MAX		(ENV_FIELDS_MAX + 8)	/* fields, the fixed ones, NULL */
#define FIELD_NAME_MAX	64
#define SCAN_MAX	4096		/* directory entries looked at */

/* One event waiting for its hooks. */
struct hook_event {
	struct hook_event *next;
	char *name;
	char **env;		/* NULL-terminated, every string malloc'd */
};

/* A listing of hooks-dir, made on the thread pool for one event. */
struct scan {
	uv_work_t work;
	struct vcd_hooks *h;
	const char *dir;	/* h->dir, which does not change */
	int err;		/* opendir's negative errno, or 0 */
	bool dir_unsafe;
	char **names;		/* hooks to run, sorted */
	size_t n;
	size_t over;		/* hooks past VCD_HOOKS_MAX_HOOKS, not run */
	char unsafe[256];	/* names skipped as unsafe, ", "-separated */
};

/* One hook process and its three handles; freed when all are closed. */
struct run {
	struct vcd_hooks *h;
	uv_process_t proc;
	uv_pipe_t out;		/* the hook's stdout and stderr */
	uv_timer_t timer;	/* hook-timeout-ms */
	int open;		/* handles not closed yet */
	bool proc_init, out_init;
	char name[256];
	char event[64];
	uint64_t start_ms;
	bool exited, eof, killed, done;
	int64_t status;
	int signo;
	char line[VCD_HOOKS_LINE_BYTES + 1];
	size_t line_len;
	bool line_cut;
	unsigned int lines;	/* output lines seen */
	char buf[4096];
};

struct vcd_hooks {
	uv_loop_t *loop;
	char *dir;		/* NULL: no hooks */
	char *events;
	char *cluster;
	uint32_t timeout_ms;
	uint32_t self_id;

	struct hook_event *head, *tail;
	size_t queued;		/* events in the list, the head's included */
	uint64_t seq;		/* matching events, for VCLUSTER_SEQ's fallback */
	uint64_t burst_dropped;	/* drops since the queue was last accepting */

	struct scan *scan;	/* the head event's listing */
	bool scanning;		/* ... still on the thread pool */
	size_t next_hook;	/* index in scan->names */
	struct run *run;	/* the hook running now */
	size_t runs_open;	/* runs whose handles are not closed yet */

	uint64_t n_run, n_failed, n_timed_out, n_dropped;
	int last_dir_err;	/* to log a missing directory once */
	char last_warning[512];	/* to log unsafe files once */

	bool closing, abandon, finished;
	uv_timer_t close_timer;	/* the queue's budget at close */
	void (*done)(void *);
	void *done_arg;
};

static void kick(struct vcd_hooks *h);

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* The environment of an event */

static char *env_str(const char *name, const char *value)
{
	char *s;

	return asprintf(&s, "%s=%s", name, value) < 0 ? NULL : s;
}

static char *env_u64(const char *name, uint64_t value)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, value);
	return env_str(name, num);
}

static void env_free(char **env)
{
	size_t i;

	if (!env)
		return;
	for (i = 0; env[i]; i++)
		free(env[i]);
	free(env);
}

/* The variables this module sets itself: a field never replaces them. */
static bool env_reserved(const char *suffix)
{
	static const char *const fixed[] = {
		"EVENT", "NODE", "CLUSTER", "TIME_MS", "SEQ", "EVENT_JSON",
	};
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(suffix, fixed[i]) == 0)
			return true;
	return false;
}

/* "restart-here" -> "VCLUSTER_RESTART_HERE"; false when it cannot be one. */
static bool field_env_name(const char *key, char *out, size_t size)
{
	size_t i, len = strlen(key), pre = strlen("VCLUSTER_");

	if (len == 0 || len >= FIELD_NAME_MAX || pre + len >= size)
		return false;
	memcpy(out, "VCLUSTER_", pre);
	for (i = 0; i < len; i++) {
		char c = key[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			c = '_';
		out[pre + i] = c;
	}
	out[pre + len] = '\0';
	return !env_reserved(out + pre);
}

/* A scalar's text (booleans true/false, null empty); NULL for the rest. */
static const char *scalar_text(const json_t *v, char *buf, size_t size)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_value(v);
	case JSON_INTEGER:
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	case JSON_REAL:
		snprintf(buf, size, "%.15g", json_real_value(v));
		return buf;
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "";
	default:
		return NULL;
	}
}

static bool env_has(char **env, size_t n, const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < n; i++)
		if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
			return true;
	return false;
}

/* VCLUSTER_<FIELD> for each top-level scalar of @ev, appended at *@n. */
static int env_fields(char **env, size_t *n, json_t *ev)
{
	char name[FIELD_NAME_MAX + 16], buf[64];
	size_t first = *n;
	const char *key, *text;
	json_t *v;

	json_object_foreach(ev, key, v) {
		if (*n - first == ENV_FIELDS_MAX)
			break;
		text = scalar_text(v, buf, sizeof(buf));
		if (!text || !field_env_name(key, name, sizeof(name)) || env_has(env, *n, name))
			continue;
		env[*n] = env_str(name, text);
		if (!env[(*n)++])
			return -ENOMEM;
	}
	return 0;
}

/* The event's own number and time when it carries them (watch does). */
static uint64_t event_seq(struct vcd_hooks *h, const json_t *ev)
{
	json_int_t seq = json_integer_value(json_object_get(ev, "seq"));

	return seq > 0 ? (uint64_t)seq : h->seq;
}

static uint64_t event_time_ms(const json_t *ev)
{
	json_int_t ns = json_integer_value(json_object_get(ev, "time_ns"));

	return ns > 0 ? (uint64_t)ns / 1000000 : realtime_ms();
}

static char **env_build(struct vcd_hooks *h, const char *event, json_t *ev)
{
	char **env = calloc(ENV_MAX, sizeof(*env));
	char *text;
	size_t n = 0, i;
	int r;

	if (!env)
		return NULL;
	env[n++] = env_str("VCLUSTER_EVENT", event);
	env[n++] = env_u64("VCLUSTER_NODE", h->self_id);
	env[n++] = env_str("VCLUSTER_CLUSTER", h->cluster);
	env[n++] = env_u64("VCLUSTER_TIME_MS", event_time_ms(ev));
	env[n++] = env_u64("VCLUSTER_SEQ", event_seq(h, ev));
	r = env_fields(env, &n, ev);
	text = json_dumps(ev, JSON_COMPACT);
	env[n++] = text ? env_str("VCLUSTER_EVENT_JSON", text) : NULL;
	env[n++] = env_str("PATH", VCD_HOOKS_PATH);
	free(text);
	for (i = 0; i < n; i++)
		if (!env[i])
			r = -ENOMEM;
	if (r == 0)
		return env;
	/* a NULL would end the list early: free by count */
	for (i = 0; i < n; i++)
		free(env[i]);
	free(env);
	return NULL;
}

static void event_free(struct hook_event *e)
{
	if (!e)
		return;
	free(e->name);
	env_free(e->env);
	free(e);
}

static struct hook_event *event_new(struct vcd_hooks *h, const char *name, const json_t *fields)
{
	struct hook_event *e = calloc(1, sizeof(*e));
	json_t *ev = json_is_object(fields) ? json_deep_copy(fields) : json_object();

	if (!e || !ev)
		goto fail;
	if (!json_object_get(ev, "event"))
		json_object_set_new(ev, "event", json_string(name));
	e->name = strdup(name);
	e->env = env_build(h, name, ev);
	if (!e->name || !e->env)
		goto fail;
	json_decref(ev);
	return e;
fail:
	json_decref(ev);
	event_free(e);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The queue */

static void note_drop(struct vcd_hooks *h, const char *event)
{
	h->n_dropped++;
	if (h->burst_dropped++ == 0)
		vcd_warn("hooks: %d events are waiting for their hooks already: dropping %s and what comes until the queue has room",
			 VCD_HOOKS_MAX_QUEUED, event);
}

static void end_burst(struct vcd_hooks *h)
{
	if (!h->burst_dropped)
		return;
	vcd_notice("hooks: the queue has room again; %" PRIu64 " events were dropped without running their hooks",
		   h->burst_dropped);
	h->burst_dropped = 0;
}

static void scan_free(struct scan *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
	free(s);
}

/* The head event is done: its hooks ran (or it was abandoned). */
static void pop_head(struct vcd_hooks *h)
{
	struct hook_event *e = h->head;

	h->head = e->next;
	if (!h->head)
		h->tail = NULL;
	h->queued--;
	event_free(e);
	scan_free(h->scan);
	h->scan = NULL;
	h->next_hook = 0;
}

void vcd_hooks_event(struct vcd_hooks *h, const char *event, const json_t *fields)
{
	struct hook_event *e;

	if (!h || !event || h->closing || !h->dir || !vc_event_list_match(h->events, event))
		return;
	h->seq++;
	if (h->queued >= VCD_HOOKS_MAX_QUEUED) {
		note_drop(h, event);
		return;
	}
	e = event_new(h, event, fields);
	if (!e) {
		vcd_err("hooks: no memory for event %s: dropped", event);
		h->n_dropped++;
		return;
	}
	end_burst(h);
	if (h->tail)
		h->tail->next = e;
	else
		h->head = e;
	h->tail = e;
	h->queued++;
	kick(h);
}

/* ------------------------------------------------------------------ */
/* Reading the directory (on the thread pool: it may be slow storage) */

/* Editor and package manager leftovers are not hooks. */
static bool name_wanted(const char *name)
{
	static const char *const suffixes[] = { "~", ".swp", ".rpmnew", ".rpmsave", ".rpmorig" };
	size_t i, len = strlen(name);

	if (name[0] == '.' || strstr(name, ".dpkg-"))
		return false;
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t sl = strlen(suffixes[i]);

		if (len >= sl && strcmp(name + len - sl, suffixes[i]) == 0)
			return false;
	}
	return true;
}

/* Run as root, a hook must be root's (or ours) and only writable by it. */
static bool owner_safe(const struct stat *st)
{
	return (st->st_uid == 0 || st->st_uid == geteuid()) &&
	       !(st->st_mode & (S_IWGRP | S_IWOTH));
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void note_unsafe(struct scan *s, const char *name)
{
	size_t len = strlen(s->unsafe);

	snprintf(s->unsafe + len, sizeof(s->unsafe) - len, "%s%s", len ? ", " : "", name);
}

/* An executable regular file that may run, or false (and maybe noted). */
static bool is_hook(struct scan *s, int dfd, const char *name)
{
	struct stat st;

	if (!name_wanted(name) || fstatat(dfd, name, &st, 0) < 0)
		return false;
	if (!S_ISREG(st.st_mode) || !(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
		return false;
	if (!owner_safe(&st)) {
		note_unsafe(s, name);
		return false;
	}
	return true;
}

static int scan_add(struct scan *s, size_t *cap, const char *name)
{
	char **names;

	if (s->n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		names = realloc(s->names, *cap * sizeof(*names));
		if (!names)
			return -ENOMEM;
		s->names = names;
	}
	s->names[s->n] = strdup(name);
	if (!s->names[s->n])
		return -ENOMEM;
	s->n++;
	return 0;
}

static void scan_dir(struct scan *s, DIR *d)
{
	struct dirent *de;
	struct stat st;
	size_t cap = 0, seen = 0;

	if (fstat(dirfd(d), &st) < 0 || !owner_safe(&st)) {
		s->dir_unsafe = true;
		return;
	}
	while ((de = readdir(d)) && seen++ < SCAN_MAX)
		if (is_hook(s, dirfd(d), de->d_name) && scan_add(s, &cap, de->d_name) < 0)
			break;
	if (s->n)
		qsort(s->names, s->n, sizeof(*s->names), cmp_names);
	/* The first by name run; the rest is reported. */
	while (s->n > VCD_HOOKS_MAX_HOOKS) {
		free(s->names[--s->n]);
		s->over++;
	}
}

static void scan_work(uv_work_t *w)
{
	struct scan *s = w->data;
	DIR *d = opendir(s->dir);

	if (!d) {
		s->err = -errno;
		return;
	}
	scan_dir(s, d);
	closedir(d);
}

static void warn_once(struct vcd_hooks *h, const char *text)
{
	if (strcmp(text, h->last_warning) == 0)
		return;
	snprintf(h->last_warning, sizeof(h->last_warning), "%s", text);
	if (text[0])
		vcd_warn("hooks: %s", text);
}

/* Say what changed about the directory, once per change, not per event. */
static void scan_report(struct vcd_hooks *h, const struct scan *s)
{
	char text[512] = "";

	if (s->err != h->last_dir_err) {
		if (s->err == -ENOENT || s->err == -ENOTDIR)
			vcd_info("hooks: %s does not exist: no hooks run", s->dir);
		else if (s->err)
			vcd_warn("hooks: cannot read %s: %s", s->dir, strerror(-s->err));
		else
			vcd_info("hooks: reading hooks from %s", s->dir);
		h->last_dir_err = s->err;
	}
	if (s->dir_unsafe)
		snprintf(text, sizeof(text), "%s is writable by group or others, or owned by another user than root: no hooks run",
			 s->dir);
	else if (s->unsafe[0])
		snprintf(text, sizeof(text), "skipping %s in %s: writable by group or others, or owned by another user than root",
			 s->unsafe, s->dir);
	else if (s->over)
		snprintf(text, sizeof(text), "%s holds %zu hooks more than %d: the last by name do not run",
			 s->dir, s->over, VCD_HOOKS_MAX_HOOKS);
	warn_once(h, text);
}

static void scan_after(uv_work_t *w, int status)
{
	struct scan *s = w->data;
	struct vcd_hooks *h = s->h;

	(void)status;	/* never cancelled */
	h->scanning = false;
	scan_report(h, s);
	kick(h);
}

static int scan_start(struct vcd_hooks *h)
{
	struct scan *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->h = h;
	s->dir = h->dir;
	s->work.data = s;
	r = uv_queue_work(h->loop, &s->work, scan_work, scan_after);
	if (r < 0) {
		free(s);
		return r;
	}
	h->scan = s;
	h->scanning = true;
	return 0;
}

/* ------------------------------------------------------------------ */
/* One hook process */

static void run_handle_closed(uv_handle_t *handle)
{
	struct run *r = handle->data;
	struct vcd_hooks *h = r->h;

	if (--r->open)
		return;
	free(r);
	h->runs_open--;
	if (h->closing)
		kick(h);
}

static void run_close(struct run *r)
{
	uv_timer_stop(&r->timer);
	uv_close((uv_handle_t *)&r->timer, run_handle_closed);
	if (r->out_init)
		uv_close((uv_handle_t *)&r->out, run_handle_closed);
	if (r->proc_init)
		uv_close((uv_handle_t *)&r->proc, run_handle_closed);
}

/* Control characters would forge log lines; tabs become blanks. */
static char printable(char c)
{
	if (c == '\t')
		return ' ';
	return (unsigned char)c < 0x20 || c == 0x7f ? '?' : c;
}

static void line_end(struct run *r)
{
	r->line[r->line_len] = '\0';
	if (r->lines++ < VCD_HOOKS_LOG_LINES)
		vcd_info("hook %s: %s%s", r->name, r->line, r->line_cut ? " [cut]" : "");
	r->line_len = 0;
	r->line_cut = false;
}

static void out_bytes(struct run *r, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n')
			line_end(r);
		else if (p[i] == '\r')
			continue;
		else if (r->line_len < VCD_HOOKS_LINE_BYTES)
			r->line[r->line_len++] = printable(p[i]);
		else
			r->line_cut = true;
	}
}

/* What the run came to: logged and counted once. */
static void run_account(struct run *r)
{
	struct vcd_hooks *h = r->h;
	uint64_t took_ms = mono_ms() - r->start_ms;

	if (r->lines > VCD_HOOKS_LOG_LINES)
		vcd_info("hook %s: %u more lines of output not logged", r->name,
			 r->lines - VCD_HOOKS_LOG_LINES);
	if (r->killed)
		return;		/* counted and logged when it was killed */
	if (r->signo) {
		h->n_failed++;
		vcd_warn("hook %s (event %s) was killed by signal %d (%s) after %" PRIu64 " ms",
			 r->name, r->event, r->signo, strsignal(r->signo), took_ms);
	} else if (r->status) {
		h->n_failed++;
		vcd_warn("hook %s (event %s) exited with status %" PRId64 " after %" PRIu64 " ms",
			 r->name, r->event, r->status, took_ms);
	} else {
		vcd_debug("hook %s (event %s) done in %" PRIu64 " ms", r->name, r->event, took_ms);
	}
}

/*
 * Done when it exited and its output closed -- or, once killed, when it
 * exited: a child that left the group may hold the output for ever.
 */
static void run_maybe_done(struct run *r)
{
	struct vcd_hooks *h = r->h;

	if (r->done || !r->exited || !(r->eof || r->killed))
		return;
	r->done = true;
	if (r->line_len || r->line_cut)
		line_end(r);
	run_account(r);
	run_close(r);
	h->run = NULL;
	h->next_hook++;
	kick(h);
}

static void run_kill(struct run *r, const char *why)
{
	struct vcd_hooks *h = r->h;

	if (r->killed)
		return;
	r->killed = true;
	h->n_timed_out++;
	vcd_warn("hook %s (event %s) %s: killing its process group after %" PRIu64 " ms",
		 r->name, r->event, why, mono_ms() - r->start_ms);
	/* Its own session: the group is the hook and whatever it started. */
	if (kill(-r->proc.pid, SIGKILL) < 0 && errno != ESRCH)
		vcd_err("hook %s: kill: %s", r->name, strerror(errno));
}

static void run_timeout(uv_timer_t *t)
{
	struct run *r = t->data;

	run_kill(r, r->exited ? "has exited, but what it started still holds its output" :
				 "is still running");
	run_maybe_done(r);
}

static void run_exited(uv_process_t *p, int64_t status, int signo)
{
	struct run *r = p->data;

	r->exited = true;
	r->status = status;
	r->signo = signo;
	run_maybe_done(r);
}

static void run_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct run *r = handle->data;

	(void)suggested;
	buf->base = r->buf;
	buf->len = sizeof(r->buf);
}

static void run_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct run *r = stream->data;

	if (nread > 0) {
		out_bytes(r, buf->base, (size_t)nread);
		return;
	}
	if (nread == 0)
		return;
	uv_read_stop(stream);
	r->eof = true;		/* UV_EOF, or an error: nothing more comes */
	run_maybe_done(r);
}

static int run_spawn(struct vcd_hooks *h, struct run *r, const char *path, int out_fd)
{
	uv_stdio_container_t stdio[3] = {
		{ .flags = UV_IGNORE },		/* /dev/null */
		{ .flags = UV_INHERIT_FD, .data.fd = out_fd },
		{ .flags = UV_INHERIT_FD, .data.fd = out_fd },
	};
	char *args[] = { (char *)path, NULL };
	uv_process_options_t po = {
		.exit_cb = run_exited,
		.file = path,
		.args = args,
		.env = h->head->env,
		.cwd = "/",
		/* setsid(): a group of its own to kill at the timeout */
		.flags = UV_PROCESS_DETACHED,
		.stdio_count = 3,
		.stdio = stdio,
	};
	int err;

	r->proc.data = r;
	err = uv_spawn(h->loop, &r->proc, &po);
	/* a failed uv_spawn has initialised the handle all the same */
	r->proc_init = true;
	r->open++;
	return err;
}

static struct run *run_new(struct vcd_hooks *h, const char *name)
{
	struct run *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->h = h;
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->event, sizeof(r->event), "%s", h->head->name);
	r->start_ms = mono_ms();
	uv_timer_init(h->loop, &r->timer);
	r->timer.data = r;
	r->open = 1;
	h->runs_open++;
	return r;
}

/* The head event's next hook; a negative errno when it could not start. */
static int run_start(struct vcd_hooks *h)
{
	const char *name = h->scan->names[h->next_hook];
	char path[VC_PATH_LEN + 256];
	uv_file fds[2];
	struct run *r;
	int err;

	snprintf(path, sizeof(path), "%s/%s", h->dir, name);
	r = run_new(h, name);
	if (!r)
		return -ENOMEM;
	err = uv_pipe(fds, 0, 0);
	if (err == 0) {
		uv_pipe_init(h->loop, &r->out, 0);
		r->out.data = r;
		r->out_init = true;
		r->open++;
		err = uv_pipe_open(&r->out, fds[0]);
		if (err < 0)
			close(fds[0]);
		else
			err = run_spawn(h, r, path, fds[1]);
		close(fds[1]);
	}
	if (err == 0)
		err = uv_read_start((uv_stream_t *)&r->out, run_alloc, run_read);
	if (err < 0) {
		h->n_failed++;
		vcd_warn("hook %s (event %s) cannot run: %s", name, r->event, uv_strerror(err));
		if (r->proc_init && r->proc.pid > 0)
			kill(-r->proc.pid, SIGKILL);
		run_close(r);
		return err;
	}
	h->n_run++;
	h->run = r;
	uv_timer_start(&r->timer, run_timeout, h->timeout_ms, 0);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The runner: one step at a time, in order */

static void close_timer_closed(uv_handle_t *handle)
{
	struct vcd_hooks *h = handle->data;
	void (*done)(void *) = h->done;
	void *arg = h->done_arg;

	free(h->dir);
	free(h->events);
	free(h->cluster);
	free(h);
	if (done)
		done(arg);
}

static void finish_close(struct vcd_hooks *h)
{
	if (h->finished || h->runs_open)
		return;
	h->finished = true;
	uv_timer_stop(&h->close_timer);
	uv_close((uv_handle_t *)&h->close_timer, close_timer_closed);
}

/*
 * Take the next step: list the directory for the head event, run its
 * next hook, or go on to the next event.  Nothing runs in parallel.
 */
static void kick(struct vcd_hooks *h)
{
	while (h->head && !h->scanning && !h->run) {
		if (!h->scan && !h->abandon) {
			if (scan_start(h) == 0)
				return;
			vcd_err("hooks: cannot list %s: event %s goes without hooks", h->dir,
				h->head->name);
		} else if (h->scan && !h->abandon && h->next_hook < h->scan->n) {
			if (run_start(h) == 0)
				return;
			h->next_hook++;
			continue;
		}
		pop_head(h);
	}
	if (h->closing && !h->head && !h->scanning && !h->run)
		finish_close(h);
}

/* The budget at close is spent: kill what runs, drop what waits. */
static void close_budget_spent(uv_timer_t *t)
{
	struct vcd_hooks *h = t->data;
	struct hook_event *e;
	size_t dropped = 0;

	h->abandon = true;
	while (h->head && h->head->next) {
		e = h->head->next;
		h->head->next = e->next;
		event_free(e);
		h->queued--;
		dropped++;
	}
	h->tail = h->head;
	h->n_dropped += dropped;
	if (dropped)
		vcd_warn("hooks: stopping: dropped %zu queued events without running their hooks",
			 dropped);
	if (h->run)
		run_kill(h->run, "is still running as the agent stops");
	kick(h);
}

void vcd_hooks_close(struct vcd_hooks *h, void (*done)(void *), void *arg)
{
	if (!h) {
		if (done)
			done(arg);
		return;
	}
	if (h->closing)
		return;
	h->closing = true;
	h->done = done;
	h->done_arg = arg;
	if (h->head)
		uv_timer_start(&h->close_timer, close_budget_spent, h->timeout_ms, 0);
	kick(h);
}

json_t *vcd_hooks_json(const struct vcd_hooks *h)
{
	if (!h)
		return json_pack("{s:i,s:i,s:i,s:i,s:i}", "run", 0, "failed", 0, "timed_out", 0,
				 "dropped", 0, "queued", 0);
	return json_pack("{s:I,s:I,s:I,s:I,s:I}", "run", (json_int_t)h->n_run,
			 "failed", (json_int_t)h->n_failed, "timed_out", (json_int_t)h->n_timed_out,
			 "dropped", (json_int_t)h->n_dropped, "queued", (json_int_t)h->queued);
}

int vcd_hooks_new(uv_loop_t *loop, const struct vcd_hooks_params *p, struct vcd_hooks **ret)
{
	const char *events = p->events ? p->events : "*";
	struct vcd_hooks *h;
	char why[VC_ERR_LEN];

	if (!p->timeout_ms || vc_event_list_check(events, why, sizeof(why)) < 0)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->loop = loop;
	h->timeout_ms = p->timeout_ms;
	h->self_id = p->self_id;
	h->dir = p->dir && p->dir[0] ? strdup(p->dir) : NULL;
	h->events = strdup(events);
	h->cluster = strdup(p->cluster_name ? p->cluster_name : "");
	if ((p->dir && p->dir[0] && !h->dir) || !h->events || !h->cluster) {
		free(h->dir);
		free(h->events);
		free(h->cluster);
		free(h);
		return -ENOMEM;
	}
	uv_timer_init(loop, &h->close_timer);
	h->close_timer.data = h;
	*ret = h;
	return 0;
}
