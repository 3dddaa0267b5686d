/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Virtio over MMIO, version 2 (virtio spec 4.2) and the legacy version 1
 * (4.2.4): probing a register window, discovery from `virtio_mmio.device=`
 * kernel command-line entries and from a fixed array of windows (QEMU
 * microvm), and the transport methods of both versions.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <vnet/transports.h>
#include <vnet/vnet.h>

#include "base/platform.h"
#include "transport/common.h"
#include "transport/transport.h"
#include "base/virtio_spec.h"

/* Register layout, spec 4.2.2 (all 32 bits wide). */
#define MMIO_MAGIC          0x000
#define MMIO_VERSION        0x004
#define MMIO_DEVICE_ID      0x008
#define MMIO_DEV_FEATURES   0x010
#define MMIO_DEV_FEAT_SEL   0x014
#define MMIO_DRV_FEATURES   0x020
#define MMIO_DRV_FEAT_SEL   0x024
#define MMIO_GUEST_PAGE     0x028 /* legacy: GuestPageSize */
#define MMIO_QUEUE_SEL      0x030
#define MMIO_QUEUE_NUM_MAX  0x034
#define MMIO_QUEUE_NUM      0x038
#define MMIO_QUEUE_ALIGN    0x03c /* legacy: QueueAlign */
#define MMIO_QUEUE_PFN      0x040 /* legacy: QueuePFN */
#define MMIO_QUEUE_READY    0x044
#define MMIO_QUEUE_NOTIFY   0x050
#define MMIO_INT_STATUS     0x060
#define MMIO_INT_ACK        0x064
#define MMIO_STATUS         0x070
#define MMIO_QUEUE_DESC_LO  0x080
#define MMIO_QUEUE_DESC_HI  0x084
#define MMIO_QUEUE_DRV_LO   0x090
#define MMIO_QUEUE_DRV_HI   0x094
#define MMIO_QUEUE_DEV_LO   0x0a0
#define MMIO_QUEUE_DEV_HI   0x0a4
#define MMIO_QUEUE_RESET    0x0c0 /* VIRTIO_F_RING_RESET */
#define MMIO_CONFIG_GEN     0x0fc
#define MMIO_CONFIG         0x100

#define MMIO_MAGIC_VALUE    0x74726976u /* "virt" */
#define QUEUE_SIZE_MAX      32768

/* --------------------------------------------------------- transport -- */

struct mmio_transport {
	struct vnet_transport base;
	volatile uint8_t *regs;
	uint32_t config_len; /* bytes of device config the window holds */
};

static struct mmio_transport *to_mmio(struct vnet_transport *t)
{
	return (struct mmio_transport *)t;
}

static uint32_t rd(const struct mmio_transport *m, uint32_t off)
{
	return vnet_read32(m->regs + off);
}

static void wr(const struct mmio_transport *m, uint32_t off, uint32_t v)
{
	vnet_write32(m->regs + off, v);
}

static int mmio_reset(struct vnet_transport *t)
{
	wr(to_mmio(t), MMIO_STATUS, 0);
	return vnet_wait_reset(t);
}

static uint8_t mmio_get_status(struct vnet_transport *t)
{
	return (uint8_t)rd(to_mmio(t), MMIO_STATUS);
}

static void mmio_set_status(struct vnet_transport *t, uint8_t status)
{
	wr(to_mmio(t), MMIO_STATUS, status);
}

static uint64_t mmio_get_features(struct vnet_transport *t)
{
	struct mmio_transport *m = to_mmio(t);
	uint32_t lo, hi;

	wr(m, MMIO_DEV_FEAT_SEL, 0);
	lo = rd(m, MMIO_DEV_FEATURES);
	wr(m, MMIO_DEV_FEAT_SEL, 1);
	hi = rd(m, MMIO_DEV_FEATURES);
	return ((uint64_t)hi << 32) | lo;
}

static void mmio_set_features(struct vnet_transport *t, uint64_t features)
{
	struct mmio_transport *m = to_mmio(t);

	wr(m, MMIO_DRV_FEAT_SEL, 0);
	wr(m, MMIO_DRV_FEATURES, (uint32_t)features);
	wr(m, MMIO_DRV_FEAT_SEL, 1);
	wr(m, MMIO_DRV_FEATURES, (uint32_t)(features >> 32));
}

static uint32_t mmio_config_generation(struct vnet_transport *t)
{
	return rd(to_mmio(t), MMIO_CONFIG_GEN);
}

