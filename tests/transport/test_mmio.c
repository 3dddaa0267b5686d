/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MMIO transport (virtio spec 4.2), version 2 and the legacy version 1
 * (4.2.4): probing, command-line and fixed range discovery, and the
 * transport methods against a fake window.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vnet/transports.h>
#include <vnet/vnet.h>

#include "fake_mmio.h"
#include "logcap.h"
#include "lowdma.h"
#include "transport/transport.h"

static struct fake_mmio fm;
static struct vnet_transport *t;

static void setup(void)
{
	logcap_start();
	ck_assert_int_eq(fake_mmio_init(&fm, 2, 1), 0);
	t = NULL;
}

static void teardown(void)
{
	vnet_transport_close(t);
	t = NULL;
	fake_mmio_fini(&fm);
	vnet_set_log(NULL, NULL, VNET_LOG_ERR);
}

static void close_t(void)
{
	vnet_transport_close(t);
	t = NULL;
}

static void open_ok(void)
{
	int rc = vnet_mmio_open(&t, (uintptr_t)fm.win.mem);

	ck_assert_msg(rc == 0, "vnet_mmio_open: %d\n%s", rc, logcap_buf);
	ck_assert_str_eq(t->ops->name, "mmio");
}

/* ---------------------------------------------------------- probing -- */

START_TEST(opens_version2_net)
{
	open_ok();
	ck_assert_uint_eq(logcap_errors, 0);
}
END_TEST

/* Version 1 is the legacy interface (4.2.4), driven as such; other
 * versions are refused. */
START_TEST(opens_version1_as_legacy)
{
	fm.version = 1;
	fake_mmio_sync(&fm);
	ck_assert_int_eq(vnet_mmio_open(&t, (uintptr_t)fm.win.mem), 0);
	ck_assert_str_eq(t->ops->name, "mmio-legacy");
	ck_assert_int_eq(vnet_transport_legacy(t), 1);
	ck_assert_uint_eq(vnet_mmio_base(t), (uintptr_t)fm.win.mem);
	ck_assert(logcap_has("legacy interface (version 1)"));
	close_t();
	fm.version = 2;
	fake_mmio_sync(&fm);
	open_ok();
	ck_assert_int_eq(vnet_transport_legacy(t), 0);
	close_t();
	fm.version = 3;
	fake_mmio_sync(&fm);
	ck_assert_int_eq(vnet_mmio_open(&t, (uintptr_t)fm.win.mem), -ENOTSUP);
	ck_assert(logcap_has("unknown version 3"));
}
END_TEST

START_TEST(bad_magic_is_not_a_device)
{
	NEED_TRAPS();
	fm.magic = 0x12345678;
	ck_assert_int_eq(vnet_mmio_open(&t, (uintptr_t)fm.win.mem), -ENODEV);
	ck_assert(logcap_has("no virtio-mmio magic"));
	ck_assert_uint_eq(fm.after_empty_id, 0); /* stopped at MagicValue */
}
END_TEST

START_TEST(empty_slot_is_silent_and_untouched)
{
	NEED_TRAPS();
	fm.devid = 0;
	ck_assert_int_eq(vnet_mmio_open(&t, (uintptr_t)fm.win.mem), -ENODEV);
	ck_assert_uint_eq(logcap_lines, 0);      /* 4.2.2.2: no error for DeviceID 0 */
	ck_assert_uint_eq(fm.after_empty_id, 0); /* ...and no other register touched */
	ck_assert_uint_eq(fm.accesses, 3);
}
END_TEST

START_TEST(other_device_types_are_refused)
{
	fm.devid = 2; /* block */
	fake_mmio_sync(&fm);
	ck_assert_int_eq(vnet_mmio_open(&t, (uintptr_t)fm.win.mem), -ENODEV);
	ck_assert(logcap_has("virtio device type 2, not a network device"));
	ck_assert_int_eq(vnet_mmio_open(&t, 0), -EINVAL);
	ck_assert_int_eq(vnet_mmio_open(&t, (uintptr_t)fm.win.mem + 2), -EINVAL);
	ck_assert_int_eq(vnet_mmio_open(NULL, (uintptr_t)fm.win.mem), -EINVAL);
}
END_TEST

