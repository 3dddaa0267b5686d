/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ring layer's one entry point: a virtqueue (struct vnet_vq, vq.h) in
 * either layout, split (spec 2.7, split.h) or packed (spec 2.8,
 * packed.h), chosen here and nowhere else: one predictable branch on
 * vq->packed per call, each layout's helper inlined behind it. The layouts
 * share the queue state and the per-entry harvest checks (vq.h) and
 * never include each other.
 *
 * The contracts are the layouts' (vnet_sq_* in split.h, vnet_pq_* in
 * packed.h, which mirror each other): post fills descriptors, publish
 * makes them visible at once and kicks only if the device asked, harvest
 * takes used buffers back through the checks that keep a hostile device
 * from breaking more than its own queue. TX chains (nb_segs > 1) are
 * posted out of line, in ring.c, for both layouts.
 */
#ifndef VNET_RING_RING_H
#define VNET_RING_RING_H

#include "ring/split.h"
#include "ring/packed.h"

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
/* The rest of a TX burst from a chain on: chains one by one, the frames
 * between them through the ring's post loop. @return frames posted. */
uint16_t vnet_ring_post_tx_rest(struct vnet_vq *vq, struct vnet_buf *const *bufs, uint16_t n, uint32_t tx_hdr,
                                uint64_t *bytes, int in_order);

/* ---- the fast path ---- */

/* Harvest up to @n used buffers (frames) into @out, or with @out NULL back
 * to their pools (TX reclaim): vnet_sq_harvest, vnet_pq_harvest. */
static inline __attribute__((always_inline)) uint16_t vnet_ring_harvest(struct vnet_vq *vq, struct vnet_buf **out, uint16_t n,
                                                                       uint32_t rx_hdr, int mrg, uint64_t *bytes)
{
	if (vq->packed)
		return vnet_pq_harvest(vq, out, n, rx_hdr, mrg, bytes);
	return vnet_sq_harvest(vq, out, n, rx_hdr, mrg, bytes);
}

/* The layout's post loop alone: it stops at a TX chain (for ring.c). */
static inline __attribute__((always_inline)) uint16_t vnet_ring_post_run(struct vnet_vq *vq, struct vnet_buf *const *bufs,
                                                                        uint16_t n, uint32_t tx_hdr, uint64_t *bytes,
                                                                        struct vnet_pool *src, int in_order)
{
	if (vq->packed)
		return vnet_pq_post(vq, bufs, n, tx_hdr, bytes, src);
	return vnet_sq_post(vq, bufs, n, tx_hdr, bytes, src, in_order);
}

/* Post up to @n buffers (vnet_sq_post, vnet_pq_post), TX chains among them
 * included. Nothing is visible to the device before vnet_ring_publish. */
static inline __attribute__((always_inline)) uint16_t vnet_ring_post(struct vnet_vq *vq, struct vnet_buf *const *bufs, uint16_t n,
                                                                    uint32_t tx_hdr, uint64_t *bytes, struct vnet_pool *src,
                                                                    int in_order)
{
	uint16_t done;

	/* vnet_ring_post_run spelled out: through one more inline level gcc
	 * allocates the IN_ORDER TX loop's registers worse (tools/ipp: about
	 * one instruction per frame more) */
	if (vq->packed)
		done = vnet_pq_post(vq, bufs, n, tx_hdr, bytes, src);
	else
		done = vnet_sq_post(vq, bufs, n, tx_hdr, bytes, src, in_order);
	/* TX chains (nb_segs > 1) stop the post loops and go out of line: a
	 * call inside the loop would cost every frame its registers */
	if (tx_hdr && vnet_unlikely(done < n) && bufs[done]->nb_segs > 1)
		done = (uint16_t)(done + vnet_ring_post_tx_rest(vq, bufs + done, (uint16_t)(n - done), tx_hdr, bytes,
		                                                in_order));
	return done;
}

/* Make what was posted visible, and kick if the device asked. */
static inline __attribute__((always_inline)) void vnet_ring_publish(struct vnet_vq *vq, struct vnet_transport *t)
{
	if (vq->packed)
		vnet_pq_publish(vq, t);
	else
		vnet_sq_publish(vq, t);
}

