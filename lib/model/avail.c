/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The device model, the driver's side of the rings: what the driver made
 * available. Notification suppression (the device's answer to how often
 * it wants kicks), the avail index (split) or the available descriptors
 * (packed), descriptor chains with their indirect tables, and the buffers
 * a chain names. Parsing a chain does not consume it: the caller does
 * (consume(), model_int.h), and completes it (used.c).
 */
#include <errno.h>
#include <string.h>

#include "model/model_int.h"

/* Packed: is the descriptor at @pos available in its lap? */
static bool pk_avail(const struct mq *q, uint16_t pos, uint16_t flags)
{
	uint16_t f = flags & (PK_F_AVAIL | PK_F_USED);

	return f == (pk_wrap(q, pos) ? PK_F_AVAIL : PK_F_USED);
}

/* The le16 after used->ring[size] (spec 2.7.8), addressed by bytes: it is
 * not part of any used element. */
static volatile uint16_t *avail_event(const struct mq *q)
{
	return (volatile uint16_t *)(void *)((uint8_t *)q->used + offsetof(struct vring_used, ring) +
	                                     sizeof(struct vring_used_elem) * q->size);
}

/*
 * Available buffer notification suppression (spec 2.7.10, 2.8.10).
 *
 * Default (want_notify false), split:
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
 * Packed: DISABLE without EVENT_IDX; with it, DESC at position
 *    last_avail + size (same slot, the other lap), for the same reason.
 * want_notify (and always on the control queue): split flags = 0,
 *    avail_event = the avail idx seen this poll; packed ENABLE, or DESC at
 *    the next position to read. The driver kicks at the first new buffer
 *    after each poll (event idx cannot ask for more than one kick per
 *    device update).
 * The driver's avail->flags, used_event and driver event area are ignored:
 * the model never interrupts.
 */
void model_suppress(const struct vnet_model *m, struct mq *q)
{
	bool want = m->conf.want_notify || q->role == ROLE_CTRL;

	if (q->packed) {
		uint16_t pos = want ? q->seen : (uint16_t)(q->last_avail + q->size);

		if (has(m, VNET_F_EVENT_IDX)) {
			vnet_store16(&q->dev_ev->desc, (uint16_t)((pos & q->mask) | (pk_wrap(q, pos) << 15)));
			vnet_store16(&q->dev_ev->flags, PK_EV_DESC);
		} else {
			vnet_store16(&q->dev_ev->desc, 0);
			vnet_store16(&q->dev_ev->flags, want ? PK_EV_ENABLE : PK_EV_DISABLE);
		}
		return;
	}
	if (has(m, VNET_F_EVENT_IDX)) {
		vnet_store16(&q->used->flags, 0);
		vnet_store16(avail_event(q), want ? q->seen : (uint16_t)(q->last_avail + q->size));
	} else {
		vnet_store16(&q->used->flags, want ? 0 : VRING_USED_F_NO_NOTIFY);
	}
}
/*
 * Split: read avail->idx once (spec 2.7.13: the driver exposes entries by
 * moving it after a barrier; our rmb pairs with its wmb). A driver must
 * never move it back (2.7.6) nor more than a ring ahead of what the device
 * consumed.
 * Packed: look at the descriptors after the last one seen, in ring order
 * (spec 2.8.2), up to one ring ahead of what the device consumed: each
 * descriptor's flags are read here once and once more when it is parsed.
 * TX entries get the poll at which `latency` lets them go.
 */
int model_refresh_avail(struct vnet_model *m, struct mq *q)
{
	bool tx = q->role == ROLE_TX && m->conf.latency;
	uint32_t *due = tx ? due_of(m, q) : NULL;

	if (q->packed) {
		for (uint32_t n = window(q); n < q->size; n++) {
			if (!pk_avail(q, q->seen, vnet_load16(&q->pdesc[q->seen & q->mask].flags)))
				break;
			if (due)
				due[q->seen & q->mask] = m->poll_no + m->conf.latency;
			q->seen++;
		}
		vnet_rmb();
		return 0;
	}

	uint16_t idx = vnet_load16(&q->avail->idx);
	uint16_t ahead = (uint16_t)(idx - q->last_avail);
	uint16_t fresh = (uint16_t)(idx - q->seen);

	vnet_rmb();
	if (ahead > q->size || fresh > ahead) {
		device_error(m);
		return -EIO;
	}
	if (due) {
		for (uint16_t i = 0; i < fresh; i++)
			due[(uint16_t)(q->seen + i) & q->mask] = m->poll_no + m->conf.latency;
	}
	q->seen = idx;
	return 0;
}

