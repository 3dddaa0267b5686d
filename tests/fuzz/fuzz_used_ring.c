/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target (a): the fuzzer plays the device on the RX and TX rings of a
 * real vnet_dev opened over the fuzz transport. Between the driver's
 * bursts it writes used entries with arbitrary ids and lengths, moves the
 * used index anywhere (forward, back, a ring or more ahead), writes the
 * notification fields, completes honestly too (so that traffic gets
 * deep), raises DEVICE_NEEDS_RESET, and the driver recovers.
 *
 * Checked after every step: pool in use == held by the test + descriptors
 * out; every id either free or in flight; every frame handed up lies
 * inside its buffer and no buffer is handed up twice; after close every
 * buffer is back.
 */
#include <errno.h>

#include "fuzz_common.h"
#include "fuzz_transport.h"

#define POOL_BUFS 160
#define MAX_STEPS 400

struct rig {
	struct ftrans ft;
	struct vnet_pool *pool;
	struct vnet_dev *dev;
	struct held held;
};

static struct rig R;

static void step(struct fin *in)
{
	struct ft_queue *q = &R.ft.q[fin_u8(in) & 1];
	uint8_t op = fin_u8(in);
	struct vnet_buf *b[64];
	uint16_t n, k, i;

	switch (op % 14) {
	case 0: /* raw used entry: any id (mostly near the ring), any len */
		if (q->size) {
			uint32_t id = fin_u8(in) & 0x80 ? fin_u32(in) : fin_u8(in);
			q->used->ring[q->used_idx & (q->size - 1)].id = id;
			q->used->ring[q->used_idx & (q->size - 1)].len = fin_u32(in);
			q->used_idx++;
		}
		break;
	case 1: /* honest completions, then publish */
	case 2:
		n = fin_u8(in) % 40;
		for (i = 0; i < n; i++) {
			if (q == &R.ft.q[0])
				ft_rx_complete(q, in);
			else
				ft_tx_complete(q);
		}
		/* fall through */
	case 3: /* publish the used index honestly */
		if (q->size)
			q->used->idx = q->used_idx;
		break;
	case 4: /* publish a lie: the index moves by any amount */
		if (q->size)
			q->used->idx = (uint16_t)(q->used_idx + fin_u16(in));
		break;
	case 5: /* the device rewinds or jumps its own cursor */
		q->used_idx = (uint16_t)(q->used_idx + (int8_t)fin_u8(in));
		break;
	case 6: /* notification fields: used->flags, avail_event */
		if (q->size) {
			q->used->flags = fin_u16(in);
			vnet_store16((void *)&q->used->ring[q->size], fin_u16(in));
		}
		break;
	case 7: /* RX burst: the frames are the test's */
		n = (uint16_t)(fin_u8(in) % 65);
		if (!held_room(&R.held, n))
			break;
		k = vnet_rx_burst(R.dev, 0, b, n);
		FUZZ_ASSERT(k <= n, "rx_burst returned %u > %u", (unsigned)k, (unsigned)n);
		for (i = 0; i < k; i++)
			held_add(&R.held, b[i]);
		break;
	case 8:
		vnet_rx_refill(R.dev, 0);
		break;
	case 9: { /* TX burst of frames shaped by the fuzzer (maybe bad) */
		n = (uint16_t)(fin_u8(in) % 33);
		if (vnet_pool_alloc_bulk(R.pool, b, n) != 0)
			break;
		for (i = 0; i < n; i++) {
			uint8_t shape = fin_u8(in);
			b[i]->len = (uint32_t)fin_u16(in) % (shape & 1 ? 70000u : 1600u);
			if (shape & 2)
				b[i]->data = b[i]->base + fin_u8(in); /* headroom 0..255 */
		}
		k = vnet_tx_burst(R.dev, 0, b, n);
		FUZZ_ASSERT(k <= n, "tx_burst took %u > %u", (unsigned)k, (unsigned)n);
		vnet_pool_free_bulk(b + k, (uint32_t)(n - k));
		break;
	}
	case 10:
		vnet_tx_reclaim(R.dev, 0);
		break;
	case 11: /* the application lets go of some frames */
		held_free(&R.held, fin_u8(in));
		break;
	case 12: /* the device asks for a reset */
		R.ft.status |= fin_u8(in) & 1 ? VIRTIO_STATUS_FAILED : VIRTIO_STATUS_DEVICE_NEEDS_RESET;
		break;
	case 13: /* the application checks and recovers */
		if (vnet_dev_broken(R.dev) == 1) {
			/* what the pool will hold once recover took everything back */
			uint32_t free_bufs = vnet_pool_count(R.pool) - vnet_pool_in_use(R.pool) +
			                     fuzz_dev_out(R.dev, NULL, NULL);
			int rc = vnet_dev_recover(R.dev);
			if (rc == -ENOBUFS) {
				/* the test holds too many buffers to fill the RX ring:
				 * a clear error; letting go of them cures it */
				FUZZ_ASSERT(free_bufs < DEV_RXQ(R.dev, 0)->size,
				            "-ENOBUFS with %u free", (unsigned)free_bufs);
				fuzz_check_accounting(R.dev, R.pool, R.held.bufs, 0);
				held_free(&R.held, UINT32_MAX);
				rc = vnet_dev_recover(R.dev);
			}
			FUZZ_ASSERT(rc == 0, "recover over a sane transport failed: %d", rc);
			FUZZ_ASSERT(vnet_dev_broken(R.dev) == 0, "still broken after recover");
		}
		break;
	}
	fuzz_check_accounting(R.dev, R.pool, R.held.bufs, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnet_pool_conf pc = {.count = POOL_BUFS};
	struct vnet_dev_conf dc = {0};
	struct fin in;
	uint8_t cfgb, feat;
	int rc, s;

	fuzz_quiet_log();
	fin_init(&in, data, size);
	memset(&R, 0, sizeof(R));
	ft_init(&R.ft, 64);
	cfgb = fin_u8(&in);
	/* ring sizes 1..64, header 10 or 12, with or without EVENT_IDX,
	 * GUEST_CSUM (the header flags are then read) */
	dc.rx_ring_size = (uint16_t)(1u << (cfgb & 7) > 64 ? 64 : 1u << (cfgb & 7));
	dc.tx_ring_size = (uint16_t)(1u << ((cfgb >> 3) & 7) > 64 ? 64 : 1u << ((cfgb >> 3) & 7));
	if (cfgb & 0x40)
		dc.hdr_len = 10;
	/* and, from a second byte, IN_ORDER (batched TX completions, spec
	 * 2.7.9) and MRG_RXBUF (RX frames over several buffers, 5.1.6.4) */
	feat = fin_u8(&in);
	R.ft.offer |= VNET_F_GUEST_CSUM | VNET_F_IN_ORDER | VNET_F_MRG_RXBUF;
	dc.features = VNET_F_DEFAULT | VNET_F_GUEST_CSUM;
	if (cfgb & 0x80)
		dc.features &= ~VNET_F_EVENT_IDX;
	if (feat & 1)
		dc.features |= VNET_F_IN_ORDER;
	if ((feat & 2) && !dc.hdr_len) /* MRG_RXBUF needs the 12-byte header */
		dc.features |= VNET_F_MRG_RXBUF;
	if (vnet_pool_create(&R.pool, &pc) != 0)
		abort();
	dc.pool = R.pool;
	rc = vnet_dev_open(&R.dev, &R.ft.t, &dc);
	FUZZ_ASSERT(rc == 0, "open over a sane transport failed: %d", rc);
	for (s = 0; s < MAX_STEPS && fin_more(&in); s++)
		step(&in);
	held_free(&R.held, UINT32_MAX);
	vnet_dev_close(R.dev);
	FUZZ_ASSERT(vnet_pool_in_use(R.pool) == 0, "%u buffers lost after close",
	            (unsigned)vnet_pool_in_use(R.pool));
	FUZZ_ASSERT(vnet_pool_destroy(R.pool) == 0, "pool destroy");
	return 0;
}
