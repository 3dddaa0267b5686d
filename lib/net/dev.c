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
/* spec 5.1.4.1: max_virtqueue_pairs is 1..0x8000; the control queue then
 * sits at 2N, which must fit a 16-bit queue index: N <= 0x7fff */
#define VNET_MQ_PAIRS_USABLE 0x7fffu

/* A config value out of the spec's range after negotiation (it passed the
 * check in negotiate(), so the device changed it): warn once. */
static void cfg_warn(struct vnet_dev *d, const char *what, unsigned v, unsigned kept)
{
	if (d->cfg_warned)
		return;
	d->cfg_warned = true;
	vnet_log(VNET_LOG_WARN, "net: %s: device config reports %s %u (spec 5.1.4.1): ignored, %u kept",
	         d->t->ops->name, what, v, kept);
}

/* spec 5.1.4.1: the RSS and hash report limits a device offers (key and
 * hash types for both features, the table for RSS), or what is wrong with
 * them (NULL: usable). vnet's tables are at most 2^15 entries (a mask of
 * 15 bits), and a table length must be a power of two to mask a hash. */
static const char *rss_limits_bad(uint64_t f, uint8_t key, uint16_t table, uint32_t types)
{
	if (key < VIRTIO_NET_RSS_MIN_KEY)
		return "rss_max_key_size below 40";
	if (!(types & VNET_HASH_TYPES_ALL))
		return "no hash type vnet knows in supported_hash_types";
	if ((f & VNET_F_RSS) &&
	    (table < VIRTIO_NET_RSS_MIN_TABLE || table > 0x8000u || (table & (table - 1))))
		return "rss_max_indirection_table_length not a power of two in 128..32768";
	return NULL;
}

/* The RSS/hash fields of config space (VNET_F_RSS or VNET_F_HASH_REPORT). */
static void rss_fields_read(struct vnet_transport *t, uint8_t *key, uint16_t *table, uint32_t *types)
{
	t->ops->read_config(t, VIRTIO_NET_CFG_RSS_MAX_KEY, key, 1);
	t->ops->read_config(t, VIRTIO_NET_CFG_RSS_MAX_TABLE, table, 2);
	t->ops->read_config(t, VIRTIO_NET_CFG_HASH_TYPES, types, 4);
}

/* A device that changed its RSS limits after negotiation (they passed
 * validate_config()): refused at open, else the accepted ones kept. */
static int rss_fields_check(struct vnet_dev *d, uint8_t *key, uint16_t *table, uint32_t *types)
{
	const char *why = rss_limits_bad(d->features, *key, *table, *types);

	if (!why)
		return 0;
	if (!d->cfg.rss_max_key_size) {
		vnet_log(VNET_LOG_ERR, "net: %s: device config changed to %s (spec 5.1.4.1)", d->t->ops->name, why);
		return -ERANGE;
	}
	if (*key < VIRTIO_NET_RSS_MIN_KEY)
		cfg_warn(d, "rss_max_key_size", *key, d->cfg.rss_max_key_size);
	else if (!(*types & VNET_HASH_TYPES_ALL))
		cfg_warn(d, "supported_hash_types", *types, d->cfg.hash_types);
	else
		cfg_warn(d, "rss_max_indirection_table_length", *table, d->cfg.rss_max_table_len);
	*key = d->cfg.rss_max_key_size;
	*table = d->cfg.rss_max_table_len;
	*types = d->cfg.hash_types;
	return 0;
}

