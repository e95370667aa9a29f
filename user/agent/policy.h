/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A resource's placement policy: its "meta" object, parsed and checked.
 *
 *	"meta": {
 *	   "priority": 0,            -1000000..1000000: placed first when capacity is short
 *	   "prefer": {"2": 100},     node id -> score 1..1000000: where it would rather run
 *	   "ban": [3],               node ids it never runs on
 *	   "with": ["db"],           runs where each of these runs (they lead; it follows)
 *	   "apart": ["web2"],        never on a node where one of these is (symmetric)
 *	   "after": ["db"],          started only when each of these is "running"
 *	   "stickiness": 0,          0..1000000: score for staying where it runs
 *	   "migration_threshold": 3, failures on a node that ban it there (0: never)
 *	   "failure_timeout_ms": 60000  failures older than this stop counting (0: never)
 *	}
 *
 * Every key is optional; the defaults are below.  Lists hold at most
 * VCD_POLICY_MAX_ITEMS items, without duplicates.
 *
 * vcd_policy_parse() reads one meta object on its own (types, ranges,
 * duplicates).  vcd_policy_check() also reads it against the replicated
 * state and refuses constraints that could never be met, so that an
 * impossible policy is refused when it is committed, with the reason,
 * instead of leaving a resource stopped for ever.  Both are pure and
 * deterministic (state.c's apply calls the check): the result and the
 * reason depend only on the state and the arguments, never on the order
 * of a JSON object's keys.
 *
 * Failures: a resource's record keeps, per node, the failures and the
 * time of the last one ("fails": {"2": {"count": 3, "last_ms": ...}}).
 * Its failcount on a node at a time now_ms is that count while the last
 * failure is younger than failure_timeout_ms (always, when 0), else 0.
 * It may not run on a node where its failcount reached
 * migration_threshold (unless that is 0).
 */
#ifndef VCD_POLICY_H
#define VCD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "state.h"

#define VCD_POLICY_DEFAULT_PRIORITY		0
#define VCD_POLICY_DEFAULT_STICKINESS		0
#define VCD_POLICY_DEFAULT_THRESHOLD		3
#define VCD_POLICY_DEFAULT_FAILURE_TIMEOUT_MS	60000

#define VCD_POLICY_PRIORITY_MAX		1000000	/* and -1000000 the least */
#define VCD_POLICY_SCORE_MAX		1000000	/* prefer scores and stickiness */
#define VCD_POLICY_THRESHOLD_MAX	1000000
#define VCD_POLICY_FAILURE_TIMEOUT_MAX_MS	(366LL * 24 * 3600 * 1000)	/* a year */
#define VCD_POLICY_MAX_ITEMS		VCD_STATE_MAX_NODES	/* per list */

struct vcd_policy_pref {
	uint32_t node;
	uint32_t score;			/* 1..VCD_POLICY_SCORE_MAX */
};

/* Resource names, in the meta's order (the strings are owned). */
struct vcd_policy_names {
	const char **v;
	size_t n;
};

/* A resource's meta with the defaults filled in. */
struct vcd_policy {
	int32_t priority;
	struct vcd_policy_pref *prefer;	/* sorted by node id */
	size_t n_prefer;
	uint32_t *ban;			/* sorted */
	size_t n_ban;
	struct vcd_policy_names with, apart, after;
	uint32_t stickiness;
	uint32_t migration_threshold;	/* 0: failures never ban */
	uint64_t failure_timeout_ms;	/* 0: failures never expire */
};

/*
 * Parse @meta (NULL: all defaults) into @ret.  Returns 0, -EINVAL with
 * the reason in @why (an unknown key, naming the valid ones; a wrong type;
 * a value out of range; a duplicate list item; node id 0; a bad or
 * overlong resource name), or -ENOMEM.  On error @ret holds nothing to
 * free.  Free a parsed policy with vcd_policy_free().
 */
int vcd_policy_parse(const json_t *meta, struct vcd_policy *ret, char *why, size_t size);
void vcd_policy_free(struct vcd_policy *p);	/* NULL is fine; leaves defaults */

/* The defaults, nothing to free (what a resource without meta gets). */
void vcd_policy_init(struct vcd_policy *p);
/* @res's policy (its record's "meta"); all defaults when it has none or
 * one apply would refuse (only a hand-made snapshot holds one).  Free it
 * with vcd_policy_free(). */
void vcd_policy_of(const json_t *res, struct vcd_policy *ret);

/* prefer[@node], 0 when not listed. */
uint32_t vcd_policy_score(const struct vcd_policy *p, uint32_t node);
/* @node is in "ban". */
bool vcd_policy_bans(const struct vcd_policy *p, uint32_t node);
/* @name is in @l. */
bool vcd_policy_names_has(const struct vcd_policy_names *l, const char *name);

/*
 * May resource @name have @meta in state @s?  Parses it (as above), then
 * refuses (-EINVAL, the reason in @why, starting with "NAME: ") what could
 * never be met:
 *   - "with", "apart" or "after" naming the resource itself or a resource
 *     that does not exist;
 *   - a node both preferred and banned; a resource both "with" and "apart";
 *   - resources that a chain of "with" puts on one node while one is
 *     "apart" from another (counting every resource's meta);
 *   - a loop through "with" and "after" (A after B, B with A: neither
 *     could start first);
 *   - a "with" group whose memory together exceeds every host's memory,
 *     when some host has reported its capacity;
 *   - a "ban" of every host that has reported its capacity.
 * Only what this meta changes is judged: a contradiction between other
 * resources that already stands does not refuse it.
 * Deterministic: for state.c's apply of resource-add and resource-meta.
 * @name need not exist yet (resource-add); its memory is then taken as 0
 * for the group check: use vcd_policy_check_def() to count it.
 * Returns 0, -EINVAL or -ENOMEM.
 */
int vcd_policy_check(const struct vcd_state *s, const char *name, const json_t *meta,
		     char *why, size_t size);
/* The same with the resource's @definition ("memory_kib"); NULL: its
 * record's, when it exists. */
int vcd_policy_check_def(const struct vcd_state *s, const char *name,
			 const json_t *definition, const json_t *meta, char *why, size_t size);

/*
 * Failures of resource record @res on @node at @now_ms (CLOCK_REALTIME
 * ms) under @p: "fails"[node].count, or 0 once the last of them is
 * failure_timeout_ms old.
 */
uint32_t vcd_policy_failcount(const json_t *res, const struct vcd_policy *p, uint32_t node,
			      int64_t now_ms);
/* Its failcount on @node reached migration_threshold (which is not 0). */
bool vcd_policy_banned_by_failures(const json_t *res, const struct vcd_policy *p,
				   uint32_t node, int64_t now_ms);
/* When the failures on @node stop counting (CLOCK_REALTIME ms); 0 when
 * there are none or they never expire. */
int64_t vcd_policy_failures_expire_ms(const json_t *res, const struct vcd_policy *p,
				      uint32_t node);

#endif /* VCD_POLICY_H */
