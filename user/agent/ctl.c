// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The agent's control socket (ctl.h, Documentation/agent-protocol.rst).
 *
 * Lifetimes: the server owns its connections; a connection owns its input
 * buffer and lists its unanswered requests.  A request outlives its
 * connection (and the server) until the handler answers it: closing a
 * connection only detaches its requests (req->conn = NULL), whose answers
 * are then dropped.  Outgoing lines are reference-counted buffers so that
 * one event is serialised once for all watchers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"

#ifndef VC_VERSION
#define VC_VERSION "0.1"
#endif

#define CTL_READ_CHUNK	(64 * 1024)
#define CTL_BACKLOG	16

struct ctl_buf {
	unsigned int refs;
	size_t len;
	char data[];
};

struct ctl_conn;

struct vcd_ctl_req {
	struct ctl_conn *conn;		/* NULL once the client has gone */
	struct vcd_ctl_req *prev, *next;	/* in conn->reqs */
	json_t *id;			/* echoed back; json null when absent */
	char *cmd;
	struct ucred cred;
};

struct ctl_conn {
	uv_pipe_t pipe;
	struct vcd_ctl *ctl;
	struct ctl_conn *prev, *next;	/* in ctl->conns */
	struct ucred cred;
	char *in;
	size_t in_len, in_size;
	size_t queued;			/* bytes handed to uv_write, not yet written */
	struct vcd_ctl_req *reqs;
	bool watcher;
	bool reading;
	bool closing;
	bool close_when_flushed;	/* after a fatal error reply */
};

struct ctl_write {
	uv_write_t w;
	struct ctl_conn *conn;
	struct ctl_buf *buf;
};

struct vcd_ctl {
	uv_loop_t *loop;
	uv_pipe_t listener;
	char *path;
	const struct vcd_ctl_cmd *cmds;
	void *ctx;
	struct ctl_conn *conns;
	size_t max_line, max_queued;
	json_t *history[VCD_CTL_HISTORY];	/* ring, oldest at hist_start */
	size_t hist_start, hist_len;
	uint64_t seq;
	struct vcd_ctl_stats stats;
	unsigned int open_handles;	/* the listener and every connection */
	bool closing;
};

/* ---- small helpers ---- */

