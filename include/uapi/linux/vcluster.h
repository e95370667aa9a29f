/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * vcluster: heartbeat membership for hypervisor clusters.
 *
 * This header is the contract between vcluster.ko, user space and any
 * other implementation of the wire protocol.  It holds two things:
 *
 *  1. The generic netlink family "vcluster" (version VC_GENL_VERSION).
 *     Documentation/netlink/specs/vcluster.yaml describes the same family
 *     for the kernel's ynl tooling; tools/spec-check verifies the two agree.
 *
 *  2. The UDP heartbeat wire format (VC_WIRE_*), which a user-space
 *     transport follows byte for byte.  Documentation/protocol.rst explains
 *     the rules that go with it.
 *
 * Commands and their attributes
 * -----------------------------
 *
 * All commands act on the instance of the caller's network namespace.
 * Commands that change state need CAP_NET_ADMIN over that namespace.
 *
 * VC_CMD_NODE_GET: reply carries the VC_A_NODE_* attributes below.
 *
 * VC_CMD_NODE_SET: any of
 *	VC_A_NODE_CLUSTER_ID, VC_A_NODE_NODE_ID, VC_A_NODE_VOTES,
 *	VC_A_NODE_PORT, VC_A_NODE_INCARNATION, VC_A_NODE_LINK (repeated,
 *	each a nest of VC_A_LINK_ID plus VC_A_LINK_ADDR4 or VC_A_LINK_ADDR6;
 *	the set replaces all local links)
 *	-- these only while the instance is stopped --
 *	VC_A_NODE_INTERVAL_MS, VC_A_NODE_MISSES, VC_A_NODE_PAYLOAD
 *	-- these at any time --
 *
 * VC_CMD_START / VC_CMD_STOP: no attributes (VC_A_NODE_INCARNATION may be
 *	given to START).  START needs cluster id, node id and at least one
 *	local link.  Each START must use an incarnation higher than the
 *	previous one of this instance; without one the kernel picks
 *	max(previous + 1, wall-clock seconds).
 *
 * VC_CMD_PEER_ADD / VC_CMD_PEER_SET:
 *	VC_A_PEER_NODE_ID (required), VC_A_PEER_VOTES,
 *	VC_A_PEER_LINK (repeated nest: VC_A_LINK_ID, VC_A_LINK_ADDR4 or
 *	VC_A_LINK_ADDR6, optional VC_A_LINK_PORT; on SET the set replaces
 *	all links of that peer)
 *
 * VC_CMD_PEER_DEL: VC_A_PEER_NODE_ID.
 *
 * VC_CMD_PEER_GET: do with VC_A_PEER_NODE_ID, or dump.  Replies carry the
 *	VC_A_PEER_* attributes with one VC_A_PEER_LINK nest per link holding
 *	its state and counters.
 *
 * VC_CMD_EVENT: sent on the "events" multicast group, VC_A_EVENT_*.
 *
 * Quorum: VC_A_NODE_EXPECTED_VOTES (odd) and the votes of the node and of
 *	each peer (VC_A_NODE_VOTES, VC_A_PEER_VOTES) are set with NODE_SET and
 *	PEER_ADD/SET.  NODE_GET reports VOTES_SEEN, QUORATE, QUORATE_UNTIL_NS.
 *
 * VC_CMD_FENCE_ARM: VC_A_NODE_FENCE_ACTION (required), AGENT_TIMEOUT_MS,
 *	QUORUM_TIMEOUT_MS, KILL_BOUND_MS, PRETIMEOUT_MS, NOWAYOUT.  The
 *	instance must be running.  Arming counts as the first pet and starts
 *	"quorate until" at now + quorum timeout.
 * VC_CMD_FENCE_PET / VC_CMD_FENCE_DISARM: no attributes.
 *
 * VC_CMD_PROC_ADD / VC_CMD_PROC_DEL: VC_A_PROC_PID and, for ADD,
 *	VC_A_PROC_START_TIME: a process the "kill" action kills.  The kernel
 *	holds a reference to the process's struct pid, so a PID reused later
 *	is never hit; the start time proves the PID had not already been
 *	reused when the request was made.
 * VC_CMD_PROC_GET: dump of VC_A_PROC_PID of processes still alive.
 *
 * VC_CMD_KEY_SET: VC_A_KEY_ID, VC_A_KEY_VALUE, VC_A_KEY_PRIMARY.  At most
 *	two keys: during a rotation both are accepted and the primary one
 *	signs.  Key values are never reported back.
 * VC_CMD_KEY_DEL: VC_A_KEY_ID (not the primary while running).
 * NODE_GET lists the keys as VC_A_NODE_KEY nests of VC_A_KEY_ID and
 *	VC_A_KEY_PRIMARY.
 *
 * All timestamps (_NS) are CLOCK_BOOTTIME nanoseconds of the kernel that
 * reports them.
 */
