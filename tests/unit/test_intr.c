/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vnet_dev_rx_intr_enable/disable over the model, for both ring layouts,
 * with EVENT_IDX and with the flags form: what the request writes into
 * the driver area (used_event, avail flags, driver event suppression with
 * its wrap counter), that a frame already there says "do not sleep", and
 * that disable puts the ring back to no notifications.
 */
#include <errno.h>

#include "net/dev.h"
#include "testutil.h"

#define F_BASE (VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_STATUS)

struct layout {
	const char *name;
	uint64_t features;
};

static const struct layout layouts[] = {
	{"split, EVENT_IDX", F_BASE | VNET_F_EVENT_IDX},
	{"split, flags", F_BASE},
	{"packed, EVENT_IDX", F_BASE | VNET_F_EVENT_IDX | VNET_F_RING_PACKED},
	{"packed, flags", F_BASE | VNET_F_RING_PACKED},
};

static void open_layout(struct rig *r, const struct layout *l)
{
	struct vnet_model_conf mc = {.features = l->features, .backend = VNET_MODEL_LOOPBACK};
	struct vnet_dev_conf dc = {.features = l->features, .rx_ring_size = 64, .tx_ring_size = 64};

	ck_assert_int_eq(rig_open(r, &mc, &dc, 512, 1), 0);
}

/* The notification request as the device reads it: true when the driver
 * asks to be told about the used entry at the harvest position. */
static int requested(const struct vnet_vq *q)
{
	if (q->packed) {
		uint16_t f = q->pk_driver->flags, d = q->pk_driver->desc;
		uint16_t pos = q->last_used;
		uint16_t want = (uint16_t)((pos & q->mask) | ((pos & q->size) ? 0 : 0x8000));

		if (q->event_idx)
			return f == 2 && d == want; /* RING_EVENT_FLAGS_DESC */
		return f == 0;                  /* RING_EVENT_FLAGS_ENABLE */
	}
	if (q->event_idx)
		return *q->used_event == q->last_used;
	return q->avail->flags == 0;
}

/* Send @n frames through the loopback and harvest them all. */
static void traffic(struct rig *r, uint32_t n)
{
	uint32_t done = 0, iter;

	for (iter = 0; done < n && iter < 4 * n + 100; iter++) {
		struct vnet_buf *b, *in[32];
		uint16_t k, i;

		if (vnet_pool_alloc_bulk(r->pool, &b, 1) == 0) {
			memset(b->data, 0xab, 60);
			b->len = 60;
			if (vnet_tx_burst(r->dev, 0, &b, 1) != 1)
				vnet_pool_free_bulk(&b, 1);
		}
		vnet_model_poll(r->m);
		k = vnet_rx_burst(r->dev, 0, in, 32);
		for (i = 0; i < k; i++)
			vnet_buf_free(in[i]);
		done += k;
		vnet_rx_refill(r->dev, 0);
	}
	ck_assert_uint_eq(done, n);
}

START_TEST(arm_check_disarm)
{
	const struct layout *l = &layouts[_i];
	struct vnet_buf *b, *in[4];
	struct vnet_vq *q;
	struct rig r;

	open_layout(&r, l);
	q = &r.dev->rxq[0];
	ck_assert_msg(!requested(q), "%s: no notifications after open", l->name);
	/* nothing there: armed, the caller may sleep */
	ck_assert_int_eq(vnet_dev_rx_intr_enable(r.dev, 0), 0);
	ck_assert_msg(requested(q), "%s: armed", l->name);
	vnet_dev_rx_intr_disable(r.dev, 0);
	ck_assert_msg(!requested(q), "%s: disarmed", l->name);

	/* a frame arrives before the request: do not sleep */
	ck_assert_int_eq(vnet_pool_alloc_bulk(r.pool, &b, 1), 0);
	memset(b->data, 0xcd, 60);
	b->len = 60;
	ck_assert_uint_eq(vnet_tx_burst(r.dev, 0, &b, 1), 1);
	vnet_model_poll(r.m);
	ck_assert_int_eq(vnet_dev_rx_intr_enable(r.dev, 0), 1);
	vnet_dev_rx_intr_disable(r.dev, 0);
	ck_assert_uint_eq(vnet_rx_burst(r.dev, 0, in, 4), 1);
	vnet_buf_free(in[0]);
	vnet_rx_refill(r.dev, 0);

	/* across the ring's end (packed: the wrap counter flips) the request
	 * still names the harvest position */
	traffic(&r, 3 * 64 + 5);
	ck_assert_int_eq(vnet_dev_rx_intr_enable(r.dev, 0), 0);
	ck_assert_msg(requested(q), "%s: armed after wrapping", l->name);
	vnet_dev_rx_intr_disable(r.dev, 0);
	ck_assert_msg(!requested(q), "%s: disarmed after wrapping", l->name);
	rig_close(&r);
}
END_TEST

START_TEST(bad_arguments)
{
	struct rig r;

	ck_assert_int_eq(vnet_dev_rx_intr_enable(NULL, 0), -EINVAL);
	vnet_dev_rx_intr_disable(NULL, 0); /* ignored */
	open_layout(&r, &layouts[0]);
	ck_assert_int_eq(vnet_dev_rx_intr_enable(r.dev, 1), -EINVAL); /* one pair */
	vnet_dev_rx_intr_disable(r.dev, 7);
	ck_assert(!requested(&r.dev->rxq[0]));
	rig_close(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("intr");
	TCase *tc = tcase_create("rx_intr");

	tcase_add_loop_test(tc, arm_check_disarm, 0, (int)(sizeof(layouts) / sizeof(layouts[0])));
	tcase_add_test(tc, bad_arguments);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
