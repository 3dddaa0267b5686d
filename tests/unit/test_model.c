/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The device model, driven by hand: rings allocated here, the status and
 * feature handshake through the transport ops, descriptors posted on the
 * avail ring directly, used entries checked after vnet_model_poll(). No
 * driver code is involved.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vnet/model.h"
#include "vnet/vnet.h"
#include "transport/transport.h"
#include "base/virtio_spec.h"

#define BUF_SIZE 2048u
#define HDR 12u
#define S_ACK VIRTIO_STATUS_ACKNOWLEDGE
#define S_DRV VIRTIO_STATUS_DRIVER
#define S_FOK VIRTIO_STATUS_FEATURES_OK
#define S_DOK VIRTIO_STATUS_DRIVER_OK
#define S_NR VIRTIO_STATUS_DEVICE_NEEDS_RESET
/* What the model offers by default (model.h); the driver's VNET_F_DEFAULT
 * may ask for more. */
#define F_MODEL_DEFAULT (VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_MTU | VNET_F_STATUS | VNET_F_EVENT_IDX)

/* ------------------------------------------------ a hand-made driver -- */

struct ring {
	uint16_t size;
	void *mem;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t avail_idx;
	uint8_t *bufs; /* size buffers of BUF_SIZE, buffer i for descriptor i */
};

struct dev {
	struct vnet_model *m;
	struct vnet_transport *t;
	struct ring rx, tx;
};

static void ring_init(struct ring *r, uint16_t size)
{
	size_t avail_off = 16u * size;
	size_t used_off = (avail_off + 6 + 2u * size + 3) & ~(size_t)3;
	size_t total = (used_off + 6 + 8u * size + 4095) & ~(size_t)4095;

	memset(r, 0, sizeof(*r));
	r->size = size;
	r->mem = aligned_alloc(4096, total);
	ck_assert_ptr_nonnull(r->mem);
	memset(r->mem, 0, total);
	r->desc = r->mem;
	r->avail = (struct vring_avail *)((uint8_t *)r->mem + avail_off);
	r->used = (struct vring_used *)((uint8_t *)r->mem + used_off);
	r->bufs = aligned_alloc(64, (size_t)size * BUF_SIZE);
	ck_assert_ptr_nonnull(r->bufs);
	memset(r->bufs, 0, (size_t)size * BUF_SIZE);
}

static void ring_free(struct ring *r)
{
	free(r->mem);
	free(r->bufs);
	r->mem = NULL;
	r->bufs = NULL;
}

static struct vnet_vq_addrs ring_addrs(const struct ring *r)
{
	struct vnet_vq_addrs a = {
		.desc = (uintptr_t)r->desc,
		.avail = (uintptr_t)r->avail,
		.used = (uintptr_t)r->used,
	};
	return a;
}

static uint8_t *buf(struct ring *r, uint16_t id)
{
	return r->bufs + (size_t)id * BUF_SIZE;
}

static uint16_t used_idx(const struct ring *r)
{
	return *(const volatile uint16_t *)&r->used->idx;
}

static uint16_t used_flags(const struct ring *r)
{
	return *(const volatile uint16_t *)&r->used->flags;
}

static struct vring_used_elem used_at(const struct ring *r, uint16_t i)
{
	return r->used->ring[i & (r->size - 1)];
}

static uint16_t avail_event(const struct ring *r)
{
	const volatile uint8_t *p = (const volatile uint8_t *)r->used + 4 + 8u * r->size;

	return (uint16_t)(p[0] | p[1] << 8);
}

static void set_desc(struct ring *r, uint16_t id, const void *addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
	r->desc[id].addr = (uintptr_t)addr;
	r->desc[id].len = len;
	r->desc[id].flags = flags;
	r->desc[id].next = next;
}

static void publish(struct ring *r, uint16_t head)
{
	r->avail->ring[r->avail_idx & (r->size - 1)] = head;
	r->avail_idx++;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	*(volatile uint16_t *)&r->avail->idx = r->avail_idx;
}

static void rx_post(struct ring *r, uint16_t id, uint32_t len)
{
	set_desc(r, id, buf(r, id), len, VRING_DESC_F_WRITE, 0);
	publish(r, id);
}

/* Header and frame in one descriptor. */
static void tx_post(struct ring *r, uint16_t id, const uint8_t *f, uint32_t len, uint32_t hlen)
{
	uint8_t *b = buf(r, id);

	memset(b, 0, hlen);
	memcpy(b + hlen, f, len);
	set_desc(r, id, b, hlen + len, 0, 0);
	publish(r, id);
}

/* Header in descriptor id, frame in descriptor id + 1. */
static void tx_post_split(struct ring *r, uint16_t id, const uint8_t *f, uint32_t len, uint32_t hlen)
{
	memset(buf(r, id), 0, hlen);
	memcpy(buf(r, (uint16_t)(id + 1)), f, len);
	set_desc(r, id, buf(r, id), hlen, VRING_DESC_F_NEXT, (uint16_t)(id + 1));
	set_desc(r, (uint16_t)(id + 1), buf(r, (uint16_t)(id + 1)), len, 0, 0);
	publish(r, id);
}

static const uint8_t MAC_DEF[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};
static const uint8_t MAC_PEER[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x09};

static void make_frame(uint8_t *f, uint32_t len, uint8_t seed)
{
	memcpy(f, MAC_DEF, 6);
	memcpy(f + 6, MAC_PEER, 6);
	f[12] = 0x88;
	f[13] = 0xb6;
	for (uint32_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i * 7);
}

/* Spec 3.1.1 up to FEATURES_OK. 0, or -EIO when FEATURES_OK did not stick. */
static int handshake(struct vnet_transport *t, uint64_t want)
{
	const struct vnet_transport_ops *o = t->ops;
	int err = o->reset(t);

	if (err)
		return err;
	o->set_status(t, S_ACK);
	o->set_status(t, S_ACK | S_DRV);
	o->set_features(t, o->get_features(t) & want);
	o->set_status(t, S_ACK | S_DRV | S_FOK);
	if (!(o->get_status(t) & S_FOK)) {
		o->set_status(t, S_ACK | S_DRV | VIRTIO_STATUS_FAILED);
		return -EIO;
	}
	return 0;
}

static void dev_queues(struct dev *d, uint16_t rxs, uint16_t txs)
{
	struct vnet_vq_addrs a;

	ring_init(&d->rx, rxs);
	ring_init(&d->tx, txs);
	a = ring_addrs(&d->rx);
	ck_assert_int_eq(d->t->ops->queue_setup(d->t, 0, rxs, &a), 0);
	a = ring_addrs(&d->tx);
	ck_assert_int_eq(d->t->ops->queue_setup(d->t, 1, txs, &a), 0);
	d->t->ops->set_status(d->t, S_ACK | S_DRV | S_FOK | S_DOK);
}

static void dev_start(struct dev *d, const struct vnet_model_conf *conf, uint64_t want,
                      uint16_t rxs, uint16_t txs)
{
	memset(d, 0, sizeof(*d));
	ck_assert_int_eq(vnet_model_create(&d->m, conf), 0);
	d->t = vnet_model_transport(d->m);
	ck_assert_int_eq(handshake(d->t, want), 0);
	dev_queues(d, rxs, txs);
}

static void dev_stop(struct dev *d)
{
	d->t->ops->reset(d->t);
	d->t->ops->close(d->t);
	vnet_model_destroy(d->m);
	ring_free(&d->rx);
	ring_free(&d->tx);
}

static struct vnet_model_stats stats(const struct dev *d)
{
	struct vnet_model_stats s;

	vnet_model_stats(d->m, &s);
	return s;
}

static struct vnet_model_conf conf_backend(enum vnet_model_backend b)
{
	struct vnet_model_conf c;

	memset(&c, 0, sizeof(c));
	c.backend = b;
	return c;
}

static uint16_t rd16(struct vnet_transport *t, uint32_t off)
{
	uint8_t b[2];

	t->ops->read_config(t, off, b, 2);
	return (uint16_t)(b[0] | b[1] << 8);
}

/* The RX header the model must write: zero, num_buffers = 1 (12 bytes). */
static void check_rx_hdr(const uint8_t *b, uint32_t hlen)
{
	for (uint32_t i = 0; i < 10; i++)
		ck_assert_uint_eq(b[i], 0);
	if (hlen == 12) {
		ck_assert_uint_eq(b[10], 1);
		ck_assert_uint_eq(b[11], 0);
	}
}

/* ------------------------------------------------------- lifecycle -- */

START_TEST(test_create_conf)
{
	struct vnet_model *m = NULL;
	struct vnet_transport *t;
	struct vnet_model_conf c;

	ck_assert_int_eq(vnet_model_create(NULL, NULL), -EINVAL);
	ck_assert_int_eq(vnet_model_create(&m, NULL), 0);
	t = vnet_model_transport(m);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t->ops->name, "model");
	ck_assert_uint_eq(t->ops->get_features(t), F_MODEL_DEFAULT);
	ck_assert_uint_eq(t->ops->get_status(t), 0);
	ck_assert_uint_eq(t->ops->queue_max(t, 0), 1024);
	ck_assert_uint_eq(t->ops->queue_max(t, 1), 1024);
	ck_assert_uint_eq(t->ops->queue_max(t, 2), 0);
	ck_assert_uint_eq(t->ops->config_generation(t), 0);
	ck_assert_uint_eq(vnet_model_poll(m), 0);
	vnet_model_destroy(m);
	vnet_model_destroy(NULL);
	ck_assert_ptr_null(vnet_model_transport(NULL));

	memset(&c, 0, sizeof(c));
	c.queue_max = 256;
	ck_assert_int_eq(vnet_model_create(&m, &c), 0);
	ck_assert_uint_eq(vnet_model_transport(m)->ops->queue_max(vnet_model_transport(m), 0), 256);
	vnet_model_destroy(m);

	/* impossible combinations (spec 5.1.3.1 dependencies, and what the
	 * model cannot do) */
	const struct {
		uint16_t queue_max, mtu, source_len;
		int backend;
		uint64_t features;
		uint16_t max_pairs;
		uint8_t duplex, rx_csum;
		uint32_t speed;
	} bad[] = {
		{3, 0, 0, 0, 0, 0, 0, 0, 0},
		{1000, 0, 0, 0, 0, 0, 0, 0, 0},
		{0, 67, 0, 0, 0, 0, 0, 0, 0},
		{0, 0, 13, 0, 0, 0, 0, 0, 0},
		{0, 0, 0, 99, 0, 0, 0, 0, 0},
		{0, 0, 0, 0, VNET_F_VERSION_1 | (1ULL << 50), 0, 0, 0, 0}, /* unknown bit */
		{0, 0, 0, 0, VNET_F_VERSION_1 | VNET_F_GUEST_TSO4, 0, 0, 0, 0},
		{0, 0, 0, 0, VNET_F_VERSION_1 | VNET_F_GUEST_TSO6, 0, 0, 0, 0},
		{0, 0, 0, 0, VNET_F_VERSION_1 | VNET_F_HOST_TSO4, 0, 0, 0, 0},
		{0, 0, 0, 0, VNET_F_VERSION_1 | VNET_F_HOST_TSO6, 0, 0, 0, 0},
		{0, 0, 0, 0, VNET_F_VERSION_1 | VNET_F_MQ, 0, 0, 0, 0},
		{0, 0, 0, 0, VNET_F_VERSION_1 | VNET_F_CTRL_RX, 0, 0, 0, 0},
		{0, 0, 0, 0, VNET_F_VERSION_1 | VNET_F_CTRL_VLAN, 0, 0, 0, 0},
		{0, 0, 0, 0, VNET_F_VERSION_1 | VNET_F_GUEST_ANNOUNCE, 0, 0, 0, 0},
		{0, 0, 0, 0, VNET_F_VERSION_1 | VNET_F_CTRL_MAC_ADDR, 0, 0, 0, 0},
		{0, 0, 0, 0, VNET_F_MAC | VNET_F_RING_PACKED, 0, 0, 0, 0}, /* packed is 1.x only */
		{0, 0, 0, 0, 0, 2, 0, 0, 0},                                /* pairs without MQ */
		{0, 0, 0, 0, VNET_F_VERSION_1 | VNET_F_CTRL_VQ | VNET_F_MQ, VNET_MODEL_MAX_PAIRS + 1, 0, 0, 0},
		{0, 0, 0, 0, 0, 0, 3, 0, 0},                                /* duplex */
		{0, 0, 0, 0, 0, 0, 0, 0, 0x80000000u},                      /* speed */
		{0, 0, 0, 0, 0, 0, 0, VNET_MODEL_RX_CSUM_VALID, 0},         /* needs GUEST_CSUM */
		{0, 0, 0, 0, VNET_F_VERSION_1 | VNET_F_GUEST_CSUM, 0, 0, 3, 0},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.queue_max = bad[i].queue_max;
		c.mtu = bad[i].mtu;
		c.source_len = bad[i].source_len;
		c.backend = (enum vnet_model_backend)bad[i].backend;
		c.features = bad[i].features;
		c.max_pairs = bad[i].max_pairs;
		c.duplex = bad[i].duplex;
		c.rx_csum = bad[i].rx_csum;
		c.speed = bad[i].speed;
		m = (struct vnet_model *)(uintptr_t)0x1000; /* must be cleared on failure */
		ck_assert_int_eq(vnet_model_create(&m, &c), -EINVAL);
		ck_assert_ptr_null(m);
	}
}
END_TEST

START_TEST(test_handshake_features)
{
	struct vnet_model *m;
	struct vnet_transport *t;
	const struct vnet_transport_ops *o;
	struct vnet_model_stats s;

	ck_assert_int_eq(vnet_model_create(&m, NULL), 0);
	t = vnet_model_transport(m);
	o = t->ops;

	ck_assert_int_eq(handshake(t, VNET_F_DEFAULT), 0);
	ck_assert_uint_eq(o->get_status(t), S_ACK | S_DRV | S_FOK);

	/* A feature that was not offered: FEATURES_OK does not stick. */
	ck_assert_int_eq(o->reset(t), 0);
	ck_assert_uint_eq(o->get_status(t), 0);
	o->set_status(t, S_ACK);
	o->set_status(t, S_ACK | S_DRV);
	o->set_features(t, VNET_F_DEFAULT | VNET_F_MRG_RXBUF);
	o->set_status(t, S_ACK | S_DRV | S_FOK);
	ck_assert_uint_eq(o->get_status(t), S_ACK | S_DRV);

	/* REFUSE_FEATURES, armed before the reset that starts the handshake. */
	vnet_model_fault(m, VNET_FAULT_REFUSE_FEATURES, 1);
	ck_assert_int_eq(handshake(t, VNET_F_DEFAULT), -EIO);
	vnet_model_stats(m, &s);
	ck_assert_uint_eq(s.faults_fired, 1);
	ck_assert_int_eq(handshake(t, VNET_F_DEFAULT), 0);
	vnet_model_stats(m, &s);
	ck_assert_uint_eq(s.faults_fired, 1);

	/* Disarming with count 0. */
	vnet_model_fault(m, VNET_FAULT_REFUSE_FEATURES, 5);
	vnet_model_fault(m, VNET_FAULT_REFUSE_FEATURES, 0);
	ck_assert_int_eq(handshake(t, VNET_F_DEFAULT), 0);
	/* Out-of-range faults are ignored. */
	vnet_model_fault(m, VNET_FAULT__COUNT, 1);
	vnet_model_fault(m, VNET_FAULT_NONE, 1);
	vnet_model_destroy(m);
}
END_TEST

START_TEST(test_reset_stuck)
{
	struct vnet_model *m;
	struct vnet_transport *t;
	struct vnet_model_stats s;

	ck_assert_int_eq(vnet_model_create(&m, NULL), 0);
	t = vnet_model_transport(m);

	/* From a fresh device: still never reads back 0. */
	vnet_model_fault(m, VNET_FAULT_RESET_STUCK, 1);
	ck_assert_int_eq(t->ops->reset(t), -ETIMEDOUT);
	ck_assert_uint_ne(t->ops->get_status(t), 0);
	ck_assert_uint_ne(t->ops->get_status(t) & S_NR, 0);
	ck_assert_int_eq(t->ops->reset(t), 0);
	ck_assert_uint_eq(t->ops->get_status(t), 0);

	/* After a handshake: the old status stays, plus NEEDS_RESET. */
	ck_assert_int_eq(handshake(t, VNET_F_DEFAULT), 0);
	vnet_model_fault(m, VNET_FAULT_RESET_STUCK, 2);
	ck_assert_int_eq(t->ops->reset(t), -ETIMEDOUT);
	ck_assert_uint_eq(t->ops->get_status(t), S_ACK | S_DRV | S_FOK | S_NR);
	ck_assert_int_eq(t->ops->reset(t), -ETIMEDOUT);
	ck_assert_int_eq(t->ops->reset(t), 0);
	ck_assert_uint_eq(t->ops->get_status(t), 0);
	vnet_model_stats(m, &s);
	ck_assert_uint_eq(s.faults_fired, 3);
	vnet_model_destroy(m);
}
END_TEST

