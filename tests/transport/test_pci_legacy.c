/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCI legacy interface (virtio spec 4.1.4.8) against a fake config space
 * and a fake legacy virtio-net device behind port I/O (fake_lg): which
 * interface is chosen, the register block, the legacy ring layout given
 * by page frame number, and a whole device open with frames both ways
 * through the rings as the device sees them. Hostile devices: queue sizes
 * of 0, not a power of two or too big, a PFN that does not read back, no
 * usable I/O BAR.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vnet/transports.h>
#include <vnet/vnet.h>

#include "base/platform.h"
#include "base/virtio_spec.h"
#include "fake_pci.h"
#include "logcap.h"
#include "lowdma.h"
#include "transport/transport.h"

#define IO_PORT   0xc040u
#define MSIX_ADDR 0xfebc0000u
#define MSIX_POS  0x98
#define CMD_IO_MEM_BM 0x0007
#define IO_WINDOW 0x3eff0000u  /* aarch64 virt's PCI I/O window */
#define WIN_SIZE  0x10000u
#define WIN_PORT  0x1000u      /* where vnet places an unassigned BAR0 */

/* ------------------------------------------------------------- rig -- */

struct lrig {
	struct fake_pci pci;
	struct fake_fn *net;
	struct fake_lg lg;
	struct vnet_pci_opts o;
	struct vnet_transport *t;
	uint8_t *msix;         /* the MSI-X BAR: plain memory here */
	unsigned io_stray;     /* port accesses outside BAR0 */
	unsigned maps, unmaps;
	struct trap_region win; /* PCI I/O space as memory (aarch64/riscv64 virt) */
};

static struct lrig rig;

/* The device sees MSI-X on when the function's message control says so
 * (its config then moves to 24, spec 4.1.4.8). */
static struct fake_lg *lg_at(struct lrig *r, uint64_t port, unsigned width)
{
	if (port < IO_PORT || port + width > IO_PORT + FLG_IO_SIZE) {
		r->io_stray++;
		return NULL;
	}
	r->lg.msix_on = (fake_fn_r16(r->net, MSIX_POS + 2) & 0x8000u) != 0;
	return &r->lg;
}

static uint32_t io_read(void *arg, uint64_t port, unsigned width)
{
	struct fake_lg *l = lg_at(arg, port, width);

	return l ? fake_lg_read(l, (uint32_t)(port - IO_PORT), width) : 0xffffffffu;
}

static void io_write(void *arg, uint64_t port, unsigned width, uint32_t v)
{
	struct fake_lg *l = lg_at(arg, port, width);

	if (l)
		fake_lg_write(l, (uint32_t)(port - IO_PORT), width, v);
}

static const struct vnet_pci_io_ops io_ops = { io_read, io_write };

static void *rig_map(void *arg, uint64_t phys, uint64_t len)
{
	struct lrig *r = arg;

	r->maps++;
	if (phys == IO_WINDOW && len == WIN_SIZE && r->win.mem)
		return r->win.mem;
	return phys == MSIX_ADDR && len == VDEV_MSIX_SIZE ? r->msix : NULL;
}

static void rig_unmap(void *arg, void *va, uint64_t len)
{
	struct lrig *r = arg;

	(void)va;
	(void)len;
	r->unmaps++;
}

/* The I/O window's trapped accesses: ports WIN_PORT.. are BAR0's once the
 * driver placed it there. */
static void win_hook(void *arg, uint8_t *mem, const struct trap_access *a, int after)
{
	struct lrig *r = arg;
	uint32_t v = 0;
	unsigned i;

	if (a->off < WIN_PORT || a->off + a->width > WIN_PORT + FLG_IO_SIZE || !a->width) {
		r->io_stray += after;
		return;
	}
	r->lg.msix_on = (fake_fn_r16(r->net, MSIX_POS + 2) & 0x8000u) != 0;
	if (!after && !a->write) {
		v = fake_lg_read(&r->lg, (uint32_t)(a->off - WIN_PORT), a->width);
		for (i = 0; i < a->width; i++)
			mem[a->off + i] = (uint8_t)(v >> (8 * i));
	} else if (after && a->write) {
		for (i = 0; i < a->width; i++)
			v |= (uint32_t)mem[a->off + i] << (8 * i);
		fake_lg_write(&r->lg, (uint32_t)(a->off - WIN_PORT), a->width, v);
	}
}

