/* SPDX-License-Identifier: BSD-3-Clause */
/* The fuzz transport (fuzz_transport.h). */
#include <errno.h>
#include <string.h>

#include "fuzz_transport.h"

static struct ftrans *ft_of(struct vnet_transport *t)
{
	return (struct ftrans *)(void *)t;
}

/* One script byte, or 0 (behave) without a script. */
static uint8_t script(struct ftrans *ft)
{
	return ft->in ? fin_u8(ft->in) : 0;
}

static void dev_reset(struct ftrans *ft)
{
	ft->status = 0;
	ft->drv_features = 0;
	memset(ft->q, 0, sizeof(ft->q));
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

	return q < 2 ? ft->qmax[q] : 0;
}

/* Script: setup may be refused. */
static int ft_queue_setup(struct vnet_transport *t, uint16_t qi, uint16_t size,
                          const struct vnet_vq_addrs *a)
{
	struct ftrans *ft = ft_of(t);
	struct ft_queue *q;

	if ((script(ft) & 0x3f) == 0x3f)
		return -EIO;
	FUZZ_ASSERT(qi < 2, "queue_setup on queue %u", (unsigned)qi);
	FUZZ_ASSERT(size && !(size & (size - 1)) && size <= ft->qmax[qi],
	            "queue %u: size %u (max %u)", (unsigned)qi, (unsigned)size, (unsigned)ft->qmax[qi]);
	FUZZ_ASSERT(ft->status & VIRTIO_STATUS_FEATURES_OK, "queue setup before FEATURES_OK");
	FUZZ_ASSERT(!(ft->status & VIRTIO_STATUS_DRIVER_OK), "queue setup after DRIVER_OK");
	q = &ft->q[qi];
	memset(q, 0, sizeof(*q));
	q->size = size;
	q->desc = (struct vring_desc *)(uintptr_t)a->desc;
	q->avail = (struct vring_avail *)(uintptr_t)a->avail;
	q->used = (struct vring_used *)(uintptr_t)a->used;
	q->packed = (ft->drv_features & VNET_F_RING_PACKED) != 0;
	return 0;
}

static void ft_notify(struct vnet_transport *t, uint16_t q)
{
	(void)q;
	ft_of(t)->notifies++;
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
	memset(ft, 0, sizeof(*ft));
	ft->t.ops = &ft_ops;
	ft->offer = VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_MTU | VNET_F_STATUS | VNET_F_EVENT_IDX;
	ft->cfg[0] = 0x52;
	ft->cfg[1] = 0x54;
	ft->cfg[5] = 1;
	ft->cfg[VIRTIO_NET_CFG_STATUS] = VIRTIO_NET_S_LINK_UP;
	ft->cfg[VIRTIO_NET_CFG_MAX_PAIRS] = 1;
	ft->cfg[VIRTIO_NET_CFG_MTU] = 1500 & 0xff;
	ft->cfg[VIRTIO_NET_CFG_MTU + 1] = 1500 >> 8;
	ft->qmax[0] = ft->qmax[1] = qmax;
}

/* ------------------------------------------------------------ rings -- */

static int ft_next_avail(struct ft_queue *q, uint16_t *head)
{
	if (!q->size || q->packed || q->last_avail == q->avail->idx)
		return 0;
	*head = q->avail->ring[q->last_avail & (q->size - 1)];
	q->last_avail++;
	FUZZ_ASSERT(*head < q->size, "driver put id %u on a ring of %u", (unsigned)*head,
	            (unsigned)q->size);
	return 1;
}

static void ft_used(struct ft_queue *q, uint32_t id, uint32_t len)
{
	q->used->ring[q->used_idx & (q->size - 1)].id = id;
	q->used->ring[q->used_idx & (q->size - 1)].len = len;
	q->used_idx++;
}

void ft_rx_complete(struct ft_queue *q, struct fin *in)
{
	struct vring_desc *d;
	uint16_t head;
	uint32_t len;
	uint8_t how;

	if (!ft_next_avail(q, &head))
		return;
	d = &q->desc[head];
	FUZZ_ASSERT(d->flags & VRING_DESC_F_WRITE, "RX descriptor %u not device-writable", (unsigned)head);
	how = fin_u8(in);
	len = fin_u16(in);
	if (how & 1) {
		/* well formed: a header, then data filling at most the buffer */
		uint8_t *p = (uint8_t *)(uintptr_t)d->addr;
		uint32_t room = d->len > 12 ? d->len - 12 : 0;
		uint32_t flen = room ? len % (room + 1) : 0;

		memset(p, 0, 12);
		p[0] = fin_u8(in); /* flags: DATA_VALID, NEEDS_CSUM or garbage */
		p[10] = (how & 4) ? fin_u8(in) : 1; /* num_buffers (MRG_RXBUF) */
		memset(p + 12, 0xa5, flen);
		len = 12 + flen;
	} else if (how & 2) {
		len = fin_u32(in); /* anything at all */
	}
	ft_used(q, head, len);
}

void ft_tx_complete(struct ft_queue *q)
{
	uint16_t head;

	if (!ft_next_avail(q, &head))
		return;
	FUZZ_ASSERT(!(q->desc[head].flags & VRING_DESC_F_WRITE), "TX descriptor %u writable", (unsigned)head);
	ft_used(q, head, 0);
}

void ft_publish(struct ft_queue *q)
{
	if (q->size && !q->packed)
		q->used->idx = q->used_idx;
}
