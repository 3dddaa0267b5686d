/* SPDX-License-Identifier: BSD-3-Clause */
/* Fake PCI config space and fake modern virtio-net device: see fake_pci.h. */
#include "fake_pci.h"

#include <string.h>

/* ------------------------------------------------------ config space -- */

static uint32_t ld(const uint8_t *p, unsigned width)
{
	uint32_t v = 0;
	unsigned i;

	for (i = 0; i < width; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static void st(uint8_t *p, unsigned width, uint32_t v)
{
	unsigned i;

	for (i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint32_t fake_fn_r32(const struct fake_fn *f, uint16_t off) { return ld(f->cfg + off, 4); }
uint16_t fake_fn_r16(const struct fake_fn *f, uint16_t off) { return (uint16_t)ld(f->cfg + off, 2); }
void fake_fn_w8(struct fake_fn *f, uint16_t off, uint8_t v) { f->cfg[off] = v; }
void fake_fn_w16(struct fake_fn *f, uint16_t off, uint16_t v) { st(f->cfg + off, 2, v); }
void fake_fn_w32(struct fake_fn *f, uint16_t off, uint32_t v) { st(f->cfg + off, 4, v); }

static struct fake_fn *lookup(struct fake_pci *p, uint8_t bus, uint8_t dev, uint8_t fn)
{
	unsigned i;

	for (i = 0; i < p->nfns; i++)
		if (p->fns[i].bus == bus && p->fns[i].dev == dev && p->fns[i].fn == fn)
			return &p->fns[i];
	return NULL;
}

struct fake_fn *fake_pci_add(struct fake_pci *p, uint8_t bus, uint8_t dev, uint8_t fn,
                             uint16_t vendor, uint16_t device)
{
	struct fake_fn *f;

	if (p->nfns == FAKE_MAX_FNS)
		return NULL;
	f = &p->fns[p->nfns++];
	memset(f, 0, sizeof(*f));
	f->bus = bus;
	f->dev = dev;
	f->fn = fn;
	fake_fn_w16(f, 0x00, vendor);
	fake_fn_w16(f, 0x02, device);
	return f;
}

static uint32_t bar_flags(const struct fake_fn *f, unsigned i)
{
	if (f->bar_io[i])
		return 0x1;
	return f->bar64[i] ? 0xc : 0x0; /* 64-bit prefetchable, or 32-bit */
}

/* Address bits below the flags: 2 for an I/O BAR, 4 for a memory BAR. */
static uint32_t bar_low_mask(const struct fake_fn *f, unsigned i)
{
	return f->bar_io[i] ? 0x3u : 0xfu;
}

void fake_fn_bar(struct fake_fn *f, unsigned i, uint64_t size, int is64, uint64_t addr)
{
	f->bar_size[i] = size;
	f->bar64[i] = (uint8_t)is64;
	fake_fn_w32(f, (uint16_t)(0x10 + 4 * i), (uint32_t)addr | bar_flags(f, i));
	if (is64)
		fake_fn_w32(f, (uint16_t)(0x14 + 4 * i), (uint32_t)(addr >> 32));
}

void fake_fn_iobar(struct fake_fn *f, unsigned i, uint32_t size, uint32_t addr)
{
	f->bar_size[i] = size;
	f->bar64[i] = 0;
	f->bar_io[i] = 1;
	fake_fn_w32(f, (uint16_t)(0x10 + 4 * i), addr | bar_flags(f, i));
}

void fake_fn_cfg_write(struct fake_fn *f, uint16_t off, unsigned width, uint32_t v)
{
	if (off == 0x04 && width >= 2) {
		f->cmd_writes++;
		fake_fn_w16(f, 0x04, (uint16_t)v);
		return;
	}
	if (f->msix_pos && off == f->msix_pos + 2 && width == 2) {
		/* message control: Enable (15) and Function Mask (14) */
		f->msix_ctrl_writes++;
		fake_fn_w16(f, off, (uint16_t)((fake_fn_r16(f, off) & 0x3fffu) | (v & 0xc000u)));
		return;
	}
	if (off >= 0x10 && off < 0x28 && width == 4 && !(off & 3)) {
		unsigned i = (off - 0x10) / 4;

		if (f->bar_stuck[i] && v != 0xffffffffu)
			v = 0;
		if (i > 0 && f->bar64[i - 1] && f->bar_size[i - 1]) /* upper half */
			fake_fn_w32(f, off, v & (uint32_t)(~(f->bar_size[i - 1] - 1) >> 32));
		else if (f->bar_size[i])
			fake_fn_w32(f, off, (v & (uint32_t)~(f->bar_size[i] - 1) & ~bar_low_mask(f, i)) |
			                    bar_flags(f, i));
		return;
	}
	f->illegal_writes++;
}

void fake_fn_cap(struct fake_fn *f, uint8_t pos, uint8_t id, uint8_t len)
{
	f->cfg[pos] = id;
	f->cfg[pos + 1] = 0;
	if (id == 0x09)
		f->cfg[pos + 2] = len;
	if (f->last_cap)
		f->cfg[f->last_cap + 1] = pos;
	else
		f->cfg[0x34] = pos;
	fake_fn_w16(f, 0x06, fake_fn_r16(f, 0x06) | 0x10);
	f->last_cap = pos;
}

void fake_fn_msix(struct fake_fn *f, uint8_t pos, uint16_t nvec, uint8_t bar, uint32_t table_off,
                  uint32_t pba_off)
{
	fake_fn_cap(f, pos, 0x11, 12);
	fake_fn_w16(f, (uint16_t)(pos + 2), (uint16_t)((nvec - 1) & 0x7ff)); /* table size - 1 */
	fake_fn_w32(f, (uint16_t)(pos + 4), table_off | bar);
	fake_fn_w32(f, (uint16_t)(pos + 8), pba_off | bar);
	f->msix_pos = pos;
}

void fake_fn_vcap(struct fake_fn *f, uint8_t pos, uint8_t type, uint8_t bar, uint32_t offset,
                  uint32_t length, uint32_t mult)
{
	fake_fn_cap(f, pos, 0x09, type == 2 ? 20 : 16);
	f->cfg[pos + 3] = type;
	f->cfg[pos + 4] = bar;
	fake_fn_w32(f, (uint16_t)(pos + 8), offset);
	fake_fn_w32(f, (uint16_t)(pos + 12), length);
	if (type == 2)
		fake_fn_w32(f, (uint16_t)(pos + 16), mult);
}

static uint32_t cfg_read(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off,
                         unsigned width)
{
	struct fake_pci *p = ctx;
	struct fake_fn *f = lookup(p, bus, dev, fn);

	p->reads++;
	if (!f || off + width > 256)
		return width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
	return ld(f->cfg + off, width);
}

static void cfg_write(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off,
                      unsigned width, uint32_t v)
{
	struct fake_pci *p = ctx;
	struct fake_fn *f = lookup(p, bus, dev, fn);

	p->writes++;
	if (f && off + width <= 256)
		fake_fn_cfg_write(f, off, width, v);
}

static uint8_t r8(void *c, uint8_t b, uint8_t d, uint8_t f, uint16_t o) { return (uint8_t)cfg_read(c, b, d, f, o, 1); }
static uint16_t r16(void *c, uint8_t b, uint8_t d, uint8_t f, uint16_t o) { return (uint16_t)cfg_read(c, b, d, f, o, 2); }
static uint32_t r32(void *c, uint8_t b, uint8_t d, uint8_t f, uint16_t o) { return cfg_read(c, b, d, f, o, 4); }
static void w8(void *c, uint8_t b, uint8_t d, uint8_t f, uint16_t o, uint8_t v) { cfg_write(c, b, d, f, o, 1, v); }
static void w16(void *c, uint8_t b, uint8_t d, uint8_t f, uint16_t o, uint16_t v) { cfg_write(c, b, d, f, o, 2, v); }
static void w32(void *c, uint8_t b, uint8_t d, uint8_t f, uint16_t o, uint32_t v) { cfg_write(c, b, d, f, o, 4, v); }

const struct vnet_pci_cfg_ops fake_pci_cfg_ops = {
	.read8 = r8, .read16 = r16, .read32 = r32, .write8 = w8, .write16 = w16, .write32 = w32,
};

/* ------------------------------------------- virtio device behind BAR -- */

/* Width of the common cfg field at @off (spec 4.1.4.3); 0: none. */
static unsigned common_width(uint32_t off)
{
	if (off < 0x10)
		return 4;
	if (off < 0x14)
		return 2;
	if (off < 0x16)
		return 1;
	if (off < 0x20)
		return 2;
	if (off < 0x38)
		return 4;
	if (off < 0x3c)
		return 2;
	return 0;
}

static struct fake_vq *cur_q(struct fake_vdev *d)
{
	return d->qsel < d->num_queues && d->qsel < VDEV_QUEUES ? &d->q[d->qsel] : NULL;
}

/* Put what the driver would read into the common cfg page. */
static void common_refresh(struct fake_vdev *d, uint8_t *m)
{
	struct fake_vq *q = cur_q(d);

	st(m + 0x10, 2, d->config_vector);
	st(m + 0x04, 4, d->dfs == 0 ? (uint32_t)d->dev_features :
	                d->dfs == 1 ? (uint32_t)(d->dev_features >> 32) : 0);
	st(m + 0x0c, 4, d->drfs == 0 ? (uint32_t)d->drv_features :
	                d->drfs == 1 ? (uint32_t)(d->drv_features >> 32) : 0);
	st(m + 0x12, 2, d->num_queues);
	m[0x14] = d->status;
	m[0x15] = d->generation;
	st(m + 0x16, 2, d->qsel);
	st(m + 0x18, 2, q ? q->size : 0);
	st(m + 0x1a, 2, q ? q->msix_vector : VDEV_NO_VECTOR);
	st(m + 0x1c, 2, q ? q->enable : 0);
	st(m + 0x1e, 2, q ? q->notify_off : 0);
	st(m + 0x20, 4, q ? q->desc[0] : 0);
	st(m + 0x24, 4, q ? q->desc[1] : 0);
	st(m + 0x28, 4, q ? q->driver[0] : 0);
	st(m + 0x2c, 4, q ? q->driver[1] : 0);
	st(m + 0x30, 4, q ? q->device[0] : 0);
	st(m + 0x34, 4, q ? q->device[1] : 0);
	st(m + 0x3a, 2, q ? q->resetting : 0);
}

static void device_reset(struct fake_vdev *d)
{
	unsigned i;

	d->resets++;
	d->drv_features = 0;
	d->dfs = d->drfs = 0;
	d->config_vector = VDEV_NO_VECTOR; /* as QEMU's virtio_reset() */
	for (i = 0; i < VDEV_QUEUES; i++) {
		struct fake_vq *q = &d->q[i];

		q->msix_vector = VDEV_NO_VECTOR;
		q->size = q->max;
		q->enable = 0;
		memset(q->desc, 0, sizeof(q->desc));
		memset(q->driver, 0, sizeof(q->driver));
		memset(q->device, 0, sizeof(q->device));
		q->addr_writes = 0;
	}
}

/* The vector a msix_vector register takes: NO_VECTOR when the table has
 * no such entry or the device is set to refuse (spec 4.1.5.1.2). */
static uint16_t msix_vector(const struct fake_vdev *d, uint32_t v)
{
	return d->msix_refuse || v >= d->msix_nvec ? VDEV_NO_VECTOR : (uint16_t)v;
}

static void common_write(struct fake_vdev *d, uint8_t *m, uint32_t off)
{
	struct fake_vq *q = cur_q(d);
	uint32_t v = ld(m + off, common_width(off) ? common_width(off) : 1);

	switch (off) {
	case 0x00: d->dfs = v; break;
	case 0x08: d->drfs = v; break;
	case 0x0c:
		if (d->drfs < 2) {
			uint64_t mask = 0xffffffffull << (32 * d->drfs);

			d->drv_features = (d->drv_features & ~mask) | ((uint64_t)v << (32 * d->drfs));
		}
		break;
	case 0x10: /* config_msix_vector */
		d->vector_writes++;
		d->config_vector = msix_vector(d, v);
		break;
	case 0x1a: /* queue_msix_vector */
		d->vector_writes++;
		if (q)
			q->msix_vector = msix_vector(d, v);
		break;
	case 0x14:
		if (v == 0) {
			uint8_t old = d->status;

			device_reset(d);
			if (d->reset_stuck) {
				d->status = 0x40;
			} else if (d->reset_delay) {
				d->status = old ? old : 0x01;
				d->reset_left = d->reset_delay;
			} else {
				d->status = 0;
			}
		} else {
			d->status = (uint8_t)v;
		}
		break;
	case 0x16: d->qsel = (uint16_t)v; break;
	case 0x18: if (q) q->size = (uint16_t)v; break;
	case 0x1c:
		if (!q)
			break;
		if (v == 0)
			d->enable_zero++;
		else if (q->addr_writes < 6)
			d->enable_early++;
		q->enable = (uint16_t)v;
		break;
	case 0x20: case 0x24: if (q) { q->desc[(off - 0x20) / 4] = v; q->addr_writes++; } break;
	case 0x28: case 0x2c: if (q) { q->driver[(off - 0x28) / 4] = v; q->addr_writes++; } break;
	case 0x30: case 0x34: if (q) { q->device[(off - 0x30) / 4] = v; q->addr_writes++; } break;
	case 0x3a: /* queue_reset (RING_RESET, spec 4.1.4.3.2) */
		if (!q || v != 1 || d->qreset_mode == 2)
			break;
		d->qresets++;
		if (d->qreset_mode == 1) {
			q->resetting = 1;
		} else {
			q->size = q->max;
			q->enable = 0;
			memset(q->desc, 0, sizeof(q->desc));
			memset(q->driver, 0, sizeof(q->driver));
			memset(q->device, 0, sizeof(q->device));
			q->addr_writes = 0;
		}
		break;
	default: d->ro_writes++; break; /* device_feature, num_queues, generation, notify_off */
	}
}

/* 4.1.4.5: a read of the ISR status byte returns the bits and resets
 * them (the device then deasserts its INTx line); it is read-only. */
static void isr_access(struct fake_vdev *d, uint8_t *m, const struct trap_access *a, int after)
{
	if (!after) {
		m[VDEV_ISR] = d->isr;
		return;
	}
	if (a->write || a->off != VDEV_ISR || a->width != 1) {
		d->isr_bad++;
		return;
	}
	d->isr_reads++;
	d->isr = 0;
	m[VDEV_ISR] = 0;
}

static void vdev_hook(void *arg, uint8_t *m, const struct trap_access *a, int after)
{
	struct fake_vdev *d = arg;

	if (!after)
		d->bar_accesses++;
	if (a->off >= VDEV_ISR && a->off < VDEV_DEVICE) {
		isr_access(d, m, a, after);
	} else if (a->off < VDEV_ISR) {
		uint32_t off = (uint32_t)a->off - VDEV_COMMON;
		unsigned w = common_width(off);

		if (!after) {
			if (off == 0x14 && !a->write) {
				d->status_reads++;
				if (d->reset_left && --d->reset_left == 0)
					d->status = 0;
			}
			common_refresh(d, m + VDEV_COMMON);
			return;
		}
		if (!w || a->width != w || off % w)
			d->bad_width++;
		if (a->write)
			common_write(d, m + VDEV_COMMON, off);
		common_refresh(d, m + VDEV_COMMON);
	} else if (a->off >= VDEV_DEVICE && a->off < VDEV_NOTIFY) {
		if (!after)
			return;
		if (a->write || !a->width || (a->off % a->width))
			d->bad_width++;
		if (d->ncfg < VDEV_MAX_LOG) {
			d->cfg_log[d->ncfg].off = (uint32_t)(a->off - VDEV_DEVICE);
			d->cfg_log[d->ncfg].width = a->width;
		}
		d->ncfg++;
	} else if (a->off >= VDEV_NOTIFY && after) {
		if (!a->write || a->width != 2) {
			d->notify_bad_width++;
			return;
		}
		d->notifies++;
		d->last_notify_off = (uint32_t)(a->off - VDEV_NOTIFY);
		d->last_notify_val = (uint16_t)ld(m + a->off, 2);
	}
}

/* The MSI-X table is memory: the hook checks that each access is a
 * naturally aligned DWORD or QWORD (PCI 3.0 6.8.2) and copies the table
 * out for the test, which must not touch the trapped page itself. */
static void msix_hook(void *arg, uint8_t *m, const struct trap_access *a, int after)
{
	struct fake_vdev *d = arg;
	unsigned i, w;

	if (!after)
		return;
	if ((a->width != 4 && a->width != 8) || a->off % a->width)
		d->msix_bad_width++;
	if (!a->write)
		return;
	d->msix_writes++;
	for (i = 0; i < VDEV_MSIX_VECS; i++)
		for (w = 0; w < 4; w++)
			d->msix_table[i][w] = ld(m + VDEV_MSIX_TABLE + 16 * i + 4 * w, 4);
}

uint64_t fake_vdev_msix_addr(const struct fake_vdev *d, unsigned i)
{
	return d->msix_table[i][0] | (uint64_t)d->msix_table[i][1] << 32;
}

uint32_t fake_vdev_msix_data(const struct fake_vdev *d, unsigned i)
{
	return d->msix_table[i][2];
}

uint32_t fake_vdev_msix_ctrl(const struct fake_vdev *d, unsigned i)
{
	return d->msix_table[i][3];
}

int fake_vdev_init(struct fake_vdev *d)
{
	static const uint8_t net_cfg[20] = {
		0x52, 0x54, 0x00, 0x12, 0x34, 0x56, /* mac */
		0x01, 0x00,                         /* status: LINK_UP */
		0x01, 0x00,                         /* max_virtqueue_pairs */
		0xdc, 0x05,                         /* mtu 1500 */
		0xe8, 0x03, 0x00, 0x00,             /* speed 1000 */
		0x01, 0, 0, 0,                      /* duplex full (+pad) */
	};
	unsigned i;

	memset(d, 0, sizeof(*d));
	if (trap_init(&d->bar, VDEV_BAR_SIZE, vdev_hook, d))
		return -1;
	if (trap_init(&d->msix, VDEV_MSIX_SIZE, msix_hook, d)) {
		trap_fini(&d->bar);
		return -1;
	}
	d->dev_features = 0x0000010130bf8024ull; /* QEMU 7.2 virtio-net-pci, -netdev user */
	d->num_queues = VDEV_QUEUES;
	d->msix_nvec = VDEV_MSIX_VECS;
	d->config_vector = VDEV_NO_VECTOR;
	for (i = 0; i < VDEV_QUEUES; i++) {
		d->q[i].max = d->q[i].size = 256;
		d->q[i].notify_off = (uint16_t)i;
		d->q[i].msix_vector = VDEV_NO_VECTOR;
	}
	/* every entry masked until the driver programs it (PCI 3.0 6.8.2.9) */
	for (i = 0; i < VDEV_MSIX_VECS; i++) {
		st(d->msix.mem + VDEV_MSIX_TABLE + 16 * i + 12, 4, 1);
		d->msix_table[i][3] = 1;
	}
	memcpy(d->bar.mem + VDEV_DEVICE, net_cfg, sizeof(net_cfg));
	common_refresh(d, d->bar.mem + VDEV_COMMON);
	if (trap_supported()) { /* else plain memory: enough to open */
		trap_arm(&d->bar, VDEV_COMMON, TRAP_PAGE);
		trap_arm(&d->bar, VDEV_ISR, TRAP_PAGE);
		trap_arm(&d->bar, VDEV_DEVICE, TRAP_PAGE);
		trap_arm(&d->bar, VDEV_NOTIFY, TRAP_PAGE);
		trap_arm(&d->msix, 0, VDEV_MSIX_SIZE);
	}
	return 0;
}

void fake_vdev_fini(struct fake_vdev *d)
{
	trap_fini(&d->bar);
	trap_fini(&d->msix);
}

/* --------------------------------------------- legacy device, port I/O -- */

void fake_lg_init(struct fake_lg *l)
{
	static const uint8_t net_cfg[10] = {
		0x52, 0x54, 0x00, 0x12, 0x34, 0x58, /* mac */
		0x01, 0x00,                         /* status: LINK_UP */
		0x01, 0x00,                         /* max_virtqueue_pairs */
	};
	unsigned i;

	memset(l, 0, sizeof(*l));
	/* the modern fake's low 32 bits, with NOTIFY_ON_EMPTY (24) and
	 * ANY_LAYOUT (27), which QEMU offers legacy drivers */
	l->host_features = 0x39bf8024u;
	l->config_vector = VDEV_NO_VECTOR;
	for (i = 0; i < FLG_QUEUES; i++) {
		l->q[i].size = 256;
		l->q[i].vector = VDEV_NO_VECTOR;
	}
	memcpy(l->cfg, net_cfg, sizeof(net_cfg));
}

static uint32_t lg_cfg_off(const struct fake_lg *l)
{
	return l->msix_on ? 0x18u : 0x14u;
}

/* Width of the register at @off (spec 4.1.4.8); 0: none there. */
static unsigned lg_width(const struct fake_lg *l, uint32_t off)
{
	if (off < 0x0c)
		return off % 4 ? 0 : 4;
	if (off < 0x12)
		return off % 2 ? 0 : 2;
	if (off < 0x14)
		return 1;
	if (off < lg_cfg_off(l))
		return off % 2 ? 0 : 2;
	return 0;
}

static struct fake_lg_q *lg_q(struct fake_lg *l)
{
	return l->qsel < FLG_QUEUES ? &l->q[l->qsel] : NULL;
}

uint32_t fake_lg_read(struct fake_lg *l, uint32_t off, unsigned width)
{
	struct fake_lg_q *q = lg_q(l);
	uint32_t v;

	l->accesses++;
	if (off >= lg_cfg_off(l)) {
		off -= lg_cfg_off(l);
		return off + width <= FLG_IO_SIZE - lg_cfg_off(l) ? ld(l->cfg + off, width) : 0xffffffffu;
	}
	if (lg_width(l, off) != width)
		l->bad_width++;
	switch (off) {
	case 0x00: return l->host_features;
	case 0x04: return l->guest_features;
	case 0x08: return q ? q->pfn : 0;
	case 0x0c: return q ? q->size : 0;
	case 0x0e: return l->qsel;
	case 0x12:
		l->status_reads++;
		return l->status;
	case 0x13: /* reading ISR resets it (4.1.4.5) */
		v = l->isr;
		l->isr = 0;
		l->isr_reads++;
		return v;
	case 0x14: return l->config_vector;
	case 0x16: return q ? q->vector : VDEV_NO_VECTOR;
	default: return 0;
	}
}

static void lg_reset(struct fake_lg *l)
{
	unsigned i;

	l->resets++;
	l->guest_features = 0;
	l->config_vector = VDEV_NO_VECTOR;
	for (i = 0; i < FLG_QUEUES; i++) {
		l->q[i].pfn = 0;
		l->q[i].vector = VDEV_NO_VECTOR;
	}
	l->status = l->reset_stuck ? 0x40 : 0;
}

void fake_lg_write(struct fake_lg *l, uint32_t off, unsigned width, uint32_t v)
{
	struct fake_lg_q *q = lg_q(l);

	l->accesses++;
	if (off >= lg_cfg_off(l) || lg_width(l, off) != width) {
		l->bad_width += off < lg_cfg_off(l);
		l->ro_writes += off >= lg_cfg_off(l);
		return;
	}
	switch (off) {
	case 0x04: l->guest_features = v; l->guest_feature_writes++; break;
	case 0x08:
		if (q) {
			q->pfn_writes++;
			q->pfn = l->pfn_stuck ? 0 : v;
		}
		break;
	case 0x0e: l->qsel = (uint16_t)v; break;
	case 0x10: l->notifies++; l->last_notify = (uint16_t)v; break;
	case 0x12:
		if (v & 0x08)
			l->features_ok_writes++;
		if (v == 0)
			lg_reset(l);
		else
			l->status = (uint8_t)v;
		break;
	case 0x14: l->config_vector = (uint16_t)v; break;
	case 0x16: if (q) q->vector = (uint16_t)v; break;
	default: l->ro_writes++; break; /* host features, queue size, ISR */
	}
}