/* A legacy-only virtio-net-pci (disable-modern=on): I/O BAR0, the MSI-X
 * table in BAR1, no virtio capabilities; @did 0x1000. */
static void rig_setup(void)
{
	vnet_transport_close(rig.t);
	free(rig.msix);
	memset(&rig, 0, sizeof(rig));
	logcap_start();
	fake_pci_add(&rig.pci, 0, 0, 0, 0x8086, 0x29c0);
	rig.net = fake_pci_add(&rig.pci, 0, 2, 0, 0x1af4, 0x1000);
	fake_fn_w16(rig.net, 0x04, 0x0003); /* SeaBIOS: I/O and memory, no bus master */
	fake_fn_iobar(rig.net, 0, FLG_IO_SIZE, IO_PORT);
	fake_fn_bar(rig.net, 1, VDEV_MSIX_SIZE, 0, MSIX_ADDR);
	fake_fn_msix(rig.net, MSIX_POS, VDEV_MSIX_VECS, 1, VDEV_MSIX_TABLE, VDEV_MSIX_PBA);
	rig.net->cfg[0x3d] = 1; /* INTA# */
	fake_lg_init(&rig.lg);
	rig.msix = calloc(1, VDEV_MSIX_SIZE);
	ck_assert_ptr_nonnull(rig.msix);
	rig.o.cfg = &fake_pci_cfg_ops;
	rig.o.cfg_arg = &rig.pci;
	rig.o.map = rig_map;
	rig.o.unmap = rig_unmap;
	rig.o.map_arg = &rig;
	rig.o.io = &io_ops;
	rig.o.io_arg = &rig;
}

static void teardown(void)
{
	vnet_transport_close(rig.t);
	rig.t = NULL;
	if (rig.win.mem)
		trap_fini(&rig.win);
	rig.win.mem = NULL;
	free(rig.msix);
	rig.msix = NULL;
	ck_assert_uint_eq(rig.io_stray, 0);
	vnet_set_log(NULL, NULL, VNET_LOG_ERR);
}

static void open_ok(void)
{
	int rc = vnet_pci_open(&rig.t, &rig.o);

	ck_assert_msg(rc == 0, "vnet_pci_open: %d\n%s", rc, logcap_buf);
	ck_assert_ptr_nonnull(rig.t);
}

/* A refusal leaves no transport and the command register as it was. */
static void refused(int want, const char *log)
{
	int rc = vnet_pci_open(&rig.t, &rig.o);

	ck_assert_msg(rc == want, "rc %d, want %d\n%s", rc, want, logcap_buf);
	ck_assert_ptr_null(rig.t);
	ck_assert_msg(logcap_has(log), "want '%s' in:\n%s", log, logcap_buf);
	ck_assert_uint_eq(fake_fn_r16(rig.net, 0x04), 0x0003);
	ck_assert_uint_eq(rig.lg.accesses, 0);
}

/* The modern structures of a transitional device, in BAR4 (never mapped
 * here: the map refuses it, so a modern open fails). */
static void add_modern_caps(void)
{
	fake_fn_bar(rig.net, 4, VDEV_BAR_SIZE, 1, 0xfebfc000u);
	fake_fn_vcap(rig.net, 0x70, 2, 4, VDEV_NOTIFY, 0x1000, VDEV_NOTIFY_MULT);
	fake_fn_vcap(rig.net, 0x60, 4, 4, VDEV_DEVICE, 0x1000, 0);
	fake_fn_vcap(rig.net, 0x50, 3, 4, VDEV_ISR, 0x1000, 0);
	fake_fn_vcap(rig.net, 0x40, 1, 4, VDEV_COMMON, 0x1000, 0);
}

/* ------------------------------------------------------- choosing -- */

START_TEST(legacy_only_device_opens_legacy)
{
	open_ok();
	ck_assert_str_eq(rig.t->ops->name, "pci-legacy");
	ck_assert(rig.t->ops->legacy);
	ck_assert_int_eq(vnet_transport_legacy(rig.t), 1);
	ck_assert(logcap_has("legacy interface: I/O BAR0 at 0xc040 (64 ports)"));
	/* I/O space, memory and bus mastering on; nothing mapped without MSI-X */
	ck_assert_uint_eq(fake_fn_r16(rig.net, 0x04) & CMD_IO_MEM_BM, CMD_IO_MEM_BM);
	ck_assert_uint_eq(rig.maps, 0);
	ck_assert_int_eq(vnet_transport_legacy(NULL), -EINVAL);
}
END_TEST

