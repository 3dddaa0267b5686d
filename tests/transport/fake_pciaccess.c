/* SPDX-License-Identifier: BSD-3-Clause */
/* A fake libpciaccess and fakes of its system interfaces: see fake_pciaccess.h. */
#define _GNU_SOURCE
#include "fake_pciaccess.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct fake_pa fpa;

#define HUGE_2M   (2ull << 20)
#define PHYS_BASE 0x100000000ull /* where the fake's hugepages start */
#define PHYS_STEP 0x10000000ull  /* room between two maps' pages */

void fpa_reset(void)
{
	memset(&fpa, 0, sizeof(fpa));
	fpa.pagemap_fd = -1;
}

struct fake_fn *fpa_add(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t vendor, uint16_t device,
                        const char *driver)
{
	unsigned i = fpa.pci.nfns;
	struct fake_fn *f = fake_pci_add(&fpa.pci, bus, dev, fn, vendor, device);
	struct pci_device *d;

	if (!f)
		return NULL;
	d = &fpa.dev[i];
	memset(d, 0, sizeof(*d));
	d->bus = bus;
	d->dev = dev;
	d->func = fn;
	d->vendor_id = vendor;
	d->device_id = device;
	fpa.driver[i] = driver;
	return f;
}

static unsigned dev_index(const struct pci_device *d)
{
	return (unsigned)(d - fpa.dev);
}

static struct fake_fn *fn_of(const struct pci_device *d)
{
	return &fpa.pci.fns[dev_index(d)];
}

/* ---------------------------------------------------- libpciaccess -- */

int __wrap_pci_system_init(void);
void __wrap_pci_system_cleanup(void);
struct pci_device *__wrap_pci_device_find_by_slot(uint32_t domain, uint32_t bus, uint32_t dev,
                                                  uint32_t func);
struct pci_device_iterator *__wrap_pci_id_match_iterator_create(const struct pci_id_match *m);
struct pci_device *__wrap_pci_device_next(struct pci_device_iterator *it);
void __wrap_pci_iterator_destroy(struct pci_device_iterator *it);
int __wrap_pci_device_probe(struct pci_device *d);
int __wrap_pci_device_map_range(struct pci_device *d, pciaddr_t base, pciaddr_t size,
                                unsigned flags, void **addr);
int __wrap_pci_device_unmap_range(struct pci_device *d, void *va, pciaddr_t size);
int __wrap_pci_device_cfg_read_u8(struct pci_device *d, uint8_t *v, pciaddr_t off);
int __wrap_pci_device_cfg_read_u16(struct pci_device *d, uint16_t *v, pciaddr_t off);
int __wrap_pci_device_cfg_read_u32(struct pci_device *d, uint32_t *v, pciaddr_t off);
int __wrap_pci_device_cfg_write_u8(struct pci_device *d, uint8_t v, pciaddr_t off);
int __wrap_pci_device_cfg_write_u16(struct pci_device *d, uint16_t v, pciaddr_t off);
int __wrap_pci_device_cfg_write_u32(struct pci_device *d, uint32_t v, pciaddr_t off);

int __wrap_pci_system_init(void)
{
	fpa.inits++;
	return fpa.init_rc;
}

void __wrap_pci_system_cleanup(void)
{
	fpa.cleanups++;
}

struct pci_device *__wrap_pci_device_find_by_slot(uint32_t domain, uint32_t bus, uint32_t dev,
                                                  uint32_t func)
{
	unsigned i;

	fpa.finds++;
	fpa.find_domain = domain;
	fpa.find_bus = bus;
	fpa.find_dev = dev;
	fpa.find_func = func;
	for (i = 0; i < fpa.pci.nfns; i++) {
		struct pci_device *d = &fpa.dev[i];

		if (d->domain == domain && d->bus == bus && d->dev == dev && d->func == func)
			return d;
	}
	return NULL;
}

/* Opaque in pciaccess.h: the fake's own. */
struct pci_device_iterator {
	struct pci_id_match m;
	unsigned next;
};

