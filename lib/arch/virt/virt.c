/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The machine from its device tree: RAM banks and reserved ranges, the
 * command line (/chosen/bootargs), the PCI host bridge (ECAM and its
 * 32-bit memory window), the virtio-mmio windows, and the few
 * architecture-specific nodes (RISC-V timebase and test device, aarch64
 * PSCI conduit). The fixed map in arch.h stands in for what is missing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <vnet/baremetal.h>

#include "arch.h"
#include "arch/common/cmdline.h"
#include "fdt.h"
#include "libc/env.h"
#include "virt.h"

#define PAGE 4096ull

/* The PCI transport scans buses 0-255 through a 256 MiB ECAM window
 * (VNET_PCI_ECAM_SIZE); a smaller window would send it past the end. */
#define ECAM_FULL_SIZE (256ull << 20)

struct virt_info virt;

struct parse {
	uint64_t mmio_lo, mmio_hi, mmio_size;
	uint32_t mmio_nodes;
	int bad_ecam;
};

static void add_range(struct virt_range *r, unsigned *n, unsigned max, uint64_t base, uint64_t size)
{
	if (size == 0 || *n == max)
		return;
	r[*n].base = base;
	r[*n].size = size;
	(*n)++;
}

/* The host bridge's INTx routing (Devicetree Specification v0.4, 2.4.3
 * "Interrupt Mapping"): interrupt-map entries of a 3-cell PCI address, a
 * 1-cell pin, the controller's phandle, its unit address and its
 * interrupt specifier; interrupt-map-mask says which bits of the address
 * and pin count. Kept as read: the controller's cells, which set the
 * entries' stride, may come later in the tree. */
static void pci_imap(const struct fdt_node *n)
{
	uint32_t len, mlen;
	const uint8_t *map = fdt_prop(n, "interrupt-map", &len);
	const uint8_t *mask = fdt_prop(n, "interrupt-map-mask", &mlen);

	if (!map || !mask || mlen != 16 || len > VIRT_IMAP_MAX)
		return;
	memcpy(virt.pci_imap, map, len);
	virt.pci_imap_len = len;
	for (unsigned i = 0; i < 4; i++)
		virt.pci_imap_mask[i] = (uint32_t)fdt_cells(mask + 4 * i, 1);
}

/* PCI host bridge (Documentation/devicetree/bindings/pci/host-generic-pci.yaml
 * in Linux): reg is the ECAM window; ranges map PCI to CPU addresses, each
 * entry (3-cell PCI address, parent address, size); the space code in bits
 * 24-25 of the first cell is 2 for 32-bit memory, 1 for I/O (ports from 0
 * in a memory window: a legacy virtio device's BAR0). */
static void pci_host(const struct fdt_node *n, struct parse *ps)
{
	uint32_t len, pac = n->parent->addr_cells, sc = n->size_cells, entry;
	const uint8_t *r;
	uint64_t base, size;

	if (fdt_reg(n, 0, &base, &size) == 0) {
		if (size < ECAM_FULL_SIZE) {
			ps->bad_ecam = 1; /* e.g. aarch64 virt,highmem=off: 16 buses */
		} else {
			virt.pci_ecam = base;
			virt.pci_ecam_size = size;
		}
	}
	pci_imap(n);
	r = fdt_prop(n, "ranges", &len);
	if (!r || n->addr_cells != 3 || pac < 1 || pac > 2 || sc < 1 || sc > 2)
		return;
	entry = 4 * (3 + pac + sc);
	for (uint32_t off = 0; off + entry <= len; off += entry) {
		uint32_t space = (uint32_t)(fdt_cells(r + off, 1) >> 24) & 3u;
		uint64_t pci = fdt_cells(r + off + 4, 2);
		uint64_t cpu = fdt_cells(r + off + 12, pac);
		uint64_t sz = fdt_cells(r + off + 12 + 4 * pac, sc);

		/* vnet maps BARs at their bus address: only an identity window
		 * below 4 GiB serves 32- and 64-bit BARs alike. */
		if (space == 2 && pci == cpu && cpu + sz <= (1ull << 32) && sz > virt.pci_mem_size) {
			virt.pci_mem = cpu;
			virt.pci_mem_size = sz;
		}
		if (space == 1 && pci == 0 && sz >= 0x2000 && sz <= 0x10000 && cpu) {
			virt.pci_io = cpu;
			virt.pci_io_size = sz;
		}
	}
}

