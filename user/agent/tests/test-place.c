// SPDX-License-Identifier: GPL-2.0 OR MIT
/* The DC's placement engine (place.c) on states built from entries. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../place.h"
#include "tap.h"

#define NOW_MS	1795000000000LL		/* the tests' CLOCK_REALTIME */

static char why[VCD_STATE_WHY_LEN];
static uint64_t next_index;

static int ap(struct vcd_state *s, const char *text)
{
	return vcd_state_apply(s, text, strlen(text), ++next_index, NULL, why, sizeof(why));
}

/* Apply an entry written with printf's format. */
__attribute__((format(printf, 2, 3)))
static int apf(struct vcd_state *s, const char *fmt, ...)
{
	char text[2048];
	va_list ap_;
	int r;

	va_start(ap_, fmt);
	vsnprintf(text, sizeof(text), fmt, ap_);
	va_end(ap_);
	r = ap(s, text);
	if (r < 0)
		printf("# apply %s: %s\n", text, why);
	return r;
}

/* Apply an entry an encoder built into *@e (and free it).  The entry is
 * read through @e after the encoder ran: argument order is unspecified. */
static int ap_built(struct vcd_state *s, int r, char **e)
{
	if (r < 0)
		return r;
	r = ap(s, *e);
	free(*e);
	return r;
}

static struct vcd_state *fresh(void)
{
	struct vcd_state *s = NULL;

	next_index = 0;
	if (vcd_state_new(&s) < 0)
		abort();
	return s;
}

/* Node @id online at incarnation @id * 10 with @cpus and @mem_mib. */
static void host(struct vcd_state *s, uint32_t id, uint32_t cpus, uint64_t mem_mib)
{
	char *e;
	size_t len;

	if (ap_built(s, vcd_entry_node_up(id, id * 10, &e, &len), &e) < 0 ||
	    ap_built(s, vcd_entry_node_capacity(id, cpus, mem_mib * 1024, &e, &len), &e) < 0)
		abort();
}

/* A VM with a meta object (JSON text; NULL: none). */
static void vmm(struct vcd_state *s, const char *name, uint64_t mem_mib, uint32_t vcpus,
		const char *meta)
{
	if (apf(s, "{\"v\":1,\"op\":\"resource-add\",\"name\":\"%s\",\"type\":\"vm\","
		   "\"definition\":{\"memory_kib\":%" PRIu64 ",\"vcpus\":%u}%s%s}",
		name, mem_mib * 1024, vcpus, meta ? ",\"meta\":" : "", meta ? meta : "") < 0)
		abort();
}

static void vm(struct vcd_state *s, const char *name, uint64_t mem_mib, uint32_t vcpus)
{
	vmm(s, name, mem_mib, vcpus, NULL);
}

static const struct vcd_place_opts opts_now = { .now_ms = NOW_MS, .max_moves = 0 };

static uint32_t holder(struct vcd_state *s, const char *name)
{
	struct vcd_placement p = { 0 };

	vcd_resource_placement(json_object_get(vcd_state_resources(s), name), &p);
	return p.node;
}

static uint64_t holder_inc(struct vcd_state *s, const char *name)
{
	struct vcd_placement p = { 0 };

	vcd_resource_placement(json_object_get(vcd_state_resources(s), name), &p);
	return p.incarnation;
}

/* The holder reports it running. */
static int running(struct vcd_state *s, const char *name)
{
	return apf(s, "{\"v\":1,\"op\":\"resource-status\",\"name\":\"%s\",\"node\":%u,"
		      "\"incarnation\":%" PRIu64 ",\"status\":\"running\",\"note\":\"\"}",
		   name, holder(s, name), holder_inc(s, name));
}

/* Commit a decision: a start as resource-place, a move as resource-migrate
 * (and, with @finish, resource-migrated "running": the move is over). */
static int commit(struct vcd_state *s, const struct vcd_place_decision *d, bool finish)
{
	char *e;
	size_t len;
	int r;

	if (!d->node)
		return -EINVAL;
	if (d->kind == VCD_PLACE_START)
		return ap_built(s, vcd_entry_resource_place(d->name, d->node, d->incarnation, d->why,
							    &e, &len), &e);
	r = ap_built(s, vcd_entry_resource_migrate(d->name, d->node, d->incarnation, d->from_node,
						   d->from_incarnation, d->why, &e, &len), &e);
	if (r == 0 && finish)
		r = ap_built(s, vcd_entry_resource_migrated(d->name, d->node, d->incarnation,
							    "running", "", &e, &len), &e);
	return r;
}

/* Run the engine with @o and commit every decision that names a host;
 * starts are then reported running when @run, moves finish. */
static size_t run_with(struct vcd_state *s, const struct vcd_place_opts *o,
		       struct vcd_place_out *out, bool run)
{
	size_t i, done = 0;

	vcd_place_out_free(out);
	if (vcd_place_run(s, NULL, o, NULL, NULL, out) < 0)
		abort();
	for (i = 0; i < out->n; i++) {
		if (!out->d[i].node || commit(s, &out->d[i], true) < 0)
			continue;
		done++;
		if (run && out->d[i].kind == VCD_PLACE_START && running(s, out->d[i].name) < 0)
			abort();
	}
	return done;
}

static size_t run_commit(struct vcd_state *s, struct vcd_place_out *out)
{
	return run_with(s, &opts_now, out, false);
}

static const struct vcd_place_decision *find(const struct vcd_place_out *out, const char *name)
{
	size_t i;

	for (i = 0; i < out->n; i++)
		if (strcmp(out->d[i].name, name) == 0)
			return &out->d[i];
	return NULL;
}

/* The why of @name's decision, printed when a check on it fails. */
static bool why_has(const struct vcd_place_out *out, const char *name, const char *text)
{
	const struct vcd_place_decision *d = find(out, name);

	if (d && strstr(d->why, text))
		return true;
	printf("# %s: why \"%s\" lacks \"%s\"\n", name, d ? d->why : "(no decision)", text);
	return false;
}

