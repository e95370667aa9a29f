// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The agent's side of vcluster-fencer (fencer-client.h, fencer-proto.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fencer-client.h"
#include "fencer-proto.h"
#include "log.h"

struct vcd_fencer {
	uv_loop_t *loop;
	struct vcd_fencer_cb cb;
	uv_process_t proc;
	uv_poll_t poll;
	int sock;			/* our end, non-blocking, close-on-exec */
	uint32_t seq;
	uint32_t flags;			/* VCF_HELLO_F_* */
	pid_t pid;
	bool proc_open, poll_open;
	bool ready;			/* spawned and answered HELLO */
	bool gone;			/* gone() was called */
	bool closing;
	int pending_closes;
};

static void fencer_free_maybe(struct vcd_fencer *f)
{
	if (f->closing && f->pending_closes == 0)
		free(f);
}

static void fencer_handle_closed(uv_handle_t *h)
{
	struct vcd_fencer *f = h->data;

	f->pending_closes--;
	fencer_free_maybe(f);
}

static void fencer_gone(struct vcd_fencer *f, int err)
{
	if (f->gone)
		return;
	f->gone = true;
	if (f->poll_open)
		uv_poll_stop(&f->poll);
	/* Before HELLO was answered, vcd_fencer_spawn() reports it. */
	if (f->ready && !f->closing && f->cb.gone)
		f->cb.gone(f->cb.ctx, err);
}

static void msg_init(struct vcd_fencer *f, struct vcf_msg *m, uint16_t type)
{
	memset(m, 0, sizeof(*m));
	m->version = VCF_PROTO_VERSION;
	m->type = type;
	m->seq = ++f->seq;
}

static int fencer_send(struct vcd_fencer *f, const struct vcf_msg *m, int pass_fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

	if (f->gone)
		return -EPIPE;
	if (pass_fd >= 0) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	n = sendmsg(f->sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	return n == sizeof(*m) ? 0 : -EIO;
}

/* A notification (not a REPLY): hand it to the callbacks. */
static void fencer_dispatch(struct vcd_fencer *f, const struct vcf_msg *m)
{
	switch (m->type) {
	case VCF_PRETIMEOUT:
		if (f->cb.pretimeout && f->ready && !f->closing)
			f->cb.pretimeout(f->cb.ctx, m->u.pretimeout.deadline_ns);
		break;
	case VCF_FENCED:
		if (f->cb.fenced && f->ready && !f->closing)
			f->cb.fenced(f->cb.ctx, m->u.fence.reason, m->u.fence.action);
		break;
	case VCF_REPLY:
		/* An answer nobody waits for any more (timed out). */
		vcd_debug("fencer: late reply to request %u: %d", m->seq, m->u.reply.err);
		break;
	default:
		vcd_warn("fencer: unexpected message type %u", m->type);
		break;
	}
}

/* One message, or -EAGAIN, or -EPIPE at EOF. */
static int fencer_recv(struct vcd_fencer *f, struct vcf_msg *m)
{
	ssize_t n;

	n = recv(f->sock, m, sizeof(*m), MSG_DONTWAIT);
	if (n < 0)
		return errno == EINTR ? -EAGAIN : -errno;
	if (n == 0)
		return -EPIPE;
	if (n != sizeof(*m) || m->version != VCF_PROTO_VERSION) {
		vcd_warn("fencer: dropped a message of %zd bytes, version %u", n,
			 n >= 2 ? m->version : 0);
		return -EBADMSG;
	}
	return 0;
}

static void fencer_readable(uv_poll_t *h, int status, int events)
{
	struct vcd_fencer *f = h->data;
	struct vcf_msg m;
	int r;

	(void)events;
	if (status < 0) {
		fencer_gone(f, status);
		return;
	}
	for (;;) {
		r = fencer_recv(f, &m);
		if (r == -EAGAIN || r == -EWOULDBLOCK)
			return;
		if (r == -EBADMSG)
			continue;
		if (r < 0) {
			fencer_gone(f, r);
			return;
		}
		fencer_dispatch(f, &m);
		/* A callback may have closed us (freed once the loop runs). */
		if (f->closing)
			return;
	}
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for the REPLY to @seq; notifications meanwhile are dispatched. */
static int fencer_wait_reply(struct vcd_fencer *f, uint32_t seq, uint32_t *ret_flags)
{
	int64_t end = mono_ms() + VCD_FENCER_CALL_MS, left;
	struct pollfd pfd = { .fd = f->sock, .events = POLLIN };
	struct vcf_msg m;
	int r;

	for (;;) {
		r = fencer_recv(f, &m);
		if (r == 0 && m.type == VCF_REPLY && m.seq == seq) {
			if (ret_flags)
				*ret_flags = m.u.reply.flags;
			return m.u.reply.err;
		}
		if (r == 0) {
			fencer_dispatch(f, &m);
			if (f->closing)
				return -ECANCELED;
			continue;
		}
		if (r == -EBADMSG)
			continue;
		if (r != -EAGAIN && r != -EWOULDBLOCK) {
			fencer_gone(f, r);
			return r;
		}
		left = end - mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
	}
}

static int fencer_call(struct vcd_fencer *f, struct vcf_msg *m, int pass_fd,
		       uint32_t *ret_flags)
{
	int r = fencer_send(f, m, pass_fd);

	if (r < 0)
		return r;
	return fencer_wait_reply(f, m->seq, ret_flags);
}

static void fencer_exited(uv_process_t *p, int64_t status, int signo)
{
	struct vcd_fencer *f = p->data;

	if (signo)
		vcd_err("fencer (pid %d) killed by signal %d", f->pid, signo);
	else if (!f->closing)
		vcd_err("fencer (pid %d) exited with status %lld", f->pid, (long long)status);
	fencer_gone(f, -EPIPE);
}

/* The fencer binary next to ours when no path is configured. */
static void default_path(char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash && (size_t)(slash - self) + sizeof("/vcluster-fencer") <= size) {
			memcpy(buf, self, slash - self);
			strcpy(buf + (slash - self), "/vcluster-fencer");
			return;
		}
	}
	snprintf(buf, size, "vcluster-fencer");
}