/* Append one element to the chain: an address the device can reach, a
 * readable one never after a writable one (spec 2.7.4.2, 2.8.17), at most
 * `size` in all. */
static inline __attribute__((always_inline)) int seg_add(struct vnet_model *m, const struct mq *q,
                                                         struct chain *c, uint64_t addr, uint32_t len, bool write)
{
	uint8_t *p = iova_ptr(addr);

	if (!p || c->nseg >= q->size || (!write && c->wr))
		return CHAIN_BAD;
	m->segs[c->nseg].p = p;
	m->segs[c->nseg].len = len;
	c->nseg++;
	if (write)
		c->wr += len;
	else
		c->rd += len;
	return CHAIN_OK;
}

/* INDIRECT_SCRIBBLE: overwrite a table once it has been read. */
static void scribble(struct vnet_model *m, const volatile void *t, uint32_t len)
{
	if (vnet_unlikely(m->fault[VNET_FAULT_INDIRECT_SCRIBBLE]) && fault_take(m, VNET_FAULT_INDIRECT_SCRIBBLE))
		memset((void *)(uintptr_t)t, 0xa5, len);
}

/* Split indirect table (spec 2.7.5.3): walked through its next fields;
 * no INDIRECT inside, next within the table, at most len/16 steps. */
static int indirect_split(struct vnet_model *m, const struct mq *q, struct chain *c, uint64_t addr, uint32_t len)
{
	const volatile struct vring_desc *t = iova_ptr(addr);
	uint32_t n = len / 16, i = 0;

	if (!t || len == 0 || len % 16 || n > q->size)
		return CHAIN_BAD;
	m->st.indirect++;
	for (uint32_t step = 0; step < n; step++) {
		uint64_t a = t[i].addr;
		uint32_t l = t[i].len;
		uint16_t f = t[i].flags, next = t[i].next;

		if (f & VRING_DESC_F_INDIRECT)
			return CHAIN_BAD;
		if (seg_add(m, q, c, a, l, f & VRING_DESC_F_WRITE) < 0)
			return CHAIN_BAD;
		if (!(f & VRING_DESC_F_NEXT)) {
			scribble(m, t, len);
			return CHAIN_OK;
		}
		if (has(m, VNET_F_IN_ORDER) && next != i + 1)
			return CHAIN_BAD; /* spec 2.7.5.3: sequential with IN_ORDER */
		i = next;
		if (i >= n)
			return CHAIN_BAD;
	}
	return CHAIN_BAD; /* a loop */
}

/* Split chain at @head (spec 2.7.5): every descriptor within the table,
 * an address, at most `size` of them (which catches loops); an INDIRECT
 * one (negotiated, without NEXT) ends the chain. With IN_ORDER the chain
 * must start at @expect (where the chain before it ended) and run in table
 * order. Parsing changes nothing: consume() takes c->next_desc. */
int model_chain_split(struct vnet_model *m, struct mq *q, uint16_t head, uint16_t expect, struct chain *c)
{
	uint32_t id = head;
	bool in_order = has(m, VNET_F_IN_ORDER);
	int rc = CHAIN_BAD; /* longer than the ring: a loop */

	c->nseg = 0;
	c->rd = c->wr = 0;
	c->ndesc = 0;
	c->id = head;
	c->next_desc = (uint16_t)((head + 1) & q->mask);
	if (vnet_likely(head < q->size && !in_order)) { /* the usual case: one descriptor */
		const volatile struct vring_desc *d = &q->desc[head];
		uint16_t flags = d->flags;

		if (vnet_likely(!(flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT)))) {
			c->ndesc = 1;
			return seg_add(m, q, c, d->addr, d->len, flags & VRING_DESC_F_WRITE) < 0 ? CHAIN_BAD : CHAIN_OK;
		}
	}
	for (uint32_t n = 0; n < q->size; n++) {
		const volatile struct vring_desc *d;
		uint64_t addr;
		uint32_t len;
		uint16_t flags, next;

		if (id >= q->size)
			break;
		d = &q->desc[id];
		addr = d->addr;
		len = d->len;
		flags = d->flags;
		next = d->next;
		c->ndesc++;
		if (flags & VRING_DESC_F_INDIRECT) {
			if (!has(m, VNET_F_INDIRECT_DESC) || (flags & VRING_DESC_F_NEXT))
				rc = CHAIN_BAD;
			else
				rc = indirect_split(m, q, c, addr, len);
			break;
		}
		if (seg_add(m, q, c, addr, len, flags & VRING_DESC_F_WRITE) < 0)
			break;
		if (!(flags & VRING_DESC_F_NEXT)) {
			rc = CHAIN_OK;
			break;
		}
		if (in_order && next != ((id + 1) & q->mask))
			break;
		id = next;
	}
	/* IN_ORDER (spec 2.7.5): chains start where the previous one ended;
	 * after one that does not, expect the next one after it */
	c->next_desc = (uint16_t)((id + 1) & q->mask);
	if (in_order && q->role != ROLE_CTRL && head != expect)
		rc = CHAIN_BAD;
	return rc;
}