struct pci_device_iterator *__wrap_pci_id_match_iterator_create(const struct pci_id_match *m)
{
	struct pci_device_iterator *it;

	fpa.iters++;
	if (fpa.iter_null)
		return NULL;
	it = calloc(1, sizeof(*it));
	if (it)
		it->m = *m;
	return it;
}

static int id_matches(uint32_t want, uint16_t have)
{
	return want == PCI_MATCH_ANY || want == have;
}

struct pci_device *__wrap_pci_device_next(struct pci_device_iterator *it)
{
	while (it->next < fpa.pci.nfns) {
		struct pci_device *d = &fpa.dev[it->next++];

		if (id_matches(it->m.vendor_id, d->vendor_id) && id_matches(it->m.device_id, d->device_id))
			return d;
	}
	return NULL;
}

void __wrap_pci_iterator_destroy(struct pci_device_iterator *it)
{
	fpa.iter_destroys++; /* libpciaccess takes NULL too */
	free(it);
}

/* The regions as libpciaccess reads them from sysfs: the BARs' addresses. */
int __wrap_pci_device_probe(struct pci_device *d)
{
	const struct fake_fn *f = fn_of(d);
	unsigned i;

	fpa.probes++;
	if (fpa.probe_rc)
		return fpa.probe_rc;
	memset(d->regions, 0, sizeof(d->regions));
	for (i = 0; i < 6; i++) {
		struct pci_mem_region *r = &d->regions[i];
		uint32_t lo = fake_fn_r32(f, (uint16_t)(0x10 + 4 * i));

		if (!f->bar_size[i])
			continue;
		r->size = f->bar_size[i];
		r->is_IO = f->bar_io[i];
		r->is_64 = f->bar64[i];
		r->base_addr = f->bar_io[i] ? lo & ~0x3u : lo & ~0xfu;
		if (f->bar64[i] && i < 5)
			r->base_addr |= (pciaddr_t)fake_fn_r32(f, (uint16_t)(0x14 + 4 * i)) << 32;
		r->bus_addr = r->base_addr;
	}
	return 0;
}

int __wrap_pci_device_map_range(struct pci_device *d, pciaddr_t base, pciaddr_t size,
                                unsigned flags, void **addr)
{
	fpa.maps++;
	fpa.map_flags = flags;
	if (fpa.map_rc)
		return fpa.map_rc;
	if (fpa.vdev && dev_index(d) == fpa.vdev_fn && base == d->regions[4].base_addr &&
	    size == VDEV_BAR_SIZE) {
		*addr = fpa.vdev->bar.mem;
		return 0;
	}
	return EFAULT;
}

/* Port I/O (a legacy device's BAR0): a handle per open, accesses by
 * offset from its base, going to fpa.lg when it is function vdev_fn's
 * BAR0, else reading as all ones. */
struct pci_io_handle {
	struct pci_device *d;
	pciaddr_t base, size;
};

struct pci_io_handle *__wrap_pci_device_open_io(struct pci_device *d, pciaddr_t base, pciaddr_t size);
void __wrap_pci_device_close_io(struct pci_device *d, struct pci_io_handle *h);
uint32_t __wrap_pci_io_read32(struct pci_io_handle *h, uint32_t reg);
uint16_t __wrap_pci_io_read16(struct pci_io_handle *h, uint32_t reg);
uint8_t __wrap_pci_io_read8(struct pci_io_handle *h, uint32_t reg);
void __wrap_pci_io_write32(struct pci_io_handle *h, uint32_t reg, uint32_t v);
void __wrap_pci_io_write16(struct pci_io_handle *h, uint32_t reg, uint16_t v);
void __wrap_pci_io_write8(struct pci_io_handle *h, uint32_t reg, uint8_t v);

struct pci_io_handle *__wrap_pci_device_open_io(struct pci_device *d, pciaddr_t base, pciaddr_t size)
{
	struct pci_io_handle *h;

	if (fpa.io_open_fail || !d->regions[0].is_IO || base != d->regions[0].base_addr ||
	    size > d->regions[0].size)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->d = d;
	h->base = base;
	h->size = size;
	fpa.io_opens++;
	return h;
}

