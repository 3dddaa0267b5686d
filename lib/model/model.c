/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The in-process virtio-net device model: the DEVICE side of split (virtio
 * 1.2 spec 2.7) and packed (spec 2.8) virtqueues and of the network device
 * (spec 5.1), written from the spec. The driver reaches it only through the
 * transport ops in this file and through ring memory, exactly as it would
 * reach a real device. Single-threaded: the device works only
 * inside vnet_model_poll(), and when the driver notifies the control queue
 * (a driver waits for its commands, as on a real device). Other
 * notifications are counted, not acted on.
 *
 * Queues (spec 5.1.2): receiveqN = 2(N-1), transmitqN = 2(N-1)+1; controlq
 * = 2 * max_pairs with MQ negotiated, 2 without (and only with CTRL_VQ).
 *
 * Legacy (conf.legacy, spec 4.1.4.8): the same device behind a legacy
 * face: 32 feature bits, FEATURES_OK not kept (the features the driver
 * wrote are in force once written, if offered), and each split ring found
 * from its descriptor table's address in the legacy layout
 * (t_queue_setup_legacy): a driver that lays its rings out otherwise loses
 * its frames, as on a real legacy device.
 *
 * Choices worth knowing (the driver's tests rely on them):
 *  - No frame FIFO. A TX frame is delivered to its destination's RX ring in
 *    the same poll or dropped: no buffer posted (or the frame does not fit
 *    the next one) -> dropped and counted in the RECEIVING model's
 *    rx_no_buffer; the TX buffer is completed regardless. Back-pressure
 *    comes only from rx_budget/latency, which leave TX chains in the TX
 *    ring (unread) until a later poll.
 *  - An RX buffer that is too small is left posted (not consumed). With
 *    MRG_RXBUF a frame takes as many buffers as it needs (num_buffers in
 *    the first header, every buffer but the last filled); if the buffers
 *    posted cannot hold it, none is consumed and the frame is dropped.
 *  - Every TX frame that parses is counted (tx_frames/tx_bytes) and shown
 *    to the tap, whatever the backend and link state. Link down (on the
 *    sender or, for WIRE, on either side) then drops it silently. The tap
 *    sees frames as they leave the device: checksums completed (CSUM), TSO
 *    frames cut into segments (one tap call each), unless the frame goes
 *    whole to a GUEST_TSO receiver (or unfinished to a PARTIAL one).
 *  - A TX chain is read when it is processed, i.e. `latency` polls after
 *    the device first saw it: a driver that rewrites a buffer in flight
 *    sees its new content (or garbage) arrive.
 *  - Used entries of one poll are published with one used->idx store per
 *    queue (split), or by storing the flags of the poll's first used
 *    descriptor last, after a write barrier (packed: the driver sees the
 *    whole batch at once). For WIRE, a's poll writes into b's RX ring and
 *    publishes it at the end of a's poll, using b's fault state and
 *    counters.
 *  - Bad driver input (spec 2.7.5 / 2.8 descriptor rules) is counted in
 *    bad_desc and the chain completed with len 0; an avail index that
 *    moves backwards or more than a ring's worth ahead, or (packed) a chain
 *    that runs past the available descriptors or is longer than the ring,
 *    is a device error: bad_desc++ and DEVICE_NEEDS_RESET (spec 2.1.2), as
 *    QEMU does.
 *  - A TX frame (chain minus the header) must be 14 .. mtu + 18 bytes, else
 *    it is bad; a TSO frame (gso_type set) may be up to 65593 bytes. TX
 *    used len is 0 (the device writes nothing there).
 *  - TX header (spec 5.1.6.2): NEEDS_CSUM needs CSUM negotiated and
 *    csum_start + csum_offset + 2 <= frame length; gso_type TCPV4/TCPV6
 *    needs HOST_TSO4/6, NEEDS_CSUM and gso_size > 0, and a TCP over IPv4
 *    (no fragment) / IPv6 (no extension header) frame whose segments fit
 *    the MTU; UDP, ECN or unknown GSO types are refused. A refused header:
 *    tx_bad_hdr++, the frame is dropped (not in tx_frames), TX completed.
 *  - CSUM: the model completes the checksum at csum_start + csum_offset
 *    (ones' complement of csum_start..end, the field holding the pseudo-
 *    header sum) before delivery - unless the receiver negotiated
 *    GUEST_CSUM with conf.rx_csum PARTIAL, which gets the frame unfinished
 *    with NEEDS_CSUM and the sender's csum_start/offset.
 *  - HOST_TSO: the model cuts a TSO frame into gso_size segments: IPv4
 *    total length, id (+1 per segment) and header checksum, IPv6 payload
 *    length, TCP sequence numbers, FIN/PSH on the last segment only, CWR on
 *    the first only, and every TCP checksum computed afresh. A receiver
 *    that negotiated GUEST_TSO4/6 (LOOPBACK/REFLECTOR: the same model; WIRE:
 *    the peer) gets the frame whole instead: gso_type, gso_size, hdr_len =
 *    all headers, NEEDS_CSUM with csum_start at TCP, csum_offset 16 (it then
 *    needs MRG_RXBUF or buffers big enough, else rx_no_buffer).
 *  - GUEST_CSUM: with conf.rx_csum VALID or PARTIAL, a frame whose TCP/UDP
 *    checksum (IPv4 without fragments, IPv6 without extension headers; IPv4
 *    header checksum too; UDP checksum 0 does not count) the model verifies
 *    is delivered with DATA_VALID. The check runs after BAD_CSUM, like a
 *    NIC's.
 *  - Control queue (CTRL_VQ, spec 5.1.6.5): class + command + data in
 *    device-readable descriptors, the ack byte first in the device-writable
 *    part (used len 1). Executed when the driver notifies the control queue
 *    (and at every poll); its notifications are always wanted. OK for: RX
 *    PROMISC/ALLMULTI (CTRL_RX; one byte 0/1), MAC TABLE_SET (CTRL_RX; two
 *    le32-counted tables, exact length), MAC ADDR_SET (CTRL_MAC_ADDR; 6
 *    bytes, not multicast: config mac changes, generation bumps), VLAN
 *    ADD/DEL (CTRL_VLAN; le16 vid < 4096), ANNOUNCE ACK (GUEST_ANNOUNCE; no
 *    data: clears STATUS ANNOUNCE, generation bumps), MQ VQ_PAIRS_SET (MQ;
 *    le16 1..max_pairs), GUEST_OFFLOADS SET (CTRL_GUEST_OFFLOADS; one le64
 *    of negotiated receive offloads, spec 5.1.6.5.6.1: from then on, with
 *    GUEST_TSO4/6 off TSO frames are cut as for a receiver without it, and
 *    with GUEST_CSUM off no frame gets DATA_VALID, a partial checksum or
 *    a whole TSO frame). Anything else, or a feature not negotiated: ERR,
 *    and nothing changes. A chain without 2 readable and 1 writable bytes
 *    is bad (bad_desc, len 0).
 *  - RSS and HASH_REPORT (spec 5.1.6.4.3, 5.1.6.5.7), offered with conf.features:
 *    config space shows rss_max_key_size 40, rss_max_indirection_table_length
 *    128 (RSS) and supported_hash_types IPv4, TCPv4, UDPv4, IPv6, TCPv6,
 *    UDPv6 (0x3f; no _EX type). MQ RSS_CONFIG (RSS): hash types supported,
 *    table length mask + 1 a power of two up to 128, every entry and the
 *    unclassified queue below max_tx_vq, max_tx_vq 1..max_pairs (it sets
 *    the pairs in use), key 1..40 bytes (0 only with no hash type), exact
 *    length; MQ HASH_CONFIG (HASH_REPORT): types, four reserved le16, key.
 *    The last MQ command decides (5.1.6.5.5): VQ_PAIRS_SET turns RSS and
 *    the hash off, HASH_CONFIG turns RSS off. With RSS a frame sent by the
 *    driver (LOOPBACK, REFLECTOR, WIRE; not SOURCE's) goes to the pair
 *    table[hash & (len - 1)], or unclassified when no enabled type covers
 *    it; with HASH_REPORT negotiated and RSS_CONFIG or HASH_CONFIG in force
 *    the 20-byte header carries hash_value and hash_report. The Toeplitz
 *    input: IPv4 addresses (+ TCP/UDP ports unless a fragment), IPv6
 *    addresses (+ ports when TCP/UDP follows the fixed header at once),
 *    through one 802.1Q tag. Reset: automatic steering, no hash.
 *  - RX filter, for frames the model delivers: with CTRL_VLAN negotiated a
 *    802.1Q-tagged frame passes only if its vid is in the table (empty at
 *    reset); with CTRL_RX negotiated and promiscuous mode off (it starts
 *    ON, as on QEMU, so a driver that sends no command sees no change):
 *    the device's MAC, broadcast, the unicast table, and multicast if
 *    allmulti or in the multicast table. A table given more than
 *    VNET_MODEL_MAC_TABLE entries overflows: all of that kind pass.
 *    Filtered frames: rx_filtered++ (no buffer used).
 *  - MQ: pairs 0 .. active-1 are served (1 until VQ_PAIRS_SET); TX queues of
 *    other pairs are not read. LOOPBACK/REFLECTOR keep a frame on its pair;
 *    WIRE delivers to the peer's pair (pair mod the peer's active pairs);
 *    SOURCE fills every active pair (each gets up to rx_budget per poll).
 *  - IN_ORDER (spec 2.7.9, 2.8.8): the model uses buffers in order anyway;
 *    with IN_ORDER negotiated, TX completions of one poll (per queue) are
 *    written as ONE used entry (split: at the first entry's slot, used idx
 *    moves by the batch; packed: one used descriptor with the last buffer
 *    id, positions move by the batch's descriptors) - used_batches counts
 *    those covering more than one buffer. RX is written entry by entry
 *    (each has its own length). Split: a chain whose descriptors are not
 *    the next ones in table order (spec 2.7.5) is bad. Batching is off
 *    while a USED_* fault is armed.
 *  - INDIRECT_DESC: split (spec 2.7.5.3): a descriptor with INDIRECT (and
 *    not NEXT) at the end of a chain; the table (len a non-zero multiple of
 *    16) is walked through its next fields. Packed (spec 2.8.7): every
 *    entry of the table, in order. Not negotiated: INDIRECT is bad.
 *    A chain may have at most `size` elements in all.
 *  - RING_RESET (spec 2.6.1): the queue_reset op resets one queue: it
 *    forgets its state (avail, used, TX latency, IN_ORDER batch, held packed
 *    flags), neither reads nor completes what the driver had posted, and is
 *    not served until queue_setup enables it again (allowed after DRIVER_OK
 *    for a queue reset so). Not negotiated, or no such queue: -EINVAL.
 *  - Packed ring sizes must be powers of two in this model (positions run
 *    free over 16 bits and carry the wrap counter). The driver event
 *    suppression area is ignored (the model never interrupts); the device
 *    area says DISABLE (without EVENT_IDX) or DESC at the descriptor one
 *    ring ahead of the next one to read (with EVENT_IDX), which no
 *    legal window can reach; ENABLE / DESC at the next descriptor with
 *    want_notify, and always on the control queue.
 *  - vnet_model_poll() returns TX chains consumed (bad ones included) plus
 *    frames SOURCE generated plus control commands; 0 means the device
 *    found nothing to do.
 *  - Reset keeps armed faults, counters, link state and the SOURCE
 *    sequence; it clears the RX mode (promisc on), MAC (back to conf.mac),
 *    tables, VLANs, active pairs (1) and STATUS ANNOUNCE, and turns every
 *    negotiated receive offload on again.
 *  - The transport's bus_master op stands for PCI's Bus Master Enable:
 *    off (the driver's answer to a reset that did not complete), the model
 *    touches no ring and no buffer until it is on again; a reset does not
 *    change it (bus_master_off in the stats and the state).
 *  - vnet_model_config_override() makes config space lie (values the spec
 *    forbids included), for the driver's checks; the model itself goes on
 *    by conf.
 *
 * Faults (vnet_model_fault(m, f, n): the next n times it can take effect;
 * each one that does counts in faults_fired). A fault belongs to the model
 * whose ring or register it touches: for WIRE, arm RX faults on the
 * receiving model. USED_* faults never touch the control queue.
 * Split rings:
 *  USED_ID_RANGE   used ring, one EXTRA entry {id = size, len 0} right
 *                  before the next genuine completion (any data queue).
 *  USED_ID_IDLE    used ring, one EXTRA entry {id = lowest descriptor id not
 *                  in flight, len 0} right before the next genuine one.
 *  USED_DUP        used ring, the next genuine entry written twice in a row.
 *                  (These three wait until the extra fits: extra_room().)
 *  USED_LEN        used ring, next RX completion: the genuine buffer with
 *                  len = its chain's total length + 1; data written right.
 *  USED_IDX_JUMP   used->idx, next store that publishes new entries: true
 *                  idx + size + 7; the next store on that queue is true.
 * Packed rings (a used descriptor occupies the position of the buffer it
 * completes, so there is no room for an extra one: these faults cost the
 * driver that buffer until it resets the device):
 *  USED_ID_RANGE   the next completion's used descriptor carries id = size.
 *  USED_ID_IDLE    ... carries the lowest id named by no descriptor in the
 *                  ring (nor the genuine one).
 *  USED_DUP        the next completion is genuine; the one after it on the
 *                  same queue carries the same id again.
 *  USED_LEN        as for split.
 *  USED_IDX_JUMP   the next used descriptor is written with the other
 *                  lap's wrap state (AVAIL == USED == !wrap counter).
 * Both:
 *  CONFIG_CHURN    config space: each of the next n read_config calls bumps
 *                  the generation and sees LINK_UP flipped.
 *  REFUSE_FEATURES status: the next n FEATURES_OK writes do not stick.
 *  NEEDS_RESET     status: next poll of a live device sets
 *                  DEVICE_NEEDS_RESET; no ring is touched until reset.
 *  RESET_STUCK     status: the next n writes of 0 are ignored, status reads
 *                  old | DEVICE_NEEDS_RESET; the reset op gives -ETIMEDOUT.
 *  BAD_CSUM        RX data: the next n frames delivered get one byte flipped
 *                  (last byte of the IPv4 datagram, else of the frame).
 *  QUEUE_RESET_STUCK   the next n queue resets never complete (queue_reset
 *                  keeps reading 1: -ETIMEDOUT); the queue goes on as before.
 *  QUEUE_RESET_IGNORED the next n queue resets read complete at once, but
 *                  the queue stays enabled and goes on (-EIO: queue_enable
 *                  still reads 1), like a device that offers RING_RESET
 *                  without implementing the register.
 *  OFFLOADS_IGNORED    the next n GUEST_OFFLOADS SET commands are answered
 *                  OK and change nothing (a device that goes on using the
 *                  receive offloads the driver turned off).
 *  HASH_REPORT_BAD     the next n frames delivered with a hash carry
 *                  hash_report 0x7777, a value the spec does not define.
 *  INDIRECT_SCRIBBLE   the next n indirect tables the device reads are
 *                  overwritten with 0xa5 bytes once read (a device writing
 *                  memory it may only read); a driver must never trust a
 *                  table's content afterwards.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "model/model_int.h"

#define MODEL_RESET_POLLS 64
/* Largest TSO frame: Ethernet + VLAN + IPv6 header + 64 KiB payload. */
#define GSO_FRAME_MAX (ETH_HLEN + VLAN_HLEN + 40 + 65535)

/* Defaults (model.h) */
#define DEF_FEATURES (VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_MTU | VNET_F_STATUS | VNET_F_EVENT_IDX)
#define DEF_MTU 1500
#define DEF_QUEUE_MAX 1024
#define DEF_SOURCE_LEN 64
#define MAX_QUEUE_SIZE 32768 /* spec 2.7, 2.8 */

/* Features the model can honour if the driver accepts them (spec 2.2.1:
 * a device must not offer what it would not support). */
#define SUPPORTED_FEATURES                                                             \
	(VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_MTU | VNET_F_STATUS | VNET_F_EVENT_IDX |  \
	 VNET_F_MRG_RXBUF | VNET_F_SPEED_DUPLEX | VNET_F_CSUM | VNET_F_GUEST_CSUM |       \
	 VNET_F_GUEST_TSO4 | VNET_F_GUEST_TSO6 | VNET_F_HOST_TSO4 | VNET_F_HOST_TSO6 |    \
	 VNET_F_CTRL_VQ | VNET_F_CTRL_RX | VNET_F_CTRL_VLAN | VNET_F_GUEST_ANNOUNCE |      \
	 VNET_F_MQ | VNET_F_CTRL_MAC_ADDR | VNET_F_INDIRECT_DESC | VNET_F_RING_PACKED |    \
	 VNET_F_IN_ORDER | VNET_F_RING_RESET | VNET_F_CTRL_GUEST_OFFLOADS | VNET_F_RSS |     \
	 VNET_F_HASH_REPORT)

/* The transport ops get the model back from their transport. */
static struct vnet_model *tm(struct vnet_transport *t)
{
	return (struct vnet_model *)(void *)t;
}

/* Pairs the driver can use: max_pairs with MQ negotiated, else 1. */
static uint32_t pairs(const struct vnet_model *m)
{
	return has(m, VNET_F_MQ) ? m->conf.max_pairs : 1;
}

/* Where transport queue @qi lives in m->q once features are negotiated,
 * or -1 (spec 5.1.2). */
static int32_t queue_index(const struct vnet_model *m, uint32_t qi)
{
	uint32_t np = pairs(m);

	if (has(m, VNET_F_CTRL_VQ) && qi == 2 * np)
		return (int32_t)m->nq - 1;
	return qi < 2 * np ? (int32_t)qi : -1;
}

static struct mq *queue_of(struct vnet_model *m, uint32_t qi)
{
	int32_t i = queue_index(m, qi);

	return i < 0 ? NULL : &m->q[i];
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
	moved += model_ctrl_run(m);
	for (uint32_t i = 0; i + 1 < m->nq; i++) {
		m->q[i].poll_left = 0;
		if (m->q[i].size && model_refresh_avail(m, &m->q[i]) < 0)
			return moved;
	}
	/* Upper bounds of what this poll completes, for extra_room(). */
	m->tx_quota = 0;
	for (uint32_t p = 0; p < m->active; p++) {
		struct mq *t = txq(m, p);

		t->quota = t->size ? min_u32(window(t), budget(m)) : 0;
		t->poll_left = t->quota;
		m->tx_quota += t->quota;
		if (m->conf.backend == VNET_MODEL_LOOPBACK || m->conf.backend == VNET_MODEL_REFLECTOR)
			rxq(m, p)->poll_left = min_u32(window(rxq(m, p)), t->quota);
	}
	for (uint32_t p = 0; p < m->active && is_live(m); p++)
		if (txq(m, p)->quota)
			moved += model_tx_run(m, txq(m, p));
	if (m->conf.backend == VNET_MODEL_SOURCE)
		for (uint32_t p = 0; p < m->active && is_live(m); p++)
			moved += model_source_run(m, p);
	for (uint32_t i = 0; i + 1 < m->nq; i++) {
		if (!m->q[i].size)
			continue;
		model_publish(m, &m->q[i]);
		model_suppress(m, &m->q[i]);
	}
	if (m->peer) {
		for (uint32_t p = 0; p < m->peer->conf.max_pairs; p++) {
			struct mq *r = rxq(m->peer, p);

			if (r->touched) {
				r->touched = false;
				if (r->size)
					model_publish(m->peer, r);
			}
		}
	}
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
	m->announce = true; /* until ANNOUNCE_ACK (GUEST_ANNOUNCE) or reset */
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

void vnet_model_get_state(const struct vnet_model *m, struct vnet_model_state *out)
{
	if (!m || !out)
		return;
	memset(out, 0, sizeof(*out));
	out->features = m->drv_features;
	out->rx_offloads = m->drv_features & m->rx_off & VNET_RX_OFFLOADS;
	memcpy(out->mac, m->mac, ETH_ALEN);
	out->promisc = m->promisc;
	out->allmulti = m->allmulti;
	out->announce = m->announce;
	out->uc_overflow = m->uc_overflow;
	out->mc_overflow = m->mc_overflow;
	out->active_pairs = m->active;
	out->uc_entries = m->uc_n;
	out->mc_entries = m->mc_n;
	for (uint32_t i = 0; i < sizeof(m->vlan); i++)
		out->vlans += (uint32_t)__builtin_popcount(m->vlan[i]);
	out->bus_master_off = m->bm_off;
	out->rss = m->rss.steer;
	out->hash_report = m->rss.hash;
	out->hash_types = m->rss.types;
	out->rss_table_len = m->rss.steer ? m->rss.table_len : 0;
	out->rss_unclassified = m->rss.unclassified;
	out->rss_key_len = m->rss.key_len;
	memcpy(out->rss_key, m->rss.key, m->rss.key_len);
}

int vnet_model_rss_entry(const struct vnet_model *m, uint16_t i)
{
	if (!m || !m->rss.steer || i >= m->rss.table_len)
		return -1;
	return m->rss.table[i];
}

uint32_t vnet_model_toeplitz(const uint8_t *key, uint32_t key_len, const uint8_t *in, uint32_t n)
{
	return key && in ? model_toeplitz(key, key_len, in, n) : 0;
}

int vnet_model_config_override(struct vnet_model *m, uint32_t off, const void *bytes, uint32_t len)
{
	if (!m || (len && (!bytes || off > CFG_SIZE || len > CFG_SIZE - off)))
		return -EINVAL;
	if (!len) {
		memset(m->cfg_over_set, 0, sizeof(m->cfg_over_set));
	} else {
		memcpy(m->cfg_over + off, bytes, len);
		memset(m->cfg_over_set + off, 1, len);
	}
	m->generation++;
	return 0;
}

int vnet_model_mac_entry(const struct vnet_model *m, bool multicast, uint32_t i, uint8_t mac[6])
{
	uint32_t n;

	if (!m || !mac)
		return -EINVAL;
	n = multicast ? m->mc_n : m->uc_n;
	if (i >= n || i >= VNET_MODEL_MAC_TABLE)
		return -ENOENT;
	memcpy(mac, multicast ? m->mc[i] : m->uc[i], ETH_ALEN);
	return 0;
}

bool vnet_model_vlan(const struct vnet_model *m, uint16_t vid)
{
	return m && vid < 4096 && (m->vlan[vid / 8] & (1u << (vid % 8)));
}

uint64_t vnet_model_queue_frames(const struct vnet_model *m, uint16_t qi)
{
	int32_t i;

	if (!m)
		return 0;
	i = queue_index(m, qi);
	return i < 0 ? 0 : m->q[i].frames;
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

/* Device reset (spec 2.4): status, features, queues and what the control
 * queue set go; link state, counters, armed faults and the SOURCE sequence
 * stay (a fault armed before vnet_dev_open() must survive the reset that
 * open starts with). Per-queue frame counters stay too.
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
	m->feat_written = false;
	m->announce = false;
	m->promisc = true;
	m->allmulti = m->uc_overflow = m->mc_overflow = false;
	m->uc_n = m->mc_n = 0;
	memcpy(m->mac, m->conf.mac, ETH_ALEN);
	memset(m->vlan, 0, sizeof(m->vlan));
	m->active = 1;
	m->rx_off = ~0ULL; /* spec 5.1.6.5.6.1: every negotiated offload on */
	memset(&m->rss, 0, sizeof(m->rss)); /* automatic steering, no hash */
	for (uint32_t i = 0; i < m->nq; i++) {
		uint64_t frames = m->q[i].frames;

		memset(&m->q[i], 0, sizeof(m->q[i]));
		m->q[i].frames = frames;
	}
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
		m->st.resets++;
		dev_reset(m);
		return;
	}
	if (m->conf.legacy) /* a legacy device has no FEATURES_OK */
		v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(m->status & VIRTIO_STATUS_FEATURES_OK)) {
		if (m->drv_features & ~m->conf.features)
			v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		else if (fault_take(m, VNET_FAULT_REFUSE_FEATURES))
			v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	}
	m->status = (uint8_t)(v | (m->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
}

/* Features in force: after FEATURES_OK; legacy (no FEATURES_OK, spec
 * 3.1.2), once the driver wrote them, if it wrote only what was offered. */
static bool features_done(const struct vnet_model *m)
{
	if (m->conf.legacy)
		return m->feat_written && !(m->drv_features & ~m->conf.features);
	return (m->status & VIRTIO_STATUS_FEATURES_OK) != 0;
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

	if (m->conf.legacy && !(m->status & VIRTIO_STATUS_DRIVER_OK)) {
		m->drv_features = f;
		m->feat_written = true;
	} else if (!m->conf.legacy && !(m->status & VIRTIO_STATUS_FEATURES_OK)) {
		m->drv_features = f;
	}
}

static uint32_t t_config_generation(struct vnet_transport *t)
{
	return tm(t)->generation;
}

/*
 * virtio_net_config (spec 5.1.4), little-endian. Bytes past the image read
 * as 0. max_virtqueue_pairs is conf.max_pairs when MQ is offered (else 1),
 * speed/duplex come from conf (unknown by default). CONFIG_CHURN: each of
 * the next N read_config calls first bumps the generation, and that one
 * read sees status with LINK_UP flipped (a config change racing the read).
 * Only a driver that retries until the generation is stable (spec 2.5.1)
 * reads the true value; the true state never changes, so N may be odd or
 * even.
 */
static void t_read_config(struct vnet_transport *t, uint32_t off, void *buf, uint32_t len)
{
	static const uint8_t duplex[] = {0xff, 0x01, 0x00};
	struct vnet_model *m = tm(t);
	uint8_t img[CFG_SIZE] = {0};
	uint16_t status = (uint16_t)((m->link_up ? VIRTIO_NET_S_LINK_UP : 0) |
	                             (m->announce ? VIRTIO_NET_S_ANNOUNCE : 0));
	uint32_t speed = m->conf.speed ? m->conf.speed : 0xffffffffu;
	uint8_t *out = buf;

	if (fault_take(m, VNET_FAULT_CONFIG_CHURN)) {
		m->generation++;
		status ^= VIRTIO_NET_S_LINK_UP;
	}
	memcpy(img + VIRTIO_NET_CFG_MAC, m->mac, ETH_ALEN);
	vnet_put_le16(img + VIRTIO_NET_CFG_STATUS, status);
	vnet_put_le16(img + VIRTIO_NET_CFG_MAX_PAIRS, (m->conf.features & VNET_F_MQ) ? m->conf.max_pairs : 1);
	vnet_put_le16(img + VIRTIO_NET_CFG_MTU, m->conf.mtu);
	vnet_put_le32(img + VIRTIO_NET_CFG_SPEED, speed);
	img[VIRTIO_NET_CFG_DUPLEX] = duplex[m->conf.duplex];
	if (m->conf.features & (VNET_F_RSS | VNET_F_HASH_REPORT)) {
		img[VIRTIO_NET_CFG_RSS_MAX_KEY] = MODEL_RSS_KEY;
		vnet_put_le16(img + VIRTIO_NET_CFG_RSS_MAX_TABLE, (m->conf.features & VNET_F_RSS) ? MODEL_RSS_TABLE : 0);
		vnet_put_le32(img + VIRTIO_NET_CFG_HASH_TYPES, MODEL_HASH_TYPES);
	}
	for (uint32_t i = 0; i < CFG_SIZE; i++) /* a hostile device's values */
		if (m->cfg_over_set[i])
			img[i] = m->cfg_over[i];
	for (uint32_t i = 0; out && i < len; i++)
		out[i] = (uint64_t)off + i < CFG_SIZE ? img[off + i] : 0;
}

/* Queues that exist: before FEATURES_OK all the offer allows, after it
 * those the negotiated features define (spec 5.1.2). */
static uint16_t t_queue_max(struct vnet_transport *t, uint16_t qi)
{
	struct vnet_model *m = tm(t);
	uint64_t f = features_done(m) ? m->drv_features : m->conf.features;
	uint32_t np = (f & VNET_F_MQ) ? m->conf.max_pairs : 1;
	uint32_t n = 2 * np + ((f & VNET_F_CTRL_VQ) ? 1 : 0);

	return qi < n ? m->conf.queue_max : 0;
}

/*
 * Size a power of two <= queue_max, addresses non-zero and aligned (spec
 * 2.7 / 2.8.10.1 alignment tables), and in the order of spec 3.1.1: after
 * FEATURES_OK, before DRIVER_OK. Else -EINVAL. With RING_PACKED the three
 * addresses are the descriptor ring, the driver area and the device area.
 * Starts the queue at index 0 and writes the notification suppression
 * fields at once, so that the driver's first RX refill need not kick.
 */
static int t_queue_setup(struct vnet_transport *t, uint16_t qi, uint16_t size,
                         const struct vnet_vq_addrs *a)
{
	struct vnet_model *m = tm(t);
	bool packed = has(m, VNET_F_RING_PACKED);
	struct mq *q;
	uint64_t frames;

	if (!features_done(m))
		return -EINVAL;
	q = queue_of(m, qi);
	/* after DRIVER_OK only to enable again a queue reset alone (spec 2.6.1) */
	if ((m->status & VIRTIO_STATUS_DRIVER_OK) && !(q && q->reset))
		return -EINVAL;
	if (!q || !a || !size || (size & (size - 1)) || size > m->conf.queue_max)
		return -EINVAL;
	if (!a->desc || !a->avail || !a->used || (a->desc % VRING_DESC_ALIGN))
		return -EINVAL;
	if (packed ? (a->avail % 4 || a->used % 4) : (a->avail % VRING_AVAIL_ALIGN || a->used % VRING_USED_ALIGN))
		return -EINVAL;
	if (!iova_ptr(a->desc) || !iova_ptr(a->avail) || !iova_ptr(a->used))
		return -EINVAL;
	frames = q->frames;
	memset(q, 0, sizeof(*q));
	q->frames = frames;
	q->size = size;
	q->mask = (uint16_t)(size - 1);
	q->packed = packed;
	if (q == ctrlq(m)) {
		q->role = ROLE_CTRL;
	} else {
		q->role = (qi & 1) ? ROLE_TX : ROLE_RX;
		q->pair = (uint16_t)(qi / 2);
	}
	if (packed) {
		q->pdesc = iova_ptr(a->desc);
		q->dev_ev = iova_ptr(a->used);
	} else {
		q->desc = iova_ptr(a->desc);
		q->avail = iova_ptr(a->avail);
		q->used = iova_ptr(a->used);
	}
	model_suppress(m, q);
	return 0;
}

/*
 * VIRTIO_F_RING_RESET (spec 2.6.1, 4.1.4.3.2): the driver's side of the
 * register protocol is folded in, as t_reset folds in its status poll:
 * write 1 to queue_reset, read it until 0, then queue_enable must read 0.
 * The queue forgets everything but its frame counter (spec 2.6.1: avail
 * and used state to default) and waits for queue_setup; nothing the driver
 * posted is read or completed. See the faults at the top of this file.
 */
static int t_queue_reset(struct vnet_transport *t, uint16_t qi)
{
	struct vnet_model *m = tm(t);
	struct mq *q = queue_of(m, qi);
	uint64_t frames;

	if (!has(m, VNET_F_RING_RESET) || !features_done(m) || !q)
		return -EINVAL;
	if (q->size && fault_take(m, VNET_FAULT_QUEUE_RESET_STUCK))
		return -ETIMEDOUT; /* queue_reset never reads 0 */
	if (q->size && fault_take(m, VNET_FAULT_QUEUE_RESET_IGNORED))
		return -EIO; /* reads 0 at once, queue_enable still 1 */
	frames = q->frames;
	memset(q, 0, sizeof(*q));
	q->frames = frames;
	q->reset = true;
	m->st.queue_resets++;
	return 0;
}

/* Counted; the control queue is served at once (its driver waits). */
static void t_notify(struct vnet_transport *t, uint16_t qi)
{
	struct vnet_model *m = tm(t);

	m->st.notifies++;
	if (has(m, VNET_F_CTRL_VQ) && queue_of(m, qi) == ctrlq(m))
		model_ctrl_run(m);
}

static void t_close(struct vnet_transport *t)
{
	(void)t; /* the model owns the transport: vnet_model_destroy() frees it */
}

/* Bus Master Enable, as on PCI: off, the model touches no ring or buffer
 * (is_live) until it is on again; the reset state is not changed. */
static void t_bus_master(struct vnet_transport *t, bool on)
{
	struct vnet_model *m = tm(t);

	if (!on && !m->bm_off)
		m->st.bus_master_off++;
	m->bm_off = !on;
}

/*
 * Legacy (spec 2.7 "Legacy Interfaces: A Note on Virtqueue Layout",
 * 4.1.4.8): the device learns only where the descriptor table starts (a
 * page frame number) and finds the rest itself: the avail ring right
 * behind the table, the used ring at the next 4096-byte boundary past
 * avail's used_event. A driver that laid its ring out otherwise sees its
 * frames lost, as on a real legacy device.
 */
static int t_queue_setup_legacy(struct vnet_transport *t, uint16_t qi, uint16_t size,
                                const struct vnet_vq_addrs *a)
{
	struct vnet_vq_addrs l;

	if (!a || !size || (a->desc & 4095))
		return -EINVAL;
	l.desc = a->desc;
	l.avail = a->desc + 16ull * size;
	l.used = (l.avail + 2ull * (3 + size) + 4095) & ~4095ull;
	return t_queue_setup(t, qi, size, &l);
}

static const struct vnet_transport_ops model_legacy_ops = {
	.name = "model-legacy",
	.reset = t_reset,
	.get_status = t_get_status,
	.set_status = t_set_status,
	.get_features = t_get_features,
	.set_features = t_set_features,
	.config_generation = t_config_generation,
	.read_config = t_read_config,
	.queue_max = t_queue_max,
	.queue_setup = t_queue_setup_legacy,
	.notify = t_notify,
	.close = t_close,
	.bus_master = t_bus_master,
	.legacy = true,
};

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
	.queue_reset = t_queue_reset,
	.bus_master = t_bus_master,
};

/* ------------------------------------------------------ lifecycle -- */

/* Defaults, then the spec's feature dependencies (spec 5.1.3.1) and what
 * the model cannot do: -EINVAL. */
static int conf_apply(struct vnet_model_conf *c, const struct vnet_model_conf *in)
{
	static const uint8_t def_mac[ETH_ALEN] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};
	static const uint8_t zero_mac[ETH_ALEN];
	static const struct {
		uint64_t feature, needs; /* needs: all of these */
	} deps[] = {
		{VNET_F_GUEST_TSO4, VNET_F_GUEST_CSUM},
		{VNET_F_GUEST_TSO6, VNET_F_GUEST_CSUM},
		{VNET_F_HOST_TSO4, VNET_F_CSUM},
		{VNET_F_HOST_TSO6, VNET_F_CSUM},
		{VNET_F_CTRL_RX, VNET_F_CTRL_VQ},
		{VNET_F_CTRL_VLAN, VNET_F_CTRL_VQ},
		{VNET_F_GUEST_ANNOUNCE, VNET_F_CTRL_VQ},
		{VNET_F_MQ, VNET_F_CTRL_VQ},
		{VNET_F_CTRL_MAC_ADDR, VNET_F_CTRL_VQ},
		{VNET_F_CTRL_GUEST_OFFLOADS, VNET_F_CTRL_VQ}, /* its command needs the queue */
		{VNET_F_RSS, VNET_F_CTRL_VQ},
		{VNET_F_HASH_REPORT, VNET_F_CTRL_VQ},
		{VNET_F_RING_PACKED, VNET_F_VERSION_1}, /* a virtio 1.x layout */
		{VNET_F_RING_RESET, VNET_F_VERSION_1},  /* a virtio 1.2 facility */
	};

	if (in)
		*c = *in;
	else
		memset(c, 0, sizeof(*c));
	if (!c->features)
		c->features = c->legacy ? DEF_FEATURES & UINT32_MAX : DEF_FEATURES;
	if (c->legacy && (c->features >> 32)) /* 4.1.4.8: 32 bits */
		return -EINVAL;
	if (!memcmp(c->mac, zero_mac, ETH_ALEN))
		memcpy(c->mac, def_mac, ETH_ALEN);
	if (!c->mtu)
		c->mtu = DEF_MTU;
	if (!c->queue_max)
		c->queue_max = DEF_QUEUE_MAX;
	if (!c->source_len)
		c->source_len = DEF_SOURCE_LEN;
	if (!c->max_pairs)
		c->max_pairs = 1;
	if (c->features & ~SUPPORTED_FEATURES)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(deps) / sizeof(deps[0]); i++)
		if ((c->features & deps[i].feature) && (c->features & deps[i].needs) != deps[i].needs)
			return -EINVAL;
	if ((c->queue_max & (c->queue_max - 1)) || c->queue_max > MAX_QUEUE_SIZE)
		return -EINVAL;
	if (c->mtu < 68) /* spec 5.1.4.1 */
		return -EINVAL;
	if (c->source_len < ETH_HLEN)
		return -EINVAL;
	if ((unsigned)c->backend > (unsigned)VNET_MODEL_WIRE)
		return -EINVAL;
	if (c->max_pairs > VNET_MODEL_MAX_PAIRS || (c->max_pairs > 1 && !(c->features & VNET_F_MQ)))
		return -EINVAL;
	if (c->duplex > VNET_MODEL_DUPLEX_HALF || c->speed > 0x7fffffffu)
		return -EINVAL;
	if (c->rx_csum > VNET_MODEL_RX_CSUM_PARTIAL || (c->rx_csum && !(c->features & VNET_F_GUEST_CSUM)))
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
		goto fail;
	m->transport.ops = m->conf.legacy ? &model_legacy_ops : &model_ops;
	m->link_up = !m->conf.link_down;
	m->frame_max = (uint32_t)m->conf.mtu + ETH_HLEN + VLAN_HLEN;
	if (m->conf.features & (VNET_F_HOST_TSO4 | VNET_F_HOST_TSO6))
		m->frame_max = GSO_FRAME_MAX;
	if (m->frame_max < m->conf.source_len)
		m->frame_max = m->conf.source_len;
	m->nq = 2u * m->conf.max_pairs + 1;
	err = -ENOMEM;
	m->q = calloc(m->nq, sizeof(*m->q));
	m->frame = calloc(1, m->frame_max);
	m->segs = calloc(m->conf.queue_max, sizeof(*m->segs));
	m->mark = calloc(m->conf.queue_max, 1);
	m->due = calloc((size_t)m->conf.max_pairs * m->conf.queue_max, sizeof(*m->due));
	m->grp_pos = calloc(m->conf.queue_max, sizeof(*m->grp_pos));
	m->grp_len = calloc(m->conf.queue_max, sizeof(*m->grp_len));
	if (m->conf.features & (VNET_F_HOST_TSO4 | VNET_F_HOST_TSO6))
		m->segbuf = calloc(1, (size_t)m->conf.mtu + ETH_HLEN + VLAN_HLEN);
	if (!m->q || !m->frame || !m->segs || !m->mark || !m->due || !m->grp_pos || !m->grp_len ||
	    (!m->segbuf && (m->conf.features & (VNET_F_HOST_TSO4 | VNET_F_HOST_TSO6))))
		goto fail;
	dev_reset(m);
	*out = m;
	return 0;

fail:
	vnet_model_destroy(m);
	return err;
}

void vnet_model_destroy(struct vnet_model *m)
{
	if (!m)
		return;
	if (m->peer && m->peer->peer == m)
		m->peer->peer = NULL;
	free(m->segbuf);
	free(m->grp_len);
	free(m->grp_pos);
	free(m->due);
	free(m->mark);
	free(m->segs);
	free(m->frame);
	free(m->q);
	free(m);
}
