/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The in-process virtio-net device model: the DEVICE side of split (virtio
 * 1.2 spec 2.7) and packed (spec 2.8) virtqueues and of the network device
 * (spec 5.1), written from the spec. The driver reaches it only through the
 * transport ops near the end of this file and through ring memory, exactly
 * as it would reach a real device. Single-threaded: the device works only
 * inside vnet_model_poll(), and when the driver notifies the control queue
 * (a driver waits for its commands, as on a real device). Other
 * notifications are counted, not acted on.
 *
 * Queues (spec 5.1.2): receiveqN = 2(N-1), transmitqN = 2(N-1)+1; controlq
 * = 2 * max_pairs with MQ negotiated, 2 without (and only with CTRL_VQ).
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
 *    le16 1..max_pairs). Anything else, or a feature not negotiated: ERR,
 *    and nothing changes. A chain without 2 readable and 1 writable bytes
 *    is bad (bad_desc, len 0).
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
 *    tables, VLANs, active pairs (1) and STATUS ANNOUNCE.
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
 *  INDIRECT_SCRIBBLE   the next n indirect tables the device reads are
 *                  overwritten with 0xa5 bytes once read (a device writing
 *                  memory it may only read); a driver must never trust a
 *                  table's content afterwards.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vnet/model.h"
#include "vnet/vnet.h"
#include "base/platform.h"
#include "transport/transport.h"
#include "base/virtio_spec.h"

#define ROLE_NONE 0
#define ROLE_RX 1
#define ROLE_TX 2
#define ROLE_CTRL 3

#define ETH_HLEN 14
#define ETH_ALEN 6
#define VLAN_HLEN 4
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define PROTO_TCP 6
#define PROTO_UDP 17
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80
#define GSO_ECN 0x80
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
	 VNET_F_IN_ORDER | VNET_F_RING_RESET)

/* Config image (spec 5.1.4): mac, status, max_virtqueue_pairs, mtu,
 * speed, duplex; little-endian multi-byte fields (spec 2.5). */
#define CFG_SIZE 20

/* The packed ring as the device sees it (spec 2.8.13, 2.8.14), written
 * here independently of the driver's packed.h, so that one misreading of
 * the layout cannot hide in both. */
struct pk_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};
_Static_assert(sizeof(struct pk_desc) == 16 && offsetof(struct pk_desc, flags) == 14, "spec 2.8.13");
struct pk_event {
	uint16_t desc; /* offset 0..14, wrap counter 15 */
	uint16_t flags;
};
_Static_assert(sizeof(struct pk_event) == 4, "spec 2.8.14");
#define PK_F_AVAIL (1u << 7)  /* spec 2.8.1 */
#define PK_F_USED (1u << 15)
#define PK_EV_ENABLE 0       /* spec 2.8.10 */
#define PK_EV_DISABLE 1
#define PK_EV_DESC 2

struct seg {
	uint8_t *p;
	uint32_t len;
};

/* One parsed descriptor chain (buffer): its elements are m->segs[0..nseg),
 * the device-readable ones first (rd bytes), then the writable (wr). */
struct chain {
	uint32_t nseg;
	uint64_t rd, wr;
	uint16_t id;    /* split: head index; packed: buffer id (of the last) */
	uint16_t ndesc; /* descriptors it takes in the ring (packed positions) */
	uint16_t next_desc; /* split: the table index after its last descriptor */
};

#define CHAIN_OK 0
#define CHAIN_BAD (-1)   /* complete it with len 0 and go on */
#define CHAIN_FATAL (-2) /* cannot tell where it ends: device error */

/* One virtqueue, device side. Indices are free-running 16-bit counters:
 * split, avail/used ring indices; packed, descriptor positions (the
 * wrap counter of position p is 1 when (p & size) == 0). */
struct mq {
	uint16_t size;          /* 0: not set up */
	uint16_t mask;
	uint8_t role;           /* ROLE_* */
	bool packed;
	uint16_t pair;          /* data queues: the pair */
	struct vring_desc *desc;          /* split */
	struct vring_avail *avail;
	struct vring_used *used;
	struct pk_desc *pdesc;            /* packed */
	struct pk_event *dev_ev;          /* device area: written by us */
	uint16_t last_avail;    /* next avail entry / position the device consumes */
	uint16_t seen;          /* avail entries / positions seen available */
	uint16_t used_idx;      /* next used slot / position, free-running */
	uint16_t published;     /* used->idx as last stored (true value) */
	bool republish;         /* a USED_IDX_JUMP lie needs correcting */
	bool touched;           /* RX of a WIRE peer: refreshed in the peer's poll */
	bool hold;              /* packed: flags of hold_pos not stored yet */
	bool dup_armed;         /* packed USED_DUP: the next completion repeats dup_id */
	uint16_t hold_pos, hold_flags, dup_id;
	uint16_t next_desc;     /* split IN_ORDER: where the next chain must start */
	uint16_t batch_id;      /* IN_ORDER TX: id of the last buffer in the batch */
	uint16_t batch_n;       /* ... used entries (split) / positions (packed) it covers */
	uint16_t batch_bufs;    /* ... buffers in it */
	uint32_t poll_left;     /* genuine completions this poll may still write */
	uint32_t quota;         /* TX: chains this poll may consume */
	uint64_t frames;        /* vnet_model_queue_frames() */
	bool reset;             /* reset alone (RING_RESET): queue_setup may enable it again */
};

