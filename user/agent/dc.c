// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The DC's pending fences (see dc.h for the rule).  Pure and
 * deterministic: the same events at the same times give the same actions,
 * in node order.
 *
 * Every event ends in evaluate_all(), so whatever changed (a view, the
 * voters, time) is judged by the same one decision function, decide().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/vcluster.h>

#include "dc.h"

#define NS_PER_MS	1000000ull

struct pending {
	uint32_t node_id;
	uint64_t incarnation;
	uint64_t last_heard_ns;		/* 0: never heard */
	uint64_t window_start_ns;
	uint64_t own_fenced_by_ns;	/* 0: no window */
	bool strong;
	bool armed;
	bool never_heard;
	uint8_t fence_action;
	bool down_committed;
	bool told_operator;
	/* Derived by decide(), for the next deadline and for status. */
	uint64_t deadline_ns;		/* latest window of the DOWN voters */
	uint32_t votes_down;
	bool majority;
	char weak[160];			/* why it waits for an operator; "" strong */
};

struct view {
	uint32_t voter_id;
	uint32_t node_id;
	uint64_t incarnation;
	bool down;
	uint64_t fenced_by_ns;
};

struct vcd_dc {
	struct vcd_dc_params p;
	bool active;
	uint64_t term;
	struct pending pend[VCD_DC_MAX_NODES];	/* ordered by node id */
	size_t n_pend;
	struct view *views;
	size_t n_views, cap_views;
};

const char *vcd_dc_act_name(enum vcd_dc_act type)
{
	switch (type) {
	case VCD_DC_COMMIT_DOWN:
		return "commit-down";
	case VCD_DC_COMMIT_FENCED:
		return "commit-fenced";
	case VCD_DC_WAIT_OPERATOR:
		return "wait-operator";
	case VCD_DC_CANCEL:
		return "cancel";
	}
	return "invalid";
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* A signed "in N ms" / "N ms ago" for log lines. */
static long long rel_ms(uint64_t t, uint64_t now)
{
	return t >= now ? (long long)((t - now) / NS_PER_MS) : -(long long)((now - t) / NS_PER_MS);
}

uint64_t vcd_dc_cold_window_ns(const struct vcd_dc_params *p)
{
	uint64_t ms = (uint64_t)p->dead_ms + p->quorum_timeout_ms + p->kill_bound_ms +
		      2ull * p->interval_ms + p->margin_ms;

	return ms * NS_PER_MS;
}

/* ------------------------------------------------------------------------
 * Output.
 */

void vcd_dc_out_init(struct vcd_dc_out *out)
{
	memset(out, 0, sizeof(*out));
}

void vcd_dc_out_clear(struct vcd_dc_out *out)
{
	size_t i;

	for (i = 0; i < out->n; i++)
		free(out->act[i].entry);
	out->n = 0;
	out->next_deadline_ns = 0;
}

void vcd_dc_out_free(struct vcd_dc_out *out)
{
	vcd_dc_out_clear(out);
	free(out->act);
	vcd_dc_out_init(out);
}

static uint32_t votes_total(const struct vcd_dc *dc)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < dc->p.n_voters; i++)
		sum += dc->p.voters[i].votes;
	return sum;
}

static struct vcd_dc_action *act_new(struct vcd_dc_out *out, enum vcd_dc_act type,
				     const struct vcd_dc *dc, const struct pending *p,
				     uint64_t now_ns)
{
	struct vcd_dc_action *a;

	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 8;
		void *v = realloc(out->act, cap * sizeof(*out->act));

		if (!v)
			return NULL;
		out->act = v;
		out->cap = cap;
	}
	a = &out->act[out->n++];
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->node_id = p->node_id;
	a->incarnation = p->incarnation;
	a->now_ns = now_ns;
	a->last_heard_ns = p->last_heard_ns;
	a->window_start_ns = p->window_start_ns;
	a->deadline_ns = p->deadline_ns;
	a->votes_down = p->votes_down;
	a->votes_total = votes_total(dc);
	return a;
}

__attribute__((format(printf, 2, 3)))
static void act_text(struct vcd_dc_action *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->text, sizeof(a->text), fmt, ap);
	va_end(ap);
}

/* "last heard 4230 ms ago" or "never heard". */
static void heard_text(char *buf, size_t size, const struct pending *p, uint64_t now)
{
	if (p->never_heard)
		snprintf(buf, size, "never heard");
	else
		snprintf(buf, size, "last heard %lld ms ago", -rel_ms(p->last_heard_ns, now));
}

/* ------------------------------------------------------------------------
 * Pending fences and views.
 */

