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

int appliance_arg_bool(const char *key, int def)
{
	char v[8];

	if (vnet_cmdline_get(key, v, sizeof(v)))
		return def;
	if (!strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "yes"))
		return 1;
	if (!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "no"))
		return 0;
	printf("echo: ignoring %s=%s (want on or off)\n", key, v);
	return def;
}

/* "ADDR[/LEN]" into @addr (at most @cap bytes) and the prefix length:
 * @def without one, 1..@max with one. */
static int split_cidr(const char *s, char *addr, size_t cap, unsigned long def, unsigned long max,
                      unsigned long *len)
{
	char *slash;

	if (strlen(s) >= cap)
		return -EINVAL;
	strcpy(addr, s);
	*len = def;
	slash = strchr(addr, '/');
	if (slash) {
		char *end;
		*slash = '\0';
		*len = strtoul(slash + 1, &end, 10);
		if (end == slash + 1 || *end || *len < 1 || *len > max)
			return -EINVAL;
	}
	return 0;
}

static int parse_cidr(const char *s, uint32_t *ip, uint32_t *mask)
{
	char buf[32];
	unsigned long len;

	if (split_cidr(s, buf, sizeof(buf), 24, 30, &len) || vnet_iface_parse_ip4(buf, ip))
		return -EINVAL;
	*mask = (uint32_t)(0xffffffffull << (32 - len));
	return 0;
}

/* ip6=ADDR/LEN (the length defaults to 64). */
static int parse_cidr6(const char *s, uint8_t ip[16], uint8_t *len)
{
	char buf[64];
	unsigned long n;

	if (split_cidr(s, buf, sizeof(buf), 64, 128, &n) || vnet_iface_parse_ip6(buf, ip))
		return -EINVAL;
	*len = (uint8_t)n;
	return 0;
}

/* The interface's IPv6 addresses, one line. */
static void print_ip6(const struct appliance *a)
{
	struct vnet_iface_ip6 v;
	char txt[VNET_IFACE_IP6_STRLEN];
	unsigned i;

	printf("echo: ipv6");
	for (i = 0; vnet_iface_ip6(a->ifc, i, &v) == 0; i++) {
		vnet_iface_format_ip6(v.addr, txt, sizeof(txt));
		printf(" %s/%u", txt, (unsigned)v.prefix_len);
	}
	printf("%s\n", i ? "" : " off");
}

#ifdef VNET_BAREMETAL_HAS_IDLE
static void mmio_ack(void *t)
{
	vnet_mmio_intr_ack(t);
}

#ifdef VNET_BAREMETAL_HAS_MMIO_IRQ
static void pci_ack(void *t)
{
	vnet_pci_intr_ack(t);
}
#endif

/* Route @line to the halt with @ack; say so. */
static void wire_line(struct appliance *a, uint32_t line, void (*ack)(void *), const char *kind)
{
	int rc = vnet_irq_line(line, ack, a->t);

	if (rc) {
		printf("echo: interrupt line %u: %s\n", (unsigned)line, vnet_strerror(rc));
		return;
	}
	a->irq = 1;
	a->irq_kind = kind;
	a->irq_line = (int)line;
	printf("echo: the NIC's interrupt: %s, line %u\n", kind, (unsigned)line);
}

/* The wired line of the virtio-mmio window in use: its
 * `virtio_mmio.device=SIZE@BASE:IRQ` entry (microvm with acpi=off), else
 * what the device tree says (the virt machines). */
static int mmio_line(const struct appliance *a, uint32_t *line)
{
	uint64_t base;

	for (unsigned i = 0; vnet_mmio_cmdline_entry(vnet_cmdline(), i, &base, NULL, line) == 0; i++)
		if (base == vnet_mmio_base(a->t))
			return 0;
#ifdef VNET_BAREMETAL_HAS_MMIO_IRQ
	return vnet_machine_mmio_irq(vnet_mmio_base(a->t), line);
#else
	return -ENOENT;
#endif
}
#endif

