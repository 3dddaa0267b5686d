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
#include "virtio/transport.h"
#include "virtio/virtio_spec.h"

#define BUF_SIZE 2048u
#define HDR 12u
#define S_ACK VIRTIO_STATUS_ACKNOWLEDGE
#define S_DRV VIRTIO_STATUS_DRIVER
#define S_FOK VIRTIO_STATUS_FEATURES_OK
#define S_DOK VIRTIO_STATUS_DRIVER_OK
#define S_NR VIRTIO_STATUS_DEVICE_NEEDS_RESET

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
	ck_assert_uint_eq(t->ops->get_features(t), VNET_F_DEFAULT);
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

	const struct {
		uint16_t queue_max, mtu, source_len;
		int backend;
		uint64_t features;
	} bad[] = {
		{3, 0, 0, 0, 0},
		{1000, 0, 0, 0, 0},
		{0, 67, 0, 0, 0},
		{0, 0, 13, 0, 0},
		{0, 0, 0, 99, 0},
		{0, 0, 0, 0, VNET_F_VERSION_1 | VNET_F_CTRL_VQ},
		{0, 0, 0, 0, VNET_F_VERSION_1 | VNET_F_RING_PACKED},
		{0, 0, 0, 0, VNET_F_VERSION_1 | VNET_F_INDIRECT_DESC},
		{0, 0, 0, 0, VNET_F_VERSION_1 | VNET_F_GUEST_TSO4},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.queue_max = bad[i].queue_max;
		c.mtu = bad[i].mtu;
		c.source_len = bad[i].source_len;
		c.backend = (enum vnet_model_backend)bad[i].backend;
		c.features = bad[i].features;
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
