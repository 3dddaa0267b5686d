/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fast path: RX harvest, RX refill, TX submit and reclaim. One used
 * index read and one avail index publish per burst; no locks, no
 * allocation, no printing; failures are counters.
 */
#include <stddef.h>

#include "net/dev.h"
#include "base/stage.h"

#define HDR12 ((uint32_t)sizeof(struct virtio_net_hdr))

_Static_assert(sizeof(struct vnet_net_hdr) == sizeof(struct virtio_net_hdr), "public mirror, spec 5.1.6");
_Static_assert(offsetof(struct vnet_net_hdr, csum_start) == offsetof(struct virtio_net_hdr, csum_start),
               "public mirror, spec 5.1.6");
_Static_assert(offsetof(struct vnet_net_hdr, num_buffers) == offsetof(struct virtio_net_hdr, num_buffers),
               "public mirror, spec 5.1.6");

/* VNET_F_HASH_REPORT (spec 5.1.6.4): each frame's hash_value and
 * hash_report from its header, each byte read once. A report the spec
 * does not define is a device's error: the frame goes on without a hash,
 * counted. */
static __attribute__((noinline)) void rx_hash(struct vnet_vq *vq, struct vnet_buf **bufs, uint16_t n,
                                               uint32_t hdr_len)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		const volatile uint8_t *h = bufs[i]->data - hdr_len + VIRTIO_NET_HDR_HASH_VALUE_OFF;
		uint8_t v[6];
		uint16_t report;
		unsigned k;

		for (k = 0; k < sizeof(v); k++)
			v[k] = h[k];
		report = (uint16_t)(v[4] | v[5] << 8);
		bufs[i]->hash_value = (uint32_t)v[0] | (uint32_t)v[1] << 8 | (uint32_t)v[2] << 16 | (uint32_t)v[3] << 24;
		if (vnet_unlikely(report > VIRTIO_NET_HASH_REPORT_UDPV6_EX)) {
			vq->stats.rx_bad_hash++;
			report = VIRTIO_NET_HASH_REPORT_NONE;
		}
		if (report == VIRTIO_NET_HASH_REPORT_NONE)
			bufs[i]->hash_value = 0;
		else
			vq->stats.rx_hashed++;
		bufs[i]->hash_report = report;
	}
}

uint16_t vnet_rx_burst(struct vnet_dev *d, uint16_t q, struct vnet_buf **bufs, uint16_t n)
{
	struct vnet_vq *vq;
	uint16_t got, i;
	uint64_t bytes = 0;

	/* bufs checked: the harvest then compiles without its TX reclaim */
	if (vnet_unlikely(q >= d->npairs || bufs == NULL))
		return 0;
	vq = &d->rxq[q];
	if (vnet_unlikely(vq->broken))
		return 0;
	VNET_STAGE_BEGIN(t0);
	/* constants for the usual cases let the compiler fold them */
	if (vnet_unlikely(d->features & VNET_F_MRG_RXBUF))
		got = d->hdr_len == HDR12 ? vnet_ring_harvest(vq, bufs, n, HDR12, 1, &bytes)
		                          : vnet_ring_harvest(vq, bufs, n, d->hdr_len, 1, &bytes);
	else if (vnet_likely(d->hdr_len == HDR12))
		got = vnet_ring_harvest(vq, bufs, n, HDR12, 0, &bytes);
	else
		got = vnet_ring_harvest(vq, bufs, n, d->hdr_len, 0, &bytes);
	VNET_STAGE_END(VNET_STAGE_HARVEST, t0);
	/* GUEST_CSUM in force (negotiated, not turned off since: ctrl.c) */
	if (d->rx_off & VNET_F_GUEST_CSUM) {
		for (i = 0; i < got; i++) {
			/* flags is the header's first byte; a header-length override
			 * may leave the header unaligned, so no struct access */
			uint8_t f = *(const volatile uint8_t *)(bufs[i]->data - d->hdr_len);
			bufs[i]->flags = (uint16_t)(((f & VIRTIO_NET_HDR_F_DATA_VALID) ? VNET_BUF_F_DATA_VALID : 0) |
			                            ((f & VIRTIO_NET_HDR_F_NEEDS_CSUM) ? VNET_BUF_F_NEEDS_CSUM : 0));
		}
	}
	if (vnet_unlikely(d->features & VNET_F_HASH_REPORT))
		rx_hash(vq, bufs, got, d->hdr_len);
	vq->stats.packets += got;
	vq->stats.bytes += bytes;
	vq->stats.bursts++;
	return got;
}