/* ------------------------------------------------------ transport ops -- */

START_TEST(features_go_through_select_registers)
{
	NEED_TRAPS();
	open_ok();
	ck_assert_uint_eq(t->ops->get_features(t), 0x0000010130bf8024ull);
	fm.dev_features = 0x8000000100000001ull;
	ck_assert_uint_eq(t->ops->get_features(t), 0x8000000100000001ull);
	t->ops->set_features(t, 0x0000000300010020ull);
	ck_assert_uint_eq(fm.drv_features, 0x0000000300010020ull);
	ck_assert_uint_eq(fm.bad_width, 0);
	ck_assert_uint_eq(fm.wo_reads, 0);
	ck_assert_uint_eq(fm.ro_writes, 0);
}
END_TEST

START_TEST(status_generation_reset)
{
	NEED_TRAPS();
	open_ok();
	t->ops->set_status(t, VIRTIO_STATUS_ACKNOWLEDGE);
	ck_assert_uint_eq(fm.status, 1);
	ck_assert_uint_eq(t->ops->get_status(t), 1);
	fm.generation = 0x1234;
	ck_assert_uint_eq(t->ops->config_generation(t), 0x1234);
	ck_assert_int_eq(t->ops->reset(t), 0);
	ck_assert_uint_eq(fm.resets, 1);
	ck_assert_uint_eq(fm.status, 0);
	ck_assert_uint_eq(fm.bad_width, 0);
	ck_assert_uint_eq(fm.wo_reads, 0);
}
END_TEST

