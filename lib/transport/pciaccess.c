/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio-net PCI from a Linux process, through libpciaccess: config space
 * and BAR mappings come from libpciaccess (sysfs), the virtio side is the
 * ordinary PCI modern transport (pci.c), and DMA memory switches to pinned
 * hugepages addressed by physical address (/proc/self/pagemap), since the
 * device sees guest-physical memory with no IOMMU.
 *
 * Safety: a device bound to a kernel driver is refused, and without the
 * exact PCI address only a QEMU guest that opted in (VNET_PCI_AUTO=1, as
 * the e2e guest's /init does) picks a device by itself.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pciaccess.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vnet/linux.h>
#include <vnet/transports.h>
#include <vnet/vnet.h>

#include "base/platform.h"
#include "transport/pci_cfg.h"
#include "transport/transport.h"

#define HUGEPAGE (2u << 20)
#define PAGE 4096u
#define CONTIG_TRIES 8

struct pa_transport {
	struct vnet_transport base;
	struct vnet_transport *inner; /* pci.c's transport */
	struct pci_device *dev;
	struct pci_io_handle *io;     /* I/O BAR0 (a legacy device's registers) */
	uint64_t io_base;
};

static struct pa_transport *to_pa(struct vnet_transport *t)
{
	return (struct pa_transport *)t;
}

/* ------------------------------------------------- config space, maps -- */

/* Only the chosen function exists: everything else reads as all ones, so
 * that pci.c's enumeration can never reach another device. */
static int is_ours(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn)
{
	struct pci_device *d = ctx;
	return d->bus == bus && d->dev == dev && d->func == fn;
}

static uint8_t cr8(void *ctx, uint8_t b, uint8_t d, uint8_t f, uint16_t off)
{
	uint8_t v = 0xff;
	if (is_ours(ctx, b, d, f) && pci_device_cfg_read_u8(ctx, &v, off))
		v = 0xff;
	return v;
}

static uint16_t cr16(void *ctx, uint8_t b, uint8_t d, uint8_t f, uint16_t off)
{
	uint16_t v = 0xffff;
	if (is_ours(ctx, b, d, f) && pci_device_cfg_read_u16(ctx, &v, off))
		v = 0xffff;
	return v;
}

static uint32_t cr32(void *ctx, uint8_t b, uint8_t d, uint8_t f, uint16_t off)
{
	uint32_t v = 0xffffffffu;
	if (is_ours(ctx, b, d, f) && pci_device_cfg_read_u32(ctx, &v, off))
		v = 0xffffffffu;
	return v;
}

static void cw8(void *ctx, uint8_t b, uint8_t d, uint8_t f, uint16_t off, uint8_t v)
{
	if (is_ours(ctx, b, d, f))
		pci_device_cfg_write_u8(ctx, v, off);
}

static void cw16(void *ctx, uint8_t b, uint8_t d, uint8_t f, uint16_t off, uint16_t v)
{
	if (is_ours(ctx, b, d, f))
		pci_device_cfg_write_u16(ctx, v, off);
}

static void cw32(void *ctx, uint8_t b, uint8_t d, uint8_t f, uint16_t off, uint32_t v)
{
	if (is_ours(ctx, b, d, f))
		pci_device_cfg_write_u32(ctx, v, off);
}

static const struct vnet_pci_cfg_ops pa_cfg_ops = {cr8, cr16, cr32, cw8, cw16, cw32};

static void *pa_map(void *arg, uint64_t phys, uint64_t len)
{
	void *va = NULL;

	if (pci_device_map_range(arg, (pciaddr_t)phys, (pciaddr_t)len, PCI_DEV_MAP_FLAG_WRITABLE, &va)) {
		vnet_log(VNET_LOG_ERR, "pciaccess: cannot map 0x%llx+0x%llx",
		         (unsigned long long)phys, (unsigned long long)len);
		return NULL;
	}
	return va;
}

static void pa_unmap(void *arg, void *va, uint64_t len)
{
	pci_device_unmap_range(arg, va, (pciaddr_t)len);
}

/* ------------------------------------------------- hugepage DMA memory -- */

/* Physical address of the page at @va (root only: PFNs read as 0 else). */
static int virt_to_phys(int pm, const void *va, uint64_t *phys)
{
	uint64_t e;
	off_t off = (off_t)((uintptr_t)va / PAGE * 8);

	if (pread(pm, &e, 8, off) != 8)
		return -EIO;
	if (!(e & (1ull << 63)) || (e & ((1ull << 55) - 1)) == 0)
		return -EPERM; /* not present, or PFN hidden */
	*phys = (e & ((1ull << 55) - 1)) * PAGE + (uintptr_t)va % PAGE;
	return 0;
}

/* One try: a hugetlb memfd of @sz bytes, locked; its physical start if it
 * is physically contiguous, else *contig = 0. */
static int huge_try(struct vnet_dma *d, size_t sz, int pm, int *contig)
{
	uint64_t first = 0, p;
	size_t off;
	void *va;
	int fd, rc;

	fd = memfd_create("vnet-dma-huge", MFD_CLOEXEC | MFD_HUGETLB);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)sz) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	va = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE | MAP_LOCKED, fd, 0);
	if (va == MAP_FAILED) {
		rc = -errno;
		close(fd);
		return rc == -EAGAIN || rc == -EINVAL ? -ENOMEM : rc;
	}
	*contig = 1;
	for (off = 0; off < sz; off += HUGEPAGE) {
		((volatile uint8_t *)va)[off] = 0; /* make sure it is there */
		rc = virt_to_phys(pm, (uint8_t *)va + off, &p);
		if (rc) {
			munmap(va, sz);
			close(fd);
			return rc;
		}
		if (off == 0)
			first = p;
		else if (p != first + off)
			*contig = 0;
	}
	memset(va, 0, sz);
	d->va = va;
	d->iova = first;
	d->len = sz;
	d->fd = fd;
	d->fd_off = 0;
	return 0;
}

