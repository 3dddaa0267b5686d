/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCI modern transport (virtio spec 4.1) against a fake config space and a
 * fake virtio-net device whose register semantics run on trapped accesses.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <vnet/transports.h>
#include <vnet/vnet.h>

#include "fake_mmio.h"
#include "fake_pci.h"
#include "logcap.h"
#include "transport/transport.h"

/* ------------------------------------------------------------- rig -- */

struct prig {
	struct fake_pci pci;
	struct fake_fn *net, *net2;
	struct fake_vdev vd, vd2;
	struct vnet_pci_opts o;
	struct vnet_transport *t;
	unsigned maps, unmaps;
	uint64_t map_phys, map_len;
	int msix_map_fail; /* the MSI-X BAR cannot be mapped */
};

static struct prig rig;

static uint64_t bar_addr(const struct fake_fn *f, unsigned i)
{
	uint64_t a = fake_fn_r32(f, (uint16_t)(0x10 + 4 * i)) & ~0xfull;

	if (f->bar64[i])
		a |= (uint64_t)fake_fn_r32(f, (uint16_t)(0x14 + 4 * i)) << 32;
	return a;
}

static void *rig_map(void *arg, uint64_t phys, uint64_t len)
{
	struct prig *r = arg;

	r->maps++;
	r->map_phys = phys;
	r->map_len = len;
	if (r->net && phys == bar_addr(r->net, 4) && len == VDEV_BAR_SIZE)
		return r->vd.bar.mem;
	if (r->net && phys == bar_addr(r->net, 1) && len == VDEV_MSIX_SIZE && !r->msix_map_fail)
		return r->vd.msix.mem;
	if (r->net2 && phys == bar_addr(r->net2, 4) && len == VDEV_BAR_SIZE)
		return r->vd2.bar.mem;
	return NULL;
}

static void rig_unmap(void *arg, void *va, uint64_t len)
{
	struct prig *r = arg;

	(void)va;
	(void)len;
	r->unmaps++;
}

/* A virtio-net-pci laid out as QEMU 7.2 does it (notes/qemu.md 4). */
static struct fake_fn *add_net(uint8_t dev, uint16_t did, int assigned)
{
	struct fake_fn *f = fake_pci_add(&rig.pci, 0, dev, 0, 0x1af4, did);

	fake_fn_w16(f, 0x04, assigned ? 0x0103 : 0x0000); /* SeaBIOS: no bus master */
	fake_fn_bar(f, 1, VDEV_MSIX_SIZE, 0, assigned ? 0xfebc0000u + dev * 0x100000u : 0);
	fake_fn_bar(f, 4, VDEV_BAR_SIZE, 1, assigned ? 0xfebfc000u - dev * 0x100000u : 0);
	fake_fn_msix(f, 0x98, VDEV_MSIX_VECS, 1, VDEV_MSIX_TABLE, VDEV_MSIX_PBA);
	fake_fn_vcap(f, 0x84, 5, 0, 0, 0, 0);
	fake_fn_vcap(f, 0x70, 2, 4, VDEV_NOTIFY, 0x1000, VDEV_NOTIFY_MULT);
	fake_fn_vcap(f, 0x60, 4, 4, VDEV_DEVICE, 0x1000, 0);
	fake_fn_vcap(f, 0x50, 3, 4, VDEV_ISR, 0x1000, 0);
	fake_fn_vcap(f, 0x40, 1, 4, VDEV_COMMON, 0x1000, 0);
	return f;
}

static void rig_setup(int assigned)
{
	struct fake_fn *f;

	vnet_transport_close(rig.t); /* a test may start over with another layout */
	fake_vdev_fini(&rig.vd);
	fake_vdev_fini(&rig.vd2);
	memset(&rig, 0, sizeof(rig));
	logcap_start();
	fake_pci_add(&rig.pci, 0, 0, 0, 0x8086, 0x29c0);       /* host bridge */
	rig.net = add_net(1, 0x1041, assigned);
	f = fake_pci_add(&rig.pci, 0, 0x1f, 0, 0x8086, 0x2918); /* ICH9 LPC, multi-function */
	f->cfg[0x0e] = 0x80;
	fake_pci_add(&rig.pci, 0, 0x1f, 2, 0x8086, 0x2922);
	fake_pci_add(&rig.pci, 0, 0x1f, 3, 0x8086, 0x2930);
	ck_assert_int_eq(fake_vdev_init(&rig.vd), 0);
	rig.o.cfg = &fake_pci_cfg_ops;
	rig.o.cfg_arg = &rig.pci;
	rig.o.map = rig_map;
	rig.o.unmap = rig_unmap;
	rig.o.map_arg = &rig;
}

static void setup_assigned(void) { rig_setup(1); }

static void teardown(void)
{
	vnet_transport_close(rig.t);
	rig.t = NULL;
	fake_vdev_fini(&rig.vd);
	fake_vdev_fini(&rig.vd2);
	vnet_set_log(NULL, NULL, VNET_LOG_ERR);
}

static int open_rig(void)
{
	return vnet_pci_open(&rig.t, &rig.o);
}

static void open_ok(void)
{
	int rc = open_rig();

	ck_assert_msg(rc == 0, "vnet_pci_open: %d\n%s", rc, logcap_buf);
	ck_assert_ptr_nonnull(rig.t);
}

/* ---------------------------------------------------- discovery/BARs -- */

START_TEST(opens_firmware_assigned_device)
{
	open_ok();
	ck_assert_str_eq(rig.t->ops->name, "pci");
	ck_assert_uint_eq(rig.maps, 1); /* one BAR holds all four structures */
	ck_assert_uint_eq(rig.map_phys, 0xfebfc000u - 0x100000u);
	ck_assert_uint_eq(rig.map_len, VDEV_BAR_SIZE);
	ck_assert_uint_eq(bar_addr(rig.net, 1), 0xfebc0000u + 0x100000u); /* untouched */
	ck_assert_uint_eq(rig.net->illegal_writes, 0); /* never writes a capability */
	vnet_transport_close(rig.t);
	rig.t = NULL;
	ck_assert_uint_eq(rig.unmaps, 1);
}
END_TEST

START_TEST(sets_bus_master_and_memory)
{
	ck_assert_uint_eq(fake_fn_r16(rig.net, 0x04), 0x0103);
	open_ok();
	/* SeaBIOS left bus mastering off: now on, IO bit kept. */
	ck_assert_uint_eq(fake_fn_r16(rig.net, 0x04), 0x0107);
}
END_TEST

START_TEST(assigns_unassigned_bars)
{
	rig_setup(0); /* qboot: BARs 0, command 0 */
	open_ok();
	/* Naturally aligned from the default window, in BAR order. */
	ck_assert_uint_eq(bar_addr(rig.net, 1), 0xc0000000u);
	ck_assert_uint_eq(bar_addr(rig.net, 4), 0xc0004000u);
	ck_assert_uint_eq(fake_fn_r32(rig.net, 0x24), 0); /* high half of the 64-bit BAR */
	ck_assert_uint_eq(rig.map_phys, 0xc0004000u);
	ck_assert_uint_eq(fake_fn_r16(rig.net, 0x04) & 0x6, 0x6);
	ck_assert(logcap_has("assigned BAR4 at 0xc0004000"));
}
END_TEST

START_TEST(assigns_from_caller_window_past_existing_bar)
{
	rig_setup(0);
	fake_fn_bar(rig.net, 1, 0x1000, 0, 0xd0000000u); /* already placed in the window */
	rig.o.bar_window = 0xd0000000u;
	open_ok();
	ck_assert_uint_eq(bar_addr(rig.net, 1), 0xd0000000u);
	ck_assert_uint_eq(bar_addr(rig.net, 4), 0xd0004000u);
}
END_TEST

START_TEST(places_64bit_bar_above_4g)
{
	rig_setup(0);
	rig.o.bar_window = 0x800000000ull; /* 32-bit BARs cannot go there: drop BAR1 */
	fake_fn_bar(rig.net, 1, 0, 0, 0);
	open_ok();
	ck_assert_uint_eq(bar_addr(rig.net, 4), 0x800000000ull);
	ck_assert_uint_eq(fake_fn_r32(rig.net, 0x24), 0x8);
}
END_TEST

