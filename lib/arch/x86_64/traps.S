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

/* The LAPIC timer and the NIC's MSI-X message (idle.c): end of
 * interrupt, return to the instruction after the HLT. */
	.balign 16
	.globl vnet_eoi_stub
vnet_eoi_stub:
	push %rax
	movabs $0xfee000b0, %rax      /* LAPIC EOI register */
	movl $0, (%rax)
	pop %rax
	iretq

	.balign 16
	.globl vnet_iret_stub
vnet_iret_stub:
	iretq

	.section .note.GNU-stack, "", @progbits
