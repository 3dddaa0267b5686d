/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vhost-user frontend's multiqueue, packed-ring and STATUS protocol
 * against the fake backend (fake_vu.c), driven through the transport ops
 * as the device layer would: GET_QUEUE_NUM (hostile answers too), the
 * control queue the transport serves itself (VQ_PAIRS_SET as
 * SET_VRING_ENABLE, and commands it must refuse), the packed ring's base
 * with its wrap bit both ways, and SET_STATUS/GET_STATUS.
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

#include "base/platform.h"
#include "base/virtio_spec.h"
#include "fake_vu.h"
#include "logcap.h"
#include "transport/transport.h"

#define F_VERSION_1   (1ull << 32)
#define F_RING_PACKED (1ull << 34)
#define F_CTRL_VQ     (1ull << 17)
#define F_CTRL_RX     (1ull << 18)
#define F_MQ          (1ull << 22)
#define P_MQ          (1ull << VHOST_USER_PROTOCOL_F_MQ)
#define P_REPLY_ACK   (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK)
#define P_STATUS      (1ull << VHOST_USER_PROTOCOL_F_STATUS)
#define ST_UP (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK)

static char dir[64], path[108];
static struct fvu be;
static struct vnet_transport *t;
static struct vnet_dma mem, cmem;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vnet-vumq-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/be.sock", dir);
	t = NULL;
	be.lfd = -1;
	memset(&mem, 0, sizeof(mem));
	memset(&cmem, 0, sizeof(cmem));
	logcap_start();
}

static void teardown(void)
{
	vnet_transport_close(t);
	t = NULL;
	fvu_stop(&be);
	vnet_dma_free(&mem);
	vnet_dma_free(&cmem);
	ck_assert_int_eq(rmdir(dir), 0);
	vnet_set_log(NULL, NULL, VNET_LOG_ERR);
}

/* A backend offering @features (VERSION_1 added), @proto and @queue_num
 * pairs; the transport opened on it. */
static int start_open(uint64_t features, uint64_t proto, uint64_t queue_num)
{
	struct vnet_vhost_user_opts o = {.timeout_ms = 1000, .queue_max = 256};

	fvu_prepare(&be, path, F_VERSION_1 | features | VHOST_USER_F_PROTOCOL_FEATURES, proto, NULL);
	be.queue_num = queue_num;
	ck_assert_int_eq(fvu_listen(&be), 0);
	return vnet_vhost_user_open(&t, path, &o);
}

static void has(const char *s)
{
	ck_assert_msg(logcap_has(s), "want '%s' in:\n%s", s, logcap_buf);
}

static struct vnet_vhost_user_stats stats(void)
{
	struct vnet_vhost_user_stats s;

	ck_assert_int_eq(vnet_vhost_user_stats(t, &s), 0);
	return s;
}

/* Data rings 0..@n-1 in three shared pages (the fake serves none), the
 * control ring and its command buffer in a region of their own. */
static void regions(void)
{
	struct vnet_dma r[2];

	if (!mem.va) {
		ck_assert_int_eq(vnet_dma_alloc(&mem, 3 * 4096, 4096), 0);
		ck_assert_int_eq(vnet_dma_alloc(&cmem, 3 * 4096, 4096), 0);
	}
	r[0] = mem;
	r[1] = cmem;
	ck_assert_int_eq(t->ops->set_dma_regions(t, r, 2), 0);
}

static int setup_ring(uint16_t q)
{
	struct vnet_vq_addrs a = {mem.iova, mem.iova + 4096, mem.iova + 8192};

	return t->ops->queue_setup(t, q, 64, &a);
}

static int setup_ctrl(uint16_t q)
{
	struct vnet_vq_addrs a = {cmem.iova, cmem.iova + 1024, cmem.iova + 2048};

	return t->ops->queue_setup(t, q, 16, &a);
}

static uint8_t status_of(void)
{
	return t->ops->get_status(t);
}

/* FEATURES_OK with @features, @pairs pairs' rings set up, DRIVER_OK. */
static void bring_up(uint64_t features, uint16_t pairs)
{
	uint16_t q;

	t->ops->set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	t->ops->set_features(t, features);
	t->ops->set_status(t, ST_UP);
	ck_assert_uint_eq(status_of() & VIRTIO_STATUS_FEATURES_OK, VIRTIO_STATUS_FEATURES_OK);
	regions();
	for (q = 0; q < 2 * pairs; q++)
		ck_assert_int_eq(setup_ring(q), 0);
}

static void driver_ok(void)
{
	t->ops->set_status(t, ST_UP | VIRTIO_STATUS_DRIVER_OK);
}

