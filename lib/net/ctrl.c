/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control virtqueue (spec 5.1.6.5), split or packed (the chain is the
 * ring layer's: vnet_ring_ctrl_post): one command at a time, as a chain
 * of two descriptors, class + command + data (device-readable) and the
 * ack byte (device-writable), then a bounded wait for the answer. Not on
 * the fast path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "net/dev.h"

#define CTRL_ACK_OFF 4032u       /* the ack byte's place in ctrl_buf */
#define CTRL_TIMEOUT_US 1000000u

int vnet_ctrl_cmd(struct vnet_dev *d, uint8_t cls, uint8_t cmd, const void *data, uint32_t len)
{
	struct vnet_vq *vq = &d->ctrlq;
	uint8_t *req = d->ctrl_buf.va;
	volatile uint8_t *ack;
	uint64_t deadline;

	if (!vq->size || !d->started)
		return -ENOTSUP;
	if (vq->broken)
		return -EIO;
	if (len + 2 > CTRL_ACK_OFF)
		return -EMSGSIZE;
	ack = req + CTRL_ACK_OFF;
	req[0] = cls;
	req[1] = cmd;
	if (len)
		memcpy(req + 2, data, len);
	*ack = 0xff; /* neither OK nor ERR until the device writes it */
	/* a control command always kicks: the device may sleep on this queue */
	vnet_ring_ctrl_post(vq, d->ctrl_buf.iova, len + 2, d->ctrl_buf.iova + CTRL_ACK_OFF);
	vnet_mb();
	d->t->ops->notify(d->t, vq->qidx);
	vq->stats.kicks++;
	deadline = vnet_now_us() + CTRL_TIMEOUT_US;
	for (;;) {
		int used = vnet_ring_ctrl_used(vq);

		if (used > 0) {
			vq->stats.packets++;
			return *ack == VIRTIO_NET_OK ? 0 : -EIO;
		}
		if (used < 0) {
			vq->stats.drop_bad_id++;
			vq->broken = true;
			return -EIO;
		}
		/* the clock on every spin (a counter read, cheap everywhere): the
		 * wait ends when the deadline passes, not up to 1024 spins later
		 * (the fuzz targets' virtual clock then ends it at once) */
		if (vnet_now_us() > deadline)
			break;
		vnet_cpu_relax();
	}
	/* the chain stays posted: the queue cannot be trusted until a reset */
	vq->broken = true;
	vnet_log(VNET_LOG_ERR, "net: control command %u.%u got no answer in %u ms", (unsigned)cls,
	         (unsigned)cmd, CTRL_TIMEOUT_US / 1000);
	return -ETIMEDOUT;
}

static int need(const struct vnet_dev *d, uint64_t f)
{
	return d && (d->features & f) == f ? 0 : -ENOTSUP;
}

int vnet_dev_set_rx_mode(struct vnet_dev *d, bool promisc, bool allmulti)
{
	uint8_t on;
	int rc = need(d, VNET_F_CTRL_RX);

	if (rc)
		return rc;
	on = promisc;
	rc = vnet_ctrl_cmd(d, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &on, 1);
	if (rc)
		return rc;
	on = allmulti;
	return vnet_ctrl_cmd(d, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, &on, 1);
}

int vnet_dev_set_mac(struct vnet_dev *d, const uint8_t mac[6])
{
	int rc = need(d, VNET_F_CTRL_MAC_ADDR);

	if (rc)
		return rc;
	if (!mac || (mac[0] & 1)) /* a multicast address cannot be ours */
		return -EINVAL;
	rc = vnet_ctrl_cmd(d, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, mac, 6);
	if (rc == 0)
		memcpy(d->cfg.mac, mac, 6);
	return rc;
}

int vnet_dev_set_mac_table(struct vnet_dev *d, const uint8_t (*uc)[6], uint32_t n_uc,
                           const uint8_t (*mc)[6], uint32_t n_mc)
{
	/* two tables, each a le32 count then the addresses (5.1.6.5.2) */
	uint8_t buf[4 + 6 * 300 + 4 + 6 * 300];
	uint32_t off = 0;
	int rc = need(d, VNET_F_CTRL_RX);

	if (rc)
		return rc;
	if (n_uc > 300 || n_mc > 300 || (n_uc && !uc) || (n_mc && !mc))
		return -EINVAL;
	memcpy(buf + off, &n_uc, 4);
	off += 4;
	if (n_uc)
		memcpy(buf + off, uc, 6 * (size_t)n_uc);
	off += 6 * n_uc;
	memcpy(buf + off, &n_mc, 4);
	off += 4;
	if (n_mc)
		memcpy(buf + off, mc, 6 * (size_t)n_mc);
	off += 6 * n_mc;
	return vnet_ctrl_cmd(d, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, buf, off);
}

int vnet_dev_vlan(struct vnet_dev *d, uint16_t vid, bool add)
{
	int rc = need(d, VNET_F_CTRL_VLAN);

	if (rc)
		return rc;
	if (vid > 4095)
		return -EINVAL;
	return vnet_ctrl_cmd(d, VIRTIO_NET_CTRL_VLAN, add ? VIRTIO_NET_CTRL_VLAN_ADD : VIRTIO_NET_CTRL_VLAN_DEL,
	                     &vid, 2);
}

int vnet_dev_announce_ack(struct vnet_dev *d)
{
	int rc = need(d, VNET_F_GUEST_ANNOUNCE);

	if (rc)
		return rc;
	return vnet_ctrl_cmd(d, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0);
}

static int rss_set_pairs(struct vnet_dev *d, uint16_t pairs);
static int hash_send(struct vnet_dev *d, const struct vnet_rss_state *st);

int vnet_dev_set_queue_pairs(struct vnet_dev *d, uint16_t pairs)
{
	int rc;

	if (!d || pairs < 1 || pairs > d->npairs)
		return -EINVAL;
	if (pairs == d->active)
		return 0;
	rc = need(d, VNET_F_MQ);
	if (rc)
		return rc;
	if (d->rss.set && d->rss.rss)
		return rss_set_pairs(d, pairs);
	rc = vnet_ctrl_cmd(d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2);
	if (rc == 0)
		d->active = pairs;
	/* a hash configuration goes with automatic steering (the last MQ
	 * command decides, 5.1.6.5.5): sent again after it */
	if (rc == 0 && d->rss.set)
		rc = hash_send(d, &d->rss);
	return rc;
}

/* ---- receive offloads (spec 5.1.6.5.6.1) ---------------------------------- */

/* The receive offloads negotiated: all of them in force after a reset. */
static uint64_t rx_off_negotiated(const struct vnet_dev *d)
{
	return d->features & VNET_RX_OFFLOADS;
}

/* One SET: the le64 of the offloads wanted. Answered, @off is in force
 * (OK) or nothing changed (ERR). Unanswered (no answer in time, or a
 * queue broken before or meanwhile), the device may have taken it or not:
 * only what is on either way counts as in force. */
static int rx_off_send(struct vnet_dev *d, uint64_t off)
{
	uint8_t le[8];
	int rc;

	vnet_put_le32(le, (uint32_t)off);
	vnet_put_le32(le + 4, (uint32_t)(off >> 32));
	rc = vnet_ctrl_cmd(d, VIRTIO_NET_CTRL_GUEST_OFFLOADS, VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET, le, 8);
	if (rc == 0)
		d->rx_off = off;
	else if (d->ctrlq.broken)
		d->rx_off &= off;
	return rc;
}

int vnet_dev_set_rx_offloads(struct vnet_dev *d, uint64_t off)
{
	const uint64_t tso = VNET_F_GUEST_TSO4 | VNET_F_GUEST_TSO6;
	int rc = need(d, VNET_F_CTRL_GUEST_OFFLOADS);

	if (rc)
		return rc;
	/* spec 5.1.6.5.6.1: nothing not negotiated; 5.1.3.1: TSO needs CSUM */
	if ((off & ~rx_off_negotiated(d)) || ((off & tso) && !(off & VNET_F_GUEST_CSUM)))
		return -EINVAL;
	rc = rx_off_send(d, off);
	/* taken, or maybe taken: the next reset sends it (again) */
	if (rc == 0 || d->ctrlq.broken) {
		d->rx_off_want = off;
		d->rx_off_set = true;
	}
	if (rc == 0)
		vnet_log(VNET_LOG_INFO, "net: receive offloads now 0x%llx (negotiated 0x%llx)",
		         (unsigned long long)off, (unsigned long long)rx_off_negotiated(d));
	return rc;
}

uint64_t vnet_dev_rx_offloads(const struct vnet_dev *d)
{
	return d ? d->rx_off : 0;
}

int vnet_rx_offloads_restore(struct vnet_dev *d, bool device_reset)
{
	if (device_reset)
		d->rx_off = rx_off_negotiated(d);
	if (!d->rx_off_set)
		return 0;
	return rx_off_send(d, d->rx_off_want);
}

/* ---- RSS and hash report (spec 5.1.6.5.7, 5.1.6.5.5) ---------------------- */

/* The key of the published RSS verification suite: a peer that knows the
 * hash types and the table can tell which queue a flow lands on. */
static const uint8_t default_key[VNET_RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

const uint8_t *vnet_rss_default_key(void)
{
	return default_key;
}

/* Hash types and key, checked against the device's limits (5.1.4.1: the
 * driver sets no type the device does not support and no key longer than
 * rss_max_key_size) into @st. 0 or -EINVAL, with the reason logged. */
static int hash_args(const struct vnet_dev *d, struct vnet_rss_state *st, uint32_t types, const uint8_t *key,
                     uint8_t key_len)
{
	if (types & ~d->cfg.hash_types) {
		vnet_log(VNET_LOG_ERR, "net: hash types 0x%x: the device supports 0x%x", (unsigned)types,
		         (unsigned)d->cfg.hash_types);
		return -EINVAL;
	}
	if (!key) {
		if (key_len) {
			vnet_log(VNET_LOG_ERR, "net: a key length (%u) without a key", (unsigned)key_len);
			return -EINVAL;
		}
		key = default_key;
		key_len = VNET_RSS_KEY_LEN; /* the device takes 40 (validate_rss) */
	}
	if (!key_len || key_len > d->cfg.rss_max_key_size) {
		vnet_log(VNET_LOG_ERR, "net: hash key of %u bytes: the device takes 1..%u", (unsigned)key_len,
		         (unsigned)d->cfg.rss_max_key_size);
		return -EINVAL;
	}
	st->types = types;
	st->key_len = key_len;
	memcpy(st->key, key, key_len);
	return 0;
}

/* The longest table vnet sends to this device. */
static uint16_t table_max(const struct vnet_dev *d)
{
	return d->cfg.rss_max_table_len < VNET_RSS_TABLE_MAX ? d->cfg.rss_max_table_len : VNET_RSS_TABLE_MAX;
}

/* Table and unclassified queue, checked (5.1.6.5.7: only queues in use, a
 * power-of-two length within rss_max_indirection_table_length) into @st. */
static int table_args(const struct vnet_dev *d, struct vnet_rss_state *st, const struct vnet_rss_conf *c)
{
	uint16_t n = c->table_len ? c->table_len : table_max(d), i;

	/* a length needs its table, a table its length (never read past it) */
	if ((n & (n - 1)) || n > table_max(d) || !c->table != !c->table_len) {
		vnet_log(VNET_LOG_ERR, "net: RSS table of %u entries%s: a power of two up to %u", (unsigned)c->table_len,
		         c->table ? "" : " without the table", (unsigned)table_max(d));
		return -EINVAL;
	}
	if (c->unclassified >= d->active) {
		vnet_log(VNET_LOG_ERR, "net: RSS unclassified queue %u: %u queue pairs in use", (unsigned)c->unclassified,
		         (unsigned)d->active);
		return -EINVAL;
	}
	for (i = 0; c->table && i < n; i++) {
		if (c->table[i] >= d->active) {
			vnet_log(VNET_LOG_ERR, "net: RSS table entry %u names queue %u: %u queue pairs in use",
			         (unsigned)i, (unsigned)c->table[i], (unsigned)d->active);
			return -EINVAL;
		}
		st->table[i] = c->table[i];
	}
	st->default_table = !c->table;
	st->table_len = n;
	st->unclassified = c->unclassified;
	return 0;
}

/* RSS_CONFIG for @st with @pairs transmit queues (max_tx_vq: the command
 * sets the pairs in use too). A default table round-robins over @pairs. */
static int rss_send(struct vnet_dev *d, const struct vnet_rss_state *st, uint16_t pairs)
{
	uint8_t *b = malloc(4 + 2 + 2 + 2 * VNET_RSS_TABLE_MAX + 2 + 1 + 255);
	uint32_t off = 8, i;
	int rc;

	if (!b)
		return -ENOMEM;

	vnet_put_le32(b, st->types);
	vnet_put_le16(b + 4, (uint16_t)(st->table_len - 1));
	vnet_put_le16(b + 6, st->unclassified);
	for (i = 0; i < st->table_len; i++, off += 2)
		vnet_put_le16(b + off, st->default_table ? (uint16_t)(i % pairs) : st->table[i]);
	vnet_put_le16(b + off, pairs);
	b[off + 2] = st->key_len;
	memcpy(b + off + 3, st->key, st->key_len);
	rc = vnet_ctrl_cmd(d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG, b, off + 3 + st->key_len);
	free(b);
	return rc;
}

/* HASH_CONFIG for @st: types, four reserved le16, key. */
static int hash_send(struct vnet_dev *d, const struct vnet_rss_state *st)
{
	uint8_t b[4 + 8 + 1 + 255] = {0};

	vnet_put_le32(b, st->types);
	b[12] = st->key_len;
	memcpy(b + 13, st->key, st->key_len);
	return vnet_ctrl_cmd(d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_HASH_CONFIG, b, 13u + st->key_len);
}

/* Taken (or maybe taken: a queue that broke meanwhile is reset and the
 * configuration sent again) becomes what recovery restores. */
static void rss_commit(struct vnet_dev *d, const struct vnet_rss_state *st, int rc)
{
	if (rc == 0 || d->ctrlq.broken)
		d->rss = *st;
}

int vnet_dev_set_rss(struct vnet_dev *d, const struct vnet_rss_conf *c)
{
	struct vnet_rss_state *st;
	int rc = need(d, VNET_F_RSS);

	if (rc)
		return rc;
	if (!c) {
		/* automatic steering again: the last MQ command decides */
		rc = vnet_ctrl_cmd(d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &d->active, 2);
		if (rc == 0 || d->ctrlq.broken)
			d->rss.set = false;
		return rc;
	}
	st = calloc(1, sizeof(*st)); /* 2 KiB of table: not on the stack */
	if (!st)
		return -ENOMEM;
	rc = hash_args(d, st, c->hash_types, c->key, c->key_len);
	if (rc == 0)
		rc = table_args(d, st, c);
	if (rc == 0) {
		st->set = st->rss = true;
		rc = rss_send(d, st, d->active);
		rss_commit(d, st, rc);
	}
	if (rc == 0)
		vnet_log(VNET_LOG_INFO, "net: RSS: hash types 0x%x, %u-byte key, %s table of %u over %u pairs",
		         (unsigned)st->types, (unsigned)st->key_len, st->default_table ? "round-robin" : "given",
		         (unsigned)st->table_len, (unsigned)d->active);
	free(st);
	return rc;
}

int vnet_dev_set_hash(struct vnet_dev *d, uint32_t types, const uint8_t *key, uint8_t key_len)
{
	struct vnet_rss_state *st;
	int rc = need(d, VNET_F_HASH_REPORT);

	if (rc)
		return rc;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	rc = hash_args(d, st, types, key, key_len);
	if (rc == 0) {
		st->set = true;
		rc = hash_send(d, st);
		rss_commit(d, st, rc);
	}
	free(st);
	return rc;
}

/* A new count of pairs in use with RSS in force: the RSS configuration
 * again, with it (max_tx_vq), instead of VQ_PAIRS_SET (which would turn
 * RSS off: 5.1.6.5.5). An explicit table must name only pairs kept. */
static int rss_set_pairs(struct vnet_dev *d, uint16_t pairs)
{
	uint16_t i, named = d->rss.unclassified;
	int rc;

	for (i = 0; !d->rss.default_table && i < d->rss.table_len; i++)
		if (d->rss.table[i] > named)
			named = d->rss.table[i];
	if (named >= pairs) {
		vnet_log(VNET_LOG_ERR, "net: %u queue pairs: the RSS configuration names pair %u", (unsigned)pairs,
		         (unsigned)named);
		return -EINVAL;
	}
	rc = rss_send(d, &d->rss, pairs);
	if (rc == 0)
		d->active = pairs;
	return rc;
}

int vnet_rss_restore(struct vnet_dev *d)
{
	if (!d->rss.set)
		return 0;
	return d->rss.rss ? rss_send(d, &d->rss, d->active) : hash_send(d, &d->rss);
}