void __wrap_pci_device_close_io(struct pci_device *d, struct pci_io_handle *h)
{
	(void)d;
	if (h)
		fpa.io_closes++;
	free(h);
}

static struct fake_lg *io_lg(struct pci_io_handle *h, uint32_t reg, unsigned width)
{
	if (reg + width > h->size) {
		fpa.io_stray++;
		return NULL;
	}
	return fpa.lg && dev_index(h->d) == fpa.vdev_fn ? fpa.lg : NULL;
}

static uint32_t io_read(struct pci_io_handle *h, uint32_t reg, unsigned width)
{
	struct fake_lg *l = io_lg(h, reg, width);

	return l ? fake_lg_read(l, reg, width) : 0xffffffffu;
}

static void io_write(struct pci_io_handle *h, uint32_t reg, unsigned width, uint32_t v)
{
	struct fake_lg *l = io_lg(h, reg, width);

	if (l)
		fake_lg_write(l, reg, width, v);
}

uint32_t __wrap_pci_io_read32(struct pci_io_handle *h, uint32_t reg) { return io_read(h, reg, 4); }
uint16_t __wrap_pci_io_read16(struct pci_io_handle *h, uint32_t reg) { return (uint16_t)io_read(h, reg, 2); }
uint8_t __wrap_pci_io_read8(struct pci_io_handle *h, uint32_t reg) { return (uint8_t)io_read(h, reg, 1); }
void __wrap_pci_io_write32(struct pci_io_handle *h, uint32_t reg, uint32_t v) { io_write(h, reg, 4, v); }
void __wrap_pci_io_write16(struct pci_io_handle *h, uint32_t reg, uint16_t v) { io_write(h, reg, 2, v); }
void __wrap_pci_io_write8(struct pci_io_handle *h, uint32_t reg, uint8_t v) { io_write(h, reg, 1, v); }

int __wrap_pci_device_unmap_range(struct pci_device *d, void *va, pciaddr_t size)
{
	(void)d;
	(void)va;
	(void)size;
	fpa.unmaps++;
	return 0;
}

int __wrap_pci_device_cfg_read_u8(struct pci_device *d, uint8_t *v, pciaddr_t off)
{
	fpa.cfg_reads++;
	if (fpa.cfg_fail & 1)
		return EIO;
	*v = fake_pci_cfg_ops.read8(&fpa.pci, d->bus, d->dev, d->func, (uint16_t)off);
	return 0;
}

int __wrap_pci_device_cfg_read_u16(struct pci_device *d, uint16_t *v, pciaddr_t off)
{
	fpa.cfg_reads++;
	if (fpa.cfg_fail & 2)
		return EIO;
	*v = fake_pci_cfg_ops.read16(&fpa.pci, d->bus, d->dev, d->func, (uint16_t)off);
	return 0;
}

int __wrap_pci_device_cfg_read_u32(struct pci_device *d, uint32_t *v, pciaddr_t off)
{
	fpa.cfg_reads++;
	if (fpa.cfg_fail & 4)
		return EIO;
	*v = fake_pci_cfg_ops.read32(&fpa.pci, d->bus, d->dev, d->func, (uint16_t)off);
	return 0;
}

int __wrap_pci_device_cfg_write_u8(struct pci_device *d, uint8_t v, pciaddr_t off)
{
	fpa.cfg_writes++;
	fake_pci_cfg_ops.write8(&fpa.pci, d->bus, d->dev, d->func, (uint16_t)off, v);
	return 0;
}

int __wrap_pci_device_cfg_write_u16(struct pci_device *d, uint16_t v, pciaddr_t off)
{
	fpa.cfg_writes++;
	fake_pci_cfg_ops.write16(&fpa.pci, d->bus, d->dev, d->func, (uint16_t)off, v);
	return 0;
}

int __wrap_pci_device_cfg_write_u32(struct pci_device *d, uint32_t v, pciaddr_t off)
{
	fpa.cfg_writes++;
	fake_pci_cfg_ops.write32(&fpa.pci, d->bus, d->dev, d->func, (uint16_t)off, v);
	return 0;
}

