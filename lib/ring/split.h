/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Driver side of a split virtqueue (spec 2.7): descriptor table, avail
 * ring (written by us) and used ring (written by the device). The hot
 * helpers are static inline here, shared by RX and TX; set-up is in
 * split.c. The queue state and what both layouts share are in vq.h;
 * ring.h chooses between this layout and the packed one.
 */
#ifndef VNET_RING_SPLIT_H
#define VNET_RING_SPLIT_H

#include "ring/vq.h"

/* Ring part offsets inside one DMA allocation (each part on its own
 * cache lines: avail is written by us, used by the device). */
size_t vnet_sq_mem_size(uint16_t size);
/* Allocate a queue's memory and bookkeeping. 0 or -ENOMEM. */
int vnet_sq_alloc(struct vnet_vq *vq, uint16_t qidx, uint16_t size, uint16_t desc_flags);
/* The same in the legacy layout (virtio_spec.h: the avail ring right
 * behind the table, the used ring at the next 4096-byte boundary), for a
 * device given only the ring's page frame number. 0, -EINVAL or -ENOMEM. */
int vnet_sq_alloc_legacy(struct vnet_vq *vq, uint16_t qidx, uint16_t size, uint16_t desc_flags);
/* Zero the ring memory and return to the just-allocated state; the caller
 * has taken every buffer back first (vnet_vq_drain). */
void vnet_sq_reset(struct vnet_vq *vq, uint16_t desc_flags, bool event_idx);
/* The control queue (ctrl.c, spec 5.1.6.5): post the one command chain,
 * @len device-readable bytes at @req then the ack byte at @ack, visible at
 * once (the caller notifies); then poll: 0 not used yet, 1 used, -1 the
 * device completed something else (the queue cannot be trusted). */
void vnet_sq_ctrl_post(struct vnet_vq *vq, uint64_t req, uint32_t len, uint64_t ack);
int vnet_sq_ctrl_used(struct vnet_vq *vq);
/* The three bus addresses for the transport. */
void vnet_sq_addrs(const struct vnet_vq *vq, struct vnet_vq_addrs *a);
/*
 * Used-buffer notifications, for a loop that sleeps when idle (cold path).
 * arm: ask for a notification at the next used entry (used_event = the
 * harvest position with EVENT_IDX, else clear VRING_AVAIL_F_NO_INTERRUPT),
 * then, after a full barrier, look once more: true when an entry is
 * already there (the caller must not sleep; the device may have written it
 * before it could see the request). disarm: back to no notifications (a
 * harvest also does that under EVENT_IDX).
 */
bool vnet_sq_intr_arm(struct vnet_vq *vq);
void vnet_sq_intr_disarm(struct vnet_vq *vq);
/* Give every held id back at once if none of the used entries still
 * unread (up to the index published now) names an id that is not in
 * flight: then none of them can be a stale duplicate of a held id (see
 * vnet_ring_held_check). Cold; reads the unread entries' ids once.
 * @return ids given back. */
uint32_t vnet_sq_held_check(struct vnet_vq *vq);
/* The used entries published (up to the used index now) and not yet
 * harvested: 1 when each names an id in flight, 0 when one does not (the
 * harvest will stop there), -1 for an index the next harvest refuses
 * whatever is in flight (more than a ring ahead). Under IN_ORDER no id is
 * read: 0 only for an index past what is in flight (see
 * vnet_ring_unread_ok). Cold; reads each unread entry's id once. */
int vnet_sq_unread_in_flight(struct vnet_vq *vq);

/* Has the device published used entries no harvest has read yet that
 * vnet_sq_unread_in_flight must look at? One load (the used index); under
 * IN_ORDER only an index past what is in flight. */
static inline __attribute__((always_inline)) bool vnet_sq_unread(const struct vnet_vq *vq)
{
	uint16_t ready = (uint16_t)(vnet_load16(&vq->used->idx) - vq->last_used);

	if (vq->in_order)
		return ready > vnet_vq_in_flight(vq);
	return ready != 0;
}
/*
 * TX reclaim under VIRTIO_F_IN_ORDER (spec 2.7.9): descriptor ids are
 * avail positions, buffers are used in the order they were made
 * available, and one used entry, at the position of a batch's first
 * buffer, may carry the id of its last one while the used index moves by
 * the whole batch. So: read the entry at our position, take every buffer
 * up to the id it names. A batch that reaches past what is in flight or
 * past the published index, or over a position with nothing in flight,
 * breaks the queue (what was taken before it stays taken). With @chains,
 * frames may be chains sent through indirect tables: each goes back whole.
 */