#ifndef _UAPI_LINUX_VCLUSTER_H
#define _UAPI_LINUX_VCLUSTER_H

#include <linux/types.h>

#define VC_GENL_NAME		"vcluster"
#define VC_GENL_VERSION		1
#define VC_GENL_MCGRP_EVENTS	"events"

/* Limits shared by the kernel, user space and the wire format. */
#define VC_MAX_PEERS		64
#define VC_MAX_LINKS		8
#define VC_MAX_PAYLOAD		64
#define VC_DEFAULT_PORT		5420

enum vc_cmd {
	VC_CMD_UNSPEC,
	VC_CMD_NODE_GET,
	VC_CMD_NODE_SET,
	VC_CMD_START,
	VC_CMD_STOP,
	VC_CMD_PEER_ADD,
	VC_CMD_PEER_SET,
	VC_CMD_PEER_DEL,
	VC_CMD_PEER_GET,
	VC_CMD_EVENT,
	VC_CMD_FENCE_ARM,
	VC_CMD_FENCE_PET,
	VC_CMD_FENCE_DISARM,
	VC_CMD_PROC_ADD,
	VC_CMD_PROC_DEL,
	VC_CMD_PROC_GET,
	VC_CMD_KEY_SET,
	VC_CMD_KEY_DEL,

	__VC_CMD_MAX
};

#define VC_CMD_MAX (__VC_CMD_MAX - 1)

/* State of the local instance. */
enum vc_node_state {
	VC_NODE_STATE_UNSPEC,
	VC_NODE_STATE_STOPPED,
	VC_NODE_STATE_RUNNING,

	__VC_NODE_STATE_MAX
};

/*
 * State of a peer as seen by one node.  Also carried on the wire in each
 * membership entry, where it is the sender's view of that member.
 */
enum vc_peer_state {
	VC_PEER_STATE_UNSPEC,
	VC_PEER_STATE_NEW,	/* configured, never heard in this life */
	VC_PEER_STATE_JOINING,	/* heard, but it does not list us yet */
	VC_PEER_STATE_UP,	/* heard, and it lists us as heard */
	VC_PEER_STATE_SUSPECT,	/* missed at least one interval */
	VC_PEER_STATE_DOWN,	/* silent for dead time, or it listed us DOWN */

	__VC_PEER_STATE_MAX
};

enum vc_link_state {
	VC_LINK_STATE_UNSPEC,
	VC_LINK_STATE_DOWN,
	VC_LINK_STATE_UP,

	__VC_LINK_STATE_MAX
};

enum vc_event_type {
	VC_EVENT_UNSPEC,
	VC_EVENT_PEER_JOINING,
	VC_EVENT_PEER_UP,
	VC_EVENT_PEER_SUSPECT,
	VC_EVENT_PEER_DOWN,
	VC_EVENT_LINK_UP,
	VC_EVENT_LINK_DOWN,
	VC_EVENT_NODE_STARTED,
	VC_EVENT_NODE_STOPPED,
	VC_EVENT_QUORUM_GAINED,
	VC_EVENT_QUORUM_LOST,
	VC_EVENT_FENCE_ARMED,
	VC_EVENT_FENCE_DISARMED,
	VC_EVENT_FENCE_PRETIMEOUT,
	VC_EVENT_FENCE_FIRED,
	VC_EVENT_FENCE_ESCALATED,

	__VC_EVENT_MAX
};

/* Why a peer went DOWN (VC_A_EVENT_REASON). */
enum vc_down_reason {
	VC_DOWN_REASON_UNSPEC,
	VC_DOWN_REASON_TIMEOUT,		/* silent on every link for dead time */
	VC_DOWN_REASON_DECLARED,	/* its heartbeat listed us DOWN */
	VC_DOWN_REASON_NEW_LIFE,	/* it came back with a higher incarnation */
	VC_DOWN_REASON_REMOVED,		/* deleted by configuration */
	VC_DOWN_REASON_STOPPED,		/* the local instance stopped */

