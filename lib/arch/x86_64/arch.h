/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals of the bare-metal x86_64 environment, shared by its files only.
 * The public face is include/vnet/baremetal.h and lib/base/platform.h.
 */
#ifndef VNET_ARCH_X86_64_H
#define VNET_ARCH_X86_64_H

/* The interrupts traps.S counts, per vector: slots of vnet_irq_counts[]
 * (traps.c), read through vnet_irq_stats() (include/vnet/baremetal.h).
 * Before the C part: traps.S includes this file. */
#define VNET_IRQ_TIMER 0    /* VNET_TIMER_VECTOR */
#define VNET_IRQ_NIC 1      /* VNET_NIC_VECTOR */
#define VNET_IRQ_SPURIOUS 2 /* VNET_SPURIOUS_VECTOR */
#define VNET_IRQ_SLOTS 3

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

/*
 * PVH start of day (Xen public/arch-x86/hvm/start_info.h, version 1): its
 * physical address arrives in %ebx. Address fields of 0 mean "absent".
 */
#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;   /* version >= 1 */
	uint32_t memmap_entries; /* version >= 1 */
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout");
_Static_assert(__builtin_offsetof(struct hvm_start_info, memmap_paddr) == 40, "memmap_paddr");

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry layout");

/* Same types as E820 (ACPI 6.x, 15 "System Address Map Interfaces"). */
#define HVM_MEMMAP_TYPE_RAM 1

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry layout");

/* Linker-script symbols (linker.ld). */
extern char vnet_image_start[], vnet_image_end[];

/* boot.S -> start.c, with interrupts off, SSE on, on the boot stack. */
void vnet_arch_start(uint32_t start_info_paddr) __attribute__((noreturn));

/* serial.c: COM1, polled. drain() waits (bounded) for the transmitter to
 * empty, so the last line before an exit is not cut off on a real UART. */
void vnet_serial_init(void);
void vnet_serial_drain(void);

/* traps.c: an IDT whose handlers report an exception and exit, and
 * count and acknowledge the interrupts that end vnet_idle_wait()'s halt
 * (idle.c). */
void vnet_traps_init(void);
extern volatile uint64_t vnet_irq_counts[VNET_IRQ_SLOTS];
#define VNET_TIMER_VECTOR 0x20    /* LAPIC timer, one-shot */
#define VNET_NIC_VECTOR 0x21      /* MSI-X message of the NIC (vnet_machine()) */
#define VNET_LINE_VECTOR 0x22     /* the NIC's wired line, through the I/O APIC */
#define VNET_SPURIOUS_VECTOR 0xff
#define VNET_LAPIC_BASE 0xfee00000ul /* boot.S maps it uncached */
/* idle.c: this CPU's local APIC id (the MSI destination); the wired
 * line's handler, called by its stub (traps.S). */
uint32_t vnet_lapic_id(void);
void vnet_line_irq(void);

/* tsc.c: measure the TSC rate once at boot; the result and how it was
 * obtained ("pit-ch2", "pit-ch0", "cpuid", "guess"). */
void vnet_tsc_calibrate(void);
extern uint64_t vnet_tsc_hz;
extern const char *vnet_tsc_source;

/* The fixed-rate counter of arch/common/platform.c: the TSC. */
static inline uint64_t vnet_arch_counter(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

#endif /* __ASSEMBLER__ */

#endif
