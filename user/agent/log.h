/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * vclusterd logging: one line per message, to stderr (foreground, tests)
 * or syslog, with syslog levels.  Library-like modules (state, dc) do not
 * log; the agent's glue and the I/O modules do, once, with context.
 */
#ifndef VCD_LOG_H
#define VCD_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Level names: "err", "warning", "notice", "info", "debug". */
int vcd_log_parse_level(const char *name, int *ret_level);
const char *vcd_log_level_name(int level);

/* @ident: syslog ident and stderr prefix ("vclusterd", "vcluster-fencer"). */
void vcd_log_init(const char *ident, bool use_syslog, int max_level);
void vcd_log_set_level(int max_level);
bool vcd_log_enabled(int level);

void vcd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define vcd_err(...)	vcd_log(LOG_ERR, __VA_ARGS__)
#define vcd_warn(...)	vcd_log(LOG_WARNING, __VA_ARGS__)
#define vcd_notice(...)	vcd_log(LOG_NOTICE, __VA_ARGS__)
#define vcd_info(...)	vcd_log(LOG_INFO, __VA_ARGS__)
#define vcd_debug(...)	vcd_log(LOG_DEBUG, __VA_ARGS__)

#endif /* VCD_LOG_H */
