/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Driver side of a packed virtqueue (spec 2.8), with the same contracts as
 * the split ring's hot helpers in split.h: vnet_pq_harvest / vnet_pq_post /
 * vnet_pq_publish mirror vnet_sq_harvest / vnet_sq_post / vnet_sq_publish,
 * and ring.h chooses between the two once per burst. Set-up is in
 * packed.c; the queue state, its teardown (vnet_vq_drain, vnet_vq_free)
 * and the per-entry harvest checks are shared with the split ring (vq.h).
 *
 * How struct vnet_vq is used for a packed ring:
 *  - avail_idx, last_used and kick_idx are free-running 16-bit descriptor
 *    POSITIONS (slot = pos & mask). The ring size is a power of two, so it
 *    divides 65536 and the wrap counters of spec 2.8.1 are bit log2(size) of
 *    the positions, inverted: a position's lap has wrap counter 1 when
 *    (pos & size) == 0. Both counters start at 1 (position 0) and flip each
 *    time a position crosses the end of the ring, as the spec requires.
 *  - cookie[id], free_ids, num_free, buf_len, buf_off, stats, broken,
 *    event_idx, qidx, size, mask and mem as for the split ring. Buffer ids
 *    come from the private free-id stack, never from device memory.
 *  - desc/avail/used/avail_event/used_event are NULL (split only); the
 *    packed pointers and state are the pk_* block at the end of the struct.
 *
 * One descriptor per packet (no NEXT chains; a TX buffer chain goes
 * through one indirect table, spec 2.8.19), so every used descriptor the
 * device writes completes exactly one frame and moves the harvest position
 * by one. VIRTIO_F_IN_ORDER must not be negotiated with
 * these helpers: a batched used descriptor would complete only the buffer it
 * names (the skipped ones would stay in flight until vnet_vq_drain).
 *
 * Write ordering (spec 2.8.21.1): post writes addr/len/id (and flags) of
 * every descriptor except the FIRST one not yet published; publish then
 * issues one write barrier and stores that first descriptor's flags, so the
 * device sees the whole batch at once - the packed ring's "publish once".
 * The device polls descriptors in ring order (spec 2.8.2) and never looks
 * past one it has not seen made available, so the later descriptors need no
 * barrier of their own.
 *
 * Notifications (spec 2.8.10, 2.8.14): a polling loop never wants used
 * buffer notifications, so the driver event suppression structure says
 * DISABLE from reset on; only vnet_pq_intr_arm (a loop about to sleep)
 * changes it, and vnet_pq_intr_disarm puts it back. A kick is sent when the device
 * event suppression flags say ENABLE, or, with VIRTIO_F_EVENT_IDX, DESC and
 * the descriptor it names (offset + wrap counter) is among those the
 * publish exposes. Reserved flag values (or DESC without EVENT_IDX, or an
 * offset beyond the ring) kick: a spurious notification is harmless, a
 * missing one is not.
 */
#ifndef VNET_RING_PACKED_H
#define VNET_RING_PACKED_H

#include "ring/vq.h"

/* Packed virtqueue descriptor (spec 2.8.13); all fields little-endian. */
struct pvirtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};
_Static_assert(sizeof(struct pvirtq_desc) == 16, "spec 2.8.13");
_Static_assert(offsetof(struct pvirtq_desc, len) == 8, "spec 2.8.13");
_Static_assert(offsetof(struct pvirtq_desc, id) == 12, "spec 2.8.13");
_Static_assert(offsetof(struct pvirtq_desc, flags) == 14, "spec 2.8.13");

/* Event suppression structure (spec 2.8.14): desc = offset (bits 0-14) and
 * wrap counter (bit 15) of the descriptor an event is wanted for. */
struct pvirtq_event_suppress {
	uint16_t desc;
	uint16_t flags;
};
_Static_assert(sizeof(struct pvirtq_event_suppress) == 4, "spec 2.8.14");
_Static_assert(offsetof(struct pvirtq_event_suppress, flags) == 2, "spec 2.8.14");

