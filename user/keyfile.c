// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Key files.  See keyfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "keyfile.h"

const char vc_key_format_help[] =
	"valid: 64 hex digits and an optional newline, e.g. from "
	"'head -c32 /dev/urandom | od -An -tx1 | tr -d \" \\n\"'";

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void wipe(volatile void *p, size_t len)
{
	volatile uint8_t *v = p;

	while (len--)
		*v++ = 0;
}

int vc_key_parse(const char *text, size_t len, uint8_t key[VC_KEY_LEN],
		 char *why, size_t why_size)
{
	uint8_t k[VC_KEY_LEN];
	size_t i, digits = 0;
	int v;

	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len == 0) {
		snprintf(why, why_size, "is empty");
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		v = hex_value(text[i]);
		if (v < 0) {
			if (text[i] == '\n' || text[i] == '\r' || text[i] == ' ')
				snprintf(why, why_size, "has whitespace at byte %zu", i + 1);
			else
				snprintf(why, why_size, "has a character that is not a hex digit at byte %zu",
					 i + 1);
			wipe(k, sizeof(k));
			return -EINVAL;
		}
		if (digits < 2 * VC_KEY_LEN)
			k[digits / 2] = (uint8_t)(digits % 2 ? k[digits / 2] | v : v << 4);
		digits++;
	}
	if (digits != 2 * VC_KEY_LEN) {
		snprintf(why, why_size, "has %zu hex digits, not %d", digits, 2 * VC_KEY_LEN);
		wipe(k, sizeof(k));
		return -EINVAL;
	}
	memcpy(key, k, VC_KEY_LEN);
	wipe(k, sizeof(k));
	return 0;
}

int vc_key_read_file(const char *path, uint8_t key[VC_KEY_LEN], char *err,
		     size_t err_size)
{
	char buf[4 * VC_KEY_LEN], why[128];
	size_t len = 0;
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		snprintf(err, err_size, "%s: %s", path, strerror(-r));
		return r;
	}
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (r < 0) {
		snprintf(err, err_size, "%s: %s", path, strerror(-r));
	} else if (len == sizeof(buf)) {
		snprintf(err, err_size, "%s: is too long for a key file (%s)", path,
			 vc_key_format_help);
		r = -EINVAL;
	} else if (vc_key_parse(buf, len, key, why, sizeof(why)) < 0) {
		snprintf(err, err_size, "%s: %s (%s)", path, why, vc_key_format_help);
		r = -EINVAL;
	}
	wipe(buf, sizeof(buf));
	return r;
}