const char *vcd_ctl_errno_name(int err)
{
	const char *name = strerrorname_np(err < 0 ? -err : err);

	return name ? name : "EIO";
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct ctl_buf *buf_from_json(const json_t *msg)
{
	char *s = json_dumps(msg, JSON_COMPACT);
	struct ctl_buf *b;
	size_t len;

	if (!s)
		return NULL;
	len = strlen(s);
	b = malloc(sizeof(*b) + len + 1);
	if (b) {
		b->refs = 1;
		b->len = len + 1;
		memcpy(b->data, s, len);
		b->data[len] = '\n';
	}
	free(s);
	return b;
}

static void buf_unref(struct ctl_buf *b)
{
	if (b && --b->refs == 0)
		free(b);
}

static void ctl_maybe_free(struct vcd_ctl *ctl)
{
	size_t i;

	if (!ctl->closing || ctl->open_handles)
		return;
	for (i = 0; i < ctl->hist_len; i++)
		json_decref(ctl->history[(ctl->hist_start + i) % VCD_CTL_HISTORY]);
	free(ctl->path);
	free(ctl);
}

/* ---- connections ---- */

static void conn_closed(uv_handle_t *h)
{
	struct ctl_conn *conn = h->data;
	struct vcd_ctl *ctl = conn->ctl;

	free(conn->in);
	free(conn);
	ctl->open_handles--;
	ctl_maybe_free(ctl);
}

static void conn_close(struct ctl_conn *conn)
{
	struct vcd_ctl *ctl = conn->ctl;
	struct vcd_ctl_req *req;

	if (conn->closing)
		return;
	conn->closing = true;
	for (req = conn->reqs; req; req = req->next) {
		req->conn = NULL;
		ctl->stats.pending--;
	}
	conn->reqs = NULL;
	if (conn->prev)
		conn->prev->next = conn->next;
	else
		ctl->conns = conn->next;
	if (conn->next)
		conn->next->prev = conn->prev;
	ctl->stats.conns--;
	if (conn->watcher)
		ctl->stats.watchers--;
	uv_close((uv_handle_t *)&conn->pipe, conn_closed);
}

static void conn_read_start(struct ctl_conn *conn);

static void write_done(uv_write_t *w, int status)
{
	struct ctl_write *cw = w->data;
	struct ctl_conn *conn = cw->conn;
	struct vcd_ctl *ctl = conn->ctl;

	conn->queued -= cw->buf->len;
	buf_unref(cw->buf);
	free(cw);
	if (conn->closing)
		return;
	if (status < 0) {
		conn_close(conn);
		return;
	}
	if (conn->close_when_flushed) {
		if (conn->queued == 0)
			conn_close(conn);
		return;
	}
	/* The client reads again: take its requests again (see conn_send). */
	if (!conn->reading && conn->queued <= ctl->max_queued / 2)
		conn_read_start(conn);
}

/* Queue one line; takes a reference on @b. */
static void conn_send(struct ctl_conn *conn, struct ctl_buf *b)
{
	struct ctl_write *cw;
	uv_buf_t ub;

	if (conn->closing)
		return;
	cw = malloc(sizeof(*cw));
	if (!cw) {
		conn_close(conn);
		return;
	}
	cw->w.data = cw;
	cw->conn = conn;
	cw->buf = b;
	b->refs++;
	ub = uv_buf_init(b->data, (unsigned int)b->len);
	conn->queued += b->len;
	if (uv_write(&cw->w, (uv_stream_t *)&conn->pipe, &ub, 1, write_done) < 0) {
		conn->queued -= b->len;
		buf_unref(b);
		free(cw);
		conn_close(conn);
		return;
	}
	/* A client that sends requests without reading the answers gets no
	 * more of them read until it catches up. */
	if (conn->reading && conn->queued > conn->ctl->max_queued) {
		uv_read_stop((uv_stream_t *)&conn->pipe);
		conn->reading = false;
	}
}

static void conn_send_json(struct ctl_conn *conn, json_t *msg)
{
	struct ctl_buf *b = buf_from_json(msg);

	json_decref(msg);
	if (!b) {
		conn_close(conn);
		return;
	}
	conn_send(conn, b);
	buf_unref(b);
}

static json_t *error_msg(json_t *id, int err, const char *text)
{
	return json_pack("{s:O?,s:b,s:s,s:s}", "id", id, "ok", 0,
			 "errno", vcd_ctl_errno_name(err), "error", text);
}

/* An error answer to a request that never became a vcd_ctl_req. */
static void conn_fail(struct ctl_conn *conn, json_t *id, int err, const char *text)
{
	conn->ctl->stats.bad_requests++;
	conn_send_json(conn, error_msg(id, err, text));
}

/* ---- requests ---- */

static void req_free(struct vcd_ctl_req *req)
{
	struct ctl_conn *conn = req->conn;

	if (conn) {
		if (req->prev)
			req->prev->next = req->next;
		else
			conn->reqs = req->next;
		if (req->next)
			req->next->prev = req->prev;
		conn->ctl->stats.pending--;
	}
	json_decref(req->id);
	free(req->cmd);
	free(req);
}

static void req_answer(struct vcd_ctl_req *req, json_t *msg)
{
	if (req->conn && msg)
		conn_send_json(req->conn, msg);
	else
		json_decref(msg);
	req_free(req);
}

void vcd_ctl_reply(struct vcd_ctl_req *req, json_t *result)
{
	if (!result)
		result = json_object();
	req_answer(req, json_pack("{s:O?,s:b,s:o}", "id", req->id, "ok", 1, "result", result));
}

void vcd_ctl_fail(struct vcd_ctl_req *req, int neg_errno, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (neg_errno == -EPERM && req->conn)
		req->conn->ctl->stats.denied++;
	req_answer(req, error_msg(req->id, neg_errno, text));
}

const char *vcd_ctl_req_cmd(const struct vcd_ctl_req *req)
{
	return req->cmd;
}

const struct ucred *vcd_ctl_req_cred(const struct vcd_ctl_req *req)
{
	return &req->cred;
}

bool vcd_ctl_req_connected(const struct vcd_ctl_req *req)
{
	return req->conn != NULL;
}

/* ---- built-in commands ---- */

static void builtin_hello(void *ctx, struct vcd_ctl_req *req, json_t *args);
static void builtin_watch(void *ctx, struct vcd_ctl_req *req, json_t *args);
static void builtin_history(void *ctx, struct vcd_ctl_req *req, json_t *args);

static const struct vcd_ctl_cmd builtins[] = {
	{ "hello", false, builtin_hello },
	{ "watch", false, builtin_watch },
	{ "history", false, builtin_history },
	{ NULL, false, NULL },
};

static const struct vcd_ctl_cmd *find_in(const struct vcd_ctl_cmd *t, const char *name)
{
	for (; t->name; t++)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

static json_t *cmd_list(const struct vcd_ctl *ctl)
{
	const struct vcd_ctl_cmd *tables[] = { ctl->cmds, builtins }, *c;
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < 2; i++)
		for (c = tables[i]; c->name; c++)
			if (i == 0 || !find_in(ctl->cmds, c->name))
				json_array_append_new(arr, json_pack("{s:s,s:b}", "name", c->name,
								     "changes", c->changes));
	return arr;
}

static void builtin_hello(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	struct vcd_ctl *ctl = ctx;

	(void)args;
	vcd_ctl_reply(req, json_pack("{s:i,s:s,s:s,s:o}", "protocol", VCD_CTL_PROTOCOL,
				     "agent", "vclusterd", "version", VC_VERSION,
				     "commands", cmd_list(ctl)));
}

static json_t *history_at(const struct vcd_ctl *ctl, size_t i)
{
	return ctl->history[(ctl->hist_start + i) % VCD_CTL_HISTORY];
}

/* Events from the @limit most recent on (all with 0), oldest first. */
static json_t *history_array(const struct vcd_ctl *ctl, size_t limit)
{
	size_t i = limit && limit < ctl->hist_len ? ctl->hist_len - limit : 0;
	json_t *arr = json_array();

	for (; i < ctl->hist_len; i++)
		json_array_append(arr, history_at(ctl, i));
	return arr;
}

static int args_limit(json_t *args, size_t *limit)
{
	json_t *v = json_object_get(args, "limit");

	*limit = 0;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -EINVAL;
	*limit = (size_t)json_integer_value(v);
	return 0;
}

static void builtin_history(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	struct vcd_ctl *ctl = ctx;
	size_t limit;

	if (args_limit(args, &limit) < 0) {
		vcd_ctl_fail(req, -EINVAL, "'limit' must be a number >= 0");
		return;
	}
	vcd_ctl_reply(req, json_pack("{s:o,s:I}", "events", history_array(ctl, limit),
				     "seq", (json_int_t)ctl->seq));
}

/*
 * The reply goes out first, then (with "history": true) the kept events,
 * then live events: nothing can come in between on the loop thread, so a
 * client misses nothing and sees nothing twice.
 */
static void builtin_watch(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	struct vcd_ctl *ctl = ctx;
	struct ctl_conn *conn = req->conn;
	json_t *hist = json_object_get(args, "history");
	size_t i;

	if (hist && !json_is_boolean(hist)) {
		vcd_ctl_fail(req, -EINVAL, "'history' must be true or false");
		return;
	}
	vcd_ctl_reply(req, json_pack("{s:I}", "seq", (json_int_t)ctl->seq));
	if (!conn || conn->closing || conn->watcher)
		return;
	conn->watcher = true;
	ctl->stats.watchers++;
	for (i = 0; json_is_true(hist) && i < ctl->hist_len && !conn->closing; i++)
		conn_send_json(conn, json_incref(history_at(ctl, i)));
}

/* ---- request dispatch ---- */

static const struct vcd_ctl_cmd *find_cmd(const struct vcd_ctl *ctl, const char *name,
					  void **ctx)
{
	const struct vcd_ctl_cmd *c = find_in(ctl->cmds, name);

	*ctx = ctl->ctx;
	if (!c) {
		c = find_in(builtins, name);
		*ctx = (void *)ctl;
	}
	return c;
}

static void dispatch(struct ctl_conn *conn, const struct vcd_ctl_cmd *c, void *ctx,
		     json_t *id, json_t *args)
{
	struct vcd_ctl_req *req = calloc(1, sizeof(*req));

	if (req)
		req->cmd = strdup(c->name);
	if (!req || !req->cmd) {
		free(req);
		conn_fail(conn, id, ENOMEM, "out of memory");
		return;
	}
	req->conn = conn;
	req->id = json_incref(id);
	req->cred = conn->cred;
	req->next = conn->reqs;
	if (conn->reqs)
		conn->reqs->prev = req;
	conn->reqs = req;
	conn->ctl->stats.pending++;
	c->fn(ctx, req, args);
}

static void handle_request(struct ctl_conn *conn, json_t *msg)
{
	json_t *id = json_object_get(msg, "id");
	json_t *cmd = json_object_get(msg, "cmd");
	json_t *args = json_object_get(msg, "args");
	const struct vcd_ctl_cmd *c;
	char text[256];
	void *ctx;

	if (!json_is_string(cmd)) {
		conn_fail(conn, id, EINVAL, "request has no \"cmd\" string");
		return;
	}
	if (json_is_null(args))
		args = NULL;	/* the same as none */
	if (args && !json_is_object(args)) {
		conn_fail(conn, id, EINVAL, "\"args\" must be an object");
		return;
	}
	c = find_cmd(conn->ctl, json_string_value(cmd), &ctx);
	if (!c) {
		snprintf(text, sizeof(text), "unknown command '%s' (\"hello\" lists them)",
			 json_string_value(cmd));
		conn_fail(conn, id, EOPNOTSUPP, text);
		return;
	}
	if (c->changes && conn->cred.uid != 0) {
		snprintf(text, sizeof(text), "'%s' changes the cluster and needs root (you are uid %u)",
			 c->name, (unsigned int)conn->cred.uid);
		conn->ctl->stats.denied++;
		conn_send_json(conn, error_msg(id, EPERM, text));
		return;
	}
	conn->ctl->stats.requests++;
	args = args ? json_incref(args) : json_object();
	dispatch(conn, c, ctx, id, args);
	json_decref(args);
}

static void handle_line(struct ctl_conn *conn, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *msg;
	char text[256];

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (!len)
		return;		/* blank lines are keep-alives */
	msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!msg) {
		snprintf(text, sizeof(text), "malformed JSON at column %d: %s", jerr.column, jerr.text);
		conn_fail(conn, NULL, EINVAL, text);
		return;
	}
	if (!json_is_object(msg))
		conn_fail(conn, NULL, EINVAL, "a request is a JSON object");
	else
		handle_request(conn, msg);
	json_decref(msg);
}

