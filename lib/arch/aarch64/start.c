/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * From boot.S to the application: console, the device tree (command line,
 * memory, devices), the identity map trimmed to RAM, the heap, the
 * generic timer's rate; then vnet_main(), whose return value becomes
 * QEMU's exit status through semihosting.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <vnet/baremetal.h>

#include "arch.h"
#include "arch/virt/fdt.h"
#include "arch/common/platform.h"
#include "arch/virt/virt.h"
#include "base/platform.h"

#define GIB (1ull << 30)

/* Semihosting (Arm "Semihosting for AArch32 and AArch64", 2.0):
 * SYS_EXIT with a parameter block {reason, subcode}; QEMU exits with the
 * subcode for ADP_Stopped_ApplicationExit. */
#define SYS_EXIT                    0x18
#define ADP_STOPPED_APPLICATIONEXIT 0x20026

/* PSCI 1.0 (Arm DEN 0022) SYSTEM_OFF, SMC32 calling convention. */
#define PSCI_SYSTEM_OFF 0x84000008u

/* A PSCI call through the conduit the device tree names (SMC Calling
 * Convention, Arm DEN 0028: function id in x0, result in x0). */
static uint64_t psci_call(uint32_t fn)
{
	register uint64_t x0 __asm__("x0") = fn;

	if (virt.psci_smc)
		__asm__ __volatile__("smc #0" : "+r"(x0) : : "x1", "x2", "x3", "memory");
	else
		__asm__ __volatile__("hvc #0" : "+r"(x0) : : "x1", "x2", "x3", "memory");
	return x0;
}

void vnet_exit_psci(void)
{
	printf("vnet: no semihosting (QEMU -semihosting); powering off through PSCI, "
	       "exit status lost\n");
	vnet_uart_drain();
	psci_call(PSCI_SYSTEM_OFF);
	for (;;) /* no PSCI either: stop here, interrupts masked */
		__asm__ __volatile__("wfi");
}

/*
 * QEMU's exit status is (status << 1) | 1, the same as isa-debug-exit's on
 * x86_64, so that one set of expected codes (33 = VNET_EXIT_SUCCESS)
 * serves every architecture.
 */
void vnet_exit(int status)
{
	static volatile uint64_t block[2];

	vnet_uart_drain();
	block[0] = ADP_STOPPED_APPLICATIONEXIT;
	block[1] = ((uint64_t)(uint32_t)status << 1) | 1;
	vnet_semihost(SYS_EXIT, (const void *)block);
	vnet_exit_psci();
}

/* boot.S maps all of [1 GiB, 256 GiB) as Normal memory: unmap the blocks
 * that hold no RAM, so a stray pointer faults instead of reading nothing.
 * Valid to invalid needs no break-before-make (Arm ARM D8.16.1). */
static void mmu_trim(void)
{
	for (uint64_t i = 1; i < 256; i++) {
		uint64_t lo = i * GIB, hi = lo + GIB;
		int ram = 0;

		for (unsigned b = 0; b < virt.n_ram; b++)
			if (virt.ram[b].base < hi && lo < virt.ram[b].base + virt.ram[b].size)
				ram = 1;
		if (!ram)
			vnet_boot_l1[i] = 0;
	}
	__asm__ __volatile__("dsb ishst\n\ttlbi vmalle1\n\tdsb ish\n\tisb" ::: "memory");
}

void vnet_arch_start(uintptr_t dtb, unsigned el)
{
	const void *fdt = (const void *)dtb;

	vnet_uart_init();
	/* An ELF boot passes no pointer; QEMU then puts the DTB at the start
	 * of RAM (hw/arm/boot.c, arm_setup_direct_kernel_boot). */
	if (!fdt && fdt_check((const void *)(uintptr_t)VIRT_RAM_BASE) == 0)
		fdt = (const void *)(uintptr_t)VIRT_RAM_BASE;
	virt_parse(fdt);
	mmu_trim();
	virt_heap_setup((uintptr_t)vnet_image_end);
	vnet_time_init(vnet_arch_counter_hz());
	printf("vnet: aarch64 virt, entered at EL%u, %" PRIu64 " MiB RAM, heap %zu KiB, "
	       "timer %" PRIu64 " kHz, dtb %p\n",
	       el, vnet_ram_size() >> 20, vnet_heap_free() >> 10, vnet_cycles_hz() / 1000, fdt);
	vnet_exit(vnet_main(vnet_cmdline()));
}
