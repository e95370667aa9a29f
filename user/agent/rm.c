// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The resource manager (see rm.h): runs on every host, reconciles what
 * runs here with what the replicated state places on this life, and on
 * the DC commits the placement engine's decisions.
 *
 * One record per resource this host has seen (struct lres) holds what
 * runs here: its state as this host knows it, the QEMU's PID and a pidfd
 * watch, and the failure count.  At most one libvirt job per resource is
 * in flight; a reconcile pass skips busy ones and runs again when a job
 * finishes.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mship.h"	/* vcd_now_ns() */
#include "place.h"
#include "rm.h"
#include "virt.h"

#define RM_RETRY_MS		1000	/* releases, status, stops that failed */
#define RM_INFLIGHT_MS		5000	/* a placement not committed by then is retried */
#define RM_MAX_FAILS		32	/* failure times kept per resource */
#define RM_START_WAIT_MS	5000	/* starting while libvirt still tidies up */

enum lstate {
	L_STOPPED = 0,
	L_STARTING,
	L_RUNNING,
	L_STOPPING,
};

static const char *const lstate_names[] = {
	[L_STOPPED] = "stopped",
	[L_STARTING] = "starting",
	[L_RUNNING] = "running",
	[L_STOPPING] = "stopping",
};

struct vcd_rm;
struct lres;

/* A pidfd poll on one QEMU; freed when its handle closed. */
struct pidwatch {
	uv_poll_t h;
	int fd;
	pid_t pid;
	struct lres *l;			/* NULL once detached */
};

struct lres {
	struct vcd_rm *rm;
	char name[VCD_STATE_NAME_LEN];
	char domain[VCD_VIRT_NAME_LEN];
	char uuid[VCD_VIRT_UUID_LEN];
	char *xml;

	enum lstate st;
	uint64_t st_ns;			/* vcd_now_ns() of the last change of st */
	pid_t pid;
	struct pidwatch *watch;
	bool busy;			/* a libvirt job is in flight */
	struct vcd_virt_job job;
	uint64_t start_ns;		/* when the start job was queued */
	uint64_t run_inc;		/* the placement it was started for */

	uint64_t fail_ns[RM_MAX_FAILS];	/* ring of failure times */
	uint32_t n_fail;		/* total, for the ring */
	uint32_t restarts;		/* restarts in place for this placement */
	uint64_t gave_up_inc;		/* released as failed for this placement */
	char last_failure[160];

	uint64_t release_sent_inc;	/* release submitted for that placement */
	uint64_t status_sent_inc;	/* "running" submitted for that placement */
	bool in_state;
	struct lres *next;
};

struct vcd_rm {
	uv_loop_t *loop;
	struct vcd_rm_params p;
	char *uri;
	struct vcd_rm_host host;
	struct vcd_virt *virt;

	const struct vcd_state *state;
	uint64_t inc;
	bool may_run;
	bool is_dc;
	bool leaving;
	void (*leave_done)(void *arg, int status);
	void *leave_arg;

	bool connected;
	char conn_why[VCD_VIRT_MSG_LEN];
	bool synced;			/* a listing told what runs here */
	bool hostinfo_busy;
	struct vcd_virt_job hostinfo;
	uint64_t capacity_sent_mem;
	uint32_t capacity_sent_cpus;

	struct lres *res;
	json_t *inflight;		/* DC: name -> ns when the placement was submitted */
	json_t *noplace;		/* DC: name -> last "cannot place" text logged */

	uv_idle_t soon;			/* reconcile / place on the next turn */
	bool soon_armed;
	uv_timer_t retry;
	uv_timer_t monitor;
	int closing;
	void (*closed)(void *arg);
	void *closed_arg;
};

static double ms_since(uint64_t t0)
{
	return (double)(vcd_now_ns() - t0) / 1e6;
}

static void schedule(struct vcd_rm *rm);

static void set_st(struct lres *l, enum lstate st)
{
	l->st = st;
	l->st_ns = vcd_now_ns();
}

/* ------------------------------------------------------------------ */
/* Records */

static struct lres *lres_find(struct vcd_rm *rm, const char *name)
{
	struct lres *l;

	for (l = rm->res; l; l = l->next)
		if (strcmp(l->name, name) == 0)
			return l;
	return NULL;
}

static struct lres *lres_by_uuid(struct vcd_rm *rm, const char *uuid)
{
	struct lres *l;

	for (l = rm->res; l; l = l->next)
		if (l->uuid[0] && strcasecmp(l->uuid, uuid) == 0)
			return l;
	return NULL;
}

static struct lres *lres_get(struct vcd_rm *rm, const char *name)
{
	struct lres *l = lres_find(rm, name);

