// SPDX-License-Identifier: GPL-2.0 OR MIT
/* The vcluster generic netlink family over libnl-genl-3.  See nl.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <linux/vcluster.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct vc_nl {
	struct nl_sock *sk;
	int family_id;
	struct nl_msg *sent;		/* request being answered, for extack offsets */
	char extack[256];
	char extack_attr[128];
};

/* One request in flight. */
struct vc_nl_req {
	struct vc_nl *nl;
	vc_nl_reply_fn reply;
	void *arg;
	int err;
	bool done;
};

int vc_nl_errno(int nl_err)
{
	static const struct { int nle, err; } map[] = {
		{ NLE_NOMEM, ENOMEM }, { NLE_PERM, EPERM },
		{ NLE_OBJ_NOTFOUND, ENOENT }, { NLE_AGAIN, EAGAIN },
		{ NLE_INTR, EINTR }, { NLE_BAD_SOCK, EBADF },
		{ NLE_MSGSIZE, EMSGSIZE }, { NLE_INVAL, EINVAL },
		{ NLE_NOACCESS, EACCES }, { NLE_OPNOTSUPP, EOPNOTSUPP },
		{ NLE_AF_NOSUPPORT, EAFNOSUPPORT }, { NLE_EXIST, EEXIST },
		{ NLE_RANGE, ERANGE }, { NLE_BUSY, EBUSY },
		{ NLE_PROTO_MISMATCH, EPROTONOSUPPORT }, { NLE_MSG_TRUNC, EMSGSIZE },
		{ NLE_NODEV, ENODEV }, { NLE_IMMUTABLE, EROFS },
	};
	size_t i;

	if (nl_err < 0)
		nl_err = -nl_err;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].nle == nl_err)
			return -map[i].err;
	return -EIO;
}

/* ---- extack offset -> attribute name ---- */

static const char *const node_attr_names[] = {
	[VC_A_NODE_CLUSTER_ID] = "VC_A_NODE_CLUSTER_ID", [VC_A_NODE_NODE_ID] = "VC_A_NODE_NODE_ID",
	[VC_A_NODE_VOTES] = "VC_A_NODE_VOTES", [VC_A_NODE_PORT] = "VC_A_NODE_PORT",
	[VC_A_NODE_INCARNATION] = "VC_A_NODE_INCARNATION",
	[VC_A_NODE_INTERVAL_MS] = "VC_A_NODE_INTERVAL_MS", [VC_A_NODE_MISSES] = "VC_A_NODE_MISSES",
	[VC_A_NODE_PAYLOAD] = "VC_A_NODE_PAYLOAD", [VC_A_NODE_LINK] = "VC_A_NODE_LINK",
	[VC_A_NODE_EXPECTED_VOTES] = "VC_A_NODE_EXPECTED_VOTES",
	[VC_A_NODE_FENCE_ACTION] = "VC_A_NODE_FENCE_ACTION",
	[VC_A_NODE_AGENT_TIMEOUT_MS] = "VC_A_NODE_AGENT_TIMEOUT_MS",
	[VC_A_NODE_QUORUM_TIMEOUT_MS] = "VC_A_NODE_QUORUM_TIMEOUT_MS",
	[VC_A_NODE_KILL_BOUND_MS] = "VC_A_NODE_KILL_BOUND_MS",
	[VC_A_NODE_PRETIMEOUT_MS] = "VC_A_NODE_PRETIMEOUT_MS",
	[VC_A_NODE_NOWAYOUT] = "VC_A_NODE_NOWAYOUT",
	[VC_A_NODE_FENCE_MARGIN_MS] = "VC_A_NODE_FENCE_MARGIN_MS",
	[VC_A_NODE_INSECURE] = "VC_A_NODE_INSECURE",
};

static const char *const proc_attr_names[] = {
	[VC_A_PROC_PID] = "VC_A_PROC_PID", [VC_A_PROC_START_TIME] = "VC_A_PROC_START_TIME",
};

static const char *const key_attr_names[] = {
	[VC_A_KEY_ID] = "VC_A_KEY_ID", [VC_A_KEY_VALUE] = "VC_A_KEY_VALUE",
	[VC_A_KEY_PRIMARY] = "VC_A_KEY_PRIMARY",
};

static const char *const peer_attr_names[] = {
	[VC_A_PEER_NODE_ID] = "VC_A_PEER_NODE_ID", [VC_A_PEER_VOTES] = "VC_A_PEER_VOTES",
	[VC_A_PEER_LINK] = "VC_A_PEER_LINK",
};

