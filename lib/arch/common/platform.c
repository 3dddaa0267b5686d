/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/base/platform.h for bare metal, on every architecture: DMA memory
 * and time. RAM is identity-mapped (x86_64 and aarch64: boot.S's page
 * tables; RISC-V: no translation), and DMA is cache-coherent (x86_64; the
 * virt machines mark their PCI and virtio-mmio nodes "dma-coherent"), so
 * DMA memory is zeroed heap memory with iova == va. Time is the
 * architecture's fixed-rate counter (vnet_arch_counter(): the TSC,
 * CNTVCT_EL0, RISC-V time), whose rate the entry code hands over once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "arch/common/platform.h"
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

static struct counter_clock clk = {1, 0, 0};

void vnet_time_init(uint64_t hz)
{
	counter_clock_init(&clk, hz, vnet_arch_counter());
}

uint64_t vnet_cycles(void)
{
	return vnet_arch_counter();
}

uint64_t vnet_cycles_hz(void)
{
	return clk.hz;
}

uint64_t vnet_now_us(void)
{
	return counter_clock_us(&clk, vnet_arch_counter());
}

void vnet_delay_us(uint32_t us)
{
	uint64_t ticks = counter_clock_ticks(&clk, us), t0 = vnet_arch_counter();

	while (vnet_arch_counter() - t0 < ticks)
		vnet_cpu_relax();
}
