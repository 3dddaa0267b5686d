/* SPDX-License-Identifier: BSD-3-Clause */
/* Histograms of integers (ns on the host, TSC cycles in the guest):
 * log-linear buckets, 16 per power of two, so that a bucket's width is at
 * most 1/16 of its value at any scale. */
#ifndef VNET_BENCH_HIST_H
#define VNET_BENCH_HIST_H

#include <stdint.h>

#define BENCH_HIST_BUCKETS 512

/* The bucket of value @v. */
uint32_t bench_hist_bucket(uint64_t v);
/* The lower edge of bucket @b, in the histogram's unit. */
double bench_bucket_lo(uint32_t b);
/* The lower edge of the bucket that holds the @pct percentile of the
 * @total values counted in @h. */
double bench_hist_pct(const uint64_t *h, uint64_t total, double pct);

#endif
