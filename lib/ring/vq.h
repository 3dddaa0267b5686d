/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The state of one virtqueue, the same struct for both ring layouts (split,
 * spec 2.7: split.h; packed, spec 2.8: packed.h), and what both layouts
 * share: the private id bookkeeping, the ids held after a short burst, and
 * the checks every used entry passes on its way out of a harvest. The
 * layouts include this file; ring.h includes the layouts and chooses
 * between them. Out-of-line parts are in vq.c.
 *
 * Indices are free-running 16-bit counters compared unmasked, so a full
 * ring and an empty ring never look alike. Descriptor ids come from a
 * private free stack (LIFO keeps the hot descriptors in cache), or under
 * IN_ORDER are the avail positions themselves, never from anything the
 * device wrote.
 */
#ifndef VNET_RING_VQ_H
#define VNET_RING_VQ_H

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

/* the packed layout's ring parts (packed.h) */
struct pvirtq_desc;
struct pvirtq_event_suppress;

/* Groups of ids held by short bursts (vnet_vq_hold); when all are taken,
 * the newest group absorbs the next one (held a little longer). */
#define VNET_VQ_HELD_GROUPS 4

struct vnet_vq {
	/* hot: touched by every burst */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	struct vnet_buf **cookie;   /* buffer per descriptor id; NULL = not in flight */
	uint16_t *free_ids;         /* stack of free descriptor ids (unused under IN_ORDER: ids are positions) */
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
	uint16_t held_mark;         /* last_used at the last refill (vnet_ring_held_check) */
	uint16_t pk_used_end;       /* packed: positions below this were seen used */
	/* packed RX: per id, the end of the used run (pk_used_end) when the id
	 * was last posted. A used descriptor at a position below it was
	 * written before that buffer was offered (a duplicate, made up, or
	 * written again): the harvest refuses it (drop_bad_id, broken), so a
	 * refill never has to read the entries still unread. NULL elsewhere.
	 * pk_mark_hi: the highest mark given while used descriptors were
	 * unread (any other mark is the harvest position it was given at, and
	 * nothing below it can still be harvested); a harvest that stays at or
	 * above it checks no mark. */
	uint16_t *pk_mark;
	uint16_t pk_mark_hi;
};

/* Alignment of ring parts the two sides write: each on its own lines. */
#define VNET_VQ_CACHE_LINE 64

