/* SPDX-License-Identifier: BSD-3-Clause */
/* Split virtqueue set-up and teardown (spec 2.7); the hot path is in vring.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ring/packed.h" /* and vring.h: chains are posted here for both layouts */

#define CACHE_LINE 64

static size_t align_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

/* desc | avail (+used_event) | used (+avail_event), each part starting on
 * a fresh cache line so that driver-written and device-written memory
 * never share one. */
static size_t avail_off(uint16_t size) { return align_up((size_t)16 * size, CACHE_LINE); }
static size_t used_off(uint16_t size)
{
	return avail_off(size) + align_up(4 + (size_t)2 * size + 2, CACHE_LINE);
}

size_t vnet_vq_mem_size(uint16_t size)
{
	return used_off(size) + align_up(4 + (size_t)8 * size + 2, CACHE_LINE);
}

void vnet_vq_reset(struct vnet_vq *vq, uint16_t desc_flags, bool event_idx)
{
	uint16_t i;

	memset(vq->mem.va, 0, vq->mem.len);
	memset(vq->cookie, 0, sizeof(vq->cookie[0]) * vq->size);
	/* One descriptor per packet: RX flags never change, set them once
	 * (TX posts write theirs: 0, or INDIRECT for a chain). */
	for (i = 0; i < vq->size; i++) {
		vq->desc[i].flags = desc_flags;
		/* RX descriptors always offer a whole buffer */
		if (desc_flags & VRING_DESC_F_WRITE)
			vq->desc[i].len = vq->buf_len;
		/* ids pop in ascending order */
		vq->free_ids[i] = (uint16_t)(vq->size - 1 - i);
	}
	vq->num_free = vq->size;
	vq->avail_idx = vq->last_used = vq->kick_idx = 0;
	vq->held_head = vq->held_tail = 0;
	vq->held_ngrp = 0;
	vq->event_idx = event_idx;
	vq->broken = false;
	vnet_vq_intr_disarm(vq); /* a polling driver wants no interrupts */
}

/* Copy @n ids between the free stack and the held FIFO (a ring of size
 * entries): at most two runs each way, so a burst's ids move in a couple
 * of memcpy calls. */
static void fifo_put(struct vnet_vq *vq, const uint16_t *src, uint32_t n)
{
	uint32_t at = vq->held_tail & vq->mask, run = vq->size - at;

	if (run > n)
		run = n;
	memcpy(vq->held_ids + at, src, run * sizeof(uint16_t));
	if (n > run)
		memcpy(vq->held_ids, src + run, (n - run) * sizeof(uint16_t));
	vq->held_tail = (uint16_t)(vq->held_tail + n);
}

static void fifo_get(struct vnet_vq *vq, uint16_t *dst, uint32_t n)
{
	uint32_t at = vq->held_head & vq->mask, run = vq->size - at;

	if (run > n)
		run = n;
	memcpy(dst, vq->held_ids + at, run * sizeof(uint16_t));
	if (n > run)
		memcpy(dst + run, vq->held_ids, (n - run) * sizeof(uint16_t));
	vq->held_head = (uint16_t)(vq->held_head + n);
}

uint32_t vnet_vq_hold(struct vnet_vq *vq, uint32_t from, uint32_t to, uint16_t until)
{
	uint32_t g;

	if (vq->broken || vq->in_order || !vq->held_ids || to <= from)
		return to;
	fifo_put(vq, vq->free_ids + from, to - from);
	g = vq->held_ngrp;
	if (g && (vq->held_until[g - 1] == until || g == VNET_VQ_HELD_GROUPS)) {
		/* the same index seen again, or no group left: the newest
		 * group grows (and waits for the later index) */
		g--;
	} else {
		vq->held_ngrp++;
	}
	vq->held_end[g] = vq->held_tail;
	vq->held_until[g] = until;
	return from;
}

/* Every held id back on the free stack. */
static uint32_t release_all(struct vnet_vq *vq)
{
	uint32_t n = vnet_vq_held(vq);

	fifo_get(vq, vq->free_ids + vq->num_free, n);
	vq->num_free = (uint16_t)(vq->num_free + n);
	vq->held_ngrp = 0;
	return n;
}

uint32_t vnet_vq_held_check(struct vnet_vq *vq)
{
	const volatile struct vring_used_elem *ring;
	uint16_t pos, idx;

	if (!vq->held_ngrp || vq->broken)
		return 0;
	if (vq->packed)
		return vnet_pq_held_check(vq);
	ring = vq->used->ring;
	idx = vnet_load16(&vq->used->idx);
	if ((uint16_t)(idx - vq->last_used) > vq->size)
		return 0; /* an index the next harvest will refuse */
	vnet_rmb();
	for (pos = vq->last_used; pos != idx; pos++) {
		uint32_t id = ring[pos & vq->mask].id;

		if (id >= vq->size || vq->cookie[id] == NULL)
			return 0; /* the harvest will stop there; hold on until then */
	}
	return release_all(vq);
}

