/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Time from a free-running, fixed-rate counter (the x86 TSC, aarch64
 * CNTVCT_EL0, RISC-V time), shared by the bare-metal platform files.
 * Microseconds are ticks * us_mult >> 32: one multiply and no division on
 * the path lwIP's sys_now() takes every poll.
 */
#ifndef VNET_COUNTER_CLOCK_H
#define VNET_COUNTER_CLOCK_H

#include <stdint.h>

struct counter_clock {
	uint64_t hz, base, us_mult;
};

static inline void counter_clock_init(struct counter_clock *c, uint64_t hz, uint64_t now)
{
	c->hz = hz ? hz : 1;
	c->base = now;
	c->us_mult = (1000000ull << 32) / c->hz;
}

static inline uint64_t counter_clock_us(const struct counter_clock *c, uint64_t now)
{
	return (uint64_t)(((unsigned __int128)(now - c->base) * c->us_mult) >> 32);
}

/* @us in ticks, without overflowing 64 bits for any uint32 @us */
static inline uint64_t counter_clock_ticks(const struct counter_clock *c, uint32_t us)
{
	return us * (c->hz / 1000000) + us * (c->hz % 1000000) / 1000000;
}

#endif