START_TEST(refuses_32bit_bar_above_4g)
{
	rig_setup(0);
	rig.o.bar_window = 0xfffff000u; /* BAR1 (4K) fits exactly; nothing after it */
	rig.net->bar64[4] = 0;          /* make BAR4 a 32-bit BAR */
	fake_fn_bar(rig.net, 4, VDEV_BAR_SIZE, 0, 0);
	ck_assert_int_eq(open_rig(), -ENOSPC);
	ck_assert_ptr_null(rig.t);
	ck_assert(logcap_has("no room for BAR4"));
	ck_assert_uint_eq(fake_fn_r16(rig.net, 0x04), 0); /* command register restored */
}
END_TEST

START_TEST(finds_nth_device_and_skips_absent_functions)
{
	rig.net2 = add_net(3, 0x1041, 1);
	ck_assert_int_eq(fake_vdev_init(&rig.vd2), 0);
	rig.o.index = 1;
	open_ok();
	ck_assert_uint_eq(rig.map_phys, 0xfebfc000u - 0x300000u);
	vnet_transport_close(rig.t);
	rig.t = NULL;
	rig.o.index = 2;
	ck_assert_int_eq(open_rig(), -ENODEV);
	ck_assert(logcap_has("no virtio-net function #2 (found 2)"));
}
END_TEST

START_TEST(multifunction_bit_gates_functions_1_to_7)
{
	struct fake_fn *f;

	rig_setup(1);
	rig.pci.nfns = 0; /* only: a single-function device at 00:05 with a net at fn 2 */
	f = fake_pci_add(&rig.pci, 0, 5, 0, 0x8086, 0x1234);
	rig.net = add_net(5, 0x1041, 1);
	rig.net->fn = 2;
	ck_assert_int_eq(open_rig(), -ENODEV);
	f->cfg[0x0e] = 0x80; /* now multi-function */
	open_ok();
}
END_TEST

/* A transitional device without modern structures is driven legacy
 * (test_pci_legacy.c); this one has no I/O BAR0 for it: refused, the
 * command register as it was. */
START_TEST(transitional_without_modern_caps_needs_io_bar0)
{
	rig_setup(1);
	fake_fn_w16(rig.net, 0x02, 0x1000);
	rig.net->cfg[0x34] = 0x98; /* only MSI-X left */
	rig.net->cfg[0x99] = 0;
	ck_assert_int_eq(open_rig(), -ENODEV);
	ck_assert(logcap_has("legacy virtio-net without an I/O BAR0"));
	ck_assert_uint_eq(rig.maps, 0);
	ck_assert_uint_eq(fake_fn_r16(rig.net, 0x04), 0x0103); /* device left as found */
}
END_TEST

START_TEST(transitional_with_modern_caps_opens)
{
	rig_setup(1);
	fake_fn_w16(rig.net, 0x02, 0x1000);
	open_ok();
}
END_TEST

START_TEST(no_capability_list_modern_device)
{
	rig_setup(1);
	fake_fn_w16(rig.net, 0x06, 0); /* status: no capability list */
	ck_assert_int_eq(open_rig(), -ENODEV);
	ck_assert(logcap_has("lacks a usable common notify device capability"));
}
END_TEST

START_TEST(looped_capability_list)
{
	unsigned reads;

	rig.net->cfg[0x41] = 0x70; /* common -> notify: notify, device, ISR, common, ... */
	ck_assert_int_eq(open_rig(), -ENODEV);
	ck_assert(logcap_has("capability list loops back to 0x70"));
	reads = rig.pci.reads;
	ck_assert_uint_lt(reads, 256 * 32 + 48 * 8 + 64);

	/* A capability pointing at itself. */
	rig_setup(1);
	rig.net->cfg[0x99] = 0x98;
	ck_assert_int_eq(open_rig(), -ENODEV);
	ck_assert(logcap_has("loops back to 0x98"));
}
END_TEST

START_TEST(truncated_capability_list)
{
	/* The list ends after the ISR capability: no common structure. */
	rig.net->cfg[0x51] = 0;
	ck_assert_int_eq(open_rig(), -ENODEV);
	ck_assert(logcap_has("lacks a usable common capability"));

	/* A pointer into the header cuts the list short. */
	rig_setup(1);
	rig.net->cfg[0x61] = 0x20;
	ck_assert_int_eq(open_rig(), -ENODEV);
	ck_assert(logcap_has("capability pointer 0x20 is invalid"));

	/* A notify capability too short to hold its multiplier. */
	rig_setup(1);
	rig.net->cfg[0x72] = 16;
	ck_assert_int_eq(open_rig(), -ENODEV);
	ck_assert(logcap_has("(type 2) is truncated"));
	ck_assert(logcap_has("lacks a usable notify capability"));

	/* A capability that would run past the end of config space. */
	rig_setup(1);
	rig.net->cfg[0x41] = 0xf8;
	memcpy(rig.net->cfg + 0xf8, "\x09\x00\x10\x04\x04\x00\x00\x00", 8);
	ck_assert_int_eq(open_rig(), 0); /* ignored; the real one at 0x60 is used */
	ck_assert(logcap_has("at 0xf8 (type 4) is truncated"));
}
END_TEST

START_TEST(structure_outside_its_bar_is_refused)
{
	/* common cfg at 0x3800 + 0x1000 in a 16 KiB BAR */
	fake_fn_w32(rig.net, 0x40 + 8, 0x3800);
	ck_assert_int_eq(open_rig(), -ENODEV);
	ck_assert(logcap_has("common structure 0x3800+0x1000 does not fit BAR4"));
	ck_assert(logcap_has("no usable common structure"));
	ck_assert_uint_eq(rig.maps, 0);
	ck_assert_uint_eq(fake_fn_r16(rig.net, 0x04), 0x0103); /* left as it was */
}
END_TEST

START_TEST(prefers_first_usable_capability)
{
	/* A second notify cap first in the list, in an I/O BAR: skipped. */
	rig_setup(1);
	rig.net->cfg[0x34] = 0xa8;
	fake_fn_vcap(rig.net, 0xa8, 2, 0, 0, 0x100, 0);
	rig.net->cfg[0x41] = 0;      /* it was appended after 0x40: unlink */
	rig.net->cfg[0xa9] = 0x98;   /* and put it first */
	fake_fn_w32(rig.net, 0x10, 0xc001); /* BAR0: I/O */
	open_ok();
	ck_assert(logcap_has("notify structure in BAR0: an I/O BAR"));
}
END_TEST

/*
 * notify_off_multiplier (spec 4.1.4.4.1): "an even power of 2, or 0". An
 * odd one puts a queue's 16-bit notify register at an odd address (it
 * faults on some CPUs' device memory), a non-power of two is out of spec
 * as well: such a notify structure is ignored, and with no other one the
 * device is refused. It used to be taken as it came.
 */
START_TEST(notify_multiplier_must_be_even_power_of_two)
{
	static const uint32_t bad[] = {1, 3, 6, 12, 0x80000001u};
	static const uint32_t good[] = {2, 4, 0x1000};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rig_setup(1);
		fake_fn_w32(rig.net, 0x70 + 16, bad[i]);
		ck_assert_msg(open_rig() == -ENODEV, "multiplier %u accepted", bad[i]);
		ck_assert_ptr_null(rig.t);
		ck_assert(logcap_has("notify_off_multiplier"));
		ck_assert(logcap_has("no usable notify structure"));
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rig_setup(1);
		fake_fn_w32(rig.net, 0x70 + 16, good[i]);
		open_ok();
		ck_assert(!logcap_has("notify_off_multiplier"));
	}
}
END_TEST

/* Config-space reads counted per offset of function 00:01.0. */
static unsigned cap_id_reads[256];

static uint8_t counting_r8(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	if (bus == 0 && dev == 1 && fn == 0 && off < 256)
		cap_id_reads[off]++;
	return fake_pci_cfg_ops.read8(ctx, bus, dev, fn, off);
}

/* Every capability's ID byte (device-written) is read once during the
 * walk, then decided on: the MSI-X capability's used to be read twice
 * (compared with the vendor ID, then read again for MSI-X). */
