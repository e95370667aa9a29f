// SPDX-License-Identifier: GPL-2.0
/*
 * vmcheck - the invariant checker of VM failover tests.
 *
 *   vmcheck record --out FILE [--scan-ms N] [--full-scan-ms N] [--no-exec-events]
 *   vmcheck verify FILE [--host NAME=NETNS_INODE]...
 *                       [--expect-restart "HOST T_NS BOUND_MS VM[,VM...]"]...
 *                       [--vcpu-noise-us N]
 *   vmcheck now
 *
 * record watches every QEMU process (any qemu-system-* executable) on this
 * kernel, whatever its network/PID namespace, and writes one JSON line per
 * lifetime start and end until SIGTERM/SIGINT.  It never signals a QEMU.
 * verify reads such a file and fails (exit 1) when two lifetimes of one VM
 * overlap while both execute the guest, or when a VM did not start again
 * within a bound.  All times are CLOCK_BOOTTIME ns ("vmcheck now").
 *
 * Live migration: the destination QEMU (started with -incoming) lives
 * beside the source, paused until the source has paused.  So while two
 * lifetimes of one VM live, record samples the CPU time of each one's vCPU
 * threads at every scan ("vcpu" lines), and verify accepts the overlap when
 * the later lifetime has -incoming and no scan interval saw both run more
 * than a noise floor (QEMU's own work on a paused vCPU thread, measured
 * at up to about 0.5 ms).  Any other overlap is a violation, as before.
 *
 * How a lifetime is timed:
 *  - start: the kernel's exec event (proc connector, CONFIG_PROC_EVENTS) of
 *    the process when we have it, else /proc/PID/stat starttime (the fork,
 *    truncated to a clock tick).  Both are at or before the real start, so
 *    an error can only make an overlap look longer, never hide one.
 *  - end: the moment poll() reports the pidfd readable (the process has
 *    exited), i.e. at or after the real end, for the same reason.
 *  - discovery: each exec event triggers an immediate look at that process;
 *    /proc is also scanned every --scan-ms (new PIDs) and fully every
 *    --full-scan-ms (PIDs that exec'd QEMU after we first saw them).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define VM_NAME_MAX 128
#define HOST_MAX 64
#define EXEC_RING 8192		/* recent exec events, indexed by pid */
#define DONE_RING 4096		/* recently ended lifetimes (pid, start tick) */
#define SEEN_MAX 65536		/* pids seen by the last scan */
#define INCOMING_MAX 256	/* -incoming's argument, as recorded */
/*
 * verify's default noise floor: vCPU threads that ran at most this in a
 * sample interval may have done QEMU's own work rather than the guest's.
 * Measured under TCG (QEMU 7.2, 1 vCPU): the source pausing 30-50 us; on
 * the destination, work queued to the paused vCPU while the machine is set
 * up 350-400 us, loading the CPU state 100-200 us.
 */
#define NOISE_US_DEFAULT 1000
#define NOISE_US_MAX 1000000
/*
 * The recorder's nice value, when it may: a scan that comes late stretches
 * a sample interval, and one long interval can hold both the source's last
 * run and the destination's first.  It needs little CPU.
 */
#define RECORD_NICE -10

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CLOCK_BOOTTIME - CLOCK_MONOTONIC: the exec events carry monotonic ns. */
static int64_t boot_minus_mono_ns(void)
{
	struct timespec m;
	int64_t b = now_ns();

	clock_gettime(CLOCK_MONOTONIC, &m);
	return b - ((int64_t)m.tv_sec * 1000000000 + m.tv_nsec);
}

/* ------------------------------------------------------------------ record */

/* One vCPU thread (all threads when they are not named) of a sampled QEMU. */
struct vthread {
	pid_t tid;
	uint64_t cpu_ns;	/* its schedstat run time at the last sample */
	bool seen;		/* in the current sample */
};

/* What the recorder takes from a QEMU's command line. */
struct qemu_args {
	char vm[VM_NAME_MAX];
	char incoming[INCOMING_MAX];	/* -incoming's value; "" without */
	bool named_threads;		/* -name ...,debug-threads=on */
};

struct life {
	pid_t pid;
	int pidfd;
	unsigned long long start_tick;
	char vm[VM_NAME_MAX];
	bool named_threads;
	/*
	 * Guest execution, sampled while another lifetime of the VM lives:
	 * vcpu_ns adds up what the threads ran between samples (a thread's
	 * time before its first sample is not counted: see sample_life).
	 */
	bool sampling;
	int64_t sample_ns;		/* the last sample's time */
	uint64_t vcpu_ns, emitted_vcpu_ns;
	struct vthread *threads;
	size_t n_threads, cap_threads;
};

struct exec_ev {
	pid_t pid;
	int64_t boot_ns;
};

struct done_ev {
	pid_t pid;
	unsigned long long start_tick;
};

struct rec {
	int out_fd;
	int scan_ms, full_scan_ms;
	long tick_hz;
	int cn_fd;		/* -1: no exec events */
	int sig_fd;
	struct life *lives;
	size_t n_lives, cap_lives;
	struct exec_ev exec_ring[EXEC_RING];
	struct done_ev done_ring[DONE_RING];
	size_t done_next;
	/* pids of the previous scan, sorted, so a scan reads only new ones */
	pid_t *seen, *seen_next;
	size_t n_seen;
};

static void emit(struct rec *r, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t len;

	json_decref(obj);
	if (!s)
		return;
	len = strlen(s);
	s[len] = '\n';		/* json_dumps' buffer has room for the NUL */
	/* One write per line: a reader never sees half a line. */
	if (write(r->out_fd, s, len + 1) < 0)
		perror("vmcheck: write");
	free(s);
}

/* strlcpy: a VM or netns name longer than our field is cut, not fatal */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

static ssize_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = 0;
	close(fd);
	return n;
}

