/* SPDX-License-Identifier: BSD-3-Clause */
/* The fuzz device (fuzz_transport.h). */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "fuzz_transport.h"

static struct ftrans *ft_current; /* the device of this input (the delivery check) */
static uint8_t scratch[70000];    /* a TX frame gathered for the tap */

static struct ftrans *ft_of(struct vnet_transport *t)
{
	return (struct ftrans *)(void *)t;
}

/* One script byte, or 0 (behave) without a script. */
static uint8_t script(struct ftrans *ft)
{
	return ft->in ? fin_u8(ft->in) : 0;
}

/* A queue as if never set up: every field up to pend zeroed (the rest
 * is read only where those say it holds something). */
static void ft_queue_clear(struct ft_queue *q)
{
	memset(q, 0, offsetof(struct ft_queue, pend));
}

static void dev_reset(struct ftrans *ft)
{
	unsigned i;

	ft->status = 0;
	ft->drv_features = 0;
	for (i = 0; i < FT_NQ; i++) {
		if (ft->q[i].npend)
			memset(ft->q[i].inpend, 0, sizeof(ft->q[i].inpend));
		ft->q[i].size = 0;
		ft->q[i].npend = 0;
	}
	ft->active_pairs = 1;
	ft->last_setup = FT_NQ;
	ft->dma_stale = true;
	ft->resets++;
}

/* Script: 1 in 8 resets never completes (status stays non-zero). */
static int ft_reset(struct vnet_transport *t)
{
	struct ftrans *ft = ft_of(t);

	if ((script(ft) & 7) == 7) {
		ft->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
		return -ETIMEDOUT;
	}
	dev_reset(ft);
	return 0;
}

/* Script: the device may raise NEEDS_RESET or FAILED at any read. */
static uint8_t ft_get_status(struct vnet_transport *t)
{
	struct ftrans *ft = ft_of(t);
	uint8_t s = script(ft);

	if ((s & 0xf0) == 0xf0)
		ft->status |= (s & 1) ? VIRTIO_STATUS_FAILED : VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	return ft->status;
}

