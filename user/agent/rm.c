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
#include "ocf.h"
#include "place.h"
#include "policy.h"
#include "rm.h"
#include "virt.h"

#define RM_RETRY_MS		1000	/* releases, status, stops that failed */
#define RM_INFLIGHT_MS		5000	/* a placement not committed by then is retried */
#define RM_MAX_FAILS		32	/* failure times kept per resource */
#define RM_START_WAIT_MS	5000	/* starting while libvirt still tidies up */
#define RM_OCF_TICK_MS		200	/* OCF monitors fall due on this tick */
/* A leave with the migrate policy: what no move took away in this time
 * (no host fits it, say) is stopped instead. */
#define RM_LEAVE_STALL_MS	15000
/* A move that failed is not tried again for this long (the DC). */
#define RM_MOVE_BACKOFF_MS	30000

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
	uint64_t move_sent_inc;		/* migrated/abort submitted for that move target */
	bool in_state;

	/* OCF resources (type "ocf"): the agent and its operations. */
	bool ocf;
	char provider[VCD_OCF_NAME_LEN], type[VCD_OCF_NAME_LEN];
	json_t *params;
	uint32_t start_ms, stop_ms, monitor_ms, interval_ms;
	struct vcd_ocf_op *op;		/* the action in flight (busy) */
	bool probed;			/* a first monitor said whether it runs here */
	uint64_t next_mon_ns;
	uint32_t monitor_fails;		/* consecutive failed monitors while running */
	bool recover;			/* failed but maybe half up: stop, then start */
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

	char *ocf_root;
	enum vcd_rm_leave_policy leave_policy;
	uint64_t leave_progress_ns;	/* the last move off this host started or ended */
	uv_timer_t ocf_tick;

	struct lres *res;
	json_t *inflight;		/* DC: name -> {"ns","node"} of a decision submitted */
	json_t *noplace;		/* DC: name -> last "cannot place" text logged */
	json_t *move_failed;		/* DC: name -> ns when its last move was aborted */

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
static void close_step(struct vcd_rm *rm);
static void run_monitor(struct vcd_rm *rm);
static void watch_qemu(struct lres *l, pid_t pid);

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

static uint32_t def_ms(const json_t *o, const char *key, uint32_t dflt)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v > 0 && v <= UINT32_MAX ? (uint32_t)v : dflt;
}

/* The OCF agent, its parameters and operation timings from the definition. */
static void lres_define_ocf(struct lres *l, const json_t *def)
{
	const json_t *t = json_object_get(def, "timeouts");
	const char *prov = json_string_value(json_object_get(def, "provider"));
	const char *type = json_string_value(json_object_get(def, "type"));

	l->ocf = true;
	snprintf(l->provider, sizeof(l->provider), "%s", prov ? prov : "");
	snprintf(l->type, sizeof(l->type), "%s", type ? type : "");
	if (l->params != json_object_get(def, "params")) {
		json_decref(l->params);
		l->params = json_incref(json_object_get(def, "params"));
	}
	l->start_ms = def_ms(t, "start_ms", VCD_OCF_DEFAULT_TIMEOUT_MS);
	l->stop_ms = def_ms(t, "stop_ms", VCD_OCF_DEFAULT_TIMEOUT_MS);
	l->monitor_ms = def_ms(t, "monitor_ms", VCD_OCF_DEFAULT_TIMEOUT_MS);
	l->interval_ms = def_ms(def, "monitor_interval_ms", VCD_OCF_DEFAULT_INTERVAL_MS);
}

/* Take the libvirt identity (or the OCF agent) from the resource's definition. */
static void lres_define(struct lres *l, const json_t *res)
{
	const json_t *def = json_object_get(res, "definition");
	const char *domain = json_string_value(json_object_get(def, "domain"));
	const char *uuid = json_string_value(json_object_get(def, "uuid"));
	const char *xml = json_string_value(json_object_get(def, "xml"));

	if (strcmp(json_string_value(json_object_get(res, "type")) ?: "", "ocf") == 0) {
		lres_define_ocf(l, def);
		return;
	}
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
	int kind;			/* 'r' release, 's' status, 'm' end of a move */
};

/* Which placement (or move target) @kind was last submitted for. */
static uint64_t *sent_slot(struct lres *l, int kind)
{
	return kind == 'r' ? &l->release_sent_inc :
	       kind == 's' ? &l->status_sent_inc : &l->move_sent_inc;
}

