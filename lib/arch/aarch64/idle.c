/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vnet_idle_wait() on QEMU's virt machine: WFI until an interrupt - the
 * NIC's wired line (vnet_irq_line(), a GIC shared peripheral interrupt) or
 * the generic timer's virtual timer (Arm ARM D11.2.4; its PPI, INTID 27),
 * whichever comes first. virt gives a GICv2 by default (its device tree:
 * "arm,cortex-a15-gic", distributor then CPU interface; GICv2 Architecture
 * Specification, IHI 0048B, chapter 4). WFI waits with IRQs masked
 * (PSTATE.I) and still wakes for a pending one (Arm ARM D1.16.2); they are
 * unmasked after it, so the interrupt is taken there and an interrupt
 * that became pending before the WFI ends it at once, the way x86's
 * "sti; hlt" does. The handler (vnet_irq_dispatch(), from vectors.S)
 * counts per source (vnet_irq_stats()), has the device lower its line,
 * and ends the interrupt.
 *
 * PCI devices interrupt by MSI-X through virt's GICv2m frame ("arm,gic-
 * v2m-frame"; Arm Server Base System Architecture, appendix "GICv2m"): a
 * write of an SPI's INTID to its MSI_SETSPI_NS register makes that SPI
 * pending, an edge, so nothing needs lowering.
 */
#include <errno.h>
#include <stdint.h>
#include <vnet/baremetal.h>

#include "arch.h"
#include "arch/virt/virt.h"
#include "base/platform.h"

#define GICD_CTLR 0x000
#define GICD_TYPER 0x004
#define GICD_ISENABLER(n) (0x100u + 4u * (n))
#define GICD_ICENABLER(n) (0x180u + 4u * (n))
#define GICD_IPRIORITYR 0x400 /* one byte per INTID */
#define GICD_ITARGETSR 0x800  /* one byte per INTID */
#define GICD_ICFGR(n) (0xc00u + 4u * (n))
#define GICC_CTLR 0x00
#define GICC_PMR 0x04
#define GICC_IAR 0x0c
#define GICC_EOIR 0x10
#define V2M_MSI_TYPER 0x008    /* bits 16-25: first SPI's INTID; 0-9: how many */
#define V2M_MSI_SETSPI_NS 0x040
#define INTID_SPURIOUS 1020 /* 1020-1023: nothing to acknowledge */
#define TIMER_INTID 27      /* the virtual timer's PPI on virt */
#define PRIO 0x80
#define CNTV_ENABLE 1u

static int gic_state; /* 0: not set up, 1: set up, -1: no GICv2 */
static uint32_t line_no = UINT32_MAX;
static uint32_t msi_spi = UINT32_MAX; /* the GICv2m SPI virt_msi() gave out */
static void (*line_ack)(void *arg);
static void *line_arg;

static volatile uint8_t *dist(uint32_t off)
{
	return (volatile uint8_t *)(uintptr_t)virt.gic_dist + off;
}

static volatile uint8_t *cpu(uint32_t off)
{
	return (volatile uint8_t *)(uintptr_t)virt.gic_cpu + off;
}

static void cntv_ctl(uint64_t v)
{
	__asm__ __volatile__("msr cntv_ctl_el0, %0\n\tisb" : : "r"(v));
}

static void enable(uint32_t intid)
{
	vnet_write8(dist(GICD_IPRIORITYR + intid), PRIO);
	vnet_write32(dist(GICD_ISENABLER(intid / 32)), 1u << (intid % 32));
}

/* A shared peripheral interrupt to this CPU (its own mask reads from any
 * of the first 32 target bytes), level-sensitive or edge-triggered. */
static void route_spi(uint32_t intid, int edge)
{
	uint32_t shift = 2 * (intid % 16), cfg = vnet_read32(dist(GICD_ICFGR(intid / 16)));

	cfg = edge ? cfg | 2u << shift : cfg & ~(2u << shift);
	vnet_write32(dist(GICD_ICFGR(intid / 16)), cfg);
	vnet_write8(dist(GICD_ITARGETSR + intid), vnet_read8(dist(GICD_ITARGETSR)));
	enable(intid);
}

/* The distributor and this CPU's interface on, every priority let
 * through, the timer's PPI enabled (its target is this CPU by nature). */