START_TEST(capability_ids_read_once)
{
	static struct vnet_pci_cfg_ops ops;
	static const uint8_t caps[] = {0x40, 0x50, 0x60, 0x70, 0x84, 0x98};

	ops = fake_pci_cfg_ops;
	ops.read8 = counting_r8;
	memset(cap_id_reads, 0, sizeof(cap_id_reads));
	rig.o.cfg = &ops;
	open_ok();
	for (size_t i = 0; i < sizeof(caps); i++)
		ck_assert_msg(cap_id_reads[caps[i]] == 1, "capability at 0x%02x: ID read %u times", caps[i],
		              cap_id_reads[caps[i]]);
}
END_TEST

/* After a reset that does not complete the device layer turns bus
 * mastering off (the device may not reach the buffers and rings it was
 * given), and on again after a reset that completes. */
START_TEST(bus_master_off_and_on)
{
	NEED_TRAPS();
	open_ok();
	ck_assert_uint_eq(fake_fn_r16(rig.net, 0x04), 0x0107);
	ck_assert_ptr_nonnull(rig.t->ops->bus_master);
	rig.vd.reset_stuck = 1;
	ck_assert_int_eq(rig.t->ops->reset(rig.t), -ETIMEDOUT);
	rig.t->ops->bus_master(rig.t, false);
	ck_assert_uint_eq(fake_fn_r16(rig.net, 0x04), 0x0103);
	ck_assert(logcap_has("bus mastering off"));
	rig.t->ops->bus_master(rig.t, false); /* already off: nothing written */
	rig.vd.reset_stuck = 0;
	ck_assert_int_eq(rig.t->ops->reset(rig.t), 0);
	rig.t->ops->bus_master(rig.t, true);
	ck_assert_uint_eq(fake_fn_r16(rig.net, 0x04), 0x0107);
	ck_assert_uint_eq(rig.net->illegal_writes, 0);
}
END_TEST

START_TEST(hosted_build_never_uses_port_io)
{
	struct vnet_transport *t = (struct vnet_transport *)&t;

	logcap_start();
	ck_assert_int_eq(vnet_pci_open(&t, NULL), -EINVAL);
	ck_assert_ptr_null(t);
	ck_assert(logcap_has("port IO is the default only on bare metal"));
	ck_assert_int_eq(vnet_pci_open(NULL, NULL), -EINVAL);
}
END_TEST

/* Port IO (configuration mechanism #1) reaches 256 bytes: an offset past
 * them reads all ones and writes nothing, without an I/O instruction (a
 * hosted process has no I/O privilege: one would fault here). */
START_TEST(port_io_offsets_past_256_touch_nothing)
{
	const struct vnet_pci_cfg_ops *o = &vnet_pci_cfg_portio_ops;

	ck_assert_uint_eq(o->read8(NULL, 0, 1, 0, 0x100), 0xff);
	ck_assert_uint_eq(o->read16(NULL, 0, 1, 0, 0x100), 0xffff);
	ck_assert_uint_eq(o->read32(NULL, 0, 1, 0, 0xffc), 0xffffffffu);
	o->write8(NULL, 0, 1, 0, 0x100, 0x5a);
	o->write16(NULL, 0, 1, 0, 0x200, 0x5a5a);
	o->write32(NULL, 0, 1, 0, 0xffc, 0x5a5a5a5au);
}
END_TEST

/* A virtio capability naming a BAR past BAR5 (reserved, spec 4.1.4.1)
 * is passed over; the next one of its type is used. */
START_TEST(capability_in_reserved_bar_ignored)
{
	rig_setup(1);
	rig.net->cfg[0x34] = 0xa8;
	fake_fn_vcap(rig.net, 0xa8, 1, 7, VDEV_COMMON, 0x1000, 0); /* common cfg in "BAR7" */
	rig.net->cfg[0x41] = 0;      /* it was appended after 0x40: unlink */
	rig.net->cfg[0xa9] = 0x98;   /* and put it first */
	open_ok();
	ck_assert(!logcap_has("BAR7"));
	ck_assert_uint_eq(rig.maps, 1);
	ck_assert_uint_eq(rig.map_phys, 0xfebfc000u - 0x100000u);
}
END_TEST

/* ECAM: the address arithmetic, then a whole open through an ECAM window. */
START_TEST(ecam_ops_address_layout)
{
	size_t len = 2u << 20;
	uint8_t *m = calloc(1, len);

	ck_assert_ptr_nonnull(m);
	vnet_pci_cfg_ecam_ops.write32(m, 1, 2, 3, 0x10, 0xdeadbeef);
	ck_assert_uint_eq(*(uint32_t *)(m + (1u << 20) + (2u << 15) + (3u << 12) + 0x10), 0xdeadbeef);
	vnet_pci_cfg_ecam_ops.write16(m, 0, 31, 7, 0xffe, 0x1234);
	ck_assert_uint_eq(*(uint16_t *)(m + (31u << 15) + (7u << 12) + 0xffe), 0x1234);
	vnet_pci_cfg_ecam_ops.write8(m, 0, 1, 0, 0x3c, 0x5a);
	ck_assert_uint_eq(vnet_pci_cfg_ecam_ops.read8(m, 0, 1, 0, 0x3c), 0x5a);
	ck_assert_uint_eq(vnet_pci_cfg_ecam_ops.read16(m, 0, 31, 7, 0xffe), 0x1234);
	ck_assert_uint_eq(vnet_pci_cfg_ecam_ops.read32(m, 1, 2, 3, 0x10), 0xdeadbeef);
	free(m);
}
END_TEST

static struct trap_region ecam_win;

/* The ECAM page of 00:01.0 mirrors the fake function's config space. */
static void ecam_hook(void *arg, uint8_t *mem, const struct trap_access *a, int after)
{
	struct fake_fn *f = arg;
	uint8_t *page = mem + (1u << 15);
	uint16_t off = (uint16_t)(a->off - (1u << 15));

	if (!after) {
		memcpy(page, f->cfg, 256);
		return;
	}
	if (a->write && off < 256)
		fake_fn_cfg_write(f, off, a->width, a->width == 1 ? page[off] :
		                  a->width == 2 ? *(uint16_t *)(page + off) : *(uint32_t *)(page + off));
}

static int ecam_fail; /* the ECAM window cannot be mapped (any more) */

static void *ecam_map(void *arg, uint64_t phys, uint64_t len)
{
	if (phys == 0xb0000000u && len == VNET_PCI_ECAM_SIZE) {
		if (ecam_fail)
			return NULL;
		rig.maps++;
		return ecam_win.mem;
	}
	return rig_map(arg, phys, len);
}

