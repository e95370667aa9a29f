// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The replicated state machine: every op, every rejection with its exact
 * reason, rule 4, snapshots, the history bound and determinism.
 */
#include <errno.h>
#include <stdlib.h>

#include "../state.h"
#include "tap.h"

static char why[VCD_STATE_WHY_LEN];
static uint64_t next_index;

/* Apply @text at the next raft index; the reason lands in why. */
static int ap(struct vcd_state *s, const char *text)
{
	return vcd_state_apply(s, text, strlen(text), ++next_index, NULL, why, sizeof(why));
}

static struct vcd_state *fresh(void)
{
	struct vcd_state *s = NULL;

	next_index = 0;
	if (vcd_state_new(&s) < 0)
		abort();
	return s;
}

#define UP(n, i)	"{\"v\":1,\"op\":\"node-up\",\"node\":" #n ",\"incarnation\":" #i "}"
#define DOWN(n, i)	"{\"v\":1,\"op\":\"node-down\",\"node\":" #n ",\"incarnation\":" #i "}"
#define LEFT(n, i)	"{\"v\":1,\"op\":\"node-left\",\"node\":" #n ",\"incarnation\":" #i "}"
#define FENCED(n, i, how) "{\"v\":1,\"op\":\"node-fenced\",\"node\":" #n \
	",\"incarnation\":" #i ",\"how\":\"" how "\",\"last_heard_age_ms\":4230," \
	"\"window_ms\":4200,\"dc\":1,\"term\":5,\"time_ms\":1795000000000}"

static enum vcd_node_state st(struct vcd_state *s, uint32_t id)
{
	const struct vcd_node *n = vcd_state_node(s, id);

	return n ? n->state : (enum vcd_node_state)-1;
}

TEST(node_up)
{
	struct vcd_state *s = fresh();
	struct vcd_apply_result res;
	const struct vcd_node *n;
	const char *e = UP(3, 7);

	CHECK_EQ(vcd_state_apply(s, e, strlen(e), 10, &res, why, sizeof(why)), 0);
	CHECK_STR(why, "");
	CHECK_EQ(res.op, VCD_OP_NODE_UP);
	CHECK_EQ(res.node_id, 3);
	CHECK_EQ(res.old_state, VCD_NODE_UNKNOWN);
	CHECK_EQ(res.new_state, VCD_NODE_ONLINE);
	CHECK(res.changed);
	n = vcd_state_node(s, 3);
	CHECK(n);
	CHECK_EQ(n->state, VCD_NODE_ONLINE);
	CHECK_EQ(n->incarnation, 7);
	CHECK_EQ(n->fenced_incarnation, 0);
	CHECK(!n->has_fence);
	CHECK_EQ(vcd_state_applied_index(s), 10);
	CHECK_EQ(vcd_state_n_nodes(s), 1);

	CHECK_EQ(ap(s, UP(3, 7)), -EALREADY);
	CHECK_STR(why, "node 3 is already online at incarnation 7");
	CHECK_EQ(ap(s, UP(3, 6)), -ESTALE);
	CHECK_STR(why, "node 3 is online at incarnation 7; incarnation 6 is an older life");
	/* A new life of an online node (it restarted within the dead time). */
	CHECK_EQ(ap(s, UP(3, 8)), 0);
	CHECK_EQ(vcd_state_node(s, 3)->incarnation, 8);
	vcd_state_free(s);
	return true;
}

TEST(rule4_fenced_comeback)
{
	struct vcd_state *s = fresh();
	const struct vcd_node *n;

	CHECK_EQ(ap(s, UP(3, 7)), 0);
	CHECK_EQ(ap(s, DOWN(3, 7)), 0);
	CHECK_EQ(ap(s, FENCED(3, 7, "auto")), 0);
	CHECK_EQ(st(s, 3), VCD_NODE_FENCED);
	CHECK_EQ(ap(s, UP(3, 7)), -ESTALE);
	CHECK_STR(why, "node 3 is fenced at incarnation 7; it may only return with a higher incarnation (rule 4), not 7");
	CHECK_EQ(ap(s, UP(3, 6)), -ESTALE);
	CHECK_STR(why, "node 3 is fenced at incarnation 7; it may only return with a higher incarnation (rule 4), not 6");
	CHECK_EQ(st(s, 3), VCD_NODE_FENCED);
	CHECK_EQ(ap(s, UP(3, 8)), 0);
	n = vcd_state_node(s, 3);
	CHECK_EQ(n->state, VCD_NODE_ONLINE);
	CHECK_EQ(n->incarnation, 8);
	CHECK_EQ(n->fenced_incarnation, 7);
	CHECK(n->has_fence);
	/* The fence of the old life cannot hit the new one. */
	CHECK_EQ(ap(s, FENCED(3, 7, "confirmed")), -ESTALE);
	CHECK_STR(why, "node 3 is online at incarnation 8; incarnation 7 is an older life");
	CHECK_EQ(st(s, 3), VCD_NODE_ONLINE);
	vcd_state_free(s);
	return true;
}

TEST(rule4_down_comeback)
{
	struct vcd_state *s = fresh();

	CHECK_EQ(ap(s, UP(2, 4)), 0);
	CHECK_EQ(ap(s, DOWN(2, 4)), 0);
	CHECK_EQ(ap(s, UP(2, 4)), -ESTALE);
	CHECK_STR(why, "node 2 is down at incarnation 4; it may only return with a higher incarnation (rule 4), not 4");
	CHECK_EQ(st(s, 2), VCD_NODE_DOWN);
	CHECK_EQ(ap(s, UP(2, 5)), 0);
	CHECK_EQ(st(s, 2), VCD_NODE_ONLINE);
	vcd_state_free(s);
	return true;
}

TEST(node_down)
{
	struct vcd_state *s = fresh();
	struct vcd_apply_result res;
	const char *e = DOWN(3, 7);

	CHECK_EQ(ap(s, DOWN(3, 7)), -ENOENT);
	CHECK_STR(why, "node 3 has never been online");
	CHECK_EQ(ap(s, UP(3, 7)), 0);
	CHECK_EQ(ap(s, DOWN(3, 6)), -ESTALE);
	CHECK_STR(why, "node 3 is online at incarnation 7; incarnation 6 is an older life");
	CHECK_EQ(vcd_state_apply(s, e, strlen(e), 99, &res, why, sizeof(why)), 0);
	CHECK_EQ(res.op, VCD_OP_NODE_DOWN);
	CHECK_EQ(res.old_state, VCD_NODE_ONLINE);
	CHECK_EQ(res.new_state, VCD_NODE_DOWN);
	CHECK_EQ(ap(s, DOWN(3, 7)), -EALREADY);
	CHECK_STR(why, "node 3 is already down at incarnation 7");
	CHECK_EQ(ap(s, FENCED(3, 7, "auto")), 0);
	CHECK_EQ(ap(s, DOWN(3, 7)), -EINVAL);
	CHECK_STR(why, "node 3 is fenced, not online");
	vcd_state_free(s);
	return true;
}