static bool is_qemu_exe(pid_t pid)
{
	char path[64], exe[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = 0;
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	return strncmp(base, "qemu-system-", 12) == 0;
}

/* Field 22 of /proc/PID/stat (after the parenthesised comm). */
static int stat_start_tick(pid_t pid, unsigned long long *tick, char *state)
{
	char path[64], buf[1024], *p;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -ESRCH;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EINVAL;
	p += 2;
	*state = *p;
	/* p is at field 3; skip to field 22 */
	for (i = 3; i < 22; i++) {
		p = strchr(p, ' ');
		if (!p)
			return -EINVAL;
		p++;
	}
	*tick = strtoull(p, NULL, 10);
	return 0;
}

/*
 * The VM name from QEMU's argv: "-name guest=NAME,debug-threads=on" (libvirt),
 * "-name NAME" or "-name NAME,process=...".  ",," is an escaped comma.
 * debug-threads=on names the vCPU threads ("CPU 0/TCG").
 */
static void parse_opt_name(const char *arg, struct qemu_args *q)
{
	char *vm = q->vm;
	size_t size = sizeof(q->vm);
	const char *p = arg;
	bool first = true;

	vm[0] = 0;
	while (*p) {
		char elem[VM_NAME_MAX * 2];
		size_t n = 0;

		while (*p && !(p[0] == ',' && p[1] != ',')) {
			if (p[0] == ',' && p[1] == ',')
				p++;
			if (n + 1 < sizeof(elem))
				elem[n++] = *p;
			p++;
		}
		elem[n] = 0;
		if (*p == ',')
			p++;
		if (strncmp(elem, "guest=", 6) == 0)
			copy_str(vm, size, elem + 6);
		else if (strcmp(elem, "debug-threads=on") == 0)
			q->named_threads = true;
		else if (first && !strchr(elem, '='))
			copy_str(vm, size, elem);
		first = false;
	}
}

static bool is_opt(const char *arg, const char *name)
{
	return arg[0] == '-' && (strcmp(arg + 1, name) == 0 ||
				 (arg[1] == '-' && strcmp(arg + 2, name) == 0));
}

/* The VM name and what else we need from the command line of QEMU @pid. */
static int qemu_args(pid_t pid, struct qemu_args *q)
{
	char path[64], buf[16384];
	ssize_t n;
	char *a, *end;

	memset(q, 0, sizeof(*q));
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	n = read_file(path, buf, sizeof(buf));
	if (n <= 0)
		return -ESRCH;
	end = buf + n;
	for (a = buf; a < end; a += strlen(a) + 1) {
		char *next = a + strlen(a) + 1;

		if (next >= end)
			break;
		if (is_opt(a, "name"))
			parse_opt_name(next, q);
		else if (is_opt(a, "incoming"))
			copy_str(q->incoming, sizeof(q->incoming), next);
	}
	return q->vm[0] ? 0 : -ENOENT;
}

static unsigned long long netns_inode(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	if (stat(path, &st) < 0)
		return 0;
	return st.st_ino;
}

/* The name of the netns under /run/netns (ip netns add), if any. */
static void netns_name(unsigned long long ino, char *name, size_t size)
{
	DIR *d = opendir("/run/netns");
	struct dirent *de;

	snprintf(name, size, "netns:%llu", ino);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		if (stat(path, &st) == 0 && st.st_ino == ino) {
			copy_str(name, size, de->d_name);
			break;
		}
	}
	closedir(d);
}

static bool is_done(struct rec *r, pid_t pid, unsigned long long tick)
{
	for (size_t i = 0; i < DONE_RING; i++)
		if (r->done_ring[i].pid == pid &&
		    r->done_ring[i].start_tick == tick)
			return true;
	return false;
}

static void mark_done(struct rec *r, pid_t pid, unsigned long long tick)
{
	r->done_ring[r->done_next].pid = pid;
	r->done_ring[r->done_next].start_tick = tick;
	r->done_next = (r->done_next + 1) % DONE_RING;
}

static bool is_tracked(struct rec *r, pid_t pid)
{
	for (size_t i = 0; i < r->n_lives; i++)
		if (r->lives[i].pid == pid)
			return true;
	return false;
}

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static json_t *life_event(const char *ev, const struct life *l)
{
	return json_pack("{s:s, s:s, s:i}", "ev", ev, "vm", l->vm,
			 "pid", (json_int_t)l->pid);
}

static void emit_end(struct rec *r, const struct life *l, int64_t end_ns,
		     const char *how)
{
	json_t *o = life_event("end", l);

	json_object_set_new(o, "end_ns", json_integer(end_ns));
	json_object_set_new(o, "end_src", json_string(how));
	/* what came after the last sample was not seen (verify says so) */
	if (l->sampling)
		json_object_set_new(o, "sampled_until_ns", json_integer(l->sample_ns));
	emit(r, o);
	mark_done(r, l->pid, l->start_tick);
}

/* ------------------------------------------------------- guest execution */

/*
 * A vCPU thread as QEMU names it with debug-threads=on: "CPU 0/TCG",
 * "CPU 3/KVM", or "ALL CPUs/TCG" (round-robin TCG).
 */
static bool is_vcpu_comm(const char *comm)
{
	return (strncmp(comm, "CPU ", 4) == 0 || strncmp(comm, "ALL CPUs", 8) == 0) &&
	       strchr(comm, '/');
}

#define PF_EXITING_ 0x4	/* the kernel's PF_EXITING, in /proc stat's flags */

/*
 * The thread is exiting: field 9 of its stat (the kernel's task flags) has
 * PF_EXITING.  The last thread of a process to exit tears the address
 * space down (0.7 ms for a 128 MiB TCG guest, more for larger ones), which
 * is no guest execution.
 */
static bool thread_exiting(const char *stat)
{
	const char *p = strrchr(stat, ')');
	int i;

	for (i = 2; p && i < 9; i++) {
		p = strchr(p + 1, ' ');
	}
	return p && (strtoul(p + 1, NULL, 10) & PF_EXITING_);
}

/*
 * The first field of /proc/PID/task/TID/schedstat: ns spent running.
 * -ENOENT for a thread that is not a vCPU (with @vcpu_only) or is exiting.
 */
static int thread_cpu_ns(pid_t pid, pid_t tid, bool vcpu_only, uint64_t *ns)
{
	char path[96], buf[1024];

	if (vcpu_only) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
		if (read_file(path, buf, sizeof(buf)) <= 0)
			return -ESRCH;
		buf[strcspn(buf, "\n")] = 0;
		if (!is_vcpu_comm(buf))
			return -ENOENT;
	}
	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", pid, tid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -ESRCH;
	*ns = strtoull(buf, NULL, 10);
	/* read after the time: a thread exiting by then may have torn down */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -ESRCH;
	return thread_exiting(buf) ? -ENOENT : 0;
}

