/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Device bring-up, recovery and the control queue: the cases mutation
 * testing (tools/mutants, tools/mutants.list) found no test for. Each test
 * names the mutant it kills. A wrapping transport (wrap_*) forwards to the
 * model and plays the misbehaviour the model itself cannot: a device that
 * fails at DRIVER_OK, that offers other features after a reset, that
 * writes a stray used entry on the control queue.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vnet/model.h>
#include <vnet/vnet.h>

#include "net/dev.h"
#include "testutil.h"
#include "transport/transport.h"

/* ---- a transport that forwards to the model's, with faults of its own --- */

struct wrap {
	struct vnet_transport t;
	struct vnet_transport *in;
	bool fail_at_driver_ok; /* status reads NEEDS_RESET once DRIVER_OK was written */
	uint64_t drop_features;  /* features no longer offered (after the next reset) */
	bool dropping;           /* drop_features applies */
	bool ctrl_stray;         /* the control queue's next answer names descriptor 1 */
	struct vnet_dev *dev;    /* for ctrl_stray */
	uint16_t ctrl_q;
};

static struct wrap W;

static struct vnet_transport *in(struct vnet_transport *t) { return ((struct wrap *)t)->in; }

static int wrap_reset(struct vnet_transport *t)
{
	if (W.drop_features)
		W.dropping = true;
	return in(t)->ops->reset(in(t));
}

static uint8_t wrap_get_status(struct vnet_transport *t)
{
	uint8_t s = in(t)->ops->get_status(in(t));

	if (W.fail_at_driver_ok && (s & VIRTIO_STATUS_DRIVER_OK))
		s |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	return s;
}

static void wrap_set_status(struct vnet_transport *t, uint8_t s) { in(t)->ops->set_status(in(t), s); }

static uint64_t wrap_get_features(struct vnet_transport *t)
{
	uint64_t f = in(t)->ops->get_features(in(t));

	return W.dropping ? f & ~W.drop_features : f;
}

static void wrap_set_features(struct vnet_transport *t, uint64_t f) { in(t)->ops->set_features(in(t), f); }
static uint32_t wrap_generation(struct vnet_transport *t) { return in(t)->ops->config_generation(in(t)); }

static void wrap_read_config(struct vnet_transport *t, uint32_t off, void *buf, uint32_t len)
{
	in(t)->ops->read_config(in(t), off, buf, len);
}

static uint16_t wrap_queue_max(struct vnet_transport *t, uint16_t q) { return in(t)->ops->queue_max(in(t), q); }

static int wrap_queue_setup(struct vnet_transport *t, uint16_t q, uint16_t size, const struct vnet_vq_addrs *a)
{
	return in(t)->ops->queue_setup(in(t), q, size, a);
}

static void wrap_notify(struct vnet_transport *t, uint16_t q)
{
	in(t)->ops->notify(in(t), q);
	/* the model answered the command at once; the answer is rewritten
	 * to name descriptor 1, which no chain starts at */
	if (W.ctrl_stray && W.dev && q == W.ctrl_q) {
		struct vnet_vq *vq = &W.dev->ctrlq;
		uint16_t u = vq->used->idx;

		vq->used->ring[(uint16_t)(u - 1) & vq->mask].id = 1;
		W.ctrl_stray = false;
	}
}

static void wrap_close(struct vnet_transport *t) { (void)t; }

static const struct vnet_transport_ops wrap_ops = {
	.name = "wrap",
	.reset = wrap_reset,
	.get_status = wrap_get_status,
	.set_status = wrap_set_status,
	.get_features = wrap_get_features,
	.set_features = wrap_set_features,
	.config_generation = wrap_generation,
	.read_config = wrap_read_config,
	.queue_max = wrap_queue_max,
	.queue_setup = wrap_queue_setup,
	.notify = wrap_notify,
	.close = wrap_close,
};

static struct vnet_model *M;
static struct vnet_pool *P;

static struct vnet_transport *wrap_open(uint64_t offer)
{
	struct vnet_model_conf mc = {.features = offer};
	struct vnet_pool_conf pc = {.count = 1024};

	ck_assert_int_eq(vnet_model_create(&M, &mc), 0);
	ck_assert_int_eq(vnet_pool_create(&P, &pc), 0);
	memset(&W, 0, sizeof(W));
	W.t.ops = &wrap_ops;
	W.in = vnet_model_transport(M);
	return &W.t;
}

static void wrap_done(struct vnet_dev *d)
{
	vnet_dev_close(d);
	ck_assert_uint_eq(vnet_pool_in_use(P), 0);
	ck_assert_int_eq(vnet_pool_destroy(P), 0);
	vnet_model_destroy(M);
}

