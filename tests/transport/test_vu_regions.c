/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user, two devices in one process: each backend must be given only
 * its own device's memory (its rings and its pools), never the other
 * device's. The memory table used to be every live DMA allocation of the
 * process, so backend B could read and write device A's pool and rings.
 * Fake backends (fake_vu.c) record what they were sent.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vnet/linux.h>
#include <vnet/transports.h>
#include <vnet/vnet.h>

#include "fake_vu.h"
#include "logcap.h"
#include "net/dev.h"

#define F_VERSION_1 (1ull << 32)
#define F_EVENT_IDX (1ull << 29)
#define F_INDIRECT  (1ull << 28)

struct side {
	struct fvu be;
	struct vnet_transport *t;
	struct vnet_pool *pool;
	struct vnet_dev *dev;
};

static char dir[64];

/* The DMA allocations that are device @d's: its rings, tables, pools. */
static unsigned dev_regions(const struct vnet_dev *d, struct vnet_dma *out)
{
	unsigned n = 0, i;
	uint16_t p;

	for (p = 0; p < d->npairs; p++) {
		const struct vnet_vq *q[2] = {&d->rxq[p], &d->txq[p]};

		for (i = 0; i < 2; i++) {
			out[n++] = q[i]->mem;
			if (q[i]->ind_mem.va)
				out[n++] = q[i]->ind_mem;
		}
	}
	out[n++] = d->pool->mem;
	for (i = 0; i < VNET_DEV_SHARED_POOLS; i++)
		if (d->shared[i])
			out[n++] = d->shared[i]->mem;
	return n;
}

static int inside(uint64_t a, uint64_t len, const struct vnet_dma *m)
{
	return a >= m->iova && len <= m->len && a - m->iova <= m->len - len;
}

static int overlaps(uint64_t a, uint64_t len, const struct vnet_dma *m)
{
	return a < m->iova + m->len && m->iova < a + len;
}

/* What backend @b was given is exactly device @mine's memory (each
 * region one of its allocations, each allocation in the table), none of
 * device @other's, and the rings lie inside it. */
static void check_table(struct fvu *b, const struct vnet_dev *mine, const struct vnet_dev *other, const char *who)
{
	struct vnet_dma own[16], theirs[16];
	unsigned nown = dev_regions(mine, own), ntheirs = dev_regions(other, theirs), i, k, q;

	pthread_mutex_lock(&b->lock);
	ck_assert_uint_ge(b->tables, 1);
	ck_assert_uint_eq(b->fds_ok, b->nreg);
	for (i = 0; i < b->nreg; i++) {
		const struct vhost_user_region *r = &b->reg[i];
		int found = 0;

		for (k = 0; k < ntheirs; k++)
			ck_assert_msg(!overlaps(r->guest_addr, r->size, &theirs[k]),
			              "backend %s was given 0x%llx+0x%llx: the other device's memory", who,
			              (unsigned long long)r->guest_addr, (unsigned long long)r->size);
		for (k = 0; k < nown; k++)
			found |= inside(r->guest_addr, r->size, &own[k]);
		ck_assert_msg(found, "backend %s was given 0x%llx+0x%llx: not its device's memory", who,
		              (unsigned long long)r->guest_addr, (unsigned long long)r->size);
		ck_assert_uint_eq(r->user_addr, r->guest_addr); /* iova = va for memfd memory */
	}
	for (k = 0; k < nown; k++) {
		int found = 0;

		for (i = 0; i < b->nreg; i++)
			found |= b->reg[i].guest_addr == own[k].iova && b->reg[i].size == own[k].len;
		ck_assert_msg(found, "backend %s lacks its device's region 0x%llx", who,
		              (unsigned long long)own[k].iova);
	}
	ck_assert_uint_eq(b->ring_set, 3);
	for (q = 0; q < 2; q++) {
		for (k = 0; k < 3; k++) {
			int found = 0;

			for (i = 0; i < b->nreg; i++)
				found |= b->ring[q][k] >= b->reg[i].user_addr &&
				         b->ring[q][k] - b->reg[i].user_addr < b->reg[i].size;
			ck_assert_msg(found, "backend %s: ring %u part %u outside its table", who, q, k);
		}
	}
	pthread_mutex_unlock(&b->lock);
}

static void side_open(struct side *s, const char *name, uint64_t want)
{
	struct vnet_dev_conf dc = {.rx_ring_size = 64, .tx_ring_size = 64, .features = want};
	char path[108];

	snprintf(path, sizeof(path), "%s/%s.sock", dir, name);
	ck_assert_int_eq(vnet_vhost_user_open(&s->t, path, NULL), 0);
	dc.pool = s->pool;
	ck_assert_int_eq(vnet_dev_open(&s->dev, s->t, &dc), 0);
}

