/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file vnet.h
 * @brief vnet core API: packet-buffer pools, virtio-net devices, bursts.
 *
 * A polling-mode virtio-net driver. Everything returns 0 or a negative
 * errno (see vnet_strerror()); the fast-path calls return counts and keep
 * their failures in per-queue counters.
 */
#ifndef VNET_VNET_H
#define VNET_VNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "vnet/version.h" /* VNET_VERSION_*: the one place the version is set */

/** @return the library version as "MAJOR.MINOR.PATCH". */
const char *vnet_version(void);

/** @return a static English description of a (negative or positive) errno. */
const char *vnet_strerror(int err);

/* ---------------------------------------------------------------- log -- */

/** Severity of a log message; a sink gets those up to the level set with vnet_set_log(). */
enum vnet_log_level {
	VNET_LOG_ERR = 0, /**< an operation failed */
	VNET_LOG_WARN,    /**< something is off, the operation went on (the default level) */
	VNET_LOG_INFO,    /**< what the driver negotiated and set up */
	VNET_LOG_DEBUG,   /**< details, for debugging */
};

/** A log sink. The library never prints; it calls the installed sink. */
typedef void (*vnet_log_fn)(enum vnet_log_level level, const char *msg, void *arg);

/** Install a log sink (NULL to silence). Messages above @p max are dropped. */
void vnet_set_log(vnet_log_fn fn, void *arg, enum vnet_log_level max);

/** Monotonic microseconds from the platform's clock (TSC on bare metal). */
uint64_t vnet_now_us(void);

/* --------------------------------------------------------------- pool -- */

/** A packet buffer from a pool. The frame lives at data[0..len). */
struct vnet_buf {
	uint8_t *data;          /**< first byte of the Ethernet frame (of this segment) */
	uint32_t len;           /**< bytes at data (this segment) */
	uint16_t flags;         /**< VNET_BUF_F_* */
	uint16_t idx;           /**< index of this buffer in its pool */
	uint32_t size;          /**< bytes from base to the end of the buffer */
	uint16_t nb_segs;       /**< segments of this frame, linked by next: RX (> 1 only with VNET_F_MRG_RXBUF), TX (see vnet_tx_burst) */
	uint16_t hash_report;   /**< RX with VNET_F_HASH_REPORT: what hash_value covers, VNET_HASH_REPORT_* (NONE: no hash; also for a value the spec does not define, counted in rx_bad_hash) */
	uint8_t *base;          /**< start of the buffer (headroom begins here) */
	uint64_t iova;          /**< bus (DMA) address of base */
	struct vnet_pool *pool; /**< the pool this buffer returns to */
	void *priv;             /**< free for the owner's use (e.g. the lwIP glue) */
	struct vnet_buf *next;  /**< next segment; meaningful only while nb_segs > 1 */
	uint32_t hash_value;    /**< RX with VNET_F_HASH_REPORT: the device's hash of the frame (spec 5.1.6.4), 0 when hash_report is NONE; both fields are set by vnet_rx_burst() only when HASH_REPORT is negotiated */
};

#define VNET_BUF_F_DATA_VALID 0x1 /**< RX: the device validated the checksum */
#define VNET_BUF_F_NEEDS_CSUM 0x2 /**< RX: the device left a partial checksum (csum_start/offset) */
#define VNET_BUF_F_TX_HDR     0x4 /**< TX: the virtio_net_hdr before data is filled in (offloads) */

/**
 * The virtio_net_hdr (spec 5.1.6) that sits in a buffer's headroom, right
 * before data: written by the device on RX (untrusted: check csum_start,
 * csum_offset and gso_size against the frame before use), by the
 * application on TX when it sets VNET_BUF_F_TX_HDR (checksum and
 * segmentation offload, if VNET_F_CSUM / VNET_F_HOST_TSO* were negotiated).
 */
