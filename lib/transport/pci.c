/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Virtio over PCI (virtio spec 4.1): find a virtio-net function, walk its
 * vendor capabilities (4.1.4), assign and map the BARs they point into,
 * and drive the device through the common configuration structure
 * (4.1.4.3) - or, for a transitional device without those capabilities
 * (or when asked), through the legacy register block in I/O BAR0
 * (4.1.4.8).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <vnet/transports.h>
#include <vnet/vnet.h>

#include "base/platform.h"
#include "transport/common.h"
#include "transport/pci_cfg.h"
#include "transport/transport.h"
#include "base/virtio_spec.h"

#define VIRTIO_PCI_VENDOR       0x1af4
#define VIRTIO_PCI_NET_MODERN   0x1041 /* 0x1040 + device type 1, spec 4.1.2 */
#define VIRTIO_PCI_NET_TRANS    0x1000 /* transitional network device */

/* struct virtio_pci_cap (spec 4.1.4): byte offsets inside the capability. */
#define CAP_NEXT        1
#define CAP_LEN         2
#define CAP_CFG_TYPE    3
#define CAP_BAR         4
#define CAP_OFFSET      8
#define CAP_LENGTH      12
#define CAP_NOTIFY_MULT 16 /* struct virtio_pci_notify_cap, spec 4.1.4.4 */
#define CAP_SIZE        16
#define NOTIFY_CAP_SIZE 20

/* cfg_type values (spec 4.1.4); the others (PCI_CFG, shared memory,
 * vendor data) are not used by this driver. */
enum { CFG_COMMON = 1, CFG_NOTIFY = 2, CFG_ISR = 3, CFG_DEVICE = 4, CFG_NTYPES };

#define CAP_AREA_START  0x40
#define PCI_INT_PIN     0x3d /* Interrupt Pin, type 0 header */
#define MAX_CAPS        48 /* (256 - 0x40) / 4 dword-aligned positions */
#define MAX_CANDIDATES  4  /* capabilities of one type kept for choosing */
#define NUM_BARS        6
#define QUEUE_SIZE_MAX  32768 /* spec 2.6 / 2.7: largest queue */
#define PCI_MAX_QUEUES  129   /* 64 queue pairs and the control queue */

/*
 * The common configuration structure (spec 4.1.4.3), up to queue_device.
 * The 64-bit queue addresses are split: the spec lets a driver access
 * them as two 32-bit halves, low first (4.1.3.1), and that is what we do.
 */
struct virtio_pci_common_cfg {
	uint32_t device_feature_select;
	uint32_t device_feature;
	uint32_t driver_feature_select;
	uint32_t driver_feature;
	uint16_t config_msix_vector;
	uint16_t num_queues;
	uint8_t device_status;
	uint8_t config_generation;
	uint16_t queue_select;
	uint16_t queue_size;
	uint16_t queue_msix_vector;
	uint16_t queue_enable;
	uint16_t queue_notify_off;
	uint32_t queue_desc_lo, queue_desc_hi;
	uint32_t queue_driver_lo, queue_driver_hi;
	uint32_t queue_device_lo, queue_device_hi;
};
_Static_assert(offsetof(struct virtio_pci_common_cfg, num_queues) == 0x12, "spec 4.1.4.3");
_Static_assert(offsetof(struct virtio_pci_common_cfg, device_status) == 0x14, "spec 4.1.4.3");
_Static_assert(offsetof(struct virtio_pci_common_cfg, config_generation) == 0x15, "spec 4.1.4.3");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_select) == 0x16, "spec 4.1.4.3");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_enable) == 0x1c, "spec 4.1.4.3");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_notify_off) == 0x1e, "spec 4.1.4.3");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_desc_lo) == 0x20, "spec 4.1.4.3");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_driver_lo) == 0x28, "spec 4.1.4.3");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_device_lo) == 0x30, "spec 4.1.4.3");
_Static_assert(sizeof(struct virtio_pci_common_cfg) == 0x38, "spec 4.1.4.3");
/* Past the struct (virtio 1.2): le16 queue_notif_config_data, then le16
 * queue_reset, which exists with VIRTIO_F_RING_RESET; a common structure
 * shorter than its end cannot reset queues. */
#define COMMON_QUEUE_RESET 0x3a
#define COMMON_LEN_RESET   0x3c

/* ------------------------------------------------------ config space -- */

struct pci_fn {
	const struct vnet_pci_cfg_ops *ops;
	void *ctx;
	uint8_t bus, dev, fn;
};

static uint8_t cfg_r8(const struct pci_fn *f, uint16_t off)
{
	return f->ops->read8(f->ctx, f->bus, f->dev, f->fn, off);
}

static uint16_t cfg_r16(const struct pci_fn *f, uint16_t off)
{
	return f->ops->read16(f->ctx, f->bus, f->dev, f->fn, off);
}

static uint32_t cfg_r32(const struct pci_fn *f, uint16_t off)
{
	return f->ops->read32(f->ctx, f->bus, f->dev, f->fn, off);
}

static void cfg_w16(const struct pci_fn *f, uint16_t off, uint16_t v)
{
	f->ops->write16(f->ctx, f->bus, f->dev, f->fn, off, v);
}

static void cfg_w32(const struct pci_fn *f, uint16_t off, uint32_t v)
{
	f->ops->write32(f->ctx, f->bus, f->dev, f->fn, off, v);
}

#define FN_FMT "pci %02x:%02x.%x: "
#define FN_ARG(f) (f)->bus, (f)->dev, (f)->fn

/* The @index-th virtio-net function in bus/device/function order. */
static int find_net_fn(struct pci_fn *f, unsigned index)
{
	unsigned seen = 0;
	unsigned bus, dev, fn, nfn;

	for (bus = 0; bus < 256; bus++) {
		for (dev = 0; dev < 32; dev++) {
			nfn = 1;
			for (fn = 0; fn < nfn; fn++) {
				uint16_t vid, did;

				f->bus = (uint8_t)bus;
				f->dev = (uint8_t)dev;
				f->fn = (uint8_t)fn;
				vid = cfg_r16(f, VNET_PCI_VENDOR_ID);
				if (vid == 0xffff || vid == 0)
					continue; /* no function here */
				if (fn == 0 && (cfg_r8(f, VNET_PCI_HEADER_TYPE) & VNET_PCI_HEADER_MULTI_FN))
					nfn = 8;
				if (vid != VIRTIO_PCI_VENDOR)
					continue;
				did = cfg_r16(f, VNET_PCI_DEVICE_ID);
				if (did != VIRTIO_PCI_NET_MODERN && did != VIRTIO_PCI_NET_TRANS)
					continue;
				if ((cfg_r8(f, VNET_PCI_HEADER_TYPE) & 0x7f) != 0)
					continue; /* not an endpoint header */
				if (seen++ == index)
					return 0;
			}
		}
	}
	vnet_log(VNET_LOG_ERR, "pci: no virtio-net function #%u (found %u)", index, seen);
	return -ENODEV;
}

/* ------------------------------------------------------ capabilities -- */

struct vcap {
	uint8_t pos, bar;
	uint32_t offset, length, mult;
};

struct vcaps {
	struct vcap c[CFG_NTYPES][MAX_CANDIDATES];
	unsigned n[CFG_NTYPES];
	uint8_t msix;   /* position of the MSI-X capability, 0 = none */
};