static void side_close(struct side *s)
{
	vnet_dev_close(s->dev);
	vnet_transport_close(s->t);
	fvu_stop(&s->be);
	ck_assert_uint_eq(vnet_pool_in_use(s->pool), 0);
	ck_assert_int_eq(vnet_pool_destroy(s->pool), 0);
}

static void two_devices_run(uint64_t features)
{
	struct vnet_pool_conf pc = {.count = 256};
	struct side a, b;
	char path[108];

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	snprintf(dir, sizeof(dir), "/tmp/vnet-vur-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	logcap_start();
	/* both pools exist before either device opens */
	ck_assert_int_eq(vnet_pool_create(&a.pool, &pc), 0);
	ck_assert_int_eq(vnet_pool_create(&b.pool, &pc), 0);
	snprintf(path, sizeof(path), "%s/a.sock", dir);
	ck_assert_int_eq(fvu_start(&a.be, path, features), 0);
	snprintf(path, sizeof(path), "%s/b.sock", dir);
	ck_assert_int_eq(fvu_start(&b.be, path, features), 0);
	side_open(&a, "a", VNET_F_DEFAULT | (features & F_INDIRECT));
	side_open(&b, "b", VNET_F_DEFAULT | (features & F_INDIRECT));
	check_table(&a.be, a.dev, b.dev, "A");
	check_table(&b.be, b.dev, a.dev, "B");
	side_close(&a);
	side_close(&b);
	ck_assert_int_eq(rmdir(dir), 0);
	vnet_set_log(NULL, NULL, VNET_LOG_ERR);
}

START_TEST(each_backend_gets_only_its_device)
{
	two_devices_run(F_VERSION_1 | F_EVENT_IDX);
}
END_TEST

START_TEST(each_backend_gets_only_its_device_indirect)
{
	two_devices_run(F_VERSION_1 | F_EVENT_IDX | F_INDIRECT);
}
END_TEST

/* A pool shared with one device later (e.g. a jumbo TX pool) reaches its
 * backend in a new memory table, and only its backend. */
START_TEST(shared_pool_reaches_only_its_backend)
{
	struct vnet_pool_conf pc = {.count = 256}, jc = {.count = 16, .buf_size = 16384};
	struct vnet_pool *jumbo;
	struct side a, b;
	char path[108];
	unsigned tables_a, tables_b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	snprintf(dir, sizeof(dir), "/tmp/vnet-vur-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	logcap_start();
	ck_assert_int_eq(vnet_pool_create(&a.pool, &pc), 0);
	ck_assert_int_eq(vnet_pool_create(&b.pool, &pc), 0);
	ck_assert_int_eq(vnet_pool_create(&jumbo, &jc), 0);
	snprintf(path, sizeof(path), "%s/a.sock", dir);
	ck_assert_int_eq(fvu_start(&a.be, path, F_VERSION_1), 0);
	snprintf(path, sizeof(path), "%s/b.sock", dir);
	ck_assert_int_eq(fvu_start(&b.be, path, F_VERSION_1), 0);
	side_open(&a, "a", VNET_F_DEFAULT);
	side_open(&b, "b", VNET_F_DEFAULT);
	tables_a = a.be.tables;
	tables_b = b.be.tables;
	ck_assert_int_eq(vnet_dev_share_pool(a.dev, jumbo), 0);
	ck_assert_int_eq(vnet_dev_share_pool(a.dev, jumbo), 0); /* again: nothing new */
	ck_assert_int_eq(vnet_dev_share_pool(a.dev, a.pool), 0); /* its own RX pool */
	ck_assert_uint_eq(a.be.tables, tables_a + 1);
	ck_assert_uint_eq(b.be.tables, tables_b);
	check_table(&a.be, a.dev, b.dev, "A");
	check_table(&b.be, b.dev, a.dev, "B");
	pthread_mutex_lock(&b.be.lock);
	for (unsigned i = 0; i < b.be.nreg; i++)
		ck_assert(!overlaps(b.be.reg[i].guest_addr, b.be.reg[i].size, &jumbo->mem));
	pthread_mutex_unlock(&b.be.lock);
	side_close(&a);
	side_close(&b);
	ck_assert_int_eq(vnet_pool_destroy(jumbo), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	vnet_set_log(NULL, NULL, VNET_LOG_ERR);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vhost_user_regions");
	TCase *tc = tcase_create("regions");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, each_backend_gets_only_its_device);
	tcase_add_test(tc, each_backend_gets_only_its_device_indirect);
	tcase_add_test(tc, shared_pool_reaches_only_its_backend);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
