// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * vcl-inject: send crafted vcluster heartbeats, well-formed or broken in
 * one chosen way, so tests can show the kernel drops and counts them.
 *
 * Every datagram is checked with libvclwire before it is sent: the
 * decoder must reject it for exactly the reason its KIND names (or accept
 * it, for "valid" and "replay"), so the injector cannot quietly send
 * something other than what the test asked for.
 *
 * With --key-file every datagram is signed (keyed BLAKE2s-256) as the
 * kernel signs them, and the self-check verifies it with that key; the
 * kinds bad-mac, wrong-key, unknown-key and no-mac break exactly the
 * authentication.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "blake2s.h"
#include "keyfile.h"
#include "parse.h"
#include "wire.h"

#define PROG "vcl-inject"

enum kind {
	K_VALID, K_TRUNCATED, K_BAD_MAGIC, K_BAD_VERSION, K_BAD_HDR_LEN,
	K_BAD_TYPE, K_BAD_AUTH, K_BAD_LENGTH, K_TOO_MANY_MEMBERS,
	K_OVERSIZE_PAYLOAD, K_FOREIGN, K_UNKNOWN_NODE, K_BAD_DEST, K_BAD_LINK,
	K_REPLAY, K_BAD_MAC, K_WRONG_KEY, K_UNKNOWN_KEY, K_NO_MAC,
	N_KINDS
};

static const struct {
	const char *name;
	enum vc_wire_reason reason;	/* what the decoder must say */
	const char *help;
} kinds[N_KINDS] = {
	[K_VALID] = { "valid", VC_WIRE_R_OK, "a well-formed heartbeat" },
	[K_TRUNCATED] = { "truncated", VC_WIRE_R_SHORT, "cut to --length bytes (default 44)" },
	[K_BAD_MAGIC] = { "bad-magic", VC_WIRE_R_MAGIC, "magic 0xdeadbeef" },
	[K_BAD_VERSION] = { "bad-version", VC_WIRE_R_VERSION, "version 2" },
	[K_BAD_HDR_LEN] = { "bad-hdr-len", VC_WIRE_R_HDR_LEN, "hdr_len 40" },
	[K_BAD_TYPE] = { "bad-type", VC_WIRE_R_TYPE, "type 127" },
	[K_BAD_AUTH] = { "bad-auth", VC_WIRE_R_AUTH, "auth 127" },
	[K_BAD_LENGTH] = { "bad-length", VC_WIRE_R_LENGTH, "one byte more than the header says" },
	[K_TOO_MANY_MEMBERS] = { "too-many-members", VC_WIRE_R_MEMBERS, "65 membership entries" },
	[K_OVERSIZE_PAYLOAD] = { "oversize-payload", VC_WIRE_R_PAYLOAD_LEN, "65-byte payload" },
	[K_FOREIGN] = { "foreign", VC_WIRE_R_FOREIGN, "cluster id + 1" },
	[K_UNKNOWN_NODE] = { "unknown-node", VC_WIRE_R_UNKNOWN_NODE, "sender --unknown-node-id" },
	[K_BAD_DEST] = { "bad-dest", VC_WIRE_R_DEST, "dest node id + 1" },
	[K_BAD_LINK] = { "bad-link", VC_WIRE_R_LINK, "header link id = --link-id + 1" },
	[K_REPLAY] = { "replay", VC_WIRE_R_OK, "--count valid ones, then the first again" },
	[K_BAD_MAC] = { "bad-mac", VC_WIRE_R_BAD_MAC, "signed, then one tag bit flipped (needs --key-file)" },
	[K_WRONG_KEY] = { "wrong-key", VC_WIRE_R_BAD_MAC, "signed with another key under --key-id (needs --key-file)" },
	[K_UNKNOWN_KEY] = { "unknown-key", VC_WIRE_R_UNKNOWN_KEY, "signed, key id = --key-id + 1 (needs --key-file)" },
	[K_NO_MAC] = { "no-mac", VC_WIRE_R_NO_MAC, "auth none, for a receiver that has a key (needs --key-file)" },
};

static bool needs_key(enum kind k)
{
	return k == K_BAD_MAC || k == K_WRONG_KEY || k == K_UNKNOWN_KEY || k == K_NO_MAC;
}