static struct vthread *find_thread(struct life *l, pid_t tid)
{
	for (size_t i = 0; i < l->n_threads; i++)
		if (l->threads[i].tid == tid)
			return &l->threads[i];
	return NULL;
}

static struct vthread *add_thread(struct life *l, pid_t tid, uint64_t cpu_ns)
{
	if (l->n_threads == l->cap_threads) {
		size_t cap = l->cap_threads ? 2 * l->cap_threads : 8;
		struct vthread *t = realloc(l->threads, cap * sizeof(*t));

		if (!t)
			return NULL;
		l->threads = t;
		l->cap_threads = cap;
	}
	l->threads[l->n_threads] = (struct vthread){ .tid = tid, .cpu_ns = cpu_ns };
	return &l->threads[l->n_threads++];
}

/*
 * Read the run time of @l's vCPU threads (of all its threads when QEMU did
 * not name them: then the migration stream's work counts too, which can
 * only make an overlap look worse) and add what each ran since the last
 * sample to l->vcpu_ns.  A thread's time before its first sample is not
 * added: that is its start-up (an incoming QEMU makes its vCPU threads
 * while it sets up the machine, before it listens for the migration
 * stream).  Returns the number of threads, or -ESRCH.
 */
static int sample_life(struct life *l)
{
	char path[64];
	struct dirent *de;
	size_t i, j;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", l->pid);
	d = opendir(path);
	if (!d)
		return -ESRCH;
	for (i = 0; i < l->n_threads; i++)
		l->threads[i].seen = false;
	while ((de = readdir(d))) {
		struct vthread *v;
		pid_t tid;
		uint64_t ns;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		tid = (pid_t)atoi(de->d_name);
		if (thread_cpu_ns(l->pid, tid, l->named_threads, &ns) < 0)
			continue;
		v = find_thread(l, tid);
		if (v && ns < v->cpu_ns) {
			/* less than before: a reused tid, a new thread */
			v->tid = 0;
			v = NULL;
		}
		if (!v)
			v = add_thread(l, tid, ns);
		else
			l->vcpu_ns += ns - v->cpu_ns;
		if (!v)
			continue;
		v->cpu_ns = ns;
		v->seen = true;
		n++;
	}
	closedir(d);
	for (i = j = 0; i < l->n_threads; i++)
		if (l->threads[i].seen)
			l->threads[j++] = l->threads[i];
	l->n_threads = j;
	return n;
}

static void stop_sampling(struct life *l)
{
	free(l->threads);
	l->threads = NULL;
	l->n_threads = l->cap_threads = 0;
	l->sampling = false;
}

/*
 * One sample of @l at @t: a "vcpu" line when it is the first (the
 * baseline, no since_ns) or the vCPUs ran since the previous sample
 * (since_ns is that sample's time, so the line covers exactly one
 * interval; intervals without a line saw no change).
 */
static void sample_and_emit(struct rec *r, struct life *l, int64_t t)
{
	int n = sample_life(l);
	json_t *o;

	if (n < 0)
		return;		/* it is ending: its end comes from the pidfd */
	if (l->sampling && l->vcpu_ns == l->emitted_vcpu_ns) {
		l->sample_ns = t;
		return;
	}
	o = life_event("vcpu", l);
	json_object_set_new(o, "t_ns", json_integer(t));
	if (l->sampling)
		json_object_set_new(o, "since_ns", json_integer(l->sample_ns));
	json_object_set_new(o, "vcpu_ns", json_integer((json_int_t)l->vcpu_ns));
	json_object_set_new(o, "threads", json_integer(n));
	json_object_set_new(o, "src", json_string(l->named_threads ? "vcpu" : "process"));
	emit(r, o);
	l->emitted_vcpu_ns = l->vcpu_ns;
	l->sample_ns = t;
	l->sampling = true;
}

static bool has_twin(const struct rec *r, size_t i)
{
	for (size_t j = 0; j < r->n_lives; j++)
		if (j != i && !strcmp(r->lives[j].vm, r->lives[i].vm))
			return true;
	return false;
}

/* Every lifetime that another lifetime of its VM lives beside, sampled. */
static void sample_twins(struct rec *r)
{
	int64_t t = now_ns();	/* one time for all: samples compare */

	for (size_t i = 0; i < r->n_lives; i++) {
		struct life *l = &r->lives[i];

		if (has_twin(r, i))
			sample_and_emit(r, l, t);
		else if (l->sampling)
			stop_sampling(l);
	}
}

/*
 * A QEMU's start: its exec event if we have one for this process (at or
 * after its fork tick), else the fork tick itself.
 */
static int64_t start_of(struct rec *r, pid_t pid, unsigned long long tick,
			const char **src)
{
	const struct exec_ev *e = &r->exec_ring[pid % EXEC_RING];
	int64_t fork_ns = (int64_t)(tick * (1000000000ULL / r->tick_hz));

	if (e->pid == pid && e->boot_ns >= fork_ns) {
		*src = "exec";
		return e->boot_ns;
	}
	*src = "stat";
	return fork_ns;
}

