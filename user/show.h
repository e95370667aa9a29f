/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Parse NODE_GET and PEER_GET replies and print them for people or as
 * JSON.  Ages are computed against @now_ns (CLOCK_BOOTTIME).
 */
#ifndef VC_SHOW_H
#define VC_SHOW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <netlink/msg.h>

#include "json.h"

/* One NODE_GET reply; JSON is one document and a newline. */
void vc_show_node(FILE *f, struct nl_msg *msg, bool json, uint64_t now_ns);
/* One PEER_GET reply; with @j an object into that writer, else text. */
void vc_show_peer(FILE *f, struct vc_json *j, struct nl_msg *msg, uint64_t now_ns);
/* The fencing part of a NODE_GET reply, with the registered @pids. */
void vc_show_fence(FILE *f, struct nl_msg *msg, bool json, uint64_t now_ns,
		   const uint32_t *pids, size_t n_pids);
/* Key ids (and which is primary) of a NODE_GET reply; never values. */
void vc_show_keys(FILE *f, struct nl_msg *msg, bool json);

#endif /* VC_SHOW_H */
