// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The control socket (ctl.c) driven by vclusterctl's own client
 * (agentctl.c): each test runs a server with a fake command table on a
 * temporary socket, its loop in a thread of its own, and talks to it from
 * the main thread over the real socket.  Commands run on the loop thread;
 * the main thread only ever talks through the socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../ctl.h"
#include "agentctl.h"
#include "tap.h"
#include "vclusterctl.h"

#define WAIT_MS 5000
#define NOBODY 65534

struct server {
	uv_loop_t loop;
	uv_async_t stop;
	pthread_t thread;
	struct vcd_ctl *ctl;
	char dir[64];
	char path[100];
	struct vcd_ctl_req *parked;	/* "park": answered by "release" */
	const struct vcd_ctl_cmd *table;	/* NULL: commands[] */
};

struct later {
	uv_timer_t timer;
	struct vcd_ctl_req *req;
};

/* ---- the fake command table (runs on the loop thread) ---- */

static void do_echo(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	const struct ucred *cred = vcd_ctl_req_cred(req);

	(void)ctx;
	vcd_ctl_reply(req, json_pack("{s:O,s:s,s:I}", "args", args, "cmd", vcd_ctl_req_cmd(req),
				     "uid", (json_int_t)cred->uid));
}

static void do_set(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	(void)ctx;
	(void)args;
	vcd_ctl_reply(req, json_pack("{s:s}", "message", "done"));
}

static void do_fail(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	(void)ctx;
	(void)args;
	vcd_ctl_fail(req, -ENOENT, "no such thing %d", 42);
}

static void later_closed(uv_handle_t *h)
{
	free(h->data);
}

static void later_fire(uv_timer_t *t)
{
	struct later *l = t->data;

	vcd_ctl_reply(l->req, json_pack("{s:b}", "late", 1));
	uv_close((uv_handle_t *)t, later_closed);
}

/* Answers 30 ms later, from a timer: an asynchronous reply. */
static void do_later(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	struct server *s = ctx;
	struct later *l = malloc(sizeof(*l));

	(void)args;
	l->req = req;
	uv_timer_init(&s->loop, &l->timer);
	l->timer.data = l;
	uv_timer_start(&l->timer, later_fire, 30, 0);
}

static void do_park(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	struct server *s = ctx;

	(void)args;
	if (s->parked)
		vcd_ctl_fail(req, -EBUSY, "one parked request at a time");
	else
		s->parked = req;
}

static void do_release(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	struct server *s = ctx;
	bool had = s->parked != NULL, connected = had && vcd_ctl_req_connected(s->parked);

	(void)args;
	if (had)
		vcd_ctl_reply(s->parked, json_pack("{s:b}", "released", 1));
	s->parked = NULL;
	vcd_ctl_reply(req, json_pack("{s:b,s:b}", "had", had, "connected", connected));
}

/* {"n": N, "size": BYTES}: N events of about BYTES each. */
static void do_emit(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	struct server *s = ctx;
	json_int_t n = json_integer_value(json_object_get(args, "n"));
	json_int_t size = json_integer_value(json_object_get(args, "size"));
	char *pad = calloc(1, (size_t)size + 1);
	json_int_t i;

	memset(pad, 'x', (size_t)size);
	for (i = 0; i < n; i++)
		vcd_ctl_event(s->ctl, json_pack("{s:s,s:I,s:s}", "event", "test", "i", i, "pad", pad));
	free(pad);
	vcd_ctl_reply(req, json_pack("{s:I}", "emitted", n));
}

static void do_stats(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	struct server *s = ctx;
	struct vcd_ctl_stats st;

	(void)args;
	vcd_ctl_get_stats(s->ctl, &st);
	vcd_ctl_reply(req, json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
				     "bad_requests", (json_int_t)st.bad_requests,
				     "denied", (json_int_t)st.denied,
				     "watchers_dropped", (json_int_t)st.watchers_dropped,
				     "watchers", (json_int_t)st.watchers,
				     "pending", (json_int_t)st.pending - 1,	/* not this one */
				     "conns", (json_int_t)st.conns,
				     "events", (json_int_t)st.events));
}

/* A status as the lead's handler might answer, some fields missing. */
static void do_status(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	(void)ctx;
	(void)args;
	vcd_ctl_reply(req, json_loads(
		"{\"cluster\":\"lab\",\"node\":1,\"dc\":2,\"term\":7,\"raft_state\":\"follower\","
		"\"quorate\":true,\"transport\":\"user\",\"nodes\":["
		"{\"id\":1,\"state\":\"online\",\"incarnation\":5,\"votes\":1,\"standby\":false,"
		"\"maintenance\":true,\"links_up\":2,\"links\":2,\"membership\":\"up\","
		"\"fence\":{\"armed\":true,\"action\":\"kill\",\"strong\":true,\"user\":true},"
		"\"pending_fence\":null},"
		"{\"id\":2,\"state\":\"online\"},"
		"{\"id\":3,\"state\":\"unclean\",\"membership\":\"down\","
		"\"fence\":{\"armed\":false,\"strong\":false},\"pending_fence\":{\"closes_in_ms\":830}}],"
		"\"cluster_properties\":{\"maintenance\":true,\"shutdown_policy\":\"freeze\",\"migrate_max\":2}}",
		0, NULL));
}

static const struct vcd_ctl_cmd commands[] = {
	{ "echo", false, do_echo },
	{ "set", true, do_set },
	{ "node-standby", true, do_set },
	{ "fail", false, do_fail },
	{ "later", false, do_later },
	{ "park", false, do_park },
	{ "release", false, do_release },
	{ "emit", false, do_emit },
	{ "stats", false, do_stats },
	{ "status", false, do_status },
	{ NULL, false, NULL },
};

/* ---- the server's thread ---- */

static void stop_server_cb(uv_async_t *a)
{
	struct server *s = a->data;

	vcd_ctl_close(s->ctl);
	/* A request unanswered at close is still valid: answer it now. */
	if (s->parked)
		vcd_ctl_reply(s->parked, NULL);
	s->parked = NULL;
	uv_close((uv_handle_t *)a, NULL);
}

static void *server_thread(void *arg)
{
	struct server *s = arg;

	uv_run(&s->loop, UV_RUN_DEFAULT);
	return NULL;
}

static int server_dir(struct server *s)
{
	snprintf(s->dir, sizeof(s->dir), "/tmp/test-ctl.XXXXXX");
	if (!mkdtemp(s->dir))
		return -errno;
	/* the unprivileged client of the EPERM test must reach the socket */
	chmod(s->dir, 0755);
	snprintf(s->path, sizeof(s->path), "%s/ctl.sock", s->dir);
	return 0;
}

static int server_start_at(struct server *s, gid_t group, size_t max_line, size_t max_queued)
{
	int r;

	uv_loop_init(&s->loop);
	r = vcd_ctl_new(&s->loop, s->path, group, s->table ? s->table : commands, s, &s->ctl);
	if (r < 0) {
		uv_loop_close(&s->loop);
		return r;
	}
	vcd_ctl_set_limits(s->ctl, max_line, max_queued);
	uv_async_init(&s->loop, &s->stop, stop_server_cb);
	s->stop.data = s;
	return -pthread_create(&s->thread, NULL, server_thread, s);
}

static int server_start(struct server *s, gid_t group, size_t max_line, size_t max_queued)
{
	int r;

	r = server_dir(s);
	return r < 0 ? r : server_start_at(s, group, max_line, max_queued);
}

/* 0 when every handle was closed and freed, and the socket removed. */
static int server_stop(struct server *s)
{
	int r;

	uv_async_send(&s->stop);
	pthread_join(s->thread, NULL);
	r = uv_loop_close(&s->loop);
	if (r == 0 && access(s->path, F_OK) == 0)
		r = -EEXIST;
	unlink(s->path);
	rmdir(s->dir);
	free(s);
	return r;
}

