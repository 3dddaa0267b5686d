/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vhost-user frontend against a backend that misbehaves on one
 * request (fake_vu.c): it does not answer, answers with the wrong request
 * id, size, flags or version, refuses, or hangs up. Every case must end
 * in an error code and a log line that say what happened, never in a
 * hang or a transport that believes the backend.
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

#define F_VERSION_1 (1ull << 32)
#define P_REPLY_ACK (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK)
#define P_CONFIG    (1ull << VHOST_USER_PROTOCOL_F_CONFIG)
#define TIMEOUT_MS  1000 /* generous: a loaded machine must not time out a backend that answers */

static char dir[64], path[108];
static struct fvu be;
static struct vnet_transport *t;
static struct vnet_dma mem;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vnet-vuf-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/be.sock", dir);
	t = NULL;
	be.lfd = -1; /* nothing to stop until a test starts the backend */
	memset(&mem, 0, sizeof(mem));
	logcap_start();
}

static void teardown(void)
{
	vnet_transport_close(t);
	t = NULL;
	fvu_stop(&be);
	vnet_dma_free(&mem);
	ck_assert_int_eq(rmdir(dir), 0);
	vnet_set_log(NULL, NULL, VNET_LOG_ERR);
}

/* A backend offering VERSION_1 and @proto, misbehaving as @f says. */
static int start_open(uint64_t proto, uint32_t request, unsigned after, enum fvu_how how)
{
	struct fvu_fault f = {request, after, how};
	struct vnet_vhost_user_opts o = {.timeout_ms = TIMEOUT_MS, .queue_max = 256};

	ck_assert_int_eq(fvu_start_faulty(&be, path, F_VERSION_1 | VHOST_USER_F_PROTOCOL_FEATURES,
	                                  proto, &f), 0);
	return vnet_vhost_user_open(&t, path, &o);
}

static void open_ok(uint64_t proto, uint32_t request, unsigned after, enum fvu_how how)
{
	int rc = start_open(proto, request, after, how);

	ck_assert_msg(rc == 0, "open: %d\n%s", rc, logcap_buf);
}

static void has(const char *s)
{
	ck_assert_msg(logcap_has(s), "want '%s' in:\n%s", s, logcap_buf);
}

/* Three pages of shared DMA memory, given to the transport as the
 * device's; ring @q set up in it. */
static int setup_ring(uint16_t q)
{
	struct vnet_vq_addrs a;

	if (!mem.va) {
		ck_assert_int_eq(vnet_dma_alloc(&mem, 3 * 4096, 4096), 0);
		ck_assert_int_eq(t->ops->set_dma_regions(t, &mem, 1), 0);
	}
	a.desc = mem.iova;
	a.avail = mem.iova + 4096;
	a.used = mem.iova + 8192;
	return t->ops->queue_setup(t, q, 64, &a);
}

static void driver_ok(void)
{
	t->ops->set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	t->ops->set_features(t, F_VERSION_1);
	t->ops->set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	                      VIRTIO_STATUS_FEATURES_OK);
	ck_assert_int_eq(setup_ring(0), 0);
	ck_assert_int_eq(setup_ring(1), 0);
	t->ops->set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	                      VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* ------------------------------------------------------ bad replies -- */

START_TEST(no_reply_times_out)
{
	uint64_t t0 = vnet_now_us();

	ck_assert_int_eq(start_open(P_REPLY_ACK, VHOST_USER_GET_FEATURES, 0, FVU_SILENT), -ETIMEDOUT);
	ck_assert_ptr_null(t);
	ck_assert_uint_ge(vnet_now_us() - t0, TIMEOUT_MS * 1000u);
	has("no reply to request 1 within 1000 ms");
	has("handshake failed: ");
	ck_assert_uint_eq(be.faults, 1);
}
END_TEST

START_TEST(reply_to_another_request)
{
	ck_assert_int_eq(start_open(P_REPLY_ACK, VHOST_USER_GET_FEATURES, 0, FVU_WRONG_REQUEST),
	                 -EPROTO);
	has("bad reply (request 2 flags 0x5 size 8) to request 1");
}
END_TEST

