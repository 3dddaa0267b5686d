/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split ring under VIRTIO_F_IN_ORDER, the test playing the device by hand
 * (as test_split.c does): the cases mutation testing (tools/mutants,
 * tools/mutants.list) found no test for. Each test names the mutant it
 * kills.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ring/ring.h"

static struct vnet_vq vq;
static struct vnet_pool *pool;

static void setup(void)
{
	struct vnet_pool_conf pc = {.count = 64};

	ck_assert_int_eq(vnet_pool_create(&pool, &pc), 0);
	ck_assert_int_eq(vnet_sq_alloc(&vq, 1, 8, 0), 0); /* a TX queue */
	vq.buf_len = UINT32_MAX;
	vq.in_order = true;
}

static void teardown(void)
{
	vnet_vq_drain(&vq, vnet_buf_free);
	vnet_vq_free(&vq);
	/* every test gives every buffer back */
	ck_assert_uint_eq(vnet_pool_in_use(pool), 0);
	ck_assert_int_eq(vnet_pool_destroy(pool), 0);
}

static void post_frames(uint16_t n)
{
	struct vnet_buf *b[8];
	uint16_t i;

	ck_assert_int_eq(vnet_pool_alloc_bulk(pool, b, n), 0);
	for (i = 0; i < n; i++)
		b[i]->len = 60;
	ck_assert_uint_eq(vnet_sq_post(&vq, b, n, 12, NULL, NULL, 1), n);
}

/* mutant in_order_idx_unbounded: a used index further ahead than what is
 * in flight is refused whole (drop_bad_idx), as without IN_ORDER: not
 * even the valid batch in front of it is taken, the device is not
 * trusted past that index. */
START_TEST(in_order_idx_jump_refused_whole)
{
	post_frames(4);
	vq.used->ring[0].id = 3; /* a valid batch: positions 0..3 */
	vq.used->idx = 9;        /* ... but 9 entries for 4 in flight */
	ck_assert_uint_eq(vnet_sq_reclaim_in_order(&vq), 0);
	ck_assert(vq.broken);
	ck_assert_uint_eq(vq.stats.drop_bad_idx, 1);
	ck_assert_uint_eq(vq.stats.drop_bad_id, 0);
	ck_assert_uint_eq(vq.num_free, 4);
	ck_assert_uint_eq(vq.last_used, 0);
	ck_assert_uint_eq(vnet_pool_in_use(pool), 4);
}
END_TEST

/* mutant in_order_post_busy: a post under IN_ORDER stops at a position
 * whose buffer is still in flight (as if a device had completed out of
 * order), instead of posting over it and losing that buffer. */
START_TEST(in_order_post_stops_at_busy_position)
{
	struct vnet_buf *held, *b[4];
	uint16_t i;

	post_frames(4);
	vq.used->ring[0].id = 3;
	vq.used->idx = 4;
	ck_assert_uint_eq(vnet_sq_reclaim_in_order(&vq), 4);
	/* the test's tampering: position 6 still holds a buffer */
	held = vnet_buf_alloc(pool);
	ck_assert_ptr_nonnull(held);
	vq.cookie[6] = held;
	vq.num_free--;
	ck_assert_int_eq(vnet_pool_alloc_bulk(pool, b, 4), 0);
	for (i = 0; i < 4; i++)
		b[i]->len = 60;
	ck_assert_uint_eq(vnet_sq_post(&vq, b, 4, 12, NULL, NULL, 1), 2); /* positions 4 and 5 */
	ck_assert_ptr_eq(vq.cookie[6], held);
	ck_assert_uint_eq(vq.avail_idx, 6);
	vnet_pool_free_bulk(b + 2, 2);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mutants_ring");
	TCase *tc = tcase_create("in_order");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, in_order_idx_jump_refused_whole);
	tcase_add_test(tc, in_order_post_stops_at_busy_position);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
