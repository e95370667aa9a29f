// SPDX-License-Identifier: GPL-2.0
/*
 * vcluster: the fencing watchdog and the processes it kills.
 *
 * The rule, in plain words (Documentation/ has the reasons):
 *
 *   While armed, the watchdog fires when a check finds the instance past
 *   "quorate until" (QUORUM: checked each tick, and before a received
 *   heartbeat is used, so no fresh vote is counted first), or past the
 *   last pet + the agent timeout (AGENT, with a PRETIMEOUT event first),
 *   or when a peer lists our current life DOWN (DECLARED), or when the
 *   instance is stopped (STOPPED) or its netns goes away (NETNS_EXIT).
 *
 *   When it fires it logs the numbers it decided on, then acts:
 *   - log: an event and a counter; once per episode (again only after the
 *     condition cleared: a pet, or quorum found again);
 *   - kill, panic, reboot: the instance is fenced: it sends no heartbeat
 *     again until it is stopped and started with a higher incarnation.
 *     kill sends SIGKILL to every registered process and restarts the
 *     machine if any is still there after kill_bound_ms; panic panics;
 *     reboot restarts at once (emergency_restart(), no shutdown).
 *
 * While any instance is armed the module holds a reference on itself, so
 * rmmod is refused; STOP and netns exit fence (vc_fence_leave()); DISARM
 * is refused with nowayout.
 *
 * Processes are registered by PID plus their start time (/proc/PID/stat
 * field 22): the start time proves the PID named that process when the
 * request was made, and the kernel then holds its struct pid, so a PID
 * reused later never receives the kill.  (pidfd_get_pid() is not exported
 * to modules on the kernels we support; PID + start time + a held struct
 * pid gives the same guarantee.)
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/delay.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/reboot.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/time_namespace.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "vc.h"

static const char *const vc_action_name[__VC_FENCE_ACTION_MAX] = {
	[VC_FENCE_ACTION_NONE]		= "none",
	[VC_FENCE_ACTION_LOG]		= "log",
	[VC_FENCE_ACTION_KILL]		= "kill",
	[VC_FENCE_ACTION_PANIC]		= "panic",
	[VC_FENCE_ACTION_REBOOT]	= "reboot",
};

static const char *const vc_reason_name[__VC_FENCE_REASON_MAX] = {
	[VC_FENCE_REASON_UNSPEC]	= "unspecified",
	[VC_FENCE_REASON_AGENT]		= "agent not petting",
	[VC_FENCE_REASON_QUORUM]	= "past quorum deadline",
	[VC_FENCE_REASON_DECLARED]	= "listed DOWN by a peer",
	[VC_FENCE_REASON_STOPPED]	= "stopped while armed",
	[VC_FENCE_REASON_NETNS_EXIT]	= "netns exit while armed",
};

/* Signed milliseconds from @now_ns to @t_ns (negative: in the past). */
static s64 vc_ms_until(u64 t_ns, u64 now_ns)
{
	return div_s64((s64)(t_ns - now_ns), NSEC_PER_MSEC);
}

/* ------------------------------------------------------------ processes */

/*
 * /proc/PID/stat field 22: clock ticks since boot, in the caller's time
 * namespace.  nsec_to_clock_t() is not exported; this is its x86 branch.
 */
static u64 vc_task_start_time(const struct task_struct *task)
{
	BUILD_BUG_ON(NSEC_PER_SEC % USER_HZ);
	return div_u64(timens_add_boottime_ns(task->start_boottime),
		       NSEC_PER_SEC / USER_HZ);
}

/*
 * Gone: no task left, or every thread is exiting (it runs no more user
 * code).  A thread in uninterruptible sleep with SIGKILL pending is not
 * gone.  Caller holds rcu_read_lock().
 */
static bool vc_task_gone(struct task_struct *task)
{
	struct task_struct *t;

	if (!task)
		return true;
	for_each_thread(task, t)
		if (!(t->flags & PF_EXITING) && !t->exit_state)
			return false;
	return true;
}

static bool vc_proc_gone(const struct vc_proc *p)
{
	bool gone;

	rcu_read_lock();
	gone = vc_task_gone(pid_task(p->pid, PIDTYPE_TGID));
	rcu_read_unlock();
	return gone;
}

