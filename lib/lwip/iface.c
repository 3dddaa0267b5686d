/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Interface API (include/vnet/iface.h): lwIP's raw API behind opaque
 * handles, in the spirit of the Go package's Interface. lwIP is global and
 * single-threaded (NO_SYS); every function here runs on the polling thread.
 * This file: set-up, the poll step, settings, addresses and counters; TCP
 * in tcp.c, UDP in udp.c; ICMP is lwIP's own, its echo filter the netif's
 * (rx.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/opt.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/ip6_addr.h"
#include "lwip/netif.h"
#include "lwip/stats.h"
#include "lwip/timeouts.h"

#include "base/addr.h"
#include "base/platform.h"
#include "iface_priv.h"

#ifndef VNET_LWIP_RX_COPY
#define VNET_LWIP_RX_COPY 0
#endif

_Static_assert(VNET_IFACE_IP6_STRLEN == VNET_ADDR_IP6_STRLEN, "the API's room for an IPv6 address is base/addr's");

static bool lwip_ready;

static struct vnet_pool *dev_pool(const struct vnet_dev *dev)
{
	return vnet_dev_pool(dev);
}

/* ----------------------------------------------------------- addresses -- */

int vnet_iface_parse_ip4(const char *s, uint32_t *out)
{
	return vnet_addr_parse_ip4(s, out);
}

int vnet_iface_parse_addr4(const char *s, uint32_t *ip, uint16_t *port)
{
	return vnet_addr_parse_ip4_port(s, ip, port);
}

int vnet_iface_parse_ip6(const char *s, uint8_t out[16])
{
	return vnet_addr_parse_ip6(s, out);
}

int vnet_iface_format_ip6(const uint8_t ip[16], char *buf, size_t len)
{
	return vnet_addr_format_ip6(ip, buf, len);
}

int vnet_iface_parse_addr(const char *s, struct vnet_addr *out)
{
	if (s == NULL || out == NULL)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (s[0] != '[') {
		out->family = VNET_ADDR_IP4;
		return vnet_addr_parse_ip4_port(s, &out->ip4, &out->port);
	}
	out->family = VNET_ADDR_IP6;
	return vnet_addr_parse_ip6_port(s, out->ip6, &out->port);
}

/* -------------------------------------------------------- interface -- */

static void lwip_once(void)
{
	if (!lwip_ready) {
		lwip_init();
		lwip_ready = true;
	}
}

int vnet_iface_init_conf(struct vnet_iface **out, struct vnet_dev *dev,
                         const struct vnet_iface_conf *conf)
{
	struct vnet_netif_conf nc;
	struct vnet_iface *ifc;
	struct vnet_pool *pool;
	int rc;

	if (out == NULL || dev == NULL || conf == NULL)
		return -EINVAL;
	pool = conf->pool != NULL ? conf->pool : dev_pool(dev);
	if (pool == NULL)
		return -EINVAL;
	*out = NULL;
	if (conf->ip == 0 || conf->ip == 0xffffffffu || !vnet_addr_mask4_ok(conf->netmask))
		return -EINVAL;
	if (conf->mtu != 0 && conf->mtu < 68) /* IPv4's minimum (RFC 791) */
		return -EINVAL;
	if (conf->ip6_prefix_len > 128 ||
	    (!vnet_addr_ip6_zero(conf->ip6) && (conf->no_ip6 || !vnet_addr_ip6_unicast(conf->ip6))))
		return -EINVAL;
	lwip_once();

	ifc = calloc(1, sizeof(*ifc));
	if (ifc == NULL)
		return -ENOMEM;
	ifc->dev = dev;
	ifc->max_tcp = conf->max_tcp ? conf->max_tcp : (uint16_t)(MEMP_NUM_TCP_PCB > 65535 ? 65535 : MEMP_NUM_TCP_PCB);
	ifc->max_lis = conf->max_listeners ? conf->max_listeners : 16u;
	ifc->max_udp = conf->max_udp ? conf->max_udp : 16u;
	rc = vnet_ifc_tcp_alloc(ifc);
	if (rc == 0)
		rc = vnet_ifc_udp_alloc(ifc);
	if (rc != 0)
		goto fail;

	memset(&nc, 0, sizeof(nc));
	nc.ip = conf->ip;
	nc.netmask = conf->netmask;
	nc.gateway = conf->gateway;
	nc.pool = pool;
	nc.rx_reserve = conf->rx_reserve;
	nc.link_poll_ms = conf->link_poll_ms;
	nc.rx_burst = conf->rx_burst;
	nc.rx_copy = conf->rx_copy || VNET_LWIP_RX_COPY;
	nc.icmp_echo = conf->icmp_echo;
	nc.rx_csum_check = !conf->no_rx_csum_check;
	nc.make_default = conf->default_netif || netif_default == NULL;
	nc.jumbo_pool = conf->tx_jumbo_pool;
	nc.mtu = conf->mtu;
	nc.no_tx_csum = conf->no_tx_csum;
	nc.no_tso = conf->no_tso;
	nc.no_gro = conf->no_gro;
	memcpy(nc.ip6, conf->ip6, sizeof(nc.ip6));
	nc.ip6_prefix_len = conf->ip6_prefix_len;
	nc.no_ip6 = conf->no_ip6;
	/* A transport that gives a backend only its device's memory
	 * (vhost-user) must know the jumbo pool: TX frames come from it. */
	if (conf->tx_jumbo_pool != NULL) {
		rc = vnet_dev_share_pool(dev, conf->tx_jumbo_pool);
		if (rc != 0)
			goto fail;
	}
	rc = vnet_netif_add(&ifc->vn, dev, ifc, &nc);
	if (rc != 0)
		goto fail;
	*out = ifc;
	return 0;

fail:
	free(ifc->udp);
	free(ifc->lis);
	free(ifc->tcp);
	free(ifc);
	return rc;
}

int vnet_iface_init4(struct vnet_iface **ifc, struct vnet_dev *dev,
                     uint32_t ip, uint32_t netmask, uint32_t gateway)
{
	struct vnet_iface_conf conf;

	if (ifc == NULL || dev == NULL)
		return -EINVAL;
	memset(&conf, 0, sizeof(conf));
	conf.ip = ip;
	conf.netmask = netmask;
	conf.gateway = gateway;
	conf.pool = dev_pool(dev);
	return vnet_iface_init_conf(ifc, dev, &conf);
}

int vnet_iface_init(struct vnet_iface **ifc, struct vnet_dev *dev,
                    const char *ip, const char *netmask, const char *gateway)
{
	uint32_t a, m, g = 0;

	if (ifc == NULL || dev == NULL || ip == NULL || netmask == NULL)
		return -EINVAL;
	if (vnet_iface_parse_ip4(ip, &a) != 0 || vnet_iface_parse_ip4(netmask, &m) != 0)
		return -EINVAL;
	if (gateway != NULL && gateway[0] != '\0' && vnet_iface_parse_ip4(gateway, &g) != 0)
		return -EINVAL;
	return vnet_iface_init4(ifc, dev, a, m, g);
}

void vnet_iface_close(struct vnet_iface *ifc)
{
	if (ifc == NULL)
		return;
	ifc->closing = true;
	vnet_ifc_tcp_close_all(ifc);
	vnet_ifc_udp_close_all(ifc);
	/* Connections the application closed but lwIP still runs (FIN_WAIT,
	 * LAST_ACK...) are aborted by netif_remove: they are bound to our
	 * address. That frees any received frames they held. */
	vnet_netif_remove(&ifc->vn);
	if (netif_default == NULL && netif_list != NULL)
		netif_set_default(netif_list);
	free(ifc->udp_scratch);
	free(ifc->udp);
	free(ifc->lis);
	free(ifc->tcp);
	free(ifc);
}

int vnet_iface_poll(struct vnet_iface *ifc)
{
	uint64_t now, tx0;
	uint32_t work;

	if (ifc == NULL)
		return -EINVAL;
	/* vnet_dev_broken() reads the device status (a VM exit on real
	 * hardware): only on the link-check schedule, or while broken. */
	if (vnet_unlikely(ifc->vn.broken)) {
		if (vnet_dev_broken(ifc->dev) == 1)
			return -EIO;
		ifc->vn.broken = false; /* recovered (vnet_dev_recover) */
	}
	now = vnet_now_us();
	vnet_netif_link_check(&ifc->vn, now, false);
	if (vnet_unlikely(ifc->vn.broken))
		return -EIO;
	if (ifc->dialing > 0 && now >= ifc->dial_next_us)
		vnet_ifc_tcp_expire_dials(ifc, now);
	if (ifc->wakes > 0)
		vnet_ifc_tcp_wake_readers(ifc);
	tx0 = ifc->vn.c.tx_frames;
	work = vnet_netif_rx(&ifc->vn);
	/* Timers before the flush, so retransmissions and delayed ACKs they
	 * produce leave in this step's burst. */
	sys_check_timeouts();
	vnet_netif_tx_flush(&ifc->vn);
	vnet_rx_refill(ifc->dev, 0);
	work += (uint32_t)(ifc->vn.c.tx_frames - tx0);
	return work > INT_MAX ? INT_MAX : (int)work;
}

uint32_t vnet_iface_sleeptime_ms(void)
{
	u32_t ms;

	if (!lwip_ready)
		return UINT32_MAX;
	ms = sys_timeouts_sleeptime();
	return ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE ? UINT32_MAX : ms;
}

int vnet_iface_enable_icmp(struct vnet_iface *ifc, bool on)
{
	if (ifc == NULL)
		return -EINVAL;
	ifc->vn.icmp_echo = on;
	return 0;
}

void vnet_iface_set_rx_copy(struct vnet_iface *ifc, bool on)
{
	if (ifc == NULL)
		return;
	ifc->vn.rx_copy = on;
}

void vnet_iface_set_rx_csum_check(struct vnet_iface *ifc, bool on)
{
	if (ifc == NULL)
		return;
	ifc->vn.rx_csum_check = on;
	vnet_netif_csum_apply(&ifc->vn);
}

uint32_t vnet_iface_ip4(const struct vnet_iface *ifc)
{
	if (ifc == NULL)
		return 0;
	return lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(&ifc->vn.nif)));
}

