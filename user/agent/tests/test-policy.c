// SPDX-License-Identifier: GPL-2.0 OR MIT
/* The placement policy (policy.c): parsing "meta", and the constraints
 * refused when they are written. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../policy.h"
#include "tap.h"

#define NOW_MS	1795000000000LL

static char why[VCD_STATE_WHY_LEN];
static uint64_t next_index;

/* Parse JSON text @meta; the error text in why. */
static int parse(const char *meta, struct vcd_policy *p)
{
	json_t *m = json_loads(meta, JSON_DECODE_ANY, NULL);
	int r;

	if (!m)
		abort();
	r = vcd_policy_parse(m, p, why, sizeof(why));
	json_decref(m);
	return r;
}

/* @meta is refused with exactly @text. */
static bool refused(const char *meta, const char *text)
{
	struct vcd_policy p;
	int r = parse(meta, &p);

	if (r == -EINVAL && strcmp(why, text) == 0)
		return true;
	printf("# %s: %d \"%s\"\n#   expected -EINVAL \"%s\"\n", meta, r, why, text);
	if (r == 0)
		vcd_policy_free(&p);
	return false;
}

TEST(defaults)
{
	struct vcd_policy p;
	json_t *empty = json_object();

	CHECK_EQ(vcd_policy_parse(NULL, &p, why, sizeof(why)), 0);
	CHECK_EQ(p.priority, 0);
	CHECK_EQ(p.stickiness, 0);
	CHECK_EQ(p.migration_threshold, VCD_POLICY_DEFAULT_THRESHOLD);
	CHECK_EQ(p.migration_threshold, 3);
	CHECK_EQ(p.failure_timeout_ms, VCD_POLICY_DEFAULT_FAILURE_TIMEOUT_MS);
	CHECK_EQ(p.failure_timeout_ms, 60000);
	CHECK_EQ(p.n_prefer + p.n_ban + p.with.n + p.apart.n + p.after.n, 0);
	vcd_policy_free(&p);
	CHECK_EQ(vcd_policy_parse(empty, &p, why, sizeof(why)), 0);
	CHECK_EQ(p.migration_threshold, 3);
	vcd_policy_free(&p);
	vcd_policy_free(NULL);
	json_decref(empty);
	return true;
}

TEST(parse_everything)
{
	struct vcd_policy p;

	CHECK_EQ(parse("{\"priority\":-7,\"prefer\":{\"12\":5,\"3\":1000000,\"100\":1},"
		       "\"ban\":[9,4],\"with\":[\"db\",\"a.b_c-d:e\"],\"apart\":[\"web2\"],"
		       "\"after\":[\"db\"],\"stickiness\":1000000,\"migration_threshold\":0,"
		       "\"failure_timeout_ms\":0}", &p), 0);
	CHECK_EQ(p.priority, -7);
	CHECK_EQ(p.n_prefer, 3);
	CHECK_EQ(p.prefer[0].node, 3);		/* sorted by node id */
	CHECK_EQ(p.prefer[0].score, 1000000);
	CHECK_EQ(p.prefer[1].node, 12);
	CHECK_EQ(p.prefer[2].node, 100);
	CHECK_EQ(vcd_policy_score(&p, 12), 5);
	CHECK_EQ(vcd_policy_score(&p, 13), 0);
	CHECK_EQ(p.n_ban, 2);
	CHECK_EQ(p.ban[0], 4);
	CHECK(vcd_policy_bans(&p, 9));
	CHECK(!vcd_policy_bans(&p, 3));
	CHECK_EQ(p.with.n, 2);
	CHECK_STR(p.with.v[0], "db");
	CHECK_STR(p.with.v[1], "a.b_c-d:e");
	CHECK(vcd_policy_names_has(&p.apart, "web2"));
	CHECK(!vcd_policy_names_has(&p.apart, "web"));
	CHECK_STR(p.after.v[0], "db");
	CHECK_EQ(p.stickiness, 1000000);
	CHECK_EQ(p.migration_threshold, 0);
	CHECK_EQ(p.failure_timeout_ms, 0);
	vcd_policy_free(&p);
	CHECK_EQ(p.n_prefer, 0);		/* freed: the defaults again */
	CHECK_EQ(p.migration_threshold, 3);
	return true;
}

