/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PVH entry (Xen docs/misc/pvh.pandoc): QEMU's -kernel loader finds the
 * XEN_ELFNOTE_PHYS32_ENTRY note and enters _start in 32-bit protected mode,
 * paging off, flat segments, %ebx = physical address of hvm_start_info.
 *
 * This stub goes to long mode (Intel SDM Vol. 3A, "Initializing IA-32e
 * Mode"): identity-map 0-4 GiB with 2 MiB pages, CR4.PAE, CR3,
 * EFER.LME, CR0.PG, then a far jump into a 64-bit code segment. It enables
 * SSE so that ordinary -O2 code (and the x86_64 SysV ABI) works, and calls
 * vnet_arch_start(start_info). Interrupts are never enabled.
 */

#define CR0_PE         (1 << 0)
#define CR0_MP         (1 << 1)
#define CR0_EM         (1 << 2)
#define CR0_TS         (1 << 3)
#define CR0_NE         (1 << 5)
#define CR0_NW         (1 << 29)
#define CR0_CD         (1 << 30)
#define CR0_PG         (1 << 31)
#define CR4_PAE        (1 << 5)
#define CR4_OSFXSR     (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER       0xc0000080
#define EFER_LME       (1 << 8)

#define PTE_P          0x001
#define PTE_RW         0x002
#define PTE_PWT        0x008
#define PTE_PCD        0x010
#define PTE_PS         0x080 /* 2 MiB page in a PD entry */

#define SEL_CODE64     0x08
#define SEL_DATA       0x10

#define STACK_SIZE     (128 * 1024)

/* ELF note: namesz, descsz, type, "Xen", then the 32-bit entry address. QEMU
 * reads the descriptor as 64 bits for an ELF64 image, hence the .quad. */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4
	.long 8
	.long 18                      /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.quad _start
	.balign 4

	.section .text.boot, "ax", @progbits
	.code32
	.globl _start
	.type _start, @function
_start:
	cli
	cld
	mov %ebx, %esi                /* start_info: %esi survives to the C call */

	/* Zero .bss first: the page tables and the stack live there. */
	mov $vnet_bss_start, %edi
	mov $vnet_bss_end, %ecx
	sub %edi, %ecx
	shr $2, %ecx
	xor %eax, %eax
	rep stosl

	/* PML4[0] -> PDPT; PDPT[0..3] -> four PDs (1 GiB each). */
	mov $boot_pdpt + (PTE_P | PTE_RW), %eax
	mov %eax, boot_pml4
	mov $boot_pd + (PTE_P | PTE_RW), %eax
	xor %ecx, %ecx
1:	mov %eax, boot_pdpt(, %ecx, 8)
	add $0x1000, %eax
	inc %ecx
	cmp $4, %ecx
	jb 1b

	/* 2048 PD entries of 2 MiB. From 3 GiB up is the PCI/MMIO hole (the
	 * LAPIC, IOAPIC, virtio-mmio windows, BARs): map it uncached, PCD|PWT
	 * (SDM Vol. 3A, "Page Attribute Table"). */
	mov $(PTE_P | PTE_RW | PTE_PS), %eax
	xor %ecx, %ecx
2:	mov %eax, %edx
	cmp $1536, %ecx
	jb 3f
	or $(PTE_PCD | PTE_PWT), %edx
3:	mov %edx, boot_pd(, %ecx, 8)  /* high dwords stay 0 from the .bss clear */
	add $0x200000, %eax
	inc %ecx
	cmp $2048, %ecx
	jb 2b

	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $boot_pml4, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	/* Paging on with LME set activates IA-32e mode; make sure caching is
	 * on too (CD/NW are unspecified at PVH entry). */
	mov %cr0, %eax
	and $~(CR0_CD | CR0_NW), %eax
	or $(CR0_PG | CR0_PE), %eax
	mov %eax, %cr0

	lgdt boot_gdtr
	ljmp $SEL_CODE64, $start64

	.code64
start64:
	mov $SEL_DATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %eax, %fs
	mov %eax, %gs
	mov $boot_stack_top, %rsp     /* 16-byte aligned before the call */

	/* x87/SSE (SDM Vol. 3A, "Initializing SSE/SSE2/SSE3/SSSE3
	 * Extensions"): EM=0, MP=1, TS=0, NE=1; OSFXSR and OSXMMEXCPT. */
	mov %cr0, %rax
	and $~(CR0_EM | CR0_TS), %rax
	or $(CR0_MP | CR0_NE), %rax
	mov %rax, %cr0
	mov %cr4, %rax
	or $(CR4_OSFXSR | CR4_OSXMMEXCPT), %rax
	mov %rax, %cr4
	fninit
	ldmxcsr boot_mxcsr

	xor %ebp, %ebp                /* end of the frame chain for debuggers */
	mov %esi, %edi
	call vnet_arch_start
4:	cli                           /* not reached: vnet_arch_start exits */
	hlt
	jmp 4b
	.size _start, . - _start

	.section .data                /* the CPU sets descriptors' accessed bits */
	.balign 16
	/* Flat segments: 0x08 64-bit code (L=1), 0x10 data
	 * (SDM Vol. 3A, "Segment Descriptors"). */
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff
	.quad 0x00cf92000000ffff
boot_gdt_end:
boot_gdtr:
	.word boot_gdt_end - boot_gdt - 1
	.quad boot_gdt
boot_mxcsr:
	.long 0x1f80                  /* reset value: all exceptions masked */

	.section .bss
	.balign 4096
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4 * 4096
	.balign 16
	.globl vnet_boot_stack
vnet_boot_stack:
	.skip STACK_SIZE
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
