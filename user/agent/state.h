/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The replicated cluster state: raft's state machine.
 *
 * Every change is a log entry, a JSON object with a version and an op:
 *
 *	{"v":1,"op":"node-up","node":3,"incarnation":7}
 *	{"v":1,"op":"node-down","node":3,"incarnation":7}
 *	{"v":1,"op":"node-fenced","node":3,"incarnation":7,"how":"auto",
 *	 "last_heard_age_ms":4230,"window_ms":4200,"dc":1,"term":5,
 *	 "time_ms":1795000000000,"note":""}
 *	{"v":1,"op":"node-flags","node":3,"standby":true,"maintenance":false}
 *	{"v":1,"op":"node-left","node":3,"incarnation":7}
 *	{"v":1,"op":"resource-add","name":"web","type":"vm","definition":{...}}
 *	{"v":1,"op":"resource-remove","name":"web"}
 *	{"v":1,"op":"resource-place","name":"web","node":2,"incarnation":9,
 *	 "why":"node 3 fenced (auto, last heard 812 ms before, window 600 ms); ..."}
 *	{"v":1,"op":"resource-release","name":"web","node":2,"incarnation":9,
 *	 "failed":true,"note":"restarted 3 times in 60 s"}
 *	{"v":1,"op":"resource-status","name":"web","node":2,"incarnation":9,
 *	 "status":"running","note":"qemu pid 4242"}
 *	{"v":1,"op":"node-capacity","node":2,"cpus":8,"memory_kib":33554432}
 *	{"v":1,"op":"node-leaving","node":3,"incarnation":7,"migrate":true}
 *	{"v":1,"op":"resource-meta","name":"web","meta":{"priority":10,...}}
 *	{"v":1,"op":"resource-flags","name":"web","enabled":false,
 *	 "maintenance":true,"target_node":3}		(any of the three)
 *	{"v":1,"op":"resource-fail","name":"web","node":2,"incarnation":9,
 *	 "time_ms":1795000000000,"note":"monitor: OCF_NOT_RUNNING"}
 *	{"v":1,"op":"resource-cleanup","name":"web","node":0}	(0: every node)
 *	{"v":1,"op":"resource-migrate","name":"web","node":3,"incarnation":11,
 *	 "from_node":2,"from_incarnation":9,"why":"node 2 is standby; ..."}
 *	{"v":1,"op":"resource-migrated","name":"web","node":3,"incarnation":11,
 *	 "status":"running","note":"live migration took 812 ms"}
 *	{"v":1,"op":"resource-migrate-abort","name":"web","node":2,"note":"..."}
 *	{"v":1,"op":"cluster-set","maintenance":true,"shutdown_policy":"migrate",
 *	 "migrate_max":2}				(any of the three)
 *
 * resource-add may carry "meta" (the placement policy, policy.h); the
 * release of a host shutting down with the freeze policy carries
 * "frozen":true.
 *
 * Build them with the vcd_entry_*() helpers so that the DC, the control
 * commands and the tests write them the same way.
 *
 * Applying is deterministic: the result depends only on the state and the
 * entry bytes (never on a clock, the host or the order of hash tables), so
 * every replica that applies the same log holds the same state, and a
 * rejected entry is rejected everywhere with the same reason.  The numbers
 * in a fence record (ages, windows, wall-clock time) were measured by the
 * submitter and are only recorded, never recomputed.
 *
 * Node states:
 *
 *	unknown   never online (or only flags were set)
 *	online    node-up committed for its current incarnation
 *	down      a majority of voters saw that life DOWN; its fence is pending
 *	fenced    that life is certainly over (window passed, or an operator
 *	          confirmed); its resources may run elsewhere
 *	left      planned leave
 *
 * Rule 4 (DESIGN.md): a life that was declared down, fenced or left never
 * comes back; the node rejoins only with a higher incarnation, and apply
 * refuses anything else.
 *
 * Resources and the invariant (no VM runs on two hosts at once).  A
 * resource is placed on one life of one node: (node, incarnation).  Only
 * that life may run it.  Apply refuses to place it anywhere else until
 * that life is certainly not running it:
 *
 *	- the life was fenced (node-fenced for it or a later life), or
 *	- the life itself released it (resource-release: it stopped it, or
 *	  it failed there), which is also how a host that leaves or comes
 *	  back with a new incarnation gives its resources up.
 *
 * A planned move (resource-migrate) makes a second life hold the resource
 * until it ends: the target, which may run it as soon as libvirt's live
 * migration hands over.  While a move is in flight the resource is placed
 * nowhere else until both lives let go: the move finished
 * (resource-migrated: the target alone holds it), was aborted, or the
 * life that would no longer hold it was fenced (node-fenced of the target
 * ends the move; a fenced source leaves the target holding it).
 *
 * node-left is refused while a resource is placed on that life (rule 5:
 * the leave is recorded after the host's resources stopped).  A placement
 * needs the target life online.  These checks are the last line: the
 * DC's placement engine (place.c) and the hosts (rm.c) keep them too.
 *
 * No I/O, no logging; functions return 0 or a negative errno, and the
 * reasons for a rejection are written into a caller's buffer.
 */
#ifndef VCD_STATE_H
#define VCD_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <linux/vcluster.h>

#define VCD_STATE_VERSION	1	/* of entries and of snapshots */
#define VCD_STATE_MAX_NODES	(VC_MAX_PEERS + 1)
#define VCD_STATE_HISTORY	256	/* decision records kept */
#define VCD_STATE_MAX_RESOURCES	4096
#define VCD_STATE_NAME_LEN	128	/* resource names, bytes incl. NUL */
#define VCD_STATE_NOTE_LEN	128	/* fence record note, bytes incl. NUL */
#define VCD_STATE_WHY_LEN	256	/* enough for any rejection reason */

enum vcd_node_state {
	VCD_NODE_UNKNOWN = 0,
	VCD_NODE_ONLINE,
	VCD_NODE_DOWN,
	VCD_NODE_FENCED,
	VCD_NODE_LEFT,
};

enum vcd_fence_how {
	VCD_FENCE_AUTO = 1,		/* strong fencing, the window passed */
	VCD_FENCE_CONFIRMED,		/* an operator confirmed it */
};

enum vcd_op {
	VCD_OP_NONE = 0,		/* not parsed far enough to know */
	VCD_OP_NODE_UP,
	VCD_OP_NODE_DOWN,
	VCD_OP_NODE_FENCED,
	VCD_OP_NODE_FLAGS,
	VCD_OP_NODE_LEFT,
	VCD_OP_RESOURCE_ADD,
	VCD_OP_RESOURCE_REMOVE,
	VCD_OP_RESOURCE_PLACE,
	VCD_OP_RESOURCE_RELEASE,
	VCD_OP_RESOURCE_STATUS,
	VCD_OP_NODE_CAPACITY,
	VCD_OP_NODE_LEAVING,
	VCD_OP_RESOURCE_META,
	VCD_OP_RESOURCE_FLAGS,
	VCD_OP_RESOURCE_FAIL,
	VCD_OP_RESOURCE_CLEANUP,
	VCD_OP_RESOURCE_MIGRATE,
	VCD_OP_RESOURCE_MIGRATED,
	VCD_OP_RESOURCE_MIGRATE_ABORT,
	VCD_OP_CLUSTER_SET,
};

/* Why and how a life was declared over, with the numbers the DC used. */
struct vcd_fence_rec {
	uint32_t node_id;
	uint64_t incarnation;
	enum vcd_fence_how how;
	int64_t last_heard_age_ms;	/* at the decision, DC's clock; -1: never heard */
	uint64_t window_ms;		/* the wait the DC kept, from the window's start */
	uint32_t dc_id;
	uint64_t term;
	int64_t time_ms;		/* submitter's CLOCK_REALTIME, ms since the epoch */
	char note[VCD_STATE_NOTE_LEN];	/* e.g. who confirmed; may be empty */
};

struct vcd_node {
	uint32_t id;
	enum vcd_node_state state;
	uint64_t incarnation;		/* the highest life seen in the log */
	uint64_t fenced_incarnation;	/* 0: never fenced */
	bool standby;
	bool maintenance;
	/* node-leaving: this life is on its way out (cluster leave); nothing
	 * new is placed on it.  0: none.  A new life is not leaving. */
	uint64_t leaving_incarnation;
	bool leaving_migrate;		/* it leaves with the migrate policy: move its resources */
	bool has_fence;
	struct vcd_fence_rec fence;	/* the last one, when has_fence */
	/* What its hypervisor offers (node-capacity); 0: not reported, so
	 * nothing is placed there (a witness host without libvirt). */
	uint32_t cpus;
	uint64_t memory_kib;
};

/* What an apply did, for events and for the DC. */
struct vcd_apply_result {
	enum vcd_op op;
	uint32_t node_id;		/* resource ops: the node in the entry, or 0 */
	enum vcd_node_state old_state, new_state;
	bool changed;			/* false: a rejected entry or a no-op */
	char resource[VCD_STATE_NAME_LEN];	/* resource ops: its name */
	bool removed;			/* the resource left the table */
};

struct vcd_state;

int vcd_state_new(struct vcd_state **ret);
void vcd_state_free(struct vcd_state *s);	/* NULL is fine */

/*
 * Apply one committed entry at raft index @index.  Returns 0, or a
 * negative errno with the reason in @why (may be NULL):
 *   -EINVAL            not JSON, not an object, a missing or bad field,
 *                      or the node is in a state the op does not apply to
 *   -EPROTONOSUPPORT   "v" is not VCD_STATE_VERSION
 *   -EOPNOTSUPP        unknown "op"
 *   -ESTALE            an older incarnation than the state holds, or a
 *                      comeback that rule 4 refuses
 *   -EALREADY          the state already says so (node-up, node-down,
 *                      node-fenced of the same life)
 *   -ENOENT            unknown node (node-down, -fenced, -left) or resource
 *   -EEXIST            resource-add of an existing name
 *   -EBUSY             resource-place while another life may run it,
 *                      node-left while a resource is placed on that life
 *   -ENOSPC            node or resource table full
 *   -ENOMEM
 * A rejected entry changes nothing but the applied index.  @res (may be
 * NULL) says what happened.
 */
int vcd_state_apply(struct vcd_state *s, const void *buf, size_t len, uint64_t index,
		    struct vcd_apply_result *res, char *why, size_t why_size);

/* The whole state as JSON bytes (malloc()ed, NUL-terminated, @ret_len
 * without the NUL).  Equal states give equal bytes. */
int vcd_state_snapshot(const struct vcd_state *s, void **ret_buf, size_t *ret_len);

/* Replace the whole state with a snapshot's; on error (-EINVAL with the
 * reason, -EPROTONOSUPPORT, -ENOMEM) the state is unchanged. */
int vcd_state_restore(struct vcd_state *s, const void *buf, size_t len,
		      char *why, size_t why_size);

/*
 * For `vclusterctl status` and `node list` (new reference):
 *	{"applied_index":N,
 *	 "nodes":[{"id":1,"state":"online","incarnation":7,
 *		   "fenced_incarnation":0,"standby":false,"maintenance":false,
 *		   "last_fence":{...}}, ...],		(last_fence when any)
 *	 "resources":{"NAME":{"type":"vm","definition":{...},
 *			      "node":2,"incarnation":9,"why":"...",
 *			      "removing":false,"fails":{"3":{"count":1,"last_ms":N}},
 *			      "meta":{...},"enabled":true,"maintenance":false,
 *			      "target_node":0,"frozen_on":0,
 *			      "migrating":{"node":3,"incarnation":11},  (when moving)
 *			      "status":"running","note":"..."}, ...}}
 *	 "cluster":{"maintenance":false,"shutdown_policy":"migrate","migrate_max":1}
 *	 (node 0: not placed; nodes also carry "cpus" and "memory_kib")
 * NULL on allocation failure.
 */
json_t *vcd_state_to_json(const struct vcd_state *s);

/* The decision records, oldest first (new reference): each is the entry's
 * fields without "v", plus "index" (raft index).  At most VCD_STATE_HISTORY. */
json_t *vcd_state_history_json(const struct vcd_state *s);

uint64_t vcd_state_applied_index(const struct vcd_state *s);
size_t vcd_state_n_nodes(const struct vcd_state *s);
/* Nodes ordered by id; NULL past the end.  Valid until the next apply or
 * restore. */
const struct vcd_node *vcd_state_node_at(const struct vcd_state *s, size_t i);
const struct vcd_node *vcd_state_node(const struct vcd_state *s, uint32_t id);
/* Borrowed: {"NAME":{"type":...,"definition":...,"node":...}}. */
const json_t *vcd_state_resources(const struct vcd_state *s);

/* A resource's placement, read from its record. */
struct vcd_placement {
	uint32_t node;			/* 0: not placed */
	uint64_t incarnation;
	bool removing;
	uint32_t to_node;		/* a planned move in flight to this life; 0: none */
	uint64_t to_incarnation;
};

/* Cluster-wide properties (borrowed): {"maintenance":false,
 * "shutdown_policy":"migrate"|"stop"|"freeze","migrate_max":1}. */
const json_t *vcd_state_cluster(const struct vcd_state *s);
#define VCD_STATE_DEFAULT_MIGRATE_MAX	1
#define VCD_STATE_MAX_MIGRATE_MAX	64
int vcd_resource_placement(const json_t *res, struct vcd_placement *ret);
/* The life that holds @res is certainly not running it any more (it was
 * fenced), or nothing holds it: it may be placed. */
bool vcd_state_resource_free(const struct vcd_state *s, const json_t *res);
/* The resource is placed (or moving) on a life of @node that may run it. */
bool vcd_resource_held_by(const json_t *res, uint32_t node, uint64_t incarnation);

const char *vcd_node_state_name(enum vcd_node_state st);	/* "online" */
const char *vcd_op_name(enum vcd_op op);			/* "node-up" */
const char *vcd_fence_how_name(enum vcd_fence_how how);	/* "auto" */

/*
 * Entry encoders: a malloc()ed NUL-terminated JSON object in *@ret,
 * its length without the NUL in *@ret_len.  -EINVAL for values apply
 * would refuse (node 0, incarnation 0, numbers above INT64_MAX, an empty
 * or overlong name), -ENOMEM.
 */
int vcd_entry_node_up(uint32_t node, uint64_t incarnation, char **ret, size_t *ret_len);
int vcd_entry_node_down(uint32_t node, uint64_t incarnation, char **ret, size_t *ret_len);
int vcd_entry_node_fenced(const struct vcd_fence_rec *rec, char **ret, size_t *ret_len);
/* @standby, @maintenance: 1 set, 0 clear, -1 leave as is (not both -1). */
int vcd_entry_node_flags(uint32_t node, int standby, int maintenance,
			 char **ret, size_t *ret_len);
int vcd_entry_node_left(uint32_t node, uint64_t incarnation, char **ret, size_t *ret_len);
/* @migrate: the host leaves with the migrate policy (the DC moves its
 * resources away); otherwise it stops (or freezes) them itself. */
int vcd_entry_node_leaving(uint32_t node, uint64_t incarnation, bool migrate, char **ret,
			   size_t *ret_len);
/* @definition is kept verbatim (any JSON value; not stolen). */
int vcd_entry_resource_add(const char *name, const char *type, const json_t *definition,
			   char **ret, size_t *ret_len);
int vcd_entry_resource_remove(const char *name, char **ret, size_t *ret_len);
/* @why, @note: texts for people (may be NULL; cut to 255 bytes). */
int vcd_entry_resource_place(const char *name, uint32_t node, uint64_t incarnation,
			     const char *why, char **ret, size_t *ret_len);
int vcd_entry_resource_release(const char *name, uint32_t node, uint64_t incarnation,
			       bool failed, const char *note, char **ret, size_t *ret_len);
/* @status: "starting", "running", "stopping", "stopped", "failed". */
int vcd_entry_resource_status(const char *name, uint32_t node, uint64_t incarnation,
			      const char *status, const char *note, char **ret,
			      size_t *ret_len);
int vcd_entry_node_capacity(uint32_t node, uint32_t cpus, uint64_t memory_kib,
			    char **ret, size_t *ret_len);
/* A host shutting down with the freeze policy: stopped, kept for @node. */
int vcd_entry_resource_freeze(const char *name, uint32_t node, uint64_t incarnation,
			      const char *note, char **ret, size_t *ret_len);
/* @time_ms: the reporter's CLOCK_REALTIME (failure timeouts count from it). */
int vcd_entry_resource_fail(const char *name, uint32_t node, uint64_t incarnation,
			    int64_t time_ms, const char *note, char **ret, size_t *ret_len);
int vcd_entry_resource_migrate(const char *name, uint32_t node, uint64_t incarnation,
			       uint32_t from_node, uint64_t from_incarnation, const char *why,
			       char **ret, size_t *ret_len);
/* @status: as for resource-status ("running" after a live migration). */
int vcd_entry_resource_migrated(const char *name, uint32_t node, uint64_t incarnation,
				const char *status, const char *note, char **ret,
				size_t *ret_len);
/* @node: who ends it (the source, the target or the DC). */
int vcd_entry_resource_migrate_abort(const char *name, uint32_t node, const char *note,
				     char **ret, size_t *ret_len);
/*
 * Any entry from its fields (resource-meta, resource-flags,
 * resource-cleanup, cluster-set and the rest): "v" and "op" are added;
 * apply checks the fields.  @fields is not stolen.
 */
int vcd_entry_build(enum vcd_op op, const json_t *fields, char **ret, size_t *ret_len);

#endif /* VCD_STATE_H */