START_TEST(test_queue_setup)
{
	struct vnet_model *m;
	struct vnet_transport *t;
	const struct vnet_transport_ops *o;
	struct ring r;
	struct vnet_vq_addrs a;

	ck_assert_int_eq(vnet_model_create(&m, NULL), 0);
	t = vnet_model_transport(m);
	o = t->ops;
	ring_init(&r, 8);
	a = ring_addrs(&r);

	/* Before FEATURES_OK (spec 3.1.1 order). */
	o->set_status(t, S_ACK | S_DRV);
	ck_assert_int_eq(o->queue_setup(t, 0, 8, &a), -EINVAL);
	ck_assert_int_eq(handshake(t, VNET_F_DEFAULT), 0);

	ck_assert_int_eq(o->queue_setup(t, 2, 8, &a), -EINVAL);
	ck_assert_int_eq(o->queue_setup(t, 0, 0, &a), -EINVAL);
	ck_assert_int_eq(o->queue_setup(t, 0, 3, &a), -EINVAL);
	ck_assert_int_eq(o->queue_setup(t, 0, 2048, &a), -EINVAL);
	ck_assert_int_eq(o->queue_setup(t, 0, 8, NULL), -EINVAL);
	a.desc = 0;
	ck_assert_int_eq(o->queue_setup(t, 0, 8, &a), -EINVAL);
	a = ring_addrs(&r);
	a.desc += 8;
	ck_assert_int_eq(o->queue_setup(t, 0, 8, &a), -EINVAL);
	a = ring_addrs(&r);
	a.avail += 1;
	ck_assert_int_eq(o->queue_setup(t, 0, 8, &a), -EINVAL);
	a = ring_addrs(&r);
	a.used += 2;
	ck_assert_int_eq(o->queue_setup(t, 0, 8, &a), -EINVAL);
	a = ring_addrs(&r);
	ck_assert_int_eq(o->queue_setup(t, 0, 8, &a), 0);
	ck_assert_int_eq(o->queue_setup(t, 1, 1, &a), 0); /* size 1 is a power of two */

	/* Not once DRIVER_OK is set. */
	o->set_status(t, S_ACK | S_DRV | S_FOK | S_DOK);
	ck_assert_int_eq(o->queue_setup(t, 0, 8, &a), -EINVAL);

	/* Notifications are counted, whatever the queue. */
	o->notify(t, 0);
	o->notify(t, 1);
	{
		struct vnet_model_stats s;

		vnet_model_stats(m, &s);
		ck_assert_uint_eq(s.notifies, 2);
	}
	o->close(t);
	vnet_model_destroy(m);
	ring_free(&r);
}
END_TEST

/* ---------------------------------------------------------- config -- */

START_TEST(test_config)
{
	struct vnet_model *m;
	struct vnet_transport *t;
	struct vnet_model_conf c;
	uint8_t mac[6], b4[4], tail[4];
	uint32_t gen;
	const uint8_t want_mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

	memset(&c, 0, sizeof(c));
	memcpy(c.mac, want_mac, 6);
	c.mtu = 9000;
	ck_assert_int_eq(vnet_model_create(&m, &c), 0);
	t = vnet_model_transport(m);
	ck_assert_int_eq(handshake(t, VNET_F_DEFAULT), 0);

	for (uint32_t i = 0; i < 6; i++)
		t->ops->read_config(t, VIRTIO_NET_CFG_MAC + i, &mac[i], 1);
	ck_assert_mem_eq(mac, want_mac, 6);
	ck_assert_uint_eq(rd16(t, VIRTIO_NET_CFG_STATUS), VIRTIO_NET_S_LINK_UP);
	ck_assert_uint_eq(rd16(t, VIRTIO_NET_CFG_MAX_PAIRS), 1);
	ck_assert_uint_eq(rd16(t, VIRTIO_NET_CFG_MTU), 9000);
	t->ops->read_config(t, VIRTIO_NET_CFG_SPEED, b4, 4);
	ck_assert_uint_eq(b4[0] & b4[1] & b4[2] & b4[3], 0xff);
	memset(tail, 0xaa, sizeof(tail));
	t->ops->read_config(t, 20, tail, 4);
	ck_assert_uint_eq(tail[0] | tail[1] | tail[2] | tail[3], 0);

	gen = t->ops->config_generation(t);
	vnet_model_set_link(m, false);
	ck_assert_uint_eq(t->ops->config_generation(t), gen + 1);
	ck_assert_uint_eq(rd16(t, VIRTIO_NET_CFG_STATUS), 0);
	vnet_model_set_link(m, true);
	vnet_model_announce(m);
	ck_assert_uint_eq(t->ops->config_generation(t), gen + 3);
	ck_assert_uint_eq(rd16(t, VIRTIO_NET_CFG_STATUS), VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE);
	ck_assert_int_eq(t->ops->reset(t), 0);
	ck_assert_uint_eq(rd16(t, VIRTIO_NET_CFG_STATUS), VIRTIO_NET_S_LINK_UP);
	vnet_model_destroy(m);

	c.link_down = true;
	ck_assert_int_eq(vnet_model_create(&m, &c), 0);
	ck_assert_uint_eq(rd16(vnet_model_transport(m), VIRTIO_NET_CFG_STATUS), 0);
	vnet_model_destroy(m);
}
END_TEST

START_TEST(test_config_churn)
{
	struct vnet_model *m;
	struct vnet_transport *t;
	struct vnet_model_stats s;
	uint32_t gen, before, after;
	uint16_t status = 0, mtu = 0;
	int passes;

	ck_assert_int_eq(vnet_model_create(&m, NULL), 0);
	t = vnet_model_transport(m);
	vnet_model_fault(m, VNET_FAULT_CONFIG_CHURN, 3);

	/* A driver that does not check the generation reads a torn value. */
	gen = t->ops->config_generation(t);
	ck_assert_uint_eq(rd16(t, VIRTIO_NET_CFG_STATUS), 0);
	ck_assert_uint_eq(t->ops->config_generation(t), gen + 1);

	/* The spec 2.5.1 loop reads the true value once the churn is over. */
	for (passes = 1; passes <= 8; passes++) {
		before = t->ops->config_generation(t);
		status = rd16(t, VIRTIO_NET_CFG_STATUS);
		mtu = rd16(t, VIRTIO_NET_CFG_MTU);
		after = t->ops->config_generation(t);
		if (before == after)
			break;
	}
	ck_assert_int_eq(passes, 2);
	ck_assert_uint_eq(status, VIRTIO_NET_S_LINK_UP);
	ck_assert_uint_eq(mtu, 1500);
	vnet_model_stats(m, &s);
	ck_assert_uint_eq(s.faults_fired, 3);
	gen = t->ops->config_generation(t);
	ck_assert_uint_eq(rd16(t, VIRTIO_NET_CFG_STATUS), VIRTIO_NET_S_LINK_UP);
	ck_assert_uint_eq(t->ops->config_generation(t), gen);
	vnet_model_destroy(m);
}
END_TEST

/* -------------------------------------------------------- loopback -- */

START_TEST(test_loopback)
{
	struct dev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_LOOPBACK);
	struct vnet_model_stats s;
	uint8_t f[200], g[200], h[200];
	struct vring_used_elem e;

	dev_start(&d, &c, VNET_F_DEFAULT, 8, 8);
	for (uint16_t i = 0; i < 4; i++)
		rx_post(&d.rx, i, BUF_SIZE);

	/* Header and frame in one descriptor. */
	make_frame(f, 60, 1);
	tx_post(&d.tx, 0, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.tx), 1);
	e = used_at(&d.tx, 0);
	ck_assert_uint_eq(e.id, 0);
	ck_assert_uint_eq(e.len, 0);
	ck_assert_uint_eq(used_idx(&d.rx), 1);
	e = used_at(&d.rx, 0);
	ck_assert_uint_eq(e.id, 0);
	ck_assert_uint_eq(e.len, HDR + 60);
	check_rx_hdr(buf(&d.rx, 0), HDR);
	ck_assert_mem_eq(buf(&d.rx, 0) + HDR, f, 60);

	/* Header in its own descriptor. */
	make_frame(g, 100, 2);
	tx_post_split(&d.tx, 2, g, 100, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.tx), 2);
	ck_assert_uint_eq(used_at(&d.tx, 1).id, 2);
	ck_assert_uint_eq(used_idx(&d.rx), 2);
	ck_assert_uint_eq(used_at(&d.rx, 1).id, 1);
	ck_assert_uint_eq(used_at(&d.rx, 1).len, HDR + 100);
	ck_assert_mem_eq(buf(&d.rx, 1) + HDR, g, 100);

	/* The header split across descriptors, three pieces. */
	make_frame(h, 60, 3);
	memset(buf(&d.tx, 4), 0, 5);
	memset(buf(&d.tx, 5), 0, 7);
	memcpy(buf(&d.tx, 5) + 7, h, 20);
	memcpy(buf(&d.tx, 6), h + 20, 40);
	set_desc(&d.tx, 4, buf(&d.tx, 4), 5, VRING_DESC_F_NEXT, 5);
	set_desc(&d.tx, 5, buf(&d.tx, 5), 27, VRING_DESC_F_NEXT, 6);
	set_desc(&d.tx, 6, buf(&d.tx, 6), 40, 0, 0);
	publish(&d.tx, 4);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_at(&d.rx, 2).len, HDR + 60);
	ck_assert_mem_eq(buf(&d.rx, 2) + HDR, h, 60);

	/* An RX chain: header in a 12-byte descriptor, frame in the next. */
	set_desc(&d.rx, 4, buf(&d.rx, 4), HDR, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 5);
	set_desc(&d.rx, 5, buf(&d.rx, 5), BUF_SIZE, VRING_DESC_F_WRITE, 0);
	publish(&d.rx, 4);
	memset(buf(&d.rx, 3), 0xee, BUF_SIZE); /* id 3 is still posted first */
	tx_post(&d.tx, 0, f, 60, HDR);
	tx_post(&d.tx, 1, g, 100, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 2);
	ck_assert_uint_eq(used_idx(&d.rx), 5);
	ck_assert_uint_eq(used_at(&d.rx, 3).id, 3);
	ck_assert_uint_eq(used_at(&d.rx, 4).id, 4);
	ck_assert_uint_eq(used_at(&d.rx, 4).len, HDR + 100);
	check_rx_hdr(buf(&d.rx, 4), HDR);
	ck_assert_mem_eq(buf(&d.rx, 5), g, 100);

	/* Nothing new: nothing moves, the indices stay. */
	ck_assert_uint_eq(vnet_model_poll(d.m), 0);
	ck_assert_uint_eq(used_idx(&d.tx), 5);
	ck_assert_uint_eq(used_idx(&d.rx), 5);

	s = stats(&d);
	ck_assert_uint_eq(s.tx_frames, 5);
	ck_assert_uint_eq(s.tx_bytes, 60 + 100 + 60 + 60 + 100);
	ck_assert_uint_eq(s.rx_frames, 5);
	ck_assert_uint_eq(s.rx_bytes, s.tx_bytes);
	ck_assert_uint_eq(s.rx_no_buffer, 0);
	ck_assert_uint_eq(s.bad_desc, 0);
	dev_stop(&d);
}
END_TEST

/* 10-byte header without VERSION_1 and MRG_RXBUF; 12 with MRG_RXBUF alone. */
START_TEST(test_legacy_header)
{
	struct dev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_LOOPBACK);
	uint8_t f[64];

	c.features = VNET_F_MAC | VNET_F_STATUS;
	dev_start(&d, &c, VNET_F_DEFAULT, 4, 4);
	rx_post(&d.rx, 0, BUF_SIZE);
	make_frame(f, 64, 9);
	tx_post(&d.tx, 0, f, 64, 10);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_at(&d.rx, 0).len, 10 + 64);
	check_rx_hdr(buf(&d.rx, 0), 10);
	ck_assert_mem_eq(buf(&d.rx, 0) + 10, f, 64);
	dev_stop(&d);

	c.features = VNET_F_MAC | VNET_F_MRG_RXBUF;
	dev_start(&d, &c, VNET_F_MAC | VNET_F_MRG_RXBUF, 4, 4);
	rx_post(&d.rx, 0, BUF_SIZE);
	tx_post(&d.tx, 0, f, 64, 12);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_at(&d.rx, 0).len, 12 + 64);
	check_rx_hdr(buf(&d.rx, 0), 12);
	ck_assert_mem_eq(buf(&d.rx, 0) + 12, f, 64);
	dev_stop(&d);
}
END_TEST

START_TEST(test_loopback_drops)
{
	struct dev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_LOOPBACK);
	struct vnet_model_stats s;
	uint8_t f[60];

	dev_start(&d, &c, VNET_F_DEFAULT, 4, 8);
	make_frame(f, 60, 4);

	/* No RX buffer: dropped and counted, TX still completed. */
	tx_post(&d.tx, 0, f, 60, HDR);
	tx_post(&d.tx, 1, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 2);
	ck_assert_uint_eq(used_idx(&d.tx), 2);
	ck_assert_uint_eq(used_idx(&d.rx), 0);
	s = stats(&d);
	ck_assert_uint_eq(s.tx_frames, 2);
	ck_assert_uint_eq(s.rx_no_buffer, 2);
	ck_assert_uint_eq(s.rx_frames, 0);

	/* A buffer too small stays posted, and blocks the ones behind it. */
	rx_post(&d.rx, 0, HDR + 59);
	rx_post(&d.rx, 1, BUF_SIZE);
	tx_post(&d.tx, 2, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.tx), 3);
	ck_assert_uint_eq(used_idx(&d.rx), 0);
	ck_assert_uint_eq(stats(&d).rx_no_buffer, 3);
	/* ...and a frame that fits takes it. */
	tx_post(&d.tx, 3, f, 59, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.rx), 1);
	ck_assert_uint_eq(used_at(&d.rx, 0).id, 0);
	ck_assert_uint_eq(used_at(&d.rx, 0).len, HDR + 59);

	/* Link down: TX completed, nothing delivered, nothing counted as RX. */
	vnet_model_set_link(d.m, false);
	tx_post(&d.tx, 4, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.tx), 5);
	ck_assert_uint_eq(used_idx(&d.rx), 1);
	s = stats(&d);
	ck_assert_uint_eq(s.tx_frames, 5);
	ck_assert_uint_eq(s.rx_frames, 1);
	ck_assert_uint_eq(s.rx_no_buffer, 3);
	vnet_model_set_link(d.m, true);
	tx_post(&d.tx, 5, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.rx), 2);
	ck_assert_uint_eq(used_at(&d.rx, 1).id, 1);

	/* Not DRIVER_OK: the device touches nothing (spec 2.1.2). */
	d.t->ops->set_status(d.t, S_ACK | S_DRV | S_FOK);
	tx_post(&d.tx, 6, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 0);
	ck_assert_uint_eq(used_idx(&d.tx), 6);
	dev_stop(&d);
}
END_TEST

/* ------------------------------------------------------ backends -- */

struct tap_log {
	uint32_t calls;
	uint32_t len;
	uint8_t last[BUF_SIZE];
};

static void tap_fn(const uint8_t *frame, uint32_t len, void *arg)
{
	struct tap_log *l = arg;

	l->calls++;
	l->len = len;
	memcpy(l->last, frame, len < BUF_SIZE ? len : BUF_SIZE);
}

START_TEST(test_sink_tap)
{
	struct dev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_SINK);
	struct tap_log *log = calloc(1, sizeof(*log));
	uint8_t f[3][80];

	dev_start(&d, &c, VNET_F_DEFAULT, 4, 4);
	vnet_model_set_tap(d.m, tap_fn, log);
	rx_post(&d.rx, 0, BUF_SIZE);
	for (uint16_t i = 0; i < 3; i++) {
		make_frame(f[i], 80, (uint8_t)(10 + i));
		tx_post(&d.tx, i, f[i], 80, HDR);
	}
	ck_assert_uint_eq(vnet_model_poll(d.m), 3);
	ck_assert_uint_eq(log->calls, 3);
	ck_assert_uint_eq(log->len, 80);
	ck_assert_mem_eq(log->last, f[2], 80);
	ck_assert_uint_eq(used_idx(&d.tx), 3);
	for (uint16_t i = 0; i < 3; i++) {
		ck_assert_uint_eq(used_at(&d.tx, i).id, i);
		ck_assert_uint_eq(used_at(&d.tx, i).len, 0);
	}
	ck_assert_uint_eq(used_idx(&d.rx), 0);
	ck_assert_uint_eq(stats(&d).tx_bytes, 240);
	ck_assert_uint_eq(stats(&d).rx_frames, 0);
	dev_stop(&d);
	free(log);
}
END_TEST

static void check_source_frame(const uint8_t *f, uint32_t len, uint64_t seq)
{
	static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x02};

	ck_assert_mem_eq(f, MAC_DEF, 6);
	ck_assert_mem_eq(f + 6, src, 6);
	ck_assert_uint_eq(f[12], 0x88);
	ck_assert_uint_eq(f[13], 0xb5);
	for (uint32_t i = 0; i < 8; i++)
		ck_assert_uint_eq(f[14 + i], (uint8_t)(seq >> (8 * i)));
	for (uint32_t i = 22; i < len; i++)
		ck_assert_uint_eq(f[i], (uint8_t)(seq + i));
}

START_TEST(test_source)
{
	struct dev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_SOURCE);
	struct tap_log *log = calloc(1, sizeof(*log));
	uint8_t f[60];

	c.source_len = 100;
	dev_start(&d, &c, VNET_F_DEFAULT, 8, 4);
	vnet_model_set_tap(d.m, tap_fn, log);
	for (uint16_t i = 0; i < 3; i++)
		rx_post(&d.rx, i, BUF_SIZE);
	ck_assert_uint_eq(vnet_model_poll(d.m), 3);
	ck_assert_uint_eq(used_idx(&d.rx), 3);
	for (uint16_t i = 0; i < 3; i++) {
		ck_assert_uint_eq(used_at(&d.rx, i).id, i);
		ck_assert_uint_eq(used_at(&d.rx, i).len, HDR + 100);
		check_rx_hdr(buf(&d.rx, i), HDR);
		check_source_frame(buf(&d.rx, i) + HDR, 100, i);
	}
	ck_assert_uint_eq(vnet_model_poll(d.m), 0);
	rx_post(&d.rx, 3, BUF_SIZE);
	rx_post(&d.rx, 4, BUF_SIZE);
	ck_assert_uint_eq(vnet_model_poll(d.m), 2);
	check_source_frame(buf(&d.rx, 3) + HDR, 100, 3);
	check_source_frame(buf(&d.rx, 4) + HDR, 100, 4);

	/* TX is sunk (and tapped). */
	make_frame(f, 60, 5);
	tx_post(&d.tx, 0, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.tx), 1);
	ck_assert_uint_eq(log->calls, 1);
	ck_assert_uint_eq(used_idx(&d.rx), 5);
	ck_assert_uint_eq(stats(&d).rx_frames, 5);
	ck_assert_uint_eq(stats(&d).rx_bytes, 500);

	/* Link down: no frames generated. */
	vnet_model_set_link(d.m, false);
	rx_post(&d.rx, 5, BUF_SIZE);
	ck_assert_uint_eq(vnet_model_poll(d.m), 0);
	vnet_model_set_link(d.m, true);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	check_source_frame(buf(&d.rx, 5) + HDR, 100, 5);
	dev_stop(&d);
	free(log);
}
END_TEST