START_TEST(reply_of_the_wrong_size)
{
	ck_assert_int_eq(start_open(P_REPLY_ACK, VHOST_USER_GET_PROTOCOL_FEATURES, 0, FVU_WRONG_SIZE),
	                 -EPROTO);
	has("handshake failed");
	ck_assert_ptr_null(t);
	fvu_stop(&be);
	logcap_start();
	ck_assert_int_eq(start_open(P_REPLY_ACK, VHOST_USER_GET_FEATURES, 0, FVU_OVERSIZE), -EPROTO);
	has("bad reply (request 1 flags 0x5 size 16) to request 1");
}
END_TEST

START_TEST(reply_larger_than_any_message)
{
	char want[96];

	ck_assert_int_eq(start_open(P_REPLY_ACK, VHOST_USER_GET_FEATURES, 0, FVU_TOO_LARGE), -EPROTO);
	snprintf(want, sizeof(want), "reply of %zu bytes is too large",
	         sizeof(((struct vhost_user_msg *)0)->p) + 1);
	has(want);
}
END_TEST

START_TEST(reply_without_reply_flag_or_version)
{
	ck_assert_int_eq(start_open(P_REPLY_ACK, VHOST_USER_GET_FEATURES, 0, FVU_NOT_A_REPLY), -EPROTO);
	has("bad reply (request 1 flags 0x1 size 8)");
	fvu_stop(&be);
	logcap_start();
	ck_assert_int_eq(start_open(P_REPLY_ACK, VHOST_USER_GET_FEATURES, 0, FVU_BAD_VERSION), -EPROTO);
	has("bad reply (request 1 flags 0x6 size 8)");
}
END_TEST

/* ------------------------------------------------------------ hang-ups -- */

START_TEST(hang_up_instead_of_reply)
{
	ck_assert_int_eq(start_open(P_REPLY_ACK, VHOST_USER_GET_FEATURES, 0, FVU_HANG_UP),
	                 -ECONNRESET);
	has("backend went away (waiting for a reply)");
	fvu_stop(&be);
	logcap_start();
	/* half a reply: the header, then nothing */
	ck_assert_int_eq(start_open(P_REPLY_ACK, VHOST_USER_GET_FEATURES, 0, FVU_HALF_REPLY),
	                 -ECONNRESET);
	has("backend went away (waiting for a reply)");
}
END_TEST

/* Without REPLY_ACK a hang-up shows at the next send: the memory table
 * sent again later meets a closed socket. After that the transport knows
 * the backend is gone and sends nothing more. */