int vnet_iface_ip6(const struct vnet_iface *ifc, unsigned i, struct vnet_iface_ip6 *out)
{
	const struct netif *nif;
	unsigned slot, n = 0;
	uint8_t st;

	if (ifc == NULL || out == NULL)
		return -EINVAL;
	nif = &ifc->vn.nif;
	for (slot = 0; slot < LWIP_IPV6_NUM_ADDRESSES; slot++) {
		st = netif_ip6_addr_state(nif, slot);
		if (ip6_addr_isinvalid(st) || n++ != i)
			continue;
		memset(out, 0, sizeof(*out));
		memcpy(out->addr, netif_ip6_addr(nif, slot)->addr, 16);
		out->link_local = ip6_addr_islinklocal(netif_ip6_addr(nif, slot)) != 0;
		out->prefix_len = out->link_local ? 64u : vnet_lwip_prefix6(nif, slot);
		if (out->prefix_len == 0)
			out->prefix_len = 64; /* lwIP's own rule */
		out->usable = ip6_addr_isvalid(st) != 0;
		out->duplicate = ip6_addr_isduplicated(st) != 0;
		return 0;
	}
	return -ENOENT;
}

void vnet_iface_mac(const struct vnet_iface *ifc, uint8_t mac[6])
{
	if (mac == NULL)
		return;
	if (ifc == NULL)
		memset(mac, 0, 6);
	else
		memcpy(mac, ifc->vn.nif.hwaddr, 6);
}

