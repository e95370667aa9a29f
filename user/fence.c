// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * vclusterctl fence, proc and key commands: arm, pet and disarm the
 * fencing watchdog, register the processes its "kill" action kills, and
 * manage the MAC keys.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/vcluster.h>
#include <netlink/genl/genl.h>

#include "blake2s.h"
#include "keyfile.h"
#include "msg.h"
#include "parse.h"
#include "show.h"
#include "vclusterctl.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* Open, send one request built by @build (NULL: no attributes), close. */
static int one_request(const struct cmd_ctx *ctx, uint8_t cmd,
		       int (*build)(struct nl_msg *msg, const void *arg), const void *arg)
{
	struct vc_nl *nl = NULL;
	struct nl_msg *msg;
	int r;

	r = open_family(ctx, &nl);
	if (r != VC_EXIT_OK)
		return r;
	msg = vc_nl_msg_new(nl, cmd, 0);
	if (msg && build && build(msg, arg) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	r = msg ? vc_nl_request(nl, msg, NULL, NULL) : -ENOMEM;
	r = r < 0 ? kernel_error(ctx, nl, "", r) : VC_EXIT_OK;
	vc_nl_close(nl);
	return r;
}

/* ---- fence ---- */

static int build_fence(struct nl_msg *msg, const void *arg)
{
	return vc_msg_put_fence(msg, arg);
}

int cmd_fence_arm(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct vc_fence_cfg cfg;
	char err[VC_ERR_LEN];

	if (vc_args_fence_arm(argc, argv, &cfg, err, sizeof(err)) < 0)
		return usage_error(ctx, err);
	return one_request(ctx, VC_CMD_FENCE_ARM, build_fence, &cfg);
}

int cmd_fence_disarm(struct cmd_ctx *ctx, int argc, char **argv)
{
	int r = no_extra_args(ctx, argc, argv);

	return r != VC_EXIT_OK ? r : one_request(ctx, VC_CMD_FENCE_DISARM, NULL, NULL);
}

struct pet_opts {
	uint32_t every_ms;	/* 0: pet once */
	int64_t for_ms;		/* -1: until killed */
};

static int parse_pet_args(const struct cmd_ctx *ctx, int argc, char **argv,
			  struct pet_opts *o)
{
	char why[256];
	int i;

	*o = (struct pet_opts){ .for_ms = -1 };
	for (i = 0; i < argc; i += 2) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(opt, "--every") && strcmp(opt, "--for"))
			snprintf(why, sizeof(why), "unexpected argument '%s' (valid: --every MS, --for SEC)", opt);
		else if (!val)
			snprintf(why, sizeof(why), "'%s' needs a value", opt);
		else if (!strcmp(opt, "--every") && vc_parse_u32(val, 1, 3600000, &o->every_ms) < 0)
			snprintf(why, sizeof(why), "--every: '%s' is not a number of milliseconds (valid: 1..3600000)", val);
		else if (!strcmp(opt, "--for") && vc_parse_seconds_ms(val, &o->for_ms) < 0)
			snprintf(why, sizeof(why), "--for: '%s' is not a number of seconds (valid: e.g. 5 or 0.5)", val);
		else
			why[0] = '\0';
		if (why[0])
			return usage_error(ctx, why);
	}
	if (o->for_ms >= 0 && !o->every_ms)
		return usage_error(ctx, "--for needs --every");
	return VC_EXIT_OK;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_until_ms(int64_t when_ms)
{
	struct timespec ts = { .tv_sec = when_ms / 1000, .tv_nsec = (when_ms % 1000) * 1000000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/*
 * Pet once, or every --every MS on an absolute schedule (a slow pet does
 * not push the next one later) until --for SEC have passed.  The first
 * refused pet ends the loop with the kernel's explanation.
 */
int cmd_fence_pet(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct vc_nl *nl = NULL;
	struct pet_opts o;
	int64_t start, next;
	struct nl_msg *msg;
	uint64_t n = 0;
	int r;

	r = parse_pet_args(ctx, argc, argv, &o);
	if (r == VC_EXIT_OK)
		r = open_family(ctx, &nl);
	if (r != VC_EXIT_OK)
		return r;
	start = next = monotonic_ms();
	for (;;) {
		msg = vc_nl_msg_new(nl, VC_CMD_FENCE_PET, 0);
		r = msg ? vc_nl_request(nl, msg, NULL, NULL) : -ENOMEM;
		if (r < 0) {
			char where[64];

			snprintf(where, sizeof(where), "pet %" PRIu64, n + 1);
			r = kernel_error(ctx, nl, where, r);
			break;
		}
		n++;
		r = VC_EXIT_OK;
		if (!o.every_ms)
			break;
		next += o.every_ms;
		if (o.for_ms >= 0 && next - start > o.for_ms)
			break;
		sleep_until_ms(next);
	}
	vc_nl_close(nl);
	return r;
}

struct pid_list {
	size_t n;
	uint32_t pids[1024];
};

static int pid_reply(struct nl_msg *msg, void *arg)
{
	struct nlattr *a = nlmsg_find_attr(nlmsg_hdr(msg), GENL_HDRLEN, VC_A_PROC_PID);
	struct pid_list *l = arg;

	if (a && nla_len(a) == 4 && l->n < sizeof(l->pids) / sizeof(l->pids[0]))
		l->pids[l->n++] = nla_get_u32(a);
	return 0;
}

static int get_pids(struct vc_nl *nl, struct pid_list *l)
{
	struct nl_msg *msg = vc_nl_msg_new(nl, VC_CMD_PROC_GET, NLM_F_DUMP);

	l->n = 0;
	return msg ? vc_nl_request(nl, msg, pid_reply, l) : -ENOMEM;
}

struct fence_printer {
	const struct cmd_ctx *ctx;
	const struct pid_list *pids;
};

static int fence_reply(struct nl_msg *msg, void *arg)
{
	const struct fence_printer *fp = arg;

	vc_show_fence(stdout, msg, fp->ctx->json, boottime_ns(), fp->pids->pids, fp->pids->n);
	return 0;
}

int cmd_fence_show(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct pid_list *pids = calloc(1, sizeof(*pids));
	struct fence_printer fp = { ctx, pids };
	struct vc_nl *nl = NULL;
	struct nl_msg *msg;
	int r;

	if (!pids)
		return VC_EXIT_FAILURE;
	r = no_extra_args(ctx, argc, argv);
	if (r == VC_EXIT_OK)
		r = open_family(ctx, &nl);
	if (r != VC_EXIT_OK) {
		free(pids);
		return r;
	}
	r = get_pids(nl, pids);
	if (r < 0) {
		r = kernel_error(ctx, nl, "listing processes", r);
	} else {
		msg = vc_nl_msg_new(nl, VC_CMD_NODE_GET, 0);
		r = msg ? vc_nl_request(nl, msg, fence_reply, &fp) : -ENOMEM;
		r = r < 0 ? kernel_error(ctx, nl, "", r) : VC_EXIT_OK;
	}
	vc_nl_close(nl);
	free(pids);
	return r;
}

/* ---- proc ---- */

/* Field 22 of /proc/PID/stat. */
static int read_start_time(uint32_t pid, uint64_t *ret)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd, r;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return r;
	return vc_parse_stat_start_time(buf, (size_t)n, ret);
}

/* 1 if the process behind @pidfd has exited (the pidfd polls readable). */
static int pidfd_exited(int pidfd)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

	return poll(&pfd, 1, 0) > 0;
}

