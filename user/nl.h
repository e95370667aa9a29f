/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The vcluster generic netlink family over libnl-genl-3: requests with
 * extended ACK messages captured, dumps, and the events multicast group.
 */
#ifndef VC_NL_H
#define VC_NL_H

#include <stdint.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

struct vc_nl;

/* Called for each reply message; return 0 or a negative errno to stop. */
typedef int (*vc_nl_reply_fn)(struct nl_msg *msg, void *arg);

/*
 * Connect and resolve the family.  -ENOENT when the family "vcluster" is
 * not registered (module not loaded), other negative errno otherwise.
 */
int vc_nl_open(struct vc_nl **ret);
void vc_nl_close(struct vc_nl *nl);

/* A request for @cmd with @flags (NLM_F_DUMP, ...); NULL on ENOMEM. */
struct nl_msg *vc_nl_msg_new(struct vc_nl *nl, uint8_t cmd, int flags);

/*
 * Send @msg (always consumed), call @reply for each reply, wait for the
 * ACK or the end of the dump.  Returns 0 or the kernel's negative errno;
 * then vc_nl_extack() has the kernel's message, if any.
 */
int vc_nl_request(struct vc_nl *nl, struct nl_msg *msg, vc_nl_reply_fn reply,
		  void *arg);

/* Kernel extack text of the last failed request, "" if none. */
const char *vc_nl_extack(const struct vc_nl *nl);
/* Which attribute the kernel pointed at ("VC_A_LINK_ADDR4 in VC_A_PEER_LINK"), "" if none. */
const char *vc_nl_extack_attr(const struct vc_nl *nl);

/* Join the "events" multicast group; then poll vc_nl_fd() and call
 * vc_nl_recv_events() when readable. */
int vc_nl_subscribe_events(struct vc_nl *nl);
int vc_nl_fd(const struct vc_nl *nl);
/* Receive what is queued, calling @fn per message.  -ENOBUFS: events lost. */
int vc_nl_recv_events(struct vc_nl *nl, vc_nl_reply_fn fn, void *arg);

/* Convert a libnl error (NLE_*, positive or negative) to a negative errno. */
int vc_nl_errno(int nl_err);

#endif /* VC_NL_H */
