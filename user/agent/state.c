// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The replicated cluster state (see state.h).  Pure: no I/O, no clocks.
 *
 * Determinism is what makes this a state machine: every replica applies
 * the same bytes and must end with the same state and give the same
 * reasons.  So nothing here depends on hash-table order (keys are checked
 * in sorted order, JSON is written with sorted keys), on time, or on
 * anything outside the entry and the state.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "policy.h"

struct vcd_state {
	uint64_t applied_index;
	size_t n_nodes;
	struct vcd_node nodes[VCD_STATE_MAX_NODES];	/* ordered by id */
	json_t *resources;	/* object: name -> record (state.h, to_json) */
	json_t *cluster;	/* cluster-wide properties (cluster-set) */
	json_t *history;	/* array of decision records, oldest first */
};

#define ENTRY_FLAGS	(JSON_COMPACT | JSON_SORT_KEYS)

static const char *const node_state_names[] = {
	[VCD_NODE_UNKNOWN] = "unknown",
	[VCD_NODE_ONLINE] = "online",
	[VCD_NODE_DOWN] = "down",
	[VCD_NODE_FENCED] = "fenced",
	[VCD_NODE_LEFT] = "left",
};

static const char *const op_names[] = {
	[VCD_OP_NONE] = "none",
	[VCD_OP_NODE_UP] = "node-up",
	[VCD_OP_NODE_DOWN] = "node-down",
	[VCD_OP_NODE_FENCED] = "node-fenced",
	[VCD_OP_NODE_FLAGS] = "node-flags",
	[VCD_OP_NODE_LEFT] = "node-left",
	[VCD_OP_RESOURCE_ADD] = "resource-add",
	[VCD_OP_RESOURCE_REMOVE] = "resource-remove",
	[VCD_OP_RESOURCE_PLACE] = "resource-place",
	[VCD_OP_RESOURCE_RELEASE] = "resource-release",
	[VCD_OP_RESOURCE_STATUS] = "resource-status",
	[VCD_OP_NODE_CAPACITY] = "node-capacity",
	[VCD_OP_NODE_LEAVING] = "node-leaving",
	[VCD_OP_RESOURCE_META] = "resource-meta",
	[VCD_OP_RESOURCE_FLAGS] = "resource-flags",
	[VCD_OP_RESOURCE_FAIL] = "resource-fail",
	[VCD_OP_RESOURCE_CLEANUP] = "resource-cleanup",
	[VCD_OP_RESOURCE_MIGRATE] = "resource-migrate",
	[VCD_OP_RESOURCE_MIGRATED] = "resource-migrated",
	[VCD_OP_RESOURCE_MIGRATE_ABORT] = "resource-migrate-abort",
	[VCD_OP_CLUSTER_SET] = "cluster-set",
};

const char *vcd_node_state_name(enum vcd_node_state st)
{
	if ((unsigned int)st >= sizeof(node_state_names) / sizeof(node_state_names[0]))
		return "invalid";
	return node_state_names[st];
}

const char *vcd_op_name(enum vcd_op op)
{
	if ((unsigned int)op >= sizeof(op_names) / sizeof(op_names[0]))
		return "invalid";
	return op_names[op];
}

const char *vcd_fence_how_name(enum vcd_fence_how how)
{
	switch (how) {
	case VCD_FENCE_AUTO:
		return "auto";
	case VCD_FENCE_CONFIRMED:
		return "confirmed";
	}
	return "invalid";
}

