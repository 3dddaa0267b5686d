/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Faults survived, at the device level, over the in-process model:
 * DEVICE_NEEDS_RESET mid-traffic -> broken -> recover with no buffer lost
 * (the application keeps holding frames across it); recover that fails
 * (stuck reset, refused features, pool too empty) with a clear error and
 * works once the cause is gone; link down/up; pool exhaustion on both
 * sides; a TX ring full for a long time; a device that never completes
 * (reset, TX) gives a bounded wait and a clear error, never a hang.
 *
 * After every step: pool in use == buffers the test holds + descriptors
 * the driver has out; after close every buffer is back (rig_close).
 */
#include <errno.h>
#include <time.h>

#include "testutil.h"
#include "fuzz/fuzz_common.h" /* fuzz_dev_out: descriptors out, white box */

/* Checks for hot loops: a passing ck_assert records its location, which
 * Check (CK_FORK=no) keeps in a list it then processes in quadratic time;
 * these call into Check only on failure. */
#define REQ(c)                                                                           \
	do {                                                                             \
		if (!(c))                                                                \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #c);               \
	} while (0)
#define REQ_MSG(c, ...)                                                                  \
	do {                                                                             \
		if (!(c))                                                                \
			ck_abort_msg(__VA_ARGS__);                                       \
	} while (0)

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- frames with a sequence number and a payload pattern -------------- */

static uint32_t seq_len(uint64_t seq)
{
	return 60u + (uint32_t)(seq * 37u % 1400u);
}

static void put_seq(struct vnet_buf *b, uint64_t seq)
{
	static const uint8_t hdr[14] = {0x52, 0x54, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x88, 0xb5};
	uint32_t i, len = seq_len(seq);

	memcpy(b->data, hdr, 14);
	memcpy(b->data + 14, &seq, 8);
	for (i = 22; i < len; i++)
		b->data[i] = (uint8_t)(seq * 7 + i);
	b->len = len;
}

/* @return the frame's sequence number; fails the test if damaged */
static uint64_t check_seq(const struct vnet_buf *b)
{
	uint64_t s;
	uint32_t i;

	REQ(b->len >= 22);
	memcpy(&s, b->data + 14, 8);
	REQ_MSG(b->len == seq_len(s), "seq %llu: len %u", (unsigned long long)s, (unsigned)b->len);
	for (i = 22; i < b->len; i++)
		REQ_MSG(b->data[i] == (uint8_t)(s * 7 + i), "seq %llu byte %u damaged",
		              (unsigned long long)s, (unsigned)i);
	return s;
}

/* ---- a loopback flow: the application's side ---------------------------- */

struct flow {
	struct rig *r;
	uint64_t next;      /* next sequence number to send */
	uint64_t expect;    /* lowest acceptable next received */
	uint64_t got;       /* frames received */
	struct vnet_buf *held[256];
	uint32_t nheld;     /* frames the application keeps */
};

static void account(const struct flow *f)
{
	uint32_t out = fuzz_dev_out(f->r->dev, NULL, NULL);

	REQ_MSG(vnet_pool_in_use(f->r->pool) == f->nheld + out,
	              "pool in use %u != held %u + out %u", (unsigned)vnet_pool_in_use(f->r->pool),
	              (unsigned)f->nheld, (unsigned)out);
}

/* One round: send up to @burst, let the device work, receive (keeping
 * up to @keep frames), refill. Frames may be lost to faults, but never
 * damaged, duplicated or reordered. */
static void flow_round(struct flow *f, uint16_t burst, uint32_t keep, bool poll)
{
	struct vnet_buf *b[64], *in[64];
	uint16_t k, n, i, r;

	if (burst && vnet_pool_alloc_bulk(f->r->pool, b, burst) == 0) {
		for (i = 0; i < burst; i++)
			put_seq(b[i], f->next + i);
		k = vnet_tx_burst(f->r->dev, 0, b, burst);
		f->next += k;
		vnet_pool_free_bulk(b + k, (uint32_t)(burst - k));
	}
	if (poll)
		vnet_model_poll(f->r->m);
	/* all that is ready, before the refill (a duplicated used entry left
	 * behind would name a descriptor posted again meanwhile) */
	for (r = 0; r < 8; r++) {
		n = vnet_rx_burst(f->r->dev, 0, in, 64);
		for (i = 0; i < n; i++) {
			uint64_t s = check_seq(in[i]);
			REQ_MSG(s >= f->expect && s < f->next, "seq %llu: duplicate, reordered or never sent",
			        (unsigned long long)s);
			f->expect = s + 1;
			f->got++;
			if (f->nheld < keep && f->nheld < 256)
				f->held[f->nheld++] = in[i];
			else
				vnet_buf_free(in[i]);
		}
		if (n < 64)
			break;
	}
	vnet_rx_refill(f->r->dev, 0);
	account(f);
}

