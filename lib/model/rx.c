/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The device model's receive side: a frame put into a receive queue (spec
 * 5.1.6.3, 5.1.6.4). The RX filter of the control queue's tables, the
 * receiver's header, one buffer per frame or, with MRG_RXBUF, as many as
 * it takes; the frame arrives from backend.c (or offload.c's segments).
 */
#include <string.h>

#include "base/bytes.h"
#include "model/model_int.h"

static bool mac_in(const uint8_t (*t)[ETH_ALEN], uint32_t n, const uint8_t *mac)
{
	for (uint32_t i = 0; i < n && i < VNET_MODEL_MAC_TABLE; i++)
		if (!memcmp(t[i], mac, ETH_ALEN))
			return true;
	return false;
}

/* Spec 5.1.6.5.1 - 5.1.6.5.3 (see the top of model.c). */
static bool rx_accept(const struct vnet_model *m, const uint8_t *f, uint32_t len)
{
	static const uint8_t bcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	if (has(m, VNET_F_CTRL_VLAN) && len >= ETH_HLEN + VLAN_HLEN && vnet_get_be16(f + 12) == ETHERTYPE_VLAN) {
		uint16_t vid = vnet_get_be16(f + 14) & 0xfff;

		if (!(m->vlan[vid / 8] & (1u << (vid % 8))))
			return false;
	}
	if (!has(m, VNET_F_CTRL_RX) || m->promisc)
		return true;
	if (f[0] & 1) {
		if (!memcmp(f, bcast, ETH_ALEN) || m->allmulti || m->mc_overflow)
			return true;
		return mac_in((const uint8_t (*)[ETH_ALEN])m->mc, m->mc_n, f);
	}
	if (!memcmp(f, m->mac, ETH_ALEN) || m->uc_overflow)
		return true;
	return mac_in((const uint8_t (*)[ETH_ALEN])m->uc, m->uc_n, f);
}

/* The receiver's header (spec 5.1.6.4), little-endian. */
static void rx_hdr_build(uint8_t *h, const struct rxmeta *r, uint16_t nbufs)
{
	h[0] = r->flags;
	h[1] = r->gso_type;
	vnet_put_le16(h + 2, r->hdr_len);
	vnet_put_le16(h + 4, r->gso_size);
	vnet_put_le16(h + 6, r->csum_start);
	vnet_put_le16(h + 8, r->csum_offset);
	vnet_put_le16(h + 10, nbufs);
	/* HASH_REPORT's part (written when the header is 20 bytes long) */
	vnet_put_le32(h + VIRTIO_NET_HDR_HASH_VALUE_OFF, r->hash_value);
	vnet_put_le16(h + VIRTIO_NET_HDR_HASH_REPORT_OFF, r->hash_report);
	vnet_put_le16(h + 18, 0);
}

/* Refresh a WIRE peer's RX queue once per poll of the sender. */
static bool rx_ready(struct vnet_model *src, struct vnet_model *dst, struct mq *q)
{
	if (dst != src && !q->touched) {
		q->touched = true;
		if (model_refresh_avail(dst, q) < 0)
			return false;
		q->poll_left = min_u32(window(q), src->tx_quota);
	}
	return true;
}

/*
 * MRG_RXBUF (spec 5.1.6.3, 5.1.6.4): find enough buffers for @need bytes
 * without consuming any (a bad chain first in line is completed with len 0
 * and skipped, as without MRG; one further on stops the search). @return
 * buffers found (their positions in m->grp_pos), 0 if they cannot hold it.
 */
static uint32_t mrg_find(struct vnet_model *dst, struct mq *q, uint32_t hlen, uint64_t need)
{
	uint64_t cap = 0;
	uint32_t k = 0;
	uint16_t p = q->last_avail, expect = q->next_desc;
	struct chain c;

	for (uint32_t tries = 0; tries <= 2u * q->size && cap < need; tries++) {
		int rc;

		if (p == q->seen || k >= q->size)
			return 0;
		rc = chain_at(dst, q, p, expect, &c);
		if (rc == CHAIN_FATAL) {
			device_error(dst);
			return 0;
		}
		/* spec 5.1.6.3: with MRG_RXBUF every buffer holds a header */
		if (rc == CHAIN_OK && c.rd == 0 && c.wr >= hlen) {
			dst->grp_pos[k++] = p;
			cap += c.wr;
			p = (uint16_t)(p + (q->packed ? c.ndesc : 1));
			expect = c.next_desc;
			continue;
		}
		if (k)
			return 0;
		consume(q, &c);
		dst->st.bad_desc++;
		model_complete(dst, q, c.id, 0, c.ndesc);
		p = q->last_avail;
		expect = q->next_desc;
	}
	return cap >= need ? k : 0;
}

/* The header flags for a frame about to be delivered: the sender's
 * (partial checksum, GSO), or DATA_VALID for a checksum the model verified
 * (GUEST_CSUM on and conf.rx_csum). */
static uint8_t rx_flags(const struct vnet_model *dst, const struct rxmeta *meta, const uint8_t *f, uint32_t len)
{
	if (!meta->flags && !meta->gso_type && dst->conf.rx_csum && rx_on(dst, VNET_F_GUEST_CSUM) &&
	    model_csum_verify(f, len))
		return VIRTIO_NET_HDR_F_DATA_VALID;
	return meta->flags;
}

static void rx_count(struct vnet_model *dst, struct mq *q, uint32_t len, uint8_t flags, uint8_t gso_type,
                     uint16_t hash_report)
{
	dst->st.rx_frames++;
	dst->st.rx_hash_reported += hash_report != 0;
	dst->st.rx_bytes += len;
	q->frames++;
	if (vnet_unlikely(flags | gso_type)) {
		if (flags & VIRTIO_NET_HDR_F_DATA_VALID)
			dst->st.rx_data_valid++;
		if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			dst->st.rx_partial++;
		if (gso_type)
			dst->st.rx_gso++;
	}
}

/* MRG_RXBUF delivery (spec 5.1.6.4): as many buffers as the frame needs,
 * every one but the last filled, num_buffers in the first header. */
static __attribute__((noinline)) bool deliver_mrg(struct vnet_model *dst, struct mq *q, uint8_t *f, uint32_t len,
                                                  const struct rxmeta *meta, uint32_t hlen)
{
	struct rxmeta r = *meta;
	uint8_t hdr[VIRTIO_NET_HDR_HASH_LEN];
	uint32_t k = mrg_find(dst, q, hlen, (uint64_t)hlen + len), off = 0;
	struct chain c;

	if (!k) {
		dst->st.rx_no_buffer++;
		return false;
	}
	if (fault_take(dst, VNET_FAULT_BAD_CSUM))
		model_corrupt(f, len);
	r.flags = rx_flags(dst, meta, f, len);
	rx_hdr_build(hdr, &r, (uint16_t)k);
	for (uint32_t j = 0; j < k; j++) {
		uint32_t room, n, h = j ? 0 : hlen;

		chain_at(dst, q, dst->grp_pos[j], q->next_desc, &c); /* parsed fine a moment ago */
		room = c.wr > UINT32_MAX ? UINT32_MAX : (uint32_t)c.wr;
		n = min_u32(room - h, len - off);
		if (h)
			model_segs_write(dst->segs, c.nseg, 0, hdr, hlen);
		model_segs_write(dst->segs, c.nseg, h, f + off, n);
		off += n;
		dst->grp_len[j] = h + n;
		consume(q, &c);
		/* completed one by one, in order; model_publish() exposes them
		 * all at once (the used idx store, or the first's flags) */
		if (j == 0 && fault_take(dst, VNET_FAULT_USED_LEN))
			dst->grp_len[j] = c.wr >= UINT32_MAX ? UINT32_MAX : (uint32_t)c.wr + 1;
		model_complete(dst, q, c.id, dst->grp_len[j], c.ndesc);
	}
	if (k > 1)
		dst->st.rx_merged++;
	rx_count(dst, q, len, r.flags, r.gso_type, r.hash_report);
	return true;
}

/*
 * Put @len bytes of @f into dst's receive queue of @pair (spec 5.1.6.3 -
 * 5.1.6.4): the header from @meta (num_buffers 1 without MRG_RXBUF) and
 * the frame. A bad chain is completed with len 0 and the next one tried; no
 * buffer, or one too small (left posted), drops the frame.
 * @return true if delivered.
 */
bool model_deliver(struct vnet_model *src, struct vnet_model *dst, uint32_t pair, uint8_t *f, uint32_t len,
                   const struct rxmeta *meta)
{
	static const uint8_t plain[VIRTIO_NET_HDR_HASH_LEN] = {[10] = 1}; /* flags 0, GSO_NONE, num_buffers 1, no hash */
	struct mq *q;
	uint32_t hlen = hdr_len(dst);
	struct chain c;
	struct rxmeta hm;

	/* RSS / hash report (rss.c): the queue the table names and the hash
	 * for the header; SOURCE fills each pair itself, so no steering */
	if (vnet_unlikely(dst->rss.steer | dst->rss.hash)) {
		uint32_t to;

		hm = *meta;
		to = model_rss(dst, f, len, pair, &hm);
		if (!(dst == src && dst->conf.backend == VNET_MODEL_SOURCE))
			pair = to;
		meta = &hm;
	}
	if (!is_live(dst) || pair >= dst->active || !(q = rxq(dst, pair))->size) {
		dst->st.rx_no_buffer++;
		return false;
	}
	if (vnet_unlikely(dst->drv_features & (VNET_F_CTRL_RX | VNET_F_CTRL_VLAN)) && !rx_accept(dst, f, len)) {
		dst->st.rx_filtered++;
		return false;
	}
	if (dst != src && !rx_ready(src, dst, q)) {
		dst->st.rx_no_buffer++;
		return false;
	}
	if (vnet_unlikely(dst->drv_features & VNET_F_MRG_RXBUF))
		return deliver_mrg(dst, q, f, len, meta, hlen);
	for (uint32_t tries = 0; tries <= q->size; tries++) {
		uint32_t used_len;
		uint8_t flags, hdr[VIRTIO_NET_HDR_HASH_LEN];
		int rc;

		if (q->last_avail == q->seen)
			break;
		rc = chain_at(dst, q, q->last_avail, q->next_desc, &c);
		if (vnet_unlikely(rc == CHAIN_FATAL)) {
			device_error(dst);
			break;
		}
		if (vnet_unlikely(rc != CHAIN_OK || c.rd)) {
			consume(q, &c);
			dst->st.bad_desc++;
			model_complete(dst, q, c.id, 0, c.ndesc);
			continue;
		}
		if ((uint64_t)hlen + len > c.wr)
			break;
		consume(q, &c);
		if (vnet_unlikely(dst->fault[VNET_FAULT_BAD_CSUM]) && fault_take(dst, VNET_FAULT_BAD_CSUM))
			model_corrupt(f, len);
		flags = rx_flags(dst, meta, f, len);
		if (vnet_likely(!(flags | meta->gso_type | meta->hash_report))) {
			model_segs_write(dst->segs, c.nseg, 0, plain, hlen);
		} else {
			struct rxmeta r = *meta;

			r.flags = flags;
			rx_hdr_build(hdr, &r, 1);
			model_segs_write(dst->segs, c.nseg, 0, hdr, hlen);
		}
		model_segs_write(dst->segs, c.nseg, hlen, f, len);
		used_len = hlen + len;
		/* USED_LEN: the genuine buffer, completed with a len one byte
		 * longer than its whole chain (the data written is right). */
		if (vnet_unlikely(dst->fault[VNET_FAULT_USED_LEN]) && fault_take(dst, VNET_FAULT_USED_LEN))
			used_len = c.wr >= UINT32_MAX ? UINT32_MAX : (uint32_t)c.wr + 1;
		model_complete(dst, q, c.id, used_len, c.ndesc);
		rx_count(dst, q, len, flags, meta->gso_type, meta->hash_report);
		return true;
	}
	dst->st.rx_no_buffer++;
	return false;
}