static void mmio_read_config(struct vnet_transport *t, uint32_t off, void *buf, uint32_t len)
{
	struct mmio_transport *m = to_mmio(t);

	if (len > m->config_len || off > m->config_len - len) {
		vnet_log(VNET_LOG_ERR, "mmio: config read %u+%u beyond the %u-byte config", off, len,
		         m->config_len);
		memset(buf, 0, len);
		return;
	}
	vnet_window_read(m->regs + MMIO_CONFIG, off, buf, len);
}

static uint16_t mmio_queue_max(struct vnet_transport *t, uint16_t q)
{
	struct mmio_transport *m = to_mmio(t);
	uint32_t n;

	wr(m, MMIO_QUEUE_SEL, q);
	n = rd(m, MMIO_QUEUE_NUM_MAX);
	return (uint16_t)(n > QUEUE_SIZE_MAX ? QUEUE_SIZE_MAX : n);
}

/* Virtqueue configuration, spec 4.2.3.2. */
static int mmio_queue_setup(struct vnet_transport *t, uint16_t q, uint16_t size,
                            const struct vnet_vq_addrs *a)
{
	struct mmio_transport *m = to_mmio(t);
	uint32_t max;

	if ((a->desc & (VRING_DESC_ALIGN - 1)) || (a->avail & (VRING_AVAIL_ALIGN - 1)) ||
	    (a->used & (VRING_USED_ALIGN - 1))) {
		vnet_log(VNET_LOG_ERR, "mmio: queue %u: ring parts misaligned (spec 2.7)", q);
		return -EINVAL;
	}
	wr(m, MMIO_QUEUE_SEL, q);
	if (rd(m, MMIO_QUEUE_READY)) {
		vnet_log(VNET_LOG_ERR, "mmio: queue %u is already ready (reset first)", q);
		return -EBUSY;
	}
	max = rd(m, MMIO_QUEUE_NUM_MAX);
	if (size == 0 || size > max) {
		vnet_log(VNET_LOG_ERR, "mmio: queue %u: size %u, device allows %s%u", q, size,
		         max ? "1.." : "", max);
		return max ? -EINVAL : -ENOENT;
	}
	wr(m, MMIO_QUEUE_NUM, size);
	wr(m, MMIO_QUEUE_DESC_LO, (uint32_t)a->desc);
	wr(m, MMIO_QUEUE_DESC_HI, (uint32_t)(a->desc >> 32));
	wr(m, MMIO_QUEUE_DRV_LO, (uint32_t)a->avail);
	wr(m, MMIO_QUEUE_DRV_HI, (uint32_t)(a->avail >> 32));
	wr(m, MMIO_QUEUE_DEV_LO, (uint32_t)a->used);
	wr(m, MMIO_QUEUE_DEV_HI, (uint32_t)(a->used >> 32));
	wr(m, MMIO_QUEUE_READY, 1);
	return 0;
}

/*
 * Reset one queue (VIRTIO_F_RING_RESET, spec 2.6.1, 4.2.2): write 1 to
 * QueueReset, wait for it to read 0, then QueueReady must read 0 too. A
 * device that offers the feature without the register (reads 0, ignores
 * the write) keeps the queue ready: -EIO, and nothing is assumed reset.
 */
static int mmio_queue_reset(struct vnet_transport *t, uint16_t q)
{
	struct mmio_transport *m = to_mmio(t);
	int rc;

	wr(m, MMIO_QUEUE_SEL, q);
	wr(m, MMIO_QUEUE_RESET, 1);
	rc = vnet_wait_reg_zero(m->regs + MMIO_QUEUE_RESET, 4);
	if (rc) {
		vnet_log(VNET_LOG_ERR, "mmio: queue %u: reset did not complete", q);
		return rc;
	}
	if (rd(m, MMIO_QUEUE_READY)) {
		vnet_log(VNET_LOG_ERR, "mmio: queue %u is still ready after its reset: the device "
		         "does not reset queues", q);
		return -EIO;
	}
	return 0;
}

/* 4.2.3.3: without NOTIFICATION_DATA, the queue index. */
static void mmio_notify(struct vnet_transport *t, uint16_t q)
{
	wr(to_mmio(t), MMIO_QUEUE_NOTIFY, q);
}

static void mmio_close(struct vnet_transport *t)
{
	free(to_mmio(t));
}

static const struct vnet_transport_ops mmio_ops = {
	.name = "mmio",
	.reset = mmio_reset,
	.get_status = mmio_get_status,
	.set_status = mmio_set_status,
	.get_features = mmio_get_features,
	.set_features = mmio_set_features,
	.config_generation = mmio_config_generation,
	.read_config = mmio_read_config,
	.queue_max = mmio_queue_max,
	.queue_setup = mmio_queue_setup,
	.notify = mmio_notify,
	.close = mmio_close,
	.queue_reset = mmio_queue_reset,
};

