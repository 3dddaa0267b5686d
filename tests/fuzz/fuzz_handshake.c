/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target (b): the handshake against a device whose registers are
 * the fuzzer's (spec 3.1.1, 2.1, 2.2, 2.5.1). The offer is any 64-bit set
 * and may change between reads; FEATURES_OK may not stick; status may
 * gain DEVICE_NEEDS_RESET or FAILED at any read; resets may never
 * complete; config bytes change under the driver with or without a
 * generation bump; queue sizes are anything; queue setup may fail. The
 * driver's options (ring sizes, header length, wanted features) and the
 * pool's geometry are the fuzzer's too, and so are the number of queue
 * pairs and the control queue's replies (OK, ERR, garbage or none).
 * Then traffic, config reads, broken/recover rounds and close.
 *
 * Checked: open either succeeds or fails leaving every buffer in the pool
 * and no device; the negotiated set is within offer and wanted (plus
 * VERSION_1) and never lacks VERSION_1; the driver never sets a queue up
 * out of order (the transport asserts it); the accounting invariant after
 * every step; every buffer back after close (a device whose reset did not
 * complete keeps what it holds until vnet_held_release() resets it with
 * the device behaving again); every call returns (a hang is a libFuzzer
 * timeout).
 */
#include <errno.h>

#include "fuzz_common.h"
#include "fuzz_transport.h"

#define MAX_STEPS 200

/* Features the fuzzer may ask for: all (the control queue's commands
 * are answered at once, from the script: OK, ERR, garbage or nothing,
 * which the virtual clock turns into a quick timeout). */
#define WANT_MASK (~0ULL)

struct rig {
	struct ftrans ft;
	struct vnet_pool *pool;
	struct vnet_dev *dev;
	struct held held;
	uint64_t want;
};

static struct rig R;

static void check_config(const struct vnet_net_config *c)
{
	FUZZ_ASSERT(c->features & VNET_F_VERSION_1, "negotiated 0x%llx without VERSION_1",
	            (unsigned long long)c->features);
	FUZZ_ASSERT(!(c->features & ~(R.want | VNET_F_VERSION_1)), "negotiated 0x%llx, wanted 0x%llx",
	            (unsigned long long)c->features, (unsigned long long)R.want);
	FUZZ_ASSERT(c->max_pairs >= 1, "max_pairs 0");
}

