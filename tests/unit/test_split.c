/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split ring, driver side, with the test playing the device by hand:
 * index maths across the 65535 wrap, the free list, the event-index
 * decision, and the validation of every device-written used entry.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ring/ring.h"

struct fake_t {
	struct vnet_transport t;
	int notifies;
};

static void fake_notify(struct vnet_transport *t, uint16_t q)
{
	(void)q;
	((struct fake_t *)t)->notifies++;
}

static const struct vnet_transport_ops fake_ops = {.name = "fake", .notify = fake_notify};

static struct fake_t ft;
static struct vnet_vq vq;
static struct vnet_pool *pool;

static void setup(void)
{
	struct vnet_pool_conf pc = {.count = 64};

	ft.t.ops = &fake_ops;
	ft.notifies = 0;
	ck_assert_int_eq(vnet_pool_create(&pool, &pc), 0);
	ck_assert_int_eq(vnet_sq_alloc(&vq, 0, 8, VRING_DESC_F_WRITE), 0);
	vq.buf_off = 64 - 12;
	vq.buf_len = 2048 - 64 + 12;
}

static void teardown(void)
{
	vnet_vq_drain(&vq, vnet_buf_free);
	vnet_vq_free(&vq);
	/* every test gives every buffer back */
	ck_assert_uint_eq(vnet_pool_in_use(pool), 0);
	ck_assert_int_eq(vnet_pool_destroy(pool), 0);
}

/* device side: complete the avail entry at position @pos with @len */
static void dev_complete_id(uint32_t id, uint32_t len)
{
	uint16_t u = vq.used->idx;
	vq.used->ring[u & vq.mask].id = id;
	vq.used->ring[u & vq.mask].len = len;
	vq.used->idx = (uint16_t)(u + 1);
}

static uint16_t post(uint16_t n)
{
	struct vnet_buf *b[8];

	ck_assert_int_eq(vnet_pool_alloc_bulk(pool, b, n), 0);
	vnet_sq_post(&vq, b, n, 0, NULL, NULL, 0);
	vnet_sq_publish(&vq, &ft.t);
	return n;
}