static inline __attribute__((always_inline)) uint16_t vnet_sq_reclaim_in_order_segs(struct vnet_vq *vq, int chains)
{
	const volatile struct vring_used_elem *ring = vq->used->ring;
	struct vnet_buf **cookie = vq->cookie;
	uint16_t last = vq->last_used;
	uint32_t ready = (uint16_t)(vnet_load16(&vq->used->idx) - last);
	uint32_t mask = vq->mask, slot = last & mask, done = 0;
	uint32_t in_flight = (uint32_t)(vq->size - vq->num_free);
	struct vnet_pool_sink sink = {NULL, 0};

	if (ready == 0)
		return 0;
	if (vnet_unlikely(ready > in_flight)) {
		vq->stats.drop_bad_idx++;
		vq->broken = true;
		return 0;
	}
	vnet_rmb();
	while (done < ready) {
		uint32_t id = ring[slot].id, batch = ((id - slot) & mask) + 1, k;

		if (vnet_unlikely(id > mask || batch > ready - done)) {
			vq->stats.drop_bad_id++;
			vq->broken = true;
			break;
		}
		for (k = 0; k < batch; k++, slot = (slot + 1) & mask) {
			struct vnet_buf *b = cookie[slot];
			if (vnet_unlikely(b == NULL))
				break;
			cookie[slot] = NULL;
			if (chains && vnet_unlikely(b->nb_segs > 1))
				vnet_reclaim_chain(vq, slot, b, &sink);
			else
				vnet_sink_put(&sink, b);
		}
		done += k;
		if (vnet_unlikely(k < batch)) { /* a position with nothing in flight */
			vq->stats.drop_bad_id++;
			vq->broken = true;
			break;
		}
	}
	vnet_sink_flush(&sink);
	vq->num_free = (uint16_t)(vq->num_free + done);
	vq->last_used = (uint16_t)(last + done);
	if (vq->event_idx)
		vnet_store16(vq->used_event, (uint16_t)(vq->last_used + 0x8000));
	return (uint16_t)done;
}

/* The above for a queue that may have chains in flight (indirect tables). */
static inline uint16_t vnet_sq_reclaim_in_order(struct vnet_vq *vq)
{
	return vq->ind_max ? vnet_sq_reclaim_in_order_segs(vq, 1) : vnet_sq_reclaim_in_order_segs(vq, 0);
}

/* The TX reclaim (not IN_ORDER) from @k used entries in a row from @e:
 * each buffer back to its pool (with @chains, chains whole). @return
 * entries taken (@k, unless one broke the ring). */
static inline __attribute__((always_inline)) uint32_t vnet_sq_tx_run(struct vnet_harvest *h,
                                                                    const volatile struct vring_used_elem *e,
                                                                    uint32_t k, int chains)
{
	const volatile struct vring_used_elem *p = e, *const end = e + k;

	for (; p != end; p++) {
		if (vnet_unlikely(vnet_harvest_entry(h, p->id, 0, NULL, 0, 0, chains, 1, 0))) {
			vnet_harvest_broken(h);
			break;
		}
	}
	return (uint32_t)(p - e);
}

/* Frames of one buffer (RX without MRG_RXBUF) from @k used entries in a
 * row, slot @slot on (not past the ring's end), into h->out: a loop with
 * nothing but the checks of vnet_harvest_rx in it. @return entries taken
 * (@k, unless one broke the ring). */
static inline __attribute__((always_inline)) uint32_t vnet_sq_rx_run(struct vnet_harvest *h,
                                                                    const volatile struct vring_used_elem *e,
                                                                    uint32_t slot, uint32_t k, uint32_t rx_hdr, int io)
{
	struct vnet_buf **o = h->out + h->got;
	uint32_t i;

	if (io) { /* each id checked against its position */
		for (i = 0; i < k; i++) {
			struct vnet_buf *b = vnet_harvest_rx(h, e[i].id, slot + i, &e[i].len, rx_hdr, 1);

			if (vnet_unlikely(b == NULL)) {
				vnet_harvest_broken(h);
				break;
			}
			o[i] = b;
		}
	} else { /* one pointer walks the entries (gcc keeps fewer registers) */
		const volatile struct vring_used_elem *p = e, *const end = e + k;

		for (; p != end; p++, o++) {
			struct vnet_buf *b = vnet_harvest_rx(h, p->id, 0, &p->len, rx_hdr, 0);

			if (vnet_unlikely(b == NULL)) {
				vnet_harvest_broken(h);
				break;
			}
			*o = b;
		}
		i = (uint32_t)(p - e);
	}
	h->got += i;
	return i;
}

