/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <string.h>

#include "bench_out.h"

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
