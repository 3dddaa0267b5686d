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

/* An SBI call (RISC-V SBI specification v1.0, 3 "Binary Encoding"):
 * extension in a7, function in a6, arguments from a0; the error comes
 * back in a0. */
static inline long vnet_sbi_call(unsigned long ext, unsigned long fid, unsigned long arg0,
                                 unsigned long arg1)
{
	register unsigned long a0 __asm__("a0") = arg0;
	register unsigned long a1 __asm__("a1") = arg1;
	register unsigned long a6 __asm__("a6") = fid;
	register unsigned long a7 __asm__("a7") = ext;

	__asm__ __volatile__("ecall" : "+r"(a0), "+r"(a1) : "r"(a6), "r"(a7) : "memory");
	return (long)a0;
}

/* common/irq.c: the interrupts idle.c's handler took, per source, read by
 * vnet_irq_stats(); idle.c: that handler, called by boot.S's trap entry
 * with scause when its interrupt bit is set. */
#define VNET_IRQ_TIMER 0    /* the supervisor timer (SBI set_timer) */
#define VNET_IRQ_NIC 1      /* the NIC's line (vnet_irq_line()), through the PLIC */
#define VNET_IRQ_SPURIOUS 2 /* nothing to claim, or a cause nobody asked for */
#define VNET_IRQ_SLOTS 3
extern volatile uint64_t vnet_irq_counts[VNET_IRQ_SLOTS];
void vnet_irq_dispatch(uint64_t scause);

#endif