/* ---- set-up and the cold path ---- */

/* Allocate a queue of either layout (@packed: VIRTIO_F_RING_PACKED); see
 * vnet_sq_alloc, vnet_pq_alloc. */
static inline int vnet_ring_alloc(struct vnet_vq *vq, uint16_t qidx, uint16_t size, uint16_t desc_flags, bool packed)
{
	if (packed)
		return vnet_pq_alloc(vq, qidx, size, desc_flags);
	return vnet_sq_alloc(vq, qidx, size, desc_flags);
}

static inline void vnet_ring_reset(struct vnet_vq *vq, uint16_t desc_flags, bool event_idx)
{
	if (vq->packed)
		vnet_pq_reset(vq, desc_flags, event_idx);
	else
		vnet_sq_reset(vq, desc_flags, event_idx);
}

/* The control queue's command chain, either layout (split.h). */
static inline void vnet_ring_ctrl_post(struct vnet_vq *vq, uint64_t req, uint32_t len, uint64_t ack)
{
	if (vq->packed)
		vnet_pq_ctrl_post(vq, req, len, ack);
	else
		vnet_sq_ctrl_post(vq, req, len, ack);
}

static inline int vnet_ring_ctrl_used(struct vnet_vq *vq)
{
	return vq->packed ? vnet_pq_ctrl_used(vq) : vnet_sq_ctrl_used(vq);
}

static inline bool vnet_ring_intr_arm(struct vnet_vq *vq)
{
	return vq->packed ? vnet_pq_intr_arm(vq) : vnet_sq_intr_arm(vq);
}

static inline void vnet_ring_intr_disarm(struct vnet_vq *vq)
{
	if (vq->packed)
		vnet_pq_intr_disarm(vq);
	else
		vnet_sq_intr_disarm(vq);
}

static inline void vnet_ring_addrs(const struct vnet_vq *vq, struct vnet_vq_addrs *a)
{
	if (vq->packed)
		vnet_pq_addrs(vq, a);
	else
		vnet_sq_addrs(vq, a);
}

/* Give every held id (vnet_vq_hold) back at once if none of the used
 * entries still unread names an id that is not in flight: then none of
 * them can be a stale duplicate of a held id. For a refill that follows
 * another with no harvest in between (the application stopped reading,
 * e.g. while closing), which would otherwise leave the ring short for
 * good. Cold. @return ids given back. */
static inline uint32_t vnet_ring_held_check(struct vnet_vq *vq)
{
	if (!vq->held_ngrp || vq->broken)
		return 0;
	return vq->packed ? vnet_pq_held_check(vq) : vnet_sq_held_check(vq);
}

/* Has the device published used entries no harvest has read yet (that
 * vnet_ring_unread_ok must look at)? One load of device memory at most
 * (vnet_sq_unread): every refill that posts asks. Never on the packed
 * ring: its refill marks each id it posts with the end of the used run,
 * and its harvest refuses a descriptor below the mark (pk_mark), so no
 * unread descriptor needs reading there. */
static inline __attribute__((always_inline)) bool vnet_ring_unread(const struct vnet_vq *vq)
{
	return !vq->packed && vnet_sq_unread(vq);
}

/*
 * Before a split refill puts ids back on the ring: false when a used entry the
 * device has published and no harvest has read yet names an id that is
 * not in flight. Such an entry is a duplicate or made up (spec 2.7.8: a
 * used id names a buffer made available earlier; a device cannot have
 * used a buffer not posted yet), and once the id is posted again it would
 * complete the new buffer: a frame the device never wrote, in a buffer it
 * still holds. Nothing may be posted then; the harvest breaks the ring
 * when it gets there. (Held ids cover only the entries a short burst saw;
 * this covers entries written later, and entries the device wrote again.)
 * Under IN_ORDER an entry names the buffer of its own position or breaks
 * the harvest: only entries past what is in flight can be stale, and no
 * id is read. An index the harvest refuses anyway is true. Cold.
 */
static inline bool vnet_ring_unread_ok(struct vnet_vq *vq)
{
	return vnet_sq_unread_in_flight(vq) != 0;
}

#endif