static void conn_oversize(struct ctl_conn *conn)
{
	char text[128];

	snprintf(text, sizeof(text), "request longer than %zu bytes; closing the connection",
		 conn->ctl->max_line);
	uv_read_stop((uv_stream_t *)&conn->pipe);
	conn->reading = false;
	conn->close_when_flushed = true;
	conn_fail(conn, NULL, EMSGSIZE, text);
}

/* Handle every complete line in the input buffer, keep the rest. */
static void conn_process(struct ctl_conn *conn)
{
	size_t start = 0;
	char *nl;

	while (!conn->closing && !conn->close_when_flushed &&
	       (nl = memchr(conn->in + start, '\n', conn->in_len - start))) {
		size_t len = (size_t)(nl - (conn->in + start));

		if (len > conn->ctl->max_line) {
			conn_oversize(conn);
			return;
		}
		handle_line(conn, conn->in + start, len);
		start += len + 1;
	}
	if (conn->closing || conn->close_when_flushed)
		return;
	memmove(conn->in, conn->in + start, conn->in_len - start);
	conn->in_len -= start;
	if (conn->in_len > conn->ctl->max_line)
		conn_oversize(conn);
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *ub)
{
	struct ctl_conn *conn = h->data;
	size_t want = conn->in_len + CTL_READ_CHUNK;

	(void)suggested;
	if (conn->in_size < want) {
		char *p = realloc(conn->in, want);

		if (!p) {
			*ub = uv_buf_init(NULL, 0);	/* libuv reports UV_ENOBUFS */
			return;
		}
		conn->in = p;
		conn->in_size = want;
	}
	*ub = uv_buf_init(conn->in + conn->in_len, (unsigned int)(conn->in_size - conn->in_len));
}

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *ub)
{
	struct ctl_conn *conn = s->data;

	(void)ub;
	if (nread < 0) {
		conn_close(conn);	/* EOF or error: the client has gone */
		return;
	}
	conn->in_len += (size_t)nread;
	conn_process(conn);
}

