/* SPDX-License-Identifier: BSD-3-Clause */
/* What vnet-bench's and vnet-bench-bm's options have in common: the mode
 * names and the range checks of numbers. */
#ifndef VNET_BENCH_OPTS_H
#define VNET_BENCH_OPTS_H

enum bench_mode {
	BENCH_TXONLY,
	BENCH_RXONLY,
	BENCH_FORWARD, /* also "macswap" and "loopback" */
	BENCH_LATENCY,
	BENCH_TCP,     /* vnet-bench on the model only */
	BENCH_FLOWGEN, /* vnet-bench against a peer only */
	BENCH_MODE_COUNT
};

extern const char *const bench_mode_names[BENCH_MODE_COUNT];

/* @s as a mode, aliases included: 0, or -EINVAL. */
int bench_mode_parse(const char *s, enum bench_mode *m);
/* @s as an unsigned number (decimal, 0x hex, 0 octal) in [@lo, @hi]:
 * 0, or -EINVAL. */
int bench_parse_u(const char *s, unsigned long lo, unsigned long hi, unsigned long *out);
/* A ring size: a power of two. */
static inline int bench_pow2(unsigned long v)
{
	return (v & (v - 1)) == 0;
}

#endif
