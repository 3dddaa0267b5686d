/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VIRTIO_F_RING_RESET (spec 2.6.1) in recovery, over the device model: a
 * queue the device broke is reset and enabled again alone, the others
 * keep running with their buffers (TX frames in flight are still sent),
 * every buffer of the reset queue goes back to the pool; a device that
 * does not offer the feature, whose queue reset never completes or is
 * ignored, or that needs a reset as a whole, gets the whole-device reset.
 */
#include <errno.h>

#include "testutil.h"

#define F_BASE (VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_MTU | VNET_F_STATUS | VNET_F_EVENT_IDX)
#define RING 64

static int open_dev(struct rig *r, uint64_t offer, uint64_t want, enum vnet_model_backend be, uint32_t latency)
{
	struct vnet_model_conf mc = {.features = offer, .backend = be, .latency = latency};
	struct vnet_dev_conf dc = {.features = want, .rx_ring_size = RING, .tx_ring_size = RING};

	return rig_open(r, &mc, &dc, 1024, 1);
}

/* Send @n 100-byte frames from the pool. */
static void send(struct rig *r, uint16_t n)
{
	struct vnet_buf *b[RING];

	ck_assert_int_eq(vnet_pool_alloc_bulk(r->pool, b, n), 0);
	for (uint16_t i = 0; i < n; i++) {
		memset(b[i]->data, 0x11, 100);
		b[i]->len = 100;
	}
	ck_assert_uint_eq(vnet_tx_burst(r->dev, 0, b, n), n);
}

/* Poll the device and take what arrived (back to the pool). */
static uint32_t drain_rx(struct rig *r, int polls)
{
	struct vnet_buf *in[RING];
	uint32_t got = 0;

	for (int p = 0; p < polls; p++) {
		uint16_t m;

		vnet_model_poll(r->m);
		while ((m = vnet_rx_burst(r->dev, 0, in, RING)) > 0) {
			got += m;
			vnet_pool_free_bulk(in, m);
		}
		vnet_rx_refill(r->dev, 0);
	}
	return got;
}

static void stats(struct rig *r, struct vnet_queue_stats *rx, struct vnet_queue_stats *tx,
                  struct vnet_model_stats *ms)
{
	vnet_queue_stats(r->dev, 0, true, rx);
	vnet_queue_stats(r->dev, 0, false, tx);
	vnet_model_stats(r->m, ms);
}

/* The model SOURCE fills RX, TX completes 5 polls late: break RX with a
 * used index far ahead while 10 TX frames are in flight. */
static void break_rx(struct rig *r)
{
	struct vnet_queue_stats rx, tx;
	struct vnet_model_stats ms;
	struct vnet_buf *in[RING];

	send(r, 10);
	ck_assert_uint_eq(vnet_tx_free(r->dev, 0), RING - 10);
	vnet_model_fault(r->m, VNET_FAULT_USED_IDX_JUMP, 1);
	vnet_model_poll(r->m);
	ck_assert_uint_eq(vnet_rx_burst(r->dev, 0, in, RING), 0);
	stats(r, &rx, &tx, &ms);
	ck_assert_uint_eq(rx.drop_bad_idx, 1);
	ck_assert_uint_eq(tx.drop_bad_idx, 0);
	ck_assert_int_eq(vnet_dev_broken(r->dev), 1);
}

START_TEST(broken_rx_reset_alone)
{
	uint64_t f = F_BASE | VNET_F_RING_RESET;
	struct vnet_queue_stats rx, tx;
	struct vnet_model_stats ms;
	struct rig r;
	uint64_t resets;

	ck_assert_int_eq(open_dev(&r, f, f, VNET_MODEL_SOURCE, 5), 0);
	vnet_model_stats(r.m, &ms);
	resets = ms.resets;
	ck_assert_uint_eq(ms.tx_frames, 0);
	break_rx(&r);
	ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 0);
	stats(&r, &rx, &tx, &ms);
	/* RX alone: no device reset, TX untouched with its 10 frames */
	ck_assert_uint_eq(ms.queue_resets, 1);
	ck_assert_uint_eq(ms.resets, resets);
	ck_assert_uint_eq(rx.queue_resets, 1);
	ck_assert_uint_eq(tx.queue_resets, 0);
	ck_assert_uint_eq(vnet_tx_free(r.dev, 0), RING - 10);
	/* the RX ring is full again, with fresh buffers; the old ones
	 * (including the frames the device wrote) went back to the pool */
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), RING + 10);
	/* the device sends the 10 frames it held, RX runs again */
	ck_assert_uint_gt(drain_rx(&r, 8), 0);
	vnet_model_stats(r.m, &ms);
	ck_assert_uint_eq(ms.tx_frames, 10);
	ck_assert_uint_eq(vnet_tx_reclaim(r.dev, 0), 10);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), RING); /* nothing leaked */
	rig_close(&r);
}
END_TEST

