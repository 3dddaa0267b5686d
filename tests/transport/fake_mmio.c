/* SPDX-License-Identifier: BSD-3-Clause */
/* Fake virtio-mmio window: see fake_mmio.h. */
#include "fake_mmio.h"

#include <string.h>

enum { R = 1, W = 2, RW = 3 };

/* Direction of each control register (spec 4.2.2); 0: not a register. */
static int reg_dir(uint32_t off)
{
	switch (off) {
	case 0x000: case 0x004: case 0x008: case 0x00c: case 0x010: case 0x034: case 0x060:
	case 0x0b0: case 0x0b4: case 0x0b8: case 0x0bc: case 0x0fc:
		return R;
	case 0x014: case 0x020: case 0x024: case 0x028: case 0x030: case 0x038: case 0x03c: case 0x050: case 0x064:
	case 0x080: case 0x084: case 0x090: case 0x094: case 0x0a0: case 0x0a4: case 0x0ac:
		return W;
	case 0x040: case 0x044: case 0x070: case 0x0c0:
		return RW;
	default:
		return 0;
	}
}

static uint32_t ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void st32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static struct fake_mmio_vq *cur_q(struct fake_mmio *m)
{
	return m->qsel < FMMIO_QUEUES ? &m->q[m->qsel] : NULL;
}

static void refresh(struct fake_mmio *m, uint8_t *w)
{
	struct fake_mmio_vq *q = cur_q(m);

	st32(w + 0x000, m->magic);
	st32(w + 0x004, m->version);
	st32(w + 0x008, m->devid);
	st32(w + 0x00c, m->vendor);
	st32(w + 0x010, m->dfs == 0 ? (uint32_t)m->dev_features :
	                m->dfs == 1 ? (uint32_t)(m->dev_features >> 32) : 0);
	st32(w + 0x034, q ? q->max : 0);
	st32(w + 0x040, q ? q->pfn : 0);
	st32(w + 0x044, q ? q->ready : 0);
	st32(w + 0x060, m->int_status);
	st32(w + 0x070, m->status);
	st32(w + 0x0c0, q ? q->resetting : 0);
	st32(w + 0x0fc, m->generation);
}

static void reset(struct fake_mmio *m)
{
	unsigned i;

	m->resets++;
	m->drv_features = 0;
	for (i = 0; i < FMMIO_QUEUES; i++) {
		uint32_t max = m->q[i].max;

		memset(&m->q[i], 0, sizeof(m->q[i]));
		m->q[i].max = max;
	}
	m->status = m->reset_stuck ? 0x40 : 0;
}

static void reg_write(struct fake_mmio *m, uint32_t off, uint32_t v)
{
	struct fake_mmio_vq *q = cur_q(m);

	switch (off) {
	case 0x014: m->dfs = v; break;
	case 0x024: m->drfs = v; break;
	case 0x020:
		if (m->drfs < 2) {
			uint64_t mask = 0xffffffffull << (32 * m->drfs);

			m->drv_features = (m->drv_features & ~mask) | ((uint64_t)v << (32 * m->drfs));
		}
		break;
	case 0x030: m->qsel = v; break;
	case 0x028: m->page_size = v; break;
	case 0x038: if (q) q->num = v; break;
	case 0x03c: if (q) q->align = v; break;
	case 0x040:
		if (q) {
			q->pfn_writes++;
			q->pfn = m->pfn_stuck ? 0 : v;
		}
		break;
	case 0x044:
		if (q) {
			if (v && (q->addr_writes < 6 || !q->num))
				m->ready_early++;
			q->ready = v;
		}
		break;
	case 0x050: m->notifies++; m->last_notify = v; break;
	case 0x064: m->int_status &= ~v; break;
	case 0x070: if (v == 0) reset(m); else m->status = v; break;
	case 0x080: case 0x084: if (q) { q->desc[(off - 0x080) / 4] = v; q->addr_writes++; } break;
	case 0x090: case 0x094: if (q) { q->driver[(off - 0x090) / 4] = v; q->addr_writes++; } break;
	case 0x0a0: case 0x0a4: if (q) { q->device[(off - 0x0a0) / 4] = v; q->addr_writes++; } break;
	case 0x0c0:
		if (!q || v != 1 || m->qreset_mode == 2)
			break;
		m->qresets++;
		if (m->qreset_mode == 1) {
			q->resetting = 1;
		} else {
			uint32_t max = q->max;

			memset(q, 0, sizeof(*q));
			q->max = max;
		}
		break;
	default: break;
	}
}

static void hook(void *arg, uint8_t *mem, const struct trap_access *a, int after)
{
	struct fake_mmio *m = arg;
	uint32_t off = (uint32_t)a->off;

	if (!after) {
		m->accesses++;
		if ((m->magic != 0x74726976u && off > 0) || (m->devid == 0 && off > 0x008))
			m->after_empty_id++; /* 4.2.3.1.1: nothing past DeviceID then */
		if (off < 0x100 && !a->write && reg_dir(off) == W)
			m->wo_reads++;
		if (off == 0x070 && !a->write)
			m->status_reads++;
		refresh(m, mem);
		return;
	}
	if (off >= 0x100) { /* device config: per-field widths */
		if (a->write || !a->width || off % a->width)
			m->bad_width++;
		if (m->ncfg < FMMIO_MAX_LOG) {
			m->cfg_log[m->ncfg].off = off - 0x100;
			m->cfg_log[m->ncfg].width = a->width;
		}
		m->ncfg++;
		return;
	}
	if (a->width != 4 || off % 4 || !reg_dir(off))
		m->bad_width++;
	if (m->nreg < FMMIO_MAX_LOG) {
		m->reg_log[m->nreg].off = off;
		m->reg_log[m->nreg].write = a->write;
		m->reg_log[m->nreg].val = ld32(mem + (off & ~3u));
	}
	m->nreg++;
	if (off == 0x060 && !a->write) {
		m->int_status |= m->raise_after_read;
		m->raise_after_read = 0;
	}
	if (a->write) {
		if (reg_dir(off) == R)
			m->ro_writes++;
		else
			reg_write(m, off & ~3u, ld32(mem + (off & ~3u)));
	}
	refresh(m, mem);
}

int fake_mmio_init(struct fake_mmio *m, uint32_t version, uint32_t devid)
{
	static const uint8_t net_cfg[12] = {
		0x52, 0x54, 0x00, 0x12, 0x34, 0x57, 0x01, 0x00, 0x01, 0x00, 0xdc, 0x05,
	};
	unsigned i;

	memset(m, 0, sizeof(*m));
	if (trap_init(&m->win, TRAP_PAGE, hook, m))
		return -1;
	m->magic = 0x74726976u;
	m->version = version;
	m->devid = devid;
	m->vendor = 0x554d4551u; /* "QEMU" */
	m->dev_features = 0x0000010130bf8024ull;
	for (i = 0; i < FMMIO_QUEUES; i++)
		m->q[i].max = 256;
	memcpy(m->win.mem + 0x100, net_cfg, sizeof(net_cfg));
	refresh(m, m->win.mem);
	if (trap_supported())
		trap_arm(&m->win, 0, TRAP_PAGE);
	return 0;
}

void fake_mmio_sync(struct fake_mmio *m)
{
	if (!trap_supported())
		refresh(m, m->win.mem);
}

void fake_mmio_fini(struct fake_mmio *m)
{
	trap_fini(&m->win);
}
