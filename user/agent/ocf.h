/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * OCF resource agents (Documentation/ocf.rst): running one action of an
 * agent, reading its meta-data, and checking a resource definition before
 * it is committed.
 *
 * An action is a child process watched by the agent's libuv loop, not a
 * blocking call: $OCF_ROOT/resource.d/PROVIDER/TYPE ACTION runs in its own
 * session and process group, stdin /dev/null, with an environment built
 * here from nothing (the OCF variables and a fixed PATH: nothing of the
 * daemon's own environment reaches an agent).  Its stdout is kept (the
 * meta-data is read from it), the last lines of stdout and stderr are kept
 * for the log and the resource's note.
 *
 * When the action outlives its timeout, the whole group gets SIGTERM, and
 * SIGKILL VCD_OCF_KILL_GRACE_MS later (at once when the agent itself has
 * exited already), so a helper the agent forked cannot linger.  A process
 * that made itself a new session (a daemon a start launched) is not in the
 * group and is not touched; that is what a start is for.
 *
 * Everything here runs on the loop thread; every callback runs there.
 * Library code: nothing here logs, errors come back with a text for a
 * person.
 */
#ifndef VCD_OCF_H
#define VCD_OCF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#define VCD_OCF_ROOT_DEFAULT		"/usr/lib/ocf"
#define VCD_OCF_NAME_LEN		64	/* provider, type: with the NUL */
#define VCD_OCF_TAIL_LEN		512
#define VCD_OCF_OUTPUT_MAX		(1024 * 1024)	/* stdout kept, bytes */
#define VCD_OCF_KILL_GRACE_MS		2000	/* SIGTERM .. SIGKILL */
/* After the agent exited, how long a process it left behind may hold its
 * stdout or stderr open before they are closed unread (a daemon that
 * forgot to redirect them). */
#define VCD_OCF_DRAIN_MS		500
#define VCD_OCF_DEFAULT_TIMEOUT_MS	20000	/* an action the meta-data does not time */
#define VCD_OCF_DEFAULT_INTERVAL_MS	10000	/* a monitor the meta-data does not space */
#define VCD_OCF_META_TIMEOUT_MS		10000	/* the meta-data action itself */

/* OCF exit codes (the OCF resource agent API). */
enum {
	VCD_OCF_SUCCESS = 0,
	VCD_OCF_ERR_GENERIC = 1,
	VCD_OCF_ERR_ARGS = 2,
	VCD_OCF_ERR_UNIMPLEMENTED = 3,
	VCD_OCF_ERR_PERM = 4,
	VCD_OCF_ERR_INSTALLED = 5,
	VCD_OCF_ERR_CONFIGURED = 6,
	VCD_OCF_NOT_RUNNING = 7,
	VCD_OCF_RUNNING_MASTER = 8,
	VCD_OCF_FAILED_MASTER = 9,
};

/*
 * "ocf:heartbeat:Dummy" -> "heartbeat", "Dummy".  Each part is letters,
 * digits, '.', '_', '+' or '-', does not start with '.', and fits the
 * buffer; the class is "ocf".  0 or -EINVAL with @why saying what is valid.
 */
int vcd_ocf_parse_agent(const char *spec, char *provider, size_t provider_size,
			char *type, size_t type_size, char *why, size_t why_size);

/*
 * A duration as OCF meta-data and Pacemaker write it: a whole number and
 * an optional unit, "500ms", "20s", "20" (seconds), "2min" or "2m", "1h"
 * (also "msec", "sec", "hr").  0 or -EINVAL (with @why) / -ERANGE.
 */
int vcd_ocf_parse_duration_ms(const char *text, uint64_t *ret_ms, char *why, size_t why_size);

enum vcd_ocf_action {
	VCD_OCF_START,
	VCD_OCF_STOP,
	VCD_OCF_MONITOR,
	VCD_OCF_META_DATA,
	VCD_OCF_VALIDATE_ALL,
};

const char *vcd_ocf_action_name(enum vcd_ocf_action a);	/* "start", "meta-data", ... */

struct vcd_ocf_spec {
	const char *ocf_root;		/* NULL: VCD_OCF_ROOT_DEFAULT */
	const char *provider, *type;
	const char *instance;		/* the resource name (may be NULL for meta-data) */
	const json_t *params;		/* NULL or {"name": "string" | integer | true/false} */
};

struct vcd_ocf_result {
	int rc;			/* OCF exit code; -1 when killed, timed out or cancelled */
	bool timed_out;
	bool cancelled;		/* vcd_ocf_cancel() */
	int term_signal;	/* the signal that ended the agent, 0 if it exited */
	uint64_t took_ns;	/* spawn to exit */
	char *output;		/* stdout, NUL-terminated, at most VCD_OCF_OUTPUT_MAX */
	size_t output_len;
	bool output_truncated;	/* it wrote more than VCD_OCF_OUTPUT_MAX */
	/* The last lines of stdout and stderr as they came, control
	 * characters but newlines replaced, no trailing newline; "" when
	 * it wrote nothing. */
	char tail[VCD_OCF_TAIL_LEN];
};