#define KEYS "valid: priority, prefer, ban, with, apart, after, stickiness, migration_threshold, failure_timeout_ms"

TEST(parse_errors)
{
	char meta[512], text[256];

	CHECK(refused("\"x\"", "meta must be an object (keys: priority, prefer, ban, with, apart, after, stickiness, migration_threshold, failure_timeout_ms), not a string"));
	/* Of two unknown keys, the smallest is named, whatever the order. */
	CHECK(refused("{\"zeta\":1,\"prio\":5}", "unknown key \"prio\" in meta (" KEYS ")"));
	CHECK(refused("{\"prio\":5,\"zeta\":1}", "unknown key \"prio\" in meta (" KEYS ")"));
	CHECK(refused("{\"priority\":\"5\"}", "\"priority\" must be an integer from -1000000 to 1000000, not a string"));
	CHECK(refused("{\"priority\":2.5}", "\"priority\" must be an integer from -1000000 to 1000000, not a number with a fraction"));
	CHECK(refused("{\"priority\":-1000001}", "\"priority\" must be an integer from -1000000 to 1000000, not -1000001"));
	CHECK(refused("{\"stickiness\":-1}", "\"stickiness\" must be an integer from 0 to 1000000, not -1"));
	CHECK(refused("{\"migration_threshold\":true}", "\"migration_threshold\" must be an integer from 0 to 1000000, not a boolean"));
	CHECK(refused("{\"failure_timeout_ms\":31622400001}", "\"failure_timeout_ms\" must be an integer from 0 to 31622400000, not 31622400001"));
	CHECK(refused("{\"prefer\":[2]}", "\"prefer\" must be an object of node id -> score, like {\"2\": 100}, not a list"));
	CHECK(refused("{\"prefer\":{\"0\":5}}", "\"prefer\": node id 0 is not a node (ids start at 1)"));
	CHECK(refused("{\"prefer\":{\"02\":5}}", "\"prefer\": key \"02\" is not a node id (a decimal number from 1 to 4294967295, without leading zeros)"));
	CHECK(refused("{\"prefer\":{\"node2\":5}}", "\"prefer\": key \"node2\" is not a node id (a decimal number from 1 to 4294967295, without leading zeros)"));
	CHECK(refused("{\"prefer\":{\"4294967296\":5}}", "\"prefer\": key \"4294967296\" is not a node id (a decimal number from 1 to 4294967295, without leading zeros)"));
	CHECK(refused("{\"prefer\":{\"2\":0}}", "\"prefer\": the score of node 2 must be an integer from 1 to 1000000, not 0"));
	CHECK(refused("{\"prefer\":{\"2\":\"high\"}}", "\"prefer\": the score of node 2 must be an integer from 1 to 1000000, not a string"));
	CHECK(refused("{\"ban\":3}", "\"ban\" must be a list, like [3, 4], not an integer"));
	CHECK(refused("{\"ban\":[3,\"4\"]}", "\"ban\" must list node ids (integers from 1 to 4294967295); item 2 is not one"));
	CHECK(refused("{\"ban\":[0]}", "\"ban\": node id 0 is not a node (ids start at 1)"));
	CHECK(refused("{\"ban\":[3,5,3]}", "\"ban\" lists node 3 twice"));
	CHECK(refused("{\"with\":\"db\"}", "\"with\" must be a list, like [\"db\"], not a string"));
	CHECK(refused("{\"apart\":[\"a\",7]}", "\"apart\" must list resource names; item 2 is an integer"));
	CHECK(refused("{\"after\":[\"a b\"]}", "\"after\": \"a b\" is not a resource name (1 to 127 characters of A-Z a-z 0-9 . _ - :)"));
	CHECK(refused("{\"after\":[\"\"]}", "\"after\": \"\" is not a resource name (1 to 127 characters of A-Z a-z 0-9 . _ - :)"));
	CHECK(refused("{\"with\":[\"db\",\"web\",\"db\"]}", "\"with\" lists db twice"));
	/* A name one too long. */
	snprintf(meta, sizeof(meta), "{\"with\":[\"%0128d\"]}", 0);
	CHECK(refused(meta, "\"with\": item 1 is 128 characters long; a resource name has at most 127"));
	snprintf(meta, sizeof(meta), "{\"with\":[\"%0127d\"]}", 0);
	{
		struct vcd_policy p;

		CHECK_EQ(parse(meta, &p), 0);
		vcd_policy_free(&p);
	}
	/* Lists of more than VCD_POLICY_MAX_ITEMS. */
	strcpy(meta, "{\"ban\":[1");
	for (int i = 2; i <= VCD_POLICY_MAX_ITEMS + 1; i++)
		snprintf(meta + strlen(meta), sizeof(meta) - strlen(meta), ",%d", i);
	strcat(meta, "]}");
	snprintf(text, sizeof(text), "\"ban\" has %d items; at most %d", VCD_POLICY_MAX_ITEMS + 1,
		 VCD_POLICY_MAX_ITEMS);
	CHECK(refused(meta, text));
	return true;
}

