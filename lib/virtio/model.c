/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The in-process virtio-net device model: the DEVICE side of a split
 * virtqueue (virtio 1.2 spec 2.7) and of the network device (spec 5.1),
 * written from the spec. The driver reaches it only through the transport
 * ops at the end of this file and through ring memory, exactly as it would
 * reach a real device. Single-threaded: the device works only inside
 * vnet_model_poll(); notifications are counted, not acted on.
 *
 * Queue 0 is receiveq1, queue 1 is transmitq1 (spec 5.1.2).
 *
 * Choices worth knowing (the lead's driver tests rely on them):
 *  - No frame FIFO. A TX frame is delivered to its destination's RX ring in
 *    the same poll or dropped: no buffer posted (or the frame does not fit
 *    the next one) -> dropped and counted in the RECEIVING model's
 *    rx_no_buffer; the TX buffer is completed regardless. Back-pressure
 *    comes only from rx_budget/latency, which leave TX chains in the TX
 *    ring (unread) until a later poll.
 *  - An RX buffer that is too small is left posted (not consumed).
 *  - Every TX frame that parses is counted (tx_frames/tx_bytes) and shown
 *    to the tap, whatever the backend and link state. Link down (on the
 *    sender or, for WIRE, on either side) then drops it silently.
 *  - A TX chain is read when it is processed, i.e. `latency` polls after
 *    the device first saw it: a driver that rewrites a buffer in flight
 *    sees its new content (or garbage) arrive.
 *  - Used entries of one poll are published with one used->idx store per
 *    queue. For WIRE, a's poll writes into b's RX ring and publishes it at
 *    the end of a's poll, using b's fault state and counters.
 *  - Bad driver input (spec 2.7.5 descriptor rules) is counted in
 *    bad_desc and the chain completed with len 0; an avail index that
 *    moves backwards or more than a ring's worth ahead is a device error:
 *    bad_desc++ and DEVICE_NEEDS_RESET (spec 2.1.2), as QEMU does.
 *  - Indirect descriptors are not implemented (INDIRECT_DESC cannot be
 *    offered; a descriptor with the INDIRECT flag is bad).
 *  - A TX frame (chain minus the header) must be 14 .. mtu + 18 bytes, else
 *    it is bad. TX used len is 0 (the device writes nothing there).
 *  - vnet_model_poll() returns TX chains consumed (bad ones included) plus
 *    frames SOURCE generated; 0 means the device found nothing to do.
 *  - Reset keeps armed faults, counters, link state and the SOURCE sequence.
 *
 * Faults (vnet_model_fault(m, f, n): the next n times it can take effect;
 * each one that does counts in faults_fired). A fault belongs to the model
 * whose ring or register it touches: for WIRE, arm RX faults on the
 * receiving model.
 *  USED_ID_RANGE   used ring, one EXTRA entry {id = size, len 0} right
 *                  before the next genuine completion (any queue).
 *  USED_ID_IDLE    used ring, one EXTRA entry {id = lowest descriptor id not
 *                  in flight, len 0} right before the next genuine one.
 *  USED_DUP        used ring, the next genuine entry written twice in a row.
 *                  (These three wait until the extra fits: extra_room().)
 *  USED_LEN        used ring, next RX completion: the genuine buffer with
 *                  len = its chain's total length + 1; data written right.
 *  USED_IDX_JUMP   used->idx, next store that publishes new entries: true
 *                  idx + size + 7; the next store on that queue is true.
 *  CONFIG_CHURN    config space: each of the next n read_config calls bumps
 *                  the generation and sees LINK_UP flipped.
 *  REFUSE_FEATURES status: the next n FEATURES_OK writes do not stick.
 *  NEEDS_RESET     status: next poll of a live device sets
 *                  DEVICE_NEEDS_RESET; no ring is touched until reset.
 *  RESET_STUCK     status: the next n writes of 0 are ignored, status reads
 *                  old | DEVICE_NEEDS_RESET; the reset op gives -ETIMEDOUT.
 *  BAD_CSUM        RX data: the next n frames delivered get one byte flipped
 *                  (last byte of the IPv4 datagram, else of the frame).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vnet/model.h"
#include "vnet/vnet.h"
#include "platform/platform.h"
#include "virtio/transport.h"
#include "virtio/virtio_spec.h"

#define RXQ 0
#define TXQ 1
#define NQ 2

#define ETH_HLEN 14
#define ETH_ALEN 6
#define VLAN_HLEN 4
#define MODEL_RESET_POLLS 64

/* Defaults (model.h) */
#define DEF_FEATURES (VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_MTU | VNET_F_STATUS | VNET_F_EVENT_IDX)
#define DEF_MTU 1500
#define DEF_QUEUE_MAX 1024
#define DEF_SOURCE_LEN 64
#define MAX_QUEUE_SIZE 32768 /* spec 2.7 */

/* Features the model can honour if the driver accepts them (spec 2.2.1:
 * a device must not offer what it would not support). The GUEST_* bits
 * only allow the device to do something it never does. */
#define SUPPORTED_FEATURES                                                     \
	(VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_MTU | VNET_F_STATUS |          \
	 VNET_F_EVENT_IDX | VNET_F_MRG_RXBUF | VNET_F_SPEED_DUPLEX |           \
	 VNET_F_GUEST_CSUM | VNET_F_GUEST_TSO4 | VNET_F_GUEST_TSO6)

/* Config image (spec 5.1.4): mac, status, max_virtqueue_pairs, mtu,
 * speed, duplex; little-endian multi-byte fields (spec 2.5). */
#define CFG_SIZE 20

struct seg {
	uint8_t *p;
	uint32_t len;
};

/* One split virtqueue, device side. */
struct mq {
	uint16_t size;          /* 0: not set up */
	uint16_t mask;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail;    /* next avail entry the device consumes */
	uint16_t seen;          /* avail->idx as last read */
	uint16_t used_idx;      /* next used slot, free-running */
	uint16_t published;     /* used->idx as last stored (true value) */
	bool republish;         /* a USED_IDX_JUMP lie needs correcting */
	uint32_t poll_left;     /* genuine completions this poll may still write */
};

struct vnet_model {
	struct vnet_transport transport; /* first: the transport ops cast back */
	struct vnet_model_conf conf;     /* defaults applied */
	uint8_t status;
	uint64_t drv_features;
	uint32_t generation;
	bool link_up;
	bool announce;
	bool peer_rx_fresh;              /* peer's RX avail idx read this poll */
	struct mq q[NQ];
	uint32_t poll_no;
	uint64_t source_seq;
	struct vnet_model *peer;
	uint32_t fault[VNET_FAULT__COUNT];
	vnet_model_gen_fn gen;
	void *gen_arg;
	vnet_model_tap_fn tap;
	void *tap_arg;
	struct vnet_model_stats st;
	/* Allocated at create time; nothing is allocated after. */
	uint8_t *frame;                  /* one frame being moved */
	uint32_t frame_max;
	struct seg *segs;                /* one chain, queue_max entries */
	uint8_t *mark;                   /* USED_ID_IDLE: queue_max flags */
	uint32_t *due;                   /* TX latency: poll due, per avail slot */
	uint32_t tx_quota;               /* TX chains this poll may consume */
};

static struct vnet_model *tm(struct vnet_transport *t)
{
	return (struct vnet_model *)(void *)t;
}

static bool is_live(const struct vnet_model *m)
{
	return (m->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(m->status & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED));
}

/* Spec 5.1.6: 12 bytes with VERSION_1 or MRG_RXBUF, 10 otherwise. */
static uint32_t hdr_len(const struct vnet_model *m)
{
	return (m->drv_features & (VNET_F_VERSION_1 | VNET_F_MRG_RXBUF)) ? 12 : 10;
}

static bool fault_take(struct vnet_model *m, enum vnet_model_fault f)
{
	if (!m->fault[f])
		return false;
	m->fault[f]--;
	m->st.faults_fired++;
	return true;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static uint32_t budget(const struct vnet_model *m)
{
	return m->conf.rx_budget ? m->conf.rx_budget : UINT32_MAX;
}

/* The device met driver input it cannot make sense of (spec 2.1.2). */
static void device_error(struct vnet_model *m)
{
	m->st.bad_desc++;
	m->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
}

static void *iova_ptr(uint64_t iova)
{
#if UINTPTR_MAX < UINT64_MAX
	if (iova > UINTPTR_MAX)
		return NULL;
#endif
	return (void *)(uintptr_t)iova; /* Linux and bare metal: iova == VA */
}

/* ------------------------------------------------------------ rings -- */

/* The le16 after used->ring[size] (spec 2.7.8), addressed by bytes: it is
 * not part of any used element. */
static volatile uint16_t *avail_event(const struct mq *q)
{
	return (volatile uint16_t *)(void *)((uint8_t *)q->used + offsetof(struct vring_used, ring) +
	                                     sizeof(struct vring_used_elem) * q->size);
}

/*
 * Available buffer notification suppression (spec 2.7.10).
 *
 * Default (want_notify false):
 *  - without EVENT_IDX: used->flags = NO_NOTIFY.
 *  - with EVENT_IDX (flags MUST be 0): avail_event = last_avail + size.
 *    The driver kicks when the avail idx it publishes crosses avail_event,
 *    i.e. when it writes the entry numbered avail_event. It can have at
 *    most `size` entries not yet consumed, so entries up to
 *    last_avail + size - 1 only; entry last_avail + size needs the device
 *    to consume one more first, and the device moves avail_event in the
 *    same poll. So vring_need_event() is false for every window
 *    [old, new) with last_avail <= old <= new <= last_avail + size, whether
 *    `old` is the idx at the last kick check (Linux) or at the last actual
 *    kick (true once per 65536 entries without any kick at all).
 *    (last_avail - 1 works for the former only: with `old` at the last
 *    actual kick the window soon contains it.)
 * want_notify: flags = 0, avail_event = the avail idx seen this poll, so
 *    the driver kicks at the first new buffer after each poll (event idx
 *    cannot ask for more than one kick per device update).
 * The driver's avail->flags and used_event are ignored: the model never
 * interrupts.
 */
static void suppress(const struct vnet_model *m, const struct mq *q)
{
	if (m->drv_features & VNET_F_EVENT_IDX) {
		vnet_store16(&q->used->flags, 0);
		vnet_store16(avail_event(q),
		             m->conf.want_notify ? q->seen : (uint16_t)(q->last_avail + q->size));
	} else {
		vnet_store16(&q->used->flags, m->conf.want_notify ? 0 : VRING_USED_F_NO_NOTIFY);
	}
}

/* Avail entries seen and not consumed. */
static uint32_t window(const struct mq *q)
{
	return q->size ? (uint16_t)(q->seen - q->last_avail) : 0;
}

/* Read avail->idx once (spec 2.7.13: the driver exposes entries by moving
 * it after a barrier; our rmb pairs with its wmb). A driver must never
 * move it back (2.7.6) nor more than a ring ahead of what the device
 * consumed. TX entries get the poll at which `latency` lets them go. */
static int refresh_avail(struct vnet_model *m, struct mq *q, bool tx)
{
	uint16_t idx = vnet_load16(&q->avail->idx);
	uint16_t ahead = (uint16_t)(idx - q->last_avail);
	uint16_t fresh = (uint16_t)(idx - q->seen);

	vnet_rmb();
	if (ahead > q->size || fresh > ahead) {
		device_error(m);
		return -EIO;
	}
	if (tx && m->conf.latency) {
		for (uint16_t i = 0; i < fresh; i++)
			m->due[(uint16_t)(q->seen + i) & q->mask] = m->poll_no + m->conf.latency;
	}
	q->seen = idx;
	return 0;
}

/* Walk the chain at @head (spec 2.7.5) into m->segs: every descriptor must
 * be device-writable (RX) or device-readable (TX), have an address, no
 * INDIRECT flag, and a next within the ring; at most `size` of them, which
 * is what catches loops. @return total bytes, or -1 if the chain is bad. */
static int64_t chain_parse(struct vnet_model *m, const struct mq *q, uint32_t head,
                           bool writable, uint32_t *nseg)
{
	uint64_t total = 0;
	uint32_t id = head;

	for (uint32_t n = 0; n < q->size; n++) {
		const volatile struct vring_desc *d;
		uint64_t addr;
		uint32_t len;
		uint16_t flags, next;

		if (id >= q->size)
			return -1;
		d = &q->desc[id];
		addr = d->addr;
		len = d->len;
		flags = d->flags;
		next = d->next;
		if (flags & VRING_DESC_F_INDIRECT)
			return -1;
		if (!!(flags & VRING_DESC_F_WRITE) != writable)
			return -1;
		m->segs[n].p = iova_ptr(addr);
		m->segs[n].len = len;
		if (!m->segs[n].p)
			return -1;
		total += len;
		if (!(flags & VRING_DESC_F_NEXT)) {
			*nseg = n + 1;
			return (int64_t)total;
		}
		id = next;
	}
	return -1; /* longer than the ring: a loop */
}

static void segs_read(const struct seg *s, uint32_t n, uint64_t off, uint8_t *dst, uint32_t len)
{
	for (uint32_t i = 0; i < n && len; i++) {
		uint32_t c;

		if (off >= s[i].len) {
			off -= s[i].len;
			continue;
		}
		c = s[i].len - (uint32_t)off;
		if (c > len)
			c = len;
		memcpy(dst, s[i].p + off, c);
		dst += c;
		len -= c;
		off = 0;
	}
}

static void segs_write(const struct seg *s, uint32_t n, uint64_t off, const uint8_t *src,
                       uint32_t len)
{
	for (uint32_t i = 0; i < n && len; i++) {
		uint32_t c;

		if (off >= s[i].len) {
			off -= s[i].len;
			continue;
		}
		c = s[i].len - (uint32_t)off;
		if (c > len)
			c = len;
		memcpy(s[i].p + off, src, c);
		src += c;
		len -= c;
		off = 0;
	}
}

/* ---------------------------------------------------- completions -- */

static void used_write(struct mq *q, uint32_t id, uint32_t len)
{
	volatile struct vring_used_elem *e = &q->used->ring[q->used_idx & q->mask];

	e->id = id;
	e->len = len;
	q->used_idx++;
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
 * A descriptor id in range that the driver cannot consider in flight: not
 * in any chain of an avail entry the device has not consumed, not the
 * chain being completed, and not named by any entry still in the used ring
 * (completed but maybe not yet harvested). Over-marking is safe; only on
 * this fault path does the model scan the ring. @return id or -1.
 */
static int32_t idle_id(struct vnet_model *m, const struct mq *q, uint32_t genuine_id)
{
	uint8_t *mark = m->mark;

	memset(mark, 0, q->size);
	mark_chain(q, mark, genuine_id);
	for (uint16_t p = q->last_avail; p != q->seen; p++)
		mark_chain(q, mark, q->avail->ring[p & q->mask]);
	for (uint32_t i = 0; i < q->size; i++)
		mark_chain(q, mark, q->used->ring[i].id);
	for (uint32_t i = 0; i < q->size; i++)
		if (!mark[i])
			return (int32_t)i;
	return -1;
}

/*
 * Write the genuine completion of chain @id with @len, plus the extra
 * entries of the armed USED_* faults. Extras are written only when the used
 * ring has room for them (extra_room; else the fault stays armed for a
 * later completion), so a correct driver drops them and loses nothing:
 *  USED_ID_RANGE  extra {id = size, len 0} just BEFORE the genuine entry
 *                 (the smallest out-of-range id; the driver must skip it
 *                 and go on to the genuine one).
 *  USED_ID_IDLE   extra {id = lowest id not in flight (idle_id), len 0}
 *                 just BEFORE the genuine entry.
 *  USED_DUP       the genuine entry written again right AFTER itself.
 * Each applies to the next completion the model writes, on whichever queue
 * that is (TX completions are written before the frame's RX delivery; use
 * SINK to aim at TX, SOURCE to aim at RX). The extra and its genuine entry
 * are published by the same used->idx store. Caveat for DUP and IDLE: a
 * driver that reads the genuine entry, re-posts that descriptor (or the
 * idle one) and only then reads the extra cannot tell it from a real
 * completion; harvesting up to the used idx it read before re-posting
 * avoids that.
 */
static void complete(struct vnet_model *m, struct mq *q, uint32_t id, uint32_t len)
{
	uint32_t upcoming = q->poll_left ? q->poll_left : 1; /* this one included */

	if (m->fault[VNET_FAULT_USED_ID_RANGE] && extra_room(q, upcoming)) {
		fault_take(m, VNET_FAULT_USED_ID_RANGE);
		used_write(q, q->size, 0);
	}
	if (m->fault[VNET_FAULT_USED_ID_IDLE] && extra_room(q, upcoming)) {
		int32_t idle = idle_id(m, q, id);

		if (idle >= 0) {
			fault_take(m, VNET_FAULT_USED_ID_IDLE);
			used_write(q, (uint32_t)idle, 0);
		}
	}
	used_write(q, id, len);
	q->poll_left = upcoming - 1;
	if (m->fault[VNET_FAULT_USED_DUP] && extra_room(q, q->poll_left)) {
		fault_take(m, VNET_FAULT_USED_DUP);
		used_write(q, id, len);
	}
}

/*
 * One used->idx store for everything written since the last one, after a
 * write barrier (spec 2.7.8: len and the buffer before idx).
 * USED_IDX_JUMP: the next store that publishes new entries stores
 * true idx + size + 7 instead (more entries than could be in flight, and
 * not a multiple of the size); the next publish of that queue (the next
 * poll that touches it) stores the true idx again, even with nothing new.
 * A driver that refuses the bad index and waits loses nothing.
 */
static void publish(struct vnet_model *m, struct mq *q)
{
	bool fresh = q->used_idx != q->published;
	uint16_t idx = q->used_idx;

	if (!fresh && !q->republish)
		return;
	q->republish = false;
	if (fresh && fault_take(m, VNET_FAULT_USED_IDX_JUMP)) {
		idx = (uint16_t)(idx + q->size + 7);
		q->republish = true;
	}
	vnet_wmb();
	vnet_store16(&q->used->idx, idx);
	q->published = q->used_idx;
}

/* --------------------------------------------------------- frames -- */

/*
 * BAD_CSUM: flip (xor 0xff) one byte covered by the L4 checksum but not by
 * the IP header: for IPv4, the last byte of the IP datagram (not Ethernet
 * padding); otherwise the frame's last byte. Any single-byte change breaks
 * a ones' complement sum.
 */
static void corrupt(uint8_t *f, uint32_t len)
{
	uint32_t off = len - 1;

	if (len >= ETH_HLEN + 20 && f[12] == 0x08 && f[13] == 0x00 && (f[14] >> 4) == 4) {
		uint32_t ihl = (uint32_t)(f[14] & 0xf) * 4;
		uint32_t tot = ((uint32_t)f[16] << 8) | f[17];

		if (tot > ihl && ETH_HLEN + tot <= len)
			off = ETH_HLEN + tot - 1;
	}
	f[off] ^= 0xff;
}

/*
 * Put @len bytes of src->frame into dst's receive queue (spec 5.1.6.3 -
 * 5.1.6.4): a zeroed virtio_net_hdr (flags 0, GSO_NONE; num_buffers = 1
 * when it is 12 bytes, since the model uses one buffer per packet) and the
 * frame. A bad chain is completed with len 0 and the next one tried; no
 * buffer, or one too small (left posted), drops the frame.
 * @return true if delivered.
 */
static bool deliver(struct vnet_model *src, struct vnet_model *dst, uint32_t len)
{
	struct mq *q = &dst->q[RXQ];
	uint8_t hdr[12] = {0};
	uint32_t hlen = hdr_len(dst);

	if (!is_live(dst) || !q->size) {
		dst->st.rx_no_buffer++;
		return false;
	}
	if (dst != src && !src->peer_rx_fresh) {
		src->peer_rx_fresh = true;
		if (refresh_avail(dst, q, false) < 0) {
			dst->st.rx_no_buffer++;
			return false;
		}
		q->poll_left = min_u32(window(q), src->tx_quota);
	}
	if (hlen == 12)
		hdr[10] = 1; /* num_buffers, le16 */
	for (uint32_t tries = 0; tries <= q->size; tries++) {
		uint16_t head;
		uint32_t nseg = 0, used_len;
		int64_t total;

		if (q->last_avail == q->seen)
			break;
		head = q->avail->ring[q->last_avail & q->mask];
		total = chain_parse(dst, q, head, true, &nseg);
		if (total < 0) {
			q->last_avail++;
			dst->st.bad_desc++;
			complete(dst, q, head, 0);
			continue;
		}
		if ((uint64_t)hlen + len > (uint64_t)total)
			break;
		q->last_avail++;
		if (fault_take(dst, VNET_FAULT_BAD_CSUM))
			corrupt(src->frame, len);
		segs_write(dst->segs, nseg, 0, hdr, hlen);
		segs_write(dst->segs, nseg, hlen, src->frame, len);
		used_len = hlen + len;
		/* USED_LEN: the genuine buffer, completed with a len one byte
		 * longer than its whole chain (the data written is right). */
		if (fault_take(dst, VNET_FAULT_USED_LEN))
			used_len = total >= UINT32_MAX ? UINT32_MAX : (uint32_t)total + 1;
		complete(dst, q, head, used_len);
		dst->st.rx_frames++;
		dst->st.rx_bytes += len;
		return true;
	}
	dst->st.rx_no_buffer++;
	return false;
}

/* Read the TX chain at @head into m->frame (spec 5.1.6.2): the header may
 * share a descriptor with the data or not. @return frame length or -1. */
static int64_t tx_gather(struct vnet_model *m, const struct mq *q, uint32_t head)
{
	uint32_t nseg = 0, hlen = hdr_len(m);
	int64_t total = chain_parse(m, q, head, false, &nseg);

	if (total < 0 || total < (int64_t)hlen + ETH_HLEN || total - hlen > m->frame_max)
		return -1;
	segs_read(m->segs, nseg, hlen, m->frame, (uint32_t)(total - hlen));
	return total - hlen;
}

static void route(struct vnet_model *m, uint32_t len)
{
	uint8_t tmp[ETH_ALEN];

	if (!m->link_up)
		return;
	switch (m->conf.backend) {
	case VNET_MODEL_REFLECTOR:
		memcpy(tmp, m->frame, ETH_ALEN);
		memcpy(m->frame, m->frame + ETH_ALEN, ETH_ALEN);
		memcpy(m->frame + ETH_ALEN, tmp, ETH_ALEN);
		deliver(m, m, len);
		break;
	case VNET_MODEL_LOOPBACK:
		deliver(m, m, len);
		break;
	case VNET_MODEL_WIRE:
		if (m->peer && m->peer->link_up)
			deliver(m, m->peer, len);
		break;
	case VNET_MODEL_SINK:
	case VNET_MODEL_SOURCE:
		break;
	}
}

static uint32_t tx_run(struct vnet_model *m)
{
	struct mq *q = &m->q[TXQ];
	uint32_t n;

	/* Bounded by the quota: the avail window (<= size) and the budget. */
	for (n = 0; n < m->tx_quota && q->last_avail != q->seen; n++) {
		uint16_t pos = q->last_avail;
		uint16_t head;
		int64_t len;

		if (m->conf.latency && (int32_t)(m->poll_no - m->due[pos & q->mask]) < 0)
			break;
		head = q->avail->ring[pos & q->mask];
		q->last_avail++;
		len = tx_gather(m, q, head);
		complete(m, q, head, 0); /* the device writes nothing into TX buffers */
		if (len < 0) {
			m->st.bad_desc++;
			continue;
		}
		m->st.tx_frames++;
		m->st.tx_bytes += (uint64_t)len;
		if (m->tap)
			m->tap(m->frame, (uint32_t)len, m->tap_arg);
		route(m, (uint32_t)len);
		if (!is_live(m))
			break;
	}
	return n;
}

static void source_default(struct vnet_model *m, uint8_t *f, uint32_t len, uint64_t seq)
{
	static const uint8_t src[ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x02};
	uint8_t head[ETH_HLEN + 8];
	uint32_t i;

	memcpy(head, m->conf.mac, ETH_ALEN);
	memcpy(head + ETH_ALEN, src, ETH_ALEN);
	head[12] = 0x88;
	head[13] = 0xb5; /* local experimental ethertype */
	for (i = 0; i < 8; i++)
		head[ETH_HLEN + i] = (uint8_t)(seq >> (8 * i));
	for (i = 0; i < len; i++)
		f[i] = i < sizeof(head) ? head[i] : (uint8_t)(seq + i);
}

static uint32_t source_run(struct vnet_model *m)
{
	struct mq *q = &m->q[RXQ];
	uint32_t n, quota, len = m->conf.source_len;

	if (!q->size || !m->link_up)
		return 0;
	quota = min_u32(window(q), budget(m));
	/* Filling a whole ring leaves no room for an extra used entry: with one
	 * armed, leave one buffer for the next poll so that it can fire. */
	if (quota == q->size && quota > 1 &&
	    (m->fault[VNET_FAULT_USED_ID_RANGE] || m->fault[VNET_FAULT_USED_ID_IDLE] ||
	     m->fault[VNET_FAULT_USED_DUP]))
		quota--;
	q->poll_left = quota;
	/* Each round consumes at least one avail entry or stops. */
	for (n = 0; n < quota && q->last_avail != q->seen; n++) {
		if (m->gen)
			m->gen(m->frame, len, m->source_seq, m->gen_arg);
		else
			source_default(m, m->frame, len, m->source_seq);
		if (!deliver(m, m, len))
			break;
		m->source_seq++;
	}
	return n;
}

/* -------------------------------------------------------- public -- */

uint32_t vnet_model_poll(struct vnet_model *m)
{
	uint32_t moved = 0;

	if (!m || !is_live(m))
		return 0;
	/* NEEDS_RESET: at the start of the next poll of a live device, set
	 * DEVICE_NEEDS_RESET (spec 2.1.2) and stop: no ring is touched until
	 * the driver resets the device. */
	if (fault_take(m, VNET_FAULT_NEEDS_RESET)) {
		m->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
		return 0;
	}
	m->poll_no++;
	m->peer_rx_fresh = false;
	for (int i = 0; i < NQ; i++) {
		m->q[i].poll_left = 0;
		if (m->q[i].size && refresh_avail(m, &m->q[i], i == TXQ) < 0)
			return 0;
	}
	/* Upper bounds of what this poll completes, for extra_room(). */
	m->tx_quota = m->q[TXQ].size ? min_u32(window(&m->q[TXQ]), budget(m)) : 0;
	m->q[TXQ].poll_left = m->tx_quota;
	if (m->conf.backend == VNET_MODEL_LOOPBACK || m->conf.backend == VNET_MODEL_REFLECTOR)
		m->q[RXQ].poll_left = min_u32(window(&m->q[RXQ]), m->tx_quota);
	if (m->tx_quota)
		moved += tx_run(m);
	if (m->conf.backend == VNET_MODEL_SOURCE && is_live(m))
		moved += source_run(m);
	for (int i = 0; i < NQ; i++) {
		if (!m->q[i].size)
			continue;
		publish(m, &m->q[i]);
		suppress(m, &m->q[i]);
	}
	if (m->peer_rx_fresh && m->peer && m->peer->q[RXQ].size)
		publish(m->peer, &m->peer->q[RXQ]);
	return moved;
}

void vnet_model_fault(struct vnet_model *m, enum vnet_model_fault f, uint32_t count)
{
	if (!m || f <= VNET_FAULT_NONE || f >= VNET_FAULT__COUNT)
		return;
	m->fault[f] = count;
}

void vnet_model_set_link(struct vnet_model *m, bool up)
{
	if (!m)
		return;
	m->link_up = up;
	m->generation++;
}

void vnet_model_announce(struct vnet_model *m)
{
	if (!m)
		return;
	m->announce = true; /* until reset: there is no control queue to ack it */
	m->generation++;
}

void vnet_model_stats(const struct vnet_model *m, struct vnet_model_stats *out)
{
	if (m && out)
		*out = m->st;
}

void vnet_model_set_generator(struct vnet_model *m, vnet_model_gen_fn fn, void *arg)
{
	if (!m)
		return;
	m->gen = fn;
	m->gen_arg = arg;
}

void vnet_model_set_tap(struct vnet_model *m, vnet_model_tap_fn fn, void *arg)
{
	if (!m)
		return;
	m->tap = fn;
	m->tap_arg = arg;
}

int vnet_model_wire(struct vnet_model *a, struct vnet_model *b)
{
	if (!a || !b || a == b || a->conf.backend != VNET_MODEL_WIRE ||
	    b->conf.backend != VNET_MODEL_WIRE)
		return -EINVAL;
	if ((a->peer && a->peer != b) || (b->peer && b->peer != a))
		return -EBUSY;
	a->peer = b;
	b->peer = a;
	return 0;
}

struct vnet_transport *vnet_model_transport(struct vnet_model *m)
{
	return m ? &m->transport : NULL;
}

/* ----------------------------------------------------- transport -- */

/* Device reset (spec 2.4): status, features and queues go; link state,
 * counters, armed faults and the SOURCE sequence stay (a fault armed before
 * vnet_dev_open() must survive the reset that open starts with).
 * RESET_STUCK: the write of 0 is ignored and the device is left in error:
 * status reads back as before | DEVICE_NEEDS_RESET, never 0, until a later
 * reset once the fault count is spent. */
static void dev_reset(struct vnet_model *m)
{
	if (fault_take(m, VNET_FAULT_RESET_STUCK)) {
		m->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
		return;
	}
	m->status = 0;
	m->drv_features = 0;
	m->announce = false;
	memset(m->q, 0, sizeof(m->q));
}

static uint8_t t_get_status(struct vnet_transport *t)
{
	return tm(t)->status;
}

/* Spec 2.1 / 3.1.1. Writing 0 resets. FEATURES_OK does not stick (reads
 * back clear) when the driver accepted a feature that was not offered
 * (spec 2.2.1), or once per REFUSE_FEATURES count. DEVICE_NEEDS_RESET is
 * the device's bit: the driver cannot clear it except by reset. */
static void t_set_status(struct vnet_transport *t, uint8_t v)
{
	struct vnet_model *m = tm(t);

	if (!v) {
		dev_reset(m);
		return;
	}
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(m->status & VIRTIO_STATUS_FEATURES_OK)) {
		if (m->drv_features & ~m->conf.features)
			v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		else if (fault_take(m, VNET_FAULT_REFUSE_FEATURES))
			v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	}
	m->status = (uint8_t)(v | (m->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
}

static int t_reset(struct vnet_transport *t)
{
	t_set_status(t, 0);
	for (int i = 0; i < MODEL_RESET_POLLS; i++)
		if (t_get_status(t) == 0)
			return 0;
	return -ETIMEDOUT;
}

static uint64_t t_get_features(struct vnet_transport *t)
{
	return tm(t)->conf.features;
}

/* Ignored once FEATURES_OK was accepted (spec 3.1.1: renegotiating needs a
 * reset). */
static void t_set_features(struct vnet_transport *t, uint64_t f)
{
	struct vnet_model *m = tm(t);

	if (!(m->status & VIRTIO_STATUS_FEATURES_OK))
		m->drv_features = f;
}

static uint32_t t_config_generation(struct vnet_transport *t)
{
	return tm(t)->generation;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/*
 * virtio_net_config (spec 5.1.4), little-endian. Bytes past the image read
 * as 0. CONFIG_CHURN: each of the next N read_config calls first bumps the
 * generation, and that one read sees status with LINK_UP flipped (a config
 * change racing the read). Only a driver that retries until the generation
 * is stable (spec 2.5.1) reads the true value; the true state never
 * changes, so N may be odd or even.
 */
static void t_read_config(struct vnet_transport *t, uint32_t off, void *buf, uint32_t len)
{
	struct vnet_model *m = tm(t);
	uint8_t img[CFG_SIZE] = {0};
	uint16_t status = (uint16_t)((m->link_up ? VIRTIO_NET_S_LINK_UP : 0) |
	                             (m->announce ? VIRTIO_NET_S_ANNOUNCE : 0));
	uint8_t *out = buf;

	if (fault_take(m, VNET_FAULT_CONFIG_CHURN)) {
		m->generation++;
		status ^= VIRTIO_NET_S_LINK_UP;
	}
	memcpy(img + VIRTIO_NET_CFG_MAC, m->conf.mac, ETH_ALEN);
	put16(img + VIRTIO_NET_CFG_STATUS, status);
	put16(img + VIRTIO_NET_CFG_MAX_PAIRS, 1);
	put16(img + VIRTIO_NET_CFG_MTU, m->conf.mtu);
	memset(img + VIRTIO_NET_CFG_SPEED, 0xff, 4); /* unknown speed */
	img[VIRTIO_NET_CFG_DUPLEX] = 0xff;           /* unknown duplex */
	for (uint32_t i = 0; out && i < len; i++)
		out[i] = (uint64_t)off + i < CFG_SIZE ? img[off + i] : 0;
}

static uint16_t t_queue_max(struct vnet_transport *t, uint16_t q)
{
	return q < NQ ? tm(t)->conf.queue_max : 0;
}

/*
 * Size a power of two <= queue_max, addresses non-zero and aligned (spec
 * 2.7 alignment table), and in the order of spec 3.1.1: after FEATURES_OK,
 * before DRIVER_OK. Else -EINVAL. Starts the queue at index 0 and writes
 * the notification suppression fields at once, so that the driver's first
 * RX refill need not kick.
 */
static int t_queue_setup(struct vnet_transport *t, uint16_t qi, uint16_t size,
                         const struct vnet_vq_addrs *a)
{
	struct vnet_model *m = tm(t);
	struct mq *q;

	if (qi >= NQ || !a || !size || (size & (size - 1)) || size > m->conf.queue_max)
		return -EINVAL;
	if (!a->desc || !a->avail || !a->used || (a->desc % VRING_DESC_ALIGN) ||
	    (a->avail % VRING_AVAIL_ALIGN) || (a->used % VRING_USED_ALIGN))
		return -EINVAL;
	if (!iova_ptr(a->desc) || !iova_ptr(a->avail) || !iova_ptr(a->used))
		return -EINVAL;
	if (!(m->status & VIRTIO_STATUS_FEATURES_OK) || (m->status & VIRTIO_STATUS_DRIVER_OK))
		return -EINVAL;
	q = &m->q[qi];
	memset(q, 0, sizeof(*q));
	q->size = size;
	q->mask = (uint16_t)(size - 1);
	q->desc = iova_ptr(a->desc);
	q->avail = iova_ptr(a->avail);
	q->used = iova_ptr(a->used);
	suppress(m, q);
	return 0;
}

static void t_notify(struct vnet_transport *t, uint16_t q)
{
	(void)q;
	tm(t)->st.notifies++;
}

static void t_close(struct vnet_transport *t)
{
	(void)t; /* the model owns the transport: vnet_model_destroy() frees it */
}

static const struct vnet_transport_ops model_ops = {
	.name = "model",
	.reset = t_reset,
	.get_status = t_get_status,
	.set_status = t_set_status,
	.get_features = t_get_features,
	.set_features = t_set_features,
	.config_generation = t_config_generation,
	.read_config = t_read_config,
	.queue_max = t_queue_max,
	.queue_setup = t_queue_setup,
	.notify = t_notify,
	.close = t_close,
};

/* ------------------------------------------------------ lifecycle -- */

static int conf_apply(struct vnet_model_conf *c, const struct vnet_model_conf *in)
{
	static const uint8_t def_mac[ETH_ALEN] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};
	static const uint8_t zero_mac[ETH_ALEN];

	if (in)
		*c = *in;
	else
		memset(c, 0, sizeof(*c));
	if (!c->features)
		c->features = DEF_FEATURES;
	if (!memcmp(c->mac, zero_mac, ETH_ALEN))
		memcpy(c->mac, def_mac, ETH_ALEN);
	if (!c->mtu)
		c->mtu = DEF_MTU;
	if (!c->queue_max)
		c->queue_max = DEF_QUEUE_MAX;
	if (!c->source_len)
		c->source_len = DEF_SOURCE_LEN;
	if (c->features & ~SUPPORTED_FEATURES)
		return -EINVAL;
	/* spec 5.1.3.1: guest TSO needs guest checksum */
	if ((c->features & (VNET_F_GUEST_TSO4 | VNET_F_GUEST_TSO6)) && !(c->features & VNET_F_GUEST_CSUM))
		return -EINVAL;
	if ((c->queue_max & (c->queue_max - 1)) || c->queue_max > MAX_QUEUE_SIZE)
		return -EINVAL;
	if (c->mtu < 68) /* spec 5.1.4.1 */
		return -EINVAL;
	if (c->source_len < ETH_HLEN)
		return -EINVAL;
	if ((unsigned)c->backend > (unsigned)VNET_MODEL_WIRE)
		return -EINVAL;
	return 0;
}

int vnet_model_create(struct vnet_model **out, const struct vnet_model_conf *conf)
{
	struct vnet_model *m;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	err = conf_apply(&m->conf, conf);
	if (err)
		goto err_model;
	m->transport.ops = &model_ops;
	m->link_up = !m->conf.link_down;
	m->frame_max = (uint32_t)m->conf.mtu + ETH_HLEN + VLAN_HLEN;
	if (m->frame_max < m->conf.source_len)
		m->frame_max = m->conf.source_len;
	err = -ENOMEM;
	m->frame = calloc(1, m->frame_max);
	if (!m->frame)
		goto err_model;
	m->segs = calloc(m->conf.queue_max, sizeof(*m->segs));
	if (!m->segs)
		goto err_frame;
	m->mark = calloc(m->conf.queue_max, 1);
	if (!m->mark)
		goto err_segs;
	m->due = calloc(m->conf.queue_max, sizeof(*m->due));
	if (!m->due)
		goto err_mark;
	*out = m;
	return 0;

err_mark:
	free(m->mark);
err_segs:
	free(m->segs);
err_frame:
	free(m->frame);
err_model:
	free(m);
	return err;
}

void vnet_model_destroy(struct vnet_model *m)
{
	if (!m)
		return;
	if (m->peer && m->peer->peer == m)
		m->peer->peer = NULL;
	free(m->due);
	free(m->mark);
	free(m->segs);
	free(m->frame);
	free(m);
}
