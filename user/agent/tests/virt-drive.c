// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * virt-drive: one job of the agent's libvirt executor (virt.c) on a libuv
 * loop, as vclusterd runs it, and its result as one JSON line; for
 * tests/vm-rig.sh ("make -C user/agent virt-drive" builds it).
 *
 *   virt-drive [-c URI] state UUID
 *   virt-drive [-c URI] hostinfo
 *   virt-drive [-c URI] migrate UUID DEST_URI [--migrate-uri URI]
 *              [--bandwidth MIB_S] [--timeout-ms N] [--flags LIST]
 *
 * URI is the libvirtd to use (default qemu:///system); DEST_URI the
 * target's libvirtd as that libvirtd reaches it.  --flags is a comma list
 * of live, p2p, persist-dest, undefine-source (default live,p2p).
 *
 * Output: {"op":"migrate","err":0,"msg":"","took_ns":N,"downtime_ms":N},
 * {"op":"state","err":0,"defined":true,"running":true,"paused":true,
 * "reason":2,"why":"migration","incoming":true,"pid":N,"took_ns":N},
 * {"op":"hostinfo","err":0,"cpus":N,"memory_kib":N,"active":[...],...}.
 * "err" is 0 or a negative errno, "msg" what libvirt said.
 *
 * Exit codes: 0 the job succeeded, 1 it failed, 2 bad arguments.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "../log.h"
#include "../virt.h"

struct drive {
	struct vcd_virt_job job;
	bool done;
};

static void usage(FILE *f)
{
	fputs("usage: virt-drive [-c URI] state UUID\n"
	      "       virt-drive [-c URI] hostinfo\n"
	      "       virt-drive [-c URI] migrate UUID DEST_URI [--migrate-uri URI]\n"
	      "                  [--bandwidth MIB_S] [--timeout-ms N] [--flags LIST]\n"
	      "LIST: comma-separated live, p2p, persist-dest, undefine-source (default live,p2p)\n"
	      "exit 0: the job succeeded, 1: it failed, 2: bad arguments\n",
	      f);
}

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "virt-drive: %s '%s'\n", what, arg);
	usage(stderr);
	return 2;
}

/* A whole number in [0, UINT32_MAX]. */
static int parse_u32(const char *s, uint32_t *out)
{
	unsigned long long n;
	char *end;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || n > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)n;
	return 0;
}

static int parse_flags(const char *list, uint32_t *out)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} names[] = {
		{ "live", VCD_VIRT_MIGRATE_LIVE },
		{ "p2p", VCD_VIRT_MIGRATE_PEER2PEER },
		{ "persist-dest", VCD_VIRT_MIGRATE_PERSIST_DEST },
		{ "undefine-source", VCD_VIRT_MIGRATE_UNDEFINE_SOURCE },
	};
	char buf[256], *w, *save;

	snprintf(buf, sizeof(buf), "%s", list);
	*out = 0;
	for (w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(w, names[i].name))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return -EINVAL;
		*out |= names[i].flag;
	}
	return 0;
}

static int set_str(char *dst, size_t size, const char *src, const char *what)
{
	if (strlen(src) >= size)
		return bad(what, src);
	snprintf(dst, size, "%s", src);
	return 0;
}

/* The migrate job's options after "migrate UUID DEST_URI". */
static int parse_migrate(struct vcd_virt_job *job, int argc, char **argv)
{
	job->migrate_flags = VCD_VIRT_MIGRATE_LIVE | VCD_VIRT_MIGRATE_PEER2PEER;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!val)
			return bad("missing value after", a);
		i++;
		if (!strcmp(a, "--migrate-uri")) {
			if (set_str(job->migrate_uri, sizeof(job->migrate_uri), val, "--migrate-uri too long:"))
				return 2;
		} else if (!strcmp(a, "--bandwidth")) {
			if (parse_u32(val, &job->bandwidth_mib_s) < 0)
				return bad("--bandwidth wants MiB/s, a whole number:", val);
		} else if (!strcmp(a, "--timeout-ms")) {
			if (parse_u32(val, &job->timeout_ms) < 0)
				return bad("--timeout-ms wants milliseconds, a whole number:", val);
		} else if (!strcmp(a, "--flags")) {
			if (parse_flags(val, &job->migrate_flags) < 0)
				return bad("--flags wants live, p2p, persist-dest, undefine-source:", val);
		} else {
			return bad("unknown option", a);
		}
	}
	return 0;
}

