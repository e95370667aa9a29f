/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * BLAKE2s-256 (RFC 7693), plain and keyed, written from the RFC.
 *
 * The keyed mode is what authenticates vcluster heartbeats
 * (VC_WIRE_AUTH_BLAKE2S): the key is padded to one 64-byte block and
 * compressed first, which makes BLAKE2s a PRF and so a MAC; unlike
 * H(key || msg) with a Merkle-Damgard hash it has no length extension.
 * The kernel computes the same function with blake2s_init_key(),
 * blake2s_update() and blake2s_final() from <crypto/blake2s.h>.
 *
 * No allocation, no logging; the state holds key material and is wiped
 * by vc_blake2s_final().
 */
#ifndef VC_BLAKE2S_H
#define VC_BLAKE2S_H

#include <stddef.h>
#include <stdint.h>

#define VC_BLAKE2S_BLOCK_LEN	64
#define VC_BLAKE2S_OUT_LEN	32	/* the longest digest, and ours */
#define VC_BLAKE2S_KEY_LEN	32	/* the longest key */

struct vc_blake2s {
	uint32_t h[8];
	uint32_t t[2];			/* bytes compressed so far */
	uint8_t buf[VC_BLAKE2S_BLOCK_LEN];
	size_t buf_len;
	size_t out_len;
};

/*
 * Start a hash of @out_len bytes (1..32) keyed with @key_len bytes
 * (0..32; 0 is the unkeyed hash).  -EINVAL for other lengths.
 */
int vc_blake2s_init(struct vc_blake2s *s, size_t out_len, const void *key,
		    size_t key_len);
void vc_blake2s_update(struct vc_blake2s *s, const void *data, size_t len);
/* Write out_len bytes to @out and wipe the state. */
void vc_blake2s_final(struct vc_blake2s *s, uint8_t *out);

/* One call: BLAKE2s-256 of @data keyed with @key (key_len 0..32). */
int vc_blake2s(uint8_t out[VC_BLAKE2S_OUT_LEN], const void *data, size_t len,
	       const void *key, size_t key_len);

/* 1 if the @len bytes differ, 0 if equal; time depends only on @len. */
int vc_memneq(const void *a, const void *b, size_t len);

/* Overwrite @len bytes at @p with zeros in a way the compiler keeps. */
void vc_memzero_explicit(void *p, size_t len);

#endif /* VC_BLAKE2S_H */
