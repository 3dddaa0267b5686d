/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file model.h
 * @brief The in-process virtio-net device model: a device written from the
 * spec that drives the device side of the same ring memory a real device
 * would see. For tests, fuzzing and microbenchmarks; no VM needed.
 *
 * The model is single-threaded and deterministic: it does its work only in
 * vnet_model_poll() (the driver's notifications are counted, not acted on),
 * except that a notification of the control queue executes the commands
 * waiting there at once, as a real device does (a driver waits for them).
 * Features beyond the defaults (control queue, multiqueue, offloads,
 * MRG_RXBUF, packed ring, IN_ORDER, indirect descriptors, queue reset) take effect only
 * when conf.features offers them and the driver accepts them; what the
 * model does with each is listed at the top of lib/model/model.c.
 */
#ifndef VNET_MODEL_H
#define VNET_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vnet_model;
struct vnet_transport;
struct vnet_buf;

/** What the device does with frames the driver sends. */
enum vnet_model_backend {
	VNET_MODEL_LOOPBACK = 0, /**< TX frames come back on RX unchanged */
	VNET_MODEL_SINK,         /**< TX frames are counted and dropped */
	VNET_MODEL_SOURCE,       /**< RX is filled with generated frames; TX is sunk */
	VNET_MODEL_REFLECTOR,    /**< TX frames come back with MACs swapped */
	VNET_MODEL_WIRE,         /**< TX frames go to the peer joined by vnet_model_wire() */
};

/** Device-side misbehaviour, for fault injection. */
enum vnet_model_fault {
	VNET_FAULT_NONE = 0,
	VNET_FAULT_USED_ID_RANGE,   /**< next completion carries an id >= ring size */
	VNET_FAULT_USED_ID_IDLE,    /**< next completion names a descriptor not in flight */
	VNET_FAULT_USED_DUP,        /**< next completion is written twice */
	VNET_FAULT_USED_LEN,        /**< next RX completion has len larger than the buffer */
	VNET_FAULT_USED_IDX_JUMP,   /**< used idx jumps ahead of what is in flight */
	VNET_FAULT_CONFIG_CHURN,    /**< config changes (generation bumps) during the next reads */
	VNET_FAULT_REFUSE_FEATURES, /**< FEATURES_OK does not stick */
	VNET_FAULT_NEEDS_RESET,     /**< device sets DEVICE_NEEDS_RESET and stops */
	VNET_FAULT_RESET_STUCK,     /**< a reset never completes (status never reads 0) */
	VNET_FAULT_BAD_CSUM,        /**< next RX frames get one byte flipped in the payload */
	VNET_FAULT_QUEUE_RESET_STUCK,   /**< a queue reset (RING_RESET) never completes; the queue goes on */
	VNET_FAULT_QUEUE_RESET_IGNORED, /**< a queue reset reads complete, but the queue stays enabled and goes on */
	VNET_FAULT_INDIRECT_SCRIBBLE,   /**< the device overwrites the next indirect table after reading it */
	VNET_FAULT_OFFLOADS_IGNORED,    /**< the next GUEST_OFFLOADS SET is acked OK and ignored: the device goes on using what was turned off */
	VNET_FAULT_HASH_REPORT_BAD,     /**< HASH_REPORT: the next frames' hash_report is 0x7777, a value the spec does not define */
	VNET_FAULT__COUNT
};

/** Model configuration. Zero fields take the defaults shown. */
struct vnet_model_conf {
	uint64_t features;       /**< offered (VERSION_1|MAC|MTU|STATUS|EVENT_IDX) */
	uint8_t mac[6];          /**< (52:54:00:00:00:01) */
	uint16_t mtu;            /**< (1500) */
	uint16_t queue_max;      /**< largest ring per queue (1024) */
	uint16_t source_len;     /**< SOURCE: frame length (64) */
	enum vnet_model_backend backend; /**< what happens to TX frames (LOOPBACK) */
	bool link_down;          /**< start with the link down */
	bool want_notify;        /**< ask for notifications (default: suppress) */
	uint32_t latency;        /**< complete TX only after this many polls (0) */
	uint32_t rx_budget;      /**< max frames moved per queue per poll (0 = all) */
	/* Appended; zero keeps the behaviour of a model without them. */
	uint16_t max_pairs;      /**< MQ: max_virtqueue_pairs, 1..VNET_MODEL_MAX_PAIRS (1); > 1 needs VNET_F_MQ */
	uint8_t duplex;          /**< SPEED_DUPLEX: VNET_MODEL_DUPLEX_* (unknown) */
	uint8_t rx_csum;         /**< GUEST_CSUM: VNET_MODEL_RX_CSUM_* (NONE); needs VNET_F_GUEST_CSUM */
	uint32_t speed;          /**< SPEED_DUPLEX: Mbit/s, 1..0x7fffffff (0: unknown) */
	/** The legacy interface (virtio 0.9.5, spec 4.1.4.8): 32 feature bits
	 * (offering a higher one is -EINVAL; the default offer is the
	 * defaults' low 32), no FEATURES_OK (a written one does not stick),
	 * and each split ring found from its descriptor table's address alone
	 * in the legacy layout (avail behind the table, used at the next
	 * 4096-byte boundary), as a device given a page frame number finds
	 * it: the other two addresses queue_setup gets are not used. */
	bool legacy;
};

/** Most queue pairs a model offers (conf.max_pairs). */
#define VNET_MODEL_MAX_PAIRS 32
/** MAC filter table entries the model keeps per table (more: that table
 * overflows and accepts every address of its kind, as QEMU does). */
#define VNET_MODEL_MAC_TABLE 32

/** conf.duplex: what config space shows (spec 5.1.4: 0x01 full, 0x00 half, 0xff unknown). */
enum vnet_model_duplex {
	VNET_MODEL_DUPLEX_UNKNOWN = 0, /**< 0xff */
	VNET_MODEL_DUPLEX_FULL,        /**< 0x01 */
	VNET_MODEL_DUPLEX_HALF,        /**< 0x00 */
};

/** conf.rx_csum: what a receiver that negotiated GUEST_CSUM is told. */
enum vnet_model_rx_csum {
	VNET_MODEL_RX_CSUM_NONE = 0, /**< flags 0: every checksum is complete (also with CSUM) */
	VNET_MODEL_RX_CSUM_VALID,    /**< DATA_VALID on TCP/UDP over IPv4/IPv6 whose checksum the model verified */
	VNET_MODEL_RX_CSUM_PARTIAL,  /**< as VALID, and a NEEDS_CSUM frame from the sender is passed on
	                                  unfinished: NEEDS_CSUM, csum_start/offset, pseudo-header sum */
};

/** Per-device counters kept by the model. */
struct vnet_model_stats {
	uint64_t tx_frames;             /**< frames the driver sent */
	uint64_t tx_bytes;              /**< their bytes */
	uint64_t rx_frames;             /**< frames delivered into RX buffers */
	uint64_t rx_bytes;              /**< their bytes */
	uint64_t rx_no_buffer;          /**< frames dropped: no RX buffer posted */
	uint64_t notifies;              /**< driver notifications seen */
	uint64_t faults_fired;          /**< injected faults that took effect */
	uint64_t bad_desc;              /**< driver descriptors the model rejected */
	/* Appended. */
	uint64_t ctrl_cmds;             /**< control queue commands executed */
	uint64_t ctrl_errs;             /**< ... of them answered VIRTIO_NET_ERR */
	uint64_t announce_acks;         /**< ANNOUNCE_ACK commands */
	uint64_t rx_filtered;           /**< frames dropped by the RX filter (MAC, RX mode, VLAN) */
	uint64_t rx_merged;             /**< frames spread over more than one RX buffer (MRG_RXBUF) */
	uint64_t rx_data_valid;         /**< frames delivered with DATA_VALID */
	uint64_t rx_partial;            /**< frames delivered with NEEDS_CSUM (partial checksum) */
	uint64_t rx_gso;                /**< frames delivered whole with a GSO type (GUEST_TSO*) */
	uint64_t tx_csum;               /**< checksums completed for NEEDS_CSUM frames */
	uint64_t tx_tso;                /**< TSO frames the driver sent (also in tx_frames) */
	uint64_t tx_tso_segs;           /**< segments the model cut from them */
	uint64_t tx_bad_hdr;            /**< TX frames dropped: a virtio_net_hdr the features do not allow */
	uint64_t used_batches;          /**< IN_ORDER: used entries written for more than one buffer */
	uint64_t indirect;              /**< indirect descriptor tables read */
	uint64_t resets;                /**< device resets the driver asked for (status 0 written) */
	uint64_t queue_resets;          /**< queues reset alone (VNET_F_RING_RESET) */
	uint64_t bus_master_off;        /**< times the driver turned bus mastering off (after a reset that did not complete) */
	uint64_t rx_rss_steered;        /**< frames whose queue RSS chose (RSS_CONFIG in force) */
	uint64_t rx_hash_reported;      /**< frames delivered with a hash report other than NONE */
};

/** What the driver set up through the control queue (and the feature handshake). */
struct vnet_model_state {
	uint64_t features;        /**< features the driver accepted */
	uint8_t mac[6];           /**< the device's MAC now (conf.mac, or MAC_ADDR_SET) */
	bool promisc;             /**< RX mode (CTRL_RX); on after reset, as on QEMU */
	bool allmulti;            /**< RX mode (CTRL_RX); off after reset */
	bool announce;            /**< STATUS ANNOUNCE set, not yet acked */
	bool uc_overflow;         /**< the unicast table was given more than VNET_MODEL_MAC_TABLE entries */
	bool mc_overflow;         /**< the multicast table was given more than VNET_MODEL_MAC_TABLE entries */
	uint16_t active_pairs;    /**< queue pairs in use (1 until VQ_PAIRS_SET) */
	uint32_t uc_entries;      /**< unicast MAC table entries as last set */
	uint32_t mc_entries;      /**< multicast MAC table entries as last set */
	uint32_t vlans;           /**< VLAN ids in the filter table (CTRL_VLAN) */
	bool bus_master_off;      /**< bus mastering is off: the model touches no ring or buffer */
	uint64_t rx_offloads;     /**< receive offloads on (VNET_RX_OFFLOADS negotiated, less those GUEST_OFFLOADS SET turned off) */
	bool rss;                 /**< RSS_CONFIG in force: the table chooses the RX queue */
	bool hash_report;         /**< hashes go into RX headers (HASH_CONFIG, or RSS_CONFIG with HASH_REPORT) */
	uint32_t hash_types;      /**< VNET_HASH_TYPE_* configured */
	uint16_t rss_table_len;   /**< indirection table entries (RSS) */
	uint16_t rss_unclassified;/**< queue pair of frames without a hash (RSS) */
	uint8_t rss_key[40];      /**< the key configured (rss_key_len bytes) */
	uint8_t rss_key_len;      /**< bytes of rss_key configured */
};

/**
 * Create a device model (@p conf NULL or zeroed: the defaults). Its
 * transport goes to vnet_dev_open(). 0, -EINVAL or -ENOMEM.
 */
int vnet_model_create(struct vnet_model **m, const struct vnet_model_conf *conf);
/** Destroy a model, after vnet_dev_close() of the device opened on it. NULL is ignored. */
void vnet_model_destroy(struct vnet_model *m);
/** The transport to pass to vnet_dev_open(). Owned by the model. */
struct vnet_transport *vnet_model_transport(struct vnet_model *m);
/** Join two models with the WIRE backend: each one's TX is the other's RX. */
int vnet_model_wire(struct vnet_model *a, struct vnet_model *b);
/** Do the device's work: consume TX, fill RX. @return frames moved. */
uint32_t vnet_model_poll(struct vnet_model *m);
/** Arm a fault @p count times (0 disarms). */
void vnet_model_fault(struct vnet_model *m, enum vnet_model_fault f, uint32_t count);
/** Change the link state (bumps the config generation). */
void vnet_model_set_link(struct vnet_model *m, bool up);
/**
 * A hostile device, for testing the driver's checks: from now on config
 * space reads show the @p len bytes at @p bytes at offset @p off of
 * struct virtio_net_config (24 bytes, spec 5.1.4), whatever conf says and
 * whether or not the spec allows the value (an MTU below 68,
 * max_virtqueue_pairs 0 or above 0x8000, an RSS key size below 40). The model itself goes on by
 * conf. @p len 0 drops every override. Bumps the generation. 0 or -EINVAL.
 */
int vnet_model_config_override(struct vnet_model *m, uint32_t off, const void *bytes, uint32_t len);
/** Set STATUS ANNOUNCE in config (bumps the generation), until the driver
 * acks it on the control queue (GUEST_ANNOUNCE) or resets the device. */
void vnet_model_announce(struct vnet_model *m);
/** Copy the model's counters. */
void vnet_model_stats(const struct vnet_model *m, struct vnet_model_stats *out);
/**
 * Optional: a callback for SOURCE frames (fill @p frame of @p len bytes,
 * sequence number @p seq). Without it the model writes a fixed Ethernet
 * header followed by the 64-bit sequence number and a pattern.
 */
typedef void (*vnet_model_gen_fn)(uint8_t *frame, uint32_t len, uint64_t seq, void *arg);
/** Install (or clear, with NULL) the SOURCE frame generator; @p arg goes to @p fn. */
void vnet_model_set_generator(struct vnet_model *m, vnet_model_gen_fn fn, void *arg);
/**
 * Optional: a callback for every frame the driver sends (SINK sees it
 * before dropping). Returns nothing; for content checks in tests.
 */
typedef void (*vnet_model_tap_fn)(const uint8_t *frame, uint32_t len, void *arg);
/** Install (or clear, with NULL) the TX tap; @p arg goes to @p fn. */
void vnet_model_set_tap(struct vnet_model *m, vnet_model_tap_fn fn, void *arg);

/** Copy what the driver set up (RX mode, MAC, tables, pairs...). */
void vnet_model_get_state(const struct vnet_model *m, struct vnet_model_state *out);
/**
 * Entry @p i of the unicast (@p multicast false) or multicast MAC filter
 * table. 0, or -ENOENT past the entries stored.
 */
int vnet_model_mac_entry(const struct vnet_model *m, bool multicast, uint32_t i, uint8_t mac[6]);
/** Is VLAN @p vid in the filter table (CTRL_VLAN)? */
bool vnet_model_vlan(const struct vnet_model *m, uint16_t vid);
/** Entry @p i of the RSS indirection table in force (a queue pair), or -1
 * (no RSS in force, or @p i past its length). */
int vnet_model_rss_entry(const struct vnet_model *m, uint16_t i);
/** The Toeplitz hash (spec 5.1.6.4.3) of @p n bytes at @p in with @p key
 * (@p key_len bytes; bits past it are 0): what the model computes. */
uint32_t vnet_model_toeplitz(const uint8_t *key, uint32_t key_len, const uint8_t *in, uint32_t n);

/**
 * Frames through transport queue @p q since create: TX frames consumed
 * (bad ones included), RX frames delivered (a merged frame counts once),
 * control commands executed. 0 for a queue that does not exist.
 */
uint64_t vnet_model_queue_frames(const struct vnet_model *m, uint16_t q);

#ifdef __cplusplus
}
#endif
#endif
