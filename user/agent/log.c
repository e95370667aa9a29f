// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static const char *log_ident = "vclusterd";
static bool log_syslog;
static int log_max_level = LOG_INFO;

static const char *const level_names[] = {
	[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
	[LOG_ERR] = "err", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

int vcd_log_parse_level(const char *name, int *ret_level)
{
	for (int i = LOG_ERR; i <= LOG_DEBUG; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*ret_level = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *vcd_log_level_name(int level)
{
	if (level < LOG_EMERG || level > LOG_DEBUG)
		return "?";
	return level_names[level];
}

void vcd_log_init(const char *ident, bool use_syslog, int max_level)
{
	log_ident = ident;
	log_syslog = use_syslog;
	log_max_level = max_level;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void vcd_log_set_level(int max_level)
{
	log_max_level = max_level;
}

bool vcd_log_enabled(int level)
{
	return level <= log_max_level;
}

void vcd_log(int level, const char *fmt, ...)
{
	struct timespec ts;
	char line[1024];
	va_list ap;

	if (!vcd_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_syslog) {
		syslog(level, "%s", line);
		return;
	}
	/* Monotonic seconds let test logs of several agents be merged. */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	fprintf(stderr, "%lld.%03ld %s[%s]: %s\n", (long long)ts.tv_sec,
		ts.tv_nsec / 1000000, log_ident, vcd_log_level_name(level), line);
}
