// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A resource's placement policy (see policy.h).
 *
 * Determinism: apply calls vcd_policy_check() on every replica, so every
 * reason must come out the same everywhere.  JSON objects are never read
 * in iteration order (a replica that restored a snapshot holds its keys
 * sorted, one that applied the log holds them as inserted): keys and
 * resource names are sorted first, and the first offender in that order
 * is the one named.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

__attribute__((format(printf, 4, 5)))
static int fail(char *why, size_t size, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && size) {
		va_start(ap, fmt);
		vsnprintf(why, size, fmt, ap);
		va_end(ap);
	}
	return err;
}

static const char *const meta_keys[] = {
	"priority", "prefer", "ban", "with", "apart", "after", "stickiness",
	"migration_threshold", "failure_timeout_ms", NULL
};
#define META_KEYS_TEXT	"priority, prefer, ban, with, apart, after, stickiness, " \
			"migration_threshold, failure_timeout_ms"

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "invalid";
}

/* ------------------------------------------------------------------------
 * Parsing.
 */

void vcd_policy_init(struct vcd_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->priority = VCD_POLICY_DEFAULT_PRIORITY;
	p->stickiness = VCD_POLICY_DEFAULT_STICKINESS;
	p->migration_threshold = VCD_POLICY_DEFAULT_THRESHOLD;
	p->failure_timeout_ms = VCD_POLICY_DEFAULT_FAILURE_TIMEOUT_MS;
}

void vcd_policy_of(const json_t *res, struct vcd_policy *ret)
{
	if (vcd_policy_parse(json_object_get(res, "meta"), ret, NULL, 0) < 0)
		vcd_policy_init(ret);
}

void vcd_policy_free(struct vcd_policy *p)
{
	if (!p)
		return;
	free(p->prefer);
	free(p->ban);
	free((void *)p->with.v);
	free((void *)p->apart.v);
	free((void *)p->after.v);
	vcd_policy_init(p);
}

/* Keys outside meta_keys: the smallest is named, whatever the order. */
static int check_meta_keys(const json_t *meta, char *why, size_t size)
{
	const char *key, *bad = NULL;
	const char *const *k;
	json_t *v;

	json_object_foreach((json_t *)meta, key, v) {
		for (k = meta_keys; *k && strcmp(*k, key) != 0; k++)
			;
		if (!*k && (!bad || strcmp(key, bad) < 0))
			bad = key;
	}
	if (bad)
		return fail(why, size, -EINVAL, "unknown key \"%.64s\" in meta (valid: " META_KEYS_TEXT ")",
			    bad);
	return 0;
}

/* An integer in [min, max]; absent leaves *@ret (the default). */
static int get_range(const json_t *meta, const char *key, int64_t min, int64_t max,
		     int64_t *ret, char *why, size_t size)
{
	const json_t *v = json_object_get(meta, key);
	json_int_t n;

	if (!v)
		return 0;
	if (!json_is_integer(v))
		return fail(why, size, -EINVAL, "\"%s\" must be an integer from %" PRId64 " to %" PRId64 ", not %s",
			    key, min, max, type_name(v));
	n = json_integer_value(v);
	if (n < min || n > max)
		return fail(why, size, -EINVAL, "\"%s\" must be an integer from %" PRId64 " to %" PRId64 ", not %lld",
			    key, min, max, (long long)n);
	*ret = n;
	return 0;
}

static int parse_numbers(const json_t *meta, struct vcd_policy *p, char *why, size_t size)
{
	int64_t prio = p->priority, sticky = p->stickiness, thr = p->migration_threshold;
	int64_t timeout = (int64_t)p->failure_timeout_ms;
	int r;

	r = get_range(meta, "priority", -VCD_POLICY_PRIORITY_MAX, VCD_POLICY_PRIORITY_MAX, &prio,
		      why, size);
	if (r == 0)
		r = get_range(meta, "stickiness", 0, VCD_POLICY_SCORE_MAX, &sticky, why, size);
	if (r == 0)
		r = get_range(meta, "migration_threshold", 0, VCD_POLICY_THRESHOLD_MAX, &thr, why,
			      size);
	if (r == 0)
		r = get_range(meta, "failure_timeout_ms", 0, VCD_POLICY_FAILURE_TIMEOUT_MAX_MS,
			      &timeout, why, size);
	if (r < 0)
		return r;
	p->priority = (int32_t)prio;
	p->stickiness = (uint32_t)sticky;
	p->migration_threshold = (uint32_t)thr;
	p->failure_timeout_ms = (uint64_t)timeout;
	return 0;
}