START_TEST(hang_up_seen_at_send)
{
	open_ok(0, VHOST_USER_SET_MEM_TABLE, 1, FVU_HANG_UP);
	ck_assert_int_eq(setup_ring(0), 0);
	ck_assert_int_eq(t->ops->set_dma_regions(t, &mem, 1), 0); /* the backend hangs up on it */
	fvu_join(&be);
	ck_assert_uint_eq(be.faults, 1);
	ck_assert_uint_eq(be.tables, 1);
	ck_assert_int_eq(t->ops->set_dma_regions(t, &mem, 1), -ECONNRESET);
	has("backend went away (send)");
	ck_assert_int_eq(vnet_vhost_user_alive(t), -ECONNRESET);
	ck_assert_uint_eq(t->ops->get_status(t) & VIRTIO_STATUS_DEVICE_NEEDS_RESET,
	                  VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	ck_assert_int_eq(setup_ring(1), -ECONNRESET);
	ck_assert_int_eq(t->ops->reset(t), -ECONNRESET);
}
END_TEST

/* ----------------------------------------------------- ring and reset -- */

/* With REPLY_ACK the backend refusing to enable a ring puts
 * DEVICE_NEEDS_RESET in the status the driver set. */
START_TEST(ring_enable_refused)
{
	open_ok(P_REPLY_ACK, VHOST_USER_SET_VRING_ENABLE, 0, FVU_NACK);
	driver_ok();
	has("backend refused request 18");
	has("enabling ring 0 failed");
	ck_assert_uint_eq(t->ops->get_status(t) & VIRTIO_STATUS_DEVICE_NEEDS_RESET,
	                  VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	ck_assert_uint_eq(be.enabled, 1); /* recorded, but refused: ring 1 never asked */
}
END_TEST

/* A reset stops each started ring (SET_VRING_ENABLE 0, GET_VRING_BASE);
 * a backend that never confirms a stop fails the reset, and the rings
 * count as stopped either way (nothing is asked again). Status 0 is
 * the same reset. */
START_TEST(reset_waits_for_ring_stop)
{
	open_ok(P_REPLY_ACK, VHOST_USER_GET_VRING_BASE, 1, FVU_SILENT);
	driver_ok();
	ck_assert_uint_eq(be.enabled, 3);
	t->ops->set_status(t, 0); /* ring 0 stopped; ring 1's stop never confirmed */
	has("no reply to request 11 within 1000 ms");
	ck_assert_uint_eq(be.get_bases, 1); /* answered; the second one went unanswered */
	ck_assert_uint_eq(be.faults, 1);
	ck_assert_uint_eq(be.enabled, 0);
	ck_assert_uint_eq(t->ops->get_status(t), 0);
	ck_assert_int_eq(t->ops->reset(t), 0);
	ck_assert_uint_eq(be.faults, 1);
}
END_TEST

START_TEST(queue_setup_refusals)
{
	struct vnet_vq_addrs a = {.desc = 0x1000, .avail = 0x2000, .used = 0x3000};

	open_ok(P_REPLY_ACK, 0, 0, FVU_ANSWER);
	ck_assert_int_eq(t->ops->queue_setup(t, 2, 64, &a), -EINVAL);   /* no such ring */
	ck_assert_int_eq(t->ops->queue_setup(t, 0, 0, &a), -EINVAL);
	ck_assert_int_eq(t->ops->queue_setup(t, 0, 48, &a), -EINVAL);  /* not a power of 2 */
	ck_assert_int_eq(t->ops->queue_setup(t, 0, 512, &a), -EINVAL); /* > queue_max */
	ck_assert_uint_eq(t->ops->queue_max(t, 1), 256);
	ck_assert_uint_eq(t->ops->queue_max(t, 2), 0);
	ck_assert_int_eq(vnet_dma_alloc(&mem, 4096, 4096), 0);
	ck_assert_int_eq(t->ops->set_dma_regions(t, &mem, 1), 0);
	/* rings outside the device's memory: the backend could not map them */
	ck_assert_int_eq(t->ops->queue_setup(t, 0, 64, &a), -EFAULT);
	has("ring 0 is not in the device's DMA memory");
	has("setting up ring 0 failed");
	ck_assert_uint_eq(be.ring_set, 0);
}
END_TEST

/* At most VHOST_USER_MAX_REGIONS regions; one without an fd cannot be
 * shared and is left out of the table. */
START_TEST(memory_table_limits)
{
	struct vnet_dma r[VHOST_USER_MAX_REGIONS + 1];

	open_ok(P_REPLY_ACK, 0, 0, FVU_ANSWER);
	memset(r, 0, sizeof(r));
	ck_assert_int_eq(t->ops->set_dma_regions(t, r, VHOST_USER_MAX_REGIONS + 1), -E2BIG);
	has("the device has 9 DMA regions; a backend maps at most 8");
	ck_assert_int_eq(vnet_dma_alloc(&mem, 3 * 4096, 4096), 0);
	r[0] = mem;
	r[1].va = (void *)0x1000;
	r[1].iova = 0x1000;
	r[1].len = 4096;
	r[1].fd = -1;
	ck_assert_int_eq(t->ops->set_dma_regions(t, r, 2), 0);
	ck_assert_int_eq(setup_ring(0), 0);
	ck_assert_uint_eq(be.tables, 1);
	ck_assert_uint_eq(be.nreg, 1);
	ck_assert_uint_eq(be.fds_ok, 1);
	ck_assert_uint_eq(be.reg[0].guest_addr, mem.iova);
	/* a table already sent goes again at once */
	ck_assert_int_eq(t->ops->set_dma_regions(t, r, 1), 0);
	ck_assert_uint_eq(be.tables, 2);
}
END_TEST

/* Each ring set-up request refused (REPLY_ACK) or left unanswered fails
 * the set-up with that error, and the ring is not counted as set up. */
START_TEST(ring_setup_request_refused)
{
	static const struct {
		uint32_t request;
		enum fvu_how how;
		int rc;
	} c[] = {
		{VHOST_USER_SET_MEM_TABLE, FVU_NACK, -EPROTO},
		{VHOST_USER_SET_VRING_NUM, FVU_NACK, -EPROTO},
		{VHOST_USER_SET_VRING_BASE, FVU_SILENT, -ETIMEDOUT},
		{VHOST_USER_SET_VRING_ADDR, FVU_NACK, -EPROTO},
		{VHOST_USER_SET_VRING_CALL, FVU_NACK, -EPROTO},
		{VHOST_USER_SET_VRING_KICK, FVU_NACK, -EPROTO},
	};
	unsigned i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char want[64];

		logcap_start();
		open_ok(P_REPLY_ACK, c[i].request, 0, c[i].how);
		ck_assert_int_eq(setup_ring(0), c[i].rc);
		snprintf(want, sizeof(want), c[i].how == FVU_NACK ? "backend refused request %u" :
		         "no reply to request %u", c[i].request);
		has(want);
		ck_assert_uint_eq(be.faults, 1);
		/* not set up: a reset asks the backend nothing about it */
		ck_assert_int_eq(t->ops->reset(t), 0);
		ck_assert_uint_eq(be.get_bases, 0);
		vnet_transport_close(t);
		t = NULL;
		fvu_stop(&be);
		vnet_dma_free(&mem);
	}
}
END_TEST

/* Once the backend has gone, nothing more is sent: config reads give
 * zeros, and FEATURES_OK does not stick (spec 3.1.1). */
START_TEST(nothing_sent_after_hang_up)
{
	uint8_t buf[6];

	open_ok(P_REPLY_ACK | P_CONFIG, VHOST_USER_GET_CONFIG, 0, FVU_HANG_UP);
	memset(buf, 0xaa, sizeof(buf));
	t->ops->read_config(t, 0, buf, sizeof(buf));
	has("backend went away (waiting for a reply)");
	has("GET_CONFIG 0+6 failed");
	ck_assert_mem_eq(buf, "\0\0\0\0\0\0", 6);
	fvu_join(&be);
	logcap_start();
	t->ops->read_config(t, 0, buf, sizeof(buf));
	has("GET_CONFIG 0+6 failed");
	ck_assert(!logcap_has("went away")); /* said once */
	t->ops->set_features(t, F_VERSION_1);
	t->ops->set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	                      VIRTIO_STATUS_FEATURES_OK);
	has("backend refused features 0x140000000");
	ck_assert_uint_eq(t->ops->get_status(t) & VIRTIO_STATUS_FEATURES_OK, 0);
	ck_assert_uint_eq(be.msgs, 5); /* SET_OWNER, GET_FEATURES, GET/SET_PROTOCOL_FEATURES, GET_CONFIG */
}
END_TEST