static void flow_release(struct flow *f)
{
	vnet_pool_free_bulk(f->held, f->nheld);
	f->nheld = 0;
}

/* Send @total more frames with no fault armed: they arrive, and so does
 * everything still outstanding from before (from f->expect on). */
static void flow_clean(struct flow *f, uint64_t total)
{
	uint64_t got0 = f->got, exp0 = f->expect, end = f->next + total, iter;

	for (iter = 0; iter < total * 4 + 1000 && f->expect < end; iter++)
		flow_round(f, (uint16_t)(end - f->next < 16 ? end - f->next : 16), 0, true);
	ck_assert_uint_eq(f->expect, end);
	ck_assert_uint_eq(f->got - got0, end - exp0);
}

/* ------------------------------------------------------------------ tests -- */

START_TEST(needs_reset_mid_traffic)
{
	struct rig r;
	struct flow f = {0};
	struct vnet_queue_stats rx;
	int i, rounds;

	ck_assert_int_eq(rig_open(&r, NULL, NULL, 0, 1), 0);
	f.r = &r;
	flow_clean(&f, 500);
	/* the application holds 40 frames while the device breaks */
	for (i = 0; i < 20; i++)
		flow_round(&f, 16, 40, true);
	ck_assert_uint_eq(f.nheld, 40);
	vnet_model_fault(r.m, VNET_FAULT_NEEDS_RESET, 1);
	for (rounds = 0; rounds < 100 && !vnet_dev_broken(r.dev); rounds++)
		flow_round(&f, 16, 40, true);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 1);
	/* a broken device keeps everything it has, and the traffic that
	 * follows before the application notices is refused or parked */
	for (i = 0; i < 10; i++)
		flow_round(&f, 16, 40, true);
	ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 0);
	account(&f);
	/* the frames the application held are still intact and its own */
	for (i = 0; i < (int)f.nheld; i++)
		check_seq(f.held[i]);
	flow_release(&f);
	account(&f);
	f.expect = f.next; /* what was in flight at the reset is gone */
	flow_clean(&f, 2000);
	vnet_queue_stats(r.dev, 0, true, &rx);
	ck_assert_uint_eq(rx.drop_bad_id + rx.drop_bad_len + rx.drop_bad_idx, 0);
	rig_close(&r);
}
END_TEST

START_TEST(recover_fails_clearly_then_works)
{
	struct vnet_dev_conf dc = {.rx_ring_size = 64, .tx_ring_size = 64};
	struct vnet_buf *all[256];
	struct rig r;
	struct flow f = {0};
	uint32_t nall;

	ck_assert_int_eq(rig_open(&r, NULL, &dc, 256, 1), 0);
	f.r = &r;
	flow_clean(&f, 300);
	vnet_model_fault(r.m, VNET_FAULT_NEEDS_RESET, 1);
	vnet_model_poll(r.m);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 1);

	/* a reset that does not complete: -ETIMEDOUT, still broken, no leak */
	vnet_model_fault(r.m, VNET_FAULT_RESET_STUCK, 2);
	ck_assert_int_eq(vnet_dev_recover(r.dev), -ETIMEDOUT);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 1);
	account(&f);
	/* the device refuses the features: -EPROTO */
	vnet_model_fault(r.m, VNET_FAULT_RESET_STUCK, 0);
	vnet_model_fault(r.m, VNET_FAULT_REFUSE_FEATURES, 1);
	ck_assert_int_eq(vnet_dev_recover(r.dev), -EPROTO);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 1);
	account(&f);
	/* the application holds so much that the RX ring cannot be filled */
	nall = vnet_pool_count(r.pool) - vnet_pool_in_use(r.pool) - 10;
	ck_assert_int_eq(vnet_pool_alloc_bulk(r.pool, all, nall), 0);
	ck_assert_int_eq(vnet_dev_recover(r.dev), -ENOBUFS);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 1);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), nall + fuzz_dev_out(r.dev, NULL, NULL));
	vnet_pool_free_bulk(all, nall);
	/* the causes gone, recover works and traffic flows */
	ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 0);
	f.expect = f.next;
	flow_clean(&f, 1000);
	rig_close(&r);
}
END_TEST

