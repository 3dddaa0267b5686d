/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio-net device bring-up (spec 3.1.1 driver initialisation, 5.1.5),
 * configuration (5.1.4, read under the config generation of 2.5.1),
 * recovery and teardown. The bursts are in rxtx.c, the control queue in
 * ctrl.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/dev.h"

#define CONFIG_RETRIES 16
#define CTRL_BUF_SIZE 4096

static int config_read(struct vnet_dev *d, struct vnet_net_config *c)
{
	struct vnet_transport *t = d->t;
	int tries;

	for (tries = 0; tries < CONFIG_RETRIES; tries++) {
		uint32_t gen = t->ops->config_generation(t), speed = UINT32_MAX;
		uint8_t mac[6] = {0}, duplex = 0xff;
		uint16_t status = VIRTIO_NET_S_LINK_UP, pairs = 1, mtu = 1500;

		if (d->features & VNET_F_MAC)
			t->ops->read_config(t, VIRTIO_NET_CFG_MAC, mac, 6);
		if (d->features & VNET_F_STATUS)
			t->ops->read_config(t, VIRTIO_NET_CFG_STATUS, &status, 2);
		if (d->features & VNET_F_MQ)
			t->ops->read_config(t, VIRTIO_NET_CFG_MAX_PAIRS, &pairs, 2);
		if (d->features & VNET_F_MTU)
			t->ops->read_config(t, VIRTIO_NET_CFG_MTU, &mtu, 2);
		if (d->features & VNET_F_SPEED_DUPLEX) {
			t->ops->read_config(t, VIRTIO_NET_CFG_SPEED, &speed, 4);
			t->ops->read_config(t, VIRTIO_NET_CFG_DUPLEX, &duplex, 1);
		}
		if (t->ops->config_generation(t) != gen)
			continue; /* torn read: the device changed config meanwhile */
		memcpy(c->mac, mac, 6);
		c->link_up = (status & VIRTIO_NET_S_LINK_UP) != 0;
		c->announce = (d->features & VNET_F_GUEST_ANNOUNCE) && (status & VIRTIO_NET_S_ANNOUNCE);
		c->max_pairs = pairs ? pairs : 1;
		c->mtu = mtu;
		c->features = d->features;
		c->speed_mbps = speed;
		c->duplex = duplex <= 1 ? duplex : 0xff; /* 5.1.4: anything else is unknown */
		return 0;
	}
	vnet_log(VNET_LOG_ERR, "net: device config kept changing over %d reads", CONFIG_RETRIES);
	return -EAGAIN;
}

int vnet_dev_config(struct vnet_dev *d, struct vnet_net_config *out)
{
	struct vnet_net_config c;
	int rc;

	if (!d || !out)
		return -EINVAL;
	rc = config_read(d, &c);
	if (rc)
		return rc;
	d->cfg = c;
	*out = c;
	return 0;
}

static void fail_device(struct vnet_transport *t)
{
	/* spec 3.1.1: tell the device we gave up, then leave it reset */
	t->ops->set_status(t, (uint8_t)(t->ops->get_status(t) | VIRTIO_STATUS_FAILED));
	t->ops->reset(t);
}

