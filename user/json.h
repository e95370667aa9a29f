/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* A minimal streaming JSON writer: compact, one document per line. */
#ifndef VC_JSON_H
#define VC_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define VC_JSON_MAX_DEPTH 16

struct vc_json {
	FILE *f;
	int depth;
	bool need_comma[VC_JSON_MAX_DEPTH];
};

/* @key is NULL inside arrays and for the top-level value. */
void vc_json_init(struct vc_json *j, FILE *f);
void vc_json_obj_begin(struct vc_json *j, const char *key);
void vc_json_obj_end(struct vc_json *j);
void vc_json_arr_begin(struct vc_json *j, const char *key);
void vc_json_arr_end(struct vc_json *j);
void vc_json_u64(struct vc_json *j, const char *key, uint64_t v);
void vc_json_i64(struct vc_json *j, const char *key, int64_t v);
void vc_json_bool(struct vc_json *j, const char *key, bool v);
void vc_json_str(struct vc_json *j, const char *key, const char *s);
void vc_json_null(struct vc_json *j, const char *key);
/* Ends the document with a newline (when back at depth 0). */
void vc_json_end(struct vc_json *j);

#endif /* VC_JSON_H */
