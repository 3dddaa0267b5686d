/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fuzz device: a transport whose registers (status, features, config
 * space and generation, queue sizes) come from the fuzzer, and whose
 * rings the fuzz target plays from the device side, on every layout the
 * driver has: split, split with IN_ORDER (batched TX completions, spec
 * 2.7.9), packed (spec 2.8: the device writes id, len and flags, wrap
 * bits included, in place of the descriptors it read). Up to FT_PAIRS
 * queue pairs and the control queue, whose commands it answers at once
 * when notified, with an ack byte and a used entry the fuzzer may choose
 * (ERR, any byte, any used length, a wrong id, two entries, no answer).
 * TX descriptors are read as a device would, INDIRECT tables included.
 *
 * With a script (ft->in set), every register access may consume input
 * bytes to decide how the device misbehaves at that moment; without one it
 * is a well-behaved device with the fields below. Control replies come
 * from ft->ctl (NULL: always OK).
 *
 * What the device does is checked against what the driver asked: it
 * reads only descriptors the driver made available, each inside DMA
 * memory the driver allocated, RX ones device-writable, TX ones not, an
 * indirect table well formed. And the driver is checked against what the
 * device did: every RX frame the driver hands up (vnet_rx_burst, wrapped
 * at link time: -Wl,--wrap=vnet_rx_burst) must consist of buffers named
 * by a used entry the driver could see since it last posted them
 * (vnet_rx_refill, wrapped too). An entry naming an id the driver has
 * not got in flight (a duplicate, or made up) completes nothing, not even
 * the buffer the driver posts under that id later: the driver must not
 * post one while such an entry is there for it to read.
 */
#ifndef VNET_FUZZ_TRANSPORT_H
#define VNET_FUZZ_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "ring/ring.h"
#include "transport/transport.h"
#include "base/virtio_spec.h"

#define FT_PAIRS 4
#define FT_NQ (2 * FT_PAIRS + 1)
#define FT_QSIZE_MAX 256

/* A buffer the device read from the ring and has not completed yet. */
struct ft_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t id;
};

struct ft_queue {
	uint16_t size;          /* 0: not set up */
	uint16_t qi;
	bool packed;
	bool rx;
	bool ctrl;
	bool in_order;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	struct pvirtq_desc *pdesc;
	struct pvirtq_event_suppress *pdrv, *pdev;
	uint16_t last_avail;    /* split: next avail index; packed: position of the next descriptor to read */
	uint16_t used_idx;      /* split: next used slot; packed: position of the next used descriptor */
	uint16_t pub;           /* split: the used index as last published */
	uint16_t npend;         /* buffers read, not completed, in the order read */
	uint8_t inpend[FT_QSIZE_MAX]; /* ids among them */
	/* packed: slots where the device wrote flags that may read as
	 * available in a later lap (ft_raw_used), with what it wrote there
	 * (pk_wrote): the device must not take its own garbage for the
	 * driver's, so it reads such a slot only once the driver wrote it
	 * again */
	uint8_t pk_dirty[FT_QSIZE_MAX];
	/* From here on read only where the fields above say they hold
	 * something (pend below npend, pk_wrote where pk_dirty): a queue is
	 * cleared up to here (ft_queue_clear), 8 KiB less to zero per queue
	 * set up. */
	struct ft_desc pend[FT_QSIZE_MAX];
	struct pvirtq_desc pk_wrote[FT_QSIZE_MAX];
};

struct ftrans;
/* Every TX frame the device reads (header, then the frame), gathered. */
typedef void (*ft_tap_fn)(struct ftrans *ft, const uint8_t *hdr, const uint8_t *frame, uint32_t len);

struct ftrans {
	struct vnet_transport t;    /* first */
	struct fin *in;             /* register script: NULL for a well-behaved device */
	struct fin *ctl;            /* control queue replies: NULL answers OK */
	uint8_t status;
	uint64_t offer;
	uint64_t drv_features;
	uint32_t generation;
	uint8_t cfg[24];
	uint16_t qmax[FT_NQ];
	uint8_t hdr_len;            /* header the device writes and reads (12) */
	const struct vnet_pool *pool; /* RX buffers come from it (for the delivery check) */
	const struct vnet_dev *dev;   /* the driver (white box: which buffer an id names now) */
	ft_tap_fn tap;
	uint64_t notifies, resets, config_reads;
	uint64_t ctrl_cmds, ctrl_answers, rx_frames, tx_frames, tx_indirect, delivered;
	uint16_t active_pairs;      /* as the device last accepted (VQ_PAIRS_SET) */
	uint16_t last_setup;        /* the queue set up last (the control queue, at DRIVER_OK) */
	bool dma_stale;
	unsigned ndma;
	struct vnet_dma dma[VNET_DMA_MAX_LIVE];
	uint8_t done[65536 / 8];    /* pool buffers the device completed, not yet handed up */
	struct ft_queue q[FT_NQ];   /* last: ft_init clears only what each queue needs */
};

/* A well-behaved device: VERSION_1|MAC|MTU|STATUS|EVENT_IDX, link up,
 * MTU 1500, one queue pair, queues (control included) of up to @qmax.
 * The target sets ft->pool once it has one. */
void ft_init(struct ftrans *ft, uint16_t qmax);

/* Read what the driver made available on queue @qi. */
void ft_sync(struct ftrans *ft, uint16_t qi);
/*
 * Device side of RX queue @qi: write frame @f of @len bytes (NULL: a
 * filler pattern) with header @hdr (12 bytes; NULL: all zero) into the
 * next buffers read (@pick: which of them to start at, when the device
 * may use them out of order), num_buffers set to the buffers used unless
 * @keep_nb (then @hdr's bytes 10-11 stay). With MRG_RXBUF a frame spans as
 * many buffers as it needs, each filled up to @seg bytes (0: full); without
 * it a frame that does not fit one buffer is dropped. Used entries are
 * written (split: published only by ft_publish; packed: at once, the
 * first descriptor's flags last, spec 2.8.9). @return buffers used, 0 if
 * the frame was dropped for want of buffers.
 */
uint32_t ft_rx_frame(struct ftrans *ft, uint16_t qi, const uint8_t *f, uint32_t len, const uint8_t *hdr,
                     bool keep_nb, uint32_t pick, uint32_t seg);
/* RX, the old way: the input picks a well-formed frame (header + data
 * within the buffer), a raw length, or a short one. */
void ft_rx_complete(struct ftrans *ft, uint16_t qi, struct fin *in);
/* Device side of TX queue @qi: read the next frame (INDIRECT tables
 * followed and checked, the tap called), complete it with len 0, or under
 * IN_ORDER a batch of 1..@batch in one used entry. No-op when nothing is
 * available. */
void ft_tx_complete(struct ftrans *ft, uint16_t qi, uint32_t batch);
/* A used entry as the fuzzer wants it: any @id and @len; packed: @flags
 * as written (the wrap bits of a used descriptor, of the other lap, or
 * anything). */
void ft_raw_used(struct ftrans *ft, uint16_t qi, uint32_t id, uint32_t len, uint16_t flags);
/* Packed: the flags of a used descriptor at the device's position now. */
uint16_t ft_pk_used_flags(const struct ft_queue *q);
/* Publish everything completed so far (split: the used index). */
void ft_publish(struct ftrans *ft, uint16_t qi);
/* Split: publish any used index (a lie, maybe). */
void ft_publish_idx(struct ftrans *ft, uint16_t qi, uint16_t idx);

#endif