/* Equal hosts share equal VMs; the tie goes to the lower id. */
TEST(spread)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;

	vcd_place_out_init(&out);
	host(s, 1, 4, 4096);
	host(s, 2, 4, 4096);
	vm(s, "a", 1024, 1);
	vm(s, "b", 1024, 1);
	vm(s, "c", 1024, 1);
	CHECK_EQ(run_commit(s, &out), 3);
	CHECK_EQ(holder(s, "a"), 1);
	CHECK_EQ(holder(s, "b"), 2);
	CHECK_EQ(holder(s, "c"), 1);
	CHECK_EQ(out.d[0].kind, VCD_PLACE_START);
	CHECK_STR(out.d[0].why, "not running anywhere; node 1: score 0, load 0.0%->25.0% (best of 2 fitting), 3072 MiB free after");
	CHECK(why_has(&out, "c", "node 1: score 0, load 25.0%->50.0% (best of 2 fitting), 2048 MiB free after"));
	/* Nothing left to place. */
	CHECK_EQ(run_commit(s, &out), 0);
	CHECK_EQ(out.n, 0);
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* Memory is a hard limit, vCPUs only load; hosts without capacity, standby
 * or leaving hosts take nothing. */
TEST(capacity_and_flags)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;
	char *e;
	size_t len;

	vcd_place_out_init(&out);
	host(s, 1, 2, 1024);
	host(s, 2, 8, 8192);
	host(s, 3, 8, 8192);
	CHECK_EQ(ap_built(s, vcd_entry_node_up(4, 40, &e, &len), &e), 0);	/* witness */
	CHECK_EQ(ap_built(s, vcd_entry_node_flags(3, 1, -1, &e, &len), &e), 0);
	host(s, 5, 64, 65536);		/* leaving: takes nothing new */
	CHECK_EQ(ap_built(s, vcd_entry_node_leaving(5, 50, true, &e, &len), &e), 0);
	vm(s, "big", 4096, 1);
	vm(s, "cpu", 512, 16);
	vm(s, "huge", 16384, 1);
	run_commit(s, &out);
	CHECK_EQ(holder(s, "big"), 2);
	/* 16 vCPUs on 2 or 8 CPUs: overcommitted, the larger host wins. */
	CHECK_EQ(holder(s, "cpu"), 2);
	CHECK_EQ(holder(s, "huge"), 0);
	CHECK_EQ(out.n, 3);
	CHECK_STR(find(&out, "huge")->why,
		  "not running anywhere; no host fits: node 2 has 3584 of 16384 MiB free (+1 more), node 3 in standby (+2 more)");
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* A fenced holder's resources move; the record carries the fence numbers;
 * a host where it failed migration_threshold times is avoided. */
TEST(failover)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;
	char *e;
	size_t len;

	vcd_place_out_init(&out);
	host(s, 1, 4, 4096);
	host(s, 2, 4, 4096);
	host(s, 3, 4, 4096);
	vmm(s, "a", 1024, 1, "{\"migration_threshold\":1}");
	vm(s, "b", 1024, 1);
	run_commit(s, &out);
	CHECK_EQ(holder(s, "a"), 1);
	CHECK_EQ(holder(s, "b"), 2);
	/* Down is not enough. */
	CHECK_EQ(ap_built(s, vcd_entry_node_down(1, 10, &e, &len), &e), 0);
	CHECK_EQ(run_commit(s, &out), 0);
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"node-fenced\",\"node\":1,\"incarnation\":10,\"how\":\"auto\",\"last_heard_age_ms\":812,\"window_ms\":600,\"dc\":2,\"term\":3,\"time_ms\":0}"), 0);
	CHECK_EQ(run_commit(s, &out), 1);
	CHECK_EQ(holder(s, "a"), 3);
	CHECK_EQ(out.d[0].from_node, 1);
	CHECK_EQ(out.d[0].from_incarnation, 10);
	CHECK(strstr(out.d[0].why, "node 1 (incarnation 10) fenced (auto: last heard 812 ms before, window 600 ms); node 3"));
	/* It fails on 3 (threshold 1): 2 takes it, not 3. */
	CHECK_EQ(ap_built(s, vcd_entry_resource_fail("a", 3, 30, NOW_MS - 5000, "crashed", &e, &len), &e), 0);
	CHECK_EQ(ap_built(s, vcd_entry_resource_release("a", 3, 30, true, "crashed", &e, &len), &e), 0);
	CHECK_EQ(run_commit(s, &out), 1);
	CHECK_EQ(holder(s, "a"), 2);
	CHECK(why_has(&out, "a", "failed (last on node 3: failcount 1, threshold 1); node 2"));
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* Placing right behind a fence not yet applied: the resources of that life
 * move, with the fence's numbers; apply accepts them once it is applied,
 * and refuses them if it never is. */
TEST(behind_a_fence)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;
	struct vcd_place_assume as = { .set = true };
	char *e;
	size_t len;

	vcd_place_out_init(&out);
	host(s, 1, 4, 4096);
	host(s, 2, 4, 4096);
	vm(s, "a", 1024, 1);
	run_commit(s, &out);
	CHECK_EQ(holder(s, "a"), 1);
	CHECK_EQ(ap_built(s, vcd_entry_node_down(1, 10, &e, &len), &e), 0);
	as.fence = (struct vcd_fence_rec){ .node_id = 1, .incarnation = 10, .how = VCD_FENCE_AUTO,
					   .last_heard_age_ms = 650, .window_ms = 600, .dc_id = 2 };
	vcd_place_out_free(&out);
	CHECK_EQ(vcd_place_run(s, &as, &opts_now, NULL, NULL, &out), 0);
	CHECK_EQ(out.n, 1);
	CHECK_EQ(out.d[0].node, 2);
	CHECK(strstr(out.d[0].why, "node 1 (incarnation 10) fenced (auto: last heard 650 ms before, window 600 ms)"));
	/* Before the fence is applied, the placement is refused. */
	CHECK_EQ(ap_built(s, vcd_entry_resource_place("a", 2, 20, out.d[0].why, &e, &len), &e), -EBUSY);
	CHECK_EQ(ap_built(s, vcd_entry_node_fenced(&as.fence, &e, &len), &e), 0);
	CHECK_EQ(ap_built(s, vcd_entry_resource_place("a", 2, 20, out.d[0].why, &e, &len), &e), 0);
	CHECK_EQ(holder(s, "a"), 2);
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* "b" is on its way to node 1 (an earlier run's decision in flight). */
static uint32_t b_pending_on_1(void *ctx, const char *name)
{
	(void)ctx;
	return strcmp(name, "b") == 0 ? 1 : 0;
}

/*
 * A decision in flight is not decided again, and it counts where it
 * goes: here node 1 has room for one of a and b, and b is on its way
 * there, so a must not be put on node 1 too (the fence placed b, a
 * second run right behind it must see that memory taken).
 */
TEST(skip_in_flight)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;

	vcd_place_out_init(&out);
	host(s, 1, 4, 4096);
	host(s, 2, 4, 4096);
	vm(s, "a", 3000, 1);
	vm(s, "b", 3000, 1);
	CHECK_EQ(vcd_place_run(s, NULL, &opts_now, b_pending_on_1, NULL, &out), 0);
	CHECK_EQ(out.n, 1);
	CHECK_STR(out.d[0].name, "a");
	CHECK_EQ(out.d[0].node, 2);
	vcd_place_out_free(&out);
	/* With node 2 gone a fits nowhere. */
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"node-flags\",\"node\":2,\"standby\":true}"), 0);
	CHECK_EQ(vcd_place_run(s, NULL, &opts_now, b_pending_on_1, NULL, &out), 0);
	CHECK_EQ(out.n, 1);
	CHECK_EQ(out.d[0].node, 0);
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* Capacity for two of three: the higher priorities win, in rank order; a
 * later, more important one does not preempt what runs. */