/* Look at one process; start tracking it if it is a named QEMU. */
static void inspect(struct rec *r, pid_t pid)
{
	unsigned long long tick, tick2, ino;
	char state, host[HOST_MAX];
	const char *src;
	struct life l = { .pid = pid, .pidfd = -1 };
	struct qemu_args q;
	int64_t seen_ns;
	json_t *o;

	if (is_tracked(r, pid) || !is_qemu_exe(pid))
		return;
	if (stat_start_tick(pid, &tick, &state) < 0 || state == 'Z' ||
	    is_done(r, pid, tick))
		return;
	switch (qemu_args(pid, &q)) {
	case 0:
		break;
	case -ENOENT:
		mark_done(r, pid, tick);	/* no -name: not a VM we track */
		return;
	default:
		/*
		 * Empty argv: caught mid-exec (the exe link is already QEMU's,
		 * the arguments not yet set up).  Its exec event or the next
		 * full scan looks again.
		 */
		return;
	}
	copy_str(l.vm, sizeof(l.vm), q.vm);
	l.named_threads = q.named_threads;
	ino = netns_inode(pid);
	l.start_tick = tick;
	l.pidfd = pidfd_open_(pid);
	seen_ns = now_ns();
	/* The same process all along?  (a pid is not reused while alive) */
	if (l.pidfd >= 0 && (stat_start_tick(pid, &tick2, &state) < 0 ||
			     tick2 != tick)) {
		struct pollfd p = { .fd = l.pidfd, .events = POLLIN };

		if (poll(&p, 1, 0) == 0) {	/* alive, so not ours */
			close(l.pidfd);
			return;
		}
	}
	netns_name(ino, host, sizeof(host));
	o = life_event("start", &l);
	json_object_set_new(o, "host", json_string(host));
	json_object_set_new(o, "netns", json_integer((json_int_t)ino));
	json_object_set_new(o, "start_ns", json_integer(start_of(r, pid, tick, &src)));
	json_object_set_new(o, "start_src", json_string(src));
	json_object_set_new(o, "seen_ns", json_integer(seen_ns));
	if (q.incoming[0])
		json_object_set_new(o, "incoming", json_string(q.incoming));
	emit(r, o);
	if (l.pidfd < 0) {
		/* Gone (and reaped) while we looked: it ended by now. */
		emit_end(r, &l, now_ns(), "late");
		return;
	}
	if (r->n_lives == r->cap_lives) {
		r->cap_lives = r->cap_lives ? 2 * r->cap_lives : 64;
		r->lives = realloc(r->lives, r->cap_lives * sizeof(*r->lives));
		if (!r->lives) {
			perror("vmcheck");
			exit(2);
		}
	}
	r->lives[r->n_lives++] = l;
}

static void cn_drain(struct rec *r);

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static bool was_seen(struct rec *r, pid_t pid)
{
	return bsearch(&pid, r->seen, r->n_seen, sizeof(pid), cmp_pid);
}

/* Inspect the pids that are new since the last scan (or all of them). */
static void scan(struct rec *r, bool full)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t n = 0;
	pid_t *t;

	if (!d)
		return;
	/* exec events first, so a QEMU found now gets its exec time */
	if (r->cn_fd >= 0)
		cn_drain(r);
	while ((de = readdir(d))) {
		pid_t pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (full || !was_seen(r, pid))
			inspect(r, pid);
		if (n < SEEN_MAX)
			r->seen_next[n++] = pid;
	}
	closedir(d);
	qsort(r->seen_next, n, sizeof(pid_t), cmp_pid);
	t = r->seen;
	r->seen = r->seen_next;
	r->seen_next = t;
	r->n_seen = n;
}

static int cn_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = CN_IDX_PROC,
				  .nl_pid = 0 };
	struct {
		struct nlmsghdr nl;
		struct cn_msg cn;
		enum proc_cn_mcast_op op;
	} __attribute__((packed)) req;
	int fd, rcvbuf = 4 << 20;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    NETLINK_CONNECTOR);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto err;
	memset(&req, 0, sizeof(req));
	req.nl.nlmsg_len = sizeof(req);
	req.nl.nlmsg_type = NLMSG_DONE;
	req.cn.id.idx = CN_IDX_PROC;
	req.cn.id.val = CN_VAL_PROC;
	req.cn.len = sizeof(req.op);
	req.op = PROC_CN_MCAST_LISTEN;
	if (send(fd, &req, sizeof(req), 0) < 0)
		goto err;
	return fd;
err:
	rcvbuf = -errno;
	close(fd);
	return rcvbuf;
}

/* Drain exec events: remember their time, look at the process at once. */
static void cn_drain(struct rec *r)
{
	char buf[16384] __attribute__((aligned(8)));
	ssize_t n;

	while ((n = recv(r->cn_fd, buf, sizeof(buf), 0)) != 0) {
		struct nlmsghdr *nh = (struct nlmsghdr *)buf;
		int64_t off;

		if (n < 0) {
			if (errno == ENOBUFS)
				continue;	/* lost some: the scans cover them */
			return;
		}
		off = boot_minus_mono_ns();
		for (; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			struct cn_msg *cn = NLMSG_DATA(nh);
			struct proc_event ev;
			pid_t pid;

			if (nh->nlmsg_type != NLMSG_DONE ||
			    cn->len < sizeof(ev))
				continue;
			/* cn->data is only 4-byte aligned */
			memcpy(&ev, cn->data, sizeof(ev));
			if (ev.what != PROC_EVENT_EXEC)
				continue;
			pid = ev.event_data.exec.process_tgid;
			r->exec_ring[pid % EXEC_RING].pid = pid;
			r->exec_ring[pid % EXEC_RING].boot_ns =
				(int64_t)ev.timestamp_ns + off;
			inspect(r, pid);
		}
	}
}

static void reap_ended(struct rec *r, struct pollfd *pfd, size_t base)
{
	int64_t t = now_ns();
	size_t i, j = 0;

	/* pfd[base + i] belongs to lives[i] as they were before this pass */
	for (i = 0; i < r->n_lives; i++) {
		if (pfd[base + i].revents) {
			emit_end(r, &r->lives[i], t, "pidfd");
			close(r->lives[i].pidfd);
			stop_sampling(&r->lives[i]);
		} else {
			r->lives[j++] = r->lives[i];
		}
	}
	r->n_lives = j;
}

static void emit_bye(struct rec *r)
{
	json_t *open = json_array();

	for (size_t i = 0; i < r->n_lives; i++)
		json_array_append_new(open, json_integer(r->lives[i].pid));
	emit(r, json_pack("{s:s, s:I, s:o}", "ev", "bye",
			  "t_ns", (json_int_t)now_ns(), "running", open));
}

