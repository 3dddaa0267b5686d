/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RX refill against used entries that name an id out of flight (a
 * duplicate, or made up) and that the device published before the refill
 * put that id back on the ring: no harvest may take such an entry for the
 * buffer posted again under the id (a frame the device never wrote, in a
 * buffer it still holds). The split ring's refill reads the unread
 * entries and posts nothing then; the packed ring's posts, marking each id
 * with the end of the used run it saw (pk_mark), and its harvest refuses
 * a descriptor written below that mark. The test plays the device on RX
 * ring 0 by hand, on each ring layout; the model, never polled, leaves
 * the rings alone.
 */
#include <check.h>

#include "net/dev.h"
#include "testutil.h"

#define F_BASE (VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_MTU | VNET_F_STATUS | VNET_F_EVENT_IDX)

enum layout { SPLIT, PACKED, IN_ORDER };

static struct rig R;
static struct vnet_vq *Q;     /* RX queue 0 */
static uint16_t dev_used;     /* the device's next used position */

static void open_rx(enum layout l)
{
	uint64_t f = l == PACKED ? VNET_F_RING_PACKED : l == IN_ORDER ? VNET_F_IN_ORDER : 0;
	struct vnet_model_conf mc = {.features = F_BASE | f};
	struct vnet_dev_conf dc = {.features = VNET_F_DEFAULT | f, .rx_ring_size = 8, .tx_ring_size = 8};

	ck_assert_int_eq(rig_open(&R, &mc, &dc, 64, 1), 0);
	Q = &R.dev->rxq[0];
	ck_assert(Q->packed == (l == PACKED));
	ck_assert(Q->in_order == (l == IN_ORDER));
	ck_assert_uint_eq(vnet_vq_in_flight(Q), 8);
	dev_used = 0;
}

/* The id of the buffer made available at position @pos (read before the
 * device writes a used descriptor over it: packed). */
static uint16_t avail_id(uint16_t pos)
{
	return Q->packed ? Q->pk_desc[pos & Q->mask].id : Q->avail->ring[pos & Q->mask];
}

/* The device writes and publishes its next used entry. */
static void dev_use(uint16_t id, uint32_t len)
{
	if (Q->packed) {
		struct pvirtq_desc *d = &Q->pk_desc[dev_used & Q->mask];
		uint16_t used = (dev_used & Q->size) ? 0 : (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);

		d->id = id;
		d->len = len;
		__atomic_thread_fence(__ATOMIC_RELEASE);
		d->flags = (uint16_t)(used | VIRTQ_DESC_F_WRITE);
	} else {
		Q->used->ring[dev_used & Q->mask].id = id;
		Q->used->ring[dev_used & Q->mask].len = len;
		__atomic_thread_fence(__ATOMIC_RELEASE);
		Q->used->idx = (uint16_t)(dev_used + 1);
	}
	dev_used++;
}

/* The device writes the id of a used entry it published already. */
static void dev_rewrite(uint16_t pos, uint16_t id)
{
	if (Q->packed)
		Q->pk_desc[pos & Q->mask].id = id;
	else
		Q->used->ring[pos & Q->mask].id = id;
}

/* One burst of at most @n frames; they go back to the pool. */
static uint16_t burst(uint16_t n)
{
	struct vnet_buf *b[8];
	uint16_t k = vnet_rx_burst(R.dev, 0, b, n);

	vnet_pool_free_bulk(b, k);
	return k;
}

/* The stray entry was refused: nothing handed up (split: nothing posted
 * either), the ring broken at it (a bad id, or under IN_ORDER an index
 * past what is in flight), and recovery brings every buffer back. */
static void refused_then_recover(void)
{
	struct vnet_queue_stats st;
	uint16_t posted = vnet_rx_refill(R.dev, 0);

	posted = (uint16_t)(posted + vnet_rx_refill(R.dev, 0)); /* the entry is still there */
	ck_assert_uint_eq(burst(8), 0);
	if (!Q->packed)
		ck_assert_uint_eq(posted, 0);
	ck_assert_int_eq(vnet_dev_broken(R.dev), 1);
	vnet_queue_stats(R.dev, 0, true, &st);
	ck_assert_uint_eq(st.drop_bad_id + st.drop_bad_idx, 1);
	ck_assert_int_eq(vnet_dev_recover(R.dev), 0);
	ck_assert_int_eq(vnet_dev_broken(R.dev), 0);
	rig_close(&R);
}