/* Drop registered processes that are gone. */
static void vc_procs_prune(struct vc_inst *inst)
{
	u32 i, n = 0;

	lockdep_assert_held(&inst->lock);

	for (i = 0; i < inst->n_procs; i++) {
		if (vc_proc_gone(&inst->procs[i])) {
			put_pid(inst->procs[i].pid);
			continue;
		}
		inst->procs[n++] = inst->procs[i];
	}
	inst->n_procs = n;
}

static u32 vc_procs_alive(struct vc_inst *inst)
{
	u32 i, alive = 0;

	lockdep_assert_held(&inst->lock);

	for (i = 0; i < inst->n_procs; i++)
		alive += !vc_proc_gone(&inst->procs[i]);
	return alive;
}

static u32 vc_procs_kill(struct vc_inst *inst)
{
	u32 i, sent = 0;

	lockdep_assert_held(&inst->lock);

	for (i = 0; i < inst->n_procs; i++)
		if (!kill_pid(inst->procs[i].pid, SIGKILL, 1))
			sent++;
	return sent;
}

/*
 * The caller could send @task a signal itself (kill(2)'s rule): the same
 * user, or CAP_KILL over the task's user namespace.  CAP_NET_ADMIN over
 * a netns alone must not let anyone kill processes it could not.
 */
static bool vc_may_kill(struct task_struct *task)
{
	const struct cred *cred = get_task_cred(task);
	kuid_t euid = current_euid();
	bool ok;

	ok = uid_eq(euid, cred->uid) || uid_eq(euid, cred->suid) ||
	     ns_capable(cred->user_ns, CAP_KILL);
	put_cred(cred);
	return ok;
}

/*
 * Look up the caller's PID @nr: the start time must match, and the caller
 * must be allowed to kill it.  Returns a held struct pid or an ERR_PTR.
 */
static struct pid *vc_proc_lookup(u32 nr, u64 start_time)
{
	struct task_struct *task;
	struct pid *pid;
	int err = 0;

	pid = find_get_pid(nr);
	if (!pid)
		return ERR_PTR(-ESRCH);
	task = get_pid_task(pid, PIDTYPE_TGID);
	if (!task || vc_task_start_time(task) != start_time)
		err = -ESRCH;
	else if (!vc_may_kill(task))
		err = -EPERM;
	if (task)
		put_task_struct(task);
	if (err) {
		put_pid(pid);
		return ERR_PTR(err);
	}
	return pid;
}

static struct vc_proc *vc_proc_find(struct vc_inst *inst,
				    const struct pid *pid)
{
	u32 i;

	lockdep_assert_held(&inst->lock);

	for (i = 0; i < inst->n_procs; i++)
		if (inst->procs[i].pid == pid)
			return &inst->procs[i];
	return NULL;
}

static int vc_proc_alloc(struct vc_inst *inst)
{
	struct vc_proc *procs;

	lockdep_assert_held(&inst->cfg_mutex);

	if (inst->procs)
		return 0;
	procs = kcalloc(VC_MAX_PROCS, sizeof(*procs), GFP_KERNEL);
	if (!procs)
		return -ENOMEM;
	spin_lock_bh(&inst->lock);
	inst->procs = procs;
	spin_unlock_bh(&inst->lock);
	return 0;
}

int vc_proc_add(struct vc_inst *inst, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr **attrs = info->attrs;
	struct pid *pid;
	int err = 0;

	lockdep_assert_held(&inst->cfg_mutex);

	if (GENL_REQ_ATTR_CHECK(info, VC_A_PROC_PID) ||
	    GENL_REQ_ATTR_CHECK(info, VC_A_PROC_START_TIME)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "PID and start time (/proc/PID/stat field 22) required");
		return -EINVAL;
	}
	if (inst->fenced) {
		NL_SET_ERR_MSG_MOD(extack,
				   "fenced: STOP, then START with a higher incarnation");
		return -EBUSY;
	}
	err = vc_proc_alloc(inst);
	if (err)
		return err;
	pid = vc_proc_lookup(nla_get_u32(attrs[VC_A_PROC_PID]),
			     nla_get_u64(attrs[VC_A_PROC_START_TIME]));
	if (IS_ERR(pid)) {
		if (PTR_ERR(pid) == -EPERM)
			NL_SET_ERR_MSG_ATTR(extack, attrs[VC_A_PROC_PID],
					    "not allowed to kill that process (needs the same user, or CAP_KILL over its user namespace)");
		else
			NL_SET_ERR_MSG_ATTR(extack, attrs[VC_A_PROC_PID],
					    "no such process (exited, or its PID was reused)");
		return PTR_ERR(pid);
	}

	spin_lock_bh(&inst->lock);
	vc_procs_prune(inst);
	if (vc_proc_find(inst, pid)) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[VC_A_PROC_PID],
				    "process already registered");
		err = -EEXIST;
	} else if (inst->n_procs >= VC_MAX_PROCS) {
		NL_SET_ERR_MSG_MOD(extack,
				   "too many processes (at most 1024 per instance)");
		err = -ENOSPC;
	} else {
		inst->procs[inst->n_procs].pid = pid;
		inst->procs[inst->n_procs].id = inst->proc_next_id++;
		inst->n_procs++;
		pid = NULL;
	}
	spin_unlock_bh(&inst->lock);
	put_pid(pid);
	return err;
}

