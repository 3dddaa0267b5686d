/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lwIP holding RX buffers, through the Interface API: 80 TCP receivers
 * that never read (no recv callback: lwIP keeps what arrives as refused
 * data, in zero-copy pool buffers) on an interface with a small pool.
 * The glue's copy fallback must keep RX alive: once free buffers fall
 * under the reserve, frames are copied and the pool buffer goes straight
 * back, so a reading connection beside them still moves 512 KiB intact.
 * When the hoarders go, every buffer comes back.
 *
 * Checked at every step: B's pool in use == descriptors B's driver has
 * out + buffers lwIP holds + frames queued for TX.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <vnet/iface.h>
#include <vnet/model.h>
#include <vnet/vnet.h>

#include "fuzz/fuzz_common.h" /* fuzz_dev_out: descriptors out, white box */

#define IP_A 0x0A000001u
#define IP_B 0x0A000002u
#define HOARDERS 80
#define HOARD_BYTES 4000u
#define XFER_BYTES (512u * 1024u)

struct side {
	struct vnet_model *m;
	struct vnet_pool *pool;
	struct vnet_dev *dev;
	struct vnet_iface *ifc;
};

static struct side A, B;
static struct vnet_tcp *hoard_srv[HOARDERS], *hoard_cli[HOARDERS];
static unsigned n_hoard_srv, n_cli_connected;
static struct vnet_tcp *xfer_cli;
static uint64_t xfer_sent, xfer_got, xfer_bad;
static uint32_t max_held;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i ^ (i >> 8) ^ (i >> 16) ^ 0x5a);
}

static void side_open(struct side *s, uint8_t mac_last, uint32_t count, uint16_t ring,
                      const struct vnet_iface_conf *ic_in, uint32_t ip)
{
	struct vnet_model_conf mc = {.backend = VNET_MODEL_WIRE};
	struct vnet_pool_conf pc = {.count = count};
	struct vnet_dev_conf dc = {.rx_ring_size = ring, .tx_ring_size = ring};
	struct vnet_iface_conf ic = *ic_in;

	mc.mac[0] = 0x52;
	mc.mac[1] = 0x54;
	mc.mac[5] = mac_last;
	ck_assert_int_eq(vnet_model_create(&s->m, &mc), 0);
	ck_assert_int_eq(vnet_pool_create(&s->pool, &pc), 0);
	dc.pool = s->pool;
	ck_assert_int_eq(vnet_dev_open(&s->dev, vnet_model_transport(s->m), &dc), 0);
	ic.ip = ip;
	ic.netmask = 0xFFFFFF00u;
	ic.pool = s->pool;
	ck_assert_int_eq(vnet_iface_init_conf(&s->ifc, s->dev, &ic), 0);
}

/* Called at every step: fails through Check only when wrong (a passing
 * ck_assert costs Check book-keeping that grows with the run). */
static void account(struct side *s)
{
	struct vnet_iface_stats st;
	uint32_t out = fuzz_dev_out(s->dev, NULL, NULL);

	if (vnet_iface_stats(s->ifc, &st) != 0 || st.lwip_asserts != 0)
		ck_abort_msg("stats failed or an lwIP assertion fired");
	if (vnet_pool_in_use(s->pool) != out + st.rx_held + st.tx_queued)
		ck_abort_msg("pool in use %u != out %u + lwIP holds %u + TX queued %u",
		             (unsigned)vnet_pool_in_use(s->pool), (unsigned)out, (unsigned)st.rx_held,
		             (unsigned)st.tx_queued);
	if (s == &B && st.rx_held > max_held)
		max_held = st.rx_held;
}

/* One step of both sides; bounded loops around it. @return work done. */
static int step(void)
{
	int w = 0, r;

	r = vnet_iface_poll(A.ifc);
	w += r > 0 ? r : 0;
	w += (int)vnet_model_poll(A.m);
	r = vnet_iface_poll(B.ifc);
	w += r > 0 ? r : 0;
	w += (int)vnet_model_poll(B.m);
	account(&A);
	account(&B);
	return w;
}

typedef bool (*done_fn)(void);