static void gen_fn(uint8_t *frame, uint32_t len, uint64_t seq, void *arg)
{
	uint8_t k = *(uint8_t *)arg;

	for (uint32_t i = 0; i < len; i++)
		frame[i] = (uint8_t)(seq ^ k ^ i);
}

START_TEST(test_source_budget_generator)
{
	struct dev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_SOURCE);
	uint8_t key = 0x5a;

	c.rx_budget = 2;
	dev_start(&d, &c, VNET_F_DEFAULT, 8, 4);
	vnet_model_set_generator(d.m, gen_fn, &key);
	for (uint16_t i = 0; i < 5; i++)
		rx_post(&d.rx, i, BUF_SIZE);
	ck_assert_uint_eq(vnet_model_poll(d.m), 2);
	ck_assert_uint_eq(vnet_model_poll(d.m), 2);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(vnet_model_poll(d.m), 0);
	ck_assert_uint_eq(used_idx(&d.rx), 5);
	for (uint16_t i = 0; i < 5; i++) {
		const uint8_t *f = buf(&d.rx, i) + HDR;

		ck_assert_uint_eq(used_at(&d.rx, i).len, HDR + 64);
		for (uint32_t j = 0; j < 64; j++)
			ck_assert_uint_eq(f[j], (uint8_t)(i ^ key ^ j));
	}

	/* Too small: dropped, counted, the sequence does not advance. */
	rx_post(&d.rx, 5, 40);
	ck_assert_uint_eq(vnet_model_poll(d.m), 0);
	ck_assert_uint_eq(stats(&d).rx_no_buffer, 1);
	ck_assert_uint_eq(used_idx(&d.rx), 5);
	dev_stop(&d);
}
END_TEST

START_TEST(test_reflector)
{
	struct dev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_REFLECTOR);
	struct tap_log *log = calloc(1, sizeof(*log));
	uint8_t f[70];
	const uint8_t *r;

	dev_start(&d, &c, VNET_F_DEFAULT, 4, 4);
	vnet_model_set_tap(d.m, tap_fn, log);
	rx_post(&d.rx, 0, BUF_SIZE);
	make_frame(f, 70, 6);
	tx_post(&d.tx, 0, f, 70, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_mem_eq(log->last, f, 70); /* the tap sees what was sent */
	ck_assert_uint_eq(used_at(&d.rx, 0).len, HDR + 70);
	r = buf(&d.rx, 0) + HDR;
	ck_assert_mem_eq(r, f + 6, 6);
	ck_assert_mem_eq(r + 6, f, 6);
	ck_assert_mem_eq(r + 12, f + 12, 58);
	dev_stop(&d);
	free(log);
}
END_TEST

START_TEST(test_wire)
{
	struct dev a, b, lo, x;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_WIRE);
	struct vnet_model_conf cl = conf_backend(VNET_MODEL_LOOPBACK);
	uint8_t f[60], g[90];

	dev_start(&a, &c, VNET_F_DEFAULT, 4, 8);
	dev_start(&b, &c, VNET_F_DEFAULT, 4, 4);
	dev_start(&x, &c, VNET_F_DEFAULT, 4, 4);
	dev_start(&lo, &cl, VNET_F_DEFAULT, 4, 4);

	ck_assert_int_eq(vnet_model_wire(a.m, a.m), -EINVAL);
	ck_assert_int_eq(vnet_model_wire(a.m, lo.m), -EINVAL);
	ck_assert_int_eq(vnet_model_wire(a.m, NULL), -EINVAL);
	ck_assert_int_eq(vnet_model_wire(a.m, b.m), 0);
	ck_assert_int_eq(vnet_model_wire(b.m, a.m), 0);
	ck_assert_int_eq(vnet_model_wire(a.m, x.m), -EBUSY);
	ck_assert_int_eq(vnet_model_wire(x.m, b.m), -EBUSY);

	/* a -> b: lands in b's RX during a's poll. */
	rx_post(&b.rx, 0, BUF_SIZE);
	rx_post(&b.rx, 1, BUF_SIZE);
	make_frame(f, 60, 7);
	tx_post(&a.tx, 0, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(a.m), 1);
	ck_assert_uint_eq(used_idx(&a.tx), 1);
	ck_assert_uint_eq(used_idx(&b.rx), 1);
	ck_assert_uint_eq(used_at(&b.rx, 0).len, HDR + 60);
	ck_assert_mem_eq(buf(&b.rx, 0) + HDR, f, 60);
	ck_assert_uint_eq(stats(&b).rx_frames, 1);
	ck_assert_uint_eq(stats(&a).tx_frames, 1);
	ck_assert_uint_eq(stats(&a).rx_frames, 0);
	ck_assert_uint_eq(vnet_model_poll(b.m), 0);
	ck_assert_uint_eq(used_idx(&b.rx), 1);

	/* b -> a without an RX buffer on a: dropped, counted at a. */
	make_frame(g, 90, 8);
	tx_post(&b.tx, 0, g, 90, HDR);
	ck_assert_uint_eq(vnet_model_poll(b.m), 1);
	ck_assert_uint_eq(used_idx(&b.tx), 1);
	ck_assert_uint_eq(stats(&a).rx_no_buffer, 1);
	rx_post(&a.rx, 0, BUF_SIZE);
	tx_post(&b.tx, 1, g, 90, HDR);
	ck_assert_uint_eq(vnet_model_poll(b.m), 1);
	ck_assert_uint_eq(used_idx(&a.rx), 1);
	ck_assert_mem_eq(buf(&a.rx, 0) + HDR, g, 90);

	/* Link down on either side drops silently; TX still completes. */
	vnet_model_set_link(b.m, false);
	tx_post(&a.tx, 1, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(a.m), 1);
	ck_assert_uint_eq(used_idx(&a.tx), 2);
	ck_assert_uint_eq(used_idx(&b.rx), 1);
	vnet_model_set_link(b.m, true);
	vnet_model_set_link(a.m, false);
	tx_post(&a.tx, 2, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(a.m), 1);
	ck_assert_uint_eq(used_idx(&b.rx), 1);
	vnet_model_set_link(a.m, true);
	ck_assert_uint_eq(stats(&b).rx_no_buffer, 0);
	ck_assert_uint_eq(stats(&b).rx_frames, 1);
	tx_post(&a.tx, 3, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(a.m), 1);
	ck_assert_uint_eq(used_idx(&b.rx), 2);

	/* The peer gone: frames go nowhere, nothing dangles. */
	dev_stop(&b);
	tx_post(&a.tx, 4, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(a.m), 1);
	ck_assert_uint_eq(used_idx(&a.tx), 5);
	ck_assert_int_eq(vnet_model_wire(a.m, x.m), 0);
	dev_stop(&x);
	dev_stop(&lo);
	dev_stop(&a);
}
END_TEST

/* A slow device: TX read and completed `latency` polls after it saw it. */
START_TEST(test_latency)
{
	struct dev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_SINK);
	struct tap_log *log = calloc(1, sizeof(*log));
	uint8_t f[60];

	c.latency = 3;
	dev_start(&d, &c, VNET_F_DEFAULT, 4, 4);
	vnet_model_set_tap(d.m, tap_fn, log);
	make_frame(f, 60, 11);
	tx_post(&d.tx, 0, f, 60, HDR);
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(vnet_model_poll(d.m), 0);
		ck_assert_uint_eq(used_idx(&d.tx), 0);
	}
	ck_assert_uint_eq(log->calls, 0);
	/* A driver that reuses the buffer in flight sends the new bytes. */
	buf(&d.tx, 0)[HDR + 20] ^= 0xff;
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.tx), 1);
	ck_assert_uint_eq(log->calls, 1);
	ck_assert_uint_eq(log->last[20], (uint8_t)(f[20] ^ 0xff));

	tx_post(&d.tx, 1, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 0); /* poll 5 sees #1, due 8 */
	tx_post(&d.tx, 2, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 0); /* poll 6 sees #2, due 9 */
	ck_assert_uint_eq(vnet_model_poll(d.m), 0);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.tx), 2);
	ck_assert_uint_eq(used_at(&d.tx, 1).id, 1);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.tx), 3);
	ck_assert_uint_eq(used_at(&d.tx, 2).id, 2);
	dev_stop(&d);
	free(log);
}
END_TEST

/* -------------------------------------------- bad driver input -- */

START_TEST(test_bad_desc_tx)
{
	struct dev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_SINK);
	struct tap_log *log = calloc(1, sizeof(*log));
	uint8_t f[1600];
	const uint16_t want_ids[8] = {9, 0, 1, 3, 4, 5, 6, 7};

	dev_start(&d, &c, VNET_F_DEFAULT, 4, 8);
	vnet_model_set_tap(d.m, tap_fn, log);
	make_frame(f, sizeof(f), 12);
	memcpy(buf(&d.tx, 7) + HDR, f, 60);

	publish(&d.tx, 9);                                                   /* head >= size */
	set_desc(&d.tx, 0, buf(&d.tx, 0), 72, VRING_DESC_F_WRITE, 0);       /* TX but WRITE */
	publish(&d.tx, 0);
	set_desc(&d.tx, 1, buf(&d.tx, 1), 40, VRING_DESC_F_NEXT, 2);        /* loop 1 -> 2 -> 1 */
	set_desc(&d.tx, 2, buf(&d.tx, 2), 40, VRING_DESC_F_NEXT, 1);
	publish(&d.tx, 1);
	set_desc(&d.tx, 3, buf(&d.tx, 3), 40, VRING_DESC_F_NEXT, 12);       /* next >= size */
	publish(&d.tx, 3);
	set_desc(&d.tx, 4, NULL, 72, 0, 0);                                 /* no address */
	publish(&d.tx, 4);
	set_desc(&d.tx, 5, buf(&d.tx, 5), HDR + 13, 0, 0);                  /* shorter than ETH */
	publish(&d.tx, 5);
	set_desc(&d.tx, 6, buf(&d.tx, 6), 16, VRING_DESC_F_INDIRECT, 0);    /* not negotiated */
	publish(&d.tx, 6);
	set_desc(&d.tx, 7, buf(&d.tx, 7), HDR + 60, 0, 0);                  /* good */
	publish(&d.tx, 7);

	ck_assert_uint_eq(vnet_model_poll(d.m), 8);
	ck_assert_uint_eq(used_idx(&d.tx), 8);
	for (uint16_t i = 0; i < 8; i++) {
		ck_assert_uint_eq(used_at(&d.tx, i).id, want_ids[i]);
		ck_assert_uint_eq(used_at(&d.tx, i).len, 0);
	}
	ck_assert_uint_eq(stats(&d).bad_desc, 7);
	ck_assert_uint_eq(stats(&d).tx_frames, 1);
	ck_assert_uint_eq(log->calls, 1);
	ck_assert_mem_eq(log->last, f, 60);

	/* Larger than mtu + 18: rejected too. */
	tx_post(&d.tx, 0, f, 1500 + 18 + 1, HDR);
	tx_post(&d.tx, 1, f, 1500 + 18, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 2);
	ck_assert_uint_eq(stats(&d).bad_desc, 8);
	ck_assert_uint_eq(stats(&d).tx_frames, 2);
	ck_assert_uint_eq(log->len, 1518);
	ck_assert_uint_eq(d.t->ops->get_status(d.t) & S_NR, 0);
	dev_stop(&d);
	free(log);
}
END_TEST

START_TEST(test_bad_desc_rx)
{
	struct dev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_LOOPBACK);
	uint8_t f[60];

	dev_start(&d, &c, VNET_F_DEFAULT, 4, 4);
	set_desc(&d.rx, 0, buf(&d.rx, 0), BUF_SIZE, 0, 0); /* RX but not WRITE */
	publish(&d.rx, 0);
	rx_post(&d.rx, 1, BUF_SIZE);
	make_frame(f, 60, 13);
	tx_post(&d.tx, 0, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.rx), 2);
	ck_assert_uint_eq(used_at(&d.rx, 0).id, 0);
	ck_assert_uint_eq(used_at(&d.rx, 0).len, 0);
	ck_assert_uint_eq(used_at(&d.rx, 1).id, 1);
	ck_assert_uint_eq(used_at(&d.rx, 1).len, HDR + 60);
	ck_assert_mem_eq(buf(&d.rx, 1) + HDR, f, 60);
	ck_assert_uint_eq(stats(&d).bad_desc, 1);
	ck_assert_uint_eq(stats(&d).rx_frames, 1);
	dev_stop(&d);
}
END_TEST

/* An avail idx more than a ring ahead, or moving back: device error. */
START_TEST(test_bad_avail_idx)
{
	struct dev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_SINK);
	uint8_t f[60];

	make_frame(f, 60, 14);
	dev_start(&d, &c, VNET_F_DEFAULT, 4, 4);
	*(volatile uint16_t *)&d.tx.avail->idx = 5;
	ck_assert_uint_eq(vnet_model_poll(d.m), 0);
	ck_assert_uint_ne(d.t->ops->get_status(d.t) & S_NR, 0);
	ck_assert_uint_eq(stats(&d).bad_desc, 1);
	ck_assert_uint_eq(used_idx(&d.tx), 0);
	/* The driver cannot clear the device's bit. */
	d.t->ops->set_status(d.t, S_ACK | S_DRV | S_FOK | S_DOK);
	ck_assert_uint_ne(d.t->ops->get_status(d.t) & S_NR, 0);
	dev_stop(&d);

	/* Backwards, with entries seen but not consumed (latency). */
	c.latency = 5;
	dev_start(&d, &c, VNET_F_DEFAULT, 4, 4);
	tx_post(&d.tx, 0, f, 60, HDR);
	tx_post(&d.tx, 1, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 0);
	*(volatile uint16_t *)&d.tx.avail->idx = 1;
	ck_assert_uint_eq(vnet_model_poll(d.m), 0);
	ck_assert_uint_ne(d.t->ops->get_status(d.t) & S_NR, 0);
	dev_stop(&d);
}
END_TEST

/* ------------------------------------------ notification suppression -- */

START_TEST(test_notify_suppression)
{
	struct dev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_SINK);
	uint8_t f[60];
	uint16_t ev;

	make_frame(f, 60, 15);

	/* Without EVENT_IDX: NO_NOTIFY in used->flags from queue setup on. */
	c.features = VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_STATUS;
	dev_start(&d, &c, VNET_F_DEFAULT, 8, 8);
	ck_assert_uint_eq(used_flags(&d.rx), VRING_USED_F_NO_NOTIFY);
	ck_assert_uint_eq(used_flags(&d.tx), VRING_USED_F_NO_NOTIFY);
	tx_post(&d.tx, 0, f, 60, HDR);
	vnet_model_poll(d.m);
	ck_assert_uint_eq(used_flags(&d.tx), VRING_USED_F_NO_NOTIFY);
	dev_stop(&d);

	/* With EVENT_IDX: flags 0, avail_event = last_avail + size, which no
	 * window of at most `size` outstanding entries can cross. */
	c.features = 0;
	dev_start(&d, &c, VNET_F_DEFAULT, 8, 8);
	ck_assert_uint_eq(used_flags(&d.tx), 0);
	ck_assert_uint_eq(avail_event(&d.tx), 8);
	ck_assert_uint_eq(avail_event(&d.rx), 8);
	for (uint16_t i = 0; i < 3; i++)
		tx_post(&d.tx, i, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 3);
	ev = avail_event(&d.tx);
	ck_assert_uint_eq(ev, 3 + 8);
	for (uint16_t old = 3; old <= 11; old++)
		for (uint16_t nw = old; nw <= 11; nw++)
			ck_assert_int_eq(vring_need_event(ev, nw, old), 0);
	/* Also when `old` is the index at the last real kick (never here). */
	ck_assert_int_eq(vring_need_event(ev, 11, 0), 0);
	for (uint16_t i = 0; i < 8; i++)
		rx_post(&d.rx, i, BUF_SIZE);
	vnet_model_poll(d.m);
	ck_assert_uint_eq(avail_event(&d.rx), 8); /* SINK consumes no RX */
	ck_assert_int_eq(vring_need_event(avail_event(&d.rx), 8, 0), 0);
	ck_assert_uint_eq(stats(&d).notifies, 0);
	dev_stop(&d);

	/* want_notify with EVENT_IDX: kick at the first new buffer. */
	c.want_notify = true;
	dev_start(&d, &c, VNET_F_DEFAULT, 8, 8);
	ck_assert_uint_eq(used_flags(&d.rx), 0);
	ck_assert_uint_eq(avail_event(&d.rx), 0);
	ck_assert_int_eq(vring_need_event(avail_event(&d.rx), 1, 0), 1);
	rx_post(&d.rx, 0, BUF_SIZE);
	rx_post(&d.rx, 1, BUF_SIZE);
	vnet_model_poll(d.m);
	ck_assert_uint_eq(avail_event(&d.rx), 2);
	ck_assert_int_eq(vring_need_event(avail_event(&d.rx), 3, 2), 1);
	tx_post(&d.tx, 0, f, 60, HDR);
	vnet_model_poll(d.m);
	ck_assert_uint_eq(avail_event(&d.tx), 1);
	dev_stop(&d);

	/* want_notify without EVENT_IDX: flags 0. */
	c.features = VNET_F_VERSION_1 | VNET_F_MAC;
	dev_start(&d, &c, VNET_F_DEFAULT, 8, 8);
	ck_assert_uint_eq(used_flags(&d.rx), 0);
	ck_assert_uint_eq(used_flags(&d.tx), 0);
	dev_stop(&d);
}
END_TEST

/* ------------------------------------------------------------ faults -- */