static void note_vendor_cap(const struct pci_fn *f, uint8_t pos, struct vcaps *caps)
{
	uint8_t type = cfg_r8(f, (uint16_t)(pos + CAP_CFG_TYPE));
	uint8_t len = cfg_r8(f, (uint16_t)(pos + CAP_LEN));
	uint8_t bar = cfg_r8(f, (uint16_t)(pos + CAP_BAR));
	unsigned need = type == CFG_NOTIFY ? NOTIFY_CAP_SIZE : CAP_SIZE;
	struct vcap *c;

	if (type < CFG_COMMON || type > CFG_DEVICE)
		return;
	if (len < need || pos + need > 256) {
		vnet_log(VNET_LOG_WARN, FN_FMT "virtio capability at 0x%02x (type %u) is truncated "
		         "(cap_len %u): ignored", FN_ARG(f), pos, type, len);
		return;
	}
	if (bar >= NUM_BARS || caps->n[type] == MAX_CANDIDATES)
		return; /* reserved BAR value: ignored, spec 4.1.4.1 */
	c = &caps->c[type][caps->n[type]++];
	c->pos = pos;
	c->bar = bar;
	c->offset = cfg_r32(f, (uint16_t)(pos + CAP_OFFSET));
	c->length = cfg_r32(f, (uint16_t)(pos + CAP_LENGTH));
	c->mult = type == CFG_NOTIFY ? cfg_r32(f, (uint16_t)(pos + CAP_NOTIFY_MULT)) : 0;
}

/*
 * Collect the virtio vendor capabilities (spec 4.1.4), in list order (the
 * device's order of preference). The walk is bounded by the 48 positions
 * a capability can occupy and stops with -ENODEV on a position seen twice.
 * A pointer into the header ends the walk (a corrupt or truncated list);
 * what was found up to there is kept.
 */
static int walk_caps(const struct pci_fn *f, struct vcaps *caps)
{
	uint64_t seen = 0;
	unsigned steps;
	uint8_t pos, id;

	memset(caps, 0, sizeof(*caps));
	if (!(cfg_r16(f, VNET_PCI_STATUS) & VNET_PCI_STATUS_CAP_LIST))
		return 0;
	pos = cfg_r8(f, VNET_PCI_CAP_PTR) & 0xfc;
	for (steps = 0; pos != 0; steps++) {
		if (pos < CAP_AREA_START || steps >= MAX_CAPS) {
			vnet_log(VNET_LOG_WARN, FN_FMT "capability pointer 0x%02x is invalid: "
			         "list cut short", FN_ARG(f), pos);
			return 0;
		}
		if (seen & (1ull << (pos >> 2))) {
			vnet_log(VNET_LOG_ERR, FN_FMT "capability list loops back to 0x%02x",
			         FN_ARG(f), pos);
			return -ENODEV;
		}
		seen |= 1ull << (pos >> 2);
		/* each device-written byte read once, then decided on */
		id = cfg_r8(f, pos);
		if (id == VNET_PCI_CAP_ID_VNDR)
			note_vendor_cap(f, pos, caps);
		else if (id == VNET_PCI_CAP_ID_MSIX && !caps->msix)
			caps->msix = pos;
		pos = cfg_r8(f, (uint16_t)(pos + CAP_NEXT)) & 0xfc;
	}
	return 0;
}

/* -------------------------------------------------------------- BARs -- */

struct bar {
	uint64_t addr, size;
	uint8_t io, is64;
};

/* Lowest set bit: the size a BAR decodes (its writable address bits). */
static uint64_t lowest_bit(uint64_t v)
{
	return v & (~v + 1);
}

/*
 * Size BAR @i (write all ones, read back, restore; PCI 6.2.5.1) with
 * decoding off. @return the number of BAR registers it uses (2 if 64-bit).
 */
static unsigned size_bar(const struct pci_fn *f, unsigned i, struct bar *b)
{
	uint16_t off = (uint16_t)(VNET_PCI_BAR0 + 4 * i);
	uint32_t lo = cfg_r32(f, off), hi = 0, slo, shi = 0xffffffffu;
	uint64_t mask;

	memset(b, 0, sizeof(*b));
	if (lo & VNET_PCI_BAR_IO) {
		/* the legacy interface's registers (4.1.4.8); a 16-bit decoder
		 * reads the upper half of the sizing pattern as 0 */
		b->io = 1;
		cfg_w32(f, off, 0xffffffffu);
		slo = cfg_r32(f, off) & ~3u;
		cfg_w32(f, off, lo);
		if (slo && !(slo >> 16))
			slo |= 0xffff0000u;
		b->size = lowest_bit(slo);
		b->addr = lo & ~3u;
		return 1;
	}
	b->is64 = (lo & VNET_PCI_BAR_TYPE_MASK) == VNET_PCI_BAR_TYPE_64;
	if (b->is64 && i == NUM_BARS - 1) {
		vnet_log(VNET_LOG_WARN, FN_FMT "BAR5 claims 64 bits: ignored", FN_ARG(f));
		b->is64 = 0;
		return 1;
	}
	cfg_w32(f, off, 0xffffffffu);
	slo = cfg_r32(f, off);
	cfg_w32(f, off, lo);
	if (b->is64) {
		hi = cfg_r32(f, (uint16_t)(off + 4));
		cfg_w32(f, (uint16_t)(off + 4), 0xffffffffu);
		shi = cfg_r32(f, (uint16_t)(off + 4));
		cfg_w32(f, (uint16_t)(off + 4), hi);
	}
	mask = ((uint64_t)shi << 32) | (slo & ~0xfu);
	if ((uint32_t)mask == 0 && (!b->is64 || shi == 0))
		return b->is64 ? 2 : 1; /* not implemented: size 0 */
	b->size = lowest_bit(mask);
	b->addr = ((uint64_t)hi << 32) | (lo & ~0xfu);
	return b->is64 ? 2 : 1;
}

static int overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * Place an unassigned memory BAR: naturally aligned, upward from @cursor,
 * past any BAR of this function already there (bounded: each retry steps
 * over one of at most six BARs).
 */
static int place_bar(struct bar *bars, unsigned i, uint64_t *cursor)
{
	uint64_t size = bars[i].size, a = 0;
	unsigned tries, j;
	int clash = 1;

	for (tries = 0; clash && tries <= NUM_BARS; tries++) {
		if (*cursor > UINT64_MAX - (size - 1))
			return -ENOSPC;
		a = (*cursor + size - 1) & ~(size - 1);
		if (a == 0 || a > UINT64_MAX - size)
			return -ENOSPC;
		clash = 0;
		for (j = 0; j < NUM_BARS; j++) {
			if (j != i && bars[j].size && !bars[j].io && bars[j].addr &&
			    overlaps(a, size, bars[j].addr, bars[j].size)) {
				*cursor = bars[j].addr + bars[j].size;
				clash = 1;
				break;
			}
		}
	}
	if (clash || (!bars[i].is64 && a + size > (1ull << 32)))
		return -ENOSPC;
	bars[i].addr = a;
	*cursor = a + size;
	return 0;
}

/*
 * Size every BAR and give the unassigned memory BARs an address from
 * @window (qboot leaves them 0), with decoding off throughout; the caller
 * then either enables the function or puts @cmd back.
 */