/* Modern stays preferred: a transitional device with the virtio 1.0
 * structures is driven modern unless legacy is asked for. */
START_TEST(transitional_prefers_modern)
{
	add_modern_caps();
	/* BAR4 (the modern structures) cannot be mapped here: modern was tried */
	ck_assert_int_eq(vnet_pci_open(&rig.t, &rig.o), -ENOMEM);
	ck_assert(logcap_has("cannot map BAR4"));
	ck_assert_uint_eq(rig.lg.accesses, 0);
	rig.o.legacy = 1;
	open_ok();
	ck_assert_int_eq(vnet_transport_legacy(rig.t), 1);
	ck_assert_uint_eq(rig.t->ops->get_features(rig.t), rig.lg.host_features);
}
END_TEST

START_TEST(modern_only_asked_for_legacy_is_refused)
{
	fake_fn_w16(rig.net, 0x02, 0x1041);
	add_modern_caps();
	rig.o.legacy = 1;
	refused(-ENOTSUP, "has no legacy interface");
	ck_assert_uint_eq(rig.net->cmd_writes, 0);
}
END_TEST

START_TEST(legacy_without_port_io_is_refused)
{
	rig.o.io = NULL; /* a hosted build has no in/out of its own */
	refused(-ENOTSUP, "no port I/O");
	ck_assert(logcap_has("disable-legacy=on"));
}
END_TEST

START_TEST(legacy_bar0_unusable_is_refused)
{
	rig.net->bar_io[0] = 0;
	fake_fn_bar(rig.net, 0, 0x1000, 0, 0xfeb00000u); /* memory, not I/O */
	refused(-ENODEV, "without an I/O BAR0 of at least 26 ports");
	rig_setup();
	fake_fn_iobar(rig.net, 0, 0x10, IO_PORT); /* too small for the MAC */
	refused(-ENODEV, "without an I/O BAR0");
	rig_setup();
	rig.o.msi_addr = 0xfee00000u; /* with MSI-X the config starts at 24 */
	fake_fn_iobar(rig.net, 0, 0x10, IO_PORT);
	refused(-ENODEV, "at least 30 ports");
	rig_setup();
	fake_fn_iobar(rig.net, 0, FLG_IO_SIZE, 0); /* firmware left it */
	refused(-ENOSPC, "I/O BAR0 is unassigned");
}
END_TEST

/* aarch64/riscv64 virt: no port I/O, PCI I/O space as a memory window,
 * BAR0 left unassigned by the firmware: vnet places it in the window and
 * reaches the registers there. */
START_TEST(legacy_through_io_window)
{
	uint8_t mac[6];

	NEED_TRAPS();
	ck_assert_int_eq(trap_init(&rig.win, WIN_SIZE, win_hook, &rig), 0);
	trap_arm(&rig.win, WIN_PORT, TRAP_PAGE);
	fake_fn_iobar(rig.net, 0, FLG_IO_SIZE, 0);
	rig.o.io = NULL;
	rig.o.io_window = IO_WINDOW;
	rig.o.io_window_size = WIN_SIZE;
	open_ok();
	ck_assert_uint_eq(fake_fn_r32(rig.net, 0x10), WIN_PORT | 1);
	ck_assert(logcap_has("assigned I/O BAR0 at port 0x1000"));
	ck_assert_uint_eq(rig.t->ops->get_features(rig.t), rig.lg.host_features);
	rig.t->ops->read_config(rig.t, VIRTIO_NET_CFG_MAC, mac, 6);
	ck_assert_mem_eq(mac, ((const uint8_t[]){0x52, 0x54, 0x00, 0x12, 0x34, 0x58}), 6);
	rig.t->ops->notify(rig.t, 2);
	ck_assert_uint_eq(rig.lg.last_notify, 2);
	ck_assert_uint_eq(rig.lg.bad_width, 0);
	vnet_transport_close(rig.t);
	rig.t = NULL;
	ck_assert_uint_eq(rig.unmaps, 1); /* the window */
}
END_TEST