/* ---- client helpers ---- */

static json_t *call(struct vc_actl *a, const char *cmd, json_t *args)
{
	json_t *reply = NULL;

	return vc_actl_call(a, cmd, args, WAIT_MS, &reply) < 0 ? NULL : reply;
}

static bool reply_ok(const json_t *reply)
{
	return json_is_true(json_object_get(reply, "ok"));
}

static const char *reply_errno(const json_t *reply)
{
	const char *e = json_string_value(json_object_get(reply, "errno"));

	return e ? e : "(none)";
}

static json_int_t result_int(const json_t *reply, const char *key)
{
	return json_integer_value(json_object_get(json_object_get(reply, "result"), key));
}

static json_int_t stat_of(struct vc_actl *a, const char *key)
{
	json_t *r = call(a, "stats", NULL);
	json_int_t v = r ? result_int(r, key) : -1;

	json_decref(r);
	return v;
}

/* Poll the server's counter @key until it is @want; its last value. */
static json_int_t wait_stat(struct vc_actl *a, const char *key, json_int_t want)
{
	json_int_t v = stat_of(a, key);
	int i;

	for (i = 0; i < WAIT_MS / 10 && v != want; i++) {
		usleep(10000);
		v = stat_of(a, key);
	}
	return v;
}

/* ---- tests ---- */

TEST(request_reply)
{
	struct server *s = calloc(1, sizeof(*s));
	struct vc_actl *a = NULL;
	json_t *reply, *res;
	json_int_t id;
	struct stat st;

	CHECK_EQ(server_start(s, 0, 0, 0), 0);
	CHECK_EQ(stat(s->path, &st), 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0600);	/* no group: root only */
	CHECK_EQ(vc_actl_connect(s->path, &a), 0);
	CHECK_EQ(vc_actl_send(a, "echo", json_pack("{s:i}", "x", 7), &id), 0);
	CHECK_EQ(vc_actl_recv(a, WAIT_MS, &reply), 0);
	CHECK_EQ(json_integer_value(json_object_get(reply, "id")), id);
	CHECK(reply_ok(reply));
	res = json_object_get(reply, "result");
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(res, "args"), "x")), 7);
	CHECK_STR(json_string_value(json_object_get(res, "cmd")), "echo");
	CHECK_EQ(json_integer_value(json_object_get(res, "uid")), geteuid());
	json_decref(reply);

	/* an error answer carries the errno's name and the handler's text */
	reply = call(a, "fail", NULL);
	CHECK(reply && !reply_ok(reply));
	CHECK_STR(reply_errno(reply), "ENOENT");
	CHECK_STR(json_string_value(json_object_get(reply, "error")), "no such thing 42");
	json_decref(reply);

	/* hello: protocol version, the table and the built-ins */
	reply = call(a, "hello", NULL);
	CHECK(reply_ok(reply));
	CHECK_EQ(result_int(reply, "protocol"), VCD_CTL_PROTOCOL);
	res = json_object_get(json_object_get(reply, "result"), "commands");
	CHECK_EQ(json_array_size(res), 13);
	CHECK_STR(json_string_value(json_object_get(json_array_get(res, 1), "name")), "set");
	CHECK(json_is_true(json_object_get(json_array_get(res, 1), "changes")));
	CHECK_STR(json_string_value(json_object_get(json_array_get(res, 11), "name")), "watch");
	json_decref(reply);
	vc_actl_close(a);
	CHECK_EQ(server_stop(s), 0);
	return true;
}

TEST(async_reply)
{
	struct server *s = calloc(1, sizeof(*s));
	struct vc_actl *a = NULL;
	json_int_t id_later, id_echo;
	json_t *first, *second;

	CHECK_EQ(server_start(s, 0, 0, 0), 0);
	CHECK_EQ(vc_actl_connect(s->path, &a), 0);
	/* the slow answer does not hold up the next request on the connection */
	CHECK_EQ(vc_actl_send(a, "later", NULL, &id_later), 0);
	CHECK_EQ(vc_actl_send(a, "echo", NULL, &id_echo), 0);
	CHECK_EQ(vc_actl_recv(a, WAIT_MS, &first), 0);
	CHECK_EQ(vc_actl_recv(a, WAIT_MS, &second), 0);
	CHECK_EQ(json_integer_value(json_object_get(first, "id")), id_echo);
	CHECK_EQ(json_integer_value(json_object_get(second, "id")), id_later);
	CHECK(reply_ok(second));
	CHECK(json_is_true(json_object_get(json_object_get(second, "result"), "late")));
	json_decref(first);
	json_decref(second);
	vc_actl_close(a);
	CHECK_EQ(server_stop(s), 0);
	return true;
}

TEST(async_reply_after_client_left)
{
	struct server *s = calloc(1, sizeof(*s));
	struct vc_actl *a = NULL, *b = NULL;
	json_int_t id;
	json_t *reply;

	CHECK_EQ(server_start(s, 0, 0, 0), 0);
	CHECK_EQ(vc_actl_connect(s->path, &b), 0);
	/* parked, then the client goes: the request stays valid until answered */
	CHECK_EQ(vc_actl_connect(s->path, &a), 0);
	CHECK_EQ(vc_actl_send(a, "park", NULL, NULL), 0);
	CHECK_EQ(wait_stat(b, "pending", 1), 1);
	vc_actl_close(a);
	a = NULL;
	CHECK_EQ(wait_stat(b, "conns", 1), 1);	/* the server has seen the close */
	CHECK_EQ(stat_of(b, "pending"), 0);
	reply = call(b, "release", NULL);
	CHECK(json_is_true(json_object_get(json_object_get(reply, "result"), "had")));
	CHECK(json_is_false(json_object_get(json_object_get(reply, "result"), "connected")));
	json_decref(reply);

	/* still connected: the answer arrives with the parked request's id */
	CHECK_EQ(vc_actl_connect(s->path, &a), 0);
	CHECK_EQ(vc_actl_send(a, "park", NULL, &id), 0);
	CHECK_EQ(wait_stat(b, "pending", 1), 1);
	reply = call(b, "release", NULL);
	CHECK(json_is_true(json_object_get(json_object_get(reply, "result"), "connected")));
	json_decref(reply);
	CHECK_EQ(vc_actl_recv(a, WAIT_MS, &reply), 0);
	CHECK_EQ(json_integer_value(json_object_get(reply, "id")), id);
	CHECK(json_is_true(json_object_get(json_object_get(reply, "result"), "released")));
	json_decref(reply);

	/* parked when the server closes: answered after close, dropped */
	CHECK_EQ(vc_actl_send(a, "park", NULL, NULL), 0);
	CHECK_EQ(wait_stat(b, "pending", 1), 1);
	vc_actl_close(b);
	CHECK_EQ(server_stop(s), 0);
	CHECK_EQ(vc_actl_recv(a, WAIT_MS, &reply), -ECONNRESET);
	vc_actl_close(a);
	return true;
}

/* Send @line; the answer must be an error with @err and id null. */
static bool bad_line(struct vc_actl *a, const char *line, const char *err)
{
	json_t *reply;

	CHECK_EQ(vc_actl_send_raw(a, line, strlen(line)), 0);
	CHECK_EQ(vc_actl_recv(a, WAIT_MS, &reply), 0);
	CHECK(!reply_ok(reply));
	CHECK_STR(reply_errno(reply), err);
	CHECK(json_is_string(json_object_get(reply, "error")));
	json_decref(reply);
	return true;
}

