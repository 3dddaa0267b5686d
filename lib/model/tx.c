/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The device model's transmit side: each chain of a transmit queue read
 * into one frame and its header (spec 5.1.6.2), the chain completed, the
 * frame handed on: to offload.c when its header asks for an offload, else
 * to the tap and the backend.
 */
#include <string.h>

#include "model/model_int.h"

/* Read the TX chain (parsed into @c) into m->txhdr and m->frame (spec
 * 5.1.6.2): the header may share a descriptor with the data or not.
 * @return frame length or -1. */
static int64_t tx_gather(struct vnet_model *m, const struct chain *c)
{
	uint32_t hlen = hdr_len(m);
	uint32_t len;

	if (c->wr || c->rd < (uint64_t)hlen + ETH_HLEN || c->rd - hlen > m->frame_max)
		return -1;
	len = (uint32_t)(c->rd - hlen);
	if (c->nseg == 1) { /* the usual case: header and frame together */
		const uint8_t *p = m->segs[0].p;

		if (hlen == sizeof(m->txhdr))
			memcpy(m->txhdr, p, sizeof(m->txhdr));
		else
			memcpy(m->txhdr, p, hlen);
		memcpy(m->frame, p + hlen, len);
		return len;
	}
	model_segs_read(m->segs, c->nseg, 0, m->txhdr, hlen);
	model_segs_read(m->segs, c->nseg, hlen, m->frame, len);
	return len;
}

/* The usual frame: no offload asked for in its header. */
static inline bool tx_frame(struct vnet_model *m, struct mq *q, uint32_t len)
{
	static const struct rxmeta none;

	if (vnet_unlikely((m->txhdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) | m->txhdr[1]))
		return model_tx_offload(m, q, len);
	if (vnet_unlikely(len > (uint32_t)m->conf.mtu + ETH_HLEN + VLAN_HLEN)) {
		m->st.bad_desc++;
		return false;
	}
	m->st.tx_frames++;
	m->st.tx_bytes += len;
	if (m->tap)
		m->tap(m->frame, len, m->tap_arg);
	model_route(m, q->pair, m->frame, len, &none);
	return true;
}

/* Consume the chains of a transmit queue that are due (conf.latency), up
 * to its quota: each completed at once, its frame sent on. @return chains
 * consumed, bad ones included. */
uint32_t model_tx_run(struct vnet_model *m, struct mq *q)
{
	uint32_t n, *due = m->conf.latency ? due_of(m, q) : NULL;

	/* Bounded by the quota: the avail window (<= size) and the budget. */
	for (n = 0; n < q->quota && q->last_avail != q->seen; n++) {
		uint16_t pos = q->last_avail;
		struct chain c;
		int64_t len;
		int rc;

		if (due && (int32_t)(m->poll_no - due[pos & q->mask]) < 0)
			break;
		rc = chain_at(m, q, pos, q->next_desc, &c);
		if (rc == CHAIN_FATAL) {
			device_error(m);
			break;
		}
		consume(q, &c);
		q->frames++;
		len = rc == CHAIN_OK ? tx_gather(m, &c) : -1;
		model_complete(m, q, c.id, 0, c.ndesc); /* the device writes nothing into TX buffers */
		if (len < 0) {
			m->st.bad_desc++;
			continue;
		}
		tx_frame(m, q, (uint32_t)len);
		if (!is_live(m))
			break;
	}
	return n;
}