START_TEST(bad_sizes)
{
	struct vnet_vq q2;
	ck_assert_int_eq(vnet_sq_alloc(&q2, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(vnet_sq_alloc(&q2, 0, 100, 0), -EINVAL);
}
END_TEST

/* The legacy layout (spec 2.7, "Legacy Interfaces: A Note on Virtqueue
 * Layout"): one page-aligned block, avail right behind the table, used at
 * the next 4096-byte boundary past avail's used_event; written out here
 * from the spec's formula. */
START_TEST(legacy_layout)
{
	static const uint16_t sizes[] = {1, 8, 256, 1024, 32768};
	unsigned i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t n = sizes[i], used = (16 * n + 2 * (3 + n) + 4095) & ~4095ull;
		struct vnet_vq_addrs a;
		struct vnet_vq q2;

		ck_assert_int_eq(vnet_sq_alloc_legacy(&q2, 0, sizes[i], 0), 0);
		vnet_sq_addrs(&q2, &a);
		ck_assert_uint_eq(a.desc % 4096, 0);
		ck_assert_uint_eq(a.avail - a.desc, 16 * n);
		ck_assert_uint_eq(a.used - a.desc, used);
		ck_assert_uint_ge(q2.mem.len, used + 6 + 8 * n);
		ck_assert_uint_eq(q2.mem.len % 4096, 0);
		vnet_vq_free(&q2);
	}
	ck_assert_int_eq(vnet_sq_alloc_legacy(&(struct vnet_vq){0}, 0, 100, 0), -EINVAL);
}
END_TEST

START_TEST(layout)
{
	struct vnet_vq_addrs a;
	vnet_sq_addrs(&vq, &a);
	ck_assert_uint_eq(a.desc % 16, 0);           /* 2.7: desc 16-aligned */
	ck_assert_uint_eq(a.avail % 2, 0);
	ck_assert_uint_eq(a.used % 4, 0);
	ck_assert_uint_ge(a.avail, a.desc + 16 * 8);
	ck_assert_uint_ge(a.used, a.avail + 4 + 2 * 8 + 2);
	ck_assert_uint_le(a.used + 4 + 8 * 8 + 2, vq.mem.iova + vq.mem.len);
	ck_assert_uint_eq(vq.num_free, 8);
	ck_assert_uint_eq(vq.desc[3].flags, VRING_DESC_F_WRITE);
	ck_assert_uint_eq(vq.avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
}
END_TEST

START_TEST(wraparound)
{
	struct vnet_buf *out[8];
	uint32_t round;

	/* start just below the 16-bit wrap on both sides */
	vq.avail_idx = vq.last_used = vq.kick_idx = 65530;
	vq.avail->idx = vq.used->idx = 65530;
	for (round = 0; round < 20; round++) {
		uint16_t i, got, base = vq.avail_idx;
		post(8);
		ck_assert_uint_eq(vq.num_free, 0);
		ck_assert_uint_eq(vq.avail->idx, (uint16_t)(base + 8));
		for (i = 0; i < 8; i++) /* complete in reverse order */
			dev_complete_id(vq.avail->ring[(uint16_t)(base + 7 - i) & vq.mask], 100);
		got = vnet_sq_harvest(&vq, out, 8, 12, 0, NULL);
		ck_assert_uint_eq(got, 8);
		ck_assert_uint_eq(vq.num_free, 8);
		ck_assert_uint_eq(vq.last_used, (uint16_t)(base + 8));
		for (i = 0; i < got; i++) {
			ck_assert_uint_eq(out[i]->len, 100 - 12);
			ck_assert_ptr_eq(out[i]->data, out[i]->base + 64);
		}
		vnet_pool_free_bulk(out, got);
	}
	ck_assert_uint_lt(vq.avail_idx, 65530); /* it did wrap */
}
END_TEST

START_TEST(harvest_partial)
{
	struct vnet_buf *out[8];
	uint16_t i;

	post(8);
	for (i = 0; i < 8; i++)
		dev_complete_id(vq.avail->ring[i], 60);
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out, 3, 12, 0, NULL), 3);
	vnet_pool_free_bulk(out, 3);
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out, 8, 12, 0, NULL), 5);
	vnet_pool_free_bulk(out, 5);
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out, 8, 12, 0, NULL), 0);
}
END_TEST

/*
 * A used entry the device got wrong breaks the ring (Linux's BAD_RING):
 * what came before it is delivered, the entry itself is not taken (its
 * buffer, if it names one in flight, stays until the reset drains it),
 * nothing after it is read, and the queue is marked broken.
 */
enum bad_kind { BAD_RANGE, BAD_FAR, BAD_DUP, BAD_IDLE, BAD_SHORT, BAD_LONG };

static void bad_entry_run(enum bad_kind k)
{
	struct vnet_buf *out[8];
	uint16_t a0, a1, a2;
	uint32_t id, len = 60;

	post(4); /* ids 0..3 */
	a0 = vq.avail->ring[0];
	a1 = vq.avail->ring[1];
	a2 = vq.avail->ring[2];
	switch (k) {
	case BAD_RANGE: id = 8; break;
	case BAD_FAR: id = 70000; break;
	case BAD_DUP: id = a0; break;        /* no longer in flight */
	case BAD_IDLE: id = 5; break;        /* never posted */
	case BAD_SHORT: id = a2; len = 5; break;                 /* below the header */
	default: id = a2; len = 2048 - 64 + 12 + 1; break;       /* past the buffer */
	}
	dev_complete_id(a0, 60); /* good */
	dev_complete_id(id, len); /* bad */
	dev_complete_id(a1, 60); /* good, never read */
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out, 8, 12, 0, NULL), 1);
	ck_assert_ptr_eq(out[0]->data, out[0]->base + 64);
	ck_assert_uint_eq(out[0]->len, 48);
	vnet_buf_free(out[0]);
	ck_assert(vq.broken);
	ck_assert_uint_eq(vq.last_used, 1); /* the bad entry is not taken */
	ck_assert_uint_eq(vq.stats.drop_bad_id, k < BAD_SHORT);
	ck_assert_uint_eq(vq.stats.drop_bad_len, k >= BAD_SHORT);
	/* the other three buffers are still the ring's (drained at reset) */
	ck_assert_uint_eq(vnet_pool_in_use(pool), 3);
	ck_assert_uint_eq(vnet_vq_drain(&vq, vnet_buf_free), 3);
}

