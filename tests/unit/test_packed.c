/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packed ring, driver side, with the test playing the device by hand:
 * wrap counters across laps and across the 16-bit position wrap, the
 * batched publish (first descriptor's flags last), out-of-order
 * completions, every kind of bad used descriptor counted and dropped, the
 * impossible state that breaks the queue, merged RX buffers and the
 * notification decision in both the flags and the event-index form.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "ring/ring.h"
#include "vnet/model.h"

#define RX_OFF (64 - 12)
#define RX_LEN (2048 - 64 + 12)
#define F_AU (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)

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
static uint16_t dev_used;  /* device: next used position (free-running) */
static uint16_t dev_avail; /* device: next position to read */

static void setup_q(uint16_t desc_flags)
{
	struct vnet_pool_conf pc = {.count = 64};

	ft.t.ops = &fake_ops;
	ft.notifies = 0;
	dev_used = dev_avail = 0;
	ck_assert_int_eq(vnet_pool_create(&pool, &pc), 0);
	ck_assert_int_eq(vnet_pq_alloc(&vq, 0, 8, desc_flags), 0);
	vq.buf_off = RX_OFF;
	vq.buf_len = RX_LEN;
}

static void setup(void) { setup_q(VRING_DESC_F_WRITE); }
static void setup_tx(void) { setup_q(0); }

static void teardown(void)
{
	vnet_vq_drain(&vq, vnet_buf_free);
	vnet_vq_free(&vq);
	/* every test gives every buffer back */
	ck_assert_uint_eq(vnet_pool_in_use(pool), 0);
	ck_assert_int_eq(vnet_pool_destroy(pool), 0);
}

static struct pvirtq_desc *slot(uint16_t pos) { return &vq.pk_desc[pos & vq.mask]; }
static uint16_t wrap(uint16_t pos) { return (pos & vq.size) == 0; }

/* Device: is the descriptor at @pos available in its lap? (spec 2.8.1) */
static int dev_is_avail(uint16_t pos)
{
	uint16_t f = slot(pos)->flags & F_AU;
	return f == (wrap(pos) ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED);
}

/* Device: read the next available descriptor's id. */
static uint16_t dev_take(void)
{
	ck_assert(dev_is_avail(dev_avail));
	return slot(dev_avail++)->id;
}

/* Device: write the next used descriptor (flags last). */
static void dev_use(uint16_t id, uint32_t len)
{
	struct pvirtq_desc *d = slot(dev_used);

	d->id = id;
	d->len = len;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	d->flags = (uint16_t)((wrap(dev_used) ? F_AU : 0) | (len ? VIRTQ_DESC_F_WRITE : 0));
	dev_used++;
}

static void set_device_event(uint16_t flags, uint16_t off, uint16_t wrapc)
{
	struct pvirtq_event_suppress *e = (struct pvirtq_event_suppress *)vq.pk_device;

	e->desc = (uint16_t)(off | (wrapc << RING_EVENT_WRAP_SHIFT));
	e->flags = flags;
}

static uint16_t post_rx(uint16_t n)
{
	struct vnet_buf *b[8];

	ck_assert_int_eq(vnet_pool_alloc_bulk(pool, b, n), 0);
	ck_assert_uint_eq(vnet_pq_post(&vq, b, n, 0, NULL, NULL), n);
	vnet_pq_publish(&vq, &ft.t);
	return n;
}

/* Put the queue (and the device's view) at position @p, nothing in flight. */
static void start_at(uint16_t p)
{
	vq.avail_idx = vq.last_used = vq.kick_idx = vq.pk_pub = vq.pk_used_end = p;
	dev_used = dev_avail = p;
	/* what the ring would hold after the previous lap: used descriptors */
	for (uint16_t i = 0; i < vq.size; i++) {
		uint16_t q = (uint16_t)(p - vq.size + i);
		slot(q)->flags = wrap(q) ? F_AU : 0;
	}
}

START_TEST(bad_sizes)
{
	struct vnet_vq q2;

	ck_assert_int_eq(vnet_pq_alloc(&q2, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(vnet_pq_alloc(&q2, 0, 100, 0), -EINVAL);
	ck_assert_int_eq(vnet_pq_alloc(&q2, 0, 32768, 0), 0);
	ck_assert(q2.packed);
	vnet_vq_free(&q2);
}
END_TEST

START_TEST(layout)
{
	struct vnet_vq_addrs a;

	vnet_pq_addrs(&vq, &a);
	ck_assert(vq.packed);
	ck_assert_uint_eq(a.desc % PVIRTQ_DESC_ALIGN, 0); /* spec 2.8.10.1 */
	ck_assert_uint_eq(a.avail % PVIRTQ_EVENT_ALIGN, 0);
	ck_assert_uint_eq(a.used % PVIRTQ_EVENT_ALIGN, 0);
	ck_assert_uint_ge(a.avail, a.desc + 16 * 8);
	ck_assert_uint_ge(a.used, a.avail + 4);
	ck_assert_uint_le(a.used + 4, vq.mem.iova + vq.mem.len);
	ck_assert_uint_eq(vq.num_free, 8);
	/* we never want used buffer notifications */
	ck_assert_uint_eq(vq.pk_driver->flags, RING_EVENT_FLAGS_DISABLE);
	/* the ring starts zeroed: nothing looks available */
	for (uint16_t i = 0; i < 8; i++)
		ck_assert(!dev_is_avail(i));
	ck_assert_uint_eq(vnet_pq_wrap(&vq, 0), 1);
	ck_assert_uint_eq(vnet_pq_wrap(&vq, 8), 0);
	ck_assert_uint_eq(vnet_pq_wrap(&vq, 16), 1);
}
END_TEST

/* spec 2.8.21.1: the batch shows up at once, first descriptor last. */
START_TEST(publish_once)
{
	struct vnet_buf *b[4];
	struct vnet_buf *out[8];

	ck_assert_int_eq(vnet_pool_alloc_bulk(pool, b, 4), 0);
	ck_assert_uint_eq(vnet_pq_post(&vq, b, 3, 0, NULL, NULL), 3);
	ck_assert(!dev_is_avail(0)); /* held back */
	ck_assert(dev_is_avail(1));
	ck_assert(dev_is_avail(2));
	ck_assert_uint_eq(slot(1)->addr, b[1]->iova + RX_OFF);
	ck_assert_uint_eq(slot(1)->len, RX_LEN);
	ck_assert_uint_eq(slot(1)->flags & VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_WRITE);
	/* a second post before publishing holds nothing back: the first
	 * descriptor still guards the whole batch */
	ck_assert_uint_eq(vnet_pq_post(&vq, b + 3, 1, 0, NULL, NULL), 1);
	ck_assert(dev_is_avail(3));
	ck_assert(!dev_is_avail(0));
	/* not published: harvest does not look at the held-back head, even
	 * though its stale flags (zero) are those of a used descriptor of
	 * the other lap */
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 8, 12, 0, NULL), 0);
	ck_assert_uint_eq(vq.stats.drop_bad_idx, 0);
	vnet_pq_publish(&vq, &ft.t);
	ck_assert(dev_is_avail(0));
	ck_assert_uint_eq(vq.pk_pub, 4);
	/* ids come from the free stack, ascending */
	for (uint16_t i = 0; i < 4; i++)
		ck_assert_uint_eq(dev_take(), i);
	/* nothing new: publish is a no-op, no kick */
	ft.notifies = 0;
	vnet_pq_publish(&vq, &ft.t);
	ck_assert_int_eq(ft.notifies, 0);
}
END_TEST

START_TEST(wraparound)
{
	struct vnet_buf *out[8];
	uint32_t round;

	/* start just below the 16-bit wrap, in the middle of a lap */
	start_at(65530);
	for (round = 0; round < 40; round++) {
		uint16_t i, got, ids[8], base = vq.avail_idx;
		struct vnet_buf *posted[8];

		post_rx(8);
		ck_assert_uint_eq(vq.num_free, 0);
		for (i = 0; i < 8; i++) {
			/* AVAIL = the lap's wrap counter, USED its inverse */
			uint16_t f = slot((uint16_t)(base + i))->flags & F_AU;
			ck_assert_uint_eq(f, wrap((uint16_t)(base + i)) ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED);
			ids[i] = dev_take();
			posted[i] = vq.cookie[ids[i]];
		}
		for (i = 0; i < 8; i++) /* complete in reverse order */
			dev_use(ids[7 - i], (uint32_t)(100 + i));
		got = vnet_pq_harvest(&vq, out, 8, 12, 0, NULL);
		ck_assert_uint_eq(got, 8);
		ck_assert_uint_eq(vq.num_free, 8);
		ck_assert_uint_eq(vq.last_used, (uint16_t)(base + 8));
		/* returned in used order (the reverse of posting), each with
		 * its own length */
		for (i = 0; i < got; i++) {
			ck_assert_ptr_eq(out[i], posted[7 - i]);
			ck_assert_uint_eq(out[i]->len, 100 + i - 12);
			ck_assert_ptr_eq(out[i]->data, out[i]->base + 64);
		}
		vnet_pool_free_bulk(out, got);
		ck_assert_uint_eq(vq.stats.drop_bad_idx + vq.stats.drop_bad_id + vq.stats.drop_bad_len, 0);
	}
	ck_assert_uint_lt(vq.avail_idx, 65530); /* it did wrap */
	ck_assert(!vq.broken);
}
END_TEST

/* Partial batches across laps: 3 at a time on an 8-ring. */
START_TEST(uneven_laps)
{
	struct vnet_buf *out[8];

	for (uint32_t r = 0; r < 50; r++) {
		uint16_t ids[3];

		post_rx(3);
		for (int i = 0; i < 3; i++)
			ids[i] = dev_take();
		dev_use(ids[1], 40);
		dev_use(ids[0], 41);
		ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 8, 12, 0, NULL), 2);
		ck_assert_uint_eq(out[0]->len, 40 - 12);
		ck_assert_uint_eq(out[1]->len, 41 - 12);
		vnet_pool_free_bulk(out, 2);
		dev_use(ids[2], 42);
		ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 1, 12, 0, NULL), 1);
		ck_assert_uint_eq(out[0]->len, 42 - 12);
		vnet_buf_free(out[0]);
	}
	ck_assert_uint_eq(vq.num_free, 8);
}
END_TEST