static int setup_bars(const struct pci_fn *f, uint64_t window, struct bar bars[NUM_BARS],
                      uint16_t *cmd)
{
	uint64_t cursor = window;
	unsigned i;

	memset(bars, 0, sizeof(struct bar) * NUM_BARS);
	*cmd = cfg_r16(f, VNET_PCI_COMMAND);
	cfg_w16(f, VNET_PCI_COMMAND, *cmd & (uint16_t)~(VNET_PCI_CMD_IO | VNET_PCI_CMD_MEMORY));
	for (i = 0; i < NUM_BARS;)
		i += size_bar(f, i, &bars[i]);

	for (i = 0; i < NUM_BARS; i++) {
		uint16_t off = (uint16_t)(VNET_PCI_BAR0 + 4 * i);

		if (bars[i].io || !bars[i].size || bars[i].addr)
			continue;
		if (place_bar(bars, i, &cursor)) {
			vnet_log(VNET_LOG_ERR, FN_FMT "no room for BAR%u (%llu bytes, %s) in the "
			         "window from 0x%llx", FN_ARG(f), i, (unsigned long long)bars[i].size,
			         bars[i].is64 ? "64-bit" : "32-bit", (unsigned long long)window);
			return -ENOSPC;
		}
		cfg_w32(f, off, (uint32_t)bars[i].addr);
		if (bars[i].is64)
			cfg_w32(f, (uint16_t)(off + 4), (uint32_t)(bars[i].addr >> 32));
		if ((cfg_r32(f, off) & ~0xfu) != (uint32_t)bars[i].addr) {
			vnet_log(VNET_LOG_ERR, FN_FMT "BAR%u did not take address 0x%llx", FN_ARG(f),
			         i, (unsigned long long)bars[i].addr);
			return -EIO;
		}
		vnet_log(VNET_LOG_INFO, FN_FMT "assigned BAR%u at 0x%llx (%llu bytes)", FN_ARG(f), i,
		         (unsigned long long)bars[i].addr, (unsigned long long)bars[i].size);
	}
	return 0;
}

/* --------------------------------------------------------- transport -- */

struct pci_map {
	void *va;
	uint64_t len;
};

struct pci_transport {
	struct vnet_transport base;
	volatile struct virtio_pci_common_cfg *common;
	volatile uint8_t *device;         /* device-specific config (spec 4.1.4.6) */
	volatile uint8_t *notify;         /* start of the notify structure (4.1.4.4) */
	volatile uint8_t *isr;            /* ISR status (4.1.4.5), unused when polling */
	bool msix;                        /* MSI-X entry 0 programmed: queues use it */
	uint8_t int_pin;                  /* Interrupt Pin: INTA#..INTD# as 1..4, 0 none */
	volatile uint16_t **queue_notify; /* per queue, set by queue_setup */
	uint32_t device_len, notify_len, notify_mult;
	uint32_t common_len;              /* bytes of the common structure */
	uint16_t num_queues;              /* as last read: it follows the features */
	uint16_t notify_slots;            /* entries in queue_notify */
	struct pci_fn loc;                /* config access kept for bus_master (ECAM: mapped on demand) */
	struct pci_map map[NUM_BARS];
	void *(*map_fn)(void *arg, uint64_t phys, uint64_t len);
	void (*unmap)(void *arg, void *va, uint64_t len);
	void *map_arg;
	uint64_t ecam_base;               /* ECAM access: its window, mapped again when needed */
	bool bm_off;                      /* bus mastering turned off (pci_bus_master) */
	/* legacy interface (4.1.4.8): the register block in I/O BAR0 */
	const struct vnet_pci_io_ops *io;
	void *io_arg;
	uint64_t io_base;
	uint32_t io_len;
	uint16_t lg_config;               /* device config: 20, or 24 with MSI-X on */
	struct pci_map io_map;            /* the memory-mapped I/O window, when used */
};

static struct pci_transport *to_pci(struct vnet_transport *t)
{
	return (struct pci_transport *)t;
}

static void *identity_map(void *arg, uint64_t phys, uint64_t len);

static int pci_reset(struct vnet_transport *t)
{
	struct pci_transport *p = to_pci(t);

	/* 4.1.4.3.2: write 0, then wait for a read of 0 before going on. */
	vnet_write8(&p->common->device_status, 0);
	return vnet_wait_reset(t);
}

static uint8_t pci_get_status(struct vnet_transport *t)
{
	return vnet_read8(&to_pci(t)->common->device_status);
}

static void pci_set_status(struct vnet_transport *t, uint8_t status)
{
	vnet_write8(&to_pci(t)->common->device_status, status);
}

static uint64_t pci_get_features(struct vnet_transport *t)
{
	volatile struct virtio_pci_common_cfg *c = to_pci(t)->common;
	uint32_t lo, hi;

	vnet_write32(&c->device_feature_select, 0);
	lo = vnet_read32(&c->device_feature);
	vnet_write32(&c->device_feature_select, 1);
	hi = vnet_read32(&c->device_feature);
	/* RING_RESET needs queue_reset inside the common structure */
	if (to_pci(t)->common_len < COMMON_LEN_RESET)
		hi &= ~(uint32_t)(VNET_F_RING_RESET >> 32);
	return ((uint64_t)hi << 32) | lo;
}

static void pci_set_features(struct vnet_transport *t, uint64_t features)
{
	volatile struct virtio_pci_common_cfg *c = to_pci(t)->common;

	vnet_write32(&c->driver_feature_select, 0);
	vnet_write32(&c->driver_feature, (uint32_t)features);
	vnet_write32(&c->driver_feature_select, 1);
	vnet_write32(&c->driver_feature, (uint32_t)(features >> 32));
}

static uint32_t pci_config_generation(struct vnet_transport *t)
{
	return vnet_read8(&to_pci(t)->common->config_generation);
}

static void pci_read_config(struct vnet_transport *t, uint32_t off, void *buf, uint32_t len)
{
	struct pci_transport *p = to_pci(t);

	if (len > p->device_len || off > p->device_len - len) {
		vnet_log(VNET_LOG_ERR, FN_FMT "config read %u+%u beyond the %u-byte device "
		         "config", FN_ARG(&p->loc), off, len, p->device_len);
		memset(buf, 0, len);
		return;
	}
	vnet_window_read(p->device, off, buf, len);
}

/* num_queues, read again: QEMU's virtio-net has 3 queues until MQ is
 * negotiated and 2N+1 from FEATURES_OK on (back to 3 at reset), so a count
 * read at open misses queue pairs 1..N-1 and the control queue's index. */
static uint16_t queue_count(struct pci_transport *p)
{
	uint16_t n = vnet_read16(&p->common->num_queues);

	p->num_queues = n < p->notify_slots ? n : p->notify_slots;
	return p->num_queues;
}

/* The device's maximum until the driver programs a size (4.1.4.3). */
static uint16_t pci_queue_max(struct vnet_transport *t, uint16_t q)
{
	struct pci_transport *p = to_pci(t);
	uint16_t n;

	if (q >= queue_count(p))
		return 0;
	vnet_write16(&p->common->queue_select, q);
	n = vnet_read16(&p->common->queue_size);
	return n > QUEUE_SIZE_MAX ? QUEUE_SIZE_MAX : n;
}

