/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An out-of-tree program built against an installed vnet's Interface API
 * and lwIP (tests/install): two model devices joined by the model's wire,
 * an interface on each, a UDP datagram to an echo endpoint and back.
 * Includes an lwIP header to show that the installed lwIP configuration is
 * usable. Prints "OK ..." and exits 0, or exits 1.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <vnet/iface.h>
#include <vnet/model.h>
#include <vnet/vnet.h>

#include "lwip/init.h" /* LWIP_VERSION_STRING, from the installed lwIP headers */

struct side {
	struct vnet_model *m;
	struct vnet_pool *pool;
	struct vnet_dev *dev;
	struct vnet_iface *ifc;
};

static char reply[64];
static size_t reply_len;

static int side_up(struct side *s, uint8_t mac_last, const char *ip)
{
	struct vnet_model_conf mc = {0};
	struct vnet_pool_conf pc = {0};
	struct vnet_dev_conf dc = {0};
	int rc;

	mc.backend = VNET_MODEL_WIRE;
	mc.mac[0] = 0x52, mc.mac[1] = 0x54, mc.mac[5] = mac_last;
	pc.count = 1024;
	if ((rc = vnet_model_create(&s->m, &mc)) || (rc = vnet_pool_create(&s->pool, &pc)))
		return rc;
	dc.pool = s->pool;
	if ((rc = vnet_dev_open(&s->dev, vnet_model_transport(s->m), &dc)))
		return rc;
	return vnet_iface_init(&s->ifc, s->dev, ip, "255.255.255.0", NULL);
}

static void side_down(struct side *s)
{
	vnet_iface_close(s->ifc);
	vnet_dev_close(s->dev);
	if (s->pool)
		vnet_pool_destroy(s->pool);
	vnet_model_destroy(s->m);
}

static void echo(struct vnet_udp *u, const void *data, size_t len, uint32_t ip, uint16_t port, void *arg)
{
	(void)arg;
	vnet_udp_sendto(u, ip, port, data, len);
}

static void got(struct vnet_udp *u, const void *data, size_t len, uint32_t ip, uint16_t port, void *arg)
{
	(void)u, (void)ip, (void)port, (void)arg;
	reply_len = len < sizeof(reply) ? len : sizeof(reply);
	memcpy(reply, data, reply_len);
}

int main(void)
{
	static const char msg[] = "hello through vnet and lwIP";
	struct side a = {0}, b = {0};
	struct vnet_udp *srv = NULL, *cli = NULL;
	struct timespec nap = {0, 200000};
	int rc, step, ok = 0;

	if ((rc = side_up(&a, 1, "10.0.0.1")) || (rc = side_up(&b, 2, "10.0.0.2")) ||
	    (rc = vnet_model_wire(a.m, b.m)) || (rc = vnet_udp_bind(b.ifc, 7, echo, NULL, &srv)) ||
	    (rc = vnet_udp_dial(a.ifc, NULL, "10.0.0.2:7", got, NULL, &cli)) ||
	    (rc = vnet_udp_send(cli, msg, sizeof(msg)))) {
		fprintf(stderr, "sample_iface: set-up: %s\n", vnet_strerror(rc));
	} else {
		/* bounded: ARP, the datagram and its echo need a few dozen steps */
		for (step = 0; step < 20000 && !reply_len; step++) {
			int w = vnet_iface_poll(a.ifc) + (int)vnet_model_poll(a.m);
			w += vnet_iface_poll(b.ifc) + (int)vnet_model_poll(b.m);
			if (w == 0)
				nanosleep(&nap, NULL);
		}
		ok = reply_len == sizeof(msg) && memcmp(reply, msg, sizeof(msg)) == 0;
		if (!ok)
			fprintf(stderr, "sample_iface: no echo (%zu bytes back)\n", reply_len);
	}
	if (cli)
		vnet_udp_close(cli);
	if (srv)
		vnet_udp_close(srv);
	side_down(&a);
	side_down(&b);
	if (!ok)
		return 1;
	printf("OK vnet %s + lwIP %s: UDP echo over the model's wire\n", vnet_version(), LWIP_VERSION_STRING);
	return 0;
}