/* Flags (spec 2.8.1, 2.8.3, 2.8.6, 2.8.7). */
#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_DESC_F_AVAIL    (1u << 7)
#define VIRTQ_DESC_F_USED     (1u << 15)
/* Event suppression flags (spec 2.8.10). */
#define RING_EVENT_FLAGS_ENABLE  0x0
#define RING_EVENT_FLAGS_DISABLE 0x1
#define RING_EVENT_FLAGS_DESC    0x2
#define RING_EVENT_WRAP_SHIFT    15

/* Alignment of the three parts (spec 2.8.10.1). */
#define PVIRTQ_DESC_ALIGN  16
#define PVIRTQ_EVENT_ALIGN 4

/* Largest packed queue (spec 2.8: up to 2^15 entries). */
#define PVIRTQ_MAX_SIZE 32768

/* Bytes of DMA memory a packed queue of @size needs. */
size_t vnet_pq_mem_size(uint16_t size);
/* Allocate a packed queue: @size a power of two <= 32768, else -EINVAL;
 * -ENOMEM. Sets vq->packed and leaves the queue reset. @desc_flags is
 * VRING_DESC_F_WRITE for RX (buffers the device writes), 0 for TX. */
int vnet_pq_alloc(struct vnet_vq *vq, uint16_t qidx, uint16_t size, uint16_t desc_flags);
/* Zero the ring and return to the just-allocated state (wrap counters 1,
 * positions 0, driver event flags DISABLE); the caller has taken every
 * buffer back first (vnet_vq_drain). */
void vnet_pq_reset(struct vnet_vq *vq, uint16_t desc_flags, bool event_idx);
/* vnet_sq_ctrl_post / vnet_sq_ctrl_used (split.h) on a packed ring: a
 * chain of two descriptors in ring order, one position pair per command. */
void vnet_pq_ctrl_post(struct vnet_vq *vq, uint64_t req, uint32_t len, uint64_t ack);
int vnet_pq_ctrl_used(struct vnet_vq *vq);
/* Bus addresses for the transport: desc = Descriptor Area, avail = Driver
 * Area (driver event suppression), used = Device Area (device event
 * suppression), as the transports name them (spec 4.1.4.3, 4.2.2). */
void vnet_pq_addrs(const struct vnet_vq *vq, struct vnet_vq_addrs *a);
/* As vnet_sq_intr_arm/disarm (split.h): the driver event suppression
 * structure says DESC at the harvest position (EVENT_IDX) or ENABLE, and
 * back to DISABLE. */
bool vnet_pq_intr_arm(struct vnet_vq *vq);
void vnet_pq_intr_disarm(struct vnet_vq *vq);

/* vnet_sq_held_check for a packed ring: the used run is extended as a
 * harvest would (flags, then a barrier), its unread ids checked. */
uint32_t vnet_pq_held_check(struct vnet_vq *vq);
/* vnet_sq_unread_in_flight for a packed ring: the used run is extended as
 * a harvest would (flags, then a barrier), and each id in it not yet
 * harvested is checked: 1 when every one is in flight, 0 when one is not.
 * Cold. */
int vnet_pq_unread_in_flight(struct vnet_vq *vq);

/* Wrap counter of the lap position @pos belongs to (spec 2.8.1). */
static inline uint32_t vnet_pq_wrap(const struct vnet_vq *vq, uint32_t pos)
{
	return (pos & vq->size) == 0;
}

/* Four descriptors from @q (a cache line), their flags read once each
 * into @f (AVAIL and USED only): are all four used, in a lap whose used
 * pattern is @used (both bits, or neither)? */
static inline __attribute__((always_inline)) bool vnet_pq_four_used(const volatile struct pvirtq_desc *q,
                                                                   uint32_t used, uint32_t f[4])
{
	const uint32_t au = VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;

	f[0] = vnet_load16(&q[0].flags) & au;
	f[1] = vnet_load16(&q[1].flags) & au;
	f[2] = vnet_load16(&q[2].flags) & au;
	f[3] = vnet_load16(&q[3].flags) & au;
	/* both bits in all four, or in none of them */
	return (used ? f[0] & f[1] & f[2] & f[3] : f[0] | f[1] | f[2] | f[3]) == used;
}