static int record_loop(struct rec *r)
{
	int64_t next_scan = 0, next_full = 0;
	struct pollfd *pfd = NULL;
	size_t cap = 0;

	for (;;) {
		size_t base = 0, nfd = 2 + r->n_lives;
		int64_t t = now_ns();
		int timeout_ms;

		if (t >= next_scan) {
			bool full = t >= next_full;

			scan(r, full);
			sample_twins(r);
			next_scan = t + (int64_t)r->scan_ms * 1000000;
			if (full)
				next_full = t + (int64_t)r->full_scan_ms * 1000000;
			continue;	/* rebuild pfd: scan may add lives */
		}
		if (nfd > cap) {
			cap = 2 * nfd;
			pfd = realloc(pfd, cap * sizeof(*pfd));
			if (!pfd)
				return 2;
		}
		pfd[base++] = (struct pollfd){ .fd = r->sig_fd, .events = POLLIN };
		pfd[base++] = (struct pollfd){ .fd = r->cn_fd, .events = POLLIN };
		for (size_t i = 0; i < r->n_lives; i++)
			pfd[base + i] = (struct pollfd){ .fd = r->lives[i].pidfd,
							 .events = POLLIN };
		timeout_ms = (int)((next_scan - t + 999999) / 1000000);
		if (poll(pfd, nfd, timeout_ms) < 0) {
			if (errno == EINTR)
				continue;
			perror("vmcheck: poll");
			return 2;
		}
		/* Ends first: their time is the poll wake-up. */
		reap_ended(r, pfd, base);
		if (pfd[1].revents)
			cn_drain(r);
		if (pfd[0].revents) {
			/* a final scan, so nothing started just now is lost */
			scan(r, false);
			emit_bye(r);
			free(pfd);
			return 0;
		}
	}
}

static int bad_arg(const char *cmd, const char *arg)
{
	fprintf(stderr, "vmcheck %s: bad argument '%s' (see vmcheck --help)\n", cmd, arg);
	return 2;
}

static int cmd_record(int argc, char **argv)
{
	struct rec *r = calloc(1, sizeof(*r));
	const char *out = NULL;
	bool exec_events = true;
	sigset_t mask;
	int i, rc;

	if (!r)
		return 2;
	r->scan_ms = 5;
	r->full_scan_ms = 100;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--scan-ms") && i + 1 < argc)
			r->scan_ms = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--full-scan-ms") && i + 1 < argc)
			r->full_scan_ms = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--no-exec-events"))
			exec_events = false;
		else
			return bad_arg("record", argv[i]);
	}
	if (!out || r->scan_ms <= 0 || r->full_scan_ms < r->scan_ms) {
		fprintf(stderr, "vmcheck record: --out FILE required; 0 < scan-ms <= full-scan-ms\n");
		return 2;
	}
	if (setpriority(PRIO_PROCESS, 0, RECORD_NICE) < 0)
		fprintf(stderr, "vmcheck: staying at the nice value given (%s)\n", strerror(errno));
	r->out_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (r->out_fd < 0) {
		perror(out);
		return 2;
	}
	r->tick_hz = sysconf(_SC_CLK_TCK);
	r->seen = calloc(SEEN_MAX, sizeof(pid_t));
	r->seen_next = calloc(SEEN_MAX, sizeof(pid_t));
	if (!r->seen || !r->seen_next)
		return 2;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	r->cn_fd = exec_events ? cn_open() : -ENOTSUP;
	if (r->cn_fd < 0) {
		if (exec_events)
			fprintf(stderr, "vmcheck: no exec events (%s): starts from /proc stat ticks\n",
				strerror(-r->cn_fd));
		r->cn_fd = -1;
	}
	scan(r, true);
	/* "hello" last: once it is in the file, every QEMU is being watched */
	emit(r, json_pack("{s:s, s:I, s:i, s:i, s:b, s:i, s:i, s:b}",
			  "ev", "hello", "t_ns", (json_int_t)now_ns(),
			  "scan_ms", r->scan_ms, "full_scan_ms", r->full_scan_ms,
			  "exec_events", r->cn_fd >= 0, "clk_tck", (int)r->tick_hz,
			  "pid", (int)getpid(), "vcpu_samples", 1));
	rc = record_loop(r);
	for (size_t j = 0; j < r->n_lives; j++) {
		close(r->lives[j].pidfd);
		stop_sampling(&r->lives[j]);
	}
	free(r->lives);
	free(r->seen);
	free(r->seen_next);
	free(r);
	return rc;
}

/* ------------------------------------------------------------------ verify */

/* A "vcpu" line: vcpu_ns at t_ns; since_ns 0 for a baseline. */
struct vsample {
	int64_t since_ns, t_ns;
	uint64_t vcpu_ns;
	int threads;
};

/* What the vCPUs (@threads of them) ran in (from_ns, to_ns]. */
struct advance {
	int64_t from_ns, to_ns;
	uint64_t ran_ns;
	int threads;
};

struct vlife {
	char vm[VM_NAME_MAX];
	char host[HOST_MAX];
	unsigned long long netns;
	pid_t pid;
	int64_t start_ns, end_ns;	/* end INT64_MAX: still running */
	const char *start_src;
	bool incoming;			/* started with -incoming */
	int64_t sampled_until_ns;	/* its last sample, when it ended sampled */
	struct vsample *s;
	size_t n_s, cap_s;
};

struct ver {
	struct vlife *l;
	size_t n, cap;
	int64_t t0_ns, bye_ns;
	bool exec_events;
	int scan_ms;
	int migrations;		/* overlaps accepted as live migrations */
	uint64_t noise_ns;	/* --vcpu-noise-us */
	char **host_map;	/* "NAME=INODE" */
	int n_host_map;
};

static void host_label(struct ver *v, struct vlife *l)
{
	for (int i = 0; i < v->n_host_map; i++) {
		const char *eq = strchr(v->host_map[i], '=');

		if (eq && strtoull(eq + 1, NULL, 10) == l->netns) {
			snprintf(l->host, sizeof(l->host), "%.*s",
				 (int)(eq - v->host_map[i]), v->host_map[i]);
			return;
		}
	}
}

/* The latest lifetime of @pid that has not ended. */
static struct vlife *open_life(struct ver *v, pid_t pid)
{
	for (size_t i = v->n; i-- > 0;)
		if (v->l[i].pid == pid && v->l[i].end_ns == INT64_MAX)
			return &v->l[i];
	return NULL;
}

