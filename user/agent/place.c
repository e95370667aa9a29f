// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The DC's placement engine (see place.h for the policy).
 *
 * Deterministic: names are sorted, hosts are visited by id, and the load
 * is compared in integer parts per million, so every replica running it
 * on the same state gets the same decisions.
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
static int textf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

struct host_load {
	const struct vcd_node *node;
	uint64_t memory_kib;		/* used */
	uint32_t vcpus;			/* used */
	uint32_t resources;
};

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

static uint64_t def_uint(const json_t *def, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(def, key));

	return v > 0 ? (uint64_t)v : 0;
}

void vcd_place_demand_of(const json_t *res, struct vcd_place_demand *ret)
{
	const json_t *def = json_object_get(res, "definition");

	ret->memory_kib = def_uint(def, "memory_kib");
	ret->vcpus = (uint32_t)def_uint(def, "vcpus");
}

/* Parts per million of @used in @cap (cap > 0). */
static uint64_t ppm(uint64_t used, uint64_t cap)
{
	return used >= UINT64_MAX / 1000000 ? UINT64_MAX : used * 1000000 / cap;
}

static uint64_t load_after(const struct host_load *h, const struct vcd_place_demand *dm)
{
	uint64_t mem = ppm(h->memory_kib + dm->memory_kib, h->node->memory_kib);
	uint64_t cpu = ppm((uint64_t)h->vcpus + dm->vcpus, h->node->cpus);

	return mem > cpu ? mem : cpu;
}

static bool eligible(const struct vcd_node *n)
{
	return n->state == VCD_NODE_ONLINE && !n->standby && !n->maintenance &&
	       n->leaving_incarnation != n->incarnation && n->cpus > 0 && n->memory_kib > 0;
}

/* Current load of every eligible host from the placed resources. */
static size_t collect_hosts(const struct vcd_state *s, struct host_load *hosts)
{
	const json_t *all = vcd_state_resources(s);
	struct vcd_place_demand dm;
	struct vcd_placement p;
	const char *name;
	size_t n = 0, i;
	json_t *res;

	for (i = 0; i < vcd_state_n_nodes(s); i++) {
		const struct vcd_node *node = vcd_state_node_at(s, i);

		if (eligible(node))
			hosts[n++] = (struct host_load){ .node = node };
	}
	json_object_foreach((json_t *)all, name, res) {
		if (vcd_resource_placement(res, &p) < 0 || !p.node)
			continue;
		for (i = 0; i < n; i++) {
			if (hosts[i].node->id != p.node ||
			    hosts[i].node->incarnation != p.incarnation)
				continue;
			vcd_place_demand_of(res, &dm);
			hosts[i].memory_kib += dm.memory_kib;
			hosts[i].vcpus += dm.vcpus;
			hosts[i].resources++;
		}
	}
	return n;
}

/* Lower load, then fewer resources, then the lower id (hosts are by id). */
static bool better(const struct host_load *a, uint64_t load_a, const struct host_load *b,
		   uint64_t load_b)
{
	if (load_a != load_b)
		return load_a < load_b;
	return a->resources < b->resources;
}

static struct host_load *choose(struct host_load *hosts, size_t n, const json_t *res,
				const struct vcd_place_demand *dm, size_t *ret_fit)
{
	struct host_load *best = NULL;
	uint64_t best_load = 0, load;
	size_t i;

	*ret_fit = 0;
	for (i = 0; i < n; i++) {
		struct host_load *h = &hosts[i];

		if (vcd_resource_failed_on(res, h->node->id) ||
		    h->memory_kib + dm->memory_kib > h->node->memory_kib)
			continue;
		(*ret_fit)++;
		load = load_after(h, dm);
		if (!best || better(h, load, best, best_load)) {
			best = h;
			best_load = load;
		}
	}
	return best;
}

/* Where the resource comes from, for the record. */
/* The fence that freed @p, assumed or applied; NULL if none. */
static const struct vcd_fence_rec *freeing_fence(const struct vcd_state *s,
						 const struct vcd_place_assume *assume,
						 const struct vcd_placement *p)
{
	const struct vcd_node *n = p->node ? vcd_state_node(s, p->node) : NULL;

	if (assume && assume->set && assume->fence.node_id == p->node &&
	    assume->fence.incarnation >= p->incarnation)
		return &assume->fence;
	if (n && n->has_fence && n->fence.incarnation >= p->incarnation)
		return &n->fence;
	return NULL;
}