struct vnet_net_hdr {
	uint8_t flags;          /**< VNET_HDR_F_* */
	uint8_t gso_type;       /**< VNET_HDR_GSO_* */
	uint16_t hdr_len;       /**< bytes of headers (Ethernet + IP + TCP) with GSO */
	uint16_t gso_size;      /**< payload bytes per segment with GSO */
	uint16_t csum_start;    /**< checksum from here to the end of the frame ... */
	uint16_t csum_offset;   /**< ... stored at csum_start + csum_offset */
	uint16_t num_buffers;   /**< RX with MRG_RXBUF: buffers of this frame */
};
#define VNET_HDR_F_NEEDS_CSUM 1 /**< flags: checksum from csum_start, stored at csum_start + csum_offset, still to do */
#define VNET_HDR_F_DATA_VALID 2 /**< flags (RX): the device validated the checksum */
#define VNET_HDR_GSO_NONE  0 /**< gso_type: not a segmentation offload */
#define VNET_HDR_GSO_TCPV4 1 /**< gso_type: TCP over IPv4, cut into gso_size segments */
#define VNET_HDR_GSO_TCPV6 4 /**< gso_type: TCP over IPv6, cut into gso_size segments */

/** The header in front of @p b's data (@p hdr_len from vnet_dev_hdr_len()).
 * For writing a TX header. An RX header is the device's: read it with
 * vnet_buf_hdr_read() instead (it may be unaligned, and the device may
 * write it again between two reads through this pointer). */
static inline struct vnet_net_hdr *vnet_buf_hdr(struct vnet_buf *b, uint8_t hdr_len)
{
	return (struct vnet_net_hdr *)(void *)(b->data - hdr_len);
}

/**
 * Copy the device-written header in front of @p b's data into @p out,
 * each byte read once (no alignment assumed, fields little-endian as the
 * spec has them); fields past @p hdr_len (num_buffers with a 10-byte
 * header) read 0. Check and use the copy, never the buffer: a value
 * checked in the buffer may have changed by the time it is used.
 */
static inline void vnet_buf_hdr_read(const struct vnet_buf *b, uint8_t hdr_len, struct vnet_net_hdr *out)
{
	const volatile uint8_t *p = b->data - hdr_len;
	uint8_t h[12] = {0};
	uint8_t i;

	for (i = 0; i < hdr_len && i < sizeof(h); i++)
		h[i] = p[i];
	out->flags = h[0];
	out->gso_type = h[1];
	out->hdr_len = (uint16_t)(h[2] | h[3] << 8);
	out->gso_size = (uint16_t)(h[4] | h[5] << 8);
	out->csum_start = (uint16_t)(h[6] | h[7] << 8);
	out->csum_offset = (uint16_t)(h[8] | h[9] << 8);
	out->num_buffers = (uint16_t)(h[10] | h[11] << 8);
}

/** Pool geometry. Zero fields take the defaults shown. */
struct vnet_pool_conf {
	uint32_t count;    /**< number of buffers (required, > 0) */
	uint32_t buf_size; /**< bytes per buffer incl. headroom (2048) */
	uint32_t headroom; /**< bytes before data for the virtio_net_hdr (64) */
};

struct vnet_pool;

/** Create a pool: one DMA region carved into @c count buffers. */
int vnet_pool_create(struct vnet_pool **pool, const struct vnet_pool_conf *conf);
/** Destroy a pool. Fails with -EBUSY while buffers are still out. */
int vnet_pool_destroy(struct vnet_pool *pool);
/** Take @p n buffers, all or none: 0 or -ENOBUFS. data/len are reset. */
int vnet_pool_alloc_bulk(struct vnet_pool *pool, struct vnet_buf **bufs, uint32_t n);
/** Return @p n buffers, each to its own pool. */
void vnet_pool_free_bulk(struct vnet_buf **bufs, uint32_t n);
/** Take one buffer or NULL. */
struct vnet_buf *vnet_buf_alloc(struct vnet_pool *pool);
/** Return one buffer to its pool. */
void vnet_buf_free(struct vnet_buf *buf);
/** Return a received frame and all its segments (nb_segs, next). */
void vnet_buf_free_chain(struct vnet_buf *buf);
/** Buffers currently taken out of the pool (by the driver or the app). */
uint32_t vnet_pool_in_use(const struct vnet_pool *pool);
/** Total buffers in the pool. */
uint32_t vnet_pool_count(const struct vnet_pool *pool);
/** Largest frame a buffer of this pool holds (buf_size - headroom). */
uint32_t vnet_pool_data_room(const struct vnet_pool *pool);

/* ------------------------------------------------------------- device -- */

/** @name Feature bits (virtio spec 5.1.3 and 6), for vnet_dev_conf.features
 * and vnet_net_config.features.
 * @{ */