START_TEST(test_fault_used_id_range)
{
	struct dev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_SINK);
	uint8_t f[60];

	make_frame(f, 60, 16);
	dev_start(&d, &c, VNET_F_DEFAULT, 8, 8);
	tx_post(&d.tx, 0, f, 60, HDR);
	vnet_model_fault(d.m, VNET_FAULT_USED_ID_RANGE, 1);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.tx), 2);
	ck_assert_uint_eq(used_at(&d.tx, 0).id, 8);
	ck_assert_uint_eq(used_at(&d.tx, 0).len, 0);
	ck_assert_uint_eq(used_at(&d.tx, 1).id, 0);
	ck_assert_uint_eq(stats(&d).faults_fired, 1);
	tx_post(&d.tx, 1, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.tx), 3);
	ck_assert_uint_eq(used_at(&d.tx, 2).id, 1);
	ck_assert_uint_eq(stats(&d).faults_fired, 1);
	dev_stop(&d);
}
END_TEST

START_TEST(test_fault_used_id_idle)
{
	struct dev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_SINK);
	uint8_t f[60];

	make_frame(f, 60, 17);
	dev_start(&d, &c, VNET_F_DEFAULT, 8, 8);
	tx_post(&d.tx, 0, f, 60, HDR);       /* head 0 */
	tx_post_split(&d.tx, 2, f, 60, HDR); /* chain 2 -> 3, still in flight */
	vnet_model_fault(d.m, VNET_FAULT_USED_ID_IDLE, 1);
	ck_assert_uint_eq(vnet_model_poll(d.m), 2);
	ck_assert_uint_eq(used_idx(&d.tx), 3);
	ck_assert_uint_eq(used_at(&d.tx, 0).id, 1); /* not 0, 2 nor 3 */
	ck_assert_uint_eq(used_at(&d.tx, 0).len, 0);
	ck_assert_uint_eq(used_at(&d.tx, 1).id, 0);
	ck_assert_uint_eq(used_at(&d.tx, 2).id, 2);
	ck_assert_uint_eq(stats(&d).faults_fired, 1);

	/* Ids named in the used ring count as maybe in flight: the next idle
	 * one skips 0..3. */
	tx_post(&d.tx, 0, f, 60, HDR);
	vnet_model_fault(d.m, VNET_FAULT_USED_ID_IDLE, 1);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.tx), 5);
	ck_assert_uint_eq(used_at(&d.tx, 3).id, 4);
	ck_assert_uint_eq(used_at(&d.tx, 4).id, 0);
	dev_stop(&d);
}
END_TEST

START_TEST(test_fault_used_dup)
{
	struct dev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_SOURCE);
	uint8_t f[60];

	make_frame(f, 60, 18);
	dev_start(&d, &c, VNET_F_DEFAULT, 8, 8);
	tx_post(&d.tx, 0, f, 60, HDR);
	vnet_model_fault(d.m, VNET_FAULT_USED_DUP, 1);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.tx), 2);
	ck_assert_uint_eq(used_at(&d.tx, 0).id, 0);
	ck_assert_uint_eq(used_at(&d.tx, 1).id, 0);

	/* On RX (SOURCE), the len is duplicated too. */
	rx_post(&d.rx, 0, BUF_SIZE);
	rx_post(&d.rx, 1, BUF_SIZE);
	vnet_model_fault(d.m, VNET_FAULT_USED_DUP, 1);
	ck_assert_uint_eq(vnet_model_poll(d.m), 2);
	ck_assert_uint_eq(used_idx(&d.rx), 3);
	ck_assert_uint_eq(used_at(&d.rx, 0).id, 0);
	ck_assert_uint_eq(used_at(&d.rx, 0).len, HDR + 64);
	ck_assert_uint_eq(used_at(&d.rx, 1).id, 0);
	ck_assert_uint_eq(used_at(&d.rx, 1).len, HDR + 64);
	ck_assert_uint_eq(used_at(&d.rx, 2).id, 1);
	ck_assert_uint_eq(stats(&d).faults_fired, 2);
	dev_stop(&d);
}
END_TEST

/* An extra entry never makes one publish expose more than `size` entries:
 * with a full batch the fault waits for a later completion. */
START_TEST(test_fault_extra_needs_room)
{
	struct dev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_SINK);
	uint8_t f[60];

	make_frame(f, 60, 19);
	dev_start(&d, &c, VNET_F_DEFAULT, 8, 4);
	for (uint16_t i = 0; i < 4; i++)
		tx_post(&d.tx, i, f, 60, HDR);
	vnet_model_fault(d.m, VNET_FAULT_USED_DUP, 1);
	ck_assert_uint_eq(vnet_model_poll(d.m), 4);
	ck_assert_uint_eq(used_idx(&d.tx), 4);
	ck_assert_uint_eq(stats(&d).faults_fired, 0);
	/* Three of four: room for the duplicate of the first. */
	for (uint16_t i = 0; i < 3; i++)
		tx_post(&d.tx, i, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 3);
	ck_assert_uint_eq(used_idx(&d.tx), 8);
	ck_assert_uint_eq(used_at(&d.tx, 4).id, 0);
	ck_assert_uint_eq(used_at(&d.tx, 5).id, 0);
	ck_assert_uint_eq(used_at(&d.tx, 6).id, 1);
	ck_assert_uint_eq(used_at(&d.tx, 7).id, 2);
	ck_assert_uint_eq(stats(&d).faults_fired, 1);

	/* SOURCE with every RX buffer posted leaves one for the next poll. */
	c = conf_backend(VNET_MODEL_SOURCE);
	dev_stop(&d);
	dev_start(&d, &c, VNET_F_DEFAULT, 4, 4);
	for (uint16_t i = 0; i < 4; i++)
		rx_post(&d.rx, i, BUF_SIZE);
	vnet_model_fault(d.m, VNET_FAULT_USED_ID_RANGE, 1);
	ck_assert_uint_eq(vnet_model_poll(d.m), 3);
	ck_assert_uint_eq(used_idx(&d.rx), 4);
	ck_assert_uint_eq(used_at(&d.rx, 0).id, 4);
	ck_assert_uint_eq(used_at(&d.rx, 1).id, 0);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.rx), 5);
	ck_assert_uint_eq(used_at(&d.rx, 4).id, 3);
	dev_stop(&d);
}
END_TEST

START_TEST(test_fault_used_len)
{
	struct dev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_LOOPBACK);
	uint8_t f[60];

	make_frame(f, 60, 20);
	dev_start(&d, &c, VNET_F_DEFAULT, 4, 4);
	rx_post(&d.rx, 0, BUF_SIZE);
	set_desc(&d.rx, 1, buf(&d.rx, 1), HDR, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	set_desc(&d.rx, 2, buf(&d.rx, 2), 100, VRING_DESC_F_WRITE, 0);
	publish(&d.rx, 1);
	rx_post(&d.rx, 3, BUF_SIZE);
	vnet_model_fault(d.m, VNET_FAULT_USED_LEN, 2);
	tx_post(&d.tx, 0, f, 60, HDR);
	tx_post(&d.tx, 1, f, 60, HDR);
	tx_post(&d.tx, 2, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 3);
	ck_assert_uint_eq(used_at(&d.tx, 0).len, 0); /* TX completions untouched */
	ck_assert_uint_eq(used_idx(&d.rx), 3);
	ck_assert_uint_eq(used_at(&d.rx, 0).id, 0);
	ck_assert_uint_eq(used_at(&d.rx, 0).len, BUF_SIZE + 1);
	ck_assert_mem_eq(buf(&d.rx, 0) + HDR, f, 60); /* the data is right */
	ck_assert_uint_eq(used_at(&d.rx, 1).id, 1);
	ck_assert_uint_eq(used_at(&d.rx, 1).len, HDR + 100 + 1);
	ck_assert_uint_eq(used_at(&d.rx, 2).id, 3);
	ck_assert_uint_eq(used_at(&d.rx, 2).len, HDR + 60);
	ck_assert_uint_eq(stats(&d).faults_fired, 2);
	dev_stop(&d);
}
END_TEST

START_TEST(test_fault_used_idx_jump)
{
	struct dev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_SINK);
	uint8_t f[60];

	make_frame(f, 60, 21);
	dev_start(&d, &c, VNET_F_DEFAULT, 8, 8);
	/* Armed with nothing to publish: waits. */
	vnet_model_fault(d.m, VNET_FAULT_USED_IDX_JUMP, 1);
	ck_assert_uint_eq(vnet_model_poll(d.m), 0);
	ck_assert_uint_eq(stats(&d).faults_fired, 0);
	ck_assert_uint_eq(used_idx(&d.tx), 0);

	tx_post(&d.tx, 0, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.tx), 1 + 8 + 7);
	ck_assert_uint_eq(used_at(&d.tx, 0).id, 0);
	ck_assert_uint_eq(stats(&d).faults_fired, 1);
	ck_assert_uint_eq(used_idx(&d.rx), 0);
	/* The next poll puts the true index back, with nothing new. */
	ck_assert_uint_eq(vnet_model_poll(d.m), 0);
	ck_assert_uint_eq(used_idx(&d.tx), 1);
	tx_post(&d.tx, 1, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.tx), 2);
	dev_stop(&d);
}
END_TEST

START_TEST(test_fault_needs_reset)
{
	struct dev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_SINK);
	uint8_t f[60];

	make_frame(f, 60, 22);
	ck_assert_int_eq(vnet_model_create(&d.m, &c), 0);
	d.t = vnet_model_transport(d.m);
	/* Armed before DRIVER_OK: fires only once the device is live. */
	vnet_model_fault(d.m, VNET_FAULT_NEEDS_RESET, 1);
	ck_assert_int_eq(handshake(d.t, VNET_F_DEFAULT), 0);
	ck_assert_uint_eq(vnet_model_poll(d.m), 0);
	ck_assert_uint_eq(stats(&d).faults_fired, 0);
	dev_queues(&d, 4, 4);
	tx_post(&d.tx, 0, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 0);
	ck_assert_uint_eq(d.t->ops->get_status(d.t), S_ACK | S_DRV | S_FOK | S_DOK | S_NR);
	ck_assert_uint_eq(stats(&d).faults_fired, 1);
	ck_assert_uint_eq(used_idx(&d.tx), 0);
	ck_assert_uint_eq(vnet_model_poll(d.m), 0);
	ck_assert_uint_eq(stats(&d).tx_frames, 0);

	/* Reset and start again on fresh rings. */
	ring_free(&d.rx);
	ring_free(&d.tx);
	ck_assert_int_eq(handshake(d.t, VNET_F_DEFAULT), 0);
	dev_queues(&d, 4, 4);
	tx_post(&d.tx, 0, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.tx), 1);
	dev_stop(&d);
}
END_TEST

START_TEST(test_fault_bad_csum)
{
	struct dev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_LOOPBACK);
	uint8_t ip[60], raw[60];
	const uint8_t *r;

	/* IPv4 datagram of 40 bytes in a 60-byte frame (6 bytes of padding). */
	make_frame(ip, 60, 23);
	ip[12] = 0x08;
	ip[13] = 0x00;
	ip[14] = 0x45;
	ip[16] = 0;
	ip[17] = 40;
	make_frame(raw, 60, 24);

	dev_start(&d, &c, VNET_F_DEFAULT, 4, 4);
	for (uint16_t i = 0; i < 3; i++)
		rx_post(&d.rx, i, BUF_SIZE);
	vnet_model_fault(d.m, VNET_FAULT_BAD_CSUM, 2);
	tx_post(&d.tx, 0, ip, 60, HDR);
	tx_post(&d.tx, 1, raw, 60, HDR);
	tx_post(&d.tx, 2, raw, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 3);
	ck_assert_uint_eq(used_idx(&d.rx), 3);

	r = buf(&d.rx, 0) + HDR; /* last byte of the IP datagram: 14 + 40 - 1 */
	ck_assert_mem_eq(r, ip, 53);
	ck_assert_uint_eq(r[53], (uint8_t)(ip[53] ^ 0xff));
	ck_assert_mem_eq(r + 54, ip + 54, 6);
	r = buf(&d.rx, 1) + HDR; /* not IP: the last byte */
	ck_assert_mem_eq(r, raw, 59);
	ck_assert_uint_eq(r[59], (uint8_t)(raw[59] ^ 0xff));
	ck_assert_mem_eq(buf(&d.rx, 2) + HDR, raw, 60);
	ck_assert_uint_eq(stats(&d).faults_fired, 2);
	dev_stop(&d);
}
END_TEST

/* ========================================================== features == */

#define F_V1 (VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_STATUS)
#define F_CTRL_ALL                                                                            \
	(VNET_F_CTRL_VQ | VNET_F_CTRL_RX | VNET_F_CTRL_VLAN | VNET_F_GUEST_ANNOUNCE | VNET_F_MQ | \
	 VNET_F_CTRL_MAC_ADDR)
#define MAXP 4

/* A device with several pairs and a control queue: r[2i] / r[2i+1] are
 * receiveq / transmitq of pair i. */
struct mdev {
	struct vnet_model *m;
	struct vnet_transport *t;
	uint16_t npairs;
	uint16_t ctl_idx; /* transport index of the control queue */
	bool has_ctl;
	struct ring r[2 * MAXP];
	struct ring ctl;
};

static void mdev_start(struct mdev *d, const struct vnet_model_conf *conf, uint64_t want, uint16_t npairs,
                       uint16_t size)
{
	uint64_t neg;
	uint16_t maxp = conf && conf->max_pairs ? conf->max_pairs : 1;

	memset(d, 0, sizeof(*d));
	ck_assert_int_eq(vnet_model_create(&d->m, conf), 0);
	d->t = vnet_model_transport(d->m);
	ck_assert_int_eq(handshake(d->t, want), 0);
	neg = d->t->ops->get_features(d->t) & want;
	d->npairs = npairs;
	for (uint16_t i = 0; i < 2 * npairs; i++) {
		struct vnet_vq_addrs a;

		ring_init(&d->r[i], size);
		a = ring_addrs(&d->r[i]);
		ck_assert_int_eq(d->t->ops->queue_setup(d->t, i, size, &a), 0);
	}
	if (neg & VNET_F_CTRL_VQ) {
		struct vnet_vq_addrs a;

		d->has_ctl = true;
		d->ctl_idx = (uint16_t)((neg & VNET_F_MQ) ? 2 * maxp : 2);
		ring_init(&d->ctl, 8);
		a = ring_addrs(&d->ctl);
		ck_assert_int_eq(d->t->ops->queue_setup(d->t, d->ctl_idx, 8, &a), 0);
	}
	d->t->ops->set_status(d->t, S_ACK | S_DRV | S_FOK | S_DOK);
}

static void mdev_stop(struct mdev *d)
{
	d->t->ops->reset(d->t);
	vnet_model_destroy(d->m);
	for (uint16_t i = 0; i < 2 * d->npairs; i++)
		ring_free(&d->r[i]);
	if (d->has_ctl)
		ring_free(&d->ctl);
}

static struct vnet_model_stats mstats(const struct mdev *d)
{
	struct vnet_model_stats s;

	vnet_model_stats(d->m, &s);
	return s;
}

static struct vnet_model_state mstate(const struct mdev *d)
{
	struct vnet_model_state s;

	vnet_model_get_state(d->m, &s);
	return s;
}

static void put_le32(uint8_t *p, uint32_t v);

/* Post a command on the control queue (descriptors 0 and 1: readable
 * class + command + data, writable ack), notify it, and check that the
 * device answered at once with one used entry of len 1. @return the ack. */
static uint8_t ctrl_cmd(struct mdev *d, uint8_t cls, uint8_t cmd, const void *data, uint32_t len)
{
	struct ring *r = &d->ctl;
	uint8_t *req = buf(r, 0), *ack = buf(r, 1);
	uint16_t u = used_idx(r);

	req[0] = cls;
	req[1] = cmd;
	if (len)
		memcpy(req + 2, data, len);
	*ack = 0xee;
	set_desc(r, 0, req, 2 + len, VRING_DESC_F_NEXT, 1);
	set_desc(r, 1, ack, 1, VRING_DESC_F_WRITE, 0);
	publish(r, 0);
	d->t->ops->notify(d->t, d->ctl_idx);
	ck_assert_uint_eq(used_idx(r), (uint16_t)(u + 1)); /* served at once */
	ck_assert_uint_eq(used_at(r, u).id, 0);
	ck_assert_uint_eq(used_at(r, u).len, 1);
	return *ack;
}

static uint8_t ctrl_on(struct mdev *d, uint8_t cmd, uint8_t on)
{
	return ctrl_cmd(d, VIRTIO_NET_CTRL_RX, cmd, &on, 1);
}

static uint8_t ctrl_table(struct mdev *d, const uint8_t (*uc)[6], uint32_t nu, const uint8_t (*mc)[6], uint32_t nm)
{
	uint8_t b[4 + 6 * 40 + 4 + 6 * 40];
	uint32_t o = 0;

	ck_assert_uint_le(nu, 40);
	ck_assert_uint_le(nm, 40);
	put_le32(b, nu);
	o = 4;
	memcpy(b + o, uc, 6 * (size_t)nu);
	o += 6 * nu;
	put_le32(b + o, nm);
	o += 4;
	memcpy(b + o, mc, 6 * (size_t)nm);
	o += 6 * nm;
	return ctrl_cmd(d, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, b, o);
}

static uint8_t ctrl_u16(struct mdev *d, uint8_t cls, uint8_t cmd, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	return ctrl_cmd(d, cls, cmd, b, 2);
}