/* Let the device's line end a halt (vnet_irq_line()), where its number is known. */
static void wire_mmio_line(struct appliance *a)
{
#ifdef VNET_BAREMETAL_HAS_IDLE
	uint32_t line;

	if (mmio_line(a, &line)) {
		printf("echo: the virtio-mmio window's interrupt line is unknown: no halting when idle\n");
		return;
	}
	wire_line(a, line, mmio_ack, "line");
#else
	(void)a;
#endif
}

/* A PCI device without MSI-X: its INTx pin, where the device tree routes it. */
static void wire_intx(struct appliance *a)
{
#ifdef VNET_BAREMETAL_HAS_MMIO_IRQ
	uint32_t bdf, line;
	uint8_t pin;

	if (vnet_pci_intx(a->t, &bdf, &pin) || vnet_machine_pci_irq(bdf, pin, &line)) {
		printf("echo: the NIC's INTx is not routed: no halting when idle\n");
		return;
	}
	wire_line(a, line, pci_ack, "INTx");
#else
	(void)a;
#endif
}

static int find_nic(struct appliance *a, const char *which)
{
	const struct vnet_machine *m = vnet_machine();
	int rc = -ENODEV;

	if (!strcmp(which, "auto") || !strcmp(which, "pci")) {
		struct vnet_pci_opts po;
		memset(&po, 0, sizeof(po));
		po.ecam_base = m->pci_ecam;
		po.bar_window = m->pci_bar_window;
		po.io_window = m->pci_io_window; /* a legacy device's I/O BAR0 off x86 */
		po.io_window_size = m->pci_io_size;
		/* a transitional device's legacy interface even with the modern one */
		po.legacy = appliance_arg_bool("legacy", 0);
		if (m->msi_addr && appliance_arg_bool("irq", 1)) {
			po.msi_addr = m->msi_addr;
			po.msi_data = m->msi_data;
		}
		rc = vnet_pci_open(&a->t, &po);
		if (rc == 0) {
			a->transport = "pci";
			a->irq = po.msi_addr != 0;
			a->irq_kind = "MSI-X";
			if (!a->irq && appliance_arg_bool("irq", 1))
				wire_intx(a);
			return 0;
		}
		if (strcmp(which, "auto") != 0)
			return rc;
	}
	if (!strcmp(which, "auto") || !strcmp(which, "mmio")) {
		struct vnet_mmio_range r = { (uintptr_t)m->mmio_base, m->mmio_stride, m->mmio_count };
		rc = vnet_mmio_find_in(&a->t, vnet_cmdline(), m->mmio_count ? &r : NULL, 0);
		if (rc == 0) {
			a->transport = "mmio";
			if (appliance_arg_bool("irq", 1))
				wire_mmio_line(a);
		}
	}
	return rc;
}

static const struct {
	uint64_t bit;
	const char *name;
} feature_names[] = {
	{VNET_F_CSUM, "CSUM"}, {VNET_F_GUEST_CSUM, "GUEST_CSUM"}, {VNET_F_MTU, "MTU"},
	{VNET_F_MAC, "MAC"}, {VNET_F_GUEST_TSO4, "GUEST_TSO4"}, {VNET_F_GUEST_TSO6, "GUEST_TSO6"},
	{VNET_F_HOST_TSO4, "HOST_TSO4"}, {VNET_F_HOST_TSO6, "HOST_TSO6"}, {VNET_F_MRG_RXBUF, "MRG_RXBUF"},
	{VNET_F_STATUS, "STATUS"}, {VNET_F_CTRL_VQ, "CTRL_VQ"}, {VNET_F_CTRL_RX, "CTRL_RX"},
	{VNET_F_CTRL_VLAN, "CTRL_VLAN"}, {VNET_F_GUEST_ANNOUNCE, "GUEST_ANNOUNCE"}, {VNET_F_MQ, "MQ"},
	{VNET_F_CTRL_MAC_ADDR, "CTRL_MAC_ADDR"}, {VNET_F_CTRL_GUEST_OFFLOADS, "CTRL_GUEST_OFFLOADS"},
	{VNET_F_SPEED_DUPLEX, "SPEED_DUPLEX"},
	{VNET_F_INDIRECT_DESC, "INDIRECT_DESC"}, {VNET_F_EVENT_IDX, "EVENT_IDX"},
	{VNET_F_VERSION_1, "VERSION_1"}, {VNET_F_ACCESS_PLATFORM, "ACCESS_PLATFORM"},
	{VNET_F_RING_PACKED, "RING_PACKED"}, {VNET_F_IN_ORDER, "IN_ORDER"}, {VNET_F_RING_RESET, "RING_RESET"},
};

