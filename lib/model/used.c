/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The device model's completions: used entries (split, spec 2.7.8) and
 * used descriptors (packed, spec 2.8.4), TX completions batched under
 * IN_ORDER, the USED_* faults (see the top of model.c), and publishing a
 * poll's work to the driver at once.
 */
#include <string.h>

#include "model/model_int.h"

static void used_write(struct mq *q, uint32_t id, uint32_t len)
{
	volatile struct vring_used_elem *e = &q->used->ring[q->used_idx & q->mask];

	e->id = id;
	e->len = len;
	q->used_idx++;
}

/*
 * Packed: write the used descriptor at used_idx (spec 2.8.4: id, len, then
 * flags AVAIL == USED == wrap counter, WRITE when data was written) and
 * skip the positions of the buffer's descriptors. The flags of the poll's
 * first used descriptor are held back until model_publish(): the driver,
 * which reads in ring order, sees none of the poll's work before all of
 * it - which also keeps a multi-buffer frame whole (spec 2.8.9).
 */
static void pk_used_write(struct mq *q, uint32_t id, uint32_t len, uint16_t ndesc, bool wrong_wrap)
{
	uint16_t pos = q->used_idx;
	volatile struct pk_desc *d = &q->pdesc[pos & q->mask];
	uint16_t f = (uint16_t)((pk_wrap(q, pos) ? (PK_F_AVAIL | PK_F_USED) : 0) | (len ? VRING_DESC_F_WRITE : 0));

	if (wrong_wrap)
		f ^= PK_F_AVAIL | PK_F_USED;
	d->id = (uint16_t)id;
	d->len = len;
	if (!q->hold) {
		q->hold = true;
		q->hold_pos = pos;
		q->hold_flags = f;
	} else {
		d->flags = f;
	}
	q->used_idx = (uint16_t)(pos + ndesc);
}

/* IN_ORDER: write the batch of TX completions as one used entry. */
static void batch_write(struct vnet_model *m, struct mq *q)
{
	if (q->packed) {
		pk_used_write(q, q->batch_id, 0, q->batch_n, false);
	} else {
		volatile struct vring_used_elem *e = &q->used->ring[q->used_idx & q->mask];

		e->id = q->batch_id;
		e->len = 0;
		q->used_idx = (uint16_t)(q->used_idx + q->batch_n);
	}
	if (q->batch_bufs > 1)
		m->st.used_batches++;
	q->batch_n = q->batch_bufs = 0;
}

static inline void batch_flush(struct vnet_model *m, struct mq *q)
{
	if (vnet_unlikely(q->batch_n))
		batch_write(m, q);
}

/*
 * Room for one extra (bogus) used entry? The device cannot see how far the
 * driver has read the used ring, so the rule is about one publish: the
 * entries written since the last used->idx store, the genuine completions
 * this poll may still write (@upcoming) and the extra must fit in the ring.
 * A driver that reads up to the used idx it sees before it posts more
 * buffers then never finds the ring overrun. (Proving more is not possible:
 * a driver may legally hold `size` completions unread, and then any extra
 * overruns.)
 */
static bool extra_room(const struct mq *q, uint32_t upcoming)
{
	uint32_t unpublished = (uint16_t)(q->used_idx - q->published);

	return unpublished + upcoming + 1 <= q->size;
}

static void mark_chain(const struct mq *q, uint8_t *mark, uint32_t id)
{
	/* Stops at a descriptor already marked: what follows it was marked by
	 * the walk that marked it, and loops end there too. */
	for (uint32_t n = 0; n < q->size && id < q->size && !mark[id]; n++) {
		uint16_t flags = q->desc[id].flags;

		mark[id] = 1;
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		id = q->desc[id].next;
	}
}

/*
 * A descriptor id in range that the driver cannot consider in flight.
 * Split: not in any chain of an avail entry the device has not consumed,
 * not the chain being completed, and not named by any entry still in the
 * used ring (completed but maybe not yet harvested). Packed: named by no
 * descriptor in the ring (available or used) and not the genuine one.
 * Over-marking is safe; only on this fault path does the model scan the
 * ring. @return id or -1.
 */
static int32_t idle_id(struct vnet_model *m, const struct mq *q, uint32_t genuine_id)
{
	uint8_t *mark = m->mark;

	memset(mark, 0, q->size);
	if (q->packed) {
		if (genuine_id < q->size)
			mark[genuine_id] = 1;
		for (uint32_t i = 0; i < q->size; i++) {
			uint16_t id = q->pdesc[i].id;
			if (id < q->size)
				mark[id] = 1;
		}
	} else {
		mark_chain(q, mark, genuine_id);
		for (uint16_t p = q->last_avail; p != q->seen; p++)
			mark_chain(q, mark, q->avail->ring[p & q->mask]);
		for (uint32_t i = 0; i < q->size; i++)
			mark_chain(q, mark, q->used->ring[i].id);
	}
	for (uint32_t i = 0; i < q->size; i++)
		if (!mark[i])
			return (int32_t)i;
	return -1;
}