START_TEST(opens_through_ecam)
{
	NEED_TRAPS();
	/* 256 MiB is more than a trap region holds: map it sparse and put the
	 * one trapped 64-page region over bus 0. */
	void *all = mmap(NULL, VNET_PCI_ECAM_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	ck_assert_ptr_ne(all, MAP_FAILED);
	ck_assert_int_eq(trap_init(&ecam_win, 64 * TRAP_PAGE, ecam_hook, rig.net), 0);
	ck_assert_ptr_nonnull(mremap(ecam_win.mem, 64 * TRAP_PAGE, 64 * TRAP_PAGE,
	                             MREMAP_MAYMOVE | MREMAP_FIXED, all));
	ecam_win.mem = all;
	memcpy(ecam_win.mem + (1u << 15), rig.net->cfg, 256);
	trap_arm(&ecam_win, 1u << 15, TRAP_PAGE);

	rig.o.cfg = NULL;
	rig.o.ecam_base = 0xb0000000u;
	rig.o.map = ecam_map;
	open_ok();
	ck_assert_uint_eq(fake_fn_r16(rig.net, 0x04), 0x0107);
	ck_assert_uint_eq(rig.unmaps, 1); /* the ECAM window, once open is done */
	/* bus mastering later goes through the window mapped again */
	rig.t->ops->bus_master(rig.t, false);
	ck_assert_uint_eq(fake_fn_r16(rig.net, 0x04), 0x0103);
	ck_assert_uint_eq(rig.unmaps, 2);
	rig.t->ops->bus_master(rig.t, true);
	ck_assert_uint_eq(fake_fn_r16(rig.net, 0x04), 0x0107);
	ck_assert_uint_eq(rig.unmaps, 3);
	/* the window gone: bus mastering stays as it is, and says so */
	ecam_fail = 1;
	rig.t->ops->bus_master(rig.t, false);
	ecam_fail = 0;
	ck_assert(logcap_has("cannot map ECAM to turn bus mastering off"));
	ck_assert_uint_eq(fake_fn_r16(rig.net, 0x04), 0x0107);
	ck_assert_uint_eq(rig.unmaps, 3);
	/* an open that fails after mapping ECAM unmaps it again */
	vnet_transport_close(rig.t);
	rig.t = NULL;
	ck_assert_uint_eq(rig.unmaps, 4); /* the BAR */
	rig.o.index = 1;
	ck_assert_int_eq(open_rig(), -ENODEV);
	ck_assert_uint_eq(rig.unmaps, 5);
	ck_assert_uint_eq(rig.maps, rig.unmaps);

	trap_fini(&ecam_win);
	munmap(all, VNET_PCI_ECAM_SIZE);
}
END_TEST

START_TEST(ecam_that_cannot_be_mapped)
{
	rig.o.cfg = NULL;
	rig.o.ecam_base = 0xb0000000u; /* rig_map knows no such window */
	ck_assert_int_eq(open_rig(), -ENOMEM);
	ck_assert_ptr_null(rig.t);
	ck_assert(logcap_has("pci: cannot map ECAM at 0xb0000000"));
	ck_assert_uint_eq(rig.pci.reads, 0);
}
END_TEST

/* Other virtio devices, and a virtio-net ID on a header that is not an
 * endpoint's, do not count as virtio-net functions. */
START_TEST(skips_other_virtio_functions)
{
	struct fake_fn *f;

	fake_pci_add(&rig.pci, 0, 2, 0, 0x1af4, 0x1042);   /* virtio-blk */
	f = fake_pci_add(&rig.pci, 0, 3, 0, 0x1af4, 0x1041);
	f->cfg[0x0e] = 0x01;                                /* a bridge header */
	rig.net2 = add_net(4, 0x1041, 1);
	ck_assert_int_eq(fake_vdev_init(&rig.vd2), 0);
	rig.o.index = 1;
	open_ok();
	ck_assert(logcap_has("pci 00:04.0: virtio-net 1af4:1041"));
	ck_assert_uint_eq(rig.map_phys, 0xfebfc000u - 0x400000u);
	ck_assert_uint_eq(f->cmd_writes, 0);
}
END_TEST

START_TEST(bar5_claiming_64_bits_is_ignored)
{
	fake_fn_bar(rig.net, 4, VDEV_BAR_SIZE, 0, 0xfebfc000u - 0x100000u); /* 32-bit now */
	fake_fn_w32(rig.net, 0x24, 0xc); /* BAR5: 64-bit memory, nothing after it */
	open_ok();
	ck_assert_uint_eq(rig.map_phys, 0xfebfc000u - 0x100000u);
	ck_assert(logcap_has("pci 00:01.0: BAR5 claims 64 bits: ignored"));
}
END_TEST

START_TEST(bar_that_does_not_take_its_address)
{
	rig_setup(0);
	rig.net->bar_stuck[1] = 1;
	ck_assert_int_eq(open_rig(), -EIO);
	ck_assert_ptr_null(rig.t);
	ck_assert(logcap_has("pci 00:01.0: BAR1 did not take address 0xc0000000"));
	ck_assert_uint_eq(fake_fn_r16(rig.net, 0x04), 0); /* command register restored */
	ck_assert_uint_eq(rig.maps, 0);
}
END_TEST

/* A window at the very top of the address space has no room: refused,
 * never wrapped round to low addresses. */
START_TEST(window_at_the_top_of_the_address_space)
{
	rig_setup(0);
	rig.o.bar_window = 0xffffffffffffff00ull; /* no aligned address left */
	ck_assert_int_eq(open_rig(), -ENOSPC);
	ck_assert(logcap_has("no room for BAR1 (4096 bytes, 32-bit) in the window from "
	                     "0xffffffffffffff00"));
	logcap_start();
	rig.o.bar_window = 0xfffffffffffff000ull; /* aligned, but the BAR would end past 2^64 */
	ck_assert_int_eq(open_rig(), -ENOSPC);
	ck_assert(logcap_has("no room for BAR1"));
	ck_assert_uint_eq(bar_addr(rig.net, 1), 0);
	ck_assert_uint_eq(bar_addr(rig.net, 4), 0);
}
END_TEST

START_TEST(device_without_queues_is_refused)
{
	NEED_TRAPS();
	rig.vd.num_queues = 0;
	ck_assert_int_eq(open_rig(), -ENODEV);
	ck_assert_ptr_null(rig.t);
	ck_assert(logcap_has("pci 00:01.0: device reports no queues"));
	ck_assert_uint_eq(rig.unmaps, rig.maps);
	ck_assert_uint_eq(fake_fn_r16(rig.net, 0x04), 0x0103); /* command register restored */
}
END_TEST

/* Without a map callback BAR addresses are used as they are (bare
 * metal's identity mapping): here BAR4 is placed at the fake BAR itself. */
START_TEST(identity_mapping_without_map_callback)
{
	NEED_TRAPS();
	fake_fn_bar(rig.net, 4, VDEV_BAR_SIZE, 1, (uint64_t)(uintptr_t)rig.vd.bar.mem);
	rig.o.map = NULL;
	rig.o.unmap = rig_unmap; /* never called without map */
	open_ok();
	ck_assert_uint_eq(rig.maps, 0);
	rig.t->ops->set_status(rig.t, 1);
	ck_assert_uint_eq(rig.vd.status, 1);
	ck_assert_uint_eq(rig.t->ops->queue_max(rig.t, 0), 256);
	vnet_transport_close(rig.t);
	rig.t = NULL;
	ck_assert_uint_eq(rig.unmaps, 0);
}
END_TEST

/* ------------------------------------------------------ transport ops -- */

START_TEST(features_go_through_select_registers)
{
	NEED_TRAPS();
	open_ok();
	ck_assert_uint_eq(rig.t->ops->get_features(rig.t), 0x0000010130bf8024ull);
	rig.t->ops->set_features(rig.t, 0x0000000100000020ull);
	ck_assert_uint_eq(rig.vd.drv_features, 0x0000000100000020ull);
	rig.vd.dev_features = 0xfedcba9876543210ull;
	ck_assert_uint_eq(rig.t->ops->get_features(rig.t), 0xfedcba9876543210ull);
	ck_assert_uint_eq(rig.vd.bad_width, 0);
	ck_assert_uint_eq(rig.vd.ro_writes, 0);
}
END_TEST

START_TEST(status_and_generation)
{
	NEED_TRAPS();
	open_ok();
	rig.t->ops->set_status(rig.t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	ck_assert_uint_eq(rig.vd.status, 3);
	ck_assert_uint_eq(rig.t->ops->get_status(rig.t), 3);
	rig.vd.generation = 7;
	ck_assert_uint_eq(rig.t->ops->config_generation(rig.t), 7);
	ck_assert_int_eq(rig.t->ops->reset(rig.t), 0);
	ck_assert_uint_eq(rig.vd.status, 0);
	ck_assert_uint_eq(rig.vd.resets, 1);
	ck_assert_uint_eq(rig.vd.bad_width, 0);
}
END_TEST

START_TEST(reset_waits_for_slow_device)
{
	NEED_TRAPS();
	open_ok();
	rig.vd.reset_delay = 5;
	rig.t->ops->set_status(rig.t, 1);
	ck_assert_int_eq(rig.t->ops->reset(rig.t), 0);
	ck_assert_uint_eq(rig.vd.status_reads, 5);
}
END_TEST

START_TEST(reset_times_out_on_stuck_device)
{
	struct timespec a, b;
	double s;

	NEED_TRAPS();
	open_ok();
	rig.vd.reset_stuck = 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	ck_assert_int_eq(rig.t->ops->reset(rig.t), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	ck_assert_msg(s >= 0.9 && s < 5.0, "reset took %.3f s", s);
	ck_assert_uint_lt(rig.vd.status_reads, 200); /* backs off, does not spin */
	ck_assert(logcap_has("reset did not complete"));
}
END_TEST

START_TEST(read_config_uses_field_widths)
{
	uint8_t mac[6];
	uint16_t st, mtu;
	uint32_t speed;
	uint64_t eight;
	uint8_t b;

	NEED_TRAPS();
	open_ok();
	rig.t->ops->read_config(rig.t, 0, mac, 6);
	ck_assert_mem_eq(mac, "\x52\x54\x00\x12\x34\x56", 6);
	ck_assert_uint_eq(rig.vd.ncfg, 6);
	for (unsigned i = 0; i < 6; i++)
		ck_assert_uint_eq(rig.vd.cfg_log[i].width, 1);
	rig.t->ops->read_config(rig.t, 6, &st, 2);
	ck_assert_uint_eq(st, 1);
	ck_assert_uint_eq(rig.vd.cfg_log[6].width, 2);
	rig.t->ops->read_config(rig.t, 10, &mtu, 2);
	ck_assert_uint_eq(mtu, 1500);
	rig.t->ops->read_config(rig.t, 12, &speed, 4);
	ck_assert_uint_eq(speed, 1000);
	ck_assert_uint_eq(rig.vd.cfg_log[8].width, 4);
	ck_assert_uint_eq(rig.vd.cfg_log[8].off, 12);
	rig.t->ops->read_config(rig.t, 8, &eight, 8);
	ck_assert_uint_eq(rig.vd.ncfg, 11); /* two 32-bit halves */
	ck_assert_uint_eq(rig.vd.cfg_log[9].width, 4);
	ck_assert_uint_eq(rig.vd.cfg_log[10].off, 12);
	rig.t->ops->read_config(rig.t, 16, &b, 1);
	ck_assert_uint_eq(b, 1);
	ck_assert_uint_eq(rig.vd.bad_width, 0);

	/* Beyond the device structure: zeros, no access, an error logged. */
	speed = 0xffffffffu;
	rig.t->ops->read_config(rig.t, 0xffe, &speed, 4);
	ck_assert_uint_eq(speed, 0);
	ck_assert_uint_eq(rig.vd.ncfg, 12);
	ck_assert(logcap_has("beyond the 4096-byte device config"));
}
END_TEST

START_TEST(queue_max_selects_queue)
{
	NEED_TRAPS();
	open_ok();
	rig.vd.q[1].max = rig.vd.q[1].size = 1024;
	ck_assert_uint_eq(rig.t->ops->queue_max(rig.t, 0), 256);
	ck_assert_uint_eq(rig.t->ops->queue_max(rig.t, 1), 1024);
	ck_assert_uint_eq(rig.vd.qsel, 1);
	ck_assert_uint_eq(rig.t->ops->queue_max(rig.t, 3), 0); /* q >= num_queues */
	ck_assert_uint_eq(rig.vd.qsel, 1);                      /* not even selected */
}
END_TEST

START_TEST(queue_setup_programs_halves_and_notify)
{
	struct vnet_vq_addrs a = {
		.desc = 0x0000123456789000ull, .avail = 0x00000abc00001002ull,
		.used = 0x00000001fffff004ull,
	};

	NEED_TRAPS();
	open_ok();
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 1, 128, &a), 0);
	ck_assert_uint_eq(rig.vd.q[1].size, 128);
	ck_assert_uint_eq(rig.vd.q[1].desc[0], 0x56789000u);
	ck_assert_uint_eq(rig.vd.q[1].desc[1], 0x00001234u);
	ck_assert_uint_eq(rig.vd.q[1].driver[0], 0x00001002u);
	ck_assert_uint_eq(rig.vd.q[1].driver[1], 0x00000abcu);
	ck_assert_uint_eq(rig.vd.q[1].device[0], 0xfffff004u);
	ck_assert_uint_eq(rig.vd.q[1].device[1], 0x00000001u);
	ck_assert_uint_eq(rig.vd.q[1].enable, 1);
	ck_assert_uint_eq(rig.vd.enable_early, 0); /* enable came last */
	ck_assert_uint_eq(rig.vd.q[0].enable, 0);

	/* notify = cap.offset + queue_notify_off * multiplier, 16-bit q index */
	rig.t->ops->notify(rig.t, 1);
	ck_assert_uint_eq(rig.vd.notifies, 1);
	ck_assert_uint_eq(rig.vd.last_notify_off, 1 * VDEV_NOTIFY_MULT);
	ck_assert_uint_eq(rig.vd.last_notify_val, 1);

	rig.vd.q[2].notify_off = 0x3ff; /* last slot: 0x3ff * 4 + 2 == 0x1000 */
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 2, 256, &a), 0);
	rig.t->ops->notify(rig.t, 2);
	ck_assert_uint_eq(rig.vd.last_notify_off, 0xffc);
	ck_assert_uint_eq(rig.vd.last_notify_val, 2);
	ck_assert_uint_eq(rig.vd.notify_bad_width, 0);
	ck_assert_uint_eq(rig.vd.bad_width, 0);
	ck_assert_uint_eq(rig.vd.ro_writes, 0);
	ck_assert_uint_eq(rig.vd.enable_zero, 0);
}
END_TEST

