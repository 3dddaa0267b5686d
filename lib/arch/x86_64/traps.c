/* SPDX-License-Identifier: BSD-3-Clause */
/* An IDT whose 32 exception gates report and exit (see traps.S), and the
 * four interrupt vectors of vnet_idle_wait() (idle.c), each counted by
 * its handler (vnet_irq_stats()). */
#include <stdint.h>
#include <stdio.h>
#include <vnet/baremetal.h>

#include "arch.h"

/* 64-bit interrupt gate (SDM Vol. 3A, "64-Bit Mode IDT"). */
struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type; /* P=1, DPL=0, type 0xE: interrupt gate */
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate is 16 bytes");

struct trap_frame {
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

extern char vnet_trap_stubs[], vnet_timer_stub[], vnet_nic_stub[], vnet_line_stub[], vnet_iret_stub[];
void vnet_trap(const struct trap_frame *f) __attribute__((noreturn));

static struct idt_gate idt[256] __attribute__((aligned(16)));

static struct idt_gate gate(uintptr_t a)
{
	return (struct idt_gate){
		.off_lo = (uint16_t)a,
		.sel = 0x08, /* boot.S's 64-bit code segment */
		.type = 0x8e,
		.off_mid = (uint16_t)(a >> 16),
		.off_hi = (uint32_t)(a >> 32),
	};
}

void vnet_traps_init(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr = { sizeof(idt) - 1, (uintptr_t)idt };

	for (unsigned i = 0; i < 32; i++)
		idt[i] = gate((uintptr_t)vnet_trap_stubs + 16 * i);
	/* Interrupts are on only inside vnet_idle_wait()'s halt: the handlers
	 * count, acknowledge and return; the halted loop then looks at its
	 * rings. A spurious interrupt takes no EOI (SDM Vol. 3A, "Spurious
	 * Interrupt"). */
	idt[VNET_TIMER_VECTOR] = gate((uintptr_t)vnet_timer_stub);
	idt[VNET_NIC_VECTOR] = gate((uintptr_t)vnet_nic_stub);
	idt[VNET_LINE_VECTOR] = gate((uintptr_t)vnet_line_stub);
	idt[VNET_SPURIOUS_VECTOR] = gate((uintptr_t)vnet_iret_stub);
	__asm__ __volatile__("lidt %0" : : "m"(idtr));
}

void vnet_trap(const struct trap_frame *f)
{
	static const char *const names[32] = {
		"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
		"#BR bound", "#UD invalid opcode", "#NM no FPU", "#DF double fault", "coprocessor",
		"#TS invalid TSS", "#NP segment not present", "#SS stack fault",
		"#GP general protection", "#PF page fault", "reserved", "#MF x87 error",
		"#AC alignment check", "#MC machine check", "#XM SIMD exception",
		"#VE virtualization", "#CP control protection",
	};
	const char *name = f->vector < 32 && names[f->vector] ? names[f->vector] : "reserved";
	uint64_t cr2;

	__asm__ __volatile__("mov %%cr2, %0" : "=r"(cr2));
	printf("\nvnet: CPU exception %lu (%s) error=%#lx\n"
	       "  rip=%#018lx rsp=%#018lx rflags=%#lx cr2=%#lx\n",
	       f->vector, name, f->error, f->rip, f->rsp, f->rflags, cr2);
	vnet_exit(VNET_EXIT_CRASH);
}