/* An entry for an id the harvest already took back, written after that
 * harvest and before the refill. An unread entry for a buffer in flight
 * does not stop the refill. */
static void stray_after_harvest(enum layout l)
{
	uint16_t a0, a1;

	open_rx(l);
	a0 = avail_id(0);
	a1 = avail_id(1);
	dev_use(a0, 60);
	ck_assert_uint_eq(burst(8), 1);
	dev_use(a1, 60); /* genuine, left unread */
	ck_assert_uint_eq(vnet_rx_refill(R.dev, 0), 1);
	ck_assert_uint_eq(burst(8), 1);
	dev_use(a1, 60); /* a1 is not in flight */
	refused_then_recover();
}

/* An entry for an id a short burst holds, written after that burst: the
 * next burst sees it but stops before it, and reaches the position the
 * id was held until. */
static void stray_for_held_id(enum layout l)
{
	uint16_t a0, a1;

	open_rx(l);
	a0 = avail_id(0);
	a1 = avail_id(1);
	dev_use(a0, 60);
	dev_use(a1, 60);
	ck_assert_uint_eq(burst(1), 1); /* a0 held until position 2 */
	dev_use(a0, 60);                /* a0 is not in flight */
	ck_assert_uint_eq(burst(1), 1); /* sees position 2, takes position 1 */
	ck_assert_uint_eq(Q->last_used, 2);
	refused_then_recover();
}

/* An entry a refill saw naming a buffer in flight, written again to name
 * an id a short burst holds; the harvest then gives that id back without
 * reaching the entry. Split: each refill that posts reads every unread
 * entry; packed: the entry lies below the mark of the id posted again. */
static void stray_rewritten(enum layout l)
{
	uint16_t a0, a1, a2, a3;

	open_rx(l);
	a0 = avail_id(0);
	a1 = avail_id(1);
	a2 = avail_id(2);
	a3 = avail_id(3);
	dev_use(a0, 60);
	ck_assert_uint_eq(burst(8), 1);
	dev_use(a1, 60);
	dev_use(a2, 60);
	ck_assert_uint_eq(burst(1), 1); /* a1 held until position 3 */
	dev_use(a3, 60);
	ck_assert_uint_eq(vnet_rx_refill(R.dev, 0), 1);
	dev_rewrite(3, a1);             /* a1 is not in flight */
	ck_assert_uint_eq(burst(1), 1); /* takes position 2: a1 back */
	refused_then_recover();
}

/* Under IN_ORDER an entry names the buffer made available at its own
 * position: the harvest took every buffer, then an entry for the next
 * position, where nothing is posted yet. */
START_TEST(in_order_stray_past_in_flight)
{
	uint16_t i;

	open_rx(IN_ORDER);
	for (i = 0; i < 8; i++)
		dev_use(avail_id(i), 60);
	ck_assert_uint_eq(burst(8), 8);
	dev_use((uint16_t)(8 & Q->mask), 60);
	refused_then_recover();
}
END_TEST

START_TEST(split_stray_after_harvest) { stray_after_harvest(SPLIT); }
END_TEST
START_TEST(packed_stray_after_harvest) { stray_after_harvest(PACKED); }
END_TEST
START_TEST(split_stray_for_held_id) { stray_for_held_id(SPLIT); }
END_TEST
START_TEST(packed_stray_for_held_id) { stray_for_held_id(PACKED); }
END_TEST
START_TEST(split_stray_rewritten) { stray_rewritten(SPLIT); }
END_TEST
START_TEST(packed_stray_rewritten) { stray_rewritten(PACKED); }
END_TEST

int main(void)
{
	Suite *s = suite_create("rx_stale");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, split_stray_after_harvest);
	tcase_add_test(tc, packed_stray_after_harvest);
	tcase_add_test(tc, split_stray_for_held_id);
	tcase_add_test(tc, packed_stray_for_held_id);
	tcase_add_test(tc, split_stray_rewritten);
	tcase_add_test(tc, packed_stray_rewritten);
	tcase_add_test(tc, in_order_stray_past_in_flight);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
