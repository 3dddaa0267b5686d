/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vnet_idle_wait(): halt until an interrupt - the NIC's MSI-X message (a
 * queue armed with vnet_dev_rx_intr_enable()) or the local APIC timer
 * (SDM Vol. 3A, "APIC Timer"), whichever comes first. Interrupts are on
 * only across the HLT: "sti; hlt" is atomic (STI's shadow covers HLT), so
 * an interrupt that arrived after the caller's last look at the ring is
 * pending in the IRR and ends the halt at once. The 8259 PICs are masked
 * (firmware leaves IRQ0 on vector 8, #DF); the handlers count (per
 * vector: vnet_irq_stats()) and acknowledge (traps.S). Under QEMU the
 * vCPU thread sleeps during the halt and leaves the host CPU to the
 * device emulation and the peer.
 */
#include <stdint.h>
#include <vnet/baremetal.h>

#include "arch.h"
#include "base/platform.h"

#define LAPIC_ID 0x020
#define LAPIC_TPR 0x080
#define LAPIC_SVR 0x0f0
#define LAPIC_SVR_ENABLE 0x100
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_MASKED 0x10000
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0
#define LAPIC_DIV_1 0xb
#define CALIBRATE_US 1000u

static uint32_t ticks_per_us; /* 0: not set up yet */
static int setup_failed;

static void lapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(VNET_LAPIC_BASE + reg) = v;
}

static uint32_t lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(VNET_LAPIC_BASE + reg);
}

uint32_t vnet_lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

/* Mask the PICs, software-enable the APIC, and count its timer's ticks
 * over a millisecond of the boot clock. */
static int lapic_setup(void)
{
	uint64_t t0, guard;
	uint32_t done;

	__asm__ __volatile__("outb %0, $0x21\n\toutb %0, $0xa1" : : "a"((uint8_t)0xff));
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | VNET_SPURIOUS_VECTOR);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_TIMER_DIV, LAPIC_DIV_1);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | VNET_TIMER_VECTOR);
	lapic_write(LAPIC_TIMER_INIT, 0xffffffffu);
	t0 = vnet_now_us();
	for (guard = 0; vnet_now_us() - t0 < CALIBRATE_US && guard < (1ull << 32); guard++)
		;
	done = 0xffffffffu - lapic_read(LAPIC_TIMER_CUR);
	lapic_write(LAPIC_TIMER_INIT, 0);
	lapic_write(LAPIC_LVT_TIMER, VNET_TIMER_VECTOR); /* one-shot, unmasked */
	ticks_per_us = done / CALIBRATE_US;
	return ticks_per_us ? 0 : -1;
}

int vnet_idle_wait(uint32_t max_us)
{
	uint64_t count;

	if (!ticks_per_us && (setup_failed || lapic_setup() != 0)) {
		setup_failed = 1;
		return -1;
	}
	if (max_us == 0)
		return 0;
	count = (uint64_t)max_us * ticks_per_us;
	lapic_write(LAPIC_TIMER_INIT, count > 0xffffffffu ? 0xffffffffu : (uint32_t)count);
	__asm__ __volatile__("sti\n\thlt\n\tcli" ::: "memory");
	if (lapic_read(LAPIC_TIMER_CUR) == 0)
		return 1; /* the timer ran out */
	lapic_write(LAPIC_TIMER_INIT, 0); /* woken early: stop the timer */
	return 0;
}