/* SINK completes only TX: break TX. RX keeps its posted buffers. */
START_TEST(broken_tx_reset_alone)
{
	uint64_t f = F_BASE | VNET_F_RING_RESET;
	struct vnet_queue_stats rx, tx;
	struct vnet_model_stats ms;
	struct rig r;
	uint64_t resets;

	ck_assert_int_eq(open_dev(&r, f, f, VNET_MODEL_SINK, 0), 0);
	vnet_model_stats(r.m, &ms);
	resets = ms.resets;
	send(&r, 8);
	vnet_model_fault(r.m, VNET_FAULT_USED_IDX_JUMP, 1);
	vnet_model_poll(r.m);
	send(&r, 4); /* the reclaim inside sees the index far ahead */
	ck_assert_int_eq(vnet_dev_broken(r.dev), 1);
	stats(&r, &rx, &tx, &ms);
	ck_assert_uint_eq(tx.drop_bad_idx, 1);
	ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
	stats(&r, &rx, &tx, &ms);
	ck_assert_uint_eq(ms.queue_resets, 1);
	ck_assert_uint_eq(ms.resets, resets);
	ck_assert_uint_eq(tx.queue_resets, 1);
	ck_assert_uint_eq(rx.queue_resets, 0);
	/* the 12 TX buffers (8 sent, 4 never read) are back; RX still holds
	 * its ring */
	ck_assert_uint_eq(vnet_tx_free(r.dev, 0), RING);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), RING);
	/* and TX works again */
	send(&r, 20);
	vnet_model_poll(r.m);
	ck_assert_uint_eq(vnet_tx_reclaim(r.dev, 0), 20);
	vnet_model_stats(r.m, &ms);
	ck_assert_uint_eq(ms.tx_frames, 8 + 20);
	rig_close(&r);
}
END_TEST

/* Without the feature (not offered, or not asked): the whole device. */
static void full_reset_run(uint64_t offer, uint64_t want)
{
	struct vnet_queue_stats rx, tx;
	struct vnet_model_stats ms;
	struct vnet_net_config c;
	struct rig r;
	uint64_t resets;

	ck_assert_int_eq(open_dev(&r, offer, want, VNET_MODEL_SOURCE, 5), 0);
	ck_assert_int_eq(vnet_dev_config(r.dev, &c), 0);
	ck_assert_uint_eq(c.features & VNET_F_RING_RESET, 0);
	ck_assert_int_eq(vnet_dev_queue_reset(r.dev, 0, true), -ENOTSUP);
	vnet_model_stats(r.m, &ms);
	resets = ms.resets;
	break_rx(&r);
	ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
	stats(&r, &rx, &tx, &ms);
	ck_assert_uint_eq(ms.queue_resets, 0);
	ck_assert_uint_gt(ms.resets, resets); /* the device was reset */
	ck_assert_uint_eq(rx.queue_resets + tx.queue_resets, 0);
	/* the TX frames in flight were dropped with the device */
	ck_assert_uint_eq(vnet_tx_free(r.dev, 0), RING);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), RING);
	ck_assert_uint_gt(drain_rx(&r, 2), 0);
	rig_close(&r);
}

START_TEST(not_offered_full_reset) { full_reset_run(F_BASE, F_BASE | VNET_F_RING_RESET); }
END_TEST
START_TEST(not_asked_full_reset) { full_reset_run(F_BASE | VNET_F_RING_RESET, F_BASE); }
END_TEST

/* A queue reset that never completes, or that the device ignores: the
 * driver must not take the buffers back from a queue still live; it
 * falls back to resetting the device. */