START_TEST(queue_setup_refusals)
{
	struct vnet_vq_addrs a = {.desc = 0x10000, .avail = 0x11000, .used = 0x12000};
	struct vnet_vq_addrs bad = a;

	NEED_TRAPS();
	open_ok();
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 0, 512, &a), -EINVAL); /* > max */
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 0, 0, &a), -EINVAL);
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 3, 64, &a), -EINVAL); /* no such queue */
	bad.desc = 0x10008;
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 0, 64, &bad), -EINVAL);
	ck_assert_uint_eq(rig.vd.q[0].enable, 0);

	/* Notify offset outside the notify structure: refused before enabling. */
	rig.vd.q[0].notify_off = 0x400; /* 0x400 * 4 = 0x1000 = the length */
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 0, 64, &a), -EIO);
	ck_assert(logcap_has("notify offset 0x1000 outside the 4096-byte notify structure"));
	ck_assert_uint_eq(rig.vd.q[0].enable, 0);
	ck_assert_uint_eq(rig.vd.q[0].addr_writes, 0);
	rig.t->ops->notify(rig.t, 0); /* not set up: nothing written */
	ck_assert_uint_eq(rig.vd.notifies, 0);

	rig.vd.q[0].notify_off = 0;
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 0, 64, &a), 0);
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 0, 64, &a), -EBUSY);
	rig.t->ops->notify(rig.t, 7); /* out of range: ignored */
	ck_assert_uint_eq(rig.vd.notifies, 0);
}
END_TEST

START_TEST(notify_multiplier_zero_shares_one_address)
{
	struct vnet_vq_addrs a = {.desc = 0x10000, .avail = 0x11000, .used = 0x12000};

	NEED_TRAPS();
	fake_fn_w32(rig.net, 0x70 + 16, 0);
	open_ok();
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 2, 64, &a), 0);
	rig.t->ops->notify(rig.t, 2);
	ck_assert_uint_eq(rig.vd.last_notify_off, 0);
	ck_assert_uint_eq(rig.vd.last_notify_val, 2);
}
END_TEST

START_TEST(reset_clears_queues_for_setup_again)
{
	struct vnet_vq_addrs a = {.desc = 0x10000, .avail = 0x11000, .used = 0x12000};

	NEED_TRAPS();
	open_ok();
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 0, 64, &a), 0);
	ck_assert_uint_eq(rig.t->ops->queue_max(rig.t, 0), 64); /* the programmed size */
	ck_assert_int_eq(rig.t->ops->reset(rig.t), 0);
	ck_assert_uint_eq(rig.t->ops->queue_max(rig.t, 0), 256);
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 0, 256, &a), 0);
}
END_TEST

/* VIRTIO_F_RING_RESET (spec 4.1.4.3.2): queue_reset resets the selected
 * queue alone; it reads disabled, takes no notification, and is set up
 * again like at start. A reset that never completes, or leaves the queue
 * enabled, is reported, never taken as done. */
