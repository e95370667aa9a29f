// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Configure the kernel's instance from a config file.  See apply.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <linux/vcluster.h>
#include <netlink/genl/genl.h>

#include "apply.h"
#include "msg.h"

typedef int (*build_fn)(struct nl_msg *msg, const void *arg);

/* One request whose body @build writes (NULL: no attributes). */
static int request(struct vc_nl *nl, uint8_t cmd, int flags, build_fn build,
		   const void *arg, vc_nl_reply_fn reply, void *reply_arg)
{
	struct nl_msg *msg = vc_nl_msg_new(nl, cmd, flags);

	if (!msg)
		return -ENOMEM;
	if (build && build(msg, arg) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return vc_nl_request(nl, msg, reply, reply_arg);
}

static int build_node(struct nl_msg *msg, const void *arg)
{
	return vc_msg_put_node(msg, arg);
}

static int build_peer(struct nl_msg *msg, const void *arg)
{
	return vc_msg_put_peer(msg, arg);
}

static int build_peer_id(struct nl_msg *msg, const void *arg)
{
	return nla_put_u32(msg, VC_A_PEER_NODE_ID, *(const uint32_t *)arg);
}

static int build_fence(struct nl_msg *msg, const void *arg)
{
	return vc_msg_put_fence(msg, arg);
}

static int build_incarnation(struct nl_msg *msg, const void *arg)
{
	return nla_put_u64(msg, VC_A_NODE_INCARNATION, *(const uint64_t *)arg);
}

struct key_arg {
	uint32_t id;
	const uint8_t *value;
};

static int build_key(struct nl_msg *msg, const void *arg)
{
	const struct key_arg *k = arg;

	return vc_msg_put_key(msg, k->id, k->value, true, true);
}

int vc_apply_node(struct vc_nl *nl, const struct vc_config *cfg, unsigned int mask,
		  const char *file, char *where, size_t where_size)
{
	struct vc_node_cfg *node;
	int r = 0;

	if (!cfg->has_node || !(cfg->node.set & mask))
		return 0;
	node = malloc(sizeof(*node));
	if (!node)
		return -ENOMEM;
	*node = cfg->node;
	node->set &= mask;
	r = request(nl, VC_CMD_NODE_SET, 0, build_node, node, NULL, NULL);
	free(node);
	if (r < 0)
		snprintf(where, where_size, "%s: [node]", file);
	return r;
}

int vc_apply_key(struct vc_nl *nl, uint32_t id, const uint8_t *key, char *where,
		 size_t where_size)
{
	struct key_arg k = { .id = id, .value = key };
	int r;

	r = request(nl, VC_CMD_KEY_SET, 0, build_key, &k, NULL, NULL);
	if (r < 0)
		snprintf(where, where_size, "key %u", id);
	return r;
}

struct peer_ids {
	size_t n;
	uint32_t ids[VC_MAX_PEERS * 2];
};

static int peer_id_reply(struct nl_msg *msg, void *arg)
{
	struct nlattr *a = nlmsg_find_attr(nlmsg_hdr(msg), GENL_HDRLEN, VC_A_PEER_NODE_ID);
	struct peer_ids *p = arg;

	if (a && p->n < sizeof(p->ids) / sizeof(p->ids[0]))
		p->ids[p->n++] = nla_get_u32(a);
	return 0;
}

static bool in_config(const struct vc_config *cfg, uint32_t node_id)
{
	size_t i;

	for (i = 0; i < cfg->n_peers; i++)
		if (cfg->peers[i].node_id == node_id)
			return true;
	return false;
}

static bool in_ids(const struct peer_ids *p, uint32_t node_id)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->ids[i] == node_id)
			return true;
	return false;
}

static int delete_stale_peers(struct vc_nl *nl, const struct vc_config *cfg,
			      struct peer_ids *have, char *where, size_t where_size)
{
	size_t i;
	int r;

	r = request(nl, VC_CMD_PEER_GET, NLM_F_DUMP, NULL, NULL, peer_id_reply, have);
	if (r < 0) {
		snprintf(where, where_size, "listing peers");
		return r;
	}
	for (i = 0; i < have->n; i++) {
		if (in_config(cfg, have->ids[i]))
			continue;
		r = request(nl, VC_CMD_PEER_DEL, 0, build_peer_id, &have->ids[i], NULL, NULL);
		if (r < 0) {
			snprintf(where, where_size, "deleting peer %u", have->ids[i]);
			return r;
		}
	}
	return 0;
}

int vc_apply_peers(struct vc_nl *nl, const struct vc_config *cfg, const char *file,
		   char *where, size_t where_size)
{
	struct peer_ids *have = calloc(1, sizeof(*have));
	size_t i;
	int r;

	if (!have)
		return -ENOMEM;
	r = delete_stale_peers(nl, cfg, have, where, where_size);
	for (i = 0; r == 0 && i < cfg->n_peers; i++) {
		const struct vc_peer_cfg *p = &cfg->peers[i];
		uint8_t cmd = in_ids(have, p->node_id) ? VC_CMD_PEER_SET : VC_CMD_PEER_ADD;

		r = request(nl, cmd, 0, build_peer, p, NULL, NULL);
		if (r < 0)
			snprintf(where, where_size, "%s:%u: [peer %u]", file, p->line, p->node_id);
	}
	free(have);
	return r;
}

int vc_apply_start(struct vc_nl *nl, uint64_t incarnation, char *where, size_t where_size)
{
	int r;

	r = request(nl, VC_CMD_START, 0, incarnation ? build_incarnation : NULL,
		    &incarnation, NULL, NULL);
	if (r < 0)
		snprintf(where, where_size, "start");
	return r;
}

int vc_apply_arm(struct vc_nl *nl, const struct vc_config *cfg, const char *file,
		 char *where, size_t where_size)
{
	int r;

	if (!cfg->has_fence) {
		snprintf(where, where_size, "%s: no [fence] section", file);
		return -EINVAL;
	}
	r = request(nl, VC_CMD_FENCE_ARM, 0, build_fence, &cfg->fence, NULL, NULL);
	if (r < 0)
		snprintf(where, where_size, "%s:%u: [fence]", file, cfg->fence_line);
	return r;
}
