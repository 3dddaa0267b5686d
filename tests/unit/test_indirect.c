/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TX buffer chains (nb_segs/next) and VIRTIO_F_INDIRECT_DESC (spec
 * 2.7.5.3, 2.8.19), over the device model: a chain takes one ring
 * descriptor and one indirect table when the feature is negotiated, on the
 * split ring (also IN_ORDER) and the packed ring; without it (or when too
 * long) it is copied into its first buffer; bad chains are refused whole;
 * and a hostile device (duplicate or idle completions, tables scribbled
 * over) costs no buffer and no crash. Content is checked end to end
 * through the loopback device.
 */
#include <errno.h>

#include "testutil.h"

#define F_BASE (VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_MTU | VNET_F_STATUS | VNET_F_EVENT_IDX)
#define RING 64

static uint8_t pat(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 7u + i * 13u + (i >> 8));
}

/* A frame of @total bytes for @seq as a chain of @nseg buffers, segment
 * lengths as even as possible (the first at least 14: the Ethernet header),
 * or as given in @lens. NULL when the pool is short. */
static struct vnet_buf *chain_make(struct vnet_pool *p, uint32_t seq, uint32_t total, uint32_t nseg,
                                   const uint32_t *lens)
{
	struct vnet_buf *b[64], *prev = NULL;
	uint32_t i, off = 0;

	ck_assert_uint_le(nseg, 64);
	if (vnet_pool_alloc_bulk(p, b, nseg))
		return NULL;
	uint32_t first = total / nseg < 14 ? 14 : total / nseg;

	for (i = 0; i < nseg; i++) {
		uint32_t len = lens ? lens[i] : i == 0 ? first :
		               i + 1 == nseg ? total - off : (total - first) / (nseg - 1);

		/* later segments start a little into their buffer, as a
		 * payload behind headers would */
		if (i)
			b[i]->data = b[i]->base + 96 + (i % 5) * 8;
		for (uint32_t k = 0; k < len; k++)
			b[i]->data[k] = pat(seq, off + k);
		b[i]->len = len;
		off += len;
		if (prev)
			prev->next = b[i];
		prev = b[i];
	}
	prev->next = NULL;
	b[0]->nb_segs = (uint16_t)nseg;
	ck_assert_uint_eq(off, total);
	return b[0];
}

static void frame_check(const struct vnet_buf *b, uint32_t seq, uint32_t total)
{
	ck_assert_uint_eq(b->nb_segs, 1);
	ck_assert_uint_eq(b->len, total);
	for (uint32_t k = 0; k < total; k++)
		if (b->data[k] != pat(seq, k))
			ck_abort_msg("frame %u byte %u: 0x%02x, want 0x%02x", seq, k, b->data[k], pat(seq, k));
}

static int open_dev(struct rig *r, uint64_t offer, uint64_t want, uint32_t latency, enum vnet_model_backend be,
                    uint16_t tx_ring)
{
	struct vnet_model_conf mc = {.features = offer, .latency = latency, .backend = be};
	struct vnet_dev_conf dc = {.features = want, .rx_ring_size = RING, .tx_ring_size = tx_ring ? tx_ring : RING};

	return rig_open(r, &mc, &dc, 1024, 1);
}

/* Send @n frames (frame k: seq k, (k % 16) + 1 segments, 60..1514 bytes),
 * loop them back and check each. @return chains sent (nb_segs > 1). */
static uint32_t chains_through(struct rig *r, uint32_t n, uint32_t max_segs)
{
	uint32_t k, chains = 0, got = 0;

	for (k = 0; k < n; k++) {
		uint32_t segs = k % max_segs + 1, total = 60 + (k * 97) % 1455;
		struct vnet_buf *b = chain_make(r->pool, k, total, segs, NULL), *in[4];
		uint16_t i, m;

		ck_assert_ptr_nonnull(b);
		ck_assert_uint_eq(vnet_tx_burst(r->dev, 0, &b, 1), 1);
		chains += segs > 1;
		for (int polls = 0; polls < 4 && got == k; polls++) {
			vnet_model_poll(r->m);
			m = vnet_rx_burst(r->dev, 0, in, 4);
			for (i = 0; i < m; i++) {
				frame_check(in[i], got, 60 + (got * 97) % 1455);
				got++;
			}
			vnet_pool_free_bulk(in, m);
			vnet_rx_refill(r->dev, 0);
		}
		ck_assert_uint_eq(got, k + 1);
	}
	vnet_tx_reclaim(r->dev, 0);
	return chains;
}