/* A node id as a "prefer" key: a decimal number from 1, written one way
 * only (no sign, no leading zero), so that no two keys name one node. */
static int node_key(const char *key, uint32_t *ret, char *why, size_t size)
{
	unsigned long long v = 0;
	const char *c;

	if (strcmp(key, "0") == 0)
		return fail(why, size, -EINVAL, "\"prefer\": node id 0 is not a node (ids start at 1)");
	for (c = key; *c >= '0' && *c <= '9' && v <= UINT32_MAX; c++)
		v = v * 10 + (unsigned long long)(*c - '0');
	if (c == key || *c || key[0] == '0' || v > UINT32_MAX)
		return fail(why, size, -EINVAL,
			    "\"prefer\": key \"%.32s\" is not a node id (a decimal number from 1 to %u, without leading zeros)",
			    key, UINT32_MAX);
	*ret = (uint32_t)v;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_pref(const void *a, const void *b)
{
	const struct vcd_policy_pref *x = a, *y = b;

	return x->node < y->node ? -1 : x->node > y->node;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int parse_one_pref(const char *key, const json_t *v, struct vcd_policy_pref *ret,
			  char *why, size_t size)
{
	int r = node_key(key, &ret->node, why, size);

	if (r < 0)
		return r;
	if (!json_is_integer(v))
		return fail(why, size, -EINVAL,
			    "\"prefer\": the score of node %u must be an integer from 1 to %d, not %s",
			    ret->node, VCD_POLICY_SCORE_MAX, type_name(v));
	if (json_integer_value(v) < 1 || json_integer_value(v) > VCD_POLICY_SCORE_MAX)
		return fail(why, size, -EINVAL,
			    "\"prefer\": the score of node %u must be an integer from 1 to %d, not %lld",
			    ret->node, VCD_POLICY_SCORE_MAX, (long long)json_integer_value(v));
	ret->score = (uint32_t)json_integer_value(v);
	return 0;
}

/* "prefer": {"2": 100}; checked in key order, kept sorted by node id. */
static int parse_prefer(const json_t *meta, struct vcd_policy *p, char *why, size_t size)
{
	const json_t *o = json_object_get(meta, "prefer");
	const char **keys, *key;
	size_t n = 0, i;
	json_t *v;
	int r = 0;

	if (!o)
		return 0;
	if (!json_is_object(o))
		return fail(why, size, -EINVAL,
			    "\"prefer\" must be an object of node id -> score, like {\"2\": 100}, not %s",
			    type_name(o));
	if (json_object_size(o) > VCD_POLICY_MAX_ITEMS)
		return fail(why, size, -EINVAL, "\"prefer\" has %zu nodes; at most %d",
			    json_object_size(o), VCD_POLICY_MAX_ITEMS);
	if (json_object_size(o) == 0)
		return 0;
	keys = calloc(json_object_size(o), sizeof(*keys));
	p->prefer = calloc(json_object_size(o), sizeof(*p->prefer));
	if (!keys || !p->prefer) {
		free(keys);
		return -ENOMEM;
	}
	json_object_foreach((json_t *)o, key, v)
		keys[n++] = key;
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n && r == 0; i++)
		r = parse_one_pref(keys[i], json_object_get(o, keys[i]), &p->prefer[i], why, size);
	free(keys);
	if (r < 0)
		return r;
	p->n_prefer = n;
	qsort(p->prefer, n, sizeof(*p->prefer), cmp_pref);
	return 0;
}

/* A list's common checks: a JSON array of at most VCD_POLICY_MAX_ITEMS. */
static int get_list(const json_t *meta, const char *key, const char *like,
		    const json_t **ret, char *why, size_t size)
{
	const json_t *a = json_object_get(meta, key);

	*ret = NULL;
	if (!a)
		return 0;
	if (!json_is_array(a))
		return fail(why, size, -EINVAL, "\"%s\" must be a list, like %s, not %s", key, like,
			    type_name(a));
	if (json_array_size(a) > VCD_POLICY_MAX_ITEMS)
		return fail(why, size, -EINVAL, "\"%s\" has %zu items; at most %d", key,
			    json_array_size(a), VCD_POLICY_MAX_ITEMS);
	*ret = a;
	return 0;
}

/* "ban": [3, 4]; kept sorted. */
static int parse_ban(const json_t *meta, struct vcd_policy *p, char *why, size_t size)
{
	const json_t *a, *v;
	size_t i, j;
	int r = get_list(meta, "ban", "[3, 4]", &a, why, size);

	if (r < 0 || !a || json_array_size(a) == 0)
		return r;
	p->ban = calloc(json_array_size(a), sizeof(*p->ban));
	if (!p->ban)
		return -ENOMEM;
	json_array_foreach(a, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > UINT32_MAX)
			return fail(why, size, -EINVAL,
				    "\"ban\" must list node ids (integers from 1 to %u); item %zu is not one",
				    UINT32_MAX, i + 1);
		if (json_integer_value(v) == 0)
			return fail(why, size, -EINVAL, "\"ban\": node id 0 is not a node (ids start at 1)");
		p->ban[i] = (uint32_t)json_integer_value(v);
		for (j = 0; j < i; j++)
			if (p->ban[j] == p->ban[i])
				return fail(why, size, -EINVAL, "\"ban\" lists node %u twice", p->ban[i]);
	}
	p->n_ban = json_array_size(a);
	qsort(p->ban, p->n_ban, sizeof(*p->ban), cmp_u32);
	return 0;
}