TEST(priority_when_short)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;

	vcd_place_out_init(&out);
	host(s, 1, 8, 4096);
	vmm(s, "a-low", 2048, 1, "{\"priority\":-5}");
	vmm(s, "b-high", 2048, 1, "{\"priority\":10}");
	vmm(s, "c-mid", 2048, 1, "{\"priority\":5}");
	CHECK_EQ(run_with(s, &(struct vcd_place_opts){ NOW_MS, 4 }, &out, true), 2);
	CHECK_EQ(out.n, 3);
	CHECK_STR(out.d[0].name, "b-high");
	CHECK_STR(out.d[1].name, "c-mid");
	CHECK_STR(out.d[2].name, "a-low");
	CHECK_EQ(holder(s, "b-high"), 1);
	CHECK_EQ(holder(s, "c-mid"), 1);
	CHECK_EQ(holder(s, "a-low"), 0);
	CHECK_STR(out.d[2].why, "not running anywhere; no host fits: node 1 has 0 of 2048 MiB free");
	vmm(s, "d-urgent", 2048, 1, "{\"priority\":100}");
	CHECK_EQ(run_with(s, &(struct vcd_place_opts){ NOW_MS, 4 }, &out, true), 0);
	CHECK_EQ(out.n, 2);
	CHECK_EQ(holder(s, "d-urgent"), 0);
	CHECK_EQ(holder(s, "b-high"), 1);
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* The highest score wins over the load; a banned node takes nothing. */
TEST(prefer_and_ban)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;
	char *e;
	size_t len;

	vcd_place_out_init(&out);
	host(s, 1, 4, 8192);
	host(s, 2, 4, 8192);
	host(s, 3, 4, 8192);
	vmm(s, "a", 1024, 1, "{\"prefer\":{\"3\":100,\"2\":20}}");
	vmm(s, "b", 1024, 1, "{\"prefer\":{\"3\":100,\"2\":20}}");
	vmm(s, "c", 1024, 1, "{\"ban\":[1,2]}");
	run_commit(s, &out);
	CHECK_EQ(holder(s, "a"), 3);
	CHECK_EQ(holder(s, "b"), 3);		/* the score beats the load */
	CHECK(why_has(&out, "b", "node 3: score 100, load 25.0%->50.0% (best of 3 fitting)"));
	CHECK_EQ(holder(s, "c"), 3);
	vmm(s, "d", 1024, 1, "{\"ban\":[1,2]}");
	CHECK_EQ(ap_built(s, vcd_entry_node_flags(3, 1, -1, &e, &len), &e), 0);
	CHECK_EQ(run_commit(s, &out), 0);
	CHECK_STR(find(&out, "d")->why, "not running anywhere; no host fits: node 1 banned (+1 more), node 3 in standby");
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* "with" follows its leader, decided before it in the same run even
 * though it ranks later; "apart" keeps off its node; a follower whose
 * leader is placed nowhere waits. */
TEST(with_and_apart)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;

	vcd_place_out_init(&out);
	host(s, 1, 8, 8192);
	host(s, 2, 8, 8192);
	vm(s, "zdb", 2048, 1);
	vmm(s, "web", 1024, 1, "{\"with\":[\"zdb\"]}");
	vmm(s, "cache", 512, 1, "{\"apart\":[\"zdb\"]}");
	vm(s, "off", 512, 1);
	CHECK_EQ(apf(s, "{\"v\":1,\"op\":\"resource-flags\",\"name\":\"off\",\"enabled\":false}"), 0);
	vmm(s, "tag", 256, 1, "{\"with\":[\"off\"]}");
	CHECK_EQ(run_commit(s, &out), 3);
	/* cache ranks first (its name) and takes node 1; zdb is apart from
	 * it, so node 2, and web follows zdb (zdb decided first). */
	CHECK_EQ(holder(s, "cache"), 1);
	CHECK_EQ(holder(s, "zdb"), 2);
	CHECK_EQ(holder(s, "web"), 2);
	CHECK_STR(out.d[1].name, "tag");
	CHECK_STR(out.d[2].name, "zdb");
	CHECK_STR(out.d[3].name, "web");
	CHECK(why_has(&out, "zdb", "node 2: score 0"));
	CHECK(why_has(&out, "web", "node 2 (with): score 0"));
	CHECK(!find(&out, "off"));		/* disabled: no decision */
	CHECK_EQ(holder(s, "tag"), 0);
	CHECK(why_has(&out, "tag", "not running anywhere; waits for off to be placed (it is disabled)"));
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/*
 * 3 hosts, web1 on h1, web2 on h2 (apart), a filler on h3; h1 is fenced:
 * web1 goes to h3 although h2 has the lower load.
 */
