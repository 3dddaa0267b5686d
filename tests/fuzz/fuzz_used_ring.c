/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target (a): the fuzzer plays the device on every ring of a real
 * vnet_dev opened over the fuzz device (fuzz_transport.h), in each layout
 * the driver has: split, split with IN_ORDER, packed; one, two or four
 * queue pairs (multiqueue, with the control queue); with or without
 * INDIRECT_DESC (TX chains through indirect tables), MRG_RXBUF,
 * GUEST_CSUM and GUEST_TSO, CSUM and HOST_TSO. Between the driver's
 * bursts it writes used entries (split) or used descriptors (packed: id,
 * len and flags, the wrap bits right, of the other lap, or anything) with
 * arbitrary ids and lengths, moves the used index anywhere, writes the
 * notification fields, completes honestly too (frames over several
 * buffers, out of order, IN_ORDER batches, so that traffic gets deep),
 * answers control commands as it likes (ack byte, used length, no answer
 * at all), raises DEVICE_NEEDS_RESET, and the driver recovers.
 *
 * Checked after every step: pool in use == held by the test + buffers out
 * (TX chains counted whole); every id free, held or in flight, once; every
 * frame handed up lies inside its buffer, no buffer is handed up twice,
 * and every buffer handed up is one the device completed (the fuzz
 * device's delivery check); what the driver makes available lies in its
 * DMA memory and is well formed (the fuzz device's checks); after close
 * every buffer is back.
 *
 * Input: byte 0 ring sizes, header length, EVENT_IDX; byte 1 MRG_RXBUF;
 * byte 2 the layout and the rest (LAY_*); then steps. Steps
 * of the first version (op bytes below 0xe0) keep their meaning.
 */
#include <errno.h>

#include "fuzz_common.h"
#include "fuzz_transport.h"

/* the rings of every pair, and room for the application to hold some */
#define POOL_SPARE 32
#define MAX_STEPS 400

/* byte 2 */
#define LAY_PACKED   0x01
#define LAY_PAIRS2   0x02 /* two queue pairs (four with LAY_PAIRS4) */
#define LAY_INDIRECT 0x04
#define LAY_CTRL     0x08 /* control queue, its RX, VLAN, MAC and ANNOUNCE features */
#define LAY_LRO      0x10 /* GUEST_TSO4/6 (with MRG_RXBUF) */
#define LAY_TXOFF    0x20 /* CSUM, HOST_TSO4/6 */
#define LAY_PAIRS4   0x40
#define LAY_NO_IO    0x80 /* IN_ORDER not asked for (the first version always did) */

struct rig {
	struct ftrans ft;
	struct vnet_pool *pool;
	struct vnet_dev *dev;
	struct held held;
	uint16_t npairs;
	bool ctrl;
};

static struct rig R;
static int trace = -1; /* FUZZ_TRACE=1: print each step (for reproducers) */

#define TRACE(...)                                                \
	do {                                                      \
		if (trace)                                        \
			fprintf(stderr, "used_ring: " __VA_ARGS__); \
	} while (0)

static void recover(void)
{
	/* what the pool will hold once recover took everything back */
	uint32_t free_bufs = vnet_pool_count(R.pool) - vnet_pool_in_use(R.pool) + fuzz_dev_out(R.dev, NULL, NULL);
	int rc = vnet_dev_recover(R.dev);

	if (rc == -ENOBUFS) {
		/* the test holds too many buffers to fill the RX rings: a clear
		 * error; letting go of them cures it */
		FUZZ_ASSERT(free_bufs < (uint32_t)DEV_RXQ(R.dev, 0)->size * R.npairs, "-ENOBUFS with %u free",
		            (unsigned)free_bufs);
		fuzz_check_accounting(R.dev, R.pool, R.held.bufs, 0);
		held_free(&R.held, UINT32_MAX);
		rc = vnet_dev_recover(R.dev);
	}
	/* with the control queue the device's answer to VQ_PAIRS_SET (at
	 * start, with two pairs or more) may be ERR, garbage or nothing */
	if (rc != 0 && R.npairs > 1 && (rc == -EIO || rc == -ETIMEDOUT))
		return;
	FUZZ_ASSERT(rc == 0, "recover over a sane transport failed: %d", rc);
	FUZZ_ASSERT(vnet_dev_broken(R.dev) == 0, "still broken after recover");
}

/* TX: frames shaped by the fuzzer (maybe bad): lengths, headroom, a
 * header the application fills in (offloads), chains of 2..4 buffers. */
static void tx_burst(struct fin *in, uint16_t pair)
{
	struct vnet_buf *b[33];
	uint16_t n, k, i;

	n = (uint16_t)(fin_u8(in) % 33);
	if (vnet_pool_alloc_bulk(R.pool, b, n) != 0)
		return;
	for (i = 0; i < n; i++) {
		uint8_t shape = fin_u8(in);

		b[i]->len = (uint32_t)fin_u16(in) % (shape & 1 ? 70000u : 1600u);
		if (shape & 2)
			b[i]->data = b[i]->base + fin_u8(in); /* headroom 0..255 */
		if ((shape & 0xc0) == 0xc0) {
			/* a chain: the later segments anywhere in their buffers */
			uint32_t segs = 2u + (shape >> 2) % 3u, j;
			struct vnet_buf *t = b[i];

			for (j = 1; j < segs; j++) {
				struct vnet_buf *s = vnet_buf_alloc(R.pool);
				if (!s)
					break;
				s->data = s->base + (fin_u8(in) & 0x7f);
				s->len = (uint32_t)fin_u16(in) % 2100u;
				t->next = s;
				t = s;
			}
			b[i]->nb_segs = (uint16_t)j;
		} else if ((shape & 0xc0) == 0x40 && b[i]->data - b[i]->base >= 12) {
			/* the application's own header (VNET_BUF_F_TX_HDR) */
			uint8_t *h = b[i]->data - vnet_dev_hdr_len(R.dev);
			uint32_t j;

			for (j = 0; j < vnet_dev_hdr_len(R.dev); j++)
				h[j] = fin_u8(in);
			b[i]->flags |= VNET_BUF_F_TX_HDR;
		}
	}
	k = vnet_tx_burst(R.dev, pair, b, n);
	FUZZ_ASSERT(k <= n, "tx_burst took %u > %u", (unsigned)k, (unsigned)n);
	for (i = k; i < n; i++)
		vnet_buf_free_chain(b[i]);
}

/* Control commands: whatever the device answers, a clear return. */
static void ctrl_cmd(struct fin *in)
{
	uint8_t c = fin_u8(in), mac[6], tab[8][6];
	uint32_t i, nu, nm;
	int rc = 0;

	switch (c % 6) {
	case 0:
		rc = vnet_dev_set_rx_mode(R.dev, c & 8, c & 16);
		break;
	case 1:
		for (i = 0; i < 6; i++)
			mac[i] = fin_u8(in);
		rc = vnet_dev_set_mac(R.dev, mac);
		break;
	case 2:
		nu = (c >> 3) & 3;
		nm = (c >> 5) & 3;
		for (i = 0; i < nu + nm; i++)
			memset(tab[i], (int)fin_u8(in), 6);
		rc = vnet_dev_set_mac_table(R.dev, (const uint8_t(*)[6])tab, nu, (const uint8_t(*)[6])tab + nu, nm);
		break;
	case 3:
		rc = vnet_dev_vlan(R.dev, fin_u16(in) & 0x1fff, c & 8);
		break;
	case 4:
		rc = vnet_dev_announce_ack(R.dev);
		break;
	case 5:
		rc = vnet_dev_set_queue_pairs(R.dev, (uint16_t)((c >> 3) % 6));
		break;
	}
	FUZZ_ASSERT(rc == 0 || rc == -ENOTSUP || rc == -EIO || rc == -ETIMEDOUT || rc == -EINVAL,
	            "control command %u: %d", (unsigned)(c % 6), rc);
	if (rc == 0 && c % 6 == 5)
		FUZZ_ASSERT(R.ft.active_pairs == vnet_dev_queue_pairs(R.dev), "pairs: device %u, driver %u",
		            (unsigned)R.ft.active_pairs, (unsigned)vnet_dev_queue_pairs(R.dev));
}

/* A used entry as the fuzzer wants it. Packed: the flags are those of a
 * used descriptor (its wrap bits right), of the other lap, avail-only,
 * used-only, or any 16 bits. */
static void raw_used(struct fin *in, uint16_t qi)
{
	struct ft_queue *q = &R.ft.q[qi];
	uint8_t sel = fin_u8(in);
	uint32_t id = sel & 0x80 ? fin_u32(in) : fin_u8(in);
	uint32_t len = fin_u32(in);
	uint16_t f = 0;

	if (!q->size)
		return;
	if (q->packed) {
		uint16_t right = ft_pk_used_flags(q);
		switch ((sel >> 4) & 7) {
		case 0:
		case 1:
		case 2:
			f = right;
			break;
		case 3:
			f = (uint16_t)(right ^ (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED));
			break;
		case 4:
			f = VIRTQ_DESC_F_AVAIL;
			break;
		case 5:
			f = VIRTQ_DESC_F_USED;
			break;
		default:
			f = fin_u16(in);
			break;
		}
		if (sel & 8)
			f |= VIRTQ_DESC_F_WRITE;
	}
	ft_raw_used(&R.ft, qi, id, len, f);
}

/* The steps of the first version of this target (split only then). */
static void step_v1(struct fin *in, uint8_t op, uint16_t pair, bool rx)
{
	uint16_t qi = (uint16_t)(2 * pair + !rx);
	struct ft_queue *q = &R.ft.q[qi];
	struct vnet_buf *b[64];
	uint16_t n, k, i;

	switch (op % 14) {
	case 0: /* raw used entry: any id (mostly near the ring), any len */
		raw_used(in, qi);
		break;
	case 1: /* honest completions, then publish */
	case 2:
		n = fin_u8(in) % 40;
		for (i = 0; i < n; i++) {
			if (rx)
				ft_rx_complete(&R.ft, qi, in);
			else
				ft_tx_complete(&R.ft, qi, 0);
		}
		/* fall through */
	case 3: /* publish the used index honestly */
		ft_publish(&R.ft, qi);
		break;
	case 4: /* publish a lie: the index moves by any amount */
		if (q->size && !q->packed)
			ft_publish_idx(&R.ft, qi, (uint16_t)(q->used_idx + fin_u16(in)));
		else if (q->size) /* packed: a descriptor no device writes, where the next used one goes */
			ft_raw_used(&R.ft, qi, fin_u8(in), fin_u16(in), (uint16_t)(fin_u8(in) & 0x87) << 8 | VIRTQ_DESC_F_AVAIL);
		break;
	case 5: /* the device rewinds or jumps its own cursor */
		q->used_idx = (uint16_t)(q->used_idx + (int8_t)fin_u8(in));
		break;
	case 6: /* notification fields: used->flags, avail_event; packed: the device area */
		if (q->size && !q->packed) {
			q->used->flags = fin_u16(in);
			vnet_store16((void *)&q->used->ring[q->size], fin_u16(in));
		} else if (q->size) {
			q->pdev->flags = fin_u16(in);
			q->pdev->desc = fin_u16(in);
		}
		break;
	case 7: /* RX burst: the frames are the test's */
		n = (uint16_t)(fin_u8(in) % 65);
		if (!held_room(&R.held, n))
			break;
		k = vnet_rx_burst(R.dev, pair, b, n);
		FUZZ_ASSERT(k <= n, "rx_burst returned %u > %u", (unsigned)k, (unsigned)n);
		for (i = 0; i < k; i++) {
			TRACE("  frame: buffer %u len %u segs %u\n", (unsigned)b[i]->idx, (unsigned)b[i]->len,
			      (unsigned)b[i]->nb_segs);
			held_add(&R.held, b[i]);
		}
		break;
	case 8:
		vnet_rx_refill(R.dev, pair);
		break;
	case 9:
		tx_burst(in, pair);
		break;
	case 10:
		vnet_tx_reclaim(R.dev, pair);
		break;
	case 11: /* the application lets go of some frames */
		held_free(&R.held, fin_u8(in));
		break;
	case 12: /* the device asks for a reset */
		R.ft.status |= fin_u8(in) & 1 ? VIRTIO_STATUS_FAILED : VIRTIO_STATUS_DEVICE_NEEDS_RESET;
		break;
	case 13: /* the application checks and recovers */
		if (vnet_dev_broken(R.dev) == 1)
			recover();
		break;
	}
}

static void step(struct fin *in)
{
	uint8_t sel = fin_u8(in), op = fin_u8(in);
	uint16_t pair = (uint16_t)((sel >> 1) % R.npairs);
	bool rx = !(sel & 1);
	uint16_t qi = (uint16_t)(2 * pair + !rx);
	uint32_t i, n;
	uint8_t hdr[12];

	fuzz_clock_step = FUZZ_CLOCK_STEP;
	TRACE("step %s pair %u op 0x%02x (v1 %u) at %zu; q used_idx %u last_avail %u npend %u\n", rx ? "rx" : "tx",
	      (unsigned)pair, (unsigned)op, (unsigned)(op % 14), in->off, (unsigned)R.ft.q[qi].used_idx,
	      (unsigned)R.ft.q[qi].last_avail, (unsigned)R.ft.q[qi].npend);
	if ((op & 0xe0) != 0xe0) {
		step_v1(in, op, pair, rx);
	} else {
		switch (op & 0x1f) {
		case 0: /* control commands and what the device answers */
		case 1:
			ctrl_cmd(in);
			break;
		case 2: { /* config read */
			struct vnet_net_config c;
			int rc = vnet_dev_config(R.dev, &c);
			FUZZ_ASSERT(rc == 0 || rc == -EAGAIN, "config: %d", rc);
			break;
		}
		case 3: /* a loop about to sleep, then back to polling */
			(void)vnet_dev_rx_intr_enable(R.dev, pair);
			vnet_dev_rx_intr_disable(R.dev, pair);
			break;
		case 4: /* frames with a header of the fuzzer's, over small segments */
		case 5:
			n = 1u + fin_u8(in) % 8u;
			for (i = 0; i < n; i++) {
				uint8_t how = fin_u8(in);
				uint32_t j, len = fin_u16(in) % 9100u;
				for (j = 0; j < sizeof(hdr); j++)
					hdr[j] = (how & 1) ? fin_u8(in) : 0;
				ft_rx_frame(&R.ft, (uint16_t)(2 * pair), NULL, len, hdr, (how & 2) != 0, how >> 4,
				            (how & 4) ? 1u + fin_u8(in) * 8u : 0u);
			}
			ft_publish(&R.ft, (uint16_t)(2 * pair));
			break;
		case 6: /* TX completions out of order, or IN_ORDER batches */
		case 7:
			n = 1u + fin_u8(in) % 16u;
			for (i = 0; i < n; i++)
				ft_tx_complete(&R.ft, (uint16_t)(2 * pair + 1), fin_u8(in));
			ft_publish(&R.ft, (uint16_t)(2 * pair + 1));
			break;
		case 8: /* used entries written, published in one go */
			n = 1u + fin_u8(in) % 8u;
			for (i = 0; i < n; i++)
				raw_used(in, qi);
			ft_publish(&R.ft, qi);
			break;
		case 9: /* traffic on every pair: send, complete, receive, refill */
			for (i = 0; i < R.npairs; i++) {
				struct vnet_buf *b[16];
				uint16_t k, j;

				ft_rx_frame(&R.ft, (uint16_t)(2 * i), NULL, fin_u8(in) * 4u, NULL, false, 0, 0);
				ft_publish(&R.ft, (uint16_t)(2 * i));
				ft_tx_complete(&R.ft, (uint16_t)(2 * i + 1), 0);
				ft_publish(&R.ft, (uint16_t)(2 * i + 1));
				if (!held_room(&R.held, 16))
					break;
				k = vnet_rx_burst(R.dev, (uint16_t)i, b, 16);
				for (j = 0; j < k; j++)
					held_add(&R.held, b[j]);
				vnet_rx_refill(R.dev, (uint16_t)i);
			}
			break;
		default: /* the steps of the first version, on this queue */
			step_v1(in, (uint8_t)(op & 0x1f), pair, rx);
			break;
		}
	}
	fuzz_check_accounting(R.dev, R.pool, R.held.bufs, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnet_pool_conf pc = {0};
	struct vnet_dev_conf dc = {0};
	struct fin in;
	uint8_t cfgb, feat, lay;

	uint16_t ring;
	int rc, s;

	fuzz_env_init();
	if (trace < 0) /* once: the environment does not change between inputs */
		trace = getenv("FUZZ_TRACE") != NULL;
	fin_init(&in, data, size);
	held_reset(&R.held);
	R.pool = NULL;
	R.dev = NULL;
	ft_init(&R.ft, 64);
	cfgb = fin_u8(&in);
	feat = fin_u8(&in);
	lay = fin_u8(&in);
	R.npairs = (lay & LAY_PAIRS2) ? ((lay & LAY_PAIRS4) ? 4 : 2) : 1;
	R.ctrl = (lay & LAY_CTRL) || R.npairs > 1;
	/* ring sizes 1..64 (the pool covers every pair), header 10 or 12,
	 * with or without EVENT_IDX, GUEST_CSUM (the header flags are read) */
	ring = (uint16_t)(64u / R.npairs);
	dc.rx_ring_size = (uint16_t)(1u << (cfgb & 7) > ring ? ring : 1u << (cfgb & 7));
	dc.tx_ring_size = (uint16_t)(1u << ((cfgb >> 3) & 7) > ring ? ring : 1u << ((cfgb >> 3) & 7));
	if (cfgb & 0x40)
		dc.hdr_len = 10;
	R.ft.hdr_len = dc.hdr_len ? dc.hdr_len : 12;
	R.ft.offer |= VNET_F_GUEST_CSUM | VNET_F_IN_ORDER | VNET_F_MRG_RXBUF | VNET_F_RING_PACKED |
	              VNET_F_INDIRECT_DESC | VNET_F_CTRL_VQ | VNET_F_CTRL_RX | VNET_F_CTRL_VLAN |
	              VNET_F_CTRL_MAC_ADDR | VNET_F_GUEST_ANNOUNCE | VNET_F_MQ | VNET_F_GUEST_TSO4 |
	              VNET_F_GUEST_TSO6 | VNET_F_CSUM | VNET_F_HOST_TSO4 | VNET_F_HOST_TSO6;
	R.ft.cfg[VIRTIO_NET_CFG_MAX_PAIRS] = (uint8_t)R.npairs;
	dc.features = VNET_F_DEFAULT | VNET_F_GUEST_CSUM;
	if (cfgb & 0x80)
		dc.features &= ~VNET_F_EVENT_IDX;
	/* IN_ORDER (batched TX completions, spec 2.7.9; in VNET_F_DEFAULT)
	 * and MRG_RXBUF (RX frames over several buffers, 5.1.6.4) */
	if (lay & LAY_NO_IO)
		dc.features &= ~VNET_F_IN_ORDER;
	if ((feat & 2) && !dc.hdr_len) /* MRG_RXBUF needs the 12-byte header */
		dc.features |= VNET_F_MRG_RXBUF;
	if (lay & LAY_PACKED)
		dc.features |= VNET_F_RING_PACKED;
	if (lay & LAY_INDIRECT)
		dc.features |= VNET_F_INDIRECT_DESC;
	if (R.ctrl)
		dc.features |= VNET_F_CTRL_VQ | VNET_F_CTRL_RX | VNET_F_CTRL_VLAN | VNET_F_CTRL_MAC_ADDR |
		               VNET_F_GUEST_ANNOUNCE;
	if (lay & LAY_LRO)
		dc.features |= VNET_F_GUEST_TSO4 | VNET_F_GUEST_TSO6;
	if (lay & LAY_TXOFF)
		dc.features |= VNET_F_CSUM | VNET_F_HOST_TSO4 | VNET_F_HOST_TSO6;
	dc.queue_pairs = R.npairs;
	pc.count = ((uint32_t)dc.rx_ring_size + dc.tx_ring_size) * R.npairs + POOL_SPARE;
	fuzz_dma_scrub_stride = 2048; /* the driver reads only headers from RX buffers */
	R.pool = fuzz_pool_get(&pc);
	R.ft.pool = R.pool;
	R.ft.ctl = &in; /* control replies come from the input */
	dc.pool = R.pool;
	rc = vnet_dev_open(&R.dev, &R.ft.t, &dc);
	R.ft.dev = R.dev;
	if (rc != 0) {
		/* only the answer to VQ_PAIRS_SET at start can fail it */
		FUZZ_ASSERT(R.npairs > 1 && (rc == -EIO || rc == -ETIMEDOUT), "open over a sane transport failed: %d",
		            rc);
	} else {
		for (s = 0; s < MAX_STEPS && fin_more(&in); s++)
			step(&in);
		held_free(&R.held, UINT32_MAX);
		vnet_dev_close(R.dev);
		R.ft.dev = NULL;
	}
	FUZZ_ASSERT(vnet_pool_in_use(R.pool) == 0, "%u buffers lost after close", (unsigned)vnet_pool_in_use(R.pool));
	fuzz_pool_put(R.pool);
	return 0;
}
