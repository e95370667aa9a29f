/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Membership for vclusterd: one interface, two transports.
 *
 *   kernel  vcluster.ko over generic netlink (mship-kernel.c): the module
 *           heartbeats, ages peers, keeps quorum and fences; the agent
 *           configures it, subscribes to its events and pets its watchdog.
 *   user    the same wire protocol from user space (mship-user.c): the
 *           agent heartbeats from its libuv loop, applies the same
 *           membership rules, and a separate vcluster-fencer process
 *           (fencer.c) enforces fencing rules 3 to 7.
 *
 * Both report the same things through struct vcd_mship_cb, on the loop
 * thread, and both describe peers with struct vcd_member.  Every time is
 * CLOCK_BOOTTIME in nanoseconds on this host (the kernel's clock).
 */
#ifndef VCD_MSHIP_H
#define VCD_MSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

#include <linux/vcluster.h>

#include "../config.h"

/* One peer as this host's transport sees it. */
struct vcd_member {
	uint32_t node_id;
	uint32_t votes;
	uint8_t state;			/* enum vc_peer_state */
	uint8_t down_reason;		/* enum vc_down_reason, when DOWN */
	uint64_t incarnation;		/* of the life last heard */
	uint64_t last_heard_ns;		/* 0: never heard */
	uint64_t fenced_by_ns;		/* its fence window closes; 0: unknown */
	bool fence_strong;		/* armed with kill, reboot or panic */
	bool armed;
	bool user_fence;		/* fenced by a user-space fencer */
	uint8_t fence_action;		/* enum vc_fence_action it advertises */
	uint32_t links_up;		/* bit per link id */
	uint32_t links;			/* bit per configured link id */
	uint32_t rtt_us;		/* best link, 0 unknown */
	uint8_t payload[VC_MAX_PAYLOAD];
	size_t payload_len;
};

/* This host's own view. */
struct vcd_self {
	uint64_t incarnation;
	bool started;
	bool quorate;
	uint32_t votes_seen;
	uint32_t expected_votes;
	bool armed;
	bool fenced;
	uint8_t fence_action;
	uint8_t fence_reason;		/* enum vc_fence_reason, when fenced */
};

struct vcd_mship;

/* Callbacks, all on the loop thread. */
struct vcd_mship_cb {
	void *ctx;
	/* A peer changed state (JOINING, UP, SUSPECT, DOWN). */
	void (*peer_changed)(void *ctx, const struct vcd_member *m, uint8_t old_state);
	/* This host gained or lost quorum. */
	void (*quorum_changed)(void *ctx, bool quorate);
	/* The watchdog will fire soon unless petted (pre-timeout). */
	void (*pretimeout)(void *ctx);
	/* This host was fenced: @reason is enum vc_fence_reason. */
	void (*fenced)(void *ctx, uint8_t reason);
	/* The transport failed for good (netlink gone, fencer died). */
	void (*failed)(void *ctx, int err);
};

/* What both transports are started with. */
struct vcd_mship_params {
	const struct vc_config *cfg;	/* [node], [fence], [peer N], [agent] */
	const uint8_t *key;		/* VC_KEY_LEN bytes, NULL with insecure */
	uint8_t key_id;
	uint64_t incarnation;		/* this life's, from the persisted counter */
	const char *fencer_path;	/* user transport: the fencer binary */
};

struct vcd_mship_ops {
	const char *name;		/* "kernel", "user" */
	/* Configure (node, peers, key), start heartbeats, subscribe. */
	int (*start)(struct vcd_mship *ms, const struct vcd_mship_params *p);
	/* Arm the watchdog with [fence] of the config. */
	int (*arm)(struct vcd_mship *ms);
	/* "The agent is alive and in touch with a quorum." */
	int (*pet)(struct vcd_mship *ms);
	/* Planned stop: disarm (if allowed) and stop heartbeats. */
	int (*stop)(struct vcd_mship *ms);
	/* The agent's advisory heartbeat payload (rule 10). */
	int (*set_payload)(struct vcd_mship *ms, const void *buf, size_t len);
	/* Snapshot of every configured peer, ordered by node id. */
	int (*members)(struct vcd_mship *ms, struct vcd_member *out, size_t max,
		       size_t *ret_n);
	int (*self)(struct vcd_mship *ms, struct vcd_self *out);
	/* Register a process for the kill action (issue 5: QEMUs). */
	int (*proc_add)(struct vcd_mship *ms, pid_t pid);
	int (*proc_del)(struct vcd_mship *ms, pid_t pid);
	/* Free everything; does not disarm. */
	void (*close)(struct vcd_mship *ms);
};

struct vcd_mship {
	const struct vcd_mship_ops *ops;
	uv_loop_t *loop;
	struct vcd_mship_cb cb;
	void *priv;			/* the transport's own state */
};

/* Each transport's constructor; the ops are then called through @ms->ops. */
int vcd_mship_kernel_new(uv_loop_t *loop, const struct vcd_mship_cb *cb,
			 struct vcd_mship **ret);
int vcd_mship_user_new(uv_loop_t *loop, const struct vcd_mship_cb *cb,
		       struct vcd_mship **ret);

/* Whether the vcluster module's family is registered (transport = auto). */
bool vcd_mship_kernel_available(void);

/* CLOCK_BOOTTIME now, in ns. */
uint64_t vcd_now_ns(void);
/* CLOCK_REALTIME in ms since the epoch: for records people read and for
 * times replicas compare (failures, fence records), never for timeouts. */
int64_t vcd_wall_ms(void);

#endif /* VCD_MSHIP_H */
