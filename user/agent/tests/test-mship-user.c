// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The user transport's membership rules against a fake peer on loopback:
 * the node under test (node 1) and the fake peer (node 2) are two UDP
 * ports on 127.0.0.1; node 3 is configured and never heard.  Arming
 * starts ./vcluster-fencer (action log), so "make test" builds it first.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "tap.h"
#include "../log.h"
#include "../mship.h"
#include "wire.h"

#define OUR_INC		1000
#define INTERVAL_MS	20
#define MISSES		5

struct fx {
	uv_loop_t loop;
	struct vcd_mship *ms;
	struct vc_config cfg;
	struct vc_wire_key key;
	uint16_t port1, port2;
	int peer_fd;			/* the fake peer's socket */
	uint64_t peer_seq;
	/* What the callbacks saw. */
	struct vcd_member last2;	/* node 2's latest change */
	int changes2;
	int fenced;
	uint8_t fence_reason;
	int quorate;			/* -1: no event yet */
};

static struct fx fx;

static void on_peer(void *ctx, const struct vcd_member *m, uint8_t old)
{
	(void)ctx;
	(void)old;
	if (m->node_id == 2) {
		fx.last2 = *m;
		fx.changes2++;
	}
}

static void on_quorum(void *ctx, bool quorate)
{
	(void)ctx;
	fx.quorate = quorate;
}

static void on_fenced(void *ctx, uint8_t reason)
{
	(void)ctx;
	fx.fenced++;
	fx.fence_reason = reason;
}

static int setup(const char *fence)
{
	char text[1024], err[VC_ERR_LEN];
	struct vcd_mship_cb cb = {
		.peer_changed = on_peer, .quorum_changed = on_quorum, .fenced = on_fenced,
	};
	struct vcd_mship_params p = { .cfg = &fx.cfg, .key_id = 1, .incarnation = OUR_INC,
				      .fencer_path = "./vcluster-fencer" };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int r;

	memset(&fx, 0, sizeof(fx));
	fx.quorate = -1;
	fx.port1 = 20000 + getpid() % 20000;
	fx.port2 = fx.port1 + 1;
	snprintf(text, sizeof(text),
		 "[node]\ncluster-id = 9\nnode-id = 1\nport = %u\ninterval-ms = %u\n"
		 "misses = %u\nlink0 = 127.0.0.1\nexpected-votes = 3\nfence-margin-ms = 100\n"
		 "%s\n[peer 2]\nlink0 = 127.0.0.1:%u\n\n[peer 3]\nlink0 = 127.0.0.1:%u\n",
		 fx.port1, INTERVAL_MS, MISSES, fence, fx.port2, fx.port2 + 1);
	r = vc_config_parse(text, strlen(text), "test.conf", &fx.cfg, err, sizeof(err));
	if (r < 0) {
		printf("# config: %s\n", err);
		return r;
	}
	snprintf(fx.cfg.agent.log_level, sizeof(fx.cfg.agent.log_level), "err");
	fx.key.id = 1;
	memset(fx.key.key, 0x5a, VC_KEY_LEN);
	p.key = fx.key.key;

	fx.peer_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	sa.sin_port = htons(fx.port2);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fx.peer_fd < 0 || bind(fx.peer_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		printf("# fake peer socket: %s\n", strerror(errno));
		return -errno;
	}
	uv_loop_init(&fx.loop);
	r = vcd_mship_user_new(&fx.loop, &cb, &fx.ms);
	if (r == 0)
		r = fx.ms->ops->start(fx.ms, &p);
	if (r < 0)
		printf("# start: %s\n", strerror(-r));
	return r;
}

static void teardown(void)
{
	if (fx.ms) {
		fx.ms->ops->stop(fx.ms);
		fx.ms->ops->close(fx.ms);
		fx.ms = NULL;
	}
	uv_run(&fx.loop, UV_RUN_NOWAIT);
	uv_loop_close(&fx.loop);
	if (fx.peer_fd >= 0)
		close(fx.peer_fd);
}

