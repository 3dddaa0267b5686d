/* SPDX-License-Identifier: BSD-3-Clause */
/* What the entry code of every architecture hands to the common platform
 * layer (platform.c). */
#ifndef VNET_ARCH_PLATFORM_H
#define VNET_ARCH_PLATFORM_H

#include <stdint.h>

/* Start the time base: vnet_arch_counter() runs at @hz ticks per second. */
void vnet_time_init(uint64_t hz);

#endif