static int parse_pid(const struct cmd_ctx *ctx, const char *s, uint32_t *pid)
{
	char why[128];

	if (vc_parse_u32(s, 1, 4194304, pid) == 0)
		return VC_EXIT_OK;
	snprintf(why, sizeof(why), "'%s' is not a PID (valid: 1..4194304)", s);
	return usage_error(ctx, why);
}

struct proc_req {
	uint32_t pid;
	bool with_start;
	uint64_t start_time;
};

static int build_proc(struct nl_msg *msg, const void *arg)
{
	const struct proc_req *p = arg;

	return vc_msg_put_proc(msg, p->pid, p->with_start, p->start_time);
}

static int proc_simple(struct vc_nl *nl, uint8_t cmd, const struct proc_req *p)
{
	struct nl_msg *msg = vc_nl_msg_new(nl, cmd, 0);

	if (!msg)
		return -ENOMEM;
	if (build_proc(msg, p) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return vc_nl_request(nl, msg, NULL, NULL);
}

/*
 * Register one process.  A pidfd pins "this process" while we read its
 * start time and while the kernel takes its reference: if the process
 * exits (and its PID could be reused) at any point, the pidfd says so
 * and the registration is undone.
 */
static int proc_add_one(const struct cmd_ctx *ctx, struct vc_nl *nl, uint32_t pid)
{
	struct proc_req p = { .pid = pid, .with_start = true };
	char where[64];
	int pidfd, r;

	snprintf(where, sizeof(where), "pid %u", pid);
	pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pidfd < 0) {
		err_msg(ctx, "pid %u: %s", pid, errno == ESRCH ? "no such process" : strerror(errno));
		return VC_EXIT_FAILURE;
	}
	r = read_start_time(pid, &p.start_time);
	if (r < 0 || pidfd_exited(pidfd)) {
		err_msg(ctx, "pid %u: %s", pid, r == -EINVAL ? "cannot parse /proc/PID/stat" :
			"no such process (it exited)");
		close(pidfd);
		return VC_EXIT_FAILURE;
	}
	r = proc_simple(nl, VC_CMD_PROC_ADD, &p);
	if (r < 0) {
		close(pidfd);
		return kernel_error(ctx, nl, where, r);
	}
	if (pidfd_exited(pidfd)) {
		p.with_start = false;
		(void)proc_simple(nl, VC_CMD_PROC_DEL, &p);
		err_msg(ctx, "pid %u: the process exited while it was being registered; removed it again",
			pid);
		close(pidfd);
		return VC_EXIT_FAILURE;
	}
	close(pidfd);
	return VC_EXIT_OK;
}

