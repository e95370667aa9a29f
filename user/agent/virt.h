/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libvirt, off the event loop.
 *
 * libvirt calls block (a start takes a fraction of a second, the first
 * call to a fresh libvirtd several seconds), and the agent's loop must keep
 * petting the watchdog and answering raft.  So every call runs in a small
 * pool of worker threads (VCD_VIRT_WORKERS jobs at once, taken in
 * submission order; results may come back in another order), and libvirt's own
 * event loop (domain lifecycle events, keepalives) runs in a second
 * thread.  Results and events come back to the agent's libuv loop through
 * a uv_async_t: every callback below runs on the loop thread.
 *
 * The connection is opened on the first job and reopened on the next job
 * after libvirtd closed it; a job that finds no libvirtd fails with
 * -ECONNREFUSED and the text libvirt gave.
 *
 * A live migration (VCD_VIRT_MIGRATE) occupies one worker for its whole
 * duration (seconds; under TCG a tiny VM takes about 0.5 s): the other
 * workers go on with the other jobs.  It is peer to peer: this host's
 * libvirtd connects to the target's libvirtd (dest_uri) and QEMU streams
 * the guest there, so the agent needs no connection of its own to the
 * target.  Its timeout is enforced from a timer thread of the job with
 * virDomainAbortJob, which leaves the domain running here.
 */
#ifndef VCD_VIRT_H
#define VCD_VIRT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>
#include <uv.h>

#define VCD_VIRT_NAME_LEN	128
#define VCD_VIRT_UUID_LEN	37	/* 36 characters and the NUL */
#define VCD_VIRT_MSG_LEN	512
/* Jobs that run at once: a dead host's VMs start side by side here.  The
 * caller keeps to one job per domain at a time. */
#define VCD_VIRT_WORKERS	4

enum vcd_virt_op {
	VCD_VIRT_HOSTINFO = 1,	/* -> cpus, memory_kib, active (uuids) */
	VCD_VIRT_VALIDATE,	/* xml or name -> definition */
	VCD_VIRT_START,		/* name, uuid, xml -> pid (define if needed, no autostart) */
	VCD_VIRT_STOP,		/* uuid: destroy if running */
	VCD_VIRT_STATE,		/* uuid -> running, paused, reason, incoming, pid */
	VCD_VIRT_UNDEFINE,	/* uuid: forget the definition if not running */
	VCD_VIRT_MIGRATE,	/* uuid, dest_uri, ... -> (the domain runs there) */
};

/*
 * VCD_VIRT_MIGRATE flags (job->migrate_flags).  PEER2PEER is required:
 * libvirt's QEMU driver migrates only peer to peer through the call used.
 */
#define VCD_VIRT_MIGRATE_LIVE		(1u << 0)	/* the guest runs during the copy */
#define VCD_VIRT_MIGRATE_PEER2PEER	(1u << 1)	/* libvirtd connects to dest_uri */
#define VCD_VIRT_MIGRATE_PERSIST_DEST	(1u << 2)	/* also define it on the target */
#define VCD_VIRT_MIGRATE_UNDEFINE_SOURCE (1u << 3)	/* forget it here once moved */
#define VCD_VIRT_MIGRATE_ALL		(VCD_VIRT_MIGRATE_LIVE | VCD_VIRT_MIGRATE_PEER2PEER | \
					 VCD_VIRT_MIGRATE_PERSIST_DEST | \
					 VCD_VIRT_MIGRATE_UNDEFINE_SOURCE)
#define VCD_VIRT_URI_LEN	256

struct vcd_virt_job;
typedef void (*vcd_virt_done_fn)(struct vcd_virt_job *job);