/* ----------------------------------------------------------------- open -- */

START_TEST(open_argument_and_path_errors)
{
	char long_path[200], file[120], under_file[140];
	FILE *f;

	ck_assert_int_eq(vnet_vhost_user_open(NULL, path, NULL), -EINVAL);
	ck_assert_int_eq(vnet_vhost_user_open(&t, NULL, NULL), -EINVAL);
	ck_assert_int_eq(vnet_vhost_user_open(&t, "", NULL), -EINVAL);
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = 0;
	ck_assert_int_eq(vnet_vhost_user_open(&t, long_path, NULL), -EINVAL);
	has("is longer than 107 bytes");
	ck_assert(!logcap_has("handshake failed"));
	/* a path through a regular file: neither "no socket" nor "nobody listens" */
	snprintf(file, sizeof(file), "%s/file", dir);
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(under_file, sizeof(under_file), "%s/sock", file);
	logcap_start();
	ck_assert_int_eq(vnet_vhost_user_open(&t, under_file, NULL), -ENOTDIR);
	has("vhost-user: connect ");
	has("handshake failed");
	ck_assert_ptr_null(t);
	ck_assert_int_eq(unlink(file), 0);
	be.lfd = -1; /* no backend in this test */
}
END_TEST

/* --------------------------------------------------------------- config -- */