/* What state.c accepts as a resource name. */
static bool name_chars_ok(const char *s)
{
	for (; *s; s++) {
		char ch = *s;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-' || ch == ':'))
			return false;
	}
	return true;
}

static int check_name(const char *key, const json_t *v, size_t i, char *why, size_t size)
{
	const char *s = json_string_value(v);
	size_t len;

	if (!s)
		return fail(why, size, -EINVAL, "\"%s\" must list resource names; item %zu is %s",
			    key, i + 1, type_name(v));
	len = strlen(s);
	if (len >= VCD_STATE_NAME_LEN)
		return fail(why, size, -EINVAL,
			    "\"%s\": item %zu is %zu characters long; a resource name has at most %d",
			    key, i + 1, len, VCD_STATE_NAME_LEN - 1);
	if (len == 0 || !name_chars_ok(s))
		return fail(why, size, -EINVAL,
			    "\"%s\": \"%.64s\" is not a resource name (1 to %d characters of A-Z a-z 0-9 . _ - :)",
			    key, s, VCD_STATE_NAME_LEN - 1);
	return 0;
}

/*
 * "with", "apart", "after": lists of resource names.  The names are
 * copied into one block: the pointers, then the strings.
 */
static int parse_names(const json_t *meta, const char *key, struct vcd_policy_names *ret,
		       char *why, size_t size)
{
	size_t i, j, bytes = 0, n;
	const json_t *a, *v;
	char *text;
	int r = get_list(meta, key, "[\"db\"]", &a, why, size);

	if (r < 0 || !a || json_array_size(a) == 0)
		return r;
	n = json_array_size(a);
	json_array_foreach(a, i, v) {
		r = check_name(key, v, i, why, size);
		if (r < 0)
			return r;
		for (j = 0; j < i; j++)
			if (strcmp(json_string_value(json_array_get(a, j)), json_string_value(v)) == 0)
				return fail(why, size, -EINVAL, "\"%s\" lists %s twice", key,
					    json_string_value(v));
		bytes += strlen(json_string_value(v)) + 1;
	}
	ret->v = malloc(n * sizeof(*ret->v) + bytes);
	if (!ret->v)
		return -ENOMEM;
	text = (char *)(ret->v + n);
	json_array_foreach(a, i, v) {
		size_t len = strlen(json_string_value(v)) + 1;

		memcpy(text, json_string_value(v), len);
		ret->v[i] = text;
		text += len;
	}
	ret->n = n;
	return 0;
}

int vcd_policy_parse(const json_t *meta, struct vcd_policy *ret, char *why, size_t size)
{
	int r;

	vcd_policy_init(ret);
	if (why && size)
		why[0] = '\0';
	if (!meta)
		return 0;
	if (!json_is_object(meta))
		return fail(why, size, -EINVAL, "meta must be an object (keys: " META_KEYS_TEXT "), not %s",
			    type_name(meta));
	r = check_meta_keys(meta, why, size);
	if (r == 0)
		r = parse_numbers(meta, ret, why, size);
	if (r == 0)
		r = parse_prefer(meta, ret, why, size);
	if (r == 0)
		r = parse_ban(meta, ret, why, size);
	if (r == 0)
		r = parse_names(meta, "with", &ret->with, why, size);
	if (r == 0)
		r = parse_names(meta, "apart", &ret->apart, why, size);
	if (r == 0)
		r = parse_names(meta, "after", &ret->after, why, size);
	if (r == -ENOMEM)
		fail(why, size, r, "out of memory");
	if (r < 0)
		vcd_policy_free(ret);
	return r;
}

