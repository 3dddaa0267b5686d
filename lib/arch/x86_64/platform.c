/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/base/platform.h for bare-metal x86_64. Memory is identity-mapped
 * (boot.S), so a heap address is its own physical and bus address: DMA
 * memory is simply zeroed heap memory, and iova == va.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "base/counter_clock.h"
#include "base/platform.h"

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

/* ---- time: the TSC, with the rate from tsc.c ---- */
static struct counter_clock clk;

void vnet_time_init(void)
{
	counter_clock_init(&clk, vnet_tsc_hz, vnet_rdtsc());
}

uint64_t vnet_cycles(void)
{
	return vnet_rdtsc();
}

uint64_t vnet_cycles_hz(void)
{
	return clk.hz;
}

uint64_t vnet_now_us(void)
{
	return counter_clock_us(&clk, vnet_rdtsc());
}

void vnet_delay_us(uint32_t us)
{
	uint64_t cycles = counter_clock_ticks(&clk, us), t0 = vnet_rdtsc();

	while (vnet_rdtsc() - t0 < cycles)
		vnet_cpu_relax();
}