START_TEST(legacy_io_window_refusals)
{
	fake_fn_iobar(rig.net, 0, FLG_IO_SIZE, 0);
	rig.o.io = NULL;
	rig.o.io_window = IO_WINDOW;
	rig.o.io_window_size = 0x1000; /* no room above port 0x1000 */
	refused(-ENOSPC, "no room for I/O BAR0 (64 ports) in the 4096-port I/O window");
	rig_setup();
	fake_fn_iobar(rig.net, 0, FLG_IO_SIZE, 0);
	rig.o.io = NULL;
	rig.o.io_window = IO_WINDOW; /* rig.win not set up: the map fails */
	rig.o.io_window_size = WIN_SIZE;
	refused(-ENOMEM, "cannot map the I/O window at 0x3eff0000");
	rig_setup();
	fake_fn_iobar(rig.net, 0, FLG_IO_SIZE, 0x20000); /* assigned, past the window */
	rig.o.io = NULL;
	rig.o.io_window = IO_WINDOW;
	rig.o.io_window_size = WIN_SIZE;
	refused(-ENODEV, "lies outside the 65536-port I/O window");
}
END_TEST

/* ------------------------------------------------------ registers -- */

START_TEST(legacy_registers)
{
	struct vnet_transport *t;
	uint8_t mac[6];
	uint16_t st = 0;

	open_ok();
	t = rig.t;
	/* 32 feature bits each way, no select */
	ck_assert_uint_eq(t->ops->get_features(t), 0x39bf8024u);
	t->ops->set_features(t, 0xffffffff00000020ull);
	ck_assert_uint_eq(rig.lg.guest_features, 0x20);
	ck_assert_uint_eq(rig.lg.guest_feature_writes, 1);
	t->ops->set_status(t, 3);
	ck_assert_uint_eq(t->ops->get_status(t), 3);
	ck_assert_int_eq(t->ops->reset(t), 0);
	ck_assert_uint_eq(rig.lg.status, 0);
	ck_assert_uint_eq(rig.lg.resets, 1);
	ck_assert_uint_eq(t->ops->config_generation(t), 0);
	/* the device config at 20 without MSI-X, guest-endian */
	t->ops->read_config(t, VIRTIO_NET_CFG_MAC, mac, 6);
	ck_assert_mem_eq(mac, ((const uint8_t[]){0x52, 0x54, 0x00, 0x12, 0x34, 0x58}), 6);
	t->ops->read_config(t, VIRTIO_NET_CFG_STATUS, &st, 2);
	ck_assert_uint_eq(st, VIRTIO_NET_S_LINK_UP);
	/* beyond the BAR: zeros and an error, no access */
	rig.lg.accesses = 0;
	t->ops->read_config(t, FLG_IO_SIZE - 0x14 - 1, &st, 2);
	ck_assert_uint_eq(st, 0);
	ck_assert_uint_eq(rig.lg.accesses, 0);
	ck_assert(logcap_has("beyond the 44-byte legacy device config"));
	ck_assert_uint_eq(t->ops->queue_max(t, 2), 256);
	ck_assert_uint_eq(t->ops->queue_max(t, 3), 0);
	ck_assert_ptr_null(t->ops->queue_reset); /* RING_RESET is virtio 1.2 */
	t->ops->notify(t, 1);
	ck_assert_uint_eq(rig.lg.notifies, 1);
	ck_assert_uint_eq(rig.lg.last_notify, 1);
	ck_assert_uint_eq(rig.lg.bad_width, 0);
	ck_assert_uint_eq(rig.lg.ro_writes, 0);
}
END_TEST

/* The legacy layout of a 256-entry ring at @base. */
static struct vnet_vq_addrs layout(uint64_t base)
{
	struct vnet_vq_addrs a = {base, base + 16 * 256, base + 0x2000};

	return a;
}

START_TEST(legacy_queue_setup_gives_pfn)
{
	struct vnet_vq_addrs a = layout(0x12345000u);

	open_ok();
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 1, 256, &a), 0);
	ck_assert_uint_eq(rig.lg.q[1].pfn, 0x12345);
	ck_assert_uint_eq(rig.lg.q[1].vector, VDEV_NO_VECTOR); /* no MSI-X: untouched */
	ck_assert_uint_eq(rig.lg.q[0].pfn_writes + rig.lg.q[2].pfn_writes, 0);
	/* in use until a reset */
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 1, 256, &a), -EBUSY);
	ck_assert_int_eq(rig.t->ops->reset(rig.t), 0);
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 1, 256, &a), 0);
}
END_TEST