/* ---------------------------------------------------------- legacy -- */

/* Version 1 (spec 4.2.4): 32 feature bits, HostFeaturesSel/GuestFeaturesSel
 * at 0 (the only bank a legacy driver uses). */
static uint64_t mmio1_get_features(struct vnet_transport *t)
{
	struct mmio_transport *m = to_mmio(t);

	wr(m, MMIO_DEV_FEAT_SEL, 0);
	return rd(m, MMIO_DEV_FEATURES);
}

static void mmio1_set_features(struct vnet_transport *t, uint64_t features)
{
	struct mmio_transport *m = to_mmio(t);

	wr(m, MMIO_DRV_FEAT_SEL, 0);
	wr(m, MMIO_DRV_FEATURES, (uint32_t)features);
}

/* No ConfigGeneration in version 1: config reads are not retried. */
static uint32_t mmio1_config_generation(struct vnet_transport *t)
{
	(void)t;
	return 0;
}

/*
 * Virtqueue configuration, legacy (spec 4.2.4): the queue must not be in
 * use (QueuePFN reads 0), then QueueNum, QueueAlign and the ring's page
 * frame number, the page size given first in GuestPageSize. The PFN must
 * read back: a device that drops it would never see the ring, and is
 * left with 0 (the queue off).
 */
static int mmio1_queue_setup(struct vnet_transport *t, uint16_t q, uint16_t size,
                             const struct vnet_vq_addrs *a)
{
	struct mmio_transport *m = to_mmio(t);
	uint32_t max, pfn;
	int rc;

	rc = vnet_legacy_ring_pfn(a, size, &pfn);
	if (rc) {
		vnet_log(VNET_LOG_ERR, "mmio: queue %u: not a legacy ring layout below 16 TiB (spec 2.7)", q);
		return rc;
	}
	wr(m, MMIO_QUEUE_SEL, q);
	if (rd(m, MMIO_QUEUE_PFN)) {
		vnet_log(VNET_LOG_ERR, "mmio: queue %u is already in use (reset first)", q);
		return -EBUSY;
	}
	max = rd(m, MMIO_QUEUE_NUM_MAX);
	if (size == 0 || size > max) {
		vnet_log(VNET_LOG_ERR, "mmio: queue %u: size %u, device allows %s%u", q, size,
		         max ? "1.." : "", max);
		return max ? -EINVAL : -ENOENT;
	}
	wr(m, MMIO_GUEST_PAGE, VRING_LEGACY_ALIGN);
	wr(m, MMIO_QUEUE_NUM, size);
	wr(m, MMIO_QUEUE_ALIGN, VRING_LEGACY_ALIGN);
	wr(m, MMIO_QUEUE_PFN, pfn);
	if (rd(m, MMIO_QUEUE_PFN) != pfn) {
		wr(m, MMIO_QUEUE_PFN, 0);
		vnet_log(VNET_LOG_ERR, "mmio: queue %u: QueuePFN 0x%x did not read back: the device cannot "
		         "reach the ring", q, pfn);
		return -EIO;
	}
	return 0;
}

static const struct vnet_transport_ops mmio1_ops = {
	.name = "mmio-legacy",
	.reset = mmio_reset,
	.get_status = mmio_get_status,
	.set_status = mmio_set_status,
	.get_features = mmio1_get_features,
	.set_features = mmio1_set_features,
	.config_generation = mmio1_config_generation,
	.read_config = mmio_read_config,
	.queue_max = mmio_queue_max,
	.queue_setup = mmio1_queue_setup,
	.notify = mmio_notify,
	.close = mmio_close,
	.legacy = true,
};

static bool is_mmio(const struct vnet_transport *t)
{
	return t && (t->ops == &mmio_ops || t->ops == &mmio1_ops);
}

uintptr_t vnet_mmio_base(const struct vnet_transport *t)
{
	return is_mmio(t) ? (uintptr_t)((const struct mmio_transport *)t)->regs : 0;
}

/* 4.2.2: InterruptStatus says why the device interrupted (bit 0 a used
 * buffer, bit 1 a configuration change); writing those bits to
 * InterruptACK lowers its line. A level-triggered line left up would
 * interrupt again at once after the controller's end of interrupt. */
uint32_t vnet_mmio_intr_ack(struct vnet_transport *t)
{
	struct mmio_transport *m;
	uint32_t why;

	if (!is_mmio(t))
		return 0;
	m = to_mmio(t);
	why = rd(m, MMIO_INT_STATUS);
	if (why)
		wr(m, MMIO_INT_ACK, why);
	return why;
}