TEST(node_fenced)
{
	struct vcd_state *s = fresh();
	const struct vcd_node *n;
	struct vcd_apply_result res;
	const char *e = FENCED(3, 7, "confirmed");

	CHECK_EQ(ap(s, FENCED(3, 7, "auto")), -ENOENT);
	CHECK_STR(why, "node 3 has never been online");
	CHECK_EQ(ap(s, UP(3, 7)), 0);
	/* Straight from online: an operator confirmed before the majority. */
	CHECK_EQ(vcd_state_apply(s, e, strlen(e), 50, &res, why, sizeof(why)), 0);
	CHECK_EQ(res.old_state, VCD_NODE_ONLINE);
	CHECK_EQ(res.new_state, VCD_NODE_FENCED);
	n = vcd_state_node(s, 3);
	CHECK(n->has_fence);
	CHECK_EQ(n->fence.node_id, 3);
	CHECK_EQ(n->fence.incarnation, 7);
	CHECK_EQ(n->fence.how, VCD_FENCE_CONFIRMED);
	CHECK_EQ(n->fence.last_heard_age_ms, 4230);
	CHECK_EQ(n->fence.window_ms, 4200);
	CHECK_EQ(n->fence.dc_id, 1);
	CHECK_EQ(n->fence.term, 5);
	CHECK_EQ(n->fence.time_ms, 1795000000000LL);
	CHECK_STR(n->fence.note, "");
	CHECK_EQ(n->fenced_incarnation, 7);
	CHECK_EQ(ap(s, FENCED(3, 7, "auto")), -EALREADY);
	CHECK_STR(why, "node 3 is already fenced at incarnation 7");

	CHECK_EQ(ap(s, UP(4, 1)), 0);
	CHECK_EQ(ap(s, FENCED(4, 1, "maybe")), -EINVAL);
	CHECK_STR(why, "\"how\" must be \"auto\" or \"confirmed\"");
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"node-fenced\",\"node\":4,\"incarnation\":1,\"how\":\"auto\"}"),
		 -EINVAL);
	CHECK_STR(why, "\"last_heard_age_ms\" is missing");
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"node-fenced\",\"node\":4,\"incarnation\":1,\"how\":\"auto\","
		       "\"last_heard_age_ms\":-2,\"window_ms\":1,\"dc\":1,\"term\":1,\"time_ms\":0}"),
		 -EINVAL);
	CHECK_STR(why, "\"last_heard_age_ms\" must be an integer from -1 to 9223372036854775807");
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"node-fenced\",\"node\":4,\"incarnation\":1,\"how\":\"auto\","
		       "\"last_heard_age_ms\":-1,\"window_ms\":1,\"dc\":0,\"term\":1,\"time_ms\":0}"),
		 -EINVAL);
	CHECK_STR(why, "\"dc\" must be an integer from 1 to 4294967295");
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"node-fenced\",\"node\":4,\"incarnation\":1,\"how\":\"auto\","
		       "\"last_heard_age_ms\":-1,\"window_ms\":1,\"dc\":2,\"term\":1,\"time_ms\":0,"
		       "\"note\":7}"), -EINVAL);
	CHECK_STR(why, "\"note\" must be a string");
	CHECK_EQ(st(s, 4), VCD_NODE_ONLINE);
	/* A never-heard host: age -1. */
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"node-fenced\",\"node\":4,\"incarnation\":1,\"how\":\"auto\","
		       "\"last_heard_age_ms\":-1,\"window_ms\":6000,\"dc\":2,\"term\":1,\"time_ms\":0,"
		       "\"note\":\"cold start\"}"), 0);
	CHECK_EQ(vcd_state_node(s, 4)->fence.last_heard_age_ms, -1);
	CHECK_STR(vcd_state_node(s, 4)->fence.note, "cold start");

	CHECK_EQ(ap(s, UP(5, 1)), 0);
	CHECK_EQ(ap(s, LEFT(5, 1)), 0);
	CHECK_EQ(ap(s, FENCED(5, 1, "auto")), -EINVAL);
	CHECK_STR(why, "node 5 is left, not online or down");
	vcd_state_free(s);
	return true;
}

TEST(node_flags)
{
	struct vcd_state *s = fresh();
	struct vcd_apply_result res;
	const struct vcd_node *n;
	const char *e = "{\"v\":1,\"op\":\"node-flags\",\"node\":9,\"standby\":true}";

	/* Flags may be set on a node that was never online. */
	CHECK_EQ(vcd_state_apply(s, e, strlen(e), 1, &res, why, sizeof(why)), 0);
	CHECK(res.changed);
	CHECK_EQ(res.op, VCD_OP_NODE_FLAGS);
	n = vcd_state_node(s, 9);
	CHECK(n && n->standby && !n->maintenance);
	CHECK_EQ(n->state, VCD_NODE_UNKNOWN);
	CHECK_EQ(vcd_state_apply(s, e, strlen(e), 2, &res, why, sizeof(why)), 0);
	CHECK(!res.changed);
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"node-flags\",\"node\":9,\"maintenance\":true,\"standby\":false}"), 0);
	n = vcd_state_node(s, 9);
	CHECK(!n->standby && n->maintenance);
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"node-flags\",\"node\":9}"), -EINVAL);
	CHECK_STR(why, "node-flags sets neither \"standby\" nor \"maintenance\"");
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"node-flags\",\"node\":9,\"standby\":1}"), -EINVAL);
	CHECK_STR(why, "\"standby\" must be true or false");
	/* A never-online node is still unknown for node-down. */
	CHECK_EQ(ap(s, DOWN(9, 1)), -ENOENT);
	CHECK_STR(why, "node 9 has never been online");
	CHECK_EQ(ap(s, UP(9, 1)), 0);
	CHECK(vcd_state_node(s, 9)->maintenance);
	vcd_state_free(s);
	return true;
}

