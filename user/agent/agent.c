// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * vclusterd's glue: one libuv loop owns every descriptor, and this file
 * connects the parts that own them.
 *
 *   membership (mship-*.c)  ──peer/quorum/fence events──►  here
 *   raft (consensus.c)      ──leader changes, forwarded requests──► here
 *   here ──entries──► raft ──committed entries──► state.c (every host)
 *   here ──events + now──► dc.c (the DC only) ──actions──► raft
 *   control socket (ctl.c)  ──requests──► here ──replies/events──► clients
 *
 * Timers, all on the loop:
 *   tick     every raft heartbeat: the quorum lease (pet the watchdog only
 *            while raft says we are in touch with a quorum), arming, the
 *            advisory payload, and the DC's next deadline.
 *
 * Safety notes (the rules are in Documentation/fencing.rst):
 * - The watchdog is armed only once this host is both quorate in the
 *   membership and in touch with a raft quorum: arming starts the quorum
 *   deadline, and before that the host runs nothing.
 * - Petting needs the raft lease, so an agent cut off from the majority
 *   (or hung) lets its own host fence itself.
 * - The DC commits a node as fenced only when dc.c says its window has
 *   closed on the DC's own clock, for a majority of voters' views.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "../parse.h"
#include "agent.h"
#include "consensus.h"
#include "ctl.h"
#include "dc.h"
#include "hooks.h"
#include "incarnation.h"
#include "log.h"
#include "mship.h"
#include "ocf.h"
#include "rm.h"
#include "sdnotify.h"
#include "state.h"

#define FORWARD_TIMEOUT_MS	3000
#define TRANSFER_WAIT_MS	3000
#define REPORT_RESEND_MS	1000

struct agent {
	uv_loop_t loop;
	struct vcd_aconf *ac;
	const struct vcd_run_opts *opts;
	uint64_t incarnation;
	uint64_t started_ns;

	struct vcd_mship *ms;
	bool mship_started;
	bool armed;
	bool fenced;
	uint8_t fence_reason;

	struct vcd_cons *cons;
	struct vcd_cons_params cp;
	uint64_t leader_id;
	uint64_t term;
	bool is_dc;
	bool lease;			/* last tick: in touch with a quorum */
	uint64_t last_pet_ns;

	struct vcd_state *state;
	struct vcd_dc *dc;
	struct vcd_ctl *ctl;
	struct vcd_rm *rm;
	struct vcd_hooks *hooks;	/* hook scripts for events; NULL once closed */

	uv_timer_t tick;
	uv_signal_t sig_term;
	uv_signal_t sig_int;
	uv_signal_t sig_pipe;
	uint64_t last_report_ns;

	int exit_code;
	bool stopping;
	bool transferring;
	int closing;			/* handles and parts still closing */
};

/* ------------------------------------------------------------------ */
/* Small helpers */

uint64_t vcd_now_ns(void);

static double ms_of(int64_t ns)
{
	return (double)ns / 1e6;
}

/* Whole ms from @now_ns until @deadline_ns, rounded up (never early); 0 once past. */
static uint64_t ms_until(uint64_t deadline_ns, uint64_t now_ns)
{
	return deadline_ns > now_ns ? (deadline_ns - now_ns + 999999) / 1000000 : 0;
}

/* This host's [fence] is strong: an action that surely ends the host,
 * with a quorum timeout (rule 6).  dc.c applies it to never-heard hosts. */
static bool fence_cfg_strong(const struct vc_config *cfg)
{
	return cfg->has_fence && cfg->fence.quorum_timeout_ms &&
	       vc_fence_action_strong(cfg->fence.action);
}

/* Send an event to every `watch` client. */
static void emit(struct agent *a, const char *name, json_t *fields)
{
	json_t *ev = fields ? fields : json_object();

	json_object_set_new(ev, "event", json_string(name));
	json_object_set_new(ev, "boottime_ns", json_integer((json_int_t)vcd_now_ns()));
	json_object_set_new(ev, "node", json_integer(a->ac->node_id));
	/* Watch first: it numbers the event (seq, time_ns), and the hooks
	 * see the same numbers. */
	json_incref(ev);
	if (a->ctl)
		vcd_ctl_event(a->ctl, ev);
	else
		json_decref(ev);
	if (a->hooks)
		vcd_hooks_event(a->hooks, name, ev);
	json_decref(ev);
}

static const struct vcd_cons_member *member_of(const struct agent *a, uint64_t id)
{
	size_t i;

	for (i = 0; i < a->ac->n_members; i++)
		if (a->ac->members[i].id == id)
			return &a->ac->members[i];
	return NULL;
}

static bool is_voter(const struct agent *a, uint64_t id)
{
	const struct vcd_cons_member *m = member_of(a, id);

	return m && m->role == VCD_CONS_VOTER;
}

/* ------------------------------------------------------------------ */
/* Entries: submit and log the outcome */

struct submit_ctx {
	struct agent *a;
	char what[160];
	struct vcd_ctl_req *req;	/* reply to this client, if any */
};

static void submit_done(void *arg, int status)
{
	struct submit_ctx *sc = arg;

	if (status < 0)
		vcd_warn("committing %s failed: %s", sc->what, strerror(-status));
	else
		vcd_debug("committed %s", sc->what);
	if (sc->req) {
		if (status < 0)
			vcd_ctl_fail(sc->req, status, "committing %s failed: %s", sc->what,
				     strerror(-status));
		else
			vcd_ctl_reply(sc->req, json_pack("{s:s}", "committed", sc->what));
	}
	free(sc);
}

/* Submit an entry that state.c's vcd_entry_*() built (freed here). */
static int submit_raw(struct agent *a, char *buf, size_t len, const char *what,
		      struct vcd_ctl_req *req)
{
	struct submit_ctx *sc = calloc(1, sizeof(*sc));
	int r;