uint32_t vcd_policy_score(const struct vcd_policy *p, uint32_t node)
{
	struct vcd_policy_pref key = { .node = node };
	const struct vcd_policy_pref *f;

	if (!p->n_prefer)
		return 0;
	f = bsearch(&key, p->prefer, p->n_prefer, sizeof(key), cmp_pref);
	return f ? f->score : 0;
}

bool vcd_policy_bans(const struct vcd_policy *p, uint32_t node)
{
	return p->n_ban && bsearch(&node, p->ban, p->n_ban, sizeof(node), cmp_u32);
}

bool vcd_policy_names_has(const struct vcd_policy_names *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------------
 * Failures.
 */

/* The record's "fails" entry for @node, or NULL. */
static const json_t *fails_of(const json_t *res, uint32_t node)
{
	const json_t *fails = json_object_get(res, "fails");
	char key[16];

	if (!json_object_size(fails))
		return NULL;
	snprintf(key, sizeof(key), "%u", node);
	return json_object_get(fails, key);
}

static int64_t json_i64(const json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

uint32_t vcd_policy_failcount(const json_t *res, const struct vcd_policy *p, uint32_t node,
			      int64_t now_ms)
{
	const json_t *f = fails_of(res, node);
	int64_t count, age_ms;

	if (!f)
		return 0;
	count = json_i64(f, "count");
	if (count <= 0)
		return 0;
	/* A last failure in the future (another host's clock) still counts. */
	if (p->failure_timeout_ms &&
	    !__builtin_sub_overflow(now_ms, json_i64(f, "last_ms"), &age_ms) &&
	    age_ms >= (int64_t)p->failure_timeout_ms)
		return 0;
	return count > UINT32_MAX ? UINT32_MAX : (uint32_t)count;
}

bool vcd_policy_banned_by_failures(const json_t *res, const struct vcd_policy *p,
				   uint32_t node, int64_t now_ms)
{
	return p->migration_threshold &&
	       vcd_policy_failcount(res, p, node, now_ms) >= p->migration_threshold;
}

int64_t vcd_policy_failures_expire_ms(const json_t *res, const struct vcd_policy *p,
				      uint32_t node)
{
	const json_t *f = fails_of(res, node);
	int64_t at;

	if (!f || json_i64(f, "count") <= 0 || !p->failure_timeout_ms ||
	    __builtin_add_overflow(json_i64(f, "last_ms"), (int64_t)p->failure_timeout_ms, &at))
		return 0;
	return at;
}

/* ------------------------------------------------------------------------
 * The check against the state: a graph of every resource's "with",
 * "apart" and "after", with the new meta in place of the resource's own.
 */

struct graph {
	const char *self;		/* the resource being judged */
	size_t self_i;
	size_t n;
	const char **names;		/* sorted */
	const json_t **meta;		/* each one's meta (self: the new one) */
	const json_t **def;		/* each one's definition */
	const json_t *old_meta;		/* self's meta in the state, or NULL */
	/* Undirected "with" adjacency, compressed: neighbours of i are
	 * adj[start[i] .. start[i + 1]). */
	size_t *start, *adj;
	size_t *uf_new, *uf_old;	/* "with" components, with and without self's lists */
	size_t *queue, *prev;		/* searches */
	char *edge;			/* searches: how prev[i] reached i ('w', 'a') */
	char *why;
	size_t size;
};

/* @name's index; SIZE_MAX for no resource (or no string: a snapshot's
 * meta is only known to be an object). */
static size_t name_index(const struct graph *g, const char *name)
{
	const char **f = name ? bsearch(&name, g->names, g->n, sizeof(*g->names), cmp_str)
			      : NULL;

	return f ? (size_t)(f - g->names) : SIZE_MAX;
}

static const json_t *list_of(const struct graph *g, size_t i, const char *key)
{
	return json_object_get(g->meta[i], key);
}

static bool list_has(const json_t *list, const char *name)
{
	const json_t *v;
	size_t k;

	json_array_foreach(list, k, v)
		if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
			return true;
	return false;
}

static size_t uf_find(size_t *uf, size_t i)
{
	while (uf[i] != i) {
		uf[i] = uf[uf[i]];
		i = uf[i];
	}
	return i;
}

static void uf_join(size_t *uf, size_t a, size_t b)
{
	a = uf_find(uf, a);
	b = uf_find(uf, b);
	/* The smaller index leads: the same forest on every replica. */
	if (a < b)
		uf[b] = a;
	else
		uf[a] = b;
}

/* Each "with" edge (i, j) of known resources, to @fn. */
typedef void (*edge_fn)(const struct graph *g, size_t i, size_t j, void *arg);

static void foreach_with(const struct graph *g, edge_fn fn, void *arg)
{
	size_t i, k, j;
	const json_t *v;

	for (i = 0; i < g->n; i++) {
		json_array_foreach(list_of(g, i, "with"), k, v) {
			j = name_index(g, json_string_value(v));
			if (j != SIZE_MAX && j != i)
				fn(g, i, j, arg);
		}
	}
}

static void count_edge(const struct graph *g, size_t i, size_t j, void *arg)
{
	(void)arg;
	g->start[i + 1]++;
	g->start[j + 1]++;
}

static void put_edge(const struct graph *g, size_t i, size_t j, void *arg)
{
	size_t *fill = arg;

	g->adj[fill[i]++] = j;
	g->adj[fill[j]++] = i;
	uf_join(g->uf_new, i, j);
	/* i's list: self's new lists are not in the old groups; others' are. */
	if (i != g->self_i)
		uf_join(g->uf_old, i, j);
}

/* With self's old lists (resource-meta replaces them): the groups as
 * they stand before this change. */
static void join_old_self(const struct graph *g)
{
	const json_t *v;
	size_t k, j;

	json_array_foreach(json_object_get(g->old_meta, "with"), k, v) {
		j = name_index(g, json_string_value(v));
		if (j != SIZE_MAX && j != g->self_i)
			uf_join(g->uf_old, g->self_i, j);
	}
}

static int build_with(struct graph *g)
{
	size_t i, *fill;

	g->start = calloc(g->n + 1, sizeof(*g->start));
	g->uf_new = calloc(g->n, sizeof(*g->uf_new));
	g->uf_old = calloc(g->n, sizeof(*g->uf_old));
	fill = calloc(g->n + 1, sizeof(*fill));
	if (!g->start || !g->uf_new || !g->uf_old || !fill) {
		free(fill);
		return -ENOMEM;
	}
	for (i = 0; i < g->n; i++)
		g->uf_new[i] = g->uf_old[i] = i;
	foreach_with(g, count_edge, NULL);
	for (i = 0; i < g->n; i++)
		g->start[i + 1] += g->start[i];
	g->adj = calloc(g->start[g->n] + 1, sizeof(*g->adj));
	if (!g->adj) {
		free(fill);
		return -ENOMEM;
	}
	memcpy(fill, g->start, (g->n + 1) * sizeof(*fill));
	foreach_with(g, put_edge, fill);
	free(fill);
	/* The old groups: what "with" joined before, self's old lists included. */
	join_old_self(g);
	return 0;
}

/*
 * A chain of "with" (either direction) from @a to @b, as "a -> x -> b":
 * breadth first from @b, so that following prev from @a walks forward.
 * Returns the hop after @a (SIZE_MAX: not joined).
 */
static size_t with_chain(const struct graph *g, size_t a, size_t b, char *buf, size_t size)
{
	size_t head = 0, tail = 0, i, k, used;

	for (i = 0; i < g->n; i++)
		g->prev[i] = SIZE_MAX - 1;	/* unvisited */
	g->prev[b] = SIZE_MAX;			/* the end */
	g->queue[tail++] = b;
	while (head < tail && g->prev[a] == SIZE_MAX - 1) {
		i = g->queue[head++];
		for (k = g->start[i]; k < g->start[i + 1]; k++) {
			if (g->prev[g->adj[k]] != SIZE_MAX - 1)
				continue;
			g->prev[g->adj[k]] = i;
			g->queue[tail++] = g->adj[k];
		}
	}
	buf[0] = '\0';
	if (g->prev[a] == SIZE_MAX - 1)
		return SIZE_MAX;
	for (i = a; i != SIZE_MAX; i = g->prev[i]) {
		used = strlen(buf);
		if (used + 1 >= size)
			break;
		snprintf(buf + used, size - used, "%s%s", used ? " -> " : "", g->names[i]);
	}
	return g->prev[a];
}

/* Self is "apart" from @y, but a chain of "with" joins them. */
static int self_apart_fail(const struct graph *g, size_t y)
{
	char chain[VCD_STATE_WHY_LEN];
	size_t hop = with_chain(g, g->self_i, y, chain, sizeof(chain));

	if (hop == SIZE_MAX || !list_has(list_of(g, g->self_i, "with"), g->names[hop]))
		return fail(g->why, g->size, -EINVAL,
			    "%s: \"apart\": %s, but %s runs with %s (a \"with\" chain: %s)",
			    g->self, g->names[y], g->self, g->names[y], chain);
	/* Through one of its own "with": name that one, as the operator wrote it. */
	with_chain(g, hop, y, chain, sizeof(chain));
	return fail(g->why, g->size, -EINVAL,
		    "%s: \"with\": %s and \"apart\": %s, but %s runs with %s (a \"with\" chain: %s)",
		    g->self, g->names[hop], g->names[y], g->names[hop], g->names[y], chain);
}

/* @x is "apart" from @y (x's list), and this meta joins them. */
static int other_apart_fail(const struct graph *g, size_t x, size_t y)
{
	char chain[VCD_STATE_WHY_LEN];

	with_chain(g, x, y, chain, sizeof(chain));
	return fail(g->why, g->size, -EINVAL,
		    "%s: this puts %s and %s on one node (a \"with\" chain: %s), but %s is \"apart\": %s",
		    g->self, g->names[x], g->names[y], chain, g->names[x], g->names[y]);
}

/*
 * "apart" pairs that "with" puts together.  Self's own pairs first, then
 * every other resource's in name order; a pair that the old groups already
 * joined is not this change's doing.
 */
static int check_apart(const struct graph *g)
{
	const json_t *v;
	size_t i, k, y;

	json_array_foreach(list_of(g, g->self_i, "apart"), k, v) {
		y = name_index(g, json_string_value(v));
		if (y != SIZE_MAX && uf_find(g->uf_new, g->self_i) == uf_find(g->uf_new, y))
			return self_apart_fail(g, y);
	}
	for (i = 0; i < g->n; i++) {
		if (i == g->self_i)
			continue;
		json_array_foreach(list_of(g, i, "apart"), k, v) {
			y = name_index(g, json_string_value(v));
			if (y == SIZE_MAX || y == i ||
			    uf_find(g->uf_new, i) != uf_find(g->uf_new, y) ||
			    uf_find(g->uf_old, i) == uf_find(g->uf_old, y))
				continue;
			return other_apart_fail(g, i, y);
		}
	}
	return 0;
}

/* Out-edges of @i: "with" and "after" (i waits for each of them). */
static bool visit_waits(struct graph *g, size_t i, size_t *tail, const char *key, char kind)
{
	const json_t *v;
	size_t k, j;

	json_array_foreach(list_of(g, i, key), k, v) {
		j = name_index(g, json_string_value(v));
		if (j == SIZE_MAX || g->prev[j] != SIZE_MAX - 1)
			continue;
		g->prev[j] = i;
		g->edge[j] = kind;
		if (j == g->self_i)
			return true;
		g->queue[(*tail)++] = j;
	}
	return false;
}

/* "a after b, b with a": the loop, from self back to self. */
static void loop_text(const struct graph *g, char *buf, size_t size)
{
	size_t *hops = g->queue, n = 0, i = g->self_i, used;

	/* Backwards from self: self, its predecessor, ..., self again (the
	 * queue is free once the search ended; it has room for g->n + 1). */
	do {
		hops[n++] = i;
		i = g->prev[i];
	} while (i != g->self_i && n < g->n);
	hops[n++] = g->self_i;
	buf[0] = '\0';
	/* edge[x]: how prev[x] reached x. */
	while (n-- > 1) {
		used = strlen(buf);
		if (used + 1 >= size)
			return;
		snprintf(buf + used, size - used, "%s%s %s %s", used ? ", " : "",
			 g->names[hops[n]], g->edge[hops[n - 1]] == 'w' ? "with" : "after",
			 g->names[hops[n - 1]]);
	}
}

/*
 * A loop of waits through self: A "after" B waits for B to run, A "with"
 * B for B to be placed; around a loop nothing could start first.  Any
 * new loop passes through self (only its lists changed).
 */
static int check_loops(struct graph *g)
{
	size_t head = 0, tail = 0, i;
	char text[VCD_STATE_WHY_LEN];

	for (i = 0; i < g->n; i++)
		g->prev[i] = SIZE_MAX - 1;
	g->queue[tail++] = g->self_i;
	while (head < tail) {
		i = g->queue[head++];
		if (visit_waits(g, i, &tail, "with", 'w') || visit_waits(g, i, &tail, "after", 'a')) {
			loop_text(g, text, sizeof(text));
			return fail(g->why, g->size, -EINVAL,
				    "%s: \"with\" and \"after\" would loop (%s): none of them could start first",
				    g->self, text);
		}
	}
	return 0;
}

static bool has_capacity(const struct vcd_node *n)
{
	return n->cpus > 0 && n->memory_kib > 0;
}

static uint64_t def_memory_kib(const json_t *def)
{
	json_int_t v = json_integer_value(json_object_get(def, "memory_kib"));

	return v > 0 ? (uint64_t)v : 0;
}

/* The members of self's new "with" group, listed; their memory summed. */
static uint64_t group_memory(const struct graph *g, char *list, size_t size, size_t *ret_n)
{
	size_t root = uf_find(g->uf_new, g->self_i), i, used;
	uint64_t kib = 0;

	list[0] = '\0';
	*ret_n = 0;
	for (i = 0; i < g->n; i++) {
		if (uf_find(g->uf_new, i) != root)
			continue;
		kib += def_memory_kib(g->def[i]);
		(*ret_n)++;
		used = strlen(list);
		if (used + 1 < size)
			snprintf(list + used, size - used, "%s%s", used ? ", " : "", g->names[i]);
	}
	return kib;
}

/* The group only changes when self joins resources it was not with. */
static bool group_grew(const struct graph *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (uf_find(g->uf_new, i) == uf_find(g->uf_new, g->self_i) &&
		    uf_find(g->uf_old, i) != uf_find(g->uf_old, g->self_i))
			return true;
	return false;
}

/* A "with" group needs one host with the memory of all of its members. */
static int check_group_fits(const struct graph *g, const struct vcd_state *s)
{
	uint64_t need_kib, best_kib = 0;
	uint32_t best = 0;
	char members[96];
	size_t i, n;

	if (!group_grew(g))
		return 0;
	for (i = 0; i < vcd_state_n_nodes(s); i++) {
		const struct vcd_node *node = vcd_state_node_at(s, i);

		if (has_capacity(node) && node->memory_kib > best_kib) {
			best_kib = node->memory_kib;
			best = node->id;
		}
	}
	if (!best)
		return 0;	/* nobody reported capacity yet: nothing to judge by */
	need_kib = group_memory(g, members, sizeof(members), &n);
	if (need_kib <= best_kib)
		return 0;
	return fail(g->why, g->size, -EINVAL,
		    "%s: the \"with\" group (%zu resources: %s) needs %" PRIu64 " MiB on one host; the largest has %" PRIu64 " MiB (node %u)",
		    g->self, n, members, need_kib / 1024, best_kib / 1024, best);
}

/* Every host that could run anything is banned. */
static int check_ban_all(const struct vcd_policy *p, const struct vcd_state *s, const char *self,
			 char *why, size_t size)
{
	char list[96] = "";
	size_t i, n = 0, used;

	for (i = 0; i < vcd_state_n_nodes(s); i++) {
		const struct vcd_node *node = vcd_state_node_at(s, i);

		if (!has_capacity(node))
			continue;
		if (!vcd_policy_bans(p, node->id))
			return 0;
		n++;
		used = strlen(list);
		if (used + 1 < sizeof(list))
			snprintf(list + used, sizeof(list) - used, "%s%u", used ? ", " : "", node->id);
	}
	if (!n)
		return 0;
	return fail(why, size, -EINVAL,
		    "%s: \"ban\" covers every host with capacity (%zu: node %s); it could never run",
		    self, n, list);
}

/* Names in self's lists: resources, never itself. */
static int check_names(const struct vcd_policy *p, const struct vcd_state *s, const char *self,
		       char *why, size_t size)
{
	const struct {
		const char *key;
		const struct vcd_policy_names *l;
	} lists[] = { { "with", &p->with }, { "apart", &p->apart }, { "after", &p->after } };
	const json_t *all = vcd_state_resources(s);
	size_t i, k;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		for (k = 0; k < lists[i].l->n; k++) {
			const char *name = lists[i].l->v[k];

			if (strcmp(name, self) == 0)
				return fail(why, size, -EINVAL, "%s: \"%s\" names %s itself", self,
					    lists[i].key, self);
			if (!json_object_get(all, name))
				return fail(why, size, -EINVAL,
					    "%s: \"%s\" names %s, which is not a resource", self,
					    lists[i].key, name);
		}
	}
	return 0;
}

/* Contradictions within the meta itself. */
static int check_self(const struct vcd_policy *p, const char *self, char *why, size_t size)
{
	size_t i;

	for (i = 0; i < p->n_prefer; i++)
		if (vcd_policy_bans(p, p->prefer[i].node))
			return fail(why, size, -EINVAL, "%s: node %u is in both \"prefer\" and \"ban\"",
				    self, p->prefer[i].node);
	for (i = 0; i < p->with.n; i++)
		if (vcd_policy_names_has(&p->apart, p->with.v[i]))
			return fail(why, size, -EINVAL, "%s: %s is in both \"with\" and \"apart\"",
				    self, p->with.v[i]);
	return 0;
}

static void graph_free(struct graph *g)
{
	free(g->names);
	free(g->meta);
	free(g->def);
	free(g->start);
	free(g->adj);
	free(g->uf_new);
	free(g->uf_old);
	free(g->queue);
	free(g->prev);
	free(g->edge);
}

static int graph_init(struct graph *g, const struct vcd_state *s, const char *self,
		      const json_t *definition, const json_t *meta)
{
	const json_t *all = vcd_state_resources(s), *own = json_object_get(all, self);
	const char *name;
	json_t *res;
	size_t i, cap = json_object_size(all) + 1;

	g->names = calloc(cap, sizeof(*g->names));
	g->meta = calloc(cap, sizeof(*g->meta));
	g->def = calloc(cap, sizeof(*g->def));
	g->queue = calloc(cap + 1, sizeof(*g->queue));
	g->prev = calloc(cap, sizeof(*g->prev));
	g->edge = calloc(cap, sizeof(*g->edge));
	if (!g->names || !g->meta || !g->def || !g->queue || !g->prev || !g->edge)
		return -ENOMEM;
	json_object_foreach((json_t *)all, name, res)
		g->names[g->n++] = name;
	if (!own)
		g->names[g->n++] = self;
	qsort(g->names, g->n, sizeof(*g->names), cmp_str);
	g->self = self;
	g->self_i = name_index(g, self);
	g->old_meta = own ? json_object_get(own, "meta") : NULL;
	for (i = 0; i < g->n; i++) {
		res = json_object_get(all, g->names[i]);
		g->meta[i] = i == g->self_i ? meta : json_object_get(res, "meta");
		g->def[i] = i == g->self_i && definition ? definition
							  : json_object_get(res, "definition");
	}
	return build_with(g);
}

int vcd_policy_check_def(const struct vcd_state *s, const char *name,
			 const json_t *definition, const json_t *meta, char *why, size_t size)
{
	struct graph g = { .why = why, .size = size };
	struct vcd_policy p;
	char reason[VCD_STATE_WHY_LEN];
	int r = vcd_policy_parse(meta, &p, reason, sizeof(reason));

	if (r < 0)
		return fail(why, size, r, "%s: %s", name, reason);
	r = check_self(&p, name, why, size);
	if (r == 0)
		r = check_names(&p, s, name, why, size);
	if (r == 0)
		r = check_ban_all(&p, s, name, why, size);
	vcd_policy_free(&p);
	if (r < 0)
		return r;
	r = graph_init(&g, s, name, definition, meta);
	if (r == 0)
		r = check_apart(&g);
	if (r == 0)
		r = check_loops(&g);
	if (r == 0)
		r = check_group_fits(&g, s);
	graph_free(&g);
	if (r == -ENOMEM)
		fail(why, size, r, "out of memory");
	return r;
}

int vcd_policy_check(const struct vcd_state *s, const char *name, const json_t *meta,
		     char *why, size_t size)
{
	return vcd_policy_check_def(s, name, NULL, meta, why, size);
}