TEST(node_left)
{
	struct vcd_state *s = fresh();

	CHECK_EQ(ap(s, LEFT(2, 1)), -ENOENT);
	CHECK_STR(why, "node 2 has never been online");
	CHECK_EQ(ap(s, UP(2, 3)), 0);
	CHECK_EQ(ap(s, LEFT(2, 2)), -ESTALE);
	CHECK_STR(why, "node 2 is online at incarnation 3, not 2");
	CHECK_EQ(ap(s, LEFT(2, 3)), 0);
	CHECK_EQ(st(s, 2), VCD_NODE_LEFT);
	CHECK_EQ(ap(s, LEFT(2, 3)), -EINVAL);
	CHECK_STR(why, "node 2 is left, not online; only an online node leaves");
	CHECK_EQ(ap(s, UP(2, 3)), -ESTALE);
	CHECK_STR(why, "node 2 is left at incarnation 3; it may only return with a higher incarnation (rule 4), not 3");
	CHECK_EQ(ap(s, UP(2, 4)), 0);
	CHECK_EQ(ap(s, DOWN(2, 4)), 0);
	CHECK_EQ(ap(s, LEFT(2, 4)), -EINVAL);
	CHECK_STR(why, "node 2 is down, not online; only an online node leaves");
	vcd_state_free(s);
	return true;
}

TEST(resources)
{
	struct vcd_state *s = fresh();
	json_t *h, *def = json_loads("{\"xml\":\"<domain/>\",\"prio\":[3,1,2],\"z\":null}", 0, NULL);
	const json_t *r;
	char *e;
	size_t len;

	CHECK(def);
	CHECK(json_object_size(vcd_state_resources(s)) == 0);
	CHECK_EQ(vcd_entry_resource_add("web-1", "vm", def, &e, &len), 0);
	CHECK_EQ(ap(s, e), 0);
	CHECK_EQ(ap(s, e), -EEXIST);
	CHECK_STR(why, "resource \"web-1\" exists");
	free(e);
	r = json_object_get(vcd_state_resources(s), "web-1");
	CHECK(r);
	CHECK_STR(json_string_value(json_object_get(r, "type")), "vm");
	CHECK(json_equal(json_object_get(r, "definition"), def));
	json_decref(def);
	/* Any JSON value is a definition, kept as it is. */
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"resource-add\",\"name\":\"ip\",\"type\":\"ocf:heartbeat:IPaddr2\",\"definition\":\"x\"}"), 0);
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"resource-add\",\"name\":\"a b\",\"type\":\"vm\",\"definition\":{}}"), -EINVAL);
	CHECK_STR(why, "\"name\" must be 1 to 127 characters of A-Z a-z 0-9 . _ - :");
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"resource-add\",\"name\":\"b\",\"type\":\"vm\"}"), -EINVAL);
	CHECK_STR(why, "\"definition\" is missing");
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"resource-remove\",\"name\":\"nope\"}"), -ENOENT);
	CHECK_STR(why, "no resource \"nope\"");
	CHECK_EQ(vcd_entry_resource_remove("web-1", &e, &len), 0);
	CHECK_EQ(ap(s, e), 0);
	free(e);
	CHECK_EQ(json_object_size(vcd_state_resources(s)), 1);
	/* Resource ops are not decision records. */
	h = vcd_state_history_json(s);
	CHECK_EQ(json_array_size(h), 0);
	json_decref(h);
	vcd_state_free(s);
	return true;
}