static void conn_read_start(struct ctl_conn *conn)
{
	if (uv_read_start((uv_stream_t *)&conn->pipe, conn_alloc, conn_read) < 0) {
		conn_close(conn);
		return;
	}
	conn->reading = true;
}

static void on_connection(uv_stream_t *listener, int status)
{
	struct vcd_ctl *ctl = listener->data;
	struct ctl_conn *conn;
	socklen_t len = sizeof(conn->cred);
	uv_os_fd_t fd;

	if (status < 0 || ctl->closing)
		return;
	conn = calloc(1, sizeof(*conn));
	if (!conn) {
		/* libuv listens again only once this one is accepted */
		vcd_err("control socket: out of memory accepting a connection");
		return;
	}
	conn->ctl = ctl;
	uv_pipe_init(ctl->loop, &conn->pipe, 0);
	conn->pipe.data = conn;
	ctl->open_handles++;
	conn->next = ctl->conns;
	if (ctl->conns)
		ctl->conns->prev = conn;
	ctl->conns = conn;
	ctl->stats.conns++;
	if (uv_accept(listener, (uv_stream_t *)&conn->pipe) < 0 ||
	    uv_fileno((uv_handle_t *)&conn->pipe, &fd) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &conn->cred, &len) < 0) {
		conn_close(conn);
		return;
	}
	if (ctl->stats.conns > VCD_CTL_MAX_CONNS) {
		ctl->stats.conns_refused++;
		conn->close_when_flushed = true;
		conn_send_json(conn, error_msg(NULL, EBUSY, "too many control connections"));
		return;
	}
	ctl->stats.conns_accepted++;
	conn_read_start(conn);
}

