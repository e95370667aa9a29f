// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * OCF agents as real child processes on a real libuv loop: the
 * ocf:heartbeat:Dummy of resource-agents (in /usr/lib/ocf), and small
 * shell scripts this test writes into a temporary OCF_ROOT
 * ($TMPDIR/vcd-ocf-XXXXXX/resource.d/test/), removed at the end.
 *
 * Each test runs the loop until its done() or validation callback ran,
 * with a deadline; "setup" comes first and "teardown" last (it also
 * checks that every op closed its handles: the loop closes).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "../ocf.h"
#include "tap.h"

#define SYS_ROOT	"/usr/lib/ocf"
#define DEADLINE_MS	15000

static uv_loop_t loop_storage;
static uv_loop_t *loop;
static char tmp_dir[256];
static char root[300];		/* tmp_dir/root: the scripts' OCF_ROOT */

/* ------------------------------------------------------------------ */
/* Loop helpers                                                         */

static void deadline_hit(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

/* Let closed handles finish closing (an op frees itself there). */
static void settle(void)
{
	int i;

	for (i = 0; i < 3; i++)
		uv_run(loop, UV_RUN_NOWAIT);
}

/* Run the loop until *@flag or @ms pass; *@flag. */
static bool run_until(const bool *flag, unsigned ms)
{
	uv_timer_t t;
	bool expired = false;

	uv_timer_init(loop, &t);
	t.data = &expired;
	uv_timer_start(&t, deadline_hit, ms, 0);
	while (!*flag && !expired)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	settle();
	if (!*flag)
		printf("# nothing came within %u ms\n", ms);
	return *flag;
}

/* The loop runs meanwhile: agents are children of this loop. */
static void sleep_ms(unsigned ms)
{
	uv_timer_t t;
	bool expired = false;

	uv_timer_init(loop, &t);
	t.data = &expired;
	uv_timer_start(&t, deadline_hit, ms, 0);
	while (!expired)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	settle();
}

struct got {
	bool done;
	int calls;
	struct vcd_ocf_result res;	/* output: the copy below */
	char *output;
	uint64_t wall_ns;		/* from vcd_ocf_run to done() */
	uint64_t t0;
};

static void got_done(void *arg, const struct vcd_ocf_result *res)
{
	struct got *g = arg;

	g->calls++;
	g->done = true;
	g->wall_ns = uv_hrtime() - g->t0;
	g->res = *res;
	g->res.output = NULL;
	free(g->output);
	g->output = malloc(res->output_len + 1);
	if (g->output) {
		memcpy(g->output, res->output, res->output_len);
		g->output[res->output_len] = '\0';
	}
}

static void got_reset(struct got *g)
{
	free(g->output);
	memset(g, 0, sizeof(*g));
}

/* Run one action to its end; the vcd_ocf_run() result. */
static int run_action(const struct vcd_ocf_spec *spec, enum vcd_ocf_action a,
		      uint32_t timeout_ms, uint32_t interval_ms, struct got *g)
{
	int r;

	got_reset(g);
	g->t0 = uv_hrtime();
	r = vcd_ocf_run(loop, spec, a, timeout_ms, interval_ms, got_done, g, NULL);
	if (r == 0)
		run_until(&g->done, DEADLINE_MS);
	return r;
}

struct vgot {
	bool done;
	int calls;
	int err;
	char msg[8192];
	json_t *def;
};

static void vgot_done(void *arg, int err, const char *msg, json_t *definition)
{
	struct vgot *v = arg;

	v->calls++;
	v->done = true;
	v->err = err;
	snprintf(v->msg, sizeof(v->msg), "%s", msg);
	v->def = definition;
}

static int validate(const char *ocf_root, const char *name, const char *agent,
		    const char *params_json, const char *ops_json, struct vgot *v)
{
	json_t *params = params_json ? json_loads(params_json, 0, NULL) : NULL;
	json_t *ops = ops_json ? json_loads(ops_json, 0, NULL) : NULL;
	int r;

	memset(v, 0, sizeof(*v));
	r = vcd_ocf_validate(loop, ocf_root, name, agent, params, ops, vgot_done, v);
	/* The validation keeps its own copies. */
	json_decref(params);
	json_decref(ops);
	if (r == 0)
		run_until(&v->done, DEADLINE_MS);
	return r;
}

/* ------------------------------------------------------------------ */
/* Files and processes                                                  */

static bool write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	size_t len = strlen(text);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, text, len) == (ssize_t)len;
	/* O_CREAT does not apply the mode to a file that was there. */
	ok = fchmod(fd, mode) == 0 && ok;
	return close(fd) == 0 && ok;
}

static bool read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return true;
}

static void tmp_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmp_dir, name);
}

static void tmp_remove(const char *name)
{
	char path[400];

	tmp_path(path, sizeof(path), name);
	unlink(path);
}

/* A pid from a file the script wrote, once it is there (the loop runs
 * meanwhile: the agent is a child of this loop). */
static pid_t wait_pid_file(const char *name, unsigned ms)
{
	char path[400], text[32];
	uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000;

	tmp_path(path, sizeof(path), name);
	while (uv_hrtime() < end) {
		if (read_text(path, text, sizeof(text)) && strchr(text, '\n'))
			return (pid_t)atoi(text);
		sleep_ms(10);
	}
	return 0;
}

/* Field @n (1-based, as proc(5) counts) of /proc/PID/stat; -1 if gone. */
static long proc_stat_field(pid_t pid, int n, char *state)
{
	char path[64], buf[1024], *p;
	long v = -1;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!read_text(path, buf, sizeof(buf)))
		return -1;
	p = strrchr(buf, ')');	/* the command may hold spaces */
	if (!p || p[1] != ' ')
		return -1;
	p += 2;			/* field 3, the state */
	if (state)
		*state = *p;
	for (i = 3; i < n && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p)
		v = strtol(p, NULL, 10);
	return v;
}

/* Alive and not a zombie (an orphan's zombie may wait for a slow init). */
static bool alive(pid_t pid)
{
	char state = 0;

	proc_stat_field(pid, 3, &state);
	return state != 0 && state != 'Z' && state != 'X';
}

static bool gone_within(pid_t pid, unsigned ms)
{
	uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000;

	while (alive(pid)) {
		if (uv_hrtime() > end)
			return false;
		sleep_ms(10);
	}
	return true;
}

static bool dummy_installed(void)
{
	if (access(SYS_ROOT "/resource.d/heartbeat/Dummy", X_OK) == 0)
		return true;
	printf("# %s/resource.d/heartbeat/Dummy is missing: install resource-agents\n", SYS_ROOT);
	return false;
}

/* ------------------------------------------------------------------ */
/* The test agents                                                      */

static const char script_hang[] =
	"#!/bin/sh\n"
	"echo $$ > \"$OCF_RESKEY_dir/leader\"\n"
	"# a grandchild in the same group that ignores SIGTERM\n"
	"(trap '' TERM; exec sleep 30) &\n"
	"echo $! > \"$OCF_RESKEY_dir/grandchild\"\n"
	"sleep 30\n";