/* A virtio,mmio node's interrupt: three cells for the GIC (type: 0 SPI,
 * 1 PPI; number; flags; the INTID is the number past the SGIs and PPIs,
 * or past the SGIs), one for the PLIC (the source). */
static void mmio_irq(const struct fdt_node *n, uint64_t base)
{
	uint32_t len, irq;
	const uint8_t *p = fdt_prop(n, "interrupts", &len);

	if (!p || virt.n_mmio_irq == VIRT_MAX_MMIO)
		return;
	if (len == 12)
		irq = (uint32_t)fdt_cells(p + 4, 1) + (fdt_cells(p, 1) == 0 ? 32u : 16u);
	else if (len == 4)
		irq = (uint32_t)fdt_cells(p, 1);
	else
		return;
	virt.mmio_irq[virt.n_mmio_irq].base = base;
	virt.mmio_irq[virt.n_mmio_irq++].irq = irq;
}

/* The PLIC's context that interrupts S-mode: the index of the first
 * (hart controller, cause) pair of its interrupts-extended whose cause is
 * 9, the supervisor external interrupt (Privileged Architecture 4.1.3).
 * QEMU's virt gives a single hart contexts M, S: 1. */
static uint32_t plic_s_context(const struct fdt_node *n)
{
	uint32_t len;
	const uint8_t *p = fdt_prop(n, "interrupts-extended", &len);

	for (uint32_t i = 0; p && 8 * i + 8 <= len; i++)
		if (fdt_cells(p + 8 * i + 4, 1) == 9)
			return i;
	return 1;
}

/* The interrupt controllers vnet_idle_wait() uses: GICv2 (its reg: the
 * distributor, then the CPU interface) and the PLIC. */
static void intc(const struct fdt_node *n)
{
	uint64_t base, size;

	virt.intc_addr_cells = n->addr_cells;
	virt.intc_int_cells = (uint32_t)fdt_prop_u64(n, "#interrupt-cells", 0);
	if (fdt_compatible(n, "arm,cortex-a15-gic") || fdt_compatible(n, "arm,gic-400")) {
		if (fdt_reg(n, 0, &base, &size) == 0)
			virt.gic_dist = base;
		if (fdt_reg(n, 1, &base, &size) == 0)
			virt.gic_cpu = base;
	} else if (fdt_reg(n, 0, &base, &size) == 0) {
		virt.plic = base;
		virt.plic_ctx = plic_s_context(n);
	}
}

