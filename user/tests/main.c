// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Runs every unit test; TAP on stdout, exit 1 if any failed. */
#include <stdio.h>

#include "tap.h"

static const struct vc_test *const suites[] = {
	blake2s_tests, wire_tests, config_tests, args_tests, netlink_tests, fence_tests,
};

int main(void)
{
	const struct vc_test *t;
	int n = 0, failed = 0;
	size_t s;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (s = 0; s < sizeof(suites) / sizeof(suites[0]); s++)
		for (t = suites[s]; t->name; t++)
			n++;
	printf("1..%d\n", n);
	n = 0;
	for (s = 0; s < sizeof(suites) / sizeof(suites[0]); s++) {
		for (t = suites[s]; t->name; t++) {
			bool ok = t->fn();

			printf("%sok %d - %s\n", ok ? "" : "not ", ++n, t->name);
			failed += !ok;
		}
	}
	if (failed)
		printf("# %d of %d tests failed\n", failed, n);
	return failed ? 1 : 0;
}