START_TEST(harvest_partial)
{
	struct vnet_buf *out[8];
	uint16_t i;

	post_rx(8);
	for (i = 0; i < 8; i++)
		dev_use(dev_take(), 60);
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 3, 12, 0, NULL), 3);
	vnet_pool_free_bulk(out, 3);
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 8, 12, 0, NULL), 5);
	vnet_pool_free_bulk(out, 5);
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 8, 12, 0, NULL), 0);
	/* device used only some of a new batch: harvest stops at the first
	 * descriptor still available */
	post_rx(4);
	dev_use(dev_take(), 60);
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 8, 12, 0, NULL), 1);
	vnet_buf_free(out[0]);
	ck_assert_uint_eq(vnet_vq_in_flight(&vq), 3);
}
END_TEST

/*
 * A used descriptor the device got wrong breaks the ring (as Linux's
 * BAD_RING): what came before it is delivered, the descriptor is not
 * taken, nothing after it is read, the queue is marked broken.
 */
enum pbad { PBAD_RANGE, PBAD_FAR, PBAD_DUP, PBAD_IDLE, PBAD_SHORT, PBAD_LONG };

static void pbad_run(enum pbad k)
{
	struct vnet_buf *out[8];
	uint16_t id[4];
	uint32_t bad_id, len = 60;

	post_rx(4); /* ids 0..3 */
	for (int i = 0; i < 4; i++)
		id[i] = dev_take();
	switch (k) {
	case PBAD_RANGE: bad_id = 8; break;
	case PBAD_FAR: bad_id = 0xffff; break;
	case PBAD_DUP: bad_id = id[0]; break; /* no longer in flight */
	case PBAD_IDLE: bad_id = 6; break;    /* never posted */
	case PBAD_SHORT: bad_id = id[2]; len = 5; break;
	default: bad_id = id[2]; len = RX_LEN + 1; break;
	}
	dev_use(id[0], 60);
	dev_use((uint16_t)bad_id, len);
	dev_use(id[1], 60); /* never read */
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 8, 12, 0, NULL), 1);
	ck_assert_uint_eq(out[0]->len, 48);
	vnet_buf_free(out[0]);
	ck_assert(vq.broken);
	ck_assert_uint_eq(vq.last_used, 1); /* the bad descriptor is not taken */
	ck_assert_uint_eq(vq.stats.drop_bad_id, k < PBAD_SHORT);
	ck_assert_uint_eq(vq.stats.drop_bad_len, k >= PBAD_SHORT);
	ck_assert_uint_eq(vnet_pool_in_use(pool), 3);
	ck_assert_uint_eq(vnet_vq_drain(&vq, vnet_buf_free), 3);
}