START_TEST(queue_reset_one_queue)
{
	struct vnet_vq_addrs a = {.desc = 0x10000, .avail = 0x11000, .used = 0x12000};
	unsigned n;

	NEED_TRAPS();
	open_ok();
	ck_assert_ptr_nonnull(rig.t->ops->queue_reset);
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 0, 64, &a), 0);
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 1, 64, &a), 0);
	ck_assert_int_eq(rig.t->ops->queue_reset(rig.t, 1), 0);
	ck_assert_uint_eq(rig.vd.qresets, 1);
	ck_assert_uint_eq(rig.vd.q[1].enable, 0);
	ck_assert_uint_eq(rig.vd.q[0].enable, 1);
	n = rig.vd.notifies;
	rig.t->ops->notify(rig.t, 1);
	ck_assert_uint_eq(rig.vd.notifies, n);
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 1, 64, &a), 0);
	ck_assert_uint_eq(rig.vd.q[1].enable, 1);
	rig.t->ops->notify(rig.t, 1);
	ck_assert_uint_eq(rig.vd.notifies, n + 1);
	rig.vd.qreset_mode = 2;
	ck_assert_int_eq(rig.t->ops->queue_reset(rig.t, 1), -EIO);
	rig.vd.qreset_mode = 1;
	ck_assert_int_eq(rig.t->ops->queue_reset(rig.t, 0), -ETIMEDOUT);
	ck_assert_int_eq(rig.t->ops->queue_reset(rig.t, VDEV_QUEUES), -EINVAL);
	ck_assert_uint_eq(rig.vd.bad_width, 0);
	ck_assert_uint_eq(rig.vd.ro_writes, 0);
	ck_assert_uint_eq(rig.vd.enable_zero, 0);
}
END_TEST

/* A common structure that ends before queue_reset cannot reset queues:
 * the feature is not shown to the driver. */
START_TEST(short_common_structure_hides_ring_reset)
{
	NEED_TRAPS();
	fake_fn_w32(rig.net, 0x40 + 12, 0x38); /* the common cap's length */
	open_ok();
	ck_assert_uint_eq(rig.t->ops->get_features(rig.t), 0x0000000130bf8024ull);
	ck_assert_int_eq(rig.t->ops->queue_reset(rig.t, 0), -EINVAL);
	ck_assert_uint_eq(rig.vd.qresets, 0);
}
END_TEST

/* ------------------------------------------------------------ MSI-X -- */

#define MSI_ADDR 0x00000001fee01000ull /* both halves of the address used */
#define MSI_DATA 0x4041u

static uint16_t msix_ctrl(void)
{
	return fake_fn_r16(rig.net, 0x98 + 2);
}

static void open_msix(void)
{
	rig.o.msi_addr = MSI_ADDR;
	rig.o.msi_data = MSI_DATA;
	open_ok();
}

/* With a message given, entry 0 of the table (QEMU's place: BAR1 at 0)
 * holds it unmasked, MSI-X is enabled with the function unmasked, and
 * every queue set up asks for vector 0 (spec 4.1.5.1.2). */
START_TEST(msix_entry_programmed_and_enabled)
{
	struct vnet_vq_addrs a = {.desc = 0x10000, .avail = 0x11000, .used = 0x12000};
	uint16_t q;

	NEED_TRAPS();
	fake_fn_w16(rig.net, 0x98 + 2, (uint16_t)(msix_ctrl() | 0x4000)); /* function masked */
	open_msix();
	ck_assert_uint_eq(rig.maps, 2); /* the virtio BAR and the MSI-X BAR */
	ck_assert_uint_eq(fake_vdev_msix_addr(&rig.vd, 0), MSI_ADDR);
	ck_assert_uint_eq(fake_vdev_msix_data(&rig.vd, 0), MSI_DATA);
	ck_assert_uint_eq(fake_vdev_msix_ctrl(&rig.vd, 0), 0);          /* unmasked */
	ck_assert_uint_eq(fake_vdev_msix_ctrl(&rig.vd, 1), 1);          /* untouched */
	ck_assert_uint_eq(rig.vd.msix_writes, 4);
	ck_assert_uint_eq(rig.vd.msix_bad_width, 0);
	ck_assert_uint_eq(msix_ctrl(), 0x8000 | (VDEV_MSIX_VECS - 1)); /* enable, no mask */
	ck_assert_uint_eq(rig.net->msix_ctrl_writes, 1);
	ck_assert_uint_eq(rig.net->illegal_writes, 0);
	ck_assert(!logcap_has("MSI-X"));
	for (q = 0; q < VDEV_QUEUES; q++) {
		ck_assert_uint_eq(rig.vd.q[q].msix_vector, VDEV_NO_VECTOR);
		ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, q, 64, &a), 0);
		ck_assert_uint_eq(rig.vd.q[q].msix_vector, 0);
	}
	ck_assert_uint_eq(rig.vd.vector_writes, VDEV_QUEUES);
	ck_assert_uint_eq(rig.vd.config_vector, VDEV_NO_VECTOR); /* config changes: not wanted */
	ck_assert_uint_eq(rig.vd.bad_width, 0);
	ck_assert_uint_eq(logcap_errors, 0);
}
END_TEST

/* A device reset takes the queues' vectors back to NO_VECTOR (QEMU does
 * it in virtio_reset()); the next set-up asks again. MSI-X itself is PCI
 * state the reset does not touch, and close leaves it as it is too: bus
 * mastering, not MSI-X, is what stops the device's writes (the
 * libpciaccess transport turns it off at close). */
START_TEST(msix_vectors_again_after_reset)
{
	struct vnet_vq_addrs a = {.desc = 0x10000, .avail = 0x11000, .used = 0x12000};

	NEED_TRAPS();
	open_msix();
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 0, 64, &a), 0);
	ck_assert_uint_eq(rig.vd.q[0].msix_vector, 0);
	ck_assert_int_eq(rig.t->ops->reset(rig.t), 0);
	ck_assert_uint_eq(rig.vd.q[0].msix_vector, VDEV_NO_VECTOR);
	ck_assert_uint_eq(msix_ctrl() & 0x8000, 0x8000);
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 0, 64, &a), 0);
	ck_assert_uint_eq(rig.vd.q[0].msix_vector, 0);
	ck_assert_uint_eq(rig.vd.vector_writes, 2);
	vnet_transport_close(rig.t);
	rig.t = NULL;
	ck_assert_uint_eq(rig.unmaps, 2); /* both BARs */
	ck_assert_uint_eq(rig.net->msix_ctrl_writes, 1);
	ck_assert_uint_eq(msix_ctrl() & 0x8000, 0x8000);
}
END_TEST

/* 4.1.5.1.2: a device that cannot map the vector reads back NO_VECTOR;
 * the queue still works (polled), with a warning per queue. */
START_TEST(msix_vector_refused_by_device)
{
	struct vnet_vq_addrs a = {.desc = 0x10000, .avail = 0x11000, .used = 0x12000};

	NEED_TRAPS();
	rig.vd.msix_refuse = 1;
	open_msix();
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 1, 64, &a), 0);
	ck_assert_uint_eq(rig.vd.q[1].msix_vector, VDEV_NO_VECTOR);
	ck_assert_uint_eq(rig.vd.q[1].enable, 1);
	ck_assert(logcap_has("queue 1: the device refused MSI-X vector 0; it will not interrupt"));
	ck_assert_uint_eq(logcap_errors, 0);
	/* a table without entry 0 answers the same way */
	rig.vd.msix_refuse = 0;
	rig.vd.msix_nvec = 0;
	ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 2, 64, &a), 0);
	ck_assert_uint_eq(rig.vd.q[2].msix_vector, VDEV_NO_VECTOR);
	ck_assert(logcap_has("queue 2: the device refused"));
}
END_TEST

/* No MSI-X, or a table where no BAR decodes it, or one that cannot be
 * mapped: the device opens, polling only, MSI-X stays off and no queue
 * asks for a vector. */
static void check_polling_only(const char *why)
{
	struct vnet_vq_addrs a = {.desc = 0x10000, .avail = 0x11000, .used = 0x12000};

	open_msix();
	ck_assert_msg(logcap_has(why), "want '%s' in:\n%s", why, logcap_buf);
	ck_assert_uint_eq(msix_ctrl() & 0xc000, 0);
	ck_assert_uint_eq(rig.net->msix_ctrl_writes, 0);
	ck_assert_uint_eq(rig.vd.msix_writes, 0);
	if (trap_supported()) {
		ck_assert_int_eq(rig.t->ops->queue_setup(rig.t, 0, 64, &a), 0);
		ck_assert_uint_eq(rig.vd.vector_writes, 0);
	}
}