START_TEST(link_down_up)
{
	struct vnet_net_config c;
	struct rig r;
	struct flow f = {0};
	uint64_t got0;
	uint32_t rx_out;
	int flap, i;

	ck_assert_int_eq(rig_open(&r, NULL, NULL, 0, 1), 0);
	f.r = &r;
	flow_clean(&f, 200);
	for (flap = 0; flap < 5; flap++) {
		vnet_model_set_link(r.m, false);
		ck_assert_int_eq(vnet_dev_config(r.dev, &c), 0);
		ck_assert(!c.link_up);
		got0 = f.got;
		for (i = 0; i < 50; i++)
			flow_round(&f, 16, 0, true);
		ck_assert_uint_eq(f.got, got0); /* dropped by the device, never stuck */
		fuzz_dev_out(r.dev, &rx_out, NULL);
		ck_assert_uint_eq(rx_out, 256); /* the RX ring stays full */
		vnet_model_set_link(r.m, true);
		ck_assert_int_eq(vnet_dev_config(r.dev, &c), 0);
		ck_assert(c.link_up);
		f.expect = f.next;
		flow_clean(&f, 300);
	}
	/* flaps in the middle of bursts */
	for (i = 0; i < 400; i++) {
		if (i % 37 == 0)
			vnet_model_set_link(r.m, (i / 37) % 2 == 1);
		flow_round(&f, 16, 0, true);
	}
	vnet_model_set_link(r.m, true);
	f.expect = f.next;
	flow_clean(&f, 300);
	rig_close(&r);
}
END_TEST

START_TEST(pool_exhaustion_both_ways)
{
	struct vnet_dev_conf dc = {.rx_ring_size = 64, .tx_ring_size = 64};
	struct vnet_queue_stats rx;
	struct vnet_buf *b[16];
	struct rig r;
	struct flow f = {0};
	uint64_t got0;
	uint16_t k, j;
	int i;

	ck_assert_int_eq(rig_open(&r, NULL, &dc, 192, 1), 0);
	f.r = &r;
	flow_clean(&f, 200);
	/* the application keeps every frame it receives, then takes the
	 * rest of the pool: sending fails, nothing is left to refill with */
	for (i = 0; i < 50; i++)
		flow_round(&f, 16, 256, true);
	vnet_tx_reclaim(r.dev, 0); /* finished sends back to the pool first */
	while (f.nheld < 256 && (f.held[f.nheld] = vnet_buf_alloc(r.pool)) != NULL)
		f.nheld++;
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), vnet_pool_count(r.pool));
	ck_assert_ptr_null(vnet_buf_alloc(r.pool));
	ck_assert_int_eq(vnet_pool_alloc_bulk(r.pool, b, 1), -ENOBUFS);
	got0 = f.got;
	for (i = 0; i < 1000; i++)
		flow_round(&f, 16, 256, true); /* a long dry spell, accounted each round */
	ck_assert_uint_eq(f.got, got0);
	/* the application sends some of what it holds: the frames land in
	 * the RX ring, which then cannot be refilled (counted, not stuck) */
	for (i = 0; i < 20; i++) {
		for (j = 0; j < 16; j++)
			put_seq(f.held[f.nheld - 16 + j], f.next + j);
		k = vnet_tx_burst(r.dev, 0, &f.held[f.nheld - 16], 16);
		ck_assert_uint_eq(k, 16);
		f.nheld -= 16;
		f.next += k;
		flow_round(&f, 0, 256, true);
	}
	vnet_queue_stats(r.dev, 0, true, &rx);
	ck_assert_uint_gt(rx.drop_pool_empty, 0);
	ck_assert_uint_eq(f.got, got0 + 20 * 16);
	/* once the application lets go, everything flows again */
	flow_release(&f);
	flow_clean(&f, 1000);
	rig_close(&r);
}
END_TEST

