// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The DC's placement engine (see place.h for the policy).
 *
 * Deterministic: resources are ranked by (priority, name), hosts are
 * visited by id, the load is compared in integer parts per million, and
 * no JSON object is read in iteration order where the order could show
 * (a replica that restored a snapshot holds keys sorted, one that applied
 * the log holds them as inserted), so every replica running it on the
 * same state with the same now_ms gets the same decisions.
 *
 * One run:
 *   1. every resource is read once into an item (its parsed policy, its
 *      demand, where it is), the "with", "apart" and "after" names turned
 *      into indexes, and each host's load summed;
 *   2. starts, by rank; a waiting "with" leader is decided before its
 *      follower, so a group is placed in one run;
 *   3. moves, by rank, up to opts->max_moves.
 * Each decision adds its resource to its target's load and to the nodes
 * it occupies, so later decisions see it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "place.h"

/* A record text: cutting a long one is fine. */
__attribute__((format(printf, 3, 4)))
static void textf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* Append to a record text, cutting what does not fit. */
__attribute__((format(printf, 3, 4)))
static void appendf(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}

void vcd_place_out_init(struct vcd_place_out *out)
{
	memset(out, 0, sizeof(*out));
}

void vcd_place_out_free(struct vcd_place_out *out)
{
	free(out->d);
	vcd_place_out_init(out);
}

static struct vcd_place_decision *out_add(struct vcd_place_out *out)
{
	struct vcd_place_decision *d;

	if (out->n == out->cap) {
		size_t cap = out->cap ? 2 * out->cap : 16;

		d = realloc(out->d, cap * sizeof(*d));
		if (!d)
			return NULL;
		out->d = d;
		out->cap = cap;
	}
	d = &out->d[out->n++];
	memset(d, 0, sizeof(*d));
	return d;
}

static uint64_t json_uint(const json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v > 0 ? (uint64_t)v : 0;
}

void vcd_place_demand_of(const json_t *res, struct vcd_place_demand *ret)
{
	const json_t *def = json_object_get(res, "definition");

	ret->memory_kib = json_uint(def, "memory_kib");
	ret->vcpus = (uint32_t)json_uint(def, "vcpus");
}

/* ------------------------------------------------------------------------
 * Hosts and their load.
 */

struct host {
	const struct vcd_node *node;
	const char *unavailable;	/* NULL: it may take resources; else why not */
	uint64_t memory_kib;		/* used */
	uint32_t vcpus;			/* used */
	uint32_t resources;
};

/* Parts per million of @used in @cap (cap > 0). */
static uint64_t ppm(uint64_t used, uint64_t cap)
{
	return used >= UINT64_MAX / 1000000 ? UINT64_MAX : used * 1000000 / cap;
}

static uint64_t load_of(const struct host *h, uint64_t memory_kib, uint32_t vcpus)
{
	uint64_t mem = ppm(h->memory_kib + memory_kib, h->node->memory_kib);
	uint64_t cpu = ppm((uint64_t)h->vcpus + vcpus, h->node->cpus);

	return mem > cpu ? mem : cpu;
}

static uint64_t load_after(const struct host *h, const struct vcd_place_demand *dm)
{
	return load_of(h, dm->memory_kib, dm->vcpus);
}

static uint64_t free_kib(const struct host *h)
{
	return h->memory_kib < h->node->memory_kib ? h->node->memory_kib - h->memory_kib : 0;
}

/* Why @n takes nothing new, or NULL. */
static const char *unavailable(const struct vcd_node *n)
{
	if (n->state != VCD_NODE_ONLINE)
		return vcd_node_state_name(n->state);
	if (n->standby)
		return "in standby";
	if (n->maintenance)
		return "in maintenance";
	if (n->leaving_incarnation == n->incarnation)
		return "leaving";
	if (n->cpus == 0 || n->memory_kib == 0)
		return "without capacity";
	return NULL;
}

/* ------------------------------------------------------------------------
 * Resources, read once per run.
 */

enum visit { TODO = 0, BUSY, DONE };

/* Indexes into the run's items. */
struct idx_list {
	size_t *v;
	size_t n;
};

struct item {
	const char *name;
	const json_t *res;
	struct vcd_policy pol;
	struct vcd_place_demand dm;
	struct vcd_placement pl;
	const char *status;
	bool enabled, maintenance;
	uint32_t mig_node;		/* "migrating" target, 0: none */
	uint64_t mig_inc;
	uint32_t target_node, frozen_on;
	bool holds;			/* pl.node's life is not over: it is placed there */
	bool live;			/* placed on its node's online life */
	bool frozen;			/* maintenance, disabled, removing, migrating */
	bool startable, movable, skipped;
	uint32_t pending_node;		/* a decision in flight puts it there */
	uint32_t decided;		/* this run's decision's node, 0: none */
	enum visit visit;
	uint32_t mark;			/* follower walks */
	struct idx_list leaders;	/* its "with" */
	struct idx_list followers;	/* those with it in their "with" */
	struct idx_list apart;		/* its "apart" and those with it in theirs */
	struct idx_list after;		/* its "after" */
};

