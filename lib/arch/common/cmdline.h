/* SPDX-License-Identifier: BSD-3-Clause */
/* The kernel command line, common to every architecture: the entry code
 * hands it over once at boot, vnet_cmdline() (vnet/baremetal.h) reads it. */
#ifndef VNET_ARCH_CMDLINE_H
#define VNET_ARCH_CMDLINE_H

/* Copy @s (at most 2047 bytes) out of firmware memory. */
void vnet_cmdline_set(const char *s);

#endif
