// SPDX-License-Identifier: GPL-2.0 OR MIT
/* vclusterctl monitor: stream the "events" multicast group. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/vcluster.h>
#include <netlink/genl/genl.h>

#include "json.h"
#include "parse.h"
#include "vclusterctl.h"

struct monitor_opts {
	uint64_t count;		/* 0: unlimited */
	int64_t timeout_ms;	/* -1: none */
	const char *ready_file;
};

struct monitor {
	bool json;
	struct vc_json j;
	uint64_t seen;
};

static int parse_monitor_args(const struct cmd_ctx *ctx, int argc, char **argv,
			      struct monitor_opts *o)
{
	char why[256];
	int i;

	*o = (struct monitor_opts){ .timeout_ms = -1 };
	for (i = 0; i < argc; i += 2) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool known = !strcmp(opt, "--count") || !strcmp(opt, "--timeout") ||
			     !strcmp(opt, "--ready");

		if (!known)
			snprintf(why, sizeof(why), "unexpected argument '%s' (valid: --count N, --timeout SEC, --ready FILE)", opt);
		else if (!val)
			snprintf(why, sizeof(why), "'%s' needs a value", opt);
		else if (!strcmp(opt, "--count") && vc_parse_u64(val, 1, UINT64_MAX, &o->count) < 0)
			snprintf(why, sizeof(why), "--count: '%s' is not a number (valid: 1..%" PRIu64 ")", val, UINT64_MAX);
		else if (!strcmp(opt, "--timeout") && vc_parse_seconds_ms(val, &o->timeout_ms) < 0)
			snprintf(why, sizeof(why), "--timeout: '%s' is not a number of seconds (valid: e.g. 5 or 0.5)", val);
		else
			why[0] = '\0';
		if (why[0])
			return usage_error(ctx, why);
		if (!strcmp(opt, "--ready"))
			o->ready_file = val;
	}
	return VC_EXIT_OK;
}

struct event {
	bool has[__VC_A_EVENT_MAX];
	uint64_t v[__VC_A_EVENT_MAX];
};

static void parse_event(struct nl_msg *msg, struct event *ev)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *a;
	int rem, t;

	memset(ev, 0, sizeof(*ev));
	nlmsg_for_each_attr(a, nlh, GENL_HDRLEN, rem) {
		t = nla_type(a);
		if (t <= 0 || t >= __VC_A_EVENT_MAX)
			continue;
		ev->has[t] = true;
		ev->v[t] = nla_len(a) >= 8 ? nla_get_u64(a) : nla_len(a) >= 4 ? nla_get_u32(a) : 0;
	}
}

static void print_event_json(struct monitor *m, const struct event *ev, uint64_t rx_ns)
{
	struct vc_json *j = &m->j;

	vc_json_obj_begin(j, NULL);
	vc_json_str(j, "event", vc_event_type_name((uint32_t)ev->v[VC_A_EVENT_TYPE]));
	if (ev->has[VC_A_EVENT_NODE_ID])
		vc_json_u64(j, "node_id", ev->v[VC_A_EVENT_NODE_ID]);
	if (ev->has[VC_A_EVENT_LINK_ID])
		vc_json_u64(j, "link_id", ev->v[VC_A_EVENT_LINK_ID]);
	if (ev->has[VC_A_EVENT_REASON])
		vc_json_str(j, "reason", vc_down_reason_name((uint32_t)ev->v[VC_A_EVENT_REASON]));
	if (ev->has[VC_A_EVENT_FENCE_REASON])
		vc_json_str(j, "fence_reason",
			    vc_fence_reason_name((uint32_t)ev->v[VC_A_EVENT_FENCE_REASON]));
	if (ev->has[VC_A_EVENT_VOTES_SEEN])
		vc_json_u64(j, "votes_seen", ev->v[VC_A_EVENT_VOTES_SEEN]);
	if (ev->has[VC_A_EVENT_EXPECTED_VOTES])
		vc_json_u64(j, "expected_votes", ev->v[VC_A_EVENT_EXPECTED_VOTES]);
	if (ev->has[VC_A_EVENT_DEADLINE_NS])
		vc_json_u64(j, "deadline_ns", ev->v[VC_A_EVENT_DEADLINE_NS]);
	if (ev->has[VC_A_EVENT_INCARNATION])
		vc_json_u64(j, "incarnation", ev->v[VC_A_EVENT_INCARNATION]);
	if (ev->has[VC_A_EVENT_TIME_NS])
		vc_json_u64(j, "time_ns", ev->v[VC_A_EVENT_TIME_NS]);
	if (ev->has[VC_A_EVENT_LAST_HEARD_NS])
		vc_json_u64(j, "last_heard_ns", ev->v[VC_A_EVENT_LAST_HEARD_NS]);
	vc_json_u64(j, "rx_ns", rx_ns);
	vc_json_obj_end(j);
	vc_json_end(j);
}