bool vnet_iface_link_up(const struct vnet_iface *ifc)
{
	if (ifc == NULL)
		return false;
	return netif_is_link_up(&ifc->vn.nif) != 0;
}

int vnet_iface_info(const struct vnet_iface *ifc, struct vnet_iface_info *out)
{
	const struct vnet_netif *vn;
	uint64_t rx;
	bool csum;

	if (ifc == NULL || out == NULL)
		return -EINVAL;
	vn = &ifc->vn;
	memset(out, 0, sizeof(*out));
	out->features = vn->features;
	/* the receive offloads in force now, as the next RX burst follows them */
	rx = vnet_dev_rx_offloads(vn->dev);
	csum = (rx & VNET_F_GUEST_CSUM) != 0;
	out->offloads = (vn->tx_csum ? VNET_IFACE_OFF_TX_CSUM : 0u) |
	                (csum && vn->rx_csum_check ? VNET_IFACE_OFF_RX_CSUM : 0u) |
	                (vn->tx_tso4 ? VNET_IFACE_OFF_TSO : 0u) |
	                (csum && (rx & VNET_F_GUEST_TSO4) ? VNET_IFACE_OFF_LRO : 0u) |
	                (vn->mrg ? VNET_IFACE_OFF_MRG : 0u) | (vn->tx_tso6 ? VNET_IFACE_OFF_TSO6 : 0u) |
	                (csum && (rx & VNET_F_GUEST_TSO6) ? VNET_IFACE_OFF_LRO6 : 0u);
	out->mtu = vn->nif.mtu;
	out->link_up = netif_is_link_up(&vn->nif) != 0;
	out->duplex = vn->duplex;
	out->speed_mbps = vn->speed_mbps;
	out->max_frame = vn->jumbo_room > vn->data_room ? vn->jumbo_room : vn->data_room;
	return 0;
}

struct netif *vnet_iface_netif(struct vnet_iface *ifc)
{
	return ifc != NULL ? &ifc->vn.nif : NULL;
}

void vnet_iface_set_link_cb(struct vnet_iface *ifc, vnet_iface_link_fn fn, void *arg)
{
	if (ifc == NULL)
		return;
	ifc->vn.link_cb = fn;
	ifc->vn.link_arg = arg;
}