/* The model's header for a TX frame. */
struct thdr {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

static void hdr_write(uint8_t *h, const struct thdr *t)
{
	memset(h, 0, HDR);
	h[0] = t->flags;
	h[1] = t->gso_type;
	h[2] = (uint8_t)t->hdr_len;
	h[3] = (uint8_t)(t->hdr_len >> 8);
	h[4] = (uint8_t)t->gso_size;
	h[5] = (uint8_t)(t->gso_size >> 8);
	h[6] = (uint8_t)t->csum_start;
	h[7] = (uint8_t)(t->csum_start >> 8);
	h[8] = (uint8_t)t->csum_offset;
	h[9] = (uint8_t)(t->csum_offset >> 8);
}

static uint16_t rd_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A TX frame of any length with header @t, over consecutive descriptors
 * of BUF_SIZE from @id on (one buffer each). @return descriptors used. */
static uint16_t tx_post_hdr(struct ring *r, uint16_t id, const uint8_t *f, uint32_t len, const struct thdr *t)
{
	uint32_t total = HDR + len, off = 0;
	uint16_t n = 0;
	uint8_t tmp[HDR];

	hdr_write(tmp, t);
	while (off < total) {
		uint16_t di = (uint16_t)((id + n) & (r->size - 1));
		uint32_t c = total - off < BUF_SIZE ? total - off : BUF_SIZE;

		for (uint32_t i = 0; i < c; i++) {
			uint32_t at = off + i;
			buf(r, di)[i] = at < HDR ? tmp[at] : f[at - HDR];
		}
		off += c;
		set_desc(r, di, buf(r, di), c, off < total ? VRING_DESC_F_NEXT : 0,
		         (uint16_t)((di + 1) & (r->size - 1)));
		n++;
	}
	publish(r, id);
	return n;
}

/* ---- an independent checksum check (RFC 1071), for what the model sends */

static uint32_t t_sum(uint32_t s, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return s;
}

static uint16_t t_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Is the IPv4 header (if any) and the TCP/UDP checksum right? */
static bool frame_csum_ok(const uint8_t *f, uint32_t len)
{
	uint32_t s;

	if (f[12] == 0x08 && f[13] == 0x00) {
		uint32_t ihl = (f[14] & 0xfu) * 4, tot = (uint32_t)f[16] << 8 | f[17];
		const uint8_t *ip = f + 14;

		if (14 + tot > len || t_fold(t_sum(0, ip, ihl)) != 0xffff)
			return false;
		s = t_sum(0, ip + 12, 8) + ip[9] + (tot - ihl);
		return t_fold(t_sum(s, ip + ihl, tot - ihl)) == 0xffff;
	}
	if (f[12] == 0x86 && f[13] == 0xdd) {
		const uint8_t *ip = f + 14;
		uint32_t pl = (uint32_t)ip[4] << 8 | ip[5];

		if (14 + 40 + pl > len)
			return false;
		s = t_sum(0, ip + 8, 32) + ip[6] + pl;
		return t_fold(t_sum(s, ip + 40, pl)) == 0xffff;
	}
	return false;
}

/* Ethernet (to MAC_DEF) + IPv4 or IPv6 + TCP (20 bytes) or UDP + @plen
 * payload bytes. The IPv4 header checksum is complete; the L4 checksum is
 * complete, or with @partial the pseudo-header sum (for NEEDS_CSUM).
 * @return the frame length. */
static uint32_t mk_ip(uint8_t *f, bool v6, uint8_t proto, uint32_t plen, bool partial, uint8_t seed)
{
	uint32_t l3 = v6 ? 40 : 20, l4h = proto == 6 ? 20 : 8, l4 = l4h + plen, tot = 14 + l3 + l4;
	uint8_t *ip = f + 14, *t = ip + l3;
	uint32_t s;

	memset(f, 0, tot);
	memcpy(f, MAC_DEF, 6);
	memcpy(f + 6, MAC_PEER, 6);
	if (v6) {
		f[12] = 0x86;
		f[13] = 0xdd;
		ip[0] = 0x60;
		ip[4] = (uint8_t)(l4 >> 8);
		ip[5] = (uint8_t)l4;
		ip[6] = proto;
		ip[7] = 64;
		for (int i = 0; i < 16; i++) {
			ip[8 + i] = (uint8_t)(0x20 + i);
			ip[24 + i] = (uint8_t)(0x40 + i);
		}
	} else {
		f[12] = 0x08;
		ip[0] = 0x45;
		ip[2] = (uint8_t)((20 + l4) >> 8);
		ip[3] = (uint8_t)(20 + l4);
		ip[4] = 0x12;
		ip[5] = 0x34;
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = proto;
		ip[12] = 10, ip[13] = 0, ip[14] = 0, ip[15] = 1;
		ip[16] = 10, ip[17] = 0, ip[18] = 0, ip[19] = 2;
		s = (uint16_t)~t_fold(t_sum(0, ip, 20));
		ip[10] = (uint8_t)(s >> 8);
		ip[11] = (uint8_t)s;
	}
	t[0] = 0x04, t[1] = 0xd2; /* 1234 */
	t[2] = 0x00, t[3] = 0x50; /* 80 */
	if (proto == 6) {
		t[4] = 0, t[5] = 0, t[6] = 0x03, t[7] = 0xe8; /* seq 1000 */
		t[11] = 1;                                    /* ack 1 */
		t[12] = 0x50;                                 /* doff 5 */
		t[13] = 0x80 | 0x10 | 0x08 | 0x01;            /* CWR ACK PSH FIN */
		t[14] = 0xff, t[15] = 0xff;
	} else {
		t[4] = (uint8_t)(l4 >> 8);
		t[5] = (uint8_t)l4;
	}
	for (uint32_t i = 0; i < plen; i++)
		t[l4h + i] = (uint8_t)(seed + i * 3);
	s = (v6 ? t_sum(0, ip + 8, 32) : t_sum(0, ip + 12, 8)) + proto + l4;
	if (!partial)
		s = (uint16_t)~t_fold(t_sum(s, t, l4));
	else
		s = t_fold(s);
	t[proto == 6 ? 16 : 6] = (uint8_t)(s >> 8);
	t[proto == 6 ? 17 : 7] = (uint8_t)s;
	return tot;
}

/* ---------------------------------------------------- control queue -- */

START_TEST(test_ctrl_commands)
{
	struct mdev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_SINK);
	const uint8_t mac2[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
	const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
	uint8_t uc[40][6], mc[1][6], got[6];
	struct vnet_model_state st;
	uint32_t gen;
	uint8_t on;

	c.features = F_V1 | F_CTRL_ALL;
	c.max_pairs = 3;
	mdev_start(&d, &c, c.features, 3, 8);
	/* spec 5.1.2: controlq = 2N with MQ */
	ck_assert_uint_eq(d.ctl_idx, 6);
	ck_assert_uint_eq(d.t->ops->queue_max(d.t, 6), 1024);
	ck_assert_uint_eq(d.t->ops->queue_max(d.t, 7), 0);
	ck_assert_uint_eq(rd16(d.t, VIRTIO_NET_CFG_MAX_PAIRS), 3);
	st = mstate(&d);
	ck_assert(st.promisc);
	ck_assert(!st.allmulti);
	ck_assert_uint_eq(st.active_pairs, 1);
	ck_assert_mem_eq(st.mac, MAC_DEF, 6);
	ck_assert_uint_eq(st.features, c.features);

	/* RX mode: one byte, 0 or 1 */
	ck_assert_uint_eq(ctrl_on(&d, VIRTIO_NET_CTRL_RX_PROMISC, 0), VIRTIO_NET_OK);
	ck_assert_uint_eq(ctrl_on(&d, VIRTIO_NET_CTRL_RX_ALLMULTI, 1), VIRTIO_NET_OK);
	ck_assert_uint_eq(ctrl_on(&d, VIRTIO_NET_CTRL_RX_ALLMULTI, 2), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl_on(&d, 2 /* ALLUNI: needs RX_EXTRA */, 1), VIRTIO_NET_ERR);
	on = 0;
	ck_assert_uint_eq(ctrl_cmd(&d, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &on, 0), VIRTIO_NET_ERR);
	st = mstate(&d);
	ck_assert(!st.promisc);
	ck_assert(st.allmulti);

	/* MAC address: config follows, generation bumps (spec 5.1.6.5.2) */
	gen = d.t->ops->config_generation(d.t);
	ck_assert_uint_eq(ctrl_cmd(&d, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, mac2, 6), VIRTIO_NET_OK);
	ck_assert_uint_eq(d.t->ops->config_generation(d.t), gen + 1);
	d.t->ops->read_config(d.t, VIRTIO_NET_CFG_MAC, got, 6);
	ck_assert_mem_eq(got, mac2, 6);
	ck_assert_uint_eq(ctrl_cmd(&d, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, mcast, 6), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl_cmd(&d, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, mac2, 5), VIRTIO_NET_ERR);
	ck_assert_mem_eq(mstate(&d).mac, mac2, 6);

	/* MAC table: two le32-counted tables, exact length */
	for (int i = 0; i < 40; i++) {
		memcpy(uc[i], MAC_PEER, 6);
		uc[i][5] = (uint8_t)i;
	}
	memcpy(mc[0], mcast, 6);
	ck_assert_uint_eq(ctrl_table(&d, (const uint8_t(*)[6])uc, 2, (const uint8_t(*)[6])mc, 1), VIRTIO_NET_OK);
	st = mstate(&d);
	ck_assert_uint_eq(st.uc_entries, 2);
	ck_assert_uint_eq(st.mc_entries, 1);
	ck_assert(!st.uc_overflow);
	ck_assert_int_eq(vnet_model_mac_entry(d.m, false, 1, got), 0);
	ck_assert_mem_eq(got, uc[1], 6);
	ck_assert_int_eq(vnet_model_mac_entry(d.m, true, 0, got), 0);
	ck_assert_mem_eq(got, mcast, 6);
	ck_assert_int_eq(vnet_model_mac_entry(d.m, false, 2, got), -ENOENT);
	ck_assert_int_eq(vnet_model_mac_entry(d.m, true, 1, got), -ENOENT);
	{
		/* a count that does not match the length: ERR, tables unchanged */
		uint8_t b[4 + 6 + 4];
		put_le32(b, 2);
		memcpy(b + 4, uc[0], 6);
		put_le32(b + 10, 0);
		ck_assert_uint_eq(ctrl_cmd(&d, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, b, sizeof(b)),
		                  VIRTIO_NET_ERR);
		ck_assert_uint_eq(ctrl_cmd(&d, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, b, 3), VIRTIO_NET_ERR);
		ck_assert_uint_eq(mstate(&d).uc_entries, 2);
	}
	/* more than the model keeps: that table overflows */
	ck_assert_uint_eq(ctrl_table(&d, (const uint8_t(*)[6])uc, 40, (const uint8_t(*)[6])mc, 0), VIRTIO_NET_OK);
	st = mstate(&d);
	ck_assert_uint_eq(st.uc_entries, 40);
	ck_assert(st.uc_overflow);
	ck_assert(!st.mc_overflow);
	ck_assert_int_eq(vnet_model_mac_entry(d.m, false, VNET_MODEL_MAC_TABLE - 1, got), 0);
	ck_assert_mem_eq(got, uc[VNET_MODEL_MAC_TABLE - 1], 6);
	ck_assert_int_eq(vnet_model_mac_entry(d.m, false, VNET_MODEL_MAC_TABLE, got), -ENOENT);

	/* VLAN filter table */
	ck_assert_uint_eq(ctrl_u16(&d, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD, 100), VIRTIO_NET_OK);
	ck_assert_uint_eq(ctrl_u16(&d, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD, 4095), VIRTIO_NET_OK);
	ck_assert_uint_eq(ctrl_u16(&d, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD, 4096), VIRTIO_NET_ERR);
	ck_assert(vnet_model_vlan(d.m, 100));
	ck_assert(vnet_model_vlan(d.m, 4095));
	ck_assert(!vnet_model_vlan(d.m, 101));
	ck_assert_uint_eq(ctrl_u16(&d, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_DEL, 100), VIRTIO_NET_OK);
	ck_assert(!vnet_model_vlan(d.m, 100));
	ck_assert_uint_eq(mstate(&d).vlans, 1);

	/* ANNOUNCE: set by the host, cleared by the ack (spec 5.1.6.5.4) */
	vnet_model_announce(d.m);
	ck_assert_uint_eq(rd16(d.t, VIRTIO_NET_CFG_STATUS), VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE);
	gen = d.t->ops->config_generation(d.t);
	ck_assert_uint_eq(ctrl_cmd(&d, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0), VIRTIO_NET_OK);
	ck_assert_uint_eq(rd16(d.t, VIRTIO_NET_CFG_STATUS), VIRTIO_NET_S_LINK_UP);
	ck_assert_uint_eq(d.t->ops->config_generation(d.t), gen + 1);
	ck_assert(!mstate(&d).announce);
	ck_assert_uint_eq(ctrl_cmd(&d, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, &on, 1), VIRTIO_NET_ERR);

	/* MQ: 1 .. max_pairs */
	ck_assert_uint_eq(ctrl_u16(&d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 0), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl_u16(&d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 4), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl_u16(&d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 3), VIRTIO_NET_OK);
	ck_assert_uint_eq(mstate(&d).active_pairs, 3);
	ck_assert_uint_eq(ctrl_u16(&d, VIRTIO_NET_CTRL_MQ, 1 /* RSS_CONFIG */, 3), VIRTIO_NET_ERR);

	/* unknown class */
	ck_assert_uint_eq(ctrl_cmd(&d, 9, 0, NULL, 0), VIRTIO_NET_ERR);
	ck_assert_uint_eq(mstats(&d).ctrl_cmds, 23);
	ck_assert_uint_eq(mstats(&d).ctrl_errs, 13);
	ck_assert_uint_eq(mstats(&d).announce_acks, 1);
	ck_assert_uint_eq(vnet_model_queue_frames(d.m, 6), 23);
	ck_assert_uint_eq(mstats(&d).bad_desc, 0);

	/* a chain without a writable byte is bad; nothing is executed */
	set_desc(&d.ctl, 2, buf(&d.ctl, 2), 3, 0, 0);
	buf(&d.ctl, 2)[0] = VIRTIO_NET_CTRL_RX;
	buf(&d.ctl, 2)[1] = VIRTIO_NET_CTRL_RX_PROMISC;
	buf(&d.ctl, 2)[2] = 1;
	publish(&d.ctl, 2);
	/* no notify: the next poll serves it */
	vnet_model_poll(d.m);
	ck_assert_uint_eq(used_at(&d.ctl, 23).id, 2);
	ck_assert_uint_eq(used_at(&d.ctl, 23).len, 0);
	ck_assert_uint_eq(mstats(&d).bad_desc, 1);
	ck_assert(!mstate(&d).promisc);
	/* the control queue always asks for notifications (no EVENT_IDX: flags 0) */
	ck_assert_uint_eq(used_flags(&d.ctl), 0);
	ck_assert_uint_eq(used_flags(&d.r[1]), VRING_USED_F_NO_NOTIFY);

	/* reset: back to the defaults */
	ck_assert_int_eq(d.t->ops->reset(d.t), 0);
	st = mstate(&d);
	ck_assert(st.promisc);
	ck_assert(!st.allmulti);
	ck_assert_uint_eq(st.active_pairs, 1);
	ck_assert_mem_eq(st.mac, MAC_DEF, 6);
	ck_assert_uint_eq(st.uc_entries + st.mc_entries + st.vlans, 0);
	ck_assert_uint_eq(st.features, 0);
	mdev_stop(&d);
}
END_TEST

/* Each command class needs its feature; controlq is queue 2 without MQ. */
START_TEST(test_ctrl_features_needed)
{
	struct mdev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_SINK);
	const uint8_t mac2[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
	uint8_t t0[8] = {0};

	c.features = F_V1 | F_CTRL_ALL;
	c.max_pairs = 4;
	/* the driver takes the control queue only */
	mdev_start(&d, &c, F_V1 | VNET_F_CTRL_VQ, 1, 8);
	ck_assert_uint_eq(d.ctl_idx, 2);
	ck_assert_uint_eq(d.t->ops->queue_max(d.t, 3), 0);
	ck_assert_uint_eq(ctrl_on(&d, VIRTIO_NET_CTRL_RX_PROMISC, 0), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl_cmd(&d, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, mac2, 6), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl_cmd(&d, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, t0, 8), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl_u16(&d, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD, 1), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl_cmd(&d, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl_u16(&d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 1), VIRTIO_NET_ERR);
	ck_assert_uint_eq(mstats(&d).ctrl_errs, 6);
	ck_assert(mstate(&d).promisc);
	/* max_virtqueue_pairs shows what was offered */
	ck_assert_uint_eq(rd16(d.t, VIRTIO_NET_CFG_MAX_PAIRS), 4);
	mdev_stop(&d);

	/* no control queue at all: queue 2 does not exist */
	c.features = F_V1;
	c.max_pairs = 0;
	mdev_start(&d, &c, F_V1, 1, 8);
	ck_assert(!d.has_ctl);
	ck_assert_uint_eq(d.t->ops->queue_max(d.t, 2), 0);
	{
		struct vnet_vq_addrs a = ring_addrs(&d.r[0]);
		ck_assert_int_eq(vnet_model_transport(d.m)->ops->reset(d.t), 0);
		ck_assert_int_eq(handshake(d.t, F_V1), 0);
		ck_assert_int_eq(d.t->ops->queue_setup(d.t, 2, 8, &a), -EINVAL);
	}
	mdev_stop(&d);
}
END_TEST

/* RX filtering by destination MAC and VLAN (spec 5.1.6.5.1 - 5.1.6.5.3). */
START_TEST(test_rx_filter)
{
	struct mdev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_LOOPBACK);
	const uint8_t other[6] = {0x02, 0, 0, 0, 0, 0x77};
	const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	const uint8_t mc1[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
	const uint8_t mc2[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x01};
	uint8_t f[64], tbl_uc[1][6], tbl_mc[1][6];
	struct ring *rx, *tx;
	uint16_t tid = 0, delivered = 0, filtered = 0;

	c.features = F_V1 | VNET_F_CTRL_VQ | VNET_F_CTRL_RX | VNET_F_CTRL_VLAN;
	mdev_start(&d, &c, c.features, 1, 64);
	rx = &d.r[0];
	tx = &d.r[1];
	for (uint16_t i = 0; i < 64; i++)
		rx_post(rx, i, BUF_SIZE);

#define SEND(dst, want)                                                  \
	do {                                                                 \
		make_frame(f, 64, (uint8_t)tid);                                 \
		memcpy(f, dst, 6);                                               \
		tx_post(tx, (uint16_t)(tid++ & 63), f, 64, HDR);                 \
		ck_assert_uint_eq(vnet_model_poll(d.m), 1);                      \
		if (want)                                                        \
			delivered++;                                                 \
		else                                                             \
			filtered++;                                                  \
		ck_assert_uint_eq(used_idx(rx), delivered);                      \
		ck_assert_uint_eq(mstats(&d).rx_filtered, filtered);             \
	} while (0)

	/* promiscuous after reset: everything passes */
	SEND(other, 1);
	SEND(mc1, 1);
	ck_assert_uint_eq(ctrl_on(&d, VIRTIO_NET_CTRL_RX_PROMISC, 0), VIRTIO_NET_OK);
	SEND(MAC_DEF, 1);
	SEND(other, 0);
	SEND(bcast, 1);
	SEND(mc1, 0);
	ck_assert_uint_eq(ctrl_on(&d, VIRTIO_NET_CTRL_RX_ALLMULTI, 1), VIRTIO_NET_OK);
	SEND(mc1, 1);
	SEND(other, 0);
	ck_assert_uint_eq(ctrl_on(&d, VIRTIO_NET_CTRL_RX_ALLMULTI, 0), VIRTIO_NET_OK);
	/* the tables let their addresses in */
	memcpy(tbl_uc[0], other, 6);
	memcpy(tbl_mc[0], mc2, 6);
	ck_assert_uint_eq(ctrl_table(&d, (const uint8_t(*)[6])tbl_uc, 1, (const uint8_t(*)[6])tbl_mc, 1), VIRTIO_NET_OK);
	SEND(other, 1);
	SEND(mc2, 1);
	SEND(mc1, 0);

	/* VLAN: tagged frames pass only with their vid in the table */
	{
		uint8_t v[68];

		make_frame(v, 68, 0x33);
		v[12] = 0x81;
		v[13] = 0x00;
		v[14] = 0x20; /* priority 1, vid 5 */
		v[15] = 0x05;
		v[16] = 0x88;
		v[17] = 0xb6;
		tx_post(tx, (uint16_t)(tid++ & 63), v, 68, HDR);
		vnet_model_poll(d.m);
		ck_assert_uint_eq(mstats(&d).rx_filtered, ++filtered);
		ck_assert_uint_eq(ctrl_u16(&d, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD, 5), VIRTIO_NET_OK);
		tx_post(tx, (uint16_t)(tid++ & 63), v, 68, HDR);
		vnet_model_poll(d.m);
		ck_assert_uint_eq(used_idx(rx), ++delivered);
		ck_assert_mem_eq(buf(rx, (uint16_t)(delivered - 1)) + HDR, v, 68);
	}
	/* promiscuous wins over everything but VLANs */
	ck_assert_uint_eq(ctrl_on(&d, VIRTIO_NET_CTRL_RX_PROMISC, 1), VIRTIO_NET_OK);
	SEND(mc1, 1);
#undef SEND
	ck_assert_uint_eq(mstats(&d).rx_no_buffer, 0);
	ck_assert_uint_eq(mstats(&d).tx_frames, tid);
	ck_assert_uint_eq(used_idx(tx), tid);
	mdev_stop(&d);
}
END_TEST

/* Pairs: served only once enabled; loopback stays on its pair; SOURCE
 * fills every active pair; WIRE maps pairs modulo the peer's. */
START_TEST(test_multiqueue)
{
	struct mdev d, a, b;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_LOOPBACK);
	uint8_t f[60];

	c.features = F_V1 | VNET_F_CTRL_VQ | VNET_F_MQ;
	c.max_pairs = 2;
	mdev_start(&d, &c, c.features, 2, 8);
	ck_assert_uint_eq(d.ctl_idx, 4);
	for (uint16_t i = 0; i < 4; i++) {
		rx_post(&d.r[0], i, BUF_SIZE);
		rx_post(&d.r[2], i, BUF_SIZE);
	}
	make_frame(f, 60, 1);
	/* before VQ_PAIRS_SET only pair 0 is served (spec 5.1.6.5.6) */
	tx_post(&d.r[3], 0, f, 60, HDR);
	tx_post(&d.r[1], 0, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.r[1]), 1);
	ck_assert_uint_eq(used_idx(&d.r[3]), 0);
	ck_assert_uint_eq(used_idx(&d.r[0]), 1);
	ck_assert_uint_eq(ctrl_u16(&d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 2), VIRTIO_NET_OK);
	make_frame(f, 60, 2);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(&d.r[3]), 1);
	ck_assert_uint_eq(used_idx(&d.r[2]), 1); /* its own pair */
	ck_assert_uint_eq(used_idx(&d.r[0]), 1);
	ck_assert_uint_eq(vnet_model_queue_frames(d.m, 0), 1);
	ck_assert_uint_eq(vnet_model_queue_frames(d.m, 1), 1);
	ck_assert_uint_eq(vnet_model_queue_frames(d.m, 2), 1);
	ck_assert_uint_eq(vnet_model_queue_frames(d.m, 3), 1);
	ck_assert_uint_eq(vnet_model_queue_frames(d.m, 4), 1); /* the command */
	ck_assert_uint_eq(vnet_model_queue_frames(d.m, 5), 0);
	/* back to one pair: pair 1 is not read any more */
	ck_assert_uint_eq(ctrl_u16(&d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 1), VIRTIO_NET_OK);
	tx_post(&d.r[3], 1, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 0);
	ck_assert_uint_eq(used_idx(&d.r[3]), 1);
	mdev_stop(&d);

	/* SOURCE spreads over the active pairs */
	c = conf_backend(VNET_MODEL_SOURCE);
	c.features = F_V1 | VNET_F_CTRL_VQ | VNET_F_MQ;
	c.max_pairs = 2;
	mdev_start(&d, &c, c.features, 2, 8);
	ck_assert_uint_eq(ctrl_u16(&d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 2), VIRTIO_NET_OK);
	for (uint16_t i = 0; i < 3; i++) {
		rx_post(&d.r[0], i, BUF_SIZE);
		rx_post(&d.r[2], i, BUF_SIZE);
	}
	ck_assert_uint_eq(vnet_model_poll(d.m), 6);
	ck_assert_uint_eq(used_idx(&d.r[0]), 3);
	ck_assert_uint_eq(used_idx(&d.r[2]), 3);
	check_source_frame(buf(&d.r[0], 0) + HDR, 64, 0);
	check_source_frame(buf(&d.r[2], 0) + HDR, 64, 3);
	mdev_stop(&d);

	/* WIRE: a's pair 1 lands on b's pair 0 when b uses one pair */
	c = conf_backend(VNET_MODEL_WIRE);
	c.features = F_V1 | VNET_F_CTRL_VQ | VNET_F_MQ;
	c.max_pairs = 2;
	mdev_start(&a, &c, c.features, 2, 8);
	mdev_start(&b, &c, c.features, 2, 8);
	ck_assert_int_eq(vnet_model_wire(a.m, b.m), 0);
	ck_assert_uint_eq(ctrl_u16(&a, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 2), VIRTIO_NET_OK);
	rx_post(&b.r[0], 0, BUF_SIZE);
	rx_post(&b.r[2], 0, BUF_SIZE);
	tx_post(&a.r[3], 0, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(a.m), 1);
	ck_assert_uint_eq(used_idx(&b.r[0]), 1);
	ck_assert_uint_eq(used_idx(&b.r[2]), 0);
	ck_assert_uint_eq(ctrl_u16(&b, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 2), VIRTIO_NET_OK);
	tx_post(&a.r[3], 1, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(a.m), 1);
	ck_assert_uint_eq(used_idx(&b.r[2]), 1);
	mdev_stop(&a);
	mdev_stop(&b);
}
END_TEST

