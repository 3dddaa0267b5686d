/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An lwIP netif over a vnet device, in the shape of lwIP's sample Ethernet
 * netif (doc/NO_SYS_SampleCode.c): the init callback and set-up (the
 * offloads the interface uses, the MTU, the MAC and addresses, lwIP's
 * checksum flags), the link state, and the two paths wired in: lwIP's
 * linkoutput is vnet_netif_linkoutput (TX and its offloads, tx.c), and
 * each poll step's vnet_netif_rx (RX and its offloads, rx.c; software
 * receive coalescing, gro.c) hands frames to lwIP's ethernet_input through
 * the one input entry here, vnet_netif_input.
 *
 * IPv6 (unless the conf turns it off): lwIP's ethip6_output, a link-local
 * address made from the MAC (modified EUI-64) and an optional static one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/opt.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/netif.h"
#include "netif/ethernet.h"

#include "base/platform.h"
#include "frame.h"
#include "glue.h"

/* ------------------------------------------------------------ checksums -- */

void vnet_netif_csum_apply(struct vnet_netif *vn)
{
	NETIF_SET_CHECKSUM_CTRL(&vn->nif, vnet_netif_csum_flags(vn));
}

/* ---------------------------------------------------------------- link -- */

void vnet_netif_link_check(struct vnet_netif *vn, uint64_t now_us, bool force)
{
	struct vnet_net_config cfg;

	if (!force && now_us < vn->link_next_us)
		return;
	vn->link_next_us = now_us + vn->link_poll_us;
	if (vnet_dev_broken(vn->dev) == 1) {
		vn->broken = true;
		return;
	}
	if (vnet_dev_config(vn->dev, &cfg) != 0)
		return;
	vn->speed_mbps = cfg.speed_mbps;
	vn->duplex = cfg.duplex;
	if (cfg.link_up != vn->link_up) {
		vn->link_up = cfg.link_up;
		vn->c.link_changes++;
		if (cfg.link_up)
			netif_set_link_up(&vn->nif);   /* also sends a gratuitous ARP */
		else
			netif_set_link_down(&vn->nif);
		if (vn->link_cb != NULL)
			vn->link_cb(vn->ifc, cfg.link_up, vn->link_arg);
	}
	/* STATUS ANNOUNCE (spec 5.1.4, 5.1.6.5.4): the device asks for a
	 * gratuitous ARP, e.g. after a migration (the driver reports it only
	 * with VNET_F_GUEST_ANNOUNCE); send it, then acknowledge on the control
	 * queue, which clears the bit. If the ack fails, announce once per
	 * rising edge rather than on every check. */
	if (cfg.announce && !vn->announce && vn->link_up) {
		etharp_gratuitous(&vn->nif);
		vn->c.announces++;
		vnet_netif_tx_flush(vn);
		if (vnet_dev_announce_ack(vn->dev) == 0)
			cfg.announce = false; /* a new request will be a new edge */
	}
	vn->announce = cfg.announce;
}

/* ----------------------------------------------------------- lifecycle -- */

#define LRO_RX_ROOM 65550u /* one buffer for a whole 64 KiB TCP segment, without MRG_RXBUF */

/* The MTU the interface can carry: asked (or the device's), then capped
 * by the device's maximum, by one receive buffer (unless frames may span
 * several) and by the largest TX buffer. */
#define IP6_MIN_MTU 1280u /* RFC 8200 5 */

static uint32_t pick_mtu(const struct vnet_netif *vn, const struct vnet_net_config *cfg)
{
	uint32_t mtu = vn->conf_mtu ? vn->conf_mtu : (cfg->mtu ? cfg->mtu : 1500u);
	uint32_t tx_room = vn->jumbo_room > vn->data_room ? vn->jumbo_room : vn->data_room;

	if ((cfg->features & VNET_F_MTU) && cfg->mtu && mtu > cfg->mtu)
		mtu = cfg->mtu;
	if (!vn->mrg && mtu + ETH_HDR_LEN > vn->data_room)
		mtu = vn->data_room - ETH_HDR_LEN;
	if (mtu + ETH_HDR_LEN > tx_room)
		mtu = tx_room - ETH_HDR_LEN;
	if (mtu + ETH_HDR_LEN > FRAME_MAX)
		mtu = FRAME_MAX - ETH_HDR_LEN;
	if (vn->conf_mtu && mtu != vn->conf_mtu)
		vnet_log(VNET_LOG_WARN, "lwip: MTU %u asked, %u possible (device %u%s, buffers %u/%u)",
		         (unsigned)vn->conf_mtu, (unsigned)mtu, (unsigned)cfg->mtu,
		         (cfg->features & VNET_F_MRG_RXBUF) ? ", MRG_RXBUF" : "",
		         (unsigned)vn->data_room, (unsigned)vn->jumbo_room);
	return mtu;
}