#define VNET_F_CSUM            (1ULL << 0) /**< device takes frames with a partial checksum (TX checksum offload) */
#define VNET_F_GUEST_CSUM      (1ULL << 1) /**< driver takes frames with a partial checksum (RX) */
#define VNET_F_CTRL_GUEST_OFFLOADS (1ULL << 2) /**< control queue: receive offloads on and off at run time (vnet_dev_set_rx_offloads) */
#define VNET_F_MTU             (1ULL << 3) /**< device reports its maximum MTU */
#define VNET_F_MAC             (1ULL << 5) /**< device has a MAC address in its config */
#define VNET_F_GUEST_TSO4      (1ULL << 7) /**< driver can receive TSOv4 segments */
#define VNET_F_GUEST_TSO6      (1ULL << 8) /**< driver can receive TSOv6 segments */
#define VNET_F_HOST_TSO4       (1ULL << 11) /**< device can take TSOv4 segments */
#define VNET_F_HOST_TSO6       (1ULL << 12) /**< device can take TSOv6 segments */
#define VNET_F_MRG_RXBUF       (1ULL << 15) /**< driver can merge receive buffers */
#define VNET_F_STATUS          (1ULL << 16) /**< config has a link status field */
#define VNET_F_CTRL_VQ         (1ULL << 17) /**< control virtqueue */
#define VNET_F_CTRL_RX         (1ULL << 18) /**< control queue: RX mode and MAC filter tables */
#define VNET_F_CTRL_VLAN       (1ULL << 19) /**< control queue: VLAN filtering */
#define VNET_F_GUEST_ANNOUNCE  (1ULL << 21) /**< driver sends gratuitous packets when asked */
#define VNET_F_MQ              (1ULL << 22) /**< several queue pairs, with receive steering */
#define VNET_F_CTRL_MAC_ADDR   (1ULL << 23) /**< control queue: set the MAC address */
#define VNET_F_SPEED_DUPLEX    (1ULL << 63) /**< config reports link speed and duplex */
#define VNET_F_INDIRECT_DESC   (1ULL << 28) /**< indirect descriptor tables */
#define VNET_F_EVENT_IDX       (1ULL << 29) /**< used_event / avail_event notification suppression */
#define VNET_F_VERSION_1       (1ULL << 32) /**< virtio 1.0 or later (required) */
#define VNET_F_ACCESS_PLATFORM (1ULL << 33) /**< device DMA goes through a platform IOMMU */
#define VNET_F_RING_PACKED     (1ULL << 34) /**< packed virtqueue layout (spec 2.8) */
#define VNET_F_IN_ORDER        (1ULL << 35) /**< device uses buffers in the order they were made available */
#define VNET_F_RING_RESET      (1ULL << 40) /**< one queue can be reset alone: vnet_dev_recover() resets only broken queues */
#define VNET_F_HASH_REPORT     (1ULL << 57) /**< the device reports each received frame's hash (vnet_buf hash_value, hash_report); 20-byte header; vnet_dev_set_hash() or vnet_dev_set_rss() configure it; needs VNET_F_CTRL_VQ */
#define VNET_F_RSS             (1ULL << 60) /**< receive-side scaling: a Toeplitz hash and an indirection table choose the RX queue (vnet_dev_set_rss); needs VNET_F_MQ and VNET_F_CTRL_VQ (queue_pairs > 1 asks for both) */
/** @} */

/** @name Hash types (spec 5.1.6.4.3): what a device may hash, for
 * vnet_rss_conf.hash_types, vnet_dev_set_hash() and
 * vnet_net_config.hash_types. The _EX types hash IPv6 extension header
 * addresses (home address, routing header) instead.
 * @{ */
#define VNET_HASH_TYPE_IPV4   (1u << 0) /**< IPv4 source and destination addresses */
#define VNET_HASH_TYPE_TCPV4  (1u << 1) /**< ... and TCP ports (not for fragments) */
#define VNET_HASH_TYPE_UDPV4  (1u << 2) /**< ... and UDP ports (not for fragments) */
#define VNET_HASH_TYPE_IPV6   (1u << 3) /**< IPv6 source and destination addresses */
#define VNET_HASH_TYPE_TCPV6  (1u << 4) /**< ... and TCP ports */
#define VNET_HASH_TYPE_UDPV6  (1u << 5) /**< ... and UDP ports */
#define VNET_HASH_TYPE_IP_EX  (1u << 6) /**< IPv6 with extension header addresses */
#define VNET_HASH_TYPE_TCP_EX (1u << 7) /**< ... and TCP ports */
#define VNET_HASH_TYPE_UDP_EX (1u << 8) /**< ... and UDP ports */
#define VNET_HASH_TYPES_ALL   0x1ffu    /**< every type the spec defines */
/** @} */