static const char script_stubborn[] =
	"#!/bin/sh\n"
	"trap '' TERM\n"
	"echo $$ > \"$OCF_RESKEY_dir/leader\"\n"
	"sleep 30\n";

/* Exits 0 on SIGTERM: a timeout must not read as success. */
static const char script_graceful[] =
	"#!/bin/sh\n"
	"trap 'exit 0' TERM\n"
	"sleep 30 &\n"
	"wait\n";

static const char script_exitcode[] =
	"#!/bin/sh\n"
	"exit \"$OCF_RESKEY_code\"\n";

static const char script_env[] =
	"#!/bin/sh\n"
	"{\n"
	"  env\n"
	"  echo \"ACTION=$1\"\n"
	"  echo \"PID=$$\"\n"
	"  echo \"PGID=$(cut -d' ' -f5 /proc/$$/stat)\"\n"
	"  echo \"SID=$(cut -d' ' -f6 /proc/$$/stat)\"\n"
	"  echo \"STDIN=$(readlink /proc/$$/fd/0)\"\n"
	"} > \"$OCF_RESKEY_out\"\n";

static const char script_big[] =
	"#!/bin/sh\n"
	"head -c \"$OCF_RESKEY_n\" /dev/zero | tr '\\000' x\n";

static const char script_chatty[] =
	"#!/bin/sh\n"
	"i=1\n"
	"while [ $i -le 100 ]; do echo \"line $i\" >&2; i=$((i + 1)); done\n"
	"sleep 0.2\n"
	"echo 'to stdout'\n"
	"sleep 0.1\n"
	"printf 'ctl \\001 bad \\377 ok \\303\\251\\n' >&2\n"
	"exit 1\n";

static const char script_daemonish[] =
	"#!/bin/sh\n"
	"# leaves a process behind that holds stdout and stderr\n"
	"sleep 5 &\n"
	"echo $! > \"$OCF_RESKEY_dir/bg\"\n"
	"exit 0\n";

static const char script_tagent[] =
	"#!/bin/sh\n"
	"case \"$1\" in\n"
	"meta-data) cat <<'EOF'\n"
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n"
	"<resource-agent name=\"tagent\" version=\"1.0\">\n"
	"<version>1.1</version>\n"
	"<shortdesc lang=\"en\">test agent</shortdesc>\n"
	"<parameters>\n"
	"<parameter name=\"vrc\" required=\"1\"><content type=\"integer\"/></parameter>\n"
	"<parameter name=\"verbose\"><content type=\"boolean\" default=\"false\"/></parameter>\n"
	"</parameters>\n"
	"<actions>\n"
	"<action name=\"start\" timeout=\"7s\"/>\n"
	"<action name=\"stop\" timeout=\"8s\"/>\n"
	"<action name=\"monitor\" timeout=\"9s\" interval=\"0\"/>\n"
	"<action name=\"validate-all\" timeout=\"5s\"/>\n"
	"<action name=\"meta-data\" timeout=\"5s\"/>\n"
	"</actions>\n"
	"</resource-agent>\n"
	"EOF\n"
	"exit 0;;\n"
	"validate-all) echo \"validate says $OCF_RESKEY_vrc\" >&2; exit \"$OCF_RESKEY_vrc\";;\n"
	"*) exit 3;;\n"
	"esac\n";

static const char script_notxml[] =
	"#!/bin/sh\n"
	"echo 'usage: notxml {start|stop}'\n"
	"exit 0\n";

static const struct {
	const char *name;
	const char *text;
	mode_t mode;
} scripts[] = {
	{ "hang", script_hang, 0755 },
	{ "stubborn", script_stubborn, 0755 },
	{ "graceful", script_graceful, 0755 },
	{ "exitcode", script_exitcode, 0755 },
	{ "env", script_env, 0755 },
	{ "big", script_big, 0755 },
	{ "chatty", script_chatty, 0755 },
	{ "daemonish", script_daemonish, 0755 },
	{ "tagent", script_tagent, 0755 },
	{ "notxml", script_notxml, 0755 },
	{ "noexec", script_exitcode, 0644 },
};

static struct vcd_ocf_spec test_spec(const char *type, json_t *params)
{
	struct vcd_ocf_spec s = {
		.ocf_root = root, .provider = "test", .type = type,
		.instance = "r1", .params = params,
	};

	return s;
}

/* {"dir": tmp_dir} and more pairs from a JSON text. */
static json_t *params_with_dir(const char *more_json)
{
	json_t *p = more_json ? json_loads(more_json, 0, NULL) : json_object();

	json_object_set_new(p, "dir", json_string(tmp_dir));
	return p;
}

/* ------------------------------------------------------------------ */
/* Tests                                                                */

TEST(setup)
{
	const char *tmp = getenv("TMPDIR");
	char path[400];
	size_t i;

	CHECK_EQ(uv_loop_init(&loop_storage), 0);
	loop = &loop_storage;
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/vcd-ocf-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	CHECK(mkdtemp(tmp_dir));
	snprintf(root, sizeof(root), "%s/root", tmp_dir);
	CHECK_EQ(mkdir(root, 0755), 0);
	snprintf(path, sizeof(path), "%s/resource.d", root);
	CHECK_EQ(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/resource.d/test", root);
	CHECK_EQ(mkdir(path, 0755), 0);
	for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		snprintf(path, sizeof(path), "%s/resource.d/test/%s", root, scripts[i].name);
		CHECK(write_file(path, scripts[i].text, scripts[i].mode));
	}
	/* Must not reach an agent. */
	CHECK_EQ(setenv("VCD_OCF_TEST_SECRET", "s3cret", 1), 0);
	return true;
}