struct opts {
	enum kind kind;
	struct vc_addr to, from;
	bool has_to, has_from, freebind, print;
	bool has_key;
	struct vc_wire_key key;		/* --key-file, --key-id */
	struct vc_wire_msg msg;
	uint32_t unknown_node_id;
	uint64_t count;
	uint32_t gap_ms;
	uint32_t length;
};

static void usage(FILE *f)
{
	int k;

	fprintf(f,
		"usage: " PROG " [OPTIONS] KIND\n\n"
		"  --to ADDR[:PORT]          destination (port defaults to 5420)\n"
		"  --from ADDR[:PORT]        bind the source address (and port)\n"
		"  --freebind                allow a --from address that is not local\n"
		"  --cluster-id N            the receiver's cluster id (required)\n"
		"  --node-id N               sender: a peer the receiver knows (required)\n"
		"  --dest-node-id N          the receiver's node id (required)\n"
		"  --incarnation N           sender's life (default 1)\n"
		"  --seq N                   first sequence number (default 1)\n"
		"  --link-id N               link it is sent on, 0..7 (default 0)\n"
		"  --interval-ms N           (default 10)\n"
		"  --dead-ms N               (default 30)\n"
		"  --member NODE:STATE[:INC] membership entry, repeatable\n"
		"                            (STATE: new joining up suspect down or a number)\n"
		"  --payload HEX             at most 64 bytes\n"
		"  --unknown-node-id N       sender id for unknown-node (default 4000000000)\n"
		"  --count N                 datagrams, seq +1 each (default 1)\n"
		"  --gap-ms N                pause between datagrams (default 0)\n"
		"  --length N                bytes kept by truncated (default 44)\n"
		"  --key-file FILE           sign with this key: 64 hex digits and an\n"
		"                            optional newline (as for 'vclusterctl key set')\n"
		"  --key-id N                its id, 1..255 (default 1)\n"
		"  --print                   print hex instead of sending\n\n"
		"KIND:\n");
	for (k = 0; k < N_KINDS; k++)
		fprintf(f, "  %-18s %s (decoder: %s, counter: %s)\n", kinds[k].name,
			kinds[k].help, vc_wire_reason_name(kinds[k].reason),
			k == K_REPLAY ? "refused" : vc_wire_reason_counter(kinds[k].reason));
	fprintf(f, "\nWith --key-file every kind is signed (replay too); the self-check\n"
		"verifies with that key, as a receiver holding it would.\n");
}

static int bad(const char *opt, const char *val)
{
	fprintf(stderr, PROG ": %s: bad value '%s' (see --help)\n", opt, val ? val : "");
	return -EINVAL;
}

