/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The designated controller's fence decisions: pure bookkeeping, no I/O
 * and no clock of its own.  The agent feeds it events with the time they
 * happened (CLOCK_BOOTTIME ns on this host, plus CLOCK_REALTIME ms that is
 * only recorded for people) and carries out the actions it returns:
 * submitting the entries it built, logging its lines, waking it up at
 * next_deadline_ns with vcd_dc_tick().
 *
 * The rule (DESIGN.md rules 4, 6, 8; Documentation/fencing.rst):
 *
 *   A life of node P is declared over only when voters holding a majority
 *   of all votes (the DC's own view counted) see that life DOWN: P then
 *   cannot be quorate any more, so it must fence itself.  The DC commits
 *   "node-down" at that moment.  If P advertised strong fencing (armed
 *   with kill, reboot or panic, and a quorum timeout), the DC commits
 *   "node-fenced" (auto) once the latest fence window known has closed --
 *   its own and every DOWN-voter's, each on the DC's clock -- and not one
 *   nanosecond earlier.  Otherwise (weak fencing, or any of those voters
 *   knowing no window) it waits for `vclusterctl node confirm-fenced`.
 *
 * A pending fence exists only while the DC's own transport sees P DOWN:
 * P coming back UP (at the same or a higher incarnation) cancels it, which
 * is safe because nothing has been restarted elsewhere yet.  A new DC
 * (vcd_dc_become) restarts every window in full on its own clock; a host
 * it never heard counts as silent since that moment and gets the window
 * the DC's own timing gives (D + Q + K + 2 I + M), since it advertised
 * nothing.
 *
 * An operator's confirm-fenced commits at once (no majority needed: the
 * operator asserts the host is off).
 *
 * Functions return 0 or a negative errno and append to a struct vcd_dc_out.
 */
#ifndef VCD_DC_H
#define VCD_DC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "state.h"

#define VCD_DC_MAX_NODES	VCD_STATE_MAX_NODES
#define VCD_DC_TEXT_LEN		320

struct vcd_dc_voter {
	uint32_t id;
	uint32_t votes;
};

struct vcd_dc_params {
	uint32_t self_id;
	struct vcd_dc_voter voters[VCD_DC_MAX_NODES];	/* self included */
	size_t n_voters;
	/* This host's own timing (config [node], [fence]): the window of a
	 * host that was never heard, which advertised nothing. */
	uint32_t interval_ms;
	uint32_t dead_ms;		/* interval_ms x misses */
	uint32_t quorum_timeout_ms;
	uint32_t kill_bound_ms;
	uint32_t margin_ms;
	/* Whether a never-heard host counts as strongly fenced: the
	 * cluster's configured [fence] action is kill, reboot or panic with
	 * a quorum timeout.  False: such hosts wait for an operator. */
	bool never_heard_strong;
};

/* What the DC's own transport says about a peer (from struct vcd_member). */
struct vcd_dc_peer {
	uint32_t node_id;
	uint64_t incarnation;		/* the life */
	uint64_t last_heard_ns;		/* 0: never heard */
	uint64_t fenced_by_ns;		/* its window closes; 0: none known */
	bool strong;			/* armed with kill, reboot or panic */
	bool armed;
	uint8_t fence_action;		/* enum vc_fence_action */
};

/* Another voter's view of a node, forwarded or from its heartbeat hints. */
struct vcd_dc_view {
	uint32_t voter_id;
	uint32_t node_id;
	uint64_t incarnation;		/* 0: that voter never heard the node */
	bool down;
	/* Its window converted to the DC's clock (receive time + the duration
	 * it reported); 0: it knows no window. */
	uint64_t fenced_by_ns;
};

/* A node the state says is online or down, when this host becomes DC. */
struct vcd_dc_node {
	struct vcd_dc_peer peer;	/* the life to fence; the transport's numbers */
	bool up;			/* the transport sees that life UP: skip */
	bool down_committed;		/* the state already says down */
};

/* Now: CLOCK_BOOTTIME for every decision, CLOCK_REALTIME only recorded. */
struct vcd_dc_now {
	uint64_t ns;
	int64_t wall_ms;
};

enum vcd_dc_act {
	VCD_DC_COMMIT_DOWN = 1,		/* submit entry: node-down */
	VCD_DC_COMMIT_FENCED,		/* submit entry: node-fenced */
	VCD_DC_WAIT_OPERATOR,		/* weak fencing: log text, tell the operator */
	VCD_DC_CANCEL,			/* the pending fence is gone: log text */
};