static void step(struct fin *in)
{
	struct vnet_net_config c;
	struct vnet_buf *b[32];
	uint16_t n, k, i;
	int rc;

	fuzz_clock_step = FUZZ_CLOCK_STEP;
	switch (fin_u8(in) % 8) {
	case 0:
		rc = vnet_dev_config(R.dev, &c);
		FUZZ_ASSERT(rc == 0 || rc == -EAGAIN, "config: %d", rc);
		if (rc == 0)
			check_config(&c);
		break;
	case 1: /* the device completes a few of each and publishes */
		n = fin_u8(in) % 16;
		for (i = 0; i < n; i++) {
			ft_rx_complete(&R.ft, 0, in);
			ft_tx_complete(&R.ft, 1, 0);
		}
		ft_publish(&R.ft, 0);
		ft_publish(&R.ft, 1);
		break;
	case 2:
		n = (uint16_t)(fin_u8(in) % 33);
		if (!held_room(&R.held, n))
			break;
		k = vnet_rx_burst(R.dev, 0, b, n);
		for (i = 0; i < k; i++)
			held_add(&R.held, b[i]);
		vnet_rx_refill(R.dev, 0);
		break;
	case 3:
		n = (uint16_t)(fin_u8(in) % 33);
		if (vnet_pool_alloc_bulk(R.pool, b, n) != 0)
			break;
		for (i = 0; i < n; i++)
			b[i]->len = 14u + fin_u8(in);
		k = vnet_tx_burst(R.dev, 0, b, n);
		vnet_pool_free_bulk(b + k, (uint32_t)(n - k));
		break;
	case 4:
		held_free(&R.held, fin_u8(in));
		break;
	case 5: /* broken? then recover, a bounded number of times */
		for (i = 0; i < 4 && vnet_dev_broken(R.dev) == 1; i++) {
			rc = vnet_dev_recover(R.dev);
			FUZZ_ASSERT(rc <= 0, "recover: %d", rc);
			fuzz_check_accounting(R.dev, R.pool, R.held.bufs, 0);
		}
		break;
	case 6:
		R.ft.status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
		break;
	case 7:
		vnet_tx_reclaim(R.dev, 0);
		break;
	}
	fuzz_check_accounting(R.dev, R.pool, R.held.bufs, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnet_pool_conf pc = {0};
	struct vnet_dev_conf dc = {0};
	struct fin in;
	uint8_t g;
	int rc, s;

	fuzz_env_init();
	fin_init(&in, data, size);
	held_reset(&R.held);
	R.pool = NULL;
	R.dev = NULL;
	ft_init(&R.ft, 0);
	/* the device: offer, config image, queue maxima */
	R.ft.offer = fin_u64(&in);
	for (s = 0; s < (int)sizeof(R.ft.cfg); s++)
		R.ft.cfg[s] = fin_u8(&in);
	R.ft.qmax[0] = fin_u16(&in);
	R.ft.qmax[1] = fin_u16(&in);
	for (s = 2; s < FT_NQ; s++) /* more pairs, the control queue */
		R.ft.qmax[s] = R.ft.qmax[s & 1];
	/* the pool and the driver's options */
	g = fin_u8(&in);
	pc.count = 1u + fin_u16(&in) % 600;
	pc.buf_size = (g & 1) ? 64u * (1u + fin_u8(&in) % 64) : 0;
	pc.headroom = (g & 2) ? fin_u8(&in) : 0;
	dc.rx_ring_size = (g & 4) ? fin_u16(&in) % 300 : 0;
	dc.tx_ring_size = (g & 8) ? fin_u16(&in) % 300 : 0;
	dc.hdr_len = (g & 16) ? fin_u8(&in) % 16 : 0;
	dc.features = (g & 32) ? fin_u64(&in) & WANT_MASK : 0;
	if (g & 64) { /* multiqueue: 1..4 pairs, a control ring size */
		uint8_t m = fin_u8(&in);
		dc.queue_pairs = (uint16_t)(1u + (m & 3));
		dc.ctrl_ring_size = (uint16_t)((m >> 2) % 80);
	}
	R.want = (dc.features ? dc.features : VNET_F_DEFAULT) |
	         (dc.queue_pairs > 1 ? VNET_F_MQ | VNET_F_CTRL_VQ : 0);
	if (dc.hdr_len >= 10 && dc.hdr_len <= 12)
		R.ft.hdr_len = dc.hdr_len;
	/* the driver reads only the headers of RX buffers */
	fuzz_dma_scrub_stride = pc.buf_size ? pc.buf_size : 2048;
	fuzz_dma_scrub_bytes = (pc.headroom ? pc.headroom : 64) + 16;
	if (fuzz_pool_try(&R.pool, &pc) != 0)
		return 0; /* a geometry the pool refuses: nothing to test */
	dc.pool = R.pool;
	R.ft.pool = R.pool;
	R.ft.in = &in; /* from here on every register access is scripted */
	R.ft.ctl = &in; /* and every control reply */
	rc = vnet_dev_open(&R.dev, &R.ft.t, &dc);
	if (rc != 0) {
		struct vnet_held_stats hs;

		FUZZ_ASSERT(rc < 0, "open returned %d", rc);
		FUZZ_ASSERT(R.dev == NULL, "failed open left a device");
		/* what a device whose reset failed holds stays its own */
		vnet_held_stats(&hs);
		FUZZ_ASSERT(vnet_pool_in_use(R.pool) == hs.bufs, "failed open (%d) kept %u buffers, %u held", rc,
		            (unsigned)vnet_pool_in_use(R.pool), (unsigned)hs.bufs);
	} else {
		R.ft.dev = R.dev;
		R.ft.dev = R.dev;
		check_config(&R.dev->cfg);
		fuzz_check_accounting(R.dev, R.pool, 0, 0);
		for (s = 0; s < MAX_STEPS && fin_more(&in); s++)
			step(&in);
		held_free(&R.held, UINT32_MAX);
		vnet_dev_close(R.dev);
		R.ft.dev = NULL;
	}
	/* the device behaves again: a reset completes and gives back what a
	 * stuck one kept */
	R.ft.in = NULL;
	R.ft.ctl = NULL;
	rc = vnet_held_release(&R.ft.t);
	FUZZ_ASSERT(rc >= 0, "held release over a sane device: %d", rc);
	FUZZ_ASSERT(vnet_pool_in_use(R.pool) == 0, "%u buffers lost", (unsigned)vnet_pool_in_use(R.pool));
	fuzz_pool_put(R.pool);
	return 0;
}