void vnet_iface_set_frame_hook(struct vnet_iface *ifc, vnet_iface_frame_fn fn, void *arg)
{
	if (ifc == NULL)
		return;
	ifc->vn.frame_hook = fn;
	ifc->vn.frame_arg = arg;
}

int vnet_iface_send_frame(struct vnet_iface *ifc, const void *frame, uint32_t len)
{
	if (ifc == NULL || frame == NULL)
		return -EINVAL;
	return vnet_netif_send_raw(&ifc->vn, frame, len);
}

static void proto_copy(struct vnet_iface_proto_stats *d, const struct stats_proto *s)
{
	d->xmit = s->xmit;
	d->recv = s->recv;
	d->drop = s->drop;
	d->chkerr = s->chkerr;
	d->lenerr = s->lenerr;
	d->memerr = s->memerr;
	d->proterr = s->proterr;
}

int vnet_iface_stats(const struct vnet_iface *ifc, struct vnet_iface_stats *out)
{
	const struct vnet_netif_counters *c;
	struct vnet_lwip_syn_stats g;
	unsigned i;

	if (ifc == NULL || out == NULL)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	vnet_queue_stats(ifc->dev, 0, true, &out->rxq);
	vnet_queue_stats(ifc->dev, 0, false, &out->txq);
	c = &ifc->vn.c;
	out->rx_frames = c->rx_frames;
	out->rx_zero_copy = c->rx_zero_copy;
	out->rx_copied = c->rx_copied;
	out->rx_nomem = c->rx_nomem;
	out->rx_runt = c->rx_runt;
	out->rx_hooked = c->rx_hooked;
	out->rx_unknown = c->rx_unknown;
	out->rx_icmp_filtered = c->rx_icmp_filtered;
	out->rx_csum_trusted = c->rx_csum_trusted;
	out->tx_frames = c->tx_frames;
	out->tx_ring_full = c->tx_ring_full;
	out->tx_nobuf = c->tx_nobuf;
	out->tx_link_down = c->tx_link_down;
	out->tx_too_big = c->tx_too_big;
	out->link_changes = c->link_changes;
	out->rx_held = ifc->vn.rx_held;
	out->tx_queued = ifc->vn.tx_n;
	proto_copy(&out->link, &lwip_stats.link);
	proto_copy(&out->etharp, &lwip_stats.etharp);
	proto_copy(&out->ip, &lwip_stats.ip);
	proto_copy(&out->icmp, &lwip_stats.icmp);
	proto_copy(&out->udp, &lwip_stats.udp);
	proto_copy(&out->tcp, &lwip_stats.tcp);
	out->mem_err = lwip_stats.mem.err;
	for (i = 0; i < MEMP_MAX; i++)
		if (lwip_stats.memp[i] != NULL)
			out->memp_err += lwip_stats.memp[i]->err;
	out->lwip_asserts = vnet_lwip_assert_count();
	out->rx_chained = c->rx_chained;
	out->rx_gso = c->rx_gso;
	out->rx_gro = c->rx_gro;
	out->rx_gro_segs = c->rx_gro_segs;
	out->rx_gro_capped = c->rx_gro_capped;
	out->tx_large = c->tx_large;
	out->tx_large_conns = c->tx_large_conns;
	out->tx_large_broken = c->tx_large_broken;
	vnet_lwip_syn_stats(&g);
	out->syn_seen = g.syns;
	out->syn_shed = g.shed;
	out->syn_shed_reserve = g.shed_reserve;
	out->syn_half_open = g.half_open;
	out->syn_half_open_peak = g.half_open_peak;
	out->syn_half_open_max = g.half_open_max;
	out->tcp_pcbs_used = g.pcbs_used;
	out->tcp_pcbs = g.pcbs;
	out->rx_csum_partial = c->rx_csum_partial;
	out->rx_csum_finished = c->rx_csum_finished;
	out->rx_bad_hdr = c->rx_bad_hdr;
	out->rx_too_big = c->rx_too_big;
	out->tx_csum_offload = c->tx_csum_offload;
	out->tx_jumbo = c->tx_jumbo;
	out->tx_gso = c->tx_gso;
	out->tx_gso_segs = c->tx_gso_segs;
	out->announces = c->announces;
	out->rx_gso6 = c->rx_gso6;
	out->rx_bad_gso = c->rx_bad_gso;
	out->tx_gso6 = c->tx_gso6;
	out->tx_gso6_segs = c->tx_gso6_segs;
	proto_copy(&out->ip6, &lwip_stats.ip6);
	proto_copy(&out->icmp6, &lwip_stats.icmp6);
	proto_copy(&out->nd6, &lwip_stats.nd6);
	return 0;
}