int cmd_proc_add(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct vc_nl *nl = NULL;
	uint32_t *pids;
	int i, r, worst = VC_EXIT_OK;

	if (argc == 0)
		return usage_error(ctx, "missing PID");
	pids = calloc((size_t)argc, sizeof(*pids));
	if (!pids)
		return VC_EXIT_FAILURE;
	for (i = 0; i < argc; i++) {
		r = parse_pid(ctx, argv[i], &pids[i]);
		if (r != VC_EXIT_OK) {
			free(pids);
			return r;
		}
	}
	r = open_family(ctx, &nl);
	if (r != VC_EXIT_OK) {
		free(pids);
		return r;
	}
	for (i = 0; i < argc; i++) {
		r = proc_add_one(ctx, nl, pids[i]);
		if (r != VC_EXIT_OK)
			worst = r;
	}
	vc_nl_close(nl);
	free(pids);
	return worst;
}

int cmd_proc_del(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct proc_req p = { 0 };
	int r;

	if (argc != 1)
		return usage_error(ctx, argc ? "one PID at a time" : "missing PID");
	r = parse_pid(ctx, argv[0], &p.pid);
	return r != VC_EXIT_OK ? r : one_request(ctx, VC_CMD_PROC_DEL, build_proc, &p);
}

static void print_pids(const struct cmd_ctx *ctx, const struct pid_list *l)
{
	char path[64], comm[64];
	struct vc_json j;
	size_t i;
	FILE *f;

	if (ctx->json) {
		vc_json_init(&j, stdout);
		vc_json_arr_begin(&j, NULL);
	}
	for (i = 0; i < l->n; i++) {
		snprintf(path, sizeof(path), "/proc/%u/comm", l->pids[i]);
		comm[0] = '\0';
		f = fopen(path, "re");
		if (f) {
			if (!fgets(comm, sizeof(comm), f))
				comm[0] = '\0';
			fclose(f);
			comm[strcspn(comm, "\n")] = '\0';
		}
		if (ctx->json) {
			vc_json_obj_begin(&j, NULL);
			vc_json_u64(&j, "pid", l->pids[i]);
			vc_json_str(&j, "comm", comm);
			vc_json_obj_end(&j);
		} else {
			printf("%u  %s\n", l->pids[i], comm[0] ? comm : "-");
		}
	}
	if (ctx->json) {
		vc_json_arr_end(&j);
		vc_json_end(&j);
	} else if (!l->n) {
		printf("no processes\n");
	}
}

int cmd_proc_list(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct pid_list *l = calloc(1, sizeof(*l));
	struct vc_nl *nl = NULL;
	int r;

	if (!l)
		return VC_EXIT_FAILURE;
	r = no_extra_args(ctx, argc, argv);
	if (r == VC_EXIT_OK)
		r = open_family(ctx, &nl);
	if (r == VC_EXIT_OK) {
		r = get_pids(nl, l);
		if (r < 0)
			r = kernel_error(ctx, nl, "", r);
		else
			print_pids(ctx, l);
		r = r < 0 ? VC_EXIT_FAILURE : r;
	}
	vc_nl_close(nl);
	free(l);
	return r;
}

/* ---- key ---- */

struct key_req {
	uint32_t id;
	const uint8_t *value;
	bool primary;
};