START_TEST(tx_ring_full_for_a_long_time)
{
	struct vnet_dev_conf dc = {.rx_ring_size = 64, .tx_ring_size = 32};
	struct vnet_queue_stats tx;
	struct rig r;
	struct flow f = {0};
	uint64_t t0, refused = 0;
	int i;

	ck_assert_int_eq(rig_open(&r, NULL, &dc, 256, 1), 0);
	f.r = &r;
	flow_clean(&f, 100);
	/* the device stops polling for 20000 of the application's rounds */
	t0 = now_us();
	for (i = 0; i < 20000; i++) {
		uint64_t before = f.next;
		flow_round(&f, 8, 0, false);
		refused += 8 - (f.next - before);
	}
	ck_assert_uint_lt(now_us() - t0, 120u * 1000000u); /* each round returns at once (valgrind too) */
	ck_assert_uint_eq(vnet_tx_free(r.dev, 0), 0);
	vnet_queue_stats(r.dev, 0, false, &tx);
	ck_assert_uint_eq(tx.drop_ring_full, refused);
	ck_assert_uint_eq(f.next, 100 + 32);
	/* the device wakes up: the 32 frames it was sitting on arrive intact */
	flow_clean(&f, 1000);
	ck_assert_uint_eq(f.got, 100 + 32 + 1000);
	rig_close(&r);
}
END_TEST

START_TEST(reset_never_completes)
{
	struct vnet_dev_conf dc = {0};
	struct rig r;
	uint64_t t0;
	int i;

	/* open: bounded wait, -ETIMEDOUT, nothing half-initialised */
	ck_assert_int_eq(rig_open(&r, NULL, NULL, 0, 0), 0);
	vnet_model_fault(r.m, VNET_FAULT_RESET_STUCK, 1000000);
	dc.pool = r.pool;
	t0 = now_us();
	ck_assert_int_eq(vnet_dev_open(&r.dev, vnet_model_transport(r.m), &dc), -ETIMEDOUT);
	ck_assert_uint_lt(now_us() - t0, 5u * 1000000u);
	ck_assert_ptr_null(r.dev);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), 0);
	vnet_model_fault(r.m, VNET_FAULT_RESET_STUCK, 0);
	/* a live device whose resets then stop completing */
	ck_assert_int_eq(vnet_dev_open(&r.dev, vnet_model_transport(r.m), &dc), 0);
	vnet_model_fault(r.m, VNET_FAULT_NEEDS_RESET, 1);
	vnet_model_poll(r.m);
	vnet_model_fault(r.m, VNET_FAULT_RESET_STUCK, 1000000);
	t0 = now_us();
	for (i = 0; i < 100; i++) {
		ck_assert_int_eq(vnet_dev_recover(r.dev), -ETIMEDOUT);
		ck_assert_int_eq(vnet_dev_broken(r.dev), 1);
	}
	ck_assert_uint_lt(now_us() - t0, 10u * 1000000u);
	/* close does not wait forever either; what the device holds stays
	 * its own (the RX ring's 256 buffers), then comes back once a reset
	 * completes */
	vnet_dev_close(r.dev);
	r.dev = NULL;
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), 256);
	ck_assert_int_eq(vnet_held_release(vnet_model_transport(r.m)), -ETIMEDOUT);
	vnet_model_fault(r.m, VNET_FAULT_RESET_STUCK, 0);
	ck_assert_int_eq(vnet_held_release(vnet_model_transport(r.m)), 256);
	rig_close(&r);
}
END_TEST

/*
 * A reset that never completes, mid-traffic: the device may still write
 * into what it was given, so nothing of it goes back. Before, stop()
 * ignored the failed reset and returned every buffer in flight to the
 * pool (and close freed the rings) while the device could still write
 * into them. Now: the buffers stay out of the pool (the application can
 * never be handed one), counted in vnet_dev_stats(), bus mastering is off
 * (the model then touches nothing), and a reset that completes gives
 * everything back.
 */
