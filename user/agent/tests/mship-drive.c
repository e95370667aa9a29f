// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * mship-drive: run one membership transport from a config file and print
 * what it reports, one JSON line per callback, for tests/agent-mship.sh
 * and for the kernel-transport tests in a guest.
 *
 *   mship-drive --transport user|kernel CONFIG [--arm] [--pet-ms N]
 *               [--incarnation N] [--fencer PATH] [--proc PID]...
 *               [--log-level LEVEL]
 *
 * Signals: SIGUSR1 stops petting, SIGUSR2 resumes it, SIGHUP prints the
 * "self" line and one "member" line per peer, SIGTERM/SIGINT stop the
 * transport (disarming when allowed) and exit 0.
 *
 * Lines: {"event":"peer_changed","node":N,"state":"up","old":"joining",
 * "incarnation":N,"fenced_by_ns":N,"strong":B,...}, {"event":
 * "quorum_changed","quorate":B}, {"event":"fenced","reason":"agent"},
 * {"event":"pretimeout"}, {"event":"failed","err":N}, {"event":"started",
 * ...}, {"event":"armed"}.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "keyfile.h"
#include "../log.h"
#include "../mship.h"

struct drive {
	uv_loop_t *loop;
	struct vcd_mship *ms;
	uv_timer_t pet_timer;
	uv_signal_t sig[5];
	bool petting;
	uint32_t pet_ms;
};

static void emit_member(const char *event, const struct vcd_member *m, int old_state)
{
	struct vc_json j;

	vc_json_init(&j, stdout);
	vc_json_obj_begin(&j, NULL);
	vc_json_str(&j, "event", event);
	vc_json_u64(&j, "node", m->node_id);
	vc_json_str(&j, "state", vc_peer_state_name(m->state));
	if (old_state >= 0)
		vc_json_str(&j, "old", vc_peer_state_name(old_state));
	if (m->state == VC_PEER_STATE_DOWN)
		vc_json_str(&j, "reason", vc_down_reason_name(m->down_reason));
	vc_json_u64(&j, "incarnation", m->incarnation);
	vc_json_u64(&j, "last_heard_ns", m->last_heard_ns);
	vc_json_u64(&j, "fenced_by_ns", m->fenced_by_ns);
	vc_json_bool(&j, "strong", m->fence_strong);
	vc_json_bool(&j, "armed", m->armed);
	vc_json_bool(&j, "user_fence", m->user_fence);
	vc_json_str(&j, "action", vc_fence_action_name(m->fence_action));
	vc_json_u64(&j, "links_up", m->links_up);
	vc_json_u64(&j, "rtt_us", m->rtt_us);
	vc_json_u64(&j, "now_ns", vcd_now_ns());
	vc_json_obj_end(&j);
	vc_json_end(&j);
	fflush(stdout);
}

static void on_peer(void *ctx, const struct vcd_member *m, uint8_t old)
{
	(void)ctx;
	emit_member("peer_changed", m, old);
}

static void emit_simple(const char *event, const char *key, const char *val, int bval)
{
	struct vc_json j;

	vc_json_init(&j, stdout);
	vc_json_obj_begin(&j, NULL);
	vc_json_str(&j, "event", event);
	if (key && val)
		vc_json_str(&j, key, val);
	else if (key)
		vc_json_bool(&j, key, bval);
	vc_json_u64(&j, "now_ns", vcd_now_ns());
	vc_json_obj_end(&j);
	vc_json_end(&j);
	fflush(stdout);
}

static void on_quorum(void *ctx, bool quorate)
{
	(void)ctx;
	emit_simple("quorum_changed", "quorate", NULL, quorate);
}

static void on_pretimeout(void *ctx)
{
	(void)ctx;
	emit_simple("pretimeout", NULL, NULL, 0);
}

static void on_fenced(void *ctx, uint8_t reason)
{
	(void)ctx;
	emit_simple("fenced", "reason", vc_fence_reason_name(reason), 0);
}