TEST(entry_rejects)
{
	struct vcd_state *s = fresh();
	struct vcd_apply_result res;
	static const struct {
		const char *entry;
		int err;
		const char *why;
	} cases[] = {
		{ "", -EINVAL, "entry is not JSON: unexpected token near end of file at byte 0" },
		{ "{\"v\":1,", -EINVAL, "entry is not JSON: string or '}' expected near end of file at byte 7" },
		{ "[1]", -EINVAL, "entry is not a JSON object" },
		{ "3", -EINVAL, "entry is not a JSON object" },
		{ "{\"op\":\"node-up\"}", -EINVAL, "entry has no version \"v\"" },
		{ "{\"v\":2,\"op\":\"node-up\"}", -EPROTONOSUPPORT,
		  "entry version is not supported (this agent applies version 1)" },
		{ "{\"v\":\"1\",\"op\":\"node-up\"}", -EPROTONOSUPPORT,
		  "entry version is not supported (this agent applies version 1)" },
		{ "{\"v\":1}", -EINVAL, "\"op\" is missing" },
		{ "{\"v\":1,\"op\":7}", -EINVAL, "\"op\" must be a string" },
		{ "{\"v\":1,\"op\":\"node-explode\"}", -EOPNOTSUPP, "unknown op \"node-explode\"" },
		{ "{\"v\":1,\"op\":\"node-up\",\"node\":1,\"incarnation\":1,\"zz\":1,\"extra\":2}",
		  -EINVAL, "unknown key \"extra\" in node-up" },
		{ "{\"v\":1,\"op\":\"node-up\",\"node\":1,\"node\":2,\"incarnation\":1}", -EINVAL,
		  "entry is not JSON: duplicate object key near '\"node\"' at byte 37" },
		{ "{\"v\":1,\"op\":\"node-up\",\"incarnation\":1}", -EINVAL, "\"node\" is missing" },
		{ UP(0, 1), -EINVAL, "\"node\" must be an integer from 1 to 4294967295" },
		{ UP(4294967296, 1), -EINVAL, "\"node\" must be an integer from 1 to 4294967295" },
		{ UP(1, 0), -EINVAL, "\"incarnation\" must be an integer from 1 to 9223372036854775807" },
		{ UP(1, -3), -EINVAL, "\"incarnation\" must be an integer from 1 to 9223372036854775807" },
		{ UP(1, 1.0), -EINVAL, "\"incarnation\" must be an integer from 1 to 9223372036854775807" },
		{ UP(1, "1"), -EINVAL, "\"incarnation\" must be an integer from 1 to 9223372036854775807" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = vcd_state_apply(s, cases[i].entry, strlen(cases[i].entry), 100 + i, &res,
					why, sizeof(why));

		if (r != cases[i].err || strcmp(why, cases[i].why) != 0)
			printf("# case %zu: %s\n", i, cases[i].entry);
		CHECK_EQ(r, cases[i].err);
		CHECK_STR(why, cases[i].why);
		CHECK(!res.changed);
		/* A rejected entry still consumes its index. */
		CHECK_EQ(vcd_state_applied_index(s), 100 + i);
	}
	CHECK_EQ(vcd_state_n_nodes(s), 0);
	/* why may be NULL. */
	CHECK_EQ(vcd_state_apply(s, "x", 1, 1, NULL, NULL, 0), -EINVAL);
	vcd_state_free(s);
	return true;
}

TEST(encoders)
{
	struct vcd_fence_rec rec = {
		.node_id = 3, .incarnation = 7, .how = VCD_FENCE_AUTO,
		.last_heard_age_ms = 4230, .window_ms = 4200, .dc_id = 1, .term = 5,
		.time_ms = 1795000000000LL,
	};
	json_t *def;
	char *e;
	size_t len;

	CHECK_EQ(vcd_entry_node_up(3, 7, &e, &len), 0);
	CHECK_STR(e, "{\"incarnation\":7,\"node\":3,\"op\":\"node-up\",\"v\":1}");
	CHECK_EQ(len, strlen(e));
	free(e);
	CHECK_EQ(vcd_entry_node_down(3, 7, &e, &len), 0);
	CHECK_STR(e, "{\"incarnation\":7,\"node\":3,\"op\":\"node-down\",\"v\":1}");
	free(e);
	CHECK_EQ(vcd_entry_node_left(3, 7, &e, &len), 0);
	CHECK_STR(e, "{\"incarnation\":7,\"node\":3,\"op\":\"node-left\",\"v\":1}");
	free(e);
	strcpy(rec.note, "by root");
	CHECK_EQ(vcd_entry_node_fenced(&rec, &e, &len), 0);
	CHECK_STR(e, "{\"dc\":1,\"how\":\"auto\",\"incarnation\":7,\"last_heard_age_ms\":4230,"
		     "\"node\":3,\"note\":\"by root\",\"op\":\"node-fenced\",\"term\":5,"
		     "\"time_ms\":1795000000000,\"v\":1,\"window_ms\":4200}");
	free(e);
	CHECK_EQ(vcd_entry_node_flags(3, 1, -1, &e, &len), 0);
	CHECK_STR(e, "{\"node\":3,\"op\":\"node-flags\",\"standby\":true,\"v\":1}");
	free(e);
	CHECK_EQ(vcd_entry_node_flags(3, 0, 1, &e, &len), 0);
	CHECK_STR(e, "{\"maintenance\":true,\"node\":3,\"op\":\"node-flags\",\"standby\":false,\"v\":1}");
	free(e);
	def = json_pack("{s:i}", "mem", 512);
	CHECK_EQ(vcd_entry_resource_add("vm1", "vm", def, &e, &len), 0);
	CHECK_STR(e, "{\"definition\":{\"mem\":512},\"name\":\"vm1\",\"op\":\"resource-add\",\"type\":\"vm\",\"v\":1}");
	free(e);
	CHECK_EQ(vcd_entry_resource_remove("vm1", &e, &len), 0);
	CHECK_STR(e, "{\"name\":\"vm1\",\"op\":\"resource-remove\",\"v\":1}");
	free(e);

	/* What apply would refuse is refused here already. */
	CHECK_EQ(vcd_entry_node_up(0, 7, &e, &len), -EINVAL);
	CHECK_EQ(vcd_entry_node_up(3, 0, &e, &len), -EINVAL);
	CHECK_EQ(vcd_entry_node_down(3, (uint64_t)INT64_MAX + 1, &e, &len), -EINVAL);
	CHECK_EQ(vcd_entry_node_flags(3, -1, -1, &e, &len), -EINVAL);
	CHECK_EQ(vcd_entry_resource_add("", "vm", def, &e, &len), -EINVAL);
	CHECK_EQ(vcd_entry_resource_add("a/b", "vm", def, &e, &len), -EINVAL);
	CHECK_EQ(vcd_entry_resource_remove("a b", &e, &len), -EINVAL);
	rec.dc_id = 0;
	CHECK_EQ(vcd_entry_node_fenced(&rec, &e, &len), -EINVAL);
	rec.dc_id = 1;
	rec.how = 0;
	CHECK_EQ(vcd_entry_node_fenced(&rec, &e, &len), -EINVAL);
	json_decref(def);
	return true;
}

/* A log that touches everything, rejected entries included. */
static const char *const test_log[] = {
	UP(1, 1), UP(2, 1), UP(3, 7), UP(3, 7),
	"{\"v\":1,\"op\":\"node-flags\",\"node\":2,\"standby\":true}",
	"{\"v\":1,\"op\":\"resource-add\",\"name\":\"vm1\",\"type\":\"vm\",\"definition\":{\"b\":1,\"a\":[true,null,\"x\"]}}",
	DOWN(3, 7), FENCED(3, 7, "auto"), UP(3, 7), UP(3, 8),
	"{\"v\":1,\"op\":\"node-flags\",\"node\":5,\"maintenance\":true}",
	LEFT(1, 1), "{\"v\":9}", "garbage",
	"{\"v\":1,\"op\":\"resource-add\",\"name\":\"ip\",\"type\":\"ocf:heartbeat:IPaddr2\",\"definition\":[1,2]}",
	"{\"v\":1,\"op\":\"resource-remove\",\"name\":\"vm1\"}",
	FENCED(2, 1, "confirmed"),
};

static void apply_log(struct vcd_state *s, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++)
		vcd_state_apply(s, test_log[i], strlen(test_log[i]), i + 1, NULL, NULL, 0);
}

#define LOG_LEN (sizeof(test_log) / sizeof(test_log[0]))

TEST(snapshot_roundtrip)
{
	struct vcd_state *a = fresh(), *b = fresh();
	void *snap_a, *snap_b;
	size_t len_a, len_b;
	json_t *ja, *jb, *ha, *hb;

	apply_log(a, 0, LOG_LEN);
	CHECK_EQ(vcd_state_snapshot(a, &snap_a, &len_a), 0);
	CHECK_EQ(vcd_state_restore(b, snap_a, len_a, why, sizeof(why)), 0);
	CHECK_EQ(vcd_state_snapshot(b, &snap_b, &len_b), 0);
	CHECK_EQ(len_a, len_b);
	CHECK_STR(snap_b, snap_a);
	ja = vcd_state_to_json(a);
	jb = vcd_state_to_json(b);
	CHECK(json_equal(ja, jb));
	ha = vcd_state_history_json(a);
	hb = vcd_state_history_json(b);
	CHECK(json_equal(ha, hb));
	CHECK_EQ(json_array_size(ha), 10);
	CHECK_EQ(vcd_state_applied_index(b), LOG_LEN);
	CHECK_EQ(vcd_state_node(b, 3)->fenced_incarnation, 7);
	CHECK_EQ(vcd_state_node(b, 3)->fence.window_ms, 4200);
	CHECK_EQ(vcd_state_node(b, 2)->fence.how, VCD_FENCE_CONFIRMED);
	CHECK_EQ(vcd_state_node(b, 5)->state, VCD_NODE_UNKNOWN);
	/* The restored state enforces rule 4 as the original did. */
	CHECK_EQ(ap(b, UP(2, 1)), -ESTALE);
	json_decref(ja);
	json_decref(jb);
	json_decref(ha);
	json_decref(hb);
	free(snap_a);
	free(snap_b);
	vcd_state_free(a);
	vcd_state_free(b);
	return true;
}

