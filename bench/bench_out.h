/* SPDX-License-Identifier: BSD-3-Clause */
/* Bench output: one JSON line per result (for scripts) and a table (for people). */
#ifndef VNET_BENCH_OUT_H
#define VNET_BENCH_OUT_H

#include <stdint.h>

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
/* JSON line on stdout, prefixed by nothing; table rows collected. */
void bench_emit(const struct bench_row *r);
/* Print the collected rows as an aligned table on stdout. */
void bench_table(void);

#endif