/* Script: FEATURES_OK may not stick; any other bit may be dropped too. */
static void ft_set_status(struct vnet_transport *t, uint8_t v)
{
	struct ftrans *ft = ft_of(t);
	uint8_t s;

	if (v == 0) {
		dev_reset(ft);
		return;
	}
	s = script(ft);
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(ft->status & VIRTIO_STATUS_FEATURES_OK) &&
	    ((ft->drv_features & ~ft->offer) || (s & 0x0f) == 0x0f))
		v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	if ((s & 0xf0) == 0xe0)
		v &= (uint8_t)~(1u << (s & 7));
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(ft->status & VIRTIO_STATUS_DRIVER_OK) &&
	    (ft->drv_features & VNET_F_CTRL_VQ) && ft->last_setup < FT_NQ && ft->q[ft->last_setup].size) {
		struct ft_queue *c = &ft->q[ft->last_setup];
		c->ctrl = true;
		c->rx = false;
	}
	ft->status = (uint8_t)(v | (ft->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
}

/* Script: the offer may change between reads. */
static uint64_t ft_get_features(struct vnet_transport *t)
{
	struct ftrans *ft = ft_of(t);
	uint8_t s = script(ft);

	if ((s & 0xc0) == 0xc0)
		return ft->offer ^ (1ULL << (s & 0x3f));
	return ft->offer;
}

static void ft_set_features(struct vnet_transport *t, uint64_t f)
{
	struct ftrans *ft = ft_of(t);

	if (!(ft->status & VIRTIO_STATUS_FEATURES_OK))
		ft->drv_features = f;
}

/* Script: the generation may move at any read (a config change). */
static uint32_t ft_config_generation(struct vnet_transport *t)
{
	struct ftrans *ft = ft_of(t);
	uint8_t s = script(ft);

	if ((s & 0xe0) == 0xe0)
		ft->generation += (uint32_t)(s & 0x1f) + 1;
	return ft->generation;
}

/* Script: any byte read may be replaced by an arbitrary one (and the
 * generation then moves, or not: a device may even lie about that). */
static void ft_read_config(struct vnet_transport *t, uint32_t off, void *buf, uint32_t len)
{
	struct ftrans *ft = ft_of(t);
	uint8_t *out = buf;
	uint32_t i;

	ft->config_reads++;
	for (i = 0; i < len && i < 64; i++) {
		uint32_t o = off + i;
		uint8_t s = script(ft);

		out[i] = o < sizeof(ft->cfg) ? ft->cfg[o] : 0;
		if ((s & 0xf8) == 0xf8) {
			ft->cfg[o % sizeof(ft->cfg)] = (uint8_t)(s << 5 | fin_u8(ft->in) >> 3);
			out[i] = ft->cfg[o % sizeof(ft->cfg)];
			if (s & 1)
				ft->generation++;
		}
	}
}

static uint16_t ft_queue_max(struct vnet_transport *t, uint16_t q)
{
	struct ftrans *ft = ft_of(t);

	return q < FT_NQ ? ft->qmax[q] : 0;
}

/* Script: setup may be refused. */
static int ft_queue_setup(struct vnet_transport *t, uint16_t qi, uint16_t size, const struct vnet_vq_addrs *a)
{
	struct ftrans *ft = ft_of(t);
	struct ft_queue *q;

	if ((script(ft) & 0x3f) == 0x3f)
		return -EIO;
	FUZZ_ASSERT(qi < FT_NQ, "queue_setup on queue %u", (unsigned)qi);
	FUZZ_ASSERT(size && !(size & (size - 1)) && size <= ft->qmax[qi] && size <= FT_QSIZE_MAX,
	            "queue %u: size %u (max %u)", (unsigned)qi, (unsigned)size, (unsigned)ft->qmax[qi]);
	FUZZ_ASSERT(ft->status & VIRTIO_STATUS_FEATURES_OK, "queue setup before FEATURES_OK");
	FUZZ_ASSERT(!(ft->status & VIRTIO_STATUS_DRIVER_OK), "queue setup after DRIVER_OK");
	q = &ft->q[qi];
	ft_queue_clear(q);
	q->size = size;
	q->qi = qi;
	/* the control queue is the last one set up before DRIVER_OK (its
	 * index depends on max_virtqueue_pairs, which a scripted device may
	 * show the driver differently from read to read) */
	q->rx = !(qi & 1);
	ft->last_setup = qi;
	q->packed = (ft->drv_features & VNET_F_RING_PACKED) != 0;
	q->in_order = !q->packed && (ft->drv_features & VNET_F_IN_ORDER) != 0;

	if (q->packed) {
		q->pdesc = (struct pvirtq_desc *)(uintptr_t)a->desc;
		q->pdrv = (struct pvirtq_event_suppress *)(uintptr_t)a->avail;
		q->pdev = (struct pvirtq_event_suppress *)(uintptr_t)a->used;
	} else {
		q->desc = (struct vring_desc *)(uintptr_t)a->desc;
		q->avail = (struct vring_avail *)(uintptr_t)a->avail;
		q->used = (struct vring_used *)(uintptr_t)a->used;
	}
	ft->dma_stale = true;
	return 0;
}

/* -------------------------------------------------------- memory -- */

/* Does [addr, addr + len) lie in DMA memory the driver allocated? */
static FUZZ_NOCOV bool dma_ok(struct ftrans *ft, uint64_t addr, uint64_t len)
{
	unsigned i, pass;

	for (pass = 0; pass < 2; pass++) {
		if (ft->dma_stale || pass == 1) {
			unsigned n = vnet_dma_live(ft->dma, VNET_DMA_MAX_LIVE);
			ft->ndma = n < VNET_DMA_MAX_LIVE ? n : VNET_DMA_MAX_LIVE;
			ft->dma_stale = false;
		}
		for (i = 0; i < ft->ndma; i++) {
			const struct vnet_dma *r = &ft->dma[i];
			/* a pool kept for later inputs (fuzz_pool_get) is live
			 * memory, but not this input's */
			if (addr >= r->iova && len <= r->len && addr - r->iova <= r->len - len)
				return !fuzz_pool_idle(r->iova);
		}
	}
	return false;
}

/* The RX pool's buffer at @addr, or -1. */
static FUZZ_NOCOV int pool_idx(const struct ftrans *ft, uint64_t addr)
{
	const struct vnet_pool *p = ft->pool;
	uint64_t off;

	if (!p || addr < p->mem.iova)
		return -1;
	off = addr - p->mem.iova;
	if (off >= (uint64_t)p->count * p->buf_size)
		return -1;
	return (int)(off / p->buf_size);
}

static FUZZ_NOCOV void mark_done(struct ftrans *ft, uint64_t addr, bool on)
{
	int i = pool_idx(ft, addr);

	if (i < 0)
		return;
	if (on)
		ft->done[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		ft->done[i / 8] &= (uint8_t)~(1u << (i % 8));
}

/* A used entry naming @id became visible to the driver (split: published;
 * packed: its flags written): whatever buffer the driver has under that
 * id now is completed, as far as the driver can tell. For the entries
 * the fuzzer writes itself, whose ids the device never read. */
static FUZZ_NOCOV void mark_visible(struct ftrans *ft, const struct ft_queue *q, uint32_t id)
{
	const struct vnet_vq *vq;

	if (!q->rx || !ft->dev || id >= q->size || !ft->dev->rxq || (uint32_t)q->qi / 2u >= ft->dev->npairs)
		return;
	vq = &ft->dev->rxq[q->qi / 2u];
	if (vq->cookie && id < vq->size && vq->cookie[id])
		mark_done(ft, vq->cookie[id]->iova + vq->buf_off, true);
}

/* ----------------------------------------------------------- rings -- */

/* The entries after the removed ones move down in a loop: under ASan a
 * memmove() is the sanitizer's own byte loop, and a struct copy a call
 * per entry (no_builtin: the loop is not turned back into one). The
 * array is the device's own, indexed below npend (UBSan's bounds check
 * stays): no ASan check of each move. */
#if defined(__clang__)
#define FT_OWN_MOVES __attribute__((no_builtin("memmove"), no_sanitize("address")))
#else
#define FT_OWN_MOVES
#endif
static FUZZ_NOCOV FT_OWN_MOVES void pend_remove(struct ft_queue *q, uint32_t at, uint32_t n)
{
	uint32_t i;

	for (i = at; i < at + n; i++)
		q->inpend[q->pend[i].id] = 0;
	for (i = at; i + n < q->npend; i++) {
		struct ft_desc *d = &q->pend[i];
		const struct ft_desc *from = d + n;

		d->addr = from->addr;
		d->len = from->len;
		d->flags = from->flags;
		d->id = from->id;
	}
	q->npend = (uint16_t)(q->npend - n);
}

/* The driver made @d available (again): an older entry with its id was
 * completed as far as the driver is concerned (a raw used entry). */
static FUZZ_NOCOV void pend_add(struct ftrans *ft, struct ft_queue *q, const struct ft_desc *d)
{
	uint32_t i;

	for (i = 0; q->inpend[d->id] && i < q->npend; i++) {
		if (q->pend[i].id == d->id) {
			pend_remove(q, i, 1);
			break;
		}
	}
	FUZZ_ASSERT(q->npend < q->size, "queue %u: more than %u buffers available", (unsigned)q->qi,
	            (unsigned)q->size);
	if (q->rx) {
		FUZZ_ASSERT(d->flags & VRING_DESC_F_WRITE, "RX descriptor %u not device-writable", (unsigned)d->id);
		FUZZ_ASSERT(!(d->flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT)), "RX descriptor %u flags 0x%x",
		            (unsigned)d->id, (unsigned)d->flags);
		FUZZ_ASSERT(dma_ok(ft, d->addr, d->len), "RX buffer %u outside DMA memory", (unsigned)d->id);
	} else {
		FUZZ_ASSERT(!(d->flags & (VRING_DESC_F_WRITE | VRING_DESC_F_NEXT)), "TX descriptor %u flags 0x%x",
		            (unsigned)d->id, (unsigned)d->flags);
		FUZZ_ASSERT(!(d->flags & VRING_DESC_F_INDIRECT) || (ft->drv_features & VNET_F_INDIRECT_DESC),
		            "INDIRECT without VIRTIO_F_INDIRECT_DESC");
	}
	q->pend[q->npend++] = *d;
	q->inpend[d->id] = 1;
}

static void ctrl_serve(struct ftrans *ft, struct ft_queue *q);

FUZZ_NOCOV void ft_sync(struct ftrans *ft, uint16_t qi)
{
	struct ft_queue *q = &ft->q[qi];
	struct ft_desc d;

	if (!q->size || q->ctrl)
		return;
	if (!q->packed) {
		uint16_t idx = vnet_load16(&q->avail->idx);

		while (q->last_avail != idx && q->npend < q->size) {
			uint16_t head = q->avail->ring[q->last_avail & (q->size - 1)];

			FUZZ_ASSERT(head < q->size, "driver put id %u on a ring of %u", (unsigned)head, (unsigned)q->size);
			FUZZ_ASSERT(!q->in_order || head == (q->last_avail & (q->size - 1)),
			            "IN_ORDER: id %u at avail position %u", (unsigned)head, (unsigned)q->last_avail);
			d.addr = q->desc[head].addr;
			d.len = q->desc[head].len;
			d.flags = q->desc[head].flags;
			d.id = head;
			q->last_avail++;
			pend_add(ft, q, &d);
		}
		return;
	}
	for (;;) {
		const volatile struct pvirtq_desc *pd = &q->pdesc[q->last_avail & (q->size - 1)];
		uint16_t f = vnet_load16(&pd->flags);
		bool w = (q->last_avail & q->size) == 0;

		uint32_t slot = q->last_avail & (q->size - 1u);

		if ((uint16_t)(q->last_avail - q->used_idx) >= q->size || q->npend >= q->size)
			break;
		if (((f & VIRTQ_DESC_F_AVAIL) != 0) != w || ((f & VIRTQ_DESC_F_USED) != 0) == w)
			break;
		if (q->pk_dirty[slot]) {
			if (pd->id == q->pk_wrote[slot].id && pd->len == q->pk_wrote[slot].len &&
			    f == q->pk_wrote[slot].flags)
				break; /* what the device wrote itself */
			q->pk_dirty[slot] = 0;
		}
		d.addr = pd->addr;
		d.len = pd->len;
		d.id = pd->id;
		d.flags = f & (uint16_t)~(VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);
		FUZZ_ASSERT(d.id < q->size, "driver put id %u on a packed ring of %u", (unsigned)d.id,
		            (unsigned)q->size);
		q->last_avail++;
		pend_add(ft, q, &d);
	}
}

uint16_t ft_pk_used_flags(const struct ft_queue *q)
{
	return (q->used_idx & q->size) ? 0 : (uint16_t)(VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);
}

/* One used entry for descriptor @id; packed: @flags_now false leaves the
 * flags to the caller (returned). */
static FUZZ_NOCOV uint16_t used_put(struct ftrans *ft, struct ft_queue *q, uint32_t id, uint32_t len, bool flags_now)
{
	uint16_t f = 0;

	if (!q->packed) {
		struct vring_used_elem *e = &q->used->ring[q->used_idx & (q->size - 1)];
		e->id = id;
		e->len = len;
		/* into a slot the driver has yet to read below the index
		 * published already (after a lie, or a cursor moved): the
		 * driver reads it as it is now */
		if (q->rx && ft->dev && ft->dev->rxq && (uint32_t)q->qi / 2u < ft->dev->npairs) {
			uint16_t lu = ft->dev->rxq[q->qi / 2u].last_used, win = (uint16_t)(q->pub - lu);
			uint16_t p = (uint16_t)(lu + ((q->used_idx - lu) & (q->size - 1u)));
			if (win <= q->size && (uint16_t)(p - lu) < win)
				mark_visible(ft, q, id);
		}
	} else {
		struct pvirtq_desc *d = &q->pdesc[q->used_idx & (q->size - 1)];
		q->pk_dirty[q->used_idx & (q->size - 1)] = 0;
		f = (uint16_t)(ft_pk_used_flags(q) | (q->rx ? VIRTQ_DESC_F_WRITE : 0));
		d->id = (uint16_t)id;
		d->len = len;
		if (flags_now) {
			vnet_wmb();
			vnet_store16(&d->flags, f);
		}
	}
	q->used_idx++;
	return f;
}

uint32_t ft_rx_frame(struct ftrans *ft, uint16_t qi, const uint8_t *f, uint32_t len, const uint8_t *hdr,
                     bool keep_nb, uint32_t pick, uint32_t seg)
{
	struct ft_queue *q = &ft->q[qi];
	bool mrg = (ft->drv_features & VNET_F_MRG_RXBUF) != 0;
	uint32_t hl = ft->hdr_len, start, k, left, i, off;
	uint32_t seglen[FT_QSIZE_MAX];
	uint8_t h[12] = {0};
	uint16_t pos0 = q->used_idx, f0 = 0;

	if (qi >= FT_NQ || !q->size || !q->rx)
		return 0;
	ft_sync(ft, qi);
	if (!q->npend)
		return 0;
	start = q->in_order ? 0 : pick % q->npend;
	/* how many buffers, and how much in each */
	for (k = 0, left = len; start + k < q->npend; k++) {
		uint32_t cap = q->pend[start + k].len;

		FUZZ_ASSERT(cap >= hl, "RX buffer of %u bytes for a %u-byte header", (unsigned)cap, (unsigned)hl);
		if (k == 0)
			cap -= hl;
		if (seg && cap > seg)
			cap = seg;
		seglen[k] = left < cap ? left : cap;
		left -= seglen[k];
		if (left == 0 || !mrg) {
			k++;
			break;
		}
	}
	if (left)
		return 0; /* no room for it: dropped */
	if (hdr)
		memcpy(h, hdr, sizeof(h));
	if (!keep_nb) {
		h[10] = (uint8_t)k;
		h[11] = (uint8_t)(k >> 8);
	}
	memcpy((void *)(uintptr_t)q->pend[start].addr, h, hl);
	for (i = 0, off = 0; i < k; i++) {
		uint8_t *p = (uint8_t *)(uintptr_t)q->pend[start + i].addr + (i == 0 ? hl : 0);

		if (f)
			memcpy(p, f + off, seglen[i]);
		else
			memset(p, 0xa5, seglen[i]);
		off += seglen[i];
		mark_done(ft, q->pend[start + i].addr, true);
		/* packed: the first descriptor's flags last (spec 2.8.9) */
		if (i == 0)
			f0 = used_put(ft, q, q->pend[start].id, hl + seglen[0], false);
		else
			used_put(ft, q, q->pend[start + i].id, seglen[i], true);
	}
	if (q->packed) {
		vnet_wmb();
		vnet_store16(&q->pdesc[pos0 & (q->size - 1)].flags, f0);
	}
	pend_remove(q, start, k);
	ft->rx_frames++;
	return k;
}

void ft_rx_complete(struct ftrans *ft, uint16_t qi, struct fin *in)
{
	struct ft_queue *q = &ft->q[qi];
	uint8_t how, hdr[12] = {0};
	uint32_t len;

	ft_sync(ft, qi);
	if (qi >= FT_NQ || !q->size || !q->rx || !q->npend)
		return;
	how = fin_u8(in);
	len = fin_u16(in);
	if (how & 1) {
		/* well formed: a header, then data within the buffer(s) */
		hdr[0] = fin_u8(in); /* flags: DATA_VALID, NEEDS_CSUM or garbage */
		if (how & 4) {
			hdr[10] = fin_u8(in); /* num_buffers (MRG_RXBUF): any */
			hdr[11] = 0;
		}
		if (!(ft->drv_features & VNET_F_MRG_RXBUF))
			len %= q->pend[0].len - ft->hdr_len + 1u;
		ft_rx_frame(ft, qi, NULL, len, hdr, (how & 4) != 0, how >> 3, (how & 8) ? 64u : 0u);
		return;
	}
	/* a raw completion of the oldest buffer: any length */
	if (how & 2)
		len = fin_u32(in);
	mark_done(ft, q->pend[0].addr, true);
	used_put(ft, q, q->pend[0].id, len, true);
	pend_remove(q, 0, 1);
}

/* Read one TX frame as a device does: the descriptor, or the indirect
 * table it points at (checked), each piece inside DMA memory. */
static FUZZ_NOCOV void tx_read(struct ftrans *ft, struct ft_queue *q, const struct ft_desc *d)
{
	uint32_t total = 0, n = 0, i;
	uint32_t hl = ft->hdr_len;
	struct {
		uint64_t addr;
		uint32_t len;
	} piece[VNET_TX_MAX_SEGS + 1];

	if (d->flags & VRING_DESC_F_INDIRECT) {
		uint32_t entries = d->len / 16u;

		FUZZ_ASSERT(d->len && d->len % 16u == 0 && entries <= VNET_TX_MAX_SEGS,
		            "indirect table of %u bytes", (unsigned)d->len);
		FUZZ_ASSERT(dma_ok(ft, d->addr, d->len), "indirect table outside DMA memory");
		if (!q->packed) {
			const struct vring_desc *t = (const struct vring_desc *)(uintptr_t)d->addr;
			uint32_t at = 0;

			for (;;) {
				FUZZ_ASSERT(n < entries, "indirect table: a loop or a chain longer than %u", (unsigned)entries);
				FUZZ_ASSERT(!(t[at].flags & (VRING_DESC_F_WRITE | VRING_DESC_F_INDIRECT)),
				            "indirect entry flags 0x%x", (unsigned)t[at].flags);
				piece[n].addr = t[at].addr;
				piece[n].len = t[at].len;
				n++;
				if (!(t[at].flags & VRING_DESC_F_NEXT))
					break;
				FUZZ_ASSERT(t[at].next < entries, "indirect next %u of %u", (unsigned)t[at].next,
				            (unsigned)entries);
				at = t[at].next;
			}
		} else {
			const struct pvirtq_desc *t = (const struct pvirtq_desc *)(uintptr_t)d->addr;

			for (n = 0; n < entries; n++) {
				FUZZ_ASSERT(!(t[n].flags & (VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_INDIRECT)),
				            "packed indirect entry flags 0x%x", (unsigned)t[n].flags);
				piece[n].addr = t[n].addr;
				piece[n].len = t[n].len;
			}
		}
		ft->tx_indirect++;
	} else {
		piece[0].addr = d->addr;
		piece[0].len = d->len;
		n = 1;
	}
	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(dma_ok(ft, piece[i].addr, piece[i].len), "TX piece %u of %u outside DMA memory",
		            (unsigned)i, (unsigned)n);
		if (ft->tap && total + piece[i].len <= sizeof(scratch))
			memcpy(scratch + total, (const void *)(uintptr_t)piece[i].addr, piece[i].len);
		total += piece[i].len;
	}
	FUZZ_ASSERT(total >= hl, "TX frame of %u bytes, no room for the header", (unsigned)total);
	ft->tx_frames++;
	if (ft->tap && total <= sizeof(scratch))
		ft->tap(ft, scratch, scratch + hl, total - hl);
}

