/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * From boot.S to the application: console, the device tree (command line,
 * memory, devices, timebase), the heap; then vnet_main(), whose return
 * value becomes QEMU's exit status through the sifive_test device.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <vnet/baremetal.h>

#include "arch.h"
#include "base/platform.h"
#include "arch/common/platform.h"
#include "arch/virt/virt.h"

/* QEMU's sifive_test (hw/misc/sifive_test.c): writing FAIL | code << 16
 * ends QEMU with status code; PASS ends it with 0. */
#define FINISHER_FAIL 0x3333u

/* SBI (RISC-V SBI specification v1.0): System Reset extension, and the
 * legacy shutdown for older firmware. */
#define SBI_EXT_SRST          0x53525354
#define SBI_SRST_SHUTDOWN     0
#define SBI_SRST_NO_REASON    0
#define SBI_SRST_SYS_FAILURE  1
#define SBI_EXT_LEGACY_SHUTDOWN 0x08

/*
 * QEMU's exit status is (status << 1) | 1, the same as isa-debug-exit's on
 * x86_64, so that one set of expected codes (33 = VNET_EXIT_SUCCESS)
 * serves every architecture. Without the test device, SBI's system reset
 * can only say success or failure, and QEMU then exits with 0.
 */
void vnet_exit(int status)
{
	uint32_t code = (((uint32_t)status << 1) | 1) & 0xffff;

	vnet_uart_drain();
	if (virt.test_dev)
		vnet_write32((volatile void *)(uintptr_t)virt.test_dev, code << 16 | FINISHER_FAIL);
	vnet_sbi_call(SBI_EXT_SRST, 0, SBI_SRST_SHUTDOWN,
	         status == VNET_EXIT_SUCCESS ? SBI_SRST_NO_REASON : SBI_SRST_SYS_FAILURE);
	vnet_sbi_call(SBI_EXT_LEGACY_SHUTDOWN, 0, 0, 0);
	for (;;) /* nothing worked: stop here, interrupts off */
		__asm__ __volatile__("wfi");
}

void vnet_arch_start(uintptr_t dtb, unsigned long hart)
{
	vnet_uart_init();
	virt_parse((const void *)dtb);
	virt_heap_setup((uintptr_t)vnet_image_end);
	vnet_time_init(virt.timebase_hz ? virt.timebase_hz : VIRT_TIMEBASE_HZ);
	printf("vnet: riscv64 virt, S-mode hart %lu, %" PRIu64 " MiB RAM, heap %zu KiB, "
	       "timer %" PRIu64 " kHz, dtb %#lx\n",
	       hart, vnet_ram_size() >> 20, vnet_heap_free() >> 10, vnet_cycles_hz() / 1000,
	       (unsigned long)dtb);
	vnet_exit(vnet_main(vnet_cmdline()));
}