static err_t netif_init_cb(struct netif *nif)
{
	struct vnet_netif *vn = vnet_netif_of(nif);
	struct vnet_net_config cfg;

	if (vnet_dev_config(vn->dev, &cfg) != 0)
		return ERR_IF;
	nif->name[0] = 'v';
	nif->name[1] = 'n';
	nif->output = etharp_output;
	if (vn->ip6)
		nif->output_ip6 = ethip6_output;
	nif->linkoutput = vnet_netif_linkoutput;
	nif->mtu = (u16_t)pick_mtu(vn, &cfg);
	nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	nif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(nif->hwaddr, cfg.mac, ETH_HWADDR_LEN);
	vnet_netif_csum_apply(vn);
	vn->link_up = cfg.link_up;
	vn->announce = cfg.announce;
	vn->speed_mbps = cfg.speed_mbps;
	vn->duplex = cfg.duplex;
	return ERR_OK;
}

/* Decide which negotiated offloads the interface uses. */
static int offloads_pick(struct vnet_netif *vn, const struct vnet_netif_conf *conf)
{
	struct vnet_net_config cfg;
	int rc;

	rc = vnet_dev_config(vn->dev, &cfg);
	if (rc != 0)
		return rc;
	vn->features = cfg.features;
	vn->hdr_len = vnet_dev_hdr_len(vn->dev);
	vn->mrg = (cfg.features & VNET_F_MRG_RXBUF) != 0;
	vn->ip6 = !conf->no_ip6;
	vnet_netif_rx_offloads(vn);
	vn->tx_csum = (cfg.features & VNET_F_CSUM) && !conf->no_tx_csum;
	vn->jumbo = conf->jumbo_pool;
	vn->jumbo_room = vn->jumbo != NULL ? vnet_pool_data_room(vn->jumbo) : 0;
	vn->tx_tso4 = vn->tx_csum && (cfg.features & VNET_F_HOST_TSO4) && !conf->no_tso &&
	              vn->jumbo_room >= 2u * 1514u;
	vn->tx_tso6 = vn->tx_csum && (cfg.features & VNET_F_HOST_TSO6) && !conf->no_tso &&
	              vn->jumbo_room >= 2u * 1514u && vn->ip6;
	vn->gso.slot = -1;
	if ((cfg.features & (VNET_F_GUEST_TSO4 | VNET_F_GUEST_TSO6)) && !vn->mrg && vn->data_room < LRO_RX_ROOM) {
		vnet_log(VNET_LOG_ERR, "lwip: GUEST_TSO negotiated without MRG_RXBUF needs %u-byte receive "
		         "buffers; the pool's hold %u", LRO_RX_ROOM, (unsigned)vn->data_room);
		return -EINVAL;
	}
	if (vn->mrg) {
		vn->scratch_len = FRAME_MAX;
		vn->scratch = malloc(vn->scratch_len);
		if (vn->scratch == NULL)
			return -ENOMEM;
	}
	return 0;
}

/* The IPv6 addresses (before the netif is up: duplicate address detection
 * starts with the link): the link-local one from the MAC (RFC 4291 2.5.1,
 * modified EUI-64), then the static one, its prefix length recorded. */
static int ip6_addrs_add(struct vnet_netif *vn, const struct vnet_netif_conf *conf)
{
	static const uint8_t zero[16];
	ip6_addr_t a;
	s8_t slot = -1;

	netif_create_ip6_linklocal_address(&vn->nif, 1);
	if (memcmp(conf->ip6, zero, sizeof(zero)) == 0)
		return 0;
	memcpy(a.addr, conf->ip6, sizeof(a.addr));
	ip6_addr_clear_zone(&a);
	if (netif_add_ip6_address(&vn->nif, &a, &slot) != ERR_OK || slot < 0)
		return -ENOSPC;
	vnet_lwip_set_prefix6(&vn->nif, (unsigned)slot, conf->ip6_prefix_len ? conf->ip6_prefix_len : 64u);
	return 0;
}

