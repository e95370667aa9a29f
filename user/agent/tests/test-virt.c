// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test-virt: the libvirt executor (virt.c) against libvirt's test driver
 * (test:///default, in this process: one domain "test", running): STATE
 * and HOSTINFO of a paused domain, the MIGRATE job's checks of its input,
 * and the pure helpers.  Real migrations run in tests/vm-rig.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "../log.h"
#include "../virt.h"
#include "tap.h"

#define TEST_URI "test:///default"
#define TEST_UUID "6695eb01-f6a4-8304-79aa-97f2502e193f"	/* its domain "test" */

static void no_event(void *ctx, const struct vcd_virt_event *ev)
{
	(void)ctx;
	(void)ev;
}

static void no_conn(void *ctx, bool up, const char *why)
{
	(void)ctx;
	(void)up;
	(void)why;
}

static void job_done(struct vcd_virt_job *job)
{
	*(bool *)job->ctx = true;
}

/* Run one job on a fresh executor; false when it never completed. */
static bool run(struct vcd_virt_job *job)
{
	static const struct vcd_virt_cbs cbs = { .on_event = no_event, .on_connection = no_conn };
	uv_loop_t loop;
	struct vcd_virt *v;
	bool done = false;

	if (uv_loop_init(&loop) < 0 || vcd_virt_new(&loop, TEST_URI, &cbs, NULL, &v) < 0)
		return false;
	job->done = job_done;
	job->ctx = &done;
	if (vcd_virt_submit(v, job) == 0)
		while (!done)
			uv_run(&loop, UV_RUN_ONCE);
	vcd_virt_free(v);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return done;
}

static struct vcd_virt_job state_job(void)
{
	struct vcd_virt_job job = { .op = VCD_VIRT_STATE };

	snprintf(job.uuid, sizeof(job.uuid), "%s", TEST_UUID);
	return job;
}

static struct vcd_virt_job migrate_job(const char *dest, uint32_t flags)
{
	struct vcd_virt_job job = { .op = VCD_VIRT_MIGRATE, .migrate_flags = flags };

	snprintf(job.uuid, sizeof(job.uuid), "%s", TEST_UUID);
	snprintf(job.dest_uri, sizeof(job.dest_uri), "%s", dest);
	return job;
}

/*
 * "test" over a connection of our own.  The test driver's default state is
 * shared by the process's connections while one is open: this one stays
 * open to the end.
 */
static virDomainPtr test_domain(void)
{
	static virConnectPtr c;

	if (!c)
		c = virConnectOpen(TEST_URI);
	return c ? virDomainLookupByUUIDString(c, TEST_UUID) : NULL;
}

static bool set_paused(bool paused)
{
	virDomainPtr d = test_domain();
	bool ok = d && (paused ? virDomainSuspend(d) : virDomainResume(d)) == 0;

	if (d)
		virDomainFree(d);
	return ok;
}

static bool set_running(bool running)
{
	virDomainPtr d = test_domain();
	bool ok = d && (running ? virDomainCreate(d) : virDomainDestroy(d)) == 0;

	if (d)
		virDomainFree(d);
	return ok;
}

TEST(paused_why_names)
{
	CHECK_STR(vcd_virt_paused_why(VIR_DOMAIN_PAUSED_MIGRATION), "migration");
	CHECK_STR(vcd_virt_paused_why(VIR_DOMAIN_PAUSED_USER), "user");
	CHECK_STR(vcd_virt_paused_why(VIR_DOMAIN_PAUSED_POSTCOPY_FAILED), "postcopy-failed");
	CHECK_STR(vcd_virt_paused_why(-1), "other");
	CHECK_STR(vcd_virt_paused_why(1000), "other");
	CHECK_STR(vcd_virt_op_name(VCD_VIRT_MIGRATE), "migrate");
	return true;
}

/* vcd_virt_find_qemu on a made-up /proc: by "-uuid UUID", nothing else. */
TEST(find_qemu_by_uuid)
{
	char dir[] = "/tmp/test-virt.XXXXXX", path[128];
	static const char other[] = "qemu\0-uuid\0" "11111111-2222-4333-8444-555555555555";
	static const char ours[] = "qemu\0-name\0guest=test\0-uuid\0" TEST_UUID "\0-S";
	FILE *f;
	pid_t found;

	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/41", dir);
	CHECK(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/41/cmdline", dir);
	CHECK((f = fopen(path, "w")) && fwrite(other, 1, sizeof(other), f) && fclose(f) == 0);
	CHECK_EQ(vcd_virt_find_qemu(dir, TEST_UUID), 0);
	snprintf(path, sizeof(path), "%s/42", dir);
	CHECK(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/42/cmdline", dir);
	CHECK((f = fopen(path, "w")) && fwrite(ours, 1, sizeof(ours), f) && fclose(f) == 0);
	found = vcd_virt_find_qemu(dir, "6695EB01-F6A4-8304-79AA-97F2502E193F");
	unlink(path);
	snprintf(path, sizeof(path), "%s/41/cmdline", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/41", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/42", dir);
	rmdir(path);
	rmdir(dir);
	CHECK_EQ(found, 42);
	return true;
}

/* STATE says running, not paused; paused (by the user) once suspended. */
TEST(state_paused)
{
	struct vcd_virt_job job = state_job();

	CHECK(run(&job));
	CHECK_EQ(job.err, 0);
	CHECK(job.defined && job.running && !job.paused && !job.incoming);
	CHECK_STR(job.why, "");
	CHECK(set_paused(true));
	job = state_job();
	CHECK(run(&job));
	CHECK(set_paused(false));
	CHECK_EQ(job.err, 0);
	CHECK(job.running && job.paused && !job.incoming);
	CHECK_EQ(job.reason, VIR_DOMAIN_PAUSED_USER);
	CHECK_STR(job.why, "user");
	return true;
}

/* HOSTINFO lists a paused domain as active, and says it is paused. */
TEST(hostinfo_lists_paused)
{
	struct vcd_virt_job job = { .op = VCD_VIRT_HOSTINFO };
	json_t *d;

	CHECK(set_paused(true));
	CHECK(run(&job));
	CHECK(set_paused(false));
	CHECK_EQ(job.err, 0);
	CHECK(json_array_size(job.active) == 1);
	d = json_array_get(job.active, 0);
	CHECK_STR(json_string_value(json_object_get(d, "uuid")), TEST_UUID);
	CHECK(json_is_true(json_object_get(d, "paused")));
	CHECK_STR(json_string_value(json_object_get(d, "why")), "user");
	CHECK(json_is_false(json_object_get(d, "incoming")));
	json_decref(job.active);
	return true;
}

/* MIGRATE refuses what it cannot do, saying what would be valid. */
TEST(migrate_checks_input)
{
	const uint32_t p2p = VCD_VIRT_MIGRATE_LIVE | VCD_VIRT_MIGRATE_PEER2PEER;
	struct vcd_virt_job job = migrate_job("", p2p);

	CHECK(run(&job));
	CHECK_EQ(job.err, -EINVAL);
	CHECK(strstr(job.msg, "dest_uri is required"));
	job = migrate_job("qemu+tcp://198.18.0.2/system", p2p | 0x100);
	CHECK(run(&job));
	CHECK_EQ(job.err, -EINVAL);
	CHECK(strstr(job.msg, "unknown flags 0x100 (valid: LIVE 0x1, PEER2PEER 0x2"));
	job = migrate_job("qemu+tcp://198.18.0.2/system", VCD_VIRT_MIGRATE_LIVE);
	CHECK(run(&job));
	CHECK_EQ(job.err, -EINVAL);
	CHECK(strstr(job.msg, "PEER2PEER is required"));
	job = migrate_job("qemu+tcp://198.18.0.2/system", p2p);
	snprintf(job.uuid, sizeof(job.uuid), "11111111-2222-4333-8444-555555555555");
	CHECK(run(&job));
	CHECK_EQ(job.err, -ENOENT);
	CHECK(strstr(job.msg, "no domain 11111111-2222-4333-8444-555555555555 on this host"));
	/* defined here but shut off: nothing to migrate */
	CHECK(set_running(false));
	job = migrate_job("qemu+tcp://198.18.0.2/system", p2p);
	CHECK(run(&job));
	CHECK(set_running(true));
	CHECK_EQ(job.err, -ESRCH);
	CHECK(strstr(job.msg, "domain \"test\" is not running on this host"));
	return true;
}

static const struct vc_test tests[] = {
	T(paused_why_names), T(find_qemu_by_uuid), T(state_paused), T(hostinfo_lists_paused),
	T(migrate_checks_input),
	{ 0 }
};

#include "tap-main.h"
