/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file model.h
 * @brief The in-process virtio-net device model: a device written from the
 * spec that drives the device side of the same ring memory a real device
 * would see. For tests, fuzzing and microbenchmarks; no VM needed.
 *
 * The model is single-threaded and deterministic: it does its work only in
 * vnet_model_poll() (the driver's notifications are counted, not acted on).
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
/** Set STATUS ANNOUNCE in config. */
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

#ifdef __cplusplus
}
#endif
#endif