struct run {
	const struct vcd_state *s;
	const struct vcd_place_assume *assume;
	struct vcd_place_opts opts;
	uint32_t (*pending)(void *ctx, const char *name);
	void *ctx;
	struct vcd_place_out *out;
	struct item *items;		/* by name */
	size_t n;
	size_t *order;			/* item indexes by rank */
	size_t *links;			/* storage of the items' idx_lists */
	struct host hosts[VCD_STATE_MAX_NODES];
	size_t n_hosts;
	uint32_t moves, mark;
};

static struct host *host_of(struct run *r, uint32_t id)
{
	size_t i;

	for (i = 0; i < r->n_hosts; i++)
		if (r->hosts[i].node->id == id)
			return &r->hosts[i];
	return NULL;
}

/* The life @id/@inc is the node's online one. */
static struct host *online_host(struct run *r, uint32_t id, uint64_t inc)
{
	struct host *h = id ? host_of(r, id) : NULL;

	return h && h->node->state == VCD_NODE_ONLINE && h->node->incarnation == inc ? h : NULL;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->name, ((const struct item *)b)->name);
}

static size_t item_index(const struct run *r, const char *name)
{
	struct item key = { .name = name };
	const struct item *f = bsearch(&key, r->items, r->n, sizeof(key), cmp_name);

	return f ? (size_t)(f - r->items) : SIZE_MAX;
}

/* The fence that freed @p, assumed or applied; NULL if none. */
static const struct vcd_fence_rec *freeing_fence(const struct vcd_state *s,
						 const struct vcd_place_assume *assume,
						 const struct vcd_placement *p)
{
	const struct vcd_node *n = p->node ? vcd_state_node(s, p->node) : NULL;

	if (assume && assume->set && p->node && assume->fence.node_id == p->node &&
	    assume->fence.incarnation >= p->incarnation)
		return &assume->fence;
	if (n && n->has_fence && n->fence.incarnation >= p->incarnation)
		return &n->fence;
	return NULL;
}

/* The life @node/@inc is over: fenced, or the fence assumed. */
static bool life_over(const struct run *r, uint32_t node, uint64_t inc)
{
	const struct vcd_node *n = node ? vcd_state_node(r->s, node) : NULL;

	if (!node)
		return true;
	if (r->assume && r->assume->set && r->assume->fence.node_id == node &&
	    r->assume->fence.incarnation >= inc)
		return true;
	return n && n->fenced_incarnation >= inc;
}

/* Nothing holds it: never placed, released, or the lives that held it
 * (its placement, a move's target) are over. */
static bool is_free(const struct run *r, const struct item *it)
{
	return life_over(r, it->pl.node, it->pl.incarnation) &&
	       life_over(r, it->pl.to_node, it->pl.to_incarnation);
}

static void read_flags(struct item *it)
{
	const json_t *res = it->res;

	it->status = json_string_value(json_object_get(res, "status"));
	if (!it->status)
		it->status = "";
	it->enabled = !json_is_false(json_object_get(res, "enabled"));
	it->maintenance = json_is_true(json_object_get(res, "maintenance"));
	it->target_node = (uint32_t)json_uint(res, "target_node");
	it->frozen_on = (uint32_t)json_uint(res, "frozen_on");
	it->mig_node = it->pl.to_node;
	it->mig_inc = it->pl.to_incarnation;
	it->frozen = it->maintenance || !it->enabled || it->pl.removing || it->mig_node;
}

/* Where it is, and what this run may do with it. */
static void read_item(struct run *r, struct item *it)
{
	bool freed;
	struct host *h;

	vcd_resource_placement(it->res, &it->pl);
	vcd_place_demand_of(it->res, &it->dm);
	read_flags(it);
	freed = is_free(r, it);
	it->holds = !life_over(r, it->pl.node, it->pl.incarnation);
	h = it->holds ? online_host(r, it->pl.node, it->pl.incarnation) : NULL;
	it->live = h != NULL;
	it->startable = freed && !it->frozen;
	it->movable = it->live && !it->frozen && strcmp(it->status, "running") == 0 &&
		      !h->node->maintenance;
	if ((it->startable || it->movable) && r->pending) {
		it->pending_node = r->pending(r->ctx, it->name);
		it->skipped = it->pending_node != 0;
	}
}