int vc_proc_del(struct vc_inst *inst, struct genl_info *info)
{
	struct nlattr *nla = info->attrs[VC_A_PROC_PID];
	struct vc_proc *p = NULL;
	struct pid *pid, *old = NULL;

	lockdep_assert_held(&inst->cfg_mutex);

	if (GENL_REQ_ATTR_CHECK(info, VC_A_PROC_PID)) {
		NL_SET_ERR_MSG_MOD(info->extack, "PID required");
		return -EINVAL;
	}
	pid = find_get_pid(nla_get_u32(nla));

	spin_lock_bh(&inst->lock);
	if (pid && inst->procs)
		p = vc_proc_find(inst, pid);
	if (p) {
		old = p->pid;
		inst->n_procs--;
		memmove(p, p + 1,
			(inst->procs + inst->n_procs - p) * sizeof(*p));
	}
	spin_unlock_bh(&inst->lock);

	put_pid(pid);
	if (!old) {
		NL_SET_ERR_MSG_ATTR(info->extack, nla,
				    "no such registered process (or it exited: exited processes are dropped)");
		return -ENOENT;
	}
	put_pid(old);
	return 0;
}

static int vc_proc_fill(struct sk_buff *skb, struct netlink_callback *cb,
			u32 nr, u64 start_time)
{
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &vc_genl_family, NLM_F_MULTI, VC_CMD_PROC_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, VC_A_PROC_PID, nr) ||
	    nla_put_u64_64bit(skb, VC_A_PROC_START_TIME, start_time,
			      VC_A_PROC_PAD)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/*
 * PROC_GET dump: the live registered processes that the caller's PID
 * namespace can see.  cb->args[0] holds the next registration id, so a
 * process added or deleted between two parts repeats or skips nothing.
 */
int vc_proc_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct vc_inst *inst = vc_inst_of(sock_net(skb->sk));
	struct pid_namespace *ns = task_active_pid_ns(current);
	u64 next = cb->args[0], start_time;
	struct task_struct *task;
	struct vc_proc *p;
	int err = 0;
	u32 i, nr;

	spin_lock_bh(&inst->lock);
	for (i = 0; i < inst->n_procs && !err; i++) {
		p = &inst->procs[i];
		if (p->id < next)
			continue;
		nr = pid_nr_ns(p->pid, ns);
		rcu_read_lock();
		task = pid_task(p->pid, PIDTYPE_TGID);
		start_time = task ? vc_task_start_time(task) : 0;
		if (!nr || vc_task_gone(task))
			nr = 0;
		rcu_read_unlock();
		if (nr)
			err = vc_proc_fill(skb, cb, nr, start_time);
		if (!err)
			next = p->id + 1;
	}
	spin_unlock_bh(&inst->lock);

	cb->args[0] = next;
	if (err && !skb->len)
		return err;
	return skb->len;
}

/* The instance is going away: nothing uses the table any more. */
void vc_procs_free(struct vc_inst *inst)
{
	u32 i;

	for (i = 0; i < inst->n_procs; i++)
		put_pid(inst->procs[i].pid);
	inst->n_procs = 0;
	kfree(inst->procs);
	inst->procs = NULL;
}

/* ------------------------------------------------------------- firing */

static u64 vc_fence_deadline_ns(const struct vc_inst *inst, u32 reason,
				u64 now_ns)
{
	if (reason == VC_FENCE_REASON_QUORUM)
		return vc_quorate_until_ns(inst);
	if (reason == VC_FENCE_REASON_AGENT)
		return vc_agent_deadline_ns(inst);
	return now_ns;
}