TEST(restore_rejects)
{
	struct vcd_state *s = fresh();
	void *before, *after;
	const char *empty;
	size_t lb, la;
	static const struct {
		const char *snap;
		int err;
		const char *why;
	} cases[] = {
		{ "nope", -EINVAL, "snapshot is not JSON: '[' or '{' expected near 'nope' at byte 4" },
		{ "[]", -EINVAL, "snapshot is not a JSON object" },
		{ "{}", -EINVAL, "snapshot has no version \"v\"" },
		{ "{\"v\":2}", -EPROTONOSUPPORT,
		  "snapshot version is not supported (this agent reads version 1)" },
		{ "{\"v\":1,\"applied_index\":1,\"nodes\":[],\"resources\":{},\"history\":[],\"x\":1}",
		  -EINVAL, "unknown key \"x\" in the snapshot" },
		{ "{\"v\":1,\"applied_index\":1,\"nodes\":{},\"resources\":{},\"history\":[]}",
		  -EINVAL, "\"nodes\" is not an array" },
		{ "{\"v\":1,\"applied_index\":1,\"nodes\":[{\"id\":2,\"state\":\"online\",\"incarnation\":1,"
		  "\"fenced_incarnation\":0},{\"id\":1,\"state\":\"online\",\"incarnation\":1,"
		  "\"fenced_incarnation\":0}],\"resources\":{},\"history\":[]}",
		  -EINVAL, "nodes are not ordered by id" },
		{ "{\"v\":1,\"applied_index\":1,\"nodes\":[{\"id\":2,\"state\":\"dead\",\"incarnation\":1,"
		  "\"fenced_incarnation\":0}],\"resources\":{},\"history\":[]}",
		  -EINVAL, "node 2: unknown state \"dead\"" },
		{ "{\"v\":1,\"applied_index\":1,\"nodes\":[],\"resources\":{\"a\":{\"type\":\"vm\"}},\"history\":[]}",
		  -EINVAL, "resource \"a\" has no definition" },
		{ "{\"v\":1,\"applied_index\":1,\"nodes\":[],\"resources\":{},\"history\":[{\"index\":1}]}",
		  -EINVAL, "history record 0 has no \"op\"" },
	};
	size_t i;

	apply_log(s, 0, LOG_LEN);
	CHECK_EQ(vcd_state_snapshot(s, &before, &lb), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = vcd_state_restore(s, cases[i].snap, strlen(cases[i].snap), why, sizeof(why));

		if (r != cases[i].err || strcmp(why, cases[i].why) != 0)
			printf("# case %zu: %s\n", i, cases[i].snap);
		CHECK_EQ(r, cases[i].err);
		CHECK_STR(why, cases[i].why);
	}
	/* Nothing of the bad snapshots stuck. */
	CHECK_EQ(vcd_state_snapshot(s, &after, &la), 0);
	CHECK_STR(after, before);
	free(before);
	free(after);
	/* The empty state round-trips too. */
	empty = "{\"v\":1,\"applied_index\":0,\"nodes\":[],\"resources\":{},\"history\":[]}";
	CHECK_EQ(vcd_state_restore(s, empty, strlen(empty), why, sizeof(why)), 0);
	CHECK_EQ(vcd_state_n_nodes(s), 0);
	vcd_state_free(s);
	return true;
}

TEST(history_bound)
{
	struct vcd_state *s = fresh();
	json_t *h;
	char e[128];
	int i;

	for (i = 0; i < 300; i++) {
		snprintf(e, sizeof(e), "{\"v\":1,\"op\":\"node-flags\",\"node\":1,\"standby\":%s}",
			 i % 2 ? "false" : "true");
		CHECK_EQ(ap(s, e), 0);
	}
	/* A no-op and a rejected entry are not decisions. */
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"node-flags\",\"node\":1,\"standby\":false}"), 0);
	CHECK_EQ(ap(s, DOWN(1, 1)), -ENOENT);
	h = vcd_state_history_json(s);
	CHECK_EQ(json_array_size(h), VCD_STATE_HISTORY);
	/* Oldest first: the first 44 were dropped. */
	CHECK_EQ(json_integer_value(json_object_get(json_array_get(h, 0), "index")), 45);
	CHECK_EQ(json_integer_value(json_object_get(json_array_get(h, VCD_STATE_HISTORY - 1), "index")), 300);
	CHECK_STR(json_string_value(json_object_get(json_array_get(h, 0), "op")), "node-flags");
	CHECK(!json_object_get(json_array_get(h, 0), "v"));
	json_decref(h);
	vcd_state_free(s);
	return true;
}

TEST(determinism)
{
	struct vcd_state *a = fresh(), *b = fresh(), *c = fresh();
	void *sa, *sb, *sc, *mid;
	size_t la, lb, lc, lm;

	apply_log(a, 0, LOG_LEN);
	apply_log(b, 0, LOG_LEN);
	/* c: the first half, a snapshot, a restart from it, the rest. */
	apply_log(c, 0, LOG_LEN / 2);
	CHECK_EQ(vcd_state_snapshot(c, &mid, &lm), 0);
	vcd_state_free(c);
	c = fresh();
	CHECK_EQ(vcd_state_restore(c, mid, lm, why, sizeof(why)), 0);
	apply_log(c, LOG_LEN / 2, LOG_LEN);
	CHECK_EQ(vcd_state_snapshot(a, &sa, &la), 0);
	CHECK_EQ(vcd_state_snapshot(b, &sb, &lb), 0);
	CHECK_EQ(vcd_state_snapshot(c, &sc, &lc), 0);
	CHECK_STR(sb, sa);
	CHECK_STR(sc, sa);
	free(sa);
	free(sb);
	free(sc);
	free(mid);
	vcd_state_free(a);
	vcd_state_free(b);
	vcd_state_free(c);
	return true;
}