static unsigned enabled(void)
{
	unsigned e;

	pthread_mutex_lock(&be.lock);
	e = be.enabled;
	pthread_mutex_unlock(&be.lock);
	return e;
}

/* One control command on the transport's control ring (index @q) as
 * chain @head: @len bytes from @cmd, then the ack byte unless @no_ack.
 * Returns the ack (or -1 when the used entry came with length 0). */
static int ctrl_cmd(uint16_t q, uint16_t head, const uint8_t *cmd, uint32_t len, int no_ack)
{
	struct vring_desc *d = cmem.va;
	struct vring_avail *av = (void *)((uint8_t *)cmem.va + 1024);
	struct vring_used *u = (void *)((uint8_t *)cmem.va + 2048);
	uint8_t *buf = (uint8_t *)cmem.va + 8192, *ack = buf + 64;
	uint16_t idx = av->idx, h2 = (uint16_t)((head + 1) & 15);

	memcpy(buf, cmd, len);
	*ack = 0xee;
	d[head].addr = cmem.iova + 8192;
	d[head].len = len;
	d[head].flags = no_ack ? 0 : VRING_DESC_F_NEXT;
	d[head].next = h2;
	d[h2].addr = cmem.iova + 8192 + 64;
	d[h2].len = 1;
	d[h2].flags = VRING_DESC_F_WRITE;
	av->ring[idx & 15] = head;
	av->idx = (uint16_t)(idx + 1);
	t->ops->notify(t, q);
	ck_assert_uint_eq(u->idx, (uint16_t)(idx + 1));
	ck_assert_uint_eq(u->ring[idx & 15].id, head);
	if (u->ring[idx & 15].len == 0)
		return -1;
	ck_assert_uint_eq(u->ring[idx & 15].len, 1);
	return *ack;
}

static int vq_pairs_set(uint16_t q, uint16_t head, uint16_t pairs)
{
	uint8_t c[4] = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, (uint8_t)pairs,
	                (uint8_t)(pairs >> 8)};

	return ctrl_cmd(q, head, c, 4, 0);
}

/* ------------------------------------------------------- multiqueue -- */

/* MQ protocol feature: the backend's pairs (GET_QUEUE_NUM) in the config,
 * CTRL_VQ and MQ offered though the backend's own control features are
 * not, queue_max for the pairs and the control queue after them. */
START_TEST(mq_offer_and_geometry)
{
	uint16_t pairs = 0;

	ck_assert_int_eq(start_open(F_CTRL_VQ | F_CTRL_RX | F_MQ, P_REPLY_ACK | P_MQ, 3), 0);
	ck_assert_uint_eq(t->ops->get_features(t) & (F_CTRL_VQ | F_CTRL_RX | F_MQ), F_CTRL_VQ | F_MQ);
	t->ops->read_config(t, VIRTIO_NET_CFG_MAX_PAIRS, &pairs, 2);
	ck_assert_uint_eq(pairs, 3);
	ck_assert_uint_eq(stats().max_pairs, 3);
	ck_assert_uint_eq(stats().protocol_features, P_REPLY_ACK | P_MQ);
	t->ops->set_features(t, F_VERSION_1 | F_CTRL_VQ | F_MQ);
	ck_assert_uint_eq(t->ops->queue_max(t, 5), 256);
	ck_assert_uint_eq(t->ops->queue_max(t, 6), 64); /* the control queue, 2N */
	ck_assert_uint_eq(t->ops->queue_max(t, 7), 0);
	has("3 queue pairs");
}
END_TEST

/* Without the MQ protocol feature: one pair, no control queue offered
 * (the backend's CTRL_VQ is not served by any vhost-user backend). */
START_TEST(no_mq_protocol_one_pair)
{
	uint16_t pairs = 0;

	ck_assert_int_eq(start_open(F_CTRL_VQ | F_MQ, P_REPLY_ACK, 4), 0);
	ck_assert_uint_eq(t->ops->get_features(t) & (F_CTRL_VQ | F_MQ), 0);
	t->ops->read_config(t, VIRTIO_NET_CFG_MAX_PAIRS, &pairs, 2);
	ck_assert_uint_eq(pairs, 1);
	ck_assert_uint_eq(t->ops->queue_max(t, 1), 256);
	ck_assert_uint_eq(t->ops->queue_max(t, 2), 0);
}
END_TEST

/* GET_QUEUE_NUM of 0 is refused at open; one beyond what vnet drives is
 * clamped, with a word in the log. */
