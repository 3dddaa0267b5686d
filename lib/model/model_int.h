/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The device model's shared state: the device-side view of the rings, one
 * virtqueue, the device itself, and the small helpers every part of it
 * uses. What the model does, as the driver sees it, is described at the
 * top of model.c. The parts:
 *   model.c    the transport ops (status, features, config space, queue
 *              setup and reset), vnet_model_poll(), the public knobs,
 *              create/destroy
 *   avail.c    the driver's side of the rings: notification suppression,
 *              the avail index, descriptor chains (split, packed, indirect)
 *              and the buffers they name
 *   used.c     completions: used entries (split) and used descriptors
 *              (packed), IN_ORDER batches, the USED_* faults, publishing
 *   tx.c       a transmit queue: its chains read into one frame each
 *   offload.c  the TX header's offloads (CSUM, HOST_TSO), GUEST_CSUM's
 *              verification, BAD_CSUM's corruption
 *   rx.c       delivery into a receive queue: the RX filter, the header,
 *              MRG_RXBUF
 *   backend.c  where frames go and come from: loopback, reflector, wire,
 *              sink; the source's generator
 *   ctrl.c     the control queue
 * Internal functions shared between the parts are named model_*.
 */
#ifndef VNET_MODEL_INT_H
#define VNET_MODEL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* Config image (spec 5.1.4): mac, status, max_virtqueue_pairs, mtu,
 * speed, duplex, rss_max_key_size, rss_max_indirection_table_length,
 * supported_hash_types; little-endian multi-byte fields (spec 2.5). */
#define CFG_SIZE 24
/* RSS and hash report limits the model offers (spec 5.1.4.1's minima) and
 * the hash types it computes: IPv4, TCPv4, UDPv4, IPv6, TCPv6, UDPv6 (no
 * _EX type: it does not walk IPv6 extension headers). */
#define MODEL_RSS_KEY 40
#define MODEL_RSS_TABLE 128
#define MODEL_HASH_TYPES 0x3fu

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

/* RSS or hash configuration (control queue, MQ class; reset clears it). */
struct model_rss {
	bool steer;             /* RSS_CONFIG: the table chooses the queue */
	bool hash;              /* the hash goes into the header (HASH_REPORT) */
	uint8_t key_len;
	uint32_t types;
	uint16_t table_len;     /* a power of two */
	uint16_t unclassified;
	uint8_t key[MODEL_RSS_KEY];
	uint16_t table[MODEL_RSS_TABLE];
};

struct vnet_model {
	struct vnet_transport transport; /* first: the transport ops cast back */
	struct vnet_model_conf conf;     /* defaults applied */
	uint8_t status;
	uint64_t drv_features;
	bool feat_written;        /* legacy: the driver wrote its features (no FEATURES_OK) */
	uint32_t generation;
	bool link_up;
	bool announce;
	bool bm_off;                     /* bus mastering off (the bus_master op): no memory touched */
	/* control queue state (reset clears it) */
	bool promisc, allmulti, uc_overflow, mc_overflow;
	uint8_t mac[ETH_ALEN];
	uint16_t active;                 /* queue pairs in use */
	uint64_t rx_off;                 /* receive offloads on (CTRL_GUEST_OFFLOADS); all after reset */
	struct model_rss rss;            /* RSS / hash report (rss.c) */
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
	uint8_t txhdr[VIRTIO_NET_HDR_HASH_LEN];
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
	uint16_t hash_report;   /* HASH_REPORT: set by model_rss() */
	uint32_t hash_value;
};

/* ----------------------------------------------------------- helpers -- */

/* Serving its rings: DRIVER_OK, no error, and bus mastering on (off, the
 * device may not reach memory at all). */
static inline bool is_live(const struct vnet_model *m)
{
	return (m->status & VIRTIO_STATUS_DRIVER_OK) && !m->bm_off &&
	       !(m->status & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED));
}

static inline bool has(const struct vnet_model *m, uint64_t f)
{
	return (m->drv_features & f) == f;
}

/* A receive offload negotiated and on now (spec 5.1.6.5.6.1: all of them
 * until the driver turns some off through the control queue). */
static inline bool rx_on(const struct vnet_model *m, uint64_t f)
{
	return has(m, f) && (m->rx_off & f) == f;
}

/* Spec 5.1.6: 20 bytes with HASH_REPORT, 12 with VERSION_1 or MRG_RXBUF,
 * 10 otherwise. */
static inline uint32_t hdr_len(const struct vnet_model *m)
{
	if (m->drv_features & VNET_F_HASH_REPORT)
		return VIRTIO_NET_HDR_HASH_LEN;
	return (m->drv_features & (VNET_F_VERSION_1 | VNET_F_MRG_RXBUF)) ? 12 : 10;
}

static inline bool fault_take(struct vnet_model *m, enum vnet_model_fault f)
{
	if (!m->fault[f])
		return false;
	m->fault[f]--;
	m->st.faults_fired++;
	return true;
}