/* Packed completion with the USED_* faults (see the top of model.c). */
static void complete_packed(struct vnet_model *m, struct mq *q, uint32_t id, uint32_t len, uint16_t ndesc,
                            bool faults)
{
	uint32_t wid = id;
	bool wrong_wrap = false;

	if (faults) {
		if (q->dup_armed) {
			wid = q->dup_id;
			q->dup_armed = false;
		} else if (fault_take(m, VNET_FAULT_USED_ID_RANGE)) {
			wid = q->size;
		} else if (m->fault[VNET_FAULT_USED_ID_IDLE]) {
			int32_t idle = idle_id(m, q, id);

			if (idle >= 0) {
				fault_take(m, VNET_FAULT_USED_ID_IDLE);
				wid = (uint32_t)idle;
			}
		}
		if (wid == id && fault_take(m, VNET_FAULT_USED_DUP)) {
			q->dup_armed = true;
			q->dup_id = (uint16_t)id;
		}
		wrong_wrap = fault_take(m, VNET_FAULT_USED_IDX_JUMP);
	}
	pk_used_write(q, wid, len, ndesc, wrong_wrap);
}

/*
 * Write the completion of the buffer @id (@ndesc descriptors, for packed)
 * with @len. TX completions batch under IN_ORDER. Split: plus the extra
 * entries of the armed USED_* faults. Extras are written only when the used
 * ring has room for them (extra_room; else the fault stays armed for a
 * later completion), so a correct driver drops them and loses nothing:
 *  USED_ID_RANGE  extra {id = size, len 0} just BEFORE the genuine entry
 *                 (the smallest out-of-range id; the driver must skip it
 *                 and go on to the genuine one).
 *  USED_ID_IDLE   extra {id = lowest id not in flight (idle_id), len 0}
 *                 just BEFORE the genuine entry.
 *  USED_DUP       the genuine entry written again right AFTER itself.
 * Each applies to the next completion the model writes, on whichever data
 * queue that is (TX completions are written before the frame's RX
 * delivery; use SINK to aim at TX, SOURCE to aim at RX). The extra and its
 * genuine entry are published by the same used->idx store. Caveat for DUP
 * and IDLE: a driver that reads the genuine entry, re-posts that descriptor
 * (or the idle one) and only then reads the extra cannot tell it from a
 * real completion; harvesting up to the used idx it read before re-posting
 * avoids that.
 */
void model_complete(struct vnet_model *m, struct mq *q, uint32_t id, uint32_t len, uint16_t ndesc)
{
	bool faults = q->role != ROLE_CTRL;
	uint32_t upcoming = q->poll_left ? q->poll_left : 1; /* this one included */

	if (vnet_unlikely(m->drv_features & VNET_F_IN_ORDER) && q->role == ROLE_TX && !used_fault_armed(m) &&
	    !q->dup_armed) {
		q->batch_id = (uint16_t)id;
		q->batch_n = (uint16_t)(q->batch_n + (q->packed ? ndesc : 1));
		q->batch_bufs++;
		q->poll_left = upcoming - 1;
		return;
	}
	batch_flush(m, q);
	if (vnet_unlikely(q->packed)) {
		complete_packed(m, q, id, len, ndesc, faults);
		q->poll_left = upcoming - 1;
		return;
	}
	if (faults && m->fault[VNET_FAULT_USED_ID_RANGE] && extra_room(q, upcoming)) {
		fault_take(m, VNET_FAULT_USED_ID_RANGE);
		used_write(q, q->size, 0);
	}
	if (faults && m->fault[VNET_FAULT_USED_ID_IDLE] && extra_room(q, upcoming)) {
		int32_t idle = idle_id(m, q, id);

		if (idle >= 0) {
			fault_take(m, VNET_FAULT_USED_ID_IDLE);
			used_write(q, (uint32_t)idle, 0);
		}
	}
	used_write(q, id, len);
	q->poll_left = upcoming - 1;
	if (faults && m->fault[VNET_FAULT_USED_DUP] && extra_room(q, q->poll_left)) {
		fault_take(m, VNET_FAULT_USED_DUP);
		used_write(q, id, len);
	}
}

/*
 * Split: one used->idx store for everything written since the last one,
 * after a write barrier (spec 2.7.8: len and the buffer before idx).
 * USED_IDX_JUMP: the next store that publishes new entries stores
 * true idx + size + 7 instead (more entries than could be in flight, and
 * not a multiple of the size); the next publish of that queue (the next
 * poll that touches it) stores the true idx again, even with nothing new.
 * A driver that refuses the bad index and waits loses nothing.
 * Packed: store the held-back flags of the first used descriptor, after a
 * write barrier (spec 2.8.21's order, device side).
 */
void model_publish(struct vnet_model *m, struct mq *q)
{
	bool fresh;
	uint16_t idx;

	batch_flush(m, q);
	if (q->packed) {
		if (q->hold) {
			vnet_wmb();
			vnet_store16(&q->pdesc[q->hold_pos & q->mask].flags, q->hold_flags);
			q->hold = false;
		}
		q->published = q->used_idx;
		return;
	}
	fresh = q->used_idx != q->published;
	idx = q->used_idx;
	if (!fresh && !q->republish)
		return;
	q->republish = false;
	if (fresh && q->role != ROLE_CTRL && fault_take(m, VNET_FAULT_USED_IDX_JUMP)) {
		idx = (uint16_t)(idx + q->size + 7);
		q->republish = true;
	}
	vnet_wmb();
	vnet_store16(&q->used->idx, idx);
	q->published = q->used_idx;
}