TEST(status_json)
{
	struct vcd_state *s = fresh();
	json_t *j, *n;
	char *text;

	CHECK_EQ(ap(s, UP(3, 7)), 0);
	CHECK_EQ(ap(s, DOWN(3, 7)), 0);
	CHECK_EQ(ap(s, FENCED(3, 7, "auto")), 0);
	CHECK_EQ(ap(s, UP(1, 2)), 0);
	j = vcd_state_to_json(s);
	CHECK(j);
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	CHECK_STR(text, "{\"applied_index\":4,\"cluster\":{\"maintenance\":false,"
		  "\"migrate_max\":1,\"shutdown_policy\":\"migrate\"},\"nodes\":["
		  "{\"cpus\":0,\"fenced_incarnation\":0,\"id\":1,\"incarnation\":2,"
		  "\"leaving_incarnation\":0,\"maintenance\":false,"
		  "\"memory_kib\":0,\"standby\":false,\"state\":\"online\"},"
		  "{\"cpus\":0,\"fenced_incarnation\":7,\"id\":3,\"incarnation\":7,\"last_fence\":{\"dc\":1,"
		  "\"how\":\"auto\",\"incarnation\":7,\"last_heard_age_ms\":4230,\"node\":3,\"note\":\"\","
		  "\"term\":5,\"time_ms\":1795000000000,\"window_ms\":4200},"
		  "\"leaving_incarnation\":0,\"maintenance\":false,"
		  "\"memory_kib\":0,\"standby\":false,\"state\":\"fenced\"}],\"resources\":{}}");
	free(text);
	n = json_array_get(json_object_get(j, "nodes"), 0);
	CHECK_EQ(json_integer_value(json_object_get(n, "id")), 1);
	json_decref(j);
	CHECK_STR(vcd_node_state_name(VCD_NODE_LEFT), "left");
	CHECK_STR(vcd_op_name(VCD_OP_RESOURCE_REMOVE), "resource-remove");
	CHECK_STR(vcd_fence_how_name(VCD_FENCE_CONFIRMED), "confirmed");
	CHECK(vcd_state_node_at(s, 2) == NULL);
	CHECK_EQ(vcd_state_node_at(s, 1)->id, 3);
	vcd_state_free(s);
	return true;
}

TEST(node_table_full)
{
	struct vcd_state *s = fresh();
	char e[96];
	int i;

	/* Ids arrive out of order; the table stays ordered. */
	for (i = VCD_STATE_MAX_NODES; i >= 1; i--) {
		snprintf(e, sizeof(e), "{\"v\":1,\"op\":\"node-up\",\"node\":%d,\"incarnation\":1}", i * 10);
		CHECK_EQ(ap(s, e), 0);
	}
	CHECK_EQ(ap(s, UP(5, 1)), -ENOSPC);
	CHECK_STR(why, "the node table is full (65 nodes)");
	for (i = 0; i < VCD_STATE_MAX_NODES; i++)
		CHECK_EQ(vcd_state_node_at(s, (size_t)i)->id, (i + 1) * 10);
	/* Known nodes still change. */
	CHECK_EQ(ap(s, DOWN(10, 1)), 0);
	vcd_state_free(s);
	return true;
}

/* Place an entry built by the encoders; returns apply's result. */
static int place(struct vcd_state *s, const char *name, uint32_t node, uint64_t inc)
{
	char *e;
	size_t len;
	int r = vcd_entry_resource_place(name, node, inc, "test", &e, &len);

	if (r == 0) {
		r = ap(s, e);
		free(e);
	}
	return r;
}

static int release(struct vcd_state *s, const char *name, uint32_t node, uint64_t inc,
		   bool failed)
{
	char *e;
	size_t len;
	int r = vcd_entry_resource_release(name, node, inc, failed, "n", &e, &len);

	if (r == 0) {
		r = ap(s, e);
		free(e);
	}
	return r;
}

static uint32_t holder(struct vcd_state *s, const char *name)
{
	struct vcd_placement p = { 0 };

	vcd_resource_placement(json_object_get(vcd_state_resources(s), name), &p);
	return p.node;
}

#define ADD(name) "{\"v\":1,\"op\":\"resource-add\",\"name\":\"" name \
	"\",\"type\":\"vm\",\"definition\":{}}"

/*
 * The invariant at the last line: a resource moves only when the life
 * that held it was fenced or released it; leaving needs a release first.
 */
TEST(placement_safety)
{
	struct vcd_state *s = fresh();
	const json_t *r;
	char *e;
	size_t len;

	CHECK_EQ(ap(s, UP(1, 5)), 0);
	CHECK_EQ(ap(s, UP(2, 6)), 0);
	CHECK_EQ(ap(s, ADD("vm1")), 0);
	CHECK_EQ(holder(s, "vm1"), 0);
	/* Only an online life takes it. */
	CHECK_EQ(place(s, "vm1", 1, 4), -EINVAL);
	CHECK_STR(why, "node 1 is not online at incarnation 4");
	CHECK_EQ(place(s, "vm1", 3, 1), -EINVAL);
	CHECK_EQ(place(s, "vm1", 1, 5), 0);
	CHECK_EQ(holder(s, "vm1"), 1);
	CHECK_EQ(place(s, "vm1", 1, 5), -EALREADY);
	/* Held by a live life: nowhere else. */
	CHECK_EQ(place(s, "vm1", 2, 6), -EBUSY);
	CHECK_STR(why, "resource \"vm1\" is placed on node 1 (incarnation 5), which has neither released it nor been fenced");
	/* Down is not enough: the fence window has not passed. */
	CHECK_EQ(ap(s, DOWN(1, 5)), 0);
	CHECK_EQ(place(s, "vm1", 2, 6), -EBUSY);
	CHECK_EQ(ap(s, FENCED(1, 5, "auto")), 0);
	CHECK_EQ(place(s, "vm1", 2, 6), 0);
	CHECK_EQ(holder(s, "vm1"), 2);
	/* The old life's reports are stale now. */
	CHECK_EQ(release(s, "vm1", 1, 5, false), -ESTALE);
	CHECK_EQ(vcd_entry_resource_status("vm1", 1, 5, "running", "", &e, &len), 0);
	CHECK_EQ(ap(s, e), -ESTALE);
	free(e);
	CHECK_EQ(vcd_entry_resource_status("vm1", 2, 6, "running", "pid 7", &e, &len), 0);
	CHECK_EQ(ap(s, e), 0);
	free(e);
	r = json_object_get(vcd_state_resources(s), "vm1");
	CHECK_STR(json_string_value(json_object_get(r, "status")), "running");
	/* Rule 5: a host leaves after its resources were released. */
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"node-left\",\"node\":2,\"incarnation\":6}"), -EBUSY);
	CHECK_STR(why, "resource \"vm1\" is still placed on node 2; a host leaves after its resources were released (rule 5)");
	/* A failure release says so (the failures themselves are
	 * resource-fail entries, see fail_cleanup). */
	CHECK_EQ(release(s, "vm1", 2, 6, true), 0);
	CHECK_EQ(holder(s, "vm1"), 0);
	r = json_object_get(vcd_state_resources(s), "vm1");
	CHECK_STR(json_string_value(json_object_get(r, "status")), "failed");
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"node-left\",\"node\":2,\"incarnation\":6}"), 0);
	vcd_state_free(s);
	return true;
}