static int parse_state_name(const char *name, enum vcd_node_state *ret)
{
	size_t i;

	for (i = 0; i < sizeof(node_state_names) / sizeof(node_state_names[0]); i++) {
		if (strcmp(name, node_state_names[i]) == 0) {
			*ret = (enum vcd_node_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Write the reason and return @err, so that callers can "return fail()". */
__attribute__((format(printf, 4, 5)))
static int fail(char *why, size_t why_size, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && why_size) {
		va_start(ap, fmt);
		vsnprintf(why, why_size, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* ------------------------------------------------------------------------
 * Field access, with reasons.  Shared by apply and restore.
 */

struct ctx {
	char *why;
	size_t why_size;
};

#define FAIL(c, err, ...) fail((c)->why, (c)->why_size, (err), __VA_ARGS__)

/* An integer in [min, max]; absent is -ENODATA when !@required. */
static int get_int(struct ctx *c, const json_t *o, const char *key, int64_t min,
		   int64_t max, bool required, int64_t *ret)
{
	const json_t *v = json_object_get(o, key);
	json_int_t n;

	if (!v) {
		if (!required)
			return -ENODATA;
		return FAIL(c, -EINVAL, "\"%s\" is missing", key);
	}
	if (!json_is_integer(v))
		goto range;
	n = json_integer_value(v);
	if (n < min || n > max)
		goto range;
	*ret = n;
	return 0;
range:
	return FAIL(c, -EINVAL, "\"%s\" must be an integer from %lld to %lld", key,
		    (long long)min, (long long)max);
}

static int get_node_id(struct ctx *c, const json_t *o, const char *key, uint32_t *ret)
{
	int64_t v = 0;
	int r = get_int(c, o, key, 1, UINT32_MAX, true, &v);

	if (r == 0)
		*ret = (uint32_t)v;
	return r;
}

static int get_u64(struct ctx *c, const json_t *o, const char *key, int64_t min,
		   uint64_t *ret)
{
	int64_t v = 0;
	int r = get_int(c, o, key, min, INT64_MAX, true, &v);

	if (r == 0)
		*ret = (uint64_t)v;
	return r;
}

/* 1 true, 0 false, -ENODATA absent, -EINVAL otherwise. */
static int get_bool(struct ctx *c, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		return -ENODATA;
	if (!json_is_boolean(v))
		return FAIL(c, -EINVAL, "\"%s\" must be true or false", key);
	return json_is_true(v);
}

static int get_str(struct ctx *c, const json_t *o, const char *key, bool required,
		   const char **ret)
{
	const json_t *v = json_object_get(o, key);

	if (!v) {
		if (!required)
			return -ENODATA;
		return FAIL(c, -EINVAL, "\"%s\" is missing", key);
	}
	if (!json_is_string(v))
		return FAIL(c, -EINVAL, "\"%s\" must be a string", key);
	*ret = json_string_value(v);
	return 0;
}

/* Resource names and types: what a shell, a log line and a file name take
 * without quoting. */
static bool name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n >= VCD_STATE_NAME_LEN)
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		      ch == '-' || ch == ':'))
			return false;
	}
	return true;
}

static int get_name(struct ctx *c, const json_t *o, const char *key, const char **ret)
{
	int r = get_str(c, o, key, true, ret);

	if (r < 0)
		return r;
	if (!name_ok(*ret))
		return FAIL(c, -EINVAL,
			    "\"%s\" must be 1 to %d characters of A-Z a-z 0-9 . _ - :",
			    key, VCD_STATE_NAME_LEN - 1);
	return 0;
}

static bool key_in(const char *key, const char *const *keys)
{
	for (; *keys; keys++)
		if (strcmp(key, *keys) == 0)
			return true;
	return false;
}

/*
 * Refuse keys outside @keys.  The smallest such key is named, so that the
 * reason does not depend on the object's iteration order.
 */
static int check_keys(struct ctx *c, const json_t *o, const char *const *keys,
		      const char *what)
{
	const char *key, *bad = NULL;
	json_t *v;

	json_object_foreach((json_t *)o, key, v) {
		if (!key_in(key, keys) && (!bad || strcmp(key, bad) < 0))
			bad = key;
	}
	if (bad)
		return FAIL(c, -EINVAL, "unknown key \"%s\" in %s", bad, what);
	return 0;
}

/* ------------------------------------------------------------------------
 * Nodes.
 */

static size_t node_pos(const struct vcd_state *s, uint32_t id)
{
	size_t i;

	for (i = 0; i < s->n_nodes && s->nodes[i].id < id; i++)
		;
	return i;
}

static struct vcd_node *node_find(struct vcd_state *s, uint32_t id)
{
	size_t i = node_pos(s, id);

	return i < s->n_nodes && s->nodes[i].id == id ? &s->nodes[i] : NULL;
}

const struct vcd_node *vcd_state_node(const struct vcd_state *s, uint32_t id)
{
	return node_find((struct vcd_state *)s, id);
}

/* Find or add @id (state unknown). */
static int node_get(struct ctx *c, struct vcd_state *s, uint32_t id, struct vcd_node **ret)
{
	size_t i = node_pos(s, id);

	if (i < s->n_nodes && s->nodes[i].id == id) {
		*ret = &s->nodes[i];
		return 0;
	}
	if (s->n_nodes == VCD_STATE_MAX_NODES)
		return FAIL(c, -ENOSPC, "the node table is full (%d nodes)",
			    VCD_STATE_MAX_NODES);
	memmove(&s->nodes[i + 1], &s->nodes[i], (s->n_nodes - i) * sizeof(s->nodes[0]));
	s->n_nodes++;
	memset(&s->nodes[i], 0, sizeof(s->nodes[i]));
	s->nodes[i].id = id;
	*ret = &s->nodes[i];
	return 0;
}

size_t vcd_state_n_nodes(const struct vcd_state *s)
{
	return s->n_nodes;
}

const struct vcd_node *vcd_state_node_at(const struct vcd_state *s, size_t i)
{
	return i < s->n_nodes ? &s->nodes[i] : NULL;
}

uint64_t vcd_state_applied_index(const struct vcd_state *s)
{
	return s->applied_index;
}

const json_t *vcd_state_resources(const struct vcd_state *s)
{
	return s->resources;
}

/* ------------------------------------------------------------------------
 * Ops.  Each gets the parsed entry (keys already checked) and either
 * changes the state and returns 0, or returns an error having changed
 * nothing.
 */

struct apply {
	struct ctx c;
	struct vcd_state *s;
	const json_t *e;
	struct vcd_apply_result *res;
};

static int node_and_incarnation(struct apply *a, uint32_t *id, uint64_t *inc)
{
	int r = get_node_id(&a->c, a->e, "node", id);

	if (r == 0)
		r = get_u64(&a->c, a->e, "incarnation", 1, inc);
	if (r == 0)
		a->res->node_id = *id;
	return r;
}

/* The node must already exist for down/fenced/left. */
static int existing_node(struct apply *a, uint32_t id, struct vcd_node **n)
{
	*n = node_find(a->s, id);
	if (!*n || (*n)->state == VCD_NODE_UNKNOWN)
		return FAIL(&a->c, -ENOENT, "node %u has never been online", id);
	return 0;
}

static void set_state(struct apply *a, struct vcd_node *n, enum vcd_node_state st)
{
	a->res->old_state = n->state;
	a->res->new_state = st;
	a->res->changed = true;
	n->state = st;
}

/*
 * node-up: the DC saw this life UP.  Rule 4: a life that was declared
 * down, fenced or left never comes back; only a higher incarnation does.
 */
static int op_node_up(struct apply *a)
{
	struct vcd_node *n;
	uint32_t id = 0;
	uint64_t inc = 0;
	int r = node_and_incarnation(a, &id, &inc);

	if (r < 0)
		return r;
	n = node_find(a->s, id);
	if (n) {
		switch (n->state) {
		case VCD_NODE_UNKNOWN:
			break;
		case VCD_NODE_ONLINE:
			if (inc == n->incarnation)
				return FAIL(&a->c, -EALREADY,
					    "node %u is already online at incarnation %llu",
					    id, (unsigned long long)inc);
			if (inc < n->incarnation)
				return FAIL(&a->c, -ESTALE,
					    "node %u is online at incarnation %llu; incarnation %llu is an older life",
					    id, (unsigned long long)n->incarnation,
					    (unsigned long long)inc);
			break;
		case VCD_NODE_DOWN:
		case VCD_NODE_FENCED:
		case VCD_NODE_LEFT:
			if (inc <= n->incarnation)
				return FAIL(&a->c, -ESTALE,
					    "node %u is %s at incarnation %llu; it may only return with a higher incarnation (rule 4), not %llu",
					    id, vcd_node_state_name(n->state),
					    (unsigned long long)n->incarnation,
					    (unsigned long long)inc);
			break;
		}
	}
	r = node_get(&a->c, a->s, id, &n);
	if (r < 0)
		return r;
	set_state(a, n, VCD_NODE_ONLINE);
	n->incarnation = inc;
	return 0;
}

/* For node-down and node-left: the life must be the one that is online. */
static int check_life(struct apply *a, const struct vcd_node *n, uint64_t inc)
{
	if (inc < n->incarnation)
		return FAIL(&a->c, -ESTALE,
			    "node %u is %s at incarnation %llu; incarnation %llu is an older life",
			    n->id, vcd_node_state_name(n->state),
			    (unsigned long long)n->incarnation, (unsigned long long)inc);
	return 0;
}

/*
 * node-down: a majority of voters saw this life DOWN and the DC started
 * its fence window.  From here on the life is over for the whole cluster
 * (it cannot be quorate any more), so rule 4 applies to it.
 */
static int op_node_down(struct apply *a)
{
	struct vcd_node *n;
	uint32_t id = 0;
	uint64_t inc = 0;
	int r = node_and_incarnation(a, &id, &inc);

	if (r < 0)
		return r;
	r = existing_node(a, id, &n);
	if (r < 0)
		return r;
	if (n->state == VCD_NODE_DOWN && inc == n->incarnation)
		return FAIL(&a->c, -EALREADY, "node %u is already down at incarnation %llu",
			    id, (unsigned long long)inc);
	if (n->state != VCD_NODE_ONLINE && n->state != VCD_NODE_DOWN)
		return FAIL(&a->c, -EINVAL, "node %u is %s, not online", id,
			    vcd_node_state_name(n->state));
	r = check_life(a, n, inc);
	if (r < 0)
		return r;
	set_state(a, n, VCD_NODE_DOWN);
	n->incarnation = inc;
	return 0;
}

static int parse_fence(struct ctx *c, const json_t *o, struct vcd_fence_rec *rec)
{
	const char *how, *note = "";
	int64_t v = 0;
	int r;

	memset(rec, 0, sizeof(*rec));
	r = get_node_id(c, o, "node", &rec->node_id);
	if (r == 0)
		r = get_u64(c, o, "incarnation", 1, &rec->incarnation);
	if (r == 0)
		r = get_str(c, o, "how", true, &how);
	if (r < 0)
		return r;
	if (strcmp(how, "auto") == 0)
		rec->how = VCD_FENCE_AUTO;
	else if (strcmp(how, "confirmed") == 0)
		rec->how = VCD_FENCE_CONFIRMED;
	else
		return FAIL(c, -EINVAL, "\"how\" must be \"auto\" or \"confirmed\"");
	r = get_int(c, o, "last_heard_age_ms", -1, INT64_MAX, true, &rec->last_heard_age_ms);
	if (r == 0)
		r = get_u64(c, o, "window_ms", 0, &rec->window_ms);
	if (r == 0)
		r = get_int(c, o, "dc", 1, UINT32_MAX, true, &v);
	if (r < 0)
		return r;
	rec->dc_id = (uint32_t)v;
	r = get_u64(c, o, "term", 0, &rec->term);
	if (r == 0)
		r = get_int(c, o, "time_ms", INT64_MIN, INT64_MAX, true, &rec->time_ms);
	if (r < 0)
		return r;
	r = get_str(c, o, "note", false, &note);
	if (r < 0 && r != -ENODATA)
		return r;
	if (strlen(note) >= sizeof(rec->note))
		return FAIL(c, -EINVAL, "\"note\" is longer than %zu bytes",
			    sizeof(rec->note) - 1);
	memcpy(rec->note, note, strlen(note) + 1);
	return 0;
}

/* A fenced life cannot be the target of a move any more: its moves end
 * (the source still holds the resource; a fenced source already let go). */
static void end_moves_to(struct vcd_state *s, uint32_t node, uint64_t inc)
{
	const char *name;
	json_t *res;
	struct vcd_placement p;

	json_object_foreach(s->resources, name, res) {
		if (vcd_resource_placement(res, &p) == 0 && p.to_node == node &&
		    p.to_incarnation <= inc)
			json_object_del(res, "migrating");
	}
}

/*
 * node-fenced: the life is certainly over (strong fencing and the window
 * passed, or an operator confirmed it); its resources may run elsewhere.
 */
static int op_node_fenced(struct apply *a)
{
	struct vcd_fence_rec rec;
	struct vcd_node *n;
	int r = parse_fence(&a->c, a->e, &rec);

	if (r < 0)
		return r;
	a->res->node_id = rec.node_id;
	r = existing_node(a, rec.node_id, &n);
	if (r < 0)
		return r;
	if (n->state == VCD_NODE_FENCED && rec.incarnation <= n->fenced_incarnation)
		return FAIL(&a->c, -EALREADY, "node %u is already fenced at incarnation %llu",
			    n->id, (unsigned long long)n->fenced_incarnation);
	if (n->state != VCD_NODE_ONLINE && n->state != VCD_NODE_DOWN)
		return FAIL(&a->c, -EINVAL, "node %u is %s, not online or down", n->id,
			    vcd_node_state_name(n->state));
	r = check_life(a, n, rec.incarnation);
	if (r < 0)
		return r;
	set_state(a, n, VCD_NODE_FENCED);
	n->incarnation = rec.incarnation;
	n->fenced_incarnation = rec.incarnation;
	n->has_fence = true;
	n->fence = rec;
	end_moves_to(a->s, rec.node_id, rec.incarnation);
	return 0;
}

static int op_node_flags(struct apply *a)
{
	struct vcd_node *n;
	uint32_t id = 0;
	int standby, maint, r;

	r = get_node_id(&a->c, a->e, "node", &id);
	if (r < 0)
		return r;
	a->res->node_id = id;
	standby = get_bool(&a->c, a->e, "standby");
	if (standby == -EINVAL)
		return standby;
	maint = get_bool(&a->c, a->e, "maintenance");
	if (maint == -EINVAL)
		return maint;
	if (standby < 0 && maint < 0)
		return FAIL(&a->c, -EINVAL, "node-flags sets neither \"standby\" nor \"maintenance\"");
	r = node_get(&a->c, a->s, id, &n);
	if (r < 0)
		return r;
	a->res->old_state = a->res->new_state = n->state;
	/* Setting a flag to the value it has is not an error: operators repeat. */
	if (standby >= 0 && n->standby != (bool)standby) {
		n->standby = standby;
		a->res->changed = true;
	}
	if (maint >= 0 && n->maintenance != (bool)maint) {
		n->maintenance = maint;
		a->res->changed = true;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Resource records.  A record is the JSON object kept in s->resources:
 * {"type","definition","node","incarnation","why","removing","failed_on",
 *  "status","note"}; only this file writes them, so reads trust the shape
 * (restore checks snapshots).
 */

static uint64_t rec_uint(const json_t *res, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(res, key));

	return v > 0 ? (uint64_t)v : 0;
}

int vcd_resource_placement(const json_t *res, struct vcd_placement *ret)
{
	if (!json_is_object(res))
		return -EINVAL;
	ret->node = (uint32_t)rec_uint(res, "node");
	ret->incarnation = rec_uint(res, "incarnation");
	ret->removing = json_is_true(json_object_get(res, "removing"));
	ret->to_node = (uint32_t)rec_uint(json_object_get(res, "migrating"), "node");
	ret->to_incarnation = rec_uint(json_object_get(res, "migrating"), "incarnation");
	return 0;
}

const json_t *vcd_state_cluster(const struct vcd_state *s)
{
	return s->cluster;
}

bool vcd_resource_held_by(const json_t *res, uint32_t node, uint64_t incarnation)
{
	struct vcd_placement p;

	if (vcd_resource_placement(res, &p) < 0)
		return false;
	return (p.node == node && p.incarnation == incarnation) ||
	       (p.to_node == node && p.to_incarnation == incarnation);
}

static bool life_over(const struct vcd_state *s, uint32_t node, uint64_t inc)
{
	const struct vcd_node *n;

	if (!node)
		return true;
	n = vcd_state_node(s, node);
	return n && n->fenced_incarnation >= inc;
}

/* Both lives that may hold it (the placement and a move's target). */
bool vcd_state_resource_free(const struct vcd_state *s, const json_t *res)
{
	struct vcd_placement p;

	if (vcd_resource_placement(res, &p) < 0)
		return false;
	return life_over(s, p.node, p.incarnation) &&
	       life_over(s, p.to_node, p.to_incarnation);
}

/* Rule 5: nothing may still be placed on a life that leaves. */
static int check_nothing_placed(struct apply *a, uint32_t id, uint64_t inc)
{
	const char *name, *busy = NULL;
	json_t *res;

	json_object_foreach(a->s->resources, name, res) {
		if (vcd_resource_held_by(res, id, inc) && (!busy || strcmp(name, busy) < 0))
			busy = name;
	}
	if (busy)
		return FAIL(&a->c, -EBUSY,
			    "resource \"%s\" is still placed on node %u; a host leaves after its resources were released (rule 5)",
			    busy, id);
	return 0;
}

/* node-left: a planned leave, recorded after its resources stopped. */
static int op_node_left(struct apply *a)
{
	struct vcd_node *n;
	uint32_t id = 0;
	uint64_t inc = 0;
	int r = node_and_incarnation(a, &id, &inc);

	if (r < 0)
		return r;
	r = existing_node(a, id, &n);
	if (r < 0)
		return r;
	if (n->state != VCD_NODE_ONLINE)
		return FAIL(&a->c, -EINVAL, "node %u is %s, not online; only an online node leaves",
			    id, vcd_node_state_name(n->state));
	if (inc != n->incarnation)
		return FAIL(&a->c, -ESTALE, "node %u is online at incarnation %llu, not %llu",
			    id, (unsigned long long)n->incarnation, (unsigned long long)inc);
	r = check_nothing_placed(a, id, inc);
	if (r < 0)
		return r;
	set_state(a, n, VCD_NODE_LEFT);
	return 0;
}

/* node-leaving: the first step of a planned leave; the placement engine
 * gives this life nothing new while it stops and releases what it runs. */
static int op_node_leaving(struct apply *a)
{
	struct vcd_node *n;
	uint32_t id = 0;
	uint64_t inc = 0;
	int migrate, r = node_and_incarnation(a, &id, &inc);

	if (r < 0)
		return r;
	r = existing_node(a, id, &n);
	if (r < 0)
		return r;
	if (n->state != VCD_NODE_ONLINE || inc != n->incarnation)
		return FAIL(&a->c, -ESTALE, "node %u is not online at incarnation %llu", id,
			    (unsigned long long)inc);
	a->res->old_state = a->res->new_state = n->state;
	migrate = get_bool(&a->c, a->e, "migrate");
	if (migrate == -EINVAL)
		return migrate;
	if (n->leaving_incarnation == inc)
		return FAIL(&a->c, -EALREADY, "node %u is already leaving", id);
	n->leaving_incarnation = inc;
	n->leaving_migrate = migrate == 1;
	a->res->changed = true;
	return 0;
}

/*
 * The placement policy of @name (resource-add, resource-meta): its shape
 * and that it can be met together with every other resource's
 * (policy.c).  Impossible constraints are refused when they are written,
 * not discovered when a host fails.
 */
static int check_meta(struct apply *a, const char *name, const json_t *def,
		      const json_t *meta)
{
	char why[VCD_STATE_WHY_LEN] = "";
	int r;

	if (meta && !json_is_object(meta))
		return FAIL(&a->c, -EINVAL, "\"meta\" must be an object");
	r = vcd_policy_check_def(a->s, name, def, meta, why, sizeof(why));
	if (r < 0)
		return FAIL(&a->c, r, "%s", why[0] ? why : "the placement policy is refused");
	return 0;
}

static int op_resource_add(struct apply *a)
{
	const char *name, *type;
	const json_t *def, *meta;
	json_t *res;
	int r;

	r = get_name(&a->c, a->e, "name", &name);
	if (r == 0)
		r = get_name(&a->c, a->e, "type", &type);
	if (r < 0)
		return r;
	def = json_object_get(a->e, "definition");
	if (!def)
		return FAIL(&a->c, -EINVAL, "\"definition\" is missing");
	snprintf(a->res->resource, sizeof(a->res->resource), "%s", name);
	if (json_object_get(a->s->resources, name))
		return FAIL(&a->c, -EEXIST, "resource \"%s\" exists", name);
	if (json_object_size(a->s->resources) >= VCD_STATE_MAX_RESOURCES)
		return FAIL(&a->c, -ENOSPC, "the resource table is full (%d resources)",
			    VCD_STATE_MAX_RESOURCES);
	meta = json_object_get(a->e, "meta");
	r = check_meta(a, name, def, meta);
	if (r < 0)
		return r;
	res = json_pack("{s:s, s:O, s:i, s:i, s:s, s:b, s:{}, s:s, s:s, s:o, s:b, s:b, s:i, s:i}",
			"type", type, "definition", def, "node", 0, "incarnation", 0, "why", "",
			"removing", 0, "fails", "status", "stopped", "note", "",
			"meta", meta ? json_deep_copy(meta) : json_object(), "enabled", 1,
			"maintenance", 0, "target_node", 0, "frozen_on", 0);
	if (!res || json_object_set_new(a->s->resources, name, res) < 0)
		return FAIL(&a->c, -ENOMEM, "out of memory");
	a->res->changed = true;
	return 0;
}

/* The named resource, with its name in the result. */
static int existing_resource(struct apply *a, const char **name, json_t **res)
{
	int r = get_name(&a->c, a->e, "name", name);

	if (r < 0)
		return r;
	snprintf(a->res->resource, sizeof(a->res->resource), "%s", *name);
	*res = json_object_get(a->s->resources, *name);
	if (!*res)
		return FAIL(&a->c, -ENOENT, "no resource \"%s\"", *name);
	return 0;
}

static void drop_resource(struct apply *a, const char *name)
{
	json_object_del(a->s->resources, name);
	a->res->removed = true;
	a->res->changed = true;
}

/*
 * resource-remove: a resource that runs nowhere goes at once; a placed one
 * is marked "removing", its holder stops it and releases it, and the
 * release removes it.
 */
static int op_resource_remove(struct apply *a)
{
	struct vcd_placement p;
	const char *name;
	json_t *res;
	int r = existing_resource(a, &name, &res);

	if (r < 0)
		return r;
	vcd_resource_placement(res, &p);
	if (!p.node || vcd_state_resource_free(a->s, res)) {
		drop_resource(a, name);
		return 0;
	}
	if (p.removing)
		return FAIL(&a->c, -EALREADY, "resource \"%s\" is already being removed", name);
	if (json_object_set_new(res, "removing", json_true()) < 0)
		return FAIL(&a->c, -ENOMEM, "out of memory");
	a->res->changed = true;
	return 0;
}

static int get_text(struct ctx *c, const json_t *o, const char *key, const char **ret)
{
	int r = get_str(c, o, key, false, ret);

	if (r == -ENODATA) {
		*ret = "";
		return 0;
	}
	if (r == 0 && strlen(*ret) >= VCD_STATE_WHY_LEN)
		return FAIL(c, -EINVAL, "\"%s\" is longer than %d bytes", key,
			    VCD_STATE_WHY_LEN - 1);
	return r;
}

/* Set the record's placement and texts; nothing fails after the checks. */
static int set_placement(json_t *res, uint32_t node, uint64_t inc, const char *why,
			 const char *status, const char *note)
{
	int r = 0;

	r |= json_object_set_new(res, "node", json_integer(node));
	r |= json_object_set_new(res, "incarnation", json_integer((json_int_t)inc));
	if (why)
		r |= json_object_set_new(res, "why", json_string(why));
	r |= json_object_set_new(res, "status", json_string(status));
	r |= json_object_set_new(res, "note", json_string(note));
	return r ? -ENOMEM : 0;
}

/*
 * resource-place: the DC puts a resource on one life of a node.  The
 * safety check of the whole design: the life that held it must be over
 * (fenced) or have released it.
 */
static int op_resource_place(struct apply *a)
{
	struct vcd_placement p;
	const struct vcd_node *n;
	const char *name, *why;
	uint32_t id = 0;
	uint64_t inc = 0;
	json_t *res;
	int r = existing_resource(a, &name, &res);

	if (r == 0)
		r = node_and_incarnation(a, &id, &inc);
	if (r == 0)
		r = get_text(&a->c, a->e, "why", &why);
	if (r < 0)
		return r;
	vcd_resource_placement(res, &p);
	if (p.removing)
		return FAIL(&a->c, -EINVAL, "resource \"%s\" is being removed", name);
	if (p.node == id && p.incarnation == inc)
		return FAIL(&a->c, -EALREADY, "resource \"%s\" is already placed on node %u at incarnation %llu",
			    name, id, (unsigned long long)inc);
	if (!vcd_state_resource_free(a->s, res))
		return FAIL(&a->c, -EBUSY,
			    "resource \"%s\" is placed on node %u (incarnation %llu), which has neither released it nor been fenced",
			    name, p.node, (unsigned long long)p.incarnation);
	n = node_find(a->s, id);
	if (!n || n->state != VCD_NODE_ONLINE || n->incarnation != inc)
		return FAIL(&a->c, -EINVAL, "node %u is not online at incarnation %llu", id,
			    (unsigned long long)inc);
	if (set_placement(res, id, inc, why, "placed", "") < 0 ||
	    json_object_set_new(res, "frozen_on", json_integer(0)) < 0)
		return FAIL(&a->c, -ENOMEM, "out of memory");
	a->res->changed = true;
	return 0;
}

/* The entry's (node, incarnation) must be the resource's holder. */
static int check_holder(struct apply *a, const char *name, const json_t *res,
			uint32_t id, uint64_t inc)
{
	struct vcd_placement p;

	vcd_resource_placement(res, &p);
	if (p.node != id || p.incarnation != inc)
		return FAIL(&a->c, -ESTALE,
			    "resource \"%s\" is not placed on node %u at incarnation %llu (it is on node %u at %llu)",
			    name, id, (unsigned long long)inc, p.node,
			    (unsigned long long)p.incarnation);
	return 0;
}

/* resource-release: the holder stopped it (or it failed there). */
static int op_resource_release(struct apply *a)
{
	const char *name, *note;
	uint32_t id = 0;
	uint64_t inc = 0;
	json_t *res;
	int failed, frozen, r = existing_resource(a, &name, &res);

	if (r == 0)
		r = node_and_incarnation(a, &id, &inc);
	if (r == 0)
		r = get_text(&a->c, a->e, "note", &note);
	if (r < 0)
		return r;
	failed = get_bool(&a->c, a->e, "failed");
	frozen = get_bool(&a->c, a->e, "frozen");
	if (failed == -EINVAL || frozen == -EINVAL)
		return -EINVAL;
	r = check_holder(a, name, res, id, inc);
	if (r < 0)
		return r;
	if (json_object_get(res, "migrating"))
		return FAIL(&a->c, -EBUSY,
			    "resource \"%s\" is moving; the move ends (resource-migrated or -abort) before a release",
			    name);
	if (json_is_true(json_object_get(res, "removing"))) {
		drop_resource(a, name);
		return 0;
	}
	if ((frozen == 1 && json_object_set_new(res, "frozen_on", json_integer(id)) < 0) ||
	    set_placement(res, 0, 0, NULL, failed == 1 ? "failed" : "stopped", note) < 0)
		return FAIL(&a->c, -ENOMEM, "out of memory");
	a->res->changed = true;
	return 0;
}

static const char *const res_statuses[] = {
	"starting", "running", "stopping", "stopped", "failed", NULL
};

/* resource-status: what the holder reports; only recorded. */
static int op_resource_status(struct apply *a)
{
	const char *name, *status, *note;
	uint32_t id = 0;
	uint64_t inc = 0;
	json_t *res;
	int r = existing_resource(a, &name, &res);

	if (r == 0)
		r = node_and_incarnation(a, &id, &inc);
	if (r == 0)
		r = get_str(&a->c, a->e, "status", true, &status);
	if (r == 0)
		r = get_text(&a->c, a->e, "note", &note);
	if (r < 0)
		return r;
	if (!key_in(status, res_statuses))
		return FAIL(&a->c, -EINVAL,
			    "\"status\" must be starting, running, stopping, stopped or failed");
	r = check_holder(a, name, res, id, inc);
	if (r < 0)
		return r;
	if (json_object_set_new(res, "status", json_string(status)) < 0 ||
	    json_object_set_new(res, "note", json_string(note)) < 0)
		return FAIL(&a->c, -ENOMEM, "out of memory");
	a->res->changed = true;
	return 0;
}

static int op_node_capacity(struct apply *a)
{
	struct vcd_node *n;
	uint32_t id = 0;
	int64_t cpus = 0, mem = 0;
	int r = get_node_id(&a->c, a->e, "node", &id);

	if (r == 0)
		r = get_int(&a->c, a->e, "cpus", 0, UINT32_MAX, true, &cpus);
	if (r == 0)
		r = get_int(&a->c, a->e, "memory_kib", 0, INT64_MAX, true, &mem);
	if (r < 0)
		return r;
	a->res->node_id = id;
	r = node_get(&a->c, a->s, id, &n);
	if (r < 0)
		return r;
	a->res->old_state = a->res->new_state = n->state;
	if (n->cpus == (uint32_t)cpus && n->memory_kib == (uint64_t)mem)
		return 0;
	n->cpus = (uint32_t)cpus;
	n->memory_kib = (uint64_t)mem;
	a->res->changed = true;
	return 0;
}

/* resource-meta: a new placement policy, checked like at resource-add. */
static int op_resource_meta(struct apply *a)
{
	const json_t *meta = json_object_get(a->e, "meta");
	const char *name;
	json_t *res, *copy;
	int r = existing_resource(a, &name, &res);

	if (r < 0)
		return r;
	if (!meta)
		return FAIL(&a->c, -EINVAL, "\"meta\" is missing");
	r = check_meta(a, name, json_object_get(res, "definition"), meta);
	if (r < 0)
		return r;
	if (json_equal(json_object_get(res, "meta"), (json_t *)meta))
		return 0;
	copy = json_deep_copy(meta);
	if (!copy || json_object_set_new(res, "meta", copy) < 0)
		return FAIL(&a->c, -ENOMEM, "out of memory");
	a->res->changed = true;
	return 0;
}

/* Set @key to @v when it differs; the change is noted in the result. */
static int set_field(struct apply *a, json_t *res, const char *key, json_t *v)
{
	if (!v)
		return FAIL(&a->c, -ENOMEM, "out of memory");
	if (json_equal(json_object_get(res, key), v)) {
		json_decref(v);
		return 0;
	}
	if (json_object_set_new(res, key, v) < 0)
		return FAIL(&a->c, -ENOMEM, "out of memory");
	a->res->changed = true;
	return 0;
}

/*
 * resource-flags: enable/disable, maintenance, and the target of
 * `resource move` (0 clears it).  Operators repeat themselves: setting a
 * value it has is no error.
 */
static int op_resource_flags(struct apply *a)
{
	int enabled, maint, r;
	int64_t target = -1;
	const char *name;
	json_t *res;

	r = existing_resource(a, &name, &res);
	if (r < 0)
		return r;
	enabled = get_bool(&a->c, a->e, "enabled");
	maint = get_bool(&a->c, a->e, "maintenance");
	if (enabled == -EINVAL || maint == -EINVAL)
		return -EINVAL;
	r = get_int(&a->c, a->e, "target_node", 0, UINT32_MAX, false, &target);
	if (r == -EINVAL)
		return r;
	if (enabled < 0 && maint < 0 && target < 0)
		return FAIL(&a->c, -EINVAL,
			    "resource-flags sets none of \"enabled\", \"maintenance\", \"target_node\"");
	if (target > 0 && !node_find(a->s, (uint32_t)target))
		return FAIL(&a->c, -ENOENT, "no node %lld in the cluster", (long long)target);
	if (enabled >= 0 && set_field(a, res, "enabled", json_boolean(enabled)) < 0)
		return -ENOMEM;
	if (maint >= 0 && set_field(a, res, "maintenance", json_boolean(maint)) < 0)
		return -ENOMEM;
	if (target >= 0 && set_field(a, res, "target_node", json_integer(target)) < 0)
		return -ENOMEM;
	return 0;
}

/*
 * resource-fail: its holder saw it fail (a crash, a failed start or
 * monitor).  The count per node and the time of the last failure are what
 * the policy's migration threshold and failure timeout read (policy.h).
 */
static int op_resource_fail(struct apply *a)
{
	const char *name, *note;
	uint32_t id = 0;
	uint64_t inc = 0;
	int64_t time_ms = 0;
	struct vcd_policy pol;
	uint32_t count;
	char key[16];
	json_t *res, *fails, *f;
	int r = existing_resource(a, &name, &res);

	if (r == 0)
		r = node_and_incarnation(a, &id, &inc);
	if (r == 0)
		r = get_int(&a->c, a->e, "time_ms", 0, INT64_MAX, true, &time_ms);
	if (r == 0)
		r = get_text(&a->c, a->e, "note", &note);
	if (r < 0)
		return r;
	a->res->node_id = id;
	if (!vcd_resource_held_by(res, id, inc))
		return check_holder(a, name, res, id, inc);
	/* Expired failures no longer count: the count starts again (the
	 * policy's failure timeout, from the entry's own time). */
	vcd_policy_of(res, &pol);
	count = vcd_policy_failcount(res, &pol, id, time_ms);
	vcd_policy_free(&pol);
	snprintf(key, sizeof(key), "%u", id);
	fails = json_object_get(res, "fails");
	f = json_pack("{s:I, s:I}", "count", (json_int_t)count + 1, "last_ms",
		      (json_int_t)time_ms);
	if (!f || json_object_set_new(fails, key, f) < 0 ||
	    json_object_set_new(res, "note", json_string(note)) < 0)
		return FAIL(&a->c, -ENOMEM, "out of memory");
	a->res->changed = true;
	return 0;
}

/* resource-cleanup: forget failures on one node (or all, node 0). */
static int op_resource_cleanup(struct apply *a)
{
	const char *name;
	int64_t node = 0;
	char key[16];
	json_t *res, *fails;
	int r = existing_resource(a, &name, &res);

	if (r == 0)
		r = get_int(&a->c, a->e, "node", 0, UINT32_MAX, true, &node);
	if (r < 0)
		return r;
	a->res->node_id = (uint32_t)node;
	fails = json_object_get(res, "fails");
	if (node == 0) {
		if (json_object_size(fails))
			a->res->changed = true;
		json_object_clear(fails);
		return 0;
	}
	snprintf(key, sizeof(key), "%lld", (long long)node);
	if (json_object_del(fails, key) == 0)
		a->res->changed = true;
	return 0;
}

/* An online life, as the target or the source of a move. */
static int online_life(struct apply *a, uint32_t id, uint64_t inc)
{
	const struct vcd_node *n = node_find(a->s, id);

	if (!n || n->state != VCD_NODE_ONLINE || n->incarnation != inc)
		return FAIL(&a->c, -EINVAL, "node %u is not online at incarnation %llu", id,
			    (unsigned long long)inc);
	return 0;
}

/*
 * resource-migrate: the DC starts a planned move from the life that runs
 * it to another online life.  Both hold it until the move ends.
 */
static int op_resource_migrate(struct apply *a)
{
	uint32_t id = 0, from = 0;
	uint64_t inc = 0, from_inc = 0;
	struct vcd_placement p;
	const char *name, *why;
	json_t *res, *mig;
	int r = existing_resource(a, &name, &res);

	if (r == 0)
		r = node_and_incarnation(a, &id, &inc);
	if (r == 0)
		r = get_node_id(&a->c, a->e, "from_node", &from);
	if (r == 0)
		r = get_u64(&a->c, a->e, "from_incarnation", 1, &from_inc);
	if (r == 0)
		r = get_text(&a->c, a->e, "why", &why);
	if (r < 0)
		return r;
	a->res->node_id = id;
	vcd_resource_placement(res, &p);
	if (p.removing)
		return FAIL(&a->c, -EINVAL, "resource \"%s\" is being removed", name);
	if (p.to_node)
		return FAIL(&a->c, -EBUSY, "resource \"%s\" is already moving to node %u", name,
			    p.to_node);
	r = check_holder(a, name, res, from, from_inc);
	if (r == 0 && id == from)
		r = FAIL(&a->c, -EINVAL, "resource \"%s\" is on node %u already", name, id);
	if (r == 0)
		r = online_life(a, from, from_inc);
	if (r == 0)
		r = online_life(a, id, inc);
	if (r < 0)
		return r;
	mig = json_pack("{s:i, s:I}", "node", (int)id, "incarnation", (json_int_t)inc);
	if (!mig || json_object_set_new(res, "migrating", mig) < 0 ||
	    json_object_set_new(res, "why", json_string(why)) < 0)
		return FAIL(&a->c, -ENOMEM, "out of memory");
	a->res->changed = true;
	return 0;
}

/*
 * resource-migrated: the move ended with the target running it (a live
 * migration handed over) or ready to start it (a stopped resource moved);
 * the target alone holds it now.
 */
static int op_resource_migrated(struct apply *a)
{
	const char *name, *status = "placed", *note;
	struct vcd_placement p;
	uint32_t id = 0;
	uint64_t inc = 0;
	json_t *res;
	int r = existing_resource(a, &name, &res);

	if (r == 0)
		r = node_and_incarnation(a, &id, &inc);
	if (r == 0)
		r = get_text(&a->c, a->e, "note", &note);
	if (r == 0 && get_str(&a->c, a->e, "status", false, &status) == -EINVAL)
		r = -EINVAL;
	if (r < 0)
		return r;
	a->res->node_id = id;
	if (strcmp(status, "placed") != 0 && !key_in(status, res_statuses))
		return FAIL(&a->c, -EINVAL,
			    "\"status\" must be placed, starting, running, stopping, stopped or failed");
	vcd_resource_placement(res, &p);
	if (p.to_node != id || p.to_incarnation != inc)
		return FAIL(&a->c, -ESTALE, "resource \"%s\" is not moving to node %u at incarnation %llu",
			    name, id, (unsigned long long)inc);
	json_object_del(res, "migrating");
	if (set_placement(res, id, inc, NULL, status, note) < 0)
		return FAIL(&a->c, -ENOMEM, "out of memory");
	a->res->changed = true;
	return 0;
}

/* resource-migrate-abort: the move failed; the source keeps it. */
static int op_resource_migrate_abort(struct apply *a)
{
	const char *name, *note;
	uint32_t reporter = 0;
	json_t *res;
	int r = existing_resource(a, &name, &res);

	if (r == 0)
		r = get_node_id(&a->c, a->e, "node", &reporter);
	if (r == 0)
		r = get_text(&a->c, a->e, "note", &note);
	if (r < 0)
		return r;
	a->res->node_id = reporter;
	if (!json_object_get(res, "migrating"))
		return FAIL(&a->c, -EALREADY, "resource \"%s\" is not moving", name);
	json_object_del(res, "migrating");
	if (json_object_set_new(res, "note", json_string(note)) < 0)
		return FAIL(&a->c, -ENOMEM, "out of memory");
	a->res->changed = true;
	return 0;
}

static const char *const shutdown_policies[] = { "migrate", "stop", "freeze", NULL };

/* cluster-set: maintenance for the whole cluster, the shutdown policy and
 * how many planned moves run at once. */
static int op_cluster_set(struct apply *a)
{
	const char *policy = NULL;
	int64_t mmax = -1;
	int maint, r;

	maint = get_bool(&a->c, a->e, "maintenance");
	if (maint == -EINVAL)
		return maint;
	r = get_str(&a->c, a->e, "shutdown_policy", false, &policy);
	if (r == -EINVAL)
		return r;
	if (policy && !key_in(policy, shutdown_policies))
		return FAIL(&a->c, -EINVAL, "\"shutdown_policy\" must be migrate, stop or freeze");
	r = get_int(&a->c, a->e, "migrate_max", 1, VCD_STATE_MAX_MIGRATE_MAX, false, &mmax);
	if (r == -EINVAL)
		return r;
	if (maint < 0 && !policy && mmax < 0)
		return FAIL(&a->c, -EINVAL,
			    "cluster-set sets none of \"maintenance\", \"shutdown_policy\", \"migrate_max\"");
	if (maint >= 0 && set_field(a, a->s->cluster, "maintenance", json_boolean(maint)) < 0)
		return -ENOMEM;
	if (policy && set_field(a, a->s->cluster, "shutdown_policy", json_string(policy)) < 0)
		return -ENOMEM;
	if (mmax > 0 && set_field(a, a->s->cluster, "migrate_max", json_integer(mmax)) < 0)
		return -ENOMEM;
	return 0;
}

#define KEYS(...) ((const char *const[]){ "v", "op", __VA_ARGS__, NULL })

static const struct op_desc {
	enum vcd_op op;
	int (*apply)(struct apply *a);
	const char *const *keys;
	bool history;		/* a decision record for `vclusterctl history` */
} op_table[] = {
	{ VCD_OP_NODE_UP, op_node_up, KEYS("node", "incarnation"), true },
	{ VCD_OP_NODE_DOWN, op_node_down, KEYS("node", "incarnation"), true },
	{ VCD_OP_NODE_FENCED, op_node_fenced,
	  KEYS("node", "incarnation", "how", "last_heard_age_ms", "window_ms", "dc",
	       "term", "time_ms", "note"), true },
	{ VCD_OP_NODE_FLAGS, op_node_flags, KEYS("node", "standby", "maintenance"), true },
	{ VCD_OP_NODE_LEFT, op_node_left, KEYS("node", "incarnation"), true },
	{ VCD_OP_RESOURCE_ADD, op_resource_add, KEYS("name", "type", "definition", "meta"),
	  false },
	{ VCD_OP_RESOURCE_REMOVE, op_resource_remove, KEYS("name"), false },
	{ VCD_OP_RESOURCE_PLACE, op_resource_place, KEYS("name", "node", "incarnation", "why"),
	  true },
	{ VCD_OP_RESOURCE_RELEASE, op_resource_release,
	  KEYS("name", "node", "incarnation", "failed", "frozen", "note"), true },
	{ VCD_OP_RESOURCE_STATUS, op_resource_status,
	  KEYS("name", "node", "incarnation", "status", "note"), false },
	{ VCD_OP_NODE_CAPACITY, op_node_capacity, KEYS("node", "cpus", "memory_kib"), false },
	{ VCD_OP_NODE_LEAVING, op_node_leaving, KEYS("node", "incarnation", "migrate"), true },
	{ VCD_OP_RESOURCE_META, op_resource_meta, KEYS("name", "meta"), true },
	{ VCD_OP_RESOURCE_FLAGS, op_resource_flags,
	  KEYS("name", "enabled", "maintenance", "target_node"), true },
	{ VCD_OP_RESOURCE_FAIL, op_resource_fail,
	  KEYS("name", "node", "incarnation", "time_ms", "note"), true },
	{ VCD_OP_RESOURCE_CLEANUP, op_resource_cleanup, KEYS("name", "node"), true },
	{ VCD_OP_RESOURCE_MIGRATE, op_resource_migrate,
	  KEYS("name", "node", "incarnation", "from_node", "from_incarnation", "why"), true },
	{ VCD_OP_RESOURCE_MIGRATED, op_resource_migrated,
	  KEYS("name", "node", "incarnation", "status", "note"), true },
	{ VCD_OP_RESOURCE_MIGRATE_ABORT, op_resource_migrate_abort, KEYS("name", "node", "note"),
	  true },
	{ VCD_OP_CLUSTER_SET, op_cluster_set,
	  KEYS("maintenance", "shutdown_policy", "migrate_max"), true },
};

static const struct op_desc *op_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(op_table) / sizeof(op_table[0]); i++)
		if (strcmp(name, op_names[op_table[i].op]) == 0)
			return &op_table[i];
	return NULL;
}

