/* SPDX-License-Identifier: BSD-3-Clause */
/* The interrupts each architecture's handler took, per source (arch.h
 * names the slots: the timer, the NIC, spurious), read by vnet_irq_stats()
 * (vnet/baremetal.h): the count is kept in the handler itself, so a test
 * can tell a halt the NIC ended from one anything else ended. */
#include <stdint.h>
#include <vnet/baremetal.h>

#include "arch.h"

volatile uint64_t vnet_irq_counts[VNET_IRQ_SLOTS];

void vnet_irq_stats(struct vnet_irq_stats *out)
{
	out->nic = vnet_irq_counts[VNET_IRQ_NIC];
	out->timer = vnet_irq_counts[VNET_IRQ_TIMER];
	out->spurious = vnet_irq_counts[VNET_IRQ_SPURIOUS];
}