/* Whole cache lines of used descriptors from @d, at most @run descriptors:
 * @return how many (a multiple of four); when one more line fits in @run,
 * @f holds its flags, not all used. @used is a constant at each call. */
static inline __attribute__((always_inline)) uint32_t vnet_pq_used_lines(const volatile struct pvirtq_desc *d,
                                                                        uint32_t run, uint32_t used, uint32_t f[4])
{
	uint32_t j;

	for (j = 0; j + 4 <= run; j += 4)
		if (!vnet_pq_four_used(d + j, used, f))
			break;
	return j;
}

/* Pass 1 of a harvest: descriptors from position @end on, at most @scan
 * of them, that are used in their lap (flags read once each). In runs up
 * to the ring's end, where the used pattern is one constant; a cache line
 * (four descriptors) at a time while all four are used. @return how many;
 * *@bad when the first one that is not carries flags no device writes. */
static inline __attribute__((always_inline)) uint32_t vnet_pq_used_scan(const volatile struct pvirtq_desc *ring,
                                                                       uint32_t end, uint32_t scan, uint32_t size,
                                                                       bool *bad)
{
	const uint32_t au = VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
	uint32_t k = 0;

	while (k < scan) {
		uint32_t p = end + k, slot = p & (size - 1);
		uint32_t run = size - slot < scan - k ? size - slot : scan - k, j;
		uint32_t used = (p & size) ? 0 : (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);
		const volatile struct pvirtq_desc *d = ring + slot;
		uint32_t f = 0, fl[4];

		j = used ? vnet_pq_used_lines(d, run, au, fl) : vnet_pq_used_lines(d, run, 0, fl);
		if (j + 4 <= run) {
			/* the first of the four that is not used, from the values
			 * read (each descriptor's flags are read once) */
			uint32_t m = fl[0] != used ? 0 : fl[1] != used ? 1 : fl[2] != used ? 2 : 3;

			f = fl[m];
			j += m;
			goto stop;
		}
		for (; j < run; j++) {
			f = vnet_load16(&d[j].flags) & au;
			if (f != used)
				goto stop;
		}
		k += run;
		continue;
stop:
		/* ours for this lap (not used yet), or something no device writes */
		*bad = f != ((p & size) ? VIRTQ_DESC_F_USED : VIRTQ_DESC_F_AVAIL);
		return k + j;
	}
	return k;
}

/* The TX reclaim's counterpart: @k used descriptors in a row from @d back
 * to their pools (with @chains, chains whole). @return descriptors taken. */
static inline __attribute__((always_inline)) uint32_t vnet_pq_tx_run(struct vnet_harvest *h,
                                                                    const volatile struct pvirtq_desc *d, uint32_t k,
                                                                    int chains)
{
	const volatile struct pvirtq_desc *p = d, *const end = d + k;

	for (; p != end; p++) {
		if (vnet_unlikely(vnet_harvest_entry(h, p->id, 0, NULL, 0, 0, chains, 1, 0))) {
			vnet_harvest_broken(h);
			break;
		}
	}
	return (uint32_t)(p - d);
}

/* An RX used descriptor at position @pos naming @id (read once) was
 * written before that id's buffer was posted: it lies below the id's
 * pk_mark, by at most a ring (it was unread when the id was posted).
 * Counted (drop_bad_id), not taken; the caller breaks the ring. (A
 * completion more than a ring past the mark is a device that kept that
 * buffer while thousands of others came back: not refused unless it is
 * 65,536 positions late.) An id out of range is left to vnet_harvest_id
 * (its mark is looked up masked). */
