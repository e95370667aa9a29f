// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * vclusterctl load: make the kernel's node and peers match a config file.
 * [node] is applied with one NODE_SET, then its key-file with KEY_SET,
 * peers missing from the file are deleted, the others added (or changed if
 * they exist), then --start, then --arm with [fence].  The steps are
 * apply.c's, which vclusterd's kernel transport uses too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/vcluster.h>
#include <netlink/genl/genl.h>

#include "apply.h"
#include "blake2s.h"
#include "keyfile.h"
#include "vclusterctl.h"

struct load_opts {
	const char *file;
	bool start;
	bool arm;
	bool check;
};

static int parse_load_args(const struct cmd_ctx *ctx, int argc, char **argv,
			   struct load_opts *o)
{
	char why[256];
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--start") == 0) {
			o->start = true;
		} else if (strcmp(argv[i], "--arm") == 0) {
			o->arm = true;
		} else if (strcmp(argv[i], "--check") == 0) {
			o->check = true;
		} else if (!o->file && argv[i][0] != '-') {
			o->file = argv[i];
		} else {
			snprintf(why, sizeof(why), "unexpected argument '%s'", argv[i]);
			return usage_error(ctx, why);
		}
	}
	if (!o->file)
		return usage_error(ctx, "missing FILE");
	return VC_EXIT_OK;
}

/* Whole file into a malloc'd buffer. */
static int read_file(const char *path, char **ret, size_t *ret_len)
{
	size_t cap = 4096, len = 0, n;
	char *buf = malloc(cap), *tmp;
	FILE *f = fopen(path, "re");
	int r = 0;

	if (!f || !buf) {
		r = f ? -ENOMEM : -errno;
		goto out;
	}
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len < cap)
			continue;
		if (cap >= (1u << 20)) {
			r = -EFBIG;
			goto out;
		}
		tmp = realloc(buf, cap * 2);
		if (!tmp) {
			r = -ENOMEM;
			goto out;
		}
		buf = tmp;
		cap *= 2;
	}
	if (ferror(f))
		r = -EIO;
out:
	if (f)
		fclose(f);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* key-file as written, relative to the directory of the config file. */
static void key_path(const char *conf, const char *key_file, char *out, size_t size)
{
	const char *slash = strrchr(conf, '/');

	if (key_file[0] == '/' || !slash)
		snprintf(out, size, "%s", key_file);
	else
		snprintf(out, size, "%.*s/%s", (int)(slash - conf), conf, key_file);
}

/* Where a key file problem is reported: "FILE:LINE: key 'key-file' in [node]". */
static void key_where(const char *file, const struct vc_config *cfg, char *out, size_t size)
{
	snprintf(out, size, "%s:%u: key 'key-file' in [node]", file, cfg->key_file_line);
}

/* load --check: the key file must be readable and well-formed too. */
static int check_key_file(const struct cmd_ctx *ctx, const char *file,
			  const struct vc_config *cfg)
{
	char path[VC_PATH_LEN + 256], where[VC_PATH_LEN + 64], err[VC_ERR_LEN];
	uint8_t key[VC_KEY_LEN];
	int r;

	if (!cfg->key_file[0])
		return VC_EXIT_OK;
	key_path(file, cfg->key_file, path, sizeof(path));
	r = vc_key_read_file(path, key, err, sizeof(err));
	vc_memzero_explicit(key, sizeof(key));
	if (r < 0) {
		key_where(file, cfg, where, sizeof(where));
		err_msg(ctx, "%s: %s", where, err);
		return VC_EXIT_USAGE;
	}
	return VC_EXIT_OK;
}

static int apply_config(const struct cmd_ctx *ctx, struct vc_nl *nl, const char *file,
			const struct vc_config *cfg, const struct load_opts *o)
{
	char path[VC_PATH_LEN + 256];
	char where[VC_PATH_LEN + 64];
	int r;

	r = vc_apply_node(nl, cfg, ~0u, file, where, sizeof(where));
	if (r < 0)
		return kernel_error(ctx, nl, where, r);
	if (cfg->key_file[0]) {
		key_path(file, cfg->key_file, path, sizeof(path));
		key_where(file, cfg, where, sizeof(where));
		r = key_set_from_file(ctx, nl, cfg->key_id, path, true, where);
		if (r != VC_EXIT_OK)
			return r;
	}
	r = vc_apply_peers(nl, cfg, file, where, sizeof(where));
	if (r == 0 && o->start)
		r = vc_apply_start(nl, 0, where, sizeof(where));
	if (r == 0 && o->arm)
		r = vc_apply_arm(nl, cfg, file, where, sizeof(where));
	return r < 0 ? kernel_error(ctx, nl, where, r) : VC_EXIT_OK;
}

int cmd_load(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct vc_config *cfg = NULL;
	struct vc_nl *nl = NULL;
	char err[VC_ERR_LEN];
	struct load_opts o;
	char *text = NULL;
	size_t len;
	int r;

	r = parse_load_args(ctx, argc, argv, &o);
	if (r != VC_EXIT_OK)
		return r;
	r = read_file(o.file, &text, &len);
	if (r < 0) {
		err_msg(ctx, "cannot read %s: %s", o.file, strerror(-r));
		return VC_EXIT_USAGE;
	}
	cfg = malloc(sizeof(*cfg));
	if (!cfg) {
		free(text);
		return VC_EXIT_FAILURE;
	}
	r = vc_config_parse(text, len, o.file, cfg, err, sizeof(err));
	free(text);
	if (r < 0) {
		err_msg(ctx, "%s", err);
		r = VC_EXIT_USAGE;
	} else if (o.arm && !cfg->has_fence) {
		err_msg(ctx, "%s: --arm needs a [fence] section (valid: [fence] with action = log, kill, panic or reboot)",
			o.file);
		r = VC_EXIT_USAGE;
	} else if ((r = check_key_file(ctx, o.file, cfg)) != VC_EXIT_OK || o.check) {
		/* r is the result of the check */
	} else {
		r = open_family(ctx, &nl);
		if (r == VC_EXIT_OK)
			r = apply_config(ctx, nl, o.file, cfg, &o);
	}
	vc_nl_close(nl);
	free(cfg);
	return r;
}
