/* SPDX-License-Identifier: BSD-3-Clause */
/* Exceptions (vectors.S): report and exit; a fault in a polling appliance
 * is a bug. The one expected trap is the semihosting exit's HLT when QEMU
 * runs without -semihosting: then power off through PSCI. IRQs go to
 * idle.c, which counts them here. */
#include <stdint.h>
#include <stdio.h>
#include <vnet/baremetal.h>

#include "arch.h"

struct trap_frame {
	uint64_t x[31];
	uint64_t elr, spsr, esr, far;
	uint64_t pad;
};
_Static_assert(sizeof(struct trap_frame) == 36 * 8, "vectors.S FRAME_SIZE");
_Static_assert(__builtin_offsetof(struct trap_frame, elr) == 248, "vectors.S layout");

void vnet_trap(const struct trap_frame *f, unsigned vector) __attribute__((noreturn));

/* ESR_ELx.EC (Arm ARM D17.2.37), the classes a bug here can raise. */
static const char *ec_name(unsigned ec)
{
	switch (ec) {
	case 0x00: return "undefined instruction";
	case 0x07: return "FP/SIMD access trapped";
	case 0x0e: return "illegal execution state";
	case 0x15: return "SVC";
	case 0x16: return "HVC";
	case 0x17: return "SMC";
	case 0x18: return "system register access trapped";
	case 0x20: case 0x21: return "instruction abort";
	case 0x22: return "PC alignment fault";
	case 0x24: case 0x25: return "data abort";
	case 0x26: return "SP alignment fault";
	case 0x2f: return "SError";
	case 0x3c: return "BRK";
	default: return "other";
	}
}

void vnet_trap(const struct trap_frame *f, unsigned vector)
{
	static const char *const kinds[4] = {"synchronous", "IRQ", "FIQ", "SError"};
	unsigned ec = (unsigned)(f->esr >> 26) & 0x3f;

	if (vector == 4 && ec == 0x00 && f->elr == (uintptr_t)vnet_semihost_insn)
		vnet_exit_psci();
	printf("\nvnet: CPU exception %u (%s, %s) esr=%#lx\n"
	       "  elr=%#018lx far=%#018lx spsr=%#lx sp=%#lx lr=%#lx\n",
	       ec, kinds[vector & 3], ec_name(ec), f->esr, f->elr, f->far, f->spsr,
	       (uint64_t)(uintptr_t)(f + 1), f->x[30]);
	vnet_exit(VNET_EXIT_CRASH);
}