uint16_t vnet_rx_refill(struct vnet_dev *d, uint16_t q)
{
	struct vnet_vq *vq;
	uint32_t n;

	if (vnet_unlikely(q >= d->npairs))
		return 0;
	vq = &d->rxq[q];
	if (vnet_unlikely(vq->broken))
		return 0;
	/* ids held after a short burst (ring/vq.h): a refill with no harvest
	 * since the last one (the application stopped reading) checks the
	 * unread entries and takes them back if none can be stale */
	if (vnet_unlikely(vq->held_ngrp)) {
		if (vq->last_used == vq->held_mark)
			vnet_ring_held_check(vq);
		vq->held_mark = vq->last_used;
	}
	n = vq->num_free;
	if (n == 0)
		return 0;
	if (vnet_unlikely(d->pool->top < n)) {
		vq->stats.drop_pool_empty++;
		n = d->pool->top;
		if (!n)
			return 0;
	}
	/* no id goes back on the ring while an unread used entry names an id
	 * out of flight: it would complete the buffer posted under that id
	 * (vnet_ring_unread_ok); the harvest breaks the ring there */
	if (vnet_unlikely(vnet_ring_unread(vq)) && !vnet_ring_unread_ok(vq))
		return 0;
	VNET_STAGE_BEGIN(t0);
	if (vq->in_order)
		n = vnet_ring_post(vq, NULL, (uint16_t)n, 0, NULL, d->pool, 1);
	else
		n = vnet_ring_post(vq, NULL, (uint16_t)n, 0, NULL, d->pool, 0);
	VNET_STAGE_END(VNET_STAGE_REFILL, t0);
	vnet_ring_publish(vq, d->t);
	return (uint16_t)n;
}

uint16_t vnet_tx_reclaim(struct vnet_dev *d, uint16_t q)
{
	struct vnet_vq *vq;

	if (vnet_unlikely(q >= d->npairs))
		return 0;
	vq = &d->txq[q];
	if (vnet_vq_in_flight(vq) == 0 || vq->broken)
		return 0;
	VNET_STAGE_BEGIN(t0);
	uint16_t got;
	/* frames of several buffers (mrg) only with indirect tables: without
	 * them chains are copied into one buffer before they are posted */
	if (vnet_unlikely(vq->ind_max))
		got = vnet_ring_harvest(vq, NULL, vq->size, 0, 1, NULL);
	else
		got = vnet_ring_harvest(vq, NULL, vq->size, 0, 0, NULL);
	VNET_STAGE_END(VNET_STAGE_HARVEST, t0);
	return got;
}

uint16_t vnet_tx_burst(struct vnet_dev *d, uint16_t q, struct vnet_buf **bufs, uint16_t n)
{
	struct vnet_vq *vq;
	uint32_t hdr = d->hdr_len;
	uint64_t bytes = 0;

	if (vnet_unlikely(q >= d->npairs || bufs == NULL))
		return 0;
	vq = &d->txq[q];
	if (vnet_unlikely(vq->broken))
		return 0;
	/* Reclaim everything the device finished before posting: the buffers
	 * go back to the pool while still hot, and a stray completion the
	 * device wrote for an idle descriptor is seen (and dropped) before
	 * that descriptor could be posted again. */
	if (vnet_vq_in_flight(vq))
		vnet_tx_reclaim(d, q);
	if (vq->num_free < n) {
		vq->stats.drop_ring_full += (uint64_t)(n - vq->num_free);
		n = vq->num_free;
	}
	/* a frame needs headroom for the header and must fit its buffer */
	VNET_STAGE_BEGIN(t0);
	if (vq->in_order)
		n = vnet_ring_post(vq, bufs, n, hdr == HDR12 ? HDR12 : hdr, &bytes, NULL, 1);
	else if (vnet_likely(hdr == HDR12))
		n = vnet_ring_post(vq, bufs, n, HDR12, &bytes, NULL, 0);
	else
		n = vnet_ring_post(vq, bufs, n, hdr, &bytes, NULL, 0);
	VNET_STAGE_END(VNET_STAGE_POST, t0);
	if (!n)
		return 0;
	vnet_ring_publish(vq, d->t);
	vq->stats.packets += n;
	vq->stats.bytes += bytes;
	vq->stats.bursts++;
	return n;
}