static const char *const link_attr_names[] = {
	[VC_A_LINK_ID] = "VC_A_LINK_ID", [VC_A_LINK_ADDR4] = "VC_A_LINK_ADDR4",
	[VC_A_LINK_ADDR6] = "VC_A_LINK_ADDR6", [VC_A_LINK_PORT] = "VC_A_LINK_PORT",
};

static void attr_name(char *buf, size_t size, const char *const *names, size_t n,
		      int type)
{
	if (type >= 0 && (size_t)type < n && names[type])
		snprintf(buf, size, "%s", names[type]);
	else
		snprintf(buf, size, "attribute %d", type);
}

#define ATTR_NAME(buf, table, type) \
	attr_name(buf, sizeof(buf), table, sizeof(table) / sizeof(table[0]), type)

/* The name of top-level attribute @type of a request for @cmd. */
static void top_attr_name(char *buf, size_t size, uint8_t cmd, int type)
{
	if (cmd >= VC_CMD_PEER_ADD && cmd <= VC_CMD_PEER_GET)
		attr_name(buf, size, peer_attr_names,
			  sizeof(peer_attr_names) / sizeof(peer_attr_names[0]), type);
	else if (cmd >= VC_CMD_PROC_ADD && cmd <= VC_CMD_PROC_GET)
		attr_name(buf, size, proc_attr_names,
			  sizeof(proc_attr_names) / sizeof(proc_attr_names[0]), type);
	else if (cmd == VC_CMD_KEY_SET || cmd == VC_CMD_KEY_DEL)
		attr_name(buf, size, key_attr_names,
			  sizeof(key_attr_names) / sizeof(key_attr_names[0]), type);
	else
		attr_name(buf, size, node_attr_names,
			  sizeof(node_attr_names) / sizeof(node_attr_names[0]), type);
}

/* Find the attribute that starts at byte @offs of our request. */
static void describe_offset(struct vc_nl *nl, uint32_t offs)
{
	struct nlmsghdr *nlh = nlmsg_hdr(nl->sent);
	struct genlmsghdr *gh = nlmsg_data(nlh);
	char outer[48], inner[48];
	struct nlattr *a, *b;
	int rem, rem2;

	nlmsg_for_each_attr(a, nlh, GENL_HDRLEN, rem) {
		uint32_t a_offs = (uint32_t)((char *)a - (char *)nlh);

		top_attr_name(outer, sizeof(outer), gh->cmd, nla_type(a));
		if (a_offs == offs) {
			snprintf(nl->extack_attr, sizeof(nl->extack_attr), "%s", outer);
			return;
		}
		if (offs < a_offs || offs >= a_offs + nla_len(a) + NLA_HDRLEN)
			continue;
		nla_for_each_nested(b, a, rem2) {
			if ((uint32_t)((char *)b - (char *)nlh) != offs)
				continue;
			ATTR_NAME(inner, link_attr_names, nla_type(b));
			snprintf(nl->extack_attr, sizeof(nl->extack_attr), "%s in %s",
				 inner, outer);
			return;
		}
	}
}

static void describe_missing(struct vc_nl *nl, uint32_t type, bool nested)
{
	char name[48];

	if (nested)
		ATTR_NAME(name, link_attr_names, (int)type);
	else
		top_attr_name(name, sizeof(name),
			      ((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(nl->sent)))->cmd,
			      (int)type);
	snprintf(nl->extack_attr, sizeof(nl->extack_attr), "missing %s", name);
}

/* Read the NLMSGERR_ATTR_* TLVs that follow an error or DONE payload. */
static void parse_ack_tlvs(struct vc_nl *nl, struct nlattr *tlvs, int len)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];

	if (len <= 0 || nla_parse(tb, NLMSGERR_ATTR_MAX, tlvs, len, NULL) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(nl->extack, sizeof(nl->extack), "%.*s",
			 nla_len(tb[NLMSGERR_ATTR_MSG]),
			 (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	if (tb[NLMSGERR_ATTR_OFFS] && nl->sent)
		describe_offset(nl, nla_get_u32(tb[NLMSGERR_ATTR_OFFS]));
	if (tb[NLMSGERR_ATTR_MISS_TYPE] && nl->sent)
		describe_missing(nl, nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]),
				 tb[NLMSGERR_ATTR_MISS_NEST] != NULL);
	/* "foo\n" from some kernels: drop the newline */
	nl->extack[strcspn(nl->extack, "\n")] = '\0';
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct vc_nl_req *req = arg;
	size_t ack_len = NLMSG_HDRLEN + sizeof(*e);

	(void)who;
	req->err = e->error;
	req->done = true;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		ack_len += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (nlh->nlmsg_len > ack_len)
		parse_ack_tlvs(req->nl, (struct nlattr *)((char *)nlh + NLMSG_ALIGN(ack_len)),
			       (int)(nlh->nlmsg_len - NLMSG_ALIGN(ack_len)));
	return NL_STOP;
}