/*
 * Harvest up to @n used entries into @out (or, with @out NULL, straight
 * back to each buffer's pool: the TX reclaim). Reads the device's used
 * index once. A used ring the device got wrong is not trusted, as in
 * Linux's virtio_ring (BAD_RING): an index further ahead than what is in
 * flight (drop_bad_idx; spec 2.7.8: only buffers made available can come
 * back), an id out of range, not in flight or (IN_ORDER) not the one of
 * its position (drop_bad_id), an RX length below the header or past the
 * buffer (drop_bad_len): the queue is marked broken there, what came
 * before it is delivered, and nothing more is read until
 * vnet_dev_recover() resets the queue (its buffers then go back).
 *
 * A burst that stops before the published index (@n reached) holds the
 * ids it took off the free stack until a later harvest passes that index
 * (vnet_vq_hold): a duplicate left unread then names an id not in flight,
 * never a buffer posted again meanwhile.
 *
 * With @mrg (VIRTIO_NET_F_MRG_RXBUF, spec 5.1.6.4) a frame spans
 * num_buffers used entries: the first buffer (with the header) is returned
 * with the others linked through next/nb_segs; @n counts frames, and a
 * frame is taken whole or not at all. A frame whose num_buffers is 0 or
 * runs past what the device published is dropped (drop_bad_len).
 * For the TX reclaim (@out NULL), @mrg says frames may be chains sent
 * through indirect tables (nb_segs > 1): each goes back whole.
 * @rx_hdr and @mrg are constants at every call site, so each use compiles
 * to its own lean loop.
 */
static inline __attribute__((always_inline)) uint16_t vnet_sq_harvest_io(struct vnet_vq *vq, struct vnet_buf **out,
                                                                        uint16_t n, uint32_t rx_hdr, int mrg,
                                                                        uint64_t *bytes, int io)
{
	const volatile struct vring_used_elem *ring = vq->used->ring;
	uint16_t last = vq->last_used, seen = vnet_load16(&vq->used->idx);
	uint32_t ready = (uint16_t)(seen - last);
	uint32_t mask = vq->mask, slot = last & mask, i, todo;
	struct vnet_harvest h;

	if (vnet_unlikely(ready > (uint32_t)(vq->size - vq->num_free))) {
		vq->stats.drop_bad_idx++;
		vq->broken = true;
		return 0;
	}
	todo = !mrg && ready > n ? n : ready;
	if (todo == 0 || n == 0)
		return 0;
	vnet_rmb(); /* entries are read after the index that covers them */
	/* prefetch the cache lines (8 entries each) of the entries to be
	 * read, past the first; none past them: those the device is still
	 * writing would only cross to this core and back */
	for (i = 8 - (slot & 7); i < todo; i += 8)
		vnet_prefetch(&ring[(slot + i) & mask]);
	vnet_harvest_begin(&h, vq, out, rx_hdr);
	if (rx_hdr && !mrg) {
		/* at most two runs: up to the ring's end, then from its start */
		uint32_t k = mask + 1 - slot < todo ? mask + 1 - slot : todo;

		i = vnet_sq_rx_run(&h, ring + slot, slot, k, rx_hdr, io);
		if (i == k && k < todo)
			i += vnet_sq_rx_run(&h, ring, 0, todo - k, rx_hdr, io);
	} else if (!rx_hdr) { /* TX reclaim, in the same two runs */
		uint32_t k = mask + 1 - slot < todo ? mask + 1 - slot : todo;

		i = vnet_sq_tx_run(&h, ring + slot, k, mrg);
		if (i == k && k < todo)
			i += vnet_sq_tx_run(&h, ring, todo - k, mrg);
	} else {
		for (i = 0; i < todo; i++, slot = (slot + 1) & mask) {
			if (rx_hdr && mrg && h.cont == 0 && h.got == n)
				break; /* whole frames only */
			if (vnet_unlikely(vnet_harvest_entry(&h, ring[slot].id, slot, &ring[slot].len, ready - i - 1,
			                                     rx_hdr, mrg, out == NULL, io))) {
				vnet_harvest_broken(&h);
				break;
			}
		}
	}
	vq->last_used = (uint16_t)(last + i);
	/* We never want interrupts: keep used_event half a ring-space away. */
	if (vq->event_idx)
		vnet_store16(vq->used_event, (uint16_t)(vq->last_used + 0x8000));
	return vnet_harvest_end(&h, bytes, !io && i < ready, seen);
}