/* Virtqueue configuration, spec 4.1.5.1.3. */
static int pci_queue_setup(struct vnet_transport *t, uint16_t q, uint16_t size,
                           const struct vnet_vq_addrs *a)
{
	struct pci_transport *p = to_pci(t);
	volatile struct virtio_pci_common_cfg *c = p->common;
	uint64_t noff;
	uint16_t max;

	if (q >= queue_count(p)) {
		vnet_log(VNET_LOG_ERR, FN_FMT "queue %u: the device has %u queues", FN_ARG(&p->loc),
		         q, p->num_queues);
		return -EINVAL;
	}
	if ((a->desc & (VRING_DESC_ALIGN - 1)) || (a->avail & (VRING_AVAIL_ALIGN - 1)) ||
	    (a->used & (VRING_USED_ALIGN - 1))) {
		vnet_log(VNET_LOG_ERR, FN_FMT "queue %u: ring parts misaligned (spec 2.7)",
		         FN_ARG(&p->loc), q);
		return -EINVAL;
	}
	vnet_write16(&c->queue_select, q);
	if (vnet_read16(&c->queue_enable)) {
		vnet_log(VNET_LOG_ERR, FN_FMT "queue %u is already enabled (reset first)",
		         FN_ARG(&p->loc), q);
		return -EBUSY;
	}
	max = vnet_read16(&c->queue_size);
	if (size == 0 || size > max) {
		vnet_log(VNET_LOG_ERR, FN_FMT "queue %u: size %u, device allows 1..%u",
		         FN_ARG(&p->loc), q, size, max);
		return -EINVAL;
	}
	/* 4.1.4.4: notify address = cap.offset + queue_notify_off * multiplier;
	 * the 16-bit write there must stay inside the notify structure. */
	noff = (uint64_t)vnet_read16(&c->queue_notify_off) * p->notify_mult;
	if (noff > p->notify_len || p->notify_len - noff < 2) {
		vnet_log(VNET_LOG_ERR, FN_FMT "queue %u: notify offset 0x%llx outside the %u-byte "
		         "notify structure", FN_ARG(&p->loc), q, (unsigned long long)noff,
		         p->notify_len);
		return -EIO;
	}

	vnet_write16(&c->queue_size, size);
	vnet_write32(&c->queue_desc_lo, (uint32_t)a->desc);
	vnet_write32(&c->queue_desc_hi, (uint32_t)(a->desc >> 32));
	vnet_write32(&c->queue_driver_lo, (uint32_t)a->avail);
	vnet_write32(&c->queue_driver_hi, (uint32_t)(a->avail >> 32));
	vnet_write32(&c->queue_device_lo, (uint32_t)a->used);
	vnet_write32(&c->queue_device_hi, (uint32_t)(a->used >> 32));
	p->queue_notify[q] = (volatile uint16_t *)(p->notify + noff);
	if (p->msix) {
		/* 4.1.5.1.2: the device answers NO_VECTOR when it cannot map it */
		vnet_write16(&c->queue_msix_vector, 0);
		if (vnet_read16(&c->queue_msix_vector) != 0)
			vnet_log(VNET_LOG_WARN, FN_FMT "queue %u: the device refused MSI-X vector 0; "
			         "it will not interrupt", FN_ARG(&p->loc), q);
	}
	vnet_write16(&c->queue_enable, 1); /* last: everything above is set */
	return 0;
}

/*
 * Reset one queue (VIRTIO_F_RING_RESET, spec 2.6.1, 4.1.4.3.2): write 1 to
 * queue_reset, wait until it reads 0, then queue_enable must read 0 too
 * (else the device did not reset it: -EIO). No notification goes to the
 * queue until pci_queue_setup() enables it again.
 */
static int pci_queue_reset(struct vnet_transport *t, uint16_t q)
{
	struct pci_transport *p = to_pci(t);
	volatile uint16_t *reg = (volatile uint16_t *)((volatile uint8_t *)p->common + COMMON_QUEUE_RESET);
	int rc;

	if (q >= p->num_queues || p->common_len < COMMON_LEN_RESET)
		return -EINVAL;
	p->queue_notify[q] = NULL;
	vnet_write16(&p->common->queue_select, q);
	vnet_write16(reg, 1);
	rc = vnet_wait_reg_zero(reg, 2);
	if (rc) {
		vnet_log(VNET_LOG_ERR, FN_FMT "queue %u: reset did not complete", FN_ARG(&p->loc), q);
		return rc;
	}
	if (vnet_read16(&p->common->queue_enable)) {
		vnet_log(VNET_LOG_ERR, FN_FMT "queue %u is still enabled after its reset",
		         FN_ARG(&p->loc), q);
		return -EIO;
	}
	return 0;
}

/* 4.1.5.2: without NOTIFICATION_DATA, the 16-bit queue index. */
static void pci_notify(struct vnet_transport *t, uint16_t q)
{
	struct pci_transport *p = to_pci(t);

	if (vnet_likely(q < p->num_queues && p->queue_notify[q]))
		vnet_write16(p->queue_notify[q], q);
}

static void unmap_bars(struct pci_transport *p)
{
	unsigned i;

	for (i = 0; i < NUM_BARS; i++) {
		if (p->map[i].va && p->unmap)
			p->unmap(p->map_arg, p->map[i].va, p->map[i].len);
		p->map[i].va = NULL;
	}
}

static void pci_close(struct vnet_transport *t)
{
	struct pci_transport *p = to_pci(t);

	free(p->queue_notify);
	unmap_bars(p);
	if (p->io_map.va && p->unmap)
		p->unmap(p->map_arg, p->io_map.va, p->io_map.len);
	free(p);
}

/*
 * Bus Master Enable (PCI 6.2.2, command register bit 2): off, the function
 * may not initiate memory transactions - no DMA into buffers or rings
 * after a reset that did not complete; on again once one does. Config
 * space through the access given at open (ECAM: the window mapped for the
 * moment).
 */
static void pci_bus_master(struct vnet_transport *t, bool on)
{
	struct pci_transport *p = to_pci(t);
	struct pci_fn f = p->loc;
	void *ecam = NULL;
	uint16_t cmd;

	if (on != p->bm_off)
		return; /* already so */
	if (p->ecam_base) {
		ecam = p->map_fn ? p->map_fn(p->map_arg, p->ecam_base, VNET_PCI_ECAM_SIZE)
		              : identity_map(NULL, p->ecam_base, VNET_PCI_ECAM_SIZE);
		if (!ecam) {
			vnet_log(VNET_LOG_ERR, FN_FMT "cannot map ECAM to turn bus mastering %s", FN_ARG(&p->loc),
			         on ? "on" : "off");
			return;
		}
		f.ctx = ecam;
	}
	if (!f.ops)
		return;
	cmd = cfg_r16(&f, VNET_PCI_COMMAND);
	cmd = on ? (uint16_t)(cmd | VNET_PCI_CMD_BUS_MASTER) : (uint16_t)(cmd & ~VNET_PCI_CMD_BUS_MASTER);
	cfg_w16(&f, VNET_PCI_COMMAND, cmd);
	p->bm_off = !on;
	vnet_log(on ? VNET_LOG_INFO : VNET_LOG_WARN, FN_FMT "bus mastering %s", FN_ARG(&p->loc),
	         on ? "on again" : "off: the device may not reach memory until a reset completes");
	if (ecam && p->map_fn && p->unmap)
		p->unmap(p->map_arg, ecam, VNET_PCI_ECAM_SIZE);
}

static const struct vnet_transport_ops pci_ops = {
	.name = "pci",
	.reset = pci_reset,
	.get_status = pci_get_status,
	.set_status = pci_set_status,
	.get_features = pci_get_features,
	.set_features = pci_set_features,
	.config_generation = pci_config_generation,
	.read_config = pci_read_config,
	.queue_max = pci_queue_max,
	.queue_setup = pci_queue_setup,
	.notify = pci_notify,
	.close = pci_close,
	.queue_reset = pci_queue_reset,
	.bus_master = pci_bus_master,
};

/* ------------------------------------------------------------ legacy -- */

/* The legacy register block at the start of I/O BAR0 (spec 4.1.4.8):
 * widths 4, 4, 4, 2, 2, 2, 1, 1; with MSI-X on, two 16-bit vector
 * registers follow and the device config moves from 20 to 24. */
#define LG_HOST_FEATURES  0x00
#define LG_GUEST_FEATURES 0x04
#define LG_QUEUE_PFN      0x08
#define LG_QUEUE_SIZE     0x0c
#define LG_QUEUE_SEL      0x0e
#define LG_QUEUE_NOTIFY   0x10
#define LG_STATUS         0x12
#define LG_ISR            0x13
#define LG_QUEUE_VECTOR   0x16
#define LG_CONFIG         0x14
#define LG_CONFIG_MSIX    0x18
#define LG_NET_CFG_MIN    6 /* the MAC, at least */