TEST(malformed_and_unknown)
{
	const char *line;
	struct server *s = calloc(1, sizeof(*s));
	struct vc_actl *a = NULL;
	json_t *reply;

	CHECK_EQ(server_start(s, 0, 0, 0), 0);
	CHECK_EQ(vc_actl_connect(s->path, &a), 0);
	CHECK(bad_line(a, "{not json\n", "EINVAL"));
	CHECK(bad_line(a, "[1,2]\n", "EINVAL"));
	CHECK(bad_line(a, "{\"id\":1,\"cmd\":5}\n", "EINVAL"));
	CHECK(bad_line(a, "{\"id\":1,\"cmd\":\"echo\",\"args\":[]}\n", "EINVAL"));
	CHECK(bad_line(a, "{\"id\":1,\"cmd\":\"echo\",\"cmd\":\"echo\"}\n", "EINVAL"));
	/* blank lines are ignored; CRLF is accepted */
	line = "\n\r\n{\"id\":9,\"cmd\":\"echo\"}\r\n";
	CHECK_EQ(vc_actl_send_raw(a, line, strlen(line)), 0);
	CHECK_EQ(vc_actl_recv(a, WAIT_MS, &reply), 0);
	CHECK_EQ(json_integer_value(json_object_get(reply, "id")), 9);
	CHECK(reply_ok(reply));
	json_decref(reply);

	reply = call(a, "no-such-command", NULL);
	CHECK(reply && !reply_ok(reply));
	CHECK_STR(reply_errno(reply), "EOPNOTSUPP");
	json_decref(reply);
	/* the connection is still good, and the bad ones were counted */
	CHECK_EQ(stat_of(a, "bad_requests"), 6);
	vc_actl_close(a);
	CHECK_EQ(server_stop(s), 0);
	return true;
}

/* An oversize request gets an error, then the connection is closed. */
static bool oversize_closes(const char *path, size_t len, bool newline)
{
	struct vc_actl *a = NULL;
	char *big = malloc(len + 1);
	json_t *reply;
	int r;

	memset(big, ' ', len);
	memcpy(big, "{\"cmd\":\"echo\",\"args\":{\"x\":\"", 27);
	big[len - 3] = '"';
	big[len - 2] = '}';
	big[len - 1] = '}';
	big[len] = '\n';
	CHECK_EQ(vc_actl_connect(path, &a), 0);
	r = vc_actl_send_raw(a, big, len + newline);
	free(big);
	CHECK(r == 0 || r == -ECONNRESET);
	CHECK_EQ(vc_actl_recv(a, WAIT_MS, &reply), 0);
	CHECK_STR(reply_errno(reply), "EMSGSIZE");
	json_decref(reply);
	CHECK_EQ(vc_actl_recv(a, WAIT_MS, &reply), -ECONNRESET);
	vc_actl_close(a);
	return true;
}

TEST(oversize_line)
{
	struct server *s = calloc(1, sizeof(*s));
	struct vc_actl *a = NULL;
	json_t *reply;

	CHECK_EQ(server_start(s, 0, 4096, 0), 0);
	CHECK(oversize_closes(s->path, 4097, true));	/* a whole line too long */
	CHECK(oversize_closes(s->path, 300000, false));	/* no end in sight */
	/* the limit itself is fine, and other connections are unaffected */
	CHECK_EQ(vc_actl_connect(s->path, &a), 0);
	reply = call(a, "echo", json_pack("{s:s}", "x", "y"));
	CHECK(reply_ok(reply));
	json_decref(reply);
	vc_actl_close(a);
	CHECK_EQ(server_stop(s), 0);
	return true;
}

/* In a child: connect as an unprivileged user; exit code = first failure. */
static int unprivileged_client(const char *path, bool drop)
{
	struct vc_actl *a = NULL;
	json_t *reply;
	const char *text;

	if (drop && (setgid(NOBODY) < 0 || setuid(NOBODY) < 0))
		return 10;
	if (vc_actl_connect(path, &a) < 0)
		return 11;
	reply = call(a, "set", NULL);
	if (!reply || reply_ok(reply) || strcmp(reply_errno(reply), "EPERM") != 0)
		return 12;
	text = json_string_value(json_object_get(reply, "error"));
	if (!text || !strstr(text, "'set'") || !strstr(text, "needs root"))
		return 13;
	json_decref(reply);
	reply = call(a, "echo", NULL);	/* reading is allowed */
	if (!reply_ok(reply))
		return 14;
	json_decref(reply);
	vc_actl_close(a);
	return 0;
}

TEST(eperm_for_unprivileged)
{
	bool root = geteuid() == 0;
	gid_t group = root ? NOBODY : getegid();
	struct vc_actl *a = NULL;
	struct server *s = calloc(1, sizeof(*s));
	struct stat st;
	json_t *reply;
	int status;
	pid_t pid;

	CHECK_EQ(server_start(s, group, 0, 0), 0);
	CHECK_EQ(stat(s->path, &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0660);
	CHECK_EQ(st.st_gid, group);
	if (root) {
		fflush(stdout);
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0)
			_exit(unprivileged_client(s->path, true));
		CHECK_EQ(waitpid(pid, &status, 0), pid);
		CHECK(WIFEXITED(status));
		CHECK_EQ(WEXITSTATUS(status), 0);
		/* root may change */
		CHECK_EQ(vc_actl_connect(s->path, &a), 0);
		reply = call(a, "set", NULL);
		CHECK(reply_ok(reply));
		json_decref(reply);
		CHECK_EQ(stat_of(a, "denied"), 1);
		vc_actl_close(a);
	} else {
		printf("# not root: the test itself is the unprivileged client\n");
		CHECK_EQ(unprivileged_client(s->path, false), 0);
	}
	CHECK_EQ(server_stop(s), 0);
	return true;
}

/* The next @n messages on @a are events "test" with i = @first.. in order. */
static bool expect_events(struct vc_actl *a, int n, int first)
{
	json_int_t seq = 0;
	json_t *ev;
	int i;

	for (i = 0; i < n; i++) {
		CHECK_EQ(vc_actl_recv(a, WAIT_MS, &ev), 0);
		CHECK_STR(json_string_value(json_object_get(ev, "event")), "test");
		CHECK_EQ(json_integer_value(json_object_get(ev, "i")), first + i);
		CHECK(json_integer_value(json_object_get(ev, "time_ns")) > 0);
		CHECK(json_integer_value(json_object_get(ev, "seq")) > seq);
		seq = json_integer_value(json_object_get(ev, "seq"));
		json_decref(ev);
	}
	return true;
}

static bool watch(struct vc_actl *a, bool history)
{
	json_t *reply = call(a, "watch", history ? json_pack("{s:b}", "history", 1) : NULL);

	CHECK(reply_ok(reply));
	json_decref(reply);
	return true;
}