/* ------------------------------------------------------------- probe -- */

enum probe_result { PROBE_NOTHING, PROBE_EMPTY, PROBE_OTHER, PROBE_NET };

/* What sits in a window (4.2.3.1.1: magic and version first; DeviceID 0
 * is an empty slot, and then nothing else may be touched). */
static enum probe_result probe(const volatile uint8_t *regs, uint32_t *version, uint32_t *id)
{
	*version = 0;
	*id = 0;
	if (vnet_read32(regs + MMIO_MAGIC) != MMIO_MAGIC_VALUE)
		return PROBE_NOTHING;
	*version = vnet_read32(regs + MMIO_VERSION);
	*id = vnet_read32(regs + MMIO_DEVICE_ID);
	if (*id == 0)
		return PROBE_EMPTY;
	return *id == VIRTIO_ID_NET ? PROBE_NET : PROBE_OTHER;
}

static int open_window(struct vnet_transport **t, uintptr_t base, uint64_t size)
{
	const volatile uint8_t *regs = (const volatile uint8_t *)base;
	struct mmio_transport *m;
	uint32_t version, id;

	*t = NULL;
	if (!base || (base & 3) || size < MMIO_CONFIG) {
		vnet_log(VNET_LOG_ERR, "mmio: bad window 0x%llx (%llu bytes)",
		         (unsigned long long)base, (unsigned long long)size);
		return -EINVAL;
	}
	switch (probe(regs, &version, &id)) {
	case PROBE_NOTHING:
		vnet_log(VNET_LOG_ERR, "mmio: no virtio-mmio magic at 0x%llx",
		         (unsigned long long)base);
		return -ENODEV;
	case PROBE_EMPTY:
		return -ENODEV; /* a placeholder slot is not an error (4.2.2.2) */
	case PROBE_OTHER:
		vnet_log(VNET_LOG_ERR, "mmio: 0x%llx holds virtio device type %u, not a network device",
		         (unsigned long long)base, id);
		return -ENODEV;
	case PROBE_NET:
		break;
	}
	if (version != 1 && version != 2) {
		vnet_log(VNET_LOG_ERR, "mmio: 0x%llx has unknown version %u", (unsigned long long)base,
		         version);
		return -ENOTSUP;
	}

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	/* 4.2.4: version 1 is the legacy interface */
	m->base.ops = version == 1 ? &mmio1_ops : &mmio_ops;
	m->regs = (volatile uint8_t *)base;
	if (version == 1)
		vnet_log(VNET_LOG_INFO, "mmio: virtio-net at 0x%llx: legacy interface (version 1)",
		         (unsigned long long)base);
	m->config_len = size - MMIO_CONFIG > UINT32_MAX ? UINT32_MAX : (uint32_t)(size - MMIO_CONFIG);
	*t = &m->base;
	return 0;
}

int vnet_mmio_open(struct vnet_transport **t, uintptr_t base)
{
	if (!t)
		return -EINVAL;
	return open_window(t, base, VNET_MMIO_WINDOW_SIZE);
}

/* ---------------------------------------------------------- cmdline -- */

static const char cmdline_key[] = "virtio_mmio.device=";

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The next `virtio_mmio.device=` token at or after *pos: its value is
 * [*val, *end). 0 when there are no more. Each step consumes a token. */
static int next_entry(const char **pos, const char **val, const char **end)
{
	const size_t klen = sizeof(cmdline_key) - 1;
	const char *s = *pos;

	while (*s) {
		const char *tok;

		while (is_space(*s))
			s++;
		tok = s;
		while (*s && !is_space(*s))
			s++;
		if ((size_t)(s - tok) >= klen && !memcmp(tok, cmdline_key, klen)) {
			*val = tok + klen;
			*end = s;
			*pos = s;
			return 1;
		}
	}
	*pos = s;
	return 0;
}

/* A decimal or 0x-hex number at *s (before @end). 0 or -EINVAL (no
 * digits, overflow). */
static int parse_num(const char **s, const char *end, uint64_t *out)
{
	const char *p = *s;
	unsigned base = 10, digits = 0;
	uint64_t v = 0;
	int d;

	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (; p < end && (d = vnet_hex_digit(*p)) >= 0 && (unsigned)d < base; p++, digits++) {
		if (v > (UINT64_MAX - (unsigned)d) / base)
			return -EINVAL;
		v = v * base + (unsigned)d;
	}
	if (!digits)
		return -EINVAL;
	*s = p;
	*out = v;
	return 0;
}

