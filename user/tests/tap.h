/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A tiny TAP harness: each test is one function returning true on pass;
 * CHECK* macros print a "# file:line: ..." diagnostic and fail the test.
 */
#ifndef VC_TAP_H
#define VC_TAP_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct vc_test {
	const char *name;
	bool (*fn)(void);
};

#define TEST(n) static bool test_##n(void)
#define T(n) { #n, test_##n }

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("# %s:%d: failed: %s\n", __FILE__, __LINE__, #cond);	\
		return false;						\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b) {							\
		printf("# %s:%d: %s == %lld, expected %s == %lld\n",	\
		       __FILE__, __LINE__, #a, _a, #b, _b);		\
		return false;						\
	}								\
} while (0)

#define CHECK_STR(a, b) do {						\
	const char *_a = (a), *_b = (b);				\
	if (strcmp(_a, _b) != 0) {					\
		printf("# %s:%d: %s is\n#   \"%s\"\n# expected\n#   \"%s\"\n", \
		       __FILE__, __LINE__, #a, _a, _b);			\
		return false;						\
	}								\
} while (0)

extern const struct vc_test wire_tests[];
extern const struct vc_test config_tests[];
extern const struct vc_test args_tests[];
extern const struct vc_test netlink_tests[];
extern const struct vc_test blake2s_tests[];
extern const struct vc_test fence_tests[];

#endif /* VC_TAP_H */