/* Like o2quo: the numbers the decision used, logged before acting. */
static void vc_fence_log(struct vc_inst *inst, u32 reason, u64 now_ns)
{
	const struct vc_fence_cfg *f = &inst->fence;
	char why[224];

	lockdep_assert_held(&inst->lock);

	scnprintf(why, sizeof(why),
		  "votes seen %u of %u expected, quorate until %lld ms from now, last pet %lld ms from now, agent timeout %u ms, quorum timeout %u ms, kill bound %u ms, %u processes",
		  inst->votes_seen, inst->expected_votes,
		  vc_ms_until(vc_quorate_until_ns(inst), now_ns),
		  vc_ms_until(inst->last_pet_ns, now_ns), f->agent_timeout_ms,
		  f->quorum_timeout_ms, f->kill_bound_ms, inst->n_procs);
	if (f->action == VC_FENCE_ACTION_LOG)
		pr_warn("node %u incarnation %llu: fencing (%s), action log: %s\n",
			inst->node_id, inst->incarnation,
			vc_reason_name[reason], why);
	else
		pr_emerg("node %u incarnation %llu: fencing (%s), action %s: %s\n",
			 inst->node_id, inst->incarnation,
			 vc_reason_name[reason], vc_action_name[f->action], why);
}

/*
 * The one decision to fence: armed, not fenced yet, and (for log) not
 * already fired for this episode.  Sets inst->fence_pending for actions
 * that must run without the lock (vc_fence_act()).
 */
void vc_fence_fire(struct vc_inst *inst, struct sk_buff_head *evq,
		   u32 reason, u64 now_ns)
{
	u8 action = inst->fence.action;
	u32 sent;

	lockdep_assert_held(&inst->lock);

	if (!inst->armed || inst->fenced)
		return;
	if (action == VC_FENCE_ACTION_LOG) {
		if (inst->fired & BIT(reason))
			return;
		inst->fired |= BIT(reason);
	} else {
		inst->fenced = 1;
	}
	inst->fence_count++;
	inst->fence_reason = reason;
	inst->fenced_at_ns = now_ns;
	vc_fence_log(inst, reason, now_ns);
	vc_event_fence(inst, evq, VC_EVENT_FENCE_FIRED, reason,
		       vc_fence_deadline_ns(inst, reason, now_ns), now_ns);

	switch (action) {
	case VC_FENCE_ACTION_KILL:
		sent = vc_procs_kill(inst);
		inst->kill_pending = 1;
		inst->kill_deadline_ns = now_ns +
			(u64)inst->fence.kill_bound_ms * NSEC_PER_MSEC;
		pr_emerg("node %u: SIGKILL sent to %u of %u registered processes, restarting if any is left in %u ms\n",
			 inst->node_id, sent, inst->n_procs,
			 inst->fence.kill_bound_ms);
		break;
	case VC_FENCE_ACTION_PANIC:
	case VC_FENCE_ACTION_REBOOT:
		inst->fence_pending = action;
		break;
	}
}

/* Rule 3: past "quorate until" fences, before fresh votes are counted. */
void vc_fence_check_quorum(struct vc_inst *inst, struct sk_buff_head *evq,
			   u64 now_ns)
{
	lockdep_assert_held(&inst->lock);

	if (inst->armed && inst->fence.quorum_timeout_ms &&
	    now_ns > vc_quorate_until_ns(inst))
		vc_fence_fire(inst, evq, VC_FENCE_REASON_QUORUM, now_ns);
}

static void vc_fence_check_agent(struct vc_inst *inst,
				 struct sk_buff_head *evq, u64 now_ns)
{
	lockdep_assert_held(&inst->lock);

	if (!inst->armed || !inst->fence.agent_timeout_ms)
		return;
	if (inst->fence.pretimeout_ms && !inst->pretimeout_sent &&
	    now_ns > vc_pretimeout_ns(inst)) {
		inst->pretimeout_sent = 1;
		pr_warn("node %u: agent has not petted for %llu ms, fencing in %lld ms\n",
			inst->node_id,
			div_u64(now_ns - inst->last_pet_ns, NSEC_PER_MSEC),
			vc_ms_until(vc_agent_deadline_ns(inst), now_ns));
		vc_event_fence(inst, evq, VC_EVENT_FENCE_PRETIMEOUT,
			       VC_FENCE_REASON_AGENT,
			       vc_agent_deadline_ns(inst), now_ns);
	}
	if (now_ns > vc_agent_deadline_ns(inst))
		vc_fence_fire(inst, evq, VC_FENCE_REASON_AGENT, now_ns);
}