START_TEST(bad_id_out_of_range_breaks) { bad_entry_run(BAD_RANGE); }
END_TEST
START_TEST(bad_id_far_out_of_range_breaks) { bad_entry_run(BAD_FAR); }
END_TEST
START_TEST(bad_id_duplicate_breaks) { bad_entry_run(BAD_DUP); }
END_TEST
START_TEST(bad_id_idle_breaks) { bad_entry_run(BAD_IDLE); }
END_TEST
START_TEST(bad_len_short_breaks) { bad_entry_run(BAD_SHORT); }
END_TEST
START_TEST(bad_len_long_breaks) { bad_entry_run(BAD_LONG); }
END_TEST

/* An index further ahead than what is in flight breaks the ring before
 * any entry is read (spec 2.7.8: the device returns only what it got). */
START_TEST(index_ahead_of_in_flight_breaks)
{
	struct vnet_buf *out[8];

	post(2);
	dev_complete_id(vq.avail->ring[0], 60);
	dev_complete_id(vq.avail->ring[1], 60);
	vq.used->idx = 3; /* three entries for two buffers */
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out, 8, 12, 0, NULL), 0);
	ck_assert(vq.broken);
	ck_assert_uint_eq(vq.stats.drop_bad_idx, 1);
	ck_assert_uint_eq(vnet_vq_drain(&vq, vnet_buf_free), 2);
}
END_TEST

/*
 * The limit README used to document ("a limit no split-ring driver can
 * lift"): a duplicate entry left unread by a short burst named an id the
 * refill then posted again, and later "completed" the new buffer. The ids
 * a short burst takes are now held until the harvest passes the index it
 * read: the duplicate names an id not in flight and breaks the ring.
 */
START_TEST(short_burst_holds_ids_stale_duplicate_breaks)
{
	struct vnet_buf *out[8];
	uint16_t a0, i;

	post(4);
	a0 = vq.avail->ring[0];
	dev_complete_id(a0, 60);
	dev_complete_id(a0, 70); /* the stale duplicate */
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out, 1, 12, 0, NULL), 1); /* short burst */
	ck_assert_uint_eq(out[0]->len, 48);
	vnet_buf_free(out[0]);
	ck_assert_uint_eq(vnet_vq_held(&vq), 1);
	/* the refill posts every free id: a0 is not among them */
	ck_assert_uint_eq(vq.num_free, 4);
	ck_assert_uint_eq(vnet_sq_post(&vq, NULL, 4, 0, NULL, pool, 0), 4);
	for (i = 0; i < 4; i++)
		ck_assert_uint_ne(vq.avail->ring[(4 + i) & vq.mask], a0);
	ck_assert_ptr_null(vq.cookie[a0]);
	/* the duplicate: not in flight, the ring breaks, nothing delivered */
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out, 8, 12, 0, NULL), 0);
	ck_assert(vq.broken);
	ck_assert_uint_eq(vq.stats.drop_bad_id, 1);
	ck_assert_uint_eq(vnet_vq_drain(&vq, vnet_buf_free), 7);
}
END_TEST

/* Held ids come back once the harvest passes the index they wait for. */
START_TEST(held_ids_come_back)
{
	struct vnet_buf *out[8];
	uint16_t i;

	post(8);
	for (i = 0; i < 6; i++)
		dev_complete_id(vq.avail->ring[i], 60);
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out, 2, 12, 0, NULL), 2);
	ck_assert_uint_eq(vnet_vq_held(&vq), 2);
	ck_assert_uint_eq(vq.num_free, 0);
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out + 2, 2, 12, 0, NULL), 2);
	ck_assert_uint_eq(vnet_vq_held(&vq), 4);
	ck_assert_uint_eq(vq.held_ngrp, 1); /* the same index: one group */
	dev_complete_id(vq.avail->ring[6], 60); /* a later index: a second group */
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out + 4, 1, 12, 0, NULL), 1);
	ck_assert_uint_eq(vq.held_ngrp, 2);
	ck_assert_uint_eq(vnet_vq_held(&vq), 5);
	/* reaching index 6 gives back the first group only (this burst,
	 * short again, adds its id to the second) */
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out + 5, 1, 12, 0, NULL), 1);
	ck_assert_uint_eq(vq.last_used, 6);
	ck_assert_uint_eq(vnet_vq_held(&vq), 2);
	ck_assert_uint_eq(vq.held_ngrp, 1);
	ck_assert_uint_eq(vq.num_free, 4);
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out + 6, 1, 12, 0, NULL), 1);
	ck_assert_uint_eq(vnet_vq_held(&vq), 0);
	ck_assert_uint_eq(vq.num_free, 7);
	vnet_pool_free_bulk(out, 7);
	ck_assert(!vq.broken);
}
END_TEST

