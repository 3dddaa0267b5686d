/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Driver side of a split virtqueue (spec 2.7). The hot helpers are static
 * inline here, shared by RX and TX; setup and teardown are in vring.c.
 *
 * Indices are free-running 16-bit counters compared unmasked, so a full
 * ring and an empty ring never look alike. Descriptor ids come from a
 * private free stack (LIFO keeps the hot descriptors in cache), never from
 * anything the device wrote.
 */
#ifndef VNET_VRING_H
#define VNET_VRING_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "base/platform.h"
#include "transport/transport.h"
#include "base/pool.h"
#include "base/virtio_spec.h"
#include "base/stage.h"
#include <vnet/vnet.h>

/* Groups of ids held by short bursts (vnet_vq_hold); when all are taken,
 * the newest group absorbs the next one (held a little longer). */
#define VNET_VQ_HELD_GROUPS 4

struct vnet_vq {
	/* hot: touched by every burst */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	struct vnet_buf **cookie;   /* buffer per descriptor id; NULL = not in flight */
	uint16_t *free_ids;         /* stack of free descriptor ids */
	uint16_t *avail_event;      /* &used->ring[size]: written by the device */
	uint16_t *used_event;       /* &avail->ring[size]: written by us */
	uint16_t size, mask;
	uint16_t num_free;          /* ids on the free stack */
	uint16_t avail_idx;         /* next avail index to publish (shadow) */
	uint16_t last_used;         /* next used entry to harvest */
	uint16_t kick_idx;          /* avail index at the last notify */
	uint16_t qidx;              /* queue index on the transport */
	bool event_idx;
	bool broken;                /* device broke the ring protocol */
	bool in_order;              /* VIRTIO_F_IN_ORDER: id = avail position */
	uint8_t held_ngrp;          /* groups of held ids (below); 0 almost always */
	uint32_t buf_len;           /* RX: descriptor length; used len must fit */
	uint32_t buf_off;           /* RX: offset of the descriptor in a buffer */
	struct vnet_queue_stats stats;
	struct vnet_dma mem;        /* ring memory */
	/* packed ring (packed.h): set up by vnet_pq_alloc/reset; then
	 * avail_idx/last_used/kick_idx are descriptor positions and the split
	 * pointers above are unused */
	struct pvirtq_desc *pk_desc;                 /* descriptor ring */
	struct pvirtq_event_suppress *pk_driver;     /* driver area: written by us */
	const struct pvirtq_event_suppress *pk_device; /* device area: written by the device */
	uint16_t pk_pub;            /* positions below this are visible to the device */
	uint16_t pk_head_flags;     /* flags of the descriptor at pk_pub, stored at publish */
	uint16_t pk_wflags;         /* VIRTQ_DESC_F_WRITE for RX, 0 for TX */
	bool packed;                /* VIRTIO_F_RING_PACKED layout */
	/* TX chains (nb_segs > 1) through indirect tables (spec 2.7.5.3,
	 * 2.8.19): one table of ind_max entries per descriptor id, allocated at
	 * open (vnet_vq_alloc_indirect); ind_max 0: chains are copied instead */
	struct vnet_dma ind_mem;
	uint16_t ind_max;
	/* Ids a short burst harvested (the device had published more used
	 * entries than it took): they stay off the free stack until the
	 * harvest has gone past the used index (split) or the used run
	 * (packed) seen then, so that a duplicate among the entries left
	 * unread can never complete the buffer posted again under that id
	 * (it names an id not in flight and breaks the ring instead). A FIFO
	 * of size entries in groups; held_end[g] is where group g ends in it,
	 * held_until[g] the index (position) the harvest must reach. */
	uint16_t *held_ids;
	uint16_t held_head, held_tail;      /* free-running; tail - head ids held */
	uint16_t held_end[VNET_VQ_HELD_GROUPS], held_until[VNET_VQ_HELD_GROUPS];
	uint16_t held_mark;         /* last_used at the last refill (vnet_vq_held_check) */
	uint16_t pk_used_end;       /* packed: positions below this were seen used */
};

/* Ring part offsets inside one DMA allocation (each part on its own
 * cache lines: avail is written by us, used by the device). */