static int build_key(struct nl_msg *msg, const void *arg)
{
	const struct key_req *k = arg;

	return vc_msg_put_key(msg, k->id, k->value, k->primary, k->primary);
}

static int parse_key_id(const struct cmd_ctx *ctx, const char *s, uint32_t *id)
{
	char why[128];

	if (vc_parse_u32(s, VC_KEY_ID_MIN, VC_KEY_ID_MAX, id) == 0)
		return VC_EXIT_OK;
	snprintf(why, sizeof(why), "'%s' is not a key id (valid: 1..255)", s);
	return usage_error(ctx, why);
}

/* KEY_SET; the key bytes also sit in the message, which is freed after. */
static int key_send(struct vc_nl *nl, uint32_t id, const uint8_t key[VC_KEY_LEN],
		    bool primary)
{
	struct key_req k = { .id = id, .value = key, .primary = primary };
	struct nl_msg *msg = vc_nl_msg_new(nl, VC_CMD_KEY_SET, 0);

	if (msg && build_key(msg, &k) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg ? vc_nl_request(nl, msg, NULL, NULL) : -ENOMEM;
}

static int key_read(const struct cmd_ctx *ctx, const char *path, uint8_t key[VC_KEY_LEN],
		    const char *where)
{
	char err[VC_ERR_LEN];

	if (vc_key_read_file(path, key, err, sizeof(err)) == 0)
		return VC_EXIT_OK;
	err_msg(ctx, "%s%s%s", where, where[0] ? ": " : "", err);
	return VC_EXIT_USAGE;
}

int key_set_from_file(const struct cmd_ctx *ctx, struct vc_nl *nl, uint32_t id,
		      const char *path, bool primary, const char *where)
{
	uint8_t key[VC_KEY_LEN];
	int r;

	r = key_read(ctx, path, key, where);
	if (r != VC_EXIT_OK)
		return r;
	r = key_send(nl, id, key, primary);
	vc_memzero_explicit(key, sizeof(key));
	return r < 0 ? kernel_error(ctx, nl, where, r) : VC_EXIT_OK;
}

int cmd_key_set(struct cmd_ctx *ctx, int argc, char **argv)
{
	uint8_t key[VC_KEY_LEN];
	struct vc_nl *nl = NULL;
	char why[256];
	uint32_t id;
	int r;

	if (argc < 2)
		return usage_error(ctx, argc ? "missing FILE" : "missing ID and FILE");
	if (argc > 3 || (argc == 3 && strcmp(argv[2], "primary") != 0)) {
		snprintf(why, sizeof(why), "unexpected argument '%s' (valid: primary)",
			 argv[argc == 3 ? 2 : 3]);
		return usage_error(ctx, why);
	}
	r = parse_key_id(ctx, argv[0], &id);
	if (r == VC_EXIT_OK)
		r = key_read(ctx, argv[1], key, "");
	if (r == VC_EXIT_OK)
		r = open_family(ctx, &nl);
	if (r == VC_EXIT_OK) {
		r = key_send(nl, id, key, argc == 3);
		r = r < 0 ? kernel_error(ctx, nl, "", r) : VC_EXIT_OK;
	}
	vc_memzero_explicit(key, sizeof(key));
	vc_nl_close(nl);
	return r;
}

int cmd_key_del(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct key_req k = { 0 };
	int r;

	if (argc != 1)
		return usage_error(ctx, argc ? "one ID at a time" : "missing ID");
	r = parse_key_id(ctx, argv[0], &k.id);
	return r != VC_EXIT_OK ? r : one_request(ctx, VC_CMD_KEY_DEL, build_key, &k);
}

static int keys_reply(struct nl_msg *msg, void *arg)
{
	const struct cmd_ctx *ctx = arg;

	vc_show_keys(stdout, msg, ctx->json);
	return 0;
}

int cmd_key_list(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct vc_nl *nl = NULL;
	struct nl_msg *msg;
	int r;

	r = no_extra_args(ctx, argc, argv);
	if (r == VC_EXIT_OK)
		r = open_family(ctx, &nl);
	if (r != VC_EXIT_OK)
		return r;
	msg = vc_nl_msg_new(nl, VC_CMD_NODE_GET, 0);
	r = msg ? vc_nl_request(nl, msg, keys_reply, ctx) : -ENOMEM;
	r = r < 0 ? kernel_error(ctx, nl, "", r) : VC_EXIT_OK;
	vc_nl_close(nl);
	return r;
}