static inline __attribute__((always_inline)) int vnet_pq_rx_stale(struct vnet_harvest *h, const uint16_t *mark,
                                                                  uint32_t id, uint32_t pos, uint32_t size)
{
	if (vnet_unlikely((uint16_t)(mark[id & (size - 1)] - pos - 1u) < size)) {
		h->vq->stats.drop_bad_id++;
		return 1;
	}
	return 0;
}

/* Frames of one buffer from @k used descriptors in a row from @d, the
 * first at position @pos. */
static inline __attribute__((always_inline)) uint32_t vnet_pq_rx_run(struct vnet_harvest *h,
                                                                    const volatile struct pvirtq_desc *d, uint32_t k,
                                                                    uint32_t pos, uint32_t rx_hdr, int marks)
{
	const volatile struct pvirtq_desc *p = d, *const end = d + k;
	struct vnet_buf **o = h->out + h->got;
	const uint16_t *mark = h->vq->pk_mark;
	const uint32_t size = h->size;

	for (; p != end; p++, o++, pos++) {
		uint32_t id = p->id;
		struct vnet_buf *b = marks && vnet_pq_rx_stale(h, mark, id, pos, size)
		                             ? NULL
		                             : vnet_harvest_rx(h, id, 0, &p->len, rx_hdr, 0);

		if (vnet_unlikely(b == NULL)) {
			vnet_harvest_broken(h);
			break;
		}
		*o = b;
	}
	h->got += (uint32_t)(p - d);
	return (uint32_t)(p - d);
}

/*
 * Harvest up to @n used descriptors into @out (or, with @out NULL, straight
 * back to each buffer's pool: the TX reclaim). Same contract as
 * vnet_sq_harvest, @mrg included: RX (@rx_hdr != 0) lengths must cover the
 * header and fit the buffer; with @mrg a frame spans num_buffers used
 * descriptors, returned as one head linked through next/nb_segs, @n counts
 * frames and a frame is taken whole or not at all.
 *
 * Pass 1 extends the run of descriptors known to be used in their lap
 * (pk_used_end), reading flags only, up to the first that is not (spec
 * 2.8.22: poll the next descriptor in ring order; spec 2.8.9: the device
 * marks the first buffer of a multi-buffer frame used last) or to what we
 * published; each descriptor's flags are read once, whatever the bursts'
 * sizes (vnet_pq_used_scan: four to a cache line, checked together). Then
 * one read barrier, and pass 2 reads each id and len once, through the
 * per-entry checks both layouts share (vq.h).
 * Validation of what the device wrote (a device that got it wrong breaks
 * the queue, as in Linux's virtio_ring: BAD_RING; what came before is
 * delivered, nothing after it is read until vnet_dev_recover()):
 *  - flags AVAIL == USED == wrap counter: a used descriptor. id out of
 *    range or not in flight (also a duplicate): drop_bad_id, broken; RX len
 *    below the header or past the buffer: drop_bad_len, broken. The WRITE
 *    flag of a used descriptor is not required (devices differ); len is
 *    validated instead.
 *  - flags AVAIL == USED == the other lap's wrap counter (a used descriptor
 *    with the wrong wrap state), or AVAIL != USED but not the pattern we
 *    wrote for this lap (spec 2.8.1: no device writes that): drop_bad_idx,
 *    broken.
 * A burst that stops before the end of the used run holds the ids it took
 * (vnet_vq_hold) until a harvest passes that end, as on the split ring.
 */