struct mmio_entry {
	uint64_t base, size;
	uint32_t irq;
};

/* <size>[K|M|G]@<base>:<irq>[:<id>] (Linux's virtio_mmio.device syntax). */
static int parse_entry(const char *s, const char *end, struct mmio_entry *e)
{
	uint64_t irq, id;
	unsigned shift = 0;

	if (parse_num(&s, end, &e->size))
		return -EINVAL;
	if (s < end && (*s == 'K' || *s == 'k'))
		shift = 10;
	else if (s < end && (*s == 'M' || *s == 'm'))
		shift = 20;
	else if (s < end && (*s == 'G' || *s == 'g'))
		shift = 30;
	if (shift) {
		if (e->size > (UINT64_MAX >> shift))
			return -EINVAL;
		e->size <<= shift;
		s++;
	}
	if (s == end || *s++ != '@' || parse_num(&s, end, &e->base))
		return -EINVAL;
	if (s == end || *s++ != ':' || parse_num(&s, end, &irq) || irq > UINT32_MAX)
		return -EINVAL;
	if (s < end && (*s++ != ':' || parse_num(&s, end, &id)))
		return -EINVAL;
	if (s != end)
		return -EINVAL;
	if (e->size < MMIO_CONFIG || !e->base || (e->base & 3) || e->base > UINTPTR_MAX ||
	    e->base > UINT64_MAX - e->size)
		return -EINVAL;
	e->irq = (uint32_t)irq;
	return 0;
}

int vnet_mmio_cmdline_entry(const char *cmdline, unsigned n, uint64_t *base, uint64_t *size,
                            uint32_t *irq)
{
	const char *pos = cmdline, *val, *end;
	struct mmio_entry e;

	if (!cmdline)
		return -ENOENT;
	while (next_entry(&pos, &val, &end)) {
		if (parse_entry(val, end, &e) || n--)
			continue;
		if (base)
			*base = e.base;
		if (size)
			*size = e.size;
		if (irq)
			*irq = e.irq;
		return 0;
	}
	return -ENOENT;
}

static int cmdline_lists(const char *cmdline, uintptr_t base)
{
	uint64_t b;
	unsigned i;

	for (i = 0; vnet_mmio_cmdline_entry(cmdline, i, &b, NULL, NULL) == 0; i++)
		if (b == base)
			return 1;
	return 0;
}

/* ------------------------------------------------------------- find -- */

/* 1: not the one (keep looking); otherwise open_window()'s result. */
static int consider(struct vnet_transport **t, uintptr_t base, uint64_t size, unsigned index,
                    unsigned *seen)
{
	uint32_t version, id;

	if (probe((const volatile uint8_t *)base, &version, &id) != PROBE_NET)
		return 1;
	if ((*seen)++ != index)
		return 1;
	return open_window(t, base, size);
}

int vnet_mmio_find_in(struct vnet_transport **t, const char *cmdline,
                      const struct vnet_mmio_range *range, unsigned index)
{
	const char *pos = cmdline, *val, *end;
	unsigned seen = 0, i;
	struct mmio_entry e;
	int r;

	if (!t)
		return -EINVAL;
	*t = NULL;
	if (range && range->count && range->stride < MMIO_CONFIG)
		return -EINVAL;
	while (cmdline && next_entry(&pos, &val, &end)) {
		if (parse_entry(val, end, &e)) {
			vnet_log(VNET_LOG_WARN, "mmio: ignoring malformed command-line entry '%s%.*s'",
			         cmdline_key, (int)(end - val), val);
			continue;
		}
		r = consider(t, (uintptr_t)e.base, e.size, index, &seen);
		if (r <= 0)
			return r;
	}
	/* Devices fill the range from the highest slot down (QEMU microvm). */
	for (i = range ? range->count : 0; i-- > 0;) {
		uintptr_t base = range->base + (uintptr_t)i * range->stride;

		if (cmdline && cmdline_lists(cmdline, base))
			continue;
		r = consider(t, base, range->stride, index, &seen);
		if (r <= 0)
			return r;
	}
	vnet_log(VNET_LOG_ERR, "mmio: no virtio-net device #%u (found %u)", index, seen);
	return -ENODEV;
}

int vnet_mmio_find(struct vnet_transport **t, const char *cmdline, unsigned index)
{
#if __STDC_HOSTED__
	return vnet_mmio_find_in(t, cmdline, NULL, index);
#else
	static const struct vnet_mmio_range microvm = VNET_MMIO_MICROVM_RANGE;

	return vnet_mmio_find_in(t, cmdline, &microvm, index);
#endif
}