/* ---- events ---- */

static void history_add(struct vcd_ctl *ctl, json_t *event)
{
	if (ctl->hist_len == VCD_CTL_HISTORY) {
		json_decref(ctl->history[ctl->hist_start]);
		ctl->hist_start = (ctl->hist_start + 1) % VCD_CTL_HISTORY;
		ctl->hist_len--;
	}
	ctl->history[(ctl->hist_start + ctl->hist_len) % VCD_CTL_HISTORY] = json_incref(event);
	ctl->hist_len++;
}

static void drop_watcher(struct ctl_conn *conn)
{
	vcd_warn("control socket: dropping a watcher (pid %d, uid %u) with %zu bytes unread",
		 (int)conn->cred.pid, (unsigned int)conn->cred.uid, conn->queued);
	conn->ctl->stats.watchers_dropped++;
	conn_close(conn);
}

void vcd_ctl_event(struct vcd_ctl *ctl, json_t *event)
{
	struct ctl_conn *conn, *next;
	struct ctl_buf *b;

	if (!ctl || ctl->closing || !json_is_object(event)) {
		json_decref(event);
		return;
	}
	ctl->seq++;
	ctl->stats.events++;
	if (!json_object_get(event, "seq"))
		json_object_set_new(event, "seq", json_integer((json_int_t)ctl->seq));
	if (!json_object_get(event, "time_ns"))
		json_object_set_new(event, "time_ns", json_integer((json_int_t)realtime_ns()));
	history_add(ctl, event);
	b = buf_from_json(event);
	json_decref(event);
	if (!b)
		return;
	for (conn = ctl->conns; conn; conn = next) {
		next = conn->next;
		if (!conn->watcher || conn->closing || conn->close_when_flushed)
			continue;
		if (conn->queued + b->len > ctl->max_queued)
			drop_watcher(conn);
		else
			conn_send(conn, b);
	}
	buf_unref(b);
}