static uint32_t lg_rd(const struct pci_transport *p, uint32_t off, unsigned width)
{
	return p->io->read(p->io_arg, p->io_base + off, width);
}

static void lg_wr(const struct pci_transport *p, uint32_t off, unsigned width, uint32_t v)
{
	p->io->write(p->io_arg, p->io_base + off, width, v);
}

static int lg_reset(struct vnet_transport *t)
{
	lg_wr(to_pci(t), LG_STATUS, 1, 0);
	return vnet_wait_reset(t);
}

static uint8_t lg_get_status(struct vnet_transport *t)
{
	return (uint8_t)lg_rd(to_pci(t), LG_STATUS, 1);
}

static void lg_set_status(struct vnet_transport *t, uint8_t status)
{
	lg_wr(to_pci(t), LG_STATUS, 1, status);
}

/* 32 bits each way: the legacy interface has no feature select. */
static uint64_t lg_get_features(struct vnet_transport *t)
{
	return lg_rd(to_pci(t), LG_HOST_FEATURES, 4);
}

static void lg_set_features(struct vnet_transport *t, uint64_t features)
{
	lg_wr(to_pci(t), LG_GUEST_FEATURES, 4, (uint32_t)features);
}

static uint32_t lg_config_generation(struct vnet_transport *t)
{
	(void)t;
	return 0; /* none in legacy: config reads are not retried */
}

/* The device config behind the registers, with accesses no wider than
 * the field (as vnet_window_read); guest-endian fields, little-endian
 * on every target (virtio_spec.h). */
static void lg_read_config(struct vnet_transport *t, uint32_t off, void *buf, uint32_t len)
{
	struct pci_transport *p = to_pci(t);
	uint32_t room = p->io_len - p->lg_config, base = p->lg_config + off, v, i;
	uint8_t *out = buf;

	if (len > room || off > room - len) {
		vnet_log(VNET_LOG_ERR, FN_FMT "config read %u+%u beyond the %u-byte legacy device config",
		         FN_ARG(&p->loc), off, len, room);
		memset(buf, 0, len);
		return;
	}
	if ((len == 2 || len == 4) && !(off % len)) {
		v = lg_rd(p, base, len);
		memcpy(out, &v, len);
		return;
	}
	if (len == 8 && !(off % 4)) {
		v = lg_rd(p, base, 4);
		memcpy(out, &v, 4);
		v = lg_rd(p, base + 4, 4);
		memcpy(out + 4, &v, 4);
		return;
	}
	for (i = 0; i < len; i++)
		out[i] = (uint8_t)lg_rd(p, base + i, 1);
}

/* QueueSize is read-only in legacy: the ring has exactly this size (0: no
 * such queue). The device layer checks it is a power of two. */
static uint16_t lg_queue_max(struct vnet_transport *t, uint16_t q)
{
	struct pci_transport *p = to_pci(t);

	lg_wr(p, LG_QUEUE_SEL, 2, q);
	return (uint16_t)lg_rd(p, LG_QUEUE_SIZE, 2);
}

/*
 * Virtqueue configuration, legacy (spec 4.1.4.8, 4.1.5.1.3 legacy
 * interface): the queue must be free (its PFN reads 0) and have the
 * ring's size; the MSI-X vector goes first, the ring's page frame number
 * last, which activates the queue. A PFN that does not read back is a
 * device that will not find the ring: written back to 0, -EIO.
 */
static int lg_queue_setup(struct vnet_transport *t, uint16_t q, uint16_t size,
                          const struct vnet_vq_addrs *a)
{
	struct pci_transport *p = to_pci(t);
	uint32_t pfn, have;
	int rc;

	rc = vnet_legacy_ring_pfn(a, size, &pfn);
	if (rc) {
		vnet_log(VNET_LOG_ERR, FN_FMT "queue %u: not a legacy ring layout below 16 TiB (spec 2.7)",
		         FN_ARG(&p->loc), q);
		return rc;
	}
	lg_wr(p, LG_QUEUE_SEL, 2, q);
	if (lg_rd(p, LG_QUEUE_PFN, 4)) {
		vnet_log(VNET_LOG_ERR, FN_FMT "queue %u is already in use (reset first)", FN_ARG(&p->loc), q);
		return -EBUSY;
	}
	have = lg_rd(p, LG_QUEUE_SIZE, 2);
	if (size != have) {
		vnet_log(VNET_LOG_ERR, FN_FMT "queue %u: a ring of %u for a legacy queue of %u (read-only)",
		         FN_ARG(&p->loc), q, size, have);
		return have ? -EINVAL : -ENOENT;
	}
	if (p->msix) {
		lg_wr(p, LG_QUEUE_VECTOR, 2, 0);
		if (lg_rd(p, LG_QUEUE_VECTOR, 2) != 0)
			vnet_log(VNET_LOG_WARN, FN_FMT "queue %u: the device refused MSI-X vector 0; "
			         "it will not interrupt", FN_ARG(&p->loc), q);
	}
	lg_wr(p, LG_QUEUE_PFN, 4, pfn);
	if (lg_rd(p, LG_QUEUE_PFN, 4) != pfn) {
		lg_wr(p, LG_QUEUE_PFN, 4, 0);
		vnet_log(VNET_LOG_ERR, FN_FMT "queue %u: the ring's page frame 0x%x did not read back",
		         FN_ARG(&p->loc), q, pfn);
		return -EIO;
	}
	return 0;
}

/* 4.1.4.8: the 16-bit queue index to QueueNotify. */
static void lg_notify(struct vnet_transport *t, uint16_t q)
{
	lg_wr(to_pci(t), LG_QUEUE_NOTIFY, 2, q);
}

static const struct vnet_transport_ops pci_legacy_ops = {
	.name = "pci-legacy",
	.reset = lg_reset,
	.get_status = lg_get_status,
	.set_status = lg_set_status,
	.get_features = lg_get_features,
	.set_features = lg_set_features,
	.config_generation = lg_config_generation,
	.read_config = lg_read_config,
	.queue_max = lg_queue_max,
	.queue_setup = lg_queue_setup,
	.notify = lg_notify,
	.close = pci_close,
	.bus_master = pci_bus_master,
	.legacy = true,
};

static bool is_pci(const struct vnet_transport *t)
{
	return t && (t->ops == &pci_ops || t->ops == &pci_legacy_ops);
}

/* Without MSI-X the device interrupts through its INTx pin (spec 4.1.5.4),
 * where the ISR status structure says why. */
int vnet_pci_intx(const struct vnet_transport *t, uint32_t *bdf, uint8_t *pin)
{
	const struct pci_transport *p = (const struct pci_transport *)t;

	if (!is_pci(t) || !bdf || !pin)
		return -EINVAL;
	if (p->msix || (!p->isr && !p->io) || p->int_pin < 1 || p->int_pin > 4)
		return -ENOENT;
	*bdf = (uint32_t)p->loc.bus << 8 | (uint32_t)p->loc.dev << 3 | p->loc.fn;
	*pin = p->int_pin;
	return 0;
}

/* 4.1.4.5: reading ISR status resets it to 0 and deasserts the INTx line
 * (legacy: the ISR register, 4.1.4.8). */
uint32_t vnet_pci_intr_ack(struct vnet_transport *t)
{
	if (t && t->ops == &pci_legacy_ops)
		return lg_rd(to_pci(t), LG_ISR, 1);
	if (!t || t->ops != &pci_ops || !to_pci(t)->isr)
		return 0;
	return vnet_read8(to_pci(t)->isr);
}