/* Run the loop for @ms milliseconds. */
static void run_ms(unsigned int ms)
{
	uint64_t end = vcd_now_ns() + (uint64_t)ms * 1000000;

	while (vcd_now_ns() < end) {
		uv_run(&fx.loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
}

/* Run until node 2 is in @state, at most @ms; true if it got there. */
static bool run_until_state(uint8_t state, unsigned int ms)
{
	uint64_t end = vcd_now_ns() + (uint64_t)ms * 1000000;

	while (vcd_now_ns() < end) {
		uv_run(&fx.loop, UV_RUN_NOWAIT);
		if (fx.changes2 && fx.last2.state == state)
			return true;
		usleep(1000);
	}
	return false;
}

/* One heartbeat of node 2 (life @inc) listing node 1's life as @us. */
static void peer_send_key(uint64_t inc, uint8_t us, const struct vc_wire_key *key)
{
	static struct vc_wire_msg m;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(fx.port1),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint8_t buf[VC_WIRE_MAX_LEN];
	size_t len;

	vc_wire_msg_init(&m);
	m.cluster_id = 9;
	m.node_id = 2;
	m.dest_node_id = 1;
	m.interval_ms = INTERVAL_MS;
	m.dead_ms = INTERVAL_MS * MISSES;
	m.incarnation = inc;
	m.seq = ++fx.peer_seq;
	m.tx_time_ns = vcd_now_ns();
	m.flags = VC_WIRE_F_ARMED;
	m.fence_action = VC_FENCE_ACTION_KILL;
	m.quorum_timeout_ms = 1000;
	m.kill_bound_ms = 500;
	m.n_members = 1;
	m.members[0].node_id = 1;
	m.members[0].state = us;
	m.members[0].incarnation = OUR_INC;
	vc_wire_encode_signed(&m, key, buf, sizeof(buf), &len);
	sendto(fx.peer_fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to));
}

static void peer_send(uint64_t inc, uint8_t us)
{
	peer_send_key(inc, us, &fx.key);
}

/* Node 2 joins: JOINING first (it does not list us), then UP. */
static bool bring_up(void)
{
	peer_send(5, VC_PEER_STATE_NEW);
	if (!run_until_state(VC_PEER_STATE_JOINING, 500))
		return false;
	peer_send(5, VC_PEER_STATE_UP);
	return run_until_state(VC_PEER_STATE_UP, 500);
}

#define FX_TEST(n, fence)			\
	static bool body_##n(void);		\
	TEST(n)					\
	{					\
		bool ok = setup(fence) == 0 && body_##n();	\
		teardown();			\
		return ok;			\
	}					\
	static bool body_##n(void)

FX_TEST(symmetric_up_and_quorum, "")
{
	CHECK(bring_up());
	CHECK_EQ(fx.last2.incarnation, 5);
	run_ms(3 * INTERVAL_MS);
	CHECK_EQ(fx.quorate, 1);
	return true;
}

FX_TEST(fenced_by_and_strength, "")
{
	uint64_t window_ms = INTERVAL_MS * MISSES + 1000 + 500 + 2 * INTERVAL_MS + 100;

	CHECK(bring_up());
	CHECK(fx.last2.armed && fx.last2.fence_strong && !fx.last2.user_fence);
	CHECK_EQ(fx.last2.fenced_by_ns - fx.last2.last_heard_ns, window_ms * 1000000);
	return true;
}

FX_TEST(silence_suspect_then_down, "")
{
	CHECK(bring_up());
	/* A loaded machine may skip SUSPECT: one late tick sees dead time. */
	CHECK(run_until_state(VC_PEER_STATE_SUSPECT, 200) ||
	      fx.last2.state == VC_PEER_STATE_DOWN);
	CHECK(run_until_state(VC_PEER_STATE_DOWN, 500));
	CHECK_EQ(fx.last2.down_reason, VC_DOWN_REASON_TIMEOUT);
	/* Its same life is refused: DOWN is sticky. */
	peer_send(5, VC_PEER_STATE_UP);
	run_ms(3 * INTERVAL_MS);
	CHECK_EQ(fx.last2.state, VC_PEER_STATE_DOWN);
	/* A new life is heard afresh. */
	peer_send(6, VC_PEER_STATE_NEW);
	CHECK(run_until_state(VC_PEER_STATE_JOINING, 500));
	CHECK_EQ(fx.last2.incarnation, 6);
	return true;
}

FX_TEST(replay_refused, "")
{
	CHECK(bring_up());
	/* An old sequence number listing us DOWN must not count. */
	fx.peer_seq = 1;
	peer_send(5, VC_PEER_STATE_DOWN);
	run_ms(3 * INTERVAL_MS);
	CHECK(fx.last2.state == VC_PEER_STATE_UP || fx.last2.state == VC_PEER_STATE_SUSPECT);
	return true;
}

FX_TEST(bad_mac_ignored, "")
{
	struct vc_wire_key wrong = { .id = 1 };

	CHECK(bring_up());
	memset(wrong.key, 0x33, VC_KEY_LEN);
	peer_send_key(5, VC_PEER_STATE_DOWN, &wrong);
	run_ms(3 * INTERVAL_MS);
	CHECK(fx.last2.state == VC_PEER_STATE_UP || fx.last2.state == VC_PEER_STATE_SUSPECT);
	return true;
}

FX_TEST(listed_down_fences_and_silences, "[fence]\naction = log\n")
{
	uint8_t buf[VC_WIRE_MAX_LEN + 1];

	CHECK(bring_up());
	CHECK_EQ(fx.ms->ops->arm(fx.ms), 0);
	peer_send(5, VC_PEER_STATE_DOWN);
	CHECK(run_until_state(VC_PEER_STATE_DOWN, 500));
	CHECK_EQ(fx.last2.down_reason, VC_DOWN_REASON_DECLARED);
	CHECK_EQ(fx.fenced, 1);
	CHECK_EQ(fx.fence_reason, VC_FENCE_REASON_DECLARED);
	/* Fenced: no heartbeat any more in this life. */
	run_ms(2 * INTERVAL_MS);
	while (recv(fx.peer_fd, buf, sizeof(buf), 0) > 0)
		;
	run_ms(4 * INTERVAL_MS);
	CHECK(recv(fx.peer_fd, buf, sizeof(buf), 0) < 0);
	CHECK_EQ(fx.ms->ops->pet(fx.ms), -EBUSY);
	return true;
}

FX_TEST(quorum_deadline_fences, "[fence]\naction = log\nquorum-timeout-ms = 100\n")
{
	CHECK_EQ(fx.ms->ops->arm(fx.ms), 0);
	/* Alone: never quorate, so the deadline set at arming passes. */
	run_ms(300);
	CHECK_EQ(fx.fenced, 1);
	CHECK_EQ(fx.fence_reason, VC_FENCE_REASON_QUORUM);
	return true;
}

FX_TEST(our_heartbeat, "[fence]\naction = log\n")
{
	static struct vc_wire_msg m;
	uint32_t ids[] = { 1 };
	struct vc_wire_receiver rx = {
		.cluster_id = 9, .node_id = 2, .peer_ids = ids, .n_peers = 1,
		.keys = &fx.key, .n_keys = 1,
	};
	uint8_t buf[VC_WIRE_MAX_LEN + 1];
	ssize_t n = -1;
	int i;

	CHECK(bring_up());
	CHECK_EQ(fx.ms->ops->arm(fx.ms), 0);
	CHECK_EQ(fx.ms->ops->set_payload(fx.ms, "hi", 2), 0);
	run_ms(2 * INTERVAL_MS);
	while (recv(fx.peer_fd, buf, sizeof(buf), 0) > 0)
		;
	for (i = 0; i < 100 && n <= 0; i++) {
		run_ms(5);
		n = recv(fx.peer_fd, buf, sizeof(buf), 0);
	}
	CHECK(n > 0);
	CHECK_EQ(vc_wire_parse(buf, n, &rx, &m, NULL), 0);
	CHECK_EQ(m.incarnation, OUR_INC);
	CHECK_EQ(m.dest_node_id, 2);
	CHECK_EQ(m.flags & (VC_WIRE_F_ARMED | VC_WIRE_F_USER_FENCE),
		 VC_WIRE_F_ARMED | VC_WIRE_F_USER_FENCE);
	CHECK_EQ(m.fence_action, VC_FENCE_ACTION_LOG);
	CHECK_EQ(m.dead_ms, INTERVAL_MS * MISSES);
	CHECK_EQ(m.n_members, 2);
	CHECK_EQ(m.members[0].node_id, 2);
	/* The fake peer went quiet after joining: UP or already SUSPECT. */
	CHECK(m.members[0].state == VC_PEER_STATE_UP ||
	      m.members[0].state == VC_PEER_STATE_SUSPECT);
	CHECK_EQ(m.members[0].incarnation, 5);
	CHECK_EQ(m.members[1].state, VC_PEER_STATE_NEW);
	CHECK_EQ(m.payload_len, 2);
	CHECK(memcmp(m.payload, "hi", 2) == 0);
	/* It echoes our timestamp: an RTT is known. */
	CHECK(m.echo_time_ns != 0);
	return true;
}

static const struct vc_test tests[] = {
	T(symmetric_up_and_quorum),
	T(fenced_by_and_strength),
	T(silence_suspect_then_down),
	T(replay_refused),
	T(bad_mac_ignored),
	T(listed_down_fences_and_silences),
	T(quorum_deadline_fences),
	T(our_heartbeat),
	{ 0 },
};

#define main tap_main
#include "tap-main.h"
#undef main

int main(void)
{
	/* Quiet: the transport and the fencer log to stderr. */
	vcd_log_init("test-mship-user", false, LOG_ERR);
	return tap_main();
}