static int on_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct vc_nl_req *req = arg;
	int *err = nlmsg_data(nlh);

	req->done = true;
	if (nlmsg_datalen(nlh) >= (int)sizeof(int) && *err < 0) {
		req->err = *err;
		if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
			parse_ack_tlvs(req->nl, (struct nlattr *)(err + 1),
				       nlmsg_datalen(nlh) - (int)sizeof(int));
	}
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct vc_nl_req *req = arg;

	(void)msg;
	req->done = true;
	return NL_STOP;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct vc_nl_req *req = arg;
	int r;

	if (!req->reply || req->err < 0)
		return NL_SKIP;
	r = req->reply(msg, req->arg);
	if (r < 0)
		req->err = r;	/* keep reading to the end of the dump */
	return NL_SKIP;
}

static struct nl_cb *request_cb(struct vc_nl_req *req)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);

	if (!cb)
		return NULL;
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, req);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, req);
	return cb;
}

int vc_nl_request(struct vc_nl *nl, struct nl_msg *msg, vc_nl_reply_fn reply,
		  void *arg)
{
	struct vc_nl_req req = { .nl = nl, .reply = reply, .arg = arg };
	struct nl_cb *cb;
	int r;

	nl->extack[0] = nl->extack_attr[0] = '\0';
	cb = request_cb(&req);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl->sent = msg;
	r = nl_send_auto(nl->sk, msg);
	while (r >= 0 && !req.done) {
		r = nl_recvmsgs(nl->sk, cb);
		if (r == -NLE_DUMP_INTR)
			req.err = -EINTR;
	}
	nl->sent = NULL;
	nlmsg_free(msg);
	nl_cb_put(cb);
	if (req.err < 0)
		return req.err;
	return r < 0 ? vc_nl_errno(r) : 0;
}

struct nl_msg *vc_nl_msg_new(struct vc_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family_id, 0, flags,
			 cmd, VC_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static void enable_ext_ack(struct nl_sock *sk)
{
	int one = 1;

	/* Best effort: old kernels simply send no messages. */
	(void)setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK,
			 &one, sizeof(one));
	(void)setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK,
			 &one, sizeof(one));
}

int vc_nl_open(struct vc_nl **ret)
{
	struct vc_nl *nl;
	int r;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		vc_nl_close(nl);
		return -ENOMEM;
	}
	r = genl_connect(nl->sk);
	if (r < 0)
		goto fail;
	enable_ext_ack(nl->sk);
	nl_socket_enable_msg_peek(nl->sk);
	r = genl_ctrl_resolve(nl->sk, VC_GENL_NAME);
	if (r < 0)
		goto fail;
	nl->family_id = r;
	*ret = nl;
	return 0;
fail:
	vc_nl_close(nl);
	return r == -NLE_OBJ_NOTFOUND ? -ENOENT : vc_nl_errno(r);
}

void vc_nl_close(struct vc_nl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

const char *vc_nl_extack(const struct vc_nl *nl)
{
	return nl->extack;
}

const char *vc_nl_extack_attr(const struct vc_nl *nl)
{
	return nl->extack_attr;
}

int vc_nl_subscribe_events(struct vc_nl *nl)
{
	int grp, r;

	grp = genl_ctrl_resolve_grp(nl->sk, VC_GENL_NAME, VC_GENL_MCGRP_EVENTS);
	if (grp < 0)
		return grp == -NLE_OBJ_NOTFOUND ? -ENOENT : vc_nl_errno(grp);
	nl_socket_disable_seq_check(nl->sk);
	(void)nl_socket_set_buffer_size(nl->sk, 4 << 20, 0);
	r = nl_socket_add_membership(nl->sk, grp);
	return r < 0 ? vc_nl_errno(r) : 0;
}

int vc_nl_fd(const struct vc_nl *nl)
{
	return nl_socket_get_fd(nl->sk);
}

/* Multicast notifications carry sequence number 0: accept every one. */
static int accept_any_seq(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

int vc_nl_recv_events(struct vc_nl *nl, vc_nl_reply_fn fn, void *arg)
{
	struct vc_nl_req req = { .nl = nl, .reply = fn, .arg = arg };
	struct nl_cb *cb;
	int r;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &req);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, accept_any_seq, NULL);
	r = nl_recvmsgs(nl->sk, cb);
	nl_cb_put(cb);
	if (req.err < 0)
		return req.err;
	if (r == -NLE_NOMEM)
		return -ENOBUFS;	/* libnl reports ENOBUFS (overrun) as NOMEM */
	return r < 0 ? vc_nl_errno(r) : 0;
}