static void sent_done(void *arg, int status)
{
	struct sent *s = arg;
	uint64_t *slot = sent_slot(s->l, s->kind);

	/* Forget it was sent: the next pass (or the retry timer) sends it
	 * again. */
	if (status < 0 && status != -EALREADY && *slot == s->inc)
		*slot = 0;
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
	*sent_slot(l, kind) = inc;
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

/* Shutdown with the freeze policy: stopped here, kept for this host. */
static void send_freeze(struct lres *l, uint64_t inc)
{
	char what[VCD_STATE_NAME_LEN + 64], *e = NULL;
	size_t len = 0;
	int r;

	if (l->release_sent_inc == inc)
		return;
	r = vcd_entry_resource_freeze(l->name, l->rm->p.self_id, inc,
				      "frozen: this host shut down", &e, &len);
	snprintf(what, sizeof(what), "resource-release of %s (frozen)", l->name);
	vcd_notice("resource %s: frozen for this host's return", l->name);
	submit_tracked(l, r, e, len, what, inc, 'r');
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
	/* A live migration's source QEMU ends with the hand-over. */
	if (l->busy && l->job.op == VCD_VIRT_MIGRATE)
		return;
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
		if (!window_ns || now - l->fail_ns[i] <= window_ns)
			n++;
	return n;
}

static const json_t *lres_rec(const struct lres *l)
{
	const struct vcd_rm *rm = l->rm;

	return rm->state ? json_object_get(vcd_state_resources(rm->state), l->name) : NULL;
}

/*
 * Maintenance of the resource, of this host or of the whole cluster: the
 * cluster watches it and does nothing to it.
 */
static bool hands_off(const struct lres *l)
{
	const struct vcd_rm *rm = l->rm;
	const json_t *res = lres_rec(l);
	const struct vcd_node *self;

	if (!rm->state)
		return false;
	self = vcd_state_node(rm->state, rm->p.self_id);
	return json_is_true(json_object_get(res, "maintenance")) ||
	       (self && self->maintenance) ||
	       json_is_true(json_object_get(vcd_state_cluster(rm->state), "maintenance"));
}

static void send_fail(struct lres *l, const char *why)
{
	char what[VCD_STATE_NAME_LEN + 32], *e = NULL;
	size_t len = 0;
	int r;

	if (!l->run_inc)
		return;
	r = vcd_entry_resource_fail(l->name, l->rm->p.self_id, l->run_inc, vcd_wall_ms(), why,
				    &e, &len);
	if (r < 0)
		return;
	snprintf(what, sizeof(what), "resource-fail of %s", l->name);
	l->rm->host.submit(l->rm->host.ctx, e, len, what, NULL, NULL);
}

/*
 * A failure here: record it for the cluster, then restart in place or,
 * at the resource's migration threshold, give it up to be placed
 * elsewhere.  The count is the larger of this host's own (the commit of
 * the last ones may still be on its way) and the replicated one (it
 * survives an agent restart).
 */
static void count_failure(struct lres *l, const char *why)
{
	struct vcd_rm *rm = l->rm;
	const json_t *res = lres_rec(l);
	struct vcd_policy pol;
	uint32_t n, repl;

	l->fail_ns[l->n_fail++ % RM_MAX_FAILS] = vcd_now_ns();
	snprintf(l->last_failure, sizeof(l->last_failure), "%s", why);
	vcd_policy_of(res, &pol);
	n = fails_within(l, pol.failure_timeout_ms * 1000000ull);
	repl = res ? vcd_policy_failcount(res, &pol, rm->p.self_id, vcd_wall_ms()) + 1 : 0;
	if (repl > n)
		n = repl;
	send_fail(l, why);
	if (pol.migration_threshold && n >= pol.migration_threshold) {
		char note[VCD_STATE_WHY_LEN];

		snprintf(note, sizeof(note), "failed %u times here (migration threshold %u): %s",
			 n, pol.migration_threshold, why);
		vcd_warn("resource %s: %s; giving it up so the DC places it elsewhere", l->name,
			 note);
		l->gave_up_inc = l->run_inc;
		rm->host.emit(rm->host.ctx, "resource-failed",
			      json_pack("{s:s,s:s,s:b,s:i,s:i}", "resource", l->name, "reason", note,
					"restart_here", 0, "failcount", (int)n, "threshold",
					(int)pol.migration_threshold));
		vcd_policy_free(&pol);
		return;
	}
	l->restarts++;
	vcd_warn("resource %s: %s; restarting it here (failure %u, migration threshold %u)",
		 l->name, why, n, pol.migration_threshold);
	rm->host.emit(rm->host.ctx, "resource-failed",
		      json_pack("{s:s,s:s,s:b,s:i,s:i}", "resource", l->name, "reason", why,
				"restart_here", 1, "failcount", (int)n, "threshold",
				(int)pol.migration_threshold));
	vcd_policy_free(&pol);
}

/* In maintenance a failure is only reported: the operator acts. */
static void failed_hands_off(struct lres *l, const char *why)
{
	struct vcd_rm *rm = l->rm;

	vcd_warn("resource %s: %s; in maintenance: not acting", l->name, why);
	rm->host.emit(rm->host.ctx, "resource-failed",
		      json_pack("{s:s,s:s,s:b,s:b}", "resource", l->name, "reason", why,
				"restart_here", 0, "maintenance", 1));
}

static void qemu_died(struct lres *l, const char *why)
{
	set_st(l, L_STOPPED);
	l->pid = 0;
	watch_drop(l);
	if (hands_off(l))
		failed_hands_off(l, why);
	else
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

static void vm_start(struct lres *l, uint64_t inc)
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

static void vm_stop(struct lres *l, const char *why)
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
/* OCF resource agents */

static void ocf_spec(const struct lres *l, struct vcd_ocf_spec *spec)
{
	*spec = (struct vcd_ocf_spec){
		.ocf_root = l->rm->ocf_root,
		.provider = l->provider,
		.type = l->type,
		.instance = l->name,
		.params = l->params,
	};
}

static int ocf_submit(struct lres *l, enum vcd_ocf_action act, uint32_t timeout_ms,
		      uint32_t interval_ms, vcd_ocf_done_fn done)
{
	struct vcd_ocf_spec spec;
	int r;

	ocf_spec(l, &spec);
	r = vcd_ocf_run(l->rm->loop, &spec, act, timeout_ms, interval_ms, done, l, &l->op);
	if (r < 0) {
		vcd_err("resource %s: cannot run the OCF agent's %s: %s", l->name,
			vcd_ocf_action_name(act), strerror(-r));
		return r;
	}
	l->busy = true;
	return 0;
}

/* "OCF_ERR_GENERIC (1): <the agent's last words>" */
static void ocf_result_text(const struct vcd_ocf_result *res, const char *action, char *buf,
			    size_t size)
{
	if (res->timed_out)
		snprintf(buf, size, "%s timed out", action);
	else if (res->rc < 0)
		snprintf(buf, size, "%s was killed (signal %d)", action, res->term_signal);
	else
		snprintf(buf, size, "%s: %s (%d)%s%.160s", action, vcd_ocf_rc_name(res->rc),
			 res->rc, res->tail[0] ? ": " : "", res->tail);
}

static void ocf_start_done(void *arg, const struct vcd_ocf_result *res)
{
	struct lres *l = arg;
	struct vcd_rm *rm = l->rm;
	char note[VCD_STATE_WHY_LEN];
	double took = (double)res->took_ns / 1e6;

	l->busy = false;
	l->op = NULL;
	if (rm->closing) {
		close_step(rm);
		return;
	}
	if (res->rc != VCD_OCF_SUCCESS) {
		ocf_result_text(res, "start", note, sizeof(note));
		vcd_err("resource %s: %s after %.0f ms", l->name, note, took);
		/* It may be half started: stop it before anything else. */
		set_st(l, L_RUNNING);
		l->recover = true;
		count_failure(l, note);
		schedule(rm);
		return;
	}
	set_st(l, L_RUNNING);
	l->monitor_fails = 0;
	l->next_mon_ns = vcd_now_ns() + (uint64_t)l->interval_ms * 1000000ull;
	snprintf(note, sizeof(note), "ocf:%s:%s started in %.0f ms", l->provider, l->type, took);
	vcd_notice("resource %s: running here (%s)", l->name, note);
	rm->host.emit(rm->host.ctx, "resource-started",
		      json_pack("{s:s,s:f,s:I}", "resource", l->name, "took_ms", took,
				"incarnation", (json_int_t)l->run_inc));
	send_running(l, l->run_inc, note);
	schedule(rm);
}

static void ocf_start(struct lres *l, uint64_t inc)
{
	struct vcd_rm *rm = l->rm;
	char why[VCD_STATE_WHY_LEN];

	if (ocf_submit(l, VCD_OCF_START, l->start_ms, 0, ocf_start_done) < 0) {
		/* Counted like a failed start, so it moves at the threshold;
		 * nothing ran, so nothing needs a stop. */
		if (l->gave_up_inc != inc) {
			l->run_inc = inc;
			snprintf(why, sizeof(why), "its OCF agent ocf:%s:%s cannot run here",
				 l->provider, l->type);
			count_failure(l, why);
		}
		return;
	}
	if (l->run_inc != inc)
		l->restarts = 0;
	set_st(l, L_STARTING);
	l->run_inc = inc;
	l->start_ns = vcd_now_ns();
	vcd_info("resource %s: starting ocf:%s:%s here (incarnation %" PRIu64 ")", l->name,
		 l->provider, l->type, inc);
	rm->host.emit(rm->host.ctx, "resource-starting",
		      json_pack("{s:s,s:s}", "resource", l->name, "agent", l->type));
}

static void ocf_stop_done(void *arg, const struct vcd_ocf_result *res)
{
	struct lres *l = arg;
	struct vcd_rm *rm = l->rm;
	char note[VCD_STATE_WHY_LEN];

	l->busy = false;
	l->op = NULL;
	if (rm->closing) {
		close_step(rm);
		return;
	}
	if (res->rc != VCD_OCF_SUCCESS && res->rc != VCD_OCF_NOT_RUNNING) {
		/* Not proven stopped: it stays ours and running until a stop
		 * succeeds (never released, so never started elsewhere). */
		ocf_result_text(res, "stop", note, sizeof(note));
		set_st(l, L_RUNNING);
		vcd_err("resource %s: %s; it may still run here, retrying the stop", l->name, note);
		rm->host.emit(rm->host.ctx, "resource-stop-failed",
			      json_pack("{s:s,s:s}", "resource", l->name, "reason", note));
		return;
	}
	set_st(l, L_STOPPED);
	l->recover = false;
	vcd_notice("resource %s: stopped here in %.0f ms", l->name, (double)res->took_ns / 1e6);
	rm->host.emit(rm->host.ctx, "resource-stopped", json_pack("{s:s}", "resource", l->name));
	schedule(rm);
}

static void ocf_stop(struct lres *l, const char *why)
{
	if (ocf_submit(l, VCD_OCF_STOP, l->stop_ms, 0, ocf_stop_done) < 0)
		return;
	set_st(l, L_STOPPING);
	vcd_notice("resource %s: stopping it here: %s", l->name, why);
}

/* A recurring monitor, or the first probe: does it run here? */
static void ocf_monitor_done(void *arg, const struct vcd_ocf_result *res)
{
	struct lres *l = arg;
	struct vcd_rm *rm = l->rm;
	char note[VCD_STATE_WHY_LEN];
	bool was_probe = !l->probed;

	l->busy = false;
	l->op = NULL;
	if (rm->closing) {
		close_step(rm);
		return;
	}
	l->probed = true;
	l->next_mon_ns = vcd_now_ns() + (uint64_t)l->interval_ms * 1000000ull;
	if (res->rc == VCD_OCF_SUCCESS) {
		if (l->st == L_STOPPED) {
			vcd_notice("resource %s: the OCF agent says it runs here", l->name);
			set_st(l, L_RUNNING);
		}
		l->monitor_fails = 0;
		schedule(rm);
		return;
	}
	if (l->st != L_RUNNING) {
		if (was_probe && res->rc != VCD_OCF_NOT_RUNNING) {
			ocf_result_text(res, "probe", note, sizeof(note));
			vcd_warn("resource %s: %s", l->name, note);
		}
		schedule(rm);
		return;
	}
	ocf_result_text(res, "monitor", note, sizeof(note));
	if (hands_off(l)) {
		if (res->rc == VCD_OCF_NOT_RUNNING)
			set_st(l, L_STOPPED);
		failed_hands_off(l, note);
		return;
	}
	/* Not running: it is gone.  Any other answer: it may be half up;
	 * the stop before the restart cleans it. */
	if (res->rc == VCD_OCF_NOT_RUNNING)
		set_st(l, L_STOPPED);
	else
		l->recover = true;
	count_failure(l, note);
	schedule(rm);
}

/*
 * An agent that cannot run here (not installed on this host, say) cannot
 * run the resource here either: the probe says "not running", and a
 * monitor of one that runs fails like any other (the next try comes an
 * interval later, not on the next tick).
 */
static void ocf_monitor(struct lres *l)
{
	char why[VCD_STATE_WHY_LEN];

	if (ocf_submit(l, VCD_OCF_MONITOR, l->monitor_ms, l->probed ? l->interval_ms : 0,
		       ocf_monitor_done) == 0)
		return;
	l->probed = true;
	l->next_mon_ns = vcd_now_ns() + (uint64_t)l->interval_ms * 1000000ull;
	if (l->st == L_RUNNING && !hands_off(l)) {
		snprintf(why, sizeof(why), "its OCF agent ocf:%s:%s cannot run here", l->provider,
			 l->type);
		l->recover = true;
		count_failure(l, why);
		schedule(l->rm);
	}
}

static void ocf_tick_cb(uv_timer_t *t)
{
	struct vcd_rm *rm = t->data;
	uint64_t now = vcd_now_ns();
	struct lres *l;

	for (l = rm->res; l; l = l->next) {
		if (!l->ocf || l->busy || !l->in_state)
			continue;
		if (!l->probed || (l->st == L_RUNNING && now >= l->next_mon_ns))
			ocf_monitor(l);
	}
}

static void start(struct lres *l, uint64_t inc)
{
	if (l->ocf)
		ocf_start(l, inc);
	else
		vm_start(l, inc);
}

static void stop(struct lres *l, const char *why)
{
	if (l->ocf)
		ocf_stop(l, why);
	else
		vm_stop(l, why);
}

/* ------------------------------------------------------------------ */
/* Reconcile */

/* ---- planned moves ---- */

/* Submit resource-migrated or -abort once per move target life. */
static void send_move_end(struct lres *l, uint32_t to_node, uint64_t to_inc, bool done,
			  const char *status, const char *note)
{
	struct vcd_rm *rm = l->rm;
	char what[VCD_STATE_NAME_LEN + 48], *e = NULL;
	size_t len = 0;
	int r;

	if (l->move_sent_inc == to_inc)
		return;
	r = done ? vcd_entry_resource_migrated(l->name, to_node, to_inc, status, note, &e, &len)
		 : vcd_entry_resource_migrate_abort(l->name, rm->p.self_id, note, &e, &len);
	if (done)
		rm->leave_progress_ns = vcd_now_ns();
	snprintf(what, sizeof(what), "%s of %s", done ? "resource-migrated" : "resource-migrate-abort",
		 l->name);
	vcd_notice("resource %s: %s (node %u): %s", l->name,
		   done ? "moved" : "move aborted", to_node, note);
	submit_tracked(l, r, e, len, what, to_inc, 'm');
}

static void migrate_done(struct vcd_virt_job *job)
{
	struct lres *l = job->ctx;
	struct vcd_rm *rm = l->rm;
	const json_t *res = lres_rec(l);
	struct vcd_placement p = { 0 };
	char note[VCD_STATE_WHY_LEN];
	double took = (double)job->took_ns / 1e6;

	l->busy = false;
	vcd_resource_placement(res, &p);
	if (job->err) {
		snprintf(note, sizeof(note), "live migration to node %u failed after %.0f ms: %.180s",
			 p.to_node, took, job->msg);
		vcd_err("resource %s: %s", l->name, note);
		rm->host.emit(rm->host.ctx, "resource-migrate-failed",
			      json_pack("{s:s,s:i,s:s}", "resource", l->name, "to_node",
					(int)p.to_node, "reason", job->msg));
		if (p.to_node)
			send_move_end(l, p.to_node, p.to_incarnation, false, NULL, note);
		run_monitor(rm);	/* libvirt resumes it here: see that it runs */
		schedule(rm);
		return;
	}
	/* QEMU here ended with the hand-over: not a failure. */
	set_st(l, L_STOPPED);
	watch_drop(l);
	l->pid = 0;
	snprintf(note, sizeof(note), "live migration from node %u took %.0f ms", rm->p.self_id,
		 took);
	vcd_notice("resource %s: migrated to node %u in %.0f ms", l->name, p.to_node, took);
	rm->host.emit(rm->host.ctx, "resource-migrated-out",
		      json_pack("{s:s,s:i,s:f}", "resource", l->name, "to_node", (int)p.to_node,
				"took_ms", took));
	if (p.to_node)
		send_move_end(l, p.to_node, p.to_incarnation, true, "running", note);
	schedule(rm);
}

static void vm_migrate(struct lres *l, const struct vcd_placement *p)
{
	struct vcd_rm *rm = l->rm;
	struct vcd_virt_job *job = &l->job;
	char note[VCD_STATE_WHY_LEN];

	memset(job, 0, sizeof(*job));
	if (!rm->host.migrate_uri ||
	    rm->host.migrate_uri(rm->host.ctx, p->to_node, job->dest_uri, sizeof(job->dest_uri),
				 job->migrate_uri, sizeof(job->migrate_uri)) < 0) {
		snprintf(note, sizeof(note), "no migration URI for node %u (migrate-uri)",
			 p->to_node);
		send_move_end(l, p->to_node, p->to_incarnation, false, NULL, note);
		return;
	}
	job->op = VCD_VIRT_MIGRATE;
	/* Defined on the target as everywhere (autostart off); the source
	 * keeps its inactive definition, as after a failover. */
	job->migrate_flags = VCD_VIRT_MIGRATE_LIVE | VCD_VIRT_MIGRATE_PEER2PEER |
			     VCD_VIRT_MIGRATE_PERSIST_DEST;
	snprintf(job->name, sizeof(job->name), "%s", l->domain);
	snprintf(job->uuid, sizeof(job->uuid), "%s", l->uuid);
	job->timeout_ms = rm->p.migrate_timeout_ms;
	job->bandwidth_mib_s = rm->p.migrate_bandwidth_mib_s;
	job->done = migrate_done;
	job->ctx = l;
	if (vcd_virt_submit(rm->virt, job) < 0)
		return;
	l->busy = true;
	vcd_notice("resource %s: live-migrating domain %s to node %u (%s)", l->name, l->domain,
		   p->to_node, job->dest_uri);
	rm->host.emit(rm->host.ctx, "resource-migrating",
		      json_pack("{s:s,s:i,s:s}", "resource", l->name, "to_node", (int)p->to_node,
				"uri", job->dest_uri));
}

/* The source of a move: hand it over (a running VM live), or stop it and
 * let the target start it. */
static void move_out(struct vcd_rm *rm, struct lres *l, const struct vcd_placement *p)
{
	char note[VCD_STATE_WHY_LEN];

	if (l->st == L_RUNNING && !l->ocf && rm->virt) {
		vm_migrate(l, p);
		return;
	}
	if (l->st == L_RUNNING) {
		stop(l, "it moves to another host");
		return;
	}
	if (l->st != L_STOPPED)
		return;
	snprintf(note, sizeof(note), "stopped on node %u; it starts on node %u", rm->p.self_id,
		 p->to_node);
	send_move_end(l, p->to_node, p->to_incarnation, true, "placed", note);
}

static void claim_state_done(struct vcd_virt_job *job)
{
	struct lres *l = job->ctx;
	const json_t *res = lres_rec(l);
	struct vcd_placement p = { 0 };

	l->busy = false;
	vcd_resource_placement(res, &p);
	if (p.to_node != l->rm->p.self_id || p.to_incarnation != l->rm->inc)
		return;
	if (!job->err && job->running && !job->paused) {
		set_st(l, L_RUNNING);
		watch_qemu(l, job->pid);
		send_move_end(l, p.to_node, p.to_incarnation, true, "running",
			      "the source was fenced after the hand-over; it runs here");
		return;
	}
	if (!job->err && job->running) {
		set_st(l, L_RUNNING);	/* a paused incoming domain: destroy it */
		stop(l, "the source was fenced before the hand-over");
		return;
	}
	send_move_end(l, p.to_node, p.to_incarnation, false, NULL,
		      "the source was fenced before the hand-over; it does not run here");
}

/*
 * The target of a move: the incoming domain is the source's business
 * until the move ends, unless the source's life ended first.  Then this
 * host decides: a VM that runs here (the hand-over happened) stays and is
 * claimed; anything else is destroyed and the move aborted, so that the
 * DC places it anew.
 */
static void move_in(struct vcd_rm *rm, struct lres *l, const struct vcd_placement *p)
{
	const struct vcd_node *src = vcd_state_node(rm->state, p->node);
	struct vcd_virt_job *job = &l->job;

	if (!src || src->fenced_incarnation < p->incarnation)
		return;
	if (l->ocf || !rm->virt) {
		if (l->st == L_STOPPED)
			send_move_end(l, p->to_node, p->to_incarnation, false, NULL,
				      "the source was fenced before the move ended");
		else if (l->st == L_RUNNING)
			stop(l, "the source was fenced before the move ended");
		return;
	}
	memset(job, 0, sizeof(*job));
	job->op = VCD_VIRT_STATE;
	snprintf(job->name, sizeof(job->name), "%s", l->domain);
	snprintf(job->uuid, sizeof(job->uuid), "%s", l->uuid);
	job->done = claim_state_done;
	job->ctx = l;
	if (vcd_virt_submit(rm->virt, job) == 0)
		l->busy = true;
}

/* ---- the pass ---- */

static bool leave_stops(const struct vcd_rm *rm)
{
	return rm->leaving && (rm->leave_policy != VCD_RM_LEAVE_MIGRATE ||
			       ms_since(rm->leave_progress_ns) > RM_LEAVE_STALL_MS);
}

/* What to do with @l, placed by @res (NULL: no such resource). */
static void reconcile_one(struct vcd_rm *rm, struct lres *l, const json_t *res)
{
	uint32_t self = rm->p.self_id;
	struct vcd_placement p = { 0 };
	bool exists = res != NULL, mine_now, mine_old, moving_in, disabled, stopping, want;

	if (res)
		vcd_resource_placement(res, &p);
	mine_now = exists && p.node == self && p.incarnation == rm->inc;
	mine_old = exists && p.node == self && p.incarnation && p.incarnation < rm->inc;
	moving_in = exists && p.to_node == self && p.to_incarnation == rm->inc;
	disabled = exists && json_is_false(json_object_get(res, "enabled"));
	stopping = leave_stops(rm) && !(mine_now && p.to_node);
	if (l->busy || (exists && hands_off(l)))
		return;
	if (moving_in) {
		move_in(rm, l, &p);
		return;
	}
	if (mine_now && p.to_node && rm->may_run) {
		move_out(rm, l, &p);
		return;
	}
	want = mine_now && rm->may_run && !p.removing && !stopping && !disabled &&
	       l->gave_up_inc != p.incarnation;
	if (want) {
		if (l->st == L_RUNNING && l->recover)
			stop(l, "recovering from a failure");
		else if (l->st == L_STOPPED && (!l->ocf || l->probed))
			start(l, p.incarnation);
		else if (l->st == L_RUNNING && l->run_inc != p.incarnation)
			l->run_inc = p.incarnation;	/* adopted after a restart */
		if (l->st == L_RUNNING && !l->recover)
			send_running(l, p.incarnation, "running (adopted)");
		return;
	}
	if (l->st == L_RUNNING) {
		/* Only our own life's placement may run here: anything else
		 * stops, but not merely because the lease blinked. */
		if (!mine_now || p.removing || stopping || disabled ||
		    l->gave_up_inc == p.incarnation)
			stop(l, !exists ? "it is no cluster resource any more" :
				!mine_now ? "it is not placed on this life" :
				p.removing ? "it is being removed" :
				disabled ? "it is disabled" :
				stopping ? "this host is leaving" : "it failed here");
		return;
	}
	if (l->st != L_STOPPED)
		return;
	if (mine_old)
		send_release(l, p.incarnation, false, "an earlier life of this host");
	else if (mine_now && rm->leaving && rm->leave_policy == VCD_RM_LEAVE_FREEZE)
		send_freeze(l, p.incarnation);
	else if (mine_now && (p.removing || stopping || disabled))
		send_release(l, p.incarnation, false, p.removing ? "removed" :
			     disabled ? "disabled" : "host leaving");
	else if (mine_now && l->gave_up_inc == p.incarnation)
		send_release(l, p.incarnation, true, l->last_failure);
}

static bool placed_here(const struct vcd_rm *rm)
{
	const json_t *all = vcd_state_resources(rm->state);
	const char *name;
	json_t *res;

	json_object_foreach((json_t *)all, name, res) {
		if (vcd_resource_held_by(res, rm->p.self_id, rm->inc))
			return true;
	}
	return false;
}

static void reconcile_all(struct vcd_rm *rm)
{
	const json_t *all = vcd_state_resources(rm->state);
	const char *name;
	struct lres *l;
	json_t *res;

	/* Nothing is known of what runs here before libvirt's first listing
	 * (VMs) or an OCF resource's first probe. */
	if (!rm->virt || !rm->synced)
		return;
	for (l = rm->res; l; l = l->next)
		l->in_state = false;
	json_object_foreach((json_t *)all, name, res) {
		const char *type = json_string_value(json_object_get(res, "type")) ?: "";

		if (strcmp(type, "vm") != 0 && strcmp(type, "ocf") != 0)
			continue;
		l = lres_get(rm, name);
		if (!l)
			continue;
		l->in_state = true;
		lres_define(l, res);
		reconcile_one(rm, l, res);
	}
	for (l = rm->res; l; l = l->next) {
		if (!l->in_state)
			reconcile_one(rm, l, NULL);
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

/* The node a decision still in flight sends @name to; 0: none. */
static uint32_t in_flight(void *ctx, const char *name)
{
	struct vcd_rm *rm = ctx;
	json_t *t = json_object_get(rm->inflight, name);

	if (!t || vcd_now_ns() - (uint64_t)json_integer_value(json_object_get(t, "ns")) >=
			  RM_INFLIGHT_MS * 1000000ull)
		return 0;
	return (uint32_t)json_integer_value(json_object_get(t, "node"));
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

/* Planned moves in flight, committed or submitted: bounded by migrate_max. */
static uint32_t moves_in_flight(const struct vcd_rm *rm)
{
	const json_t *all = vcd_state_resources(rm->state), *res;
	const char *name;
	uint32_t n = 0;

	json_object_foreach((json_t *)all, name, res) {
		if (json_object_get(res, "migrating"))
			n++;
	}
	return n;
}

static uint32_t move_budget(const struct vcd_rm *rm)
{
	json_int_t max = json_integer_value(json_object_get(vcd_state_cluster(rm->state),
							    "migrate_max"));
	uint32_t busy = moves_in_flight(rm), pending = 0;
	const char *name;
	json_t *v;

	json_object_foreach(rm->inflight, name, v) {
		if (in_flight((void *)rm, name))
			pending++;
	}
	if (max <= 0)
		max = VCD_STATE_DEFAULT_MIGRATE_MAX;
	return busy + pending >= (uint64_t)max ? 0 : (uint32_t)max - busy - pending;
}

static int decision_entry(const struct vcd_place_decision *d, char **e, size_t *len)
{
	if (d->kind == VCD_PLACE_MOVE)
		return vcd_entry_resource_migrate(d->name, d->node, d->incarnation, d->from_node,
						  d->from_incarnation, d->why, e, len);
	return vcd_entry_resource_place(d->name, d->node, d->incarnation, d->why, e, len);
}

/* A move of @name failed a short while ago: give it time (the same
 * failure would repeat at once, and a leave would never see it stall). */
static bool move_backing_off(const struct vcd_rm *rm, const char *name)
{
	json_t *t = json_object_get(rm->move_failed, name);

	return t && vcd_now_ns() - (uint64_t)json_integer_value(t) <
			    RM_MOVE_BACKOFF_MS * 1000000ull;
}

static void place_all(struct vcd_rm *rm, const struct vcd_place_assume *assume)
{
	struct vcd_place_opts opts = { .now_ms = vcd_wall_ms(), .max_moves = move_budget(rm) };
	struct vcd_place_out out;
	char what[VCD_STATE_NAME_LEN + 48], *e;
	struct placed *pl;
	size_t i, len;
	int r;

	vcd_place_out_init(&out);
	if (vcd_place_run(rm->state, assume, &opts, in_flight, rm, &out) < 0) {
		vcd_place_out_free(&out);
		return;
	}
	for (i = 0; i < out.n; i++) {
		const struct vcd_place_decision *d = &out.d[i];
		bool move = d->kind == VCD_PLACE_MOVE;

		if (!d->node) {
			note_noplace(rm, d);
			continue;
		}
		if (move && move_backing_off(rm, d->name))
			continue;
		json_object_del(rm->noplace, d->name);
		r = decision_entry(d, &e, &len);
		pl = r == 0 ? calloc(1, sizeof(*pl) + strlen(d->name) + 1) : NULL;
		if (!pl) {
			if (r == 0)
				free(e);
			continue;
		}
		pl->rm = rm;
		strcpy(pl->name, d->name);
		vcd_notice("DC: %s %s %s node %u: %s", move ? "moving" : "placing", d->name,
			   move ? "to" : "on", d->node, d->why);
		json_object_set_new(rm->inflight, d->name,
				    json_pack("{s:I,s:i}", "ns", (json_int_t)vcd_now_ns(), "node",
					      (int)d->node));
		snprintf(what, sizeof(what), "%s of %s on node %u",
			 move ? "resource-migrate" : "resource-place", d->name, d->node);
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

		if (l->ocf || l->busy || l->st_ns >= since_ns)
			continue;
		json_array_foreach(active, i, d) {
			const char *uuid = json_string_value(json_object_get(d, "uuid"));

			/* The target's paused side of a live migration is the
			 * source's until the move ends. */
			if (json_is_true(json_object_get(d, "incoming")))
				continue;
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
	rm->ocf_root = strdup(p->ocf_root && p->ocf_root[0] ? p->ocf_root : VCD_OCF_ROOT_DEFAULT);
	rm->inflight = json_object();
	rm->noplace = json_object();
	rm->move_failed = json_object();
	if (!rm->uri || !rm->ocf_root || !rm->inflight || !rm->noplace || !rm->move_failed) {
		r = -ENOMEM;
		goto fail;
	}
	rm->p.libvirt_uri = rm->uri;
	rm->p.ocf_root = rm->ocf_root;
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
	uv_timer_init(loop, &rm->ocf_tick);
	rm->ocf_tick.data = rm;
	uv_timer_start(&rm->ocf_tick, ocf_tick_cb, RM_OCF_TICK_MS, RM_OCF_TICK_MS);
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
	json_decref(rm->move_failed);
	free(rm->uri);
	free(rm->ocf_root);
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
	if (res->op == VCD_OP_RESOURCE_MIGRATE_ABORT && rm->is_dc)
		json_object_set_new(rm->move_failed, res->resource,
				    json_integer((json_int_t)vcd_now_ns()));
	if (res->op == VCD_OP_RESOURCE_PLACE || res->op == VCD_OP_RESOURCE_MIGRATE) {
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

int vcd_rm_leave_policy_parse(const char *name, enum vcd_rm_leave_policy *ret)
{
	if (strcmp(name, "stop") == 0)
		*ret = VCD_RM_LEAVE_STOP;
	else if (strcmp(name, "migrate") == 0)
		*ret = VCD_RM_LEAVE_MIGRATE;
	else if (strcmp(name, "freeze") == 0)
		*ret = VCD_RM_LEAVE_FREEZE;
	else
		return -EINVAL;
	return 0;
}

void vcd_rm_leave(struct vcd_rm *rm, enum vcd_rm_leave_policy policy,
		  void (*done)(void *arg, int status), void *arg)
{
	rm->leave_policy = policy;
	rm->leave_progress_ns = vcd_now_ns();
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
		if (o && l->ocf)
			json_object_set_new(o, "agent", json_sprintf("ocf:%s:%s", l->provider,
								     l->type));
		json_object_set_new(res, l->name, o);
	}
	return json_pack("{s:s,s:s,s:o}", "libvirt",
			 !rm->virt ? "none" : rm->connected ? "connected" : "disconnected",
			 "libvirt_uri", rm->uri, "resources", res);
}

/* ------------------------------------------------------------------ */
/* Close */

static void close_step(struct vcd_rm *rm)
{
	struct lres *l;

	if (--rm->closing)
		return;
	while ((l = rm->res)) {
		rm->res = l->next;
		free(l->xml);
		json_decref(l->params);
		free(l);
	}
	json_decref(rm->inflight);
	json_decref(rm->noplace);
	json_decref(rm->move_failed);
	free(rm->uri);
	free(rm->ocf_root);
	if (rm->closed)
		rm->closed(rm->closed_arg);
	free(rm);
}

static void part_closed(uv_handle_t *h)
{
	close_step(h->data);
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
		/* An OCF action in flight is killed; its done() sees closing. */
		if (l->op) {
			rm->closing++;
			vcd_ocf_cancel(l->op);
		}
		if (l->watch) {
			/* The VM keeps running; only our watch ends. */
			struct pidwatch *w = l->watch;

			l->watch = NULL;
			w->l = NULL;
			uv_close((uv_handle_t *)&w->h, watch_closed);
		}
	}
	rm->closing += 4;
	uv_close((uv_handle_t *)&rm->ocf_tick, part_closed);
	uv_close((uv_handle_t *)&rm->soon, part_closed);
	uv_close((uv_handle_t *)&rm->retry, part_closed);
	uv_close((uv_handle_t *)&rm->monitor, part_closed);
}
