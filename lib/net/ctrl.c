/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control virtqueue (spec 5.1.6.5): one command at a time, as a chain
 * of two descriptors, class + command + data (device-readable) and the
 * ack byte (device-writable), then a bounded wait for the answer. Not on
 * the fast path.
 */
#include <errno.h>
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
	struct vring_desc *h, *a;
	uint64_t deadline;
	uint16_t slot, used0;

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
	/* descriptors 0 and 1 form the only chain ever in flight */
	h = &vq->desc[0];
	a = &vq->desc[1];
	h->addr = d->ctrl_buf.iova;
	h->len = len + 2;
	h->flags = VRING_DESC_F_NEXT;
	h->next = 1;
	a->addr = d->ctrl_buf.iova + CTRL_ACK_OFF;
	a->len = 1;
	a->flags = VRING_DESC_F_WRITE;
	slot = vq->avail_idx & vq->mask;
	vq->avail->ring[slot] = 0;
	vq->avail_idx++;
	used0 = vq->last_used;
	/* a control command always kicks: the device may sleep on this queue */
	vnet_wmb();
	vnet_store16(&vq->avail->idx, vq->avail_idx);
	vnet_mb();
	d->t->ops->notify(d->t, vq->qidx);
	vq->stats.kicks++;
	deadline = vnet_now_us() + CTRL_TIMEOUT_US;
	for (;;) {
		uint16_t u = vnet_load16(&vq->used->idx);
		if (u != used0) {
			uint32_t id;
			vnet_rmb();
			id = ((volatile struct vring_used_elem *)&vq->used->ring[used0 & vq->mask])->id;
			vq->last_used = (uint16_t)(used0 + 1);
			if ((uint16_t)(u - used0) != 1 || id != 0) {
				/* only one chain was ever out: anything else is a broken device */
				vq->stats.drop_bad_id++;
				vq->broken = true;
				return -EIO;
			}
			vq->stats.packets++;
			return *ack == VIRTIO_NET_OK ? 0 : -EIO;
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
	rc = vnet_ctrl_cmd(d, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2);
	if (rc == 0)
		d->active = pairs;
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