	if (l)
		return l;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->rm = rm;
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->next = rm->res;
	rm->res = l;
	return l;
}

/* Take the libvirt identity from the resource's definition. */
static void lres_define(struct lres *l, const json_t *res)
{
	const json_t *def = json_object_get(res, "definition");
	const char *domain = json_string_value(json_object_get(def, "domain"));
	const char *uuid = json_string_value(json_object_get(def, "uuid"));
	const char *xml = json_string_value(json_object_get(def, "xml"));

	snprintf(l->domain, sizeof(l->domain), "%s", domain ? domain : l->name);
	if (uuid)
		snprintf(l->uuid, sizeof(l->uuid), "%s", uuid);
	if (xml && (!l->xml || strcmp(l->xml, xml) != 0)) {
		free(l->xml);
		l->xml = strdup(xml);
	}
}

/* ------------------------------------------------------------------ */
/* Commits */

struct sent {
	struct lres *l;
	uint64_t inc;
	int kind;			/* 'r' release, 's' status */
};

static void sent_done(void *arg, int status)
{
	struct sent *s = arg;

	if (status < 0 && status != -EALREADY) {
		/* Forget it was sent: the retry timer sends it again. */
		if (s->kind == 'r' && s->l->release_sent_inc == s->inc)
			s->l->release_sent_inc = 0;
		if (s->kind == 's' && s->l->status_sent_inc == s->inc)
			s->l->status_sent_inc = 0;
	}
	free(s);
}

static void submit_tracked(struct lres *l, int r, char *e, size_t len, const char *what,
			   uint64_t inc, int kind)
{
	struct vcd_rm *rm = l->rm;
	struct sent *s;

	if (r < 0) {
		vcd_warn("resource %s: cannot build %s: %s", l->name, what, strerror(-r));
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		free(e);
		return;
	}
	*s = (struct sent){ l, inc, kind };
	if (kind == 'r')
		l->release_sent_inc = inc;
	else
		l->status_sent_inc = inc;
	r = rm->host.submit(rm->host.ctx, e, len, what, sent_done, s);
	if (r < 0)
		sent_done(s, r);
}

static void send_release(struct lres *l, uint64_t inc, bool failed, const char *note)
{
	char what[VCD_STATE_NAME_LEN + 64], *e = NULL;
	size_t len = 0;
	int r;

	if (l->release_sent_inc == inc)
		return;
	r = vcd_entry_resource_release(l->name, l->rm->p.self_id, inc, failed, note, &e, &len);
	snprintf(what, sizeof(what), "resource-release of %s%s", l->name,
		 failed ? " (failed)" : "");
	vcd_notice("resource %s: releasing it (incarnation %" PRIu64 ")%s%s", l->name, inc,
		   failed ? ": " : "", failed ? note : "");
	submit_tracked(l, r, e, len, what, inc, 'r');
}

static void send_running(struct lres *l, uint64_t inc, const char *note)
{
	char what[VCD_STATE_NAME_LEN + 64], *e = NULL;
	size_t len = 0;
	int r;

	if (l->status_sent_inc == inc)
		return;
	r = vcd_entry_resource_status(l->name, l->rm->p.self_id, inc, "running", note, &e,
				      &len);
	snprintf(what, sizeof(what), "resource-status of %s (running)", l->name);
	submit_tracked(l, r, e, len, what, inc, 's');
}

/* ------------------------------------------------------------------ */
/* QEMU processes: pidfd watches and the fencer's registry */

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void watch_closed(uv_handle_t *h)
{
	struct pidwatch *w = h->data;

	close(w->fd);
	free(w);
}

static void watch_drop(struct lres *l)
{
	struct vcd_rm *rm = l->rm;
	struct pidwatch *w = l->watch;

	if (!w)
		return;
	l->watch = NULL;
	w->l = NULL;
	rm->host.proc_del(rm->host.ctx, w->pid);
	uv_close((uv_handle_t *)&w->h, watch_closed);
}

static void qemu_died(struct lres *l, const char *why);

static void on_pid_exit(uv_poll_t *h, int status, int events)
{
	struct pidwatch *w = h->data;
	struct lres *l = w->l;

	(void)status;
	(void)events;
	uv_poll_stop(h);
	if (!l)
		return;
	watch_drop(l);
	if (l->st == L_RUNNING)
		qemu_died(l, "its QEMU process exited");
}

