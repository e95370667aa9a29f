// SPDX-License-Identifier: GPL-2.0 OR MIT
/* The persisted incarnation counter.  See incarnation.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../parse.h"
#include "incarnation.h"

#define INCARNATION_FILE	"incarnation"

static int fail(char *err, size_t size, const char *path, const char *what, int e)
{
	snprintf(err, size, "%s: %s: %s", path, what, strerror(e));
	return -e;
}

/* 0 when the file does not exist yet (a new node). */
static int read_stored(const char *path, uint64_t *ret, char *err, size_t size)
{
	char buf[32];
	ssize_t n;
	int fd, r;

	*ret = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : fail(err, size, path, "cannot open", errno);
	n = read(fd, buf, sizeof(buf) - 1);
	r = errno;
	close(fd);
	if (n < 0)
		return fail(err, size, path, "cannot read", r);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (vc_parse_u64(buf, 0, UINT64_MAX - 1, ret) < 0) {
		snprintf(err, size, "%s: '%s' is not an incarnation number (remove the file only if no peer can remember this node)",
			 path, buf);
		return -EINVAL;
	}
	return 0;
}

static int write_durably(const char *dir, const char *path, uint64_t value,
			 char *err, size_t size)
{
	char tmp[1200], text[32];
	int fd, len, dfd;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	len = snprintf(text, sizeof(text), "%" PRIu64 "\n", value);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(err, size, tmp, "cannot create", errno);
	if (write(fd, text, (size_t)len) != len || fsync(fd) < 0) {
		int e = errno ? errno : EIO;

		close(fd);
		unlink(tmp);
		return fail(err, size, tmp, "cannot write", e);
	}
	close(fd);
	if (rename(tmp, path) < 0)
		return fail(err, size, path, "cannot rename into place", errno);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return fail(err, size, dir, "cannot open", errno);
	fsync(dfd);
	close(dfd);
	return 0;
}

int vcd_incarnation_next(const char *data_dir, uint64_t floor, uint64_t *ret,
			 char *err, size_t err_size)
{
	char path[1100];
	uint64_t stored, next;
	int r;

	snprintf(path, sizeof(path), "%s/%s", data_dir, INCARNATION_FILE);
	r = read_stored(path, &stored, err, err_size);
	if (r < 0)
		return r;
	next = stored + 1 > floor ? stored + 1 : floor;
	r = write_durably(data_dir, path, next, err, err_size);
	if (r < 0)
		return r;
	*ret = next;
	return 0;
}