	if (!sc) {
		free(buf);
		return -ENOMEM;
	}
	sc->a = a;
	sc->req = req;
	snprintf(sc->what, sizeof(sc->what), "%s", what);
	r = vcd_cons_submit(a->cons, buf, len, submit_done, sc);
	free(buf);
	if (r < 0) {
		vcd_warn("cannot submit %s: %s", what, strerror(-r));
		free(sc);
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* Replies that go either to a local client or back over raft's RPC */

struct agent;

struct reply {
	struct vcd_ctl_req *req;
	vcd_cons_rpc_reply_fn rpc;
	void *rpc_ctx;
	/* Runs after the answer went out (cluster leave stops the agent). */
	void (*then)(struct agent *a, int status);
	struct agent *then_agent;
};

static void reply_then(const struct reply *rp, int status)
{
	if (rp->then)
		rp->then(rp->then_agent, status);
}

static void rpc_answer(const struct reply *rp, json_t *msg)
{
	char *s = json_dumps(msg, JSON_COMPACT);

	rp->rpc(rp->rpc_ctx, s ? s : "{\"ok\":false,\"errno\":\"ENOMEM\"}",
		s ? strlen(s) : 30);
	free(s);
	json_decref(msg);
}

static void reply_ok(const struct reply *rp, json_t *result)
{
	if (rp->req)
		vcd_ctl_reply(rp->req, result);
	else
		rpc_answer(rp, json_pack("{s:b,s:o}", "ok", 1, "result",
					 result ? result : json_object()));
	reply_then(rp, 0);
}

static void reply_err(const struct reply *rp, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reply_err(const struct reply *rp, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (rp->req)
		vcd_ctl_fail(rp->req, err, "%s", msg);
	else
		rpc_answer(rp, json_pack("{s:b,s:s,s:s}", "ok", 0, "errno",
					 vcd_ctl_errno_name(err), "error", msg));
	reply_then(rp, err);
}

/* ------------------------------------------------------------------ */
/* Membership snapshot helpers */

static int members(struct agent *a, struct vcd_member *out, size_t max, size_t *n)
{
	*n = 0;
	if (!a->mship_started)
		return -ENOTCONN;
	return a->ms->ops->members(a->ms, out, max, n);
}

static const struct vcd_member *find_member(const struct vcd_member *ms, size_t n,
					    uint32_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ms[i].node_id == id)
			return &ms[i];
	return NULL;
}

static bool member_up(const struct vcd_member *m)
{
	return m && (m->state == VC_PEER_STATE_UP || m->state == VC_PEER_STATE_SUSPECT);
}

static struct vcd_dc_now dc_now(void)
{
	return (struct vcd_dc_now){ .ns = vcd_now_ns(), .wall_ms = vcd_wall_ms() };
}

static struct vcd_dc_peer dc_peer_of(const struct vcd_member *m)
{
	return (struct vcd_dc_peer){
		.node_id = m->node_id,
		.incarnation = m->incarnation,
		.last_heard_ns = m->last_heard_ns,
		.fenced_by_ns = m->fenced_by_ns,
		.strong = m->fence_strong,
		.armed = m->armed,
		.fence_action = m->fence_action,
	};
}

/* ------------------------------------------------------------------ */
/* The DC's decisions */

static void dc_json_event(struct agent *a, const struct vcd_dc_action *act)
{
	emit(a, "dc-decision", json_pack("{s:s,s:i,s:I,s:f,s:f,s:i,s:i,s:s}",
					 "action", vcd_dc_act_name(act->type),
					 "subject", (int)act->node_id,
					 "incarnation", (json_int_t)act->incarnation,
					 "last_heard_ms_ago", act->last_heard_ns ?
						ms_of((int64_t)(act->now_ns - act->last_heard_ns)) : -1.0,
					 "window_ms", act->deadline_ns ?
						ms_of((int64_t)(act->deadline_ns - act->window_start_ns)) : -1.0,
					 "votes_down", (int)act->votes_down,
					 "votes_total", (int)act->votes_total,
					 "text", act->text));
}

static void dc_schedule(struct agent *a, uint64_t deadline_ns);

/* Carry out what dc.c decided: log, tell watchers, submit entries. */
/* Its resources move in the same breath, right behind the fence in the
 * log: one commit round less before they start elsewhere. */
static void place_behind_fence(struct agent *a, const struct vcd_dc_action *act)
{
	struct vcd_fence_rec rec = {
		.node_id = act->node_id,
		.incarnation = act->incarnation,
		.how = act->how,
		.last_heard_age_ms = act->last_heard_ns ?
			(int64_t)((act->now_ns - act->last_heard_ns) / 1000000) : -1,
		.window_ms = act->deadline_ns > act->window_start_ns ?
			(act->deadline_ns - act->window_start_ns) / 1000000 : 0,
		.dc_id = a->ac->node_id,
		.term = a->term,
	};

	vcd_rm_place_fenced(a->rm, &rec);
}

static void dc_run(struct agent *a, struct vcd_dc_out *out)
{
	size_t i;

	for (i = 0; i < out->n; i++) {
		struct vcd_dc_action *act = &out->act[i];
		char what[64];

		vcd_notice("DC: %s", act->text);
		dc_json_event(a, act);
		if (!act->entry)
			continue;
		snprintf(what, sizeof(what), "%s of node %u", vcd_dc_act_name(act->type),
			 act->node_id);
		submit_raw(a, act->entry, act->entry_len, what, NULL);
		act->entry = NULL;
		if (act->type == VCD_DC_COMMIT_FENCED && a->rm)
			place_behind_fence(a, act);
	}
	dc_schedule(a, out->next_deadline_ns);
	vcd_dc_out_clear(out);
}

static uv_timer_t dc_timer;

static void dc_timer_cb(uv_timer_t *t)
{
	struct agent *a = t->data;
	struct vcd_dc_out out;

	if (!a->is_dc)
		return;
	vcd_dc_out_init(&out);
	if (vcd_dc_tick(a->dc, dc_now(), &out) == 0)
		dc_run(a, &out);
	vcd_dc_out_free(&out);
}

/* Wake dc.c at @deadline_ns (0: nothing pending). */
static void dc_schedule(struct agent *a, uint64_t deadline_ns)
{
	uint64_t now = vcd_now_ns(), ms;

	if (!deadline_ns) {
		uv_timer_stop(&dc_timer);
		return;
	}
	/* Round up: a window closes at the ns dc.c said, never before. */
	ms = ms_until(deadline_ns, now);
	dc_timer.data = a;
	uv_timer_start(&dc_timer, dc_timer_cb, ms, 0);
}

/* The state's nodes that may need a fence, as dc.c wants them. */
static size_t dc_nodes(struct agent *a, struct vcd_dc_node *out, size_t max)
{
	static struct vcd_member ms[VC_MAX_PEERS];
	size_t n_ms = 0, n = 0, i;

	members(a, ms, VC_MAX_PEERS, &n_ms);
	for (i = 0; i < vcd_state_n_nodes(a->state) && n < max; i++) {
		const struct vcd_node *node = vcd_state_node_at(a->state, i);
		const struct vcd_member *m;

		if (node->id == a->ac->node_id)
			continue;
		if (node->state != VCD_NODE_ONLINE && node->state != VCD_NODE_DOWN)
			continue;
		m = find_member(ms, n_ms, node->id);
		memset(&out[n], 0, sizeof(out[n]));
		if (m)
			out[n].peer = dc_peer_of(m);
		out[n].peer.node_id = node->id;
		out[n].peer.incarnation = node->incarnation;
		if (m && m->incarnation != node->incarnation) {
			/* The transport knows another life: none of its numbers apply. */
			out[n].peer.last_heard_ns = 0;
			out[n].peer.fenced_by_ns = 0;
		}
		out[n].up = m && member_up(m) && m->incarnation == node->incarnation;
		out[n].down_committed = node->state == VCD_NODE_DOWN;
		n++;
	}
	return n;
}

static void become_dc(struct agent *a)
{
	static struct vcd_dc_node nodes[VCD_STATE_MAX_NODES];
	struct vcd_dc_out out;
	size_t n = dc_nodes(a, nodes, VCD_STATE_MAX_NODES);

	vcd_dc_out_init(&out);
	if (vcd_dc_become(a->dc, a->term, nodes, n, dc_now(), &out) == 0)
		dc_run(a, &out);
	vcd_dc_out_free(&out);
}

/* The DC's own transport saw @m change. */
static void dc_feed_member(struct agent *a, const struct vcd_member *m)
{
	const struct vcd_node *node = vcd_state_node(a->state, m->node_id);
	struct vcd_dc_out out;
	struct vcd_dc_peer p;

	if (!a->is_dc || !node)
		return;
	vcd_dc_out_init(&out);
	if (m->state == VC_PEER_STATE_DOWN) {
		if (node->state == VCD_NODE_ONLINE || node->state == VCD_NODE_DOWN) {
			p = dc_peer_of(m);
			if (vcd_dc_peer_down(a->dc, &p, dc_now(), &out) == 0)
				dc_run(a, &out);
		}
	} else if (member_up(m)) {
		if (vcd_dc_peer_up(a->dc, m->node_id, m->incarnation, dc_now(), &out) == 0)
			dc_run(a, &out);
	}
	vcd_dc_out_free(&out);
}

/* ------------------------------------------------------------------ */
/* Views: every voter tells the DC which peers it sees DOWN */

static void view_sent(void *arg, int status, const char *json, size_t len)
{
	(void)arg;
	(void)json;
	(void)len;
	if (status < 0)
		vcd_debug("view report to the DC failed: %s", strerror(-status));
}

/* Our view of @m, for the DC (rule: a majority of voters must see it DOWN). */
static void report_view(struct agent *a, const struct vcd_member *m)
{
	uint64_t now = vcd_now_ns();
	int64_t fenced_in_ms = -1;
	json_t *msg;
	char *s;

	if (a->is_dc || !a->leader_id || !is_voter(a, a->ac->node_id) ||
	    m->node_id == a->leader_id)
		return;
	if (m->state == VC_PEER_STATE_DOWN && m->fenced_by_ns)
		fenced_in_ms = (int64_t)ms_until(m->fenced_by_ns, now);
	msg = json_pack("{s:s,s:i,s:i,s:I,s:b,s:I}", "cmd", "view",
			"voter", (int)a->ac->node_id, "subject", (int)m->node_id,
			"incarnation", (json_int_t)m->incarnation,
			"down", m->state == VC_PEER_STATE_DOWN, "fenced_in_ms",
			(json_int_t)fenced_in_ms);
	s = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	json_decref(msg);
	if (s)
		vcd_cons_forward(a->cons, s, strlen(s), FORWARD_TIMEOUT_MS, view_sent, a);
	free(s);
}

/* Re-send every DOWN view: after a leader change, and now and then. */
static void report_all_views(struct agent *a)
{
	static struct vcd_member ms[VC_MAX_PEERS];
	size_t n = 0, i;

	if (members(a, ms, VC_MAX_PEERS, &n) < 0)
		return;
	for (i = 0; i < n; i++)
		if (ms[i].state == VC_PEER_STATE_DOWN)
			report_view(a, &ms[i]);
	a->last_report_ns = vcd_now_ns();
}

/* The DC received a voter's view. */
static void rpc_view(struct agent *a, uint64_t from, json_t *msg, const struct reply *rp)
{
	json_int_t voter = 0, subject = 0, inc = 0, fenced_in_ms = -1;
	struct vcd_dc_view v = { 0 };
	struct vcd_dc_out out;
	struct vcd_dc_now now = dc_now();
	int down = 0, r;

	if (json_unpack(msg, "{s:I,s:I,s:I,s:b,s:I}", "voter", &voter, "subject", &subject,
			"incarnation", &inc, "down", &down, "fenced_in_ms", &fenced_in_ms) < 0 ||
	    (uint64_t)voter != from) {
		reply_err(rp, -EINVAL, "malformed view report");
		return;
	}
	v.voter_id = (uint32_t)voter;
	v.node_id = (uint32_t)subject;
	v.incarnation = (uint64_t)inc;
	v.down = down;
	/* Its remaining time, counted from when we received it: never earlier. */
	v.fenced_by_ns = fenced_in_ms >= 0 ? now.ns + (uint64_t)fenced_in_ms * 1000000 : 0;
	vcd_dc_out_init(&out);
	r = vcd_dc_view(a->dc, &v, now, &out);
	if (r == 0)
		dc_run(a, &out);
	vcd_dc_out_free(&out);
	if (r < 0)
		reply_err(rp, r, "view refused: %s", strerror(-r));
	else
		reply_ok(rp, NULL);
}

/* ------------------------------------------------------------------ */
/* node-up: the DC records each life it sees UP */

static uint64_t up_submitted[VCD_STATE_MAX_NODES];
static uint32_t up_submitted_id[VCD_STATE_MAX_NODES];

static bool up_already_submitted(uint32_t id, uint64_t inc)
{
	size_t i;

	for (i = 0; i < VCD_STATE_MAX_NODES; i++)
		if (up_submitted_id[i] == id)
			return up_submitted[i] >= inc;
	return false;
}

static void note_up_submitted(uint32_t id, uint64_t inc)
{
	size_t i;

	for (i = 0; i < VCD_STATE_MAX_NODES; i++) {
		if (up_submitted_id[i] == id || !up_submitted_id[i]) {
			up_submitted_id[i] = id;
			up_submitted[i] = inc;
			return;
		}
	}
}

static void commit_up(struct agent *a, uint32_t id, uint64_t inc)
{
	const struct vcd_node *node = vcd_state_node(a->state, id);
	char what[64], *buf;
	size_t len;

	if (node && node->state == VCD_NODE_ONLINE && node->incarnation == inc)
		return;
	if (node && inc <= node->incarnation && node->state != VCD_NODE_UNKNOWN)
		return;		/* rule 4: that life is over, or already recorded */
	if (up_already_submitted(id, inc) || vcd_entry_node_up(id, inc, &buf, &len) < 0)
		return;
	note_up_submitted(id, inc);
	snprintf(what, sizeof(what), "node-up of node %u (incarnation %" PRIu64 ")", id, inc);
	submit_raw(a, buf, len, what, NULL);
}

/* The DC: every member UP (and itself) must be online in the state. */
static void dc_commit_ups(struct agent *a)
{
	static struct vcd_member ms[VC_MAX_PEERS];
	size_t n = 0, i;

	if (!a->is_dc)
		return;
	commit_up(a, a->ac->node_id, a->incarnation);
	if (members(a, ms, VC_MAX_PEERS, &n) < 0)
		return;
	for (i = 0; i < n; i++)
		if (ms[i].state == VC_PEER_STATE_UP)
			commit_up(a, ms[i].node_id, ms[i].incarnation);
}

/* ------------------------------------------------------------------ */
/* The DC completes raft's configuration with every configured member */

static bool member_change_running;

static void member_added(void *arg, int status)
{
	(void)arg;
	(void)status;
	member_change_running = false;
}

/*
 * A cluster formed by 'cluster bootstrap' starts with one voter: the DC
 * adds each configured member that raft's configuration lacks, one change
 * at a time (raft's rule), with the role the configuration gives it.
 */
static void dc_complete_members(struct agent *a)
{
	size_t i;

	if (!a->is_dc || member_change_running)
		return;
	for (i = 0; i < a->ac->n_members; i++) {
		uint64_t id = a->ac->members[i].id;

		if (vcd_cons_role(a->cons, id) > 0)
			continue;
		if (vcd_cons_add_member(a->cons, id, member_added, a) == 0) {
			vcd_notice("DC: adding configured member %" PRIu64 " to raft's configuration",
				   id);
			member_change_running = true;
		}
		return;
	}
}

/* ------------------------------------------------------------------ */
/* Membership callbacks */

/* ------------------------------------------------------------------ */
/* Resources: what the resource manager (rm.c) needs from the agent */

/* This life may run resources: online in the state, lease held (rm.h). */
static bool may_run(const struct agent *a)
{
	const struct vcd_node *self = vcd_state_node(a->state, a->ac->node_id);

	/* With fencing configured, only once armed: every QEMU started here
	 * must be one the kill action can reach (rule 7). */
	return self && self->state == VCD_NODE_ONLINE && self->incarnation == a->incarnation &&
	       a->lease && !a->fenced && !a->stopping && (a->armed || !a->ac->cfg.has_fence);
}

static void rm_update(struct agent *a)
{
	if (a->rm)
		vcd_rm_update(a->rm, a->state, a->incarnation, may_run(a));
}

struct entry_done {
	void (*done)(void *arg, int status);
	void *arg;
	char what[160];
};

static void entry_committed(void *arg, int status)
{
	struct entry_done *ed = arg;

	if (status < 0 && status != -EALREADY)
		vcd_info("committing %s failed: %s", ed->what, strerror(-status));
	if (ed->done)
		ed->done(ed->arg, status);
	free(ed);
}

static void entry_forwarded(void *arg, int status, const char *json, size_t len)
{
	json_t *msg = status == 0 ? json_loadb(json, len, 0, NULL) : NULL;
	const char *err = NULL;
	int ok = 0;

	if (msg)
		json_unpack(msg, "{s:b,s?s}", "ok", &ok, "error", &err);
	if (status == 0 && !ok)
		vcd_info("the DC refused %s: %s", ((struct entry_done *)arg)->what,
			 err ? err : "no reason given");
	json_decref(msg);
	entry_committed(arg, status < 0 ? status : ok ? 0 : -EREMOTEIO);
}

/* Commit @entry (freed here): on the DC directly, else through the DC. */
static int rm_submit(void *ctx, char *entry, size_t len, const char *what,
		     void (*done)(void *arg, int status), void *arg)
{
	struct agent *a = ctx;
	struct entry_done *ed = calloc(1, sizeof(*ed));
	json_t *msg = NULL;
	char *s = NULL;
	int r;

	if (!ed || a->stopping || !a->cons) {
		free(ed);
		free(entry);
		return !ed ? -ENOMEM : -ESHUTDOWN;
	}
	ed->done = done;
	ed->arg = arg;
	snprintf(ed->what, sizeof(ed->what), "%s", what);
	if (a->is_dc) {
		r = vcd_cons_submit(a->cons, entry, len, entry_committed, ed);
	} else if (a->leader_id) {
		msg = json_pack("{s:s,s:s%}", "cmd", "entry", "entry", entry, len);
		s = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
		r = s ? vcd_cons_forward(a->cons, s, strlen(s), FORWARD_TIMEOUT_MS,
					 entry_forwarded, ed) : -ENOMEM;
	} else {
		r = -EAGAIN;
	}
	json_decref(msg);
	free(s);
	free(entry);
	if (r < 0)
		free(ed);
	return r;
}

/* Coalesced: one barrier per loop turn however many placements committed. */
static void nudge_cb(uv_idle_t *h)
{
	struct agent *a = h->data;

	uv_idle_stop(h);
	if (a->is_dc && a->cons && !a->stopping)
		vcd_cons_barrier(a->cons);
}

static uv_idle_t nudge_idle;

static void rm_nudge(void *ctx)
{
	struct agent *a = ctx;

	nudge_idle.data = a;
	uv_idle_start(&nudge_idle, nudge_cb);
}

static void rm_emit(void *ctx, const char *event, json_t *fields)
{
	emit(ctx, event, fields);
}

static int rm_proc_add(void *ctx, pid_t pid)
{
	struct agent *a = ctx;

	return a->mship_started ? a->ms->ops->proc_add(a->ms, pid) : -ENOTCONN;
}

static int rm_proc_del(void *ctx, pid_t pid)
{
	struct agent *a = ctx;

	return a->mship_started ? a->ms->ops->proc_del(a->ms, pid) : -ENOTCONN;
}

/* @node's address on the raft link, as text without a port. */
static int peer_address(struct agent *a, uint32_t node, char *buf, size_t size)
{
	const struct vc_config *cfg = &a->ac->cfg;
	uint32_t link = cfg->agent.raft_link;
	const struct vc_addr *addr = NULL;
	size_t i;

	for (i = 0; i < cfg->n_peers; i++)
		if (cfg->peers[i].node_id == node)
			addr = &cfg->peers[i].links[link];
	if (!addr || !addr->family || !inet_ntop(addr->family, addr->bytes, buf, (socklen_t)size))
		return -ENOENT;
	return 0;
}

/* migrate-uri and migrate-data-uri for @node ([agent], config.h). */
static int rm_migrate_uri(void *ctx, uint32_t node, char *uri, size_t uri_size, char *data_uri,
			  size_t data_size)
{
	struct agent *a = ctx;
	const struct vc_agent_cfg *c = &a->ac->cfg.agent;
	char addr[INET6_ADDRSTRLEN];
	int r = peer_address(a, node, addr, sizeof(addr));

	if (r < 0) {
		vcd_err("no address of node %u on link %u for a migration", node, c->raft_link);
		return r;
	}
	r = vc_template_expand(c->migrate_uri, addr, node, uri, uri_size);
	if (r == 0 && c->migrate_data_uri[0])
		r = vc_template_expand(c->migrate_data_uri, addr, node, data_uri, data_size);
	else if (r == 0 && data_size)
		data_uri[0] = '\0';
	return r;
}

static int start_resources(struct agent *a)
{
	const struct vc_agent_cfg *c = &a->ac->cfg.agent;
	struct vcd_rm_params p = {
		.self_id = a->ac->node_id,
		.libvirt_uri = c->libvirt_uri,
		.monitor_ms = c->monitor_ms,
		.ocf_root = c->ocf_root,
		.migrate_timeout_ms = c->migrate_timeout_ms,
		.migrate_bandwidth_mib_s = c->migrate_bandwidth_mib_s,
	};
	struct vcd_rm_host h = {
		.ctx = a, .submit = rm_submit, .emit = rm_emit, .nudge = rm_nudge,
		.proc_add = rm_proc_add, .proc_del = rm_proc_del, .migrate_uri = rm_migrate_uri,
	};
	int r;

	uv_idle_init(&a->loop, &nudge_idle);
	r = vcd_rm_new(&a->loop, &p, &h, &a->rm);

	if (r < 0)
		vcd_err("resource manager (libvirt %s): %s", c->libvirt_uri, strerror(-r));
	else if (!c->libvirt_uri[0])
		vcd_notice("libvirt-uri = none: this host runs no VMs");
	return r;
}

static void shutdown_agent(struct agent *a, int exit_code);

/* Hook scripts for events ([agent] hooks-dir, hook-events; hooks.h). */
static int start_hooks(struct agent *a)
{
	const struct vc_agent_cfg *c = &a->ac->cfg.agent;
	struct vcd_hooks_params p = {
		.dir = c->hooks_dir, .timeout_ms = c->hook_timeout_ms, .events = c->hook_events,
		.self_id = a->ac->node_id, .cluster_name = c->cluster_name,
	};
	int r = vcd_hooks_new(&a->loop, &p, &a->hooks);

	if (r < 0)
		vcd_err("hooks (%s): %s", c->hooks_dir, strerror(-r));
	return r;
}

static void on_peer_changed(void *ctx, const struct vcd_member *m, uint8_t old_state)
{
	struct agent *a = ctx;
	uint64_t now = vcd_now_ns();
	int64_t fenced_in_ms = -1;

	if (m->fenced_by_ns)
		fenced_in_ms = (int64_t)ms_until(m->fenced_by_ns, now);
	vcd_info("peer %u: %s -> %s (incarnation %" PRIu64 ", fence window closes in %" PRId64 " ms, %s fencing)",
		 m->node_id, vc_peer_state_name(old_state), vc_peer_state_name(m->state),
		 m->incarnation, fenced_in_ms, m->fence_strong ? "strong" : "weak");
	emit(a, "peer-state", json_pack("{s:i,s:s,s:s,s:I,s:I,s:b}", "peer", (int)m->node_id,
					"state", vc_peer_state_name(m->state),
					"old_state", vc_peer_state_name(old_state),
					"incarnation", (json_int_t)m->incarnation,
					"fenced_in_ms", (json_int_t)fenced_in_ms,
					"strong", m->fence_strong));
	if (a->fenced || a->stopping)
		return;		/* after a fence the DOWNs are our own silence */
	if (m->state == VC_PEER_STATE_DOWN && m->down_reason == VC_DOWN_REASON_DECLARED &&
	    !a->armed) {
		/* Armed, the watchdog fences us for this (rule 4).  Unarmed,
		 * nothing would: this life is refused for good, so end it and
		 * let the restart bring a new incarnation. */
		vcd_warn("peer %u declared this life (incarnation %" PRIu64 ") DOWN: stopping so that a restart rejoins with a new one",
			 m->node_id, a->incarnation);
		shutdown_agent(a, VCD_EXIT_FENCED);
		return;
	}
	if (m->state == VC_PEER_STATE_DOWN && a->leader_id == m->node_id && !a->is_dc) {
		vcd_notice("the DC (node %u) is DOWN: starting an election now", m->node_id);
		vcd_cons_leader_dead(a->cons, m->node_id);
	}
	dc_feed_member(a, m);
	report_view(a, m);
	if (m->state == VC_PEER_STATE_UP)
		dc_commit_ups(a);
}

static void on_quorum_changed(void *ctx, bool quorate)
{
	struct agent *a = ctx;

	vcd_notice("membership: %s", quorate ? "quorate" : "quorum lost");
	emit(a, quorate ? "quorum-gained" : "quorum-lost", NULL);
}

static void on_pretimeout(void *ctx)
{
	struct agent *a = ctx;

	vcd_warn("fencing watchdog pre-timeout: the agent has not petted it in time (raft lease %s)",
		 a->lease ? "held" : "lost");
	emit(a, "fence-pretimeout", NULL);
}

static void on_fenced(void *ctx, uint8_t reason)
{
	struct agent *a = ctx;

	a->fenced = true;
	a->fence_reason = reason;
	vcd_err("this host was fenced (%s): stopping; restart gives a new incarnation",
		vc_fence_reason_name(reason));
	emit(a, "fenced", json_pack("{s:s}", "reason", vc_fence_reason_name(reason)));
	shutdown_agent(a, VCD_EXIT_FENCED);
}

static void on_mship_failed(void *ctx, int err)
{
	struct agent *a = ctx;

	vcd_err("membership transport %s failed: %s", a->ms->ops->name, strerror(-err));
	shutdown_agent(a, VCD_EXIT_FAILURE);
}

/* ------------------------------------------------------------------ */
/* The replicated state machine */

static void self_declared_over(struct agent *a, const struct vcd_node *self)
{
	vcd_err("the cluster committed this host's life %" PRIu64 " as %s: stopping (a restart rejoins with a new incarnation)",
		self->incarnation, vcd_node_state_name(self->state));
	shutdown_agent(a, VCD_EXIT_FENCED);
}

static void applied_event(struct agent *a, const struct vcd_apply_result *res, uint64_t index)
{
	const struct vcd_node *node;

	if (!res->changed || !res->node_id || res->resource[0])
		return;		/* resource entries: rm.c tells */
	node = vcd_state_node(a->state, res->node_id);
	vcd_info("committed %s: node %u %s -> %s (index %" PRIu64 ")", vcd_op_name(res->op),
		 res->node_id, vcd_node_state_name(res->old_state),
		 vcd_node_state_name(res->new_state), index);
	emit(a, vcd_op_name(res->op), json_pack("{s:i,s:s,s:s,s:I,s:I}", "subject",
						(int)res->node_id, "state",
						vcd_node_state_name(res->new_state), "old_state",
						vcd_node_state_name(res->old_state), "incarnation",
						(json_int_t)(node ? node->incarnation : 0),
						"index", (json_int_t)index));
	if (a->is_dc && node && res->node_id != a->ac->node_id &&
	    (node->state == VCD_NODE_ONLINE || node->state == VCD_NODE_DOWN)) {
		static struct vcd_member ms[VC_MAX_PEERS];
		const struct vcd_member *m;
		size_t n = 0;

		/* Its DOWN may have come before the state knew it online (a DC
		 * change right after the cluster formed): start its fence now. */
		members(a, ms, VC_MAX_PEERS, &n);
		m = find_member(ms, n, res->node_id);
		if (m && m->state == VC_PEER_STATE_DOWN && m->incarnation == node->incarnation)
			dc_feed_member(a, m);
	}
	if (res->node_id == a->ac->node_id && node && node->incarnation == a->incarnation &&
	    (node->state == VCD_NODE_DOWN || node->state == VCD_NODE_FENCED))
		self_declared_over(a, node);
}

static int fsm_apply(void *ctx, const void *buf, size_t len, uint64_t index)
{
	struct agent *a = ctx;
	struct vcd_apply_result res;
	char why[VCD_STATE_WHY_LEN];
	int r;

	r = vcd_state_apply(a->state, buf, len, index, &res, why, sizeof(why));
	if (r < 0 && r != -EALREADY) {
		vcd_info("entry %" PRIu64 " (%s) refused: %s", index, vcd_op_name(res.op), why);
		return r;
	}
	applied_event(a, &res, index);
	rm_update(a);
	if (a->rm && res.resource[0])
		vcd_rm_applied(a->rm, &res, index);
	return 0;
}

static int fsm_snapshot(void *ctx, void **ret_buf, size_t *ret_len)
{
	struct agent *a = ctx;

	return vcd_state_snapshot(a->state, ret_buf, ret_len);
}

static int fsm_restore(void *ctx, const void *buf, size_t len)
{
	struct agent *a = ctx;
	char why[VCD_STATE_WHY_LEN];
	int r;

	r = vcd_state_restore(a->state, buf, len, why, sizeof(why));
	if (r < 0)
		vcd_err("cannot restore the raft snapshot: %s", why);
	else
		vcd_info("state restored from a snapshot (index %" PRIu64 ", %zu nodes)",
			 vcd_state_applied_index(a->state), vcd_state_n_nodes(a->state));
	rm_update(a);
	return r;
}

/* ------------------------------------------------------------------ */
/* Raft leadership */

/* Advisory heartbeat payload (rule 10): version, DC flag, leader, term. */
static void publish_payload(struct agent *a)
{
	uint8_t p[16] = { 1, a->is_dc ? 1 : 0 };
	int i;

	for (i = 0; i < 4; i++)
		p[4 + i] = (uint8_t)(a->leader_id >> (24 - 8 * i));
	for (i = 0; i < 8; i++)
		p[8 + i] = (uint8_t)(a->term >> (56 - 8 * i));
	if (a->mship_started && !a->fenced)
		a->ms->ops->set_payload(a->ms, p, sizeof(p));
}

static void on_leader_changed(void *ctx, uint64_t leader_id, uint64_t term)
{
	struct agent *a = ctx;
	bool was_dc = a->is_dc;

	a->leader_id = leader_id;
	a->term = term;
	a->is_dc = leader_id && leader_id == a->ac->node_id;
	if (leader_id)
		vcd_notice("raft: term %" PRIu64 ", the DC is node %" PRIu64 "%s", term,
			   leader_id, a->is_dc ? " (this host)" : "");
	else
		vcd_notice("raft: term %" PRIu64 ", no DC known", term);
	emit(a, "dc-changed", json_pack("{s:o,s:I,s:b}", "dc",
					leader_id ? json_integer((json_int_t)leader_id) :
					json_null(), "term", (json_int_t)term,
					"self", a->is_dc));
	publish_payload(a);
	if (was_dc && !a->is_dc) {
		vcd_dc_resign(a->dc);
		dc_schedule(a, 0);
	}
	if (a->is_dc && !was_dc) {
		memset(up_submitted_id, 0, sizeof(up_submitted_id));
		become_dc(a);
		dc_commit_ups(a);
	}
	if (!a->is_dc && leader_id)
		report_all_views(a);
	if (a->rm)
		vcd_rm_set_dc(a->rm, a->is_dc);
	rm_update(a);
}

/* ------------------------------------------------------------------ */
/* Lease, arming, petting: every tick */

static void arm_if_ready(struct agent *a)
{
	struct vcd_self self;
	int r;

	if (a->armed || a->fenced || a->stopping || !a->ac->cfg.has_fence || !a->lease)
		return;
	if (a->ms->ops->self(a->ms, &self) < 0 || !self.quorate)
		return;
	r = a->ms->ops->arm(a->ms);
	if (r < 0) {
		vcd_err("cannot arm the fencing watchdog: %s", strerror(-r));
		return;
	}
	a->armed = true;
	vcd_notice("fencing watchdog armed (%s): action %s, agent timeout %u ms, quorum timeout %u ms, kill bound %u ms",
		   a->ms->ops->name, vc_fence_action_name(a->ac->cfg.fence.action),
		   a->ac->cfg.fence.agent_timeout_ms, a->ac->cfg.fence.quorum_timeout_ms,
		   a->ac->cfg.fence.kill_bound_ms);
	emit(a, "fence-armed", json_pack("{s:s}", "action",
					 vc_fence_action_name(a->ac->cfg.fence.action)));
	rm_update(a);
}

/* A loop that stalls delays every pet: say so, with how long. */
static void check_stall(struct agent *a)
{
	static uint64_t last_tick_ns;
	uint64_t now = vcd_now_ns(), period_ns = a->ac->cfg.agent.raft_heartbeat_ms * 1000000ull;

	if (last_tick_ns && now - last_tick_ns > 3 * period_ns)
		vcd_warn("the event loop stalled: %.0f ms between ticks of %u ms",
			 ms_of((int64_t)(now - last_tick_ns)), a->ac->cfg.agent.raft_heartbeat_ms);
	last_tick_ns = now;
}

static void pet(struct agent *a)
{
	static int last_err;
	int r = a->ms->ops->pet(a->ms);

	if (r == 0) {
		a->last_pet_ns = vcd_now_ns();
		last_err = 0;
	} else if (r != last_err) {
		vcd_err("cannot pet the fencing watchdog: %s", strerror(-r));
		last_err = r;
	}
}

static void tick_cb(uv_timer_t *t)
{
	struct agent *a = t->data;
	bool lease;

	check_stall(a);
	if (a->stopping || a->fenced)
		return;
	lease = vcd_cons_in_touch(a->cons, a->ac->cfg.agent.election_timeout_ms);
	if (lease != a->lease) {
		a->lease = lease;
		if (lease)
			vcd_notice("raft: in touch with a quorum");
		else
			vcd_warn("raft: out of touch with a quorum: not petting the watchdog");
		emit(a, lease ? "lease-gained" : "lease-lost", NULL);
		rm_update(a);
	}
	arm_if_ready(a);
	if (a->armed && lease)
		pet(a);
	if (!a->is_dc && vcd_now_ns() - a->last_report_ns > REPORT_RESEND_MS * 1000000ull)
		report_all_views(a);
	/* node-up needs no polling: peer UP events and taking office commit
	 * it (dc_commit_ups()); only raft's membership changes wait a turn. */
	if (a->is_dc)
		dc_complete_members(a);
}

/* ------------------------------------------------------------------ */
/* Control commands */

static const char *const transport_names[] = { "auto", "kernel", "user" };

static json_t *fence_json(const struct vcd_member *m)
{
	return json_pack("{s:b,s:s,s:b,s:b}", "armed", m->armed, "action",
			 vc_fence_action_name(m->fence_action), "strong", m->fence_strong,
			 "user", m->user_fence);
}

static json_t *self_fence_json(struct agent *a)
{
	const struct vc_fence_cfg *f = &a->ac->cfg.fence;
	bool strong = a->armed && fence_cfg_strong(&a->ac->cfg);

	return json_pack("{s:b,s:s,s:b,s:b}", "armed", a->armed, "action",
			 a->armed ? vc_fence_action_name(f->action) : "none", "strong", strong,
			 "user", strcmp(a->ms->ops->name, "user") == 0);
}

static int cmp_names(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static unsigned int popcount32(uint32_t v)
{
	return (unsigned int)__builtin_popcount(v);
}

/* One node for status / node list: config, state machine and transport. */
static json_t *node_json(struct agent *a, const struct vcd_cons_member *cm,
			 const struct vcd_member *ms, size_t n_ms)
{
	const struct vcd_node *node = vcd_state_node(a->state, (uint32_t)cm->id);
	const struct vcd_member *m = find_member(ms, n_ms, (uint32_t)cm->id);
	bool self = cm->id == a->ac->node_id;
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer((json_int_t)cm->id));
	json_object_set_new(o, "role", json_string(cm->role == VCD_CONS_VOTER ? "voter" : "standby"));
	json_object_set_new(o, "votes", json_integer(cm->role == VCD_CONS_VOTER));
	json_object_set_new(o, "address", json_string(cm->addr));
	json_object_set_new(o, "dc", json_boolean(cm->id == a->leader_id));
	json_object_set_new(o, "self", json_boolean(self));
	json_object_set_new(o, "state", json_string(node ? vcd_node_state_name(node->state) :
						       "unknown"));
	json_object_set_new(o, "incarnation",
			    json_integer((json_int_t)(self ? a->incarnation :
						      m ? m->incarnation : node ? node->incarnation : 0)));
	json_object_set_new(o, "standby", json_boolean(node && node->standby));
	json_object_set_new(o, "maintenance", json_boolean(node && node->maintenance));
	json_object_set_new(o, "cpus", json_integer(node ? node->cpus : 0));
	json_object_set_new(o, "memory_kib", json_integer((json_int_t)(node ? node->memory_kib : 0)));
	if (self) {
		json_object_set_new(o, "membership", json_string("self"));
		json_object_set_new(o, "fence", self_fence_json(a));
	} else if (m) {
		json_object_set_new(o, "membership", json_string(vc_peer_state_name(m->state)));
		json_object_set_new(o, "links_up", json_integer(popcount32(m->links_up)));
		json_object_set_new(o, "links", json_integer(popcount32(m->links)));
		json_object_set_new(o, "rtt_us", json_integer(m->rtt_us));
		json_object_set_new(o, "fence", fence_json(m));
	}
	if (node && node->has_fence)
		json_object_set_new(o, "fenced_incarnation",
				    json_integer((json_int_t)node->fenced_incarnation));
	return o;
}

static json_t *nodes_json(struct agent *a)
{
	static struct vcd_member ms[VC_MAX_PEERS];
	json_t *arr = json_array();
	size_t n_ms = 0, i;

	members(a, ms, VC_MAX_PEERS, &n_ms);
	for (i = 0; i < a->ac->n_members; i++)
		json_array_append_new(arr, node_json(a, &a->ac->members[i], ms, n_ms));
	return arr;
}

/* One resource for status and resource list/show: where it runs and why. */
static json_t *resource_json(struct agent *a, const char *name, const json_t *res,
			     bool full)
{
	const json_t *def = json_object_get(res, "definition");
	static const char *const keys[] = { "domain", "uuid", "memory_kib", "vcpus", "agent" };
	json_t *o = json_copy((json_t *)res);
	size_t i;

	(void)a;
	if (!o)
		return NULL;
	json_object_del(o, "definition");
	json_object_set_new(o, "name", json_string(name));
	for (i = 0; json_is_object(def) && i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_get(def, keys[i]))
			json_object_set(o, keys[i], json_object_get(def, keys[i]));
	if (full)
		json_object_set(o, "definition", (json_t *)def);
	return o;
}

/* Every resource (or only @only), sorted by name. */
static json_t *resources_json(struct agent *a, const char *only)
{
	const json_t *all = vcd_state_resources(a->state);
	json_t *arr = json_array(), *res;
	const char **names = calloc(json_object_size(all) + 1, sizeof(*names));
	const char *name;
	size_t n = 0, i;

	if (!arr || !names) {
		free(names);
		return arr;
	}
	json_object_foreach((json_t *)all, name, res)
		if (!only || strcmp(only, name) == 0)
			names[n++] = name;
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, resource_json(a, names[i],
							 json_object_get(all, names[i]), !!only));
	free(names);
	return arr;
}

static void cmd_status(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	struct agent *a = ctx;
	struct vcd_self self = { 0 };
	json_t *o;

	(void)args;
	if (a->mship_started)
		a->ms->ops->self(a->ms, &self);
	o = json_pack("{s:s,s:i,s:i,s:I,s:o,s:I,s:s,s:b,s:b,s:s,s:s,s:I,s:I}",
		      "cluster", a->ac->cfg.agent.cluster_name,
		      "cluster_id", (int)a->ac->cfg.node.cluster_id,
		      "node", (int)a->ac->node_id,
		      "incarnation", (json_int_t)a->incarnation,
		      "dc", a->leader_id ? json_integer((json_int_t)a->leader_id) : json_null(),
		      "term", (json_int_t)a->term,
		      "raft_state", vcd_cons_state_name(a->cons),
		      "quorate", self.quorate,
		      "lease", a->lease,
		      "transport", a->ms->ops->name,
		      "transport_config", transport_names[a->ac->cfg.agent.transport],
		      "applied_index", (json_int_t)vcd_state_applied_index(a->state),
		      "commit_index", (json_int_t)vcd_cons_commit_index(a->cons));
	json_object_set_new(o, "votes_seen", json_integer(self.votes_seen));
	json_object_set_new(o, "expected_votes", json_integer(self.expected_votes));
	json_object_set(o, "cluster_properties", (json_t *)vcd_state_cluster(a->state));
	if (a->hooks)
		json_object_set_new(o, "hooks", vcd_hooks_json(a->hooks));
	json_object_set_new(o, "fence", self_fence_json(a));
	json_object_set_new(o, "nodes", nodes_json(a));
	if (a->is_dc)
		json_object_set_new(o, "pending_fences", vcd_dc_to_json(a->dc, vcd_now_ns()));
	json_object_set_new(o, "resources", resources_json(a, NULL));
	if (a->rm)
		json_object_set_new(o, "local", vcd_rm_json(a->rm));
	vcd_ctl_reply(req, o);
}

static void cmd_node_list(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	struct agent *a = ctx;

	(void)args;
	vcd_ctl_reply(req, json_pack("{s:o}", "nodes", nodes_json(a)));
}

/*
 * The replicated decision record (fences, flags, joins and leaves, with
 * the numbers each used), oldest first: it survives agent restarts, unlike
 * the socket's own event history.
 */
static void cmd_history(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	struct agent *a = ctx;
	json_t *recs = vcd_state_history_json(a->state), *rec;
	json_int_t limit = 0;
	size_t i, n;

	json_unpack(args, "{s?I}", "limit", &limit);
	json_array_foreach(recs, i, rec)
		json_object_set(rec, "event", json_object_get(rec, "op"));
	n = json_array_size(recs);
	if (limit > 0 && (size_t)limit < n) {
		json_t *tail = json_array();

		for (i = n - (size_t)limit; i < n; i++)
			json_array_append(tail, json_array_get(recs, i));
		json_decref(recs);
		recs = tail;
	}
	vcd_ctl_reply(req, json_pack("{s:o}", "events", recs));
}

/* ---- changing commands: run on the DC, forwarded from anywhere else ---- */

typedef void (*dc_cmd_fn)(struct agent *a, json_t *args, const struct reply *rp);

struct forward_ctx {
	struct vcd_ctl_req *req;
	void (*then)(struct agent *a, int status);
	struct agent *a;
};

static void forward_done(void *arg, int status, const char *json, size_t len)
{
	struct forward_ctx *fc = arg;
	json_t *msg, *result;
	const char *err = NULL;
	int ok = 0;

	if (status < 0) {
		vcd_ctl_fail(fc->req, status, "could not reach the DC: %s", strerror(-status));
		if (fc->then)
			fc->then(fc->a, status);
		free(fc);
		return;
	}
	msg = json_loadb(json, len, 0, NULL);
	if (!msg || json_unpack(msg, "{s:b}", "ok", &ok) < 0) {
		ok = 0;
		vcd_ctl_fail(fc->req, -EPROTO, "the DC sent a malformed answer");
	} else if (ok) {
		result = json_object_get(msg, "result");
		vcd_ctl_reply(fc->req, result ? json_incref(result) : NULL);
	} else {
		const char *en = "EIO";

		json_unpack(msg, "{s?s,s?s}", "errno", &en, "error", &err);
		vcd_ctl_fail(fc->req, -EREMOTEIO, "the DC refused (%s): %s", en,
			     err ? err : "no reason given");
	}
	json_decref(msg);
	if (fc->then)
		fc->then(fc->a, ok ? 0 : -EREMOTEIO);
	free(fc);
}

/*
 * Run @fn here when we are the DC, or forward the request to the DC;
 * @then (may be NULL) runs once the client has its answer.
 */
static void on_dc_then(struct agent *a, struct vcd_ctl_req *req, const char *name,
		       json_t *args, dc_cmd_fn fn, void (*then)(struct agent *, int))
{
	struct reply rp = { .req = req, .then = then, .then_agent = a };
	struct forward_ctx *fc;
	json_t *msg;
	char *s;
	int r;

	if (a->is_dc) {
		fn(a, args, &rp);
		return;
	}
	if (!a->leader_id) {
		vcd_ctl_fail(req, -EAGAIN, "no DC is in office (raft %s): try again when the cluster has a quorum",
			     vcd_cons_state_name(a->cons));
		if (then)
			then(a, -EAGAIN);
		return;
	}
	msg = json_pack("{s:s,s:s,s:O}", "cmd", "ctl", "name", name, "args", args);
	s = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	json_decref(msg);
	fc = calloc(1, sizeof(*fc));
	if (!s || !fc) {
		free(s);
		free(fc);
		vcd_ctl_fail(req, -ENOMEM, "out of memory");
		return;
	}
	fc->req = req;
	fc->then = then;
	fc->a = a;
	r = vcd_cons_forward(a->cons, s, strlen(s), FORWARD_TIMEOUT_MS, forward_done, fc);
	free(s);
	if (r < 0) {
		free(fc);
		vcd_ctl_fail(req, r, "could not forward to the DC (node %" PRIu64 "): %s",
			     a->leader_id, strerror(-r));
		if (then)
			then(a, r);
	}
}

static void on_dc(struct agent *a, struct vcd_ctl_req *req, json_t *args, dc_cmd_fn fn)
{
	on_dc_then(a, req, vcd_ctl_req_cmd(req), args, fn, NULL);
}

static int node_arg(struct agent *a, json_t *args, const struct reply *rp, uint32_t *ret)
{
	json_int_t id = 0;

	if (json_unpack(args, "{s:I}", "node", &id) < 0 || id <= 0 || id > UINT32_MAX) {
		reply_err(rp, -EINVAL, "'node' must be a node id");
		return -EINVAL;
	}
	if (!member_of(a, (uint64_t)id)) {
		reply_err(rp, -ENOENT, "node %lld is not a member of cluster %s", (long long)id,
			  a->ac->cfg.agent.cluster_name);
		return -ENOENT;
	}
	*ret = (uint32_t)id;
	return 0;
}

/* Submit with the reply going to @rp when it commits. */
struct dc_submit {
	struct reply rp;
	char what[96];
};

static void dc_submit_done(void *arg, int status)
{
	struct dc_submit *ds = arg;

	if (status < 0)
		reply_err(&ds->rp, status, "committing %s failed: %s", ds->what, strerror(-status));
	else
		reply_ok(&ds->rp, json_pack("{s:s}", "committed", ds->what));
	free(ds);
}

static void dc_submit(struct agent *a, char *buf, size_t len, const char *what,
		      const struct reply *rp)
{
	struct dc_submit *ds = calloc(1, sizeof(*ds));
	int r;

	if (!ds) {
		free(buf);
		reply_err(rp, -ENOMEM, "out of memory");
		return;
	}
	ds->rp = *rp;
	snprintf(ds->what, sizeof(ds->what), "%s", what);
	vcd_notice("DC: committing %s", what);
	r = vcd_cons_submit(a->cons, buf, len, dc_submit_done, ds);
	free(buf);
	if (r < 0) {
		free(ds);
		reply_err(rp, r, "cannot commit %s: %s", what, strerror(-r));
	}
}

static void dc_node_flags(struct agent *a, json_t *args, const struct reply *rp,
			  const char *flag, int on)
{
	int standby = -1, maint = -1, r;
	char what[96], *buf;
	uint32_t id;
	size_t len;

	if (node_arg(a, args, rp, &id) < 0)
		return;
	if (strcmp(flag, "standby") == 0)
		standby = on;
	else
		maint = on;
	r = vcd_entry_node_flags(id, standby, maint, &buf, &len);
	if (r < 0) {
		reply_err(rp, r, "cannot build the entry: %s", strerror(-r));
		return;
	}
	snprintf(what, sizeof(what), "%s %s of node %u", flag, on ? "on" : "off", id);
	dc_submit(a, buf, len, what, rp);
}

static void dc_standby(struct agent *a, json_t *args, const struct reply *rp)
{
	dc_node_flags(a, args, rp, "standby", 1);
}

static void dc_unstandby(struct agent *a, json_t *args, const struct reply *rp)
{
	dc_node_flags(a, args, rp, "standby", 0);
}

static void dc_maintenance(struct agent *a, json_t *args, const struct reply *rp)
{
	int on = 1;

	if (json_unpack(args, "{s?b}", "maintenance", &on) < 0) {
		reply_err(rp, -EINVAL, "'maintenance' must be true or false");
		return;
	}
	dc_node_flags(a, args, rp, "maintenance", on);
}

static void dc_confirm(struct agent *a, json_t *args, const struct reply *rp)
{
	struct vcd_dc_out out;
	const char *who = "operator";
	char why[256];
	uint32_t id;
	int r;

	if (node_arg(a, args, rp, &id) < 0)
		return;
	json_unpack(args, "{s?s}", "by", &who);
	vcd_dc_out_init(&out);
	r = vcd_dc_confirm(a->dc, id, who, dc_now(), &out, why, sizeof(why));
	if (r == 0) {
		dc_run(a, &out);
		reply_ok(rp, json_pack("{s:s}", "committed", "node-fenced (confirmed)"));
	} else {
		reply_err(rp, r, "%s", why);
	}
	vcd_dc_out_free(&out);
}

static void dc_leave(struct agent *a, json_t *args, const struct reply *rp)
{
	json_int_t inc = 0;
	char what[96], *buf;
	uint32_t id;
	int r;
	size_t len;

	if (node_arg(a, args, rp, &id) < 0)
		return;
	if (json_unpack(args, "{s:I}", "incarnation", &inc) < 0 || inc <= 0) {
		reply_err(rp, -EINVAL, "'incarnation' must be the leaving life's");
		return;
	}
	r = vcd_entry_node_left(id, (uint64_t)inc, &buf, &len);
	if (r < 0) {
		reply_err(rp, r, "cannot build the entry: %s", strerror(-r));
		return;
	}
	snprintf(what, sizeof(what), "node-left of node %u (incarnation %lld)", id, (long long)inc);
	dc_submit(a, buf, len, what, rp);
}

/* A resource name as the state takes it: rejected here with the same words. */
static bool resource_name_ok(const char *name)
{
	char *e = NULL;
	size_t len;
	bool ok = vcd_entry_resource_remove(name, &e, &len) == 0;

	free(e);
	return ok;
}

/* Another resource that runs the same libvirt domain (name or UUID). */
static const char *domain_user(struct agent *a, const json_t *def, const char *except)
{
	const char *dom = json_string_value(json_object_get(def, "domain"));
	const char *uuid = json_string_value(json_object_get(def, "uuid"));
	const json_t *all = vcd_state_resources(a->state), *res;
	const char *name;

	json_object_foreach((json_t *)all, name, res) {
		const json_t *d = json_object_get(res, "definition");
		const char *od = json_string_value(json_object_get(d, "domain"));
		const char *ou = json_string_value(json_object_get(d, "uuid"));

		if (except && strcmp(name, except) == 0)
			continue;
		if ((dom && od && strcmp(dom, od) == 0) || (uuid && ou && strcasecmp(uuid, ou) == 0))
			return name;
	}
	return NULL;
}

/* Checks the DC repeats on its own replica: the name and the domain are free. */
static int resource_add_check(struct agent *a, const char *name, const json_t *def,
			      const struct reply *rp)
{
	const char *other;

	if (json_object_get(vcd_state_resources(a->state), name)) {
		reply_err(rp, -EEXIST, "a resource named \"%s\" exists already", name);
		return -EEXIST;
	}
	other = def ? domain_user(a, def, NULL) : NULL;
	if (other) {
		reply_err(rp, -EEXIST, "domain \"%s\" (UUID %s) is already resource \"%s\"",
			  json_string_value(json_object_get(def, "domain")) ?: "?",
			  json_string_value(json_object_get(def, "uuid")) ?: "?", other);
		return -EEXIST;
	}
	return 0;
}

static void dc_entry(struct agent *a, enum vcd_op op, json_t *fields, const char *what,
		     const struct reply *rp);

/* {"name","type","definition","meta"?}: the names are free, the policy
 * possible (a dry run gives apply's reason), then commit. */
static void dc_resource_add(struct agent *a, json_t *args, const struct reply *rp)
{
	const char *name = NULL, *type = "vm";
	json_t *def = NULL, *meta = NULL, *fields;
	char what[VCD_STATE_NAME_LEN + 32];

	if (json_unpack(args, "{s:s,s:o,s?s,s?o}", "name", &name, "definition", &def, "type",
			&type, "meta", &meta) < 0 ||
	    !json_is_object(def) || (meta && !json_is_object(meta))) {
		reply_err(rp, -EINVAL, "'name' and a 'definition' object are needed ('meta' is an object)");
		return;
	}
	if (strcmp(type, "vm") != 0 && strcmp(type, "ocf") != 0) {
		reply_err(rp, -EINVAL, "'type' must be vm or ocf");
		return;
	}
	if (resource_add_check(a, name, strcmp(type, "vm") == 0 ? def : NULL, rp) < 0)
		return;
	fields = json_pack("{s:s,s:s,s:O}", "name", name, "type", type, "definition", def);
	if (fields && meta)
		json_object_set(fields, "meta", meta);
	snprintf(what, sizeof(what), "resource-add of %s", name);
	dc_entry(a, VCD_OP_RESOURCE_ADD, fields, what, rp);
}

static void dc_resource_remove(struct agent *a, json_t *args, const struct reply *rp)
{
	const char *name = NULL;
	char what[VCD_STATE_NAME_LEN + 32], *buf;
	size_t len;

	if (json_unpack(args, "{s:s}", "name", &name) < 0 || !resource_name_ok(name)) {
		reply_err(rp, -EINVAL, "'name' must be a resource name");
		return;
	}
	if (!json_object_get(vcd_state_resources(a->state), name)) {
		reply_err(rp, -ENOENT, "no resource named \"%s\"", name);
		return;
	}
	if (vcd_entry_resource_remove(name, &buf, &len) < 0) {
		reply_err(rp, -ENOMEM, "out of memory");
		return;
	}
	snprintf(what, sizeof(what), "resource-remove of %s", name);
	dc_submit(a, buf, len, what, rp);
}

/*
 * Apply @buf to a copy of the replica: the reason an entry would be
 * refused, with apply's own words, before it is submitted (the log's
 * apply reports only an errno back to the submitter).
 */
static int dry_run(struct agent *a, const char *buf, size_t len, char *why, size_t why_size)
{
	struct vcd_state *copy = NULL;
	void *snap = NULL;
	size_t snap_len;
	int r;

	r = vcd_state_snapshot(a->state, &snap, &snap_len);
	if (r == 0)
		r = vcd_state_new(&copy);
	if (r == 0)
		r = vcd_state_restore(copy, snap, snap_len, why, why_size);
	if (r == 0)
		r = vcd_state_apply(copy, buf, len, vcd_state_applied_index(a->state) + 1, NULL,
				    why, why_size);
	else
		snprintf(why, why_size, "cannot copy the state: %s", strerror(-r));
	free(snap);
	vcd_state_free(copy);
	return r;
}

/* Build an entry from @fields (stolen), check it on a copy, commit it. */
static void dc_entry(struct agent *a, enum vcd_op op, json_t *fields, const char *what,
		     const struct reply *rp)
{
	char why[VCD_STATE_WHY_LEN], *buf = NULL;
	size_t len;
	int r = fields ? vcd_entry_build(op, fields, &buf, &len) : -ENOMEM;

	json_decref(fields);
	if (r < 0) {
		reply_err(rp, r, "cannot build the entry: %s", strerror(-r));
		return;
	}
	r = dry_run(a, buf, len, why, sizeof(why));
	if (r < 0 && r != -EALREADY) {
		free(buf);
		reply_err(rp, r, "%s", why);
		return;
	}
	dc_submit(a, buf, len, what, rp);
}

static const json_t *resource_arg(struct agent *a, json_t *args, const struct reply *rp,
				  const char **name)
{
	const json_t *res;

	if (json_unpack(args, "{s:s}", "name", name) < 0 || !resource_name_ok(*name)) {
		reply_err(rp, -EINVAL, "'name' must be a resource name");
		return NULL;
	}
	res = json_object_get(vcd_state_resources(a->state), *name);
	if (!res)
		reply_err(rp, -ENOENT, "no resource named \"%s\"", *name);
	return res;
}

/* resource update: merge the given meta keys into the policy (null
 * removes one); the whole policy is checked again. */
static void dc_resource_update(struct agent *a, json_t *args, const struct reply *rp)
{
	const json_t *res, *changes = json_object_get(args, "meta"), *v;
	const char *name, *key;
	char what[VCD_STATE_NAME_LEN + 32];
	json_t *meta;

	res = resource_arg(a, args, rp, &name);
	if (!res)
		return;
	if (!json_is_object(changes) || !json_object_size(changes)) {
		reply_err(rp, -EINVAL, "'meta' must be an object with the keys to change");
		return;
	}
	meta = json_deep_copy(json_object_get(res, "meta"));
	if (!meta)
		meta = json_object();
	json_object_foreach((json_t *)changes, key, v) {
		if (json_is_null(v))
			json_object_del(meta, key);
		else
			json_object_set(meta, key, (json_t *)v);
	}
	snprintf(what, sizeof(what), "resource-meta of %s", name);
	dc_entry(a, VCD_OP_RESOURCE_META, json_pack("{s:s,s:o}", "name", name, "meta", meta),
		 what, rp);
}

static void dc_resource_flag(struct agent *a, json_t *args, const struct reply *rp,
			     const char *key, json_t *value, const char *text)
{
	char what[VCD_STATE_NAME_LEN + 48];
	const char *name;

	if (!resource_arg(a, args, rp, &name)) {
		json_decref(value);
		return;
	}
	snprintf(what, sizeof(what), "%s of %s", text, name);
	dc_entry(a, VCD_OP_RESOURCE_FLAGS, json_pack("{s:s,s:o}", "name", name, key, value),
		 what, rp);
}

static void dc_resource_enable(struct agent *a, json_t *args, const struct reply *rp)
{
	dc_resource_flag(a, args, rp, "enabled", json_true(), "enable");
}

static void dc_resource_disable(struct agent *a, json_t *args, const struct reply *rp)
{
	dc_resource_flag(a, args, rp, "enabled", json_false(), "disable");
}

static void dc_resource_maintenance(struct agent *a, json_t *args, const struct reply *rp)
{
	int on = 1;

	if (json_unpack(args, "{s?b}", "maintenance", &on) < 0) {
		reply_err(rp, -EINVAL, "'maintenance' must be true or false");
		return;
	}
	dc_resource_flag(a, args, rp, "maintenance", json_boolean(on),
			 on ? "maintenance on" : "maintenance off");
}

static void dc_resource_move(struct agent *a, json_t *args, const struct reply *rp)
{
	uint32_t id;

	if (node_arg(a, args, rp, &id) < 0)
		return;
	dc_resource_flag(a, args, rp, "target_node", json_integer(id), "move");
}

static void dc_resource_clear(struct agent *a, json_t *args, const struct reply *rp)
{
	dc_resource_flag(a, args, rp, "target_node", json_integer(0), "clear");
}

static void dc_resource_cleanup(struct agent *a, json_t *args, const struct reply *rp)
{
	char what[VCD_STATE_NAME_LEN + 48];
	json_int_t node = 0;
	const char *name;

	if (!resource_arg(a, args, rp, &name))
		return;
	if (json_unpack(args, "{s?I}", "node", &node) < 0 || node < 0 || node > UINT32_MAX) {
		reply_err(rp, -EINVAL, "'node' must be a node id (or absent: every node)");
		return;
	}
	snprintf(what, sizeof(what), "resource-cleanup of %s", name);
	dc_entry(a, VCD_OP_RESOURCE_CLEANUP, json_pack("{s:s,s:I}", "name", name, "node", node),
		 what, rp);
}

static void dc_cluster_maintenance(struct agent *a, json_t *args, const struct reply *rp)
{
	int on = 1;

	if (json_unpack(args, "{s?b}", "maintenance", &on) < 0) {
		reply_err(rp, -EINVAL, "'maintenance' must be true or false");
		return;
	}
	dc_entry(a, VCD_OP_CLUSTER_SET, json_pack("{s:b}", "maintenance", on),
		 on ? "cluster maintenance on" : "cluster maintenance off", rp);
}

static void dc_cluster_set(struct agent *a, json_t *args, const struct reply *rp)
{
	json_t *fields = json_object();
	const json_t *v;

	if (!fields) {
		reply_err(rp, -ENOMEM, "out of memory");
		return;
	}
	v = json_object_get(args, "shutdown_policy");
	if (v)
		json_object_set(fields, "shutdown_policy", (json_t *)v);
	v = json_object_get(args, "migrate_max");
	if (v)
		json_object_set(fields, "migrate_max", (json_t *)v);
	dc_entry(a, VCD_OP_CLUSTER_SET, fields, "cluster-set", rp);
}

static const struct {
	const char *name;
	dc_cmd_fn fn;
} dc_cmds[] = {
	{ "resource-update", dc_resource_update },
	{ "resource-enable", dc_resource_enable },
	{ "resource-disable", dc_resource_disable },
	{ "resource-maintenance", dc_resource_maintenance },
	{ "resource-move", dc_resource_move },
	{ "resource-clear", dc_resource_clear },
	{ "resource-cleanup", dc_resource_cleanup },
	{ "cluster-maintenance", dc_cluster_maintenance },
	{ "cluster-set", dc_cluster_set },
	{ "resource-add", dc_resource_add },
	{ "resource-remove", dc_resource_remove },
	{ "node-leave", dc_leave },
	{ "node-standby", dc_standby },
	{ "node-unstandby", dc_unstandby },
	{ "node-maintenance", dc_maintenance },
	{ "node-confirm-fenced", dc_confirm },
};

static dc_cmd_fn dc_cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(dc_cmds) / sizeof(dc_cmds[0]); i++)
		if (strcmp(dc_cmds[i].name, name) == 0)
			return dc_cmds[i].fn;
	return NULL;
}