static void huge_free(void *arg, struct vnet_dma *d)
{
	(void)arg;
	munmap(d->va, d->len);
	if (d->fd >= 0)
		close(d->fd);
}

static int huge_alloc(void *arg, struct vnet_dma *d, size_t len, size_t align)
{
	struct vnet_dma tries[CONTIG_TRIES] = {{0}};
	size_t sz = (len + HUGEPAGE - 1) & ~(size_t)(HUGEPAGE - 1);
	int pm, rc = 0, n = 0, contig = 0, i;

	(void)arg;
	if (align > HUGEPAGE)
		return -EINVAL;
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0)
		return -errno;
	/* Larger than one hugepage: retry until the pages happen to be
	 * physically contiguous, keeping the failures mapped meanwhile so that
	 * the kernel hands out different ones. */
	while (n < CONTIG_TRIES) {
		rc = huge_try(&tries[n], sz, pm, &contig);
		if (rc)
			break;
		if (contig)
			break;
		n++;
	}
	close(pm);
	for (i = 0; i < n; i++)
		huge_free(NULL, &tries[i]);
	if (rc == 0 && contig) {
		*d = tries[n];
		return 0;
	}
	if (rc == -ENOMEM)
		vnet_log(VNET_LOG_ERR, "pciaccess: no free hugepages for %zu bytes of DMA memory "
		         "(echo 64 > /proc/sys/vm/nr_hugepages)", sz);
	else if (rc == -EPERM)
		vnet_log(VNET_LOG_ERR, "pciaccess: /proc/self/pagemap hides physical addresses (need root)");
	else if (rc == 0)
		vnet_log(VNET_LOG_ERR, "pciaccess: %zu bytes of physically contiguous hugepages not found "
		         "in %d tries: use smaller pools (at most 2 MiB each)", sz, CONTIG_TRIES);
	return rc ? rc : -ENOMEM;
}

static const struct vnet_dma_allocator huge_allocator = {huge_alloc, huge_free, NULL};

/* ----------------------------------------------------- device choice -- */

#define SYSFS_PCI "/sys/bus/pci/devices"

static void bdf_str(const struct pci_device *d, char *s, size_t n)
{
	snprintf(s, n, "%04x:%02x:%02x.%x", d->domain, d->bus, d->dev, d->func);
}

/* The kernel driver bound to @d, into @name; 0 if none. */
static int bound_driver(const struct pci_device *d, char *name, size_t n)
{
	char bdf[16], link[PATH_MAX], target[PATH_MAX];
	ssize_t len;
	const char *base;

	bdf_str(d, bdf, sizeof(bdf));
	snprintf(link, sizeof(link), SYSFS_PCI "/%s/driver", bdf);
	len = readlink(link, target, sizeof(target) - 1);
	if (len < 0)
		return 0;
	target[len] = 0;
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (n) {
		size_t l = strlen(base) < n - 1 ? strlen(base) : n - 1;
		memcpy(name, base, l);
		name[l] = 0;
	}
	return 1;
}

