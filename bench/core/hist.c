/* SPDX-License-Identifier: BSD-3-Clause */
#include "core/hist.h"

uint32_t bench_hist_bucket(uint64_t v)
{
	uint32_t b;
	int lg;

	if (v < 16)
		return (uint32_t)v;
	lg = 63 - __builtin_clzll(v);
	b = (uint32_t)(lg - 3) * 16 + (uint32_t)((v >> (lg - 4)) & 15);
	return b < BENCH_HIST_BUCKETS ? b : BENCH_HIST_BUCKETS - 1;
}

double bench_bucket_lo(uint32_t b)
{
	if (b < 16)
		return b;
	return (double)((uint64_t)(16u + b % 16) << (b / 16 - 1));
}

double bench_hist_pct(const uint64_t *h, uint64_t total, double pct)
{
	uint64_t want = (uint64_t)((double)total * pct / 100.0), acc = 0;
	uint32_t b;

	for (b = 0; b < BENCH_HIST_BUCKETS; b++) {
		acc += h[b];
		if (acc > want)
			return bench_bucket_lo(b);
	}
	return bench_bucket_lo(BENCH_HIST_BUCKETS - 1);
}
