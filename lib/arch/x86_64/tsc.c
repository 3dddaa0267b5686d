/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TSC rate, measured once at boot against the 8254 PIT (1.193182 MHz).
 * Under QEMU TCG the TSC follows the host's and the PIT follows QEMU's
 * virtual clock (host time), so neither CPUID nor a constant is right:
 * measure.
 *
 * 1. Channel 2, gated through port 0x61 (bit 0 gate, bit 5 OUT2; the PC/AT
 *    speaker port): mode 0 drives OUT2 high when the count runs out.
 * 2. Machines without port 0x61 (QEMU microvm has a PIT but no speaker
 *    port, so channel 2's gate is stuck low): free-running channel 0, with
 *    elapsed ticks summed from latched counter reads.
 * 3. Neither counts: CPUID leaf 0x15/0x16, else a fixed guess, with a log.
 *
 * Each measurement is bounded by an iteration count, and three are taken
 * and the median kept, as host preemption under TCG skews single runs.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "arch.h"
#include "base/platform.h"

#define PIT_HZ        1193182u
#define PIT_CH0       0x40
#define PIT_CH2       0x42
#define PIT_CMD       0x43
#define PORT_B        0x61 /* NMI status and control: gate2, speaker, OUT2 */
#define PORT_B_GATE2  0x01
#define PORT_B_SPKR   0x02
#define PORT_B_OUT2   0x20

#define CAL_MS        10
#define CAL_TICKS     (PIT_HZ * CAL_MS / 1000)
#define CAL_RUNS      3
/* A PIT read is a few microseconds under TCG, well under one on hardware:
 * this bounds one 10 ms measurement to seconds in the worst case. */
#define CAL_SPIN_LIMIT 5000000u
#define FALLBACK_HZ   2000000000ull

uint64_t vnet_tsc_hz;
const char *vnet_tsc_source = "none";

/* One run on channel 2: TSC cycles across CAL_TICKS PIT ticks. */
static int measure_ch2(uint64_t *cycles)
{
	uint8_t b = vnet_inb(PORT_B);
	uint64_t t0, t1;
	unsigned i;

	if (b == 0xff)
		return -ENODEV; /* nothing decodes port 0x61 */
	vnet_outb(PORT_B, b & (uint8_t)~(PORT_B_GATE2 | PORT_B_SPKR));
	vnet_outb(PIT_CMD, 0xb0);                 /* ch2, lo/hi byte, mode 0, binary */
	vnet_outb(PIT_CH2, CAL_TICKS & 0xff);
	vnet_outb(PIT_CH2, CAL_TICKS >> 8);
	/* Mode 0 drives OUT2 low on the control word; if it reads high the
	 * port is not wired to channel 2. */
	if (vnet_inb(PORT_B) & PORT_B_OUT2) {
		vnet_outb(PORT_B, b);
		return -ENODEV;
	}
	vnet_outb(PORT_B, (b & (uint8_t)~PORT_B_SPKR) | PORT_B_GATE2); /* start */
	t0 = vnet_rdtsc();
	for (i = 0; i < CAL_SPIN_LIMIT; i++)
		if (vnet_inb(PORT_B) & PORT_B_OUT2)
			break;
	t1 = vnet_rdtsc();
	vnet_outb(PORT_B, b);
	if (i == CAL_SPIN_LIMIT)
		return -ETIMEDOUT;
	*cycles = t1 - t0;
	return 0;
}

static uint16_t ch0_read(void)
{
	uint8_t lo, hi;

	vnet_outb(PIT_CMD, 0x00); /* latch channel 0's count */
	lo = vnet_inb(PIT_CH0);
	hi = vnet_inb(PIT_CH0);
	return (uint16_t)(lo | hi << 8);
}

/* One run on channel 0 (mode 2, reload 65536): sum the count's decrements.
 * Reads are far closer together than one 55 ms wrap, so the 16-bit
 * difference is exact. */
static int measure_ch0(uint64_t *cycles)
{
	uint32_t ticks = 0;
	uint16_t prev, now;
	uint64_t t0, t1;
	unsigned i;

	vnet_outb(PIT_CMD, 0x34); /* ch0, lo/hi byte, mode 2, binary */
	vnet_outb(PIT_CH0, 0);
	vnet_outb(PIT_CH0, 0);
	/* Start on a tick edge so the partial first tick does not count. */
	prev = ch0_read();
	for (i = 0; i < CAL_SPIN_LIMIT; i++) {
		now = ch0_read();
		if (now != prev)
			break;
	}
	if (i == CAL_SPIN_LIMIT)
		return -ETIMEDOUT;
	t0 = vnet_rdtsc();
	prev = now;
	for (i = 0; i < CAL_SPIN_LIMIT && ticks < CAL_TICKS; i++) {
		now = ch0_read();
		ticks += (uint16_t)(prev - now);
		prev = now;
	}
	t1 = vnet_rdtsc();
	if (ticks < CAL_TICKS)
		return -ETIMEDOUT;
	/* Scale to exactly CAL_TICKS: the loop may overshoot by a read. */
	*cycles = (t1 - t0) * CAL_TICKS / ticks;
	return 0;
}

static uint64_t median3(uint64_t a, uint64_t b, uint64_t c)
{
	if (a > b) {
		uint64_t t = a;

		a = b;
		b = t;
	}
	if (b > c)
		b = c;
	return a > b ? a : b;
}

static int pit_calibrate(int (*measure)(uint64_t *), uint64_t *hz)
{
	uint64_t c[CAL_RUNS];

	for (int i = 0; i < CAL_RUNS; i++)
		if (measure(&c[i]) != 0)
			return -ETIMEDOUT;
	*hz = median3(c[0], c[1], c[2]) * PIT_HZ / CAL_TICKS;
	return 0;
}

/* CPUID 0x15 (TSC/crystal ratio) and 0x16 (base MHz), Intel SDM Vol. 2A
 * CPUID; TCG's default CPU models stop below leaf 0x15. */
static uint64_t cpuid_hz(void)
{
	unsigned a, b, c, d, max = __get_cpuid_max(0, NULL);

	if (max >= 0x15) {
		__cpuid(0x15, a, b, c, d);
		if (a && b && c)
			return (uint64_t)c * b / a;
	}
	if (max >= 0x16) {
		__cpuid(0x16, a, b, c, d);
		if (a & 0xffff)
			return (uint64_t)(a & 0xffff) * 1000000;
	}
	return 0;
}

void vnet_tsc_calibrate(void)
{
	uint64_t hz = 0;

	_Static_assert(CAL_RUNS == 3, "median3");
	if (pit_calibrate(measure_ch2, &hz) == 0) {
		vnet_tsc_source = "pit-ch2";
	} else if (pit_calibrate(measure_ch0, &hz) == 0) {
		vnet_tsc_source = "pit-ch0";
	} else if ((hz = cpuid_hz()) != 0) {
		vnet_tsc_source = "cpuid";
		printf("vnet: PIT does not count; TSC rate from CPUID\n");
	} else {
		hz = FALLBACK_HZ;
		vnet_tsc_source = "guess";
		printf("vnet: PIT does not count, no CPUID leaf 0x15/0x16; assuming a 2 GHz TSC\n");
	}
	vnet_tsc_hz = hz;
}