START_TEST(test_speed_duplex)
{
	struct vnet_model *m;
	struct vnet_model_conf c;
	struct vnet_transport *t;
	uint8_t b[5];

	memset(&c, 0, sizeof(c));
	c.features = F_V1 | VNET_F_SPEED_DUPLEX;
	c.speed = 25000;
	c.duplex = VNET_MODEL_DUPLEX_FULL;
	ck_assert_int_eq(vnet_model_create(&m, &c), 0);
	t = vnet_model_transport(m);
	t->ops->read_config(t, VIRTIO_NET_CFG_SPEED, b, 5);
	ck_assert_uint_eq((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24, 25000);
	ck_assert_uint_eq(b[4], 0x01);
	vnet_model_destroy(m);
	c.duplex = VNET_MODEL_DUPLEX_HALF;
	ck_assert_int_eq(vnet_model_create(&m, &c), 0);
	t = vnet_model_transport(m);
	t->ops->read_config(t, VIRTIO_NET_CFG_DUPLEX, b, 1);
	ck_assert_uint_eq(b[0], 0x00);
	vnet_model_destroy(m);
}
END_TEST

/* ---------------------------------------------------- checksums -- */

struct tap_many {
	uint32_t n;
	uint32_t len[8];
	uint8_t f[8][2048];
};

static void tap_many_fn(const uint8_t *frame, uint32_t len, void *arg)
{
	struct tap_many *l = arg;

	if (l->n < 8) {
		l->len[l->n] = len;
		memcpy(l->f[l->n], frame, len < 2048 ? len : 2048);
	}
	l->n++;
}

/* CSUM: NEEDS_CSUM frames are completed before they leave (spec 5.1.6.2). */
START_TEST(test_tx_csum)
{
	struct mdev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_LOOPBACK);
	struct tap_many *log = calloc(1, sizeof(*log));
	struct thdr h = {0};
	uint8_t f[300], g[300];
	uint32_t len, len6;

	c.features = F_V1 | VNET_F_CSUM;
	mdev_start(&d, &c, c.features, 1, 8);
	vnet_model_set_tap(d.m, tap_many_fn, log);
	for (uint16_t i = 0; i < 8; i++)
		rx_post(&d.r[0], i, BUF_SIZE);
	len = mk_ip(f, false, 17, 101, true, 1); /* UDP, odd length */
	ck_assert(!frame_csum_ok(f, len));
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = 34;
	h.csum_offset = 6;
	tx_post_hdr(&d.r[1], 0, f, len, &h);
	len6 = mk_ip(g, true, 6, 200, true, 2);
	h.csum_start = 54;
	h.csum_offset = 16;
	tx_post_hdr(&d.r[1], 1, g, len6, &h);
	ck_assert_uint_eq(vnet_model_poll(d.m), 2);
	ck_assert_uint_eq(used_idx(&d.r[0]), 2);
	ck_assert(frame_csum_ok(buf(&d.r[0], 0) + HDR, len));
	ck_assert(frame_csum_ok(buf(&d.r[0], 1) + HDR, len6));
	check_rx_hdr(buf(&d.r[0], 0), HDR); /* GUEST_CSUM not negotiated: flags 0 */
	ck_assert(frame_csum_ok(log->f[0], log->len[0])); /* the tap sees the wire */
	ck_assert_uint_eq(mstats(&d).tx_csum, 2);
	/* only the checksum field changed */
	ck_assert_mem_eq(buf(&d.r[0], 0) + HDR, f, 40);
	ck_assert_mem_eq(buf(&d.r[0], 0) + HDR + 42, f + 42, len - 42);

	/* csum_start/offset past the frame: refused */
	h.csum_start = (uint16_t)(len - 1);
	h.csum_offset = 0;
	tx_post_hdr(&d.r[1], 2, f, len, &h);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(mstats(&d).tx_bad_hdr, 1);
	ck_assert_uint_eq(used_idx(&d.r[1]), 3);
	ck_assert_uint_eq(used_idx(&d.r[0]), 2);
	mdev_stop(&d);

	/* CSUM offered but not negotiated: NEEDS_CSUM is refused */
	mdev_start(&d, &c, F_V1, 1, 8);
	rx_post(&d.r[0], 0, BUF_SIZE);
	h.csum_start = 34;
	h.csum_offset = 6;
	tx_post_hdr(&d.r[1], 0, f, len, &h);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(mstats(&d).tx_bad_hdr, 1);
	ck_assert_uint_eq(mstats(&d).tx_frames, 0);
	ck_assert_uint_eq(used_idx(&d.r[0]), 0);
	mdev_stop(&d);
	free(log);
}
END_TEST

/* GUEST_CSUM: DATA_VALID for checksums the model verified; PARTIAL passes
 * NEEDS_CSUM frames on unfinished (spec 5.1.6.4). */
START_TEST(test_rx_csum)
{
	struct mdev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_LOOPBACK);
	struct thdr h = {0};
	uint8_t f[600], raw[60];
	uint32_t len;
	const uint8_t *b;

	c.features = F_V1 | VNET_F_CSUM | VNET_F_GUEST_CSUM;
	c.rx_csum = VNET_MODEL_RX_CSUM_VALID;
	mdev_start(&d, &c, c.features, 1, 8);
	for (uint16_t i = 0; i < 8; i++)
		rx_post(&d.r[0], i, BUF_SIZE);
	len = mk_ip(f, false, 6, 100, false, 3);
	ck_assert(frame_csum_ok(f, len));
	tx_post(&d.r[1], 0, f, len, HDR);               /* complete: DATA_VALID */
	make_frame(raw, 60, 4);
	tx_post(&d.r[1], 1, raw, 60, HDR);              /* not IP: nothing */
	vnet_model_poll(d.m);
	ck_assert_uint_eq(buf(&d.r[0], 0)[0], VIRTIO_NET_HDR_F_DATA_VALID);
	ck_assert_uint_eq(buf(&d.r[0], 1)[0], 0);
	vnet_model_fault(d.m, VNET_FAULT_BAD_CSUM, 1); /* broken on the wire: no */
	tx_post(&d.r[1], 2, f, len, HDR);
	len = mk_ip(f, true, 17, 50, true, 5);           /* completed by CSUM, then verified */
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = 54;
	h.csum_offset = 6;
	tx_post_hdr(&d.r[1], 3, f, len, &h);
	vnet_model_poll(d.m);
	ck_assert_uint_eq(buf(&d.r[0], 2)[0], 0);
	ck_assert_uint_eq(buf(&d.r[0], 3)[0], VIRTIO_NET_HDR_F_DATA_VALID);
	{
		/* UDP over IPv4 with checksum 0: nothing was verified */
		uint32_t l4 = mk_ip(f, false, 17, 20, false, 6);
		f[40] = f[41] = 0;
		tx_post(&d.r[1], 4, f, l4, HDR);
		vnet_model_poll(d.m);
		ck_assert_uint_eq(buf(&d.r[0], 4)[0], 0);
	}
	ck_assert_uint_eq(mstats(&d).rx_data_valid, 2);
	mdev_stop(&d);

	/* PARTIAL: the receiver gets NEEDS_CSUM, csum_start/offset, and the
	 * pseudo-header sum where the checksum goes */
	c.rx_csum = VNET_MODEL_RX_CSUM_PARTIAL;
	mdev_start(&d, &c, c.features, 1, 8);
	for (uint16_t i = 0; i < 8; i++)
		rx_post(&d.r[0], i, BUF_SIZE);
	len = mk_ip(f, false, 6, 333, true, 7);
	h.csum_start = 34;
	h.csum_offset = 16;
	tx_post_hdr(&d.r[1], 0, f, len, &h);
	len = mk_ip(f + 150, false, 6, 10, false, 8); /* a complete one: VALID */
	tx_post(&d.r[1], 1, f + 150, len, HDR);
	vnet_model_poll(d.m);
	b = buf(&d.r[0], 0);
	ck_assert_uint_eq(b[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_uint_eq(rd_le16(b + 6), 34);
	ck_assert_uint_eq(rd_le16(b + 8), 16);
	ck_assert_uint_eq(rd_le16(b + 10), 1);
	len = mk_ip(f, false, 6, 333, true, 7);
	ck_assert_mem_eq(b + HDR, f, len);
	ck_assert_uint_eq(buf(&d.r[0], 1)[0], VIRTIO_NET_HDR_F_DATA_VALID);
	ck_assert_uint_eq(mstats(&d).rx_partial, 1);
	ck_assert_uint_eq(mstats(&d).tx_csum, 0);
	mdev_stop(&d);

	/* GUEST_CSUM offered but not taken: flags stay 0 */
	c.rx_csum = VNET_MODEL_RX_CSUM_VALID;
	mdev_start(&d, &c, F_V1, 1, 8);
	rx_post(&d.r[0], 0, BUF_SIZE);
	len = mk_ip(f, false, 6, 100, false, 3);
	tx_post(&d.r[1], 0, f, len, HDR);
	vnet_model_poll(d.m);
	ck_assert_uint_eq(buf(&d.r[0], 0)[0], 0);
	mdev_stop(&d);
}
END_TEST

/* ---------------------------------------------------- MRG_RXBUF -- */

START_TEST(test_mrg_rxbuf)
{
	struct mdev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_LOOPBACK);
	struct ring *rx, *tx;
	uint8_t f[1000];
	const uint32_t lens[4] = {300, 300, 300, 112};

	c.features = F_V1 | VNET_F_MRG_RXBUF;
	mdev_start(&d, &c, c.features, 1, 16);
	rx = &d.r[0];
	tx = &d.r[1];
	for (uint16_t i = 0; i < 6; i++)
		rx_post(rx, i, 300);
	make_frame(f, 1000, 9);
	tx_post(tx, 0, f, 1000, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	/* 12 + 1000 bytes over four buffers, all but the last full */
	ck_assert_uint_eq(used_idx(rx), 4);
	for (uint16_t i = 0; i < 4; i++) {
		ck_assert_uint_eq(used_at(rx, i).id, i);
		ck_assert_uint_eq(used_at(rx, i).len, lens[i]);
	}
	ck_assert_uint_eq(rd_le16(buf(rx, 0) + 10), 4); /* num_buffers */
	ck_assert_mem_eq(buf(rx, 0) + HDR, f, 288);
	ck_assert_mem_eq(buf(rx, 1), f + 288, 300);
	ck_assert_mem_eq(buf(rx, 2), f + 588, 300);
	ck_assert_mem_eq(buf(rx, 3), f + 888, 112);
	ck_assert_uint_eq(mstats(&d).rx_merged, 1);
	ck_assert_uint_eq(mstats(&d).rx_frames, 1);
	ck_assert_uint_eq(vnet_model_queue_frames(d.m, 0), 1);

	/* two buffers left (600 bytes): the frame is dropped, none consumed */
	tx_post(tx, 1, f, 1000, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_idx(rx), 4);
	ck_assert_uint_eq(mstats(&d).rx_no_buffer, 1);
	/* a small one fits the first */
	tx_post(tx, 2, f, 100, HDR);
	vnet_model_poll(d.m);
	ck_assert_uint_eq(used_idx(rx), 5);
	ck_assert_uint_eq(used_at(rx, 4).len, HDR + 100);
	ck_assert_uint_eq(rd_le16(buf(rx, 4) + 10), 1);
	/* a buffer smaller than the header (spec 5.1.6.3) stops the search
	 * for more buffers ... */
	rx_post(rx, 6, 8);
	rx_post(rx, 7, 2048);
	tx_post(tx, 3, f, 1000, HDR);
	vnet_model_poll(d.m);
	ck_assert_uint_eq(used_idx(rx), 5);
	ck_assert_uint_eq(mstats(&d).rx_no_buffer, 2);
	tx_post(tx, 4, f, 100, HDR); /* (buffer 5 alone) */
	vnet_model_poll(d.m);
	ck_assert_uint_eq(used_idx(rx), 6);
	/* ... and, first in line, is completed with len 0 and skipped */
	tx_post(tx, 5, f, 1000, HDR);
	vnet_model_poll(d.m);
	ck_assert_uint_eq(mstats(&d).bad_desc, 1);
	ck_assert_uint_eq(used_idx(rx), 8);
	ck_assert_uint_eq(used_at(rx, 6).id, 6);
	ck_assert_uint_eq(used_at(rx, 6).len, 0);
	ck_assert_uint_eq(used_at(rx, 7).id, 7);
	ck_assert_uint_eq(used_at(rx, 7).len, HDR + 1000);
	ck_assert_uint_eq(rd_le16(buf(rx, 7) + 10), 1);
	ck_assert_mem_eq(buf(rx, 7) + HDR, f, 1000);
	mdev_stop(&d);
}
END_TEST

/* ------------------------------------------------------- IN_ORDER -- */

START_TEST(test_in_order_split)
{
	struct mdev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_LOOPBACK);
	struct ring *rx, *tx;
	uint8_t f[60];

	c.features = F_V1 | VNET_F_IN_ORDER;
	mdev_start(&d, &c, c.features, 1, 8);
	rx = &d.r[0];
	tx = &d.r[1];
	for (uint16_t i = 0; i < 8; i++)
		rx_post(rx, i, BUF_SIZE);
	make_frame(f, 60, 1);
	for (uint16_t i = 0; i < 4; i++)
		tx_post(tx, i, f, 60, HDR);
	ck_assert_uint_eq(vnet_model_poll(d.m), 4);
	/* spec 2.7.9: one used entry, at the batch's first slot, naming the
	 * last buffer; the used idx moves by the whole batch */
	ck_assert_uint_eq(used_idx(tx), 4);
	ck_assert_uint_eq(used_at(tx, 0).id, 3);
	ck_assert_uint_eq(used_at(tx, 0).len, 0);
	ck_assert_uint_eq(mstats(&d).used_batches, 1);
	/* RX: one entry per buffer, each with its length */
	ck_assert_uint_eq(used_idx(rx), 4);
	for (uint16_t i = 0; i < 4; i++) {
		ck_assert_uint_eq(used_at(rx, i).id, i);
		ck_assert_uint_eq(used_at(rx, i).len, HDR + 60);
	}
	/* a batch of one */
	tx_post(tx, 4, f, 60, HDR);
	vnet_model_poll(d.m);
	ck_assert_uint_eq(used_idx(tx), 5);
	ck_assert_uint_eq(used_at(tx, 4).id, 4);
	ck_assert_uint_eq(mstats(&d).used_batches, 1);
	/* out of order (6 where 5 was due): bad; the next expected is 7 */
	tx_post(tx, 6, f, 60, HDR);
	tx_post(tx, 7, f, 60, HDR);
	vnet_model_poll(d.m);
	ck_assert_uint_eq(mstats(&d).bad_desc, 1);
	ck_assert_uint_eq(used_idx(tx), 7);
	ck_assert_uint_eq(used_at(tx, 5).id, 7);
	ck_assert_uint_eq(mstats(&d).tx_frames, 6);
	/* with a USED_* fault armed, entries are written one by one */
	vnet_model_fault(d.m, VNET_FAULT_USED_DUP, 1);
	tx_post(tx, 0, f, 60, HDR);
	tx_post(tx, 1, f, 60, HDR);
	vnet_model_poll(d.m);
	ck_assert_uint_eq(mstats(&d).faults_fired, 1);
	mdev_stop(&d);

	/* a buffer looked at but left posted (too small) is still the one
	 * expected next: it is not out of order the next time */
	mdev_start(&d, &c, c.features, 1, 8);
	rx = &d.r[0];
	tx = &d.r[1];
	rx_post(rx, 0, 40);
	tx_post(tx, 0, f, 60, HDR);
	vnet_model_poll(d.m);
	ck_assert_uint_eq(mstats(&d).rx_no_buffer, 1);
	tx_post(tx, 1, f, 20, HDR);
	vnet_model_poll(d.m);
	ck_assert_uint_eq(used_idx(rx), 1);
	ck_assert_uint_eq(used_at(rx, 0).len, HDR + 20);
	ck_assert_uint_eq(mstats(&d).bad_desc, 0);
	mdev_stop(&d);

	/* the same with MRG_RXBUF: a frame that finds too little room, then
	 * one that spreads over several buffers, in order */
	c.features = F_V1 | VNET_F_IN_ORDER | VNET_F_MRG_RXBUF;
	mdev_start(&d, &c, c.features, 1, 8);
	rx = &d.r[0];
	tx = &d.r[1];
	for (uint16_t i = 0; i < 3; i++)
		rx_post(rx, i, 300);
	{
		uint8_t g[1000];

		make_frame(g, 1000, 2);
		tx_post(tx, 0, g, 1000, HDR);
		vnet_model_poll(d.m);
		ck_assert_uint_eq(used_idx(rx), 0);
		rx_post(rx, 3, 300);
		tx_post(tx, 1, g, 1000, HDR);
		vnet_model_poll(d.m);
		ck_assert_uint_eq(used_idx(rx), 4);
		ck_assert_uint_eq(rd_le16(buf(rx, 0) + 10), 4);
		ck_assert_mem_eq(buf(rx, 3), g + 888, 112);
	}
	ck_assert_uint_eq(mstats(&d).bad_desc, 0);
	ck_assert_uint_eq(mstats(&d).rx_no_buffer, 1);
	mdev_stop(&d);
}
END_TEST