/* Watch @pid and register it for the kill action. */
static void watch_qemu(struct lres *l, pid_t pid)
{
	struct vcd_rm *rm = l->rm;
	struct pidwatch *w;
	int fd, r;

	watch_drop(l);
	l->pid = pid;
	if (!pid) {
		vcd_err("resource %s: its QEMU process was not found: the fencer cannot kill it",
			l->name);
		return;
	}
	r = rm->host.proc_add(rm->host.ctx, pid);
	if (r < 0)
		vcd_err("resource %s: cannot register QEMU pid %d for fencing: %s", l->name,
			(int)pid, strerror(-r));
	fd = pidfd_open_(pid);
	w = fd >= 0 ? calloc(1, sizeof(*w)) : NULL;
	if (!w || uv_poll_init(rm->loop, &w->h, fd) < 0) {
		vcd_warn("resource %s: cannot watch QEMU pid %d; the monitor will notice its end",
			 l->name, (int)pid);
		if (fd >= 0)
			close(fd);
		free(w);
		return;
	}
	w->fd = fd;
	w->pid = pid;
	w->l = l;
	w->h.data = w;
	uv_poll_start(&w->h, UV_READABLE, on_pid_exit);
	l->watch = w;
}

/* ------------------------------------------------------------------ */
/* Failures: restart in place, then elsewhere */

static uint32_t fails_within(const struct lres *l, uint64_t window_ns)
{
	uint64_t now = vcd_now_ns();
	uint32_t n = 0, i, kept = l->n_fail < RM_MAX_FAILS ? l->n_fail : RM_MAX_FAILS;

	for (i = 0; i < kept; i++)
		if (now - l->fail_ns[i] <= window_ns)
			n++;
	return n;
}

static void count_failure(struct lres *l, const char *why)
{
	struct vcd_rm *rm = l->rm;
	uint32_t n;

	l->fail_ns[l->n_fail++ % RM_MAX_FAILS] = vcd_now_ns();
	snprintf(l->last_failure, sizeof(l->last_failure), "%s", why);
	n = fails_within(l, rm->p.restart_window_ms * 1000000ull);
	if (n > rm->p.restart_limit) {
		char note[VCD_STATE_WHY_LEN];

		snprintf(note, sizeof(note), "failed %u times in %u s here (restart limit %u): %s",
			 n, rm->p.restart_window_ms / 1000, rm->p.restart_limit, why);
		vcd_warn("resource %s: %s; giving it up so the DC places it elsewhere", l->name,
			 note);
		l->gave_up_inc = l->run_inc;
		rm->host.emit(rm->host.ctx, "resource-failed",
			      json_pack("{s:s,s:s,s:b}", "resource", l->name, "reason", note,
					"restart_here", 0));
		send_release(l, l->run_inc, true, note);
		return;
	}
	l->restarts++;
	vcd_warn("resource %s: %s; restarting it here (%u of %u in %u s)", l->name, why, n,
		 rm->p.restart_limit, rm->p.restart_window_ms / 1000);
	rm->host.emit(rm->host.ctx, "resource-failed",
		      json_pack("{s:s,s:s,s:b}", "resource", l->name, "reason", why,
				"restart_here", 1));
}

static void qemu_died(struct lres *l, const char *why)
{
	set_st(l, L_STOPPED);
	l->pid = 0;
	watch_drop(l);
	count_failure(l, why);
	schedule(l->rm);
}

/* ------------------------------------------------------------------ */
/* libvirt jobs */

static void start_done(struct vcd_virt_job *job)
{
	struct lres *l = job->ctx;
	struct vcd_rm *rm = l->rm;
	char note[VCD_STATE_WHY_LEN];
	double took = ms_since(l->start_ns);

	l->busy = false;
	if (job->err) {
		set_st(l, L_STOPPED);
		vcd_err("resource %s: start failed after %.0f ms: %s", l->name, took, job->msg);
		count_failure(l, job->msg);
		schedule(rm);
		return;
	}
	set_st(l, L_RUNNING);
	watch_qemu(l, job->pid);
	snprintf(note, sizeof(note), "QEMU pid %d; started in %.0f ms (libvirt %.0f ms)",
		 (int)job->pid, took, (double)job->took_ns / 1e6);
	vcd_notice("resource %s: running here (%s)", l->name, note);
	rm->host.emit(rm->host.ctx, "resource-started",
		      json_pack("{s:s,s:i,s:f,s:I}", "resource", l->name, "pid", (int)job->pid,
				"took_ms", took, "incarnation", (json_int_t)l->run_inc));
	send_running(l, l->run_inc, note);
	schedule(rm);
}

