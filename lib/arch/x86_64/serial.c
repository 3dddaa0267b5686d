/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The console: a 16550A UART at COM1 (port 0x3f8), polled, 115200 8N1.
 * Register map per the PC16550D datasheet (National Semiconductor, 1995).
 */
#include <errno.h>
#include <stdint.h>
#include <vnet/baremetal.h>

#include "arch.h"
#include "base/platform.h"

#define COM1 0x3f8
#define THR  0 /* transmit holding (DLAB=0) */
#define IER  1 /* interrupt enable (DLAB=0) */
#define DLL  0 /* divisor latch low (DLAB=1) */
#define DLM  1 /* divisor latch high (DLAB=1) */
#define FCR  2 /* FIFO control */
#define LCR  3 /* line control */
#define MCR  4 /* modem control */
#define LSR  5 /* line status */
#define SCR  7 /* scratch */

#define LCR_8N1  0x03
#define LCR_DLAB 0x80
#define LSR_THRE 0x20 /* transmit holding register empty */
#define LSR_TEMT 0x40 /* transmitter empty */

/* A real UART drains a byte in ~87 us at 115200; QEMU's is immediate. The
 * bound keeps a wedged or absent UART from hanging the appliance. */
#define TX_SPIN_LIMIT 100000

static int uart_present;

void vnet_serial_init(void)
{
	/* The scratch register reads back what was written only if a UART is
	 * there; an empty ISA port reads 0xff. */
	vnet_outb(COM1 + SCR, 0x5a);
	if (vnet_inb(COM1 + SCR) != 0x5a)
		return;
	vnet_outb(COM1 + IER, 0x00);            /* polled: no UART interrupts */
	vnet_outb(COM1 + LCR, LCR_DLAB);
	vnet_outb(COM1 + DLL, 1);               /* 115200 = 1.8432 MHz / 16 / 1 */
	vnet_outb(COM1 + DLM, 0);
	vnet_outb(COM1 + LCR, LCR_8N1);
	vnet_outb(COM1 + FCR, 0x07);            /* FIFOs on and cleared */
	vnet_outb(COM1 + MCR, 0x03);            /* DTR, RTS */
	uart_present = 1;
}

static void tx(char c)
{
	for (unsigned i = 0; i < TX_SPIN_LIMIT; i++) {
		if (vnet_inb(COM1 + LSR) & LSR_THRE)
			break;
		vnet_cpu_relax();
	}
	vnet_outb(COM1 + THR, (uint8_t)c);
}

int vnet_console_write(const char *s, size_t n)
{
	if (!uart_present)
		return -ENODEV;
	for (size_t i = 0; i < n; i++)
		tx(s[i]);
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

void vnet_serial_drain(void)
{
	for (unsigned i = 0; uart_present && i < TX_SPIN_LIMIT; i++)
		if (vnet_inb(COM1 + LSR) & LSR_TEMT)
			break;
}