/* Failcounts: the count while the last failure is younger than the
 * timeout; the threshold bans; 0 turns either off. */
TEST(failcount)
{
	json_t *res = json_loads("{\"fails\":{\"2\":{\"count\":3,\"last_ms\":1795000000000},"
				 "\"5\":{\"count\":1,\"last_ms\":1795000050000}}}", 0, NULL);
	struct vcd_policy p;

	CHECK(res);
	vcd_policy_init(&p);
	CHECK_EQ(vcd_policy_failcount(res, &p, 2, NOW_MS), 3);
	CHECK_EQ(vcd_policy_failcount(res, &p, 3, NOW_MS), 0);
	CHECK(vcd_policy_banned_by_failures(res, &p, 2, NOW_MS));
	CHECK(!vcd_policy_banned_by_failures(res, &p, 5, NOW_MS + 50000));
	CHECK_EQ(vcd_policy_failcount(res, &p, 2, NOW_MS + 59999), 3);
	CHECK_EQ(vcd_policy_failcount(res, &p, 2, NOW_MS + 60000), 0);
	CHECK(!vcd_policy_banned_by_failures(res, &p, 2, NOW_MS + 60000));
	/* A failure stamped in the future (another host's clock) counts. */
	CHECK_EQ(vcd_policy_failcount(res, &p, 5, NOW_MS), 1);
	CHECK_EQ(vcd_policy_failures_expire_ms(res, &p, 2), NOW_MS + 60000);
	CHECK_EQ(vcd_policy_failures_expire_ms(res, &p, 3), 0);
	p.failure_timeout_ms = 0;		/* never expire */
	CHECK_EQ(vcd_policy_failcount(res, &p, 2, NOW_MS + 1000000000), 3);
	CHECK_EQ(vcd_policy_failures_expire_ms(res, &p, 2), 0);
	p.migration_threshold = 4;
	CHECK(!vcd_policy_banned_by_failures(res, &p, 2, NOW_MS));
	p.migration_threshold = 0;		/* never banned */
	CHECK(!vcd_policy_banned_by_failures(res, &p, 2, NOW_MS));
	/* Records without "fails" (older snapshots): none. */
	CHECK_EQ(vcd_policy_failcount(json_object_get(res, "nothing"), &p, 2, NOW_MS), 0);
	json_decref(res);
	return true;
}

/* ------------------------------------------------------------------------
 * Checks against a state.
 */

static int ap(struct vcd_state *s, const char *text)
{
	return vcd_state_apply(s, text, strlen(text), ++next_index, NULL, why, sizeof(why));
}

__attribute__((format(printf, 2, 3)))
static int apf(struct vcd_state *s, const char *fmt, ...)
{
	char text[2048];
	va_list ap_;

	va_start(ap_, fmt);
	vsnprintf(text, sizeof(text), fmt, ap_);
	va_end(ap_);
	return ap(s, text);
}

static struct vcd_state *fresh(void)
{
	struct vcd_state *s = NULL;

	next_index = 0;
	if (vcd_state_new(&s) < 0)
		abort();
	return s;
}

static void host(struct vcd_state *s, uint32_t id, uint64_t mem_mib)
{
	if (apf(s, "{\"v\":1,\"op\":\"node-up\",\"node\":%u,\"incarnation\":%u}", id, id * 10) < 0 ||
	    apf(s, "{\"v\":1,\"op\":\"node-capacity\",\"node\":%u,\"cpus\":8,\"memory_kib\":%" PRIu64 "}",
		id, mem_mib * 1024) < 0)
		abort();
}