START_TEST(stuck_reset_keeps_buffers_out_of_circulation)
{
	struct vnet_model_conf mc = {.latency = 1000000}; /* TX stays in flight */
	struct vnet_dev_conf dc = {.rx_ring_size = 64, .tx_ring_size = 64};
	struct vnet_buf *b[16], *all[256];
	struct vnet_dev_stats ds;
	struct vnet_model_state st;
	struct rig r;
	uint32_t out, rx_out, tx_out, nall, i;

	ck_assert_int_eq(rig_open(&r, &mc, &dc, 256, 1), 0);
	ck_assert_int_eq(vnet_pool_alloc_bulk(r.pool, b, 16), 0);
	for (i = 0; i < 16; i++)
		put_seq(b[i], i);
	ck_assert_uint_eq(vnet_tx_burst(r.dev, 0, b, 16), 16);
	out = fuzz_dev_out(r.dev, &rx_out, &tx_out);
	ck_assert_uint_eq(rx_out, 64);
	ck_assert_uint_eq(tx_out, 16);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), out);

	vnet_model_fault(r.m, VNET_FAULT_RESET_STUCK, 1000);
	ck_assert_int_eq(vnet_dev_recover(r.dev), -ETIMEDOUT);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 1);
	/* nothing the device holds came back */
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), out);
	ck_assert_int_eq(vnet_dev_stats(r.dev, &ds), 0);
	ck_assert_uint_eq(ds.held_bufs, out);
	ck_assert_uint_gt(ds.held_ring_bytes, 0);
	ck_assert_uint_ge(ds.reset_failures, 2);
	vnet_model_get_state(r.m, &st);
	ck_assert(st.bus_master_off);
	/* the application can take every free buffer: none of the held ones */
	nall = vnet_pool_count(r.pool) - out;
	ck_assert_int_eq(vnet_pool_alloc_bulk(r.pool, all, nall), 0);
	ck_assert_ptr_null(vnet_buf_alloc(r.pool));
	vnet_pool_free_bulk(all, nall);
	/* the fast path keeps off the queues */
	ck_assert_uint_eq(vnet_rx_refill(r.dev, 0), 0);
	ck_assert_uint_eq(vnet_tx_reclaim(r.dev, 0), 0);
	/* once a reset completes, everything is back and traffic flows */
	vnet_model_fault(r.m, VNET_FAULT_RESET_STUCK, 0);
	ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
	ck_assert_int_eq(vnet_dev_stats(r.dev, &ds), 0);
	ck_assert_uint_eq(ds.held_bufs, 0);
	vnet_model_get_state(r.m, &st);
	ck_assert(!st.bus_master_off);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), 64);
	ck_assert_int_eq(vnet_pool_alloc_bulk(r.pool, b, 16), 0);
	for (i = 0; i < 16; i++)
		put_seq(b[i], i);
	ck_assert_uint_eq(vnet_tx_burst(r.dev, 0, b, 16), 16);
	rig_close(&r);
}
END_TEST

/* Closed while its reset does not complete: the device is parked with
 * its buffers and rings (the pool cannot be destroyed), counted in
 * vnet_held_stats(); vnet_held_release() frees it all once a reset
 * completes. */
START_TEST(close_with_stuck_reset_parks_the_device)
{
	struct vnet_dev_conf dc = {.rx_ring_size = 64, .tx_ring_size = 64};
	struct vnet_held_stats hs0, hs;
	struct rig r;

	vnet_held_stats(&hs0);
	ck_assert_int_eq(rig_open(&r, NULL, &dc, 256, 1), 0);
	vnet_model_fault(r.m, VNET_FAULT_RESET_STUCK, 1000);
	vnet_dev_close(r.dev);
	r.dev = NULL;
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), 64);
	ck_assert_int_eq(vnet_pool_destroy(r.pool), -EBUSY);
	vnet_held_stats(&hs);
	ck_assert_uint_eq(hs.devices, hs0.devices + 1);
	ck_assert_uint_eq(hs.bufs, hs0.bufs + 64);
	ck_assert_uint_gt(hs.ring_bytes, hs0.ring_bytes);
	ck_assert_int_eq(vnet_held_release(vnet_model_transport(r.m)), -ETIMEDOUT);
	vnet_model_fault(r.m, VNET_FAULT_RESET_STUCK, 0);
	ck_assert_int_eq(vnet_held_release(vnet_model_transport(r.m)), 64);
	vnet_held_stats(&hs);
	ck_assert_uint_eq(hs.devices, hs0.devices);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), 0);
	rig_close(&r);
}
END_TEST