/** vnet_buf.hash_report: which fields the reported hash covers (spec 5.1.6.4.3). */
enum vnet_hash_report {
	VNET_HASH_REPORT_NONE = 0, /**< no hash (no type enabled matched, or not configured) */
	VNET_HASH_REPORT_IPV4,
	VNET_HASH_REPORT_TCPV4,
	VNET_HASH_REPORT_UDPV4,
	VNET_HASH_REPORT_IPV6,
	VNET_HASH_REPORT_TCPV6,
	VNET_HASH_REPORT_UDPV6,
	VNET_HASH_REPORT_IPV6_EX,
	VNET_HASH_REPORT_TCPV6_EX,
	VNET_HASH_REPORT_UDPV6_EX,
};

/** The receive offloads vnet_dev_set_rx_offloads() switches (spec
 * 5.1.6.5.6.1 lists GUEST_ECN, GUEST_UFO and GUEST_USO4/6 too; vnet never
 * negotiates those). */
#define VNET_RX_OFFLOADS (VNET_F_GUEST_CSUM | VNET_F_GUEST_TSO4 | VNET_F_GUEST_TSO6)

/** What vnet asks for by default when a device offers it. */
#define VNET_F_DEFAULT                                                                     \
	(VNET_F_VERSION_1 | VNET_F_MAC | VNET_F_MTU | VNET_F_STATUS | VNET_F_EVENT_IDX | VNET_F_IN_ORDER)

/** Device options. Zero fields take the defaults shown. */
struct vnet_dev_conf {
	struct vnet_pool *pool;  /**< RX buffers come from here (required) */
	uint16_t rx_ring_size;   /**< RX descriptors (min(256, device max)) */
	uint16_t tx_ring_size;   /**< TX descriptors (min(256, device max)) */
	uint64_t features;       /**< features wanted (VNET_F_DEFAULT) */
	uint8_t hdr_len;         /**< virtio_net_hdr length override (follow features) */
	uint8_t _pad;
	uint16_t queue_pairs;    /**< queue pairs to use (1); more needs VNET_F_MQ and VNET_F_CTRL_VQ */
	uint16_t ctrl_ring_size; /**< control queue descriptors (min(64, device max)) */
	uint16_t _pad2;
};

/** Device configuration (virtio spec 5.1.4), as negotiated. */
struct vnet_net_config {
	uint8_t mac[6];         /**< MAC address (VNET_F_MAC; all zero without it) */
	bool link_up;           /**< STATUS LINK_UP (true when STATUS not negotiated) */
	bool announce;          /**< STATUS ANNOUNCE */
	uint16_t max_pairs;     /**< max_virtqueue_pairs (1 without MQ; a device offering 0 or more than 0x7fff does not get MQ) */
	uint16_t mtu;           /**< MTU (1500 without F_MTU; a device MTU below 68, IPv4's minimum, does not get F_MTU) */
	uint64_t features;      /**< negotiated feature bits */
	uint32_t speed_mbps;    /**< link speed with SPEED_DUPLEX (UINT32_MAX: unknown) */
	uint8_t duplex;         /**< 1 full, 0 half, 0xff unknown */
	/* With VNET_F_RSS or VNET_F_HASH_REPORT negotiated (0 otherwise); a
	 * device offering a key below 40 bytes, a table below 128 entries
	 * (RSS), above 32768 or not a power of two, or no hash type vnet
	 * knows does not get those features (spec 5.1.4.1). */
	uint8_t rss_max_key_size;  /**< longest hash key the device takes (bytes) */
	uint16_t rss_max_table_len;/**< longest indirection table the device takes (RSS) */
	uint32_t hash_types;       /**< supported_hash_types: VNET_HASH_TYPE_* */
};

