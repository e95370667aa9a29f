// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Pure parsing and formatting helpers.  See parse.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <linux/vcluster.h>

#include "parse.h"

int vc_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	int base = 10;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!isxdigit((unsigned char)s[0]))
			return -EINVAL;
	}
	errno = 0;
	v = strtoull(s, &end, base);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int vc_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *ret)
{
	uint64_t v;
	int r;

	r = vc_parse_u64(s, min, max, &v);
	if (r < 0)
		return r;
	*ret = (uint32_t)v;
	return 0;
}

static int parse_ip(const char *s, struct vc_addr *ret)
{
	if (inet_pton(AF_INET, s, ret->bytes) == 1) {
		ret->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ret->bytes) == 1) {
		ret->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

/* Split "HOST:PORT" / "[HOST]:PORT" into @host and @port (or NULL). */
static int split_port(const char *s, char *host, size_t size, const char **port)
{
	const char *colon;
	size_t len;

	*port = NULL;
	if (s[0] == '[') {
		colon = strchr(s, ']');
		if (!colon || (colon[1] != '\0' && colon[1] != ':'))
			return -EINVAL;
		len = (size_t)(colon - s - 1);
		if (colon[1] == ':')
			*port = colon + 2;
		s++;
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL;	/* bare IPv6 */
		len = colon ? (size_t)(colon - s) : strlen(s);
		if (colon)
			*port = colon + 1;
	}
	if (len >= size)
		return -EINVAL;
	memcpy(host, s, len);
	host[len] = '\0';
	return 0;
}

int vc_parse_addr(const char *s, bool allow_port, struct vc_addr *ret)
{
	char host[INET6_ADDRSTRLEN];
	struct vc_addr a = { 0 };
	const char *port;
	uint32_t p;
	int r;

	if (!s)
		return -EINVAL;
	if (!allow_port)
		return parse_ip(s, ret) < 0 ? -EINVAL : (ret->port = 0, 0);

	r = split_port(s, host, sizeof(host), &port);
	if (r < 0)
		return r;
	if (parse_ip(host, &a) < 0)
		return -EINVAL;
	if (port) {
		r = vc_parse_u32(port, 1, 65535, &p);
		if (r < 0)
			return -ERANGE;
		a.port = (uint16_t)p;
	}
	*ret = a;
	return 0;
}

const char *vc_format_addr(const struct vc_addr *addr, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (addr->family != AF_INET && addr->family != AF_INET6) {
		snprintf(buf, size, "-");
		return buf;
	}
	inet_ntop(addr->family, addr->bytes, host, sizeof(host));
	if (!addr->port)
		snprintf(buf, size, "%s", host);
	else if (addr->family == AF_INET6)
		snprintf(buf, size, "[%s]:%u", host, addr->port);
	else
		snprintf(buf, size, "%s:%u", host, addr->port);
	return buf;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int vc_parse_hex(const char *s, uint8_t *buf, size_t size, size_t *ret_len)
{
	size_t n = 0;
	int hi, lo;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	while (*s) {
		if (*s == ':') {
			s++;
			continue;
		}
		hi = hex_digit(s[0]);
		lo = hi < 0 ? -1 : hex_digit(s[1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (n == size)
			return -E2BIG;
		buf[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	*ret_len = n;
	return 0;
}

void vc_format_hex(const uint8_t *buf, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[buf[i] >> 4];
		out[2 * i + 1] = digits[buf[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static const char *name_of(const char *const *names, size_t n, uint32_t v)
{
	return v < n && names[v] ? names[v] : "?";
}

#define NAME_OF(table, v) name_of(table, sizeof(table) / sizeof(table[0]), v)

static const char *const peer_states[] = {
	[VC_PEER_STATE_NEW] = "new",
	[VC_PEER_STATE_JOINING] = "joining",
	[VC_PEER_STATE_UP] = "up",
	[VC_PEER_STATE_SUSPECT] = "suspect",
	[VC_PEER_STATE_DOWN] = "down",
};

static const char *const node_states[] = {
	[VC_NODE_STATE_STOPPED] = "stopped",
	[VC_NODE_STATE_RUNNING] = "running",
};

static const char *const link_states[] = {
	[VC_LINK_STATE_DOWN] = "down",
	[VC_LINK_STATE_UP] = "up",
};

static const char *const event_types[] = {
	[VC_EVENT_PEER_JOINING] = "peer-joining",
	[VC_EVENT_PEER_UP] = "peer-up",
	[VC_EVENT_PEER_SUSPECT] = "peer-suspect",
	[VC_EVENT_PEER_DOWN] = "peer-down",
	[VC_EVENT_LINK_UP] = "link-up",
	[VC_EVENT_LINK_DOWN] = "link-down",
	[VC_EVENT_NODE_STARTED] = "node-started",
	[VC_EVENT_NODE_STOPPED] = "node-stopped",
	[VC_EVENT_QUORUM_GAINED] = "quorum-gained",
	[VC_EVENT_QUORUM_LOST] = "quorum-lost",
	[VC_EVENT_FENCE_ARMED] = "fence-armed",
	[VC_EVENT_FENCE_DISARMED] = "fence-disarmed",
	[VC_EVENT_FENCE_PRETIMEOUT] = "fence-pretimeout",
	[VC_EVENT_FENCE_FIRED] = "fence-fired",
	[VC_EVENT_FENCE_ESCALATED] = "fence-escalated",
};

static const char *const fence_actions[] = {
	[VC_FENCE_ACTION_NONE] = "none",
	[VC_FENCE_ACTION_LOG] = "log",
	[VC_FENCE_ACTION_KILL] = "kill",
	[VC_FENCE_ACTION_PANIC] = "panic",
	[VC_FENCE_ACTION_REBOOT] = "reboot",
};

static const char *const fence_reasons[] = {
	[VC_FENCE_REASON_UNSPEC] = "none",
	[VC_FENCE_REASON_AGENT] = "agent",
	[VC_FENCE_REASON_QUORUM] = "quorum",
	[VC_FENCE_REASON_DECLARED] = "declared",
	[VC_FENCE_REASON_STOPPED] = "stopped",
	[VC_FENCE_REASON_NETNS_EXIT] = "netns-exit",
};

static const char *const auth_names[] = {
	[VC_WIRE_AUTH_NONE] = "none",
	[VC_WIRE_AUTH_BLAKE2S] = "blake2s",
};

static const char *const down_reasons[] = {
	[VC_DOWN_REASON_UNSPEC] = "none",
	[VC_DOWN_REASON_TIMEOUT] = "timeout",
	[VC_DOWN_REASON_DECLARED] = "declared",
	[VC_DOWN_REASON_NEW_LIFE] = "new-life",
	[VC_DOWN_REASON_REMOVED] = "removed",
	[VC_DOWN_REASON_STOPPED] = "stopped",
};

const char *vc_peer_state_name(uint32_t state)
{
	return NAME_OF(peer_states, state);
}

const char *vc_node_state_name(uint32_t state)
{
	return NAME_OF(node_states, state);
}

const char *vc_link_state_name(uint32_t state)
{
	return NAME_OF(link_states, state);
}

const char *vc_event_type_name(uint32_t type)
{
	return NAME_OF(event_types, type);
}

const char *vc_down_reason_name(uint32_t reason)
{
	return NAME_OF(down_reasons, reason);
}

int vc_parse_peer_state(const char *s, uint8_t *ret)
{
	uint32_t v;
	size_t i;

	for (i = 0; i < sizeof(peer_states) / sizeof(peer_states[0]); i++) {
		if (peer_states[i] && strcasecmp(s, peer_states[i]) == 0) {
			*ret = (uint8_t)i;
			return 0;
		}
	}
	if (vc_parse_u32(s, 0, 255, &v) < 0)
		return -EINVAL;
	*ret = (uint8_t)v;
	return 0;
}

bool vc_fence_action_strong(uint32_t action)
{
	return action == VC_FENCE_ACTION_KILL || action == VC_FENCE_ACTION_PANIC ||
	       action == VC_FENCE_ACTION_REBOOT;
}

const char *vc_fence_action_name(uint32_t action)
{
	return NAME_OF(fence_actions, action);
}

const char *vc_fence_reason_name(uint32_t reason)
{
	return NAME_OF(fence_reasons, reason);
}

const char *vc_auth_name(uint32_t auth)
{
	return NAME_OF(auth_names, auth);
}

int vc_parse_fence_action(const char *s, uint32_t *ret)
{
	uint32_t i;

	for (i = VC_FENCE_ACTION_LOG; i < __VC_FENCE_ACTION_MAX; i++) {
		if (strcasecmp(s, fence_actions[i]) == 0) {
			*ret = i;
			return 0;
		}
	}
	return -EINVAL;
}

int vc_parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "yes", "on", "true", "1" };
	static const char *const no[] = { "no", "off", "false", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *ret = true, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *ret = false, 0;
	}
	return -EINVAL;
}

int vc_parse_stat_start_time(const char *text, size_t len, uint64_t *ret)
{
	const char *p = NULL, *end = text + len, *tok;
	char num[24];
	size_t i, n;
	int field;

	for (i = 0; i < len; i++)
		if (text[i] == ')')
			p = text + i + 1;
	if (!p || !memchr(text, '(', (size_t)(p - text)))
		return -EINVAL;
	/* after ")": " S ppid pgrp ..." -- field 3 is the state */
	for (field = 3; ; field++) {
		while (p < end && *p == ' ')
			p++;
		tok = p;
		while (p < end && *p != ' ' && *p != '\n' && *p != '\0')
			p++;
		if (p == tok)
			return -EINVAL;
		if (field == 22)
			break;
	}
	n = (size_t)(p - tok);
	if (n >= sizeof(num))
		return -EINVAL;
	memcpy(num, tok, n);
	num[n] = '\0';
	return vc_parse_u64(num, 0, UINT64_MAX, ret) < 0 ? -EINVAL : 0;
}

int vc_parse_seconds_ms(const char *s, int64_t *ret_ms)
{
	char *end;
	double sec;

	errno = 0;
	sec = strtod(s, &end);
	if (errno || end == s || *end || !(sec >= 0) || sec > 86400.0 * 365)
		return -EINVAL;
	*ret_ms = (int64_t)ceil(sec * 1000.0);
	return 0;
}
