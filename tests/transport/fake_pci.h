/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fake PCI bus (config space behind struct vnet_pci_cfg_ops, with BAR
 * sizing semantics) and a fake modern virtio-net device behind one BAR:
 * common cfg, ISR, device cfg and notify structures in a trapped region
 * (see trap.h), laid out like QEMU's virtio-net-pci, and its MSI-X table
 * in a second trapped region. ISR status resets when read, as the spec
 * has it (4.1.4.5).
 */
#ifndef VNET_TEST_FAKE_PCI_H
#define VNET_TEST_FAKE_PCI_H

#include <stdint.h>

#include "trap.h"
#include "transport/pci_cfg.h"

/* ---- config space ---- */

#define FAKE_MAX_FNS 8

struct fake_fn {
	uint8_t bus, dev, fn;
	uint8_t cfg[256];
	uint64_t bar_size[6]; /* 0: not implemented */
	uint8_t bar64[6];
	uint8_t bar_io[6];    /* an I/O BAR */
	uint8_t bar_stuck[6]; /* answers the sizing pattern, never takes an address */
	uint8_t msix_pos;     /* MSI-X capability (0: none) */
	unsigned msix_ctrl_writes; /* writes to its message control */
	uint8_t last_cap;     /* tail of the capability list (0: empty) */
	unsigned illegal_writes; /* writes outside the command register and BARs */
	unsigned cmd_writes;
};

struct fake_pci {
	struct fake_fn fns[FAKE_MAX_FNS];
	unsigned nfns;
	unsigned reads, writes;
};

extern const struct vnet_pci_cfg_ops fake_pci_cfg_ops; /* ctx: struct fake_pci * */

struct fake_fn *fake_pci_add(struct fake_pci *p, uint8_t bus, uint8_t dev, uint8_t fn,
                             uint16_t vendor, uint16_t device);
/* BAR @i: memory, @size bytes (power of 2), at @addr (0: unassigned). */
void fake_fn_bar(struct fake_fn *f, unsigned i, uint64_t size, int is64, uint64_t addr);
/* BAR @i: I/O space, @size bytes (power of 2), at @addr. */
void fake_fn_iobar(struct fake_fn *f, unsigned i, uint32_t size, uint32_t addr);
/* Append a capability (@len bytes at @pos, id @id) to the list. */
void fake_fn_cap(struct fake_fn *f, uint8_t pos, uint8_t id, uint8_t len);
/* Append a virtio capability (spec 4.1.4). @mult only for NOTIFY. */
void fake_fn_vcap(struct fake_fn *f, uint8_t pos, uint8_t type, uint8_t bar, uint32_t offset,
                  uint32_t length, uint32_t mult);
/* Append an MSI-X capability (PCI 3.0 6.8.2): @nvec table entries at
 * @table_off in BAR @bar, the pending bits at @pba_off in the same BAR.
 * Only Enable and Function Mask of its message control are writable. */
void fake_fn_msix(struct fake_fn *f, uint8_t pos, uint16_t nvec, uint8_t bar, uint32_t table_off,
                  uint32_t pba_off);
uint32_t fake_fn_r32(const struct fake_fn *f, uint16_t off);
uint16_t fake_fn_r16(const struct fake_fn *f, uint16_t off);
void fake_fn_w8(struct fake_fn *f, uint16_t off, uint8_t v);
void fake_fn_w16(struct fake_fn *f, uint16_t off, uint16_t v);
void fake_fn_w32(struct fake_fn *f, uint16_t off, uint32_t v);
/* The config write path a device sees (BAR masks, read-only fields). */
void fake_fn_cfg_write(struct fake_fn *f, uint16_t off, unsigned width, uint32_t v);

/* ---- the virtio device behind the BAR ---- */

#define VDEV_BAR_SIZE   0x4000u
#define VDEV_COMMON     0x0000u
#define VDEV_ISR        0x1000u
#define VDEV_DEVICE     0x2000u
#define VDEV_NOTIFY     0x3000u
#define VDEV_NOTIFY_MULT 4u
#define VDEV_QUEUES     3
#define VDEV_MAX_LOG    64
/* The MSI-X table and pending bits, in a BAR of their own as QEMU has them
 * (BAR1: table at 0, PBA at 0x800). */
#define VDEV_MSIX_SIZE  0x1000u
#define VDEV_MSIX_TABLE 0x000u
#define VDEV_MSIX_PBA   0x800u
#define VDEV_MSIX_VECS  4u      /* QEMU's default for one queue pair */
#define VDEV_NO_VECTOR  0xffffu /* VIRTIO_MSI_NO_VECTOR, spec 4.1.5.1.2 */