START_TEST(msix_absent_polls)
{
	rig.net->cfg[0x98] = 0x05; /* an MSI capability, not MSI-X */
	check_polling_only("no MSI-X capability: the device cannot wake a sleeping loop");
	ck_assert_uint_eq(rig.maps, 1);
}
END_TEST

START_TEST(msix_table_outside_bar_polls)
{
	/* past the end of BAR1 */
	fake_fn_w32(rig.net, 0x98 + 4, (VDEV_MSIX_SIZE - 8) | 1);
	check_polling_only("MSI-X table 0xff8 in BAR1 is not usable: polling only");
	ck_assert_uint_eq(rig.maps, 1);
}
END_TEST

START_TEST(msix_table_in_reserved_bir_polls)
{
	fake_fn_w32(rig.net, 0x98 + 4, 7); /* BIR 7: reserved */
	check_polling_only("MSI-X table 0x0 in BAR7 is not usable");
}
END_TEST

START_TEST(msix_table_in_io_bar_polls)
{
	fake_fn_iobar(rig.net, 0, 0x20, 0xc000);
	fake_fn_w32(rig.net, 0x98 + 4, 0); /* BAR0 */
	check_polling_only("MSI-X table 0x0 in BAR0 is not usable");
}
END_TEST

START_TEST(msix_table_unmappable_polls)
{
	rig.msix_map_fail = 1;
	check_polling_only("cannot map BAR1 at 0xfecc0000");
	ck_assert_uint_eq(rig.maps, 2);
}
END_TEST

/* msi_addr 0: MSI-X is never looked at (pure polling, no warning). */
START_TEST(msix_not_asked_for)
{
	open_ok();
	ck_assert(!logcap_has("MSI-X"));
	ck_assert_uint_eq(msix_ctrl() & 0x8000, 0);
	ck_assert_uint_eq(rig.maps, 1);
}
END_TEST

/* ------------------------------------------------------------ INTx -- */

#define PCI_INT_LINE 0x3c /* Interrupt Line: firmware's routing note, not the pin */
#define PCI_INT_PIN  0x3d

/* The function moved to bus 3, device 0x1d, function 6 (behind a
 * multi-function function 0), so each field of the BDF is told apart. */
static void move_net(void)
{
	struct fake_fn *f0 = fake_pci_add(&rig.pci, 3, 0x1d, 0, 0x8086, 0x2918);

	f0->cfg[0x0e] = 0x80;
	rig.net->bus = 3;
	rig.net->dev = 0x1d;
	rig.net->fn = 6;
}

/* 4.1.5.4: without MSI-X the device interrupts through its INTx pin;
 * the pin is read from config space at open, the BDF is where the
 * function was found. */
START_TEST(intx_reports_pin_and_bdf)
{
	uint32_t bdf = 0;
	uint8_t pin = 0;
	unsigned reads;

	move_net();
	rig.net->cfg[PCI_INT_LINE] = 11;
	rig.net->cfg[PCI_INT_PIN] = 3; /* INTC# */
	open_ok();
	reads = rig.pci.reads;
	ck_assert_int_eq(vnet_pci_intx(rig.t, &bdf, &pin), 0);
	ck_assert_uint_eq(bdf, 3u << 8 | 0x1du << 3 | 6u);
	ck_assert_uint_eq(pin, 3);
	/* read at open: config space is not looked at again, and a pin
	 * changed since is not seen */
	ck_assert_uint_eq(rig.pci.reads, reads);
	rig.net->cfg[PCI_INT_PIN] = 1;
	ck_assert_int_eq(vnet_pci_intx(rig.t, &bdf, &pin), 0);
	ck_assert_uint_eq(pin, 3);
	ck_assert_uint_eq(rig.net->illegal_writes, 0);
}
END_TEST

/* Every pin INTA#..INTD# is reported as such. */
START_TEST(intx_each_pin)
{
	uint32_t bdf = 0;
	uint8_t pin = 0, want;

	for (want = 1; want <= 4; want++) {
		rig_setup(1);
		rig.net->cfg[PCI_INT_PIN] = want;
		open_ok();
		ck_assert_int_eq(vnet_pci_intx(rig.t, &bdf, &pin), 0);
		ck_assert_uint_eq(pin, want);
		ck_assert_uint_eq(bdf, 1u << 3);
	}
}
END_TEST

/* Interrupt Pin 0 (the function uses no pin), or a value past INTD#, is
 * no line to route: -ENOENT, and the outputs are left alone. */
START_TEST(intx_without_a_pin)
{
	static const uint8_t bad[] = {0, 5, 0xff};
	uint32_t bdf;
	uint8_t pin;
	unsigned i;

	for (i = 0; i < sizeof(bad); i++) {
		rig_setup(1);
		rig.net->cfg[PCI_INT_LINE] = 11;
		rig.net->cfg[PCI_INT_PIN] = bad[i];
		open_ok();
		bdf = 0xdead;
		pin = 0xee;
		ck_assert_int_eq(vnet_pci_intx(rig.t, &bdf, &pin), -ENOENT);
		ck_assert_uint_eq(bdf, 0xdead);
		ck_assert_uint_eq(pin, 0xee);
	}
}
END_TEST

/* With MSI-X programmed the queues interrupt through it, not the pin. */
START_TEST(intx_refused_with_msix)
{
	uint32_t bdf = 0xdead;
	uint8_t pin = 0xee;

	rig.net->cfg[PCI_INT_PIN] = 1;
	open_msix();
	ck_assert_uint_eq(msix_ctrl() & 0x8000, 0x8000);
	ck_assert_int_eq(vnet_pci_intx(rig.t, &bdf, &pin), -ENOENT);
	ck_assert_uint_eq(bdf, 0xdead);
	ck_assert_uint_eq(pin, 0xee);
}
END_TEST

/* MSI-X asked for but not usable (no capability): polling, and the pin
 * is there for a caller that wants to sleep on it. */
START_TEST(intx_when_msix_is_not_usable)
{
	uint32_t bdf = 0;
	uint8_t pin = 0;

	rig.net->cfg[0x98] = 0x05; /* an MSI capability, not MSI-X */
	rig.net->cfg[PCI_INT_PIN] = 1;
	open_msix();
	ck_assert(logcap_has("no MSI-X capability"));
	ck_assert_int_eq(vnet_pci_intx(rig.t, &bdf, &pin), 0);
	ck_assert_uint_eq(pin, 1);
}
END_TEST

/* The ISR status structure is optional at open; without it nothing says
 * why the line was raised nor lowers it: no INTx, and an ack reads
 * nothing and returns 0. */
START_TEST(intx_without_isr_structure)
{
	uint32_t bdf = 0xdead;
	uint8_t pin = 0xee;

	NEED_TRAPS();
	rig.net->cfg[0x50 + 3] = 0x7f; /* the ISR capability: a type the driver skips */
	rig.net->cfg[PCI_INT_PIN] = 1;
	open_ok();
	ck_assert_int_eq(vnet_pci_intx(rig.t, &bdf, &pin), -ENOENT);
	ck_assert_uint_eq(bdf, 0xdead);
	ck_assert_uint_eq(pin, 0xee);
	rig.vd.isr = 1;
	rig.vd.bar_accesses = 0;
	ck_assert_uint_eq(vnet_pci_intr_ack(rig.t), 0);
	ck_assert_uint_eq(rig.vd.bar_accesses, 0);
	ck_assert_uint_eq(rig.vd.isr, 1);
}
END_TEST

START_TEST(intx_argument_checks)
{
	uint32_t bdf = 0xdead;
	uint8_t pin = 0xee;

	rig.net->cfg[PCI_INT_PIN] = 1;
	open_ok();
	ck_assert_int_eq(vnet_pci_intx(NULL, &bdf, &pin), -EINVAL);
	ck_assert_int_eq(vnet_pci_intx(rig.t, NULL, &pin), -EINVAL);
	ck_assert_int_eq(vnet_pci_intx(rig.t, &bdf, NULL), -EINVAL);
	ck_assert_uint_eq(bdf, 0xdead);
	ck_assert_uint_eq(pin, 0xee);
	ck_assert_uint_eq(vnet_pci_intr_ack(NULL), 0);
}
END_TEST