TEST(apart_through_failure)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;
	char *e;
	size_t len;

	vcd_place_out_init(&out);
	host(s, 1, 8, 8192);
	host(s, 2, 8, 8192);
	host(s, 3, 8, 8192);
	vmm(s, "web1", 1024, 1, "{\"prefer\":{\"1\":10}}");
	vmm(s, "web2", 1024, 1, "{\"prefer\":{\"2\":10},\"apart\":[\"web1\"]}");
	vmm(s, "filler", 4096, 2, "{\"prefer\":{\"3\":10}}");
	run_with(s, &opts_now, &out, true);
	CHECK_EQ(holder(s, "web1"), 1);
	CHECK_EQ(holder(s, "web2"), 2);
	CHECK_EQ(holder(s, "filler"), 3);
	CHECK_EQ(ap_built(s, vcd_entry_node_down(1, 10, &e, &len), &e), 0);
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"node-fenced\",\"node\":1,\"incarnation\":10,\"how\":\"auto\",\"last_heard_age_ms\":700,\"window_ms\":600,\"dc\":2,\"term\":3,\"time_ms\":0}"), 0);
	CHECK_EQ(run_commit(s, &out), 1);
	CHECK_EQ(holder(s, "web1"), 3);
	CHECK(why_has(&out, "web1", "node 3: score 0, load 50.0%->62.5% (best of 1 fitting)"));
	/* With h3 full too, none fits, and the record says which rule. */
	vcd_state_free(s);
	s = fresh();
	host(s, 2, 8, 8192);
	host(s, 3, 8, 4096);
	vmm(s, "web2", 1024, 1, "{\"prefer\":{\"2\":10}}");
	vmm(s, "filler", 4096, 2, "{\"prefer\":{\"3\":10}}");
	run_with(s, &opts_now, &out, true);
	vmm(s, "web1", 1024, 1, "{\"apart\":[\"web2\"]}");
	CHECK_EQ(run_commit(s, &out), 0);
	CHECK_STR(find(&out, "web1")->why,
		  "not running anywhere; no host fits: node 3 has 0 of 1024 MiB free, node 2 has web2 (apart)");
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* "after": started only once what it follows runs. */
TEST(after_waits_until_running)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;

	vcd_place_out_init(&out);
	host(s, 1, 8, 8192);
	host(s, 2, 8, 8192);
	vm(s, "db", 2048, 1);
	vmm(s, "app", 1024, 1, "{\"after\":[\"db\"]}");
	CHECK_EQ(run_commit(s, &out), 1);
	CHECK_EQ(holder(s, "db"), 1);
	CHECK_EQ(holder(s, "app"), 0);
	CHECK_STR(find(&out, "app")->why, "not running anywhere; waits for db to be running (it is being placed)");
	CHECK_EQ(run_commit(s, &out), 0);
	CHECK_STR(find(&out, "app")->why, "not running anywhere; waits for db to be running (it is placed)");
	CHECK_EQ(running(s, "db"), 0);
	CHECK_EQ(run_commit(s, &out), 1);
	CHECK_EQ(holder(s, "app"), 2);
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* A running resource moves to a preferred node only when its score beats
 * the current node's plus the stickiness. */
TEST(stickiness_against_preference)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;
	struct vcd_place_opts o = { .now_ms = NOW_MS, .max_moves = 4 };

	vcd_place_out_init(&out);
	host(s, 1, 8, 8192);
	vm(s, "a", 1024, 1);
	run_with(s, &o, &out, true);
	CHECK_EQ(holder(s, "a"), 1);
	host(s, 2, 8, 8192);
	CHECK_EQ(apf(s, "{\"v\":1,\"op\":\"resource-meta\",\"name\":\"a\",\"meta\":{\"prefer\":{\"2\":50},\"stickiness\":50}}"), 0);
	CHECK_EQ(run_with(s, &o, &out, true), 0);
	CHECK_EQ(out.n, 0);		/* 50 is not more than 0 + 50 */
	CHECK_EQ(apf(s, "{\"v\":1,\"op\":\"resource-meta\",\"name\":\"a\",\"meta\":{\"prefer\":{\"2\":51},\"stickiness\":50}}"), 0);
	CHECK_EQ(run_with(s, &(struct vcd_place_opts){ NOW_MS, 0 }, &out, true), 0);
	CHECK_EQ(out.n, 0);		/* max_moves 0: no moves */
	CHECK_EQ(run_with(s, &o, &out, true), 1);
	CHECK_EQ(out.d[0].kind, VCD_PLACE_MOVE);
	CHECK_EQ(out.d[0].from_node, 1);
	CHECK_EQ(out.d[0].from_incarnation, 10);
	CHECK_EQ(out.d[0].node, 2);
	CHECK_STR(out.d[0].why, "score 51 on node 2 > 0 on node 1 + stickiness 50; node 2: score 51, load 0.0%->12.5% (best of 1 fitting), 7168 MiB free after");
	CHECK_EQ(holder(s, "a"), 2);
	/* Where it is now it stays. */
	CHECK_EQ(run_with(s, &o, &out, true), 0);
	CHECK_EQ(out.n, 0);
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* migration_threshold failures ban a node until failure_timeout_ms
 * passed since the last of them (read at opts.now_ms). */