TEST(parse_agent)
{
	char p[VCD_OCF_NAME_LEN], t[VCD_OCF_NAME_LEN], why[256];
	char longer[200];

	CHECK_EQ(vcd_ocf_parse_agent("ocf:heartbeat:Dummy", p, sizeof(p), t, sizeof(t),
				     why, sizeof(why)), 0);
	CHECK_STR(p, "heartbeat");
	CHECK_STR(t, "Dummy");
	CHECK_EQ(vcd_ocf_parse_agent("ocf:pacemaker:Stateful", p, sizeof(p), t, sizeof(t),
				     why, sizeof(why)), 0);
	CHECK_STR(t, "Stateful");

	CHECK_EQ(vcd_ocf_parse_agent("heartbeat:Dummy", p, sizeof(p), t, sizeof(t),
				     why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "ocf:PROVIDER:TYPE"));
	CHECK_EQ(vcd_ocf_parse_agent("ocf:heartbeat:Dummy:x", p, sizeof(p), t, sizeof(t),
				     why, sizeof(why)), -EINVAL);
	CHECK_EQ(vcd_ocf_parse_agent("lsb:heartbeat:Dummy", p, sizeof(p), t, sizeof(t),
				     why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "only ocf"));
	CHECK_EQ(vcd_ocf_parse_agent("ocf::Dummy", p, sizeof(p), t, sizeof(t),
				     why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "provider is empty"));
	CHECK_EQ(vcd_ocf_parse_agent("ocf:heartbeat:", p, sizeof(p), t, sizeof(t),
				     why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "type is empty"));
	CHECK_EQ(vcd_ocf_parse_agent("ocf:..:Dummy", p, sizeof(p), t, sizeof(t),
				     why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "starts with '.'"));
	CHECK_EQ(vcd_ocf_parse_agent("ocf:heartbeat:../../bin/sh", p, sizeof(p), t, sizeof(t),
				     why, sizeof(why)), -EINVAL);
	CHECK_EQ(vcd_ocf_parse_agent("ocf:a/b:Dummy", p, sizeof(p), t, sizeof(t),
				     why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "'/'"));
	CHECK(strstr(why, "valid are"));
	CHECK_EQ(vcd_ocf_parse_agent("", p, sizeof(p), t, sizeof(t), why, sizeof(why)), -EINVAL);
	CHECK_EQ(vcd_ocf_parse_agent(NULL, p, sizeof(p), t, sizeof(t), why, sizeof(why)), -EINVAL);
	memset(longer, 'a', sizeof(longer));
	memcpy(longer, "ocf:x:", 6);
	longer[sizeof(longer) - 1] = '\0';
	CHECK_EQ(vcd_ocf_parse_agent(longer, p, sizeof(p), t, sizeof(t), why, sizeof(why)),
		 -EINVAL);
	CHECK(strstr(why, "longer than 63"));
	return true;
}

TEST(durations)
{
	static const struct {
		const char *text;
		uint64_t ms;
	} good[] = {
		{ "20s", 20000 }, { "20", 20000 }, { "2min", 120000 }, { "2m", 120000 },
		{ "500ms", 500 }, { "1h", 3600000 }, { " 5 s ", 5000 }, { "0", 0 },
		{ "30sec", 30000 }, { "250msec", 250 }, { "2hr", 7200000 }, { "10S", 10000 },
	};
	static const char *const bad[] = { "", "s", "abc", "-5s", "1.5s", "5 parsecs", "5s5" };
	char why[200];
	uint64_t ms;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = 12345;
		CHECK_EQ(vcd_ocf_parse_duration_ms(good[i].text, &ms, why, sizeof(why)), 0);
		CHECK_EQ(ms, good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		CHECK_EQ(vcd_ocf_parse_duration_ms(bad[i], &ms, why, sizeof(why)), -EINVAL);
		CHECK(strstr(why, bad[i]));
		CHECK(strstr(why, "ms"));	/* it says what is valid */
	}
	CHECK_EQ(vcd_ocf_parse_duration_ms("99999999999999999999", &ms, why, sizeof(why)), -ERANGE);
	CHECK_EQ(vcd_ocf_parse_duration_ms("18446744073709551h", &ms, why, sizeof(why)), -ERANGE);
	return true;
}

TEST(rc_names)
{
	CHECK_STR(vcd_ocf_rc_name(0), "OCF_SUCCESS");
	CHECK_STR(vcd_ocf_rc_name(1), "OCF_ERR_GENERIC");
	CHECK_STR(vcd_ocf_rc_name(2), "OCF_ERR_ARGS");
	CHECK_STR(vcd_ocf_rc_name(3), "OCF_ERR_UNIMPLEMENTED");
	CHECK_STR(vcd_ocf_rc_name(4), "OCF_ERR_PERM");
	CHECK_STR(vcd_ocf_rc_name(5), "OCF_ERR_INSTALLED");
	CHECK_STR(vcd_ocf_rc_name(6), "OCF_ERR_CONFIGURED");
	CHECK_STR(vcd_ocf_rc_name(7), "OCF_NOT_RUNNING");
	CHECK_STR(vcd_ocf_rc_name(8), "OCF_RUNNING_MASTER");
	CHECK_STR(vcd_ocf_rc_name(9), "OCF_FAILED_MASTER");
	CHECK_STR(vcd_ocf_rc_name(-1), "killed");
	CHECK_STR(vcd_ocf_rc_name(10), "unknown");
	CHECK_STR(vcd_ocf_rc_name(-7), "unknown");
	CHECK_STR(vcd_ocf_action_name(VCD_OCF_META_DATA), "meta-data");
	CHECK_STR(vcd_ocf_action_name(VCD_OCF_VALIDATE_ALL), "validate-all");
	return true;
}

/* The real Dummy through its life: probe, start, monitor, stop, monitor. */
TEST(dummy_lifecycle)
{
	char state[400];
	json_t *params;
	struct vcd_ocf_spec spec;
	struct got g = { 0 };
	bool ok = false;

	if (!dummy_installed())
		return false;
	tmp_path(state, sizeof(state), "dummy.state");
	params = json_pack("{s:s}", "state", state);
	spec = (struct vcd_ocf_spec){ .ocf_root = SYS_ROOT, .provider = "heartbeat",
				      .type = "Dummy", .instance = "t1", .params = params };
#define STEP(action, interval, want) do {						\
		if (run_action(&spec, action, 20000, interval, &g) != 0 || !g.done) {	\
			printf("# %s did not run\n", vcd_ocf_action_name(action));	\
			goto out;							\
		}									\
		if (g.res.rc != (want) || g.res.timed_out || g.calls != 1) {		\
			printf("# %s: rc %d (%s), wanted %d; tail: %s\n",		\
			       vcd_ocf_action_name(action), g.res.rc,			\
			       vcd_ocf_rc_name(g.res.rc), want, g.res.tail);		\
			goto out;							\
		}									\
	} while (0)
	STEP(VCD_OCF_MONITOR, 0, VCD_OCF_NOT_RUNNING);		/* a probe */
	STEP(VCD_OCF_START, 0, VCD_OCF_SUCCESS);
	if (access(state, F_OK) != 0) {
		printf("# start made no state file %s\n", state);
		goto out;
	}
	STEP(VCD_OCF_MONITOR, 10000, VCD_OCF_SUCCESS);
	STEP(VCD_OCF_STOP, 0, VCD_OCF_SUCCESS);
	STEP(VCD_OCF_MONITOR, 10000, VCD_OCF_NOT_RUNNING);
	/* A recurring monitor that finds it stopped says why. */
	if (!strstr(g.res.tail, "No process state file found")) {
		printf("# monitor tail: %s\n", g.res.tail);
		goto out;
	}
#undef STEP
	ok = access(state, F_OK) != 0;
out:
	got_reset(&g);
	json_decref(params);
	return ok;
}

