/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A second clock to check the TSC rate against over the whole measured
 * window: the HPET main counter (IA-PC HPET specification 1.0a, 2.3:
 * capabilities at 0x000 with the period in femtoseconds in bits 63:32,
 * configuration at 0x010 with ENABLE_CNF in bit 0, main counter at 0x0F0).
 * The platform calibrates the TSC once at boot over 10 ms, which a loaded
 * host skews by tens of percent under TCG; one HPET read at each end of a
 * seconds-long window is not skewed by a preemption in between.
 * q35 and pc have an HPET at 0xFED00000; microvm has none (then -ENODEV).
 */
#include <errno.h>

#include "bm.h"
#include "base/platform.h"

#define HPET_BASE     0xFED00000u
#define HPET_CAP      0x000
#define HPET_CFG      0x010
#define HPET_COUNTER  0x0F0
#define HPET_ENABLE   0x1u
/* the specification's limit: a tick of at most 100 ns */
#define HPET_MAX_FS   100000000u

static uint64_t period_fs;

static volatile void *reg(uint32_t off)
{
	return (volatile void *)(uintptr_t)(HPET_BASE + off);
}

int bm_clock_init(void)
{
	uint32_t id = vnet_read32(reg(HPET_CAP)), period = vnet_read32(reg(HPET_CAP + 4));
	uint32_t cfg;

	/* nothing there reads as all zeros or all ones */
	if (period == 0 || period > HPET_MAX_FS || (id & 0xff) == 0 || id == 0xffffffffu)
		return -ENODEV;
	cfg = vnet_read32(reg(HPET_CFG));
	if (!(cfg & HPET_ENABLE))
		vnet_write32(reg(HPET_CFG), cfg | HPET_ENABLE);
	period_fs = period;
	return 0;
}

int bm_clock_ns(uint64_t *ns)
{
	uint32_t hi, lo, hi2;
	int tries;

	if (!period_fs)
		return -ENODEV;
	/* a 64-bit counter read as two halves: retry if the high half moved */
	for (tries = 0; tries < 4; tries++) {
		hi = vnet_read32(reg(HPET_COUNTER + 4));
		lo = vnet_read32(reg(HPET_COUNTER));
		hi2 = vnet_read32(reg(HPET_COUNTER + 4));
		if (hi == hi2)
			break;
	}
	*ns = (uint64_t)(((unsigned __int128)(((uint64_t)hi << 32) | lo) * period_fs) / 1000000u);
	return 0;
}
