/* SPDX-License-Identifier: BSD-3-Clause */
/* Histograms of integers (ns on the host, TSC cycles in the guest):
 * log-linear buckets, 16 per power of two, so that a bucket's width is at
 * most 1/16 of its value at any scale. */
#include "bm.h"

uint32_t bm_hist_bucket(uint64_t ns)
{
	uint32_t b;
	int lg;

	if (ns < 16)
		return (uint32_t)ns;
	lg = 63 - __builtin_clzll(ns);
	b = (uint32_t)(lg - 3) * 16 + (uint32_t)((ns >> (lg - 4)) & 15);
	return b < BM_HIST_BUCKETS ? b : BM_HIST_BUCKETS - 1;
}

/* The lower edge of bucket @b, in the histogram's unit. */
double bm_bucket_ns(uint32_t b)
{
	if (b < 16)
		return b;
	return (double)((uint64_t)(16u + b % 16) << (b / 16 - 1));
}

double bm_hist_pct(const uint64_t *h, uint64_t total, double pct)
{
	uint64_t want = (uint64_t)((double)total * pct / 100.0), acc = 0;
	uint32_t b;

	for (b = 0; b < BM_HIST_BUCKETS; b++) {
		acc += h[b];
		if (acc > want)
			return bm_bucket_ns(b);
	}
	return bm_bucket_ns(BM_HIST_BUCKETS - 1);
}