TEST(dummy_meta_data)
{
	struct vcd_ocf_spec spec = { .ocf_root = SYS_ROOT, .provider = "heartbeat",
				     .type = "Dummy" };	/* no instance: meta-data needs none */
	json_t *meta = NULL, *state, *mon;
	struct got g = { 0 };
	char why[256];
	bool ok;

	if (!dummy_installed())
		return false;
	CHECK_EQ(run_action(&spec, VCD_OCF_META_DATA, 5000, 0, &g), 0);
	CHECK(g.done);
	CHECK_EQ(g.res.rc, 0);
	CHECK(g.res.output_len > 1000);
	CHECK(strstr(g.output, "<resource-agent"));
	ok = vcd_ocf_meta_parse(g.output, g.res.output_len, &meta, why, sizeof(why)) == 0;
	got_reset(&g);
	if (!ok)
		printf("# %s\n", why);
	CHECK(ok);
	state = json_object_get(json_object_get(meta, "parameters"), "state");
	mon = json_object_get(json_object_get(meta, "actions"), "monitor");
	ok = state && json_is_true(json_object_get(state, "unique")) &&
	     json_is_false(json_object_get(state, "required")) &&
	     !strcmp(json_string_value(json_object_get(state, "type")), "string") &&
	     json_is_string(json_object_get(state, "default")) &&
	     json_integer_value(json_object_get(mon, "timeout_ms")) == 20000 &&
	     json_integer_value(json_object_get(mon, "interval_ms")) == 10000 &&
	     json_integer_value(json_object_get(json_object_get(json_object_get(meta, "actions"),
								"start"), "timeout_ms")) == 20000 &&
	     !strcmp(json_string_value(json_object_get(meta, "name")), "Dummy");
	if (!ok) {
		char *s = json_dumps(meta, JSON_COMPACT);

		printf("# %s\n", s);
		free(s);
	}
	json_decref(meta);
	return ok;
}

static const char meta_sample[] =
	"<?xml version=\"1.0\"?>\n"
	"<resource-agent name=\"sample\" version=\"1.0\">\n"
	"<shortdesc lang=\"en\">  a\n   sample  </shortdesc>\n"
	"<parameters>\n"
	"<parameter name=\"ip\" required=\"1\" unique=\"1\"><content type=\"string\"/></parameter>\n"
	"<parameter name=\"port\" unique=\"0\"><content type=\"integer\" default=\"80\"/></parameter>\n"
	"<parameter name=\"debug\"><content type=\"boolean\"/></parameter>\n"
	"<parameter name=\"mode\"><content type=\"select\" default=\"fast\">"
	"<option value=\"fast\"/><option value=\"safe\"/></content></parameter>\n"
	"<parameter name=\"plain\"/>\n"
	"</parameters>\n"
	"<actions>\n"
	"<action name=\"start\" timeout=\"2min\"/>\n"
	"<action name=\"monitor\" timeout=\"30\" interval=\"15s\" role=\"Promoted\"/>\n"
	"<action name=\"monitor\" timeout=\"500ms\" interval=\"1m\"/>\n"
	"<action name=\"promote\" timeout=\"1h\" role=\"Promoted\"/>\n"
	"</actions>\n"
	"</resource-agent>\n";

TEST(meta_parse)
{
	json_t *m = NULL, *p, *a;
	char why[256];

	CHECK_EQ(vcd_ocf_meta_parse(meta_sample, strlen(meta_sample), &m, why, sizeof(why)), 0);
	p = json_object_get(m, "parameters");
	a = json_object_get(m, "actions");
	CHECK_EQ(json_object_size(p), 5);
	CHECK(json_is_true(json_object_get(json_object_get(p, "ip"), "required")));
	CHECK(json_is_true(json_object_get(json_object_get(p, "ip"), "unique")));
	CHECK_STR(json_string_value(json_object_get(json_object_get(p, "port"), "type")), "integer");
	CHECK_STR(json_string_value(json_object_get(json_object_get(p, "port"), "default")), "80");
	CHECK_STR(json_string_value(json_object_get(json_object_get(p, "plain"), "type")), "string");
	CHECK_EQ(json_array_size(json_object_get(json_object_get(p, "mode"), "options")), 2);
	CHECK_STR(json_string_value(json_object_get(m, "shortdesc")), "a sample");
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(a, "start"), "timeout_ms")),
		 120000);
	/* The monitor without a role, though listed after the one with. */
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(a, "monitor"), "timeout_ms")),
		 500);
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(a, "monitor"), "interval_ms")),
		 60000);
	/* An action only listed with a role still counts. */
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(a, "promote"), "timeout_ms")),
		 3600000);
	json_decref(m);
	return true;
}

TEST(meta_parse_errors)
{
	static const struct {
		const char *xml;
		const char *says;
	} cases[] = {
		{ "usage: Dummy {start|stop}", "not XML: line 1" },
		{ "<resource-agent><parameters>", "not XML" },
		{ "<?xml version=\"1.0\"?>\n<html><body/></html>", "root element is <html>" },
		{ "<resource-agent><parameters/></resource-agent>", "no <actions>" },
		{ "<resource-agent><parameters><parameter><content/></parameter></parameters>"
		  "<actions/></resource-agent>", "<parameter> number 1 has no name" },
		{ "<resource-agent><parameters><parameter name=\"a\"/><parameter name=\"a\"/>"
		  "</parameters><actions/></resource-agent>", "\"a\" is declared twice" },
		{ "<resource-agent><parameters><parameter name=\"a\" required=\"maybe\"/>"
		  "</parameters><actions/></resource-agent>", "required=\"maybe\" is not 0 or 1" },
		{ "<resource-agent><actions><action name=\"start\" timeout=\"soon\"/></actions>"
		  "</resource-agent>", "action \"start\": timeout: duration \"soon\"" },
		{ "<resource-agent><actions><action timeout=\"5s\"/></actions></resource-agent>",
		  "has no name" },
	};
	char why[256];
	json_t *m;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m = NULL;
		why[0] = '\0';
		CHECK_EQ(vcd_ocf_meta_parse(cases[i].xml, strlen(cases[i].xml), &m, why,
					    sizeof(why)), -EINVAL);
		CHECK(m == NULL);
		if (!strstr(why, cases[i].says)) {
			printf("# case %zu: \"%s\" does not say \"%s\"\n", i, why, cases[i].says);
			return false;
		}
	}
	CHECK_EQ(vcd_ocf_meta_parse("", 0, &m, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "empty"));
	return true;
}

static int check_params_text(const json_t *meta, const char *params_json, char *why,
			     size_t size)
{
	json_t *p = json_loads(params_json, 0, NULL);
	int r = vcd_ocf_check_params(meta, p, why, size);

	json_decref(p);
	return r;
}