/* Removing a placed resource waits for its holder's release. */
TEST(remove_placed)
{
	struct vcd_state *s = fresh();
	char *e;
	size_t len;

	CHECK_EQ(ap(s, UP(1, 5)), 0);
	CHECK_EQ(ap(s, ADD("vm1")), 0);
	CHECK_EQ(place(s, "vm1", 1, 5), 0);
	CHECK_EQ(vcd_entry_resource_remove("vm1", &e, &len), 0);
	CHECK_EQ(ap(s, e), 0);
	CHECK(json_object_get(vcd_state_resources(s), "vm1"));
	CHECK_EQ(ap(s, e), -EALREADY);
	free(e);
	CHECK_EQ(place(s, "vm1", 1, 5), -EINVAL);
	CHECK_STR(why, "resource \"vm1\" is being removed");
	CHECK_EQ(release(s, "vm1", 1, 5, false), 0);
	CHECK(!json_object_get(vcd_state_resources(s), "vm1"));
	vcd_state_free(s);
	return true;
}

/* Capacity is recorded per node and survives a snapshot. */
TEST(capacity)
{
	struct vcd_state *s = fresh(), *t = fresh();
	void *snap;
	size_t len;
	char *e;

	CHECK_EQ(vcd_entry_node_capacity(2, 8, 1 << 20, &e, &len), 0);
	CHECK_EQ(ap(s, e), 0);
	free(e);
	CHECK_EQ(vcd_state_node(s, 2)->cpus, 8);
	CHECK_EQ(vcd_state_node(s, 2)->memory_kib, 1 << 20);
	CHECK_EQ(ap(s, ADD("vm1")), 0);
	CHECK_EQ(vcd_state_snapshot(s, &snap, &len), 0);
	CHECK_EQ(vcd_state_restore(t, snap, len, why, sizeof(why)), 0);
	free(snap);
	CHECK_EQ(vcd_state_node(t, 2)->memory_kib, 1 << 20);
	CHECK(json_equal(vcd_state_resources(s), vcd_state_resources(t)));
	vcd_state_free(s);
	vcd_state_free(t);
	return true;
}

static const json_t *rec(struct vcd_state *s, const char *name)
{
	return json_object_get(vcd_state_resources(s), name);
}

/* Apply what an encoder built into *@e (read after the encoder ran:
 * argument order is unspecified). */
static int ap_built(struct vcd_state *s, int r, char **e)
{
	if (r < 0)
		return r;
	r = ap(s, *e);
	free(*e);
	return r;
}

/*
 * A planned move: both lives hold the resource until it ends; nothing
 * places it elsewhere meanwhile, whichever life is fenced.
 */
TEST(migration)
{
	struct vcd_state *s = fresh();
	struct vcd_placement p;
	char *e;
	size_t len;

	CHECK_EQ(ap(s, UP(1, 5)), 0);
	CHECK_EQ(ap(s, UP(2, 6)), 0);
	CHECK_EQ(ap(s, UP(3, 7)), 0);
	CHECK_EQ(ap(s, ADD("vm1")), 0);
	CHECK_EQ(place(s, "vm1", 1, 5), 0);
	/* Only from its holder, to another online life. */
	CHECK_EQ(ap_built(s, vcd_entry_resource_migrate("vm1", 2, 6, 3, 7, "x", &e, &len), &e),
		 -ESTALE);
	CHECK_EQ(ap_built(s, vcd_entry_resource_migrate("vm1", 1, 5, 1, 5, "x", &e, &len), &e),
		 -EINVAL);
	CHECK_STR(why, "resource \"vm1\" is on node 1 already");
	CHECK_EQ(ap_built(s, vcd_entry_resource_migrate("vm1", 2, 9, 1, 5, "x", &e, &len), &e),
		 -EINVAL);
	CHECK_EQ(ap_built(s, vcd_entry_resource_migrate("vm1", 2, 6, 1, 5, "standby", &e,
							&len), &e), 0);
	CHECK_EQ(vcd_resource_placement(rec(s, "vm1"), &p), 0);
	CHECK_EQ(p.node, 1);
	CHECK_EQ(p.to_node, 2);
	CHECK(vcd_resource_held_by(rec(s, "vm1"), 2, 6));
	CHECK_EQ(ap_built(s, vcd_entry_resource_migrate("vm1", 3, 7, 1, 5, "x", &e, &len), &e),
		 -EBUSY);
	/* The source is fenced: the target still holds it. */
	CHECK_EQ(ap(s, DOWN(1, 5)), 0);
	CHECK_EQ(ap(s, FENCED(1, 5, "auto")), 0);
	CHECK_EQ(place(s, "vm1", 3, 7), -EBUSY);
	CHECK(!vcd_state_resource_free(s, rec(s, "vm1")));
	/* No release in the middle of a move; the target may not leave. */
	CHECK_EQ(ap(s, LEFT(2, 6)), -EBUSY);
	/* The target finishes it. */
	CHECK_EQ(ap_built(s, vcd_entry_resource_migrated("vm1", 3, 7, "running", "", &e, &len),
			  &e), -ESTALE);
	CHECK_EQ(ap_built(s, vcd_entry_resource_migrated("vm1", 2, 6, "running", "took 800 ms",
							 &e, &len), &e), 0);
	CHECK_EQ(holder(s, "vm1"), 2);
	CHECK_STR(json_string_value(json_object_get(rec(s, "vm1"), "status")), "running");
	CHECK(!json_object_get(rec(s, "vm1"), "migrating"));
	/* A fenced target ends the move; the source keeps it. */
	CHECK_EQ(ap_built(s, vcd_entry_resource_migrate("vm1", 3, 7, 2, 6, "move", &e, &len),
			  &e), 0);
	CHECK_EQ(release(s, "vm1", 2, 6, false), -EBUSY);
	CHECK_EQ(ap(s, DOWN(3, 7)), 0);
	CHECK_EQ(ap(s, FENCED(3, 7, "auto")), 0);
	CHECK(!json_object_get(rec(s, "vm1"), "migrating"));
	CHECK_EQ(holder(s, "vm1"), 2);
	/* An abort. */
	CHECK_EQ(ap(s, UP(3, 8)), 0);
	CHECK_EQ(ap_built(s, vcd_entry_resource_migrate("vm1", 3, 8, 2, 6, "move", &e, &len),
			  &e), 0);
	CHECK_EQ(ap_built(s, vcd_entry_resource_migrate_abort("vm1", 2, "libvirt: no route", &e,
							      &len), &e), 0);
	CHECK_EQ(ap_built(s, vcd_entry_resource_migrate_abort("vm1", 2, "again", &e, &len), &e),
		 -EALREADY);
	CHECK_EQ(holder(s, "vm1"), 2);
	CHECK_EQ(release(s, "vm1", 2, 6, false), 0);
	CHECK_EQ(ap(s, LEFT(2, 6)), 0);
	vcd_state_free(s);
	return true;
}