TEST(watch_broadcast)
{
	struct vc_actl *w1 = NULL, *w2 = NULL, *w3 = NULL, *c = NULL;
	struct server *s = calloc(1, sizeof(*s));
	json_t *reply;

	CHECK_EQ(server_start(s, 0, 0, 0), 0);
	CHECK_EQ(vc_actl_connect(s->path, &w1), 0);
	CHECK_EQ(vc_actl_connect(s->path, &w2), 0);
	CHECK_EQ(vc_actl_connect(s->path, &c), 0);
	CHECK(watch(w1, false));
	CHECK(watch(w2, false));
	reply = call(c, "emit", json_pack("{s:i,s:i}", "n", 3, "size", 10));
	CHECK(reply_ok(reply));
	json_decref(reply);
	CHECK(expect_events(w1, 3, 0));
	CHECK(expect_events(w2, 3, 0));
	/* no events for a connection that did not ask: its next line is a reply */
	reply = call(c, "echo", NULL);
	CHECK(reply_ok(reply));
	json_decref(reply);
	CHECK_EQ(vc_actl_send(c, "echo", NULL, NULL), 0);
	CHECK_EQ(vc_actl_recv(c, WAIT_MS, &reply), 0);
	CHECK(json_object_get(reply, "ok") && !json_object_get(reply, "event"));
	json_decref(reply);

	/* history keeps them; watch with history replays them first */
	reply = call(c, "history", json_pack("{s:i}", "limit", 2));
	CHECK_EQ(json_array_size(json_object_get(json_object_get(reply, "result"), "events")), 2);
	CHECK_EQ(json_integer_value(json_object_get(json_array_get(json_object_get(
		json_object_get(reply, "result"), "events"), 0), "i")), 1);
	json_decref(reply);
	CHECK_EQ(vc_actl_connect(s->path, &w3), 0);
	CHECK(watch(w3, true));
	CHECK(expect_events(w3, 3, 0));
	CHECK_EQ(stat_of(c, "watchers"), 3);
	vc_actl_close(w1);
	vc_actl_close(w2);
	vc_actl_close(w3);
	vc_actl_close(c);
	CHECK_EQ(server_stop(s), 0);
	return true;
}

TEST(slow_watcher_dropped)
{
	struct vc_actl *slow = NULL, *fast = NULL, *c = NULL;
	struct server *s = calloc(1, sizeof(*s));
	json_t *reply;
	int batch, dropped = 0, got;

	CHECK_EQ(server_start(s, 0, 0, 64 * 1024), 0);
	CHECK_EQ(vc_actl_connect(s->path, &slow), 0);
	CHECK_EQ(vc_actl_connect(s->path, &fast), 0);
	CHECK_EQ(vc_actl_connect(s->path, &c), 0);
	CHECK(watch(slow, false));
	CHECK(watch(fast, false));
	/* 16 KiB per batch: the fast watcher reads each batch, the slow one
	 * never; socket buffer plus 64 KiB of queue hold a few dozen. */
	for (batch = 0; batch < 300 && !dropped; batch++) {
		reply = call(c, "emit", json_pack("{s:i,s:i}", "n", 16, "size", 1000));
		CHECK(reply_ok(reply));
		json_decref(reply);
		CHECK(expect_events(fast, 16, 0));
		dropped = (int)stat_of(c, "watchers_dropped");
	}
	CHECK_EQ(dropped, 1);
	CHECK_EQ(stat_of(c, "watchers"), 1);
	printf("# slow watcher dropped after %d batches of 16 KiB\n", batch);
	/* the slow one reads what was sent, then the end */
	for (got = 0; vc_actl_recv(slow, WAIT_MS, &reply) == 0; got++)
		json_decref(reply);
	CHECK(got > 0);
	CHECK_EQ(vc_actl_recv(slow, WAIT_MS, &reply), -ECONNRESET);
	/* the fast one is still served */
	reply = call(c, "emit", json_pack("{s:i,s:i}", "n", 2, "size", 10));
	json_decref(reply);
	CHECK(expect_events(fast, 2, 0));
	vc_actl_close(slow);
	vc_actl_close(fast);
	vc_actl_close(c);
	CHECK_EQ(server_stop(s), 0);
	return true;
}

static int make_stale_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), r;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	close(fd);	/* the file stays, nobody listens */
	return r;
}

TEST(stale_socket_replaced)
{
	struct vc_actl *a = NULL;
	struct server *s = calloc(1, sizeof(*s));
	json_t *reply;

	CHECK_EQ(server_dir(s), 0);
	CHECK_EQ(make_stale_socket(s->path), 0);
	CHECK_EQ(vc_actl_connect(s->path, &a), -ECONNREFUSED);
	CHECK_EQ(server_start_at(s, 0, 0, 0), 0);
	CHECK_EQ(vc_actl_connect(s->path, &a), 0);
	reply = call(a, "echo", NULL);
	CHECK(reply_ok(reply));
	json_decref(reply);
	vc_actl_close(a);
	CHECK_EQ(server_stop(s), 0);
	return true;
}

TEST(live_socket_refused)
{
	struct vc_actl *a = NULL;
	struct vcd_ctl *other = NULL;
	uv_loop_t loop;
	struct server *s = calloc(1, sizeof(*s));
	char file[160];
	json_t *reply;
	int fd;

	CHECK_EQ(server_start(s, 0, 0, 0), 0);
	uv_loop_init(&loop);
	CHECK_EQ(vcd_ctl_new(&loop, s->path, 0, commands, NULL, &other), -EADDRINUSE);
	/* a file that is no socket is left alone */
	snprintf(file, sizeof(file), "%s/file", s->dir);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ(vcd_ctl_new(&loop, file, 0, commands, NULL, &other), -ENOTSOCK);
	CHECK_EQ(access(file, F_OK), 0);
	unlink(file);
	CHECK_EQ(uv_loop_close(&loop), 0);
	/* the running one is untouched */
	CHECK_EQ(vc_actl_connect(s->path, &a), 0);
	reply = call(a, "echo", NULL);
	CHECK(reply_ok(reply));
	json_decref(reply);
	vc_actl_close(a);
	CHECK_EQ(server_stop(s), 0);
	return true;
}

TEST(connection_limit)
{
	struct server *s = calloc(1, sizeof(*s));
	struct vc_actl *a[VCD_CTL_MAX_CONNS + 1] = { NULL };
	json_t *reply;
	int i;

	CHECK_EQ(server_start(s, 0, 0, 0), 0);
	for (i = 0; i < VCD_CTL_MAX_CONNS; i++)
		CHECK_EQ(vc_actl_connect(s->path, &a[i]), 0);
	CHECK_EQ(wait_stat(a[0], "conns", VCD_CTL_MAX_CONNS), VCD_CTL_MAX_CONNS);
	/* one too many: told why, then closed */
	CHECK_EQ(vc_actl_connect(s->path, &a[i]), 0);
	CHECK_EQ(vc_actl_recv(a[i], WAIT_MS, &reply), 0);
	CHECK_STR(reply_errno(reply), "EBUSY");
	json_decref(reply);
	CHECK_EQ(vc_actl_recv(a[i], WAIT_MS, &reply), -ECONNRESET);
	vc_actl_close(a[i]);
	/* a place freed is a place taken */
	vc_actl_close(a[1]);
	a[1] = NULL;
	CHECK_EQ(wait_stat(a[0], "conns", VCD_CTL_MAX_CONNS - 1), VCD_CTL_MAX_CONNS - 1);
	CHECK_EQ(vc_actl_connect(s->path, &a[1]), 0);
	reply = call(a[1], "echo", NULL);
	CHECK(reply_ok(reply));
	json_decref(reply);
	for (i = 0; i < VCD_CTL_MAX_CONNS; i++)
		vc_actl_close(a[i]);
	CHECK_EQ(server_stop(s), 0);
	return true;
}

/* Run a vclusterctl subcommand in-process, stdout into @out. */
static int run_cli(const char *path, int (*fn)(struct cmd_ctx *, int, char **),
		   const char *name, bool json, char **argv, int argc, char *out, size_t size)
{
	struct cmd_ctx ctx = { .name = name, .json = json };
	char *flag[] = { "-s", (char *)path };
	int saved = dup(1), fd, r;
	ssize_t n;
	FILE *tmp = tmpfile();

	agent_take_socket_flag(2, flag);
	fflush(stdout);
	dup2(fileno(tmp), 1);
	r = fn(&ctx, argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	fd = fileno(tmp);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, out, size - 1);
	out[n > 0 ? n : 0] = '\0';
	fclose(tmp);
	return r;
}