/* A refill with no harvest since the last one (the application stopped
 * reading) takes held ids back once it has checked that no unread entry
 * names an id out of flight; with such an entry there, they stay held. */
START_TEST(held_ids_checked_when_reading_stops)
{
	struct vnet_buf *out[8];
	uint16_t a0;

	post(4);
	a0 = vq.avail->ring[0];
	dev_complete_id(a0, 60);
	dev_complete_id(vq.avail->ring[1], 60);
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out, 1, 12, 0, NULL), 1);
	vnet_buf_free(out[0]);
	ck_assert_uint_eq(vnet_vq_held(&vq), 1);
	ck_assert_uint_eq(vnet_ring_held_check(&vq), 1); /* the unread entry names an id in flight */
	ck_assert_uint_eq(vnet_vq_held(&vq), 0);
	ck_assert_uint_eq(vq.num_free, 5);
	/* now with a stale duplicate among the unread entries */
	dev_complete_id(vq.avail->ring[2], 60);
	dev_complete_id(vq.avail->ring[2], 60);
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out, 2, 12, 0, NULL), 2); /* a1, a2 */
	vnet_pool_free_bulk(out, 2);
	ck_assert_uint_eq(vnet_vq_held(&vq), 2);
	ck_assert_uint_eq(vnet_ring_held_check(&vq), 0);
	ck_assert_uint_eq(vnet_vq_held(&vq), 2);
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out, 8, 12, 0, NULL), 0);
	ck_assert(vq.broken);
}
END_TEST

START_TEST(index_jump_breaks)
{
	struct vnet_buf *out[8];

	post(2);
	vq.used->idx = (uint16_t)(vq.used->idx + 9); /* more than a ring ahead */
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out, 8, 12, 0, NULL), 0);
	ck_assert(vq.broken);
	ck_assert_uint_eq(vq.stats.drop_bad_idx, 1);
	ck_assert_uint_eq(vnet_vq_drain(&vq, vnet_buf_free), 2);
}
END_TEST

START_TEST(notify_flags)
{
	post(1);
	ck_assert_int_eq(ft.notifies, 1); /* device did not say NO_NOTIFY */
	vq.used->flags = VRING_USED_F_NO_NOTIFY;
	post(1);
	ck_assert_int_eq(ft.notifies, 1);
	ck_assert_uint_eq(vq.stats.kicks, 1);
}
END_TEST

START_TEST(notify_event_idx)
{
	struct vnet_buf *out[8];
	uint16_t i;

	vnet_sq_reset(&vq, VRING_DESC_F_WRITE, true);
	ck_assert_uint_eq(*vq.used_event, 0x8000);
	*vq.avail_event = 0; /* device wants a kick once entry 0 is published */
	post(2);
	ck_assert_int_eq(ft.notifies, 1);
	*vq.avail_event = 5; /* kick when the index passes 5 */
	post(2);             /* 2 -> 4: not yet */
	ck_assert_int_eq(ft.notifies, 1);
	for (i = 0; i < 4; i++)
		dev_complete_id(vq.avail->ring[i], 60);
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out, 8, 12, 0, NULL), 4);
	vnet_pool_free_bulk(out, 4);
	/* harvest keeps used_event half a ring-space ahead: no interrupts */
	ck_assert_uint_eq(*vq.used_event, (uint16_t)(4 + 0x8000));
	post(2); /* 4 -> 6 crosses 5 */
	ck_assert_int_eq(ft.notifies, 2);
	/* the event index belongs to the range since the last kick */
	*vq.avail_event = 6;
	post(1);
	ck_assert_int_eq(ft.notifies, 3);
}
END_TEST

