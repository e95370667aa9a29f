// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Hooks (hooks.c) with real scripts: each test makes a temporary folder
 * (under $TMPDIR) with a hooks directory and an output folder, writes
 * small /bin/sh scripts that record what they see into files, feeds events
 * and runs its own loop until a condition holds or a deadline passes.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../hooks.h"
#include "../log.h"
#include "tap.h"

#define WAIT_MS	5000

struct fixture {
	uv_loop_t loop;
	uv_timer_t tick;	/* wakes the loop to check a condition */
	char base[128];		/* the temporary folder */
	char hooks[160];	/* base/hooks.d */
	struct vcd_hooks *h;
	bool closed;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void tick_cb(uv_timer_t *t)
{
	(void)t;
}

/* A fixture with hooks in base/hooks.d, or in @dir_name under base. */
static bool fx_init_dir(struct fixture *f, const char *dir_name, const char *events,
			uint32_t timeout_ms)
{
	const char *tmp = getenv("TMPDIR");
	struct vcd_hooks_params p = {
		.dir = f->hooks, .timeout_ms = timeout_ms, .events = events,
		.self_id = 1, .cluster_name = "lab",
	};

	memset(f, 0, sizeof(*f));
	snprintf(f->base, sizeof(f->base), "%s/vc-hooks-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(f->base))
		return false;
	snprintf(f->hooks, sizeof(f->hooks), "%s/%s", f->base, dir_name);
	if (strcmp(dir_name, "hooks.d") == 0 && mkdir(f->hooks, 0755) < 0)
		return false;
	uv_loop_init(&f->loop);
	uv_timer_init(&f->loop, &f->tick);
	return vcd_hooks_new(&f->loop, &p, &f->h) == 0;
}

static bool fx_init(struct fixture *f, const char *events, uint32_t timeout_ms)
{
	return fx_init_dir(f, "hooks.d", events, timeout_ms);
}

static bool wait_until(struct fixture *f, bool (*cond)(struct fixture *, const void *),
		       const void *arg, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;

	uv_timer_start(&f->tick, tick_cb, 10, 10);
	while (!cond(f, arg) && now_ms() < end)
		uv_run(&f->loop, UV_RUN_ONCE);
	uv_timer_stop(&f->tick);
	return cond(f, arg);
}

static long long counter(const struct fixture *f, const char *name)
{
	json_t *j = vcd_hooks_json(f->h);
	long long v = json_integer_value(json_object_get(j, name));

	json_decref(j);
	return v;
}

static bool cond_idle(struct fixture *f, const void *arg)
{
	(void)arg;
	return counter(f, "queued") == 0;
}

static bool cond_closed(struct fixture *f, const void *arg)
{
	(void)arg;
	return f->closed;
}

static void on_closed(void *arg)
{
	((struct fixture *)arg)->closed = true;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Close the hooks and the loop, remove the folder; false if anything hangs. */
static bool fx_close(struct fixture *f)
{
	bool ok;

	vcd_hooks_close(f->h, on_closed, f);
	ok = wait_until(f, cond_closed, NULL, WAIT_MS);
	uv_close((uv_handle_t *)&f->tick, NULL);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	ok = uv_loop_close(&f->loop) == 0 && ok;
	nftw(f->base, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return ok;
}

/* base/hooks.d/@name: "#!/bin/sh" and @body with "$OUT" meaning base. */
static bool script(struct fixture *f, const char *name, mode_t mode, const char *body)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->hooks, name);
	fp = fopen(path, "w");
	if (!fp)
		return false;
	fprintf(fp, "#!/bin/sh\nOUT='%s'\n%s\n", f->base, body);
	fclose(fp);
	return chmod(path, mode) == 0;
}

/* The contents of base/@name ("" when missing), in a static buffer. */
static const char *out_file(const struct fixture *f, const char *name)
{
	static char buf[8192];
	char path[256];
	ssize_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", f->base, name);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void event(struct fixture *f, const char *name)
{
	json_t *ev = json_pack("{s:s,s:i}", "event", name, "node", 1);

	vcd_hooks_event(f->h, name, ev);
	json_decref(ev);
}

/* ------------------------------------------------------------------ */

/* Exactly the documented variables, and nothing of the agent's own. */
TEST(hooks_environment_exact)
{
	struct fixture f;
	json_t *ev;
	uint64_t before_ms = (uint64_t)time(NULL) * 1000;
	const char *env;
	char want[2048];
	long long time_ms;

	CHECK(fx_init(&f, NULL, 5000));
	CHECK(script(&f, "10-env", 0755,
		     "tr '\\0' '\\n' < /proc/$$/environ > \"$OUT/env.$VCLUSTER_SEQ\"\n"
		     "readlink /proc/$$/fd/0 > \"$OUT/stdin\"\npwd > \"$OUT/cwd\""));
	ev = json_pack("{s:s,s:i,s:i,s:I,s:s,s:i,s:f,s:b,s:n,s:{s:i},s:[i],s:i,s:s}",
		       "event", "resource-started", "node", 1, "seq", 17,
		       "time_ns", (json_int_t)1795000000123456789LL, "resource", "web",
		       "pid", 1234, "took_ms", 12.5, "restart_here", 1, "dc", "nested", "a", 1,
		       "list", 1, "on-node", 3, "weird key!", "x");
	CHECK(ev);
	setenv("VCLUSTER_LEAK", "agent's own environment", 1);
	vcd_hooks_event(f.h, "resource-started", ev);
	json_decref(ev);
	vcd_hooks_event(f.h, "plain", NULL);
	CHECK(wait_until(&f, cond_idle, NULL, WAIT_MS));
	unsetenv("VCLUSTER_LEAK");

	CHECK_STR(out_file(&f, "env.17"),
		  "VCLUSTER_EVENT=resource-started\n"
		  "VCLUSTER_NODE=1\n"
		  "VCLUSTER_CLUSTER=lab\n"
		  "VCLUSTER_TIME_MS=1795000000123\n"
		  "VCLUSTER_SEQ=17\n"
		  "VCLUSTER_TIME_NS=1795000000123456789\n"
		  "VCLUSTER_RESOURCE=web\n"
		  "VCLUSTER_PID=1234\n"
		  "VCLUSTER_TOOK_MS=12.5\n"
		  "VCLUSTER_RESTART_HERE=true\n"
		  "VCLUSTER_DC=\n"
		  "VCLUSTER_ON_NODE=3\n"
		  "VCLUSTER_WEIRD_KEY_=x\n"
		  "VCLUSTER_EVENT_JSON={\"event\":\"resource-started\",\"node\":1,\"seq\":17,"
		  "\"time_ns\":1795000000123456789,\"resource\":\"web\",\"pid\":1234,"
		  "\"took_ms\":12.5,\"restart_here\":true,\"dc\":null,\"nested\":{\"a\":1},"
		  "\"list\":[1],\"on-node\":3,\"weird key!\":\"x\"}\n"
		  "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n");
	/* No "seq" in the event: the hooks' own count (second matching event). */
	env = out_file(&f, "env.2");
	CHECK(sscanf(strstr(env, "VCLUSTER_TIME_MS=") ? strstr(env, "VCLUSTER_TIME_MS=") : "",
		     "VCLUSTER_TIME_MS=%lld", &time_ms) == 1);
	CHECK((uint64_t)time_ms >= before_ms && (uint64_t)time_ms < before_ms + 60000);
	snprintf(want, sizeof(want),
		 "VCLUSTER_EVENT=plain\nVCLUSTER_NODE=1\nVCLUSTER_CLUSTER=lab\n"
		 "VCLUSTER_TIME_MS=%lld\nVCLUSTER_SEQ=2\nVCLUSTER_EVENT_JSON={\"event\":\"plain\"}\n"
		 "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n", time_ms);
	CHECK_STR(env, want);
	CHECK_STR(out_file(&f, "stdin"), "/dev/null\n");
	CHECK_STR(out_file(&f, "cwd"), "/\n");
	CHECK_EQ(counter(&f, "run"), 2);
	CHECK_EQ(counter(&f, "failed"), 0);
	CHECK(fx_close(&f));
	return true;
}

/* The second event's hook waits for the first's, even when that one is slow. */
TEST(hooks_events_in_order)
{
	struct fixture f;

	CHECK(fx_init(&f, NULL, 5000));
	CHECK(script(&f, "10-log", 0755,
		     "[ \"$VCLUSTER_EVENT\" = first ] && sleep 0.3\n"
		     "echo \"$VCLUSTER_EVENT start\" >> \"$OUT/out\"\n"
		     "echo \"$VCLUSTER_EVENT end\" >> \"$OUT/out\""));
	event(&f, "first");
	event(&f, "second");
	CHECK_EQ(counter(&f, "queued"), 2);
	CHECK(wait_until(&f, cond_idle, NULL, WAIT_MS));
	CHECK_STR(out_file(&f, "out"), "first start\nfirst end\nsecond start\nsecond end\n");
	CHECK_EQ(counter(&f, "run"), 2);
	CHECK(fx_close(&f));
	return true;
}

/* Scripts run one after the other, by name, for each event in turn. */
TEST(hooks_scripts_in_name_order)
{
	struct fixture f;

	CHECK(fx_init(&f, NULL, 5000));
	CHECK(script(&f, "20-b", 0755, "sleep 0.1; echo \"${0##*/} $VCLUSTER_EVENT\" >> \"$OUT/out\""));
	CHECK(script(&f, "10-a", 0755, "sleep 0.1; echo \"${0##*/} $VCLUSTER_EVENT\" >> \"$OUT/out\""));
	CHECK(script(&f, "15-B", 0755, "echo \"${0##*/} $VCLUSTER_EVENT\" >> \"$OUT/out\""));
	event(&f, "e1");
	event(&f, "e2");
	CHECK(wait_until(&f, cond_idle, NULL, WAIT_MS));
	CHECK_STR(out_file(&f, "out"), "10-a e1\n15-B e1\n20-b e1\n10-a e2\n15-B e2\n20-b e2\n");
	CHECK(fx_close(&f));
	return true;
}

/* Only executable regular files that are not leftovers and are safe run. */
TEST(hooks_skipped_files)
{
	static const char *const skipped[] = {
		".12-hidden", "13-backup~", "14-x.dpkg-old", "15-x.swp", "16-x.rpmnew",
	};
	const char *body = "echo \"${0##*/}\" >> \"$OUT/out\"";
	struct fixture f;
	char path[256], target[256];
	size_t i;

	CHECK(fx_init(&f, NULL, 5000));
	CHECK(script(&f, "10-run", 0755, body));
	CHECK(script(&f, "11-plain", 0644, body));
	for (i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
		CHECK(script(&f, skipped[i], 0755, body));
	snprintf(path, sizeof(path), "%s/17-dir", f.hooks);
	CHECK(mkdir(path, 0755) == 0);
	CHECK(script(&f, "18-world-writable", 0757, body));
	CHECK(script(&f, "19-group-writable", 0775, body));
	snprintf(path, sizeof(path), "%s/20-link", f.hooks);
	snprintf(target, sizeof(target), "%s/10-run", f.hooks);
	CHECK(symlink(target, path) == 0);
	event(&f, "e");
	CHECK(wait_until(&f, cond_idle, NULL, WAIT_MS));
	CHECK_STR(out_file(&f, "out"), "10-run\n20-link\n");
	CHECK_EQ(counter(&f, "run"), 2);
	CHECK_EQ(counter(&f, "failed"), 0);
	CHECK(fx_close(&f));
	return true;
}

/* A directory others may write to runs nothing. */
TEST(hooks_unsafe_dir)
{
	struct fixture f;

	CHECK(fx_init(&f, NULL, 5000));
	CHECK(script(&f, "10-log", 0755, "echo ran >> \"$OUT/out\""));
	CHECK(chmod(f.hooks, 0777) == 0);
	event(&f, "e");
	CHECK(wait_until(&f, cond_idle, NULL, WAIT_MS));
	CHECK_STR(out_file(&f, "out"), "");
	CHECK_EQ(counter(&f, "run"), 0);
	CHECK(chmod(f.hooks, 0755) == 0);
	event(&f, "e");
	CHECK(wait_until(&f, cond_idle, NULL, WAIT_MS));
	CHECK_STR(out_file(&f, "out"), "ran\n");
	CHECK(fx_close(&f));
	return true;
}

static void count_tick(uv_timer_t *t)
{
	(*(int *)t->data)++;
}

/* A slow hook does not hold up the loop: a 10 ms timer keeps firing. */
TEST(hooks_loop_not_blocked)
{
	struct fixture f;
	uv_timer_t ticker;
	uint64_t start_ms;
	int ticks = 0;

	CHECK(fx_init(&f, NULL, 5000));
	CHECK(script(&f, "10-slow", 0755, "sleep 0.5"));
	uv_timer_init(&f.loop, &ticker);
	ticker.data = &ticks;
	uv_timer_start(&ticker, count_tick, 10, 10);
	start_ms = now_ms();
	event(&f, "e");
	CHECK(now_ms() - start_ms < 100);
	CHECK(wait_until(&f, cond_idle, NULL, WAIT_MS));
	CHECK(now_ms() - start_ms >= 500);
	CHECK(ticks >= 20);
	uv_close((uv_handle_t *)&ticker, NULL);
	CHECK(fx_close(&f));
	return true;
}

static bool pid_gone(pid_t pid)
{
	char path[64], stat[256];
	const char *paren;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return true;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	stat[n > 0 ? n : 0] = '\0';
	paren = strrchr(stat, ')');
	return paren && paren[1] == ' ' && paren[2] == 'Z';	/* dead, not reaped yet */
}

static bool cond_pid_gone(struct fixture *f, const void *arg)
{
	(void)f;
	return pid_gone(*(const pid_t *)arg);
}

/* The timeout kills the hook and what it started (its process group). */
TEST(hooks_timeout_kills_group)
{
	struct fixture f;
	uint64_t start_ms;
	pid_t child = 0;

	CHECK(fx_init(&f, NULL, 200));
	CHECK(script(&f, "10-hang", 0755,
		     "(sleep 30; touch \"$OUT/survived\") &\n"
		     "echo $! > \"$OUT/child\"\nsleep 30\necho after >> \"$OUT/out\""));
	CHECK(script(&f, "20-next", 0755, "echo next >> \"$OUT/out\""));
	start_ms = now_ms();
	event(&f, "e");
	CHECK(wait_until(&f, cond_idle, NULL, WAIT_MS));
	CHECK(now_ms() - start_ms >= 200);
	CHECK(now_ms() - start_ms < 3000);
	CHECK_EQ(counter(&f, "timed_out"), 1);
	CHECK_EQ(counter(&f, "failed"), 0);
	CHECK_EQ(counter(&f, "run"), 2);
	CHECK_STR(out_file(&f, "out"), "next\n");
	CHECK(sscanf(out_file(&f, "child"), "%d", &child) == 1 && child > 0);
	CHECK(wait_until(&f, cond_pid_gone, &child, WAIT_MS));
	CHECK_STR(out_file(&f, "survived"), "");
	CHECK(fx_close(&f));
	return true;
}

/* A background child that keeps the output open counts as running. */
TEST(hooks_timeout_kills_output_holder)
{
	struct fixture f;
	pid_t child = 0;

	CHECK(fx_init(&f, NULL, 300));
	CHECK(script(&f, "10-bg", 0755, "sleep 30 &\necho $! > \"$OUT/child\"\nexit 0"));
	event(&f, "e");
	CHECK(wait_until(&f, cond_idle, NULL, WAIT_MS));
	CHECK_EQ(counter(&f, "timed_out"), 1);
	CHECK(sscanf(out_file(&f, "child"), "%d", &child) == 1 && child > 0);
	CHECK(wait_until(&f, cond_pid_gone, &child, WAIT_MS));
	CHECK(fx_close(&f));
	return true;
}

/* Failures are counted and change nothing else: the next hook runs. */
TEST(hooks_failures_counted)
{
	struct fixture f;

	CHECK(fx_init(&f, NULL, 5000));
	CHECK(script(&f, "10-exit3", 0755, "exit 3"));
	CHECK(script(&f, "20-signal", 0755, "kill -TERM $$"));
	CHECK(script(&f, "30-ok", 0755, "echo ok >> \"$OUT/out\""));
	event(&f, "e");
	CHECK(wait_until(&f, cond_idle, NULL, WAIT_MS));
	CHECK_STR(out_file(&f, "out"), "ok\n");
	CHECK_EQ(counter(&f, "run"), 3);
	CHECK_EQ(counter(&f, "failed"), 2);
	CHECK_EQ(counter(&f, "timed_out"), 0);
	CHECK(fx_close(&f));
	return true;
}

/* A hook that cannot start (its interpreter is missing) counts as failed. */
TEST(hooks_cannot_start)
{
	struct fixture f;
	char path[256];
	FILE *fp;

	CHECK(fx_init(&f, NULL, 5000));
	snprintf(path, sizeof(path), "%s/10-bad-interpreter", f.hooks);
	fp = fopen(path, "w");
	CHECK(fp);
	fputs("#!/nonexistent/interpreter\n", fp);
	fclose(fp);
	CHECK(chmod(path, 0755) == 0);
	CHECK(script(&f, "20-ok", 0755, "echo ok >> \"$OUT/out\""));
	event(&f, "e");
	CHECK(wait_until(&f, cond_idle, NULL, WAIT_MS));
	CHECK_STR(out_file(&f, "out"), "ok\n");
	CHECK_EQ(counter(&f, "run"), 1);
	CHECK_EQ(counter(&f, "failed"), 1);
	CHECK(fx_close(&f));
	return true;
}

/* hook-events: a prefix and an exact name. */
TEST(hooks_event_filter)
{
	static const char *const events[] = {
		"resource-started", "node-down", "node-fenced", "resourcex",
		"node-fenced-late", "resource-", "dc-changed",
	};
	struct fixture f;
	size_t i;

	CHECK(fx_init(&f, "resource-*, node-fenced", 5000));
	CHECK(script(&f, "10-log", 0755, "echo \"$VCLUSTER_EVENT $VCLUSTER_SEQ\" >> \"$OUT/out\""));
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		event(&f, events[i]);
	CHECK(wait_until(&f, cond_idle, NULL, WAIT_MS));
	CHECK_STR(out_file(&f, "out"), "resource-started 1\nnode-fenced 2\nresource- 3\n");
	CHECK_EQ(counter(&f, "run"), 3);
	CHECK_EQ(counter(&f, "dropped"), 0);
	CHECK(fx_close(&f));
	return true;
}

/* At most VCD_HOOKS_MAX_QUEUED events wait; the rest are dropped and counted. */
TEST(hooks_queue_bound)
{
	struct fixture f;
	int i;

	CHECK(fx_init(&f, NULL, 5000));
	/* no hooks: the test is about the queue, not about 1024 processes */
	for (i = 0; i < VCD_HOOKS_MAX_QUEUED + 76; i++)
		event(&f, "e");
	CHECK_EQ(counter(&f, "queued"), VCD_HOOKS_MAX_QUEUED);
	CHECK_EQ(counter(&f, "dropped"), 76);
	CHECK(wait_until(&f, cond_idle, NULL, WAIT_MS));
	CHECK(script(&f, "10-log", 0755, "echo \"$VCLUSTER_SEQ\" >> \"$OUT/out\""));
	event(&f, "e");
	CHECK(wait_until(&f, cond_idle, NULL, WAIT_MS));
	CHECK_STR(out_file(&f, "out"), "1101\n");
	CHECK_EQ(counter(&f, "dropped"), 76);
	CHECK_EQ(counter(&f, "run"), 1);
	CHECK(fx_close(&f));
	return true;
}

/* A missing directory is no error; hooks added later run without a restart. */
TEST(hooks_missing_dir)
{
	struct fixture f;

	CHECK(fx_init_dir(&f, "not-yet", NULL, 5000));
	event(&f, "early");
	CHECK(wait_until(&f, cond_idle, NULL, WAIT_MS));
	CHECK_EQ(counter(&f, "run"), 0);
	CHECK_EQ(counter(&f, "failed"), 0);
	CHECK(mkdir(f.hooks, 0755) == 0);
	CHECK(script(&f, "10-log", 0755, "echo \"$VCLUSTER_EVENT\" >> \"$OUT/out\""));
	event(&f, "later");
	CHECK(wait_until(&f, cond_idle, NULL, WAIT_MS));
	CHECK_STR(out_file(&f, "out"), "later\n");
	CHECK(fx_close(&f));
	return true;
}

static void set_flag(void *arg)
{
	*(bool *)arg = true;
}

/* No directory configured, or a bad configuration. */
TEST(hooks_params)
{
	struct vcd_hooks_params p = { .dir = "/tmp", .timeout_ms = 1000, .events = "Node-Up" };
	struct vcd_hooks *h = NULL;
	bool closed = false, null_closed = false;
	uv_loop_t loop;
	json_t *j;

	uv_loop_init(&loop);
	CHECK_EQ(vcd_hooks_new(&loop, &p, &h), -EINVAL);
	p.events = NULL;
	p.timeout_ms = 0;
	CHECK_EQ(vcd_hooks_new(&loop, &p, &h), -EINVAL);
	p.timeout_ms = 1000;
	p.dir = "";
	CHECK_EQ(vcd_hooks_new(&loop, &p, &h), 0);
	vcd_hooks_event(h, "node-up", NULL);
	j = vcd_hooks_json(h);
	CHECK(j);
	CHECK_EQ(json_object_size(j), 5);
	CHECK_EQ(json_integer_value(json_object_get(j, "queued")), 0);
	CHECK_EQ(json_integer_value(json_object_get(j, "dropped")), 0);
	json_decref(j);
	vcd_hooks_close(h, set_flag, &closed);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK(closed);
	vcd_hooks_close(NULL, set_flag, &null_closed);
	CHECK(null_closed);
	CHECK_EQ(uv_loop_close(&loop), 0);
	return true;
}

/* stdout and stderr reach the log, a line per line, with the hook's name. */
TEST(hooks_output_logged)
{
	char log_path[256], *log;
	struct fixture f;
	int saved, fd;
	FILE *fp;
	long size;

	CHECK(fx_init(&f, NULL, 5000));
	CHECK(script(&f, "10-talk", 0755,
		     "echo 'hello from stdout'\necho 'to stderr' >&2\nprintf 'tab\\there\\n'\n"
		     "printf 'no newline at the end'\nexit 3"));
	CHECK(script(&f, "20-flood", 0755,
		     "i=0; while [ $i -lt 300 ]; do printf x; i=$((i+1)); done; echo\n"
		     "i=1; while [ $i -le 30 ]; do echo \"line $i\"; i=$((i+1)); done"));
	snprintf(log_path, sizeof(log_path), "%s/log", f.base);
	fflush(stderr);
	saved = dup(2);
	fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	vcd_log_init("vclusterd", false, LOG_INFO);
	event(&f, "ev");
	wait_until(&f, cond_idle, NULL, WAIT_MS);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);

	fp = fopen(log_path, "r");
	CHECK(fp);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	rewind(fp);
	log = calloc(1, (size_t)size + 1);
	CHECK(log && fread(log, 1, (size_t)size, fp) == (size_t)size);
	fclose(fp);
	CHECK(strstr(log, "vclusterd[info]: hook 10-talk: hello from stdout\n"));
	CHECK(strstr(log, "vclusterd[info]: hook 10-talk: to stderr\n"));
	CHECK(strstr(log, "vclusterd[info]: hook 10-talk: tab here\n"));
	CHECK(strstr(log, "vclusterd[info]: hook 10-talk: no newline at the end\n"));
	CHECK(strstr(log, "vclusterd[warning]: hook 10-talk (event ev) exited with status 3 after "));
	CHECK(strstr(log, ": hook 20-flood: xxxxxxxxxx"));
	CHECK(strstr(log, "x [cut]\n"));
	CHECK(strstr(log, ": hook 20-flood: line 19\n"));
	CHECK(!strstr(log, ": hook 20-flood: line 20\n"));
	CHECK(strstr(log, ": hook 20-flood: 11 more lines of output not logged\n"));
	free(log);
	CHECK_EQ(counter(&f, "failed"), 1);
	CHECK(fx_close(&f));
	return true;
}

/* At close the queue still runs, within one hook-timeout-ms in all. */
TEST(hooks_close_runs_then_kills)
{
	struct fixture f;
	uint64_t start_ms;

	CHECK(fx_init(&f, NULL, 500));
	CHECK(script(&f, "10-log", 0755,
		     "echo \"$VCLUSTER_EVENT\" >> \"$OUT/out\"\n"
		     "[ \"$VCLUSTER_EVENT\" = long ] && exec sleep 30\nexit 0"));
	event(&f, "first");
	event(&f, "long");
	event(&f, "never");
	start_ms = now_ms();
	vcd_hooks_close(f.h, on_closed, &f);
	vcd_hooks_event(f.h, "after-close", NULL);
	CHECK(wait_until(&f, cond_closed, NULL, WAIT_MS));
	CHECK(now_ms() - start_ms < 2000);
	CHECK_STR(out_file(&f, "out"), "first\nlong\n");
	f.h = NULL;	/* freed; fx_close only waits for the loop */
	CHECK(fx_close(&f));
	return true;
}

static const struct vc_test tests[] = {
	T(hooks_environment_exact),
	T(hooks_events_in_order),
	T(hooks_scripts_in_name_order),
	T(hooks_skipped_files),
	T(hooks_unsafe_dir),
	T(hooks_loop_not_blocked),
	T(hooks_timeout_kills_group),
	T(hooks_timeout_kills_output_holder),
	T(hooks_failures_counted),
	T(hooks_cannot_start),
	T(hooks_event_filter),
	T(hooks_queue_bound),
	T(hooks_missing_dir),
	T(hooks_params),
	T(hooks_output_logged),
	T(hooks_close_runs_then_kills),
	{ NULL, NULL },
};

#include "tap-main.h"