START_TEST(bad_id_out_of_range_breaks) { pbad_run(PBAD_RANGE); }
END_TEST
START_TEST(bad_id_far_out_of_range_breaks) { pbad_run(PBAD_FAR); }
END_TEST
START_TEST(bad_id_duplicate_breaks) { pbad_run(PBAD_DUP); }
END_TEST
START_TEST(bad_id_idle_breaks) { pbad_run(PBAD_IDLE); }
END_TEST
START_TEST(bad_len_short_breaks) { pbad_run(PBAD_SHORT); }
END_TEST
START_TEST(bad_len_long_breaks) { pbad_run(PBAD_LONG); }
END_TEST

/* A used descriptor with the other lap's wrap state breaks the ring: never
 * trusted, nothing past it read. */
START_TEST(wrong_wrap_breaks)
{
	struct vnet_buf *out[8];
	uint16_t a, b, c;

	post_rx(3);
	a = dev_take();
	b = dev_take();
	c = dev_take();
	dev_use(a, 60);
	/* position 1 (lap 1): AVAIL == USED == 0, the previous lap's state */
	slot(1)->id = b;
	slot(1)->len = 60;
	slot(1)->flags = VIRTQ_DESC_F_WRITE;
	dev_used++;
	dev_use(c, 62);
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 8, 12, 0, NULL), 1);
	ck_assert_uint_eq(out[0]->len, 48);
	vnet_buf_free(out[0]);
	ck_assert_uint_eq(vq.stats.drop_bad_idx, 1);
	ck_assert_uint_eq(vq.last_used, 1);
	ck_assert(vq.broken);
	ck_assert_uint_eq(vnet_vq_drain(&vq, vnet_buf_free), 2);
}
END_TEST

/* The stale-duplicate case on the packed ring: a short burst holds the ids
 * it took until the harvest passes the used run it saw, so the refill
 * cannot post them again under a duplicate left unread. */
START_TEST(short_burst_holds_ids_stale_duplicate_breaks)
{
	struct vnet_buf *out[8];
	uint16_t a0, id1;

	post_rx(4);
	a0 = dev_take();
	id1 = dev_take();
	dev_use(a0, 60);
	dev_use(a0, 70); /* the stale duplicate */
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 1, 12, 0, NULL), 1); /* short burst */
	vnet_buf_free(out[0]);
	ck_assert_uint_eq(vnet_vq_held(&vq), 1);
	ck_assert_uint_eq(vq.pk_used_end, 2);
	/* the refill posts every free id, a0 not among them */
	ck_assert_uint_eq(vq.num_free, 4);
	ck_assert_uint_eq(vnet_pq_post(&vq, NULL, 4, 0, NULL, pool), 4);
	vnet_pq_publish(&vq, &ft.t);
	ck_assert_ptr_null(vq.cookie[a0]);
	ck_assert_ptr_nonnull(vq.cookie[id1]);
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 8, 12, 0, NULL), 0);
	ck_assert(vq.broken);
	ck_assert_uint_eq(vq.stats.drop_bad_id, 1);
	ck_assert_uint_eq(vnet_vq_drain(&vq, vnet_buf_free), 7);
}
END_TEST

/* Pass 1 reads each descriptor's flags once whatever the bursts: the used
 * run seen by a short burst is remembered, and held ids come back once
 * the harvest passes it. */
START_TEST(used_run_remembered_and_held_ids_back)
{
	struct vnet_buf *out[8];
	uint16_t i;

	post_rx(8);
	for (i = 0; i < 6; i++)
		dev_use(dev_take(), 60);
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 2, 12, 0, NULL), 2);
	ck_assert_uint_eq(vq.pk_used_end, 6);
	ck_assert_uint_eq(vnet_vq_held(&vq), 2);
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out + 2, 8, 12, 0, NULL), 4);
	ck_assert_uint_eq(vnet_vq_held(&vq), 0);
	ck_assert_uint_eq(vq.num_free, 6);
	vnet_pool_free_bulk(out, 6);
	ck_assert(!vq.broken);
	/* a refill with no harvest since the last one checks the unread run */
	dev_use(dev_take(), 60);
	dev_use(dev_take(), 60);
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 1, 12, 0, NULL), 1);
	vnet_buf_free(out[0]);
	ck_assert_uint_eq(vnet_vq_held(&vq), 1);
	ck_assert_uint_eq(vnet_ring_held_check(&vq), 1);
	ck_assert_uint_eq(vnet_vq_held(&vq), 0);
	ck_assert_uint_eq(vq.num_free, 7);
}
END_TEST

/* AVAIL != USED and not what we wrote: no device writes that. */
START_TEST(impossible_state_breaks)
{
	struct vnet_buf *out[8];

	post_rx(2);
	dev_use(dev_take(), 60);
	slot(1)->flags = VIRTQ_DESC_F_USED; /* lap 1 would be AVAIL */
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 8, 12, 0, NULL), 1);
	vnet_buf_free(out[0]);
	ck_assert(vq.broken);
	ck_assert_uint_eq(vq.stats.drop_bad_idx, 1);
	ck_assert_uint_eq(vq.last_used, 1);
	ck_assert_uint_eq(vnet_vq_drain(&vq, vnet_buf_free), 1);
}
END_TEST

