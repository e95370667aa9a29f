/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* vclusterctl internals shared between its source files. */
#ifndef VCLUSTERCTL_H
#define VCLUSTERCTL_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "nl.h"

/* Exit codes, documented in vclusterctl.8. */
enum vc_exit {
	VC_EXIT_OK		= 0,	/* success */
	VC_EXIT_FAILURE		= 1,	/* the kernel (or the system) refused */
	VC_EXIT_USAGE		= 2,	/* bad arguments or config file */
	VC_EXIT_NO_MODULE	= 3,	/* family "vcluster" not registered */
	/* 4 is never used: it means "skipped" to kselftest scripts */
	VC_EXIT_TIMEOUT		= 5,	/* monitor --timeout before --count events */
};

struct cmd_ctx {
	const char *name;	/* "peer add", for messages */
	bool json;
};

/* "vclusterctl: CMD: ..." on stderr. */
void err_msg(const struct cmd_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print @why with a pointer to --help; returns VC_EXIT_USAGE. */
int usage_error(const struct cmd_ctx *ctx, const char *why);
/* VC_EXIT_OK when there are no arguments, else a usage error. */
int no_extra_args(const struct cmd_ctx *ctx, int argc, char **argv);
/* Open the family, explaining failure; returns a VC_EXIT_* code. */
int open_family(const struct cmd_ctx *ctx, struct vc_nl **ret);
/* Explain a failed request (errno, extack, attribute); VC_EXIT_FAILURE. */
int kernel_error(const struct cmd_ctx *ctx, const struct vc_nl *nl,
		 const char *where, int r);

/* Requests; 0 or negative errno (extack in @nl). */
int node_set_request(struct vc_nl *nl, const struct vc_node_cfg *c);
int peer_request(struct vc_nl *nl, uint8_t cmd, const struct vc_peer_cfg *c);
int simple_request(struct vc_nl *nl, uint8_t cmd, int attr, uint64_t value,
		   bool with_value);

uint64_t boottime_ns(void);

int cmd_monitor(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_load(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_fence_arm(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_fence_pet(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_fence_disarm(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_fence_show(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_proc_add(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_proc_del(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_proc_list(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_key_set(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_key_del(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_key_list(struct cmd_ctx *ctx, int argc, char **argv);

/*
 * KEY_SET key @id from key file @path; errors are printed with @where
 * ("" or "FILE:LINE") in front.  Returns a VC_EXIT_* code.
 */
int key_set_from_file(const struct cmd_ctx *ctx, struct vc_nl *nl, uint32_t id,
		      const char *path, bool primary, const char *where);

#endif /* VCLUSTERCTL_H */