void vnet_transport_close(struct vnet_transport *t)
{
	if (t && t->ops && t->ops->close)
		t->ops->close(t);
}

int vnet_transport_legacy(const struct vnet_transport *t)
{
	if (!t || !t->ops)
		return -EINVAL;
	return t->ops->legacy ? 1 : 0;
}

/* ------------------------------------------------------------- open -- */

static const char *const cfg_name[CFG_NTYPES] = {
	[CFG_COMMON] = "common", [CFG_NOTIFY] = "notify", [CFG_ISR] = "ISR", [CFG_DEVICE] = "device",
};

/* Smallest structure the driver needs, and the offset alignment the
 * device promises (4.1.4.3.1, 4.1.4.4.1, 4.1.4.6.1). */
static const uint32_t cfg_min_len[CFG_NTYPES] = {
	[CFG_COMMON] = sizeof(struct virtio_pci_common_cfg), [CFG_NOTIFY] = 2, [CFG_ISR] = 1,
	[CFG_DEVICE] = 1,
};
static const uint32_t cfg_align[CFG_NTYPES] = {
	[CFG_COMMON] = 4, [CFG_NOTIFY] = 2, [CFG_ISR] = 1, [CFG_DEVICE] = 4,
};

/* The first capability of @type (device's preference order, 4.1.4.1)
 * whose structure lies inside an implemented memory BAR; NULL if none. */
static const struct vcap *choose_cap(const struct pci_fn *f, const struct vcaps *caps,
                                     const struct bar *bars, unsigned type)
{
	unsigned i;

	for (i = 0; i < caps->n[type]; i++) {
		const struct vcap *c = &caps->c[type][i];
		const struct bar *b = &bars[c->bar];

		if (b->io || !b->size) {
			vnet_log(VNET_LOG_WARN, FN_FMT "%s structure in BAR%u: %s", FN_ARG(f),
			         cfg_name[type], c->bar, b->io ? "an I/O BAR, not supported" :
			         "not implemented");
			continue;
		}
		/* 4.1.4.4.1: 0 or an even power of 2; anything else puts queues'
		 * 16-bit notify registers at odd (or overlapping) addresses */
		if (type == CFG_NOTIFY && c->mult && (c->mult & 1 || c->mult & (c->mult - 1))) {
			vnet_log(VNET_LOG_WARN, FN_FMT "notify structure with notify_off_multiplier %u: not 0 or "
			         "an even power of 2 (spec 4.1.4.4.1): ignored", FN_ARG(f), c->mult);
			continue;
		}
		if (c->length < cfg_min_len[type] || c->offset % cfg_align[type] ||
		    (uint64_t)c->offset + c->length > b->size) {
			vnet_log(VNET_LOG_WARN, FN_FMT "%s structure 0x%x+0x%x does not fit BAR%u "
			         "(%llu bytes)", FN_ARG(f), cfg_name[type], c->offset, c->length,
			         c->bar, (unsigned long long)b->size);
			continue;
		}
		return c;
	}
	return NULL;
}

static void *identity_map(void *arg, uint64_t phys, uint64_t len)
{
	(void)arg;
	(void)len;
	return (void *)(uintptr_t)phys;
}

static volatile uint8_t *map_cap(struct pci_transport *p, const struct vnet_pci_opts *o,
                                 const struct bar *bars, const struct vcap *c)
{
	struct pci_map *m = &p->map[c->bar];

	if (!m->va) {
		m->va = o->map ? o->map(o->map_arg, bars[c->bar].addr, bars[c->bar].size)
		               : identity_map(NULL, bars[c->bar].addr, bars[c->bar].size);
		if (!m->va) {
			vnet_log(VNET_LOG_ERR, FN_FMT "cannot map BAR%u at 0x%llx", FN_ARG(&p->loc),
			         c->bar, (unsigned long long)bars[c->bar].addr);
			return NULL;
		}
		m->len = bars[c->bar].size;
	}
	return (volatile uint8_t *)m->va + c->offset;
}

/* Which config access: the caller's, ECAM, or (bare metal) port IO. */
static int pick_cfg_access(const struct vnet_pci_opts *o, struct pci_fn *f, void **ecam)
{
	*ecam = NULL;
	if (o->cfg) {
		f->ops = o->cfg;
		f->ctx = o->cfg_arg;
		return 0;
	}
	if (o->ecam_base) {
		*ecam = o->map ? o->map(o->map_arg, o->ecam_base, VNET_PCI_ECAM_SIZE)
		               : identity_map(NULL, o->ecam_base, VNET_PCI_ECAM_SIZE);
		if (!*ecam) {
			vnet_log(VNET_LOG_ERR, "pci: cannot map ECAM at 0x%llx",
			         (unsigned long long)o->ecam_base);
			return -ENOMEM;
		}
		f->ops = &vnet_pci_cfg_ecam_ops;
		f->ctx = *ecam;
		return 0;
	}
#if defined(__x86_64__) && !__STDC_HOSTED__
	f->ops = &vnet_pci_cfg_portio_ops;
	f->ctx = NULL;
	return 0;
#else
	vnet_log(VNET_LOG_ERR, "pci: no config-space access: give cfg ops or ecam_base "
	         "(port IO is the default only on bare metal)");
	return -EINVAL;
#endif
}

/*
 * Which interface (spec 4.1.2): the legacy one for a transitional device
 * without virtio 1.0 structures, or with them when the caller asks; the
 * modern one otherwise. 1 legacy, 0 modern, -ENOTSUP (legacy asked of a
 * modern-only device).
 */
static int pick_legacy(const struct pci_fn *f, const struct vcaps *caps, const struct vnet_pci_opts *o)
{
	uint16_t did = cfg_r16(f, VNET_PCI_DEVICE_ID);
	bool modern = caps->n[CFG_COMMON] || caps->n[CFG_NOTIFY] || caps->n[CFG_DEVICE];

	if (did == VIRTIO_PCI_NET_TRANS && (!modern || o->legacy))
		return 1;
	if (o->legacy) {
		vnet_log(VNET_LOG_ERR, FN_FMT "virtio-net 1af4:%04x has no legacy interface (QEMU: "
		         "-device virtio-net-pci,disable-legacy=off makes it transitional)", FN_ARG(f), did);
		return -ENOTSUP;
	}
	return 0;
}

/* Find the virtio structures, refusing broken devices. */
static int check_caps(const struct pci_fn *f, const struct vcaps *caps)
{
	uint16_t did = cfg_r16(f, VNET_PCI_DEVICE_ID);

	if (!caps->n[CFG_COMMON] || !caps->n[CFG_NOTIFY] || !caps->n[CFG_DEVICE]) {
		vnet_log(VNET_LOG_ERR, FN_FMT "virtio-net 1af4:%04x lacks a usable%s%s%s capability",
		         FN_ARG(f), did, caps->n[CFG_COMMON] ? "" : " common",
		         caps->n[CFG_NOTIFY] ? "" : " notify", caps->n[CFG_DEVICE] ? "" : " device");
		return -ENODEV;
	}
	return 0;
}

/* MSI-X table entry (PCI 3.0, 6.8.2.6..9): message address, data, control. */
#define MSIX_CTRL 2
#define MSIX_CTRL_ENABLE 0x8000u
#define MSIX_CTRL_MASKALL 0x4000u
#define MSIX_TABLE 4
#define MSIX_ENTRY_SIZE 16

