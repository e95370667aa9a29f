/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * main() for one agent unit-test program: include after the test table.
 *
 *	static const struct vc_test tests[] = { T(foo), T(bar), { 0 } };
 *	#include "tap-main.h"
 */
#ifndef VCD_TAP_MAIN_H
#define VCD_TAP_MAIN_H

int main(void)
{
	const struct vc_test *t;
	int n = 0, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (t = tests; t->name; t++)
		n++;
	printf("1..%d\n", n);
	n = 0;
	for (t = tests; t->name; t++) {
		bool ok = t->fn();

		printf("%sok %d - %s\n", ok ? "" : "not ", ++n, t->name);
		failed += !ok;
	}
	if (failed)
		printf("# %d of %d tests failed\n", failed, n);
	return failed ? 1 : 0;
}

#endif /* VCD_TAP_MAIN_H */
