/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Request bodies for the vcluster family, exactly as the uapi header
 * says: u32 ids, u16 ports, u64 incarnation, VC_A_LINK_ADDR4 as 4 bytes
 * in network order, VC_A_LINK_ADDR6 as 16 bytes, one VC_A_NODE_LINK /
 * VC_A_PEER_LINK nest per link; u32 for flags and 0/1 values, u64
 * START_TIME, the key value as 32 bytes of binary.
 */
#ifndef VC_MSG_H
#define VC_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include <netlink/msg.h>

#include "config.h"

/* NODE_SET attributes for the fields set in @c; 0 or -EMSGSIZE. */
int vc_msg_put_node(struct nl_msg *msg, const struct vc_node_cfg *c);
/* PEER_ADD / PEER_SET attributes; 0 or -EMSGSIZE. */
int vc_msg_put_peer(struct nl_msg *msg, const struct vc_peer_cfg *c);
/* FENCE_ARM: VC_A_NODE_FENCE_ACTION etc. (u32 each, NOWAYOUT 0/1). */
int vc_msg_put_fence(struct nl_msg *msg, const struct vc_fence_cfg *c);
/* PROC_ADD / PROC_DEL: VC_A_PROC_PID (u32), START_TIME (u64) for ADD. */
int vc_msg_put_proc(struct nl_msg *msg, uint32_t pid, bool with_start,
		    uint64_t start_time);
/* KEY_SET / KEY_DEL: VC_A_KEY_ID (u32), VALUE (32 bytes), PRIMARY (u32). */
int vc_msg_put_key(struct nl_msg *msg, uint32_t id, const uint8_t *value,
		   bool with_primary, bool primary);

#endif /* VC_MSG_H */