START_TEST(legacy_queue_setup_refusals)
{
	struct vnet_vq_addrs a = layout(0x12345000u), bad;

	open_ok();
	bad = a;
	bad.used = a.avail + 6 + 2 * 256; /* right behind avail: not 4096-aligned */
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 0, 256, &bad), -EINVAL);
	bad = a;
	bad.avail += 64; /* avail not right behind the table */
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 0, 256, &bad), -EINVAL);
	bad = layout(0x12345800u); /* not page-aligned */
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 0, 256, &bad), -EINVAL);
	bad = layout(1ull << 44); /* the PFN needs 33 bits */
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 0, 256, &bad), -EINVAL);
	ck_assert(logcap_has("not a legacy ring layout"));
	/* a size other than the device's (read-only in legacy) */
	bad = a;
	bad.used = a.desc + 0x1000; /* the layout of 128 */
	bad.avail = a.desc + 16 * 128;
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 0, 128, &bad), -EINVAL);
	ck_assert(logcap_has("a ring of 128 for a legacy queue of 256"));
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 3, 256, &a), -ENOENT);
	ck_assert_uint_eq(rig.lg.q[0].pfn_writes, 0);
	/* a PFN that does not read back: written back to 0, -EIO */
	rig.lg.pfn_stuck = 1;
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 0, 256, &a), -EIO);
	ck_assert(logcap_has("page frame 0x12345 did not read back"));
	ck_assert_uint_eq(rig.lg.q[0].pfn_writes, 2);
	ck_assert_uint_eq(rig.lg.q[0].pfn, 0);
}
END_TEST

/* With MSI-X on: the config moves to 24, each queue gets vector 0. */
START_TEST(legacy_msix_moves_config)
{
	struct vnet_vq_addrs a = layout(0x12345000u);
	uint8_t mac[6];

	rig.o.msi_addr = 0xfee00000u;
	rig.o.msi_data = 0x41;
	open_ok();
	ck_assert_uint_eq(fake_fn_r16(rig.net, MSIX_POS + 2) & 0x8000u, 0x8000u);
	ck_assert_uint_eq(*(uint32_t *)(void *)(rig.msix + 8), 0x41);
	rig.t->ops->read_config(rig.t, VIRTIO_NET_CFG_MAC, mac, 6);
	ck_assert_mem_eq(mac, ((const uint8_t[]){0x52, 0x54, 0x00, 0x12, 0x34, 0x58}), 6);
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 0, 256, &a), 0);
	ck_assert_uint_eq(rig.lg.q[0].vector, 0);
	ck_assert_int_eq(vnet_pci_intx(rig.t, &(uint32_t){0}, &(uint8_t){0}), -ENOENT);
}
END_TEST

START_TEST(legacy_intx_and_isr)
{
	uint32_t bdf;
	uint8_t pin;

	open_ok();
	ck_assert_int_eq(vnet_pci_intx(rig.t, &bdf, &pin), 0);
	ck_assert_uint_eq(bdf, 2u << 3);
	ck_assert_uint_eq(pin, 1);
	rig.lg.isr = 1;
	ck_assert_uint_eq(vnet_pci_intr_ack(rig.t), 1);
	ck_assert_uint_eq(vnet_pci_intr_ack(rig.t), 0); /* reading cleared it */
	ck_assert_uint_eq(rig.lg.isr_reads, 2);
}
END_TEST

/* ------------------------------------------------------ the device -- */

struct lring {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

/* Where a legacy device finds queue @q's parts: from its PFN alone,
 * written out from the spec's formula (2.7, legacy note). */
static struct lring ring_of(unsigned q)
{
	uint8_t *base = (uint8_t *)(uintptr_t)((uint64_t)rig.lg.q[q].pfn << 12);
	size_t n = rig.lg.q[q].size, used = (16 * n + 2 * (3 + n) + 4095) & ~(size_t)4095;
	struct lring r = {(void *)base, (void *)(base + 16 * n), (void *)(base + used)};

