/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The agent's control socket: a Unix stream socket speaking newline-
 * delimited JSON (Documentation/agent-protocol.rst).  This module is
 * generic: it accepts connections, frames and parses requests, checks
 * permissions and dispatches to a table of commands that the agent
 * supplies; it knows nothing about the cluster.
 *
 *	request  {"id":1,"cmd":"status","args":{}}
 *	reply    {"id":1,"ok":true,"result":{...}}
 *	         {"id":1,"ok":false,"errno":"EPERM","error":"..."}
 *	event    {"event":"node-fenced","seq":7,"time_ns":...,...}
 *
 * Built-in commands, unless the table defines the same name: "hello"
 * (protocol version and the command list), "watch" (this connection
 * receives every event from now on) and "history" (the most recent
 * events, kept in memory).
 *
 * Permission: the peer's credentials (SO_PEERCRED, taken at connect) decide;
 * a command with .changes set needs uid 0, everything else is open to
 * whoever may connect (the socket is 0600 root, or 0660 with a group).
 *
 * Everything runs on the loop thread.  Functions return 0 or a negative
 * errno.
 */
#ifndef VCD_CTL_H
#define VCD_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <jansson.h>
#include <uv.h>

#define VCD_CTL_PROTOCOL	1
#define VCD_CTL_MAX_LINE	(1024 * 1024)	/* bytes of one request */
#define VCD_CTL_MAX_QUEUED	(1024 * 1024)	/* unsent bytes per connection */
#define VCD_CTL_MAX_CONNS	64
#define VCD_CTL_HISTORY		256		/* events "history" returns */

struct vcd_ctl;
/* One request.  Valid from the handler's call until it is answered with
 * vcd_ctl_reply() or vcd_ctl_fail() (exactly once), even when the client
 * disconnects or the server is closed meanwhile: the answer is then
 * dropped. */
struct vcd_ctl_req;

/*
 * @args: the request's "args", always an object (empty when absent);
 * borrowed for the duration of the call: json_incref() it to keep it.
 */
typedef void (*vcd_ctl_fn)(void *ctx, struct vcd_ctl_req *req, json_t *args);

struct vcd_ctl_cmd {
	const char *name;	/* "status", "node-standby" */
	bool changes;		/* changes state: needs uid 0 */
	vcd_ctl_fn fn;
};

struct vcd_ctl_stats {
	uint64_t conns_accepted;
	uint64_t conns_refused;		/* over VCD_CTL_MAX_CONNS */
	uint64_t requests;
	uint64_t bad_requests;		/* malformed, unknown, oversize */
	uint64_t denied;		/* EPERM */
	uint64_t events;
	uint64_t watchers_dropped;	/* too slow to read their events */
	uint32_t conns;			/* open now */
	uint32_t watchers;		/* open now */
	uint32_t pending;		/* requests not yet answered */
};

/*
 * Listen on @path (created 0600 root, or 0660 with group @group when it is
 * not 0; its directory is created 0755 when missing).  A leftover socket
 * file that nobody answers on is replaced; one that an agent answers on
 * gives -EADDRINUSE, a file that is no socket -ENOTSOCK.
 * @cmds ends with an entry whose name is NULL; it and @ctx must outlive
 * the server.
 */
int vcd_ctl_new(uv_loop_t *loop, const char *path, gid_t group,
		const struct vcd_ctl_cmd *cmds, void *ctx, struct vcd_ctl **ret);

/* Limits (tests use small ones); 0 keeps the current value. */
void vcd_ctl_set_limits(struct vcd_ctl *ctl, size_t max_line, size_t max_queued);

/* Answer @req with @result (stolen; NULL means {}), and free @req. */
void vcd_ctl_reply(struct vcd_ctl_req *req, json_t *result);

/* Answer @req with an error: @neg_errno (-EPERM) and a message for a
 * person, and free @req. */
void vcd_ctl_fail(struct vcd_ctl_req *req, int neg_errno, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The command's name, and who sent it (pid, uid, gid at connect time). */
const char *vcd_ctl_req_cmd(const struct vcd_ctl_req *req);
const struct ucred *vcd_ctl_req_cred(const struct vcd_ctl_req *req);
/* False once the client has gone: the answer would be dropped. */
bool vcd_ctl_req_connected(const struct vcd_ctl_req *req);

/*
 * Send @event (an object with at least "event"; stolen) to every watcher
 * and keep it for "history".  "seq" (per server, from 1) and "time_ns"
 * (CLOCK_REALTIME) are added unless present.  A watcher that has more than
 * max_queued bytes unsent is disconnected (stats.watchers_dropped).
 */
void vcd_ctl_event(struct vcd_ctl *ctl, json_t *event);

void vcd_ctl_get_stats(const struct vcd_ctl *ctl, struct vcd_ctl_stats *ret);

/* Stop listening, unlink the socket, close every connection.  The memory is
 * freed once libuv has closed the handles (keep running the loop).  NULL is
 * allowed.  Unanswered requests stay valid as described above. */
void vcd_ctl_close(struct vcd_ctl *ctl);

/* "EPERM" for -EPERM (or EPERM); "EIO" when unknown. */
const char *vcd_ctl_errno_name(int err);

#endif /* VCD_CTL_H */