struct vnet_model {
	struct vnet_transport transport; /* first: the transport ops cast back */
	struct vnet_model_conf conf;     /* defaults applied */
	uint8_t status;
	uint64_t drv_features;
	uint32_t generation;
	bool link_up;
	bool announce;
	bool bm_off;                     /* bus mastering off (the bus_master op): no memory touched */
	/* control queue state (reset clears it) */
	bool promisc, allmulti, uc_overflow, mc_overflow;
	uint8_t mac[ETH_ALEN];
	uint16_t active;                 /* queue pairs in use */
	uint32_t uc_n, mc_n;             /* entries as set */
	uint8_t uc[VNET_MODEL_MAC_TABLE][ETH_ALEN];
	uint8_t mc[VNET_MODEL_MAC_TABLE][ETH_ALEN];
	uint8_t vlan[4096 / 8];
	uint8_t cfg_over[CFG_SIZE];      /* vnet_model_config_override: bytes shown ... */
	uint8_t cfg_over_set[CFG_SIZE];  /* ... where set */
	uint32_t nq;                     /* 2 * max_pairs + 1 */
	struct mq *q;                    /* data queues at their index, controlq last */
	uint32_t poll_no;
	uint64_t source_seq;
	struct vnet_model *peer;
	uint32_t fault[VNET_FAULT__COUNT];
	vnet_model_gen_fn gen;
	void *gen_arg;
	vnet_model_tap_fn tap;
	void *tap_arg;
	struct vnet_model_stats st;
	uint32_t tx_quota;               /* TX chains this poll may consume, all pairs */
	/* Allocated at create time; nothing is allocated after. */
	uint8_t *frame;                  /* one frame being moved */
	uint32_t frame_max;
	uint8_t *segbuf;                 /* one TSO segment (HOST_TSO offered) */
	uint8_t txhdr[sizeof(struct virtio_net_hdr)];
	struct seg *segs;                /* one chain, queue_max entries */
	uint8_t *mark;                   /* USED_ID_IDLE: queue_max flags */
	uint32_t *due;                   /* TX latency: poll due, per pair and avail slot */
	uint16_t *grp_pos;               /* MRG_RXBUF: the buffers of one frame ... */
	uint32_t *grp_len;               /* ... and the bytes written to each */
};