static void start(struct lres *l, uint64_t inc)
{
	struct vcd_rm *rm = l->rm;
	struct vcd_virt_job *job = &l->job;

	if (!l->xml || !l->uuid[0]) {
		if (l->gave_up_inc != inc) {
			l->run_inc = inc;
			count_failure(l, "its definition has no domain XML or UUID");
		}
		return;
	}
	memset(job, 0, sizeof(*job));
	job->op = VCD_VIRT_START;
	snprintf(job->name, sizeof(job->name), "%s", l->domain);
	snprintf(job->uuid, sizeof(job->uuid), "%s", l->uuid);
	job->xml = l->xml;
	job->done = start_done;
	job->ctx = l;
	if (vcd_virt_submit(rm->virt, job) < 0)
		return;
	if (l->run_inc != inc)
		l->restarts = 0;
	l->busy = true;
	set_st(l, L_STARTING);
	l->run_inc = inc;
	l->start_ns = vcd_now_ns();
	vcd_info("resource %s: starting domain %s here (incarnation %" PRIu64 ")", l->name,
		 l->domain, inc);
	rm->host.emit(rm->host.ctx, "resource-starting",
		      json_pack("{s:s,s:s}", "resource", l->name, "domain", l->domain));
}

static void stop_done(struct vcd_virt_job *job)
{
	struct lres *l = job->ctx;
	struct vcd_rm *rm = l->rm;

	l->busy = false;
	if (job->err) {
		set_st(l, L_RUNNING);
		vcd_err("resource %s: stop failed: %s (retrying)", l->name, job->msg);
		return;
	}
	set_st(l, L_STOPPED);
	l->pid = 0;
	watch_drop(l);
	vcd_notice("resource %s: stopped here in %.0f ms", l->name, (double)job->took_ns / 1e6);
	rm->host.emit(rm->host.ctx, "resource-stopped", json_pack("{s:s}", "resource", l->name));
	schedule(rm);
}

static void stop(struct lres *l, const char *why)
{
	struct vcd_rm *rm = l->rm;
	struct vcd_virt_job *job = &l->job;

	memset(job, 0, sizeof(*job));
	job->op = VCD_VIRT_STOP;
	snprintf(job->name, sizeof(job->name), "%s", l->domain);
	snprintf(job->uuid, sizeof(job->uuid), "%s", l->uuid);
	job->done = stop_done;
	job->ctx = l;
	if (vcd_virt_submit(rm->virt, job) < 0)
		return;
	l->busy = true;
	set_st(l, L_STOPPING);
	vcd_notice("resource %s: stopping it here: %s", l->name, why);
}

/* ------------------------------------------------------------------ */
/* Reconcile */

/* What to do with @l, placed as @p by the state. */
static void reconcile_one(struct vcd_rm *rm, struct lres *l, const struct vcd_placement *p,
			  bool exists)
{
	uint32_t self = rm->p.self_id;
	bool mine_now = exists && p->node == self && p->incarnation == rm->inc;
	bool mine_old = exists && p->node == self && p->incarnation && p->incarnation < rm->inc;
	bool want = mine_now && rm->may_run && !p->removing && !rm->leaving &&
		    l->gave_up_inc != p->incarnation;

	if (l->busy)
		return;
	if (want) {
		if (l->st == L_STOPPED)
			start(l, p->incarnation);
		else if (l->st == L_RUNNING && l->run_inc != p->incarnation)
			l->run_inc = p->incarnation;	/* adopted after a restart */
		if (l->st == L_RUNNING)
			send_running(l, p->incarnation, "running (adopted)");
		return;
	}
	if (l->st == L_RUNNING) {
		/* Only our own life's placement may run here: anything else
		 * stops, but not merely because the lease blinked. */
		if (!mine_now || p->removing || rm->leaving || l->gave_up_inc == p->incarnation)
			stop(l, !exists ? "it is no cluster resource any more" :
				!mine_now ? "it is not placed on this life" :
				p->removing ? "it is being removed" :
				rm->leaving ? "this host is leaving" : "it failed here");
		return;
	}
	if (l->st != L_STOPPED)
		return;
	if (mine_old)
		send_release(l, p->incarnation, false, "an earlier life of this host");
	else if (mine_now && (p->removing || rm->leaving))
		send_release(l, p->incarnation, false, p->removing ? "removed" : "host leaving");
	else if (mine_now && l->gave_up_inc == p->incarnation)
		send_release(l, p->incarnation, true, l->last_failure);
}

static bool placed_here(const struct vcd_rm *rm)
{
	const json_t *all = vcd_state_resources(rm->state);
	struct vcd_placement p;
	const char *name;
	json_t *res;

	json_object_foreach((json_t *)all, name, res) {
		if (vcd_resource_placement(res, &p) == 0 && p.node == rm->p.self_id &&
		    p.incarnation == rm->inc)
			return true;
	}
	return false;
}