void ft_tx_complete(struct ftrans *ft, uint16_t qi, uint32_t sel)
{
	struct ft_queue *q = &ft->q[qi];
	uint32_t n, i, at;

	if (qi >= FT_NQ || !q->size || q->rx || q->ctrl)
		return;
	ft_sync(ft, qi);
	if (!q->npend)
		return;
	if (q->in_order) {
		/* a batch: one used entry, the last buffer's id, index moves by all */
		n = 1u + sel % q->npend;
		for (i = 0; i < n; i++)
			tx_read(ft, q, &q->pend[i]);
		used_put(ft, q, q->pend[n - 1].id, 0, true);
		q->used_idx = (uint16_t)(q->used_idx + n - 1);
		pend_remove(q, 0, n);
		return;
	}
	at = sel % q->npend;
	tx_read(ft, q, &q->pend[at]);
	used_put(ft, q, q->pend[at].id, 0, true);
	pend_remove(q, at, 1);
}

void ft_raw_used(struct ftrans *ft, uint16_t qi, uint32_t id, uint32_t len, uint16_t flags)
{
	struct ft_queue *q = &ft->q[qi];
	uint32_t i;

	if (qi >= FT_NQ || !q->size || q->ctrl)
		return;
	ft_sync(ft, qi);
	for (i = 0; id < q->size && q->inpend[id] && i < q->npend; i++) {
		if (q->pend[i].id == id) {
			pend_remove(q, i, 1);
			break;
		}
	}

	if (!q->packed) {
		used_put(ft, q, id, len, true);
	} else {
		uint32_t slot = q->used_idx & (q->size - 1u);
		struct pvirtq_desc *d = &q->pdesc[slot];
		uint16_t au = flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);

		d->id = (uint16_t)id;
		d->len = len;
		vnet_wmb();
		vnet_store16(&d->flags, flags);
		mark_visible(ft, q, (uint16_t)id); /* the id as the descriptor holds it */
		/* a used descriptor of either lap never reads as available */
		q->pk_dirty[slot] = au != 0 && au != (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);
		q->pk_wrote[slot] = *d;
		q->used_idx++;
	}
}

