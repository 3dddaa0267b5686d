/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The accelerator probe's guest (tools/lib/qemu.sh). Linked with the
 * appliance's own PVH entry (lib/arch/x86_64/boot.S), so it takes the same
 * path a real image takes: 32-bit entry, long mode with paging, SSE on.
 * It then writes and reads back memory with SSE and general-purpose stores
 * and leaves through isa-debug-exit with 0x10 (QEMU exit status 33) when
 * every word came back, 0x11 (35) when one did not.
 *
 * A KVM that cannot run this guest fails here in one of two ways seen in
 * practice: QEMU aborts while setting up the vCPU's MSRs, or KVM cannot
 * emulate an instruction and the guest hangs. The probe is bounded by a
 * timeout either way.
 */
#include <stdint.h>

#define PROBE_WORDS 4096

static volatile uint64_t probe_mem[PROBE_WORDS] __attribute__((aligned(64)));

static void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

void vnet_arch_start(uint32_t start_info);

void vnet_arch_start(uint32_t start_info)
{
	uint64_t x = 0x9e3779b97f4a7c15ull ^ start_info;
	uint8_t status = 0x10;
	unsigned i;

	for (i = 0; i < PROBE_WORDS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		probe_mem[i] = x;
	}
	/* An SSE copy of the first half onto the second: movdqu through %xmm0. */
	for (i = 0; i < PROBE_WORDS / 2; i += 2)
		__asm__ volatile("movdqu (%0), %%xmm0\n\tmovdqu %%xmm0, (%1)"
				 :
				 : "r"(&probe_mem[i]), "r"(&probe_mem[PROBE_WORDS / 2 + i])
				 : "xmm0", "memory");
	for (i = 0; i < PROBE_WORDS / 2; i++)
		if (probe_mem[i] != probe_mem[PROBE_WORDS / 2 + i])
			status = 0x11;
	outb(0xf4, status);
	for (;;)
		__asm__ volatile("cli; hlt");
}
