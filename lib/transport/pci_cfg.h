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

#endif