void ft_publish_idx(struct ftrans *ft, uint16_t qi, uint16_t idx)
{
	struct ft_queue *q = &ft->q[qi];
	uint16_t i, n;

	if (qi >= FT_NQ || !q->size || q->packed)
		return;
	/* the entries up to @idx are the driver's to read now (all of the
	 * ring, for an index that jumps) */
	n = (uint16_t)(idx - q->pub) < q->size ? (uint16_t)(idx - q->pub) : q->size;
	for (i = 0; i < n; i++)
		mark_visible(ft, q, q->used->ring[(uint16_t)(q->pub + i) & (q->size - 1)].id);
	q->pub = idx;
	vnet_wmb();
	vnet_store16(&q->used->idx, idx);
}

void ft_publish(struct ftrans *ft, uint16_t qi)
{
	ft_publish_idx(ft, qi, ft->q[qi].used_idx);
}

/* -------------------------------------------------- control queue -- */

/* One command: @h the request, @a the ack descriptor (the split layout's,
 * packed ones converted), @head the chain's id. false: left unanswered. */
static bool ctrl_answer(struct ftrans *ft, struct ft_queue *q, const struct vring_desc *h,
                        const struct vring_desc *a, uint16_t head)
{
	const uint8_t *req;
	uint8_t r, ack = VIRTIO_NET_OK;
	uint32_t len = 1, id = head;
	bool proper = true; /* one entry, its id: the driver takes the ack */

	FUZZ_ASSERT((a->flags & VRING_DESC_F_WRITE) && !(a->flags & VRING_DESC_F_NEXT) && a->len >= 1,
	            "control: ack descriptor flags 0x%x len %u", (unsigned)a->flags, (unsigned)a->len);
	FUZZ_ASSERT(h->len >= 2 && dma_ok(ft, h->addr, h->len) && dma_ok(ft, a->addr, 1),
	            "control: request of %u bytes, or outside DMA memory", (unsigned)h->len);
	req = (const uint8_t *)(uintptr_t)h->addr;
	ft->ctrl_cmds++;
	r = ft->ctl ? fin_u8(ft->ctl) : 0;
	/* packed: a repeated entry or a jumping index is a wrong id here */
	if (q->packed && (r & 7) == 7 && ((r >> 3) & 1))
		r = (uint8_t)(r & ~(3u << 3));
	switch (r & 7) {
	case 4:
		ack = VIRTIO_NET_ERR;
		break;
	case 5:
		ack = fin_u8(ft->ctl);
		break;
	case 6:
		len = fin_u32(ft->ctl);
		break;
	case 7:
		switch ((r >> 3) & 3) {
		case 0:
			id = fin_u8(ft->ctl);
			proper = id == head;
			break;
		case 1:
			*(volatile uint8_t *)(uintptr_t)a->addr = ack;
			used_put(ft, q, id, len, true);
			proper = false;
			break;
		case 2:
			/* no answer: the driver gives up (virtual clock) */
			fuzz_clock_step = 2000000;
			return false;
		case 3: {
			uint8_t jump = fin_u8(ft->ctl);
			q->used_idx = (uint16_t)(q->used_idx + jump);
			proper = jump == 0;
			break;
		}
		}
		break;
	default:
		break;
	}
	if (proper && ack == VIRTIO_NET_OK && req[0] == VIRTIO_NET_CTRL_MQ && h->len >= 4)
		ft->active_pairs = (uint16_t)(req[2] | req[3] << 8);
	*(volatile uint8_t *)(uintptr_t)a->addr = ack;
	used_put(ft, q, id, len, true);
	if (q->packed)
		q->used_idx++; /* the device goes on past the whole chain (spec 2.8.4) */
	ft->ctrl_answers++;
	return true;
}

