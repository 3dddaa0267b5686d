/* SPDX-License-Identifier: BSD-3-Clause */
/* Traps (boot.S, vnet_trap_entry): report and exit; a trap in a polling
 * appliance is a bug. OpenSBI delegates most exceptions to S-mode and
 * redirects the others it does not handle itself. Interrupts go to
 * idle.c, which counts them here. */
#include <stdint.h>
#include <stdio.h>
#include <vnet/baremetal.h>

#include "arch.h"

struct trap_frame {
	uint64_t x[32]; /* x[0] unused, x[2] the sp before the trap */
	uint64_t sepc, sstatus, scause, stval;
};
_Static_assert(sizeof(struct trap_frame) == 36 * 8, "boot.S FRAME_SIZE");

void vnet_trap(const struct trap_frame *f) __attribute__((noreturn));

/* scause exception codes (Privileged Architecture 4.1.9, table 4.2). */
static const char *cause_name(uint64_t c)
{
	static const char *const names[16] = {
		"instruction address misaligned", "instruction access fault",
		"illegal instruction", "breakpoint", "load address misaligned",
		"load access fault", "store address misaligned", "store access fault",
		"ecall from U-mode", "ecall from S-mode", "reserved", "reserved",
		"instruction page fault", "load page fault", "reserved", "store page fault",
	};

	return c < 16 ? names[c] : "other";
}

void vnet_trap(const struct trap_frame *f)
{
	uint64_t code = f->scause & ~(1ull << 63);
	int irq = (int)(f->scause >> 63);

	printf("\nvnet: CPU exception %lu (%s%s) stval=%#lx\n"
	       "  sepc=%#018lx sp=%#lx ra=%#lx sstatus=%#lx\n",
	       code, irq ? "interrupt " : "", irq ? "" : cause_name(code), f->stval, f->sepc,
	       f->x[2], f->x[1], f->sstatus);
	vnet_exit(VNET_EXIT_CRASH);
}