static int is_virtio_net(const struct pci_device *d)
{
	return d->vendor_id == 0x1af4 && (d->device_id == 0x1041 || d->device_id == 0x1000);
}

/* Inside the e2e guest: QEMU's DMI vendor and the opt-in variable. */
static int auto_allowed(void)
{
	char buf[64] = {0};
	const char *env = getenv("VNET_PCI_AUTO");
	FILE *f;

	if (!env || strcmp(env, "1") != 0)
		return 0;
	f = fopen("/sys/class/dmi/id/sys_vendor", "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strncmp(buf, "QEMU", 4) == 0;
}

/* One hex field of at most @max ended by @end ('\0': the string's end).
 * strtoul, not sscanf: "%x" has undefined behaviour on overflow. */
static int hex_field(const char **s, char end, unsigned long max, unsigned *out)
{
	unsigned long v;
	char *e;

	if (!isxdigit((unsigned char)**s))
		return -EINVAL;
	errno = 0;
	v = strtoul(*s, &e, 16);
	if (errno || v > max || *e != end)
		return -EINVAL;
	*out = (unsigned)v;
	*s = end ? e + 1 : e;
	return 0;
}

/* [domain:]bus:dev.fn, in hex */
static int parse_bdf(const char *s, unsigned *dom, unsigned *bus, unsigned *dev, unsigned *fn)
{
	const char *p = s;

	*dom = 0;
	if (strchr(s, ':') != strrchr(s, ':') && hex_field(&p, ':', UINT_MAX, dom))
		return -EINVAL;
	if (hex_field(&p, ':', 255, bus) || hex_field(&p, '.', 31, dev) || hex_field(&p, '\0', 7, fn))
		return -EINVAL;
	return 0;
}

static int pick_device(const struct vnet_pciaccess_opts *o, struct pci_device **out)
{
	char drv[64], bdf[16];
	struct pci_device *d;

	*out = NULL;
	if (o && o->bdf) {
		unsigned dom, bus, dev, fn;

		if (parse_bdf(o->bdf, &dom, &bus, &dev, &fn)) {
			vnet_log(VNET_LOG_ERR, "pciaccess: '%s' is no PCI address (DDDD:BB:DD.F)", o->bdf);
			return -EINVAL;
		}
		d = pci_device_find_by_slot(dom, bus, dev, fn);
		if (!d) {
			vnet_log(VNET_LOG_ERR, "pciaccess: no PCI device at %s", o->bdf);
			return -ENODEV;
		}
		bdf_str(d, bdf, sizeof(bdf));
		if (!is_virtio_net(d)) {
			vnet_log(VNET_LOG_ERR, "pciaccess: %s is %04x:%04x, not a virtio-net device", bdf,
			         d->vendor_id, d->device_id);
			return -ENODEV;
		}
		if (bound_driver(d, drv, sizeof(drv))) {
			vnet_log(VNET_LOG_ERR, "pciaccess: %s is bound to the kernel driver %s; vnet will not "
			         "take it from the kernel (to hand it over: echo %s > "
			         SYSFS_PCI "/%s/driver/unbind)", bdf, drv, bdf, bdf);
			return -EBUSY;
		}
		*out = d;
		return 0;
	}
	if (!auto_allowed()) {
		vnet_log(VNET_LOG_ERR, "pciaccess: name the device's exact PCI address (e.g. "
		         "0000:00:03.0); picking one by itself is only done in the QEMU test guest "
		         "(VNET_PCI_AUTO=1)");
		return -EPERM;
	}
	{
		struct pci_id_match m = {0x1af4, PCI_MATCH_ANY, PCI_MATCH_ANY, PCI_MATCH_ANY, 0, 0, 0};
		struct pci_device_iterator *it = pci_id_match_iterator_create(&m);

		while (it && (d = pci_device_next(it)) != NULL) {
			if (!is_virtio_net(d))
				continue;
			bdf_str(d, bdf, sizeof(bdf));
			if (bound_driver(d, drv, sizeof(drv))) {
				vnet_log(VNET_LOG_INFO, "pciaccess: %s skipped: bound to %s", bdf, drv);
				continue;
			}
			*out = d;
			break;
		}
		pci_iterator_destroy(it);
	}
	if (!*out) {
		vnet_log(VNET_LOG_ERR, "pciaccess: no unbound virtio-net PCI device");
		return -ENODEV;
	}
	return 0;
}

/* --------------------------------------------------------- transport -- */

static int fw_reset(struct vnet_transport *t)
{
	struct vnet_transport *i = to_pa(t)->inner;
	return i->ops->reset(i);
}
static uint8_t fw_get_status(struct vnet_transport *t)
{
	struct vnet_transport *i = to_pa(t)->inner;
	return i->ops->get_status(i);
}
static void fw_set_status(struct vnet_transport *t, uint8_t s)
{
	struct vnet_transport *i = to_pa(t)->inner;
	i->ops->set_status(i, s);
}
static uint64_t fw_get_features(struct vnet_transport *t)
{
	struct vnet_transport *i = to_pa(t)->inner;
	return i->ops->get_features(i);
}
static void fw_set_features(struct vnet_transport *t, uint64_t f)
{
	struct vnet_transport *i = to_pa(t)->inner;
	i->ops->set_features(i, f);
}
static uint32_t fw_config_generation(struct vnet_transport *t)
{
	struct vnet_transport *i = to_pa(t)->inner;
	return i->ops->config_generation(i);
}
static void fw_read_config(struct vnet_transport *t, uint32_t off, void *buf, uint32_t len)
{
	struct vnet_transport *i = to_pa(t)->inner;
	i->ops->read_config(i, off, buf, len);
}
static uint16_t fw_queue_max(struct vnet_transport *t, uint16_t q)
{
	struct vnet_transport *i = to_pa(t)->inner;
	return i->ops->queue_max(i, q);
}
static int fw_queue_setup(struct vnet_transport *t, uint16_t q, uint16_t size,
                          const struct vnet_vq_addrs *a)
{
	struct vnet_transport *i = to_pa(t)->inner;
	return i->ops->queue_setup(i, q, size, a);
}
static void fw_notify(struct vnet_transport *t, uint16_t q)
{
	struct vnet_transport *i = to_pa(t)->inner;
	i->ops->notify(i, q);
}
static int fw_queue_reset(struct vnet_transport *t, uint16_t q)
{
	struct vnet_transport *i = to_pa(t)->inner;
	return i->ops->queue_reset(i, q);
}

/* Bus mastering off after a reset that did not complete, on after one
 * that does: pci.c does it through our config access. */
static void fw_bus_master(struct vnet_transport *t, bool on)
{
	struct vnet_transport *i = to_pa(t)->inner;
	i->ops->bus_master(i, on);
}

/* The legacy interface's I/O BAR0 (spec 4.1.4.8) through libpciaccess's
 * port access (the kernel's resource file, or in/out with iopl). */
static uint32_t pa_io_read(void *arg, uint64_t port, unsigned width)
{
	struct pa_transport *p = arg;
	uint32_t reg = (uint32_t)(port - p->io_base);

	if (width == 1)
		return pci_io_read8(p->io, reg);
	return width == 2 ? pci_io_read16(p->io, reg) : pci_io_read32(p->io, reg);
}

static void pa_io_write(void *arg, uint64_t port, unsigned width, uint32_t v)
{
	struct pa_transport *p = arg;
	uint32_t reg = (uint32_t)(port - p->io_base);

	if (width == 1)
		pci_io_write8(p->io, reg, (uint8_t)v);
	else if (width == 2)
		pci_io_write16(p->io, reg, (uint16_t)v);
	else
		pci_io_write32(p->io, reg, v);
}

static const struct vnet_pci_io_ops pa_io_ops = { pa_io_read, pa_io_write };

/* Open BAR0 for port access when it is an I/O BAR: pci.c decides whether
 * the legacy interface is driven (and says so when it cannot reach it). */
static void pa_open_io(struct pa_transport *p, struct pci_device *d, struct vnet_pci_opts *po)
{
	if (!d->regions[0].is_IO || !d->regions[0].size || !d->regions[0].base_addr)
		return;
	p->io = pci_device_open_io(d, d->regions[0].base_addr, d->regions[0].size);
	if (!p->io) {
		vnet_log(VNET_LOG_WARN, "pciaccess: cannot open I/O BAR0 at 0x%llx: no legacy interface",
		         (unsigned long long)d->regions[0].base_addr);
		return;
	}
	p->io_base = d->regions[0].base_addr;
	po->io = &pa_io_ops;
	po->io_arg = p;
}

static void pa_close_io(struct pa_transport *p, struct pci_device *d)
{
	if (p->io)
		pci_device_close_io(d, p->io);
	p->io = NULL;
}

static void pa_close(struct vnet_transport *t)
{
	struct pa_transport *p = to_pa(t);

	vnet_transport_close(p->inner); /* unmaps the BARs through pa_unmap */
	pa_close_io(p, p->dev);
	/* bus mastering off: the device must not reach memory we give back */
	if (p->dev) {
		uint16_t cmd;
		if (pci_device_cfg_read_u16(p->dev, &cmd, VNET_PCI_COMMAND) == 0)
			pci_device_cfg_write_u16(p->dev, cmd & (uint16_t)~VNET_PCI_CMD_BUS_MASTER,
			                         VNET_PCI_COMMAND);
	}
	vnet_dma_set_allocator(NULL);
	pci_system_cleanup();
	free(p);
}

static const struct vnet_transport_ops pa_ops = {
	.name = "pciaccess",
	.reset = fw_reset,
	.get_status = fw_get_status,
	.set_status = fw_set_status,
	.get_features = fw_get_features,
	.set_features = fw_set_features,
	.config_generation = fw_config_generation,
	.read_config = fw_read_config,
	.queue_max = fw_queue_max,
	.queue_setup = fw_queue_setup,
	.notify = fw_notify,
	.close = pa_close,
	.queue_reset = fw_queue_reset,
	.bus_master = fw_bus_master,
};

/* The same over the legacy interface: what it lacks, this lacks too. */
static const struct vnet_transport_ops pa_legacy_ops = {
	.name = "pciaccess-legacy",
	.reset = fw_reset,
	.get_status = fw_get_status,
	.set_status = fw_set_status,
	.get_features = fw_get_features,
	.set_features = fw_set_features,
	.config_generation = fw_config_generation,
	.read_config = fw_read_config,
	.queue_max = fw_queue_max,
	.queue_setup = fw_queue_setup,
	.notify = fw_notify,
	.close = pa_close,
	.bus_master = fw_bus_master,
	.legacy = true,
};

int vnet_pciaccess_open(struct vnet_transport **t, const struct vnet_pciaccess_opts *o)
{
	struct vnet_pci_opts po;
	struct pa_transport *p;
	struct pci_device *d;
	char bdf[16];
	int rc, i;

	if (!t)
		return -EINVAL;
	*t = NULL;
	if (geteuid() != 0) {
		vnet_log(VNET_LOG_ERR, "pciaccess: needs root (config space, BARs, pagemap)");
		return -EPERM;
	}
	rc = pci_system_init();
	if (rc) {
		vnet_log(VNET_LOG_ERR, "pciaccess: pci_system_init: %s", vnet_strerror(-rc));
		return -rc;
	}
	rc = pick_device(o, &d);
	if (rc)
		goto fail_sys;
	bdf_str(d, bdf, sizeof(bdf));
	rc = -pci_device_probe(d);
	if (rc) {
		vnet_log(VNET_LOG_ERR, "pciaccess: probing %s: %s", bdf, vnet_strerror(rc));
		goto fail_sys;
	}
	/* Under Linux the kernel assigned the BARs; never place them ourselves. */
	for (i = 0; i < 6; i++) {
		if (d->regions[i].size && !d->regions[i].is_IO && d->regions[i].base_addr == 0) {
			vnet_log(VNET_LOG_ERR, "pciaccess: %s BAR%d is unassigned", bdf, i);
			rc = -ENODEV;
			goto fail_sys;
		}
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		rc = -ENOMEM;
		goto fail_sys;
	}
	memset(&po, 0, sizeof(po));
	po.cfg = &pa_cfg_ops;
	po.cfg_arg = d;
	po.map = pa_map;
	po.unmap = pa_unmap;
	po.map_arg = d;
	po.bar_window = 1ull << 62; /* unreachable: BARs are checked assigned above */
	po.legacy = o ? o->legacy : 0;
	pa_open_io(p, d, &po);
	rc = vnet_pci_open(&p->inner, &po);
	if (rc)
		goto fail_free;
	p->base.ops = p->inner->ops->legacy ? &pa_legacy_ops : &pa_ops;
	p->dev = d;
	vnet_dma_set_allocator(&huge_allocator);
	vnet_log(VNET_LOG_INFO, "pciaccess: %s opened; DMA memory from hugepages", bdf);
	*t = &p->base;
	return 0;

fail_free:
	pa_close_io(p, d);
	free(p);
fail_sys:
	pci_system_cleanup();
	return rc;
}
