/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packed virtqueue set-up (spec 2.8); the hot path is in packed.h.
 * Teardown is shared with the split ring (vq.c): vnet_vq_drain() and
 * vnet_vq_free() only use cookie[], free_ids and mem, which a packed queue
 * fills the same way, and free pk_mark (NULL on a split queue).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ring/packed.h"

/* desc ring | driver event suppression | device event suppression, each
 * part on its own cache line: the ring is written by both sides, the
 * driver area only by us, the device area only by the device. */
static size_t driver_off(uint16_t size) { return vnet_vq_align((size_t)16 * size, VNET_VQ_CACHE_LINE); }
static size_t device_off(uint16_t size) { return driver_off(size) + VNET_VQ_CACHE_LINE; }

size_t vnet_pq_mem_size(uint16_t size)
{
	return device_off(size) + VNET_VQ_CACHE_LINE;
}

void vnet_pq_reset(struct vnet_vq *vq, uint16_t desc_flags, bool event_idx)
{
	/* spec 2.8.13: the descriptor ring starts zeroed (flags 0 never look
	 * available to a device whose wrap counter starts at 1) */
	memset(vq->mem.va, 0, vq->mem.len);
	vnet_vq_reset_ids(vq, event_idx);
	vq->pk_pub = vq->pk_used_end = vq->pk_mark_hi = 0;
	if (vq->pk_mark)
		memset(vq->pk_mark, 0, sizeof(vq->pk_mark[0]) * vq->size);
	vq->pk_head_flags = 0;
	vq->pk_wflags = (uint16_t)(desc_flags & VIRTQ_DESC_F_WRITE);
	/* We never want used buffer notifications (spec 2.8.10). */
	vnet_store16(&vq->pk_driver->desc, 0);
	vnet_store16(&vq->pk_driver->flags, RING_EVENT_FLAGS_DISABLE);
}

int vnet_pq_alloc(struct vnet_vq *vq, uint16_t qidx, uint16_t size, uint16_t desc_flags)
{
	/* Powers of two only (the spec allows any size up to 2^15): positions
	 * then run free over 16 bits and carry the wrap counter. */
	int rc = vnet_vq_init(vq, qidx, size, PVIRTQ_MAX_SIZE, vnet_pq_mem_size(size));

	if (rc)
		return rc;
	vq->pk_mark = calloc(size, sizeof(vq->pk_mark[0]));
	if (!vq->pk_mark) {
		vnet_vq_free(vq);
		return -ENOMEM;
	}
	vq->packed = true;
	vq->pk_desc = vq->mem.va;
	vq->pk_driver = (struct pvirtq_event_suppress *)((uint8_t *)vq->mem.va + driver_off(size));
	vq->pk_device = (const struct pvirtq_event_suppress *)((uint8_t *)vq->mem.va + device_off(size));
	vnet_pq_reset(vq, desc_flags, false);
	return 0;
}

bool vnet_pq_intr_arm(struct vnet_vq *vq)
{
	uint16_t pos = vq->last_used;
	uint16_t used = (pos & vq->size) ? 0 : (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);

	if (vq->event_idx) {
		/* offset, and the wrap counter of its lap in bit 15 (spec 2.8.14) */
		vnet_store16(&vq->pk_driver->desc,
		             (uint16_t)((pos & vq->mask) | ((pos & vq->size) ? 0 : 1u << RING_EVENT_WRAP_SHIFT)));
		vnet_wmb();
		vnet_store16(&vq->pk_driver->flags, RING_EVENT_FLAGS_DESC);
	} else {
		vnet_store16(&vq->pk_driver->flags, RING_EVENT_FLAGS_ENABLE);
	}
	vnet_mb(); /* the request is visible before the descriptor is read again */
	return pos != vq->pk_pub &&
	       (vnet_load16(&vq->pk_desc[pos & vq->mask].flags) & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) == used;
}

void vnet_pq_intr_disarm(struct vnet_vq *vq)
{
	vnet_store16(&vq->pk_driver->flags, RING_EVENT_FLAGS_DISABLE);
}

int vnet_pq_unread_in_flight(struct vnet_vq *vq)
{
	const volatile struct pvirtq_desc *ring = vq->pk_desc;
	struct vnet_buf *const *cookie = vq->cookie;
	uint32_t mask = vq->mask, size = vq->size;
	uint16_t pos, end;

	for (pos = vq->pk_used_end; pos != vq->pk_pub; pos++) {
		uint32_t f = vnet_load16(&ring[pos & mask].flags) & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);

		if (f != ((pos & size) ? 0u : (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)))
			break; /* not used (yet); anything stranger the harvest refuses */
	}
	vq->pk_used_end = end = pos;
	vnet_rmb();
	for (pos = vq->last_used; pos != end; pos++) {
		uint32_t id = ring[pos & mask].id;

		if (id >= size || cookie[id] == NULL)
			return 0;
	}
	return 1;
}

uint32_t vnet_pq_held_check(struct vnet_vq *vq)
{
	/* an unread entry naming an id out of flight: hold on until the
	 * harvest stops there */
	return vnet_pq_unread_in_flight(vq) ? vnet_vq_held_release_all(vq) : 0;
}

void vnet_pq_addrs(const struct vnet_vq *vq, struct vnet_vq_addrs *a)
{
	a->desc = vq->mem.iova;
	a->avail = vq->mem.iova + (uint64_t)((const uint8_t *)vq->pk_driver - (const uint8_t *)vq->mem.va);
	a->used = vq->mem.iova + (uint64_t)((const uint8_t *)vq->pk_device - (const uint8_t *)vq->mem.va);
}

/* The control queue's one chain (spec 2.8.6: descriptors in ring order,
 * NEXT on the first, the buffer id on the last): the ack descriptor is
 * written whole before the head's flags make the chain available. */
void vnet_pq_ctrl_post(struct vnet_vq *vq, uint64_t req, uint32_t len, uint64_t ack)
{
	uint32_t p = vq->avail_idx;
	volatile struct pvirtq_desc *h = &vq->pk_desc[p & vq->mask], *a = &vq->pk_desc[(p + 1) & vq->mask];

	h->addr = req;
	h->len = len;
	h->id = 0;
	a->addr = ack;
	a->len = 1;
	a->id = 0;
	a->flags = (uint16_t)(VIRTQ_DESC_F_WRITE |
	                      (vnet_pq_wrap(vq, p + 1) ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED));
	vnet_wmb();
	vnet_store16(&h->flags, (uint16_t)(VIRTQ_DESC_F_NEXT |
	                                   (vnet_pq_wrap(vq, p) ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED)));
	vq->avail_idx = vq->pk_pub = (uint16_t)(p + 2);
}

/* The device writes the chain's completion over its first descriptor,
 * AVAIL and USED both equal to that lap's wrap counter (spec 2.8.4), and
 * goes on past the whole chain. */
int vnet_pq_ctrl_used(struct vnet_vq *vq)
{
	uint32_t p = vq->last_used;
	volatile struct pvirtq_desc *h = &vq->pk_desc[p & vq->mask];
	uint16_t f = vnet_load16(&h->flags) & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);
	uint16_t used = vnet_pq_wrap(vq, p) ? (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) : 0;
	uint16_t id;

	if (f != used)
		return 0;
	vnet_rmb();
	id = h->id;
	vq->last_used = (uint16_t)(p + 2);
	return id == 0 ? 1 : -1;
}