static inline bool used_fault_armed(const struct vnet_model *m)
{
	return m->fault[VNET_FAULT_USED_ID_RANGE] || m->fault[VNET_FAULT_USED_ID_IDLE] ||
	       m->fault[VNET_FAULT_USED_DUP] || m->fault[VNET_FAULT_USED_IDX_JUMP] ||
	       m->fault[VNET_FAULT_USED_LEN];
}

static inline uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static inline uint32_t budget(const struct vnet_model *m)
{
	return m->conf.rx_budget ? m->conf.rx_budget : UINT32_MAX;
}

/* The device met driver input it cannot make sense of (spec 2.1.2). */
static inline void device_error(struct vnet_model *m)
{
	m->st.bad_desc++;
	m->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
}

static inline void *iova_ptr(uint64_t iova)
{
#if UINTPTR_MAX < UINT64_MAX
	if (iova > UINTPTR_MAX)
		return NULL;
#endif
	return (void *)(uintptr_t)iova; /* Linux and bare metal: iova == VA */
}

/* ------------------------------------------------------------ queues -- */

static inline struct mq *rxq(struct vnet_model *m, uint32_t pair) { return &m->q[2 * pair]; }
static inline struct mq *txq(struct vnet_model *m, uint32_t pair) { return &m->q[2 * pair + 1]; }
static inline struct mq *ctrlq(struct vnet_model *m) { return &m->q[m->nq - 1]; }

static inline uint32_t *due_of(struct vnet_model *m, const struct mq *q)
{
	return m->due + (size_t)q->pair * m->conf.queue_max;
}

/* Packed: the wrap counter of position @pos (spec 2.8.1). */
static inline bool pk_wrap(const struct mq *q, uint16_t pos)
{
	return (pos & q->size) == 0;
}

/* Avail entries (packed: descriptors) seen and not consumed. */
static inline uint32_t window(const struct mq *q)
{
	return q->size ? (uint16_t)(q->seen - q->last_avail) : 0;
}

/* ------------------------------------------------ avail.c: the chains -- */

void model_suppress(const struct vnet_model *m, struct mq *q);
int model_refresh_avail(struct vnet_model *m, struct mq *q);
int model_chain_split(struct vnet_model *m, struct mq *q, uint16_t head, uint16_t expect, struct chain *c);
int model_chain_packed(struct vnet_model *m, struct mq *q, uint16_t pos, struct chain *c);
void model_segs_read(const struct seg *s, uint32_t n, uint64_t off, uint8_t *dst, uint32_t len);
void model_segs_write(const struct seg *s, uint32_t n, uint64_t off, const uint8_t *src, uint32_t len);

/* The chain at avail entry / position @pos. */
static inline __attribute__((always_inline)) int chain_at(struct vnet_model *m, struct mq *q, uint16_t pos,
                                                          uint16_t expect, struct chain *c)
{
	if (q->packed)
		return model_chain_packed(m, q, pos, c);
	return model_chain_split(m, q, q->avail->ring[pos & q->mask], expect, c);
}

/* Consume the chain at last_avail (parsed into @c). */
static inline void consume(struct mq *q, const struct chain *c)
{
	if (q->packed) {
		q->last_avail = (uint16_t)(q->last_avail + c->ndesc);
	} else {
		q->last_avail++;
		q->next_desc = c->next_desc; /* IN_ORDER: where the next chain starts */
	}
}

/* ------------------------------------------------------ the other parts -- */

/* used.c */
void model_complete(struct vnet_model *m, struct mq *q, uint32_t id, uint32_t len, uint16_t ndesc);
void model_publish(struct vnet_model *m, struct mq *q);
/* tx.c */
uint32_t model_tx_run(struct vnet_model *m, struct mq *q);
/* offload.c */
bool model_tx_offload(struct vnet_model *m, struct mq *q, uint32_t len);
bool model_csum_verify(const uint8_t *f, uint32_t len);
void model_corrupt(uint8_t *f, uint32_t len);
/* rx.c */
bool model_deliver(struct vnet_model *src, struct vnet_model *dst, uint32_t pair, uint8_t *f, uint32_t len,
                   const struct rxmeta *meta);
/* backend.c */
struct vnet_model *model_receiver(struct vnet_model *m);
void model_route(struct vnet_model *m, uint32_t pair, uint8_t *f, uint32_t len, const struct rxmeta *meta);
uint32_t model_source_run(struct vnet_model *m, uint32_t pair);
/* ctrl.c */
uint32_t model_ctrl_run(struct vnet_model *m);
/* rss.c */
uint32_t model_toeplitz(const uint8_t *key, uint32_t key_len, const uint8_t *in, uint32_t n);
uint32_t model_rss(struct vnet_model *m, const uint8_t *f, uint32_t len, uint32_t pair, struct rxmeta *meta);

#endif
