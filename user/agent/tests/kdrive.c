// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kdrive: run the kernel membership transport (mship-kernel.c) alone, from
 * a config file, and print one JSON line per callback, for
 * tests/agent-kernel.sh.
 *
 *   kdrive CONFIG [--arm | --arm-quorate] [--pet-ms N] [--incarnation N]
 *                 [--payload TEXT] [--proc PID]...
 *
 *   --arm          arm the watchdog with [fence] right after the start
 *   --arm-quorate  arm it when quorum is first gained (as the agent does)
 *   --pet-ms N     once armed, pet every N ms
 *   --incarnation  this life (default: wall clock in ms)
 *   --payload      set_payload(TEXT) after the start
 *   --proc PID     proc_add(PID) after the start (before arming)
 *
 * Signals: SIGUSR1 stops petting (the agent "hangs"); SIGUSR2 prints
 * members() and self(); SIGTERM/SIGINT stop() and exit.
 *
 * Output lines (JSON objects): {"event":"started",...},
 * {"event":"peer","node":2,"state":"up","old":"joining",...},
 * {"event":"quorum","quorate":true}, {"event":"pretimeout"},
 * {"event":"fenced","reason":"agent"}, {"event":"failed","error":"..."},
 * {"event":"members","members":[...]}, {"event":"self",...},
 * {"event":"pet-stopped"}, {"event":"stopped"}.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../../blake2s.h"
#include "../../keyfile.h"
#include "../../parse.h"
#include "../log.h"
#include "../mship.h"

struct opts {
	const char *conf;
	bool arm, arm_quorate;
	uint32_t pet_ms;
	uint64_t incarnation;
	const char *payload;
	size_t n_procs;
	pid_t procs[16];
};

struct drive {
	const struct opts *o;
	struct vcd_mship *ms;
	uv_timer_t pet;
	uv_signal_t sigs[4];
	bool armed;
};

static const char *name_of(const char *const *names, size_t n, unsigned int v)
{
	return v < n && names[v] ? names[v] : "unknown";
}

#define NAME(table, v) name_of(table, sizeof(table) / sizeof(table[0]), v)

static const char *const state_names[] = {
	[VC_PEER_STATE_NEW] = "new", [VC_PEER_STATE_JOINING] = "joining",
	[VC_PEER_STATE_UP] = "up", [VC_PEER_STATE_SUSPECT] = "suspect",
	[VC_PEER_STATE_DOWN] = "down",
};
static const char *const down_names[] = {
	[VC_DOWN_REASON_UNSPEC] = "none", [VC_DOWN_REASON_TIMEOUT] = "timeout",
	[VC_DOWN_REASON_DECLARED] = "declared", [VC_DOWN_REASON_NEW_LIFE] = "new-life",
	[VC_DOWN_REASON_REMOVED] = "removed", [VC_DOWN_REASON_STOPPED] = "stopped",
};
static const char *const action_names[] = {
	[VC_FENCE_ACTION_NONE] = "none", [VC_FENCE_ACTION_LOG] = "log",
	[VC_FENCE_ACTION_KILL] = "kill", [VC_FENCE_ACTION_PANIC] = "panic",
	[VC_FENCE_ACTION_REBOOT] = "reboot",
};
static const char *const fence_names[] = {
	[VC_FENCE_REASON_UNSPEC] = "none", [VC_FENCE_REASON_AGENT] = "agent",
	[VC_FENCE_REASON_QUORUM] = "quorum", [VC_FENCE_REASON_DECLARED] = "declared",
	[VC_FENCE_REASON_STOPPED] = "stopped", [VC_FENCE_REASON_NETNS_EXIT] = "netns-exit",
};

uint64_t vcd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Print @obj as one line and free it. */
static void emit(json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);

	if (s) {
		printf("%s\n", s);
		fflush(stdout);
	}
	free(s);
	json_decref(obj);
}