START_TEST(need_event_table)
{
	/* spec 2.7.10: notify iff event is in [old, new) */
	ck_assert(vring_need_event(0, 1, 0));
	ck_assert(!vring_need_event(1, 1, 0));
	ck_assert(vring_need_event(5, 8, 4));
	ck_assert(!vring_need_event(3, 8, 4));
	ck_assert(vring_need_event(65535, 2, 65534)); /* across the wrap */
	ck_assert(!vring_need_event(2, 2, 65534));
}
END_TEST


/* MRG_RXBUF (spec 5.1.6.4): the device writes num_buffers in the first
 * buffer's header; the frame's other buffers follow in the used ring. */
static void dev_mrg_head(uint16_t id, uint16_t nb)
{
	struct vnet_buf *b = vq.cookie[id];
	struct virtio_net_hdr *h = (struct virtio_net_hdr *)(b->base + vq.buf_off);
	h->num_buffers = nb;
}

START_TEST(mrg_chain)
{
	struct vnet_buf *out[8];
	uint16_t ids[8], i;
	uint64_t bytes = 0;

	post(8);
	for (i = 0; i < 8; i++)
		ids[i] = vq.avail->ring[i];
	dev_mrg_head(ids[0], 3);
	dev_complete_id(ids[0], 12 + 1000);
	dev_complete_id(ids[1], 1500);
	dev_complete_id(ids[2], 7);
	dev_mrg_head(ids[3], 1);
	dev_complete_id(ids[3], 12 + 60);
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out, 8, 12, 1, &bytes), 2);
	ck_assert_uint_eq(out[0]->nb_segs, 3);
	ck_assert_uint_eq(out[0]->len, 1000);
	ck_assert_uint_eq(out[0]->next->len, 1500);
	ck_assert_ptr_eq(out[0]->next->data, out[0]->next->base + vq.buf_off); /* no header */
	ck_assert_uint_eq(out[0]->next->next->len, 7);
	ck_assert_uint_eq(out[1]->nb_segs, 1);
	ck_assert_uint_eq(out[1]->len, 60);
	ck_assert_uint_eq(bytes, 1000 + 1500 + 7 + 60);
	vnet_buf_free_chain(out[0]);
	vnet_buf_free_chain(out[1]);
}
END_TEST

START_TEST(mrg_frames_whole_or_not_at_all)
{
	struct vnet_buf *out[8];
	uint16_t ids[8], i;

	post(8);
	for (i = 0; i < 8; i++)
		ids[i] = vq.avail->ring[i];
	dev_mrg_head(ids[0], 2);
	dev_complete_id(ids[0], 100);
	dev_complete_id(ids[1], 100);
	dev_mrg_head(ids[2], 2);
	dev_complete_id(ids[2], 100);
	dev_complete_id(ids[3], 100);
	/* one frame asked: both of its buffers, nothing of the next */
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out, 1, 12, 1, NULL), 1);
	ck_assert_uint_eq(out[0]->nb_segs, 2);
	ck_assert_uint_eq(vq.last_used, 2);
	vnet_buf_free_chain(out[0]);
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out, 1, 12, 1, NULL), 1);
	vnet_buf_free_chain(out[0]);
}
END_TEST

/* A bad num_buffers (the device's header, not the ring) drops its frame
 * and the harvest goes on. */
START_TEST(mrg_bad_num_buffers_dropped)
{
	struct vnet_buf *out[8];
	uint16_t ids[8], i;

	post(8);
	for (i = 0; i < 8; i++)
		ids[i] = vq.avail->ring[i];
	dev_mrg_head(ids[0], 0); /* num_buffers 0 */
	dev_complete_id(ids[0], 100);
	dev_mrg_head(ids[1], 1); /* a good frame after it */
	dev_complete_id(ids[1], 112);
	dev_mrg_head(ids[2], 5); /* beyond what was published */
	dev_complete_id(ids[2], 100);
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out, 8, 12, 1, NULL), 1);
	ck_assert_uint_eq(out[0]->len, 100);
	ck_assert_uint_eq(out[0]->nb_segs, 1);
	vnet_buf_free(out[0]);
	ck_assert_uint_eq(vq.stats.drop_bad_len, 2);
	ck_assert_uint_eq(vnet_pool_in_use(pool), 5);
	ck_assert(!vq.broken);
}
END_TEST