static void print_names(uint64_t f)
{
	size_t i;

	for (i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++)
		if (f & feature_names[i].bit)
			printf(" %s", feature_names[i].name);
}

static void print_features(const char *what, uint64_t f)
{
	printf("echo: %s:", what);
	print_names(f);
	printf("\n");
}

int appliance_rx_offloads(struct appliance *a, int on)
{
	struct vnet_net_config cfg;
	uint64_t want = 0;
	int rc;

	if (on && vnet_dev_config(a->dev, &cfg) == 0)
		want = cfg.features & VNET_RX_OFFLOADS;
	rc = vnet_dev_set_rx_offloads(a->dev, want);
	printf("echo: receive offloads %s: %s; in force:%s", on ? "on" : "off", vnet_strerror(rc),
	       vnet_dev_rx_offloads(a->dev) ? "" : " none");
	print_names(vnet_dev_rx_offloads(a->dev));
	printf("\n");
	return rc;
}

/* What to ask the device for, from offload= and the finer switches. The
 * spec's dependencies (5.1.3.1) are kept: HOST_TSO4/6 need CSUM, GUEST_TSO4/6
 * need GUEST_CSUM. */
static uint64_t wanted_features(void)
{
	int all = appliance_arg_bool("offload", 1);
	int csum = appliance_arg_bool("csum", all), tso = appliance_arg_bool("tso", all);
	int lro = appliance_arg_bool("lro", all), mrg = appliance_arg_bool("mrg", all);
	/* CTRL_GUEST_OFFLOADS: receive offloads switched at run time (rxoff=,
	 * and "rxoff"/"rxon" on the control port) */
	uint64_t f = VNET_F_DEFAULT | VNET_F_CTRL_VQ | VNET_F_GUEST_ANNOUNCE | VNET_F_SPEED_DUPLEX |
	             VNET_F_CTRL_GUEST_OFFLOADS;

	if (csum)
		f |= VNET_F_CSUM | VNET_F_GUEST_CSUM;
	if (tso && csum)
		f |= VNET_F_HOST_TSO4 | VNET_F_HOST_TSO6;
	if (lro && csum)
		f |= VNET_F_GUEST_TSO4 | VNET_F_GUEST_TSO6;
	if ((tso || lro) && !csum)
		printf("echo: tso/lro need csum=on; left off\n");
	if (mrg)
		f |= VNET_F_MRG_RXBUF;
	if (appliance_arg_bool("packed", 0)) /* the packed ring (QEMU: packed=on) */
		f |= VNET_F_RING_PACKED;
	return f;
}

static int open_device(struct appliance *a, struct vnet_dev_conf *dc)
{
	struct vnet_net_config cfg;
	int rc;

	rc = vnet_dev_open(&a->dev, a->t, dc);
	if (rc)
		return rc;
	vnet_dev_config(a->dev, &cfg);
	/* Large segments need somewhere to land: MRG_RXBUF or 64 KiB buffers.
	 * A device offering GUEST_TSO4 without MRG_RXBUF gets asked again
	 * without it. */
	if ((cfg.features & (VNET_F_GUEST_TSO4 | VNET_F_GUEST_TSO6)) && !(cfg.features & VNET_F_MRG_RXBUF) &&
	    vnet_pool_data_room(a->pool) < 65550) {
		printf("echo: the device offers GUEST_TSO4/6 without MRG_RXBUF; asking again without them\n");
		vnet_dev_close(a->dev);
		a->dev = NULL;
		dc->features &= ~(VNET_F_GUEST_TSO4 | VNET_F_GUEST_TSO6);
		rc = vnet_dev_open(&a->dev, a->t, dc);
	}
	return rc;
}