/* Kill in progress: all gone ends it; past kill_bound_ms escalates. */
static void vc_fence_check_kill(struct vc_inst *inst,
				struct sk_buff_head *evq, u64 now_ns)
{
	lockdep_assert_held(&inst->lock);

	if (!inst->kill_pending)
		return;
	if (!vc_procs_alive(inst)) {
		inst->kill_pending = 0;
		pr_warn("node %u: every registered process is gone\n",
			inst->node_id);
		return;
	}
	if (now_ns <= inst->kill_deadline_ns)
		return;
	inst->kill_pending = 0;
	inst->fence_pending = VC_FENCE_ACTION_REBOOT;
	pr_emerg("node %u: registered processes still there %llu ms after SIGKILL (kill bound %u ms): restarting\n",
		 inst->node_id,
		 div_u64(now_ns - inst->fenced_at_ns, NSEC_PER_MSEC),
		 inst->fence.kill_bound_ms);
	vc_event_fence(inst, evq, VC_EVENT_FENCE_ESCALATED, inst->fence_reason,
		       inst->kill_deadline_ns, now_ns);
}

/* Tick steps 1 to 3 (see vc.h): before the peers are aged and counted. */
void vc_fence_tick(struct vc_inst *inst, struct sk_buff_head *evq,
		   u64 now_ns)
{
	lockdep_assert_held(&inst->lock);

	if (!inst->armed)
		return;
	vc_fence_check_quorum(inst, evq, now_ns);
	vc_fence_check_agent(inst, evq, now_ns);
	vc_fence_check_kill(inst, evq, now_ns);
}

/*
 * Panic or restart, once, as vc_fence_fire() or an escalation decided.
 * Called without inst->lock, after the events were sent.
 */
void vc_fence_act(struct vc_inst *inst)
{
	int action = xchg(&inst->fence_pending, 0);
	u32 node_id = READ_ONCE(inst->node_id);

	switch (action) {
	case VC_FENCE_ACTION_PANIC:
		panic("vcluster: fenced: node %u\n", node_id);
		break;
	case VC_FENCE_ACTION_REBOOT:
		pr_emerg("node %u: fenced: emergency restart\n", node_id);
		emergency_restart();
		break;
	}
}

/*
 * STOP or netns exit of an armed instance (process context): fence, and
 * with kill wait (at most the kill bound) until the processes are gone,
 * restarting the machine if they are not.  Already fenced: only the wait.
 */
void vc_fence_leave(struct vc_inst *inst, u32 reason, bool notify)
{
	struct sk_buff_head evq;
	bool pending;

	lockdep_assert_held(&inst->cfg_mutex);

	__skb_queue_head_init(&evq);
	spin_lock_bh(&inst->lock);
	vc_fence_fire(inst, &evq, reason, ktime_get_boottime_ns());
	spin_unlock_bh(&inst->lock);

	for (;;) {
		if (notify)
			vc_event_flush(inst, &evq);
		else
			__skb_queue_purge(&evq);
		vc_fence_act(inst);

		spin_lock_bh(&inst->lock);
		vc_fence_check_kill(inst, &evq, ktime_get_boottime_ns());
		pending = inst->kill_pending || inst->fence_pending;
		spin_unlock_bh(&inst->lock);
		if (!pending && skb_queue_empty(&evq))
			return;
		if (pending)
			usleep_range(2000, 5000);
	}
}

/*
 * The instance stops: disarm whatever the state, clear the fence.
 * Returns whether it was armed (the caller drops the module reference).
 */
bool vc_fence_clear(struct vc_inst *inst, struct sk_buff_head *evq,
		    u64 now_ns)
{
	lockdep_assert_held(&inst->lock);

	if (!inst->armed)
		return false;
	inst->armed = 0;
	inst->fenced = 0;
	inst->fired = 0;
	inst->pretimeout_sent = 0;
	inst->kill_pending = 0;
	vc_event_fence(inst, evq, VC_EVENT_FENCE_DISARMED, 0, 0, now_ns);
	return true;
}

/* ------------------------------------------------------------ netlink */