/* Its load where it is placed, and where it migrates to. */
static void add_load(struct host *h, const struct vcd_place_demand *dm)
{
	if (!h)
		return;
	h->memory_kib += dm->memory_kib;
	h->vcpus += dm->vcpus;
	h->resources++;
}

static void list_hosts(struct run *r)
{
	size_t i;

	for (i = 0; i < vcd_state_n_nodes(r->s) && i < VCD_STATE_MAX_NODES; i++) {
		const struct vcd_node *n = vcd_state_node_at(r->s, i);

		r->hosts[r->n_hosts++] = (struct host){ .node = n, .unavailable = unavailable(n) };
	}
}

static void sum_loads(struct run *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		struct item *it = &r->items[i];

		if (it->live)
			add_load(online_host(r, it->pl.node, it->pl.incarnation), &it->dm);
		if (it->mig_node)
			add_load(online_host(r, it->mig_node, it->mig_inc), &it->dm);
		/* Where an earlier run sent it (not committed yet) counts as
		 * where it is: its memory there, its apart and with there. */
		if (it->pending_node && it->pending_node != it->pl.node) {
			add_load(host_of(r, it->pending_node), &it->dm);
			it->decided = it->pending_node;
		}
	}
}

/* ------------------------------------------------------------------------
 * The names in "with", "apart" and "after" as indexes (names that are no
 * resource, such as one removed since, are left out).
 */

enum link { LINK_WITH, LINK_APART, LINK_AFTER };

typedef void (*link_fn)(struct run *r, size_t i, size_t j, enum link kind);

static const struct vcd_policy_names *link_names(const struct item *it, enum link kind)
{
	return kind == LINK_WITH ? &it->pol.with : kind == LINK_APART ? &it->pol.apart
								      : &it->pol.after;
}

/* Each name in each list, as (i: whose list, j: the one it names). */
static void foreach_link(struct run *r, link_fn fn)
{
	const struct vcd_policy_names *l;
	enum link kind;
	size_t i, m, j;

	for (i = 0; i < r->n; i++) {
		for (kind = LINK_WITH; kind <= LINK_AFTER; kind++) {
			l = link_names(&r->items[i], kind);
			for (m = 0; m < l->n; m++) {
				j = item_index(r, l->v[m]);
				if (j != SIZE_MAX && j != i)
					fn(r, i, j, kind);
			}
		}
	}
}

static void count_link(struct run *r, size_t i, size_t j, enum link kind)
{
	struct item *a = &r->items[i], *b = &r->items[j];

	switch (kind) {
	case LINK_WITH:
		a->leaders.n++;
		b->followers.n++;
		break;
	case LINK_APART:		/* both ways */
		a->apart.n++;
		b->apart.n++;
		break;
	case LINK_AFTER:
		a->after.n++;
		break;
	}
}

static void put_link(struct run *r, size_t i, size_t j, enum link kind)
{
	struct item *a = &r->items[i], *b = &r->items[j];

	switch (kind) {
	case LINK_WITH:
		a->leaders.v[a->leaders.n++] = j;
		b->followers.v[b->followers.n++] = i;
		break;
	case LINK_APART:
		a->apart.v[a->apart.n++] = j;
		b->apart.v[b->apart.n++] = i;
		break;
	case LINK_AFTER:
		a->after.v[a->after.n++] = j;
		break;
	}
}

static void carve(struct idx_list *l, size_t **next)
{
	l->v = *next;
	*next += l->n;
	l->n = 0;
}

static int link_items(struct run *r)
{
	size_t i, total = 0, *next;

	foreach_link(r, count_link);
	for (i = 0; i < r->n; i++)
		total += r->items[i].leaders.n + r->items[i].followers.n +
			 r->items[i].apart.n + r->items[i].after.n;
	r->links = calloc(total + 1, sizeof(*r->links));
	if (!r->links)
		return -ENOMEM;
	next = r->links;
	for (i = 0; i < r->n; i++) {
		carve(&r->items[i].leaders, &next);
		carve(&r->items[i].followers, &next);
		carve(&r->items[i].apart, &next);
		carve(&r->items[i].after, &next);
	}
	foreach_link(r, put_link);
	return 0;
}

/* Higher priority first, then the name. */
static int cmp_rank(const void *a, const void *b, void *arg)
{
	const struct run *r = arg;
	const struct item *x = &r->items[*(const size_t *)a];
	const struct item *y = &r->items[*(const size_t *)b];

	if (x->pol.priority != y->pol.priority)
		return x->pol.priority > y->pol.priority ? -1 : 1;
	return strcmp(x->name, y->name);
}