	return r;
}

static void dev_open(struct vnet_dev **d, struct vnet_pool **pool, int want)
{
	struct vnet_pool_conf pc = {.count = 1024};
	struct vnet_dev_conf dc = {.features = VNET_F_DEFAULT | VNET_F_MRG_RXBUF};

	vnet_dma_set_allocator(&lowdma);
	ck_assert_int_eq(vnet_pool_create(pool, &pc), 0);
	dc.pool = *pool;
	open_ok();
	ck_assert_int_eq(vnet_dev_open(d, rig.t, &dc), want);
}

static void dev_close(struct vnet_dev *d, struct vnet_pool *pool)
{
	vnet_dev_close(d);
	ck_assert_uint_eq(vnet_pool_in_use(pool), 0);
	ck_assert_int_eq(vnet_pool_destroy(pool), 0);
	vnet_dma_set_allocator(NULL);
}

/* The whole bring-up over legacy: no FEATURES_OK, 32 feature bits, the
 * 12-byte header with MRG_RXBUF; then the test plays the device on the
 * rings it finds from the PFNs: a frame received, a frame sent. */
START_TEST(legacy_device_open_and_frames)
{
	static const uint8_t pay[60] = {0x02, 0, 0, 0, 0, 1, 0x52, 0x54, 0, 0x12, 0x34, 0x58, 0x08, 0x00, 0x45};
	struct vnet_buf *in[4], *b;
	struct vnet_pool *pool;
	struct vnet_dev *d;
	struct lring rx, tx;
	uint16_t id;
	uint8_t *buf;

	dev_open(&d, &pool, 0);
	ck_assert_uint_eq(rig.lg.features_ok_writes, 0);
	ck_assert_uint_eq(rig.lg.status, 0x07); /* ACKNOWLEDGE | DRIVER | DRIVER_OK */
	ck_assert_uint_eq(rig.lg.guest_features & ~rig.lg.host_features, 0);
	ck_assert(rig.lg.guest_features & VNET_F_MRG_RXBUF);
	ck_assert_uint_eq(vnet_dev_hdr_len(d), 12);
	rx = ring_of(0);
	tx = ring_of(1);
	ck_assert_uint_eq(vnet_load16(&rx.avail->idx), 256); /* RX full, where the device reads */
	/* a frame into the first RX buffer, its used entry at the 4096-aligned offset */
	id = rx.avail->ring[0];
	ck_assert_uint_ge(rx.desc[id].len, 12 + sizeof(pay));
	buf = (uint8_t *)(uintptr_t)rx.desc[id].addr;
	memset(buf, 0, 12);
	buf[10] = 1; /* num_buffers */
	memcpy(buf + 12, pay, sizeof(pay));
	rx.used->ring[0].id = id;
	rx.used->ring[0].len = 12 + sizeof(pay);
	vnet_store16(&rx.used->idx, 1);
	ck_assert_uint_eq(vnet_rx_burst(d, 0, in, 4), 1);
	ck_assert_uint_eq(in[0]->len, sizeof(pay));
	ck_assert_mem_eq(in[0]->data, pay, sizeof(pay));
	vnet_buf_free(in[0]);
	/* a frame out: one descriptor, the 12-byte header in front */
	b = vnet_buf_alloc(pool);
	ck_assert_ptr_nonnull(b);
	memcpy(b->data, pay, sizeof(pay));
	b->len = sizeof(pay);
	ck_assert_uint_eq(vnet_tx_burst(d, 0, &b, 1), 1);
	ck_assert_uint_eq(vnet_load16(&tx.avail->idx), 1);
	id = tx.avail->ring[0];
	ck_assert_uint_eq(tx.desc[id].len, 12 + sizeof(pay));
	ck_assert_mem_eq((uint8_t *)(uintptr_t)tx.desc[id].addr + 12, pay, sizeof(pay));
	ck_assert_uint_ge(rig.lg.notifies, 1);
	ck_assert_uint_eq(rig.lg.last_notify, 1);
	ck_assert_uint_eq(rig.lg.bad_width, 0);
	dev_close(d, pool);
}
END_TEST

/* Without MRG_RXBUF the legacy header is 10 bytes (5.1.6.1). */
START_TEST(legacy_device_10_byte_header)
{
	struct vnet_pool *pool;
	struct vnet_dev *d;
	struct lring rx;

	rig.lg.host_features &= ~(uint32_t)VNET_F_MRG_RXBUF;
	dev_open(&d, &pool, 0);
	ck_assert_uint_eq(vnet_dev_hdr_len(d), 10);
	rx = ring_of(0);
	/* each RX descriptor offers the header and the data room */
	ck_assert_uint_eq(rx.desc[0].len, vnet_pool_data_room(pool) + 10);
	dev_close(d, pool);
}
END_TEST

/* A legacy device's queue size is the ring's: 0 (no queue), not a power
 * of two, or past 32768 are clear errors; the device is failed and reset,
 * nothing is left allocated (the pool is whole). */
START_TEST(legacy_hostile_queue_sizes)
{
	static const struct { uint16_t size; int rc; const char *log; } cases[] = {
		{0, -ENODEV, "no receiveq1/transmitq1"},
		{200, -EIO, "queue sizes rx 200 tx 256: not powers of two"},
		{65535, -EIO, "queue sizes rx 65535 tx 256: not powers of two"},
	};
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vnet_pool *pool;
		struct vnet_dev *d = NULL;

		rig_setup();
		rig.lg.q[0].size = cases[i].size;
		dev_open(&d, &pool, cases[i].rc);
		ck_assert_ptr_null(d);
		ck_assert_msg(logcap_has(cases[i].log), "want '%s' in:\n%s", cases[i].log, logcap_buf);
		ck_assert_uint_eq(rig.lg.status, 0); /* FAILED, then reset */
		ck_assert_uint_ge(rig.lg.resets, 2);
		ck_assert_uint_eq(rig.lg.q[1].pfn_writes, 0);
		dev_close(NULL, pool);
	}
}
END_TEST

