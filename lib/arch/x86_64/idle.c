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
 *
 * A device without MSI-X (microvm's virtio-mmio) raises a wired line
 * instead: vnet_irq_line() points its I/O APIC redirection entry at
 * VNET_LINE_VECTOR, level-triggered (82093AA I/O APIC datasheet, 3.2.4
 * "IOREDTBL"); the handler (vnet_line_irq()) has the device lower the line
 * before the EOI, which the local APIC broadcasts to the I/O APIC to
 * clear the entry's Remote IRR.
 */
#include <errno.h>
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
#define LAPIC_EOI 0x0b0
#define CALIBRATE_US 1000u

/* The I/O APIC: an index register and a data window (82093AA, 3.1). */
#define IOAPIC_BASE 0xfec00000ul /* microvm's and q35's; boot.S maps it uncached */
#define IOREGSEL 0x00
#define IOWIN 0x10
#define IOAPIC_VER 0x01 /* bits 16-23: the last redirection entry's index */
#define IOREDTBL(n) (0x10u + 2u * (n)) /* low half; the high half follows */
#define RTE_LEVEL (1u << 15)
#define RTE_MASKED (1u << 16)

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

static void (*line_ack)(void *arg); /* vnet_irq_line()'s */
static void *line_arg;

static uint32_t ioapic_read(uint32_t reg)
{
	*(volatile uint32_t *)(IOAPIC_BASE + IOREGSEL) = reg;
	return *(volatile uint32_t *)(IOAPIC_BASE + IOWIN);
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(IOAPIC_BASE + IOREGSEL) = reg;
	*(volatile uint32_t *)(IOAPIC_BASE + IOWIN) = v;
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
	/* The wired line's handler calls C (the device's ack): the vector
	 * registers it may use are declared clobbered here, the general ones
	 * it saves itself (traps.S). */
	__asm__ __volatile__("sti\n\thlt\n\tcli" ::: "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
	                     "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
	                     "xmm14", "xmm15");
	if (lapic_read(LAPIC_TIMER_CUR) == 0)
		return 1; /* the timer ran out */
	lapic_write(LAPIC_TIMER_INIT, 0); /* woken early: stop the timer */
	return 0;
}

/* The wired line's handler (traps.S, VNET_LINE_VECTOR): the device lowers
 * its line first, else the level-triggered entry would fire again at the
 * EOI. Counted as the NIC's interrupt. */
void vnet_line_irq(void)
{
	if (line_ack)
		line_ack(line_arg);
	vnet_irq_counts[VNET_IRQ_NIC]++;
	lapic_write(LAPIC_EOI, 0);
}

int vnet_irq_line(uint32_t line, void (*ack)(void *arg), void *arg)
{
	uint32_t ver = ioapic_read(IOAPIC_VER);

	if (ver == 0xffffffffu)
		return -ENODEV; /* nothing answers at the I/O APIC's address */
	if (line > ((ver >> 16) & 0xff))
		return -EINVAL;
	/* Masked while it changes; fixed delivery, physical destination
	 * (this CPU), active high: what virtio-mmio under QEMU raises. */
	ioapic_write(IOREDTBL(line), RTE_MASKED);
	line_ack = ack;
	line_arg = arg;
	if (!ack)
		return 0;
	ioapic_write(IOREDTBL(line) + 1, (vnet_lapic_id() & 0xff) << 24);
	ioapic_write(IOREDTBL(line), RTE_LEVEL | VNET_LINE_VECTOR);
	return 0;
}
