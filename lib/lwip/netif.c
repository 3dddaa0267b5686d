/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An lwIP netif over a vnet device (lwIP's doc/NO_SYS_SampleCode.c shows
 * the shape; doc/ZeroCopyRx.c the custom-pbuf RX).
 *
 * RX: each frame of a burst becomes a pbuf_custom (PBUF_REF over the pool
 * buffer, no copy) from a slot table indexed by the buffer's pool index;
 * when lwIP frees the pbuf the buffer goes back to the pool. lwIP may hold
 * received frames for a long time (TCP out-of-order queue, reassembly), so
 * when the pool's free buffers fall under a reserve the frame is copied
 * into a PBUF_POOL pbuf and the pool buffer freed at once.
 *
 * TX: linkoutput copies the frame into one pool buffer and queues it in a
 * small batch; the batch goes to the ring in one vnet_tx_burst per poll
 * step (or earlier when it fills). Frames the ring refuses stay queued.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/opt.h"
#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "lwip/prot/ethernet.h"
#include "lwip/prot/ieee.h"
#include "lwip/prot/ip.h"
#include "netif/ethernet.h"

#include "platform/platform.h"
#include "glue.h"

#define ETH_HDR_LEN 14u
#define CSUM_GEN_ONLY (NETIF_CHECKSUM_GEN_IP | NETIF_CHECKSUM_GEN_UDP | \
                       NETIF_CHECKSUM_GEN_TCP | NETIF_CHECKSUM_GEN_ICMP)

static struct vnet_netif *to_vn(struct netif *nif)
{
	return (struct vnet_netif *)(void *)((char *)nif - offsetof(struct vnet_netif, nif));
}

static uint16_t csum_flags(const struct vnet_netif *vn)
{
	return vn->rx_csum_check ? NETIF_CHECKSUM_ENABLE_ALL : CSUM_GEN_ONLY;
}

/* ------------------------------------------------------------------ TX -- */

/* A pool buffer for a frame of @len bytes, or NULL with the refusal
 * counted and @err set to what lwIP should hear. */
static struct vnet_buf *tx_get(struct vnet_netif *vn, uint32_t len, err_t *err)
{
	struct vnet_buf *b;

	if (vnet_unlikely(!vn->link_up)) {
		vn->c.tx_link_down++;
		LINK_STATS_INC(link.drop);
		*err = ERR_IF;
		return NULL;
	}
	if (vnet_unlikely(len > vn->data_room)) {
		vn->c.tx_too_big++;
		LINK_STATS_INC(link.lenerr);
		*err = ERR_BUF;
		return NULL;
	}
	if (vn->tx_n == VNET_NETIF_TX_BATCH) {
		vnet_netif_tx_flush(vn);
		if (vn->tx_n == VNET_NETIF_TX_BATCH) {
			vn->c.tx_ring_full++;
			LINK_STATS_INC(link.memerr);
			*err = ERR_MEM;
			return NULL;
		}
	}
	b = vnet_buf_alloc(vn->pool);
	if (vnet_unlikely(b == NULL)) {
		vn->c.tx_nobuf++;
		LINK_STATS_INC(link.memerr);
		*err = ERR_MEM;
		return NULL;
	}
	*err = ERR_OK;
	return b;
}

static void tx_queue(struct vnet_netif *vn, struct vnet_buf *b, uint32_t len)
{
	b->len = len;
	b->flags = 0;
	vn->tx_batch[vn->tx_n++] = b;
	LINK_STATS_INC(link.xmit);
}

static err_t netif_linkoutput(struct netif *nif, struct pbuf *p)
{
	struct vnet_netif *vn = to_vn(nif);
	struct vnet_buf *b;
	err_t err;

	b = tx_get(vn, p->tot_len, &err);
	if (b == NULL)
		return err;
	if (pbuf_copy_partial(p, b->data, p->tot_len, 0) != p->tot_len) {
		vnet_buf_free(b);
		LINK_STATS_INC(link.err);
		return ERR_BUF;
	}
	tx_queue(vn, b, p->tot_len);
	return ERR_OK;
}

int vnet_netif_send_raw(struct vnet_netif *vn, const void *frame, uint32_t len)
{
	struct vnet_buf *b;
	err_t err;

	if (len < ETH_HDR_LEN)
		return -EINVAL;
	b = tx_get(vn, len, &err);
	if (b == NULL)
		return err == ERR_IF ? -ENETDOWN : err == ERR_BUF ? -EMSGSIZE : -EAGAIN;
	memcpy(b->data, frame, len);
	tx_queue(vn, b, len);
	return 0;
}

