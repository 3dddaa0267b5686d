/* SPDX-License-Identifier: BSD-3-Clause */
/* What every bare-metal appliance does first: console logging, finding the
 * NIC (PCI modern or MMIO v2), the pool, the device and the interface. */
#ifndef VNET_EXAMPLE_APPLIANCE_H
#define VNET_EXAMPLE_APPLIANCE_H

#include <stdint.h>

#include <vnet/iface.h>
#include <vnet/vnet.h>

struct appliance {
	struct vnet_transport *t;
	struct vnet_pool *pool;
	struct vnet_dev *dev;
	struct vnet_iface *ifc;
	const char *transport;   /* "pci" or "mmio" */
	uint32_t ip, mask, gw;   /* host byte order */
};

/* Bring everything up from the command line:
 *   ip=A.B.C.D/LEN (10.99.0.2/24)  gw=A.B.C.D (10.99.0.1)
 *   transport=auto|pci|mmio (auto)  pool=N (2048)  ring=N (256)  log=0..3 (1)
 * Prints what it does; 0 or -errno. */
int appliance_up(struct appliance *a);
/* Close everything in reverse order. */
void appliance_down(struct appliance *a);
/* A number from the command line, or @def. */
uint32_t appliance_arg_u32(const char *key, uint32_t def);
/* Print the interface's counters on the console. */
void appliance_print_stats(const struct appliance *a);

#endif