TEST(cli_against_fake_agent)
{
	char out[4096], none[160];
	char *standby_ok[] = { "4" }, *standby_bad[] = { "x" };
	struct server *s = calloc(1, sizeof(*s));

	CHECK_EQ(server_start(s, 0, 0, 0), 0);
	CHECK_EQ(run_cli(s->path, cmd_status, "status", false, NULL, 0, out, sizeof(out)), 0);
	CHECK(strstr(out, "cluster lab, node 1, transport user\n"));
	CHECK(strstr(out, "DC: node 2, term 7, raft follower, quorate\n"));
	CHECK(strstr(out, "    1  online    up         5                1  2/2    kill user      self,maintenance\n"));
	CHECK(strstr(out, "    2  online    -          -                -  -      -              dc\n"));
	CHECK(strstr(out, "    3  unclean   down       -                -  -      unarmed weak   -\n"));
	CHECK(strstr(out, "node 3: fence window closes in 830 ms\n"));
	CHECK(strstr(out, "\nshutdown-policy freeze, migrate-max 2; CLUSTER MAINTENANCE: no resource "
			  "is started, stopped or moved\n"));
	CHECK_EQ(run_cli(s->path, cmd_node_list, "node list", true, NULL, 0, out, sizeof(out)), 0);
	CHECK_EQ(out[0], '[');
	CHECK_EQ(run_cli(s->path, cmd_node_standby, "node standby", false, standby_ok, 1,
			 out, sizeof(out)), VC_EXIT_OK);
	CHECK_STR(out, "done\n");
	CHECK_EQ(run_cli(s->path, cmd_node_standby, "node standby", false, standby_bad, 1,
			 out, sizeof(out)), VC_EXIT_USAGE);
	/* an error answer is exit 1: "node maintenance" is not in the table */
	CHECK_EQ(run_cli(s->path, cmd_node_maintenance, "node maintenance", false, standby_ok, 1,
			 out, sizeof(out)), VC_EXIT_FAILURE);
	snprintf(none, sizeof(none), "%s/none.sock", s->dir);
	CHECK_EQ(server_stop(s), 0);
	CHECK_EQ(run_cli(none, cmd_status, "status", false, NULL, 0, out, sizeof(out)),
		 VC_EXIT_NO_AGENT);
	return true;
}

/* ---- issue 6: the policy commands against a fake agent ---- */

/*
 * Three resources: "db" with nothing to flag; "web", an OCF resource with
 * every flag, failures that never expire (node keys out of order) and a
 * policy; "old", whose failures expired under the default timeout (60 s;
 * last_ms is 1970) and that is frozen for node 2.
 */
static const char resources_fixture[] =
	"[{\"name\":\"db\",\"type\":\"vm\",\"node\":1,\"incarnation\":5,\"status\":\"running\","
	"\"note\":\"qemu pid 42\",\"enabled\":true,\"maintenance\":false,\"target_node\":0,"
	"\"frozen_on\":0,\"fails\":{}},"
	"{\"name\":\"web\",\"type\":\"ocf\",\"node\":2,\"incarnation\":9,\"status\":\"running\","
	"\"enabled\":false,\"maintenance\":true,\"target_node\":3,\"frozen_on\":0,"
	"\"migrating\":{\"node\":3,\"incarnation\":11},"
	"\"fails\":{\"3\":{\"count\":1,\"last_ms\":1795000000123},"
	"\"10\":{\"count\":4,\"last_ms\":1000},\"1\":{\"count\":2,\"last_ms\":1000}},"
	"\"meta\":{\"priority\":10,\"prefer\":{\"10\":50,\"2\":100},\"ban\":[4,5],"
	"\"with\":[\"db\"],\"after\":[\"db\",\"cache\"],\"migration_threshold\":0,"
	"\"failure_timeout_ms\":0},"
	"\"definition\":{\"agent\":\"ocf:heartbeat:Dummy\",\"provider\":\"heartbeat\","
	"\"type\":\"Dummy\",\"params\":{\"state\":\"/run/web.state\",\"fake\":\"1\"},"
	"\"timeouts\":{\"start_ms\":20000,\"stop_ms\":120000,\"monitor_ms\":500},"
	"\"monitor_interval_ms\":10000,\"memory_kib\":0,\"vcpus\":0}},"
	"{\"name\":\"old\",\"type\":\"vm\",\"node\":0,\"incarnation\":0,\"status\":\"stopped\","
	"\"frozen_on\":2,\"fails\":{\"2\":{\"count\":5,\"last_ms\":1000}},"
	"\"meta\":{\"failure_timeout_ms\":90000},"
	"\"definition\":{\"domain\":\"old\",\"uuid\":\"u-1\",\"memory_kib\":131072,\"vcpus\":1}}]";

static void do_resource_list(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	(void)ctx;
	(void)args;
	vcd_ctl_reply(req, json_pack("{s:o}", "resources", json_loads(resources_fixture, 0, NULL)));
}

/* {"name"}: that resource of the fixture, as resource-show answers. */
static void do_resource_show(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	json_t *all = json_loads(resources_fixture, 0, NULL), *r;
	const char *name = json_string_value(json_object_get(args, "name"));
	size_t i;

	(void)ctx;
	json_array_foreach(all, i, r) {
		if (name && strcmp(json_string_value(json_object_get(r, "name")), name) == 0) {
			vcd_ctl_reply(req, json_incref(r));
			json_decref(all);
			return;
		}
	}
	json_decref(all);
	vcd_ctl_fail(req, -ENOENT, "no resource named \"%s\"", name ? name : "");
}

/* The decision records of issue 6 as the agent's history answers them. */
static void do_policy_history(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	(void)ctx;
	(void)args;
	vcd_ctl_reply(req, json_loads(
		"{\"events\":["
		"{\"op\":\"resource-meta\",\"name\":\"web\",\"meta\":{\"priority\":10,"
		"\"prefer\":{\"2\":100,\"3\":50},\"ban\":[4],\"with\":[\"db\"],"
		"\"failure_timeout_ms\":60000},\"index\":41,\"event\":\"resource-meta\"},"
		"{\"op\":\"resource-meta\",\"name\":\"db\",\"meta\":{},\"index\":42,"
		"\"event\":\"resource-meta\"},"
		"{\"op\":\"resource-flags\",\"name\":\"web\",\"enabled\":false,\"target_node\":0,"
		"\"index\":43,\"event\":\"resource-flags\"},"
		"{\"op\":\"resource-fail\",\"name\":\"web\",\"node\":2,\"incarnation\":9,"
		"\"time_ms\":1795000000123,\"note\":\"monitor: OCF_NOT_RUNNING\",\"index\":44,"
		"\"event\":\"resource-fail\"},"
		"{\"op\":\"resource-cleanup\",\"name\":\"web\",\"node\":0,\"index\":45,"
		"\"event\":\"resource-cleanup\"},"
		"{\"op\":\"resource-cleanup\",\"name\":\"web\",\"node\":2,\"index\":46,"
		"\"event\":\"resource-cleanup\"},"
		"{\"op\":\"resource-migrate\",\"name\":\"web\",\"node\":3,\"incarnation\":11,"
		"\"from_node\":2,\"from_incarnation\":9,\"why\":\"resource move\",\"index\":47,"
		"\"event\":\"resource-migrate\"},"
		"{\"op\":\"resource-migrated\",\"name\":\"web\",\"node\":3,\"incarnation\":11,"
		"\"status\":\"running\",\"note\":\"live migration took 812 ms\",\"index\":48,"
		"\"event\":\"resource-migrated\"},"
		"{\"op\":\"resource-migrate-abort\",\"name\":\"web\",\"node\":2,"
		"\"note\":\"target fenced\",\"index\":49,\"event\":\"resource-migrate-abort\"},"
		"{\"op\":\"cluster-set\",\"shutdown_policy\":\"freeze\",\"migrate_max\":2,"
		"\"index\":50,\"event\":\"cluster-set\"}]}", 0, NULL));
}