static bool ranks_before(const struct item *x, const struct item *y)
{
	if (x->pol.priority != y->pol.priority)
		return x->pol.priority > y->pol.priority;
	return strcmp(x->name, y->name) < 0;
}

static int read_items(struct run *r)
{
	const json_t *all = vcd_state_resources(r->s);
	char why[VCD_STATE_WHY_LEN];
	const char *name;
	json_t *res;
	size_t i;
	int err;

	r->items = calloc(json_object_size(all) + 1, sizeof(*r->items));
	r->order = calloc(json_object_size(all) + 1, sizeof(*r->order));
	if (!r->items || !r->order)
		return -ENOMEM;
	json_object_foreach((json_t *)all, name, res) {
		r->items[r->n].name = name;
		r->items[r->n++].res = res;
	}
	qsort(r->items, r->n, sizeof(*r->items), cmp_name);
	for (i = 0; i < r->n; i++) {
		struct item *it = &r->items[i];

		/* apply checked the meta; one it would refuse gets the defaults */
		err = vcd_policy_parse(json_object_get(it->res, "meta"), &it->pol, why, sizeof(why));
		if (err == -ENOMEM)
			return err;
		read_item(r, it);
		r->order[i] = i;
	}
	qsort_r(r->order, r->n, sizeof(*r->order), cmp_rank, r);
	return link_items(r);
}

static void run_free(struct run *r)
{
	size_t i;

	for (i = 0; r->items && i < r->n; i++)
		vcd_policy_free(&r->items[i].pol);
	free(r->items);
	free(r->order);
	free(r->links);
}

/* ------------------------------------------------------------------------
 * Where resources are.
 */

/* Where it will be once this run's decisions and its migration are done;
 * 0: nowhere. */
static uint32_t final_node(const struct item *it)
{
	if (it->decided)
		return it->decided;
	if (it->mig_node)
		return it->mig_node;
	return it->holds ? it->pl.node : 0;
}

/* It is (or is about to be) on @node: its life there, a migration's
 * target, this run's decision. */
static bool occupies(const struct item *it, uint32_t node)
{
	return (it->holds && it->pl.node == node) || it->mig_node == node || it->decided == node;
}

/* ------------------------------------------------------------------------
 * Judging one host for one resource.
 */

enum rule {
	RULE_OK = 0,
	RULE_FROZEN,		/* frozen_on another node */
	RULE_WITH,		/* not where its "with" leaders are */
	RULE_MEMORY,
	RULE_APART,
	RULE_FAILS,
	RULE_BAN,
	RULE_UNAVAILABLE,
	RULE_CURRENT,		/* a move's own node */
	N_RULES,
};

/* What a search over the hosts found, for the record. */
struct verdict {
	size_t count[N_RULES];
	const struct host *example[N_RULES];
	size_t apart_by;		/* RULE_APART's example: who is there */
	uint32_t fails;			/* RULE_FAILS's example: the failcount */
	size_t fit;			/* hosts that fit */
	struct host *best;
	uint32_t best_score;
	uint64_t best_load;
};

/* Some host's failures expire at @at: the decisions may change then. */
static void note_expiry(struct run *r, int64_t at)
{
	if (at > 0 && (!r->out->recheck_ms || at < r->out->recheck_ms))
		r->out->recheck_ms = at;
}

static size_t apart_there(const struct run *r, const struct item *it, uint32_t node)
{
	size_t k;

	for (k = 0; k < it->apart.n; k++)
		if (occupies(&r->items[it->apart.v[k]], node))
			return it->apart.v[k];
	return SIZE_MAX;
}

/*
 * May @it go to @h?  @with_node: where its leaders are (0: no "with");
 * @extra_kib: memory that must fit beside it (its waiting followers).
 */
static enum rule judge(struct run *r, const struct item *it, const struct host *h,
		       uint32_t with_node, uint64_t extra_kib, struct verdict *v)
{
	uint32_t id = h->node->id;
	size_t by;

	/* The rules that leave one node first: the record then says why
	 * that one does not fit. */
	if (it->frozen_on && id != it->frozen_on)
		return RULE_FROZEN;
	if (with_node && id != with_node)
		return RULE_WITH;
	if (h->unavailable)
		return RULE_UNAVAILABLE;
	if (vcd_policy_bans(&it->pol, id))
		return RULE_BAN;
	if (vcd_policy_banned_by_failures(it->res, &it->pol, id, r->opts.now_ms)) {
		note_expiry(r, vcd_policy_failures_expire_ms(it->res, &it->pol, id));
		if (!v->count[RULE_FAILS])
			v->fails = vcd_policy_failcount(it->res, &it->pol, id, r->opts.now_ms);
		return RULE_FAILS;
	}
	by = apart_there(r, it, id);
	if (by != SIZE_MAX) {
		if (!v->count[RULE_APART])
			v->apart_by = by;
		return RULE_APART;
	}
	if (h->memory_kib + it->dm.memory_kib + extra_kib > h->node->memory_kib)
		return RULE_MEMORY;
	return RULE_OK;
}