#define OFFER (VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_STATUS | VNET_F_MTU)

/* ---- negotiation ---------------------------------------------------------- */

static uint64_t negotiated(uint64_t offer, uint64_t want)
{
	struct vnet_dev_conf dc = {.features = want};
	struct vnet_net_config cfg;
	struct vnet_model_state st;
	struct rig r;
	struct vnet_model_conf mc = {.features = offer};

	ck_assert_int_eq(rig_open(&r, &mc, &dc, 0, 1), 0);
	ck_assert_int_eq(vnet_dev_config(r.dev, &cfg), 0);
	vnet_model_get_state(r.m, &st);
	ck_assert_uint_eq(st.features, cfg.features); /* what the device was told */
	rig_close(&r);
	return cfg.features;
}

/* mutant neg_tso_without_csum: spec 5.1.3.1, HOST_TSO4/6 require CSUM:
 * asked for without it, they are not negotiated (the device offers all) */
START_TEST(tso_needs_csum)
{
	uint64_t tso = VNET_F_HOST_TSO4 | VNET_F_HOST_TSO6, f;

	f = negotiated(OFFER | tso | VNET_F_CSUM, VNET_F_DEFAULT | tso);
	ck_assert_uint_eq(f & (tso | VNET_F_CSUM), 0);
	f = negotiated(OFFER | tso | VNET_F_CSUM, VNET_F_DEFAULT | tso | VNET_F_CSUM);
	ck_assert_uint_eq(f & (tso | VNET_F_CSUM), tso | VNET_F_CSUM);
}
END_TEST

/* mutant neg_ctrl_deps_kept: spec 5.1.3.1, what needs the control queue
 * goes without it */
START_TEST(ctrl_features_need_ctrl_vq)
{
	uint64_t deps = VNET_F_CTRL_RX | VNET_F_CTRL_VLAN | VNET_F_GUEST_ANNOUNCE | VNET_F_CTRL_MAC_ADDR, f;

	f = negotiated(OFFER | deps | VNET_F_CTRL_VQ, VNET_F_DEFAULT | deps);
	ck_assert_uint_eq(f & (deps | VNET_F_CTRL_VQ), 0);
	f = negotiated(OFFER | deps | VNET_F_CTRL_VQ, VNET_F_DEFAULT | deps | VNET_F_CTRL_VQ);
	ck_assert_uint_eq(f & (deps | VNET_F_CTRL_VQ), deps | VNET_F_CTRL_VQ);
}
END_TEST

/* ---- bring-up and recovery ------------------------------------------------ */

/* mutant driver_ok_failure_ignored: a device that fails at DRIVER_OK is
 * not reported open, and nothing is left behind */
START_TEST(driver_ok_failure_refused)
{
	struct vnet_dev_conf dc = {0};
	struct vnet_transport *t = wrap_open(OFFER);
	struct vnet_dev *d = NULL;

	W.fail_at_driver_ok = true;
	dc.pool = P;
	ck_assert_int_eq(vnet_dev_open(&d, t, &dc), -EIO);
	ck_assert_ptr_null(d);
	ck_assert_uint_eq(vnet_pool_in_use(P), 0);
	wrap_done(NULL);
}
END_TEST

/* mutant recover_features_changed: after the recovery's reset the device
 * offers less than was negotiated: recovery fails and says so */
START_TEST(recover_refuses_changed_features)
{
	struct vnet_dev_conf dc = {0};
	struct vnet_transport *t = wrap_open(OFFER | VNET_F_EVENT_IDX);
	struct vnet_net_config cfg;
	struct vnet_dev *d = NULL;

	dc.pool = P;
	ck_assert_int_eq(vnet_dev_open(&d, t, &dc), 0);
	ck_assert_int_eq(vnet_dev_config(d, &cfg), 0);
	ck_assert(cfg.features & VNET_F_EVENT_IDX);
	W.drop_features = VNET_F_EVENT_IDX;
	ck_assert_int_eq(vnet_dev_recover(d), -EPROTO);
	ck_assert_int_eq(vnet_dev_broken(d), 1);
	ck_assert_uint_eq(vnet_rx_burst(d, 0, (struct vnet_buf *[1]){NULL}, 1), 0);
	wrap_done(d);
}
END_TEST

/* ---- the control queue ----------------------------------------------------- */