size_t vnet_vq_mem_size(uint16_t size);
/* Allocate a queue's memory and bookkeeping. 0 or -ENOMEM. */
int vnet_vq_alloc(struct vnet_vq *vq, uint16_t qidx, uint16_t size, uint16_t desc_flags);
/* Zero the ring memory and return to the just-allocated state; the caller
 * has taken every buffer back first (vnet_vq_drain). */
void vnet_vq_reset(struct vnet_vq *vq, uint16_t desc_flags, bool event_idx);
/* Hand every buffer still in flight to @fn (then forget it). @return count. */
uint32_t vnet_vq_drain(struct vnet_vq *vq, void (*fn)(struct vnet_buf *b));
void vnet_vq_free(struct vnet_vq *vq);
/* The three bus addresses for the transport. */
void vnet_vq_addrs(const struct vnet_vq *vq, struct vnet_vq_addrs *a);
/* TX queue, after alloc: one indirect table of @max_segs entries per
 * descriptor id, from DMA memory (VIRTIO_F_INDIRECT_DESC). 0 or -errno. */
int vnet_vq_alloc_indirect(struct vnet_vq *vq, uint16_t max_segs);
/*
 * Post one TX chain (@b->nb_segs > 1) on either ring layout, as the post
 * loops would a frame (free descriptor, header before data, the header
 * zeroed unless VNET_BUF_F_TX_HDR), after checking it (nb_segs links, each
 * segment inside its buffer). With indirect tables (ind_max) and at most
 * ind_max segments: table @id gets one entry per non-empty segment (split:
 * linked by next, in order; packed: in a row) and the ring descriptor
 * points at it (INDIRECT). Otherwise the later segments are copied behind
 * the first one's data, if its buffer has the room, and freed (tx_copied).
 * Out of line (see vnet_ring_post). 0, or -1: nothing changed, the chain
 * stays the caller's.
 */
int vnet_ring_post_chain(struct vnet_vq *vq, struct vnet_buf *b, uint32_t tx_hdr, uint64_t *bytes, int in_order);
/*
 * Used-buffer notifications, for a loop that sleeps when idle (cold path).
 * arm: ask for a notification at the next used entry (used_event = the
 * harvest position with EVENT_IDX, else clear VRING_AVAIL_F_NO_INTERRUPT),
 * then, after a full barrier, look once more: true when an entry is
 * already there (the caller must not sleep; the device may have written it
 * before it could see the request). disarm: back to no notifications (a
 * harvest also does that under EVENT_IDX).
 */
bool vnet_vq_intr_arm(struct vnet_vq *vq);
void vnet_vq_intr_disarm(struct vnet_vq *vq);
/*
 * Short bursts (cold, out of line). hold: ids free_ids[@from, @to) were
 * just harvested by a burst that left used entries unread: move them to
 * the held FIFO until the harvest reaches @until (the used index read
 * then, or the packed used run's end). Not under IN_ORDER (ids are
 * positions there, checked against the position) nor on a broken queue.
 * @return the free count to keep (@from, or @to when nothing was held).
 * release: give back every group whose @until the harvest has reached.
 */
uint32_t vnet_vq_hold(struct vnet_vq *vq, uint32_t from, uint32_t to, uint16_t until);
void vnet_vq_release(struct vnet_vq *vq);
/* Give every held id back at once if none of the used entries still
 * unread (up to the index published now) names an id that is not in
 * flight: then none of them can be a stale duplicate of a held id. For a
 * refill that follows another with no harvest in between (the application
 * stopped reading, e.g. while closing), which would otherwise leave the
 * ring short for good. Cold; reads the unread entries' ids once.
 * @return ids given back. */
uint32_t vnet_vq_held_check(struct vnet_vq *vq);
/* Ids held now (for tests and the accounting checks). */
static inline uint16_t vnet_vq_held(const struct vnet_vq *vq)
{
	return (uint16_t)(vq->held_tail - vq->held_head);
}

/* Ids not on the free stack: in flight, or held after a short burst (RX
 * only; TX harvests never stop short). */
static inline uint16_t vnet_vq_in_flight(const struct vnet_vq *vq)
{
	return (uint16_t)(vq->size - vq->num_free);
}