TEST(check_params)
{
	static const char *const good[] = {
		"{\"ip\":\"10.0.0.1\"}",
		"{\"ip\":\"10.0.0.1\",\"port\":8080,\"debug\":true,\"mode\":\"safe\"}",
		"{\"ip\":\"10.0.0.1\",\"port\":\"-12\",\"debug\":\"yes\",\"plain\":7}",
		"{\"ip\":\"10.0.0.1\",\"debug\":\"OFF\"}",
		"{\"ip\":\"10.0.0.1\",\"debug\":0,\"plain\":false}",
	};
	static const struct {
		const char *params;
		const char *says;
	} bad[] = {
		{ "{\"ip\":\"x\",\"prot\":80}",
		  "unknown parameter \"prot\"; the agent's parameters are: ip, port, debug, mode, plain" },
		{ "{\"ip\":\"x\",\"port\":\"abc\"}", "\"port\" must be an integer, not \"abc\"" },
		{ "{\"ip\":\"x\",\"port\":1.5}", "must be a string, an integer or a boolean, not 1.5" },
		{ "{\"ip\":\"x\",\"debug\":\"maybe\"}",
		  "\"debug\" must be a boolean (true, false, yes, no, on, off, 1, 0), not \"maybe\"" },
		{ "{\"ip\":\"x\",\"debug\":2}", "\"debug\" must be a boolean" },
		{ "{\"ip\":\"x\",\"mode\":\"slow\"}", "\"mode\" must be one of: fast, safe; not \"slow\"" },
		{ "{\"ip\":[1]}", "not an array" },
		{ "{\"ip\":null}", "not null" },
		{ "{\"port\":80}", "required parameter missing: ip" },
		{ "{}", "required parameter missing: ip" },
	};
	json_t *meta = NULL;
	char why[512];
	size_t i;

	CHECK_EQ(vcd_ocf_meta_parse(meta_sample, strlen(meta_sample), &meta, why, sizeof(why)), 0);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (check_params_text(meta, good[i], why, sizeof(why)) != 0) {
			printf("# %s refused: %s\n", good[i], why);
			json_decref(meta);
			return false;
		}
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (check_params_text(meta, bad[i].params, why, sizeof(why)) != -EINVAL ||
		    !strstr(why, bad[i].says)) {
			printf("# %s: \"%s\" does not say \"%s\"\n", bad[i].params, why, bad[i].says);
			json_decref(meta);
			return false;
		}
	}
	/* NULL params: only the missing required one. */
	CHECK_EQ(vcd_ocf_check_params(meta, NULL, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "missing: ip"));
	json_decref(meta);
	return true;
}

/* Dummy's own unknown-parameter refusal, with its real meta-data. */
TEST(check_params_dummy)
{
	struct vgot v;

	if (!dummy_installed())
		return false;
	CHECK_EQ(validate(SYS_ROOT, "d1", "ocf:heartbeat:Dummy", "{\"stat\":\"/tmp/x\"}", NULL, &v), 0);
	CHECK(v.done);
	CHECK_EQ(v.err, -EINVAL);
	CHECK(v.def == NULL);
	if (!strstr(v.msg, "ocf:heartbeat:Dummy: unknown parameter \"stat\"; the agent's parameters are: state, fake")) {
		printf("# %s\n", v.msg);
		return false;
	}
	return true;
}

TEST(validate_dummy)
{
	char params[512], *got = NULL;
	struct vgot v;
	bool ok;

	if (!dummy_installed())
		return false;
	snprintf(params, sizeof(params), "{\"state\":\"%s/v.state\",\"fake\":\"abc\"}", tmp_dir);
	CHECK_EQ(validate(SYS_ROOT, "web", "ocf:heartbeat:Dummy", params, NULL, &v), 0);
	CHECK(v.done);
	CHECK_EQ(v.calls, 1);
	if (v.err) {
		printf("# %d %s\n", v.err, v.msg);
		return false;
	}
	CHECK_STR(v.msg, "");
	{
		json_t *want = json_pack("{s:s,s:s,s:s,s:o,s:{s:i,s:i,s:i},s:i,s:i,s:i}",
					 "agent", "ocf:heartbeat:Dummy", "provider", "heartbeat",
					 "type", "Dummy", "params", json_loads(params, 0, NULL),
					 "timeouts", "start_ms", 20000, "stop_ms", 20000,
					 "monitor_ms", 20000, "monitor_interval_ms", 10000,
					 "memory_kib", 0, "vcpus", 0);

		ok = json_equal(want, v.def);
		json_decref(want);
	}
	if (!ok) {
		got = json_dumps(v.def, JSON_COMPACT);
		printf("# definition %s\n", got);
		free(got);
	}
	json_decref(v.def);
	CHECK(ok);

	/* The operator's settings win over the agent's. */
	CHECK_EQ(validate(SYS_ROOT, "web", "ocf:heartbeat:Dummy", params,
			  "{\"start_ms\":\"1min\",\"stop_ms\":45000,\"monitor_interval_ms\":\"3s\"}",
			  &v), 0);
	CHECK_EQ(v.err, 0);
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(v.def, "timeouts"), "start_ms")),
		 60000);
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(v.def, "timeouts"), "stop_ms")),
		 45000);
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(v.def, "timeouts"), "monitor_ms")),
		 20000);
	CHECK_EQ(json_integer_value(json_object_get(v.def, "monitor_interval_ms")), 3000);
	json_decref(v.def);
	return true;
}

TEST(validate_refuses)
{
	struct vgot v;

	if (!dummy_installed())
		return false;
	/* Unknown agent: the provider's agents are listed. */
	CHECK_EQ(validate(SYS_ROOT, "x", "ocf:heartbeat:NoSuchAgent", NULL, NULL, &v), 0);
	CHECK_EQ(v.err, -ENOENT);
	CHECK(v.def == NULL);
	CHECK(strstr(v.msg, "no agent ocf:heartbeat:NoSuchAgent"));
	CHECK(strstr(v.msg, "the agents of provider heartbeat are: "));
	CHECK(strstr(v.msg, "Dummy, "));
	CHECK(strstr(v.msg, "IPaddr2"));
	/* A case slip is named. */
	CHECK_EQ(validate(SYS_ROOT, "x", "ocf:heartbeat:dummy", NULL, NULL, &v), 0);
	CHECK_EQ(v.err, -ENOENT);
	CHECK(strstr(v.msg, "did you mean ocf:heartbeat:Dummy?"));
	/* Unknown provider: the providers are listed. */
	CHECK_EQ(validate(SYS_ROOT, "x", "ocf:nosuch:Dummy", NULL, NULL, &v), 0);
	CHECK_EQ(v.err, -ENOENT);
	CHECK(strstr(v.msg, "no OCF provider \"nosuch\""));
	CHECK(strstr(v.msg, "the providers are: "));
	CHECK(strstr(v.msg, "heartbeat"));
	/* No OCF root at all. */
	CHECK_EQ(validate("/nonexistent", "x", "ocf:heartbeat:Dummy", NULL, NULL, &v), 0);
	CHECK_EQ(v.err, -ENOENT);
	CHECK(strstr(v.msg, "/nonexistent/resource.d is not a directory"));
	/* A bad agent name, never looked up. */
	CHECK_EQ(validate(SYS_ROOT, "x", "ocf:heartbeat:../Dummy", NULL, NULL, &v), 0);
	CHECK_EQ(v.err, -EINVAL);
	CHECK(strstr(v.msg, "starts with '.'"));
	/* Bad operation settings. */
	CHECK_EQ(validate(SYS_ROOT, "x", "ocf:heartbeat:Dummy", NULL, "{\"start_timeout\":5}", &v), 0);
	CHECK_EQ(v.err, -EINVAL);
	CHECK(strstr(v.msg, "valid are start_ms, stop_ms, monitor_ms, monitor_interval_ms"));
	CHECK_EQ(validate(SYS_ROOT, "x", "ocf:heartbeat:Dummy", NULL, "{\"stop_ms\":0}", &v), 0);
	CHECK_EQ(v.err, -EINVAL);
	CHECK(strstr(v.msg, "stop_ms must be a duration"));
	CHECK_EQ(validate(SYS_ROOT, "x", "ocf:heartbeat:Dummy", NULL, "{\"stop_ms\":\"soon\"}", &v), 0);
	CHECK_EQ(v.err, -EINVAL);
	CHECK(strstr(v.msg, "stop_ms: duration \"soon\""));
	/* No name. */
	CHECK_EQ(validate(SYS_ROOT, "", "ocf:heartbeat:Dummy", NULL, NULL, &v), 0);
	CHECK_EQ(v.err, -EINVAL);
	/* Dummy's validate-all refuses a state file it cannot write. */
	CHECK_EQ(validate(SYS_ROOT, "x", "ocf:heartbeat:Dummy",
			  "{\"state\":\"/nonexistent-dir/x.state\"}", NULL, &v), 0);
	CHECK_EQ(v.err, -EINVAL);
	if (!strstr(v.msg, "validate-all of ocf:heartbeat:Dummy for \"x\" failed with OCF_ERR_ARGS (2)") ||
	    !strstr(v.msg, "is not writable")) {
		printf("# %s\n", v.msg);
		return false;
	}
	/* A not executable agent. */
	CHECK_EQ(validate(root, "x", "ocf:test:noexec", NULL, NULL, &v), 0);
	CHECK_EQ(v.err, -EACCES);
	CHECK(strstr(v.msg, "not an executable file"));
	/* Meta-data that is not XML. */
	CHECK_EQ(validate(root, "x", "ocf:test:notxml", NULL, NULL, &v), 0);
	CHECK_EQ(v.err, -EINVAL);
	CHECK(strstr(v.msg, "ocf:test:notxml: the meta-data is not XML"));
	return true;
}

