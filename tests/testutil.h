/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by the unit tests: a model device + pool + driver, and checks. */
#ifndef VNET_TESTUTIL_H
#define VNET_TESTUTIL_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <vnet/model.h>
#include <vnet/vnet.h>

struct rig {
	struct vnet_model *m;
	struct vnet_pool *pool;
	struct vnet_dev *dev;
};

/* Create model + pool; open the device unless @open is 0. */
static inline int rig_open(struct rig *r, const struct vnet_model_conf *mc, const struct vnet_dev_conf *dc_in,
                           uint32_t pool_count, int open)
{
	struct vnet_pool_conf pc = {.count = pool_count ? pool_count : 1024};
	struct vnet_dev_conf dc = {0};
	int rc;

	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(vnet_model_create(&r->m, mc), 0);
	ck_assert_int_eq(vnet_pool_create(&r->pool, &pc), 0);
	if (dc_in)
		dc = *dc_in;
	dc.pool = r->pool;
	if (!open)
		return 0;
	rc = vnet_dev_open(&r->dev, vnet_model_transport(r->m), &dc);
	return rc;
}

/* Close everything and check that no buffer leaked. */
static inline void rig_close(struct rig *r)
{
	vnet_dev_close(r->dev);
	r->dev = NULL;
	ck_assert_uint_eq(vnet_pool_in_use(r->pool), 0);
	ck_assert_int_eq(vnet_pool_destroy(r->pool), 0);
	vnet_model_destroy(r->m);
	memset(r, 0, sizeof(*r));
}

static inline int suite_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