/* Higher score, then lower load, then fewer resources (then the lower id:
 * hosts are visited by id). */
static bool better(const struct host *h, uint32_t score, uint64_t load, const struct verdict *v)
{
	if (!v->best || score != v->best_score)
		return !v->best || score > v->best_score;
	if (load != v->best_load)
		return load < v->best_load;
	return h->resources < v->best->resources;
}

static void note_rule(struct verdict *v, enum rule rule, const struct host *h)
{
	v->count[rule]++;
	/* For memory the most telling host is the one with the most free. */
	if (!v->example[rule] || (rule == RULE_MEMORY && free_kib(h) > free_kib(v->example[rule])))
		v->example[rule] = h;
}

/*
 * The best host for @it: @skip_node excluded (a move's own node), only
 * @only_node when it is eligible (target_node), and with a score above
 * @min_score (a preference move; -1: any).
 */
static void search(struct run *r, const struct item *it, uint32_t with_node, uint64_t extra_kib,
		   uint32_t skip_node, uint32_t only_node, int64_t min_score, struct verdict *v)
{
	uint32_t score;
	enum rule rule;
	size_t i;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < r->n_hosts; i++) {
		struct host *h = &r->hosts[i];

		rule = h->node->id == skip_node ? RULE_CURRENT
						: judge(r, it, h, with_node, extra_kib, v);
		if (rule != RULE_OK) {
			note_rule(v, rule, h);
			continue;
		}
		v->fit++;
		if (only_node && h->node->id != only_node)
			continue;
		score = vcd_policy_score(&it->pol, h->node->id);
		if ((int64_t)score <= min_score)
			continue;
		if (better(h, score, load_after(h, &it->dm), v)) {
			v->best = h;
			v->best_score = score;
			v->best_load = load_after(h, &it->dm);
		}
	}
}

/* target_node: that node while it is eligible, otherwise as if unset. */
static uint32_t target_if_eligible(struct run *r, const struct item *it, uint32_t with_node,
				   uint32_t skip_node)
{
	struct host *h = it->target_node ? host_of(r, it->target_node) : NULL;
	struct verdict v;

	if (!h || h->node->id == skip_node)
		return 0;
	memset(&v, 0, sizeof(v));
	return judge(r, it, h, with_node, 0, &v) == RULE_OK ? it->target_node : 0;
}

/* Why no host fits: each rule that ruled hosts out, with an example. */
static void verdict_text(const struct run *r, const struct item *it, const struct verdict *v,
			 uint32_t with_node, char *buf, size_t size)
{
	static const enum rule order[] = {
		RULE_FROZEN, RULE_WITH, RULE_MEMORY, RULE_APART, RULE_FAILS, RULE_BAN,
		RULE_UNAVAILABLE,
	};
	const struct host *h;
	size_t k, more;
	bool first = true;

	if (!r->n_hosts)
		appendf(buf, size, "no node is known");
	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		h = v->example[order[k]];
		if (!h)
			continue;
		appendf(buf, size, "%s", first ? "" : ", ");
		first = false;
		more = v->count[order[k]] - 1;
		switch (order[k]) {
		case RULE_FROZEN:
			appendf(buf, size, "frozen on node %u (shutdown policy)", it->frozen_on);
			more = 0;
			break;
		case RULE_WITH:
			appendf(buf, size, "its \"with\" leaders are on node %u", with_node);
			more = 0;
			break;
		case RULE_MEMORY:
			appendf(buf, size, "node %u has %" PRIu64 " of %" PRIu64 " MiB free",
				h->node->id, free_kib(h) / 1024, it->dm.memory_kib / 1024);
			break;
		case RULE_APART:
			appendf(buf, size, "node %u has %s (apart)", h->node->id,
				r->items[v->apart_by].name);
			break;
		case RULE_FAILS:
			appendf(buf, size, "node %u failcount %u (threshold %u)", h->node->id,
				v->fails, it->pol.migration_threshold);
			break;
		case RULE_BAN:
			appendf(buf, size, "node %u banned", h->node->id);
			break;
		case RULE_UNAVAILABLE:
			appendf(buf, size, "node %u %s", h->node->id, h->unavailable);
			break;
		default:
			break;
		}
		if (more)
			appendf(buf, size, " (+%zu more)", more);
	}
}