static struct pending *pend_find(struct vcd_dc *dc, uint32_t node_id)
{
	size_t i;

	for (i = 0; i < dc->n_pend; i++)
		if (dc->pend[i].node_id == node_id)
			return &dc->pend[i];
	return NULL;
}

static void pend_remove(struct vcd_dc *dc, struct pending *p)
{
	size_t i = (size_t)(p - dc->pend);

	memmove(p, p + 1, (dc->n_pend - i - 1) * sizeof(*p));
	dc->n_pend--;
}

static struct pending *pend_add(struct vcd_dc *dc, uint32_t node_id)
{
	size_t i;

	if (dc->n_pend == VCD_DC_MAX_NODES)
		return NULL;
	for (i = 0; i < dc->n_pend && dc->pend[i].node_id < node_id; i++)
		;
	memmove(&dc->pend[i + 1], &dc->pend[i], (dc->n_pend - i) * sizeof(dc->pend[0]));
	dc->n_pend++;
	memset(&dc->pend[i], 0, sizeof(dc->pend[i]));
	dc->pend[i].node_id = node_id;
	return &dc->pend[i];
}

/*
 * Start (or restart) the window for @peer's life from what the transport
 * says.  @restart: a new DC, whose wait starts in full at @now.  A host
 * never heard counts as silent since @now, with this host's own timing.
 */
static void pend_start(const struct vcd_dc *dc, struct pending *p,
		       const struct vcd_dc_peer *peer, bool restart, uint64_t now)
{
	p->incarnation = peer->incarnation;
	p->last_heard_ns = peer->last_heard_ns;
	p->fence_action = peer->fence_action;
	p->down_committed = false;
	p->told_operator = false;
	if (peer->last_heard_ns == 0) {
		p->never_heard = true;
		p->strong = p->armed = dc->p.never_heard_strong;
		p->window_start_ns = now;
		p->own_fenced_by_ns = add_sat(now, vcd_dc_cold_window_ns(&dc->p));
		return;
	}
	p->never_heard = false;
	p->strong = peer->strong;
	p->armed = peer->armed;
	p->window_start_ns = peer->last_heard_ns;
	p->own_fenced_by_ns = peer->fenced_by_ns;
	if (restart && peer->fenced_by_ns > peer->last_heard_ns) {
		/* The same length, counted from now: nothing another DC measured
		 * (or this one before it was DC) shortens it. */
		p->window_start_ns = now;
		p->own_fenced_by_ns = add_sat(now, peer->fenced_by_ns - peer->last_heard_ns);
	}
}

static const struct vcd_dc_voter *voter_find(const struct vcd_dc *dc, uint32_t id)
{
	size_t i;

	for (i = 0; i < dc->p.n_voters; i++)
		if (dc->p.voters[i].id == id)
			return &dc->p.voters[i];
	return NULL;
}

static struct view *view_find(struct vcd_dc *dc, uint32_t voter_id, uint32_t node_id)
{
	size_t i;

	for (i = 0; i < dc->n_views; i++)
		if (dc->views[i].voter_id == voter_id && dc->views[i].node_id == node_id)
			return &dc->views[i];
	return NULL;
}

/* Why @p waits for an operator, into p->weak ("" when it does not). */
static void weak_reason(struct pending *p)
{
	static const char *const actions[] = {
		[VC_FENCE_ACTION_NONE] = "none", [VC_FENCE_ACTION_LOG] = "log",
		[VC_FENCE_ACTION_KILL] = "kill", [VC_FENCE_ACTION_PANIC] = "panic",
		[VC_FENCE_ACTION_REBOOT] = "reboot",
	};
	const char *action = p->fence_action < sizeof(actions) / sizeof(actions[0]) &&
			     actions[p->fence_action] ? actions[p->fence_action] : "unknown";

	p->weak[0] = '\0';
	if (p->never_heard && !p->strong)
		snprintf(p->weak, sizeof(p->weak),
			 "it was never heard and the configured fencing is weak");
	else if (!p->armed)
		snprintf(p->weak, sizeof(p->weak), "it was not armed");
	else if (!p->strong)
		snprintf(p->weak, sizeof(p->weak), "it was armed with action %s", action);
	else if (p->own_fenced_by_ns == 0)
		snprintf(p->weak, sizeof(p->weak),
			 "it advertised no fence window (no quorum timeout)");
}

/*
 * Count the votes that see @p's life DOWN and the latest window among
 * them.  The DC's own view is DOWN (else there would be no pending fence).
 * A voter's view counts when it is about this life, or the voter never
 * heard the node at all; one that knows no window makes the fence weak,
 * because nothing can be concluded from a silence without a deadline.
 */