static void cmd_on_dc(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	on_dc(ctx, req, args, dc_cmd_find(vcd_ctl_req_cmd(req)));
}

static void start_consensus(struct agent *a, bool bootstrap);

/* The DC a peer's advisory payload names (publish_payload()); 0: none. */
static uint32_t payload_dc(const struct vcd_member *m, uint64_t *ret_term)
{
	uint32_t dc = 0;
	uint64_t term = 0;
	int i;

	if (m->payload_len < 16 || m->payload[0] != 1)
		return 0;
	for (i = 0; i < 4; i++)
		dc = dc << 8 | m->payload[4 + i];
	for (i = 0; i < 8; i++)
		term = term << 8 | m->payload[8 + i];
	*ret_term = term;
	return dc;
}

/* A peer that says it follows a DC: then a cluster exists to join. */
static const struct vcd_member *peer_with_dc(struct agent *a, uint32_t *dc, uint64_t *term)
{
	static struct vcd_member ms[VC_MAX_PEERS];
	size_t n = 0, i;

	members(a, ms, VC_MAX_PEERS, &n);
	for (i = 0; i < n; i++) {
		if (!member_up(&ms[i]))
			continue;
		*dc = payload_dc(&ms[i], term);
		if (*dc)
			return &ms[i];
	}
	return NULL;
}