static bool run(done_fn done, void (*tick)(void), uint32_t max_ms)
{
	uint64_t t0 = now_us();
	uint64_t n;

	for (n = 0; n < 50000000u; n++) {
		if (done != NULL && done())
			return true;
		if (tick != NULL)
			tick();
		if (step() == 0)
			usleep(200);
		if (now_us() - t0 > (uint64_t)max_ms * 1000u)
			break;
	}
	return done != NULL && done();
}

/* ---- the hoarders: connections whose server side never reads ---------- */

static void hoard_srv_err(struct vnet_tcp *c, int err, void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;

	(void)c;
	(void)err;
	hoard_srv[i] = NULL;
}

static void hoard_accept(struct vnet_tcp *c, void *arg)
{
	(void)arg;
	ck_assert_uint_lt(n_hoard_srv, HOARDERS);
	hoard_srv[n_hoard_srv] = c;
	/* no recv callback: what arrives stays in lwIP as refused data */
	vnet_tcp_set_callbacks(c, NULL, NULL, hoard_srv_err, (void *)(uintptr_t)n_hoard_srv);
	n_hoard_srv++;
}

static void hoard_cli_err(struct vnet_tcp *c, int err, void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;

	(void)c;
	(void)err;
	hoard_cli[i] = NULL;
}

static void hoard_connected(struct vnet_tcp *c, int err, void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	uint8_t buf[HOARD_BYTES];
	uint32_t k;

	ck_assert_int_eq(err, 0);
	hoard_cli[i] = c;
	n_cli_connected++;
	vnet_tcp_set_callbacks(c, NULL, NULL, hoard_cli_err, arg);
	for (k = 0; k < sizeof(buf); k++)
		buf[k] = (uint8_t)(i + k);
	ck_assert_int_eq(vnet_tcp_send(c, buf, sizeof(buf)), (int)sizeof(buf));
}

static bool hoarders_settled(void)
{
	struct vnet_iface_stats st;

	vnet_iface_stats(B.ifc, &st);
	return n_cli_connected == HOARDERS && n_hoard_srv == HOARDERS && st.rx_held >= HOARDERS / 2 &&
	       st.rx_copied > 0;
}

/* ---- the reader ----------------------------------------------------------- */

static void xfer_recv(struct vnet_tcp *c, const void *data, size_t len, void *arg)
{
	const uint8_t *d = data;
	size_t k;

	(void)arg;
	if (len == 0) {
		vnet_tcp_close(c);
		return;
	}
	for (k = 0; k < len; k++)
		xfer_bad += d[k] != pattern(xfer_got + k); /* counted, checked once at the end */
	xfer_got += len;
}

static void xfer_accept(struct vnet_tcp *c, void *arg)
{
	(void)arg;
	vnet_tcp_set_callbacks(c, xfer_recv, NULL, NULL, NULL);
}

static void xfer_feed(void)
{
	uint8_t chunk[8192];
	size_t n, k;
	int r;

	if (xfer_cli == NULL || xfer_sent >= XFER_BYTES)
		return;
	n = vnet_tcp_sndbuf(xfer_cli);
	if (n > sizeof(chunk))
		n = sizeof(chunk);
	if (n > XFER_BYTES - xfer_sent)
		n = (size_t)(XFER_BYTES - xfer_sent);
	if (n == 0)
		return;
	for (k = 0; k < n; k++)
		chunk[k] = pattern(xfer_sent + k);
	r = vnet_tcp_send(xfer_cli, chunk, n);
	if (r > 0)
		xfer_sent += (uint64_t)r;
}

static void xfer_connected(struct vnet_tcp *c, int err, void *arg)
{
	(void)arg;
	ck_assert_int_eq(err, 0);
	xfer_cli = c;
}

static bool xfer_done(void)
{
	return xfer_got == XFER_BYTES;
}

static bool all_released(void)
{
	struct vnet_iface_stats st;
	unsigned i;

	vnet_iface_stats(B.ifc, &st);
	for (i = 0; i < HOARDERS; i++)
		if (hoard_cli[i] != NULL)
			return false;
	return st.rx_held == 0;
}