static void reconcile_all(struct vcd_rm *rm)
{
	const json_t *all = vcd_state_resources(rm->state);
	struct vcd_placement p;
	const char *name;
	struct lres *l;
	json_t *res;

	if (!rm->virt || !rm->synced)
		return;
	for (l = rm->res; l; l = l->next)
		l->in_state = false;
	json_object_foreach((json_t *)all, name, res) {
		if (strcmp(json_string_value(json_object_get(res, "type")) ?: "", "vm") != 0)
			continue;
		l = lres_get(rm, name);
		if (!l)
			continue;
		l->in_state = true;
		lres_define(l, res);
		vcd_resource_placement(res, &p);
		reconcile_one(rm, l, &p, true);
	}
	for (l = rm->res; l; l = l->next) {
		if (!l->in_state) {
			p = (struct vcd_placement){ 0 };
			reconcile_one(rm, l, &p, false);
		}
	}
	if (rm->leaving && rm->leave_done && !placed_here(rm)) {
		void (*done)(void *, int) = rm->leave_done;

		rm->leave_done = NULL;
		done(rm->leave_arg, 0);
	}
}

/* ------------------------------------------------------------------ */
/* The DC: placement */

struct placed {
	struct vcd_rm *rm;
	char name[];
};

static void placed_done(void *arg, int status)
{
	struct placed *pl = arg;
	struct vcd_rm *rm = pl->rm;

	/* Committed or not, the next pass decides again from the state; the
	 * target host should hear of it now. */
	if (status == 0 && rm->host.nudge)
		rm->host.nudge(rm->host.ctx);
	free(pl);
}

static bool in_flight(void *ctx, const char *name)
{
	struct vcd_rm *rm = ctx;
	json_t *t = json_object_get(rm->inflight, name);

	return t && vcd_now_ns() - (uint64_t)json_integer_value(t) < RM_INFLIGHT_MS * 1000000ull;
}

static void note_noplace(struct vcd_rm *rm, const struct vcd_place_decision *d)
{
	const char *last = json_string_value(json_object_get(rm->noplace, d->name));

	if (last && strcmp(last, d->why) == 0)
		return;
	vcd_warn("DC: cannot place %s: %s", d->name, d->why);
	rm->host.emit(rm->host.ctx, "resource-unplaced",
		      json_pack("{s:s,s:s}", "resource", d->name, "why", d->why));
	json_object_set_new(rm->noplace, d->name, json_string(d->why));
}

static void place_all(struct vcd_rm *rm, const struct vcd_place_assume *assume)
{
	struct vcd_place_out out;
	char what[VCD_STATE_NAME_LEN + 48], *e;
	struct placed *pl;
	size_t i, len;
	int r;

	vcd_place_out_init(&out);
	if (vcd_place_run(rm->state, assume, in_flight, rm, &out) < 0) {
		vcd_place_out_free(&out);
		return;
	}
	for (i = 0; i < out.n; i++) {
		const struct vcd_place_decision *d = &out.d[i];

		if (!d->node) {
			note_noplace(rm, d);
			continue;
		}
		json_object_del(rm->noplace, d->name);
		r = vcd_entry_resource_place(d->name, d->node, d->incarnation, d->why, &e, &len);
		pl = r == 0 ? calloc(1, sizeof(*pl) + strlen(d->name) + 1) : NULL;
		if (!pl) {
			if (r == 0)
				free(e);
			continue;
		}
		pl->rm = rm;
		strcpy(pl->name, d->name);
		vcd_notice("DC: placing %s on node %u: %s", d->name, d->node, d->why);
		json_object_set_new(rm->inflight, d->name, json_integer((json_int_t)vcd_now_ns()));
		snprintf(what, sizeof(what), "resource-place of %s on node %u", d->name, d->node);
		if (rm->host.submit(rm->host.ctx, e, len, what, placed_done, pl) < 0)
			json_object_del(rm->inflight, d->name);
	}
	vcd_place_out_free(&out);
}

/* ------------------------------------------------------------------ */
/* Monitor: what libvirt says runs here */

/* @since_ns: when the listing was asked for; what changed later is newer
 * than the listing (jobs finish in any order). */
static void sync_active(struct vcd_rm *rm, const json_t *active, uint64_t since_ns)
{
	const json_t *d;
	struct lres *l;
	size_t i;

	for (l = rm->res; l; l = l->next) {
		bool found = false;

		if (l->busy || l->st_ns >= since_ns)
			continue;
		json_array_foreach(active, i, d) {
			const char *uuid = json_string_value(json_object_get(d, "uuid"));

			if (uuid && strcasecmp(uuid, l->uuid) == 0) {
				found = true;
				if (l->st == L_STOPPED) {
					set_st(l, L_RUNNING);
					watch_qemu(l, (pid_t)json_integer_value(json_object_get(d, "pid")));
				}
			}
		}
		if (!found && l->st == L_RUNNING)
			qemu_died(l, "libvirt does not list it as running (monitor)");
	}
}

