/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vnet_idle_wait() on QEMU's virt machine, in S-mode under OpenSBI: WFI
 * until an interrupt - the NIC's wired line (vnet_irq_line(), a PLIC
 * source: the supervisor external interrupt) or the supervisor timer set
 * through SBI (its TIME extension, RISC-V SBI specification v1.0, 6),
 * whichever comes first. Both are enabled in sie (SEIE, STIE); WFI waits
 * with sstatus.SIE clear and still resumes for a locally enabled pending
 * interrupt (Privileged Architecture 3.3.3 "Wait for Interrupt"); SIE is
 * set after it, so the interrupt is taken there and one that became
 * pending before the WFI ends it at once, as x86's "sti; hlt" does. The
 * handler (vnet_irq_dispatch(), from boot.S's trap entry) counts per
 * source (vnet_irq_stats()), claims the PLIC's interrupt, has the device
 * lower its line and completes it (SiFive's PLIC as QEMU models it, the
 * RISC-V PLIC specification 1.0: priorities, per-context enables,
 * threshold, claim/complete).
 */
#include <errno.h>
#include <stdint.h>
#include <vnet/baremetal.h>

#include "arch.h"
#include "arch/virt/virt.h"
#include "base/platform.h"

#define PLIC_PRIORITY(src) (4u * (src))
#define PLIC_ENABLE(ctx, src) (0x2000u + 0x80u * (ctx) + 4u * ((src) / 32))
#define PLIC_THRESHOLD(ctx) (0x200000u + 0x1000u * (ctx))
#define PLIC_CLAIM(ctx) (0x200004u + 0x1000u * (ctx))
#define PLIC_SOURCES 1024u /* source 0 is "none" */

#define SIE_STIE (1ul << 5)
#define SIE_SEIE (1ul << 9)
#define SSTATUS_SIE (1ul << 1)
#define CAUSE_S_TIMER 5
#define CAUSE_S_EXTERNAL 9

#define SBI_EXT_TIME 0x54494d45
#define SBI_LEGACY_SET_TIMER 0x00

static int plic_state; /* 0: not set up, 1: set up, -1: no PLIC */
static uint32_t line_no;  /* 0: none */
static void (*line_ack)(void *arg);
static void *line_arg;

static volatile uint8_t *plic(uint32_t off)
{
	return (volatile uint8_t *)(uintptr_t)virt.plic + off;
}

/* The next supervisor timer interrupt at @when (time CSR ticks); a new
 * value also clears a pending one. Firmware older than SBI 0.2 has only
 * the legacy call. */
static void set_timer(uint64_t when)
{
	if (vnet_sbi_call(SBI_EXT_TIME, 0, when, 0) < 0)
		vnet_sbi_call(SBI_LEGACY_SET_TIMER, 0, when, 0);
}

/* Every priority let through for this hart's S-mode context; the timer
 * and external interrupts enabled locally (they are taken only where
 * sstatus.SIE is set, inside vnet_idle_wait()). */
static int plic_setup(void)
{
	if (plic_state == 0) {
		plic_state = -1;
		if (!virt.plic)
			return -ENODEV;
		set_timer(UINT64_MAX);
		vnet_write32(plic(PLIC_THRESHOLD(virt.plic_ctx)), 0);
		__asm__ __volatile__("csrs sie, %0" : : "r"(SIE_STIE | SIE_SEIE));
		plic_state = 1;
	}
	return plic_state > 0 ? 0 : -ENODEV;
}

static void external(void)
{
	uint32_t src = vnet_read32(plic(PLIC_CLAIM(virt.plic_ctx)));

	if (src == 0) { /* another context claimed it, or it went away */
		vnet_irq_counts[VNET_IRQ_SPURIOUS]++;
		return;
	}
	if (src == line_no && line_ack) {
		line_ack(line_arg); /* level: the device must lower it first */
		vnet_irq_counts[VNET_IRQ_NIC]++;
	} else {
		vnet_irq_counts[VNET_IRQ_SPURIOUS]++;
	}
	vnet_write32(plic(PLIC_CLAIM(virt.plic_ctx)), src); /* complete */
}

void vnet_irq_dispatch(uint64_t scause)
{
	switch (scause & ~(1ull << 63)) {
	case CAUSE_S_TIMER:
		set_timer(UINT64_MAX);
		vnet_irq_counts[VNET_IRQ_TIMER]++;
		break;
	case CAUSE_S_EXTERNAL:
		external();
		break;
	default:
		vnet_irq_counts[VNET_IRQ_SPURIOUS]++;
		break;
	}
}

int vnet_irq_line(uint32_t line, void (*ack)(void *arg), void *arg)
{
	volatile uint8_t *en;

	if (plic_setup())
		return -ENODEV;
	if (line == 0 || line >= PLIC_SOURCES)
		return -EINVAL;
	en = plic(PLIC_ENABLE(virt.plic_ctx, line));
	vnet_write32(en, vnet_read32(en) & ~(1u << (line % 32)));
	line_no = line;
	line_ack = ack;
	line_arg = arg;
	if (!ack)
		return 0;
	vnet_write32(plic(PLIC_PRIORITY(line)), 1);
	vnet_write32(en, vnet_read32(en) | 1u << (line % 32));
	return 0;
}

int vnet_idle_wait(uint32_t max_us)
{
	uint64_t timer_before;

	if (plic_setup())
		return -1;
	if (max_us == 0)
		return 0;
	timer_before = vnet_irq_counts[VNET_IRQ_TIMER];
	set_timer(vnet_arch_counter() + (uint64_t)max_us * vnet_cycles_hz() / 1000000u);
	/* The handler calls C (the device's ack): the floating-point
	 * registers it may use are declared clobbered here; the trap entry
	 * saves the integer ones. */
	__asm__ __volatile__("wfi\n\tcsrs sstatus, %0\n\tcsrc sstatus, %0"
	                     : : "r"(SSTATUS_SIE)
	                     : "memory", "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10",
	                       "f11", "f12", "f13", "f14", "f15", "f16", "f17", "f18", "f19", "f20", "f21",
	                       "f22", "f23", "f24", "f25", "f26", "f27", "f28", "f29", "f30", "f31");
	if (vnet_irq_counts[VNET_IRQ_TIMER] != timer_before)
		return 1;
	set_timer(UINT64_MAX); /* woken early: stop the timer */
	return 0;
}

/* QEMU's riscv64 virt with its default PLIC (no AIA IMSIC) has nowhere to
 * send an MSI: PCI devices keep MSI-X off (msi_addr 0) and never wake a
 * halt; virtio-mmio's wired line does. */
void virt_msi(struct vnet_machine *m)
{
	m->msi_addr = 0;
	m->msi_data = 0;
}