static void cmd_bootstrap(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	const struct vcd_member *m;
	struct agent *a = ctx;
	uint64_t term = 0;
	uint32_t dc = 0;

	(void)args;
	if (vcd_cons_has_state(a->cons) || a->leader_id || vcd_cons_commit_index(a->cons)) {
		vcd_ctl_fail(req, -EEXIST, "this host already belongs to a cluster (its raft data is in %s)",
			     a->ac->raft_dir);
		return;
	}
	/* Two hosts bootstrapping alone would form two clusters.  The hint is
	 * advisory (rule 10), but enough to refuse an operator's mistake. */
	m = peer_with_dc(a, &dc, &term);
	if (m) {
		vcd_ctl_fail(req, -EEXIST, "node %u already follows a DC (node %u, term %" PRIu64 "): this host already belongs to a cluster and joins it when the DC adds it",
			     m->node_id, dc, term);
		return;
	}
	if (!is_voter(a, a->ac->node_id)) {
		vcd_ctl_fail(req, -EINVAL, "a standby host cannot bootstrap: run it on a voter");
		return;
	}
	vcd_notice("bootstrapping cluster %s with %zu members (operator request)",
		   a->ac->cfg.agent.cluster_name, a->ac->n_members);
	start_consensus(a, true);
	vcd_ctl_reply(req, json_pack("{s:s,s:i}", "bootstrapped", a->ac->cfg.agent.cluster_name,
				     "members", (int)a->ac->n_members));
}