static inline __attribute__((always_inline)) uint16_t vnet_pq_harvest(struct vnet_vq *vq, struct vnet_buf **out,
                                                                     uint16_t n, uint32_t rx_hdr, int mrg,
                                                                     uint64_t *bytes)
{
	const volatile struct pvirtq_desc *ring = vq->pk_desc;
	uint32_t last = vq->last_used, end = vq->pk_used_end;
	uint32_t scan = (uint16_t)(vq->pk_pub - end);
	uint32_t mask = vq->mask, size = vq->size;
	uint32_t ready, todo, i, pos;
	bool bad = false;
	struct vnet_harvest h;

	if (n == 0)
		return 0;
	/* Pass 1: how far the used run goes now. */
	end = (uint16_t)(end + vnet_pq_used_scan(ring, end, scan, size, &bad));
	vq->pk_used_end = (uint16_t)end;
	ready = (uint16_t)(end - last);
	if (vnet_unlikely(bad)) {
		vq->stats.drop_bad_idx++;
		vq->broken = true;
	}
	todo = !mrg && ready > n ? n : ready;
	if (todo == 0)
		return 0;
	vnet_rmb(); /* id and len are read after the flags that cover them */
	/* Pass 2: each id and len once. */
	vnet_harvest_begin(&h, vq, out, rx_hdr);
	if (rx_hdr && !mrg) {
		/* at most two runs: up to the ring's end, then from its start */
		uint32_t slot = last & mask, k = size - slot < todo ? size - slot : todo;

		/* marks to check: one given while descriptors were unread lies
		 * above the harvest position (within a ring of it) */
		if (vnet_unlikely((uint16_t)(vq->pk_mark_hi - last - 1u) < size)) {
			i = vnet_pq_rx_run(&h, ring + slot, k, last, rx_hdr, 1);
			if (i == k && k < todo)
				i += vnet_pq_rx_run(&h, ring, todo - k, last + k, rx_hdr, 1);
		} else {
			i = vnet_pq_rx_run(&h, ring + slot, k, last, rx_hdr, 0);
			if (i == k && k < todo)
				i += vnet_pq_rx_run(&h, ring, todo - k, last + k, rx_hdr, 0);
		}
	} else if (!rx_hdr) { /* TX reclaim, in the same two runs */
		uint32_t slot = last & mask, k = size - slot < todo ? size - slot : todo;

		i = vnet_pq_tx_run(&h, ring + slot, k, mrg);
		if (i == k && k < todo)
			i += vnet_pq_tx_run(&h, ring, todo - k, mrg);
	} else {
		for (i = 0, pos = last; i < todo; i++, pos++) {
			uint32_t slot = pos & mask, id = ring[slot].id;

			if (rx_hdr && mrg && h.cont == 0 && h.got == n)
				break; /* whole frames only */
			if (vnet_unlikely((rx_hdr && (uint16_t)(vq->pk_mark_hi - pos - 1u) < size &&
			                   vnet_pq_rx_stale(&h, vq->pk_mark, id, pos, size)) ||
			                  vnet_harvest_entry(&h, id, slot, &ring[slot].len, ready - i - 1, rx_hdr, mrg,
			                                     out == NULL, 0))) {
				vnet_harvest_broken(&h);
				break;
			}
		}
	}
	vq->last_used = (uint16_t)(last + i);
	return vnet_harvest_end(&h, bytes, i < ready, (uint16_t)end);
}

/* What vnet_pq_post writes for one buffer (@bufs[i] or the top of @stack)
 * into descriptor @d: addr, len, id, and the flags @f unless @head (the
 * first descriptor not yet published keeps them back for the publish);
 * for RX, @mark becomes the id's pk_mark. @return 0, or 1: a TX buffer
 * that does not fit (nothing written). */