/* "node 3: score 100, load 12.5%->25.0% (best of 2 fitting), 3072 MiB free after" */
static void chosen_text(const struct run *r, const struct item *it, const struct verdict *v,
			const char *rule, char *buf, size_t size)
{
	const struct host *h = v->best;
	uint64_t after_kib = h->memory_kib + it->dm.memory_kib;
	uint32_t fails = vcd_policy_failcount(it->res, &it->pol, h->node->id, r->opts.now_ms);

	appendf(buf, size,
		"node %u%s: score %u, load %.1f%%->%.1f%% (best of %zu fitting), %" PRIu64 " MiB free after",
		h->node->id, rule, v->best_score, (double)load_of(h, 0, 0) / 1e4,
		(double)v->best_load / 1e4, v->fit,
		(h->node->memory_kib > after_kib ? h->node->memory_kib - after_kib : 0) / 1024);
	if (fails)
		appendf(buf, size, ", failcount %u/%u", fails, it->pol.migration_threshold);
	/* Hosts the policy ruled out say as much as the one chosen. */
	if (v->count[RULE_APART] || v->count[RULE_BAN] || v->count[RULE_FAILS] ||
	    v->count[RULE_MEMORY]) {
		appendf(buf, size, "; ruled out: ");
		verdict_text(r, it, v, 0, buf, size);
	}
}

/* Record the decision in the run: its target's load, where it is. */
static void commit(struct item *it, struct host *h)
{
	add_load(h, &it->dm);
	it->decided = h->node->id;
}

/* ------------------------------------------------------------------------
 * Starts.
 */

/* The failure that was last, for the record ("failed (last on node 2:
 * failcount 2, threshold 3)"); ties go to the lower node id. */
static void failed_text(const struct run *r, const struct item *it, char *buf, size_t size)
{
	const json_t *fails = json_object_get(it->res, "fails"), *f;
	uint32_t node = 0, id;
	int64_t last = INT64_MIN, at;
	const char *key;

	json_object_foreach((json_t *)fails, key, f) {
		id = (uint32_t)strtoul(key, NULL, 10);
		at = (int64_t)json_integer_value(json_object_get(f, "last_ms"));
		if (at > last || (at == last && id < node)) {
			last = at;
			node = id;
		}
	}
	if (!node) {
		appendf(buf, size, "failed");
		return;
	}
	appendf(buf, size, "failed (last on node %u: failcount %u, threshold %u)", node,
		vcd_policy_failcount(it->res, &it->pol, node, r->opts.now_ms),
		it->pol.migration_threshold);
}

/* Where the resource comes from. */
static void origin_text(const struct run *r, const struct item *it, char *buf, size_t size)
{
	const struct vcd_fence_rec *fr = freeing_fence(r->s, r->assume, &it->pl);

	if (fr)
		appendf(buf, size,
			"node %u (incarnation %" PRIu64 ") fenced (%s: last heard %" PRId64 " ms before, window %" PRIu64 " ms)",
			it->pl.node, it->pl.incarnation, vcd_fence_how_name(fr->how),
			fr->last_heard_age_ms, fr->window_ms);
	else if (it->pl.node)
		appendf(buf, size, "node %u (incarnation %" PRIu64 ") is over", it->pl.node,
			it->pl.incarnation);
	else if (strcmp(it->status, "failed") == 0)
		failed_text(r, it, buf, size);
	else
		appendf(buf, size, "not running anywhere");
}

/* Why a resource it depends on is not there yet. */
static const char *state_word(const struct item *dep)
{
	if (!dep->enabled)
		return "disabled";
	if (dep->pl.removing)
		return "being removed";
	if (dep->maintenance)
		return "in maintenance";
	if (dep->decided && !dep->holds)
		return "being placed";
	if (!final_node(dep))
		return "placed nowhere";
	return dep->status[0] ? dep->status : "placed";
}

/* "after": each one "running" on an online life; the first that is not. */
static const struct item *after_waits(const struct run *r, const struct item *it)
{
	size_t k;

	for (k = 0; k < it->after.n; k++) {
		const struct item *dep = &r->items[it->after.v[k]];

		if (!dep->live || strcmp(dep->status, "running") != 0)
			return dep;
	}
	return NULL;
}

/*
 * "with": the node where its leaders are (0: no "with").  Returns false
 * when it must wait (a leader placed nowhere) or cannot go anywhere
 * (leaders on different nodes), with the reason in @buf.
 */
static bool with_node_of(const struct run *r, const struct item *it, uint32_t *ret, char *buf,
			 size_t size)
{
	const struct item *first = NULL, *dep;
	uint32_t at;
	size_t k;

	*ret = 0;
	for (k = 0; k < it->leaders.n; k++) {
		dep = &r->items[it->leaders.v[k]];
		at = final_node(dep);
		if (!at) {
			appendf(buf, size, "waits for %s to be placed (it is %s)", dep->name,
				state_word(dep));
			return false;
		}
		if (first && at != *ret) {
			appendf(buf, size, "no host fits: \"with\" %s (node %u) and %s (node %u), on different nodes",
				first->name, *ret, dep->name, at);
			return false;
		}
		first = dep;
		*ret = at;
	}
	return true;
}