/* The record for `history`: the entry without "v", with its raft index. */
static json_t *history_record(const json_t *e, uint64_t index)
{
	json_t *h = json_deep_copy(e);

	if (!h)
		return NULL;
	json_object_del(h, "v");
	if (json_object_set_new(h, "index", json_integer((json_int_t)index)) < 0) {
		json_decref(h);
		return NULL;
	}
	return h;
}

static int history_append(struct vcd_state *s, json_t *h)
{
	if (json_array_append_new(s->history, h) < 0)
		return -ENOMEM;
	while (json_array_size(s->history) > VCD_STATE_HISTORY)
		json_array_remove(s->history, 0);
	return 0;
}

/* Version and op: the part every entry shares. */
static int entry_header(struct ctx *c, const json_t *e, const struct op_desc **ret)
{
	const json_t *v;
	const char *op;
	int r;

	if (!json_is_object(e))
		return FAIL(c, -EINVAL, "entry is not a JSON object");
	v = json_object_get(e, "v");
	if (!v)
		return FAIL(c, -EINVAL, "entry has no version \"v\"");
	if (!json_is_integer(v) || json_integer_value(v) != VCD_STATE_VERSION)
		return FAIL(c, -EPROTONOSUPPORT,
			    "entry version is not supported (this agent applies version %d)",
			    VCD_STATE_VERSION);
	r = get_str(c, e, "op", true, &op);
	if (r < 0)
		return r;
	*ret = op_find(op);
	if (!*ret)
		return FAIL(c, -EOPNOTSUPP, "unknown op \"%.64s\"", op);
	return 0;
}