struct fake_vq {
	uint16_t max, size, enable, notify_off, resetting;
	uint16_t msix_vector;
	uint32_t desc[2], driver[2], device[2];
	unsigned addr_writes; /* address halves written since reset */
};

struct fake_vdev {
	struct trap_region bar;
	struct trap_region msix;  /* MSI-X table and PBA (see VDEV_MSIX_*) */
	uint64_t dev_features, drv_features;
	uint32_t dfs, drfs;
	uint8_t status, generation;
	uint16_t num_queues, qsel;
	uint16_t config_vector;
	uint16_t msix_nvec;       /* vectors a queue may be given (table entries) */
	struct fake_vq q[VDEV_QUEUES];
	/* fault injection */
	int reset_stuck;          /* status never reads back 0 */
	unsigned reset_delay;     /* status reads before a reset completes */
	unsigned reset_left;
	int qreset_mode;          /* queue_reset: 0 resets, 1 never completes, 2 ignored */
	unsigned qresets;         /* queue resets that took effect */
	int msix_refuse;          /* every vector written reads back NO_VECTOR */
	uint8_t isr;              /* ISR status (4.1.4.5): bit 0 queue, bit 1 config */
	/* what the driver did */
	unsigned status_reads, resets;
	unsigned bad_width;       /* accesses of the wrong width/alignment */
	unsigned ro_writes;       /* writes to read-only fields */
	unsigned enable_early;    /* queue_enable=1 before size/addresses */
	unsigned enable_zero;     /* queue_enable=0 written (spec forbids) */
	unsigned notifies, notify_bad_width;
	uint32_t last_notify_off;
	uint16_t last_notify_val;
	unsigned msix_writes, msix_bad_width; /* MSI-X table/PBA accesses */
	uint32_t msix_table[VDEV_MSIX_VECS][4]; /* as the driver left it (read by the test) */
	unsigned vector_writes;   /* config or queue msix_vector written */
	unsigned bar_accesses;    /* every access to an armed page of the BAR */
	unsigned isr_reads;       /* byte reads of ISR status (each clears it) */
	unsigned isr_bad;         /* ISR accesses other than a byte read at 0 */
	unsigned ncfg;            /* device-config accesses logged */
	struct { uint32_t off; unsigned width; } cfg_log[VDEV_MAX_LOG];
};

/* ---- the legacy interface (spec 4.1.4.8): registers in I/O BAR0 ---- */

#define FLG_QUEUES   3
#define FLG_IO_SIZE  0x40u   /* QEMU: 20 or 24 bytes of registers + the net config, rounded up */

struct fake_lg_q {
	uint16_t size;     /* QueueSize, read-only (0: no such queue) */
	uint32_t pfn;      /* QueueAddress */
	uint16_t vector;   /* queue_msix_vector (with MSI-X on) */
	unsigned pfn_writes;
};

/* A legacy device behind port I/O: each access is a call (no traps),
 * @off from the start of BAR0. */
struct fake_lg {
	uint32_t host_features, guest_features;
	uint16_t qsel, config_vector;
	uint8_t status, isr;
	int msix_on;            /* MSI-X enabled: config at 24, else 20 */
	uint8_t cfg[FLG_IO_SIZE];
	struct fake_lg_q q[FLG_QUEUES];
	/* fault injection */
	int pfn_stuck;          /* QueueAddress writes are ignored (reads 0) */
	int reset_stuck;        /* status never reads back 0 */
	/* what the driver did */
	unsigned accesses, bad_width, ro_writes, resets, status_reads, notifies;
	unsigned features_ok_writes; /* status written with FEATURES_OK, which legacy lacks */
	unsigned guest_feature_writes, isr_reads;
	uint16_t last_notify;
};

/* A legacy virtio-net-pci: 32 feature bits, three queues of 256, MAC
 * 52:54:00:12:34:58, link up. */
void fake_lg_init(struct fake_lg *l);
uint32_t fake_lg_read(struct fake_lg *l, uint32_t off, unsigned width);
void fake_lg_write(struct fake_lg *l, uint32_t off, unsigned width, uint32_t v);

/* Map the BAR region, arm the common, device and notify pages, and the
 * MSI-X region. 0 or -1. */
int fake_vdev_init(struct fake_vdev *d);
void fake_vdev_fini(struct fake_vdev *d);
/* MSI-X table entry @i: message address, data, vector control. */
uint64_t fake_vdev_msix_addr(const struct fake_vdev *d, unsigned i);
uint32_t fake_vdev_msix_data(const struct fake_vdev *d, unsigned i);
uint32_t fake_vdev_msix_ctrl(const struct fake_vdev *d, unsigned i);

#endif