/* Add resource @name (@mem_mib) with @meta (JSON text, NULL: none). */
static int add(struct vcd_state *s, const char *name, uint64_t mem_mib, const char *meta)
{
	return apf(s, "{\"v\":1,\"op\":\"resource-add\",\"name\":\"%s\",\"type\":\"vm\","
		      "\"definition\":{\"memory_kib\":%" PRIu64 ",\"vcpus\":1}%s%s}",
		   name, mem_mib * 1024, meta ? ",\"meta\":" : "", meta ? meta : "");
}

static int set_meta(struct vcd_state *s, const char *name, const char *meta)
{
	return apf(s, "{\"v\":1,\"op\":\"resource-meta\",\"name\":\"%s\",\"meta\":%s}", name, meta);
}

/* vcd_policy_check() refuses @meta for @name with exactly @text, and so
 * does apply (resource-meta for an existing resource, else resource-add). */
static bool impossible(struct vcd_state *s, const char *name, const char *meta,
		       const char *text)
{
	json_t *m = json_loads(meta, 0, NULL);
	bool exists = json_object_get(vcd_state_resources(s), name) != NULL;
	int r = vcd_policy_check(s, name, m, why, sizeof(why));

	json_decref(m);
	if (r != -EINVAL || strcmp(why, text) != 0) {
		printf("# check %s %s: %d \"%s\"\n#   expected -EINVAL \"%s\"\n", name, meta, r, why,
		       text);
		return false;
	}
	r = exists ? set_meta(s, name, meta) : add(s, name, 1024, meta);
	if (r != -EINVAL || strcmp(why, text) != 0) {
		printf("# apply %s %s: %d \"%s\"\n#   expected -EINVAL \"%s\"\n", name, meta, r, why,
		       text);
		return false;
	}
	return true;
}

static bool possible(struct vcd_state *s, const char *name, const char *meta)
{
	json_t *m = json_loads(meta, 0, NULL);
	int r = vcd_policy_check(s, name, m, why, sizeof(why));

	json_decref(m);
	if (r != 0)
		printf("# check %s %s: %d \"%s\"\n", name, meta, r, why);
	return r == 0;
}

/* Names: resources that exist, never itself; the meta's own
 * contradictions. */
TEST(impossible_names_and_self)
{
	struct vcd_state *s = fresh();

	host(s, 1, 8192);
	host(s, 2, 8192);
	CHECK_EQ(add(s, "db", 1024, NULL), 0);
	CHECK(impossible(s, "web", "{\"with\":[\"dbx\"]}", "web: \"with\" names dbx, which is not a resource"));
	CHECK(impossible(s, "web", "{\"apart\":[\"db\",\"nope\"]}", "web: \"apart\" names nope, which is not a resource"));
	CHECK(impossible(s, "web", "{\"after\":[\"web\"]}", "web: \"after\" names web itself"));
	CHECK(impossible(s, "db", "{\"with\":[\"db\"]}", "db: \"with\" names db itself"));
	CHECK(impossible(s, "web", "{\"prefer\":{\"1\":5,\"2\":5},\"ban\":[2]}", "web: node 2 is in both \"prefer\" and \"ban\""));
	CHECK(impossible(s, "web", "{\"with\":[\"db\"],\"apart\":[\"db\"]}", "web: db is in both \"with\" and \"apart\""));
	/* Parse errors carry the name too. */
	CHECK(impossible(s, "web", "{\"ban\":[0]}", "web: \"ban\": node id 0 is not a node (ids start at 1)"));
	CHECK(!json_object_get(vcd_state_resources(s), "web"));
	vcd_state_free(s);
	return true;
}

/* A chain of "with" that joins resources "apart", in every direction and
 * through every resource's meta. */