/* validate-all as the test agent answers it; timeouts from its meta-data. */
TEST(validate_codes)
{
	struct vgot v;
	json_t *t;

	CHECK_EQ(validate(root, "r", "ocf:test:tagent", "{\"vrc\":0}", NULL, &v), 0);
	CHECK_EQ(v.err, 0);
	t = json_object_get(v.def, "timeouts");
	CHECK_EQ(json_integer_value(json_object_get(t, "start_ms")), 7000);
	CHECK_EQ(json_integer_value(json_object_get(t, "stop_ms")), 8000);
	CHECK_EQ(json_integer_value(json_object_get(t, "monitor_ms")), 9000);
	/* Its monitor interval is 0: monitored every 10 s all the same. */
	CHECK_EQ(json_integer_value(json_object_get(v.def, "monitor_interval_ms")), 10000);
	json_decref(v.def);

	CHECK_EQ(validate(root, "r", "ocf:test:tagent", "{\"vrc\":3}", NULL, &v), 0);
	CHECK_EQ(v.err, 0);
	CHECK(v.def);
	CHECK(strstr(v.msg, "does not implement validate-all"));
	json_decref(v.def);

	CHECK_EQ(validate(root, "r", "ocf:test:tagent", "{\"vrc\":\"6\",\"verbose\":\"on\"}", NULL,
			  &v), 0);
	CHECK_EQ(v.err, -EINVAL);
	CHECK(v.def == NULL);
	CHECK(strstr(v.msg, "failed with OCF_ERR_CONFIGURED (6): validate says 6"));

	CHECK_EQ(validate(root, "r", "ocf:test:tagent", "{\"vrc\":5}", NULL, &v), 0);
	CHECK_EQ(v.err, -ENOPKG);
	CHECK_EQ(validate(root, "r", "ocf:test:tagent", "{\"vrc\":1}", NULL, &v), 0);
	CHECK_EQ(v.err, -EIO);

	CHECK_EQ(validate(root, "r", "ocf:test:tagent", "{\"verbose\":true}", NULL, &v), 0);
	CHECK_EQ(v.err, -EINVAL);
	CHECK(strstr(v.msg, "ocf:test:tagent: required parameter missing: vrc"));
	CHECK_EQ(validate(root, "r", "ocf:test:tagent", "{\"vrc\":0,\"verbose\":\"perhaps\"}", NULL,
			  &v), 0);
	CHECK_EQ(v.err, -EINVAL);
	CHECK(strstr(v.msg, "\"verbose\" must be a boolean"));
	return true;
}

/* A timeout takes the whole group: the agent and its grandchild, which
 * ignores SIGTERM and so dies of the SIGKILL after the agent's exit. */
TEST(timeout_kills_group)
{
	json_t *params = params_with_dir(NULL);
	struct vcd_ocf_spec spec = test_spec("hang", params);
	struct got g = { 0 };
	pid_t leader, gc;
	bool ok = false;

	tmp_remove("leader");
	tmp_remove("grandchild");
	got_reset(&g);
	g.t0 = uv_hrtime();
	if (vcd_ocf_run(loop, &spec, VCD_OCF_START, 300, 0, got_done, &g, NULL) != 0)
		goto out;
	leader = wait_pid_file("leader", 5000);
	gc = wait_pid_file("grandchild", 5000);
	if (!leader || !gc) {
		printf("# the script wrote no pids\n");
		goto out;
	}
	/* The grandchild is in the agent's group, and the agent leads it. */
	if (proc_stat_field(gc, 5, NULL) != leader || proc_stat_field(leader, 6, NULL) != leader) {
		printf("# grandchild %d in group %ld, agent %d in session %ld\n", (int)gc,
		       proc_stat_field(gc, 5, NULL), (int)leader, proc_stat_field(leader, 6, NULL));
		goto out;
	}
	if (!run_until(&g.done, 5000))
		goto out;
	if (!g.res.timed_out || g.res.rc != -1 || g.res.term_signal != SIGTERM || g.calls != 1) {
		printf("# timed_out %d rc %d signal %d\n", g.res.timed_out, g.res.rc,
		       g.res.term_signal);
		goto out;
	}
	/* SIGTERM was enough for the agent: no wait for the grace. */
	if (g.wall_ns > 1500000000ull) {
		printf("# took %llu ms\n", (unsigned long long)(g.wall_ns / 1000000));
		goto out;
	}
	ok = gone_within(leader, 3000) && gone_within(gc, 3000);
	if (!ok)
		printf("# leader %d alive %d, grandchild %d alive %d\n", (int)leader, alive(leader),
		       (int)gc, alive(gc));
out:
	got_reset(&g);
	json_decref(params);
	return ok;
}