/* Memory of the followers that wait to start with @it (transitively). */
static uint64_t followers_kib(struct run *r, struct item *it)
{
	uint64_t kib = 0;
	size_t k;

	it->mark = r->mark;
	for (k = 0; k < it->followers.n; k++) {
		struct item *f = &r->items[it->followers.v[k]];

		if (f->mark == r->mark || !f->startable || f->skipped || f->visit == DONE)
			continue;
		kib += f->dm.memory_kib + followers_kib(r, f);
	}
	return kib;
}

static void decide_start(struct run *r, struct item *it, struct vcd_place_decision *d)
{
	const struct item *dep;
	uint32_t with_node, only;
	uint64_t extra_kib;
	struct verdict v;

	d->kind = VCD_PLACE_START;
	textf(d->name, sizeof(d->name), "%s", it->name);
	d->from_node = it->pl.node;
	d->from_incarnation = it->pl.incarnation;
	origin_text(r, it, d->why, sizeof(d->why));
	appendf(d->why, sizeof(d->why), "; ");
	dep = after_waits(r, it);
	if (dep) {
		appendf(d->why, sizeof(d->why), "waits for %s to be running (it is %s)", dep->name,
			state_word(dep));
		return;
	}
	if (!with_node_of(r, it, &with_node, d->why, sizeof(d->why)))
		return;
	r->mark++;
	extra_kib = followers_kib(r, it);
	only = target_if_eligible(r, it, with_node, 0);
	search(r, it, with_node, extra_kib, 0, only, -1, &v);
	if (!v.best && extra_kib)	/* no host takes the group: it alone, then */
		search(r, it, with_node, 0, 0, only, -1, &v);
	if (!v.best) {
		appendf(d->why, sizeof(d->why), "no host fits: ");
		verdict_text(r, it, &v, with_node, d->why, sizeof(d->why));
		return;
	}
	d->node = v.best->node->id;
	d->incarnation = v.best->node->incarnation;
	chosen_text(r, it, &v, with_node ? " (with)" : only ? " (target_node)" :
			       it->frozen_on ? " (frozen_on)" : "", d->why, sizeof(d->why));
	commit(it, v.best);
}

static int start_one(struct run *r, struct item *it)
{
	struct vcd_place_decision *d;
	size_t k;
	int err;

	if (it->visit != TODO)
		return 0;		/* done, or a loop of "with" */
	it->visit = BUSY;
	/* What it waits for first: its record then says "being placed". */
	for (k = 0; k < it->leaders.n + it->after.n; k++) {
		struct item *l = &r->items[k < it->leaders.n ? it->leaders.v[k]
							      : it->after.v[k - it->leaders.n]];

		if (l->startable && !l->skipped) {
			err = start_one(r, l);
			if (err < 0)
				return err;
		}
	}
	d = out_add(r->out);
	if (!d)
		return -ENOMEM;
	decide_start(r, it, d);
	it->visit = DONE;
	return 0;
}

/* ------------------------------------------------------------------------
 * Moves.
 */

/*
 * Must @it leave its node @c?  The reason in @buf.  @with_node, @only:
 * where its "with" leaders are and its eligible target_node (0: none).
 */
static bool must_move(struct run *r, const struct item *it, const struct host *c,
		      uint32_t with_node, uint32_t only, char *buf, size_t size)
{
	uint32_t id = c->node->id;
	size_t k;

	/* A host leaving with the stop or freeze policy stops its resources
	 * itself; only the migrate policy asks for moves. */
	if (c->node->standby || (c->node->leaving_incarnation == c->node->incarnation &&
				 c->node->leaving_migrate)) {
		appendf(buf, size, "node %u is %s", id, c->node->standby ? "in standby" : "leaving");
		return true;
	}
	if (vcd_policy_bans(&it->pol, id)) {
		appendf(buf, size, "banned from node %u", id);
		return true;
	}
	/* Of two "apart" on one node the lower ranked moves, unless the
	 * other cannot. */
	for (k = 0; k < it->apart.n; k++) {
		const struct item *o = &r->items[it->apart.v[k]];

		if (final_node(o) == id && (!o->movable || o->skipped || ranks_before(o, it))) {
			appendf(buf, size, "%s (apart) is on node %u", o->name, id);
			return true;
		}
	}
	if (with_node && with_node != id) {
		appendf(buf, size, "\"with\" leaders are on node %u", with_node);
		return true;
	}
	if (only && only != id) {
		appendf(buf, size, "moved to node %u (target_node)", only);
		return true;
	}
	return false;
}