/* ---- server ---- */

/* The socket's directory, created when missing (one level, like /run). */
static int make_parent_dir(const char *path)
{
	char *dir = strdup(path), *slash;
	int r = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			r = -errno;
	}
	free(dir);
	return r;
}

static int fill_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* Remove a socket file that nobody answers on; -EADDRINUSE when somebody does. */
static int clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	/* Non-blocking: an agent too busy to accept fills its backlog, and
	 * connect() then says EAGAIN instead of waiting. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ? -errno : 0;
	close(fd);
	if (r == 0 || r == -EAGAIN)
		return -EADDRINUSE;
	if (r != -ECONNREFUSED && r != -ENOENT)
		return r;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

/* Bound, permissions set, not yet listening. */
static int bind_socket(const char *path, gid_t group, int *ret_fd)
{
	struct sockaddr_un sa;
	int fd, r;

	r = fill_addr(path, &sa);
	if (r == 0)
		r = make_parent_dir(path);
	if (r == 0)
		r = clear_stale(path, &sa);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	/* Until chmod the file has the umask's mode; connecting needs write
	 * permission, which a umask of 022 or stricter does not give. */
	if ((group && chown(path, (uid_t)-1, group) < 0) ||
	    chmod(path, group ? 0660 : 0600) < 0) {
		r = -errno;
		unlink(path);
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

static void listener_closed(uv_handle_t *h)
{
	struct vcd_ctl *ctl = h->data;

	ctl->open_handles--;
	ctl_maybe_free(ctl);
}

int vcd_ctl_new(uv_loop_t *loop, const char *path, gid_t group,
		const struct vcd_ctl_cmd *cmds, void *ctx, struct vcd_ctl **ret)
{
	struct vcd_ctl *ctl;
	int fd = -1, r;

	ctl = calloc(1, sizeof(*ctl));
	if (!ctl || !(ctl->path = strdup(path))) {
		free(ctl);
		return -ENOMEM;
	}
	r = bind_socket(path, group, &fd);
	if (r < 0) {
		free(ctl->path);
		free(ctl);
		return r;
	}
	ctl->loop = loop;
	ctl->cmds = cmds;
	ctl->ctx = ctx;
	ctl->max_line = VCD_CTL_MAX_LINE;
	ctl->max_queued = VCD_CTL_MAX_QUEUED;
	uv_pipe_init(loop, &ctl->listener, 0);
	ctl->listener.data = ctl;
	ctl->open_handles = 1;
	r = uv_pipe_open(&ctl->listener, fd);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&ctl->listener, CTL_BACKLOG, on_connection);
	if (r < 0) {
		if (uv_fileno((uv_handle_t *)&ctl->listener, &(uv_os_fd_t){ 0 }) < 0)
			close(fd);	/* not adopted by libuv */
		vcd_ctl_close(ctl);
		return r;
	}
	*ret = ctl;
	return 0;
}

void vcd_ctl_set_limits(struct vcd_ctl *ctl, size_t max_line, size_t max_queued)
{
	if (max_line)
		ctl->max_line = max_line;
	if (max_queued)
		ctl->max_queued = max_queued;
}

void vcd_ctl_get_stats(const struct vcd_ctl *ctl, struct vcd_ctl_stats *ret)
{
	*ret = ctl->stats;
}

void vcd_ctl_close(struct vcd_ctl *ctl)
{
	if (!ctl || ctl->closing)
		return;
	ctl->closing = true;
	unlink(ctl->path);
	while (ctl->conns)
		conn_close(ctl->conns);
	uv_close((uv_handle_t *)&ctl->listener, listener_closed);
}
