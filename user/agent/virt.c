// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libvirt, off the event loop (see virt.h).
 *
 * Threads: the agent's loop submits jobs and gets results; VCD_VIRT_WORKERS
 * workers run the jobs' libvirt calls side by side (one connection, each
 * job with a reference of its own); the event thread runs
 * libvirt's default event loop, which delivers lifecycle events and
 * notices a closed connection.  The three share only the queues below,
 * under one mutex, and two atomics.  A migration with a timeout has a
 * timer thread of its own for its duration (struct mig_timer).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "log.h"
#include "virt.h"

struct queued_event {
	struct vcd_virt_event ev;
	bool is_conn;			/* a connection change, not a domain event */
	bool up;
	char why[VCD_VIRT_MSG_LEN];
	struct queued_event *next;
};

struct vcd_virt {
	uv_loop_t *loop;
	uv_async_t async;
	char *uri;
	struct vcd_virt_cbs cbs;
	void *ctx;

	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct vcd_virt_job *todo, *todo_tail;		/* to the worker */
	struct vcd_virt_job *done, *done_tail;		/* back to the loop */
	struct queued_event *events, *events_tail;	/* back to the loop */
	size_t pending;
	bool stop;

	pthread_t workers[VCD_VIRT_WORKERS], evthread;
	int n_workers;
	pthread_mutex_t conn_mu;	/* opening and dropping the connection */
	atomic_bool ev_stop;
	atomic_bool conn_closed;	/* set by the close callback */

	/* Under conn_mu; each job holds its own reference (virConnectRef). */
	virConnectPtr conn;
	int lifecycle_id;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);	/* the agent's clock, vcd_now_ns() */
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *vcd_virt_op_name(enum vcd_virt_op op)
{
	switch (op) {
	case VCD_VIRT_HOSTINFO:
		return "hostinfo";
	case VCD_VIRT_VALIDATE:
		return "validate";
	case VCD_VIRT_START:
		return "start";
	case VCD_VIRT_STOP:
		return "stop";
	case VCD_VIRT_STATE:
		return "state";
	case VCD_VIRT_UNDEFINE:
		return "undefine";
	case VCD_VIRT_MIGRATE:
		return "migrate";
	}
	return "unknown";
}

const char *vcd_virt_paused_why(int reason)
{
	static const char *const why[] = {
		[VIR_DOMAIN_PAUSED_UNKNOWN] = "unknown",
		[VIR_DOMAIN_PAUSED_USER] = "user",
		[VIR_DOMAIN_PAUSED_MIGRATION] = "migration",
		[VIR_DOMAIN_PAUSED_SAVE] = "save",
		[VIR_DOMAIN_PAUSED_DUMP] = "dump",
		[VIR_DOMAIN_PAUSED_IOERROR] = "io-error",
		[VIR_DOMAIN_PAUSED_WATCHDOG] = "watchdog",
		[VIR_DOMAIN_PAUSED_FROM_SNAPSHOT] = "from-snapshot",
		[VIR_DOMAIN_PAUSED_SHUTTING_DOWN] = "shutting-down",
		[VIR_DOMAIN_PAUSED_SNAPSHOT] = "snapshot",
		[VIR_DOMAIN_PAUSED_CRASHED] = "crashed",
		[VIR_DOMAIN_PAUSED_STARTING_UP] = "starting-up",
		[VIR_DOMAIN_PAUSED_POSTCOPY] = "postcopy",
		[VIR_DOMAIN_PAUSED_POSTCOPY_FAILED] = "postcopy-failed",
	};

	if (reason >= 0 && (size_t)reason < sizeof(why) / sizeof(why[0]) && why[reason])
		return why[reason];
	return "other";
}

/* ------------------------------------------------------------------ */
/* Finding QEMU by its command line */