TEST(failures_threshold_and_timeout)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;
	struct vcd_place_opts o = { .now_ms = NOW_MS };
	char *e;
	size_t len;

	vcd_place_out_init(&out);
	host(s, 1, 8, 8192);
	vmm(s, "a", 1024, 1, "{\"migration_threshold\":2,\"failure_timeout_ms\":60000}");
	run_with(s, &o, &out, true);
	CHECK_EQ(holder(s, "a"), 1);
	CHECK_EQ(ap_built(s, vcd_entry_resource_fail("a", 1, 10, NOW_MS - 2000, "monitor", &e, &len), &e), 0);
	CHECK_EQ(ap_built(s, vcd_entry_resource_fail("a", 1, 10, NOW_MS - 1000, "monitor", &e, &len), &e), 0);
	CHECK_EQ(ap_built(s, vcd_entry_resource_release("a", 1, 10, true, "gave up", &e, &len), &e), 0);
	CHECK_EQ(run_with(s, &o, &out, true), 0);
	CHECK_STR(out.d[0].why, "failed (last on node 1: failcount 2, threshold 2); no host fits: node 1 failcount 2 (threshold 2)");
	CHECK_EQ(out.recheck_ms, NOW_MS - 1000 + 60000);
	/* One ms before the timeout it still counts; at it, it does not. */
	o.now_ms = NOW_MS - 1000 + 59999;
	CHECK_EQ(run_with(s, &o, &out, true), 0);
	o.now_ms = NOW_MS - 1000 + 60000;
	CHECK_EQ(run_with(s, &o, &out, true), 1);
	CHECK_EQ(holder(s, "a"), 1);
	CHECK_EQ(out.recheck_ms, 0);
	CHECK(why_has(&out, "a", "failed (last on node 1: failcount 0, threshold 2); node 1"));
	/* Failures add up while they count; after a cleanup, one failure
	 * below the threshold shows in the record. */
	CHECK_EQ(apf(s, "{\"v\":1,\"op\":\"resource-cleanup\",\"name\":\"a\",\"node\":1}"), 0);
	CHECK_EQ(ap_built(s, vcd_entry_resource_fail("a", 1, 10, o.now_ms, "monitor", &e, &len), &e), 0);
	CHECK_EQ(ap_built(s, vcd_entry_resource_release("a", 1, 10, true, "gave up", &e, &len), &e), 0);
	CHECK_EQ(run_with(s, &o, &out, true), 1);
	CHECK(why_has(&out, "a", ", failcount 1/2"));
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* A standby node's resources move, at most max_moves per run, the most
 * important first; one that fits nowhere else stays and says so. */
TEST(standby_moves_bounded)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;
	struct vcd_place_opts o = { .now_ms = NOW_MS, .max_moves = 2 };
	char *e;
	size_t len;

	vcd_place_out_init(&out);
	host(s, 1, 8, 8192);
	vmm(s, "a", 1024, 1, NULL);
	vmm(s, "b", 1024, 1, "{\"priority\":5}");
	vmm(s, "c", 1024, 1, "{\"priority\":9}");
	vmm(s, "pinned", 1024, 1, "{\"ban\":[2,3]}");
	run_with(s, &o, &out, true);
	host(s, 2, 8, 8192);
	host(s, 3, 8, 8192);
	CHECK_EQ(run_with(s, &o, &out, true), 0);
	CHECK_EQ(out.n, 0);
	CHECK_EQ(ap_built(s, vcd_entry_node_flags(1, 1, -1, &e, &len), &e), 0);
	vcd_place_out_free(&out);
	CHECK_EQ(vcd_place_run(s, NULL, &o, NULL, NULL, &out), 0);
	CHECK_EQ(out.n, 2);
	CHECK_STR(out.d[0].name, "c");
	CHECK_STR(out.d[1].name, "b");
	CHECK_EQ(out.d[0].kind, VCD_PLACE_MOVE);
	CHECK_EQ(out.d[0].node, 2);
	CHECK_EQ(out.d[1].node, 3);	/* c's move counted on 2 */
	CHECK_STR(out.d[0].why, "node 1 is in standby; node 2: score 0, load 0.0%->12.5% (best of 2 fitting), 7168 MiB free after");
	/* In flight (migrating): neither moved again; the next two. */
	CHECK_EQ(commit(s, &out.d[0], false), 0);
	CHECK_EQ(commit(s, &out.d[1], false), 0);
	CHECK_EQ(run_with(s, &o, &out, true), 1);
	CHECK_EQ(out.n, 2);
	CHECK_STR(out.d[0].name, "a");
	CHECK_EQ(out.d[0].node, 2);	/* 2 and 3 each have one arriving: the lower id */
	CHECK_STR(out.d[1].name, "pinned");
	CHECK_EQ(out.d[1].node, 0);
	CHECK_STR(out.d[1].why, "node 1 is in standby; stays on 1: no other host fits: node 2 banned (+1 more)");
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* A host leaving with the migrate policy has its resources moved; with
 * stop or freeze it stops them itself, and the DC asks for no move. */
TEST(leaving_policy)
{
	struct vcd_place_opts o = { .now_ms = NOW_MS, .max_moves = 4 };
	struct vcd_place_out out;
	bool migrate;
	char *e;
	size_t len;

	vcd_place_out_init(&out);
	for (migrate = false; ; migrate = true) {
		struct vcd_state *s = fresh();

		host(s, 1, 8, 8192);
		vmm(s, "a", 1024, 1, NULL);
		run_with(s, &o, &out, true);
		host(s, 2, 8, 8192);
		CHECK_EQ(ap_built(s, vcd_entry_node_leaving(1, 10, migrate, &e, &len), &e), 0);
		vcd_place_out_free(&out);
		CHECK_EQ(vcd_place_run(s, NULL, &o, NULL, NULL, &out), 0);
		CHECK_EQ(out.n, migrate ? 1 : 0);
		if (migrate) {
			CHECK_EQ(out.d[0].kind, VCD_PLACE_MOVE);
			CHECK_EQ(out.d[0].node, 2);
		}
		vcd_place_out_free(&out);
		vcd_state_free(s);
		if (migrate)
			break;
	}
	return true;
}

/* Hard rules move a running resource: a ban, "apart" (the lower ranked
 * one moves), a "with" leader that moved (the follower follows). */
