/* SPDX-License-Identifier: BSD-3-Clause */
/* Packet-buffer pool: geometry checks, all-or-nothing bulk alloc, in-use
 * accounting, DMA addresses, destroy refusing while buffers are out. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include <vnet/vnet.h>

START_TEST(bad_geometry)
{
	struct vnet_pool *p = (struct vnet_pool *)0x1;
	struct vnet_pool_conf c = {0};

	ck_assert_int_eq(vnet_pool_create(&p, &c), -EINVAL); /* count 0 */
	ck_assert_ptr_null(p);
	c.count = 8;
	c.buf_size = 100; /* not a multiple of 64 */
	ck_assert_int_eq(vnet_pool_create(&p, &c), -EINVAL);
	c.buf_size = 2048;
	c.headroom = 2048; /* no room for data */
	ck_assert_int_eq(vnet_pool_create(&p, &c), -EINVAL);
	c.headroom = 8; /* too small for a virtio_net_hdr */
	ck_assert_int_eq(vnet_pool_create(&p, &c), -EINVAL);
	c.count = 70000; /* ids are 16-bit */
	c.headroom = 0;
	ck_assert_int_eq(vnet_pool_create(&p, &c), -EINVAL);
	ck_assert_int_eq(vnet_pool_create(NULL, &c), -EINVAL);
	ck_assert_int_eq(vnet_pool_create(&p, NULL), -EINVAL);
}
END_TEST

START_TEST(bulk_all_or_nothing)
{
	struct vnet_pool *p;
	struct vnet_pool_conf c = {.count = 64};
	struct vnet_buf *b[64], *extra[8];
	uint32_t i;

	ck_assert_int_eq(vnet_pool_create(&p, &c), 0);
	ck_assert_uint_eq(vnet_pool_count(p), 64);
	ck_assert_uint_eq(vnet_pool_data_room(p), 2048 - 64);
	ck_assert_int_eq(vnet_pool_alloc_bulk(p, b, 60), 0);
	ck_assert_uint_eq(vnet_pool_in_use(p), 60);
	/* 8 asked, 4 left: nothing is taken */
	ck_assert_int_eq(vnet_pool_alloc_bulk(p, extra, 8), -ENOBUFS);
	ck_assert_uint_eq(vnet_pool_in_use(p), 60);
	ck_assert_int_eq(vnet_pool_alloc_bulk(p, b + 60, 4), 0);
	ck_assert_ptr_null(vnet_buf_alloc(p));
	/* every buffer distinct, inside the region, DMA address consistent */
	for (i = 0; i < 64; i++) {
		ck_assert_ptr_eq(b[i]->pool, p);
		ck_assert_ptr_eq(b[i]->data, b[i]->base + 64);
		ck_assert_uint_eq(b[i]->len, 0);
		ck_assert_uint_eq(b[i]->iova - b[0]->iova, (uint64_t)(b[i]->base - b[0]->base));
		ck_assert_uint_eq((uint64_t)(b[i]->base - b[0]->base) % 2048, 0);
	}
	ck_assert_int_eq(vnet_pool_destroy(p), -EBUSY); /* buffers still out */
	vnet_pool_free_bulk(b, 64);
	ck_assert_uint_eq(vnet_pool_in_use(p), 0);
	ck_assert_int_eq(vnet_pool_destroy(p), 0);
}
END_TEST

START_TEST(alloc_resets_data)
{
	struct vnet_pool *p;
	struct vnet_pool_conf c = {.count = 1, .buf_size = 1024, .headroom = 128};
	struct vnet_buf *b;

	ck_assert_int_eq(vnet_pool_create(&p, &c), 0);
	b = vnet_buf_alloc(p);
	ck_assert_ptr_nonnull(b);
	b->data += 10;
	b->len = 99;
	vnet_buf_free(b);
	b = vnet_buf_alloc(p);
	ck_assert_ptr_eq(b->data, b->base + 128);
	ck_assert_uint_eq(b->len, 0);
	vnet_buf_free(b);
	ck_assert_int_eq(vnet_pool_destroy(p), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("pool");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, bad_geometry);
	tcase_add_test(tc, bulk_all_or_nothing);
	tcase_add_test(tc, alloc_resets_data);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