START_TEST(reset_times_out_on_stuck_device)
{
	struct timespec a, b;
	double s;

	NEED_TRAPS();
	open_ok();
	fm.reset_stuck = 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	ck_assert_int_eq(t->ops->reset(t), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	ck_assert_msg(s >= 0.9 && s < 5.0, "reset took %.3f s", s);
	ck_assert_uint_lt(fm.status_reads, 200);
	ck_assert(logcap_has("mmio: device reset did not complete"));
}
END_TEST

START_TEST(queue_setup_and_notify)
{
	struct vnet_vq_addrs a = {
		.desc = 0x0000123456789000ull, .avail = 0x00000abc00001002ull,
		.used = 0x00000001fffff004ull,
	};

	NEED_TRAPS();
	open_ok();
	fm.q[1].max = 1024;
	ck_assert_uint_eq(t->ops->queue_max(t, 0), 256);
	ck_assert_uint_eq(t->ops->queue_max(t, 1), 1024);
	ck_assert_uint_eq(t->ops->queue_max(t, 5), 0); /* QueueNumMax 0: no such queue */
	ck_assert_int_eq(t->ops->queue_setup(t, 1, 512, &a), 0);
	ck_assert_uint_eq(fm.q[1].num, 512);
	ck_assert_uint_eq(fm.q[1].desc[0], 0x56789000u);
	ck_assert_uint_eq(fm.q[1].desc[1], 0x00001234u);
	ck_assert_uint_eq(fm.q[1].driver[0], 0x00001002u);
	ck_assert_uint_eq(fm.q[1].driver[1], 0x00000abcu);
	ck_assert_uint_eq(fm.q[1].device[0], 0xfffff004u);
	ck_assert_uint_eq(fm.q[1].device[1], 0x00000001u);
	ck_assert_uint_eq(fm.q[1].ready, 1);
	ck_assert_uint_eq(fm.ready_early, 0);
	t->ops->notify(t, 1);
	ck_assert_uint_eq(fm.notifies, 1);
	ck_assert_uint_eq(fm.last_notify, 1);

	ck_assert_int_eq(t->ops->queue_setup(t, 1, 512, &a), -EBUSY);
	ck_assert_int_eq(t->ops->queue_setup(t, 0, 512, &a), -EINVAL); /* > max */
	ck_assert_int_eq(t->ops->queue_setup(t, 0, 0, &a), -EINVAL);
	ck_assert_int_eq(t->ops->queue_setup(t, 5, 64, &a), -ENOENT);
	a.used |= 2;
	ck_assert_int_eq(t->ops->queue_setup(t, 0, 64, &a), -EINVAL);
	ck_assert_uint_eq(fm.q[0].ready, 0);
	ck_assert_uint_eq(fm.bad_width, 0);
	ck_assert_uint_eq(fm.wo_reads, 0);
	ck_assert_uint_eq(fm.ro_writes, 0);
}
END_TEST

/* VIRTIO_F_RING_RESET (spec 4.2.2): QueueReset resets the selected queue
 * alone, which QueueReady then shows; a device that never finishes, or
 * that has no such register (QEMU 7.2 offers the feature over MMIO
 * without it), is reported, never taken as reset. */
START_TEST(queue_reset_one_queue)
{
	struct vnet_vq_addrs a = {.desc = 0x10000, .avail = 0x11000, .used = 0x12000};

	NEED_TRAPS();
	open_ok();
	ck_assert_ptr_nonnull(t->ops->queue_reset);
	ck_assert_int_eq(t->ops->queue_setup(t, 0, 64, &a), 0);
	ck_assert_int_eq(t->ops->queue_setup(t, 1, 64, &a), 0);
	ck_assert_int_eq(t->ops->queue_reset(t, 1), 0);
	ck_assert_uint_eq(fm.qresets, 1);
	ck_assert_uint_eq(fm.q[1].ready, 0);
	ck_assert_uint_eq(fm.q[0].ready, 1);
	ck_assert_int_eq(t->ops->queue_setup(t, 1, 64, &a), 0); /* enabled again */
	ck_assert_uint_eq(fm.q[1].ready, 1);
	fm.qreset_mode = 2;
	ck_assert_int_eq(t->ops->queue_reset(t, 1), -EIO);
	ck_assert_uint_eq(fm.q[1].ready, 1);
	fm.qreset_mode = 1;
	ck_assert_int_eq(t->ops->queue_reset(t, 0), -ETIMEDOUT);
	ck_assert_uint_eq(fm.bad_width, 0);
	ck_assert_uint_eq(fm.wo_reads, 0);
	ck_assert_uint_eq(fm.ro_writes, 0);
}
END_TEST

START_TEST(read_config_widths_and_bounds)
{
	uint8_t mac[6];
	uint16_t mtu;
	uint32_t w = 0xffffffffu;

	NEED_TRAPS();
	open_ok();
	t->ops->read_config(t, 0, mac, 6);
	ck_assert_mem_eq(mac, "\x52\x54\x00\x12\x34\x57", 6);
	ck_assert_uint_eq(fm.ncfg, 6);
	ck_assert_uint_eq(fm.cfg_log[5].width, 1);
	t->ops->read_config(t, 10, &mtu, 2);
	ck_assert_uint_eq(mtu, 1500);
	ck_assert_uint_eq(fm.cfg_log[6].width, 2);
	ck_assert_uint_eq(fm.cfg_log[6].off, 10);
	t->ops->read_config(t, 0xfe, &w, 4); /* window is 0x200: config ends at 0x100 */
	ck_assert_uint_eq(w, 0);
	ck_assert_uint_eq(fm.ncfg, 7);
	ck_assert(logcap_has("beyond the 256-byte config"));
	ck_assert_uint_eq(fm.bad_width, 0);
}
END_TEST

/* ---------------------------------------------------- legacy (v1) -- */

static void open_legacy(void)
{
	fm.version = 1;
	fake_mmio_sync(&fm);
	ck_assert_int_eq(vnet_mmio_open(&t, (uintptr_t)fm.win.mem), 0);
	ck_assert(t->ops->legacy);
}

/* 4.2.4: 32 feature bits through bank 0 of the select registers;
 * no ConfigGeneration (not even read); no QueueReset. */
START_TEST(legacy_features_32_bits)
{
	unsigned i;

	NEED_TRAPS();
	open_legacy();
	fm.nreg = 0;
	ck_assert_uint_eq(t->ops->get_features(t), 0x30bf8024u);
	t->ops->set_features(t, 0xffffffff00010020ull);
	ck_assert_uint_eq(fm.drv_features, 0x00010020u);
	for (i = 0; i < fm.nreg; i++)
		if (fm.reg_log[i].off == 0x014 || fm.reg_log[i].off == 0x024)
			ck_assert_uint_eq(fm.reg_log[i].val, 0); /* bank 0 only */
	ck_assert_uint_eq(t->ops->config_generation(t), 0);
	ck_assert_uint_eq(fm.nreg, 4);
	ck_assert_ptr_null(t->ops->queue_reset);
	ck_assert_uint_eq(fm.bad_width + fm.wo_reads + fm.ro_writes, 0);
}
END_TEST

/* 4.2.4 virtqueue configuration: GuestPageSize, QueueNum, QueueAlign
 * 4096, then the PFN of the legacy layout (used at the 4096-aligned
 * offset), which must read back. */
START_TEST(legacy_queue_setup_pfn)
{
	struct vnet_vq_addrs a = {0x12345000u, 0x12345000u + 16 * 256, 0x12345000u + 0x2000}, bad;

	NEED_TRAPS();
	open_legacy();
	ck_assert_int_eq(t->ops->queue_setup(t, 1, 256, &a), 0);
	ck_assert_uint_eq(fm.page_size, 4096);
	ck_assert_uint_eq(fm.q[1].num, 256);
	ck_assert_uint_eq(fm.q[1].align, 4096);
	ck_assert_uint_eq(fm.q[1].pfn, 0x12345);
	ck_assert_uint_eq(fm.q[1].ready, 0); /* no QueueReady in version 1 */
	ck_assert_int_eq(t->ops->queue_setup(t, 1, 256, &a), -EBUSY); /* in use */
	bad = a;
	bad.used = a.avail + 6 + 2 * 256; /* not 4096-aligned */
	ck_assert_int_eq(t->ops->queue_setup(t, 0, 256, &bad), -EINVAL);
	bad = a;
	bad.desc += 0x800;
	ck_assert_int_eq(t->ops->queue_setup(t, 0, 256, &bad), -EINVAL);
	ck_assert(logcap_has("not a legacy ring layout"));
	ck_assert_int_eq(t->ops->queue_setup(t, 0, 512, &a), -EINVAL); /* not the layout of 512 */
	ck_assert_uint_eq(fm.q[0].pfn_writes, 0);
	fm.q[0].max = 128;
	ck_assert_int_eq(t->ops->queue_setup(t, 0, 256, &a), -EINVAL); /* > QueueNumMax */
	fm.q[0].max = 256;
	fm.pfn_stuck = 1;
	ck_assert_int_eq(t->ops->queue_setup(t, 0, 256, &a), -EIO);
	ck_assert(logcap_has("QueuePFN 0x12345 did not read back"));
	ck_assert_uint_eq(fm.q[0].pfn_writes, 2); /* the PFN, then 0 */
	t->ops->notify(t, 1);
	ck_assert_uint_eq(fm.last_notify, 1);
	ck_assert_uint_eq(fm.bad_width + fm.wo_reads + fm.ro_writes, 0);
}
END_TEST

/* A whole open over version 1: no FEATURES_OK written, no feature bank
 * 1, each queue's PFN set with the ring where the device looks. */
START_TEST(legacy_device_open)
{
	struct vnet_pool_conf pc = {.count = 1024};
	struct vnet_dev_conf dc = {.features = VNET_F_DEFAULT};
	struct vnet_pool *pool;
	struct vnet_dev *d;
	unsigned i, status_writes = 0;
	uint8_t *rx;

	NEED_TRAPS();
	open_legacy();
	vnet_dma_set_allocator(&lowdma);
	ck_assert_int_eq(vnet_pool_create(&pool, &pc), 0);
	dc.pool = pool;
	fm.nreg = 0;
	ck_assert_int_eq(vnet_dev_open(&d, t, &dc), 0);
	for (i = 0; i < fm.nreg && i < FMMIO_MAX_LOG; i++) {
		if (fm.reg_log[i].off == 0x070 && fm.reg_log[i].write) {
			status_writes++;
			ck_assert_uint_eq(fm.reg_log[i].val & 0x08, 0); /* no FEATURES_OK */
		}
	}
	ck_assert_uint_ge(status_writes, 1);
	ck_assert_uint_eq(fm.status, 0x07);
	ck_assert_uint_eq(vnet_dev_hdr_len(d), 10); /* no MRG_RXBUF asked */
	ck_assert_uint_eq(fm.q[0].num, 256);
	ck_assert_uint_ne(fm.q[0].pfn, 0);
	ck_assert_uint_ne(fm.q[1].pfn, 0);
	/* RX full where a legacy device reads its avail index */
	rx = (uint8_t *)(uintptr_t)((uint64_t)fm.q[0].pfn << 12);
	ck_assert_uint_eq(*(volatile uint16_t *)(rx + 16 * 256 + 2), 256);
	vnet_dev_close(d);
	ck_assert_uint_eq(vnet_pool_in_use(pool), 0);
	ck_assert_int_eq(vnet_pool_destroy(pool), 0);
	vnet_dma_set_allocator(NULL);
}
END_TEST

START_TEST(legacy_intr_ack)
{
	NEED_TRAPS();
	open_legacy();
	fm.int_status = 1;
	ck_assert_uint_eq(vnet_mmio_intr_ack(t), 1);
	ck_assert_uint_eq(fm.int_status, 0);
}
END_TEST

/* ------------------------------------------------------- interrupts -- */

/* 4.2.2: the ack reads InterruptStatus once, then writes exactly those
 * bits to InterruptACK (which lowers the line), nothing else, and
 * returns them. */
START_TEST(intr_ack_writes_back_what_it_read)
{
	static const uint32_t why[] = {1, 2, 3};
	unsigned i;

	NEED_TRAPS();
	open_ok();
	for (i = 0; i < sizeof(why) / sizeof(why[0]); i++) {
		fm.int_status = why[i];
		fm.nreg = 0;
		ck_assert_uint_eq(vnet_mmio_intr_ack(t), why[i]);
		ck_assert_uint_eq(fm.nreg, 2);
		ck_assert_uint_eq(fm.reg_log[0].off, 0x060);
		ck_assert_int_eq(fm.reg_log[0].write, 0);
		ck_assert_uint_eq(fm.reg_log[0].val, why[i]);
		ck_assert_uint_eq(fm.reg_log[1].off, 0x064);
		ck_assert_int_eq(fm.reg_log[1].write, 1);
		ck_assert_uint_eq(fm.reg_log[1].val, why[i]);
		ck_assert_uint_eq(fm.int_status, 0); /* line lowered */
	}
	ck_assert_uint_eq(fm.bad_width, 0);
	ck_assert_uint_eq(fm.wo_reads, 0);
	ck_assert_uint_eq(fm.ro_writes, 0);
}
END_TEST

/* A bit the device raises between the read and the write is not written
 * back: it stays pending (the line stays up, so the controller
 * interrupts again) and the next ack takes it. */
START_TEST(intr_ack_leaves_bits_it_did_not_read)
{
	NEED_TRAPS();
	open_ok();
	fm.int_status = 1;
	fm.raise_after_read = 2;
	fm.nreg = 0;
	ck_assert_uint_eq(vnet_mmio_intr_ack(t), 1);
	ck_assert_uint_eq(fm.reg_log[1].off, 0x064);
	ck_assert_uint_eq(fm.reg_log[1].val, 1);
	ck_assert_uint_eq(fm.int_status, 2);
	ck_assert_uint_eq(vnet_mmio_intr_ack(t), 2);
	ck_assert_uint_eq(fm.int_status, 0);
}
END_TEST

/* Nothing pending (a shared line, or a spurious interrupt): one read,
 * no write, 0. */
START_TEST(intr_ack_with_nothing_pending)
{
	NEED_TRAPS();
	open_ok();
	fm.nreg = 0;
	ck_assert_uint_eq(vnet_mmio_intr_ack(t), 0);
	ck_assert_uint_eq(fm.nreg, 1);
	ck_assert_uint_eq(fm.reg_log[0].off, 0x060);
	ck_assert_int_eq(fm.reg_log[0].write, 0);
	ck_assert_uint_eq(fm.int_status, 0);
	ck_assert_uint_eq(fm.status & 0x40, 0); /* the device is not failed */
}
END_TEST

START_TEST(base_is_the_window)
{
	open_ok();
	ck_assert_uint_eq(vnet_mmio_base(t), (uintptr_t)fm.win.mem);
	ck_assert_uint_eq(vnet_mmio_base(NULL), 0);
	ck_assert_uint_eq(vnet_mmio_intr_ack(NULL), 0);
}
END_TEST

/* ---------------------------------------------------------- cmdline -- */

START_TEST(cmdline_entries_parse)
{
	const char *cl = "console=ttyS0 virtio_mmio.device=512@0xfeb00e00:12 "
	                 "virtio_mmio.device=4K@0xFEB00C00:11:3\tvirtio_mmio.device=1M@268435456:5\n"
	                 "virtio_mmio.device=2g@0x100000000:40";
	uint64_t base, size;
	uint32_t irq;

	ck_assert_int_eq(vnet_mmio_cmdline_entry(cl, 0, &base, &size, &irq), 0);
	ck_assert_uint_eq(base, 0xfeb00e00u);
	ck_assert_uint_eq(size, 512);
	ck_assert_uint_eq(irq, 12);
	ck_assert_int_eq(vnet_mmio_cmdline_entry(cl, 1, &base, &size, &irq), 0);
	ck_assert_uint_eq(base, 0xfeb00c00u);
	ck_assert_uint_eq(size, 4096);
	ck_assert_uint_eq(irq, 11);
	ck_assert_int_eq(vnet_mmio_cmdline_entry(cl, 2, &base, &size, &irq), 0);
	ck_assert_uint_eq(base, 0x10000000u);
	ck_assert_uint_eq(size, 1u << 20);
	ck_assert_int_eq(vnet_mmio_cmdline_entry(cl, 3, &base, &size, NULL), 0);
	ck_assert_uint_eq(base, 0x100000000ull);
	ck_assert_uint_eq(size, 2ull << 30);
	ck_assert_int_eq(vnet_mmio_cmdline_entry(cl, 4, &base, &size, &irq), -ENOENT);
	ck_assert_int_eq(vnet_mmio_cmdline_entry(NULL, 0, &base, &size, &irq), -ENOENT);
	ck_assert_int_eq(vnet_mmio_cmdline_entry("", 0, &base, &size, &irq), -ENOENT);
}
END_TEST

START_TEST(cmdline_malformed_entries_are_skipped)
{
	static const char *const bad[] = {
		"virtio_mmio.device=",
		"virtio_mmio.device=512",
		"virtio_mmio.device=512@",
		"virtio_mmio.device=512@0xfeb00e00",
		"virtio_mmio.device=512@0xfeb00e00:",
		"virtio_mmio.device=@0xfeb00e00:12",
		"virtio_mmio.device=512@0xfeb00e00:12x",
		"virtio_mmio.device=512@0xfeb00e00:12:",
		"virtio_mmio.device=512@0xzz:12",
		"virtio_mmio.device=512@0x:12",
		"virtio_mmio.device=12Q@0xfeb00e00:12",
		"virtio_mmio.device=16@0xfeb00e00:12",          /* smaller than the registers */
		"virtio_mmio.device=512@0xfeb00e01:12",         /* unaligned */
		"virtio_mmio.device=512@0:12",
		"virtio_mmio.device=512@0x10000000000000000:1", /* overflows */
		"virtio_mmio.device=99999999999999999999@0x1000:1",
		"virtio_mmio.device=17179869184G@0x1000:1",     /* size overflows */
		"virtio_mmio.device=512@0xfeb00e00:4294967296",
		"virtio_mmio.device=512@-0x1000:1",
		"xvirtio_mmio.device=512@0xfeb00e00:12",        /* not this key */
		"virtio_mmio.devices=512@0xfeb00e00:12",
		"virtio_mmio.device 512@0xfeb00e00:12",
	};
	char cl[256];
	uint64_t base;
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(vnet_mmio_cmdline_entry(bad[i], 0, &base, NULL, NULL) == -ENOENT,
		              "accepted '%s'", bad[i]);
	/* A good entry after bad ones is entry 0. */
	snprintf(cl, sizeof(cl), "%s %s virtio_mmio.device=0x200@0x1000:7", bad[1], bad[6]);
	ck_assert_int_eq(vnet_mmio_cmdline_entry(cl, 0, &base, NULL, NULL), 0);
	ck_assert_uint_eq(base, 0x1000);
}
END_TEST

/* ------------------------------------------------------------- find -- */

/* Plain-memory windows (probing needs no register semantics). */
struct slots {
	uint8_t *mem;
	unsigned n;
};

static void slot_set(struct slots *s, unsigned i, uint32_t version, uint32_t devid)
{
	uint8_t *w = s->mem + (size_t)i * VNET_MMIO_WINDOW_SIZE;

	memset(w, 0, VNET_MMIO_WINDOW_SIZE);
	*(uint32_t *)(w + 0) = 0x74726976u;
	*(uint32_t *)(w + 4) = version;
	*(uint32_t *)(w + 8) = devid;
	w[0x100] = (uint8_t)i; /* marker in the config space */
}

static void slots_init(struct slots *s, unsigned n)
{
	unsigned i;

	s->n = n;
	s->mem = aligned_alloc(4096, (size_t)n * VNET_MMIO_WINDOW_SIZE);
	ck_assert_ptr_nonnull(s->mem);
	for (i = 0; i < n; i++)
		slot_set(s, i, 2, 0); /* empty */
}

static uintptr_t slot_addr(const struct slots *s, unsigned i)
{
	return (uintptr_t)s->mem + (uintptr_t)i * VNET_MMIO_WINDOW_SIZE;
}

static unsigned marker(struct vnet_transport *tr)
{
	uint8_t b = 0xff;

	tr->ops->read_config(tr, 0, &b, 1);
	return b;
}

START_TEST(find_from_cmdline_then_range)
{
	struct slots s;
	struct vnet_mmio_range r;
	char cl[512];

	slots_init(&s, 24);
	r.base = slot_addr(&s, 0);
	r.stride = VNET_MMIO_WINDOW_SIZE;
	r.count = 24;
	slot_set(&s, 23, 2, 1); /* microvm: first NIC in the highest slot */
	slot_set(&s, 22, 2, 2); /* a block device */
	slot_set(&s, 21, 2, 1);
	slot_set(&s, 5, 2, 1);  /* listed on the command line */
	slot_set(&s, 4, 2, 1);  /* listed on the command line, after a malformed entry */
	snprintf(cl, sizeof(cl), "mmio virtio_mmio.device=512@0x%lx:12 virtio_mmio.device=oops "
	         "virtio_mmio.device=512@0x%lx:11", (unsigned long)slot_addr(&s, 5),
	         (unsigned long)slot_addr(&s, 4));

	ck_assert_int_eq(vnet_mmio_find_in(&t, cl, &r, 0), 0);
	ck_assert_uint_eq(marker(t), 5);
	close_t();
	ck_assert_int_eq(vnet_mmio_find_in(&t, cl, &r, 1), 0);
	ck_assert_uint_eq(marker(t), 4);
	close_t();
	ck_assert(logcap_has("ignoring malformed command-line entry 'virtio_mmio.device=oops'"));
	/* Then the range from the top; slots 5 and 4 are not counted twice. */
	ck_assert_int_eq(vnet_mmio_find_in(&t, cl, &r, 2), 0);
	ck_assert_uint_eq(marker(t), 23);
	close_t();
	ck_assert_int_eq(vnet_mmio_find_in(&t, cl, &r, 3), 0);
	ck_assert_uint_eq(marker(t), 21);
	close_t();
	ck_assert_int_eq(vnet_mmio_find_in(&t, cl, &r, 4), -ENODEV);
	ck_assert_ptr_null(t);
	ck_assert(logcap_has("no virtio-net device #4 (found 4)"));

	/* Range only. */
	ck_assert_int_eq(vnet_mmio_find_in(&t, NULL, &r, 0), 0);
	ck_assert_uint_eq(marker(t), 23);
	close_t();
	free(s.mem);
}
END_TEST

START_TEST(find_opens_legacy_device)
{
	struct slots s;
	struct vnet_mmio_range r;

	slots_init(&s, 8);
	r.base = slot_addr(&s, 0);
	r.stride = VNET_MMIO_WINDOW_SIZE;
	r.count = 8;
	slot_set(&s, 7, 1, 1); /* QEMU 7.2 microvm default: version 1 */
	ck_assert_int_eq(vnet_mmio_find_in(&t, NULL, &r, 0), 0);
	ck_assert_int_eq(vnet_transport_legacy(t), 1);
	ck_assert_uint_eq(vnet_mmio_base(t), slot_addr(&s, 7));
	close_t();
	r.stride = 0x80; /* narrower than the registers */
	ck_assert_int_eq(vnet_mmio_find_in(&t, NULL, &r, 0), -EINVAL);
	free(s.mem);
}
END_TEST

START_TEST(hosted_find_does_not_probe_fixed_range)
{
	/* Reading 0xfeb00000 in a process would crash: only the command line. */
	ck_assert_int_eq(vnet_mmio_find(&t, NULL, 0), -ENODEV);
	ck_assert_int_eq(vnet_mmio_find(&t, "console=ttyS0", 0), -ENODEV);
	ck_assert_int_eq(vnet_mmio_find(NULL, NULL, 0), -EINVAL);
}
END_TEST

START_TEST(find_from_cmdline_size_bounds_config)
{
	char cl[128];

	/* A 0x110-byte window leaves 16 bytes of config. */
	snprintf(cl, sizeof(cl), "virtio_mmio.device=0x110@0x%lx:1", (unsigned long)(uintptr_t)fm.win.mem);
	ck_assert_int_eq(vnet_mmio_find(&t, cl, 0), 0);
	{
		uint32_t v = 1;

		t->ops->read_config(t, 12, &v, 4);
		t->ops->read_config(t, 14, &v, 4);
		ck_assert_uint_eq(v, 0);
		ck_assert(logcap_has("config read 14+4 beyond the 16-byte config"));
	}
}
END_TEST

static Suite *mmio_suite(void)
{
	Suite *s = suite_create("transport_mmio");
	TCase *p = tcase_create("probe");
	TCase *o = tcase_create("ops");
	TCase *c = tcase_create("discovery");

	tcase_add_checked_fixture(p, setup, teardown);
	tcase_add_test(p, opens_version2_net);
	tcase_add_test(p, opens_version1_as_legacy);
	tcase_add_test(p, bad_magic_is_not_a_device);
	tcase_add_test(p, empty_slot_is_silent_and_untouched);
	tcase_add_test(p, other_device_types_are_refused);
	suite_add_tcase(s, p);

	tcase_add_checked_fixture(o, setup, teardown);
	tcase_set_timeout(o, 30);
	tcase_add_test(o, features_go_through_select_registers);
	tcase_add_test(o, status_generation_reset);
	tcase_add_test(o, reset_times_out_on_stuck_device);
	tcase_add_test(o, queue_setup_and_notify);
	tcase_add_test(o, queue_reset_one_queue);
	tcase_add_test(o, read_config_widths_and_bounds);
	tcase_add_test(o, intr_ack_writes_back_what_it_read);
	tcase_add_test(o, intr_ack_leaves_bits_it_did_not_read);
	tcase_add_test(o, intr_ack_with_nothing_pending);
	tcase_add_test(o, base_is_the_window);
	tcase_add_test(o, legacy_features_32_bits);
	tcase_add_test(o, legacy_queue_setup_pfn);
	tcase_add_test(o, legacy_device_open);
	tcase_add_test(o, legacy_intr_ack);
	suite_add_tcase(s, o);

	tcase_add_checked_fixture(c, setup, teardown);
	tcase_add_test(c, cmdline_entries_parse);
	tcase_add_test(c, cmdline_malformed_entries_are_skipped);
	tcase_add_test(c, find_from_cmdline_then_range);
	tcase_add_test(c, find_opens_legacy_device);
	tcase_add_test(c, hosted_find_does_not_probe_fixed_range);
	tcase_add_test(c, find_from_cmdline_size_bounds_config);
	suite_add_tcase(s, c);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mmio_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
