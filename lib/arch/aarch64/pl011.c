/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The console: virt's PL011 UART, polled (Arm PrimeCell UART PL011
 * Technical Reference Manual, DDI 0183, 3.3 "Register descriptions").
 * It is at a fixed address so that it works before the device tree is
 * read.
 */
#include <errno.h>
#include <stdint.h>
#include <vnet/baremetal.h>

#include "arch.h"
#include "base/platform.h"

#define DR    0x00
#define FR    0x18
#define IBRD  0x24
#define FBRD  0x28
#define LCRH  0x2c
#define CR    0x30
#define IMSC  0x38

#define FR_BUSY    (1u << 3)
#define FR_TXFF    (1u << 5)
#define LCRH_FEN   (1u << 4)
#define LCRH_WLEN8 (3u << 5)
#define CR_UARTEN  (1u << 0)
#define CR_TXE     (1u << 8)
#define CR_RXE     (1u << 9)

/* virt's UART clock is 24 MHz (its "apb-pclk"): 115200 baud is divisor
 * 13 + 1/64 (TRM 3.3.6). QEMU ignores the rate; real PL011s do not. */
#define IBRD_115200 13
#define FBRD_115200 1

/* Bounds a wedged UART: a byte leaves a real one in ~87 us at 115200. */
#define TX_SPIN_LIMIT 100000

static volatile uint8_t *const uart = (volatile uint8_t *)(uintptr_t)VIRT_UART;

void vnet_uart_init(void)
{
	uint32_t cr = vnet_read32(uart + CR);

	vnet_write32(uart + IMSC, 0); /* polled: no UART interrupts */
	if ((cr & (CR_UARTEN | CR_TXE)) == (CR_UARTEN | CR_TXE))
		return; /* firmware set it up: keep its rate */
	vnet_write32(uart + CR, 0);
	vnet_write32(uart + IBRD, IBRD_115200);
	vnet_write32(uart + FBRD, FBRD_115200);
	vnet_write32(uart + LCRH, LCRH_WLEN8 | LCRH_FEN); /* 8N1, FIFOs; latches the divisor */
	vnet_write32(uart + CR, CR_UARTEN | CR_TXE | CR_RXE);
}

int vnet_console_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (unsigned k = 0; k < TX_SPIN_LIMIT; k++) {
			if (!(vnet_read32(uart + FR) & FR_TXFF))
				break;
			vnet_cpu_relax();
		}
		vnet_write32(uart + DR, (uint8_t)s[i]);
	}
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

void vnet_uart_drain(void)
{
	for (unsigned k = 0; k < TX_SPIN_LIMIT; k++)
		if (!(vnet_read32(uart + FR) & FR_BUSY))
			break;
}