static void left_then_stop(struct agent *a, int status)
{
	if (status < 0) {
		vcd_warn("leaving: the DC did not record the leave (%s); staying", strerror(-status));
		return;
	}
	vcd_notice("left the cluster: stopping");
	shutdown_agent(a, VCD_EXIT_OK);
}

/*
 * Planned leave: the DC commits node-left for this life first, so that
 * nobody waits for a fence window when our heartbeats stop; then we stop.
 */
struct leave_ctx {
	struct agent *a;
	struct vcd_ctl_req *req;
	enum vcd_rm_leave_policy policy;
};

/* Rule 5: the resources are stopped and released; now the leave itself. */
static void resources_left(void *arg, int status)
{
	struct leave_ctx *lc = arg;
	struct agent *a = lc->a;
	json_t *largs;

	if (status < 0) {
		vcd_ctl_fail(lc->req, status, "could not stop and release this host's resources: %s",
			     strerror(-status));
		free(lc);
		return;
	}
	largs = json_pack("{s:i,s:I}", "node", (int)a->ac->node_id, "incarnation",
			  (json_int_t)a->incarnation);
	on_dc_then(a, lc->req, "node-leave", largs, dc_leave, left_then_stop);
	json_decref(largs);
	free(lc);
}

/* node-leaving committed: nothing new comes here; stop what runs. */
static void leaving_committed(void *arg, int status)
{
	struct leave_ctx *lc = arg;

	if (status < 0 && status != -EALREADY) {
		vcd_ctl_fail(lc->req, status, "the DC did not record this host as leaving: %s",
			     strerror(-status));
		free(lc);
		return;
	}
	if (lc->a->rm)
		vcd_rm_leave(lc->a->rm, lc->policy, resources_left, lc);
	else
		resources_left(lc, 0);
}