/* The new changing commands answer with what they were sent (echo). */
static const struct vcd_ctl_cmd policy_commands[] = {
	{ "resource-add", true, do_echo },
	{ "resource-update", true, do_echo },
	{ "resource-enable", true, do_echo },
	{ "resource-disable", true, do_echo },
	{ "resource-maintenance", true, do_echo },
	{ "resource-move", true, do_echo },
	{ "resource-clear", true, do_echo },
	{ "resource-cleanup", true, do_echo },
	{ "cluster-maintenance", true, do_echo },
	{ "cluster-set", true, do_echo },
	{ "resource-list", false, do_resource_list },
	{ "resource-show", false, do_resource_show },
	{ "history", false, do_policy_history },
	{ NULL, false, NULL },
};

typedef int (*cli_fn)(struct cmd_ctx *, int, char **);

struct cli_case {
	cli_fn fn;
	const char *name;
	const char *argv[32];	/* NULL-terminated */
	const char *cmd;	/* the request's "cmd" */
	const char *args;	/* its "args", exactly (JSON) */
};

#define XML_FILE "/tmp/test-ctl-domain.xml"

static const struct cli_case request_cases[] = {
	{ cmd_resource_add, "resource add", { "web", "--domain", "web-vm", NULL },
	  "resource-add", "{\"name\":\"web\",\"domain\":\"web-vm\"}" },
	{ cmd_resource_add, "resource add", { "--xml", XML_FILE, "web", "--priority", "-7", NULL },
	  "resource-add", "{\"name\":\"web\",\"xml\":\"<domain/>\\n\",\"meta\":{\"priority\":-7}}" },
	{ cmd_resource_add, "resource add",
	  { "dummy", "--ocf", "ocf:heartbeat:Dummy", "--param", "state=/run/d.state",
	    "--param", "fake=", "--op", "start-timeout=20s", "--op", "monitor-interval=500ms",
	    "--op", "stop-timeout=2min", "--op", "monitor-timeout=20", "--prefer", "2",
	    "--prefer", "3=50", "--ban", "4", "--with", "db", "--failure-timeout", "1h", NULL },
	  "resource-add",
	  "{\"name\":\"dummy\",\"ocf\":\"ocf:heartbeat:Dummy\","
	  "\"params\":{\"state\":\"/run/d.state\",\"fake\":\"\"},"
	  "\"ops\":{\"start_ms\":20000,\"monitor_interval_ms\":500,\"stop_ms\":120000,"
	  "\"monitor_ms\":20000},"
	  "\"meta\":{\"prefer\":{\"2\":100,\"3\":50},\"ban\":[4],\"with\":[\"db\"],"
	  "\"failure_timeout_ms\":3600000}}" },
	{ cmd_resource_update, "resource update",
	  { "web", "--priority", "10", "--no-prefer", "--ban", "3", "--ban", "4", "--with", "db",
	    "--apart", "web2", "--after", "db", "--after", "cache", "--stickiness", "100",
	    "--migration-threshold", "0", "--failure-timeout", "0", "--no-with", NULL },
	  NULL, NULL },	/* --with and --no-with contradict: a usage error */
	{ cmd_resource_update, "resource update",
	  { "web", "--priority", "10", "--no-prefer", "--ban", "3", "--ban", "4",
	    "--apart", "web2", "--after", "db", "--after", "cache", "--stickiness", "100",
	    "--migration-threshold", "0", "--failure-timeout", "0", "--no-with", NULL },
	  "resource-update",
	  "{\"name\":\"web\",\"meta\":{\"priority\":10,\"prefer\":null,\"ban\":[3,4],"
	  "\"apart\":[\"web2\"],\"after\":[\"db\",\"cache\"],\"stickiness\":100,"
	  "\"migration_threshold\":0,\"failure_timeout_ms\":0,\"with\":null}}" },
	{ cmd_resource_update, "resource update",
	  { "web", "--no-priority", "--no-ban", "--no-apart", "--no-after", "--no-stickiness",
	    "--no-migration-threshold", "--no-failure-timeout", NULL },
	  "resource-update",
	  "{\"name\":\"web\",\"meta\":{\"priority\":null,\"ban\":null,\"apart\":null,"
	  "\"after\":null,\"stickiness\":null,\"migration_threshold\":null,"
	  "\"failure_timeout_ms\":null}}" },
	{ cmd_resource_enable, "resource enable", { "web", NULL },
	  "resource-enable", "{\"name\":\"web\"}" },
	{ cmd_resource_disable, "resource disable", { "web", "--timeout", "2", NULL },
	  "resource-disable", "{\"name\":\"web\"}" },
	{ cmd_resource_maintenance, "resource maintenance", { "web", NULL },
	  "resource-maintenance", "{\"name\":\"web\",\"maintenance\":true}" },
	{ cmd_resource_maintenance, "resource maintenance", { "web", "off", NULL },
	  "resource-maintenance", "{\"name\":\"web\",\"maintenance\":false}" },
	{ cmd_resource_move, "resource move", { "web", "3", NULL },
	  "resource-move", "{\"name\":\"web\",\"node\":3}" },
	{ cmd_resource_clear, "resource clear", { "web", NULL },
	  "resource-clear", "{\"name\":\"web\"}" },
	{ cmd_resource_cleanup, "resource cleanup", { "web", NULL },
	  "resource-cleanup", "{\"name\":\"web\"}" },
	{ cmd_resource_cleanup, "resource cleanup", { "--node", "2", "web", NULL },
	  "resource-cleanup", "{\"name\":\"web\",\"node\":2}" },
	{ cmd_cluster_maintenance, "cluster maintenance", { NULL },
	  "cluster-maintenance", "{\"maintenance\":true}" },
	{ cmd_cluster_maintenance, "cluster maintenance", { "off", NULL },
	  "cluster-maintenance", "{\"maintenance\":false}" },
	{ cmd_cluster_set, "cluster set", { "shutdown-policy", "freeze", NULL },
	  "cluster-set", "{\"shutdown_policy\":\"freeze\"}" },
	{ cmd_cluster_set, "cluster set", { "migrate-max", "4", "shutdown-policy", "stop", NULL },
	  "cluster-set", "{\"migrate_max\":4,\"shutdown_policy\":\"stop\"}" },
};

/* Usage errors: exit 2, and nothing reaches the agent (which would
 * answer, exit 0). */
