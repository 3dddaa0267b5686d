/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * riscv64 entry, for QEMU -machine virt -kernel with OpenSBI (QEMU's
 * default -bios, fw_dynamic). OpenSBI enters the image's ELF entry in
 * S-mode with a0 = hart id, a1 = the device tree, satp = 0 (no address
 * translation: RISC-V has no cacheability attributes in page tables
 * without Svpbmt, so identity through "Bare" mode is all we need).
 *
 * This stub masks interrupts, turns the FPU on (sstatus.FS; the lp64d ABI
 * and gcc's copies use it), sets gp for linker relaxation, installs the
 * trap vector, clears .bss and calls vnet_arch_start(dtb, hart).
 * (RISC-V Privileged Architecture 20211203, 4.1 "Supervisor CSRs".)
 */
#define SSTATUS_SIE      (1 << 1)
#define SSTATUS_FS_INIT  (1 << 13)
#define STACK_SIZE       (128 * 1024)
#define FRAME_SIZE       (36 * 8) /* x0-x31, sepc, sstatus, scause, stval */

	.section .text.boot, "ax", @progbits
	.globl _start
	.type _start, @function
_start:
	csrw	sie, zero
	csrci	sstatus, SSTATUS_SIE
	li	t0, SSTATUS_FS_INIT
	csrs	sstatus, t0
	fscsr	zero
	.option push
	.option norelax
	la	gp, __global_pointer$
	.option pop
	la	t0, vnet_trap_entry
	csrw	stvec, t0
	la	t0, vnet_bss_start       /* 16-byte aligned by linker.ld */
	la	t1, vnet_bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	sd	zero, 8(t0)
	addi	t0, t0, 16
	j	1b
2:	la	sp, boot_stack_top
	mv	s0, zero                 /* end of the frame chain */
	mv	t0, a0
	mv	a0, a1
	mv	a1, t0
	call	vnet_arch_start
3:	wfi
	j	3b
	.size _start, . - _start

/* Traps (direct mode: stvec is 4-byte aligned): save everything. An
 * interrupt (scause's top bit), taken only inside vnet_idle_wait()
 * (idle.c), goes to vnet_irq_dispatch() and returns to sepc with every
 * register restored; anything else is unexpected, and traps.c reports and
 * exits. */
	.text
	.balign 4
	.globl vnet_trap_entry
vnet_trap_entry:
	addi	sp, sp, -FRAME_SIZE
	.irp r, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	sd	x\r, (\r * 8)(sp)
	.endr
	addi	t0, sp, FRAME_SIZE
	sd	t0, (2 * 8)(sp)          /* sp before the trap */
	csrr	t0, sepc
	sd	t0, (32 * 8)(sp)
	csrr	t0, sstatus
	sd	t0, (33 * 8)(sp)
	csrr	t0, scause
	sd	t0, (34 * 8)(sp)
	csrr	t0, stval
	sd	t0, (35 * 8)(sp)
	ld	t0, (34 * 8)(sp)
	bltz	t0, 5f                   /* an interrupt */
	mv	a0, sp
	call	vnet_trap
4:	wfi                              /* not reached: vnet_trap exits */
	j	4b
5:	mv	a0, t0
	call	vnet_irq_dispatch
	.irp r, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ld	x\r, (\r * 8)(sp)
	.endr
	addi	sp, sp, FRAME_SIZE
	sret

	.section .bss
	.balign 16
boot_stack:
	.skip STACK_SIZE
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