/* An agent that ignores SIGTERM gets SIGKILL after the grace. */
TEST(timeout_kill_after_grace)
{
	json_t *params = params_with_dir(NULL);
	struct vcd_ocf_spec spec = test_spec("stubborn", params);
	struct got g = { 0 };
	bool ok;

	CHECK_EQ(run_action(&spec, VCD_OCF_STOP, 200, 0, &g), 0);
	ok = g.done && g.res.timed_out && g.res.rc == -1 && g.res.term_signal == SIGKILL &&
	     g.wall_ns >= (200 + VCD_OCF_KILL_GRACE_MS) * 1000000ull &&
	     g.wall_ns < (1200 + VCD_OCF_KILL_GRACE_MS) * 1000000ull;
	if (!ok)
		printf("# done %d timed_out %d rc %d signal %d after %llu ms\n", g.done,
		       g.res.timed_out, g.res.rc, g.res.term_signal,
		       (unsigned long long)(g.wall_ns / 1000000));
	got_reset(&g);
	json_decref(params);
	return ok;
}

/* An agent that exits 0 on SIGTERM still timed out: rc -1. */
TEST(timeout_not_success)
{
	struct vcd_ocf_spec spec = test_spec("graceful", NULL);
	struct got g = { 0 };
	bool ok;

	CHECK_EQ(run_action(&spec, VCD_OCF_START, 300, 0, &g), 0);
	ok = g.done && g.res.timed_out && g.res.rc == -1 && g.res.term_signal == 0 &&
	     g.wall_ns < 1500000000ull;
	if (!ok)
		printf("# done %d timed_out %d rc %d signal %d after %llu ms\n", g.done,
		       g.res.timed_out, g.res.rc, g.res.term_signal,
		       (unsigned long long)(g.wall_ns / 1000000));
	got_reset(&g);
	return ok;
}

TEST(exit_codes)
{
	static const int codes[] = { 0, 1, 2, 3, 5, 6, 7, 8, 9, 42, 255 };
	struct got g = { 0 };
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		json_t *params = json_pack("{s:i}", "code", codes[i]);
		struct vcd_ocf_spec spec = test_spec("exitcode", params);
		int r = run_action(&spec, VCD_OCF_MONITOR, 5000, 10000, &g);

		json_decref(params);
		CHECK_EQ(r, 0);
		CHECK(g.done);
		CHECK_EQ(g.res.rc, codes[i]);
		CHECK(!g.res.timed_out && !g.res.cancelled);
		CHECK_EQ(g.res.term_signal, 0);
		CHECK(g.res.took_ns > 0);
		CHECK_STR(g.res.tail, "");
		CHECK_EQ(g.res.output_len, 0);
		CHECK_STR(g.output, "");
	}
	got_reset(&g);
	return true;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

static bool has_prefix_line(const char *text, const char *prefix)
{
	const char *p = text;

	while ((p = strstr(p, prefix))) {
		if (p == text || p[-1] == '\n')
			return true;
		p++;
	}
	return false;
}

/* The environment as the agent sees it, and nothing else. */
TEST(environment)
{
	char out[400], text[8192], line[600], pid_line[64], root_line[400];
	json_t *params;
	struct vcd_ocf_spec spec;
	struct got g = { 0 };
	static const char *const want[] = {
		"OCF_RESKEY_x=hello world", "OCF_RESKEY_n=42", "OCF_RESKEY_flag=true",
		"OCF_RESKEY_off=false", "OCF_RESOURCE_INSTANCE=res1", "OCF_RESOURCE_TYPE=env",
		"OCF_RESOURCE_PROVIDER=test", "OCF_RA_VERSION_MAJOR=1", "OCF_RA_VERSION_MINOR=1",
		"OCF_RESKEY_CRM_meta_timeout=1234", "OCF_RESKEY_CRM_meta_interval=5000",
		"ACTION=monitor", "STDIN=/dev/null",
	};
	size_t i;
	char *pid_at;

	tmp_path(out, sizeof(out), "env.out");
	params = json_pack("{s:s,s:s,s:i,s:b,s:b}", "out", out, "x", "hello world", "n", 42,
			   "flag", 1, "off", 0);
	spec = test_spec("env", params);
	spec.instance = "res1";
	CHECK_EQ(run_action(&spec, VCD_OCF_MONITOR, 1234, 5000, &g), 0);
	json_decref(params);
	CHECK(g.done);
	CHECK_EQ(g.res.rc, 0);
	CHECK(read_text(out, text, sizeof(text)));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!has_line(text, want[i])) {
			printf("# no \"%s\" in:\n%s", want[i], text);
			return false;
		}
	}
	snprintf(root_line, sizeof(root_line), "OCF_ROOT=%s", root);
	CHECK(has_line(text, root_line));
	snprintf(line, sizeof(line), "OCF_RESKEY_out=%s", out);
	CHECK(has_line(text, line));
	CHECK(has_prefix_line(text, "PATH=/"));
	/* Nothing of ours: not a secret, not HOME. */
	CHECK(!strstr(text, "s3cret"));
	CHECK(!has_prefix_line(text, "VCD_OCF_TEST_SECRET="));
	CHECK(!has_prefix_line(text, "HOME="));
	/* Its own session and group. */
	pid_at = strstr(text, "\nPID=");
	CHECK(pid_at);
	snprintf(pid_line, sizeof(pid_line), "PGID=%d", atoi(pid_at + 5));
	CHECK(has_line(text, pid_line));
	snprintf(pid_line, sizeof(pid_line), "SID=%d", atoi(pid_at + 5));
	CHECK(has_line(text, pid_line));

	/* Only a monitor gets an interval. */
	params = json_pack("{s:s}", "out", out);
	spec = test_spec("env", params);
	CHECK_EQ(run_action(&spec, VCD_OCF_START, 0, 5000, &g), 0);
	json_decref(params);
	CHECK(read_text(out, text, sizeof(text)));
	CHECK(has_line(text, "OCF_RESKEY_CRM_meta_interval=0"));
	CHECK(has_line(text, "ACTION=start"));
	/* Timeout 0: the default. */
	snprintf(line, sizeof(line), "OCF_RESKEY_CRM_meta_timeout=%d", VCD_OCF_DEFAULT_TIMEOUT_MS);
	CHECK(has_line(text, line));
	got_reset(&g);
	return true;
}

TEST(large_output)
{
	json_t *params = json_pack("{s:i}", "n", 200000);
	struct vcd_ocf_spec spec = test_spec("big", params);
	struct got g = { 0 };
	size_t i;

	CHECK_EQ(run_action(&spec, VCD_OCF_META_DATA, 10000, 0, &g), 0);
	json_decref(params);
	CHECK(g.done);
	CHECK_EQ(g.res.rc, 0);
	CHECK_EQ(g.res.output_len, 200000);
	CHECK(!g.res.output_truncated);
	for (i = 0; i < 200000; i++)
		if (g.output[i] != 'x')
			break;
	CHECK_EQ(i, 200000);

	/* Past the cap: kept up to it, the rest read and dropped, so the
	 * agent is not stuck on a full pipe. */
	params = json_pack("{s:i}", "n", 3 * VCD_OCF_OUTPUT_MAX);
	spec = test_spec("big", params);
	CHECK_EQ(run_action(&spec, VCD_OCF_META_DATA, 10000, 0, &g), 0);
	json_decref(params);
	CHECK(g.done);
	CHECK_EQ(g.res.rc, 0);
	CHECK(!g.res.timed_out);
	CHECK_EQ(g.res.output_len, VCD_OCF_OUTPUT_MAX);
	CHECK(g.res.output_truncated);
	CHECK_EQ(strlen(g.output), VCD_OCF_OUTPUT_MAX);
	got_reset(&g);
	return true;
}

