// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The DC's fence decisions, driven with explicit times: strong fencing
 * commits exactly when the window closes, weak fencing waits for the
 * operator, a comeback cancels, a new DC restarts windows in full, the
 * majority rule holds in a non-transitive partition, and a host never
 * heard on a cold start gets the DC's own window.  The entries the DC
 * builds are applied to a real state machine to show they are accepted.
 */
#include <errno.h>
#include <stdlib.h>

#include "../dc.h"
#include "../state.h"
#include "tap.h"

#define MS	1000000ull
#define WALL0	1795000000000LL

static struct vcd_dc_now at(uint64_t ns)
{
	return (struct vcd_dc_now){ .ns = ns, .wall_ms = WALL0 + (int64_t)(ns / MS) };
}

static struct vcd_dc_params params(uint32_t self, uint32_t n_voters)
{
	struct vcd_dc_params p = {
		.self_id = self, .n_voters = n_voters,
		.interval_ms = 100, .dead_ms = 300, .quorum_timeout_ms = 2000,
		.kill_bound_ms = 1000, .margin_ms = 500, .never_heard_strong = true,
	};
	uint32_t i;

	for (i = 0; i < n_voters; i++)
		p.voters[i] = (struct vcd_dc_voter){ .id = i + 1, .votes = 1 };
	return p;
}

static struct vcd_dc *dc_new(uint32_t self, uint32_t n_voters)
{
	struct vcd_dc_params p = params(self, n_voters);
	struct vcd_dc *dc = NULL;

	if (vcd_dc_new(&p, &dc) < 0)
		abort();
	return dc;
}

/* Node @id, incarnation 7, heard last at @heard_ms, window 4200 ms, kill. */
static struct vcd_dc_peer strong_peer(uint32_t id, uint64_t heard_ms)
{
	return (struct vcd_dc_peer){
		.node_id = id, .incarnation = 7, .last_heard_ns = heard_ms * MS,
		.fenced_by_ns = (heard_ms + 4200) * MS, .strong = true, .armed = true,
		.fence_action = VC_FENCE_ACTION_KILL,
	};
}

static int view(struct vcd_dc *dc, uint32_t voter, uint32_t node, uint64_t inc, bool down,
		uint64_t fenced_by_ns, uint64_t now_ns, struct vcd_dc_out *out)
{
	struct vcd_dc_view v = {
		.voter_id = voter, .node_id = node, .incarnation = inc, .down = down,
		.fenced_by_ns = fenced_by_ns,
	};

	return vcd_dc_view(dc, &v, at(now_ns), out);
}

static void dump(const struct vcd_dc_out *out)
{
	size_t i;

	for (i = 0; i < out->n; i++)
		printf("#   %s: %s\n", vcd_dc_act_name(out->act[i].type), out->act[i].text);
}

/* The actions' types, e.g. "commit-down,commit-fenced"; "" for none. */
static const char *types(const struct vcd_dc_out *out)
{
	static char buf[256];
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < out->n; i++) {
		if (i)
			strcat(buf, ",");
		strcat(buf, vcd_dc_act_name(out->act[i].type));
	}
	return buf;
}

#define CHECK_ACTS(out, want) do {					\
	if (strcmp(types(out), want) != 0)				\
		dump(out);						\
	CHECK_STR(types(out), want);					\
} while (0)

/* Apply an action's entry to @s. */
static int apply_act(struct vcd_state *s, const struct vcd_dc_action *a, uint64_t index)
{
	char why[VCD_STATE_WHY_LEN];
	int r = vcd_state_apply(s, a->entry, a->entry_len, index, NULL, why, sizeof(why));

	if (r < 0)
		printf("# apply %s: %s\n", a->entry, why);
	return r;
}

static json_t *entry_json(const struct vcd_dc_action *a)
{
	return json_loadb(a->entry, a->entry_len, 0, NULL);
}