static void chains_run(uint64_t extra, int indirect)
{
	uint64_t f = F_BASE | VNET_F_INDIRECT_DESC | extra;
	struct vnet_queue_stats tx;
	struct vnet_model_stats ms;
	struct vnet_net_config c;
	struct rig r;
	uint32_t chains;

	ck_assert_int_eq(open_dev(&r, f, indirect ? f : (f & ~VNET_F_INDIRECT_DESC), 0, VNET_MODEL_LOOPBACK, 0), 0);
	ck_assert_int_eq(vnet_dev_config(r.dev, &c), 0);
	ck_assert_uint_eq(!!(c.features & VNET_F_INDIRECT_DESC), indirect);
	chains = chains_through(&r, 500, VNET_TX_MAX_SEGS);
	vnet_model_stats(r.m, &ms);
	vnet_queue_stats(r.dev, 0, false, &tx);
	ck_assert_uint_eq(ms.tx_frames, 500);
	ck_assert_uint_eq(ms.bad_desc, 0);
	ck_assert_uint_eq(ms.indirect, indirect ? chains : 0);
	ck_assert_uint_eq(tx.tx_copied, indirect ? 0 : chains);
	ck_assert_uint_eq(tx.packets, 500);
	/* only the RX ring holds buffers: every segment came back */
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), RING);
	rig_close(&r);
}

START_TEST(split_chains_indirect) { chains_run(0, 1); }
END_TEST
START_TEST(split_in_order_chains_indirect) { chains_run(VNET_F_IN_ORDER, 1); }
END_TEST
START_TEST(packed_chains_indirect) { chains_run(VNET_F_RING_PACKED, 1); }
END_TEST
START_TEST(split_chains_copied) { chains_run(0, 0); }
END_TEST
START_TEST(packed_chains_copied) { chains_run(VNET_F_RING_PACKED, 0); }
END_TEST

START_TEST(negotiated_only_when_offered_and_asked)
{
	struct vnet_net_config c;
	struct rig r;

	/* asked, not offered: not negotiated, chains still go (copied) */
	ck_assert_int_eq(open_dev(&r, F_BASE, F_BASE | VNET_F_INDIRECT_DESC, 0, VNET_MODEL_LOOPBACK, 0), 0);
	ck_assert_int_eq(vnet_dev_config(r.dev, &c), 0);
	ck_assert_uint_eq(c.features & VNET_F_INDIRECT_DESC, 0);
	chains_through(&r, 40, 4);
	rig_close(&r);
	/* offered, not asked (the default set does not ask) */
	ck_assert_int_eq(open_dev(&r, F_BASE | VNET_F_INDIRECT_DESC, 0, 0, VNET_MODEL_LOOPBACK, 0), 0);
	ck_assert_int_eq(vnet_dev_config(r.dev, &c), 0);
	ck_assert_uint_eq(c.features & VNET_F_INDIRECT_DESC, 0);
	rig_close(&r);
}
END_TEST

/* A chain takes one ring descriptor, whatever its length. */
START_TEST(one_slot_per_chain)
{
	uint64_t f = F_BASE | VNET_F_INDIRECT_DESC;
	struct vnet_buf *b[RING + 1];
	struct rig r;
	uint32_t k;

	ck_assert_int_eq(open_dev(&r, f, f, 1000, VNET_MODEL_SINK, 0), 0);
	for (k = 0; k < RING + 1; k++) {
		b[k] = chain_make(r.pool, k, 1000, 8, NULL);
		ck_assert_ptr_nonnull(b[k]);
	}
	/* 64 chains of 8 buffers fill the 64-descriptor ring exactly */
	ck_assert_uint_eq(vnet_tx_burst(r.dev, 0, b, RING + 1), RING);
	ck_assert_uint_eq(vnet_tx_free(r.dev, 0), 0);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), RING + (RING + 1) * 8);
	vnet_buf_free_chain(b[RING]);
	rig_close(&r); /* close takes the chains in flight back whole */
}
END_TEST