/* The next chain on a packed control queue (spec 2.8.6: the request, NEXT,
 * then the ack descriptor with the buffer id), as split descriptors.
 * false: none available. */
static bool ctrl_next_packed(struct ft_queue *q, struct vring_desc *h, struct vring_desc *a, uint16_t *id)
{
	const volatile struct pvirtq_desc *ph = &q->pdesc[q->last_avail & (q->size - 1)];
	const volatile struct pvirtq_desc *pa = &q->pdesc[(q->last_avail + 1) & (q->size - 1)];
	uint16_t mask = VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
	uint16_t want = (q->last_avail & q->size) ? VIRTQ_DESC_F_USED : VIRTQ_DESC_F_AVAIL;
	uint16_t fh = vnet_load16(&ph->flags), fa;

	if ((fh & mask) != want)
		return false;
	vnet_rmb();
	fa = pa->flags;
	FUZZ_ASSERT((fh & VIRTQ_DESC_F_NEXT) && !(fh & VIRTQ_DESC_F_WRITE),
	            "control: packed head flags 0x%x", (unsigned)fh);
	FUZZ_ASSERT((fa & mask) == (((q->last_avail + 1) & q->size) ? VIRTQ_DESC_F_USED : VIRTQ_DESC_F_AVAIL),
	            "control: packed ack flags 0x%x not available with the head", (unsigned)fa);
	h->addr = ph->addr;
	h->len = ph->len;
	h->flags = VRING_DESC_F_NEXT;
	a->addr = pa->addr;
	a->len = pa->len;
	a->flags = (uint16_t)(fa & (VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT));
	*id = pa->id;
	q->last_avail = (uint16_t)(q->last_avail + 2);
	return true;
}