/* Packed indirect table (spec 2.8.7): every entry, in order; only WRITE
 * counts in its flags. */
static int indirect_packed(struct vnet_model *m, const struct mq *q, struct chain *c, uint64_t addr, uint32_t len)
{
	const volatile struct pk_desc *t = iova_ptr(addr);
	uint32_t n = len / 16;

	if (!t || len == 0 || len % 16 || n > q->size)
		return CHAIN_BAD;
	m->st.indirect++;
	for (uint32_t i = 0; i < n; i++)
		if (seg_add(m, q, c, t[i].addr, t[i].len, t[i].flags & VRING_DESC_F_WRITE) < 0)
			return CHAIN_BAD;
	scribble(m, t, len);
	return CHAIN_OK;
}

/* Packed chain at position @pos (spec 2.8.6): NEXT links the following
 * positions; the buffer id is in the last descriptor. A chain must lie
 * within the descriptors seen available (the driver exposes the head
 * last), else nobody can tell where it ends: CHAIN_FATAL. */
int model_chain_packed(struct vnet_model *m, struct mq *q, uint16_t pos, struct chain *c)
{
	uint32_t avail = (uint16_t)(q->seen - pos);
	bool bad = false;

	c->nseg = 0;
	c->rd = c->wr = 0;
	c->ndesc = 0;
	c->id = 0;
	for (uint32_t k = 0; k < avail; k++) {
		const volatile struct pk_desc *d = &q->pdesc[(uint16_t)(pos + k) & q->mask];
		uint64_t addr = d->addr;
		uint32_t len = d->len;
		uint16_t id = d->id, flags = d->flags;

		c->ndesc++;
		c->id = id;
		if (flags & VRING_DESC_F_INDIRECT) {
			if (!has(m, VNET_F_INDIRECT_DESC) || (flags & VRING_DESC_F_NEXT) || k)
				bad = true; /* spec 2.8.19: never inside a NEXT list */
			else if (indirect_packed(m, q, c, addr, len) < 0)
				bad = true;
		} else if (!bad && seg_add(m, q, c, addr, len, flags & VRING_DESC_F_WRITE) < 0) {
			bad = true;
		}
		if (!(flags & VRING_DESC_F_NEXT))
			return bad ? CHAIN_BAD : CHAIN_OK;
	}
	return CHAIN_FATAL;
}

/* Copy @len bytes between @buf and offset @off of a chain's elements
 * @s[0..n), into the elements when @to_segs; what lies past their end is
 * left out. */
static void segs_copy(const struct seg *s, uint32_t n, uint64_t off, uint8_t *buf, uint32_t len,
                      bool to_segs)
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
		if (to_segs)
			memcpy(s[i].p + off, buf, c);
		else
			memcpy(buf, s[i].p + off, c);
		buf += c;
		len -= c;
		off = 0;
	}
}

void model_segs_read(const struct seg *s, uint32_t n, uint64_t off, uint8_t *dst, uint32_t len)
{
	if (n == 1 && off + len <= s[0].len) /* the usual case: one element */
		memcpy(dst, s[0].p + off, len);
	else
		segs_copy(s, n, off, dst, len, false);
}

void model_segs_write(const struct seg *s, uint32_t n, uint64_t off, const uint8_t *src, uint32_t len)
{
	if (n == 1 && off + len <= s[0].len) /* the usual case: one element */
		memcpy(s[0].p + off, src, len);
	else
		segs_copy(s, n, off, (uint8_t *)(uintptr_t)src, len, true);
}
