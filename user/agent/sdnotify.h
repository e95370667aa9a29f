/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * systemd's readiness protocol (sd_notify(3)) without libsystemd: one
 * datagram to $NOTIFY_SOCKET.  A no-op when the variable is not set, so
 * the agent behaves the same under any init and in tests.
 */
#ifndef VCD_SDNOTIFY_H
#define VCD_SDNOTIFY_H

/* @state as in sd_notify(3): "READY=1", "STOPPING=1", "STATUS=...". */
int vcd_sd_notify(const char *state);

#endif /* VCD_SDNOTIFY_H */