static int gic_setup(void)
{
	if (gic_state == 0) {
		gic_state = -1;
		if (!virt.gic_dist || !virt.gic_cpu)
			return -ENODEV;
		cntv_ctl(0);
		vnet_write32(dist(GICD_CTLR), 1);
		vnet_write32(cpu(GICC_PMR), 0xff);
		vnet_write32(cpu(GICC_CTLR), 1);
		enable(TIMER_INTID);
		gic_state = 1;
	}
	return gic_state > 0 ? 0 : -ENODEV;
}

/* The IRQ vector (vectors.S): one interrupt, acknowledged at the CPU
 * interface, its source quietened, then ended. */
void vnet_irq_dispatch(void)
{
	uint32_t iar = vnet_read32(cpu(GICC_IAR)), intid = iar & 0x3ff;

	if (intid >= INTID_SPURIOUS) {
		vnet_irq_counts[VNET_IRQ_SPURIOUS]++;
		return;
	}
	if (intid == TIMER_INTID) {
		cntv_ctl(0); /* the timer's output is a level: off with it */
		vnet_irq_counts[VNET_IRQ_TIMER]++;
	} else if (intid == msi_spi) {
		vnet_irq_counts[VNET_IRQ_NIC]++; /* an edge: nothing to lower */
	} else if (intid == line_no && line_ack) {
		line_ack(line_arg); /* level: the device must lower it first */
		vnet_irq_counts[VNET_IRQ_NIC]++;
	} else {
		vnet_irq_counts[VNET_IRQ_SPURIOUS]++;
	}
	vnet_write32(cpu(GICC_EOIR), iar);
}

int vnet_irq_line(uint32_t line, void (*ack)(void *arg), void *arg)
{
	uint32_t lines;

	if (gic_setup())
		return -ENODEV;
	lines = 32 * ((vnet_read32(dist(GICD_TYPER)) & 0x1f) + 1);
	if (line < 32 || line >= lines || line >= INTID_SPURIOUS || line == msi_spi)
		return -EINVAL; /* shared peripheral interrupts only */
	vnet_write32(dist(GICD_ICENABLER(line / 32)), 1u << (line % 32));
	line_no = line;
	line_ack = ack;
	line_arg = arg;
	if (!ack)
		return 0;
	route_spi(line, 0); /* level: the device holds it until acknowledged */
	return 0;
}

/* The first SPI of the GICv2m frame, edge-triggered, for the NIC's MSI-X
 * entry (vnet_machine()). */
void virt_msi(struct vnet_machine *m)
{
	uint32_t typer, spi;

	if (!virt.gic_v2m || gic_setup())
		return;
	typer = vnet_read32((volatile uint8_t *)(uintptr_t)virt.gic_v2m + V2M_MSI_TYPER);
	spi = (typer >> 16) & 0x3ff;
	if ((typer & 0x3ff) == 0 || spi < 32 || spi >= INTID_SPURIOUS)
		return;
	msi_spi = spi;
	route_spi(spi, 1);
	m->msi_addr = virt.gic_v2m + V2M_MSI_SETSPI_NS;
	m->msi_data = spi;
}

int vnet_idle_wait(uint32_t max_us)
{
	uint64_t ticks, timer_before;

	if (gic_setup())
		return -1;
	if (max_us == 0)
		return 0;
	ticks = (uint64_t)max_us * vnet_cycles_hz() / 1000000u;
	timer_before = vnet_irq_counts[VNET_IRQ_TIMER];
	__asm__ __volatile__("msr cntv_tval_el0, %0" : : "r"(ticks > INT32_MAX ? (uint64_t)INT32_MAX : ticks));
	cntv_ctl(CNTV_ENABLE);
	/* The handler calls C (the device's ack): the SIMD registers it may
	 * use are declared clobbered here, the general ones it saves itself. */
	__asm__ __volatile__("dsb sy\n\twfi\n\tmsr daifclr, #2\n\tisb\n\tmsr daifset, #2"
	                     ::: "memory", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9",
	                     "v10", "v11", "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20",
	                     "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31");
	cntv_ctl(0);
	return vnet_irq_counts[VNET_IRQ_TIMER] != timer_before ? 1 : 0;
}