/* The jumbo TX pool, when the interface will send frames past a pool
 * buffer: TSO frames (64 KiB) or an MTU past the data room. */
static int make_jumbo(struct appliance *a, uint32_t mtu)
{
	struct vnet_pool_conf pc = {0};
	struct vnet_net_config cfg;
	uint32_t need = 0;
	int rc;

	vnet_dev_config(a->dev, &cfg);
	if (mtu + 14 > vnet_pool_data_room(a->pool))
		need = (mtu + 14 + 64 + 63) / 64 * 64;
	if ((cfg.features & VNET_F_CSUM) && (cfg.features & (VNET_F_HOST_TSO4 | VNET_F_HOST_TSO6)))
		need = 65536;
	if (need == 0)
		return 0;
	pc.count = appliance_arg_u32("jumbo", 64);
	if (pc.count == 0)
		return 0;
	pc.buf_size = need > 65536 ? 65536 : need;
	rc = vnet_pool_create(&a->jumbo, &pc);
	if (rc)
		printf("echo: jumbo pool (%u x %u): %s\n", (unsigned)pc.count, (unsigned)pc.buf_size,
		       vnet_strerror(rc));
	return rc;
}

/* Mask the wired line before its handler's transport goes. */
static void unwire(struct appliance *a)
{
#ifdef VNET_BAREMETAL_HAS_IDLE
	if (a->irq_line >= 0)
		vnet_irq_line((uint32_t)a->irq_line, NULL, NULL);
#endif
	a->irq_line = -1;
}