TEST(hard_rules_move)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;
	struct vcd_place_opts o = { .now_ms = NOW_MS, .max_moves = 8 };

	vcd_place_out_init(&out);
	host(s, 1, 8, 8192);
	vm(s, "db", 1024, 1);
	vmm(s, "web", 1024, 1, "{\"with\":[\"db\"]}");
	vmm(s, "x", 1024, 1, "{\"priority\":1}");
	vm(s, "y", 1024, 1);
	run_with(s, &o, &out, true);
	host(s, 2, 8, 8192);
	CHECK_EQ(run_with(s, &o, &out, true), 0);
	/* x and y apart: y ranks lower and moves. */
	CHECK_EQ(apf(s, "{\"v\":1,\"op\":\"resource-meta\",\"name\":\"x\",\"meta\":{\"priority\":1,\"apart\":[\"y\"]}}"), 0);
	CHECK_EQ(run_with(s, &o, &out, true), 1);
	CHECK_STR(out.d[0].name, "y");
	CHECK_EQ(holder(s, "y"), 2);
	CHECK(why_has(&out, "y", "x (apart) is on node 1; node 2"));
	/* db banned from 1: it moves, and web follows it in the same run. */
	CHECK_EQ(apf(s, "{\"v\":1,\"op\":\"resource-meta\",\"name\":\"db\",\"meta\":{\"ban\":[1]}}"), 0);
	CHECK_EQ(run_with(s, &o, &out, true), 2);
	CHECK_STR(out.d[0].name, "db");
	CHECK_STR(out.d[1].name, "web");
	CHECK(why_has(&out, "db", "banned from node 1; node 2"));
	CHECK(why_has(&out, "web", "\"with\" leaders are on node 2; node 2"));
	CHECK_EQ(holder(s, "db"), 2);
	CHECK_EQ(holder(s, "web"), 2);
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* Cluster maintenance: nothing at all is decided. */
TEST(cluster_maintenance)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;
	struct vcd_place_opts o = { .now_ms = NOW_MS, .max_moves = 4 };
	char *e;
	size_t len;

	vcd_place_out_init(&out);
	host(s, 1, 8, 8192);
	host(s, 2, 8, 8192);
	vm(s, "a", 1024, 1);
	run_with(s, &o, &out, true);
	vm(s, "b", 1024, 1);
	CHECK_EQ(ap_built(s, vcd_entry_node_flags(1, 1, -1, &e, &len), &e), 0);
	CHECK_EQ(apf(s, "{\"v\":1,\"op\":\"cluster-set\",\"maintenance\":true}"), 0);
	CHECK_EQ(run_with(s, &o, &out, true), 0);
	CHECK_EQ(out.n, 0);
	CHECK_EQ(apf(s, "{\"v\":1,\"op\":\"cluster-set\",\"maintenance\":false}"), 0);
	CHECK_EQ(run_with(s, &o, &out, true), 2);
	CHECK_EQ(holder(s, "a"), 2);
	CHECK_EQ(holder(s, "b"), 2);
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* Disabled or maintenance resources are neither placed nor moved, but
 * their load counts where they are; a maintenance node's resources stay. */
TEST(disabled_and_maintenance)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;
	struct vcd_place_opts o = { .now_ms = NOW_MS, .max_moves = 4 };
	char *e;
	size_t len;

	vcd_place_out_init(&out);
	host(s, 1, 8, 4096);
	vm(s, "held", 3072, 1);
	vm(s, "m", 256, 1);
	run_with(s, &o, &out, true);
	host(s, 2, 8, 4096);
	host(s, 3, 8, 4096);
	CHECK_EQ(apf(s, "{\"v\":1,\"op\":\"resource-flags\",\"name\":\"held\",\"maintenance\":true}"), 0);
	CHECK_EQ(apf(s, "{\"v\":1,\"op\":\"resource-flags\",\"name\":\"m\",\"enabled\":false}"), 0);
	CHECK_EQ(ap_built(s, vcd_entry_node_flags(1, 1, -1, &e, &len), &e), 0);
	CHECK_EQ(run_with(s, &o, &out, true), 0);
	CHECK_EQ(out.n, 0);
	/* held's 3072 MiB and m's 256 still count on node 1 (m stops and is
	 * released by its host, not by the engine): 768 MiB fit there, 1024
	 * would not. */
	CHECK_EQ(ap_built(s, vcd_entry_node_flags(1, 0, -1, &e, &len), &e), 0);
	vmm(s, "n", 768, 1, "{\"prefer\":{\"1\":5}}");
	vmm(s, "o", 1024, 1, "{\"prefer\":{\"1\":5}}");
	CHECK_EQ(run_with(s, &o, &out, true), 2);
	CHECK_EQ(holder(s, "n"), 1);
	CHECK(why_has(&out, "n", "node 1: score 5, load 81.2%->100.0% (best of 3 fitting), 0 MiB free after"));
	CHECK_EQ(holder(s, "o"), 2);
	/* A node in maintenance: what runs there is left alone. */
	CHECK_EQ(ap_built(s, vcd_entry_node_flags(1, -1, 1, &e, &len), &e), 0);
	CHECK_EQ(apf(s, "{\"v\":1,\"op\":\"resource-meta\",\"name\":\"n\",\"meta\":{\"ban\":[1]}}"), 0);
	CHECK_EQ(run_with(s, &o, &out, true), 0);
	CHECK_EQ(out.n, 0);
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* target_node (resource move): there while it is eligible, otherwise as
 * if unset. */