/** Per-queue counters. Failures on the fast path land here. */
struct vnet_queue_stats {
	uint64_t packets;        /**< frames received or sent */
	uint64_t bytes;          /**< their bytes (frames, without the virtio_net_hdr) */
	uint64_t bursts;         /**< bursts that moved at least one frame */
	uint64_t kicks;          /**< notifications sent to the device */
	uint64_t drop_bad_id;    /**< used id out of range, not in flight or (IN_ORDER) not its position's: the queue breaks */
	uint64_t drop_bad_len;   /**< used len larger than the buffer or too short (the queue breaks), or a bad num_buffers (the frame is dropped) */
	uint64_t drop_bad_idx;   /**< used index ahead of what is in flight, or (packed) flags no device writes: the queue breaks */
	uint64_t drop_pool_empty;/**< refill found the pool empty */
	uint64_t drop_ring_full; /**< TX found no free descriptor */
	uint64_t tx_copied;      /**< TX chains copied into their first buffer (no indirect table for them) */
	uint64_t queue_resets;   /**< times this queue was reset alone (VNET_F_RING_RESET) */
	uint64_t rx_hashed;      /**< RX with VNET_F_HASH_REPORT: frames that came with a hash (hash_report not NONE) */
	uint64_t rx_bad_hash;    /**< RX with VNET_F_HASH_REPORT: frames whose hash_report the spec does not define (delivered, reported as NONE) */
};

/** Device-wide counters (vnet_dev_stats()). */
struct vnet_dev_stats {
	uint64_t reset_failures;  /**< device resets that did not complete (status never read back 0) */
	uint32_t held_bufs;       /**< buffers kept out of their pools now: a reset did not complete, the device may still write them */
	uint32_t _pad;
	uint64_t held_ring_bytes; /**< ring memory (with indirect tables and the control buffer) kept for the same reason */
};

/** What devices closed without a completed reset still hold (vnet_held_stats()). */
struct vnet_held_stats {
	uint32_t devices;         /**< such devices */
	uint32_t bufs;            /**< buffers kept out of their pools */
	uint64_t ring_bytes;      /**< bytes of ring memory never freed */
};

struct vnet_dev;
struct vnet_transport;

/**
 * Reset the device, negotiate features (spec 3.1.1), set up one RX and one
 * TX queue, post RX buffers and set DRIVER_OK. On failure nothing is left
 * allocated and the device is left reset. The transport stays the caller's.
 */
int vnet_dev_open(struct vnet_dev **dev, struct vnet_transport *t, const struct vnet_dev_conf *conf);
/**
 * Reset the device and return every buffer it held to its pool. If the
 * reset does not complete, the device may still write into what it was
 * given: its buffers stay out of their pools (vnet_pool_destroy() then
 * fails with -EBUSY) and its ring memory is never freed, with an error
 * logged; vnet_held_stats() counts them and vnet_held_release() retries
 * the reset.
 */
void vnet_dev_close(struct vnet_dev *dev);
/** Re-read the device configuration (with the generation check). */
int vnet_dev_config(struct vnet_dev *dev, struct vnet_net_config *out);
/** Parse "aa:bb:cc:dd:ee:ff". 0 or -EINVAL. */
int vnet_parse_mac(const char *s, uint8_t mac[6]);
/** Header length in use (10 or 12 bytes, or the override). */
uint8_t vnet_dev_hdr_len(const struct vnet_dev *dev);
/**
 * The device set DEVICE_NEEDS_RESET or the driver found a broken ring: a
 * used entry naming a buffer not in flight (or out of range, or under
 * IN_ORDER not the one of its position), an RX length below the header or
 * past the buffer, a used index further ahead than what is in flight, or
 * (packed) descriptor flags no device writes (counted in drop_bad_id,
 * drop_bad_len, drop_bad_idx). Nothing after such an entry is trusted:
 * the queue's fast path stops until vnet_dev_recover() resets it. 1 if so.
 */
int vnet_dev_broken(struct vnet_dev *dev);
/**
 * Reset and re-initialise a device in place; buffers in flight go back to
 * the pool (unless the reset does not complete: -ETIMEDOUT, and they stay
 * the device's, counted in vnet_dev_stats(), until a later reset does). With VNET_F_RING_RESET negotiated and the device itself sound
 * (no DEVICE_NEEDS_RESET), only the broken queues are reset and re-enabled
 * (vnet_dev_queue_reset()), the others keep running with their buffers;
 * if that fails, the whole device is reset.
 */
