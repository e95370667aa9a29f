/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * vclusterctl's side of the agent's control socket (newline-delimited JSON,
 * Documentation/agent-protocol.rst): a small blocking client, and the
 * subcommands that use it (status, node list|standby|unstandby|maintenance|
 * confirm-fenced, resource add|remove|list|show|update|enable|disable|
 * maintenance|move|clear|cleanup, cluster bootstrap|join|leave|maintenance|
 * set, watch, history).
 *
 * The client part depends on jansson only, so the agent's tests drive
 * the server with it.  Functions return 0 or a negative errno.
 */
#ifndef VC_AGENTCTL_H
#define VC_AGENTCTL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define VC_AGENT_SOCKET_DEFAULT	"/run/vcluster/vclusterd.sock"
#define VC_AGENT_SOCKET_ENV	"VCLUSTER_SOCKET"
#define VC_EXIT_NO_AGENT	3	/* the agent cannot be reached (vclusterctl.8) */

struct vc_actl;

/* @path, else $VCLUSTER_SOCKET, else the default. */
const char *vc_actl_path(const char *path);

int vc_actl_connect(const char *path, struct vc_actl **ret);
void vc_actl_close(struct vc_actl *a);	/* NULL allowed */
int vc_actl_fd(const struct vc_actl *a);

/* Send {"id":N,"cmd":@cmd,"args":@args}; @args is stolen (NULL: none).
 * *ret_id (may be NULL) is the request's id. */
int vc_actl_send(struct vc_actl *a, const char *cmd, json_t *args, json_int_t *ret_id);
/* Send bytes as they are (tests: malformed and oversize requests). */
int vc_actl_send_raw(struct vc_actl *a, const void *buf, size_t len);

/*
 * The next line from the agent (a reply or an event), parsed.  @timeout_ms
 * < 0 waits for ever.  -ETIMEDOUT, -ECONNRESET (the agent closed the
 * connection), -EBADMSG (not a JSON object), -EMSGSIZE, -EINTR (a signal).
 */
int vc_actl_recv(struct vc_actl *a, int timeout_ms, json_t **ret);

/* Send, then wait for the reply with the same id (events meanwhile are
 * dropped); *ret_reply is the whole reply object. */
int vc_actl_call(struct vc_actl *a, const char *cmd, json_t *args, int timeout_ms,
		 json_t **ret_reply);

/* ---- vclusterctl ---- */

/*
 * Take "-s PATH", "--socket PATH" and "--socket=PATH" out of @argv (in
 * place, like vc_take_common_flags); the socket is then used by every agent
 * subcommand.  Returns the new argc, or -1 after printing a usage error.
 */
int agent_take_socket_flag(int argc, char **argv);

struct cmd_ctx;
int cmd_status(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_resource_add(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_resource_remove(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_resource_list(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_resource_show(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_resource_update(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_resource_enable(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_resource_disable(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_resource_maintenance(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_resource_move(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_resource_clear(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_resource_cleanup(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_node_list(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_node_standby(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_node_unstandby(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_node_maintenance(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_node_confirm_fenced(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_cluster_bootstrap(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_cluster_join(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_cluster_leave(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_cluster_maintenance(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_cluster_set(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_watch(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_history(struct cmd_ctx *ctx, int argc, char **argv);

#endif /* VC_AGENTCTL_H */