/* The tail: the last lines that fit, printable, valid UTF-8. */
TEST(output_tail)
{
	struct vcd_ocf_spec spec = test_spec("chatty", NULL);
	struct got g = { 0 };
	json_t *s;
	size_t len;

	CHECK_EQ(run_action(&spec, VCD_OCF_START, 5000, 0, &g), 0);
	CHECK(g.done);
	CHECK_EQ(g.res.rc, 1);
	CHECK_STR(g.output, "to stdout\n");
	len = strlen(g.res.tail);
	CHECK(len > 300 && len < VCD_OCF_TAIL_LEN);
	/* Whole lines: it starts at one. */
	CHECK(!strncmp(g.res.tail, "line ", 5));
	/* stdout and stderr are two pipes: lines keep their order within
	 * each, not necessarily across. */
	CHECK(strstr(g.res.tail, "\nline 99\n"));
	CHECK(strstr(g.res.tail, "\nline 100\n"));
	CHECK(strstr(g.res.tail, "\nto stdout\n"));
	CHECK(strstr(g.res.tail, "\nctl   bad ? ok \xc3\xa9"));
	CHECK(!strstr(g.res.tail, "line 1\n"));
	s = json_string(g.res.tail);
	CHECK(s);
	json_decref(s);
	got_reset(&g);
	return true;
}

static void cancel_now(uv_timer_t *t)
{
	vcd_ocf_cancel(t->data);
}

TEST(cancel)
{
	json_t *params = params_with_dir(NULL);
	struct vcd_ocf_spec spec = test_spec("hang", params);
	struct vcd_ocf_op *op = NULL;
	struct got g = { 0 };
	uv_timer_t t;
	pid_t leader, gc;
	bool ok = false;

	tmp_remove("leader");
	tmp_remove("grandchild");
	got_reset(&g);
	g.t0 = uv_hrtime();
	/* A timeout far away: a stall of this shared machine must not pass
	 * for the cancel. */
	CHECK_EQ(vcd_ocf_run(loop, &spec, VCD_OCF_START, 120000, 0, got_done, &g, &op), 0);
	CHECK(op);
	leader = wait_pid_file("leader", 5000);
	gc = wait_pid_file("grandchild", 5000);
	uv_timer_init(loop, &t);
	t.data = op;
	uv_timer_start(&t, cancel_now, 100, 0);
	run_until(&g.done, 5000);
	uv_close((uv_handle_t *)&t, NULL);
	settle();
	if (!g.done || g.calls != 1 || !g.res.cancelled || g.res.timed_out || g.res.rc != -1 ||
	    g.res.term_signal != SIGKILL) {
		printf("# done %d cancelled %d timed_out %d rc %d signal %d after %llu ms\n",
		       g.done, g.res.cancelled, g.res.timed_out, g.res.rc, g.res.term_signal,
		       (unsigned long long)(g.wall_ns / 1000000));
		goto out;
	}
	ok = leader && gc && gone_within(leader, 3000) && gone_within(gc, 3000);
out:
	got_reset(&g);
	json_decref(params);
	return ok;
}

/* Nothing runs, done() never comes. */
TEST(run_refusals)
{
	struct got g = { 0 };
	json_t *params;
	struct vcd_ocf_spec spec = test_spec("nosuch", NULL);

	CHECK_EQ(run_action(&spec, VCD_OCF_START, 1000, 0, &g), -ENOENT);
	spec = test_spec("noexec", NULL);
	CHECK_EQ(run_action(&spec, VCD_OCF_START, 1000, 0, &g), -EACCES);
	spec = test_spec("../test/exitcode", NULL);
	CHECK_EQ(run_action(&spec, VCD_OCF_START, 1000, 0, &g), -EINVAL);
	spec = test_spec("exitcode", NULL);
	spec.instance = NULL;
	CHECK_EQ(run_action(&spec, VCD_OCF_START, 1000, 0, &g), -EINVAL);
	params = json_pack("{s:i}", "bad-name", 1);
	spec = test_spec("exitcode", params);
	CHECK_EQ(run_action(&spec, VCD_OCF_START, 1000, 0, &g), -EINVAL);
	json_decref(params);
	params = json_pack("{s:i}", "CRM_meta_timeout", 1);
	spec = test_spec("exitcode", params);
	CHECK_EQ(run_action(&spec, VCD_OCF_START, 1000, 0, &g), -EINVAL);
	json_decref(params);
	params = json_pack("{s:[]}", "code");
	spec = test_spec("exitcode", params);
	CHECK_EQ(run_action(&spec, VCD_OCF_START, 1000, 0, &g), -EINVAL);
	json_decref(params);
	sleep_ms(50);
	CHECK_EQ(g.calls, 0);
	got_reset(&g);
	return true;
}

/* A process left behind holding stdout does not hold done() past the
 * drain wait. */
TEST(drain_wait)
{
	json_t *params = params_with_dir(NULL);
	struct vcd_ocf_spec spec = test_spec("daemonish", params);
	struct got g = { 0 };
	pid_t bg;
	bool ok;

	CHECK_EQ(run_action(&spec, VCD_OCF_START, 10000, 0, &g), 0);
	json_decref(params);
	bg = wait_pid_file("bg", 1000);
	ok = g.done && g.res.rc == 0 && !g.res.timed_out &&
	     g.wall_ns >= VCD_OCF_DRAIN_MS * 1000000ull &&
	     g.wall_ns < (VCD_OCF_DRAIN_MS + 1500) * 1000000ull;
	if (!ok)
		printf("# done %d rc %d after %llu ms\n", g.done, g.res.rc,
		       (unsigned long long)(g.wall_ns / 1000000));
	/* Left alone by a successful action; this test's to end. */
	if (bg > 0) {
		ok = ok && alive(bg);
		kill(bg, SIGKILL);
	}
	got_reset(&g);
	return ok && bg > 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

TEST(teardown)
{
	settle();
	CHECK_EQ(nftw(tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
	/* Every op and validation closed all its handles. */
	CHECK_EQ(uv_loop_close(loop), 0);
	return true;
}

static const struct vc_test tests[] = {
	T(setup),
	T(parse_agent),
	T(durations),
	T(rc_names),
	T(dummy_lifecycle),
	T(dummy_meta_data),
	T(meta_parse),
	T(meta_parse_errors),
	T(check_params),
	T(check_params_dummy),
	T(validate_dummy),
	T(validate_refuses),
	T(validate_codes),
	T(timeout_kills_group),
	T(timeout_kill_after_grace),
	T(timeout_not_success),
	T(exit_codes),
	T(environment),
	T(large_output),
	T(output_tail),
	T(cancel),
	T(run_refusals),
	T(drain_wait),
	T(teardown),
	{ 0 },
};

#include "tap-main.h"