static int parse_member(const char *s, struct vc_wire_msg *m)
{
	char buf[128], *state, *inc;
	struct vc_wire_member_info *e;

	if (m->n_members >= VC_MAX_PEERS || strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	state = strchr(buf, ':');
	if (!state)
		return -EINVAL;
	*state++ = '\0';
	inc = strchr(state, ':');
	if (inc)
		*inc++ = '\0';
	e = &m->members[m->n_members];
	if (vc_parse_u32(buf, 1, UINT32_MAX, &e->node_id) < 0 ||
	    vc_parse_peer_state(state, &e->state) < 0 ||
	    (inc && vc_parse_u64(inc, 0, UINT64_MAX, &e->incarnation) < 0))
		return -EINVAL;
	m->n_members++;
	return 0;
}

static int parse_kind(const char *s, enum kind *ret)
{
	int k;

	for (k = 0; k < N_KINDS; k++) {
		if (strcmp(s, kinds[k].name) == 0) {
			*ret = (enum kind)k;
			return 0;
		}
	}
	return -EINVAL;
}

static int read_key(struct opts *o, const char *path)
{
	char err[512];

	if (vc_key_read_file(path, o->key.key, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": --key-file: %s\n", err);
		return -EINVAL;
	}
	o->has_key = true;
	return 0;
}

/* One option with a value; -ENOENT if @opt is not one of these. */
static int parse_valued(struct opts *o, const char *opt, const char *val,
			unsigned int *required)
{
	struct vc_wire_msg *m = &o->msg;
	uint32_t v32;
	size_t len;
	int r = 0;

	if (!strcmp(opt, "--to"))
		r = vc_parse_addr(val, true, &o->to), o->has_to = true;
	else if (!strcmp(opt, "--from"))
		r = vc_parse_addr(val, true, &o->from), o->has_from = true;
	else if (!strcmp(opt, "--cluster-id"))
		r = vc_parse_u32(val, 0, UINT32_MAX, &m->cluster_id), *required |= 1;
	else if (!strcmp(opt, "--node-id"))
		r = vc_parse_u32(val, 0, UINT32_MAX, &m->node_id), *required |= 2;
	else if (!strcmp(opt, "--dest-node-id"))
		r = vc_parse_u32(val, 0, UINT32_MAX, &m->dest_node_id), *required |= 4;
	else if (!strcmp(opt, "--incarnation"))
		r = vc_parse_u64(val, 0, UINT64_MAX, &m->incarnation);
	else if (!strcmp(opt, "--seq"))
		r = vc_parse_u64(val, 0, UINT64_MAX, &m->seq);
	else if (!strcmp(opt, "--link-id"))
		r = vc_parse_u32(val, 0, VC_MAX_LINKS - 1, &v32), m->link_id = (uint8_t)v32;
	else if (!strcmp(opt, "--interval-ms"))
		r = vc_parse_u32(val, 0, UINT32_MAX, &m->interval_ms);
	else if (!strcmp(opt, "--dead-ms"))
		r = vc_parse_u32(val, 0, UINT32_MAX, &m->dead_ms);
	else if (!strcmp(opt, "--member"))
		r = parse_member(val, m);
	else if (!strcmp(opt, "--payload"))
		r = vc_parse_hex(val, m->payload, sizeof(m->payload), &len),
		m->payload_len = (uint16_t)len;
	else if (!strcmp(opt, "--unknown-node-id"))
		r = vc_parse_u32(val, 1, UINT32_MAX, &o->unknown_node_id);
	else if (!strcmp(opt, "--count"))
		r = vc_parse_u64(val, 1, 1000000, &o->count);
	else if (!strcmp(opt, "--gap-ms"))
		r = vc_parse_u32(val, 0, 60000, &o->gap_ms);
	else if (!strcmp(opt, "--length"))
		r = vc_parse_u32(val, 0, VC_WIRE_MAX_LEN, &o->length);
	else if (!strcmp(opt, "--key-id"))
		r = vc_parse_u32(val, 1, 255, &v32), o->key.id = (uint8_t)v32;
	else if (!strcmp(opt, "--key-file"))
		return read_key(o, val);
	else
		return -ENOENT;
	return r < 0 ? bad(opt, val) : 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	unsigned int required = 0;
	bool has_kind = false;
	int i, r;

	memset(o, 0, sizeof(*o));
	vc_wire_msg_init(&o->msg);
	o->msg.incarnation = 1;
	o->msg.seq = 1;
	o->msg.interval_ms = 10;
	o->msg.dead_ms = 30;
	o->unknown_node_id = 4000000000u;
	o->count = 1;
	o->length = 44;
	o->key.id = 1;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(argv[i], "--freebind")) {
			o->freebind = true;
		} else if (!strcmp(argv[i], "--print")) {
			o->print = true;
		} else if (argv[i][0] == '-') {
			if (i + 1 >= argc)
				return bad(argv[i], NULL);
			r = parse_valued(o, argv[i], argv[i + 1], &required);
			if (r == -ENOENT)
				fprintf(stderr, PROG ": unknown option '%s' (see --help)\n", argv[i]);
			if (r < 0)
				return r;
			i++;
		} else if (has_kind || parse_kind(argv[i], &o->kind) < 0) {
			return bad("KIND", argv[i]);
		} else {
			has_kind = true;
		}
	}
	if (!has_kind || required != 7 || (!o->print && !o->has_to)) {
		fprintf(stderr, PROG ": needs KIND, --cluster-id, --node-id, --dest-node-id and --to (or --print); see --help\n");
		return -EINVAL;
	}
	if (needs_key(o->kind) && !o->has_key) {
		fprintf(stderr, PROG ": %s needs --key-file (the receiver's key)\n",
			kinds[o->kind].name);
		return -EINVAL;
	}
	if (!o->to.port)
		o->to.port = VC_DEFAULT_PORT;
	return 0;
}