/* Running cluster domains this host has no record for yet. */
static void adopt_unknown(struct vcd_rm *rm, const json_t *active)
{
	const json_t *all = vcd_state_resources(rm->state), *d, *res;
	const char *name;
	size_t i;

	json_object_foreach((json_t *)all, name, res) {
		const char *uuid = json_string_value(json_object_get(json_object_get(res, "definition"),
								     "uuid"));
		struct lres *l;

		if (!uuid || lres_by_uuid(rm, uuid))
			continue;
		json_array_foreach(active, i, d) {
			if (strcasecmp(json_string_value(json_object_get(d, "uuid")) ?: "", uuid))
				continue;
			l = lres_get(rm, name);
			if (l)
				lres_define(l, res);
		}
	}
}

static void send_capacity(struct vcd_rm *rm, uint32_t cpus, uint64_t mem_kib)
{
	const struct vcd_node *n = vcd_state_node(rm->state, rm->p.self_id);
	char *e;
	size_t len;

	if (n && n->cpus == cpus && n->memory_kib == mem_kib)
		return;
	if (rm->capacity_sent_cpus == cpus && rm->capacity_sent_mem == mem_kib)
		return;
	if (vcd_entry_node_capacity(rm->p.self_id, cpus, mem_kib, &e, &len) < 0)
		return;
	rm->capacity_sent_cpus = cpus;
	rm->capacity_sent_mem = mem_kib;
	vcd_info("libvirt: this host offers %u CPUs and %" PRIu64 " MiB", cpus, mem_kib / 1024);
	rm->host.submit(rm->host.ctx, e, len, "node-capacity", NULL, NULL);
}

static void hostinfo_done(struct vcd_virt_job *job)
{
	struct vcd_rm *rm = job->ctx;

	rm->hostinfo_busy = false;
	if (job->err) {
		vcd_debug("libvirt monitor: %s", job->msg);
		json_decref(job->active);
		return;
	}
	adopt_unknown(rm, job->active);
	sync_active(rm, job->active, job->submitted_ns);
	json_decref(job->active);
	job->active = NULL;
	if (!rm->synced)
		vcd_notice("libvirt: connected to %s, %u CPUs, %" PRIu64 " MiB", rm->uri, job->cpus,
			   job->memory_kib / 1024);
	rm->synced = true;
	/* Forget what was sent: a DC change may have lost it. */
	rm->capacity_sent_cpus = 0;
	rm->capacity_sent_mem = 0;
	send_capacity(rm, job->cpus, job->memory_kib);
	schedule(rm);
}

static void run_monitor(struct vcd_rm *rm)
{
	struct vcd_virt_job *job = &rm->hostinfo;

	if (!rm->virt || rm->hostinfo_busy)
		return;
	memset(job, 0, sizeof(*job));
	job->op = VCD_VIRT_HOSTINFO;
	job->done = hostinfo_done;
	job->ctx = rm;
	if (vcd_virt_submit(rm->virt, job) == 0)
		rm->hostinfo_busy = true;
}

/* The QEMU we watch still runs: a "stopped" event is about an earlier one
 * (libvirt delivers events after the replies that followed them). */
static bool qemu_alive(const struct lres *l)
{
	struct pollfd p;

	if (!l->watch)
		return false;
	p = (struct pollfd){ .fd = l->watch->fd, .events = POLLIN };
	return poll(&p, 1, 0) == 0;
}

static void on_virt_event(void *ctx, const struct vcd_virt_event *ev)
{
	struct vcd_rm *rm = ctx;
	struct lres *l = lres_by_uuid(rm, ev->uuid);

	if (!l)
		return;
	vcd_debug("libvirt: domain %s %s", ev->name, ev->text);
	if (l->busy)
		return;			/* our own start or stop */
	if (ev->kind == VCD_VIRT_EV_STOPPED && l->st == L_RUNNING && !qemu_alive(l))
		qemu_died(l, ev->text);
	else if (ev->kind == VCD_VIRT_EV_STARTED && l->st == L_STOPPED)
		run_monitor(rm);	/* started behind our back: learn its PID */
}

static void on_virt_connection(void *ctx, bool up, const char *why)
{
	struct vcd_rm *rm = ctx;

	rm->connected = up;
	snprintf(rm->conn_why, sizeof(rm->conn_why), "%s", why);
	if (!up) {
		vcd_warn("libvirt: the connection closed (%s); reconnecting on the next call", why);
		rm->host.emit(rm->host.ctx, "libvirt-disconnected", json_pack("{s:s}", "why", why));
	}
}

/* ------------------------------------------------------------------ */
/* Timers and the loop */