static void on_failed(void *ctx, int err)
{
	struct vc_json j;

	(void)ctx;
	vc_json_init(&j, stdout);
	vc_json_obj_begin(&j, NULL);
	vc_json_str(&j, "event", "failed");
	vc_json_i64(&j, "err", err);
	vc_json_obj_end(&j);
	vc_json_end(&j);
	fflush(stdout);
}

static void print_state(struct drive *d)
{
	struct vcd_member m[VC_MAX_PEERS];
	struct vcd_self s;
	struct vc_json j;
	size_t n = 0, i;

	d->ms->ops->self(d->ms, &s);
	vc_json_init(&j, stdout);
	vc_json_obj_begin(&j, NULL);
	vc_json_str(&j, "event", "self");
	vc_json_u64(&j, "incarnation", s.incarnation);
	vc_json_bool(&j, "started", s.started);
	vc_json_bool(&j, "quorate", s.quorate);
	vc_json_u64(&j, "votes_seen", s.votes_seen);
	vc_json_u64(&j, "expected_votes", s.expected_votes);
	vc_json_bool(&j, "armed", s.armed);
	vc_json_bool(&j, "fenced", s.fenced);
	vc_json_str(&j, "fence_reason", vc_fence_reason_name(s.fence_reason));
	vc_json_bool(&j, "petting", d->petting);
	vc_json_obj_end(&j);
	vc_json_end(&j);
	d->ms->ops->members(d->ms, m, VC_MAX_PEERS, &n);
	for (i = 0; i < n; i++)
		emit_member("member", &m[i], -1);
	fflush(stdout);
}

static void pet_tick(uv_timer_t *t)
{
	struct drive *d = t->data;
	int r;

	if (!d->petting)
		return;
	r = d->ms->ops->pet(d->ms);
	if (r < 0 && r != -EBUSY)
		vcd_warn("pet: %s", strerror(-r));
}

static void on_signal(uv_signal_t *h, int signo)
{
	struct drive *d = h->data;
	int i;

	switch (signo) {
	case SIGUSR1:
		d->petting = false;
		vcd_notice("petting stopped (SIGUSR1)");
		break;
	case SIGUSR2:
		d->petting = true;
		vcd_notice("petting resumed (SIGUSR2)");
		break;
	case SIGHUP:
		print_state(d);
		break;
	default:
		d->ms->ops->stop(d->ms);
		d->ms->ops->close(d->ms);
		uv_close((uv_handle_t *)&d->pet_timer, NULL);
		for (i = 0; i < 5; i++)
			uv_close((uv_handle_t *)&d->sig[i], NULL);
		break;
	}
}

static char *read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc(n + 1);
		if (buf && fread(buf, 1, n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else if (buf) {
			*len = n;
		}
	}
	fclose(f);
	return buf;
}