START_TEST(tx_reclaim_to_pool)
{
	struct vnet_buf *b[6];
	uint64_t bytes = 0;
	uint16_t ids[6];
	struct vnet_net_hdr *h;

	ck_assert_int_eq(vnet_pool_alloc_bulk(pool, b, 6), 0);
	for (int i = 0; i < 6; i++) {
		b[i]->len = (uint32_t)(60 + i);
		memset(b[i]->data - 12, 0xaa, 12);
	}
	/* an application-filled header is kept */
	b[1]->flags = VNET_BUF_F_TX_HDR;
	/* b[5]: the frame runs past the buffer: posting stops there */
	b[5]->len = b[5]->size;
	ck_assert_uint_eq(vnet_pq_post(&vq, b, 6, 12, &bytes, NULL), 5);
	ck_assert_uint_eq(bytes, 60 + 61 + 62 + 63 + 64);
	vnet_pq_publish(&vq, &ft.t);
	for (int i = 0; i < 5; i++) {
		ids[i] = dev_take();
		ck_assert_uint_eq(slot((uint16_t)i)->flags & VIRTQ_DESC_F_WRITE, 0);
		ck_assert_uint_eq(slot((uint16_t)i)->len, 12 + 60 + (uint32_t)i);
		ck_assert_uint_eq(slot((uint16_t)i)->addr, b[i]->iova + (uint64_t)(b[i]->data - 12 - b[i]->base));
	}
	h = vnet_buf_hdr(b[0], 12);
	ck_assert_uint_eq(h->flags | h->gso_type | h->num_buffers, 0);
	h = vnet_buf_hdr(b[1], 12);
	ck_assert_uint_eq(h->flags, 0xaa);
	b[1]->flags = 0;
	vnet_buf_free(b[5]);
	dev_use(ids[3], 0);
	dev_use(ids[0], 0);
	ck_assert_uint_eq(vnet_pool_in_use(pool), 5);
	ck_assert_uint_eq(vnet_pq_harvest(&vq, NULL, vq.size, 0, 0, NULL), 2);
	ck_assert_uint_eq(vnet_pool_in_use(pool), 3);
	ck_assert_uint_eq(vq.num_free, 5);
	dev_use(ids[1], 0);
	dev_use(ids[2], 0);
	dev_use(ids[4], 0);
	ck_assert_uint_eq(vnet_pq_harvest(&vq, NULL, vq.size, 0, 0, NULL), 3);
	ck_assert_uint_eq(vnet_pool_in_use(pool), 0);
}
END_TEST

/* RX refill straight off the pool's stack. */
START_TEST(refill_from_pool)
{
	uint32_t top = pool->top;

	ck_assert_uint_eq(vnet_pq_post(&vq, NULL, 8, 0, NULL, pool), 8);
	vnet_pq_publish(&vq, &ft.t);
	ck_assert_uint_eq(pool->top, top - 8);
	for (uint16_t i = 0; i < 8; i++) {
		ck_assert(dev_is_avail(i));
		ck_assert_uint_eq(slot(i)->len, RX_LEN);
	}
}
END_TEST

/* MRG_RXBUF: one frame over three buffers, taken whole. */
START_TEST(merged_rx)
{
	struct vnet_buf *out[8];
	uint16_t id[6];
	struct vnet_buf *s;
	struct virtio_net_hdr *h;
	uint64_t bytes = 0;

	post_rx(6);
	for (int i = 0; i < 6; i++)
		id[i] = dev_take();
	h = (struct virtio_net_hdr *)(void *)(vq.cookie[id[0]]->base + RX_OFF);
	h->num_buffers = 3;
	h = (struct virtio_net_hdr *)(void *)(vq.cookie[id[3]]->base + RX_OFF);
	h->num_buffers = 1;
	/* spec 2.8.9: the first buffer's descriptor is marked used last */
	slot(1)->id = id[1];
	slot(1)->len = RX_LEN;
	slot(2)->id = id[2];
	slot(2)->len = 100;
	slot(1)->flags = slot(2)->flags = F_AU | VIRTQ_DESC_F_WRITE;
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 8, 12, 1, NULL), 0);
	dev_used = 3;
	slot(0)->id = id[0];
	slot(0)->len = RX_LEN;
	slot(0)->flags = F_AU | VIRTQ_DESC_F_WRITE;
	dev_use(id[3], 12 + 70);
	/* one frame per call */
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 1, 12, 1, &bytes), 1);
	ck_assert_uint_eq(out[0]->nb_segs, 3);
	ck_assert_uint_eq(out[0]->len, RX_LEN - 12);
	s = out[0]->next;
	ck_assert_uint_eq(s->len, RX_LEN);
	ck_assert_ptr_eq(s->data, s->base + RX_OFF);
	ck_assert_uint_eq(s->next->len, 100);
	ck_assert_uint_eq(bytes, RX_LEN - 12 + RX_LEN + 100);
	vnet_buf_free_chain(out[0]);
	ck_assert_uint_eq(vq.last_used, 3);
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 8, 12, 1, NULL), 1);
	ck_assert_uint_eq(out[0]->nb_segs, 1);
	ck_assert_uint_eq(out[0]->len, 70);
	vnet_buf_free(out[0]);
	/* num_buffers beyond the used run: dropped (and counted) */
	h = (struct virtio_net_hdr *)(void *)(vq.cookie[id[4]]->base + RX_OFF);
	h->num_buffers = 3;
	dev_use(id[4], RX_LEN);
	dev_use(id[5], 50);
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 8, 12, 1, NULL), 0);
	ck_assert_uint_eq(vq.stats.drop_bad_len, 2); /* the head, then id 5 alone: 50 - 12 has num_buffers 0 */
	ck_assert_uint_eq(vnet_vq_in_flight(&vq), 0);
}
END_TEST

