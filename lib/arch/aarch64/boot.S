/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * aarch64 entry, for QEMU -machine virt -kernel.
 *
 * The image starts with a Linux arm64 Image header (Linux
 * Documentation/arch/arm64/booting.rst), so QEMU boots the flat binary
 * (objcopy -O binary) the way it boots Linux: loaded at RAM base +
 * text_offset, entered at its first byte at EL1 (EL2 with
 * virtualization=on), MMU off, x0 = the device tree. The ELF boots too
 * (QEMU enters at e_entry with x0 = 0 and the DTB at the start of RAM).
 *
 * This stub drops from EL2 to EL1 if needed, turns FP/SIMD on (gcc uses
 * the vector registers for copies), installs the exception vectors, and
 * turns the MMU and caches on over a static identity map (Arm ARM D8,
 * "The AArch64 Virtual Memory System Architecture"): 39-bit VA, 4 KiB
 * granule, one level-1 table of 1 GiB blocks:
 *   0 - 1 GiB     Device-nGnRE, execute-never (flash, GIC, UART,
 *                 virtio-mmio, the 32-bit PCI window, low ECAM)
 *   1 - 256 GiB   Normal write-back, inner shareable (virt's RAM area;
 *                 start.c unmaps the blocks that hold no RAM)
 *   256 - 512 GiB Device-nGnRE (high GIC redistributors, high ECAM)
 * Normal memory is what makes unaligned accesses (lwIP's headers) and
 * exclusive accesses legal; with the MMU off every access is Device.
 * Then .bss is cleared and vnet_arch_start(dtb, entry EL) is called.
 */

#define TEXT_OFFSET     0x200000 /* linker.ld links at RAM base + this */

#define HCR_EL2_RW      (1 << 31)       /* EL1 is AArch64 */
#define CPTR_EL2_RES1   0x33ff          /* and TFP = 0: no FP trap */
#define SPSR_EL1H_DAIF  0x3c5           /* EL1h, D, A, I, F masked */
#define CPACR_FPEN      (3 << 20)

#define SCTLR_RES1      ((1 << 29) | (1 << 28) | (1 << 23) | (1 << 22) | (1 << 20) | (1 << 11))
#define SCTLR_M         (1 << 0)
#define SCTLR_C         (1 << 2)
#define SCTLR_SA        (1 << 3)
#define SCTLR_I         (1 << 12)

/* MAIR_EL1: attribute 0 Device-nGnRE, attribute 1 Normal WB RW-allocate. */
#define MAIR_VALUE      0xff04
/* TCR_EL1: T0SZ 25 (39-bit VA, walks start at level 1), inner/outer
 * write-back walks, inner shareable, 4 KiB granule, no TTBR1 walks
 * (EPD1); IPS is filled in from ID_AA64MMFR0_EL1.PARange. */
#define TCR_VALUE       (25 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23))

/* Level-1 block descriptors. */
#define BLK_VALID       1
#define BLK_ATTR(i)     ((i) << 2)
#define BLK_SH_INNER    (3 << 8)
#define BLK_AF          (1 << 10)
#define BLK_PXN         (1 << 53)
#define BLK_UXN         (1 << 54)
#define BLK_NORMAL      (BLK_VALID | BLK_ATTR(1) | BLK_SH_INNER | BLK_AF | BLK_UXN)
#define BLK_DEVICE      (BLK_VALID | BLK_ATTR(0) | BLK_AF | BLK_PXN | BLK_UXN)

#define STACK_SIZE      (128 * 1024)

	.section .text.boot, "ax"
	.globl _start
	.type _start, %function
_start:
	/* The Image header: code0/code1, text_offset, image_size, flags
	 * (little-endian, page size unspecified, 2 MiB-aligned base as low
	 * as possible), three reserved, magic "ARM\x64", PE offset. */
	b	entry
	.long	0
	.quad	TEXT_OFFSET
	.quad	vnet_image_size
	.quad	0
	.quad	0
	.quad	0
	.quad	0
	.ascii	"ARM\x64"
	.long	0

entry:
	mov	x19, x0                 /* the DTB (0 for an ELF boot) */
	msr	daifset, #0xf
	mrs	x20, CurrentEL
	ubfx	x20, x20, #2, #2
	cmp	x20, #3
	b.eq	hang                    /* EL3 (virt,secure=on): not supported */
	cmp	x20, #2
	b.ne	at_el1

	/* EL2 -> EL1: AArch64 EL1, counters readable at EL1 and no virtual
	 * offset, no FP trap, SCTLR_EL1 in a known state (MMU off). */
	mov	x0, #HCR_EL2_RW
	msr	hcr_el2, x0
	mrs	x0, cnthctl_el2
	orr	x0, x0, #3              /* EL1PCTEN | EL1PCEN */
	msr	cnthctl_el2, x0
	msr	cntvoff_el2, xzr
	mov	x0, #CPTR_EL2_RES1
	msr	cptr_el2, x0
	ldr	x0, =SCTLR_RES1
	msr	sctlr_el1, x0
	mov	x0, #SPSR_EL1H_DAIF
	msr	spsr_el2, x0
	adr	x0, at_el1
	msr	elr_el2, x0
	eret

at_el1:
	mov	x0, #CPACR_FPEN
	msr	cpacr_el1, x0
	ldr	x0, =vnet_vectors
	msr	vbar_el1, x0
	isb

	ldr	x0, =MAIR_VALUE
	msr	mair_el1, x0
	mrs	x1, id_aa64mmfr0_el1
	and	x1, x1, #0xf            /* PARange: same encoding as TCR.IPS */
	mov	x2, #5                  /* at most 48 bits (52 needs LPA) */
	cmp	x1, x2
	csel	x1, x1, x2, ls
	ldr	x0, =TCR_VALUE
	bfi	x0, x1, #32, #3
	msr	tcr_el1, x0
	adrp	x0, vnet_boot_l1
	msr	ttbr0_el1, x0
	isb
	tlbi	vmalle1
	ic	iallu
	dsb	nsh
	isb
	ldr	x0, =(SCTLR_RES1 | SCTLR_M | SCTLR_C | SCTLR_SA | SCTLR_I)
	msr	sctlr_el1, x0
	isb

	ldr	x0, =vnet_bss_start     /* 16-byte aligned by linker.ld */
	ldr	x1, =vnet_bss_end
1:	cmp	x0, x1
	b.hs	2f
	stp	xzr, xzr, [x0], #16
	b	1b
2:	ldr	x0, =boot_stack_top
	mov	sp, x0
	mov	x29, xzr                /* end of the frame chain */
	mov	x30, xzr
	mov	x0, x19
	mov	w1, w20
	bl	vnet_arch_start
hang:	wfe
	b	hang
	.ltorg
	.size _start, . - _start

/* uint64_t vnet_semihost(uint32_t op, const void *param) */
	.text
	.globl vnet_semihost
	.type vnet_semihost, %function
vnet_semihost:
	.globl vnet_semihost_insn
vnet_semihost_insn:
	hlt	#0xf000
	ret
	.size vnet_semihost, . - vnet_semihost

	/* The identity map, built by the assembler: nothing to compute at boot
	 * and nothing to clean to memory before the table walker reads it. */
	.section .data.pgtable, "aw"
	.balign 4096
	.globl vnet_boot_l1
vnet_boot_l1:
	.set gib, 0
	.rept 512
	.if (gib >= 1) && (gib < 256)
	.quad (gib << 30) | BLK_NORMAL
	.else
	.quad (gib << 30) | BLK_DEVICE
	.endif
	.set gib, gib + 1
	.endr

	.section .bss
	.balign 16
boot_stack:
	.skip STACK_SIZE
boot_stack_top:

	.section .note.GNU-stack, "", %progbits