/* A hole in a frame (a bad id where a segment should be) or a segment
 * longer than its buffer breaks the ring; the frame being assembled is
 * dropped whole, what came before it is delivered. */
static void mrg_break_run(int hole)
{
	struct vnet_buf *out[8];
	uint16_t ids[8], i;

	post(8);
	for (i = 0; i < 8; i++)
		ids[i] = vq.avail->ring[i];
	dev_mrg_head(ids[0], 1); /* a good frame first */
	dev_complete_id(ids[0], 112);
	dev_mrg_head(ids[1], 3);
	dev_complete_id(ids[1], 100);
	dev_complete_id(ids[2], 100);
	if (hole)
		dev_complete_id(999, 100);
	else
		dev_complete_id(ids[3], 5000);
	dev_mrg_head(ids[4], 1);
	dev_complete_id(ids[4], 112);
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out, 8, 12, 1, NULL), 1);
	ck_assert_uint_eq(out[0]->len, 100);
	vnet_buf_free(out[0]);
	ck_assert(vq.broken);
	ck_assert_uint_eq(vq.stats.drop_bad_id, hole ? 1 : 0);
	ck_assert_uint_eq(vq.stats.drop_bad_len, hole ? 0 : 1);
	/* the two segments taken went back with their frame; 5 still posted */
	ck_assert_uint_eq(vnet_pool_in_use(pool), 5);
}

START_TEST(mrg_hole_breaks) { mrg_break_run(1); }
END_TEST
START_TEST(mrg_segment_too_long_breaks) { mrg_break_run(0); }
END_TEST

START_TEST(tx_header_zeroed_unless_set)
{
	struct vnet_buf *b[2];
	struct vnet_net_hdr *h;

	ck_assert_int_eq(vnet_pool_alloc_bulk(pool, b, 2), 0);
	memset(b[0]->base, 0xaa, 64);
	memset(b[1]->base, 0xaa, 64);
	b[0]->len = b[1]->len = 60;
	h = vnet_buf_hdr(b[1], 12);
	memset(h, 0, 12);
	h->flags = VNET_HDR_F_NEEDS_CSUM;
	h->csum_start = 34;
	h->csum_offset = 16;
	b[1]->flags = VNET_BUF_F_TX_HDR;
	ck_assert_uint_eq(vnet_sq_post(&vq, b, 2, 12, NULL, NULL, 0), 2);
	h = vnet_buf_hdr(b[0], 12);
	ck_assert_uint_eq(h->flags | h->csum_start | h->num_buffers, 0);
	h = vnet_buf_hdr(b[1], 12);
	ck_assert_uint_eq(h->flags, VNET_HDR_F_NEEDS_CSUM);
	ck_assert_uint_eq(h->csum_start, 34);
	ck_assert_uint_eq(vq.desc[vq.avail->ring[0]].len, 72);
}
END_TEST

/* VIRTIO_F_IN_ORDER (spec 2.7.9): ids are avail positions; one used
 * entry may stand for a batch ending at the id it names. */
START_TEST(in_order_batches)
{
	struct vnet_buf *b[8];
	uint16_t i;

	vq.in_order = true;
	ck_assert_int_eq(vnet_pool_alloc_bulk(pool, b, 6), 0);
	for (i = 0; i < 6; i++)
		b[i]->len = 60;
	ck_assert_uint_eq(vnet_sq_post(&vq, b, 6, 12, NULL, NULL, 1), 6);
	for (i = 0; i < 6; i++)
		ck_assert_uint_eq(vq.avail->ring[i], i); /* id = position */
	/* one entry for the first four buffers, one for the next */
	vq.used->ring[0].id = 3;
	vq.used->ring[4].id = 4;
	vq.used->idx = 5;
	ck_assert_uint_eq(vnet_sq_reclaim_in_order(&vq), 5);
	ck_assert_uint_eq(vnet_pool_in_use(pool), 1);
	ck_assert_uint_eq(vq.num_free, 7);
	/* a batch naming a buffer past what was published breaks the queue */
	vq.used->ring[5].id = 7;
	vq.used->idx = 6;
	ck_assert_uint_eq(vnet_sq_reclaim_in_order(&vq), 0);
	ck_assert(vq.broken);
	ck_assert_uint_eq(vq.stats.drop_bad_id, 1);
}
END_TEST