static void visit(const struct fdt_node *n, void *arg)
{
	struct parse *ps = arg;
	const char *status = fdt_prop_str(n, "status"), *s;
	uint64_t base, size;

	if (status && strcmp(status, "okay") && strcmp(status, "ok"))
		return;
	if (n->depth == 1 && (s = fdt_prop_str(n, "device_type")) && !strcmp(s, "memory")) {
		for (unsigned i = 0; fdt_reg(n, i, &base, &size) == 0; i++) {
			add_range(virt.ram, &virt.n_ram, VIRT_MAX_BANKS, base, size);
			virt.ram_total += size;
		}
	} else if (n->depth == 1 && fdt_name_is(n, "chosen")) {
		if ((s = fdt_prop_str(n, "bootargs")))
			vnet_cmdline_set(s);
	} else if (n->depth == 1 && fdt_name_is(n, "cpus")) {
		virt.timebase_hz = fdt_prop_u64(n, "timebase-frequency", 0);
	} else if (n->depth == 1 && fdt_name_is(n, "psci")) {
		virt.psci_smc = (s = fdt_prop_str(n, "method")) && !strcmp(s, "smc");
	} else if (n->depth == 2 && fdt_name_is(n->parent, "reserved-memory")) {
		for (unsigned i = 0; fdt_reg(n, i, &base, &size) == 0; i++)
			add_range(virt.resv, &virt.n_resv, VIRT_MAX_RESV, base, size);
	} else if (fdt_compatible(n, "pci-host-ecam-generic")) {
		pci_host(n, ps);
	} else if (fdt_compatible(n, "virtio,mmio")) {
		if (fdt_reg(n, 0, &base, &size) == 0 && size) {
			if (!ps->mmio_nodes || base < ps->mmio_lo)
				ps->mmio_lo = base;
			if (!ps->mmio_nodes || base > ps->mmio_hi)
				ps->mmio_hi = base;
			if (!ps->mmio_size || size < ps->mmio_size)
				ps->mmio_size = size;
			ps->mmio_nodes++;
			mmio_irq(n, base);
		}
	} else if (fdt_compatible(n, "arm,gic-v2m-frame")) {
		if (fdt_reg(n, 0, &base, &size) == 0)
			virt.gic_v2m = base;
	} else if (fdt_compatible(n, "arm,cortex-a15-gic") || fdt_compatible(n, "arm,gic-400") ||
	           fdt_compatible(n, "riscv,plic0") || fdt_compatible(n, "sifive,plic-1.0.0")) {
		intc(n);
	} else if (fdt_compatible(n, "sifive,test0")) {
		if (fdt_reg(n, 0, &base, &size) == 0)
			virt.test_dev = base;
	}
}

static void fixed_map(void)
{
	memset(&virt, 0, sizeof(virt));
	virt.ram[0].base = VIRT_RAM_BASE;
	virt.ram[0].size = VIRT_RAM_FALLBACK;
	virt.n_ram = 1;
	virt.ram_total = VIRT_RAM_FALLBACK;
	virt.pci_ecam = VIRT_PCI_ECAM;
	virt.pci_ecam_size = ECAM_FULL_SIZE;
	virt.pci_mem = VIRT_PCI_MEM;
	virt.pci_mem_size = VIRT_PCI_MEM_SIZE;
	virt.mmio_base = VIRT_MMIO_BASE;
	virt.mmio_stride = VIRT_MMIO_STRIDE;
	virt.mmio_count = VIRT_MMIO_COUNT;
	virt.timebase_hz = VIRT_TIMEBASE_HZ;
	virt.test_dev = VIRT_TEST_DEV;
}