static uint64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Append @n_members entries (node ids 1000000+i) right after the header. */
static size_t craft_too_many(struct vc_wire_msg *m, uint8_t *buf)
{
	size_t len, i;
	uint16_t n = VC_MAX_PEERS + 1;

	m->n_members = 0;
	m->payload_len = 0;
	vc_wire_encode(m, buf, VC_WIRE_HDR_LEN, &len);
	for (i = 0; i < n; i++, len += VC_WIRE_MEMBER_LEN) {
		memset(buf + len, 0, VC_WIRE_MEMBER_LEN);
		vc_wire_put_be32(buf + len, 1000000u + (uint32_t)i);
		buf[len + 4] = VC_PEER_STATE_UP;
	}
	vc_wire_put_be16(buf + VC_WIRE_OFF_N_MEMBERS, n);
	return len;
}

static size_t craft_oversize(struct vc_wire_msg *m, uint8_t *buf, size_t size)
{
	size_t len;

	m->payload_len = 0;
	if (vc_wire_encode(m, buf, size, &len) < 0)
		return 0;
	memset(buf + len, 0xaa, VC_MAX_PAYLOAD + 1);
	vc_wire_put_be16(buf + VC_WIRE_OFF_PAYLOAD_LEN, VC_MAX_PAYLOAD + 1);
	return len + VC_MAX_PAYLOAD + 1;
}

/* Encode, signed as the kind wants when there is a key. */
static int encode(const struct opts *o, const struct vc_wire_msg *m, uint8_t *buf,
		  size_t size, size_t *len)
{
	struct vc_wire_key k = o->key;
	size_t i;
	int r;

	if (!o->has_key || o->kind == K_NO_MAC)
		return vc_wire_encode(m, buf, size, len);
	if (o->kind == K_WRONG_KEY)
		for (i = 0; i < sizeof(k.key); i++)
			k.key[i] ^= 0xff;
	if (o->kind == K_UNKNOWN_KEY)
		k.id = (uint8_t)(k.id == 255 ? 1 : k.id + 1);
	r = vc_wire_encode_signed(m, &k, buf, size, len);
	vc_memzero_explicit(&k, sizeof(k));
	return r;
}

/* Build datagram @seq of @o into @buf; returns its length (0: error). */
static size_t craft(const struct opts *o, uint64_t seq, uint8_t *buf, size_t size)
{
	struct vc_wire_msg m = o->msg;
	size_t len = 0;

	m.seq = seq;
	m.tx_time_ns = boottime_ns();
	if (o->kind == K_FOREIGN)
		m.cluster_id++;
	else if (o->kind == K_UNKNOWN_NODE)
		m.node_id = o->unknown_node_id;
	else if (o->kind == K_BAD_DEST)
		m.dest_node_id++;
	else if (o->kind == K_BAD_LINK)
		m.link_id = (uint8_t)((m.link_id + 1) % VC_MAX_LINKS);
	if (o->kind == K_TOO_MANY_MEMBERS)
		return craft_too_many(&m, buf);
	if (o->kind == K_OVERSIZE_PAYLOAD)
		return craft_oversize(&m, buf, size);
	if (encode(o, &m, buf, size, &len) < 0)
		return 0;
	switch (o->kind) {
	case K_BAD_MAC:
		buf[len - 1] ^= 0x01;
		break;
	case K_TRUNCATED:
		return o->length < len ? o->length : 0;
	case K_BAD_MAGIC:
		vc_wire_put_be32(buf + VC_WIRE_OFF_MAGIC, 0xdeadbeef);
		break;
	case K_BAD_VERSION:
		buf[VC_WIRE_OFF_VERSION] = VC_WIRE_VERSION + 1;
		break;
	case K_BAD_HDR_LEN:
		vc_wire_put_be16(buf + VC_WIRE_OFF_HDR_LEN, 40);
		break;
	case K_BAD_TYPE:
		buf[VC_WIRE_OFF_TYPE] = 127;
		break;
	case K_BAD_AUTH:
		buf[VC_WIRE_OFF_AUTH] = 127;
		break;
	case K_BAD_LENGTH:
		buf[len++] = 0;
		break;
	default:
		break;
	}
	return len;
}

