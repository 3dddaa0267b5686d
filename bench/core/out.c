/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <string.h>

#include "core/hist.h"
#include "core/out.h"

#define MAX_ROWS 64

static struct bench_row rows[MAX_ROWS];
static int nrows;

static void put(struct bench_row *r, const char *name, int num)
{
	if (r->n < BENCH_MAX_FIELDS) {
		r->name[r->n] = name;
		r->is_num[r->n] = num;
		r->n++;
	}
}

void bench_row_str(struct bench_row *r, const char *name, const char *v)
{
	if (r->n >= BENCH_MAX_FIELDS)
		return;
	snprintf(r->value[r->n], sizeof(r->value[0]), "%s", v);
	put(r, name, 0);
}

void bench_row_num(struct bench_row *r, const char *name, const char *fmt, double v)
{
	if (r->n >= BENCH_MAX_FIELDS)
		return;
	snprintf(r->value[r->n], sizeof(r->value[0]), fmt, v);
	put(r, name, 1);
}

void bench_row_u64(struct bench_row *r, const char *name, uint64_t v)
{
	if (r->n >= BENCH_MAX_FIELDS)
		return;
	snprintf(r->value[r->n], sizeof(r->value[0]), "%llu", (unsigned long long)v);
	put(r, name, 1);
}

void bench_row_rate(struct bench_row *r, uint64_t packets, uint64_t bytes, double seconds,
                    const char *mpps_fmt)
{
	bench_row_u64(r, "packets", packets);
	bench_row_num(r, "seconds", "%.3f", seconds);
	bench_row_num(r, "mpps", mpps_fmt, seconds > 0 ? (double)packets / seconds / 1e6 : 0);
	bench_row_num(r, "gbps", "%.3f", seconds > 0 ? (double)bytes * 8 / seconds / 1e9 : 0);
}

void bench_row_kicks(struct bench_row *r, const struct vnet_queue_stats *rx, const struct vnet_queue_stats *tx)
{
	bench_row_u64(r, "tx_kicks", tx->kicks);
	bench_row_u64(r, "rx_kicks", rx->kicks);
	bench_row_u64(r, "drops", rx->drop_bad_id + rx->drop_bad_len + rx->drop_bad_idx + tx->drop_bad_id +
	                          tx->drop_bad_idx);
}

void bench_row_pcts(struct bench_row *r, const uint64_t *h, uint64_t samples, double scale, double max_ns)
{
	static const char *const name[4] = {"p50_ns", "p90_ns", "p99_ns", "p999_ns"};
	static const double pct[4] = {50, 90, 99, 99.9};
	int i;

	for (i = 0; i < 4; i++)
		bench_row_num(r, name[i], "%.0f", h ? bench_hist_pct(h, samples, pct[i]) * scale : 0);
	bench_row_num(r, "max_ns", "%.0f", h ? max_ns : 0);
}

void bench_emit(const struct bench_row *r)
{
	int i;

	printf("{");
	for (i = 0; i < r->n; i++)
		printf(r->is_num[i] ? "%s\"%s\":%s" : "%s\"%s\":\"%s\"", i ? "," : "", r->name[i], r->value[i]);
	printf("}\n");
	fflush(stdout);
	if (nrows < MAX_ROWS)
		rows[nrows++] = *r;
}

void bench_table(void)
{
	int w[BENCH_MAX_FIELDS] = {0};
	int i, j;

	if (!nrows)
		return;
	for (j = 0; j < rows[0].n; j++) {
		w[j] = (int)strlen(rows[0].name[j]);
		for (i = 0; i < nrows; i++)
			if ((int)strlen(rows[i].value[j]) > w[j])
				w[j] = (int)strlen(rows[i].value[j]);
	}
	printf("\n");
	for (j = 0; j < rows[0].n; j++)
		printf("%s%-*s", j ? " | " : "| ", w[j], rows[0].name[j]);
	printf(" |\n");
	for (j = 0; j < rows[0].n; j++) {
		printf("%s", j ? "-|-" : "|-");
		for (i = 0; i < w[j]; i++)
			putchar('-');
	}
	printf("-|\n");
	for (i = 0; i < nrows; i++) {
		for (j = 0; j < rows[i].n && j < rows[0].n; j++)
			printf(rows[i].is_num[j] ? "%s%*s" : "%s%-*s", j ? " | " : "| ", w[j], rows[i].value[j]);
		printf(" |\n");
	}
}

void bench_hist_json(FILE *f, const uint64_t *h, double scale)
{
	uint32_t b;
	int first = 1;

	for (b = 0; b < BENCH_HIST_BUCKETS; b++) {
		if (!h[b])
			continue;
		fprintf(f, "%s[%.0f,%llu]", first ? "" : ",", bench_bucket_lo(b) * scale, (unsigned long long)h[b]);
		first = 0;
	}
}
