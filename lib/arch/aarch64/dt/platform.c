/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/platform/platform.h for the bare-metal virt machines. RAM is
 * identity-mapped (aarch64: boot.S's page tables; RISC-V: no translation),
 * and the virt machines' DMA is cache-coherent ("dma-coherent" on their
 * PCI and virtio-mmio nodes), so DMA memory is zeroed heap memory with
 * iova == va, as on x86_64.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "platform/platform.h"
#include "virt.h"

int vnet_dma_alloc(struct vnet_dma *d, size_t len, size_t align)
{
	void *p;

	if (!d || len == 0)
		return -EINVAL;
	if (align == 0)
		align = 4096;
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

/* ---- time: the architecture's fixed-rate counter (aarch64 CNTVCT_EL0,
 * RISC-V time), whose rate firmware or the DTB gives. Microseconds are
 * ticks * us_mult >> 32: one multiply on the path sys_now() takes. */
static uint64_t counter_hz = 1;
static uint64_t counter_base;
static uint64_t us_mult;

void virt_time_init(uint64_t hz)
{
	counter_hz = hz ? hz : 1;
	counter_base = vnet_arch_counter();
	us_mult = (1000000ull << 32) / counter_hz;
}

uint64_t vnet_cycles(void)
{
	return vnet_arch_counter();
}

uint64_t vnet_cycles_hz(void)
{
	return counter_hz;
}

uint64_t vnet_now_us(void)
{
	return (uint64_t)(((unsigned __int128)(vnet_arch_counter() - counter_base) * us_mult) >> 32);
}

void vnet_delay_us(uint32_t us)
{
	uint64_t hz = counter_hz;
	uint64_t ticks = us * (hz / 1000000) + us * (hz % 1000000) / 1000000;
	uint64_t t0 = vnet_arch_counter();

	while (vnet_arch_counter() - t0 < ticks)
		vnet_cpu_relax();
}
