/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fake libpciaccess and a fake of the few system interfaces the
 * libpciaccess transport uses, for test_pciaccess. The test is linked with
 * -Wl,--wrap=<name> for each: the library's calls land in __wrap_<name>
 * here. The PCI functions work on a fake_pci config space; the system
 * calls pass through to the real ones except on the paths the transport
 * looks at (sysfs, /proc/self/pagemap) and the hugepage memfds, so that no
 * real PCI device, sysfs file or hugepage is ever touched.
 */
#ifndef VNET_TEST_FAKE_PCIACCESS_H
#define VNET_TEST_FAKE_PCIACCESS_H

#include <pciaccess.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fake_pci.h"

#define FPA_MAX_MAPS 16

/* What /proc/self/pagemap answers for the hugepage memfds' pages. */
enum fpa_pagemap {
	FPA_PM_OK,      /* present, with a physical frame */
	FPA_PM_HIDDEN,  /* present, frame number 0 (not root) */
	FPA_PM_ABSENT,  /* not present */
	FPA_PM_SHORT,   /* the read comes back short */
};

struct fpa_map {
	void *va;
	size_t len;
	unsigned try_no; /* how many hugepage maps came before it */
};

struct fake_pa {
	struct fake_pci pci;
	struct pci_device dev[FAKE_MAX_FNS];   /* one per pci.fns[] */
	const char *driver[FAKE_MAX_FNS];      /* sysfs driver link target, NULL: unbound */
	struct fake_vdev *vdev;                /* behind BAR4 of function @vdev_fn */
	unsigned vdev_fn;
	struct fake_lg *lg;                    /* behind I/O BAR0 of function @vdev_fn (legacy) */
	int io_open_fail;                      /* pci_device_open_io returns NULL */
	unsigned io_opens, io_closes, io_stray; /* I/O handles; accesses past their BAR */
	/* fault injection */
	int init_rc, probe_rc, map_rc;         /* positive errno, as libpciaccess */
	unsigned cfg_fail;                     /* config reads of these widths fail (1|2|4) */
	int iter_null;                         /* the id-match iterator cannot be made */
	/* what the transport did */
	unsigned inits, cleanups, finds, probes, maps, unmaps, iters, iter_destroys;
	unsigned cfg_reads, cfg_writes;
	unsigned map_flags;
	uint32_t find_domain, find_bus, find_dev, find_func;
	/* system */
	int euid_set;
	uid_t euid;
	const char *dmi_vendor;                /* sys_vendor contents, NULL: no such file */
	unsigned dmi_opens, readlinks, sys_refused;
	char last_link[256];                   /* last sysfs path readlink() was asked for */
	int memfd_errno, ftruncate_errno, mmap_errno, pagemap_errno;
	enum fpa_pagemap pagemap;
	unsigned noncontig_tries;              /* maps that come out scattered first */
	unsigned memfd_flags, mmap_flags;      /* as the transport asked (HUGETLB, LOCKED) */
	unsigned huge_maps, pagemap_opens, pagemap_reads;
	int pagemap_fd;
	struct fpa_map live[FPA_MAX_MAPS];     /* hugepage maps still mapped */
	unsigned nlive;
};

extern struct fake_pa fpa;

/* Forget everything; -1 for the fds, no device. */
void fpa_reset(void);
/* Add a function to the fake bus (and to the libpciaccess device list). */
struct fake_fn *fpa_add(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t vendor, uint16_t device,
                        const char *driver);
/* The physical address the fake pagemap gives the byte at @va (0: none). */
uint64_t fpa_phys(const void *va);

#endif