TEST(impossible_colocation)
{
	struct vcd_state *s = fresh();

	host(s, 1, 8192);
	CHECK_EQ(add(s, "cache", 1024, NULL), 0);
	CHECK_EQ(add(s, "db", 1024, "{\"with\":[\"cache\"]}"), 0);
	/* The example of the documentation. */
	CHECK(impossible(s, "web", "{\"with\":[\"db\"],\"apart\":[\"cache\"]}",
			 "web: \"with\": db and \"apart\": cache, but db runs with cache (a \"with\" chain: db -> cache)"));
	/* Joined through another's "with" pointing at it. */
	CHECK_EQ(add(s, "web", 1024, NULL), 0);
	CHECK_EQ(add(s, "x", 1024, "{\"with\":[\"web\"]}"), 0);
	CHECK_EQ(set_meta(s, "db", "{\"with\":[\"cache\",\"x\"]}"), 0);
	CHECK(impossible(s, "web", "{\"apart\":[\"cache\"]}",
			 "web: \"apart\": cache, but web runs with cache (a \"with\" chain: web -> x -> db -> cache)"));
	/* The other direction: cache is apart from web, and web joins it. */
	CHECK_EQ(set_meta(s, "db", "{\"with\":[\"cache\"]}"), 0);
	CHECK_EQ(set_meta(s, "cache", "{\"apart\":[\"web\"]}"), 0);
	CHECK(impossible(s, "web", "{\"with\":[\"db\"]}",
			 "web: this puts cache and web on one node (a \"with\" chain: cache -> db -> web), but cache is \"apart\": web"));
	/* Two others apart, joined through it. */
	CHECK_EQ(add(s, "a", 1024, NULL), 0);
	CHECK_EQ(add(s, "b", 1024, "{\"apart\":[\"a\"]}"), 0);
	CHECK(impossible(s, "glue", "{\"with\":[\"a\",\"b\"]}",
			 "glue: this puts b and a on one node (a \"with\" chain: b -> glue -> a), but b is \"apart\": a"));
	/* Setting a follower's meta refuses what would join an "apart". */
	CHECK(impossible(s, "x", "{\"with\":[\"web\",\"a\",\"b\"]}",
			 "x: this puts b and a on one node (a \"with\" chain: b -> x -> a), but b is \"apart\": a"));
	vcd_state_free(s);
	return true;
}

/* "with" and "after" must not loop. */
TEST(impossible_loops)
{
	struct vcd_state *s = fresh();

	host(s, 1, 8192);
	CHECK_EQ(add(s, "web", 1024, NULL), 0);
	CHECK_EQ(add(s, "db", 1024, "{\"after\":[\"web\"]}"), 0);
	CHECK(impossible(s, "web", "{\"after\":[\"db\"]}",
			 "web: \"with\" and \"after\" would loop (web after db, db after web): none of them could start first"));
	CHECK(impossible(s, "web", "{\"with\":[\"db\"]}",
			 "web: \"with\" and \"after\" would loop (web with db, db after web): none of them could start first"));
	CHECK_EQ(set_meta(s, "db", "{\"with\":[\"web\"]}"), 0);
	CHECK(impossible(s, "web", "{\"with\":[\"db\"]}",
			 "web: \"with\" and \"after\" would loop (web with db, db with web): none of them could start first"));
	/* A longer one. */
	CHECK_EQ(add(s, "app", 1024, "{\"after\":[\"db\"]}"), 0);
	CHECK(impossible(s, "web", "{\"after\":[\"app\"]}",
			 "web: \"with\" and \"after\" would loop (web after app, app after db, db with web): none of them could start first"));
	/* Without a loop: fine. */
	CHECK(possible(s, "app", "{\"after\":[\"db\",\"web\"],\"with\":[\"web\"]}"));
	vcd_state_free(s);
	return true;
}