static int parse_args(struct vcd_virt_job *job, const char **uri, int argc, char **argv)
{
	int i = 1;

	*uri = "qemu:///system";
	if (argc > 2 && !strcmp(argv[1], "-c")) {
		*uri = argv[2];
		i = 3;
	}
	if (i >= argc)
		return bad("missing command", "");
	if (!strcmp(argv[i], "hostinfo") && argc == i + 1) {
		job->op = VCD_VIRT_HOSTINFO;
		return 0;
	}
	if (!strcmp(argv[i], "state") && argc == i + 2) {
		job->op = VCD_VIRT_STATE;
		return set_str(job->uuid, sizeof(job->uuid), argv[i + 1], "UUID too long:");
	}
	if (!strcmp(argv[i], "migrate") && argc >= i + 3) {
		job->op = VCD_VIRT_MIGRATE;
		if (set_str(job->uuid, sizeof(job->uuid), argv[i + 1], "UUID too long:") ||
		    set_str(job->dest_uri, sizeof(job->dest_uri), argv[i + 2], "DEST_URI too long:"))
			return 2;
		return parse_migrate(job, argc - i - 3, argv + i + 3);
	}
	return bad("unknown command or wrong arguments:", argv[i]);
}

static json_t *result(const struct vcd_virt_job *job)
{
	json_t *o = json_pack("{s:s,s:i,s:s,s:I}", "op", vcd_virt_op_name(job->op), "err",
			      job->err, "msg", job->msg, "took_ns", (json_int_t)job->took_ns);

	switch (job->op) {
	case VCD_VIRT_STATE:
		json_object_set_new(o, "defined", json_boolean(job->defined));
		json_object_set_new(o, "running", json_boolean(job->running));
		json_object_set_new(o, "paused", json_boolean(job->paused));
		json_object_set_new(o, "reason", json_integer(job->reason));
		json_object_set_new(o, "why", json_string(job->why ? job->why : ""));
		json_object_set_new(o, "incoming", json_boolean(job->incoming));
		json_object_set_new(o, "pid", json_integer(job->pid));
		break;
	case VCD_VIRT_HOSTINFO:
		json_object_set_new(o, "cpus", json_integer(job->cpus));
		json_object_set_new(o, "memory_kib", json_integer((json_int_t)job->memory_kib));
		json_object_set(o, "active", job->active ? job->active : json_null());
		break;
	case VCD_VIRT_MIGRATE:
		json_object_set_new(o, "downtime_ms", json_integer((json_int_t)job->downtime_ms));
		break;
	default:
		break;
	}
	return o;
}

static void job_done(struct vcd_virt_job *job)
{
	struct drive *d = job->ctx;

	d->done = true;
	uv_stop(uv_default_loop());
}

static void on_event(void *ctx, const struct vcd_virt_event *ev)
{
	(void)ctx;
	(void)ev;
}

static void on_connection(void *ctx, bool up, const char *why)
{
	(void)ctx;
	(void)up;
	(void)why;
}

int main(int argc, char **argv)
{
	static const struct vcd_virt_cbs cbs = { .on_event = on_event,
						 .on_connection = on_connection };
	struct drive d = { 0 };
	struct vcd_virt *v;
	const char *uri;
	json_t *o;
	int r;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	r = parse_args(&d.job, &uri, argc, argv);
	if (r)
		return r;
	vcd_log_init("virt-drive", false, LOG_WARNING);
	r = vcd_virt_new(uv_default_loop(), uri, &cbs, &d, &v);
	if (r < 0) {
		fprintf(stderr, "virt-drive: cannot start the executor: %s\n", strerror(-r));
		return 1;
	}
	d.job.done = job_done;
	d.job.ctx = &d;
	r = vcd_virt_submit(v, &d.job);
	if (r == 0)
		uv_run(uv_default_loop(), UV_RUN_DEFAULT);
	vcd_virt_free(v);
	uv_run(uv_default_loop(), UV_RUN_DEFAULT);	/* the close callbacks */
	if (!d.done) {
		fprintf(stderr, "virt-drive: the job did not complete (%s)\n", strerror(-r));
		return 1;
	}
	o = result(&d.job);
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(o);
	json_decref(d.job.active);
	return d.job.err ? 1 : 0;
}
