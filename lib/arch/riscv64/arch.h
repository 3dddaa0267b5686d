/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals of the bare-metal riscv64 environment (QEMU -machine virt,
 * S-mode under OpenSBI), shared by its files and by the common virt code
 * in lib/arch/virt/. The public face is include/vnet/baremetal.h
 * and lib/base/platform.h.
 */
#ifndef VNET_ARCH_RISCV64_H
#define VNET_ARCH_RISCV64_H

#include <stddef.h>
#include <stdint.h>

/* QEMU 7.2's virt memory map (hw/riscv/virt.c, virt_memmap), used where
 * the device tree says nothing. */
#define VIRT_ARCH_NAME     "riscv64"
#define VIRT_RAM_BASE      0x80000000ull
#define VIRT_RAM_FALLBACK  (128ull << 20) /* QEMU's default -m */
#define VIRT_UART          0x10000000ull  /* ns16550a, byte registers */
#define VIRT_PCI_ECAM      0x30000000ull
#define VIRT_PCI_MEM       0x40000000ull  /* 32-bit PCI memory window */
#define VIRT_PCI_MEM_SIZE  0x40000000ull
#define VIRT_MMIO_BASE     0x10001000ull  /* 8 virtio-mmio windows */
#define VIRT_MMIO_STRIDE   0x1000u
#define VIRT_MMIO_COUNT    8u
#define VIRT_TIMEBASE_HZ   10000000ull    /* ACLINT mtime */
#define VIRT_TEST_DEV      0x100000ull    /* sifive_test: exit with a status */

/* The time CSR (Zicntr; OpenSBI lets S-mode read it through mcounteren). */
static inline uint64_t vnet_arch_counter(void)
{
	uint64_t v;

	__asm__ __volatile__("rdtime %0" : "=r"(v) : : "memory");
	return v;
}

/* Linker-script symbols (linker.ld). */
extern char vnet_image_start[], vnet_image_end[];

/* boot.S -> start.c: in S-mode, no translation, interrupts off, on the
 * boot stack; @dtb and @hart as OpenSBI passed them (a1, a0). */
void vnet_arch_start(uintptr_t dtb, unsigned long hart) __attribute__((noreturn));

/* uart.c: the console, polled. */
void vnet_uart_init(void);
void vnet_uart_drain(void);

#endif