TEST(target_node)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;
	struct vcd_place_opts o = { .now_ms = NOW_MS, .max_moves = 4 };
	char *e;
	size_t len;

	vcd_place_out_init(&out);
	host(s, 1, 8, 8192);
	host(s, 2, 8, 8192);
	host(s, 3, 8, 8192);
	vm(s, "a", 1024, 1);
	vm(s, "b", 1024, 1);
	CHECK_EQ(apf(s, "{\"v\":1,\"op\":\"resource-flags\",\"name\":\"b\",\"target_node\":3}"), 0);
	run_with(s, &o, &out, true);
	CHECK_EQ(holder(s, "a"), 1);
	CHECK_EQ(holder(s, "b"), 3);
	CHECK(why_has(&out, "b", "node 3 (target_node): score 0"));
	/* Move a to 3. */
	CHECK_EQ(apf(s, "{\"v\":1,\"op\":\"resource-flags\",\"name\":\"a\",\"target_node\":3}"), 0);
	CHECK_EQ(run_with(s, &o, &out, true), 1);
	CHECK_EQ(holder(s, "a"), 3);
	CHECK(why_has(&out, "a", "moved to node 3 (target_node); node 3: score 0"));
	/* Its target is eligible no more (standby): a must leave 3 anyway. */
	CHECK_EQ(apf(s, "{\"v\":1,\"op\":\"resource-flags\",\"name\":\"a\",\"target_node\":2}"), 0);
	CHECK_EQ(ap_built(s, vcd_entry_node_flags(2, 1, -1, &e, &len), &e), 0);
	CHECK_EQ(run_with(s, &o, &out, true), 0);
	CHECK_EQ(out.n, 0);
	CHECK_EQ(holder(s, "a"), 3);
	/* Its preference would move it, but on its target_node it stays. */
	CHECK_EQ(ap_built(s, vcd_entry_node_flags(2, 0, -1, &e, &len), &e), 0);
	CHECK_EQ(apf(s, "{\"v\":1,\"op\":\"resource-meta\",\"name\":\"b\",\"meta\":{\"prefer\":{\"1\":10}}}"), 0);
	CHECK_EQ(run_with(s, &o, &out, true), 1);
	CHECK_EQ(holder(s, "a"), 2);
	CHECK_EQ(holder(s, "b"), 3);
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* frozen_on (shutdown policy freeze): only that node, once it is back. */
TEST(frozen_on)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;
	char *e;
	size_t len;

	vcd_place_out_init(&out);
	host(s, 1, 8, 8192);
	vm(s, "a", 1024, 1);
	vm(s, "filler", 4096, 1);
	run_with(s, &opts_now, &out, true);
	CHECK_EQ(holder(s, "a"), 1);
	host(s, 2, 8, 8192);
	CHECK_EQ(ap_built(s, vcd_entry_resource_freeze("a", 1, 10, "host shutdown", &e, &len), &e), 0);
	CHECK_EQ(ap_built(s, vcd_entry_node_flags(1, 1, -1, &e, &len), &e), 0);
	CHECK_EQ(run_with(s, &opts_now, &out, true), 0);
	CHECK_STR(out.d[0].why, "not running anywhere; no host fits: frozen on node 1 (shutdown policy), node 1 in standby");
	CHECK_EQ(ap_built(s, vcd_entry_node_flags(1, 0, -1, &e, &len), &e), 0);
	CHECK_EQ(run_with(s, &opts_now, &out, true), 1);
	CHECK_EQ(holder(s, "a"), 1);	/* node 2 has the lower load */
	CHECK(why_has(&out, "a", "node 1 (frozen_on): score 0, load 50.0%->62.5%"));
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* A leader goes where its waiting followers fit with it. */
TEST(group_fits_together)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;

	vcd_place_out_init(&out);
	host(s, 1, 64, 3072);
	host(s, 2, 64, 16384);
	vmm(s, "big", 11264, 0, "{\"ban\":[1]}");
	run_commit(s, &out);
	vm(s, "db", 2048, 0);
	vmm(s, "web", 2048, 0, "{\"with\":[\"db\"]}");
	/* Alone, db would go to 1 (66.7% < 81.2%), where web has no room. */
	CHECK_EQ(run_commit(s, &out), 2);
	CHECK_EQ(holder(s, "db"), 2);
	CHECK_EQ(holder(s, "web"), 2);
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* A meta that apply would refuse (a snapshot's is only known to be an
 * object) gets the defaults. */
TEST(bad_meta_gets_defaults)
{
	struct vcd_state *s = fresh(), *t = fresh();
	struct vcd_place_out out;
	json_t *snap;
	char *text;
	void *buf;
	size_t len;

	vcd_place_out_init(&out);
	host(s, 1, 8, 8192);
	host(s, 2, 8, 8192);
	vm(s, "a", 1024, 1);
	vm(s, "b", 1024, 1);
	CHECK_EQ(vcd_state_snapshot(s, &buf, &len), 0);
	snap = json_loadb(buf, len, 0, NULL);
	free(buf);
	CHECK(snap);
	json_object_set_new(json_object_get(json_object_get(snap, "resources"), "a"), "meta",
			    json_pack("{s:[i], s:s, s:i}", "with", 7, "apart", "b", "priority", 5));
	text = json_dumps(snap, JSON_COMPACT);
	json_decref(snap);
	CHECK_EQ(vcd_state_restore(t, text, strlen(text), why, sizeof(why)), 0);
	free(text);
	CHECK_EQ(apf(t, "{\"v\":1,\"op\":\"resource-meta\",\"name\":\"b\",\"meta\":{\"priority\":1}}"), 0);
	CHECK_EQ(run_commit(t, &out), 2);
	CHECK_STR(out.d[0].name, "b");		/* a's priority 5 went with the rest */
	CHECK_EQ(holder(t, "b"), 1);
	CHECK_EQ(holder(t, "a"), 2);		/* by the load */
	vcd_place_out_free(&out);
	vcd_state_free(s);
	vcd_state_free(t);
	return true;
}

/* Build a cluster with every kind of constraint: @n_hosts hosts, @n_res
 * resources, a third of them already running. */
static void build_mix(struct vcd_state *s, uint32_t n_hosts, size_t n_res)
{
	char name[32], meta[256];
	size_t i;

	for (i = 1; i <= n_hosts; i++)
		host(s, (uint32_t)i, 32, 262144);
	for (i = 0; i < n_res; i++) {
		snprintf(name, sizeof(name), "vm%04zu", i);
		switch (i % 10) {
		case 0:
			snprintf(meta, sizeof(meta), "{\"priority\":%zu,\"prefer\":{\"%zu\":100}}",
				 i % 7, 1 + i % n_hosts);
			break;
		case 1:
			snprintf(meta, sizeof(meta), "{\"ban\":[%zu,%zu]}", 1 + i % n_hosts,
				 1 + (i + 1) % n_hosts);
			break;
		case 2:
			snprintf(meta, sizeof(meta), "{\"apart\":[\"vm%04zu\"]}", i - 2);
			break;
		case 3:
			snprintf(meta, sizeof(meta), "{\"with\":[\"vm%04zu\"]}", i - 3);
			break;
		case 4:
			snprintf(meta, sizeof(meta), "{\"after\":[\"vm%04zu\"],\"stickiness\":100}",
				 i - 4);
			break;
		default:
			snprintf(meta, sizeof(meta), "{\"priority\":%d}", (int)(i % 3) - 1);
			break;
		}
		vmm(s, name, 2048, 2, meta);
	}
}

/* Two runs on one state, and one on a replica restored from its
 * snapshot: the same decisions, the same texts. */