/* Flags form (no EVENT_IDX): ENABLE kicks, DISABLE does not. */
START_TEST(notify_flags)
{
	set_device_event(RING_EVENT_FLAGS_ENABLE, 0, 0);
	post_rx(1);
	ck_assert_int_eq(ft.notifies, 1);
	set_device_event(RING_EVENT_FLAGS_DISABLE, 0, 0);
	post_rx(1);
	ck_assert_int_eq(ft.notifies, 1);
	/* DESC without EVENT_IDX, or the reserved value: kick (harmless) */
	set_device_event(RING_EVENT_FLAGS_DESC, 7, 1);
	post_rx(1);
	ck_assert_int_eq(ft.notifies, 2);
	set_device_event(3, 0, 0);
	post_rx(1);
	ck_assert_int_eq(ft.notifies, 3);
	ck_assert_uint_eq(vq.stats.kicks, 3);
}
END_TEST

/* Event-index form (spec 2.8.10): kick when the descriptor at (off, wrap)
 * is among those made available since the last kick. */
START_TEST(notify_event_idx)
{
	struct vnet_buf *out[8];
	uint16_t i;

	vnet_pq_reset(&vq, VRING_DESC_F_WRITE, true);
	set_device_event(RING_EVENT_FLAGS_DESC, 0, 1); /* position 0 */
	post_rx(2);                                    /* 0, 1 */
	ck_assert_int_eq(ft.notifies, 1);
	set_device_event(RING_EVENT_FLAGS_DESC, 5, 1); /* position 5 */
	post_rx(2);                                    /* 2, 3 */
	ck_assert_int_eq(ft.notifies, 1);
	for (i = 0; i < 4; i++)
		dev_use(dev_take(), 60);
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 8, 12, 0, NULL), 4);
	vnet_pool_free_bulk(out, 4);
	post_rx(2); /* 4, 5: crosses 5 */
	ck_assert_int_eq(ft.notifies, 2);
	/* the event position belongs to the range since the last kick */
	set_device_event(RING_EVENT_FLAGS_DESC, 6, 1);
	post_rx(1); /* 6 */
	ck_assert_int_eq(ft.notifies, 3);
	/* the wrap counter matters: offset 1 in lap 0 is position 9 */
	set_device_event(RING_EVENT_FLAGS_DESC, 1, 0);
	for (i = 0; i < 3; i++)
		dev_use(dev_take(), 60);
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 8, 12, 0, NULL), 3);
	vnet_pool_free_bulk(out, 3);
	post_rx(2); /* 7, 8 */
	ck_assert_int_eq(ft.notifies, 3);
	post_rx(1); /* 9 */
	ck_assert_int_eq(ft.notifies, 4);
	/* offset 1 in lap 1 is position 17 (or 1): not in 10..11 */
	set_device_event(RING_EVENT_FLAGS_DESC, 1, 1);
	for (i = 0; i < 3; i++)
		dev_use(dev_take(), 60);
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 8, 12, 0, NULL), 3);
	vnet_pool_free_bulk(out, 3);
	post_rx(2);
	ck_assert_int_eq(ft.notifies, 4);
	/* DISABLE still wins with EVENT_IDX; ENABLE still kicks */
	set_device_event(RING_EVENT_FLAGS_DISABLE, 0, 0);
	post_rx(1);
	ck_assert_int_eq(ft.notifies, 4);
	set_device_event(RING_EVENT_FLAGS_ENABLE, 0, 0);
	post_rx(1);
	ck_assert_int_eq(ft.notifies, 5);
	/* an offset beyond the ring cannot be honoured: kick */
	set_device_event(RING_EVENT_FLAGS_DESC, 100, 1);
	post_rx(1);
	ck_assert_int_eq(ft.notifies, 6);
}
END_TEST

/* Event index across the 16-bit position wrap and after long silences. */
START_TEST(notify_event_idx_wrap)
{
	struct vnet_buf *out[8];
	uint16_t p;

	vnet_pq_reset(&vq, VRING_DESC_F_WRITE, true);
	start_at(65528); /* slot 0, lap wrap counter 0 (65528 & 8) */
	ck_assert_uint_eq(vnet_pq_wrap(&vq, 65528), 0);
	/* the device wants position 65534 = slot 6, wrap 0 */
	set_device_event(RING_EVENT_FLAGS_DESC, 6, 0);
	post_rx(4); /* 65528..65531 */
	ck_assert_int_eq(ft.notifies, 0);
	for (int i = 0; i < 4; i++)
		dev_use(dev_take(), 60);
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 8, 12, 0, NULL), 4);
	vnet_pool_free_bulk(out, 4);
	post_rx(4); /* 65532..65535: contains 65534 */
	ck_assert_int_eq(ft.notifies, 1);
	/* wants position 2 (slot 2, wrap 1) after the 16-bit wrap */
	set_device_event(RING_EVENT_FLAGS_DESC, 2, 1);
	for (int i = 0; i < 4; i++)
		dev_use(dev_take(), 60);
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 8, 12, 0, NULL), 4);
	vnet_pool_free_bulk(out, 4);
	post_rx(2); /* 0, 1 */
	ck_assert_int_eq(ft.notifies, 1);
	post_rx(2); /* 2, 3 */
	ck_assert_int_eq(ft.notifies, 2);
	/* laps without a kick (DISABLE), then DESC: only the batch being
	 * published counts, not what went out since the last kick */
	set_device_event(RING_EVENT_FLAGS_DISABLE, 0, 0);
	for (p = 0; p < 5; p++) {
		for (int i = 0; i < 4; i++)
			dev_use(dev_take(), 60);
		ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 8, 12, 0, NULL), 4);
		vnet_pool_free_bulk(out, 4);
		post_rx(4);
	}
	ck_assert_int_eq(ft.notifies, 2);
	ck_assert_uint_eq(vq.avail_idx, 24);
	set_device_event(RING_EVENT_FLAGS_DESC, 1, 0); /* slot 1, wrap 0: 25 (or 9, long gone) */
	for (int i = 0; i < 4; i++)
		dev_use(dev_take(), 60);
	ck_assert_uint_eq(vnet_pq_harvest(&vq, out, 8, 12, 0, NULL), 4);
	vnet_pool_free_bulk(out, 4);
	post_rx(1); /* 24 */
	ck_assert_int_eq(ft.notifies, 2);
	post_rx(1); /* 25 */
	ck_assert_int_eq(ft.notifies, 3);
}
END_TEST