/* The useful case: headers in one buffer, the payload in another. */
START_TEST(header_and_payload)
{
	uint64_t f = F_BASE | VNET_F_INDIRECT_DESC;
	static const uint32_t lens[2] = {54, 1460};
	struct vnet_buf *b, *in;
	struct rig r;

	ck_assert_int_eq(open_dev(&r, f, f, 0, VNET_MODEL_LOOPBACK, 0), 0);
	b = chain_make(r.pool, 9, 1514, 2, lens);
	ck_assert_uint_eq(vnet_tx_burst(r.dev, 0, &b, 1), 1);
	vnet_model_poll(r.m);
	ck_assert_uint_eq(vnet_rx_burst(r.dev, 0, &in, 1), 1);
	frame_check(in, 9, 1514);
	vnet_buf_free(in);
	rig_close(&r);
}
END_TEST

/* Zero-length segments carry nothing and take no table entry. */
START_TEST(empty_segments)
{
	uint64_t f = F_BASE | VNET_F_INDIRECT_DESC;
	static const uint32_t lens[5] = {20, 0, 100, 0, 80};
	struct vnet_buf *b, *in;
	struct rig r;

	ck_assert_int_eq(open_dev(&r, f, f, 0, VNET_MODEL_LOOPBACK, 0), 0);
	b = chain_make(r.pool, 3, 200, 5, lens);
	ck_assert_uint_eq(vnet_tx_burst(r.dev, 0, &b, 1), 1);
	vnet_model_poll(r.m);
	ck_assert_uint_eq(vnet_rx_burst(r.dev, 0, &in, 1), 1);
	frame_check(in, 3, 200);
	vnet_buf_free(in);
	rig_close(&r);
}
END_TEST

/* Longer than a table: copied when it fits the first buffer, else refused
 * (the chain stays the caller's, untouched). A small ring caps the table
 * (spec 2.7.5.3.1: no chain longer than the queue). */
START_TEST(too_long_for_a_table)
{
	uint64_t f = F_BASE | VNET_F_INDIRECT_DESC;
	struct vnet_queue_stats tx;
	struct vnet_model_stats ms;
	struct vnet_buf *b[2], *in;
	struct rig r;

	ck_assert_int_eq(open_dev(&r, f, f, 0, VNET_MODEL_LOOPBACK, 8), 0);
	b[0] = chain_make(r.pool, 1, 1400, 8, NULL);  /* 8 segments: a table */
	b[1] = chain_make(r.pool, 2, 1400, 9, NULL);  /* 9 > 8: copied */
	ck_assert_uint_eq(vnet_tx_burst(r.dev, 0, b, 2), 2);
	vnet_model_poll(r.m);
	ck_assert_uint_eq(vnet_rx_burst(r.dev, 0, &in, 1), 1);
	frame_check(in, 1, 1400);
	vnet_buf_free(in);
	ck_assert_uint_eq(vnet_rx_burst(r.dev, 0, &in, 1), 1);
	frame_check(in, 2, 1400);
	vnet_buf_free(in);
	vnet_queue_stats(r.dev, 0, false, &tx);
	vnet_model_stats(r.m, &ms);
	ck_assert_uint_eq(tx.tx_copied, 1);
	ck_assert_uint_eq(ms.indirect, 1);
	ck_assert_uint_eq(ms.bad_desc, 0);
	/* 40 segments of 64 bytes: 2560 bytes cannot be copied into a
	 * 2048-byte buffer: refused, nothing changed */
	b[0] = chain_make(r.pool, 3, 2560, 40, NULL);
	ck_assert_uint_eq(vnet_tx_burst(r.dev, 0, b, 1), 0);
	ck_assert_uint_eq(b[0]->nb_segs, 40);
	ck_assert_uint_eq(b[0]->len, 64);
	vnet_buf_free_chain(b[0]);
	rig_close(&r);
}
END_TEST