static inline __attribute__((always_inline)) int vnet_pq_post_one(struct vnet_vq *vq, volatile struct pvirtq_desc *d,
                                                                 struct vnet_buf *b, uint32_t tx_hdr, uint64_t *sum,
                                                                 uint32_t id, uint32_t f, int head, uint32_t mark)
{
	uint64_t addr;
	uint32_t len;

	if (tx_hdr) {
		uint8_t *h = b->data - tx_hdr;
		uint64_t rel = (uint64_t)(h - b->base); /* huge if data < base + hdr */
		/* a chain stops the run (see vnet_ring_post) */
		if (vnet_unlikely(b->nb_segs > 1 || rel > b->size || rel + tx_hdr + b->len > b->size))
			return 1;
		/* a zero header unless the application filled in
		 * offloads; constant sizes, so two stores */
		if (vnet_likely(!(b->flags & VNET_BUF_F_TX_HDR))) {
			if (tx_hdr == sizeof(struct virtio_net_hdr))
				memset(h, 0, sizeof(struct virtio_net_hdr));
			else
				memset(h, 0, tx_hdr);
		}
		addr = b->iova + rel;
		len = b->len + tx_hdr;
		*sum += b->len;
	} else {
		addr = b->iova + vq->buf_off;
		len = vq->buf_len; /* RX buffers are offered whole */
		vq->pk_mark[id] = (uint16_t)mark;
	}
	vq->cookie[id] = b;
	d->addr = addr;
	d->len = len;
	d->id = (uint16_t)id;
	if (head)
		vq->pk_head_flags = (uint16_t)f;
	else
		d->flags = (uint16_t)f;
	return 0;
}

/*
 * Put up to @n buffers on the ring (the caller checked num_free >= n), from
 * @bufs, or with @bufs NULL straight off @src's free stack (the caller
 * checked it holds @n). Same contract as vnet_sq_post: RX buffers are
 * offered whole (buf_off/buf_len), TX buffers from data minus a zeroed
 * virtio_net_hdr of @tx_hdr bytes, and posting stops at the first TX buffer
 * whose header does not fit before data or whose frame does not fit the
 * buffer. @return buffers posted. Nothing is visible to the device until
 * vnet_pq_publish().
 */
static inline __attribute__((always_inline)) uint16_t vnet_pq_post(struct vnet_vq *vq, struct vnet_buf *const *bufs, uint16_t n,
                                                                  uint32_t tx_hdr, uint64_t *bytes, struct vnet_pool *src)
{
	struct vnet_buf *const *stack = src ? src->stack : NULL;
	uint32_t top = src ? src->top : 0;
	volatile struct pvirtq_desc *ring = vq->pk_desc;
	const uint16_t *free_ids = vq->free_ids;
	uint32_t size = vq->size, num_free = vq->num_free, i = 0;
	uint32_t pos = vq->avail_idx, wflags = vq->pk_wflags, mark = 0;
	uint64_t sum = 0;

	/* RX: the used run as far as it goes now (flags only, each read once
	 * as by the harvest, which goes on from there): every id posted here
	 * is marked with its end (pk_mark) */
	if (!tx_hdr && n) {
		bool bad = false;

		mark = vq->pk_used_end;
		mark = (uint16_t)(mark + vnet_pq_used_scan(ring, mark, (uint16_t)(vq->pk_pub - mark), size, &bad));
		vq->pk_used_end = (uint16_t)mark; /* a bad descriptor there: the harvest finds it again */
		/* nothing unread: the mark is the harvest position (the harvest
		 * then checks none); else the harvest checks up to it */
		vq->pk_mark_hi = (uint16_t)mark;
	}
	/* the first descriptor not yet published keeps its flags back */
	if (n && vq->avail_idx == vq->pk_pub) {
		/* AVAIL = wrap counter, USED = its inverse (spec 2.8.1) */
		uint32_t f = wflags | ((pos & size) ? VIRTQ_DESC_F_USED : VIRTQ_DESC_F_AVAIL);
		/* RX refill passes no array: buffers come off the pool's stack */
		struct vnet_buf *b = bufs ? bufs[0] : stack[top - 1];

		if (vnet_pq_post_one(vq, &ring[pos & (size - 1)], b, tx_hdr, &sum, free_ids[num_free - 1], f, 1, mark))
			goto out;
		if (!bufs)
			top--;
		num_free--;
		i = 1;
	}
	while (i < n) {
		/* a run up to the ring's end: one lap, so one flags value */
		uint32_t slot = (pos + i) & (size - 1);
		uint32_t f = wflags | (((pos + i) & size) ? VIRTQ_DESC_F_USED : VIRTQ_DESC_F_AVAIL);
		volatile struct pvirtq_desc *d = ring + slot, *const end = d + (size - slot < n - i ? size - slot : n - i);

		for (; d != end; d++, i++) {
			struct vnet_buf *b = bufs ? bufs[i] : stack[top - 1];

			if (vnet_pq_post_one(vq, d, b, tx_hdr, &sum, free_ids[num_free - 1], f, 0, mark))
				goto out;
			if (!bufs)
				top--;
			num_free--;
		}
	}
out:
	if (src)
		src->top = top;
	vq->num_free = (uint16_t)num_free;
	vq->avail_idx = (uint16_t)(pos + i);
	if (bytes)
		*bytes += sum;
	return (uint16_t)i;
}