/* Reset, status handshake and feature negotiation, up to FEATURES_OK. */
static int negotiate(struct vnet_dev *d, uint64_t want)
{
	struct vnet_transport *t = d->t;
	uint64_t offer;
	int rc;

	rc = t->ops->reset(t);
	if (rc) {
		vnet_log(VNET_LOG_ERR, "net: %s: device reset did not complete", t->ops->name);
		return rc;
	}
	t->ops->set_status(t, VIRTIO_STATUS_ACKNOWLEDGE);
	t->ops->set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	offer = t->ops->get_features(t);
	if (!(offer & VNET_F_VERSION_1)) {
		vnet_log(VNET_LOG_ERR, "net: %s: device lacks VIRTIO_F_VERSION_1 (legacy device): "
		         "use a modern device (QEMU: disable-legacy=on, or "
		         "-global virtio-mmio.force-legacy=false)", t->ops->name);
		fail_device(t);
		return -ENOTSUP;
	}
	d->features = offer & (want | VNET_F_VERSION_1) & VNET_F_IMPLEMENTED;
	/* spec 2.6.1: how a queue is reset is the transport's business */
	if (!t->ops->queue_reset)
		d->features &= ~VNET_F_RING_RESET;
	/* The packed layout here: no in-order batches (its harvest reads every
	 * descriptor) and no control queue (ctrl.c writes split descriptors). */
	if (d->features & VNET_F_RING_PACKED)
		d->features &= ~(VNET_F_IN_ORDER | VNET_F_CTRL_VQ);
	/* spec 5.1.3.1: what depends on the control queue goes without it */
	if (!(d->features & VNET_F_CTRL_VQ))
		d->features &= ~(VNET_F_CTRL_RX | VNET_F_CTRL_VLAN | VNET_F_GUEST_ANNOUNCE | VNET_F_MQ |
		                 VNET_F_CTRL_MAC_ADDR);
	/* spec 5.1.3.1: segmentation offloads need their checksum offload */
	if (!(d->features & VNET_F_CSUM))
		d->features &= ~(VNET_F_HOST_TSO4 | VNET_F_HOST_TSO6);
	if (!(d->features & VNET_F_GUEST_CSUM))
		d->features &= ~(VNET_F_GUEST_TSO4 | VNET_F_GUEST_TSO6);
	/* spec 5.1.6.3.1: without MRG_RXBUF a large segment must fit one
	 * buffer (65562 bytes with the header); smaller buffers cannot take
	 * GUEST_TSO, and a device would have to drop (or truncate) it */
	if (!(d->features & VNET_F_MRG_RXBUF) &&
	    vnet_pool_data_room(d->pool) + sizeof(struct virtio_net_hdr) < 65562u)
		d->features &= ~(VNET_F_GUEST_TSO4 | VNET_F_GUEST_TSO6);
	t->ops->set_features(t, d->features);
	t->ops->set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	if (!(t->ops->get_status(t) & VIRTIO_STATUS_FEATURES_OK)) {
		vnet_log(VNET_LOG_ERR, "net: %s: device refused features 0x%llx", t->ops->name,
		         (unsigned long long)d->features);
		fail_device(t);
		return -EPROTO;
	}
	return 0;
}

static int setup_queue(struct vnet_dev *d, struct vnet_vq *vq)
{
	struct vnet_vq_addrs a;
	int rc;

	vnet_ring_addrs(vq, &a);
	rc = d->t->ops->queue_setup(d->t, vq->qidx, vq->size, &a);
	if (rc)
		vnet_log(VNET_LOG_ERR, "net: %s: queue %u setup failed: %s", d->t->ops->name,
		         (unsigned)vq->qidx, vnet_strerror(rc));
	return rc;
}

/* Program every queue, post RX buffers, DRIVER_OK, then (MQ) tell the
 * device how many pairs to use. The queues are allocated; their state is
 * reset here. */
static int start_queues(struct vnet_dev *d)
{
	struct vnet_transport *t = d->t;
	bool ev = (d->features & VNET_F_EVENT_IDX) != 0;
	uint16_t p;
	int rc;

	for (p = 0; p < d->npairs; p++) {
		vnet_ring_reset(&d->rxq[p], VRING_DESC_F_WRITE, ev);
		vnet_ring_reset(&d->txq[p], 0, ev);
		d->rxq[p].in_order = d->txq[p].in_order = (d->features & VNET_F_IN_ORDER) != 0;
		if ((rc = setup_queue(d, &d->rxq[p])) || (rc = setup_queue(d, &d->txq[p])))
			return rc;
		if (vnet_rx_refill(d, p) != d->rxq[p].size) {
			vnet_log(VNET_LOG_ERR, "net: pool has too few free buffers to fill RX ring %u",
			         (unsigned)p);
			return -ENOBUFS;
		}
	}
	if (d->ctrlq.size) {
		vnet_vq_reset(&d->ctrlq, 0, false);
		rc = setup_queue(d, &d->ctrlq);
		if (rc)
			return rc;
	}
	t->ops->set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	                         VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	if (t->ops->get_status(t) & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED)) {
		vnet_log(VNET_LOG_ERR, "net: %s: device failed at DRIVER_OK", t->ops->name);
		return -EIO;
	}
	d->started = true;
	d->active = 1; /* spec 5.1.6.5.5: one pair until VQ_PAIRS_SET */
	if (d->npairs > 1) {
		rc = vnet_dev_set_queue_pairs(d, d->npairs);
		if (rc)
			return rc;
	}
	return 0;
}