static const struct cli_case usage_cases[] = {
	{ cmd_resource_add, "resource add", { "--domain", "web", NULL }, NULL, NULL },
	{ cmd_resource_add, "resource add", { "web", NULL }, NULL, NULL },
	{ cmd_resource_add, "resource add", { "web", "--domain", "a", "--ocf", "ocf:x:y", NULL },
	  NULL, NULL },
	{ cmd_resource_add, "resource add", { "web", "--ocf", "heartbeat:Dummy", NULL }, NULL, NULL },
	{ cmd_resource_add, "resource add", { "web", "--ocf", "ocf:heartbeat:", NULL }, NULL, NULL },
	{ cmd_resource_add, "resource add", { "web", "--domain", "w", "--param", "a=b", NULL },
	  NULL, NULL },
	{ cmd_resource_add, "resource add", { "w", "--ocf", "ocf:a:b", "--param", "a", NULL },
	  NULL, NULL },
	{ cmd_resource_add, "resource add", { "w", "--ocf", "ocf:a:b", "--param", "1a=b", NULL },
	  NULL, NULL },
	{ cmd_resource_add, "resource add",
	  { "w", "--ocf", "ocf:a:b", "--param", "a=1", "--param", "a=2", NULL }, NULL, NULL },
	{ cmd_resource_add, "resource add",
	  { "w", "--ocf", "ocf:a:b", "--op", "start-timeout=0", NULL }, NULL, NULL },
	{ cmd_resource_add, "resource add",
	  { "w", "--ocf", "ocf:a:b", "--op", "start-timeout=5 s", NULL }, NULL, NULL },
	{ cmd_resource_add, "resource add",
	  { "w", "--ocf", "ocf:a:b", "--op", "start-timeout=2d", NULL }, NULL, NULL },
	{ cmd_resource_add, "resource add",
	  { "w", "--ocf", "ocf:a:b", "--op", "start-timeout=25h", NULL }, NULL, NULL },
	{ cmd_resource_add, "resource add",
	  { "w", "--ocf", "ocf:a:b", "--op", "reload-timeout=5s", NULL }, NULL, NULL },
	{ cmd_resource_add, "resource add", { "w", "--domain", "w", "--no-ban", NULL }, NULL, NULL },
	{ cmd_resource_update, "resource update", { "web", NULL }, NULL, NULL },
	{ cmd_resource_update, "resource update", { "--priority", "1", NULL }, NULL, NULL },
	{ cmd_resource_update, "resource update", { "web", "--priority", "1000001", NULL },
	  NULL, NULL },
	{ cmd_resource_update, "resource update", { "web", "--priority", "1x", NULL }, NULL, NULL },
	{ cmd_resource_update, "resource update", { "web", "--priority", "1", "--priority", "2", NULL },
	  NULL, NULL },
	{ cmd_resource_update, "resource update", { "web", "--prefer", "0", NULL }, NULL, NULL },
	{ cmd_resource_update, "resource update", { "web", "--prefer", "2=0", NULL }, NULL, NULL },
	{ cmd_resource_update, "resource update", { "web", "--prefer", "2=", NULL }, NULL, NULL },
	{ cmd_resource_update, "resource update", { "web", "--prefer", "=5", NULL }, NULL, NULL },
	{ cmd_resource_update, "resource update", { "web", "--prefer", "0000000000000002", NULL },
	  NULL, NULL },
	{ cmd_resource_update, "resource update", { "web", "--prefer", "2", "--prefer", "2=5", NULL },
	  NULL, NULL },
	{ cmd_resource_update, "resource update", { "web", "--ban", "3", "--ban", "3", NULL },
	  NULL, NULL },
	{ cmd_resource_update, "resource update", { "web", "--ban", "x", NULL }, NULL, NULL },
	{ cmd_resource_update, "resource update", { "web", "--with", "", NULL }, NULL, NULL },
	{ cmd_resource_update, "resource update", { "web", "--no-ban", "--ban", "3", NULL },
	  NULL, NULL },
	{ cmd_resource_update, "resource update", { "web", "--no-ban", "--no-ban", NULL }, NULL, NULL },
	{ cmd_resource_update, "resource update", { "web", "--stickiness", "-1", NULL }, NULL, NULL },
	{ cmd_resource_update, "resource update", { "web", "--failure-timeout", "5x", NULL },
	  NULL, NULL },
	{ cmd_resource_update, "resource update", { "web", "--failure-timeout", "367d", NULL },
	  NULL, NULL },
	{ cmd_resource_update, "resource update", { "web", "--failure-timeout", "8785h", NULL },
	  NULL, NULL },
	{ cmd_resource_update, "resource update", { "web", "--failure-timeout", NULL }, NULL, NULL },
	{ cmd_resource_maintenance, "resource maintenance", { "web", "maybe", NULL }, NULL, NULL },
	{ cmd_resource_move, "resource move", { "web", NULL }, NULL, NULL },
	{ cmd_resource_move, "resource move", { "web", "0", NULL }, NULL, NULL },
	{ cmd_resource_cleanup, "resource cleanup", { "web", "--node", "x", NULL }, NULL, NULL },
	{ cmd_resource_enable, "resource enable", { NULL }, NULL, NULL },
	{ cmd_cluster_maintenance, "cluster maintenance", { "yes", NULL }, NULL, NULL },
	{ cmd_cluster_set, "cluster set", { NULL }, NULL, NULL },
	{ cmd_cluster_set, "cluster set", { "shutdown-policy", "hibernate", NULL }, NULL, NULL },
	{ cmd_cluster_set, "cluster set", { "shutdown-policy", NULL }, NULL, NULL },
	{ cmd_cluster_set, "cluster set", { "migrate-max", "0", NULL }, NULL, NULL },
	{ cmd_cluster_set, "cluster set", { "migrate-max", "65", NULL }, NULL, NULL },
	{ cmd_cluster_set, "cluster set", { "quorum", "3", NULL }, NULL, NULL },
	{ cmd_cluster_set, "cluster set", { "migrate-max", "2", "migrate-max", "3", NULL },
	  NULL, NULL },
};

/* Run @c against the server at @path; its exit code, stdout in @out. */
static int run_case(const char *path, const struct cli_case *c, bool json, char *out,
		    size_t size)
{
	char *argv[32];
	int argc = 0;

	while (c->argv[argc]) {
		argv[argc] = (char *)c->argv[argc];
		argc++;
	}
	return run_cli(path, c->fn, c->name, json, argv, argc, out, size);
}

/* The request @c sent, as the echo answered it, is exactly @c->cmd and @c->args. */
static bool request_is(const char *path, const struct cli_case *c)
{
	json_t *res, *want = json_loads(c->args, 0, NULL);
	char out[4096];
	bool same;

	CHECK(want != NULL);
	CHECK_EQ(run_case(path, c, true, out, sizeof(out)), VC_EXIT_OK);
	res = json_loads(out, 0, NULL);
	CHECK(res != NULL);
	CHECK_STR(json_string_value(json_object_get(res, "cmd")), c->cmd);
	same = json_equal(json_object_get(res, "args"), want);
	if (!same) {
		char *got = json_dumps(json_object_get(res, "args"), JSON_COMPACT);

		printf("# %s: sent %s\n#  wanted %s\n", c->name, got ? got : "?", c->args);
		free(got);
	}
	json_decref(res);
	json_decref(want);
	return same;
}

TEST(policy_requests)
{
	struct server *s = calloc(1, sizeof(*s));
	FILE *xml = fopen(XML_FILE, "w");
	size_t i;
	bool ok = true;

	CHECK(xml && fputs("<domain/>\n", xml) >= 0 && fclose(xml) == 0);
	s->table = policy_commands;
	CHECK_EQ(server_start(s, 0, 0, 0), 0);
	for (i = 0; i < sizeof(request_cases) / sizeof(request_cases[0]); i++) {
		const struct cli_case *c = &request_cases[i];
		char out[4096];

		if (c->cmd) {
			ok &= request_is(s->path, c);
		} else if (run_case(s->path, c, true, out, sizeof(out)) != VC_EXIT_USAGE) {
			printf("# request case %zu: not a usage error\n", i);
			ok = false;
		}
	}
	for (i = 0; i < sizeof(usage_cases) / sizeof(usage_cases[0]); i++) {
		char out[4096];
		int r = run_case(s->path, &usage_cases[i], true, out, sizeof(out));

		if (r != VC_EXIT_USAGE) {
			printf("# usage case %zu (%s %s ...): exit %d\n", i, usage_cases[i].name,
			       usage_cases[i].argv[0] ? usage_cases[i].argv[0] : "", r);
			ok = false;
		}
	}
	unlink(XML_FILE);
	CHECK_EQ(server_stop(s), 0);
	return ok;
}