START_TEST(reset_and_drain)
{
	post_rx(5);
	ck_assert_uint_eq(vnet_vq_drain(&vq, vnet_buf_free), 5);
	vnet_pq_reset(&vq, VRING_DESC_F_WRITE, false);
	ck_assert_uint_eq(vq.num_free, 8);
	ck_assert_uint_eq(vq.avail_idx, 0);
	ck_assert_uint_eq(vq.pk_pub, 0);
	ck_assert_uint_eq(vq.pk_driver->flags, RING_EVENT_FLAGS_DISABLE);
	for (uint16_t i = 0; i < 8; i++)
		ck_assert_uint_eq(slot(i)->flags, 0);
	dev_used = dev_avail = 0;
	post_rx(1);
	ck_assert_uint_eq(dev_take(), 0);
}
END_TEST

/* The dispatchers pick the packed helpers. */
START_TEST(dispatch)
{
	struct vnet_buf *b[2], *out[2];
	struct vnet_vq_addrs a, a2;

	ck_assert_int_eq(vnet_pool_alloc_bulk(pool, b, 2), 0);
	ck_assert_uint_eq(vnet_ring_post(&vq, b, 2, 0, NULL, NULL, 0), 2);
	vnet_ring_publish(&vq, &ft.t);
	dev_use(dev_take(), 30);
	dev_use(dev_take(), 31);
	ck_assert_uint_eq(vnet_ring_harvest(&vq, out, 2, 12, 0, NULL), 2);
	vnet_pool_free_bulk(out, 2);
	vnet_ring_addrs(&vq, &a);
	vnet_pq_addrs(&vq, &a2);
	ck_assert_uint_eq(a.used, a2.used);
	vnet_ring_reset(&vq, VRING_DESC_F_WRITE, false);
	ck_assert_uint_eq(vq.last_used, 0);
}
END_TEST


/* ------------------------------------------ against the device model -- */

/* The packed helpers driving the model's packed ring (the device side is
 * written independently in lib/model/model_int.h): queues set up through the
 * transport, frames through the LOOPBACK device, over many laps. */
struct prig {
	struct vnet_model *m;
	struct vnet_transport *t;
	struct vnet_vq rx, tx;
	struct vnet_pool *pool;
	uint64_t tx_seq;  /* next sequence number to send */
	uint64_t rx_next; /* lowest one still expected */
};