/*
 * The commands waiting on the control queue, answered at once (the
 * driver waits for each). The reply is the fuzzer's: bits 0-2 of a byte
 * say OK (0-3), ERR (4), any ack byte (5), OK with any used length (6), or
 * (7) a misbehaving device, by bits 3-4: a wrong id, the entry written
 * twice, no answer at all (the driver's wait then times out on the
 * virtual clock), or a used index that jumps (packed: the last two are a
 * wrong id too).
 */
static void ctrl_serve(struct ftrans *ft, struct ft_queue *q)
{
	struct vring_desc ph, pa;
	uint16_t pid;

	while (q->packed && ctrl_next_packed(q, &ph, &pa, &pid))
		if (!ctrl_answer(ft, q, &ph, &pa, pid))
			return;
	while (!q->packed && q->last_avail != vnet_load16(&q->avail->idx)) {
		uint16_t head = q->avail->ring[q->last_avail & (q->size - 1)];
		const struct vring_desc *h;

		q->last_avail++;
		FUZZ_ASSERT(head < q->size, "control: id %u on a ring of %u", (unsigned)head, (unsigned)q->size);
		h = &q->desc[head];
		FUZZ_ASSERT((h->flags & VRING_DESC_F_NEXT) && !(h->flags & VRING_DESC_F_WRITE) && h->next < q->size,
		            "control: head flags 0x%x next %u", (unsigned)h->flags, (unsigned)h->next);
		if (!ctrl_answer(ft, q, h, &q->desc[h->next], head))
			return;
		vnet_wmb();
		vnet_store16(&q->used->idx, q->used_idx);
	}
}

