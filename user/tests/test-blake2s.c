// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * BLAKE2s against RFC 7693 Appendix B and keyed vectors computed
 * independently with Python's hashlib:
 *   /usr/bin/python3 -c 'import hashlib;
 *     print(hashlib.blake2s(MSG, key=bytes(range(32))).hexdigest())'
 */
#include <errno.h>

#include "../blake2s.h"
#include "../parse.h"
#include "tap.h"

static bool digest_is(const uint8_t *d, size_t len, const char *hex)
{
	char got[2 * VC_BLAKE2S_OUT_LEN + 1];

	vc_format_hex(d, len, got);
	if (strcmp(got, hex) != 0) {
		printf("# got  %s\n# want %s\n", got, hex);
		return false;
	}
	return true;
}

static uint8_t seq_bytes[256];

static void fill_seq(void)
{
	int i;

	for (i = 0; i < 256; i++)
		seq_bytes[i] = (uint8_t)i;
}

/* RFC 7693 Appendix B: BLAKE2s-256("abc"). */
TEST(blake2s_rfc7693_appendix_b)
{
	uint8_t d[32];

	CHECK_EQ(vc_blake2s(d, "abc", 3, NULL, 0), 0);
	CHECK(digest_is(d, 32, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982"));
	return true;
}

TEST(blake2s_unkeyed)
{
	uint8_t d[32];

	fill_seq();
	CHECK_EQ(vc_blake2s(d, "", 0, NULL, 0), 0);
	CHECK(digest_is(d, 32, "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9"));
	CHECK_EQ(vc_blake2s(d, seq_bytes, 64, NULL, 0), 0);
	CHECK(digest_is(d, 32, "56f34e8b96557e90c1f24b52d0c89d51086acf1b00f634cf1dde9233b8eaaa3e"));
	return true;
}

/* Keyed with 00 01 .. 1f: empty, 3 bytes, exactly one block, one more, 255. */
TEST(blake2s_keyed)
{
	static const struct { size_t len; const char *hex; } v[] = {
		{ 0, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49" },
		{ 64, "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4" },
		{ 65, "21fe0ceb0052be7fb0f004187cacd7de67fa6eb0938d927677f2398c132317a8" },
		{ 255, "3fb735061abc519dfe979e54c1ee5bfad0a9d858b3315bad34bde999efd724dd" },
	};
	uint8_t d[32];
	size_t i;

	fill_seq();
	CHECK_EQ(vc_blake2s(d, "abc", 3, seq_bytes, 32), 0);
	CHECK(digest_is(d, 32, "a281f725754969a702f6fe36fc591b7def866e4b70173ece402fc01c064d6b65"));
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		CHECK_EQ(vc_blake2s(d, seq_bytes, v[i].len, seq_bytes, 32), 0);
		CHECK(digest_is(d, 32, v[i].hex));
	}
	return true;
}

/* Short key and short digest go through the parameter block. */
TEST(blake2s_short_key_and_digest)
{
	struct vc_blake2s s;
	uint8_t key[16], d[16];

	memset(key, 1, sizeof(key));
	CHECK_EQ(vc_blake2s_init(&s, 16, key, 16), 0);
	vc_blake2s_update(&s, "vcluster", 8);
	vc_blake2s_final(&s, d);
	CHECK(digest_is(d, 16, "7682ddeddb18fe087fea291c7e0419f6"));
	CHECK_EQ(vc_blake2s_init(&s, 0, NULL, 0), -EINVAL);
	CHECK_EQ(vc_blake2s_init(&s, 33, NULL, 0), -EINVAL);
	CHECK_EQ(vc_blake2s_init(&s, 32, key, 33), -EINVAL);
	return true;
}

/* Feeding in any split gives the same digest as one call. */
TEST(blake2s_incremental_splits)
{
	uint8_t one[32], part[32];
	struct vc_blake2s s;
	size_t a, b;

	fill_seq();
	CHECK_EQ(vc_blake2s(one, seq_bytes, 200, seq_bytes, 32), 0);
	for (a = 0; a <= 200; a += 13) {
		for (b = a; b <= 200; b += 29) {
			CHECK_EQ(vc_blake2s_init(&s, 32, seq_bytes, 32), 0);
			vc_blake2s_update(&s, seq_bytes, a);
			vc_blake2s_update(&s, seq_bytes + a, b - a);
			vc_blake2s_update(&s, seq_bytes + b, 200 - b);
			vc_blake2s_final(&s, part);
			CHECK(memcmp(one, part, 32) == 0);
		}
	}
	return true;
}

TEST(blake2s_memneq)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 };

	CHECK_EQ(vc_memneq(a, b, 32), 0);
	b[31] = 0x80;
	CHECK_EQ(vc_memneq(a, b, 32), 1);
	CHECK_EQ(vc_memneq(a, b, 31), 0);
	CHECK_EQ(vc_memneq(a, b, 0), 0);
	return true;
}

const struct vc_test blake2s_tests[] = {
	T(blake2s_rfc7693_appendix_b),
	T(blake2s_unkeyed),
	T(blake2s_keyed),
	T(blake2s_short_key_and_digest),
	T(blake2s_incremental_splits),
	T(blake2s_memneq),
	{ NULL, NULL },
};
