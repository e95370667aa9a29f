/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Pure parsing and formatting helpers shared by vclusterctl, vcl-inject
 * and the tests: numbers with ranges, addresses, hex, enum names.
 */
#ifndef VC_PARSE_H
#define VC_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An address on one link; family 0 means "not set". Port 0: default. */
struct vc_addr {
	int family;			/* AF_INET, AF_INET6 or 0 */
	uint8_t bytes[16];		/* network order; 4 used for AF_INET */
	uint16_t port;
};

/* INET6_ADDRSTRLEN + brackets + ":65535" */
#define VC_ADDR_STRLEN 56

/*
 * Decimal (or 0x-prefixed hex) unsigned integers within [min, max].
 * -EINVAL: not a number; -ERANGE: outside the range.
 */
int vc_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);
int vc_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *ret);

/*
 * "A.B.C.D", "IPV6", and with @allow_port also "A.B.C.D:PORT" and
 * "[IPV6]:PORT".  -EINVAL when not an address, -ERANGE for a bad port.
 */
int vc_parse_addr(const char *s, bool allow_port, struct vc_addr *ret);

/* "198.18.0.1", "fd00::1", with the port when non-zero. */
const char *vc_format_addr(const struct vc_addr *addr, char *buf, size_t size);

/*
 * Hex digits (pairs, optional "0x" prefix, ':' separators allowed) into
 * @buf.  -EINVAL for bad digits or an odd count, -E2BIG if > @size bytes.
 */
int vc_parse_hex(const char *s, uint8_t *buf, size_t size, size_t *ret_len);

/* Lower-case hex of @len bytes into @out (2 * len + 1 bytes). */
void vc_format_hex(const uint8_t *buf, size_t len, char *out);

/* Names of the uapi enums ("up", "timeout", "peer-down"); "?" if unknown. */
const char *vc_peer_state_name(uint32_t state);
const char *vc_node_state_name(uint32_t state);
const char *vc_link_state_name(uint32_t state);
const char *vc_event_type_name(uint32_t type);
const char *vc_down_reason_name(uint32_t reason);

/* Reverse of vc_peer_state_name(), also accepting numbers; -EINVAL. */
int vc_parse_peer_state(const char *s, uint8_t *ret);

/* "none", "log", "kill", "panic", "reboot"; "?" if unknown. */
const char *vc_fence_action_name(uint32_t action);
/* Kill, panic and reboot: actions that take the host out for certain. */
bool vc_fence_action_strong(uint32_t action);
/* "agent", "quorum", "declared", "stopped", "netns-exit"; "none" for 0. */
const char *vc_fence_reason_name(uint32_t reason);
/* "none" for 0 (NONE), "blake2s". */
const char *vc_auth_name(uint32_t auth);
/* log, kill, panic or reboot (case-insensitive); -EINVAL otherwise. */
int vc_parse_fence_action(const char *s, uint32_t *ret);

/* yes/no, on/off, true/false, 1/0 (case-insensitive); -EINVAL otherwise. */
int vc_parse_bool(const char *s, bool *ret);
/* Seconds, fractions allowed (0 .. one year), rounded up to milliseconds. */
int vc_parse_seconds_ms(const char *s, int64_t *ret_ms);

/*
 * Field 22 (starttime, clock ticks after boot) of a /proc/PID/stat line.
 * The command name (field 2) is in parentheses and may itself hold
 * spaces and parentheses, so fields are counted after the LAST ')'.
 * -EINVAL if the text does not look like a stat line.
 */
int vc_parse_stat_start_time(const char *text, size_t len, uint64_t *ret);

#endif /* VC_PARSE_H */
