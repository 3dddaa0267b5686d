/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * From boot.S to the application: console, exception reporting, the PVH
 * start-of-day information (command line, memory map), the heap, the TSC
 * rate; then vnet_main(), whose return value becomes QEMU's exit status.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <vnet/baremetal.h>

#include "arch.h"
#include "arch/common/cmdline.h"
#include "arch/common/platform.h"
#include "libc/env.h"
#include "base/platform.h"

#define PAGE          4096ull
#define MAPPED_LIMIT  (4ull << 30) /* boot.S maps 0-4 GiB only */
/* Without a memory map, assume this much RAM: QEMU's default -m is 128 MiB. */
#define FALLBACK_RAM  (64ull << 20)

/* isa-debug-exit (QEMU hw/misc/debugexit.c) at the port tests configure. */
#define DEBUG_EXIT_PORT 0xf4

static uint64_t ram_size;

uint64_t vnet_ram_size(void)
{
	return ram_size;
}

const struct vnet_machine *vnet_machine(void)
{
	/* PCI config through port IO on q35; microvm's virtio-mmio windows. */
	static struct vnet_machine m = {
		.name = "x86_64 PVH", .mmio_base = 0xfeb00000u, .mmio_stride = 0x200u, .mmio_count = 24u,
	};

	/* MSI to this CPU, physical destination mode, fixed, edge (SDM Vol.
	 * 3A, "Message Signalled Interrupts") */
	if (!m.msi_addr) {
		m.msi_addr = VNET_LAPIC_BASE | ((uint64_t)(vnet_lapic_id() & 0xff) << 12);
		m.msi_data = VNET_NIC_VECTOR;
	}
	return &m;
}

void vnet_exit(int status)
{
	vnet_serial_drain();
	vnet_outl(DEBUG_EXIT_PORT, (uint32_t)status);
	for (;;) /* no debug-exit device: stop here, interrupts off */
		__asm__ __volatile__("cli; hlt");
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* A firmware pointer we can dereference: non-zero and inside the map. */
static const void *phys(uint64_t pa, uint64_t len)
{
	if (pa == 0 || pa >= MAPPED_LIMIT || len > MAPPED_LIMIT - pa)
		return NULL;
	return (const void *)(uintptr_t)pa;
}

/*
 * The heap runs from the end of the image to the end of the RAM range
 * that holds it, below anything the loader put there (-initrd modules).
 */
static void heap_setup(const struct hvm_start_info *si)
{
	uint64_t lo = align_up((uintptr_t)vnet_image_end, PAGE), hi = 0;
	const struct hvm_memmap_table_entry *mm = NULL;
	const struct hvm_modlist_entry *mods = NULL;

	if (si && si->version >= 1)
		mm = phys(si->memmap_paddr, (uint64_t)si->memmap_entries * sizeof(*mm));
	if (mm) {
		for (uint32_t i = 0; i < si->memmap_entries; i++) {
			uint64_t a = mm[i].addr, end = mm[i].addr + mm[i].size;

			if (mm[i].type != HVM_MEMMAP_TYPE_RAM || end < a)
				continue;
			ram_size += mm[i].size;
			if (a <= lo && lo < end)
				hi = end < MAPPED_LIMIT ? end : MAPPED_LIMIT;
		}
	}
	if (hi == 0) {
		printf("vnet: no memory map from the loader; assuming %llu MiB of RAM\n",
		       FALLBACK_RAM >> 20);
		hi = FALLBACK_RAM;
		if (ram_size == 0)
			ram_size = FALLBACK_RAM;
	}
	if (si)
		mods = phys(si->modlist_paddr, (uint64_t)si->nr_modules * sizeof(*mods));
	for (uint32_t i = 0; mods && i < si->nr_modules; i++) {
		uint64_t a = mods[i].paddr & ~(PAGE - 1), end = align_up(mods[i].paddr + mods[i].size, PAGE);

		if (a >= lo && a < hi)
			hi = a;              /* module above the image: stop below it */
		else if (a < lo && end > lo)
			lo = end;            /* module straddling the image end */
	}
	if (hi > lo)
		vnet_libc_heap_init((void *)(uintptr_t)lo, hi - lo);
	else
		printf("vnet: no room for a heap (image ends at %#" PRIx64 ")\n", lo);
}

void vnet_arch_start(uint32_t start_info_paddr)
{
	const struct hvm_start_info *si = phys(start_info_paddr, sizeof(*si));
	const char *cmd;

	vnet_serial_init();
	vnet_traps_init();
	if (si && si->magic != HVM_START_MAGIC) {
		printf("vnet: bad PVH start_info magic %#x at %#x, ignoring it\n", si->magic,
		       start_info_paddr);
		si = NULL;
	}
	if (si && (cmd = phys(si->cmdline_paddr, 1)) != NULL)
		vnet_cmdline_set(cmd);
	heap_setup(si);
	vnet_tsc_calibrate();
	vnet_time_init(vnet_tsc_hz);
	printf("vnet: x86_64 PVH, %" PRIu64 " MiB RAM, heap %zu KiB, TSC %" PRIu64 " kHz (%s)\n",
	       ram_size >> 20, vnet_heap_free() >> 10, vnet_tsc_hz / 1000, vnet_tsc_source);
	vnet_exit(vnet_main(vnet_cmdline()));
}