/* A "with" group must fit on one host; a "ban" must leave one. */
TEST(impossible_capacity)
{
	struct vcd_state *s = fresh();

	/* Before any host reported capacity, nothing to judge by. */
	CHECK_EQ(add(s, "db", 6144, NULL), 0);
	CHECK(possible(s, "web", "{\"with\":[\"db\"],\"ban\":[1,2]}"));
	host(s, 1, 4096);
	host(s, 2, 8192);
	CHECK_EQ(apf(s, "{\"v\":1,\"op\":\"node-up\",\"node\":3,\"incarnation\":30}"), 0);	/* witness */
	CHECK(impossible(s, "web", "{\"ban\":[2,1]}",
			 "web: \"ban\" covers every host with capacity (2: node 1, 2); it could never run"));
	CHECK(possible(s, "web", "{\"ban\":[1,3]}"));
	/* db 6144 + web 4096 MiB: no host has 10240. */
	CHECK_EQ(add(s, "web", 4096, NULL), 0);
	CHECK(impossible(s, "web", "{\"with\":[\"db\"]}",
			 "web: the \"with\" group (2 resources: db, web) needs 10240 MiB on one host; the largest has 8192 MiB (node 2)"));
	/* At resource-add the new resource's own memory counts. */
	{
		json_t *def = json_pack("{s:I}", "memory_kib", (json_int_t)4096 * 1024);
		json_t *meta = json_pack("{s:[s]}", "with", "db");

		CHECK_EQ(vcd_policy_check_def(s, "new", def, meta, why, sizeof(why)), -EINVAL);
		CHECK_STR(why, "new: the \"with\" group (2 resources: db, new) needs 10240 MiB on one host; the largest has 8192 MiB (node 2)");
		CHECK_EQ(vcd_policy_check(s, "new", meta, why, sizeof(why)), 0);
		json_decref(def);
		json_decref(meta);
	}
	CHECK(possible(s, "web", "{\"apart\":[\"db\"]}"));
	vcd_state_free(s);
	return true;
}

/* Only what the meta changes is judged: a group that stopped fitting
 * (a host shrank) or a contradiction between others that stands (say,
 * from a snapshot written before these checks) does not block a change
 * that does not add to it. */
TEST(only_the_change_is_judged)
{
	struct vcd_state *s = fresh(), *t = fresh();
	json_t *snap, *res;
	char *text;
	void *buf;
	size_t len;

	host(s, 1, 8192);
	CHECK_EQ(add(s, "db", 4096, NULL), 0);
	CHECK_EQ(add(s, "web", 2048, "{\"with\":[\"db\"]}"), 0);
	CHECK_EQ(apf(s, "{\"v\":1,\"op\":\"node-capacity\",\"node\":1,\"cpus\":8,\"memory_kib\":%d}",
		     4096 * 1024), 0);
	CHECK(possible(s, "web", "{\"with\":[\"db\"],\"priority\":5}"));
	CHECK(impossible(s, "web", "{\"with\":[\"db\",\"x\"]}", "web: \"with\" names x, which is not a resource"));
	/* a and b with c, b apart a: put into a snapshot directly. */
	CHECK_EQ(add(s, "a", 64, NULL), 0);
	CHECK_EQ(add(s, "b", 64, NULL), 0);
	CHECK_EQ(add(s, "c", 64, NULL), 0);
	CHECK_EQ(vcd_state_snapshot(s, &buf, &len), 0);
	snap = json_loadb(buf, len, 0, NULL);
	free(buf);
	CHECK(snap);
	res = json_object_get(snap, "resources");
	json_object_set_new(json_object_get(res, "a"), "meta", json_pack("{s:[s]}", "with", "c"));
	json_object_set_new(json_object_get(res, "b"), "meta",
			    json_pack("{s:[s], s:[s]}", "with", "c", "apart", "a"));
	/* A meta apply would refuse (restore checks only that it is an
	 * object): read around, never crashed on. */
	json_object_set_new(json_object_get(res, "db"), "meta",
			    json_pack("{s:[i,n], s:s, s:{}}", "with", 7, "apart", "c", "after"));
	text = json_dumps(snap, JSON_COMPACT);
	json_decref(snap);
	CHECK_EQ(vcd_state_restore(t, text, strlen(text), why, sizeof(why)), 0);
	free(text);
	CHECK(possible(t, "c", "{\"priority\":2}"));
	CHECK(possible(t, "db", "{\"priority\":2}"));
	CHECK(possible(t, "a", "{\"with\":[\"c\"],\"priority\":2}"));
	/* b restating its own "apart" is its change: refused. */
	CHECK(impossible(t, "b", "{\"with\":[\"c\"],\"apart\":[\"a\"],\"priority\":1}",
			 "b: \"with\": c and \"apart\": a, but c runs with a (a \"with\" chain: c -> a)"));
	vcd_state_free(s);
	vcd_state_free(t);
	return true;
}

