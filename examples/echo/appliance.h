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
	struct vnet_pool *jumbo; /* TX buffers for jumbo frames and TSO (NULL: none) */
	struct vnet_dev *dev;
	struct vnet_iface *ifc;
	const char *transport;   /* "pci" or "mmio" */
	int irq;                 /* the NIC can wake a halted CPU (MSI-X or its line wired) */
	const char *irq_kind;    /* "MSI-X", "line" (virtio-mmio) or "INTx" (irq only) */
	int irq_line;            /* the wired line (vnet_irq_line()), -1: none */
	uint32_t ip, mask, gw;   /* host byte order */
	uint8_t ip6[16];         /* static IPv6 address (zero: only the link-local one) */
	uint8_t ip6_len;         /* its prefix length */
	unsigned long recoveries; /* vnet_dev_recover() calls after the device broke (the loop's; in the counters) */
};

/* Bring everything up from the command line:
 *   ip=A.B.C.D/LEN (10.99.0.2/24)  gw=A.B.C.D (10.99.0.1)
 *   ip6=ADDR/LEN (none; LEN 64 if left out): a static IPv6 address besides
 *     the link-local one made from the MAC
 *   transport=auto|pci|mmio (auto)  pool=N (2048)  buf=BYTES (8192: pool buffer size)
 *   ring=N (256)  log=0..3 (1)
 *   offload=on|off (on): the device offloads the interface can use, each
 *     negotiated only if the device offers it; off asks for none of them.
 *     Finer switches override it: csum=on|off (CSUM + GUEST_CSUM),
 *     tso=on|off (HOST_TSO4/6: TCP segments coalesced on TX),
 *     lro=on|off (GUEST_TSO4/6: large segments received whole),
 *     mrg=on|off (MRG_RXBUF: frames over several receive buffers)
 *   rxoff=on|off (off): turn every receive offload off at run time once
 *     the device is up (VNET_F_CTRL_GUEST_OFFLOADS): GUEST_CSUM and
 *     GUEST_TSO4/6 stay negotiated, the device stops using them
 *   mtu=N (the device's, else 1500): jumbo frames need mrg=on (or big
 *     buffers) and a jumbo TX pool
 *   jumbo=N (64 when TSO or the MTU needs it): jumbo TX pool buffers
 *   gro=on|off (on): coalesce received TCP/IPv4 segments of a flow within a
 *     burst into one for lwIP (software GRO; matters without GUEST_TSO4)
 *   irq=on|off (on where the machine can take the NIC's interrupt: the
 *     MSI-X message of a PCI device, else its INTx where the device tree
 *     routes it, the wired line of a virtio-mmio one whose number the
 *     command line or the device tree gives): program it, so that a loop
 *     may halt until the next frame
 * Prints what it negotiated and uses; 0 or -errno. */
int appliance_up(struct appliance *a);
/* Close everything in reverse order. */
void appliance_down(struct appliance *a);
/* A number from the command line, or @def. */
uint32_t appliance_arg_u32(const char *key, uint32_t def);
/* on/off (1/0, yes/no) from the command line, or @def. */
int appliance_arg_bool(const char *key, int def);
/* Receive offloads at run time (VNET_F_CTRL_GUEST_OFFLOADS): all off, or
 * (@on) all those negotiated on again; prints the result and what is in
 * force. 0 or -errno (vnet_dev_set_rx_offloads()). */
int appliance_rx_offloads(struct appliance *a, int on);
/* Print the interface's counters on the console (with a->recoveries). */
void appliance_print_stats(const struct appliance *a);

#endif