/* ---------------------------------------------------------- system -- */

/*
 * Each interface under every name the library may call it by: the plain
 * one, the large-file one (_FILE_OFFSET_BITS=64) and the fortified one
 * (_FORTIFY_SOURCE), so that no build flavour reaches the real sysfs or
 * pagemap. The build wraps all of these names.
 */
uid_t __real_geteuid(void);
int __real_memfd_create(const char *name, unsigned flags);
int __real_ftruncate(int fd, off_t len);
int __real_ftruncate64(int fd, off_t len);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *__real_mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_munmap(void *addr, size_t len);
int __real_open(const char *path, int flags, ...);
int __real_open64(const char *path, int flags, ...);
int __real___open_2(const char *path, int flags);
int __real___open64_2(const char *path, int flags);
int __real_close(int fd);
ssize_t __real_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __real_pread64(int fd, void *buf, size_t n, off_t off);
ssize_t __real___pread_chk(int fd, void *buf, size_t n, off_t off, size_t bufsize);
ssize_t __real___pread64_chk(int fd, void *buf, size_t n, off_t off, size_t bufsize);
ssize_t __real_readlink(const char *path, char *buf, size_t n);
ssize_t __real___readlink_chk(const char *path, char *buf, size_t n, size_t bufsize);
FILE *__real_fopen(const char *path, const char *mode);
FILE *__real_fopen64(const char *path, const char *mode);

uid_t __wrap_geteuid(void);
int __wrap_memfd_create(const char *name, unsigned flags);
int __wrap_ftruncate(int fd, off_t len);
int __wrap_ftruncate64(int fd, off_t len);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *__wrap_mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __wrap_munmap(void *addr, size_t len);
int __wrap_open(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...);
int __wrap___open_2(const char *path, int flags);
int __wrap___open64_2(const char *path, int flags);
int __wrap_close(int fd);
ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __wrap_pread64(int fd, void *buf, size_t n, off_t off);
ssize_t __wrap___pread_chk(int fd, void *buf, size_t n, off_t off, size_t bufsize);
ssize_t __wrap___pread64_chk(int fd, void *buf, size_t n, off_t off, size_t bufsize);
ssize_t __wrap_readlink(const char *path, char *buf, size_t n);
ssize_t __wrap___readlink_chk(const char *path, char *buf, size_t n, size_t bufsize);
FILE *__wrap_fopen(const char *path, const char *mode);
FILE *__wrap_fopen64(const char *path, const char *mode);

static int is_sys(const char *path)
{
	return strncmp(path, "/sys/", 5) == 0;
}

uid_t __wrap_geteuid(void)
{
	return fpa.euid_set ? fpa.euid : __real_geteuid();
}

/* Hugetlb memfds become ordinary ones: the flags asked for are kept. */
int __wrap_memfd_create(const char *name, unsigned flags)
{
	if (!(flags & MFD_HUGETLB))
		return __real_memfd_create(name, flags);
	fpa.memfd_flags = flags;
	if (fpa.memfd_errno) {
		errno = fpa.memfd_errno;
		return -1;
	}
	return __real_memfd_create(name, flags & ~MFD_HUGETLB);
}

/* -1 with the injected error, or 0 to go on to the real call. */
static int ftruncate_fails(void)
{
	if (!fpa.ftruncate_errno)
		return 0;
	errno = fpa.ftruncate_errno;
	return -1;
}

int __wrap_ftruncate(int fd, off_t len)
{
	return ftruncate_fails() ? -1 : __real_ftruncate(fd, len);
}

int __wrap_ftruncate64(int fd, off_t len)
{
	return ftruncate_fails() ? -1 : __real_ftruncate64(fd, len);
}

typedef void *(*mmap_fn)(void *addr, size_t len, int prot, int flags, int fd, off_t off);

/* MAP_LOCKED marks the hugepage maps (nothing else in the library locks):
 * mapped unlocked, and remembered for the fake pagemap. */
