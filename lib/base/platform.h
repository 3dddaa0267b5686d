/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The platform layer: everything that differs between bare metal and a
 * Linux process. Barriers and accessors are inline (they are on the fast
 * path); the rest is in one file per environment:
 *   lib/base/platform_linux.c         Linux userspace
 *   lib/arch/x86_64/platform.c   bare-metal x86_64 (identity-mapped)
 *   lib/arch/virt/platform.c  bare-metal aarch64 and riscv64 (QEMU virt)
 */
#ifndef VNET_PLATFORM_H
#define VNET_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* ---- memory ordering (x86_64: TSO, so only the store-load case needs a
 * fence; the compiler barrier keeps the compiler honest elsewhere). Other
 * architectures add their own branch here. */
#if defined(__x86_64__) || defined(__i386__)
#define vnet_barrier() __asm__ __volatile__("" ::: "memory")
static inline void vnet_mb(void) { __asm__ __volatile__("lock; addl $0,-4(%%rsp)" ::: "memory", "cc"); }
static inline void vnet_rmb(void) { vnet_barrier(); }
static inline void vnet_wmb(void) { vnet_barrier(); }
static inline void vnet_cpu_relax(void) { __asm__ __volatile__("pause" ::: "memory"); }
#elif defined(__aarch64__)
/* aarch64: a device is an observer in the outer-shareable domain, so
 * these are Linux's dma_*() barriers (arch/arm64/include/asm/barrier.h:
 * dma_wmb = dmb oshst, dma_rmb = dmb oshld, dma_mb = dmb osh), which
 * virtio_ring.c uses for rmb/wmb when the device need not be another CPU
 * (VIRTIO_F_ORDER_PLATFORM). The full barrier only has to order the avail
 * index store before the load of the device's event index: dmb osh, not
 * Linux's dsb sy, as nothing here waits for completion. The doorbell is a
 * Device store, ordered after the ring stores by vnet_write16 itself
 * (see the accessors below). */
#define vnet_barrier() __asm__ __volatile__("" ::: "memory")
static inline void vnet_mb(void) { __asm__ __volatile__("dmb osh" ::: "memory"); }
static inline void vnet_rmb(void) { __asm__ __volatile__("dmb oshld" ::: "memory"); }
static inline void vnet_wmb(void) { __asm__ __volatile__("dmb oshst" ::: "memory"); }
static inline void vnet_cpu_relax(void) { __asm__ __volatile__("yield" ::: "memory"); }
#elif defined(__riscv)
/* RISC-V (RVWMO): Linux's mandatory barriers (arch/riscv/include/asm/
 * barrier.h), which order memory and device I/O alike. */
