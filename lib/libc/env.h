/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The seam between the C library and the bare-metal environment that
 * boots it (lib/arch/): the one libc header the environment includes.
 * Applications never include it.
 *
 * libc needs from the environment: vnet_console_write() and vnet_exit()
 * (public, vnet/baremetal.h). The environment gives libc its heap here.
 */
#ifndef VNET_LIBC_ENV_H
#define VNET_LIBC_ENV_H

#include <stddef.h>

/* Hand [base, base+len) to malloc. Called once at boot, before any
 * allocation; malloc returns NULL until then. */
void vnet_libc_heap_init(void *base, size_t len);

#endif