static int config_read(struct vnet_dev *d, struct vnet_net_config *c)
{
	struct vnet_transport *t = d->t;
	int tries;

	for (tries = 0; tries < CONFIG_RETRIES; tries++) {
		uint32_t gen = t->ops->config_generation(t), speed = UINT32_MAX;
		uint8_t mac[6] = {0}, duplex = 0xff;
		uint16_t status = VIRTIO_NET_S_LINK_UP, pairs = 1, mtu = 1500, table = 0;
		uint8_t key = 0;
		uint32_t types = 0;

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
		if (d->features & (VNET_F_RSS | VNET_F_HASH_REPORT))
			rss_fields_read(t, &key, &table, &types);
		if (t->ops->config_generation(t) != gen)
			continue; /* torn read: the device changed config meanwhile */
		/* Checked in negotiate() before the features were accepted; a
		 * device that changes them later keeps what was accepted (at
		 * open there is nothing to keep: refused). */
		if ((d->features & VNET_F_MQ) && (pairs < 1 || pairs > VNET_MQ_PAIRS_USABLE)) {
			if (!d->cfg.max_pairs) {
				vnet_log(VNET_LOG_ERR, "net: %s: max_virtqueue_pairs changed to %u (usable: 1..%u)",
				         t->ops->name, (unsigned)pairs, VNET_MQ_PAIRS_USABLE);
				return -ERANGE;
			}
			cfg_warn(d, "max_virtqueue_pairs", pairs, d->cfg.max_pairs);
			pairs = d->cfg.max_pairs;
		}
		if ((d->features & VNET_F_MTU) && mtu < VNET_MIN_MTU) {
			if (!d->cfg.mtu) {
				vnet_log(VNET_LOG_ERR, "net: %s: device MTU changed to %u, below %u (spec 5.1.4.1)",
				         t->ops->name, (unsigned)mtu, VNET_MIN_MTU);
				return -ERANGE;
			}
			cfg_warn(d, "MTU", mtu, d->cfg.mtu);
			mtu = d->cfg.mtu;
		}
		if ((d->features & (VNET_F_RSS | VNET_F_HASH_REPORT)) && rss_fields_check(d, &key, &table, &types))
			return -ERANGE;
		memcpy(c->mac, mac, 6);
		c->rss_max_key_size = key;
		c->rss_max_table_len = (d->features & VNET_F_RSS) ? table : 0;
		c->hash_types = types & VNET_HASH_TYPES_ALL;
		c->link_up = (status & VIRTIO_NET_S_LINK_UP) != 0;
		c->announce = (d->features & VNET_F_GUEST_ANNOUNCE) && (status & VIRTIO_NET_S_ANNOUNCE);
		c->max_pairs = pairs;
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

/* ---- resets that do not complete ------------------------------------------
 *
 * A device whose reset never completes may still be writing into the
 * buffers and rings it was given (on bare metal that memory would be the
 * next malloc's). So after a failed reset nothing the device holds goes
 * back: buffers in flight stay on their rings (out of their pools), the
 * ring memory stays allocated, and the transport is asked to cut the
 * device off memory (PCI: bus mastering off). Only a reset that completes
 * gives it all back. A device closed in that state is parked, with its
 * memory, for vnet_held_release(). */

/* A TX frame may be a chain of nb_segs buffers; an RX buffer is one (its
 * nb_segs is left from its last use until a harvest sets it). */
static uint32_t queue_held_bufs(const struct vnet_vq *vq, bool tx)
{
	uint32_t n = 0, i;

	if (!vq->cookie)
		return 0;
	for (i = 0; i < vq->size; i++)
		if (vq->cookie[i])
			n += tx && vq->cookie[i]->nb_segs > 1 ? vq->cookie[i]->nb_segs : 1u;
	return n;
}

static uint64_t queue_ring_bytes(const struct vnet_vq *vq)
{
	return (vq->mem.va ? vq->mem.len : 0) + (vq->ind_mem.va ? vq->ind_mem.len : 0);
}

static void held_count(const struct vnet_dev *d, uint32_t *bufs, uint64_t *bytes)
{
	uint16_t p;

	*bufs = 0;
	*bytes = queue_ring_bytes(&d->ctrlq) + (d->ctrl_buf.va ? d->ctrl_buf.len : 0);
	for (p = 0; d->rxq && p < d->npairs; p++) {
		*bufs += queue_held_bufs(&d->rxq[p], false) + queue_held_bufs(&d->txq[p], true);
		*bytes += queue_ring_bytes(&d->rxq[p]) + queue_ring_bytes(&d->txq[p]);
	}
}

/* Every buffer in flight back to its pool (TX frames may be chains). */
static uint32_t drain_all(struct vnet_dev *d)
{
	uint32_t n = 0;
	uint16_t p;

	for (p = 0; d->rxq && p < d->npairs; p++) {
		n += vnet_vq_drain(&d->rxq[p], vnet_buf_free);
		n += vnet_vq_drain(&d->txq[p], vnet_buf_free_chain);
	}
	return n;
}

static void release_parked(struct vnet_transport *t);

/* Reset the device. On failure keep everything it holds (see above); on
 * success give back what an earlier failure kept. -ECONNRESET is a device
 * that is gone (a vhost-user backend that hung up serves no ring any
 * more): nothing to keep. 0 or -errno. */
static int dev_reset(struct vnet_dev *d)
{
	struct vnet_transport *t = d->t;
	int rc = t->ops->reset(t);

	if (rc && rc != -ECONNRESET) {
		uint32_t bufs;
		uint64_t bytes;

		d->reset_failures++;
		if (t->ops->bus_master)
			t->ops->bus_master(t, false);
		held_count(d, &bufs, &bytes);
		if (!d->held)
			vnet_log(VNET_LOG_ERR, "net: %s: the device did not complete its reset (%s): %u buffers "
			         "in flight and %llu bytes of ring memory stay out of circulation until a reset "
			         "completes%s", t->ops->name, vnet_strerror(rc), (unsigned)bufs,
			         (unsigned long long)bytes, t->ops->bus_master ? "; bus mastering is off" : "");
		d->held = true;
		return rc;
	}
	if (t->ops->bus_master && rc == 0)
		t->ops->bus_master(t, true);
	release_parked(t); /* devices closed over @t while stuck: this reset covers them */
	if (d->held) {
		uint32_t n = drain_all(d);

		d->held = false;
		vnet_log(VNET_LOG_INFO, "net: %s: the device %s: %u held buffers back in their pools",
		         t->ops->name, rc ? "is gone" : "reset at last", (unsigned)n);
	}
	return rc;
}

static void fail_device(struct vnet_dev *d)
{
	struct vnet_transport *t = d->t;

	/* spec 3.1.1: tell the device we gave up, then leave it reset */
	t->ops->set_status(t, (uint8_t)(t->ops->get_status(t) | VIRTIO_STATUS_FAILED));
	dev_reset(d);
}

/* Read a 16-bit config field before FEATURES_OK (spec 3.1.1 step 4: the
 * driver may read, not write, the device config to decide). */
static uint16_t peek16(struct vnet_transport *t, uint32_t off)
{
	uint16_t v = 0;

	t->ops->read_config(t, off, &v, 2);
	return v;
}

/* RSS and HASH_REPORT: a device whose limits are unusable (spec 5.1.4.1)
 * gets neither (a bad table alone costs RSS only), with the reason. */
static void validate_rss(struct vnet_dev *d)
{
	uint8_t key = 0;
	uint16_t table = 0;
	uint32_t types = 0;
	const char *why;

	rss_fields_read(d->t, &key, &table, &types);
	why = rss_limits_bad(d->features, key, table, types);
	if (why && rss_limits_bad(d->features & ~VNET_F_RSS, key, table, types) == NULL) {
		vnet_log(VNET_LOG_WARN, "net: %s: device offers %s (%u): VIRTIO_NET_F_RSS not negotiated",
		         d->t->ops->name, why, (unsigned)table);
		d->features &= ~VNET_F_RSS;
	} else if (why) {
		vnet_log(VNET_LOG_WARN, "net: %s: device offers %s (key %u bytes, hash types 0x%x): "
		         "VIRTIO_NET_F_RSS and VIRTIO_NET_F_HASH_REPORT not negotiated", d->t->ops->name, why,
		         (unsigned)key, (unsigned)types);
		d->features &= ~(VNET_F_RSS | VNET_F_HASH_REPORT);
	}
}

/* Config fields the features being accepted bring, checked before they
 * are (as Linux's virtnet_validate does): a feature whose field is out of
 * the spec's range is not negotiated, with a clear message. */
static void validate_config(struct vnet_dev *d)
{
	struct vnet_transport *t = d->t;

	if (d->features & VNET_F_MTU) {
		uint16_t mtu = peek16(t, VIRTIO_NET_CFG_MTU);

		if (mtu < VNET_MIN_MTU) {
			vnet_log(VNET_LOG_WARN, "net: %s: device MTU %u is below %u, IPv4's minimum (spec 5.1.4.1; "
			         "IPv6 needs 1280): VIRTIO_NET_F_MTU not negotiated, MTU 1500 assumed",
			         t->ops->name, (unsigned)mtu, VNET_MIN_MTU);
			d->features &= ~VNET_F_MTU;
		}
	}
	if (d->features & VNET_F_MQ) {
		uint16_t pairs = peek16(t, VIRTIO_NET_CFG_MAX_PAIRS);

		/* 0x8000 is in the spec's range, but its control queue (2N =
		 * 65536) is beyond a 16-bit queue index */
		if (pairs < 1 || pairs > VNET_MQ_PAIRS_USABLE) {
			vnet_log(VNET_LOG_WARN, "net: %s: max_virtqueue_pairs %u is outside 1..%u (spec 5.1.4.1: "
			         "1..32768; 32768 puts the control queue past queue 65535): VIRTIO_NET_F_MQ not "
			         "negotiated, one queue pair", t->ops->name, (unsigned)pairs, VNET_MQ_PAIRS_USABLE);
			d->features &= ~VNET_F_MQ;
		}
	}
	/* vnet steers by RSS only over MQ's queue pairs (MQ may have gone
	 * just above) */
	if (!(d->features & VNET_F_MQ))
		d->features &= ~VNET_F_RSS;
	if (d->features & (VNET_F_RSS | VNET_F_HASH_REPORT))
		validate_rss(d);
}

/* FEATURES_OK, which the legacy interface does not have (spec 3.1.2):
 * there the features written are the ones in force. */
static uint8_t status_features_ok(const struct vnet_dev *d)
{
	return d->t->ops->legacy ? 0 : VIRTIO_STATUS_FEATURES_OK;
}

/* Reset, status handshake and feature negotiation, up to FEATURES_OK. */
static int negotiate(struct vnet_dev *d, uint64_t want)
{
	struct vnet_transport *t = d->t;
	const bool legacy = t->ops->legacy;
	uint64_t offer;
	int rc;

	rc = dev_reset(d);
	if (rc) {
		/* a device that is gone (a vhost-user backend waited for) is
		 * retried by the caller's recover loop: no error line each time */
		vnet_log(rc == -ECONNRESET ? VNET_LOG_DEBUG : VNET_LOG_ERR, "net: %s: device reset did not complete%s",
		         t->ops->name, rc == -ECONNRESET ? ": the device is gone" : "");
		return rc;
	}
	t->ops->set_status(t, VIRTIO_STATUS_ACKNOWLEDGE);
	t->ops->set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	offer = t->ops->get_features(t);
	if (legacy) {
		/* 4.1.4.8, 4.2.4: 32 feature bits; nothing of virtio 1.x */
		offer &= UINT32_MAX;
	} else if (!(offer & VNET_F_VERSION_1)) {
		vnet_log(VNET_LOG_ERR, "net: %s: device lacks VIRTIO_F_VERSION_1 (legacy device): "
		         "use a modern device (QEMU: disable-legacy=on, or "
		         "-global virtio-mmio.force-legacy=false)", t->ops->name);
		fail_device(d);
		return -ENOTSUP;
	}
	d->features = offer & (want | (legacy ? 0 : VNET_F_VERSION_1)) & VNET_F_IMPLEMENTED;
	/* spec 2.6.1: how a queue is reset is the transport's business */
	if (!t->ops->queue_reset)
		d->features &= ~VNET_F_RING_RESET;
	/* The packed layout here: no in-order batches (its harvest reads every
	 * descriptor). */
	if (d->features & VNET_F_RING_PACKED)
		d->features &= ~VNET_F_IN_ORDER;
	/* spec 5.1.3.1: what depends on the control queue goes without it */
	if (!(d->features & VNET_F_CTRL_VQ))
		d->features &= ~(VNET_F_CTRL_RX | VNET_F_CTRL_VLAN | VNET_F_GUEST_ANNOUNCE | VNET_F_MQ |
		                 VNET_F_CTRL_MAC_ADDR | VNET_F_CTRL_GUEST_OFFLOADS);
	/* spec 5.1.3.1: RSS and HASH_REPORT need the control queue (checked
	 * apart: the line above has a mutant of its own) */
	if ((d->features & VNET_F_CTRL_VQ) == 0)
		d->features &= ~(VNET_F_RSS | VNET_F_HASH_REPORT);
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
	validate_config(d);
	t->ops->set_features(t, d->features);
	if (legacy)
		return 0;
	t->ops->set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	if (!(t->ops->get_status(t) & VIRTIO_STATUS_FEATURES_OK)) {
		vnet_log(VNET_LOG_ERR, "net: %s: device refused features 0x%llx", t->ops->name,
		         (unsigned long long)d->features);
		fail_device(d);
		return -EPROTO;
	}
	return 0;
}

/* The device's DMA memory, for a transport that hands it over by region
 * (vhost-user): its rings, tables, control buffer, RX pool and shared
 * pools; @none: nothing (the memory is about to go). 0 or -errno. */
static int share_regions(struct vnet_dev *d, bool none)
{
	struct vnet_transport *t = d->t;
	struct vnet_dma *r;
	unsigned n = 0, i;
	uint16_t p;
	int rc;

	if (!t->ops->set_dma_regions)
		return 0;
	if (none)
		return t->ops->set_dma_regions(t, NULL, 0);
	r = calloc(3u * d->npairs + 3u + VNET_DEV_SHARED_POOLS, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (p = 0; d->rxq && p < d->npairs; p++) {
		const struct vnet_vq *q[2] = {&d->rxq[p], &d->txq[p]};

		for (i = 0; i < 2; i++) {
			if (q[i]->mem.va)
				r[n++] = q[i]->mem;
			if (q[i]->ind_mem.va)
				r[n++] = q[i]->ind_mem;
		}
	}
	if (d->ctrlq.mem.va)
		r[n++] = d->ctrlq.mem;
	if (d->ctrl_buf.va)
		r[n++] = d->ctrl_buf;
	r[n++] = d->pool->mem;
	for (i = 0; i < VNET_DEV_SHARED_POOLS; i++)
		if (d->shared[i] && d->shared[i] != d->pool)
			r[n++] = d->shared[i]->mem;
	rc = t->ops->set_dma_regions(t, r, n);
	free(r);
	return rc;
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

	/* before the first queue: a transport that hands its device memory by
	 * region learns which is this device's (and only that) */
	rc = share_regions(d, false);
	if (rc) {
		vnet_log(VNET_LOG_ERR, "net: %s: cannot share the device's memory: %s", t->ops->name,
		         vnet_strerror(rc));
		return rc;
	}
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
		vnet_ring_reset(&d->ctrlq, 0, false);
		rc = setup_queue(d, &d->ctrlq);
		if (rc)
			return rc;
	}
	t->ops->set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | status_features_ok(d) |
	                         VIRTIO_STATUS_DRIVER_OK);
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
	/* spec 5.1.6.5.6.1: every negotiated receive offload is on again;
	 * what the application turned off goes off again */
	rc = vnet_rx_offloads_restore(d, true);
	/* a reset forgets RSS and the hash configuration too */
	return rc ? rc : vnet_rss_restore(d);
}

/* Reset the device first (it must stop touching the rings), then take
 * every buffer back - unless the reset did not complete: then the device
 * keeps them (dev_reset). 0 or the reset's -errno. */
static int stop(struct vnet_dev *d)
{
	uint16_t p;
	int rc = dev_reset(d);

	if (!d->held)
		drain_all(d);
	/* the rings are stale until start_queues() resets them: the fast
	 * path must not touch them (a failed recover leaves them so) */
	for (p = 0; d->rxq && p < d->npairs; p++)
		d->rxq[p].broken = d->txq[p].broken = true;
	d->started = false;
	return rc;
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

	share_regions(d, true); /* the memory goes: the transport forgets it first */
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

/* A legacy queue has the device's size (4.1.4.8: QueueSize is read-only;
 * MMIO version 1 is driven the same way): a power of two (2.7), and what
 * the application asked for, if it asked. */
static int legacy_sizes(struct vnet_dev *d, uint16_t rx_max, uint16_t tx_max, uint16_t *rx, uint16_t *tx)
{
	const struct vnet_dev_conf *c = &d->conf;

	if (!size_ok(rx_max, rx_max) || !size_ok(tx_max, tx_max)) {
		vnet_log(VNET_LOG_ERR, "net: %s: legacy device's queue sizes rx %u tx %u: not powers of two "
		         "(spec 2.7)", d->t->ops->name, (unsigned)rx_max, (unsigned)tx_max);
		return -EIO;
	}
	if ((c->rx_ring_size && c->rx_ring_size != rx_max) || (c->tx_ring_size && c->tx_ring_size != tx_max)) {
		vnet_log(VNET_LOG_ERR, "net: %s: a legacy device's rings have its sizes (rx %u, tx %u), not "
		         "rx %u tx %u", d->t->ops->name, (unsigned)rx_max, (unsigned)tx_max,
		         (unsigned)c->rx_ring_size, (unsigned)c->tx_ring_size);
		return -EINVAL;
	}
	*rx = rx_max;
	*tx = tx_max;
	return 0;
}

/* A legacy transport's queues are split, placed as a page frame number
 * implies (split.h); otherwise ring.h chooses split or packed. */
static int ring_alloc(struct vnet_dev *d, struct vnet_vq *vq, uint16_t qidx, uint16_t size, uint16_t flags,
                      bool packed)
{
	if (d->t->ops->legacy)
		return vnet_sq_alloc_legacy(vq, qidx, size, flags);
	return vnet_ring_alloc(vq, qidx, size, flags, packed);
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
	uint16_t p;
	uint32_t room = vnet_pool_data_room(d->pool), ctrl_idx;
	const bool packed = (d->features & VNET_F_RING_PACKED) != 0;
	int rc;

	if (!rx_max || !tx_max) {
		vnet_log(VNET_LOG_ERR, "net: %s: device has no receiveq1/transmitq1", t->ops->name);
		return -ENODEV;
	}
	if (t->ops->legacy) {
		rc = legacy_sizes(d, rx_max, tx_max, &rx_size, &tx_size);
		if (rc)
			return rc;
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
		rc = ring_alloc(d, &d->rxq[p], VNET_RXQ(p), rx_size, VRING_DESC_F_WRITE, packed) ?:
		     ring_alloc(d, &d->txq[p], VNET_TXQ(p), tx_size, 0, packed);
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
		/* max_pairs <= 0x7fff (validate_config): 2N fits 16 bits */
		ctrl_idx = (d->features & VNET_F_MQ) ? 2u * d->cfg.max_pairs : 2u;
		if (ctrl_idx > 0xffff)
			return -ERANGE;
		max = t->ops->queue_max(t, (uint16_t)ctrl_idx);
		if (!max) {
			vnet_log(VNET_LOG_ERR, "net: device offers CTRL_VQ without a control queue");
			return -ENODEV;
		}
		rc = ring_alloc(d, &d->ctrlq, (uint16_t)ctrl_idx,
		                t->ops->legacy ? max : pick_size(c->ctrl_ring_size, max, 64), 0, packed);
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

static void park(struct vnet_dev *d);

/* The legacy interface's header (spec 5.1.6.1): num_buffers only with
 * MRG_RXBUF. 0 for a modern device. */
static uint32_t legacy_hdr_len(const struct vnet_dev *d)
{
	if (!d->t->ops->legacy)
		return 0;
	return (d->features & VNET_F_MRG_RXBUF) ? sizeof(struct virtio_net_hdr) : VIRTIO_NET_HDR_LEGACY_LEN;
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
	/* spec 5.1.6: 12 bytes with VERSION_1 (or MRG_RXBUF), 10 for legacy
	 * without MRG_RXBUF (5.1.6.1), where an override must agree */
	d->hdr_len = legacy_hdr_len(d);
	if (!d->hdr_len)
		d->hdr_len = conf->hdr_len ? conf->hdr_len : sizeof(struct virtio_net_hdr);
	/* ... and 20 with HASH_REPORT (hash_value, hash_report, padding) */
	if (d->features & VNET_F_HASH_REPORT) {
		if (conf->hdr_len && conf->hdr_len != VIRTIO_NET_HDR_HASH_LEN) {
			vnet_log(VNET_LOG_ERR, "net: header length override %u: VIRTIO_NET_F_HASH_REPORT takes the "
			         "%u-byte header (spec 5.1.6)", (unsigned)conf->hdr_len, VIRTIO_NET_HDR_HASH_LEN);
			rc = -EINVAL;
			goto fail_reset;
		}
		d->hdr_len = VIRTIO_NET_HDR_HASH_LEN;
	} else if (d->hdr_len < 10 || d->hdr_len > sizeof(struct virtio_net_hdr) ||
	           (conf->hdr_len && conf->hdr_len != d->hdr_len) ||
	           (d->hdr_len != sizeof(struct virtio_net_hdr) && (d->features & VNET_F_MRG_RXBUF))) {
		/* MRG_RXBUF needs num_buffers: the 12-byte header (5.1.6) */
		vnet_log(VNET_LOG_ERR, "net: header length override %u is not 10..12 (12 with MRG_RXBUF; "
		         "a legacy device's: %u)", (unsigned)conf->hdr_len, (unsigned)d->hdr_len);
		rc = -EINVAL;
		goto fail_reset;
	}
	rc = config_read(d, &d->cfg);
	if (rc)
		goto fail_reset;
	if (!(d->features & VNET_F_MAC))
		vnet_log(VNET_LOG_WARN, "net: %s: the device offers no MAC address (VIRTIO_NET_F_MAC): "
		         "the application must choose one (spec 5.1.5)", t->ops->name);
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
	fail_device(d); /* a reset that completes gives back what stop() kept */
	if (d->held) {
		park(d); /* the device may still write into it: never freed */
		return rc;
	}
	free_queues(d);
	free(d);
	return rc;
fail_reset:
	fail_device(d);
fail_free:
	free(d);
	return rc;
}

void vnet_dev_close(struct vnet_dev *d)
{
	if (!d)
		return;
	stop(d);
	if (d->held) {
		park(d);
		return;
	}
	free_queues(d);
	free(d);
}

/* ---- devices closed while their reset had not completed --------------------
 * Kept, memory and buffers included, on a list: nothing of theirs may be
 * reused while the device can still write it. vnet_held_release() retries
 * their reset. A spin flag guards the list (open and close of different
 * devices may run on different threads). */
static struct vnet_dev *parked;
static volatile char parked_lock;

static void parked_take(void)
{
	while (__atomic_test_and_set(&parked_lock, __ATOMIC_ACQUIRE))
		vnet_cpu_relax();
}

static void parked_give(void)
{
	__atomic_clear(&parked_lock, __ATOMIC_RELEASE);
}

/* The device behind @t completed a reset (or is gone): what devices
 * closed over @t kept is free now. */
static void release_parked(struct vnet_transport *t)
{
	struct vnet_dev **pp, *d, *mine = NULL;

	parked_take();
	for (pp = &parked; (d = *pp) != NULL;) {
		if (d->t == t) {
			*pp = d->next_parked;
			d->next_parked = mine;
			mine = d;
		} else {
			pp = &d->next_parked;
		}
	}
	parked_give();
	while ((d = mine) != NULL) {
		uint32_t n;

		mine = d->next_parked;
		n = drain_all(d);
		vnet_log(VNET_LOG_INFO, "net: %s: the device reset: a closed device's %u held buffers are back",
		         t->ops->name, (unsigned)n);
		d->held = false;
		free_queues(d);
		free(d);
	}
}

static void park(struct vnet_dev *d)
{
	uint32_t bufs;
	uint64_t bytes;

	held_count(d, &bufs, &bytes);
	vnet_log(VNET_LOG_ERR, "net: %s: closed without a completed reset: %u buffers and %llu bytes of ring "
	         "memory stay with the device (vnet_held_release() retries the reset)", d->t->ops->name,
	         (unsigned)bufs, (unsigned long long)bytes);
	parked_take();
	d->next_parked = parked;
	parked = d;
	parked_give();
}

void vnet_held_stats(struct vnet_held_stats *out)
{
	const struct vnet_dev *d;

	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	parked_take();
	for (d = parked; d; d = d->next_parked) {
		uint32_t bufs;
		uint64_t bytes;

		held_count(d, &bufs, &bytes);
		out->devices++;
		out->bufs += bufs;
		out->ring_bytes += bytes;
	}
	parked_give();
}

int vnet_held_release(struct vnet_transport *t)
{
	struct vnet_held_stats before, after;
	int rc;

	if (!t)
		return -EINVAL;
	vnet_held_stats(&before);
	/* one reset of the device behind @t covers every device closed over
	 * it: a successful one releases them all (dev_reset) */
	rc = t->ops->reset(t);
	if (rc && rc != -ECONNRESET) {
		vnet_log(VNET_LOG_ERR, "net: %s: the device still does not reset: what it holds stays held",
		         t->ops->name);
		return rc;
	}
	if (rc == 0 && t->ops->bus_master)
		t->ops->bus_master(t, true);
	release_parked(t);
	vnet_held_stats(&after);
	return (int)(before.bufs - after.bufs);
}

int vnet_dev_stats(const struct vnet_dev *d, struct vnet_dev_stats *out)
{
	uint32_t bufs = 0;
	uint64_t bytes = 0;

	if (!d || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (d->held)
		held_count(d, &bufs, &bytes);
	out->reset_failures = d->reset_failures;
	out->held_bufs = bufs;
	out->held_ring_bytes = bytes;
	return 0;
}

int vnet_dev_share_pool(struct vnet_dev *d, struct vnet_pool *pool)
{
	unsigned i, slot = VNET_DEV_SHARED_POOLS;
	int rc;

	if (!d || !pool)
		return -EINVAL;
	if (pool == d->pool)
		return 0;
	for (i = 0; i < VNET_DEV_SHARED_POOLS; i++) {
		if (d->shared[i] == pool)
			return 0;
		if (!d->shared[i] && slot == VNET_DEV_SHARED_POOLS)
			slot = i;
	}
	if (slot == VNET_DEV_SHARED_POOLS)
		return -ENOSPC;
	d->shared[slot] = pool;
	if (!d->started)
		return 0; /* shared from the next start on */
	rc = share_regions(d, false);
	if (rc)
		d->shared[slot] = NULL;
	return rc;
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
		vnet_ring_reset(vq, 0, false);
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
	if (!rc && d->ctrlq.size && d->ctrlq.broken) {
		rc = queue_reset(d, &d->ctrlq, false, 0);
		/* a command lost with the queue may have been the offloads' or RSS's */
		if (!rc)
			rc = vnet_rx_offloads_restore(d, false);
		if (!rc)
			rc = vnet_rss_restore(d);
	}
	return rc;
}

/* Which queues the device broke, and how (what the harvest counted). */
static void log_broken(const struct vnet_dev *d)
{
	uint16_t p;

	for (p = 0; d->started && p < d->npairs; p++) {
		const struct vnet_vq *q[2] = {&d->rxq[p], &d->txq[p]};

		for (unsigned i = 0; i < 2; i++)
			if (q[i]->broken)
				vnet_log(VNET_LOG_WARN, "net: %s: queue %u broken by the device (so far: %llu bad "
				         "ids, %llu bad lengths, %llu bad indices): resetting it",
				         d->t->ops->name, (unsigned)q[i]->qidx,
				         (unsigned long long)q[i]->stats.drop_bad_id,
				         (unsigned long long)q[i]->stats.drop_bad_len,
				         (unsigned long long)q[i]->stats.drop_bad_idx);
	}
}

int vnet_dev_recover(struct vnet_dev *d)
{
	uint64_t had;
	int rc;

	if (!d)
		return -EINVAL;
	log_broken(d);
	if (recover_queues(d) == 0)
		return 0;
	had = d->features;
	stop(d);
	d->needs_reset = false;
	rc = negotiate(d, had);
	if (rc == 0 && d->features != had) {
		vnet_log(VNET_LOG_ERR, "net: device offers different features after reset");
		fail_device(d);
		rc = -EPROTO;
	}
	if (rc == 0)
		rc = start_queues(d);
	if (rc) {
		/* The queues were allocated for @had (packed or split layout,
		 * indirect tables, control queue): a negotiation that got less
		 * must not become what the next recover asks for. */
		d->features = had;
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
