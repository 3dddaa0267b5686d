/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DMA memory below 2 GiB for tests that open a legacy device: a ring's
 * page frame number must fit 32 bits (spec 4.1.4.8, 4.2.4), as it does on
 * a machine, while a process's own addresses lie far above 16 TiB.
 * vnet_dma_set_allocator(&lowdma) before the pool and the device.
 */
#ifndef VNET_TEST_LOWDMA_H
#define VNET_TEST_LOWDMA_H

#include <errno.h>
#include <sys/mman.h>

#include "base/platform.h"

static int lowdma_alloc(void *arg, struct vnet_dma *d, size_t len, size_t align)
{
	size_t sz = (len + 4095) & ~(size_t)4095;
	void *va;

	(void)arg;
	if (align > 4096)
		return -EINVAL;
	va = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (va == MAP_FAILED)
		return -ENOMEM;
	d->va = va;
	d->iova = (uintptr_t)va;
	d->len = len;
	d->fd = -1;
	d->fd_off = 0;
	return 0;
}

static void lowdma_free(void *arg, struct vnet_dma *d)
{
	(void)arg;
	munmap(d->va, (d->len + 4095) & ~(size_t)4095);
}

static const struct vnet_dma_allocator lowdma = { lowdma_alloc, lowdma_free, NULL };

#endif
