/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Request bodies for the vcluster family, exactly as the uapi header
 * says: u32 ids, u16 ports, u64 incarnation, VC_A_LINK_ADDR4 as 4 bytes
 * in network order, VC_A_LINK_ADDR6 as 16 bytes, one VC_A_NODE_LINK /
 * VC_A_PEER_LINK nest per link.
 */
#ifndef VC_MSG_H
#define VC_MSG_H

#include <netlink/msg.h>

#include "config.h"

/* NODE_SET attributes for the fields set in @c; 0 or -EMSGSIZE. */
int vc_msg_put_node(struct nl_msg *msg, const struct vc_node_cfg *c);
/* PEER_ADD / PEER_SET attributes; 0 or -EMSGSIZE. */
int vc_msg_put_peer(struct nl_msg *msg, const struct vc_peer_cfg *c);

#endif /* VC_MSG_H */