static void ft_notify(struct vnet_transport *t, uint16_t qi)
{
	struct ftrans *ft = ft_of(t);

	ft->notifies++;
	if (qi < FT_NQ && ft->q[qi].ctrl && ft->q[qi].size)
		ctrl_serve(ft, &ft->q[qi]);
}

static void ft_close(struct vnet_transport *t)
{
	(void)t;
}

static const struct vnet_transport_ops ft_ops = {
	.name = "fuzz",
	.reset = ft_reset,
	.get_status = ft_get_status,
	.set_status = ft_set_status,
	.get_features = ft_get_features,
	.set_features = ft_set_features,
	.config_generation = ft_config_generation,
	.read_config = ft_read_config,
	.queue_max = ft_queue_max,
	.queue_setup = ft_queue_setup,
	.notify = ft_notify,
	.close = ft_close,
};

void ft_init(struct ftrans *ft, uint16_t qmax)
{
	unsigned i;

	memset(ft, 0, offsetof(struct ftrans, q));
	for (i = 0; i < FT_NQ; i++)
		ft_queue_clear(&ft->q[i]);
	ft->t.ops = &ft_ops;
	ft->offer = VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_MTU | VNET_F_STATUS | VNET_F_EVENT_IDX;
	ft->cfg[0] = 0x52;
	ft->cfg[1] = 0x54;
	ft->cfg[5] = 1;
	ft->cfg[VIRTIO_NET_CFG_STATUS] = VIRTIO_NET_S_LINK_UP;
	ft->cfg[VIRTIO_NET_CFG_MAX_PAIRS] = 1;
	ft->cfg[VIRTIO_NET_CFG_MTU] = 1500 & 0xff;
	ft->cfg[VIRTIO_NET_CFG_MTU + 1] = 1500 >> 8;
	for (i = 0; i < FT_NQ; i++)
		ft->qmax[i] = qmax;
	ft->hdr_len = sizeof(struct virtio_net_hdr);
	ft->active_pairs = 1;
	ft->last_setup = FT_NQ;
	ft->dma_stale = true;
	ft_current = ft;
}