START_TEST(queue_num_hostile)
{
	ck_assert_int_eq(start_open(0, P_REPLY_ACK | P_MQ, 0), -EPROTO);
	ck_assert_ptr_null(t);
	has("backend serves 0 queue pairs");
	fvu_stop(&be);
	ck_assert_int_eq(start_open(0, P_REPLY_ACK | P_MQ, 1000000), 0);
	ck_assert_uint_eq(stats().max_pairs, VNET_VHOST_USER_MAX_PAIRS);
	has("vnet drives 8");
}
END_TEST

/* DRIVER_OK enables pair 0 alone; VQ_PAIRS_SET on the control queue the
 * transport serves turns the others on and off; the backend never hears
 * of the control queue. */
START_TEST(ctrl_queue_sets_pairs)
{
	const uint64_t f = F_VERSION_1 | F_CTRL_VQ | F_MQ;

	ck_assert_int_eq(start_open(F_MQ, P_REPLY_ACK | P_MQ, 2), 0);
	bring_up(f, 2);
	ck_assert_int_eq(setup_ctrl(4), 0);
	driver_ok();
	ck_assert_uint_eq(status_of(), ST_UP | VIRTIO_STATUS_DRIVER_OK);
	ck_assert_uint_eq(enabled(), 0x3);
	ck_assert_uint_eq(stats().pairs_enabled, 1);
	ck_assert_int_eq(vq_pairs_set(4, 0, 2), VIRTIO_NET_OK);
	ck_assert_uint_eq(enabled(), 0xf);
	ck_assert_uint_eq(stats().pairs_enabled, 2);
	ck_assert_int_eq(vq_pairs_set(4, 2, 1), VIRTIO_NET_OK);
	ck_assert_uint_eq(enabled(), 0x3);
	ck_assert_int_eq(vq_pairs_set(4, 4, 2), VIRTIO_NET_OK);
	ck_assert_uint_eq(enabled(), 0xf);
	ck_assert_uint_eq(stats().ctrl_commands, 3);
	/* the backend saw rings 0-3 only, and was told MQ but not CTRL_VQ */
	ck_assert_uint_eq(be.ring_set, 0x3);
}
END_TEST

/* Commands the transport must refuse: more pairs than offered, zero, an
 * unknown class, a short payload; a chain without an ack byte is
 * completed with length 0. Nothing changes at the backend. */
START_TEST(ctrl_queue_refuses)
{
	const uint8_t rx_promisc[3] = {VIRTIO_NET_CTRL_RX, 0, 1};
	const uint8_t short_mq[3] = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 2};

	ck_assert_int_eq(start_open(F_MQ, P_REPLY_ACK | P_MQ, 2), 0);
	bring_up(F_VERSION_1 | F_CTRL_VQ | F_MQ, 2);
	ck_assert_int_eq(setup_ctrl(4), 0);
	driver_ok();
	ck_assert_int_eq(vq_pairs_set(4, 0, 3), VIRTIO_NET_ERR);
	ck_assert_int_eq(vq_pairs_set(4, 2, 0), VIRTIO_NET_ERR);
	ck_assert_int_eq(ctrl_cmd(4, 4, rx_promisc, 3, 0), VIRTIO_NET_ERR);
	ck_assert_int_eq(ctrl_cmd(4, 6, short_mq, 3, 0), VIRTIO_NET_ERR);
	ck_assert_int_eq(ctrl_cmd(4, 8, short_mq, 3, 1), -1);
	ck_assert_uint_eq(enabled(), 0x3);
	ck_assert_uint_eq(stats().pairs_enabled, 1);
}
END_TEST

/* The backend refuses to enable pair 1's rings (REPLY_ACK nack): the
 * command is answered ERR, the driver keeps one pair. */
START_TEST(ctrl_pairs_refused_by_backend)
{
	struct fvu_fault f = {VHOST_USER_SET_VRING_ENABLE, 2, FVU_NACK};

	fvu_prepare(&be, path, F_VERSION_1 | F_MQ | VHOST_USER_F_PROTOCOL_FEATURES, P_REPLY_ACK | P_MQ, &f);
	be.queue_num = 2;
	ck_assert_int_eq(fvu_listen(&be), 0);
	ck_assert_int_eq(vnet_vhost_user_open(&t, path, NULL), 0);
	bring_up(F_VERSION_1 | F_CTRL_VQ | F_MQ, 2);
	ck_assert_int_eq(setup_ctrl(4), 0);
	driver_ok();
	ck_assert_uint_eq(enabled(), 0x3);
	ck_assert_int_eq(vq_pairs_set(4, 0, 2), VIRTIO_NET_ERR);
	ck_assert_uint_eq(stats().pairs_enabled, 1);
	has("enabling ring 2 failed");
}
END_TEST