static int load_config(const char *path, struct vc_config *cfg, uint8_t key[VC_KEY_LEN],
		       bool *have_key)
{
	char err[VC_ERR_LEN], kpath[VC_PATH_LEN * 2];
	const char *slash;
	size_t len = 0;
	char *text = read_text(path, &len);
	int r;

	if (!text) {
		fprintf(stderr, "mship-drive: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	r = vc_config_parse(text, len, path, cfg, err, sizeof(err));
	free(text);
	if (r < 0) {
		fprintf(stderr, "mship-drive: %s\n", err);
		return r;
	}
	*have_key = cfg->key_file[0];
	if (!*have_key)
		return 0;
	slash = strrchr(path, '/');
	if (cfg->key_file[0] == '/' || !slash)
		snprintf(kpath, sizeof(kpath), "%s", cfg->key_file);
	else
		snprintf(kpath, sizeof(kpath), "%.*s/%s", (int)(slash - path), path, cfg->key_file);
	r = vc_key_read_file(kpath, key, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "mship-drive: %s\n", err);
	return r;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: mship-drive --transport user|kernel CONFIG [--arm] [--pet-ms N]\n"
		     "                   [--incarnation N] [--fencer PATH] [--proc PID]...\n"
		     "                   [--log-level LEVEL]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "transport", required_argument, NULL, 't' },
		{ "arm", no_argument, NULL, 'a' },
		{ "pet-ms", required_argument, NULL, 'p' },
		{ "incarnation", required_argument, NULL, 'i' },
		{ "fencer", required_argument, NULL, 'f' },
		{ "proc", required_argument, NULL, 'P' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const int signals[5] = { SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGHUP };
	static struct vc_config cfg;
	struct vcd_mship_cb cb = {
		.peer_changed = on_peer, .quorum_changed = on_quorum,
		.pretimeout = on_pretimeout, .fenced = on_fenced, .failed = on_failed,
	};
	struct vcd_mship_params p = { .cfg = &cfg };
	const char *transport = "user", *conf;
	pid_t procs[64];
	int n_procs = 0, level = LOG_INFO, c, r, i;
	uint8_t key[VC_KEY_LEN];
	bool arm = false, have_key = false;
	struct drive d = { .petting = true };

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't': transport = optarg; break;
		case 'a': arm = true; break;
		case 'p': d.pet_ms = strtoul(optarg, NULL, 0); break;
		case 'i': p.incarnation = strtoull(optarg, NULL, 0); break;
		case 'f': p.fencer_path = optarg; break;
		case 'P':
			if (n_procs < 64)
				procs[n_procs++] = (pid_t)strtol(optarg, NULL, 0);
			break;
		case 'l':
			if (vcd_log_parse_level(optarg, &level) < 0) {
				usage(stderr);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	conf = argv[optind];
	setvbuf(stdout, NULL, _IOLBF, 0);
	vcd_log_init("mship-drive", false, level);
	if (load_config(conf, &cfg, key, &have_key) < 0)
		return 2;
	snprintf(cfg.agent.log_level, sizeof(cfg.agent.log_level), "%s",
		 vcd_log_level_name(level));
	p.key = have_key ? key : NULL;
	p.key_id = cfg.key_id ? cfg.key_id : 1;

	d.loop = uv_default_loop();
	if (strcmp(transport, "user") == 0) {
		r = vcd_mship_user_new(d.loop, &cb, &d.ms);
	} else if (strcmp(transport, "kernel") == 0) {
		r = vcd_mship_kernel_new(d.loop, &cb, &d.ms);
	} else {
		usage(stderr);
		return 2;
	}
	if (r < 0)
		return 1;
	r = d.ms->ops->start(d.ms, &p);
	if (r < 0) {
		fprintf(stderr, "mship-drive: start: %s\n", strerror(-r));
		return 1;
	}
	emit_simple("started", "transport", d.ms->ops->name, 0);
	for (i = 0; i < n_procs; i++) {
		r = d.ms->ops->proc_add(d.ms, procs[i]);
		if (r < 0) {
			fprintf(stderr, "mship-drive: proc_add %d: %s\n", procs[i], strerror(-r));
			return 1;
		}
	}
	if (arm) {
		r = d.ms->ops->arm(d.ms);
		if (r < 0) {
			fprintf(stderr, "mship-drive: arm: %s\n", strerror(-r));
			return 1;
		}
		emit_simple("armed", NULL, NULL, 0);
	}
	uv_timer_init(d.loop, &d.pet_timer);
	d.pet_timer.data = &d;
	if (d.pet_ms)
		uv_timer_start(&d.pet_timer, pet_tick, d.pet_ms, d.pet_ms);
	for (i = 0; i < 5; i++) {
		uv_signal_init(d.loop, &d.sig[i]);
		d.sig[i].data = &d;
		uv_signal_start(&d.sig[i], on_signal, signals[i]);
	}
	r = uv_run(d.loop, UV_RUN_DEFAULT);
	uv_loop_close(d.loop);
	return 0;
}