	__VC_DOWN_REASON_MAX
};

/*
 * What the fencing watchdog does when it fires (VC_A_NODE_FENCE_ACTION,
 * and vc_wire_hdr.fence_action, where NONE means "not armed").
 */
enum vc_fence_action {
	VC_FENCE_ACTION_NONE,
	VC_FENCE_ACTION_LOG,		/* event and counter only (tests) */
	VC_FENCE_ACTION_KILL,		/* SIGKILL registered processes */
	VC_FENCE_ACTION_PANIC,
	VC_FENCE_ACTION_REBOOT,		/* emergency restart */

	__VC_FENCE_ACTION_MAX
};

/* Why the watchdog fired (VC_A_NODE_FENCE_REASON, VC_A_EVENT_FENCE_REASON). */
enum vc_fence_reason {
	VC_FENCE_REASON_UNSPEC,
	VC_FENCE_REASON_AGENT,		/* not petted for agent timeout */
	VC_FENCE_REASON_QUORUM,		/* checked past "quorate until" */
	VC_FENCE_REASON_DECLARED,	/* a peer listed us DOWN */
	VC_FENCE_REASON_STOPPED,	/* STOP while armed */
	VC_FENCE_REASON_NETNS_EXIT,	/* namespace torn down while armed */

	__VC_FENCE_REASON_MAX
};

enum vc_link_attrs {
	VC_A_LINK_UNSPEC,
	VC_A_LINK_PAD,
	VC_A_LINK_ID,			/* u32, 0 .. VC_MAX_LINKS - 1 */
	VC_A_LINK_ADDR4,		/* be32 */
	VC_A_LINK_ADDR6,		/* binary, 16 bytes */
	VC_A_LINK_PORT,			/* u16, peer links only */
	VC_A_LINK_STATE,		/* u32, enum vc_link_state */
	VC_A_LINK_LAST_HEARD_NS,	/* u64 */
	VC_A_LINK_RTT_US,		/* u32, smoothed */
	VC_A_LINK_TX_PACKETS,		/* u64 */
	VC_A_LINK_RX_PACKETS,		/* u64 */
	VC_A_LINK_LOST,			/* u64, gaps in the sequence */
	VC_A_LINK_MALFORMED,		/* u64 */
	VC_A_LINK_TX_ERRORS,		/* u64 */
	VC_A_LINK_BAD_MAC,		/* u64, failed authentication */

	__VC_A_LINK_MAX
};

#define VC_A_LINK_MAX (__VC_A_LINK_MAX - 1)

enum vc_node_attrs {
	VC_A_NODE_UNSPEC,
	VC_A_NODE_PAD,
	VC_A_NODE_CLUSTER_ID,		/* u32, not 0 */
	VC_A_NODE_NODE_ID,		/* u32, not 0 */
	VC_A_NODE_VOTES,		/* u32 */
	VC_A_NODE_PORT,			/* u16 */
	VC_A_NODE_INCARNATION,		/* u64 */
	VC_A_NODE_INTERVAL_MS,		/* u32 */
	VC_A_NODE_MISSES,		/* u32 */
	VC_A_NODE_DEAD_MS,		/* u32, read only: interval x misses */
	VC_A_NODE_PAYLOAD,		/* binary, at most VC_MAX_PAYLOAD */
	VC_A_NODE_LINK,			/* nest, repeated, VC_A_LINK_* */
	VC_A_NODE_STATE,		/* u32, enum vc_node_state */
	VC_A_NODE_SEQ,			/* u64, last heartbeat sequence sent */
	VC_A_NODE_PEERS,		/* u32, configured peers */
	VC_A_NODE_RX_MALFORMED,		/* u64 */
	VC_A_NODE_RX_FOREIGN,		/* u64, other cluster id */
	VC_A_NODE_RX_UNKNOWN,		/* u64, node id not configured */
	VC_A_NODE_RX_REFUSED,		/* u64, stale incarnation or sequence */
	VC_A_NODE_TX_ERRORS,		/* u64 */
	VC_A_NODE_EXPECTED_VOTES,	/* u32, odd; 0: no quorum */
	VC_A_NODE_VOTES_SEEN,		/* u32, read only */
	VC_A_NODE_QUORATE,		/* u32 0/1, read only */
	VC_A_NODE_QUORATE_UNTIL_NS,	/* u64, read only */
	VC_A_NODE_FENCE_ARMED,		/* u32 0/1, read only */
	VC_A_NODE_FENCE_ACTION,		/* u32, enum vc_fence_action */
	VC_A_NODE_AGENT_TIMEOUT_MS,	/* u32, 0: agent watchdog off */
	VC_A_NODE_QUORUM_TIMEOUT_MS,	/* u32, 0: quorum watchdog off */
	VC_A_NODE_KILL_BOUND_MS,	/* u32 */
	VC_A_NODE_PRETIMEOUT_MS,	/* u32, warn this long before */
	VC_A_NODE_NOWAYOUT,		/* u32 0/1: disarm always refused */
	VC_A_NODE_FENCE_MARGIN_MS,	/* u32, added to peers' windows */
	VC_A_NODE_FENCED,		/* u32 0/1, read only */
	VC_A_NODE_FENCE_REASON,		/* u32, enum vc_fence_reason, ro */
	VC_A_NODE_FENCED_AT_NS,		/* u64, read only */
	VC_A_NODE_LAST_PET_NS,		/* u64, read only */
	VC_A_NODE_FENCE_COUNT,		/* u64, times fired, read only */
	VC_A_NODE_PROCS,		/* u32, registered processes, ro */
	VC_A_NODE_INSECURE,		/* u32 0/1: may run without a key */
	VC_A_NODE_AUTH,			/* u32, enum vc_wire_auth in use, ro */
	VC_A_NODE_KEY,			/* nest, repeated, read only */
	VC_A_NODE_RX_BAD_MAC,		/* u64 */