int vnet_dev_recover(struct vnet_dev *dev);
/**
 * Reset the RX (@p rx true) or TX queue of pair @p q alone and enable it
 * again (VNET_F_RING_RESET, spec 2.6.1): its buffers in flight go back to
 * the pool (TX frames not yet sent are dropped), RX is refilled, the other
 * queues are not touched. 0; -ENOTSUP (RING_RESET not negotiated);
 * -EINVAL; or the device did not reset the queue (-ETIMEDOUT, -EIO) or
 * take it back: the queue is then left broken for vnet_dev_recover().
 */
int vnet_dev_queue_reset(struct vnet_dev *dev, uint16_t q, bool rx);

/**
 * Harvest up to @p n received frames from RX queue @p q. Each returned
 * buffer is the caller's; give it back with vnet_buf_free or send it.
 * @return frames harvested; 0 when none, when @p q is not a queue pair
 * or @p bufs is NULL, and while the queue is broken (vnet_dev_recover()).
 */
uint16_t vnet_rx_burst(struct vnet_dev *dev, uint16_t q, struct vnet_buf **bufs, uint16_t n);
/** Post free pool buffers to RX queue @p q. @return buffers posted. */
uint16_t vnet_rx_refill(struct vnet_dev *dev, uint16_t q);
/**
 * Queue up to @p n frames on TX queue @p q: reclaims finished sends, fills
 * descriptors, publishes the avail index once and kicks only if the device
 * asked. Accepted buffers belong to the driver and return to their pool
 * when the device is done. @return frames accepted (the rest stay the caller's).
 *
 * A frame may be a chain of @c nb_segs pool buffers linked by @c next (the
 * virtio_net_hdr goes before the first one's data; each segment must lie
 * inside its buffer). With VNET_F_INDIRECT_DESC a chain of up to
 * VNET_TX_MAX_SEGS segments takes one ring descriptor, pointing at an
 * indirect table set aside for it at open; otherwise (or when longer) the
 * later segments are copied behind the first one's data, if they fit its
 * buffer (counted in tx_copied), and freed. A chain that is inconsistent
 * or fits neither way stops the burst there, like a frame too big for its
 * buffer. The whole chain returns to the pool when sent.
 */
uint16_t vnet_tx_burst(struct vnet_dev *dev, uint16_t q, struct vnet_buf **bufs, uint16_t n);
/** Most segments of a TX chain sent through one indirect table (VNET_F_INDIRECT_DESC). */
#define VNET_TX_MAX_SEGS 16
/** Reclaim finished TX buffers without sending. @return buffers reclaimed. */
uint16_t vnet_tx_reclaim(struct vnet_dev *dev, uint16_t q);
/** The pool the device takes RX buffers from. */
struct vnet_pool *vnet_dev_pool(const struct vnet_dev *dev);
/** Queue pairs in use (what vnet_dev_set_queue_pairs() last set). */
uint16_t vnet_dev_queue_pairs(const struct vnet_dev *dev);

/**
 * Ask RX queue @p q for a used-buffer notification (an interrupt, when the
 * transport has one wired: vnet_pci_opts.msi_addr) at its next received
 * frame, for a loop about to sleep. Then look at the ring once more.
 * Not for the fast path: a polling loop never needs it.
 * Call vnet_dev_rx_intr_disable() afterwards in either case.
 * @return 0 (armed: sleep until the interrupt), 1 (frames are already
 * there: do not sleep), -EINVAL (no such queue, or not started).
 */
int vnet_dev_rx_intr_enable(struct vnet_dev *dev, uint16_t q);
/** Back to no notifications for RX queue @p q (after the sleep). */
void vnet_dev_rx_intr_disable(struct vnet_dev *dev, uint16_t q);

/* Control queue (spec 5.1.6.5). Each waits (bounded, 1 s) for the device's
 * answer: 0, -ENOTSUP (feature not negotiated), -EIO (device said ERR),
 * -ETIMEDOUT. Not for the fast path. */