static void soon_cb(uv_idle_t *h)
{
	struct vcd_rm *rm = h->data;

	uv_idle_stop(h);
	rm->soon_armed = false;
	if (!rm->state)
		return;
	reconcile_all(rm);
	if (rm->is_dc)
		place_all(rm, NULL);
}

static void schedule(struct vcd_rm *rm)
{
	if (rm->soon_armed || rm->closing)
		return;
	rm->soon_armed = true;
	uv_idle_start(&rm->soon, soon_cb);
}

static void retry_cb(uv_timer_t *t)
{
	struct vcd_rm *rm = t->data;
	struct lres *l;

	/* Forget submissions that never got an answer (a DC change). */
	for (l = rm->res; l; l = l->next) {
		if (l->release_sent_inc && l->st == L_STOPPED)
			l->release_sent_inc = 0;
	}
	if (!rm->synced)
		run_monitor(rm);
	schedule(rm);
}

static void monitor_cb(uv_timer_t *t)
{
	run_monitor(t->data);
}

static const struct vcd_virt_cbs virt_cbs = {
	.on_event = on_virt_event,
	.on_connection = on_virt_connection,
};

int vcd_rm_new(uv_loop_t *loop, const struct vcd_rm_params *p, const struct vcd_rm_host *host,
	       struct vcd_rm **ret)
{
	struct vcd_rm *rm = calloc(1, sizeof(*rm));
	int r;

	if (!rm)
		return -ENOMEM;
	rm->loop = loop;
	rm->p = *p;
	rm->host = *host;
	rm->uri = strdup(p->libvirt_uri ? p->libvirt_uri : "");
	rm->inflight = json_object();
	rm->noplace = json_object();
	if (!rm->uri || !rm->inflight || !rm->noplace) {
		r = -ENOMEM;
		goto fail;
	}
	rm->p.libvirt_uri = rm->uri;
	if (rm->uri[0]) {
		r = vcd_virt_new(loop, rm->uri, &virt_cbs, rm, &rm->virt);
		if (r < 0)
			goto fail;
	}
	uv_idle_init(loop, &rm->soon);
	rm->soon.data = rm;
	uv_timer_init(loop, &rm->retry);
	rm->retry.data = rm;
	uv_timer_init(loop, &rm->monitor);
	rm->monitor.data = rm;
	if (rm->virt) {
		uv_timer_start(&rm->retry, retry_cb, RM_RETRY_MS, RM_RETRY_MS);
		uv_timer_start(&rm->monitor, monitor_cb, p->monitor_ms, p->monitor_ms);
		run_monitor(rm);
	} else {
		uv_timer_start(&rm->retry, retry_cb, RM_RETRY_MS, RM_RETRY_MS);
	}
	*ret = rm;
	return 0;
fail:
	json_decref(rm->inflight);
	json_decref(rm->noplace);
	free(rm->uri);
	free(rm);
	return r;
}

void vcd_rm_update(struct vcd_rm *rm, const struct vcd_state *s, uint64_t incarnation,
		   bool may_run)
{
	rm->state = s;
	rm->inc = incarnation;
	rm->may_run = may_run;
	schedule(rm);
}

void vcd_rm_set_dc(struct vcd_rm *rm, bool is_dc)
{
	if (rm->is_dc == is_dc)
		return;
	rm->is_dc = is_dc;
	json_object_clear(rm->inflight);
	json_object_clear(rm->noplace);
	schedule(rm);
}

void vcd_rm_place_fenced(struct vcd_rm *rm, const struct vcd_fence_rec *fence)
{
	struct vcd_place_assume as = { .set = true, .fence = *fence };

	if (rm->is_dc && rm->state)
		place_all(rm, &as);
}

void vcd_rm_applied(struct vcd_rm *rm, const struct vcd_apply_result *res, uint64_t index)
{
	const json_t *r = json_object_get(vcd_state_resources(rm->state), res->resource);
	const char *why = json_string_value(json_object_get(r, "why"));
	const char *note = json_string_value(json_object_get(r, "note"));
	const char *status = json_string_value(json_object_get(r, "status"));
	struct vcd_placement p = { 0 };

	if (!res->changed || !res->resource[0])
		return;
	vcd_resource_placement(r, &p);
	if (res->op == VCD_OP_RESOURCE_PLACE) {
		json_object_del(rm->inflight, res->resource);
		vcd_notice("committed: %s placed on node %u (incarnation %" PRIu64 "): %s",
			   res->resource, p.node, p.incarnation, why ? why : "");
	} else if (res->op == VCD_OP_RESOURCE_RELEASE) {
		vcd_notice("committed: %s released by node %u%s%s", res->resource, res->node_id,
			   note && *note ? ": " : "", note ? note : "");
	} else if (res->op == VCD_OP_RESOURCE_STATUS) {
		vcd_info("committed: %s %s on node %u (%s)", res->resource, status ? status : "?",
			 p.node, note ? note : "");
	} else {
		vcd_notice("committed: %s of %s", vcd_op_name(res->op), res->resource);
	}
	rm->host.emit(rm->host.ctx, vcd_op_name(res->op),
		      json_pack("{s:s,s:I,s:I,s:s,s:s,s:s,s:b,s:I}", "resource", res->resource,
				"on_node", (json_int_t)p.node, "on_incarnation",
				(json_int_t)p.incarnation, "why", why ? why : "", "note",
				note ? note : "", "status", status ? status : "", "removed",
				res->removed, "index", (json_int_t)index));
	schedule(rm);
}