/* Inconsistent chains stop the burst there; nothing leaks. */
START_TEST(bad_chains_refused)
{
	uint64_t f = F_BASE | VNET_F_INDIRECT_DESC;
	struct vnet_buf *b[3], *s;
	struct rig r;

	for (int indirect = 0; indirect < 2; indirect++) {
		ck_assert_int_eq(open_dev(&r, f, indirect ? f : F_BASE, 0, VNET_MODEL_SINK, 0), 0);
		b[0] = chain_make(r.pool, 1, 300, 3, NULL);
		b[1] = chain_make(r.pool, 2, 300, 3, NULL);
		b[2] = chain_make(r.pool, 3, 300, 3, NULL);
		/* b[1]: the count says 4, the links end at 3 */
		b[1]->nb_segs = 4;
		ck_assert_uint_eq(vnet_tx_burst(r.dev, 0, b, 3), 1);
		b[1]->nb_segs = 3;
		/* a segment whose data runs past its buffer */
		s = b[1]->next->next;
		s->len = s->size;
		ck_assert_uint_eq(vnet_tx_burst(r.dev, 0, b + 1, 2), 0);
		/* one that starts before its buffer */
		s->len = 10;
		s->data = s->base - 1;
		ck_assert_uint_eq(vnet_tx_burst(r.dev, 0, b + 1, 2), 0);
		s->data = s->base;
		ck_assert_uint_eq(vnet_tx_burst(r.dev, 0, b + 1, 2), 2);
		vnet_model_poll(r.m);
		vnet_tx_reclaim(r.dev, 0);
		ck_assert_uint_eq(vnet_pool_in_use(r.pool), RING);
		rig_close(&r);
	}
}
END_TEST

/* Send one chain, recovering first if the device broke a ring (a
 * duplicate or idle completion is BAD_RING: the queue stops until
 * vnet_dev_recover()). @return recoveries needed. */
static uint32_t send_recovering(struct rig *r, struct vnet_buf *b)
{
	uint32_t rec = 0;

	for (int tries = 0; tries < 4; tries++) {
		if (vnet_dev_broken(r->dev) == 1) {
			ck_assert_int_eq(vnet_dev_recover(r->dev), 0);
			rec++;
		}
		if (vnet_tx_burst(r->dev, 0, &b, 1) == 1)
			return rec;
	}
	ck_abort_msg("a chain could not be sent after %u recoveries", rec);
	return rec;
}

/* As chains_through, against a device that breaks rings: each frame is
 * delivered intact at most once (a duplicate delivery fails), a frame in
 * flight when a ring breaks may be lost. @return frames delivered. */
static uint32_t chains_hostile(struct rig *r, uint32_t n, uint32_t max_segs, uint32_t *recovers)
{
	uint32_t k, got = 0;

	for (k = 0; k < n; k++) {
		uint32_t segs = k % max_segs + 1, total = 60 + (k * 97) % 1455;
		struct vnet_buf *b = chain_make(r->pool, k, total, segs, NULL), *in[4];
		int seen = 0;
		uint16_t i, m;

		ck_assert_ptr_nonnull(b);
		*recovers += send_recovering(r, b);
		for (int polls = 0; polls < 4 && !seen; polls++) {
			vnet_model_poll(r->m);
			m = vnet_rx_burst(r->dev, 0, in, 4);
			for (i = 0; i < m; i++) {
				ck_assert_msg(!seen, "frame %u delivered twice", k);
				frame_check(in[i], k, total);
				seen = 1;
				got++;
			}
			vnet_pool_free_bulk(in, m);
			vnet_rx_refill(r->dev, 0);
			if (vnet_dev_broken(r->dev) == 1)
				break;
		}
	}
	vnet_tx_reclaim(r->dev, 0);
	if (vnet_dev_broken(r->dev) == 1) {
		ck_assert_int_eq(vnet_dev_recover(r->dev), 0);
		(*recovers)++;
	}
	return got;
}

/* A hostile device: duplicate and idle completions of chains, and tables
 * scribbled over once read. A wrong completion breaks its ring, which is
 * recovered; the driver never trusts a table afterwards, so later frames
 * arrive intact, none twice, and every segment returns exactly once. */