/** Promiscuous and all-multicast receive modes (VNET_F_CTRL_RX). */
int vnet_dev_set_rx_mode(struct vnet_dev *dev, bool promisc, bool allmulti);
/** Set the device's MAC address (VNET_F_CTRL_MAC_ADDR). */
int vnet_dev_set_mac(struct vnet_dev *dev, const uint8_t mac[6]);
/** Replace the unicast and multicast MAC filter tables (VNET_F_CTRL_RX). */
int vnet_dev_set_mac_table(struct vnet_dev *dev, const uint8_t (*uc)[6], uint32_t n_uc,
                           const uint8_t (*mc)[6], uint32_t n_mc);
/** Add or remove VLAN @p vid (0..4095) from the filter (VNET_F_CTRL_VLAN). */
int vnet_dev_vlan(struct vnet_dev *dev, uint16_t vid, bool add);
/** Acknowledge a STATUS ANNOUNCE request after sending gratuitous ARPs (VNET_F_GUEST_ANNOUNCE). */
int vnet_dev_announce_ack(struct vnet_dev *dev);
/** Use @p pairs queue pairs (1..those opened; VNET_F_MQ). With RSS in
 * force the RSS configuration is sent instead, with the new count
 * (-EINVAL if its explicit table names a pair beyond it). */
int vnet_dev_set_queue_pairs(struct vnet_dev *dev, uint16_t pairs);
/**
 * Turn receive offloads on and off at run time, as Linux's ethtool -K
 * does (VNET_F_CTRL_GUEST_OFFLOADS, spec 5.1.6.5.6.1): @p offloads is the
 * whole set wanted, a subset of the VNET_RX_OFFLOADS negotiated
 * (VNET_F_GUEST_CSUM, VNET_F_GUEST_TSO4, VNET_F_GUEST_TSO6); every
 * negotiated one missing from it is turned off. With GUEST_TSO4/6 off the
 * device sends no large segment (it cuts them first); with GUEST_CSUM off
 * it sends complete checksums and the driver trusts none of its checksum
 * flags. The set stays in force across vnet_dev_recover(): a device reset
 * turns every negotiated offload on again (spec 5.1.6.5.6.1), so the
 * driver sends it again. A frame the device wrote before it took the
 * command may still carry what was turned off; the lwIP glue drops such
 * a large segment (rx_bad_gso) and checks such a checksum itself.
 * @return 0; -ENOTSUP (VNET_F_CTRL_GUEST_OFFLOADS not negotiated: the
 * negotiated offloads stay in force); -EINVAL (@p offloads holds a bit
 * not negotiated or not a receive offload, or GUEST_TSO4/6 without
 * GUEST_CSUM, which they need: spec 5.1.3.1); -EIO (the device said ERR:
 * nothing changed); -ETIMEDOUT, or -EIO with vnet_dev_broken() (no answer,
 * or a control queue the device broke: only what was in force and is in
 * @p offloads counts as in force, and vnet_dev_recover() sends the set
 * again).
 */
int vnet_dev_set_rx_offloads(struct vnet_dev *dev, uint64_t offloads);
/**
 * The receive offloads in force now (a subset of VNET_RX_OFFLOADS): those
 * negotiated, or what vnet_dev_set_rx_offloads() last set. What a
 * receiver of the device's frames must follow (the lwIP glue reads it at
 * every burst). 0 for NULL.
 */
uint64_t vnet_dev_rx_offloads(const struct vnet_dev *dev);

/* ---------------------------------------------- RSS and hash report -- */

/** Length of vnet_rss_default_key(). */
#define VNET_RSS_KEY_LEN 40
/** Longest indirection table vnet sends (it fits the control buffer with
 * the longest key); a device may take more, vnet uses at most this. */
#define VNET_RSS_TABLE_MAX 1024

/** The default Toeplitz key (VNET_RSS_KEY_LEN bytes): the one of the
 * published RSS verification suite, so a peer can compute the same hash. */
const uint8_t *vnet_rss_default_key(void);

/** Receive-side scaling (VNET_F_RSS, spec 5.1.6.5.7). Zero fields take the defaults shown. */
struct vnet_rss_conf {
	uint32_t hash_types;   /**< VNET_HASH_TYPE_*, a subset of vnet_net_config.hash_types; 0: no hash, every frame goes to unclassified */
	const uint8_t *key;    /**< Toeplitz key (NULL: vnet_rss_default_key()) */
	uint8_t key_len;       /**< its bytes, 1..rss_max_key_size (with key NULL: 0) */
	uint8_t _pad;
	uint16_t table_len;    /**< entries at table: a power of two, 1..min(rss_max_table_len, VNET_RSS_TABLE_MAX) (0 with table NULL: that maximum) */
	const uint16_t *table; /**< table_len queue pair numbers (0-based), each below vnet_dev_queue_pairs()
	                            (NULL: round-robin over the pairs in use, kept so across vnet_dev_set_queue_pairs()) */
	uint16_t unclassified; /**< queue pair for frames no enabled hash type covers (0) */
};