static int pidfd_open_(pid_t pid)
{
	long fd = syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : (int)fd;
}

static int fencer_exec(struct vcd_fencer *f, const struct vcd_fencer_opts *o,
		       int child_sock, int agent_pidfd)
{
	uv_stdio_container_t stdio[5] = {
		{ .flags = UV_INHERIT_FD, .data.fd = 0 },
		{ .flags = UV_INHERIT_FD, .data.fd = 1 },
		{ .flags = UV_INHERIT_FD, .data.fd = 2 },
		{ .flags = UV_INHERIT_FD, .data.fd = child_sock },
		{ .flags = UV_INHERIT_FD, .data.fd = agent_pidfd },
	};
	char path[PATH_MAX];
	char *argv[8];
	int argc = 0, r;
	uv_process_options_t po;

	if (o->path && o->path[0])
		snprintf(path, sizeof(path), "%s", o->path);
	else
		default_path(path, sizeof(path));
	argv[argc++] = path;
	if (o->log_level && o->log_level[0]) {
		argv[argc++] = "--log-level";
		argv[argc++] = (char *)o->log_level;
	}
	if (o->syslog)
		argv[argc++] = "--syslog";
	argv[argc] = NULL;

	memset(&po, 0, sizeof(po));
	po.file = path;
	po.args = argv;
	po.exit_cb = fencer_exited;
	po.stdio = stdio;
	po.stdio_count = 5;
	/* Its own session: ^C or a kill of our process group spares it. */
	po.flags = UV_PROCESS_DETACHED;
	f->proc.data = f;
	r = uv_spawn(f->loop, &f->proc, &po);
	if (r < 0) {
		vcd_err("cannot start the fencer %s: %s", path, uv_strerror(r));
		/* A failed uv_spawn still initialised the handle. */
		f->proc_open = true;
		return r;
	}
	f->proc_open = true;
	f->pid = f->proc.pid;
	return 0;
}

static int fencer_hello(struct vcd_fencer *f, const struct vcd_fencer_opts *o)
{
	struct vcf_msg m;
	int r;

	msg_init(f, &m, VCF_HELLO);
	m.u.hello.node_id = o->node_id;
	m.u.hello.incarnation = o->incarnation;
	r = fencer_call(f, &m, -1, &f->flags);
	if (r == -EPIPE)
		vcd_err("fencer (pid %d) exited before answering (wrong binary, or it failed to start: see its log)",
			f->pid);
	else if (r == -EPROTO)
		vcd_err("fencer (pid %d) speaks another protocol version than %u (an old binary?)",
			f->pid, VCF_PROTO_VERSION);
	else if (r < 0)
		vcd_err("fencer (pid %d) did not answer: %s", f->pid, strerror(-r));
	return r;
}