START_TEST(in_order_wrong_position_breaks)
{
	struct vnet_buf *b[8], *out[8];

	/* under IN_ORDER the entry at used position p names id p: a device
	 * that completes out of order breaks the ring (it used to leave a
	 * position busy forever) */
	vq.in_order = true;
	ck_assert_int_eq(vnet_pool_alloc_bulk(pool, b, 8), 0);
	ck_assert_uint_eq(vnet_sq_post(&vq, b, 8, 0, NULL, NULL, 1), 8);
	dev_complete_id(0, 100);
	dev_complete_id(2, 100); /* position 1 names id 2 */
	ck_assert_uint_eq(vnet_sq_harvest(&vq, out, 8, 12, 0, NULL), 1);
	vnet_buf_free(out[0]);
	ck_assert(vq.broken);
	ck_assert_uint_eq(vq.stats.drop_bad_id, 1);
	ck_assert_uint_eq(vq.last_used, 1);
	ck_assert_uint_eq(vnet_pool_in_use(pool), 7);
}
END_TEST

/* IN_ORDER TX: a batch over a position with nothing in flight breaks the
 * queue; what the batches before it covered is taken. */
START_TEST(in_order_batch_over_idle_position_breaks)
{
	struct vnet_buf *b[8];
	uint16_t i;

	vq.in_order = true;
	ck_assert_int_eq(vnet_pool_alloc_bulk(pool, b, 4), 0);
	for (i = 0; i < 4; i++)
		b[i]->len = 60;
	ck_assert_uint_eq(vnet_sq_post(&vq, b, 4, 12, NULL, NULL, 1), 4);
	vnet_buf_free(vq.cookie[2]); /* as if position 2 were idle */
	vq.cookie[2] = NULL;
	vq.used->ring[0].id = 1;
	vq.used->ring[2].id = 3;
	vq.used->idx = 4;
	ck_assert_uint_eq(vnet_sq_reclaim_in_order(&vq), 2);
	ck_assert(vq.broken);
	ck_assert_uint_eq(vq.stats.drop_bad_id, 1);
	ck_assert_uint_eq(vnet_pool_in_use(pool), 1);
	ck_assert_uint_eq(vnet_vq_drain(&vq, vnet_buf_free), 1);
	vq.num_free = vq.size; /* the test's own tampering */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vring");
	TCase *tc = tcase_create("vring");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, bad_sizes);
	tcase_add_test(tc, layout);
	tcase_add_test(tc, legacy_layout);
	tcase_add_test(tc, wraparound);
	tcase_add_test(tc, harvest_partial);
	tcase_add_test(tc, bad_id_out_of_range_breaks);
	tcase_add_test(tc, bad_id_far_out_of_range_breaks);
	tcase_add_test(tc, bad_id_duplicate_breaks);
	tcase_add_test(tc, bad_id_idle_breaks);
	tcase_add_test(tc, bad_len_short_breaks);
	tcase_add_test(tc, bad_len_long_breaks);
	tcase_add_test(tc, index_ahead_of_in_flight_breaks);
	tcase_add_test(tc, short_burst_holds_ids_stale_duplicate_breaks);
	tcase_add_test(tc, held_ids_come_back);
	tcase_add_test(tc, held_ids_checked_when_reading_stops);
	tcase_add_test(tc, index_jump_breaks);
	tcase_add_test(tc, notify_flags);
	tcase_add_test(tc, notify_event_idx);
	tcase_add_test(tc, need_event_table);
	tcase_add_test(tc, mrg_chain);
	tcase_add_test(tc, mrg_frames_whole_or_not_at_all);
	tcase_add_test(tc, mrg_bad_num_buffers_dropped);
	tcase_add_test(tc, mrg_hole_breaks);
	tcase_add_test(tc, mrg_segment_too_long_breaks);
	tcase_add_test(tc, tx_header_zeroed_unless_set);
	tcase_add_test(tc, in_order_batches);
	tcase_add_test(tc, in_order_wrong_position_breaks);
	tcase_add_test(tc, in_order_batch_over_idle_position_breaks);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