/**
 * Steer received frames by RSS (VNET_F_RSS, spec 5.1.6.5.7): the device
 * hashes each frame's fields named by @p conf->hash_types with the
 * Toeplitz function and @p conf->key, and puts the frame on the queue
 * pair table[hash & (table_len - 1)] (frames of no enabled type: on
 * unclassified). With VNET_F_HASH_REPORT the same hash is reported in
 * every frame (vnet_buf hash_value, hash_report). Every argument is
 * checked against the device's limits (vnet_net_config) first. The
 * configuration stays in force across vnet_dev_recover() (a reset forgets
 * it: it is sent again) and vnet_dev_set_queue_pairs() (sent again with
 * the new count; a default table spreads over the new pairs, an explicit
 * one must name only pairs kept). @p conf NULL turns RSS off: automatic
 * steering (VQ_PAIRS_SET) again.
 * @return 0; -ENOTSUP (VNET_F_RSS not negotiated); -EINVAL (an argument
 * outside the device's limits: hash types it does not support, key
 * length 0 or above rss_max_key_size, table length not a power of two or
 * above the maximum, a queue not in use; the log says which); -EIO (the
 * device said ERR: the configuration before stays in force);
 * -ETIMEDOUT.
 */
int vnet_dev_set_rss(struct vnet_dev *dev, const struct vnet_rss_conf *conf);
/**
 * Hash report without RSS (VNET_F_HASH_REPORT, spec 5.1.6.5.5's
 * HASH_CONFIG): the device computes and reports the hash of @p
 * hash_types (0: none) with @p key (NULL: vnet_rss_default_key(), @p
 * key_len 0), queues chosen as before (automatic steering). Replaces an
 * RSS configuration (the last MQ command decides, 5.1.6.5.5). Kept across
 * recovery and vnet_dev_set_queue_pairs(), as vnet_dev_set_rss().
 * @return 0; -ENOTSUP; -EINVAL (types not supported, key length 0 or
 * above rss_max_key_size); -EIO; -ETIMEDOUT.
 */
int vnet_dev_set_hash(struct vnet_dev *dev, uint32_t hash_types, const uint8_t *key, uint8_t key_len);

/** Copy a queue's counters (rx = true for the RX queue). */
int vnet_queue_stats(const struct vnet_dev *dev, uint16_t q, bool rx, struct vnet_queue_stats *out);
/** Copy the device-wide counters. 0 or -EINVAL. */
int vnet_dev_stats(const struct vnet_dev *dev, struct vnet_dev_stats *out);
/** Sum what devices closed without a completed reset still hold (process-wide). */
void vnet_held_stats(struct vnet_held_stats *out);
/**
 * Retry the reset of the device behind transport @p t, for the devices
 * closed over it whose reset had not completed (before
 * vnet_transport_close(), and not while another device is open over @p t:
 * that one would be reset too). If the reset completes, their buffers go
 * back to their pools and their memory is freed. A vnet_dev_open() over
 * @p t whose reset completes does the same.
 * @return buffers given back (>= 0), or the reset's -errno (everything
 * stays held), -EINVAL.
 */
int vnet_held_release(struct vnet_transport *t);
/**
 * Let the device use buffers of @p pool too (TX frames from another pool
 * than its RX pool, e.g. a jumbo pool), for transports that give their
 * device only its own memory (vhost-user's memory table: a backend never
 * sees another device's pools or rings). Up to 4 pools; sharing an
 * already shared pool is a no-op. On an open device the transport is told
 * at once (vhost-user sends its memory table again). 0, -EINVAL, -ENOSPC,
 * or the transport's -errno.
 */
int vnet_dev_share_pool(struct vnet_dev *dev, struct vnet_pool *pool);
/** Descriptors of TX queue @p q not in flight. */
uint16_t vnet_tx_free(const struct vnet_dev *dev, uint16_t q);

#ifdef __cplusplus
}
#endif
#endif
