/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCI configuration-space access: ECAM and (x86 only) port IO. The PCI
 * transport only ever sees a struct vnet_pci_cfg_ops.
 */
#include "transport/pci_cfg.h"

#include "base/platform.h"

/* ---- ECAM: one 4 KiB window per function, memory mapped -------------- */

static volatile uint8_t *ecam_addr(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	uintptr_t o = ((uintptr_t)bus << 20) | ((uintptr_t)(dev & 0x1f) << 15) |
	              ((uintptr_t)(fn & 0x7) << 12) | (off & 0xfff);
	return (volatile uint8_t *)ctx + o;
}

static uint8_t ecam_read8(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	return vnet_read8(ecam_addr(ctx, bus, dev, fn, off));
}

static uint16_t ecam_read16(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	return vnet_read16(ecam_addr(ctx, bus, dev, fn, off & ~1u));
}

static uint32_t ecam_read32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	return vnet_read32(ecam_addr(ctx, bus, dev, fn, off & ~3u));
}

static void ecam_write8(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint8_t v)
{
	vnet_write8(ecam_addr(ctx, bus, dev, fn, off), v);
}

static void ecam_write16(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint16_t v)
{
	vnet_write16(ecam_addr(ctx, bus, dev, fn, off & ~1u), v);
}

static void ecam_write32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
	vnet_write32(ecam_addr(ctx, bus, dev, fn, off & ~3u), v);
}

const struct vnet_pci_cfg_ops vnet_pci_cfg_ecam_ops = {
	.read8 = ecam_read8,
	.read16 = ecam_read16,
	.read32 = ecam_read32,
	.write8 = ecam_write8,
	.write16 = ecam_write16,
	.write32 = ecam_write32,
};

/* ---- configuration mechanism #1: 0xCF8 address, 0xCFC data ----------- */
#if defined(__x86_64__)

#define PIO_ADDR 0xcf8
#define PIO_DATA 0xcfc

/* Select the dword holding @off. 0 if @off is outside the 256 bytes this
 * mechanism reaches (the caller then reads all ones / drops the write). */
static int pio_select(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	if (off > 0xff)
		return 0;
	vnet_outl(PIO_ADDR, 0x80000000u | ((uint32_t)bus << 16) | ((uint32_t)(dev & 0x1f) << 11) |
	                    ((uint32_t)(fn & 0x7) << 8) | (off & 0xfc));
	return 1;
}

static uint8_t pio_read8(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	(void)ctx;
	if (!pio_select(bus, dev, fn, off))
		return 0xff;
	return vnet_inb((uint16_t)(PIO_DATA + (off & 3)));
}

static uint16_t pio_read16(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	(void)ctx;
	if (!pio_select(bus, dev, fn, off))
		return 0xffff;
	return vnet_inw((uint16_t)(PIO_DATA + (off & 2)));
}

static uint32_t pio_read32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	(void)ctx;
	if (!pio_select(bus, dev, fn, off))
		return 0xffffffffu;
	return vnet_inl(PIO_DATA);
}

static void pio_write8(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint8_t v)
{
	(void)ctx;
	if (pio_select(bus, dev, fn, off))
		vnet_outb((uint16_t)(PIO_DATA + (off & 3)), v);
}

static void pio_write16(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint16_t v)
{
	(void)ctx;
	if (pio_select(bus, dev, fn, off))
		vnet_outw((uint16_t)(PIO_DATA + (off & 2)), v);
}

static void pio_write32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
	(void)ctx;
	if (pio_select(bus, dev, fn, off))
		vnet_outl(PIO_DATA, v);
}

const struct vnet_pci_cfg_ops vnet_pci_cfg_portio_ops = {
	.read8 = pio_read8,
	.read16 = pio_read16,
	.read32 = pio_read32,
	.write8 = pio_write8,
	.write16 = pio_write16,
	.write32 = pio_write32,
};

#endif /* __x86_64__ */