/* Reset the device first (it must stop touching the rings), then take
 * every buffer back. */
static void stop(struct vnet_dev *d)
{
	uint16_t p;

	d->t->ops->reset(d->t);
	for (p = 0; p < d->npairs; p++) {
		vnet_vq_drain(&d->rxq[p], vnet_buf_free);
		vnet_vq_drain(&d->txq[p], vnet_buf_free_chain); /* TX frames may be chains */
		/* the rings are stale until start_queues() resets them: the fast
		 * path must not touch them (a failed recover leaves them so) */
		d->rxq[p].broken = d->txq[p].broken = true;
	}
	d->started = false;
}

static uint16_t pick_size(uint16_t want, uint16_t max, uint16_t def)
{
	if (want)
		return want;
	return max < def ? max : def;
}

static int size_ok(uint16_t size, uint16_t max)
{
	return size && !(size & (size - 1)) && size <= max;
}

static void free_queues(struct vnet_dev *d)
{
	uint16_t p;

	for (p = 0; p < d->npairs; p++) {
		if (d->rxq)
			vnet_vq_free(&d->rxq[p]);
		if (d->txq)
			vnet_vq_free(&d->txq[p]);
	}
	free(d->rxq);
	free(d->txq);
	d->rxq = d->txq = NULL;
	vnet_vq_free(&d->ctrlq);
	if (d->ctrl_buf.va)
		vnet_dma_free(&d->ctrl_buf);
}

/* Check the ring and pool geometry against the device, then allocate
 * every queue. */
