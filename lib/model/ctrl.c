/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The device model's control queue (CTRL_VQ, spec 5.1.6.5): RX mode, MAC
 * tables and address, VLAN filter, announce acks, queue pairs, receive
 * offloads. What is accepted is listed at the top of model.c.
 */
#include <string.h>

#include "base/bytes.h"
#include "model/model_int.h"

/* Spec 5.1.6.5.6.1's offloads: GUEST_CSUM 1, GUEST_TSO4 7, GUEST_TSO6 8,
 * GUEST_ECN 9, GUEST_UFO 10, GUEST_USO4 54, GUEST_USO6 55 (the model
 * offers only the first three). */
#define GUEST_OFFLOADS                                                                    \
	(VNET_F_GUEST_CSUM | VNET_F_GUEST_TSO4 | VNET_F_GUEST_TSO6 | (1ULL << 9) | (1ULL << 10) | \
	 (1ULL << 54) | (1ULL << 55))

/* GUEST_OFFLOADS SET: a le64 of offloads, each negotiated. */
static uint8_t ctrl_offloads(struct vnet_model *m, const struct chain *c, uint8_t cmd, uint32_t dlen)
{
	uint8_t b[8] = {0};
	uint64_t off;

	if (!has(m, VNET_F_CTRL_GUEST_OFFLOADS) || cmd != VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET || dlen != 8)
		return VIRTIO_NET_ERR;
	model_segs_read(m->segs, c->nseg, 2, b, 8);
	off = vnet_get_le32(b) | (uint64_t)vnet_get_le32(b + 4) << 32;
	/* spec 5.1.6.5.6.1: a driver MUST NOT enable one not negotiated */
	if (off & ~(m->drv_features & GUEST_OFFLOADS))
		return VIRTIO_NET_ERR;
	if (!fault_take(m, VNET_FAULT_OFFLOADS_IGNORED))
		m->rx_off = off;
	return VIRTIO_NET_OK;
}

/* Hash types and key at @off (le32 types at @types_off, u8 length at
 * @off, the key after it), checked, into @r. 0 or -1. */
static int rss_key_read(struct vnet_model *m, const struct chain *c, uint32_t dlen, uint32_t off,
                        struct model_rss *r)
{
	uint8_t b[4] = {0}, klen = 0;

	model_segs_read(m->segs, c->nseg, 2, b, 4);
	r->types = vnet_get_le32(b);
	if (off + 1 > dlen)
		return -1;
	model_segs_read(m->segs, c->nseg, 2 + off, &klen, 1);
	/* the exact length; no type the model does not offer; a key when
	 * something is hashed (spec 5.1.6.5.7.1), no longer than offered */
	if (off + 1u + klen != dlen || (r->types & ~MODEL_HASH_TYPES) || klen > MODEL_RSS_KEY ||
	    (!klen && r->types))
		return -1;
	r->key_len = klen;
	model_segs_read(m->segs, c->nseg, 2 + off + 1, r->key, klen);
	return 0;
}

/* MQ RSS_CONFIG (spec 5.1.6.5.7): hash types, table mask, unclassified
 * queue, table, max_tx_vq, key. Every queue named must be below
 * max_tx_vq, which becomes the pairs in use. */
static uint8_t ctrl_rss(struct vnet_model *m, const struct chain *c, uint32_t dlen)
{
	struct model_rss r;
	uint8_t b[4] = {0};
	uint32_t n, off;
	uint16_t txq;

	memset(&r, 0, sizeof(r));
	if (!has(m, VNET_F_RSS) || dlen < 8)
		return VIRTIO_NET_ERR;
	model_segs_read(m->segs, c->nseg, 2 + 4, b, 4);
	n = vnet_get_le16(b) + 1u;
	r.unclassified = vnet_get_le16(b + 2);
	off = 8 + 2 * n;
	if ((n & (n - 1)) || n > MODEL_RSS_TABLE || off + 2 > dlen)
		return VIRTIO_NET_ERR;
	r.table_len = (uint16_t)n;
	for (uint32_t i = 0; i < n; i++) {
		model_segs_read(m->segs, c->nseg, 2 + 8 + 2 * i, b, 2);
		r.table[i] = vnet_get_le16(b);
	}
	model_segs_read(m->segs, c->nseg, 2 + off, b, 2);
	txq = vnet_get_le16(b);
	if (txq < 1 || txq > m->conf.max_pairs || r.unclassified >= txq || rss_key_read(m, c, dlen, off + 2, &r))
		return VIRTIO_NET_ERR;
	for (uint32_t i = 0; i < n; i++)
		if (r.table[i] >= txq)
			return VIRTIO_NET_ERR;
	r.steer = true;
	r.hash = has(m, VNET_F_HASH_REPORT);
	m->rss = r;
	m->active = txq;
	return VIRTIO_NET_OK;
}