static json_t *member_json(const struct vcd_member *m)
{
	char hex[VC_MAX_PAYLOAD * 2 + 1];
	size_t i;

	for (i = 0; i < m->payload_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", m->payload[i]);
	hex[2 * m->payload_len] = '\0';
	return json_pack("{s:I,s:I,s:s,s:s,s:I,s:I,s:I,s:b,s:b,s:b,s:s,s:I,s:I,s:I,s:s}",
			 "node", (json_int_t)m->node_id, "votes", (json_int_t)m->votes,
			 "state", NAME(state_names, m->state),
			 "down_reason", NAME(down_names, m->down_reason),
			 "incarnation", (json_int_t)m->incarnation,
			 "last_heard_ns", (json_int_t)m->last_heard_ns,
			 "fenced_by_ns", (json_int_t)m->fenced_by_ns,
			 "fence_strong", m->fence_strong, "armed", m->armed,
			 "user_fence", m->user_fence,
			 "fence_action", NAME(action_names, m->fence_action),
			 "links", (json_int_t)m->links, "links_up", (json_int_t)m->links_up,
			 "rtt_us", (json_int_t)m->rtt_us, "payload", hex);
}

static void close_all(struct drive *d);

static void on_peer(void *ctx, const struct vcd_member *m, uint8_t old_state)
{
	json_t *o = member_json(m);

	(void)ctx;
	json_object_set_new(o, "event", json_string("peer"));
	json_object_set_new(o, "old", json_string(NAME(state_names, old_state)));
	json_object_set_new(o, "now_ns", json_integer((json_int_t)vcd_now_ns()));
	emit(o);
}

static void on_pet_timer(uv_timer_t *t)
{
	struct drive *d = t->data;

	(void)d->ms->ops->pet(d->ms);
}

/* Arm, then pet on schedule. */
static int arm(struct drive *d)
{
	int r = d->ms->ops->arm(d->ms);

	emit(json_pack("{s:s,s:i}", "event", "armed", "error", r));
	if (r < 0)
		return r;
	d->armed = true;
	if (!d->o->pet_ms)
		return 0;
	return uv_timer_start(&d->pet, on_pet_timer, d->o->pet_ms, d->o->pet_ms);
}

static void on_quorum(void *ctx, bool quorate)
{
	struct drive *d = ctx;

	emit(json_pack("{s:s,s:b}", "event", "quorum", "quorate", quorate));
	if (quorate && d->o->arm_quorate && !d->armed)
		(void)arm(d);
}

static void on_pretimeout(void *ctx)
{
	(void)ctx;
	emit(json_pack("{s:s,s:I}", "event", "pretimeout", "now_ns", (json_int_t)vcd_now_ns()));
}

static void on_fenced(void *ctx, uint8_t reason)
{
	(void)ctx;
	emit(json_pack("{s:s,s:s,s:I}", "event", "fenced", "reason", NAME(fence_names, reason),
		       "now_ns", (json_int_t)vcd_now_ns()));
}

static void on_failed(void *ctx, int err)
{
	struct drive *d = ctx;

	emit(json_pack("{s:s,s:s}", "event", "failed", "error", strerror(-err)));
	close_all(d);
}

static void print_state(struct drive *d)
{
	struct vcd_member *ms = calloc(VC_MAX_PEERS, sizeof(*ms));
	struct vcd_self self;
	json_t *arr;
	size_t n = 0, i;
	int r;

	if (!ms)
		return;
	r = d->ms->ops->members(d->ms, ms, VC_MAX_PEERS, &n);
	arr = json_array();
	for (i = 0; r == 0 && i < n; i++)
		json_array_append_new(arr, member_json(&ms[i]));
	emit(json_pack("{s:s,s:o,s:i}", "event", "members", "members", arr, "error", r));
	free(ms);
	r = d->ms->ops->self(d->ms, &self);
	if (r < 0)
		return;
	emit(json_pack("{s:s,s:I,s:b,s:b,s:I,s:I,s:b,s:b,s:s,s:s}", "event", "self",
		       "incarnation", (json_int_t)self.incarnation, "started", self.started,
		       "quorate", self.quorate, "votes_seen", (json_int_t)self.votes_seen,
		       "expected_votes", (json_int_t)self.expected_votes, "armed", self.armed,
		       "fenced", self.fenced, "fence_action", NAME(action_names, self.fence_action),
		       "fence_reason", NAME(fence_names, self.fence_reason)));
}

static void close_all(struct drive *d)
{
	size_t i;

	uv_close((uv_handle_t *)&d->pet, NULL);
	for (i = 0; i < sizeof(d->sigs) / sizeof(d->sigs[0]); i++)
		uv_close((uv_handle_t *)&d->sigs[i], NULL);
	d->ms->ops->close(d->ms);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct drive *d = s->data;
	int r;

	switch (signum) {
	case SIGUSR1:
		uv_timer_stop(&d->pet);
		emit(json_pack("{s:s,s:I}", "event", "pet-stopped", "now_ns",
			       (json_int_t)vcd_now_ns()));
		break;
	case SIGUSR2:
		print_state(d);
		break;
	default:
		r = d->ms->ops->stop(d->ms);
		emit(json_pack("{s:s,s:i}", "event", "stopped", "error", r));
		close_all(d);
		break;
	}
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	int i;

	*o = (struct opts){ 0 };
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--arm") || !strcmp(a, "--arm-quorate")) {
			o->arm = !strcmp(a, "--arm");
			o->arm_quorate = !o->arm;
			continue;
		}
		if (a[0] != '-') {
			o->conf = a;
			continue;
		}
		if (!v)
			return -EINVAL;
		i++;
		if (!strcmp(a, "--pet-ms") && vc_parse_u32(v, 1, 600000, &o->pet_ms) == 0)
			continue;
		if (!strcmp(a, "--incarnation") && vc_parse_u64(v, 1, UINT64_MAX, &o->incarnation) == 0)
			continue;
		if (!strcmp(a, "--payload")) {
			o->payload = v;
			continue;
		}
		if (!strcmp(a, "--proc") && o->n_procs < sizeof(o->procs) / sizeof(o->procs[0])) {
			o->procs[o->n_procs++] = atoi(v);
			continue;
		}
		return -EINVAL;
	}
	return o->conf ? 0 : -EINVAL;
}

