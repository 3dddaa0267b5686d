/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file transports.h
 * @brief Finding a virtio-net device and opening a transport to it:
 * PCI (virtio spec 4.1), modern or legacy, and MMIO (spec 4.2), version 2
 * or the legacy version 1.
 *
 * A transport is what vnet_dev_open() drives. It stays the caller's:
 * close it with vnet_transport_close() after vnet_dev_close().
 * Everything returns 0 or a negative errno, with the reason logged
 * through the sink installed with vnet_set_log().
 */
#ifndef VNET_TRANSPORTS_H
#define VNET_TRANSPORTS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vnet_transport;
struct vnet_pci_cfg_ops;

/** Release a transport (mappings and memory). NULL is ignored. */
void vnet_transport_close(struct vnet_transport *t);

/**
 * Which interface a transport drives: 1 the legacy one (virtio 0.9.5: a
 * PCI I/O BAR, spec 4.1.4.8, or virtio-mmio version 1, 4.2.4), 0 the
 * modern one (virtio 1.x), -EINVAL for NULL. Over the legacy interface
 * only the low 32 feature bits exist: no packed ring, IN_ORDER or queue
 * reset (docs/GUIDE.md, "Legacy and transitional devices").
 */
int vnet_transport_legacy(const struct vnet_transport *t);

/* ---------------------------------------------------------------- PCI -- */

/** Port I/O for the legacy interface's I/O BAR0 (spec 4.1.4.8): @p width
 * (1, 2 or 4) bytes at bus port address @p port, as the BAR holds it. */
struct vnet_pci_io_ops {
	/** Read @p width bytes at @p port. */
	uint32_t (*read)(void *arg, uint64_t port, unsigned width);
	/** Write the low @p width bytes of @p v at @p port. */
	void (*write)(void *arg, uint64_t port, unsigned width, uint32_t v);
};

/** Default start of the window for BARs firmware left unassigned. */
#define VNET_PCI_BAR_WINDOW_DEFAULT 0xC0000000ull

/** Options for vnet_pci_open(). All-zero (or a NULL pointer) is the
 * bare-metal default: port IO config access, identity mapping. */
struct vnet_pci_opts {
	/** Config-space access. NULL: ECAM at @c ecam_base if that is set,
	 * else port IO 0xCF8/0xCFC — the latter only in freestanding
	 * (bare-metal) x86_64 builds; a hosted build refuses with -EINVAL.
	 * Kept until vnet_transport_close() (@c cfg and @c cfg_arg must stay
	 * valid; ECAM is mapped again through @c map for the moment): after a
	 * device reset that does not complete, bus mastering is turned off
	 * through it, and on again once a reset completes. */
	const struct vnet_pci_cfg_ops *cfg;
	void *cfg_arg;          /**< context passed to the @c cfg methods */
	uint64_t ecam_base;     /**< physical ECAM base (q35: 0xB0000000), 0 = none */
	/** Where to place BARs that read 0 (firmware such as qboot leaves them
	 * unassigned), each naturally aligned, upward from here
	 * (VNET_PCI_BAR_WINDOW_DEFAULT). 32-bit BARs must end below 4 GiB.
	 * Give each device its own window when opening several. */
	uint64_t bar_window;
	/** Map @p len bytes of bus address @p phys (a BAR, the ECAM window);
	 * NULL on failure. NULL callback: identity (phys == virtual). */
	void *(*map)(void *arg, uint64_t phys, uint64_t len);
	/** Undo one @c map (optional). */
	void (*unmap)(void *arg, void *va, uint64_t len);
	void *map_arg;          /**< context passed to @c map / @c unmap */
	unsigned index;         /**< open the n-th virtio-net function (0 = first) */
	/** Used-buffer notifications as this MSI-X message (bare metal x86:
	 * 0xFEE00000 with the destination APIC id in bits 19:12, and the
	 * vector in @c msi_data): entry 0 of the device's MSI-X table is
	 * programmed with it and every queue points at that entry, so a loop
	 * that sleeps (vnet_dev_rx_intr_enable()) is woken by the next frame.
	 * 0: MSI-X stays off and the device never interrupts (pure polling). */
	uint64_t msi_addr;
	uint32_t msi_data;      /**< the MSI-X message data (x86: the vector) */
	/** Drive a transitional device (1af4:1000) that also has virtio 1.0
	 * capabilities through its legacy interface; 0: the modern one. A
	 * transitional device without them is always driven legacy; a
	 * modern-only one (1af4:1041) asked for legacy is refused. */
	int legacy;
	/** Port I/O for a legacy device's I/O BAR0. NULL: @c io_window if
	 * set, else in/out instructions in bare-metal x86_64 builds; else a
	 * legacy device is refused with -ENOTSUP. */
	const struct vnet_pci_io_ops *io;
	void *io_arg;           /**< context passed to the @c io methods */
	/** Where PCI I/O space is a memory window (aarch64 and riscv64 virt:
	 * vnet_machine()'s pci_io_window): the CPU address of port 0, mapped
	 * through @c map. A legacy device's I/O BAR0 is reached there when
	 * @c io is NULL, and placed there (from port 0x1000 up) when firmware
	 * left it at 0. 0: none. */
	uint64_t io_window;
	uint32_t io_window_size; /**< ports in @c io_window */
};

