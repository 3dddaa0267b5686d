/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio-net device bring-up (spec 3.1.1 driver initialisation, 5.1.5),
 * configuration (5.1.4, read under the config generation of 2.5.1),
 * recovery and teardown. The bursts are in rxtx.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/dev.h"

#define CONFIG_RETRIES 16

static int config_read(struct vnet_dev *d, struct vnet_net_config *c)
{
	struct vnet_transport *t = d->t;
	int tries;

	for (tries = 0; tries < CONFIG_RETRIES; tries++) {
		uint32_t gen = t->ops->config_generation(t);
		uint8_t mac[6] = {0};
		uint16_t status = VIRTIO_NET_S_LINK_UP, pairs = 1, mtu = 1500;

		if (d->features & VNET_F_MAC)
			t->ops->read_config(t, VIRTIO_NET_CFG_MAC, mac, 6);
		if (d->features & VNET_F_STATUS)
			t->ops->read_config(t, VIRTIO_NET_CFG_STATUS, &status, 2);
		if (d->features & VNET_F_MQ)
			t->ops->read_config(t, VIRTIO_NET_CFG_MAX_PAIRS, &pairs, 2);
		if (d->features & VNET_F_MTU)
			t->ops->read_config(t, VIRTIO_NET_CFG_MTU, &mtu, 2);
		if (t->ops->config_generation(t) != gen)
			continue; /* torn read: the device changed config meanwhile */
		memcpy(c->mac, mac, 6);
		c->link_up = (status & VIRTIO_NET_S_LINK_UP) != 0;
		c->announce = (status & VIRTIO_NET_S_ANNOUNCE) != 0;
		c->max_pairs = pairs ? pairs : 1;
		c->mtu = mtu;
		c->features = d->features;
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

/* Program both queues, post RX buffers, DRIVER_OK. The queues are
 * allocated; their state is reset here. */
static int start_queues(struct vnet_dev *d)
{
	struct vnet_transport *t = d->t;
	bool ev = (d->features & VNET_F_EVENT_IDX) != 0;
	struct vnet_vq *qs[2] = {&d->rxq, &d->txq};
	int i, rc;

	vnet_vq_reset(&d->rxq, VRING_DESC_F_WRITE, ev);
	vnet_vq_reset(&d->txq, 0, ev);
	for (i = 0; i < 2; i++) {
		struct vnet_vq_addrs a;
		vnet_vq_addrs(qs[i], &a);
		rc = t->ops->queue_setup(t, qs[i]->qidx, qs[i]->size, &a);
		if (rc) {
			vnet_log(VNET_LOG_ERR, "net: %s: queue %u setup failed: %s", t->ops->name,
			         (unsigned)qs[i]->qidx, vnet_strerror(rc));
			return rc;
		}
	}
	if (vnet_rx_refill(d, 0) != d->rxq.size) {
		vnet_log(VNET_LOG_ERR, "net: pool has too few free buffers to fill the RX ring");
		return -ENOBUFS;
	}
	t->ops->set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	                         VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	if (t->ops->get_status(t) & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED)) {
		vnet_log(VNET_LOG_ERR, "net: %s: device failed at DRIVER_OK", t->ops->name);
		return -EIO;
	}
	d->started = true;
	return 0;
}

/* Reset the device first (it must stop touching the rings), then take
 * every buffer back. */
static void stop(struct vnet_dev *d)
{
	d->t->ops->reset(d->t);
	vnet_vq_drain(&d->rxq, vnet_buf_free);
	vnet_vq_drain(&d->txq, vnet_buf_free);
	d->started = false;
}

static uint16_t pick_size(uint16_t want, uint16_t max)
{
	if (want)
		return want;
	return max < 256 ? max : 256;
}

int vnet_dev_open(struct vnet_dev **out, struct vnet_transport *t, const struct vnet_dev_conf *conf)
{
	struct vnet_dev *d;
	uint16_t rx_max, tx_max, rx_size, tx_size;
	uint32_t room;
	int rc;

	if (!out || !t || !conf || !conf->pool)
		return -EINVAL;
	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->t = t;
	d->conf = *conf;
	d->pool = conf->pool;
	d->rxq.mem.fd = d->txq.mem.fd = -1;

	rc = negotiate(d, conf->features ? conf->features : VNET_F_DEFAULT);
	if (rc)
		goto fail_free;
	/* spec 5.1.6: 12 bytes with VERSION_1 (or MRG_RXBUF), 10 for legacy */
	d->hdr_len = conf->hdr_len ? conf->hdr_len : sizeof(struct virtio_net_hdr);
	if (d->hdr_len < 10 || d->hdr_len > sizeof(struct virtio_net_hdr)) {
		vnet_log(VNET_LOG_ERR, "net: header length override %u is not 10..12", (unsigned)d->hdr_len);
		rc = -EINVAL;
		goto fail_reset;
	}
	rx_max = t->ops->queue_max(t, VNET_RXQ(0));
	tx_max = t->ops->queue_max(t, VNET_TXQ(0));
	if (!rx_max || !tx_max) {
		vnet_log(VNET_LOG_ERR, "net: %s: device has no receiveq1/transmitq1", t->ops->name);
		rc = -ENODEV;
		goto fail_reset;
	}
	rx_size = pick_size(conf->rx_ring_size, rx_max);
	tx_size = pick_size(conf->tx_ring_size, tx_max);
	if ((rx_size & (rx_size - 1)) || (tx_size & (tx_size - 1)) || rx_size > rx_max || tx_size > tx_max) {
		vnet_log(VNET_LOG_ERR, "net: ring sizes rx %u tx %u must be powers of two within the "
		         "device's maxima (%u, %u)", (unsigned)rx_size, (unsigned)tx_size,
		         (unsigned)rx_max, (unsigned)tx_max);
		rc = -EINVAL;
		goto fail_reset;
	}
	if (vnet_pool_count(d->pool) < (uint32_t)rx_size + tx_size) {
		vnet_log(VNET_LOG_ERR, "net: pool of %u buffers is smaller than the rings (%u + %u)",
		         (unsigned)vnet_pool_count(d->pool), (unsigned)rx_size, (unsigned)tx_size);
		rc = -EINVAL;
		goto fail_reset;
	}
	if (d->pool->headroom < d->hdr_len) {
		rc = -EINVAL;
		goto fail_reset;
	}
	rc = config_read(d, &d->cfg);
	if (rc)
		goto fail_reset;
	room = vnet_pool_data_room(d->pool);
	if ((uint32_t)d->cfg.mtu + 18 > room) {
		vnet_log(VNET_LOG_ERR, "net: device MTU %u needs %u-byte buffers, pool data room is %u",
		         (unsigned)d->cfg.mtu, (unsigned)d->cfg.mtu + 18, (unsigned)room);
		rc = -EINVAL;
		goto fail_reset;
	}
	rc = vnet_vq_alloc(&d->rxq, VNET_RXQ(0), rx_size, VRING_DESC_F_WRITE);
	if (rc)
		goto fail_reset;
	rc = vnet_vq_alloc(&d->txq, VNET_TXQ(0), tx_size, 0);
	if (rc)
		goto fail_rxq;
	/* RX descriptors cover the header and the data room. */
	d->rxq.buf_off = d->pool->headroom - d->hdr_len;
	d->rxq.buf_len = room + d->hdr_len;
	d->txq.buf_len = UINT32_MAX;
	rc = start_queues(d);
	if (rc)
		goto fail_queues;
	*out = d;
	return 0;

fail_queues:
	stop(d);
	vnet_vq_free(&d->txq);
fail_rxq:
	vnet_vq_free(&d->rxq);
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
	vnet_vq_free(&d->rxq);
	vnet_vq_free(&d->txq);
	free(d);
}

uint8_t vnet_dev_hdr_len(const struct vnet_dev *d) { return (uint8_t)d->hdr_len; }

int vnet_dev_broken(struct vnet_dev *d)
{
	uint8_t st;

	if (!d)
		return -EINVAL;
	if (d->rxq.broken || d->txq.broken || d->needs_reset)
		return 1;
	st = d->t->ops->get_status(d->t);
	if (st & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED)) {
		d->needs_reset = true;
		return 1;
	}
	return 0;
}

int vnet_dev_recover(struct vnet_dev *d)
{
	uint64_t had;
	int rc;

	if (!d)
		return -EINVAL;
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
	if (!d || !out || q != 0)
		return -EINVAL;
	*out = rx ? d->rxq.stats : d->txq.stats;
	return 0;
}

uint16_t vnet_tx_free(const struct vnet_dev *d, uint16_t q)
{
	(void)q;
	return d->txq.num_free;
}
