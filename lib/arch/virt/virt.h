/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the bare-metal environments of QEMU's DTB-described "virt"
 * machines (lib/arch/aarch64, lib/arch/riscv64) share: the machine as
 * its device tree describes it, the command line, the heap, DMA memory
 * and the time base. Each architecture's arch.h provides the fixed-map
 * fallbacks (VIRT_*) and vnet_arch_counter(); this code is the same for
 * both.
 */
#ifndef VNET_VIRT_H
#define VNET_VIRT_H

#include <stdbool.h>
#include <stdint.h>

#define VIRT_MAX_BANKS 4
#define VIRT_MAX_RESV  8
#define VIRT_MAX_MMIO  32
#define VIRT_IMAP_MAX  1024 /* bytes of the PCI host's interrupt-map kept */

/* A virtio-mmio window's interrupt, in the controller's numbering: the
 * GIC's INTID (aarch64), the PLIC's source (riscv64). */
struct virt_mmio_irq {
	uint64_t base;
	uint32_t irq;
};

struct virt_range {
	uint64_t base, size;
};

struct virt_info {
	const void *dtb;                       /* NULL: booted without one */
	struct virt_range ram[VIRT_MAX_BANKS]; /* /memory */
	unsigned n_ram;
	struct virt_range resv[VIRT_MAX_RESV]; /* /memreserve/ and /reserved-memory */
	unsigned n_resv;
	uint64_t ram_total;
	uint64_t pci_ecam, pci_ecam_size;      /* pci-host-ecam-generic reg */
	uint64_t pci_mem, pci_mem_size;        /* its 32-bit memory window (ranges) */
	uint64_t pci_io, pci_io_size;          /* its I/O window (ranges): port 0's CPU address */
	uint64_t mmio_base;                    /* virtio,mmio windows, evenly spaced */
	uint32_t mmio_stride, mmio_count;
	uint64_t timebase_hz;                  /* /cpus timebase-frequency (RISC-V) */
	uint64_t test_dev;                     /* sifive,test0 (RISC-V exit) */
	bool psci_smc;                         /* /psci method "smc" (aarch64) */
	struct virt_mmio_irq mmio_irq[VIRT_MAX_MMIO]; /* each virtio,mmio node's interrupts */
	unsigned n_mmio_irq;
	uint64_t gic_dist, gic_cpu;            /* GICv2 distributor, CPU interface (aarch64) */
	uint64_t gic_v2m;                      /* its MSI frame (aarch64) */
	uint32_t intc_addr_cells, intc_int_cells; /* the controller's #address-, #interrupt-cells */
	uint8_t pci_imap[VIRT_IMAP_MAX];       /* the PCI host's interrupt-map (INTx routing) */
	uint32_t pci_imap_len;
	uint32_t pci_imap_mask[4];             /* its interrupt-map-mask */
	uint64_t plic;                         /* the PLIC (riscv64) */
	uint32_t plic_ctx;                     /* its context for this hart's S-mode */
};

extern struct virt_info virt;

/* Fill `virt` from the fixed map, then from @dtb when it is a valid DTB
 * (the command line included). @return 0, or -EINVAL when @dtb is not one
 * (the fixed map stands). */
int virt_parse(const void *dtb);
/* The MSI message that ends vnet_idle_wait() into @m's msi_addr and
 * msi_data, where the machine has an MSI target (each architecture's
 * idle.c). */
struct vnet_machine;
void virt_msi(struct vnet_machine *m);
/* The heap: from the image end to the end of its RAM bank, stopping below
 * any reserved range. The DTB may be overwritten afterwards. */
void virt_heap_setup(uintptr_t image_end);
#endif
