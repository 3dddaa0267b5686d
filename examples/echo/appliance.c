/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vnet/baremetal.h>
#include <vnet/transports.h>

#include "appliance.h"

static void console_log(enum vnet_log_level lvl, const char *msg, void *arg)
{
	static const char *names[] = {"error", "warn", "info", "debug"};
	(void)arg;
	printf("vnet %s: %s\n", names[lvl <= VNET_LOG_DEBUG ? lvl : VNET_LOG_DEBUG], msg);
}

uint32_t appliance_arg_u32(const char *key, uint32_t def)
{
	char v[32];
	char *end;
	unsigned long n;

	if (vnet_cmdline_get(key, v, sizeof(v)))
		return def;
	n = strtoul(v, &end, 0);
	if (end == v || *end) {
		printf("echo: ignoring %s=%s (not a number)\n", key, v);
		return def;
	}
	return (uint32_t)n;
}

static int parse_cidr(const char *s, uint32_t *ip, uint32_t *mask)
{
	char buf[32];
	char *slash;
	unsigned long len = 24;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		char *end;
		*slash = '\0';
		len = strtoul(slash + 1, &end, 10);
		if (end == slash + 1 || *end || len < 1 || len > 30)
			return -EINVAL;
	}
	if (vnet_iface_parse_ip4(buf, ip))
		return -EINVAL;
	*mask = (uint32_t)(0xffffffffull << (32 - len));
	return 0;
}

static int find_nic(struct appliance *a, const char *which)
{
	int rc = -ENODEV;

	if (!strcmp(which, "auto") || !strcmp(which, "pci")) {
		struct vnet_pci_opts po;
		memset(&po, 0, sizeof(po));
		rc = vnet_pci_open(&a->t, &po);
		if (rc == 0) {
			a->transport = "pci";
			return 0;
		}
		if (strcmp(which, "auto"))
			return rc;
	}
	if (!strcmp(which, "auto") || !strcmp(which, "mmio")) {
		rc = vnet_mmio_find(&a->t, vnet_cmdline(), 0);
		if (rc == 0)
			a->transport = "mmio";
	}
	return rc;
}

int appliance_up(struct appliance *a)
{
	char ipstr[40] = "10.99.0.2/24", gwstr[20] = "10.99.0.1", which[8] = "auto";
	struct vnet_pool_conf pc = {0};
	struct vnet_dev_conf dc = {0};
	struct vnet_net_config cfg;
	int rc;

	memset(a, 0, sizeof(*a));
	vnet_set_log(console_log, NULL, (enum vnet_log_level)appliance_arg_u32("log", VNET_LOG_WARN));
	vnet_cmdline_get("ip", ipstr, sizeof(ipstr));
	vnet_cmdline_get("gw", gwstr, sizeof(gwstr));
	vnet_cmdline_get("transport", which, sizeof(which));
	if (parse_cidr(ipstr, &a->ip, &a->mask)) {
		printf("echo: bad ip=%s (want A.B.C.D/LEN)\n", ipstr);
		return -EINVAL;
	}
	if (vnet_iface_parse_ip4(gwstr, &a->gw)) {
		printf("echo: bad gw=%s\n", gwstr);
		return -EINVAL;
	}
	rc = find_nic(a, which);
	if (rc) {
		printf("echo: no virtio-net device (%s): %s\n", which, vnet_strerror(rc));
		return rc;
	}
	pc.count = appliance_arg_u32("pool", 2048);
	rc = vnet_pool_create(&a->pool, &pc);
	if (rc) {
		printf("echo: pool: %s\n", vnet_strerror(rc));
		goto fail_t;
	}
	dc.pool = a->pool;
	dc.rx_ring_size = dc.tx_ring_size = (uint16_t)appliance_arg_u32("ring", 0);
	rc = vnet_dev_open(&a->dev, a->t, &dc);
	if (rc) {
		printf("echo: device: %s\n", vnet_strerror(rc));
		goto fail_pool;
	}
	rc = vnet_iface_init4(&a->ifc, a->dev, a->ip, a->mask, a->gw);
	if (rc) {
		printf("echo: interface: %s\n", vnet_strerror(rc));
		goto fail_dev;
	}
	vnet_dev_config(a->dev, &cfg);
	printf("echo: %s nic %02x:%02x:%02x:%02x:%02x:%02x mtu %u link %s features 0x%llx\n", a->transport,
	       cfg.mac[0], cfg.mac[1], cfg.mac[2], cfg.mac[3], cfg.mac[4], cfg.mac[5], (unsigned)cfg.mtu,
	       cfg.link_up ? "up" : "down", (unsigned long long)cfg.features);
	return 0;
fail_dev:
	vnet_dev_close(a->dev);
fail_pool:
	vnet_pool_destroy(a->pool);
fail_t:
	vnet_transport_close(a->t);
	return rc;
}

void appliance_down(struct appliance *a)
{
	vnet_iface_close(a->ifc);
	vnet_dev_close(a->dev);
	if (vnet_pool_in_use(a->pool))
		printf("echo: %u buffers still out at exit\n", (unsigned)vnet_pool_in_use(a->pool));
	vnet_pool_destroy(a->pool);
	vnet_transport_close(a->t);
}

void appliance_print_stats(const struct appliance *a)
{
	struct vnet_iface_stats s;

	if (vnet_iface_stats(a->ifc, &s))
		return;
	printf("stats: rx %llu pkts %llu bytes (zero-copy %llu, copied %llu) | tx %llu pkts %llu bytes, "
	       "kicks %llu, ring-full %llu | drops: bad-id %llu bad-len %llu bad-idx %llu pool-empty %llu | "
	       "tcp rx %llu tx %llu | icmp rx %llu tx %llu | udp rx %llu tx %llu\n",
	       (unsigned long long)s.rxq.packets, (unsigned long long)s.rxq.bytes,
	       (unsigned long long)s.rx_zero_copy, (unsigned long long)s.rx_copied,
	       (unsigned long long)s.txq.packets, (unsigned long long)s.txq.bytes,
	       (unsigned long long)s.txq.kicks, (unsigned long long)s.tx_ring_full,
	       (unsigned long long)(s.rxq.drop_bad_id + s.txq.drop_bad_id),
	       (unsigned long long)s.rxq.drop_bad_len,
	       (unsigned long long)(s.rxq.drop_bad_idx + s.txq.drop_bad_idx),
	       (unsigned long long)s.rxq.drop_pool_empty, (unsigned long long)s.tcp.recv,
	       (unsigned long long)s.tcp.xmit, (unsigned long long)s.icmp.recv,
	       (unsigned long long)s.icmp.xmit, (unsigned long long)s.udp.recv, (unsigned long long)s.udp.xmit);
}