static int alloc_queues(struct vnet_dev *d)
{
	struct vnet_transport *t = d->t;
	const struct vnet_dev_conf *c = &d->conf;
	uint16_t rx_max = t->ops->queue_max(t, VNET_RXQ(0)), tx_max = t->ops->queue_max(t, VNET_TXQ(0));
	uint16_t rx_size = pick_size(c->rx_ring_size, rx_max, 256);
	uint16_t tx_size = pick_size(c->tx_ring_size, tx_max, 256);
	uint16_t p, ctrl_idx;
	uint32_t room = vnet_pool_data_room(d->pool);
	int rc;

	if (!rx_max || !tx_max) {
		vnet_log(VNET_LOG_ERR, "net: %s: device has no receiveq1/transmitq1", t->ops->name);
		return -ENODEV;
	}
	if (!size_ok(rx_size, rx_max) || !size_ok(tx_size, tx_max)) {
		vnet_log(VNET_LOG_ERR, "net: ring sizes rx %u tx %u must be powers of two within the "
		         "device's maxima (%u, %u)", (unsigned)rx_size, (unsigned)tx_size,
		         (unsigned)rx_max, (unsigned)tx_max);
		return -EINVAL;
	}
	if (vnet_pool_count(d->pool) < ((uint32_t)rx_size + tx_size) * d->npairs) {
		vnet_log(VNET_LOG_ERR, "net: pool of %u buffers is smaller than the rings (%u x (%u + %u))",
		         (unsigned)vnet_pool_count(d->pool), (unsigned)d->npairs, (unsigned)rx_size,
		         (unsigned)tx_size);
		return -EINVAL;
	}
	/* spec 5.1.6.3.1: with MRG_RXBUF a frame spans buffers (each needs only
	 * the header); without it one buffer holds an MTU-sized frame */
	if (d->pool->headroom < d->hdr_len ||
	    (!(d->features & VNET_F_MRG_RXBUF) && (uint32_t)d->cfg.mtu + 18 > room)) {
		vnet_log(VNET_LOG_ERR, "net: device MTU %u needs %u-byte buffers with %u bytes of headroom; "
		         "the pool has %u and %u", (unsigned)d->cfg.mtu, (unsigned)d->cfg.mtu + 18,
		         (unsigned)d->hdr_len, (unsigned)room, (unsigned)d->pool->headroom);
		return -EINVAL;
	}
	d->rxq = calloc(d->npairs, sizeof(*d->rxq));
	d->txq = calloc(d->npairs, sizeof(*d->txq));
	if (!d->rxq || !d->txq)
		return -ENOMEM;
	for (p = 0; p < d->npairs; p++) {
		d->rxq[p].mem.fd = d->txq[p].mem.fd = -1;
		if (t->ops->queue_max(t, VNET_RXQ(p)) < rx_size || t->ops->queue_max(t, VNET_TXQ(p)) < tx_size) {
			vnet_log(VNET_LOG_ERR, "net: queue pair %u is missing or too small", (unsigned)p);
			return -ENODEV;
		}
		if (d->features & VNET_F_RING_PACKED)
			rc = vnet_pq_alloc(&d->rxq[p], VNET_RXQ(p), rx_size, VRING_DESC_F_WRITE) ?:
			     vnet_pq_alloc(&d->txq[p], VNET_TXQ(p), tx_size, 0);
		else
			rc = vnet_vq_alloc(&d->rxq[p], VNET_RXQ(p), rx_size, VRING_DESC_F_WRITE) ?:
			     vnet_vq_alloc(&d->txq[p], VNET_TXQ(p), tx_size, 0);
		if (rc)
			return rc;
		/* spec 2.7.5.3.1: a chain no longer than the queue */
		if ((d->features & VNET_F_INDIRECT_DESC) && tx_size >= 2 &&
		    (rc = vnet_vq_alloc_indirect(&d->txq[p], tx_size < VNET_TX_MAX_SEGS ? tx_size : VNET_TX_MAX_SEGS)))
			return rc;
		/* RX descriptors cover the header and the data room */
		d->rxq[p].buf_off = d->pool->headroom - d->hdr_len;
		d->rxq[p].buf_len = room + d->hdr_len;
		d->txq[p].buf_len = UINT32_MAX;
	}
	if (d->features & VNET_F_CTRL_VQ) {
		uint16_t max;
		ctrl_idx = (d->features & VNET_F_MQ) ? (uint16_t)(2 * d->cfg.max_pairs) : 2;
		max = t->ops->queue_max(t, ctrl_idx);
		if (!max) {
			vnet_log(VNET_LOG_ERR, "net: device offers CTRL_VQ without a control queue");
			return -ENODEV;
		}
		rc = vnet_vq_alloc(&d->ctrlq, ctrl_idx, pick_size(c->ctrl_ring_size, max, 64), 0);
		if (rc)
			return rc;
		if (!size_ok(d->ctrlq.size, max))
			return -EINVAL;
		rc = vnet_dma_alloc(&d->ctrl_buf, CTRL_BUF_SIZE, 64);
		if (rc)
			return rc;
	}
	return 0;
}