/*
 * Planned leave (rule 5), in three commits: node-leaving (the DC places
 * nothing new here), each resource moved away, stopped or frozen (args
 * "policy", else the cluster's shutdown_policy) and released, node-left.
 */
static void cmd_leave(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	struct agent *a = ctx;
	struct leave_ctx *lc;
	const char *policy = NULL;
	enum vcd_rm_leave_policy pol;
	char *e = NULL;
	size_t len = 0;
	int r;

	if (json_unpack(args, "{s?s}", "policy", &policy) < 0)
		policy = "?";
	if (!policy)
		policy = json_string_value(json_object_get(vcd_state_cluster(a->state),
							   "shutdown_policy"));
	if (vcd_rm_leave_policy_parse(policy ? policy : "stop", &pol) < 0) {
		vcd_ctl_fail(req, -EINVAL, "'policy' must be migrate, stop or freeze");
		return;
	}
	lc = calloc(1, sizeof(*lc));
	if (!lc) {
		vcd_ctl_fail(req, -ENOMEM, "out of memory");
		return;
	}
	lc->a = a;
	lc->req = req;
	lc->policy = pol;
	vcd_notice("leaving the cluster (operator request): this host's resources first (%s)",
		   policy ? policy : "stop");
	r = vcd_entry_node_leaving(a->ac->node_id, a->incarnation, pol == VCD_RM_LEAVE_MIGRATE,
				   &e, &len);
	if (r == 0)
		r = rm_submit(a, e, len, "node-leaving", leaving_committed, lc);
	if (r < 0) {
		vcd_ctl_fail(req, r, "cannot record this host as leaving: %s%s", strerror(-r),
			     r == -EAGAIN ? " (no DC is in office)" : "");
		free(lc);
	}
}

/*
 * Every host in the configuration is in the raft configuration from the
 * bootstrap on (voters with votes = 1, standby hosts with votes = 0), so a
 * configured host joins by starting: the DC sends it the log.  This says
 * where that stands, and refuses a role the configuration does not give.
 */
static void cmd_join(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	struct agent *a = ctx;
	const struct vcd_cons_member *self = member_of(a, a->ac->node_id);
	const char *role = NULL, *have = self->role == VCD_CONS_VOTER ? "voter" : "standby";
	char msg[256];

	json_unpack(args, "{s?s}", "role", &role);
	if (role && strcmp(role, have) != 0) {
		vcd_ctl_fail(req, -EINVAL, "this host is configured as a %s (votes in [node] of %s); change the configuration on every host to change its role",
			     have, a->ac->path);
		return;
	}
	if (a->leader_id)
		snprintf(msg, sizeof(msg), "node %u is a %s member of cluster %s; the DC is node %" PRIu64,
			 a->ac->node_id, have, a->ac->cfg.agent.cluster_name, a->leader_id);
	else
		snprintf(msg, sizeof(msg), "node %u is a %s member of cluster %s and waits for a DC (run 'vclusterctl cluster bootstrap' on one voter if the cluster was never formed)",
			 a->ac->node_id, have, a->ac->cfg.agent.cluster_name);
	vcd_ctl_reply(req, json_pack("{s:s,s:s}", "message", msg, "role", have));
}

