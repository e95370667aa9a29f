// SPDX-License-Identifier: GPL-2.0 OR MIT
/* The DC's placement engine (place.c) on states built from entries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../place.h"
#include "tap.h"

static char why[VCD_STATE_WHY_LEN];
static uint64_t next_index;

static int ap(struct vcd_state *s, const char *text)
{
	return vcd_state_apply(s, text, strlen(text), ++next_index, NULL, why, sizeof(why));
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

static void vm(struct vcd_state *s, const char *name, uint64_t mem_mib, uint32_t vcpus)
{
	json_t *def = json_pack("{s:I,s:i}", "memory_kib", (json_int_t)(mem_mib * 1024),
				"vcpus", (int)vcpus);
	char *e;
	size_t len;

	if (ap_built(s, vcd_entry_resource_add(name, "vm", def, &e, &len), &e) < 0)
		abort();
	json_decref(def);
}

/* Run the engine and commit every decision that names a host. */
static size_t run_commit(struct vcd_state *s, struct vcd_place_out *out)
{
	size_t i, placed = 0;
	char *e;
	size_t len;

	vcd_place_out_free(out);
	if (vcd_place_run(s, NULL, NULL, NULL, out) < 0)
		abort();
	for (i = 0; i < out->n; i++) {
		if (!out->d[i].node)
			continue;
		if (ap_built(s, vcd_entry_resource_place(out->d[i].name, out->d[i].node,
							 out->d[i].incarnation, out->d[i].why,
							 &e, &len), &e) == 0)
			placed++;
	}
	return placed;
}

static uint32_t holder(struct vcd_state *s, const char *name)
{
	struct vcd_placement p = { 0 };

	vcd_resource_placement(json_object_get(vcd_state_resources(s), name), &p);
	return p.node;
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
	CHECK(strstr(out.d[0].why, "not running anywhere; node 1 has the lowest load of 2 fitting: 25.0%"));
	/* Nothing left to place. */
	CHECK_EQ(run_commit(s, &out), 0);
	CHECK_EQ(out.n, 0);
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* Memory is a hard limit, vCPUs only load; hosts without capacity, standby
 * or maintenance hosts take nothing. */
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
	CHECK_EQ(ap_built(s, vcd_entry_node_leaving(5, 50, &e, &len), &e), 0);
	vm(s, "big", 4096, 1);
	vm(s, "cpu", 512, 16);
	vm(s, "huge", 16384, 1);
	run_commit(s, &out);
	CHECK_EQ(holder(s, "big"), 2);
	/* 16 vCPUs on 2 or 8 CPUs: overcommitted, the larger host wins. */
	CHECK_EQ(holder(s, "cpu"), 2);
	CHECK_EQ(holder(s, "huge"), 0);
	CHECK_EQ(out.n, 3);
	CHECK(strstr(out.d[2].why, "no host can take it (2 eligible, none with 16384 MiB free"));
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* A fenced holder's resources move; the record carries the fence numbers;
 * a host where it failed is avoided. */
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
	vm(s, "a", 1024, 1);
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
	CHECK(strstr(out.d[0].why, "node 1 (incarnation 10) fenced (auto: last heard 812 ms before, window 600 ms); node 3"));
	/* It fails on 3: 2 takes it, never 3 again. */
	CHECK_EQ(ap_built(s, vcd_entry_resource_release("a", 3, 30, true, "crashed", &e, &len), &e), 0);
	CHECK_EQ(run_commit(s, &out), 1);
	CHECK_EQ(holder(s, "a"), 2);
	CHECK(strstr(out.d[0].why, "failed on 1 host(s)"));
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
	CHECK_EQ(vcd_place_run(s, &as, NULL, NULL, &out), 0);
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

static bool skip_b(void *ctx, const char *name)
{
	(void)ctx;
	return strcmp(name, "b") == 0;
}

TEST(skip_in_flight)
{
	struct vcd_state *s = fresh();
	struct vcd_place_out out;

	vcd_place_out_init(&out);
	host(s, 1, 4, 4096);
	vm(s, "a", 64, 1);
	vm(s, "b", 64, 1);
	CHECK_EQ(vcd_place_run(s, NULL, skip_b, NULL, &out), 0);
	CHECK_EQ(out.n, 1);
	CHECK_STR(out.d[0].name, "a");
	vcd_place_out_free(&out);
	vcd_state_free(s);
	return true;
}

/* 1,000 VMs over 64 hosts: all placed, evenly, the same on two replicas;
 * the time of one run is printed (not asserted). */
TEST(thousand_over_64)
{
	struct vcd_state *s = fresh(), *t;
	struct vcd_place_out out, out2;
	struct timespec t0, t1;
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
	CHECK_EQ(vcd_place_run(s, NULL, NULL, NULL, &out), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# 1000 resources over 64 hosts: one placement run %.1f ms\n",
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	CHECK_EQ(vcd_place_run(t, NULL, NULL, NULL, &out2), 0);
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

static const struct vc_test tests[] = {
	T(spread), T(capacity_and_flags), T(failover), T(behind_a_fence), T(skip_in_flight),
	T(thousand_over_64),
	{ 0 }
};

#include "tap-main.h"