int vnet_dev_open(struct vnet_dev **out, struct vnet_transport *t, const struct vnet_dev_conf *conf)
{
	struct vnet_dev *d;
	int rc;

	if (!out || !t || !conf || !conf->pool)
		return -EINVAL;
	*out = NULL;
	if (conf->queue_pairs > VNET_MAX_PAIRS) {
		vnet_log(VNET_LOG_ERR, "net: at most %d queue pairs", VNET_MAX_PAIRS);
		return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->t = t;
	d->conf = *conf;
	d->pool = conf->pool;
	d->npairs = conf->queue_pairs ? conf->queue_pairs : 1;
	d->ctrlq.mem.fd = d->ctrl_buf.fd = -1;

	rc = negotiate(d, (conf->features ? conf->features : VNET_F_DEFAULT) |
	                          (d->npairs > 1 ? VNET_F_MQ | VNET_F_CTRL_VQ : 0));
	if (rc)
		goto fail_free;
	/* spec 5.1.6: 12 bytes with VERSION_1 (or MRG_RXBUF), 10 for legacy */
	d->hdr_len = conf->hdr_len ? conf->hdr_len : sizeof(struct virtio_net_hdr);
	if (d->hdr_len < 10 || d->hdr_len > sizeof(struct virtio_net_hdr) ||
	    (d->hdr_len != sizeof(struct virtio_net_hdr) && (d->features & VNET_F_MRG_RXBUF))) {
		/* MRG_RXBUF needs num_buffers: the 12-byte header (5.1.6) */
		vnet_log(VNET_LOG_ERR, "net: header length override %u is not 10..12 (12 with MRG_RXBUF)",
		         (unsigned)d->hdr_len);
		rc = -EINVAL;
		goto fail_reset;
	}
	rc = config_read(d, &d->cfg);
	if (rc)
		goto fail_reset;
	if (d->npairs > 1 && (!(d->features & VNET_F_MQ) || d->npairs > d->cfg.max_pairs)) {
		vnet_log(VNET_LOG_ERR, "net: %u queue pairs asked; the device offers %s%u", (unsigned)d->npairs,
		         (d->features & VNET_F_MQ) ? "" : "no MQ, so ",
		         (d->features & VNET_F_MQ) ? (unsigned)d->cfg.max_pairs : 1u);
		rc = -ENOTSUP;
		goto fail_reset;
	}
	rc = alloc_queues(d);
	if (rc)
		goto fail_queues;
	rc = start_queues(d);
	if (rc)
		goto fail_started;
	*out = d;
	return 0;

fail_started:
	stop(d);
fail_queues:
	free_queues(d);
fail_reset:
	fail_device(t);
fail_free:
	free(d);
	return rc;
}

void vnet_dev_close(struct vnet_dev *d)
{
	if (!d)
		return;
	stop(d);
	free_queues(d);
	free(d);
}

uint8_t vnet_dev_hdr_len(const struct vnet_dev *d) { return (uint8_t)d->hdr_len; }
uint16_t vnet_dev_queue_pairs(const struct vnet_dev *d) { return d->active; }

int vnet_dev_rx_intr_enable(struct vnet_dev *d, uint16_t q)
{
	if (!d || !d->started || q >= d->active || d->rxq[q].broken)
		return -EINVAL;
	return vnet_ring_intr_arm(&d->rxq[q]) ? 1 : 0;
}

void vnet_dev_rx_intr_disable(struct vnet_dev *d, uint16_t q)
{
	if (d && d->started && q < d->active)
		vnet_ring_intr_disarm(&d->rxq[q]);
}
struct vnet_pool *vnet_dev_pool(const struct vnet_dev *d) { return d ? d->pool : NULL; }

int vnet_dev_broken(struct vnet_dev *d)
{
	uint16_t p;
	uint8_t st;

	if (!d)
		return -EINVAL;
	if (d->needs_reset || d->ctrlq.broken)
		return 1;
	for (p = 0; p < d->npairs; p++)
		if (d->rxq[p].broken || d->txq[p].broken)
			return 1;
	st = d->t->ops->get_status(d->t);
	if (st & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED)) {
		d->needs_reset = true;
		return 1;
	}
	return 0;
}

/*
 * Reset queue @vq alone and enable it again (VIRTIO_F_RING_RESET, spec
 * 2.6.1): once the device says it let go of the ring, every buffer in
 * flight goes back to the pool (TX chains whole), the ring starts afresh
 * and is programmed again as at start; RX (@rx) is refilled with what the
 * pool has. On failure the queue stays broken (the fast path keeps off it)
 * for a whole-device reset.
 */