static void *fake_mmap(mmap_fn real, void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *va;

	if (!(flags & MAP_LOCKED))
		return real(addr, len, prot, flags, fd, off);
	fpa.mmap_flags = (unsigned)flags;
	if (fpa.mmap_errno) {
		errno = fpa.mmap_errno;
		return MAP_FAILED;
	}
	if (fpa.nlive == FPA_MAX_MAPS) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	va = real(addr, len, prot, flags & ~MAP_LOCKED, fd, off);
	if (va != MAP_FAILED) {
		fpa.live[fpa.nlive].va = va;
		fpa.live[fpa.nlive].len = len;
		fpa.live[fpa.nlive].try_no = fpa.huge_maps;
		fpa.nlive++;
	}
	fpa.huge_maps++;
	return va;
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return fake_mmap(__real_mmap, addr, len, prot, flags, fd, off);
}

void *__wrap_mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return fake_mmap(__real_mmap64, addr, len, prot, flags, fd, off);
}

int __wrap_munmap(void *addr, size_t len)
{
	unsigned i;

	for (i = 0; i < fpa.nlive; i++) {
		if (fpa.live[i].va == addr) {
			fpa.live[i] = fpa.live[--fpa.nlive];
			break;
		}
	}
	return __real_munmap(addr, len);
}

/* The pagemap (a stand-in fd) and sysfs (refused): 1 with *fd set, or
 * 0 for a path that goes to the real open. */
static int fake_open(const char *path, int *fd)
{
	if (strcmp(path, "/proc/self/pagemap") == 0) {
		fpa.pagemap_opens++;
		if (fpa.pagemap_errno) {
			errno = fpa.pagemap_errno;
			*fd = -1;
			return 1;
		}
		fpa.pagemap_fd = __real_open("/dev/null", O_RDONLY | O_CLOEXEC);
		*fd = fpa.pagemap_fd;
		return 1;
	}
	if (is_sys(path)) {
		fpa.sys_refused++;
		errno = EACCES;
		*fd = -1;
		return 1;
	}
	return 0;
}

static mode_t open_mode(int flags, va_list ap)
{
	return flags & (O_CREAT | O_TMPFILE) ? va_arg(ap, mode_t) : 0;
}

int __wrap_open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	if (fake_open(path, &fd))
		return fd;
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return __real_open(path, flags, mode);
}

int __wrap_open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	if (fake_open(path, &fd))
		return fd;
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return __real_open64(path, flags, mode);
}

int __wrap___open_2(const char *path, int flags)
{
	int fd;

	return fake_open(path, &fd) ? fd : __real___open_2(path, flags);
}

int __wrap___open64_2(const char *path, int flags)
{
	int fd;

	return fake_open(path, &fd) ? fd : __real___open64_2(path, flags);
}

int __wrap_close(int fd)
{
	if (fd >= 0 && fd == fpa.pagemap_fd)
		fpa.pagemap_fd = -1;
	return __real_close(fd);
}

uint64_t fpa_phys(const void *va)
{
	unsigned i;

	for (i = 0; i < fpa.nlive; i++) {
		const struct fpa_map *m = &fpa.live[i];
		uint64_t off = (uint64_t)((const uint8_t *)va - (const uint8_t *)m->va);
		uint64_t base = PHYS_BASE + m->try_no * PHYS_STEP, nh, h;

		if ((const uint8_t *)va < (const uint8_t *)m->va || off >= m->len)
			continue;
		if (m->try_no >= fpa.noncontig_tries)
			return base + off;
		/* scattered: the hugepages in reverse order */
		nh = (m->len + HUGE_2M - 1) / HUGE_2M;
		h = off / HUGE_2M;
		return base + (nh - 1 - h) * HUGE_2M + off % HUGE_2M;
	}
	return 0;
}

/* One 64-bit pagemap entry (bit 63 present, bits 0-54 the frame number)
 * when @fd is the fake pagemap: 1 with *ret set, else 0. */