/* MQ HASH_CONFIG: hash types, four reserved le16, key; queues as before. */
static uint8_t ctrl_hash(struct vnet_model *m, const struct chain *c, uint32_t dlen)
{
	struct model_rss r;

	memset(&r, 0, sizeof(r));
	if (!has(m, VNET_F_HASH_REPORT) || rss_key_read(m, c, dlen, 12, &r))
		return VIRTIO_NET_ERR;
	r.hash = true;
	m->rss = r;
	return VIRTIO_NET_OK;
}

/* Execute one command (spec 5.1.6.5); the readable part of the chain in
 * m->segs is class, command, @dlen bytes of data. @return the ack. */
static uint8_t ctrl_exec(struct vnet_model *m, const struct chain *c, uint32_t dlen)
{
	const struct seg *s = m->segs;
	uint8_t cc[2] = {0}, b[8] = {0}; /* model_segs_read may copy less than asked */

	model_segs_read(s, c->nseg, 0, cc, 2);
	switch (cc[0]) {
	case VIRTIO_NET_CTRL_RX:
		if (!has(m, VNET_F_CTRL_RX) || dlen != 1 ||
		    (cc[1] != VIRTIO_NET_CTRL_RX_PROMISC && cc[1] != VIRTIO_NET_CTRL_RX_ALLMULTI))
			return VIRTIO_NET_ERR;
		model_segs_read(s, c->nseg, 2, b, 1);
		if (b[0] > 1)
			return VIRTIO_NET_ERR;
		if (cc[1] == VIRTIO_NET_CTRL_RX_PROMISC)
			m->promisc = b[0];
		else
			m->allmulti = b[0];
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_MAC:
		if (cc[1] == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
			if (!has(m, VNET_F_CTRL_MAC_ADDR) || dlen != ETH_ALEN)
				return VIRTIO_NET_ERR;
			model_segs_read(s, c->nseg, 2, b, ETH_ALEN);
			if (b[0] & 1)
				return VIRTIO_NET_ERR; /* a multicast address cannot be ours */
			memcpy(m->mac, b, ETH_ALEN);
			m->generation++; /* config mac changed (spec 5.1.6.5.2) */
			return VIRTIO_NET_OK;
		}
		if (cc[1] == VIRTIO_NET_CTRL_MAC_TABLE_SET && has(m, VNET_F_CTRL_RX) && dlen >= 8) {
			uint32_t nu, nm;
			uint64_t off;

			/* two tables, each a le32 count then the addresses */
			model_segs_read(s, c->nseg, 2, b, 4);
			nu = vnet_get_le32(b);
			off = 4 + (uint64_t)nu * ETH_ALEN;
			if (off + 4 > dlen)
				return VIRTIO_NET_ERR;
			model_segs_read(s, c->nseg, 2 + off, b, 4);
			nm = vnet_get_le32(b);
			if (off + 4 + (uint64_t)nm * ETH_ALEN != dlen)
				return VIRTIO_NET_ERR;
			m->uc_n = nu;
			m->mc_n = nm;
			m->uc_overflow = nu > VNET_MODEL_MAC_TABLE;
			m->mc_overflow = nm > VNET_MODEL_MAC_TABLE;
			for (uint32_t i = 0; i < nu && i < VNET_MODEL_MAC_TABLE; i++)
				model_segs_read(s, c->nseg, 2 + 4 + (uint64_t)i * ETH_ALEN, m->uc[i], ETH_ALEN);
			for (uint32_t i = 0; i < nm && i < VNET_MODEL_MAC_TABLE; i++)
				model_segs_read(s, c->nseg, 2 + off + 4 + (uint64_t)i * ETH_ALEN, m->mc[i], ETH_ALEN);
			return VIRTIO_NET_OK;
		}
		return VIRTIO_NET_ERR;
	case VIRTIO_NET_CTRL_VLAN: {
		uint16_t vid;

		if (!has(m, VNET_F_CTRL_VLAN) || dlen != 2 ||
		    (cc[1] != VIRTIO_NET_CTRL_VLAN_ADD && cc[1] != VIRTIO_NET_CTRL_VLAN_DEL))
			return VIRTIO_NET_ERR;
		model_segs_read(s, c->nseg, 2, b, 2);
		vid = vnet_get_le16(b);
		if (vid >= 4096)
			return VIRTIO_NET_ERR;
		if (cc[1] == VIRTIO_NET_CTRL_VLAN_ADD)
			m->vlan[vid / 8] |= (uint8_t)(1u << (vid % 8));
		else
			m->vlan[vid / 8] &= (uint8_t)~(1u << (vid % 8));
		return VIRTIO_NET_OK;
	}
	case VIRTIO_NET_CTRL_ANNOUNCE:
		if (!has(m, VNET_F_GUEST_ANNOUNCE) || cc[1] != VIRTIO_NET_CTRL_ANNOUNCE_ACK || dlen)
			return VIRTIO_NET_ERR;
		/* spec 5.1.6.5.4: cleared before the buffer is marked used */
		if (m->announce)
			m->generation++;
		m->announce = false;
		m->st.announce_acks++;
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_MQ: {
		uint16_t n;

		if (cc[1] == VIRTIO_NET_CTRL_MQ_RSS_CONFIG)
			return ctrl_rss(m, c, dlen);
		if (cc[1] == VIRTIO_NET_CTRL_MQ_HASH_CONFIG)
			return ctrl_hash(m, c, dlen);
		if (!has(m, VNET_F_MQ) || cc[1] != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || dlen != 2)
			return VIRTIO_NET_ERR;
		model_segs_read(s, c->nseg, 2, b, 2);
		n = vnet_get_le16(b);
		if (n < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || n > m->conf.max_pairs)
			return VIRTIO_NET_ERR;
		m->active = n;
		/* automatic steering: the last MQ command decides (5.1.6.5.5) */
		memset(&m->rss, 0, sizeof(m->rss));
		return VIRTIO_NET_OK;
	}
	case VIRTIO_NET_CTRL_GUEST_OFFLOADS:
		return ctrl_offloads(m, c, cc[1], dlen);
	default:
		return VIRTIO_NET_ERR;
	}
}