static int vc_fence_parse_timeout(struct nlattr *nla, u32 *ms,
				  struct netlink_ext_ack *extack)
{
	*ms = nla ? nla_get_u32(nla) : 0;
	if (*ms && *ms < VC_WATCHDOG_MS_MIN) {
		NL_SET_ERR_MSG_ATTR(extack, nla,
				    "timeout must be 0 (off) or 10..600000 ms");
		return -EINVAL;
	}
	return 0;
}

static int vc_fence_parse(struct vc_inst *inst, struct genl_info *info,
			  struct vc_fence_cfg *f)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr **attrs = info->attrs;
	struct nlattr *nla;
	int err;

	lockdep_assert_held(&inst->cfg_mutex);

	if (GENL_REQ_ATTR_CHECK(info, VC_A_NODE_FENCE_ACTION)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "fence action required (log, kill, panic or reboot)");
		return -EINVAL;
	}
	memset(f, 0, sizeof(*f));
	f->action = nla_get_u32(attrs[VC_A_NODE_FENCE_ACTION]);
	err = vc_fence_parse_timeout(attrs[VC_A_NODE_AGENT_TIMEOUT_MS],
				     &f->agent_timeout_ms, extack);
	if (err)
		return err;
	nla = attrs[VC_A_NODE_QUORUM_TIMEOUT_MS];
	err = vc_fence_parse_timeout(nla, &f->quorum_timeout_ms, extack);
	if (err)
		return err;
	if (f->quorum_timeout_ms && !inst->expected_votes) {
		NL_SET_ERR_MSG_ATTR(extack, nla,
				    "a quorum timeout needs expected votes (set an odd number with NODE_SET first)");
		return -EINVAL;
	}
	f->kill_bound_ms = VC_KILL_BOUND_MS_DEFAULT;
	if (attrs[VC_A_NODE_KILL_BOUND_MS])
		f->kill_bound_ms = nla_get_u32(attrs[VC_A_NODE_KILL_BOUND_MS]);

	f->pretimeout_ms = f->agent_timeout_ms / 2;
	nla = attrs[VC_A_NODE_PRETIMEOUT_MS];
	if (nla) {
		f->pretimeout_ms = nla_get_u32(nla);
		if (f->pretimeout_ms && f->pretimeout_ms >= f->agent_timeout_ms) {
			NL_SET_ERR_MSG_ATTR(extack, nla,
					    "pre-timeout must be shorter than the agent timeout (or 0: no warning)");
			return -EINVAL;
		}
	}

	nla = attrs[VC_A_NODE_NOWAYOUT];
	f->nowayout = nla ? nla_get_u32(nla) : 0;
	if (inst->armed && inst->fence.nowayout) {
		if (nla && !f->nowayout) {
			NL_SET_ERR_MSG_ATTR(extack, nla,
					    "nowayout is set: it cannot be cleared");
			return -EBUSY;
		}
		f->nowayout = 1;
	}
	return 0;
}

/* Arm, or change the settings of an armed watchdog.  Arming is a pet. */
int vc_fence_arm(struct vc_inst *inst, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	struct vc_fence_cfg f;
	struct sk_buff_head evq;
	bool was_armed;
	u64 now;
	int err;

	lockdep_assert_held(&inst->cfg_mutex);

	if (!inst->running) {
		NL_SET_ERR_MSG_MOD(extack,
				   "not running: START first, then arm the watchdog");
		return -EINVAL;
	}
	if (inst->fenced) {
		NL_SET_ERR_MSG_MOD(extack,
				   "fenced: STOP, then START with a higher incarnation");
		return -EBUSY;
	}
	err = vc_fence_parse(inst, info, &f);
	if (err)
		return err;

	__skb_queue_head_init(&evq);
	now = ktime_get_boottime_ns();
	spin_lock_bh(&inst->lock);
	was_armed = inst->armed;
	inst->fence = f;
	if (!was_armed) {
		/* Arming starts the quorum deadline; re-arming does not. */
		inst->quorum_seen_ns = now;
		inst->fired = 0;
	}
	inst->armed = 1;
	inst->last_pet_ns = now;
	inst->pretimeout_sent = 0;
	inst->fired &= ~BIT(VC_FENCE_REASON_AGENT);
	vc_event_fence(inst, &evq, VC_EVENT_FENCE_ARMED, 0,
		       f.quorum_timeout_ms ? vc_quorate_until_ns(inst) : 0,
		       now);
	spin_unlock_bh(&inst->lock);
	vc_event_flush(inst, &evq);

	if (!was_armed)
		__module_get(THIS_MODULE);
	pr_info("node %u: watchdog %s: action %s, agent timeout %u ms (pre-timeout %u ms), quorum timeout %u ms, kill bound %u ms%s\n",
		inst->node_id, was_armed ? "re-armed" : "armed",
		vc_action_name[f.action], f.agent_timeout_ms, f.pretimeout_ms,
		f.quorum_timeout_ms, f.kill_bound_ms,
		f.nowayout ? ", nowayout" : "");
	return 0;
}