struct add_ctx {
	struct agent *a;
	struct vcd_ctl_req *req;
	char name[VCD_STATE_NAME_LEN];
	bool is_vm;
	json_t *meta;			/* the placement policy given, or NULL */
};

/* This host accepted the definition (libvirt, or the OCF agent's own
 * checks): have the DC commit it. */
static void add_validated(void *arg, int err, const char *msg, json_t *def)
{
	struct add_ctx *ac = arg;
	struct agent *a = ac->a;
	struct reply rp = { .req = ac->req };
	json_t *args;

	if (err) {
		vcd_ctl_fail(ac->req, err, "%s", msg);
	} else if (resource_add_check(a, ac->name, ac->is_vm ? def : NULL, &rp) == 0) {
		args = json_pack("{s:s,s:s,s:O}", "name", ac->name, "type", ac->is_vm ? "vm" : "ocf",
				 "definition", def);
		if (args && ac->meta)
			json_object_set(args, "meta", ac->meta);
		on_dc_then(a, ac->req, "resource-add", args, dc_resource_add, NULL);
		json_decref(args);
	}
	json_decref(ac->meta);
	free(ac);
}

static int add_check_args(struct vcd_ctl_req *req, json_t *args, const char **name,
			  const char **xml, const char **domain, const char **ocf)
{
	const json_t *meta = json_object_get(args, "meta");

	if (json_unpack(args, "{s:s,s?s,s?s,s?s}", "name", name, "xml", xml, "domain", domain,
			"ocf", ocf) < 0 || !resource_name_ok(*name)) {
		vcd_ctl_fail(req, -EINVAL, "'name' must be 1 to %d characters of A-Z a-z 0-9 . _ - :",
			     VCD_STATE_NAME_LEN - 1);
		return -EINVAL;
	}
	if (!!*xml + !!*domain + !!*ocf != 1) {
		vcd_ctl_fail(req, -EINVAL, "give one of 'xml' (a domain XML), 'domain' (a libvirt domain on this host) or 'ocf' (an OCF agent, ocf:PROVIDER:TYPE)");
		return -EINVAL;
	}
	if (meta && !json_is_object(meta)) {
		vcd_ctl_fail(req, -EINVAL, "'meta' must be an object");
		return -EINVAL;
	}
	if (!*ocf && (json_object_get(args, "params") || json_object_get(args, "ops"))) {
		vcd_ctl_fail(req, -EINVAL, "'params' and 'ops' are for OCF resources");
		return -EINVAL;
	}
	return 0;
}

/*
 * resource add: {"name", "xml"} (a domain XML, defined here), {"name",
 * "domain"} (a domain this host's libvirt has) or {"name", "ocf",
 * "params", "ops"} (an OCF resource agent: its meta-data checks the
 * parameters, then validate-all); "meta" is the placement policy.  This
 * host checks the definition; the DC checks the names and the policy
 * again and commits.
 */
static void cmd_resource_add(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	struct agent *a = ctx;
	struct reply rp = { .req = req };
	const char *name = NULL, *xml = NULL, *domain = NULL, *ocf = NULL;
	struct add_ctx *ac;
	int r;

	if (add_check_args(req, args, &name, &xml, &domain, &ocf) < 0)
		return;
	if (resource_add_check(a, name, NULL, &rp) < 0)
		return;
	ac = calloc(1, sizeof(*ac));
	if (!ac) {
		vcd_ctl_fail(req, -ENOMEM, "out of memory");
		return;
	}
	ac->a = a;
	ac->req = req;
	ac->is_vm = !ocf;
	ac->meta = json_incref(json_object_get(args, "meta"));
	snprintf(ac->name, sizeof(ac->name), "%s", name);
	if (ocf)
		r = vcd_ocf_validate(&a->loop, a->ac->cfg.agent.ocf_root, name, ocf,
				     json_object_get(args, "params"), json_object_get(args, "ops"),
				     add_validated, ac);
	else
		r = a->rm ? vcd_rm_validate(a->rm, xml, domain, add_validated, ac) : -EOPNOTSUPP;
	if (r < 0) {
		json_decref(ac->meta);
		free(ac);
		vcd_ctl_fail(req, r, r == -EOPNOTSUPP ?
			     "this host runs no VMs (libvirt-uri = none): add resources on a hypervisor host" :
			     "cannot check the definition: %s", strerror(-r));
	}
}

static void cmd_resource_list(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	struct agent *a = ctx;

	(void)args;
	vcd_ctl_reply(req, json_pack("{s:o}", "resources", resources_json(a, NULL)));
}

static void cmd_resource_show(void *ctx, struct vcd_ctl_req *req, json_t *args)
{
	struct agent *a = ctx;
	const char *name = NULL;
	json_t *arr;

	if (json_unpack(args, "{s:s}", "name", &name) < 0) {
		vcd_ctl_fail(req, -EINVAL, "'name' is needed");
		return;
	}
	arr = resources_json(a, name);
	if (!json_array_size(arr)) {
		json_decref(arr);
		vcd_ctl_fail(req, -ENOENT, "no resource named \"%s\"", name);
		return;
	}
	vcd_ctl_reply(req, json_incref(json_array_get(arr, 0)));
	json_decref(arr);
}

static const struct vcd_ctl_cmd ctl_cmds[] = {
	{ "resource-add", true, cmd_resource_add },
	{ "resource-remove", true, cmd_on_dc },
	{ "resource-list", false, cmd_resource_list },
	{ "resource-show", false, cmd_resource_show },
	{ "cluster-join", true, cmd_join },
	{ "status", false, cmd_status },
	{ "node-list", false, cmd_node_list },
	{ "history", false, cmd_history },
	{ "node-standby", true, cmd_on_dc },
	{ "node-unstandby", true, cmd_on_dc },
	{ "node-maintenance", true, cmd_on_dc },
	{ "node-confirm-fenced", true, cmd_on_dc },
	{ "resource-update", true, cmd_on_dc },
	{ "resource-enable", true, cmd_on_dc },
	{ "resource-disable", true, cmd_on_dc },
	{ "resource-maintenance", true, cmd_on_dc },
	{ "resource-move", true, cmd_on_dc },
	{ "resource-clear", true, cmd_on_dc },
	{ "resource-cleanup", true, cmd_on_dc },
	{ "cluster-maintenance", true, cmd_on_dc },
	{ "cluster-set", true, cmd_on_dc },
	{ "cluster-bootstrap", true, cmd_bootstrap },
	{ "cluster-leave", true, cmd_leave },
	{ NULL, false, NULL },
};

/* resource-migrated names the target; its source may report it too. */
static bool move_source(struct agent *a, const json_t *e, uint64_t from)
{
	const char *op = json_string_value(json_object_get(e, "op"));
	const char *name = json_string_value(json_object_get(e, "name"));
	const json_t *res;
	struct vcd_placement p;

	if (!op || !name || strcmp(op, "resource-migrated") != 0)
		return false;
	res = json_object_get(vcd_state_resources(a->state), name);
	return res && vcd_resource_placement(res, &p) == 0 && p.node == from;
}

/*
 * A host's own report, forwarded for the DC to commit: what runs there
 * (resource-status, resource-release) and its capacity.  Only about
 * itself: apply checks the rest, as for any entry.
 */
static void rpc_entry(struct agent *a, uint64_t from, json_t *msg, const struct reply *rp)
{
	static const char *const ops[] = { "resource-status", "resource-release",
					   "node-capacity", "node-leaving", "resource-fail",
					   "resource-migrated", "resource-migrate-abort" };
	const char *text = NULL, *op = NULL;
	json_int_t node = 0;
	json_t *e = NULL;
	char what[96];
	size_t i;

	if (json_unpack(msg, "{s:s}", "entry", &text) == 0)
		e = json_loads(text, 0, NULL);
	if (!e || json_unpack(e, "{s:s,s:I}", "op", &op, "node", &node) < 0) {
		reply_err(rp, -EINVAL, "malformed entry");
		json_decref(e);
		return;
	}
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]) && strcmp(op, ops[i]); i++)
		;
	if (i == sizeof(ops) / sizeof(ops[0]) ||
	    ((uint64_t)node != from && !move_source(a, e, from))) {
		reply_err(rp, -EPERM, "node %" PRIu64 " may not forward %s about node %lld", from,
			  op, (long long)node);
		json_decref(e);
		return;
	}
	snprintf(what, sizeof(what), "%s from node %" PRIu64, op, from);
	json_decref(e);
	dc_submit(a, strdup(text), strlen(text), what, rp);
}

/* A follower forwarded a request to us (the DC). */
static void on_rpc(void *ctx, uint64_t from_id, const char *json, size_t len,
		   vcd_cons_rpc_reply_fn reply, void *reply_ctx)
{
	struct agent *a = ctx;
	struct reply rp = { .rpc = reply, .rpc_ctx = reply_ctx };
	json_t *msg = json_loadb(json, len, 0, NULL), *args;
	const char *cmd = NULL, *name = NULL;
	dc_cmd_fn fn;

	if (!msg || json_unpack(msg, "{s:s}", "cmd", &cmd) < 0) {
		reply_err(&rp, -EINVAL, "malformed request");
	} else if (!a->is_dc) {
		reply_err(&rp, -EAGAIN, "node %u is no longer the DC", a->ac->node_id);
	} else if (strcmp(cmd, "view") == 0) {
		rpc_view(a, from_id, msg, &rp);
	} else if (strcmp(cmd, "entry") == 0) {
		rpc_entry(a, from_id, msg, &rp);
	} else if (strcmp(cmd, "ctl") == 0 && json_unpack(msg, "{s:s}", "name", &name) == 0 &&
		   (fn = dc_cmd_find(name))) {
		args = json_object_get(msg, "args");
		vcd_info("DC: %s forwarded by node %" PRIu64, name, from_id);
		fn(a, json_is_object(args) ? args : NULL, &rp);
	} else {
		reply_err(&rp, -EOPNOTSUPP, "unknown request");
	}
	json_decref(msg);
}

/* ------------------------------------------------------------------ */
/* Start and stop */

static const struct vcd_cons_fsm fsm_ops = {
	.apply = fsm_apply, .snapshot = fsm_snapshot, .restore = fsm_restore,
};

static int cons_create(struct agent *a)
{
	struct vcd_cons_fsm fsm = fsm_ops;
	struct vcd_cons_cb cb = { .leader_changed = on_leader_changed, .rpc = on_rpc };

	fsm.ctx = a;
	cb.ctx = a;
	return vcd_cons_new(&a->loop, &a->cp, &fsm, &cb, &a->cons);
}

enum boot {
	BOOT_NONE,
	BOOT_ALL,	/* every voter writes the same full configuration */
	BOOT_SELF,	/* this voter alone; as DC it adds the others */
};

static int cons_boot_and_start(struct agent *a, enum boot boot)
{
	int r;

	if (boot != BOOT_NONE && !vcd_cons_has_state(a->cons)) {
		r = boot == BOOT_ALL ? vcd_cons_bootstrap(a->cons) :
				       vcd_cons_bootstrap_self(a->cons);
		if (r < 0 && r != -EEXIST) {
			vcd_err("raft bootstrap in %s failed: %s", a->ac->raft_dir, strerror(-r));
			return r;
		}
		if (r == 0 && boot == BOOT_ALL)
			vcd_notice("raft: bootstrapped a new cluster with %zu members (%u voters)",
				   a->cp.n_members, a->ac->voters);
		else if (r == 0)
			vcd_notice("raft: bootstrapped a new cluster with this host as its only voter; as DC it adds the other %zu members",
				   a->cp.n_members - 1);
	}
	r = vcd_cons_start(a->cons);
	if (r < 0)
		vcd_err("raft start failed: %s", strerror(-r));
	return r;
}

/* Bootstrapping a running (empty) member: close raft, bootstrap, start. */
static void cons_restart_closed(void *arg)
{
	struct agent *a = arg;

	vcd_cons_free(a->cons);
	a->cons = NULL;
	if (cons_create(a) < 0 || cons_boot_and_start(a, BOOT_SELF) < 0)
		shutdown_agent(a, VCD_EXIT_FAILURE);
}

static void start_consensus(struct agent *a, bool bootstrap)
{
	(void)bootstrap;
	vcd_cons_close(a->cons, cons_restart_closed, a);
}

