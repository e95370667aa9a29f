// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * vcluster-fencer: the fencing watchdog of the user transport.
 *
 * The agent (vclusterd, or tests/mship-drive) starts this program with a
 * SOCK_SEQPACKET socket on fd 3 and a pidfd of itself on fd 4
 * (fencer-proto.h).  It locks itself in memory, asks for SCHED_FIFO, and
 * then does nothing but wait for messages and deadlines.
 *
 * The rule, in plain words (Documentation/user-fencing.rst has the
 * reasons; it is the kernel watchdog's rule, kernel/fence.c):
 *
 *   While armed, fence when a check finds the host past "quorate until"
 *   (QUORUM; the deadline is checked on every wake-up before any message
 *   that could extend it is read), or past the last pet + the agent
 *   timeout (AGENT, with a PRETIMEOUT notification first), or when the
 *   agent says so (FENCE_NOW: a peer listed us DOWN, a stop under
 *   nowayout), or when the agent's socket closes (STOPPED: the agent
 *   died or left without disarming).
 *
 *   Fencing logs the numbers it decided on, tells the agent (FENCED),
 *   stops feeding the watchdog device, then acts, once per life:
 *   - log:    nothing more (tests);
 *   - kill:   SIGKILL by pidfd to every registered process and to the
 *             agent, wait at most kill_bound_ms for all of them to be
 *             gone, else restart the machine;
 *   - reboot: restart at once, reboot(RB_AUTOBOOT), no sync;
 *   - panic:  crash through /proc/sysrq-trigger ('c') where there is one,
 *             else restart.
 *
 * Safety of the build machine: in the initial PID namespace reboot(2)
 * restarts the machine, so there the reboot and panic actions (and the
 * kill action's escalation) are refused unless --allow-host-reboot (or
 * VCLUSTER_FENCER_ALLOW_HOST_REBOOT=1) is given.  In any other PID
 * namespace reboot(RB_AUTOBOOT) only kills that namespace's init, which
 * is how the tests simulate a host restart; sysrq is never used there.
 *
 * Timers: one timerfd on CLOCK_BOOTTIME (it runs during suspend, like the
 * kernel's), set to the nearest of the quorum deadline, the pre-timeout,
 * the agent deadline and the next watchdog keepalive.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/watchdog.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <linux/vcluster.h>

#include "fencer-proto.h"
#include "log.h"

#define MAX_PROCS		1024
#define WATCHDOG_MS_MIN		10
#define WATCHDOG_MS_MAX		600000
#define KILL_BOUND_MS_MIN	10
#define KILL_BOUND_MS_MAX	60000
#define KILL_BOUND_MS_DEFAULT	1000
#define FIFO_PRIORITY		50
/* The inode of the initial PID namespace (PROC_PID_INIT_INO, fixed). */
#define INIT_PIDNS_INO		0xEFFFFFFCu
#define NS_PER_MS		1000000ull

struct proc {
	pid_t pid;
	int pidfd;
};

struct fencer {
	int sock;
	int agent_pidfd;		/* -1: none */
	int tfd;
	int sfd;
	uint32_t node_id;
	uint64_t incarnation;

	bool init_pidns;
	bool host_reboot;		/* reboot(2) may be used */
	const char *wd_path;		/* NULL: no watchdog device */
	int wd_fd;
	uint64_t wd_keepalive_ns;	/* period, 0: not fed */
	uint64_t wd_next_ns;

	bool armed;
	bool fenced;
	bool pretimeout_sent;
	uint8_t action;
	bool nowayout;
	uint32_t agent_timeout_ms;
	uint32_t quorum_timeout_ms;
	uint32_t kill_bound_ms;
	uint32_t pretimeout_ms;
	uint64_t last_pet_ns;
	uint64_t quorate_until_ns;
	uint8_t reason;

	struct proc procs[MAX_PROCS];
	unsigned int n_procs;
};

static const char *action_name(unsigned int a)
{
	static const char *const names[] = { "none", "log", "kill", "panic", "reboot" };

	return a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}

static const char *reason_name(unsigned int r)
{
	static const char *const names[] = {
		"unspecified", "agent not petting", "past quorum deadline",
		"listed DOWN by a peer", "agent stopped while armed", "netns exit",
	};

	return r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Signed ms from @now to @t (negative: in the past). */
static long long ms_until(uint64_t t, uint64_t now)
{
	return (long long)(int64_t)(t - now) / (long long)NS_PER_MS;
}

static int pidfd_send_kill(int pidfd)
{
	return syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0 ? -errno : 0;
}

static bool pidfd_gone(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

/* ------------------------------------------------------------ messages */

static void send_msg(struct fencer *fc, uint16_t type, uint32_t seq,
		     void (*fill)(struct vcf_msg *, const void *), const void *arg)
{
	struct vcf_msg m;

	if (fc->sock < 0)
		return;
	memset(&m, 0, sizeof(m));
	m.version = VCF_PROTO_VERSION;
	m.type = type;
	m.seq = seq;
	if (fill)
		fill(&m, arg);
	/* Never block on a frozen agent; a lost notification is logged. */
	if (send(fc->sock, &m, sizeof(m), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		vcd_debug("cannot notify the agent: %s", strerror(errno));
}

struct reply_arg {
	int32_t err;
	uint32_t flags;
};

static void fill_reply(struct vcf_msg *m, const void *arg)
{
	const struct reply_arg *r = arg;

	m->u.reply.err = r->err;
	m->u.reply.flags = r->flags;
}

static void reply(struct fencer *fc, uint32_t seq, int err, uint32_t flags)
{
	struct reply_arg r = { .err = err, .flags = flags };

	send_msg(fc, VCF_REPLY, seq, fill_reply, &r);
}

static void fill_fenced(struct vcf_msg *m, const void *arg)
{
	const struct fencer *fc = arg;

	m->u.fence.reason = fc->reason;
	m->u.fence.action = fc->action;
}

static void fill_pretimeout(struct vcf_msg *m, const void *arg)
{
	m->u.pretimeout.deadline_ns = *(const uint64_t *)arg;
}

/* ------------------------------------------------------------ watchdog */

static void wd_open(struct fencer *fc, uint64_t now)
{
	int timeout_s = 0;

	if (fc->wd_fd >= 0 || !fc->wd_path)
		return;
	/*
	 * The device restarts the whole machine: a simulated host (a PID
	 * namespace) or a fencer not allowed to restart must not feed it.
	 */
	if (!fc->init_pidns || !fc->host_reboot) {
		vcd_info("watchdog %s not used: %s", fc->wd_path,
			 fc->init_pidns ? "no --allow-host-reboot" : "not the initial PID namespace");
		return;
	}
	fc->wd_fd = open(fc->wd_path, O_WRONLY | O_CLOEXEC);
	if (fc->wd_fd < 0) {
		if (errno != ENOENT)
			vcd_warn("cannot open watchdog %s: %s (fencing relies on this process alone)",
				 fc->wd_path, strerror(errno));
		else
			vcd_info("no watchdog device %s: fencing relies on this process alone",
				 fc->wd_path);
		return;
	}
	if (ioctl(fc->wd_fd, WDIOC_GETTIMEOUT, &timeout_s) < 0 || timeout_s <= 0)
		timeout_s = 10;
	/* Three keepalives per device timeout. */
	fc->wd_keepalive_ns = (uint64_t)timeout_s * 1000000000ull / 3;
	fc->wd_next_ns = now;
	vcd_notice("watchdog %s opened, timeout %d s: fed while healthy, not after fencing",
		   fc->wd_path, timeout_s);
}

static void wd_feed(struct fencer *fc, uint64_t now)
{
	if (fc->wd_fd < 0 || fc->fenced || now < fc->wd_next_ns)
		return;
	if (ioctl(fc->wd_fd, WDIOC_KEEPALIVE, 0) < 0 && write(fc->wd_fd, "k", 1) < 0)
		vcd_warn("watchdog keepalive: %s", strerror(errno));
	fc->wd_next_ns = now + fc->wd_keepalive_ns;
}

/* Clean disarm: the magic close stops the device. */
static void wd_magic_close(struct fencer *fc)
{
	if (fc->wd_fd < 0)
		return;
	if (write(fc->wd_fd, "V", 1) != 1)
		vcd_warn("watchdog magic close: %s", strerror(errno));
	close(fc->wd_fd);
	fc->wd_fd = -1;
	fc->wd_keepalive_ns = 0;
}

/* ------------------------------------------------------------ acting */

/* reboot(2) here restarts only a PID namespace, or we were allowed to. */
static bool reboot_allowed(const struct fencer *fc)
{
	return !fc->init_pidns || fc->host_reboot;
}

static void do_restart(struct fencer *fc, const char *why)
{
	if (!reboot_allowed(fc)) {
		vcd_err("node %u: would restart the machine (%s), refused: initial PID namespace without --allow-host-reboot",
			fc->node_id, why);
		return;
	}
	vcd_err("node %u: fenced: %s: restarting %s now", fc->node_id, why,
		fc->init_pidns ? "the machine" : "this PID namespace");
	reboot(RB_AUTOBOOT);
	vcd_err("reboot(RB_AUTOBOOT) failed: %s", strerror(errno));
}

static void do_panic(struct fencer *fc)
{
	int fd;

	if (fc->init_pidns && fc->host_reboot) {
		fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			vcd_err("node %u: fenced: crashing the kernel (sysrq c)", fc->node_id);
			if (write(fd, "c", 1) < 0)
				vcd_err("sysrq c: %s", strerror(errno));
			close(fd);
		}
	}
	/* No sysrq (or a PID namespace, where sysrq would crash the host). */
	do_restart(fc, "panic action");
}

/*
 * SIGKILL to every registered process and the agent, then wait for their
 * pidfds to become readable (gone), at most kill_bound_ms.  Nothing else
 * needs this process meanwhile: the agent is being killed too.
 */
static void do_kill(struct fencer *fc, uint64_t fired_ns)
{
	struct pollfd pfd[MAX_PROCS + 1];
	uint64_t deadline = fired_ns + (uint64_t)fc->kill_bound_ms * NS_PER_MS, now;
	unsigned int i, n = 0, sent = 0, left, agent = 0;
	int r;

	for (i = 0; i < fc->n_procs; i++) {
		r = pidfd_send_kill(fc->procs[i].pidfd);
		if (r == 0)
			sent++;
		else if (r != -ESRCH)
			vcd_err("SIGKILL to pid %d: %s", fc->procs[i].pid, strerror(-r));
		pfd[n++] = (struct pollfd){ .fd = fc->procs[i].pidfd, .events = POLLIN };
	}
	if (fc->agent_pidfd >= 0) {
		agent = pidfd_send_kill(fc->agent_pidfd) == 0;
		pfd[n++] = (struct pollfd){ .fd = fc->agent_pidfd, .events = POLLIN };
	}
	vcd_err("node %u: SIGKILL sent to %u of %u registered processes%s, restarting if any is left in %u ms",
		fc->node_id, sent, fc->n_procs, agent ? " and to the agent" : "",
		fc->kill_bound_ms);

	for (;;) {
		left = 0;
		for (i = 0; i < n; i++) {
			if (pfd[i].fd >= 0 && pidfd_gone(pfd[i].fd))
				pfd[i].fd = -1;
			left += pfd[i].fd >= 0;
		}
		now = now_ns();
		if (!left) {
			vcd_warn("node %u: every registered process is gone, %llu ms after SIGKILL",
				 fc->node_id, (unsigned long long)((now - fired_ns) / NS_PER_MS));
			return;
		}
		if (now > deadline)
			break;
		poll(pfd, n, (int)((deadline - now) / NS_PER_MS) + 1);
	}
	vcd_err("node %u: %u processes still there %llu ms after SIGKILL (kill bound %u ms)",
		fc->node_id, left, (unsigned long long)((now - fired_ns) / NS_PER_MS),
		fc->kill_bound_ms);
	do_restart(fc, "kill bound passed");
}

/* Like o2quo: the numbers the decision used, logged before acting. */
static void fence_log(const struct fencer *fc, uint64_t now)
{
	vcd_log(fc->action == VC_FENCE_ACTION_LOG ? LOG_WARNING : LOG_EMERG,
		"node %u incarnation %llu: fencing (%s), action %s: quorate until %lld ms from now, last pet %lld ms from now, agent timeout %u ms, quorum timeout %u ms, kill bound %u ms, %u processes",
		fc->node_id, (unsigned long long)fc->incarnation, reason_name(fc->reason),
		action_name(fc->action), ms_until(fc->quorate_until_ns, now),
		ms_until(fc->last_pet_ns, now), fc->agent_timeout_ms,
		fc->quorum_timeout_ms, fc->kill_bound_ms, fc->n_procs);
}

/* The one decision to fence: armed, and not fenced yet in this life. */
static void fence_fire(struct fencer *fc, uint8_t reason, uint64_t now)
{
	if (!fc->armed || fc->fenced)
		return;
	fc->fenced = true;
	fc->reason = reason;
	fence_log(fc, now);
	send_msg(fc, VCF_FENCED, 0, fill_fenced, fc);

	switch (fc->action) {
	case VC_FENCE_ACTION_KILL:
		do_kill(fc, now);
		break;
	case VC_FENCE_ACTION_REBOOT:
		do_restart(fc, "reboot action");
		break;
	case VC_FENCE_ACTION_PANIC:
		do_panic(fc);
		break;
	}
}

/* ------------------------------------------------------------ checks */

/* Every wake-up, before any message is read: the deadlines first. */
static void check_deadlines(struct fencer *fc)
{
	uint64_t now = now_ns(), agent_deadline;

	if (!fc->armed || fc->fenced)
		return;
	if (fc->quorum_timeout_ms && now > fc->quorate_until_ns)
		fence_fire(fc, VC_FENCE_REASON_QUORUM, now);
	if (fc->agent_timeout_ms && !fc->fenced) {
		agent_deadline = fc->last_pet_ns + (uint64_t)fc->agent_timeout_ms * NS_PER_MS;
		if (fc->pretimeout_ms && !fc->pretimeout_sent &&
		    now > agent_deadline - (uint64_t)fc->pretimeout_ms * NS_PER_MS) {
			fc->pretimeout_sent = true;
			vcd_warn("node %u: agent has not petted for %llu ms, fencing in %lld ms",
				 fc->node_id,
				 (unsigned long long)((now - fc->last_pet_ns) / NS_PER_MS),
				 ms_until(agent_deadline, now));
			send_msg(fc, VCF_PRETIMEOUT, 0, fill_pretimeout, &agent_deadline);
		}
		if (now > agent_deadline)
			fence_fire(fc, VC_FENCE_REASON_AGENT, now);
	}
	wd_feed(fc, now);
}

static void min_set(uint64_t *t, uint64_t v)
{
	if (!*t || v < *t)
		*t = v;
}

/* The timerfd at the nearest deadline (1 ns past it: checks are strict). */
static void timer_set(struct fencer *fc)
{
	struct itimerspec its = { 0 };
	uint64_t next = 0, agent_deadline;

	if (fc->armed && !fc->fenced) {
		if (fc->quorum_timeout_ms)
			min_set(&next, fc->quorate_until_ns + 1);
		if (fc->agent_timeout_ms) {
			agent_deadline = fc->last_pet_ns + (uint64_t)fc->agent_timeout_ms * NS_PER_MS;
			min_set(&next, agent_deadline + 1);
			if (fc->pretimeout_ms && !fc->pretimeout_sent)
				min_set(&next, agent_deadline -
					(uint64_t)fc->pretimeout_ms * NS_PER_MS + 1);
		}
		if (fc->wd_fd >= 0)
			min_set(&next, fc->wd_next_ns);
	}
	if (next) {
		its.it_value.tv_sec = next / 1000000000ull;
		its.it_value.tv_nsec = next % 1000000000ull;
	}
	if (timerfd_settime(fc->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		vcd_err("timerfd_settime: %s", strerror(errno));
}

/* ------------------------------------------------------------ requests */

static int arm_check(const struct fencer *fc, const struct vcf_msg *m)
{
	const __typeof__(m->u.arm) *a = &m->u.arm;

	if (a->action < VC_FENCE_ACTION_LOG || a->action >= __VC_FENCE_ACTION_MAX)
		return -EINVAL;
	if ((a->agent_timeout_ms && (a->agent_timeout_ms < WATCHDOG_MS_MIN ||
				     a->agent_timeout_ms > WATCHDOG_MS_MAX)) ||
	    (a->quorum_timeout_ms && (a->quorum_timeout_ms < WATCHDOG_MS_MIN ||
				      a->quorum_timeout_ms > WATCHDOG_MS_MAX)))
		return -EINVAL;
	if (a->kill_bound_ms &&
	    (a->kill_bound_ms < KILL_BOUND_MS_MIN || a->kill_bound_ms > KILL_BOUND_MS_MAX))
		return -EINVAL;
	if (a->pretimeout_ms && a->pretimeout_ms >= a->agent_timeout_ms)
		return -EINVAL;
	if (fc->armed && fc->nowayout && !a->nowayout)
		return -EBUSY;
	if ((a->action == VC_FENCE_ACTION_REBOOT || a->action == VC_FENCE_ACTION_PANIC) &&
	    !reboot_allowed(fc)) {
		vcd_err("node %u: refusing to arm with action %s: this is the initial PID namespace (the real machine) and --allow-host-reboot was not given",
			fc->node_id, action_name(a->action));
		return -EPERM;
	}
	return 0;
}

static int req_arm(struct fencer *fc, const struct vcf_msg *m)
{
	uint64_t now = now_ns();
	bool was_armed = fc->armed;
	int r;

	if (fc->fenced)
		return -EBUSY;
	r = arm_check(fc, m);
	if (r)
		return r;
	fc->action = m->u.arm.action;
	fc->nowayout = m->u.arm.nowayout;
	fc->agent_timeout_ms = m->u.arm.agent_timeout_ms;
	fc->quorum_timeout_ms = m->u.arm.quorum_timeout_ms;
	fc->kill_bound_ms = m->u.arm.kill_bound_ms ?: KILL_BOUND_MS_DEFAULT;
	fc->pretimeout_ms = m->u.arm.pretimeout_ms;
	/* Arming starts the quorum deadline; re-arming does not. */
	if (!was_armed)
		fc->quorate_until_ns = now + (uint64_t)fc->quorum_timeout_ms * NS_PER_MS;
	fc->armed = true;
	fc->last_pet_ns = now;
	fc->pretimeout_sent = false;
	if (fc->action != VC_FENCE_ACTION_LOG)
		wd_open(fc, now);
	vcd_notice("node %u: watchdog %s: action %s, agent timeout %u ms (pre-timeout %u ms), quorum timeout %u ms, kill bound %u ms%s",
		   fc->node_id, was_armed ? "re-armed" : "armed", action_name(fc->action),
		   fc->agent_timeout_ms, fc->pretimeout_ms, fc->quorum_timeout_ms,
		   fc->kill_bound_ms, fc->nowayout ? ", nowayout" : "");
	return 0;
}

static int req_disarm(struct fencer *fc)
{
	if (!fc->armed)
		return -EINVAL;
	if (fc->nowayout) {
		vcd_warn("node %u: disarm refused: nowayout", fc->node_id);
		return -EBUSY;
	}
	if (fc->fenced)
		return -EBUSY;
	fc->armed = false;
	wd_magic_close(fc);
	vcd_notice("node %u: watchdog disarmed", fc->node_id);
	return 0;
}

static void procs_prune(struct fencer *fc)
{
	unsigned int i, n = 0;

	for (i = 0; i < fc->n_procs; i++) {
		if (pidfd_gone(fc->procs[i].pidfd)) {
			close(fc->procs[i].pidfd);
			continue;
		}
		fc->procs[n++] = fc->procs[i];
	}
	fc->n_procs = n;
}

static int req_proc_add(struct fencer *fc, const struct vcf_msg *m, int pidfd)
{
	unsigned int i;

	if (pidfd < 0)
		return -EBADF;
	if (fc->fenced)
		return -EBUSY;
	procs_prune(fc);
	for (i = 0; i < fc->n_procs; i++)
		if (fc->procs[i].pid == m->u.proc.pid)
			return -EEXIST;
	if (fc->n_procs >= MAX_PROCS)
		return -ENOSPC;
	fc->procs[fc->n_procs++] = (struct proc){ .pid = m->u.proc.pid, .pidfd = pidfd };
	vcd_info("node %u: process %d registered (%u in all)", fc->node_id,
		 m->u.proc.pid, fc->n_procs);
	return 0;
}

static int req_proc_del(struct fencer *fc, const struct vcf_msg *m)
{
	unsigned int i;

	for (i = 0; i < fc->n_procs; i++) {
		if (fc->procs[i].pid != m->u.proc.pid)
			continue;
		close(fc->procs[i].pidfd);
		fc->procs[i] = fc->procs[--fc->n_procs];
		return 0;
	}
	return -ENOENT;
}

static uint32_t hello_flags(const struct fencer *fc)
{
	return (fc->init_pidns ? VCF_HELLO_F_INIT_PIDNS : 0) |
	       (reboot_allowed(fc) ? VCF_HELLO_F_HOST_REBOOT : 0) |
	       (fc->wd_path && fc->init_pidns && fc->host_reboot ? VCF_HELLO_F_WATCHDOG : 0);
}

/* One request; @pidfd is a descriptor that came with it (or -1). */
static void handle(struct fencer *fc, const struct vcf_msg *m, int pidfd)
{
	uint64_t now;
	int r;

	switch (m->type) {
	case VCF_HELLO:
		fc->node_id = m->u.hello.node_id;
		fc->incarnation = m->u.hello.incarnation;
		vcd_info("node %u incarnation %llu: fencer ready (%s PID namespace%s)",
			 fc->node_id, (unsigned long long)fc->incarnation,
			 fc->init_pidns ? "initial" : "a child",
			 reboot_allowed(fc) ? ", may restart" : ", will not restart the machine");
		reply(fc, m->seq, 0, hello_flags(fc));
		break;
	case VCF_ARM:
		reply(fc, m->seq, req_arm(fc, m), 0);
		break;
	case VCF_PET:
		if (fc->armed && !fc->fenced) {
			fc->last_pet_ns = now_ns();
			fc->pretimeout_sent = false;
		}
		break;
	case VCF_QUORATE_UNTIL:
		/* check_deadlines() ran first: an old deadline already fired. */
		if (fc->armed && !fc->fenced && m->u.quorate_until.deadline_ns > fc->quorate_until_ns)
			fc->quorate_until_ns = m->u.quorate_until.deadline_ns;
		break;
	case VCF_FENCE_NOW:
		now = now_ns();
		fence_fire(fc, (uint8_t)m->u.fence.reason, now);
		break;
	case VCF_PROC_ADD:
		r = req_proc_add(fc, m, pidfd);
		if (r == 0)
			pidfd = -1;	/* kept */
		reply(fc, m->seq, r, 0);
		break;
	case VCF_PROC_DEL:
		reply(fc, m->seq, req_proc_del(fc, m), 0);
		break;
	case VCF_DISARM:
		reply(fc, m->seq, req_disarm(fc), 0);
		break;
	default:
		vcd_warn("unknown request type %u", m->type);
		reply(fc, m->seq, -EOPNOTSUPP, 0);
		break;
	}
	if (pidfd >= 0)
		close(pidfd);
}

/* Read every queued request.  Returns false at EOF. */
static bool read_requests(struct fencer *fc)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	struct vcf_msg m;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t n;
	int pidfd;

	for (;;) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		n = recvmsg(fc->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		if (n == 0)
			return false;
		pidfd = -1;
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			int fds[4];
			size_t k, nfd;

			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds, CMSG_DATA(c), nfd * sizeof(int));
			for (k = 0; k < nfd; k++) {
				if (pidfd < 0)
					pidfd = fds[k];
				else
					close(fds[k]);
			}
		}
		if (n != sizeof(m) || m.version != VCF_PROTO_VERSION) {
			vcd_warn("dropped a request of %zd bytes, version %u (want %u)", n,
				 n >= 2 ? m.version : 0, VCF_PROTO_VERSION);
			if (n >= 8)
				reply(fc, m.seq, -EPROTO, 0);
			if (pidfd >= 0)
				close(pidfd);
			continue;
		}
		handle(fc, &m, pidfd);
	}
}

/* ------------------------------------------------------------ setup */

static void setup_realtime(void)
{
	struct sched_param sp = { .sched_priority = FIFO_PRIORITY };

	if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		vcd_warn("mlockall: %s (continuing unlocked: paging may delay fencing)",
			 strerror(errno));
	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) < 0)
		vcd_warn("SCHED_FIFO priority %d: %s (continuing at normal priority: load may delay fencing)",
			 FIFO_PRIORITY, strerror(errno));
}

static bool in_init_pidns(void)
{
	struct stat st;

	/* Unknown counts as the real machine: the safe side. */
	if (stat("/proc/self/ns/pid", &st) < 0)
		return true;
	return st.st_ino == INIT_PIDNS_INO;
}

static int setup_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* SIGTERM & co.: leave only when unarmed (rule 5: nothing stops quietly). */
static bool read_signal(struct fencer *fc)
{
	struct signalfd_siginfo si;

	while (read(fc->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (!fc->armed || fc->fenced) {
			vcd_info("signal %u: exiting", si.ssi_signo);
			return false;
		}
		vcd_warn("node %u: signal %u ignored while armed (disarm through the agent, or its exit fences)",
			 fc->node_id, si.ssi_signo);
	}
	return true;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vcluster-fencer [--allow-host-reboot] [--watchdog DEV | --no-watchdog]\n"
		"                       [--log-level LEVEL] [--syslog]\n"
		"\n"
		"Started by vclusterd (transport = user) with its socket on fd 3 and a pidfd\n"
		"of the agent on fd 4; not meant to be run by hand.\n"
		"\n"
		"  --allow-host-reboot  let the reboot and panic actions (and the kill\n"
		"                       action's escalation) restart the machine when this\n"
		"                       runs in the initial PID namespace; also\n"
		"                       VCLUSTER_FENCER_ALLOW_HOST_REBOOT=1\n"
		"  --watchdog DEV       watchdog device fed while healthy (default /dev/watchdog)\n"
		"  --no-watchdog        feed none\n"
		"  --log-level LEVEL    err, warning, notice, info (default), debug\n"
		"  --syslog             log to syslog instead of stderr\n");
}

static int parse_args(int argc, char **argv, struct fencer *fc, int *level, bool *use_syslog)
{
	static const struct option opts[] = {
		{ "allow-host-reboot", no_argument, NULL, 'R' },
		{ "watchdog", required_argument, NULL, 'w' },
		{ "no-watchdog", no_argument, NULL, 'W' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "syslog", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *env = getenv("VCLUSTER_FENCER_ALLOW_HOST_REBOOT");
	int c;

	fc->host_reboot = env && strcmp(env, "1") == 0;
	fc->wd_path = "/dev/watchdog";
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'R':
			fc->host_reboot = true;
			break;
		case 'w':
			fc->wd_path = optarg;
			break;
		case 'W':
			fc->wd_path = NULL;
			break;
		case 'l':
			if (vcd_log_parse_level(optarg, level) < 0) {
				fprintf(stderr, "vcluster-fencer: unknown log level '%s' (valid: err, warning, notice, info, debug)\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 's':
			*use_syslog = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static int check_fds(struct fencer *fc)
{
	int type = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(VCF_SOCK_FD, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_SEQPACKET) {
		vcd_err("fd %d is not a SOCK_SEQPACKET socket: vcluster-fencer is started by vclusterd",
			VCF_SOCK_FD);
		return -EBADF;
	}
	fc->sock = VCF_SOCK_FD;
	fcntl(fc->sock, F_SETFD, FD_CLOEXEC);
	fc->agent_pidfd = fcntl(VCF_AGENT_PIDFD, F_GETFD) < 0 ? -1 : VCF_AGENT_PIDFD;
	if (fc->agent_pidfd < 0)
		vcd_warn("no agent pidfd on fd %d: the kill action will not kill the agent",
			 VCF_AGENT_PIDFD);
	else
		fcntl(fc->agent_pidfd, F_SETFD, FD_CLOEXEC);
	return 0;
}

/* After fencing the agent may still talk (action log); wait for EOF. */
static int run(struct fencer *fc)
{
	struct pollfd pfd[3];
	uint64_t ticks;
	bool open = true;

	while (open) {
		timer_set(fc);
		pfd[0] = (struct pollfd){ .fd = fc->sock, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = fc->tfd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = fc->sfd, .events = POLLIN };
		if (poll(pfd, 3, -1) < 0 && errno != EINTR) {
			vcd_err("poll: %s", strerror(errno));
			return 1;
		}
		/* Rule 3: the deadlines before anything that could extend them. */
		check_deadlines(fc);
		if (pfd[1].revents & POLLIN && read(fc->tfd, &ticks, sizeof(ticks)) < 0 &&
		    errno != EAGAIN)
			vcd_warn("timerfd: %s", strerror(errno));
		if (pfd[2].revents & POLLIN && !read_signal(fc))
			return 0;
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			open = read_requests(fc);
		check_deadlines(fc);
	}
	if (fc->armed && !fc->fenced) {
		vcd_err("node %u: the agent's socket closed while armed", fc->node_id);
		fc->sock = -1;
		fence_fire(fc, VC_FENCE_REASON_STOPPED, now_ns());
	} else {
		vcd_info("node %u: the agent's socket closed; %s", fc->node_id,
			 fc->fenced ? "fenced, exiting" : "not armed, exiting");
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct fencer fc = { .sock = -1, .agent_pidfd = -1, .wd_fd = -1 };
	bool use_syslog = false;
	int level = LOG_INFO;

	vcd_log_init("vcluster-fencer", false, level);
	if (parse_args(argc, argv, &fc, &level, &use_syslog) < 0)
		return 2;
	vcd_log_init("vcluster-fencer", use_syslog, level);
	if (check_fds(&fc) < 0)
		return 2;
#ifdef SYS_close_range
	/* Whatever else the agent let us inherit is not ours to hold open. */
	syscall(SYS_close_range, VCF_AGENT_PIDFD + 1, ~0u, 0);
#endif
	fc.init_pidns = in_init_pidns();
	setup_realtime();
	fc.tfd = timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	fc.sfd = setup_signals();
	if (fc.tfd < 0 || fc.sfd < 0) {
		vcd_err("timerfd/signalfd: %s", strerror(errno));
		return 1;
	}
	return run(&fc);
}