/* A replica restored from a snapshot (object keys sorted) refuses with
 * the same words as the one that applied the log. */
TEST(same_reason_on_every_replica)
{
	struct vcd_state *s = fresh(), *t = fresh();
	char a[VCD_STATE_WHY_LEN], b[VCD_STATE_WHY_LEN];
	const char *meta = "{\"with\":[\"zz\",\"aa\"],\"prefer\":{\"9\":1,\"10\":2},\"ban\":[10,9]}";
	json_t *m = json_loads(meta, 0, NULL);
	void *snap;
	size_t len;

	host(s, 9, 8192);
	host(s, 10, 8192);
	CHECK_EQ(add(s, "zz", 64, "{\"apart\":[\"mm\"]}") , -EINVAL);	/* mm unknown yet */
	CHECK_EQ(add(s, "mm", 64, NULL), 0);
	CHECK_EQ(add(s, "zz", 64, "{\"apart\":[\"mm\"]}"), 0);
	CHECK_EQ(add(s, "aa", 64, "{\"with\":[\"mm\"]}"), 0);
	CHECK_EQ(vcd_state_snapshot(s, &snap, &len), 0);
	CHECK_EQ(vcd_state_restore(t, snap, len, why, sizeof(why)), 0);
	free(snap);
	CHECK_EQ(vcd_policy_check(s, "new", m, a, sizeof(a)), -EINVAL);
	CHECK_EQ(vcd_policy_check(t, "new", m, b, sizeof(b)), -EINVAL);
	CHECK_STR(a, b);
	CHECK_STR(a, "new: node 9 is in both \"prefer\" and \"ban\"");
	json_object_del(m, "ban");
	CHECK_EQ(vcd_policy_check(s, "new", m, a, sizeof(a)), -EINVAL);
	CHECK_EQ(vcd_policy_check(t, "new", m, b, sizeof(b)), -EINVAL);
	CHECK_STR(a, b);
	CHECK_STR(a, "new: this puts zz and mm on one node (a \"with\" chain: zz -> new -> aa -> mm), but zz is \"apart\": mm");
	json_decref(m);
	vcd_state_free(s);
	vcd_state_free(t);
	return true;
}

/* A realistic mix is accepted. */
TEST(valid_mix)
{
	struct vcd_state *s = fresh();

	host(s, 1, 16384);
	host(s, 2, 16384);
	host(s, 3, 16384);
	CHECK_EQ(add(s, "db", 4096, "{\"priority\":100,\"prefer\":{\"1\":50},\"stickiness\":20,"
				     "\"migration_threshold\":2,\"failure_timeout_ms\":300000}"), 0);
	CHECK_EQ(add(s, "db-replica", 4096, "{\"priority\":90,\"apart\":[\"db\"],\"ban\":[3]}"), 0);
	CHECK_EQ(add(s, "web1", 1024, "{\"after\":[\"db\"],\"with\":[\"db\"]}"), 0);
	CHECK_EQ(add(s, "web2", 1024, "{\"after\":[\"db\"],\"apart\":[\"web1\"],\"prefer\":{\"2\":10,\"3\":5}}"), 0);
	CHECK_EQ(add(s, "cache", 2048, "{\"with\":[\"web1\"],\"apart\":[\"db-replica\"]}"), 0);
	CHECK_EQ(add(s, "batch", 2048, "{\"priority\":-10,\"migration_threshold\":0,\"failure_timeout_ms\":0}"), 0);
	CHECK_EQ(set_meta(s, "batch", "{\"priority\":-5,\"after\":[\"web1\",\"web2\"]}"), 0);
	CHECK(possible(s, "web2", "{\"after\":[\"db\"],\"apart\":[\"web1\",\"cache\"]}"));
	vcd_state_free(s);
	return true;
}

static const struct vc_test tests[] = {
	T(defaults), T(parse_everything), T(parse_errors), T(failcount),
	T(impossible_names_and_self), T(impossible_colocation), T(impossible_loops),
	T(impossible_capacity), T(only_the_change_is_judged), T(same_reason_on_every_replica),
	T(valid_mix),
	{ 0 }
};

#include "tap-main.h"