/* Returns true when a decision was written into @d. */
static bool decide_move(struct run *r, struct item *it, struct vcd_place_decision *d)
{
	struct host *c = host_of(r, it->pl.node);
	uint32_t with_node = 0, only = 0, here = vcd_policy_score(&it->pol, it->pl.node);
	char reason[VCD_PLACE_WHY_LEN] = "";
	bool must;
	struct verdict v;

	d->kind = VCD_PLACE_MOVE;
	textf(d->name, sizeof(d->name), "%s", it->name);
	d->from_node = it->pl.node;
	d->from_incarnation = it->pl.incarnation;
	/* A leader placed nowhere, or leaders apart: it stays where it runs. */
	if (!with_node_of(r, it, &with_node, reason, sizeof(reason)))
		with_node = 0;
	reason[0] = '\0';
	if (it->target_node != it->pl.node)
		only = target_if_eligible(r, it, with_node, it->pl.node);
	must = must_move(r, it, c, with_node, only, reason, sizeof(reason));
	/* On its target_node only a hard rule moves it. */
	if (!must && it->target_node == it->pl.node)
		return false;
	search(r, it, with_node, 0, it->pl.node, only,
	       must ? -1 : (int64_t)here + it->pol.stickiness, &v);
	if (!v.best) {
		if (!must)
			return false;	/* a preference that cannot be met: nothing to say */
		textf(d->why, sizeof(d->why), "%s; stays on %u: no other host fits: ", reason,
		      it->pl.node);
		verdict_text(r, it, &v, with_node, d->why, sizeof(d->why));
		return true;
	}
	if (!must)
		textf(reason, sizeof(reason), "score %u on node %u > %u on node %u + stickiness %u",
		      v.best_score, v.best->node->id, here, it->pl.node, it->pol.stickiness);
	d->node = v.best->node->id;
	d->incarnation = v.best->node->incarnation;
	textf(d->why, sizeof(d->why), "%s; ", reason);
	chosen_text(r, it, &v, "", d->why, sizeof(d->why));
	commit(it, v.best);
	r->moves++;
	return true;
}

static int move_one(struct run *r, struct item *it)
{
	struct vcd_place_decision *d;
	size_t k;
	int err;

	if (it->visit != TODO || r->moves >= r->opts.max_moves)
		return 0;
	it->visit = BUSY;
	/* Leaders first: a follower follows where they go. */
	for (k = 0; k < it->leaders.n; k++) {
		struct item *l = &r->items[it->leaders.v[k]];

		if (l->movable && !l->skipped && !l->decided) {
			err = move_one(r, l);
			if (err < 0)
				return err;
		}
	}
	it->visit = DONE;
	if (r->moves >= r->opts.max_moves)
		return 0;
	d = out_add(r->out);
	if (!d)
		return -ENOMEM;
	if (!decide_move(r, it, d))
		r->out->n--;		/* nothing to say: take the slot back */
	return 0;
}

/* ------------------------------------------------------------------------
 * The run.
 */

static bool cluster_maintenance(const struct vcd_state *s)
{
	return json_is_true(json_object_get(vcd_state_cluster(s), "maintenance"));
}

static int run_all(struct run *r)
{
	size_t k;
	int err;

	for (k = 0; k < r->n; k++) {
		struct item *it = &r->items[r->order[k]];

		if (it->startable && !it->skipped) {
			err = start_one(r, it);
			if (err < 0)
				return err;
		}
	}
	for (k = 0; k < r->n; k++)
		r->items[k].visit = TODO;
	for (k = 0; k < r->n && r->moves < r->opts.max_moves; k++) {
		struct item *it = &r->items[r->order[k]];

		if (it->movable && !it->skipped && !it->decided) {
			err = move_one(r, it);
			if (err < 0)
				return err;
		}
	}
	return 0;
}

int vcd_place_run(const struct vcd_state *s, const struct vcd_place_assume *assume,
		  const struct vcd_place_opts *opts,
		  uint32_t (*pending)(void *ctx, const char *name), void *ctx,
		  struct vcd_place_out *out)
{
	struct run *r;
	int err;

	if (cluster_maintenance(s))
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct run){ .s = s, .assume = assume, .pending = pending, .ctx = ctx, .out = out };
	if (opts)
		r->opts = *opts;
	list_hosts(r);
	err = read_items(r);
	if (err == 0) {
		sum_loads(r);
		err = run_all(r);
	}
	run_free(r);
	free(r);
	return err;
}
