// SPDX-License-Identifier: GPL-2.0 OR MIT
/* BLAKE2s per RFC 7693 sections 2 and 3.  See blake2s.h. */
#include <errno.h>
#include <string.h>

#include "blake2s.h"

/* RFC 7693 2.6: the SHA-256 initial values. */
static const uint32_t iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* RFC 7693 2.7: message word permutations, one row per round. */
static const uint8_t sigma[10][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
	{ 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
	{ 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
	{ 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
	{ 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
	{ 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
	{ 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
	{ 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
	{ 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
};

static uint32_t ror32(uint32_t x, unsigned int n)
{
	return (x >> n) | (x << (32 - n));
}

static uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* RFC 7693 3.1, with BLAKE2s rotations R1..R4 = 16, 12, 8, 7. */
static void mix(uint32_t v[16], int a, int b, int c, int d, uint32_t x, uint32_t y)
{
	v[a] = v[a] + v[b] + x;
	v[d] = ror32(v[d] ^ v[a], 16);
	v[c] = v[c] + v[d];
	v[b] = ror32(v[b] ^ v[c], 12);
	v[a] = v[a] + v[b] + y;
	v[d] = ror32(v[d] ^ v[a], 8);
	v[c] = v[c] + v[d];
	v[b] = ror32(v[b] ^ v[c], 7);
}

/* RFC 7693 3.2: compress one block; @last sets the final block flag. */
static void compress(struct vc_blake2s *s, const uint8_t block[VC_BLAKE2S_BLOCK_LEN],
		     int last)
{
	uint32_t m[16], v[16];
	int i, r;

	for (i = 0; i < 16; i++)
		m[i] = load_le32(block + 4 * i);
	for (i = 0; i < 8; i++) {
		v[i] = s->h[i];
		v[i + 8] = iv[i];
	}
	v[12] ^= s->t[0];
	v[13] ^= s->t[1];
	if (last)
		v[14] = ~v[14];
	for (r = 0; r < 10; r++) {
		const uint8_t *p = sigma[r];

		mix(v, 0, 4, 8, 12, m[p[0]], m[p[1]]);
		mix(v, 1, 5, 9, 13, m[p[2]], m[p[3]]);
		mix(v, 2, 6, 10, 14, m[p[4]], m[p[5]]);
		mix(v, 3, 7, 11, 15, m[p[6]], m[p[7]]);
		mix(v, 0, 5, 10, 15, m[p[8]], m[p[9]]);
		mix(v, 1, 6, 11, 12, m[p[10]], m[p[11]]);
		mix(v, 2, 7, 8, 13, m[p[12]], m[p[13]]);
		mix(v, 3, 4, 9, 14, m[p[14]], m[p[15]]);
	}
	for (i = 0; i < 8; i++)
		s->h[i] ^= v[i] ^ v[i + 8];
	vc_memzero_explicit(m, sizeof(m));
	vc_memzero_explicit(v, sizeof(v));
}

static void count(struct vc_blake2s *s, size_t n)
{
	s->t[0] += (uint32_t)n;
	if (s->t[0] < n)
		s->t[1]++;
}

int vc_blake2s_init(struct vc_blake2s *s, size_t out_len, const void *key,
		    size_t key_len)
{
	int i;

	if (out_len < 1 || out_len > VC_BLAKE2S_OUT_LEN || key_len > VC_BLAKE2S_KEY_LEN)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	for (i = 0; i < 8; i++)
		s->h[i] = iv[i];
	/* parameter block: digest length, key length, fanout 1, depth 1 */
	s->h[0] ^= 0x01010000u ^ (uint32_t)(key_len << 8) ^ (uint32_t)out_len;
	s->out_len = out_len;
	if (key_len) {
		/* the key, zero padded, is the first block */
		memcpy(s->buf, key, key_len);
		s->buf_len = VC_BLAKE2S_BLOCK_LEN;
	}
	return 0;
}

void vc_blake2s_update(struct vc_blake2s *s, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t n;

	while (len > 0) {
		/* a full buffer is compressed only once more data follows:
		 * the last block must be compressed with the final flag */
		if (s->buf_len == VC_BLAKE2S_BLOCK_LEN) {
			count(s, VC_BLAKE2S_BLOCK_LEN);
			compress(s, s->buf, 0);
			s->buf_len = 0;
		}
		n = VC_BLAKE2S_BLOCK_LEN - s->buf_len;
		if (n > len)
			n = len;
		memcpy(s->buf + s->buf_len, p, n);
		s->buf_len += n;
		p += n;
		len -= n;
	}
}

void vc_blake2s_final(struct vc_blake2s *s, uint8_t *out)
{
	uint8_t h[VC_BLAKE2S_OUT_LEN];
	int i;

	count(s, s->buf_len);
	memset(s->buf + s->buf_len, 0, VC_BLAKE2S_BLOCK_LEN - s->buf_len);
	compress(s, s->buf, 1);
	for (i = 0; i < 8; i++) {
		h[4 * i] = (uint8_t)s->h[i];
		h[4 * i + 1] = (uint8_t)(s->h[i] >> 8);
		h[4 * i + 2] = (uint8_t)(s->h[i] >> 16);
		h[4 * i + 3] = (uint8_t)(s->h[i] >> 24);
	}
	memcpy(out, h, s->out_len);
	vc_memzero_explicit(h, sizeof(h));
	vc_memzero_explicit(s, sizeof(*s));
}

int vc_blake2s(uint8_t out[VC_BLAKE2S_OUT_LEN], const void *data, size_t len,
	       const void *key, size_t key_len)
{
	struct vc_blake2s s;
	int r;

	r = vc_blake2s_init(&s, VC_BLAKE2S_OUT_LEN, key, key_len);
	if (r < 0)
		return r;
	vc_blake2s_update(&s, data, len);
	vc_blake2s_final(&s, out);
	return 0;
}

int vc_memneq(const void *a, const void *b, size_t len)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	return d != 0;
}

void vc_memzero_explicit(void *p, size_t len)
{
	volatile uint8_t *v = p;

	while (len--)
		*v++ = 0;
}