/* mutant ctrl_ack_ignored: the device answers VIRTIO_NET_ERR: -EIO */
START_TEST(ctrl_err_ack_is_an_error)
{
	struct vnet_dev_conf dc = {.features = VNET_F_DEFAULT | VNET_F_CTRL_VQ | VNET_F_CTRL_RX};
	struct vnet_model_conf mc = {.features = OFFER | VNET_F_CTRL_VQ | VNET_F_CTRL_RX};
	struct vnet_model_stats ms;
	struct rig r;

	ck_assert_int_eq(rig_open(&r, &mc, &dc, 0, 1), 0);
	/* a command class the device does not know */
	ck_assert_int_eq(vnet_ctrl_cmd(r.dev, 0x7f, 0, NULL, 0), -EIO);
	/* CTRL_VLAN was not negotiated: the device refuses it too */
	ck_assert_int_eq(vnet_ctrl_cmd(r.dev, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD,
	                               &(uint16_t){5}, 2), -EIO);
	vnet_model_stats(r.m, &ms);
	ck_assert_uint_eq(ms.ctrl_errs, 2);
	/* an error is an answer, not a broken queue: the next command works */
	ck_assert_int_eq(vnet_dev_set_rx_mode(r.dev, true, false), 0);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 0);
	rig_close(&r);
}
END_TEST

/* mutant ctrl_used_unchecked: a used entry that is not the one chain in
 * flight (descriptor 0) breaks the control queue */
START_TEST(ctrl_stray_used_entry_breaks)
{
	struct vnet_dev_conf dc = {.features = VNET_F_DEFAULT | VNET_F_CTRL_VQ | VNET_F_CTRL_RX};
	struct vnet_transport *t = wrap_open(OFFER | VNET_F_CTRL_VQ | VNET_F_CTRL_RX);
	struct vnet_dev *d = NULL;

	dc.pool = P;
	ck_assert_int_eq(vnet_dev_open(&d, t, &dc), 0);
	W.dev = d;
	W.ctrl_q = d->ctrlq.qidx;
	ck_assert_int_eq(vnet_dev_set_rx_mode(d, false, false), 0);
	W.ctrl_stray = true;
	ck_assert_int_eq(vnet_ctrl_cmd(d, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &(uint8_t){1}, 1), -EIO);
	ck_assert(d->ctrlq.broken);
	ck_assert_uint_eq(d->ctrlq.stats.drop_bad_id, 1);
	ck_assert_int_eq(vnet_dev_broken(d), 1);
	ck_assert_int_eq(vnet_dev_set_rx_mode(d, false, false), -EIO); /* until a recovery */
	ck_assert_int_eq(vnet_dev_recover(d), 0);
	ck_assert_int_eq(vnet_dev_set_rx_mode(d, false, false), 0);
	wrap_done(d);
}
END_TEST

/* ---- the fast path on a broken ring ---------------------------------------- */

/* mutant rx_broken_queue_read: once the device broke the RX ring, bursts
 * keep off it: the bad entry is counted once, not once per burst */
START_TEST(broken_rx_ring_left_alone)
{
	struct vnet_model_conf mc = {.backend = VNET_MODEL_SOURCE};
	struct vnet_queue_stats rx0, rx1;
	struct vnet_buf *b[32];
	struct rig r;
	uint16_t n, i;
	int k;

	ck_assert_int_eq(rig_open(&r, &mc, NULL, 0, 1), 0);
	vnet_model_fault(r.m, VNET_FAULT_USED_ID_RANGE, 1);
	for (k = 0; k < 100 && vnet_dev_broken(r.dev) != 1; k++) {
		vnet_model_poll(r.m);
		n = vnet_rx_burst(r.dev, 0, b, 32);
		vnet_pool_free_bulk(b, n);
		vnet_rx_refill(r.dev, 0);
	}
	ck_assert_int_eq(vnet_dev_broken(r.dev), 1);
	vnet_queue_stats(r.dev, 0, true, &rx0);
	ck_assert_uint_eq(rx0.drop_bad_id, 1);
	for (i = 0; i < 10; i++) {
		vnet_model_poll(r.m);
		ck_assert_uint_eq(vnet_rx_burst(r.dev, 0, b, 32), 0);
	}
	vnet_queue_stats(r.dev, 0, true, &rx1);
	ck_assert_uint_eq(rx1.drop_bad_id, 1);
	ck_assert_uint_eq(rx1.bursts, rx0.bursts);
	ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
	rig_close(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mutants_dev");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, tso_needs_csum);
	tcase_add_test(tc, ctrl_features_need_ctrl_vq);
	tcase_add_test(tc, driver_ok_failure_refused);
	tcase_add_test(tc, recover_refuses_changed_features);
	tcase_add_test(tc, ctrl_err_ack_is_an_error);
	tcase_add_test(tc, ctrl_stray_used_entry_breaks);
	tcase_add_test(tc, broken_rx_ring_left_alone);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return suite_run(suite());
}