static void fill_cons_params(struct agent *a)
{
	struct vcd_cons_params *p = &a->cp;
	const struct vcd_aconf *ac = a->ac;

	memset(p, 0, sizeof(*p));
	p->self_id = ac->node_id;
	p->data_dir = ac->raft_dir;
	memcpy(p->members, ac->members, sizeof(ac->members[0]) * ac->n_members);
	p->n_members = ac->n_members;
	p->election_timeout_ms = ac->cfg.agent.election_timeout_ms;
	p->heartbeat_ms = ac->cfg.agent.raft_heartbeat_ms;
	p->cluster_id = ac->cfg.node.cluster_id;
	p->key = ac->have_key ? ac->key : NULL;
	p->insecure = !ac->have_key;
}

static int fill_dc_params(struct agent *a, struct vcd_dc_params *p)
{
	const struct vc_config *cfg = &a->ac->cfg;
	size_t i;

	memset(p, 0, sizeof(*p));
	p->self_id = a->ac->node_id;
	for (i = 0; i < a->ac->n_members; i++) {
		if (a->ac->members[i].role != VCD_CONS_VOTER)
			continue;
		p->voters[p->n_voters].id = (uint32_t)a->ac->members[i].id;
		p->voters[p->n_voters++].votes = 1;
	}
	p->interval_ms = (cfg->node.set & VC_NODE_F_INTERVAL_MS) ? cfg->node.interval_ms : 10;
	p->dead_ms = p->interval_ms * ((cfg->node.set & VC_NODE_F_MISSES) ? cfg->node.misses : 3);
	p->quorum_timeout_ms = cfg->has_fence ? cfg->fence.quorum_timeout_ms : 0;
	p->kill_bound_ms = cfg->has_fence ? cfg->fence.kill_bound_ms : 0;
	p->margin_ms = (cfg->node.set & VC_NODE_F_FENCE_MARGIN_MS) ? cfg->node.fence_margin_ms : 100;
	p->never_heard_strong = fence_cfg_strong(cfg);
	return vcd_dc_new(p, &a->dc);
}

static int pick_transport(struct agent *a)
{
	struct vcd_mship_cb cb = {
		.ctx = a, .peer_changed = on_peer_changed, .quorum_changed = on_quorum_changed,
		.pretimeout = on_pretimeout, .fenced = on_fenced, .failed = on_mship_failed,
	};
	uint32_t t = a->ac->cfg.agent.transport;

	if (t == VC_TRANSPORT_AUTO)
		t = vcd_mship_kernel_available() ? VC_TRANSPORT_KERNEL : VC_TRANSPORT_USER;
	if (t == VC_TRANSPORT_KERNEL)
		return vcd_mship_kernel_new(&a->loop, &cb, &a->ms);
	return vcd_mship_user_new(&a->loop, &cb, &a->ms);
}

static const char *fencer_path(const struct agent *a)
{
	static char path[VC_PATH_LEN + 32];
	char self[VC_PATH_LEN];
	ssize_t n;
	char *slash;

	if (a->opts->fencer_path)
		return a->opts->fencer_path;
	if (a->ac->cfg.agent.fencer[0])
		return a->ac->cfg.agent.fencer;
	/* Next to this binary: installed together, and found in a build tree. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/vcluster-fencer", self);
			return path;
		}
	}
	return "vcluster-fencer";
}

static int start_membership(struct agent *a)
{
	struct vcd_mship_params p = {
		.cfg = &a->ac->cfg,
		.key = a->ac->have_key ? a->ac->key : NULL,
		.key_id = (uint8_t)a->ac->cfg.key_id,
		.incarnation = a->incarnation,
		.fencer_path = fencer_path(a),
	};
	struct vcd_self self;
	int r;

	r = pick_transport(a);
	if (r < 0) {
		vcd_err("cannot set up the membership transport: %s", strerror(-r));
		return r;
	}
	r = a->ms->ops->start(a->ms, &p);
	if (r < 0) {
		vcd_err("membership transport %s failed to start: %s", a->ms->ops->name,
			strerror(-r));
		return r;
	}
	a->mship_started = true;
	/* The kernel transport adopts a running, armed life after an agent
	 * restart: the life is the kernel's, not the counter's. */
	if (a->ms->ops->self(a->ms, &self) == 0 && self.incarnation &&
	    self.incarnation != a->incarnation) {
		vcd_notice("membership: continuing the running life %" PRIu64 " (the counter gave %" PRIu64 ")",
			   self.incarnation, a->incarnation);
		a->incarnation = self.incarnation;
	}
	vcd_notice("membership: transport %s, incarnation %" PRIu64 ", %zu peers",
		   a->ms->ops->name, a->incarnation, a->ac->cfg.n_peers);
	return 0;
}

static int make_dirs(const struct vcd_aconf *ac)
{
	if (mkdir(ac->data_dir, 0700) < 0 && errno != EEXIST) {
		vcd_err("%s: cannot create the data directory: %s", ac->data_dir, strerror(errno));
		return -errno;
	}
	return 0;
}

static void close_walk_cb(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void cons_closed(void *arg)
{
	struct agent *a = arg;

	vcd_cons_free(a->cons);
	a->cons = NULL;
	uv_walk(&a->loop, close_walk_cb, NULL);
}

static void finish_shutdown(struct agent *a);

static void hooks_closed(void *arg)
{
	finish_shutdown(arg);
}

/* Everything is settled: close the parts, then the loop ends.  Hooks
 * first: the last events' hooks (a fence, say) run to their end, within
 * hook-timeout-ms. */
static void finish_shutdown(struct agent *a)
{
	struct vcd_hooks *hooks = a->hooks;
	int r;

	if (hooks) {
		a->hooks = NULL;
		vcd_hooks_close(hooks, hooks_closed, a);
		return;
	}

	if (a->mship_started) {
		if (!a->fenced) {
			r = a->ms->ops->stop(a->ms);
			if (r < 0 && a->armed)
				vcd_warn("the fencing watchdog stays armed (%s): this host fences itself when the agent timeout passes",
					 strerror(-r));
		}
		a->ms->ops->close(a->ms);
		a->mship_started = false;
	}
	vcd_ctl_close(a->ctl);
	a->ctl = NULL;
	/* Fenced or failed, the exit must not wait for a libvirt call. */
	if (a->exit_code == VCD_EXIT_OK)
		vcd_rm_close(a->rm, NULL, NULL);
	a->rm = NULL;
	uv_timer_stop(&a->tick);
	uv_timer_stop(&dc_timer);
	if (a->cons && a->exit_code != VCD_EXIT_OK) {
		/* Fenced or failed: raft made every entry it acknowledged
		 * durable already, and closing libraft 0.15 with appends in
		 * flight has crashed it (seen after a fence).  The exit ends
		 * it; nothing runs on the loop any more. */
		uv_stop(&a->loop);
		return;
	}
	if (a->cons)
		vcd_cons_close(a->cons, cons_closed, a);
	else
		uv_walk(&a->loop, close_walk_cb, NULL);
}

static void transfer_done(void *arg, int status)
{
	struct agent *a = arg;

	if (!a->transferring)
		return;
	a->transferring = false;
	if (status < 0)
		vcd_warn("leadership transfer failed: %s", strerror(-status));
	else
		vcd_notice("leadership handed over (DC now node %" PRIu64 ")",
			   vcd_cons_leader(a->cons));
	finish_shutdown(a);
}

static uv_timer_t transfer_timer;

static void transfer_timeout(uv_timer_t *t)
{
	struct agent *a = t->data;

	if (!a->transferring)
		return;
	vcd_warn("leadership transfer did not finish within %d ms: stopping anyway",
		 TRANSFER_WAIT_MS);
	a->transferring = false;
	finish_shutdown(a);
}

static uv_timer_t shutdown_timer;

static void shutdown_now(uv_timer_t *t)
{
	struct agent *a = t->data;

	uv_close((uv_handle_t *)t, NULL);
	vcd_sd_notify("STOPPING=1");
	/* A planned stop of the DC hands leadership over first, so that the
	 * others need not wait for an election timeout. */
	if (a->exit_code == VCD_EXIT_OK && a->cons && vcd_cons_is_leader(a->cons) &&
	    a->ac->voters > 1 &&
	    vcd_cons_transfer(a->cons, 0, transfer_done, a) == 0) {
		vcd_notice("handing leadership over before stopping");
		a->transferring = true;
		transfer_timer.data = a;
		uv_timer_init(&a->loop, &transfer_timer);
		uv_timer_start(&transfer_timer, transfer_timeout, TRANSFER_WAIT_MS, 0);
		return;
	}
	finish_shutdown(a);
}

/*
 * Stop the agent.  Callbacks of every part may ask for this, so the work
 * happens on the next loop iteration: closing a part from inside its own
 * callback would pull its handles from under it.
 */
static void shutdown_agent(struct agent *a, int exit_code)
{
	if (a->stopping)
		return;
	a->stopping = true;
	a->exit_code = exit_code;
	uv_timer_init(&a->loop, &shutdown_timer);
	shutdown_timer.data = a;
	uv_timer_start(&shutdown_timer, shutdown_now, 0, 0);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct agent *a = s->data;

	if (signum == SIGPIPE)
		return;
	vcd_notice("%s: stopping", strsignal(signum));
	shutdown_agent(a, VCD_EXIT_OK);
}

static int init_signals(struct agent *a)
{
	uv_signal_t *sigs[] = { &a->sig_term, &a->sig_int, &a->sig_pipe };
	int nums[] = { SIGTERM, SIGINT, SIGPIPE };
	size_t i;

	for (i = 0; i < 3; i++) {
		uv_signal_init(&a->loop, sigs[i]);
		sigs[i]->data = a;
		uv_signal_start(sigs[i], on_signal, nums[i]);
	}
	return 0;
}

static int start_all(struct agent *a)
{
	char err[512];
	int r;

	r = make_dirs(a->ac);
	if (r < 0)
		return r;
	r = vcd_incarnation_next(a->ac->data_dir, 0, &a->incarnation, err, sizeof(err));
	if (r < 0) {
		vcd_err("incarnation: %s", err);
		return r;
	}
	r = vcd_state_new(&a->state);
	if (r < 0)
		return r;
	{
		struct vcd_dc_params dp;

		r = fill_dc_params(a, &dp);
		if (r < 0) {
			vcd_err("DC setup: %s", strerror(-r));
			return r;
		}
	}
	r = start_membership(a);
	if (r < 0)
		return r;
	fill_cons_params(a);
	r = cons_create(a);
	if (r < 0) {
		vcd_err("raft setup in %s failed: %s", a->ac->raft_dir, strerror(-r));
		return r;
	}
	r = cons_boot_and_start(a, (a->ac->cfg.agent.auto_bootstrap || a->opts->bootstrap) &&
				is_voter(a, a->ac->node_id) ? BOOT_ALL : BOOT_NONE);
	if (r < 0)
		return r;
	if (!vcd_cons_has_state(a->cons))
		vcd_notice("raft: no cluster state yet: waiting for a DC to send it, or for 'vclusterctl cluster bootstrap'");
	r = start_hooks(a);
	if (r < 0)
		return r;
	r = start_resources(a);
	if (r < 0)
		return r;
	rm_update(a);
	r = vcd_ctl_new(&a->loop, a->ac->socket_path, (gid_t)a->ac->cfg.agent.control_group,
			ctl_cmds, a, &a->ctl);
	if (r < 0) {
		vcd_err("control socket %s: %s", a->ac->socket_path, strerror(-r));
		return r;
	}
	uv_timer_init(&a->loop, &a->tick);
	uv_timer_init(&a->loop, &dc_timer);
	a->tick.data = a;
	uv_timer_start(&a->tick, tick_cb, 0, a->ac->cfg.agent.raft_heartbeat_ms);
	return 0;
}

int vcd_agent_run(struct vcd_aconf *ac, const struct vcd_run_opts *opts)
{
	static struct agent agent;
	struct agent *a = &agent;
	int r;

	a->ac = ac;
	a->opts = opts;
	a->exit_code = VCD_EXIT_OK;
	signal(SIGPIPE, SIG_IGN);
	r = uv_loop_init(&a->loop);
	if (r < 0) {
		vcd_err("event loop: %s", uv_strerror(r));
		return VCD_EXIT_FAILURE;
	}
	a->started_ns = vcd_now_ns();
	init_signals(a);
	vcd_notice("vclusterd %s starting: cluster %s, node %u", VC_VERSION,
		   ac->cfg.agent.cluster_name, ac->node_id);
	r = start_all(a);
	if (r < 0) {
		a->stopping = true;
		a->exit_code = VCD_EXIT_FAILURE;
		finish_shutdown(a);
	} else {
		vcd_sd_notify("READY=1");
		vcd_notice("ready: control socket %s", ac->socket_path);
	}
	uv_run(&a->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&a->loop) == 0) {
		vcd_dc_free(a->dc);
		vcd_state_free(a->state);
	}	/* else raft was left open on purpose: see finish_shutdown() */
	vcd_notice("stopped (exit code %d)", a->exit_code);
	return a->exit_code;
}