struct vcd_virt_job {
	enum vcd_virt_op op;
	/* In. */
	char name[VCD_VIRT_NAME_LEN];	/* the libvirt domain name */
	char uuid[VCD_VIRT_UUID_LEN];
	char *xml;			/* START, VALIDATE (owned by the caller) */
	/*
	 * MIGRATE: dest_uri is the target's libvirtd as this host's libvirtd
	 * reaches it (from the cluster's template, e.g. qemu+tcp://%a/system);
	 * migrate_uri QEMU's data stream ("tcp://ADDR", "" lets the target's
	 * libvirtd choose: its migration_host); bandwidth_mib_s 0 is
	 * unlimited; past timeout_ms (0: none) the migration is aborted and
	 * the job fails with -ETIMEDOUT, the domain still running here.
	 * libvirt never turns autostart on at the target (and the agent
	 * defines everything with autostart off).
	 */
	char dest_uri[VCD_VIRT_URI_LEN];
	char migrate_uri[VCD_VIRT_URI_LEN];
	uint32_t migrate_flags;		/* VCD_VIRT_MIGRATE_* */
	uint32_t bandwidth_mib_s;
	uint32_t timeout_ms;
	vcd_virt_done_fn done;		/* on the loop thread */
	void *ctx;
	/* Out. */
	int err;			/* 0 or a negative errno */
	char msg[VCD_VIRT_MSG_LEN];	/* what libvirt said, when err */
	bool running;			/* START, STATE: active (running or paused) */
	bool defined;			/* STATE */
	/*
	 * STATE: paused is true when the domain is active but its vCPUs are
	 * stopped; reason is libvirt's reason for the domain's state (when
	 * paused a virDomainPausedReason: VIR_DOMAIN_PAUSED_MIGRATION = 2 on
	 * a migration's target throughout, on its source for the final
	 * copy), why that reason's name when paused ("migration", "user",
	 * ...); incoming is true when this host is the target of a migration
	 * in progress (libvirt has no outgoing job for it here).
	 */
	bool paused;
	int reason;
	const char *why;		/* static text; "" when not paused */
	bool incoming;
	pid_t pid;			/* START, STATE: the QEMU process, 0 if not found */
	/* MIGRATE: how long the guest was paused (libvirt's job statistics);
	 * 0 when unknown: with UNDEFINE_SOURCE no domain is left here to ask */
	uint64_t downtime_ms;
	uint64_t took_ns;		/* the call itself, in the worker */
	uint64_t submitted_ns;		/* CLOCK_BOOTTIME, set by vcd_virt_submit */
	uint32_t cpus;			/* HOSTINFO */
	uint64_t memory_kib;		/* HOSTINFO */
	/*
	 * HOSTINFO: [{"name","uuid","pid","paused"}] of the active domains
	 * (running or paused, e.g. the target's side of a migration in
	 * progress); a paused one also has "why" and "incoming" (see STATE).
	 */
	json_t *active;
	json_t *definition;		/* VALIDATE: {"domain","uuid","xml","memory_kib","vcpus"} */

	struct vcd_virt_job *next;	/* private */
};

enum vcd_virt_ev_kind {
	VCD_VIRT_EV_OTHER = 0,
	VCD_VIRT_EV_STARTED,
	VCD_VIRT_EV_STOPPED,		/* QEMU is gone (stopped, crashed, failed) */
};

struct vcd_virt_event {
	char name[VCD_VIRT_NAME_LEN];
	char uuid[VCD_VIRT_UUID_LEN];
	enum vcd_virt_ev_kind kind;
	int event;			/* virDomainEventType */
	int detail;
	const char *text;		/* "stopped (crashed)" */
};

struct vcd_virt_cbs {
	/* A domain lifecycle event. */
	void (*on_event)(void *ctx, const struct vcd_virt_event *ev);
	/* The connection to libvirtd opened (true) or closed (false). */
	void (*on_connection)(void *ctx, bool up, const char *why);
};

struct vcd_virt;

int vcd_virt_new(uv_loop_t *loop, const char *uri, const struct vcd_virt_cbs *cbs, void *ctx,
		 struct vcd_virt **ret);
/* Queue @job; its done() runs on the loop.  -ESHUTDOWN after close. */
int vcd_virt_submit(struct vcd_virt *v, struct vcd_virt_job *job);
/* Jobs waiting or running. */
size_t vcd_virt_pending(const struct vcd_virt *v);
/* Stop both threads (the job running finishes; queued jobs complete with
 * -ECANCELED) and free; blocks until the running call returns. */
void vcd_virt_free(struct vcd_virt *v);

/* The QEMU process running the domain with @uuid, by its command line
 * ("-uuid UUID"); 0 when none.  @proc is "/proc" but for tests. */
pid_t vcd_virt_find_qemu(const char *proc, const char *uuid);

const char *vcd_virt_op_name(enum vcd_virt_op op);
/* libvirt's virDomainPausedReason as a word ("migration", "user", ...). */
const char *vcd_virt_paused_why(int reason);

#endif /* VCD_VIRT_H */
