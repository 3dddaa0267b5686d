/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals of the bare-metal aarch64 environment (QEMU -machine virt),
 * shared by its files and by the common virt code in dt/. The public face
 * is include/vnet/baremetal.h and lib/base/platform.h.
 */
#ifndef VNET_ARCH_AARCH64_H
#define VNET_ARCH_AARCH64_H

#include <stddef.h>
#include <stdint.h>

/*
 * QEMU 7.2's virt memory map (hw/arm/virt.c, base_memmap and
 * extended_memmap), used where the device tree says nothing. The ECAM is
 * the high one (256 buses), which virt provides unless highmem=off.
 */
#define VIRT_ARCH_NAME     "aarch64"
#define VIRT_RAM_BASE      0x40000000ull
#define VIRT_RAM_FALLBACK  (128ull << 20) /* QEMU's default -m */
#define VIRT_UART          0x09000000ull  /* PL011 */
#define VIRT_PCI_ECAM      0x4010000000ull
#define VIRT_PCI_MEM       0x10000000ull  /* 32-bit PCI memory window */
#define VIRT_PCI_MEM_SIZE  0x2eff0000ull
#define VIRT_MMIO_BASE     0x0a000000ull  /* 32 virtio-mmio windows */
#define VIRT_MMIO_STRIDE   0x200u
#define VIRT_MMIO_COUNT    32u
#define VIRT_TIMEBASE_HZ   0ull           /* from CNTFRQ_EL0 instead */
#define VIRT_TEST_DEV      0ull           /* none: semihosting or PSCI */

/* The generic timer's virtual count (Arm ARM D11.2); the isb keeps the
 * read from being taken early. */
static inline uint64_t vnet_arch_counter(void)
{
	uint64_t v;

	__asm__ __volatile__("isb\n\tmrs %0, cntvct_el0" : "=r"(v) : : "memory");
	return v;
}

static inline uint64_t vnet_arch_counter_hz(void)
{
	uint64_t v;

	__asm__ __volatile__("mrs %0, cntfrq_el0" : "=r"(v));
	return v;
}

/* Linker-script symbols (linker.ld). */
extern char vnet_image_start[], vnet_image_end[];

/* boot.S -> start.c: at EL1, MMU and caches on, on the boot stack. @dtb is
 * x0 from the loader (Linux arm64 boot protocol), 0 for an ELF boot.
 * @el is the exception level the image was entered at. */
void vnet_arch_start(uintptr_t dtb, unsigned el) __attribute__((noreturn));

/* boot.S: the level-1 translation table (512 x 1 GiB blocks). */
extern uint64_t vnet_boot_l1[512];

/* pl011.c: the console, polled. */
void vnet_uart_init(void);
void vnet_uart_drain(void);

/* boot.S: one semihosting call (HLT #0xf000, Arm "Semihosting for
 * AArch32 and AArch64" 2.0): operation in w0, parameter block in x1.
 * vnet_semihost_insn is the HLT, which traps as undefined when QEMU runs
 * without -semihosting. */
uint64_t vnet_semihost(uint32_t op, const void *param);
extern char vnet_semihost_insn[];

/* common/irq.c: the interrupts idle.c's handler took, per source, read by
 * vnet_irq_stats(); idle.c: that handler, called by vectors.S. */
#define VNET_IRQ_TIMER 0    /* the virtual timer */
#define VNET_IRQ_NIC 1      /* the NIC's line (vnet_irq_line()) */
#define VNET_IRQ_SPURIOUS 2 /* nothing pending, or an INTID nobody asked for */
#define VNET_IRQ_SLOTS 3
extern volatile uint64_t vnet_irq_counts[VNET_IRQ_SLOTS];
void vnet_irq_dispatch(void);

/* start.c: power off through PSCI SYSTEM_OFF (status lost), for when the
 * semihosting exit trapped (traps.c). */
void vnet_exit_psci(void) __attribute__((noreturn));

#endif