#define vnet_barrier() __asm__ __volatile__("" ::: "memory")
static inline void vnet_mb(void) { __asm__ __volatile__("fence iorw,iorw" ::: "memory"); }
static inline void vnet_rmb(void) { __asm__ __volatile__("fence ir,ir" ::: "memory"); }
static inline void vnet_wmb(void) { __asm__ __volatile__("fence ow,ow" ::: "memory"); }
/* pause (Zihintpause) is a FENCE hint: a no-op where not implemented. */
static inline void vnet_cpu_relax(void) { __asm__ __volatile__(".insn i 0x0f, 0, x0, x0, 0x010" ::: "memory"); }
#else
#define vnet_barrier() __asm__ __volatile__("" ::: "memory")
static inline void vnet_mb(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void vnet_rmb(void) { __atomic_thread_fence(__ATOMIC_ACQUIRE); }
static inline void vnet_wmb(void) { __atomic_thread_fence(__ATOMIC_RELEASE); }
static inline void vnet_cpu_relax(void) { vnet_barrier(); }
#endif

#define vnet_prefetch(p) __builtin_prefetch((const void *)(p), 0, 3)
#define vnet_prefetchw(p) __builtin_prefetch((const void *)(p), 1, 3)
#define vnet_likely(x) __builtin_expect(!!(x), 1)
#define vnet_unlikely(x) __builtin_expect(!!(x), 0)

/* ---- accessors for memory shared with the device (ring indices) ---- */
static inline uint16_t vnet_load16(const volatile void *p) { return *(const volatile uint16_t *)p; }
static inline void vnet_store16(volatile void *p, uint16_t v) { *(volatile uint16_t *)p = v; }

/* ---- MMIO register accessors (device register windows) ----
 * Ordered against normal memory as Linux's writel()/readl() are: a write
 * comes after every earlier memory store (so the ring update is visible
 * before the doorbell), a read before every later memory load (so a
 * status read is not overtaken). x86 gets this from its memory model;
 * aarch64 and RISC-V need the barrier in the accessor (Linux: __iowmb =
 * dma_wmb, __iormb = dma_rmb on arm64; fence w,o / fence i,ir on riscv).
 * One plain load/store each, no writeback addressing, so a trapped access
 * under KVM has a usable syndrome. */
#if defined(__aarch64__)
static inline uint8_t vnet_read8(const volatile void *a) { uint32_t v; __asm__ __volatile__("ldrb %w0, [%1]\n\tdmb oshld" : "=r"(v) : "r"(a) : "memory"); return (uint8_t)v; }
static inline uint16_t vnet_read16(const volatile void *a) { uint32_t v; __asm__ __volatile__("ldrh %w0, [%1]\n\tdmb oshld" : "=r"(v) : "r"(a) : "memory"); return (uint16_t)v; }
static inline uint32_t vnet_read32(const volatile void *a) { uint32_t v; __asm__ __volatile__("ldr %w0, [%1]\n\tdmb oshld" : "=r"(v) : "r"(a) : "memory"); return v; }
static inline void vnet_write8(volatile void *a, uint8_t v) { __asm__ __volatile__("dmb oshst\n\tstrb %w0, [%1]" : : "rZ"((uint32_t)v), "r"(a) : "memory"); }
static inline void vnet_write16(volatile void *a, uint16_t v) { __asm__ __volatile__("dmb oshst\n\tstrh %w0, [%1]" : : "rZ"((uint32_t)v), "r"(a) : "memory"); }
static inline void vnet_write32(volatile void *a, uint32_t v) { __asm__ __volatile__("dmb oshst\n\tstr %w0, [%1]" : : "rZ"(v), "r"(a) : "memory"); }
#elif defined(__riscv)
static inline uint8_t vnet_read8(const volatile void *a) { uint8_t v; __asm__ __volatile__("lbu %0, 0(%1)\n\tfence i,ir" : "=r"(v) : "r"(a) : "memory"); return v; }
static inline uint16_t vnet_read16(const volatile void *a) { uint16_t v; __asm__ __volatile__("lhu %0, 0(%1)\n\tfence i,ir" : "=r"(v) : "r"(a) : "memory"); return v; }
static inline uint32_t vnet_read32(const volatile void *a) { uint32_t v; __asm__ __volatile__("lw %0, 0(%1)\n\tfence i,ir" : "=r"(v) : "r"(a) : "memory"); return v; }
static inline void vnet_write8(volatile void *a, uint8_t v) { __asm__ __volatile__("fence w,o\n\tsb %z0, 0(%1)" : : "rJ"(v), "r"(a) : "memory"); }
static inline void vnet_write16(volatile void *a, uint16_t v) { __asm__ __volatile__("fence w,o\n\tsh %z0, 0(%1)" : : "rJ"(v), "r"(a) : "memory"); }
static inline void vnet_write32(volatile void *a, uint32_t v) { __asm__ __volatile__("fence w,o\n\tsw %z0, 0(%1)" : : "rJ"(v), "r"(a) : "memory"); }
#else
static inline uint8_t vnet_read8(const volatile void *a) { return *(const volatile uint8_t *)a; }
static inline uint16_t vnet_read16(const volatile void *a) { return *(const volatile uint16_t *)a; }
static inline uint32_t vnet_read32(const volatile void *a) { return *(const volatile uint32_t *)a; }
static inline void vnet_write8(volatile void *a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline void vnet_write16(volatile void *a, uint16_t v) { *(volatile uint16_t *)a = v; }
static inline void vnet_write32(volatile void *a, uint32_t v) { *(volatile uint32_t *)a = v; }
#endif

/* ---- port IO (x86 only; bare metal) ---- */
#if defined(__x86_64__)
static inline uint8_t vnet_inb(uint16_t port) { uint8_t v; __asm__ __volatile__("inb %1,%0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t vnet_inw(uint16_t port) { uint16_t v; __asm__ __volatile__("inw %1,%0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t vnet_inl(uint16_t port) { uint32_t v; __asm__ __volatile__("inl %1,%0" : "=a"(v) : "Nd"(port)); return v; }
static inline void vnet_outb(uint16_t port, uint8_t v) { __asm__ __volatile__("outb %0,%1" ::"a"(v), "Nd"(port)); }
static inline void vnet_outw(uint16_t port, uint16_t v) { __asm__ __volatile__("outw %0,%1" ::"a"(v), "Nd"(port)); }
static inline void vnet_outl(uint16_t port, uint32_t v) { __asm__ __volatile__("outl %0,%1" ::"a"(v), "Nd"(port)); }
static inline uint64_t vnet_rdtsc(void) { uint32_t lo, hi; __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }
#endif

/* ---- DMA memory: zeroed, physically contiguous, its bus address known.
 * Linux: anonymous shared memory from a memfd (so vhost-user can map it),
 * iova = virtual address. Bare metal: identity-mapped heap, iova = phys. */
struct vnet_dma {
	void *va;
	uint64_t iova;
	size_t len;
	int fd;          /* memfd on Linux (-1 elsewhere) */
	uint64_t fd_off; /* offset of va in fd */
};
int vnet_dma_alloc(struct vnet_dma *d, size_t len, size_t align);
void vnet_dma_free(struct vnet_dma *d);

#if defined(__linux__) && __STDC_HOSTED__
/* Linux only. A transport that must tell its device where DMA memory is
 * (vhost-user's memory table) reads the live allocations; one that needs
 * iova != va (a real PCI device: physical addresses of pinned hugepages)
 * installs its own allocator. Neither is on the fast path. */
#define VNET_DMA_MAX_LIVE 64
/* Copy up to @max live allocations into @out. @return how many are live. */
unsigned vnet_dma_live(struct vnet_dma *out, unsigned max);
struct vnet_dma_allocator {
	/* Fill all of *d (va, iova, len, fd or -1, fd_off). 0 or -errno. */
	int (*alloc)(void *arg, struct vnet_dma *d, size_t len, size_t align);
	void (*free)(void *arg, struct vnet_dma *d);
	void *arg;
};
/* Use @a for the allocations that follow (NULL: back to memfd, iova = va).
 * Memory is freed by the allocator that gave it. */
void vnet_dma_set_allocator(const struct vnet_dma_allocator *a);
#endif
/* Linux: the live allocations (a vhost-user frontend sends them as its
 * memory table). Copies at most @max into @out; returns how many are live. */
#define VNET_DMA_MAX_LIVE 64
unsigned vnet_dma_live(struct vnet_dma *out, unsigned max);

/* ---- time ---- */
uint64_t vnet_cycles(void);     /* a monotonic cycle counter */
uint64_t vnet_cycles_hz(void);  /* its rate (calibrated at boot on bare metal) */
uint64_t vnet_now_us(void);     /* monotonic microseconds */
void vnet_delay_us(uint32_t us);

/* ---- log: the library calls vnet_log(); the sink the app installed gets it */
void vnet_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The value of hex digit @c, or -1 (parsers of MAC, IPv6 and numbers). */
static inline int vnet_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