static int add_sample(struct vlife *l, json_t *o)
{
	const char *src = json_string_value(json_object_get(o, "src"));
	int threads = (int)json_integer_value(json_object_get(o, "threads"));

	if (!l)
		return 0;	/* a sample of a lifetime not in the file: ignore */
	if (l->n_s == l->cap_s) {
		size_t cap = l->cap_s ? 2 * l->cap_s : 64;
		struct vsample *s = realloc(l->s, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		l->s = s;
		l->cap_s = cap;
	}
	l->s[l->n_s++] = (struct vsample){
		.since_ns = json_integer_value(json_object_get(o, "since_ns")),
		.t_ns = json_integer_value(json_object_get(o, "t_ns")),
		.vcpu_ns = (uint64_t)json_integer_value(json_object_get(o, "vcpu_ns")),
		/* the floor is per vCPU; all threads of a QEMU are one */
		.threads = src && !strcmp(src, "vcpu") ? threads : 1,
	};
	return 0;
}

static int load_line(struct ver *v, json_t *o)
{
	const char *ev = json_string_value(json_object_get(o, "ev"));
	pid_t pid = (pid_t)json_integer_value(json_object_get(o, "pid"));

	if (!ev)
		return -EINVAL;
	if (!strcmp(ev, "hello")) {
		v->t0_ns = json_integer_value(json_object_get(o, "t_ns"));
		v->exec_events = json_is_true(json_object_get(o, "exec_events"));
		v->scan_ms = (int)json_integer_value(json_object_get(o, "scan_ms"));
	} else if (!strcmp(ev, "bye")) {
		v->bye_ns = json_integer_value(json_object_get(o, "t_ns"));
	} else if (!strcmp(ev, "start")) {
		struct vlife *l;
		const char *src = json_string_value(json_object_get(o, "start_src"));

		if (v->n == v->cap) {
			v->cap = v->cap ? 2 * v->cap : 64;
			v->l = realloc(v->l, v->cap * sizeof(*v->l));
			if (!v->l)
				return -ENOMEM;
		}
		l = &v->l[v->n++];
		memset(l, 0, sizeof(*l));
		snprintf(l->vm, sizeof(l->vm), "%s",
			 json_string_value(json_object_get(o, "vm")) ?: "?");
		snprintf(l->host, sizeof(l->host), "%s",
			 json_string_value(json_object_get(o, "host")) ?: "?");
		l->netns = json_integer_value(json_object_get(o, "netns"));
		l->pid = pid;
		l->start_ns = json_integer_value(json_object_get(o, "start_ns"));
		l->end_ns = INT64_MAX;
		l->start_src = src && !strcmp(src, "exec") ? "exec" : "stat";
		l->incoming = json_is_string(json_object_get(o, "incoming"));
		host_label(v, l);
	} else if (!strcmp(ev, "end")) {
		struct vlife *l = open_life(v, pid);

		if (l) {
			l->end_ns = json_integer_value(json_object_get(o, "end_ns"));
			l->sampled_until_ns =
				json_integer_value(json_object_get(o, "sampled_until_ns"));
		}
	} else if (!strcmp(ev, "vcpu")) {
		return add_sample(open_life(v, pid), o);
	}
	return 0;
}

static int load(struct ver *v, const char *file)
{
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t size = 0;
	int lineno = 0;

	if (!f) {
		perror(file);
		return -errno;
	}
	while (getline(&line, &size, f) > 0) {
		json_error_t err;
		json_t *o;

		lineno++;
		o = json_loads(line, 0, &err);
		if (!o) {
			/* a torn last line if the recorder was killed: ignore */
			fprintf(stderr, "vmcheck: %s:%d: %s (ignored)\n", file,
				lineno, err.text);
			continue;
		}
		load_line(v, o);
		json_decref(o);
	}
	free(line);
	fclose(f);
	if (!v->t0_ns) {
		fprintf(stderr, "vmcheck: %s: no \"hello\" line: not a vmcheck record\n", file);
		return -EINVAL;
	}
	return 0;
}

/* Milliseconds since the recorder started, for humans. */
static double rel_ms(const struct ver *v, int64_t t)
{
	return (double)(t - v->t0_ns) / 1e6;
}

static void print_life(const struct ver *v, const struct vlife *l)
{
	printf("#   pid %d on %s (netns %llu): [%.3f ms %s, ", l->pid, l->host,
	       l->netns, rel_ms(v, l->start_ns), l->start_src);
	if (l->end_ns == INT64_MAX)
		printf("still running)\n");
	else
		printf("%.3f ms)\n", rel_ms(v, l->end_ns));
}

/*
 * The advances of @l's vCPUs that touch (lo, hi): each covers one sample
 * interval.  Returns how many (the array is malloc'ed, NULL when none).
 */
static size_t advances_in(const struct vlife *l, int64_t lo, int64_t hi, struct advance **out)
{
	struct advance *a = NULL;
	size_t n = 0;

	for (size_t k = 1; k < l->n_s; k++) {
		const struct vsample *p = &l->s[k - 1], *c = &l->s[k];

		if (!c->since_ns || c->vcpu_ns <= p->vcpu_ns)
			continue;	/* a baseline, or no progress */
		if (c->since_ns >= hi || c->t_ns <= lo)
			continue;
		if (!a)
			a = calloc(l->n_s, sizeof(*a));
		if (!a)
			break;
		a[n++] = (struct advance){ c->since_ns, c->t_ns, c->vcpu_ns - p->vcpu_ns,
					   c->threads };
	}
	*out = a;
	return n;
}

/* @l was sampled during [lo, hi] (its baseline at least). */
static bool sampled_in(const struct vlife *l, int64_t lo, int64_t hi)
{
	for (size_t k = 0; k < l->n_s; k++)
		if (l->s[k].t_ns >= lo && l->s[k].t_ns <= hi)
			return true;
	return false;
}

static uint64_t sum_ran(const struct advance *a, size_t n)
{
	uint64_t ns = 0;

	for (size_t i = 0; i < n; i++)
		ns += a[i].ran_ns;
	return ns;
}

/* More than the noise floor (per vCPU thread: each has QEMU's own work). */
static bool ran_guest(const struct ver *v, const struct advance *a)
{
	return a->ran_ns > v->noise_ns * (uint64_t)(a->threads > 1 ? a->threads : 1);
}

static void print_meet(const struct ver *v, const struct vlife *e, const struct vlife *l,
		       const struct advance *ea, const struct advance *la, bool ran)
{
	int64_t from = ea->from_ns > la->from_ns ? ea->from_ns : la->from_ns;
	int64_t to = ea->to_ns < la->to_ns ? ea->to_ns : la->to_ns;

	printf("#   %s (%.3f, %.3f] ms: pid %d +%" PRIu64 " us, pid %d +%" PRIu64 " us of vCPU time",
	       ran ? "both ran in" : "both advanced in", rel_ms(v, from), rel_ms(v, to),
	       e->pid, ea->ran_ns / 1000, l->pid, la->ran_ns / 1000);
	if (!ran)
		printf(" (one at most the noise floor, %" PRIu64 " us a vCPU: QEMU's own work)",
		       v->noise_ns / 1000);
	else if (to - from > 2 * (int64_t)v->scan_ms * 1000000)
		printf(" (an interval of %.1f ms: the recorder was held up, so they may have run one after the other)",
		       (double)(to - from) / 1e6);
	printf("\n");
}

/*
 * The sample intervals in which the vCPUs of both advanced: @both counts
 * those where each side ran more than the noise floor (the guest ran on
 * both sides), @noise those where one side ran at most that (QEMU's own
 * work on a vCPU thread: the source pausing, the destination loading the
 * CPU state).  With @print the first few of each are shown.  Each list is
 * in time order without overlaps: one merge pass.
 */
static void meet(const struct ver *v, const struct vlife *e, const struct vlife *l,
		 const struct advance *ea, size_t ne, const struct advance *la, size_t nl,
		 bool print, int *both, int *noise)
{
	size_t i = 0, j = 0;

	*both = *noise = 0;
	while (i < ne && j < nl) {
		int64_t from = ea[i].from_ns > la[j].from_ns ? ea[i].from_ns : la[j].from_ns;
		int64_t to = ea[i].to_ns < la[j].to_ns ? ea[i].to_ns : la[j].to_ns;

		if (from < to) {
			bool ran = ran_guest(v, &ea[i]) && ran_guest(v, &la[j]);
			int n = ran ? ++*both : ++*noise;

			if (print && n <= 3)
				print_meet(v, e, l, &ea[i], &la[j], ran);
		}
		if (ea[i].to_ns < la[j].to_ns)
			i++;
		else
			j++;
	}
	if (print && *both > 3)
		printf("#   ... and %d more interval(s) where both ran\n", *both - 3);
}

/*
 * What we know of one side, for the report: what its vCPUs ran in the
 * overlap and, for the source, the last interval it ran the guest (above
 * the noise floor), for the destination the first: the hand-over.
 */
static void print_side(const struct ver *v, const struct vlife *l, const struct advance *a,
		       size_t n, int64_t hi, bool source)
{
	const struct advance *x = NULL;

	for (size_t i = 0; i < n; i++) {
		if (!ran_guest(v, &a[i]))
			continue;
		x = &a[i];
		if (!source)
			break;
	}
	printf("#   %s pid %d: vCPUs ran %.3f ms in the overlap", source ? "source" : "destination",
	       l->pid, (double)sum_ran(a, n) / 1e6);
	if (x)
		printf(", the guest %s in (%.3f, %.3f] ms", source ? "last" : "first",
		       rel_ms(v, x->from_ns), rel_ms(v, x->to_ns));
	else
		printf(", never above the noise floor");
	if (l->end_ns == hi && l->sampled_until_ns)
		printf("; not seen in its last %.3f ms (it ended)",
		       (double)(l->end_ns - l->sampled_until_ns) / 1e6);
	printf("\n");
}

/*
 * @e and @l (the later, started with -incoming) of one VM overlap in
 * [lo, hi): a live migration, fine when no sample interval saw the vCPUs
 * of both advance.  Returns the violations (0 or 1).
 */
static int check_migration(struct ver *v, const struct vlife *e, const struct vlife *l,
			   int64_t lo, int64_t hi)
{
	int64_t upto = hi == INT64_MAX ? (v->bye_ns ? v->bye_ns : INT64_MAX) : hi;
	struct advance *ea, *la;
	size_t ne, nl;
	int hits, noise;

	if (!sampled_in(e, lo, upto) || !sampled_in(l, lo, upto)) {
		printf("FAIL migration: vm %s: pid %d (%s) -> pid %d (%s), overlap %" PRId64 " ms: no vCPU samples of both during it, so it cannot tell whether both ran the guest\n",
		       e->vm, e->pid, e->host, l->pid, l->host, (upto - lo) / 1000000);
		print_life(v, e);
		print_life(v, l);
		return 1;
	}
	ne = advances_in(e, lo, hi, &ea);
	nl = advances_in(l, lo, hi, &la);
	meet(v, e, l, ea, ne, la, nl, false, &hits, &noise);
	printf("%s migration: vm %s: pid %d (%s) -> pid %d (%s), overlap %" PRId64 " ms, %s%s\n",
	       hits ? "FAIL" : "ok", e->vm, e->pid, e->host, l->pid, l->host,
	       (upto - lo) / 1000000,
	       hits ? "the guest ran on both sides" : "guest ran on one side only",
	       l->end_ns < e->end_ns ? " (aborted: the destination ended first)" : "");
	if (hits || noise)
		meet(v, e, l, ea, ne, la, nl, true, &hits, &noise);
	if (hits) {
		print_life(v, e);
		print_life(v, l);
	}
	print_side(v, e, ea, ne, hi, true);
	print_side(v, l, la, nl, hi, false);
	free(ea);
	free(la);
	if (!hits)
		v->migrations++;
	return hits ? 1 : 0;
}

static int check_overlaps(struct ver *v)
{
	int bad = 0;

	for (size_t i = 0; i < v->n; i++) {
		for (size_t j = i + 1; j < v->n; j++) {
			struct vlife *a = &v->l[i], *b = &v->l[j], *later;
			int64_t lo, hi;

			if (strcmp(a->vm, b->vm))
				continue;
			lo = a->start_ns > b->start_ns ? a->start_ns : b->start_ns;
			hi = a->end_ns < b->end_ns ? a->end_ns : b->end_ns;
			if (lo >= hi)
				continue;
			later = b->start_ns >= a->start_ns ? b : a;
			if (later->incoming) {
				bad += check_migration(v, later == b ? a : b, later, lo, hi);
				continue;
			}
			bad++;
			if (hi == INT64_MAX)
				printf("FAIL overlap: vm %s: pids %d and %d both still running\n",
				       a->vm, a->pid, b->pid);
			else
				printf("FAIL overlap: vm %s: pids %d (%s) and %d (%s) overlap %" PRId64 " us\n",
				       a->vm, a->pid, a->host, b->pid, b->host,
				       (hi - lo) / 1000);
			print_life(v, a);
			print_life(v, b);
		}
	}
	return bad;
}

/* "HOST T_NS BOUND_MS VM,VM": each VM started again in (T, T + BOUND]. */
static int check_restart(struct ver *v, const char *spec)
{
	char host[HOST_MAX], vms[4096], *vm, *save;
	long long t_ns, bound_ms;
	int bad = 0;

	if (sscanf(spec, "%63s %lld %lld %4095s", host, &t_ns, &bound_ms, vms) != 4) {
		printf("FAIL bad --expect-restart '%s' (want \"HOST T_NS BOUND_MS VM,VM\")\n", spec);
		return 1;
	}
	for (vm = strtok_r(vms, ",", &save); vm; vm = strtok_r(NULL, ",", &save)) {
		const struct vlife *best = NULL;

		for (size_t i = 0; i < v->n; i++) {
			const struct vlife *l = &v->l[i];

			if (strcmp(l->vm, vm) || l->start_ns <= t_ns)
				continue;
			if (!best || l->start_ns < best->start_ns)
				best = l;
		}
		if (best && best->start_ns - t_ns <= bound_ms * 1000000) {
			printf("ok restart: vm %s: pid %d on %s started %.3f ms after %s failed (bound %lld ms)\n",
			       vm, best->pid, best->host,
			       (double)(best->start_ns - t_ns) / 1e6, host, bound_ms);
		} else if (best) {
			bad++;
			printf("FAIL restart: vm %s: first start after %s failed is pid %d on %s, %.3f ms later (bound %lld ms)\n",
			       vm, host, best->pid, best->host,
			       (double)(best->start_ns - t_ns) / 1e6, bound_ms);
		} else {
			bad++;
			printf("FAIL restart: vm %s: not started again after %s failed (bound %lld ms)\n",
			       vm, host, bound_ms);
		}
	}
	return bad;
}

/* A whole decimal number in [0, max], or -1. */
static long parse_num(const char *s, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end || n < 0 || n > max)
		return -1;
	return n;
}