/* A sent TX chain (nb_segs > 1, through an indirect table) comes back:
 * every segment to the pool, and a split descriptor loses its INDIRECT
 * flag (single frames never write theirs). Cold. */
static inline void vnet_reclaim_chain(struct vnet_vq *vq, uint32_t id, struct vnet_buf *b,
                                      struct vnet_pool_sink *sink)
{
	if (!vq->packed)
		vq->desc[id].flags = 0;
	vnet_sink_put_frame(sink, b);
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
static inline __attribute__((always_inline)) uint16_t vnet_vq_reclaim_in_order_segs(struct vnet_vq *vq, int chains)
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
static inline uint16_t vnet_vq_reclaim_in_order(struct vnet_vq *vq)
{
	return vq->ind_max ? vnet_vq_reclaim_in_order_segs(vq, 1) : vnet_vq_reclaim_in_order_segs(vq, 0);
}

/* What a harvest carries from one used entry to the next; the same for
 * both ring layouts (packed.h uses it too). A local, so it lives in
 * registers. */
struct vnet_harvest {
	struct vnet_vq *vq;
	struct vnet_buf **cookie, **out;
	uint16_t *free_ids;
	uint32_t num_free, got, size, off, seg_off, max_len;
	struct vnet_pool_sink sink;
	struct vnet_buf *head, *tail; /* MRG: the frame being assembled */
	uint32_t cont;                /* MRG: segments still due */
	uint64_t sum, frame;
};

static inline __attribute__((always_inline)) void vnet_harvest_begin(struct vnet_harvest *h, struct vnet_vq *vq,
                                                                    struct vnet_buf **out, uint32_t rx_hdr)
{
	h->vq = vq;
	h->cookie = vq->cookie;
	h->out = out;
	h->free_ids = vq->free_ids;
	h->num_free = vq->num_free;
	h->got = 0;
	h->size = vq->size;
	h->seg_off = vq->buf_off;
	h->off = vq->buf_off + rx_hdr;
	h->max_len = vq->buf_len;
	h->sink.pool = NULL;
	h->sink.top = 0;
	h->head = h->tail = NULL;
	h->cont = 0;
	h->sum = h->frame = 0;
}

/* A frame that cannot be completed: its head was the last buffer handed
 * out; take it back with every segment. */
static inline void vnet_harvest_drop_frame(struct vnet_harvest *h)
{
	h->got--;
	vnet_buf_free_chain(h->head);
	h->cont = 0;
}

/* The ring broke at an entry (what Linux's virtio_ring calls BAD_RING):
 * that entry was not taken; the queue is marked broken (the fast path
 * keeps off it until vnet_dev_recover() resets it), and a frame being
 * assembled (MRG) is dropped whole. Inline: no pointer to the pass may
 * escape, or its state would leave the registers. */
static inline __attribute__((always_inline)) void vnet_harvest_broken(struct vnet_harvest *h)
{
	h->vq->broken = true;
	if (vnet_unlikely(h->cont))
		vnet_harvest_drop_frame(h);
}

/*
 * One used entry naming descriptor @id at ring slot @slot; its length is
 * at @lenp (read once, and only for RX). @left: entries the device
 * published after this one. The id must be in range, in flight and, with
 * @io (RX under IN_ORDER), the id of this very position; an RX length must cover the
 * header and fit the buffer (a continuation segment (MRG): 1..buffer).
 * Anything else is counted and @return 1: the entry is not taken, the
 * caller stops and breaks the ring (vnet_harvest_broken). Otherwise (0)
 * the buffer is handed out (or, TX, back to its
 * pool); with @mrg frames are assembled (RX) or chains taken back whole
 * (TX). A header whose num_buffers is 0 or runs past the published
 * entries (device-written data, not the ring) drops that frame only.
 */
static inline __attribute__((always_inline)) int vnet_harvest_entry(struct vnet_harvest *h, uint32_t id, uint32_t slot,
                                                                   const volatile uint32_t *lenp, uint32_t left,
                                                                   uint32_t rx_hdr, int mrg, int to_pool, int io)
{
	struct vnet_buf *b;
	uint32_t len = 0;

	/* under IN_ORDER the position's own id (which is in range) */
	if (vnet_unlikely(io ? id != slot : id >= h->size) || vnet_unlikely((b = h->cookie[id]) == NULL)) {
		h->vq->stats.drop_bad_id++;
		return 1;
	}
	if (rx_hdr) {
		len = *lenp;
		/* one unsigned compare each: 0 (or below the header) wraps around */
		if (mrg && h->cont) {
			if (vnet_unlikely(len - 1 >= h->max_len)) {
				h->vq->stats.drop_bad_len++;
				return 1;
			}
		} else if (vnet_unlikely(len - rx_hdr > h->max_len - rx_hdr)) {
			h->vq->stats.drop_bad_len++;
			return 1;
		}
	}
	h->cookie[id] = NULL;
	h->free_ids[h->num_free++] = (uint16_t)id;
	if (rx_hdr) {
		if (mrg && h->cont) { /* a continuation segment: data only, no header */
			h->cont--;
			b->data = b->base + h->seg_off;
			b->len = len;
			b->nb_segs = 1; /* only the head's count means anything */
			h->tail->next = b;
			h->tail = b;
			h->head->nb_segs++;
			h->frame += len;
			if (h->cont == 0)
				h->sum += h->frame;
			return 0;
		}
		b->data = b->base + h->off;
		b->len = len - rx_hdr;
		b->flags = 0;
		b->nb_segs = 1;
		vnet_prefetch(b->data);
		if (mrg) {
			/* num_buffers, read once, byte by byte (no alignment assumed) */
			const volatile uint8_t *nbp = b->data - rx_hdr + offsetof(struct virtio_net_hdr, num_buffers);
			uint32_t nb = (uint32_t)nbp[0] | (uint32_t)nbp[1] << 8;
			if (vnet_unlikely(nb == 0 || nb - 1 > left)) {
				h->vq->stats.drop_bad_len++;
				vnet_buf_free(b);
				return 0;
			}
			h->cont = nb - 1;
			h->head = h->tail = b;
			h->frame = len - rx_hdr;
			if (h->cont == 0)
				h->sum += h->frame;
		} else {
			h->sum += len - rx_hdr;
		}
	}
	if (!to_pool)
		h->out[h->got++] = b;
	else { /* TX reclaim: straight back to the pool's free stack */
		if (mrg && vnet_unlikely(b->nb_segs > 1)) /* TX: mrg = chains may be in flight */
			vnet_reclaim_chain(h->vq, id, b, &h->sink);
		else
			vnet_sink_put(&h->sink, b);
		h->got++;
	}
	return 0;
}

/* Write the pass's state back; @return buffers (frames) harvested. */
static inline __attribute__((always_inline)) uint16_t vnet_harvest_end(struct vnet_harvest *h, uint64_t *bytes)
{
	vnet_sink_flush(&h->sink);
	h->vq->num_free = (uint16_t)h->num_free;
	if (bytes)
		*bytes += h->sum;
	return (uint16_t)h->got;
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
static inline __attribute__((always_inline)) uint16_t vnet_vq_harvest_io(struct vnet_vq *vq, struct vnet_buf **out,
                                                                        uint16_t n, uint32_t rx_hdr, int mrg,
                                                                        uint64_t *bytes, int io)
{
	const volatile struct vring_used_elem *ring = vq->used->ring;
	uint16_t last = vq->last_used, seen = vnet_load16(&vq->used->idx);
	uint32_t ready = (uint16_t)(seen - last);
	uint32_t mask = vq->mask, slot = last & mask, i, todo;
	struct vnet_harvest h;
	uint16_t got;

	if (vnet_unlikely(ready > (uint32_t)(vq->size - vq->num_free))) {
		vq->stats.drop_bad_idx++;
		vq->broken = true;
		return 0;
	}
	todo = !mrg && ready > n ? n : ready;
	if (todo == 0 || n == 0)
		return 0;
	vnet_rmb(); /* entries are read after the index that covers them */
	/* prefetch the used entries, one cache line (8 entries) at a time */
	for (i = 8; i < todo + 8; i += 8)
		vnet_prefetch(&ring[(slot + i) & mask]);
	vnet_harvest_begin(&h, vq, out, rx_hdr);
	for (i = 0; i < todo; i++, slot = (slot + 1) & mask) {
		if (rx_hdr && mrg && h.cont == 0 && h.got == n)
			break; /* whole frames only */
		if (vnet_unlikely(vnet_harvest_entry(&h, ring[slot].id, slot, &ring[slot].len, ready - i - 1, rx_hdr,
		                                     mrg, out == NULL, io))) {
			vnet_harvest_broken(&h);
			break;
		}
	}
	vq->last_used = (uint16_t)(last + i);
	/* We never want interrupts: keep used_event half a ring-space away. */
	if (vq->event_idx)
		vnet_store16(vq->used_event, (uint16_t)(vq->last_used + 0x8000));
	if (vnet_unlikely(i < ready) && !io)
		h.num_free = vnet_vq_hold(vq, vq->num_free, h.num_free, seen);
	got = vnet_harvest_end(&h, bytes);
	if (vnet_unlikely(vq->held_ngrp))
		vnet_vq_release(vq);
	return got;
}

/* The split ring's harvest: TX under IN_ORDER takes batches; RX under
 * IN_ORDER checks each id against its position (a loop of its own, so
 * that the common case pays nothing for it). */
static inline __attribute__((always_inline)) uint16_t vnet_vq_harvest(struct vnet_vq *vq, struct vnet_buf **out,
                                                                     uint16_t n, uint32_t rx_hdr, int mrg,
                                                                     uint64_t *bytes)
{
	if (out == NULL && vq->in_order)
		return vnet_vq_reclaim_in_order_segs(vq, mrg);
	if (out != NULL && vq->in_order)
		return vnet_vq_harvest_io(vq, out, n, rx_hdr, mrg, bytes, 1);
	return vnet_vq_harvest_io(vq, out, n, rx_hdr, mrg, bytes, 0);
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
static inline __attribute__((always_inline)) uint16_t vnet_vq_post(struct vnet_vq *vq, struct vnet_buf *const *bufs, uint16_t n,
                                    uint32_t tx_hdr, uint64_t *bytes, struct vnet_pool *src, int in_order)
{
	struct vnet_buf *const *stack = src ? src->stack : NULL;
	uint32_t top = src ? src->top : 0;
	struct vring_desc *desc = vq->desc;
	uint16_t *aring = vq->avail->ring;
	struct vnet_buf **cookie = vq->cookie;
	const uint16_t *free_ids = vq->free_ids;
	uint32_t mask = vq->mask, num_free = vq->num_free, slot = vq->avail_idx & mask, i;
	uint32_t off = vq->buf_off;
	uint64_t sum = 0;

	for (i = 0; i < n; i++, slot = (slot + 1) & mask) {
		/* RX refill passes no array: buffers come off the pool's stack */
		struct vnet_buf *b;
		struct vring_desc *d;
		uint32_t id;

		/* in order, the id is the position; it must be free again (a
		 * device that broke the order would otherwise lose a buffer) */
		if (in_order && vnet_unlikely(cookie[slot] != NULL))
			break;
		b = bufs ? bufs[i] : stack[--top];

		if (tx_hdr) {
			uint8_t *h = b->data - tx_hdr;
			uint64_t rel = (uint64_t)(h - b->base); /* huge if data < base + hdr */
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
		} else {
			if (in_order) {
				id = slot;
				num_free--;
			} else {
				id = free_ids[--num_free];
			}
			d = &desc[id];
			d->addr = b->iova + off; /* len was set once, at reset */
		}
		cookie[id] = b;
		aring[slot] = (uint16_t)id;
	}
	if (src)
		src->top = top;
	vq->num_free = (uint16_t)num_free;
	vq->avail_idx = (uint16_t)(vq->avail_idx + i);
	if (bytes)
		*bytes += sum;
	return (uint16_t)i;
}

/* Publish the avail index once and notify only if the device asked
 * (spec 2.7.10 and 2.7.7). */
static inline __attribute__((always_inline)) void vnet_vq_publish(struct vnet_vq *vq, struct vnet_transport *t)
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