/* A device without VIRTIO_NET_F_MAC: opened, with a warning that the
 * application must choose the address; no MAC made up. */
START_TEST(legacy_device_without_mac)
{
	struct vnet_net_config c;
	struct vnet_pool *pool;
	struct vnet_dev *d;

	rig.lg.host_features &= ~(uint32_t)VNET_F_MAC;
	dev_open(&d, &pool, 0);
	ck_assert(logcap_has("offers no MAC address"));
	ck_assert_int_eq(vnet_dev_config(d, &c), 0);
	ck_assert_uint_eq(c.features & VNET_F_MAC, 0);
	ck_assert_mem_eq(c.mac, "\0\0\0\0\0\0", 6);
	dev_close(d, pool);
}
END_TEST

/* A PFN that does not read back fails the open whole. */
START_TEST(legacy_pfn_not_taken_fails_open)
{
	struct vnet_pool *pool;
	struct vnet_dev *d = NULL;

	rig.lg.pfn_stuck = 1;
	dev_open(&d, &pool, -EIO);
	ck_assert_ptr_null(d);
	ck_assert(logcap_has("did not read back"));
	ck_assert_uint_eq(rig.lg.status, 0);
	dev_close(NULL, pool);
}
END_TEST

static Suite *pci_legacy_suite(void)
{
	Suite *s = suite_create("transport_pci_legacy");
	TCase *c = tcase_create("choosing"), *r = tcase_create("registers"), *d = tcase_create("device");

	tcase_add_checked_fixture(c, rig_setup, teardown);
	tcase_add_test(c, legacy_only_device_opens_legacy);
	tcase_add_test(c, transitional_prefers_modern);
	tcase_add_test(c, modern_only_asked_for_legacy_is_refused);
	tcase_add_test(c, legacy_without_port_io_is_refused);
	tcase_add_test(c, legacy_bar0_unusable_is_refused);
	tcase_add_test(c, legacy_through_io_window);
	tcase_add_test(c, legacy_io_window_refusals);
	suite_add_tcase(s, c);
	tcase_add_checked_fixture(r, rig_setup, teardown);
	tcase_add_test(r, legacy_registers);
	tcase_add_test(r, legacy_queue_setup_gives_pfn);
	tcase_add_test(r, legacy_queue_setup_refusals);
	tcase_add_test(r, legacy_msix_moves_config);
	tcase_add_test(r, legacy_intx_and_isr);
	suite_add_tcase(s, r);
	tcase_add_checked_fixture(d, rig_setup, teardown);
	tcase_set_timeout(d, 30);
	tcase_add_test(d, legacy_device_open_and_frames);
	tcase_add_test(d, legacy_device_10_byte_header);
	tcase_add_test(d, legacy_hostile_queue_sizes);
	tcase_add_test(d, legacy_pfn_not_taken_fails_open);
	tcase_add_test(d, legacy_device_without_mac);
	suite_add_tcase(s, d);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pci_legacy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