/* A control ring outside the device's memory is refused. */
START_TEST(ctrl_ring_outside_memory)
{
	struct vnet_vq_addrs a = {0x10, 0x1000, 0x2000};

	ck_assert_int_eq(start_open(F_MQ, P_REPLY_ACK | P_MQ, 2), 0);
	bring_up(F_VERSION_1 | F_CTRL_VQ | F_MQ, 2);
	ck_assert_int_eq(t->ops->queue_setup(t, 4, 16, &a), -EFAULT);
	has("control queue 4 is not in the device's DMA memory");
}
END_TEST

/* ------------------------------------------------------- packed ring -- */

/* SET_VRING_BASE of a fresh packed ring: index 0, wrap counter 1 (bit
 * 15); split: 0. GET_VRING_BASE answers are checked: a packed index at
 * or past the ring size, or bits above 15, are a backend's lie. */
START_TEST(packed_base_carries_wrap)
{
	ck_assert_int_eq(start_open(F_RING_PACKED, P_REPLY_ACK, 1), 0);
	bring_up(F_VERSION_1 | F_RING_PACKED, 1);
	driver_ok();
	ck_assert_uint_eq(be.base[0], VHOST_USER_VRING_PACKED_WRAP);
	ck_assert_uint_eq(be.base[1], VHOST_USER_VRING_PACKED_WRAP);
	be.base_reply = VHOST_USER_VRING_PACKED_WRAP | 63; /* last slot, wrapped: fine */
	ck_assert_int_eq(t->ops->reset(t), 0);
	ck_assert_uint_eq(be.get_bases, 2);
	bring_up(F_VERSION_1 | F_RING_PACKED, 1);
	driver_ok();
	be.base_reply = VHOST_USER_VRING_PACKED_WRAP | 64; /* index == size */
	ck_assert_int_eq(t->ops->reset(t), -EPROTO);
	has("bad GET_VRING_BASE answer for ring 0 (index 0, base 0x8040)");
}
END_TEST

START_TEST(split_base_and_its_answer)
{
	ck_assert_int_eq(start_open(0, P_REPLY_ACK, 1), 0);
	bring_up(F_VERSION_1, 1);
	driver_ok();
	ck_assert_uint_eq(be.base[0], 0);
	be.base_reply = 0xffff; /* any 16-bit avail index */
	ck_assert_int_eq(t->ops->reset(t), 0);
	bring_up(F_VERSION_1, 1);
	driver_ok();
	be.base_reply = 0x10000;
	ck_assert_int_eq(t->ops->reset(t), -EPROTO);
	has("bad GET_VRING_BASE answer");
}
END_TEST

/* One command on the packed control ring (16 entries at cmem) at
 * position @pos: request and ack descriptors, the head's flags last; the
 * transport's completion must come over the head with the lap's used
 * flags and the chain's id. Returns the ack, or -1 (length 0). */
static int pk_ctrl_cmd(uint16_t q, uint16_t pos, uint16_t id, const uint8_t *cmd, uint32_t len)
{
	struct {
		uint64_t addr;
		uint32_t len;
		uint16_t id, flags;
	} *d = cmem.va;
	uint8_t *buf = (uint8_t *)cmem.va + 8192, *ack = buf + 64;
	uint16_t wrap = (pos & 16) == 0, h = pos & 15, a = (pos + 1) & 15;
	uint16_t av = wrap ? (1u << 7) : (1u << 15), used = wrap ? (1u << 7 | 1u << 15) : 0;

	memcpy(buf, cmd, len);
	*ack = 0xee;
	d[h].addr = cmem.iova + 8192;
	d[h].len = len;
	d[h].id = 0xffff;
	d[a].addr = cmem.iova + 8192 + 64;
	d[a].len = 1;
	d[a].id = id;
	d[a].flags = (uint16_t)(VRING_DESC_F_WRITE | av);
	vnet_wmb();
	d[h].flags = (uint16_t)(VRING_DESC_F_NEXT | av);
	t->ops->notify(t, q);
	ck_assert_uint_eq(d[h].flags & (1u << 7 | 1u << 15), used);
	ck_assert_uint_eq(d[h].id, id);
	if (d[h].len == 0)
		return -1;
	ck_assert_uint_eq(d[h].len, 1);
	return *ack;
}

/* Packed: the control queue the transport serves reads packed chains,
 * over several laps of its ring; a notification with nothing available
 * changes nothing. */