static int origin_text(const struct vcd_state *s, const struct vcd_place_assume *assume,
		       const json_t *res, char *buf, size_t size, uint32_t *from)
{
	const json_t *f = json_object_get(res, "failed_on");
	const struct vcd_fence_rec *fr;
	struct vcd_placement p;
	const struct vcd_node *n;

	vcd_resource_placement(res, &p);
	*from = p.node;
	n = p.node ? vcd_state_node(s, p.node) : NULL;
	fr = freeing_fence(s, assume, &p);
	if (fr)
		return textf(buf, size,
				"node %u (incarnation %" PRIu64 ") fenced (%s: last heard %" PRId64 " ms before, window %" PRIu64 " ms)",
				p.node, p.incarnation, vcd_fence_how_name(fr->how),
				fr->last_heard_age_ms, fr->window_ms);
	if (n)
		return textf(buf, size, "node %u (incarnation %" PRIu64 ") is over", p.node,
				p.incarnation);
	if (json_array_size(f))
		return textf(buf, size, "failed on %zu host(s)", json_array_size(f));
	return textf(buf, size, "not running anywhere");
}

static void decide(const struct vcd_state *s, const struct vcd_place_assume *assume,
		   struct host_load *hosts, size_t n_hosts, const char *name, const json_t *res,
		   struct vcd_place_decision *d)
{
	struct vcd_place_demand dm;
	struct host_load *h;
	char origin[160];
	size_t fit;

	textf(d->name, sizeof(d->name), "%s", name);
	origin_text(s, assume, res, origin, sizeof(origin), &d->from_node);
	vcd_place_demand_of(res, &dm);
	h = choose(hosts, n_hosts, res, &dm, &fit);
	if (!h) {
		textf(d->why, sizeof(d->why),
			 "%s; no host can take it (%zu eligible, none with %" PRIu64 " MiB free where it has not failed)",
			 origin, n_hosts, dm.memory_kib / 1024);
		return;
	}
	d->node = h->node->id;
	d->incarnation = h->node->incarnation;
	textf(d->why, sizeof(d->why),
		 "%s; node %u has the lowest load of %zu fitting: %.1f%% after (%" PRIu64 "/%" PRIu64 " MiB, %u/%u vCPUs, %u resources)",
		 origin, d->node, fit, (double)load_after(h, &dm) / 1e4,
		 (h->memory_kib + dm.memory_kib) / 1024, h->node->memory_kib / 1024,
		 h->vcpus + dm.vcpus, h->node->cpus, h->resources + 1);
	h->memory_kib += dm.memory_kib;
	h->vcpus += dm.vcpus;
	h->resources++;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names of the resources that may be placed, sorted. */
static int placeable(const struct vcd_state *s, const struct vcd_place_assume *assume,
		     const char ***ret, size_t *ret_n)
{
	const json_t *all = vcd_state_resources(s);
	const char **names, *name;
	struct vcd_placement p;
	size_t n = 0;
	json_t *res;

	names = calloc(json_object_size(all) + 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	json_object_foreach((json_t *)all, name, res) {
		if (vcd_resource_placement(res, &p) == 0 && !p.removing &&
		    (vcd_state_resource_free(s, res) || freeing_fence(s, assume, &p)))
			names[n++] = name;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	*ret = names;
	*ret_n = n;
	return 0;
}

int vcd_place_run(const struct vcd_state *s, const struct vcd_place_assume *assume,
		  bool (*skip)(void *ctx, const char *name), void *ctx,
		  struct vcd_place_out *out)
{
	static struct host_load hosts[VCD_STATE_MAX_NODES];
	const json_t *all = vcd_state_resources(s);
	struct vcd_place_decision *d;
	size_t n_hosts, n, i;
	const char **names;
	int r = placeable(s, assume, &names, &n);

	if (r < 0)
		return r;
	n_hosts = collect_hosts(s, hosts);
	for (i = 0; i < n; i++) {
		if (skip && skip(ctx, names[i]))
			continue;
		d = out_add(out);
		if (!d) {
			r = -ENOMEM;
			break;
		}
		decide(s, assume, hosts, n_hosts, names[i], json_object_get(all, names[i]), d);
	}
	free(names);
	return r;
}