START_TEST(tx_never_completes)
{
	/* a sink that never polls: the TX ring fills and stays full */
	struct vnet_model_conf mc = {.backend = VNET_MODEL_SINK};
	struct vnet_dev_conf dc = {.rx_ring_size = 32, .tx_ring_size = 32};
	struct vnet_queue_stats tx;
	struct vnet_buf *b[32];
	struct rig r;
	uint64_t t0, refused = 0, sent = 0;
	int i;
	uint16_t k, j;

	ck_assert_int_eq(rig_open(&r, &mc, &dc, 128, 1), 0);
	t0 = now_us();
	for (i = 0; i < 20000; i++) {
		REQ(vnet_pool_alloc_bulk(r.pool, b, 4) == 0);
		for (j = 0; j < 4; j++)
			put_seq(b[j], sent + j);
		k = vnet_tx_burst(r.dev, 0, b, 4);
		sent += k;
		refused += 4u - k;
		vnet_pool_free_bulk(b + k, 4u - k);
		REQ(vnet_tx_reclaim(r.dev, 0) == 0);
	}
	ck_assert_uint_lt(now_us() - t0, 120u * 1000000u);
	ck_assert_uint_eq(sent, 32);
	vnet_queue_stats(r.dev, 0, false, &tx);
	ck_assert_uint_eq(tx.drop_ring_full, refused);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), 32 + 32);
	rig_close(&r); /* the 32 stuck frames come back at close */
}
END_TEST

START_TEST(config_never_settles)
{
	struct vnet_net_config c;
	struct rig r;
	uint64_t t0;

	ck_assert_int_eq(rig_open(&r, NULL, NULL, 0, 1), 0);
	vnet_model_fault(r.m, VNET_FAULT_CONFIG_CHURN, 1000000);
	t0 = now_us();
	ck_assert_int_eq(vnet_dev_config(r.dev, &c), -EAGAIN);
	ck_assert_uint_lt(now_us() - t0, 1000000u);
	vnet_model_fault(r.m, VNET_FAULT_CONFIG_CHURN, 0);
	ck_assert_int_eq(vnet_dev_config(r.dev, &c), 0);
	rig_close(&r);
}
END_TEST

/* Every used-ring fault, one after another, with the application holding
 * frames and the device stalling now and then: traffic always resumes. */
START_TEST(used_ring_faults_in_sequence)
{
	static const enum vnet_model_fault faults[] = {
		VNET_FAULT_USED_ID_RANGE, VNET_FAULT_USED_ID_IDLE, VNET_FAULT_USED_DUP,
		VNET_FAULT_USED_LEN, VNET_FAULT_USED_IDX_JUMP, VNET_FAULT_NEEDS_RESET};
	struct rig r;
	struct flow f = {0};
	unsigned k;
	int i;

	ck_assert_int_eq(rig_open(&r, NULL, NULL, 0, 1), 0);
	f.r = &r;
	for (k = 0; k < 3 * sizeof(faults) / sizeof(faults[0]); k++) {
		vnet_model_fault(r.m, faults[k % 6], 1 + k / 6);
		for (i = 0; i < 200; i++) {
			flow_round(&f, 16, (uint32_t)(i % 50), i % 7 != 0);
			if (i % 50 == 49)
				flow_release(&f);
			if (vnet_dev_broken(r.dev) == 1) {
				ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
				f.expect = f.next;
			}
		}
		flow_release(&f);
		vnet_model_fault(r.m, faults[k % 6], 0);
		if (vnet_dev_broken(r.dev) == 1)
			ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
		f.expect = f.next;
		flow_clean(&f, 200);
	}
	rig_close(&r);
}
END_TEST

/* Found by fuzz_handshake: after a recover that fails, stop() had given
 * every buffer back but left the queues' indices and free counts as they
 * were; with IN_ORDER the next vnet_tx_reclaim() walked slots whose buffer
 * was gone (NULL dereference). The fast path must refuse to run until a
 * recover succeeds, and nothing may be lost or given out twice. */