static void count_votes(struct vcd_dc *dc, struct pending *p)
{
	const struct vcd_dc_voter *self = voter_find(dc, dc->p.self_id);
	size_t i;

	weak_reason(p);
	p->votes_down = self ? self->votes : 0;
	p->deadline_ns = p->weak[0] ? 0 : p->own_fenced_by_ns;
	for (i = 0; i < dc->p.n_voters; i++) {
		const struct vcd_dc_voter *v = &dc->p.voters[i];
		const struct view *w = view_find(dc, v->id, p->node_id);

		if (v->id == dc->p.self_id || !w || !w->down ||
		    (w->incarnation != 0 && w->incarnation != p->incarnation))
			continue;
		p->votes_down += v->votes;
		if (p->weak[0])
			continue;
		if (w->fenced_by_ns == 0) {
			snprintf(p->weak, sizeof(p->weak), "voter %u knows no fence window for it",
				 v->id);
			p->deadline_ns = 0;
		} else if (w->fenced_by_ns > p->deadline_ns) {
			p->deadline_ns = w->fenced_by_ns;
		}
	}
	p->majority = 2ull * p->votes_down > votes_total(dc);
}

static int commit_down(struct vcd_dc *dc, struct pending *p, uint64_t now,
		       struct vcd_dc_out *out)
{
	struct vcd_dc_action *a = act_new(out, VCD_DC_COMMIT_DOWN, dc, p, now);
	char heard[64];

	if (!a)
		return -ENOMEM;
	heard_text(heard, sizeof(heard), p, now);
	if (p->deadline_ns)
		act_text(a, "node %u (incarnation %llu) is down for %u of %u votes, %s: fence window closes in %lld ms",
			 p->node_id, (unsigned long long)p->incarnation, a->votes_down,
			 a->votes_total, heard, rel_ms(p->deadline_ns, now));
	else
		act_text(a, "node %u (incarnation %llu) is down for %u of %u votes, %s: weak fencing, %s",
			 p->node_id, (unsigned long long)p->incarnation, a->votes_down,
			 a->votes_total, heard, p->weak);
	p->down_committed = true;
	return vcd_entry_node_down(p->node_id, p->incarnation, &a->entry, &a->entry_len);
}

static int commit_fenced(struct vcd_dc *dc, struct pending *p, enum vcd_fence_how how,
			 const char *who, struct vcd_dc_now now, struct vcd_dc_out *out)
{
	struct vcd_dc_action *a = act_new(out, VCD_DC_COMMIT_FENCED, dc, p, now.ns);
	struct vcd_fence_rec rec = {
		.node_id = p->node_id,
		.incarnation = p->incarnation,
		.how = how,
		.last_heard_age_ms = p->never_heard ? -1 :
			(int64_t)((now.ns - (p->last_heard_ns < now.ns ? p->last_heard_ns : now.ns)) / NS_PER_MS),
		.window_ms = p->deadline_ns > p->window_start_ns ?
			(p->deadline_ns - p->window_start_ns) / NS_PER_MS : 0,
		.dc_id = dc->p.self_id,
		.term = dc->term,
		.time_ms = now.wall_ms,
	};
	char heard[64];

	if (!a)
		return -ENOMEM;
	a->how = how;
	heard_text(heard, sizeof(heard), p, now.ns);
	if (how == VCD_FENCE_AUTO) {
		snprintf(rec.note, sizeof(rec.note), "strong fencing; down for %u of %u votes",
			 a->votes_down, a->votes_total);
		act_text(a, "node %u (incarnation %llu) fenced: strong fencing and the window closed (now %llu ns >= deadline %llu ns; window %llu ms; %s; %u of %u votes)",
			 p->node_id, (unsigned long long)p->incarnation,
			 (unsigned long long)now.ns, (unsigned long long)p->deadline_ns,
			 (unsigned long long)rec.window_ms, heard, a->votes_down, a->votes_total);
	} else {
		snprintf(rec.note, sizeof(rec.note), "confirmed by %s", who && *who ? who : "an operator");
		act_text(a, "node %u (incarnation %llu) fenced: %s (%s; %u of %u votes see it down)",
			 p->node_id, (unsigned long long)p->incarnation, rec.note, heard,
			 a->votes_down, a->votes_total);
	}
	return vcd_entry_node_fenced(&rec, &a->entry, &a->entry_len);
}

/*
 * The one decision.  Returns 1 when @p is done (fenced committed), 0 when
 * it keeps waiting, or a negative errno.
 */
static int decide(struct vcd_dc *dc, struct pending *p, struct vcd_dc_now now,
		  struct vcd_dc_out *out)
{
	struct vcd_dc_action *a;
	int r;