static int queue_reset(struct vnet_dev *d, struct vnet_vq *vq, bool rx, uint16_t pair)
{
	struct vnet_transport *t = d->t;
	uint32_t back = 0;
	int rc;

	vq->broken = true;
	rc = t->ops->queue_reset(t, vq->qidx);
	if (rc) {
		vnet_log(VNET_LOG_WARN, "net: %s: queue %u did not reset: %s", t->ops->name,
		         (unsigned)vq->qidx, vnet_strerror(rc));
		return rc;
	}
	if (vq == &d->ctrlq) {
		vnet_vq_reset(vq, 0, false);
	} else {
		back = vnet_vq_drain(vq, rx ? vnet_buf_free : vnet_buf_free_chain);
		vnet_ring_reset(vq, rx ? VRING_DESC_F_WRITE : 0, (d->features & VNET_F_EVENT_IDX) != 0);
	}
	rc = setup_queue(d, vq);
	if (rc) {
		vq->broken = true;
		return rc;
	}
	vq->stats.queue_resets++;
	if (rx)
		vnet_rx_refill(d, pair);
	vnet_log(VNET_LOG_INFO, "net: %s: queue %u reset alone, %u buffers back to the pool", t->ops->name,
	         (unsigned)vq->qidx, (unsigned)back);
	return 0;
}

int vnet_dev_queue_reset(struct vnet_dev *d, uint16_t q, bool rx)
{
	if (!d || q >= d->npairs || !d->started)
		return -EINVAL;
	if (!(d->features & VNET_F_RING_RESET))
		return -ENOTSUP;
	return queue_reset(d, rx ? &d->rxq[q] : &d->txq[q], rx, q);
}

/* With RING_RESET, a sound device and some queue broken: reset just the
 * broken queues. 0, or -errno: the whole device needs the reset. */
static int recover_queues(struct vnet_dev *d)
{
	uint32_t broken = 0;
	uint16_t p;
	int rc = 0;

	if (!(d->features & VNET_F_RING_RESET) || !d->started || d->needs_reset ||
	    (d->t->ops->get_status(d->t) & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED)))
		return -EAGAIN;
	for (p = 0; p < d->npairs; p++)
		broken += d->rxq[p].broken + d->txq[p].broken;
	broken += d->ctrlq.size && d->ctrlq.broken;
	if (!broken)
		return -EAGAIN; /* nothing we can point at: the caller wants a reset */
	for (p = 0; p < d->npairs && !rc; p++) {
		if (d->rxq[p].broken)
			rc = queue_reset(d, &d->rxq[p], true, p);
		if (!rc && d->txq[p].broken)
			rc = queue_reset(d, &d->txq[p], false, p);
	}
	if (!rc && d->ctrlq.size && d->ctrlq.broken)
		rc = queue_reset(d, &d->ctrlq, false, 0);
	return rc;
}

int vnet_dev_recover(struct vnet_dev *d)
{
	uint64_t had;
	int rc;

	if (!d)
		return -EINVAL;
	if (recover_queues(d) == 0)
		return 0;
	had = d->features;
	stop(d);
	d->needs_reset = false;
	rc = negotiate(d, had);
	if (rc == 0 && d->features != had) {
		vnet_log(VNET_LOG_ERR, "net: device offers different features after reset");
		fail_device(d->t);
		rc = -EPROTO;
	}
	if (rc == 0)
		rc = start_queues(d);
	if (rc) {
		stop(d);
		d->needs_reset = true; /* still broken: the caller may try again */
	}
	return rc;
}

int vnet_queue_stats(const struct vnet_dev *d, uint16_t q, bool rx, struct vnet_queue_stats *out)
{
	if (!d || !out || q >= d->npairs)
		return -EINVAL;
	*out = rx ? d->rxq[q].stats : d->txq[q].stats;
	return 0;
}

uint16_t vnet_tx_free(const struct vnet_dev *d, uint16_t q)
{
	return q < d->npairs ? d->txq[q].num_free : 0;
}