/* Without --json: the agent's "message" when it gives one, else ours. */
TEST(policy_change_messages)
{
	static const struct cli_case move = { cmd_resource_move, "resource move",
					      { "web", "3", NULL }, NULL, NULL };
	static const struct cli_case cleanup = { cmd_resource_cleanup, "resource cleanup",
						 { "web", NULL }, NULL, NULL };
	static const struct cli_case cleanup2 = { cmd_resource_cleanup, "resource cleanup",
						  { "web", "--node", "2", NULL }, NULL, NULL };
	static const struct cli_case set = { cmd_cluster_set, "cluster set",
					     { "migrate-max", "4", "shutdown-policy", "stop", NULL },
					     NULL, NULL };
	static const struct cli_case maint = { cmd_resource_maintenance, "resource maintenance",
					       { "web", "off", NULL }, NULL, NULL };
	static const struct cli_case update = { cmd_resource_update, "resource update",
						{ "web", "--no-ban", NULL }, NULL, NULL };
	struct server *s = calloc(1, sizeof(*s));
	char out[4096];

	s->table = policy_commands;
	CHECK_EQ(server_start(s, 0, 0, 0), 0);
	CHECK_EQ(run_case(s->path, &move, false, out, sizeof(out)), VC_EXIT_OK);
	CHECK_STR(out, "resource web: moving to node 3\n"
		  "the move leaves a constraint: \"run on node 3\" (clear it with "
		  "'vclusterctl resource clear web')\n");
	CHECK_EQ(run_case(s->path, &cleanup, false, out, sizeof(out)), VC_EXIT_OK);
	CHECK_STR(out, "resource web: failures on every node forgotten\n");
	CHECK_EQ(run_case(s->path, &cleanup2, false, out, sizeof(out)), VC_EXIT_OK);
	CHECK_STR(out, "resource web: failures on node 2 forgotten\n");
	CHECK_EQ(run_case(s->path, &set, false, out, sizeof(out)), VC_EXIT_OK);
	CHECK_STR(out, "cluster set: migrate-max 4 shutdown-policy stop\n");
	CHECK_EQ(run_case(s->path, &maint, false, out, sizeof(out)), VC_EXIT_OK);
	CHECK_STR(out, "resource web: maintenance off (the cluster manages it again)\n");
	CHECK_EQ(run_case(s->path, &update, false, out, sizeof(out)), VC_EXIT_OK);
	CHECK_STR(out, "resource web: policy updated\n");
	CHECK_EQ(server_stop(s), 0);

	/* the agent's own message wins (the first table answers "done") */
	s = calloc(1, sizeof(*s));
	CHECK_EQ(server_start(s, 0, 0, 0), 0);
	{
		static const struct cli_case standby = { cmd_node_standby, "node standby",
							 { "4", NULL }, NULL, NULL };

		CHECK_EQ(run_case(s->path, &standby, false, out, sizeof(out)), VC_EXIT_OK);
		CHECK_STR(out, "done\n");
	}
	CHECK_EQ(server_stop(s), 0);
	return true;
}

TEST(policy_printing)
{
	static const struct cli_case list = { cmd_resource_list, "resource list", { NULL },
					      NULL, NULL };
	static const struct cli_case show_web = { cmd_resource_show, "resource show",
						  { "web", NULL }, NULL, NULL };
	static const struct cli_case show_old = { cmd_resource_show, "resource show",
						  { "old", NULL }, NULL, NULL };
	static const struct cli_case history = { cmd_history, "history", { NULL }, NULL, NULL };
	struct server *s = calloc(1, sizeof(*s));
	char out[8192];

	setenv("TZ", "UTC", 1);
	tzset();
	s->table = policy_commands;
	CHECK_EQ(server_start(s, 0, 0, 0), 0);

	/* the FLAGS column is as wide as the widest; expired failures do not show */
	CHECK_EQ(run_case(s->path, &list, false, out, sizeof(out)), VC_EXIT_OK);
	CHECK_STR(out,
		  "\n"
		  "RESOURCE             TYPE WHERE    STATUS    FLAGS                                                                NOTE\n"
		  "db                   vm   node 1   running   -                                                                    qemu pid 42\n"
		  "web                  ocf  node 2   running   disabled,maintenance,moving to 3,move target 3,fails 2@h1 1@h3 4@h10\n"
		  "old                  vm   -        stopped   frozen for 2\n");

	CHECK_EQ(run_case(s->path, &show_web, false, out, sizeof(out)), VC_EXIT_OK);
	CHECK(strstr(out, "\nagent ocf:heartbeat:Dummy, monitor every 10 s\n"
			  "timeouts: start 20 s, stop 2 min, monitor 500 ms\n"
			  "params: state=/run/web.state fake=1\n"
			  "policy:\n"
			  "  priority             10\n"
			  "  prefer               node 2 (score 100), node 10 (score 50)\n"
			  "  ban                  node 4, node 5\n"
			  "  with                 db\n"
			  "  after                db, cache\n"
			  "  migration-threshold  0 (failures never ban it from a node)\n"
			  "  failure-timeout      0 (failures never expire)\n"
			  "failures:\n"
			  "  node 1: 2, the last at 1970-01-01 00:00:01\n"
			  "  node 3: 1, the last at 2026-11-18 11:06:40\n"
			  "  node 10: 4, the last at 1970-01-01 00:00:01\n"));

	CHECK_EQ(run_case(s->path, &show_old, false, out, sizeof(out)), VC_EXIT_OK);
	CHECK(strstr(out, "\ndomain old, UUID u-1, 128 MiB, 1 vCPUs\n"
			  "policy:\n"
			  "  failure-timeout      90 s\n"
			  "failures:\n"
			  "  node 2: 5, the last at 1970-01-01 00:00:01 (expired: older than the "
			  "failure-timeout)\n"));

	CHECK_EQ(run_case(s->path, &history, false, out, sizeof(out)), VC_EXIT_OK);
	CHECK_STR(out,
		  "- resource-meta name=web priority=10 prefer=2:100,3:50 ban=4 with=db "
		  "failure_timeout_ms=60000 index=41\n"
		  "- resource-meta name=db meta=defaults index=42\n"
		  "- resource-flags name=web enabled=no target_node=none index=43\n"
		  "2026-11-18 11:06:40.123 resource-fail name=web node=2 incarnation=9 "
		  "note=\"monitor: OCF_NOT_RUNNING\" index=44\n"
		  "- resource-cleanup name=web node=all index=45\n"
		  "- resource-cleanup name=web node=2 index=46\n"
		  "- resource-migrate name=web node=3 incarnation=11 from_node=2 from_incarnation=9 "
		  "why=\"resource move\" index=47\n"
		  "- resource-migrated name=web node=3 incarnation=11 status=running "
		  "note=\"live migration took 812 ms\" index=48\n"
		  "- resource-migrate-abort name=web node=2 note=\"target fenced\" index=49\n"
		  "- cluster-set shutdown_policy=freeze migrate_max=2 index=50\n");
	CHECK_EQ(server_stop(s), 0);
	return true;
}

static const struct vc_test tests[] = {
	T(request_reply),
	T(async_reply),
	T(async_reply_after_client_left),
	T(malformed_and_unknown),
	T(oversize_line),
	T(eperm_for_unprivileged),
	T(watch_broadcast),
	T(slow_watcher_dropped),
	T(stale_socket_replaced),
	T(live_socket_refused),
	T(connection_limit),
	T(cli_against_fake_agent),
	T(policy_requests),
	T(policy_change_messages),
	T(policy_printing),
	{ 0 },
};

#include "tap-main.h"