static void bad_queue_reset_run(enum vnet_model_fault fault)
{
	uint64_t f = F_BASE | VNET_F_RING_RESET;
	struct vnet_queue_stats rx, tx;
	struct vnet_model_stats ms;
	struct rig r;
	uint64_t resets, fired;

	ck_assert_int_eq(open_dev(&r, f, f, VNET_MODEL_SOURCE, 5), 0);
	vnet_model_stats(r.m, &ms);
	resets = ms.resets;
	break_rx(&r);
	vnet_model_stats(r.m, &ms);
	fired = ms.faults_fired;
	vnet_model_fault(r.m, fault, 1);
	ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 0);
	stats(&r, &rx, &tx, &ms);
	ck_assert_uint_eq(ms.faults_fired, fired + 1);
	ck_assert_uint_eq(ms.queue_resets, 0);
	ck_assert_uint_gt(ms.resets, resets); /* the device was reset */
	ck_assert_uint_eq(rx.queue_resets, 0);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), RING);
	ck_assert_uint_gt(drain_rx(&r, 2), 0);
	rig_close(&r);
}

START_TEST(queue_reset_stuck) { bad_queue_reset_run(VNET_FAULT_QUEUE_RESET_STUCK); }
END_TEST
START_TEST(queue_reset_ignored) { bad_queue_reset_run(VNET_FAULT_QUEUE_RESET_IGNORED); }
END_TEST

/* DEVICE_NEEDS_RESET is about the device, not a queue. */
START_TEST(needs_reset_full_reset)
{
	uint64_t f = F_BASE | VNET_F_RING_RESET;
	struct vnet_model_stats ms;
	struct rig r;
	uint64_t resets;

	ck_assert_int_eq(open_dev(&r, f, f, VNET_MODEL_LOOPBACK, 0), 0);
	vnet_model_stats(r.m, &ms);
	resets = ms.resets;
	vnet_model_fault(r.m, VNET_FAULT_NEEDS_RESET, 1);
	vnet_model_poll(r.m);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 1);
	ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
	vnet_model_stats(r.m, &ms);
	ck_assert_uint_eq(ms.queue_resets, 0);
	ck_assert_uint_gt(ms.resets, resets); /* the device was reset */
	rig_close(&r);
}
END_TEST

/* Nothing broken: recover means a device reset, as it always did. */
START_TEST(nothing_broken_full_reset)
{
	uint64_t f = F_BASE | VNET_F_RING_RESET;
	struct vnet_model_stats ms;
	struct rig r;
	uint64_t resets;

	ck_assert_int_eq(open_dev(&r, f, f, VNET_MODEL_LOOPBACK, 0), 0);
	vnet_model_stats(r.m, &ms);
	resets = ms.resets;
	ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
	vnet_model_stats(r.m, &ms);
	ck_assert_uint_gt(ms.resets, resets); /* the device was reset */
	ck_assert_uint_eq(ms.queue_resets, 0);
	rig_close(&r);
}
END_TEST

/*
 * The public call on healthy queues, both layouts (and IN_ORDER): reset
 * RX and TX alone mid-traffic; loopback traffic flows after each, with
 * no buffer lost. On the packed ring a used descriptor with the wrong
 * wrap state strands its buffer (the driver cannot trust its id); a queue
 * reset gets it back without a device reset.
 */
static void public_reset_run(uint64_t extra)
{
	uint64_t f = F_BASE | VNET_F_RING_RESET | extra;
	struct vnet_queue_stats rx, tx;
	struct vnet_model_stats ms;
	struct rig r;
	uint64_t resets;

	ck_assert_int_eq(open_dev(&r, f, f, VNET_MODEL_LOOPBACK, 3), 0);
	vnet_model_stats(r.m, &ms);
	resets = ms.resets;
	send(&r, 16);
	ck_assert_uint_eq(drain_rx(&r, 6), 16);
	send(&r, 16);
	vnet_model_poll(r.m); /* the device holds the frames (latency) */
	ck_assert_int_eq(vnet_dev_queue_reset(r.dev, 0, true), 0);
	ck_assert_uint_eq(drain_rx(&r, 6), 16); /* they land in the new ring */
	send(&r, 16);
	ck_assert_int_eq(vnet_dev_queue_reset(r.dev, 0, false), 0); /* dropped */
	ck_assert_uint_eq(drain_rx(&r, 6), 0);
	send(&r, 16);
	ck_assert_uint_eq(drain_rx(&r, 6), 16);
	vnet_tx_reclaim(r.dev, 0);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), RING);
	if (extra & VNET_F_RING_PACKED) {
		/* a used descriptor with the wrong wrap state breaks its queue
		 * (BAD_RING); recovery resets that queue alone */
		vnet_model_fault(r.m, VNET_FAULT_USED_IDX_JUMP, 1);
		send(&r, 4);
		drain_rx(&r, 6);
		vnet_tx_reclaim(r.dev, 0);
		ck_assert_uint_gt(vnet_pool_in_use(r.pool), RING); /* kept by the broken queue */
		ck_assert_int_eq(vnet_dev_broken(r.dev), 1);
		ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
		ck_assert_int_eq(vnet_dev_broken(r.dev), 0);
		vnet_tx_reclaim(r.dev, 0);
		ck_assert_uint_eq(vnet_pool_in_use(r.pool), RING);
	}
	stats(&r, &rx, &tx, &ms);
	ck_assert_uint_eq(ms.resets, resets);
	ck_assert_uint_eq(rx.queue_resets + tx.queue_resets, ms.queue_resets);
	ck_assert_int_eq(vnet_dev_queue_reset(r.dev, 1, true), -EINVAL);
	rig_close(&r);
}

