/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The DC's placement engine: which host runs each resource that runs
 * nowhere.  Pure: it reads the replicated state and returns decisions; the
 * DC commits them as resource-place entries, and apply checks them again
 * (state.h: a resource moves only off a life that was fenced or released
 * it).
 *
 * The default policy (Documentation/agent.rst, "Placement"):
 *
 *   - A resource may be placed when nothing holds it: it was never placed,
 *     its holder released it, or its holder's life was fenced.  Resources
 *     being removed are not placed.
 *   - Eligible hosts: online, not standby, not in maintenance, not leaving
 *     (cluster leave in progress), that have
 *     reported their capacity (node-capacity: hosts without a hypervisor,
 *     such as a witness, never take VMs), where the resource has not failed
 *     (failed_on), and whose memory still fits the resource's memory.
 *     vCPUs may be overcommitted; they count towards the load only.
 *   - Spread by load: the host whose load after placing is lowest, where
 *     load = max(memory used / memory, vCPUs used / CPUs); ties go to the
 *     host with fewer resources, then to the lower node id.
 *   - Resources are placed one at a time in name order, each seeing the
 *     load of those placed before it, so one run gives the same answer on
 *     any replica.
 */
#ifndef VCD_PLACE_H
#define VCD_PLACE_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

#define VCD_PLACE_WHY_LEN	VCD_STATE_WHY_LEN

struct vcd_place_decision {
	char name[VCD_STATE_NAME_LEN];
	uint32_t node;			/* 0: nowhere fits; @why says why */
	uint64_t incarnation;		/* of that node's online life */
	uint32_t from_node;		/* the life it leaves (fenced), or 0 */
	char why[VCD_PLACE_WHY_LEN];	/* the numbers it was decided on */
};

struct vcd_place_out {
	struct vcd_place_decision *d;
	size_t n, cap;
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

/*
 * Decide for every resource that may be placed (with @assume: as if that
 * fence were applied; may be NULL), except those for which @skip(ctx,
 * name) is true (the DC's placements still in flight; @skip may be NULL).
 * Returns 0 or -ENOMEM; decisions are appended to @out in name order.
 */
int vcd_place_run(const struct vcd_state *s, const struct vcd_place_assume *assume,
		  bool (*skip)(void *ctx, const char *name), void *ctx,
		  struct vcd_place_out *out);

#endif /* VCD_PLACE_H */