START_TEST(lwip_holding_rx_buffers)
{
	struct vnet_iface_conf ica = {0}, icb = {0};
	struct vnet_tcp_listener *lh, *lx;
	struct vnet_iface_stats st0, st1, st2;
	unsigned i;

	vnet_set_log(NULL, NULL, VNET_LOG_ERR);
	side_open(&A, 1, 1024, 256, &ica, IP_A);
	/* B: 192 buffers, rings of 32, copy once fewer than 96 are free, so
	 * lwIP can hold about 64 in place before the fallback starts */
	icb.rx_reserve = 96;
	side_open(&B, 2, 192, 32, &icb, IP_B);
	ck_assert_int_eq(vnet_model_wire(A.m, B.m), 0);

	ck_assert_int_eq(vnet_tcp_listen(B.ifc, 9000, hoard_accept, NULL, &lh), 0);
	ck_assert_int_eq(vnet_tcp_listen(B.ifc, 9001, xfer_accept, NULL, &lx), 0);
	for (i = 0; i < HOARDERS; i++)
		ck_assert_int_eq(vnet_tcp_dial4(A.ifc, IP_B, 9000, 60000, hoard_connected,
		                                (void *)(uintptr_t)i, NULL), 0);
	ck_assert(run(hoarders_settled, NULL, 60000));
	ck_assert_int_eq(vnet_iface_stats(B.ifc, &st0), 0);
	printf("lwIP holds %u RX buffers of 192 (max %u); %llu frames copied, %llu in place\n",
	       (unsigned)st0.rx_held, (unsigned)max_held, (unsigned long long)st0.rx_copied,
	       (unsigned long long)st0.rx_zero_copy);
	/* the fallback kept lwIP from taking the pool: room for the RX ring */
	ck_assert_uint_le(max_held, 192u - 96u);

	/* RX is alive: a reader beside the hoarders gets 512 KiB intact */
	ck_assert_int_eq(vnet_tcp_dial4(A.ifc, IP_B, 9001, 60000, xfer_connected, NULL, NULL), 0);
	ck_assert(run(xfer_done, xfer_feed, 60000));
	ck_assert_uint_eq(xfer_bad, 0);
	ck_assert_int_eq(vnet_iface_stats(B.ifc, &st1), 0);
	ck_assert_uint_gt(st1.rx_copied, st0.rx_copied);
	ck_assert_uint_gt(st1.rx_held, 0); /* the hoarders still hold theirs */
	printf("512 KiB moved beside them: %llu frames copied meanwhile, rx_nomem %llu\n",
	       (unsigned long long)(st1.rx_copied - st0.rx_copied), (unsigned long long)st1.rx_nomem);

	/* the hoarders go: every buffer they held comes back */
	for (i = 0; i < HOARDERS; i++)
		if (hoard_srv[i] != NULL)
			vnet_tcp_abort(hoard_srv[i]);
	ck_assert(run(all_released, NULL, 20000));
	ck_assert_int_eq(vnet_iface_stats(B.ifc, &st2), 0);
	ck_assert_uint_eq(st2.rx_held, 0);

	vnet_tcp_listener_close(lh);
	vnet_tcp_listener_close(lx);
	if (xfer_cli != NULL)
		vnet_tcp_abort(xfer_cli);
	run(NULL, NULL, 100);
	vnet_iface_close(A.ifc);
	vnet_iface_close(B.ifc);
	/* nothing held by lwIP any more: the device has the rest */
	ck_assert_uint_eq(vnet_pool_in_use(B.pool), fuzz_dev_out(B.dev, NULL, NULL));
	vnet_dev_close(A.dev);
	vnet_dev_close(B.dev);
	ck_assert_uint_eq(vnet_pool_in_use(A.pool), 0);
	ck_assert_uint_eq(vnet_pool_in_use(B.pool), 0);
	ck_assert_int_eq(vnet_pool_destroy(A.pool), 0);
	ck_assert_int_eq(vnet_pool_destroy(B.pool), 0);
	vnet_model_destroy(A.m);
	vnet_model_destroy(B.m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reliability-lwip");
	TCase *tc = tcase_create("hold");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 200);
	tcase_add_test(tc, lwip_holding_rx_buffers);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