static void hostile_run(enum vnet_model_fault fault, uint64_t extra)
{
	uint64_t f = F_BASE | VNET_F_INDIRECT_DESC | extra;
	struct vnet_model_stats ms;
	struct vnet_queue_stats rx, tx;
	struct rig r;
	uint32_t recovers = 0, got;

	ck_assert_int_eq(open_dev(&r, f, f, 0, VNET_MODEL_LOOPBACK, 0), 0);
	vnet_model_fault(r.m, fault, 20);
	if (fault == VNET_FAULT_INDIRECT_SCRIBBLE) {
		chains_through(&r, 300, 6);
	} else {
		got = chains_hostile(&r, 300, 6, &recovers);
		ck_assert_uint_ge(got, 300 - 2 * 20); /* at most a frame or two per fault */
	}
	vnet_model_stats(r.m, &ms);
	vnet_queue_stats(r.dev, 0, true, &rx);
	vnet_queue_stats(r.dev, 0, false, &tx);
	ck_assert_uint_ge(ms.faults_fired, 1);
	if (fault == VNET_FAULT_INDIRECT_SCRIBBLE) {
		ck_assert_uint_eq(ms.faults_fired, 20);
	} else {
		/* an idle id is often seen first as an index ahead of what is in flight */
		ck_assert_uint_ge(rx.drop_bad_id + tx.drop_bad_id + rx.drop_bad_idx + tx.drop_bad_idx, 1);
		ck_assert_uint_ge(recovers, 1);
	}
	ck_assert_int_eq(vnet_dev_broken(r.dev), 0);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), RING);
	rig_close(&r);
}

START_TEST(hostile_dup) { hostile_run(VNET_FAULT_USED_DUP, 0); }
END_TEST
START_TEST(hostile_idle) { hostile_run(VNET_FAULT_USED_ID_IDLE, 0); }
END_TEST
START_TEST(hostile_scribble_split) { hostile_run(VNET_FAULT_INDIRECT_SCRIBBLE, 0); }
END_TEST
START_TEST(hostile_scribble_packed) { hostile_run(VNET_FAULT_INDIRECT_SCRIBBLE, VNET_F_RING_PACKED); }
END_TEST

/* Duplicate and idle completions aimed at TX (the sink completes only
 * TX): a chain named twice breaks the ring and is freed once. */
START_TEST(hostile_tx_completions)
{
	uint64_t f = F_BASE | VNET_F_INDIRECT_DESC;
	enum vnet_model_fault faults[2] = {VNET_FAULT_USED_DUP, VNET_FAULT_USED_ID_IDLE};
	struct vnet_queue_stats tx;
	struct rig r;

	for (int i = 0; i < 2; i++) {
		uint32_t recovers = 0;

		ck_assert_int_eq(open_dev(&r, f, f, 0, VNET_MODEL_SINK, 0), 0);
		vnet_model_fault(r.m, faults[i], 10);
		for (uint32_t k = 0; k < 200; k++) {
			struct vnet_buf *b = chain_make(r.pool, k, 500, k % 5 + 2, NULL);

			recovers += send_recovering(&r, b);
			vnet_model_poll(r.m);
		}
		vnet_tx_reclaim(r.dev, 0);
		if (vnet_dev_broken(r.dev) == 1) {
			ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
			recovers++;
		}
		vnet_queue_stats(r.dev, 0, false, &tx);
		ck_assert_uint_ge(tx.drop_bad_id + tx.drop_bad_idx, 1);
		ck_assert_uint_ge(recovers, 1);
		ck_assert_uint_eq(vnet_pool_in_use(r.pool), RING);
		rig_close(&r);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("indirect");
	TCase *t = tcase_create("chains");
	TCase *h = tcase_create("hostile");

	tcase_add_test(t, split_chains_indirect);
	tcase_add_test(t, split_in_order_chains_indirect);
	tcase_add_test(t, packed_chains_indirect);
	tcase_add_test(t, split_chains_copied);
	tcase_add_test(t, packed_chains_copied);
	tcase_add_test(t, negotiated_only_when_offered_and_asked);
	tcase_add_test(t, one_slot_per_chain);
	tcase_add_test(t, header_and_payload);
	tcase_add_test(t, empty_segments);
	tcase_add_test(t, too_long_for_a_table);
	tcase_add_test(t, bad_chains_refused);
	tcase_add_test(h, hostile_dup);
	tcase_add_test(h, hostile_idle);
	tcase_add_test(h, hostile_scribble_split);
	tcase_add_test(h, hostile_scribble_packed);
	tcase_add_test(h, hostile_tx_completions);
	suite_add_tcase(s, t);
	suite_add_tcase(s, h);
	return suite_run(s);
}