TEST(deterministic)
{
	struct vcd_state *s = fresh(), *t = fresh();
	struct vcd_place_out a, b, c;
	struct vcd_place_opts o = { .now_ms = NOW_MS, .max_moves = 8 };
	void *snap;
	size_t len, i;
	char *e;

	vcd_place_out_init(&a);
	vcd_place_out_init(&b);
	vcd_place_out_init(&c);
	build_mix(s, 8, 100);
	run_with(s, &o, &a, true);
	CHECK_EQ(ap_built(s, vcd_entry_node_flags(3, 1, -1, &e, &len), &e), 0);
	vm(s, "late", 1024, 1);
	CHECK_EQ(vcd_state_snapshot(s, &snap, &len), 0);
	CHECK_EQ(vcd_state_restore(t, snap, len, why, sizeof(why)), 0);
	free(snap);
	vcd_place_out_free(&a);
	CHECK_EQ(vcd_place_run(s, NULL, &o, NULL, NULL, &a), 0);
	CHECK_EQ(vcd_place_run(s, NULL, &o, NULL, NULL, &b), 0);
	CHECK_EQ(vcd_place_run(t, NULL, &o, NULL, NULL, &c), 0);
	CHECK(a.n > 8);
	CHECK_EQ(a.n, b.n);
	CHECK_EQ(a.n, c.n);
	for (i = 0; i < a.n; i++) {
		CHECK(memcmp(&a.d[i], &b.d[i], sizeof(a.d[i])) == 0);
		CHECK_STR(a.d[i].name, c.d[i].name);
		CHECK_STR(a.d[i].why, c.d[i].why);
		CHECK_EQ(a.d[i].node, c.d[i].node);
		CHECK_EQ(a.d[i].kind, c.d[i].kind);
	}
	vcd_place_out_free(&a);
	vcd_place_out_free(&b);
	vcd_place_out_free(&c);
	vcd_state_free(s);
	vcd_state_free(t);
	return true;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* 1,000 VMs over 64 hosts without constraints: all placed, evenly, the
 * same on two replicas; then with constraints mixed in, every constraint
 * held.  The time of one run is printed (not asserted). */
TEST(thousand_over_64)
{
	struct vcd_state *s = fresh(), *t;
	struct vcd_place_out out, out2;
	struct timespec t0;
	uint32_t per[65] = { 0 }, lo = UINT32_MAX, hi = 0;
	char name[32];
	size_t i;

	vcd_place_out_init(&out);
	vcd_place_out_init(&out2);
	for (i = 1; i <= 64; i++)
		host(s, (uint32_t)i, 32, 262144);
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "vm%04zu", i);
		vm(s, name, 2048, 2);
	}
	t = fresh();
	{
		void *snap;
		size_t len;

		CHECK_EQ(vcd_state_snapshot(s, &snap, &len), 0);
		CHECK_EQ(vcd_state_restore(t, snap, len, why, sizeof(why)), 0);
		free(snap);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ(vcd_place_run(s, NULL, &opts_now, NULL, NULL, &out), 0);
	printf("# 1000 resources over 64 hosts: one placement run %.1f ms\n", ms_since(&t0));
	CHECK_EQ(vcd_place_run(t, NULL, &opts_now, NULL, NULL, &out2), 0);
	CHECK_EQ(out.n, 1000);
	CHECK_EQ(out2.n, 1000);
	for (i = 0; i < out.n; i++) {
		CHECK(out.d[i].node >= 1 && out.d[i].node <= 64);
		CHECK_EQ(out.d[i].node, out2.d[i].node);
		per[out.d[i].node]++;
	}
	for (i = 1; i <= 64; i++) {
		lo = per[i] < lo ? per[i] : lo;
		hi = per[i] > hi ? per[i] : hi;
	}
	CHECK(hi - lo <= 1);
	vcd_place_out_free(&out);
	vcd_place_out_free(&out2);
	vcd_state_free(s);
	vcd_state_free(t);
	return true;
}

/* Every constraint of build_mix()'s resource @i holds in @s. */
static bool mix_holds(struct vcd_state *s, size_t i, uint32_t n_hosts)
{
	char name[32], other[32];
	uint32_t at;

	snprintf(name, sizeof(name), "vm%04zu", i);
	at = holder(s, name);
	switch (i % 10) {
	case 1:
		return at != 1 + i % n_hosts && at != 1 + (i + 1) % n_hosts;
	case 2:
		snprintf(other, sizeof(other), "vm%04zu", i - 2);
		return !at || at != holder(s, other);
	case 3:
		snprintf(other, sizeof(other), "vm%04zu", i - 3);
		return !at || at == holder(s, other);
	default:
		return true;
	}
}

TEST(thousand_over_64_with_constraints)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;
	struct vcd_place_opts o = { .now_ms = NOW_MS, .max_moves = 1 };
	struct timespec t0;
	size_t i, rounds, placed = 0;

	vcd_place_out_init(&out);
	build_mix(s, 64, 1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ(vcd_place_run(s, NULL, &o, NULL, NULL, &out), 0);
	printf("# 1000 resources over 64 hosts, constraints mixed in: one placement run %.1f ms (%zu decisions)\n",
	       ms_since(&t0), out.n);
	/* Until nothing changes: "after" waits a round for "running". */
	for (rounds = 0; rounds < 5 && run_with(s, &o, &out, true); rounds++)
		;
	CHECK_EQ(run_with(s, &o, &out, true), 0);
	for (i = 0; i < 1000; i++) {
		char name[32];

		snprintf(name, sizeof(name), "vm%04zu", i);
		placed += holder(s, name) != 0;
		CHECK(mix_holds(s, i, 64));
	}
	CHECK_EQ(placed, 1000);
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

static const struct vc_test tests[] = {
	T(spread), T(capacity_and_flags), T(failover), T(behind_a_fence), T(skip_in_flight),
	T(priority_when_short), T(prefer_and_ban), T(with_and_apart), T(apart_through_failure),
	T(after_waits_until_running), T(stickiness_against_preference),
	T(failures_threshold_and_timeout), T(standby_moves_bounded), T(leaving_policy), T(hard_rules_move),
	T(cluster_maintenance), T(disabled_and_maintenance), T(target_node), T(frozen_on),
	T(group_fits_together), T(bad_meta_gets_defaults), T(deterministic), T(thousand_over_64),
	T(thousand_over_64_with_constraints),
	{ 0 }
};

#include "tap-main.h"
