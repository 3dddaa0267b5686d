/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two vnet interfaces joined by the device model's wire, in one process:
 * the rig the lwIP tests (and the TCP benchmark's shape) use. Everything
 * is polled from one loop, alternately; every loop is bounded in count
 * and in time.
 */
#ifndef VNET_TESTS_LWIP_RIG_H
#define VNET_TESTS_LWIP_RIG_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vnet/iface.h>
#include <vnet/model.h>
#include <vnet/vnet.h>

#define IP_A 0x0A000001u /* 10.0.0.1 */
#define IP_B 0x0A000002u /* 10.0.0.2 */
#define MASK24 0xFFFFFF00u

struct side {
	struct vnet_model *m;
	struct vnet_pool *pool;
	struct vnet_pool *jumbo; /* TX buffers for large frames (rig_opts.jumbo_count), or NULL */
	struct vnet_dev *dev;
	struct vnet_iface *ifc;
	uint32_t in_use_start; /* pool in-use once the device is open */
};

struct pair {
	struct side a, b;
};

static inline uint64_t rig_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* One side's device, as the offload tests vary it. Zero fields: defaults. */
struct rig_opts {
	uint64_t offer;        /* model: features offered (its defaults) */
	uint64_t want;         /* driver: features asked (VNET_F_DEFAULT) */
	uint16_t mtu;          /* model: MTU in config and the largest frame it passes (1500) */
	uint8_t rx_csum;       /* model: VNET_MODEL_RX_CSUM_* (NONE) */
	uint8_t duplex;        /* model: VNET_MODEL_DUPLEX_* (unknown) */
	uint32_t speed;        /* model: Mbit/s (unknown) */
	uint32_t pool_count;   /* RX/TX pool buffers (1024) */
	uint32_t buf_size;     /* their size (2048) */
	uint32_t jumbo_count;  /* jumbo TX pool buffers (0: no jumbo pool) */
	uint32_t jumbo_size;   /* their size (65536) */
};

static inline void side_open_opts(struct side *s, uint8_t mac_last, const struct rig_opts *o)
{
	struct vnet_model_conf mc;
	struct vnet_pool_conf pc;
	struct vnet_dev_conf dc;

	memset(s, 0, sizeof(*s));
	memset(&mc, 0, sizeof(mc));
	mc.backend = VNET_MODEL_WIRE;
	mc.mac[0] = 0x52; mc.mac[1] = 0x54; mc.mac[5] = mac_last;
	mc.features = o->offer;
	mc.mtu = o->mtu;
	mc.rx_csum = o->rx_csum;
	mc.duplex = o->duplex;
	mc.speed = o->speed;
	memset(&pc, 0, sizeof(pc));
	pc.count = o->pool_count ? o->pool_count : 1024;
	pc.buf_size = o->buf_size;
	ck_assert_int_eq(vnet_model_create(&s->m, &mc), 0);
	ck_assert_int_eq(vnet_pool_create(&s->pool, &pc), 0);
	if (o->jumbo_count) {
		memset(&pc, 0, sizeof(pc));
		pc.count = o->jumbo_count;
		pc.buf_size = o->jumbo_size ? o->jumbo_size : 65536;
		ck_assert_int_eq(vnet_pool_create(&s->jumbo, &pc), 0);
	}
	memset(&dc, 0, sizeof(dc));
	dc.pool = s->pool;
	dc.features = o->want;
	ck_assert_int_eq(vnet_dev_open(&s->dev, vnet_model_transport(s->m), &dc), 0);
	s->in_use_start = vnet_pool_in_use(s->pool);
}

static inline void side_open(struct side *s, uint8_t mac_last, uint32_t pool_count)
{
	struct rig_opts o;

	memset(&o, 0, sizeof(o));
	o.pool_count = pool_count;
	side_open_opts(s, mac_last, &o);
}

/* Give back what the device still holds on TX, fill RX again: the pool's
 * in-use count must then be what it was right after vnet_dev_open. */
static inline void side_settle(struct side *s)
{
	int i;

	for (i = 0; i < 8; i++) {
		vnet_model_poll(s->m);
		vnet_tx_reclaim(s->dev, 0);
		vnet_rx_refill(s->dev, 0);
	}
}

static inline void side_close(struct side *s)
{
	if (s->ifc != NULL) {
		vnet_iface_close(s->ifc);
		s->ifc = NULL;
	}
	if (s->dev != NULL) {
		side_settle(s);
		ck_assert_uint_eq(vnet_pool_in_use(s->pool), s->in_use_start);
		if (s->jumbo != NULL)
			ck_assert_uint_eq(vnet_pool_in_use(s->jumbo), 0);
		vnet_dev_close(s->dev);
		s->dev = NULL;
	}
	if (s->jumbo != NULL) {
		ck_assert_uint_eq(vnet_pool_in_use(s->jumbo), 0);
		ck_assert_int_eq(vnet_pool_destroy(s->jumbo), 0);
		s->jumbo = NULL;
	}
	if (s->pool != NULL) {
		ck_assert_uint_eq(vnet_pool_in_use(s->pool), 0);
		ck_assert_int_eq(vnet_pool_destroy(s->pool), 0);
		s->pool = NULL;
	}
	if (s->m != NULL) {
		vnet_model_destroy(s->m);
		s->m = NULL;
	}
}

static inline void pair_open(struct pair *p, uint32_t pool_count)
{
	side_open(&p->a, 1, pool_count);
	side_open(&p->b, 2, pool_count);
	ck_assert_int_eq(vnet_model_wire(p->a.m, p->b.m), 0);
}

/* Sides with options (NULL: defaults). */
static inline void pair_open_opts(struct pair *p, const struct rig_opts *a, const struct rig_opts *b)
{
	struct rig_opts none;

	memset(&none, 0, sizeof(none));
	side_open_opts(&p->a, 1, a != NULL ? a : &none);
	side_open_opts(&p->b, 2, b != NULL ? b : &none);
	ck_assert_int_eq(vnet_model_wire(p->a.m, p->b.m), 0);
}

/* Interfaces with options (NULL: defaults). */
static inline void pair_up(struct pair *p, const struct vnet_iface_conf *ca, const struct vnet_iface_conf *cb)
{
	struct vnet_iface_conf a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (ca != NULL)
		a = *ca;
	if (cb != NULL)
		b = *cb;
	a.ip = IP_A; a.netmask = MASK24; a.pool = p->a.pool;
	b.ip = IP_B; b.netmask = MASK24; b.pool = p->b.pool;
	if (a.tx_jumbo_pool == NULL)
		a.tx_jumbo_pool = p->a.jumbo;
	if (b.tx_jumbo_pool == NULL)
		b.tx_jumbo_pool = p->b.jumbo;
	ck_assert_int_eq(vnet_iface_init_conf(&p->a.ifc, p->a.dev, &a), 0);
	ck_assert_int_eq(vnet_iface_init_conf(&p->b.ifc, p->b.dev, &b), 0);
}

/*
 * One step of the whole system: each interface, then each device.
 * @return work done (0 when idle).
 */
static inline int pair_step(struct pair *p)
{
	int w = 0, r;

	r = vnet_iface_poll(p->a.ifc);
	w += r > 0 ? r : 0;
	w += (int)vnet_model_poll(p->a.m);
	r = vnet_iface_poll(p->b.ifc);
	w += r > 0 ? r : 0;
	w += (int)vnet_model_poll(p->b.m);
	return w;
}

typedef bool (*pair_done_fn)(void *arg);
typedef void (*pair_tick_fn)(void *arg);

/*
 * Step until @done (or forever-bounded: @max_steps steps, @max_ms
 * milliseconds). An idle step sleeps a little: lwIP's timers run on real
 * time. @tick runs every step (application work, e.g. feeding a sender).
 */
static inline bool pair_run(struct pair *p, pair_done_fn done, pair_tick_fn tick, void *arg,
                            uint64_t max_steps, uint32_t max_ms)
{
	uint64_t start = rig_now_us(), n;

	for (n = 0; n < max_steps; n++) {
		if (done != NULL && done(arg))
			return true;
		if (tick != NULL)
			tick(arg);
		if (pair_step(p) == 0)
			usleep(200);
		if (rig_now_us() - start > (uint64_t)max_ms * 1000u)
			break;
	}
	return done != NULL && done(arg);
}

static inline void pair_close(struct pair *p)
{
	if (p->a.ifc != NULL) {
		vnet_iface_close(p->a.ifc);
		p->a.ifc = NULL;
	}
	if (p->b.ifc != NULL) {
		vnet_iface_close(p->b.ifc);
		p->b.ifc = NULL;
	}
	side_close(&p->a);
	side_close(&p->b);
}

/* The byte at stream offset @i of the test pattern: no short period. */
static inline uint8_t pattern_at(uint64_t i)
{
	return (uint8_t)(i ^ (i >> 8) ^ (i >> 16) ^ (i >> 24) ^ 0x5a);
}

static inline void pattern_fill(uint8_t *buf, uint64_t off, size_t len)
{
	size_t k;

	for (k = 0; k < len; k++)
		buf[k] = pattern_at(off + k);
}

#endif