	count_votes(dc, p);
	if (!p->majority)
		return 0;	/* P may still be quorate through those who hear it */
	if (!p->down_committed) {
		r = commit_down(dc, p, now.ns, out);
		if (r < 0)
			return r;
	}
	if (p->weak[0]) {
		if (p->told_operator)
			return 0;
		a = act_new(out, VCD_DC_WAIT_OPERATOR, dc, p, now.ns);
		if (!a)
			return -ENOMEM;
		act_text(a, "node %u (incarnation %llu) is down but its fencing is weak (%s): waiting for 'vclusterctl node confirm-fenced %u'",
			 p->node_id, (unsigned long long)p->incarnation, p->weak, p->node_id);
		p->told_operator = true;
		return 0;
	}
	if (now.ns < p->deadline_ns)
		return 0;
	r = commit_fenced(dc, p, VCD_FENCE_AUTO, NULL, now, out);
	return r < 0 ? r : 1;
}

static int evaluate_all(struct vcd_dc *dc, struct vcd_dc_now now, struct vcd_dc_out *out)
{
	size_t i = 0;
	int r;

	out->next_deadline_ns = 0;
	if (!dc->active)
		return 0;
	while (i < dc->n_pend) {
		struct pending *p = &dc->pend[i];

		r = decide(dc, p, now, out);
		if (r < 0)
			return r;
		if (r == 1) {
			pend_remove(dc, p);
			continue;
		}
		if (p->majority && p->deadline_ns &&
		    (!out->next_deadline_ns || p->deadline_ns < out->next_deadline_ns))
			out->next_deadline_ns = p->deadline_ns;
		i++;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Events.
 */

static int check_voters(uint32_t self_id, const struct vcd_dc_voter *v, size_t n)
{
	size_t i, j;

	if (self_id == 0 || n > VCD_DC_MAX_NODES)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (v[i].id == 0)
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (v[j].id == v[i].id)
				return -EINVAL;
	}
	return 0;
}

int vcd_dc_new(const struct vcd_dc_params *p, struct vcd_dc **ret)
{
	struct vcd_dc *dc;
	int r = check_voters(p->self_id, p->voters, p->n_voters);

	if (r < 0)
		return r;
	dc = calloc(1, sizeof(*dc));
	if (!dc)
		return -ENOMEM;
	dc->p = *p;
	*ret = dc;
	return 0;
}

void vcd_dc_free(struct vcd_dc *dc)
{
	if (!dc)
		return;
	free(dc->views);
	free(dc);
}

int vcd_dc_set_voters(struct vcd_dc *dc, const struct vcd_dc_voter *voters, size_t n,
		      struct vcd_dc_now now, struct vcd_dc_out *out)
{
	int r = check_voters(dc->p.self_id, voters, n);

	if (r < 0)
		return r;
	memcpy(dc->p.voters, voters, n * sizeof(*voters));
	dc->p.n_voters = n;
	return evaluate_all(dc, now, out);
}

int vcd_dc_become(struct vcd_dc *dc, uint64_t term, const struct vcd_dc_node *nodes,
		  size_t n, struct vcd_dc_now now, struct vcd_dc_out *out)
{
	struct pending *p;
	size_t i;

	dc->active = true;
	dc->term = term;
	dc->n_pend = 0;
	for (i = 0; i < n; i++) {
		if (nodes[i].up || nodes[i].peer.node_id == 0 ||
		    nodes[i].peer.node_id == dc->p.self_id || pend_find(dc, nodes[i].peer.node_id))
			continue;
		p = pend_add(dc, nodes[i].peer.node_id);
		if (!p)
			return -ENOSPC;
		pend_start(dc, p, &nodes[i].peer, true, now.ns);
		p->down_committed = nodes[i].down_committed;
	}
	return evaluate_all(dc, now, out);
}

void vcd_dc_resign(struct vcd_dc *dc)
{
	dc->active = false;
	dc->n_pend = 0;
}

bool vcd_dc_active(const struct vcd_dc *dc)
{
	return dc->active;
}

int vcd_dc_peer_down(struct vcd_dc *dc, const struct vcd_dc_peer *peer,
		     struct vcd_dc_now now, struct vcd_dc_out *out)
{
	struct pending *p;

	if (!dc->active || peer->node_id == 0 || peer->node_id == dc->p.self_id)
		return evaluate_all(dc, now, out);
	p = pend_find(dc, peer->node_id);
	if (p && peer->incarnation < p->incarnation)
		return evaluate_all(dc, now, out);	/* an older life: stale */
	if (p && peer->incarnation == p->incarnation) {
		/* The same life again: a later window may only lengthen the wait. */
		if (!p->never_heard && peer->fenced_by_ns > p->own_fenced_by_ns)
			p->own_fenced_by_ns = peer->fenced_by_ns;
		return evaluate_all(dc, now, out);
	}
	if (!p) {
		p = pend_add(dc, peer->node_id);
		if (!p)
			return -ENOSPC;
	}
	pend_start(dc, p, peer, false, now.ns);
	return evaluate_all(dc, now, out);
}

int vcd_dc_peer_up(struct vcd_dc *dc, uint32_t node_id, uint64_t incarnation,
		   struct vcd_dc_now now, struct vcd_dc_out *out)
{
	struct pending *p = dc->active ? pend_find(dc, node_id) : NULL;
	struct vcd_dc_action *a;

	if (p && incarnation >= p->incarnation) {
		count_votes(dc, p);
		a = act_new(out, VCD_DC_CANCEL, dc, p, now.ns);
		if (!a)
			return -ENOMEM;
		act_text(a, "node %u is up again at incarnation %llu: the pending fence of incarnation %llu is cancelled%s",
			 node_id, (unsigned long long)incarnation,
			 (unsigned long long)p->incarnation,
			 p->down_committed ? " (the state keeps that life down)" : "");
		pend_remove(dc, p);
	}
	return evaluate_all(dc, now, out);
}

int vcd_dc_view(struct vcd_dc *dc, const struct vcd_dc_view *v, struct vcd_dc_now now,
		struct vcd_dc_out *out)
{
	struct view *w;

	if (v->voter_id == dc->p.self_id || !voter_find(dc, v->voter_id) || v->node_id == 0)
		return -EINVAL;
	w = view_find(dc, v->voter_id, v->node_id);
	if (!w) {
		if (dc->n_views == dc->cap_views) {
			size_t cap = dc->cap_views ? dc->cap_views * 2 : 16;
			void *m = realloc(dc->views, cap * sizeof(*dc->views));

			if (!m)
				return -ENOMEM;
			dc->views = m;
			dc->cap_views = cap;
		}
		w = &dc->views[dc->n_views++];
	}
	w->voter_id = v->voter_id;
	w->node_id = v->node_id;
	w->incarnation = v->incarnation;
	w->down = v->down;
	w->fenced_by_ns = v->down ? v->fenced_by_ns : 0;
	return evaluate_all(dc, now, out);
}

int vcd_dc_confirm(struct vcd_dc *dc, uint32_t node_id, const char *who,
		   struct vcd_dc_now now, struct vcd_dc_out *out, char *why, size_t why_size)
{
	struct pending *p;
	int r;

	if (!dc->active) {
		if (why && why_size)
			snprintf(why, why_size, "this agent is not the DC");
		return -EAGAIN;
	}
	p = pend_find(dc, node_id);
	if (!p) {
		if (why && why_size)
			snprintf(why, why_size,
				 "node %u has no pending fence: this DC does not see it down",
				 node_id);
		return -ENOENT;
	}
	count_votes(dc, p);
	if (!p->down_committed) {
		r = commit_down(dc, p, now.ns, out);
		if (r < 0)
			return r;
	}
	r = commit_fenced(dc, p, VCD_FENCE_CONFIRMED, who, now, out);
	if (r < 0)
		return r;
	pend_remove(dc, p);
	return evaluate_all(dc, now, out);
}

int vcd_dc_tick(struct vcd_dc *dc, struct vcd_dc_now now, struct vcd_dc_out *out)
{
	return evaluate_all(dc, now, out);
}

json_t *vcd_dc_to_json(const struct vcd_dc *dc, uint64_t now_ns)
{
	json_t *arr = json_array();
	size_t i;

	if (!arr)
		return NULL;
	for (i = 0; i < dc->n_pend; i++) {
		struct pending p = dc->pend[i];
		json_t *o;

		count_votes((struct vcd_dc *)dc, &p);
		o = json_pack("{s:I, s:I, s:b, s:I, s:I, s:o, s:o}",
			      "node", (json_int_t)p.node_id,
			      "incarnation", (json_int_t)p.incarnation,
			      "down_committed", p.down_committed,
			      "votes_down", (json_int_t)p.votes_down,
			      "votes_total", (json_int_t)votes_total(dc),
			      "deadline_in_ms", p.majority && p.deadline_ns ?
				json_integer(rel_ms(p.deadline_ns, now_ns)) : json_null(),
			      "weak", p.weak[0] ? json_string(p.weak) : json_null());
		if (json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}