START_TEST(packed_ctrl_queue)
{
	uint8_t c[4] = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 0, 0};
	uint16_t pos;

	ck_assert_int_eq(start_open(F_RING_PACKED | F_MQ, P_REPLY_ACK | P_MQ, 2), 0);
	bring_up(F_VERSION_1 | F_RING_PACKED | F_CTRL_VQ | F_MQ, 2);
	ck_assert_int_eq(setup_ctrl(4), 0);
	driver_ok();
	ck_assert_uint_eq(enabled(), 0x3);
	for (pos = 0; pos < 80; pos += 2) {
		c[2] = (uint8_t)(1 + ((pos / 2) & 1)); /* 1, 2, 1, ... */
		ck_assert_int_eq(pk_ctrl_cmd(4, pos, (uint16_t)(pos / 2), c, 4), VIRTIO_NET_OK);
		ck_assert_uint_eq(enabled(), c[2] == 2 ? 0xf : 0x3);
	}
	t->ops->notify(t, 4);
	ck_assert_uint_eq(stats().ctrl_commands, 40);
	c[2] = 3;
	ck_assert_int_eq(pk_ctrl_cmd(4, pos, 7, c, 4), VIRTIO_NET_ERR);
}
END_TEST

/* ------------------------------------------------------------ STATUS -- */

START_TEST(status_follows_the_handshake)
{
	ck_assert_int_eq(start_open(0, P_REPLY_ACK | P_STATUS, 1), 0);
	bring_up(F_VERSION_1, 1);
	ck_assert_uint_eq(be.status, ST_UP);
	driver_ok();
	ck_assert_uint_eq(be.status, ST_UP | VIRTIO_STATUS_DRIVER_OK);
	ck_assert_uint_eq(stats().backend_status, ST_UP | VIRTIO_STATUS_DRIVER_OK);
	ck_assert_int_eq(t->ops->reset(t), 0);
	ck_assert_uint_eq(be.status, 0);
	ck_assert_uint_eq(be.statuses, 3);
}
END_TEST

/* The backend's GET_STATUS without FEATURES_OK: the features did not
 * take, and FEATURES_OK does not stick (spec 3.1.1). */
START_TEST(status_refuses_features)
{
	fvu_prepare(&be, path, F_VERSION_1 | VHOST_USER_F_PROTOCOL_FEATURES, P_REPLY_ACK | P_STATUS, NULL);
	be.refuse_features_ok = 1;
	ck_assert_int_eq(fvu_listen(&be), 0);
	ck_assert_int_eq(vnet_vhost_user_open(&t, path, NULL), 0);
	t->ops->set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	t->ops->set_features(t, F_VERSION_1);
	t->ops->set_status(t, ST_UP);
	ck_assert_uint_eq(status_of() & VIRTIO_STATUS_FEATURES_OK, 0);
	has("did not accept the features");
}
END_TEST

START_TEST(stats_argument_errors)
{
	struct vnet_vhost_user_stats s;
	struct vnet_transport other = {0};

	ck_assert_int_eq(vnet_vhost_user_stats(NULL, &s), -EINVAL);
	ck_assert_int_eq(vnet_vhost_user_stats(&other, &s), -EINVAL);
	ck_assert_int_eq(vnet_vhost_user_alive(&other), -EINVAL);
	ck_assert_int_eq(start_open(0, P_REPLY_ACK, 1), 0);
	ck_assert_int_eq(vnet_vhost_user_stats(t, NULL), -EINVAL);
	ck_assert(stats().connected);
}
END_TEST

static Suite *vu_mq_suite(void)
{
	Suite *s = suite_create("vhost_user_mq");
	TCase *c = tcase_create("mq");

	tcase_add_checked_fixture(c, setup, teardown);
	tcase_set_timeout(c, 30);
	tcase_add_test(c, mq_offer_and_geometry);
	tcase_add_test(c, no_mq_protocol_one_pair);
	tcase_add_test(c, queue_num_hostile);
	tcase_add_test(c, ctrl_queue_sets_pairs);
	tcase_add_test(c, ctrl_queue_refuses);
	tcase_add_test(c, ctrl_pairs_refused_by_backend);
	tcase_add_test(c, ctrl_ring_outside_memory);
	tcase_add_test(c, packed_base_carries_wrap);
	tcase_add_test(c, split_base_and_its_answer);
	tcase_add_test(c, packed_ctrl_queue);
	tcase_add_test(c, status_follows_the_handshake);
	tcase_add_test(c, status_refuses_features);
	tcase_add_test(c, stats_argument_errors);
	suite_add_tcase(s, c);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(vu_mq_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