/* ---------------------------------------------- the delivery check -- */

/* A buffer the driver posts (again) is not completed until a used entry
 * naming it becomes visible: every RX refill (the target's, the glue's,
 * the driver's own at start and recover) goes through here
 * (-Wl,--wrap=vnet_rx_refill), which clears the mark of what it posted. */
uint16_t __real_vnet_rx_refill(struct vnet_dev *d, uint16_t q);
uint16_t __wrap_vnet_rx_refill(struct vnet_dev *d, uint16_t q);

FUZZ_NOCOV uint16_t __wrap_vnet_rx_refill(struct vnet_dev *d, uint16_t q)
{
	static const struct vnet_buf *before[FT_QSIZE_MAX];
	struct ftrans *ft = ft_current;
	const struct vnet_vq *vq;
	uint16_t k, i;

	if (!ft || d->t != &ft->t || !d->rxq || q >= d->npairs || !d->rxq[q].cookie || d->rxq[q].size > FT_QSIZE_MAX)
		return __real_vnet_rx_refill(d, q);
	vq = &d->rxq[q];
	memcpy(before, vq->cookie, vq->size * sizeof(before[0]));
	k = __real_vnet_rx_refill(d, q);
	for (i = 0; i < vq->size; i++)
		if (vq->cookie[i] && vq->cookie[i] != before[i])
			mark_done(ft, vq->cookie[i]->iova + vq->buf_off, false);
	return k;
}

/* Every frame the driver hands up (from the target or the lwIP glue)
 * must consist of buffers the device completed since they were last made
 * available: a buffer handed up without that is a stale or made-up
 * completion the driver believed. */
uint16_t __real_vnet_rx_burst(struct vnet_dev *d, uint16_t q, struct vnet_buf **bufs, uint16_t n);
uint16_t __wrap_vnet_rx_burst(struct vnet_dev *d, uint16_t q, struct vnet_buf **bufs, uint16_t n);

FUZZ_NOCOV uint16_t __wrap_vnet_rx_burst(struct vnet_dev *d, uint16_t q, struct vnet_buf **bufs, uint16_t n)
{
	uint16_t k = __real_vnet_rx_burst(d, q, bufs, n), i;
	struct ftrans *ft = ft_current;

	if (!ft || d->t != &ft->t)
		return k;
	for (i = 0; i < k; i++) {
		struct vnet_buf *s = bufs[i];
		uint32_t segs = s->nb_segs > 1 ? s->nb_segs : 1u, j;

		for (j = 0; j < segs && s; j++, s = s->next) {
			uint32_t bit = s->idx;

			if (s->pool != ft->pool)
				continue;
			FUZZ_ASSERT(ft->done[bit / 8] & (1u << (bit % 8)),
			            "RX buffer %u handed up (segment %u of %u), the device never completed it",
			            (unsigned)bit, (unsigned)j, (unsigned)segs);
			ft->done[bit / 8] &= (uint8_t)~(1u << (bit % 8));
		}
		ft->delivered++;
	}
	return k;
}