static inline size_t vnet_vq_align(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/*
 * For the layouts' alloc (cold). init: zero @vq, check @size (a power of
 * two, at most @max), allocate @mem_size bytes of ring memory and the id
 * bookkeeping; 0, -EINVAL or -ENOMEM (then nothing is left allocated).
 * reset_ids: every id back on the free stack (popped in ascending order),
 * nothing in flight or held, positions 0, not broken.
 */
int vnet_vq_init(struct vnet_vq *vq, uint16_t qidx, uint16_t size, uint32_t max, size_t mem_size);
void vnet_vq_reset_ids(struct vnet_vq *vq, bool event_idx);
/* Hand every buffer still in flight to @fn (then forget it). @return count. */
uint32_t vnet_vq_drain(struct vnet_vq *vq, void (*fn)(struct vnet_buf *b));
void vnet_vq_free(struct vnet_vq *vq);

/*
 * Short bursts (cold, out of line). hold: ids free_ids[@from, @to) were
 * just harvested by a burst that left used entries unread: move them to
 * the held FIFO until the harvest reaches @until (the used index read
 * then, or the packed used run's end). Not under IN_ORDER (ids are
 * positions there, checked against the position) nor on a broken queue.
 * @return the free count to keep (@from, or @to when nothing was held).
 * release: give back every group whose @until the harvest has reached.
 * release_all: every held id back on the free stack (after a layout's
 * held check found none of the unread entries stale); @return ids.
 */
uint32_t vnet_vq_hold(struct vnet_vq *vq, uint32_t from, uint32_t to, uint16_t until);
void vnet_vq_release(struct vnet_vq *vq);
uint32_t vnet_vq_held_release_all(struct vnet_vq *vq);

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

/* What a harvest carries from one used entry to the next; the same for
 * both ring layouts. A local, so it lives in registers. */
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

/* The id of a used entry: in range and in flight, and with @io (RX under
 * IN_ORDER) the id of this very position @slot. @return its buffer, or
 * NULL: counted (drop_bad_id), the entry is not taken. */
static inline __attribute__((always_inline)) struct vnet_buf *vnet_harvest_id(struct vnet_harvest *h, uint32_t id,
                                                                            uint32_t slot, int io)
{
	struct vnet_buf *b;

	/* under IN_ORDER the position's own id (which is in range) */
	if (vnet_unlikely(io ? id != slot : id >= h->size) || vnet_unlikely((b = h->cookie[id]) == NULL)) {
		h->vq->stats.drop_bad_id++;
		return NULL;
	}
	return b;
}

/* The length of a frame's first (or only) RX buffer, header included:
 * it must cover the header and fit the buffer. One unsigned compare: 0
 * (or anything below the header) wraps around. @return 1 (counted:
 * drop_bad_len) when it does not. */
static inline __attribute__((always_inline)) int vnet_harvest_len_bad(struct vnet_harvest *h, uint32_t len,
                                                                     uint32_t rx_hdr)
{
	if (vnet_unlikely(len - rx_hdr > h->max_len - rx_hdr)) {
		h->vq->stats.drop_bad_len++;
		return 1;
	}
	return 0;
}

/* Id @id is no longer in flight. Under IN_ORDER (@io) ids are positions:
 * the post loops never read the free stack there, so it is only counted. */
static inline __attribute__((always_inline)) void vnet_harvest_put_id(struct vnet_harvest *h, uint32_t id, int io)
{
	h->cookie[id] = NULL;
	if (io)
		h->num_free++;
	else
		h->free_ids[h->num_free++] = (uint16_t)id;
}

/* A frame's first (or only) RX buffer, @len bytes with the header. */
static inline __attribute__((always_inline)) void vnet_harvest_rx_head(struct vnet_harvest *h, struct vnet_buf *b,
                                                                      uint32_t len, uint32_t rx_hdr)
{
	b->data = b->base + h->off;
	b->len = len - rx_hdr;
	b->flags = 0;
	b->nb_segs = 1;
	vnet_prefetch(b->data);
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
 * Frames of one buffer (RX without @mrg) take the leaner
 * vnet_harvest_rx, with the same checks.
 */
static inline __attribute__((always_inline)) int vnet_harvest_entry(struct vnet_harvest *h, uint32_t id, uint32_t slot,
                                                                   const volatile uint32_t *lenp, uint32_t left,
                                                                   uint32_t rx_hdr, int mrg, int to_pool, int io)
{
	struct vnet_buf *b = vnet_harvest_id(h, id, slot, io);
	uint32_t len = 0;

	if (vnet_unlikely(b == NULL))
		return 1;
	if (rx_hdr) {
		len = *lenp;
		if (mrg && h->cont) {
			/* one unsigned compare: 0 wraps around */
			if (vnet_unlikely(len - 1 >= h->max_len)) {
				h->vq->stats.drop_bad_len++;
				return 1;
			}
		} else if (vnet_harvest_len_bad(h, len, rx_hdr)) {
			return 1;
		}
	}
	vnet_harvest_put_id(h, id, io);
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
		vnet_harvest_rx_head(h, b, len, rx_hdr);
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

/*
 * The RX fast path's entry: a used entry of a frame of one buffer (no
 * MRG_RXBUF), through the checks of vnet_harvest_entry (the id first, then
 * the length, read once). @return the buffer, or NULL: not taken
 * (counted); the caller stops and breaks the ring.
 */
static inline __attribute__((always_inline)) struct vnet_buf *vnet_harvest_rx(struct vnet_harvest *h, uint32_t id,
                                                                            uint32_t slot,
                                                                            const volatile uint32_t *lenp,
                                                                            uint32_t rx_hdr, int io)
{
	struct vnet_buf *b = vnet_harvest_id(h, id, slot, io);
	uint32_t len;

	if (vnet_unlikely(b == NULL))
		return NULL;
	len = *lenp;
	if (vnet_harvest_len_bad(h, len, rx_hdr))
		return NULL;
	vnet_harvest_put_id(h, id, io);
	vnet_harvest_rx_head(h, b, len, rx_hdr);
	h->sum += len - rx_hdr;
	return b;
}

/*
 * Write the pass's state back; @return buffers (frames) harvested. A pass
 * that stopped short (@short_burst: used entries left unread) first holds
 * the ids it took until the harvest reaches @until (vnet_vq_hold); groups
 * held before that the harvest has now passed go back.
 */
static inline __attribute__((always_inline)) uint16_t vnet_harvest_end(struct vnet_harvest *h, uint64_t *bytes,
                                                                      bool short_burst, uint16_t until)
{
	struct vnet_vq *vq = h->vq;
	uint16_t got;

	if (vnet_unlikely(short_burst))
		h->num_free = vnet_vq_hold(vq, vq->num_free, h->num_free, until);
	vnet_sink_flush(&h->sink);
	vq->num_free = (uint16_t)h->num_free;
	if (bytes)
		*bytes += h->sum;
	got = (uint16_t)h->got;
	if (vnet_unlikely(vq->held_ngrp))
		vnet_vq_release(vq);
	return got;
}

#endif