int vcd_state_apply(struct vcd_state *s, const void *buf, size_t len, uint64_t index,
		    struct vcd_apply_result *res, char *why, size_t why_size)
{
	struct vcd_apply_result dummy;
	struct apply a = { .c = { why, why_size }, .s = s, .res = res ? res : &dummy };
	const struct op_desc *d;
	json_error_t jerr;
	json_t *e, *h = NULL;
	int r;

	memset(a.res, 0, sizeof(*a.res));
	if (why && why_size)
		why[0] = '\0';
	/* The entry is consumed whatever its fate: rejected ones are no-ops. */
	s->applied_index = index;
	e = json_loadb(buf, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (!e)
		return FAIL(&a.c, -EINVAL, "entry is not JSON: %s at byte %d", jerr.text,
			    jerr.position);
	a.e = e;
	r = entry_header(&a.c, e, &d);
	if (r < 0)
		goto out;
	a.res->op = d->op;
	r = check_keys(&a.c, e, d->keys, op_names[d->op]);
	if (r < 0)
		goto out;
	/* Allocate the record first: after the change nothing may fail. */
	if (d->history) {
		h = history_record(e, index);
		if (!h) {
			r = FAIL(&a.c, -ENOMEM, "out of memory");
			goto out;
		}
	}
	r = d->apply(&a);
	if (r == 0 && h && a.res->changed) {
		r = history_append(s, h);
		h = NULL;
	}
out:
	if (r < 0)
		a.res->changed = false;
	json_decref(h);
	json_decref(e);
	return r;
}

/* ------------------------------------------------------------------------
 * JSON of the whole state: status, snapshot, restore.
 */

static json_t *fence_json(const struct vcd_fence_rec *f)
{
	return json_pack("{s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:s}",
			 "node", (json_int_t)f->node_id,
			 "incarnation", (json_int_t)f->incarnation,
			 "how", vcd_fence_how_name(f->how),
			 "last_heard_age_ms", (json_int_t)f->last_heard_age_ms,
			 "window_ms", (json_int_t)f->window_ms,
			 "dc", (json_int_t)f->dc_id,
			 "term", (json_int_t)f->term,
			 "time_ms", (json_int_t)f->time_ms,
			 "note", f->note);
}

static json_t *node_json(const struct vcd_node *n)
{
	json_t *o = json_pack("{s:I, s:I, s:s, s:I, s:I, s:b, s:b, s:I, s:I}",
			      "leaving_incarnation", (json_int_t)n->leaving_incarnation,
			      "id", (json_int_t)n->id,
			      "state", vcd_node_state_name(n->state),
			      "incarnation", (json_int_t)n->incarnation,
			      "fenced_incarnation", (json_int_t)n->fenced_incarnation,
			      "standby", n->standby,
			      "maintenance", n->maintenance,
			      "cpus", (json_int_t)n->cpus,
			      "memory_kib", (json_int_t)n->memory_kib);

	if (o && n->has_fence && json_object_set_new(o, "last_fence", fence_json(&n->fence)) < 0) {
		json_decref(o);
		return NULL;
	}
	/* Only while it matters, so that other states' bytes stay as they were. */
	if (o && n->leaving_migrate && json_object_set_new(o, "leaving_migrate", json_true()) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *vcd_state_to_json(const struct vcd_state *s)
{
	json_t *nodes = json_array(), *o;
	size_t i;

	if (!nodes)
		return NULL;
	for (i = 0; i < s->n_nodes; i++) {
		if (json_array_append_new(nodes, node_json(&s->nodes[i])) < 0) {
			json_decref(nodes);
			return NULL;
		}
	}
	o = json_pack("{s:I, s:o, s:O, s:O}", "applied_index", (json_int_t)s->applied_index,
		      "nodes", nodes, "resources", s->resources, "cluster", s->cluster);
	return o;
}

json_t *vcd_state_history_json(const struct vcd_state *s)
{
	return json_deep_copy(s->history);
}

int vcd_state_snapshot(const struct vcd_state *s, void **ret_buf, size_t *ret_len)
{
	json_t *o = vcd_state_to_json(s);
	char *text;

	if (!o)
		return -ENOMEM;
	if (json_object_set_new(o, "v", json_integer(VCD_STATE_VERSION)) < 0 ||
	    json_object_set(o, "history", s->history) < 0) {
		json_decref(o);
		return -ENOMEM;
	}
	text = json_dumps(o, ENTRY_FLAGS);
	json_decref(o);
	if (!text)
		return -ENOMEM;
	*ret_buf = text;
	*ret_len = strlen(text);
	return 0;
}

static const char *const node_keys[] = {
	"id", "state", "incarnation", "fenced_incarnation", "standby", "maintenance",
	"last_fence", "cpus", "memory_kib", "leaving_incarnation", "leaving_migrate", NULL
};
static const char *const fence_keys[] = {
	"node", "incarnation", "how", "last_heard_age_ms", "window_ms", "dc", "term",
	"time_ms", "note", NULL
};

/* Snapshots from before node-capacity have none: 0. */
static int restore_capacity(struct ctx *c, const json_t *o, struct vcd_node *n)
{
	int64_t v = 0;
	int r = get_int(c, o, "cpus", 0, UINT32_MAX, false, &v);

	if (r < 0 && r != -ENODATA)
		return r;
	n->cpus = r == 0 ? (uint32_t)v : 0;
	r = get_int(c, o, "memory_kib", 0, INT64_MAX, false, &v);
	if (r < 0 && r != -ENODATA)
		return r;
	n->memory_kib = r == 0 ? (uint64_t)v : 0;
	r = get_int(c, o, "leaving_incarnation", 0, INT64_MAX, false, &v);
	if (r < 0 && r != -ENODATA)
		return r;
	n->leaving_incarnation = r == 0 ? (uint64_t)v : 0;
	r = get_bool(c, o, "leaving_migrate");
	if (r == -EINVAL)
		return r;
	n->leaving_migrate = r == 1;
	return 0;
}

static int restore_node(struct ctx *c, const json_t *o, struct vcd_node *n)
{
	const json_t *f;
	const char *st;
	int r, b;

	memset(n, 0, sizeof(*n));
	if (!json_is_object(o))
		return FAIL(c, -EINVAL, "a node is not an object");
	r = check_keys(c, o, node_keys, "a node");
	if (r == 0)
		r = get_node_id(c, o, "id", &n->id);
	if (r == 0)
		r = get_str(c, o, "state", true, &st);
	if (r < 0)
		return r;
	if (parse_state_name(st, &n->state) < 0)
		return FAIL(c, -EINVAL, "node %u: unknown state \"%.32s\"", n->id, st);
	r = get_u64(c, o, "incarnation", 0, &n->incarnation);
	if (r == 0)
		r = get_u64(c, o, "fenced_incarnation", 0, &n->fenced_incarnation);
	if (r < 0)
		return r;
	b = get_bool(c, o, "standby");
	n->standby = b == 1;
	if (b == -EINVAL)
		return b;
	b = get_bool(c, o, "maintenance");
	n->maintenance = b == 1;
	if (b == -EINVAL)
		return b;
	r = restore_capacity(c, o, n);
	if (r < 0)
		return r;
	f = json_object_get(o, "last_fence");
	if (!f)
		return 0;
	if (!json_is_object(f))
		return FAIL(c, -EINVAL, "node %u: \"last_fence\" is not an object", n->id);
	r = check_keys(c, f, fence_keys, "a fence record");
	if (r == 0)
		r = parse_fence(c, f, &n->fence);
	n->has_fence = r == 0;
	return r;
}

static int restore_nodes(struct ctx *c, const json_t *nodes, struct vcd_state *s)
{
	size_t i;
	int r;

	if (!json_is_array(nodes))
		return FAIL(c, -EINVAL, "\"nodes\" is not an array");
	if (json_array_size(nodes) > VCD_STATE_MAX_NODES)
		return FAIL(c, -EINVAL, "more than %d nodes", VCD_STATE_MAX_NODES);
	for (i = 0; i < json_array_size(nodes); i++) {
		r = restore_node(c, json_array_get(nodes, i), &s->nodes[i]);
		if (r < 0)
			return r;
		if (i > 0 && s->nodes[i].id <= s->nodes[i - 1].id)
			return FAIL(c, -EINVAL, "nodes are not ordered by id");
		s->n_nodes = i + 1;
	}
	return 0;
}

static const char *const resource_keys[] = {
	"type", "definition", "node", "incarnation", "why", "removing", "failed_on",
	"status", "note", "fails", "meta", "enabled", "maintenance", "target_node",
	"frozen_on", "migrating", NULL
};

static int restore_placement(struct ctx *c, const char *name, json_t *v);

static int restore_resources(struct ctx *c, const json_t *res)
{
	const char *name, *type;
	json_t *v;
	int r;

	if (!json_is_object(res))
		return FAIL(c, -EINVAL, "\"resources\" is not an object");
	if (json_object_size(res) > VCD_STATE_MAX_RESOURCES)
		return FAIL(c, -EINVAL, "more than %d resources", VCD_STATE_MAX_RESOURCES);
	json_object_foreach((json_t *)res, name, v) {
		if (!name_ok(name))
			return FAIL(c, -EINVAL, "bad resource name \"%.64s\"", name);
		if (!json_is_object(v))
			return FAIL(c, -EINVAL, "resource \"%s\" is not an object", name);
		r = check_keys(c, v, resource_keys, "a resource");
		if (r == 0)
			r = get_name(c, v, "type", &type);
		if (r < 0)
			return r;
		if (!json_object_get(v, "definition"))
			return FAIL(c, -EINVAL, "resource \"%s\" has no definition", name);
		r = restore_placement(c, name, v);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Every field a record has, with its JSON type. */
static int restore_placement(struct ctx *c, const char *name, json_t *v)
{
	static const struct {
		const char *key;
		json_type type;
		bool optional;
	} fields[] = {
		{ "node", JSON_INTEGER, false }, { "incarnation", JSON_INTEGER, false },
		{ "why", JSON_STRING, false }, { "status", JSON_STRING, false },
		{ "note", JSON_STRING, false },
		/* Older snapshots lack the policy fields, and had "failed_on". */
		{ "failed_on", JSON_ARRAY, true }, { "fails", JSON_OBJECT, true },
		{ "meta", JSON_OBJECT, true }, { "target_node", JSON_INTEGER, true },
		{ "frozen_on", JSON_INTEGER, true }, { "migrating", JSON_OBJECT, true },
	};
	const json_t *f;
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		f = json_object_get(v, fields[i].key);
		if (!f && fields[i].optional)
			continue;
		if (!f || json_typeof(f) != fields[i].type)
			return FAIL(c, -EINVAL, "resource \"%s\": bad or missing \"%s\"", name,
				    fields[i].key);
	}
	for (i = 0; i < 2; i++) {
		f = json_object_get(v, i ? "maintenance" : "enabled");
		if (f && !json_is_boolean(f))
			return FAIL(c, -EINVAL, "resource \"%s\": bad \"%s\"", name,
				    i ? "maintenance" : "enabled");
	}
	if (!json_is_boolean(json_object_get(v, "removing")))
		return FAIL(c, -EINVAL, "resource \"%s\": bad or missing \"removing\"", name);
	return 0;
}

static int restore_history(struct ctx *c, const json_t *h)
{
	int64_t idx;
	size_t i;
	int r;

	if (!json_is_array(h))
		return FAIL(c, -EINVAL, "\"history\" is not an array");
	if (json_array_size(h) > VCD_STATE_HISTORY)
		return FAIL(c, -EINVAL, "more than %d history records", VCD_STATE_HISTORY);
	for (i = 0; i < json_array_size(h); i++) {
		const json_t *rec = json_array_get(h, i);

		if (!json_is_object(rec) || !json_is_string(json_object_get(rec, "op")))
			return FAIL(c, -EINVAL, "history record %zu has no \"op\"", i);
		r = get_int(c, rec, "index", 0, INT64_MAX, true, &idx);
		if (r < 0)
			return r;
	}
	return 0;
}

static json_t *cluster_defaults(void)
{
	return json_pack("{s:b, s:s, s:i}", "maintenance", 0, "shutdown_policy", "migrate",
			 "migrate_max", VCD_STATE_DEFAULT_MIGRATE_MAX);
}

/* The cluster properties, through cluster-set's own checks (absent in
 * older snapshots: the defaults). */
static int restore_cluster(struct ctx *c, const json_t *cl, struct vcd_state *s)
{
	struct vcd_apply_result res;
	struct apply a = { .c = *c, .s = s, .e = cl, .res = &res };
	static const char *const keys[] = {
		"maintenance", "shutdown_policy", "migrate_max", NULL
	};
	int r;

	s->cluster = cluster_defaults();
	if (!s->cluster)
		return FAIL(c, -ENOMEM, "out of memory");
	if (!cl)
		return 0;
	if (!json_is_object(cl))
		return FAIL(c, -EINVAL, "\"cluster\" is not an object");
	r = check_keys(c, cl, keys, "\"cluster\"");
	if (r < 0 || json_object_size(cl) == 0)
		return r;
	return op_cluster_set(&a);
}

static int restore_into(struct ctx *c, const json_t *o, struct vcd_state *s)
{
	static const char *const top_keys[] = {
		"v", "applied_index", "nodes", "resources", "history", "cluster", NULL
	};
	const json_t *v = json_object_get(o, "v");
	int r;

	if (!v)
		return FAIL(c, -EINVAL, "snapshot has no version \"v\"");
	if (!json_is_integer(v) || json_integer_value(v) != VCD_STATE_VERSION)
		return FAIL(c, -EPROTONOSUPPORT,
			    "snapshot version is not supported (this agent reads version %d)",
			    VCD_STATE_VERSION);
	r = check_keys(c, o, top_keys, "the snapshot");
	if (r == 0)
		r = get_u64(c, o, "applied_index", 0, &s->applied_index);
	if (r == 0)
		r = restore_nodes(c, json_object_get(o, "nodes"), s);
	if (r == 0)
		r = restore_resources(c, json_object_get(o, "resources"));
	if (r == 0)
		r = restore_history(c, json_object_get(o, "history"));
	if (r < 0)
		return r;
	if (r == 0)
		r = restore_cluster(c, json_object_get(o, "cluster"), s);
	if (r < 0)
		return r;
	s->resources = json_deep_copy(json_object_get(o, "resources"));
	s->history = json_deep_copy(json_object_get(o, "history"));
	if (!s->resources || !s->history)
		return FAIL(c, -ENOMEM, "out of memory");
	return 0;
}

static void state_clear(struct vcd_state *s)
{
	json_decref(s->cluster);
	json_decref(s->resources);
	json_decref(s->history);
	memset(s, 0, sizeof(*s));
}

int vcd_state_restore(struct vcd_state *s, const void *buf, size_t len,
		      char *why, size_t why_size)
{
	struct ctx c = { why, why_size };
	struct vcd_state *tmp;
	json_error_t jerr;
	json_t *o;
	int r;

	if (why && why_size)
		why[0] = '\0';
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return FAIL(&c, -EINVAL, "snapshot is not JSON: %s at byte %d", jerr.text,
			    jerr.position);
	tmp = calloc(1, sizeof(*tmp));
	if (!tmp) {
		json_decref(o);
		return FAIL(&c, -ENOMEM, "out of memory");
	}
	r = json_is_object(o) ? restore_into(&c, o, tmp)
			      : FAIL(&c, -EINVAL, "snapshot is not a JSON object");
	json_decref(o);
	if (r == 0) {
		/* Replace only once everything parsed: a bad snapshot changes nothing. */
		state_clear(s);
		*s = *tmp;
		tmp->resources = tmp->history = tmp->cluster = NULL;
	}
	state_clear(tmp);
	free(tmp);
	return r;
}

int vcd_state_new(struct vcd_state **ret)
{
	struct vcd_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->resources = json_object();
	s->history = json_array();
	s->cluster = cluster_defaults();
	if (!s->resources || !s->history || !s->cluster) {
		vcd_state_free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

void vcd_state_free(struct vcd_state *s)
{
	if (!s)
		return;
	state_clear(s);
	free(s);
}

/* ------------------------------------------------------------------------
 * Entry encoders.
 */

static int dump(json_t *o, char **ret, size_t *ret_len)
{
	char *text;

	if (!o)
		return -ENOMEM;
	text = json_dumps(o, ENTRY_FLAGS);
	json_decref(o);
	if (!text)
		return -ENOMEM;
	*ret = text;
	*ret_len = strlen(text);
	return 0;
}

static json_t *entry_new(enum vcd_op op)
{
	return json_pack("{s:i, s:s}", "v", VCD_STATE_VERSION, "op", op_names[op]);
}

static int entry_node_life(enum vcd_op op, uint32_t node, uint64_t inc, char **ret,
			   size_t *ret_len)
{
	json_t *o;

	if (node == 0 || inc == 0 || inc > INT64_MAX)
		return -EINVAL;
	o = entry_new(op);
	if (o && (json_object_set_new(o, "node", json_integer(node)) < 0 ||
		  json_object_set_new(o, "incarnation", json_integer((json_int_t)inc)) < 0)) {
		json_decref(o);
		return -ENOMEM;
	}
	return dump(o, ret, ret_len);
}

int vcd_entry_node_up(uint32_t node, uint64_t incarnation, char **ret, size_t *ret_len)
{
	return entry_node_life(VCD_OP_NODE_UP, node, incarnation, ret, ret_len);
}

int vcd_entry_node_down(uint32_t node, uint64_t incarnation, char **ret, size_t *ret_len)
{
	return entry_node_life(VCD_OP_NODE_DOWN, node, incarnation, ret, ret_len);
}

int vcd_entry_node_left(uint32_t node, uint64_t incarnation, char **ret, size_t *ret_len)
{
	return entry_node_life(VCD_OP_NODE_LEFT, node, incarnation, ret, ret_len);
}

int vcd_entry_node_leaving(uint32_t node, uint64_t incarnation, bool migrate, char **ret,
			   size_t *ret_len)
{
	json_t *o;

	if (node == 0 || incarnation == 0 || incarnation > INT64_MAX)
		return -EINVAL;
	o = entry_new(VCD_OP_NODE_LEAVING);
	if (o && (json_object_set_new(o, "node", json_integer(node)) < 0 ||
		  json_object_set_new(o, "incarnation", json_integer((json_int_t)incarnation)) < 0 ||
		  json_object_set_new(o, "migrate", json_boolean(migrate)) < 0)) {
		json_decref(o);
		return -ENOMEM;
	}
	return dump(o, ret, ret_len);
}

int vcd_entry_node_fenced(const struct vcd_fence_rec *rec, char **ret, size_t *ret_len)
{
	json_t *o, *f;

	if (rec->node_id == 0 || rec->incarnation == 0 || rec->incarnation > INT64_MAX ||
	    rec->dc_id == 0 || rec->last_heard_age_ms < -1 || rec->window_ms > INT64_MAX ||
	    rec->term > INT64_MAX || strnlen(rec->note, sizeof(rec->note)) == sizeof(rec->note) ||
	    (rec->how != VCD_FENCE_AUTO && rec->how != VCD_FENCE_CONFIRMED))
		return -EINVAL;
	o = entry_new(VCD_OP_NODE_FENCED);
	f = fence_json(rec);
	if (!o || !f || json_object_update(o, f) < 0) {
		json_decref(o);
		json_decref(f);
		return -ENOMEM;
	}
	json_decref(f);
	return dump(o, ret, ret_len);
}

int vcd_entry_node_flags(uint32_t node, int standby, int maintenance,
			 char **ret, size_t *ret_len)
{
	json_t *o;
	int r = 0;

	if (node == 0 || (standby < 0 && maintenance < 0) || standby > 1 || maintenance > 1)
		return -EINVAL;
	o = entry_new(VCD_OP_NODE_FLAGS);
	if (!o)
		return -ENOMEM;
	r |= json_object_set_new(o, "node", json_integer(node));
	if (standby >= 0)
		r |= json_object_set_new(o, "standby", json_boolean(standby));
	if (maintenance >= 0)
		r |= json_object_set_new(o, "maintenance", json_boolean(maintenance));
	if (r) {
		json_decref(o);
		return -ENOMEM;
	}
	return dump(o, ret, ret_len);
}

int vcd_entry_resource_add(const char *name, const char *type, const json_t *definition,
			   char **ret, size_t *ret_len)
{
	json_t *o;

	if (!name_ok(name) || !name_ok(type) || !definition)
		return -EINVAL;
	o = entry_new(VCD_OP_RESOURCE_ADD);
	if (o && (json_object_set_new(o, "name", json_string(name)) < 0 ||
		  json_object_set_new(o, "type", json_string(type)) < 0 ||
		  json_object_set(o, "definition", (json_t *)definition) < 0)) {
		json_decref(o);
		return -ENOMEM;
	}
	return dump(o, ret, ret_len);
}

int vcd_entry_resource_remove(const char *name, char **ret, size_t *ret_len)
{
	json_t *o;

	if (!name_ok(name))
		return -EINVAL;
	o = entry_new(VCD_OP_RESOURCE_REMOVE);
	if (o && json_object_set_new(o, "name", json_string(name)) < 0) {
		json_decref(o);
		return -ENOMEM;
	}
	return dump(o, ret, ret_len);
}

/* The text fields of resource entries, cut to what apply accepts. */
static json_t *text_json(const char *text)
{
	char buf[VCD_STATE_WHY_LEN];

	snprintf(buf, sizeof(buf), "%s", text ? text : "");
	return json_string(buf);
}

static int entry_resource_life(enum vcd_op op, const char *name, uint32_t node,
			       uint64_t inc, json_t **ret)
{
	json_t *o;

	if (!name_ok(name) || node == 0 || inc == 0 || inc > INT64_MAX)
		return -EINVAL;
	o = entry_new(op);
	if (o && (json_object_set_new(o, "name", json_string(name)) < 0 ||
		  json_object_set_new(o, "node", json_integer(node)) < 0 ||
		  json_object_set_new(o, "incarnation", json_integer((json_int_t)inc)) < 0)) {
		json_decref(o);
		return -ENOMEM;
	}
	if (!o)
		return -ENOMEM;
	*ret = o;
	return 0;
}

int vcd_entry_resource_place(const char *name, uint32_t node, uint64_t incarnation,
			     const char *why, char **ret, size_t *ret_len)
{
	json_t *o;
	int r = entry_resource_life(VCD_OP_RESOURCE_PLACE, name, node, incarnation, &o);

	if (r < 0)
		return r;
	if (json_object_set_new(o, "why", text_json(why)) < 0) {
		json_decref(o);
		return -ENOMEM;
	}
	return dump(o, ret, ret_len);
}

int vcd_entry_resource_release(const char *name, uint32_t node, uint64_t incarnation,
			       bool failed, const char *note, char **ret, size_t *ret_len)
{
	json_t *o;
	int r = entry_resource_life(VCD_OP_RESOURCE_RELEASE, name, node, incarnation, &o);

	if (r < 0)
		return r;
	if (json_object_set_new(o, "failed", json_boolean(failed)) < 0 ||
	    json_object_set_new(o, "note", text_json(note)) < 0) {
		json_decref(o);
		return -ENOMEM;
	}
	return dump(o, ret, ret_len);
}

int vcd_entry_resource_status(const char *name, uint32_t node, uint64_t incarnation,
			      const char *status, const char *note, char **ret,
			      size_t *ret_len)
{
	json_t *o;
	int r;

	if (!status || !key_in(status, res_statuses))
		return -EINVAL;
	r = entry_resource_life(VCD_OP_RESOURCE_STATUS, name, node, incarnation, &o);
	if (r < 0)
		return r;
	if (json_object_set_new(o, "status", json_string(status)) < 0 ||
	    json_object_set_new(o, "note", text_json(note)) < 0) {
		json_decref(o);
		return -ENOMEM;
	}
	return dump(o, ret, ret_len);
}

int vcd_entry_node_capacity(uint32_t node, uint32_t cpus, uint64_t memory_kib,
			    char **ret, size_t *ret_len)
{
	json_t *o;

	if (node == 0 || memory_kib > INT64_MAX)
		return -EINVAL;
	o = entry_new(VCD_OP_NODE_CAPACITY);
	if (o && (json_object_set_new(o, "node", json_integer(node)) < 0 ||
		  json_object_set_new(o, "cpus", json_integer(cpus)) < 0 ||
		  json_object_set_new(o, "memory_kib", json_integer((json_int_t)memory_kib)) < 0)) {
		json_decref(o);
		return -ENOMEM;
	}
	return dump(o, ret, ret_len);
}

int vcd_entry_build(enum vcd_op op, const json_t *fields, char **ret, size_t *ret_len)
{
	json_t *o;

	if (op <= VCD_OP_NONE || (size_t)op >= sizeof(op_names) / sizeof(op_names[0]) ||
	    !json_is_object(fields))
		return -EINVAL;
	o = json_deep_copy(fields);
	if (o && (json_object_set_new(o, "v", json_integer(VCD_STATE_VERSION)) < 0 ||
		  json_object_set_new(o, "op", json_string(op_names[op])) < 0)) {
		json_decref(o);
		return -ENOMEM;
	}
	return dump(o, ret, ret_len);
}

int vcd_entry_resource_freeze(const char *name, uint32_t node, uint64_t incarnation,
			      const char *note, char **ret, size_t *ret_len)
{
	json_t *o;
	int r = entry_resource_life(VCD_OP_RESOURCE_RELEASE, name, node, incarnation, &o);

	if (r < 0)
		return r;
	if (json_object_set_new(o, "frozen", json_true()) < 0 ||
	    json_object_set_new(o, "note", text_json(note)) < 0) {
		json_decref(o);
		return -ENOMEM;
	}
	return dump(o, ret, ret_len);
}

int vcd_entry_resource_fail(const char *name, uint32_t node, uint64_t incarnation,
			    int64_t time_ms, const char *note, char **ret, size_t *ret_len)
{
	json_t *o;
	int r;

	if (time_ms < 0)
		return -EINVAL;
	r = entry_resource_life(VCD_OP_RESOURCE_FAIL, name, node, incarnation, &o);
	if (r < 0)
		return r;
	if (json_object_set_new(o, "time_ms", json_integer(time_ms)) < 0 ||
	    json_object_set_new(o, "note", text_json(note)) < 0) {
		json_decref(o);
		return -ENOMEM;
	}
	return dump(o, ret, ret_len);
}

int vcd_entry_resource_migrate(const char *name, uint32_t node, uint64_t incarnation,
			       uint32_t from_node, uint64_t from_incarnation, const char *why,
			       char **ret, size_t *ret_len)
{
	json_t *o;
	int r;

	if (from_node == 0 || from_incarnation == 0 || from_incarnation > INT64_MAX)
		return -EINVAL;
	r = entry_resource_life(VCD_OP_RESOURCE_MIGRATE, name, node, incarnation, &o);
	if (r < 0)
		return r;
	if (json_object_set_new(o, "from_node", json_integer(from_node)) < 0 ||
	    json_object_set_new(o, "from_incarnation",
				json_integer((json_int_t)from_incarnation)) < 0 ||
	    json_object_set_new(o, "why", text_json(why)) < 0) {
		json_decref(o);
		return -ENOMEM;
	}
	return dump(o, ret, ret_len);
}

int vcd_entry_resource_migrated(const char *name, uint32_t node, uint64_t incarnation,
				const char *status, const char *note, char **ret,
				size_t *ret_len)
{
	json_t *o;
	int r;

	if (!status || (strcmp(status, "placed") != 0 && !key_in(status, res_statuses)))
		return -EINVAL;
	r = entry_resource_life(VCD_OP_RESOURCE_MIGRATED, name, node, incarnation, &o);
	if (r < 0)
		return r;
	if (json_object_set_new(o, "status", json_string(status)) < 0 ||
	    json_object_set_new(o, "note", text_json(note)) < 0) {
		json_decref(o);
		return -ENOMEM;
	}
	return dump(o, ret, ret_len);
}

int vcd_entry_resource_migrate_abort(const char *name, uint32_t node, const char *note,
				     char **ret, size_t *ret_len)
{
	json_t *o;

	if (!name_ok(name) || node == 0)
		return -EINVAL;
	o = entry_new(VCD_OP_RESOURCE_MIGRATE_ABORT);
	if (o && (json_object_set_new(o, "name", json_string(name)) < 0 ||
		  json_object_set_new(o, "node", json_integer(node)) < 0 ||
		  json_object_set_new(o, "note", text_json(note)) < 0)) {
		json_decref(o);
		return -ENOMEM;
	}
	return dump(o, ret, ret_len);
}