struct vcd_ocf_op;
/* @res and everything it points to are valid only during the call. */
typedef void (*vcd_ocf_done_fn)(void *arg, const struct vcd_ocf_result *res);

/*
 * Run @a of the agent @spec names.  @timeout_ms 0: VCD_OCF_DEFAULT_TIMEOUT_MS.
 * @interval_ms goes to a monitor as OCF_RESKEY_CRM_meta_interval (0: a
 * probe, the resource's state is not known); other actions get 0.
 *
 * 0: the agent runs; @done runs exactly once, on a later loop turn, after
 * the agent was reaped and its output read, and the op frees itself after
 * it returns.  *@ret (may be NULL) is valid until then.
 * Negative errno: nothing runs and @done is never called (-EINVAL: a
 * bad spec or parameter name, -ENOENT: no such agent, -EACCES: not
 * executable, or what fork/exec said).
 */
int vcd_ocf_run(uv_loop_t *loop, const struct vcd_ocf_spec *spec, enum vcd_ocf_action a,
		uint32_t timeout_ms, uint32_t interval_ms, vcd_ocf_done_fn done, void *arg,
		struct vcd_ocf_op **ret);

/* SIGKILL the op's process group now; done() still runs, with rc -1 and
 * cancelled.  Only before done() ran (the op is gone after). */
void vcd_ocf_cancel(struct vcd_ocf_op *op);

/* "OCF_SUCCESS", "OCF_NOT_RUNNING", ...; "killed" for -1, "unknown" past 9. */
const char *vcd_ocf_rc_name(int rc);

/*
 * An agent's meta-data (the XML its meta-data action prints) ->
 *
 *	{"name":"Dummy","shortdesc":"...",
 *	 "parameters":{"state":{"required":false,"unique":true,"type":"string",
 *				"default":"...","shortdesc":"..."},
 *		       "mode":{..., "type":"select","options":["a","b"]}, ...},
 *	 "actions":{"start":{"timeout_ms":20000},
 *		    "monitor":{"timeout_ms":20000,"interval_ms":10000}, ...}}
 *
 * "default" and "shortdesc" only when the agent gives them; for an action
 * listed more than once (monitor per role or depth), the first without a
 * role.  0 or -EINVAL with @why (not XML, not <resource-agent>, a
 * parameter without a name, a timeout that is not a duration, ...).
 */
int vcd_ocf_meta_parse(const char *xml, size_t len, json_t **ret, char *why, size_t why_size);

/*
 * @params against the parsed @meta: every name known (else the error lists
 * the agent's parameters), every value of its type (integer: an integer
 * or a string of one; boolean: true/false or one of true false yes no on
 * off 1 0; select: one of its options; any other type: a string, integer
 * or boolean), every required parameter given.  0 or -EINVAL with @why.
 */
int vcd_ocf_check_params(const json_t *meta, const json_t *params, char *why, size_t why_size);

/*
 * Check an OCF resource before it is added, without blocking the loop:
 * @agent parses, the agent exists and is executable (else the error lists
 * the provider's agents, or the providers), its meta-data parses, @params
 * pass vcd_ocf_check_params, and validate-all, run with them, says 0 (3,
 * unimplemented, is accepted, and an agent whose meta-data lists actions
 * but not validate-all is not asked).
 *
 * @op_overrides: NULL or {"start_ms","stop_ms","monitor_ms","monitor_interval_ms"},
 * each an integer (ms) or a duration string, in place of the meta-data's.
 *
 * @cb runs once, on a later loop turn: err 0 and @definition (a new
 * reference the callback owns)
 *
 *	{"agent":"ocf:P:T","provider":P,"type":T,"params":{...},
 *	 "timeouts":{"start_ms":N,"stop_ms":N,"monitor_ms":N},
 *	 "monitor_interval_ms":N,"memory_kib":0,"vcpus":0}
 *
 * with @msg "" or a remark (validate-all unimplemented); or a negative
 * errno (-EINVAL, -ENOENT, -EACCES, -ETIMEDOUT, -EIO, ...), @msg saying
 * why and @definition NULL.  A non-zero return: @cb never runs.
 */
typedef void (*vcd_ocf_validate_fn)(void *arg, int err, const char *msg, json_t *definition);
int vcd_ocf_validate(uv_loop_t *loop, const char *ocf_root, const char *name, const char *agent,
		     const json_t *params, const json_t *op_overrides,
		     vcd_ocf_validate_fn cb, void *arg);

#endif /* VCD_OCF_H */