/* ------------------------------------------------------------ TSO -- */

START_TEST(test_host_tso)
{
	struct mdev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_SINK);
	struct tap_many *log = calloc(1, sizeof(*log));
	static uint8_t f[6000];
	struct thdr h = {0};
	uint32_t len;

	c.features = F_V1 | VNET_F_CSUM | VNET_F_HOST_TSO4 | VNET_F_HOST_TSO6;
	mdev_start(&d, &c, c.features, 1, 16);
	vnet_model_set_tap(d.m, tap_many_fn, log);
	len = mk_ip(f, false, 6, 3000, true, 1);
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = 1400;
	h.hdr_len = 54;
	h.csum_start = 34;
	h.csum_offset = 16;
	tx_post_hdr(&d.r[1], 0, f, len, &h);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(log->n, 3);
	for (uint32_t i = 0; i < 3; i++) {
		const uint8_t *s = log->f[i], *ip = s + 14, *tcp = ip + 20;
		uint32_t plen = i < 2 ? 1400 : 200;
		uint32_t seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];

		ck_assert_uint_eq(log->len[i], 54 + plen);
		ck_assert_uint_eq((uint32_t)ip[2] << 8 | ip[3], 40 + plen);
		ck_assert_uint_eq((uint32_t)ip[4] << 8 | ip[5], 0x1234 + i);
		ck_assert_uint_eq(seq, 1000 + 1400 * i);
		ck_assert(frame_csum_ok(s, log->len[i]));
		/* FIN and PSH only on the last, CWR only on the first */
		ck_assert_uint_eq(tcp[13], (i == 0 ? 0x80 : 0) | 0x10 | (i == 2 ? 0x09 : 0));
		ck_assert_mem_eq(s + 54, f + 54 + 1400 * i, plen);
	}
	ck_assert_uint_eq(mstats(&d).tx_tso, 1);
	ck_assert_uint_eq(mstats(&d).tx_tso_segs, 3);
	ck_assert_uint_eq(mstats(&d).tx_frames, 1);
	ck_assert_uint_eq(mstats(&d).tx_bytes, len);

	/* IPv6 */
	log->n = 0;
	len = mk_ip(f, true, 6, 2000, true, 2);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	h.gso_size = 1000;
	h.csum_start = 54;
	tx_post_hdr(&d.r[1], 4, f, len, &h);
	vnet_model_poll(d.m);
	ck_assert_uint_eq(log->n, 2);
	for (uint32_t i = 0; i < 2; i++) {
		ck_assert_uint_eq(log->len[i], 74 + 1000);
		ck_assert_uint_eq((uint32_t)log->f[i][18] << 8 | log->f[i][19], 1020);
		ck_assert(frame_csum_ok(log->f[i], log->len[i]));
	}

	/* refused headers */
	{
		const struct {
			uint8_t flags, gso;
			uint16_t size;
		} bad[] = {
			{0, VIRTIO_NET_HDR_GSO_TCPV6, 1000},                                  /* no NEEDS_CSUM */
			{VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 0},           /* no gso_size */
			{VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1000},        /* not IPv4 */
			{VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP, 1000},          /* UFO */
			{VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6 | 0x80, 1000}, /* ECN */
			{VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 1441},        /* 40+20+1441 > mtu */
		};
		uint64_t before = mstats(&d).tx_bad_hdr;

		log->n = 0;
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			h.flags = bad[i].flags;
			h.gso_type = bad[i].gso;
			h.gso_size = bad[i].size;
			tx_post_hdr(&d.r[1], (uint16_t)(8 + i), f, len, &h);
			vnet_model_poll(d.m);
		}
		ck_assert_uint_eq(mstats(&d).tx_bad_hdr, before + 6);
		ck_assert_uint_eq(log->n, 0);
	}
	mdev_stop(&d);

	/* HOST_TSO4 offered, not negotiated */
	mdev_start(&d, &c, F_V1 | VNET_F_CSUM, 1, 16);
	len = mk_ip(f, false, 6, 3000, true, 1);
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = 1400;
	h.csum_start = 34;
	tx_post_hdr(&d.r[1], 0, f, len, &h);
	vnet_model_poll(d.m);
	ck_assert_uint_eq(mstats(&d).tx_bad_hdr, 1);
	mdev_stop(&d);
	free(log);
}
END_TEST

/* A TSO frame reaches a GUEST_TSO receiver whole (spec 5.1.6.4), others
 * as segments. */
START_TEST(test_guest_tso)
{
	struct mdev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_LOOPBACK);
	static uint8_t f[4000];
	struct thdr h = {0};
	uint32_t len;
	const uint8_t *b;

	c.features = F_V1 | VNET_F_CSUM | VNET_F_HOST_TSO4 | VNET_F_GUEST_CSUM | VNET_F_GUEST_TSO4 | VNET_F_MRG_RXBUF;
	mdev_start(&d, &c, c.features, 1, 16);
	for (uint16_t i = 0; i < 8; i++)
		rx_post(&d.r[0], i, BUF_SIZE);
	len = mk_ip(f, false, 6, 3000, true, 1);
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = 1400;
	h.csum_start = 34;
	h.csum_offset = 16;
	tx_post_hdr(&d.r[1], 0, f, len, &h);
	vnet_model_poll(d.m);
	ck_assert_uint_eq(used_idx(&d.r[0]), 2); /* 12 + 3054 bytes, two buffers */
	b = buf(&d.r[0], 0);
	ck_assert_uint_eq(b[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_uint_eq(b[1], VIRTIO_NET_HDR_GSO_TCPV4);
	ck_assert_uint_eq(rd_le16(b + 2), 54);
	ck_assert_uint_eq(rd_le16(b + 4), 1400);
	ck_assert_uint_eq(rd_le16(b + 6), 34);
	ck_assert_uint_eq(rd_le16(b + 8), 16);
	ck_assert_uint_eq(rd_le16(b + 10), 2);
	ck_assert_mem_eq(b + HDR, f, BUF_SIZE - HDR);
	ck_assert_mem_eq(buf(&d.r[0], 1), f + BUF_SIZE - HDR, len - (BUF_SIZE - HDR));
	ck_assert_uint_eq(mstats(&d).rx_gso, 1);
	ck_assert_uint_eq(mstats(&d).tx_tso_segs, 0);
	mdev_stop(&d);

	/* without MRG_RXBUF the receiver's 2048-byte buffers cannot take it */
	mdev_start(&d, &c, c.features & ~VNET_F_MRG_RXBUF, 1, 16);
	rx_post(&d.r[0], 0, BUF_SIZE);
	tx_post_hdr(&d.r[1], 0, f, len, &h);
	vnet_model_poll(d.m);
	ck_assert_uint_eq(used_idx(&d.r[0]), 0);
	ck_assert_uint_eq(mstats(&d).rx_no_buffer, 1);
	mdev_stop(&d);

	/* a receiver without GUEST_TSO4 gets the segments */
	mdev_start(&d, &c, c.features & ~(VNET_F_GUEST_TSO4 | VNET_F_MRG_RXBUF), 1, 16);
	for (uint16_t i = 0; i < 8; i++)
		rx_post(&d.r[0], i, BUF_SIZE);
	tx_post_hdr(&d.r[1], 0, f, len, &h);
	vnet_model_poll(d.m);
	ck_assert_uint_eq(used_idx(&d.r[0]), 3);
	ck_assert_uint_eq(used_at(&d.r[0], 0).len, HDR + 54 + 1400);
	ck_assert_uint_eq(buf(&d.r[0], 0)[1], 0);
	ck_assert(frame_csum_ok(buf(&d.r[0], 2) + HDR, 54 + 200));
	mdev_stop(&d);
}
END_TEST

/* ------------------------------------------------------- indirect -- */

START_TEST(test_indirect_split)
{
	struct mdev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_LOOPBACK);
	struct vring_desc *it = calloc(8, sizeof(*it)), *ir = calloc(8, sizeof(*ir));
	uint8_t f[200], hdr[HDR] = {0}, *rb = calloc(1, BUF_SIZE);

	c.features = F_V1 | VNET_F_INDIRECT_DESC;
	mdev_start(&d, &c, c.features, 1, 8);
	make_frame(f, 200, 5);
	/* RX: one writable entry in a table */
	ir[0] = (struct vring_desc){.addr = (uintptr_t)rb, .len = BUF_SIZE, .flags = VRING_DESC_F_WRITE};
	set_desc(&d.r[0], 0, ir, 16, VRING_DESC_F_INDIRECT, 0);
	publish(&d.r[0], 0);
	/* TX: header, then the frame in two pieces, through next */
	it[0] = (struct vring_desc){.addr = (uintptr_t)hdr, .len = HDR, .flags = VRING_DESC_F_NEXT, .next = 2};
	it[2] = (struct vring_desc){.addr = (uintptr_t)f, .len = 50, .flags = VRING_DESC_F_NEXT, .next = 1};
	it[1] = (struct vring_desc){.addr = (uintptr_t)(f + 50), .len = 150};
	set_desc(&d.r[1], 0, it, 48, VRING_DESC_F_INDIRECT, 0);
	publish(&d.r[1], 0);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(used_at(&d.r[0], 0).len, HDR + 200);
	ck_assert_mem_eq(rb + HDR, f, 200);
	ck_assert_uint_eq(mstats(&d).indirect, 2);

	/* bad tables: len not a multiple of 16, INDIRECT inside, INDIRECT + NEXT */
	set_desc(&d.r[1], 1, it, 40, VRING_DESC_F_INDIRECT, 0);
	publish(&d.r[1], 1);
	it[3] = (struct vring_desc){.addr = (uintptr_t)it, .len = 48, .flags = VRING_DESC_F_INDIRECT};
	set_desc(&d.r[1], 2, it + 3, 16, VRING_DESC_F_INDIRECT, 0);
	publish(&d.r[1], 2);
	set_desc(&d.r[1], 3, it, 48, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 4);
	set_desc(&d.r[1], 4, hdr, HDR, 0, 0);
	publish(&d.r[1], 3);
	ck_assert_uint_eq(vnet_model_poll(d.m), 3);
	ck_assert_uint_eq(mstats(&d).bad_desc, 3);
	ck_assert_uint_eq(mstats(&d).tx_frames, 1);
	mdev_stop(&d);

	/* not negotiated: INDIRECT is bad */
	mdev_start(&d, &c, F_V1, 1, 8);
	set_desc(&d.r[1], 0, it, 48, VRING_DESC_F_INDIRECT, 0);
	publish(&d.r[1], 0);
	vnet_model_poll(d.m);
	ck_assert_uint_eq(mstats(&d).bad_desc, 1);
	ck_assert_uint_eq(mstats(&d).indirect, 0);
	mdev_stop(&d);
	free(it);
	free(ir);
	free(rb);
}
END_TEST

/* ---------------------------------------------------- packed ring -- */

/* The packed ring, driver side, by hand (spec 2.8). */
struct tpk {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};
struct tev {
	uint16_t desc, flags;
};
#define TPK_AVAIL (1u << 7)
#define TPK_USED (1u << 15)

struct pring {
	uint16_t size;
	void *mem;
	volatile struct tpk *desc;
	struct tev *drv;
	volatile struct tev *dev;
	uint16_t avail; /* next position to fill (free-running) */
	uint16_t used;  /* next position to read */
	uint8_t *bufs;  /* BUF_SIZE per position slot */
};

struct pdev {
	struct vnet_model *m;
	struct vnet_transport *t;
	struct pring rx, tx;
};

static void pring_init(struct pring *r, uint16_t size)
{
	memset(r, 0, sizeof(*r));
	r->size = size;
	/* a multiple of the alignment, as aligned_alloc wants */
	r->mem = aligned_alloc(4096, 4096 + ((16u * size + 4095) & ~4095u));
	ck_assert_ptr_nonnull(r->mem);
	memset(r->mem, 0, 4096 + ((16u * size + 4095) & ~4095u));
	r->desc = r->mem;
	r->drv = (struct tev *)((uint8_t *)r->mem + 16u * size);
	r->dev = (struct tev *)((uint8_t *)r->mem + 16u * size + 64);
	r->bufs = aligned_alloc(64, (size_t)size * BUF_SIZE);
	memset(r->bufs, 0, (size_t)size * BUF_SIZE);
}