int virt_parse(const void *dtb)
{
	struct parse ps = {0};
	uint64_t base, size;

	fixed_map();
	if (!dtb || fdt_check(dtb)) {
		printf("vnet: no device tree%s; using the fixed %s virt map and %llu MiB of RAM\n",
		       dtb ? " (bad header)" : "", VIRT_ARCH_NAME,
		       (unsigned long long)(VIRT_RAM_FALLBACK >> 20));
		return -EINVAL;
	}
	/* Found in the tree, or absent from this machine. */
	virt.n_ram = 0;
	virt.ram_total = 0;
	virt.pci_ecam = virt.pci_ecam_size = virt.pci_mem = virt.pci_mem_size = 0;
	virt.pci_io = virt.pci_io_size = 0;
	virt.mmio_base = virt.mmio_stride = virt.mmio_count = 0;
	virt.test_dev = 0;
	if (fdt_walk(dtb, visit, &ps)) {
		printf("vnet: malformed device tree at %p; using what was read before the error\n", dtb);
	}
	virt.dtb = dtb;
	for (unsigned i = 0; fdt_memreserve(dtb, i, &base, &size) == 0; i++)
		add_range(virt.resv, &virt.n_resv, VIRT_MAX_RESV, base, size);
	if (virt.n_ram == 0) {
		virt.ram[0].base = VIRT_RAM_BASE;
		virt.ram[0].size = virt.ram_total = VIRT_RAM_FALLBACK;
		virt.n_ram = 1;
	}
	if (ps.bad_ecam)
		printf("vnet: the PCI ECAM window covers fewer than 256 buses; PCI is off "
		       "(aarch64: do not use -machine virt,highmem=off)\n");
	if (ps.mmio_nodes && (ps.mmio_hi - ps.mmio_lo) % ps.mmio_size == 0 &&
	    (ps.mmio_hi - ps.mmio_lo) / ps.mmio_size + 1 == ps.mmio_nodes) {
		virt.mmio_base = ps.mmio_lo;
		virt.mmio_stride = (uint32_t)ps.mmio_size;
		virt.mmio_count = ps.mmio_nodes;
	} else if (ps.mmio_nodes) {
		printf("vnet: virtio-mmio windows are not evenly spaced; not probing them "
		       "(virtio_mmio.device= on the command line still works)\n");
	}
	if (virt.pci_ecam && !virt.pci_mem)
		virt.pci_mem = VIRT_PCI_MEM; /* no usable ranges entry: the fixed map's */
	return 0;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

void virt_heap_setup(uintptr_t image_end)
{
	uint64_t lo = align_up(image_end, PAGE), hi = 0;

	for (unsigned i = 0; i < virt.n_ram; i++)
		if (virt.ram[i].base < lo && lo <= virt.ram[i].base + virt.ram[i].size)
			hi = virt.ram[i].base + virt.ram[i].size;
	for (unsigned i = 0; i < virt.n_resv; i++) {
		uint64_t a = virt.resv[i].base & ~(PAGE - 1);
		uint64_t e = align_up(virt.resv[i].base + virt.resv[i].size, PAGE);

		if (e <= lo || a >= hi)
			continue;
		if (a <= lo)
			lo = e;  /* covers the start: begin after it */
		else
			hi = a;  /* above the start: stop below it */
	}
	if (hi > lo)
		vnet_libc_heap_init((void *)(uintptr_t)lo, (size_t)(hi - lo));
	else
		printf("vnet: no room for a heap (image ends at %#" PRIx64 ")\n", lo);
}

int vnet_machine_mmio_irq(uint64_t base, uint32_t *line)
{
	for (unsigned i = 0; i < virt.n_mmio_irq; i++)
		if (virt.mmio_irq[i].base == base) {
			*line = virt.mmio_irq[i].irq;
			return 0;
		}
	return -ENOENT;
}

/* An interrupt specifier in vnet_irq_line()'s numbering: the GIC's three
 * cells (as mmio_irq()), the PLIC's one. */
static int irq_spec(const uint8_t *p, uint32_t cells, uint32_t *line)
{
	if (cells == 3)
		*line = (uint32_t)fdt_cells(p + 4, 1) + (fdt_cells(p, 1) == 0 ? 32u : 16u);
	else if (cells == 1)
		*line = (uint32_t)fdt_cells(p, 1);
	else
		return -ENOENT;
	return 0;
}

int vnet_machine_pci_irq(uint32_t bdf, uint8_t pin, uint32_t *line)
{
	const uint32_t ac = virt.intc_addr_cells, ic = virt.intc_int_cells, stride = 4 * (5 + ac + ic);
	const uint32_t want[4] = { (bdf << 8) & virt.pci_imap_mask[0], 0, 0, pin & virt.pci_imap_mask[3] };

	for (uint32_t off = 0; ic && off + stride <= virt.pci_imap_len; off += stride) {
		const uint8_t *e = virt.pci_imap + off;

		if ((uint32_t)fdt_cells(e, 1) == want[0] && (uint32_t)fdt_cells(e + 12, 1) == want[3])
			return irq_spec(e + 4 * (5 + ac), ic, line);
	}
	return -ENOENT;
}

const struct vnet_machine *vnet_machine(void)
{
	static struct vnet_machine m;

	m.name = VIRT_ARCH_NAME " virt";
	m.pci_ecam = virt.pci_ecam;
	m.pci_bar_window = virt.pci_mem;
	m.pci_io_window = virt.pci_io;
	m.pci_io_size = (uint32_t)virt.pci_io_size;
	m.mmio_base = virt.mmio_base;
	m.mmio_stride = virt.mmio_stride;
	m.mmio_count = virt.mmio_count;
	if (!m.msi_addr)
		virt_msi(&m);
	return &m;
}

uint64_t vnet_ram_size(void)
{
	return virt.ram_total;
}
