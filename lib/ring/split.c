/* SPDX-License-Identifier: BSD-3-Clause */
/* Split virtqueue set-up (spec 2.7); the hot path is in split.h. */
#include "ring/split.h"

/* desc | avail (+used_event) | used (+avail_event), each part starting on
 * a fresh cache line so that driver-written and device-written memory
 * never share one. */
static size_t avail_off(uint16_t size) { return vnet_vq_align((size_t)16 * size, VNET_VQ_CACHE_LINE); }
static size_t used_off(uint16_t size)
{
	return avail_off(size) + vnet_vq_align(4 + (size_t)2 * size + 2, VNET_VQ_CACHE_LINE);
}

size_t vnet_sq_mem_size(uint16_t size)
{
	return used_off(size) + vnet_vq_align(4 + (size_t)8 * size + 2, VNET_VQ_CACHE_LINE);
}

void vnet_sq_reset(struct vnet_vq *vq, uint16_t desc_flags, bool event_idx)
{
	uint16_t i;

	memset(vq->mem.va, 0, vq->mem.len);
	/* One descriptor per packet: RX flags never change, set them once
	 * (TX posts write theirs: 0, or INDIRECT for a chain). */
	for (i = 0; i < vq->size; i++) {
		vq->desc[i].flags = desc_flags;
		/* RX descriptors always offer a whole buffer */
		if (desc_flags & VRING_DESC_F_WRITE)
			vq->desc[i].len = vq->buf_len;
		/* Under IN_ORDER a descriptor's id is its avail position, so
		 * the avail ring is written here once and the post loops leave
		 * it (spec 2.7.6, 2.7.9); without it they overwrite every entry. */
		vq->avail->ring[i] = i;
	}
	vnet_vq_reset_ids(vq, event_idx);
	vnet_sq_intr_disarm(vq); /* a polling driver wants no interrupts */
}

int vnet_sq_unread_in_flight(struct vnet_vq *vq)
{
	const volatile struct vring_used_elem *ring = vq->used->ring;
	struct vnet_buf *const *cookie = vq->cookie;
	uint32_t mask = vq->mask, size = vq->size;
	uint16_t pos, idx = vnet_load16(&vq->used->idx);

	if ((uint16_t)(idx - vq->last_used) > vq->size)
		return -1;
	/* IN_ORDER: ids are positions, and an entry names the buffer made
	 * available at its own position or breaks the harvest; only one
	 * past what is in flight (a position not posted yet) can be stale */
	if (vq->in_order)
		return (uint16_t)(idx - vq->last_used) <= vnet_vq_in_flight(vq);
	vnet_rmb();
	for (pos = vq->last_used; pos != idx; pos++) {
		uint32_t id = ring[pos & mask].id;

		if (id >= size || cookie[id] == NULL)
			return 0;
	}
	return 1;
}

uint32_t vnet_sq_held_check(struct vnet_vq *vq)
{
	/* an unread entry naming an id out of flight: the harvest will stop
	 * there; hold on until then (an index it refuses: likewise) */
	return vnet_sq_unread_in_flight(vq) == 1 ? vnet_vq_held_release_all(vq) : 0;
}

bool vnet_sq_intr_arm(struct vnet_vq *vq)
{
	if (vq->event_idx)
		vnet_store16(vq->used_event, vq->last_used);
	else
		vnet_store16(&vq->avail->flags, 0);
	vnet_mb(); /* the request is visible before the index is read again */
	return vnet_load16(&vq->used->idx) != vq->last_used;
}

void vnet_sq_intr_disarm(struct vnet_vq *vq)
{
	if (vq->event_idx)
		vnet_store16(vq->used_event, (uint16_t)(vq->last_used + 0x8000));
	else
		vnet_store16(&vq->avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
}

/* One allocation (page-aligned: vnet_vq_init) holding the three parts at
 * @avail and @used bytes from its start. */
static int sq_alloc(struct vnet_vq *vq, uint16_t qidx, uint16_t size, uint16_t desc_flags, size_t avail,
                    size_t used, size_t mem_size)
{
	int rc = vnet_vq_init(vq, qidx, size, UINT16_MAX, mem_size);

	if (rc)
		return rc;
	vq->desc = vq->mem.va;
	vq->avail = (struct vring_avail *)((uint8_t *)vq->mem.va + avail);
	vq->used = (struct vring_used *)((uint8_t *)vq->mem.va + used);
	vq->used_event = &vq->avail->ring[size];
	vq->avail_event = (uint16_t *)&vq->used->ring[size];
	vnet_sq_reset(vq, desc_flags, false);
	return 0;
}

int vnet_sq_alloc(struct vnet_vq *vq, uint16_t qidx, uint16_t size, uint16_t desc_flags)
{
	return sq_alloc(vq, qidx, size, desc_flags, avail_off(size), used_off(size), vnet_sq_mem_size(size));
}

int vnet_sq_alloc_legacy(struct vnet_vq *vq, uint16_t qidx, uint16_t size, uint16_t desc_flags)
{
	return sq_alloc(vq, qidx, size, desc_flags, vring_legacy_avail_off(size), vring_legacy_used_off(size),
	                vring_legacy_size(size));
}

void vnet_sq_addrs(const struct vnet_vq *vq, struct vnet_vq_addrs *a)
{
	a->desc = vq->mem.iova;
	a->avail = vq->mem.iova + (uint64_t)((uint8_t *)vq->avail - (uint8_t *)vq->mem.va);
	a->used = vq->mem.iova + (uint64_t)((uint8_t *)vq->used - (uint8_t *)vq->mem.va);
}

/* The control queue's one chain: descriptors 0 and 1 are the only ones
 * ever in flight (ctrl.c waits for each command). */
void vnet_sq_ctrl_post(struct vnet_vq *vq, uint64_t req, uint32_t len, uint64_t ack)
{
	struct vring_desc *h = &vq->desc[0], *a = &vq->desc[1];

	h->addr = req;
	h->len = len;
	h->flags = VRING_DESC_F_NEXT;
	h->next = 1;
	a->addr = ack;
	a->len = 1;
	a->flags = VRING_DESC_F_WRITE;
	vq->avail->ring[vq->avail_idx & vq->mask] = 0;
	vq->avail_idx++;
	vnet_wmb();
	vnet_store16(&vq->avail->idx, vq->avail_idx);
}

int vnet_sq_ctrl_used(struct vnet_vq *vq)
{
	uint16_t u = vnet_load16(&vq->used->idx), used0 = vq->last_used;
	uint32_t id;

	if (u == used0)
		return 0;
	vnet_rmb();
	id = ((volatile struct vring_used_elem *)&vq->used->ring[used0 & vq->mask])->id;
	vq->last_used = (uint16_t)(used0 + 1);
	/* only one chain was ever out: anything else is a broken device */
	return (uint16_t)(u - used0) == 1 && id == 0 ? 1 : -1;
}