static int fake_pread(int fd, void *buf, size_t n, off_t off, ssize_t *ret)
{
	uint64_t e = 0, phys;

	if (fd < 0 || fd != fpa.pagemap_fd)
		return 0;
	fpa.pagemap_reads++;
	phys = fpa_phys((const void *)(uintptr_t)((uint64_t)off / 8 * 4096));
	switch (fpa.pagemap) {
	case FPA_PM_OK: e = phys ? 1ull << 63 | phys / 4096 : 0; break;
	case FPA_PM_HIDDEN: e = 1ull << 63; break;
	case FPA_PM_ABSENT: e = phys / 4096; break;
	case FPA_PM_SHORT: *ret = 4; return 1;
	}
	if (n > sizeof(e))
		n = sizeof(e);
	memcpy(buf, &e, n);
	*ret = (ssize_t)n;
	return 1;
}

ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off)
{
	ssize_t r;

	return fake_pread(fd, buf, n, off, &r) ? r : __real_pread(fd, buf, n, off);
}

ssize_t __wrap_pread64(int fd, void *buf, size_t n, off_t off)
{
	ssize_t r;

	return fake_pread(fd, buf, n, off, &r) ? r : __real_pread64(fd, buf, n, off);
}

ssize_t __wrap___pread_chk(int fd, void *buf, size_t n, off_t off, size_t bufsize)
{
	ssize_t r;

	return fake_pread(fd, buf, n, off, &r) ? r : __real___pread_chk(fd, buf, n, off, bufsize);
}

ssize_t __wrap___pread64_chk(int fd, void *buf, size_t n, off_t off, size_t bufsize)
{
	ssize_t r;

	return fake_pread(fd, buf, n, off, &r) ? r : __real___pread64_chk(fd, buf, n, off, bufsize);
}

/* sysfs driver links: the fake's, never the machine's. */
static ssize_t fake_readlink(const char *path, char *buf, size_t n)
{
	unsigned i;

	fpa.readlinks++;
	snprintf(fpa.last_link, sizeof(fpa.last_link), "%s", path);
	for (i = 0; i < fpa.pci.nfns; i++) {
		const struct pci_device *d = &fpa.dev[i];
		char want[64];
		size_t len;

		snprintf(want, sizeof(want), "/sys/bus/pci/devices/%04x:%02x:%02x.%x/driver", d->domain,
		         d->bus, d->dev, d->func);
		if (strcmp(path, want) != 0 || !fpa.driver[i])
			continue;
		len = strlen(fpa.driver[i]);
		len = len < n ? len : n;
		memcpy(buf, fpa.driver[i], len); /* no terminating NUL, as readlink(2) */
		return (ssize_t)len;
	}
	errno = ENOENT;
	return -1;
}

ssize_t __wrap_readlink(const char *path, char *buf, size_t n)
{
	return is_sys(path) ? fake_readlink(path, buf, n) : __real_readlink(path, buf, n);
}

ssize_t __wrap___readlink_chk(const char *path, char *buf, size_t n, size_t bufsize)
{
	return is_sys(path) ? fake_readlink(path, buf, n) : __real___readlink_chk(path, buf, n, bufsize);
}

/* DMI's sys_vendor from the fake; any other sysfs file refused. */
static FILE *fake_fopen(const char *path)
{
	FILE *f;

	if (strcmp(path, "/sys/class/dmi/id/sys_vendor") != 0) {
		fpa.sys_refused++;
		errno = EACCES;
		return NULL;
	}
	fpa.dmi_opens++;
	if (!fpa.dmi_vendor) {
		errno = ENOENT;
		return NULL;
	}
	f = tmpfile();
	if (!f)
		return NULL;
	fputs(fpa.dmi_vendor, f);
	rewind(f);
	return f;
}

FILE *__wrap_fopen(const char *path, const char *mode)
{
	return is_sys(path) ? fake_fopen(path) : __real_fopen(path, mode);
}

FILE *__wrap_fopen64(const char *path, const char *mode)
{
	return is_sys(path) ? fake_fopen(path) : __real_fopen64(path, mode);
}