static void prig_open(struct prig *r, uint64_t features, enum vnet_model_backend be, uint16_t size, bool notify)
{
	struct vnet_model_conf mc = {.features = features, .backend = be, .want_notify = notify};
	struct vnet_pool_conf pc = {.count = 4u * size};
	const struct vnet_transport_ops *o;
	struct vnet_vq_addrs a;
	bool ev = (features & VNET_F_EVENT_IDX) != 0;

	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(vnet_model_create(&r->m, &mc), 0);
	ck_assert_int_eq(vnet_pool_create(&r->pool, &pc), 0);
	r->t = vnet_model_transport(r->m);
	o = r->t->ops;
	ck_assert_int_eq(o->reset(r->t), 0);
	o->set_status(r->t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	o->set_features(r->t, features);
	o->set_status(r->t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	ck_assert_uint_ne(o->get_status(r->t) & VIRTIO_STATUS_FEATURES_OK, 0);
	ck_assert_int_eq(vnet_pq_alloc(&r->rx, 0, size, VRING_DESC_F_WRITE), 0);
	ck_assert_int_eq(vnet_pq_alloc(&r->tx, 1, size, 0), 0);
	r->rx.buf_off = RX_OFF;
	r->rx.buf_len = RX_LEN;
	r->tx.buf_len = UINT32_MAX;
	vnet_pq_reset(&r->rx, VRING_DESC_F_WRITE, ev);
	vnet_pq_reset(&r->tx, 0, ev);
	vnet_pq_addrs(&r->rx, &a);
	ck_assert_int_eq(o->queue_setup(r->t, 0, size, &a), 0);
	vnet_pq_addrs(&r->tx, &a);
	ck_assert_int_eq(o->queue_setup(r->t, 1, size, &a), 0);
	ck_assert_uint_eq(vnet_pq_post(&r->rx, NULL, size, 0, NULL, r->pool), size);
	vnet_pq_publish(&r->rx, r->t);
	o->set_status(r->t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
	                        VIRTIO_STATUS_DRIVER_OK);
}

static void prig_close(struct prig *r)
{
	r->t->ops->reset(r->t);
	vnet_vq_drain(&r->rx, vnet_buf_free);
	vnet_vq_drain(&r->tx, vnet_buf_free);
	vnet_vq_free(&r->rx);
	vnet_vq_free(&r->tx);
	ck_assert_uint_eq(vnet_pool_in_use(r->pool), 0);
	ck_assert_int_eq(vnet_pool_destroy(r->pool), 0);
	vnet_model_destroy(r->m);
}

/* One round: send @n numbered frames, let the device work, harvest and
 * check them (in order; a frame the driver dropped leaves a gap), refill.
 * @return frames received. */
static uint32_t prig_round(struct prig *r, uint32_t n, int mrg)
{
	struct vnet_buf *b[32], *out[32];
	uint32_t got, i;

	ck_assert_uint_le(n, 32);
	if (vnet_vq_in_flight(&r->tx))
		vnet_pq_harvest(&r->tx, NULL, r->tx.size, 0, 0, NULL);
	if (n > r->tx.num_free)
		n = r->tx.num_free;
	ck_assert_int_eq(vnet_pool_alloc_bulk(r->pool, b, n), 0);
	for (i = 0; i < n; i++) {
		uint64_t v = r->tx_seq + i;

		memset(b[i]->data, 0xff, 12);
		memcpy(b[i]->data + 14, &v, 8);
		b[i]->len = 60 + (uint32_t)(v % 7);
	}
	ck_assert_uint_eq(vnet_pq_post(&r->tx, b, (uint16_t)n, 12, NULL, NULL), n);
	r->tx_seq += n;
	vnet_pq_publish(&r->tx, r->t);
	vnet_model_poll(r->m);
	got = vnet_pq_harvest(&r->rx, out, 32, 12, mrg, NULL);
	for (i = 0; i < got; i++) {
		uint64_t v;

		memcpy(&v, out[i]->data + 14, 8);
		ck_assert_uint_ge(v, r->rx_next);
		ck_assert_uint_lt(v, r->tx_seq);
		ck_assert_uint_eq(out[i]->len, 60 + (uint32_t)(v % 7));
		ck_assert_uint_eq(out[i]->nb_segs, 1);
		r->rx_next = v + 1;
	}
	vnet_pool_free_bulk(out, got);
	if (r->rx.num_free)
		vnet_pq_post(&r->rx, NULL, r->rx.num_free, 0, NULL, r->pool);
	vnet_pq_publish(&r->rx, r->t);
	return got;
}

START_TEST(model_loopback)
{
	static const uint64_t feats[] = {
		VNET_F_VERSION_1 | VNET_F_RING_PACKED,
		VNET_F_VERSION_1 | VNET_F_RING_PACKED | VNET_F_EVENT_IDX,
		VNET_F_VERSION_1 | VNET_F_RING_PACKED | VNET_F_EVENT_IDX | VNET_F_MRG_RXBUF,
	};

	for (size_t k = 0; k < sizeof(feats) / sizeof(feats[0]); k++) {
		struct prig r;
		struct vnet_model_stats ms;

		prig_open(&r, feats[k], VNET_MODEL_LOOPBACK, 64, false);
		/* uneven bursts so that batches straddle the laps */
		for (uint32_t i = 0; i < 3000; i++)
			ck_assert_uint_eq(prig_round(&r, 1 + i % 29, (feats[k] & VNET_F_MRG_RXBUF) != 0), 1 + i % 29);
		vnet_model_stats(r.m, &ms);
		ck_assert_uint_eq(ms.rx_frames, r.tx_seq);
		ck_assert_uint_eq(r.rx_next, r.tx_seq);
		ck_assert_uint_eq(ms.bad_desc + ms.rx_no_buffer, 0);
		ck_assert_uint_eq(r.rx.stats.drop_bad_id + r.rx.stats.drop_bad_len + r.rx.stats.drop_bad_idx, 0);
		ck_assert(!r.rx.broken && !r.tx.broken);
		/* the model never asks for a kick: DISABLE, or an event one ring
		 * ahead with EVENT_IDX */
		ck_assert_uint_eq(ms.notifies, 0);
		ck_assert_uint_eq(r.tx.stats.kicks + r.rx.stats.kicks, 0);
		prig_close(&r);
	}
}
END_TEST

/* want_notify: after each device poll the next publish kicks, once. */
START_TEST(model_notify)
{
	struct prig r;

	prig_open(&r, VNET_F_VERSION_1 | VNET_F_RING_PACKED | VNET_F_EVENT_IDX, VNET_MODEL_SINK, 16, true);
	ck_assert_uint_eq(r.rx.stats.kicks, 1); /* the first refill */
	for (uint32_t i = 0; i < 100; i++) {
		uint64_t k0 = r.tx.stats.kicks;

		prig_round(&r, 5, 0);
		ck_assert_uint_eq(r.tx.stats.kicks, k0 + 1);
	}
	prig_close(&r);
	/* the flags form (no EVENT_IDX): ENABLE, every publish kicks */
	prig_open(&r, VNET_F_VERSION_1 | VNET_F_RING_PACKED, VNET_MODEL_SINK, 16, true);
	for (uint32_t i = 0; i < 10; i++)
		prig_round(&r, 3, 0);
	ck_assert_uint_eq(r.tx.stats.kicks, 10);
	prig_close(&r);
}
END_TEST

/* Each of the model's packed faults breaks the queue it hits (BAD_RING):
 * what came before is delivered in sequence, nothing after it is
 * trusted, and the drain at close gives every buffer back. */
static void model_fault_run(enum vnet_model_fault f, int rx_side)
{
	struct prig r;
	struct vnet_model_stats ms;
	uint32_t got = 0;

	prig_open(&r, VNET_F_VERSION_1 | VNET_F_RING_PACKED | VNET_F_EVENT_IDX, VNET_MODEL_LOOPBACK, 32, false);
	got += prig_round(&r, 4, 0);
	vnet_model_fault(r.m, f, 1);
	got += prig_round(&r, 4, 0);
	vnet_pq_harvest(&r.tx, NULL, r.tx.size, 0, 0, NULL);
	vnet_model_stats(r.m, &ms);
	ck_assert_uint_eq(ms.faults_fired, 1);
	ck_assert(rx_side ? r.rx.broken : r.tx.broken);
	ck_assert(rx_side ? !r.tx.broken : !r.rx.broken);
	ck_assert_uint_le(got, 8);
	if (f == VNET_FAULT_USED_LEN)
		ck_assert_uint_eq(r.rx.stats.drop_bad_len, 1);
	else if (f == VNET_FAULT_USED_IDX_JUMP)
		ck_assert_uint_eq(r.tx.stats.drop_bad_idx, 1);
	else
		ck_assert_uint_eq(r.tx.stats.drop_bad_id, 1);
	prig_close(&r); /* drain gives them back */
}

START_TEST(model_faults)
{
	model_fault_run(VNET_FAULT_USED_LEN, 1);      /* the first RX completion: len past the buffer */
	model_fault_run(VNET_FAULT_USED_IDX_JUMP, 0); /* the first TX completion: wrong wrap */
	model_fault_run(VNET_FAULT_USED_ID_RANGE, 0); /* the first TX completion: id = size */
}
END_TEST

/* The control chain on a packed ring of 8 (spec 2.8.6, 2.8.4): the ack
 * descriptor whole before the head's flags, both in the lap's wrap; the
 * completion over the head with AVAIL = USED = wrap; five laps; an id
 * other than the chain's is the device's lie. */
START_TEST(ctrl_chain)
{
	for (uint16_t k = 0; k < 20; k++) {
		uint16_t p = (uint16_t)(2 * k), w = wrap(p) ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;

		vnet_pq_ctrl_post(&vq, 0x1000, 6, 0x2000);
		ck_assert_uint_eq(slot(p)->flags, VIRTQ_DESC_F_NEXT | w);
		ck_assert_uint_eq(slot(p + 1)->flags, VIRTQ_DESC_F_WRITE | w);
		ck_assert_uint_eq(slot(p)->addr, 0x1000);
		ck_assert_uint_eq(slot(p)->len, 6);
		ck_assert_uint_eq(slot(p + 1)->addr, 0x2000);
		ck_assert_uint_eq(slot(p + 1)->len, 1);
		ck_assert_uint_eq(slot(p + 1)->id, 0);
		ck_assert_int_eq(vnet_pq_ctrl_used(&vq), 0); /* not yet */
		slot(p)->id = 0;
		slot(p)->len = 1;
		slot(p)->flags = wrap(p) ? F_AU : 0;
		ck_assert_int_eq(vnet_pq_ctrl_used(&vq), 1);
		ck_assert_uint_eq(vq.last_used, p + 2);
	}
	vnet_pq_ctrl_post(&vq, 0x1000, 6, 0x2000);
	slot(40)->id = 1;
	slot(40)->flags = wrap(40) ? F_AU : 0;
	ck_assert_int_eq(vnet_pq_ctrl_used(&vq), -1);
}
END_TEST

/* The control queue on the packed layout, against the model: MQ set-up
 * at open and then enough VQ_PAIRS_SET commands (two positions each) to
 * go round the 16-entry ring several times. */
START_TEST(model_ctrl_queue)
{
	struct vnet_model_conf mc = {0};
	struct vnet_pool_conf pc = {.count = 1024};
	struct vnet_dev_conf dc = {0};
	struct vnet_model_state st;
	struct vnet_model_stats ms;
	struct vnet_model *m;
	struct vnet_pool *p;
	struct vnet_dev *d;

	mc.features = VNET_F_VERSION_1 | VNET_F_RING_PACKED | VNET_F_CTRL_VQ | VNET_F_MQ;
	mc.max_pairs = 2;
	ck_assert_int_eq(vnet_model_create(&m, &mc), 0);
	ck_assert_int_eq(vnet_pool_create(&p, &pc), 0);
	dc.pool = p;
	dc.queue_pairs = 2;
	dc.rx_ring_size = dc.tx_ring_size = 64;
	dc.ctrl_ring_size = 16;
	dc.features = VNET_F_DEFAULT | VNET_F_RING_PACKED;
	ck_assert_int_eq(vnet_dev_open(&d, vnet_model_transport(m), &dc), 0);
	vnet_model_get_state(m, &st);
	ck_assert(st.features & VNET_F_RING_PACKED);
	ck_assert(st.features & VNET_F_CTRL_VQ);
	ck_assert_uint_eq(st.active_pairs, 2);
	for (uint16_t i = 0; i < 40; i++) {
		ck_assert_int_eq(vnet_dev_set_queue_pairs(d, (uint16_t)(1 + (i & 1))), 0);
		vnet_model_get_state(m, &st);
		ck_assert_uint_eq(st.active_pairs, 1 + (i & 1));
	}
	vnet_model_stats(m, &ms);
	ck_assert_uint_eq(ms.ctrl_cmds, 41);
	ck_assert_uint_eq(ms.ctrl_errs + ms.bad_desc, 0);
	vnet_dev_close(d);
	ck_assert_uint_eq(vnet_pool_in_use(p), 0);
	vnet_pool_destroy(p);
	vnet_model_destroy(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("packed");
	TCase *tc = tcase_create("rx");
	TCase *tt = tcase_create("tx");
	TCase *tm;
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, bad_sizes);
	tcase_add_test(tc, layout);
	tcase_add_test(tc, publish_once);
	tcase_add_test(tc, wraparound);
	tcase_add_test(tc, uneven_laps);
	tcase_add_test(tc, harvest_partial);
	tcase_add_test(tc, bad_id_out_of_range_breaks);
	tcase_add_test(tc, bad_id_far_out_of_range_breaks);
	tcase_add_test(tc, bad_id_duplicate_breaks);
	tcase_add_test(tc, bad_id_idle_breaks);
	tcase_add_test(tc, bad_len_short_breaks);
	tcase_add_test(tc, bad_len_long_breaks);
	tcase_add_test(tc, wrong_wrap_breaks);
	tcase_add_test(tc, short_burst_holds_ids_stale_duplicate_breaks);
	tcase_add_test(tc, used_run_remembered_and_held_ids_back);
	tcase_add_test(tc, impossible_state_breaks);
	tcase_add_test(tc, refill_from_pool);
	tcase_add_test(tc, merged_rx);
	tcase_add_test(tc, notify_flags);
	tcase_add_test(tc, notify_event_idx);
	tcase_add_test(tc, notify_event_idx_wrap);
	tcase_add_test(tc, reset_and_drain);
	tcase_add_test(tc, dispatch);
	tcase_add_test(tc, ctrl_chain);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tt, setup_tx, teardown);
	tcase_add_test(tt, tx_reclaim_to_pool);
	suite_add_tcase(s, tt);
	tm = tcase_create("model");
	tcase_add_test(tm, model_loopback);
	tcase_add_test(tm, model_notify);
	tcase_add_test(tm, model_faults);
	tcase_add_test(tm, model_ctrl_queue);
	suite_add_tcase(s, tm);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
