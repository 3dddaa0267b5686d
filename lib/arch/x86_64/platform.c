/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/platform/platform.h for bare-metal x86_64. Memory is identity-mapped
 * (boot.S), so a heap address is its own physical and bus address: DMA
 * memory is simply zeroed heap memory, and iova == va.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "platform/platform.h"

int vnet_dma_alloc(struct vnet_dma *d, size_t len, size_t align)
{
	void *p;

	if (!d || len == 0)
		return -EINVAL;
	if (align == 0)
		align = 4096; /* a page: what rings and most devices want */
	if (align & (align - 1))
		return -EINVAL;
	p = aligned_alloc(align, len);
	if (!p)
		return -ENOMEM;
	memset(p, 0, len);
	d->va = p;
	d->iova = (uintptr_t)p;
	d->len = len;
	d->fd = -1;
	d->fd_off = 0;
	return 0;
}

void vnet_dma_free(struct vnet_dma *d)
{
	if (!d || !d->va)
		return;
	free(d->va);
	d->va = NULL;
	d->iova = 0;
	d->len = 0;
}

/* ---- time: the TSC, with the rate from tsc.c ----
 * Microseconds are cycles * us_mult >> 32, one multiply and no division on
 * the path lwIP's sys_now() takes every poll. */
static uint64_t tsc_base;
static uint64_t us_mult;

void vnet_time_init(void)
{
	tsc_base = vnet_rdtsc();
	us_mult = (1000000ull << 32) / vnet_tsc_hz;
}

uint64_t vnet_cycles(void)
{
	return vnet_rdtsc();
}

uint64_t vnet_cycles_hz(void)
{
	return vnet_tsc_hz;
}

uint64_t vnet_now_us(void)
{
	return (uint64_t)(((unsigned __int128)(vnet_rdtsc() - tsc_base) * us_mult) >> 32);
}

void vnet_delay_us(uint32_t us)
{
	/* us * hz / 1e6 without overflowing 64 bits for any uint32 us. */
	uint64_t hz = vnet_tsc_hz;
	uint64_t cycles = us * (hz / 1000000) + us * (hz % 1000000) / 1000000;
	uint64_t t0 = vnet_rdtsc();

	while (vnet_rdtsc() - t0 < cycles)
		vnet_cpu_relax();
}