/* verify's options into @v and @restarts; 0, or 2 (a bad argument, said). */
static int verify_args(struct ver *v, const char **file, const char **restarts, int *n_restarts,
		       int argc, char **argv)
{
	long n;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--expect-restart") && i + 1 < argc) {
			restarts[(*n_restarts)++] = argv[++i];
		} else if (!strcmp(argv[i], "--host") && i + 1 < argc) {
			v->host_map[v->n_host_map++] = argv[++i];
		} else if (!strcmp(argv[i], "--vcpu-noise-us") && i + 1 < argc) {
			n = parse_num(argv[++i], NOISE_US_MAX);
			if (n < 0) {
				fprintf(stderr, "vmcheck verify: --vcpu-noise-us '%s': want microseconds, 0..%d\n",
					argv[i], NOISE_US_MAX);
				return 2;
			}
			v->noise_ns = (uint64_t)n * 1000;
		} else if (!*file && argv[i][0] != '-') {
			*file = argv[i];
		} else {
			return bad_arg("verify", argv[i]);
		}
	}
	if (!*file) {
		fprintf(stderr, "vmcheck verify: FILE required\n");
		return 2;
	}
	return 0;
}

static int cmd_verify(int argc, char **argv)
{
	struct ver v = { .noise_ns = NOISE_US_DEFAULT * 1000ULL };
	const char *file = NULL, **restarts;
	int n_restarts = 0, bad, i, rc = 2;

	restarts = calloc((size_t)argc + 1, sizeof(*restarts));
	v.host_map = calloc((size_t)argc + 1, sizeof(*v.host_map));
	if (!restarts || !v.host_map ||
	    verify_args(&v, &file, restarts, &n_restarts, argc, argv) || load(&v, file) < 0)
		goto out;
	bad = check_overlaps(&v);
	for (i = 0; i < n_restarts; i++)
		bad += check_restart(&v, restarts[i]);
	printf("%s: %zu QEMU lifetimes, %d migration(s), %d violation(s); starts from %s, scan every %d ms%s\n",
	       bad ? "FAIL" : "OK", v.n, v.migrations, bad,
	       v.exec_events ? "exec events" : "/proc stat ticks", v.scan_ms,
	       v.bye_ns ? "" : " (recorder did not finish: no \"bye\")");
	rc = bad ? 1 : 0;
out:
	free(restarts);
	free(v.host_map);
	for (size_t k = 0; k < v.n; k++)
		free(v.l[k].s);
	free(v.l);
	return rc;
}

static void usage(FILE *f)
{
	fputs("usage: vmcheck record --out FILE [--scan-ms N] [--full-scan-ms N] [--no-exec-events]\n"
	      "       vmcheck verify FILE [--host NAME=NETNS_INODE]...\n"
	      "                      [--expect-restart \"HOST T_NS BOUND_MS VM[,VM...]\"]...\n"
	      "                      [--vcpu-noise-us N]   (default 1000)\n"
	      "       vmcheck now       (CLOCK_BOOTTIME ns, the clock of T_NS)\n"
	      "record runs until SIGTERM/SIGINT; verify exits 0 (ok), 1 (violation), 2 (error).\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "record"))
		return cmd_record(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "verify"))
		return cmd_verify(argc - 2, argv + 2);
	if (argc == 2 && !strcmp(argv[1], "now")) {
		printf("%" PRId64 "\n", now_ns());
		return 0;
	}
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