int appliance_up(struct appliance *a)
{
	char ipstr[40] = "10.99.0.2/24", gwstr[20] = "10.99.0.1", which[8] = "auto", ip6str[64];
	struct vnet_pool_conf pc = {0};
	struct vnet_dev_conf dc = {0};
	struct vnet_iface_conf ic = {0};
	struct vnet_iface_info info;
	struct vnet_net_config cfg;
	uint32_t mtu;
	int rc;

	memset(a, 0, sizeof(*a));
	a->irq_line = -1;
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
	if (vnet_cmdline_get("ip6", ip6str, sizeof(ip6str)) == 0 && parse_cidr6(ip6str, a->ip6, &a->ip6_len)) {
		printf("echo: bad ip6=%s (want ADDR/LEN)\n", ip6str);
		return -EINVAL;
	}
	rc = find_nic(a, which);
	if (rc) {
		printf("echo: no virtio-net device (%s): %s\n", which, vnet_strerror(rc));
		return rc;
	}
	pc.count = appliance_arg_u32("pool", 2048);
	/* 8 KiB buffers: a 64 KiB segment (GUEST_TSO4) spans 8 of them instead
	 * of 33, and a device's per-buffer work (QEMU maps each one) shrinks
	 * with them; measured ~10% more iperf throughput under QEMU than 2 KiB */
	pc.buf_size = appliance_arg_u32("buf", 8192);
	rc = vnet_pool_create(&a->pool, &pc);
	if (rc) {
		printf("echo: pool: %s\n", vnet_strerror(rc));
		goto fail_t;
	}
	dc.pool = a->pool;
	dc.rx_ring_size = dc.tx_ring_size = (uint16_t)appliance_arg_u32("ring", 0);
	dc.features = wanted_features();
	rc = open_device(a, &dc);
	if (rc) {
		printf("echo: device: %s\n", vnet_strerror(rc));
		goto fail_pool;
	}
	vnet_dev_config(a->dev, &cfg);
	mtu = appliance_arg_u32("mtu", 0);
	rc = make_jumbo(a, mtu ? mtu : cfg.mtu);
	if (rc)
		goto fail_dev;
	ic.ip = a->ip;
	ic.netmask = a->mask;
	ic.gateway = a->gw;
	memcpy(ic.ip6, a->ip6, sizeof(ic.ip6));
	ic.ip6_prefix_len = a->ip6_len;
	ic.pool = a->pool;
	ic.tx_jumbo_pool = a->jumbo;
	ic.mtu = (uint16_t)(mtu > 65535 ? 65535 : mtu);
	ic.no_gro = !appliance_arg_bool("gro", 1);
	rc = vnet_iface_init_conf(&a->ifc, a->dev, &ic);
	if (rc) {
		printf("echo: interface: %s\n", vnet_strerror(rc));
		goto fail_dev;
	}
	/* negotiated, then turned off at run time: what "offloads in use" shows */
	if (appliance_arg_bool("rxoff", 0))
		appliance_rx_offloads(a, 0);
	vnet_iface_info(a->ifc, &info);
	printf("echo: %s nic %02x:%02x:%02x:%02x:%02x:%02x mtu %u link %s features 0x%llx\n", a->transport,
	       cfg.mac[0], cfg.mac[1], cfg.mac[2], cfg.mac[3], cfg.mac[4], cfg.mac[5], (unsigned)info.mtu,
	       cfg.link_up ? "up" : "down", (unsigned long long)cfg.features);
	print_features("asked", dc.features);
	print_features("negotiated", cfg.features);
	/* the layout the driver set its queues up in: packed with RING_PACKED
	 * negotiated (lib/net/dev.c), which the device then uses too */
	printf("echo: ring layout: %s\n", (cfg.features & VNET_F_RING_PACKED) ? "packed" : "split");
	printf("echo: interface: %s, header %u bytes\n", vnet_transport_legacy(a->t) == 1 ? "legacy" : "modern",
	       (unsigned)vnet_dev_hdr_len(a->dev));
	printf("echo: offloads in use:%s%s%s%s%s%s%s%s; mtu %u, largest TX frame %u", info.offloads ? "" : " none",
	       (info.offloads & VNET_IFACE_OFF_TX_CSUM) ? " tx-csum" : "",
	       (info.offloads & VNET_IFACE_OFF_RX_CSUM) ? " rx-csum" : "",
	       (info.offloads & VNET_IFACE_OFF_TSO) ? " tso" : "", (info.offloads & VNET_IFACE_OFF_TSO6) ? " tso6" : "",
	       (info.offloads & VNET_IFACE_OFF_LRO) ? " lro" : "", (info.offloads & VNET_IFACE_OFF_LRO6) ? " lro6" : "",
	       (info.offloads & VNET_IFACE_OFF_MRG) ? " mrg" : "", (unsigned)info.mtu, (unsigned)info.max_frame);
	if (info.speed_mbps != UINT32_MAX)
		printf(", link %u Mbit/s %s", (unsigned)info.speed_mbps,
		       info.duplex == 1 ? "full duplex" : info.duplex == 0 ? "half duplex" : "duplex unknown");
	printf("\n");
	print_ip6(a);
	return 0;
fail_dev:
	vnet_dev_close(a->dev);
	if (a->jumbo)
		vnet_pool_destroy(a->jumbo);
fail_pool:
	vnet_pool_destroy(a->pool);
fail_t:
	unwire(a);
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
	if (a->jumbo) {
		if (vnet_pool_in_use(a->jumbo))
			printf("echo: %u jumbo buffers still out at exit\n", (unsigned)vnet_pool_in_use(a->jumbo));
		vnet_pool_destroy(a->jumbo);
	}
	unwire(a);
	vnet_transport_close(a->t);
}