START_TEST(fast_path_after_failed_recover)
{
	struct vnet_model_conf mc = {.features = VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_MTU |
	                                         VNET_F_STATUS | VNET_F_EVENT_IDX | VNET_F_IN_ORDER};
	struct vnet_dev_conf dc = {.rx_ring_size = 64, .tx_ring_size = 64,
	                           .features = VNET_F_DEFAULT | VNET_F_IN_ORDER};
	struct vnet_buf *b[16], *in[64];
	struct rig r;
	struct flow f = {0};
	uint16_t i;

	ck_assert_int_eq(rig_open(&r, &mc, &dc, 256, 1), 0);
	f.r = &r;
	flow_clean(&f, 100);
	/* 16 sends the device completes but the driver has not reclaimed */
	ck_assert_int_eq(vnet_pool_alloc_bulk(r.pool, b, 16), 0);
	for (i = 0; i < 16; i++)
		put_seq(b[i], f.next + i);
	ck_assert_uint_eq(vnet_tx_burst(r.dev, 0, b, 16), 16);
	f.next += 16;
	vnet_model_poll(r.m);
	vnet_model_fault(r.m, VNET_FAULT_NEEDS_RESET, 1);
	vnet_model_poll(r.m);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 1);
	/* the reset in stop() and the one in the handshake never complete */
	vnet_model_fault(r.m, VNET_FAULT_RESET_STUCK, 2);
	ck_assert_int_eq(vnet_dev_recover(r.dev), -ETIMEDOUT);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 1);
	/* everything is back in the pool, and the fast path does nothing */
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), 0);
	ck_assert_uint_eq(vnet_tx_reclaim(r.dev, 0), 0);
	ck_assert_uint_eq(vnet_rx_burst(r.dev, 0, in, 64), 0);
	ck_assert_uint_eq(vnet_rx_refill(r.dev, 0), 0);
	ck_assert_int_eq(vnet_pool_alloc_bulk(r.pool, b, 16), 0);
	for (i = 0; i < 16; i++)
		put_seq(b[i], f.next + i);
	ck_assert_uint_eq(vnet_tx_burst(r.dev, 0, b, 16), 0);
	vnet_pool_free_bulk(b, 16);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), 0);
	/* a recover that works brings traffic back */
	ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 0);
	f.expect = f.next;
	flow_clean(&f, 1000);
	rig_close(&r);
}
END_TEST

/* A device opened again over the same transport: its reset, once it
 * completes, covers the parked one, whose buffers come back. */
START_TEST(open_again_releases_the_parked_device)
{
	struct vnet_dev_conf dc = {.rx_ring_size = 64, .tx_ring_size = 64};
	struct vnet_held_stats hs0, hs;
	struct rig r;

	vnet_held_stats(&hs0);
	ck_assert_int_eq(rig_open(&r, NULL, &dc, 256, 1), 0);
	vnet_model_fault(r.m, VNET_FAULT_RESET_STUCK, 1);
	vnet_dev_close(r.dev);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), 64);
	vnet_held_stats(&hs);
	ck_assert_uint_eq(hs.devices, hs0.devices + 1);
	dc.pool = r.pool;
	ck_assert_int_eq(vnet_dev_open(&r.dev, vnet_model_transport(r.m), &dc), 0);
	vnet_held_stats(&hs);
	ck_assert_uint_eq(hs.devices, hs0.devices);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), 64); /* the new RX ring only */
	rig_close(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reliability-device");
	TCase *tc = tcase_create("faults");

	vnet_set_log(NULL, NULL, VNET_LOG_ERR);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, needs_reset_mid_traffic);
	tcase_add_test(tc, recover_fails_clearly_then_works);
	tcase_add_test(tc, link_down_up);
	tcase_add_test(tc, pool_exhaustion_both_ways);
	tcase_add_test(tc, tx_ring_full_for_a_long_time);
	tcase_add_test(tc, reset_never_completes);
	tcase_add_test(tc, stuck_reset_keeps_buffers_out_of_circulation);
	tcase_add_test(tc, close_with_stuck_reset_parks_the_device);
	tcase_add_test(tc, open_again_releases_the_parked_device);
	tcase_add_test(tc, tx_never_completes);
	tcase_add_test(tc, config_never_settles);
	tcase_add_test(tc, used_ring_faults_in_sequence);
	tcase_add_test(tc, fast_path_after_failed_recover);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
