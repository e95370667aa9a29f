/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Hooks: the operator's scripts, run for the agent's events (the alerts
 * of other cluster managers).  Documentation/hooks.rst is the operator's
 * side; this is the agent's.
 *
 * For each event that matches hook-events, every executable regular file
 * of hooks-dir runs, in name order, with the event in its environment:
 *
 *	VCLUSTER_EVENT       the event's name
 *	VCLUSTER_NODE        this host's node id
 *	VCLUSTER_CLUSTER     [agent] cluster-name
 *	VCLUSTER_TIME_MS     when it happened, CLOCK_REALTIME in ms
 *	VCLUSTER_SEQ         its number ("seq" as watch and history show it,
 *	                     else this module's own count of matching events)
 *	VCLUSTER_<FIELD>     each top-level scalar field, upper-cased, '-' as
 *	                     '_', booleans true/false, null empty
 *	VCLUSTER_EVENT_JSON  the whole event
 *	PATH                 /usr/sbin:/usr/bin:/sbin:/bin
 *
 * stdin is /dev/null; stdout and stderr go to the agent's log, a line per
 * line with the hook's name, capped per run.  The directory is read each
 * time an event's turn comes (off the loop, on libuv's thread pool), so a
 * new script needs no restart.  Files that are group- or world-writable,
 * or owned by another user than root or the agent's, are skipped with a
 * warning (they run as the agent's user, root).
 *
 * Order: one hook at a time, events in the order they came.  Each hook
 * runs in a session of its own and its whole process group is killed
 * (SIGKILL) once it has taken hook-timeout-ms; a hook is done when it has
 * exited and its output is closed, so a background child that keeps the
 * output open counts as the hook still running.  At most
 * VCD_HOOKS_MAX_QUEUED events wait (the one whose hooks run included);
 * past that events are dropped, counted and logged once per burst.  A
 * hook's exit status is logged and counted, never acted on: a hook cannot
 * change what the cluster does.
 *
 * Everything runs on the loop thread and nothing here blocks it:
 * processes through uv_spawn, output through a pipe on the loop, the
 * directory listing on the thread pool.  The agent calls
 * vcd_hooks_event() where it emits an event, never inside raft's apply
 * path (the event is copied; the hooks run later).
 */
#ifndef VCD_HOOKS_H
#define VCD_HOOKS_H

#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#define VCD_HOOKS_MAX_QUEUED	1024	/* events, the running one included */
#define VCD_HOOKS_MAX_HOOKS	64	/* scripts per event; the rest skipped */
#define VCD_HOOKS_LOG_LINES	20	/* output lines logged per hook run */
#define VCD_HOOKS_LINE_BYTES	240	/* longer lines are cut */
#define VCD_HOOKS_PATH		"/usr/sbin:/usr/bin:/sbin:/bin"

struct vcd_hooks_params {
	const char *dir;		/* hooks-dir; NULL or "": no hooks at all */
	uint32_t timeout_ms;		/* hook-timeout-ms, > 0 */
	const char *events;		/* hook-events; NULL: "*" */
	uint32_t self_id;
	const char *cluster_name;
};

struct vcd_hooks;

/* -EINVAL for a bad event list or a zero timeout; -ENOMEM. */
int vcd_hooks_new(uv_loop_t *loop, const struct vcd_hooks_params *p, struct vcd_hooks **ret);

/*
 * Queue the hooks of @event (its name) with @fields, the event object
 * as watchers see it ("event", "node", "seq", "time_ns" and the rest;
 * borrowed and copied, may be NULL).  Ignored when the event does not
 * match hook-events, when there is no hooks-dir, and after close.
 */
void vcd_hooks_event(struct vcd_hooks *h, const char *event, const json_t *fields);

/*
 * Counters for status, since start: {"run": hook processes started,
 * "failed": exited non-zero, killed by a signal or could not start,
 * "timed_out": killed after hook-timeout-ms, "dropped": events dropped on
 * a full queue or at close, "queued": events waiting now, the running one
 * included}.  A new reference; NULL on no memory.
 */
json_t *vcd_hooks_json(const struct vcd_hooks *h);

/*
 * Stop taking events.  The queued ones still run, for at most
 * hook-timeout-ms in all (so that an event emitted just before a stop, such
 * as "fenced", gets its hooks run); then the running hook is killed and
 * the rest is dropped.  @done(arg) runs once everything is closed (on the
 * loop; at once for a NULL @h).  @h is freed then.
 */
void vcd_hooks_close(struct vcd_hooks *h, void (*done)(void *), void *arg);

#endif /* VCD_HOOKS_H */
