/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/opts.h"

const char *const bench_mode_names[BENCH_MODE_COUNT] = {"txonly", "rxonly", "forward", "latency", "tcp",
                                                        "flowgen"};

int bench_mode_parse(const char *s, enum bench_mode *m)
{
	int i;

	if (!strcmp(s, "loopback") || !strcmp(s, "macswap")) {
		*m = BENCH_FORWARD;
		return 0;
	}
	for (i = 0; i < BENCH_MODE_COUNT; i++)
		if (!strcmp(s, bench_mode_names[i])) {
			*m = (enum bench_mode)i;
			return 0;
		}
	return -EINVAL;
}

int bench_parse_u(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}
