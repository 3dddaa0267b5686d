/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Exception entry stubs for vectors 0-31 (SDM Vol. 3A, "Exception and
 * Interrupt Reference"). Nothing here returns: a fault in a polling
 * appliance is a bug, so the handler prints the state and exits QEMU,
 * instead of the triple fault (QEMU status 0 with -no-reboot) that an
 * empty IDT would give.
 *
 * The stubs are 16 bytes apart from vnet_trap_stubs, so C can compute
 * them. Vectors 8, 10-14, 17, 21, 29 and 30 push an error code (SDM
 * Vol. 3A, "Protected-Mode Exceptions and Interrupts" table).
 */
#include "arch.h"

	.text
	.balign 16
	.globl vnet_trap_stubs
vnet_trap_stubs:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.balign 16
	.if (\n == 8) || ((\n >= 10) && (\n <= 14)) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
	.else
	pushq $0                      /* uniform frame: fake error code */
	.endif
	pushq $\n
	jmp trap_common
	.endr

trap_common:
	/* Frame: vector, error, rip, cs, rflags, rsp, ss (rsp points at vector). */
	mov %rsp, %rdi
	and $-16, %rsp                /* the ABI's call alignment */
	call vnet_trap
1:	cli
	hlt
	jmp 1b

/* The LAPIC timer and the NIC's MSI-X message (idle.c): count the
 * interrupt in its vector's slot of vnet_irq_counts (traps.c; one CPU,
 * and these run with interrupts off, so a plain increment), end of
 * interrupt, return to the instruction after the HLT. The increment's
 * flags are restored by IRETQ. */
	.balign 16
	.globl vnet_timer_stub
vnet_timer_stub:
	incq vnet_irq_counts+8*VNET_IRQ_TIMER(%rip)
	jmp eoi_common

	.balign 16
	.globl vnet_nic_stub
vnet_nic_stub:
	incq vnet_irq_counts+8*VNET_IRQ_NIC(%rip)
eoi_common:
	push %rax
	movabs $0xfee000b0, %rax      /* LAPIC EOI register */
	movl $0, (%rax)
	pop %rax
	iretq

/* The NIC's wired line (idle.c, vnet_irq_line()): vnet_line_irq() has the
 * device lower it, counts and ends the interrupt. The caller-saved
 * general registers are saved here (vnet_idle_wait() declares the vector
 * ones clobbered). The CPU aligned the stack to 16 before its 5-word
 * frame; 9 pushes more leave it aligned for the call. */
	.balign 16
	.globl vnet_line_stub
vnet_line_stub:
	push %rax
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
	cld
	call vnet_line_irq
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	iretq

/* The spurious vector: counted, no EOI (SDM Vol. 3A, "Spurious Interrupt"). */
	.balign 16
	.globl vnet_iret_stub
vnet_iret_stub:
	incq vnet_irq_counts+8*VNET_IRQ_SPURIOUS(%rip)
	iretq

	.section .note.GNU-stack, "", @progbits