START_TEST(public_reset_split) { public_reset_run(0); }
END_TEST
START_TEST(public_reset_in_order) { public_reset_run(VNET_F_IN_ORDER); }
END_TEST
START_TEST(public_reset_packed) { public_reset_run(VNET_F_RING_PACKED); }
END_TEST

/* Two pairs: pair 1's broken RX is reset alone; pair 0 never notices. */
START_TEST(multiqueue_one_queue)
{
	uint64_t f = F_BASE | VNET_F_RING_RESET | VNET_F_CTRL_VQ | VNET_F_MQ;
	struct vnet_model_conf mc = {.features = f, .backend = VNET_MODEL_LOOPBACK, .max_pairs = 2};
	struct vnet_dev_conf dc = {.features = f, .rx_ring_size = RING, .tx_ring_size = RING, .queue_pairs = 2};
	struct vnet_queue_stats s0, s1;
	struct vnet_model_stats ms;
	struct vnet_buf *in[RING];
	struct rig r;

	ck_assert_int_eq(rig_open(&r, &mc, &dc, 1024, 1), 0);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), 2 * RING);
	/* 5 frames on pair 1 with its RX index jumping */
	{
		struct vnet_buf *b[5];
		ck_assert_int_eq(vnet_pool_alloc_bulk(r.pool, b, 5), 0);
		for (int i = 0; i < 5; i++)
			b[i]->len = 60;
		ck_assert_uint_eq(vnet_tx_burst(r.dev, 1, b, 5), 5);
	}
	vnet_model_fault(r.m, VNET_FAULT_USED_IDX_JUMP, 1);
	vnet_model_poll(r.m);
	/* the fault went to the first publish: pair 0 publishes nothing */
	vnet_rx_burst(r.dev, 1, in, RING);
	vnet_tx_reclaim(r.dev, 1);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 1);
	ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
	vnet_queue_stats(r.dev, 0, true, &s0);
	vnet_queue_stats(r.dev, 1, true, &s1);
	vnet_model_stats(r.m, &ms);
	ck_assert_uint_eq(s0.queue_resets, 0);
	ck_assert_uint_eq(ms.queue_resets, 1);
	vnet_queue_stats(r.dev, 1, false, &s0);
	ck_assert_uint_eq(s1.queue_resets + s0.queue_resets, 1);
	vnet_tx_reclaim(r.dev, 1);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), 2 * RING);
	rig_close(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ring_reset");
	TCase *t = tcase_create("recover");

	tcase_add_test(t, broken_rx_reset_alone);
	tcase_add_test(t, broken_tx_reset_alone);
	tcase_add_test(t, not_offered_full_reset);
	tcase_add_test(t, not_asked_full_reset);
	tcase_add_test(t, queue_reset_stuck);
	tcase_add_test(t, queue_reset_ignored);
	tcase_add_test(t, needs_reset_full_reset);
	tcase_add_test(t, nothing_broken_full_reset);
	tcase_add_test(t, public_reset_split);
	tcase_add_test(t, public_reset_in_order);
	tcase_add_test(t, public_reset_packed);
	tcase_add_test(t, multiqueue_one_queue);
	suite_add_tcase(s, t);
	return suite_run(s);
}
