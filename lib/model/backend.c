/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The device model's other end (conf.backend): where the frames the driver
 * sends go (LOOPBACK and REFLECTOR: back to the same model, WIRE: to the
 * peer, SINK: nowhere) and, for SOURCE, the frames it receives, made by
 * the generator.
 */
#include <string.h>

#include "model/model_int.h"

/* The model that receives what @m sends, if any. */
struct vnet_model *model_receiver(struct vnet_model *m)
{
	switch (m->conf.backend) {
	case VNET_MODEL_LOOPBACK:
	case VNET_MODEL_REFLECTOR:
		return m;
	case VNET_MODEL_WIRE:
		return m->peer;
	case VNET_MODEL_SINK:
	case VNET_MODEL_SOURCE:
		break;
	}
	return NULL;
}

/* A frame @m sent on queue pair @pair (tapped already), to the backend:
 * back to @m (REFLECTOR with its MACs swapped), to the peer, or nowhere.
 * Link down on the sender, or on either side of a WIRE: dropped. */
void model_route(struct vnet_model *m, uint32_t pair, uint8_t *f, uint32_t len, const struct rxmeta *meta)
{
	uint8_t tmp[ETH_ALEN];

	if (!m->link_up)
		return;
	switch (m->conf.backend) {
	case VNET_MODEL_REFLECTOR:
		memcpy(tmp, f, ETH_ALEN);
		memcpy(f, f + ETH_ALEN, ETH_ALEN);
		memcpy(f + ETH_ALEN, tmp, ETH_ALEN);
		model_deliver(m, m, pair % m->active, f, len, meta);
		break;
	case VNET_MODEL_LOOPBACK:
		model_deliver(m, m, pair % m->active, f, len, meta);
		break;
	case VNET_MODEL_WIRE:
		if (m->peer && m->peer->link_up)
			model_deliver(m, m->peer, pair % m->peer->active, f, len, meta);
		break;
	case VNET_MODEL_SINK:
	case VNET_MODEL_SOURCE:
		break;
	}
}

static void source_default(struct vnet_model *m, uint8_t *f, uint32_t len, uint64_t seq)
{
	static const uint8_t src[ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x02};
	uint8_t head[ETH_HLEN + 8];
	uint32_t i;

	memcpy(head, m->mac, ETH_ALEN);
	memcpy(head + ETH_ALEN, src, ETH_ALEN);
	head[12] = 0x88;
	head[13] = 0xb5; /* local experimental ethertype */
	for (i = 0; i < 8; i++)
		head[ETH_HLEN + i] = (uint8_t)(seq >> (8 * i));
	for (i = 0; i < len; i++)
		f[i] = i < sizeof(head) ? head[i] : (uint8_t)(seq + i);
}

/* SOURCE: fill the receive queue of @pair with generated frames, up to
 * rx_budget. @return frames delivered. */
uint32_t model_source_run(struct vnet_model *m, uint32_t pair)
{
	static const struct rxmeta none;
	struct mq *q = rxq(m, pair);
	uint32_t n, quota, len = m->conf.source_len;

	if (!q->size || !m->link_up)
		return 0;
	quota = min_u32(window(q), budget(m));
	/* Filling a whole ring leaves no room for an extra used entry: with one
	 * armed, leave one buffer for the next poll so that it can fire. */
	if (!q->packed && quota == q->size && quota > 1 &&
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
		if (!model_deliver(m, m, pair, m->frame, len, &none))
			break;
		m->source_seq++;
	}
	return n;
}