int vcd_fencer_spawn(uv_loop_t *loop, const struct vcd_fencer_opts *opts,
		     const struct vcd_fencer_cb *cb, struct vcd_fencer **ret)
{
	struct vcd_fencer *f;
	int sv[2] = { -1, -1 }, pidfd, r;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->loop = loop;
	f->cb = *cb;
	f->sock = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		free(f);
		return r;
	}
	pidfd = pidfd_open_(getpid());
	if (pidfd < 0) {
		r = pidfd;
		vcd_err("pidfd_open of ourselves: %s (the fencer needs Linux 5.3 or later)",
			strerror(-r));
		close(sv[0]);
		close(sv[1]);
		free(f);
		return r;
	}
	f->sock = sv[0];
	fcntl(f->sock, F_SETFL, fcntl(f->sock, F_GETFL) | O_NONBLOCK);
	r = fencer_exec(f, opts, sv[1], pidfd);
	close(sv[1]);
	close(pidfd);
	if (r == 0)
		r = fencer_hello(f, opts);
	if (r == 0) {
		r = uv_poll_init(loop, &f->poll, f->sock);
		if (r == 0) {
			f->poll_open = true;
			f->poll.data = f;
			r = uv_poll_start(&f->poll, UV_READABLE | UV_DISCONNECT, fencer_readable);
		}
	}
	if (r < 0) {
		if (f->pid > 0)
			uv_process_kill(&f->proc, SIGKILL);
		vcd_fencer_close(f);
		return r;
	}
	f->ready = true;
	*ret = f;
	return 0;
}

uint32_t vcd_fencer_flags(const struct vcd_fencer *f)
{
	return f->flags;
}

pid_t vcd_fencer_pid(const struct vcd_fencer *f)
{
	return f->pid;
}

int vcd_fencer_arm(struct vcd_fencer *f, const struct vcd_fencer_arm *arm)
{
	struct vcf_msg m;

	msg_init(f, &m, VCF_ARM);
	m.u.arm.action = arm->action;
	m.u.arm.nowayout = arm->nowayout;
	m.u.arm.agent_timeout_ms = arm->agent_timeout_ms;
	m.u.arm.quorum_timeout_ms = arm->quorum_timeout_ms;
	m.u.arm.kill_bound_ms = arm->kill_bound_ms;
	m.u.arm.pretimeout_ms = arm->pretimeout_ms;
	return fencer_call(f, &m, -1, NULL);
}

int vcd_fencer_disarm(struct vcd_fencer *f)
{
	struct vcf_msg m;

	msg_init(f, &m, VCF_DISARM);
	return fencer_call(f, &m, -1, NULL);
}

int vcd_fencer_proc_add(struct vcd_fencer *f, pid_t pid)
{
	struct vcf_msg m;
	int pidfd, r;

	if (pid <= 0)
		return -EINVAL;
	/* Opened here and now: the fencer never sees a PID that was reused. */
	pidfd = pidfd_open_(pid);
	if (pidfd < 0)
		return pidfd;
	msg_init(f, &m, VCF_PROC_ADD);
	m.u.proc.pid = pid;
	r = fencer_call(f, &m, pidfd, NULL);
	close(pidfd);
	return r;
}

int vcd_fencer_proc_del(struct vcd_fencer *f, pid_t pid)
{
	struct vcf_msg m;

	msg_init(f, &m, VCF_PROC_DEL);
	m.u.proc.pid = pid;
	return fencer_call(f, &m, -1, NULL);
}

int vcd_fencer_pet(struct vcd_fencer *f)
{
	struct vcf_msg m;

	msg_init(f, &m, VCF_PET);
	return fencer_send(f, &m, -1);
}

int vcd_fencer_quorate_until(struct vcd_fencer *f, uint64_t deadline_ns)
{
	struct vcf_msg m;

	msg_init(f, &m, VCF_QUORATE_UNTIL);
	m.u.quorate_until.deadline_ns = deadline_ns;
	return fencer_send(f, &m, -1);
}

int vcd_fencer_fence_now(struct vcd_fencer *f, uint8_t reason)
{
	struct vcf_msg m;

	msg_init(f, &m, VCF_FENCE_NOW);
	m.u.fence.reason = reason;
	return fencer_send(f, &m, -1);
}

void vcd_fencer_close(struct vcd_fencer *f)
{
	if (!f || f->closing)
		return;
	f->closing = true;
	if (f->poll_open) {
		uv_poll_stop(&f->poll);
		f->pending_closes++;
		uv_close((uv_handle_t *)&f->poll, fencer_handle_closed);
	}
	/* After uv_close of the poll handle: it must not watch a closed fd. */
	if (f->sock >= 0)
		close(f->sock);
	f->sock = -1;
	if (f->proc_open) {
		f->pending_closes++;
		uv_close((uv_handle_t *)&f->proc, fencer_handle_closed);
	}
	fencer_free_maybe(f);
}
