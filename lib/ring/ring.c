/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TX chains (nb_segs > 1), for both ring layouts (ring.h): through an
 * indirect table per descriptor id (spec 2.7.5.3, 2.8.19) when the device
 * offers them, else copied into the first buffer. The post loops stop at
 * a chain and the rest of the burst comes here, out of line: a call inside
 * the loops would cost every frame its registers.
 */
#include <errno.h>
#include <string.h>

#include "ring/ring.h"

int vnet_vq_alloc_indirect(struct vnet_vq *vq, uint16_t max_segs)
{
	int rc;

	if (max_segs < 2 || vq->ind_mem.va)
		return -EINVAL;
	rc = vnet_dma_alloc(&vq->ind_mem, (size_t)vq->size * max_segs * sizeof(struct vring_desc), VNET_VQ_CACHE_LINE);
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
	if (packed)
		vnet_pq_post_desc(vq, id, addr, len, flags);
	else
		vnet_sq_post_desc(vq, id, addr, len, flags);
	if (bytes)
		*bytes += total;
	return 0;
}

uint16_t vnet_ring_post_tx_rest(struct vnet_vq *vq, struct vnet_buf *const *bufs, uint16_t n, uint32_t tx_hdr,
                                uint64_t *bytes, int in_order)
{
	uint16_t done = 0, k;

	while (done < n) {
		if (bufs[done]->nb_segs > 1) {
			if (vnet_ring_post_chain(vq, bufs[done], tx_hdr, bytes, in_order))
				break;
			done++;
			continue;
		}
		k = vnet_ring_post_run(vq, bufs + done, (uint16_t)(n - done), tx_hdr, bytes, NULL, in_order);
		if (!k)
			break; /* a frame that does not fit its buffer */
		done = (uint16_t)(done + k);
	}
	return done;
}
