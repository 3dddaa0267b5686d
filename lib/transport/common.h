/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the register-window transports (pci.c, mmio.c) share: reading the
 * device-specific config window, and the bounded waits of a reset.
 */
#ifndef VNET_TRANSPORT_COMMON_H
#define VNET_TRANSPORT_COMMON_H

#include <stdint.h>

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

/*
 * The page frame number a legacy device is given for a split ring (spec
 * 4.1.4.8 QueueAddress, 4.2.4 QueuePFN), after checking that @a is the
 * legacy layout of a @size ring (virtio_spec.h: page-aligned, avail right
 * behind the table, used at the next 4096-byte boundary) and that the
 * frame number fits 32 bits. 0 or -EINVAL.
 */
struct vnet_vq_addrs;
int vnet_legacy_ring_pfn(const struct vnet_vq_addrs *a, uint16_t size, uint32_t *pfn);

#endif
