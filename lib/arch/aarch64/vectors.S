/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The EL1 exception vector table (Arm ARM D1.10.2, "Exception vectors"):
 * 16 entries of 128 bytes, 2 KiB aligned. The one expected entry is an
 * IRQ at the current EL (5), taken only inside vnet_idle_wait() (idle.c):
 * it saves the caller-saved registers, calls vnet_irq_dispatch() and
 * returns. Every other entry saves the registers and the syndrome, and
 * traps.c reports and exits. Entry index:
 * 0-3 current EL with SP_EL0, 4-7 current EL with SP_ELx (ours), 8-15
 * lower ELs; within each group synchronous, IRQ, FIQ, SError.
 */
#define FRAME_SIZE (36 * 8) /* x0-x30, elr, spsr, esr, far, pad */

	.section .text.vectors, "ax"
	.balign 2048
	.globl vnet_vectors
vnet_vectors:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	.balign 128
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp, #0]
	.if \n == 5
	b	irq_common
	.else
	mov	x0, #\n
	b	trap_common
	.endif
	.endr

/* An IRQ (the frame as trap_common's, x0-x18 and x30 filled): the
 * handler, then back to where vnet_idle_wait() unmasked IRQs. No other
 * exception can come in between (IRQs are masked on entry, and any
 * synchronous one ends the program), so ELR and SPSR stay as they are. */
irq_common:
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x30, [sp, #144]
	bl	vnet_irq_dispatch
	ldp	x18, x30, [sp, #144]
	ldp	x16, x17, [sp, #128]
	ldp	x14, x15, [sp, #112]
	ldp	x12, x13, [sp, #96]
	ldp	x10, x11, [sp, #80]
	ldp	x8, x9, [sp, #64]
	ldp	x6, x7, [sp, #48]
	ldp	x4, x5, [sp, #32]
	ldp	x2, x3, [sp, #16]
	ldp	x0, x1, [sp, #0]
	add	sp, sp, #FRAME_SIZE
	eret

trap_common:
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	mrs	x1, elr_el1
	stp	x30, x1, [sp, #240]
	mrs	x1, spsr_el1
	mrs	x2, esr_el1
	stp	x1, x2, [sp, #256]
	mrs	x1, far_el1
	str	x1, [sp, #272]
	mov	x1, x0                  /* the vector index */
	mov	x0, sp                  /* struct trap_frame * */
	bl	vnet_trap
1:	wfe                             /* not reached: vnet_trap exits */
	b	1b

	.section .note.GNU-stack, "", %progbits