/*
 * Program MSI-X table entry 0 with the caller's message, unmasked, and
 * enable MSI-X (config space is still reachable here). A device without
 * MSI-X, or with its table outside an implemented memory BAR, keeps
 * polling: a warning, not an error, as nothing needs the interrupt to work.
 */
static void setup_msix(struct pci_transport *p, const struct vnet_pci_opts *o, const struct pci_fn *f,
                       const struct bar *bars, uint8_t pos)
{
	uint32_t tbl;
	uint16_t ctrl;
	struct vcap c = {0};
	volatile uint8_t *e;

	if (!pos) {
		vnet_log(VNET_LOG_WARN, FN_FMT "no MSI-X capability: the device cannot wake a "
		         "sleeping loop (polling only)", FN_ARG(f));
		return;
	}
	ctrl = cfg_r16(f, (uint16_t)(pos + MSIX_CTRL));
	tbl = cfg_r32(f, (uint16_t)(pos + MSIX_TABLE));
	c.bar = (uint8_t)(tbl & 7);
	c.offset = tbl & ~7u;
	if (c.bar >= NUM_BARS || bars[c.bar].io || (uint64_t)c.offset + MSIX_ENTRY_SIZE > bars[c.bar].size) {
		vnet_log(VNET_LOG_WARN, FN_FMT "MSI-X table 0x%x in BAR%u is not usable: polling only",
		         FN_ARG(f), c.offset, c.bar);
		return;
	}
	e = map_cap(p, o, bars, &c);
	if (!e)
		return;
	vnet_write32((volatile uint32_t *)(e + 0), (uint32_t)o->msi_addr);
	vnet_write32((volatile uint32_t *)(e + 4), (uint32_t)(o->msi_addr >> 32));
	vnet_write32((volatile uint32_t *)(e + 8), o->msi_data);
	vnet_write32((volatile uint32_t *)(e + 12), 0); /* unmasked */
	cfg_w16(f, (uint16_t)(pos + MSIX_CTRL), (uint16_t)((ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_MASKALL));
	p->msix = true;
}

static struct pci_transport *new_transport(const struct pci_fn *f, const struct vnet_pci_opts *o, void *ecam,
                                           const struct vnet_transport_ops *ops)
{
	struct pci_transport *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->base.ops = ops;
	p->loc = *f;
	/* config space after open only to turn bus mastering off (and on):
	 * the caller's access or port IO as is, ECAM mapped again then */
	if (ecam) {
		p->loc.ctx = NULL;
		p->ecam_base = o->ecam_base;
	}
	p->map_fn = o->map;
	p->unmap = o->map ? o->unmap : NULL;
	p->map_arg = o->map_arg;
	return p;
}

#if defined(__x86_64__) && !__STDC_HOSTED__
/* Bare metal x86_64: the I/O BAR through in/out (64 KiB of ports). */
static uint32_t pio_read(void *arg, uint64_t port, unsigned width)
{
	(void)arg;
	if (width == 1)
		return vnet_inb((uint16_t)port);
	return width == 2 ? vnet_inw((uint16_t)port) : vnet_inl((uint16_t)port);
}

static void pio_write(void *arg, uint64_t port, unsigned width, uint32_t v)
{
	(void)arg;
	if (width == 1)
		vnet_outb((uint16_t)port, (uint8_t)v);
	else if (width == 2)
		vnet_outw((uint16_t)port, (uint16_t)v);
	else
		vnet_outl((uint16_t)port, v);
}

static const struct vnet_pci_io_ops pio_ops = { pio_read, pio_write };
#endif

/* PCI I/O space as a memory window (aarch64, riscv64 virt): port N at
 * window + N, with the MMIO accessors' ordering. */
static uint32_t win_read(void *arg, uint64_t port, unsigned width)
{
	const volatile uint8_t *a = (const volatile uint8_t *)arg + port;

	if (width == 1)
		return vnet_read8(a);
	return width == 2 ? vnet_read16(a) : vnet_read32(a);
}

static void win_write(void *arg, uint64_t port, unsigned width, uint32_t v)
{
	volatile uint8_t *a = (volatile uint8_t *)arg + port;

	if (width == 1)
		vnet_write8(a, (uint8_t)v);
	else if (width == 2)
		vnet_write16(a, (uint16_t)v);
	else
		vnet_write32(a, v);
}

static const struct vnet_pci_io_ops win_ops = { win_read, win_write };

/* An I/O BAR0 firmware left at 0, in the I/O window: naturally aligned
 * from port 0x1000 up (0 reads as unassigned), decoding still off. */
static int place_io_bar(const struct pci_fn *f, const struct vnet_pci_opts *o, struct bar *b)
{
	uint64_t a = (0x1000u + b->size - 1) & ~(b->size - 1);

	if (a + b->size > o->io_window_size) {
		vnet_log(VNET_LOG_ERR, FN_FMT "no room for I/O BAR0 (%llu ports) in the %u-port I/O window",
		         FN_ARG(f), (unsigned long long)b->size, o->io_window_size);
		return -ENOSPC;
	}
	cfg_w32(f, VNET_PCI_BAR0, (uint32_t)a);
	if ((cfg_r32(f, VNET_PCI_BAR0) & ~3u) != a) {
		vnet_log(VNET_LOG_ERR, FN_FMT "I/O BAR0 did not take port 0x%llx", FN_ARG(f), (unsigned long long)a);
		return -EIO;
	}
	b->addr = a;
	vnet_log(VNET_LOG_INFO, FN_FMT "assigned I/O BAR0 at port 0x%llx", FN_ARG(f), (unsigned long long)a);
	return 0;
}

/* The I/O window (vnet_pci_opts.io_window): placed BAR0 if need be, the
 * window mapped, accessed as memory. */
static int window_io(const struct pci_fn *f, const struct vnet_pci_opts *o, struct bar *b,
                     struct pci_transport *p)
{
	int err = b->addr ? 0 : place_io_bar(f, o, b);

	if (err)
		return err;
	if (b->addr + b->size > o->io_window_size) {
		vnet_log(VNET_LOG_ERR, FN_FMT "I/O BAR0 at port 0x%llx lies outside the %u-port I/O window",
		         FN_ARG(f), (unsigned long long)b->addr, o->io_window_size);
		return -ENODEV;
	}
	p->io_map.va = o->map ? o->map(o->map_arg, o->io_window, o->io_window_size)
	                      : identity_map(NULL, o->io_window, o->io_window_size);
	if (!p->io_map.va) {
		vnet_log(VNET_LOG_ERR, FN_FMT "cannot map the I/O window at 0x%llx", FN_ARG(f),
		         (unsigned long long)o->io_window);
		return -ENOMEM;
	}
	p->io_map.len = o->io_window_size;
	p->io = &win_ops;
	p->io_arg = p->io_map.va;
	return 0;
}

/* Port I/O to the legacy block in @b (BAR0): the caller's, the I/O window
 * in memory, or in/out on bare metal x86_64. 0, -ENODEV, -ENOSPC, -EIO,
 * -ENOMEM, -ENOTSUP. */
static int pick_io(const struct pci_fn *f, const struct vnet_pci_opts *o, struct bar *b,
                   struct pci_transport *p)
{
	uint32_t need = (o->msi_addr ? LG_CONFIG_MSIX : LG_CONFIG) + LG_NET_CFG_MIN;
	int err;

	if (!b->io || b->size < need || b->size > UINT32_MAX) {
		vnet_log(VNET_LOG_ERR, FN_FMT "legacy virtio-net without an I/O BAR0 of at least %u ports "
		         "(spec 4.1.4.8)", FN_ARG(f), need);
		return -ENODEV;
	}
	p->io = o->io;
	p->io_arg = o->io_arg;
	if (!p->io && o->io_window && o->io_window_size) {
		err = window_io(f, o, b, p);
		if (err)
			return err;
	}
#if defined(__x86_64__) && !__STDC_HOSTED__
	if (!p->io)
		p->io = &pio_ops;
#endif
	if (!p->io) {
		vnet_log(VNET_LOG_ERR, FN_FMT "legacy virtio-net: no port I/O to reach its I/O BAR0 (give "
		         "vnet_pci_opts.io or io_window; in/out are the default on bare-metal x86_64 only), "
		         "or make it modern: QEMU -device virtio-net-pci,disable-legacy=on", FN_ARG(f));
		return -ENOTSUP;
	}
	if (!b->addr) {
		vnet_log(VNET_LOG_ERR, FN_FMT "legacy I/O BAR0 is unassigned: vnet does not place I/O "
		         "BARs (firmware such as SeaBIOS does)", FN_ARG(f));
		return -ENOSPC;
	}
#if defined(__x86_64__) && !__STDC_HOSTED__
	if (p->io == &pio_ops && b->addr + b->size > 0x10000u) {
		vnet_log(VNET_LOG_ERR, FN_FMT "legacy I/O BAR0 at 0x%llx lies beyond x86's 64 KiB of ports",
		         FN_ARG(f), (unsigned long long)b->addr);
		return -ENODEV;
	}
#endif
	p->io_base = b->addr;
	p->io_len = (uint32_t)b->size;
	return 0;
}

/*
 * The legacy interface (4.1.4.8): port I/O to BAR0, I/O space, memory
 * (an MSI-X table) and bus mastering on, MSI-X last; the device config
 * sits behind the registers, 4 bytes further with MSI-X on.
 */
static int open_legacy(struct pci_transport **out, const struct pci_fn *f, const struct vnet_pci_opts *o,
                       void *ecam, struct bar *bars, uint8_t msix, uint16_t cmd)
{
	struct pci_transport *p = new_transport(f, o, ecam, &pci_legacy_ops);
	int err;

	if (!p)
		return -ENOMEM;
	err = pick_io(f, o, &bars[0], p);
	if (err) {
		pci_close(&p->base);
		return err;
	}
	cfg_w16(f, VNET_PCI_COMMAND, cmd | VNET_PCI_CMD_IO | VNET_PCI_CMD_MEMORY | VNET_PCI_CMD_BUS_MASTER);
	p->int_pin = cfg_r8(f, PCI_INT_PIN);
	if (o->msi_addr)
		setup_msix(p, o, f, bars, msix);
	p->lg_config = p->msix ? LG_CONFIG_MSIX : LG_CONFIG;
	vnet_log(VNET_LOG_INFO, FN_FMT "virtio-net 1af4:%04x, legacy interface: I/O BAR0 at 0x%llx "
	         "(%u ports)", FN_ARG(f), cfg_r16(f, VNET_PCI_DEVICE_ID), (unsigned long long)p->io_base,
	         p->io_len);
	*out = p;
	return 0;
}

int vnet_pci_open(struct vnet_transport **t, const struct vnet_pci_opts *opts)
{
	static const struct vnet_pci_opts defaults;
	const struct vnet_pci_opts *o = opts ? opts : &defaults;
	const struct vcap *chosen[CFG_NTYPES] = { NULL };
	struct bar bars[NUM_BARS];
	struct vcaps caps;
	struct pci_transport *p;
	struct pci_fn f;
	uint16_t cmd;
	void *ecam;
	unsigned type;
	int err, legacy;

	if (!t)
		return -EINVAL;
	*t = NULL;
	err = pick_cfg_access(o, &f, &ecam);
	if (err)
		return err;
	err = find_net_fn(&f, o->index);
	if (err)
		goto err_ecam;
	err = walk_caps(&f, &caps);
	if (err)
		goto err_ecam;
	legacy = pick_legacy(&f, &caps, o);
	err = legacy < 0 ? legacy : legacy ? 0 : check_caps(&f, &caps);
	if (err)
		goto err_ecam;

	/* From here on the function is touched: decoding is off until the
	 * end, and every failure puts the command register back. */
	err = setup_bars(&f, o->bar_window ? o->bar_window : VNET_PCI_BAR_WINDOW_DEFAULT, bars,
	                 &cmd);
	if (err)
		goto err_cmd;
	if (legacy) {
		err = open_legacy(&p, &f, o, ecam, bars, caps.msix, cmd);
		if (err)
			goto err_cmd;
		goto done;
	}
	for (type = CFG_COMMON; type < CFG_NTYPES; type++) {
		chosen[type] = choose_cap(&f, &caps, bars, type);
		if (!chosen[type] && type != CFG_ISR) {
			vnet_log(VNET_LOG_ERR, FN_FMT "no usable %s structure", FN_ARG(&f),
			         cfg_name[type]);
			err = -ENODEV;
			goto err_cmd;
		}
	}
	/* Memory space on, and bus mastering, which SeaBIOS leaves off. */
	cfg_w16(&f, VNET_PCI_COMMAND, cmd | VNET_PCI_CMD_MEMORY | VNET_PCI_CMD_BUS_MASTER);

	p = new_transport(&f, o, ecam, &pci_ops);
	if (!p) {
		err = -ENOMEM;
		goto err_cmd;
	}
	err = -ENOMEM;
	p->common = (volatile struct virtio_pci_common_cfg *)map_cap(p, o, bars, chosen[CFG_COMMON]);
	p->notify = map_cap(p, o, bars, chosen[CFG_NOTIFY]);
	p->device = map_cap(p, o, bars, chosen[CFG_DEVICE]);
	p->isr = chosen[CFG_ISR] ? map_cap(p, o, bars, chosen[CFG_ISR]) : NULL;
	if (!p->common || !p->notify || !p->device || (chosen[CFG_ISR] && !p->isr))
		goto err_unmap;
	p->notify_len = chosen[CFG_NOTIFY]->length;
	p->notify_mult = chosen[CFG_NOTIFY]->mult;
	p->device_len = chosen[CFG_DEVICE]->length;
	p->common_len = chosen[CFG_COMMON]->length;

	p->num_queues = vnet_read16(&p->common->num_queues);
	if (!p->num_queues) {
		vnet_log(VNET_LOG_ERR, FN_FMT "device reports no queues", FN_ARG(&f));
		err = -ENODEV;
		goto err_unmap;
	}
	/* room for every queue the count may grow to (see queue_count) */
	p->notify_slots = p->num_queues > PCI_MAX_QUEUES ? p->num_queues : PCI_MAX_QUEUES;
	p->queue_notify = calloc(p->notify_slots, sizeof(*p->queue_notify));
	if (!p->queue_notify)
		goto err_unmap;
	p->int_pin = cfg_r8(&f, PCI_INT_PIN);
	if (o->msi_addr) /* last: nothing fails after it */
		setup_msix(p, o, &f, bars, caps.msix);

	vnet_log(VNET_LOG_INFO, FN_FMT "virtio-net 1af4:%04x, %u queues", FN_ARG(&f),
	         cfg_r16(&f, VNET_PCI_DEVICE_ID), p->num_queues);
done:
	if (ecam && o->map && o->unmap)
		o->unmap(o->map_arg, ecam, VNET_PCI_ECAM_SIZE);
	*t = &p->base;
	return 0;

err_unmap:
	unmap_bars(p);
	free(p);
err_cmd:
	cfg_w16(&f, VNET_PCI_COMMAND, cmd);
err_ecam:
	if (ecam && o->map && o->unmap)
		o->unmap(o->map_arg, ecam, VNET_PCI_ECAM_SIZE);
	return err;
}