/* What goes into a receiver's virtio_net_hdr besides num_buffers. */
struct rxmeta {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

/* The TX header, as the driver wrote it (spec 5.1.6). */
struct txmeta {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

/* A TSO frame, parsed. */
struct tso {
	uint32_t l2, l3, l4, hdrs, payload; /* lengths; hdrs = l2 + l3 + l4 */
	uint32_t total;                      /* l2 + IP datagram */
	bool v6;
};

static void complete(struct vnet_model *m, struct mq *q, uint32_t id, uint32_t len, uint16_t ndesc);
static void publish(struct vnet_model *m, struct mq *q);
static void suppress(const struct vnet_model *m, struct mq *q);

static struct vnet_model *tm(struct vnet_transport *t)
{
	return (struct vnet_model *)(void *)t;
}

/* Serving its rings: DRIVER_OK, no error, and bus mastering on (off, the
 * device may not reach memory at all). */
static bool is_live(const struct vnet_model *m)
{
	return (m->status & VIRTIO_STATUS_DRIVER_OK) && !m->bm_off &&
	       !(m->status & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED));
}

static bool has(const struct vnet_model *m, uint64_t f)
{
	return (m->drv_features & f) == f;
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

static bool used_fault_armed(const struct vnet_model *m)
{
	return m->fault[VNET_FAULT_USED_ID_RANGE] || m->fault[VNET_FAULT_USED_ID_IDLE] ||
	       m->fault[VNET_FAULT_USED_DUP] || m->fault[VNET_FAULT_USED_IDX_JUMP] ||
	       m->fault[VNET_FAULT_USED_LEN];
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

static uint16_t get16be(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static void put32be(uint8_t *p, uint32_t v)
{
	put16be(p, (uint16_t)(v >> 16));
	put16be(p + 2, (uint16_t)v);
}
static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* ------------------------------------------------------------ queues -- */

/* Pairs the driver can use: max_pairs with MQ negotiated, else 1. */
static uint32_t pairs(const struct vnet_model *m)
{
	return has(m, VNET_F_MQ) ? m->conf.max_pairs : 1;
}

static struct mq *rxq(struct vnet_model *m, uint32_t pair) { return &m->q[2 * pair]; }
static struct mq *txq(struct vnet_model *m, uint32_t pair) { return &m->q[2 * pair + 1]; }
static struct mq *ctrlq(struct vnet_model *m) { return &m->q[m->nq - 1]; }

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

static uint32_t *due_of(struct vnet_model *m, const struct mq *q)
{
	return m->due + (size_t)q->pair * m->conf.queue_max;
}

/* ------------------------------------------------------------- rings -- */

/* Packed: the wrap counter of position @pos (spec 2.8.1). */
static bool pk_wrap(const struct mq *q, uint16_t pos)
{
	return (pos & q->size) == 0;
}

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
static void suppress(const struct vnet_model *m, struct mq *q)
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

/* Avail entries (packed: descriptors) seen and not consumed. */
static uint32_t window(const struct mq *q)
{
	return q->size ? (uint16_t)(q->seen - q->last_avail) : 0;
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
static int refresh_avail(struct vnet_model *m, struct mq *q)
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
static int chain_split(struct vnet_model *m, struct mq *q, uint16_t head, uint16_t expect, struct chain *c)
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
static int chain_packed(struct vnet_model *m, struct mq *q, uint16_t pos, struct chain *c)
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

/* The chain at avail entry / position @pos. */
static inline __attribute__((always_inline)) int chain_at(struct vnet_model *m, struct mq *q, uint16_t pos,
                                                          uint16_t expect, struct chain *c)
{
	if (q->packed)
		return chain_packed(m, q, pos, c);
	return chain_split(m, q, q->avail->ring[pos & q->mask], expect, c);
}

/* Consume the chain at last_avail (parsed into @c). */
static void consume(struct mq *q, const struct chain *c)
{
	if (q->packed) {
		q->last_avail = (uint16_t)(q->last_avail + c->ndesc);
	} else {
		q->last_avail++;
		q->next_desc = c->next_desc; /* IN_ORDER: where the next chain starts */
	}
}

static void segs_read(const struct seg *s, uint32_t n, uint64_t off, uint8_t *dst, uint32_t len)
{
	if (n == 1 && off + len <= s[0].len) { /* the usual case: one element */
		memcpy(dst, s[0].p + off, len);
		return;
	}
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
	if (n == 1 && off + len <= s[0].len) { /* the usual case: one element */
		memcpy(s[0].p + off, src, len);
		return;
	}
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
 * Packed: write the used descriptor at used_idx (spec 2.8.4: id, len, then
 * flags AVAIL == USED == wrap counter, WRITE when data was written) and
 * skip the positions of the buffer's descriptors. The flags of the poll's
 * first used descriptor are held back until publish(): the driver, which
 * reads in ring order, sees none of the poll's work before all of it -
 * which also keeps a multi-buffer frame whole (spec 2.8.9).
 */
static void pk_used_write(struct mq *q, uint32_t id, uint32_t len, uint16_t ndesc, bool wrong_wrap)
{
	uint16_t pos = q->used_idx;
	volatile struct pk_desc *d = &q->pdesc[pos & q->mask];
	uint16_t f = (uint16_t)((pk_wrap(q, pos) ? (PK_F_AVAIL | PK_F_USED) : 0) | (len ? VRING_DESC_F_WRITE : 0));

	if (wrong_wrap)
		f ^= PK_F_AVAIL | PK_F_USED;
	d->id = (uint16_t)id;
	d->len = len;
	if (!q->hold) {
		q->hold = true;
		q->hold_pos = pos;
		q->hold_flags = f;
	} else {
		d->flags = f;
	}
	q->used_idx = (uint16_t)(pos + ndesc);
}

/* IN_ORDER: write the batch of TX completions as one used entry. */
static void batch_write(struct vnet_model *m, struct mq *q)
{
	if (q->packed) {
		pk_used_write(q, q->batch_id, 0, q->batch_n, false);
	} else {
		volatile struct vring_used_elem *e = &q->used->ring[q->used_idx & q->mask];

		e->id = q->batch_id;
		e->len = 0;
		q->used_idx = (uint16_t)(q->used_idx + q->batch_n);
	}
	if (q->batch_bufs > 1)
		m->st.used_batches++;
	q->batch_n = q->batch_bufs = 0;
}

static inline void batch_flush(struct vnet_model *m, struct mq *q)
{
	if (vnet_unlikely(q->batch_n))
		batch_write(m, q);
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
 * A descriptor id in range that the driver cannot consider in flight.
 * Split: not in any chain of an avail entry the device has not consumed,
 * not the chain being completed, and not named by any entry still in the
 * used ring (completed but maybe not yet harvested). Packed: named by no
 * descriptor in the ring (available or used) and not the genuine one.
 * Over-marking is safe; only on this fault path does the model scan the
 * ring. @return id or -1.
 */
static int32_t idle_id(struct vnet_model *m, const struct mq *q, uint32_t genuine_id)
{
	uint8_t *mark = m->mark;

	memset(mark, 0, q->size);
	if (q->packed) {
		if (genuine_id < q->size)
			mark[genuine_id] = 1;
		for (uint32_t i = 0; i < q->size; i++) {
			uint16_t id = q->pdesc[i].id;
			if (id < q->size)
				mark[id] = 1;
		}
	} else {
		mark_chain(q, mark, genuine_id);
		for (uint16_t p = q->last_avail; p != q->seen; p++)
			mark_chain(q, mark, q->avail->ring[p & q->mask]);
		for (uint32_t i = 0; i < q->size; i++)
			mark_chain(q, mark, q->used->ring[i].id);
	}
	for (uint32_t i = 0; i < q->size; i++)
		if (!mark[i])
			return (int32_t)i;
	return -1;
}

/* Packed completion with the USED_* faults (see the top of the file). */
static void complete_packed(struct vnet_model *m, struct mq *q, uint32_t id, uint32_t len, uint16_t ndesc,
                            bool faults)
{
	uint32_t wid = id;
	bool wrong_wrap = false;

	if (faults) {
		if (q->dup_armed) {
			wid = q->dup_id;
			q->dup_armed = false;
		} else if (fault_take(m, VNET_FAULT_USED_ID_RANGE)) {
			wid = q->size;
		} else if (m->fault[VNET_FAULT_USED_ID_IDLE]) {
			int32_t idle = idle_id(m, q, id);

			if (idle >= 0) {
				fault_take(m, VNET_FAULT_USED_ID_IDLE);
				wid = (uint32_t)idle;
			}
		}
		if (wid == id && fault_take(m, VNET_FAULT_USED_DUP)) {
			q->dup_armed = true;
			q->dup_id = (uint16_t)id;
		}
		wrong_wrap = fault_take(m, VNET_FAULT_USED_IDX_JUMP);
	}
	pk_used_write(q, wid, len, ndesc, wrong_wrap);
}

/*
 * Write the completion of the buffer @id (@ndesc descriptors, for packed)
 * with @len. TX completions batch under IN_ORDER. Split: plus the extra
 * entries of the armed USED_* faults. Extras are written only when the used
 * ring has room for them (extra_room; else the fault stays armed for a
 * later completion), so a correct driver drops them and loses nothing:
 *  USED_ID_RANGE  extra {id = size, len 0} just BEFORE the genuine entry
 *                 (the smallest out-of-range id; the driver must skip it
 *                 and go on to the genuine one).
 *  USED_ID_IDLE   extra {id = lowest id not in flight (idle_id), len 0}
 *                 just BEFORE the genuine entry.
 *  USED_DUP       the genuine entry written again right AFTER itself.
 * Each applies to the next completion the model writes, on whichever data
 * queue that is (TX completions are written before the frame's RX
 * delivery; use SINK to aim at TX, SOURCE to aim at RX). The extra and its
 * genuine entry are published by the same used->idx store. Caveat for DUP
 * and IDLE: a driver that reads the genuine entry, re-posts that descriptor
 * (or the idle one) and only then reads the extra cannot tell it from a
 * real completion; harvesting up to the used idx it read before re-posting
 * avoids that.
 */
static void complete(struct vnet_model *m, struct mq *q, uint32_t id, uint32_t len, uint16_t ndesc)
{
	bool faults = q->role != ROLE_CTRL;
	uint32_t upcoming = q->poll_left ? q->poll_left : 1; /* this one included */

	if (vnet_unlikely(m->drv_features & VNET_F_IN_ORDER) && q->role == ROLE_TX && !used_fault_armed(m) &&
	    !q->dup_armed) {
		q->batch_id = (uint16_t)id;
		q->batch_n = (uint16_t)(q->batch_n + (q->packed ? ndesc : 1));
		q->batch_bufs++;
		q->poll_left = upcoming - 1;
		return;
	}
	batch_flush(m, q);
	if (vnet_unlikely(q->packed)) {
		complete_packed(m, q, id, len, ndesc, faults);
		q->poll_left = upcoming - 1;
		return;
	}
	if (faults && m->fault[VNET_FAULT_USED_ID_RANGE] && extra_room(q, upcoming)) {
		fault_take(m, VNET_FAULT_USED_ID_RANGE);
		used_write(q, q->size, 0);
	}
	if (faults && m->fault[VNET_FAULT_USED_ID_IDLE] && extra_room(q, upcoming)) {
		int32_t idle = idle_id(m, q, id);

		if (idle >= 0) {
			fault_take(m, VNET_FAULT_USED_ID_IDLE);
			used_write(q, (uint32_t)idle, 0);
		}
	}
	used_write(q, id, len);
	q->poll_left = upcoming - 1;
	if (faults && m->fault[VNET_FAULT_USED_DUP] && extra_room(q, q->poll_left)) {
		fault_take(m, VNET_FAULT_USED_DUP);
		used_write(q, id, len);
	}
}

/*
 * Split: one used->idx store for everything written since the last one,
 * after a write barrier (spec 2.7.8: len and the buffer before idx).
 * USED_IDX_JUMP: the next store that publishes new entries stores
 * true idx + size + 7 instead (more entries than could be in flight, and
 * not a multiple of the size); the next publish of that queue (the next
 * poll that touches it) stores the true idx again, even with nothing new.
 * A driver that refuses the bad index and waits loses nothing.
 * Packed: store the held-back flags of the first used descriptor, after a
 * write barrier (spec 2.8.21's order, device side).
 */
static void publish(struct vnet_model *m, struct mq *q)
{
	bool fresh;
	uint16_t idx;

	batch_flush(m, q);
	if (q->packed) {
		if (q->hold) {
			vnet_wmb();
			vnet_store16(&q->pdesc[q->hold_pos & q->mask].flags, q->hold_flags);
			q->hold = false;
		}
		q->published = q->used_idx;
		return;
	}
	fresh = q->used_idx != q->published;
	idx = q->used_idx;
	if (!fresh && !q->republish)
		return;
	q->republish = false;
	if (fresh && q->role != ROLE_CTRL && fault_take(m, VNET_FAULT_USED_IDX_JUMP)) {
		idx = (uint16_t)(idx + q->size + 7);
		q->republish = true;
	}
	vnet_wmb();
	vnet_store16(&q->used->idx, idx);
	q->published = q->used_idx;
}

/* --------------------------------------------------------- checksums -- */

/* Ones' complement sum of big-endian 16-bit words (RFC 1071); an odd last
 * byte is padded with zero. Frames are < 64 KiB + headers, so 32 bits do
 * not overflow before the fold. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	for (int i = 0; i < 2; i++)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The TCP/UDP pseudo-header sum (RFC 793, RFC 8200 8.1). */
static uint32_t pseudo_sum(const uint8_t *ip, bool v6, uint8_t proto, uint32_t l4len)
{
	uint32_t sum = v6 ? csum_add(0, ip + 8, 32) : csum_add(0, ip + 12, 8);

	return sum + proto + (l4len >> 16) + (l4len & 0xffff);
}

/* CSUM (spec 5.1.6.2): the ones' complement of csum_start..end, stored at
 * csum_start + csum_offset (the field holds the pseudo-header sum). */
static void csum_complete(uint8_t *f, uint32_t len, uint32_t start, uint32_t off)
{
	uint16_t c = (uint16_t)~csum_fold(csum_add(0, f + start, len - start));

	put16be(f + start + off, c);
}

/* Layer 2 length and ethertype (one 802.1Q tag allowed). */
static uint32_t l2_parse(const uint8_t *f, uint32_t len, uint16_t *type)
{
	if (len < ETH_HLEN)
		return 0;
	*type = get16be(f + 12);
	if (*type == ETHERTYPE_VLAN) {
		if (len < ETH_HLEN + VLAN_HLEN)
			return 0;
		*type = get16be(f + 16);
		return ETH_HLEN + VLAN_HLEN;
	}
	return ETH_HLEN;
}

/* GUEST_CSUM: is this a TCP/UDP frame whose checksum is right? IPv4 with a
 * right header checksum and no fragment, or IPv6 without extension
 * headers. A UDP checksum of 0 was not computed: not verified. */
static bool csum_verify(const uint8_t *f, uint32_t len)
{
	uint16_t type = 0;
	uint32_t l2 = l2_parse(f, len, &type), l3, l4len;
	const uint8_t *ip = f + l2, *l4;
	uint8_t proto;
	bool v6;

	if (!l2)
		return false;
	if (type == ETHERTYPE_IPV4) {
		uint32_t tot;

		if (len < l2 + 20 || (ip[0] >> 4) != 4)
			return false;
		l3 = (uint32_t)(ip[0] & 0xf) * 4;
		tot = get16be(ip + 2);
		if (l3 < 20 || tot < l3 || l2 + tot > len || (get16be(ip + 6) & 0x3fff))
			return false;
		if (csum_fold(csum_add(0, ip, l3)) != 0xffff)
			return false;
		proto = ip[9];
		l4len = tot - l3;
		v6 = false;
	} else if (type == ETHERTYPE_IPV6) {
		if (len < l2 + 40 || (ip[0] >> 4) != 6)
			return false;
		l3 = 40;
		l4len = get16be(ip + 4);
		if (l2 + l3 + l4len > len)
			return false;
		proto = ip[6];
		v6 = true;
	} else {
		return false;
	}
	l4 = ip + l3;
	if (proto == PROTO_TCP) {
		if (l4len < 20)
			return false;
	} else if (proto == PROTO_UDP) {
		if (l4len < 8 || get16be(l4 + 6) == 0)
			return false;
	} else {
		return false;
	}
	return csum_fold(csum_add(pseudo_sum(ip, v6, proto, l4len), l4, l4len)) == 0xffff;
}

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

/* ------------------------------------------------------- RX filter -- */

static bool mac_in(const uint8_t (*t)[ETH_ALEN], uint32_t n, const uint8_t *mac)
{
	for (uint32_t i = 0; i < n && i < VNET_MODEL_MAC_TABLE; i++)
		if (!memcmp(t[i], mac, ETH_ALEN))
			return true;
	return false;
}

/* Spec 5.1.6.5.1 - 5.1.6.5.3 (see the top of the file). */
static bool rx_accept(const struct vnet_model *m, const uint8_t *f, uint32_t len)
{
	static const uint8_t bcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	if (has(m, VNET_F_CTRL_VLAN) && len >= ETH_HLEN + VLAN_HLEN && get16be(f + 12) == ETHERTYPE_VLAN) {
		uint16_t vid = get16be(f + 14) & 0xfff;

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

/* --------------------------------------------------------- frames -- */

/* The receiver's header (spec 5.1.6.4), little-endian. */
static void rx_hdr_build(uint8_t *h, const struct rxmeta *r, uint16_t nbufs)
{
	h[0] = r->flags;
	h[1] = r->gso_type;
	put16(h + 2, r->hdr_len);
	put16(h + 4, r->gso_size);
	put16(h + 6, r->csum_start);
	put16(h + 8, r->csum_offset);
	put16(h + 10, nbufs);
}

/* Refresh a WIRE peer's RX queue once per poll of the sender. */
static bool rx_ready(struct vnet_model *src, struct vnet_model *dst, struct mq *q)
{
	if (dst != src && !q->touched) {
		q->touched = true;
		if (refresh_avail(dst, q) < 0)
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
		complete(dst, q, c.id, 0, c.ndesc);
		p = q->last_avail;
		expect = q->next_desc;
	}
	return cap >= need ? k : 0;
}

/* The header flags for a frame about to be delivered: the sender's
 * (partial checksum, GSO), or DATA_VALID for a checksum the model verified
 * (GUEST_CSUM and conf.rx_csum). */
static uint8_t rx_flags(const struct vnet_model *dst, const struct rxmeta *meta, const uint8_t *f, uint32_t len)
{
	if (!meta->flags && !meta->gso_type && dst->conf.rx_csum && has(dst, VNET_F_GUEST_CSUM) &&
	    csum_verify(f, len))
		return VIRTIO_NET_HDR_F_DATA_VALID;
	return meta->flags;
}

static void rx_count(struct vnet_model *dst, struct mq *q, uint32_t len, uint8_t flags, uint8_t gso_type)
{
	dst->st.rx_frames++;
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
	uint8_t hdr[12];
	uint32_t k = mrg_find(dst, q, hlen, (uint64_t)hlen + len), off = 0;
	struct chain c;

	if (!k) {
		dst->st.rx_no_buffer++;
		return false;
	}
	if (fault_take(dst, VNET_FAULT_BAD_CSUM))
		corrupt(f, len);
	r.flags = rx_flags(dst, meta, f, len);
	rx_hdr_build(hdr, &r, (uint16_t)k);
	for (uint32_t j = 0; j < k; j++) {
		uint32_t room, n, h = j ? 0 : hlen;

		chain_at(dst, q, dst->grp_pos[j], q->next_desc, &c); /* parsed fine a moment ago */
		room = c.wr > UINT32_MAX ? UINT32_MAX : (uint32_t)c.wr;
		n = min_u32(room - h, len - off);
		if (h)
			segs_write(dst->segs, c.nseg, 0, hdr, hlen);
		segs_write(dst->segs, c.nseg, h, f + off, n);
		off += n;
		dst->grp_len[j] = h + n;
		consume(q, &c);
		/* completed one by one, in order; publish() exposes them all at
		 * once (the used idx store, or the first's flags) */
		if (j == 0 && fault_take(dst, VNET_FAULT_USED_LEN))
			dst->grp_len[j] = c.wr >= UINT32_MAX ? UINT32_MAX : (uint32_t)c.wr + 1;
		complete(dst, q, c.id, dst->grp_len[j], c.ndesc);
	}
	if (k > 1)
		dst->st.rx_merged++;
	rx_count(dst, q, len, r.flags, r.gso_type);
	return true;
}

/*
 * Put @len bytes of @f into dst's receive queue of @pair (spec 5.1.6.3 -
 * 5.1.6.4): the header from @meta (num_buffers 1 without MRG_RXBUF) and
 * the frame. A bad chain is completed with len 0 and the next one tried; no
 * buffer, or one too small (left posted), drops the frame.
 * @return true if delivered.
 */
static bool deliver(struct vnet_model *src, struct vnet_model *dst, uint32_t pair, uint8_t *f, uint32_t len,
                    const struct rxmeta *meta)
{
	static const uint8_t plain[12] = {[10] = 1}; /* flags 0, GSO_NONE, num_buffers 1 */
	struct mq *q;
	uint32_t hlen = hdr_len(dst);
	struct chain c;

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
		uint8_t flags, hdr[12];
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
			complete(dst, q, c.id, 0, c.ndesc);
			continue;
		}
		if ((uint64_t)hlen + len > c.wr)
			break;
		consume(q, &c);
		if (vnet_unlikely(dst->fault[VNET_FAULT_BAD_CSUM]) && fault_take(dst, VNET_FAULT_BAD_CSUM))
			corrupt(f, len);
		flags = rx_flags(dst, meta, f, len);
		if (vnet_likely(!(flags | meta->gso_type))) {
			segs_write(dst->segs, c.nseg, 0, plain, hlen);
		} else {
			struct rxmeta r = *meta;

			r.flags = flags;
			rx_hdr_build(hdr, &r, 1);
			segs_write(dst->segs, c.nseg, 0, hdr, hlen);
		}
		segs_write(dst->segs, c.nseg, hlen, f, len);
		used_len = hlen + len;
		/* USED_LEN: the genuine buffer, completed with a len one byte
		 * longer than its whole chain (the data written is right). */
		if (vnet_unlikely(dst->fault[VNET_FAULT_USED_LEN]) && fault_take(dst, VNET_FAULT_USED_LEN))
			used_len = c.wr >= UINT32_MAX ? UINT32_MAX : (uint32_t)c.wr + 1;
		complete(dst, q, c.id, used_len, c.ndesc);
		rx_count(dst, q, len, flags, meta->gso_type);
		return true;
	}
	dst->st.rx_no_buffer++;
	return false;
}

/* The model that receives what @m sends, if any. */
static struct vnet_model *receiver(struct vnet_model *m)
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

static void route(struct vnet_model *m, uint32_t pair, uint8_t *f, uint32_t len, const struct rxmeta *meta)
{
	uint8_t tmp[ETH_ALEN];

	if (!m->link_up)
		return;
	switch (m->conf.backend) {
	case VNET_MODEL_REFLECTOR:
		memcpy(tmp, f, ETH_ALEN);
		memcpy(f, f + ETH_ALEN, ETH_ALEN);
		memcpy(f + ETH_ALEN, tmp, ETH_ALEN);
		deliver(m, m, pair % m->active, f, len, meta);
		break;
	case VNET_MODEL_LOOPBACK:
		deliver(m, m, pair % m->active, f, len, meta);
		break;
	case VNET_MODEL_WIRE:
		if (m->peer && m->peer->link_up)
			deliver(m, m->peer, pair % m->peer->active, f, len, meta);
		break;
	case VNET_MODEL_SINK:
	case VNET_MODEL_SOURCE:
		break;
	}
}

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
	segs_read(m->segs, c->nseg, 0, m->txhdr, hlen);
	segs_read(m->segs, c->nseg, hlen, m->frame, len);
	return len;
}

/* Parse a TSO frame (spec 5.1.6.2): TCP over IPv4 without fragments, or
 * over IPv6 without extension headers, matching @gso_type. */
static bool tso_parse(const uint8_t *f, uint32_t len, uint8_t gso_type, struct tso *t)
{
	uint16_t type = 0;
	const uint8_t *ip;

	memset(t, 0, sizeof(*t));
	t->l2 = l2_parse(f, len, &type);
	if (!t->l2)
		return false;
	ip = f + t->l2;
	if (gso_type == VIRTIO_NET_HDR_GSO_TCPV4) {
		uint32_t tot;

		if (type != ETHERTYPE_IPV4 || len < t->l2 + 20 || (ip[0] >> 4) != 4 || ip[9] != PROTO_TCP)
			return false;
		t->l3 = (uint32_t)(ip[0] & 0xf) * 4;
		tot = get16be(ip + 2);
		if (t->l3 < 20 || tot < t->l3 || t->l2 + tot > len || (get16be(ip + 6) & 0x3fff))
			return false;
		t->total = t->l2 + tot;
	} else {
		if (type != ETHERTYPE_IPV6 || len < t->l2 + 40 || (ip[0] >> 4) != 6 || ip[6] != PROTO_TCP)
			return false;
		t->l3 = 40;
		t->total = t->l2 + 40 + get16be(ip + 4);
		if (t->total > len)
			return false;
		t->v6 = true;
	}
	if (t->total < t->l2 + t->l3 + 20)
		return false;
	t->l4 = (uint32_t)(f[t->l2 + t->l3 + 12] >> 4) * 4;
	if (t->l4 < 20 || t->l2 + t->l3 + t->l4 > t->total)
		return false;
	t->hdrs = t->l2 + t->l3 + t->l4;
	t->payload = t->total - t->hdrs;
	return true;
}

/* HOST_TSO: cut m->frame into gso_size segments (see the top of the file),
 * each tapped and routed. */
static void tso_segment(struct vnet_model *m, uint32_t pair, const struct tso *t, uint32_t mss)
{
	static const struct rxmeta none;
	const uint8_t *f = m->frame;
	uint32_t nseg = t->payload ? (t->payload + mss - 1) / mss : 1;
	uint32_t seq = get32be(f + t->l2 + t->l3 + 4);
	uint16_t ipid = t->v6 ? 0 : get16be(f + t->l2 + 4);

	for (uint32_t i = 0; i < nseg; i++) {
		uint8_t *s = m->segbuf, *ip = s + t->l2, *tcp = ip + t->l3;
		uint32_t plen = min_u32(mss, t->payload - i * mss), l4len = t->l4 + plen;
		memcpy(s, f, t->hdrs);
		memcpy(s + t->hdrs, f + t->hdrs + (size_t)i * mss, plen);
		if (t->v6) {
			put16be(ip + 4, (uint16_t)l4len);
		} else {
			put16be(ip + 2, (uint16_t)(t->l3 + l4len));
			put16be(ip + 4, (uint16_t)(ipid + i));
			put16be(ip + 10, 0);
			put16be(ip + 10, (uint16_t)~csum_fold(csum_add(0, ip, t->l3)));
		}
		put32be(tcp + 4, seq + i * mss);
		if (i + 1 < nseg)
			tcp[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (i)
			tcp[13] &= (uint8_t)~TCP_CWR;
		put16be(tcp + 16, 0);
		put16be(tcp + 16, (uint16_t)~csum_fold(csum_add(pseudo_sum(ip, t->v6, PROTO_TCP, l4len), tcp, l4len)));
		m->st.tx_tso_segs++;
		if (m->tap)
			m->tap(s, t->hdrs + plen, m->tap_arg);
		route(m, pair, s, t->hdrs + plen, &none);
	}
}

/*
 * One TX frame in m->frame with its header in m->txhdr: check the header
 * against the features (spec 5.1.6.2), then complete the checksum, cut TSO
 * frames or hand them whole to a GUEST_TSO receiver, tap and route.
 * @return false if the header (or size) is refused.
 */
static __attribute__((noinline)) bool tx_frame_offload(struct vnet_model *m, struct mq *q, uint32_t len)
{
	struct vnet_model *rcv = receiver(m);
	struct rxmeta r = {0};
	struct txmeta h;
	struct tso t;
	uint8_t gso;

	h.flags = m->txhdr[0];
	h.gso_type = m->txhdr[1];
	h.hdr_len = get16(m->txhdr + 2);
	h.gso_size = get16(m->txhdr + 4);
	h.csum_start = get16(m->txhdr + 6);
	h.csum_offset = get16(m->txhdr + 8);
	gso = h.gso_type;
	if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!has(m, VNET_F_CSUM) || (uint32_t)h.csum_start + h.csum_offset + 2 > len)
			goto bad_hdr;
	}
	if (gso != VIRTIO_NET_HDR_GSO_NONE) {
		uint64_t need = gso == VIRTIO_NET_HDR_GSO_TCPV4 ? VNET_F_HOST_TSO4
		              : gso == VIRTIO_NET_HDR_GSO_TCPV6 ? VNET_F_HOST_TSO6 : 0;

		if (!need || !has(m, need) || !(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || !h.gso_size ||
		    !tso_parse(m->frame, len, gso, &t) ||
		    t.l3 + t.l4 + min_u32(h.gso_size, t.payload) > m->conf.mtu)
			goto bad_hdr;
		len = t.total; /* anything after the IP datagram is not sent */
	} else if (len > (uint32_t)m->conf.mtu + ETH_HLEN + VLAN_HLEN) {
		m->st.bad_desc++;
		return false;
	}
	m->st.tx_frames++;
	m->st.tx_bytes += len;
	if (gso != VIRTIO_NET_HDR_GSO_NONE) {
		uint64_t want = gso == VIRTIO_NET_HDR_GSO_TCPV4 ? VNET_F_GUEST_TSO4 : VNET_F_GUEST_TSO6;

		m->st.tx_tso++;
		if (rcv && has(rcv, want | VNET_F_GUEST_CSUM)) {
			/* spec 5.1.6.4: whole, with NEEDS_CSUM and the GSO fields;
			 * the TCP checksum field keeps the sender's pseudo-header sum */
			r.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			r.gso_type = gso;
			r.gso_size = h.gso_size;
			r.hdr_len = (uint16_t)t.hdrs;
			r.csum_start = (uint16_t)(t.l2 + t.l3);
			r.csum_offset = 16;
			if (m->tap)
				m->tap(m->frame, len, m->tap_arg);
			route(m, q->pair, m->frame, len, &r);
		} else {
			tso_segment(m, q->pair, &t, h.gso_size);
		}
		return true;
	}
	if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (rcv && has(rcv, VNET_F_GUEST_CSUM) && rcv->conf.rx_csum == VNET_MODEL_RX_CSUM_PARTIAL) {
			r.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			r.csum_start = h.csum_start;
			r.csum_offset = h.csum_offset;
		} else {
			csum_complete(m->frame, len, h.csum_start, h.csum_offset);
			m->st.tx_csum++;
		}
	}
	if (m->tap)
		m->tap(m->frame, len, m->tap_arg);
	route(m, q->pair, m->frame, len, &r);
	return true;

bad_hdr:
	m->st.tx_bad_hdr++;
	return false;
}

/* The usual frame: no offload asked for in its header. */
static inline bool tx_frame(struct vnet_model *m, struct mq *q, uint32_t len)
{
	static const struct rxmeta none;

	if (vnet_unlikely((m->txhdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) | m->txhdr[1]))
		return tx_frame_offload(m, q, len);
	if (vnet_unlikely(len > (uint32_t)m->conf.mtu + ETH_HLEN + VLAN_HLEN)) {
		m->st.bad_desc++;
		return false;
	}
	m->st.tx_frames++;
	m->st.tx_bytes += len;
	if (m->tap)
		m->tap(m->frame, len, m->tap_arg);
	route(m, q->pair, m->frame, len, &none);
	return true;
}

static uint32_t tx_run(struct vnet_model *m, struct mq *q)
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
		complete(m, q, c.id, 0, c.ndesc); /* the device writes nothing into TX buffers */
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

/* ---------------------------------------------------- control queue -- */

/* Execute one command (spec 5.1.6.5); the readable part of the chain in
 * m->segs is class, command, @dlen bytes of data. @return the ack. */
static uint8_t ctrl_exec(struct vnet_model *m, const struct chain *c, uint32_t dlen)
{
	const struct seg *s = m->segs;
	uint8_t cc[2] = {0}, b[8] = {0}; /* segs_read may copy less than asked */

	segs_read(s, c->nseg, 0, cc, 2);
	switch (cc[0]) {
	case VIRTIO_NET_CTRL_RX:
		if (!has(m, VNET_F_CTRL_RX) || dlen != 1 ||
		    (cc[1] != VIRTIO_NET_CTRL_RX_PROMISC && cc[1] != VIRTIO_NET_CTRL_RX_ALLMULTI))
			return VIRTIO_NET_ERR;
		segs_read(s, c->nseg, 2, b, 1);
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
			segs_read(s, c->nseg, 2, b, ETH_ALEN);
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
			segs_read(s, c->nseg, 2, b, 4);
			nu = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
			off = 4 + (uint64_t)nu * ETH_ALEN;
			if (off + 4 > dlen)
				return VIRTIO_NET_ERR;
			segs_read(s, c->nseg, 2 + off, b, 4);
			nm = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
			if (off + 4 + (uint64_t)nm * ETH_ALEN != dlen)
				return VIRTIO_NET_ERR;
			m->uc_n = nu;
			m->mc_n = nm;
			m->uc_overflow = nu > VNET_MODEL_MAC_TABLE;
			m->mc_overflow = nm > VNET_MODEL_MAC_TABLE;
			for (uint32_t i = 0; i < nu && i < VNET_MODEL_MAC_TABLE; i++)
				segs_read(s, c->nseg, 2 + 4 + (uint64_t)i * ETH_ALEN, m->uc[i], ETH_ALEN);
			for (uint32_t i = 0; i < nm && i < VNET_MODEL_MAC_TABLE; i++)
				segs_read(s, c->nseg, 2 + off + 4 + (uint64_t)i * ETH_ALEN, m->mc[i], ETH_ALEN);
			return VIRTIO_NET_OK;
		}
		return VIRTIO_NET_ERR;
	case VIRTIO_NET_CTRL_VLAN: {
		uint16_t vid;

		if (!has(m, VNET_F_CTRL_VLAN) || dlen != 2 ||
		    (cc[1] != VIRTIO_NET_CTRL_VLAN_ADD && cc[1] != VIRTIO_NET_CTRL_VLAN_DEL))
			return VIRTIO_NET_ERR;
		segs_read(s, c->nseg, 2, b, 2);
		vid = get16(b);
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

		if (!has(m, VNET_F_MQ) || cc[1] != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || dlen != 2)
			return VIRTIO_NET_ERR;
		segs_read(s, c->nseg, 2, b, 2);
		n = get16(b);
		if (n < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || n > m->conf.max_pairs)
			return VIRTIO_NET_ERR;
		m->active = n;
		return VIRTIO_NET_OK;
	}
	default:
		return VIRTIO_NET_ERR;
	}
}

/* Execute every command waiting on the control queue and publish their
 * acks. @return commands consumed. */
static uint32_t ctrl_run(struct vnet_model *m)
{
	struct mq *q = ctrlq(m);
	uint32_t n;

	if (!q->size || !is_live(m) || refresh_avail(m, q) < 0)
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
			complete(m, q, c.id, 0, c.ndesc);
			continue;
		}
		ack = ctrl_exec(m, &c, (uint32_t)c.rd - 2);
		segs_write(m->segs, c.nseg, c.rd, &ack, 1);
		complete(m, q, c.id, 1, c.ndesc);
		m->st.ctrl_cmds++;
		if (ack != VIRTIO_NET_OK)
			m->st.ctrl_errs++;
		q->frames++;
	}
	publish(m, q);
	suppress(m, q);
	return n;
}

/* ----------------------------------------------------------- source -- */

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

static uint32_t source_run(struct vnet_model *m, uint32_t pair)
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
		if (!deliver(m, m, pair, m->frame, len, &none))
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
	moved += ctrl_run(m);
	for (uint32_t i = 0; i + 1 < m->nq; i++) {
		m->q[i].poll_left = 0;
		if (m->q[i].size && refresh_avail(m, &m->q[i]) < 0)
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
			moved += tx_run(m, txq(m, p));
	if (m->conf.backend == VNET_MODEL_SOURCE)
		for (uint32_t p = 0; p < m->active && is_live(m); p++)
			moved += source_run(m, p);
	for (uint32_t i = 0; i + 1 < m->nq; i++) {
		if (!m->q[i].size)
			continue;
		publish(m, &m->q[i]);
		suppress(m, &m->q[i]);
	}
	if (m->peer) {
		for (uint32_t p = 0; p < m->peer->conf.max_pairs; p++) {
			struct mq *r = rxq(m->peer, p);

			if (r->touched) {
				r->touched = false;
				if (r->size)
					publish(m->peer, r);
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
	m->announce = false;
	m->promisc = true;
	m->allmulti = m->uc_overflow = m->mc_overflow = false;
	m->uc_n = m->mc_n = 0;
	memcpy(m->mac, m->conf.mac, ETH_ALEN);
	memset(m->vlan, 0, sizeof(m->vlan));
	m->active = 1;
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
	put16(img + VIRTIO_NET_CFG_STATUS, status);
	put16(img + VIRTIO_NET_CFG_MAX_PAIRS, (m->conf.features & VNET_F_MQ) ? m->conf.max_pairs : 1);
	put16(img + VIRTIO_NET_CFG_MTU, m->conf.mtu);
	put16(img + VIRTIO_NET_CFG_SPEED, (uint16_t)speed);
	put16(img + VIRTIO_NET_CFG_SPEED + 2, (uint16_t)(speed >> 16));
	img[VIRTIO_NET_CFG_DUPLEX] = duplex[m->conf.duplex];
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
	uint64_t f = (m->status & VIRTIO_STATUS_FEATURES_OK) ? m->drv_features : m->conf.features;
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

	if (!(m->status & VIRTIO_STATUS_FEATURES_OK))
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
	suppress(m, q);
	return 0;
}

/*
 * VIRTIO_F_RING_RESET (spec 2.6.1, 4.1.4.3.2): the driver's side of the
 * register protocol is folded in, as t_reset folds in its status poll:
 * write 1 to queue_reset, read it until 0, then queue_enable must read 0.
 * The queue forgets everything but its frame counter (spec 2.6.1: avail
 * and used state to default) and waits for queue_setup; nothing the driver
 * posted is read or completed. See the faults at the top of the file.
 */
static int t_queue_reset(struct vnet_transport *t, uint16_t qi)
{
	struct vnet_model *m = tm(t);
	struct mq *q = queue_of(m, qi);
	uint64_t frames;

	if (!has(m, VNET_F_RING_RESET) || !(m->status & VIRTIO_STATUS_FEATURES_OK) || !q)
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
		ctrl_run(m);
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
		{VNET_F_RING_PACKED, VNET_F_VERSION_1}, /* a virtio 1.x layout */
		{VNET_F_RING_RESET, VNET_F_VERSION_1},  /* a virtio 1.2 facility */
	};

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
	m->transport.ops = &model_ops;
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