/* Execute every command waiting on the control queue and publish their
 * acks. @return commands consumed. */
uint32_t model_ctrl_run(struct vnet_model *m)
{
	struct mq *q = ctrlq(m);
	uint32_t n;

	if (!q->size || !is_live(m) || model_refresh_avail(m, q) < 0)
		return 0;
	for (n = 0; n < q->size && q->last_avail != q->seen; n++) {
		struct chain c;
		uint8_t ack;
		int rc = chain_at(m, q, q->last_avail, q->next_desc, &c);

		if (rc == CHAIN_FATAL) {
			device_error(m);
			break;
		}
		consume(q, &c);
		if (rc != CHAIN_OK || c.rd < 2 || c.wr < 1 || c.rd > UINT32_MAX) {
			m->st.bad_desc++;
			model_complete(m, q, c.id, 0, c.ndesc);
			continue;
		}
		ack = ctrl_exec(m, &c, (uint32_t)c.rd - 2);
		model_segs_write(m->segs, c.nseg, c.rd, &ack, 1);
		model_complete(m, q, c.id, 1, c.ndesc);
		m->st.ctrl_cmds++;
		if (ack != VIRTIO_NET_OK)
			m->st.ctrl_errs++;
		q->frames++;
	}
	model_publish(m, q);
	model_suppress(m, q);
	return n;
}