uint32_t vnet_netif_tx_flush(struct vnet_netif *vn)
{
	uint16_t sent;

	if (vn->tx_n == 0)
		return 0;
	sent = vnet_tx_burst(vn->dev, 0, vn->tx_batch, vn->tx_n);
	if (sent < vn->tx_n)
		memmove(&vn->tx_batch[0], &vn->tx_batch[sent],
		        (size_t)(vn->tx_n - sent) * sizeof(vn->tx_batch[0]));
	vn->tx_n = (uint16_t)(vn->tx_n - sent);
	vn->c.tx_frames += sent;
	return sent;
}

/* ------------------------------------------------------------------ RX -- */

static void rx_pbuf_free(struct pbuf *p)
{
	struct vnet_rx_slot *s = (struct vnet_rx_slot *)(void *)
		((char *)p - offsetof(struct vnet_rx_slot, pc.pbuf));
	struct vnet_buf *b = s->buf;

	s->buf = NULL;
	if (s->vn != NULL)
		s->vn->rx_held--;
	if (b != NULL)
		vnet_buf_free(b);
}

static uint16_t eth_type(const uint8_t *f)
{
	return (uint16_t)((f[12] << 8) | f[13]);
}

/* IPv4 with MF set or a non-zero offset. Fragments are copied: lwIP's
 * reassembly may keep them past the interface's life. */
static bool ip4_is_fragment(const uint8_t *f, uint32_t len)
{
	if (len < ETH_HDR_LEN + 20u)
		return false;
	return ((f[ETH_HDR_LEN + 6] & 0x3f) | f[ETH_HDR_LEN + 7]) != 0;
}

static bool ip4_is_echo_request(const uint8_t *f, uint32_t len)
{
	const uint8_t *ip = f + ETH_HDR_LEN;
	uint32_t ihl;

	if (len < ETH_HDR_LEN + 20u || (ip[0] >> 4) != 4 || ip[9] != IP_PROTO_ICMP)
		return false;
	if (((ip[6] & 0x1f) | ip[7]) != 0)
		return false; /* only the first fragment carries the ICMP type */
	ihl = (uint32_t)(ip[0] & 0x0f) * 4u;
	if (ihl < 20u || len < ETH_HDR_LEN + ihl + 1u)
		return false;
	return ip[ihl] == 8; /* ICMP_ECHO */
}

static bool rx_want_copy(const struct vnet_netif *vn, const struct vnet_buf *b)
{
	if (vn->rx_copy || b->pool != vn->pool || b->idx >= vn->nslots ||
	    vn->slots[b->idx].buf != NULL || b->len > 0xffffu)
		return true;
	if (vnet_pool_count(vn->pool) - vnet_pool_in_use(vn->pool) < vn->rx_reserve)
		return true;
	return eth_type(b->data) == ETHTYPE_IP && ip4_is_fragment(b->data, b->len);
}

static void rx_drop(struct vnet_buf *b, uint64_t *counter)
{
	(*counter)++;
	LINK_STATS_INC(link.drop);
	vnet_buf_free(b);
}

static void rx_one(struct vnet_netif *vn, struct vnet_buf *b)
{
	const uint8_t *f = b->data;
	uint32_t len = b->len;
	/* the flags mean something only when GUEST_CSUM was negotiated */
	uint16_t flags = vn->guest_csum ? b->flags : 0;
	uint16_t type;
	struct pbuf *p;

	if (vnet_unlikely(len < ETH_HDR_LEN)) {
		LINK_STATS_INC(link.lenerr);
		rx_drop(b, &vn->c.rx_runt);
		return;
	}
	type = eth_type(f);
	if (type != ETHTYPE_IP && type != ETHTYPE_ARP) {
		if (vn->frame_hook != NULL && vn->frame_hook(vn->ifc, type, f, len, vn->frame_arg)) {
			vn->c.rx_hooked++;
			vnet_buf_free(b);
		} else {
			LINK_STATS_INC(link.proterr);
			rx_drop(b, &vn->c.rx_unknown);
		}
		return;
	}
	if (!vn->icmp_echo && type == ETHTYPE_IP && ip4_is_echo_request(f, len)) {
		rx_drop(b, &vn->c.rx_icmp_filtered);
		return;
	}

	if (rx_want_copy(vn, b)) {
		p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
		if (p == NULL) {
			LINK_STATS_INC(link.memerr);
			rx_drop(b, &vn->c.rx_nomem);
			return;
		}
		pbuf_take(p, f, (u16_t)len);
		vnet_buf_free(b);
		vn->c.rx_copied++;
	} else {
		struct vnet_rx_slot *s = &vn->slots[b->idx];

		s->buf = b;
		s->vn = vn;
		s->pc.custom_free_function = rx_pbuf_free;
		p = pbuf_alloced_custom(PBUF_RAW, (u16_t)len, PBUF_REF, &s->pc, b->data,
		                        (u16_t)(vn->data_room > 0xffffu ? 0xffffu : vn->data_room));
		if (vnet_unlikely(p == NULL)) { /* cannot happen: len <= data room */
			s->buf = NULL;
			rx_drop(b, &vn->c.rx_nomem);
			return;
		}
		vn->rx_held++;
		vn->c.rx_zero_copy++;
	}
	LINK_STATS_INC(link.recv);

	/* Checksum control is per netif in lwIP, but input is synchronous in
	 * NO_SYS: skip the checks for this one frame when the device says its
	 * checksums are good (DATA_VALID) or only partial from a local sender
	 * (NEEDS_CSUM, spec 5.1.6.4). */
	if (vnet_unlikely(flags & (VNET_BUF_F_DATA_VALID | VNET_BUF_F_NEEDS_CSUM)) && vn->rx_csum_check) {
		vn->c.rx_csum_trusted++;
		NETIF_SET_CHECKSUM_CTRL(&vn->nif, CSUM_GEN_ONLY);
		if (vn->nif.input(p, &vn->nif) != ERR_OK)
			pbuf_free(p);
		NETIF_SET_CHECKSUM_CTRL(&vn->nif, csum_flags(vn));
		return;
	}
	if (vn->nif.input(p, &vn->nif) != ERR_OK)
		pbuf_free(p);
}