	__VC_A_NODE_MAX
};

#define VC_A_NODE_MAX (__VC_A_NODE_MAX - 1)

enum vc_peer_attrs {
	VC_A_PEER_UNSPEC,
	VC_A_PEER_PAD,
	VC_A_PEER_NODE_ID,		/* u32 */
	VC_A_PEER_VOTES,		/* u32 */
	VC_A_PEER_LINK,			/* nest, repeated, VC_A_LINK_* */
	VC_A_PEER_STATE,		/* u32, enum vc_peer_state */
	VC_A_PEER_INCARNATION,		/* u64, of its current life */
	VC_A_PEER_LAST_HEARD_NS,	/* u64 */
	VC_A_PEER_STATE_SINCE_NS,	/* u64 */
	VC_A_PEER_RX_REFUSED,		/* u64 */
	VC_A_PEER_PAYLOAD,		/* binary, its latest payload */
	VC_A_PEER_FENCE_ACTION,		/* u32, advertised; NONE: unarmed */
	VC_A_PEER_DEAD_MS,		/* u32, advertised */
	VC_A_PEER_QUORUM_TIMEOUT_MS,	/* u32, advertised */
	VC_A_PEER_KILL_BOUND_MS,	/* u32, advertised */
	VC_A_PEER_FENCE_STRONG,		/* u32 0/1: kill, panic or reboot */
	VC_A_PEER_FENCED_BY_NS,		/* u64, our clock; 0 when unarmed */
	VC_A_PEER_WIRE_FLAGS,		/* u32, VC_WIRE_F_* of its latest heartbeat */

	__VC_A_PEER_MAX
};

#define VC_A_PEER_MAX (__VC_A_PEER_MAX - 1)

enum vc_event_attrs {
	VC_A_EVENT_UNSPEC,
	VC_A_EVENT_PAD,
	VC_A_EVENT_TYPE,		/* u32, enum vc_event_type */
	VC_A_EVENT_NODE_ID,		/* u32, the peer (or our own id) */
	VC_A_EVENT_LINK_ID,		/* u32, link events only */
	VC_A_EVENT_INCARNATION,		/* u64 */
	VC_A_EVENT_TIME_NS,		/* u64, when the change was decided */
	VC_A_EVENT_LAST_HEARD_NS,	/* u64 */
	VC_A_EVENT_REASON,		/* u32, enum vc_down_reason */
	VC_A_EVENT_FENCE_REASON,	/* u32, enum vc_fence_reason */
	VC_A_EVENT_VOTES_SEEN,		/* u32, quorum events */
	VC_A_EVENT_EXPECTED_VOTES,	/* u32, quorum events */
	VC_A_EVENT_DEADLINE_NS,		/* u64: quorate until / fenced by */