uint32_t vnet_vq_held_release_all(struct vnet_vq *vq)
{
	return release_all(vq);
}

void vnet_vq_release(struct vnet_vq *vq)
{
	/* reached: the harvest position is at or past until (both within a
	 * ring of each other, so the 16-bit distance says which side) */
	while (vq->held_ngrp && (uint16_t)(vq->last_used - vq->held_until[0]) < 0x8000) {
		uint32_t n = (uint16_t)(vq->held_end[0] - vq->held_head), g;

		fifo_get(vq, vq->free_ids + vq->num_free, n);
		vq->num_free = (uint16_t)(vq->num_free + n);
		vq->held_ngrp--;
		for (g = 0; g < vq->held_ngrp; g++) {
			vq->held_end[g] = vq->held_end[g + 1];
			vq->held_until[g] = vq->held_until[g + 1];
		}
	}
}

bool vnet_vq_intr_arm(struct vnet_vq *vq)
{
	if (vq->event_idx)
		vnet_store16(vq->used_event, vq->last_used);
	else
		vnet_store16(&vq->avail->flags, 0);
	vnet_mb(); /* the request is visible before the index is read again */
	return vnet_load16(&vq->used->idx) != vq->last_used;
}

void vnet_vq_intr_disarm(struct vnet_vq *vq)
{
	if (vq->event_idx)
		vnet_store16(vq->used_event, (uint16_t)(vq->last_used + 0x8000));
	else
		vnet_store16(&vq->avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
}

int vnet_vq_alloc(struct vnet_vq *vq, uint16_t qidx, uint16_t size, uint16_t desc_flags)
{
	int rc;

	memset(vq, 0, sizeof(*vq));
	vq->mem.fd = vq->ind_mem.fd = -1;
	if (size == 0 || (size & (size - 1)) != 0)
		return -EINVAL;
	rc = vnet_dma_alloc(&vq->mem, vnet_vq_mem_size(size), 4096);
	if (rc)
		return rc;
	vq->cookie = calloc(size, sizeof(vq->cookie[0]));
	vq->free_ids = calloc(size, sizeof(vq->free_ids[0]));
	vq->held_ids = calloc(size, sizeof(vq->held_ids[0]));
	if (!vq->cookie || !vq->free_ids || !vq->held_ids) {
		vnet_vq_free(vq);
		return -ENOMEM;
	}
	vq->size = size;
	vq->mask = (uint16_t)(size - 1);
	vq->qidx = qidx;
	vq->desc = vq->mem.va;
	vq->avail = (struct vring_avail *)((uint8_t *)vq->mem.va + avail_off(size));
	vq->used = (struct vring_used *)((uint8_t *)vq->mem.va + used_off(size));
	vq->used_event = &vq->avail->ring[size];
	vq->avail_event = (uint16_t *)&vq->used->ring[size];
	vnet_vq_reset(vq, desc_flags, false);
	return 0;
}

uint32_t vnet_vq_drain(struct vnet_vq *vq, void (*fn)(struct vnet_buf *b))
{
	uint32_t n = 0;
	uint16_t i;

	if (!vq->cookie)
		return 0;
	for (i = 0; i < vq->size; i++) {
		if (vq->cookie[i]) {
			fn(vq->cookie[i]);
			vq->cookie[i] = NULL;
			n++;
		}
	}
	return n;
}

void vnet_vq_free(struct vnet_vq *vq)
{
	free(vq->cookie);
	free(vq->free_ids);
	free(vq->held_ids);
	if (vq->mem.va)
		vnet_dma_free(&vq->mem);
	if (vq->ind_mem.va)
		vnet_dma_free(&vq->ind_mem);
	memset(vq, 0, sizeof(*vq));
	vq->mem.fd = vq->ind_mem.fd = -1;
}

int vnet_vq_alloc_indirect(struct vnet_vq *vq, uint16_t max_segs)
{
	int rc;

	if (max_segs < 2 || vq->ind_mem.va)
		return -EINVAL;
	rc = vnet_dma_alloc(&vq->ind_mem, (size_t)vq->size * max_segs * sizeof(struct vring_desc), CACHE_LINE);
	if (rc)
		return rc;
	vq->ind_max = max_segs;
	return 0;
}

/* No indirect table for chain @b (whose first buffer's header starts at
 * @rel): copy the later segments behind the first one's data, if its
 * buffer has the room, and free them; all checked first. 0 or -1. */
static __attribute__((noinline)) int chain_copy(struct vnet_vq *vq, struct vnet_buf *b, uint64_t rel, uint32_t tx_hdr)
{
	uint32_t n = b->nb_segs, i;
	uint64_t total = b->len;
	struct vnet_buf *s = b;

	for (i = 1; i < n; i++) {
		uint64_t off;

		s = s->next;
		if (!s)
			return -1;
		off = (uint64_t)(s->data - s->base);
		if (off > s->size || off + s->len > s->size)
			return -1;
		total += s->len;
	}
	if (rel + tx_hdr + total > b->size)
		return -1;
	for (i = 1, s = b->next; i < n; i++) {
		struct vnet_buf *next = s->next;

		memcpy(b->data + b->len, s->data, s->len);
		b->len += s->len;
		vnet_buf_free(s);
		s = next;
	}
	b->nb_segs = 1;
	vq->stats.tx_copied++;
	return 0;
}

int vnet_ring_post_chain(struct vnet_vq *vq, struct vnet_buf *b, uint32_t tx_hdr, uint64_t *bytes, int in_order)
{
	const uint32_t n = b->nb_segs, ind_max = vq->ind_max, pos = vq->avail_idx, slot = pos & vq->mask;
	const bool packed = vq->packed;
	uint8_t *h = b->data - tx_hdr;
	uint64_t rel = (uint64_t)(h - b->base), total, addr; /* rel huge if data < base + hdr */
	uint32_t id, len;
	uint16_t flags = 0;

	if (!vq->num_free || (in_order && vq->cookie[slot]) || rel > b->size || rel + tx_hdr + b->len > b->size)
		return -1;
	id = in_order ? slot : vq->free_ids[vq->num_free - 1];
	if (ind_max && n <= ind_max) {
		/* one table per id: nobody else writes it while the chain is in
		 * flight, the device only reads it (spec 2.7.5.3, 2.8.19), and
		 * nothing is visible before the publish: filled while checked.
		 * Split entries link to the next by index (in order, as
		 * IN_ORDER wants); packed ones simply follow each other. */
		struct vring_desc *t = (struct vring_desc *)vq->ind_mem.va + (size_t)id * ind_max;
		const uint32_t link = packed ? 0 : VRING_DESC_F_NEXT;
		struct vring_desc *e = t + 1;
		const struct vnet_buf *s = b;

		t[0].addr = b->iova + rel;
		t[0].len = b->len + tx_hdr;
		total = b->len;
		for (uint32_t i = 1; i < n; i++) {
			uint64_t off;
			uint32_t sl;

			s = s->next;
			if (!s)
				return -1;
			off = (uint64_t)(s->data - s->base);
			sl = s->len;
			if (off > s->size || off + sl > s->size)
				return -1;
			if (!sl)
				continue; /* nothing to read there */
			total += sl;
			e[-1].flags = (uint16_t)link;
			e[-1].next = (uint16_t)(link * (uint32_t)(e - t));
			e->addr = s->iova + off;
			e->len = sl;
			e++;
		}
		e[-1].flags = 0; /* the last one */
		e[-1].next = 0;
		if (total + tx_hdr > UINT32_MAX)
			return -1;
		addr = vq->ind_mem.iova + (uint64_t)id * ind_max * sizeof(struct vring_desc);
		len = (uint32_t)(e - t) * (uint32_t)sizeof(struct vring_desc);
		flags = VRING_DESC_F_INDIRECT;
	} else {
		if (chain_copy(vq, b, rel, tx_hdr))
			return -1;
		total = b->len;
		addr = b->iova + rel;
		len = b->len + tx_hdr;
	}
	if (!(b->flags & VNET_BUF_F_TX_HDR)) {
		if (tx_hdr == sizeof(struct virtio_net_hdr))
			memset(h, 0, sizeof(struct virtio_net_hdr));
		else
			memset(h, 0, tx_hdr);
	}
	vq->num_free--;
	vq->cookie[id] = b;
	if (packed) {
		volatile struct pvirtq_desc *d = &vq->pk_desc[slot];
		/* AVAIL = wrap counter, USED = its inverse (spec 2.8.1); the
		 * first descriptor not yet published keeps its flags back */
		uint16_t f = (uint16_t)(vq->pk_wflags | flags | ((pos & vq->size) ? VIRTQ_DESC_F_USED : VIRTQ_DESC_F_AVAIL));

		d->addr = addr;
		d->len = len;
		d->id = (uint16_t)id;
		if ((uint16_t)pos == vq->pk_pub)
			vq->pk_head_flags = f;
		else
			d->flags = f;
	} else {
		struct vring_desc *d = &vq->desc[id];

		d->addr = addr;
		d->len = len;
		d->flags = flags;
		vq->avail->ring[slot] = (uint16_t)id;
	}
	vq->avail_idx = (uint16_t)(pos + 1);
	if (bytes)
		*bytes += total;
	return 0;
}

void vnet_vq_addrs(const struct vnet_vq *vq, struct vnet_vq_addrs *a)
{
	a->desc = vq->mem.iova;
	a->avail = vq->mem.iova + (uint64_t)((uint8_t *)vq->avail - (uint8_t *)vq->mem.va);
	a->used = vq->mem.iova + (uint64_t)((uint8_t *)vq->used - (uint8_t *)vq->mem.va);
}
