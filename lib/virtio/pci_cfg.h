/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCI configuration-space access as a small table of methods, so the PCI
 * transport does not care whether it reaches config space through the
 * legacy 0xCF8/0xCFC ports, a memory-mapped ECAM window, libpciaccess, or
 * a fake config space in a unit test.
 *
 * Offsets are bytes from the start of the function's config space; reads
 * and writes are naturally aligned. A function that does not exist reads
 * as all ones, which is what the enumerator looks for.
 */
#ifndef VNET_PCI_CFG_H
#define VNET_PCI_CFG_H

#include <stdint.h>

struct vnet_pci_cfg_ops {
	uint8_t (*read8)(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off);
	uint16_t (*read16)(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off);
	uint32_t (*read32)(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off);
	void (*write8)(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint8_t v);
	void (*write16)(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint16_t v);
	void (*write32)(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v);
};

/* ECAM (PCIe enhanced configuration access): ctx is the virtual address
 * of the window for bus 0 (bus << 20 | dev << 15 | fn << 12 | off). */
#define VNET_PCI_ECAM_SIZE (256u << 20) /* 256 buses */
extern const struct vnet_pci_cfg_ops vnet_pci_cfg_ecam_ops;

#if defined(__x86_64__)
/* Configuration mechanism #1 through ports 0xCF8/0xCFC: bare metal (or a
 * process that holds iopl) only; ctx is unused. Offsets >= 256 read as all
 * ones. Never the default in a hosted build: see vnet_pci_open(). */
extern const struct vnet_pci_cfg_ops vnet_pci_cfg_portio_ops;
#endif

/* Standard config header offsets and bits (PCI Local Bus spec 6.1, 6.2). */
#define VNET_PCI_VENDOR_ID    0x00
#define VNET_PCI_DEVICE_ID    0x02
#define VNET_PCI_COMMAND      0x04
#define VNET_PCI_STATUS       0x06
#define VNET_PCI_HEADER_TYPE  0x0e
#define VNET_PCI_BAR0         0x10
#define VNET_PCI_CAP_PTR      0x34

#define VNET_PCI_CMD_IO          0x0001
#define VNET_PCI_CMD_MEMORY      0x0002
#define VNET_PCI_CMD_BUS_MASTER  0x0004
#define VNET_PCI_STATUS_CAP_LIST 0x0010
#define VNET_PCI_HEADER_MULTI_FN 0x80

#define VNET_PCI_BAR_IO        0x1
#define VNET_PCI_BAR_TYPE_64   0x4 /* bits 2:1 == 10b */
#define VNET_PCI_BAR_TYPE_MASK 0x6

#define VNET_PCI_CAP_ID_VNDR  0x09
#define VNET_PCI_CAP_ID_MSIX  0x11 /* PCI 3.0, 6.8.2: MSI-X capability */

/* ---- shared by the register-window transports (pci.c, mmio.c) ----
 * Defined in mmio.c. */
struct vnet_transport;

/*
 * Read @len bytes at @off of a device register window (PCI device-specific
 * config, MMIO config at +0x100) with accesses no wider than the field:
 * @len 2 or 4 at a matching alignment is one access of that width, 8 is
 * two aligned 32-bit accesses (low half first, spec 4.1.3.1), anything else
 * (single bytes, byte arrays such as the MAC) byte by byte. Little-endian host.
 */
void vnet_window_read(const volatile uint8_t *base, uint32_t off, void *buf, uint32_t len);

/*
 * After the caller wrote 0 to the device status: poll get_status until it
 * reads 0 (spec 2.4, 4.1.4.3.2), backing off from 1 us up to 10 ms per
 * poll, for at most VNET_RESET_TIMEOUT_US in total. 0 or -ETIMEDOUT.
 */
#define VNET_RESET_TIMEOUT_US 1000000u
int vnet_wait_reset(struct vnet_transport *t);

/*
 * After the caller wrote 1 to a queue-reset register (PCI queue_reset,
 * MMIO QueueReset; VIRTIO_F_RING_RESET): poll that register, @width 2 or 4
 * bytes, until it reads 0 (spec 4.1.4.3.2, 4.2.2.2), with the same backoff
 * and bound as vnet_wait_reset(). 0 or -ETIMEDOUT.
 */
int vnet_wait_reg_zero(const volatile void *reg, unsigned width);

#endif