/* 4.1.4.5: one byte read of ISR status returns why (bit 0 a queue, bit
 * 1 a configuration change) and resets it, which deasserts the line;
 * nothing else in the BAR is touched. */
START_TEST(intr_ack_reads_isr_once)
{
	static const uint8_t why[] = {1, 2, 3};
	unsigned i;

	NEED_TRAPS();
	open_ok();
	for (i = 0; i < sizeof(why); i++) {
		rig.vd.isr = why[i];
		rig.vd.bar_accesses = rig.vd.isr_reads = 0;
		ck_assert_uint_eq(vnet_pci_intr_ack(rig.t), why[i]);
		ck_assert_uint_eq(rig.vd.isr_reads, 1);
		ck_assert_uint_eq(rig.vd.bar_accesses, 1);
		ck_assert_uint_eq(rig.vd.isr, 0); /* line lowered */
	}
	/* nothing pending: still one read, 0 */
	rig.vd.bar_accesses = rig.vd.isr_reads = 0;
	ck_assert_uint_eq(vnet_pci_intr_ack(rig.t), 0);
	ck_assert_uint_eq(rig.vd.isr_reads, 1);
	ck_assert_uint_eq(rig.vd.bar_accesses, 1);
	ck_assert_uint_eq(rig.vd.isr_bad, 0);
	ck_assert_uint_eq(rig.vd.bad_width, 0);
	ck_assert_uint_eq(rig.vd.notifies, 0);
	ck_assert_uint_eq(rig.vd.ncfg, 0);
}
END_TEST

/* An MMIO transport is not a PCI one, nor the reverse: each function
 * refuses the other's transport (-EINVAL, or 0) and touches neither
 * device. */
START_TEST(intr_functions_refuse_the_other_transport)
{
	struct fake_mmio fm;
	struct vnet_transport *mt = NULL;
	uint32_t bdf = 0xdead;
	uint8_t pin = 0xee;

	NEED_TRAPS();
	rig.net->cfg[PCI_INT_PIN] = 1;
	open_ok();
	ck_assert_int_eq(fake_mmio_init(&fm, 2, 1), 0);
	ck_assert_int_eq(vnet_mmio_open(&mt, (uintptr_t)fm.win.mem), 0);
	fm.int_status = 3;
	rig.vd.isr = 3;
	fm.accesses = 0;
	rig.vd.bar_accesses = 0;
	ck_assert_int_eq(vnet_pci_intx(mt, &bdf, &pin), -EINVAL);
	ck_assert_uint_eq(bdf, 0xdead);
	ck_assert_uint_eq(pin, 0xee);
	ck_assert_uint_eq(vnet_pci_intr_ack(mt), 0);
	ck_assert_uint_eq(vnet_mmio_intr_ack(rig.t), 0);
	ck_assert_uint_eq(vnet_mmio_base(rig.t), 0);
	ck_assert_uint_eq(fm.accesses, 0);
	ck_assert_uint_eq(rig.vd.bar_accesses, 0);
	ck_assert_uint_eq(fm.int_status, 3);
	ck_assert_uint_eq(rig.vd.isr, 3);
	/* each still answers for its own */
	ck_assert_uint_eq(vnet_mmio_base(mt), (uintptr_t)fm.win.mem);
	ck_assert_int_eq(vnet_pci_intx(rig.t, &bdf, &pin), 0);
	ck_assert_uint_eq(vnet_pci_intr_ack(rig.t), 3);
	ck_assert_uint_eq(vnet_mmio_intr_ack(mt), 3);
	vnet_transport_close(mt);
	fake_mmio_fini(&fm);
}
END_TEST

static Suite *pci_suite(void)
{
	Suite *s = suite_create("transport_pci");
	TCase *d = tcase_create("discovery");
	TCase *o = tcase_create("ops");
	TCase *m = tcase_create("msix");
	TCase *x = tcase_create("intx");

	tcase_add_checked_fixture(d, setup_assigned, teardown);
	tcase_add_test(d, opens_firmware_assigned_device);
	tcase_add_test(d, sets_bus_master_and_memory);
	tcase_add_test(d, assigns_unassigned_bars);
	tcase_add_test(d, assigns_from_caller_window_past_existing_bar);
	tcase_add_test(d, places_64bit_bar_above_4g);
	tcase_add_test(d, refuses_32bit_bar_above_4g);
	tcase_add_test(d, finds_nth_device_and_skips_absent_functions);
	tcase_add_test(d, multifunction_bit_gates_functions_1_to_7);
	tcase_add_test(d, transitional_without_modern_caps_needs_io_bar0);
	tcase_add_test(d, transitional_with_modern_caps_opens);
	tcase_add_test(d, no_capability_list_modern_device);
	tcase_add_test(d, looped_capability_list);
	tcase_add_test(d, truncated_capability_list);
	tcase_add_test(d, structure_outside_its_bar_is_refused);
	tcase_add_test(d, prefers_first_usable_capability);
	tcase_add_test(d, notify_multiplier_must_be_even_power_of_two);
	tcase_add_test(d, capability_ids_read_once);
	tcase_add_test(d, hosted_build_never_uses_port_io);
	tcase_add_test(d, port_io_offsets_past_256_touch_nothing);
	tcase_add_test(d, capability_in_reserved_bar_ignored);
	tcase_add_test(d, ecam_ops_address_layout);
	tcase_add_test(d, opens_through_ecam);
	tcase_add_test(d, ecam_that_cannot_be_mapped);
	tcase_add_test(d, skips_other_virtio_functions);
	tcase_add_test(d, bar5_claiming_64_bits_is_ignored);
	tcase_add_test(d, bar_that_does_not_take_its_address);
	tcase_add_test(d, window_at_the_top_of_the_address_space);
	tcase_add_test(d, device_without_queues_is_refused);
	tcase_add_test(d, identity_mapping_without_map_callback);
	suite_add_tcase(s, d);

	tcase_add_checked_fixture(o, setup_assigned, teardown);
	tcase_set_timeout(o, 30);
	tcase_add_test(o, features_go_through_select_registers);
	tcase_add_test(o, status_and_generation);
	tcase_add_test(o, reset_waits_for_slow_device);
	tcase_add_test(o, reset_times_out_on_stuck_device);
	tcase_add_test(o, bus_master_off_and_on);
	tcase_add_test(o, read_config_uses_field_widths);
	tcase_add_test(o, queue_max_selects_queue);
	tcase_add_test(o, queue_setup_programs_halves_and_notify);
	tcase_add_test(o, queue_setup_refusals);
	tcase_add_test(o, notify_multiplier_zero_shares_one_address);
	tcase_add_test(o, reset_clears_queues_for_setup_again);
	tcase_add_test(o, queue_reset_one_queue);
	tcase_add_test(o, short_common_structure_hides_ring_reset);
	suite_add_tcase(s, o);

	tcase_add_checked_fixture(m, setup_assigned, teardown);
	tcase_set_timeout(m, 30);
	tcase_add_test(m, msix_entry_programmed_and_enabled);
	tcase_add_test(m, msix_vectors_again_after_reset);
	tcase_add_test(m, msix_vector_refused_by_device);
	tcase_add_test(m, msix_absent_polls);
	tcase_add_test(m, msix_table_outside_bar_polls);
	tcase_add_test(m, msix_table_in_reserved_bir_polls);
	tcase_add_test(m, msix_table_in_io_bar_polls);
	tcase_add_test(m, msix_table_unmappable_polls);
	tcase_add_test(m, msix_not_asked_for);
	suite_add_tcase(s, m);

	tcase_add_checked_fixture(x, setup_assigned, teardown);
	tcase_set_timeout(x, 30);
	tcase_add_test(x, intx_reports_pin_and_bdf);
	tcase_add_test(x, intx_each_pin);
	tcase_add_test(x, intx_without_a_pin);
	tcase_add_test(x, intx_refused_with_msix);
	tcase_add_test(x, intx_when_msix_is_not_usable);
	tcase_add_test(x, intx_without_isr_structure);
	tcase_add_test(x, intx_argument_checks);
	tcase_add_test(x, intr_ack_reads_isr_once);
	tcase_add_test(x, intr_functions_refuse_the_other_transport);
	suite_add_tcase(s, x);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pci_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
