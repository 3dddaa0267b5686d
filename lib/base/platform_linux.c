/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The platform layer for a Linux process. DMA memory is a memfd mapped
 * shared, so that a vhost-user backend can map the same pages (its fd is
 * kept); the I/O virtual address is the process's virtual address, which
 * is what vhost-user frontends put in their memory table.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "base/platform.h"

static int memfd_alloc(void *arg, struct vnet_dma *d, size_t len, size_t align)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t sz;
	void *va;
	int fd;

	(void)arg;
	if (align > page)
		return -EINVAL;
	sz = (len + page - 1) & ~(page - 1);
	fd = memfd_create("vnet-dma", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)sz) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	va = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (va == MAP_FAILED) {
		int e = -errno;
		close(fd);
		return e;
	}
	d->va = va;
	d->iova = (uint64_t)(uintptr_t)va;
	d->len = sz;
	d->fd = fd;
	d->fd_off = 0;
	return 0;
}

static void memfd_free(void *arg, struct vnet_dma *d)
{
	(void)arg;
	munmap(d->va, d->len);
	if (d->fd >= 0)
		close(d->fd);
}

static const struct vnet_dma_allocator memfd_allocator = {memfd_alloc, memfd_free, NULL};

/* Live allocations and the allocator each came from (alloc/free only). */
static struct {
	struct vnet_dma d;
	struct vnet_dma_allocator by;
} live[VNET_DMA_MAX_LIVE];
static unsigned nlive;
static struct vnet_dma_allocator cur_alloc = {memfd_alloc, memfd_free, NULL};
static pthread_mutex_t dma_lock = PTHREAD_MUTEX_INITIALIZER;

void vnet_dma_set_allocator(const struct vnet_dma_allocator *a)
{
	pthread_mutex_lock(&dma_lock);
	cur_alloc = a ? *a : memfd_allocator;
	pthread_mutex_unlock(&dma_lock);
}

unsigned vnet_dma_live(struct vnet_dma *out, unsigned max)
{
	unsigned i, n;

	pthread_mutex_lock(&dma_lock);
	n = nlive;
	for (i = 0; i < n && i < max; i++)
		out[i] = live[i].d;
	pthread_mutex_unlock(&dma_lock);
	return n;
}

int vnet_dma_alloc(struct vnet_dma *d, size_t len, size_t align)
{
	int rc;

	d->va = NULL;
	d->fd = -1;
	if (len == 0)
		return -EINVAL;
	pthread_mutex_lock(&dma_lock);
	if (nlive == VNET_DMA_MAX_LIVE) {
		rc = -ENOMEM;
	} else {
		rc = cur_alloc.alloc(cur_alloc.arg, d, len, align);
		if (rc == 0) {
			live[nlive].d = *d;
			live[nlive].by = cur_alloc;
			nlive++;
		}
	}
	pthread_mutex_unlock(&dma_lock);
	if (rc) {
		d->va = NULL;
		d->fd = -1;
	}
	return rc;
}

void vnet_dma_free(struct vnet_dma *d)
{
	struct vnet_dma_allocator by = memfd_allocator;
	unsigned i;

	if (!d->va)
		return;
	pthread_mutex_lock(&dma_lock);
	for (i = 0; i < nlive; i++) {
		if (live[i].d.va == d->va) {
			by = live[i].by;
			live[i] = live[--nlive];
			break;
		}
	}
	pthread_mutex_unlock(&dma_lock);
	by.free(by.arg, d);
	d->va = NULL;
	d->fd = -1;
}

uint64_t vnet_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t vnet_cycles(void)
{
#if defined(__x86_64__)
	return vnet_rdtsc();
#else
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

uint64_t vnet_cycles_hz(void)
{
#if defined(__x86_64__)
	static uint64_t hz;
	if (!hz) { /* measure the TSC against CLOCK_MONOTONIC over 20 ms, once */
		uint64_t t0 = vnet_now_us(), c0 = vnet_cycles(), t1, c1;
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
		t1 = vnet_now_us();
		c1 = vnet_cycles();
		hz = t1 > t0 ? (c1 - c0) * 1000000u / (t1 - t0) : 1000000000u;
	}
	return hz;
#else
	return 1000000000u;
#endif
}

void vnet_delay_us(uint32_t us)
{
	struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000};
	nanosleep(&ts, NULL);
}
