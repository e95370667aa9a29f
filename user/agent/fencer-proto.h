/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * vcluster-fencer protocol: the agent (fencer-client.c) and the fencer
 * (fencer.c) talk over one SOCK_SEQPACKET socketpair, the fencer's end
 * being its fd 3.  Every message is one struct vcf_msg of exactly
 * VCF_MSG_LEN bytes, in host byte order (both ends are on the same host
 * and built from the same tree; the version still guards against an old
 * fencer binary left behind by an upgrade).
 *
 * agent -> fencer (requests; those marked R are answered by one REPLY
 * carrying the request's seq, the others are never answered):
 *
 *   HELLO R          node id and incarnation (for the fencer's log lines);
 *                    the reply's err is 0 and its flags say what the
 *                    fencer may do (VCF_HELLO_F_*)
 *   ARM R            action, agent/quorum timeouts, kill bound,
 *                    pre-timeout, nowayout.  Arming is a pet and starts
 *                    the quorum deadline (re-arming does not restart it)
 *   PET              the agent is alive
 *   QUORATE_UNTIL    the agent confirmed a quorum: new deadline (ns,
 *                    CLOCK_BOOTTIME); the fencer checks the old one first
 *   FENCE_NOW        fence at once (a peer listed us DOWN, a stop under
 *                    nowayout, the agent's own quorum check)
 *   PROC_ADD R       a process the kill action kills: its pidfd travels
 *                    as SCM_RIGHTS with the message, so the fencer holds
 *                    the process itself, never a PID that may be reused
 *   PROC_DEL R       by PID
 *   DISARM R         refused (-EBUSY) with nowayout or once fenced
 *
 * fencer -> agent (notifications):
 *
 *   REPLY            seq of the request, err 0 or a negative errno
 *   PRETIMEOUT       the agent watchdog fires at deadline_ns unless petted
 *   FENCED           the fencer fired: reason, action.  Sent before it acts.
 *
 * The fencer fences when the agent's end closes while armed (reason
 * STOPPED): the agent died, or closed the socket without disarming.
 */
#ifndef VCD_FENCER_PROTO_H
#define VCD_FENCER_PROTO_H

#include <stdint.h>

#define VCF_PROTO_VERSION	1
#define VCF_MSG_LEN		32
/* The fd the fencer finds its socket on, and the agent's pidfd. */
#define VCF_SOCK_FD		3
#define VCF_AGENT_PIDFD		4

enum vcf_type {
	VCF_UNSPEC,
	VCF_HELLO,
	VCF_ARM,
	VCF_PET,
	VCF_QUORATE_UNTIL,
	VCF_FENCE_NOW,
	VCF_PROC_ADD,
	VCF_PROC_DEL,
	VCF_DISARM,
	VCF_REPLY,
	VCF_PRETIMEOUT,
	VCF_FENCED,

	__VCF_TYPE_MAX
};

/* HELLO reply flags. */
#define VCF_HELLO_F_INIT_PIDNS	0x1	/* the fencer runs in the initial PID ns */
#define VCF_HELLO_F_HOST_REBOOT	0x2	/* reboot/panic actions allowed */
#define VCF_HELLO_F_WATCHDOG	0x4	/* a watchdog device will be fed */

struct vcf_msg {
	uint16_t version;		/* VCF_PROTO_VERSION */
	uint16_t type;			/* enum vcf_type */
	uint32_t seq;			/* requests with a reply; echoed */
	union {
		struct {
			uint32_t node_id;
			uint32_t pad;
			uint64_t incarnation;
		} hello;
		struct {
			uint8_t action;		/* enum vc_fence_action */
			uint8_t nowayout;
			uint8_t pad[2];
			uint32_t agent_timeout_ms;	/* 0: off */
			uint32_t quorum_timeout_ms;	/* 0: off */
			uint32_t kill_bound_ms;
			uint32_t pretimeout_ms;		/* 0: no warning */
		} arm;
		struct {
			uint64_t deadline_ns;
		} quorate_until, pretimeout;
		struct {
			uint32_t reason;		/* enum vc_fence_reason */
			uint32_t action;		/* FENCED only */
		} fence;
		struct {
			int32_t pid;
		} proc;
		struct {
			int32_t err;
			uint32_t flags;			/* HELLO: VCF_HELLO_F_* */
		} reply;
		uint8_t raw[VCF_MSG_LEN - 8];
	} u;
};

_Static_assert(sizeof(struct vcf_msg) == VCF_MSG_LEN, "vcf_msg is 32 bytes");

#endif /* VCD_FENCER_PROTO_H */
