/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The agent's side of vcluster-fencer: start it, talk to it, hear from it.
 *
 * vcd_fencer_spawn() forks and execs the fencer (in its own session, so a
 * signal to the agent's process group does not reach it) with one end of
 * a SOCK_SEQPACKET socketpair as its fd 3 and a pidfd of the agent as its
 * fd 4 (fencer-proto.h), then checks with HELLO that it speaks our
 * version.  Requests that have an answer (arm, disarm, proc_add,
 * proc_del) wait for it, at most VCD_FENCER_CALL_MS: the fencer is a
 * memory-locked real-time process that answers in microseconds.  pet,
 * quorate_until and fence_now are sent without waiting.
 *
 * Notifications arrive through the callbacks, on the loop thread.  When
 * the fencer exits or its socket breaks, gone() is called once.
 *
 * Closing the client closes the socket: a fencer that is armed then
 * fences (reason STOPPED).  Disarm first for a planned stop.
 */
#ifndef VCD_FENCER_CLIENT_H
#define VCD_FENCER_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

#define VCD_FENCER_CALL_MS	2000

struct vcd_fencer;

struct vcd_fencer_cb {
	void *ctx;
	/* The agent watchdog fires at @deadline_ns unless petted. */
	void (*pretimeout)(void *ctx, uint64_t deadline_ns);
	/* The fencer fired (enum vc_fence_reason, enum vc_fence_action). */
	void (*fenced)(void *ctx, uint8_t reason, uint8_t action);
	/* The fencer exited or can no longer be reached: -EPIPE, ... */
	void (*gone)(void *ctx, int err);
};

struct vcd_fencer_opts {
	const char *path;		/* the binary; NULL: next to our own */
	const char *log_level;		/* "info", ...; NULL: the fencer's default */
	bool syslog;
	uint32_t node_id;		/* for its log lines */
	uint64_t incarnation;
};

/* ARM's settings (the kernel's FENCE_ARM attributes). */
struct vcd_fencer_arm {
	uint8_t action;			/* enum vc_fence_action, not NONE */
	bool nowayout;
	uint32_t agent_timeout_ms;	/* 0: off */
	uint32_t quorum_timeout_ms;	/* 0: off */
	uint32_t kill_bound_ms;
	uint32_t pretimeout_ms;		/* 0: no warning */
};

/*
 * Start the fencer.  -ENOENT/-EACCES when it cannot be executed, -EPROTO
 * when it answers with another protocol version, -ETIMEDOUT when it does
 * not answer.
 */
int vcd_fencer_spawn(uv_loop_t *loop, const struct vcd_fencer_opts *opts,
		     const struct vcd_fencer_cb *cb, struct vcd_fencer **ret);

/* VCF_HELLO_F_* the fencer answered with. */
uint32_t vcd_fencer_flags(const struct vcd_fencer *f);
pid_t vcd_fencer_pid(const struct vcd_fencer *f);

/* The fencer's answer: 0, -EPERM (reboot/panic not allowed here), ... */
int vcd_fencer_arm(struct vcd_fencer *f, const struct vcd_fencer_arm *arm);
int vcd_fencer_disarm(struct vcd_fencer *f);
/* pidfd_open()s @pid here and hands the pidfd over. */
int vcd_fencer_proc_add(struct vcd_fencer *f, pid_t pid);
int vcd_fencer_proc_del(struct vcd_fencer *f, pid_t pid);

/* Fire and forget; -EPIPE once the fencer is gone. */
int vcd_fencer_pet(struct vcd_fencer *f);
int vcd_fencer_quorate_until(struct vcd_fencer *f, uint64_t deadline_ns);
int vcd_fencer_fence_now(struct vcd_fencer *f, uint8_t reason);

/*
 * Close the socket (an armed fencer fences) and free the client once the
 * loop has run the handles' close callbacks.  Accepts NULL.
 */
void vcd_fencer_close(struct vcd_fencer *f);

#endif /* VCD_FENCER_CLIENT_H */
