/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The console: virt's 16550A UART, polled, byte-wide registers (PC16550D
 * datasheet). OpenSBI has already set its rate; this only makes sure of
 * 8N1, FIFOs on, no interrupts. It is at a fixed address so that it works
 * before the device tree is read.
 */
#include <errno.h>
#include <stdint.h>
#include <vnet/baremetal.h>

#include "arch.h"
#include "base/platform.h"

#define THR 0 /* transmit holding (DLAB=0) */
#define IER 1 /* interrupt enable (DLAB=0) */
#define FCR 2 /* FIFO control */
#define LCR 3 /* line control */
#define MCR 4 /* modem control */
#define LSR 5 /* line status */

#define LCR_8N1  0x03
#define LSR_THRE 0x20 /* transmit holding register empty */
#define LSR_TEMT 0x40 /* transmitter empty */

/* Bounds a wedged UART: a byte leaves a real one in ~87 us at 115200. */
#define TX_SPIN_LIMIT 100000

static volatile uint8_t *const uart = (volatile uint8_t *)(uintptr_t)VIRT_UART;

void vnet_uart_init(void)
{
	vnet_write8(uart + IER, 0x00); /* polled */
	vnet_write8(uart + LCR, LCR_8N1); /* DLAB off: the divisor stays */
	vnet_write8(uart + FCR, 0x07); /* FIFOs on and cleared */
	vnet_write8(uart + MCR, 0x03); /* DTR, RTS */
}

int vnet_console_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (unsigned k = 0; k < TX_SPIN_LIMIT; k++) {
			if (vnet_read8(uart + LSR) & LSR_THRE)
				break;
			vnet_cpu_relax();
		}
		vnet_write8(uart + THR, (uint8_t)s[i]);
	}
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

void vnet_uart_drain(void)
{
	for (unsigned k = 0; k < TX_SPIN_LIMIT; k++)
		if (vnet_read8(uart + LSR) & LSR_TEMT)
			break;
}