/* Failures per node with the time of the last, and cleanup. */
TEST(fail_cleanup)
{
	struct vcd_state *s = fresh();
	const json_t *f;
	char *e;
	size_t len;

	CHECK_EQ(ap(s, UP(1, 5)), 0);
	CHECK_EQ(ap(s, UP(2, 6)), 0);
	CHECK_EQ(ap(s, ADD("vm1")), 0);
	CHECK_EQ(place(s, "vm1", 1, 5), 0);
	CHECK_EQ(ap_built(s, vcd_entry_resource_fail("vm1", 2, 6, 1000, "x", &e, &len), &e),
		 -ESTALE);
	CHECK_EQ(ap_built(s, vcd_entry_resource_fail("vm1", 1, 5, 1000, "crash", &e, &len), &e),
		 0);
	CHECK_EQ(ap_built(s, vcd_entry_resource_fail("vm1", 1, 5, 2500, "monitor", &e, &len),
			  &e), 0);
	f = json_object_get(json_object_get(rec(s, "vm1"), "fails"), "1");
	CHECK_EQ(json_integer_value(json_object_get(f, "count")), 2);
	CHECK_EQ(json_integer_value(json_object_get(f, "last_ms")), 2500);
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"resource-cleanup\",\"name\":\"vm1\",\"node\":2}"), 0);
	CHECK_EQ(json_object_size(json_object_get(rec(s, "vm1"), "fails")), 1);
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"resource-cleanup\",\"name\":\"vm1\",\"node\":0}"), 0);
	CHECK_EQ(json_object_size(json_object_get(rec(s, "vm1"), "fails")), 0);
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"resource-cleanup\",\"name\":\"nope\",\"node\":0}"),
		 -ENOENT);
	/* Expired failures do not count: the count starts again. */
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"resource-meta\",\"name\":\"vm1\","
		    "\"meta\":{\"failure_timeout_ms\":1000}}"), 0);
	CHECK_EQ(ap_built(s, vcd_entry_resource_fail("vm1", 1, 5, 10000, "a", &e, &len), &e), 0);
	CHECK_EQ(ap_built(s, vcd_entry_resource_fail("vm1", 1, 5, 10500, "b", &e, &len), &e), 0);
	f = json_object_get(json_object_get(rec(s, "vm1"), "fails"), "1");
	CHECK_EQ(json_integer_value(json_object_get(f, "count")), 2);
	CHECK_EQ(ap_built(s, vcd_entry_resource_fail("vm1", 1, 5, 12000, "c", &e, &len), &e), 0);
	f = json_object_get(json_object_get(rec(s, "vm1"), "fails"), "1");
	CHECK_EQ(json_integer_value(json_object_get(f, "count")), 1);
	vcd_state_free(s);
	return true;
}

/* Flags, meta, cluster properties, freeze; all survive a snapshot. */
TEST(flags_and_cluster)
{
	struct vcd_state *s = fresh(), *t = fresh();
	json_t *fields;
	void *snap;
	char *e;
	size_t len;

	CHECK_EQ(ap(s, UP(1, 5)), 0);
	CHECK_EQ(ap(s, ADD("vm1")), 0);
	CHECK(json_is_true(json_object_get(rec(s, "vm1"), "enabled")));
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"resource-flags\",\"name\":\"vm1\"}"), -EINVAL);
	CHECK_STR(why, "resource-flags sets none of \"enabled\", \"maintenance\", \"target_node\"");
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"resource-flags\",\"name\":\"vm1\",\"target_node\":4}"),
		 -ENOENT);
	fields = json_pack("{s:s, s:b, s:b, s:i}", "name", "vm1", "enabled", 0, "maintenance", 1,
			   "target_node", 1);
	CHECK_EQ(ap_built(s, vcd_entry_build(VCD_OP_RESOURCE_FLAGS, fields, &e, &len), &e), 0);
	json_decref(fields);
	CHECK(json_is_false(json_object_get(rec(s, "vm1"), "enabled")));
	CHECK(json_is_true(json_object_get(rec(s, "vm1"), "maintenance")));
	CHECK_EQ(json_integer_value(json_object_get(rec(s, "vm1"), "target_node")), 1);
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"resource-meta\",\"name\":\"vm1\",\"meta\":[]}"), -EINVAL);
	CHECK_STR(why, "\"meta\" must be an object");
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"cluster-set\",\"shutdown_policy\":\"panic\"}"), -EINVAL);
	CHECK_STR(why, "\"shutdown_policy\" must be migrate, stop or freeze");
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"cluster-set\",\"migrate_max\":0}"), -EINVAL);
	CHECK_EQ(ap(s, "{\"v\":1,\"op\":\"cluster-set\",\"maintenance\":true,"
		    "\"shutdown_policy\":\"freeze\",\"migrate_max\":2}"), 0);
	CHECK(json_is_true(json_object_get(vcd_state_cluster(s), "maintenance")));
	/* Freeze: kept for the node that stopped it. */
	CHECK_EQ(place(s, "vm1", 1, 5), 0);
	CHECK_EQ(ap_built(s, vcd_entry_resource_freeze("vm1", 1, 5, "shutdown", &e, &len), &e), 0);
	CHECK_EQ(holder(s, "vm1"), 0);
	CHECK_EQ(json_integer_value(json_object_get(rec(s, "vm1"), "frozen_on")), 1);
	CHECK_EQ(vcd_state_snapshot(s, &snap, &len), 0);
	CHECK_EQ(vcd_state_restore(t, snap, len, why, sizeof(why)), 0);
	free(snap);
	CHECK(json_equal(vcd_state_resources(s), vcd_state_resources(t)));
	CHECK(json_equal(vcd_state_cluster(s), vcd_state_cluster(t)));
	CHECK_STR(json_string_value(json_object_get(vcd_state_cluster(t), "shutdown_policy")),
		  "freeze");
	vcd_state_free(s);
	vcd_state_free(t);
	return true;
}

static const struct vc_test tests[] = {
	T(node_up), T(rule4_fenced_comeback), T(rule4_down_comeback), T(node_down),
	T(node_fenced), T(node_flags), T(node_left), T(resources), T(entry_rejects),
	T(encoders), T(snapshot_roundtrip), T(restore_rejects), T(history_bound),
	T(determinism), T(status_json), T(node_table_full), T(placement_safety),
	T(remove_placed), T(capacity), T(migration), T(fail_cleanup), T(flags_and_cluster),
	{ 0 }
};

#include "tap-main.h"