/* One descriptor for buffer @id at the next position, as vnet_pq_post
 * writes them (the first not yet published keeps its flags back): for a
 * TX chain, posted out of line (ring.c). @flags is INDIRECT for an
 * indirect table, else 0. */
static inline void vnet_pq_post_desc(struct vnet_vq *vq, uint32_t id, uint64_t addr, uint32_t len, uint16_t flags)
{
	uint32_t pos = vq->avail_idx;
	volatile struct pvirtq_desc *d = &vq->pk_desc[pos & vq->mask];
	/* AVAIL = wrap counter, USED = its inverse (spec 2.8.1) */
	uint16_t f = (uint16_t)(vq->pk_wflags | flags | ((pos & vq->size) ? VIRTQ_DESC_F_USED : VIRTQ_DESC_F_AVAIL));

	d->addr = addr;
	d->len = len;
	d->id = (uint16_t)id;
	if ((uint16_t)pos == vq->pk_pub)
		vq->pk_head_flags = f;
	else
		d->flags = f;
	vq->avail_idx = (uint16_t)(pos + 1);
}

/*
 * Make everything posted since the last publish visible at once (spec
 * 2.8.21.1: barrier, then the first descriptor's flags), then notify only if
 * the device asked (spec 2.8.21.2: full barrier before reading the device
 * event suppression structure).
 */
static inline __attribute__((always_inline)) void vnet_pq_publish(struct vnet_vq *vq, struct vnet_transport *t)
{
	uint32_t pub = vq->pk_pub, idx = vq->avail_idx;
	uint32_t ev_flags;
	bool kick;

	if (pub == idx)
		return; /* nothing new: nothing to expose, nothing to tell */
	vnet_wmb(); /* every descriptor of the batch before the first's flags */
	vnet_store16(&vq->pk_desc[pub & vq->mask].flags, vq->pk_head_flags);
	vq->pk_pub = (uint16_t)idx;
	vnet_mb(); /* the flags store before reading the device's wishes */
	ev_flags = vnet_load16(&vq->pk_device->flags) & 0x3;
	if (ev_flags == RING_EVENT_FLAGS_DISABLE) {
		kick = false;
	} else if (ev_flags == RING_EVENT_FLAGS_DESC && vq->event_idx) {
		/* The device wants a kick when the descriptor at (off, wrap) is
		 * made available. As a position modulo two laps that is off, plus
		 * a lap when its wrap counter is 0. Kick if it is among the
		 * descriptors this publish exposes, [pub, idx): at most a ring,
		 * so the position is never ambiguous. (A device sets its event,
		 * then looks at the ring again, so what an earlier publish
		 * exposed needs no kick now: spec 2.8.10, 2.8.21.2.) */
		uint32_t e = vnet_load16(&vq->pk_device->desc);
		uint32_t e_off = e & 0x7fff, period = 2u * vq->size;
		uint32_t ep = e_off + ((e >> RING_EVENT_WRAP_SHIFT) ? 0 : vq->size);

		kick = e_off >= vq->size || ((idx - 1 - ep) & (period - 1)) < (uint16_t)(idx - pub);
	} else {
		kick = true; /* ENABLE, or a value we cannot honour */
	}
	if (kick) {
		t->ops->notify(t, vq->qidx);
		vq->kick_idx = (uint16_t)idx;
		vq->stats.kicks++;
	}
}

#endif
