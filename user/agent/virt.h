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
	VCD_VIRT_STATE,		/* uuid -> running, pid */
	VCD_VIRT_UNDEFINE,	/* uuid: forget the definition if not running */
};

struct vcd_virt_job;
typedef void (*vcd_virt_done_fn)(struct vcd_virt_job *job);

struct vcd_virt_job {
	enum vcd_virt_op op;
	/* In. */
	char name[VCD_VIRT_NAME_LEN];	/* the libvirt domain name */
	char uuid[VCD_VIRT_UUID_LEN];
	char *xml;			/* START, VALIDATE (owned by the caller) */
	vcd_virt_done_fn done;		/* on the loop thread */
	void *ctx;
	/* Out. */
	int err;			/* 0 or a negative errno */
	char msg[VCD_VIRT_MSG_LEN];	/* what libvirt said, when err */
	bool running;			/* START, STATE */
	bool defined;			/* STATE */
	pid_t pid;			/* START, STATE: the QEMU process, 0 if not found */
	uint64_t took_ns;		/* the call itself, in the worker */
	uint64_t submitted_ns;		/* CLOCK_BOOTTIME, set by vcd_virt_submit */
	uint32_t cpus;			/* HOSTINFO */
	uint64_t memory_kib;		/* HOSTINFO */
	json_t *active;			/* HOSTINFO: [{"name","uuid","pid"}] of running domains */
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

#endif /* VCD_VIRT_H */