uint32_t vnet_netif_rx(struct vnet_netif *vn)
{
	struct vnet_buf *bufs[VNET_NETIF_RX_BURST_MAX];
	uint16_t n, i;

	n = vnet_rx_burst(vn->dev, 0, bufs, vn->rx_burst);
	if (n > 0)
		vnet_prefetch(bufs[0]->data);
	for (i = 0; i < n; i++) {
		if (i + 1u < n)
			vnet_prefetch(bufs[i + 1]->data);
		rx_one(vn, bufs[i]);
	}
	vn->c.rx_frames += n;
	return n;
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
		vnet_netif_tx_flush(vn);
		if (vnet_dev_announce_ack(vn->dev) == 0)
			cfg.announce = false; /* a new request will be a new edge */
	}
	vn->announce = cfg.announce;
}

/* ----------------------------------------------------------- lifecycle -- */

static err_t netif_init_cb(struct netif *nif)
{
	struct vnet_netif *vn = to_vn(nif);
	struct vnet_net_config cfg;
	uint32_t mtu;

	if (vnet_dev_config(vn->dev, &cfg) != 0)
		return ERR_IF;
	nif->name[0] = 'v';
	nif->name[1] = 'n';
	nif->output = etharp_output;
	nif->linkoutput = netif_linkoutput;
	mtu = cfg.mtu ? cfg.mtu : 1500u;
	if (mtu + ETH_HDR_LEN > vn->data_room)
		mtu = vn->data_room - ETH_HDR_LEN;
	nif->mtu = (u16_t)mtu;
	nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	nif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(nif->hwaddr, cfg.mac, ETH_HWADDR_LEN);
	NETIF_SET_CHECKSUM_CTRL(nif, csum_flags(vn));
	vn->link_up = cfg.link_up;
	vn->announce = cfg.announce;
	vn->guest_csum = (cfg.features & VNET_F_GUEST_CSUM) != 0;
	return ERR_OK;
}

int vnet_netif_add(struct vnet_netif *vn, struct vnet_dev *dev, struct vnet_iface *ifc,
                   const struct vnet_netif_conf *conf)
{
	ip4_addr_t ip, mask, gw;
	uint32_t count;

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
	vn->link_poll_us = (uint64_t)(conf->link_poll_ms ? conf->link_poll_ms : 20u) * 1000u;
	vn->link_next_us = vnet_now_us() + vn->link_poll_us;
	vn->nslots = count;
	vn->slots = calloc(count, sizeof(*vn->slots));
	if (vn->slots == NULL)
		return -ENOMEM;

	ip4_addr_set_u32(&ip, lwip_htonl(conf->ip));
	ip4_addr_set_u32(&mask, lwip_htonl(conf->netmask));
	ip4_addr_set_u32(&gw, lwip_htonl(conf->gateway));
	if (netif_add(&vn->nif, &ip, &mask, &gw, vn, netif_init_cb, ethernet_input) == NULL) {
		free(vn->slots);
		vn->slots = NULL;
		return -EIO;
	}
	if (conf->make_default)
		netif_set_default(&vn->nif);
	netif_set_up(&vn->nif);
	if (vn->link_up)
		netif_set_link_up(&vn->nif);
	return 0;
}

void vnet_netif_remove(struct vnet_netif *vn)
{
	uint32_t i;

	netif_remove(&vn->nif); /* aborts TCP PCBs on our address, flushes ARP */
	if (vn->tx_n > 0)
		vnet_pool_free_bulk(vn->tx_batch, vn->tx_n);
	vn->tx_n = 0;
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