int vc_fence_pet(struct vc_inst *inst, struct genl_info *info)
{
	int err = 0;

	lockdep_assert_held(&inst->cfg_mutex);

	spin_lock_bh(&inst->lock);
	if (!inst->armed) {
		NL_SET_ERR_MSG_MOD(info->extack, "not armed: FENCE_ARM first");
		err = -EINVAL;
	} else if (inst->fenced) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "fenced: STOP, then START with a higher incarnation");
		err = -EBUSY;
	} else {
		inst->last_pet_ns = ktime_get_boottime_ns();
		inst->pretimeout_sent = 0;
		inst->fired &= ~BIT(VC_FENCE_REASON_AGENT);
	}
	spin_unlock_bh(&inst->lock);
	return err;
}

int vc_fence_disarm(struct vc_inst *inst, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	struct sk_buff_head evq;
	int err = 0;

	lockdep_assert_held(&inst->cfg_mutex);

	__skb_queue_head_init(&evq);
	spin_lock_bh(&inst->lock);
	if (!inst->armed) {
		NL_SET_ERR_MSG_MOD(extack, "not armed");
		err = -EINVAL;
	} else if (inst->fence.nowayout) {
		NL_SET_ERR_MSG_MOD(extack,
				   "nowayout set: the watchdog cannot be disarmed");
		err = -EBUSY;
	} else if (inst->fenced) {
		NL_SET_ERR_MSG_MOD(extack,
				   "fenced: STOP, then START with a higher incarnation");
		err = -EBUSY;
	} else {
		vc_fence_clear(inst, &evq, ktime_get_boottime_ns());
	}
	spin_unlock_bh(&inst->lock);
	if (err)
		return err;
	vc_event_flush(inst, &evq);
	module_put(THIS_MODULE);
	pr_info("node %u: watchdog disarmed\n", inst->node_id);
	return 0;
}

/* NODE_GET: the watchdog's settings and state. */
int vc_fence_put(struct sk_buff *skb, struct vc_inst *inst)
{
	const struct vc_fence_cfg *f = &inst->fence;

	lockdep_assert_held(&inst->lock);

	if (nla_put_u32(skb, VC_A_NODE_FENCE_ARMED, inst->armed) ||
	    nla_put_u32(skb, VC_A_NODE_FENCE_ACTION, f->action) ||
	    nla_put_u32(skb, VC_A_NODE_AGENT_TIMEOUT_MS, f->agent_timeout_ms) ||
	    nla_put_u32(skb, VC_A_NODE_QUORUM_TIMEOUT_MS,
			f->quorum_timeout_ms) ||
	    nla_put_u32(skb, VC_A_NODE_KILL_BOUND_MS, f->kill_bound_ms) ||
	    nla_put_u32(skb, VC_A_NODE_PRETIMEOUT_MS, f->pretimeout_ms) ||
	    nla_put_u32(skb, VC_A_NODE_NOWAYOUT, f->nowayout) ||
	    nla_put_u32(skb, VC_A_NODE_FENCE_MARGIN_MS, inst->fence_margin_ms) ||
	    nla_put_u32(skb, VC_A_NODE_FENCED, inst->fenced || inst->fired) ||
	    nla_put_u32(skb, VC_A_NODE_FENCE_REASON, inst->fence_reason) ||
	    nla_put_u64_64bit(skb, VC_A_NODE_FENCED_AT_NS, inst->fenced_at_ns,
			      VC_A_NODE_PAD) ||
	    nla_put_u64_64bit(skb, VC_A_NODE_LAST_PET_NS, inst->last_pet_ns,
			      VC_A_NODE_PAD) ||
	    nla_put_u64_64bit(skb, VC_A_NODE_FENCE_COUNT, inst->fence_count,
			      VC_A_NODE_PAD) ||
	    nla_put_u32(skb, VC_A_NODE_PROCS, vc_procs_alive(inst)))
		return -EMSGSIZE;
	return 0;
}