static void pring_free(struct pring *r)
{
	free(r->mem);
	free(r->bufs);
}

static bool pwrap(const struct pring *r, uint16_t pos) { return (pos & r->size) == 0; }
static uint8_t *pbuf(struct pring *r, uint16_t pos) { return r->bufs + (size_t)(pos & (r->size - 1)) * BUF_SIZE; }

/* Write the descriptor at the next position; its flags become visible
 * unless @hold (then pring_show() exposes them later). */
static uint16_t pring_put(struct pring *r, uint16_t id, const void *addr, uint32_t len, uint16_t flags, bool hold)
{
	uint16_t pos = r->avail++;
	volatile struct tpk *d = &r->desc[pos & (r->size - 1)];
	uint16_t f = (uint16_t)(flags | (pwrap(r, pos) ? TPK_AVAIL : TPK_USED));

	d->addr = (uintptr_t)addr;
	d->len = len;
	d->id = id;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (!hold)
		d->flags = f;
	return f;
}

static void pring_show(struct pring *r, uint16_t pos, uint16_t f)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	r->desc[pos & (r->size - 1)].flags = f;
}

/* Read the used descriptor at the next used position (and skip @skip
 * positions in all). false if it is not used yet. */
static bool pring_get(struct pring *r, uint16_t *id, uint32_t *len, uint16_t *flags, uint16_t skip)
{
	volatile struct tpk *d = &r->desc[r->used & (r->size - 1)];
	uint16_t f = d->flags, want = pwrap(r, r->used) ? (TPK_AVAIL | TPK_USED) : 0;

	if ((f & (TPK_AVAIL | TPK_USED)) != want)
		return false;
	*id = d->id;
	*len = d->len;
	*flags = f;
	r->used = (uint16_t)(r->used + skip);
	return true;
}

static void pdev_start(struct pdev *d, const struct vnet_model_conf *conf, uint64_t want, uint16_t size)
{
	struct vnet_vq_addrs a;

	memset(d, 0, sizeof(*d));
	ck_assert_int_eq(vnet_model_create(&d->m, conf), 0);
	d->t = vnet_model_transport(d->m);
	ck_assert_int_eq(handshake(d->t, want), 0);
	pring_init(&d->rx, size);
	pring_init(&d->tx, size);
	a = (struct vnet_vq_addrs){(uintptr_t)d->rx.desc, (uintptr_t)d->rx.drv, (uintptr_t)d->rx.dev};
	ck_assert_int_eq(d->t->ops->queue_setup(d->t, 0, size, &a), 0);
	a = (struct vnet_vq_addrs){(uintptr_t)d->tx.desc, (uintptr_t)d->tx.drv, (uintptr_t)d->tx.dev};
	ck_assert_int_eq(d->t->ops->queue_setup(d->t, 1, size, &a), 0);
	d->t->ops->set_status(d->t, S_ACK | S_DRV | S_FOK | S_DOK);
}

static struct vnet_model_stats pstats(const struct pdev *d)
{
	struct vnet_model_stats s;

	vnet_model_stats(d->m, &s);
	return s;
}

static void pdev_stop(struct pdev *d)
{
	d->t->ops->reset(d->t);
	vnet_model_destroy(d->m);
	pring_free(&d->rx);
	pring_free(&d->tx);
}

static void ptx(struct pring *r, uint16_t id, const uint8_t *f, uint32_t len)
{
	uint8_t *b = pbuf(r, r->avail);

	memset(b, 0, HDR);
	memcpy(b + HDR, f, len);
	pring_put(r, id, b, HDR + len, 0, false);
}

static void prx(struct pring *r, uint16_t id, uint32_t len)
{
	pring_put(r, id, pbuf(r, r->avail), len, VRING_DESC_F_WRITE, false);
}

struct peek {
	struct pring *tx;
	uint32_t calls, seen_used;
};

/* From inside a poll (the tap): is the first TX completion visible yet? */
static void peek_tap(const uint8_t *frame, uint32_t len, void *arg)
{
	struct peek *p = arg;
	uint16_t f = p->tx->desc[0].flags;

	(void)frame;
	(void)len;
	p->calls++;
	if ((f & (TPK_AVAIL | TPK_USED)) == (TPK_AVAIL | TPK_USED))
		p->seen_used++;
}

START_TEST(test_packed_loopback)
{
	struct pdev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_LOOPBACK);
	struct peek pk;
	uint8_t f[100];
	uint16_t id, fl;
	uint32_t len;

	c.features = F_V1 | VNET_F_RING_PACKED;
	pdev_start(&d, &c, c.features, 4);
	/* no EVENT_IDX: the device area says DISABLE (spec 2.8.10) */
	ck_assert_uint_eq(d.tx.dev->flags, 1);
	ck_assert_uint_eq(d.rx.dev->flags, 1);
	/* laps: 4-entry rings, 10 rounds of 3 frames (ids chosen freely) */
	for (uint32_t round = 0; round < 10; round++) {
		for (uint16_t i = 0; i < 3; i++)
			prx(&d.rx, (uint16_t)(100 + i), BUF_SIZE);
		for (uint16_t i = 0; i < 3; i++) {
			make_frame(f, 100, (uint8_t)(round * 3 + i));
			ptx(&d.tx, (uint16_t)(200 + i), f, (uint32_t)(60 + i));
		}
		ck_assert_uint_eq(vnet_model_poll(d.m), 3);
		for (uint16_t i = 0; i < 3; i++) {
			uint16_t pos = d.rx.used;

			ck_assert(pring_get(&d.tx, &id, &len, &fl, 1));
			ck_assert_uint_eq(id, 200 + i);
			ck_assert_uint_eq(fl & VRING_DESC_F_WRITE, 0); /* nothing written */
			ck_assert(pring_get(&d.rx, &id, &len, &fl, 1));
			ck_assert_uint_eq(id, 100 + i);
			ck_assert_uint_eq(len, HDR + 60 + i);
			ck_assert_uint_eq(fl & VRING_DESC_F_WRITE, VRING_DESC_F_WRITE);
			make_frame(f, 100, (uint8_t)(round * 3 + i));
			check_rx_hdr(pbuf(&d.rx, pos), HDR);
			ck_assert_mem_eq(pbuf(&d.rx, pos) + HDR, f, 60 + i);
		}
		ck_assert(!pring_get(&d.tx, &id, &len, &fl, 1));
	}
	ck_assert_uint_eq(pstats(&d).rx_frames, 30);
	ck_assert_uint_eq(pstats(&d).bad_desc, 0);

	/* a TX chain: header and frame in two descriptors, the id in the last
	 * (spec 2.8.6); the used descriptor skips both positions */
	{
		uint16_t head = d.tx.avail, hf;
		uint8_t *h = pbuf(&d.tx, head), *b = pbuf(&d.tx, (uint16_t)(head + 1));

		memset(h, 0, HDR);
		make_frame(b, 80, 77);
		prx(&d.rx, 9, BUF_SIZE);
		hf = pring_put(&d.tx, 0xdead, h, HDR, VRING_DESC_F_NEXT, true);
		pring_put(&d.tx, 5, b, 80, 0, false);
		ck_assert_uint_eq(vnet_model_poll(d.m), 0); /* the head is not out yet */
		pring_show(&d.tx, head, hf);
		ck_assert_uint_eq(vnet_model_poll(d.m), 1);
		ck_assert(pring_get(&d.tx, &id, &len, &fl, 2));
		ck_assert_uint_eq(id, 5);
		ck_assert(pring_get(&d.rx, &id, &len, &fl, 1));
		ck_assert_uint_eq(len, HDR + 80);
	}

	/* publish once: inside the poll (the tap runs there) the first TX
	 * completion of the poll is not visible yet, after it is */
	memset(&pk, 0, sizeof(pk));
	pk.tx = &d.tx;
	vnet_model_set_tap(d.m, peek_tap, &pk);
	ck_assert_uint_eq(d.tx.avail & 3, 0); /* these two take slots 0 and 1 */
	for (uint16_t i = 0; i < 2; i++) {
		prx(&d.rx, i, BUF_SIZE);
		ptx(&d.tx, i, f, 60);
	}
	ck_assert_uint_eq(vnet_model_poll(d.m), 2);
	ck_assert_uint_eq(pk.calls, 2);
	ck_assert_uint_eq(pk.seen_used, 0); /* slot 0: the poll's first completion, held */
	ck_assert(pring_get(&d.tx, &id, &len, &fl, 1));
	ck_assert(pring_get(&d.tx, &id, &len, &fl, 1));
	vnet_model_set_tap(d.m, NULL, NULL);
	pdev_stop(&d);
}
END_TEST

START_TEST(test_packed_features)
{
	struct pdev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_LOOPBACK);
	uint8_t f[1000];
	uint16_t id, fl;
	uint32_t len;

	/* EVENT_IDX: DESC one ring ahead of the next position to read */
	c.features = F_V1 | VNET_F_RING_PACKED | VNET_F_EVENT_IDX | VNET_F_MRG_RXBUF | VNET_F_INDIRECT_DESC;
	pdev_start(&d, &c, c.features, 8);
	ck_assert_uint_eq(d.tx.dev->flags, 2);
	ck_assert_uint_eq(d.tx.dev->desc, 0); /* position 8: slot 0, wrap 0 */
	make_frame(f, 1000, 3);
	for (uint16_t i = 0; i < 5; i++)
		prx(&d.rx, (uint16_t)(40 + i), 300);
	ptx(&d.tx, 1, f, 1000);
	ck_assert_uint_eq(vnet_model_poll(d.m), 1);
	ck_assert_uint_eq(d.tx.dev->desc, 1); /* position 9: slot 1, wrap 0 */
	/* MRG over the packed ring: four buffers, num_buffers in the first */
	for (uint16_t i = 0; i < 4; i++) {
		ck_assert(pring_get(&d.rx, &id, &len, &fl, 1));
		ck_assert_uint_eq(id, 40 + i);
		ck_assert_uint_eq(len, i < 3 ? 300 : 112);
	}
	ck_assert_uint_eq(rd_le16(pbuf(&d.rx, 0) + 10), 4);
	ck_assert_mem_eq(pbuf(&d.rx, 1), f + 288, 300);
	/* indirect, packed (spec 2.8.7): the table's entries in order */
	{
		struct tpk *t = calloc(2, sizeof(*t));
		uint8_t *h = calloc(1, HDR);

		t[0] = (struct tpk){.addr = (uintptr_t)h, .len = HDR};
		t[1] = (struct tpk){.addr = (uintptr_t)f, .len = 70};
		pring_put(&d.tx, 3, t, 32, VRING_DESC_F_INDIRECT, false);
		ck_assert_uint_eq(vnet_model_poll(d.m), 1);
		ck_assert(pring_get(&d.tx, &id, &len, &fl, 1));
		ck_assert(pring_get(&d.tx, &id, &len, &fl, 1));
		ck_assert_uint_eq(id, 3);
		ck_assert(pring_get(&d.rx, &id, &len, &fl, 1));
		ck_assert_uint_eq(len, HDR + 70);
		ck_assert_uint_eq(pstats(&d).indirect, 1);
		free(t);
		free(h);
	}
	pdev_stop(&d);

	/* want_notify without EVENT_IDX: ENABLE */
	c.features = F_V1 | VNET_F_RING_PACKED;
	c.want_notify = true;
	pdev_start(&d, &c, c.features, 8);
	ck_assert_uint_eq(d.rx.dev->flags, 0);
	pdev_stop(&d);
}
END_TEST

/* Packed faults cost the driver the buffer they hit (see model.c). */
START_TEST(test_packed_faults)
{
	struct pdev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_SINK);
	uint8_t f[60];
	uint16_t id, fl;
	uint32_t len;

	c.features = F_V1 | VNET_F_RING_PACKED;
	pdev_start(&d, &c, c.features, 4);
	make_frame(f, 60, 1);
	vnet_model_fault(d.m, VNET_FAULT_USED_ID_RANGE, 1);
	ptx(&d.tx, 1, f, 60);
	ptx(&d.tx, 2, f, 60);
	ck_assert_uint_eq(vnet_model_poll(d.m), 2);
	ck_assert(pring_get(&d.tx, &id, &len, &fl, 1));
	ck_assert_uint_eq(id, 4); /* = size */
	ck_assert(pring_get(&d.tx, &id, &len, &fl, 1));
	ck_assert_uint_eq(id, 2);
	/* wrong wrap state: AVAIL == USED == the other lap's */
	vnet_model_fault(d.m, VNET_FAULT_USED_IDX_JUMP, 1);
	ptx(&d.tx, 3, f, 60);
	vnet_model_poll(d.m);
	ck_assert(!pring_get(&d.tx, &id, &len, &fl, 1));
	ck_assert_uint_eq(d.tx.desc[2].flags & (TPK_AVAIL | TPK_USED), 0);
	d.tx.used++;
	/* DUP: the next completion repeats the id */
	vnet_model_fault(d.m, VNET_FAULT_USED_DUP, 1);
	ptx(&d.tx, 7, f, 60);
	ptx(&d.tx, 8, f, 60);
	vnet_model_poll(d.m);
	ck_assert(pring_get(&d.tx, &id, &len, &fl, 1));
	ck_assert_uint_eq(id, 7);
	ck_assert(pring_get(&d.tx, &id, &len, &fl, 1));
	ck_assert_uint_eq(id, 7);
	ck_assert_uint_eq(pstats(&d).faults_fired, 3);
	ck_assert_uint_eq(pstats(&d).tx_frames, 5);

	/* a chain that runs past the available descriptors: device error */
	pring_put(&d.tx, 9, pbuf(&d.tx, d.tx.avail), HDR + 60, VRING_DESC_F_NEXT, false);
	vnet_model_poll(d.m);
	ck_assert_uint_ne(d.t->ops->get_status(d.t) & S_NR, 0);
	pdev_stop(&d);
}
END_TEST

START_TEST(test_packed_in_order)
{
	struct pdev d;
	struct vnet_model_conf c = conf_backend(VNET_MODEL_SINK);
	uint8_t f[60];
	uint16_t id, fl;
	uint32_t len;

	c.features = F_V1 | VNET_F_RING_PACKED | VNET_F_IN_ORDER;
	pdev_start(&d, &c, c.features, 8);
	make_frame(f, 60, 1);
	for (uint16_t i = 0; i < 3; i++)
		ptx(&d.tx, (uint16_t)(10 + i), f, 60);
	ck_assert_uint_eq(vnet_model_poll(d.m), 3);
	/* spec 2.8.8: one used descriptor with the last id, at the batch's
	 * first position; the others are skipped */
	ck_assert(pring_get(&d.tx, &id, &len, &fl, 3));
	ck_assert_uint_eq(id, 12);
	ck_assert_uint_eq(d.tx.desc[1].flags & (TPK_AVAIL | TPK_USED), TPK_AVAIL);
	ck_assert_uint_eq(pstats(&d).used_batches, 1);
	ptx(&d.tx, 20, f, 60);
	vnet_model_poll(d.m);
	ck_assert(pring_get(&d.tx, &id, &len, &fl, 1));
	ck_assert_uint_eq(id, 20);
	pdev_stop(&d);
}
END_TEST

static Suite *model_suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc;

	tc = tcase_create("lifecycle");
	tcase_add_test(tc, test_create_conf);
	tcase_add_test(tc, test_handshake_features);
	tcase_add_test(tc, test_reset_stuck);
	tcase_add_test(tc, test_queue_setup);
	tcase_add_test(tc, test_config);
	tcase_add_test(tc, test_config_churn);
	suite_add_tcase(s, tc);

	tc = tcase_create("datapath");
	tcase_add_test(tc, test_loopback);
	tcase_add_test(tc, test_legacy_header);
	tcase_add_test(tc, test_loopback_drops);
	tcase_add_test(tc, test_sink_tap);
	tcase_add_test(tc, test_source);
	tcase_add_test(tc, test_source_budget_generator);
	tcase_add_test(tc, test_reflector);
	tcase_add_test(tc, test_wire);
	tcase_add_test(tc, test_latency);
	tcase_add_test(tc, test_bad_desc_tx);
	tcase_add_test(tc, test_bad_desc_rx);
	tcase_add_test(tc, test_bad_avail_idx);
	tcase_add_test(tc, test_notify_suppression);
	suite_add_tcase(s, tc);

	tc = tcase_create("faults");
	tcase_add_test(tc, test_fault_used_id_range);
	tcase_add_test(tc, test_fault_used_id_idle);
	tcase_add_test(tc, test_fault_used_dup);
	tcase_add_test(tc, test_fault_extra_needs_room);
	tcase_add_test(tc, test_fault_used_len);
	tcase_add_test(tc, test_fault_used_idx_jump);
	tcase_add_test(tc, test_fault_needs_reset);
	tcase_add_test(tc, test_fault_bad_csum);
	suite_add_tcase(s, tc);

	tc = tcase_create("control");
	tcase_add_test(tc, test_ctrl_commands);
	tcase_add_test(tc, test_ctrl_features_needed);
	tcase_add_test(tc, test_rx_filter);
	tcase_add_test(tc, test_multiqueue);
	tcase_add_test(tc, test_speed_duplex);
	suite_add_tcase(s, tc);

	tc = tcase_create("offloads");
	tcase_add_test(tc, test_tx_csum);
	tcase_add_test(tc, test_rx_csum);
	tcase_add_test(tc, test_mrg_rxbuf);
	tcase_add_test(tc, test_host_tso);
	tcase_add_test(tc, test_guest_tso);
	suite_add_tcase(s, tc);

	tc = tcase_create("rings");
	tcase_add_test(tc, test_in_order_split);
	tcase_add_test(tc, test_indirect_split);
	tcase_add_test(tc, test_packed_loopback);
	tcase_add_test(tc, test_packed_features);
	tcase_add_test(tc, test_packed_faults);
	tcase_add_test(tc, test_packed_in_order);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(model_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
