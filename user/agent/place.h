/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The DC's placement engine: which host runs each resource that runs
 * nowhere, and which resources should move.  Pure and deterministic: it
 * reads the replicated state and a time, and returns decisions (the same
 * state and the same now_ms give the same decisions on any replica).  The
 * DC commits them (resource-place for a start, resource-migrate for a
 * move), and apply checks them again (state.h: a resource moves only off
 * a life that was fenced or released it, or by a planned migration).
 *
 * The policy (Documentation/placement.rst; each resource's "meta" is
 * described in policy.h):
 *
 *   - Nothing at all is decided while the cluster is in maintenance.  A
 *     resource in maintenance, disabled, being removed or being migrated
 *     is never placed or moved; where it is placed it still counts for
 *     the load and for "with" and "apart".
 *   - Starts: a resource that nothing holds (never placed, released, or
 *     its holder's life was fenced) is placed on an eligible host.
 *   - Eligible host for a resource: online, not standby, not in
 *     maintenance, not leaving, capacity reported (node-capacity: a
 *     witness without a hypervisor never takes one), memory still fits
 *     (a hard limit; vCPUs may be overcommitted and only count towards
 *     the load), and:
 *       ban         not in its "ban";
 *       failures    its failcount there is below migration_threshold at
 *                   now_ms (policy.h);
 *       apart       no resource in its "apart", nor one that lists it in
 *                   its own "apart", is placed there (placed: on a life not
 *                   fenced; a migration's target and this run's earlier
 *                   decisions count too);
 *       with        every resource in its "with" is placed there; while one
 *                   of them is placed nowhere it waits (node 0, "waits for
 *                   db to be placed");
 *       after       only once every resource in its "after" has status
 *                   "running" on an online life (else it waits);
 *       frozen_on   (shutdown policy) only that node; it waits for it;
 *       target_node (resource move) only that node while it is eligible,
 *                   otherwise as if unset.
 *   - Order: priority descending, then name, so that when capacity is
 *     short the higher priority wins (nothing running is preempted).  A
 *     resource's "with" leaders that also wait to start are decided just
 *     before it, whatever their own rank, so one run places a group.
 *   - Choice among the eligible hosts: the highest "prefer" score, then
 *     the lowest load after placing (load = max(memory used / memory,
 *     vCPUs used / CPUs)), then fewer resources, then the lower node id.
 *     A leader goes where its waiting followers fit with it, if any host
 *     can take them all.
 *   - Moves (at most opts->max_moves per run, most important first), for
 *     a resource with status "running" on an online life, neither it nor
 *     its node in maintenance: it must move when its node is standby or
 *     leaving, or no longer eligible by a hard rule (ban, apart, a "with"
 *     leader elsewhere, target_node elsewhere); it may move when another
 *     eligible node's score exceeds its current node's score plus its
 *     stickiness.  A move's target is eligible with the resource counted
 *     only there, and never the node it is on.  A move that must happen
 *     but has no target is reported (node 0, "stays on 2: no other host
 *     fits ..."); a preference that cannot be met is not.  Of two
 *     resources "apart" on one node, the lower ranked one moves.
 *   - Every decision's why carries the numbers it was decided on.
 */
#ifndef VCD_PLACE_H
#define VCD_PLACE_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "state.h"

#define VCD_PLACE_WHY_LEN	VCD_STATE_WHY_LEN

enum vcd_place_kind {
	VCD_PLACE_START = 1,		/* runs nowhere -> node */
	VCD_PLACE_MOVE,			/* runs on from_node -> node (resource-migrate) */
};

struct vcd_place_decision {
	enum vcd_place_kind kind;
	char name[VCD_STATE_NAME_LEN];
	uint32_t node;			/* 0: nowhere fits (or it waits); @why says why */
	uint64_t incarnation;		/* of that node's online life */
	/* START: the life it leaves (fenced or over), or 0.  MOVE: the life
	 * it runs on now. */
	uint32_t from_node;
	uint64_t from_incarnation;
	char why[VCD_PLACE_WHY_LEN];	/* the numbers it was decided on */
};

struct vcd_place_out {
	struct vcd_place_decision *d;
	size_t n, cap;
	/* CLOCK_REALTIME ms at which a failure that ruled a host out stops
	 * counting (the decisions may then differ: run again); 0: none. */
	int64_t recheck_ms;
};

void vcd_place_out_init(struct vcd_place_out *out);
void vcd_place_out_free(struct vcd_place_out *out);

/* A resource's demand, from its definition ("memory_kib", "vcpus"). */
struct vcd_place_demand {
	uint64_t memory_kib;
	uint32_t vcpus;
};
void vcd_place_demand_of(const json_t *res, struct vcd_place_demand *ret);

/*
 * A fence the DC has submitted but the state has not applied yet: the DC
 * places that life's resources at once, right behind the fence in the log
 * (apply checks each placement after the fence, and refuses it should the
 * fence be refused).
 */
struct vcd_place_assume {
	bool set;
	struct vcd_fence_rec fence;
};

struct vcd_place_opts {
	int64_t now_ms;			/* CLOCK_REALTIME ms: failures expire by it */
	uint32_t max_moves;		/* moves to return at most (0: none) */
};

/*
 * Decide for every resource that may be started or should move (with
 * @assume: as if that fence were applied; may be NULL), except those for
 * which @pending(ctx, name) names a node: a decision of an earlier run,
 * still in flight, puts it there, and it counts there (its memory, its
 * apart and with) as if it were placed (@pending may be NULL).  @opts NULL: now_ms 0 and no moves.  Returns 0 or
 * -ENOMEM; decisions are appended to @out in the order to commit them:
 * the starts by rank (leaders before their followers), then the moves.
 */
int vcd_place_run(const struct vcd_state *s, const struct vcd_place_assume *assume,
		  const struct vcd_place_opts *opts,
		  uint32_t (*pending)(void *ctx, const char *name), void *ctx,
		  struct vcd_place_out *out);

#endif /* VCD_PLACE_H */
