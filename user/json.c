// SPDX-License-Identifier: GPL-2.0 OR MIT
/* A minimal streaming JSON writer.  See json.h. */
#include <inttypes.h>

#include "json.h"

void vc_json_init(struct vc_json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->need_comma[0] = false;
}

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void put_key(struct vc_json *j, const char *key)
{
	if (j->need_comma[j->depth])
		fputc(',', j->f);
	j->need_comma[j->depth] = true;
	if (key) {
		put_string(j->f, key);
		fputc(':', j->f);
	}
}

static void open_(struct vc_json *j, const char *key, char c)
{
	put_key(j, key);
	fputc(c, j->f);
	if (j->depth < VC_JSON_MAX_DEPTH - 1)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_(struct vc_json *j, char c)
{
	fputc(c, j->f);
	if (j->depth > 0)
		j->depth--;
}

void vc_json_obj_begin(struct vc_json *j, const char *key)
{
	open_(j, key, '{');
}

void vc_json_obj_end(struct vc_json *j)
{
	close_(j, '}');
}

void vc_json_arr_begin(struct vc_json *j, const char *key)
{
	open_(j, key, '[');
}

void vc_json_arr_end(struct vc_json *j)
{
	close_(j, ']');
}

void vc_json_u64(struct vc_json *j, const char *key, uint64_t v)
{
	put_key(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void vc_json_i64(struct vc_json *j, const char *key, int64_t v)
{
	put_key(j, key);
	fprintf(j->f, "%" PRId64, v);
}

void vc_json_bool(struct vc_json *j, const char *key, bool v)
{
	put_key(j, key);
	fputs(v ? "true" : "false", j->f);
}

void vc_json_str(struct vc_json *j, const char *key, const char *s)
{
	put_key(j, key);
	put_string(j->f, s);
}

void vc_json_null(struct vc_json *j, const char *key)
{
	put_key(j, key);
	fputs("null", j->f);
}

void vc_json_end(struct vc_json *j)
{
	if (j->depth == 0) {
		fputc('\n', j->f);
		j->need_comma[0] = false;
	}
}