	__VC_A_EVENT_MAX
};

#define VC_A_EVENT_MAX (__VC_A_EVENT_MAX - 1)

enum vc_proc_attrs {
	VC_A_PROC_UNSPEC,
	VC_A_PROC_PAD,
	VC_A_PROC_PID,			/* u32, in the caller's namespace */
	VC_A_PROC_START_TIME,		/* u64, /proc/PID/stat field 22 */

	__VC_A_PROC_MAX
};

#define VC_A_PROC_MAX (__VC_A_PROC_MAX - 1)

#define VC_KEY_LEN		32

enum vc_key_attrs {
	VC_A_KEY_UNSPEC,
	VC_A_KEY_ID,			/* u32, 1 .. 255 */
	VC_A_KEY_VALUE,			/* binary, VC_KEY_LEN, write only */
	VC_A_KEY_PRIMARY,		/* u32 0/1: the key we send with */

	__VC_A_KEY_MAX
};

#define VC_A_KEY_MAX (__VC_A_KEY_MAX - 1)

/*
 * Wire format, version 1.  One UDP datagram per heartbeat, per peer, per
 * link.  All fields are big-endian.  Layout:
 *
 *	struct vc_wire_hdr
 *	struct vc_wire_member	[n_members]
 *	__u8			payload[payload_len]
 *	__u8			mac[VC_WIRE_MAC_LEN]	(auth != NONE only)
 *
 * A receiver drops (and counts) a datagram whose magic, version, lengths or
 * cluster id do not match, and ignores fields it does not know within
 * hdr_len, so a later version may append fields to the header.
 */
#define VC_WIRE_MAGIC		0x56434842	/* "VCHB" */
#define VC_WIRE_VERSION		1
#define VC_WIRE_MAC_LEN		32

enum vc_wire_type {
	VC_WIRE_TYPE_UNSPEC,
	VC_WIRE_TYPE_HEARTBEAT,

	__VC_WIRE_TYPE_MAX
};

enum vc_wire_auth {
	VC_WIRE_AUTH_NONE,
	VC_WIRE_AUTH_BLAKE2S,	/* keyed BLAKE2s-256 (RFC 7693), 32-byte tag */

	__VC_WIRE_AUTH_MAX
};

/* vc_wire_hdr.flags */
#define VC_WIRE_F_ARMED		0x0001	/* sender's fencing watchdog armed */
#define VC_WIRE_F_QUORATE	0x0002	/* sender quorate (advisory) */
#define VC_WIRE_F_USER_FENCE	0x0004	/* fencing by a user-space fencer */

struct vc_wire_hdr {
	__be32 magic;
	__u8   version;
	__u8   type;		/* enum vc_wire_type */
	__u8   link_id;		/* link this datagram was sent on */
	__u8   auth;		/* enum vc_wire_auth */
	__be16 hdr_len;		/* sizeof(struct vc_wire_hdr) for v1 */
	__be16 n_members;	/* membership entries that follow */
	__be16 payload_len;	/* <= VC_MAX_PAYLOAD */
	__be16 flags;		/* VC_WIRE_F_* */
	__be32 cluster_id;
	__be32 node_id;		/* sender */
	__be32 dest_node_id;	/* the peer this copy is addressed to */
	__be32 interval_ms;	/* sender's heartbeat interval */
	__be64 incarnation;	/* sender's life; only ever grows */
	__be64 seq;		/* per sender and life, +1 per interval */
	__be64 tx_time_ns;	/* sender's clock; only ever echoed */
	__be64 echo_time_ns;	/* dest's tx_time_ns last seen on this link */
	__be32 echo_held_us;	/* how long the sender held that echo */
	__be32 dead_ms;		/* sender's interval x misses */
	__be32 quorum_timeout_ms; /* sender's, 0 when unarmed */
	__be32 kill_bound_ms;	/* sender's, 0 when unarmed */
	__u8   fence_action;	/* enum vc_fence_action, NONE: unarmed */
	__u8   key_id;		/* key the MAC was made with, 0: none */
	__u8   reserved[6];
};	/* 88 bytes, no padding */

struct vc_wire_member {
	__be32 node_id;
	__u8   state;		/* enum vc_peer_state, the sender's view */
	__u8   reserved[3];
	__be64 incarnation;	/* of the life the state refers to */
};	/* 16 bytes */

#endif /* _UAPI_LINUX_VCLUSTER_H */