int vnet_netif_add(struct vnet_netif *vn, struct vnet_dev *dev, struct vnet_iface *ifc,
                   const struct vnet_netif_conf *conf)
{
	ip4_addr_t ip, mask, gw;
	uint32_t count;
	int rc;

	if (conf->pool == NULL)
		return -EINVAL;
	count = vnet_pool_count(conf->pool);
	vn->dev = dev;
	vn->ifc = ifc;
	vn->pool = conf->pool;
	vn->data_room = vnet_pool_data_room(conf->pool);
	if (vn->data_room < ETH_HDR_LEN + 576u)
		return -EINVAL; /* cannot carry the minimum IPv4 datagram */
	vn->rx_burst = conf->rx_burst ? conf->rx_burst : 32u;
	if (vn->rx_burst > VNET_NETIF_RX_BURST_MAX)
		vn->rx_burst = VNET_NETIF_RX_BURST_MAX;
	vn->rx_reserve = conf->rx_reserve ? conf->rx_reserve : count / 4u;
	vn->rx_copy = conf->rx_copy;
	vn->icmp_echo = conf->icmp_echo;
	vn->rx_csum_check = conf->rx_csum_check;
	vn->gro = !conf->no_gro;
	vn->conf_mtu = conf->mtu;
	vn->link_poll_us = (uint64_t)(conf->link_poll_ms ? conf->link_poll_ms : 20u) * 1000u;
	vn->link_next_us = vnet_now_us() + vn->link_poll_us;
	rc = offloads_pick(vn, conf);
	if (rc != 0)
		goto fail;
	rc = -ENOMEM;
	vn->nslots = count;
	vn->slots = calloc(count, sizeof(*vn->slots));
	if (vn->slots == NULL)
		goto fail;

	ip4_addr_set_u32(&ip, lwip_htonl(conf->ip));
	ip4_addr_set_u32(&mask, lwip_htonl(conf->netmask));
	ip4_addr_set_u32(&gw, lwip_htonl(conf->gateway));
	if (netif_add(&vn->nif, &ip, &mask, &gw, vn, netif_init_cb, ethernet_input) == NULL) {
		rc = -EIO;
		goto fail;
	}
	if (vn->ip6 && vn->nif.mtu < IP6_MIN_MTU) {
		/* RFC 8200 5: every link that carries IPv6 has an MTU of at
		 * least 1280; below it the interface speaks IPv4 only. */
		static const uint8_t zero[16];

		vnet_log(VNET_LOG_WARN, "lwip: MTU %u is below IPv6's minimum of %u: IPv6 off",
		         (unsigned)vn->nif.mtu, IP6_MIN_MTU);
		vn->ip6 = false;
		vn->tx_tso6 = false;
		if (memcmp(conf->ip6, zero, sizeof(zero)) != 0) { /* an address was asked for */
			netif_remove(&vn->nif);
			rc = -EINVAL;
			goto fail;
		}
	}
	if (vn->ip6) {
		rc = ip6_addrs_add(vn, conf);
		if (rc != 0) {
			netif_remove(&vn->nif);
			goto fail;
		}
	}
	if (conf->make_default)
		netif_set_default(&vn->nif);
	netif_set_up(&vn->nif);
	if (vn->link_up)
		netif_set_link_up(&vn->nif);
	return 0;
fail:
	free(vn->slots);
	vn->slots = NULL;
	free(vn->scratch);
	vn->scratch = NULL;
	return rc;
}

void vnet_netif_remove(struct vnet_netif *vn)
{
	uint32_t i;

	netif_remove(&vn->nif); /* aborts TCP PCBs on our addresses, flushes ARP */
	for (i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++)
		vnet_lwip_set_prefix6(&vn->nif, i, 0); /* the number may be reused */
	if (vn->tx_n > 0)
		vnet_pool_free_bulk(vn->tx_batch, vn->tx_n);
	vn->tx_n = 0;
	vn->gso.slot = -1;
	vnet_netif_join_drop(vn);
	free(vn->scratch);
	vn->scratch = NULL;
	if (vn->rx_held == 0) {
		free(vn->slots);
	} else {
		/* Something in lwIP still holds received frames. Keep the slots
		 * (lwIP will free through them later) but cut them loose from
		 * this interface, which is about to go. */
		vnet_log(VNET_LOG_WARN, "lwip: interface closed with %u RX buffers held by lwIP",
		         (unsigned)vn->rx_held);
		for (i = 0; i < vn->nslots; i++)
			vn->slots[i].vn = NULL;
	}
	vn->slots = NULL;
	vn->nslots = 0;
}

/* lwIP's checks of the transport checksums, which a frame the device
 * vouched for skips. */
#define CSUM_CHECK_L4 (NETIF_CHECKSUM_CHECK_UDP | NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_ICMP | \
                       NETIF_CHECKSUM_CHECK_ICMP6)

/* Hand one frame to lwIP. Checksum control is per netif in lwIP, but
 * input is synchronous in NO_SYS: @trusted skips the L4 checks for this
 * one frame. Frames lwIP sends meanwhile (ACKs, replies) see the same GEN
 * flags. A @large segment (GUEST_TSO4/6, or coalesced by gro.c) is
 * acknowledged at once: port.c's TCP hook sees vn->rx_large through the
 * input netif (vnet_netif_rx_large). */
void vnet_netif_input(struct vnet_netif *vn, struct pbuf *p, bool trusted, bool large)
{
	err_t err;

	vn->rx_large = large;
	if (trusted && vn->rx_csum_check) {
		uint16_t flags = vnet_netif_csum_flags(vn);

		NETIF_SET_CHECKSUM_CTRL(&vn->nif, flags & (uint16_t)~CSUM_CHECK_L4);
		err = vn->nif.input(p, &vn->nif);
		NETIF_SET_CHECKSUM_CTRL(&vn->nif, flags);
	} else {
		err = vn->nif.input(p, &vn->nif);
	}
	vn->rx_large = false;
	if (err != ERR_OK)
		pbuf_free(p);
}