struct validate_ctx {
	struct vcd_virt_job job;
	vcd_rm_validate_fn cb;
	void *arg;
};

static void validate_done(struct vcd_virt_job *job)
{
	struct validate_ctx *vc = job->ctx;

	vc->cb(vc->arg, job->err, job->msg, job->definition);
	json_decref(job->definition);
	free(job->xml);
	free(vc);
}

int vcd_rm_validate(struct vcd_rm *rm, const char *xml, const char *domain,
		    vcd_rm_validate_fn cb, void *arg)
{
	struct validate_ctx *vc;
	int r;

	if (!rm->virt)
		return -EOPNOTSUPP;
	vc = calloc(1, sizeof(*vc));
	if (!vc)
		return -ENOMEM;
	vc->cb = cb;
	vc->arg = arg;
	vc->job.op = VCD_VIRT_VALIDATE;
	vc->job.done = validate_done;
	vc->job.ctx = vc;
	if (xml) {
		vc->job.xml = strdup(xml);
		if (!vc->job.xml) {
			free(vc);
			return -ENOMEM;
		}
	} else {
		snprintf(vc->job.name, sizeof(vc->job.name), "%s", domain ? domain : "");
	}
	r = vcd_virt_submit(rm->virt, &vc->job);
	if (r < 0) {
		free(vc->job.xml);
		free(vc);
	}
	return r;
}

void vcd_rm_leave(struct vcd_rm *rm, void (*done)(void *arg, int status), void *arg)
{
	rm->leaving = true;
	rm->leave_done = done;
	rm->leave_arg = arg;
	if (!rm->state || !placed_here(rm)) {
		rm->leave_done = NULL;
		done(arg, 0);
		return;
	}
	if (!rm->virt || !rm->synced) {
		rm->leave_done = NULL;
		done(arg, -EAGAIN);
		return;
	}
	schedule(rm);
}

json_t *vcd_rm_json(const struct vcd_rm *rm)
{
	json_t *res = json_object();
	const struct lres *l;

	for (l = rm->res; l; l = l->next) {
		json_t *o = json_pack("{s:s,s:i,s:i}", "local", lstate_names[l->st], "pid",
				      (int)l->pid, "restarts", (int)l->restarts);

		if (o && l->last_failure[0])
			json_object_set_new(o, "last_failure", json_string(l->last_failure));
		json_object_set_new(res, l->name, o);
	}
	return json_pack("{s:s,s:s,s:o}", "libvirt",
			 !rm->virt ? "none" : rm->connected ? "connected" : "disconnected",
			 "libvirt_uri", rm->uri, "resources", res);
}

/* ------------------------------------------------------------------ */
/* Close */

static void part_closed(uv_handle_t *h)
{
	struct vcd_rm *rm = h->data;
	struct lres *l;

	if (--rm->closing)
		return;
	while ((l = rm->res)) {
		rm->res = l->next;
		free(l->xml);
		free(l);
	}
	json_decref(rm->inflight);
	json_decref(rm->noplace);
	free(rm->uri);
	if (rm->closed)
		rm->closed(rm->closed_arg);
	free(rm);
}

void vcd_rm_close(struct vcd_rm *rm, void (*done)(void *arg), void *arg)
{
	struct lres *l;

	if (!rm) {
		if (done)
			done(arg);
		return;
	}
	rm->closed = done;
	rm->closed_arg = arg;
	/* Jobs still queued answer now: their records must still exist. */
	vcd_virt_free(rm->virt);
	rm->virt = NULL;
	for (l = rm->res; l; l = l->next) {
		if (l->watch) {
			/* The VM keeps running; only our watch ends. */
			struct pidwatch *w = l->watch;

			l->watch = NULL;
			w->l = NULL;
			uv_close((uv_handle_t *)&w->h, watch_closed);
		}
	}
	rm->closing = 3;
	uv_close((uv_handle_t *)&rm->soon, part_closed);
	uv_close((uv_handle_t *)&rm->retry, part_closed);
	uv_close((uv_handle_t *)&rm->monitor, part_closed);
}
