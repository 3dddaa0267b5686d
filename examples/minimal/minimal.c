/* SPDX-License-Identifier: BSD-3-Clause */
/* The smallest vnet appliance: answers ping and echoes UDP on port 7, on
 * QEMU's user network:  qemu-system-x86_64 -M q35 -nographic -kernel minimal.elf
 *   -netdev user,id=n0 -device virtio-net-pci,netdev=n0,disable-legacy=on */
#include <stdio.h>

#include <vnet/baremetal.h>
#include <vnet/iface.h>
#include <vnet/transports.h>

static void echo(struct vnet_udp *u, const void *data, size_t len, uint32_t ip, uint16_t port, void *arg)
{
	(void)arg;
	vnet_udp_sendto(u, ip, port, data, len);
}

int vnet_main(const char *cmdline)
{
	struct vnet_pool_conf pc = {.count = 1024};
	struct vnet_dev_conf dc = {0};
	struct vnet_transport *t;
	struct vnet_iface *ifc;
	struct vnet_dev *dev;
	struct vnet_udp *u;
	int rc;

	(void)cmdline;
	if ((rc = vnet_pci_open(&t, NULL)) || (rc = vnet_pool_create(&dc.pool, &pc)) ||
	    (rc = vnet_dev_open(&dev, t, &dc)) ||
	    (rc = vnet_iface_init(&ifc, dev, "10.0.2.15", "255.255.255.0", "10.0.2.2")) ||
	    (rc = vnet_iface_enable_icmp(ifc, true)) || (rc = vnet_udp_bind(ifc, 7, echo, NULL, &u))) {
		printf("minimal: %s\n", vnet_strerror(rc));
		return 1;
	}
	printf("READY vnet %s\n", vnet_version());
	for (;;)
		vnet_iface_poll(ifc); /* run to completion: RX, lwIP, TX, timers */
}
