/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The resource manager: this host's side of running resources (VMs
 * through libvirt, see virt.h), and the DC's placement duty.
 *
 * The replicated state says where each resource is placed: on one life
 * (node, incarnation).  This host runs exactly the resources placed on its
 * own current life, and only while it may: its life is online in the
 * state and it holds the quorum lease.  Everything else that runs here is
 * stopped.  A resource placed on an earlier life of this host (the agent
 * restarted with a new incarnation) is stopped and released.
 *
 * A VM that dies here while it should run (its QEMU's pidfd, or libvirt's
 * lifecycle event, whichever comes first), or an OCF resource whose
 * monitor fails, is a failure: recorded (resource-fail), then restarted in
 * place until its failcount here reaches the resource's migration
 * threshold (policy.h); then it is released as failed and the DC places
 * it elsewhere.
 *
 * Maintenance (of the resource, of this host or of the cluster): the
 * resource is watched and reported, never started, stopped or restarted.
 * A disabled resource is stopped and released.  A planned move
 * (resource-migrate): the source live-migrates a running VM to the target
 * (or stops an OCF resource) and commits resource-migrated; the target
 * leaves the incoming domain alone, and claims it (or aborts the move)
 * only if the source was fenced before the move ended.
 *
 * Every QEMU started here is registered with the fencing transport
 * (proc_add: the kernel's kill action or vcluster-fencer), so a fenced
 * host's VMs die even when this agent hangs.
 *
 * The DC (vcd_rm_place) runs the placement engine (place.h) after each
 * change and commits its decisions.
 */
#ifndef VCD_RM_H
#define VCD_RM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>
#include <uv.h>

#include "state.h"

/* What the resource manager needs from the agent. */
struct vcd_rm_host {
	void *ctx;
	/*
	 * Have the entry (built by state.c, freed by the callee) committed:
	 * directly on the DC, forwarded from elsewhere.  @done(arg, status)
	 * runs when it committed (0) or failed (negative errno); may be NULL.
	 */
	int (*submit)(void *ctx, char *entry, size_t len, const char *what,
		      void (*done)(void *arg, int status), void *arg);
	void (*emit)(void *ctx, const char *event, json_t *fields);
	/* Tell the other hosts about what committed now, not at the next
	 * raft heartbeat (the DC's placements; may be NULL). */
	void (*nudge)(void *ctx);
	int (*proc_add)(void *ctx, pid_t pid);
	int (*proc_del)(void *ctx, pid_t pid);
	/* The libvirt URI of @node's libvirtd for a live migration, and the
	 * URI of QEMU's data stream ("" for libvirt's choice): 0 or -ENOENT. */
	int (*migrate_uri)(void *ctx, uint32_t node, char *uri, size_t uri_size,
			   char *data_uri, size_t data_size);
};

struct vcd_rm_params {
	uint32_t self_id;
	const char *libvirt_uri;	/* NULL or "": this host runs no VMs */
	uint32_t monitor_ms;		/* recurring monitor (a libvirt listing) */
	const char *ocf_root;		/* OCF resource agents: ocf_root/resource.d/ */
	uint32_t migrate_timeout_ms;	/* a live migration longer than this is aborted */
	uint32_t migrate_bandwidth_mib_s;	/* 0: unlimited */
};

enum vcd_rm_leave_policy {
	VCD_RM_LEAVE_STOP = 0,		/* stop each resource and release it */
	VCD_RM_LEAVE_MIGRATE,		/* the DC moves them (live for VMs) */
	VCD_RM_LEAVE_FREEZE,		/* stop them; they wait for this host's return */
};
int vcd_rm_leave_policy_parse(const char *name, enum vcd_rm_leave_policy *ret);

struct vcd_rm;

int vcd_rm_new(uv_loop_t *loop, const struct vcd_rm_params *p, const struct vcd_rm_host *host,
	       struct vcd_rm **ret);
/* Stop the threads and timers (VMs keep running); @done(arg) once closed. */
void vcd_rm_close(struct vcd_rm *rm, void (*done)(void *arg), void *arg);

/*
 * The state changed, or what this host may do did: reconcile soon (on the
 * next loop turn, never inside raft's apply).  @incarnation: this life;
 * @may_run: the life is online in @s and the lease is held.  The state
 * must stay valid while the agent runs (it is the agent's replica).
 */
void vcd_rm_update(struct vcd_rm *rm, const struct vcd_state *s, uint64_t incarnation,
		   bool may_run);

/* DC duty: place what may be placed (soon, not inside apply).  Off when
 * @is_dc is false (the in-flight placements are forgotten). */
void vcd_rm_set_dc(struct vcd_rm *rm, bool is_dc);

/* DC: a node-fenced entry was just submitted: place that life's resources
 * now, right behind it in the log (place.h, struct vcd_place_assume). */
void vcd_rm_place_fenced(struct vcd_rm *rm, const struct vcd_fence_rec *fence);

/* The state applied a resource entry: log and emit it with its numbers. */
void vcd_rm_applied(struct vcd_rm *rm, const struct vcd_apply_result *res, uint64_t index);

/*
 * Check a VM definition against this host's libvirt for resource add:
 * @xml (domain XML), or @domain (the name of a domain defined here).  @cb
 * gets 0 and the definition ({"domain","uuid","xml","memory_kib","vcpus"},
 * a new reference) or an error and a message.
 */
typedef void (*vcd_rm_validate_fn)(void *arg, int err, const char *msg, json_t *definition);
int vcd_rm_validate(struct vcd_rm *rm, const char *xml, const char *domain,
		    vcd_rm_validate_fn cb, void *arg);

/*
 * A planned leave (rule 5), after node-leaving committed: with @policy
 * stop, stop every resource this life runs and release each; freeze, the
 * same, but each waits for this host's return instead of moving; migrate,
 * let the DC move each away (VMs live), and stop what has not moved after
 * RM_LEAVE_STALL_MS without progress.  Then @done(arg, status): 0 once
 * nothing is placed on this life any more, or an error.  Nothing is
 * started here afterwards.
 */
void vcd_rm_leave(struct vcd_rm *rm, enum vcd_rm_leave_policy policy,
		  void (*done)(void *arg, int status), void *arg);

/* This host's view for `status` (new reference):
 * {"libvirt":"connected"|"...","resources":{NAME:{"local":"running",
 *  "pid":N,"restarts":N}}} */
json_t *vcd_rm_json(const struct vcd_rm *rm);

#endif /* VCD_RM_H */