/* The split ring's harvest: TX under IN_ORDER takes batches; RX under
 * IN_ORDER checks each id against its position (a loop of its own, so
 * that the common case pays nothing for it). */
static inline __attribute__((always_inline)) uint16_t vnet_sq_harvest(struct vnet_vq *vq, struct vnet_buf **out,
                                                                     uint16_t n, uint32_t rx_hdr, int mrg,
                                                                     uint64_t *bytes)
{
	if (out == NULL && vq->in_order)
		return vnet_sq_reclaim_in_order_segs(vq, mrg);
	if (out != NULL && vq->in_order)
		return vnet_sq_harvest_io(vq, out, n, rx_hdr, mrg, bytes, 1);
	return vnet_sq_harvest_io(vq, out, n, rx_hdr, mrg, bytes, 0);
}

/* In order, the id is the position; it must be free again (a device that
 * broke the order would otherwise lose a buffer). */
static inline __attribute__((always_inline)) bool vnet_sq_slot_busy(struct vnet_buf *const *cookie, uint32_t slot)
{
	return vnet_unlikely(cookie[slot] != NULL);
}

/*
 * The RX side of vnet_sq_post: whole buffers (buf_off/buf_len) from @bufs
 * or @src's stack. A descriptor's len and flags were set once, at reset,
 * and never change, so only its addr is written; under IN_ORDER the avail
 * ring holds its own positions from reset on (the id is the position), so
 * it is not written either. In runs up to the ring's end: no index is
 * masked per buffer.
 */
static inline __attribute__((always_inline)) uint16_t vnet_sq_post_rx(struct vnet_vq *vq, struct vnet_buf *const *bufs,
                                                                     uint16_t n, struct vnet_pool *src, int in_order)
{
	struct vnet_buf *const *stack = src ? src->stack : NULL;
	uint32_t top = src ? src->top : 0;
	struct vring_desc *desc = vq->desc;
	uint16_t *aring = vq->avail->ring;
	struct vnet_buf **cookie = vq->cookie;
	const uint16_t *free_ids = vq->free_ids;
	uint32_t num_free = vq->num_free, slot = vq->avail_idx & vq->mask, size = vq->size;
	uint64_t off = vq->buf_off;
	uint32_t i = 0;

	while (i < n) {
		uint32_t end = size - slot < n - i ? size : slot + (n - i);

		for (; slot < end; slot++, i++) {
			struct vnet_buf *b;
			uint32_t id;

			if (in_order) {
				if (vnet_sq_slot_busy(cookie, slot))
					goto out;
				id = slot;
			} else {
				id = free_ids[--num_free];
			}
			/* RX refill passes no array: buffers come off the pool's stack */
			b = bufs ? bufs[i] : stack[--top];
			desc[id].addr = b->iova + off;
			cookie[id] = b;
			if (!in_order)
				aring[slot] = (uint16_t)id;
		}
		slot = 0;
	}
out:
	if (src)
		src->top = top;
	vq->num_free = (uint16_t)(in_order ? num_free - i : num_free);
	vq->avail_idx = (uint16_t)(vq->avail_idx + i);
	return (uint16_t)i;
}

/*
 * Put up to @n buffers on the ring (the caller checked num_free >= n),
 * from @bufs, or with @bufs NULL straight off @src's free stack (the
 * caller checked it holds @n).
 * RX buffers are offered whole (buf_off/buf_len); TX buffers from data
 * minus a zeroed virtio_net_hdr of @tx_hdr bytes, and only if the header
 * fits before data and the frame inside the buffer: posting stops at the
 * first that does not. @return buffers posted.
 */