/* The decoder must classify @buf as the kind promises. */
static int self_check(const struct opts *o, const uint8_t *buf, size_t len)
{
	struct vc_wire_receiver rx = {
		.cluster_id = o->msg.cluster_id, .node_id = o->msg.dest_node_id,
		.peer_ids = &o->msg.node_id, .n_peers = 1,
		.match_link = true, .link_id = o->msg.link_id,
		.keys = o->has_key ? &o->key : NULL, .n_keys = o->has_key,
	};
	enum vc_wire_reason want = kinds[o->kind].reason, got;
	struct vc_wire_msg *m = malloc(sizeof(*m));

	if (!m)
		return -ENOMEM;
	if (o->kind == K_TRUNCATED && len >= VC_WIRE_HDR_LEN)
		want = VC_WIRE_R_LENGTH;
	vc_wire_parse(buf, len, &rx, m, &got);
	free(m);
	if (got != want) {
		fprintf(stderr, PROG ": %s: crafted datagram decodes as '%s', not '%s' (check the ids given)\n",
			kinds[o->kind].name, vc_wire_reason_name(got), vc_wire_reason_name(want));
		return -EPROTO;
	}
	return 0;
}

static int open_socket(const struct opts *o)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	fd = socket(o->to.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (o->freebind)
		(void)setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one));
	if (o->has_from) {
		if (o->from.family != o->to.family) {
			close(fd);
			fprintf(stderr, PROG ": --from and --to are of different families\n");
			return -EAFNOSUPPORT;
		}
		memset(&ss, 0, sizeof(ss));
		if (o->from.family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

			sin->sin_family = AF_INET;
			sin->sin_port = htons(o->from.port);
			memcpy(&sin->sin_addr, o->from.bytes, 4);
			sl = sizeof(*sin);
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(o->from.port);
			memcpy(&sin6->sin6_addr, o->from.bytes, 16);
			sl = sizeof(*sin6);
		}
		if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
			int r = -errno;

			close(fd);
			fprintf(stderr, PROG ": bind: %s\n", strerror(-r));
			return r;
		}
	}
	return fd;
}

static socklen_t dest_sockaddr(const struct vc_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(a->port);
	memcpy(&sin6->sin6_addr, a->bytes, 16);
	return sizeof(*sin6);
}

static int emit(const struct opts *o, int fd, const uint8_t *buf, size_t len, uint64_t seq)
{
	char hex[2 * (VC_WIRE_MAX_LEN + 64) + 1], to[VC_ADDR_STRLEN];
	struct sockaddr_storage ss;
	socklen_t sl;

	if (o->print) {
		vc_format_hex(buf, len, hex);
		printf("%s\n", hex);
		return 0;
	}
	sl = dest_sockaddr(&o->to, &ss);
	if (sendto(fd, buf, len, 0, (struct sockaddr *)&ss, sl) < 0) {
		fprintf(stderr, PROG ": sendto: %s\n", strerror(errno));
		return -errno;
	}
	printf("sent %s %zu bytes seq %" PRIu64 " to %s\n", kinds[o->kind].name, len, seq,
	       vc_format_addr(&o->to, to, sizeof(to)));
	return 0;
}

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int run(const struct opts *o, int fd)
{
	uint8_t buf[VC_WIRE_MAX_LEN + 64], first[sizeof(buf)];
	size_t len, first_len = 0;
	uint64_t i;
	int r;

	for (i = 0; i < o->count; i++) {
		len = craft(o, o->msg.seq + i, buf, sizeof(buf));
		if (!len) {
			fprintf(stderr, PROG ": cannot craft %s (is --length below the datagram size?)\n",
				kinds[o->kind].name);
			return -EINVAL;
		}
		r = self_check(o, buf, len);
		if (r == 0)
			r = emit(o, fd, buf, len, o->msg.seq + i);
		if (r < 0)
			return r;
		if (i == 0)
			memcpy(first, buf, first_len = len);
		if (o->gap_ms)
			sleep_ms(o->gap_ms);
	}
	return o->kind == K_REPLAY ? emit(o, fd, first, first_len, o->msg.seq) : 0;
}

int main(int argc, char **argv)
{
	struct opts *o = malloc(sizeof(*o));
	int fd = -1, r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!o)
		return 1;
	r = parse_args(argc, argv, o);
	if (r < 0) {
		free(o);
		return 2;
	}
	if (!o->print) {
		fd = open_socket(o);
		if (fd < 0) {
			fprintf(stderr, PROG ": socket: %s\n", strerror(-fd));
			free(o);
			return 1;
		}
	}
	r = run(o, fd);
	if (fd >= 0)
		close(fd);
	vc_memzero_explicit(o, sizeof(*o));
	free(o);
	return r < 0 ? 1 : 0;
}
