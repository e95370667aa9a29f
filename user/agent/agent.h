/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The agent: one libuv loop that owns the membership transport, raft,
 * the state machine, the DC's decisions and the control socket, and the
 * glue between them (agent.c).
 */
#ifndef VCD_AGENT_H
#define VCD_AGENT_H

#include <stdbool.h>

#include "aconf.h"

/* Exit codes of vclusterd (also in vclusterd.8). */
enum {
	VCD_EXIT_OK = 0,
	VCD_EXIT_FAILURE = 1,	/* could not start, or failed while running */
	VCD_EXIT_USAGE = 2,	/* bad command line */
	VCD_EXIT_FENCED = 3,	/* this host was fenced (action log) */
	VCD_EXIT_CONFIG = 78,	/* bad configuration (EX_CONFIG) */
};

struct vcd_run_opts {
	const char *fencer_path;	/* overrides [agent] fencer */
	bool bootstrap;			/* --bootstrap: like auto-bootstrap once */
};

/* Run the agent until SIGTERM/SIGINT or a fatal error; returns an exit code. */
int vcd_agent_run(struct vcd_aconf *ac, const struct vcd_run_opts *opts);

#endif /* VCD_AGENT_H */