static inline __attribute__((always_inline)) uint16_t vnet_sq_post(struct vnet_vq *vq, struct vnet_buf *const *bufs, uint16_t n,
                                    uint32_t tx_hdr, uint64_t *bytes, struct vnet_pool *src, int in_order)
{
	struct vring_desc *desc = vq->desc;
	uint16_t *aring = vq->avail->ring;
	struct vnet_buf **cookie = vq->cookie;
	const uint16_t *free_ids = vq->free_ids;
	uint32_t mask = vq->mask, num_free = vq->num_free, slot = vq->avail_idx & mask, i;
	uint64_t sum = 0;

	if (!tx_hdr)
		return vnet_sq_post_rx(vq, bufs, n, src, in_order);
	for (i = 0; i < n; i++, slot = (slot + 1) & mask) {
		struct vnet_buf *b = bufs[i];
		struct vring_desc *d;
		uint8_t *h = b->data - tx_hdr;
		uint64_t rel = (uint64_t)(h - b->base); /* huge if data < base + hdr */
		uint32_t id;

		if (in_order && vnet_sq_slot_busy(cookie, slot))
			break;
		/* a chain (nb_segs > 1) stops the run: vnet_ring_post
		 * posts it out of line (vnet_ring_post_tx_rest) */
		if (vnet_unlikely(b->nb_segs > 1 || rel > b->size || rel + tx_hdr + b->len > b->size))
			break;
		if (in_order) {
			id = slot;
			num_free--;
		} else {
			id = free_ids[--num_free];
		}
		d = &desc[id];
		/* a zero header unless the application filled in
		 * offloads; constant sizes, so two stores */
		if (vnet_likely(!(b->flags & VNET_BUF_F_TX_HDR))) {
			if (tx_hdr == sizeof(struct virtio_net_hdr))
				memset(h, 0, sizeof(struct virtio_net_hdr));
			else
				memset(h, 0, tx_hdr);
		}
		d->addr = b->iova + rel;
		d->len = b->len + tx_hdr; /* flags stay 0: a chain's reclaim clears its INDIRECT */
		sum += b->len;
		cookie[id] = b;
		/* in order the avail ring holds its positions since reset */
		if (!in_order)
			aring[slot] = (uint16_t)id;
	}
	vq->num_free = (uint16_t)num_free;
	vq->avail_idx = (uint16_t)(vq->avail_idx + i);
	if (bytes)
		*bytes += sum;
	return (uint16_t)i;
}

/* One descriptor, @id, made available at the next avail position (not
 * yet published): for a TX chain, posted out of line (ring.c). @flags is
 * INDIRECT for an indirect table, else 0. */
static inline void vnet_sq_post_desc(struct vnet_vq *vq, uint32_t id, uint64_t addr, uint32_t len, uint16_t flags)
{
	struct vring_desc *d = &vq->desc[id];

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	vq->avail->ring[vq->avail_idx & vq->mask] = (uint16_t)id;
	vq->avail_idx = (uint16_t)(vq->avail_idx + 1);
}

/* Publish the avail index once and notify only if the device asked
 * (spec 2.7.10 and 2.7.7). */
static inline __attribute__((always_inline)) void vnet_sq_publish(struct vnet_vq *vq, struct vnet_transport *t)
{
	uint16_t idx = vq->avail_idx;
	bool kick;

	VNET_STAGE_BEGIN(t0);
	vnet_wmb(); /* ring entries before the index */
	vnet_store16(&vq->avail->idx, idx);
	vnet_mb(); /* the index store before reading the device's wishes */
	if (vq->event_idx)
		/* over everything queued since the last kick; force one before the
		 * 16-bit distance could wrap */
		kick = vring_need_event(vnet_load16(vq->avail_event), idx, vq->kick_idx) ||
		       (uint16_t)(idx - vq->kick_idx) >= 0x8000;
	else
		kick = !(vnet_load16(&vq->used->flags) & VRING_USED_F_NO_NOTIFY);
	VNET_STAGE_END(VNET_STAGE_PUBLISH, t0);
	if (kick) {
		VNET_STAGE_BEGIN(t1);
		t->ops->notify(t, vq->qidx);
		vq->kick_idx = idx;
		vq->stats.kicks++;
		VNET_STAGE_END(VNET_STAGE_KICK, t1);
	}
}

#endif