/* "peer-down node=2 reason=timeout incarnation=5 time_ns=.. last_heard_ns=.. silent_ms=30.1 rx_ns=.." */
static void print_event_text(const struct event *ev, uint64_t rx_ns)
{
	const uint64_t *v = ev->v;

	printf("%s node=%" PRIu64, vc_event_type_name((uint32_t)v[VC_A_EVENT_TYPE]),
	       v[VC_A_EVENT_NODE_ID]);
	if (ev->has[VC_A_EVENT_LINK_ID])
		printf(" link=%" PRIu64, v[VC_A_EVENT_LINK_ID]);
	if (ev->has[VC_A_EVENT_REASON])
		printf(" reason=%s", vc_down_reason_name((uint32_t)v[VC_A_EVENT_REASON]));
	if (ev->has[VC_A_EVENT_FENCE_REASON])
		printf(" fence_reason=%s", vc_fence_reason_name((uint32_t)v[VC_A_EVENT_FENCE_REASON]));
	if (ev->has[VC_A_EVENT_VOTES_SEEN] || ev->has[VC_A_EVENT_EXPECTED_VOTES])
		printf(" votes=%" PRIu64 "/%" PRIu64, v[VC_A_EVENT_VOTES_SEEN],
		       v[VC_A_EVENT_EXPECTED_VOTES]);
	if (ev->has[VC_A_EVENT_DEADLINE_NS]) {
		printf(" deadline_ns=%" PRIu64, v[VC_A_EVENT_DEADLINE_NS]);
		if (v[VC_A_EVENT_DEADLINE_NS] && v[VC_A_EVENT_TIME_NS])
			printf(" deadline_in_ms=%.3f",
			       ((double)v[VC_A_EVENT_DEADLINE_NS] - (double)v[VC_A_EVENT_TIME_NS]) / 1e6);
	}
	printf(" incarnation=%" PRIu64 " time_ns=%" PRIu64, v[VC_A_EVENT_INCARNATION],
	       v[VC_A_EVENT_TIME_NS]);
	if (ev->has[VC_A_EVENT_LAST_HEARD_NS]) {
		printf(" last_heard_ns=%" PRIu64, v[VC_A_EVENT_LAST_HEARD_NS]);
		if (v[VC_A_EVENT_LAST_HEARD_NS] && v[VC_A_EVENT_TIME_NS] >= v[VC_A_EVENT_LAST_HEARD_NS])
			printf(" silent_ms=%.3f",
			       (double)(v[VC_A_EVENT_TIME_NS] - v[VC_A_EVENT_LAST_HEARD_NS]) / 1e6);
	}
	printf(" rx_ns=%" PRIu64 "\n", rx_ns);
}

static int event_reply(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
	struct monitor *m = arg;
	struct event ev;

	if (gh->cmd != VC_CMD_EVENT)
		return 0;
	parse_event(msg, &ev);
	if (m->json)
		print_event_json(m, &ev, boottime_ns());
	else
		print_event_text(&ev, boottime_ns());
	m->seen++;
	return 0;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int wait_readable(int fd, int64_t deadline_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t left = deadline_ms < 0 ? -1 : deadline_ms - monotonic_ms();
	int r;

	if (deadline_ms >= 0 && left <= 0)
		return 0;
	r = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
	if (r < 0)
		return errno == EINTR ? 1 : -errno;
	return r;
}

static int monitor_loop(const struct cmd_ctx *ctx, struct vc_nl *nl,
			const struct monitor_opts *o, struct monitor *m)
{
	int64_t deadline_ms = o->timeout_ms < 0 ? -1 : monotonic_ms() + o->timeout_ms;
	int r;

	while (!o->count || m->seen < o->count) {
		r = wait_readable(vc_nl_fd(nl), deadline_ms);
		if (r < 0) {
			err_msg(ctx, "poll: %s", strerror(-r));
			return VC_EXIT_FAILURE;
		}
		if (r == 0)
			return o->count ? VC_EXIT_TIMEOUT : VC_EXIT_OK;
		r = vc_nl_recv_events(nl, event_reply, m);
		if (r == -ENOBUFS)
			err_msg(ctx, "events lost: receive buffer overrun");
		else if (r < 0 && r != -EAGAIN && r != -EINTR) {
			err_msg(ctx, "receiving events: %s", strerror(-r));
			return VC_EXIT_FAILURE;
		}
	}
	return VC_EXIT_OK;
}

int cmd_monitor(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct monitor m = { .json = ctx->json };
	struct monitor_opts o;
	struct vc_nl *nl = NULL;
	int r;

	r = parse_monitor_args(ctx, argc, argv, &o);
	if (r == VC_EXIT_OK)
		r = open_family(ctx, &nl);
	if (r != VC_EXIT_OK)
		return r;
	vc_json_init(&m.j, stdout);
	r = vc_nl_subscribe_events(nl);
	if (r < 0) {
		err_msg(ctx, "cannot join multicast group '%s': %s", VC_GENL_MCGRP_EVENTS,
			strerror(-r));
		r = VC_EXIT_FAILURE;
	} else if (o.ready_file && (r = touch(o.ready_file)) < 0) {
		err_msg(ctx, "cannot create %s: %s", o.ready_file, strerror(-r));
		r = VC_EXIT_FAILURE;
	} else {
		r = monitor_loop(ctx, nl, &o, &m);
	}
	vc_nl_close(nl);
	return r;
}