/* Whole config file, parsed. */
static int load_config(const char *path, struct vc_config *cfg)
{
	char err[VC_ERR_LEN], *text;
	size_t len;
	FILE *f = fopen(path, "re");
	int r;

	if (!f)
		return -errno;
	text = calloc(1, 1 << 20);
	len = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
	fclose(f);
	if (!text)
		return -ENOMEM;
	r = vc_config_parse(text, len, path, cfg, err, sizeof(err));
	free(text);
	if (r < 0)
		fprintf(stderr, "kdrive: %s\n", err);
	return r;
}

/* key-file is relative to the config file's directory. */
static int load_key(const char *conf, const struct vc_config *cfg, uint8_t key[VC_KEY_LEN])
{
	char path[VC_PATH_LEN * 2], err[VC_ERR_LEN];
	const char *slash = strrchr(conf, '/');

	if (cfg->key_file[0] == '/' || !slash)
		snprintf(path, sizeof(path), "%s", cfg->key_file);
	else
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - conf), conf, cfg->key_file);
	if (vc_key_read_file(path, key, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "kdrive: %s\n", err);
	return -EINVAL;
}

static int after_start(struct drive *d, const struct opts *o)
{
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < o->n_procs; i++)
		r = d->ms->ops->proc_add(d->ms, o->procs[i]);
	if (r == 0 && o->payload)
		r = d->ms->ops->set_payload(d->ms, o->payload, strlen(o->payload));
	if (r == 0 && o->arm)
		r = arm(d);
	return r;
}

static int run(uv_loop_t *loop, struct drive *d, const struct opts *o,
	       const struct vcd_mship_params *p)
{
	static const int signums[] = { SIGUSR1, SIGUSR2, SIGTERM, SIGINT };
	struct vcd_mship_cb cb = {
		.ctx = d, .peer_changed = on_peer, .quorum_changed = on_quorum,
		.pretimeout = on_pretimeout, .fenced = on_fenced, .failed = on_failed,
	};
	struct vcd_self self;
	size_t i;
	int r;

	d->o = o;
	r = vcd_mship_kernel_new(loop, &cb, &d->ms);
	if (r < 0)
		return r;
	uv_timer_init(loop, &d->pet);
	d->pet.data = d;
	for (i = 0; i < sizeof(signums) / sizeof(signums[0]); i++) {
		uv_signal_init(loop, &d->sigs[i]);
		d->sigs[i].data = d;
		uv_signal_start(&d->sigs[i], on_signal, signums[i]);
	}
	r = d->ms->ops->start(d->ms, p);
	if (r == 0)
		r = after_start(d, o);
	if (r < 0) {
		emit(json_pack("{s:s,s:s}", "event", "failed", "error", strerror(-r)));
		close_all(d);
		uv_run(loop, UV_RUN_DEFAULT);
		return r;
	}
	/* The life running now: an adopted one keeps its incarnation. */
	if (d->ms->ops->self(d->ms, &self) < 0)
		self.incarnation = 0;
	emit(json_pack("{s:s,s:I,s:I,s:b}", "event", "started", "node",
		       (json_int_t)p->cfg->node.node_id, "incarnation",
		       (json_int_t)self.incarnation, "armed", o->arm));
	uv_run(loop, UV_RUN_DEFAULT);
	return 0;
}

int main(int argc, char **argv)
{
	struct vcd_mship_params p = { 0 };
	struct vc_config *cfg = calloc(1, sizeof(*cfg));
	struct drive d = { 0 };
	uint8_t key[VC_KEY_LEN];
	struct timespec ts;
	struct opts o;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	vcd_log_init("kdrive", false, LOG_INFO);
	if (!cfg || parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: kdrive CONFIG [--arm | --arm-quorate] [--pet-ms N] [--incarnation N] [--payload TEXT] [--proc PID]...\n");
		return 2;
	}
	if (load_config(o.conf, cfg) < 0)
		return 2;
	if (cfg->key_file[0]) {
		if (load_key(o.conf, cfg, key) < 0)
			return 2;
		p.key = key;
		p.key_id = (uint8_t)cfg->key_id;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	p.cfg = cfg;
	p.incarnation = o.incarnation ? o.incarnation :
		(uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	r = run(uv_default_loop(), &d, &o, &p);
	vc_memzero_explicit(key, sizeof(key));
	uv_loop_close(uv_default_loop());
	free(cfg);
	return r < 0 ? 1 : 0;
}