static int64_t ji(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static struct vcd_state *state_with_online(uint32_t node, uint64_t inc)
{
	struct vcd_state *s = NULL;
	char *e;
	size_t len;

	if (vcd_state_new(&s) < 0 || vcd_entry_node_up(node, inc, &e, &len) < 0 ||
	    vcd_state_apply(s, e, len, 1, NULL, NULL, 0) < 0)
		abort();
	free(e);
	return s;
}

TEST(strong_commits_exactly_at_window)
{
	struct vcd_dc *dc = dc_new(1, 3);
	struct vcd_state *s = state_with_online(3, 7);
	struct vcd_dc_peer p = strong_peer(3, 1000);
	struct vcd_dc_out out;
	const struct vcd_node *n;
	json_t *e;

	vcd_dc_out_init(&out);
	CHECK_EQ(vcd_dc_become(dc, 4, NULL, 0, at(500 * MS), &out), 0);
	CHECK_ACTS(&out, "");
	CHECK(vcd_dc_active(dc));
	/* The DC alone: 1 of 3 votes, no window runs yet. */
	CHECK_EQ(vcd_dc_peer_down(dc, &p, at(1030 * MS), &out), 0);
	CHECK_ACTS(&out, "");
	CHECK_EQ(out.next_deadline_ns, 0);
	/* Voter 2 agrees (its window closes earlier on our clock): majority. */
	CHECK_EQ(view(dc, 2, 3, 7, true, 5100 * MS, 1040 * MS, &out), 0);
	CHECK_ACTS(&out, "commit-down");
	CHECK_EQ(out.act[0].node_id, 3);
	CHECK_EQ(out.act[0].incarnation, 7);
	CHECK_EQ(out.act[0].votes_down, 2);
	CHECK_EQ(out.act[0].votes_total, 3);
	CHECK_EQ(out.act[0].deadline_ns, 5200 * MS);
	CHECK_STR(out.act[0].text, "node 3 (incarnation 7) is down for 2 of 3 votes, last heard 40 ms ago: fence window closes in 4160 ms");
	CHECK_STR(out.act[0].entry, "{\"incarnation\":7,\"node\":3,\"op\":\"node-down\",\"v\":1}");
	CHECK_EQ(apply_act(s, &out.act[0], 2), 0);
	CHECK_EQ(out.next_deadline_ns, 5200 * MS);
	vcd_dc_out_clear(&out);

	/* One nanosecond before the window closes: nothing. */
	CHECK_EQ(vcd_dc_tick(dc, at(5200 * MS - 1), &out), 0);
	CHECK_ACTS(&out, "");
	CHECK_EQ(out.next_deadline_ns, 5200 * MS);
	/* At the window: fenced, automatically. */
	CHECK_EQ(vcd_dc_tick(dc, at(5200 * MS), &out), 0);
	CHECK_ACTS(&out, "commit-fenced");
	CHECK_EQ(out.act[0].how, VCD_FENCE_AUTO);
	CHECK_EQ(out.act[0].now_ns, 5200 * MS);
	CHECK_EQ(out.act[0].last_heard_ns, 1000 * MS);
	CHECK_STR(out.act[0].text, "node 3 (incarnation 7) fenced: strong fencing and the window closed (now 5200000000 ns >= deadline 5200000000 ns; window 4200 ms; last heard 4200 ms ago; 2 of 3 votes)");
	e = entry_json(&out.act[0]);
	CHECK(e);
	CHECK_STR(json_string_value(json_object_get(e, "op")), "node-fenced");
	CHECK_STR(json_string_value(json_object_get(e, "how")), "auto");
	CHECK_EQ(ji(e, "node"), 3);
	CHECK_EQ(ji(e, "incarnation"), 7);
	CHECK_EQ(ji(e, "last_heard_age_ms"), 4200);
	CHECK_EQ(ji(e, "window_ms"), 4200);
	CHECK_EQ(ji(e, "dc"), 1);
	CHECK_EQ(ji(e, "term"), 4);
	CHECK_EQ(ji(e, "time_ms"), WALL0 + 5200);
	json_decref(e);
	CHECK_EQ(apply_act(s, &out.act[0], 3), 0);
	n = vcd_state_node(s, 3);
	CHECK_EQ(n->state, VCD_NODE_FENCED);
	CHECK_EQ(n->fenced_incarnation, 7);
	CHECK_EQ(out.next_deadline_ns, 0);
	vcd_dc_out_clear(&out);
	/* Done once: nothing more later. */
	CHECK_EQ(vcd_dc_tick(dc, at(9000 * MS), &out), 0);
	CHECK_ACTS(&out, "");
	vcd_dc_out_free(&out);
	vcd_state_free(s);
	vcd_dc_free(dc);
	return true;
}

TEST(latest_window_wins)
{
	struct vcd_dc *dc = dc_new(1, 3);
	struct vcd_dc_peer p = strong_peer(3, 1000);
	struct vcd_dc_out out;

	vcd_dc_out_init(&out);
	CHECK_EQ(vcd_dc_become(dc, 1, NULL, 0, at(0), &out), 0);
	/* A view can arrive before the DC's own DOWN; it counts once that does. */
	CHECK_EQ(view(dc, 2, 3, 7, true, 6000 * MS, 900 * MS, &out), 0);
	CHECK_ACTS(&out, "");
	CHECK_EQ(vcd_dc_peer_down(dc, &p, at(1030 * MS), &out), 0);
	CHECK_ACTS(&out, "commit-down");
	CHECK_EQ(out.next_deadline_ns, 6000 * MS);
	vcd_dc_out_clear(&out);
	CHECK_EQ(vcd_dc_tick(dc, at(5200 * MS), &out), 0);
	CHECK_ACTS(&out, "");
	/* Voter 3 (the node itself is voter 3, but say voter 3 had a say) is
	 * not asked; a later report from voter 2 lengthens the wait again. */
	CHECK_EQ(view(dc, 2, 3, 7, true, 6500 * MS, 5300 * MS, &out), 0);
	CHECK_EQ(out.next_deadline_ns, 6500 * MS);
	CHECK_EQ(vcd_dc_tick(dc, at(6500 * MS - 1), &out), 0);
	CHECK_ACTS(&out, "");
	CHECK_EQ(vcd_dc_tick(dc, at(6500 * MS), &out), 0);
	CHECK_ACTS(&out, "commit-fenced");
	CHECK_EQ(out.act[0].deadline_ns, 6500 * MS);
	vcd_dc_out_free(&out);
	vcd_dc_free(dc);
	return true;
}

TEST(weak_waits_for_confirm)
{
	struct vcd_dc *dc = dc_new(1, 3);
	struct vcd_state *s = state_with_online(3, 7);
	struct vcd_dc_peer p = strong_peer(3, 1000);
	struct vcd_dc_out out;
	char why[128];
	json_t *e;

	vcd_dc_out_init(&out);
	p.strong = false;
	p.fence_action = VC_FENCE_ACTION_LOG;
	CHECK_EQ(vcd_dc_become(dc, 2, NULL, 0, at(0), &out), 0);
	CHECK_EQ(vcd_dc_peer_down(dc, &p, at(1030 * MS), &out), 0);
	CHECK_EQ(view(dc, 2, 3, 7, true, 5200 * MS, 1030 * MS, &out), 0);
	CHECK_ACTS(&out, "commit-down,wait-operator");
	CHECK_STR(out.act[0].text, "node 3 (incarnation 7) is down for 2 of 3 votes, last heard 30 ms ago: weak fencing, it was armed with action log");
	CHECK_STR(out.act[1].text, "node 3 (incarnation 7) is down but its fencing is weak (it was armed with action log): waiting for 'vclusterctl node confirm-fenced 3'");
	CHECK_EQ(apply_act(s, &out.act[0], 2), 0);
	CHECK_EQ(out.next_deadline_ns, 0);
	vcd_dc_out_clear(&out);
	/* Long past the window: still waiting, and said only once. */
	CHECK_EQ(vcd_dc_tick(dc, at(60000 * MS), &out), 0);
	CHECK_ACTS(&out, "");
	CHECK_EQ(out.next_deadline_ns, 0);
	CHECK_EQ(vcd_dc_confirm(dc, 3, "uid 0 (pid 42)", at(61000 * MS), &out, why, sizeof(why)), 0);
	CHECK_ACTS(&out, "commit-fenced");
	CHECK_EQ(out.act[0].how, VCD_FENCE_CONFIRMED);
	CHECK_STR(out.act[0].text, "node 3 (incarnation 7) fenced: confirmed by uid 0 (pid 42) (last heard 60000 ms ago; 2 of 3 votes see it down)");
	e = entry_json(&out.act[0]);
	CHECK_STR(json_string_value(json_object_get(e, "how")), "confirmed");
	CHECK_STR(json_string_value(json_object_get(e, "note")), "confirmed by uid 0 (pid 42)");
	CHECK_EQ(ji(e, "last_heard_age_ms"), 60000);
	CHECK_EQ(ji(e, "window_ms"), 0);
	json_decref(e);
	CHECK_EQ(apply_act(s, &out.act[0], 3), 0);
	CHECK_EQ(vcd_state_node(s, 3)->state, VCD_NODE_FENCED);
	vcd_dc_out_clear(&out);
	CHECK_EQ(vcd_dc_confirm(dc, 3, "uid 0", at(62000 * MS), &out, why, sizeof(why)), -ENOENT);
	CHECK_STR(why, "node 3 has no pending fence: this DC does not see it down");
	vcd_dc_out_free(&out);
	vcd_state_free(s);
	vcd_dc_free(dc);
	return true;
}

/* Each kind of weakness, in words. */
TEST(weak_reasons)
{
	static const struct {
		bool armed, strong;
		uint8_t action;
		uint64_t fenced_by_ms;
		const char *why;
	} cases[] = {
		{ false, false, VC_FENCE_ACTION_NONE, 0, "it was not armed" },
		{ true, false, VC_FENCE_ACTION_LOG, 5200, "it was armed with action log" },
		{ true, true, VC_FENCE_ACTION_REBOOT, 0,
		  "it advertised no fence window (no quorum timeout)" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vcd_dc *dc = dc_new(1, 3);
		struct vcd_dc_peer p = strong_peer(2, 1000);
		struct vcd_dc_out out;
		char want[200];

		vcd_dc_out_init(&out);
		p.armed = cases[i].armed;
		p.strong = cases[i].strong;
		p.fence_action = cases[i].action;
		p.fenced_by_ns = cases[i].fenced_by_ms * MS;
		CHECK_EQ(vcd_dc_become(dc, 2, NULL, 0, at(0), &out), 0);
		CHECK_EQ(vcd_dc_peer_down(dc, &p, at(1030 * MS), &out), 0);
		CHECK_EQ(view(dc, 3, 2, 7, true, 5200 * MS, 1030 * MS, &out), 0);
		CHECK_ACTS(&out, "commit-down,wait-operator");
		snprintf(want, sizeof(want), "node 2 (incarnation 7) is down but its fencing is weak (%s): waiting for 'vclusterctl node confirm-fenced 2'",
			 cases[i].why);
		CHECK_STR(out.act[1].text, want);
		vcd_dc_out_free(&out);
		vcd_dc_free(dc);
	}
	return true;
}

TEST(comeback_cancels)
{
	struct vcd_dc *dc = dc_new(1, 3);
	struct vcd_dc_peer p = strong_peer(3, 1000);
	struct vcd_dc_out out;

	vcd_dc_out_init(&out);
	CHECK_EQ(vcd_dc_become(dc, 2, NULL, 0, at(0), &out), 0);
	/* Before the majority. */
	CHECK_EQ(vcd_dc_peer_down(dc, &p, at(1030 * MS), &out), 0);
	CHECK_EQ(vcd_dc_peer_up(dc, 3, 7, at(1100 * MS), &out), 0);
	CHECK_ACTS(&out, "cancel");
	CHECK_STR(out.act[0].text, "node 3 is up again at incarnation 7: the pending fence of incarnation 7 is cancelled");
	CHECK(!out.act[0].entry);
	vcd_dc_out_clear(&out);
	CHECK_EQ(view(dc, 2, 3, 7, true, 5200 * MS, 1200 * MS, &out), 0);
	CHECK_ACTS(&out, "");

	/* After node-down was committed, before the window closed. */
	CHECK_EQ(vcd_dc_peer_down(dc, &p, at(1300 * MS), &out), 0);
	CHECK_ACTS(&out, "commit-down");
	vcd_dc_out_clear(&out);
	/* An older life's UP is stale: no cancel. */
	CHECK_EQ(vcd_dc_peer_up(dc, 3, 6, at(2000 * MS), &out), 0);
	CHECK_ACTS(&out, "");
	CHECK_EQ(out.next_deadline_ns, 5200 * MS);
	CHECK_EQ(vcd_dc_peer_up(dc, 3, 8, at(3000 * MS), &out), 0);
	CHECK_ACTS(&out, "cancel");
	CHECK_STR(out.act[0].text, "node 3 is up again at incarnation 8: the pending fence of incarnation 7 is cancelled (the state keeps that life down)");
	CHECK_EQ(out.next_deadline_ns, 0);
	vcd_dc_out_clear(&out);
	CHECK_EQ(vcd_dc_tick(dc, at(6000 * MS), &out), 0);
	CHECK_ACTS(&out, "");
	vcd_dc_out_free(&out);
	vcd_dc_free(dc);
	return true;
}

TEST(new_dc_restarts_windows_in_full)
{
	struct vcd_dc *dc = dc_new(2, 3);
	struct vcd_dc_node nodes[2] = {
		{ .peer = strong_peer(3, 1000), .down_committed = true },
		{ .peer = strong_peer(1, 9990), .up = true },	/* the old DC: fine */
	};
	struct vcd_dc_peer again = strong_peer(3, 1000);
	struct vcd_dc_out out;
	json_t *e, *st;

	vcd_dc_out_init(&out);
	/* While a follower, DOWN reports start nothing. */
	CHECK_EQ(vcd_dc_peer_down(dc, &again, at(1030 * MS), &out), 0);
	CHECK_ACTS(&out, "");
	CHECK_EQ(view(dc, 1, 3, 7, true, 5200 * MS, 1030 * MS, &out), 0);
	CHECK_ACTS(&out, "");
	/* Node 3 went silent at 1 s; this host becomes DC at 10 s, long past the
	 * old window (5.2 s): it waits 4.2 s again, from 10 s. */
	CHECK_EQ(vcd_dc_become(dc, 9, nodes, 2, at(10000 * MS), &out), 0);
	CHECK_ACTS(&out, "");	/* the state already says down */
	CHECK_EQ(out.next_deadline_ns, 14200 * MS);
	/* The transport repeating the original window does not shorten it. */
	CHECK_EQ(vcd_dc_peer_down(dc, &again, at(10100 * MS), &out), 0);
	CHECK_EQ(out.next_deadline_ns, 14200 * MS);
	st = vcd_dc_to_json(dc, 10200 * MS);
	CHECK_EQ(json_array_size(st), 1);
	CHECK_EQ(ji(json_array_get(st, 0), "deadline_in_ms"), 4000);
	CHECK_EQ(ji(json_array_get(st, 0), "votes_down"), 2);
	CHECK(json_is_null(json_object_get(json_array_get(st, 0), "weak")));
	json_decref(st);
	CHECK_EQ(vcd_dc_tick(dc, at(14200 * MS - 1), &out), 0);
	CHECK_ACTS(&out, "");
	CHECK_EQ(vcd_dc_tick(dc, at(14200 * MS), &out), 0);
	CHECK_ACTS(&out, "commit-fenced");
	e = entry_json(&out.act[0]);
	CHECK_EQ(ji(e, "window_ms"), 4200);
	CHECK_EQ(ji(e, "last_heard_age_ms"), 13200);
	CHECK_EQ(ji(e, "dc"), 2);
	CHECK_EQ(ji(e, "term"), 9);
	json_decref(e);
	vcd_dc_out_clear(&out);

	/* Losing office forgets; winning it again restarts from that moment. */
	nodes[0].peer = strong_peer(3, 1000);
	CHECK_EQ(vcd_dc_become(dc, 10, nodes, 1, at(20000 * MS), &out), 0);
	CHECK_EQ(out.next_deadline_ns, 24200 * MS);
	vcd_dc_resign(dc);
	CHECK(!vcd_dc_active(dc));
	CHECK_EQ(vcd_dc_tick(dc, at(30000 * MS), &out), 0);
	CHECK_ACTS(&out, "");
	CHECK_EQ(vcd_dc_become(dc, 11, nodes, 1, at(40000 * MS), &out), 0);
	CHECK_EQ(out.next_deadline_ns, 44200 * MS);
	vcd_dc_out_free(&out);
	vcd_dc_free(dc);
	return true;
}

/*
 * Five voters; node 5 is heard by voters 3 and 4 but not by 1 (DC) and 2.
 * Node 5 may stay quorate through 3 and 4 (3 of 5 votes with itself), so
 * the DC's own window means nothing: no commit until a majority sees it
 * DOWN, and then only at the latest of their windows.
 */
TEST(non_transitive_partition)
{
	struct vcd_dc *dc = dc_new(1, 5);
	struct vcd_dc_peer p = strong_peer(5, 1000);
	struct vcd_dc_out out;
	char why[128];

	vcd_dc_out_init(&out);
	p.incarnation = 3;
	CHECK_EQ(vcd_dc_become(dc, 1, NULL, 0, at(0), &out), 0);
	CHECK_EQ(vcd_dc_peer_down(dc, &p, at(1030 * MS), &out), 0);
	CHECK_EQ(view(dc, 2, 5, 3, true, 6000 * MS, 1100 * MS, &out), 0);
	CHECK_EQ(view(dc, 3, 5, 3, false, 0, 1100 * MS, &out), 0);
	CHECK_EQ(view(dc, 4, 5, 3, false, 0, 1100 * MS, &out), 0);
	/* A DOWN view of another life does not count. */
	CHECK_EQ(view(dc, 3, 5, 2, true, 2000 * MS, 1200 * MS, &out), 0);
	CHECK_ACTS(&out, "");
	CHECK_EQ(vcd_dc_tick(dc, at(100000 * MS), &out), 0);
	CHECK_ACTS(&out, "");
	CHECK_EQ(out.next_deadline_ns, 0);
	/* An operator may still confirm, but here we wait for the voters. */
	CHECK_EQ(vcd_dc_confirm(dc, 4, "root", at(100000 * MS), &out, why, sizeof(why)), -ENOENT);

	/* Voter 3 loses node 5 too: 3 of 5 votes, window 120 s on our clock. */
	CHECK_EQ(view(dc, 3, 5, 3, true, 120000 * MS, 100000 * MS, &out), 0);
	CHECK_ACTS(&out, "commit-down");
	CHECK_EQ(out.act[0].votes_down, 3);
	CHECK_EQ(out.act[0].votes_total, 5);
	CHECK_EQ(out.next_deadline_ns, 120000 * MS);
	vcd_dc_out_clear(&out);
	/* Voter 3 hears it again (a report that was in flight): below the
	 * majority, the clock stops. */
	CHECK_EQ(view(dc, 3, 5, 3, false, 0, 110000 * MS, &out), 0);
	CHECK_EQ(out.next_deadline_ns, 0);
	CHECK_EQ(vcd_dc_tick(dc, at(130000 * MS), &out), 0);
	CHECK_ACTS(&out, "");
	CHECK_EQ(view(dc, 3, 5, 3, true, 140000 * MS, 131000 * MS, &out), 0);
	CHECK_ACTS(&out, "");	/* node-down is committed already */
	CHECK_EQ(vcd_dc_tick(dc, at(140000 * MS - 1), &out), 0);
	CHECK_ACTS(&out, "");
	CHECK_EQ(vcd_dc_tick(dc, at(140000 * MS), &out), 0);
	CHECK_ACTS(&out, "commit-fenced");
	CHECK_EQ(out.act[0].votes_down, 3);
	vcd_dc_out_free(&out);
	vcd_dc_free(dc);
	return true;
}

/* A DOWN voter that knows no window: nothing may be concluded from time. */
TEST(voter_without_window_is_weak)
{
	struct vcd_dc *dc = dc_new(1, 3);
	struct vcd_dc_peer p = strong_peer(3, 1000);
	struct vcd_dc_out out;

	vcd_dc_out_init(&out);
	CHECK_EQ(vcd_dc_become(dc, 1, NULL, 0, at(0), &out), 0);
	CHECK_EQ(vcd_dc_peer_down(dc, &p, at(1030 * MS), &out), 0);
	CHECK_EQ(view(dc, 2, 3, 7, true, 0, 1030 * MS, &out), 0);
	CHECK_ACTS(&out, "commit-down,wait-operator");
	CHECK_STR(out.act[1].text, "node 3 (incarnation 7) is down but its fencing is weak (voter 2 knows no fence window for it): waiting for 'vclusterctl node confirm-fenced 3'");
	vcd_dc_out_free(&out);
	vcd_dc_free(dc);
	return true;
}

/*
 * Cold start: node 3 is online in the state but nobody has heard it since
 * the agents started.  It counts as silent since this DC took office and
 * gets this host's own window: D + Q + K + 2 I + M = 300 + 2000 + 1000 +
 * 200 + 500 = 4000 ms.
 */
TEST(never_heard_cold_start)
{
	struct vcd_dc_params prm = params(1, 3);
	struct vcd_dc *dc = dc_new(1, 3);
	struct vcd_state *s = state_with_online(3, 7);
	struct vcd_dc_node nodes[1] = {
		{ .peer = { .node_id = 3, .incarnation = 7 } },	/* never heard */
	};
	struct vcd_dc_out out;
	json_t *e;

	vcd_dc_out_init(&out);
	CHECK_EQ(vcd_dc_cold_window_ns(&prm), 4000 * MS);
	/* Voter 2 never heard it either (incarnation 0): its own cold window. */
	CHECK_EQ(view(dc, 2, 3, 0, true, 5500 * MS, 1500 * MS, &out), 0);
	CHECK_EQ(vcd_dc_become(dc, 1, nodes, 1, at(2000 * MS), &out), 0);
	CHECK_ACTS(&out, "commit-down");
	CHECK_STR(out.act[0].text, "node 3 (incarnation 7) is down for 2 of 3 votes, never heard: fence window closes in 4000 ms");
	CHECK_EQ(apply_act(s, &out.act[0], 2), 0);
	CHECK_EQ(out.next_deadline_ns, 6000 * MS);
	vcd_dc_out_clear(&out);
	CHECK_EQ(vcd_dc_tick(dc, at(6000 * MS - 1), &out), 0);
	CHECK_ACTS(&out, "");
	CHECK_EQ(vcd_dc_tick(dc, at(6000 * MS), &out), 0);
	CHECK_ACTS(&out, "commit-fenced");
	e = entry_json(&out.act[0]);
	CHECK_EQ(ji(e, "last_heard_age_ms"), -1);
	CHECK_EQ(ji(e, "window_ms"), 4000);
	json_decref(e);
	CHECK_EQ(apply_act(s, &out.act[0], 3), 0);
	CHECK_EQ(vcd_state_node(s, 3)->state, VCD_NODE_FENCED);
	vcd_dc_out_free(&out);
	vcd_dc_free(dc);
	vcd_state_free(s);

	/* With weak configured fencing, the operator decides. */
	prm.never_heard_strong = false;
	CHECK_EQ(vcd_dc_new(&prm, &dc), 0);
	vcd_dc_out_init(&out);
	CHECK_EQ(view(dc, 2, 3, 0, true, 5500 * MS, 1500 * MS, &out), 0);
	CHECK_EQ(vcd_dc_become(dc, 1, nodes, 1, at(2000 * MS), &out), 0);
	CHECK_ACTS(&out, "commit-down,wait-operator");
	CHECK_STR(out.act[1].text, "node 3 (incarnation 7) is down but its fencing is weak (it was never heard and the configured fencing is weak): waiting for 'vclusterctl node confirm-fenced 3'");
	vcd_dc_out_free(&out);
	vcd_dc_free(dc);
	return true;
}

TEST(confirm_before_majority)
{
	struct vcd_dc *dc = dc_new(1, 5);
	struct vcd_state *s = state_with_online(4, 7);
	struct vcd_dc_peer p = strong_peer(4, 1000);
	struct vcd_dc_out out;
	char why[128];

	vcd_dc_out_init(&out);
	CHECK_EQ(vcd_dc_confirm(dc, 4, "root", at(0), &out, why, sizeof(why)), -EAGAIN);
	CHECK_STR(why, "this agent is not the DC");
	CHECK_EQ(vcd_dc_become(dc, 3, NULL, 0, at(0), &out), 0);
	CHECK_EQ(vcd_dc_peer_down(dc, &p, at(1030 * MS), &out), 0);
	CHECK_ACTS(&out, "");
	/* The operator says the host is off: both entries, in order. */
	CHECK_EQ(vcd_dc_confirm(dc, 4, "root", at(1500 * MS), &out, why, sizeof(why)), 0);
	CHECK_ACTS(&out, "commit-down,commit-fenced");
	CHECK_EQ(apply_act(s, &out.act[0], 2), 0);
	CHECK_EQ(apply_act(s, &out.act[1], 3), 0);
	CHECK_EQ(vcd_state_node(s, 4)->fence.how, VCD_FENCE_CONFIRMED);
	CHECK_EQ(out.next_deadline_ns, 0);
	vcd_dc_out_free(&out);
	vcd_state_free(s);
	vcd_dc_free(dc);
	return true;
}

TEST(voters_change)
{
	struct vcd_dc *dc = dc_new(1, 5);
	struct vcd_dc_voter three[3] = { { 1, 1 }, { 2, 1 }, { 5, 1 } };
	struct vcd_dc_voter four[4] = { { 1, 1 }, { 2, 1 }, { 3, 1 }, { 5, 1 } };
	struct vcd_dc_peer p = strong_peer(5, 1000);
	struct vcd_dc_out out;

	vcd_dc_out_init(&out);
	CHECK_EQ(vcd_dc_become(dc, 1, NULL, 0, at(0), &out), 0);
	CHECK_EQ(vcd_dc_peer_down(dc, &p, at(1030 * MS), &out), 0);
	CHECK_EQ(view(dc, 2, 5, 7, true, 5000 * MS, 1030 * MS, &out), 0);
	CHECK_ACTS(&out, "");		/* 2 of 5 */
	/* Half is not a majority (an even total is refused elsewhere, but the
	 * count must still be strict). */
	CHECK_EQ(vcd_dc_set_voters(dc, four, 4, at(1050 * MS), &out), 0);
	CHECK_ACTS(&out, "");		/* 2 of 4 */
	CHECK_EQ(vcd_dc_set_voters(dc, three, 3, at(1100 * MS), &out), 0);
	CHECK_ACTS(&out, "commit-down");	/* 2 of 3 */
	CHECK_EQ(out.next_deadline_ns, 5200 * MS);
	CHECK_EQ(view(dc, 3, 5, 7, true, 0, 1100 * MS, &out), -EINVAL);	/* not a voter now */
	vcd_dc_out_free(&out);
	vcd_dc_free(dc);
	return true;
}

TEST(bad_input)
{
	struct vcd_dc_params p = params(1, 3);
	struct vcd_dc *dc = NULL;
	struct vcd_dc_out out;

	vcd_dc_out_init(&out);
	p.voters[2].id = 1;
	CHECK_EQ(vcd_dc_new(&p, &dc), -EINVAL);
	p = params(0, 3);
	CHECK_EQ(vcd_dc_new(&p, &dc), -EINVAL);
	p = params(1, 3);
	p.voters[1].id = 0;
	CHECK_EQ(vcd_dc_new(&p, &dc), -EINVAL);
	dc = dc_new(1, 3);
	CHECK_EQ(view(dc, 1, 3, 7, true, 1, 0, &out), -EINVAL);		/* itself */
	CHECK_EQ(view(dc, 9, 3, 7, true, 1, 0, &out), -EINVAL);		/* no voter */
	CHECK_EQ(view(dc, 2, 0, 7, true, 1, 0, &out), -EINVAL);		/* node 0 */
	CHECK_STR(vcd_dc_act_name(VCD_DC_WAIT_OPERATOR), "wait-operator");
	vcd_dc_out_free(&out);
	vcd_dc_free(dc);
	vcd_dc_free(NULL);
	return true;
}

/* The same events at the same times: the same actions, byte for byte. */
static bool run_script(char *buf, size_t size)
{
	struct vcd_dc *dc = dc_new(1, 5);
	struct vcd_dc_node nodes[3] = {
		{ .peer = strong_peer(2, 800) },
		{ .peer = { .node_id = 3, .incarnation = 4 } },
		{ .peer = strong_peer(4, 900), .up = true },
	};
	struct vcd_dc_peer p5 = strong_peer(5, 1000);
	struct vcd_dc_out out;
	size_t i, off = 0;
	uint64_t t;

	vcd_dc_out_init(&out);
	view(dc, 2, 3, 0, true, 7000 * MS, 0, &out);
	view(dc, 4, 3, 0, true, 7100 * MS, 0, &out);
	view(dc, 4, 2, 7, true, 6000 * MS, 0, &out);
	view(dc, 3, 2, 7, true, 6100 * MS, 0, &out);
	vcd_dc_become(dc, 5, nodes, 3, at(1000 * MS), &out);
	vcd_dc_peer_down(dc, &p5, at(1100 * MS), &out);
	view(dc, 4, 5, 7, true, 5300 * MS, 1200 * MS, &out);
	view(dc, 3, 5, 7, true, 5250 * MS, 1300 * MS, &out);
	for (t = 1000; t <= 8000; t += 100)
		vcd_dc_tick(dc, at(t * MS), &out);
	for (i = 0; i < out.n; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s|%s|%s\n",
					vcd_dc_act_name(out.act[i].type), out.act[i].text,
					out.act[i].entry ? out.act[i].entry : "");
	vcd_dc_out_free(&out);
	vcd_dc_free(dc);
	return off < size;
}

TEST(determinism)
{
	static char a[16384], b[16384];

	CHECK(run_script(a, sizeof(a)));
	CHECK(run_script(b, sizeof(b)));
	CHECK_STR(a, b);
	/* Nodes 2, 3 and 5 were each fenced exactly once, in node order per
	 * call; node 4 (up) never. */
	CHECK(strstr(a, "\"node\":2,\"note\""));
	CHECK(strstr(a, "\"node\":3,\"note\""));
	CHECK(strstr(a, "\"node\":5,\"note\""));
	CHECK(!strstr(a, "\"node\":4"));
	return true;
}

static const struct vc_test tests[] = {
	T(strong_commits_exactly_at_window), T(latest_window_wins), T(weak_waits_for_confirm),
	T(weak_reasons), T(comeback_cancels), T(new_dc_restarts_windows_in_full),
	T(non_transitive_partition), T(voter_without_window_is_weak),
	T(never_heard_cold_start), T(confirm_before_majority), T(voters_change),
	T(bad_input), T(determinism),
	{ 0 }
};

#include "tap-main.h"