void appliance_print_stats(const struct appliance *a)
{
	struct vnet_iface_stats s;

	if (vnet_iface_stats(a->ifc, &s))
		return;
	printf("stats: rx %llu pkts %llu bytes (zero-copy %llu, copied %llu) | tx %llu pkts %llu bytes, "
	       "kicks %llu, ring-full %llu | drops: bad-id %llu bad-len %llu bad-idx %llu pool-empty %llu | "
	       "recoveries %lu | tcp rx %llu tx %llu | icmp rx %llu tx %llu | udp rx %llu tx %llu\n",
	       (unsigned long long)s.rxq.packets, (unsigned long long)s.rxq.bytes,
	       (unsigned long long)s.rx_zero_copy, (unsigned long long)s.rx_copied,
	       (unsigned long long)s.txq.packets, (unsigned long long)s.txq.bytes,
	       (unsigned long long)s.txq.kicks, (unsigned long long)s.tx_ring_full,
	       (unsigned long long)(s.rxq.drop_bad_id + s.txq.drop_bad_id),
	       (unsigned long long)s.rxq.drop_bad_len,
	       (unsigned long long)(s.rxq.drop_bad_idx + s.txq.drop_bad_idx),
	       (unsigned long long)s.rxq.drop_pool_empty, a->recoveries, (unsigned long long)s.tcp.recv,
	       (unsigned long long)s.tcp.xmit, (unsigned long long)s.icmp.recv,
	       (unsigned long long)s.icmp.xmit, (unsigned long long)s.udp.recv, (unsigned long long)s.udp.xmit);
	printf("stats: offloads: rx chained %llu gso %llu csum trusted %llu (partial %llu, finished %llu, "
	       "bad hdr %llu) too-big %llu | tx csum %llu jumbo %llu gso %llu (%llu segments) | "
	       "chkerr tcp %llu ip %llu | announces %llu | rx coalesced %llu (%llu segments, capped %llu)\n",
	       (unsigned long long)s.rx_chained, (unsigned long long)s.rx_gso,
	       (unsigned long long)s.rx_csum_trusted, (unsigned long long)s.rx_csum_partial,
	       (unsigned long long)s.rx_csum_finished, (unsigned long long)s.rx_bad_hdr,
	       (unsigned long long)s.rx_too_big, (unsigned long long)s.tx_csum_offload,
	       (unsigned long long)s.tx_jumbo, (unsigned long long)s.tx_gso, (unsigned long long)s.tx_gso_segs,
	       (unsigned long long)s.tcp.chkerr, (unsigned long long)s.ip.chkerr,
	       (unsigned long long)s.announces, (unsigned long long)s.rx_gro, (unsigned long long)s.rx_gro_segs,
	       (unsigned long long)s.rx_gro_capped);
	printf("stats: syn guard: syns %llu shed %llu (pool reserve %llu) | half-open %u, peak %u, bound %u per "
	       "listener | tcp pcbs %u of %u | lwip out of memory: heap %llu, pools %llu\n",
	       (unsigned long long)s.syn_seen, (unsigned long long)s.syn_shed, (unsigned long long)s.syn_shed_reserve,
	       (unsigned)s.syn_half_open, (unsigned)s.syn_half_open_peak, (unsigned)s.syn_half_open_max,
	       (unsigned)s.tcp_pcbs_used, (unsigned)s.tcp_pcbs, (unsigned long long)s.mem_err,
	       (unsigned long long)s.memp_err);
	printf("stats: rx offloads in force:%s", vnet_dev_rx_offloads(a->dev) ? "" : " none");
	print_names(vnet_dev_rx_offloads(a->dev));
	printf("\n");
	printf("stats: ipv6: rx gso6 %llu bad-gso %llu | tx gso6 %llu (%llu segments) | ip6 rx %llu tx %llu "
	       "drop %llu | icmp6 rx %llu tx %llu | nd6 rx %llu tx %llu\n",
	       (unsigned long long)s.rx_gso6, (unsigned long long)s.rx_bad_gso, (unsigned long long)s.tx_gso6,
	       (unsigned long long)s.tx_gso6_segs, (unsigned long long)s.ip6.recv, (unsigned long long)s.ip6.xmit,
	       (unsigned long long)s.ip6.drop, (unsigned long long)s.icmp6.recv, (unsigned long long)s.icmp6.xmit,
	       (unsigned long long)s.nd6.recv, (unsigned long long)s.nd6.xmit);
}