START_TEST(config_from_backend_and_its_error)
{
	static const uint8_t mac[6] = FVU_MAC;
	uint8_t buf[8];

	open_ok(P_REPLY_ACK | P_CONFIG, VHOST_USER_GET_CONFIG, 1, FVU_CONFIG_ERROR);
	ck_assert_uint_eq(t->ops->get_features(t) & (1ull << 5), 0); /* MAC: the backend's to offer */
	t->ops->read_config(t, 0, buf, 6);
	ck_assert_mem_eq(buf, mac, 6);
	memset(buf, 0xaa, sizeof(buf));
	t->ops->read_config(t, 0, buf, 6);
	has("GET_CONFIG 0+6 failed");
	ck_assert_mem_eq(buf, "\0\0\0\0\0\0", 6);
	/* beyond any config: zeros, nothing asked */
	memset(buf, 0xaa, sizeof(buf));
	t->ops->read_config(t, VHOST_USER_MAX_CONFIG - 4, buf, 8);
	ck_assert_mem_eq(buf, "\0\0\0\0\0\0\0\0", 8);
	ck_assert_uint_eq(be.faults, 1);
}
END_TEST

/* Without the CONFIG protocol feature the config is made up: MAC, link
 * up, one pair, MTU 1500, and zeros past its 12 bytes. */
START_TEST(synthesized_config_past_its_end)
{
	uint8_t buf[8];

	open_ok(0, 0, 0, FVU_ANSWER);
	ck_assert_uint_eq(t->ops->get_features(t) & (1ull << 5), 1ull << 5);
	memset(buf, 0xaa, sizeof(buf));
	t->ops->read_config(t, 10, buf, sizeof(buf));
	ck_assert_mem_eq(buf, "\xdc\x05\0\0\0\0\0\0", 8);
	ck_assert_int_eq(vnet_vhost_user_alive(NULL), -EINVAL);
}
END_TEST

static Suite *vu_faults_suite(void)
{
	Suite *s = suite_create("vhost_user_faults");
	TCase *r = tcase_create("replies");
	TCase *q = tcase_create("rings");

	tcase_add_checked_fixture(r, setup, teardown);
	tcase_set_timeout(r, 30);
	tcase_add_test(r, no_reply_times_out);
	tcase_add_test(r, reply_to_another_request);
	tcase_add_test(r, reply_of_the_wrong_size);
	tcase_add_test(r, reply_larger_than_any_message);
	tcase_add_test(r, reply_without_reply_flag_or_version);
	tcase_add_test(r, hang_up_instead_of_reply);
	tcase_add_test(r, hang_up_seen_at_send);
	suite_add_tcase(s, r);

	tcase_add_checked_fixture(q, setup, teardown);
	tcase_set_timeout(q, 30);
	tcase_add_test(q, ring_enable_refused);
	tcase_add_test(q, reset_waits_for_ring_stop);
	tcase_add_test(q, queue_setup_refusals);
	tcase_add_test(q, memory_table_limits);
	tcase_add_test(q, config_from_backend_and_its_error);
	tcase_add_test(q, synthesized_config_past_its_end);
	tcase_add_test(q, ring_setup_request_refused);
	tcase_add_test(q, nothing_sent_after_hang_up);
	tcase_add_test(q, open_argument_and_path_errors);
	suite_add_tcase(s, q);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(vu_faults_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
