/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Key files: the 32-byte MAC key as exactly 64 hex digits, optionally
 * followed by one newline, nothing else.  Make one with
 *
 *	head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n' > key; chmod 600 key
 *
 * Used by vclusterctl (key set, load) and vcl-inject (--key-file).
 */
#ifndef VC_KEYFILE_H
#define VC_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include <linux/vcluster.h>

/* What a key file must hold, for messages. */
extern const char vc_key_format_help[];

/*
 * Parse key file contents (@len bytes, need not be NUL terminated).
 * -EINVAL with the reason in @why, e.g. "has 63 hex digits, not 64".
 */
int vc_key_parse(const char *text, size_t len, uint8_t key[VC_KEY_LEN],
		 char *why, size_t why_size);

/*
 * Read and parse @path.  On error returns a negative errno with
 * "PATH: reason (valid: ...)" in @err.  The buffer that held the text is
 * wiped.
 */
int vc_key_read_file(const char *path, uint8_t key[VC_KEY_LEN], char *err,
		     size_t err_size);

#endif /* VC_KEYFILE_H */