struct vcd_dc_action {
	enum vcd_dc_act type;
	uint32_t node_id;
	uint64_t incarnation;
	/* The numbers it was decided on. */
	uint64_t now_ns;
	uint64_t last_heard_ns;		/* DC's own; 0: never heard */
	uint64_t window_start_ns;	/* last heard, or when the window restarted */
	uint64_t deadline_ns;		/* latest window known; 0: none */
	uint32_t votes_down;		/* votes of the voters seeing it DOWN */
	uint32_t votes_total;		/* expected votes */
	enum vcd_fence_how how;		/* COMMIT_FENCED */
	char text[VCD_DC_TEXT_LEN];	/* one log line with those numbers */
	char *entry;			/* COMMIT_*: the bytes to submit */
	size_t entry_len;
};

struct vcd_dc_out {
	struct vcd_dc_action *act;
	size_t n, cap;
	/* When to call vcd_dc_tick() next; 0: no window is running. */
	uint64_t next_deadline_ns;
};

void vcd_dc_out_init(struct vcd_dc_out *out);
/* Drop the actions (and their entries), keep the memory. */
void vcd_dc_out_clear(struct vcd_dc_out *out);
void vcd_dc_out_free(struct vcd_dc_out *out);

struct vcd_dc;

/* -EINVAL: no self id, a voter with id 0 or listed twice, or more than
 * VCD_DC_MAX_NODES voters. */
int vcd_dc_new(const struct vcd_dc_params *p, struct vcd_dc **ret);
void vcd_dc_free(struct vcd_dc *dc);		/* NULL is fine */

/* A committed configuration changed the voters (takes effect at once). */
int vcd_dc_set_voters(struct vcd_dc *dc, const struct vcd_dc_voter *voters, size_t n,
		      struct vcd_dc_now now, struct vcd_dc_out *out);

/* D + Q + K + 2 I + M of @p, in ns: the window of a never-heard host. */
uint64_t vcd_dc_cold_window_ns(const struct vcd_dc_params *p);

/*
 * This host became DC in @term: forget every earlier pending fence and
 * start one, in full from @now, for each of @nodes that is not up.
 */
int vcd_dc_become(struct vcd_dc *dc, uint64_t term, const struct vcd_dc_node *nodes,
		  size_t n, struct vcd_dc_now now, struct vcd_dc_out *out);
/* No longer DC: forget the pending fences (the next DC restarts them). */
void vcd_dc_resign(struct vcd_dc *dc);
bool vcd_dc_active(const struct vcd_dc *dc);

/* The DC's own transport reports @p DOWN.  Ignored unless DC; the caller
 * calls it only for nodes the state says are online or down. */
int vcd_dc_peer_down(struct vcd_dc *dc, const struct vcd_dc_peer *p, struct vcd_dc_now now,
		     struct vcd_dc_out *out);
/* The DC's own transport reports @node_id UP at @incarnation: cancels its
 * pending fence unless that is for a newer life. */
int vcd_dc_peer_up(struct vcd_dc *dc, uint32_t node_id, uint64_t incarnation,
		   struct vcd_dc_now now, struct vcd_dc_out *out);
/* Another voter's view (kept also while not DC).  -EINVAL: not a voter, or
 * this host itself. */
int vcd_dc_view(struct vcd_dc *dc, const struct vcd_dc_view *v, struct vcd_dc_now now,
		struct vcd_dc_out *out);
/* `vclusterctl node confirm-fenced NODE` by @who (for the record).
 * -EAGAIN: not the DC; -ENOENT: no pending fence for it (reason in @why). */
int vcd_dc_confirm(struct vcd_dc *dc, uint32_t node_id, const char *who,
		   struct vcd_dc_now now, struct vcd_dc_out *out, char *why, size_t why_size);
/* Time passed: commit what is due. */
int vcd_dc_tick(struct vcd_dc *dc, struct vcd_dc_now now, struct vcd_dc_out *out);

/* Pending fences for `status` (new reference), ordered by node:
 * [{"node","incarnation","down_committed","votes_down","votes_total",
 *   "deadline_in_ms" (null: none),"weak" (reason, or null)}] */
json_t *vcd_dc_to_json(const struct vcd_dc *dc, uint64_t now_ns);

const char *vcd_dc_act_name(enum vcd_dc_act type);	/* "commit-down" */

#endif /* VCD_DC_H */
