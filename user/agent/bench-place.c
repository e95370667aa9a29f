// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * bench-place: how long the DC's placement engine takes to decide, on a
 * cluster of 64 hosts and 1,000 resources with a realistic policy mix
 * (priorities, prefer, ban, apart pairs, with and after groups).
 *
 *   make -C user/agent bench-place
 *   user/agent/build/bench-place [--runs N] [--hosts N] [--resources N]
 *
 * Cases, each timed over N runs (default 200) of vcd_place_run() alone
 * (the state is built once through apply, like a replica's):
 *   full       every resource unplaced: the first placement of all
 *   steady     all placed and running: nothing to decide (the run the
 *              DC makes after every commit)
 *   host-fails one host down and its fence assumed (what the DC runs
 *              right behind the fence): its resources re-placed
 *   check      vcd_policy_check() of one resource's meta against the
 *              whole state (apply runs it for resource-add and -meta)
 * Prints a table of p50/p99/max in milliseconds; exit 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "place.h"

#define NOW_MS	1795000000000LL

static uint64_t next_index;

__attribute__((format(printf, 2, 3)))
static void apf(struct vcd_state *s, const char *fmt, ...)
{
	char text[1024], why[VCD_STATE_WHY_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (vcd_state_apply(s, text, strlen(text), ++next_index, NULL, why, sizeof(why)) < 0) {
		fprintf(stderr, "bench-place: apply %s: %s\n", text, why);
		exit(1);
	}
}

/*
 * Resource @i's meta: a tenth are databases (priority 100, a preferred
 * host) each with a replica apart from it; a tenth are web servers with
 * their database and started after it; some batch jobs (priority -10)
 * banned from two hosts; the rest plain, priority 0 or 10.
 */
static void meta_of(size_t i, uint32_t hosts, char *buf, size_t size)
{
	size_t db = i - i % 10;

	switch (i % 10) {
	case 0:
		snprintf(buf, size, "{\"priority\":100,\"prefer\":{\"%zu\":50},\"stickiness\":100}",
			 1 + (i / 10) % hosts);
		break;
	case 1:
		snprintf(buf, size, "{\"priority\":90,\"apart\":[\"r%04zu\"]}", db);
		break;
	case 2:
		snprintf(buf, size, "{\"priority\":10,\"with\":[\"r%04zu\"],\"after\":[\"r%04zu\"]}",
			 db, db);
		break;
	case 3:
		snprintf(buf, size, "{\"priority\":-10,\"ban\":[%zu,%zu],\"migration_threshold\":1}",
			 1 + i % hosts, 1 + (i + 7) % hosts);
		break;
	default:
		snprintf(buf, size, "{\"priority\":%d}", i % 2 ? 10 : 0);
		break;
	}
}

static void build(struct vcd_state *s, uint32_t hosts, size_t n)
{
	char meta[256];
	size_t i;

	for (i = 1; i <= hosts; i++) {
		apf(s, "{\"v\":1,\"op\":\"node-up\",\"node\":%zu,\"incarnation\":%zu}", i, i * 10);
		apf(s, "{\"v\":1,\"op\":\"node-capacity\",\"node\":%zu,\"cpus\":64,\"memory_kib\":%d}",
		    i, 256 * 1024 * 1024);
	}
	for (i = 0; i < n; i++) {
		meta_of(i, hosts, meta, sizeof(meta));
		/* 1 to 8 GiB, 1 to 4 vCPUs */
		apf(s, "{\"v\":1,\"op\":\"resource-add\",\"name\":\"r%04zu\",\"type\":\"vm\","
		       "\"definition\":{\"memory_kib\":%zu,\"vcpus\":%zu},\"meta\":%s}",
		    i, (1 + i % 8) * 1024 * 1024, 1 + i % 4, meta);
	}
}

/* Commit every start, report it running; until nothing is left. */
static void settle(struct vcd_state *s)
{
	struct vcd_place_opts o = { .now_ms = NOW_MS };
	struct vcd_place_out out;
	size_t i, done;
	int round;

	vcd_place_out_init(&out);
	for (round = 0; round < 10; round++) {
		vcd_place_out_free(&out);
		if (vcd_place_run(s, NULL, &o, NULL, NULL, &out) < 0)
			exit(1);
		for (i = done = 0; i < out.n; i++) {
			const struct vcd_place_decision *d = &out.d[i];

			if (!d->node)
				continue;
			apf(s, "{\"v\":1,\"op\":\"resource-place\",\"name\":\"%s\",\"node\":%u,"
			       "\"incarnation\":%" PRIu64 ",\"why\":\"\"}", d->name, d->node,
			    d->incarnation);
			apf(s, "{\"v\":1,\"op\":\"resource-status\",\"name\":\"%s\",\"node\":%u,"
			       "\"incarnation\":%" PRIu64 ",\"status\":\"running\",\"note\":\"\"}",
			    d->name, d->node, d->incarnation);
			done++;
		}
		if (!done)
			break;
	}
	vcd_place_out_free(&out);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void report(const char *name, const char *what, size_t decisions, double *ms, int runs)
{
	qsort(ms, (size_t)runs, sizeof(*ms), cmp_double);
	printf("%-11s %-44s %9zu %8.2f %8.2f %8.2f\n", name, what, decisions,
	       ms[runs / 2], ms[(runs * 99) / 100 < runs ? (runs * 99) / 100 : runs - 1],
	       ms[runs - 1]);
}

/* Time @runs engine runs on @s; the decisions of the last, and how many
 * of them name a host. */
static size_t time_runs(const struct vcd_state *s, const struct vcd_place_assume *as,
			double *ms, int runs, size_t *placed)
{
	struct vcd_place_opts o = { .now_ms = NOW_MS, .max_moves = 1 };
	struct vcd_place_out out;
	size_t n = 0, i;
	double t0;
	int k;

	vcd_place_out_init(&out);
	for (k = 0; k < runs; k++) {
		vcd_place_out_free(&out);
		t0 = now_ms();
		if (vcd_place_run(s, as, &o, NULL, NULL, &out) < 0)
			exit(1);
		ms[k] = now_ms() - t0;
	}
	n = out.n;
	for (i = *placed = 0; i < out.n; i++)
		*placed += out.d[i].node != 0;
	vcd_place_out_free(&out);
	return n;
}

static size_t on_node(const struct vcd_state *s, uint32_t node)
{
	const json_t *all = vcd_state_resources(s);
	struct vcd_placement p;
	const char *name;
	json_t *res;
	size_t n = 0;

	json_object_foreach((json_t *)all, name, res)
		n += vcd_resource_placement(res, &p) == 0 && p.node == node;
	return n;
}

static void time_checks(const struct vcd_state *s, double *ms, int runs)
{
	json_t *meta = json_loads("{\"priority\":5,\"with\":[\"r0010\"],\"apart\":[\"r0001\"],"
				  "\"after\":[\"r0020\"],\"prefer\":{\"3\":10}}", 0, NULL);
	char why[VCD_STATE_WHY_LEN];
	double t0;
	int k;

	for (k = 0; k < runs; k++) {
		t0 = now_ms();
		if (vcd_policy_check(s, "r0015", meta, why, sizeof(why)) < 0) {
			fprintf(stderr, "bench-place: check: %s\n", why);
			exit(1);
		}
		ms[k] = now_ms() - t0;
	}
	json_decref(meta);
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-place [--runs N] [--hosts N (2..%d)] [--resources N (10..%d)]\n",
		VCD_STATE_MAX_NODES - 1, VCD_STATE_MAX_RESOURCES);
	exit(2);
}

int main(int argc, char **argv)
{
	struct vcd_place_assume as = { .set = true };
	struct vcd_state *s = NULL;
	long runs = 200, hosts = 64, n = 1000;
	size_t dec, placed;
	char what[64];
	double *ms;
	int i;

	for (i = 1; i < argc; i++) {
		long *v = strcmp(argv[i], "--runs") == 0 ? &runs :
			  strcmp(argv[i], "--hosts") == 0 ? &hosts :
			  strcmp(argv[i], "--resources") == 0 ? &n : NULL;

		if (!v || i + 1 == argc)
			usage();
		*v = strtol(argv[++i], NULL, 10);
	}
	if (runs < 1 || runs > 100000 || hosts < 2 || hosts >= VCD_STATE_MAX_NODES || n < 10 ||
	    n > VCD_STATE_MAX_RESOURCES)
		usage();
	ms = calloc((size_t)runs, sizeof(*ms));
	if (!ms || vcd_state_new(&s) < 0)
		return 1;
	build(s, (uint32_t)hosts, (size_t)n);
	printf("placement engine: %ld hosts x %ld resources (priorities, prefer, ban, apart pairs,\n"
	       "with/after groups), %ld runs per case, milliseconds per run\n\n", hosts, n, runs);
	printf("%-11s %-44s %9s %8s %8s %8s\n", "case", "", "decisions", "p50", "p99", "max");
	dec = time_runs(s, NULL, ms, (int)runs, &placed);
	snprintf(what, sizeof(what), "all unplaced (%zu placed, rest wait)", placed);
	report("full", what, dec, ms, (int)runs);
	settle(s);
	dec = time_runs(s, NULL, ms, (int)runs, &placed);
	report("steady", "all running, nothing to do", dec, ms, (int)runs);
	/* Host 1 dies: node-down applied, its fence assumed (the DC places
	 * right behind the fence it submits). */
	apf(s, "{\"v\":1,\"op\":\"node-down\",\"node\":1,\"incarnation\":10}");
	as.fence = (struct vcd_fence_rec){ .node_id = 1, .incarnation = 10, .how = VCD_FENCE_AUTO,
					   .last_heard_age_ms = 650, .window_ms = 600, .dc_id = 2 };
	dec = time_runs(s, &as, ms, (int)runs, &placed);
	snprintf(what, sizeof(what), "host 1 fenced: its %zu re-placed (%zu placed)", on_node(s, 1),
		 placed);
	report("host-fails", what, dec, ms, (int)runs);
	time_checks(s, ms, (int)runs);
	report("check", "vcd_policy_check of one meta (apply)", 0, ms, (int)runs);
	free(ms);
	vcd_state_free(s);
	return 0;
}