/* Read /proc/PID/cmdline (NUL-separated); its length, or -1. */
static ssize_t read_cmdline(int proc_fd, const char *pid, char *buf, size_t size)
{
	char path[300];
	ssize_t n, total = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/cmdline", pid);
	fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((size_t)total < size - 1 &&
	       (n = read(fd, buf + total, size - 1 - (size_t)total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	return total;
}

static bool has_uuid_arg(const char *args, size_t len, const char *uuid)
{
	const char *p = args, *end = args + len;

	while (p < end) {
		size_t n = strlen(p);

		if (strcmp(p, "-uuid") == 0 && p + n + 1 < end)
			return strcasecmp(p + n + 1, uuid) == 0;
		p += n + 1;
	}
	return false;
}

pid_t vcd_virt_find_qemu(const char *proc, const char *uuid)
{
	const size_t size = 65536;
	char *buf = malloc(size);	/* workers run this side by side */
	struct dirent *de;
	pid_t found = 0;
	ssize_t len;
	DIR *d = buf ? opendir(proc) : NULL;

	if (!d) {
		free(buf);
		return 0;
	}
	while (!found && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		len = read_cmdline(dirfd(d), de->d_name, buf, size);
		if (len > 0 && has_uuid_arg(buf, (size_t)len, uuid))
			found = (pid_t)atoi(de->d_name);
	}
	closedir(d);
	free(buf);
	return found;
}

/* ------------------------------------------------------------------ */
/* Queues (any thread) */

static void post_event(struct vcd_virt *v, struct queued_event *qe)
{
	pthread_mutex_lock(&v->mu);
	if (v->events_tail)
		v->events_tail->next = qe;
	else
		v->events = qe;
	v->events_tail = qe;
	pthread_mutex_unlock(&v->mu);
	uv_async_send(&v->async);
}

static void post_conn(struct vcd_virt *v, bool up, const char *why)
{
	struct queued_event *qe = calloc(1, sizeof(*qe));

	if (!qe)
		return;
	qe->is_conn = true;
	qe->up = up;
	snprintf(qe->why, sizeof(qe->why), "%s", why ? why : "");
	post_event(v, qe);
}

static void post_done(struct vcd_virt *v, struct vcd_virt_job *job)
{
	pthread_mutex_lock(&v->mu);
	job->next = NULL;
	if (v->done_tail)
		v->done_tail->next = job;
	else
		v->done = job;
	v->done_tail = job;
	pthread_mutex_unlock(&v->mu);
	uv_async_send(&v->async);
}

/* ------------------------------------------------------------------ */
/* The event thread: libvirt's default loop */

static const char *event_text(int event, int detail)
{
	switch (event) {
	case VIR_DOMAIN_EVENT_DEFINED:
		return "defined";
	case VIR_DOMAIN_EVENT_UNDEFINED:
		return "undefined";
	case VIR_DOMAIN_EVENT_STARTED:
		return "started";
	case VIR_DOMAIN_EVENT_SUSPENDED:
		return "suspended";
	case VIR_DOMAIN_EVENT_RESUMED:
		return "resumed";
	case VIR_DOMAIN_EVENT_SHUTDOWN:
		return "shutting down";
	case VIR_DOMAIN_EVENT_CRASHED:
		return "crashed (guest)";
	case VIR_DOMAIN_EVENT_STOPPED:
		switch (detail) {
		case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN:
			return "stopped (guest shut down)";
		case VIR_DOMAIN_EVENT_STOPPED_DESTROYED:
			return "stopped (destroyed)";
		case VIR_DOMAIN_EVENT_STOPPED_CRASHED:
			return "stopped (crashed)";
		case VIR_DOMAIN_EVENT_STOPPED_MIGRATED:
			return "stopped (migrated)";
		case VIR_DOMAIN_EVENT_STOPPED_SAVED:
			return "stopped (saved)";
		case VIR_DOMAIN_EVENT_STOPPED_FAILED:
			return "stopped (QEMU failed)";
		default:
			return "stopped";
		}
	}
	return "other";
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
			void *opaque)
{
	struct vcd_virt *v = opaque;
	struct queued_event *qe = calloc(1, sizeof(*qe));

	(void)conn;
	if (!qe)
		return 0;
	snprintf(qe->ev.name, sizeof(qe->ev.name), "%s", virDomainGetName(dom) ?: "");
	if (virDomainGetUUIDString(dom, qe->ev.uuid) < 0)
		qe->ev.uuid[0] = '\0';
	qe->ev.event = event;
	qe->ev.detail = detail;
	qe->ev.kind = event == VIR_DOMAIN_EVENT_STARTED ? VCD_VIRT_EV_STARTED :
		      event == VIR_DOMAIN_EVENT_STOPPED ? VCD_VIRT_EV_STOPPED : VCD_VIRT_EV_OTHER;
	qe->ev.text = event_text(event, detail);
	post_event(v, qe);
	return 0;
}

static void on_close(virConnectPtr conn, int reason, void *opaque)
{
	struct vcd_virt *v = opaque;
	static const char *const reasons[] = { "error", "end of file", "keepalive timeout",
					       "client request" };

	(void)conn;
	atomic_store(&v->conn_closed, true);
	post_conn(v, false, reason >= 0 && reason < 4 ? reasons[reason] : "closed");
}

static void wake_cb(int timer, void *opaque)
{
	(void)opaque;
	virEventRemoveTimeout(timer);
}

static void *event_thread(void *arg)
{
	struct vcd_virt *v = arg;

	while (!atomic_load(&v->ev_stop))
		virEventRunDefaultImpl();
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The worker: every libvirt call */

__attribute__((format(printf, 3, 4)))
static int job_fail(struct vcd_virt_job *job, int err, const char *fmt, ...)
{
	const char *lv = virGetLastErrorMessage();
	char head[VCD_VIRT_MSG_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	if (lv && strcmp(lv, "no error") != 0)
		snprintf(job->msg, sizeof(job->msg), "%.200s: %.300s", head, lv);
	else
		snprintf(job->msg, sizeof(job->msg), "%s", head);
	job->err = err;
	return err;
}

/*
 * libvirt's errors on our connection: each job reports its own through
 * job->msg (the caller logs it once, with context); libvirt's default
 * would print every one to stderr as well, expected ones included (the
 * incoming-migration probe, a timeout's abort before the job exists).
 */
static void quiet_error(void *opaque, virErrorPtr err)
{
	(void)opaque;
	(void)err;
}

static void drop_conn(struct vcd_virt *v)
{
	if (!v->conn)
		return;
	if (v->lifecycle_id >= 0)
		virConnectDomainEventDeregisterAny(v->conn, v->lifecycle_id);
	virConnectUnregisterCloseCallback(v->conn, on_close);
	virConnectClose(v->conn);
	v->conn = NULL;
	v->lifecycle_id = -1;
}

static int ensure_conn(struct vcd_virt *v, struct vcd_virt_job *job)
{
	if (v->conn && atomic_exchange(&v->conn_closed, false))
		drop_conn(v);
	if (v->conn)
		return 0;
	atomic_store(&v->conn_closed, false);
	v->conn = virConnectOpen(v->uri);
	if (!v->conn)
		return job_fail(job, -ECONNREFUSED, "cannot connect to libvirt at %s", v->uri);
	virConnSetErrorFunc(v->conn, NULL, quiet_error);
	v->lifecycle_id = virConnectDomainEventRegisterAny(v->conn, NULL,
							   VIR_DOMAIN_EVENT_ID_LIFECYCLE,
							   VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle),
							   v, NULL);
	virConnectRegisterCloseCallback(v->conn, on_close, v, NULL);
	if (virConnectSetKeepAlive(v->conn, 5, 3) < 0)
		vcd_debug("libvirt: no keepalive on %s", v->uri);
	post_conn(v, true, v->uri);
	return 0;
}

/* The connection for one job (a reference of its own), opened if needed. */
static virConnectPtr conn_get(struct vcd_virt *v, struct vcd_virt_job *job)
{
	virConnectPtr c = NULL;

	pthread_mutex_lock(&v->conn_mu);
	if (ensure_conn(v, job) == 0 && virConnectRef(v->conn) == 0)
		c = v->conn;
	pthread_mutex_unlock(&v->conn_mu);
	return c;
}

static virDomainPtr lookup_uuid(virConnectPtr c, struct vcd_virt_job *job)
{
	virDomainPtr dom = virDomainLookupByUUIDString(c, job->uuid);

	if (!dom && virGetLastErrorCode() != VIR_ERR_NO_DOMAIN)
		job_fail(job, -EIO, "looking up domain %s", job->uuid);
	return dom;
}

static void fill_pid(struct vcd_virt_job *job)
{
	job->pid = job->running ? vcd_virt_find_qemu("/proc", job->uuid) : 0;
}

/*
 * Paused for a migration with no outgoing job here: this host is the
 * target (libvirt keeps a migration's job statistics on the source only,
 * and answers "operation unsupported" on the target).
 */
static bool is_incoming(virDomainPtr dom, int state, int reason)
{
	virTypedParameterPtr params = NULL;
	int type, n = 0, op = 0;
	bool in;

	if (state != VIR_DOMAIN_PAUSED || reason != VIR_DOMAIN_PAUSED_MIGRATION)
		return false;
	if (virDomainGetJobStats(dom, &type, &params, &n, 0) < 0) {
		in = virGetLastErrorCode() == VIR_ERR_OPERATION_UNSUPPORTED;
		virResetLastError();
		return in;
	}
	virTypedParamsGetInt(params, n, VIR_DOMAIN_JOB_OPERATION, &op);
	virTypedParamsFree(params, n);
	return op == VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN;
}

static void clear_pause(struct vcd_virt_job *job)
{
	job->paused = false;
	job->reason = 0;
	job->why = "";
	job->incoming = false;
}

/* Whether @dom is paused, why, and whether it is a migration's target. */
static void read_pause(virDomainPtr dom, struct vcd_virt_job *job)
{
	int state, reason;

	clear_pause(job);
	if (virDomainGetState(dom, &state, &reason, 0) < 0) {
		virResetLastError();	/* gone meanwhile: not paused */
		return;
	}
	job->reason = reason;
	if (state != VIR_DOMAIN_PAUSED)
		return;
	job->paused = true;
	job->why = vcd_virt_paused_why(reason);
	job->incoming = is_incoming(dom, state, reason);
}

/* One "active" entry of HOSTINFO. */
static json_t *active_entry(virDomainPtr dom, const char *uuid)
{
	struct vcd_virt_job st = { 0 };
	json_t *o;

	read_pause(dom, &st);
	o = json_pack("{s:s,s:s,s:i,s:b}", "name", virDomainGetName(dom), "uuid", uuid,
		      "pid", (int)vcd_virt_find_qemu("/proc", uuid), "paused", st.paused);
	if (o && st.paused) {
		json_object_set_new(o, "why", json_string(st.why));
		json_object_set_new(o, "incoming", json_boolean(st.incoming));
	}
	return o;
}

static int do_hostinfo(virConnectPtr c, struct vcd_virt_job *job)
{
	virDomainPtr *doms = NULL;
	char uuid[VIR_UUID_STRING_BUFLEN];
	virNodeInfo info;
	int n, i;

	if (virNodeGetInfo(c, &info) < 0)
		return job_fail(job, -EIO, "reading the host's capacity");
	job->cpus = info.cpus;
	job->memory_kib = info.memory;
	n = virConnectListAllDomains(c, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (n < 0)
		return job_fail(job, -EIO, "listing running domains");
	job->active = json_array();
	for (i = 0; i < n; i++) {
		if (virDomainGetUUIDString(doms[i], uuid) == 0)
			json_array_append_new(job->active, active_entry(doms[i], uuid));
		virDomainFree(doms[i]);
	}
	free(doms);
	return 0;
}

/* The definition a resource keeps: libvirt's own inactive XML (with its
 * UUID), and the demand the placement engine needs. */
static int describe(struct vcd_virt_job *job, virDomainPtr dom)
{
	char uuid[VIR_UUID_STRING_BUFLEN];
	unsigned long mem_kib = virDomainGetMaxMemory(dom);
	int vcpus = virDomainGetVcpusFlags(dom, VIR_DOMAIN_VCPU_CONFIG | VIR_DOMAIN_VCPU_MAXIMUM);
	char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);

	if (!xml || virDomainGetUUIDString(dom, uuid) < 0 || !mem_kib || vcpus < 0) {
		free(xml);
		return job_fail(job, -EIO, "reading domain %s", virDomainGetName(dom));
	}
	job->definition = json_pack("{s:s,s:s,s:s,s:I,s:i}", "domain", virDomainGetName(dom),
				    "uuid", uuid, "xml", xml, "memory_kib",
				    (json_int_t)mem_kib, "vcpus", vcpus);
	free(xml);
	snprintf(job->uuid, sizeof(job->uuid), "%s", uuid);
	snprintf(job->name, sizeof(job->name), "%s", virDomainGetName(dom));
	return job->definition ? 0 : job_fail(job, -ENOMEM, "out of memory");
}

/*
 * An existing domain (by name) or new XML.  A running domain is refused:
 * the cluster would start it elsewhere while it runs here.  New XML must
 * not reuse the name of a domain this host already has: that one is not
 * the cluster's to redefine.
 */
static int do_validate(virConnectPtr c, struct vcd_virt_job *job)
{
	virDomainPtr dom;
	int r;

	if (!job->xml) {
		dom = virDomainLookupByName(c, job->name);
		if (!dom)
			return job_fail(job, -ENOENT, "no domain \"%s\" is defined in libvirt on this host (%s)",
					job->name, virConnectGetURI(c) ?: "?");
	} else {
		dom = virDomainDefineXMLFlags(c, job->xml, VIR_DOMAIN_DEFINE_VALIDATE);
		if (!dom)
			return job_fail(job, -EINVAL, "libvirt refused the domain XML");
	}
	r = virDomainIsActive(dom);
	if (r == 1) {
		job_fail(job, -EBUSY, "domain \"%s\" is running on this host outside the cluster's control: shut it down first",
			 virDomainGetName(dom));
	} else if (virDomainSetAutostart(dom, 0) < 0) {
		job_fail(job, -EIO, "turning autostart off for \"%s\"", virDomainGetName(dom));
	} else {
		describe(job, dom);
	}
	virDomainFree(dom);
	return job->err;
}

/* Define (or refresh the definition of) the domain; never autostart. */
static virDomainPtr define(virConnectPtr c, struct vcd_virt_job *job)
{
	virDomainPtr dom = lookup_uuid(c, job);

	if (job->err)
		return NULL;
	if (dom && virDomainIsActive(dom) == 1)
		return dom;
	if (dom)
		virDomainFree(dom);
	dom = virDomainDefineXML(c, job->xml);
	if (!dom) {
		job_fail(job, -EINVAL, "defining domain \"%s\"", job->name);
		return NULL;
	}
	if (virDomainSetAutostart(dom, 0) < 0)
		vcd_warn("libvirt: cannot turn autostart off for %s: %s", job->name,
			 virGetLastErrorMessage());
	return dom;
}

/*
 * Active with no QEMU: its process just died and libvirt has not noticed
 * yet.  Wait for libvirt to mark it inactive (bounded), so that a restart
 * in place really starts it.  0 when it runs (with its QEMU) or stopped.
 */
static int settle(virDomainPtr dom, struct vcd_virt_job *job)
{
	int i;

	for (i = 0; i < 250; i++) {
		if (virDomainIsActive(dom) != 1)
			return 0;
		job->pid = vcd_virt_find_qemu("/proc", job->uuid);
		if (job->pid)
			return 0;
		usleep(20000);
	}
	return job_fail(job, -ETIMEDOUT, "domain \"%s\" is active but has no QEMU process",
			job->name);
}

static int do_start(virConnectPtr c, struct vcd_virt_job *job)
{
	virDomainPtr dom = define(c, job);

	if (!dom)
		return job->err;
	if (settle(dom, job) < 0) {
		virDomainFree(dom);
		return job->err;
	}
	if (virDomainIsActive(dom) != 1 && virDomainCreate(dom) < 0)
		job_fail(job, -EIO, "starting domain \"%s\"", job->name);
	else
		job->running = true;
	virDomainFree(dom);
	fill_pid(job);
	return job->err;
}

static int do_stop(virConnectPtr c, struct vcd_virt_job *job)
{
	virDomainPtr dom = lookup_uuid(c, job);

	if (!dom)
		return job->err;
	if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) < 0 &&
	    virDomainIsActive(dom) == 1)
		job_fail(job, -EIO, "stopping domain \"%s\"", job->name);
	virDomainFree(dom);
	return job->err;
}

static int do_state(virConnectPtr c, struct vcd_virt_job *job)
{
	virDomainPtr dom = lookup_uuid(c, job);

	clear_pause(job);
	if (!dom)
		return job->err;
	job->defined = true;
	job->running = virDomainIsActive(dom) == 1;
	if (job->running)
		read_pause(dom, job);
	virDomainFree(dom);
	fill_pid(job);
	return 0;
}

static int do_undefine(virConnectPtr c, struct vcd_virt_job *job)
{
	virDomainPtr dom = lookup_uuid(c, job);

	if (!dom)
		return job->err;
	if (virDomainIsActive(dom) == 1)
		job_fail(job, -EBUSY, "domain \"%s\" is running", job->name);
	else if (virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE) < 0)
		job_fail(job, -EIO, "undefining domain \"%s\"", job->name);
	virDomainFree(dom);
	return job->err;
}

/* ------------------------------------------------------------------ */
/* Migration */

/*
 * A migration's timeout: past it, virDomainAbortJob from this thread while
 * the worker waits in virDomainMigrateToURI3; again every ABORT_RETRY_MS
 * until that call returns (too early there is no job to abort yet, too
 * late libvirt refuses: the guest already runs on the target).
 */
#define ABORT_RETRY_MS 100

struct mig_timer {
	pthread_mutex_t mu;
	pthread_cond_t cond;		/* on CLOCK_MONOTONIC */
	bool done;			/* the migration call returned */
	bool fired;			/* an abort was asked for */
	uint32_t timeout_ms;
	virDomainPtr dom;
	pthread_t thread;
};

static void deadline_after(struct timespec *ts, uint32_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *mig_timer_thread(void *arg)
{
	struct mig_timer *t = arg;
	struct timespec until;

	deadline_after(&until, t->timeout_ms);
	pthread_mutex_lock(&t->mu);
	while (!t->done) {
		if (pthread_cond_timedwait(&t->cond, &t->mu, &until) != ETIMEDOUT)
			continue;
		t->fired = true;
		pthread_mutex_unlock(&t->mu);
		if (virDomainAbortJob(t->dom) < 0)
			virResetLastError();
		pthread_mutex_lock(&t->mu);
		deadline_after(&until, ABORT_RETRY_MS);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

static int mig_timer_start(struct mig_timer *t, virDomainPtr dom, uint32_t timeout_ms)
{
	pthread_condattr_t ca;
	int r;

	memset(t, 0, sizeof(*t));
	t->dom = dom;
	t->timeout_ms = timeout_ms;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&t->mu, NULL);
	r = -pthread_create(&t->thread, NULL, mig_timer_thread, t);
	if (r < 0) {
		pthread_cond_destroy(&t->cond);
		pthread_mutex_destroy(&t->mu);
	}
	return r;
}

/* The call returned: stop the timer; whether it aborted the migration. */
static bool mig_timer_stop(struct mig_timer *t)
{
	pthread_mutex_lock(&t->mu);
	t->done = true;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->thread, NULL);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->mu);
	return t->fired;
}

static int check_migrate_job(struct vcd_virt_job *job)
{
	if (!job->dest_uri[0] || !memchr(job->dest_uri, 0, sizeof(job->dest_uri)) ||
	    !memchr(job->migrate_uri, 0, sizeof(job->migrate_uri)))
		return job_fail(job, -EINVAL,
				"migrate: dest_uri is required (the target's libvirtd, e.g. qemu+tcp://ADDR/system) and both URIs must fit in %d bytes",
				VCD_VIRT_URI_LEN);
	if (job->migrate_flags & ~VCD_VIRT_MIGRATE_ALL)
		return job_fail(job, -EINVAL,
				"migrate: unknown flags 0x%x (valid: LIVE 0x1, PEER2PEER 0x2, PERSIST_DEST 0x4, UNDEFINE_SOURCE 0x8)",
				job->migrate_flags & ~VCD_VIRT_MIGRATE_ALL);
	if (!(job->migrate_flags & VCD_VIRT_MIGRATE_PEER2PEER))
		return job_fail(job, -EINVAL,
				"migrate: PEER2PEER is required (libvirt's QEMU driver migrates only peer to peer here)");
	return 0;
}

static unsigned int migrate_flags(uint32_t f)
{
	return (f & VCD_VIRT_MIGRATE_LIVE ? VIR_MIGRATE_LIVE : 0) |
	       (f & VCD_VIRT_MIGRATE_PEER2PEER ? VIR_MIGRATE_PEER2PEER : 0) |
	       (f & VCD_VIRT_MIGRATE_PERSIST_DEST ? VIR_MIGRATE_PERSIST_DEST : 0) |
	       (f & VCD_VIRT_MIGRATE_UNDEFINE_SOURCE ? VIR_MIGRATE_UNDEFINE_SOURCE : 0);
}

/* The typed parameters: QEMU's stream URI and the bandwidth, when given. */
static int migrate_params(struct vcd_virt_job *job, virTypedParameterPtr *params, int *n)
{
	int max = 0;

	*params = NULL;
	*n = 0;
	if (job->migrate_uri[0] &&
	    virTypedParamsAddString(params, n, &max, VIR_MIGRATE_PARAM_URI, job->migrate_uri) < 0)
		return job_fail(job, -ENOMEM, "migrate: building the parameters");
	if (job->bandwidth_mib_s &&
	    virTypedParamsAddULLong(params, n, &max, VIR_MIGRATE_PARAM_BANDWIDTH,
				    job->bandwidth_mib_s) < 0)
		return job_fail(job, -ENOMEM, "migrate: building the parameters");
	return 0;
}

/* How long the guest was paused, from the finished job's statistics. */
static void read_downtime(virDomainPtr dom, struct vcd_virt_job *job)
{
	virTypedParameterPtr params = NULL;
	unsigned long long ms = 0;
	int type, n = 0;

	if (virDomainGetJobStats(dom, &type, &params, &n, VIR_DOMAIN_JOB_STATS_COMPLETED) < 0) {
		virResetLastError();
		return;
	}
	if (virTypedParamsGetULLong(params, n, VIR_DOMAIN_JOB_DOWNTIME, &ms) == 1)
		job->downtime_ms = ms;
	virTypedParamsFree(params, n);
}

static int migrate_dom(virDomainPtr dom, struct vcd_virt_job *job, virTypedParameterPtr params,
		       int n)
{
	const char *name = virDomainGetName(dom);
	struct mig_timer t;
	bool aborted = false;
	int r;

	if (job->timeout_ms && (r = mig_timer_start(&t, dom, job->timeout_ms)) < 0)
		return job_fail(job, r, "migrate: cannot start the timeout's thread");
	r = virDomainMigrateToURI3(dom, job->dest_uri, params, (unsigned int)n,
				   migrate_flags(job->migrate_flags));
	if (job->timeout_ms)
		aborted = mig_timer_stop(&t);
	if (r < 0 && aborted)
		return job_fail(job, -ETIMEDOUT, "migrating \"%s\" to %s: aborted after %u ms (it still runs here)",
				name, job->dest_uri, job->timeout_ms);
	if (r < 0)
		return job_fail(job, -EIO, "migrating \"%s\" to %s", name, job->dest_uri);
	if (aborted)
		vcd_warn("libvirt: migrating %s to %s finished past its timeout (%u ms): too late to abort",
			 name, job->dest_uri, job->timeout_ms);
	if (!(job->migrate_flags & VCD_VIRT_MIGRATE_UNDEFINE_SOURCE))
		read_downtime(dom, job);
	return 0;
}

static int do_migrate(virConnectPtr c, struct vcd_virt_job *job)
{
	virTypedParameterPtr params = NULL;
	virDomainPtr dom;
	int n = 0;

	job->downtime_ms = 0;
	if (check_migrate_job(job) < 0)
		return job->err;
	dom = lookup_uuid(c, job);
	if (!dom)
		return job->err ? job->err : job_fail(job, -ENOENT, "migrate: no domain %s on this host", job->uuid);
	if (virDomainIsActive(dom) != 1)
		job_fail(job, -ESRCH, "migrate: domain \"%s\" is not running on this host",
			 virDomainGetName(dom));
	else if (migrate_params(job, &params, &n) == 0)
		migrate_dom(dom, job, params, n);
	virTypedParamsFree(params, n);
	virDomainFree(dom);
	return job->err;
}

static void run_job(struct vcd_virt *v, struct vcd_virt_job *job)
{
	uint64_t t0 = now_ns();
	virConnectPtr c = conn_get(v, job);

	if (!c)
		return;
	switch (job->op) {
	case VCD_VIRT_HOSTINFO:
		do_hostinfo(c, job);
		break;
	case VCD_VIRT_VALIDATE:
		do_validate(c, job);
		break;
	case VCD_VIRT_START:
		do_start(c, job);
		break;
	case VCD_VIRT_STOP:
		do_stop(c, job);
		break;
	case VCD_VIRT_STATE:
		do_state(c, job);
		break;
	case VCD_VIRT_UNDEFINE:
		do_undefine(c, job);
		break;
	case VCD_VIRT_MIGRATE:
		do_migrate(c, job);
		break;
	}
	job->took_ns = now_ns() - t0;
	/* A call that failed on a dead connection: reconnect next time. */
	if (job->err && virConnectIsAlive(c) != 1)
		atomic_store(&v->conn_closed, true);
	virConnectClose(c);
}

static void *worker_thread(void *arg)
{
	struct vcd_virt *v = arg;
	struct vcd_virt_job *job;

	pthread_mutex_lock(&v->mu);
	for (;;) {
		while (!v->todo && !v->stop)
			pthread_cond_wait(&v->cond, &v->mu);
		if (v->stop)
			break;
		job = v->todo;
		v->todo = job->next;
		if (!v->todo)
			v->todo_tail = NULL;
		pthread_mutex_unlock(&v->mu);
		run_job(v, job);
		post_done(v, job);
		pthread_mutex_lock(&v->mu);
	}
	pthread_mutex_unlock(&v->mu);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The loop side */

static void deliver(uv_async_t *h)
{
	struct vcd_virt *v = h->data;
	struct vcd_virt_job *jobs, *job;
	struct queued_event *evs, *qe;

	pthread_mutex_lock(&v->mu);
	jobs = v->done;
	v->done = v->done_tail = NULL;
	evs = v->events;
	v->events = v->events_tail = NULL;
	pthread_mutex_unlock(&v->mu);
	/* Events first: a job's result is newer than the events before it. */
	while ((qe = evs)) {
		evs = qe->next;
		if (qe->is_conn && v->cbs.on_connection)
			v->cbs.on_connection(v->ctx, qe->up, qe->why);
		else if (!qe->is_conn && v->cbs.on_event)
			v->cbs.on_event(v->ctx, &qe->ev);
		free(qe);
	}
	while ((job = jobs)) {
		jobs = job->next;
		pthread_mutex_lock(&v->mu);
		v->pending--;
		pthread_mutex_unlock(&v->mu);
		job->done(job);
	}
}

static atomic_bool event_impl_registered;

int vcd_virt_new(uv_loop_t *loop, const char *uri, const struct vcd_virt_cbs *cbs, void *ctx,
		 struct vcd_virt **ret)
{
	struct vcd_virt *v = calloc(1, sizeof(*v));
	int r;

	if (!v)
		return -ENOMEM;
	v->loop = loop;
	v->uri = strdup(uri);
	v->cbs = *cbs;
	v->ctx = ctx;
	v->lifecycle_id = -1;
	if (!v->uri) {
		free(v);
		return -ENOMEM;
	}
	/* libvirt's event implementation is per process, registered once. */
	if (!atomic_exchange(&event_impl_registered, true) && virEventRegisterDefaultImpl() < 0) {
		free(v->uri);
		free(v);
		return -EIO;
	}
	pthread_mutex_init(&v->mu, NULL);
	pthread_cond_init(&v->cond, NULL);
	r = uv_async_init(loop, &v->async, deliver);
	if (r < 0)
		goto fail;
	v->async.data = v;
	r = -pthread_create(&v->evthread, NULL, event_thread, v);
	if (r < 0)
		goto fail_async;
	pthread_mutex_init(&v->conn_mu, NULL);
	for (v->n_workers = 0; v->n_workers < VCD_VIRT_WORKERS; v->n_workers++) {
		r = -pthread_create(&v->workers[v->n_workers], NULL, worker_thread, v);
		if (r < 0)
			break;
	}
	if (!v->n_workers) {
		atomic_store(&v->ev_stop, true);
		virEventAddTimeout(0, wake_cb, NULL, NULL);
		pthread_join(v->evthread, NULL);
		goto fail_async;
	}
	*ret = v;
	return 0;
fail_async:
	uv_close((uv_handle_t *)&v->async, NULL);
fail:
	free(v->uri);
	free(v);
	return r;
}

int vcd_virt_submit(struct vcd_virt *v, struct vcd_virt_job *job)
{
	job->submitted_ns = now_ns();
	job->err = 0;
	job->msg[0] = '\0';
	job->next = NULL;
	pthread_mutex_lock(&v->mu);
	if (v->stop) {
		pthread_mutex_unlock(&v->mu);
		return -ESHUTDOWN;
	}
	if (v->todo_tail)
		v->todo_tail->next = job;
	else
		v->todo = job;
	v->todo_tail = job;
	v->pending++;
	pthread_cond_signal(&v->cond);
	pthread_mutex_unlock(&v->mu);
	return 0;
}

size_t vcd_virt_pending(const struct vcd_virt *v)
{
	return v->pending;
}

static void free_async(uv_handle_t *h)
{
	struct vcd_virt *v = h->data;

	pthread_mutex_destroy(&v->mu);
	pthread_mutex_destroy(&v->conn_mu);
	pthread_cond_destroy(&v->cond);
	free(v->uri);
	free(v);
}

void vcd_virt_free(struct vcd_virt *v)
{
	struct vcd_virt_job *job;
	int i;

	if (!v)
		return;
	pthread_mutex_lock(&v->mu);
	v->stop = true;
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->mu);
	for (i = 0; i < v->n_workers; i++)
		pthread_join(v->workers[i], NULL);
	drop_conn(v);
	atomic_store(&v->ev_stop, true);
	virEventAddTimeout(0, wake_cb, NULL, NULL);
	pthread_join(v->evthread, NULL);
	/* Whatever was queued or finished is answered, so owners can free. */
	deliver(&v->async);
	while ((job = v->todo)) {
		v->todo = job->next;
		job->err = -ECANCELED;
		snprintf(job->msg, sizeof(job->msg), "the agent is stopping");
		job->done(job);
	}
	uv_close((uv_handle_t *)&v->async, free_async);
}