/**
 * Enumerate PCI buses 0..255, open the @c index-th virtio-net function
 * (1af4:1041, or transitional 1af4:1000), assign its unassigned memory
 * BARs, enable memory space and bus mastering, and map the common,
 * notify, ISR and device config structures (modern interface). A
 * transitional device without virtio 1.0 capabilities, or with them when
 * @c legacy is set, is driven through its legacy interface instead: the
 * register block in I/O BAR0 (spec 4.1.4.8; I/O space is enabled), see
 * vnet_transport_legacy(). A notify structure whose notify_off_multiplier
 * is not 0 or an even power of 2 (spec 4.1.4.4.1) is ignored.
 * @return 0; -ENODEV (no such device, or its capability list is missing
 * a structure or loops, or a legacy device without a usable I/O BAR0);
 * -ENOTSUP (legacy asked of a modern-only device, or a legacy device and
 * no port I/O); -ENOSPC (no room in the BAR window, or a legacy I/O BAR0
 * firmware left unassigned, without room for it in @c io_window); -EIO (a
 * BAR did not take its address);
 * -ENOMEM; -EINVAL.
 */
int vnet_pci_open(struct vnet_transport **t, const struct vnet_pci_opts *o);

/**
 * The INTx pin of a PCI transport opened without MSI-X, for routing it
 * (vnet/baremetal.h: vnet_machine_pci_irq(), vnet_irq_line()).
 * @param t the transport.
 * @param bdf receives bus << 8 | device << 3 | function.
 * @param pin receives 1..4 (INTA#..INTD#).
 * @return 0; -ENOENT (MSI-X in use, no pin, no ISR status structure);
 * -EINVAL (not a PCI transport).
 */
int vnet_pci_intx(const struct vnet_transport *t, uint32_t *bdf, uint8_t *pin);

/**
 * Acknowledge the device's INTx interrupt (spec 4.1.4.5): reading the ISR
 * status resets it and deasserts the line. For the line's handler, before
 * the interrupt controller's end of interrupt. @return the ISR bits (1:
 * a queue, 2: configuration change), 0 for another transport.
 */
uint32_t vnet_pci_intr_ack(struct vnet_transport *t);

/* --------------------------------------------------------------- MMIO -- */

/** Size of one virtio-mmio register window (QEMU, Firecracker). */
#define VNET_MMIO_WINDOW_SIZE 0x200u

/** A fixed array of virtio-mmio windows, probed from the highest down. */
struct vnet_mmio_range {
	uintptr_t base;   /**< address of slot 0 */
	uint32_t stride;  /**< bytes between slots (also each window's size) */
	uint32_t count;   /**< number of slots */
};

/** QEMU's microvm machine: 24 windows at 0xfeb00000, 0x200 apart. */
#define VNET_MMIO_MICROVM_RANGE { 0xfeb00000u, 0x200u, 24u }

/**
 * Open the virtio-mmio window at @p base (a 0x200-byte window, mapped).
 * Version 2 is driven as modern, version 1 (QEMU's default) through the
 * legacy interface (spec 4.2.4; vnet_transport_legacy()).
 * @return 0; -ENODEV (no magic, empty slot, not a network device);
 * -ENOTSUP (a version other than 1 or 2); -ENOMEM.
 */
int vnet_mmio_open(struct vnet_transport **t, uintptr_t base);

/**
 * Open the @p index-th virtio-net device among the
 * `virtio_mmio.device=<size>@<base>:<irq>` entries of @p cmdline (NULL ok)
 * and then, skipping windows already listed there, the slots of @p range
 * (NULL: none) from the highest slot down. Malformed entries are skipped
 * with a warning. A legacy (version 1) device counts and is opened as one.
 * @return 0, -ENODEV (not found), or as vnet_mmio_open().
 */
int vnet_mmio_find_in(struct vnet_transport **t, const char *cmdline,
                      const struct vnet_mmio_range *range, unsigned index);

/**
 * vnet_mmio_find_in() with the microvm range. In a hosted (Linux process)
 * build the fixed range is not probed, as those addresses are not mapped
 * in a process; only @p cmdline entries are.
 */
int vnet_mmio_find(struct vnet_transport **t, const char *cmdline, unsigned index);

/**
 * The @p n-th well-formed `virtio_mmio.device=` entry of @p cmdline
 * (malformed entries do not count). Sizes take a K, M or G suffix; numbers
 * are decimal or 0x-hex. @return 0, or -ENOENT after the last entry.
 */
int vnet_mmio_cmdline_entry(const char *cmdline, unsigned n, uint64_t *base, uint64_t *size,
                            uint32_t *irq);

/** The register window's address of an MMIO transport; 0 for another one. */
uintptr_t vnet_mmio_base(const struct vnet_transport *t);

/**
 * Acknowledge the device's interrupt (spec 4.2.2): read InterruptStatus
 * and write its bits to InterruptACK, which lowers the device's line. For
 * the handler of that line (vnet/baremetal.h, vnet_irq_line()), before the
 * interrupt controller's end of interrupt. @return the bits (1: used
 * buffer, 2: configuration change), 0 for another transport.
 */
uint32_t vnet_mmio_intr_ack(struct vnet_transport *t);

#ifdef __cplusplus
}
#endif
#endif
