/* SPDX-License-Identifier: BSD-3-Clause */
/* Bench output: one JSON line per result (for scripts) and a table (for
 * people), shared by vnet-bench, vnet-bench-bm and vmb-peer. */
#ifndef VNET_BENCH_OUT_H
#define VNET_BENCH_OUT_H

#include <stdint.h>
#include <stdio.h>

#include <vnet/vnet.h>

#define BENCH_MAX_FIELDS 40

struct bench_row {
	const char *name[BENCH_MAX_FIELDS];
	char value[BENCH_MAX_FIELDS][64];
	int is_num[BENCH_MAX_FIELDS];
	int n;
};

void bench_row_str(struct bench_row *r, const char *name, const char *v);
void bench_row_num(struct bench_row *r, const char *name, const char *fmt, double v);
void bench_row_u64(struct bench_row *r, const char *name, uint64_t v);

/* The fields every rate result has, in this order: packets, seconds,
 * mpps (printed with @mpps_fmt), gbps; rates are 0 over no time. */
void bench_row_rate(struct bench_row *r, uint64_t packets, uint64_t bytes, double seconds,
                    const char *mpps_fmt);
/* tx_kicks, rx_kicks, and drops: the descriptors the driver refused as
 * malformed, both directions. */
void bench_row_kicks(struct bench_row *r, const struct vnet_queue_stats *rx, const struct vnet_queue_stats *tx);
/* p50_ns, p90_ns, p99_ns, p999_ns from histogram @h (hist.h) of
 * @samples, its unit times @scale in ns, then max_ns; all 0 when @h is
 * NULL (a mode without round trips). */
void bench_row_pcts(struct bench_row *r, const uint64_t *h, uint64_t samples, double scale, double max_ns);

/* JSON line on stdout, prefixed by nothing; table rows collected. */
void bench_emit(const struct bench_row *r);
/* Print the collected rows as an aligned table on stdout. */
void bench_table(void);

/* A histogram's non-empty buckets as the inside of a JSON array,
 * "[lower edge * @scale, count],...", on @f. */
void bench_hist_json(FILE *f, const uint64_t *h, double scale);

#endif
